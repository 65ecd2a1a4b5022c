//! The kiosk fleet: heartbeats from enrolled tablets, and each tablet's state as a unit's staff
//! see it: online, late (silent for five minutes during service hours), offline (silent outside
//! them) or retired (its key revoked).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDateTime, TimeDelta, TimeZone};
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::hours::ServiceHours;
use super::rules;
use crate::auth::{Principal, Role};
use crate::db::{DbConn, queries};
use crate::error::AppError;

/// Silence after which a tablet in service hours is late.
pub const LATE_AFTER_MINUTES: i64 = 5;

/// A tablet's heartbeat, sent at most once a minute and with every batch of surveys it sends.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The id the tablet chose for itself (the `device_id` of its submissions).
    #[validate(custom(function = "rules::device_id"))]
    pub device_id: String,
    /// The version of the kiosk page it runs.
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub page_version: String,
    /// Surveys waiting on the tablet to be sent.
    #[validate(range(min = 0, max = 1_000_000, message = "must be between 0 and 1000000"))]
    pub waiting: i64,
    /// Its last successful send (RFC 3339), by its own clock.
    #[serde(default)]
    #[validate(custom(function = "rules::rfc3339"))]
    pub last_sent_at: Option<String>,
    /// Its clock minus the server's, in milliseconds, as last measured.
    #[serde(default)]
    #[validate(range(
        min = -31_622_400_000_i64,
        max = 31_622_400_000_i64,
        message = "must be within a year"
    ))]
    pub clock_offset_ms: Option<i64>,
    /// Its last error, in its own words (at most 300 characters).
    #[serde(default)]
    #[validate(length(max = 300, message = "must be at most 300 characters"))]
    pub last_error: Option<String>,
}

/// What a tablet is doing, as far as the server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KioskState {
    /// A heartbeat within the last five minutes.
    Online,
    /// Silent for five minutes or more during the unit's service hours.
    Late,
    /// Silent outside service hours.
    Offline,
    /// Its key is revoked.
    Retired,
}

impl KioskState {
    /// Every state, for counts that show the empty ones too.
    pub const ALL: [KioskState; 4] = [
        KioskState::Online,
        KioskState::Late,
        KioskState::Offline,
        KioskState::Retired,
    ];

    /// The state's name in the API and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            KioskState::Online => "online",
            KioskState::Late => "late",
            KioskState::Offline => "offline",
            KioskState::Retired => "retired",
        }
    }
}

/// A tablet as a unit's staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KioskView {
    /// The id of the key it uses (retiring the tablet revokes it: `DELETE /api/v1/keys/{id}`).
    pub key_id: String,
    /// The key's name.
    pub key_name: String,
    /// The id the tablet chose for itself.
    pub device_id: String,
    /// Online, late, offline or retired.
    pub state: KioskState,
    /// The kiosk page version it runs.
    pub page_version: String,
    /// Surveys waiting on it.
    pub waiting: i64,
    /// Its last heartbeat, in UTC with its zone (`2026-12-05T02:00:00Z`).
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String)]
    pub last_seen_at: NaiveDateTime,
    /// Its first heartbeat, in UTC with its zone.
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String)]
    pub first_seen_at: NaiveDateTime,
    /// Its last successful send, by its own report, in UTC with its zone.
    #[serde(serialize_with = "utc_or_none")]
    #[schema(value_type = Option<String>)]
    pub last_sent_at: Option<NaiveDateTime>,
    /// Its clock minus the server's, in milliseconds.
    pub clock_offset_ms: Option<i64>,
    /// Its last error.
    pub last_error: Option<String>,
    /// Whether the one asking may retire it (an admin, or a manager of every unit of its key).
    pub retirable: bool,
    /// The units of its key.
    #[serde(skip)]
    pub key_units: Vec<String>,
}

/// A time kept in UTC as RFC 3339 with its zone, `Z`: a reader in another zone reads it right.
fn utc<S: serde::Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &at.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

fn utc_or_none<S: serde::Serializer>(at: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => utc(at, s),
        None => s.serialize_none(),
    }
}

