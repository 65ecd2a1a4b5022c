//! Row types and the synchronous query functions over `&mut DbConn`, grouped by table.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConn;
use super::schema::{
    api_keys, kiosk_devices, populations, responses, services, submissions, units, users,
};
use crate::error::AppError;

/// A public-service unit, or a parent such as an MPP or a district.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = units)]
pub struct Unit {
    /// Stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// IANA time zone, such as `Asia/Jakarta`.
    pub timezone: String,
    /// Parent unit (an MPP or district).
    #[serde(rename = "parent")]
    pub parent_code: Option<String>,
    /// Whether an open survey link (`/u/{unit}`) is allowed.
    pub open_link: bool,
    /// Whether the unit takes responses.
    pub active: bool,
    /// When it was created (UTC).
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// Whether its results are public (`/p/{unit}` and the badge).
    pub public_results: bool,
    /// Street address, for the report's letterhead.
    pub address: Option<String>,
    /// City, for the letterhead and the place-and-date line.
    pub city: Option<String>,
    /// The unit head's name, under the report's signature.
    pub head_name: Option<String>,
    /// The unit head's NIP (civil-service number).
    pub head_id: Option<String>,
    /// The authority above the unit in its letterhead ("PEMERINTAH KOTA BANDUNG"), one line
    /// per line; the nearest unit above with one lends its own when empty.
    pub authority: Option<String>,
    /// Telephone, for the letterhead.
    pub phone: Option<String>,
    /// E-mail address, for the letterhead.
    pub email: Option<String>,
    /// Website, for the letterhead.
    pub website: Option<String>,
    /// The head's rank (pangkat/golongan), under their name.
    pub head_rank: Option<String>,
    /// The head's title as they sign ("Plt. Kepala Dinas ..."); "Kepala" and the unit's name
    /// when empty.
    pub head_title: Option<String>,
    /// Its service hours (`{"mon": "08:00-16:00", ...}`; days left out are closed); none for
    /// those of the unit above, else Monday to Saturday 07:00-17:00.
    #[serde(serialize_with = "hours_as_object")]
    #[schema(value_type = Option<Object>)]
    pub service_hours: Option<String>,
}

/// Service hours kept as JSON text (`domain::hours` writes them), given as the object they are.
fn hours_as_object<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    text.as_deref()
        .and_then(|t| serde_json::from_str::<std::collections::BTreeMap<String, String>>(t).ok())
        .serialize(s)
}

/// A service (jenis layanan) of a unit.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = services)]
pub struct Service {
    /// Unit code.
    #[serde(rename = "unit")]
    pub unit_code: String,
    /// Service code, unique within the unit.
    pub code: String,
    /// Name.
    pub name: String,
    /// Whether the service takes responses.
    pub active: bool,
    /// When it was created (UTC).
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

/// An API key; only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    /// Public id, used to list and revoke.
    pub id: String,
    /// Hex SHA-256 of the secret.
    pub key_hash: String,
    /// admin, viewer, counter or kiosk.
    pub role: String,
    /// JSON array of unit codes in scope.
    pub units: String,
    /// Who or what holds it.
    pub name: String,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Last used (UTC).
    pub last_used_at: Option<NaiveDateTime>,
    /// Revoked (UTC).
    pub revoked_at: Option<NaiveDateTime>,
}

/// A stored response (and a line of an archive file, `archive`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, serde::Deserialize)]
// A missing value is stored as NULL (each nullable column's default), which lets PostgreSQL's
// COPY and SQLite's multi-row VALUES take the rows ([`insert_fresh_responses`]).
#[diesel(table_name = responses, treat_none_as_default_value = false)]
pub struct ResponseRow {
    /// Client-generated id; a retry with the same id is the same submission.
    pub submission_id: String,
    /// SHA-256 of the canonical content, to tell a retry from a conflicting reuse.
    pub content_hash: String,
    /// Instrument key.
    pub instrument: String,
    /// Instrument version.
    pub instrument_version: i32,
    /// Unit code.
    pub unit_code: String,
    /// Service code.
    pub service_code: Option<String>,
    /// kiosk, qr, web or paper.
    pub channel: String,
    /// JSON object of item code to answer.
    pub answers: String,
    /// JSON object of the profile.
    pub profile: Option<String>,
    /// Free-text suggestion, verbatim.
    pub suggestion: Option<String>,
    /// Server receive time (UTC); decides the period.
    pub received_at: NaiveDateTime,
    /// The client's own clock, kept to measure skew.
    pub client_time: Option<NaiveDateTime>,
    /// Comma-separated quality flags.
    pub flags: String,
    /// Id of the key that submitted it.
    pub key_id: Option<String>,
    /// When the respondent started, by the client's clock.
    pub started_at: Option<NaiveDateTime>,
    /// The device's clock offset against the server, measured at its last sync (ms).
    pub clock_offset_ms: Option<i64>,
    /// The device that collected it (a kiosk's own id, or its key).
    pub device_id: Option<String>,
}

