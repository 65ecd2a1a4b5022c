//! Published results, for units that switch them on (`public_results`): `/p/{unit}` shows the
//! last complete quarter's IKM, grade, items and trend to anyone, as the regulation asks units
//! to publish their results; `/p/{unit}/badge.svg` is a badge a unit embeds on its website.
//! The numbers are the report's, computed when asked.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use chrono::TimeZone;

use minijinja::context;
use serde::Serialize;

use super::{html, templates};
use crate::db::queries;
use crate::error::AppError;
use crate::period::Period;
use crate::reporting::{self, ReportRequest, UnitReport};
use crate::state::AppState;

const TITLE_ID: &str = "Hasil Survei Kepuasan Masyarakat";
const TITLE_EN: &str = "Public Satisfaction Survey results";

/// The quarter before the one `now` falls in, in a time zone.
fn last_complete_quarter(tz: chrono_tz::Tz, now: chrono::NaiveDateTime) -> Period {
    use chrono::Datelike;
    let today = tz.from_utc_datetime(&now).date_naive();
    Period::quarter(today.year(), today.month0() / 3 + 1).previous()
}

/// The published report of a unit, or `None` when the unit is unknown, inactive or does not
/// publish.
async fn published(state: &AppState, code: String) -> Result<Option<UnitReport>, AppError> {
    let registry = state.registry.clone();
    let rules = state.settings.flags;
    let now = state.clock.now();
    state
        .db
        .read(move |conn| {
            let Some(unit) =
                queries::find_unit(conn, &code)?.filter(|u| u.active && u.public_results)
            else {
                return Ok(None);
            };
            let tz = crate::period::parse_timezone(&unit.timezone)
                .ok_or_else(|| AppError::internal("bad time zone"))?;
            let request = ReportRequest {
                unit: unit.code,
                period: last_complete_quarter(tz, now),
                service: None,
                mode: None,
                instrument: None,
                exclude_flagged: false,
            };
            reporting::unit_report(conn, &registry, &rules, &request).map(Some)
        })
        .await
}

fn number(v: Option<&crate::engine::exact::Fixed>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.format_id())
}

/// What the public page shows of a report, as text.
#[derive(Serialize)]
struct Published {
    unit_name: String,
    period: String,
    from: String,
    to: String,
    ikm: String,
    grade: String,
    performance: String,
    performance_en: String,
    respondents: u64,
    items: Vec<PublishedItem>,
    trend: Vec<PublishedPeriod>,
    badge: String,
    snippet: String,
    method: String,
}

#[derive(Serialize)]
struct PublishedItem {
    code: String,
    name: String,
    name_en: String,
    ikm: String,
    grade: String,
}

#[derive(Serialize)]
struct PublishedPeriod {
    period: String,
    respondents: u64,
    ikm: String,
    grade: String,
}

impl Published {
    fn of(r: &UnitReport, public_url: &str) -> Published {
        let rep = &r.report;
        let base = public_url.trim_end_matches('/');
        let badge = format!("{base}/p/{}/badge.svg", r.unit);
        let dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
        Published {
            unit_name: r.unit_name.clone(),
            period: r.period.clone(),
            from: crate::text::local_date(&r.from),
            to: crate::text::local_date(&r.to),
            ikm: number(rep.ikm.as_ref()),
            grade: dash(rep.grade.as_deref()),
            performance: dash(rep.performance.as_deref()),
            performance_en: dash(rep.performance_en.as_deref()),
            respondents: rep.respondents,
            items: rep
                .items
                .iter()
                .map(|i| PublishedItem {
                    code: i.code.clone(),
                    name: i.name.clone(),
                    name_en: i.name_en.clone(),
                    ikm: number(i.ikm.as_ref()),
                    grade: dash(i.grade.as_deref()),
                })
                .collect(),
            trend: r
                .trend
                .iter()
                .map(|t| PublishedPeriod {
                    period: t.period.clone(),
                    respondents: t.respondents,
                    ikm: number(t.ikm.as_ref()),
                    grade: dash(t.grade.as_deref()),
                })
                .collect(),
            snippet: format!(
                "<a href=\"{base}/p/{}\"><img src=\"{badge}\" alt=\"IKM\"></a>",
                r.unit
            ),
            badge,
            method: rep.calculation.rounding_id.clone(),
        }
    }
}

/// `/p/{unit}`.
pub async fn page(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let found = published(&state, code).await?;
    let r = found
        .as_ref()
        .map(|r| Published::of(r, &state.settings.public_url));
    let status = if r.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let body = templates::render(
        "public.html",
        context! { title_id => TITLE_ID, title_en => TITLE_EN, r },
    )?;
    Ok(html(status, body))
}

/// A grade's badge colour (white text reads on each at WCAG AA).
fn colour(grade: Option<&str>) -> &'static str {
    match grade {
        Some("A") => "#005a8c",
        Some("B") => "#00704f",
        Some("C") => "#9a5b00",
        Some("D") => "#a4161a",
        _ => "#555555",
    }
}

/// Approximate width of a text in the badge's 11 px sans-serif.
fn text_width(text: &str) -> usize {
    text.chars().count() * 7 + 10
}

fn badge_svg(left: &str, right: &str, fill: &str, label: &str) -> Result<String, AppError> {
    let (lw, rw) = (text_width(left), text_width(right));
    templates::render("badge.svg", context! { lw, rw, fill, label, left, right })
}

/// `/p/{unit}/badge.svg`.
pub async fn badge(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let found = published(&state, path.into_inner()).await?;
    let (status, svg) = match &found {
        None => (
            StatusCode::NOT_FOUND,
            badge_svg("IKM", "tidak tersedia", colour(None), "IKM tidak tersedia")?,
        ),
        Some(r) => {
            let rep = &r.report;
            let ikm = number(rep.ikm.as_ref());
            let grade = rep.grade.as_deref().unwrap_or("-");
            (
                StatusCode::OK,
                badge_svg(
                    &format!("IKM {}", r.period),
                    &format!("{ikm} {grade}"),
                    colour(rep.grade.as_deref()),
                    &format!(
                        "IKM {} {}: {ikm}, mutu {grade} ({})",
                        r.unit_name,
                        r.period,
                        rep.performance.as_deref().unwrap_or("-")
                    ),
                )?,
            )
        }
    };
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(svg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_complete_quarter_is_read_in_the_units_time_zone() {
        // 2025-09-30 17:30 UTC is 2025-10-01 02:30 WIT and 00:30 WIB: Q4 has begun in both,
        // so Q3 is the last complete quarter.
        let at = chrono::NaiveDate::from_ymd_opt(2025, 9, 30)
            .unwrap()
            .and_hms_opt(17, 30, 0)
            .unwrap();
        assert_eq!(
            last_complete_quarter(chrono_tz::Asia::Jayapura, at).to_string(),
            "2025-Q3"
        );
        assert_eq!(
            last_complete_quarter(chrono_tz::Asia::Jakarta, at).to_string(),
            "2025-Q3"
        );
        let before = at - chrono::Duration::hours(1);
        // 16:30 UTC: 2025-10-01 01:30 WIT (Q3 complete) but 2025-09-30 23:30 WIB (Q3 not yet).
        assert_eq!(
            last_complete_quarter(chrono_tz::Asia::Jayapura, before).to_string(),
            "2025-Q3"
        );
        assert_eq!(
            last_complete_quarter(chrono_tz::Asia::Jakarta, before).to_string(),
            "2025-Q2"
        );
    }
}
