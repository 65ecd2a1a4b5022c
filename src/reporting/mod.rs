//! A unit's full report from the database: its responses (and its descendants', each cut at its
//! own local midnight) tallied for one period and handed to the engine, with breakdowns by
//! service, channel, child unit and respondent profile, the suggestions, the trend over the
//! previous periods and the roll-up rules. Exports (`crate::export`, a layer above) render this
//! one value.

pub mod profile;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeZone;
use chrono_tz::Tz;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::queries::{self, Unit};
use crate::engine::exact::Fixed;
use crate::engine::stats::Welch;
use crate::engine::{self, IndexReport, Options, Tally, WeightedRollup};
use crate::error::AppError;
use crate::instrument::{Instrument, Registry};
use crate::period::{Period, parse_timezone};
use crate::quality::{self, FlagRules, QualitySummary};
use crate::tallies;
pub use profile::{MIN_CELL, ProfileBreakdown, ProfileCell};

/// How a parent unit's report pools its descendants.
pub const ROLLUP_RULE: &str = "pooled over respondents: every response of the unit and its descendants counts once, each unit cut at its own local midnight; population_weighted weights each child's IKM by the people it served";

/// [`ROLLUP_RULE`] in Bahasa Indonesia.
pub const ROLLUP_RULE_ID: &str = "digabung per responden: setiap respons unit dan unit di bawahnya dihitung sekali, masing-masing dipotong pada tengah malam waktu setempatnya; IKM tertimbang populasi membobot IKM setiap unit anak dengan jumlah orang yang dilayaninya";

/// How many periods before the reported one the trend shows.
pub const TREND_PERIODS: usize = 4;

/// The most responses an export's raw-data sheet lists (a whole province's quarter would not
/// fit a spreadsheet); the sheet says when it shows only part.
pub const RAW_LIMIT: usize = 100_000;

/// The most suggestions a report lists, newest first.
pub const MAX_SUGGESTIONS: usize = 1_000;

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// Unit code.
    pub unit: String,
    /// Period.
    pub period: Period,
    /// One service only.
    pub service: Option<String>,
    /// Mode key.
    pub mode: Option<String>,
    /// Instrument key; `skm-2017` by default.
    pub instrument: Option<String>,
    /// Leave responses with quality flags out of the numbers.
    pub exclude_flagged: bool,
}

/// The score of one group of responses: a service, a channel, a child unit.
#[derive(Debug, Clone, Serialize)]
pub struct GroupScore {
    /// The group's code (service code, channel, unit code); `None` for responses that named no
    /// service.
    pub code: Option<String>,
    /// Name in Bahasa Indonesia.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// The unit the group belongs to (services of a pooled parent report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// That unit's name, as documents print it beside the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    /// Responses counted.
    pub respondents: u64,
    /// The group's IKM.
    pub ikm: Option<Fixed>,
    /// Its grade.
    pub grade: Option<String>,
    /// People served in the period, for child units that have it set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub population: Option<u64>,
    /// A child unit's IKM in the period before, for its change (for parents of at most
    /// [`DETAIL_MAX_UNITS`] children).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_ikm: Option<Fixed>,
    /// The Krejcie & Morgan minimum sample for that population (95 %, ±5 %): the unit's
    /// sample is adequate when `respondents` reaches it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_minimum: Option<u64>,
    /// A unit's latest Ombudsman assessment of the period's year or before (units only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ombudsman: Option<crate::domain::ombudsman::Assessment>,
}

/// A respondent's suggestion (saran), as written, with what the unit's staff noted on it.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// The response that carries it (`PATCH /api/v1/suggestions/{id}` notes it).
    pub id: String,
    /// Local date it was received.
    pub date: String,
    /// Unit it was for.
    pub unit: String,
    /// Service, if named.
    pub service: Option<String>,
    /// Channel.
    pub channel: String,
    /// The text, verbatim.
    pub text: String,
    /// The item it is about (code), as the unit's staff categorised it.
    pub category: Option<String>,
    /// Free tags the staff gave it.
    pub tags: Vec<String>,
    /// The follow-up plan that acts on it ("ditindaklanjuti").
    pub follow_up: Option<Handled>,
}

/// The plan a suggestion is handled by, as a reader needs it.
#[derive(Debug, Clone, Serialize)]
pub struct Handled {
    /// The plan's id.
    pub id: String,
    /// What is done.
    pub action: String,
    /// planned, in_progress, done or cancelled.
    pub status: String,
}

/// One period of the trend.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    /// Period.
    pub period: String,
    /// Responses counted.
    pub respondents: u64,
    /// IKM.
    pub ikm: Option<Fixed>,
    /// Grade.
    pub grade: Option<String>,
    /// This IKM minus the previous period's, as printed.
    pub change: Option<Fixed>,
    /// Welch's test of this period's respondents against the previous period's.
    pub comparison: Option<Welch>,
    /// Whether the change is significant at 5%.
    pub significant: Option<bool>,
}

/// One local day of a report's period: responses counted and their IKM.
#[derive(Debug, Clone, Serialize)]
pub struct DayPoint {
    /// The local date.
    pub date: String,
    /// Responses counted that day.
    pub respondents: u64,
    /// That day's IKM, when it has responses.
    pub ikm: Option<Fixed>,
}

/// Most units a report lists in `units_included`; a larger scope lists the unit and its direct
/// children, and counts the rest without reading them.
pub const UNITS_LISTED_MAX: usize = 1_000;

