//! Taking in a submission: checking it against the instrument and the units, deciding who may
//! send it, and storing it exactly once per `submission_id`.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::db::queries::{self, ResponseRow, Stored};
use crate::db::{DbConn, Source};
use crate::directory::Directory;
use crate::domain::rules;
use crate::engine::Answers;
use crate::error::{AppError, Kind, broken_rules};
use crate::instrument::{Instrument, ProfileKind, Registry};
use crate::quality::{self, FlagRules};
use crate::tallies;
use crate::tokens::{self, TokenSettings};

/// Longest suggestion accepted, in characters.
pub const MAX_SUGGESTION: u64 = 2000;

/// The channels a response can come through.
pub const CHANNELS: [&str; 4] = ["kiosk", "qr", "web", "paper"];

/// Farthest a device's clock may be from the server's, in milliseconds (a year).
const MAX_CLOCK_OFFSET_MS: i64 = 366 * 24 * 3_600_000;

/// A submission as clients send it (the contract's shape). Its own fields are checked by their
/// rules here; the answers and profile against the instrument they name ([`Checker::prepare`]).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SubmissionRequest {
    /// Client-generated UUID; sending it again never counts twice.
    #[validate(custom(function = "rules::uuid"))]
    pub submission_id: String,
    /// Unit code.
    pub unit: String,
    /// Service code of the unit.
    #[serde(default)]
    pub service: Option<String>,
    /// Instrument key, such as `skm-2017`.
    pub instrument: String,
    /// kiosk, qr, web or paper.
    #[validate(custom(function = "known_channel"))]
    pub channel: String,
    /// Item code to answer; null or absent is unanswered.
    #[schema(value_type = Object)]
    #[serde(deserialize_with = "unique_keys::answers")]
    pub answers: BTreeMap<String, Value>,
    /// Respondent profile; every field optional.
    #[serde(default, deserialize_with = "unique_keys::profile")]
    #[schema(value_type = Option<Object>)]
    pub profile: Option<BTreeMap<String, Value>>,
    /// Free-text suggestion, at most 2,000 characters.
    #[serde(default)]
    #[validate(
        length(max = MAX_SUGGESTION, message = "must be at most 2000 characters"),
        custom(function = "rules::text")
    )]
    pub suggestion: Option<String>,
    /// Receipt token.
    #[serde(default)]
    pub token: Option<String>,
    /// The client's clock (RFC 3339) when the respondent finished, kept to measure skew only.
    #[serde(default)]
    #[validate(custom(function = "rules::rfc3339"))]
    pub client_time: Option<String>,
    /// The client's clock (RFC 3339) when the respondent started; with `client_time` it tells
    /// how long the survey took.
    #[serde(default)]
    #[validate(custom(function = "rules::rfc3339"))]
    pub started_at: Option<String>,
    /// The device's clock minus the server's, in milliseconds, as measured at its last sync.
    #[serde(default)]
    #[validate(range(
        min = -MAX_CLOCK_OFFSET_MS,
        max = MAX_CLOCK_OFFSET_MS,
        message = "must be within a year"
    ))]
    pub clock_offset_ms: Option<i64>,
    /// A stable id the collecting device chose for itself (a kiosk tablet); 1 to 64 letters,
    /// digits, '-' or '_'.
    #[serde(default)]
    #[validate(custom(function = "rules::device_id"))]
    pub device_id: Option<String>,
    /// The form ticket of the survey page the respondent answered (`/u/{unit}`, `/s/{token}`);
    /// required through an open link, spent by the response.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// One of [`CHANNELS`].
fn known_channel(value: &str) -> Result<(), validator::ValidationError> {
    rules::one_of(value, &CHANNELS)
}

/// JSON objects whose keys must each come once: `{"U1": 4, "U1": 1}` is refused, not read as
/// its last answer.
mod unique_keys {
    use std::collections::BTreeMap;
    use std::fmt;

    use serde::Deserializer;
    use serde::de::{Error, MapAccess, Visitor};
    use serde_json::Value;

