//! Bounded reading of uploaded tables: a CSV file, or the first sheet of an XLSX workbook,
//! into rows of the columns the caller asks for.
//!
//! An upload is hostile until read. Every limit is checked while reading, never after: rows,
//! columns, the length of a cell, the unpacked size of each part of a workbook and the number
//! of its shared strings. Nothing is allocated from a size the file declares (`uniqueCount`,
//! `<dimension>`, a cell reference far away); a sheet is streamed from its zip archive one
//! XML event at a time, and only the wanted columns are kept. XLSX is read here with `zip` and
//! `quick-xml` rather than calamine, because calamine allocates from declared sizes before any
//! check can run (a 2 KB file asked it for 24 PB and aborted the process).

use std::collections::HashMap;
use std::io::{BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use crate::error::AppError;

/// What one upload may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Data rows (the header and blank rows not counted).
    pub rows: usize,
    /// Columns of the header, and the last column a value may sit in.
    pub columns: usize,
    /// Bytes of one cell's text.
    pub cell_bytes: usize,
    /// Unpacked bytes of one part (file) inside an XLSX archive.
    pub part_bytes: u64,
    /// Shared strings of a workbook.
    pub shared_strings: usize,
}

/// The limits of every import: 20,000 questionnaires of at most 100 columns.
pub const LIMITS: Limits = Limits {
    rows: 20_000,
    columns: 100,
    cell_bytes: 16 * 1024,
    part_bytes: 32 * 1024 * 1024,
    shared_strings: 500_000,
};

/// A file's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// CSV, comma or semicolon delimited, UTF-8 with or without a byte-order mark.
    Csv,
    /// An Excel workbook; its first sheet is read.
    Xlsx,
}

impl FileKind {
    /// The kind of a file from its first bytes (an XLSX file is a ZIP archive).
    pub fn sniff(bytes: &[u8]) -> FileKind {
        if bytes.starts_with(b"PK\x03\x04") {
            FileKind::Xlsx
        } else {
            FileKind::Csv
        }
    }
}

/// A non-blank data row: its line (the spreadsheet's row number; the header is line 1 of a
/// CSV) and the wanted columns' cells, trimmed, in the order the columns were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Line of the file.
    pub line: u64,
    /// One cell per wanted column; empty where the file has no such column or no value.
    pub cells: Vec<String>,
    /// How many fields the line has, when fewer than the header (a CSV line cut short: a
    /// questionnaire typed in part). `None` for a full line, and for every workbook row, whose
    /// empty cells are not stored.
    pub short: Option<usize>,
}

/// The rows of a file, keeping the columns whose lower-cased header is in `wanted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    wanted: Vec<String>,
    /// For each wanted column, its position in the file.
    positions: Vec<Option<usize>>,
    /// The header's number of columns.
    pub width: usize,
    /// The non-blank data rows, in file order.
    pub rows: Vec<Row>,
}

impl Table {
    /// The first of the columns `names` that a line cut short does not reach (a CSV line
    /// with fewer fields than the header): the columns it lacks, not values left blank.
    pub fn cut_before<'a>(&self, row: &Row, names: &[&'a str]) -> Option<&'a str> {
        let fields = row.short?;
        names.iter().copied().find(|name| {
            self.wanted
                .iter()
                .position(|w| w == name)
                .and_then(|i| self.positions[i])
                .is_some_and(|at| at >= fields)
        })
    }

    /// A row's cells with the (lower-case) names of their columns.
    pub fn named<'a>(&'a self, row: &'a Row) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.wanted
            .iter()
            .map(String::as_str)
            .zip(row.cells.iter().map(String::as_str))
    }

    /// A row's cell under the first of `names` that the file has a value for.
    pub fn cell<'a>(&self, row: &'a Row, names: &[&str]) -> Option<&'a str> {
        names
            .iter()
            .filter_map(|n| self.wanted.iter().position(|w| w == n))
            .map(|i| row.cells[i].as_str())
            .find(|v| !v.is_empty())
    }
}

