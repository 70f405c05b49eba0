//! End-to-end tests of the `hedui` binary as a user runs it.

mod ingest {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    fn hedui(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hedui"))
            .args(args)
            .output()
            .expect("the hedui binary runs")
    }

    fn ok(out: &Output) -> String {
        assert!(
            out.status.success(),
            "stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout.clone()).unwrap()
    }

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
    }

    /// Snapshot id printed on an ingest line.
    fn ids(stdout: &str) -> Vec<(String, String)> {
        stdout
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some((w.next()?.to_owned(), w.next()?.to_owned()))
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
        let first = ids(&ok(&hedui(&args)));
        assert_eq!(first.len(), 14);

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
