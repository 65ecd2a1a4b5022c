//! The Laporan Hasil SKM as PermenPAN-RB 14/2017 lays it out, written once for every document
//! format: the letterhead, title, number and period; the result; the chapters in the
//! regulation's order (Pendahuluan with the legal basis, Metode and sample, Hasil per item,
//! Analisis of the weakest items, the trend and the suggestions, Kesimpulan with the follow-up
//! plan), each opening with its narrative; the signature; and the annexes (the questionnaire,
//! the processing table, the calculation, the verification code). The PDF (`pdf.rs`) and the
//! editable DOCX (`docx.rs`) are [`Sink`]s this writes onto.

use super::narrative::{self, Chapter};
use super::words::{Words, words};
use super::{Cell, ExportOptions, Section, Sheet, chart, sections};
use crate::error::AppError;
use crate::instrument::Lang;
use crate::reporting::UnitReport;

/// How many suggestions chapter IV lists; the rest are in Lampiran 4.
pub const SHOWN: usize = 30;

/// Body text size, in points.
pub const BODY: f32 = 9.5;
/// Size of lists and notes, in points.
pub const SMALL: f32 = 8.5;

/// The signature block: the place and date of signing, the head's title as they sign, room to
/// sign, their name, rank and NIP; beside it the verification code when the report has one.
pub struct Signature {
    /// "Bandung, 6 Oktober 2026".
    pub place_date: String,
    /// "Kepala Dinas ..." or the title the unit set ("Plt. Kepala Dinas ...").
    pub title: String,
    /// The head's name (blanks to fill in when the unit has not set it).
    pub name: String,
    /// Pangkat/golongan, when set.
    pub rank: Option<String>,
    /// "NIP. 19700101 199503 2 002".
    pub nip: String,
    /// The verification address and what to do with it, for the QR code beside the block.
    pub verify: Option<(String, String)>,
}

impl Signature {
    /// The lines above the space to sign.
    pub fn above(&self) -> [&str; 2] {
        [&self.place_date, &self.title]
    }

    /// The lines under it after the name.
    pub fn below(&self) -> Vec<&str> {
        self.rank
            .as_deref()
            .into_iter()
            .chain([self.nip.as_str()])
            .collect()
    }
}

/// What the document is written onto. Sizes are in points.
pub trait Sink {
    /// The letterhead (kop surat): the logo at the left, the lines ([`super::Letterhead::lines`])
    /// centred, a double rule under them.
    fn letterhead(&mut self, logo: Option<&(String, Vec<u8>)>, lines: &[(String, f32, bool)]);
    /// A centred line.
    fn centered(&mut self, text: &str, size: f32, bold: bool);
    /// The result box: a label, the IKM in large type, the grade line and the counts.
    fn result_box(&mut self, label: &str, ikm: &str, grade: &str, counts: &str);
    /// A chapter's heading ("BAB I PENDAHULUAN").
    fn chapter(&mut self, text: &str);
    /// A section's heading within a chapter.
    fn heading(&mut self, text: &str);
    /// A paragraph.
    fn paragraph(&mut self, text: &str, size: f32, bold: bool);
    /// A table: columns get the given fractions of the text width; numbers align right.
    fn table(
        &mut self,
        header: &[String],
        rows: &[Vec<String>],
        fractions: &[f32],
        numeric: &[bool],
    );
    /// A chart as SVG, `share` of the text width wide, `aspect` (height / width) high.
    fn chart(&mut self, svg: &str, share: f32, aspect: f32) -> Result<(), AppError>;
    /// The closing paragraph and the signature block at the right (the verification QR at the
    /// left), kept together on one page: never a signature alone, never split.
    fn signature(&mut self, closing: &str, s: &Signature) -> Result<(), AppError>;
    /// What follows starts on a new page.
    fn page_break(&mut self);
}

