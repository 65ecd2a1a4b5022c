//! The report's narrative: a paragraph for each chapter of the Laporan Hasil SKM, written from
//! the numbers by fixed templates in Bahasa Indonesia and English. A unit may replace any of
//! them with its own text before signing; that text is stored with the report
//! (`domain::narratives`) and the PDF and DOCX print it instead of the template's.

pub use crate::domain::narratives::{Chapter, Edited};
use crate::instrument::Lang;
use crate::reporting::UnitReport;
use crate::text::{number, period_label};

/// The laws a unit's survey rests on, as the report's introduction cites them.
pub fn legal_basis(lang: Lang) -> [&'static str; 3] {
    match lang {
        Lang::Id => [
            "Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik;",
            "Peraturan Pemerintah Nomor 96 Tahun 2012 tentang Pelaksanaan Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik;",
            "Peraturan Menteri Pendayagunaan Aparatur Negara dan Reformasi Birokrasi Nomor 14 Tahun 2017 tentang Pedoman Penyusunan Survei Kepuasan Masyarakat Unit Penyelenggara Pelayanan Publik.",
        ],
        Lang::En => [
            "Law 25 of 2009 on Public Services;",
            "Government Regulation 96 of 2012 implementing Law 25 of 2009 on Public Services;",
            "Regulation 14 of 2017 of the Minister for Administrative and Bureaucratic Reform on the guidelines for public satisfaction surveys of public-service units.",
        ],
    }
}

/// A chapter's text: the unit's own when it wrote one, the template's otherwise.
pub fn text(r: &UnitReport, chapter: Chapter, lang: Lang, edited: &Edited) -> String {
    edited
        .get(&chapter)
        .cloned()
        .unwrap_or_else(|| generated(r, chapter, lang))
}

/// The template's paragraph for a chapter, written from the report's numbers.
pub fn generated(r: &UnitReport, chapter: Chapter, lang: Lang) -> String {
    let t = Terms::of(r, lang);
    match chapter {
        Chapter::Introduction => introduction(&t),
        Chapter::Method => method(r, &t),
        Chapter::Results => results(r, &t),
        Chapter::Analysis => analysis(r, &t),
        Chapter::Conclusion => conclusion(r, &t),
    }
}

/// What every template names: the unit, the period by name, the language.
struct Terms {
    lang: Lang,
    unit: String,
    period: String,
    from: String,
    to: String,
}

impl Terms {
    fn of(r: &UnitReport, lang: Lang) -> Terms {
        Terms {
            lang,
            unit: r.unit_name.clone(),
            period: period_label(&r.period, lang),
            from: crate::text::local_date(&r.from),
            to: crate::text::local_date(&r.to),
        }
    }

    fn pick<'a>(&self, id: &'a str, en: &'a str) -> &'a str {
        if self.lang == Lang::Id { id } else { en }
    }

    /// The sentence in the document's language, its `{name}`s filled in; `{unit}`,
    /// `{period}`, `{from}` and `{to}` are always known.
    fn say(&self, id: &str, en: &str, values: &[(&str, String)]) -> String {
        let known = [
            ("unit", &self.unit),
            ("period", &self.period),
            ("from", &self.from),
            ("to", &self.to),
        ];
        let value = |name: &str| {
            known
                .into_iter()
                .chain(values.iter().map(|(n, v)| (*n, v)))
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        // One pass, so that a name or a number holding braces is never filled in again.
        let mut text = String::new();
        let mut rest = self.pick(id, en);
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after
                .find('}')
                .and_then(|close| Some((close, value(&after[..close])?)))
            {
                Some((close, v)) => {
                    text.push_str(v);
                    rest = &after[close + 1..];
                }
                None => {
                    text.push('{');
                    rest = after;
                }
            }
        }
        text.push_str(rest);
        text
    }

    fn number(&self, value: &crate::engine::exact::Fixed) -> String {
        number(value, self.lang)
    }
}

/// "a dan b", "a, b, dan c" (as PUEBI writes a list); `between` is `;` for parts that hold
/// commas themselves.
fn listing(parts: &[String], lang: Lang, between: &str) -> String {
    let and = if lang == Lang::Id { "dan" } else { "and" };
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} {and} {b}"),
        [rest @ .., last] => format!(
            "{}{between} {and} {last}",
            rest.join(&format!("{between} "))
        ),
    }
}

