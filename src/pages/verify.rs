//! `/verify/{code}`: the public page behind a printed report's verification code. It shows
//! what the server stored when it made the document, in Bahasa Indonesia with English beneath,
//! so a reader can compare it with the paper.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::TimeZone;

use crate::db::queries;
use crate::engine::exact::Fixed;
use crate::error::AppError;
use crate::reporting::verify;
use crate::state::AppState;

use super::{document, esc};

const TITLE: (&str, &str) = ("Verifikasi hasil SKM", "Verification of an SKM result");

/// Renders a stored IKM (decimal point) in Indonesian notation.
fn id_number(text: Option<&str>) -> String {
    text.and_then(Fixed::parse)
        .map_or_else(|| "-".to_owned(), |v| v.format_id())
}

/// The page of a code.
pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let found = state
        .db
        .read(move |conn| {
            let Some(v) = verify::find(conn, &code)? else {
                return Ok(None);
            };
            let unit = queries::find_unit(conn, &v.unit_code)?;
            Ok(Some((v, unit)))
        })
        .await?;
    let Some((v, unit)) = found else {
        return Ok(document(
            StatusCode::NOT_FOUND,
            TITLE,
            "<p class=\"bad\">Kode verifikasi tidak dikenal. Periksa kembali kode pada dokumen.<br>\
             <span lang=\"en\">Unknown verification code. Check the code on the document.</span></p>\n",
        ));
    };
    let (name, tz) = match &unit {
        Some(u) => (
            u.name.clone(),
            crate::period::parse_timezone(&u.timezone).unwrap_or(chrono_tz::Asia::Jakarta),
        ),
        None => (v.unit_code.clone(), chrono_tz::Asia::Jakarta),
    };
    let made = tz
        .from_utc_datetime(&v.created_at)
        .format("%d-%m-%Y %H:%M %Z");
    let items: BTreeMap<String, Option<String>> =
        serde_json::from_str(&v.items).map_err(AppError::internal)?;
    let rows: String = items
        .iter()
        .map(|(code, ikm)| {
            format!(
                "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(code),
                id_number(ikm.as_deref())
            )
        })
        .collect();
    let body = format!(
        "<p class=\"ok\">Angka-angka berikut dihitung oleh server ini pada {made}. Dokumen yang sah memuat angka yang sama.<br>\
         <span lang=\"en\">These numbers were computed by this server on {made}. A genuine document shows the same.</span></p>\n\
         <table>\n<tr><th>Kode verifikasi <span lang=\"en\">(code)</span></th><td>{code}</td></tr>\n\
         <tr><th>Unit pelayanan <span lang=\"en\">(unit)</span></th><td>{unit} ({unit_code})</td></tr>\n\
         <tr><th>Periode <span lang=\"en\">(period)</span></th><td>{period}</td></tr>\n\
         <tr><th>Layanan <span lang=\"en\">(service)</span></th><td>{service}</td></tr>\n\
         <tr><th>Instrumen, mode <span lang=\"en\">(instrument, mode)</span></th><td>{instrument}, {mode}</td></tr>\n\
         <tr><th>Jumlah responden <span lang=\"en\">(respondents)</span></th><td>{respondents}</td></tr>\n\
         <tr><th>IKM</th><td><strong>{ikm}</strong></td></tr>\n\
         <tr><th>Mutu <span lang=\"en\">(grade)</span></th><td><strong>{grade}</strong></td></tr>\n</table>\n\
         <table>\n<tr><th>Unsur <span lang=\"en\">(item)</span></th><th>IKM unsur <span lang=\"en\">(item IKM)</span></th></tr>\n{rows}\n</table>\n",
        code = esc(&v.code),
        unit = esc(&name),
        unit_code = esc(&v.unit_code),
        period = esc(&v.period),
        service = esc(v
            .service_code
            .as_deref()
            .unwrap_or("Semua layanan / all services")),
        instrument = esc(&v.instrument),
        mode = esc(&v.mode),
        respondents = v.respondents,
        ikm = id_number(v.ikm.as_deref()),
        grade = esc(v.grade.as_deref().unwrap_or("-")),
    );
    Ok(document(StatusCode::OK, TITLE, &body))
}
