//! The canonical JSON of one report and its printable page, compared byte
//! for byte with `tests/golden/dibao.json` and `tests/golden/dibao.html`. Regenerate after a deliberate change with
//! `HEDUI_UPDATE_GOLDEN=1 cargo test -p hedui-report golden` and review
//! the diff.

use std::path::PathBuf;

use hedui_report::{canonical_json, diff, html, verify_hash};
use serde_json::Value;

use crate::common::{dibao_household, report_of};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

#[test]
fn dibao_report_matches_its_golden_file() {
    let json = canonical_json(&report_of(&dibao_household()));
    let path = golden("dibao.json");
    if std::env::var_os("HEDUI_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{json}\n")).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set HEDUI_UPDATE_GOLDEN=1)", path.display()));
    let expected = expected.trim_end_matches('\n');
    if expected != json {
        let a: Value = serde_json::from_str(expected).unwrap();
        let b: Value = serde_json::from_str(&json).unwrap();
        let d: Vec<String> = diff(&a, &b).iter().map(ToString::to_string).collect();
        panic!(
            "the report differs from {}:\n{}",
            path.display(),
            d.join("\n")
        );
    }
    assert!(verify_hash(expected).unwrap());
}

/// The printable page of the same report, byte for byte: an auditor
/// compares old pages with new ones, so a faster writer must not move a
/// byte. Regenerated with the JSON (`HEDUI_UPDATE_GOLDEN=1`).
#[test]
fn dibao_page_matches_its_golden_file() {
    let page = html(&report_of(&dibao_household()));
    let path = golden("dibao.html");
    if std::env::var_os("HEDUI_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &page).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set HEDUI_UPDATE_GOLDEN=1)", path.display()));
    if expected != page {
        let at = expected
            .bytes()
            .zip(page.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(page.len()));
        let from = (0..=at.saturating_sub(80))
            .rev()
            .find(|&i| page.is_char_boundary(i))
            .unwrap_or(0);
        panic!(
            "the page differs from {} at byte {at}: …{}",
            path.display(),
            page[from..].chars().take(160).collect::<String>()
        );
    }
}