/// Reads a CSV or XLSX file (told apart by its first bytes) within `limits`, keeping the
/// columns named in `wanted` (lower case). A malformed file is a 422 naming `file`; a file over
/// a limit is a 413 naming the limit.
pub fn read(bytes: &[u8], wanted: &[&str], limits: &Limits) -> Result<Table, AppError> {
    let mut builder = Builder {
        wanted: wanted.iter().map(|w| w.to_lowercase()).collect(),
        positions: Vec::new(),
        width: 0,
        rows: Vec::new(),
        limits: *limits,
    };
    match FileKind::sniff(bytes) {
        FileKind::Csv => read_csv(bytes, &mut builder)?,
        FileKind::Xlsx => read_xlsx(bytes, &mut builder)?,
    }
    if builder.positions.is_empty() {
        return Err(unreadable("the file has no header line"));
    }
    Ok(Table {
        wanted: builder.wanted,
        positions: builder.positions,
        width: builder.width,
        rows: builder.rows,
    })
}

fn unreadable(problem: impl Into<String>) -> AppError {
    AppError::field("file", problem)
}

fn too_large(problem: impl Into<String>) -> AppError {
    AppError::too_large("file", problem)
}

/// Collects rows as they are read, checking the limits on the way.
struct Builder {
    wanted: Vec<String>,
    /// For each wanted column, its position in the file (None: the file lacks it). Empty until
    /// the header is read.
    positions: Vec<Option<usize>>,
    /// The header's number of columns.
    width: usize,
    rows: Vec<Row>,
    limits: Limits,
}

impl Builder {
    fn header(&mut self, cells: &[String]) -> Result<(), AppError> {
        if cells.len() > self.limits.columns {
            return Err(too_large(format!(
                "the header has {} columns; an import reads at most {}",
                cells.len(),
                self.limits.columns
            )));
        }
        let names: Vec<String> = cells.iter().map(|c| c.trim().to_lowercase()).collect();
        self.width = names.len();
        self.positions = self
            .wanted
            .iter()
            .map(|w| names.iter().position(|n| n == w))
            .collect();
        Ok(())
    }

    fn check_cell(&self, line: u64, column: usize, text: &str) -> Result<(), AppError> {
        if column >= self.limits.columns {
            return Err(too_large(format!(
                "line {line} has a value in column {}; an import reads at most {} columns",
                column + 1,
                self.limits.columns
            )));
        }
        if text.len() > self.limits.cell_bytes {
            return Err(too_large(format!(
                "line {line}, column {}: a cell holds at most {} bytes",
                column + 1,
                self.limits.cell_bytes
            )));
        }
        Ok(())
    }

    /// A data row given as (column, text) pairs: kept if any cell has a value. `fields`: how many
    /// fields the line has, where the file says (CSV).
    fn row(
        &mut self,
        line: u64,
        cells: &mut HashMap<usize, String>,
        fields: Option<usize>,
    ) -> Result<(), AppError> {
        if cells.values().all(|v| v.trim().is_empty()) {
            return Ok(());
        }
        if self.rows.len() == self.limits.rows {
            return Err(too_large(format!(
                "more than {} questionnaire rows; split the file (line {line} is past the limit)",
                self.limits.rows
            )));
        }
        let cells = self
            .positions
            .iter()
            .map(|p| {
                p.and_then(|p| cells.remove(&p))
                    .map(|v| v.trim().to_owned())
                    .unwrap_or_default()
            })
            .collect();
        let short = fields.filter(|n| *n < self.width);
        self.rows.push(Row { line, cells, short });
        Ok(())
    }
}

fn read_csv(bytes: &[u8], builder: &mut Builder) -> Result<(), AppError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| unreadable(format!("the file is not UTF-8 text ({e})")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(crate::csv_input::detect_delimiter(text))
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut record = ::csv::StringRecord::new();
    let mut header_read = false;
    let mut cells = HashMap::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(unreadable(format!("unreadable CSV: {e}"))),
        }
        let line = record.position().map_or(0, |p| p.line());
        if !header_read {
            let header: Vec<String> = record.iter().map(str::to_owned).collect();
            builder.header(&header)?;
            header_read = true;
            continue;
        }
        cells.clear();
        for (column, text) in record.iter().enumerate() {
            if text.trim().is_empty() {
                continue;
            }
            builder.check_cell(line, column, text)?;
            cells.insert(column, text.to_owned());
        }
        builder.row(line, &mut cells, Some(record.len()))?;
    }
}