/// People served by a unit in a period.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = populations)]
pub struct Population {
    /// Unit code.
    #[serde(rename = "unit")]
    pub unit_code: String,
    /// Period string.
    pub period: String,
    /// People served.
    pub population: i64,
    /// Last set (UTC).
    #[schema(value_type = String)]
    pub updated_at: NaiveDateTime,
}

// ---- units ------------------------------------------------------------------------------------

/// Inserts a unit.
pub fn insert_unit(conn: &mut DbConn, unit: &Unit) -> Result<(), AppError> {
    diesel::insert_into(units::table)
        .values(unit)
        .execute(conn)?;
    Ok(())
}

/// Serialises changes to the unit tree until the transaction ends: on PostgreSQL a
/// transaction-level advisory lock, so that two concurrent moves (A under B, B under A) cannot
/// both pass the cycle check; SQLite's single writer already serialises them.
pub fn lock_tree(conn: &mut DbConn) -> Result<(), AppError> {
    /// The advisory lock's key: "kepuasan units" in a few bytes.
    const TREE_LOCK: i64 = 0x6b65_7075_6e69;
    if let DbConn::Postgres(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({TREE_LOCK})")).execute(pg)?;
    }
    Ok(())
}

/// The unit with this code.
pub fn find_unit(conn: &mut DbConn, code: &str) -> Result<Option<Unit>, AppError> {
    let found = units::table
        .find(code)
        .select(Unit::as_select())
        .first(conn)
        .optional()?;
    // Codes are stored in lower case; `DUKCAPIL` names `dukcapil`. (A unit made before codes
    // were normalised keeps its exact code, found above.)
    let lower = code.to_ascii_lowercase();
    if found.is_some() || lower == code {
        return Ok(found);
    }
    Ok(units::table
        .find(lower)
        .select(Unit::as_select())
        .first(conn)
        .optional()?)
}

/// Every unit, by code.
pub fn list_units(conn: &mut DbConn) -> Result<Vec<Unit>, AppError> {
    Ok(units::table
        .order(units::code)
        .select(Unit::as_select())
        .load(conn)?)
}

/// Writes a unit's changeable fields.
pub fn update_unit(conn: &mut DbConn, unit: &Unit) -> Result<(), AppError> {
    diesel::update(units::table.find(&unit.code))
        .set((
            units::name.eq(&unit.name),
            units::timezone.eq(&unit.timezone),
            units::parent_code.eq(&unit.parent_code),
            units::open_link.eq(unit.open_link),
            units::active.eq(unit.active),
            units::public_results.eq(unit.public_results),
            units::address.eq(&unit.address),
            units::city.eq(&unit.city),
            units::head_name.eq(&unit.head_name),
            units::head_id.eq(&unit.head_id),
            units::authority.eq(&unit.authority),
            units::phone.eq(&unit.phone),
            units::email.eq(&unit.email),
            units::website.eq(&unit.website),
            units::head_rank.eq(&unit.head_rank),
            units::head_title.eq(&unit.head_title),
            units::service_hours.eq(&unit.service_hours),
        ))
        .execute(conn)?;
    Ok(())
}

/// The stored code of the unit a caller names, which may be written in other case (codes are
/// stored in lower case: `DUKCAPIL` names `dukcapil`); 404 when there is no such unit.
pub fn unit_code(conn: &mut DbConn, given: &str) -> Result<String, AppError> {
    find_unit(conn, given)?
        .map(|u| u.code)
        .ok_or_else(|| AppError::not_found(format!("unknown unit `{given}`")))
}