    struct Unique(&'static str);

    impl<'de> Visitor<'de> for Unique {
        type Value = BTreeMap<String, Value>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "an object of {}", self.0)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, Value>()? {
                if out.contains_key(&key) {
                    return Err(A::Error::custom(format!(
                        "duplicate field `{}.{key}`: each key may come once",
                        self.0
                    )));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    pub fn answers<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Value>, D::Error> {
        d.deserialize_map(Unique("answers"))
    }

    pub fn profile<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BTreeMap<String, Value>>, D::Error> {
        struct OrNull;
        impl<'de> Visitor<'de> for OrNull {
            type Value = Option<BTreeMap<String, Value>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object or null")
            }
            fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(Unique("profile")).map(Some)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Unique("profile").visit_map(map).map(Some)
            }
        }
        d.deserialize_option(OrNull)
    }
}

/// The answer to a submission.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubmissionResponse {
    /// The submission id.
    pub submission_id: String,
    /// `created` or `duplicate`.
    pub status: String,
}

/// A submission that passed the checks that need no database.
struct Checked {
    answers: Answers,
    profile: Option<BTreeMap<String, Value>>,
    client_time: Option<NaiveDateTime>,
    started_at: Option<NaiveDateTime>,
    instrument_version: u32,
}

fn check(registry: &Registry, req: &SubmissionRequest) -> Result<Checked, AppError> {
    let mut fields = broken_rules(req);
    // Checked by their rules above; read here.
    let (client_time, started_at) = (
        rules::utc(req.client_time.as_deref()),
        rules::utc(req.started_at.as_deref()),
    );
    let Some(instrument) = registry.get(&req.instrument) else {
        fields.insert(
            "instrument".to_owned(),
            format!("unknown instrument `{}`", req.instrument),
        );
        return Err(AppError::invalid(fields));
    };
    let answers = check_answers(instrument, &req.answers, &mut fields);
    if let Some(profile) = &req.profile {
        check_profile(instrument, profile, &mut fields);
    }
    if !fields.is_empty() {
        return Err(AppError::invalid(fields));
    }
    Ok(Checked {
        answers,
        profile: req.profile.clone(),
        client_time,
        started_at,
        instrument_version: instrument.version,
    })
}

fn check_answers(
    instrument: &Instrument,
    given: &BTreeMap<String, Value>,
    fields: &mut BTreeMap<String, String>,
) -> Answers {
    let mut values = vec![None; instrument.items.len()];
    let range = format!(
        "must be a whole number between {} and {}",
        instrument.scale_min, instrument.scale_max
    );
    for (code, value) in given {
        let at = format!("answers.{code}");
        let Some(index) = instrument.item_index(code) else {
            fields.insert(at, format!("unknown item for {}", instrument.key));
            continue;
        };
        match value {
            Value::Null => {}
            Value::Number(n) => match n.as_i64() {
                Some(v) if (instrument.scale_min..=instrument.scale_max).contains(&v) => {
                    values[index] = Some(v)
                }
                _ => {
                    fields.insert(at, range.clone());
                }
            },
            _ => {
                fields.insert(at, range.clone());
            }
        }
    }
    if values.iter().all(Option::is_none) && !fields.keys().any(|k| k.starts_with("answers.")) {
        fields.insert(
            "answers".to_owned(),
            "at least one item must be answered".to_owned(),
        );
    }
    Answers(values)
}

fn check_profile(
    instrument: &Instrument,
    profile: &BTreeMap<String, Value>,
    fields: &mut BTreeMap<String, String>,
) {
    for (key, value) in profile {
        let at = format!("profile.{key}");
        let Some(field) = instrument.profile_field(key) else {
            fields.insert(at, "unknown profile field".to_owned());
            continue;
        };
        if value.is_null() {
            continue;
        }
        match &field.kind {
            ProfileKind::Choice { choices } => {
                if !value
                    .as_str()
                    .is_some_and(|v| choices.iter().any(|c| c.code == v))
                {
                    let codes: Vec<&str> = choices.iter().map(|c| c.code.as_str()).collect();
                    fields.insert(at, format!("must be one of {}", codes.join(", ")));
                }
            }
            ProfileKind::Integer { min, max, .. } => {
                if !value.as_i64().is_some_and(|v| (*min..=*max).contains(&v)) {
                    fields.insert(
                        at,
                        format!("must be a whole number between {min} and {max}"),
                    );
                }
            }
        }
    }
}

