//! End-to-end tests of the `hedui` binary as a user runs it.

mod run {
    use std::process::{Command, Output};

    /// Runs the binary with `args`.
    pub(crate) fn hedui(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hedui"))
            .args(args)
            .output()
            .expect("the hedui binary runs")
    }

    /// Its stdout, after asserting it succeeded (with both streams shown if not).
    pub(crate) fn ok(out: &Output) -> String {
        assert!(
            out.status.success(),
            "stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout.clone()).unwrap()
    }
}

mod ingest {
    use std::path::{Path, PathBuf};

    use crate::run::{hedui, ok};

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
    }

    /// Snapshot id printed on an ingest line.
    fn ids(stdout: &str) -> Vec<(String, String)> {
        stdout
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let (source, id) = (w.next()?, w.next()?);
                let is_id = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
                is_id.then(|| (source.to_owned(), id.to_owned()))
            })
            .collect()
    }

    #[test]
    fn gen_then_ingest_parquet_and_csv_gives_the_same_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let city = dir.path().join("city");
        let city = city.to_str().unwrap();
        let out = ok(&hedui(&[
            "gen",
            "--persons",
            "1500",
            "--seed",
            "3",
            "--out",
            city,
            "--csv",
        ]));
        assert!(out.contains("extracts/tax"), "{out}");

        let extracts = |ext: &str| -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(Path::new(city).join("extracts"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
                .map(|p| p.to_str().unwrap().to_owned())
                .collect();
            v.sort();
            v
        };
        let parquet = extracts("parquet");
        assert_eq!(parquet.len(), 14, "every department extract: {parquet:?}");
        let data = dir.path().join("data");
        let data = data.to_str().unwrap();
        let mut args = vec!["ingest", "--data", data, "--as-of", "2026-06-30"];
        args.extend(parquet.iter().map(String::as_str));
        let out = ok(&hedui(&args));
        let first = ids(&out);
        assert_eq!(first.len(), 14);
        // Ingest links what it committed: every source but the registry.
        assert_eq!(
            out.lines().filter(|l| l.starts_with("linked ")).count(),
            13,
            "{out}"
        );

        // The same content again, from CSV: the same ids, nothing added.
        let csv = extracts("csv");
        let mut args = vec!["ingest", "--data", data, "--as-of", "2026-06-30"];
        args.extend(csv.iter().map(String::as_str));
        let again = ok(&hedui(&args));
        assert_eq!(ids(&again), first, "{again}");
        assert!(again.contains("already present"));
        let listed = ok(&hedui(&["snapshots", "--data", data]));
        assert_eq!(listed.lines().count(), 14, "{listed}");

        // A later as_of is another snapshot of the same source.
        let later = ok(&hedui(&[
            "ingest",
            "--data",
            data,
            "--as-of",
            "2026-07-31",
            &parquet[0],
        ]));
        assert!(!later.contains("already present"));
        let listed = ok(&hedui(&["snapshots", "--data", data]));
        assert_eq!(listed.lines().count(), 15);
    }

    #[test]
    fn broken_inputs_leave_no_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let data = data.to_str().unwrap();
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("broken/expected.json")).unwrap(),
        )
        .unwrap();
        let mut stored = 0;
        for (file, want) in expected.as_object().unwrap() {
            let path = fixtures().join("broken").join(file);
            let out = hedui(&[
                "ingest",
                "--data",
                data,
                "--as-of",
                "2026-06-30",
                path.to_str().unwrap(),
            ]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if let Some(parts) = want.get("error") {
                assert!(!out.status.success(), "{file} was accepted");
                for p in parts.as_array().unwrap() {
                    assert!(stderr.contains(p.as_str().unwrap()), "{file}: {stderr}");
                }
            } else {
                let stdout = ok(&out);
                stored += 1;
                let q: u64 = want["quarantined"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_u64().unwrap())
                    .sum();
                assert!(
                    stdout.contains(&format!("quarantined {q:>7}")),
                    "{file}: {stdout}"
                );
            }
        }
        // Only the extracts that were taken are listed; no partial snapshot,
        // no leftover directory of a refused one.
        let listed = ok(&hedui(&["snapshots", "--data", data]));
        assert_eq!(listed.lines().count(), stored, "{listed}");
        let dirs: usize = std::fs::read_dir(Path::new(data).join("snapshots"))
            .unwrap()
            .map(|e| std::fs::read_dir(e.unwrap().path()).unwrap().count())
            .sum();
        assert_eq!(dirs, stored);
        let tmp = Path::new(data).join("tmp");
        assert!(!tmp.exists() || std::fs::read_dir(&tmp).unwrap().count() == 0);
    }

    #[test]
    fn bad_usage_exits_non_zero_with_a_message() {
        let out = hedui(&["ingest", "--as-of", "2026-13-01", "x.csv"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("taxes.csv");
        std::fs::write(&f, "a,b\n1,2\n").unwrap();
        let data = dir.path().join("d");
        let out = hedui(&[
            "ingest",
            "--data",
            data.to_str().unwrap(),
            "--as-of",
            "2026-06-30",
            f.to_str().unwrap(),
        ]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("unknown source \"taxes\"") && stderr.contains("social_insurance"),
            "{stderr}"
        );
    }
}

mod verify {
    use std::path::Path;

    use crate::run::{hedui, ok};

    /// The demo, then `verify` again into another folder, then `replay`.
    #[test]
    fn demo_verify_and_replay_agree_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let out = ok(&hedui(&[
            "demo",
            "--dir",
            d,
            "--persons",
            "1500",
            "--seed",
            "5",
        ]));
        assert!(out.contains("determinations:"), "{out}");
        // The determinations agree with those the ground truth gives.
        let line = out
            .lines()
            .find(|l| l.contains("agreement with the ground truth"))
            .unwrap();
        let pct: f64 = line
            .rsplit('(')
            .next()
            .unwrap()
            .trim_end_matches(" %)")
            .trim()
            .parse()
            .unwrap();
        assert!(pct >= 90.0, "{line}");
        // Two monitoring runs agree with the alerts the ground truth
        // implies, find the generator's events, and a rerun adds nothing.
        let pct_of = |l: &str| -> f64 {
            l.rsplit('(')
                .next()
                .unwrap()
                .trim_end_matches(" %)")
                .trim()
                .parse()
                .unwrap()
        };
        let runs: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("agreement with the ground truth on"))
            .collect();
        assert_eq!(runs.len(), 2, "{out}");
        for l in &runs {
            assert!(pct_of(l) >= 90.0, "{l}");
        }
        let events = out
            .lines()
            .find(|l| l.contains("events the generator"))
            .unwrap();
        assert!(pct_of(events) >= 90.0, "{events}");
        assert!(out.contains("identical to run 2"), "{out}");
        let alerts = dir.path().join("alerts");
        assert!(std::fs::read_dir(&alerts).unwrap().count() >= 3);
        let reports = dir.path().join("reports");
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(reports.join("summary.json")).unwrap())
                .unwrap();
        assert!(summary["reports"].as_u64().unwrap() > 0, "{summary}");

        // verify of the same requests, twice: the same bytes (a
        // resubmitted batch). (The demo's own reports read the first
        // snapshots; the demo then ingested the later ones, which these
        // read.)
        let data = dir.path().join("data");
        let verify_into = |out: &Path| {
            ok(&hedui(&[
                "verify",
                "--data",
                data.to_str().unwrap(),
                "--requests",
                dir.path().join("city/requests").to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ]))
        };
        let first = dir.path().join("first");
        let again = dir.path().join("again");
        verify_into(&first);
        verify_into(&again);
        let mut checked = 0;
        for e in std::fs::read_dir(&first).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            if name == "summary.json" {
                continue;
            }
            assert_eq!(
                std::fs::read(&p).unwrap(),
                std::fs::read(again.join(&name)).unwrap(),
                "{name}"
            );
            checked += 1;
        }
        assert!(checked > 2);

        // Every report of the demo replays identical, in one call.
        let all: Vec<String> = std::fs::read_dir(&reports)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()) == Some("json")
                    && !p.ends_with("summary.json")
            })
            .filter(|p| !std::fs::read_to_string(p).unwrap().contains("\"error\":{"))
            .map(|p| p.to_str().unwrap().to_owned())
            .collect();
        let mut args = vec!["replay", "--data", data.to_str().unwrap()];
        args.extend(all.iter().map(String::as_str));
        let out = ok(&hedui(&args));
        assert_eq!(
            out.lines().filter(|l| l.starts_with("identical ")).count(),
            all.len(),
            "{out}"
        );

        // replay: identical, and a tampered figure is found.
        let report = first_report(&reports);
        let out = ok(&hedui(&[
            "replay",
            "--data",
            data.to_str().unwrap(),
            report.to_str().unwrap(),
        ]));
        let text = std::fs::read_to_string(&report).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            out.trim(),
            format!("identical {}", v["report_hash"].as_str().unwrap())
        );

        let mut tampered = v.clone();
        tampered["standard_fen"] =
            serde_json::json!(tampered["standard_fen"].as_i64().unwrap() + 1);
        let t = dir.path().join("tampered.json");
        std::fs::write(&t, tampered.to_string()).unwrap();
        let out = hedui(&[
            "replay",
            "--data",
            data.to_str().unwrap(),
            t.to_str().unwrap(),
        ]);
        assert!(!out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("standard_fen"), "{stdout}");

        // The HTML never shows a clear id.
        let html = std::fs::read_to_string(report.with_extension("html")).unwrap();
        for m in v["members"].as_array().unwrap() {
            let id = m["id_number"].as_str().unwrap();
            if id.len() == 18 {
                assert!(!html.contains(id), "clear id in the HTML");
            }
        }
    }

    /// The same demo on one and on two threads: byte-identical reports
    /// (linking, facts, policy and report alike).
    #[test]
    fn reports_do_not_depend_on_the_number_of_threads() {
        let run = |threads: &str| {
            let dir = tempfile::tempdir().unwrap();
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_hedui"))
                .args([
                    "demo",
                    "--dir",
                    dir.path().to_str().unwrap(),
                    "--persons",
                    "1200",
                    "--seed",
                    "9",
                ])
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            ok(&out);
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path().join("reports"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .map(|p| {
                    (
                        p.file_name().unwrap().to_str().unwrap().to_owned(),
                        std::fs::read(&p).unwrap(),
                    )
                })
                .collect();
            files.sort();
            files
        };
        let (one, two) = (run("1"), run("2"));
        assert!(one.len() > 3);
        assert_eq!(one, two);
    }

    fn first_report(dir: &Path) -> std::path::PathBuf {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
            .filter(|p| {
                let t = std::fs::read_to_string(p).unwrap();
                !p.ends_with("summary.json") && !t.contains("\"error\"")
            })
            .collect();
        files.sort();
        files.remove(0)
    }

    #[test]
    fn verify_without_snapshots_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let req = dir.path().join("req");
        std::fs::create_dir_all(&req).unwrap();
        std::fs::write(
            req.join("applications.csv"),
            "application_id,region_code,assistance,applied_on,authorization_ref\nA1,530302,dibao,2026-03-15,SQ-1\n",
        )
        .unwrap();
        std::fs::write(
            req.join("members.csv"),
            "application_id,id_number,name,relation\nA1,11010519491231002X,张伟,applicant\n",
        )
        .unwrap();
        let out = hedui(&[
            "verify",
            "--data",
            dir.path().join("d").to_str().unwrap(),
            "--requests",
            req.to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("ingest the household registration"));
    }
}

#[path = "golden.rs"]
mod golden;
#[path = "monitor_golden.rs"]
mod monitor_golden;
mod server;
