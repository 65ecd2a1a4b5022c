//! Reading questionnaires from CSV: one row per questionnaire, one column per item code.
//!
//! Comma and semicolon files both work (Indonesian spreadsheet exports use semicolons), a UTF-8
//! byte-order mark is accepted, blank cells are unanswered items and columns that are not item
//! codes are ignored. Anything malformed stops the read with an error naming line and column.

use std::collections::HashMap;
use std::fmt;

use crate::engine::{AnswerError, Answers};
use crate::instrument::Instrument;

/// One questionnaire read from a file.
#[derive(Debug, Clone)]
pub struct CsvRow {
    /// Line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// The answers, aligned with the instrument's items.
    pub answers: Answers,
    /// The other columns of the row, by lower-case header name.
    pub extra: HashMap<String, String>,
}

/// A file that cannot be read as responses, with the place of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// Line of the file; `None` for problems with the file as a whole.
    pub line: Option<u64>,
    /// Column header (and its 1-based position), when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.column) {
            (Some(line), Some(column)) => {
                write!(f, "line {line}, column {column}: {}", self.problem)
            }
            (Some(line), None) => write!(f, "line {line}: {}", self.problem),
            _ => f.write_str(&self.problem),
        }
    }
}

impl std::error::Error for CsvError {}

/// The delimiter of a file: whichever of `;` and `,` the header line uses more.
pub fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

/// Whether a header looks like an item code (`U` and digits), so a stray `U10` is caught.
fn looks_like_item(header: &str) -> bool {
    let mut chars = header.chars();
    matches!(chars.next(), Some('U' | 'u')) && header.len() > 1 && chars.all(|c| c.is_ascii_digit())
}

/// Reads every questionnaire of a CSV file for an instrument.
pub fn read_responses(instrument: &Instrument, bytes: &[u8]) -> Result<Vec<CsvRow>, CsvError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| whole(format!("the file is not UTF-8 text ({e})")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(detect_delimiter(text))
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| whole(format!("cannot read the header line: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let columns = Columns::of(instrument, headers)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(record_error)?;
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        rows.push(columns.row(instrument, &record, line)?);
    }
    Ok(rows)
}

/// An error of the whole file, at no line.
fn whole(problem: String) -> CsvError {
    CsvError {
        line: None,
        column: None,
        problem,
    }
}

/// A record the CSV reader could not read, at its line.
fn record_error(e: csv::Error) -> CsvError {
    let line = e.position().map(csv::Position::line);
    let problem = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("has {len} cells where the header has {expected_len}")
        }
        _ => e.to_string(),
    };
    CsvError {
        line,
        column: None,
        problem,
    }
}

/// The header read: each column's item, or none for an extra column.
struct Columns {
    headers: Vec<String>,
    item_of_column: Vec<Option<usize>>,
}

impl Columns {
    /// Maps each column to an item, refusing an item twice, a stray item-like column (`U10`)
    /// and a missing item.
    fn of(instrument: &Instrument, headers: Vec<String>) -> Result<Columns, CsvError> {
        let header_error = |column: usize, problem: String| CsvError {
            line: Some(1),
            column: Some(format!("{} ({})", headers[column], column + 1)),
            problem,
        };
        let mut item_of_column: Vec<Option<usize>> = Vec::with_capacity(headers.len());
        let mut seen = vec![false; instrument.items.len()];
        for (column, header) in headers.iter().enumerate() {
            let item = instrument
                .items
                .iter()
                .position(|i| i.code.eq_ignore_ascii_case(header));
            match item {
                Some(i) if seen[i] => {
                    return Err(header_error(
                        column,
                        "this item column appears twice".into(),
                    ));
                }
                Some(i) => seen[i] = true,
                None if looks_like_item(header) => {
                    return Err(header_error(
                        column,
                        format!(
                            "`{header}` is not an item of {} (items {}..{})",
                            instrument.key,
                            instrument.items[0].code,
                            instrument.items[instrument.items.len() - 1].code
                        ),
                    ));
                }
                None => {}
            }
            item_of_column.push(item);
        }
        let missing: Vec<&str> = instrument
            .items
            .iter()
            .zip(&seen)
            .filter(|(_, s)| !**s)
            .map(|(i, _)| i.code.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(CsvError {
                line: Some(1),
                column: None,
                problem: format!("the header has no column for {}", missing.join(", ")),
            });
        }

        Ok(Columns {
            headers,
            item_of_column,
        })
    }

    /// `{header} ({n})`, as errors name a column.
    fn name(&self, column: usize) -> String {
        format!("{} ({})", self.headers[column], column + 1)
    }

