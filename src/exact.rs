//! Exact arithmetic for regulation numbers: rationals, half-up rounding and fixed-point decimals.
//!
//! Every number the regulation prints is computed from integer sums and counts as an exact
//! rational and rounded once, half-up, to the digits it is printed with. Binary floating point
//! never touches these numbers: `3.2002 * 25.0` is not `80.005` in `f64`.

use std::cmp::Ordering;
use std::fmt;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use serde::{Serialize, Serializer};

/// An exact rational number.
pub type Q = BigRational;

/// A rational from an integer numerator and denominator.
pub fn q(numer: i64, denom: i64) -> Q {
    Q::new(BigInt::from(numer), BigInt::from(denom))
}

/// A rational from an integer.
pub fn qi(value: i64) -> Q {
    Q::from_integer(BigInt::from(value))
}

/// A decimal number with a fixed number of digits after the point, such as `84.36`.
///
/// It is what a report prints: the exact value rounded half-up at its printed precision.
/// Ordering and equality compare values, so `80.01` at two decimals equals `80.010` at three.
#[derive(Clone, Debug)]
pub struct Fixed {
    scaled: BigInt,
    decimals: u32,
}

impl Fixed {
    /// Rounds an exact rational half-up (half away from zero) to `decimals` digits.
    pub fn round_half_up(value: &Q, decimals: u32) -> Fixed {
        let factor = BigInt::from(10u32).pow(decimals);
        let scaled = value * Q::from_integer(factor);
        let magnitude = scaled.abs();
        let (whole, rest) = magnitude.numer().div_rem(magnitude.denom());
        // Half-up: a remainder of at least half the denominator rounds away from zero.
        let rounded = if rest * 2 >= *magnitude.denom() {
            whole + 1
        } else {
            whole
        };
        let scaled = if value.is_negative() {
            -rounded
        } else {
            rounded
        };
        Fixed { scaled, decimals }
    }

    /// Parses a plain decimal such as `64.99`, `-0.5` or `100`; at most 18 fraction digits.
    pub fn parse(text: &str) -> Option<Fixed> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let valid = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !valid(whole) || !valid(fraction) || fraction.len() > 18 {
            return None;
        }
        let magnitude: BigInt = format!("{whole}{fraction}").parse().ok()?;
        let decimals = u32::try_from(fraction.len()).ok()?;
        let scaled = if negative { -magnitude } else { magnitude };
        Some(Fixed { scaled, decimals })
    }

    /// The exact value as a rational.
    pub fn to_q(&self) -> Q {
        Q::new(self.scaled.clone(), BigInt::from(10u32).pow(self.decimals))
    }

    /// The value in hundredths, exact when the number has at most two decimals.
    pub fn hundredths(&self) -> Option<i64> {
        let value = self.to_q() * qi(100);
        value
            .is_integer()
            .then(|| value.to_integer().to_i64())
            .flatten()
    }

    /// How many digits follow the decimal point.
    pub fn decimals(&self) -> u32 {
        self.decimals
    }

    /// The nearest `f64`, for JSON and for statistics; never used to decide a printed digit.
    pub fn to_f64(&self) -> f64 {
        // Parsing the decimal text gives the nearest double, which prints back as the same text.
        self.format('.').parse().unwrap_or(f64::NAN)
    }

    /// The number as text with the given decimal separator: `84,36` or `84.36`.
    pub fn format(&self, separator: char) -> String {
        let digits = self.scaled.abs().to_string();
        let width = self.decimals as usize + 1;
        let digits = format!("{digits:0>width$}");
        let (whole, fraction) = digits.split_at(digits.len() - self.decimals as usize);
        let sign = if self.scaled.is_negative() { "-" } else { "" };
        if fraction.is_empty() {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}{separator}{fraction}")
        }
    }

    /// Indonesian notation: decimal comma and dots between thousands, as in `1.234,50`.
    pub fn format_id(&self) -> String {
        let text = self.format(',');
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.as_str()),
        };
        let (whole, fraction) = match rest.split_once(',') {
            Some((w, f)) => (w, Some(f)),
            None => (rest, None),
        };
        let grouped = group_thousands(whole, '.');
        match fraction {
            Some(f) => format!("{sign}{grouped},{f}"),
            None => format!("{sign}{grouped}"),
        }
    }
}