/// Writes the report onto a sink.
pub fn write(r: &UnitReport, options: &ExportOptions, sink: &mut dyn Sink) -> Result<(), AppError> {
    let lang = options.lang;
    let doc = Doc {
        r,
        options,
        lang,
        w: words(lang),
        decimal: if lang == Lang::Id { ',' } else { '.' },
        all: sections(r, lang),
    };
    doc.title(sink);
    doc.result_box(sink);

    doc.chapter(sink, Chapter::Introduction);
    doc.legal_basis(sink);

    doc.chapter(sink, Chapter::Method);
    doc.method(sink);
    doc.groups(sink, &[doc.w.channels]);

    doc.chapter(sink, Chapter::Results);
    doc.ombudsman(sink);
    doc.items(sink)?;
    doc.groups(sink, &[doc.w.services]);
    doc.children(sink);
    doc.profile(sink);

    doc.chapter(sink, Chapter::Analysis);
    doc.priorities(sink);
    doc.trend(sink)?;
    doc.suggestions(sink);

    doc.chapter(sink, Chapter::Conclusion);
    doc.follow_ups(sink);
    doc.signature(sink)?;

    sink.page_break();
    doc.questionnaire(sink);
    doc.processing(sink);
    doc.calculation(sink);
    doc.more_suggestions(sink);
    Ok(())
}

/// The footer every page of a printed report carries: the unit and the period by name.
pub fn footer(r: &UnitReport, lang: Lang) -> String {
    format!(
        "{} · {}",
        r.unit_name,
        crate::text::period_label(&r.period, lang)
    )
}

/// A section with the texts of one column rewritten, for the document's way of writing them
/// (the CSV and XLSX keep the codes a spreadsheet sorts and filters on).
fn relabel(s: &Section, column: usize, rewrite: impl Fn(&str) -> String) -> Section {
    let mut s = s.clone();
    for row in &mut s.rows {
        if let Some(Cell::Text(text)) = row.get_mut(column) {
            *text = rewrite(text);
        }
    }
    s
}

/// A breakdown without its first column, the codes (of services, channels, units) that the
/// spreadsheets keep for sorting and a document does not print.
fn without_codes(s: &Section) -> Section {
    let mut s = s.clone();
    s.header.remove(0);
    for row in &mut s.rows {
        row.remove(0);
    }
    s
}

fn pick<'a>(lang: Lang, id: &'a str, en: &'a str) -> &'a str {
    if lang == Lang::Id { id } else { en }
}

/// A section of the report as a table.
fn section(sink: &mut dyn Sink, s: &Section, decimal: char, fractions: &[f32]) {
    let rows: Vec<Vec<String>> = s
        .rows
        .iter()
        .map(|r| r.iter().map(|c| c.display(decimal)).collect())
        .collect();
    // A column is numeric when any of its cells is a number.
    let numeric: Vec<bool> = (0..s.header.len())
        .map(|col| {
            s.rows.iter().any(|r| {
                matches!(
                    r.get(col),
                    Some(Cell::Fixed(_) | Cell::Count(_) | Cell::Estimate(..))
                )
            })
        })
        .collect();
    sink.table(&s.header, &rows, fractions, &numeric);
}

/// What every part of the document reads: the report, its language and words, the decimal
/// mark and the report's sections as the other formats lay them out.
struct Doc<'a> {
    r: &'a UnitReport,
    options: &'a ExportOptions,
    lang: Lang,
    w: &'static Words,
    decimal: char,
    all: Vec<Section>,
}

