//! The tallies of the units below each unit (`below` rows): which units sit above a response's
//! unit, and the recount of a unit's `below` rows from its children's when the tree changes.
//!
//! A unit's `below` rows hold every response of its descendants, per instrument, span,
//! channel and flag set, each descendant cut at its own local midnight, exactly as its own
//! rows are. They are kept in step with the rows in three ways: a response adds to the rows of
//! each unit above its own, in the same transaction ([`super::Pending::flush`]); a unit moved
//! in the tree, or whose time zone changes, has the `below` rows of every unit above it, before
//! and after, counted again from their children ([`recount_from`]); and a full rebuild counts
//! them level by level from the deepest up ([`recount_all`]).

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;

use super::{Bucket, Key, Pending};
use crate::db::DbConn;
use crate::db::schema::{tallies, units};
use crate::error::AppError;

/// Instrument, span, channel and flag set: what a child's row adds to.
type ChildKey = (String, String, String, String);

/// Most codes in one `IN` list (SQLite binds at most 32,766 values a statement).
const CHUNK: usize = 10_000;

/// The units above each of `units`, nearest first. On PostgreSQL each unit row read is locked
/// against a move (`FOR KEY SHARE`, which a move's [`lock`] waits for) until the transaction
/// ends, so a response is never added to the tallies of a parent its unit has just left.
pub fn ancestors(
    conn: &mut DbConn,
    units: &[&str],
) -> Result<BTreeMap<String, Vec<String>>, AppError> {
    let mut parent: HashMap<String, Option<String>> = HashMap::new();
    let mut frontier: Vec<String> = units.iter().map(|u| (*u).to_owned()).collect();
    while !frontier.is_empty() {
        for chunk in frontier.chunks(CHUNK) {
            let query = units::table
                .filter(units::code.eq_any(chunk))
                .select((units::code, units::parent_code));
            let rows: Vec<(String, Option<String>)> = match conn {
                DbConn::Postgres(pg) => query.for_key_share().load(pg)?,
                DbConn::Sqlite(lite) => query.load(lite)?,
            };
            parent.extend(rows);
        }
        let mut next: Vec<String> = frontier
            .iter()
            .filter_map(|u| parent.get(u).cloned().flatten())
            .filter(|p| !parent.contains_key(p))
            .collect();
        next.sort_unstable();
        next.dedup();
        frontier = next;
    }
    Ok(units
        .iter()
        .map(|u| {
            let mut chain = Vec::new();
            let mut at = *u;
            // The tree has no cycles (moves are checked); the bound only guards the loop.
            while let Some(Some(p)) = parent.get(at) {
                if chain.len() > parent.len() {
                    break;
                }
                chain.push(p.clone());
                at = p;
            }
            ((*u).to_owned(), chain)
        })
        .collect())
}

/// Locks a unit's row against responses being added above it until the transaction ends
/// (PostgreSQL; SQLite's single writer already serialises them): taken before the unit moves
/// or changes time zone.
pub fn lock(conn: &mut DbConn, unit: &str) -> Result<(), AppError> {
    if let DbConn::Postgres(pg) = conn {
        units::table
            .find(unit)
            .select(units::code)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Counts a unit's `below` rows again from its children: each child's own rows (services
/// merged) and its `below` rows.
pub fn recount(conn: &mut DbConn, unit: &str) -> Result<(), AppError> {
    diesel::delete(
        tallies::table
            .filter(tallies::unit_code.eq(unit))
            .filter(tallies::below.eq(true)),
    )
    .execute(conn)?;
    let children: Vec<String> = units::table
        .filter(units::parent_code.eq(unit))
        .select(units::code)
        .load(conn)?;
    let mut pending = Pending::default();
    for chunk in children.chunks(CHUNK) {
        let rows: Vec<(ChildKey, Vec<u8>, Vec<u8>)> = tallies::table
            .filter(tallies::unit_code.eq_any(chunk))
            .select((
                (
                    tallies::instrument,
                    tallies::span,
                    tallies::channel,
                    tallies::flags,
                ),
                tallies::data,
                tallies::profile,
            ))
            .load(conn)?;
        for ((instrument, span, channel, flags), data, profile) in rows {
            let key: Key = (
                unit.to_owned(),
                true,
                instrument,
                span,
                String::new(),
                channel,
                flags,
            );
            pending.merge(key, &Bucket::decode(&data, &profile)?);
        }
    }
    pending.write(conn)
}

/// Counts again the `below` rows of every unit above `unit`, nearest first.
pub fn recount_above(conn: &mut DbConn, unit: &str) -> Result<(), AppError> {
    for ancestor in ancestors(conn, &[unit])?.remove(unit).unwrap_or_default() {
        recount(conn, &ancestor)?;
    }
    Ok(())
}

/// Counts again the `below` rows of `unit` and of every unit above it: after a unit left
/// `unit`, or arrived under it.
pub fn recount_from(conn: &mut DbConn, unit: &str) -> Result<(), AppError> {
    recount(conn, unit)?;
    recount_above(conn, unit)
}

/// Counts every unit's `below` rows again from the own rows, level by level from the deepest
/// parents up, so that each reads children already counted.
pub fn recount_all(conn: &mut DbConn) -> Result<(), AppError> {
    diesel::delete(tallies::table.filter(tallies::below.eq(true))).execute(conn)?;
    let tree: Vec<(String, Option<String>)> = units::table
        .select((units::code, units::parent_code))
        .load(conn)?;
    let parent: HashMap<&str, &str> = tree
        .iter()
        .filter_map(|(c, p)| p.as_deref().map(|p| (c.as_str(), p)))
        .collect();
    let mut parents: Vec<(usize, &str)> =
        parent.values().map(|p| (depth(&parent, p), *p)).collect();
    parents.sort_unstable_by(|a, b| b.cmp(a));
    parents.dedup();
    for (_, unit) in parents {
        recount(conn, unit)?;
    }
    Ok(())
}

/// How many units sit above `at`.
fn depth<'a>(parent: &HashMap<&'a str, &'a str>, mut at: &'a str) -> usize {
    let mut d = 0;
    while let Some(p) = parent.get(at) {
        d += 1;
        at = p;
        // The tree has no cycles (moves are checked); the bound only guards the loop.
        if d > parent.len() {
            break;
        }
    }
    d
}
