//! The report as a PDF in the shape of an official SKM result: identity and period, method
//! and sample, the item table with NRR and grades, the IKM with grade and kinerja, a bar chart
//! of the items, breakdowns, trend, profile, priorities, suggestions, calculation notes, a
//! verification code with its QR, and a signature block. Drawn with krilla; the DejaVu Sans
//! Condensed fonts (Bitstream Vera licence, `fonts/LICENSE`) are embedded, so Indonesian text
//! renders the same everywhere.
//!
//! The document is first laid out as a list of drawing operations per page (so tables can break
//! across pages and footers can say "page i of n"), then drawn.

use std::sync::{Arc, OnceLock};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla_svg::{SurfaceExt, SvgSettings};

use super::words::{Words, words};
use super::{Cell, ExportOptions, Section, Sheet, chart, sections};
use crate::error::AppError;
use crate::instrument::Lang;
use crate::reporting::UnitReport;

const REGULAR: &[u8] = include_bytes!("fonts/DejaVuSansCondensed.ttf");
const BOLD: &[u8] = include_bytes!("fonts/DejaVuSansCondensed-Bold.ttf");

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 48.0;
const BOTTOM: f32 = PAGE_H - 60.0;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;

type Colour = (u8, u8, u8);
const BLACK: Colour = (0, 0, 0);
const GREY: Colour = (90, 90, 90);
const SHADE: Colour = (236, 240, 244);

/// One drawing operation.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        colour: Colour,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Colour,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
    },
    Svg {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        tree: Box<usvg::Tree>,
    },
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        image: krilla::image::Image,
    },
}

struct Faces {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

fn faces() -> &'static Faces {
    static FACES: OnceLock<Faces> = OnceLock::new();
    FACES.get_or_init(|| Faces {
        regular: ttf_parser::Face::parse(REGULAR, 0).expect("embedded font parses"),
        bold: ttf_parser::Face::parse(BOLD, 0).expect("embedded font parses"),
    })
}

/// Width of a text in points.
fn width(text: &str, size: f32, bold: bool) -> f32 {
    let face = if bold {
        &faces().bold
    } else {
        &faces().regular
    };
    let units: u32 = text
        .chars()
        .map(|c| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .map_or(500, u32::from)
        })
        .sum();
    units as f32 * size / f32::from(face.units_per_em())
}

/// Splits a text into lines no wider than `max`.
fn wrap(text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, bold) <= max || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            }
        }
        lines.push(line);
    }
    lines
}

/// The pages being laid out and the cursor.
struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
    fontdb: Arc<usvg::fontdb::Database>,
}

impl Layout {
    /// A thin line across the text width at the current height.
    fn rule(&mut self) {
        let y = self.y;
        self.ops().push(Op::Line {
            x1: MARGIN,
            y1: y,
            x2: PAGE_W - MARGIN,
            y2: y,
        });
    }

