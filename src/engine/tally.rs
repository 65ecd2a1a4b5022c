//! Additive tallies of responses: the only input the index engine reads.
//!
//! A tally holds integer counts and sums, never rows, so tallies of days, services or units add
//! up to the tally of their union and a report costs the same for ten responses or ten million.
//! It carries everything the statistics need as well: sums of respondents' own scores (grouped
//! by how many items each answered, so they stay integers) and, over complete responses, the
//! item sums and cross-products behind Cronbach's alpha and the item-total correlations.

use serde::{Deserialize, Serialize};

use crate::instrument::Instrument;

/// Why a response cannot be tallied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The response names an item the instrument does not have.
    #[error("{code}: unknown item for instrument {instrument}")]
    UnknownItem {
        /// The unknown code.
        code: String,
        /// The instrument key.
        instrument: String,
    },
    /// An answer outside the instrument's scale.
    #[error("{code}: must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// Item code.
        code: String,
        /// The value given.
        value: i64,
        /// Lowest allowed.
        min: i64,
        /// Highest allowed.
        max: i64,
    },
    /// The same item answered twice in one response.
    #[error("{code}: answered more than once")]
    Duplicate {
        /// Item code.
        code: String,
    },
    /// A response that answers no item at all.
    #[error("no item is answered")]
    Empty,
}

impl AnswerError {
    /// The item code the error is about, if any.
    pub fn item(&self) -> Option<&str> {
        match self {
            AnswerError::UnknownItem { code, .. }
            | AnswerError::OutOfRange { code, .. }
            | AnswerError::Duplicate { code } => Some(code),
            AnswerError::Empty => None,
        }
    }
}

/// One response's answers, aligned with the instrument's items; `None` is unanswered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers(pub Vec<Option<i64>>);

impl Answers {
    /// Builds checked answers from `(item code, value)` pairs.
    pub fn from_pairs<'a>(
        instrument: &Instrument,
        pairs: impl IntoIterator<Item = (&'a str, i64)>,
    ) -> Result<Answers, AnswerError> {
        let mut values = vec![None; instrument.items.len()];
        for (code, value) in pairs {
            let index = instrument
                .item_index(code)
                .ok_or_else(|| AnswerError::UnknownItem {
                    code: code.to_owned(),
                    instrument: instrument.key.clone(),
                })?;
            if values[index].is_some() {
                return Err(AnswerError::Duplicate {
                    code: code.to_owned(),
                });
            }
            values[index] = Some(value);
        }
        let answers = Answers(values);
        answers.check(instrument)?;
        Ok(answers)
    }

    /// Checks the values against the instrument's scale and that at least one item is answered.
    pub fn check(&self, instrument: &Instrument) -> Result<(), AnswerError> {
        assert_eq!(
            self.0.len(),
            instrument.items.len(),
            "answers aligned with the instrument"
        );
        for (item, value) in instrument.items.iter().zip(&self.0) {
            if let Some(v) = *value
                && (v < instrument.scale_min || v > instrument.scale_max)
            {
                return Err(AnswerError::OutOfRange {
                    code: item.code.clone(),
                    value: v,
                    min: instrument.scale_min,
                    max: instrument.scale_max,
                });
            }
        }
        if self.0.iter().all(Option::is_none) {
            return Err(AnswerError::Empty);
        }
        Ok(())
    }
}

/// Sums of respondents' answer totals, for respondents who answered the same number of items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreSums {
    /// Respondents in the group.
    pub n: u64,
    /// Sum over respondents of the sum of their answers.
    pub sum: i128,
    /// Sum over respondents of the square of the sum of their answers.
    pub sum_sq: i128,
}

impl std::ops::AddAssign for ScoreSums {
    fn add_assign(&mut self, other: ScoreSums) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }
}

/// Integer sums over complete responses (every item answered).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteSums {
    /// Complete responses.
    pub n: u64,
    /// Per item, the sum of answers.
    pub sum: Vec<i128>,
    /// Row-major `k x k` matrix of sums of products of answers to items i and j.
    pub cross: Vec<i128>,
}

/// An additive summary of a set of responses to one instrument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Instrument key the tally belongs to.
    pub instrument: String,
    /// Lowest scale value, so `counts[i][0]` counts answers of this value.
    pub scale_min: i64,
    /// Responses tallied.
    pub respondents: u64,
    /// `counts[item][value - scale_min]`: how many answered that value.
    pub counts: Vec<Vec<u64>>,
    /// `by_answered[k - 1]`: respondents who answered exactly k items.
    pub by_answered: Vec<ScoreSums>,
    /// Sums over complete responses.
    pub complete: CompleteSums,
}

impl Tally {
    /// An empty tally for an instrument.
    pub fn new(instrument: &Instrument) -> Tally {
        let k = instrument.items.len();
        let values = instrument.scale_len();
        Tally {
            instrument: instrument.key.clone(),
            scale_min: instrument.scale_min,
            respondents: 0,
            counts: vec![vec![0; values]; k],
            by_answered: vec![ScoreSums::default(); k],
            complete: CompleteSums {
                n: 0,
                sum: vec![0; k],
                cross: vec![0; k * k],
            },
        }
    }

    /// Number of items.
    pub fn items(&self) -> usize {
        self.counts.len()
    }

    /// Adds one response after checking it against the instrument.
    pub fn add(&mut self, instrument: &Instrument, answers: &Answers) -> Result<(), AnswerError> {
        answers.check(instrument)?;
        self.add_checked(answers);
        Ok(())
    }

    /// Adds a response that has already passed [`Answers::check`] for this tally's instrument.
    pub fn add_checked(&mut self, answers: &Answers) {
        let k = self.items();
        self.respondents += 1;
        let mut answered = 0usize;
        let mut total: i128 = 0;
        for (i, value) in answers.0.iter().enumerate() {
            if let Some(v) = *value {
                let slot = usize::try_from(v - self.scale_min).expect("checked answer");
                self.counts[i][slot] += 1;
                answered += 1;
                total += i128::from(v);
            }
        }
        let group = &mut self.by_answered[answered - 1];
        group.n += 1;
        group.sum += total;
        group.sum_sq += total * total;
        if answered == k {
            let c = &mut self.complete;
            c.n += 1;
            for i in 0..k {
                let vi = i128::from(answers.0[i].expect("complete"));
                c.sum[i] += vi;
                for j in 0..k {
                    c.cross[i * k + j] += vi * i128::from(answers.0[j].expect("complete"));
                }
            }
        }
    }

    /// Adds another tally of the same instrument to this one.
    pub fn merge(&mut self, other: &Tally) {
        assert_eq!(
            self.instrument, other.instrument,
            "tallies of one instrument"
        );
        self.respondents += other.respondents;
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        for (a, b) in self.by_answered.iter_mut().zip(&other.by_answered) {
            *a += *b;
        }
        self.complete.n += other.complete.n;
        for (a, b) in self.complete.sum.iter_mut().zip(&other.complete.sum) {
            *a += b;
        }
        for (a, b) in self.complete.cross.iter_mut().zip(&other.complete.cross) {
            *a += b;
        }
    }

    /// Tallies a list of responses, stopping at the first invalid one.
    pub fn of(instrument: &Instrument, responses: &[Answers]) -> Result<Tally, AnswerError> {
        let mut tally = Tally::new(instrument);
        for answers in responses {
            tally.add(instrument, answers)?;
        }
        Ok(tally)
    }
}
