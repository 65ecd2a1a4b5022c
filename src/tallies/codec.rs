//! Stored tallies added straight from their encoded bytes into a running total, without
//! decoding each row into a tally of its own first: a report over thousands of tally rows then
//! allocates per group, not per row and profile cell.
//!
//! The bytes are postcard encodings of [`Tally`] and [`ProfileTallies`]; these visitors walk
//! the same field order the derived `Serialize` writes, and refuse anything of another shape.

use std::fmt;
use std::ops::AddAssign;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use crate::engine::Tally;
use crate::engine::tally::CompleteSums;
use crate::error::AppError;
use crate::reporting::profile::{Cell, ProfileTallies};

/// Adds an encoded tally into `into`, which must be of the same instrument; with `complete`
/// false its sums over complete responses are skipped (all a trend or a breakdown needs).
pub fn add_tally(into: &mut Tally, bytes: &[u8], complete: bool) -> Result<(), AppError> {
    let seed = TallySeed { into, complete };
    let mut de = postcard::Deserializer::from_bytes(bytes);
    seed.deserialize(&mut de).map_err(AppError::internal)
}

/// Adds encoded profile counts into `into`.
pub fn add_profile(into: &mut ProfileTallies, bytes: &[u8]) -> Result<(), AppError> {
    let seed = ProfileSeed {
        into,
        key: (String::new(), String::new()),
    };
    let mut de = postcard::Deserializer::from_bytes(bytes);
    seed.deserialize(&mut de).map_err(AppError::internal)
}

fn shape<E: de::Error>(what: &str) -> E {
    E::custom(format!("stored tally of another shape: {what}"))
}

/// Reads the next element of a sequence that must be there.
fn next<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(
    seq: &mut A,
    what: &str,
) -> Result<T, A::Error> {
    seq.next_element()?.ok_or_else(|| shape(what))
}

fn next_seed<'de, A: SeqAccess<'de>, S: DeserializeSeed<'de>>(
    seq: &mut A,
    seed: S,
    what: &str,
) -> Result<S::Value, A::Error> {
    seq.next_element_seed(seed)?.ok_or_else(|| shape(what))
}

struct TallySeed<'t> {
    into: &'t mut Tally,
    complete: bool,
}

impl<'de> DeserializeSeed<'de> for TallySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        // The derived encoding of a struct is its fields in order; a trailing field left
        // unread is simply not visited.
        let fields = if self.complete { 6 } else { 5 };
        de.deserialize_tuple(fields, self)
    }
}

impl<'de> Visitor<'de> for TallySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an encoded tally")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let into = self.into;
        let instrument: &str = next(&mut seq, "instrument")?;
        let scale_min: i64 = next(&mut seq, "scale")?;
        if instrument != into.instrument || scale_min != into.scale_min {
            return Err(shape("instrument"));
        }
        into.respondents += next::<_, u64>(&mut seq, "respondents")?;
        next_seed(&mut seq, AddRows(&mut into.counts), "counts")?;
        next_seed(&mut seq, AddEach(&mut into.by_answered), "by_answered")?;
        if self.complete {
            next_seed(&mut seq, AddComplete(&mut into.complete), "complete")?;
        }
        Ok(())
    }
}

/// Adds a sequence element by element into a slice of the same length.
struct AddEach<'s, T>(&'s mut [T]);

impl<'de, T: Deserialize<'de> + AddAssign> DeserializeSeed<'de> for AddEach<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de> + AddAssign> Visitor<'de> for AddEach<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a sequence of {}", self.0.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut slots = self.0.iter_mut();
        while let Some(value) = seq.next_element::<T>()? {
            *slots.next().ok_or_else(|| shape("too long"))? += value;
        }
        match slots.next() {
            None => Ok(()),
            Some(_) => Err(shape("too short")),
        }
    }
}

/// Adds `counts[item][value]` row by row.
struct AddRows<'s>(&'s mut [Vec<u64>]);

impl<'de> DeserializeSeed<'de> for AddRows<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AddRows<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} rows of counts", self.0.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut rows = self.0.iter_mut();
        loop {
            let Some(row) = rows.next() else {
                return match seq.next_element::<de::IgnoredAny>()? {
                    None => Ok(()),
                    Some(_) => Err(shape("too many items")),
                };
            };
            next_seed(&mut seq, AddEach(row), "too few items")?;
        }
    }
}

/// Adds the sums over complete responses.
struct AddComplete<'s>(&'s mut CompleteSums);

impl<'de> DeserializeSeed<'de> for AddComplete<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_tuple(3, self)
    }
}

