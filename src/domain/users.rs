//! People who sign in: administrators, unit heads (managers) and viewers, each with a user
//! name, a password kept only as an argon2id hash, a role and the units they work for. Keys
//! stay for devices and integrations; a person never needs one.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use super::rules;
use crate::db::{DbConn, queries};
use crate::error::{AppError, Kind};

/// The roles a person can have.
pub const ROLES: [&str; 3] = ["admin", "manager", "viewer"];

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Passwords too common to accept, whatever their length: the lists that password-guessing
/// tools try first, and their Indonesian favourites. Compared without regard to case.
const COMMON: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "1234567890a",
    "0123456789",
    "1111111111",
    "0000000000",
    "1234512345",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "asdfghjkl1",
    "zxcvbnm123",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "p@ssw0rd123",
    "iloveyou12",
    "admin12345",
    "admin123456",
    "administrator",
    "welcome123",
    "letmein123",
    "sunshine12",
    "princess12",
    "football12",
    "baseball12",
    "superman12",
    "abc1234567",
    "abcd123456",
    "abcdefghij",
    "indonesia1",
    "indonesia123",
    "indonesia2024",
    "indonesia2025",
    "indonesia2026",
    "jakarta123",
    "bismillah1",
    "bismillah123",
    "alhamdulillah",
    "sayangku123",
    "rahasia123",
    "katasandi",
    "katasandi123",
    "merdeka1945",
    "pancasila1",
    "garuda1234",
    "kepuasan123",
    "pelayanan1",
    "pelayanan123",
    "mpp12345678",
];

/// A new person, as the command line and (later) the administration pages send it.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3 to 64 letters, digits, '.', '_' or '-'; stored in lower case.
    #[validate(custom(function = "username"))]
    pub username: String,
    /// At least 10 characters, not a common password, not the user name.
    #[validate(custom(function = "password"))]
    pub password: String,
    /// admin, manager or viewer.
    #[validate(custom(function = "role"))]
    pub role: String,
    /// The units a manager or viewer works for (an admin has none).
    #[validate(custom(function = "rules::codes"))]
    pub units: Vec<String>,
}

/// A person as lists show them: never the hash.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    /// The user name.
    pub username: String,
    /// admin, manager or viewer.
    pub role: String,
    /// The units a manager or viewer works for.
    pub units: Vec<String>,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Password last set (UTC).
    pub password_changed_at: NaiveDateTime,
    /// Disabled (UTC), if so.
    pub disabled_at: Option<NaiveDateTime>,
}

impl UserView {
    fn of(user: queries::User) -> UserView {
        UserView {
            units: serde_json::from_str(&user.units).unwrap_or_default(),
            username: user.username,
            role: user.role,
            created_at: user.created_at,
            password_changed_at: user.password_changed_at,
            disabled_at: user.disabled_at,
        }
    }
}

fn username(value: &str) -> Result<(), ValidationError> {
    (value.len() >= 3 && rules::is_word(value, 64, b"._-"))
        .then_some(())
        .ok_or_else(|| rules::problem("must be 3 to 64 letters, digits, '.', '_' or '-'"))
}

fn password(value: &str) -> Result<(), ValidationError> {
    if value.chars().count() < MIN_PASSWORD {
        return Err(rules::problem("must be at least 10 characters"));
    }
    if value.chars().count() > 1024 {
        return Err(rules::problem("must be at most 1024 characters"));
    }
    if COMMON.iter().any(|c| c.eq_ignore_ascii_case(value)) {
        return Err(rules::problem(
            "is one of the most common passwords; choose another",
        ));
    }
    Ok(())
}

/// A password is never the user name, in any case.
fn not_the_name(username: &str, password: &str) -> Result<(), AppError> {
    if password.eq_ignore_ascii_case(username) {
        Err(AppError::field("password", "must not be the user name"))
    } else {
        Ok(())
    }
}

fn role(value: &str) -> Result<(), ValidationError> {
    rules::one_of(value, &ROLES)
}

