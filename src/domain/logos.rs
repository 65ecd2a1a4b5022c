//! Unit logos: what a manager may upload for a unit's reports, and the one way any logo (or
//! chart) SVG is parsed, so that drawing a picture reads nothing outside it and costs little.
//!
//! A logo is a PNG or an SVG of at most [`MAX_LOGO`] bytes. A PNG's size is read from its
//! header and refused past [`MAX_SIDE`] pixels a side before anything is decoded; it is then
//! decoded under a memory limit. An SVG may name nothing outside itself (no file path, no URL,
//! no nested SVG): only `data:` PNG and JPEG images, which obey the same size bound, and no
//! filters (which a PDF writer draws as pixels). Logos stored before these rules are checked
//! again when a report draws them ([`usable`]).

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::{AppError, Kind};

/// Largest logo accepted, in bytes.
pub const MAX_LOGO: usize = 512 * 1024;

/// Largest side of a raster logo (or of a picture inside an SVG logo), in pixels: a letterhead
/// logo is printed about 2 cm wide, and 2,048 pixels is more than any printer can use there.
pub const MAX_SIDE: u32 = 2048;

/// Longest a logo's check may take before it is refused.
pub const CHECK_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Most memory decoding one raster picture may allocate: 2,048 x 2,048 RGBA is 16 MiB.
const MAX_DECODE: u64 = 32 << 20;

/// A unit's logo for its reports.
#[derive(Debug, Clone, Serialize)]
pub struct Logo {
    /// `image/png` or `image/svg+xml`.
    pub content_type: String,
    /// The file.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Its size, for the audit log.
    pub size: usize,
    /// Its SHA-256, for the audit log (the image itself is never logged).
    pub sha256: String,
}

impl Logo {
    /// The answer to a logo over [`MAX_LOGO`].
    pub fn too_large() -> AppError {
        AppError::too_large(
            "logo",
            format!("the logo is larger than {} KiB", MAX_LOGO / 1024),
        )
    }

    /// Checks an uploaded logo: a PNG or an SVG of at most [`MAX_LOGO`] bytes that obeys the
    /// rules of this module. 413, 415 or 422 naming `logo` otherwise. Costs at most a few tens
    /// of MiB and a fraction of a second; callers run it off the request workers.
    pub fn check(content_type: &str, bytes: Vec<u8>) -> Result<Logo, AppError> {
        if bytes.len() > MAX_LOGO {
            return Err(Logo::too_large());
        }
        if bytes.is_empty() {
            return Err(AppError::field("logo", "the request body is empty"));
        }
        let content_type = match content_type.split(';').next().unwrap_or("").trim() {
            t @ ("image/png" | "image/svg+xml") => t,
            other => {
                return Err(AppError::new(
                    Kind::UnsupportedContentType,
                    format!("send the logo as image/png or image/svg+xml, not `{other}`"),
                ));
            }
        };
        refusal(content_type, &bytes).map_err(|why| AppError::field("logo", why))?;
        Ok(Logo::new(content_type.to_owned(), bytes))
    }

    /// A logo with the size and hash the audit log records of it.
    pub fn new(content_type: String, bytes: Vec<u8>) -> Logo {
        Logo {
            size: bytes.len(),
            sha256: crate::auth::sha256_hex_bytes(&bytes),
            content_type,
            bytes,
        }
    }
}

/// Why a logo of this content type cannot be drawn, or `Ok` when it can.
fn refusal(content_type: &str, bytes: &[u8]) -> Result<(), String> {
    if content_type == "image/svg+xml" {
        parse_svg(bytes, Arc::default()).map(|_| ())
    } else {
        decodable_png(bytes)
    }
}

