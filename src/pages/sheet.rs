//! The printable A4 sheet of receipt QR slips, for a unit whose receipts cannot print a QR
//! code: twelve slips to a page, each with its own one-use token, cut along the dashed lines
//! and handed out one per transaction.

use chrono::TimeZone;

use crate::db::DbConn;
use crate::db::queries::Unit;
use crate::error::AppError;
use crate::instrument::Lang;
use crate::tokens::{self, IssuedToken, Issuer};

use minijinja::context;
use serde::Serialize;

use super::templates;

/// Slips on a sheet when the request does not say.
pub const DEFAULT_COUNT: u32 = 24;
/// Most slips one request may issue.
pub const MAX_COUNT: u32 = 120;
/// Most days a sheet's slips may stay valid.
pub const MAX_DAYS: u32 = 365;
/// Slips on one A4 page (3 columns, 4 rows).
pub const PER_PAGE: usize = 12;

/// What a slip says, in one language.
#[derive(Serialize)]
struct Words {
    title: &'static str,
    call: &'static str,
    valid: &'static str,
    any_service: &'static str,
    typed: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Id => Words {
            title: "Survei Kepuasan Masyarakat",
            call: "Pindai dengan ponsel Anda dan nilai layanan kami (±1 menit).",
            valid: "Berlaku s.d.",
            any_service: "Semua layanan",
            typed: "Tanpa kamera? Buka",
        },
        Lang::En => Words {
            title: "Public Satisfaction Survey",
            call: "Scan with your phone and rate our service (about 1 minute).",
            valid: "Valid until",
            any_service: "Any service",
            typed: "No camera? Open",
        },
    }
}

/// Issues `count` tokens for a unit (and service) in one transaction and renders their sheet.
pub fn issue(
    conn: &mut DbConn,
    issuer: &Issuer<'_>,
    unit: &str,
    service: Option<&str>,
    count: u32,
    lang: Lang,
) -> Result<String, AppError> {
    let (found, service_name) = tokens::find_target(conn, unit, service)?;
    let issued = crate::db::write_tx(conn, |conn| {
        (0..count)
            .map(|_| tokens::issue_short(conn, issuer, unit, service))
            .collect::<Result<Vec<_>, _>>()
    })?;
    render(&found, service_name.as_deref(), &issued, lang)
}

/// The sheet as a self-contained HTML page sized for A4 (print it, or save it as PDF from the
/// browser's print dialog). The first language is printed large, the other beneath it.
pub fn render(
    unit: &Unit,
    service: Option<&str>,
    tokens: &[IssuedToken],
    lang: Lang,
) -> Result<String, AppError> {
    let tz = crate::period::parse_timezone(&unit.timezone)
        .ok_or_else(|| AppError::internal(format!("unit {} has a bad time zone", unit.code)))?;
    let (first, second) = match lang {
        Lang::Id => (words(Lang::Id), words(Lang::En)),
        Lang::En => (words(Lang::En), words(Lang::Id)),
    };
    let (lang_first, lang_second) = match lang {
        Lang::Id => ("id", "en"),
        Lang::En => ("en", "id"),
    };
    let service = service.unwrap_or(first.any_service);
    let slips: Vec<Slip> = tokens
        .iter()
        .map(|t| Slip {
            svg: t.qr_svg.find("<svg").map_or("", |i| &t.qr_svg[i..]),
            url: &t.url,
            token: &t.token,
            typed_base: typed_base(&t.url, &t.token),
            code: tokens::short_code_printed(&t.token),
            until: tz
                .from_utc_datetime(&t.expires_at)
                .format("%d-%m-%Y")
                .to_string(),
        })
        .collect();
    let pages: Vec<&[Slip]> = slips.chunks(PER_PAGE).collect();
    templates::render(
        "sheet.html",
        context! {
            lang_first, lang_second, words => first, other => second,
            unit => unit.name, service, pages,
        },
    )
}

/// One slip: its QR code (an SVG the server drew), address, token, the address to type
/// without a camera (its base and the code in groups), and its last valid day.
#[derive(Serialize)]
struct Slip<'a> {
    svg: &'a str,
    url: &'a str,
    token: &'a str,
    typed_base: String,
    code: String,
    until: String,
}

/// The address a person types when their phone cannot scan, before the code: without
/// `https://` (`skm.example.go.id/s/`); the code follows in groups (`7KQ2-M9XD-3P`).
fn typed_base(url: &str, code: &str) -> String {
    let bare = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    bare.strip_suffix(code).unwrap_or(bare).to_owned()
}