/// A unit and all its descendants, the unit first.
pub fn subtree(all: &[Unit], root: &str) -> Vec<Unit> {
    let mut children: HashMap<&str, Vec<&Unit>> = HashMap::new();
    for u in all {
        if let Some(parent) = u.parent_code.as_deref() {
            children.entry(parent).or_default().push(u);
        }
    }
    let mut out: Vec<Unit> = all.iter().filter(|u| u.code == root).cloned().collect();
    let mut seen: HashSet<&str> = all
        .iter()
        .filter(|u| u.code == root)
        .map(|u| u.code.as_str())
        .collect();
    let mut i = 0;
    while i < out.len() {
        let below = children
            .get(out[i].code.as_str())
            .cloned()
            .unwrap_or_default();
        for child in below {
            if seen.insert(child.code.as_str()) {
                out.push(child.clone());
            }
        }
        i += 1;
    }
    out
}

/// A unit's place in the tree and its time zone.
#[derive(Debug, Clone, Queryable)]
pub struct Member {
    /// Code.
    pub code: String,
    /// Parent unit's code.
    pub parent_code: Option<String>,
    /// IANA time zone.
    pub timezone: String,
}

/// How many units a unit and its descendants are, and, when they are at most `most`, each of
/// them (the unit first, then level by level). Past `most` the walk only counts, and follows
/// only the units that have children: a nation of 50,000 units is a few counting queries, not
/// 50,000 rows.
pub fn subtree_listed(
    conn: &mut DbConn,
    root: &str,
    most: usize,
) -> Result<(u64, Option<Vec<Member>>), AppError> {
    let columns = (units::code, units::parent_code, units::timezone);
    let listed: Vec<Member> = units::table.find(root).select(columns).load(conn)?;
    let frontier = listed.iter().map(|m| m.code.clone()).collect();
    subtree_listed_from(conn, listed, frontier, most)
}

/// [`subtree_listed`] after its first levels, already read: `listed` holds the units counted
/// so far (a report's unit and its children, which it reads whole), `frontier` those of their
/// lowest level with units below them, whose descendants are counted and listed (while at most
/// `most`) level by level. A unit whose children have none below them takes no query.
pub fn subtree_listed_from(
    conn: &mut DbConn,
    mut listed: Vec<Member>,
    mut frontier: Vec<String>,
    most: usize,
) -> Result<(u64, Option<Vec<Member>>), AppError> {
    let columns = (units::code, units::parent_code, units::timezone);
    let mut count = listed.len() as u64;
    let mut listing = count <= most as u64;
    if !listing {
        listed.clear();
    }
    while !frontier.is_empty() {
        // SQLite binds at most 32,766 values a statement.
        let chunks: Vec<&[String]> = frontier.chunks(10_000).collect();
        let mut level = 0u64;
        for chunk in &chunks {
            let n: i64 = units::table
                .filter(units::parent_code.eq_any(*chunk))
                .count()
                .get_result(conn)?;
            level += n as u64;
        }
        count += level;
        if listing && listed.len() as u64 + level > most as u64 {
            listing = false;
            listed.clear();
        }
        let mut next = Vec::new();
        for chunk in chunks {
            if listing {
                let found: Vec<Member> = units::table
                    .filter(units::parent_code.eq_any(chunk))
                    .select(columns)
                    .load(conn)?;
                next.extend(found.iter().map(|m| m.code.clone()));
                listed.extend(found);
            } else {
                // Only the units below that have units below them lead further down.
                let level = diesel::alias!(units as level);
                let parents: Vec<Option<String>> = units::table
                    .filter(
                        units::parent_code.eq_any(
                            level
                                .filter(level.field(units::parent_code).eq_any(chunk))
                                .select(level.field(units::code).nullable()),
                        ),
                    )
                    .select(units::parent_code)
                    .distinct()
                    .load(conn)?;
                next.extend(parents.into_iter().flatten());
            }
        }
        frontier = next;
    }
    Ok((count, listing.then_some(listed)))
}

