//! The synthetic city of `hedui-synth`: quality floors, and (ignored)
//! figures at scale.

use std::time::{Duration, Instant};

/// Resident and peak resident memory of this process, KiB (Linux).
pub(crate) fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user + system) of this process so far, from /proc (Linux):
/// on a shared machine wall time says little.
pub(crate) fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

use hedui_matching::{MatchSettings, Model, count_pairs, evaluate};

use crate::common::load_city;

fn run(persons: usize, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let cfg = hedui_synth::CityConfig::new(persons, seed);
    hedui_synth::generate(&cfg, dir.path(), &|_| {}).unwrap();
    let t1 = Instant::now();
    let city = load_city(dir.path());
    let t2 = Instant::now();
    let all: Vec<&hedui_matching::Records> = city
        .sources
        .iter()
        .filter(|r| r.source() != "hukou")
        .collect();
    let n: usize = all.iter().map(|r| r.len()).sum();
    let model = Model::train(&city.registry, &all, MatchSettings::default()).unwrap();
    let t3 = Instant::now();
    let links: Vec<_> = all
        .iter()
        .map(|r| model.resolve(&city.registry, r))
        .collect();
    let t4 = Instant::now();
    let refs: Vec<_> = links.iter().collect();
    let q = evaluate(&city.truth, &refs, &city.registry);
    eprintln!(
        "persons {persons}: registry {} (declared {}), records {n}; gen {:?} load {:?} train {:?} resolve {:?}",
        city.registry.len(),
        city.declared,
        t1 - t0,
        t2 - t1,
        t3 - t2,
        t4 - t3
    );
    eprintln!(
        "{}",
        serde_json::to_string_pretty(model.training()).unwrap()
    );
    for f in model.fields() {
        eprintln!("{:?} m {:?} u {:?}", f.field, f.m, f.u);
    }
    for r in &all {
        if r.source() == "tax" {
            eprintln!(
                "{}",
                serde_json::to_string(&count_pairs(&city.registry, r, model.settings())).unwrap()
            );
        }
    }
    for l in &links {
        eprintln!(
            "{} {}",
            l.source,
            serde_json::to_string(&l.summary).unwrap()
        );
    }
    eprintln!("{}", serde_json::to_string_pretty(&q.overall).unwrap());
    for (k, v) in &q.by_noise {
        eprintln!(
            "{k:>14} rec {:>7} link {:>7} ok {:>7} wrong {:>3} poss {:>5} unl {:>5} R {:.5}",
            v.records, v.linkable, v.correct, v.wrong, v.possible, v.unlinked, v.recall
        );
    }
    eprintln!(
        "traps {} wrong {} swapped unflagged {}",
        q.trap_records, q.trap_wrong_links, q.swapped_name_unflagged
    );
    let want = std::env::var("SHOW").unwrap_or_default();
    let mut shown = std::collections::BTreeMap::<String, usize>::new();
    for ls in &links {
        for l in &ls.links {
            let (person, noise) = city.truth.get(&ls.source, &l.record_id).unwrap();
            let right = l.person_id.is_some() && l.person_id == person;
            let linkable = person.is_some_and(|p| city.registry.person(&p).is_some());
            let class = if l.counted() && !right {
                "wrong".to_string()
            } else if linkable && !l.counted() {
                format!("missed_{noise}")
            } else {
                continue;
            };
            if !want
                .split(',')
                .any(|w| !w.is_empty() && class.starts_with(w))
            {
                continue;
            }
            let n = shown.entry(format!("{class}{}", ls.source)).or_default();
            *n += 1;
            if *n <= 4 {
                eprintln!(
                    "{class} {} {} truth {:?} -> {:?} {:?} p {:?}\n  {}",
                    ls.source,
                    l.record_id,
                    person.map(|p| p.to_string()),
                    l.person_id.map(|p| p.to_string()),
                    l.method,
                    l.match_probability,
                    l.explanation()
                );
            }
        }
    }
}

