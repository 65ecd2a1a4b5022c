//! Abuse control for submissions that no key vouches for: the signed form tickets the survey
//! pages carry, keyed hashes of client addresses, and per-minute windows of arrivals.
//!
//! A survey page (`/u/{unit}`, `/s/{token}`) gets a form ticket when it loads: its unit, the
//! server's time of issue and a random id, signed with a key the server made for itself and
//! keeps in the database (so every instance accepts every instance's tickets). An open-link
//! submission needs a valid ticket that no other response has spent, and `too_fast` is judged
//! from the ticket's time of issue, not from a clock the client sets. Client addresses are
//! never kept: a keyed hash of an address and the day stands for it, so the same address is
//! a different hash tomorrow and no stored hash can be turned back into an address.
//!
//! A browser that signed in as a person gets a device cookie signed with the same secret: the
//! person's name and a random id. Failed sign-ins from it are counted on their own, so that
//! guessing from elsewhere cannot lock that person out of a browser they used before (see
//! `domain::sessions`).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::{hex, sha256_hex};
use crate::db::DbConn;
use crate::db::schema::server_secrets;
use crate::error::{AppError, Kind};

/// How long a form ticket stays valid after its page loaded: long enough for a survey
/// answered slowly or queued offline, short enough that a harvested ticket soon is worth
/// nothing. A page whose ticket expired takes a fresh one when it sends.
pub const TICKET_HOURS: i64 = 12;
/// Longest ticket accepted, in bytes.
const MAX_TICKET: usize = 256;
const SECRET_NAME: &str = "abuse-v1";

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The keys of abuse control, derived from one secret stored in the database.
pub struct Secrets {
    ticket_key: Vec<u8>,
    address_key: Vec<u8>,
    device_key: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([hidden])")
    }
}

/// A form ticket that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// When its page loaded (server clock, UTC).
    pub issued_at: NaiveDateTime,
    /// Hash under which its use is recorded (with receipt-token spends).
    pub spend_key: String,
}

impl Secrets {
    /// Keys from a secret.
    pub fn from_secret(secret: &str) -> Secrets {
        Secrets {
            ticket_key: hmac(secret.as_bytes(), b"kepuasan-form-ticket-v1"),
            address_key: hmac(secret.as_bytes(), b"kepuasan-client-address-v1"),
            device_key: hmac(secret.as_bytes(), b"kepuasan-sign-in-device-v1"),
        }
    }