    /// One questionnaire: its answers checked against the instrument, its other columns kept.
    fn row(
        &self,
        instrument: &Instrument,
        record: &csv::StringRecord,
        line: u64,
    ) -> Result<CsvRow, CsvError> {
        let mut values = vec![None; instrument.items.len()];
        let mut extra = HashMap::new();
        for (column, cell) in record.iter().enumerate() {
            let cell = cell.trim();
            let Some(item) = self.item_of_column[column] else {
                extra.insert(self.headers[column].to_lowercase(), cell.to_owned());
                continue;
            };
            if cell.is_empty() {
                continue;
            }
            let at = || Some(self.name(column));
            let value: i64 = cell.parse().map_err(|_| CsvError {
                line: Some(line),
                column: at(),
                problem: format!("`{cell}` is not a whole number"),
            })?;
            values[item] = Some(value);
        }
        let answers = Answers(values);
        answers.check(instrument).map_err(|e| CsvError {
            line: Some(line),
            column: e.item().and_then(|code| {
                let column = self
                    .item_of_column
                    .iter()
                    .position(|i| i.is_some_and(|i| instrument.items[i].code == code))?;
                Some(self.name(column))
            }),
            problem: match e {
                AnswerError::OutOfRange {
                    value, min, max, ..
                } => format!("{value} is outside {min}..{max}"),
                other => other.to_string(),
            },
        })?;
        Ok(CsvRow {
            line,
            answers,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::Registry;

    fn skm() -> std::sync::Arc<Instrument> {
        Registry::built_in()
            .unwrap()
            .get("skm-2017")
            .unwrap()
            .clone()
    }

    const HEADER: &str = "U1,U2,U3,U4,U5,U6,U7,U8,U9";

    #[test]
    fn reads_comma_files_with_blanks_and_extra_columns() {
        let text = format!("no,{HEADER},saran\n1,4,3,3,4,4,4,4,3,3,Bagus\n2,3,,3,4,4,4,4,3,3,\n");
        let rows = read_responses(&skm(), text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].answers.0[0], Some(4));
        assert_eq!(rows[1].answers.0[1], None);
        assert_eq!(rows[1].line, 3);
        assert_eq!(
            rows[0].extra.get("saran").map(String::as_str),
            Some("Bagus")
        );
    }

    #[test]
    fn reads_semicolon_files_with_a_byte_order_mark() {
        let text = format!(
            "\u{feff}{};Tanggal\n4;4;4;4;4;4;4;4;4;01/07/2025\n",
            HEADER.replace(',', ";")
        );
        let rows = read_responses(&skm(), text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].answers.0, vec![Some(4); 9]);
    }

    #[test]
    fn text_where_a_number_belongs_names_line_and_column() {
        let text = format!("{HEADER}\n4,4,4,4,4,4,4,4,4\n4,4,empat,4,4,4,4,4,4\n");
        let e = read_responses(&skm(), text.as_bytes()).unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (Some(3), Some("U3 (3)")));
        assert!(e.problem.contains("empat"), "{e}");
    }

    #[test]
    fn out_of_range_values_name_line_and_column() {
        let text = format!("{HEADER}\n4,4,4,4,4,4,4,4,5\n");
        let e = read_responses(&skm(), text.as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), "line 2, column U9 (9): 5 is outside 1..4");
        let zero = format!("{HEADER}\n0,4,4,4,4,4,4,4,4\n");
        assert_eq!(
            read_responses(&skm(), zero.as_bytes())
                .unwrap_err()
                .column
                .as_deref(),
            Some("U1 (1)")
        );
    }

    #[test]
    fn unknown_item_headers_and_missing_items_are_refused() {
        let e = read_responses(&skm(), format!("{HEADER},U10\n").as_bytes()).unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (Some(1), Some("U10 (10)")));
        let e = read_responses(&skm(), b"U1,U2,U3\n4,4,4\n").unwrap_err();
        assert!(e.problem.contains("U4, U5, U6, U7, U8, U9"), "{e}");
        let e = read_responses(&skm(), format!("{HEADER},u1\n").as_bytes()).unwrap_err();
        assert!(e.problem.contains("twice"), "{e}");
    }

    #[test]
    fn short_rows_and_non_utf8_files_are_refused() {
        let e = read_responses(&skm(), format!("{HEADER}\n4,4,4\n").as_bytes()).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.problem.contains("3 cells"), "{e}");
        assert!(
            read_responses(&skm(), b"U1,\xff\n")
                .unwrap_err()
                .problem
                .contains("UTF-8")
        );
    }

    #[test]
    fn empty_lines_are_skipped_but_a_row_without_answers_is_refused() {
        let text = format!("{HEADER},saran\n,,,,,,,,,\n");
        assert!(read_responses(&skm(), text.as_bytes()).unwrap().is_empty());
        let text = format!("{HEADER},saran\n,,,,,,,,,ramah\n");
        let e = read_responses(&skm(), text.as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), "line 2: no item is answered");
    }
}
