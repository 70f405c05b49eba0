//! Exact numbers that are not money: ratios (倍数, 比例) and probabilities
//! in parts per million, plus the one rounding rule on `i128`.
//!
//! A policy factor such as `low_income_factor = 1.5` or `special_increment =
//! 20%` is held as a reduced fraction of integers, so that `P < 1.5 × S`
//! becomes `2 × W < 3 × lookback_months × S × n` and nothing is ever
//! approximated.

use std::fmt;

use serde::{Serialize, Serializer};

/// A non-negative exact ratio `num / den`, always reduced, `den > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: u64,
    den: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ratio {
    /// `num / den`, reduced; `None` when `den` is 0.
    pub fn new(num: u64, den: u64) -> Option<Ratio> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Ratio {
            num: num / g,
            den: den / g,
        })
    }

    /// A whole number.
    pub fn whole(n: u64) -> Ratio {
        Ratio { num: n, den: 1 }
    }

    /// Numerator (reduced).
    pub fn num(self) -> u64 {
        self.num
    }

    /// Denominator (reduced, positive).
    pub fn den(self) -> u64 {
        self.den
    }

    /// Numerator as `i128`, for cross-multiplication.
    pub fn num_i128(self) -> i128 {
        i128::from(self.num)
    }

    /// Denominator as `i128`, for cross-multiplication.
    pub fn den_i128(self) -> i128 {
        i128::from(self.den)
    }

    /// Parses `"1.5"`, `"3/2"` or `"20%"` exactly (at most 9 decimals).
    pub fn parse(text: &str) -> Result<Ratio, String> {
        let t = text.trim();
        let bad =
            || format!("not an exact ratio: {text:?} (write e.g. \"1.5\", \"3/2\" or \"20%\")");
        if let Some((n, d)) = t.split_once('/') {
            let n = parse_digits(n.trim()).ok_or_else(bad)?;
            let d = parse_digits(d.trim()).ok_or_else(bad)?;
            return Ratio::new(n, d)
                .ok_or_else(|| format!("ratio {text:?} has a zero denominator"));
        }
        let (body, percent) = match t.strip_suffix('%') {
            Some(b) => (b.trim(), true),
            None => (t, false),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty()) || frac.len() > 9 {
            return Err(bad());
        }
        let int_v = if int.is_empty() {
            0
        } else {
            parse_digits(int).ok_or_else(bad)?
        };
        let frac_v = if frac.is_empty() {
            0
        } else {
            parse_digits(frac).ok_or_else(bad)?
        };
        let scale = 10u64.pow(frac.len() as u32);
        let num = int_v
            .checked_mul(scale)
            .and_then(|v| v.checked_add(frac_v))
            .ok_or_else(bad)?;
        let den = if percent { scale * 100 } else { scale };
        Ratio::new(num, den).ok_or_else(bad)
    }
}

fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `3/2`, or `24` for a whole number.
impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// `{"num": 3, "den": 2}`.
impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Ratio", 2)?;
        st.serialize_field("num", &self.num)?;
        st.serialize_field("den", &self.den)?;
        st.end()
    }
}

/// A probability in parts per million (0 to 1 000 000): the identity
/// resolution thresholds, held as integers so that no float is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Ppm(u32);

impl Ppm {
    /// Certainty.
    pub const ONE: Ppm = Ppm(1_000_000);

    /// From parts per million; `None` above 1 000 000.
    pub fn new(ppm: u32) -> Option<Ppm> {
        (ppm <= 1_000_000).then_some(Ppm(ppm))
    }

    /// Parts per million.
    pub fn get(self) -> u32 {
        self.0
    }

    /// Parses a probability written as a decimal string between 0 and 1
    /// with at most six decimals (`"0.99"` → 990 000).
    pub fn parse(text: &str) -> Result<Ppm, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "not a probability: {text:?} (write a decimal between 0 and 1 with at most six decimals, e.g. \"0.99\")"
            )
        };
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if (int.is_empty() && frac.is_empty()) || frac.len() > 6 {
            return Err(bad());
        }
        let int_v = if int.is_empty() {
            0
        } else {
            parse_digits(int).ok_or_else(bad)?
        };
        let frac_v = if frac.is_empty() {
            0
        } else {
            parse_digits(frac).ok_or_else(bad)?
        };
        let ppm = int_v
            .checked_mul(1_000_000)
            .and_then(|v| v.checked_add(frac_v * 10u64.pow(6 - frac.len() as u32)))
            .ok_or_else(bad)?;
        u32::try_from(ppm).ok().and_then(Ppm::new).ok_or_else(bad)
    }
}

/// `0.99`: the shortest exact decimal.
impl fmt::Display for Ppm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.0 / 1_000_000;
        let frac = self.0 % 1_000_000;
        if frac == 0 {
            return write!(f, "{int}");
        }
        let digits = format!("{frac:06}");
        write!(f, "{int}.{}", digits.trim_end_matches('0'))
    }
}

/// `num / den` rounded half up (halves away from zero), `den > 0`: the same
/// rule as [`hedui_model::Fen::div_round_half_up`], on `i128` for the
/// benefit formulas whose exact numerator and denominator are products.
pub fn div_round_half_up(num: i128, den: i128) -> i128 {
    assert!(den > 0, "division by a non-positive denominator");
    if num >= 0 {
        (2 * num + den) / (2 * den)
    } else {
        -((-2 * num + den) / (2 * den))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_parse_exactly() {
        assert_eq!(Ratio::parse("1.5"), Ok(Ratio::new(3, 2).unwrap()));
        assert_eq!(Ratio::parse("3/2"), Ok(Ratio::new(3, 2).unwrap()));
        assert_eq!(Ratio::parse("20%"), Ok(Ratio::new(1, 5).unwrap()));
        assert_eq!(Ratio::parse("0.20"), Ok(Ratio::new(1, 5).unwrap()));
        assert_eq!(Ratio::parse("24"), Ok(Ratio::whole(24)));
        assert!(Ratio::parse("1/0").is_err());
        assert!(Ratio::parse("-1").is_err());
        assert!(Ratio::parse("1e3").is_err());
        assert!(Ratio::parse("").is_err());
        assert_eq!(Ratio::new(3, 2).unwrap().to_string(), "3/2");
    }

    #[test]
    fn probabilities_parse_to_ppm() {
        assert_eq!(Ppm::parse("0.99").unwrap().get(), 990_000);
        assert_eq!(Ppm::parse("0.8").unwrap().get(), 800_000);
        assert_eq!(Ppm::parse("1").unwrap(), Ppm::ONE);
        assert!(Ppm::parse("1.01").is_err());
        assert!(Ppm::parse("0.1234567").is_err());
        assert_eq!(Ppm::parse("0.99").unwrap().to_string(), "0.99");
    }

    #[test]
    fn rounding() {
        assert_eq!(div_round_half_up(5, 2), 3);
        assert_eq!(div_round_half_up(-5, 2), -3);
        assert_eq!(div_round_half_up(4, 3), 1);
    }
}
