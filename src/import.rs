//! Importing files: paper questionnaires, and populations (people served per unit and
//! period). Paper questionnaires come from CSV or XLSX with the columns of `kepuasan ikm` (U1..U9,
//! a blank cell an unanswered item) plus `unit`, `service` and `date`, and optionally the
//! profile (`gender`, `age`, `education`, `occupation`) and `suggestion`. Every row goes
//! through the same checks as a live submission.
//!
//! A dry run stores nothing and names every bad row with its line and reason. A real run
//! stores the good rows in one transaction, tagged channel `paper`, received at noon of the
//! questionnaire's date in its unit's time zone, and lists the bad ones. Each row's
//! submission id is derived from its content (and how many identical rows came before it in
//! the file), so importing the same file again stores nothing new, and a file with rows added
//! stores only the added ones.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::collect::{self, SubmissionRequest};
use crate::db::queries;
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::instrument::Registry;
use crate::spreadsheet::{self, Row, Table};
use crate::tokens::TokenSettings;

/// A bad row: its line and what is wrong, by field.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowError {
    /// Line of the file (the header is line 1).
    pub line: u64,
    /// Field (column) to problem.
    pub fields: BTreeMap<String, String>,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// Whether nothing was stored.
    pub dry_run: bool,
    /// Questionnaire rows read (blank lines skipped).
    pub rows: u64,
    /// Rows that pass every check.
    pub valid: u64,
    /// Rows stored now (0 in a dry run).
    pub imported: u64,
    /// Valid rows already stored by an earlier import of the same questionnaires.
    pub already_imported: u64,
    /// Every bad row, in file order.
    pub errors: Vec<RowError>,
    /// Rows stored with a value left out (a profile value no spelling matches), in file order:
    /// the questionnaire's answers count; the value does not.
    pub warnings: Vec<RowError>,
}

impl ImportReport {
    /// The report with every row's problems and warnings in `lang` ([`crate::messages`]).
    pub fn localized(mut self, lang: crate::instrument::Lang) -> ImportReport {
        for row in self.errors.iter_mut().chain(self.warnings.iter_mut()) {
            for problem in row.fields.values_mut() {
                *problem = crate::messages::say(problem, lang).into_owned();
            }
        }
        self
    }
}

/// The headers a questionnaire file may use (lower case), besides the instrument's item codes.
const QUESTIONNAIRE_COLUMNS: &[&str] = &[
    "unit",
    "unit_code",
    "service",
    "layanan",
    "date",
    "tanggal",
    "gender",
    "jenis_kelamin",
    "age",
    "usia",
    "education",
    "pendidikan",
    "occupation",
    "pekerjaan",
    "suggestion",
    "saran",
];

/// The headers a population file may use.
const POPULATION_COLUMNS: &[&str] = &["unit", "period", "periode", "population", "populasi"];

/// The earliest questionnaire date: PermenPAN-RB 14/2017, which set the nine items, is of 2017.
const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2017, 1, 1).expect("a date");

/// A questionnaire date as written: 2025-07-14, 14/07/2025 or 14-07-2025.
fn parse_date(text: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
}

/// A row read as a submission: the request, the questionnaire's date, and what was left out
/// of it (field to why).
type Parsed = (SubmissionRequest, NaiveDate, BTreeMap<String, String>);

