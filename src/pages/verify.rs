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

use minijinja::context;
use serde::Serialize;

use super::{html, templates};

const TITLE_ID: &str = "Verifikasi hasil SKM";
const TITLE_EN: &str = "Verification of an SKM result";

/// What the page shows of a stored verification.
#[derive(Serialize)]
struct Shown {
    made: String,
    code: String,
    unit: String,
    unit_code: String,
    period: String,
    service: String,
    instrument: String,
    mode: String,
    respondents: i64,
    ikm: String,
    grade: String,
    items: Vec<ShownItem>,
}

#[derive(Serialize)]
struct ShownItem {
    code: String,
    ikm: String,
}

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
        let body = templates::render(
            "verify.html",
            context! { title_id => TITLE_ID, title_en => TITLE_EN },
        )?;
        return Ok(html(StatusCode::NOT_FOUND, body));
    };
    let (name, tz) = match &unit {
        Some(u) => (
            u.name.clone(),
            crate::period::parse_timezone(&u.timezone).unwrap_or(chrono_tz::Asia::Jakarta),
        ),
        None => (v.unit_code.clone(), chrono_tz::Asia::Jakarta),
    };
    let items: BTreeMap<String, Option<String>> =
        serde_json::from_str(&v.items).map_err(AppError::internal)?;
    let shown = Shown {
        made: tz
            .from_utc_datetime(&v.created_at)
            .format("%d-%m-%Y %H:%M %Z")
            .to_string(),
        code: v.code.clone(),
        unit: name,
        unit_code: v.unit_code.clone(),
        period: v.period.clone(),
        service: v
            .service_code
            .clone()
            .unwrap_or_else(|| "Semua layanan / all services".to_owned()),
        instrument: v.instrument.clone(),
        mode: v.mode.clone(),
        respondents: v.respondents,
        ikm: id_number(v.ikm.as_deref()),
        grade: v.grade.clone().unwrap_or_else(|| "-".to_owned()),
        items: items
            .iter()
            .map(|(code, ikm)| ShownItem {
                code: code.clone(),
                ikm: id_number(ikm.as_deref()),
            })
            .collect(),
    };
    let body = templates::render(
        "verify.html",
        context! { title_id => TITLE_ID, title_en => TITLE_EN, v => shown },
    )?;
    Ok(html(StatusCode::OK, body))
}
