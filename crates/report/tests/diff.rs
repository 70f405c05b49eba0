//! The replay diff.

use hedui_report::{canonical_json, diff};
use serde_json::{Value, json};

use crate::common::{dibao_household, report_of};

#[test]
fn identical_reports_have_no_difference() {
    let r = report_of(&dibao_household());
    assert!(diff(&r.to_value(), &r.to_value()).is_empty());
}

#[test]
fn a_changed_month_figure_is_found_with_its_path() {
    let stored: Value =
        serde_json::from_str(&canonical_json(&report_of(&dibao_household()))).unwrap();
    let mut recomputed = stored.clone();
    recomputed["members"][0]["months"][3]["wage_fen"] = json!(12_345);
    recomputed["report_hash"] = json!("0000");
    let d = diff(&stored, &recomputed);
    let paths: Vec<&str> = d.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(paths, ["members[0].months[3].wage_fen", "report_hash"]);
    assert_eq!(d[0].left, Some(json!(0)));
    assert_eq!(d[0].right, Some(json!(12_345)));
    assert_eq!(d[0].to_string(), "members[0].months[3].wage_fen: 0 → 12345");
}

#[test]
fn missing_keys_and_elements_are_absent_on_one_side() {
    let a = json!({"flags": [{"code": "a"}], "x": 1, "a.b": 2});
    let b = json!({"flags": [{"code": "a"}, {"code": "b"}], "y": null, "a.b": 3});
    let d = diff(&a, &b);
    let got: Vec<(String, Option<Value>, Option<Value>)> =
        d.into_iter().map(|x| (x.path, x.left, x.right)).collect();
    assert_eq!(
        got,
        [
            ("[\"a.b\"]".to_owned(), Some(json!(2)), Some(json!(3))),
            ("flags[1]".to_owned(), None, Some(json!({"code": "b"}))),
            ("x".to_owned(), Some(json!(1)), None),
            ("y".to_owned(), None, Some(Value::Null)),
        ]
    );
}
