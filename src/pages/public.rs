//! Published results, for units that switch them on (`public_results`): `/p/{unit}` shows the
//! last complete quarter's IKM, grade, items and trend to anyone, and the follow-up plans
//! ("Anda menyampaikan, kami menindaklanjuti"), as the regulation asks units to publish them
//! with their results; in plain Bahasa Indonesia, or English with `?lang=en`.
//! `/p/{unit}/badge.svg` is a badge a unit embeds on its website (the administration pages give
//! the snippet). The numbers are the report's, computed when asked.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use chrono::TimeZone;

use minijinja::context;
use serde::Serialize;

use super::{html, templates};
use crate::db::queries;
use crate::error::AppError;
use crate::instrument::Lang;
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
        .read_report(move |conn, _| {
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

/// What the public page shows of a report, as text in one language.
#[derive(Serialize)]
struct Published {
    unit_name: String,
    period: String,
    from: String,
    to: String,
    ikm: String,
    grade: String,
    performance: String,
    respondents: u64,
    items: Vec<PublishedItem>,
    trend: Vec<PublishedPeriod>,
    plans: Vec<PublishedPlan>,
    method: String,
    /// The Ombudsman's assessment, described, and where it was published.
    ombudsman: Option<(String, String)>,
    /// What a reader must know before trusting the number, as the dashboard says it: a sample
    /// below the minimum for the unit's population, a grade the interval does not settle.
    cautions: Vec<String>,
}

#[derive(Serialize)]
struct PublishedItem {
    code: String,
    name: String,
    ikm: String,
    grade: String,
}

/// A follow-up plan as citizens read it: what was weak, what the unit does, by when, how far.
#[derive(Serialize)]
struct PublishedPlan {
    item: String,
    /// The suggestions the unit marked as handled by this plan, verbatim.
    asked: Vec<String>,
    action: String,
    due: String,
    status: String,
    done: bool,
}

#[derive(Serialize)]
struct PublishedPeriod {
    period: String,
    respondents: u64,
    ikm: String,
    grade: String,
}

impl Published {
    fn of(r: &UnitReport, lang: Lang) -> Published {
        let rep = &r.report;
        let dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
        let en = lang == Lang::En;
        // Decimal commas in Bahasa Indonesia, points in English (an IKM has no thousands).
        let num = |v: Option<&crate::engine::exact::Fixed>| {
            let text = number(v);
            if en { text.replace(',', ".") } else { text }
        };
        let item_name = |code: &str| {
            rep.items.iter().find(|i| i.code == code).map_or_else(
                || code.to_owned(),
                |i| format!("{code} {}", if en { &i.name_en } else { &i.name }),
            )
        };
        // This period's plans, then the previous period's, which the period may have finished.
        let previous = r.follow_ups.previous.iter().flat_map(|p| p.actions.iter());
        let plans = r
            .follow_ups
            .current
            .iter()
            .chain(previous)
            .filter(|a| a.status != "cancelled")
            .map(|a| PublishedPlan {
                item: item_name(&a.item_code),
                asked: r
                    .suggestions
                    .iter()
                    .filter(|s| s.follow_up.as_ref().is_some_and(|f| f.id == a.id))
                    .map(|s| s.text.clone())
                    .collect(),
                action: a.action.clone(),
                due: crate::text::local_date(&a.due),
                status: crate::followup::status_label(&a.status, lang).to_owned(),
                done: a.status == "done",
            })
            .collect();
        Published {
            unit_name: r.unit_name.clone(),
            period: crate::text::period_label(&r.period, lang),
            from: crate::text::local_date(&r.from),
            to: crate::text::local_date(&r.to),
            ikm: num(rep.ikm.as_ref()),
            grade: dash(rep.grade.as_deref()),
            performance: dash(if en {
                rep.performance_en.as_deref()
            } else {
                rep.performance.as_deref()
            }),
            respondents: rep.respondents,
            items: rep
                .items
                .iter()
                .map(|i| PublishedItem {
                    code: i.code.clone(),
                    name: if en {
                        i.name_en.clone()
                    } else {
                        i.name.clone()
                    },
                    ikm: num(i.ikm.as_ref()),
                    grade: dash(i.grade.as_deref()),
                })
                .collect(),
            trend: r
                .trend
                .iter()
                .map(|t| PublishedPeriod {
                    period: crate::text::period_label(&t.period, lang),
                    respondents: t.respondents,
                    ikm: num(t.ikm.as_ref()),
                    grade: dash(t.grade.as_deref()),
                })
                .collect(),
            plans,
            method: if en {
                rep.calculation.rounding.clone()
            } else {
                rep.calculation.rounding_id.clone()
            },
            ombudsman: r
                .ombudsman
                .as_ref()
                .map(|a| (a.describe(lang), a.source.clone())),
            cautions: rep
                .notices
                .iter()
                .filter(|n| matches!(n.code, "sample_below_minimum" | "grade_uncertain"))
                .map(|n| if en { n.en.clone() } else { n.id.clone() })
                .collect(),
        }
    }
}

/// Query of the public page: its language.
#[derive(serde::Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

/// `/p/{unit}`.
pub async fn page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: crate::extract::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let lang = match query.lang.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Id,
    };
    let found = published(&state, code.clone()).await?;
    let r = found.as_ref().map(|r| Published::of(r, lang));
    let status = if r.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let en = lang == Lang::En;
    let body = templates::render(
        "public.html",
        context! {
            title => if en { TITLE_EN } else { TITLE_ID },
            en, lang => if en { "en" } else { "id" },
            other => format!("/p/{code}{}", if en { "" } else { "?lang=en" }),
            r,
        },
    )?;
    Ok(html(status, body))
}