/// The canonical content of a submission, hashed to tell a retry from a conflicting reuse.
fn content_hash(req: &SubmissionRequest, answers: &Answers) -> String {
    let canonical = serde_json::json!({
        "unit": req.unit, "service": req.service, "instrument": req.instrument, "channel": req.channel,
        "answers": answers.0, "profile": req.profile, "suggestion": req.suggestion, "client_time": req.client_time,
        "started_at": req.started_at, "device_id": req.device_id,
    });
    crate::auth::sha256_hex(&canonical.to_string())
}

/// Stores a batch of checked submissions in one durable transaction (group commit) and returns
/// each one's outcome in order; a refused one (a receipt already spent, a reused id) is refused
/// alone. If the transaction itself fails, nothing of the batch is stored and the error is
/// returned for all. A submission that lost a race with another instance's transaction (on
/// PostgreSQL two can both find an id unused) is stored again on its own, up to three times:
/// then it sees the winner's row and is a repeat or a conflict.
pub fn store_batch(
    conn: &mut DbConn,
    rules: &FlagRules,
    batch: &[(Prepared, NaiveDateTime)],
) -> Result<Vec<Result<bool, AppError>>, AppError> {
    // Ids are rarely seen twice (a retry after a lost answer), so the batch is first stored
    // without looking them up; should any turn out stored already, that attempt is rolled back
    // and the batch stored again with the look-up.
    let attempt = crate::db::write_tx(conn, |conn| store_in_tx(conn, rules, batch, false));
    let attempt = match attempt {
        Err(e) if e.is(Kind::SeenBefore) => {
            crate::db::write_tx(conn, |conn| store_in_tx(conn, rules, batch, true))
        }
        other => other,
    };
    let mut results = match attempt {
        Ok(results) => results,
        // A race lost by the batch as a whole: each submission then goes on its own.
        Err(e) if e.is(Kind::Conflict) => vec![Err(e); batch.len()],
        // A database that cannot be reached fails every submission alike.
        Err(e) if e.is(Kind::DbUnavailable) || batch.len() == 1 => return Err(e),
        // One row the database refused fails the batch's transaction: each submission then
        // goes on its own, so only that row fails and no other submission fails with it.
        Err(e) => {
            tracing::warn!(error = %e, rows = batch.len(), "a batch failed; storing its rows one by one");
            batch
                .iter()
                .map(|item| {
                    crate::db::write_tx(conn, |conn| {
                        store_in_tx(conn, rules, std::slice::from_ref(item), true)
                    })
                    .and_then(|mut r| r.pop().expect("one result a submission"))
                })
                .collect()
        }
    };
    for (result, item) in results.iter_mut().zip(batch) {
        let mut attempt = 0;
        while matches!(result, Err(e) if e.is(Kind::Conflict)) && attempt < 3 {
            attempt += 1;
            let once = std::slice::from_ref(item);
            *result = crate::db::write_tx(conn, |conn| store_in_tx(conn, rules, once, true))
                .and_then(|mut r| r.pop().expect("one result a submission"));
        }
    }
    Ok(results)
}

