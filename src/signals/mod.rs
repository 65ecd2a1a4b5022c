//! Same-day signals: the webhooks administrators and managers register for a unit (with the
//! units below it) or, for an administrator, for every unit; the events that fire them
//! (`response.low`, `suggestion.new`, `kiosk.offline`, `unit.drop`); and the dispatcher thread
//! that records each delivery and posts it, signed with HMAC-SHA256, retrying with doubling
//! waits for 24 hours. A submission only hands a notice to the dispatcher's queue: it never
//! waits on a receiver, however slow or absent.
//!
//! Deliveries are rows (`webhook_deliveries`), one per event and webhook (a unique key makes a
//! second instance's copy a no-op), so a receiver that was down gets them later and
//! `GET /api/v1/webhooks/{id}/deliveries` shows what was sent. An attempt first moves the
//! row's next attempt a minute ahead, on the condition that nobody else did: with several
//! instances on one PostgreSQL, each delivery is attempted by one of them at a time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use validator::{Validate, ValidationError};

mod courier;

use crate::auth::{Principal, Role};
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{Db, DbConn, queries, write_tx};
use crate::domain::rules::problem;
use crate::error::AppError;
use crate::instrument::Registry;
use crate::quality::FlagRules;

/// The events a webhook may receive.
pub const EVENTS: [&str; 6] = [
    "response.low",
    "unit.drop",
    "kiosk.offline",
    "suggestion.new",
    "summary.daily",
    "summary.weekly",
];

/// The local hour summaries are sent at: the day before (or the week before, on Mondays).
const SUMMARY_HOUR: u32 = 7;

/// How often the dispatcher looks for deliveries that are due.
const POLL: Duration = Duration::from_millis(500);
/// How long the dispatcher gathers notices after the first of a batch.
const GATHER: Duration = Duration::from_millis(100);
/// How often kiosks and units are checked for `kiosk.offline` and `unit.drop`, by the
/// service's clock.
const CHECK_EVERY: TimeDelta = TimeDelta::minutes(1);
/// Each watched unit is looked at for `unit.drop` at least this often, besides right after
/// its own (or a unit below it's) responses.
const SWEEP_EVERY: TimeDelta = TimeDelta::hours(1);
/// The fewest units looked at a check besides those with new responses.
const SWEEP_AT_LEAST: u64 = 100;
/// Notices waiting for the dispatcher; past this, new ones are dropped (and counted in the log).
const QUEUE: usize = 10_000;
/// The most deliveries a list shows.
pub const MAX_LISTED: i64 = 100;
/// `unit.drop` looks at this many days and needs at least this many responses in them.
const DROP_DAYS: i64 = 7;
const DROP_MINIMUM: u64 = 30;

/// A webhook as registered.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
struct Row {
    id: String,
    url: String,
    events: String,
    secret: String,
    unit_code: Option<String>,
    threshold: i32,
    created_at: NaiveDateTime,
    created_by: String,
    active: bool,
}

/// A webhook as the API shows it: everything but its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    /// Its id.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// The unit it watches, with the units below it; `null` for every unit.
    pub unit: Option<String>,
    /// `response.low` fires below this IKM.
    pub threshold: i32,
    /// When it was registered (UTC).
    pub created_at: NaiveDateTime,
    /// Who registered it.
    pub created_by: String,
    /// False once removed.
    pub active: bool,
}

impl From<Row> for Webhook {
    fn from(r: Row) -> Webhook {
        Webhook {
            events: r.events.split(',').map(str::to_owned).collect(),
            id: r.id,
            url: r.url,
            unit: r.unit_code,
            threshold: r.threshold,
            created_at: r.created_at,
            created_by: r.created_by,
            active: r.active,
        }
    }
}

fn webhook_url(url: &str) -> Result<(), ValidationError> {
    if let Some(address) = url.strip_prefix("mailto:") {
        return address
            .parse::<lettre::Address>()
            .map(|_| ())
            .map_err(|_| problem("a mailto: address must hold one e-mail address"));
    }
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(char::is_whitespace)
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty());
    if ok {
        Ok(())
    } else {
        Err(problem(
            "must be an http:// or https:// address of at most 2,000 characters, or mailto: and an e-mail address",
        ))
    }
}

fn event_names(events: &[String]) -> Result<(), ValidationError> {
    match events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        Some(e) => Err(problem(format!(
            "`{e}` is not an event; use response.low, unit.drop, kiosk.offline, suggestion.new, summary.daily or summary.weekly"
        ))),
        None => Ok(()),
    }
}

