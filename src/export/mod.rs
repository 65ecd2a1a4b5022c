//! Exports of a unit's report: CSV (the tabulation), XLSX (a sheet per part, numbers stored as
//! numbers) and PDF (the SKM result document). All three render one [`UnitReport`]; its parts
//! are laid out once, as [`Section`]s, and each format writes the sections its own way.

pub mod chart;
pub mod csv;
pub mod document;
pub mod docx;
pub mod narrative;
pub mod pdf;
pub mod words;
pub mod xlsx;

use std::str::FromStr;

use crate::db::DbConn;
use crate::engine::exact::Fixed;
use crate::error::AppError;
use crate::instrument::{Lang, Registry};
use crate::quality::FlagRules;
use crate::reporting::{self, GroupScore, RawResponse, ReportRequest, UnitReport};
use words::{Words, words};

/// Where and when an export is made: a PDF records a verification code, so it needs the time
/// and the public address the code's page lives at.
#[derive(Debug, Clone)]
pub struct ExportContext<'a> {
    /// Now (UTC).
    pub now: chrono::NaiveDateTime,
    /// The server's public base URL.
    pub public_url: &'a str,
    /// Where the numbers are read: a replica behind the primary says so in the report.
    pub freshness: crate::db::Freshness,
}

/// A report rendered in an export format, with the report itself. A PDF stores a verification
/// code (a write: run it on a writing connection).
pub fn build(
    conn: &mut DbConn,
    registry: &Registry,
    rules: &FlagRules,
    req: &ReportRequest,
    format: Format,
    options: &ExportOptions,
    context: &ExportContext<'_>,
) -> Result<(UnitReport, Vec<u8>), AppError> {
    let mut report = reporting::unit_report(conn, registry, rules, req)?;
    reporting::note_freshness(&mut report, context.freshness);
    let verify_url = if format.is_document() {
        let code = reporting::verify::record(conn, &report, context.now)?;
        Some(reporting::verify::url(context.public_url, &code))
    } else {
        None
    };
    let raw = if format == Format::Xlsx {
        reporting::raw_responses(conn, registry, req)?
    } else {
        Vec::new()
    };
    let instrument = registry
        .get(&report.report.instrument)
        .ok_or_else(|| AppError::internal("instrument vanished"))?;
    let document = format.is_document();
    let letterhead = if document {
        Letterhead::of(conn, &report.unit)?
    } else {
        None
    };
    // A unit's own narrative belongs to its whole report of the period, not to one service's.
    let narrative = if document && req.service.is_none() {
        crate::domain::narratives::edited(conn, &report.unit, &report.period, options.lang)?
    } else {
        narrative::Edited::new()
    };
    let options = ExportOptions {
        verify_url,
        grade_boundaries: instrument.grade_boundaries(),
        printed_at: Some(context.now),
        letterhead,
        narrative,
        questionnaire: if document {
            instrument.items.clone()
        } else {
            Vec::new()
        },
        ..options.clone()
    };
    let bytes = render(&report, &raw, format, &options)?;
    Ok((report, bytes))
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The report's JSON.
    Json,
    /// The tabulation as CSV (UTF-8 with a byte-order mark).
    Csv,
    /// An Excel workbook.
    Xlsx,
    /// The SKM result document.
    Pdf,
    /// The SKM result document as an editable Word document (opens in LibreOffice too).
    Docx,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            "pdf" => Ok(Format::Pdf),
            "docx" => Ok(Format::Docx),
            _ => Err(format!(
                "`{s}` is not a format; use json, csv, xlsx, pdf or docx"
            )),
        }
    }
}

impl Format {
    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
        }
    }

    /// Whether the format is the report document (PDF or DOCX): letterhead, narrative,
    /// signature and a verification code.
    pub fn is_document(self) -> bool {
        matches!(self, Format::Pdf | Format::Docx)
    }
}

