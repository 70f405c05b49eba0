//! Golden cases (fixtures/golden/<case>/): a small extract set and a
//! request batch per case, with hand-written assertions derived from
//! rules.md (`expect.json`) and the blessed reports (`expected/*.json`).
//!
//! For every case the test ingests `extracts/*.csv` as of the date in
//! `as_of` into a fresh data directory, runs `hedui verify` on
//! `requests/`, checks every assertion of `expect.json`, compares each
//! report byte for byte with `expected/<application_id>.json`, and replays
//! one report, expecting `identical <hash>`.
//!
//! `HEDUI_BLESS=1` rewrites `expected/<application_id>.json` from the
//! output — but only for applications whose `expect.json` assertions all
//! hold: an output that contradicts the hand-derived figures is never
//! blessed. `HEDUI_GOLDEN=<case>[,<case>...]` runs only those cases.
//!
//! `expect.json`:
//!
//! ```text
//! { "notes": "...", "replay": "<application_id>",
//!   "applications": { "<application_id>": {
//!       "what": "...",                      // prose, not checked
//!       "error": "<code>",                  // an error object with this code
//!       "flags": [ {"code", "member", "evidence"?: [record_id...], "detail"?: {...}} ],
//!       "members": { "<id_number>": { ..., "months": { "<YYYY-MM>": {...} } } },
//!       "single_person": { "<id_number>": benefit_fen },
//!       "policy_version": "YYYY-MM-DD",     // inputs.policy.version
//!       "<any other report key>": value     // compared as a subset
//! } } }
//! ```
//!
//! `flags` must list exactly the report's (code, member) pairs; `evidence`
//! and `detail`, where given, must match one flag of that code and member.
//! Any other value is compared as a subset: an object's listed keys must
//! be equal (recursively), an array must have the same length and each
//! element match, a scalar must be equal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::Value;

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden")
}

use crate::run::hedui;

pub(crate) fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(crate) fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))
}

pub(crate) fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        let head: String = s.chars().take(160).collect();
        format!("{head}…")
    } else {
        s
    }
}

/// The first path where `a` and `b` differ, with both values.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => first_difference(u, v, &p),
                    (Some(u), None) => Some(format!("{p}: expected {}, missing", short(u))),
                    (None, Some(v)) => Some(format!("{p}: not expected, got {}", short(v))),
                    (None, None) => None,
                }
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            let common = x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]")));
            common.or_else(|| {
                (x.len() != y.len())
                    .then(|| format!("{path}: expected {} elements, got {}", x.len(), y.len()))
            })
        }
        _ => (a != b).then(|| format!("{path}: expected {}, got {}", short(a), short(b))),
    }
}

/// Checks `expected` as a subset of `actual` (see the module docs).
pub(crate) fn subset(expected: &Value, actual: &Value, path: &str, errs: &mut Vec<String>) {
    match expected {
        Value::Object(e) => {
            let Some(a) = actual.as_object() else {
                errs.push(format!("{path}: expected an object, got {}", short(actual)));
                return;
            };
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => subset(ev, av, &p, errs),
                    None => errs.push(format!("{p}: missing (expected {})", short(ev))),
                }
            }
        }
        Value::Array(e) => {
            let Some(a) = actual.as_array() else {
                errs.push(format!("{path}: expected an array, got {}", short(actual)));
                return;
            };
            if e.len() != a.len() {
                errs.push(format!(
                    "{path}: expected {} elements {}, got {} {}",
                    e.len(),
                    short(expected),
                    a.len(),
                    short(actual)
                ));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset(ev, av, &format!("{path}[{i}]"), errs);
            }
        }
        _ => {
            if expected != actual {
                errs.push(format!(
                    "{path}: expected {}, got {}",
                    short(expected),
                    short(actual)
                ));
            }
        }
    }
}

