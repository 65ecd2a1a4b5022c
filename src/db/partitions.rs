//! The yearly partitions of `responses` on PostgreSQL: made a year ahead, at start and each
//! day, so that rows land in their year's partition and never in `responses_default` but by
//! a clock far off; rows found in the default partition for a year being made are moved into
//! it. SQLite keeps one table and has nothing to do here.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::DbConn;
use crate::error::AppError;

/// The advisory lock instances take while making partitions, so that two never race.
const LOCK: i64 = 0x6b65_7075_6173_0001;

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The partition holding year `year`'s responses (UTC).
pub fn name(year: i32) -> String {
    format!("responses_y{year}")
}

/// Makes the partitions of last year, this year and the next (UTC) that are missing; returns
/// the names made.
pub fn ensure(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<String>, AppError> {
    let DbConn::Postgres(pg) = conn else {
        return Ok(Vec::new());
    };
    let mut made = Vec::new();
    for year in now.year() - 1..=now.year() + 1 {
        if exists(pg, &name(year))? {
            continue;
        }
        pg.transaction::<_, AppError, _>(|pg| {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<BigInt, _>(LOCK)
                .execute(pg)?;
            if exists(pg, &name(year))? {
                return Ok(());
            }
            let (from, to) = bounds(year);
            let table = name(year);
            // Made apart, filled from the default partition, then attached: attaching checks
            // that the default partition keeps nothing of the year.
            diesel::sql_query(format!(
                "CREATE TABLE {table} (LIKE responses INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            ))
            .execute(pg)?;
            let range = format!("received_at >= '{from}' AND received_at < '{to}'");
            diesel::sql_query(format!(
                "INSERT INTO {table} SELECT * FROM responses_default WHERE {range}"
            ))
            .execute(pg)?;
            diesel::sql_query(format!("DELETE FROM responses_default WHERE {range}")).execute(pg)?;
            diesel::sql_query(format!(
                "ALTER TABLE responses ATTACH PARTITION {table} FOR VALUES FROM ('{from}') TO ('{to}')"
            ))
            .execute(pg)?;
            Ok(())
        })?;
        made.push(name(year));
    }
    Ok(made)
}

/// The yearly partitions there are, oldest first, with their years.
fn list(pg: &mut diesel::PgConnection) -> Result<Vec<(i32, String)>, AppError> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = 'responses' AND c.relname LIKE 'responses\\_y%' ORDER BY c.relname",
    )
    .load(pg)?;
    Ok(names
        .into_iter()
        .filter_map(|n| Some((n.name.strip_prefix("responses_y")?.parse().ok()?, n.name)))
        .collect())
}

/// Drops the yearly partitions that end on or before `end` (UTC) and hold no row: after an
/// archive removed their rows, their space returns at once instead of after a vacuum.
pub fn drop_empty_before(conn: &mut DbConn, end: NaiveDateTime) -> Result<Vec<String>, AppError> {
    let DbConn::Postgres(pg) = conn else {
        return Ok(Vec::new());
    };
    let mut dropped = Vec::new();
    for (year, table) in list(pg)? {
        if bounds(year).1 > end {
            continue;
        }
        let empty: Exists = diesel::sql_query(format!(
            "SELECT NOT EXISTS (SELECT 1 FROM {table}) AS exists"
        ))
        .get_result(pg)?;
        if empty.exists {
            diesel::sql_query(format!("DROP TABLE {table}")).execute(pg)?;
            dropped.push(table);
        }
    }
    Ok(dropped)
}

/// A year's bounds, [1 January, next 1 January) UTC.
fn bounds(year: i32) -> (NaiveDateTime, NaiveDateTime) {
    let first = |y| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("1 January exists")
    };
    (first(year), first(year + 1))
}

fn exists(pg: &mut diesel::PgConnection, table: &str) -> Result<bool, AppError> {
    let found: Exists = diesel::sql_query("SELECT to_regclass($1) IS NOT NULL AS exists")
        .bind::<Text, _>(table)
        .get_result(pg)?;
    Ok(found.exists)
}
