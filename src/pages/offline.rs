//! What makes the respondent pages work offline and installable: the service worker
//! (`/sw.js`, scope `/`) with the versioned assets it caches, and the web app manifest
//! (`/manifest.webmanifest?start=...`) with its icon.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::static_files;
use crate::error::AppError;

/// The service worker: its configuration (the version and the asset addresses it caches) in
/// front of its code. The version changes whenever any asset or the worker itself changes, so
/// browsers install the new one.
static WORKER: LazyLock<String> = LazyLock::new(|| {
    let code = include_str!("assets/sw.js");
    let assets = static_files::urls();
    let mut digest = Sha256::new();
    digest.update(code.as_bytes());
    for url in &assets {
        digest.update(url.as_bytes());
    }
    let version: String = digest.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let config = json!({"version": version, "assets": assets});
    format!("self.KEPUASAN_SW = {config};\n{code}")
});

/// The app icon: a smiling face on the pages' blue, drawn for any size.
const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="96" fill="#0b4f8a"/><circle cx="256" cy="256" r="176" fill="#fff"/><circle cx="196" cy="212" r="26" fill="#0b4f8a"/><circle cx="316" cy="212" r="26" fill="#0b4f8a"/><path d="M168 296 Q256 392 344 296" fill="none" stroke="#0b4f8a" stroke-width="32" stroke-linecap="round"/></svg>"##;

/// Adds `/sw.js`, `/manifest.webmanifest` and `/icon.svg`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sw.js", web::get().to(worker))
        .route("/manifest.webmanifest", web::get().to(manifest))
        .route("/icon.svg", web::get().to(icon));
}

/// `GET /sw.js`: always revalidated, so a new version reaches the tablets on their next visit.
async fn worker() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(WORKER.as_str())
}

async fn icon() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(ICON)
}

#[derive(serde::Deserialize)]
struct ManifestQuery {
    start: Option<String>,
}

/// Whether `path` is a respondent page the manifest may start at: the kiosk, an open link or
/// a receipt, on this server.
fn respondent_page(path: &str) -> bool {
    let tail_ok = |tail: &str| crate::domain::rules::is_word(tail, 512, b"-._~");
    path == "/kiosk"
        || path.strip_prefix("/u/").is_some_and(tail_ok)
        || path.strip_prefix("/s/").is_some_and(tail_ok)
}

/// `GET /manifest.webmanifest?start=/kiosk`: installs the page it was linked from; the kiosk
/// opens full screen.
async fn manifest(query: crate::extract::Query<ManifestQuery>) -> Result<HttpResponse, AppError> {
    let start = query.start.as_deref().unwrap_or("/kiosk");
    if !respondent_page(start) {
        return Err(AppError::field(
            "start",
            "must be /kiosk, /u/{unit} or /s/{token}",
        ));
    }
    let kiosk = start == "/kiosk";
    let body = json!({
        "name": "Survei Kepuasan Masyarakat",
        "short_name": if kiosk { "Kiosk SKM" } else { "Survei SKM" },
        "lang": "id",
        "start_url": start,
        "scope": "/",
        "id": start,
        "display": if kiosk { "fullscreen" } else { "standalone" },
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": "#0b4f8a",
        "icons": [{"src": "/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/manifest+json"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body.to_string()))
}
