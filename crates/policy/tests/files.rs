//! Policy files: parsing, inheritance, selection by region and date, hashes.

use hedui_model::Fen;
use hedui_model::codes::VehicleKind;
use hedui_policy::{Error, PolicySet, Ppm, Ratio, RigidExpenseForm, load_dir};

use crate::common::d;

const REFERENCE: &str = include_str!("../../../fixtures/policies/reference.toml");
const YUNNAN: &str = include_str!("fixtures/yunnan.toml");
const QUJING: &str = include_str!("fixtures/qujing.toml");

/// The reference hashes reports cite. A change here changes every report:
/// only ever on purpose, with the canonical form's tag bumped.
const REFERENCE_2021_HASH: &str =
    "ffc9f951bf2b3cde11b4d0896828c3535a931c0c64d01b95b438921f8c6a2af4";
const REFERENCE_2026_HASH: &str =
    "6000e7459ea49632bd5d10d3194a2817d3c3e885182c3d891d46b4745b583ece";

fn all() -> PolicySet {
    PolicySet::parse([
        ("qujing.toml", QUJING),
        ("reference.toml", REFERENCE),
        ("yunnan.toml", YUNNAN),
    ])
    .unwrap()
}

#[test]
fn reference_policy_has_the_rules_defaults() {
    let set = PolicySet::reference();
    assert_eq!(set.policies().len(), 1);
    let p = &set.policies()[0];
    assert_eq!(p.region, "");
    assert_eq!(p.versions.len(), 2);
    let v = &p.versions[0].params;
    assert_eq!(v.lookback_months, 12);
    assert_eq!(v.standard.urban, Fen(90_000));
    assert_eq!(v.standard.rural, Fen(70_000));
    assert_eq!(v.link_threshold, Ppm::new(990_000).unwrap());
    assert_eq!(v.review_threshold, Ppm::new(800_000).unwrap());
    assert_eq!(v.financial_months, 24);
    assert_eq!(v.max_residential, 1);
    assert_eq!(
        v.allowed_vehicle_kinds,
        [
            VehicleKind::Motorcycle,
            VehicleKind::Agricultural,
            VehicleKind::DisabilityMobility
        ]
    );
    assert_eq!(v.business_capital_limit, None);
    assert_eq!(v.low_income_factor, Ratio::new(3, 2).unwrap());
    assert_eq!(v.rigid_expense, RigidExpenseForm::Seed);
    assert_eq!(v.special_increment, Ratio::new(1, 5).unwrap());
    assert_eq!(v.tekun_minor_age, 18);
    assert_eq!(v.employment_cost, Fen(30_000));
    assert_eq!(v.gradual_exit_months, 6);
    assert_eq!(v.medical_alert(v.standard.urban), Fen(2 * 12 * 90_000));
    assert!(v.exclude_resident_pension);
}

#[test]
fn reference_versions_differ_only_in_resident_pension_exclusion() {
    let set = PolicySet::reference();
    let p = &set.policies()[0];
    let (a, b) = (&p.versions[0], &p.versions[1]);
    assert_eq!(a.effective_from, d("2021-07-01"));
    assert_eq!(b.effective_from, d("2026-01-01"));
    let mut b_params = b.params.clone();
    assert!(!b_params.exclude_resident_pension);
    b_params.exclude_resident_pension = true;
    assert_eq!(a.params, b_params);
}

#[test]
fn reference_hashes_are_stable() {
    let set = PolicySet::reference();
    let p = &set.policies()[0];
    assert_eq!(p.versions[0].hash.to_hex(), REFERENCE_2021_HASH);
    assert_eq!(p.versions[1].hash.to_hex(), REFERENCE_2026_HASH);
    assert_eq!(
        blake3::hash(p.versions[0].canonical_json().as_bytes())
            .to_hex()
            .to_string(),
        REFERENCE_2021_HASH
    );
}