/// A unit's time zone, which its stored settings always name.
fn zone(code: &str, timezone: &str) -> Result<Tz, AppError> {
    parse_timezone(timezone)
        .ok_or_else(|| AppError::internal(format!("unit {code} has a bad time zone")))
}

/// Most days a report lists day by day (a quarter); longer periods have no daily list.
pub const DAILY_MAX_DAYS: i64 = 92;
/// Most units whose suggestions a report lists all of (an MPP's, a district's), and most
/// children whose previous period it reads for their change: a larger scope lists its own and
/// its direct children's suggestions, each child's report listing those below it.
pub const DETAIL_MAX_UNITS: usize = 100;

/// How a parent unit's numbers are rolled up from its children.
#[derive(Debug, Clone, Serialize)]
pub struct Rollup {
    /// The rule behind the headline numbers.
    pub rule: &'static str,
    /// The IKM with each child weighted by its population, when every child with responses
    /// has one for the period.
    pub population_weighted: Option<WeightedRollup>,
    /// The child units ranked by IKM, highest first (units without an IKM last).
    pub children: Vec<GroupScore>,
}

/// The report of a unit and period.
#[derive(Debug, Clone, Serialize)]
pub struct UnitReport {
    /// Unit code.
    pub unit: String,
    /// Unit name.
    pub unit_name: String,
    /// Period as asked.
    pub period: String,
    /// First local day.
    pub from: String,
    /// Last local day, inclusive.
    pub to: String,
    /// The unit's time zone (children are cut at their own).
    pub timezone: String,
    /// Service, when the report is of one.
    pub service: Option<String>,
    /// Units whose responses are pooled here: all of them when they are at most
    /// [`UNITS_LISTED_MAX`], otherwise the unit and its direct children (each standing for
    /// the units below it).
    pub units_included: Vec<String>,
    /// How many units are pooled here: the unit and every unit below it.
    pub units_count: u64,
    /// The engine's report.
    #[serde(flatten)]
    pub report: IndexReport,
    /// The IKM per service.
    pub services: Vec<GroupScore>,
    /// The IKM per channel (kiosk, receipt QR, open link, paper).
    pub channels: Vec<GroupScore>,
    /// Respondent profile breakdowns.
    pub profile: Vec<ProfileBreakdown>,
    /// Suggestions, newest first, at most 1,000.
    pub suggestions: Vec<Suggestion>,
    /// Whether the period holds more suggestions than those listed.
    pub suggestions_truncated: bool,
    /// The previous periods and this one, oldest first.
    pub trend: Vec<TrendPoint>,
    /// For a unit with children: the roll-up rules and the children ranked.
    pub rollup: Option<Rollup>,
    /// Data-quality flags, the responses included and excluded, and the rule applied.
    pub quality: QualitySummary,
    /// This period's follow-up plans and whether the previous period's were done.
    pub follow_ups: crate::followup::FollowUpSummary,
    /// The unit's latest Ombudsman assessment of the period's year or before, shown beside
    /// the IKM.
    pub ombudsman: Option<crate::domain::ombudsman::Assessment>,
    /// Each local day of the period with its responses and IKM (empty past
    /// [`DAILY_MAX_DAYS`]), so that a bad day shows before the quarter
    /// ends.
    pub daily: Vec<DayPoint>,
}

/// The units a report covers. Its numbers are read from the unit's own tallies and its direct
/// children's, each child with units below it adding the tallies of those (`below`): the
/// rows read do not grow with the depth or the size of the tree.
struct Scope {
    unit: Unit,
    /// How many units are pooled here: the unit and every unit below it.
    count: u64,
    /// Each of them, the unit first, with its time zone: when they are at most
    /// [`UNITS_LISTED_MAX`].
    members: Option<Vec<(String, Tz)>>,
    /// The direct children, by code.
    children: Vec<Unit>,
    /// The children with units below them.
    parents: BTreeSet<String>,
}

impl Scope {
    fn load(conn: &mut DbConn, code: &str) -> Result<Scope, AppError> {
        let unit = queries::find_unit(conn, code)?
            .filter(|u| u.code == code)
            .ok_or_else(|| AppError::not_found(format!("unknown unit `{code}`")))?;
        let rows = queries::children_with_below(conn, code)?;
        let parents: BTreeSet<String> = rows
            .iter()
            .filter(|(_, below)| *below)
            .map(|(c, _)| c.code.clone())
            .collect();
        let children: Vec<Unit> = rows.into_iter().map(|(c, _)| c).collect();
        let member = |u: &Unit| queries::Member {
            code: u.code.clone(),
            parent_code: u.parent_code.clone(),
            timezone: u.timezone.clone(),
        };
        let first = std::iter::once(&unit)
            .chain(&children)
            .map(member)
            .collect();
        let (count, tree) = queries::subtree_listed_from(
            conn,
            first,
            parents.iter().cloned().collect(),
            UNITS_LISTED_MAX,
        )?;
        let members = tree
            .map(|tree| {
                tree.into_iter()
                    .map(|m| zone(&m.code, &m.timezone).map(|tz| (m.code, tz)))
                    .collect::<Result<Vec<_>, AppError>>()
            })
            .transpose()?;
        Ok(Scope {
            unit,
            count,
            members,
            children,
            parents,
        })
    }

