//! Minimum sample size from the Krejcie & Morgan (1970) formula, as PermenPAN-RB 14/2017 uses it.
//!
//! S = X² N P (1 − P) / (d² (N − 1) + X² P (1 − P)), with X² the chi-square value for one degree of
//! freedom at the chosen confidence, written to three decimals as the published table does
//! (3,841 at 95%), P = 0,5 and d the margin of error; S is rounded half-up. The published table
//! stops at 384 from N = 100.000 on: a population that large is treated as infinite,
//! S = X² P (1 − P) / d², which is what its last rows print.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::exact::{Fixed, Q, q, qi};

/// From this population on, the table treats the population as infinite.
pub const INFINITE_FROM: u64 = 100_000;

/// The regulation's confidence level.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// The regulation's margin of error.
pub const DEFAULT_MARGIN: f64 = 0.05;

/// Parameters that a sample-size question can get wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// The population must be at least one person.
    #[error("population: must be at least 1")]
    Population,
    /// The confidence must lie strictly between 0.5 and 1.
    #[error("confidence: must be between 0.5 and 0.999, got {0}")]
    Confidence(f64),
    /// The margin must lie in (0, 0.5].
    #[error("margin: must be above 0 and at most 0.5, got {0}")]
    Margin(f64),
}

/// The answer to "how many responses does a population of N need?".
#[derive(Debug, Clone, Serialize)]
pub struct SampleSize {
    /// Method, named for the report.
    pub method: &'static str,
    /// People served in the period.
    pub population: u64,
    /// Confidence level.
    pub confidence: f64,
    /// Margin of error.
    pub margin: f64,
    /// Chi-square value for one degree of freedom at the confidence, three decimals.
    pub chi_square: Fixed,
    /// The minimum sample.
    pub minimum: u64,
}

