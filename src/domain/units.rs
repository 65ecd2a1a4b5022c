//! Units and their services: creating, changing (a time-zone change recounts the unit's
//! tallies; a move is checked against cycles) and closing them.

use serde::{Deserialize, Serialize};
use validator::Validate;

use super::logos::Logo;
use super::{rules, unit_code};
use crate::db::queries::{self, Service, Unit};
use crate::db::{DbConn, write_tx};
use crate::error::{AppError, Kind};
use crate::instrument::Registry;

/// Body of `POST /units`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitRequest {
    /// Stable code.
    #[validate(custom(function = "rules::code"))]
    pub code: String,
    /// Name.
    #[validate(custom(function = "rules::name"))]
    pub name: String,
    /// IANA time zone.
    #[validate(custom(function = "rules::timezone"))]
    pub timezone: String,
    /// Parent unit code.
    #[serde(default)]
    #[validate(custom(function = "rules::code"))]
    pub parent: Option<String>,
    /// Allow an open survey link.
    #[serde(default)]
    pub open_link: bool,
    /// Publish its results (a public page and an embeddable badge).
    #[serde(default)]
    pub public_results: bool,
}

/// Creates a unit (shared by the API and the command line).
pub fn create_unit(
    conn: &mut DbConn,
    body: &CreateUnitRequest,
    now: chrono::NaiveDateTime,
) -> Result<Unit, AppError> {
    body.validate()?;
    // Unit codes are lower case: `DUKCAPIL` and `dukcapil` are one unit.
    let code = body.code.to_ascii_lowercase();
    let parent = match &body.parent {
        Some(parent) => Some(
            queries::find_unit(conn, parent)?
                .ok_or_else(|| AppError::field("parent", format!("unknown unit `{parent}`")))?
                .code,
        ),
        None => None,
    };
    if queries::find_unit(conn, &code)?.is_some() {
        return Err(AppError::new(
            Kind::UnitExists,
            format!("unit `{code}` already exists"),
        ));
    }
    let unit = Unit {
        code,
        name: body.name.trim().to_owned(),
        timezone: body.timezone.clone(),
        parent_code: parent,
        open_link: body.open_link,
        active: true,
        created_at: now,
        public_results: body.public_results,
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
    };
    queries::insert_unit(conn, &unit)?;
    Ok(unit)
}

/// Body of `PATCH /units/{unit}`.
#[derive(Debug, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnitRequest {
    /// New name.
    #[validate(custom(function = "rules::name"))]
    pub name: Option<String>,
    /// New IANA time zone: the unit's responses are counted again on their new local days.
    #[validate(custom(function = "rules::timezone"))]
    pub timezone: Option<String>,
    /// New parent; `null` makes it a top unit.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
    /// Allow an open survey link.
    pub open_link: Option<bool>,
    /// Whether the unit takes responses.
    pub active: Option<bool>,
    /// Publish its results.
    pub public_results: Option<bool>,
    /// Street address for the report's letterhead; an empty text clears it.
    #[validate(length(max = 300, message = "must be at most 300 characters"))]
    pub address: Option<String>,
    /// City, for the letterhead and the place-and-date line; an empty text clears it.
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    pub city: Option<String>,
    /// The unit head's name, printed under the signature; an empty text clears it.
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub head_name: Option<String>,
    /// The unit head's NIP: 18 digits, spaces allowed between groups; an empty text clears it.
    #[validate(custom(function = "nip"))]
    pub head_id: Option<String>,
    /// The authority above the unit in its letterhead, such as "PEMERINTAH KOTA BANDUNG" or
    /// "KEMENTERIAN HUKUM\nKANTOR WILAYAH JAWA BARAT" (at most three lines); when empty the
    /// nearest unit above with one lends its own. An empty text clears it.
    #[validate(custom(function = "authority_rule"))]
    pub authority: Option<String>,
    /// Telephone for the letterhead, such as "(022) 4234567"; an empty text clears it.
    #[validate(custom(function = "phone_rule"))]
    pub phone: Option<String>,
    /// E-mail address for the letterhead; an empty text clears it.
    #[validate(custom(function = "email_rule"))]
    pub email: Option<String>,
    /// Website for the letterhead, such as "disdukcapil.bandung.go.id"; an empty text clears it.
    #[validate(custom(function = "website_rule"))]
    pub website: Option<String>,
    /// The head's rank (pangkat/golongan), such as "Pembina Tingkat I (IV/b)"; an empty text
    /// clears it.
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    pub head_rank: Option<String>,
    /// The head's title as they sign, such as "Plt. Kepala Dinas Kependudukan dan Pencatatan
    /// Sipil"; "Kepala" and the unit's name when empty. An empty text clears it.
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub head_title: Option<String>,
    /// Service hours by day, such as `{"mon": "08:00-16:00", ..., "sat": "08:00-12:00"}`; days
    /// left out are closed; `{}` clears them (the unit above's hours, else Monday to Saturday
    /// 07:00-17:00). A kiosk tablet silent in them is late.
    #[schema(value_type = Option<Object>)]
    pub service_hours: Option<std::collections::BTreeMap<String, String>>,
}

