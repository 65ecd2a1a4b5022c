//! The report (`document.rs` writes its content) as an editable Word document, so that a
//! unit can change the narrative and the wording before it signs: the same chapters, tables
//! and signature block as the PDF, with the chapters as Heading 1 and the sections as
//! Heading 2 (a word processor's navigator lists them), on A4 with the margins of an official
//! letter. Charts stay in the PDF; the QR code and a PNG logo are embedded. Written with
//! docx-rs; LibreOffice and Word open it.

use docx_rs::{
    AlignmentType, BorderType, BreakType, Docx, Footer, LineSpacing, PageMargin, Paragraph,
    ParagraphBorder, ParagraphBorderPosition, Pic, Run, RunFonts, Shading, Style, StyleType, Table,
    TableCell, TableCellMargins, TableRow, WidthType,
};

use super::document::{self, Sink};
use super::{ExportOptions, Letterhead};
use crate::error::AppError;
use crate::reporting::UnitReport;

/// A4 in twentieths of a point.
const PAGE_W: u32 = 11_906;
const PAGE_H: u32 = 16_838;
/// Margins of an official letter: 3 cm at the left, 2 cm elsewhere.
const LEFT: i32 = 1_701;
const OTHER: i32 = 1_134;
const TEXT_W: f32 = (PAGE_W as i32 - LEFT - OTHER) as f32;
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
}

impl Sink for Body {
    fn letterhead(&mut self, k: &Letterhead, unit: &str) {
        // The logo above the names: a word processor's user moves it where the unit's
        // letterheads put it. An SVG logo stays in the PDF.
        if let Some((content_type, bytes)) = &k.logo
            && content_type == "image/png"
            && let Some(pic) = picture(bytes, 62.0)
        {
            self.push(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_run(Run::new().add_image(pic)),
            );
        }
        for (text, size, bold) in k.lines(unit) {
            self.centered(&text, size, bold);
        }
        // The double rule under a letterhead.
        let mut rule = Paragraph::new();
        rule.property = rule.property.set_border(
            ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                .val(BorderType::Double)
                .size(6),
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
                .add_run(Run::new().add_text(super::xml_text(text))),
        );
    }

    fn heading(&mut self, text: &str) {
        self.push(
            Paragraph::new()
                .style("Heading2")
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
        let widths: Vec<usize> = fractions.iter().map(|f| (f * TEXT_W) as usize).collect();
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

    fn chart(&mut self, _svg: &str, _share: f32, _aspect: f32) -> Result<(), AppError> {
        // The charts are in the PDF; this document is for the words.
        Ok(())
    }

    fn qr(&mut self, url: &str) -> Result<(), AppError> {
        let (_, png) = crate::tokens::qr(url).map_err(AppError::internal)?;
        if let Some(pic) = picture(&png, 90.0) {
            self.push(Paragraph::new().add_run(Run::new().add_image(pic)));
        }
        Ok(())
    }

    fn signature(&mut self, above: &[String], name: &str, nip: &str) {
        let at = |p: Paragraph| p.indent(Some((TEXT_W * 0.55) as i32), None, None, None);
        self.push(Paragraph::new());
        for line in above {
            self.push(at(Paragraph::new().add_run(run(line, 9.5, false))));
        }
        for _ in 0..3 {
            self.push(at(Paragraph::new()));
        }
        self.push(at(Paragraph::new().add_run(run(name, 9.5, true))));
        self.push(at(Paragraph::new().add_run(run(nip, 9.5, false))));
    }

    fn page_break(&mut self) {
        self.push(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)));
    }
}

/// Writes the DOCX.
pub fn write(r: &UnitReport, options: &ExportOptions) -> Result<Vec<u8>, AppError> {
    let mut body = Body::default();
    document::write(r, options, &mut body)?;
    let footer = Footer::new().add_paragraph(Paragraph::new().add_run(run(
        &document::footer(r, options.lang),
        7.5,
        false,
    )));
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
