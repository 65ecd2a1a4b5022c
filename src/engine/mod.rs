//! The index engine: plain data in, the numbers a unit publishes out. No database, no HTTP.
//!
//! Per PermenPAN-RB 14/2017: NRR of an item = sum of its answers / number who answered it;
//! index = Σ NRR × weight; IKM = index × 25; all exact, rounded once, half-up, to two decimals,
//! and the grade read from the rounded value. [`compute`] does this from a [`Tally`].

pub use crate::exact;
pub mod sample;
pub mod stats;
pub mod tally;

use serde::Serialize;

use crate::instrument::{Instrument, Mode};
use exact::{Fixed, Q, q_to_f64, qi};
use sample::SampleSize;
use stats::{ConfidenceInterval, Reliability, Validity};
pub use tally::{AnswerError, Answers, Tally};

/// Digits printed for each number of the report; every one is the exact value rounded half-up.
pub mod digits {
    /// The converted IKM and each item's converted value.
    pub const IKM: u32 = 2;
    /// An item's NRR.
    pub const NRR: u32 = 3;
    /// An item's weighted NRR.
    pub const WEIGHTED_NRR: u32 = 4;
    /// The index on the scale of the answers, unless the mode rounds it itself.
    pub const INDEX: u32 = 4;
}

/// What a report is asked for beyond the responses.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Mode key; `None` uses the instrument's default.
    pub mode: Option<String>,
    /// People served in the period, for sample adequacy.
    pub population: Option<u64>,
    /// Confidence for the minimum sample; default 0.95.
    pub confidence: Option<f64>,
    /// Margin of error for the minimum sample; default 0.05.
    pub margin: Option<f64>,
}

/// A report that cannot be computed as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The instrument has no such mode.
    #[error("mode: `{mode}` is not a mode of {instrument}; use one of {available}")]
    UnknownMode {
        /// What was asked for.
        mode: String,
        /// Instrument key.
        instrument: String,
        /// The modes it has, comma separated.
        available: String,
    },
    /// Sample-size parameters out of range.
    #[error(transparent)]
    Sample(#[from] sample::SampleError),
}

/// One item's results.
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    /// Item code.
    pub code: String,
    /// Name in Bahasa Indonesia.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// Respondents who answered the item.
    pub answered: u64,
    /// Respondents who left the item unanswered: skipped it where the instrument allows, or
    /// left its cell blank on paper.
    pub skipped: u64,
    /// Sum of the answers.
    pub total: u64,
    /// How many gave each value, keyed by the value.
    pub distribution: std::collections::BTreeMap<String, u64>,
    /// Mean answer (nilai rata-rata); `None` when nobody answered.
    pub nrr: Option<Fixed>,
    /// The weight the mode gives the item.
    pub weight: Fixed,
    /// NRR × weight.
    pub weighted_nrr: Option<Fixed>,
    /// NRR × conversion, two decimals.
    pub ikm: Option<Fixed>,
    /// Grade of `ikm`.
    pub grade: Option<String>,
}

/// Sample adequacy against the population served.
#[derive(Debug, Clone, Serialize)]
pub struct SampleAdequacy {
    /// The Krejcie & Morgan answer for the population.
    #[serde(flatten)]
    pub size: SampleSize,
    /// Respondents collected.
    pub collected: u64,
    /// Whether `collected` reaches `minimum`.
    pub adequate: bool,
}

/// A message for the reader in both languages, with a stable code.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Notice {
    /// Stable snake_case code.
    pub code: &'static str,
    /// Bahasa Indonesia.
    pub id: String,
    /// English.
    pub en: String,
}

/// Statistics beside the index.
#[derive(Debug, Clone, Serialize)]
pub struct Statistics {
    /// 95% interval of the converted IKM; `None` below two respondents.
    pub confidence_interval: Option<ConfidenceInterval>,
    /// Whether the interval lies inside one grade band.
    pub grade_certain: Option<bool>,
    /// About how many more respondents would keep the interval inside one band.
    pub more_responses_needed: Option<u64>,
    /// Cronbach's alpha.
    pub reliability: Option<Reliability>,
    /// Corrected item-total correlations.
    pub validity: Option<Validity>,
}