/// A unit's direct children, by code, each with whether units sit below it.
pub fn children_with_below(conn: &mut DbConn, code: &str) -> Result<Vec<(Unit, bool)>, AppError> {
    let below = diesel::alias!(units as below);
    let has_below = diesel::dsl::exists(
        below.filter(below.field(units::parent_code).eq(units::code.nullable())),
    );
    Ok(units::table
        .filter(units::parent_code.eq(code))
        .order(units::code)
        .select((Unit::as_select(), has_below))
        .load(conn)?)
}

// ---- services ---------------------------------------------------------------------------------

/// Inserts a service.
pub fn insert_service(conn: &mut DbConn, service: &Service) -> Result<(), AppError> {
    diesel::insert_into(services::table)
        .values(service)
        .execute(conn)?;
    Ok(())
}

/// A unit's service.
pub fn find_service(
    conn: &mut DbConn,
    unit: &str,
    code: &str,
) -> Result<Option<Service>, AppError> {
    Ok(services::table
        .find((unit, code))
        .select(Service::as_select())
        .first(conn)
        .optional()?)
}

/// A unit's services, by code.
pub fn list_services(conn: &mut DbConn, unit: &str) -> Result<Vec<Service>, AppError> {
    Ok(services::table
        .filter(services::unit_code.eq(unit))
        .order(services::code)
        .select(Service::as_select())
        .load(conn)?)
}

/// The services of several units at once, by unit and code.
pub fn services_of(conn: &mut DbConn, units: &[&str]) -> Result<Vec<Service>, AppError> {
    Ok(services::table
        .filter(services::unit_code.eq_any(units))
        .order((services::unit_code, services::code))
        .select(Service::as_select())
        .load(conn)?)
}

/// Writes a service's name and active flag.
pub fn update_service(conn: &mut DbConn, service: &Service) -> Result<(), AppError> {
    diesel::update(services::table.find((&service.unit_code, &service.code)))
        .set((
            services::name.eq(&service.name),
            services::active.eq(service.active),
        ))
        .execute(conn)?;
    Ok(())
}

// ---- keys -------------------------------------------------------------------------------------

/// Inserts a key.
pub fn insert_key(conn: &mut DbConn, key: &ApiKey) -> Result<(), AppError> {
    diesel::insert_into(api_keys::table)
        .values(key)
        .execute(conn)?;
    Ok(())
}

/// The key whose secret hashes to `hash`.
pub fn find_key_by_hash(conn: &mut DbConn, hash: &str) -> Result<Option<ApiKey>, AppError> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .select(ApiKey::as_select())
        .first(conn)
        .optional()?)
}

/// The key with an id.
pub fn find_key(conn: &mut DbConn, id: &str) -> Result<Option<ApiKey>, AppError> {
    Ok(api_keys::table
        .find(id)
        .select(ApiKey::as_select())
        .first(conn)
        .optional()?)
}

/// Every key, newest first.
pub fn list_keys(conn: &mut DbConn) -> Result<Vec<ApiKey>, AppError> {
    Ok(api_keys::table
        .order(api_keys::created_at.desc())
        .select(ApiKey::as_select())
        .load(conn)?)
}

/// Marks a key revoked; false when there is no such key.
pub fn revoke_key(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<bool, AppError> {
    let n = diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1 || api_keys::table.find(id).count().get_result::<i64>(conn)? == 1)
}

/// Records a key's use.
pub fn touch_key(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(api_keys::table.find(id))
        .set(api_keys::last_used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

// ---- users ------------------------------------------------------------------------------------

/// A person who signs in; only an argon2id hash of the password is stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    /// The user name, in lower case.
    pub username: String,
    /// The argon2id hash of the password, as a PHC string.
    pub password_hash: String,
    /// admin, manager or viewer.
    pub role: String,
    /// JSON array of the unit codes a manager or viewer works for.
    pub units: String,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Password last set (UTC).
    pub password_changed_at: NaiveDateTime,
    /// Disabled (UTC); a disabled user cannot sign in.
    pub disabled_at: Option<NaiveDateTime>,
    /// The TOTP secret (base32), once two-step sign-in is begun.
    pub totp_secret: Option<String>,
    /// When a first code confirmed the secret; until then it does not count.
    pub totp_confirmed_at: Option<NaiveDateTime>,
    /// The last time step whose code was accepted (a code counts once).
    pub totp_last_step: Option<i64>,
}

/// Stores a new user.
pub fn insert_user(conn: &mut DbConn, user: &User) -> Result<(), AppError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}

