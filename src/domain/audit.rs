//! The audit log: every administrative change, made through the pages, the API or the command
//! line, written in the same transaction as the change, with who made it, what, on what, when,
//! and the record before and after. Secrets never enter it: fields that hold keys, passwords,
//! hashes or tokens are removed from both records before they are written.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use validator::Validate;

use super::rules;
use crate::auth::Principal;
use crate::db::schema::audit_log;
use crate::db::{DbConn, write_tx};
use crate::error::AppError;

/// Field names whose values are never written to the log, at any depth.
const SECRET_FIELDS: &[&str] = &[
    "secret",
    "password",
    "password_hash",
    "key_hash",
    "token",
    "csrf_token",
    "enrol_url",
    "enrol_qr_svg",
    "signing_secret",
];

/// Most entries one request lists.
pub const MAX_LIMIT: i64 = 500;

/// One entry as stored and listed.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    /// Entry id.
    pub id: String,
    /// When (UTC, without a zone suffix).
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    /// Who: `user:NAME`, `key:ID` or `command-line`.
    pub actor: String,
    /// What, such as `unit.update` or `key.create`.
    pub action: String,
    /// On what: a unit code, `unit/service`, a key id, a user name.
    pub target: String,
    /// The unit the change concerns, if one.
    pub unit_code: Option<String>,
    /// The record before, as JSON text without secrets.
    pub before: Option<String>,
    /// The record after, as JSON text without secrets.
    pub after: Option<String>,
}

/// What a change is, for [`record`] and [`change`].
#[derive(Debug, Clone, Copy)]
pub struct What<'a> {
    /// Such as `unit.update`.
    pub action: &'a str,
    /// On what.
    pub target: &'a str,
    /// The unit it concerns.
    pub unit: Option<&'a str>,
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, Validate)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only changes concerning this unit.
    #[validate(custom(function = "rules::code"))]
    pub unit: Option<String>,
    /// Only changes by this actor (`user:NAME`, `key:ID`, `command-line`).
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    pub actor: Option<String>,
    /// Only this action, or actions starting with it followed by a dot (`unit` matches
    /// `unit.create` and `unit.update`).
    #[validate(length(max = 60, message = "must be at most 60 characters"))]
    pub action: Option<String>,
    /// From this moment (RFC 3339).
    #[validate(custom(function = "rules::rfc3339"))]
    pub from: Option<String>,
    /// Before this moment (RFC 3339).
    #[validate(custom(function = "rules::rfc3339"))]
    pub to: Option<String>,
    /// At most this many, newest first (1 to 500; 100 when absent).
    #[validate(range(min = 1, max = 500, message = "must be 1 to 500"))]
    pub limit: Option<i64>,
}

/// A record as the log keeps it: JSON text with every secret field removed.
fn scrubbed(value: &impl Serialize) -> Result<String, AppError> {
    fn scrub(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|k, _| !SECRET_FIELDS.contains(&k.as_str()));
                map.values_mut().for_each(scrub);
            }
            Value::Array(items) => items.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(value).map_err(AppError::internal)?;
    scrub(&mut value);
    Ok(value.to_string())
}

/// Writes one entry.
pub fn record(
    conn: &mut DbConn,
    actor: &Principal,
    what: What<'_>,
    before: Option<&dyn erased::Record>,
    after: Option<&dyn erased::Record>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let entry = Entry {
        // Time-ordered: entries of one moment list in the order they were made.
        id: uuid::Uuid::now_v7().to_string(),
        at: now,
        actor: actor.actor(),
        action: what.action.to_owned(),
        target: what.target.to_owned(),
        unit_code: what.unit.map(str::to_owned),
        before: before.map(|b| b.json()).transpose()?,
        after: after.map(|a| a.json()).transpose()?,
    };
    diesel::insert_into(audit_log::table)
        .values(&entry)
        .execute(conn)?;
    Ok(())
}

/// Makes a change and records it in one transaction: `before` reads the record as it was (or
/// nothing, for a creation), `change` makes it and returns the record after.
pub fn change<B: Serialize, T: Serialize>(
    conn: &mut DbConn,
    actor: &Principal,
    what: What<'_>,
    now: NaiveDateTime,
    before: impl FnOnce(&mut DbConn) -> Result<Option<B>, AppError>,
    change: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    write_tx(conn, |conn| {
        let was = before(conn)?;
        let after = change(conn)?;
        record(
            conn,
            actor,
            what,
            was.as_ref().map(|b| b as &dyn erased::Record),
            Some(&after),
            now,
        )?;
        Ok(after)
    })
}

/// Entries matching `query`, newest first.
pub fn list(conn: &mut DbConn, query: &AuditQuery) -> Result<Vec<Entry>, AppError> {
    query.validate()?;
    let mut q = audit_log::table
        .select(Entry::as_select())
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(query.limit.unwrap_or(100).min(MAX_LIMIT))
        .into_boxed();
    if let Some(unit) = &query.unit {
        q = q.filter(audit_log::unit_code.eq(unit.to_ascii_lowercase()));
    }
    if let Some(actor) = &query.actor {
        q = q.filter(audit_log::actor.eq(actor.clone()));
    }
    if let Some(action) = &query.action {
        q = q.filter(
            audit_log::action
                .eq(action.clone())
                .or(audit_log::action.like(format!("{}.%", action.replace(['%', '_'], "")))),
        );
    }
    if let Some(from) = rules::utc(query.from.as_deref()) {
        q = q.filter(audit_log::at.ge(from));
    }
    if let Some(to) = rules::utc(query.to.as_deref()) {
        q = q.filter(audit_log::at.lt(to));
    }
    Ok(q.load(conn)?)
}

/// Records of any serializable type behind one trait object, so [`record`] takes a creation's
/// missing `before` and an update's two records alike.
pub mod erased {
    use crate::error::AppError;

    /// A record the log can write.
    pub trait Record {
        /// Its JSON text without secrets.
        fn json(&self) -> Result<String, AppError>;
    }

    impl<T: serde::Serialize> Record for T {
        fn json(&self) -> Result<String, AppError> {
            super::scrubbed(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_removed_at_any_depth_and_everything_else_kept() {
        let record = serde_json::json!({
            "id": "k1", "role": "kiosk", "secret": "kp_abc", "enrol_url": "http://x/kiosk#key=kp_abc",
            "nested": {"password": "hunter2hunter2", "name": "Ani", "list": [{"token": "t", "n": 1}]}
        });
        let text = scrubbed(&record).unwrap();
        assert!(!text.contains("kp_abc") && !text.contains("hunter2") && !text.contains("\"t\""));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["id"], "k1");
        assert_eq!(back["nested"]["name"], "Ani");
        assert_eq!(back["nested"]["list"][0]["n"], 1);
    }
}