/// A webhook to register.
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries go: an http:// or https:// address they are posted to, or `mailto:`
    /// and an e-mail address they are mailed to (through `KEPUASAN_SMTP_URL`).
    #[validate(custom(function = "webhook_url"))]
    pub url: String,
    /// The events it receives: response.low, unit.drop, kiosk.offline, suggestion.new,
    /// summary.daily, summary.weekly.
    #[validate(
        length(min = 1, max = 6, message = "name one to six events"),
        custom(function = "event_names")
    )]
    pub events: Vec<String>,
    /// The secret every posted body is signed with (16 to 200 characters; not for mailto:);
    /// never shown again.
    #[validate(length(min = 16, max = 200, message = "must be 16 to 200 characters"))]
    pub secret: Option<String>,
    /// The unit it watches, with the units below it; every unit when absent (administrators
    /// only).
    pub unit: Option<String>,
    /// `response.low` fires for a response whose own IKM is below this (25 to 100, default 50).
    #[validate(range(min = 25, max = 100, message = "must be 25 to 100"))]
    pub threshold: Option<i32>,
}

/// The rules of a new webhook that need neither the database nor the network: a mailed one
/// needs a mail server, a posted one its secret, and only an administrator watches every unit.
pub fn admissible(caller: &Principal, body: &NewWebhook, mail: bool) -> Result<(), AppError> {
    let mailed = body.url.starts_with("mailto:");
    if mailed && !mail {
        return Err(AppError::field(
            "url",
            "no mail server is set (KEPUASAN_SMTP_URL), so nothing can be mailed",
        ));
    }
    if !mailed && body.secret.is_none() {
        return Err(AppError::field(
            "secret",
            "a posted webhook needs a secret to sign its deliveries with",
        ));
    }
    if body.unit.is_none() && caller.role != Role::Admin {
        return Err(AppError::field(
            "unit",
            "name the unit the webhook watches; only an administrator watches every unit",
        ));
    }
    Ok(())
}

/// Registers a webhook; the caller may take `Manage` on its unit (checked by the caller of
/// this, as is its destination, `domain::destinations::check`), and only an administrator
/// registers one for every unit.
pub fn create(
    conn: &mut DbConn,
    caller: &Principal,
    body: &NewWebhook,
    mail: bool,
    now: NaiveDateTime,
) -> Result<Webhook, AppError> {
    admissible(caller, body, mail)?;
    let mut events: Vec<&str> = EVENTS
        .into_iter()
        .filter(|e| body.events.iter().any(|b| b == e))
        .collect();
    events.dedup();
    let row = Row {
        id: uuid::Uuid::now_v7().to_string(),
        url: body.url.clone(),
        events: events.join(","),
        secret: body.secret.clone().unwrap_or_default(),
        unit_code: body.unit.clone(),
        threshold: body.threshold.unwrap_or(50),
        created_at: now,
        created_by: caller.actor(),
        active: true,
    };
    diesel::insert_into(webhooks::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.into())
}

/// The webhooks a caller may see: an administrator all of them, a manager those of units it
/// manages.
pub fn list(conn: &mut DbConn, caller: &Principal) -> Result<Vec<Webhook>, AppError> {
    let rows: Vec<Row> = webhooks::table
        .select(Row::as_select())
        .order(webhooks::created_at.desc())
        .load(conn)?;
    let mut out = Vec::new();
    for row in rows {
        if visible(conn, caller, &row)? {
            out.push(row.into());
        }
    }
    Ok(out)
}

fn visible(conn: &mut DbConn, caller: &Principal, row: &Row) -> Result<bool, AppError> {
    Ok(match (&row.unit_code, caller.role) {
        (_, Role::Admin) => true,
        (None, _) => false,
        (Some(unit), _) => {
            crate::access::unit(conn, caller, crate::access::Action::Manage, unit).is_ok()
        }
    })
}

/// One webhook the caller may see, or 404.
pub fn find(conn: &mut DbConn, caller: &Principal, id: &str) -> Result<Webhook, AppError> {
    let row: Option<Row> = webhooks::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    match row {
        Some(row) if visible(conn, caller, &row)? => Ok(row.into()),
        _ => Err(AppError::not_found(format!("no webhook `{id}`"))),
    }
}

