//! Plain-text rendering of reports for people: Bahasa Indonesia with decimal commas by default,
//! English on request.

use std::fmt::Write;

use crate::engine::IndexReport;
use crate::engine::exact::Fixed;
use crate::engine::sample::SampleSize;
use crate::engine::stats::Welch;
use crate::instrument::{Instrument, Lang};

/// A number as the reader's language writes it: `84,36` in Indonesian, `84.36` in English.
pub fn number(value: &Fixed, lang: Lang) -> String {
    match lang {
        Lang::Id => value.format_id(),
        Lang::En => value.format('.'),
    }
}

/// An estimate (not a regulation number) to `decimals` digits in the reader's notation.
pub fn estimate(value: f64, decimals: usize, lang: Lang) -> String {
    let text = format!("{value:.decimals$}");
    match lang {
        Lang::Id => text.replace('.', ","),
        Lang::En => text,
    }
}

/// A whole number with the reader's thousands separator: `1.000` or `1,000`.
pub fn count(value: u64, lang: Lang) -> String {
    crate::engine::exact::group_thousands(
        &value.to_string(),
        if lang == Lang::Id { '.' } else { ',' },
    )
}

/// An ISO date (`2025-07-01`) as Indonesian documents write it (`01-07-2025`); anything else
/// as it is.
pub fn local_date(date: &str) -> String {
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => format!("{d}-{m}-{y}"),
        _ => date.to_owned(),
    }
}

/// A period as a document names it: `2026-Q3` is "Triwulan III 2026" ("Third quarter 2026"),
/// `2026-S1` "Semester I 2026", `2026-07` "Juli 2026", `2026` "Tahun 2026", a range its dates;
/// anything that is not a period as it is.
pub fn period_label(period: &str, lang: Lang) -> String {
    use crate::period::{Period, Span};
    const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];
    const ORDINAL: [&str; 4] = ["First", "Second", "Third", "Fourth"];
    let Ok(parsed) = period.parse::<Period>() else {
        return period.to_owned();
    };
    let at = |n: u32| usize::try_from(n).unwrap_or(1).saturating_sub(1);
    match (parsed.span(), lang) {
        (Span::Year(y), Lang::Id) => format!("Tahun {y}"),
        (Span::Year(y), Lang::En) => format!("Year {y}"),
        (Span::Semester(y, s), Lang::Id) => format!("Semester {} {y}", ROMAN[at(s)]),
        (Span::Semester(y, s), Lang::En) => format!("{} half {y}", ORDINAL[at(s)]),
        (Span::Quarter(y, q), Lang::Id) => format!("Triwulan {} {y}", ROMAN[at(q)]),
        (Span::Quarter(y, q), Lang::En) => format!("{} quarter {y}", ORDINAL[at(q)]),
        (Span::Month(y, m), Lang::Id) => format!("{} {y}", BULAN[at(m)]),
        (Span::Month(y, m), Lang::En) => format!("{} {y}", MONTH[at(m)]),
        (Span::Range(a, b), lang) => format!(
            "{} {} {}",
            a.format("%d-%m-%Y"),
            pick(lang, "s.d.", "to"),
            b.format("%d-%m-%Y")
        ),
    }
}

/// A period as a chart's axis names it, short: "TW III 2026" ("Q3 2026"), "Sem I 2026"
/// ("H1 2026"), "Jul 2026", "2026"; a range by its dates.
pub fn period_short(period: &str, lang: Lang) -> String {
    use crate::period::{Period, Span};
    const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];
    let Ok(parsed) = period.parse::<Period>() else {
        return period.to_owned();
    };
    let at = |n: u32| usize::try_from(n).unwrap_or(1).saturating_sub(1);
    match (parsed.span(), lang) {
        (Span::Year(y), _) => y.to_string(),
        (Span::Semester(y, s), Lang::Id) => format!("Sem {} {y}", ROMAN[at(s)]),
        (Span::Semester(y, s), Lang::En) => format!("H{s} {y}"),
        (Span::Quarter(y, q), Lang::Id) => format!("TW {} {y}", ROMAN[at(q)]),
        (Span::Quarter(y, q), Lang::En) => format!("Q{q} {y}"),
        (Span::Month(y, m), Lang::Id) => format!("{} {y}", &BULAN[at(m)][..3]),
        (Span::Month(y, m), Lang::En) => format!("{} {y}", &MONTH[at(m)][..3]),
        (Span::Range(..), _) => period_label(period, lang),
    }
}

/// A date written out as letters and documents date them: "5 Oktober 2026" ("5 October 2026").
pub fn long_date(date: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    let month = usize::try_from(date.month0()).unwrap_or(0);
    let name = match lang {
        Lang::Id => BULAN[month],
        Lang::En => MONTH[month],
    };
    format!("{} {name} {}", date.day(), date.year())
}

