//! Respondent profile breakdowns: each profile field's categories (age in bands) with their
//! respondents and IKM, any cell under [`MIN_CELL`] respondents suppressed, and as many others
//! with it as keep it from being worked out by subtraction from the total ([`protect`]).

use serde::Serialize;

use crate::engine::{self, Options};
use crate::error::AppError;
use crate::instrument::{Instrument, ProfileKind};
use crate::tallies::profile::{ProfileTallies, band_label};

/// Fewest respondents a profile cell may show; smaller cells are suppressed.
pub const MIN_CELL: u64 = 5;

/// One category of a profile breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileCell {
    /// Category code (or age band such as `26-35`).
    pub category: String,
    /// Category label in Bahasa Indonesia.
    pub label: String,
    /// Category label in English.
    pub label_en: String,
    /// Respondents; `None` when suppressed.
    pub respondents: Option<u64>,
    /// The IKM of this group; `None` when suppressed or not computable.
    pub ikm: Option<engine::exact::Fixed>,
    /// True when the cell is hidden: it has fewer than 5 respondents, or it is hidden with such
    /// a cell so that neither can be worked out from the others and the total.
    pub suppressed: bool,
}

/// A profile field's breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileBreakdown {
    /// Field key.
    pub field: String,
    /// Field label in Bahasa Indonesia.
    pub label: String,
    /// Cells, in the instrument's order, then `not_given`.
    pub cells: Vec<ProfileCell>,
}

fn band_labels(min: i64, max: i64, bands: &[i64]) -> Vec<String> {
    let mut starts = vec![min];
    starts.extend_from_slice(bands);
    starts
        .iter()
        .map(|&s| band_label(min, max, bands, s))
        .collect()
}

/// The breakdowns of every profile field.
pub fn breakdowns(
    instrument: &Instrument,
    groups: &ProfileTallies,
    options: &Options,
) -> Result<Vec<ProfileBreakdown>, AppError> {
    let mut out = Vec::new();
    for field in &instrument.profile {
        let categories: Vec<(String, String, String)> = match &field.kind {
            ProfileKind::Choice { choices } => choices
                .iter()
                .map(|c| (c.code.clone(), c.id.clone(), c.en.clone()))
                .collect(),
            ProfileKind::Integer { min, max, bands } => band_labels(*min, *max, bands)
                .into_iter()
                .map(|b| (b.clone(), b.clone(), b))
                .collect(),
        };
        let categories: Vec<_> = categories
            .into_iter()
            .chain(std::iter::once((
                "not_given".to_owned(),
                "Tidak diisi".to_owned(),
                "Not given".to_owned(),
            )))
            .map(|(category, label, label_en)| {
                let tally = groups
                    .get(&(field.key.clone(), category.clone()))
                    .map(|cell| cell.tally(instrument));
                (category, label, label_en, tally)
            })
            .collect();
        let counts: Vec<u64> = categories
            .iter()
            .map(|(.., t)| t.as_ref().map_or(0, |t| t.respondents))
            .collect();
        let hidden = protect(&counts);
        let cells = categories
            .into_iter()
            .zip(hidden)
            .map(|((category, label, label_en, tally), suppressed)| {
                let n = tally.as_ref().map_or(0, |t| t.respondents);
                let ikm = match &tally {
                    Some(t) if !suppressed => engine::ikm(instrument, t, options.mode.as_deref())
                        .ok()
                        .flatten(),
                    _ => None,
                };
                ProfileCell {
                    category,
                    label,
                    label_en,
                    respondents: (!suppressed).then_some(n),
                    ikm,
                    suppressed,
                }
            })
            .collect();
        out.push(ProfileBreakdown {
            field: field.key.clone(),
            label: field.label.id.clone(),
            cells,
        });
    }
    Ok(out)
}