/// How an export is written.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Language of headings and labels.
    pub lang: Lang,
    /// CSV only: semicolons between fields and decimal commas, as Indonesian spreadsheets
    /// expect; otherwise commas and decimal points.
    pub semicolon: bool,
    /// PDF only: the address anyone can open to confirm the numbers on the server, printed
    /// with its QR code.
    pub verify_url: Option<String>,
    /// PDF only: where the instrument's grade bands meet on the converted scale, drawn on the
    /// item chart.
    pub grade_boundaries: Vec<f64>,
    /// PDF only: when it is printed (UTC), printed on it; a period not yet ended is marked
    /// provisional ("SEMENTARA").
    pub printed_at: Option<chrono::NaiveDateTime>,
    /// PDF only: the document's number (nomor surat); a blank to fill in by hand when absent.
    pub number: Option<String>,
    /// PDF and DOCX: the unit's letterhead and signatory, from its settings.
    pub letterhead: Option<Letterhead>,
    /// PDF and DOCX: the chapters the unit wrote in place of the templates' paragraphs.
    pub narrative: narrative::Edited,
    /// PDF and DOCX: the instrument's items with their questions and answers (the
    /// questionnaire annex).
    pub questionnaire: Vec<crate::instrument::Item>,
}

/// What a unit's report letterhead (kop surat) and signature block print, from the unit's
/// settings (`PATCH /api/v1/units/{unit}`, its logo from `PUT .../logo`).
#[derive(Debug, Clone, Default)]
pub struct Letterhead {
    /// The authority above the unit ("PEMERINTAH KOTA BANDUNG"), one line per line: the
    /// unit's own, or the nearest unit above's; never the name of the MPP it sits in.
    pub authority: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// City: on the letterhead and before the date of signing.
    pub city: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// The head's name, under the signature.
    pub head_name: Option<String>,
    /// The head's NIP (18 digits).
    pub head_id: Option<String>,
    /// The head's rank (pangkat/golongan), under their name.
    pub head_rank: Option<String>,
    /// The head's title as they sign ("Plt. Kepala Dinas ...").
    pub head_title: Option<String>,
    /// The logo: its content type (`image/png` or `image/svg+xml`) and bytes.
    pub logo: Option<(String, Vec<u8>)>,
}

impl Letterhead {
    /// Whether the unit set anything a letterhead prints beyond its own name.
    pub fn is_set(&self) -> bool {
        self.logo.is_some()
            || [
                &self.authority,
                &self.address,
                &self.phone,
                &self.email,
                &self.website,
            ]
            .iter()
            .any(|v| v.is_some())
    }

