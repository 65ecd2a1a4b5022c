//! The surfaces that came with people, logos and webhooks (issue 28), each shown closed:
//! logos that would read the server's files or memory, and logos stored before the rules.

use std::io::Write;
use std::time::Duration;

use crate::both_backends;
use crate::common::*;
use crate::crash::{free_port, start};
use crate::reports::download;

/// Everything the server may hold at its peak, in bytes, while under attack.
const RSS_BUDGET: u64 = 256 * 1024 * 1024;

/// A PNG chunk: length, type, data and CRC.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend(crc.sum().to_be_bytes());
}

/// A valid grey PNG of `side` x `side` pixels, all black: a few hundred KiB for 11,000 a side,
/// hundreds of MiB once decoded.
fn black_png(side: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(side.to_be_bytes());
    header.extend(side.to_be_bytes());
    header.extend([8, 0, 0, 0, 0]); // 8-bit greyscale, no interlace
    chunk(&mut png, b"IHDR", &header);
    let mut packed = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let row = vec![0u8; side as usize + 1]; // filter byte "none", then the row
    for _ in 0..side {
        packed.write_all(&row).unwrap();
    }
    chunk(&mut png, b"IDAT", &packed.finish().unwrap());
    chunk(&mut png, b"IEND", &[]);
    png
}

/// An SVG logo whose one picture is `href`.
fn svg_naming(href: &str) -> Vec<u8> {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image width="64" height="64" xlink:href="{href}"/></svg>"#
    )
    .into_bytes()
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The server's memory figure (`VmHWM:` peak, `VmRSS:` now) from /proc, in bytes.
pub(crate) fn proc_memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("the field in /proc/PID/status");
    kib * 1024
}

#[test]
fn logos_that_name_files_or_the_zero_device_and_a_pixel_bomb_are_refused_and_the_server_stays_small()
 {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logos.db").to_str().unwrap().to_owned();
    crate::ops::cli(&db, &["units", "add", "unit-a", "--name", "Unit A"]);
    let admin = crate::ops::cli(&db, &["keys", "create", "--role", "admin"])
        .lines()
        .last()
        .unwrap()
        .to_owned();
    // A picture on the server's disk that the service user can read.
    let secret = dir.path().join("secret.png");
    let mut small = Vec::new();
    image::DynamicImage::new_rgb8(16, 16)
        .write_to(
            &mut std::io::Cursor::new(&mut small),
            image::ImageFormat::Png,
        )
        .unwrap();
    std::fs::write(&secret, &small).unwrap();
    let bind = format!("127.0.0.1:{}", free_port());
    let mut server = start(&db, &bind);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let put = |content_type: &str, body: Vec<u8>| {
        let response = client
            .put(format!("http://{bind}/api/v1/units/unit-a/logo"))
            .bearer_auth(&admin)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .expect("the server answers");
        let status = response.status().as_u16();
        (
            status,
            response.json::<serde_json::Value>().unwrap_or_default(),
        )
    };

    let bomb = black_png(11_000);
    assert!(bomb.len() < 512 * 1024, "the bomb fits the size limit");
    let nested = format!(
        "data:image/svg+xml;base64,{}",
        base64(&svg_naming(secret.to_str().unwrap()))
    );
    let inner_bomb = format!("data:image/png;base64,{}", base64(&black_png(4_000)));
    for (name, content_type, body) in [
        (
            "an SVG naming a PNG on the server's disk",
            "image/svg+xml",
            svg_naming(secret.to_str().unwrap()),
        ),
        (
            "an SVG naming it as a file: URL",
            "image/svg+xml",
            svg_naming(&format!("file://{}", secret.display())),
        ),
        (
            "an SVG naming another host",
            "image/svg+xml",
            svg_naming("http://127.0.0.1:9/x.png"),
        ),
        (
            "an SVG nesting an SVG",
            "image/svg+xml",
            svg_naming(&nested),
        ),
        (
            "an SVG holding a 4,000-pixel PNG",
            "image/svg+xml",
            svg_naming(&inner_bomb),
        ),
        ("a PNG of 11,000 x 11,000 pixels", "image/png", bomb),
        (
            "an SVG naming the zero device",
            "image/svg+xml",
            svg_naming("/dev/zero"),
        ),
    ] {
        let (status, body) = put(content_type, body);
        assert_eq!(status, 422, "{name}: {body}");
        assert!(body["fields"]["logo"].is_string(), "{name}: {body}");
        let peak = proc_memory(server.id(), "VmHWM:");
        assert!(peak < RSS_BUDGET, "{name}: peak RSS {} MiB", peak >> 20);
    }
    // A picture inside an SVG as data is a logo still.
    let inline = format!("data:image/png;base64,{}", base64(&small));
    let (status, body) = put("image/svg+xml", svg_naming(&inline));
    assert_eq!(status, 204, "{body}");
    let _ = server.kill();
    let _ = server.wait();
}

/// A logo stored before the rules (here written past them, straight into the database) is
/// left out of the report, which is drawn all the same; the picture it names is not in it.
async fn a_logo_stored_before_the_rules_is_left_out_of_the_report(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.png");
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(16, 16)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(&secret, &png).unwrap();
    let images = |pdf: &[u8]| {
        pdf.windows(14)
            .filter(|w| w == b"/Subtype /Imag" || w == b"/Subtype/Image")
            .count()
    };
    let path = "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&format=pdf";
    let (status, _, _, before) = download(&svc, path, &w.admin).await;
    assert_eq!(status, 200);
    let media = |docx: Vec<u8>| {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
        (0..archive.len())
            .filter(|&i| {
                archive
                    .by_index(i)
                    .unwrap()
                    .name()
                    .unwrap()
                    .contains("media/")
            })
            .count()
    };
    let docx_path = path.replace("format=pdf", "format=docx");
    let (status, _, _, docx) = download(&svc, &docx_path, &w.admin).await;
    assert_eq!(status, 200);
    let media_before = media(docx);
    let stored = [
        ("image/svg+xml", svg_naming(secret.to_str().unwrap())),
        ("image/png", black_png(3_000)),
    ];
    for (content_type, bytes) in stored {
        let logo = kepuasan::domain::logos::Logo::new(content_type.to_owned(), bytes);
        app.state
            .db
            .write_blocking(move |c| {
                kepuasan::domain::units::set_logo(c, "unit-a", &logo, at("2025-08-01 00:00:00"))
            })
            .unwrap();
        let (status, _, _, pdf) = download(&svc, path, &w.admin).await;
        assert_eq!(status, 200, "{content_type}");
        assert_eq!(
            images(&pdf),
            images(&before),
            "{content_type}: no picture added"
        );
        let (status, _, _, docx) = download(&svc, &docx_path, &w.admin).await;
        assert_eq!(status, 200, "{content_type}");
        assert_eq!(
            media(docx),
            media_before,
            "{content_type}: no picture added"
        );
    }
}

both_backends!(a_logo_stored_before_the_rules_is_left_out_of_the_report);