/// The argon2id hash of a password (a PHC string with its own random salt).
fn hash(password: &str) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AppError::internal(e.to_string()))?
        .to_string())
}

/// Adds a person. 409 when the name is taken; 422 naming each bad field (a manager or viewer
/// without units, a unit that does not exist, an admin with units among them).
pub fn add(conn: &mut DbConn, mut new: NewUser, now: NaiveDateTime) -> Result<UserView, AppError> {
    new.username = new.username.trim().to_ascii_lowercase();
    new.validate()?;
    not_the_name(&new.username, &new.password)?;
    let mut units = Vec::with_capacity(new.units.len());
    for given in &new.units {
        let code = queries::find_unit(conn, given)?
            .map(|u| u.code)
            .ok_or_else(|| AppError::field("units", format!("unknown unit `{given}`")))?;
        units.push(code);
    }
    match (new.role.as_str(), units.is_empty()) {
        ("admin", false) => {
            return Err(AppError::field(
                "units",
                "an admin works for every unit; give none",
            ));
        }
        ("manager" | "viewer", true) => {
            return Err(AppError::field(
                "units",
                "a manager or viewer needs at least one unit",
            ));
        }
        _ => {}
    }
    if queries::find_user(conn, &new.username)?.is_some() {
        return Err(AppError::new(
            Kind::Conflict,
            format!("the user name `{}` is taken", new.username),
        ));
    }
    let user = queries::User {
        username: new.username,
        password_hash: hash(&new.password)?,
        role: new.role,
        units: serde_json::to_string(&units).map_err(AppError::internal)?,
        created_at: now,
        password_changed_at: now,
        disabled_at: None,
    };
    queries::insert_user(conn, &user)?;
    Ok(UserView::of(user))
}

/// Every person, by name.
pub fn list(conn: &mut DbConn) -> Result<Vec<UserView>, AppError> {
    Ok(queries::list_users(conn)?
        .into_iter()
        .map(UserView::of)
        .collect())
}

/// Disables a person: they cannot sign in from now on. 404 for an unknown name.
pub fn disable(conn: &mut DbConn, username: &str, now: NaiveDateTime) -> Result<(), AppError> {
    let name = username.trim().to_ascii_lowercase();
    if queries::disable_user(conn, &name, now)? {
        Ok(())
    } else {
        Err(AppError::not_found(format!("unknown user `{name}`")))
    }
}

/// Sets a person's password, under the same rules as a new one. 404 for an unknown name.
pub fn set_password(
    conn: &mut DbConn,
    username: &str,
    new_password: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let name = username.trim().to_ascii_lowercase();
    password(new_password).map_err(|e| {
        AppError::field(
            "password",
            e.message.map(|m| m.to_string()).unwrap_or_default(),
        )
    })?;
    not_the_name(&name, new_password)?;
    if queries::set_password_hash(conn, &name, &hash(new_password)?, now)? {
        Ok(())
    } else {
        Err(AppError::not_found(format!("unknown user `{name}`")))
    }
}

/// The person these credentials belong to, if they are right and the person is not disabled.
/// An unknown name costs the same hashing work as a known one, so the answer's timing does
/// not tell which names exist.
pub fn verify(
    conn: &mut DbConn,
    username: &str,
    given: &str,
) -> Result<Option<UserView>, AppError> {
    let name = username.trim().to_ascii_lowercase();
    let user = queries::find_user(conn, &name)?;
    let stored = match &user {
        Some(u) => u.password_hash.clone(),
        None => decoy().to_owned(),
    };
    let parsed = PasswordHash::new(&stored).map_err(|e| AppError::internal(e.to_string()))?;
    let right = Argon2::default()
        .verify_password(given.as_bytes(), &parsed)
        .is_ok();
    Ok(user
        .filter(|u| right && u.disabled_at.is_none())
        .map(UserView::of))
}

/// A hash no password matches, made once, to spend on names that do not exist.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash(&format!("{:x}", rand::random::<u128>())).expect("hashing a random password")
    })
}