impl Doc<'_> {
    fn num(&self, v: Option<&crate::engine::exact::Fixed>) -> String {
        v.map_or_else(|| "-".to_owned(), |v| crate::text::number(v, self.lang))
    }

    fn section(&self, sheet: Sheet, title: &str) -> Option<Section> {
        self.all
            .iter()
            .find(|s| s.sheet == sheet && s.title == title)
            .cloned()
    }

    /// The letterhead, the title, the document's number, the unit and the period.
    fn title(&self, sink: &mut dyn Sink) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        if let Some(k) = &self.options.letterhead
            && k.is_set()
        {
            sink.letterhead(k.logo.as_ref(), &k.lines(&r.unit_name, lang));
        }
        sink.centered(
            pick(
                lang,
                "LAPORAN HASIL SURVEI KEPUASAN MASYARAKAT",
                "PUBLIC SATISFACTION SURVEY REPORT",
            ),
            15.0,
            true,
        );
        let number = self
            .options
            .number
            .as_deref()
            .unwrap_or("______________________");
        sink.centered(
            &format!("{} {number}", pick(lang, "Nomor:", "Number:")),
            BODY,
            false,
        );
        sink.centered(&r.unit_name, 13.0, true);
        let service = r
            .service
            .as_ref()
            .and_then(|code| {
                r.services
                    .iter()
                    .find(|s| s.code.as_deref() == Some(code))
                    .map(|s| s.name.clone())
            })
            .or_else(|| r.service.clone())
            .unwrap_or_else(|| w.all_services.to_owned());
        sink.centered(
            &format!(
                "{} ({} {} {}) · {} · {}",
                crate::text::period_label(&r.period, lang),
                crate::text::local_date(&r.from),
                pick(lang, "s.d.", "to"),
                crate::text::local_date(&r.to),
                crate::text::zone_label(&r.timezone),
                service
            ),
            BODY,
            false,
        );
        self.printed(sink);
    }

    /// When the document was printed, in the unit's time; over a period not yet ended, the
    /// mark that its numbers are provisional.
    fn printed(&self, sink: &mut dyn Sink) {
        let (r, lang) = (self.r, self.lang);
        let Some(at) = self.options.printed_at else {
            return;
        };
        let tz = crate::period::parse_timezone(&r.timezone).unwrap_or(chrono_tz::Asia::Jakarta);
        let local = chrono::TimeZone::from_utc_datetime(&tz, &at);
        let running = chrono::NaiveDate::parse_from_str(&r.to, "%Y-%m-%d")
            .is_ok_and(|last| local.date_naive() <= last);
        if running {
            sink.centered(
                pick(
                    lang,
                    "SEMENTARA: periode ini belum berakhir",
                    "PROVISIONAL: this period has not ended",
                ),
                12.0,
                true,
            );
        }
        sink.centered(
            &format!(
                "{} {} {}",
                pick(lang, "Dicetak", "Printed"),
                local.format("%d-%m-%Y %H:%M"),
                crate::text::zone_label(&r.timezone)
            ),
            SMALL,
            false,
        );
    }

    /// The result box: IKM, grade, index and respondents.
    fn result_box(&self, sink: &mut dyn Sink) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        let grade = format!(
            "{} {} · {}",
            w.grade,
            r.report.grade.as_deref().unwrap_or("-"),
            pick(
                lang,
                r.report.performance.as_deref().unwrap_or("-"),
                r.report.performance_en.as_deref().unwrap_or("-")
            )
        );
        let counts = format!(
            "{} {} · {} {}",
            w.index,
            self.num(r.report.index.as_ref()),
            r.report.respondents,
            pick(lang, "responden", "respondents")
        );
        sink.result_box(w.ikm, &self.num(r.report.ikm.as_ref()), &grade, &counts);
    }

    /// A chapter's heading and its narrative: the unit's text when it wrote one.
    fn chapter(&self, sink: &mut dyn Sink, chapter: Chapter) {
        sink.chapter(&chapter.heading(self.lang));
        let text = narrative::text(self.r, chapter, self.lang, &self.options.narrative);
        for paragraph in text.split("\n\n") {
            sink.paragraph(paragraph.trim(), BODY, false);
        }
    }

    /// The Ombudsman's assessment beside the IKM, as recorded from its publication.
    fn ombudsman(&self, sink: &mut dyn Sink) {
        let Some(a) = &self.r.ombudsman else {
            return;
        };
        let lang = self.lang;
        sink.heading(pick(
            lang,
            "IKM dan Penilaian Kepatuhan Ombudsman RI",
            "The IKM and the Ombudsman's compliance assessment",
        ));
        sink.paragraph(
            &format!(
                "IKM {} ({}) · {}. {}: {}.",
                self.num(self.r.report.ikm.as_ref()),
                self.r.report.grade.as_deref().unwrap_or("-"),
                a.describe(lang),
                pick(lang, "Sumber", "Source"),
                a.source
            ),
            BODY,
            false,
        );
    }

    /// The laws the survey rests on.
    fn legal_basis(&self, sink: &mut dyn Sink) {
        sink.heading(pick(self.lang, "Dasar hukum", "Legal basis"));
        for (n, law) in narrative::legal_basis(self.lang).iter().enumerate() {
            sink.paragraph(&format!("{}. {law}", n + 1), BODY, false);
        }
    }

    /// Method and sample in detail: instrument, mode, sample adequacy, interval, reliability,
    /// notices.
    fn method(&self, sink: &mut dyn Sink) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        sink.heading(pick(lang, "Rincian metode", "Method in detail"));
        let calc = &r.report.calculation;
        let mut method = format!(
            "{}: {} ({} {}); {}: {}.",
            w.instrument,
            calc.regulation,
            pick(lang, "versi", "version"),
            r.report.instrument_version,
            w.mode,
            pick(lang, &calc.mode_description, &calc.mode_description_en)
        );
        match &r.report.sample {
            Some(s) => method.push_str(&format!(
                " {} {}; {} {}; {} {}: {}.",
                w.population,
                s.size.population,
                w.minimum_sample,
                s.size.minimum,
                w.respondents,
                s.collected,
                if s.adequate {
                    w.adequate
                } else {
                    pick(lang, "belum memenuhi", "not adequate")
                }
            )),
            None => method.push_str(&format!(" {} {}.", w.respondents, r.report.respondents)),
        }
        if let Some(ci) = &r.report.statistics.confidence_interval {
            method.push_str(&format!(
                " {}: {} – {}.",
                w.interval,
                crate::text::estimate(ci.lower, 2, lang),
                crate::text::estimate(ci.upper, 2, lang)
            ));
        }
        if let Some(alpha) = r
            .report
            .statistics
            .reliability
            .as_ref()
            .and_then(|x| x.alpha)
        {
            method.push_str(&format!(
                " {}: {}.",
                w.reliability,
                crate::text::estimate(alpha, 3, lang)
            ));
        }
        sink.paragraph(&method, SMALL, false);
        for notice in &r.report.notices {
            sink.paragraph(
                &format!("• {}", pick(lang, &notice.id, &notice.en)),
                SMALL,
                false,
            );
        }
    }

    /// Per-item values as a table and a chart.
    fn items(&self, sink: &mut dyn Sink) -> Result<(), AppError> {
        let (r, lang, w) = (self.r, self.lang, self.w);
        sink.heading(&format!(
            "{} ({})",
            w.items,
            pick(lang, "nilai per unsur", "per item")
        ));
        let items: Vec<Vec<String>> = r
            .report
            .items
            .iter()
            .map(|i| {
                vec![
                    i.code.clone(),
                    pick(lang, &i.name, &i.name_en).to_owned(),
                    i.answered.to_string(),
                    i.skipped.to_string(),
                    self.num(i.nrr.as_ref()),
                    self.num(i.weighted_nrr.as_ref()),
                    self.num(i.ikm.as_ref()),
                    i.grade.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        sink.table(
            &[
                w.code.into(),
                w.item.into(),
                w.answered.into(),
                w.skipped.into(),
                w.nrr.into(),
                w.weighted_nrr.into(),
                w.item_ikm.into(),
                w.grade.into(),
            ],
            &items,
            &[0.07, 0.34, 0.1, 0.09, 0.1, 0.12, 0.1, 0.08],
            &[false, false, true, true, true, true, true, false],
        );
        let svg = chart::of_report(r, chart::Kind::Items, lang, &self.options.grade_boundaries)?;
        let (cw, ch) = chart::ITEMS_SIZE;
        sink.chart(&svg, 0.9, ch as f32 / cw as f32)
    }

    /// The breakdowns of the given titles (services, channels) that have rows.
    fn groups(&self, sink: &mut dyn Sink, titles: &[&str]) {
        for title in titles {
            if let Some(s) = self
                .section(Sheet::Groups, title)
                .filter(|s| !s.rows.is_empty())
            {
                sink.heading(title);
                let s = without_codes(&s);
                section(sink, &s, self.decimal, &[0.55, 0.17, 0.15, 0.13]);
            }
        }
    }

    /// The units below, ranked, with the population-weighted roll-up.
    fn children(&self, sink: &mut dyn Sink) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        let Some(s) = self
            .section(Sheet::Groups, w.children)
            .filter(|s| !s.rows.is_empty())
        else {
            return;
        };
        sink.heading(w.children);
        let s = without_codes(&s);
        section(sink, &s, self.decimal, &[0.46, 0.15, 0.13, 0.11, 0.15]);
        if let Some(weighted) = r
            .rollup
            .as_ref()
            .and_then(|x| x.population_weighted.as_ref())
        {
            sink.paragraph(
                &format!(
                    "{}: {} ({} {}).",
                    w.population_weighted,
                    crate::text::number(&weighted.ikm, lang),
                    w.grade,
                    weighted.grade
                ),
                BODY,
                false,
            );
        }
    }

    /// The respondents' profile.
    fn profile(&self, sink: &mut dyn Sink) {
        let w = self.w;
        if let Some(s) = self.section(Sheet::Profile, w.profile) {
            sink.heading(w.profile);
            section(sink, &s, self.decimal, &[0.25, 0.35, 0.22, 0.18]);
        }
    }

    /// The weakest items, first to improve.
    fn priorities(&self, sink: &mut dyn Sink) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        sink.heading(w.priorities);
        for (n, code) in r.report.priorities.iter().enumerate() {
            if let Some(i) = r.report.items.iter().find(|i| &i.code == code) {
                sink.paragraph(
                    &format!(
                        "{}. {} {} — {} {}, {} {}",
                        n + 1,
                        i.code,
                        pick(lang, &i.name, &i.name_en),
                        w.item_ikm,
                        self.num(i.ikm.as_ref()),
                        w.grade,
                        i.grade.as_deref().unwrap_or("-")
                    ),
                    BODY,
                    false,
                );
            }
        }
    }

    /// The previous periods and this one, by name, as a table and a chart.
    fn trend(&self, sink: &mut dyn Sink) -> Result<(), AppError> {
        let (lang, w) = (self.lang, self.w);
        let Some(s) = self.section(Sheet::Groups, w.trend) else {
            return Ok(());
        };
        sink.heading(w.trend);
        // Periods by name: "Triwulan III 2026", not 2026-Q3.
        let s = relabel(&s, 0, |p| crate::text::period_label(p, lang));
        section(sink, &s, self.decimal, &[0.2, 0.16, 0.16, 0.12, 0.16, 0.2]);
        let svg = chart::of_report(self.r, chart::Kind::Trend, lang, &[])?;
        let (cw, ch) = chart::TREND_SIZE;
        sink.chart(&svg, 0.8, ch as f32 / cw as f32)
    }

    /// Where a suggestion came from, by name: the unit (when the report covers several), the
    /// service and the channel, never their codes.
    fn source(&self, s: &crate::reporting::Suggestion) -> Vec<String> {
        let (r, lang) = (self.r, self.lang);
        let mut parts = Vec::new();
        if s.unit != r.unit {
            let child = r
                .rollup
                .iter()
                .flat_map(|x| &x.children)
                .find(|c| c.code.as_deref() == Some(&s.unit));
            parts.push(child.map_or_else(
                || s.unit.clone(),
                |c| pick(lang, &c.name, &c.name_en).to_owned(),
            ));
        }
        if let Some(code) = &s.service {
            let named = r.services.iter().find(|g| {
                g.code.as_deref() == Some(code) && g.unit.as_deref().is_none_or(|u| u == s.unit)
            });
            parts.push(named.map_or_else(
                || code.clone(),
                |g| pick(lang, &g.name, &g.name_en).to_owned(),
            ));
        }
        let (id, en) = crate::reporting::channel_name(&s.channel);
        parts.push(pick(lang, id, en).to_owned());
        parts
    }

    /// The newest suggestions grouped by the item the unit's staff gave them (the
    /// uncategorised last), each with the plan that acts on it; and where the rest are.
    fn suggestions(&self, sink: &mut dyn Sink) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        if r.suggestions.is_empty() {
            return;
        }
        sink.heading(w.suggestions);
        let shown = &r.suggestions[..r.suggestions.len().min(SHOWN)];
        let mut groups: Vec<(String, Vec<&crate::reporting::Suggestion>)> = r
            .report
            .items
            .iter()
            .map(|i| {
                let of: Vec<_> = shown
                    .iter()
                    .filter(|s| s.category.as_deref() == Some(i.code.as_str()))
                    .collect();
                (
                    format!("{} {}", i.code, pick(lang, &i.name, &i.name_en)),
                    of,
                )
            })
            .collect();
        let known = |c: &str| r.report.items.iter().any(|i| i.code == c);
        groups.push((
            pick(lang, "Belum dikategorikan", "Not categorised").to_owned(),
            shown
                .iter()
                .filter(|s| s.category.as_deref().is_none_or(|c| !known(c)))
                .collect(),
        ));
        let categorised = shown.iter().any(|s| s.category.is_some());
        for (title, of) in groups.into_iter().filter(|(_, of)| !of.is_empty()) {
            if categorised {
                sink.paragraph(&format!("{title} ({})", of.len()), BODY, true);
            }
            for s in of {
                self.suggestion(sink, s);
            }
        }
        if r.suggestions_truncated {
            sink.paragraph(
                &pick(
                    lang,
                    "Hanya {n} saran terbaru yang dicantumkan; periode ini memuat lebih banyak.",
                    "Only the newest {n} suggestions are listed; the period holds more.",
                )
                .replace("{n}", &r.suggestions.len().to_string()),
                SMALL,
                false,
            );
        }
        if r.suggestions.len() > SHOWN {
            sink.paragraph(
                &pick(
                    lang,
                    "{n} saran lainnya tercantum pada Lampiran 4.",
                    "{n} more suggestions are listed in Annex 4.",
                )
                .replace("{n}", &(r.suggestions.len() - SHOWN).to_string()),
                SMALL,
                false,
            );
        }
    }

    /// Lampiran 4: the suggestions chapter IV had no room for, newest first, as it lists them.
    fn more_suggestions(&self, sink: &mut dyn Sink) {
        let rest = self.r.suggestions.get(SHOWN..).unwrap_or_default();
        if rest.is_empty() {
            return;
        }
        sink.chapter(pick(
            self.lang,
            "LAMPIRAN 4. SARAN DAN MASUKAN LAINNYA",
            "ANNEX 4. FURTHER SUGGESTIONS",
        ));
        for s in rest {
            self.suggestion(sink, s);
        }
    }

    /// One suggestion as the report lists it: its date, where it came from, its words and the
    /// plan that acts on it.
    fn suggestion(&self, sink: &mut dyn Sink, s: &crate::reporting::Suggestion) {
        let lang = self.lang;
        let handled = s.follow_up.as_ref().map_or_else(String::new, |f| {
            format!(
                " → {}: {} ({})",
                pick(lang, "Ditindaklanjuti", "Acted on"),
                f.action,
                crate::followup::status_label(&f.status, lang)
            )
        });
        sink.paragraph(
            &format!(
                "• {} · {}: {}{handled}",
                crate::text::local_date(&s.date),
                self.source(s).join(" · "),
                s.text
            ),
            SMALL,
            false,
        );
    }

    /// Follow-up plans: this period's, and whether the previous period's were done.
    fn follow_ups(&self, sink: &mut dyn Sink) {
        let lang = self.lang;
        for s in self.all.iter().filter(|s| s.sheet == Sheet::FollowUps) {
            sink.heading(&s.title);
            if s.rows.is_empty() {
                sink.paragraph(
                    pick(
                        lang,
                        "Belum ada rencana tindak lanjut untuk periode ini.",
                        "No follow-up plan for this period yet.",
                    ),
                    BODY,
                    false,
                );
            } else {
                // The due date as Indonesian documents write it.
                let s = relabel(s, 3, crate::text::local_date);
                section(sink, &s, self.decimal, &[0.08, 0.44, 0.2, 0.13, 0.15]);
            }
        }
    }

    /// The closing sentence and the signature block: the place and date of signing, the head's
    /// title, room to sign, their name, rank and NIP (blanks to fill in when the unit has not
    /// set them); beside it the code that verifies the numbers.
    fn signature(&self, sink: &mut dyn Sink) -> Result<(), AppError> {
        let (r, lang) = (self.r, self.lang);
        let k = self.options.letterhead.as_ref();
        let city = k.and_then(|k| k.city.as_deref());
        let tz = crate::period::parse_timezone(&r.timezone).unwrap_or(chrono_tz::Asia::Jakarta);
        let date = self
            .options
            .printed_at
            .map(|at| chrono::TimeZone::from_utc_datetime(&tz, &at).date_naive());
        let place_date = match (city, date) {
            (Some(city), Some(d)) => format!("{city}, {}", crate::text::long_date(d, lang)),
            (None, Some(d)) => format!("............, {}", crate::text::long_date(d, lang)),
            (Some(city), None) => format!("{city}, ............"),
            (None, None) => "............, ............".to_owned(),
        };
        let title = k
            .and_then(|k| k.head_title.clone())
            .unwrap_or_else(|| format!("{} {}", pick(lang, "Kepala", "Head of"), r.unit_name));
        let name = k
            .and_then(|k| k.head_name.clone())
            .unwrap_or_else(|| "(______________________________)".to_owned());
        let nip = k
            .and_then(|k| k.head_id.as_deref())
            .map(nip)
            .unwrap_or_default();
        let verify = self.options.verify_url.clone().map(|url| {
            let what = pick(
                lang,
                "Pindai kode ini atau buka alamat di bawahnya untuk memastikan angka laporan ini sama dengan hasil perhitungan server:",
                "Scan this code or open the address under it to confirm that this report's numbers are those the server computed:",
            );
            (url, what.to_owned())
        });
        let closing = pick(
            lang,
            "Demikian laporan hasil Survei Kepuasan Masyarakat ini disusun sebagai bahan evaluasi dan perbaikan mutu pelayanan {unit}.",
            "This report of the Public Satisfaction Survey is submitted as the basis for evaluating and improving the services of {unit}.",
        )
        .replace("{unit}", &r.unit_name);
        sink.signature(
            &closing,
            &Signature {
                place_date,
                title,
                name,
                rank: k.and_then(|k| k.head_rank.clone()),
                nip: format!("NIP. {nip}"),
                verify,
            },
        )
    }

    /// Lampiran 1: the questionnaire as respondents saw it, each item with its answers.
    fn questionnaire(&self, sink: &mut dyn Sink) {
        let lang = self.lang;
        if self.options.questionnaire.is_empty() {
            return;
        }
        sink.chapter(pick(
            lang,
            "LAMPIRAN 1. KUESIONER",
            "ANNEX 1. QUESTIONNAIRE",
        ));
        for item in &self.options.questionnaire {
            sink.paragraph(
                &format!("{}. {}", item.code, item.name.get(lang)),
                BODY,
                true,
            );
            sink.paragraph(item.question.get(lang), BODY, false);
            let answers: Vec<String> = item
                .answers
                .iter()
                .map(|a| format!("({}) {}", a.value, pick(lang, &a.id, &a.en)))
                .collect();
            sink.paragraph(&answers.join("   "), SMALL, false);
        }
    }

    /// Lampiran 2: the processing table of the regulation: per item how many gave each
    /// answer, the sum of the answers, the NRR and the weighted NRR; under it the index and
    /// the IKM.
    fn processing(&self, sink: &mut dyn Sink) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        sink.chapter(pick(
            lang,
            "LAMPIRAN 2. TABEL PENGOLAHAN DATA",
            "ANNEX 2. PROCESSING TABLE",
        ));
        let values: Vec<String> = r
            .report
            .items
            .first()
            .map(|i| i.distribution.keys().cloned().collect())
            .unwrap_or_default();
        let mut header: Vec<String> = vec![w.code.into()];
        header.extend(
            values
                .iter()
                .map(|v| format!("{} {v}", pick(lang, "Nilai", "Value"))),
        );
        header.extend([
            pick(lang, "Jumlah nilai", "Sum of values").to_owned(),
            w.answered.into(),
            w.nrr.into(),
            w.weighted_nrr.into(),
        ]);
        let rows: Vec<Vec<String>> = r
            .report
            .items
            .iter()
            .map(|i| {
                let mut row = vec![i.code.clone()];
                row.extend(
                    values
                        .iter()
                        .map(|v| i.distribution.get(v).copied().unwrap_or(0).to_string()),
                );
                row.extend([
                    i.total.to_string(),
                    i.answered.to_string(),
                    self.num(i.nrr.as_ref()),
                    self.num(i.weighted_nrr.as_ref()),
                ]);
                row
            })
            .collect();
        let first = 0.1;
        let rest = (1.0 - first) / (header.len() - 1) as f32;
        let mut fractions = vec![first];
        fractions.resize(header.len(), rest);
        let mut numeric = vec![false];
        numeric.resize(header.len(), true);
        sink.table(&header, &rows, &fractions, &numeric);
        sink.paragraph(
            &format!(
                "{index} = {}. IKM = {index} × {} = {}.",
                self.num(r.report.index.as_ref()),
                r.report.calculation.conversion,
                self.num(r.report.ikm.as_ref()),
                index = pick(
                    lang,
                    "Jumlah NRR tertimbang (indeks)",
                    "Sum of weighted NRRs (index)"
                ),
            ),
            BODY,
            false,
        );
    }

    /// Lampiran 3: how the numbers were computed.
    fn calculation(&self, sink: &mut dyn Sink) {
        let w = self.w;
        if let Some(s) = self.section(Sheet::Summary, w.calculation) {
            sink.chapter(&format!(
                "{} 3. {}",
                pick(self.lang, "LAMPIRAN", "ANNEX"),
                w.calculation.to_uppercase()
            ));
            for row in &s.rows {
                let line: Vec<String> = row.iter().map(|c| c.display(self.decimal)).collect();
                sink.paragraph(&line.join(": "), SMALL, false);
            }
        }
    }
}