    /// The unit and its direct children: the units whose own tallies the report reads.
    fn own(&self) -> Vec<&str> {
        std::iter::once(self.unit.code.as_str())
            .chain(self.children.iter().map(|c| c.code.as_str()))
            .collect()
    }

    /// The stored tallies of the period: the unit's own, and each child's with what sits
    /// below it.
    fn tallies(
        &self,
        conn: &mut DbConn,
        period: &Period,
        service: Option<&str>,
        instrument: &Instrument,
    ) -> Result<tallies::Loaded, AppError> {
        let below: Vec<&str> = self.parents.iter().map(String::as_str).collect();
        let reach = tallies::Reach {
            own: &self.own(),
            below: &below,
        };
        tallies::load(conn, reach, instrument, period, service)
    }

    /// Each direct child's counted responses in a period: its own and those below it.
    fn by_child(
        &self,
        conn: &mut DbConn,
        period: &Period,
        instrument: &Instrument,
        exclude_flagged: bool,
    ) -> Result<Groups<String>, AppError> {
        let below: Vec<&str> = self.parents.iter().map(String::as_str).collect();
        let children: Vec<&str> = self.children.iter().map(|c| c.code.as_str()).collect();
        let reach = tallies::Reach {
            own: &children,
            below: &below,
        };
        let mut out = Groups::new();
        for ((unit, flags), tally) in tallies::by_unit(conn, reach, instrument, period)? {
            if quality::counted(&flags, exclude_flagged) {
                add_to(&mut out, unit, &tally);
            }
        }
        Ok(out)
    }

    /// The whole scope's tallies over each of some periods, by flag set and channel: the
    /// unit's own and those of everything below it, without the split by child.
    fn totals(
        &self,
        conn: &mut DbConn,
        periods: &[Period],
        service: Option<&str>,
        instrument: &Instrument,
    ) -> Result<Vec<Vec<(tallies::FlagsAndChannel, Tally)>>, AppError> {
        // A unit with nothing below it has no `below` rows to find.
        let unit = [self.unit.code.as_str()];
        let reach = tallies::Reach {
            own: &unit,
            below: &unit,
        };
        tallies::totals(conn, reach, instrument, periods, service)
    }

    /// The child a unit whose tallies were read is, if it is one.
    fn child(&self, code: &str) -> Option<&Unit> {
        self.children.iter().find(|c| c.code == code)
    }

    /// Whether a report lists the suggestions of every unit of the scope (up to
    /// [`DETAIL_MAX_UNITS`] units), or only the unit's own and its direct children's.
    fn lists_all(&self) -> bool {
        self.members.is_some() && self.count <= DETAIL_MAX_UNITS as u64
    }

    /// How many responses the units whose suggestions are listed received in the period, read
    /// from its tallies: each leaves at most one suggestion.
    fn listed_respondents(&self, loaded: &tallies::Loaded) -> u64 {
        let all = self.lists_all();
        loaded
            .groups
            .iter()
            .filter(|g| all || !g.below)
            .map(|g| g.tally.respondents)
            .sum()
    }

    /// The newest suggestions of the scope in the report's period, at most
    /// [`MAX_SUGGESTIONS`], without those of flagged responses when they are left out; and
    /// whether the period holds more. `expected` is how many responses the listed units
    /// received in the period ([`Scope::listed_respondents`]): it only decides how the rows
    /// are found, never which.
    fn suggestions(
        &self,
        conn: &mut DbConn,
        req: &ReportRequest,
        instrument: &str,
        expected: u64,
    ) -> Result<(Vec<Suggestion>, bool), AppError> {
        // A scope of up to [`DETAIL_MAX_UNITS`] units lists every unit's suggestions; a
        // larger one the unit's own and its direct children's (each child's report lists
        // those of the units below it).
        let listed = match &self.members {
            Some(members) if self.lists_all() => members.clone(),
            _ => std::iter::once(&self.unit)
                .chain(&self.children)
                .map(|u| Ok((u.code.clone(), zone(&u.code, &u.timezone)?)))
                .collect::<Result<Vec<_>, AppError>>()?,
        };
        // One query per time zone: the members of a zone share the period's UTC bounds.
        let mut zones: BTreeMap<&str, (Tz, Vec<&str>)> = BTreeMap::new();
        for (member, tz) in &listed {
            zones
                .entry(tz.name())
                .or_insert_with(|| (*tz, Vec::new()))
                .1
                .push(member);
        }
        let of = |units, range| queries::WithSuggestions {
            units,
            instrument,
            range,
            service: req.service.as_deref(),
        };
        let limit = MAX_SUGGESTIONS as i64 + 1;
        // A period with at most twice a list's worth of responses is read whole, in one query
        // a zone. A busier one is first looked at in the index alone, to find when the newest
        // suggestions were received: per zone a window expected to hold a list's worth of
        // responses (at least an hour), widened fourfold until it holds enough or covers the
        // period. A busy scope's quarter is thus read hours or days deep, not through its tens
        // of thousands of suggestions.
        let (start, more) = if expected <= 2 * limit as u64 {
            (None, None)
        } else {
            let mut times = Vec::new();
            for (tz, units) in zones.values() {
                let (from, to) = req.period.utc_range(*tz);
                let share = limit as f64 / expected as f64;
                let mut depth = chrono::Duration::seconds(
                    ((to - from).num_seconds() as f64 * share).ceil() as i64,
                )
                .max(chrono::Duration::hours(1));
                loop {
                    let start = from.max(to - depth);
                    let found = of(units, (start, to)).times(conn, limit)?;
                    if found.len() as i64 == limit || start == from {
                        times.extend(found);
                        break;
                    }
                    depth = depth * 4;
                }
            }
            times.sort_unstable_by(|a, b| b.cmp(a));
            // Then the rows of the newest, none older than the last one listed.
            let Some(&oldest) = times.get(MAX_SUGGESTIONS.min(times.len()).saturating_sub(1))
            else {
                return Ok((Vec::new(), false));
            };
            (Some(oldest), Some(times.len() > MAX_SUGGESTIONS))
        };
        let mut fetched = 0;
        let mut found = Vec::new();
        for (tz, units) in zones.values() {
            let (from, to) = req.period.utc_range(*tz);
            let from = start.map_or(from, |oldest| from.max(oldest));
            let rows = of(units, (from, to)).rows(conn, limit)?;
            fetched += rows.len();
            for (id, at, unit, service, channel, flags, text) in rows {
                if text.trim().is_empty() || !quality::counted(&flags, req.exclude_flagged) {
                    continue;
                }
                let date = tz.from_utc_datetime(&at).date_naive().to_string();
                found.push((
                    at,
                    Suggestion {
                        id,
                        date,
                        unit,
                        service,
                        channel,
                        text,
                        category: None,
                        tags: Vec::new(),
                        follow_up: None,
                    },
                ));
            }
        }
        // More than listed: one more than the list holds was found.
        let more = more.unwrap_or(fetched > MAX_SUGGESTIONS);
        found.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        found.truncate(MAX_SUGGESTIONS);
        // What the staff noted on them, in one read.
        let ids: Vec<&str> = found.iter().map(|(_, s)| s.id.as_str()).collect();
        let mut notes = crate::followup::notes_of(conn, &ids)?;
        let listed = found
            .into_iter()
            .map(|(_, mut s)| {
                if let Some((note, plan)) = notes.remove(&s.id) {
                    s.category = note.category;
                    s.tags = note.tags;
                    s.follow_up = plan.map(|p| Handled {
                        id: p.id,
                        action: p.action,
                        status: p.status,
                    });
                }
                s
            })
            .collect();
        Ok((listed, more))
    }
}

