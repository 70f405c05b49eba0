//! 公民身份号码 (citizen id number), GB 11643-1999.
//!
//! Departments send ids as they hold them: 18 digits, 15-digit legacy
//! numbers, lower-case `x`, full-width digits and `Ｘ`, with spaces or
//! hyphens inside, or simply wrong. [`IdNumber::parse`] cleans what can be
//! cleaned without guessing and validates the rest:
//!
//! - width folding (full-width digits and `Ｘ`), `x` → `X`, spaces (ASCII,
//!   ideographic, NBSP) and hyphens removed;
//! - a 15-digit legacy number is upgraded by inserting `19` after the
//!   6-digit region code and computing the ISO 7064 MOD 11-2 check character;
//! - an 18-character number must have 17 digits, a valid check character,
//!   a real birth date and a known province prefix. County codes are not
//!   checked against the current list: retired codes are accepted because
//!   a person's number never changes.
//!
//! An invalid id is not thrown away: [`ParsedId`] keeps the raw text, the
//! cleaned candidate (useful to identity resolution, which compares ids one
//! edit apart) and the typed reason.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Weights of ISO 7064 MOD 11-2 for the 17 body digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder of the weighted sum modulo 11.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Province-level prefixes (the first two digits of a region code) that
/// GB/T 2260 has used. Mainland provinces, Taiwan (71), Hong Kong (81) and
/// Macao (82) residence-permit numbers (83 and the 9x foreigner
/// permanent-residence numbers are not 公民身份号码 and are refused).
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// Earliest birth year accepted (the oldest living people held numbers
/// issued from 1984 on; anything earlier than this is a typo).
const MIN_BIRTH_YEAR: i32 = 1880;
/// Latest birth year accepted. No wall clock is consulted (reports must be
/// reproducible years later), so the bound is generous.
const MAX_BIRTH_YEAR: i32 = 2099;

/// A valid, normalised 18-character citizen id number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdNumber([u8; 18]);

/// How the raw text became a valid number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdForm {
    /// 18 characters as sent (after cleaning).
    Standard,
    /// A 15-digit legacy number upgraded to 18.
    Upgraded,
}

/// Why an id is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum IdInvalid {
    /// Nothing but spaces, or null.
    #[error("id number is missing")]
    Missing,
    /// Neither 15 nor 18 characters after cleaning.
    #[error(
        "id number has {len} characters after cleaning, expected 18 (or 15 for a legacy number)"
    )]
    Length {
        /// Characters left after cleaning.
        len: usize,
    },
    /// A character other than a digit (or a final `X` on 18 characters).
    #[error("id number contains a character that is not a digit")]
    Characters,
    /// The province prefix is not one GB/T 2260 ever used.
    #[error("id number starts with an unknown province code")]
    Region,
    /// Digits 7–14 (or 7–12 of a legacy number) are not a real date.
    #[error("id number carries an impossible birth date")]
    BirthDate,
    /// The check character does not match the body.
    #[error("id number check character is {found}, the body requires {expected}")]
    CheckDigit {
        /// The check character the 17 body digits require.
        expected: char,
        /// The check character the number carries.
        found: char,
    },
}

impl IdInvalid {
    /// Stable code of the status, used in canonical columns and reports.
    pub fn code(&self) -> &'static str {
        match self {
            IdInvalid::Missing => "missing",
            IdInvalid::Length { .. } => "bad_length",
            IdInvalid::Characters => "bad_characters",
            IdInvalid::Region => "bad_region",
            IdInvalid::BirthDate => "bad_birth_date",
            IdInvalid::CheckDigit { .. } => "bad_check_digit",
        }
    }
}

/// Gender as encoded in the 17th character (odd: male).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdGender {
    /// Odd sequence digit.
    Male,
    /// Even sequence digit.
    Female,
}

/// The outcome of parsing what a department sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedId {
    /// The text exactly as received.
    pub raw: String,
    /// After width folding, case folding and removal of spaces and hyphens;
    /// for a valid legacy number, the upgraded 18 characters.
    pub cleaned: String,
    /// The valid number and its form, or why there is none.
    pub result: Result<(IdNumber, IdForm), IdInvalid>,
}