/// The user with this name.
pub fn find_user(conn: &mut DbConn, username: &str) -> Result<Option<User>, AppError> {
    Ok(users::table
        .find(username)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Every user, by name.
pub fn list_users(conn: &mut DbConn) -> Result<Vec<User>, AppError> {
    Ok(users::table
        .select(User::as_select())
        .order(users::username)
        .load(conn)?)
}

/// Writes a user's role, units, password hash and disabled time.
pub fn update_user(conn: &mut DbConn, user: &User) -> Result<(), AppError> {
    diesel::update(users::table.find(&user.username))
        .set((
            users::role.eq(&user.role),
            users::units.eq(&user.units),
            users::password_hash.eq(&user.password_hash),
            users::password_changed_at.eq(user.password_changed_at),
            users::disabled_at.eq(user.disabled_at),
            users::totp_secret.eq(&user.totp_secret),
            users::totp_confirmed_at.eq(user.totp_confirmed_at),
            users::totp_last_step.eq(user.totp_last_step),
        ))
        .execute(conn)?;
    Ok(())
}

// ---- kiosk devices ----------------------------------------------------------------------------

/// A kiosk tablet's last heartbeat.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kiosk_devices)]
pub struct KioskDevice {
    /// The key the tablet uses.
    pub key_id: String,
    /// The id the tablet chose for itself.
    pub device_id: String,
    /// The version of the kiosk page it runs.
    pub page_version: String,
    /// Surveys waiting on the tablet to be sent.
    pub waiting: i64,
    /// Its last successful send (UTC), by its own report.
    pub last_sent_at: Option<NaiveDateTime>,
    /// Its clock minus the server's, in milliseconds.
    pub clock_offset_ms: Option<i64>,
    /// Its last error, in its own words.
    pub last_error: Option<String>,
    /// First heartbeat (UTC).
    pub first_seen_at: NaiveDateTime,
    /// Last heartbeat (UTC).
    pub last_seen_at: NaiveDateTime,
}

/// Records a heartbeat: the tablet's row, its first sighting kept.
pub fn record_heartbeat(conn: &mut DbConn, beat: &KioskDevice) -> Result<(), AppError> {
    // No ON CONFLICT through the multi-backend connection: read, delete and insert in one
    // transaction.
    super::write_tx(conn, |conn| {
        let key = kiosk_devices::table.find((&beat.key_id, &beat.device_id));
        let first: Option<NaiveDateTime> = key
            .select(kiosk_devices::first_seen_at)
            .first(conn)
            .optional()?;
        diesel::delete(key).execute(conn)?;
        let row = KioskDevice {
            first_seen_at: first.unwrap_or(beat.first_seen_at),
            ..beat.clone()
        };
        diesel::insert_into(kiosk_devices::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    })
}

/// Every tablet that ever sent a heartbeat, with the key it uses.
pub fn kiosk_devices(conn: &mut DbConn) -> Result<Vec<(KioskDevice, ApiKey)>, AppError> {
    let devices: Vec<KioskDevice> = kiosk_devices::table
        .select(KioskDevice::as_select())
        .order((kiosk_devices::key_id, kiosk_devices::device_id))
        .load(conn)?;
    let keys: Vec<ApiKey> = api_keys::table.select(ApiKey::as_select()).load(conn)?;
    Ok(devices
        .into_iter()
        .filter_map(|d| {
            let key = keys.iter().find(|k| k.id == d.key_id)?.clone();
            Some((d, key))
        })
        .collect())
}

// ---- responses --------------------------------------------------------------------------------

/// What storing a submission did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A new response was committed.
    New,
    /// The same submission was already stored (same content).
    Repeat,
    /// The id is taken by a submission with other content.
    Conflict,
}

/// Stores a response once per submission id: a stored id with the same content is a repeat,
/// with other content a conflict. Run it inside [`super::write_tx`]; a concurrent insert of the
/// same id that slips between the look-up and the insert fails at the primary key.
pub fn insert_response(conn: &mut DbConn, row: &ResponseRow) -> Result<Stored, AppError> {
    match find_content_hash(conn, &row.submission_id)? {
        Some(hash) if hash == row.content_hash => Ok(Stored::Repeat),
        Some(_) => Ok(Stored::Conflict),
        None => {
            diesel::insert_into(submissions::table)
                .values(Submission::of(row))
                .execute(conn)?;
            diesel::insert_into(responses::table)
                .values(row)
                .execute(conn)?;
            Ok(Stored::New)
        }
    }
}

/// A submission id taken: what `submissions` keeps of a stored response.
#[derive(Insertable)]
#[diesel(table_name = submissions, treat_none_as_default_value = false)]
struct Submission<'a> {
    submission_id: &'a str,
    content_hash: &'a str,
    received_at: NaiveDateTime,
}

impl Submission<'_> {
    fn of(row: &ResponseRow) -> Submission<'_> {
        Submission {
            submission_id: &row.submission_id,
            content_hash: &row.content_hash,
            received_at: row.received_at,
        }
    }
}