/// Channel names in both languages.
pub(crate) fn channel_name(channel: &str) -> (&'static str, &'static str) {
    match channel {
        "kiosk" => ("Kios survei", "Survey kiosk"),
        "qr" => ("Kode QR pada struk", "Receipt QR code"),
        "web" => ("Tautan terbuka", "Open link"),
        "paper" => ("Kuesioner kertas", "Paper questionnaire"),
        _ => ("Lainnya", "Other"),
    }
}

fn score(
    instrument: &Instrument,
    tally: &Tally,
    options: &Options,
) -> Result<(Option<Fixed>, Option<String>), AppError> {
    let ikm = engine::ikm(instrument, tally, options.mode.as_deref())
        .map_err(|e| AppError::field("mode", e.to_string()))?;
    let grade = ikm.as_ref().map(|v| instrument.grade(v).letter.clone());
    Ok((ikm, grade))
}

/// Respondents, IKM and grade.
pub type Headline = (u64, Option<Fixed>, Option<String>);

/// The whole of a unit's numbers (its responses and those of every unit below it, flagged
/// ones included, as a report counts them by default) in each of some periods, read in one
/// query from the unit's own and `below` tallies: respondents, IKM and grade. What a signal
/// checking many units needs, without the rest of a report.
pub fn headline(
    conn: &mut DbConn,
    instrument: &Instrument,
    unit: &str,
    periods: &[Period],
) -> Result<Vec<Headline>, AppError> {
    let unit = [unit];
    let reach = tallies::Reach {
        own: &unit,
        below: &unit,
    };
    tallies::totals(conn, reach, instrument, periods, None)?
        .into_iter()
        .map(|groups| {
            let mut whole = Tally::new(instrument);
            for (_, tally) in &groups {
                whole.merge(tally);
            }
            let (ikm, grade) = score(instrument, &whole, &Options::default())?;
            Ok((whole.respondents, ikm, grade))
        })
        .collect()
}

/// Tallies of the groups a report breaks down by, keyed by group.
type Groups<K> = BTreeMap<K, Tally>;

fn add_to<K: Ord>(groups: &mut Groups<K>, key: K, tally: &Tally) {
    match groups.get_mut(&key) {
        Some(t) => t.merge(tally),
        None => {
            groups.insert(key, tally.clone());
        }
    }
}

/// The period's tallies added up: the whole (by flag set, for the quality summary), and by
/// service, channel and child unit.
struct Totals {
    tally: Tally,
    profiles: tallies::profile::ProfileTallies,
    services: Groups<(String, Option<String>)>,
    channels: Groups<String>,
    children: Groups<String>,
    quality: QualitySummary,
}