    fn new() -> Layout {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(REGULAR.to_vec());
        db.load_font_data(BOLD.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        Layout {
            pages: vec![Vec::new()],
            y: MARGIN,
            fontdb: Arc::new(db),
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    /// Starts a new page unless `h` more points fit on this one.
    fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, bold: bool, colour: Colour, text: &str) {
        self.ops().push(Op::Text {
            x,
            y,
            size,
            bold,
            colour,
            text: text.to_owned(),
        });
    }

    /// A wrapped paragraph at the cursor.
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, indent: f32) {
        for line in wrap(text, size, bold, TEXT_W - indent) {
            self.need(size * 1.35);
            self.y += size * 1.35;
            self.text_at(MARGIN + indent, self.y, size, bold, BLACK, &line);
        }
    }

    fn centered(&mut self, text: &str, size: f32, bold: bool) {
        for line in wrap(text, size, bold, TEXT_W) {
            self.need(size * 1.4);
            self.y += size * 1.4;
            let x = MARGIN + (TEXT_W - width(&line, size, bold)) / 2.0;
            self.text_at(x, self.y, size, bold, BLACK, &line);
        }
    }

    fn heading(&mut self, text: &str) {
        self.need(90.0);
        self.y += 14.0;
        self.paragraph(text, 11.5, true, 0.0);
        self.y += 3.0;
        self.rule();
        self.y += 2.0;
    }

    /// A table: columns get the given fractions of the text width; numbers align right.
    fn table(
        &mut self,
        header: &[String],
        rows: &[Vec<String>],
        fractions: &[f32],
        numeric: &[bool],
    ) {
        const SIZE: f32 = 8.5;
        const LINE: f32 = 10.5;
        let widths: Vec<f32> = fractions.iter().map(|f| f * TEXT_W).collect();
        let layout_row = |cells: &[String], bold: bool| -> Vec<Vec<String>> {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| wrap(c, SIZE, bold, w - 6.0))
                .collect()
        };
        let head = layout_row(header, true);
        let head_h = head.iter().map(Vec::len).max().unwrap_or(1) as f32 * LINE + 5.0;
        let draw_row = |me: &mut Layout, lines: &[Vec<String>], bold: bool, shade: bool| {
            let h = lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * LINE + 5.0;
            if shade {
                let y = me.y;
                me.ops().push(Op::Rect {
                    x: MARGIN,
                    y,
                    w: TEXT_W,
                    h,
                    fill: SHADE,
                });
            }
            let mut x = MARGIN;
            for (i, cell) in lines.iter().enumerate() {
                for (j, line) in cell.iter().enumerate() {
                    let tx = if numeric.get(i).copied().unwrap_or(false) {
                        x + widths[i] - 3.0 - width(line, SIZE, bold)
                    } else {
                        x + 3.0
                    };
                    let ty = me.y + LINE * (j as f32 + 1.0);
                    me.text_at(tx, ty, SIZE, bold, BLACK, line);
                }
                x += widths[i];
            }
            me.y += h;
        };
        self.need(head_h + 2.0 * LINE);
        draw_row(self, &head, true, true);
        for (n, row) in rows.iter().enumerate() {
            let lines = layout_row(row, false);
            let h = lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * LINE + 5.0;
            if self.y + h > BOTTOM {
                self.need(BOTTOM);
                draw_row(self, &head, true, true);
            }
            draw_row(self, &lines, false, n % 2 == 1);
        }
        self.rule();
    }

    /// A section of the report as a table (or label/value lines when it has no header).
    fn section(&mut self, s: &Section, decimal: char, fractions: &[f32]) {
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
        self.table(&s.header, &rows, fractions, &numeric);
    }

    fn parse_svg(&self, svg: &[u8]) -> Result<usvg::Tree, AppError> {
        let options = usvg::Options {
            fontdb: self.fontdb.clone(),
            font_family: "DejaVu Sans".to_owned(),
            ..usvg::Options::default()
        };
        usvg::Tree::from_data(svg, &options).map_err(AppError::internal)
    }

    /// A logo at (x, y), fitted into a `box_size` square keeping its proportions; a logo that
    /// cannot be read is left out (it was checked when uploaded).
    fn logo(&mut self, (content_type, bytes): &(String, Vec<u8>), x: f32, y: f32, box_size: f32) {
        let fit = |w: f32, h: f32| {
            let scale = box_size / w.max(h).max(1.0);
            (w * scale, h * scale)
        };
        if content_type == "image/svg+xml" {
            if let Ok(tree) = self.parse_svg(bytes) {
                let (w, h) = fit(tree.size().width(), tree.size().height());
                self.ops().push(Op::Svg {
                    x,
                    y: y + (box_size - h) / 2.0,
                    w,
                    h,
                    tree: Box::new(tree),
                });
            }
        } else if let Ok(image) = krilla::image::Image::from_png(bytes.clone().into(), true) {
            let (pw, ph) = image.size();
            let (w, h) = fit(pw as f32, ph as f32);
            self.ops().push(Op::Image {
                x,
                y: y + (box_size - h) / 2.0,
                w,
                h,
                image,
            });
        }
    }

    fn svg(&mut self, svg: &str, w: f32, h: f32) -> Result<(), AppError> {
        let tree = self.parse_svg(svg.as_bytes())?;
        self.need(h + 6.0);
        self.y += 6.0;
        let (x, y) = (MARGIN + (TEXT_W - w) / 2.0, self.y);
        self.ops().push(Op::Svg {
            x,
            y,
            w,
            h,
            tree: Box::new(tree),
        });
        self.y += h;
        Ok(())
    }
}

