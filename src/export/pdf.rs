//! The report (`document.rs` writes its content) as a PDF: drawn with krilla; the DejaVu Sans
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

use super::ExportOptions;
use super::document::{self, Sink};
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
const RULE: Colour = (120, 120, 120);

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
        width: f32,
        colour: Colour,
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

/// The document's fonts, for the text of SVG charts and logos.
pub(super) fn svg_fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(REGULAR.to_vec());
            db.load_font_data(BOLD.to_vec());
            db.set_sans_serif_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

/// Width of a text in points, in the document's font.
pub(super) fn width(text: &str, size: f32, bold: bool) -> f32 {
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
        self.line(MARGIN, y, PAGE_W - MARGIN, 0.6, RULE);
    }

    /// A horizontal line from `x1` to `x2` at height `y`.
    fn line(&mut self, x1: f32, y: f32, x2: f32, width: f32, colour: Colour) {
        self.ops().push(Op::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
            colour,
        });
    }

    fn new() -> Layout {
        Layout {
            pages: vec![Vec::new()],
            y: MARGIN,
            fontdb: svg_fonts(),
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

    fn parse_svg(&self, svg: &[u8]) -> Result<usvg::Tree, AppError> {
        crate::domain::logos::parse_svg(svg, self.fontdb.clone()).map_err(AppError::internal)
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
                Op::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                    colour: (r, g, b),
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(r, g, b).into(),
                            width,
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

impl Sink for Layout {
    /// The logo at the left; the lines centred on the page as letterheads are, clear of the
    /// logo; under them the double rule of an Indonesian letterhead, thick over thin.
    fn letterhead(&mut self, logo: Option<&(String, Vec<u8>)>, lines: &[(String, f32, bool)]) {
        const LOGO: f32 = 62.0;
        let top = self.y;
        if let Some(logo) = logo {
            self.logo(logo, MARGIN, top, LOGO);
        }
        let room = if logo.is_some() {
            TEXT_W - 2.0 * (LOGO + 8.0)
        } else {
            TEXT_W
        };
        let mut y = top;
        for (text, size, bold) in lines {
            for part in wrap(text, *size, *bold, room) {
                y += size + 4.0;
                let x = MARGIN + (TEXT_W - width(&part, *size, *bold)) / 2.0;
                self.text_at(x, y, *size, *bold, BLACK, &part);
            }
        }
        self.y = y.max(top + LOGO) + 8.0;
        let at = self.y;
        self.line(MARGIN, at, MARGIN + TEXT_W, 1.8, BLACK);
        self.line(MARGIN, at + 2.8, MARGIN + TEXT_W, 0.6, BLACK);
        self.y += 14.0;
    }

    fn centered(&mut self, text: &str, size: f32, bold: bool) {
        Layout::centered(self, text, size, bold);
    }

    fn result_box(&mut self, label: &str, ikm: &str, grade: &str, counts: &str) {
        self.y += 12.0;
        self.need(70.0);
        let top = self.y;
        self.ops().push(Op::Rect {
            x: MARGIN,
            y: top,
            w: TEXT_W,
            h: 62.0,
            fill: SHADE,
        });
        self.text_at(MARGIN + 14.0, top + 22.0, 10.0, false, GREY, label);
        self.text_at(MARGIN + 14.0, top + 50.0, 26.0, true, BLACK, ikm);
        self.text_at(MARGIN + 190.0, top + 28.0, 14.0, true, BLACK, grade);
        self.text_at(MARGIN + 190.0, top + 47.0, 9.5, false, BLACK, counts);
        self.y = top + 62.0;
    }

    fn chapter(&mut self, text: &str) {
        self.need(120.0);
        self.y += 18.0;
        Layout::paragraph(self, text, 12.5, true, 0.0);
        self.y += 4.0;
    }

    fn heading(&mut self, text: &str) {
        Layout::heading(self, text);
    }

    fn paragraph(&mut self, text: &str, size: f32, bold: bool) {
        Layout::paragraph(self, text, size, bold, 0.0);
    }

    fn table(
        &mut self,
        header: &[String],
        rows: &[Vec<String>],
        fractions: &[f32],
        numeric: &[bool],
    ) {
        const SIZE: f32 = 8.5;
        const LINE: f32 = 10.5;
        let given: Vec<f32> = fractions.iter().map(|f| f * TEXT_W).collect();
        let widths = document::fit_columns(
            &given,
            header,
            rows,
            |text, bold| width(text, SIZE, bold),
            6.0,
        );
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

    fn chart(&mut self, svg: &str, share: f32, aspect: f32) -> Result<(), AppError> {
        self.svg(svg, TEXT_W * share, TEXT_W * share * aspect)
    }

    fn signature(&mut self, closing: &str, s: &document::Signature) -> Result<(), AppError> {
        const SIZE: f32 = 9.5;
        const LINE: f32 = 13.0;
        const QR: f32 = 76.0;
        let sign_x = MARGIN + TEXT_W * 0.55;
        let sign_w = TEXT_W * 0.45;
        let closing_lines = wrap(closing, document::BODY, false, TEXT_W);
        let above: Vec<String> = s
            .above()
            .iter()
            .flat_map(|line| wrap(line, SIZE, false, sign_w))
            .collect();
        let block = LINE * above.len() as f32 + 56.0 + LINE * (1 + s.below().len()) as f32;
        let caption = s
            .verify
            .as_ref()
            .map(|(url, what)| {
                let mut lines = wrap(what, 7.0, false, TEXT_W * 0.45);
                lines.extend(wrap(url, 7.0, false, TEXT_W * 0.5));
                lines
            })
            .unwrap_or_default();
        let beside = if s.verify.is_some() {
            QR + 6.0 + 9.0 * caption.len() as f32
        } else {
            0.0
        };
        // The closing paragraph, the block and the code beside it go to the next page together
        // when they do not fit on this one.
        self.need(closing_lines.len() as f32 * document::BODY * 1.35 + 30.0 + block.max(beside));
        self.y += 10.0;
        Layout::paragraph(self, closing, document::BODY, false, 0.0);
        self.y += 20.0;
        let top = self.y;
        if let Some((url, _)) = &s.verify {
            let (qr, _) = crate::tokens::qr(url).map_err(AppError::internal)?;
            let tree = self.parse_svg(qr.as_bytes())?;
            self.ops().push(Op::Svg {
                x: MARGIN,
                y: top,
                w: QR,
                h: QR,
                tree: Box::new(tree),
            });
            let mut y = top + QR + 4.0;
            for line in &caption {
                y += 9.0;
                self.text_at(MARGIN, y, 7.0, false, GREY, line);
            }
        }
        let mut y = top;
        for line in &above {
            y += LINE;
            self.text_at(sign_x, y, SIZE, false, BLACK, line);
        }
        y += 56.0;
        self.text_at(sign_x, y, SIZE, true, BLACK, &s.name);
        // The name underlined, as Indonesian signature blocks print it.
        let name_w = width(&s.name, SIZE, true);
        self.line(sign_x, y + 2.0, sign_x + name_w, 0.6, BLACK);
        for line in s.below() {
            y += LINE;
            self.text_at(sign_x, y, SIZE, false, BLACK, line);
        }
        self.y = y.max(top + beside);
        Ok(())
    }

    fn page_break(&mut self) {
        self.need(BOTTOM);
    }
}

/// Writes the PDF.
pub fn write(r: &UnitReport, options: &ExportOptions) -> Result<Vec<u8>, AppError> {
    let mut l = Layout::new();
    document::write(r, options, &mut l)?;
    draw(l.pages, &document::footer(r, options.lang), options.lang)
}
