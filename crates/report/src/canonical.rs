//! Canonical JSON and the report hash.
//!
//! The canonical form of a JSON value is compact (no whitespace), with the
//! keys of every object sorted by their UTF-8 bytes, integers written as
//! integers, and every non-integer number rounded to
//! [`FLOAT_DECIMALS`] decimals and written in its shortest round-trip form
//! (`0.999123`, `1.0`; `-0.0` is written `0.0`). Strings are escaped as
//! `serde_json` escapes them (quote, backslash and control characters;
//! everything else as UTF-8).
//!
//! The writer sorts keys itself rather than relying on `serde_json::Map`'s
//! iteration order, so the bytes do not depend on whether some crate in the
//! build enabled serde_json's `preserve_order` feature. It is idempotent:
//! `canonical(parse(canonical(v))) == canonical(v)`, which is what lets
//! [`verify_hash`] recompute a stored report's hash from its text.

use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};
use crate::report::Report;

/// Decimals every non-integer number is rounded to (link scores, match
/// weights in link evidence). Money is never a float.
pub const FLOAT_DECIMALS: usize = 6;

/// The key of the hash in a report object.
pub const HASH_KEY: &str = "report_hash";

/// Rounds a float to [`FLOAT_DECIMALS`] decimals through a fixed decimal
/// formatting, so the same score computed with a different summation order
/// (threads) gives the same number. `-0.0` becomes `0.0`; a non-finite
/// value becomes `None`.
///
/// The result is defined as that text read back; most numbers take an
/// arithmetic path with the same result (see [`round_scaled`]), the rest
/// (near a tie, or beyond a million) the text itself.
pub fn round_float(x: f64) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    let r = match round_scaled(x) {
        Some(r) => r,
        None => round_by_text(x)?,
    };
    Some(if r == 0.0 { 0.0 } else { r })
}

/// `10^FLOAT_DECIMALS`.
const SCALE: f64 = 10u32.pow(FLOAT_DECIMALS as u32) as f64;

// [`round_scaled`]'s bounds (10^6, 2^40, 2^-10) are worked out for six
// decimals: another count needs them worked out again.
const _: () = assert!(FLOAT_DECIMALS == 6);

/// The definition: `x` formatted with [`FLOAT_DECIMALS`] decimals (exact
/// decimal rounding of the binary value) and parsed back.
fn round_by_text(x: f64) -> Option<f64> {
    format!("{x:.prec$}", prec = FLOAT_DECIMALS).parse().ok()
}

/// [`round_by_text`] without the text, where that is provably the same:
/// for `|x| < 10^6`, `y = x·10^6` is below 2^40, so its rounding error is
/// at most 2^-14 and, unless `y`'s fraction is within 2^-10 of one half,
/// the exact product rounds to the same integer `n` as `y` does. The text
/// is then exactly `n·10^-6`, and parsing it gives the float nearest to
/// `n / 10^6` — which is what the (correctly rounded) division `n / 10^6`
/// is, `n` and `10^6` being exact. `None` where the proof does not hold.
fn round_scaled(x: f64) -> Option<f64> {
    if x.abs() >= 1e6 {
        return None;
    }
    let y = x * SCALE;
    let whole = y.trunc();
    // Exact: `y` and its integer part share their exponent's range.
    let frac = (y - whole).abs();
    if (frac - 0.5).abs() <= 1.0 / 1024.0 {
        return None;
    }
    let n = if frac > 0.5 {
        whole + y.signum()
    } else {
        whole
    };
    Some(n / SCALE)
}

/// The value with every non-integer number rounded ([`round_float`]); a
/// non-finite number (which JSON cannot hold) becomes `null`.
pub fn normalise_floats(value: &Value) -> Value {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => n
            .as_f64()
            .and_then(round_float)
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::Array(a) => Value::Array(a.iter().map(normalise_floats).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), normalise_floats(v)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// [`normalise_floats`] in place: no copy of the value.
pub fn normalise_floats_in_place(value: &mut Value) {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
            *value = n
                .as_f64()
                .and_then(round_float)
                .and_then(Number::from_f64)
                .map_or(Value::Null, Value::Number);
        }
        Value::Array(a) => a.iter_mut().for_each(normalise_floats_in_place),
        Value::Object(o) => o.values_mut().for_each(normalise_floats_in_place),
        _ => {}
    }
}

