//! A batch's summary.json.

use hedui_policy::PolicySet;
use hedui_report::{Outcome, Summary, canonical_value_json, summary};

use crate::common::{
    assets_household, dibao_household, inputs, kindless_household, links_for, report_of,
};

#[test]
fn counts_per_determination_flag_and_error_with_each_hash() {
    let dibao = report_of(&dibao_household());
    let refused = report_of(&assets_household());
    let kindless = kindless_household();
    let error = Outcome::of_check(
        &kindless.application_id,
        &hedui_policy::check(&PolicySet::reference(), &kindless),
        links_for(&kindless),
        &inputs(),
    );
    let outcomes = vec![
        Outcome::Report(Box::new(refused.clone())),
        error,
        Outcome::Report(Box::new(dibao.clone())),
    ];
    let s = summary(&outcomes);
    assert_eq!(s["applications"], 3);
    assert_eq!(s["reports"], 2);
    assert_eq!(s["errors"], 1);
    assert_eq!(s["determinations"]["dibao"], 1);
    assert_eq!(s["determinations"]["ineligible"], 1);
    assert_eq!(s["determinations"]["low_income"], 0);
    assert_eq!(s["flags"]["imputed_wage"], 1);
    assert_eq!(s["flags"]["staff_relative"], 0);
    assert_eq!(s["error_codes"]["missing_hukou_kind"], 1);
    let results = s["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["application_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["APP-2026-0001", "APP-2026-0002", "APP-2026-0003"]);
    assert_eq!(results[0]["report_hash"], dibao.report_hash.as_str());
    assert_eq!(results[1]["report_hash"], refused.report_hash.as_str());
    assert_eq!(results[2]["error"], "missing_hukou_kind");

    // The order of the batch does not matter.
    let mut reversed = outcomes.clone();
    reversed.reverse();
    assert_eq!(
        canonical_value_json(&summary(&reversed)),
        canonical_value_json(&s)
    );
    // Incremental and at once agree.
    let mut b = Summary::new();
    for o in &outcomes {
        b.add(o);
    }
    assert_eq!(b.to_value(), s);
}