fn fill(surface: &mut Surface<'_>, (r, g, b): Colour) {
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }));
}

fn draw(pages: Vec<Vec<Op>>, footer: &str, lang: Lang) -> Result<Vec<u8>, AppError> {
    let regular =
        Font::new(REGULAR.to_vec().into(), 0).ok_or_else(|| AppError::internal("font"))?;
    let bold = Font::new(BOLD.to_vec().into(), 0).ok_or_else(|| AppError::internal("font"))?;
    let mut document = Document::new();
    let total = pages.len();
    for (number, ops) in pages.into_iter().enumerate() {
        let settings =
            PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| AppError::internal("page size"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let page_text = if lang == Lang::Id {
            format!("{footer} · halaman {} dari {total}", number + 1)
        } else {
            format!("{footer} · page {} of {total}", number + 1)
        };
        let footer_op = Op::Text {
            x: MARGIN,
            y: PAGE_H - 30.0,
            size: 7.5,
            bold: false,
            colour: GREY,
            text: page_text,
        };
        for op in ops.into_iter().chain(std::iter::once(footer_op)) {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: is_bold,
                    colour,
                    text,
                } => {
                    fill(&mut surface, colour);
                    let font = if is_bold {
                        bold.clone()
                    } else {
                        regular.clone()
                    };
                    surface.draw_text(
                        Point::from_xy(x, y),
                        font,
                        size,
                        &text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill: c,
                } => {
                    let mut pb = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                        pb.push_rect(rect);
                    }
                    if let Some(path) = pb.finish() {
                        fill(&mut surface, c);
                        surface.set_stroke(None);
                        surface.draw_path(&path);
                    }
                }
                Op::Line { x1, y1, x2, y2 } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(120, 120, 120).into(),
                            width: 0.6,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
                Op::Svg { x, y, w, h, tree } => {
                    surface.push_transform(&Transform::from_translate(x, y));
                    if let Some(size) = Size::from_wh(w, h) {
                        surface.draw_svg(&tree, size, SvgSettings::default());
                    }
                    surface.pop();
                }
                Op::Image { x, y, w, h, image } => {
                    surface.push_transform(&Transform::from_translate(x, y));
                    if let Some(size) = Size::from_wh(w, h) {
                        surface.draw_image(image, size);
                    }
                    surface.pop();
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| AppError::internal(format!("pdf: {e:?}")))
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

fn pick<'a>(lang: Lang, id: &'a str, en: &'a str) -> &'a str {
    if lang == Lang::Id { id } else { en }
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

    /// The letterhead (kop surat): the logo at the left; the unit above, the unit, its address
    /// and city centred beside it; a double rule under them. Nothing when the unit has set
    /// neither a logo nor an address.
    fn letterhead(&self, l: &mut Layout) {
        let Some(k) = &self.options.letterhead else {
            return;
        };
        if k.logo.is_none() && k.address.is_none() {
            return;
        }
        const LOGO: f32 = 62.0;
        let top = l.y;
        if let Some(logo) = &k.logo {
            l.logo(logo, MARGIN, top, LOGO);
        }
        // The text is centred on the page as letterheads are, clear of the logo.
        let room = TEXT_W - 2.0 * (LOGO + 8.0);
        let mut lines: Vec<(String, f32, bool)> = Vec::new();
        if let Some(parent) = &k.parent {
            lines.push((parent.to_uppercase(), 10.5, true));
        }
        lines.push((self.r.unit_name.to_uppercase(), 13.0, true));
        let place = [k.address.as_deref(), k.city.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        if !place.is_empty() {
            lines.push((place, 9.0, false));
        }
        let mut y = top;
        for (text, size, bold) in lines {
            for part in wrap(&text, size, bold, room) {
                y += size + 4.0;
                let x = MARGIN + (TEXT_W - width(&part, size, bold)) / 2.0;
                l.text_at(x, y, size, bold, BLACK, &part);
            }
        }
        l.y = y.max(top + LOGO) + 8.0;
        for dy in [0.0, 2.2] {
            let at = l.y + dy;
            l.ops().push(Op::Line {
                x1: MARGIN,
                y1: at,
                x2: MARGIN + TEXT_W,
                y2: at,
            });
        }
        l.y += 14.0;
    }

    /// The title, the document's number, the unit and the period.
    fn title(&self, l: &mut Layout) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        self.letterhead(l);
        l.centered(&w.title.to_uppercase(), 15.0, true);
        let number = self
            .options
            .number
            .as_deref()
            .unwrap_or("______________________");
        l.centered(
            &format!("{} {number}", pick(lang, "Nomor:", "Number:")),
            9.5,
            false,
        );
        l.centered(&r.unit_name, 13.0, true);
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
        l.centered(
            &format!(
                "{} ({} {} {}) · {} · {}",
                crate::text::period_label(&r.period, lang),
                crate::text::local_date(&r.from),
                pick(lang, "s.d.", "to"),
                crate::text::local_date(&r.to),
                crate::text::zone_label(&r.timezone),
                service
            ),
            9.5,
            false,
        );
        self.printed(l);
    }

    /// When the document was printed, in the unit's time; over a period not yet ended, the
    /// mark that its numbers are provisional.
    fn printed(&self, l: &mut Layout) {
        let (r, lang) = (self.r, self.lang);
        let Some(at) = self.options.printed_at else {
            return;
        };
        let tz = crate::period::parse_timezone(&r.timezone).unwrap_or(chrono_tz::Asia::Jakarta);
        let local = chrono::TimeZone::from_utc_datetime(&tz, &at);
        let running = chrono::NaiveDate::parse_from_str(&r.to, "%Y-%m-%d")
            .is_ok_and(|last| local.date_naive() <= last);
        if running {
            l.centered(
                pick(
                    lang,
                    "SEMENTARA: periode ini belum berakhir",
                    "PROVISIONAL: this period has not ended",
                ),
                12.0,
                true,
            );
        }
        l.centered(
            &format!(
                "{} {} {}",
                pick(lang, "Dicetak", "Printed"),
                local.format("%d-%m-%Y %H:%M"),
                crate::text::zone_label(&r.timezone)
            ),
            8.5,
            false,
        );
    }

    /// The result box: IKM, grade, index and respondents.
    fn result_box(&self, l: &mut Layout) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        l.y += 12.0;
        l.need(70.0);
        let top = l.y;
        l.ops().push(Op::Rect {
            x: MARGIN,
            y: top,
            w: TEXT_W,
            h: 62.0,
            fill: SHADE,
        });
        l.text_at(MARGIN + 14.0, top + 22.0, 10.0, false, GREY, w.ikm);
        l.text_at(
            MARGIN + 14.0,
            top + 50.0,
            26.0,
            true,
            BLACK,
            &self.num(r.report.ikm.as_ref()),
        );
        let grade_line = format!(
            "{} {} · {}",
            w.grade,
            r.report.grade.as_deref().unwrap_or("-"),
            pick(
                lang,
                r.report.performance.as_deref().unwrap_or("-"),
                r.report.performance_en.as_deref().unwrap_or("-")
            )
        );
        l.text_at(MARGIN + 190.0, top + 28.0, 14.0, true, BLACK, &grade_line);
        let counts = format!(
            "{} {} · {} {}",
            w.index,
            self.num(r.report.index.as_ref()),
            r.report.respondents,
            pick(lang, "responden", "respondents")
        );
        l.text_at(MARGIN + 190.0, top + 47.0, 9.5, false, BLACK, &counts);
        l.y = top + 62.0;
    }

    /// Method and sample: instrument, mode, sample adequacy, interval, reliability, notices.
    fn method(&self, l: &mut Layout) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        l.heading(pick(lang, "Metode dan sampel", "Method and sample"));
        let calc = &r.report.calculation;
        let mut method = format!(
            "{} {} v{} ({}); {}: {}.",
            w.instrument,
            r.report.instrument,
            r.report.instrument_version,
            calc.regulation,
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
        l.paragraph(&method, 9.0, false, 0.0);
        for notice in &r.report.notices {
            l.paragraph(
                &format!("• {}", pick(lang, &notice.id, &notice.en)),
                9.0,
                false,
                0.0,
            );
        }
    }

    /// Per-item values as a table and a chart.
    fn items(&self, l: &mut Layout) -> Result<(), AppError> {
        let (r, lang, w) = (self.r, self.lang, self.w);
        l.heading(&format!(
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
        l.table(
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
        l.svg(&svg, TEXT_W * 0.9, TEXT_W * 0.9 * ch as f32 / cw as f32)?;
        Ok(())
    }

    /// The weakest items, first to improve.
    fn priorities(&self, l: &mut Layout) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        l.heading(w.priorities);
        for (n, code) in r.report.priorities.iter().enumerate() {
            if let Some(i) = r.report.items.iter().find(|i| &i.code == code) {
                l.paragraph(
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
                    9.0,
                    false,
                    0.0,
                );
            }
        }
    }

    /// Follow-up plans: this period's, and whether the previous period's were done.
    fn follow_ups(&self, l: &mut Layout) {
        let lang = self.lang;
        for s in self.all.iter().filter(|s| s.sheet == Sheet::FollowUps) {
            l.heading(&s.title);
            if s.rows.is_empty() {
                l.paragraph(
                    pick(
                        lang,
                        "Belum ada rencana tindak lanjut untuk periode ini.",
                        "No follow-up plan for this period yet.",
                    ),
                    9.0,
                    false,
                    0.0,
                );
            } else {
                // The due date as Indonesian documents write it.
                let s = relabel(s, 3, crate::text::local_date);
                l.section(&s, self.decimal, &[0.08, 0.44, 0.2, 0.13, 0.15]);
            }
        }
    }

    /// Breakdowns by service, channel and child unit, the trend and the profile.
    fn breakdowns(&self, l: &mut Layout) -> Result<(), AppError> {
        let (r, lang, w) = (self.r, self.lang, self.w);
        let group_fractions = [0.16, 0.44, 0.14, 0.14, 0.12];
        for title in [w.services, w.channels] {
            if let Some(s) = self
                .section(Sheet::Groups, title)
                .filter(|s| !s.rows.is_empty())
            {
                l.heading(title);
                l.section(&s, self.decimal, &group_fractions);
            }
        }
        if let Some(s) = self
            .section(Sheet::Groups, w.children)
            .filter(|s| !s.rows.is_empty())
        {
            l.heading(w.children);
            l.section(&s, self.decimal, &[0.15, 0.37, 0.13, 0.12, 0.1, 0.13]);
            if let Some(weighted) = r
                .rollup
                .as_ref()
                .and_then(|x| x.population_weighted.as_ref())
            {
                l.paragraph(
                    &format!(
                        "{}: {} ({} {}).",
                        w.population_weighted,
                        crate::text::number(&weighted.ikm, lang),
                        w.grade,
                        weighted.grade
                    ),
                    9.0,
                    false,
                    0.0,
                );
            }
        }
        if let Some(s) = self.section(Sheet::Groups, w.trend) {
            l.heading(w.trend);
            // Periods by name: "Triwulan III 2026", not 2026-Q3.
            let s = relabel(&s, 0, |p| crate::text::period_label(p, lang));
            l.section(&s, self.decimal, &[0.2, 0.16, 0.16, 0.12, 0.16, 0.2]);
            let svg = chart::of_report(r, chart::Kind::Trend, lang, &[])?;
            let (cw, ch) = chart::TREND_SIZE;
            l.svg(&svg, TEXT_W * 0.8, TEXT_W * 0.8 * ch as f32 / cw as f32)?;
        }
        if let Some(s) = self.section(Sheet::Profile, w.profile) {
            l.heading(w.profile);
            l.section(&s, self.decimal, &[0.25, 0.35, 0.22, 0.18]);
        }
        Ok(())
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

    /// The newest suggestions, and where the rest are.
    fn suggestions(&self, l: &mut Layout) {
        let (r, lang, w) = (self.r, self.lang, self.w);
        if !r.suggestions.is_empty() {
            l.heading(w.suggestions);
            const SHOWN: usize = 30;
            for s in r.suggestions.iter().take(SHOWN) {
                l.paragraph(
                    &format!(
                        "• {} · {}: {}",
                        crate::text::local_date(&s.date),
                        self.source(s).join(" · "),
                        s.text
                    ),
                    8.5,
                    false,
                    0.0,
                );
            }
            if r.suggestions_truncated {
                l.paragraph(
                    &pick(
                        lang,
                        "Hanya {n} saran terbaru yang dicantumkan; periode ini memuat lebih banyak.",
                        "Only the newest {n} suggestions are listed; the period holds more.",
                    )
                    .replace("{n}", &r.suggestions.len().to_string()),
                    8.5,
                    false,
                    0.0,
                );
            }
            if r.suggestions.len() > SHOWN {
                l.paragraph(
                    &pick(
                        lang,
                        "… {n} saran lainnya ada di lampiran XLSX.",
                        "… {n} more suggestions are in the XLSX export.",
                    )
                    .replace("{n}", &(r.suggestions.len() - SHOWN).to_string()),
                    8.5,
                    false,
                    0.0,
                );
            }
        }
    }

    /// How the numbers were computed.
    fn calculation(&self, l: &mut Layout) {
        let w = self.w;
        if let Some(s) = self.section(Sheet::Summary, w.calculation) {
            l.heading(w.calculation);
            for row in &s.rows {
                let line: Vec<String> = row.iter().map(|c| c.display(self.decimal)).collect();
                l.paragraph(&line.join(": "), 8.5, false, 0.0);
            }
        }
    }

    /// The verification address and its QR code.
    fn verification(&self, l: &mut Layout) -> Result<(), AppError> {
        let lang = self.lang;
        if let Some(url) = &self.options.verify_url {
            l.heading(pick(lang, "Verifikasi", "Verification"));
            l.paragraph(
                pick(
                    lang,
                    "Pindai kode QR atau buka alamat berikut untuk memastikan bahwa angka-angka ini adalah hasil perhitungan server:",
                    "Scan the QR code or open this address to confirm that these are the numbers the server computed:",
                ),
                8.5,
                false,
                0.0,
            );
            l.paragraph(url, 8.5, true, 0.0);
            let (qr, _) = crate::tokens::qr(url).map_err(AppError::internal)?;
            l.svg(&qr, 90.0, 90.0)?;
        }
        Ok(())
    }

    /// The signature block: the place and date of signing, the unit's head by office, room to
    /// sign, their name and NIP (blanks to fill in when the unit has not set them).
    fn signature(&self, l: &mut Layout) {
        let (r, lang) = (self.r, self.lang);
        let k = self.options.letterhead.as_ref();
        let city = k.and_then(|k| k.city.as_deref());
        l.need(130.0);
        l.y += 24.0;
        let sign_x = MARGIN + TEXT_W * 0.55;
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
        let lines = [
            place_date,
            format!("{} {}", pick(lang, "Kepala", "Head of"), r.unit_name),
        ];
        for line in lines {
            for part in wrap(&line, 9.5, false, TEXT_W * 0.45) {
                l.y += 13.0;
                l.text_at(sign_x, l.y, 9.5, false, BLACK, &part);
            }
        }
        l.y += 56.0;
        let name = k
            .and_then(|k| k.head_name.as_deref())
            .unwrap_or("(______________________________)");
        l.text_at(sign_x, l.y, 9.5, true, BLACK, name);
        l.y += 13.0;
        let nip = k
            .and_then(|k| k.head_id.as_deref())
            .map(nip)
            .unwrap_or_default();
        l.text_at(sign_x, l.y, 9.5, false, BLACK, &format!("NIP. {nip}"));
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

/// Writes the PDF.
pub fn write(r: &UnitReport, options: &ExportOptions) -> Result<Vec<u8>, AppError> {
    let lang = options.lang;
    let doc = Doc {
        r,
        options,
        lang,
        w: words(lang),
        decimal: if lang == Lang::Id { ',' } else { '.' },
        all: sections(r, lang),
    };
    let mut l = Layout::new();
    doc.title(&mut l);
    doc.result_box(&mut l);
    doc.method(&mut l);
    doc.items(&mut l)?;
    doc.priorities(&mut l);
    doc.follow_ups(&mut l);
    doc.breakdowns(&mut l)?;
    doc.suggestions(&mut l);
    doc.calculation(&mut l);
    doc.verification(&mut l)?;
    doc.signature(&mut l);
    let footer = format!(
        "{} · {}",
        r.unit_name,
        crate::text::period_label(&r.period, lang)
    );
    draw(l.pages, &footer, lang)
}
