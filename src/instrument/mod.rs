//! Survey instruments: the `survey-defs/` file format, its validation, and the validated model.
//!
//! An instrument file names its items, answer labels (Indonesian and English), scale, weights,
//! computation modes, grading table and respondent profile fields. [`Instrument::from_toml`]
//! turns a file into a checked [`Instrument`]; every error names the file and the field.

mod registry;

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::exact::{Fixed, Q, qi};

pub use registry::Registry;

/// A text in both languages the product speaks: Bahasa Indonesia first, English second.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Bahasa Indonesia.
    pub id: String,
    /// English.
    pub en: String,
}

impl Text {
    /// The text in the requested language.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }
}

/// A language the product speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Bahasa Indonesia, the default.
    #[default]
    Id,
    /// English.
    En,
}

/// One answer of an item's scale with its labels.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerLabel {
    /// The score this answer carries.
    pub value: i64,
    /// Bahasa Indonesia label.
    pub id: String,
    /// English label.
    pub en: String,
}

/// One item (unsur) of an instrument.
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    /// Stable code such as `U1`.
    pub code: String,
    /// Short name of the element.
    pub name: Text,
    /// The question as the respondent reads it.
    pub question: Text,
    /// One label per scale value, in scale order.
    pub answers: Vec<AnswerLabel>,
    /// When the respondent may skip the item, the label of that choice (such as "Belum pernah
    /// menyampaikan pengaduan"); a skipped item is unanswered, as a blank cell is.
    pub skip: Option<Text>,
}

/// How a report is computed: weights and any intermediate rounding the mode prescribes.
#[derive(Clone, Debug, Serialize)]
pub struct Mode {
    /// Stable key such as `exact` or `form-0.111`.
    pub key: String,
    /// What the mode does, for the report's calculation notes.
    pub description: Text,
    /// A fixed weight for every item; `None` uses the instrument's weights.
    pub weight: Option<Fixed>,
    /// Round the index to this many decimals before conversion (the 2004 rule).
    pub index_decimals: Option<u32>,
}

/// One row of the grading table, on the converted (x conversion) scale.
#[derive(Clone, Debug, Serialize)]
pub struct GradeBand {
    /// Lowest converted value of the band, two decimals.
    pub min: Fixed,
    /// Highest converted value of the band, two decimals.
    pub max: Fixed,
    /// Mutu letter, A to D.
    pub letter: String,
    /// Kinerja unit pelayanan label.
    pub performance: Text,
}

/// A category of a choice profile field.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stored code, such as `SMA`.
    pub code: String,
    /// Bahasa Indonesia label.
    pub id: String,
    /// English label.
    pub en: String,
    /// Other spellings printed forms use (`D3`, `D-III`; `Wiraswasta`), matched by
    /// [`Instrument::paper_choice`] when paper is imported.
    #[serde(default, skip_serializing)]
    pub aliases: Vec<String>,
}

/// A spelling as paper matches it: letters and digits only, in lower case (`D-III` is `diii`,
/// `S1 / D4` is `s1d4`).
fn folded(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The kind of a profile field and its allowed values.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ProfileKind {
    /// One of a fixed list of categories.
    Choice {
        /// The allowed categories.
        choices: Vec<Choice>,
    },
    /// A whole number in a range, reported in bands.
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
        /// Lower bounds of the reporting bands after the first.
        bands: Vec<i64>,
    },
}

/// A respondent profile field; every one is optional for the respondent.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileField {
    /// Stable key such as `education`.
    pub key: String,
    /// The field's label.
    pub label: Text,
    /// Allowed values.
    #[serde(flatten)]
    pub kind: ProfileKind,
}

/// A validated instrument.
#[derive(Clone, Debug, Serialize)]
pub struct Instrument {
    /// Stable key such as `skm-2017`.
    pub key: String,
    /// Version of the file; a stored response names the version it answered.
    pub version: u32,
    /// The regulation the instrument implements.
    pub regulation: String,
    /// Title of the survey.
    pub title: Text,
    /// Lowest answer value.
    pub scale_min: i64,
    /// Highest answer value.
    pub scale_max: i64,
    /// Factor from the index scale to the published scale (25 for 1-4 to 25-100).
    pub conversion: i64,
    /// Items in questionnaire order.
    pub items: Vec<Item>,
    /// Item codes in the regulation's prose order, a display option.
    pub prose_order: Vec<String>,
    /// Weight of each item in the default computation, summing to exactly 1.
    #[serde(skip)]
    pub weights: Vec<Q>,
    /// Computation modes; the first listed in `default_mode` applies when none is named.
    pub modes: Vec<Mode>,
    /// Key of the mode used when a report names none.
    pub default_mode: String,
    /// The grading table, ascending.
    pub grades: Vec<GradeBand>,
    /// Respondent profile fields.
    pub profile: Vec<ProfileField>,
}