/// The canonical text of any JSON value (see the module docs).
pub fn canonical_value_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// Writes `s` as a JSON string, escaped exactly as `serde_json` escapes
/// it: `"` and `\\`, the control characters with a short form (`\b`,
/// `\t`, `\n`, `\f`, `\r`), every other control character as `\u00xx`
/// (lower-case hex); everything else verbatim.
pub fn write_escaped(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0A => "\\n",
            0x0C => "\\f",
            0x0D => "\\r",
            0x00..=0x1F => "",
            _ => continue,
        };
        // Only ASCII bytes end a run, so `start..i` is on char bounds.
        out.push_str(&s[start..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

pub(crate) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                match n.as_f64().and_then(round_float).and_then(Number::from_f64) {
                    Some(r) => out.push_str(&r.to_string()),
                    None => out.push_str("null"),
                }
            }
        }
        Value::String(s) => write_escaped(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, v);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_escaped(out, k);
                out.push(':');
                write_value(out, &o[k]);
            }
            out.push('}');
        }
    }
}

/// blake3 hex of a report object's canonical JSON **without** its
/// `report_hash` member (whatever that member holds).
pub fn content_hash(value: &Value) -> String {
    let text = match value {
        Value::Object(o) if o.contains_key(HASH_KEY) => {
            let mut o = o.clone();
            o.remove(HASH_KEY);
            canonical_value_json(&Value::Object(o))
        }
        other => canonical_value_json(other),
    };
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// The canonical JSON of a report, `report_hash` included: the bytes
/// written to `<application_id>.json`. The hash covers the same object
/// with `report_hash` removed ([`content_hash`]).
pub fn canonical_json(report: &Report) -> String {
    // Only strings, integers, booleans, floats and string-keyed maps:
    // cannot fail. The same bytes as `canonical_value_json(&report.to_value())`.
    crate::canonical_ser::to_canonical(report, None).expect("a report serialises to JSON")
}

/// Whether a stored report's `report_hash` is the blake3 of the canonical
/// JSON of the rest of it. Whitespace and key order of the text do not
/// matter (the content is canonicalised first); any changed figure does.
///
/// Errors: the text is not JSON ([`Error::Json`]), not an object
/// ([`Error::NotAnObject`]), or has no string `report_hash`
/// ([`Error::MissingHash`], e.g. an error object).
pub fn verify_hash(json: &str) -> Result<bool> {
    let value: Value = serde_json::from_str(json)?;
    let Value::Object(o) = &value else {
        return Err(Error::NotAnObject {
            found: kind_of(&value),
        });
    };
    let Some(Value::String(stated)) = o.get(HASH_KEY) else {
        return Err(Error::MissingHash);
    };
    Ok(*stated == content_hash(&value))
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The definition, whole: the text read back, `-0.0` as `0.0`.
    fn by_text(x: f64) -> Option<f64> {
        if !x.is_finite() {
            return None;
        }
        round_by_text(x).map(|r| if r == 0.0 { 0.0 } else { r })
    }

    fn same(x: f64) -> std::result::Result<(), TestCaseError> {
        prop_assert_eq!(
            round_float(x).map(f64::to_bits),
            by_text(x).map(f64::to_bits),
            "x = {:e}",
            x
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn rounding_is_its_definition_for_any_float(bits in any::<u64>()) {
            same(f64::from_bits(bits))?;
        }

        #[test]
        fn rounding_is_its_definition_for_scores_and_weights(x in -2.0e6f64..2.0e6) {
            same(x)?;
            same(x * 1e-6)?;
        }

        #[test]
        fn rounding_is_its_definition_at_and_beside_ties(n in -999_999_999_999i64..999_999_999_999, ulps in -4i64..=4) {
            let tie = (n as f64 + 0.5) / 1e6;
            let x = f64::from_bits((tie.to_bits() as i64 + ulps) as u64);
            same(x)?;
        }

        #[test]
        fn rounding_is_its_definition_about_the_margin(n in -999_999_999_999i64..999_999_999_999, d in -0.002f64..0.002) {
            same((n as f64 + 0.5 + d) / 1e6)?;
        }
    }

    #[test]
    fn exact_ties_and_edges_are_the_definition() {
        for x in [
            0.0,
            -0.0,
            0.5e-6,
            -0.5e-6,
            1.5e-6,
            2.5e-6,
            0.125,
            0.0000005,
            0.879_547_123,
            -1.6735,
            999_999.999_999_5,
            1e6,
            -1e6,
            1e300,
            f64::MIN_POSITIVE,
            f64::MAX,
        ] {
            same(x).unwrap();
        }
        assert_eq!(round_float(f64::NAN), None);
        assert_eq!(round_float(f64::INFINITY), None);
        assert_eq!(round_float(-1e-9).map(f64::to_bits), Some(0.0f64.to_bits()));
    }
}
