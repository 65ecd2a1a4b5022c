//! The respondent pages in a real headless Chromium: runs `tests/browser/pages.test.mjs`
//! (node's test runner with playwright-core and axe-core) against the real binary.

use std::path::Path;
use std::process::Command;

use crate::common::skip;

#[test]
fn kiosk_and_phone_pages_work_in_headless_chromium() {
    if crate::common::quick_run_skips("this fault, process or browser test") {
        return;
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !Path::new(&chromium).exists() {
        return skip(&format!(
            "no Chromium at {chromium}; `scripts/test` installs Debian's chromium"
        ));
    }
    if !dir.join("node_modules/playwright-core").exists()
        || !dir.join("node_modules/axe-core").exists()
    {
        return skip("tests/browser/node_modules is missing; `scripts/test` runs npm ci there");
    }
    let output = match Command::new("node")
        // Each page test has three minutes (pages.test.mjs); the whole file twenty, so a hang
        // outside a test (a browser that will not close) fails the run too.
        .args([
            "--test",
            "--test-reporter=spec",
            "--test-timeout=1200000",
            "pages.test.mjs",
        ])
        .current_dir(&dir)
        .env("KEPUASAN_BIN", env!("CARGO_BIN_EXE_kepuasan"))
        .env("CHROMIUM", &chromium)
        .env_remove("KEPUASAN_SCREENSHOTS")
        .output()
    {
        Ok(output) => output,
        Err(e) => return skip(&format!("cannot run node: {e}")),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{text}");
    assert!(output.status.success(), "browser tests failed:\n{text}");
    assert!(
        text.contains("pass 24") && text.contains("fail 0"),
        "all twenty-four browser tests ran:\n{text}"
    );
}
