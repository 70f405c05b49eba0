//! Integration tests of `hedui-engine` on a small synthetic city: ingest,
//! link, gather, and the policy on the result.

use std::collections::BTreeMap;
use std::path::Path;

use hedui_engine::{
    GatherOptions, RequestSet, Selection, ensure_links, gather_with, load_requests, prepare, select,
};
use hedui_matching::MatchSettings;
use hedui_policy::PolicySet;
use hedui_sources::{TableKind, tables};
use hedui_store::{SnapshotInput, Store};

/// A 1,200-person city generated and ingested once per test.
fn city(dir: &Path) -> (Store, std::path::PathBuf) {
    let cfg = hedui_synth::CityConfig::new(1_200, 11);
    let city = dir.join("city");
    let summary = hedui_synth::generate(&cfg, &city, &|_| {}).unwrap();
    let store = Store::open(dir.join("data")).unwrap();
    for t in tables::ALL
        .iter()
        .filter(|t| t.kind == TableKind::Department)
    {
        let path = city.join("extracts").join(format!("{}.parquet", t.name));
        let n = hedui_sources::load_file(t, &path).unwrap();
        store
            .commit(SnapshotInput {
                source: t.name.into(),
                as_of: summary.as_of,
                department: t.label_zh.into(),
                region_code: None,
                schema_version: t.schema_version,
                rows: n.rows,
                quarantine: n.quarantine,
                source_files: vec![],
            })
            .unwrap();
    }
    (store, city.join("requests"))
}

fn run(store: &Store, requests: &RequestSet) -> hedui_engine::Gathered {
    run_with(store, requests, GatherOptions::default())
}

fn run_with(
    store: &Store,
    requests: &RequestSet,
    options: GatherOptions,
) -> hedui_engine::Gathered {
    let snaps = select(store, &Selection::Newest).unwrap();
    let linker = prepare(store, &snaps, &MatchSettings::default(), None).unwrap();
    ensure_links(store, &linker, &snaps).unwrap();
    let rt = hedui_engine::runtime().unwrap();
    rt.block_on(gather_with(
        store,
        requests,
        &PolicySet::reference(),
        &snaps,
        &linker,
        options,
    ))
    .unwrap()
}

/// Each household's policy findings (JSON) and links, by application.
fn outcomes(g: &hedui_engine::Gathered) -> BTreeMap<String, (Option<String>, String)> {
    let policies = PolicySet::reference();
    g.households
        .iter()
        .filter_map(|h| h.as_ref().ok())
        .map(|c| {
            let findings = hedui_policy::check(&policies, &c.household)
                .map(|f| serde_json::to_string(&f).unwrap())
                .ok();
            (
                c.request.application_id.clone(),
                (findings, format!("{:?}", c.links)),
            )
        })
        .collect()
}

#[test]
fn a_batch_gathers_every_household_and_the_policy_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, requests_dir) = city(dir.path());
    let requests = load_requests(&requests_dir).unwrap();
    assert!(requests.requests.len() >= 10);
    let g = run(&store, &requests);
    assert_eq!(
        g.households.len(),
        requests.requests.len() + requests.rejected.len()
    );
    let policies = PolicySet::reference();
    let mut with_income = 0;
    let mut determinations: BTreeMap<String, usize> = BTreeMap::new();
    for h in &g.households {
        let Ok(c) = h else { continue };
        assert!(
            c.links.iter().any(|l| l.source == "hukou"),
            "{}",
            c.request.application_id
        );
        if c.household
            .members
            .iter()
            .any(|m| !m.tax.is_empty() || !m.social_insurance.is_empty())
        {
            with_income += 1;
        }
        // Every counted link names a declared member.
        for l in &c.links {
            assert!(c.household.members.iter().any(|m| m.id_number == l.member));
        }
        if let Ok(f) = hedui_policy::check(&policies, &c.household) {
            for d in f.holding() {
                *determinations.entry(format!("{d:?}")).or_default() += 1;
            }
        }
    }
    assert!(with_income > 0);
    assert!(determinations.len() >= 2, "{determinations:?}");

    // Links are stored: a second run links nothing new.
    let snaps = select(&store, &Selection::Newest).unwrap();
    let linker = prepare(&store, &snaps, &MatchSettings::default(), None).unwrap();
    assert!(ensure_links(&store, &linker, &snaps).unwrap().is_empty());
}

