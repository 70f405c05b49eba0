//! Property tests of the canonical writer and the id scrubber.

use hedui_report::canonical::round_float;
use hedui_report::{canonical_value_json, content_hash, scrub_ids};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        "[a-z张伟\"\\\\\n]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,6}", inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The same object with its keys inserted in reverse order.
fn reinsert_reversed(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut m = Map::new();
            for (k, x) in o.iter().rev() {
                m.insert(k.clone(), reinsert_reversed(x));
            }
            Value::Object(m)
        }
        Value::Array(a) => Value::Array(a.iter().map(reinsert_reversed).collect()),
        x => x.clone(),
    }
}

proptest! {
    #[test]
    fn canonical_is_idempotent(v in json_value()) {
        let c = canonical_value_json(&v);
        let back: Value = serde_json::from_str(&c).unwrap();
        prop_assert_eq!(canonical_value_json(&back), c);
    }

    #[test]
    fn canonical_ignores_key_insertion_order(v in json_value()) {
        prop_assert_eq!(canonical_value_json(&reinsert_reversed(&v)), canonical_value_json(&v));
        prop_assert_eq!(content_hash(&reinsert_reversed(&v)), content_hash(&v));
    }

    #[test]
    fn rounding_is_idempotent_and_close(x in -1.0e9f64..1.0e9) {
        let r = round_float(x).unwrap();
        prop_assert_eq!(round_float(r), Some(r));
        prop_assert!((r - x).abs() <= 5.0e-7 * (1.0 + x.abs() * 1e-9));
    }

    #[test]
    fn scrub_leaves_no_clear_id(birth in 19000101u32..20251231, seq in 0u32..999, pre in "[ -~&&[^0-9A-Za-z]]{0,3}", post in "[ -~&&[^0-9A-Za-z]]{0,3}") {
        let body = format!("530302{birth:08}{seq:03}");
        let text = format!("{pre}{body}7{post}");
        let scrubbed = scrub_ids(&text);
        prop_assert!(!scrubbed.contains(&body));
        prop_assert!(scrubbed.contains("530302********"));
    }
}