impl ParsedId {
    /// The valid number, if any.
    pub fn id(&self) -> Option<IdNumber> {
        self.result.as_ref().ok().map(|(id, _)| *id)
    }

    /// Stable status code: `valid`, `upgraded`, or the invalid reason's code.
    pub fn status_code(&self) -> &'static str {
        match &self.result {
            Ok((_, IdForm::Standard)) => "valid",
            Ok((_, IdForm::Upgraded)) => "upgraded",
            Err(e) => e.code(),
        }
    }
}

/// Cleans raw id text: full-width digits and letters folded, `x` → `X`,
/// whitespace of every width and hyphens (ASCII and full-width) removed.
/// Every other character is kept, so that it can be reported.
pub fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(18);
    for c in raw.chars() {
        let c = fold_width(c);
        match c {
            c if c.is_whitespace() => {}
            '\u{200B}' | '\u{FEFF}' => {}
            '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}' => {}
            'x' => out.push('X'),
            c => out.push(c),
        }
    }
    out
}

/// Folds a full-width ASCII variant (U+FF01–U+FF5E) to ASCII and the
/// ideographic space to a space; other characters are returned unchanged.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

/// The ISO 7064 MOD 11-2 check character of 17 body digits.
///
/// Returns `None` if `body` is not 17 ASCII digits.
pub fn check_char(body: &[u8]) -> Option<u8> {
    if body.len() != 17 || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

impl IdNumber {
    /// Parses what a department sent. Never fails: an invalid id is a
    /// [`ParsedId`] whose `result` names the reason.
    pub fn parse(raw: &str) -> ParsedId {
        let cleaned = clean(raw);
        let result = Self::validate_cleaned(&cleaned);
        let cleaned = match &result {
            Ok((id, IdForm::Upgraded)) => id.as_str().to_owned(),
            _ => cleaned,
        };
        ParsedId {
            raw: raw.to_owned(),
            cleaned,
            result,
        }
    }

    /// Parses and returns only a valid number.
    pub fn parse_valid(raw: &str) -> Result<IdNumber, IdInvalid> {
        Self::validate_cleaned(&clean(raw)).map(|(id, _)| id)
    }

    fn validate_cleaned(s: &str) -> Result<(IdNumber, IdForm), IdInvalid> {
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(IdInvalid::Missing);
        }
        let len = s.chars().count();
        match len {
            18 => {
                if b.len() != 18
                    || !b[..17].iter().all(u8::is_ascii_digit)
                    || !(b[17].is_ascii_digit() || b[17] == b'X')
                {
                    return Err(IdInvalid::Characters);
                }
                check_region(b)?;
                check_birth(&b[6..14])?;
                let expected = check_char(&b[..17]).ok_or(IdInvalid::Characters)?;
                if expected != b[17] {
                    return Err(IdInvalid::CheckDigit {
                        expected: expected as char,
                        found: b[17] as char,
                    });
                }
                let mut out = [0u8; 18];
                out.copy_from_slice(b);
                Ok((IdNumber(out), IdForm::Standard))
            }
            15 => {
                if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) {
                    return Err(IdInvalid::Characters);
                }
                check_region(b)?;
                let mut out = [0u8; 18];
                out[..6].copy_from_slice(&b[..6]);
                out[6] = b'1';
                out[7] = b'9';
                out[8..17].copy_from_slice(&b[6..15]);
                check_birth(&out[6..14])?;
                out[17] = check_char(&out[..17]).ok_or(IdInvalid::Characters)?;
                Ok((IdNumber(out), IdForm::Upgraded))
            }
            len => Err(IdInvalid::Length { len }),
        }
    }

    /// Builds a valid number from its 17 body digits, computing the check
    /// character. Fails like [`IdNumber::parse`] would.
    pub fn from_body(body: &str) -> Result<IdNumber, IdInvalid> {
        let b = body.as_bytes();
        if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
            return Err(IdInvalid::Characters);
        }
        let mut s = body.to_owned();
        s.push(check_char(b).ok_or(IdInvalid::Characters)? as char);
        Self::validate_cleaned(&s).map(|(id, _)| id)
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and 'X' are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The 6-digit region code (行政区划代码) of issue.
    pub fn region_code(&self) -> &str {
        &self.as_str()[..6]
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> NaiveDate {
        parse_birth(&self.0[6..14]).unwrap_or(NaiveDate::MIN)
    }

    /// The gender encoded in the sequence code.
    pub fn gender(&self) -> IdGender {
        if (self.0[16] - b'0') % 2 == 1 {
            IdGender::Male
        } else {
            IdGender::Female
        }
    }

    /// The masked form for HTML and logs: region code, eight stars, the last
    /// four characters (`530302********123X`).
    pub fn masked(&self) -> String {
        mask(self.as_str())
    }
}