impl Totals {
    fn of(
        loaded: &tallies::Loaded,
        scope: &Scope,
        instrument: &Instrument,
        rules: &FlagRules,
        exclude_flagged: bool,
    ) -> Totals {
        let mut totals = Totals {
            tally: Tally::new(instrument),
            profiles: tallies::profile::ProfileTallies::default(),
            services: BTreeMap::new(),
            channels: BTreeMap::new(),
            children: BTreeMap::new(),
            quality: QualitySummary {
                rule: rules.describe(),
                rule_id: rules.describe_id(),
                exclude_flagged,
                ..QualitySummary::default()
            },
        };
        for (flags, whole) in &loaded.by_flags {
            if totals.quality.count(flags, whole.tally.respondents) {
                totals.tally.merge(&whole.tally);
                totals.profiles.merge(&whole.profile);
            }
        }
        for group in &loaded.groups {
            let t = &group.tally;
            if !quality::counted(&group.flags, exclude_flagged) {
                continue;
            }
            // The units below a child are not split by service: their own reports are.
            if !group.below {
                let service = (group.unit.clone(), group.service.clone());
                add_to(&mut totals.services, service, t);
            }
            add_to(&mut totals.channels, group.channel.clone(), t);
            if scope.child(&group.unit).is_some() {
                add_to(&mut totals.children, group.unit.clone(), t);
            }
        }
        totals
    }
}

/// Each service's score, named; pooled over several units, each with its unit.
fn service_scores(
    conn: &mut DbConn,
    instrument: &Instrument,
    scope: &Scope,
    services: &Groups<(String, Option<String>)>,
    plain: &Options,
) -> Result<Vec<GroupScore>, AppError> {
    let service_names: BTreeMap<(String, String), String> =
        queries::services_of(conn, &scope.own())?
            .into_iter()
            .map(|s| ((s.unit_code, s.code), s.name))
            .collect();
    let pooled = !scope.children.is_empty();
    services
        .iter()
        .map(|((unit_code, code), t)| {
            let (ikm, grade) = score(instrument, t, plain)?;
            let name = code
                .as_ref()
                .and_then(|c| service_names.get(&(unit_code.clone(), c.clone())).cloned());
            Ok(GroupScore {
                name: name.clone().unwrap_or_else(|| "Tanpa layanan".to_owned()),
                name_en: name.unwrap_or_else(|| "No service named".to_owned()),
                code: code.clone(),
                unit: pooled.then(|| unit_code.clone()),
                unit_name: pooled
                    .then(|| scope.child(unit_code).unwrap_or(&scope.unit).name.clone()),
                respondents: t.respondents,
                ikm,
                grade,
                previous_ikm: None,
                population: None,
                sample_minimum: None,
                ombudsman: None,
            })
        })
        .collect()
}

/// Each channel's score, named.
fn channel_scores(
    instrument: &Instrument,
    channels: &Groups<String>,
    plain: &Options,
) -> Result<Vec<GroupScore>, AppError> {
    channels
        .iter()
        .map(|(code, t)| {
            let (ikm, grade) = score(instrument, t, plain)?;
            let (name, name_en) = channel_name(code);
            Ok(GroupScore {
                code: Some(code.clone()),
                name: name.to_owned(),
                name_en: name_en.to_owned(),
                unit: None,
                unit_name: None,
                respondents: t.respondents,
                ikm,
                grade,
                previous_ikm: None,
                population: None,
                sample_minimum: None,
                ombudsman: None,
            })
        })
        .collect()
}

/// Builds the report of a unit and period.
pub fn unit_report(
    conn: &mut DbConn,
    registry: &Registry,
    rules: &FlagRules,
    req: &ReportRequest,
) -> Result<UnitReport, AppError> {
    let key = req.instrument.as_deref().unwrap_or("skm-2017");
    let instrument = registry
        .get(key)
        .ok_or_else(|| AppError::field("instrument", format!("unknown instrument `{key}`")))?;
    let scope = Scope::load(conn, &req.unit)?;
    let unit = &scope.unit;
    if let Some(service) = &req.service
        && queries::find_service(conn, &unit.code, service)?.is_none()
    {
        return Err(AppError::field(
            "service",
            format!("unknown service `{service}` of unit {}", unit.code),
        ));
    }
    engine::resolve_mode(instrument, req.mode.as_deref())
        .map_err(|e| AppError::field("mode", e.to_string()))?;
    let period_text = req.period.to_string();
    let population = queries::find_population(conn, &unit.code, &period_text)?;
    let loaded = scope.tallies(conn, &req.period, req.service.as_deref(), instrument)?;
    let Totals {
        tally,
        profiles,
        services,
        channels,
        children,
        quality,
    } = Totals::of(&loaded, &scope, instrument, rules, req.exclude_flagged);
    let expected = scope.listed_respondents(&loaded);
    let (suggestions, suggestions_truncated) = scope.suggestions(conn, req, key, expected)?;
    let options = Options {
        mode: req.mode.clone(),
        population: population.and_then(|p| u64::try_from(p).ok()),
        ..Options::default()
    };
    let plain = Options {
        population: None,
        ..options.clone()
    };
    let mut report = engine::compute(instrument, &tally, &options)
        .map_err(|e| AppError::field("mode", e.to_string()))?;
    let (rollup_en, rollup_id) = if !scope.children.is_empty() {
        (ROLLUP_RULE, ROLLUP_RULE_ID)
    } else {
        (
            "one unit: every counted response once",
            "satu unit: setiap respons yang dihitung masuk sekali",
        )
    };
    report.calculation.rollup = Some(rollup_en.to_owned());
    report.calculation.rollup_id = Some(rollup_id.to_owned());
    let profile = profile::breakdowns(instrument, &profiles, &options)?;
    let services = service_scores(conn, instrument, &scope, &services, &plain)?;
    let channels = channel_scores(instrument, &channels, &plain)?;
    let rollup = if scope.children.is_empty() || req.service.is_some() {
        None
    } else {
        // The period before, for each child's change (up to an MPP's size).
        let before = if scope.children.len() <= DETAIL_MAX_UNITS {
            scope.by_child(
                conn,
                &req.period.previous(),
                instrument,
                req.exclude_flagged,
            )?
        } else {
            Groups::new()
        };
        Some(rollup(
            conn,
            instrument,
            &scope,
            (&children, &before),
            &plain,
            (&period_text, chrono::Datelike::year(&req.period.first)),
        )?)
    };
    let (earlier, days) = history(conn, instrument, &scope, req)?;
    // The period's responses without a key, from its tallies: a service's report counts only
    // the unit's own, as its trend does.
    let anonymous = loaded
        .groups
        .iter()
        .filter(|g| req.service.is_none() || (g.unit == unit.code && !g.below))
        .filter(|g| ANONYMOUS_CHANNELS.contains(&g.channel.as_str()))
        .map(|g| g.tally.respondents)
        .sum();
    let (trend, jump) = trend(
        instrument,
        req,
        &plain,
        &earlier,
        (&tally, report.ikm.as_ref(), anonymous),
    )?;
    report.notices.extend(jump);
    report
        .notices
        .extend(crate::archive::notice(conn, req.period.first)?);
    let follow_ups = crate::followup::summary(conn, &unit.code, &req.period)?;
    let daily = daily(instrument, req, &plain, &days)?;
    let ombudsman = crate::domain::ombudsman::latest_of(
        conn,
        &[&unit.code],
        chrono::Datelike::year(&req.period.first),
    )?
    .remove(&unit.code);
    Ok(UnitReport {
        unit: unit.code.clone(),
        unit_name: unit.name.clone(),
        period: period_text,
        from: req.period.first.to_string(),
        to: req.period.last.to_string(),
        timezone: unit.timezone.clone(),
        service: req.service.clone(),
        units_included: match &scope.members {
            Some(members) => members.iter().map(|(u, _)| u.clone()).collect(),
            None => scope.own().into_iter().map(str::to_owned).collect(),
        },
        units_count: scope.count,
        report,
        services,
        channels,
        profile,
        suggestions,
        suggestions_truncated,
        trend,
        rollup,
        quality,
        follow_ups,
        ombudsman,
        daily,
    })
}