    /// The lines a letterhead prints, each with its size in points and whether it is bold, as
    /// Indonesian letterheads set them: the authority, the unit, its address and city, then
    /// its telephone, e-mail and website.
    pub fn lines(&self, unit: &str, lang: crate::instrument::Lang) -> Vec<(String, f32, bool)> {
        let mut lines: Vec<(String, f32, bool)> = self
            .authority
            .iter()
            .flat_map(|a| a.lines())
            .map(|line| (line.to_uppercase(), 11.5, true))
            .collect();
        lines.push((unit.to_uppercase(), 13.5, true));
        let place = [self.address.as_deref(), self.city.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        if !place.is_empty() {
            lines.push((place, 9.0, false));
        }
        let id = lang == crate::instrument::Lang::Id;
        let contact = [
            (if id { "Telepon" } else { "Telephone" }, &self.phone),
            (if id { "Pos-el" } else { "E-mail" }, &self.email),
            (if id { "Laman" } else { "Website" }, &self.website),
        ]
        .into_iter()
        .filter_map(|(label, value)| value.as_ref().map(|v| format!("{label} {v}")))
        .collect::<Vec<_>>();
        // On one line when it is short; otherwise the website on a line of its own, so that
        // no line breaks between a label and its value.
        let one = contact.join(" · ");
        if one.chars().count() <= 70 || contact.len() < 2 {
            if !one.is_empty() {
                lines.push((one, 8.5, false));
            }
        } else {
            let (first, last) = contact.split_at(contact.len() - 1);
            lines.push((first.join(" · "), 8.5, false));
            lines.push((last[0].clone(), 8.5, false));
        }
        lines
    }

    /// A unit's letterhead, read from its settings; the authority from the nearest unit
    /// above that has one when the unit has none.
    pub fn of(conn: &mut DbConn, unit: &str) -> Result<Option<Letterhead>, AppError> {
        let Some(u) = crate::db::queries::find_unit(conn, unit)? else {
            return Ok(None);
        };
        let mut authority = u.authority.clone();
        let mut above = u.parent_code.clone();
        // A tree is a few levels deep; the bound only guards against a cycle.
        for _ in 0..32 {
            let Some(code) = above.filter(|_| authority.is_none()) else {
                break;
            };
            let parent = crate::db::queries::find_unit(conn, &code)?;
            authority = parent.as_ref().and_then(|p| p.authority.clone());
            above = parent.and_then(|p| p.parent_code);
        }
        let logo = crate::domain::units::logo_of(conn, unit)?
            .and_then(|(content_type, bytes)| crate::domain::logos::usable(content_type, bytes));
        Ok(Some(Letterhead {
            authority,
            address: u.address,
            city: u.city,
            phone: u.phone,
            email: u.email,
            website: u.website,
            head_name: u.head_name,
            head_id: u.head_id,
            head_rank: u.head_rank,
            head_title: u.head_title,
            logo,
        }))
    }
}

/// Text as an XML document (Word, Excel) may hold it: the characters XML 1.0 forbids (the C0
/// controls but tab, line feed and carriage return, and U+FFFE and U+FFFF) are dropped. The
/// text rule keeps them out of what is stored now; rows stored before it may hold them.
pub fn xml_text(text: &str) -> std::borrow::Cow<'_, str> {
    let forbidden =
        |c: char| crate::domain::rules::is_forbidden(c) || matches!(c, '\u{fffe}' | '\u{ffff}');
    if text.chars().any(forbidden) {
        text.chars()
            .filter(|&c| !forbidden(c))
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// Renders a report in a format; `raw` feeds the XLSX raw-data sheet.
pub fn render(
    report: &UnitReport,
    raw: &[RawResponse],
    format: Format,
    options: &ExportOptions,
) -> Result<Vec<u8>, crate::error::AppError> {
    match format {
        Format::Json => serde_json::to_vec_pretty(report).map_err(crate::error::AppError::internal),
        Format::Csv => csv::write(report, options),
        Format::Xlsx => xlsx::write(report, raw, options),
        Format::Pdf => pdf::write(report, options),
        Format::Docx => docx::write(report, options),
    }
}

/// A suggested file name for an export of a report.
pub fn file_name(report: &UnitReport, format: Format) -> String {
    let service = report
        .service
        .as_deref()
        .map(|s| format!("-{s}"))
        .unwrap_or_default();
    format!(
        "ikm-{}{service}-{}.{}",
        report.unit,
        report.period.replace("..", "_"),
        format.extension()
    )
}

/// One cell of a section.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A regulation number as printed (exact, rounded).
    Fixed(Fixed),
    /// A count.
    Count(u64),
    /// An estimate with its printed decimals.
    Estimate(f64, usize),
    /// Nothing.
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    fn fixed(v: Option<&Fixed>) -> Cell {
        v.map_or(Cell::Empty, |v| Cell::Fixed(v.clone()))
    }
    fn opt_text(v: Option<&str>) -> Cell {
        v.map_or(Cell::Empty, |v| Cell::Text(v.to_owned()))
    }

    /// The cell as text with the given decimal separator.
    pub fn display(&self, decimal: char) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Fixed(v) => v.format(decimal),
            Cell::Count(n) => n.to_string(),
            Cell::Estimate(v, d) => format!("{v:.d$}").replace('.', &decimal.to_string()),
            Cell::Empty => String::new(),
        }
    }
}

