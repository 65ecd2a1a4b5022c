//! Published results, for units that switch them on (`public_results`): `/p/{unit}` shows the
//! last complete quarter's IKM, grade, items and trend to anyone, as the regulation asks units
//! to publish their results; `/p/{unit}/badge.svg` is a badge a unit embeds on its website.
//! The numbers are the report's, computed when asked.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use chrono::TimeZone;

use super::{document, esc};
use crate::db::queries;
use crate::error::AppError;
use crate::period::Period;
use crate::reporting::{self, ReportRequest, UnitReport};
use crate::state::AppState;

const TITLE: (&str, &str) = (
    "Hasil Survei Kepuasan Masyarakat",
    "Public Satisfaction Survey results",
);

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

/// `/p/{unit}`.
pub async fn page(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let Some(r) = published(&state, code.clone()).await? else {
        return Ok(document(
            StatusCode::NOT_FOUND,
            TITLE,
            "<p class=\"bad\">Unit ini tidak menerbitkan hasil survei di sini.<br>\
             <span lang=\"en\">This unit does not publish its survey results here.</span></p>\n",
        ));
    };
    let rep = &r.report;
    let items: String = rep
        .items
        .iter()
        .map(|i| {
            format!(
                "<tr><td>{}</td><td>{} <span lang=\"en\" class=\"en\">({})</span></td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(&i.code),
                esc(&i.name),
                esc(&i.name_en),
                number(i.ikm.as_ref()),
                esc(i.grade.as_deref().unwrap_or("-"))
            )
        })
        .collect();
    let trend: String = r
        .trend
        .iter()
        .map(|t| {
            format!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(&t.period),
                t.respondents,
                number(t.ikm.as_ref()),
                esc(t.grade.as_deref().unwrap_or("-"))
            )
        })
        .collect();
    let badge = format!(
        "{}/p/{}/badge.svg",
        state.settings.public_url.trim_end_matches('/'),
        r.unit
    );
    let body = format!(
        "<h2>{unit}</h2>\n<p>Periode <span lang=\"en\" class=\"en\">(period)</span> {period}: {from} s.d. {to}</p>\n\
         <div class=\"score\"><p>IKM <strong id=\"ikm\">{ikm}</strong></p>\
         <p><b>Mutu {grade} · {performance}</b> <span lang=\"en\" class=\"en\">(grade {grade}, {performance_en})</span></p>\
         <p>{respondents} responden <span lang=\"en\" class=\"en\">(respondents)</span></p></div>\n\
         <h3>Nilai per unsur <span lang=\"en\" class=\"en\">(by item)</span></h3>\n\
         <table><thead><tr><th scope=\"col\">Kode</th><th scope=\"col\">Unsur</th><th scope=\"col\" class=\"n\">IKM</th><th scope=\"col\">Mutu</th></tr></thead><tbody>{items}</tbody></table>\n\
         <h3>Tren <span lang=\"en\" class=\"en\">(trend)</span></h3>\n\
         <table><thead><tr><th scope=\"col\">Periode</th><th scope=\"col\" class=\"n\">Responden</th><th scope=\"col\" class=\"n\">IKM</th><th scope=\"col\">Mutu</th></tr></thead><tbody>{trend}</tbody></table>\n\
         <h3>Lencana untuk situs web <span lang=\"en\" class=\"en\">(badge for a website)</span></h3>\n\
         <p><img src=\"{badge}\" alt=\"IKM {period}: {ikm} ({grade})\"></p>\n\
         <p><code>{snippet}</code></p>\n\
         <p class=\"en\">Dihitung sesuai PermenPAN-RB 14/2017 <span lang=\"en\">(computed as PermenPAN-RB 14/2017 prescribes)</span>; {method}.</p>\n",
        unit = esc(&r.unit_name),
        period = esc(&r.period),
        from = esc(&crate::text::local_date(&r.from)),
        to = esc(&crate::text::local_date(&r.to)),
        ikm = number(rep.ikm.as_ref()),
        grade = esc(rep.grade.as_deref().unwrap_or("-")),
        performance = esc(rep.performance.as_deref().unwrap_or("-")),
        performance_en = esc(rep.performance_en.as_deref().unwrap_or("-")),
        respondents = rep.respondents,
        snippet = esc(&format!(
            "<a href=\"{}/p/{}\"><img src=\"{badge}\" alt=\"IKM\"></a>",
            state.settings.public_url.trim_end_matches('/'),
            r.unit
        )),
        method = esc(&rep.calculation.rounding_id),
    );
    Ok(document(StatusCode::OK, TITLE, &body))
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

fn badge_svg(left: &str, right: &str, fill: &str, label: &str) -> String {
    let (lw, rw) = (text_width(left), text_width(right));
    let w = lw + rw;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" aria-label=\"{label}\">\
         <title>{label}</title>\
         <rect width=\"{lw}\" height=\"20\" fill=\"#333333\"/><rect x=\"{lw}\" width=\"{rw}\" height=\"20\" fill=\"{fill}\"/>\
         <g fill=\"#ffffff\" font-family=\"DejaVu Sans,Verdana,sans-serif\" font-size=\"11\" text-anchor=\"middle\">\
         <text x=\"{lx}\" y=\"14\">{left}</text><text x=\"{rx}\" y=\"14\">{right}</text></g></svg>",
        lx = lw / 2,
        rx = lw + rw / 2,
        label = esc(label),
        left = esc(left),
        right = esc(right),
    )
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
            badge_svg("IKM", "tidak tersedia", colour(None), "IKM tidak tersedia"),
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
                ),
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