/// Removes a webhook: nothing more is sent to it; what was sent stays listed.
pub fn remove(conn: &mut DbConn, caller: &Principal, id: &str) -> Result<Webhook, AppError> {
    let was = find(conn, caller, id)?;
    write_tx(conn, |conn| {
        diesel::update(webhooks::table.find(id))
            .set(webhooks::active.eq(false))
            .execute(conn)?;
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::webhook_id.eq(id))
                .filter(webhook_deliveries::status.eq("pending")),
        )
        .set((
            webhook_deliveries::status.eq("failed"),
            webhook_deliveries::last_error.eq("the webhook was removed"),
        ))
        .execute(conn)?;
        Ok(())
    })?;
    Ok(Webhook {
        active: false,
        ..was
    })
}

/// One delivery as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: String,
    event: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
    body: String,
}

/// One delivery as listed. An administrator sees what the receiver answered and when the next
/// attempt is due; a manager sees only whether and when it was delivered, so the log cannot
/// tell a manager what answers at an address (which would make webhooks a port scanner).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// Its id, also sent as `X-Kepuasan-Delivery`.
    pub id: String,
    /// The event.
    pub event: String,
    /// pending (to be tried again), delivered or failed (given up after 24 hours).
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due (UTC), while pending; administrators only.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// The receiver's last HTTP status; administrators only.
    pub last_status: Option<i32>,
    /// Why the last attempt failed; administrators only.
    pub last_error: Option<String>,
    /// When the event happened (UTC).
    pub created_at: NaiveDateTime,
    /// When the receiver took it (UTC).
    pub delivered_at: Option<NaiveDateTime>,
    /// The body sent.
    pub body: String,
}

/// A webhook's deliveries, newest first; the receiver's answers for an administrator only.
pub fn deliveries(
    conn: &mut DbConn,
    caller: &Principal,
    id: &str,
) -> Result<Vec<Delivery>, AppError> {
    find(conn, caller, id)?;
    let rows: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(id))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(MAX_LISTED)
        .load(conn)?;
    let detail = caller.role == Role::Admin;
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            next_attempt_at: (detail && r.status == "pending").then_some(r.next_attempt_at),
            last_status: r.last_status.filter(|_| detail),
            last_error: r.last_error.filter(|_| detail),
            id: r.id,
            event: r.event,
            status: r.status,
            attempts: r.attempts,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
            body: r.body,
        })
        .collect())
}

/// A stored response, as the dispatcher is told of it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The submission's id.
    pub submission_id: String,
    /// Its unit.
    pub unit: String,
    /// Its service.
    pub service: Option<String>,
    /// Its channel.
    pub channel: String,
    /// Its answers, as stored (a JSON object of item codes to values).
    pub answers: String,
    /// Its suggestion.
    pub suggestion: Option<String>,
    /// When it was received (UTC).
    pub received_at: NaiveDateTime,
}

impl Stored {
    /// The response's own IKM: the mean of its answers times 25, as the index of one response
    /// with equal weights; `None` when it answered nothing.
    pub fn ikm(&self) -> Option<f64> {
        let answers: serde_json::Map<String, Value> = serde_json::from_str(&self.answers).ok()?;
        let values: Vec<f64> = answers.values().filter_map(Value::as_f64).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64 * 25.0)
    }
}

/// The handle submissions use: hands stored responses to the dispatcher without waiting.
pub struct Signals {
    queue: SyncSender<Stored>,
    pending: std::sync::Mutex<Option<Receiver<Stored>>>,
    started: AtomicBool,
    /// How many times a unit was looked at for `unit.drop`, since the start.
    looked: Arc<AtomicU64>,
}

impl Default for Signals {
    fn default() -> Signals {
        let (queue, pending) = std::sync::mpsc::sync_channel(QUEUE);
        Signals {
            queue,
            pending: std::sync::Mutex::new(Some(pending)),
            started: AtomicBool::new(false),
            looked: Arc::default(),
        }
    }
}

/// What the dispatcher works with.
pub struct Context {
    /// The database.
    pub db: Db,
    /// The instruments (for `unit.drop`'s reports).
    pub registry: Arc<Registry>,
    /// The flag rules reports apply.
    pub rules: FlagRules,
    /// Now (UTC), from the service's clock.
    pub now: Arc<dyn Fn() -> NaiveDateTime + Send + Sync>,
    /// The mail server and sender of e-mailed deliveries, when one is set.
    pub mail: Option<Mail>,
    /// The server's public address, for links in e-mails.
    pub public_url: String,
    /// The internal receivers the operator opened (`KEPUASAN_WEBHOOK_ALLOW`).
    pub allow: crate::domain::destinations::Allow,
}

