//! Archiving closed years: `kepuasan archive --before YEAR --out FILE [--drop]` writes the
//! raw responses of every unit's local years before YEAR to a gzip file of JSON lines and,
//! with `--drop`, removes those rows (with their submission ids and receipt spends) while
//! their tallies stay, so reports of archived years keep working. Their suggestions are read
//! back from the file on request (`kepuasan archive suggestions`). On PostgreSQL the yearly
//! partitions left empty are dropped, so their space returns at once.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::schema::{archives, responses, submissions, token_spends};
use crate::db::{Db, DbConn, queries};
use crate::error::AppError;
use crate::period::{local_midnight, parse_timezone};

/// The archive file's format, named in its first line.
pub const FORMAT: u32 = 1;
/// Rows read, written and dropped at a time.
const PAGE: i64 = 5_000;

/// The first line of an archive file.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub kepuasan_archive: u32,
    /// The rows are those of each unit's local years before this one.
    pub before_year: i32,
    /// When it was written (UTC).
    pub created_at: NaiveDateTime,
}

/// Every other line: a stored response as it was, with its unit's local year.
#[derive(Debug, Serialize, Deserialize)]
pub struct Line {
    /// The year of the unit's own calendar the response was received in.
    pub local_year: i32,
    /// The row.
    #[serde(flatten)]
    pub row: queries::ResponseRow,
}

/// What an archive run did.
#[derive(Debug, Serialize)]
pub struct Archived {
    /// Rows before each unit's 1 January of this year were archived.
    pub before_year: i32,
    /// The file written.
    pub file: String,
    /// Responses written to it.
    pub rows: u64,
    /// Units with at least one archived response.
    pub units: u64,
    /// SHA-256 of the file, hexadecimal.
    pub sha256: String,
    /// Whether the rows were removed from the database.
    pub dropped: bool,
    /// PostgreSQL partitions dropped once empty.
    pub partitions_dropped: Vec<String>,
}

/// An archive as recorded in the database.
#[derive(Insertable)]
#[diesel(table_name = archives)]
struct Record {
    id: String,
    before_year: i32,
    file: String,
    rows: i64,
    sha256: String,
    dropped: bool,
    created_at: NaiveDateTime,
}

/// The year before which rows were archived and dropped (the latest such archive), if any:
/// those years are closed, their tallies kept as they were.
pub fn closed_before(conn: &mut DbConn) -> Result<Option<i32>, AppError> {
    Ok(archives::table
        .filter(archives::dropped.eq(true))
        .select(diesel::dsl::max(archives::before_year))
        .first::<Option<i32>>(conn)?)
}

/// The files that hold dropped rows, by the year they end before, earliest first.
pub fn files(conn: &mut DbConn) -> Result<Vec<(i32, String)>, AppError> {
    Ok(archives::table
        .filter(archives::dropped.eq(true))
        .order((archives::before_year, archives::created_at))
        .select((archives::before_year, archives::file))
        .load(conn)?)
}

/// The notice a report of a period in a closed year carries: its numbers come from the kept
/// tallies, its suggestions from the archive file.
pub fn notice(
    conn: &mut DbConn,
    first_day: NaiveDate,
) -> Result<Option<crate::engine::Notice>, AppError> {
    // The cut is the latest file's year: one query for both.
    let files = files(conn)?;
    let Some(before) = files.last().map(|(year, _)| *year) else {
        return Ok(None);
    };
    if first_day.year() >= before {
        return Ok(None);
    }
    let file = files
        .into_iter()
        .find(|(year, _)| *year > first_day.year())
        .map(|(_, f)| f)
        .unwrap_or_default();
    Ok(Some(crate::engine::Notice {
        code: "archived",
        id: format!(
            "Respons sebelum tahun {before} telah diarsipkan ke {file}: angka laporan ini berasal \
             dari rekapitulasi yang disimpan, dan sarannya dapat dibaca dari arsip \
             (kepuasan archive suggestions)."
        ),
        en: format!(
            "Responses before {before} were archived to {file}: this report's numbers come from \
             the kept tallies, and its suggestions can be read from the archive (kepuasan \
             archive suggestions)."
        ),
    }))
}