/// Seconds a replica may be behind the primary before a report read from it says so.
pub const REPLICA_BEHIND_SECONDS: f64 = 5.0;

/// Adds a notice to a report read from a replica more than [`REPLICA_BEHIND_SECONDS`] behind
/// the primary: its newest responses may not be counted yet.
pub fn note_freshness(report: &mut UnitReport, freshness: crate::db::Freshness) {
    let Some(behind) = freshness
        .behind_seconds
        .filter(|s| *s > REPLICA_BEHIND_SECONDS)
    else {
        return;
    };
    let seconds = format!("{behind:.0}");
    report.report.notices.push(engine::Notice {
        code: "replica_behind",
        id: format!(
            "Laporan ini dibaca dari salinan basis data yang tertinggal {seconds} detik dari \
             basis data utama: respons terbaru mungkin belum terhitung."
        ),
        en: format!(
            "This report was read from a database replica {seconds} seconds behind the primary: \
             the newest responses may not be counted yet."
        ),
    });
}

fn rollup(
    conn: &mut DbConn,
    instrument: &Instrument,
    scope: &Scope,
    (tallies, before): (&Groups<String>, &Groups<String>),
    options: &Options,
    (period, year): (&str, i32),
) -> Result<Rollup, AppError> {
    let empty = Tally::new(instrument);
    let mut children = Vec::new();
    let mut weighted_input = Vec::new();
    let codes: Vec<&str> = scope.children.iter().map(|c| c.code.as_str()).collect();
    let populations: BTreeMap<String, i64> = queries::populations_of(conn, &codes, period)?
        .into_iter()
        .collect();
    let mut assessed = crate::domain::ombudsman::latest_of(conn, &codes, year)?;
    for child in &scope.children {
        let t = tallies.get(&child.code).unwrap_or(&empty);
        let population = populations
            .get(&child.code)
            .and_then(|p| u64::try_from(*p).ok());
        let (ikm, grade) = score(instrument, t, options)?;
        let previous_ikm = match before.get(&child.code) {
            Some(b) => score(instrument, b, options)?.0,
            None => None,
        };
        weighted_input.push((t, population));
        children.push(GroupScore {
            code: Some(child.code.clone()),
            name: child.name.clone(),
            name_en: child.name.clone(),
            unit: None,
            unit_name: None,
            respondents: t.respondents,
            ikm,
            grade,
            previous_ikm,
            population,
            sample_minimum: population.and_then(|n| {
                engine::sample::krejcie_morgan(
                    n,
                    options
                        .confidence
                        .unwrap_or(engine::sample::DEFAULT_CONFIDENCE),
                    options.margin.unwrap_or(engine::sample::DEFAULT_MARGIN),
                )
                .ok()
                .map(|s| s.minimum)
            }),
            ombudsman: assessed.remove(&child.code),
        });
    }
    let population_weighted =
        engine::weighted_rollup(instrument, &weighted_input, options.mode.as_deref())
            .map_err(|e| AppError::field("mode", e.to_string()))?;
    children.sort_by(|a, b| {
        b.ikm
            .is_some()
            .cmp(&a.ikm.is_some())
            .then_with(|| b.ikm.cmp(&a.ikm))
            .then_with(|| b.respondents.cmp(&a.respondents))
            .then_with(|| a.code.cmp(&b.code))
    });
    Ok(Rollup {
        rule: ROLLUP_RULE,
        population_weighted,
        children,
    })
}