/// The writes of a batch, inside the transaction the caller holds. Statements are few and do
/// not grow with a busy device: with `look_up`, one look-up of the batch's ids; one of each
/// device's recent history (for the quality flags, which also count the batch's own earlier
/// responses), the rows (one statement for the whole batch on PostgreSQL), and one merge of
/// the tallies. A submission with a receipt is stored in a savepoint of its own, its row and
/// the receipt's spending together or not at all. Without `look_up`, a row found stored
/// already ends the batch with [`Kind::SeenBefore`] (the caller rolls back and stores the batch
/// again with the look-up).
fn store_in_tx(
    conn: &mut DbConn,
    rules: &FlagRules,
    batch: &[(Prepared, NaiveDateTime)],
    look_up: bool,
) -> Result<Vec<Result<bool, AppError>>, AppError> {
    let seen_before = || {
        AppError::new(
            Kind::SeenBefore,
            "a submission of the batch was stored before",
        )
    };
    let mut stored = if look_up {
        let ids: Vec<&str> = batch
            .iter()
            .map(|(p, _)| p.row.submission_id.as_str())
            .collect();
        queries::content_hashes(conn, &ids)?
    } else {
        Default::default()
    };
    let mut histories = quality::Histories::default();
    let mut pending = tallies::Pending::default();
    let mut results: Vec<Option<Result<bool, AppError>>> = vec![None; batch.len()];
    // Rows without a receipt, inserted together at the end, and their places in the batch.
    let (mut fresh, mut fresh_at) = (Vec::new(), Vec::new());
    for (i, (prepared, now)) in batch.iter().enumerate() {
        let row = &prepared.row;
        if let Some(hash) = stored.get(&row.submission_id) {
            let repeat = *hash == row.content_hash;
            results[i] = Some(outcome(if repeat {
                Stored::Repeat
            } else {
                Stored::Conflict
            }));
            continue;
        }
        let candidate = quality::Candidate {
            server_started: prepared.ticket.as_ref().map(|t| t.issued_at),
            force_rate: prepared.rate,
            device: row.device_id.as_deref(),
            started_at: row.started_at,
            client_time: row.client_time,
            received_at: row.received_at,
            answers: &row.answers,
            profile: row.profile.as_deref(),
            suggestion: row.suggestion.as_deref(),
        };
        let row = ResponseRow {
            flags: histories.flags(conn, rules, &candidate)?,
            ..row.clone()
        };
        // What the response spends, and the refusal when another response spent it first.
        let spend = match (&prepared.accepted, &prepared.ticket) {
            (Some(accepted), _) => Some((accepted.spend_key.as_str(), tokens::Spent::Receipt)),
            (None, Some(ticket)) if prepared.spend_ticket => {
                Some((ticket.spend_key.as_str(), tokens::Spent::FormTicket))
            }
            _ => None,
        };
        match spend {
            None => {
                stored.insert(row.submission_id.clone(), row.content_hash.clone());
                fresh.push(row);
                fresh_at.push(i);
            }
            Some((spend_key, kind)) => {
                // The row and the spending together, or neither.
                let spent =
                    crate::db::savepoint(conn, |conn| {
                        match queries::insert_new_responses(conn, std::slice::from_ref(&row))?[..] {
                            [true] => {
                                tokens::spend(conn, spend_key, &row.submission_id, *now, kind)
                                    .map(|()| true)
                            }
                            _ if !look_up => Err(seen_before()),
                            _ => Ok(false),
                        }
                    });
                match spent {
                    Ok(inserted) => {
                        results[i] = Some(if inserted {
                            stored.insert(row.submission_id.clone(), row.content_hash.clone());
                            pending.add(&prepared.entry, &row.flags);
                            Ok(true)
                        } else {
                            Err(lost_race())
                        });
                    }
                    // The database itself failed, or the batch must be stored again with the
                    // look-up: give up the whole batch.
                    Err(e) if e.status().is_server_error() || e.is(Kind::SeenBefore) => {
                        return Err(e);
                    }
                    Err(e) => results[i] = Some(Err(e)),
                }
            }
        }
    }
    let inserted = queries::insert_new_responses(conn, &fresh)?;
    if !look_up && inserted.iter().any(|new| !new) {
        return Err(seen_before());
    }
    for ((i, row), inserted) in fresh_at.into_iter().zip(&fresh).zip(inserted) {
        results[i] = Some(if inserted {
            pending.add(&batch[i].0.entry, &row.flags);
            Ok(true)
        } else {
            Err(lost_race())
        });
    }
    pending.flush(conn)?;
    Ok(results
        .into_iter()
        .map(|r| r.expect("every submission has an outcome"))
        .collect())
}

/// Another transaction stored the same id first; storing again sees its row.
fn lost_race() -> AppError {
    AppError::new(
        Kind::Conflict,
        "another transaction stored this submission at the same time",
    )
}

/// Whether a stored response was new (`true`) or a repeat of one already stored (`false`); a
/// reused id with other content is a 409.
pub fn outcome(stored: Stored) -> Result<bool, AppError> {
    match stored {
        Stored::New => Ok(true),
        Stored::Repeat => Ok(false),
        Stored::Conflict => Err(AppError::new(
            Kind::SubmissionIdConflict,
            "this submission_id was already used for a submission with different content",
        )),
    }
}