/// An instrument file that cannot be used, naming the file, the field and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InstrumentError {
    /// The file (or built-in name) the problem is in.
    pub file: String,
    /// The field path, such as `items[2].answers`.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.field, self.problem)
    }
}

impl Instrument {
    /// Parses and validates an instrument file; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Instrument, InstrumentError> {
        let raw: RawInstrument = toml::from_str(text).map_err(|e| InstrumentError {
            file: file.to_owned(),
            field: "(file)".to_owned(),
            problem: e.to_string().trim().replace('\n', " "),
        })?;
        raw.validate(file)
    }

    /// The mode with this key.
    pub fn mode(&self, key: &str) -> Option<&Mode> {
        self.modes.iter().find(|m| m.key == key)
    }

    /// The default mode.
    pub fn default_mode(&self) -> &Mode {
        self.mode(&self.default_mode)
            .expect("validated: the default mode exists")
    }

    /// How many values the scale has (4 for 1 to 4).
    pub fn scale_len(&self) -> usize {
        usize::try_from(self.scale_max - self.scale_min + 1).expect("validated scale")
    }

    /// Position of the item with this code.
    pub fn item_index(&self, code: &str) -> Option<usize> {
        self.items.iter().position(|i| i.code == code)
    }

    /// The item weights a mode applies.
    pub fn weights_for(&self, mode: &Mode) -> Vec<Q> {
        match &mode.weight {
            Some(w) => vec![w.to_q(); self.items.len()],
            None => self.weights.clone(),
        }
    }

    /// The band a converted value falls in; the value must already be rounded to two decimals.
    ///
    /// A value below the first band (possible only in modes whose weights sum to less than 1,
    /// such as `form-0.111` with every answer 1, 24,98) takes the lowest grade.
    pub fn grade(&self, converted: &Fixed) -> &GradeBand {
        self.grades
            .iter()
            .rev()
            .find(|band| *converted >= band.min)
            .unwrap_or(&self.grades[0])
    }

    /// Where the grade bands meet on the converted scale: each band's lowest value but the
    /// first's (65, 76.61, 88.31 for skm-2017), for charts.
    pub fn grade_boundaries(&self) -> Vec<f64> {
        self.grades.iter().skip(1).map(|g| g.min.to_f64()).collect()
    }

    /// The code of a profile choice as written on paper: its code, either label or one of its
    /// aliases, ignoring case, spaces and punctuation; `None` when nothing matches.
    pub fn paper_choice(&self, field: &str, written: &str) -> Option<&str> {
        let ProfileKind::Choice { choices } = &self.profile_field(field)?.kind else {
            return None;
        };
        let written = folded(written);
        choices
            .iter()
            .find(|c| {
                [&c.code, &c.id, &c.en]
                    .into_iter()
                    .chain(&c.aliases)
                    .any(|spelling| folded(spelling) == written)
            })
            .map(|c| c.code.as_str())
    }

    /// The profile field with this key.
    pub fn profile_field(&self, key: &str) -> Option<&ProfileField> {
        self.profile.iter().find(|f| f.key == key)
    }
}

