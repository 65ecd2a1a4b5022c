//! Respondent profile breakdowns: each profile field's categories (age in bands) with their
//! respondents and IKM, any cell under [`MIN_CELL`] respondents suppressed.

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
    /// True when the cell has fewer than 5 respondents and is hidden.
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
        let cells = categories
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
                let n = tally.as_ref().map_or(0, |t| t.respondents);
                let suppressed = n > 0 && n < MIN_CELL;
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

#[cfg(test)]
mod tests {
    use super::*;

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
