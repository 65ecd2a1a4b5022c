//! Stored tallies: the additive summaries a report reads instead of rows, kept per unit,
//! instrument, local day and local month, service, channel and flag set, written in the same
//! transaction as the responses they count, and rebuilt from the rows on demand.
//!
//! Each unit with units below it also keeps the tallies of all its descendants' responses
//! (`below`, without the service: services are per unit), added in the same transaction and
//! recounted from its children's when the tree changes ([`tree`]). A parent's report thus reads
//! its own tallies and its direct children's, whatever the depth or the size of the tree.
//!
//! A response is added to four spans, its local day (`2026-07-14`), month (`2026-07`),
//! quarter (`2026-Q3`) and year (`2026`), all in its unit's own time zone. A period is read as
//! its whole years, then the whole quarters, months and single days of what remains, so a
//! quarter (the period most reports are of) reads one span per group however many responses
//! it holds, and a 20-year range about 20.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

mod codec;
pub mod profile;
pub mod tree;

use crate::db::schema::tallies;
use crate::db::{DbConn, queries};
use crate::engine::{Answers, Tally};
use crate::error::{AppError, Kind};
use crate::instrument::{Instrument, Registry};
use crate::period::{Period, parse_timezone};
use profile::ProfileTallies;

/// What one stored tally row holds: the responses' tally and their profile counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// The engine's tally of the responses.
    pub tally: Tally,
    /// Their answer counts per profile category.
    pub profile: ProfileTallies,
}

impl Bucket {
    /// An empty bucket for an instrument.
    pub fn new(instrument: &Instrument) -> Bucket {
        Bucket {
            tally: Tally::new(instrument),
            profile: ProfileTallies::default(),
        }
    }

    /// Adds another bucket of the same instrument.
    pub fn merge(&mut self, other: &Bucket) {
        self.tally.merge(&other.tally);
        self.profile.merge(&other.profile);
    }

    /// The tally and the profile counts, encoded apart so that a trend can read the first
    /// alone.
    fn encode(&self) -> Result<(Vec<u8>, Vec<u8>), AppError> {
        Ok((encode(&self.tally)?, encode(&self.profile)?))
    }

    fn decode(data: &[u8], profile: &[u8]) -> Result<Bucket, AppError> {
        Ok(Bucket {
            tally: decode(data)?,
            profile: decode(profile)?,
        })
    }
}

use codec::{decode, encode};

/// The answers of a stored row, checked again against the instrument.
pub fn stored_answers(instrument: &Instrument, answers: &str) -> Result<Answers, AppError> {
    let map: BTreeMap<String, i64> = serde_json::from_str(answers).map_err(AppError::internal)?;
    Answers::from_pairs(instrument, map.iter().map(|(k, v)| (k.as_str(), *v)))
        .map_err(AppError::internal)
}

/// One response ready to be tallied: where it counts and what it adds. Its flag set is given
/// when it is added, because the flags are decided when it is stored.
#[derive(Debug, Clone)]
pub struct Entry {
    unit: String,
    instrument: String,
    day: NaiveDate,
    service: String,
    channel: String,
    bucket: Bucket,
}

impl Entry {
    /// The entry of a stored row of a unit in time zone `tz`.
    pub fn of(
        instrument: &Instrument,
        tz: Tz,
        row: &queries::ResponseRow,
    ) -> Result<Entry, AppError> {
        Entry::with_answers(
            instrument,
            tz,
            row,
            &stored_answers(instrument, &row.answers)?,
        )
    }

    /// The entry of a row whose answers are already checked (a submission being stored), so
    /// they are not read back from the row's JSON.
    pub fn with_answers(
        instrument: &Instrument,
        tz: Tz,
        row: &queries::ResponseRow,
        answers: &Answers,
    ) -> Result<Entry, AppError> {
        let mut bucket = Bucket::new(instrument);
        bucket.tally.add_checked(answers);
        bucket
            .profile
            .add(instrument, row.profile.as_deref(), answers)?;
        Ok(Entry {
            unit: row.unit_code.clone(),
            instrument: row.instrument.clone(),
            day: tz.from_utc_datetime(&row.received_at).date_naive(),
            service: row.service_code.clone().unwrap_or_default(),
            channel: row.channel.clone(),
            bucket,
        })
    }
}

