//! The report (`document.rs` writes its content) as an editable Word document, so that a
//! unit can change the narrative and the wording before it signs: the same letterhead,
//! chapters, tables, charts and signature block as the PDF, with the chapters as Heading 1 and
//! the sections as Heading 2 (a word processor's navigator lists them), on A4 with the margins
//! of an official letter and numbered pages. The charts are drawn as PNG (resvg); the QR code
//! and the logo are embedded. Written with docx-rs; LibreOffice and Word open it.

use docx_rs::{
    AlignmentType, BorderType, BreakType, Docx, Footer, LineSpacing, NumPages, PageMargin, PageNum,
    Paragraph, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders, Pic, Run, RunFonts,
    Shading, Style, StyleType, Table, TableCell, TableCellMargins, TableRow, VAlignType, WidthType,
};

use super::ExportOptions;
use super::document::{self, Sink};
use crate::error::AppError;
use crate::reporting::UnitReport;

/// A4 in twentieths of a point.
const PAGE_W: u32 = 11_906;
const PAGE_H: u32 = 16_838;
/// Margins of an official letter: 3 cm at the left, 2 cm elsewhere.
const LEFT: i32 = 1_701;
const OTHER: i32 = 1_134;
const TEXT_W: f32 = (PAGE_W as i32 - LEFT - OTHER) as f32;
/// The text width in points.
const TEXT_PT: f32 = TEXT_W / 20.0;
/// English Metric Units in a point.
const EMU_PER_PT: u32 = 12_700;

/// One block of the body, in order.
enum Block {
    Paragraph(Box<Paragraph>),
    Table(Box<Table>),
}

/// The body being written.
#[derive(Default)]
struct Body {
    blocks: Vec<Block>,
}

/// Half-points, the unit of a run's size.
fn half_points(size: f32) -> usize {
    (size * 2.0).round() as usize
}

fn run(text: &str, size: f32, bold: bool) -> Run {
    let run = Run::new()
        .add_text(super::xml_text(text))
        .size(half_points(size));
    if bold { run.bold() } else { run }
}

/// A PNG as an inline picture fitted into a `box_pt` square, or nothing when it cannot be read.
fn picture(png: &[u8], box_pt: f32) -> Option<Pic> {
    let (w, h) = image::ImageReader::new(std::io::Cursor::new(png))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()?;
    let scale = box_pt / w.max(h).max(1) as f32;
    let emu = |px: u32| (px as f32 * scale) as u32 * EMU_PER_PT;
    Some(Pic::new_with_dimensions(png.to_vec(), w, h).size(emu(w), emu(h)))
}

impl Body {
    fn push(&mut self, p: Paragraph) {
        self.blocks.push(Block::Paragraph(Box::new(p)));
    }

    fn push_table(&mut self, t: Table) {
        self.blocks.push(Block::Table(Box::new(t)));
    }
}

/// A cell of a table without borders (letterhead, signature), `share` of the text width wide.
fn plain_cell(share: f32) -> TableCell {
    TableCell::new()
        .width((TEXT_W * share) as usize, WidthType::Dxa)
        .clear_all_border()
}

/// A table without borders of one row that never breaks across pages.
fn plain_row(cells: Vec<TableCell>, shares: &[f32]) -> Table {
    Table::without_borders(vec![TableRow::new(cells).cant_split()])
        .set_grid(shares.iter().map(|s| (TEXT_W * s) as usize).collect())
        .margins(TableCellMargins::new().margin(0, 40, 0, 40))
}

/// An SVG (a chart, a logo) drawn as a PNG of twice its size for a crisp print, but never
/// more than `longest` pixels on its longer side (a logo may say it is 5,000 pixels wide).
fn png_of_svg(svg: &str, longest: f32) -> Result<Vec<u8>, AppError> {
    let tree = crate::domain::logos::parse_svg(svg.as_bytes(), super::pdf::svg_fonts())
        .map_err(AppError::internal)?;
    let (w, h) = (tree.size().width(), tree.size().height());
    let scale = (longest / w.max(h).max(1.0)).min(2.0);
    let px = |v: f32| ((v * scale).ceil() as u32).max(1);
    let mut pixmap = resvg::tiny_skia::Pixmap::new(px(w), px(h))
        .ok_or_else(|| AppError::internal("svg: empty size"))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| AppError::internal(format!("chart: {e}")))
}