// ---------------------------------------------------------------------------------------------
// The file format, as serde reads it. Unknown fields are errors so that typos do not pass.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    key: String,
    version: u32,
    regulation: String,
    title: Text,
    scale: RawScale,
    conversion: i64,
    default_mode: String,
    #[serde(default)]
    prose_order: Option<Vec<String>>,
    modes: Vec<RawMode>,
    grades: Vec<RawGrade>,
    items: Vec<RawItem>,
    #[serde(default)]
    profile: Vec<RawProfileField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScale {
    min: i64,
    max: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMode {
    key: String,
    description: Text,
    #[serde(default, deserialize_with = "optional_decimal")]
    weight: Option<Fixed>,
    index_decimals: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    #[serde(deserialize_with = "decimal")]
    min: Fixed,
    #[serde(deserialize_with = "decimal")]
    max: Fixed,
    letter: String,
    performance: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    code: String,
    name: Text,
    question: Text,
    #[serde(default, deserialize_with = "optional_decimal")]
    weight: Option<Fixed>,
    answers: Vec<AnswerLabel>,
    #[serde(default)]
    skip: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileField {
    key: String,
    kind: String,
    label: Text,
    #[serde(default)]
    choices: Vec<Choice>,
    min: Option<i64>,
    max: Option<i64>,
    #[serde(default)]
    bands: Vec<i64>,
}

/// A decimal written as a TOML number (`64.99`, `25`) or string (`"0.111"`), read exactly.
///
/// A TOML float is turned back into the shortest text that denotes it, which is the text the
/// author wrote for any number with up to 15 significant digits.
fn decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Fixed, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(i64),
        Float(f64),
        Text(String),
    }
    let text = match Number::deserialize(deserializer)? {
        Number::Int(i) => i.to_string(),
        Number::Float(f) => f.to_string(),
        Number::Text(s) => s,
    };
    Fixed::parse(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a plain decimal number")))
}

fn optional_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Fixed>, D::Error> {
    decimal(deserializer).map(Some)
}

struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    fn fail<T>(
        &self,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Result<T, InstrumentError> {
        Err(InstrumentError {
            file: self.file.to_owned(),
            field: field.into(),
            problem: problem.into(),
        })
    }

    fn text(&self, field: &str, text: &Text) -> Result<(), InstrumentError> {
        if text.id.trim().is_empty() {
            return self.fail(format!("{field}.id"), "the Indonesian text is empty");
        }
        if text.en.trim().is_empty() {
            return self.fail(format!("{field}.en"), "the English text is empty");
        }
        Ok(())
    }

    fn code(&self, field: &str, code: &str) -> Result<(), InstrumentError> {
        let ok = !code.is_empty()
            && code.len() <= 32
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/'));
        if ok {
            Ok(())
        } else {
            self.fail(
                field,
                format!("`{code}` must be 1 to 32 letters, digits, '-', '.', '_' or '/'"),
            )
        }
    }

    fn unique<'s>(
        &self,
        field: &str,
        codes: impl Iterator<Item = &'s str>,
    ) -> Result<(), InstrumentError> {
        let mut seen = HashSet::new();
        for code in codes {
            if !seen.insert(code) {
                return self.fail(field, format!("`{code}` appears more than once"));
            }
        }
        Ok(())
    }
}

impl RawInstrument {
    fn validate(self, file: &str) -> Result<Instrument, InstrumentError> {
        let c = Checker { file };
        c.code("key", &self.key)?;
        if self.regulation.trim().is_empty() {
            return c.fail("regulation", "is empty");
        }
        c.text("title", &self.title)?;
        if self.scale.min >= self.scale.max {
            return c.fail("scale", "min must be below max");
        }
        if self.conversion <= 0 {
            return c.fail("conversion", "must be a positive whole number");
        }
        if self.items.is_empty() {
            return c.fail("items", "an instrument needs at least one item");
        }

        let items = self.validate_items(&c)?;
        let weights = self.validate_weights(&c)?;
        let prose_order = match self.prose_order {
            None => items.iter().map(|i| i.code.clone()).collect(),
            Some(order) => {
                let mut sorted: Vec<&str> = order.iter().map(String::as_str).collect();
                let mut codes: Vec<&str> = items.iter().map(|i| i.code.as_str()).collect();
                sorted.sort_unstable();
                codes.sort_unstable();
                if sorted != codes {
                    return c.fail("prose_order", "must list every item code exactly once");
                }
                order
            }
        };

        if self.modes.is_empty() {
            return c.fail("modes", "at least one mode is needed");
        }
        c.unique("modes", self.modes.iter().map(|m| m.key.as_str()))?;
        let mut modes = Vec::with_capacity(self.modes.len());
        for (i, m) in self.modes.into_iter().enumerate() {
            c.code(&format!("modes[{i}].key"), &m.key)?;
            c.text(&format!("modes[{i}].description"), &m.description)?;
            if let Some(w) = &m.weight
                && *w <= Fixed::parse("0").expect("zero parses")
            {
                return c.fail(format!("modes[{i}].weight"), "must be positive");
            }
            if m.index_decimals.is_some_and(|d| d > 9) {
                return c.fail(format!("modes[{i}].index_decimals"), "must be at most 9");
            }
            modes.push(Mode {
                key: m.key,
                description: m.description,
                weight: m.weight,
                index_decimals: m.index_decimals,
            });
        }
        if !modes.iter().any(|m| m.key == self.default_mode) {
            return c.fail(
                "default_mode",
                format!("`{}` is not one of the modes", self.default_mode),
            );
        }

        let grades = validate_grades(
            &c,
            self.grades,
            self.scale.min * self.conversion,
            self.scale.max * self.conversion,
        )?;
        let profile = validate_profile(&c, self.profile)?;

        Ok(Instrument {
            key: self.key,
            version: self.version,
            regulation: self.regulation,
            title: self.title,
            scale_min: self.scale.min,
            scale_max: self.scale.max,
            conversion: self.conversion,
            items,
            prose_order,
            weights,
            modes,
            default_mode: self.default_mode,
            grades,
            profile,
        })
    }