/// Inserts responses whose ids were not seen, skipping any id stored meanwhile (another
/// instance's concurrent insert on PostgreSQL): returns, for each row, whether it was inserted.
/// PostgreSQL takes up to 1,000 rows a statement (18 columns a row stays under its limit on
/// bound parameters), one round trip for a whole batch; SQLite, in process, a prepared
/// statement a row.
pub fn insert_new_responses(
    conn: &mut DbConn,
    rows: &[ResponseRow],
) -> Result<Vec<bool>, AppError> {
    match conn {
        DbConn::Postgres(pg) => {
            let mut taken = std::collections::HashSet::new();
            for chunk in rows.chunks(1_000) {
                let ids: Vec<String> = diesel::insert_into(submissions::table)
                    .values(chunk.iter().map(Submission::of).collect::<Vec<_>>())
                    .on_conflict_do_nothing()
                    .returning(submissions::submission_id)
                    .get_results(pg)?;
                taken.extend(ids);
                let fresh: Vec<&ResponseRow> = chunk
                    .iter()
                    .filter(|r| taken.contains(&r.submission_id))
                    .collect();
                if !fresh.is_empty() {
                    diesel::insert_into(responses::table)
                        .values(fresh)
                        .execute(pg)?;
                }
            }
            Ok(rows
                .iter()
                .map(|r| taken.contains(&r.submission_id))
                .collect())
        }
        DbConn::Sqlite(lite) => rows
            .iter()
            .map(|row| {
                let n = diesel::insert_into(submissions::table)
                    .values(Submission::of(row))
                    .on_conflict_do_nothing()
                    .execute(lite)?;
                if n == 1 {
                    diesel::insert_into(responses::table)
                        .values(row)
                        .execute(lite)?;
                }
                Ok(n == 1)
            })
            .collect(),
    }
}

/// Inserts responses into a database that holds none of their ids, for a bulk load (the
/// report benchmark's national tree): PostgreSQL takes them through `COPY` in its binary
/// format, SQLite through multi-row `INSERT`s. A duplicate id is an error, not skipped: the
/// submission path, which must tell a retry from a new response, is
/// [`insert_new_responses`].
pub fn insert_fresh_responses(conn: &mut DbConn, rows: &[ResponseRow]) -> Result<(), AppError> {
    let taken: Vec<Submission> = rows.iter().map(Submission::of).collect();
    match conn {
        DbConn::Postgres(pg) => {
            diesel::copy_from(submissions::table)
                .from_insertable(&taken)
                .execute(pg)?;
            diesel::copy_from(responses::table)
                .from_insertable(rows)
                .execute(pg)?;
        }
        DbConn::Sqlite(lite) => {
            // 18 columns a row: 1,000 rows stay under SQLite's 32,766 bound values.
            for (ids, chunk) in taken.chunks(1_000).zip(rows.chunks(1_000)) {
                diesel::insert_into(submissions::table)
                    .values(ids)
                    .execute(lite)?;
                diesel::insert_into(responses::table)
                    .values(chunk)
                    .execute(lite)?;
            }
        }
    }
    Ok(())
}

