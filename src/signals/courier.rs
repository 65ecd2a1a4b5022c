//! Delivering webhooks: each due delivery is claimed, posted (or mailed) and recorded. Every
//! receiver (a scheme, host and port; all e-mail together) has a lane of its own, one delivery
//! at a time, and at most [`LANES`] receivers are posted to at once, so a receiver that is slow
//! or never answers delays only its own deliveries. Each connection goes only where
//! `domain::destinations` allows: a host name is resolved by a resolver that refuses inward
//! addresses, an address literal is judged before connecting, and no proxy is used.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::Value;

use super::{Mail, signature};
use crate::db::Db;
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::domain::destinations::{self, Allow};
use crate::error::AppError;

/// How long a delivery is retried.
const RETRY_FOR: TimeDelta = TimeDelta::hours(24);
/// The first wait after a failed attempt; each next one doubles, up to an hour.
const FIRST_WAIT_SECONDS: i64 = 5;
/// How long a receiver has to answer.
pub(super) const TIMEOUT: Duration = Duration::from_secs(10);
/// Most receivers posted to at once.
pub const LANES: usize = 8;
/// Most due deliveries looked at a round.
const DUE_PER_ROUND: i64 = 200;

/// The wait after `attempts` failed attempts.
pub(super) fn wait_after(attempts: i32) -> TimeDelta {
    let doubled =
        FIRST_WAIT_SECONDS.saturating_mul(1_i64 << attempts.clamp(1, 20).saturating_sub(1));
    TimeDelta::seconds(doubled.min(3600))
}

/// What an attempt needs of a due delivery and its webhook.
#[derive(Queryable)]
struct Due {
    next_attempt_at: NaiveDateTime,
    body: String,
    attempts: i32,
    created_at: NaiveDateTime,
    event: String,
    url: String,
    secret: String,
    active: bool,
}