/// Archives the responses of every unit's local years before `before` to `out` and, with
/// `remove_rows`, removes them from the database. The file is complete and synced, and read back
/// and counted, before any row is removed; it is never overwritten.
pub fn run(
    db: &Db,
    before: i32,
    out: &Path,
    remove_rows: bool,
    now: NaiveDateTime,
) -> Result<Archived, AppError> {
    if !(2000..=now.year()).contains(&before) {
        return Err(AppError::field(
            "before",
            format!(
                "must be a year whose 1 January has passed everywhere (2000 to {})",
                now.year()
            ),
        ));
    }
    if out.exists() {
        return Err(AppError::field(
            "out",
            format!("{} exists; an archive is never overwritten", out.display()),
        ));
    }
    let units = db.read_blocking(queries::list_units)?;
    let mut bounds = Vec::with_capacity(units.len());
    for unit in &units {
        let tz = parse_timezone(&unit.timezone)
            .ok_or_else(|| AppError::internal(format!("unit {} has a bad time zone", unit.code)))?;
        let first = NaiveDate::from_ymd_opt(before, 1, 1).expect("1 January exists");
        bounds.push((unit.code.clone(), tz, local_midnight(first, tz)));
    }

    let partial = out.with_file_name(format!(
        "{}.partial",
        out.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("archive")
    ));
    // A leftover of a run that was interrupted (killed, the machine down) is named: it may be
    // an archive another run is writing right now, so it is never removed here.
    if partial.exists() {
        return Err(AppError::field(
            "out",
            format!(
                "{} is left from an archive that did not finish (nothing was removed then); \
                 if no other `kepuasan archive` is running, delete it and run again",
                partial.display()
            ),
        ));
    }
    let io = |e: std::io::Error| AppError::internal(format!("writing {}: {e}", partial.display()));
    let file = File::create_new(&partial).map_err(io)?;
    let mut gz = GzEncoder::new(
        Hashing(BufWriter::new(file), Sha256::new()),
        Compression::default(),
    );
    let header = Header {
        kepuasan_archive: FORMAT,
        before_year: before,
        created_at: now,
    };
    write_line(&mut gz, &header).map_err(io)?;
    let (mut rows, mut units_with_rows) = (0_u64, 0_u64);
    let beginning = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a date");
    for (code, tz, bound) in &bounds {
        let mut after: Option<(NaiveDateTime, String)> = None;
        let before_count = rows;
        loop {
            let page = db.read_blocking(|conn| {
                queries::rows_between(conn, code, (beginning, *bound), after.as_ref(), PAGE)
            })?;
            for row in &page {
                let local_year = tz.from_utc_datetime(&row.received_at).year();
                write_line(
                    &mut gz,
                    &Line {
                        local_year,
                        row: row.clone(),
                    },
                )
                .map_err(io)?;
                rows += 1;
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => {
                    after = Some((last.received_at, last.submission_id.clone()));
                }
                _ => break,
            }
        }
        if rows > before_count {
            units_with_rows += 1;
        }
    }
    let Hashing(buffered, hasher) = gz.finish().map_err(io)?;
    let sha256 = format!("{:x}", hasher.finalize());
    let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&partial, out).map_err(io)?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }

    // Read back before anything is removed: every line parses and the count is right.
    let (header_back, read_back) = count(out)?;
    if header_back.before_year != before || read_back != rows {
        return Err(AppError::internal(format!(
            "{} reads back {read_back} rows, not {rows}; nothing was removed",
            out.display()
        )));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let record = Record {
        id: id.clone(),
        before_year: before,
        file: out.display().to_string(),
        rows: rows as i64,
        sha256: sha256.clone(),
        dropped: false,
        created_at: now,
    };
    db.write_blocking(|conn| {
        diesel::insert_into(archives::table)
            .values(&record)
            .execute(conn)?;
        Ok(())
    })?;

    let mut partitions_dropped = Vec::new();
    if remove_rows {
        for (code, _, bound) in &bounds {
            remove(db, code, *bound)?;
        }
        // Partitions that end by the earliest unit's cut hold archived rows only.
        let earliest = bounds.iter().map(|(_, _, b)| *b).min();
        partitions_dropped = match earliest {
            Some(end) => {
                db.write_blocking(|conn| crate::db::partitions::drop_empty_before(conn, end))?
            }
            None => Vec::new(),
        };
        db.write_blocking(|conn| {
            diesel::update(archives::table.find(&id))
                .set(archives::dropped.eq(true))
                .execute(conn)?;
            Ok(())
        })?;
    }
    Ok(Archived {
        before_year: before,
        file: out.display().to_string(),
        rows,
        units: units_with_rows,
        sha256,
        dropped: remove_rows,
        partitions_dropped,
    })
}