/// A name inside a sentence: its first letter small, the rest as written ("kode QR pada
/// struk").
fn in_sentence(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

fn introduction(t: &Terms) -> String {
    t.say(
        "Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik mewajibkan setiap penyelenggara pelayanan publik mengikutsertakan masyarakat dan menilai kinerja pelayanannya secara berkala. Peraturan Menteri PANRB Nomor 14 Tahun 2017 menetapkan bahwa penilaian itu dilakukan melalui Survei Kepuasan Masyarakat (SKM) paling sedikit satu kali setahun, dengan sembilan unsur pelayanan yang sama di seluruh Indonesia. {unit} melaksanakan SKM untuk {period} ({from} s.d. {to}) untuk mengetahui tingkat kepuasan masyarakat atas pelayanan yang diberikan, menemukan unsur pelayanan yang perlu diperbaiki, dan menjadi dasar rencana tindak lanjut yang dipublikasikan bersama hasil survei ini.",
        "Law 25 of 2009 on Public Services requires every public-service provider to involve the public and to assess its services regularly. Regulation 14 of 2017 of the Minister for Administrative and Bureaucratic Reform makes that assessment a Public Satisfaction Survey (SKM), held at least once a year on the same nine service items throughout Indonesia. {unit} held the survey for the {period} ({from} to {to}) to learn how satisfied the public is with its services, to find the items that need improving, and to ground the follow-up plan published with these results.",
        &[],
    )
}

fn method(r: &UnitReport, t: &Terms) -> String {
    let lang = t.lang;
    let names: Vec<String> = r
        .report
        .items
        .iter()
        .map(|i| t.pick(&i.name, &i.name_en).to_lowercase())
        .collect();
    let channels: Vec<String> = r
        .channels
        .iter()
        .filter(|c| c.respondents > 0)
        .map(|c| {
            let (id, en) = crate::reporting::channel_name(c.code.as_deref().unwrap_or(""));
            format!("{} ({})", in_sentence(t.pick(id, en)), c.respondents)
        })
        .collect();
    let mut text = t.say(
        "Kuesioner memuat {n} unsur pelayanan ({items}), masing-masing dengan empat pilihan jawaban bernilai 1 sampai 4 (Lampiran 1).",
        "The questionnaire asks about {n} service items ({items}), each with four answers valued 1 to 4 (Annex 1).",
        &[
            ("n", names.len().to_string()),
            ("items", listing(&names, lang, ";")),
        ],
    );
    if !channels.is_empty() {
        text.push_str(&t.say(
            " Masyarakat mengisi survei melalui {channels}.",
            " Respondents answered through {channels}.",
            &[("channels", listing(&channels, lang, ","))],
        ));
    }
    text.push_str(&match &r.report.sample {
        Some(s) => t.say(
            " Dari populasi {population} penerima layanan, sampel minimal menurut tabel Krejcie dan Morgan (tingkat kepercayaan 95%) adalah {minimum} responden; terkumpul {collected} responden, sehingga sampel {verdict}.",
            " For a population of {population} service users the Krejcie and Morgan table (95% confidence) asks for at least {minimum} respondents; {collected} were collected, so the sample {verdict}.",
            &[
                ("population", s.size.population.to_string()),
                ("minimum", s.size.minimum.to_string()),
                ("collected", s.collected.to_string()),
                (
                    "verdict",
                    if s.adequate {
                        t.pick("memenuhi syarat", "is adequate")
                    } else {
                        t.pick(
                            "belum memenuhi syarat dan hasilnya perlu dibaca dengan hati-hati",
                            "falls short and the results should be read with care",
                        )
                    }
                    .to_owned(),
                ),
            ],
        ),
        None => t.say(
            " Terkumpul {n} responden. Jumlah penerima layanan periode ini belum dicatat, sehingga kecukupan sampel menurut Krejcie dan Morgan belum dapat dinilai.",
            " {n} respondents were collected. The number of service users this period has not been recorded, so the sample cannot yet be checked against Krejcie and Morgan.",
            &[("n", r.report.respondents.to_string())],
        ),
    });
    text.push_str(t.pick(
        " Nilai setiap unsur adalah rata-rata jawaban (NRR); IKM adalah jumlah NRR tertimbang dengan bobot yang sama untuk setiap unsur, dikonversi ke skala 25 sampai 100 dengan dikalikan 25.",
        " Each item's value is the mean answer (NRR); the IKM is the sum of the NRRs weighted equally, converted to the 25 to 100 scale by multiplying by 25.",
    ));
    text
}

/// An item by name with its converted value and grade: "Biaya/Tarif (78,25; C)".
fn item_phrase(r: &UnitReport, code: &str, t: &Terms) -> Option<String> {
    let i = r.report.items.iter().find(|i| i.code == code)?;
    let ikm = i.ikm.as_ref()?;
    Some(format!(
        "{} ({}; {})",
        t.pick(&i.name, &i.name_en),
        t.number(ikm),
        i.grade.as_deref().unwrap_or("-")
    ))
}

/// The index, its grade and its grade's name: what results and conclusions both state.
fn standing(r: &UnitReport, t: &Terms) -> Option<Vec<(&'static str, String)>> {
    let ikm = r.report.ikm.as_ref()?;
    Some(vec![
        ("ikm", t.number(ikm)),
        (
            "grade",
            r.report.grade.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "performance",
            t.pick(
                r.report.performance.as_deref().unwrap_or("-"),
                r.report.performance_en.as_deref().unwrap_or("-"),
            )
            .to_owned(),
        ),
        ("n", r.report.respondents.to_string()),
    ])
}

fn results(r: &UnitReport, t: &Terms) -> String {
    let Some(standing) = standing(r, t) else {
        return t.say(
            "Belum ada jawaban yang dapat dihitung untuk {period}, sehingga IKM {unit} belum dapat ditetapkan.",
            "There are no answers to count for the {period} yet, so the IKM of {unit} cannot be set.",
            &[],
        );
    };
    let mut text = t.say(
        "IKM {unit} untuk {period} adalah {ikm} dengan mutu pelayanan {grade} ({performance}), dihitung dari {n} responden.",
        "The IKM of {unit} for the {period} is {ikm}, service quality {grade} ({performance}), from {n} respondents.",
        &standing,
    );
    let mut scored: Vec<&crate::engine::ItemReport> =
        r.report.items.iter().filter(|i| i.ikm.is_some()).collect();
    scored.sort_by(|a, b| b.ikm.cmp(&a.ikm));
    if let (Some(best), Some(worst)) = (scored.first(), scored.last())
        && best.code != worst.code
    {
        text.push_str(&t.say(
            " Unsur dengan nilai tertinggi adalah {best}, dan yang terendah {worst}.",
            " The highest item is {best}, the lowest {worst}.",
            &[
                ("best", item_phrase(r, &best.code, t).unwrap_or_default()),
                ("worst", item_phrase(r, &worst.code, t).unwrap_or_default()),
            ],
        ));
    }
    if let Some(ci) = &r.report.statistics.confidence_interval {
        text.push_str(&t.say(
            " Dengan tingkat kepercayaan 95%, IKM seluruh penerima layanan berada antara {lower} dan {upper}.",
            " With 95% confidence, the IKM of all service users lies between {lower} and {upper}.",
            &[
                ("lower", crate::text::estimate(ci.lower, 2, t.lang)),
                ("upper", crate::text::estimate(ci.upper, 2, t.lang)),
            ],
        ));
    }
    text
}

fn analysis(r: &UnitReport, t: &Terms) -> String {
    let weakest: Vec<String> = r
        .report
        .priorities
        .iter()
        .filter_map(|code| item_phrase(r, code, t))
        .collect();
    let mut text = if weakest.is_empty() {
        t.pick(
            "Belum ada unsur yang dapat dinilai pada periode ini.",
            "No item can be assessed this period yet.",
        )
        .to_owned()
    } else {
        t.say(
            "Unsur yang paling perlu diperbaiki, dimulai dari nilai terendah, adalah {items}.",
            "The items most in need of improvement, lowest first, are {items}.",
            &[("items", listing(&weakest, t.lang, ";"))],
        )
    };
    // The trend: this period against the one before it, when both have an IKM.
    if let [.., before, now] = r.trend.as_slice()
        && let (Some(was), Some(is), Some(change)) = (&before.ikm, &now.ikm, &now.change)
    {
        // The sign of a printed decimal: exact in a float.
        let direction = match change.to_f64() {
            c if c > 0.0 => t.pick("naik", "rose"),
            c if c < 0.0 => t.pick("turun", "fell"),
            _ => t.pick("tetap", "held at"),
        };
        let significance = match now.significant {
            Some(true) => t.pick(
                "; perubahan ini bermakna secara statistik (uji Welch, taraf 5%)",
                "; the change is statistically significant (Welch's test, 5% level)",
            ),
            Some(false) => t.pick(
                "; perubahan ini belum bermakna secara statistik (uji Welch, taraf 5%)",
                "; the change is not statistically significant (Welch's test, 5% level)",
            ),
            None => "",
        };
        text.push_str(&t.say(
            " Dibandingkan {before} (IKM {was}), IKM {direction} menjadi {is} ({change} poin){significance}.",
            " Against the {before} (IKM {was}), the IKM {direction} to {is} ({change} points){significance}.",
            &[
                ("before", period_label(&before.period, t.lang)),
                ("was", t.number(was)),
                ("direction", direction.to_owned()),
                ("is", t.number(is)),
                ("change", t.number(change)),
                ("significance", significance.to_owned()),
            ],
        ));
    }
    let more = if r.suggestions_truncated {
        t.pick("lebih dari ", "more than ")
    } else {
        ""
    };
    text.push_str(&match r.suggestions.len() {
        0 => t
            .pick(
                " Tidak ada saran tertulis yang masuk pada periode ini.",
                " No written suggestion came in this period.",
            )
            .to_owned(),
        n if n > super::document::SHOWN => t.say(
            " Masyarakat menuliskan {more}{n} saran dan masukan; {shown} yang terbaru dicantumkan pada bab ini dan selebihnya pada Lampiran 4, dan semuanya menjadi bahan rencana tindak lanjut.",
            " Respondents wrote {more}{n} suggestions; the newest {shown} are listed in this chapter and the rest in Annex 4, and all of them feed the follow-up plan.",
            &[
                ("more", more.to_owned()),
                ("n", n.to_string()),
                ("shown", super::document::SHOWN.to_string()),
            ],
        ),
        n => t.say(
            " Masyarakat menuliskan {more}{n} saran dan masukan; saran tersebut dicantumkan pada bab ini dan menjadi bahan rencana tindak lanjut.",
            " Respondents wrote {more}{n} suggestions; they are listed in this chapter and feed the follow-up plan.",
            &[("more", more.to_owned()), ("n", n.to_string())],
        ),
    });
    text
}

fn conclusion(r: &UnitReport, t: &Terms) -> String {
    let mut text = match standing(r, t) {
        Some(standing) => t.say(
            "Pelayanan {unit} pada {period} berada pada mutu {grade} ({performance}) dengan IKM {ikm}.",
            "The services of {unit} in the {period} are of quality {grade} ({performance}) with an IKM of {ikm}.",
            &standing,
        ),
        None => t.say(
            "IKM {unit} untuk {period} belum dapat ditetapkan.",
            "The IKM of {unit} for the {period} cannot be set yet.",
            &[],
        ),
    };
    text.push_str(&match r.follow_ups.current.len() {
        0 => t
            .pick(
                " Rencana tindak lanjut atas unsur-unsur terlemah belum ditetapkan; rencana itu perlu disusun dan dipublikasikan bersama hasil survei ini.",
                " No follow-up plan for the weakest items has been set yet; one should be drawn up and published with these results.",
            )
            .to_owned(),
        n => t.say(
            " Untuk memperbaiki unsur-unsur terlemah, unit menetapkan {n} rencana tindak lanjut pada tabel berikut, yang dipublikasikan bersama hasil survei ini.",
            " To improve the weakest items the unit has set the {n} follow-up actions in the table below, published with these results.",
            &[("n", n.to_string())],
        ),
    });
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(unit: &str) -> Terms {
        Terms {
            lang: Lang::Id,
            unit: unit.to_owned(),
            period: "Triwulan III 2026".to_owned(),
            from: "01-07-2026".to_owned(),
            to: "30-09-2026".to_owned(),
        }
    }

    #[test]
    fn a_sentence_is_filled_once_and_unknown_braces_stay() {
        let t = terms("Unit {period}");
        assert_eq!(
            t.say(
                "{unit}: {period}, {ikm} {x}",
                "",
                &[("ikm", "84,36".into())]
            ),
            "Unit {period}: Triwulan III 2026, 84,36 {x}"
        );
    }

    #[test]
    fn lists_are_written_as_puebi_writes_them() {
        let parts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(listing(&parts(&["a", "b"]), Lang::Id, ","), "a dan b");
        assert_eq!(
            listing(&parts(&["a", "b", "c"]), Lang::Id, ","),
            "a, b, dan c"
        );
        assert_eq!(
            listing(&parts(&["a, x", "b", "c"]), Lang::En, ";"),
            "a, x; b; and c"
        );
        assert_eq!(in_sentence("Kode QR pada struk"), "kode QR pada struk");
    }
}
