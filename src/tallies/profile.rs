//! The answer counts of each respondent-profile category (gender, age band, education,
//! occupation), stored with each tally so a report's profile breakdown reads no rows. This
//! type's fields are part of the stored encoding (`codec.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::{Answers, Tally};
use crate::error::AppError;
use crate::instrument::{Instrument, ProfileKind};

/// The category of a response for a field: the choice code or the age band.
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

pub fn band_label(min: i64, max: i64, bands: &[i64], v: i64) -> String {
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
    pub fn tally(&self, instrument: &Instrument) -> Tally {
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

    /// The cell of a (field, category), if any response fell in it.
    pub fn get(&self, key: &(String, String)) -> Option<&Cell> {
        self.0.get(key)
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
