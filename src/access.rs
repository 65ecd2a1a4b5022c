//! Who may do what: the one access policy, asked by every route and by collection.
//!
//! Roles: an admin may do everything, on every unit. A viewer reads the reports, populations
//! and follow-up plans of the units in its scope (a unit named on the key or the person, or a
//! descendant of one) and plans their follow-ups. A manager (a unit head; people only) may do
//! what a viewer may and runs their units: services, kiosk and counter keys, receipt sheets,
//! populations, paper questionnaires, the kiosk fleet, the unit's report settings and the
//! viewers who work for them. A counter issues receipt tokens and QR sheets and enters
//! paper questionnaires for its units. A kiosk submits responses for its units. Every key may
//! list the services of its units (kiosks show them to respondents).
//!
//! **403 against 404**, in this order: no valid key is 401; a role that may never take the
//! action, whatever the unit, is 403; a unit that does not exist is 404; a unit that exists
//! outside the key's scope is 403. Unit codes are not secret (they are printed on receipts and
//! public pages), so answering 404 for an unknown unit hides nothing worth hiding, and a key
//! learns only that a unit it may not touch exists.

use std::collections::HashMap;

use crate::auth::{Principal, Role};
use crate::db::{DbConn, queries};
use crate::error::AppError;

/// What a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create units and move them, change anything of any unit, make admin keys and admins.
    /// Admins only.
    Administer,
    /// Run a unit: its services, kiosk and counter keys, populations, kiosk fleet, report
    /// settings and viewers.
    Manage,
    /// Read a unit's reports, exports, charts, populations and follow-up plans, and plan its
    /// follow-ups.
    ReadUnit,
    /// List a unit's services.
    ListServices,
    /// Issue receipt tokens and QR sheets for a unit.
    IssueTokens,
    /// Submit responses for a unit, live or from paper.
    Submit,
    /// Import a file of paper questionnaires (each row is then a submission).
    ImportPaper,
    /// Report a kiosk tablet's heartbeat.
    ReportDevice,
}

impl Action {
    /// The roles besides admin that may take this action on the units in their scope.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::Administer => &[],
            Action::Manage => &[Role::Manager],
            Action::ReadUnit => &[Role::Viewer, Role::Manager],
            Action::ListServices => &[Role::Viewer, Role::Manager, Role::Counter, Role::Kiosk],
            Action::IssueTokens => &[Role::Counter, Role::Manager],
            Action::Submit => &[Role::Counter, Role::Kiosk, Role::Manager],
            Action::ImportPaper => &[Role::Counter, Role::Manager],
            Action::ReportDevice => &[Role::Kiosk],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Action::Administer => "administer units, services, keys and populations",
            Action::Manage => "manage",
            Action::ReadUnit => "read the reports of",
            Action::ListServices => "list the services of",
            Action::IssueTokens => "issue receipt tokens for",
            Action::Submit => "submit responses for",
            Action::ImportPaper => "import paper questionnaires for",
            Action::ReportDevice => "report a kiosk tablet of",
        }
    }
}

/// Whether `caller`'s role may take `action` on some unit; 403 otherwise. A tablet's
/// heartbeat comes from a device's key, never from a person, whatever their role.
pub fn role(caller: &Principal, action: Action) -> Result<(), AppError> {
    if action == Action::ReportDevice && caller.origin != crate::auth::Origin::Key {
        Err(AppError::forbidden(
            "a kiosk tablet reports with its key, not with a person's session",
        ))
    } else if caller.role == Role::Admin || action.roles().contains(&caller.role) {
        Ok(())
    } else if action == Action::Administer {
        Err(AppError::forbidden(format!(
            "this needs an administrator, not a {} {}",
            caller.role,
            caller.kind()
        )))
    } else {
        Err(AppError::forbidden(format!(
            "a {} {} cannot {} a unit",
            caller.role,
            caller.kind(),
            action.describe()
        )))
    }
}

/// Whether `caller` may take `action` on `unit`, a stored unit code; `parent` climbs the tree
/// (from the database, or from the directory's cache). 403 when it may not.
pub fn scoped(
    caller: &Principal,
    action: Action,
    unit: &str,
    parent: impl FnMut(&str) -> Result<Option<String>, AppError>,
) -> Result<(), AppError> {
    role(caller, action)?;
    within(caller, action, unit, parent)
}

/// The scope half of [`scoped`], for a caller whose role is already allowed.
fn within(
    caller: &Principal,
    action: Action,
    unit: &str,
    parent: impl FnMut(&str) -> Result<Option<String>, AppError>,
) -> Result<(), AppError> {
    if caller.role == Role::Admin || caller.covers_by(unit, parent)? {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "this {} {} cannot {} unit {unit}",
            caller.role,
            caller.kind(),
            action.describe()
        )))
    }
}

/// The whole rule for a unit named in a request: the role (403), the unit (404), the scope
/// (403). Returns the unit's stored code.
pub fn unit(
    conn: &mut DbConn,
    caller: &Principal,
    action: Action,
    given: &str,
) -> Result<String, AppError> {
    role(caller, action)?;
    let unit = queries::unit_code(conn, given)?;
    if caller.role != Role::Admin {
        // Up the tree one unit a query: a few, however many units the tree holds.
        within(caller, action, &unit, |code| {
            Ok(queries::find_unit(conn, code)?.and_then(|u| u.parent_code))
        })?;
    }
    Ok(unit)
}

/// Every unit by code, for asking of many units whether a caller sees each: a look-up a step up
/// the tree, where a scan of the list would make a national list (53,000 units) quadratic.
pub struct UnitIndex<'a>(HashMap<&'a str, Option<&'a str>>);