impl UpdateUnitRequest {
    /// The fields only an administrator may change: where the unit sits in the tree, its
    /// time zone, whether it takes responses and what it publishes. A unit's manager changes
    /// its name and its report settings.
    pub fn structural_fields(&self) -> Vec<&'static str> {
        [
            ("timezone", self.timezone.is_some()),
            ("parent", self.parent.is_some()),
            ("open_link", self.open_link.is_some()),
            ("active", self.active.is_some()),
            ("public_results", self.public_results.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, given)| given.then_some(field))
        .collect()
    }
}

/// A NIP (Nomor Induk Pegawai): 18 digits, written with or without spaces between its groups.
fn nip(value: &str) -> Result<(), validator::ValidationError> {
    let digits: String = value.chars().filter(|c| *c != ' ').collect();
    (digits.is_empty() || (digits.len() == 18 && digits.bytes().all(|b| b.is_ascii_digit())))
        .then_some(())
        .ok_or_else(|| rules::problem("must be a NIP of 18 digits"))
}

/// A letterhead's authority: at most three lines of at most 100 characters.
fn authority_rule(value: &str) -> Result<(), validator::ValidationError> {
    let lines: Vec<&str> = value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > 3 || lines.iter().any(|l| l.chars().count() > 100) {
        return Err(rules::problem(
            "must be at most 3 lines of at most 100 characters",
        ));
    }
    rules::text(value)
}

/// A telephone number as letterheads print it: digits, spaces and + - ( ) / . , only.
fn phone_rule(value: &str) -> Result<(), validator::ValidationError> {
    let allowed = |c: char| c.is_ascii_digit() || " +-()/.,".contains(c);
    (value.chars().count() <= 60 && value.chars().all(allowed))
        .then_some(())
        .ok_or_else(|| rules::problem("must be a telephone number such as (022) 4234567"))
}

/// An e-mail address, or nothing.
fn email_rule(value: &str) -> Result<(), validator::ValidationError> {
    let value = value.trim();
    (value.is_empty() || (value.len() <= 200 && validator::ValidateEmail::validate_email(&value)))
        .then_some(())
        .ok_or_else(|| rules::problem("must be an e-mail address such as dinas@bandung.go.id"))
}

/// A website: a host name or an http(s) address, with no spaces.
fn website_rule(value: &str) -> Result<(), validator::ValidationError> {
    let value = value.trim();
    let host = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .unwrap_or(value);
    let fine = value.is_empty()
        || (value.len() <= 200
            && host.contains('.')
            && !host.starts_with('.')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~/:%?=&#+".contains(c)));
    fine.then_some(())
        .ok_or_else(|| rules::problem("must be a website such as disdukcapil.bandung.go.id"))
}

/// A settings text as stored: trimmed, and none when empty.
fn setting(value: String) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Changes a unit (shared by the API and the command line), in one transaction: a new time
/// zone recounts its tallies; a new parent is checked against cycles under the tree lock.
pub fn update_unit(
    conn: &mut DbConn,
    registry: &Registry,
    code: &str,
    body: UpdateUnitRequest,
) -> Result<Unit, AppError> {
    body.validate()?;
    let hours = match &body.service_hours {
        None => None,
        Some(given) if given.is_empty() => Some(None),
        Some(given) => Some(Some(
            super::hours::ServiceHours::parse(given).map_err(AppError::invalid)?,
        )),
    };
    write_tx(conn, |conn| {
        if body.parent.is_some() {
            queries::lock_tree(conn)?;
        }
        let mut unit = queries::find_unit(conn, code)?
            .ok_or_else(|| AppError::not_found(format!("unknown unit `{code}`")))?;
        if body.parent.is_some() || body.timezone.is_some() {
            // No response is added above the unit while its place or its days change.
            crate::tallies::tree::lock(conn, &unit.code)?;
        }
        let left = unit.parent_code.clone();
        if let Some(name) = body.name {
            unit.name = name.trim().to_owned();
        }
        let mut moved = false;
        if let Some(tz) = body.timezone {
            moved = tz != unit.timezone;
            unit.timezone = tz;
        }
        if let Some(parent) = body.parent {
            let parent = match parent {
                None => None,
                Some(p) => {
                    let all = queries::list_units(conn)?;
                    let found = queries::find_unit(conn, &p)?
                        .ok_or_else(|| AppError::field("parent", format!("unknown unit `{p}`")))?;
                    if queries::subtree(&all, &unit.code)
                        .iter()
                        .any(|u| u.code == found.code)
                    {
                        return Err(AppError::field(
                            "parent",
                            "a unit cannot be placed under itself or its own descendant",
                        ));
                    }
                    Some(found.code)
                }
            };
            unit.parent_code = parent;
        }
        if let Some(open) = body.open_link {
            unit.open_link = open;
        }
        if let Some(active) = body.active {
            unit.active = active;
        }
        if let Some(public) = body.public_results {
            unit.public_results = public;
        }
        for (given, stored) in [
            (body.address, &mut unit.address),
            (body.city, &mut unit.city),
            (body.head_name, &mut unit.head_name),
            (body.phone, &mut unit.phone),
            (body.email, &mut unit.email),
            (body.website, &mut unit.website),
            (body.head_rank, &mut unit.head_rank),
            (body.head_title, &mut unit.head_title),
        ] {
            if let Some(value) = given {
                *stored = setting(value);
            }
        }
        if let Some(authority) = body.authority {
            // One line per line, each trimmed; blank lines dropped.
            let lines: Vec<&str> = authority
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            unit.authority = setting(lines.join("\n"));
        }
        if let Some(hours) = hours {
            unit.service_hours = hours
                .map(|h| serde_json::to_string(&h.to_map()).expect("a map of strings is JSON"));
        }
        if let Some(nip) = body.head_id {
            unit.head_id = setting(nip.replace(' ', ""));
        }
        queries::update_unit(conn, &unit)?;
        if moved {
            // Its responses now fall on other local days: count them again, and so the
            // tallies of the units above it.
            crate::tallies::rebuild_in_tx(conn, registry, Some(&unit.code))?;
        }
        if unit.parent_code != left {
            // Its responses and its descendants' leave the units above it and join those
            // above its new place.
            for side in [&left, &unit.parent_code].into_iter().flatten() {
                crate::tallies::tree::recount_from(conn, side)?;
            }
        }
        Ok(unit)
    })
}

/// Distinguishes an absent field from an explicit null.
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Body of `POST /units/{unit}/services`.
#[derive(Debug, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceRequest {
    /// Code, unique within the unit.
    #[validate(custom(function = "rules::code"))]
    pub code: String,
    /// Name.
    #[validate(custom(function = "rules::name"))]
    pub name: String,
}