/// Masks any id-like text the same way as [`IdNumber::masked`]: the first
/// six and last four characters kept, the rest starred. Short text is
/// starred whole.
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 11 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

fn check_region(b: &[u8]) -> Result<(), IdInvalid> {
    let p = (b[0] - b'0') * 10 + (b[1] - b'0');
    if PROVINCES.contains(&p) {
        Ok(())
    } else {
        Err(IdInvalid::Region)
    }
}

fn parse_birth(d: &[u8]) -> Option<NaiveDate> {
    let num = |r: &[u8]| -> u32 { r.iter().fold(0, |a, c| a * 10 + u32::from(c - b'0')) };
    let y = num(&d[0..4]) as i32;
    let m = num(&d[4..6]);
    let day = num(&d[6..8]);
    NaiveDate::from_ymd_opt(y, m, day)
}

fn check_birth(d: &[u8]) -> Result<(), IdInvalid> {
    match parse_birth(d) {
        Some(date) if (MIN_BIRTH_YEAR..=MAX_BIRTH_YEAR).contains(&date.year()) => Ok(()),
        _ => Err(IdInvalid::BirthDate),
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Debug never prints the number in clear: ids are the most sensitive
/// values hedui holds, and debug output ends up in logs.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl std::str::FromStr for IdNumber {
    type Err = IdInvalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse_valid(s)
    }
}

impl Serialize for IdNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IdNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IdNumber::parse_valid(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_number_validates() {
        // The example number of GB 11643-1999.
        let p = IdNumber::parse("11010519491231002X");
        let id = p.id().expect("valid");
        assert_eq!(id.region_code(), "110105");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.gender(), IdGender::Female);
    }

    #[test]
    fn legacy_is_upgraded() {
        let p = IdNumber::parse("110105491231002");
        assert_eq!(p.status_code(), "upgraded");
        assert_eq!(p.id().unwrap().as_str(), "11010519491231002X");
    }

    #[test]
    fn dirty_forms_clean() {
        for raw in [
            "11010519491231002x",
            "１１０１０５１９４９１２３１００２Ｘ",
            " 110105 19491231 002X ",
            "110105-19491231-002X",
            "110105\u{00A0}19491231002X",
        ] {
            assert_eq!(
                IdNumber::parse(raw).id().map(|i| i.to_string()),
                Some("11010519491231002X".to_owned()),
                "{raw}"
            );
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(IdNumber::parse("").result, Err(IdInvalid::Missing));
        assert_eq!(
            IdNumber::parse("1234").result,
            Err(IdInvalid::Length { len: 4 })
        );
        assert_eq!(
            IdNumber::parse("1101051949123100AX").result,
            Err(IdInvalid::Characters)
        );
        assert_eq!(
            IdNumber::parse("110105194902301234").result,
            Err(IdInvalid::BirthDate)
        );
        assert!(matches!(
            IdNumber::parse("110105194912310021").result,
            Err(IdInvalid::CheckDigit {
                expected: 'X',
                found: '1'
            })
        ));
        assert_eq!(
            IdNumber::parse("991051949123100211").result,
            Err(IdInvalid::Region)
        );
    }

    #[test]
    fn mask_keeps_region_and_tail() {
        assert_eq!(mask("53030219800101123X"), "530302********123X");
    }
}