/// Which cells of one field to hide, given their counts (which add up to the published total):
/// every cell of 1 to [`MIN_CELL`] − 1 respondents, and then, smallest first, other non-empty
/// cells, until at least two are hidden and together they hold more respondents than cells.
/// Then, knowing only that a hidden cell is not empty, a reader who subtracts the shown cells
/// from the total learns the hidden cells' sum and can pin down none of them (the
/// complementary suppression of statistical offices, for a table with one margin). Where every
/// non-empty cell is hidden and that still does not hold (two respondents, one in each of two
/// cells), nothing more can be hidden but the total itself, which the report publishes.
pub fn protect(counts: &[u64]) -> Vec<bool> {
    let mut hidden: Vec<bool> = counts.iter().map(|&n| n > 0 && n < MIN_CELL).collect();
    loop {
        let (cells, sum) = counts
            .iter()
            .zip(&hidden)
            .filter(|(_, h)| **h)
            .fold((0u64, 0u64), |(k, t), (n, _)| (k + 1, t + n));
        if cells == 0 || (cells >= 2 && sum > cells) {
            return hidden;
        }
        let next = counts
            .iter()
            .enumerate()
            .filter(|(i, n)| !hidden[*i] && **n > 0)
            .min_by_key(|(_, n)| **n)
            .map(|(i, _)| i);
        match next {
            Some(i) => hidden[i] = true,
            None => return hidden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Whether a reader who sees the shown cells and the total (so the hidden cells' sum), and
    /// knows only that a hidden cell is not empty, can pin down some hidden cell's count: it
    /// can when the smallest and largest counts that cell could have are the same.
    fn recoverable(counts: &[u64], hidden: &[bool]) -> bool {
        let of_hidden: Vec<u64> = counts
            .iter()
            .zip(hidden)
            .filter(|(_, h)| **h)
            .map(|(n, _)| *n)
            .collect();
        let (k, sum) = (of_hidden.len() as u64, of_hidden.iter().sum::<u64>());
        // A lone hidden cell is the sum; each of several lies in [1, sum − (k − 1)], pinned when
        // that range is one value.
        match k {
            0 => false,
            1 => true,
            _ => sum - (k - 1) == 1,
        }
    }

    #[test]
    fn a_lone_small_cell_is_hidden_with_the_next_smallest() {
        // L 12, P 8, not given 1 of 21: hiding only the 1 leaves it as 21 − 12 − 8.
        assert_eq!(protect(&[12, 8, 1]), [false, true, true]);
        // Five women and one man: both hidden.
        assert_eq!(protect(&[1, 5, 0]), [true, true, false]);
        // Two small cells of 1 each: their sum 2 would pin both; one more is hidden.
        assert_eq!(protect(&[1, 1, 9, 30]), [true, true, true, false]);
        // Nothing small, nothing hidden; empty cells are never hidden.
        assert_eq!(protect(&[12, 0, 7]), [false, false, false]);
    }

    proptest! {
        #[test]
        fn no_hidden_cell_can_be_worked_out_from_the_shown_cells_and_the_total(
            counts in proptest::collection::vec(prop_oneof![Just(0u64), 1u64..5, 1u64..40], 2..9)
        ) {
            let hidden = protect(&counts);
            // Every small cell is hidden, and no empty one.
            for (n, h) in counts.iter().zip(&hidden) {
                if *n > 0 && *n < MIN_CELL {
                    prop_assert!(*h);
                }
                if *n == 0 {
                    prop_assert!(!*h);
                }
            }
            // Unless every non-empty cell is hidden already (nothing left to hide but the
            // total), no hidden cell can be recovered.
            let all_hidden = counts.iter().zip(&hidden).all(|(n, h)| *n == 0 || *h);
            prop_assert!(all_hidden || !recoverable(&counts, &hidden), "{counts:?} {hidden:?}");
        }
    }

    #[test]
    fn age_bands_follow_the_instrument() {
        let bands = [17, 26, 36, 46, 56];
        assert_eq!(
            band_labels(10, 120, &bands),
            ["10-16", "17-25", "26-35", "36-45", "46-55", "56+"]
        );
        assert_eq!(band_label(10, 120, &bands, 34), "26-35");
        assert_eq!(band_label(10, 120, &bands, 80), "56+");
    }
}