/// A submission that passed every check, as the row to store and the receipt it spends.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The row (without quality flags).
    pub row: ResponseRow,
    /// The receipt token it spends, if any.
    pub accepted: Option<tokens::Accepted>,
    /// The form ticket of its page, if it carried a valid one.
    pub ticket: Option<crate::abuse::Ticket>,
    /// Whether the response spends its ticket (an open-link response does).
    pub spend_ticket: bool,
    /// Whether it came faster than its client address or kiosk key may send (flag `rate`).
    pub rate: bool,
    /// What it adds to the stored tallies.
    pub entry: tallies::Entry,
}

/// What checking a submission needs besides the database: the directory of keys, units and
/// services, the instruments, and the receipt-token settings.
#[derive(Clone, Copy)]
pub struct Checker<'a> {
    /// Keys, units and services.
    pub directory: &'a Directory,
    /// The instruments.
    pub registry: &'a Registry,
    /// How receipt tokens are checked.
    pub tokens: &'a TokenSettings,
    /// The keys that check form tickets; `None` where no survey page is involved (imports).
    pub secrets: Option<&'a crate::abuse::Secrets>,
    /// The keyed hash of the client's address, for a submission without a key.
    pub address: Option<&'a str>,
}

impl Checker<'_> {
    /// Checks a submission against the instrument, the unit and service, and the caller's
    /// rights, and builds its row, received at `received_at` (a paper questionnaire's own
    /// date; otherwise `now`).
    pub fn prepare(
        &self,
        conn: &mut dyn Source,
        caller: Option<&Principal>,
        req: &SubmissionRequest,
        received_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Result<Prepared, AppError> {
        let Checker {
            directory,
            registry,
            tokens: token_settings,
            secrets,
            address,
        } = *self;
        let checked = check(registry, req)?;
        let unit = directory
            .unit(conn, &req.unit)?
            .ok_or_else(|| AppError::field("unit", format!("unknown unit `{}`", req.unit)))?;
        if !unit.active {
            return Err(AppError::field(
                "unit",
                "this unit no longer takes responses",
            ));
        }
        let accepted = authorize(conn, directory, token_settings, caller, req, &unit, now)?;
        let ticket = match (&req.ticket, secrets) {
            (Some(ticket), Some(secrets)) => Some(secrets.check_ticket(ticket, &unit.code, now)?),
            _ => None,
        };
        // Through an open link, only the form of a survey page loaded from this server counts,
        // each form once.
        let spend_ticket = caller.is_none() && req.token.is_none();
        if spend_ticket && ticket.is_none() {
            return Err(AppError::field_of(
                Kind::TicketRequired,
                "ticket",
                "a response through an open link needs the form ticket of the survey page; open the page again",
            ));
        }
        // A receipt names the service; the respondent need not.
        let service = match (
            &req.service,
            accepted.as_ref().and_then(|a| a.claims.service.clone()),
        ) {
            (Some(given), Some(on_receipt)) if *given != on_receipt => {
                return Err(AppError::field(
                    "service",
                    format!("the receipt is for service `{on_receipt}`"),
                ));
            }
            (Some(given), _) => Some(given.clone()),
            (None, on_receipt) => on_receipt,
        };
        if let Some(service) = &service {
            match directory.service(conn, &unit.code, service)? {
                Some(s) if s.active => {}
                Some(_) => {
                    return Err(AppError::field(
                        "service",
                        "this service no longer takes responses",
                    ));
                }
                None => {
                    return Err(AppError::field(
                        "service",
                        format!("unknown service `{service}` of unit {}", unit.code),
                    ));
                }
            }
        }
        let instrument = registry.get(&req.instrument).expect("checked");
        let answers_json: BTreeMap<&str, i64> = instrument
            .items
            .iter()
            .zip(&checked.answers.0)
            .filter_map(|(item, v)| v.map(|v| (item.code.as_str(), v)))
            .collect();
        let row = ResponseRow {
            submission_id: req.submission_id.to_ascii_lowercase(),
            content_hash: content_hash(req, &checked.answers),
            instrument: req.instrument.clone(),
            instrument_version: i32::try_from(checked.instrument_version).unwrap_or(i32::MAX),
            unit_code: unit.code.clone(),
            service_code: service,
            channel: req.channel.clone(),
            answers: serde_json::to_string(&answers_json).expect("map serializes"),
            profile: checked
                .profile
                .map(|p| serde_json::to_string(&p).expect("map serializes")),
            suggestion: req.suggestion.clone(),
            received_at,
            client_time: checked.client_time,
            flags: String::new(),
            key_id: caller.map(|p| p.key_id.clone()),
            started_at: checked.started_at,
            clock_offset_ms: req.clock_offset_ms,
            // Without a key, the client's (hashed) address stands for its device, whatever it
            // claims; a tablet names itself; otherwise a kiosk key stands for its device.
            device_id: match caller {
                None => address.map(|address| format!("addr:{address}")),
                Some(p) => req
                    .device_id
                    .clone()
                    .or_else(|| (p.role == Role::Kiosk).then(|| format!("key:{}", p.key_id))),
            },
        };
        let tz = crate::period::parse_timezone(&unit.timezone)
            .ok_or_else(|| AppError::internal(format!("unit {} has a bad time zone", unit.code)))?;
        let entry = tallies::Entry::with_answers(instrument, tz, &row, &checked.answers)?;
        Ok(Prepared {
            row,
            accepted,
            ticket,
            spend_ticket,
            rate: false,
            entry,
        })
    }
}

