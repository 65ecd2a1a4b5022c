//! Stored tallies added straight from their encoded bytes into a running total, without
//! decoding each row into a tally of its own first: a report over thousands of tally rows then
//! allocates per group, not per row and profile cell.
//!
//! The bytes are a version byte ([`VERSION`]) and the postcard encoding of [`Tally`] or
//! [`ProfileTallies`], LZ4-compressed with its length in front (version 2; version 1, still
//! read, stored the postcard bytes as they are); these visitors walk the same field order the
//! derived `Serialize` writes, and refuse anything of another shape. A change to either type's
//! fields changes the stored format: `the_stored_encoding_is_pinned` then fails, and
//! [`VERSION`] must go up with a reader for the old version kept (or a migration that rewrites
//! the rows).
//!
//! Why LZ4: most tally rows count one or a few responses, so their counts are runs of zeros and
//! ones, and the tally table is most of a national database. Sampled rows of a national load
//! take 47 % fewer bytes in LZ4 blocks, at about a microsecond a value each way. Deflate saves
//! more (61 %) but costs some 20 µs to deflate and 8 µs to inflate a value, mostly setting up
//! its tables: a report reading 2,000 rows would spend 30 ms inflating.

use std::borrow::Cow;
use std::fmt;
use std::ops::AddAssign;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::profile::{Cell, ProfileTallies};
use crate::engine::Tally;
use crate::engine::tally::CompleteSums;
use crate::error::AppError;

/// The encoding version, the first byte of every stored tally and profile written now.
pub const VERSION: u8 = 2;

/// The version before, the postcard bytes uncompressed: still read, never written.
const PLAIN: u8 = 1;

/// Most bytes a stored value may say it holds: far above any real tally (a few kilobytes), so
/// that a corrupt row cannot make a report allocate without bound.
const MAX_PLAIN: usize = 1 << 20;

/// The postcard bytes of a stored value, after its version byte (decompressed for version 2);
/// an internal error for a version this build cannot read or bytes that do not decompress.
pub fn payload(bytes: &[u8]) -> Result<Cow<'_, [u8]>, AppError> {
    match bytes.split_first() {
        Some((&VERSION, rest)) => decompress(rest).map(Cow::Owned),
        Some((&PLAIN, rest)) => Ok(Cow::Borrowed(rest)),
        Some((other, _)) => Err(AppError::internal(format!(
            "a stored tally of encoding version {other}; this build reads versions {PLAIN} and \
             {VERSION} (run `kepuasan tallies rebuild`)"
        ))),
        None => Err(AppError::internal("an empty stored tally")),
    }
}

fn decompress(block: &[u8]) -> Result<Vec<u8>, AppError> {
    let bad = |e: lz4_flex::block::DecompressError| {
        AppError::internal(format!("a stored tally does not decompress: {e}"))
    };
    let (size, block) = lz4_flex::block::uncompressed_size(block).map_err(bad)?;
    if size > MAX_PLAIN {
        return Err(AppError::internal(format!(
            "a stored tally says it holds {size} bytes"
        )));
    }
    let mut plain = vec![0; size];
    let written = lz4_flex::block::decompress_into(block, &mut plain).map_err(bad)?;
    if written != size {
        return Err(AppError::internal(format!(
            "a stored tally decompresses to {written} bytes, not the {size} it says"
        )));
    }
    Ok(plain)
}

/// A value as stored: the version byte, then its postcard encoding as an LZ4 block with its
/// length in front.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, AppError> {
    let plain = postcard::to_allocvec(value).map_err(AppError::internal)?;
    let block = lz4_flex::block::compress_prepend_size(&plain);
    let mut out = Vec::with_capacity(1 + block.len());
    out.push(VERSION);
    out.extend_from_slice(&block);
    Ok(out)
}

/// A stored value decoded whole.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    postcard::from_bytes(&payload(bytes)?).map_err(AppError::internal)
}

/// Adds an encoded tally into `into`, which must be of the same instrument; with `complete`
/// false its sums over complete responses are skipped (all a trend or a breakdown needs).
pub fn add_tally(into: &mut Tally, bytes: &[u8], complete: bool) -> Result<(), AppError> {
    let seed = TallySeed { into, complete };
    let payload = payload(bytes)?;
    let mut de = postcard::Deserializer::from_bytes(&payload);
    seed.deserialize(&mut de).map_err(AppError::internal)
}

