//! People who sign in: administrators, unit heads (managers) and viewers, each with a user
//! name, a password kept only as an argon2id hash, a role and the units they work for. Keys
//! stay for devices and integrations; a person never needs one.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use super::passwords::hash;
use super::rules;
use crate::auth::{Principal, Role};
use crate::db::{DbConn, queries, write_tx};
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

/// A new person, as the command line and the administration pages send it.
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3 to 64 letters, digits, '.', '_' or '-'; stored in lower case.
    #[validate(custom(function = "username"))]
    pub username: String,
    /// At least 10 characters, not a common password, not the user name.
    #[validate(custom(function = "valid_password"))]
    pub password: String,
    /// admin, manager or viewer.
    #[validate(custom(function = "valid_role"))]
    pub role: String,
    /// The units a manager or viewer works for (an admin has none).
    #[validate(custom(function = "rules::codes"))]
    pub units: Vec<String>,
}

/// A person as lists show them: never the hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// The user name.
    pub username: String,
    /// admin, manager or viewer.
    pub role: String,
    /// The units a manager or viewer works for.
    pub units: Vec<String>,
    /// Created (UTC).
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// Password last set (UTC).
    #[schema(value_type = String)]
    pub password_changed_at: NaiveDateTime,
    /// Disabled (UTC), if so.
    #[schema(value_type = Option<String>)]
    pub disabled_at: Option<NaiveDateTime>,
    /// Whether two-step sign-in (TOTP) is on.
    pub totp: bool,
}

impl UserView {
    /// The view of a stored person.
    pub fn of(user: queries::User) -> UserView {
        UserView {
            units: serde_json::from_str(&user.units).unwrap_or_default(),
            username: user.username,
            role: user.role,
            created_at: user.created_at,
            password_changed_at: user.password_changed_at,
            disabled_at: user.disabled_at,
            totp: user.totp_confirmed_at.is_some(),
        }
    }
}

fn username(value: &str) -> Result<(), ValidationError> {
    (value.len() >= 3 && rules::is_word(value, 64, b"._-"))
        .then_some(())
        .ok_or_else(|| rules::problem("must be 3 to 64 letters, digits, '.', '_' or '-'"))
}

fn valid_password(value: &str) -> Result<(), ValidationError> {
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

fn valid_role(value: &str) -> Result<(), ValidationError> {
    rules::one_of(value, &ROLES)
}

/// The stored codes of the units named, in the order given; 422 naming `units` for one that
/// does not exist.
fn stored_units(conn: &mut DbConn, given: &[String]) -> Result<Vec<String>, AppError> {
    given
        .iter()
        .map(|g| {
            queries::find_unit(conn, g)?
                .map(|u| u.code)
                .ok_or_else(|| AppError::field("units", format!("unknown unit `{g}`")))
        })
        .collect()
}

/// A role and units that fit together: an admin has none, a manager or viewer at least one.
fn fits(role: &str, units: &[String]) -> Result<(), AppError> {
    match (role, units.is_empty()) {
        ("admin", false) => Err(AppError::field(
            "units",
            "an admin works for every unit; give none",
        )),
        ("manager" | "viewer", true) => Err(AppError::field(
            "units",
            "a manager or viewer needs at least one unit",
        )),
        _ => Ok(()),
    }
}

/// Whether `actor` may give a person this role over these units (or change a person who has
/// them): an administrator anyone; a unit's manager only viewers of the units they manage.
fn may_manage(
    conn: &mut DbConn,
    actor: &Principal,
    role: &str,
    units: &[String],
) -> Result<(), AppError> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    crate::access::role(actor, crate::access::Action::Manage)?;
    if role != "viewer" {
        return Err(AppError::forbidden(
            "a unit's manager manages viewers only; ask an administrator",
        ));
    }
    for unit in units {
        crate::access::unit(conn, actor, crate::access::Action::Manage, unit)?;
    }
    Ok(())
}

/// Adds a person, as `actor` (audited). 409 when the name is taken; 422 naming each bad field
/// (a manager or viewer without units, a unit that does not exist, an admin with units); 403
/// when `actor` may not give that role over those units.
pub fn add(
    conn: &mut DbConn,
    actor: &Principal,
    mut new: NewUser,
    now: NaiveDateTime,
) -> Result<UserView, AppError> {
    new.username = new.username.trim().to_ascii_lowercase();
    new.validate()?;
    not_the_name(&new.username, &new.password)?;
    let password_hash = hash(&new.password)?;
    write_tx(conn, |conn| {
        let units = stored_units(conn, &new.units)?;
        fits(&new.role, &units)?;
        may_manage(conn, actor, &new.role, &units)?;
        if queries::find_user(conn, &new.username)?.is_some() {
            return Err(AppError::new(
                Kind::Conflict,
                format!("the user name `{}` is taken", new.username),
            ));
        }
        let user = queries::User {
            username: new.username.clone(),
            password_hash,
            role: new.role.clone(),
            units: serde_json::to_string(&units).map_err(AppError::internal)?,
            created_at: now,
            password_changed_at: now,
            disabled_at: None,
            totp_secret: None,
            totp_confirmed_at: None,
            totp_last_step: None,
        };
        queries::insert_user(conn, &user)?;
        let view = UserView::of(user);
        record(conn, actor, "user.add", None, &view, now)?;
        Ok(view)
    })
}