/// The state of a tablet last heard from at `last_seen` (UTC), now (UTC), where it stands: in
/// `tz`, open in `hours`.
pub fn state_of(
    last_seen: NaiveDateTime,
    retired: bool,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
    hours: &ServiceHours,
) -> KioskState {
    if retired {
        return KioskState::Retired;
    }
    if now - last_seen < TimeDelta::minutes(LATE_AFTER_MINUTES) {
        return KioskState::Online;
    }
    if hours.open_at(tz.from_utc_datetime(&now).naive_local()) {
        KioskState::Late
    } else {
        KioskState::Offline
    }
}

/// Records a heartbeat of the tablet using `caller`'s key.
pub fn record(
    conn: &mut DbConn,
    caller: &Principal,
    beat: &Heartbeat,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    queries::record_heartbeat(
        conn,
        &queries::KioskDevice {
            key_id: caller.key_id.clone(),
            device_id: beat.device_id.clone(),
            page_version: beat.page_version.clone(),
            waiting: beat.waiting,
            last_sent_at: rules::utc(beat.last_sent_at.as_deref()),
            clock_offset_ms: beat.clock_offset_ms,
            last_error: beat.last_error.clone().filter(|e| !e.trim().is_empty()),
            first_seen_at: now,
            last_seen_at: now,
        },
    )
}

/// The units whose kiosks serve `unit`: the unit, the units below it ([`queries::subtree`]) and
/// those above it.
fn serving(all: &[queries::Unit], unit: &str) -> HashSet<String> {
    let mut codes: HashSet<String> = queries::subtree(all, unit)
        .into_iter()
        .map(|u| u.code)
        .collect();
    let parent_of = |code: &str| {
        all.iter()
            .find(|u| u.code == code)
            .and_then(|u| u.parent_code.clone())
    };
    // Climbing stops at the top, or at a unit already met (a loop the unit checks refuse).
    let mut at = parent_of(unit);
    while let Some(code) = at.filter(|c| codes.insert(c.clone())) {
        at = parent_of(&code);
    }
    codes
}

/// Where a kiosk key's tablets stand: the time zone of its first unit, and that unit's service
/// hours, or the nearest unit above's, or the default ones.
fn place_of(
    by_code: &HashMap<&str, &queries::Unit>,
    key: &queries::ApiKey,
) -> (chrono_tz::Tz, ServiceHours) {
    let first = key_units(key)
        .first()
        .and_then(|c| by_code.get(c.as_str()).copied());
    let mut at = first;
    let mut hours = None;
    // A tree is a few levels deep; the bound only guards against a loop.
    for _ in 0..32 {
        let Some(unit) = at else { break };
        hours = ServiceHours::from_stored(unit.service_hours.as_deref());
        if hours.is_some() {
            break;
        }
        at = unit
            .parent_code
            .as_deref()
            .and_then(|p| by_code.get(p).copied());
    }
    (timezone_of(first), hours.unwrap_or_default())
}

/// A unit's time zone; WIB for a unit not found.
fn timezone_of(unit: Option<&queries::Unit>) -> chrono_tz::Tz {
    unit.and_then(|u| crate::period::parse_timezone(&u.timezone))
        .unwrap_or(chrono_tz::Asia::Jakarta)
}

fn key_units(key: &queries::ApiKey) -> Vec<String> {
    serde_json::from_str(&key.units).unwrap_or_default()
}

/// The tablets that serve `unit`: those of kiosk keys whose units are `unit`, above it (an MPP's
/// kiosk serves every unit in it) or below it; most urgent first (late, then online, offline,
/// retired), then by key and device.
pub fn list(conn: &mut DbConn, unit: &str, now: NaiveDateTime) -> Result<Vec<KioskView>, AppError> {
    let all = queries::list_units(conn)?;
    let by_code: HashMap<&str, &queries::Unit> = all.iter().map(|u| (u.code.as_str(), u)).collect();
    let serving = serving(&all, unit);
    let mut views: Vec<KioskView> = queries::kiosk_devices(conn)?
        .into_iter()
        .filter(|(_, key)| key.role == Role::Kiosk.as_str())
        .filter(|(_, key)| key_units(key).iter().any(|k| serving.contains(k)))
        .map(|(d, key)| {
            let (tz, hours) = place_of(&by_code, &key);
            (d, key, tz, hours)
        })
        .map(|(d, key, tz, hours)| KioskView {
            state: state_of(d.last_seen_at, key.revoked_at.is_some(), now, tz, &hours),
            retirable: false,
            key_units: key_units(&key),
            key_id: d.key_id,
            key_name: key.name,
            device_id: d.device_id,
            page_version: d.page_version,
            waiting: d.waiting,
            last_seen_at: d.last_seen_at,
            first_seen_at: d.first_seen_at,
            last_sent_at: d.last_sent_at,
            clock_offset_ms: d.clock_offset_ms,
            last_error: d.last_error,
        })
        .collect();
    let urgency = |s: KioskState| match s {
        KioskState::Late => 0,
        KioskState::Online => 1,
        KioskState::Offline => 2,
        KioskState::Retired => 3,
    };
    views.sort_by(|a, b| {
        (urgency(a.state), &a.key_name, &a.device_id).cmp(&(
            urgency(b.state),
            &b.key_name,
            &b.device_id,
        ))
    });
    Ok(views)
}