/// Where e-mail goes out.
#[derive(Clone)]
pub struct Mail {
    /// `smtp://` or `smtps://`, with credentials when needed (lettre's URL form).
    pub url: String,
    /// The sender.
    pub from: String,
}

impl Signals {
    /// Tells the dispatcher of a stored response; never waits. Before the dispatcher runs
    /// (the command line) nothing is queued.
    pub fn stored(&self, response: Stored) {
        if !self.started.load(Ordering::Relaxed) {
            return;
        }
        match self.queue.try_send(response) {
            Ok(()) => {}
            Err(TrySendError::Full(r)) => tracing::warn!(
                submission = %r.submission_id,
                "the webhook queue is full; this response fires no webhook"
            ),
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// How many times a unit was looked at for `unit.drop` since the start (what a check
    /// costs, for the tests).
    pub fn units_looked(&self) -> u64 {
        self.looked.load(Ordering::Relaxed)
    }

    /// Starts the dispatcher thread (once).
    pub fn start(&self, context: Context) {
        let Some(pending) = self.pending.lock().expect("signals lock").take() else {
            return;
        };
        self.started.store(true, Ordering::Relaxed);
        let looked = self.looked.clone();
        std::thread::Builder::new()
            .name("kepuasan-webhooks".into())
            .spawn(move || Dispatcher::new(context, looked).run(&pending))
            .expect("the webhook thread starts");
    }
}

/// The body of a delivery, signed: `sha256=` and the hex HMAC-SHA256 of the body.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

struct Dispatcher {
    context: Context,
    courier: courier::Courier,
    checked: Option<NaiveDateTime>,
    /// Units with responses stored since the last check: `unit.drop` looks at them, and at
    /// the units above them, at the next one.
    touched: HashSet<String>,
    /// When each unit was last looked at for `unit.drop`.
    swept: HashMap<String, NaiveDateTime>,
    /// Counts the looks ([`Signals::units_looked`]).
    looked: Arc<AtomicU64>,
}

impl Dispatcher {
    fn new(context: Context, looked: Arc<AtomicU64>) -> Dispatcher {
        let courier = courier::Courier::new(
            context.db.clone(),
            context.now.clone(),
            context.mail.clone(),
            context.allow.clone(),
        );
        Dispatcher {
            context,
            courier,
            checked: None,
            touched: Default::default(),
            swept: HashMap::new(),
            looked,
        }
    }

    fn run(mut self, pending: &Receiver<Stored>) {
        loop {
            let mut batch = Vec::new();
            match pending.recv_timeout(POLL) {
                Ok(first) => {
                    // Under load, notices are gathered for a moment: the dispatcher then reads
                    // the database a few times a second, not once per submission, and never
                    // competes with the submissions' own writes for the write lock.
                    std::thread::sleep(GATHER);
                    batch.push(first);
                    batch.extend(pending.try_iter().take(QUEUE));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.touched.extend(batch.iter().map(|r| r.unit.clone()));
            if !batch.is_empty()
                && let Err(e) = self.on_responses(&batch)
            {
                tracing::warn!(error = %e, "could not record webhook deliveries");
            }
            let now = self.now();
            // A clock set back (tests) checks again too.
            if self
                .checked
                .is_none_or(|at| now - at >= CHECK_EVERY || now < at)
            {
                self.checked = Some(now);
                if let Err(e) = self.check() {
                    tracing::warn!(error = %e, "could not check kiosks and units for webhooks");
                }
            }
            if let Err(e) = self.courier.deliver_due() {
                tracing::warn!(error = %e, "could not deliver webhooks");
            }
        }
    }

    fn now(&self) -> NaiveDateTime {
        (self.context.now)()
    }

    /// The active webhooks receiving `event`.
    fn listening(conn: &mut DbConn, event: &str) -> Result<Vec<Row>, AppError> {
        let rows: Vec<Row> = webhooks::table
            .filter(webhooks::active.eq(true))
            .select(Row::as_select())
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter(|r| r.events.split(',').any(|e| e == event))
            .collect())
    }

    /// Records the deliveries stored responses fire.
    fn on_responses(&self, batch: &[Stored]) -> Result<(), AppError> {
        let now = self.now();
        let db = &self.context.db;
        // Read first; write only when some webhook is fired.
        let (low, suggestion) = db.read_blocking(|conn| {
            Ok((
                Self::listening(conn, "response.low")?,
                Self::listening(conn, "suggestion.new")?,
            ))
        })?;
        if low.is_empty() && suggestion.is_empty() {
            return Ok(());
        }
        let mut fired = Vec::new();
        db.read_blocking(|conn| {
            let mut lines = Lines::default();
            for r in batch {
                let ikm = r.ikm();
                for hook in &low {
                    if let Some(ikm) = ikm.filter(|i| *i < f64::from(hook.threshold))
                        && lines.covers(conn, hook, &r.unit)?
                    {
                        let data = json!({"submission_id": r.submission_id, "ikm": (ikm * 100.0).round() / 100.0,
                            "threshold": hook.threshold, "service": r.service, "channel": r.channel,
                            "answers": serde_json::from_str::<Value>(&r.answers).unwrap_or(Value::Null),
                            "received_at": iso(r.received_at)});
                        fired.push((hook, "response.low", r, data));
                    }
                }
                let Some(text) = &r.suggestion else { continue };
                for hook in &suggestion {
                    if lines.covers(conn, hook, &r.unit)? {
                        let data = json!({"submission_id": r.submission_id, "text": text,
                            "service": r.service, "channel": r.channel, "received_at": iso(r.received_at)});
                        fired.push((hook, "suggestion.new", r, data));
                    }
                }
            }
            Ok(())
        })?;
        if fired.is_empty() {
            return Ok(());
        }
        db.write_blocking(|conn| {
            for (hook, event, r, data) in fired {
                let dedupe = format!("{event}:{}", r.submission_id);
                record(conn, hook, event, &dedupe, &r.unit, data, now)?;
            }
            Ok(())
        })
    }

    /// `kiosk.offline` for tablets silent in service hours, once per silence; `unit.drop` for
    /// units whose last week fell a grade below their previous quarter, once a day.
    fn check(&mut self) -> Result<(), AppError> {
        let now = self.now();
        let db = &self.context.db;
        let offline = db.read_blocking(|conn| Self::listening(conn, "kiosk.offline"))?;
        for hook in &offline {
            let roots = db.read_blocking(|conn| watched(conn, hook))?;
            for unit in roots {
                let late: Vec<crate::domain::kiosks::KioskView> = db
                    .read_blocking(|conn| crate::domain::kiosks::list(conn, &unit, now))?
                    .into_iter()
                    .filter(|k| k.state == crate::domain::kiosks::KioskState::Late)
                    .collect();
                for k in late {
                    let dedupe = format!(
                        "kiosk.offline:{}:{}:{}",
                        k.key_id,
                        k.device_id,
                        k.last_seen_at.and_utc().timestamp()
                    );
                    let data = json!({"key_id": k.key_id, "key_name": k.key_name, "device_id": k.device_id,
                        "last_seen_at": iso(k.last_seen_at), "waiting": k.waiting, "last_error": k.last_error});
                    db.write_blocking(|conn| {
                        record(conn, hook, "kiosk.offline", &dedupe, &unit, data, now)
                    })?;
                }
            }
        }
        self.check_drops(now)?;
        self.summaries(now)
    }

    /// `unit.drop`: a unit's week can fall only when responses come in or the days move on, so
    /// each check looks at the units with new responses and those above them, and at a share
    /// of the others such that each is looked at within [`SWEEP_EVERY`]; a unit watched by
    /// several webhooks is looked at once. A nation watched by one webhook thus costs a few
    /// hundred queries a minute, not one per unit.
    fn check_drops(&mut self, now: NaiveDateTime) -> Result<(), AppError> {
        let db = self.context.db.clone();
        let hooks = db.read_blocking(|conn| Self::listening(conn, "unit.drop"))?;
        let touched: Vec<String> = self.touched.drain().collect();
        if hooks.is_empty() {
            return Ok(());
        }
        let mut due: HashSet<String> = touched.iter().cloned().collect();
        let names: Vec<&str> = touched.iter().map(String::as_str).collect();
        for above in db
            .read_blocking(|conn| crate::tallies::tree::ancestors(conn, &names))?
            .into_values()
        {
            due.extend(above);
        }
        let all = db.read_blocking(queries::list_units)?;
        let mut watched_units: Vec<(&Row, Vec<queries::Unit>)> = Vec::new();
        for hook in &hooks {
            let roots = db.read_blocking(|conn| watched(conn, hook))?;
            let mut units: Vec<queries::Unit> = roots
                .iter()
                .flat_map(|root| queries::subtree(&all, root))
                .collect();
            units.sort_by(|a, b| a.code.cmp(&b.code));
            units.dedup_by(|a, b| a.code == b.code);
            watched_units.push((hook, units));
        }
        // The others longest unlooked at first, a share of them a check.
        let stale =
            |at: Option<&NaiveDateTime>| at.is_none_or(|at| now - *at >= SWEEP_EVERY || now < *at);
        let mut others: Vec<(Option<NaiveDateTime>, String)> = watched_units
            .iter()
            .flat_map(|(_, units)| units.iter())
            .filter(|u| !due.contains(&u.code) && stale(self.swept.get(&u.code)))
            .map(|u| (self.swept.get(&u.code).copied(), u.code.clone()))
            .collect();
        others.sort();
        others.dedup();
        let share = (all.len() as u64)
            .div_ceil((SWEEP_EVERY.num_seconds() / CHECK_EVERY.num_seconds()).max(1) as u64)
            .max(SWEEP_AT_LEAST) as usize;
        due.extend(others.into_iter().take(share).map(|(_, code)| code));

        let mut looked: HashMap<String, Option<(Value, chrono::NaiveDate)>> = HashMap::new();
        for (hook, units) in &watched_units {
            for unit in units.iter().filter(|u| due.contains(&u.code)) {
                if !looked.contains_key(&unit.code) {
                    let found = db.read_blocking(|conn| self.dropped(conn, unit, now))?;
                    looked.insert(unit.code.clone(), found);
                    self.looked.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(Some((data, day))) = looked.get(&unit.code) {
                    let dedupe = format!("unit.drop:{}:{day}", unit.code);
                    db.write_blocking(|conn| {
                        record(
                            conn,
                            hook,
                            "unit.drop",
                            &dedupe,
                            &unit.code,
                            data.clone(),
                            now,
                        )
                    })?;
                }
            }
        }
        for code in looked.into_keys() {
            self.swept.insert(code, now);
        }
        Ok(())
    }

    /// A unit's whole report of a period the dispatcher names itself (never a bad one).
    fn report_of(
        &self,
        conn: &mut DbConn,
        unit: &str,
        period: &str,
    ) -> Result<crate::reporting::UnitReport, AppError> {
        let request = crate::reporting::ReportRequest {
            unit: unit.to_owned(),
            period: period
                .parse()
                .map_err(|e: crate::period::PeriodError| AppError::internal(e.to_string()))?,
            service: None,
            mode: None,
            instrument: None,
            exclude_flagged: false,
        };
        crate::reporting::unit_report(conn, &self.context.registry, &self.context.rules, &request)
    }

    /// The summaries due: for each unit a summary webhook watches, at 07:00 local time, the
    /// day before (`summary.daily`) or, on Mondays, the week before (`summary.weekly`).
    fn summaries(&self, now: NaiveDateTime) -> Result<(), AppError> {
        use chrono::Datelike;
        let db = &self.context.db;
        for (event, days) in [("summary.daily", 1), ("summary.weekly", 7)] {
            for hook in &db.read_blocking(|conn| Self::listening(conn, event))? {
                for unit in db.read_blocking(|conn| watched(conn, hook))? {
                    let Some(found) = db.read_blocking(|conn| queries::find_unit(conn, &unit))?
                    else {
                        continue;
                    };
                    let tz = crate::period::parse_timezone(&found.timezone)
                        .unwrap_or(chrono_tz::Asia::Jakarta);
                    let local = chrono::TimeZone::from_utc_datetime(&tz, &now);
                    let today = local.date_naive();
                    if chrono::Timelike::hour(&local) < SUMMARY_HOUR
                        || (days == 7 && today.weekday() != chrono::Weekday::Mon)
                    {
                        continue;
                    }
                    let first = today - TimeDelta::days(days);
                    let dedupe = format!("{event}:{unit}:{first}");
                    let span = (first, today - TimeDelta::days(1));
                    let data = db.read_blocking(|conn| self.summary(conn, &found, span))?;
                    db.write_blocking(|conn| record(conn, hook, event, &dedupe, &unit, data, now))?;
                }
            }
        }
        Ok(())
    }

    /// A unit's summary of some local days, with the e-mail's subject and text (Bahasa
    /// Indonesia, in plain ASCII so that any mail reader shows it as written).
    fn summary(
        &self,
        conn: &mut DbConn,
        unit: &queries::Unit,
        (first, last): (chrono::NaiveDate, chrono::NaiveDate),
    ) -> Result<Value, AppError> {
        let r = self.report_of(conn, &unit.code, &format!("{first}..{last}"))?;
        let lang = crate::instrument::Lang::Id;
        let date = |d: chrono::NaiveDate| crate::text::local_date(&d.to_string());
        let (kind, days) = if first == last {
            ("harian", date(first))
        } else {
            ("mingguan", format!("{} s.d. {}", date(first), date(last)))
        };
        let ikm = r.report.ikm.as_ref().map(|v| crate::text::number(v, lang));
        let grade = r.report.grade.clone().unwrap_or_else(|| "-".into());
        let subject = match &ikm {
            Some(ikm) => format!(
                "Ringkasan {kind} SKM - {} - {days}: IKM {ikm} ({grade}), {} responden",
                r.unit_name, r.report.respondents
            ),
            None => format!(
                "Ringkasan {kind} SKM - {} - {days}: tidak ada responden",
                r.unit_name
            ),
        };
        let mut lines = vec![
            format!("Ringkasan {kind} Survei Kepuasan Masyarakat"),
            format!(
                "{} - {days} ({})",
                r.unit_name,
                crate::text::zone_label(&r.timezone)
            ),
            String::new(),
        ];
        match &ikm {
            Some(ikm) => {
                lines.push(format!("Responden: {}", r.report.respondents));
                lines.push(format!(
                    "IKM: {ikm} - Mutu {grade} ({})",
                    r.report.performance.as_deref().unwrap_or("-")
                ));
                let weakest: Vec<String> = r
                    .report
                    .priorities
                    .iter()
                    .filter_map(|c| r.report.items.iter().find(|i| &i.code == c))
                    .map(|i| {
                        let v = i.ikm.as_ref().map(|v| crate::text::number(v, lang));
                        format!("{} {} ({})", i.code, i.name, v.as_deref().unwrap_or("-"))
                    })
                    .collect();
                lines.push(format!("Unsur terlemah: {}", weakest.join("; ")));
            }
            None => lines.push("Tidak ada responden pada hari-hari ini.".to_owned()),
        }
        lines.push(format!("Respons yang ditandai: {}", r.quality.flagged));
        lines.push(format!("Saran baru: {}", r.suggestions.len()));
        lines.extend(
            r.suggestions
                .iter()
                .take(10)
                .map(|s| format!("  - \"{}\"", s.text)),
        );
        lines.push(String::new());
        lines.push(format!(
            "Laporan lengkap: {}/dashboard",
            self.context.public_url.trim_end_matches('/')
        ));
        lines.push(
            "Pesan ini dikirim oleh kepuasan; langganan diatur lewat /api/v1/webhooks.".to_owned(),
        );
        Ok(json!({
            "period": r.period, "respondents": r.report.respondents, "ikm": r.report.ikm,
            "grade": r.report.grade, "flagged": r.quality.flagged, "suggestions": r.suggestions.len(),
            "priorities": r.report.priorities, "subject": subject, "text": lines.join("\n") + "\n",
        }))
    }

    /// Whether a unit's last seven local days, with at least 30 responses, are a grade or more
    /// below its previous quarter: the event's data and the local day, or `None`.
    fn dropped(
        &self,
        conn: &mut DbConn,
        unit: &queries::Unit,
        now: NaiveDateTime,
    ) -> Result<Option<(Value, chrono::NaiveDate)>, AppError> {
        use chrono::Datelike;
        let tz = crate::period::parse_timezone(&unit.timezone).unwrap_or(chrono_tz::Asia::Jakarta);
        let today = chrono::TimeZone::from_utc_datetime(&tz, &now).date_naive();
        let first = today - TimeDelta::days(DROP_DAYS - 1);
        let quarter = (today.month0() / 3) as i32;
        let (year, previous) = if quarter == 0 {
            (today.year() - 1, 4)
        } else {
            (today.year(), quarter)
        };
        let week = format!("{first}..{today}");
        let quarter = format!("{year}-Q{previous}");
        let periods = [&week, &quarter].map(|p| {
            p.parse()
                .map_err(|e: crate::period::PeriodError| AppError::internal(e.to_string()))
        });
        let [week_period, quarter_period] = periods;
        let instrument = self
            .context
            .registry
            .get("skm-2017")
            .ok_or_else(|| AppError::internal("skm-2017 is not loaded"))?;
        // One query of the unit's own and below tallies for both periods, not two reports:
        // a province's webhook watches thousands of units.
        let [(respondents, ikm, now_grade), (_, previous_ikm, was_grade)] =
            <[_; 2]>::try_from(crate::reporting::headline(
                conn,
                instrument,
                &unit.code,
                &[week_period?, quarter_period?],
            )?)
            .map_err(|_| AppError::internal("two periods asked, two answered"))?;
        if respondents < DROP_MINIMUM {
            return Ok(None);
        }
        let (Some(now_grade), Some(was_grade)) = (now_grade, was_grade) else {
            return Ok(None);
        };
        // Grades are letters, A the best: a later letter is a lower grade.
        if now_grade <= was_grade {
            return Ok(None);
        }
        let data = json!({
            "period": week, "ikm": ikm, "grade": now_grade,
            "respondents": respondents,
            "previous_period": quarter, "previous_ikm": previous_ikm, "previous_grade": was_grade,
        });
        Ok(Some((data, today)))
    }
}

fn iso(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The units a webhook watches: its unit, or every top unit.
fn watched(conn: &mut DbConn, hook: &Row) -> Result<Vec<String>, AppError> {
    Ok(match &hook.unit_code {
        Some(unit) => vec![unit.clone()],
        None => queries::list_units(conn)?
            .into_iter()
            .filter(|u| u.parent_code.is_none())
            .map(|u| u.code)
            .collect(),
    })
}

/// Each unit's line of ancestors, read once per batch: whether a webhook's unit covers a unit.
#[derive(Default)]
struct Lines(std::collections::HashMap<String, Vec<String>>);

impl Lines {
    fn covers(&mut self, conn: &mut DbConn, hook: &Row, unit: &str) -> Result<bool, AppError> {
        let Some(watched) = &hook.unit_code else {
            return Ok(true);
        };
        if !self.0.contains_key(unit) {
            let mut line = vec![unit.to_owned()];
            let mut at = queries::find_unit(conn, unit)?.and_then(|u| u.parent_code);
            while let Some(code) = at.filter(|c| !line.contains(c)) {
                at = queries::find_unit(conn, &code)?.and_then(|u| u.parent_code);
                line.push(code);
            }
            self.0.insert(unit.to_owned(), line);
        }
        Ok(self.0[unit].contains(watched))
    }
}

/// Records a delivery of an event to a webhook, once: a second record of the same event, by
/// this instance or another, is a no-op.
fn record(
    conn: &mut DbConn,
    hook: &Row,
    event: &str,
    dedupe: &str,
    unit: &str,
    data: Value,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let exists: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(&hook.id))
        .filter(webhook_deliveries::dedupe.eq(dedupe))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(());
    }
    let id = uuid::Uuid::now_v7().to_string();
    let unit_name = queries::find_unit(conn, unit)?.map(|u| u.name);
    let body = json!({"id": id, "event": event, "created_at": iso(now), "unit": unit,
        "unit_name": unit_name, "data": data})
    .to_string();
    let row = (
        webhook_deliveries::id.eq(&id),
        webhook_deliveries::webhook_id.eq(&hook.id),
        webhook_deliveries::event.eq(event),
        webhook_deliveries::dedupe.eq(dedupe),
        webhook_deliveries::body.eq(body),
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::created_at.eq(now),
    );
    // Another instance may have recorded the same event since the count: its row stands.
    let insert = diesel::insert_into(webhook_deliveries::table).values(row);
    match conn {
        DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConn::Postgres(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::courier::wait_after;
    use super::*;

    #[test]
    fn a_body_is_signed_as_hmac_sha256_in_hex() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn waits_double_from_five_seconds_up_to_an_hour() {
        let waits: Vec<i64> = (1..=12).map(|n| wait_after(n).num_seconds()).collect();
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
    }

    #[test]
    fn a_responses_own_ikm_is_its_mean_answer_times_25() {
        let stored = |answers: &str| Stored {
            submission_id: "s".into(),
            unit: "u".into(),
            service: None,
            channel: "kiosk".into(),
            answers: answers.into(),
            suggestion: None,
            received_at: NaiveDateTime::default(),
        };
        // Nine answers summing to 17: 17 / 9 × 25 = 47.22.
        let ikm = stored(r#"{"U1":1,"U2":2,"U3":2,"U4":2,"U5":2,"U6":2,"U7":2,"U8":2,"U9":2}"#)
            .ikm()
            .unwrap();
        assert!((ikm - 47.222).abs() < 0.001, "{ikm}");
        // A skipped U9 is left out: eight answers of 4 make 100.
        let skipped =
            stored(r#"{"U1":4,"U2":4,"U3":4,"U4":4,"U5":4,"U6":4,"U7":4,"U8":4,"U9":null}"#);
        assert_eq!(skipped.ikm(), Some(100.0));
        assert_eq!(stored("{}").ikm(), None);
    }
}