/// One part of the archive, unpacked to at most the part limit whatever its header says.
fn part<'a>(
    archive: &'a mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Option<impl Read + 'a>, AppError> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(unreadable(format!(
                "cannot open `{name}` in the workbook: {e}"
            )));
        }
    };
    if file.size() > limit {
        return Err(too_large(format!(
            "`{name}` unpacks to {} bytes; an import reads at most {limit}",
            file.size()
        )));
    }
    Ok(Some(Limited {
        inner: file.take(limit + 1),
        name: name.to_owned(),
        limit,
        read: 0,
    }))
}

/// A reader that fails, rather than stops, past its limit: a part whose header understates its
/// size is refused, never silently cut.
struct Limited<R> {
    inner: R,
    name: String,
    limit: u64,
    read: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::other(format!(
                "`{}` unpacks to more than {} bytes, the most an import reads",
                self.name, self.limit
            )));
        }
        Ok(n)
    }
}

/// An XML reader over a part, with the text of a failure.
type Xml<R> = quick_xml::Reader<BufReader<R>>;

fn xml_reader<R: Read>(reader: R) -> Xml<R> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(reader));
    xml.config_mut().trim_text(false);
    xml
}

fn next_event<'b, R: Read>(
    xml: &mut Xml<R>,
    buf: &'b mut Vec<u8>,
    part: &str,
) -> Result<Event<'b>, AppError> {
    buf.clear();
    xml.read_event_into(buf).map_err(|e| {
        if e.to_string().contains("the most an import reads") {
            too_large(e.to_string())
        } else {
            unreadable(format!("`{part}` is not readable XML: {e}"))
        }
    })
}