/// The primary key of a tally row: unit, below, instrument, span, service, channel, flags.
type Key = (String, bool, String, String, String, String, String);

/// The key a tally row adds to among the `below` rows of `unit`, a unit above its own.
fn below_key(unit: &str, (_, _, instrument, span, _, channel, flags): &Key) -> Key {
    (
        unit.to_owned(),
        true,
        instrument.clone(),
        span.clone(),
        String::new(),
        channel.clone(),
        flags.clone(),
    )
}

/// Tallies to add, merged by key until [`Pending::flush`] writes them.
#[derive(Debug, Default)]
pub struct Pending(BTreeMap<Key, Bucket>);

impl Pending {
    /// Adds a stored response with its flags to its day, month, quarter and year.
    pub fn add(&mut self, entry: &Entry, flags: &str) {
        for span in [
            entry.day.format("%Y-%m-%d").to_string(),
            entry.day.format("%Y-%m").to_string(),
            quarter_span(entry.day),
            entry.day.year().to_string(),
        ] {
            let key = (
                entry.unit.clone(),
                false,
                entry.instrument.clone(),
                span,
                entry.service.clone(),
                entry.channel.clone(),
                flags.to_owned(),
            );
            self.merge(key, &entry.bucket);
        }
    }

    fn merge(&mut self, key: Key, bucket: &Bucket) {
        match self.0.get_mut(&key) {
            Some(stored) => stored.merge(bucket),
            None => {
                self.0.insert(key, bucket.clone());
            }
        }
    }

    /// Whether nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds everything to the stored tallies, each unit's own and those of every unit above
    /// it, inside the caller's transaction (which then holds the units' places in the tree
    /// until it ends; see [`tree::ancestors`]).
    pub fn flush(mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let units: std::collections::BTreeSet<&str> = self.0.keys().map(|k| k.0.as_str()).collect();
        let above = tree::ancestors(conn, &units.into_iter().collect::<Vec<_>>())?;
        let mut below = Pending::default();
        for (key, bucket) in &self.0 {
            for ancestor in above.get(&key.0).into_iter().flatten() {
                below.merge(below_key(ancestor, key), bucket);
            }
        }
        // A batch holds its units' own rows only: the two sets of keys are apart.
        self.0.extend(below.0);
        self.write(conn)
    }

    /// Everything here counted below `unit` (services merged): the `below` rows these
    /// tallies add to a unit above theirs, for a bulk load that counts the tree as it goes.
    pub fn lifted(&self, unit: &str) -> Pending {
        let mut out = Pending::default();
        for (key, bucket) in &self.0 {
            out.merge(below_key(unit, key), bucket);
        }
        out
    }

    /// Adds another set of pending tallies to this one.
    pub fn absorb(&mut self, other: Pending) {
        use std::collections::btree_map::Entry as Slot;
        for (key, bucket) in other.0 {
            match self.0.entry(key) {
                Slot::Occupied(mut stored) => stored.get_mut().merge(&bucket),
                Slot::Vacant(slot) => {
                    slot.insert(bucket);
                }
            }
        }
    }