/// How the numbers were computed, for the report's calculation notes.
#[derive(Debug, Clone, Serialize)]
pub struct Calculation {
    /// Instrument key.
    pub instrument: String,
    /// Instrument version.
    pub instrument_version: u32,
    /// Regulation implemented.
    pub regulation: String,
    /// Mode key.
    pub mode: String,
    /// Mode description in Bahasa Indonesia.
    pub mode_description: String,
    /// Mode description in English.
    pub mode_description_en: String,
    /// Conversion factor from the index to the IKM.
    pub conversion: i64,
    /// Sum of the weights the mode applies.
    pub weight_total: Fixed,
    /// The rounding rule.
    pub rounding: String,
    /// The rounding rule in Bahasa Indonesia.
    pub rounding_id: String,
    /// How units are pooled (set by the reporting layer; the engine sees only a tally).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollup: Option<String>,
    /// The same in Bahasa Indonesia.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollup_id: Option<String>,
}

/// The index report of one set of responses.
#[derive(Debug, Clone, Serialize)]
pub struct IndexReport {
    /// Instrument key.
    pub instrument: String,
    /// Instrument version.
    pub instrument_version: u32,
    /// Mode key.
    pub mode: String,
    /// Responses counted.
    pub respondents: u64,
    /// Per item.
    pub items: Vec<ItemReport>,
    /// The index on the answers' scale (IKM unit pelayanan).
    pub index: Option<Fixed>,
    /// The converted IKM, two decimals.
    pub ikm: Option<Fixed>,
    /// Mutu, A to D, from the rounded IKM.
    pub grade: Option<String>,
    /// Kinerja unit pelayanan in Bahasa Indonesia.
    pub performance: Option<String>,
    /// Kinerja unit pelayanan in English.
    pub performance_en: Option<String>,
    /// The three weakest items, weakest first.
    pub priorities: Vec<String>,
    /// Confidence, reliability and validity.
    pub statistics: Statistics,
    /// Sample adequacy, when a population was given.
    pub sample: Option<SampleAdequacy>,
    /// How it was computed.
    pub calculation: Calculation,
    /// Messages for the reader.
    pub notices: Vec<Notice>,
}