impl<'de> Visitor<'de> for AddComplete<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("sums over complete responses")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.n += next::<_, u64>(&mut seq, "complete n")?;
        next_seed(&mut seq, AddEach(&mut self.0.sum), "complete sum")?;
        next_seed(&mut seq, AddEach(&mut self.0.cross), "complete cross")?;
        Ok(())
    }
}

/// Adds a map of profile cells; `key` is a scratch key reused for every look-up.
struct ProfileSeed<'p> {
    into: &'p mut ProfileTallies,
    key: (String, String),
}

impl<'de> DeserializeSeed<'de> for ProfileSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProfileSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("profile counts")
    }

    fn visit_map<A: de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some((field, category)) = map.next_key::<(&str, &str)>()? {
            self.key.0.clear();
            self.key.0.push_str(field);
            self.key.1.clear();
            self.key.1.push_str(category);
            let cell = self.into.cell_mut(&self.key);
            map.next_value_seed(AddCell(cell))?;
        }
        Ok(())
    }
}

/// Adds one profile cell; an empty cell takes the other's length.
struct AddCell<'c>(&'c mut Cell);

impl<'de> DeserializeSeed<'de> for AddCell<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_tuple(2, self)
    }
}

impl<'de> Visitor<'de> for AddCell<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a profile cell")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let cell = self.0;
        cell.respondents += next::<_, u64>(&mut seq, "cell respondents")?;
        if cell.counts.is_empty() {
            cell.counts = next(&mut seq, "cell counts")?;
            Ok(())
        } else {
            next_seed(&mut seq, AddEach(&mut cell.counts), "cell counts")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Answers;
    use crate::engine::tally::ScoreSums;
    use crate::instrument::Registry;

    fn two_tallies() -> (Tally, Tally, Tally) {
        let registry = Registry::built_in().unwrap();
        let instrument = registry.get("skm-2017").unwrap();
        let mut a = Tally::new(instrument);
        a.add_checked(&Answers(vec![Some(4); 9]));
        let mut partial = vec![Some(2); 9];
        partial[3] = None;
        a.add_checked(&Answers(partial));
        let mut b = Tally::new(instrument);
        b.add_checked(&Answers(vec![Some(1); 9]));
        (a, b, Tally::new(instrument))
    }

    #[test]
    fn adding_encoded_tallies_equals_merging_decoded_ones() {
        let (a, b, empty) = two_tallies();
        let mut added = empty.clone();
        for t in [&a, &b] {
            add_tally(&mut added, &postcard::to_stdvec(t).unwrap(), true).unwrap();
        }
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(added, merged);
    }

    #[test]
    fn without_the_complete_sums_everything_else_is_added() {
        let (a, b, empty) = two_tallies();
        let mut head = empty.clone();
        for t in [&a, &b] {
            add_tally(&mut head, &postcard::to_stdvec(t).unwrap(), false).unwrap();
        }
        assert_eq!(head.respondents, 3);
        assert_eq!(head.counts[0], vec![1, 1, 0, 1]);
        assert_eq!(head.counts[3], vec![1, 0, 0, 1]);
        assert_eq!(head.by_answered[8].n, 2);
        assert_eq!(head.by_answered[7].n, 1);
        assert_eq!(head.complete, empty.complete);
    }

    #[test]
    fn a_tally_of_another_instrument_or_shape_is_refused() {
        let (a, _, mut into) = two_tallies();
        let mut other = a.clone();
        other.instrument = "other".into();
        assert!(add_tally(&mut into, &postcard::to_stdvec(&other).unwrap(), true).is_err());
        let mut short = a.clone();
        short.counts.pop();
        assert!(add_tally(&mut into, &postcard::to_stdvec(&short).unwrap(), false).is_err());
        let mut long = a.clone();
        long.by_answered.push(ScoreSums::default());
        assert!(add_tally(&mut into, &postcard::to_stdvec(&long).unwrap(), false).is_err());
        assert!(add_tally(&mut into, &[1, 2, 3], false).is_err());
    }

    #[test]
    fn adding_encoded_profile_counts_equals_merging_decoded_ones() {
        let registry = Registry::built_in().unwrap();
        let instrument = registry.get("skm-2017").unwrap();
        let answers = Answers(vec![Some(3); 9]);
        let mut a = ProfileTallies::default();
        a.add(instrument, Some(r#"{"gender":"P","age":34}"#), &answers)
            .unwrap();
        let mut b = ProfileTallies::default();
        b.add(instrument, Some(r#"{"gender":"L","age":34}"#), &answers)
            .unwrap();
        b.add(instrument, None, &Answers(vec![Some(1); 9])).unwrap();
        let mut added = ProfileTallies::default();
        for p in [&a, &b] {
            add_profile(&mut added, &postcard::to_stdvec(p).unwrap()).unwrap();
        }
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(added, merged);
        assert_ne!(added, a);
    }
}
