//! Fuzzing of the upload readers (`kepuasan::spreadsheet`) with proptest: arbitrary bytes as a
//! CSV file; arbitrary zip archives of workbook parts whose XML is made of arbitrary cell
//! references, types, values and declared counts; real workbooks with arbitrary bytes changed.
//! Whatever comes in, the reader never panics, answers rows or a 413/422 naming `file`, and
//! allocates at most 64 MiB above where it started (a counting allocator measures the peak).
//! The number of cases is fixed, so the run is bounded; CI runs it with the rest of the suite.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use kepuasan::spreadsheet::{LIMITS, read};
use proptest::prelude::*;

/// Counts the bytes allocated now and the most allocated at once.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the layout is passed on unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for alloc and dealloc; the system allocator moves or grows the block.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = NOW.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                NOW.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measured read at a time: the counters are global.
static SERIAL: Mutex<()> = Mutex::new(());

/// The most a read may allocate above where it started.
const BUDGET: usize = 64 * 1024 * 1024;

const WANTED: &[&str] = &[
    "unit", "date", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "saran",
];

/// Reads `bytes` and checks the outcome and the allocation peak.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let outcome = read(bytes, WANTED, &LIMITS);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    match &outcome {
        Ok(table) => prop_assert!(table.rows.len() <= LIMITS.rows),
        Err(e) => {
            prop_assert!(
                matches!(e.status().as_u16(), 413 | 422),
                "status {}: {}",
                e.status(),
                e.message()
            );
            prop_assert!(e.fields().is_some_and(|f| f.contains_key("file")));
        }
    }
    drop(outcome);
    prop_assert!(peak < BUDGET, "allocated {} MiB at once", peak >> 20);
    Ok(())
}

fn zip(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in parts {
        out.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

const WORKBOOK: &str = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

/// A cell reference: mostly plausible, sometimes far away or malformed.
fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[A-L]", 1u32..40).prop_map(|(c, r)| format!("{c}{r}")),
        ("[A-Z]{1,3}", 1u64..2_000_000).prop_map(|(c, r)| format!("{c}{r}")),
        "[A-Za-z0-9]{0,8}",
    ]
}

fn cell() -> impl Strategy<Value = String> {
    (
        reference(),
        prop::sample::select(vec!["", "s", "str", "inlineStr", "b", "e", "n", "d", "x"]),
        0u8..30,
        prop_oneof!["[0-9]{1,6}", "[ -~]{0,20}", "-?[0-9]{1,3}\\.[0-9]{1,4}"],
    )
        .prop_map(|(r, t, s, v)| {
            let v = v.replace('&', "&amp;").replace('<', "&lt;");
            if t == "inlineStr" {
                format!(r#"<c r="{r}" t="{t}"><is><t>{v}</t></is></c>"#)
            } else {
                format!(r#"<c r="{r}" t="{t}" s="{s}"><v>{v}</v></c>"#)
            }
        })
}

fn sheet() -> impl Strategy<Value = String> {
    prop::collection::vec((0u64..60, prop::collection::vec(cell(), 0..12)), 0..30).prop_map(
        |rows| {
            let body: String = rows
                .iter()
                .map(|(r, cells)| format!(r#"<row r="{r}">{}</row>"#, cells.concat()))
                .collect();
            format!(r#"<worksheet><sheetData>{body}</sheetData></worksheet>"#)
        },
    )
}

fn shared_strings() -> impl Strategy<Value = String> {
    (any::<u64>(), prop::collection::vec("[ -~]{0,12}", 0..40)).prop_map(|(declared, strings)| {
        let items: String = strings
            .iter()
            .map(|s| {
                format!(
                    "<si><t>{}</t></si>",
                    s.replace('&', "&amp;").replace('<', "&lt;")
                )
            })
            .collect();
        format!(
            r#"<sst count="{declared}" uniqueCount="{}">{items}</sst>"#,
            declared % 1_000_000
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_as_csv(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        check(&bytes)?;
    }

    #[test]
    fn csv_shaped_text(rows in prop::collection::vec(prop::collection::vec("[ -~]{0,8}", 0..15), 0..60),
                       semicolon in any::<bool>(), bom in any::<bool>()) {
        let sep = if semicolon { ";" } else { "," };
        let mut text = if bom { "\u{feff}".to_owned() } else { String::new() };
        text.push_str(&WANTED.join(sep));
        for row in rows {
            text.push('\n');
            text.push_str(&row.join(sep));
        }
        check(text.as_bytes())?;
    }

    #[test]
    fn workbooks_of_arbitrary_parts(sheet in sheet(), strings in shared_strings(),
                                    relations in any::<bool>(), junk in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut parts = vec![
            ("xl/workbook.xml", WORKBOOK.as_bytes().to_vec()),
            ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
            ("xl/sharedStrings.xml", strings.into_bytes()),
            ("xl/styles.xml", junk),
        ];
        if relations {
            parts.push(("xl/_rels/workbook.xml.rels", RELS.as_bytes().to_vec()));
        }
        check(&zip(&parts))?;
    }

    #[test]
    fn real_workbooks_with_bytes_changed(changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        for (c, h) in WANTED.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
            ws.write_number(1, c as u16, 4.0).unwrap();
        }
        let mut bytes = book.save_to_buffer().unwrap();
        for (at, value) in changes {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        check(&bytes)?;
    }
}

#[test]
fn a_part_that_unpacks_past_its_limit_is_refused_within_the_budget() {
    let padding = " ".repeat(40 << 20);
    let sheet = format!("<worksheet><sheetData>{padding}</sheetData></worksheet>");
    let bytes = zip(&[
        ("xl/workbook.xml", WORKBOOK.as_bytes().to_vec()),
        ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
    ]);
    drop(padding);
    check(&bytes).unwrap();
    let e = read(&bytes, WANTED, &LIMITS).unwrap_err();
    assert_eq!(e.status().as_u16(), 413, "{}", e.message());
}