    /// Writes rows that are not stored yet, without reading any back: for a bulk load into
    /// tallies that hold none of these keys (each written once), through `COPY` on
    /// PostgreSQL and multi-row `INSERT`s on SQLite. A key already stored is an error.
    pub fn insert_new(self, conn: &mut DbConn) -> Result<(), AppError> {
        let rows = self
            .0
            .iter()
            .map(|(key, bucket)| {
                let (data, profile) = bucket.encode()?;
                Ok(NewTally::of(key, data, profile))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        match conn {
            DbConn::Postgres(pg) => {
                diesel::copy_from(tallies::table)
                    .from_insertable(&rows)
                    .execute(pg)?;
            }
            DbConn::Sqlite(lite) => {
                // Nine columns a row: 3,000 rows stay under SQLite's 32,766 bound values.
                for chunk in rows.chunks(3_000) {
                    diesel::insert_into(tallies::table)
                        .values(chunk)
                        .execute(lite)?;
                }
            }
        }
        Ok(())
    }

    /// Adds the rows as they are to the stored tallies. Keys are written in one order
    /// everywhere, so two PostgreSQL instances locking the same rows cannot deadlock.
    fn write(self, conn: &mut DbConn) -> Result<(), AppError> {
        match conn {
            DbConn::Postgres(pg) => flush_postgres(pg, self.0),
            // In process, a statement costs microseconds: row by row under the write lock.
            DbConn::Sqlite(_) => {
                for (key, bucket) in self.0 {
                    add_to_row(conn, key, &bucket)?;
                }
                Ok(())
            }
        }
    }
}

impl<'a> NewTally<'a> {
    fn of(key: &'a Key, data: Vec<u8>, profile: Vec<u8>) -> NewTally<'a> {
        let (unit, below, instrument, span, service, channel, flags) = key;
        NewTally {
            unit_code: unit,
            below: *below,
            instrument,
            span,
            service_code: service,
            channel,
            flags,
            data,
            profile,
        }
    }
}

/// Binds the seven parts of `$keys` (a `&[&Key]`) to a query as arrays, in key order.
macro_rules! bind_keys {
    ($query:expr, $keys:expr) => {
        $query
            .bind::<Array<Text>, _>(key_column($keys, |k| &k.0))
            .bind::<Array<Bool>, _>($keys.iter().map(|k| k.1).collect::<Vec<bool>>())
            .bind::<Array<Text>, _>(key_column($keys, |k| &k.2))
            .bind::<Array<Text>, _>(key_column($keys, |k| &k.3))
            .bind::<Array<Text>, _>(key_column($keys, |k| &k.4))
            .bind::<Array<Text>, _>(key_column($keys, |k| &k.5))
            .bind::<Array<Text>, _>(key_column($keys, |k| &k.6))
    };
}

/// One part of each key, as a column to bind.
fn key_column<'a>(keys: &[&'a Key], part: fn(&Key) -> &str) -> Vec<&'a str> {
    keys.iter().map(|k| part(k)).collect()
}

/// A stored tally row as the PostgreSQL flush reads it back.
#[derive(QueryableByName)]
#[diesel(table_name = tallies)]
struct StoredRow {
    unit_code: String,
    below: bool,
    instrument: String,
    span: String,
    service_code: String,
    channel: String,
    flags: String,
    data: Vec<u8>,
    profile: Vec<u8>,
}