/// Which sheet of the workbook a section belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    /// Summary.
    Summary,
    /// Items.
    Items,
    /// Services, channels, child units and the trend.
    Groups,
    /// Respondent profile.
    Profile,
    /// Suggestions.
    Suggestions,
    /// Follow-up plans.
    FollowUps,
}

/// A titled table of the report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Its sheet.
    pub sheet: Sheet,
    /// Title.
    pub title: String,
    /// Column headings; empty for a list of label/value pairs.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<Cell>>,
}

fn pick(lang: Lang, id: &str, en: &str) -> String {
    if lang == Lang::Id { id } else { en }.to_owned()
}

fn group_rows(groups: &[GroupScore], lang: Lang, with_population: bool) -> Vec<Vec<Cell>> {
    groups
        .iter()
        .map(|g| {
            let mut row = vec![
                Cell::opt_text(g.code.as_deref()),
                // A pooled parent's services say whose they are, by name.
                Cell::text(match g.unit_name.as_ref().or(g.unit.as_ref()) {
                    Some(unit) => format!("{} ({unit})", pick(lang, &g.name, &g.name_en)),
                    None => pick(lang, &g.name, &g.name_en),
                }),
                Cell::Count(g.respondents),
                Cell::fixed(g.ikm.as_ref()),
                Cell::opt_text(g.grade.as_deref()),
            ];
            if with_population {
                row.push(g.population.map_or(Cell::Empty, Cell::Count));
            }
            row
        })
        .collect()
}

fn group_header(w: &Words, first: &str, with_population: bool) -> Vec<String> {
    let mut h = vec![
        w.code.to_owned(),
        first.to_owned(),
        w.respondents.to_owned(),
        w.ikm.to_owned(),
        w.grade.to_owned(),
    ];
    if with_population {
        h.push(w.population.to_owned());
    }
    h
}

/// The report laid out as sections, in reading order.
pub fn sections(r: &UnitReport, lang: Lang) -> Vec<Section> {
    let w = words(lang);
    let mut out = vec![
        Section {
            sheet: Sheet::Summary,
            title: w.title.to_owned(),
            header: vec![],
            rows: summary_rows(r, lang),
        },
        items_section(r, lang),
        Section {
            sheet: Sheet::Groups,
            title: w.services.to_owned(),
            header: group_header(w, w.service, false),
            rows: group_rows(&r.services, lang, false),
        },
        Section {
            sheet: Sheet::Groups,
            title: w.channels.to_owned(),
            header: group_header(w, w.channel, false),
            rows: group_rows(&r.channels, lang, false),
        },
    ];
    if let Some(rollup) = &r.rollup {
        out.push(Section {
            sheet: Sheet::Groups,
            title: w.children.to_owned(),
            header: group_header(w, w.unit, true),
            rows: group_rows(&rollup.children, lang, true),
        });
    }
    out.push(trend_section(r, lang));
    out.push(profile_section(r, lang));
    out.push(suggestions_section(r, lang));
    out.extend(follow_up_sections(r, lang));
    out.push(Section {
        sheet: Sheet::Summary,
        title: w.calculation.to_owned(),
        header: vec![],
        rows: calculation_rows(r, lang),
    });
    out
}

fn kv(label: &str, value: Cell) -> Vec<Cell> {
    vec![Cell::text(label), value]
}