/// Months as Indonesian documents name them.
const BULAN: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
/// Months in English.
const MONTH: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A time zone as Indonesians name it: WIB, WITA or WIT for the zones of Indonesia, the IANA
/// name for any other.
pub fn zone_label(timezone: &str) -> &str {
    match timezone {
        "Asia/Jakarta" | "Asia/Pontianak" => "WIB",
        "Asia/Makassar" => "WITA",
        "Asia/Jayapura" => "WIT",
        other => other,
    }
}

fn opt(value: Option<&Fixed>, lang: Lang) -> String {
    value.map_or_else(|| "-".to_owned(), |v| number(v, lang))
}

fn pick<'a>(lang: Lang, id: &'a str, en: &'a str) -> &'a str {
    if lang == Lang::Id { id } else { en }
}

/// The report as a unit head reads it.
pub fn report(instrument: &Instrument, r: &IndexReport, lang: Lang) -> String {
    let mut out = String::new();
    heading(&mut out, instrument, r, lang);
    item_table(&mut out, r, lang);
    result(&mut out, instrument, r, lang);
    statistics(&mut out, r, lang);
    closing(&mut out, r, lang);
    out
}

/// The instrument, mode and respondents.
fn heading(out: &mut String, instrument: &Instrument, r: &IndexReport, lang: Lang) {
    let t = |id, en| pick(lang, id, en);
    let _ = writeln!(
        out,
        "{} ({} v{}, {}: {})",
        instrument.title.get(lang),
        r.instrument,
        r.instrument_version,
        t("mode", "mode"),
        r.mode
    );
    let _ = writeln!(
        out,
        "{}: {}",
        t("Responden", "Respondents"),
        count(r.respondents, lang)
    );
}

/// One line per item: answers, total, NRR, IKM and grade.
fn item_table(out: &mut String, r: &IndexReport, lang: Lang) {
    let t = |id, en| pick(lang, id, en);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<48} {:>8} {:>8} {:>7} {:>7} {:>5}",
        t("Unsur", "Item"),
        t("Dijawab", "Answered"),
        t("Jumlah", "Total"),
        "NRR",
        "IKM",
        t("Mutu", "Grade")
    );
    for item in &r.items {
        let name = if lang == Lang::Id {
            &item.name
        } else {
            &item.name_en
        };
        let label: String = format!("{} {}", item.code, name).chars().take(48).collect();
        let _ = writeln!(
            out,
            "{:<48} {:>8} {:>8} {:>7} {:>7} {:>5}",
            label,
            count(item.answered, lang),
            count(item.total, lang),
            opt(item.nrr.as_ref(), lang),
            opt(item.ikm.as_ref(), lang),
            item.grade.as_deref().unwrap_or("-")
        );
    }
}

/// The index, the IKM, its grade and performance.
fn result(out: &mut String, instrument: &Instrument, r: &IndexReport, lang: Lang) {
    let t = |id, en| pick(lang, id, en);
    let _ = writeln!(out);
    let scale = format!("{}-{}", instrument.scale_min, instrument.scale_max);
    let _ = writeln!(
        out,
        "{} ({} {scale}): {}",
        t("Indeks", "Index"),
        t("skala", "scale"),
        opt(r.index.as_ref(), lang)
    );
    let performance = if lang == Lang::Id {
        &r.performance
    } else {
        &r.performance_en
    };
    let _ = writeln!(
        out,
        "IKM: {}   {}: {}   {}: {}",
        opt(r.ikm.as_ref(), lang),
        t("Mutu", "Grade"),
        r.grade.as_deref().unwrap_or("-"),
        t("Kinerja", "Performance"),
        performance.as_deref().unwrap_or("-")
    );
}

/// The confidence interval, reliability and validity.
fn statistics(out: &mut String, r: &IndexReport, lang: Lang) {
    let t = |id, en| pick(lang, id, en);
    if let Some(ci) = &r.statistics.confidence_interval {
        let _ = writeln!(
            out,
            "{}: {} - {}",
            t("Selang kepercayaan 95%", "95% confidence interval"),
            estimate(ci.lower, 2, lang),
            estimate(ci.upper, 2, lang)
        );
    }
    if let Some(rel) = &r.statistics.reliability {
        let alpha = rel
            .alpha
            .map_or_else(|| "-".to_owned(), |a| estimate(a, 3, lang));
        let _ = writeln!(
            out,
            "{}: {alpha} ({} {})",
            t(
                "Reliabilitas (alpha Cronbach)",
                "Reliability (Cronbach's alpha)"
            ),
            count(rel.complete_responses, lang),
            t("respons lengkap", "complete responses")
        );
    }
    if let Some(v) = &r.statistics.validity {
        let invalid: Vec<&str> = v
            .items
            .iter()
            .filter(|i| !i.valid)
            .map(|i| i.code.as_str())
            .collect();
        let verdict = if invalid.is_empty() {
            t("semua unsur valid", "every item valid").to_owned()
        } else {
            format!("{}: {}", t("belum valid", "not valid"), invalid.join(", "))
        };
        let _ = writeln!(
            out,
            "{} (r {} {}): {verdict}",
            t("Validitas", "Validity"),
            t("kritis", "critical"),
            estimate(v.critical_r, 3, lang)
        );
    }
}