/// Who may submit: a receipt token (anyone holding the receipt), an admin, a kiosk of the
/// unit or one of its parents, a counter of the unit entering paper questionnaires, or anyone
/// at all for a unit with an open link.
fn authorize(
    conn: &mut dyn Source,
    directory: &Directory,
    token_settings: &TokenSettings,
    caller: Option<&Principal>,
    req: &SubmissionRequest,
    unit: &queries::Unit,
    now: NaiveDateTime,
) -> Result<Option<tokens::Accepted>, AppError> {
    // The credential decides the channel: a receipt is `qr`, a kiosk key `kiosk`, a counter's
    // paper questionnaires `paper`, an open link `web`; only an admin may say otherwise.
    let credential = match (&req.token, caller.map(|p| p.role)) {
        (Some(_), _) => Some(("qr", "a receipt token")),
        (None, Some(Role::Kiosk)) => Some(("kiosk", "a kiosk key")),
        (None, Some(Role::Counter)) => Some(("paper", "a counter key")),
        (None, Some(Role::Manager)) => Some(("paper", "a unit head's account")),
        (None, None) if unit.open_link => Some(("web", "an open link")),
        _ => None,
    };
    if let Some((channel, credential)) = credential
        && req.channel != channel
    {
        return Err(AppError::field(
            "channel",
            format!(
                "responses through {credential} come through channel `{channel}`, not `{}`",
                req.channel
            ),
        ));
    }
    if let Some(token) = &req.token {
        let tz = crate::period::parse_timezone(&unit.timezone)
            .ok_or_else(|| AppError::internal(format!("unit {} has a bad time zone", unit.code)))?;
        let today = chrono::TimeZone::from_utc_datetime(&tz, &now).date_naive();
        return tokens::accept(conn.conn()?, token_settings, token, &unit.code, today, now)
            .map(Some);
    }
    match caller {
        Some(p) if p.role == Role::Admin => Ok(None),
        Some(p) if matches!(p.role, Role::Kiosk | Role::Counter | Role::Manager) => {
            if p.covers_by(&unit.code, |code| directory.parent(conn, code))? {
                Ok(None)
            } else {
                Err(AppError::forbidden(format!(
                    "this {} {} does not serve unit {}",
                    p.role,
                    p.kind(),
                    unit.code
                )))
            }
        }
        Some(p) => Err(AppError::forbidden(format!(
            "a {} key cannot submit responses",
            p.role
        ))),
        None if unit.open_link => Ok(None),
        None => Err(AppError::unauthorized(
            "this unit takes responses only from its kiosks and receipts; an Authorization key is required",
        )),
    }
}