impl Sink for Body {
    /// The logo beside the lines, as the PDF and printed letterheads place it: a table
    /// without borders of the logo, the centred lines and a cell as wide as the logo's, so the
    /// lines sit in the middle of the page; under it the double rule, thick over thin.
    fn letterhead(&mut self, logo: Option<&(String, Vec<u8>)>, lines: &[(String, f32, bool)]) {
        const SIDE: f32 = 0.16;
        let mut left = Paragraph::new();
        // A PNG as it is; an SVG drawn as one (checked when uploaded and again when read).
        let png = logo.and_then(|(content_type, bytes)| match content_type.as_str() {
            "image/png" => Some(bytes.clone()),
            "image/svg+xml" => std::str::from_utf8(bytes)
                .ok()
                .and_then(|svg| png_of_svg(svg, 400.0).ok()),
            _ => None,
        });
        if let Some(pic) = png.as_deref().and_then(|png| picture(png, 62.0)) {
            left = left.add_run(Run::new().add_image(pic));
        }
        let mut middle = plain_cell(1.0 - 2.0 * SIDE).vertical_align(VAlignType::Center);
        for (text, size, bold) in lines {
            middle = middle.add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_run(run(text, *size, *bold)),
            );
        }
        self.push_table(plain_row(
            vec![
                plain_cell(SIDE)
                    .vertical_align(VAlignType::Center)
                    .add_paragraph(left),
                middle,
                plain_cell(SIDE).add_paragraph(Paragraph::new()),
            ],
            &[SIDE, 1.0 - 2.0 * SIDE, SIDE],
        ));
        let mut rule = Paragraph::new().line_spacing(LineSpacing::new().after(200));
        rule.property = rule.property.set_borders(
            ParagraphBorders::with_empty().set(
                ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                    .val(BorderType::ThickThinSmallGap)
                    .size(18)
                    .color("000000"),
            ),
        );
        self.push(rule);
    }

    fn centered(&mut self, text: &str, size: f32, bold: bool) {
        self.push(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(run(text, size, bold)),
        );
    }

    fn result_box(&mut self, label: &str, ikm: &str, grade: &str, counts: &str) {
        let cell = |p: Paragraph| {
            TableCell::new()
                .add_paragraph(p)
                .shading(Shading::new().fill("ECF0F4"))
        };
        let left = cell(
            Paragraph::new()
                .add_run(run(label, 10.0, false))
                .add_run(Run::new().add_break(BreakType::TextWrapping))
                .add_run(run(ikm, 26.0, true)),
        )
        .width((TEXT_W * 0.35) as usize, WidthType::Dxa);
        let right = cell(
            Paragraph::new()
                .add_run(run(grade, 14.0, true))
                .add_run(Run::new().add_break(BreakType::TextWrapping))
                .add_run(run(counts, 9.5, false)),
        )
        .width((TEXT_W * 0.65) as usize, WidthType::Dxa);
        self.blocks.push(Block::Table(Box::new(
            Table::without_borders(vec![TableRow::new(vec![left, right])])
                .set_grid(vec![(TEXT_W * 0.35) as usize, (TEXT_W * 0.65) as usize]),
        )));
    }

    fn chapter(&mut self, text: &str) {
        self.push(
            Paragraph::new()
                .style("Heading1")
                .keep_next(true)
                .add_run(Run::new().add_text(super::xml_text(text))),
        );
    }

    fn heading(&mut self, text: &str) {
        self.push(
            Paragraph::new()
                .style("Heading2")
                .keep_next(true)
                .add_run(Run::new().add_text(super::xml_text(text))),
        );
    }

    fn paragraph(&mut self, text: &str, size: f32, bold: bool) {
        self.push(
            Paragraph::new()
                .line_spacing(LineSpacing::new().after(80))
                .add_run(run(text, size, bold)),
        );
    }

    fn table(
        &mut self,
        header: &[String],
        rows: &[Vec<String>],
        fractions: &[f32],
        numeric: &[bool],
    ) {
        let given: Vec<f32> = fractions.iter().map(|f| f * TEXT_PT).collect();
        // Room for every column's longest word in the cell margins of 2.5 points a side.
        let widths: Vec<usize> = document::fit_columns(
            &given,
            header,
            rows,
            |text, bold| super::pdf::width(text, document::SMALL, bold),
            6.0,
        )
        .iter()
        .map(|w| (w * 20.0) as usize)
        .collect();
        let row = |cells: &[String], bold: bool| {
            TableRow::new(
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, text)| {
                        let align = if numeric.get(i).copied().unwrap_or(false) {
                            AlignmentType::Right
                        } else {
                            AlignmentType::Left
                        };
                        let cell = TableCell::new()
                            .width(widths.get(i).copied().unwrap_or(0), WidthType::Dxa)
                            .add_paragraph(Paragraph::new().align(align).add_run(run(
                                text,
                                document::SMALL,
                                bold,
                            )));
                        if bold {
                            cell.shading(Shading::new().fill("ECF0F4"))
                        } else {
                            cell
                        }
                    })
                    .collect(),
            )
        };
        let mut all = vec![row(header, true)];
        all.extend(rows.iter().map(|r| row(r, false)));
        // Narrow cell margins: the widths are the PDF's, laid out for its tight cells.
        let table = Table::new(all)
            .set_grid(widths)
            .margins(TableCellMargins::new().margin(20, 50, 20, 50));
        self.blocks.push(Block::Table(Box::new(table)));
    }

    /// The chart as a PNG `share` of the text width wide; the PNG keeps the chart's own
    /// proportions, so the aspect the PDF needs is not used here.
    fn chart(&mut self, svg: &str, share: f32, _aspect: f32) -> Result<(), AppError> {
        let png = png_of_svg(svg, 2400.0)?;
        if let Some(pic) = picture(&png, TEXT_PT * share) {
            self.push(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_run(Run::new().add_image(pic)),
            );
        }
        Ok(())
    }

    /// The closing paragraph kept with the table after it; the table one row that never
    /// breaks: the verification code at the left, the signature block at the right.
    fn signature(&mut self, closing: &str, s: &document::Signature) -> Result<(), AppError> {
        self.push(
            Paragraph::new()
                .keep_next(true)
                .keep_lines(true)
                .line_spacing(LineSpacing::new().before(200).after(240))
                .add_run(run(closing, document::BODY, false)),
        );
        let mut left = plain_cell(0.5);
        match &s.verify {
            Some((url, what)) => {
                let (_, png) = crate::tokens::qr(url).map_err(AppError::internal)?;
                let mut qr = Paragraph::new();
                if let Some(pic) = picture(&png, 76.0) {
                    qr = qr.add_run(Run::new().add_image(pic));
                }
                left = left
                    .add_paragraph(qr)
                    .add_paragraph(Paragraph::new().add_run(run(what, 7.0, false)))
                    .add_paragraph(Paragraph::new().add_run(run(url, 7.0, false)));
            }
            None => left = left.add_paragraph(Paragraph::new()),
        }
        let line = |text: &str, bold: bool| Paragraph::new().add_run(run(text, 9.5, bold));
        let mut right = plain_cell(0.5);
        for text in s.above() {
            right = right.add_paragraph(line(text, false));
        }
        for _ in 0..3 {
            right = right.add_paragraph(Paragraph::new());
        }
        right = right
            .add_paragraph(Paragraph::new().add_run(run(&s.name, 9.5, true).underline("single")));
        for text in s.below() {
            right = right.add_paragraph(line(text, false));
        }
        self.push_table(plain_row(vec![left, right], &[0.5, 0.5]));
        Ok(())
    }

    fn page_break(&mut self) {
        self.push(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)));
    }
}

