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

proptest! {
    /// Strings are escaped byte for byte as serde_json escapes them.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them(s in any::<String>()) {
        let mut out = String::new();
        hedui_report::canonical::write_escaped(&mut out, &s);
        prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
    }

    /// The direct writer gives the bytes of the `Value` path for any value
    /// (control characters, floats, nesting, key order included).
    #[test]
    fn the_direct_writer_matches_the_value_path(v in json_value(), s in "\\PC{0,8}|[\\x00-\\x1f]{1,4}") {
        let mut v = v;
        if let Value::Object(o) = &mut v {
            o.insert(s.clone(), Value::String(s));
        }
        prop_assert_eq!(
            hedui_report::to_canonical(&v, None).unwrap(),
            canonical_value_json(&v)
        );
    }
}

/// On whole reports: the direct writer and the direct hash give the bytes
/// and the hash of the `Value` path, for every report the golden cases of
/// the repository hold (every determination and flag).
#[test]
fn the_direct_writer_matches_the_value_path_on_every_golden_report() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden");
    let mut seen = 0;
    for case in std::fs::read_dir(&root).unwrap() {
        let expected = case.unwrap().path().join("expected");
        let Ok(files) = std::fs::read_dir(&expected) else {
            continue;
        };
        for f in files {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            let Ok(hedui_report::Outcome::Report(r)) = hedui_report::Outcome::from_json(&text)
            else {
                continue;
            };
            let value = r.to_value();
            assert_eq!(r.to_json(), canonical_value_json(&value));
            assert_eq!(r.content_hash(), content_hash(&value));
            assert_eq!(r.to_json(), text.trim_end());
            seen += 1;
        }
    }
    assert!(seen >= 40, "only {seen} golden reports found");
}

/// The plain reference of `escape`: mask over chars, then entity-escape.
fn escape_reference(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let idc = |c: char| c.is_ascii_digit() || c == 'X' || c == 'x';
    let mut scrubbed = String::new();
    let mut i = 0;
    while i < chars.len() {
        if idc(chars[i]) {
            let start = i;
            while i < chars.len() && idc(chars[i]) {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let bounded = (start == 0 || !chars[start - 1].is_ascii_alphanumeric())
                && (i == chars.len() || !chars[i].is_ascii_alphanumeric());
            let n = run.len();
            let id_like = (15..=18).contains(&n)
                && run[..n - 1].bytes().all(|b| b.is_ascii_digit())
                && idc(run.chars().last().unwrap_or(' '));
            if bounded && id_like {
                scrubbed.push_str(&hedui_model::id::mask(&run));
            } else {
                scrubbed.push_str(&run);
            }
        } else {
            scrubbed.push(chars[i]);
            i += 1;
        }
    }
    scrubbed
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

proptest! {
    #[test]
    fn escape_is_mask_then_entities(text in "([0-9]{14,19}|[xX]|[张伟&<>\"' a-z]|5303021981012141[0-9][0-9xX]){0,8}") {
        prop_assert_eq!(hedui_report::escape(&text), escape_reference(&text));
    }
}