/// The content hashes stored under any of `ids`, by id.
pub fn content_hashes(
    conn: &mut DbConn,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = submissions::table
            .filter(submissions::submission_id.eq_any(chunk))
            .select((submissions::submission_id, submissions::content_hash))
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// The content hash of the response stored under a submission id, if any.
pub fn find_content_hash(
    conn: &mut DbConn,
    submission_id: &str,
) -> Result<Option<String>, AppError> {
    Ok(submissions::table
        .find(submission_id)
        .select(submissions::content_hash)
        .first(conn)
        .optional()?)
}

/// A device's newest responses, newest first, at most `limit`: all the abuse checks need of
/// its history (the rate rule looks at no more than its limit, the repeat rule at the newest).
pub fn recent_by_device(
    conn: &mut DbConn,
    device: &str,
    limit: u32,
) -> Result<Vec<DeviceRecent>, AppError> {
    Ok(responses::table
        .filter(responses::device_id.eq(device))
        .order(responses::received_at.desc())
        .select((
            responses::received_at,
            responses::answers,
            responses::profile,
            responses::suggestion,
        ))
        .limit(i64::from(limit))
        .load(conn)?)
}

/// A device's response as the abuse checks see it: (received_at, answers, profile, suggestion).
pub type DeviceRecent = (NaiveDateTime, String, Option<String>, Option<String>);

/// Responses of one unit received in `[from, to)` (UTC), optionally for one service, oldest
/// first, at most `limit`.
pub fn responses_between(
    conn: &mut DbConn,
    unit: &str,
    (from, to): (NaiveDateTime, NaiveDateTime),
    service: Option<&str>,
    limit: i64,
) -> Result<Vec<ResponseRow>, AppError> {
    let mut query = responses::table
        .filter(responses::unit_code.eq(unit))
        .filter(responses::received_at.ge(from))
        .filter(responses::received_at.lt(to))
        .into_boxed();
    if let Some(service) = service {
        query = query.filter(responses::service_code.eq(service));
    }
    Ok(query
        .order(responses::received_at)
        .limit(limit)
        .select(ResponseRow::as_select())
        .load(conn)?)
}

/// What the raw-data sheet of an export shows of a stored response.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = responses)]
pub struct SheetRow {
    /// Client-generated id (the tie-breaker of the sheet's order).
    pub submission_id: String,
    /// Instrument key.
    pub instrument: String,
    /// Service code.
    pub service_code: Option<String>,
    /// kiosk, qr, web or paper.
    pub channel: String,
    /// JSON object of item code to answer.
    pub answers: String,
    /// JSON object of the profile.
    pub profile: Option<String>,
    /// Server receive time (UTC).
    pub received_at: NaiveDateTime,
    /// Comma-separated quality flags.
    pub flags: String,
}

/// A page of a unit's responses received in `[from, to)`, in (received_at, submission_id)
/// order after `after`: an export's raw-data sheet reads a page at a time, never every column
/// of every row at once.
pub fn sheet_rows(
    conn: &mut DbConn,
    unit: &str,
    span: (NaiveDateTime, NaiveDateTime),
    service: Option<&str>,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<SheetRow>, AppError> {
    Ok(page_query(unit, span, service, after, limit)
        .select(SheetRow::as_select())
        .load(conn)?)
}

/// A page of a unit's whole responses received in `[from, to)`, in (received_at,
/// submission_id) order after `after` (an archive's file is written a page at a time).
pub fn rows_between(
    conn: &mut DbConn,
    unit: &str,
    span: (NaiveDateTime, NaiveDateTime),
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<ResponseRow>, AppError> {
    Ok(page_query(unit, span, None, after, limit)
        .select(ResponseRow::as_select())
        .load(conn)?)
}

fn page_query<'a>(
    unit: &'a str,
    (from, to): (NaiveDateTime, NaiveDateTime),
    service: Option<&'a str>,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> responses::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend> {
    let mut query = responses::table
        .filter(responses::unit_code.eq(unit))
        .filter(responses::received_at.ge(from))
        .filter(responses::received_at.lt(to))
        .into_boxed();
    if let Some(service) = service {
        query = query.filter(responses::service_code.eq(service));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            responses::received_at.gt(*at).or(responses::received_at
                .eq(*at)
                .and(responses::submission_id.gt(id.clone()))),
        );
    }
    query
        .order((responses::received_at, responses::submission_id))
        .limit(limit)
}

/// A page of a unit's responses in submission id order, after the id `after` (`""` for the
/// first page): for jobs that must visit every row without holding them all.
pub fn responses_page(
    conn: &mut DbConn,
    unit: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<ResponseRow>, AppError> {
    Ok(responses::table
        .filter(responses::unit_code.eq(unit))
        .filter(responses::submission_id.gt(after))
        .order(responses::submission_id)
        .limit(limit)
        .select(ResponseRow::as_select())
        .load(conn)?)
}

/// A response with a suggestion: (received_at, unit, service, channel, flags, suggestion).
pub type SuggestionRow = (
    String,
    NaiveDateTime,
    String,
    Option<String>,
    String,
    String,
    String,
);

/// The responses of some units in `[from, to)` (UTC) for one instrument that carry a
/// suggestion, optionally of one service; read newest first through a partial index, so a
/// report never walks the rows without one.
#[derive(Debug, Clone, Copy)]
pub struct WithSuggestions<'a> {
    /// Unit codes.
    pub units: &'a [&'a str],
    /// Instrument key.
    pub instrument: &'a str,
    /// `[from, to)`, UTC.
    pub range: (NaiveDateTime, NaiveDateTime),
    /// Only this service's.
    pub service: Option<&'a str>,
}

