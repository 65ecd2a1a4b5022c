//! API keys and roles: making secrets, storing only their hashes, authenticating a key, and a
//! key's scope (its units and their descendants). What each role may do is `access.rs`.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::queries::{self, ApiKey};
use crate::db::{DbConn, Source};
use crate::directory::Directory;
use crate::error::{AppError, Kind};

/// What a key or a person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// A unit head (people only, never a key): what a viewer may, plus running their units.
    Manager,
    /// Reads reports of its units.
    Viewer,
    /// Issues receipt tokens for its units.
    Counter,
    /// Submits responses for its units.
    Kiosk,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Viewer => "viewer",
            Role::Counter => "counter",
            Role::Kiosk => "kiosk",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "viewer" => Ok(Role::Viewer),
            "counter" => Ok(Role::Counter),
            "kiosk" => Ok(Role::Kiosk),
            other => Err(format!(
                "`{other}` is not admin, manager, viewer, counter or kiosk"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 of a text.
pub fn sha256_hex(text: &str) -> String {
    sha256_hex_bytes(text.as_bytes())
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A new secret key: `kp_` and 256 random bits in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("kp_{}", hex(&bytes))
}

/// Where a caller's rights come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An API key, whose id is the principal's `key_id`.
    Key,
    /// A person signed in: their user name and the stored hash of their session's cookie.
    Session {
        /// The user name.
        username: String,
        /// The session's key.
        id_hash: String,
    },
    /// The command line, run by whoever holds the server's files.
    CommandLine,
}

/// The caller behind a valid, unrevoked key or a live session.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Key id; for a person `user:NAME`, for the command line `command-line`.
    pub key_id: String,
    /// Role.
    pub role: Role,
    /// Unit codes in scope.
    pub units: Vec<String>,
    /// When the key or session was last recorded as used.
    pub last_used_at: Option<NaiveDateTime>,
    /// A key, a person or the command line.
    pub origin: Origin,
}

impl Principal {
    /// Who this is, as the audit log names them: `user:NAME`, `key:ID` or `command-line`.
    pub fn actor(&self) -> String {
        match &self.origin {
            Origin::Key => format!("key:{}", self.key_id),
            Origin::Session { username, .. } => format!("user:{username}"),
            Origin::CommandLine => "command-line".to_owned(),
        }
    }

    /// What the caller is, for messages: a key or a person (`account`).
    pub fn kind(&self) -> &'static str {
        match self.origin {
            Origin::Session { .. } => "account",
            Origin::Key | Origin::CommandLine => "key",
        }
    }

    /// The operator at the console, who acts as an administrator.
    pub fn command_line() -> Principal {
        Principal {
            key_id: "command-line".into(),
            role: Role::Admin,
            units: Vec::new(),
            last_used_at: None,
            origin: Origin::CommandLine,
        }
    }

    /// Whether the key's last use should be written down again (at most once a minute, so
    /// reading does not turn every request into a write).
    pub fn use_is_stale(&self, now: NaiveDateTime) -> bool {
        self.last_used_at
            .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    }

    /// Whether `unit` is in this key's scope (one of its units or a descendant of one), climbing
    /// from `unit` to its ancestors with `parent`.
    pub fn covers_by(
        &self,
        unit: &str,
        mut parent: impl FnMut(&str) -> Result<Option<String>, AppError>,
    ) -> Result<bool, AppError> {
        let mut code = unit.to_owned();
        // A tree deeper than this is a loop, which the unit checks refuse anyway.
        for _ in 0..64 {
            if self.units.contains(&code) {
                return Ok(true);
            }
            match parent(&code)? {
                Some(up) => code = up,
                None => return Ok(false),
            }
        }
        Ok(false)
    }
}

/// A new key to create.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Role.
    pub role: Role,
    /// Unit codes in scope.
    pub units: Vec<String>,
    /// Who or what holds it.
    pub name: String,
}

/// Creates a key, returning its stored row and the secret, which is shown once and never stored.
pub fn create_key(
    conn: &mut DbConn,
    key: &NewKey,
    now: NaiveDateTime,
) -> Result<(ApiKey, String), AppError> {
    if key.role != Role::Admin && key.units.is_empty() {
        return Err(AppError::field(
            "units",
            format!("a {} key needs at least one unit", key.role),
        ));
    }
    for unit in &key.units {
        if queries::find_unit(conn, unit)?.is_none() {
            return Err(AppError::field("units", format!("unknown unit `{unit}`")));
        }
    }
    let secret = new_secret();
    let row = ApiKey {
        id: uuid::Uuid::new_v4().to_string(),
        key_hash: sha256_hex(&secret),
        role: key.role.as_str().to_owned(),
        units: serde_json::to_string(&key.units).expect("strings serialize"),
        name: key.name.clone(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    queries::insert_key(conn, &row)?;
    Ok((row, secret))
}

/// Resolves an `Authorization` header value to a principal: 401 when missing, unknown or revoked.
pub fn authenticate(
    conn: &mut dyn Source,
    directory: &Directory,
    header: Option<&str>,
) -> Result<Principal, AppError> {
    authenticate_submission(conn, directory, header, None)
}

/// How long after its key is revoked a retired kiosk tablet may still deliver the surveys it
/// completed before.
pub const RETIRED_GRACE_DAYS: i64 = 7;

/// When a survey was completed and when it reached the server, both UTC by the server's clock.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// Completed (the device's clock set right by its offset).
    pub completed: NaiveDateTime,
    /// Received.
    pub received: NaiveDateTime,
}

/// [`authenticate`] for a survey's `delivery`: a kiosk key revoked after the survey was
/// completed still delivers it for [`RETIRED_GRACE_DAYS`] days, so retiring a tablet does not
/// lose the queue it held.
pub fn authenticate_submission(
    conn: &mut dyn Source,
    directory: &Directory,
    header: Option<&str>,
    delivery: Option<Delivery>,
) -> Result<Principal, AppError> {
    let header =
        header.ok_or_else(|| AppError::unauthorized("an Authorization: Bearer key is required"))?;
    let secret = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::unauthorized("the Authorization header must be `Bearer KEY`"))?;
    let key = directory
        .key(conn, &sha256_hex(secret))?
        .ok_or_else(|| AppError::new(Kind::KeyUnknown, "unknown key"))?;
    if let Some(revoked) = key.revoked_at {
        let grace = delivery.is_some_and(|d| {
            key.role == Role::Kiosk.as_str()
                && d.completed < revoked
                && d.received - revoked < chrono::TimeDelta::days(RETIRED_GRACE_DAYS)
        });
        if !grace {
            return Err(AppError::new(Kind::KeyRevoked, "this key has been revoked"));
        }
    }
    let role = key.role.parse().map_err(AppError::internal)?;
    let units: Vec<String> = serde_json::from_str(&key.units).map_err(AppError::internal)?;
    Ok(Principal {
        key_id: key.id,
        role,
        units,
        last_used_at: key.last_used_at,
        origin: Origin::Key,
    })
}