/// The PostgreSQL flush in two statements however many rows a batch touches, once its rows
/// exist: lock the stored rows in key order (byte order) and read them, then write them back
/// merged. Rows not yet stored are created with the batch's counts; one that another instance
/// created meanwhile is locked and merged in the next round. Another instance adding to the
/// same rows waits at the lock, and then sees the merged row.
fn flush_postgres(
    pg: &mut diesel::PgConnection,
    pending: BTreeMap<Key, Bucket>,
) -> Result<(), AppError> {
    use diesel::sql_types::{Array, Binary, Bool, Text};
    let keys =
        "$1::text[], $2::boolean[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]";
    let columns = "unit_code, below, instrument, span, service_code, channel, flags";
    let in_order = columns
        .split(", ")
        .map(|c| match c {
            "below" => "t.below".to_owned(),
            text => format!("t.{text} COLLATE \"C\""),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let lock = format!(
        "SELECT t.* FROM tallies t JOIN unnest({keys}) AS k({columns}) USING ({columns}) \
         ORDER BY {in_order} FOR UPDATE OF t"
    );
    let mut merged: Vec<(Key, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut remaining: Vec<&Key> = pending.keys().collect();
    for round in 0.. {
        if remaining.is_empty() {
            break;
        }
        if round == 5 {
            // Rows that keep appearing and vanishing (a rebuild elsewhere): store again.
            return Err(AppError::new(
                Kind::Conflict,
                "tally rows changed meanwhile",
            ));
        }
        let stored: Vec<StoredRow> = bind_keys!(diesel::sql_query(&lock), &remaining).load(pg)?;
        let mut found = std::collections::HashSet::new();
        for row in stored {
            let key = (
                row.unit_code,
                row.below,
                row.instrument,
                row.span,
                row.service_code,
                row.channel,
                row.flags,
            );
            let mut bucket = Bucket::decode(&row.data, &row.profile)?;
            bucket.merge(&pending[&key]);
            let (data, profile) = bucket.encode()?;
            found.insert(key.clone());
            merged.push((key, data, profile));
        }
        let missing: Vec<&Key> = remaining
            .into_iter()
            .filter(|k| !found.contains(*k))
            .collect();
        let mut created = std::collections::HashSet::new();
        // Nine columns a row: 4,000 rows stay under PostgreSQL's limit on bound parameters.
        for chunk in missing.chunks(4_000) {
            let rows = chunk
                .iter()
                .map(|key| {
                    let (data, profile) = pending[*key].encode()?;
                    Ok(NewTally::of(key, data, profile))
                })
                .collect::<Result<Vec<_>, AppError>>()?;
            let keys: Vec<Key> = diesel::insert_into(tallies::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .returning(tallies::table.primary_key())
                .get_results(pg)?;
            created.extend(keys);
        }
        remaining = missing
            .into_iter()
            .filter(|k| !created.contains(*k))
            .collect();
    }
    if merged.is_empty() {
        return Ok(());
    }
    let written: Vec<&Key> = merged.iter().map(|m| &m.0).collect();
    let update = diesel::sql_query(format!(
        "UPDATE tallies t SET data = u.data, profile = u.profile \
         FROM unnest({keys}, $8::bytea[], $9::bytea[]) AS u({columns}, data, profile) \
         WHERE ({columns_t}) = ({columns_u})",
        columns_t = prefixed("t", columns),
        columns_u = prefixed("u", columns),
    ));
    bind_keys!(update, &written)
        .bind::<Array<Binary>, _>(merged.iter().map(|m| m.1.as_slice()).collect::<Vec<_>>())
        .bind::<Array<Binary>, _>(merged.iter().map(|m| m.2.as_slice()).collect::<Vec<_>>())
        .execute(pg)?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = tallies, treat_none_as_default_value = false)]
struct NewTally<'a> {
    unit_code: &'a str,
    below: bool,
    instrument: &'a str,
    span: &'a str,
    service_code: &'a str,
    channel: &'a str,
    flags: &'a str,
    data: Vec<u8>,
    profile: Vec<u8>,
}

/// Adds a bucket to one stored row, creating it when missing (SQLite: the write transaction
/// already holds the database's one write lock).
fn add_to_row(conn: &mut DbConn, key: Key, bucket: &Bucket) -> Result<(), AppError> {
    let (unit, below, instrument, span, service, channel, flags) = &key;
    let pk = (unit, *below, instrument, span, service, channel, flags);
    let current: Option<(Vec<u8>, Vec<u8>)> = tallies::table
        .find(pk)
        .select((tallies::data, tallies::profile))
        .first(conn)
        .optional()?;
    match current {
        None => {
            let (data, profile) = bucket.encode()?;
            diesel::insert_into(tallies::table)
                .values(&NewTally::of(&key, data, profile))
                .execute(conn)?;
        }
        Some((data, profile)) => {
            let mut stored = Bucket::decode(&data, &profile)?;
            stored.merge(bucket);
            let (data, profile) = stored.encode()?;
            diesel::update(tallies::table.find(pk))
                .set((tallies::data.eq(data), tallies::profile.eq(profile)))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// `columns` (comma separated) each prefixed with a table alias.
fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn quarter_span(day: NaiveDate) -> String {
    format!("{}-Q{}", day.year(), day.month0() / 3 + 1)
}

/// The first day of the month `months` after the month of `day`.
fn months_after(day: NaiveDate, months: u32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 + months as i32;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .expect("valid month")
}

/// The spans a period is read from: each whole local year, each whole quarter and then each
/// whole month of the rest, and the single days of any month it covers only in part.
pub fn spans(period: &Period) -> Vec<String> {
    let mut out = Vec::new();
    let mut day = period.first;
    while day <= period.last {
        let month_start = day.with_day(1).expect("day 1");
        let next_year = months_after(day, 12 - day.month0());
        let next_quarter = months_after(day, 3 - day.month0() % 3);
        let next_month = months_after(day, 1);
        let covers = |end: NaiveDate| end.pred_opt().expect("date") <= period.last;
        if day == month_start && day.month0() == 0 && covers(next_year) {
            out.push(day.year().to_string());
            day = next_year;
        } else if day == month_start && day.month0().is_multiple_of(3) && covers(next_quarter) {
            out.push(quarter_span(day));
            day = next_quarter;
        } else if day == month_start && covers(next_month) {
            out.push(day.format("%Y-%m").to_string());
            day = next_month;
        } else {
            out.push(day.format("%Y-%m-%d").to_string());
            day = day.succ_opt().expect("date");
        }
    }
    out
}

/// The stored tally of one group of a unit in a period, without its sums over complete
/// responses: what a breakdown scores.
#[derive(Debug, Clone)]
pub struct Group {
    /// Unit code.
    pub unit: String,
    /// Whether these are the responses of the units below `unit`, not its own.
    pub below: bool,
    /// Service; `None` for responses that named none, and for those of the units below.
    pub service: Option<String>,
    /// Channel.
    pub channel: String,
    /// Flag set, comma separated; empty when unflagged.
    pub flags: String,
    /// The tally, its complete-response sums left zero.
    pub tally: Tally,
}

/// The stored tallies of a scope in a period.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Per unit, service, channel and flag set.
    pub groups: Vec<Group>,
    /// Per flag set, the whole tally and the profile counts.
    pub by_flags: BTreeMap<String, Bucket>,
}

/// Unit, below, service, channel and flag set.
type GroupKey = (String, bool, String, String, String);

/// Which stored tallies a report reads: the own responses of some units, and the responses of
/// all the units below some others.
#[derive(Debug, Clone, Copy)]
pub struct Reach<'a> {
    /// Units whose own responses are read.
    pub own: &'a [&'a str],
    /// Units the responses of whose descendants are read.
    pub below: &'a [&'a str],
}

/// The tally rows of a reach and an instrument over some spans, optionally of one service
/// (which the units below, without services, then do not have).
fn in_spans<'a>(
    reach: Reach<'a>,
    instrument: &'a str,
    spans: Vec<String>,
    service: Option<&'a str>,
) -> tallies::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend> {
    let own = tallies::unit_code
        .eq_any(reach.own)
        .and(tallies::below.eq(false));
    let query = tallies::table
        .filter(tallies::instrument.eq(instrument))
        .filter(tallies::span.eq_any(spans))
        .into_boxed();
    match service {
        Some(service) => query.filter(own).filter(tallies::service_code.eq(service)),
        None if reach.below.is_empty() => query.filter(own),
        None => query.filter(
            own.or(tallies::unit_code
                .eq_any(reach.below)
                .and(tallies::below.eq(true))),
        ),
    }
}