    fn validate_items(&self, c: &Checker<'_>) -> Result<Vec<Item>, InstrumentError> {
        c.unique("items", self.items.iter().map(|i| i.code.as_str()))?;
        let expected: Vec<i64> = (self.scale.min..=self.scale.max).collect();
        let mut items = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            let at = format!("items[{i}]");
            c.code(&format!("{at}.code"), &item.code)?;
            c.text(&format!("{at}.name"), &item.name)?;
            c.text(&format!("{at}.question"), &item.question)?;
            let values: Vec<i64> = item.answers.iter().map(|a| a.value).collect();
            if values != expected {
                return c.fail(
                    format!("{at}.answers"),
                    format!(
                        "must label every scale value {}..{} once, in order; found {values:?}",
                        self.scale.min, self.scale.max
                    ),
                );
            }
            for (j, answer) in item.answers.iter().enumerate() {
                if answer.id.trim().is_empty() {
                    return c.fail(
                        format!("{at}.answers[{j}].id"),
                        "the Indonesian label is empty",
                    );
                }
                if answer.en.trim().is_empty() {
                    return c.fail(
                        format!("{at}.answers[{j}].en"),
                        "the English label is empty",
                    );
                }
            }
            if let Some(skip) = &item.skip {
                c.text(&format!("{at}.skip"), skip)?;
            }
            items.push(Item {
                code: item.code.clone(),
                name: item.name.clone(),
                question: item.question.clone(),
                answers: item.answers.clone(),
                skip: item.skip.clone(),
            });
        }
        Ok(items)
    }

    /// Item weights: all given and summing to exactly 1, or none given and equal by default.
    fn validate_weights(&self, c: &Checker<'_>) -> Result<Vec<Q>, InstrumentError> {
        let given = self.items.iter().filter(|i| i.weight.is_some()).count();
        let k = i64::try_from(self.items.len()).expect("item count fits i64");
        if given == 0 {
            return Ok(vec![Q::new(1.into(), k.into()); self.items.len()]);
        }
        if given != self.items.len() {
            return c.fail("items.weight", "give a weight for every item or for none");
        }
        let weights: Vec<Q> = self
            .items
            .iter()
            .map(|i| i.weight.as_ref().expect("all given").to_q())
            .collect();
        for (i, w) in weights.iter().enumerate() {
            if *w <= qi(0) {
                return c.fail(format!("items[{i}].weight"), "must be positive");
            }
        }
        let total: Q = weights.iter().sum();
        if total != qi(1) {
            return c.fail(
                "items.weight",
                format!("weights must sum to exactly 1, they sum to {total}"),
            );
        }
        Ok(weights)
    }
}