/// Creates a service of a unit (shared by the API and the command line).
pub fn create_service(
    conn: &mut DbConn,
    unit: &str,
    body: &CreateServiceRequest,
    now: chrono::NaiveDateTime,
) -> Result<Service, AppError> {
    body.validate()?;
    let unit = &unit_code(conn, unit)?;
    if queries::find_service(conn, unit, &body.code)?.is_some() {
        return Err(AppError::new(
            Kind::ServiceExists,
            format!("service `{}` of unit {unit} already exists", body.code),
        ));
    }
    let service = Service {
        unit_code: unit.to_owned(),
        code: body.code.clone(),
        name: body.name.trim().to_owned(),
        active: true,
        created_at: now,
    };
    queries::insert_service(conn, &service)?;
    Ok(service)
}

/// Body of `PATCH /units/{unit}/services/{service}`.
#[derive(Debug, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceRequest {
    /// New name.
    #[validate(custom(function = "rules::name"))]
    pub name: Option<String>,
    /// Whether the service takes responses.
    pub active: Option<bool>,
}

/// Changes a service's name or whether it takes responses.
pub fn update_service(
    conn: &mut DbConn,
    unit: &str,
    code: &str,
    body: UpdateServiceRequest,
) -> Result<Service, AppError> {
    body.validate()?;
    let unit = &unit_code(conn, unit)?;
    let mut service = queries::find_service(conn, unit, code)?
        .ok_or_else(|| AppError::not_found(format!("unknown service `{code}` of unit {unit}")))?;
    if let Some(name) = body.name {
        service.name = name.trim().to_owned();
    }
    if let Some(active) = body.active {
        service.active = active;
    }
    queries::update_service(conn, &service)?;
    Ok(service)
}

/// Sets a unit's logo, replacing any before; returns the one it replaced.
pub fn set_logo(
    conn: &mut DbConn,
    unit: &str,
    logo: &Logo,
    now: chrono::NaiveDateTime,
) -> Result<Option<Logo>, AppError> {
    use crate::db::schema::unit_logos;
    use diesel::prelude::*;
    write_tx(conn, |conn| {
        let was = logo_of(conn, unit)?.map(|(content_type, bytes)| Logo::new(content_type, bytes));
        diesel::delete(unit_logos::table.find(unit)).execute(conn)?;
        diesel::insert_into(unit_logos::table)
            .values((
                unit_logos::unit_code.eq(unit),
                unit_logos::content_type.eq(&logo.content_type),
                unit_logos::bytes.eq(&logo.bytes),
                unit_logos::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(was)
    })
}

/// A unit's logo, if it has one: its content type and bytes.
pub fn logo_of(conn: &mut DbConn, unit: &str) -> Result<Option<(String, Vec<u8>)>, AppError> {
    use crate::db::schema::unit_logos;
    use diesel::prelude::*;
    let row: Option<(String, Vec<u8>)> = unit_logos::table
        .find(unit)
        .select((unit_logos::content_type, unit_logos::bytes))
        .first(conn)
        .optional()?;
    Ok(row)
}