    /// The database's secret, made from the operating system's random source the first time
    /// (an instance starting at the same moment as another reads the one that was stored).
    pub fn load(conn: &mut DbConn) -> Result<Secrets, AppError> {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let fresh = (
            server_secrets::name.eq(SECRET_NAME),
            server_secrets::value.eq(hex(&bytes)),
        );
        match conn {
            DbConn::Sqlite(c) => {
                diesel::insert_into(server_secrets::table)
                    .values(fresh)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
            DbConn::Postgres(c) => {
                diesel::insert_into(server_secrets::table)
                    .values(fresh)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
        let secret: String = server_secrets::table
            .find(SECRET_NAME)
            .select(server_secrets::value)
            .first(conn)?;
        Ok(Secrets::from_secret(&secret))
    }

    /// A new form ticket for a survey page of `unit`.
    pub fn issue_ticket(&self, unit: &str, now: NaiveDateTime) -> String {
        let mut id = [0u8; 12];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
        let payload = format!(
            "{unit}|{}|{}",
            now.and_utc().timestamp_millis(),
            URL_SAFE_NO_PAD.encode(id)
        );
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let tag = URL_SAFE_NO_PAD.encode(&hmac(&self.ticket_key, payload.as_bytes())[..16]);
        format!("t1.{payload}.{tag}")
    }

    /// Checks a form ticket for a submission to `unit` at `now`.
    pub fn check_ticket(
        &self,
        ticket: &str,
        unit: &str,
        now: NaiveDateTime,
    ) -> Result<Ticket, AppError> {
        let invalid = || {
            AppError::field_of(
                Kind::InvalidTicket,
                "ticket",
                "the survey form is not valid here; open the survey page again",
            )
        };
        if ticket.len() > MAX_TICKET {
            return Err(invalid());
        }
        let mut parts = ticket.split('.');
        let (Some("t1"), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let expected = &hmac(&self.ticket_key, payload.as_bytes())[..16];
        let given = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if !constant_time_eq(expected, &given) {
            return Err(invalid());
        }
        let text = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(invalid)?;
        let mut fields = text.split('|');
        let (Some(for_unit), Some(millis), Some(_id)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(invalid());
        };
        let issued_at = millis
            .parse::<i64>()
            .ok()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .ok_or_else(invalid)?
            .naive_utc();
        if for_unit != unit {
            return Err(AppError::field_of(
                Kind::InvalidTicket,
                "ticket",
                format!("this survey form is for unit {for_unit}"),
            ));
        }
        // Instances' clocks may differ a little; a ticket from far ahead is forged.
        if issued_at > now + chrono::Duration::minutes(5) {
            return Err(invalid());
        }
        if now - issued_at > chrono::Duration::hours(TICKET_HOURS) {
            return Err(AppError::field_of(
                Kind::TicketExpired,
                "ticket",
                "this survey form was opened too long ago; open the survey page again",
            ));
        }
        Ok(Ticket {
            issued_at,
            spend_key: sha256_hex(&format!("ticket|{ticket}")),
        })
    }

    /// A device cookie's value for a browser where `username` signed in: `d1.` the name and a
    /// random id, then their signature.
    pub fn device_cookie(&self, username: &str) -> String {
        let mut id = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
        let payload = URL_SAFE_NO_PAD.encode(format!("{username}|{}", URL_SAFE_NO_PAD.encode(id)));
        let tag = URL_SAFE_NO_PAD.encode(&hmac(&self.device_key, payload.as_bytes())[..16]);
        format!("d1.{payload}.{tag}")
    }

    /// The device a device cookie stands for, as a hash, when the cookie is one this server
    /// signed for `username` (any case); `None` for any other value.
    pub fn device_of(&self, cookie: &str, username: &str) -> Option<String> {
        if cookie.len() > MAX_TICKET {
            return None;
        }
        let mut parts = cookie.split('.');
        let (Some("d1"), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let given = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if !constant_time_eq(&hmac(&self.device_key, payload.as_bytes())[..16], &given) {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let (name, id) = text.split_once('|')?;
        (name == username.trim().to_ascii_lowercase()).then(|| sha256_hex(&format!("device|{id}")))
    }

    /// A client address as 16 hex characters: keyed, and different each day.
    pub fn address_hash(&self, address: &str, day: NaiveDate) -> String {
        hex(&hmac(&self.address_key, format!("{day}|{address}").as_bytes())[..8])
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Arrivals per key (an address hash, a kiosk key) in the last minute, estimated from fixed
/// one-minute windows (the previous minute's count weighted by how much of it still lies
/// within the last 60 seconds). Bounded: past `MAX_KEYS` keys, those idle for two minutes are
/// dropped, and if none are, the oldest half.
#[derive(Debug, Default)]
pub struct Windows {
    counts: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    minute: i64,
    previous: u32,
    current: u32,
}

const MAX_KEYS: usize = 100_000;

impl Windows {
    /// Empty windows.
    pub fn new() -> Windows {
        Windows::default()
    }

    /// Counts an arrival of `key` at `now`; returns the arrivals of the last minute, this one
    /// included.
    pub fn hit(&self, key: &str, now: NaiveDateTime) -> u32 {
        let millis = now.and_utc().timestamp_millis();
        let minute = millis.div_euclid(60_000);
        let into = millis.rem_euclid(60_000) as f64 / 60_000.0;
        let mut counts = self.counts.lock().expect("windows lock");
        if counts.len() >= MAX_KEYS && !counts.contains_key(key) {
            counts.retain(|_, w| w.minute >= minute - 1);
            if counts.len() >= MAX_KEYS {
                let mut minutes: Vec<i64> = counts.values().map(|w| w.minute).collect();
                minutes.sort_unstable();
                let median = minutes[minutes.len() / 2];
                counts.retain(|_, w| w.minute > median);
            }
        }
        let w = counts.entry(key.to_owned()).or_insert(Window {
            minute,
            previous: 0,
            current: 0,
        });
        if w.minute != minute {
            w.previous = if w.minute == minute - 1 { w.current } else { 0 };
            w.current = 0;
            w.minute = minute;
        }
        w.current = w.current.saturating_add(1);
        w.current + (f64::from(w.previous) * (1.0 - into)).round() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn a_ticket_is_accepted_for_its_unit_only_and_not_when_forged_or_old() {
        let secrets = Secrets::from_secret("s");
        let now = at("2026-11-30 10:00:00.000");
        let ticket = secrets.issue_ticket("unit-a", now);
        let later = at("2026-11-30 10:00:30.000");
        let checked = secrets.check_ticket(&ticket, "unit-a", later).unwrap();
        assert_eq!(checked.issued_at, now);
        assert_eq!(
            secrets
                .check_ticket(&ticket, "unit-b", later)
                .unwrap_err()
                .kind(),
            Kind::InvalidTicket
        );
        let other = Secrets::from_secret("t");
        assert!(other.check_ticket(&ticket, "unit-a", later).is_err());
        let mut forged = ticket.clone();
        forged.pop();
        forged.push(if ticket.ends_with('A') { 'B' } else { 'A' });
        assert!(secrets.check_ticket(&forged, "unit-a", later).is_err());
        assert_eq!(
            secrets
                .check_ticket(&ticket, "unit-a", at("2026-11-30 22:00:01.000"))
                .unwrap_err()
                .kind(),
            Kind::TicketExpired
        );
        assert_ne!(
            secrets.issue_ticket("unit-a", now),
            ticket,
            "each page load gets its own ticket"
        );
    }

    #[test]
    fn address_hashes_are_keyed_and_change_each_day() {
        let secrets = Secrets::from_secret("s");
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let a = secrets.address_hash("203.0.113.7", day);
        assert_eq!(a.len(), 16);
        assert_eq!(a, secrets.address_hash("203.0.113.7", day));
        assert_ne!(a, secrets.address_hash("203.0.113.8", day));
        assert_ne!(
            a,
            secrets.address_hash("203.0.113.7", day.succ_opt().unwrap())
        );
        assert_ne!(
            a,
            Secrets::from_secret("t").address_hash("203.0.113.7", day)
        );
    }

    #[test]
    fn windows_count_the_last_minute() {
        let w = Windows::new();
        for i in 1..=5 {
            assert_eq!(w.hit("a", at("2026-11-30 10:00:10.000")), i);
        }
        assert_eq!(w.hit("b", at("2026-11-30 10:00:10.000")), 1);
        // Half-way through the next minute, half of the previous minute's five still count.
        assert_eq!(w.hit("a", at("2026-11-30 10:01:30.000")), 1 + 3);
        assert_eq!(w.hit("a", at("2026-11-30 10:05:00.000")), 1);
    }
}
