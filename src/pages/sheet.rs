//! The printable A4 sheet of receipt QR slips, for a unit whose receipts cannot print a QR
//! code: twelve slips to a page, each with its own one-use token, cut along the dashed lines
//! and handed out one per transaction.

use chrono::TimeZone;

use crate::db::DbConn;
use crate::db::queries::Unit;
use crate::error::AppError;
use crate::instrument::Lang;
use crate::tokens::{self, IssuedToken, Issuer};

use super::esc;

/// Slips on a sheet when the request does not say.
pub const DEFAULT_COUNT: u32 = 24;
/// Most slips one request may issue.
pub const MAX_COUNT: u32 = 120;
/// Slips on one A4 page (3 columns, 4 rows).
pub const PER_PAGE: usize = 12;

const CSS: &str = "@page{size:A4;margin:10mm}\
*{box-sizing:border-box}body{margin:0;font-family:'Noto Sans','DejaVu Sans',Arial,sans-serif;color:#000;line-height:1.15}\
.page{display:grid;grid-template-columns:repeat(3,63mm);grid-auto-rows:69mm;width:190mm;break-after:page}\
.page:last-child{break-after:auto}\
.slip{border:1px dashed #777;padding:2.5mm 3mm;display:flex;flex-direction:column;align-items:center;text-align:center;overflow:hidden}\
.slip p{margin:0}.slip h1{font-size:9pt;margin:0}.slip .unit{font-size:8pt;font-weight:bold;margin-top:0.8mm}\
.slip .svc{font-size:7.5pt}.qr svg{width:33mm;height:33mm;display:block;margin:0.5mm auto}\
.slip .call{font-size:7.5pt}.slip .alt{font-size:6.5pt;color:#333;margin-top:0.6mm}\
.slip .meta{font-size:6pt;margin-top:auto;word-break:break-all;font-family:'DejaVu Sans Mono',monospace}\
@media screen{body{background:#ddd}.page{background:#fff;margin:5mm auto;padding:0}}";

/// What a slip says, in one language.
struct Words {
    title: &'static str,
    call: &'static str,
    valid: &'static str,
    any_service: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Id => Words {
            title: "Survei Kepuasan Masyarakat",
            call: "Pindai dengan ponsel Anda dan nilai layanan kami (±1 menit).",
            valid: "Berlaku s.d.",
            any_service: "Semua layanan",
        },
        Lang::En => Words {
            title: "Public Satisfaction Survey",
            call: "Scan with your phone and rate our service (about 1 minute).",
            valid: "Valid until",
            any_service: "Any service",
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
            .map(|_| tokens::issue(conn, issuer, unit, service, None))
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
    let service = service.map_or_else(|| first.any_service.to_owned(), esc);
    let mut pages = String::new();
    for chunk in tokens.chunks(PER_PAGE) {
        pages.push_str("<section class=\"page\">");
        for t in chunk {
            let svg = t.qr_svg.find("<svg").map_or("", |i| &t.qr_svg[i..]);
            let until = tz.from_utc_datetime(&t.expires_at).format("%d-%m-%Y");
            pages.push_str(&format!(
                "<div class=\"slip\"><h1>{title}</h1><p class=\"unit\">{unit}</p><p class=\"svc\">{service}</p>\
                 <div class=\"qr\" role=\"img\" aria-label=\"QR {url}\">{svg}</div>\
                 <p class=\"call\">{call}</p><p class=\"alt\" lang=\"{lang_second}\">{alt}</p>\
                 <p class=\"meta\">{valid} {until} · <span class=\"token\">{token}</span></p></div>",
                title = first.title,
                unit = esc(&unit.name),
                url = esc(&t.url),
                call = first.call,
                alt = second.call,
                valid = first.valid,
                token = esc(&t.token),
            ));
        }
        pages.push_str("</section>");
    }
    Ok(format!(
        "<!doctype html>\n<html lang=\"{lang_first}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}: {unit}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{pages}\n</body>\n</html>\n",
        title = first.title,
        unit = esc(&unit.name),
    ))
}
