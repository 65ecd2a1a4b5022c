//! The report as an Excel workbook: sheets for the summary, items, services (with channels,
//! child units and the trend), profile, suggestions, follow-up plans and the raw responses. Numbers are stored
//! as numbers and formatted with the digits the report prints.

use rust_xlsxwriter::{Format as CellFormat, Workbook, Worksheet, XlsxError};

use super::words::words;
use super::{Cell, ExportOptions, Section, Sheet, raw_row, raw_section, sections};
use crate::error::AppError;
use crate::reporting::{RawResponse, UnitReport};

fn number_format(decimals: u32) -> CellFormat {
    let pattern = if decimals == 0 {
        "0".to_owned()
    } else {
        format!("0.{}", "0".repeat(decimals as usize))
    };
    CellFormat::new().set_num_format(pattern)
}

fn write_cell(ws: &mut Worksheet, row: u32, col: u16, cell: &Cell) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(s) => ws.write_string(row, col, super::xml_text(s)).map(|_| ()),
        Cell::Fixed(v) => ws
            .write_number_with_format(row, col, v.to_f64(), &number_format(v.decimals()))
            .map(|_| ()),
        Cell::Count(n) => ws.write_number(row, col, *n as f64).map(|_| ()),
        Cell::Estimate(v, d) => ws
            .write_number_with_format(row, col, *v, &number_format(*d as u32))
            .map(|_| ()),
        Cell::Empty => Ok(()),
    }
}

fn write_sections(ws: &mut Worksheet, sections: &[&Section]) -> Result<(), XlsxError> {
    let bold = CellFormat::new().set_bold();
    let mut row = 0u32;
    let mut widest = [10usize; 64];
    for section in sections {
        ws.write_string_with_format(row, 0, super::xml_text(&section.title), &bold)?;
        row += 1;
        if !section.header.is_empty() {
            for (col, h) in section.header.iter().enumerate() {
                ws.write_string_with_format(row, col as u16, super::xml_text(h), &bold)?;
                widest[col.min(63)] = widest[col.min(63)].max(h.chars().count());
            }
            row += 1;
        }
        for cells in &section.rows {
            for (col, cell) in cells.iter().enumerate() {
                write_cell(ws, row, col as u16, cell)?;
                let len = cell.display('.').chars().count();
                widest[col.min(63)] = widest[col.min(63)].max(len.min(60));
            }
            row += 1;
        }
        row += 1;
    }
    for (col, width) in widest.iter().enumerate() {
        ws.set_column_width(col as u16, (*width as f64 + 2.0).min(62.0))?;
    }
    Ok(())
}

/// Writes the workbook.
pub fn write(
    report: &UnitReport,
    raw: &[RawResponse],
    options: &ExportOptions,
) -> Result<Vec<u8>, AppError> {
    let w = words(options.lang);
    let all = sections(report, options.lang);
    let codes: Vec<String> = report.report.items.iter().map(|i| i.code.clone()).collect();
    let raw_heading = raw_section(raw, &codes, options.lang, report.report.respondents);
    let mut book = Workbook::new();
    let sheets = [
        (Sheet::Summary, w.summary),
        (Sheet::Items, w.items),
        (Sheet::Groups, w.services),
        (Sheet::Profile, w.profile),
        (Sheet::Suggestions, w.suggestions),
        (Sheet::FollowUps, w.follow_ups),
    ];
    let result: Result<Vec<u8>, XlsxError> = (|| {
        for (sheet, name) in sheets {
            let ws = book.add_worksheet();
            // Sheet names are at most 31 characters.
            ws.set_name(name.chars().take(31).collect::<String>())?;
            let parts: Vec<&Section> = all.iter().filter(|s| s.sheet == sheet).collect();
            write_sections(ws, &parts)?;
        }
        // Up to 100,000 rows: streamed to a temporary file as they are written, so that a
        // year's export does not hold the sheet in memory.
        let ws = book.add_worksheet_with_constant_memory()?;
        ws.set_name(w.raw)?;
        write_sections(ws, &[&raw_heading])?;
        ws.set_column_width(0, 18)?;
        for (i, response) in raw.iter().enumerate() {
            let row = 2 + u32::try_from(i).unwrap_or(u32::MAX - 2);
            for (col, cell) in raw_row(response).iter().enumerate() {
                write_cell(ws, row, col as u16, cell)?;
            }
        }
        book.save_to_buffer()
    })();
    result.map_err(AppError::internal)
}