#[test]
#[ignore]
fn explore() {
    let n = std::env::var("CITY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    run(n, 7);
}

/// Speed: one source of a generated city (`CITY` persons, default 100k;
/// the first `LIMIT` records of `SOURCE`, default all of `tax`) against
/// the city's registry, end to end from canonical batches: registry,
/// records, training, resolution, Arrow output.
#[test]
#[ignore]
fn scale_one_source() {
    let n: usize = std::env::var("CITY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let source = std::env::var("SOURCE").unwrap_or_else(|_| "tax".into());
    let limit: usize = std::env::var("LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let dir = std::path::PathBuf::from(format!("/tmp/hedui-matching-city-{n}"));
    if !dir.join("truth/records.parquet").exists() {
        let t = Instant::now();
        let cfg = hedui_synth::CityConfig::new(n, 7);
        hedui_synth::generate(&cfg, &dir, &|_| {}).unwrap();
        eprintln!("generated {n} persons in {:?}", t.elapsed());
    }
    let ex = dir.join("extracts");
    let load = |t: &str| {
        let spec = hedui_sources::table(t).unwrap();
        hedui_sources::load_file(spec, &ex.join(format!("{t}.parquet"))).unwrap()
    };
    let hukou = load("hukou");
    let mut rows = load(&source);
    let mut kept = 0;
    rows.rows.retain(|b| {
        let keep = kept < limit;
        kept += b.num_rows();
        keep
    });
    // Peak memory from here on: the loaded inputs are the baseline.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (base, _) = rss();
    let (t0, c0) = (Instant::now(), cpu());
    let registry = hedui_matching::Registry::from_hukou(&hukou.rows).unwrap();
    let (t1, c1) = (Instant::now(), cpu());
    let records = hedui_matching::Records::from_batches(&source, &rows.rows).unwrap();
    let (t2, c2) = (Instant::now(), cpu());
    let model = Model::train(&registry, &[&records], MatchSettings::default()).unwrap();
    let (t3, c3) = (Instant::now(), cpu());
    let links = model.resolve(&registry, &records);
    let (t4, c4) = (Instant::now(), cpu());
    let batch = links.to_record_batch().unwrap();
    let (t5, c5) = (Instant::now(), cpu());
    eprintln!(
        "{} persons, {} {source} records, {} threads (wall / cpu): registry {:?}/{:?} records {:?}/{:?} train {:?}/{:?} resolve {:?}/{:?} arrow {:?}/{:?} total {:?}/{:?}; {} rows",
        registry.len(),
        records.len(),
        rayon::current_num_threads(),
        t1 - t0,
        c1 - c0,
        t2 - t1,
        c2 - c1,
        t3 - t2,
        c3 - c2,
        t4 - t3,
        c4 - c3,
        t5 - t4,
        c5 - c4,
        t5 - t0,
        c5 - c0,
        batch.num_rows()
    );
    let (_, peak) = rss();
    eprintln!(
        "memory: inputs {} MiB, peak {} MiB, matching's own peak {} MiB",
        base / 1024,
        peak / 1024,
        peak.saturating_sub(base) / 1024
    );
    eprintln!("{}", serde_json::to_string(&links.summary).unwrap());
    if std::env::var("COUNT").is_ok() {
        let blocking = count_pairs(&registry, &records, model.settings());
        eprintln!("{}", serde_json::to_string(&blocking).unwrap());
    }
}

/// A 5,000-person city at the generator's default noise: quality floors.
#[test]
fn synthetic_city_quality_floors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = hedui_synth::CityConfig::new(5_000, 11);
    hedui_synth::generate(&cfg, dir.path(), &|_| {}).unwrap();
    let city = load_city(dir.path());
    let sources: Vec<&hedui_matching::Records> = city
        .sources
        .iter()
        .filter(|r| r.source() != "hukou")
        .collect();
    let model = Model::train(&city.registry, &sources, MatchSettings::default()).unwrap();
    let links: Vec<_> = sources
        .iter()
        .map(|r| model.resolve(&city.registry, r))
        .collect();
    let refs: Vec<_> = links.iter().collect();
    let q = evaluate(&city.truth, &refs, &city.registry);
    let show = serde_json::to_string_pretty(&q).unwrap();
    assert_eq!(q.records_without_truth, 0);
    assert!(q.overall.precision >= 0.9995, "{show}");
    assert!(q.overall.recall >= 0.995, "{show}");
    assert_eq!(q.trap_wrong_links, 0, "{show}");
    assert!(q.trap_records > 0);
    assert_eq!(q.swapped_name_unflagged, 0, "{show}");
    for kind in [
        "none",
        "legacy15",
        "lower_x",
        "fullwidth",
        "spaces",
        "typo_digit",
        "transposition",
        "traditional",
        "homophone",
        "middle_dot",
        "name_spaces",
        "swapped_name",
    ] {
        if let Some(k) = q.by_noise.get(kind) {
            assert!(k.recall >= 0.99 && k.precision >= 0.999, "{kind}: {show}");
        }
    }
    assert!(q.by_noise["missing_id"].recall >= 0.7, "{show}");
    assert_eq!(
        q.by_noise.get("trap_twin").map_or(0, |k| k.counted),
        0,
        "{show}"
    );
    // Every swapped name is an id conflict, flagged.
    assert_eq!(
        q.by_noise["swapped_name"].counted,
        q.by_noise["swapped_name"].correct
    );
}

/// Determinism at city scale: the model and every source's links are the
/// same bytes on 1 and 2 threads (`CITY` persons, default 20k).
#[test]
#[ignore]
fn city_links_do_not_depend_on_threads() {
    let n: usize = std::env::var("CITY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    hedui_synth::generate(&hedui_synth::CityConfig::new(n, 3), dir.path(), &|_| {}).unwrap();
    let city = load_city(dir.path());
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let sources: Vec<&hedui_matching::Records> = city.sources.iter().collect();
            let model = Model::train(&city.registry, &sources, MatchSettings::default()).unwrap();
            let batches: Vec<_> = sources
                .iter()
                .map(|r| model.resolve(&city.registry, r).to_record_batch().unwrap())
                .collect();
            (model.to_json(), batches)
        })
    };
    let (m1, b1) = run(1);
    let (m2, b2) = run(2);
    assert_eq!(m1, m2);
    assert_eq!(b1, b2);
    eprintln!(
        "{} sources, {} links identical",
        b1.len(),
        b1.iter().map(|b| b.num_rows()).sum::<usize>()
    );
}

/// Links handed out in pieces are the links of one run, in the same order
/// and with the same counts, whatever the piece size.
#[test]
fn links_in_pieces_are_the_links_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    hedui_synth::generate(
        &hedui_synth::CityConfig::new(1_500, 11),
        dir.path(),
        &|_| {},
    )
    .unwrap();
    let city = load_city(dir.path());
    let sources: Vec<&hedui_matching::Records> = city.sources.iter().collect();
    let model = Model::train(&city.registry, &sources, MatchSettings::default()).unwrap();
    for records in &sources {
        let whole = model.resolve(&city.registry, records);
        for piece in [1, 97, 1000] {
            let mut links = Vec::new();
            let mut counted = 0;
            let summary = model
                .resolve_chunked(&city.registry, records, piece, |l| {
                    assert!(l.links.len() <= piece);
                    assert_eq!(l.summary.records, l.links.len());
                    counted += l.summary.methods.values().sum::<usize>();
                    links.extend(l.links);
                    Ok::<(), ()>(())
                })
                .unwrap();
            assert_eq!(
                links,
                whole.links,
                "{} in pieces of {piece}",
                records.source()
            );
            assert_eq!(summary, whole.summary);
            assert_eq!(counted, whole.links.len());
        }
    }
}