fn attribute(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.0 == name || a.key.0.rsplit(':').next() == Some(name))
        .and_then(|a| {
            quick_xml::escape::unescape(&a.value)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Appends a text or entity event's characters to `out`, refusing text past `limit` bytes.
fn push_text(event: &Event, out: &mut String, limit: usize) -> Result<(), AppError> {
    match event {
        Event::Text(t) => out.push_str(&t.xml10_content()),
        Event::CData(t) => out.push_str(&t.xml10_content()),
        Event::GeneralRef(r) => {
            let entity = format!("&{};", &**r);
            let text = quick_xml::escape::unescape(&entity)
                .map_err(|e| unreadable(format!("a bad character reference {entity}: {e}")))?;
            out.push_str(&text);
        }
        _ => {}
    }
    if out.len() > limit {
        return Err(too_large(format!("a text holds at most {limit} bytes")));
    }
    Ok(())
}

/// The parts of a workbook that the first sheet's cells need.
struct Workbook {
    sheet: String,
    shared_strings: Option<String>,
    styles: Option<String>,
    date1904: bool,
}

/// Part names from `xl/workbook.xml` and its relationships: the first sheet, the shared strings
/// and the styles.
fn workbook(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    limits: &Limits,
) -> Result<Workbook, AppError> {
    const BOOK: &str = "xl/workbook.xml";
    const RELS: &str = "xl/_rels/workbook.xml.rels";
    let mut first_sheet = None;
    let mut date1904 = false;
    let mut buf = Vec::new();
    {
        let reader = part(archive, BOOK, limits.part_bytes)?
            .ok_or_else(|| unreadable("not an XLSX workbook (no xl/workbook.xml)"))?;
        let mut xml = xml_reader(reader);
        loop {
            match next_event(&mut xml, &mut buf, BOOK)? {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                    "workbookPr" => {
                        date1904 =
                            matches!(attribute(&e, "date1904").as_deref(), Some("1" | "true"));
                    }
                    "sheet" if first_sheet.is_none() => first_sheet = attribute(&e, "id"),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let mut book = Workbook {
        sheet: "xl/worksheets/sheet1.xml".into(),
        shared_strings: None,
        styles: None,
        date1904,
    };
    let Some(reader) = part(archive, RELS, limits.part_bytes)? else {
        return Ok(book);
    };
    let mut xml = xml_reader(reader);
    loop {
        match next_event(&mut xml, &mut buf, RELS)? {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let (Some(target), Some(kind)) = (attribute(&e, "Target"), attribute(&e, "Type"))
                else {
                    continue;
                };
                let path = match target.strip_prefix('/') {
                    Some(absolute) => absolute.to_owned(),
                    None => format!("xl/{target}"),
                };
                if kind.ends_with("/worksheet") && attribute(&e, "Id") == first_sheet {
                    book.sheet = path;
                } else if kind.ends_with("/sharedStrings") {
                    book.shared_strings = Some(path);
                } else if kind.ends_with("/styles") {
                    book.styles = Some(path);
                }
            }
            _ => {}
        }
    }
    Ok(book)
}

/// The shared strings, packed in one text with their end offsets.
struct SharedStrings {
    text: String,
    ends: Vec<usize>,
}

impl SharedStrings {
    /// Adds a string, refusing more than `limit` of them.
    fn push(&mut self, text: &str, limit: usize) -> Result<(), AppError> {
        if self.ends.len() == limit {
            return Err(too_large(format!(
                "the workbook has more than {limit} shared strings"
            )));
        }
        self.text.push_str(text);
        self.ends.push(self.text.len());
        Ok(())
    }

    fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.text[start..end])
    }
}

fn shared_strings(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
) -> Result<SharedStrings, AppError> {
    let mut strings = SharedStrings {
        text: String::new(),
        ends: Vec::new(),
    };
    let Some(reader) = part(archive, name, limits.part_bytes)? else {
        return Ok(strings);
    };
    let mut xml = xml_reader(reader);
    let mut buf = Vec::new();
    // Inside <t> of an <si>, outside its phonetic runs (<rPh>).
    let (mut in_t, mut in_phonetic) = (false, false);
    let mut current = String::new();
    loop {
        let event = next_event(&mut xml, &mut buf, name)?;
        match &event {
            Event::Eof => return Ok(strings),
            Event::Start(e) => match e.local_name().as_ref() {
                // The declared count is checked, never allocated from.
                "sst" => {
                    let declared = attribute(e, "uniqueCount").and_then(|n| n.parse::<u64>().ok());
                    if let Some(n) = declared.filter(|n| *n > limits.shared_strings as u64) {
                        return Err(too_large(format!(
                            "the workbook declares {n} shared strings; an import reads at most {}",
                            limits.shared_strings
                        )));
                    }
                }
                "si" => current.clear(),
                "t" => in_t = true,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "si" => strings.push(&current, limits.shared_strings)?,
                "t" => in_t = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == "si" => {
                strings.push("", limits.shared_strings)?;
            }
            _ if in_t && !in_phonetic => push_text(&event, &mut current, limits.cell_bytes)?,
            _ => {}
        }
    }
}

/// Which cell styles show a date: numbers in those cells are Excel date serials.
fn date_styles(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
) -> Result<Vec<bool>, AppError> {
    let Some(reader) = part(archive, name, limits.part_bytes)? else {
        return Ok(Vec::new());
    };
    let mut xml = xml_reader(reader);
    let mut buf = Vec::new();
    let mut custom: HashMap<u32, bool> = HashMap::new();
    let mut styles = Vec::new();
    let mut in_cell_xfs = false;
    loop {
        match next_event(&mut xml, &mut buf, name)? {
            Event::Eof => return Ok(styles),
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    if let (Some(id), Some(code)) =
                        (attribute(&e, "numFmtId"), attribute(&e, "formatCode"))
                        && let Ok(id) = id.parse()
                    {
                        custom.insert(id, is_date_format(&code));
                    }
                }
                "cellXfs" => in_cell_xfs = true,
                "xf" if in_cell_xfs => {
                    if styles.len() == limits.shared_strings {
                        return Err(too_large("the workbook has too many cell styles"));
                    }
                    let id: u32 = attribute(&e, "numFmtId")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let builtin_date = matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58);
                    styles.push(custom.get(&id).copied().unwrap_or(builtin_date));
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            _ => {}
        }
    }
}

/// Whether a number format shows a date: it has a day, month or year code outside quoted
/// text and brackets (`[Red]`, `[$-421]`).
fn is_date_format(code: &str) -> bool {
    let (mut quoted, mut bracket, mut escaped) = (false, false, false);
    for c in code.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' if !quoted && !bracket => return true,
            _ => {}
        }
    }
    false
}