/// Adds encoded profile counts into `into`.
pub fn add_profile(into: &mut ProfileTallies, bytes: &[u8]) -> Result<(), AppError> {
    let seed = ProfileSeed {
        into,
        key: (String::new(), String::new()),
    };
    let payload = payload(bytes)?;
    let mut de = postcard::Deserializer::from_bytes(&payload);
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
            add_tally(&mut added, &encode(t).unwrap(), true).unwrap();
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
            add_tally(&mut head, &encode(t).unwrap(), false).unwrap();
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
        assert!(add_tally(&mut into, &encode(&other).unwrap(), true).is_err());
        let mut short = a.clone();
        short.counts.pop();
        assert!(add_tally(&mut into, &encode(&short).unwrap(), false).is_err());
        let mut long = a.clone();
        long.by_answered.push(ScoreSums::default());
        assert!(add_tally(&mut into, &encode(&long).unwrap(), false).is_err());
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
            add_profile(&mut added, &encode(p).unwrap()).unwrap();
        }
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(added, merged);
        assert_ne!(added, a);
    }

    #[test]
    fn the_stored_encoding_is_pinned() {
        // The bytes of a small tally and profile as stored, decompressed. If this fails, a
        // field of Tally, ProfileTallies or Cell changed: the stored format changed with it.
        // Raise VERSION, keep a reader for the versions before (or rewrite the rows in a
        // migration), then pin anew.
        let registry = Registry::built_in().unwrap();
        let instrument = registry.get("skm-2017").unwrap();
        let answers = Answers(vec![
            Some(4),
            Some(3),
            Some(2),
            Some(1),
            None,
            None,
            None,
            None,
            None,
        ]);
        let mut tally = Tally::new(instrument);
        tally.add_checked(&answers);
        let mut profile = ProfileTallies::default();
        profile
            .add(instrument, Some(r#"{"gender":"P"}"#), &answers)
            .unwrap();
        let tally_bytes = encode(&tally).unwrap();
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        // Worked out from the types: postcard writes lengths and integers as varints, signed
        // ones zigzagged (scale_min 1 is 02; the sum 10 is 14; the sum of squares 100 is 200,
        // the varint c8 01).
        let zeros = |n: usize| "00".repeat(n);
        let expected = [
            "08736b6d2d32303137".to_owned(),                       // "skm-2017"
            "0201".to_owned(),                                     // scale_min 1, respondents 1
            "09".to_owned(),                                       // counts: 9 items of 4 values
            "0400000001040000010004000100000401000000".to_owned(), // U1 4, U2 3, U3 2, U4 1
            format!("04{}", zeros(4)).repeat(5),                   // U5-U9 unanswered
            "09".to_owned(),                                       // by number answered: 9 groups
            zeros(3).repeat(3),                                    // 1-3 answered: none
            "0114c801".to_owned(),      // 4 answered: n 1, sum 10, sq 100
            zeros(3).repeat(5),         // 5-9 answered: none
            "00".to_owned(),            // complete responses: none
            format!("09{}", zeros(9)),  // their item sums
            format!("51{}", zeros(81)), // their 81 cross-products
        ]
        .concat();
        assert_eq!(tally_bytes[0], VERSION);
        assert_eq!(hex(&payload(&tally_bytes).unwrap()), expected);
        let profile_bytes = encode(&profile).unwrap();
        assert_eq!(profile_bytes[0], VERSION);
        assert_eq!(decode::<ProfileTallies>(&profile_bytes).unwrap(), profile);
        assert_eq!(decode::<Tally>(&tally_bytes).unwrap(), tally);
    }

    #[test]
    fn a_stored_value_of_another_version_is_refused_with_the_way_out() {
        let (a, _, mut into) = two_tallies();
        let mut bytes = encode(&a).unwrap();
        bytes[0] = 3;
        let e = add_tally(&mut into, &bytes, true).unwrap_err();
        assert!(e.cause().unwrap().contains("version 3"), "{e}");
        assert!(e.cause().unwrap().contains("tallies rebuild"), "{e}");
        assert!(decode::<Tally>(&[]).is_err());
        assert!(decode::<Tally>(&bytes).is_err());
    }

    #[test]
    fn rows_stored_uncompressed_by_version_1_are_still_read() {
        let (a, b, empty) = two_tallies();
        let mut plain = vec![1];
        plain.extend(postcard::to_allocvec(&a).unwrap());
        assert_eq!(decode::<Tally>(&plain).unwrap(), a);
        let mut added = empty.clone();
        add_tally(&mut added, &plain, true).unwrap();
        add_tally(&mut added, &encode(&b).unwrap(), true).unwrap();
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(added, merged);
    }

    #[test]
    fn bytes_that_do_not_decompress_are_refused() {
        let (a, _, mut into) = two_tallies();
        let bytes = encode(&a).unwrap();
        let cut = &bytes[..bytes.len() - 3];
        assert!(add_tally(&mut into, cut, true).is_err());
        assert!(add_tally(&mut into, &[VERSION, 0xff, 0xff, 0xff], true).is_err());
        assert!(decode::<Tally>(&[VERSION]).is_err());
        // A length far beyond any tally is refused before anything is allocated for it.
        let mut huge = vec![VERSION];
        huge.extend(u32::MAX.to_le_bytes());
        huge.extend(&bytes[5..]);
        let e = decode::<Tally>(&huge).unwrap_err();
        assert!(e.cause().unwrap().contains("says it holds"), "{e}");
    }

    #[test]
    fn a_one_response_row_is_stored_in_under_two_thirds_of_the_plain_bytes() {
        // A row of one respondent (most day rows): its counts are zeros and ones. Sampled rows
        // of a national load took 184 + 311 bytes plain and 108 + 153 in LZ4 blocks (Python's
        // lz4), 53 %; one response alone compresses less than a row of several.
        let registry = Registry::built_in().unwrap();
        let instrument = registry.get("skm-2017").unwrap();
        let answers = Answers(vec![
            Some(3),
            Some(4),
            Some(3),
            Some(2),
            Some(3),
            Some(4),
            Some(3),
            Some(3),
            Some(4),
        ]);
        let mut tally = Tally::new(instrument);
        tally.add_checked(&answers);
        let mut profile = ProfileTallies::default();
        let who = r#"{"gender":"L","age":41,"education":"SMA","occupation":"PNS"}"#;
        profile.add(instrument, Some(who), &answers).unwrap();
        let plain = postcard::to_allocvec(&tally).unwrap().len()
            + postcard::to_allocvec(&profile).unwrap().len();
        let stored = encode(&tally).unwrap().len() + encode(&profile).unwrap().len();
        assert!(plain > 350, "{plain}");
        assert!(stored * 3 < plain * 2, "{stored} stored bytes of {plain}");
        assert_eq!(
            decode::<ProfileTallies>(&encode(&profile).unwrap()).unwrap(),
            profile
        );
    }
}