/// The submission a row stands for, or the problems that stop it being one.
fn submission(
    table: &Table,
    row: &Row,
    default_unit: Option<&str>,
    instrument: &crate::instrument::Instrument,
) -> Result<Parsed, BTreeMap<String, String>> {
    // The text rule, for every cell of the row: a row with a control character is refused
    // whole, naming its column.
    let broken: BTreeMap<String, String> = table
        .named(row)
        .filter(|(_, value)| crate::domain::rules::text(value).is_err())
        .map(|(name, _)| (name.to_owned(), crate::domain::rules::TEXT_RULE.to_owned()))
        .collect();
    if !broken.is_empty() {
        return Err(broken);
    }
    // A line cut short (a questionnaire typed in part) is not a questionnaire with blanks.
    let codes: Vec<String> = instrument
        .items
        .iter()
        .map(|i| i.code.to_lowercase())
        .collect();
    let code_refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    if let Some(missing) = table.cut_before(row, &code_refs) {
        return Err(BTreeMap::from([(
            "columns".to_owned(),
            format!(
                "this line has {} columns where the header has {}: column {} and those after it are missing",
                row.short.unwrap_or_default(),
                table.width,
                missing.to_uppercase()
            ),
        )]));
    }
    let mut fields = BTreeMap::new();
    let unit = table.cell(row, &["unit", "unit_code"]).or(default_unit);
    if unit.is_none() {
        fields.insert("unit".into(), "is missing".into());
    }
    let date = match table.cell(row, &["date", "tanggal"]) {
        None => {
            fields.insert("date".into(), "is missing".into());
            None
        }
        Some(d) => match parse_date(d) {
            Some(date) if date < FIRST_DATE => {
                fields.insert(
                    "date".into(),
                    format!("{date} is before {FIRST_DATE}, when the skm-2017 instrument began"),
                );
                None
            }
            Some(date) => Some(date),
            None => {
                fields.insert(
                    "date".into(),
                    format!("`{d}` is not a date such as 2025-07-14 or 14/07/2025"),
                );
                None
            }
        },
    };
    let mut answers = BTreeMap::new();
    for item in &instrument.items {
        let code = item.code.to_lowercase();
        match table.cell(row, &[code.as_str()]) {
            None => {}
            Some(v) => match v.parse::<i64>() {
                Ok(n) => {
                    answers.insert(item.code.clone(), Value::from(n));
                }
                Err(_) => {
                    fields.insert(
                        format!("answers.{}", item.code),
                        format!("`{v}` is not a whole number"),
                    );
                }
            },
        }
    }
    let (mut profile, mut left_out) = (BTreeMap::new(), BTreeMap::new());
    for (key, names) in [
        ("gender", ["gender", "jenis_kelamin"]),
        ("age", ["age", "usia"]),
        ("education", ["education", "pendidikan"]),
        ("occupation", ["occupation", "pekerjaan"]),
    ] {
        let Some(written) = table.cell(row, &names) else {
            continue;
        };
        // The spellings printed forms use; a value that still matches nothing is left out with
        // a warning, and the questionnaire's answers count all the same.
        match paper_profile_value(instrument, key, written) {
            Some(value) => {
                profile.insert(key.to_owned(), value);
            }
            None => {
                left_out.insert(
                    format!("profile.{key}"),
                    format!("`{written}` is not recognised, so it is left empty; the questionnaire's answers still count"),
                );
            }
        }
    }
    if !fields.is_empty() {
        return Err(fields);
    }
    let req = SubmissionRequest {
        submission_id: String::new(),
        unit: unit.expect("checked").to_owned(),
        service: table.cell(row, &["service", "layanan"]).map(str::to_owned),
        instrument: instrument.key.clone(),
        channel: "paper".into(),
        answers,
        profile: (!profile.is_empty()).then_some(profile),
        suggestion: table.cell(row, &["suggestion", "saran"]).map(str::to_owned),
        token: None,
        client_time: None,
        started_at: None,
        clock_offset_ms: None,
        device_id: None,
        ticket: None,
    };
    Ok((req, date.expect("checked"), left_out))
}

/// A profile value as written on paper, as the instrument stores it: a choice through its
/// spellings, a whole number within its range; `None` when it is neither.
fn paper_profile_value(
    instrument: &crate::instrument::Instrument,
    key: &str,
    written: &str,
) -> Option<Value> {
    use crate::instrument::ProfileKind;
    match &instrument.profile_field(key)?.kind {
        ProfileKind::Choice { .. } => instrument.paper_choice(key, written).map(Value::from),
        ProfileKind::Integer { min, max, .. } => written
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (*min..=*max).contains(n))
            .map(Value::from),
    }
}

