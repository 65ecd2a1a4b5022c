//! Reporting periods: the contract's period syntax and its boundaries in a unit's time zone.
//!
//! `2025` (year), `2025-S1` (semester), `2025-Q3` (triwulan), `2025-07` (month) and
//! `2025-07-01..2025-09-30` (inclusive local dates). A period starts at local midnight of its
//! first day and ends at local midnight after its last day, in the unit's own time zone.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The longest period a report covers, in years.
pub const MAX_YEARS: u32 = 20;

/// A period as inclusive local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First local day.
    pub first: NaiveDate,
    /// Last local day, inclusive.
    pub last: NaiveDate,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Year,
    Semester(u32),
    Quarter(u32),
    Month,
    Range,
}

/// A period by kind: a year, a semester (1 or 2), a quarter (1 to 4), a month (1 to 12) of a
/// year, or a range of local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// A calendar year.
    Year(i32),
    /// A semester of a year.
    Semester(i32, u32),
    /// A quarter (triwulan) of a year.
    Quarter(i32, u32),
    /// A month of a year.
    Month(i32, u32),
    /// Inclusive local dates.
    Range(NaiveDate, NaiveDate),
}

/// A period string that does not parse, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("period: `{text}` {reason}; use 2025, 2025-S1, 2025-Q3, 2025-07 or 2025-07-01..2025-09-30")]
pub struct PeriodError {
    /// What was given.
    pub text: String,
    /// Why it is wrong.
    pub reason: &'static str,
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn month_end(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    date(y, m, 1)
        .and_then(|d| d.pred_opt())
        .expect("valid month")
}

impl Period {
    /// The whole of a quarter.
    /// One local day, as a range of one day.
    pub fn day(day: NaiveDate) -> Period {
        Period {
            first: day,
            last: day,
            kind: Kind::Range,
        }
    }

    /// Its local days, first to last.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let last = self.last;
        self.first.iter_days().take_while(move |d| *d <= last)
    }

    pub fn quarter(year: i32, quarter: u32) -> Period {
        let first_month = (quarter - 1) * 3 + 1;
        Period {
            first: date(year, first_month, 1).expect("valid quarter"),
            last: month_end(year, first_month + 2),
            kind: Kind::Quarter(quarter),
        }
    }

    /// The period of the same kind and length just before this one (a range: the same number
    /// of days before it).
    pub fn previous(&self) -> Period {
        let year = self.first.year();
        match self.kind {
            Kind::Year => Period {
                first: date(year - 1, 1, 1).expect("date"),
                last: date(year - 1, 12, 31).expect("date"),
                kind: Kind::Year,
            },
            Kind::Semester(1) => parse_known(&format!("{}-S2", year - 1)),
            Kind::Semester(_) => parse_known(&format!("{year}-S1")),
            Kind::Quarter(1) => Period::quarter(year - 1, 4),
            Kind::Quarter(q) => Period::quarter(year, q - 1),
            Kind::Month => {
                let before = self.first.pred_opt().expect("date");
                Period {
                    first: date(before.year(), before.month(), 1).expect("date"),
                    last: before,
                    kind: Kind::Month,
                }
            }
            Kind::Range => {
                let days = (self.last - self.first).num_days() + 1;
                let last = self.first.pred_opt().expect("date");
                Period {
                    first: last - chrono::Duration::days(days - 1),
                    last,
                    kind: Kind::Range,
                }
            }
        }
    }

    /// What kind of period this is, with its numbers, for wording it as people do.
    pub fn span(&self) -> Span {
        let year = self.first.year();
        match self.kind {
            Kind::Year => Span::Year(year),
            Kind::Semester(s) => Span::Semester(year, s),
            Kind::Quarter(q) => Span::Quarter(year, q),
            Kind::Month => Span::Month(year, self.first.month()),
            Kind::Range => Span::Range(self.first, self.last),
        }
    }

    /// Whether the period covers more than a year (a report over it is heavy work).
    pub fn is_long(&self) -> bool {
        (self.last - self.first).num_days() > 366
    }

    /// The UTC instants `[from, to)` the period covers in a time zone.
    pub fn utc_range(&self, tz: Tz) -> (NaiveDateTime, NaiveDateTime) {
        let end = self.last.succ_opt().expect("date after the last day");
        (local_midnight(self.first, tz), local_midnight(end, tz))
    }
}

fn parse_known(text: &str) -> Period {
    text.parse().expect("a period built from valid parts")
}