/// Resolves a mode key against an instrument.
pub fn resolve_mode<'a>(
    instrument: &'a Instrument,
    key: Option<&str>,
) -> Result<&'a Mode, EngineError> {
    match key {
        None => Ok(instrument.default_mode()),
        Some(key) => instrument
            .mode(key)
            .ok_or_else(|| EngineError::UnknownMode {
                mode: key.to_owned(),
                instrument: instrument.key.clone(),
                available: instrument
                    .modes
                    .iter()
                    .map(|m| m.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
    }
}

/// The exact index, IKM and grade of a tally; the heart of the regulation.
struct Core {
    nrr: Vec<Option<Q>>,
    index: Option<Q>,
    converted: Option<Q>,
    ikm: Option<Fixed>,
}

fn core(instrument: &Instrument, tally: &Tally, mode: &Mode, weights: &[Q]) -> Core {
    let nrr: Vec<Option<Q>> = tally
        .counts
        .iter()
        .map(|counts| {
            let answered: u64 = counts.iter().sum();
            (answered > 0)
                .then(|| Q::new(item_total(tally.scale_min, counts).into(), answered.into()))
        })
        .collect();
    let index: Option<Q> = nrr
        .iter()
        .zip(weights)
        .map(|(nrr, w)| nrr.as_ref().map(|n| n * w))
        .sum();
    // The 2004 rule rounds the index before conversion; the 2017 rule rounds only at the end.
    let index_used = index.as_ref().map(|i| match mode.index_decimals {
        Some(d) => Fixed::round_half_up(i, d).to_q(),
        None => i.clone(),
    });
    let converted = index_used.map(|i| i * qi(instrument.conversion));
    let ikm = converted
        .as_ref()
        .map(|c| Fixed::round_half_up(c, digits::IKM));
    Core {
        nrr,
        index,
        converted,
        ikm,
    }
}

fn item_total(scale_min: i64, counts: &[u64]) -> i64 {
    counts
        .iter()
        .enumerate()
        .map(|(offset, n)| {
            (scale_min + i64::try_from(offset).expect("small scale"))
                * i64::try_from(*n).expect("count fits")
        })
        .sum()
}

/// The IKM of a tally alone, exactly as [`compute`] gives it, without the item table and the
/// statistics: for ranking many groups (services, channels, child units, profile cells).
pub fn ikm(
    instrument: &Instrument,
    tally: &Tally,
    mode: Option<&str>,
) -> Result<Option<Fixed>, EngineError> {
    assert_eq!(tally.instrument, instrument.key, "tally of this instrument");
    let mode = resolve_mode(instrument, mode)?;
    let weights = instrument.weights_for(mode);
    Ok(core(instrument, tally, mode, &weights).ikm)
}

/// Computes the report of a tally under the options.
pub fn compute(
    instrument: &Instrument,
    tally: &Tally,
    options: &Options,
) -> Result<IndexReport, EngineError> {
    assert_eq!(tally.instrument, instrument.key, "tally of this instrument");
    let mode = resolve_mode(instrument, options.mode.as_deref())?;
    let sample_size = options
        .population
        .map(|n| {
            sample::krejcie_morgan(
                n,
                options.confidence.unwrap_or(sample::DEFAULT_CONFIDENCE),
                options.margin.unwrap_or(sample::DEFAULT_MARGIN),
            )
        })
        .transpose()?;
    let weights = instrument.weights_for(mode);
    let weight_total: Q = weights.iter().sum();
    let core = core(instrument, tally, mode, &weights);
    let items = item_reports(instrument, tally, &core, &weights);
    let mut notices: Vec<Notice> = coverage_notice(tally, &core, &items).into_iter().collect();
    let band = core.ikm.as_ref().map(|v| instrument.grade(v));
    let statistics = statistics(
        instrument,
        tally,
        &core,
        (&weight_total, options.population),
        &mut notices,
    );
    let sample = sample_size.map(|size| adequacy(size, tally.respondents, &mut notices));
    Ok(IndexReport {
        instrument: instrument.key.clone(),
        instrument_version: instrument.version,
        mode: mode.key.clone(),
        respondents: tally.respondents,
        items,
        index: core
            .index
            .as_ref()
            .map(|i| Fixed::round_half_up(i, mode.index_decimals.unwrap_or(digits::INDEX))),
        ikm: core.ikm.clone(),
        grade: band.map(|b| b.letter.clone()),
        performance: band.map(|b| b.performance.id.clone()),
        performance_en: band.map(|b| b.performance.en.clone()),
        priorities: priorities(instrument, &core),
        statistics,
        sample,
        calculation: calculation(instrument, mode, &weight_total),
        notices,
    })
}

/// Each item's answers, NRR, weighted NRR, converted value and grade.
fn item_reports(
    instrument: &Instrument,
    tally: &Tally,
    core: &Core,
    weights: &[Q],
) -> Vec<ItemReport> {
    instrument
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let counts = &tally.counts[i];
            let nrr = core.nrr[i].as_ref();
            let ikm =
                nrr.map(|n| Fixed::round_half_up(&(n * qi(instrument.conversion)), digits::IKM));
            let grade = ikm.as_ref().map(|v| instrument.grade(v).letter.clone());
            let answered: u64 = counts.iter().sum();
            ItemReport {
                code: item.code.clone(),
                name: item.name.id.clone(),
                name_en: item.name.en.clone(),
                answered,
                skipped: tally.respondents.saturating_sub(answered),
                total: u64::try_from(item_total(tally.scale_min, counts)).unwrap_or(0),
                distribution: counts
                    .iter()
                    .enumerate()
                    .map(|(offset, n)| ((tally.scale_min + offset as i64).to_string(), *n))
                    .collect(),
                nrr: nrr.map(|n| Fixed::round_half_up(n, digits::NRR)),
                weight: Fixed::round_half_up(&weights[i], digits::WEIGHTED_NRR),
                weighted_nrr: nrr
                    .map(|n| Fixed::round_half_up(&(n * &weights[i]), digits::WEIGHTED_NRR)),
                ikm,
                grade,
            }
        })
        .collect()
}

/// Why there is no index: no responses, or items nobody answered.
fn coverage_notice(tally: &Tally, core: &Core, items: &[ItemReport]) -> Option<Notice> {
    if tally.respondents == 0 {
        Some(Notice {
            code: "no_responses",
            id: "Belum ada responden pada periode ini; IKM belum dapat dihitung.".into(),
            en: "No responses in this period yet; the IKM cannot be computed.".into(),
        })
    } else if core.index.is_none() {
        let missing: Vec<&str> = items
            .iter()
            .filter(|i| i.answered == 0)
            .map(|i| i.code.as_str())
            .collect();
        Some(Notice {
            code: "item_unanswered",
            id: format!(
                "Unsur {} belum dijawab oleh siapa pun; IKM belum dapat dihitung.",
                missing.join(", ")
            ),
            en: format!(
                "Nobody has answered {} yet; the IKM cannot be computed.",
                missing.join(", ")
            ),
        })
    } else {
        None
    }
}

