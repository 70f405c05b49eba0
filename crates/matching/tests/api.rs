//! Determinism, hashes, serialisation, blocking counts, the Arrow schema,
//! single-record lookups and declared persons.

use hedui_matching::{
    BlockingRule, MatchSettings, Method, Model, RecordInput, Records, RegistryBuilder, count_pairs,
    links_schema,
};

use crate::common::{hukou, id, p};
use crate::fixtures::{resolve, settings, tax_batches, town, who};

fn resolve_in_pool(threads: usize) -> (String, arrow::array::RecordBatch) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let t = town();
        let zw = id(who::ZHANG_WEI);
        let mut bad = zw.clone().into_bytes();
        bad[16] = b'0' + (bad[16] - b'0' + 3) % 10;
        let bad = String::from_utf8(bad).unwrap();
        let (model, links) = resolve(
            &t,
            &[
                ("D1", Some(bad.as_str()), "张伟", "Q1"),
                ("D2", None, "欧阳娜娜", "Q1"),
            ],
        );
        (model.to_json(), links.to_record_batch().unwrap())
    })
}

#[test]
fn same_links_and_weights_on_one_or_two_threads() {
    let (m1, b1) = resolve_in_pool(1);
    let (m2, b2) = resolve_in_pool(2);
    assert_eq!(m1, m2, "model differs between thread counts");
    assert_eq!(b1, b2, "links differ between thread counts");
    // Sorted by record_id.
    let ids = b1.column_by_name("record_id").unwrap();
    let ids = ids
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .unwrap();
    let v: Vec<&str> = ids.iter().map(|s| s.unwrap()).collect();
    let mut sorted = v.clone();
    sorted.sort_unstable();
    assert_eq!(v, sorted);
}

#[test]
fn hashes_follow_content_and_settings() {
    let t = town();
    let records = Records::from_batches("tax", &tax_batches(&t, &[])).unwrap();
    let model = Model::train(&t.registry, &[&records], settings()).unwrap();
    // The registry hash does not depend on the order of the rows.
    let mut rev = t.persons.clone();
    rev.reverse();
    let mut b = RegistryBuilder::new();
    b.add_hukou(&hukou(&rev)).unwrap();
    let again = b.build();
    assert_eq!(again.hash(), t.registry.hash());
    let mut b = RegistryBuilder::new();
    b.add_hukou(&hukou(&t.persons[1..])).unwrap();
    assert_ne!(b.build().hash(), t.registry.hash());
    // Retraining gives the same model; other settings another hash.
    let model2 = Model::train(&t.registry, &[&records], settings()).unwrap();
    assert_eq!(model.hash(), model2.hash());
    let stricter = model.with_thresholds(0.995, 0.9).unwrap();
    assert_ne!(stricter.hash(), model.hash());
    assert_eq!(stricter.fields(), model.fields());
    let reseeded = Model::train(
        &t.registry,
        &[&records],
        MatchSettings {
            seed: 99,
            ..settings()
        },
    )
    .unwrap();
    assert_ne!(reseeded.hash(), model.hash());
    // Serialisation round-trips, and a tampered model is refused.
    let json = model.to_json();
    let back = Model::from_json(&json).unwrap();
    assert_eq!(back.hash(), model.hash());
    let tampered = json.replacen("\"link_threshold\": 0.99", "\"link_threshold\": 0.95", 1);
    assert_ne!(tampered, json);
    assert!(Model::from_json(&tampered).is_err());
    // Settings that shape training cannot be swapped in.
    assert!(
        model
            .with_settings(MatchSettings {
                seed: 5,
                ..model.settings().clone()
            })
            .is_err()
    );
    // Bad thresholds are refused.
    assert!(model.with_thresholds(0.8, 0.9).is_err());
    assert!(model.with_thresholds(1.5, 0.9).is_err());
}

#[test]
fn blocking_pairs_are_counted() {
    // Three persons: two 张伟 (same district and birth date, one digit
    // apart), one 李娜.
    let persons = [
        p("53030219850312123", "张伟"),
        p("53030219850312125", "张伟"),
        p("53030319920202222", "李娜"),
    ];
    let registry = hedui_matching::Registry::from_hukou(&hukou(&persons)).unwrap();
    let rows = [
        // Exact id of the first: region_birth 2, surname_birth 2,
        // given_region_year 2, name 2, pinyin 2.
        ("R1", Some(persons[0].id.as_str()), "张伟", "Q"),
        // No id, 李娜: name 1, pinyin 1.
        ("R2", None, "李娜", "Q"),
        // No id, 李纳 (homophone): pinyin 1.
        ("R3", None, "李纳", "Q"),
    ];
    let records = Records::from_batches("tax", &crate::common::tax(&rows)).unwrap();
    let c = count_pairs(&registry, &records, &MatchSettings::default());
    let pairs = |r: BlockingRule| c.rules.iter().find(|x| x.rule == r).unwrap();
    assert_eq!(pairs(BlockingRule::RegionBirth).pairs, 2);
    assert_eq!(pairs(BlockingRule::SurnameBirth).pairs, 2);
    assert_eq!(pairs(BlockingRule::GivenRegionYear).pairs, 2);
    assert_eq!(pairs(BlockingRule::Name).pairs, 3);
    assert_eq!(pairs(BlockingRule::Pinyin).pairs, 4);
    assert_eq!(pairs(BlockingRule::Name).fuzzy_pairs, 1);
    assert_eq!(pairs(BlockingRule::RegionBirth).registry_keys, 2);
    assert_eq!(c.id_hits, 1);
    assert_eq!(c.distinct_pairs, 2 + 1 + 1);
    assert_eq!(c.distinct_fuzzy_pairs, 2);
    // A cap on block sizes removes the large blocks.
    let capped = count_pairs(
        &registry,
        &records,
        &MatchSettings {
            max_block_size: 1,
            ..MatchSettings::default()
        },
    );
    assert_eq!(capped.rules[BlockingRule::Name as usize].pairs, 1);
}