/// The whole scope's responses of each of some periods, by flag set and channel.
type History = Vec<(Period, Vec<(tallies::FlagsAndChannel, Tally)>)>;

/// What a report shows besides its period's own tallies, read in one query of the whole
/// scope's totals: the [`TREND_PERIODS`] periods before it and, for a period of less than
/// [`DAILY_MAX_DAYS`] days, each of its days.
fn history(
    conn: &mut DbConn,
    instrument: &Instrument,
    scope: &Scope,
    req: &ReportRequest,
) -> Result<(History, History), AppError> {
    let mut earlier = vec![req.period.previous()];
    while earlier.len() < TREND_PERIODS {
        let before = earlier.last().expect("non-empty").previous();
        earlier.push(before);
    }
    earlier.reverse();
    let days: Vec<Period> = if (req.period.last - req.period.first).num_days() < DAILY_MAX_DAYS {
        req.period.days().map(Period::day).collect()
    } else {
        Vec::new()
    };
    let periods: Vec<Period> = earlier.iter().chain(&days).copied().collect();
    let mut totals = scope.totals(conn, &periods, req.service.as_deref(), instrument)?;
    let of_days = totals.split_off(earlier.len());
    Ok((
        earlier.into_iter().zip(totals).collect(),
        days.into_iter().zip(of_days).collect(),
    ))
}

/// The counted responses of some totals merged: all of them, or without the flagged ones.
fn counted_tally(
    instrument: &Instrument,
    totals: &[(tallies::FlagsAndChannel, Tally)],
    exclude_flagged: bool,
) -> Tally {
    let mut t = Tally::new(instrument);
    for ((flags, _), tally) in totals {
        if quality::counted(flags, exclude_flagged) {
            t.merge(tally);
        }
    }
    t
}

/// The period day by day (empty for a period of [`DAILY_MAX_DAYS`] days or more).
fn daily(
    instrument: &Instrument,
    req: &ReportRequest,
    options: &Options,
    days: &History,
) -> Result<Vec<DayPoint>, AppError> {
    days.iter()
        .map(|(day, totals)| {
            let t = counted_tally(instrument, totals, req.exclude_flagged);
            Ok(DayPoint {
                date: day.first.to_string(),
                respondents: t.respondents,
                ikm: score(instrument, &t, options)?.0,
            })
        })
        .collect()
}

/// The trend over the periods before the report's and its own (`current`), and a notice when
/// its responses without a key jump: `anonymous` is how many it holds.
fn trend(
    instrument: &Instrument,
    req: &ReportRequest,
    options: &Options,
    earlier: &History,
    (current, current_ikm, anonymous): (&Tally, Option<&Fixed>, u64),
) -> Result<(Vec<TrendPoint>, Option<engine::Notice>), AppError> {
    let anonymous: Vec<u64> = earlier
        .iter()
        .map(|(_, t)| {
            t.iter()
                .filter(|((_, channel), _)| ANONYMOUS_CHANNELS.contains(&channel.as_str()))
                .map(|(_, tally)| tally.respondents)
                .sum()
        })
        .chain([anonymous])
        .collect();
    let mut points: Vec<(String, Tally, Option<Fixed>, Option<String>)> = Vec::new();
    for (period, totals) in earlier {
        let t = counted_tally(instrument, totals, req.exclude_flagged);
        let (ikm, grade) = score(instrument, &t, options)?;
        points.push((period.to_string(), t, ikm, grade));
    }
    let grade = current_ikm.map(|v| instrument.grade(v).letter.clone());
    points.push((
        req.period.to_string(),
        current.clone(),
        current_ikm.cloned(),
        grade,
    ));
    let mut out: Vec<TrendPoint> = Vec::new();
    for (i, (period, t, ikm, grade)) in points.iter().enumerate() {
        let previous = i.checked_sub(1).map(|j| &points[j]);
        let change = match (ikm, previous.and_then(|p| p.2.as_ref())) {
            (Some(now), Some(before)) => Some(Fixed::round_half_up(
                &(now.to_q() - before.to_q()),
                engine::digits::IKM,
            )),
            _ => None,
        };
        let comparison = previous.and_then(|p| engine::compare(instrument, t, &p.1));
        out.push(TrendPoint {
            period: period.clone(),
            respondents: t.respondents,
            ikm: ikm.clone(),
            grade: grade.clone(),
            change,
            significant: comparison.as_ref().map(|w| w.significant),
            comparison,
        });
    }
    Ok((out, anonymous_jump(&anonymous)))
}

/// The channels of responses that no key vouches for: open links and receipts.
const ANONYMOUS_CHANNELS: [&str; 2] = ["web", "qr"];