fn record_ids(evidence: &Value) -> Vec<String> {
    let mut v: Vec<String> = evidence
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    r.get("record_id")
                        .and_then(Value::as_str)
                        .or_else(|| r.as_str())
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn code_member(f: &Value) -> (String, String) {
    let code = f
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    let member = match f.get("member") {
        Some(Value::String(m)) => m.clone(),
        _ => "null".to_owned(),
    };
    (code, member)
}

fn check_flags(expected: &Value, report: &Value, errs: &mut Vec<String>) {
    let empty = Vec::new();
    let actual = report
        .get("flags")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let want = expected.as_array().unwrap_or(&empty);
    let mut a: Vec<(String, String)> = actual.iter().map(code_member).collect();
    let mut w: Vec<(String, String)> = want.iter().map(code_member).collect();
    a.sort();
    w.sort();
    if a != w {
        errs.push(format!("flags: expected (code, member) {w:?}, got {a:?}"));
    }
    for (i, f) in want.iter().enumerate() {
        if f.get("evidence").is_none() && f.get("detail").is_none() {
            continue;
        }
        let key = code_member(f);
        let candidates: Vec<&Value> = actual
            .iter()
            .filter(|g| code_member(g) == key)
            .filter(|g| {
                f.get("evidence")
                    .is_none_or(|e| record_ids(e) == record_ids(&g["evidence"]))
            })
            .collect();
        let Some(first) = candidates.first() else {
            errs.push(format!(
                "flags[{i}]: no flag {key:?} with evidence {} (flags {key:?}: {})",
                f.get("evidence").map_or_else(String::new, short),
                short(&Value::Array(
                    actual
                        .iter()
                        .filter(|g| code_member(g) == key)
                        .cloned()
                        .collect()
                ))
            ));
            continue;
        };
        if let Some(d) = f.get("detail") {
            let mut sub = Vec::new();
            subset(d, &first["detail"], &format!("flags[{i}].detail"), &mut sub);
            errs.extend(sub);
        }
    }
}

fn check_members(expected: &Value, report: &Value, errs: &mut Vec<String>) {
    let Some(want) = expected.as_object() else {
        errs.push("members: expect.json must give an object keyed by id_number".to_owned());
        return;
    };
    let empty = Vec::new();
    let members = report
        .get("members")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for (id, w) in want {
        let path = format!("members[{id}]");
        let Some(m) = members.iter().find(|m| m["id_number"] == *id) else {
            errs.push(format!("{path}: no such member in the report"));
            continue;
        };
        let Some(fields) = w.as_object() else {
            errs.push(format!("{path}: expect.json must give an object"));
            continue;
        };
        for (k, ev) in fields {
            if k == "months" {
                let Some(months) = ev.as_object() else {
                    errs.push(format!("{path}.months: expect.json must give an object"));
                    continue;
                };
                let actual_months = m["months"].as_array().unwrap_or(&empty);
                for (month, mv) in months {
                    match actual_months.iter().find(|x| x["month"] == *month) {
                        Some(am) => subset(mv, am, &format!("{path}.months[{month}]"), errs),
                        None => errs.push(format!("{path}.months[{month}]: no such month")),
                    }
                }
            } else {
                match m.get(k) {
                    Some(av) => subset(ev, av, &format!("{path}.{k}"), errs),
                    None => errs.push(format!("{path}.{k}: missing")),
                }
            }
        }
    }
}

fn check_single_person(expected: &Value, report: &Value, errs: &mut Vec<String>) {
    let want: BTreeMap<String, Value> = expected
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let got: BTreeMap<String, Value> = report
        .get("single_person")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["id_number"].as_str().unwrap_or("?").to_owned(),
                        s["benefit_fen"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if want != got {
        errs.push(format!("single_person: expected {want:?}, got {got:?}"));
    }
}

/// Every assertion of one application's entry of expect.json.
fn check_application(expected: &Value, report: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let Some(fields) = expected.as_object() else {
        return vec!["expect.json: an application's entry must be an object".to_owned()];
    };
    if let Some(code) = fields.get("error") {
        let got = &report["error"]["code"];
        if got != code {
            errs.push(format!(
                "error.code: expected {}, got {} (report: {})",
                short(code),
                short(got),
                short(report)
            ));
        }
    } else if report.get("error").is_some() {
        return vec![format!(
            "expected a report, got an error object: {}",
            short(&report["error"])
        )];
    }
    for (k, ev) in fields {
        match k.as_str() {
            "what" | "notes" | "error" => {}
            "flags" => check_flags(ev, report, &mut errs),
            "members" => check_members(ev, report, &mut errs),
            "single_person" => check_single_person(ev, report, &mut errs),
            "policy_version" => subset(
                ev,
                &report["inputs"]["policy"]["version"],
                "inputs.policy.version",
                &mut errs,
            ),
            _ => match report.get(k) {
                Some(av) => subset(ev, av, k, &mut errs),
                None => errs.push(format!("{k}: missing from the report")),
            },
        }
    }
    errs
}

/// Runs one case; returns its failures, each naming the case.
fn run_case(case: &Path, bless: bool) -> Vec<String> {
    let name = case
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut fails = Vec::new();
    let mut fail = |file: &str, msg: String| fails.push(format!("[{name}] {file}: {msg}"));

    let expect = match read_json(&case.join("expect.json")) {
        Ok(v) => v,
        Err(e) => {
            fail("expect.json", e);
            return fails;
        }
    };
    let as_of = match fs::read_to_string(case.join("as_of")) {
        Ok(s) => s.trim().to_owned(),
        Err(e) => {
            fail("as_of", e.to_string());
            return fails;
        }
    };
    let extracts: Vec<String> = sorted_entries(&case.join("extracts"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if !extracts.iter().any(|p| p.ends_with("/hukou.csv")) {
        fail(
            "extracts/hukou.csv",
            "missing: every case needs the registry".to_owned(),
        );
        return fails;
    }

    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    let out_dir = tmp.path().join("out");
    let data_s = data.to_string_lossy().into_owned();
    let out_s = out_dir.to_string_lossy().into_owned();

    let mut args = vec!["ingest", "--data", &data_s, "--as-of", &as_of];
    args.extend(extracts.iter().map(String::as_str));
    let ingest = hedui(&args);
    if !ingest.status.success() {
        fail("extracts", format!("ingest failed: {}", describe(&ingest)));
        return fails;
    }
    // Golden extracts are clean: nothing may be quarantined.
    for line in String::from_utf8_lossy(&ingest.stdout).lines() {
        if line.contains("accepted") && !line.trim_end().ends_with("quarantined       0") {
            fail("extracts", format!("rows quarantined: {line}"));
        }
    }

    let requests = case.join("requests").to_string_lossy().into_owned();
    let verify = hedui(&[
        "verify",
        "--data",
        &data_s,
        "--requests",
        &requests,
        "--out",
        &out_s,
    ]);
    if !verify.status.success() {
        fail("requests", format!("verify failed: {}", describe(&verify)));
        return fails;
    }

    let Some(apps) = expect.get("applications").and_then(Value::as_object) else {
        fail("expect.json", "no \"applications\" object".to_owned());
        return fails;
    };
    let produced: Vec<String> = sorted_entries(&out_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| s != "summary")
        .collect();
    for id in &produced {
        if !apps.contains_key(id) {
            fail(
                "expect.json",
                format!("{id} has a report but no assertions"),
            );
        }
    }

    let expected_dir = case.join("expected");
    for (id, want) in apps {
        let report_path = out_dir.join(format!("{id}.json"));
        let bytes = match fs::read(&report_path) {
            Ok(b) => b,
            Err(e) => {
                fail("expect.json", format!("{id}: no report written ({e})"));
                continue;
            }
        };
        let report: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                fail(&format!("out/{id}.json"), format!("not JSON: {e}"));
                continue;
            }
        };
        let errs = check_application(want, &report);
        let asserted = errs.is_empty();
        for e in errs {
            fail("expect.json", format!("{id}: {e}"));
        }

        let blessed = expected_dir.join(format!("{id}.json"));
        if bless {
            if asserted {
                fs::create_dir_all(&expected_dir).expect("expected/ can be created");
                fs::write(&blessed, &bytes).expect("expected/<id>.json can be written");
            } else {
                fail(
                    &format!("expected/{id}.json"),
                    "not blessed: the report contradicts expect.json".to_owned(),
                );
            }
            continue;
        }
        match fs::read(&blessed) {
            Err(_) => fail(
                &format!("expected/{id}.json"),
                "missing (run with HEDUI_BLESS=1 once the assertions hold)".to_owned(),
            ),
            Ok(old) if old == bytes => {}
            Ok(old) => {
                let diff = serde_json::from_slice::<Value>(&old)
                    .ok()
                    .and_then(|o| first_difference(&o, &report, "$"))
                    .unwrap_or_else(|| "same JSON, different bytes".to_owned());
                fail(
                    &format!("expected/{id}.json"),
                    format!("the report differs; first difference at {diff}"),
                );
            }
        }
    }
    for stale in sorted_entries(&expected_dir) {
        let stem = stale
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !apps.contains_key(&stem) {
            fail(
                &format!("expected/{stem}.json"),
                "stale: no such application in expect.json".to_owned(),
            );
        }
    }

    // Replay one report of the case: identical, with its hash.
    let replay_id = expect
        .get("replay")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            produced
                .iter()
                .find(|id| {
                    read_json(&out_dir.join(format!("{id}.json")))
                        .is_ok_and(|v| v.get("error").is_none())
                })
                .cloned()
        });
    if let Some(id) = replay_id {
        let path = out_dir.join(format!("{id}.json"));
        match read_json(&path) {
            Ok(report) => {
                let hash = report["report_hash"].as_str().unwrap_or_default();
                let path_s = path.to_string_lossy().into_owned();
                let replay = hedui(&["replay", "--data", &data_s, &path_s]);
                let stdout = String::from_utf8_lossy(&replay.stdout);
                if !replay.status.success() || stdout.trim() != format!("identical {hash}") {
                    fail(
                        &format!("out/{id}.json"),
                        format!("replay is not identical: {}", describe(&replay)),
                    );
                }
            }
            Err(e) => fail("expect.json", format!("replay: {e}")),
        }
    }
    fails
}

#[test]
fn golden_cases() {
    let started = Instant::now();
    let bless = std::env::var("HEDUI_BLESS").is_ok_and(|v| v == "1");
    let only: Option<Vec<String>> = std::env::var("HEDUI_GOLDEN")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let cases: Vec<PathBuf> = sorted_entries(&golden_root())
        .into_iter()
        .filter(|p| p.is_dir())
        .filter(|p| {
            only.as_ref().is_none_or(|o| {
                p.file_name()
                    .is_some_and(|n| o.iter().any(|x| n.to_string_lossy() == *x))
            })
        })
        .collect();
    assert!(
        !cases.is_empty(),
        "no golden case under {}",
        golden_root().display()
    );

    // Two cases at a time: each is its own data directory.
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 2));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let f = run_case(case, bless);
                    failures.lock().expect("no poisoned lock").extend(f);
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("no poisoned lock");
    failures.sort();
    let mut msg = String::new();
    for f in &failures {
        let _ = writeln!(msg, "  {f}");
    }
    assert!(
        failures.is_empty(),
        "{} golden failure(s) in {} case(s), {:.1} s:\n{msg}",
        failures.len(),
        cases.len(),
        started.elapsed().as_secs_f64()
    );
}