#[test]
fn links_batch_has_the_documented_schema() {
    let t = town();
    let (_, links) = resolve(&t, &[]);
    let batch = links.to_record_batch().unwrap();
    assert_eq!(batch.num_rows(), links.len());
    let schema = batch.schema();
    for (a, b) in schema.fields().iter().zip(links_schema().fields()) {
        assert_eq!(a, b);
    }
    assert_eq!(
        schema
            .metadata()
            .get("hedui.matching.registry_hash")
            .map(String::as_str),
        Some(t.registry.hash())
    );
    assert_eq!(links.summary.records, links.len());
    assert_eq!(links.summary.methods.values().sum::<usize>(), links.len());
    // Most background records are exact; the noisy ones resolve too.
    assert!(links.summary.methods["exact"] > links.len() * 9 / 10);
    assert!(links.summary.methods["fuzzy"] > 0);
}

#[test]
fn one_record_at_a_time() {
    let t = town();
    let records = Records::from_batches("tax", &tax_batches(&t, &[])).unwrap();
    let model = Model::train(&t.registry, &[&records], settings()).unwrap();
    let zw = id(who::ZHANG_WEI);
    let one = |id_number: Option<&str>, name: &str| {
        model.resolve_one(
            &t.registry,
            &RecordInput {
                record_id: "one".into(),
                id_number: id_number.map(str::to_owned),
                name: name.into(),
                ..RecordInput::default()
            },
        )
    };
    let l = one(Some(&zw.to_lowercase()), "張偉");
    assert_eq!(l.method, Method::Exact);
    assert_eq!(l.person_id.unwrap().to_string(), zw);
    let mut typo = zw.clone().into_bytes();
    typo[10] = if typo[10] == b'9' { b'0' } else { typo[10] + 1 };
    let l = one(Some(std::str::from_utf8(&typo).unwrap()), "张伟");
    assert_eq!(l.method, Method::Fuzzy, "{}", l.explanation());
    // A unique name alone, without the source's own records as evidence,
    // stays in the review band: 1 % of records may be an outsider's.
    let l = one(None, "欧阳娜娜");
    assert_eq!(l.method, Method::Possible, "{}", l.explanation());
    assert_eq!(l.person_id.unwrap().to_string(), id(who::RARE));
    assert!(!one(None, "张伟").counted());
    // The id index answers directly.
    let person = t.registry.person(&zw.parse().unwrap()).unwrap();
    assert_eq!(person.name(), "张伟");
    assert_eq!(person.pinyin(), "zhang wei");
    assert_eq!(person.status(), Some("active"));
    assert!(!person.declared());
}

#[test]
fn declared_persons_join_the_registry() {
    let t = town();
    let mut b = RegistryBuilder::new();
    b.add_hukou(&hukou(&t.persons)).unwrap();
    // A spouse registered elsewhere, declared in a request; and a declared
    // member hukou already holds (hukou wins).
    let outsider = id("52020119900303222");
    b.add_declared(outsider.parse().unwrap(), "周 晓梅");
    b.add_declared(id(who::ZHANG_WEI).parse().unwrap(), "张威");
    let registry = b.build();
    assert_eq!(registry.len(), t.persons.len() + 1);
    assert_eq!(registry.stats().declared, 1);
    let p = registry.person(&outsider.parse().unwrap()).unwrap();
    assert!(p.declared());
    assert_eq!(p.name(), "周晓梅");
    assert_eq!(p.region_code(), "520201");
    assert_eq!(p.status(), None);
    assert_eq!(
        registry
            .person(&id(who::ZHANG_WEI).parse().unwrap())
            .unwrap()
            .name(),
        "张伟"
    );
    let records = Records::from_batches(
        "tax",
        &tax_batches(&t, &[("O1", Some(outsider.as_str()), "周晓梅", "Q9")]),
    )
    .unwrap();
    let model = Model::train(&registry, &[&records], settings()).unwrap();
    let links = model.resolve(&registry, &records);
    assert_eq!(links.get("O1").unwrap().method, Method::Exact);
}