/// The summary: unit, period, the index and grade, statistics, sample, roll-up, quality and
/// notices.
fn summary_rows(r: &UnitReport, lang: Lang) -> Vec<Vec<Cell>> {
    let w = words(lang);
    let rep = &r.report;
    let mut summary = vec![
        kv(w.unit, Cell::text(format!("{} ({})", r.unit_name, r.unit))),
        kv(
            w.period,
            Cell::text(format!("{} ({} .. {})", r.period, r.from, r.to)),
        ),
        kv(w.timezone, Cell::text(&r.timezone)),
        kv(
            w.service,
            Cell::text(r.service.clone().unwrap_or_else(|| w.all_services.into())),
        ),
        kv(
            w.instrument,
            Cell::text(format!("{} v{}", rep.instrument, rep.instrument_version)),
        ),
        kv(w.mode, Cell::text(&rep.mode)),
        kv(w.respondents, Cell::Count(rep.respondents)),
        kv(w.index, Cell::fixed(rep.index.as_ref())),
        kv(w.ikm, Cell::fixed(rep.ikm.as_ref())),
        kv(w.grade, Cell::opt_text(rep.grade.as_deref())),
        kv(
            w.performance,
            Cell::opt_text(if lang == Lang::Id {
                rep.performance.as_deref()
            } else {
                rep.performance_en.as_deref()
            }),
        ),
        kv(w.priorities, Cell::text(rep.priorities.join(", "))),
    ];
    if let Some(ci) = &rep.statistics.confidence_interval {
        summary.push(vec![
            Cell::text(w.interval),
            Cell::Estimate(ci.lower, 2),
            Cell::Estimate(ci.upper, 2),
        ]);
    }
    if let Some(alpha) = rep.statistics.reliability.as_ref().and_then(|r| r.alpha) {
        summary.push(kv(w.reliability, Cell::Estimate(alpha, 3)));
    }
    if let Some(s) = &rep.sample {
        summary.push(kv(w.population, Cell::Count(s.size.population)));
        summary.push(kv(w.minimum_sample, Cell::Count(s.size.minimum)));
        summary.push(kv(
            w.adequate,
            Cell::text(if s.adequate { w.yes } else { w.no }),
        ));
    }
    if let Some(weighted) = r
        .rollup
        .as_ref()
        .and_then(|x| x.population_weighted.as_ref())
    {
        summary.push(vec![
            Cell::text(w.population_weighted),
            Cell::Fixed(weighted.ikm.clone()),
            Cell::text(&weighted.grade),
        ]);
    }
    let q = &r.quality;
    summary.push(vec![
        Cell::text(w.quality),
        Cell::text(format!(
            "{} {}, {} {}, {} {}",
            w.flagged, q.flagged, w.included, q.included, w.excluded, q.excluded
        )),
    ]);
    for notice in &rep.notices {
        summary.push(kv(
            w.notices,
            Cell::text(pick(lang, &notice.id, &notice.en)),
        ));
    }
    summary
}

/// How the numbers were computed: regulation, mode, rounding, roll-up and the quality rule.
fn calculation_rows(r: &UnitReport, lang: Lang) -> Vec<Vec<Cell>> {
    let w = words(lang);
    let q = &r.quality;
    let calc = &r.report.calculation;
    vec![
        kv(w.instrument, Cell::text(&calc.regulation)),
        kv(
            w.mode,
            Cell::text(pick(
                lang,
                &calc.mode_description,
                &calc.mode_description_en,
            )),
        ),
        kv(
            w.rounding,
            Cell::text(pick(lang, &calc.rounding_id, &calc.rounding)),
        ),
        kv(
            w.rollup,
            Cell::opt_text(if lang == Lang::Id {
                calc.rollup_id.as_deref()
            } else {
                calc.rollup.as_deref()
            }),
        ),
        kv(w.quality, Cell::text(pick(lang, &q.rule_id, &q.rule))),
    ]
}