/// One JSON line.
fn write_line<T: Serialize>(w: &mut impl Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, value).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

/// Removes a unit's rows received before `bound`, a page per transaction: their receipt
/// spends, the rows, then their submission ids.
fn remove(db: &Db, unit: &str, bound: NaiveDateTime) -> Result<(), AppError> {
    loop {
        let done = db.write_blocking(|conn| {
            crate::db::write_tx(conn, |conn| {
                let ids: Vec<String> = responses::table
                    .filter(responses::unit_code.eq(unit))
                    .filter(responses::received_at.lt(bound))
                    .select(responses::submission_id)
                    .limit(PAGE)
                    .load(conn)?;
                if ids.is_empty() {
                    return Ok(true);
                }
                diesel::delete(
                    token_spends::table.filter(token_spends::submission_id.eq_any(&ids)),
                )
                .execute(conn)?;
                diesel::delete(
                    responses::table
                        .filter(responses::unit_code.eq(unit))
                        .filter(responses::received_at.lt(bound))
                        .filter(responses::submission_id.eq_any(&ids)),
                )
                .execute(conn)?;
                diesel::delete(submissions::table.filter(submissions::submission_id.eq_any(&ids)))
                    .execute(conn)?;
                Ok(false)
            })
        })?;
        if done {
            return Ok(());
        }
    }
}

/// Opens an archive file: its header, and a reader of its lines after it.
pub fn open(
    path: &Path,
) -> Result<(Header, impl Iterator<Item = Result<Line, AppError>>), AppError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| AppError::field("file", format!("{name}: {e}")))?;
    let mut lines = BufReader::new(MultiGzDecoder::new(file)).lines();
    let bad = move |what: String| AppError::field("file", format!("{name}: {what}"));
    let first = lines
        .next()
        .ok_or_else(|| bad("empty".into()))?
        .map_err(|e| bad(e.to_string()))?;
    let header: Header = serde_json::from_str(&first)
        .map_err(|_| bad("not a kepuasan archive (no header line)".into()))?;
    if header.kepuasan_archive != FORMAT {
        return Err(bad(format!(
            "archive format {} is not known here",
            header.kepuasan_archive
        )));
    }
    let rows = lines.map(move |l| {
        let l = l.map_err(|e| bad(e.to_string()))?;
        serde_json::from_str::<Line>(&l).map_err(|e| bad(format!("a bad line: {e}")))
    });
    Ok((header, rows))
}

/// The header of an archive file and how many rows it holds, every line read.
pub fn count(path: &Path) -> Result<(Header, u64), AppError> {
    let (header, rows) = open(path)?;
    let n = rows
        .map(|row| row.map(|_| 1))
        .sum::<Result<u64, AppError>>()?;
    Ok((header, n))
}

/// A suggestion read back from an archive.
#[derive(Debug, Serialize)]
pub struct Suggestion {
    /// The unit.
    pub unit: String,
    /// Its local year.
    pub year: i32,
    /// When it came (UTC).
    pub received_at: NaiveDateTime,
    /// The service, if any.
    pub service: Option<String>,
    /// The channel.
    pub channel: String,
    /// The text.
    pub suggestion: String,
}

/// The suggestions of `unit` (and, with `year`, of that local year) in an archive file, in
/// the order stored.
pub fn suggestions(
    path: &Path,
    unit: &str,
    year: Option<i32>,
) -> Result<Vec<Suggestion>, AppError> {
    let (_, rows) = open(path)?;
    let mut out = Vec::new();
    for line in rows {
        let Line { local_year, row } = line?;
        if row.unit_code != unit || year.is_some_and(|y| y != local_year) {
            continue;
        }
        if let Some(text) = row.suggestion.filter(|t| !t.trim().is_empty()) {
            out.push(Suggestion {
                unit: row.unit_code,
                year: local_year,
                received_at: row.received_at,
                service: row.service_code,
                channel: row.channel,
                suggestion: text,
            });
        }
    }
    Ok(out)
}

/// A writer that hashes what passes through it: the file's SHA-256 without reading it again.
struct Hashing<W>(W, Sha256);

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(bytes)?;
        self.1.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