#[test]
fn one_household_alone_gets_the_facts_it_gets_in_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (store, requests_dir) = city(dir.path());
    let all = load_requests(&requests_dir).unwrap();
    let batch = run(&store, &all);
    let again = run(&store, &all);
    for (k, request) in all.requests.iter().enumerate().take(5) {
        let alone = RequestSet {
            requests: vec![request.clone()],
            rejected: vec![],
        };
        let one = run(&store, &alone);
        let find = |g: &hedui_engine::Gathered| {
            g.households
                .iter()
                .find_map(|h| {
                    h.as_ref()
                        .ok()
                        .filter(|c| c.request.application_id == request.application_id)
                        .cloned()
                })
                .unwrap()
        };
        let (a, b, c) = (find(&one), find(&batch), find(&again));
        let policies = PolicySet::reference();
        let fa = hedui_policy::check(&policies, &a.household)
            .map(|f| serde_json::to_string(&f).unwrap())
            .ok();
        let fb = hedui_policy::check(&policies, &b.household)
            .map(|f| serde_json::to_string(&f).unwrap())
            .ok();
        let fc = hedui_policy::check(&policies, &c.household)
            .map(|f| serde_json::to_string(&f).unwrap())
            .ok();
        assert_eq!(fa, fb, "household {k} alone vs in the batch");
        assert_eq!(fb, fc, "household {k}: two runs");
        assert_eq!(a.links, b.links);
    }
}

#[test]
fn persons_named_literally_or_joined_give_the_same_facts() {
    let dir = tempfile::tempdir().unwrap();
    let (store, requests_dir) = city(dir.path());
    let all = load_requests(&requests_dir).unwrap();
    let literal = run(&store, &all);
    let joined = run_with(
        &store,
        &all,
        GatherOptions {
            literal_persons: 0,
            ..Default::default()
        },
    );
    let (a, b) = (outcomes(&literal), outcomes(&joined));
    assert!(a.len() >= 10);
    assert_eq!(a, b);
}

/// A check of a few persons read from the point indexes gets the facts
/// and links the queries give: a request at a time, a handful at once,
/// with and without links (monitoring reads without).
#[test]
fn the_point_index_gives_the_facts_the_queries_give() {
    let dir = tempfile::tempdir().unwrap();
    let (store, requests_dir) = city(dir.path());
    let all = load_requests(&requests_dir).unwrap();
    let snaps = select(&store, &Selection::Newest).unwrap();
    let linker = prepare(&store, &snaps, &MatchSettings::default(), None).unwrap();
    ensure_links(&store, &linker, &snaps).unwrap();
    let query = GatherOptions {
        point_index: false,
        ..Default::default()
    };
    // Without indexes, the default options query.
    assert!(!run(&store, &all).timings.indexed);
    assert_eq!(
        hedui_engine::ensure_indexes(&store, &linker.key, &snaps).unwrap(),
        snaps.len()
    );
    assert_eq!(
        hedui_engine::ensure_indexes(&store, &linker.key, &snaps).unwrap(),
        0
    );
    // Every view row is in its index (and every registration with an id).
    for meta in snaps.values() {
        let key = if meta.source == "hukou" {
            hedui_engine::index::HUKOU_INDEX_KEY
        } else {
            linker.key.as_str()
        };
        let ix = hedui_engine::PointIndex::open(&store.index_path(&meta.id, key).unwrap()).unwrap();
        let expected: usize = if meta.source == "hukou" {
            store
                .read_rows(&meta.id)
                .unwrap()
                .iter()
                .map(|b| b.num_rows() - b.column_by_name("id_number").unwrap().null_count())
                .sum()
        } else {
            let (_, view) =
                hedui_sources::read_file(&store.view_path(&meta.id, &linker.key).unwrap()).unwrap();
            view.iter().map(|b| b.num_rows()).sum()
        };
        assert_eq!(ix.num_rows(), expected, "{}", meta.source);
    }
    let mut checked = 0;
    for with_links in [true, false] {
        let mut sets: Vec<RequestSet> = all
            .requests
            .iter()
            .map(|r| RequestSet {
                requests: vec![r.clone()],
                rejected: Vec::new(),
            })
            .collect();
        sets.push(RequestSet {
            requests: all.requests.iter().take(8).cloned().collect(),
            rejected: Vec::new(),
        });
        for set in &sets {
            let indexed = run_with(
                &store,
                set,
                GatherOptions {
                    with_links,
                    ..Default::default()
                },
            );
            assert!(indexed.timings.indexed);
            let queried = run_with(
                &store,
                set,
                GatherOptions {
                    with_links,
                    ..query
                },
            );
            assert!(!queried.timings.indexed);
            let (a, b) = (outcomes(&indexed), outcomes(&queried));
            assert_eq!(a, b);
            checked += a.len();
        }
    }
    assert!(checked >= 20);
}