/// A stored logo as a report may draw it: `None` (and a warning in the log) when it breaks the
/// rules, as a logo stored before they were made might.
pub fn usable(content_type: String, bytes: Vec<u8>) -> Option<(String, Vec<u8>)> {
    let checked = if bytes.len() > MAX_LOGO {
        Err("larger than the limit".to_owned())
    } else if content_type == "image/png" || content_type == "image/svg+xml" {
        refusal(&content_type, &bytes)
    } else {
        Err(format!("of type {content_type}"))
    };
    match checked {
        Ok(()) => Some((content_type, bytes)),
        Err(why) => {
            tracing::warn!(%why, "a stored logo is left out of the report");
            None
        }
    }
}

/// The size of a raster picture, read from its header, refused past [`MAX_SIDE`].
fn bounded_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let size = imagesize::blob_size(bytes)
        .map_err(|e| format!("not an image whose size can be read: {e}"))?;
    let (w, h) = (size.width, size.height);
    if w == 0 || h == 0 || w > MAX_SIDE as usize || h > MAX_SIDE as usize {
        return Err(format!(
            "the image is {w} x {h} pixels; a logo may be at most {MAX_SIDE} x {MAX_SIDE}"
        ));
    }
    Ok((w as u32, h as u32))
}

/// Checks a PNG: its size from the header, then a decode under [`MAX_DECODE`].
fn decodable_png(bytes: &[u8]) -> Result<(), String> {
    if imagesize::image_type(bytes).ok() != Some(imagesize::ImageType::Png) {
        return Err("not a PNG image".to_owned());
    }
    let (w, h) = bounded_size(bytes)?;
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_DECODE);
    reader.limits(limits);
    reader
        .decode()
        .map(|_| ())
        .map_err(|e| format!("not a PNG image that can be read: {e}"))
}

/// Parses an SVG (a logo, or a chart the service drew) with `fontdb` for its text, refusing
/// anything outside it: file paths, URLs and nested SVGs, `data:` pictures other than PNG and
/// JPEG within [`MAX_SIDE`], and filters. The error says why, for a person.
pub fn parse_svg(bytes: &[u8], fontdb: Arc<usvg::fontdb::Database>) -> Result<usvg::Tree, String> {
    let problems: Arc<Mutex<Vec<String>>> = Arc::default();
    let (on_string, on_data) = (problems.clone(), problems.clone());
    let note = |to: &Arc<Mutex<Vec<String>>>, why: String| {
        to.lock().expect("problems of one SVG").push(why);
    };
    let options = usvg::Options {
        fontdb,
        font_family: "DejaVu Sans".to_owned(),
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_string: Box::new(move |href, _| {
                let shown: String = href.chars().take(80).collect();
                note(
                    &on_string,
                    format!(
                        "the SVG names `{shown}`: a logo may hold pictures only as data: PNG or JPEG"
                    ),
                );
                None
            }),
            resolve_data: Box::new(move |mime, data, _| {
                let kind = match imagesize::image_type(&data) {
                    Ok(imagesize::ImageType::Png) => usvg::ImageKind::PNG(data.clone()),
                    Ok(imagesize::ImageType::Jpeg) => usvg::ImageKind::JPEG(data.clone()),
                    _ => {
                        note(
                            &on_data,
                            format!(
                                "the SVG holds a picture of type `{mime}`: only PNG and JPEG may be inside a logo"
                            ),
                        );
                        return None;
                    }
                };
                match bounded_size(&data) {
                    Ok(_) => Some(kind),
                    Err(why) => {
                        note(&on_data, format!("a picture inside the SVG: {why}"));
                        None
                    }
                }
            }),
        },
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_data(bytes, &options)
        .map_err(|e| format!("not an SVG image that can be read: {e}"))?;
    drop(options);
    if let Some(first) = problems.lock().expect("problems of one SVG").first() {
        return Err(first.clone());
    }
    if !tree.filters().is_empty() {
        return Err(
            "the SVG uses filters (shadows, blurs), which a report cannot print; export it without them or as PNG"
                .to_owned(),
        );
    }
    Ok(tree)
}
