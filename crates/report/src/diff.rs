//! Differences between two reports, for `hedui replay`: the stored report
//! against the one recomputed from the inputs it names.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

/// One difference: where, and the value on each side (`None`: absent on
/// that side — a key missing, or an array shorter).
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// `members[0].months[3].wage_fen`; a key that is not a plain
    /// identifier is quoted: `detail["a.b"]`. Empty for the root.
    pub path: String,
    /// The left value (the first argument of [`diff`]).
    pub left: Option<Value>,
    /// The right value.
    pub right: Option<Value>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| match v {
            Some(v) => crate::canonical::canonical_value_json(v),
            None => "(absent)".to_owned(),
        };
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        write!(f, "{path}: {} → {}", show(&self.left), show(&self.right))
    }
}

fn plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with(|c: char| c.is_ascii_digit())
}

fn key_path(base: &str, key: &str) -> String {
    if plain_key(key) {
        if base.is_empty() {
            key.to_owned()
        } else {
            format!("{base}.{key}")
        }
    } else {
        format!("{base}[{}]", Value::String(key.to_owned()))
    }
}

fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<Difference>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = key_path(path, k);
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => walk(&p, l, r, out),
                    (l, r) => out.push(Difference {
                        path: p,
                        left: l.cloned(),
                        right: r.cloned(),
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let p = format!("{path}[{i}]");
                match (x.get(i), y.get(i)) {
                    (Some(l), Some(r)) => walk(&p, l, r, out),
                    (l, r) => out.push(Difference {
                        path: p,
                        left: l.cloned(),
                        right: r.cloned(),
                    }),
                }
            }
        }
        _ if a == b => {}
        _ => out.push(Difference {
            path: path.to_owned(),
            left: Some(a.clone()),
            right: Some(b.clone()),
        }),
    }
}

/// Every difference between two JSON values, in document order: objects are
/// compared key by key (in sorted key order), arrays index by index. Two
/// identical values give an empty list. `report_hash` is compared like any
/// other field, so two reports that differ anywhere also differ there.
pub fn diff(a: &Value, b: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    walk("", a, b, &mut out);
    out
}
