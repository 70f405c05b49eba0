//! Monitoring golden cases (fixtures/monitor/<case>/): a roster, two
//! snapshots of extracts and a sequence of runs, with hand-written expected
//! alerts derived from rules §7 (`runs.json`) and the blessed outputs
//! (`expected/<step>.jsonl`). See fixtures/monitor/README.md.
//!
//! For each `run` step the output's `(household_id, alert, member)` triples
//! must be exactly the expected ones; `records` and `detail`, where given,
//! must match; a `same_as` step must be byte-identical to the step it
//! names. `HEDUI_BLESS=1` rewrites `expected/` for the steps whose
//! expectations hold; `HEDUI_GOLDEN=<case>` runs only those cases.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::golden::{describe, read_json, sorted_entries, subset};
use crate::run::hedui;

fn monitor_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/monitor")
}

type Triple = (String, String, String);

fn triple(v: &Value) -> Triple {
    let s = |k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    (s("household_id"), s("alert"), s("member"))
}

fn record_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .get("records")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| match r {
                    Value::String(s) => s.clone(),
                    r => r
                        .get("record_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The failures of one run step's output against its expectations.
fn check_run(expect: &[Value], lines: &[Value]) -> Vec<String> {
    let mut errs = Vec::new();
    let mut got: BTreeMap<Triple, Vec<&Value>> = BTreeMap::new();
    for l in lines {
        got.entry(triple(l)).or_default().push(l);
    }
    let wanted: BTreeSet<Triple> = expect.iter().map(triple).collect();
    for t in got.keys().filter(|t| !wanted.contains(*t)) {
        errs.push(format!("unexpected alert {t:?}"));
    }
    for e in expect {
        let t = triple(e);
        let Some(cands) = got.get(&t) else {
            errs.push(format!("missing alert {t:?}"));
            continue;
        };
        // One alert of the triple must match the records and detail given.
        let mut best: Option<Vec<String>> = None;
        for c in cands {
            let mut errs_c = Vec::new();
            if e.get("records").is_some() && record_ids(e) != record_ids(c) {
                errs_c.push(format!(
                    "{t:?} records: expected {:?}, got {:?}",
                    record_ids(e),
                    record_ids(c)
                ));
            }
            if let Some(d) = e.get("detail") {
                subset(
                    d,
                    c.get("detail").unwrap_or(&Value::Null),
                    &format!("{t:?}.detail"),
                    &mut errs_c,
                );
            }
            if errs_c.is_empty() {
                best = None;
                break;
            }
            if best.as_ref().is_none_or(|b| errs_c.len() < b.len()) {
                best = Some(errs_c);
            }
        }
        errs.extend(best.unwrap_or_default());
    }
    errs
}

fn run_case(case: &Path, bless: bool) -> Vec<String> {
    let name = case
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut fails = Vec::new();
    let runs = match read_json(&case.join("runs.json")) {
        Ok(v) => v,
        Err(e) => return vec![format!("[{name}] runs.json: {e}")],
    };
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    let data_s = data.to_string_lossy().into_owned();
    let roster = case.join("roster").to_string_lossy().into_owned();
    let mut outputs: Vec<Option<String>> = Vec::new();
    let steps = runs
        .get("steps")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (k, step) in steps.iter().enumerate() {
        let mut fail = |msg: String| fails.push(format!("[{name}] step {k}: {msg}"));
        if let Some(snap) = step.get("ingest").and_then(Value::as_str) {
            let as_of = step
                .get("as_of")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let files: Vec<String> = sorted_entries(&case.join(snap))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "csv"))
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let mut args = vec!["ingest", "--data", &data_s, "--as-of", as_of];
            args.extend(files.iter().map(String::as_str));
            let out = hedui(&args);
            if !out.status.success() {
                fail(format!("ingest failed: {}", describe(&out)));
                return fails;
            }
            outputs.push(None);
            continue;
        }
        let Some(date) = step.get("run").and_then(Value::as_str) else {
            fail("neither ingest nor run".into());
            outputs.push(None);
            continue;
        };
        let file = tmp.path().join(format!("step{k}.jsonl"));
        let file_s = file.to_string_lossy().into_owned();
        let out = hedui(&[
            "monitor",
            "--data",
            &data_s,
            "--roster",
            &roster,
            "--run-date",
            date,
            "--out",
            &file_s,
        ]);
        if !out.status.success() {
            fail(format!("monitor failed: {}", describe(&out)));
            return fails;
        }
        let text = fs::read_to_string(&file).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if lines.len() != text.lines().count() {
            fail("a line of the output is not JSON".into());
        }
        // Sorted by household, alert, member (report.md).
        let keys: Vec<Triple> = lines.iter().map(triple).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        if keys != sorted {
            fail("the output is not sorted by household, alert, member".into());
        }
        let mut ok = true;
        if let Some(same) = step.get("same_as").and_then(Value::as_u64) {
            match outputs.get(same as usize) {
                Some(Some(prev)) if *prev == text => {}
                _ => {
                    ok = false;
                    fail(format!("not byte-identical to step {same}"));
                }
            }
        } else {
            let expect = step
                .get("expect")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for e in check_run(&expect, &lines) {
                ok = false;
                fail(e);
            }
        }
        let blessed = case.join("expected").join(format!("{k}.jsonl"));
        if bless && ok {
            fs::create_dir_all(case.join("expected")).expect("the expected folder");
            fs::write(&blessed, &text).expect("a blessed output");
        } else {
            match fs::read_to_string(&blessed) {
                Ok(b) if b == text => {}
                Ok(b) => {
                    let first = b
                        .lines()
                        .zip(text.lines())
                        .position(|(x, y)| x != y)
                        .unwrap_or(b.lines().count().min(text.lines().count()));
                    fail(format!(
                        "differs from expected/{k}.jsonl from line {}",
                        first + 1
                    ));
                }
                Err(e) => fail(format!("expected/{k}.jsonl: {e}")),
            }
        }
        outputs.push(Some(text));
    }
    fails
}

#[test]
fn monitor_golden_cases() {
    let bless = std::env::var("HEDUI_BLESS").is_ok_and(|v| v == "1");
    let only: Option<Vec<String>> = std::env::var("HEDUI_GOLDEN")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let cases: Vec<PathBuf> = sorted_entries(&monitor_root())
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    assert!(cases.len() >= 2, "the monitoring golden cases are missing");
    let mut failures = Vec::new();
    for case in &cases {
        let n = case.file_name().map(|n| n.to_string_lossy().into_owned());
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|x| Some(x) == n.as_ref()))
        {
            continue;
        }
        failures.extend(run_case(case, bless));
    }
    assert!(
        failures.is_empty(),
        "{} monitoring golden failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