/// The three weakest items, lowest NRR first (ties in item order).
fn priorities(instrument: &Instrument, core: &Core) -> Vec<String> {
    let mut ranked: Vec<(usize, &Q)> = core
        .nrr
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_ref().map(|n| (i, n)))
        .collect();
    ranked.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    ranked
        .iter()
        .take(3)
        .map(|(i, _)| instrument.items[*i].code.clone())
        .collect()
}

/// Whether the responses reach the minimum sample, with a notice when they do not.
fn adequacy(size: SampleSize, respondents: u64, notices: &mut Vec<Notice>) -> SampleAdequacy {
    let adequate = respondents >= size.minimum;
    if !adequate {
        notices.push(Notice {
            code: "sample_below_minimum",
            id: format!(
                "Jumlah responden ({}) belum mencapai sampel minimum {} untuk populasi {} (Krejcie & Morgan).",
                respondents, size.minimum, size.population
            ),
            en: format!(
                "The {} responses do not yet reach the minimum sample of {} for a population of {} (Krejcie & Morgan).",
                respondents, size.minimum, size.population
            ),
        });
    }
    SampleAdequacy {
        size,
        collected: respondents,
        adequate,
    }
}

/// How the numbers were computed, in both languages.
fn calculation(instrument: &Instrument, mode: &Mode, weight_total: &Q) -> Calculation {
    let (rounding, rounding_id) = match mode.index_decimals {
        Some(d) => (
            format!(
                "index rounded half-up to {d} decimals, then × {}; IKM rounded half-up to 2 decimals; grade from the rounded IKM",
                instrument.conversion
            ),
            format!(
                "indeks dibulatkan setengah ke atas ke {d} desimal, lalu × {}; IKM dibulatkan setengah ke atas ke 2 desimal; mutu dibaca dari IKM yang sudah dibulatkan",
                instrument.conversion
            ),
        ),
        None => (
            "computed exactly, with no rounding along the way; only the results are rounded, half up (IKM to 2 decimals, NRR to 3, weighted NRR and index to 4); the grade is read from the rounded IKM".into(),
            "dihitung tepat, tanpa pembulatan di tengah perhitungan; hanya hasil akhirnya yang dibulatkan ke atas mulai angka 5 (IKM 2 angka di belakang koma, NRR 3, NRR tertimbang dan indeks 4); mutu pelayanan dibaca dari IKM yang sudah dibulatkan".into(),
        ),
    };

    Calculation {
        instrument: instrument.key.clone(),
        instrument_version: instrument.version,
        regulation: instrument.regulation.clone(),
        mode: mode.key.clone(),
        mode_description: mode.description.id.clone(),
        mode_description_en: mode.description.en.clone(),
        conversion: instrument.conversion,
        weight_total: Fixed::round_half_up(weight_total, digits::WEIGHTED_NRR),
        rounding,
        rounding_id,
        rollup: None,
        rollup_id: None,
    }
}