/// Per item: answers and skips, the distribution of values, NRR, weighted NRR, IKM and grade.
fn items_section(r: &UnitReport, lang: Lang) -> Section {
    let w = words(lang);
    let rep = &r.report;
    let values: Vec<String> = rep
        .items
        .first()
        .map(|i| i.distribution.keys().cloned().collect())
        .unwrap_or_default();
    let mut item_header = vec![
        w.code.to_owned(),
        w.item.to_owned(),
        w.answered.to_owned(),
        w.skipped.to_owned(),
        w.total.to_owned(),
    ];
    item_header.extend(values.iter().map(|v| format!("{} {v}", w.value)));
    item_header.extend([
        w.nrr.to_owned(),
        w.weighted_nrr.to_owned(),
        w.item_ikm.to_owned(),
        w.grade.to_owned(),
    ]);
    let items = rep
        .items
        .iter()
        .map(|i| {
            let mut row = vec![
                Cell::text(&i.code),
                Cell::text(pick(lang, &i.name, &i.name_en)),
                Cell::Count(i.answered),
                Cell::Count(i.skipped),
                Cell::Count(i.total),
            ];
            row.extend(
                values
                    .iter()
                    .map(|v| Cell::Count(i.distribution.get(v).copied().unwrap_or(0))),
            );
            row.extend([
                Cell::fixed(i.nrr.as_ref()),
                Cell::fixed(i.weighted_nrr.as_ref()),
                Cell::fixed(i.ikm.as_ref()),
                Cell::opt_text(i.grade.as_deref()),
            ]);
            row
        })
        .collect();

    Section {
        sheet: Sheet::Items,
        title: w.items.to_owned(),
        header: item_header,
        rows: items,
    }
}

/// The previous periods with their change and whether it is significant.
fn trend_section(r: &UnitReport, lang: Lang) -> Section {
    let w = words(lang);
    Section {
        sheet: Sheet::Groups,
        title: w.trend.to_owned(),
        header: vec![
            w.period.into(),
            w.respondents.into(),
            w.ikm.into(),
            w.grade.into(),
            w.change.into(),
            w.significant.into(),
        ],
        rows: r
            .trend
            .iter()
            .map(|t| {
                vec![
                    Cell::text(&t.period),
                    Cell::Count(t.respondents),
                    Cell::fixed(t.ikm.as_ref()),
                    Cell::opt_text(t.grade.as_deref()),
                    Cell::fixed(t.change.as_ref()),
                    t.significant
                        .map_or(Cell::Empty, |s| Cell::text(if s { w.yes } else { w.no })),
                ]
            })
            .collect(),
    }
}

/// The respondent profile, small cells suppressed.
fn profile_section(r: &UnitReport, lang: Lang) -> Section {
    let w = words(lang);
    let mut profile_rows = Vec::new();
    for b in &r.profile {
        for c in &b.cells {
            profile_rows.push(vec![
                Cell::text(&b.label),
                Cell::text(pick(lang, &c.label, &c.label_en)),
                c.respondents.map_or(Cell::text(w.suppressed), Cell::Count),
                Cell::fixed(c.ikm.as_ref()),
            ]);
        }
    }
    Section {
        sheet: Sheet::Profile,
        title: w.profile.to_owned(),
        header: vec![
            w.profile.into(),
            w.category.into(),
            w.respondents.into(),
            w.ikm.into(),
        ],
        rows: profile_rows,
    }
}

/// The suggestions, newest first.
fn suggestions_section(r: &UnitReport, lang: Lang) -> Section {
    let w = words(lang);
    Section {
        sheet: Sheet::Suggestions,
        title: if r.suggestions_truncated {
            w.suggestions_newest
                .replace("{shown}", &r.suggestions.len().to_string())
        } else {
            w.suggestions.to_owned()
        },
        header: vec![
            w.date.into(),
            w.unit.into(),
            w.service.into(),
            w.channel.into(),
            w.text.into(),
        ],
        rows: r
            .suggestions
            .iter()
            .map(|s| {
                vec![
                    Cell::text(&s.date),
                    Cell::text(&s.unit),
                    Cell::opt_text(s.service.as_deref()),
                    Cell::text(&s.channel),
                    Cell::text(&s.text),
                ]
            })
            .collect(),
    }
}