/// Bands must be ascending, on two decimals, and tile `low..=high` with steps of 0.01.
fn validate_grades(
    c: &Checker<'_>,
    raw: Vec<RawGrade>,
    low: i64,
    high: i64,
) -> Result<Vec<GradeBand>, InstrumentError> {
    if raw.is_empty() {
        return c.fail("grades", "the grading table is empty");
    }
    c.unique("grades", raw.iter().map(|g| g.letter.as_str()))?;
    let mut previous_max: Option<i64> = None;
    let count = raw.len();
    let mut grades = Vec::with_capacity(count);
    for (i, g) in raw.into_iter().enumerate() {
        let at = format!("grades[{i}]");
        let min = g.min.hundredths().map_or_else(
            || c.fail(format!("{at}.min"), "must have at most two decimals"),
            Ok,
        )?;
        let max = g.max.hundredths().map_or_else(
            || c.fail(format!("{at}.max"), "must have at most two decimals"),
            Ok,
        )?;
        if g.letter.trim().is_empty() {
            return c.fail(format!("{at}.letter"), "is empty");
        }
        c.text(&format!("{at}.performance"), &g.performance)?;
        if min > max {
            return c.fail(at.clone(), "min is above max");
        }
        match previous_max {
            None if min != low * 100 => {
                return c.fail(
                    format!("{at}.min"),
                    format!("the first band must start at {low},00"),
                );
            }
            Some(prev) if min > prev + 1 => {
                return c.fail(format!("{at}.min"), "leaves a gap after the previous band");
            }
            Some(prev) if min <= prev => {
                return c.fail(format!("{at}.min"), "overlaps the previous band");
            }
            _ => {}
        }
        if i + 1 == count && max != high * 100 {
            return c.fail(
                format!("{at}.max"),
                format!("the last band must end at {high},00"),
            );
        }
        previous_max = Some(max);
        grades.push(GradeBand {
            min: g.min,
            max: g.max,
            letter: g.letter,
            performance: g.performance,
        });
    }
    Ok(grades)
}

fn validate_profile(
    c: &Checker<'_>,
    raw: Vec<RawProfileField>,
) -> Result<Vec<ProfileField>, InstrumentError> {
    c.unique("profile", raw.iter().map(|f| f.key.as_str()))?;
    let mut fields = Vec::with_capacity(raw.len());
    for (i, f) in raw.into_iter().enumerate() {
        let at = format!("profile[{i}]");
        c.code(&format!("{at}.key"), &f.key)?;
        c.text(&format!("{at}.label"), &f.label)?;
        let kind = match f.kind.as_str() {
            "choice" => {
                if f.choices.is_empty() {
                    return c.fail(format!("{at}.choices"), "a choice field needs choices");
                }
                c.unique(
                    &format!("{at}.choices"),
                    f.choices.iter().map(|ch| ch.code.as_str()),
                )?;
                for (j, ch) in f.choices.iter().enumerate() {
                    c.code(&format!("{at}.choices[{j}].code"), &ch.code)?;
                    c.text(
                        &format!("{at}.choices[{j}]"),
                        &Text {
                            id: ch.id.clone(),
                            en: ch.en.clone(),
                        },
                    )?;
                }
                // Paper is read through every spelling: no spelling may name two choices.
                let mut spelled: HashMap<String, usize> = HashMap::new();
                for (j, ch) in f.choices.iter().enumerate() {
                    for spelling in [&ch.code, &ch.id, &ch.en].into_iter().chain(&ch.aliases) {
                        if *spelled.entry(folded(spelling)).or_insert(j) != j {
                            return c.fail(
                                format!("{at}.choices[{j}].aliases"),
                                format!("`{spelling}` also spells another choice"),
                            );
                        }
                    }
                }
                ProfileKind::Choice { choices: f.choices }
            }
            "integer" => {
                let (Some(min), Some(max)) = (f.min, f.max) else {
                    return c.fail(at.clone(), "an integer field needs min and max");
                };
                if min >= max {
                    return c.fail(format!("{at}.min"), "must be below max");
                }
                let ascending = f.bands.windows(2).all(|w| w[0] < w[1]);
                if !ascending || f.bands.iter().any(|b| *b <= min || *b > max) {
                    return c.fail(
                        format!("{at}.bands"),
                        "must ascend strictly within (min, max]",
                    );
                }
                ProfileKind::Integer {
                    min,
                    max,
                    bands: f.bands,
                }
            }
            other => {
                return c.fail(
                    format!("{at}.kind"),
                    format!("`{other}` is not `choice` or `integer`"),
                );
            }
        };
        fields.push(ProfileField {
            key: f.key,
            label: f.label,
            kind,
        });
    }
    Ok(fields)
}

#[cfg(test)]
mod tests;