/// The Krejcie & Morgan minimum sample for a population.
pub fn krejcie_morgan(
    population: u64,
    confidence: f64,
    margin: f64,
) -> Result<SampleSize, SampleError> {
    if population == 0 {
        return Err(SampleError::Population);
    }
    if !(0.5..=0.999).contains(&confidence) || confidence.is_nan() {
        return Err(SampleError::Confidence(confidence));
    }
    if !(margin > 0.0 && margin <= 0.5) {
        return Err(SampleError::Margin(margin));
    }
    let chi = ChiSquared::new(1.0)
        .expect("one degree of freedom")
        .inverse_cdf(confidence);
    let chi_square = Fixed::parse(&format!("{chi:.3}")).expect("a formatted number parses");
    let x2 = chi_square.to_q();
    // The margin as the decimal the caller wrote (0.05 is 5/100, not the nearest double).
    let d = Fixed::parse(&margin.to_string()).map_or_else(|| q(5, 100), |f| f.to_q());
    let pq: Q = q(1, 4);
    let exact = if population >= INFINITE_FROM {
        &x2 * &pq / (&d * &d)
    } else {
        let n = Q::from_integer(population.into());
        &x2 * &n * &pq / (&d * &d * (&n - qi(1)) + &x2 * &pq)
    };
    let minimum = Fixed::round_half_up(&exact, 0)
        .hundredths()
        .and_then(|h| u64::try_from(h / 100).ok())
        .expect("a sample size is a small non-negative integer");
    Ok(SampleSize {
        method: "Krejcie & Morgan (1970), P = 0,5, half-up",
        population,
        confidence,
        margin,
        chi_square,
        minimum: minimum.min(population),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published Krejcie & Morgan table (as reproduced in the annex of PermenPAN-RB 14/2017).
    const TABLE: &[(u64, u64)] = &[
        (10, 10),
        (15, 14),
        (20, 19),
        (25, 24),
        (30, 28),
        (35, 32),
        (40, 36),
        (45, 40),
        (50, 44),
        (55, 48),
        (60, 52),
        (65, 56),
        (70, 59),
        (75, 63),
        (80, 66),
        (85, 70),
        (90, 73),
        (95, 76),
        (100, 80),
        (110, 86),
        (120, 92),
        (130, 97),
        (140, 103),
        (150, 108),
        (160, 113),
        (170, 118),
        (180, 123),
        (190, 127),
        (200, 132),
        (210, 136),
        (220, 140),
        (230, 144),
        (240, 148),
        (250, 152),
        (260, 155),
        (270, 159),
        (280, 162),
        (290, 165),
        (300, 169),
        (320, 175),
        (340, 181),
        (360, 186),
        (380, 191),
        (400, 196),
        (420, 201),
        (440, 205),
        (460, 210),
        (480, 214),
        (500, 217),
        (550, 226),
        (600, 234),
        (650, 242),
        (700, 248),
        (750, 254),
        (800, 260),
        (850, 265),
        (900, 269),
        (950, 274),
        (1000, 278),
        (1100, 285),
        (1200, 291),
        (1300, 297),
        (1400, 302),
        (1500, 306),
        (1600, 310),
        (1700, 313),
        (1800, 317),
        (1900, 320),
        (2000, 322),
        (2200, 327),
        (2400, 331),
        (2600, 335),
        (2800, 338),
        (3000, 341),
        (3500, 346),
        (4000, 351),
        (4500, 354),
        (5000, 357),
        (6000, 361),
        (7000, 364),
        (8000, 367),
        (9000, 368),
        (10_000, 370),
        (15_000, 375),
        (20_000, 377),
        (30_000, 379),
        (40_000, 380),
        (50_000, 381),
        (75_000, 382),
        (100_000, 384),
        (1_000_000, 384),
    ];

    fn standard(n: u64) -> u64 {
        krejcie_morgan(n, DEFAULT_CONFIDENCE, DEFAULT_MARGIN)
            .unwrap()
            .minimum
    }

    #[test]
    fn reproduces_the_rows_named_in_the_design() {
        for (n, s) in [
            (10, 10),
            (50, 44),
            (100, 80),
            (200, 132),
            (500, 217),
            (1000, 278),
            (5000, 357),
            (10_000, 370),
            (100_000, 384),
            (1_000_000, 384),
        ] {
            assert_eq!(standard(n), s, "N = {n}");
        }
    }

    #[test]
    fn reproduces_every_row_of_the_published_table() {
        for &(n, s) in TABLE {
            assert_eq!(standard(n), s, "N = {n}");
        }
    }

    #[test]
    fn uses_the_tables_chi_square_to_three_decimals() {
        let s = krejcie_morgan(1000, 0.95, 0.05).unwrap();
        assert_eq!(s.chi_square.format(','), "3,841");
        assert_eq!(
            krejcie_morgan(1000, 0.99, 0.05)
                .unwrap()
                .chi_square
                .format('.'),
            "6.635"
        );
        assert_eq!(
            krejcie_morgan(1000, 0.90, 0.05)
                .unwrap()
                .chi_square
                .format('.'),
            "2.706"
        );
    }

    #[test]
    fn other_confidence_and_margin_follow_the_formula() {
        // 99%, d = 0,05, N = 1000: 6,635 * 1000 * 0,25 / (0,0025 * 999 + 6,635 * 0,25)
        // = 1658,75 / (2,4975 + 1,65875) = 1658,75 / 4,15625 = 399,097... -> 399.
        assert_eq!(krejcie_morgan(1000, 0.99, 0.05).unwrap().minimum, 399);
        // 95%, d = 0,10, N = 1000: 960,25 / (0,01 * 999 + 0,96025) = 960,25 / 10,95025 = 87,69... -> 88.
        assert_eq!(krejcie_morgan(1000, 0.95, 0.10).unwrap().minimum, 88);
    }

    #[test]
    fn never_asks_for_more_than_the_population_and_grows_with_it() {
        let mut previous = 0;
        for n in 1..3000 {
            let s = standard(n);
            assert!(s <= n && s >= previous, "N = {n}: {s}");
            previous = s;
        }
    }

    #[test]
    fn rejects_nonsense_parameters() {
        assert_eq!(
            krejcie_morgan(0, 0.95, 0.05).unwrap_err(),
            SampleError::Population
        );
        assert!(matches!(
            krejcie_morgan(10, 1.0, 0.05),
            Err(SampleError::Confidence(_))
        ));
        assert!(matches!(
            krejcie_morgan(10, 0.95, 0.0),
            Err(SampleError::Margin(_))
        ));
        assert!(matches!(
            krejcie_morgan(10, 0.95, f64::NAN),
            Err(SampleError::Margin(_))
        ));
    }
}