fn statistics(
    instrument: &Instrument,
    tally: &Tally,
    core: &Core,
    (weight_total, population): (&Q, Option<u64>),
    notices: &mut Vec<Notice>,
) -> Statistics {
    let codes: Vec<String> = instrument.items.iter().map(|i| i.code.clone()).collect();
    let reliability = stats::reliability(tally);
    let validity = stats::validity(tally, &codes);
    let moments = stats::score_moments(tally, instrument.conversion);
    let w = q_to_f64(weight_total);
    let bounds = (
        (instrument.scale_min * instrument.conversion) as f64 * w,
        (instrument.scale_max * instrument.conversion) as f64 * w,
    );
    let interval = match (&moments, &core.converted) {
        (Some(m), Some(center)) => stats::confidence_interval(m, q_to_f64(center), w, bounds),
        _ => None,
    };
    let (mut grade_certain, mut more) = (None, None);
    if let (Some(ci), Some(center)) = (&interval, &core.converted) {
        let center = q_to_f64(center);
        let boundaries: Vec<f64> = instrument
            .grades
            .windows(2)
            .map(|pair| (pair[0].max.to_f64() + pair[1].min.to_f64()) / 2.0)
            .collect();
        let straddled: Vec<f64> = boundaries
            .iter()
            .copied()
            .filter(|b| ci.lower < *b && *b < ci.upper)
            .collect();
        grade_certain = Some(straddled.is_empty());
        if let Some(boundary) = straddled
            .iter()
            .copied()
            .min_by(|a, b| (a - center).abs().total_cmp(&(b - center).abs()))
        {
            let distance = boundaries
                .iter()
                .map(|b| (b - center).abs())
                .fold(f64::INFINITY, f64::min);
            let needed = stats::respondents_needed(ci.sd, distance, tally.respondents, population);
            more = needed.map(|n| n.saturating_sub(tally.respondents));
            let boundary_text = format!("{boundary:.3}").replace('.', ",");
            notices.push(match more {
                // Everyone served has answered: nobody is left to ask.
                Some(0) => Notice {
                    code: "grade_uncertain",
                    id: format!("Mutu belum pasti: selang kepercayaan 95% melewati batas mutu {boundary_text}."),
                    en: format!("Grade not yet certain: the 95% confidence interval crosses the grade boundary {}.", boundary_text.replace(',', ".")),
                },
                Some(more) => Notice {
                    code: "grade_uncertain",
                    id: format!("Mutu belum pasti: selang kepercayaan 95% melewati batas mutu {boundary_text}; sekitar {more} responden lagi akan memastikannya."),
                    en: format!("Grade not yet certain: the 95% confidence interval crosses the grade boundary {}; about {more} more responses would settle it.", boundary_text.replace(',', ".")),
                },
                None => Notice {
                    code: "grade_uncertain",
                    id: format!("Mutu belum pasti: IKM tepat berada pada batas mutu {boundary_text}."),
                    en: format!("Grade not yet certain: the IKM lies exactly on the grade boundary {}.", boundary_text.replace(',', ".")),
                },
            });
        }
    }
    Statistics {
        confidence_interval: interval,
        grade_certain,
        more_responses_needed: more,
        reliability,
        validity,
    }
}

/// A parent unit's IKM with each child weighted by the people it served.
#[derive(Debug, Clone, Serialize)]
pub struct WeightedRollup {
    /// How it was computed.
    pub method: &'static str,
    /// Σ population × child's exact converted IKM / Σ population, rounded once, half-up.
    pub ikm: Fixed,
    /// Mutu of the rounded value.
    pub grade: String,
    /// Kinerja in Bahasa Indonesia.
    pub performance: String,
    /// Kinerja in English.
    pub performance_en: String,
    /// The populations added up.
    pub population: u64,
}

/// Weights each child's exact converted IKM by its population: `None` when no child has both
/// an IKM and a population, or when a child with responses has no population (the weighting
/// would then silently drop it).
pub fn weighted_rollup(
    instrument: &Instrument,
    children: &[(&Tally, Option<u64>)],
    mode: Option<&str>,
) -> Result<Option<WeightedRollup>, EngineError> {
    let mode = resolve_mode(instrument, mode)?;
    let weights = instrument.weights_for(mode);
    let (mut sum, mut population) = (qi(0), 0u64);
    for (tally, pop) in children {
        if tally.respondents == 0 {
            continue;
        }
        let Some(pop) = pop else { return Ok(None) };
        let Some(converted) = core(instrument, tally, mode, &weights).converted else {
            return Ok(None);
        };
        sum += converted * qi(i64::try_from(*pop).unwrap_or(i64::MAX));
        population += pop;
    }
    if population == 0 {
        return Ok(None);
    }
    let ikm = Fixed::round_half_up(
        &(sum / qi(i64::try_from(population).unwrap_or(i64::MAX))),
        digits::IKM,
    );
    let band = instrument.grade(&ikm);
    Ok(Some(WeightedRollup {
        method: "each child's exact IKM weighted by its population, rounded once, half-up, to 2 decimals",
        grade: band.letter.clone(),
        performance: band.performance.id.clone(),
        performance_en: band.performance.en.clone(),
        ikm,
        population,
    }))
}

/// Welch's test between two tallies of one instrument (two periods, two services).
pub fn compare(instrument: &Instrument, current: &Tally, previous: &Tally) -> Option<stats::Welch> {
    let a = stats::score_moments(current, instrument.conversion)?;
    let b = stats::score_moments(previous, instrument.conversion)?;
    stats::welch(&a, &b)
}

#[cfg(test)]
mod tests;