/// Every tablet counted by state, each in the time zone of its key's first unit, for metrics.
pub fn count_by_state(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<BTreeMap<KioskState, i64>, AppError> {
    let all = queries::list_units(conn)?;
    let by_code: HashMap<&str, &queries::Unit> = all.iter().map(|u| (u.code.as_str(), u)).collect();
    let mut counts: BTreeMap<KioskState, i64> = KioskState::ALL.iter().map(|s| (*s, 0)).collect();
    for (d, key) in queries::kiosk_devices(conn)? {
        let (tz, hours) = place_of(&by_code, &key);
        *counts
            .entry(state_of(
                d.last_seen_at,
                key.revoked_at.is_some(),
                now,
                tz,
                &hours,
            ))
            .or_default() += 1;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn a_tablet_is_late_only_when_silent_during_service_hours() {
        let wib = chrono_tz::Asia::Jakarta;
        // Tuesday 2026-12-01, 09:00 WIB = 02:00 UTC.
        let seen = at("2026-12-01 02:00:00");
        let hours = ServiceHours::default();
        let state = |now: &str, retired| state_of(seen, retired, at(now), wib, &hours);
        assert_eq!(state("2026-12-01 02:04:59", false), KioskState::Online);
        assert_eq!(state("2026-12-01 02:05:00", false), KioskState::Late);
        // 16:59 WIB still open; 17:00 WIB closed.
        assert_eq!(state("2026-12-01 09:59:00", false), KioskState::Late);
        assert_eq!(state("2026-12-01 10:00:00", false), KioskState::Offline);
        // 06:59 WIB on Wednesday closed, 07:00 open.
        assert_eq!(state("2026-12-01 23:59:00", false), KioskState::Offline);
        assert_eq!(state("2026-12-02 00:00:00", false), KioskState::Late);
        // Sunday 2026-12-06, 10:00 WIB: closed all day.
        assert_eq!(state("2026-12-06 03:00:00", false), KioskState::Offline);
        // Saturday 2026-12-05, 10:00 WIB: open.
        assert_eq!(state("2026-12-05 03:00:00", false), KioskState::Late);
        assert_eq!(state("2026-12-01 02:01:00", true), KioskState::Retired);
    }

    #[test]
    fn service_hours_are_the_units_own() {
        // 08:00 UTC is 15:00 WIB (open) and 17:00 WIT (closed) on a Tuesday.
        let seen = at("2026-12-01 07:00:00");
        let now = at("2026-12-01 08:00:00");
        let hours = ServiceHours::default();
        assert_eq!(
            state_of(seen, false, now, chrono_tz::Asia::Jakarta, &hours),
            KioskState::Late
        );
        assert_eq!(
            state_of(seen, false, now, chrono_tz::Asia::Jayapura, &hours),
            KioskState::Offline
        );
        // A unit open Monday to Thursday until 14:00: 15:00 WIB on a Tuesday is closed.
        let short: std::collections::BTreeMap<String, String> = ["mon", "tue", "wed", "thu"]
            .into_iter()
            .map(|d| (d.to_owned(), "08:00-14:00".to_owned()))
            .collect();
        let short = ServiceHours::parse(&short).unwrap();
        assert_eq!(
            state_of(seen, false, now, chrono_tz::Asia::Jakarta, &short),
            KioskState::Offline
        );
    }
}