/// The UTC instant of local midnight starting `day` in `tz` (the first valid instant that day).
pub fn local_midnight(day: NaiveDate, tz: Tz) -> NaiveDateTime {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight");
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc).naive_utc()
        }
        // A zone that skips midnight (none in Indonesia) starts the day an hour later.
        chrono::LocalResult::None => tz
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map_or(midnight, |t| t.with_timezone(&Utc).naive_utc()),
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Period, PeriodError> {
        let fail = |reason| PeriodError {
            text: text.to_owned(),
            reason,
        };
        let year = |s: &str| -> Result<i32, PeriodError> {
            if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail("does not start with a four-digit year"));
            }
            let y: i32 = s.parse().map_err(|_| fail("has an invalid year"))?;
            if !(2000..=2100).contains(&y) {
                return Err(fail("has a year outside 2000..2100"));
            }
            Ok(y)
        };
        if let Some((a, b)) = text.split_once("..") {
            let parse = |s: &str| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| fail("has a date that is not YYYY-MM-DD"))
            };
            let (first, last) = (parse(a)?, parse(b)?);
            year(&a[..4])?;
            year(&b[..4])?;
            if last < first {
                return Err(fail("ends before it starts"));
            }
            if first.checked_add_months(chrono::Months::new(12 * MAX_YEARS)) <= Some(last) {
                return Err(fail("spans more than 20 years"));
            }
            return Ok(Period {
                first,
                last,
                kind: Kind::Range,
            });
        }
        let (y, rest) = match text.split_once('-') {
            Some((y, rest)) => (year(y)?, Some(rest)),
            None => (year(text)?, None),
        };
        match rest {
            None => Ok(Period {
                first: date(y, 1, 1).expect("date"),
                last: date(y, 12, 31).expect("date"),
                kind: Kind::Year,
            }),
            Some("S1") => Ok(Period {
                first: date(y, 1, 1).expect("date"),
                last: date(y, 6, 30).expect("date"),
                kind: Kind::Semester(1),
            }),
            Some("S2") => Ok(Period {
                first: date(y, 7, 1).expect("date"),
                last: date(y, 12, 31).expect("date"),
                kind: Kind::Semester(2),
            }),
            Some(q) if q.len() == 2 && q.starts_with('Q') => match &q[1..] {
                "1" | "2" | "3" | "4" => Ok(Period::quarter(y, q[1..].parse().expect("digit"))),
                _ => Err(fail("names a quarter other than Q1..Q4")),
            },
            Some(m) if m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) => {
                let month: u32 = m.parse().expect("digits");
                if !(1..=12).contains(&month) {
                    return Err(fail("names a month other than 01..12"));
                }
                Ok(Period {
                    first: date(y, month, 1).expect("date"),
                    last: month_end(y, month),
                    kind: Kind::Month,
                })
            }
            Some(_) => Err(fail("is not a period")),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let y = self.first.year();
        match self.kind {
            Kind::Year => write!(f, "{y}"),
            Kind::Semester(s) => write!(f, "{y}-S{s}"),
            Kind::Quarter(q) => write!(f, "{y}-Q{q}"),
            Kind::Month => write!(f, "{y}-{:02}", self.first.month()),
            Kind::Range => write!(f, "{}..{}", self.first, self.last),
        }
    }
}

/// Parses an IANA time zone name such as `Asia/Jayapura`.
pub fn parse_timezone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn parses_every_form_of_the_contract() {
        assert_eq!(
            (p("2025").first.to_string(), p("2025").last.to_string()),
            ("2025-01-01".into(), "2025-12-31".into())
        );
        assert_eq!(p("2025-S2").first.to_string(), "2025-07-01");
        assert_eq!(p("2025-Q1").last.to_string(), "2025-03-31");
        assert_eq!(p("2024-02").last.to_string(), "2024-02-29");
        assert_eq!(
            p("2025-07-01..2025-09-30"),
            Period {
                first: p("2025-Q3").first,
                last: p("2025-Q3").last,
                kind: Kind::Range
            }
        );
        for s in [
            "2025",
            "2025-S1",
            "2025-Q3",
            "2025-07",
            "2025-07-01..2025-09-30",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
    }

    #[test]
    fn refuses_what_is_not_a_period() {
        for s in [
            "",
            "25",
            "2025-Q5",
            "2025-13",
            "2025-S3",
            "2025-09-30..2025-07-01",
            "2000-01-01..2100-12-31",
            "2005-01-01..2025-01-01",
            "2025-02-30..2025-03-01",
            "Q3-2025",
            "1999",
        ] {
            assert!(s.parse::<Period>().is_err(), "{s}");
        }
    }

    #[test]
    fn a_quarter_starts_at_local_midnight_in_each_zone() {
        // WIT is UTC+9: 2025-04-01 00:00 WIT is 2025-03-31 15:00 UTC.
        let (from, to) = p("2025-Q2").utc_range(chrono_tz::Asia::Jayapura);
        assert_eq!(from.to_string(), "2025-03-31 15:00:00");
        assert_eq!(to.to_string(), "2025-06-30 15:00:00");
        // WIB is UTC+7.
        let (from, _) = p("2025-Q2").utc_range(chrono_tz::Asia::Jakarta);
        assert_eq!(from.to_string(), "2025-03-31 17:00:00");
    }

    #[test]
    fn previous_periods_step_back_one_of_their_kind() {
        assert_eq!(p("2025-Q1").previous().to_string(), "2024-Q4");
        assert_eq!(p("2025-Q3").previous().to_string(), "2025-Q2");
        assert_eq!(p("2025-S1").previous().to_string(), "2024-S2");
        assert_eq!(p("2025-01").previous().to_string(), "2024-12");
        assert_eq!(p("2025").previous().to_string(), "2024");
        assert_eq!(
            p("2025-07-11..2025-07-20").previous().to_string(),
            "2025-07-01..2025-07-10"
        );
    }
}