/// The stored tallies of a reach for an instrument over a period, optionally of one service:
/// merged per unit, service, channel and flag set, and in full per flag set. Each row is added
/// from its bytes into those totals, not decoded on its own.
pub fn load(
    conn: &mut DbConn,
    reach: Reach,
    instrument: &Instrument,
    period: &Period,
    service: Option<&str>,
) -> Result<Loaded, AppError> {
    let query = in_spans(reach, &instrument.key, spans(period), service);
    let rows: Vec<(GroupKey, Vec<u8>, Vec<u8>)> = query
        .select((
            (
                tallies::unit_code,
                tallies::below,
                tallies::service_code,
                tallies::channel,
                tallies::flags,
            ),
            tallies::data,
            tallies::profile,
        ))
        .load(conn)?;
    count_read(rows.len());
    let mut groups: BTreeMap<GroupKey, Tally> = BTreeMap::new();
    let mut by_flags: BTreeMap<String, Bucket> = BTreeMap::new();
    for (key, data, profile) in rows {
        if !by_flags.contains_key(&key.4) {
            by_flags.insert(key.4.clone(), Bucket::new(instrument));
        }
        let whole = by_flags.get_mut(&key.4).expect("inserted");
        codec::add_tally(&mut whole.tally, &data, true)?;
        codec::add_profile(&mut whole.profile, &profile)?;
        let group = groups.entry(key).or_insert_with(|| Tally::new(instrument));
        codec::add_tally(group, &data, false)?;
    }
    let groups = groups
        .into_iter()
        .map(|((unit, below, service, channel, flags), tally)| Group {
            unit,
            below,
            service: (!service.is_empty()).then_some(service),
            channel,
            flags,
            tally,
        })
        .collect();
    Ok(Loaded { groups, by_flags })
}

