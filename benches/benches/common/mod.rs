//! The synthetic city of the end-to-end benches, generated and ingested
//! (or reused from `HEDUI_BENCH_DIR`).

use std::path::PathBuf;
use std::time::Instant;

/// The allocator of the `hedui` binary (see its `main.rs`), so the
/// benches measure what the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use hedui_sources::{TableKind, tables};
use hedui_store::{SnapshotInput, Store};

/// A field of `/proc/self/status` in MiB (`VmRSS`, `VmHWM`); 0 where
/// there is no such file.
fn status_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// The resident memory of this process now, in MiB.
#[allow(dead_code)]
pub(crate) fn rss_mib() -> u64 {
    status_mib("VmRSS:")
}

/// The peak resident memory of this process so far, in MiB.
#[allow(dead_code)]
pub(crate) fn peak_rss_mib() -> u64 {
    status_mib("VmHWM:")
}

/// A numeric setting from the environment.
pub(crate) fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A city of `HEDUI_BENCH_PERSONS` persons (default `persons`) with
/// `HEDUI_BENCH_REQUESTS` check requests (default `requests`), generated
/// and ingested into a store; in `HEDUI_BENCH_DIR` (kept and reused) or a
/// temporary directory (the first value, dropped last).
pub(crate) struct City {
    /// Holds the temporary directory, if one is used.
    pub(crate) _temp: Option<tempfile::TempDir>,
    /// Where the city and the store are.
    #[allow(dead_code)]
    pub(crate) dir: PathBuf,
    /// The generated city.
    pub(crate) city: PathBuf,
    /// The store, every department extract ingested.
    pub(crate) store: Store,
}

/// Generates (or reuses) and ingests the city.
#[allow(dead_code)]
pub(crate) fn city(persons: usize, requests: usize) -> anyhow::Result<City> {
    city_with(persons, requests, false)
}

/// As [`city`]; with `later`, the city also has its later snapshot (31
/// days on, `hedui gen --later`), ingested too.
pub(crate) fn city_with(persons: usize, requests: usize, later: bool) -> anyhow::Result<City> {
    let persons = env("HEDUI_BENCH_PERSONS", persons);
    let requests = env("HEDUI_BENCH_REQUESTS", requests);
    let (temp, dir) = match std::env::var_os("HEDUI_BENCH_DIR") {
        Some(d) => (None, PathBuf::from(d)),
        None => {
            let t = tempfile::tempdir()?;
            let d = t.path().to_owned();
            (Some(t), d)
        }
    };
    let city = dir.join("city");
    let mut cfg = hedui_synth::CityConfig::new(persons, 2026);
    cfg.requests = requests;
    if later {
        cfg.later = cfg.as_of.checked_add_signed(chrono::TimeDelta::days(31));
    }
    let t = Instant::now();
    let manifest = city.join("manifest.json");
    let as_of = if manifest.is_file() {
        println!("gen       reusing {}", city.display());
        if later && !city.join("later").is_dir() {
            anyhow::bail!(
                "{} was generated without its later snapshot: use another HEDUI_BENCH_DIR",
                city.display()
            );
        }
        cfg.as_of
    } else {
        let summary = hedui_synth::generate(&cfg, &city, &|_| {})?;
        println!(
            "gen       {persons} persons, {} department records: {:.1} s",
            summary.department_records,
            t.elapsed().as_secs_f64()
        );
        summary.as_of
    };
    let store = Store::open(dir.join("data"))?;
    let t = Instant::now();
    let mut rows = 0;
    // Per source and snapshot: a run cut off half-way through ingest
    // resumes (a source whose newest snapshot is older than the extract's
    // date is ingested).
    let mut ingested = true;
    let snapshots =
        std::iter::once(("extracts", as_of)).chain(cfg.later.map(|d| ("later/extracts", d)));
    for (folder, date) in snapshots {
        for table in tables::ALL
            .iter()
            .filter(|t| t.kind == TableKind::Department)
            .filter(|t| {
                store
                    .newest(t.name)
                    .ok()
                    .flatten()
                    .is_none_or(|m| m.as_of < date)
            })
        {
            let path = city.join(folder).join(format!("{}.parquet", table.name));
            ingested = false;
            let n = hedui_sources::load_file(table, &path)?;
            rows += n.accepted + n.quarantined;
            store.commit(SnapshotInput {
                source: table.name.into(),
                as_of: date,
                department: table.label_zh.into(),
                region_code: None,
                schema_version: table.schema_version,
                rows: n.rows,
                quarantine: n.quarantine,
                source_files: vec![],
            })?;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    if ingested {
        println!("ingest    reusing {}", store.root().display());
    } else {
        println!(
            "ingest    {rows} rows: {secs:.1} s ({:.0} rows/s)",
            rows as f64 / secs
        );
    }

    Ok(City {
        _temp: temp,
        dir,
        city,
        store,
    })
}