impl<'a> UnitIndex<'a> {
    /// The index of `all`, each unit with its parent's code.
    pub fn of(all: &'a [queries::Unit]) -> UnitIndex<'a> {
        UnitIndex(
            all.iter()
                .map(|u| (u.code.as_str(), u.parent_code.as_deref()))
                .collect(),
        )
    }
}

/// Whether `caller` sees `unit` in lists: admins every unit, others the units in their scope
/// that exist.
pub fn sees(caller: &Principal, units: &UnitIndex, unit: &str) -> bool {
    caller.role == Role::Admin
        || (units.0.contains_key(unit)
            && caller
                .covers_by(unit, |code| {
                    Ok(units.0.get(code).copied().flatten().map(str::to_owned))
                })
                .unwrap_or(false))
}

/// Whether `caller` may see and revoke a key of `role` for `units`: an admin any key; anyone
/// else a key that is not an admin's whose every unit is theirs (revoking also needs
/// [`Action::Manage`]).
pub fn holds_key(caller: &Principal, index: &UnitIndex, role: Role, units: &[String]) -> bool {
    caller.role == Role::Admin
        || (role != Role::Admin
            && !units.is_empty()
            && units.iter().all(|u| sees(caller, index, u)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(role: Role, units: &[&str]) -> Principal {
        Principal {
            key_id: "k".into(),
            role,
            units: units.iter().map(|u| (*u).to_owned()).collect(),
            last_used_at: None,
            origin: crate::auth::Origin::Key,
        }
    }

    /// mpp > dukcapil; other stands alone.
    fn parent(code: &str) -> Result<Option<String>, AppError> {
        Ok((code == "dukcapil").then(|| "mpp".to_owned()))
    }

    #[test]
    fn each_role_takes_its_own_actions_on_its_units_and_their_descendants_only() {
        use Action::*;
        let cases: &[(Role, Action, &[bool; 2])] = &[
            // (role, action, [on dukcapil under its mpp, on the other unit])
            (Role::Admin, Administer, &[true, true]),
            (Role::Admin, Submit, &[true, true]),
            (Role::Viewer, ReadUnit, &[true, false]),
            (Role::Viewer, ListServices, &[true, false]),
            (Role::Viewer, IssueTokens, &[false, false]),
            (Role::Viewer, Submit, &[false, false]),
            (Role::Viewer, Administer, &[false, false]),
            (Role::Counter, IssueTokens, &[true, false]),
            (Role::Counter, Submit, &[true, false]),
            (Role::Counter, ReadUnit, &[false, false]),
            (Role::Kiosk, Submit, &[true, false]),
            (Role::Kiosk, ImportPaper, &[false, false]),
            (Role::Counter, ImportPaper, &[true, false]),
            (Role::Kiosk, ListServices, &[true, false]),
            (Role::Kiosk, IssueTokens, &[false, false]),
            (Role::Kiosk, ReadUnit, &[false, false]),
            (Role::Manager, Manage, &[true, false]),
            (Role::Manager, ReadUnit, &[true, false]),
            (Role::Manager, IssueTokens, &[true, false]),
            (Role::Manager, ImportPaper, &[true, false]),
            (Role::Manager, ReportDevice, &[false, false]),
            (Role::Manager, Administer, &[false, false]),
            (Role::Viewer, Manage, &[false, false]),
            (Role::Counter, Manage, &[false, false]),
        ];
        for (role, action, expected) in cases {
            let caller = key(*role, &["mpp"]);
            for (unit, allowed) in ["dukcapil", "other"].iter().zip(expected.iter()) {
                let got = scoped(&caller, *action, unit, parent);
                assert_eq!(got.is_ok(), *allowed, "{role} {action:?} {unit}: {got:?}");
                if let Err(e) = got {
                    assert_eq!(e.code(), "forbidden");
                }
            }
        }
    }

    fn unit(code: &str, parent: Option<&str>) -> queries::Unit {
        queries::Unit {
            code: code.into(),
            name: code.into(),
            timezone: "Asia/Jakarta".into(),
            parent_code: parent.map(str::to_owned),
            open_link: false,
            active: true,
            created_at: chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            public_results: false,
            address: None,
            city: None,
            head_name: None,
            head_id: None,
            authority: None,
            phone: None,
            email: None,
            website: None,
            head_rank: None,
            head_title: None,
            service_hours: None,
        }
    }

    #[test]
    fn a_list_shows_the_units_in_scope_that_exist_and_an_admin_every_unit() {
        // nasional > prov > kab > puskesmas; other stands alone.
        let all = [
            unit("nasional", None),
            unit("prov", Some("nasional")),
            unit("kab", Some("prov")),
            unit("puskesmas", Some("kab")),
            unit("other", None),
        ];
        let index = UnitIndex::of(&all);
        let shown = |caller: &Principal| -> Vec<&str> {
            all.iter()
                .map(|u| u.code.as_str())
                .chain(["ghost"])
                .filter(|code| sees(caller, &index, code))
                .collect()
        };
        assert_eq!(
            shown(&key(Role::Viewer, &["prov", "ghost"])),
            ["prov", "kab", "puskesmas"]
        );
        assert_eq!(shown(&key(Role::Viewer, &["puskesmas"])), ["puskesmas"]);
        assert_eq!(shown(&key(Role::Kiosk, &[])), Vec::<&str>::new());
        assert_eq!(
            shown(&key(Role::Admin, &[])),
            ["nasional", "prov", "kab", "puskesmas", "other", "ghost"]
        );
    }
}