/// The submission id of a row: a hash of its content and of how many identical rows came
/// before it in the file.
fn derived_id(req: &SubmissionRequest, date: NaiveDate, occurrence: u32) -> String {
    let canonical = serde_json::json!({
        "v": 1, "unit": req.unit, "service": req.service, "instrument": req.instrument,
        "date": date.to_string(), "answers": req.answers, "profile": req.profile,
        "suggestion": req.suggestion, "occurrence": occurrence,
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Imports a file (or checks it, in a dry run). `default_unit` serves rows without a unit
/// column. The caller must be an admin or a counter of each row's unit.
#[expect(
    clippy::too_many_arguments,
    reason = "each is a distinct input of the import"
)]
pub fn import(
    conn: &mut DbConn,
    registry: &Registry,
    token_settings: &TokenSettings,
    caller: &Principal,
    bytes: &[u8],
    default_unit: Option<&str>,
    dry_run: bool,
    now: NaiveDateTime,
) -> Result<ImportReport, AppError> {
    let instrument = registry
        .get("skm-2017")
        .ok_or_else(|| AppError::internal("the skm-2017 instrument is missing"))?;
    let codes: Vec<String> = instrument
        .items
        .iter()
        .map(|i| i.code.to_lowercase())
        .collect();
    let wanted: Vec<&str> = QUESTIONNAIRE_COLUMNS
        .iter()
        .copied()
        .chain(codes.iter().map(String::as_str))
        .collect();
    let table = spreadsheet::read(bytes, &wanted, &spreadsheet::LIMITS)?;
    let rows = &table.rows;
    let mut report = ImportReport {
        dry_run,
        rows: rows.len() as u64,
        valid: 0,
        imported: 0,
        already_imported: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut seen: HashMap<String, u32> = HashMap::new();
    // One import reads each unit and service once.
    let directory = crate::directory::Directory::new(std::time::Duration::MAX);
    let checker = collect::Checker {
        directory: &directory,
        registry,
        tokens: token_settings,
        secrets: None,
        address: None,
    };
    // Each row is checked and, in a real run, stored as it comes, so that nothing holds every
    // prepared row at once; a real run is one transaction.
    let mut run = |conn: &mut DbConn| -> Result<(), AppError> {
        let mut pending = crate::tallies::Pending::default();
        // Years archived and closed take no more questionnaires; read once an import.
        let closed = crate::archive::closed_before(conn)?;
        for row in rows {
            let mut left_out = BTreeMap::new();
            let prepared = submission(&table, row, default_unit, instrument).and_then(
                |(mut req, date, left)| {
                    left_out = left;
                    let key = derived_id(&req, date, 0);
                    let occurrence = seen.entry(key).or_insert(0);
                    req.submission_id = derived_id(&req, date, *occurrence);
                    *occurrence += 1;
                    let at = received_at(conn, &req.unit, date, closed, now).map_err(to_fields)?;
                    checker
                        .prepare(conn, Some(caller), &req, at, now)
                        .map_err(to_fields)
                },
            );
            let p = match prepared {
                Ok(p) => p,
                Err(fields) => {
                    report.errors.push(RowError {
                        line: row.line,
                        fields,
                    });
                    continue;
                }
            };
            report.valid += 1;
            if !left_out.is_empty() {
                report.warnings.push(RowError {
                    line: row.line,
                    fields: left_out,
                });
            }
            if dry_run {
                if queries::find_content_hash(conn, &p.row.submission_id)?.is_some() {
                    report.already_imported += 1;
                }
            } else if collect::outcome(queries::insert_response(conn, &p.row)?)? {
                pending.add(&p.entry, &p.row.flags);
                report.imported += 1;
            } else {
                report.already_imported += 1;
            }
        }
        if !dry_run {
            pending.flush(conn)?;
            // The audit log keeps what the file did, not its rows.
            let what = crate::domain::audit::What {
                action: "import.paper",
                target: "file",
                unit: default_unit,
            };
            let summary = serde_json::json!({
                "rows": report.rows,
                "valid": report.valid,
                "imported": report.imported,
                "already_imported": report.already_imported,
                "errors": report.errors.len(),
            });
            crate::domain::audit::record(conn, caller, what, None, Some(&summary), now)?;
        }
        Ok(())
    };
    if dry_run {
        run(conn)?;
    } else {
        db::write_tx(conn, run)?;
    }
    Ok(report)
}

/// What a population file did.
#[derive(Debug, Clone, Serialize)]
pub struct PopulationReport {
    /// Rows read.
    pub rows: u64,
    /// Populations set.
    pub set: u64,
    /// Every bad row, in file order.
    pub errors: Vec<RowError>,
}

/// Sets the populations of a file (CSV or XLSX; columns `unit`, `period`, `population`, or
/// `populasi`), each row on its own (setting one is atomic); a bad row is named and left out.
pub fn populations(
    conn: &mut DbConn,
    caller: &crate::auth::Principal,
    bytes: &[u8],
    now: NaiveDateTime,
) -> Result<PopulationReport, AppError> {
    let table = spreadsheet::read(bytes, POPULATION_COLUMNS, &spreadsheet::LIMITS)?;
    let rows = &table.rows;
    let mut report = PopulationReport {
        rows: rows.len() as u64,
        set: 0,
        errors: Vec::new(),
    };
    for row in rows {
        let result = match (
            table.cell(row, &["unit"]),
            table.cell(row, &["period", "periode"]),
            table.cell(row, &["population", "populasi"]),
        ) {
            (Some(unit), Some(period), Some(n)) => match n.replace(['.', ' '], "").parse() {
                Ok(population) => {
                    crate::access::unit(conn, caller, crate::access::Action::Manage, unit)
                        .and_then(|unit| {
                            crate::domain::populations::set_population(
                                conn,
                                &unit,
                                period,
                                &crate::domain::populations::PopulationRequest { population },
                                now,
                            )
                        })
                        .map(|_| ())
                        .map_err(|e| {
                            if e.fields().is_none() {
                                BTreeMap::from([("unit".to_owned(), e.message().to_owned())])
                            } else {
                                to_fields(e)
                            }
                        })
                }
                Err(_) => Err(BTreeMap::from([(
                    "population".to_owned(),
                    format!("`{n}` is not a whole number"),
                )])),
            },
            (unit, period, n) => Err([("unit", unit), ("period", period), ("population", n)]
                .into_iter()
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| (k.to_owned(), "is missing".to_owned()))
                .collect()),
        };
        match result {
            Ok(()) => report.set += 1,
            Err(fields) => report.errors.push(RowError {
                line: row.line,
                fields,
            }),
        }
    }
    Ok(report)
}

/// Noon of the questionnaire's date in its unit's time zone (UTC), refused in the future and
/// in a year before `closed` (archived).
fn received_at(
    conn: &mut DbConn,
    unit: &str,
    date: NaiveDate,
    closed: Option<i32>,
    now: NaiveDateTime,
) -> Result<NaiveDateTime, AppError> {
    let found = queries::find_unit(conn, unit)?
        .ok_or_else(|| AppError::field("unit", format!("unknown unit `{unit}`")))?;
    let tz = crate::period::parse_timezone(&found.timezone)
        .ok_or_else(|| AppError::internal(format!("unit {unit} has a bad time zone")))?;
    let today = tz.from_utc_datetime(&now).date_naive();
    if date > today {
        return Err(AppError::field("date", format!("{date} is in the future")));
    }
    if let Some(year) = closed
        && date.year() < year
    {
        return Err(AppError::field(
            "date",
            format!("{date} is in a year archived and closed (before {year})"),
        ));
    }
    let noon = date.and_hms_opt(12, 0, 0).expect("noon exists");
    Ok(tz
        .from_local_datetime(&noon)
        .earliest()
        .map_or(noon, |t| t.naive_utc()))
}

/// An error of one row as field problems.
fn to_fields(e: AppError) -> BTreeMap<String, String> {
    let message = e.message().to_owned();
    e.into_fields()
        .unwrap_or_else(|| BTreeMap::from([("row".to_owned(), message)]))
}