/// A cell reference such as `B12` as (0-based column, 1-based row).
fn cell_reference(r: &str) -> Option<(usize, u64)> {
    let split = r.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = r.split_at(split);
    if letters.is_empty() || letters.len() > 3 || !letters.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let column = letters
        .bytes()
        .fold(0usize, |n, b| n * 26 + usize::from(b - b'A' + 1));
    Some((column - 1, digits.parse().ok()?))
}

/// An Excel date serial as a date (1900 or 1904 system).
fn serial_date(serial: f64, date1904: bool) -> Option<chrono::NaiveDate> {
    let base = if date1904 {
        chrono::NaiveDate::from_ymd_opt(1904, 1, 1)?
    } else {
        // Serials from 61 on count from 1899-12-30 (Excel's phantom 1900-02-29 in between).
        chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    if !(0.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    base.checked_add_days(chrono::Days::new(serial.floor() as u64))
}

/// A number as the text it shows: whole numbers without decimals.
fn number_text(raw: &str) -> String {
    match raw.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Ok(f) if f.is_finite() => f.to_string(),
        _ => raw.trim().to_owned(),
    }
}

fn read_xlsx(bytes: &[u8], builder: &mut Builder) -> Result<(), AppError> {
    let limits = builder.limits;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("not a readable XLSX workbook: {e}")))?;
    let book = workbook(&mut archive, &limits)?;
    let shared = match &book.shared_strings {
        Some(name) => shared_strings(&mut archive, name, &limits)?,
        None => shared_strings(&mut archive, "xl/sharedStrings.xml", &limits)?,
    };
    let dates = match &book.styles {
        Some(name) => date_styles(&mut archive, name, &limits)?,
        None => date_styles(&mut archive, "xl/styles.xml", &limits)?,
    };
    let reader = part(&mut archive, &book.sheet, limits.part_bytes)?
        .ok_or_else(|| unreadable("the workbook has no sheet"))?;
    let values = Values {
        shared: &shared,
        dates: &dates,
        date1904: book.date1904,
    };
    let mut xml = xml_reader(reader);
    let mut buf = Vec::new();
    let mut sheet = Sheet::default();
    let max_line = (limits.rows as u64).saturating_add(1);
    loop {
        let event = next_event(&mut xml, &mut buf, &book.sheet)?;
        match &event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "row" => sheet.start_row(e, builder)?,
                "c" => sheet.start_cell(e, matches!(event, Event::Start(_)))?,
                "v" | "t" if sheet.cell.is_some() => {
                    sheet.in_value = matches!(event, Event::Start(_));
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "v" | "t" => sheet.in_value = false,
                "c" => {
                    let Some(done) = sheet.cell.take() else {
                        continue;
                    };
                    let raw = done.value.trim();
                    if raw.is_empty() {
                        continue;
                    }
                    if sheet.row > max_line {
                        return Err(too_large(format!(
                            "the sheet has a value in row {}; an import reads at most \
                             {max_line} rows (a header and {} questionnaires)",
                            sheet.row, limits.rows
                        )));
                    }
                    let text = values.text(&done, raw, sheet.row)?;
                    builder.check_cell(sheet.row, done.column, &text)?;
                    sheet.cells.insert(done.column, text);
                }
                _ => {}
            },
            _ if sheet.in_value => {
                if let Some(c) = sheet.cell.as_mut() {
                    push_text(&event, &mut c.value, limits.cell_bytes)?;
                }
            }
            _ => {}
        }
    }
    sheet.finish_row(builder)
}

