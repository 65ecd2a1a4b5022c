//! Respondent profile breakdowns: each profile field's categories (age in bands) with their
//! respondents and IKM, any cell under [`MIN_CELL`] respondents suppressed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::{self, Answers, Options, Tally};
use crate::error::AppError;
use crate::instrument::{Instrument, ProfileKind};

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

/// Profile key of a response for a field: the choice code or the age band.
fn category(kind: &ProfileKind, value: Option<&serde_json::Value>) -> Option<String> {
    let value = value?;
    match kind {
        ProfileKind::Choice { .. } => value.as_str().map(str::to_owned),
        ProfileKind::Integer { min, max, bands } => {
            let v = value.as_i64()?;
            Some(band_label(*min, *max, bands, v))
        }
    }
}

fn band_label(min: i64, max: i64, bands: &[i64], v: i64) -> String {
    let mut low = min;
    for &b in bands {
        if v < b {
            return format!("{low}-{}", b - 1);
        }
        low = b;
    }
    if low == min {
        format!("{min}-{max}")
    } else {
        format!("{low}+")
    }
}

fn band_labels(min: i64, max: i64, bands: &[i64]) -> Vec<String> {
    let mut starts = vec![min];
    starts.extend_from_slice(bands);
    starts
        .iter()
        .map(|&s| band_label(min, max, bands, s))
        .collect()
}

/// The answer counts of one profile category: all its IKM needs, and additive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Respondents in the category.
    pub respondents: u64,
    /// `counts[item * values + (value - scale_min)]`: [`Tally::counts`] flattened, one
    /// allocation a cell.
    pub counts: Vec<u64>,
}

impl Cell {
    fn add(&mut self, instrument: &Instrument, answers: &Answers) {
        let values = instrument.scale_len();
        if self.counts.is_empty() {
            self.counts = vec![0; instrument.items.len() * values];
        }
        self.respondents += 1;
        for (i, value) in answers.0.iter().enumerate() {
            if let Some(v) = *value {
                let slot = usize::try_from(v - instrument.scale_min).expect("checked answer");
                self.counts[i * values + slot] += 1;
            }
        }
    }

    fn merge(&mut self, other: &Cell) {
        if self.counts.is_empty() {
            self.counts.clone_from(&other.counts);
        } else {
            for (a, b) in self.counts.iter_mut().zip(&other.counts) {
                *a += b;
            }
        }
        self.respondents += other.respondents;
    }

    /// The cell as a tally the engine can score (its index needs the counts alone).
    fn tally(&self, instrument: &Instrument) -> Tally {
        let mut tally = Tally::new(instrument);
        tally.respondents = self.respondents;
        if !self.counts.is_empty() {
            for (item, counts) in tally
                .counts
                .iter_mut()
                .zip(self.counts.chunks(instrument.scale_len()))
            {
                item.copy_from_slice(counts);
            }
        }
        tally
    }
}

/// The answer counts of each profile field's categories, keyed by (field, category).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileTallies(BTreeMap<(String, String), Cell>);

impl ProfileTallies {
    /// Adds a response with its stored profile JSON.
    pub fn add(
        &mut self,
        instrument: &Instrument,
        profile: Option<&str>,
        answers: &Answers,
    ) -> Result<(), AppError> {
        let profile: BTreeMap<String, serde_json::Value> = profile
            .map(serde_json::from_str)
            .transpose()
            .map_err(AppError::internal)?
            .unwrap_or_default();
        for field in &instrument.profile {
            let cat = category(&field.kind, profile.get(&field.key))
                .unwrap_or_else(|| "not_given".to_owned());
            self.0
                .entry((field.key.clone(), cat))
                .or_default()
                .add(instrument, answers);
        }
        Ok(())
    }

    /// The cell of a (field, category), made empty when missing.
    pub fn cell_mut(&mut self, key: &(String, String)) -> &mut Cell {
        if !self.0.contains_key(key) {
            self.0.insert(key.clone(), Cell::default());
        }
        self.0.get_mut(key).expect("inserted")
    }

    /// Adds the counts of another set of responses.
    pub fn merge(&mut self, other: &ProfileTallies) {
        for (key, cell) in &other.0 {
            match self.0.get_mut(key) {
                Some(mine) => mine.merge(cell),
                None => {
                    self.0.insert(key.clone(), cell.clone());
                }
            }
        }
    }
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
                    .0
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
