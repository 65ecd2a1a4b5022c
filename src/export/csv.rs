//! The report's tabulation as CSV: UTF-8 with a byte-order mark so spreadsheets open it as
//! UTF-8, each section a title line, a heading line and its rows, a blank line between
//! sections. With the semicolon option, numbers take decimal commas (Indonesian spreadsheets).

use super::{ExportOptions, sections};
use crate::error::AppError;
use crate::reporting::UnitReport;

/// Writes the CSV.
pub fn write(report: &UnitReport, options: &ExportOptions) -> Result<Vec<u8>, AppError> {
    let (delimiter, decimal) = if options.semicolon {
        (b';', ',')
    } else {
        (b',', '.')
    };
    let mut out = Vec::from("\u{feff}".as_bytes());
    for (i, section) in sections(report, options.lang).iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        let mut writer = ::csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .terminator(::csv::Terminator::CRLF)
            .from_writer(&mut out);
        writer
            .write_record([&section.title])
            .map_err(AppError::internal)?;
        if !section.header.is_empty() {
            writer
                .write_record(&section.header)
                .map_err(AppError::internal)?;
        }
        for row in &section.rows {
            writer
                .write_record(row.iter().map(|c| c.display(decimal)))
                .map_err(AppError::internal)?;
        }
        writer.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}
