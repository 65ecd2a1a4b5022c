//! Verification codes of printed reports: when a PDF is made, what it says (unit, period,
//! service, mode, respondents, IKM, grade, each item's IKM) is stored under a short random code
//! printed on it with a QR code, so anyone can open `/verify/{code}` and confirm that these are
//! the numbers the server computed.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::UnitReport;
use crate::db::DbConn;
use crate::db::schema::report_verifications;
use crate::error::AppError;

/// Letters and digits that cannot be mistaken for each other when typed from paper.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A stored snapshot of a printed report.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = report_verifications)]
pub struct Verification {
    /// The code, such as `K7QM-2XWD-9P`.
    pub code: String,
    /// Unit code.
    pub unit_code: String,
    /// Period.
    pub period: String,
    /// Service, when the report is of one.
    pub service_code: Option<String>,
    /// Mode.
    pub mode: String,
    /// Instrument key.
    pub instrument: String,
    /// Respondents counted.
    pub respondents: i64,
    /// The IKM as printed (decimal point).
    pub ikm: Option<String>,
    /// The grade.
    pub grade: Option<String>,
    /// JSON object: item code -> item IKM as printed.
    pub items: String,
    /// When the document was made (UTC).
    pub created_at: NaiveDateTime,
}

fn new_code() -> String {
    let mut bytes = [0u8; 10];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..])
}

/// Stores what a report says and returns its code.
pub fn record(
    conn: &mut DbConn,
    report: &UnitReport,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let items: BTreeMap<&str, Option<String>> = report
        .report
        .items
        .iter()
        .map(|i| (i.code.as_str(), i.ikm.as_ref().map(|v| v.format('.'))))
        .collect();
    let row = Verification {
        code: new_code(),
        unit_code: report.unit.clone(),
        period: report.period.clone(),
        service_code: report.service.clone(),
        mode: report.report.mode.clone(),
        instrument: report.report.instrument.clone(),
        respondents: i64::try_from(report.report.respondents).unwrap_or(i64::MAX),
        ikm: report.report.ikm.as_ref().map(|v| v.format('.')),
        grade: report.report.grade.clone(),
        items: serde_json::to_string(&items).map_err(AppError::internal)?,
        created_at: now,
    };
    diesel::insert_into(report_verifications::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.code)
}

/// The snapshot behind a code (case and dashes as typed are forgiven).
pub fn find(conn: &mut DbConn, code: &str) -> Result<Option<Verification>, AppError> {
    let clean: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if clean.len() != 10 {
        return Ok(None);
    }
    let code = format!("{}-{}-{}", &clean[..4], &clean[4..8], &clean[8..]);
    Ok(report_verifications::table
        .find(code)
        .select(Verification::as_select())
        .first(conn)
        .optional()?)
}

/// The address of a code's page.
pub fn url(public_url: &str, code: &str) -> String {
    format!("{}/verify/{code}", public_url.trim_end_matches('/'))
}