/// This period's follow-up plans, and the previous period's with how many were done.
fn follow_up_sections(r: &UnitReport, lang: Lang) -> Vec<Section> {
    let w = words(lang);
    let mut out = Vec::new();
    let plan_header = vec![
        w.item.to_owned(),
        w.action.to_owned(),
        w.owner.to_owned(),
        w.due.to_owned(),
        w.status.to_owned(),
    ];
    let plan_rows = |plans: &[crate::followup::FollowUp]| -> Vec<Vec<Cell>> {
        plans
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.item_code),
                    Cell::text(&p.action),
                    Cell::text(&p.owner),
                    Cell::text(&p.due),
                    Cell::text(crate::followup::status_label(&p.status, lang)),
                ]
            })
            .collect()
    };
    out.push(Section {
        sheet: Sheet::FollowUps,
        title: w.follow_ups.to_owned(),
        header: plan_header.clone(),
        rows: plan_rows(&r.follow_ups.current),
    });
    if let Some(prev) = &r.follow_ups.previous {
        out.push(Section {
            sheet: Sheet::FollowUps,
            title: format!(
                "{} ({}): {} {} {}",
                w.previous_follow_ups, prev.period, prev.done, w.done_of, prev.total
            ),
            header: plan_header,
            rows: plan_rows(&prev.actions),
        });
    }
    out
}

/// The raw-data sheet's title and heading, without its rows: a sheet of up to
/// [`crate::reporting::RAW_LIMIT`] responses is written a row at a time ([`raw_row`]), never
/// held as cells.
pub fn raw_section(raw: &[RawResponse], item_codes: &[String], lang: Lang, total: u64) -> Section {
    let w = words(lang);
    let mut header = vec![
        w.received.to_owned(),
        w.unit.to_owned(),
        w.service.to_owned(),
        w.channel.to_owned(),
    ];
    header.extend(item_codes.iter().cloned());
    header.extend(["gender", "age", "education", "occupation"].map(str::to_owned));
    header.push(w.flags.to_owned());
    Section {
        sheet: Sheet::Summary,
        title: if (raw.len() as u64) < total {
            w.raw_partial
                .replace("{shown}", &raw.len().to_string())
                .replace("{total}", &total.to_string())
        } else {
            w.raw.to_owned()
        },
        header,
        rows: Vec::new(),
    }
}

/// One response as a row of the raw-data sheet.
pub fn raw_row(x: &RawResponse) -> Vec<Cell> {
    let mut row = vec![
        Cell::text(&x.received),
        Cell::text(&x.unit),
        Cell::opt_text(x.service.as_deref()),
        Cell::text(&x.channel),
    ];
    row.extend(
        x.answers
            .iter()
            .map(|a| a.map_or(Cell::Empty, |v| Cell::Count(v.unsigned_abs()))),
    );
    row.extend(x.profile.iter().map(|p| Cell::opt_text(p.as_deref())));
    row.push(Cell::text(&x.flags));
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> RawResponse {
        RawResponse {
            received: "2025-08-15 12:00".into(),
            unit: "unit-a".into(),
            service: None,
            channel: "kiosk".into(),
            answers: vec![Some(4); 9],
            profile: [None, None, None, None],
            flags: String::new(),
        }
    }

    #[test]
    fn a_raw_sheet_cut_short_says_how_much_it_shows() {
        let codes: Vec<String> = (1..=9).map(|i| format!("U{i}")).collect();
        let two = [response(), response()];
        assert_eq!(raw_section(&two, &codes, Lang::Id, 2).title, "Data");
        assert_eq!(
            raw_section(&two, &codes, Lang::En, 7).title,
            "Data: the first 2 of 7 responses; export each unit for the rest"
        );
        assert!(
            raw_section(&two, &codes, Lang::Id, 7)
                .title
                .starts_with("Data: 2 respons pertama dari 7")
        );
    }
}