/// Priorities, sample, notes and how it was computed.
fn closing(out: &mut String, r: &IndexReport, lang: Lang) {
    let t = |id, en| pick(lang, id, en);
    if !r.priorities.is_empty() {
        let _ = writeln!(
            out,
            "{}: {}",
            t("Prioritas perbaikan", "Improvement priorities"),
            r.priorities.join(", ")
        );
    }
    if let Some(s) = &r.sample {
        let verdict = if s.adequate {
            t("memadai", "adequate")
        } else {
            t("belum memadai", "not yet adequate")
        };
        let _ = writeln!(
            out,
            "{}: {} {}, {} {}, {} {} ({verdict})",
            t("Sampel", "Sample"),
            t("populasi", "population"),
            count(s.size.population, lang),
            t("minimum", "minimum"),
            count(s.size.minimum, lang),
            t("terkumpul", "collected"),
            count(s.collected, lang)
        );
    }
    for notice in &r.notices {
        let _ = writeln!(
            out,
            "{}: {}",
            t("Catatan", "Note"),
            pick(lang, &notice.id, &notice.en)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}: {}",
        t("Perhitungan", "Calculation"),
        pick(
            lang,
            &r.calculation.mode_description,
            &r.calculation.mode_description_en
        )
    );
}

/// The comparison of two sets of responses.
pub fn comparison(w: &Welch, lang: Lang) -> String {
    let t = |id, en| pick(lang, id, en);
    let verdict = if w.significant {
        t("berbeda secara bermakna", "significantly different")
    } else {
        t(
            "tidak berbeda secara bermakna",
            "not significantly different",
        )
    };
    format!(
        "{}: {} {} (t = {}, df = {}, p = {}; {})\n",
        t("Perbandingan", "Comparison"),
        t("selisih", "difference"),
        estimate(w.difference, 2, lang),
        estimate(w.t, 3, lang),
        estimate(w.df, 1, lang),
        estimate(w.p, 4, lang),
        verdict
    )
}

/// A sample-size answer.
pub fn sample_size(s: &SampleSize, lang: Lang) -> String {
    let percent = |x: f64| {
        estimate(
            x * 100.0,
            if (x * 100.0).fract() == 0.0 { 0 } else { 1 },
            lang,
        )
    };
    let template = pick(
        lang,
        "Sampel minimum untuk populasi {N} (kepercayaan {C}%, margin kesalahan {D}%, X² = {X}): {S} responden\n",
        "Minimum sample for a population of {N} ({C}% confidence, {D}% margin of error, X² = {X}): {S} respondents\n",
    );
    template
        .replace("{N}", &count(s.population, lang))
        .replace("{C}", &percent(s.confidence))
        .replace("{D}", &percent(s.margin))
        .replace("{X}", &number(&s.chi_square, lang))
        .replace("{S}", &count(s.minimum, lang))
}

#[cfg(test)]
mod period_names {
    use super::*;

    #[test]
    fn short_period_names_and_long_dates_read_as_indonesian_documents_write_them() {
        assert_eq!(period_short("2026-Q3", Lang::Id), "TW III 2026");
        assert_eq!(period_short("2026-Q3", Lang::En), "Q3 2026");
        assert_eq!(period_short("2026-S2", Lang::Id), "Sem II 2026");
        assert_eq!(period_short("2026-08", Lang::Id), "Agu 2026");
        assert_eq!(period_short("2026", Lang::Id), "2026");
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        assert_eq!(long_date(day, Lang::Id), "5 Oktober 2026");
        assert_eq!(long_date(day, Lang::En), "5 October 2026");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_named_as_documents_name_them() {
        let cases = [
            ("2026-Q3", "Triwulan III 2026", "Third quarter 2026"),
            ("2026-Q1", "Triwulan I 2026", "First quarter 2026"),
            ("2026-S2", "Semester II 2026", "Second half 2026"),
            ("2026-07", "Juli 2026", "July 2026"),
            ("2026-12", "Desember 2026", "December 2026"),
            ("2026", "Tahun 2026", "Year 2026"),
            (
                "2026-07-01..2026-07-15",
                "01-07-2026 s.d. 15-07-2026",
                "01-07-2026 to 15-07-2026",
            ),
            ("not-a-period", "not-a-period", "not-a-period"),
        ];
        for (period, id, en) in cases {
            assert_eq!(period_label(period, Lang::Id), id);
            assert_eq!(period_label(period, Lang::En), en);
        }
    }

    #[test]
    fn indonesian_time_zones_are_wib_wita_and_wit() {
        assert_eq!(zone_label("Asia/Jakarta"), "WIB");
        assert_eq!(zone_label("Asia/Pontianak"), "WIB");
        assert_eq!(zone_label("Asia/Makassar"), "WITA");
        assert_eq!(zone_label("Asia/Jayapura"), "WIT");
        assert_eq!(zone_label("Europe/Amsterdam"), "Europe/Amsterdam");
    }
}