/// One unit on the lobby display.
#[derive(Serialize)]
struct Ranked {
    rank: usize,
    name: String,
    ikm: String,
    grade: String,
    colour: &'static str,
    respondents: u64,
}

/// How often the lobby display loads itself again, in seconds.
const TV_REFRESH: u32 = 300;

/// `/p/{unit}/tv`: the lobby display of an MPP (or any unit that publishes): full screen, large
/// type, the units below it that publish their results ranked by IKM for the last complete
/// quarter (the unit itself when it has none below), fetching itself again every five minutes
/// and updating in place (`assets/tv.js`).
pub async fn tv(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: crate::extract::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let en = query.lang.as_deref() == Some("en");
    let lang = if en { Lang::En } else { Lang::Id };
    let found = published(&state, code).await?;
    let publishing: Vec<String> = state
        .db
        .read(queries::list_units)
        .await?
        .into_iter()
        .filter(|u| u.public_results && u.active)
        .map(|u| u.code)
        .collect();
    let r = found.map(|r| {
        let num = |v: Option<&crate::engine::exact::Fixed>| {
            let text = number(v);
            if en { text.replace(',', ".") } else { text }
        };
        let ranked: Vec<Ranked> = match &r.rollup {
            Some(rollup) => rollup
                .children
                .iter()
                .filter(|c| c.code.as_ref().is_some_and(|c| publishing.contains(c)))
                .enumerate()
                .map(|(i, c)| Ranked {
                    rank: i + 1,
                    name: if en {
                        c.name_en.clone()
                    } else {
                        c.name.clone()
                    },
                    ikm: num(c.ikm.as_ref()),
                    grade: c.grade.clone().unwrap_or_else(|| "-".to_owned()),
                    colour: colour(c.grade.as_deref()),
                    respondents: c.respondents,
                })
                .collect(),
            None => Vec::new(),
        };
        context! {
            unit_name => r.unit_name.clone(),
            period => crate::text::period_label(&r.period, lang),
            ikm => num(r.report.ikm.as_ref()),
            grade => r.report.grade.clone().unwrap_or_else(|| "-".to_owned()),
            colour => colour(r.report.grade.as_deref()),
            respondents => r.report.respondents,
            ranked,
        }
    });
    let status = if r.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let body = templates::render(
        "tv.html",
        context! {
            en, lang => if en { "en" } else { "id" }, refresh => TV_REFRESH, r,
            script => super::static_files::named("tv", "js").url(),
        },
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
