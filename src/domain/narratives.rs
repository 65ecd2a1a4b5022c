//! The report narrative a unit edited: its own text for a chapter of the Laporan Hasil SKM,
//! stored per unit, period and language, in place of the template's paragraph
//! (`export::narrative` writes those).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::report_narratives;
use crate::db::{DbConn, write_tx};
use crate::error::AppError;
use crate::instrument::Lang;

/// Longest text a chapter may hold, in characters (about four printed pages).
pub const MAX_CHARS: usize = 12_000;

/// A chapter of the report, in the order PermenPAN-RB 14/2017 lays a report out.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Chapter {
    /// Pendahuluan: why the survey is held, its legal basis.
    Introduction,
    /// Metode: the instrument, the channels, the sample.
    Method,
    /// Hasil: the index, its grade, the items.
    Results,
    /// Analisis: the weakest items, the trend, the suggestions.
    Analysis,
    /// Kesimpulan dan rencana tindak lanjut.
    Conclusion,
}

impl Chapter {
    /// Every chapter, in the report's order.
    pub const ALL: [Chapter; 5] = [
        Chapter::Introduction,
        Chapter::Method,
        Chapter::Results,
        Chapter::Analysis,
        Chapter::Conclusion,
    ];

    /// The chapter's key in the API and the database.
    pub fn key(self) -> &'static str {
        match self {
            Chapter::Introduction => "introduction",
            Chapter::Method => "method",
            Chapter::Results => "results",
            Chapter::Analysis => "analysis",
            Chapter::Conclusion => "conclusion",
        }
    }

    /// The chapter a key names.
    pub fn parse(key: &str) -> Option<Chapter> {
        Chapter::ALL.into_iter().find(|c| c.key() == key)
    }

    /// The chapter's heading: "BAB I PENDAHULUAN".
    pub fn heading(self, lang: Lang) -> String {
        let (n, id, en) = match self {
            Chapter::Introduction => ("I", "PENDAHULUAN", "INTRODUCTION"),
            Chapter::Method => ("II", "METODE DAN SAMPEL", "METHOD AND SAMPLE"),
            Chapter::Results => ("III", "HASIL SURVEI", "RESULTS"),
            Chapter::Analysis => ("IV", "ANALISIS", "ANALYSIS"),
            Chapter::Conclusion => (
                "V",
                "KESIMPULAN DAN RENCANA TINDAK LANJUT",
                "CONCLUSIONS AND FOLLOW-UP PLAN",
            ),
        };
        match lang {
            Lang::Id => format!("BAB {n} {id}"),
            Lang::En => format!("CHAPTER {n} {en}"),
        }
    }
}

/// The texts a unit wrote in place of the templates', by chapter.
pub type Edited = BTreeMap<Chapter, String>;

/// One chapter a unit wrote, with who wrote it last and when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Written {
    /// The chapter.
    pub chapter: Chapter,
    /// The text.
    pub body: String,
    /// When it was last saved (UTC).
    pub updated_at: NaiveDateTime,
    /// Who saved it: a person's name or a key's id.
    pub updated_by: String,
}

fn lang_key(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => "id",
        Lang::En => "en",
    }
}

/// The chapters a unit wrote for a period's report in a language.
pub fn written(
    conn: &mut DbConn,
    unit: &str,
    period: &str,
    lang: Lang,
) -> Result<Vec<Written>, AppError> {
    let rows: Vec<(String, String, NaiveDateTime, String)> = report_narratives::table
        .filter(report_narratives::unit_code.eq(unit))
        .filter(report_narratives::period.eq(period))
        .filter(report_narratives::lang.eq(lang_key(lang)))
        .select((
            report_narratives::chapter,
            report_narratives::body,
            report_narratives::updated_at,
            report_narratives::updated_by,
        ))
        .load(conn)?;
    let mut written: Vec<Written> = rows
        .into_iter()
        .filter_map(|(chapter, body, updated_at, updated_by)| {
            Some(Written {
                chapter: Chapter::parse(&chapter)?,
                body,
                updated_at,
                updated_by,
            })
        })
        .collect();
    written.sort_by_key(|w| w.chapter);
    Ok(written)
}

/// The chapters a unit wrote, as texts by chapter.
pub fn edited(conn: &mut DbConn, unit: &str, period: &str, lang: Lang) -> Result<Edited, AppError> {
    Ok(written(conn, unit, period, lang)?
        .into_iter()
        .map(|w| (w.chapter, w.body))
        .collect())
}

/// Saves a unit's texts for a period's report in one transaction: a text replaces the
/// chapter's, `None` (or a blank text) gives the chapter back to the template. Texts are
/// trimmed; the caller has checked their length.
pub fn save(
    conn: &mut DbConn,
    unit: &str,
    period: &str,
    lang: Lang,
    changes: &BTreeMap<Chapter, Option<String>>,
    actor: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_tx(conn, |conn| {
        for (chapter, text) in changes {
            let key = (unit, period, lang_key(lang), chapter.key());
            diesel::delete(report_narratives::table.find(key)).execute(conn)?;
            let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                continue;
            };
            diesel::insert_into(report_narratives::table)
                .values((
                    report_narratives::unit_code.eq(unit),
                    report_narratives::period.eq(period),
                    report_narratives::lang.eq(lang_key(lang)),
                    report_narratives::chapter.eq(chapter.key()),
                    report_narratives::body.eq(text),
                    report_narratives::updated_at.eq(now),
                    report_narratives::updated_by.eq(actor),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