/// The linked view of every source: each record once for the person its
/// link places it on, once more for the id it carried if it is unlinked,
/// with its own columns, in two runs sorted by person and record id.
#[test]
fn the_linked_view_is_every_record_keyed_by_its_person() {
    use arrow::array::{Array, AsArray};
    use std::collections::BTreeSet;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = city(dir.path());
    let snaps = select(&store, &Selection::Newest).unwrap();
    let linker = prepare(&store, &snaps, &MatchSettings::default(), None).unwrap();
    ensure_links(&store, &linker, &snaps).unwrap();
    let mut fuzzy = 0;
    for meta in snaps.values().filter(|m| m.source != "hukou") {
        // What the rows and links say each view row must be.
        let mut expected: BTreeSet<(String, String, bool, String)> = BTreeSet::new();
        let mut carried: BTreeMap<String, Option<String>> = BTreeMap::new();
        for b in store.read_rows(&meta.id).unwrap() {
            let (rid, id) = (
                b.column_by_name("record_id").unwrap().as_string::<i32>(),
                b.column_by_name("id_number").unwrap().as_string::<i32>(),
            );
            for i in 0..b.num_rows() {
                carried.insert(
                    rid.value(i).to_owned(),
                    id.is_valid(i).then(|| id.value(i).to_owned()),
                );
            }
        }
        for b in store.read_links(&meta.id, &linker.key).unwrap().unwrap() {
            let col = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
            let (rid, person, method) = (col("record_id"), col("person_id"), col("method"));
            for i in 0..b.num_rows() {
                let r = rid.value(i).to_owned();
                if person.is_valid(i) {
                    let p = person.value(i).to_owned();
                    if carried[&r].as_deref() != Some(p.as_str()) {
                        fuzzy += 1;
                    }
                    expected.insert((p, r.clone(), true, method.value(i).to_owned()));
                }
                if let (Some(own), "unlinked") = (&carried[&r], method.value(i)) {
                    expected.insert((own.clone(), r, false, "unlinked".into()));
                }
            }
        }
        let path = store.view_path(&meta.id, &linker.key).unwrap();
        let (_, view) = hedui_sources::read_file(&path).unwrap();
        let mut got = Vec::new();
        for b in &view {
            let s = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
            let (person, rid, method, id) = (
                s(hedui_engine::view::PERSON),
                s("record_id"),
                s(hedui_engine::view::METHOD),
                s("id_number"),
            );
            let by = b
                .column_by_name(hedui_engine::view::BY_PERSON)
                .unwrap()
                .as_boolean()
                .clone();
            for i in 0..b.num_rows() {
                let r = rid.value(i).to_owned();
                // The record's own columns came with it.
                assert_eq!(
                    id.is_valid(i).then(|| id.value(i).to_owned()),
                    carried[&r],
                    "{} {r}",
                    meta.source
                );
                got.push((
                    person.value(i).to_owned(),
                    r,
                    by.value(i),
                    method.value(i).to_owned(),
                ));
            }
        }
        let as_set: BTreeSet<_> = got.iter().cloned().collect();
        assert_eq!(as_set.len(), got.len(), "{}: a row twice", meta.source);
        assert_eq!(as_set, expected, "{}", meta.source);
        // At most two ascending runs by (person, record id).
        let descents = got
            .windows(2)
            .filter(|w| (&w[0].0, &w[0].1) > (&w[1].0, &w[1].1))
            .count();
        assert!(descents <= 1, "{}: {descents} descents", meta.source);
    }
    // The city's dirty ids put records on persons other than the id they
    // carried: the second run is exercised.
    assert!(fuzzy > 0);
    // A second call builds nothing.
    assert_eq!(
        hedui_engine::ensure_views(&store, &linker.key, &snaps).unwrap(),
        0
    );
}

#[test]
fn without_hukou_the_check_says_what_to_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let err = select(&store, &Selection::Newest).unwrap_err().to_string();
    assert!(err.contains("hukou"), "{err}");
}