/// The stored tallies of a reach over a period merged per unit (`below` rows under their unit)
/// and flag set, without their profile counts or complete-response sums: what ranking units
/// needs, at a fraction of [`load`]'s decoding. Of every service.
pub fn by_unit(
    conn: &mut DbConn,
    reach: Reach,
    instrument: &Instrument,
    period: &Period,
) -> Result<BTreeMap<(String, String), Tally>, AppError> {
    let rows: Vec<(String, String, Vec<u8>)> =
        in_spans(reach, &instrument.key, spans(period), None)
            .select((tallies::unit_code, tallies::flags, tallies::data))
            .load(conn)?;
    count_read(rows.len());
    let mut out: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for (unit, flags, data) in rows {
        let merged = out
            .entry((unit, flags))
            .or_insert_with(|| Tally::new(instrument));
        codec::add_tally(merged, &data, false)?;
    }
    Ok(out)
}

/// A flag set (comma separated; empty when unflagged) and a channel.
pub type FlagsAndChannel = (String, String);

/// The tallies of a reach over each of some periods merged per flag set and channel, without
/// their profile counts, breakdowns or complete-response sums: what a trend needs.
/// Optionally of one service. One query for all the periods, which must not overlap.
pub fn totals(
    conn: &mut DbConn,
    reach: Reach,
    instrument: &Instrument,
    periods: &[Period],
    service: Option<&str>,
) -> Result<Vec<Vec<(FlagsAndChannel, Tally)>>, AppError> {
    let mut period_of: HashMap<String, usize> = HashMap::new();
    for (i, period) in periods.iter().enumerate() {
        period_of.extend(spans(period).into_iter().map(|span| (span, i)));
    }
    let query = in_spans(
        reach,
        &instrument.key,
        period_of.keys().cloned().collect(),
        service,
    );
    let rows: Vec<(String, String, String, Vec<u8>)> = query
        .select((
            tallies::span,
            tallies::flags,
            tallies::channel,
            tallies::data,
        ))
        .load(conn)?;
    count_read(rows.len());
    let mut out: Vec<BTreeMap<FlagsAndChannel, Tally>> = vec![BTreeMap::new(); periods.len()];
    for (span, flags, channel, data) in rows {
        let merged = out[period_of[&span]]
            .entry((flags, channel))
            .or_insert_with(|| Tally::new(instrument));
        codec::add_tally(merged, &data, false)?;
    }
    Ok(out.into_iter().map(|m| m.into_iter().collect()).collect())
}

