//! The report JSON: every field of report.md with its type, canonical
//! bytes, the hash.

use hedui_report::{
    Report, build, canonical_json, canonical_value_json, content_hash, error_report, verify_hash,
};
use serde_json::Value;

use crate::common::{
    assets_household, check, dibao_household, empty_household, inputs, kindless_household,
    links_for, report_of,
};

/// A JSON type, for a schema-ish walk.
#[derive(Debug)]
enum T {
    Str,
    Int,
    Num,
    Bool,
    Opt(Box<T>),
    Arr(Box<T>),
    Obj(Vec<(&'static str, T)>),
    /// Any object.
    Map,
}

fn opt(t: T) -> T {
    T::Opt(Box::new(t))
}
fn arr(t: T) -> T {
    T::Arr(Box::new(t))
}

fn record() -> T {
    T::Obj(vec![("source", T::Str), ("record_id", T::Str)])
}

/// The report of report.md, field for field.
fn report_schema() -> T {
    use T::*;
    let month = Obj(vec![
        ("month", Str),
        ("wage_fen", Int),
        ("business_fen", Int),
        ("property_fen", Int),
        ("other_fen", Int),
        ("transfer_in_fen", Int),
        ("transfer_out_fen", Int),
        ("employment_cost_fen", Int),
        ("net_fen", Int),
        (
            "imputed",
            opt(Obj(vec![
                ("from", Str),
                ("source", Str),
                ("record_id", Str),
            ])),
        ),
    ]);
    let member = Obj(vec![
        ("id_number", Str),
        ("name", Str),
        ("relation", Str),
        ("counted", Bool),
        ("window_net_fen", opt(Int)),
        ("months", arr(month)),
        (
            "excluded_income",
            arr(Obj(vec![
                ("source", Str),
                ("record_id", Str),
                ("reason", Str),
                ("amount_fen", Int),
            ])),
        ),
    ]);
    let count_test = || {
        Obj(vec![
            ("value", Int),
            ("limit", Int),
            ("pass", Bool),
            ("records", arr(record())),
        ])
    };
    Obj(vec![
        ("application_id", Str),
        ("region_code", Str),
        ("applied_on", Str),
        ("assistance", Str),
        ("household_kind", Str),
        ("household_size", Int),
        ("window", Obj(vec![("from", Str), ("to", Str)])),
        ("standard_fen", Int),
        ("household_income_fen", Int),
        ("per_capita_income_fen", opt(Int)),
        ("members", arr(member)),
        (
            "asset_tests",
            Obj(vec![
                (
                    "financial",
                    Obj(vec![
                        ("value_fen", Int),
                        ("limit_fen", Int),
                        ("pass", Bool),
                        ("records", arr(record())),
                    ]),
                ),
                ("housing", count_test()),
                ("vehicles", count_test()),
                (
                    "business",
                    Obj(vec![
                        ("value", Int),
                        ("limit", opt(Int)),
                        ("pass", Bool),
                        ("records", arr(record())),
                    ]),
                ),
            ]),
        ),
        ("determinations", arr(Str)),
        ("benefit_fen", opt(Int)),
        (
            "single_person",
            arr(Obj(vec![("id_number", Str), ("benefit_fen", Int)])),
        ),
        (
            "flags",
            arr(Obj(vec![
                ("code", Str),
                ("member", opt(Str)),
                ("evidence", arr(record())),
            ])),
        ),
        (
            "links",
            arr(Obj(vec![
                ("source", Str),
                ("record_id", Str),
                ("member", Str),
                ("method", Str),
                ("score", Num),
                ("counted", Bool),
                ("evidence", Map),
            ])),
        ),
        (
            "inputs",
            Obj(vec![
                (
                    "snapshots",
                    arr(Obj(vec![("source", Str), ("id", Str), ("as_of", Str)])),
                ),
                (
                    "policy",
                    Obj(vec![("region", Str), ("version", Str), ("hash", Str)]),
                ),
                ("matcher", Obj(vec![("hash", Str)])),
                ("engine_version", Str),
            ]),
        ),
        (
            "explain",
            Obj(vec![
                ("notice", Obj(vec![("zh", Str), ("en", Str)])),
                (
                    "determinations",
                    arr(Obj(vec![
                        ("code", Str),
                        ("holds", Bool),
                        (
                            "conditions",
                            arr(Obj(vec![
                                ("name", Str),
                                ("expr", Str),
                                ("holds", Bool),
                                (
                                    "comparison",
                                    opt(Obj(vec![("lhs", Int), ("op", Str), ("rhs", Int)])),
                                ),
                                ("records", arr(record())),
                            ])),
                        ),
                        ("members", arr(Map)),
                        ("failed", arr(Map)),
                        (
                            "trace",
                            Obj(vec![("clause", Str), ("params", Map), ("values", Map)]),
                        ),
                    ])),
                ),
                ("asset_tests", Map),
                ("income", Map),
            ]),
        ),
        ("report_hash", Str),
    ])
}

/// Walks `v` against `t`; returns every mismatch with its path. Keys the
/// schema does not name are allowed (report.md: "more may be added").
fn check_schema(path: &str, v: &Value, t: &T, out: &mut Vec<String>) {
    match (t, v) {
        (T::Opt(_), Value::Null) => {}
        (T::Opt(inner), v) => check_schema(path, v, inner, out),
        (T::Str, Value::String(_)) | (T::Bool, Value::Bool(_)) | (T::Map, Value::Object(_)) => {}
        (T::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => {}
        (T::Num, Value::Number(_)) => {}
        (T::Arr(inner), Value::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                check_schema(&format!("{path}[{i}]"), x, inner, out);
            }
        }
        (T::Obj(fields), Value::Object(o)) => {
            for (k, ft) in fields {
                match o.get(*k) {
                    Some(x) => check_schema(&format!("{path}.{k}"), x, ft, out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (t, v) => out.push(format!("{path}: expected {t:?}, found {v}")),
    }
}

fn assert_schema(report: &Report) {
    let value: Value = serde_json::from_str(&canonical_json(report)).unwrap();
    let mut problems = Vec::new();
    check_schema("", &value, &report_schema(), &mut problems);
    assert!(problems.is_empty(), "schema problems: {problems:#?}");
}

#[test]
fn every_field_of_report_md_is_present_with_its_type() {
    for h in [dibao_household(), assets_household(), empty_household()] {
        assert_schema(&report_of(&h));
    }
}

#[test]
fn dibao_household_figures() {
    let r = report_of(&dibao_household());
    assert_eq!(r.determinations, ["dibao"]);
    assert_eq!(r.household_size, 3);
    assert_eq!(r.standard_fen, 90_000);
    assert_eq!(r.household_income_fen, 210_200);
    assert_eq!(r.per_capita_income_fen, Some(70_067));
    assert_eq!(r.benefit_fen, Some(95_800));
    assert_eq!(r.explain.income.window_total_fen, 2_522_400);
    assert_eq!(r.window.from.to_string(), "2025-03");
    assert_eq!(r.window.to.to_string(), "2026-02");
    let li = &r.members[1];
    assert_eq!(li.window_net_fen, Some(1_682_400));
    let m = &li.months[6];
    assert_eq!(m.wage_fen, 190_000);
    let imputed = m.imputed.as_ref().unwrap();
    assert_eq!(
        (imputed.from.as_str(), imputed.source.as_str()),
        ("social_insurance_base", "social_insurance")
    );
    assert!(li.months[0].imputed.is_none());
    let zhang = &r.members[0];
    assert_eq!(zhang.excluded_income.len(), 1);
    assert_eq!(zhang.excluded_income[0].reason, "other_benefit");
    assert_eq!(zhang.excluded_income[0].amount_fen, 30_000);
    let codes: Vec<&str> = r.flags.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["business", "imputed_wage", "possible_match"]);
    assert_eq!(r.asset_tests.financial.value_fen, 2_300_000);
    assert_eq!(r.asset_tests.financial.limit_fen, 6_480_000);
    assert_eq!(r.asset_tests.housing.value, 1);
    assert_eq!(r.asset_tests.business.limit, None);
    assert_eq!(r.asset_tests.business.entities.len(), 1);
    // The benefit's exact fraction and its two special members.
    let b = r.explain.benefit.as_ref().unwrap();
    assert_eq!(b.special_members.len(), 2);
    assert_eq!(r.explain.notice.zh, hedui_report::NOTICE_ZH);
    assert!(r.explain.notice.zh.contains("审核确认"));
}

#[test]
fn a_refusal_by_assets_is_explained_in_the_report() {
    let r = report_of(&assets_household());
    assert_eq!(r.determinations, ["ineligible"]);
    assert_eq!(r.benefit_fen, None);
    assert!(!r.asset_tests.financial.pass);
    assert!(!r.asset_tests.vehicles.pass);
    assert_eq!(r.asset_tests.vehicles.records[0].record_id, "v-900");
    let inel = r
        .explain
        .determinations
        .iter()
        .find(|d| d.code == "ineligible")
        .unwrap();
    assert!(inel.holds);
    let dibao_failures: Vec<&str> = inel
        .failed
        .iter()
        .filter(|f| f.determination == "dibao")
        .map(|f| f.condition.as_str())
        .collect();
    assert_eq!(dibao_failures, ["financial", "vehicles"]);
    let dibao = r
        .explain
        .determinations
        .iter()
        .find(|d| d.code == "dibao")
        .unwrap();
    let fin = dibao
        .conditions
        .iter()
        .find(|c| c.name == "financial")
        .unwrap();
    let cmp = fin.comparison.as_ref().unwrap();
    assert_eq!(
        (cmp.lhs.0, cmp.op.as_str(), cmp.rhs.0),
        (50_000_000, "<=", 2_160_000)
    );
    // P < S held: income was not the reason.
    let p = dibao
        .conditions
        .iter()
        .find(|c| c.name == "p_below_standard")
        .unwrap();
    assert!(p.holds);
}

#[test]
fn no_counted_member_has_null_per_capita_and_uncomputed_members() {
    let r = report_of(&empty_household());
    assert_eq!(r.household_size, 0);
    assert_eq!(r.per_capita_income_fen, None);
    assert_eq!(r.members[0].window_net_fen, None);
    assert!(r.members[0].months.is_empty());
    let v = r.to_value();
    assert!(v["per_capita_income_fen"].is_null());
    assert!(v["benefit_fen"].is_null());
    assert!(
        r.flags
            .iter()
            .any(|f| f.code == "no_counted_member" && f.member.is_none())
    );
}

#[test]
fn canonical_bytes_are_identical_across_builds() {
    let h = dibao_household();
    let a = canonical_json(&report_of(&h));
    let b = canonical_json(&report_of(&h));
    assert_eq!(a, b);
    // Compact, sorted at the top level.
    assert!(!a.contains('\n') && !a.contains("\": ") && !a.contains(", \""));
    assert!(a.starts_with("{\"application_id\":"));
    assert!(a.ends_with("}"));
    let keys: Vec<String> = match serde_json::from_str::<Value>(&a).unwrap() {
        Value::Object(o) => o.keys().cloned().collect(),
        _ => unreachable!(),
    };
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Canonicalising the canonical text again changes nothing.
    let reparsed: Value = serde_json::from_str(&a).unwrap();
    assert_eq!(canonical_value_json(&reparsed), a);
}

#[test]
fn canonical_bytes_do_not_depend_on_input_record_order() {
    let h = dibao_household();
    let reference = canonical_json(&report_of(&h));

    let mut shuffled = h.clone();
    for m in &mut shuffled.members {
        m.tax.reverse();
        m.social_insurance.reverse();
        m.assets.property.reverse();
        m.link_flags.reverse();
    }
    shuffled.members[0].social_insurance.rotate_left(5);
    let mut links = links_for(&h);
    links.reverse();
    links.rotate_left(7);
    let mut inp = inputs();
    inp.snapshots.reverse();
    let other = build(&check(&shuffled), links, &inp);
    assert_eq!(canonical_json(&other), reference);
}

#[test]
fn link_scores_are_rounded_to_six_decimals() {
    let r = report_of(&dibao_household());
    let possible = r.links.iter().find(|l| l.method == "possible").unwrap();
    assert_eq!(possible.score, 0.871_235);
    assert!(!possible.counted);
    let json = canonical_json(&r);
    assert!(json.contains("\"score\":0.871235"));
    assert!(json.contains("\"weight\":7.123457"));
    assert!(json.contains("\"weight\":3.456789"));
    assert!(json.contains("\"score\":1.0"));
    // A score that differs past the sixth decimal (another summation
    // order) gives the same bytes.
    let h = dibao_household();
    let mut links = links_for(&h);
    for l in &mut links {
        if l.method == "possible" {
            l.score += 1e-12;
        }
    }
    assert_eq!(canonical_json(&build(&check(&h), links, &inputs())), json);
}

#[test]
fn links_and_records_are_sorted() {
    let r = report_of(&dibao_household());
    let keys: Vec<(&str, &str)> = r
        .links
        .iter()
        .map(|l| (l.source.as_str(), l.record_id.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    for test in [
        &r.asset_tests.financial.records,
        &r.asset_tests.housing.records,
    ] {
        let mut s = test.clone();
        s.sort();
        assert_eq!(&s, test);
    }
    let flags: Vec<(&str, Option<&str>)> = r
        .flags
        .iter()
        .map(|f| (f.code.as_str(), f.member.as_deref()))
        .collect();
    let mut sorted = flags.clone();
    sorted.sort();
    assert_eq!(flags, sorted);
    let snaps: Vec<&str> = r
        .inputs
        .snapshots
        .iter()
        .map(|s| s.source.as_str())
        .collect();
    assert_eq!(snaps, ["bank", "hukou", "social_insurance", "tax"]);
}

#[test]
fn the_hash_verifies_and_changes_with_any_figure() {
    let r = report_of(&dibao_household());
    assert!(r.hash_is_valid());
    assert_eq!(r.report_hash.len(), 64);
    let json = canonical_json(&r);
    assert!(verify_hash(&json).unwrap());

    // Pretty-printed (another layout, same content): still verifies.
    let v: Value = serde_json::from_str(&json).unwrap();
    assert!(verify_hash(&serde_json::to_string_pretty(&v).unwrap()).unwrap());
    assert_eq!(content_hash(&v), r.report_hash);

    // One month's wage changed by one fen: the hash no longer verifies.
    let mut changed = v.clone();
    let w = changed["members"][1]["months"][3]["wage_fen"]
        .as_i64()
        .unwrap();
    changed["members"][1]["months"][3]["wage_fen"] = Value::from(w + 1);
    assert!(!verify_hash(&changed.to_string()).unwrap());
    assert_ne!(content_hash(&changed), r.report_hash);

    // A figure changed in the facts gives another hash.
    let mut h = dibao_household();
    h.members[0].assets.bank[0].value = Some(hedui_model::Fen::yuan(20_001));
    assert_ne!(report_of(&h).report_hash, r.report_hash);

    // Other inputs give another hash too.
    let mut inp = inputs();
    inp.engine_version = "0.1.1".to_owned();
    let other = build(
        &check(&dibao_household()),
        links_for(&dibao_household()),
        &inp,
    );
    assert_ne!(other.report_hash, r.report_hash);
}

#[test]
fn verify_hash_rejects_what_is_not_a_report() {
    use hedui_report::Error;
    assert!(matches!(verify_hash("{"), Err(Error::Json { .. })));
    assert!(matches!(
        verify_hash("[1]"),
        Err(Error::NotAnObject { found: "an array" })
    ));
    let e = error_report("A9", "missing_hukou_kind", "no kind").to_json();
    assert!(matches!(verify_hash(&e), Err(Error::MissingHash)));
}

#[test]
fn a_stored_report_reads_back_equal() {
    let r = report_of(&dibao_household());
    let back = Report::from_json(&canonical_json(&r)).unwrap();
    assert_eq!(back, r);
    assert_eq!(canonical_json(&back), canonical_json(&r));
}

#[test]
fn the_error_object_has_the_shape_of_report_md() {
    let h = kindless_household();
    let err = hedui_policy::check(&hedui_policy::PolicySet::reference(), &h).unwrap_err();
    let e = hedui_report::ErrorReport::from_policy_error(&h.application_id, &err);
    let v = e.to_value();
    assert_eq!(v["application_id"], "APP-2026-0003");
    assert_eq!(v["error"]["code"], "missing_hukou_kind");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hukou_kind")
    );
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        e.to_json(),
        format!(
            "{{\"application_id\":\"APP-2026-0003\",\"error\":{{\"code\":\"missing_hukou_kind\",\"message\":{}}}}}",
            Value::String(err.to_string())
        )
    );
}

#[test]
fn the_files_a_batch_writes_read_back() {
    use hedui_report::Outcome;
    let dir = tempfile::tempdir().unwrap();
    let outcomes = [
        Outcome::Report(Box::new(report_of(&dibao_household()))),
        Outcome::of_check(
            "APP-2026-0003",
            &hedui_policy::check(&hedui_policy::PolicySet::reference(), &kindless_household()),
            vec![],
            &inputs(),
        ),
    ];
    for o in &outcomes {
        let path = dir.path().join(format!("{}.json", o.application_id()));
        std::fs::write(&path, o.to_json()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let back = Outcome::from_json(&text).unwrap();
        assert_eq!(&back, o);
        if let Outcome::Report(_) = o {
            assert!(verify_hash(&text).unwrap());
        }
    }
    assert!(matches!(outcomes[1], Outcome::Error(ref e) if e.code == "missing_hukou_kind"));
}

#[test]
fn one_serialisation_gives_the_sealed_bytes_and_hash() {
    for h in [dibao_household(), assets_household(), empty_household()] {
        let sealed = report_of(&h);
        let (report, json) = hedui_report::build_sealed(&check(&h), links_for(&h), &inputs());
        assert_eq!(report, sealed);
        assert_eq!(json, canonical_json(&sealed));
        assert!(verify_hash(&json).unwrap());
    }
}
