//! Data-quality flags: abuse control that does not treat a busy kiosk as one respondent.
//!
//! A response is flagged, never dropped: `too_fast` when completed faster than the minimum
//! (by the client's own clock, so skew cancels out), `rate` when its device sent more than the
//! allowed number in the minute before it, and `repeat` when it is identical to the previous
//! response from the same device. Reports count the flags and can leave flagged responses out.
//! There is no per-address limit: one MPP kiosk serves hundreds of people a day.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::queries;
use crate::error::AppError;

/// Completed faster than the minimum.
pub const TOO_FAST: &str = "too_fast";
/// More than the allowed number per device per minute.
pub const RATE: &str = "rate";
/// Identical to the device's previous response.
pub const REPEAT: &str = "repeat";

/// The thresholds, from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlagRules {
    /// Fewest seconds a genuine survey takes (`KEPUASAN_FLAG_MIN_SECONDS`, default 10).
    pub min_seconds: u32,
    /// Most responses one device sends in a minute (`KEPUASAN_FLAG_PER_MINUTE`, default 6).
    pub per_minute: u32,
}

impl Default for FlagRules {
    fn default() -> FlagRules {
        FlagRules {
            min_seconds: 10,
            per_minute: 6,
        }
    }
}

impl FlagRules {
    /// The rule in Bahasa Indonesia.
    pub fn describe_id(&self) -> String {
        format!(
            "ditandai, tidak pernah dibuang: terlalu cepat bila kurang dari {} detik dari mulai sampai selesai (jam perangkat); terlalu sering bila lebih dari {} per perangkat per menit; berulang bila sama persis dengan respons sebelumnya dari perangkat yang sama",
            self.min_seconds, self.per_minute
        )
    }

    /// The rule as the report states it.
    pub fn describe(&self) -> String {
        format!(
            "flagged, never dropped: too fast when under {} s from start to finish (client clock); too frequent when more than {} per device per minute; repeated when identical to the device's previous response",
            self.min_seconds, self.per_minute
        )
    }
}

/// What the checks look at in a new response.
pub struct Candidate<'a> {
    /// When the server issued the form it answered (its page's ticket): when known, `too_fast`
    /// is judged from it and the server's receive time, not from the client's clock.
    pub server_started: Option<NaiveDateTime>,
    /// Flag `rate` whatever the device's history (its address or kiosk key sent too many).
    pub force_rate: bool,
    /// Device, if known.
    pub device: Option<&'a str>,
    /// Client start and finish times.
    pub started_at: Option<NaiveDateTime>,
    /// Client finish time.
    pub client_time: Option<NaiveDateTime>,
    /// Server receive time.
    pub received_at: NaiveDateTime,
    /// Stored answers JSON.
    pub answers: &'a str,
    /// Stored profile JSON.
    pub profile: Option<&'a str>,
    /// Suggestion.
    pub suggestion: Option<&'a str>,
}

/// What the checks remember of one device: its newest arrival times, newest first, no more
/// than the rate limit (a longer history cannot change the rule's answer), and the content of
/// its newest response.
struct History {
    times: Vec<NaiveDateTime>,
    newest: Option<(String, Option<String>, Option<String>)>,
}

/// The recent history of each device seen in one write transaction: read from the database
/// once per device, then kept up to date as each response is flagged, so that a batch holding
/// a busy kiosk's responses asks about it once. Gives the flags that checking each response
/// against the stored rows before it would give.
#[derive(Default)]
pub struct Histories(HashMap<String, History>);

impl Histories {
    /// The flags of a new response, comma separated (empty when clean), which then counts as
    /// its device's newest. Use it inside the write transaction that stores the response, so
    /// that the device's history is consistent.
    pub fn flags(
        &mut self,
        conn: &mut DbConn,
        rules: &FlagRules,
        c: &Candidate<'_>,
    ) -> Result<String, AppError> {
        let mut flags = Vec::new();
        let took = match (c.server_started, c.started_at, c.client_time) {
            (Some(issued), _, _) => Some(c.received_at - issued),
            (None, Some(start), Some(end)) => Some(end - start),
            _ => None,
        };
        if took.is_some_and(|t| t < chrono::Duration::seconds(i64::from(rules.min_seconds))) {
            flags.push(TOO_FAST);
        }
        let (mut rate, mut repeat) = (c.force_rate, false);
        if let Some(device) = c.device {
            let history = match self.0.entry(device.to_owned()) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let rows = queries::recent_by_device(conn, device, rules.per_minute.max(1))?;
                    let newest = rows
                        .first()
                        .map(|(_, a, p, s)| (a.clone(), p.clone(), s.clone()));
                    let mut times: Vec<NaiveDateTime> = rows.into_iter().map(|r| r.0).collect();
                    times.truncate(rules.per_minute as usize);
                    e.insert(History { times, newest })
                }
            };
            let since = c.received_at - chrono::Duration::minutes(1);
            if history.times.iter().filter(|t| **t >= since).count() >= rules.per_minute as usize {
                rate = true;
            }
            if history
                .newest
                .as_ref()
                .is_some_and(|(answers, profile, suggestion)| {
                    answers == c.answers
                        && profile.as_deref() == c.profile
                        && suggestion.as_deref() == c.suggestion
                })
            {
                repeat = true;
            }
            // The new response joins the history: its time in order, kept to the newest few.
            let at = history.times.partition_point(|t| *t > c.received_at);
            history.times.insert(at, c.received_at);
            history.times.truncate(rules.per_minute as usize);
            if history.times.first().is_none_or(|t| *t <= c.received_at) {
                history.newest = Some((
                    c.answers.to_owned(),
                    c.profile.map(str::to_owned),
                    c.suggestion.map(str::to_owned),
                ));
            }
        }
        if rate {
            flags.push(RATE);
        }
        if repeat {
            flags.push(REPEAT);
        }
        Ok(flags.join(","))
    }
}

/// Whether a stored flag list carries any flag.
pub fn is_flagged(flags: &str) -> bool {
    !flags.is_empty()
}

/// Whether responses with a flag set count in a report that leaves flagged ones out or not.
pub fn counted(flags: &str, exclude_flagged: bool) -> bool {
    !(exclude_flagged && is_flagged(flags))
}

/// Counts of flags in a report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QualitySummary {
    /// The rule applied.
    pub rule: String,
    /// The rule in Bahasa Indonesia.
    pub rule_id: String,
    /// Whether flagged responses were left out of the numbers.
    pub exclude_flagged: bool,
    /// Responses with any flag.
    pub flagged: u64,
    /// Responses with `too_fast`.
    pub too_fast: u64,
    /// Responses with `rate`.
    pub rate: u64,
    /// Responses with `repeat`.
    pub repeat: u64,
    /// Responses counted in the report.
    pub included: u64,
    /// Responses left out.
    pub excluded: u64,
}

impl QualitySummary {
    /// Counts `n` responses that share one flag set; returns whether they are counted in the
    /// report.
    pub fn count(&mut self, flags: &str, n: u64) -> bool {
        let flagged = is_flagged(flags);
        for flag in flags.split(',') {
            match flag {
                TOO_FAST => self.too_fast += n,
                RATE => self.rate += n,
                REPEAT => self.repeat += n,
                _ => {}
            }
        }
        if flagged {
            self.flagged += n;
        }
        let include = counted(flags, self.exclude_flagged);
        if include {
            self.included += n
        } else {
            self.excluded += n
        }
        include
    }
}