/// Writes the DOCX.
pub fn write(r: &UnitReport, options: &ExportOptions) -> Result<Vec<u8>, AppError> {
    let mut body = Body::default();
    document::write(r, options, &mut body)?;
    // The footer: the unit and the period, and "halaman 2 dari 14" as the PDF numbers them.
    let (page, of) = match options.lang {
        crate::instrument::Lang::Id => (" · halaman ", " dari "),
        crate::instrument::Lang::En => (" · page ", " of "),
    };
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .style("Footer")
            .add_run(run(&document::footer(r, options.lang), 7.5, false))
            .add_run(run(page, 7.5, false))
            .add_page_num(PageNum::new())
            .add_run(run(of, 7.5, false))
            .add_num_pages(NumPages::new()),
    );
    let font = RunFonts::new()
        .ascii("DejaVu Sans Condensed")
        .hi_ansi("DejaVu Sans Condensed")
        .cs("DejaVu Sans Condensed");
    let mut docx = Docx::new()
        .page_size(PAGE_W, PAGE_H)
        .page_margin(
            PageMargin::new()
                .top(OTHER)
                .bottom(OTHER)
                .left(LEFT)
                .right(OTHER),
        )
        .default_fonts(font)
        .default_size(half_points(document::BODY))
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("Heading 1")
                .bold()
                .size(half_points(12.5))
                .line_spacing(LineSpacing::new().before(360).after(120))
                .outline_lvl(0),
        )
        .add_style(
            Style::new("Heading2", StyleType::Paragraph)
                .name("Heading 2")
                .bold()
                .size(half_points(11.0))
                .line_spacing(LineSpacing::new().before(240).after(80))
                .outline_lvl(1),
        )
        // The footer's size for the page numbers too, whose runs carry none of their own.
        .add_style(
            Style::new("Footer", StyleType::Paragraph)
                .name("footer")
                .size(half_points(7.5)),
        )
        .footer(footer);
    for block in body.blocks {
        docx = match block {
            Block::Paragraph(p) => docx.add_paragraph(*p),
            Block::Table(t) => docx.add_table(*t),
        };
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    docx.build()
        .pack(&mut bytes)
        .map_err(|e| AppError::internal(format!("docx: {e}")))?;
    Ok(bytes.into_inner())
}
