//! The pages' scripts and styles: compiled in, each served under a name carrying a hash of its
//! content (`/assets/survey.3f2a9c1b7d0e.js`) with a year-long immutable cache, so a phone on a
//! slow link fetches each version once; the plain name (`/assets/survey.js`) stays for old pages
//! and tools, revalidated by its `ETag`. Each is compressed once, at the highest brotli and
//! gzip levels, and sent in the encoding the client's `Accept-Encoding` prefers (brotli, then
//! gzip); the server's `Compress` middleware, which favours speed, leaves them alone.

use std::sync::LazyLock;

use actix_web::http::header::{self, EntityTag, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// One compiled-in file: its plain name, its body and the hash its versioned name carries.
pub struct Asset {
    /// Base name and extension: `survey` and `js`.
    stem: &'static str,
    ext: &'static str,
    body: &'static str,
    content_type: &'static str,
    /// The first 12 hex digits of the body's SHA-256.
    hash: String,
    /// The body's whole SHA-256 in base64, as a Content-Security-Policy source allows it
    /// inline (`'sha256-...'`).
    csp_hash: String,
    gzip: Vec<u8>,
    brotli: Vec<u8>,
}

impl Asset {
    fn new(
        stem: &'static str,
        ext: &'static str,
        body: &'static str,
        content_type: &'static str,
    ) -> Asset {
        let digest = Sha256::digest(body.as_bytes());
        let hash = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let csp_hash = format!(
            "'sha256-{}'",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest)
        );
        Asset {
            stem,
            ext,
            body,
            content_type,
            hash,
            csp_hash,
            gzip: gzip(body.as_bytes(), 9),
            brotli: brotli(body.as_bytes(), 11),
        }
    }

    /// The text, for a page that carries it inline.
    pub fn body(&self) -> &'static str {
        self.body
    }

    /// The source a Content-Security-Policy names to allow this text inline.
    pub fn csp_hash(&self) -> &str {
        &self.csp_hash
    }

    /// The version of the text: the first 12 hex digits of its SHA-256.
    pub fn version(&self) -> &str {
        &self.hash
    }

    /// The address a page links: versioned by content.
    pub fn url(&self) -> String {
        format!("/assets/{}.{}.{}", self.stem, self.hash, self.ext)
    }

    fn plain_name(&self) -> String {
        format!("{}.{}", self.stem, self.ext)
    }

    fn versioned_name(&self) -> String {
        format!("{}.{}.{}", self.stem, self.hash, self.ext)
    }

    /// Weak: the compressed bodies differ in bytes, not in meaning.
    fn etag(&self) -> EntityTag {
        EntityTag::new_weak(self.hash.clone())
    }
}

fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

fn brotli(bytes: &[u8], quality: i32) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("writing to memory");
    out
}

/// A page's body in the encoding the client prefers, compressed harder than the server's
/// `Compress` middleware would (gzip 9, brotli 8: a few milliseconds for a page that carries its
/// script), because on a slow phone link every kilobyte is a fiftieth of a second.
pub fn encoded(req: &HttpRequest, mut response: HttpResponse<String>) -> HttpResponse {
    let (br, gz) = accepted(req);
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    let (response, body) = response.into_parts();
    let bytes = body.into_bytes();
    let (encoding, bytes) = if br {
        (Some("br"), brotli(&bytes, 8))
    } else if gz {
        (Some("gzip"), gzip(&bytes, 9))
    } else {
        (None, bytes)
    };
    let mut response = response.set_body(bytes);
    if let Some(encoding) = encoding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response.map_into_boxed_body()
}

/// The encodings a client takes, by its `Accept-Encoding`: (brotli, gzip).
fn accepted(req: &HttpRequest) -> (bool, bool) {
    let header = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let takes = |name: &str| {
        header.split(',').any(|part| {
            let mut pieces = part.split(';').map(str::trim);
            pieces.next().is_some_and(|n| n.eq_ignore_ascii_case(name))
                && pieces.all(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_none_or(|q| q > 0.0)
                })
        })
    };
    (takes("br"), takes("gzip"))
}

// Each page's script is served with the shared helpers (`common.js`) in front of it: one
// request a page, which matters on a slow phone link.
static ASSETS: LazyLock<[Asset; 7]> = LazyLock::new(|| {
    const JS: &str = "text/javascript; charset=utf-8";
    const CSS: &str = "text/css; charset=utf-8";
    [
        Asset::new(
            "survey",
            "js",
            concat!(
                include_str!("assets/common.js"),
                "\n",
                include_str!("assets/survey.js")
            ),
            JS,
        ),
        Asset::new("survey", "css", include_str!("assets/survey.css"), CSS),
        Asset::new(
            "dashboard",
            "js",
            concat!(
                include_str!("assets/common.js"),
                "\n",
                include_str!("assets/dashboard.js")
            ),
            JS,
        ),
        Asset::new(
            "dashboard",
            "css",
            include_str!("assets/dashboard.css"),
            CSS,
        ),
        Asset::new(
            "admin",
            "js",
            concat!(
                include_str!("assets/common.js"),
                "\n",
                include_str!("assets/admin.js")
            ),
            JS,
        ),
        Asset::new("admin", "css", include_str!("assets/admin.css"), CSS),
        Asset::new("tv", "js", include_str!("assets/tv.js"), JS),
    ]
});

/// The asset with this plain name (`survey.js`).
pub fn named(stem: &str, ext: &str) -> &'static Asset {
    ASSETS
        .iter()
        .find(|a| a.stem == stem && a.ext == ext)
        .expect("a compiled-in asset")
}

/// Every compiled-in asset's versioned address, for the service worker's cache.
pub fn urls() -> Vec<String> {
    ASSETS.iter().map(Asset::url).collect()
}

/// `GET /assets/{name}`: a versioned name is cached for a year; the plain name is revalidated.
pub async fn serve(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    let found = ASSETS.iter().find_map(|a| {
        if name == a.versioned_name() {
            Some((a, "public, max-age=31536000, immutable"))
        } else if name == a.plain_name() {
            Some((a, "no-cache"))
        } else {
            None
        }
    });
    let Some((asset, cache)) = found else {
        return Err(AppError::not_found(format!("no asset `{name}`")));
    };
    let quoted = format!("\"{}\"", asset.hash);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == quoted)
        });
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(header::ETag(asset.etag()));
    if unchanged {
        return Ok(response.finish());
    }
    Ok(match accepted(&req) {
        (true, _) => response
            .insert_header((header::CONTENT_ENCODING, "br"))
            .body(asset.brotli.as_slice()),
        (false, true) => response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(asset.gzip.as_slice()),
        _ => response.body(asset.body),
    })
}