/// A cell of a sheet being read: where it is, its type and style, and its raw value.
struct SheetCell {
    column: usize,
    kind: String,
    style: usize,
    value: String,
}

/// What reading a sheet keeps between XML events: the row, the cell being read, and the row's
/// cells so far.
#[derive(Default)]
struct Sheet {
    cell: Option<SheetCell>,
    in_value: bool,
    row: u64,
    next_column: usize,
    cells: HashMap<usize, String>,
    header_read: bool,
}

impl Sheet {
    /// Hands the row read so far to the builder: the first as the header.
    fn finish_row(&mut self, builder: &mut Builder) -> Result<(), AppError> {
        if self.cells.is_empty() {
            return Ok(());
        }
        if self.header_read {
            builder.row(self.row, &mut self.cells, None)?;
        } else {
            let width = self.cells.keys().max().map_or(0, |m| m + 1);
            let mut header = vec![String::new(); width];
            for (c, v) in self.cells.drain() {
                header[c] = v;
            }
            builder.header(&header)?;
            self.header_read = true;
        }
        self.cells.clear();
        Ok(())
    }

    /// A `<row>`: the previous row is done; this one is numbered by its `r` or follows it.
    fn start_row(&mut self, e: &BytesStart, builder: &mut Builder) -> Result<(), AppError> {
        self.finish_row(builder)?;
        self.row = match attribute(e, "r") {
            Some(r) => r
                .parse()
                .map_err(|_| unreadable(format!("`{r}` is not a row number")))?,
            None => self.row + 1,
        };
        self.next_column = 0;
        Ok(())
    }

    /// A `<c>`: its column from its reference (which must lie in the row) or after the last.
    fn start_cell(&mut self, e: &BytesStart, has_value: bool) -> Result<(), AppError> {
        let column = match attribute(e, "r") {
            Some(r) => {
                let (column, row) = cell_reference(&r)
                    .ok_or_else(|| unreadable(format!("`{r}` is not a cell reference")))?;
                if row != self.row {
                    return Err(unreadable(format!(
                        "cell {r} lies outside its row {}",
                        self.row
                    )));
                }
                column
            }
            None => self.next_column,
        };
        self.next_column = column + 1;
        let started = SheetCell {
            column,
            kind: attribute(e, "t").unwrap_or_default(),
            style: attribute(e, "s").and_then(|s| s.parse().ok()).unwrap_or(0),
            value: String::new(),
        };
        self.cell = has_value.then_some(started);
        Ok(())
    }
}

/// What turns a cell's raw value into the text it shows.
struct Values<'a> {
    shared: &'a SharedStrings,
    dates: &'a [bool],
    date1904: bool,
}