/// A notice when the period's responses without a key (the last of `counts`, flagged ones
/// included) are at least 50 and more than three times the average of the periods before it:
/// the sign of an open link being stuffed, or of a unit that has just started using one.
fn anonymous_jump(counts: &[u64]) -> Option<engine::Notice> {
    let (now, before) = counts.split_last()?;
    let usual = before.iter().sum::<u64>() as f64 / before.len().max(1) as f64;
    if *now < 50 || (*now as f64) <= 3.0 * usual {
        return None;
    }
    let usual = format!("{usual:.0}");
    Some(engine::Notice {
        code: "anonymous_jump",
        id: format!(
            "Respons tanpa kunci (tautan terbuka dan struk) pada periode ini {now}, jauh di atas \
             biasanya (rata-rata {usual} pada {} periode sebelumnya). Periksa tanda kualitas \
             respons; laporan dapat dihitung tanpa respons yang ditandai.",
            before.len()
        ),
        en: format!(
            "Responses without a key (open link and receipts) this period: {now}, far above the \
             usual ({usual} on average over the {} previous periods). Check the responses' \
             quality flags; the report can leave flagged responses out.",
            before.len()
        ),
    })
}

/// One stored response as the raw-data sheet shows it: nothing that identifies a person.
#[derive(Debug, Clone, Serialize)]
pub struct RawResponse {
    /// Local date and time it was received, in its unit's time zone.
    pub received: String,
    /// Unit code.
    pub unit: String,
    /// Service code.
    pub service: Option<String>,
    /// Channel.
    pub channel: String,
    /// Answers in the instrument's item order; `None` when unanswered.
    pub answers: Vec<Option<i64>>,
    /// gender, age, education, occupation as given.
    pub profile: [Option<String>; 4],
    /// Quality flags, comma separated.
    pub flags: String,
}

/// The responses behind a report, oldest first, for the raw-data sheet of an export; at most
/// [`RAW_LIMIT`].
pub fn raw_responses(
    conn: &mut DbConn,
    registry: &Registry,
    req: &ReportRequest,
) -> Result<Vec<RawResponse>, AppError> {
    let key = req.instrument.as_deref().unwrap_or("skm-2017");
    let instrument = registry
        .get(key)
        .ok_or_else(|| AppError::field("instrument", format!("unknown instrument `{key}`")))?;
    // Every unit below, however many: the sheet needs each one's rows.
    let (_, listed) = queries::subtree_listed(conn, &req.unit, usize::MAX)?;
    let members = listed
        .unwrap_or_default()
        .into_iter()
        .map(|m| zone(&m.code, &m.timezone).map(|tz| (tz, m.code)))
        .collect::<Result<Vec<(Tz, String)>, AppError>>()?;
    if members.is_empty() {
        return Err(AppError::not_found(format!("unknown unit `{}`", req.unit)));
    }
    // A page of stored rows at a time, each made into its sheet row at once.
    const PAGE: i64 = 5_000;
    let mut sheet: Vec<(chrono::NaiveDateTime, RawResponse)> = Vec::new();
    let mut read = 0usize;
    'members: for (tz, member) in &members {
        let mut after: Option<(chrono::NaiveDateTime, String)> = None;
        loop {
            let room = RAW_LIMIT.saturating_sub(read);
            if room == 0 {
                break 'members;
            }
            let page = queries::sheet_rows(
                conn,
                member,
                req.period.utc_range(*tz),
                req.service.as_deref(),
                after.as_ref(),
                PAGE.min(room as i64),
            )?;
            let Some(last) = page.last() else { break };
            after = Some((last.received_at, last.submission_id.clone()));
            read += page.len();
            let full = page.len() as i64 == PAGE;
            for row in page {
                if row.instrument != key || !quality::counted(&row.flags, req.exclude_flagged) {
                    continue;
                }
                sheet.push((row.received_at, sheet_row(instrument, member, *tz, row)?));
            }
            if !full {
                break;
            }
        }
    }
    sheet.sort_by_key(|(at, _)| *at);
    Ok(sheet.into_iter().map(|(_, r)| r).collect())
}

/// A stored response as a row of the raw-data sheet.
fn sheet_row(
    instrument: &Instrument,
    unit: &str,
    tz: Tz,
    row: queries::SheetRow,
) -> Result<RawResponse, AppError> {
    let answers = tallies::stored_answers(instrument, &row.answers)?;
    let profile: BTreeMap<String, serde_json::Value> = row
        .profile
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(AppError::internal)?
        .unwrap_or_default();
    let field = |k: &str| {
        profile.get(k).map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    Ok(RawResponse {
        received: tz
            .from_utc_datetime(&row.received_at)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        unit: unit.to_owned(),
        service: row.service_code,
        channel: row.channel,
        answers: answers.0,
        profile: [
            field("gender"),
            field("age"),
            field("education"),
            field("occupation"),
        ],
        flags: row.flags,
    })
}

#[cfg(test)]
mod tests {
    use super::anonymous_jump;

    #[test]
    fn a_jump_in_responses_without_a_key_is_noticed() {
        // 3 x the usual 20 is 60: 61 is a jump, 60 is not.
        assert!(anonymous_jump(&[20, 20, 20, 20, 61]).is_some());
        assert!(anonymous_jump(&[20, 20, 20, 20, 60]).is_none());
        // Below 50 a period is never a jump, even from nothing.
        assert!(anonymous_jump(&[0, 0, 0, 0, 49]).is_none());
        let notice = anonymous_jump(&[0, 0, 0, 4, 50]).unwrap();
        assert_eq!(notice.code, "anonymous_jump");
        assert!(notice.id.contains("periode ini 50"), "{}", notice.id);
        assert!(
            notice
                .en
                .contains("(1 on average over the 4 previous periods)"),
            "{}",
            notice.en
        );
    }
}