#[test]
fn canonical_form_is_sorted_compact_json_of_resolved_values() {
    let set = PolicySet::reference();
    let json = set.policies()[0].versions[0].canonical_json();
    assert!(json.starts_with(r#"{"effective_from":"2021-07-01","format":"hedui.policy.v1","name":"reference","params":{"allowed_vehicle_kinds":["motorcycle","agricultural","disability_mobility"]"#), "{json}");
    assert!(json.contains(r#""standard_fen":{"rural":70000,"urban":90000}"#));
    assert!(json.contains(r#""low_income_factor":{"den":2,"num":3}"#));
    assert!(json.contains(r#""business_capital_limit_fen":null"#));
    assert!(!json.contains(' '));
}

#[test]
fn hash_changes_when_a_parameter_changes() {
    let base = PolicySet::reference();
    let changed_text = REFERENCE.replace(
        r#"employment_cost = "300.00""#,
        r#"employment_cost = "300.01""#,
    );
    assert_ne!(changed_text, REFERENCE);
    let changed = PolicySet::parse([("reference.toml", changed_text.as_str())]).unwrap();
    for (a, b) in base.policies()[0]
        .versions
        .iter()
        .zip(&changed.policies()[0].versions)
    {
        assert_ne!(a.hash, b.hash);
    }
}

#[test]
fn hash_ignores_free_text_layout_and_spelling_of_equal_values() {
    let base = PolicySet::reference();
    let respelled = REFERENCE
        .replace(r#"note = "14th Five-Year Plan: the resident scheme's basic pension is not income""#, r#"note = "another note""#)
        .replace(r#"low_income_factor = "3/2""#, r#"low_income_factor = "1.50""#)
        .replace(r#"special_increment = "20%""#, r#"special_increment = "0.2""#)
        .replace(r#"urban = "900.00""#, r#"urban = "900""#)
        .replace(
            r#"allowed_vehicle_kinds = ["motorcycle", "agricultural", "disability_mobility"]"#,
            r#"allowed_vehicle_kinds = ["残疾人专用车", "motorcycle", "agricultural", "motorcycle"]"#,
        );
    let other = PolicySet::parse([("reference.toml", respelled.as_str())]).unwrap();
    assert_eq!(
        base.policies()[0].versions[0].hash,
        other.policies()[0].versions[0].hash
    );
}

#[test]
fn regional_file_inherits_from_its_base_at_each_versions_date() {
    let set = all();
    let yunnan = set.policy_for("530102").unwrap();
    assert_eq!(yunnan.name, "yunnan");
    let v2024 = &yunnan.versions[0];
    assert_eq!(v2024.params.standard.urban, Fen(95_000));
    assert_eq!(v2024.params.standard.rural, Fen(76_000));
    // Base in force on 2024-01-01 is reference 2021-07-01.
    assert!(v2024.params.exclude_resident_pension);
    assert_eq!(v2024.params.employment_cost, Fen(30_000));
    let v2026 = &yunnan.versions[1];
    // Base in force on 2026-07-01 is reference 2026-01-01; own overrides stay.
    assert!(!v2026.params.exclude_resident_pension);
    assert_eq!(v2026.params.standard.urban, Fen(95_000));
    assert_eq!(v2026.params.employment_cost, Fen(35_000));
    // Chained: qujing ← yunnan ← reference.
    let qujing = set.policy_for("530302").unwrap();
    let q = &qujing.versions[0].params;
    assert_eq!(q.standard.urban, Fen(95_000));
    assert_eq!(q.business_capital_limit, Some(Fen(10_000_000)));
    assert_eq!(
        q.rigid_expense,
        RigidExpenseForm::National2025 {
            disposable_income_per_year: Fen(4_800_000),
            expense_ratio: Ratio::new(1, 2).unwrap()
        }
    );
    // A regional version has its own hash.
    assert_ne!(
        v2024.hash,
        set.policy_for("110101").unwrap().versions[0].hash
    );
}

#[test]
fn version_in_force_is_the_latest_effective_on_or_before_the_date() {
    let set = PolicySet::reference();
    let on = |s: &str| set.select("530302", d(s)).unwrap().effective_from;
    assert_eq!(on("2021-07-01"), d("2021-07-01"));
    assert_eq!(on("2025-12-31"), d("2021-07-01"));
    assert_eq!(on("2026-01-01"), d("2026-01-01"));
    assert_eq!(on("2030-05-05"), d("2026-01-01"));
}

#[test]
fn a_date_before_the_earliest_version_is_no_policy_in_force() {
    let set = PolicySet::reference();
    let err = set.select("530302", d("2021-06-30")).unwrap_err();
    assert_eq!(err.code(), "no_policy_in_force");
    assert!(matches!(err, Error::NoPolicyInForce { earliest, .. } if earliest == d("2021-07-01")));
}

#[test]
fn longest_prefix_wins_and_never_falls_back() {
    let set = all();
    let pick = |region: &str, on: &str| {
        set.select(region, d(on))
            .map(|v| (v.name.clone(), v.effective_from))
    };
    assert_eq!(
        pick("530302", "2025-02-01").unwrap(),
        ("qujing".to_owned(), d("2025-01-01"))
    );
    assert_eq!(
        pick("530102", "2024-06-01").unwrap(),
        ("yunnan".to_owned(), d("2024-01-01"))
    );
    assert_eq!(
        pick("110101", "2024-06-01").unwrap(),
        ("reference".to_owned(), d("2021-07-01"))
    );
    // 5303 has its own policy, which starts in 2025: no fallback to 53 or "".
    assert_eq!(
        pick("530302", "2024-06-01").unwrap_err().code(),
        "no_policy_in_force"
    );
    assert_eq!(
        pick("530102", "2023-12-31").unwrap_err().code(),
        "no_policy_in_force"
    );
}

#[test]
fn a_region_no_policy_covers_is_unknown_region() {
    let set = PolicySet::parse([("yunnan.toml", YUNNAN), ("reference.toml", REFERENCE)]).unwrap();
    let only_53 = PolicySet::parse([(
        "only.toml",
        "name = \"only\"\nregion = \"53\"\n[[version]]\neffective_from = 2021-01-01\n",
    )]);
    // A file without base must set every parameter.
    assert!(only_53.unwrap_err().to_string().contains("lookback_months"));
    assert!(set.select("110101", d("2025-01-01")).is_ok());
    let no_catch_all = PolicySet::parse([(
        "ref53.toml",
        REFERENCE
            .replace("region = \"\"", "region = \"53\"")
            .as_str(),
    )])
    .unwrap();
    let err = no_catch_all.select("110101", d("2025-01-01")).unwrap_err();
    assert_eq!(err.code(), "unknown_region");
}

#[test]
fn by_hash_finds_a_version_for_replay() {
    let set = all();
    let v = set.select("530102", d("2024-06-01")).unwrap();
    let found = set.by_hash(&v.hash.to_hex()).unwrap();
    assert_eq!(found, v);
    assert!(set.by_hash("00").is_none());
}

#[test]
fn load_dir_reads_toml_files_and_equals_the_pure_parser() {
    let shipped = load_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/policies"
    ))
    .unwrap();
    assert_eq!(
        shipped.policies()[0].versions,
        PolicySet::reference().policies()[0].versions
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reference.toml"), REFERENCE).unwrap();
    std::fs::write(dir.path().join("yunnan.toml"), YUNNAN).unwrap();
    std::fs::write(dir.path().join("README.md"), "not a policy").unwrap();
    let set = load_dir(dir.path()).unwrap();
    assert_eq!(set.policies().len(), 2);
    let err = load_dir(dir.path().join("missing")).unwrap_err();
    assert_eq!(err.code(), "policy_read");
}

mod errors {
    use super::*;

    fn parse_ref(text: &str) -> Error {
        PolicySet::parse([("policies/bad.toml", text)]).unwrap_err()
    }

    #[test]
    fn an_unknown_key_is_refused_naming_file_and_key() {
        let text = REFERENCE.replace(
            "max_residential = 1",
            "max_residential = 1\nmax_residences = 2",
        );
        let e = parse_ref(&text);
        let msg = e.to_string();
        assert!(msg.starts_with("policies/bad.toml:"), "{msg}");
        assert!(msg.contains("max_residences"), "{msg}");
        assert_eq!(e.code(), "policy_invalid");
    }

    #[test]
    fn money_must_be_a_yuan_string() {
        let e =
            parse_ref(&REFERENCE.replace(r#"employment_cost = "300.00""#, "employment_cost = 300"));
        let msg = e.to_string();
        assert!(msg.contains("version[2021-07-01].employment_cost"), "{msg}");
        assert!(msg.contains("\"900.00\""), "{msg}");
        let e = parse_ref(&REFERENCE.replace(r#"urban = "900.00""#, r#"urban = "900.005""#));
        assert!(
            e.to_string().contains("version[2021-07-01].standard.urban"),
            "{e}"
        );
        let e = parse_ref(&REFERENCE.replace(r#"urban = "900.00""#, r#"urban = 900.0"#));
        assert!(e.to_string().contains("found a float"), "{e}");
    }

    #[test]
    fn probabilities_and_ratios_are_never_floats() {
        let e =
            parse_ref(&REFERENCE.replace(r#"link_threshold = "0.99""#, "link_threshold = 0.99"));
        assert!(
            e.to_string().contains("version[2021-07-01].link_threshold"),
            "{e}"
        );
        let e = parse_ref(
            &REFERENCE.replace(r#"low_income_factor = "3/2""#, "low_income_factor = 1.5"),
        );
        assert!(e.to_string().contains("low_income_factor"), "{e}");
        let e = parse_ref(&REFERENCE.replace(
            r#"review_threshold = "0.80""#,
            r#"review_threshold = "0.995""#,
        ));
        assert!(e.to_string().contains("above link_threshold"), "{e}");
    }

    #[test]
    fn bad_codes_and_forms_name_their_key() {
        let e = parse_ref(&REFERENCE.replace(
            r#""motorcycle", "agricultural""#,
            r#""motorcycle", "spaceship""#,
        ));
        assert!(e.to_string().contains("allowed_vehicle_kinds"), "{e}");
        assert!(e.to_string().contains("spaceship"), "{e}");
        let e = parse_ref(&REFERENCE.replace(r#"form = "seed""#, r#"form = "national_2025""#));
        assert!(
            e.to_string()
                .contains("rigid_expense.disposable_income_per_year"),
            "{e}"
        );
        let e = parse_ref(&REFERENCE.replace(r#"form = "seed""#, r#"form = "other""#));
        assert!(e.to_string().contains("rigid_expense.form"), "{e}");
    }

    #[test]
    fn versions_must_increase() {
        let text = REFERENCE.replace("effective_from = 2026-01-01", "effective_from = 2021-07-01");
        let e = parse_ref(&text);
        assert!(e.to_string().contains("strictly increasing"), "{e}");
        let e = parse_ref(&REFERENCE.replace(
            "effective_from = 2026-01-01",
            "effective_from = 2026-01-01T10:00:00",
        ));
        assert!(e.to_string().contains("version[2].effective_from"), "{e}");
    }

    #[test]
    fn bad_region_or_name() {
        let e = parse_ref(&REFERENCE.replace("region = \"\"", "region = \"53a\""));
        assert!(e.to_string().contains("region"), "{e}");
        let e =
            parse_ref(&REFERENCE.replace("name = \"reference\"", "name = \"Reference Policy\""));
        assert!(e.to_string().contains("name"), "{e}");
        let e = parse_ref("this is = not toml [");
        assert_eq!(e.code(), "policy_invalid");
        assert!(e.to_string().starts_with("policies/bad.toml:"));
    }

    #[test]
    fn duplicates_bases_and_cycles() {
        let e = PolicySet::parse([("a.toml", REFERENCE), ("b.toml", REFERENCE)]).unwrap_err();
        assert_eq!(e.code(), "policy_duplicate");
        assert!(e.to_string().contains("a.toml"), "{e}");
        let other_name = REFERENCE.replace("name = \"reference\"", "name = \"copy\"");
        let e =
            PolicySet::parse([("a.toml", REFERENCE), ("b.toml", other_name.as_str())]).unwrap_err();
        assert!(e.to_string().contains("region"), "{e}");
        let e = PolicySet::parse([("yunnan.toml", YUNNAN)]).unwrap_err();
        assert_eq!(e.code(), "policy_base");
        assert!(e.to_string().contains("no loaded policy"), "{e}");
        let a = "name = \"a\"\nregion = \"1\"\nbase = \"b\"\n[[version]]\neffective_from = 2022-01-01\n";
        let b = "name = \"b\"\nregion = \"2\"\nbase = \"a\"\n[[version]]\neffective_from = 2022-01-01\n";
        let e = PolicySet::parse([("a.toml", a), ("b.toml", b)]).unwrap_err();
        assert!(e.to_string().contains("cycle"), "{e}");
        let early = YUNNAN.replace("effective_from = 2024-01-01", "effective_from = 2020-01-01");
        let e = PolicySet::parse([
            ("reference.toml", REFERENCE),
            ("yunnan.toml", early.as_str()),
        ])
        .unwrap_err();
        assert!(
            e.to_string().contains("no version in force on 2020-01-01"),
            "{e}"
        );
    }
}