impl Values<'_> {
    /// A shared string, a boolean, an error, text, a date in a date style, or a number.
    fn text(&self, cell: &SheetCell, raw: &str, row: u64) -> Result<String, AppError> {
        Ok(match cell.kind.as_str() {
            "s" => raw
                .parse::<usize>()
                .ok()
                .and_then(|i| self.shared.get(i))
                .ok_or_else(|| unreadable(format!("row {row}: no shared string {raw}")))?
                .to_owned(),
            "b" => (if raw == "1" { "true" } else { "false" }).to_owned(),
            "e" => format!("#{raw}"),
            "str" | "inlineStr" | "d" => raw.to_owned(),
            _ if self.dates.get(cell.style).copied().unwrap_or(false) => raw
                .parse::<f64>()
                .ok()
                .and_then(|f| serial_date(f, self.date1904))
                .map_or_else(|| number_text(raw), |d| d.to_string()),
            _ => number_text(raw),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WANTED: &[&str] = &["unit", "date", "u1", "saran"];

    fn xlsx(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        build(book.add_worksheet());
        book.save_to_buffer().unwrap()
    }

    #[test]
    fn csv_keeps_the_wanted_columns_and_skips_blank_rows() {
        let table = read(
            "\u{feff}Unit;extra;U1;date\nunit-a;x;4;2025-07-14\n;;;\nunit-b;;3;\n".as_bytes(),
            WANTED,
            &LIMITS,
        )
        .unwrap();
        let lines: Vec<u64> = table.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4]);
        let row = &table.rows[0];
        assert_eq!(table.cell(row, &["unit"]), Some("unit-a"));
        assert_eq!(table.cell(row, &["u1"]), Some("4"));
        assert_eq!(table.cell(row, &["saran", "date"]), Some("2025-07-14"));
        assert_eq!(table.cell(&table.rows[1], &["date"]), None);
    }

    #[test]
    fn xlsx_reads_strings_numbers_dates_and_row_numbers() {
        let bytes = xlsx(|sheet| {
            let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
            for (c, h) in ["unit", "U1", "date", "saran"].iter().enumerate() {
                sheet.write_string(0, c as u16, *h).unwrap();
            }
            sheet.write_string(1, 0, "unit-a").unwrap();
            sheet.write_number(1, 1, 4.0).unwrap();
            let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 7, 14).unwrap();
            sheet.write_datetime_with_format(1, 2, &day, &date).unwrap();
            sheet.write_string(1, 3, "Antre <lama> & panas").unwrap();
            sheet.write_string(4, 0, "unit-b").unwrap();
        });
        let table = read(&bytes, WANTED, &LIMITS).unwrap();
        assert_eq!(table.rows.len(), 2);
        let row = &table.rows[0];
        assert_eq!(row.line, 2);
        assert_eq!(table.cell(row, &["u1"]), Some("4"));
        assert_eq!(table.cell(row, &["date"]), Some("2025-07-14"));
        assert_eq!(table.cell(row, &["saran"]), Some("Antre <lama> & panas"));
        assert_eq!(table.rows[1].line, 5);
    }

    #[test]
    fn limits_are_checked_while_reading() {
        let small = Limits {
            rows: 2,
            columns: 4,
            ..LIMITS
        };
        let three_rows = "unit,U1\na,1\nb,2\nc,3\n";
        let e = read(three_rows.as_bytes(), WANTED, &small).unwrap_err();
        assert_eq!(e.status().as_u16(), 413, "{e}");
        let wide = "a,b,c,d,e\n";
        let e = read(wide.as_bytes(), WANTED, &small).unwrap_err();
        assert_eq!(e.status().as_u16(), 413, "{e}");
        let far = xlsx(|sheet| {
            sheet.write_string(0, 0, "unit").unwrap();
            sheet.write_string(0, 9, "far").unwrap();
        });
        let e = read(&far, WANTED, &small).unwrap_err();
        assert_eq!(e.status().as_u16(), 413, "{e}");
        let deep = xlsx(|sheet| {
            sheet.write_string(0, 0, "unit").unwrap();
            sheet.write_string(3, 0, "deep").unwrap();
        });
        let e = read(&deep, WANTED, &small).unwrap_err();
        assert_eq!(e.status().as_u16(), 413, "{e}");
    }

    #[test]
    fn date_formats_are_told_from_number_formats() {
        for code in [
            "dd/mm/yyyy",
            "d-mmm-yy",
            "[$-421]dd mmmm yyyy",
            "yyyy-mm-dd",
        ] {
            assert!(is_date_format(code), "{code}");
        }
        for code in ["0", "0.00", "#,##0", "\"days\" 0", "[Red]0.0"] {
            assert!(!is_date_format(code), "{code}");
        }
    }

    #[test]
    fn cell_references_parse() {
        assert_eq!(cell_reference("A1"), Some((0, 1)));
        assert_eq!(cell_reference("AB12"), Some((27, 12)));
        assert_eq!(cell_reference("XFD1048576"), Some((16383, 1_048_576)));
        assert_eq!(cell_reference("a1"), None);
        assert_eq!(cell_reference("1A"), None);
    }
}
