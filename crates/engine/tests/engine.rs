//! Integration tests of `hedui-engine` on a small synthetic city: ingest,
//! link, gather, and the policy on the result.

use std::collections::BTreeMap;
use std::path::Path;

use hedui_engine::{RequestSet, Selection, ensure_links, gather, load_requests, prepare, select};
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
    let snaps = select(store, &Selection::Newest).unwrap();
    let linker = prepare(store, &snaps, &MatchSettings::default(), None).unwrap();
    ensure_links(store, &linker, &snaps).unwrap();
    let rt = hedui_engine::runtime().unwrap();
    rt.block_on(gather(
        store,
        requests,
        &PolicySet::reference(),
        &snaps,
        &linker,
    ))
    .unwrap()
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
fn without_hukou_the_check_says_what_to_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let err = select(&store, &Selection::Newest).unwrap_err().to_string();
    assert!(err.contains("hukou"), "{err}");
}