/// A resolver that gives the HTTP client only addresses a webhook may reach: a name that
/// resolves inward (at any time, DNS rebinding included) fails to connect.
struct Guarded(Arc<Allow>);

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (allow, name) = (self.0.clone(), name.as_str().to_owned());
        Box::pin(async move {
            let found =
                tokio::task::spawn_blocking(move || destinations::resolve(&name, 0, &allow))
                    .await
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            let addrs = found.map_err(|why| format!("refused: the address {why}"))?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// What delivering needs, shared by the lanes.
#[derive(Clone)]
pub(super) struct Courier {
    db: Db,
    client: reqwest::blocking::Client,
    now: Arc<dyn Fn() -> NaiveDateTime + Send + Sync>,
    mail: Option<Mail>,
    allow: Arc<Allow>,
    /// The receivers with a lane running.
    busy: Arc<Mutex<HashSet<String>>>,
}

impl Courier {
    pub(super) fn new(
        db: Db,
        now: Arc<dyn Fn() -> NaiveDateTime + Send + Sync>,
        mail: Option<Mail>,
        allow: Allow,
    ) -> Courier {
        let allow = Arc::new(allow);
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(Guarded(allow.clone())))
            .user_agent("kepuasan-webhooks")
            .build()
            .expect("an HTTP client");
        Courier {
            db,
            client,
            now,
            mail,
            allow,
            busy: Arc::default(),
        }
    }

    /// The lane a delivery to `url` goes in: its scheme, host and port; all e-mail in one.
    fn lane(url: &str) -> String {
        if url.starts_with("mailto:") {
            return "mailto".to_owned();
        }
        match reqwest::Url::parse(url) {
            Ok(u) => format!(
                "{}://{}:{}",
                u.scheme(),
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or_default()
            ),
            Err(_) => url.to_owned(),
        }
    }

    /// Starts a lane for each receiver with deliveries due and no lane running, up to
    /// [`LANES`] at once; returns without waiting for them.
    pub(super) fn deliver_due(&self) -> Result<(), AppError> {
        let now = (self.now)();
        let due: Vec<(String, String)> = self.db.read_blocking(|conn| {
            Ok(webhook_deliveries::table
                .inner_join(webhooks::table.on(webhooks::id.eq(webhook_deliveries::webhook_id)))
                .filter(webhook_deliveries::status.eq("pending"))
                .filter(webhook_deliveries::next_attempt_at.le(now))
                .select((webhook_deliveries::id, webhooks::url))
                .order(webhook_deliveries::next_attempt_at)
                .limit(DUE_PER_ROUND)
                .load(conn)?)
        })?;
        let mut lanes: Vec<(String, Vec<String>)> = Vec::new();
        for (id, url) in due {
            let lane = Courier::lane(&url);
            match lanes.iter_mut().find(|(l, _)| *l == lane) {
                Some((_, ids)) => ids.push(id),
                None => lanes.push((lane, vec![id])),
            }
        }
        for (lane, ids) in lanes {
            {
                let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
                if busy.contains(&lane) || busy.len() >= LANES {
                    continue;
                }
                busy.insert(lane.clone());
            }
            let (courier, lane_of_failure) = (self.clone(), lane.clone());
            let spawned = std::thread::Builder::new()
                .name("kepuasan-webhook-lane".into())
                .spawn(move || {
                    for id in ids {
                        if let Err(e) = courier.attempt(&id, (courier.now)()) {
                            tracing::warn!(error = %e, "could not deliver a webhook");
                        }
                    }
                    courier
                        .busy
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&lane);
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start a webhook lane");
                self.busy
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&lane_of_failure);
            }
        }
        Ok(())
    }

    /// One attempt: claimed first (its next attempt moved a minute ahead, if nobody else moved
    /// it), then posted, then recorded.
    fn attempt(&self, id: &str, now: NaiveDateTime) -> Result<(), AppError> {
        let db = &self.db;
        let claimed = db.write_blocking(|conn| {
            let row: Option<Due> = webhook_deliveries::table
                .inner_join(webhooks::table.on(webhooks::id.eq(webhook_deliveries::webhook_id)))
                .filter(webhook_deliveries::id.eq(id))
                .filter(webhook_deliveries::status.eq("pending"))
                .select((
                    webhook_deliveries::next_attempt_at,
                    webhook_deliveries::body,
                    webhook_deliveries::attempts,
                    webhook_deliveries::created_at,
                    webhook_deliveries::event,
                    webhooks::url,
                    webhooks::secret,
                    webhooks::active,
                ))
                .first(conn)
                .optional()?;
            let Some(due) = row.filter(|d| d.active) else {
                return Ok(None);
            };
            let taken = diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::id.eq(id))
                    .filter(webhook_deliveries::next_attempt_at.eq(due.next_attempt_at)),
            )
            .set(webhook_deliveries::next_attempt_at.eq(now + TimeDelta::minutes(1)))
            .execute(conn)?;
            Ok((taken == 1).then_some(due))
        })?;
        let Some(Due {
            body,
            attempts,
            created_at: created,
            event,
            url,
            secret,
            ..
        }) = claimed
        else {
            return Ok(());
        };
        let (status, error) = match url.strip_prefix("mailto:") {
            Some(to) => (None, self.mail(to, &body).err()),
            None => self.post(&url, &event, id, &secret, body),
        };
        let attempts = attempts + 1;
        let done = (self.now)();
        db.write_blocking(|conn| {
            let target = webhook_deliveries::table.filter(webhook_deliveries::id.eq(id));
            let last_status = status.map(i32::from);
            match &error {
                None => diesel::update(target)
                    .set((
                        webhook_deliveries::status.eq("delivered"),
                        webhook_deliveries::attempts.eq(attempts),
                        webhook_deliveries::last_status.eq(last_status),
                        webhook_deliveries::last_error.eq(None::<String>),
                        webhook_deliveries::delivered_at.eq(Some(done)),
                    ))
                    .execute(conn)?,
                Some(problem) => {
                    let next = done + wait_after(attempts);
                    let status = if next - created > RETRY_FOR {
                        "failed"
                    } else {
                        "pending"
                    };
                    diesel::update(target)
                        .set((
                            webhook_deliveries::status.eq(status),
                            webhook_deliveries::attempts.eq(attempts),
                            webhook_deliveries::last_status.eq(last_status),
                            webhook_deliveries::last_error.eq(Some(problem)),
                            webhook_deliveries::next_attempt_at.eq(next),
                        ))
                        .execute(conn)?
                }
            };
            Ok(())
        })
    }

    /// Posts a delivery, signed: the receiver's status, and why it failed if it did.
    fn post(
        &self,
        url: &str,
        event: &str,
        id: &str,
        secret: &str,
        body: String,
    ) -> (Option<u16>, Option<String>) {
        // An address literal never reaches the resolver: judged here; a name is judged by it.
        let parsed = match reqwest::Url::parse(url) {
            Ok(parsed) => parsed,
            Err(_) => return (None, Some("the address is not valid".to_owned())),
        };
        if !matches!(parsed.host(), Some(url::Host::Domain(_)))
            && let Err(why) = destinations::addresses(&parsed, &self.allow)
        {
            return (None, Some(format!("refused: the address {why}")));
        }
        let sent = self
            .client
            .post(parsed)
            .header("Content-Type", "application/json")
            .header("X-Kepuasan-Event", event)
            .header("X-Kepuasan-Delivery", id)
            .header("X-Kepuasan-Signature", signature(secret, body.as_bytes()))
            .body(body)
            .send();
        match sent {
            Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
            Ok(resp) => (
                Some(resp.status().as_u16()),
                Some(format!("the receiver answered {}", resp.status())),
            ),
            Err(e) => (None, Some(describe(e))),
        }
    }

    /// Mails a delivery whose data holds a `subject` and a `text`.
    fn mail(&self, to: &str, body: &str) -> Result<(), String> {
        use lettre::Transport;
        let mail = self
            .mail
            .as_ref()
            .ok_or("no mail server is set (KEPUASAN_SMTP_URL)")?;
        let body: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        let text = |key: &str| body["data"][key].as_str().unwrap_or_default().to_owned();
        let message = lettre::Message::builder()
            .from(
                mail.from
                    .parse()
                    .map_err(|e| format!("KEPUASAN_SMTP_FROM: {e}"))?,
            )
            .to(to.parse().map_err(|e| format!("{to}: {e}"))?)
            .subject(text("subject"))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text("text"))
            .map_err(|e| e.to_string())?;
        // The URL may hold the server's password: errors name the server's answer, never it.
        let transport = lettre::SmtpTransport::from_url(&mail.url)
            .map_err(|_| "KEPUASAN_SMTP_URL is not a valid smtp:// or smtps:// address".to_owned())?
            .timeout(Some(TIMEOUT))
            .build();
        transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| format!("the mail server refused or could not be reached: {e}"))
    }
}

/// Why a request failed, without the address's query (which may hold a token).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    // The guarded resolver's refusal, somewhere in the chain, says why.
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if text.starts_with("refused: ") {
            return text;
        }
        source = cause.source();
    }
    if e.is_timeout() {
        "the receiver did not answer within 10 seconds".to_owned()
    } else if e.is_connect() {
        "the receiver could not be reached".to_owned()
    } else {
        e.to_string()
    }
}