/// Every person, by name; for a manager, the people of the units they manage.
pub fn list(conn: &mut DbConn, actor: &Principal) -> Result<Vec<UserView>, AppError> {
    let all = queries::list_units(conn)?;
    let index = crate::access::UnitIndex::of(&all);
    Ok(queries::list_users(conn)?
        .into_iter()
        .map(UserView::of)
        .filter(|u| {
            actor.role == Role::Admin
                || (!u.units.is_empty()
                    && u.units
                        .iter()
                        .all(|unit| crate::access::sees(actor, &index, unit)))
        })
        .collect())
}

/// Body of `PATCH /api/v1/users/{username}`: what changes; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// admin, manager or viewer.
    #[validate(custom(function = "valid_role"))]
    pub role: Option<String>,
    /// The units a manager or viewer works for.
    #[validate(custom(function = "rules::codes"))]
    pub units: Option<Vec<String>>,
    /// True disables the person (their sessions end at once); false enables them again.
    pub disabled: Option<bool>,
    /// A new password (the person's sessions end).
    #[validate(custom(function = "valid_password"))]
    pub password: Option<String>,
    /// False resets two-step sign-in (for a person who lost their phone); a person turns it
    /// on themselves.
    pub totp: Option<bool>,
}

/// Changes a person, as `actor` (audited): role, units, disabled, password. Disabling or a
/// new password ends the person's sessions at once. 404 for an unknown name.
pub fn change(
    conn: &mut DbConn,
    actor: &Principal,
    username: &str,
    change: UserChange,
    now: NaiveDateTime,
) -> Result<UserView, AppError> {
    change.validate()?;
    let name = username.trim().to_ascii_lowercase();
    // A person who disabled themselves would lock themselves out, perhaps the last
    // administrator with them: another person does it.
    if change.disabled == Some(true)
        && matches!(&actor.origin, crate::auth::Origin::Session { username, .. } if *username == name)
    {
        return Err(AppError::field(
            "disabled",
            "a person cannot disable themselves; another administrator or manager does",
        ));
    }
    if let Some(password) = &change.password {
        not_the_name(&name, password)?;
    }
    let password_hash = change.password.as_deref().map(hash).transpose()?;
    write_tx(conn, |conn| {
        let mut user = queries::find_user(conn, &name)?
            .ok_or_else(|| AppError::not_found(format!("unknown user `{name}`")))?;
        let before = UserView::of(user.clone());
        may_manage(conn, actor, &before.role, &before.units)?;
        let units = match &change.units {
            Some(given) => stored_units(conn, given)?,
            None => before.units.clone(),
        };
        let role = change.role.clone().unwrap_or_else(|| before.role.clone());
        fits(&role, &units)?;
        may_manage(conn, actor, &role, &units)?;
        user.role = role;
        user.units = serde_json::to_string(&units).map_err(AppError::internal)?;
        match change.disabled {
            Some(true) if user.disabled_at.is_none() => user.disabled_at = Some(now),
            Some(false) => user.disabled_at = None,
            _ => {}
        }
        if let Some(hash) = password_hash {
            user.password_hash = hash;
            user.password_changed_at = now;
        }
        match change.totp {
            Some(true) => {
                return Err(AppError::field(
                    "totp",
                    "a person turns two-step sign-in on themselves, at /admin",
                ));
            }
            Some(false) => {
                user.totp_secret = None;
                user.totp_confirmed_at = None;
                user.totp_last_step = None;
            }
            None => {}
        }
        queries::update_user(conn, &user)?;
        if user.disabled_at.is_some() || change.password.is_some() {
            super::sessions::end_all(conn, &name, now)?;
        }
        let after = UserView::of(user);
        let action = match (change.password.is_some(), change.disabled, change.totp) {
            (true, ..) => "user.password",
            (false, Some(true), _) => "user.disable",
            (false, _, Some(false)) => "user.totp_reset",
            _ => "user.update",
        };
        record(conn, actor, action, Some(&before), &after, now)?;
        Ok(after)
    })
}

/// Records a change of a person in the audit log (the views hold no hash or secret).
pub(crate) fn record(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    before: Option<&UserView>,
    after: &UserView,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let what = super::audit::What {
        action,
        target: &after.username,
        unit: after.units.first().map(String::as_str),
    };
    super::audit::record(conn, actor, what, before.map(|b| b as _), Some(after), now)
}

/// The person of a sign-in name (any case, trimmed), as stored, whether or not disabled.
pub fn stored(conn: &mut DbConn, username: &str) -> Result<Option<queries::User>, AppError> {
    queries::find_user(conn, &username.trim().to_ascii_lowercase())
}

/// The person a sign-in lets in: the one stored, when the password was right and they are not
/// disabled.
pub fn admitted(stored: Option<queries::User>, right: bool) -> Option<UserView> {
    stored
        .filter(|u| right && u.disabled_at.is_none())
        .map(UserView::of)
}

/// The person these credentials belong to, if they are right and the person is not disabled
/// (the command line; sign-in over HTTP checks the password on `passwords::Checker`, without
/// holding a connection). An unknown name costs the same hashing work as a known one.
pub fn verify(
    conn: &mut DbConn,
    username: &str,
    given: &str,
) -> Result<Option<UserView>, AppError> {
    let user = stored(conn, username)?;
    let right = super::passwords::matches(user.as_ref().map(|u| u.password_hash.as_str()), given)?;
    Ok(admitted(user, right))
}