impl<'a> WithSuggestions<'a> {
    fn query(self) -> responses::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend> {
        let query = responses::table
            .filter(responses::unit_code.eq_any(self.units))
            .filter(responses::received_at.ge(self.range.0))
            .filter(responses::received_at.lt(self.range.1))
            .filter(responses::suggestion.is_not_null())
            .filter(responses::suggestion.ne(""))
            .filter(responses::instrument.eq(self.instrument))
            .order(responses::received_at.desc())
            .into_boxed();
        match self.service {
            Some(service) => query.filter(responses::service_code.eq(service)),
            None => query,
        }
    }

    /// The newest of them, at most `limit`.
    pub fn rows(self, conn: &mut DbConn, limit: i64) -> Result<Vec<SuggestionRow>, AppError> {
        Ok(self
            .query()
            .limit(limit)
            .select((
                responses::submission_id,
                responses::received_at,
                responses::unit_code,
                responses::service_code,
                responses::channel,
                responses::flags,
                responses::suggestion.assume_not_null(),
            ))
            .load(conn)?)
    }

    /// When the newest of them were received, at most `limit`: read from the index, to find
    /// how far back a list must reach before fetching its rows.
    pub fn times(self, conn: &mut DbConn, limit: i64) -> Result<Vec<NaiveDateTime>, AppError> {
        Ok(self
            .query()
            .limit(limit)
            .select(responses::received_at)
            .load(conn)?)
    }
}

/// How many responses are stored in all (used by tests and the demo).
pub fn count_responses(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(responses::table.count().get_result(conn)?)
}

// ---- populations ------------------------------------------------------------------------------

/// Sets the population of a unit and period, replacing any earlier value.
pub fn set_population(conn: &mut DbConn, row: &Population) -> Result<(), AppError> {
    // No ON CONFLICT through the multi-backend connection: delete and insert in one transaction.
    super::write_tx(conn, |conn| {
        diesel::delete(populations::table.find((&row.unit_code, &row.period))).execute(conn)?;
        diesel::insert_into(populations::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    })
}

/// The population of a unit and period.
pub fn find_population(
    conn: &mut DbConn,
    unit: &str,
    period: &str,
) -> Result<Option<i64>, AppError> {
    Ok(populations::table
        .find((unit, period))
        .select(populations::population)
        .first(conn)
        .optional()?)
}

/// The populations of several units for one period: (unit, population).
pub fn populations_of(
    conn: &mut DbConn,
    units: &[&str],
    period: &str,
) -> Result<Vec<(String, i64)>, AppError> {
    Ok(populations::table
        .filter(populations::unit_code.eq_any(units))
        .filter(populations::period.eq(period))
        .select((populations::unit_code, populations::population))
        .load(conn)?)
}

/// A unit's populations, by period.
pub fn list_populations(conn: &mut DbConn, unit: &str) -> Result<Vec<Population>, AppError> {
    Ok(populations::table
        .filter(populations::unit_code.eq(unit))
        .order(populations::period)
        .select(Population::as_select())
        .load(conn)?)
}
