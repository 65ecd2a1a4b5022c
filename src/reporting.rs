//! A unit's report from the database: its responses (and its descendants', each cut at its own
//! local midnight) tallied for one period, handed to the engine, with profile breakdowns.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::db::DbConn;
use crate::db::queries::{self, ResponseRow};
use crate::engine::{self, Answers, IndexReport, Options, Tally};
use crate::error::AppError;
use crate::instrument::{Instrument, ProfileKind, Registry};
use crate::period::{Period, parse_timezone};
use crate::quality::{FlagRules, QualitySummary};

/// Fewest respondents a profile cell may show; smaller cells are suppressed.
pub const MIN_CELL: u64 = 5;

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// Unit code.
    pub unit: String,
    /// Period.
    pub period: Period,
    /// One service only.
    pub service: Option<String>,
    /// Mode key.
    pub mode: Option<String>,
    /// Instrument key; `skm-2017` by default.
    pub instrument: Option<String>,
    /// Leave responses with quality flags out of the numbers.
    pub exclude_flagged: bool,
}

/// One category of a profile breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileCell {
    /// Category code (or age band such as `26-35`).
    pub category: String,
    /// Category label in Bahasa Indonesia.
    pub label: String,
    /// Category label in English.
    pub label_en: String,
    /// Respondents; `None` when suppressed.
    pub respondents: Option<u64>,
    /// The IKM of this group; `None` when suppressed or not computable.
    pub ikm: Option<engine::exact::Fixed>,
    /// True when the cell has fewer than 5 respondents and is hidden.
    pub suppressed: bool,
}

/// A profile field's breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileBreakdown {
    /// Field key.
    pub field: String,
    /// Field label in Bahasa Indonesia.
    pub label: String,
    /// Cells, in the instrument's order, then `not_given`.
    pub cells: Vec<ProfileCell>,
}

/// The report of a unit and period.
#[derive(Debug, Clone, Serialize)]
pub struct UnitReport {
    /// Unit code.
    pub unit: String,
    /// Unit name.
    pub unit_name: String,
    /// Period as asked.
    pub period: String,
    /// First local day.
    pub from: String,
    /// Last local day, inclusive.
    pub to: String,
    /// The unit's time zone (children are cut at their own).
    pub timezone: String,
    /// Service, when the report is of one.
    pub service: Option<String>,
    /// Units whose responses are pooled here.
    pub units_included: Vec<String>,
    /// The engine's report.
    #[serde(flatten)]
    pub report: IndexReport,
    /// Respondent profile breakdowns.
    pub profile: Vec<ProfileBreakdown>,
    /// Data-quality flags, the responses included and excluded, and the rule applied.
    pub quality: QualitySummary,
}

/// Profile key of a response for a field: the choice code or the age band.
fn category(kind: &ProfileKind, value: Option<&serde_json::Value>) -> Option<String> {
    let value = value?;
    match kind {
        ProfileKind::Choice { .. } => value.as_str().map(str::to_owned),
        ProfileKind::Integer { min, max, bands } => {
            let v = value.as_i64()?;
            Some(band_label(*min, *max, bands, v))
        }
    }
}

fn band_label(min: i64, max: i64, bands: &[i64], v: i64) -> String {
    let mut low = min;
    for &b in bands {
        if v < b {
            return format!("{low}-{}", b - 1);
        }
        low = b;
    }
    if low == min {
        format!("{min}-{max}")
    } else {
        format!("{low}+")
    }
}

fn band_labels(min: i64, max: i64, bands: &[i64]) -> Vec<String> {
    let mut starts = vec![min];
    starts.extend_from_slice(bands);
    starts
        .iter()
        .map(|&s| band_label(min, max, bands, s))
        .collect()
}

