//! A unit's service hours (jam layanan): for each day of the week the time it opens and the
//! time it closes, in its own time zone, or closed. A kiosk tablet silent in them is late, and
//! one silent outside them is simply off. A unit without hours of its own keeps those of the
//! nearest unit above that has some (a Dinas those of its MPP), else Monday to Saturday, 07:00
//! to 17:00.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime, NaiveTime};

use crate::instrument::Lang;

/// The days as the API names them, Monday first.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Opening and closing times by day; a day not in it is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceHours {
    days: BTreeMap<usize, (NaiveTime, NaiveTime)>,
}

impl Default for ServiceHours {
    /// Monday to Saturday, 07:00 to 17:00: public service malls open on Saturdays.
    fn default() -> ServiceHours {
        let (opens, closes) = (time(7, 0), time(17, 0));
        ServiceHours {
            days: (0..6).map(|d| (d, (opens, closes))).collect(),
        }
    }
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("a time of day")
}

/// What is wrong with a day's hours, for the field `service_hours.DAY`.
pub const PROBLEM: &str =
    "must be opening and closing times such as 08:00-16:00, the opening before the closing";

impl ServiceHours {
    /// Hours as the API gives them (`{"mon": "08:00-16:00", ...}`; days left out are
    /// closed); each bad day named with its problem.
    pub fn parse(
        given: &BTreeMap<String, String>,
    ) -> Result<ServiceHours, BTreeMap<String, String>> {
        let mut days = BTreeMap::new();
        let mut problems = BTreeMap::new();
        for (day, span) in given {
            let field = format!("service_hours.{day}");
            let Some(index) = DAYS.iter().position(|d| d == day) else {
                problems.insert(
                    field,
                    "must be a day: mon, tue, wed, thu, fri, sat or sun".to_owned(),
                );
                continue;
            };
            let parsed = span.split_once('-').and_then(|(a, b)| {
                let at = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
                Some((at(a)?, at(b)?))
            });
            match parsed {
                Some((opens, closes)) if opens < closes => {
                    days.insert(index, (opens, closes));
                }
                _ => {
                    problems.insert(field, PROBLEM.to_owned());
                }
            }
        }
        if problems.is_empty() {
            Ok(ServiceHours { days })
        } else {
            Err(problems)
        }
    }

    /// The hours as the API gives them and the database keeps them.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.days
            .iter()
            .map(|(d, (o, c))| {
                (
                    DAYS[*d].to_owned(),
                    format!("{}-{}", o.format("%H:%M"), c.format("%H:%M")),
                )
            })
            .collect()
    }

    /// Hours kept as JSON text; `None` for none kept or unreadable ones.
    pub fn from_stored(text: Option<&str>) -> Option<ServiceHours> {
        let map: BTreeMap<String, String> = serde_json::from_str(text?).ok()?;
        ServiceHours::parse(&map).ok()
    }

    /// Whether the unit is open at a local time.
    pub fn open_at(&self, local: NaiveDateTime) -> bool {
        let day = local.weekday().num_days_from_monday() as usize;
        self.days
            .get(&day)
            .is_some_and(|(opens, closes)| local.time() >= *opens && local.time() < *closes)
    }

    /// The hours in words: "Senin–Jumat 08.00–16.00; Sabtu 08.00–12.00", days with the same
    /// hours run together.
    pub fn describe(&self, lang: Lang) -> String {
        const ID: [&str; 7] = [
            "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu",
        ];
        const EN: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let names = if lang == Lang::Id { ID } else { EN };
        let clock = |t: NaiveTime| match lang {
            Lang::Id => t.format("%H.%M").to_string(),
            Lang::En => t.format("%H:%M").to_string(),
        };
        let mut runs: Vec<(usize, usize, (NaiveTime, NaiveTime))> = Vec::new();
        for (&day, &span) in &self.days {
            match runs.last_mut() {
                Some((_, last, s)) if *last + 1 == day && *s == span => *last = day,
                _ => runs.push((day, day, span)),
            }
        }
        if runs.is_empty() {
            return if lang == Lang::Id { "tutup" } else { "closed" }.to_owned();
        }
        runs.iter()
            .map(|(first, last, (o, c))| {
                let days = if first == last {
                    names[*first].to_owned()
                } else {
                    format!("{}–{}", names[*first], names[*last])
                };
                format!("{days} {}–{}", clock(*o), clock(*c))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn hours_are_read_checked_and_said() {
        let given: BTreeMap<String, String> = [
            ("mon", "08:00-16:00"),
            ("tue", "08:00-16:00"),
            ("wed", "08:00-16:00"),
            ("thu", "08:00-16:00"),
            ("fri", "08:00-11:30"),
        ]
        .into_iter()
        .map(|(d, s)| (d.to_owned(), s.to_owned()))
        .collect();
        let hours = ServiceHours::parse(&given).unwrap();
        // 2026-12-04 is a Friday, 2026-12-05 a Saturday.
        assert!(hours.open_at(at("2026-12-04 11:00")));
        assert!(!hours.open_at(at("2026-12-04 11:30")));
        assert!(!hours.open_at(at("2026-12-05 09:00")));
        assert!(!hours.open_at(at("2026-12-03 07:59")));
        assert_eq!(
            hours.describe(Lang::Id),
            "Senin–Kamis 08.00–16.00; Jumat 08.00–11.30"
        );
        assert_eq!(hours.to_map(), given);
        assert_eq!(
            ServiceHours::default().describe(Lang::En),
            "Monday–Saturday 07:00–17:00"
        );
        let bad: BTreeMap<String, String> = [("sat", "16:00-08:00"), ("noon", "08:00-12:00")]
            .into_iter()
            .map(|(d, s)| (d.to_owned(), s.to_owned()))
            .collect();
        let problems = ServiceHours::parse(&bad).unwrap_err();
        for problem in problems.values() {
            assert!(crate::messages::indonesian(problem).is_some(), "{problem}");
        }
        assert_eq!(
            problems.keys().collect::<Vec<_>>(),
            ["service_hours.noon", "service_hours.sat"]
        );
    }
}
