//! Money (金额) in fen (分), exact.
//!
//! Departments send yuan with two decimals: Decimal128(p, 2) in Arrow and
//! Parquet, a decimal string such as `1234.50` in CSV. [`Fen`] parses both
//! without ever passing through a float; a value with fractions of a fen
//! (`1.005`) is refused rather than rounded, because money must be exact.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Deserialize, Serialize};

/// An amount of money in fen (1 yuan = 100 fen).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

/// Why a money value could not be read exactly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a decimal number of the form `-1234.56`.
    #[error("not a decimal amount: {0:?}")]
    Syntax(String),
    /// More than two decimals that are not zero: fractions of a fen.
    #[error("amount {0:?} has fractions of a fen")]
    SubFen(String),
    /// Beyond the range of i64 fen.
    #[error("amount {0:?} is out of range")]
    Overflow(String),
}

impl Fen {
    /// Zero.
    pub const ZERO: Fen = Fen(0);

    /// From whole yuan.
    pub const fn yuan(y: i64) -> Fen {
        Fen(y * 100)
    }

    /// Parses a decimal string in yuan: optional sign, digits, optional
    /// point and decimals (`1234`, `1234.5`, `-0.50`, `+3.`); surrounding
    /// spaces are ignored; trailing zero decimals beyond two are accepted.
    pub fn parse_yuan(text: &str) -> Result<Fen, MoneyError> {
        let err = || MoneyError::Syntax(text.to_owned());
        let s = text.trim();
        let (neg, s) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(err());
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        if frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0') {
            return Err(MoneyError::SubFen(text.to_owned()));
        }
        let overflow = || MoneyError::Overflow(text.to_owned());
        let mut v: i64 = 0;
        for b in int.bytes() {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(b - b'0')))
                .ok_or_else(overflow)?;
        }
        let frac_bytes = frac.as_bytes();
        for i in 0..2 {
            let d = frac_bytes.get(i).map_or(0, |b| i64::from(b - b'0'));
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(d))
                .ok_or_else(overflow)?;
        }
        Ok(Fen(if neg { -v } else { v }))
    }

    /// From an Arrow/Parquet Decimal128 value with its scale.
    pub fn from_decimal(value: i128, scale: i8) -> Result<Fen, MoneyError> {
        let shown = || format_decimal(value, scale);
        let fen: i128 = if scale <= 2 {
            let mul = 10i128
                .checked_pow(u32::from((2 - scale).unsigned_abs()))
                .ok_or_else(|| MoneyError::Overflow(shown()))?;
            value
                .checked_mul(mul)
                .ok_or_else(|| MoneyError::Overflow(shown()))?
        } else {
            let div = 10i128
                .checked_pow(u32::from((scale - 2).unsigned_abs()))
                .ok_or_else(|| MoneyError::Overflow(shown()))?;
            if value % div != 0 {
                return Err(MoneyError::SubFen(shown()));
            }
            value / div
        };
        i64::try_from(fen)
            .map(Fen)
            .map_err(|_| MoneyError::Overflow(shown()))
    }

    /// Checked addition.
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    /// The larger of the two.
    pub fn max(self, other: Fen) -> Fen {
        Fen(self.0.max(other.0))
    }

    /// The smaller of the two.
    pub fn min(self, other: Fen) -> Fen {
        Fen(self.0.min(other.0))
    }

    /// Multiplies by an integer.
    pub fn times(self, k: i64) -> Fen {
        Fen(self.0 * k)
    }

    /// `numerator / denominator` of an amount, rounded half up (away from
    /// zero for halves) to the fen: the one rounding a report does, for
    /// display, at the end. `denominator` must be positive.
    pub fn div_round_half_up(self, denominator: i64) -> Fen {
        assert!(denominator > 0, "division of money by a non-positive count");
        let (n, d) = (i128::from(self.0), i128::from(denominator));
        let q = if n >= 0 {
            (2 * n + d) / (2 * d)
        } else {
            -((-2 * n + d) / (2 * d))
        };
        Fen(q as i64)
    }
}

fn format_decimal(value: i128, scale: i8) -> String {
    if scale <= 0 {
        return format!("{value}{}", "0".repeat(scale.unsigned_abs() as usize));
    }
    let s = value.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{s:0>width$}", width = scale + 1);
    let (i, f) = padded.split_at(padded.len() - scale);
    format!("{}{i}.{f}", if value < 0 { "-" } else { "" })
}

/// `1234.50`: yuan with two decimals.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, o: Fen) -> Fen {
        Fen(self.0 + o.0)
    }
}

impl AddAssign for Fen {
    fn add_assign(&mut self, o: Fen) {
        self.0 += o.0;
    }
}

impl Sub for Fen {
    type Output = Fen;
    fn sub(self, o: Fen) -> Fen {
        Fen(self.0 - o.0)
    }
}

impl SubAssign for Fen {
    fn sub_assign(&mut self, o: Fen) {
        self.0 -= o.0;
    }
}

impl Neg for Fen {
    type Output = Fen;
    fn neg(self) -> Fen {
        Fen(-self.0)
    }
}

impl Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert_eq!(Fen::parse_yuan("1234.5"), Ok(Fen(123450)));
        assert_eq!(Fen::parse_yuan("1234.50"), Ok(Fen(123450)));
        assert_eq!(Fen::parse_yuan("1234"), Ok(Fen(123400)));
        assert_eq!(Fen::parse_yuan("-0.07"), Ok(Fen(-7)));
        assert_eq!(Fen::parse_yuan(".5"), Ok(Fen(50)));
        assert_eq!(Fen::parse_yuan("3.100"), Ok(Fen(310)));
        assert!(matches!(
            Fen::parse_yuan("1.005"),
            Err(MoneyError::SubFen(_))
        ));
        assert!(matches!(
            Fen::parse_yuan("1,000"),
            Err(MoneyError::Syntax(_))
        ));
        assert!(matches!(Fen::parse_yuan(""), Err(MoneyError::Syntax(_))));
        assert!(matches!(Fen::parse_yuan("."), Err(MoneyError::Syntax(_))));
        assert!(matches!(Fen::parse_yuan("1e5"), Err(MoneyError::Syntax(_))));
    }

    #[test]
    fn decimals() {
        assert_eq!(Fen::from_decimal(123450, 2), Ok(Fen(123450)));
        assert_eq!(Fen::from_decimal(1234, 0), Ok(Fen(123400)));
        assert_eq!(Fen::from_decimal(12345, 3).ok(), None);
        assert_eq!(Fen::from_decimal(12340, 3), Ok(Fen(1234)));
        assert_eq!(Fen::from_decimal(i128::MAX, 2).ok(), None);
    }

    #[test]
    fn rounding_half_up() {
        assert_eq!(Fen(5).div_round_half_up(2), Fen(3));
        assert_eq!(Fen(4).div_round_half_up(3), Fen(1));
        assert_eq!(Fen(-5).div_round_half_up(2), Fen(-3));
        assert_eq!(Fen(123456).div_round_half_up(3), Fen(41152));
    }

    #[test]
    fn display() {
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(123450).to_string(), "1234.50");
    }
}