/// Builds the report of a unit and period.
pub fn unit_report(
    conn: &mut DbConn,
    registry: &Registry,
    rules: &FlagRules,
    req: &ReportRequest,
) -> Result<UnitReport, AppError> {
    let key = req.instrument.as_deref().unwrap_or("skm-2017");
    let instrument = registry
        .get(key)
        .ok_or_else(|| AppError::field("instrument", format!("unknown instrument `{key}`")))?;
    let all = queries::list_units(conn)?;
    let unit = all
        .iter()
        .find(|u| u.code == req.unit)
        .ok_or_else(|| AppError::not_found(format!("unknown unit `{}`", req.unit)))?;
    if let Some(service) = &req.service {
        if queries::find_service(conn, &unit.code, service)?.is_none() {
            return Err(AppError::field(
                "service",
                format!("unknown service `{service}` of unit {}", unit.code),
            ));
        }
    }
    let members = queries::subtree(&all, &unit.code);
    let mut rows: Vec<ResponseRow> = Vec::new();
    for member in &members {
        let tz = parse_timezone(&member.timezone).ok_or_else(|| {
            AppError::internal(format!("unit {} has a bad time zone", member.code))
        })?;
        let (from, to) = req.period.utc_range(tz);
        rows.extend(queries::responses_between(
            conn,
            &member.code,
            from,
            to,
            req.service.as_deref(),
        )?);
    }
    let population = queries::find_population(conn, &unit.code, &req.period.to_string())?;

    let mut tally = Tally::new(instrument);
    let mut groups: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut quality = QualitySummary {
        rule: rules.describe(),
        exclude_flagged: req.exclude_flagged,
        ..QualitySummary::default()
    };
    for row in rows.iter().filter(|r| r.instrument == instrument.key) {
        if !quality.count(&row.flags) {
            continue;
        }
        let answers = stored_answers(instrument, row)?;
        tally.add_checked(&answers);
        let profile: BTreeMap<String, serde_json::Value> = row
            .profile
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(AppError::internal)?
            .unwrap_or_default();
        for field in &instrument.profile {
            let cat = category(&field.kind, profile.get(&field.key))
                .unwrap_or_else(|| "not_given".to_owned());
            groups
                .entry((field.key.clone(), cat))
                .or_insert_with(|| Tally::new(instrument))
                .add_checked(&answers);
        }
    }
    let options = Options {
        mode: req.mode.clone(),
        population: population.and_then(|p| u64::try_from(p).ok()),
        ..Options::default()
    };
    let report = engine::compute(instrument, &tally, &options)
        .map_err(|e| AppError::field("mode", e.to_string()))?;
    let profile = breakdowns(instrument, &groups, &options)?;
    Ok(UnitReport {
        unit: unit.code.clone(),
        unit_name: unit.name.clone(),
        period: req.period.to_string(),
        from: req.period.first.to_string(),
        to: req.period.last.to_string(),
        timezone: unit.timezone.clone(),
        service: req.service.clone(),
        units_included: members.iter().map(|u| u.code.clone()).collect(),
        report,
        profile,
        quality,
    })
}

/// The answers of a stored row, checked again against the instrument.
pub fn stored_answers(instrument: &Instrument, row: &ResponseRow) -> Result<Answers, AppError> {
    let map: BTreeMap<String, i64> =
        serde_json::from_str(&row.answers).map_err(AppError::internal)?;
    Answers::from_pairs(instrument, map.iter().map(|(k, v)| (k.as_str(), *v)))
        .map_err(AppError::internal)
}

fn breakdowns(
    instrument: &Instrument,
    groups: &BTreeMap<(String, String), Tally>,
    options: &Options,
) -> Result<Vec<ProfileBreakdown>, AppError> {
    let mut out = Vec::new();
    for field in &instrument.profile {
        let categories: Vec<(String, String, String)> = match &field.kind {
            ProfileKind::Choice { choices } => choices
                .iter()
                .map(|c| (c.code.clone(), c.id.clone(), c.en.clone()))
                .collect(),
            ProfileKind::Integer { min, max, bands } => band_labels(*min, *max, bands)
                .into_iter()
                .map(|b| (b.clone(), b.clone(), b))
                .collect(),
        };
        let cells = categories
            .into_iter()
            .chain(std::iter::once((
                "not_given".to_owned(),
                "Tidak diisi".to_owned(),
                "Not given".to_owned(),
            )))
            .map(|(category, label, label_en)| {
                let tally = groups.get(&(field.key.clone(), category.clone()));
                let n = tally.map_or(0, |t| t.respondents);
                let suppressed = n > 0 && n < MIN_CELL;
                let ikm = match tally {
                    Some(t) if !suppressed => engine::compute(
                        instrument,
                        t,
                        &Options {
                            population: None,
                            ..options.clone()
                        },
                    )
                    .ok()
                    .and_then(|r| r.ikm),
                    _ => None,
                };
                ProfileCell {
                    category,
                    label,
                    label_en,
                    respondents: (!suppressed).then_some(n),
                    ikm,
                    suppressed,
                }
            })
            .collect();
        out.push(ProfileBreakdown {
            field: field.key.clone(),
            label: field.label.id.clone(),
            cells,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_follow_the_instrument() {
        let bands = [17, 26, 36, 46, 56];
        assert_eq!(
            band_labels(10, 120, &bands),
            ["10-16", "17-25", "26-35", "36-45", "46-55", "56+"]
        );
        assert_eq!(band_label(10, 120, &bands, 34), "26-35");
        assert_eq!(band_label(10, 120, &bands, 80), "56+");
    }
}