/// A NIP as it is printed: 18 digits in groups of 8, 6, 1 and 3 (birth date, appointment,
/// sex, number); anything else as it is.
fn nip(digits: &str) -> String {
    if digits.len() == 18 && digits.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "{} {} {} {}",
            &digits[..8],
            &digits[8..14],
            &digits[14..15],
            &digits[15..]
        )
    } else {
        digits.to_owned()
    }
}

/// Column widths (in points) that give every column room for its longest word, so that no
/// word breaks inside a table, its header's in bold included: a column too narrow for its
/// longest word takes what it lacks from the columns with room to spare, in proportion to
/// that room. `measure` is a text's width in points at the table's size, bold or not; `pad`
/// the cell's margins. When the words cannot all fit, the widths stay as given.
pub fn fit_columns(
    widths: &[f32],
    header: &[String],
    rows: &[Vec<String>],
    measure: impl Fn(&str, bool) -> f32,
    pad: f32,
) -> Vec<f32> {
    let longest = |text: &str, bold: bool| {
        text.split_whitespace()
            .map(|word| measure(word, bold))
            .fold(0.0_f32, f32::max)
    };
    let need: Vec<f32> = (0..widths.len())
        .map(|col| {
            let head = header.get(col).map_or(0.0, |h| longest(h, true));
            let cells = rows
                .iter()
                .filter_map(|r| r.get(col))
                .map(|c| longest(c, false))
                .fold(0.0_f32, f32::max);
            head.max(cells) + pad
        })
        .collect();
    let short: f32 = widths
        .iter()
        .zip(&need)
        .map(|(w, n)| (n - w).max(0.0))
        .sum();
    let spare: f32 = widths
        .iter()
        .zip(&need)
        .map(|(w, n)| (w - n).max(0.0))
        .sum();
    if short <= 0.0 || spare < short {
        return widths.to_vec();
    }
    widths
        .iter()
        .zip(&need)
        .map(|(&w, &n)| {
            if w < n {
                n
            } else {
                w - (w - n) * short / spare
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character 5 points wide, bold 6.
    fn measure(text: &str, bold: bool) -> f32 {
        text.chars().count() as f32 * if bold { 6.0 } else { 5.0 }
    }

    #[test]
    fn a_column_too_narrow_for_its_header_word_takes_room_from_the_others() {
        let header = ["Unsur pelayanan".to_owned(), "Menjawab".to_owned()];
        let rows = vec![vec!["Persyaratan".to_owned(), "21".to_owned()]];
        // "Menjawab" in bold is 48 points and 4 of margins: 52 needed, 40 given.
        let widths = fit_columns(&[160.0, 40.0], &header, &rows, measure, 4.0);
        assert_eq!(widths[1], 52.0);
        assert_eq!(widths[0] + widths[1], 200.0);
        // "Persyaratan" (55 + 4) still fits in the first.
        assert!(widths[0] >= 59.0);
    }

    #[test]
    fn columns_that_fit_keep_their_widths_and_an_impossible_table_is_left_as_it_was() {
        let header = ["A".to_owned(), "B".to_owned()];
        assert_eq!(
            fit_columns(&[100.0, 100.0], &header, &[], measure, 4.0),
            vec![100.0, 100.0]
        );
        let wide = [
            "Aaaaaaaaaaaaaaaaaaaa".to_owned(),
            "Bbbbbbbbbbbbbbbbbbbb".to_owned(),
        ];
        assert_eq!(
            fit_columns(&[50.0, 50.0], &wide, &[], measure, 4.0),
            vec![50.0, 50.0]
        );
    }
}
