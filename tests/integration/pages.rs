//! The respondent pages as delivered: scripts and styles versioned by content, cached for a
//! year, compressed by `Accept-Encoding`, revalidated by `ETag` under their plain names.

use actix_web::test::{TestRequest, call_service, read_body};

use crate::common::*;

/// The page's links to its script and style.
fn linked(html: &str) -> (String, String) {
    let after = |marker: &str| {
        let start = html
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} in {html}"))
            + marker.len();
        html[start..].split('"').next().unwrap().to_owned()
    };
    (
        after("<script src=\""),
        after("<link rel=\"stylesheet\" href=\""),
    )
}

#[actix_web::test]
async fn assets_are_versioned_by_content_compressed_and_cached_for_a_year() {
    let app = TestApp::sqlite();
    let svc = app.service().await;
    let resp = call_service(&svc, get("/kiosk", None).to_request()).await;
    let html = String::from_utf8(read_body(resp).await.to_vec()).unwrap();
    let (script, style) = linked(&html);
    let hashed = |url: &str, stem: &str, ext: &str| {
        let middle = url
            .strip_prefix(&format!("/assets/{stem}."))
            .and_then(|rest| rest.strip_suffix(&format!(".{ext}")))
            .unwrap_or_else(|| panic!("{url} is /assets/{stem}.HASH.{ext}"));
        assert!(
            middle.len() == 12 && middle.bytes().all(|b| b.is_ascii_hexdigit()),
            "{url}"
        );
    };
    hashed(&script, "survey", "js");
    hashed(&style, "survey", "css");

    // Uncompressed for a client that asks for nothing: the size to compare with.
    let plain = call_service(&svc, get(&script, None).to_request()).await;
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = read_body(plain).await.len();
    assert!(plain_len > 10_000, "the survey script is {plain_len} bytes");

    for (accepts, expected) in [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")] {
        let resp = call_service(
            &svc,
            TestRequest::get()
                .uri(&script)
                .insert_header(("Accept-Encoding", accepts))
                .to_request(),
        )
        .await;
        assert_eq!(resp.status(), 200);
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert_eq!(header("content-encoding"), expected, "for {accepts}");
        assert!(
            header("vary")
                .to_ascii_lowercase()
                .contains("accept-encoding")
        );
        let cache = header("cache-control");
        assert!(
            cache.contains("max-age=31536000") && cache.contains("immutable"),
            "{cache}"
        );
        assert!(header("content-type").starts_with("text/javascript"));
        let len = read_body(resp).await.len();
        assert!(
            len * 3 < plain_len,
            "{expected}: {len} bytes of {plain_len} is not compressed"
        );
    }

    // The plain name is revalidated: its ETag answers 304 with no body.
    let resp = call_service(&svc, get("/assets/survey.js", None).to_request()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-cache");
    let etag = resp
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let resp = call_service(
        &svc,
        TestRequest::get()
            .uri("/assets/survey.js")
            .insert_header(("If-None-Match", etag.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 304);
    assert!(read_body(resp).await.is_empty());

    // An old version's name, or no such file: 404 in the error shape.
    let (status, body) = send(&svc, get("/assets/survey.000000000000.js", None)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
}

#[actix_web::test]
async fn a_phone_page_carries_its_script_inline_allowed_by_its_hash_and_compressed() {
    use sha2::{Digest, Sha256};
    let app = TestApp::sqlite();
    let svc = app.service().await;
    let (status, _) = send(
        &svc,
        post(
            "/api/v1/units",
            Some(&app.admin),
            &serde_json::json!({"code": "pkm", "name": "Puskesmas Uji", "timezone": "Asia/Jakarta", "open_link": true}),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let resp = call_service(&svc, get("/u/pkm", None).to_request()).await;
    assert_eq!(resp.status(), 200);
    let csp = resp
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let html = String::from_utf8(read_body(resp).await.to_vec()).unwrap();
    assert!(
        !html.contains("<script src="),
        "no script to fetch: {html:.300}"
    );
    assert!(!html.contains("rel=\"stylesheet\""), "no style to fetch");
    let start = html.find("<script>").expect("an inline script") + "<script>".len();
    let script = &html[start..start + html[start..].find("</script>").unwrap()];
    assert!(script.contains("kepuasan"), "the survey script");
    let hash = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha256::digest(script.as_bytes()),
    );
    assert!(
        csp.contains(&format!("script-src 'self' 'sha256-{hash}'")),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline'; script") && !csp.contains("script-src 'self' 'unsafe"));
    // The survey's instrument travels in the page: no second request before the first question.
    let config = page_config(&svc, "/u/pkm").await;
    assert_eq!(config["survey"]["key"], "skm-2017");
    assert_eq!(config["survey"]["items"].as_array().map(Vec::len), Some(9));

    // Compressed harder than the middleware's fast gzip would.
    let resp = call_service(
        &svc,
        TestRequest::get()
            .uri("/u/pkm")
            .insert_header(("Accept-Encoding", "gzip, deflate"))
            .to_request(),
    )
    .await;
    assert_eq!(resp.headers().get("content-encoding").unwrap(), "gzip");
    let gz = read_body(resp).await.len();
    assert!(gz * 3 < html.len(), "{gz} bytes of {}", html.len());

    // The kiosk links its files instead: cached for a year, shared by every visit.
    let resp = call_service(&svc, get("/kiosk", None).to_request()).await;
    let kiosk = String::from_utf8(read_body(resp).await.to_vec()).unwrap();
    assert!(
        kiosk.contains("<script src=\"/assets/survey."),
        "{kiosk:.300}"
    );
}
