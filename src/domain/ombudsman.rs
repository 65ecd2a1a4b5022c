//! The Ombudsman RI's annual compliance assessment of a unit (Penilaian Kepatuhan Standar
//! Pelayanan Publik), recorded by administrators and managers exactly as the Ombudsman
//! published it: score out of 100, zone (green, yellow, red), since 2022 a quality category,
//! and the document it was published in. Units are judged from both sides, so reports, the
//! dashboard and the public page show it beside the IKM; kepuasan never computes it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use super::rules;
use crate::db::schema::ombudsman_assessments as assessments;
use crate::db::{DbConn, write_tx};
use crate::engine::exact::{Fixed, q};
use crate::error::AppError;
use crate::instrument::Lang;

/// The zones, as the Ombudsman names them in its reports.
pub const ZONES: [&str; 3] = ["green", "yellow", "red"];

/// An assessment as stored and shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    /// The unit assessed.
    pub unit: String,
    /// The year assessed.
    pub year: i32,
    /// The score out of 100, as published (two decimals).
    #[schema(value_type = f64)]
    pub score: Fixed,
    /// green, yellow or red.
    pub zone: String,
    /// The quality category (since 2022), as published.
    pub category: Option<String>,
    /// Where it was published: the report, its number or its address.
    pub source: String,
    /// When it was recorded here (UTC).
    pub recorded_at: NaiveDateTime,
    /// Who recorded it.
    pub recorded_by: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = assessments)]
struct Row {
    unit_code: String,
    year: i32,
    score_hundredths: i32,
    zone: String,
    category: Option<String>,
    source: String,
    recorded_at: NaiveDateTime,
    recorded_by: String,
}

impl From<Row> for Assessment {
    fn from(r: Row) -> Assessment {
        Assessment {
            unit: r.unit_code,
            year: r.year,
            score: Fixed::round_half_up(&q(i64::from(r.score_hundredths), 100), 2),
            zone: r.zone,
            category: r.category,
            source: r.source,
            recorded_at: r.recorded_at,
            recorded_by: r.recorded_by,
        }
    }
}

impl Assessment {
    /// "Ombudsman RI 2025: 85,98 · Zona hijau · Kualitas Tertinggi".
    pub fn describe(&self, lang: Lang) -> String {
        let (id, en) = match self.zone.as_str() {
            "green" => ("Zona hijau", "Green zone"),
            "yellow" => ("Zona kuning", "Yellow zone"),
            _ => ("Zona merah", "Red zone"),
        };
        let zone = if lang == Lang::Id { id } else { en };
        let mut text = format!(
            "Ombudsman RI {}: {} · {zone}",
            self.year,
            crate::text::number(&self.score, lang)
        );
        if let Some(category) = &self.category {
            text.push_str(&format!(" · {category}"));
        }
        text
    }
}

fn score(value: f64) -> Result<(), ValidationError> {
    let hundredths = value * 100.0;
    if !(0.0..=100.0).contains(&value) || (hundredths - hundredths.round()).abs() > 1e-6 {
        return Err(rules::problem(
            "must be 0 to 100 with at most two decimals, as the Ombudsman published it",
        ));
    }
    Ok(())
}

fn zone(value: &str) -> Result<(), ValidationError> {
    rules::one_of(value, &ZONES)
}

/// Body of `PUT /api/v1/units/{unit}/ombudsman/{year}`.
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRequest {
    /// The score out of 100 as published, at most two decimals (65.26).
    #[validate(custom(function = "score"))]
    pub score: f64,
    /// green, yellow or red.
    #[validate(custom(function = "zone"))]
    pub zone: String,
    /// The quality category, as published (since 2022).
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub category: Option<String>,
    /// Where it was published: the report's title or number, or its address.
    #[validate(custom(function = "rules::name"))]
    pub source: String,
}

/// Records (or corrects) a unit's assessment for a year.
pub fn record(
    conn: &mut DbConn,
    unit: &str,
    year: i32,
    req: &AssessmentRequest,
    actor: &str,
    now: NaiveDateTime,
) -> Result<Assessment, AppError> {
    if !(2000..=2100).contains(&year) {
        return Err(AppError::field("year", "must be a year from 2000 to 2100"));
    }
    let row = Row {
        unit_code: unit.to_owned(),
        year,
        score_hundredths: (req.score * 100.0).round() as i32,
        zone: req.zone.clone(),
        category: req.category.as_deref().map(|c| c.trim().to_owned()),
        source: req.source.trim().to_owned(),
        recorded_at: now,
        recorded_by: actor.to_owned(),
    };
    write_tx(conn, |conn| {
        diesel::delete(assessments::table.find((unit, year))).execute(conn)?;
        diesel::insert_into(assessments::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    })?;
    Ok(row.into())
}

/// A unit's assessments, newest year first.
pub fn list(conn: &mut DbConn, unit: &str) -> Result<Vec<Assessment>, AppError> {
    let rows: Vec<Row> = assessments::table
        .filter(assessments::unit_code.eq(unit))
        .order(assessments::year.desc())
        .select(Row::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Assessment::from).collect())
}

/// For each unit, its latest assessment of `year` or before (the Ombudsman assesses a year
/// after it has run, so a report of 2026 is read beside the assessment of 2025 until 2026's is
/// published).
pub fn latest_of(
    conn: &mut DbConn,
    units: &[&str],
    year: i32,
) -> Result<HashMap<String, Assessment>, AppError> {
    let mut out: HashMap<String, Assessment> = HashMap::new();
    for chunk in units.chunks(500) {
        let rows: Vec<Row> = assessments::table
            .filter(assessments::unit_code.eq_any(chunk))
            .filter(assessments::year.le(year))
            .order(assessments::year.desc())
            .select(Row::as_select())
            .load(conn)?;
        for row in rows {
            out.entry(row.unit_code.clone())
                .or_insert_with(|| row.into());
        }
    }
    Ok(out)
}