/// Puts `separator` between groups of three digits, counted from the right.
pub fn group_thousands(digits: &str, separator: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

impl PartialEq for Fixed {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Fixed {}

impl PartialOrd for Fixed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fixed {
    fn cmp(&self, other: &Self) -> Ordering {
        self.to_q().cmp(&other.to_q())
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format('.'))
    }
}

impl Serialize for Fixed {
    /// A JSON number whose text is exactly the printed decimal (`84.36`, never `84.3599999`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.to_f64())
    }
}

/// Converts an exact rational to the nearest `f64` for statistics.
pub fn q_to_f64(value: &Q) -> f64 {
    if value.is_zero() {
        return 0.0;
    }
    value.to_f64().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_up_rounds_an_exact_half_away_from_zero() {
        assert_eq!(
            Fixed::round_half_up(&q(80_005, 1000), 2).format('.'),
            "80.01"
        );
        assert_eq!(
            Fixed::round_half_up(&q(80_004_999, 1_000_000), 2).format('.'),
            "80.00"
        );
        assert_eq!(Fixed::round_half_up(&q(-1, 200), 2).format('.'), "-0.01");
        assert_eq!(Fixed::round_half_up(&q(1, 3), 2).format('.'), "0.33");
        assert_eq!(Fixed::round_half_up(&q(2, 3), 2).format('.'), "0.67");
    }

    #[test]
    fn binary_floating_point_gets_the_tie_wrong_which_is_why_we_use_rationals() {
        // Nine items with NRR 3.2002 and weight 1/9: the IKM is exactly 80.005, so 80.01.
        // Summed in f64 the weighted NRRs land just below the tie and print as 80.00.
        let float_index: f64 = (0..9).map(|_| 3.2002_f64 * (1.0 / 9.0)).sum();
        assert_eq!(format!("{:.2}", float_index * 25.0), "80.00");
        let exact_index: Q = (0..9).map(|_| q(32_002, 10_000) * q(1, 9)).sum();
        assert_eq!(
            Fixed::round_half_up(&(exact_index * qi(25)), 2).format(','),
            "80,01"
        );
    }

    #[test]
    fn formats_with_padding_and_indonesian_grouping() {
        assert_eq!(Fixed::round_half_up(&q(5, 100), 2).format(','), "0,05");
        assert_eq!(Fixed::round_half_up(&qi(100), 2).format(','), "100,00");
        assert_eq!(
            Fixed::round_half_up(&qi(1_000_000), 0).format_id(),
            "1.000.000"
        );
        assert_eq!(
            Fixed::round_half_up(&q(123_456_789, 100), 2).format_id(),
            "1.234.567,89"
        );
    }

    #[test]
    fn parses_plain_decimals_and_rejects_anything_else() {
        assert_eq!(Fixed::parse("64.99").unwrap().hundredths(), Some(6499));
        assert_eq!(Fixed::parse("100").unwrap().hundredths(), Some(10_000));
        assert_eq!(Fixed::parse("0.111").unwrap().to_q(), q(111, 1000));
        assert!(Fixed::parse("0.111").unwrap().hundredths().is_none());
        for bad in ["", "1e3", "1,5", ".5", "abc", "1.2.3"] {
            assert!(Fixed::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn json_number_prints_exactly_the_rounded_decimal() {
        let v = Fixed::round_half_up(&q(3037, 36), 2);
        assert_eq!(serde_json::to_string(&v).unwrap(), "84.36");
    }
}