thread_local! {
    static ROWS_READ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn count_read(rows: usize) {
    ROWS_READ.with(|n| n.set(n.get() + rows as u64));
}

/// How many tally rows reports have read on this thread: what tests hold a report's cost to.
pub fn rows_read() -> u64 {
    ROWS_READ.with(std::cell::Cell::get)
}

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rebuilt {
    /// Units whose tallies were recomputed.
    pub units: u64,
    /// Responses tallied.
    pub responses: u64,
}

/// How many rows a rebuild reads at a time.
const REBUILD_PAGE: i64 = 5_000;

/// Recomputes the tallies of one unit (or of every unit) from its rows, and those of the units
/// above it, in one transaction: a report made during the rebuild sees the old tallies or the
/// new, never a mix.
pub fn rebuild(
    conn: &mut DbConn,
    registry: &Registry,
    unit: Option<&str>,
) -> Result<Rebuilt, AppError> {
    crate::db::write_tx(conn, |conn| rebuild_in_tx(conn, registry, unit))
}

/// [`rebuild`] inside a transaction the caller holds (a unit whose time zone changes, which
/// the caller has locked with [`tree::lock`]).
pub fn rebuild_in_tx(
    conn: &mut DbConn,
    registry: &Registry,
    unit: Option<&str>,
) -> Result<Rebuilt, AppError> {
    let units: Vec<queries::Unit> = queries::list_units(conn)?
        .into_iter()
        .filter(|u| unit.is_none_or(|c| c == u.code))
        .collect();
    if let Some(code) = unit
        && units.is_empty()
    {
        return Err(AppError::not_found(format!("unknown unit `{code}`")));
    }
    // Years archived and dropped (`kepuasan archive --drop`) keep their tallies as they were:
    // their rows are gone. Every span starts with its year, so those spans sort before it.
    let closed = crate::archive::closed_before(conn)?;
    let kept = closed.map(|year| year.to_string()).unwrap_or_default();
    let mut done = Rebuilt::default();
    for u in &units {
        let tz = parse_timezone(&u.timezone)
            .ok_or_else(|| AppError::internal(format!("unit {} has a bad time zone", u.code)))?;
        diesel::delete(
            tallies::table
                .filter(tallies::unit_code.eq(&u.code))
                .filter(tallies::below.eq(false))
                .filter(tallies::span.ge(&kept)),
        )
        .execute(conn)?;
        let mut pending = Pending::default();
        let mut after = String::new();
        loop {
            let page = queries::responses_page(conn, &u.code, &after, REBUILD_PAGE)?;
            for row in &page {
                if closed.is_some_and(|year| tz.from_utc_datetime(&row.received_at).year() < year) {
                    continue;
                }
                let instrument = registry.get(&row.instrument).ok_or_else(|| {
                    AppError::internal(format!(
                        "response {} uses instrument {}, which is not loaded",
                        row.submission_id, row.instrument
                    ))
                })?;
                pending.add(&Entry::of(instrument, tz, row)?, &row.flags);
                done.responses += 1;
            }
            match page.last() {
                Some(last) if page.len() as i64 == REBUILD_PAGE => {
                    after.clone_from(&last.submission_id)
                }
                _ => break,
            }
        }
        pending.write(conn)?;
        done.units += 1;
    }
    // What sits above the rebuilt units, counted again from their children's.
    match unit {
        Some(code) => tree::recount_above(conn, code)?,
        None => tree::recount_all(conn)?,
    }
    Ok(done)
}

/// Builds the tallies of a database that has responses but none yet (one made before tallies
/// existed); returns whether it did.
pub fn ensure(conn: &mut DbConn, registry: &Registry) -> Result<bool, AppError> {
    let have_tallies = tallies::table
        .select(tallies::unit_code)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if have_tallies || queries::count_responses(conn)? == 0 {
        return Ok(false);
    }
    rebuild(conn, registry, None)?;
    Ok(true)
}

/// Every stored tally row, decoded, in key order: for comparing two ways of building them.
pub fn dump(conn: &mut DbConn) -> Result<Vec<(Vec<String>, Bucket)>, AppError> {
    let key = tallies::table.primary_key();
    let rows: Vec<(Key, Vec<u8>, Vec<u8>)> = tallies::table
        .order(key)
        .select((key, tallies::data, tallies::profile))
        .load(conn)?;
    rows.into_iter()
        .map(|((u, b, i, s, svc, c, f), data, profile)| {
            let below = if b { "below" } else { "own" }.to_owned();
            Ok((
                vec![u, below, i, s, svc, c, f],
                Bucket::decode(&data, &profile)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_is_read_as_one_span_and_a_month_as_another() {
        let q3: Period = "2026-Q3".parse().unwrap();
        assert_eq!(spans(&q3), ["2026-Q3"]);
        let december: Period = "2026-12".parse().unwrap();
        assert_eq!(spans(&december), ["2026-12"]);
    }

    #[test]
    fn a_range_reads_whole_months_and_the_days_of_partial_ones() {
        let range: Period = "2026-01-30..2026-03-02".parse().unwrap();
        assert_eq!(
            spans(&range),
            [
                "2026-01-30",
                "2026-01-31",
                "2026-02",
                "2026-03-01",
                "2026-03-02"
            ]
        );
    }

    #[test]
    fn a_year_is_one_span_and_a_range_mixes_all_four() {
        let year: Period = "2024".parse().unwrap();
        assert_eq!(spans(&year), ["2024"]);
        let range: Period = "2025-11-30..2026-05-01".parse().unwrap();
        assert_eq!(
            spans(&range),
            ["2025-11-30", "2025-12", "2026-Q1", "2026-04", "2026-05-01"]
        );
        let range: Period = "2024-10-01..2026-03-31".parse().unwrap();
        assert_eq!(spans(&range), ["2024-Q4", "2025", "2026-Q1"]);
    }

    #[test]
    fn twenty_years_are_twenty_spans() {
        let range: Period = "2005-01-01..2024-12-31".parse().unwrap();
        let expected: Vec<String> = (2005..=2024).map(|y| y.to_string()).collect();
        assert_eq!(spans(&range), expected);
        // The longest period there is, starting mid-year, reads its whole years as years.
        let range: Period = "2005-07-15..2025-07-14".parse().unwrap();
        // 17 days of July 2005, August, September, 2005-Q4, 2006..2024, 2025-Q1, 2025-Q2 and
        // 14 days of July 2025.
        assert_eq!(spans(&range).len(), 17 + 2 + 1 + 19 + 2 + 14);
    }
}
