//! Dates and months.
//!
//! Dates are [`chrono::NaiveDate`] (re-exported as [`Date`]); a month of a
//! monthly record (`period`, `YYYY-MM`) is a [`Month`]. Both are parsed at
//! the edge and never travel as strings.

use std::fmt;

use chrono::Datelike;
pub use chrono::NaiveDate as Date;
use serde::{Deserialize, Serialize};

/// Why a date or month could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not `YYYY-MM-DD`, or not a real day.
    #[error("not a date of the form YYYY-MM-DD: {0:?}")]
    Date(String),
    /// Not `YYYY-MM`, or month outside 1–12.
    #[error("not a month of the form YYYY-MM: {0:?}")]
    Month(String),
}

/// Parses `YYYY-MM-DD` strictly (four-digit year, two-digit month and day).
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let t = text.trim();
    let b = t.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !ok {
        return Err(DateError::Date(text.to_owned()));
    }
    let y: i32 = t[0..4]
        .parse()
        .map_err(|_| DateError::Date(text.to_owned()))?;
    let m: u32 = t[5..7]
        .parse()
        .map_err(|_| DateError::Date(text.to_owned()))?;
    let d: u32 = t[8..10]
        .parse()
        .map_err(|_| DateError::Date(text.to_owned()))?;
    Date::from_ymd_opt(y, m, d).ok_or_else(|| DateError::Date(text.to_owned()))
}

/// A calendar month (`YYYY-MM`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Months since year 0: `year * 12 + (month - 1)`.
    ordinal: i32,
}

impl Month {
    /// A month from year and month number (1–12).
    pub fn new(year: i32, month: u32) -> Option<Month> {
        (1..=12).contains(&month).then(|| Month {
            ordinal: year * 12 + month as i32 - 1,
        })
    }

    /// Parses `YYYY-MM` strictly.
    pub fn parse(text: &str) -> Result<Month, DateError> {
        let t = text.trim();
        let b = t.as_bytes();
        let err = || DateError::Month(text.to_owned());
        if b.len() != 7
            || b[4] != b'-'
            || !b
                .iter()
                .enumerate()
                .all(|(i, c)| i == 4 || c.is_ascii_digit())
        {
            return Err(err());
        }
        let y: i32 = t[0..4].parse().map_err(|_| err())?;
        let m: u32 = t[5..7].parse().map_err(|_| err())?;
        Month::new(y, m).ok_or_else(err)
    }

    /// The month a date falls in.
    pub fn of(date: Date) -> Month {
        Month {
            ordinal: date.year() * 12 + date.month0() as i32,
        }
    }

    /// Year.
    pub fn year(self) -> i32 {
        self.ordinal.div_euclid(12)
    }

    /// Month number, 1–12.
    pub fn month(self) -> u32 {
        self.ordinal.rem_euclid(12) as u32 + 1
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        Date::from_ymd_opt(self.year(), self.month(), 1).unwrap_or(Date::MIN)
    }

    /// The last day of the month.
    pub fn last_day(self) -> Date {
        self.plus(1).first_day().pred_opt().unwrap_or(Date::MIN)
    }

    /// This month moved by `k` months (negative: earlier).
    pub fn plus(self, k: i32) -> Month {
        Month {
            ordinal: self.ordinal + k,
        }
    }

    /// Months from `self` to `later` (`later - self`).
    pub fn months_until(self, later: Month) -> i32 {
        later.ordinal - self.ordinal
    }

    /// The `n` full months before the month of `date`, oldest first: the
    /// look-back window of a check dated `date`.
    pub fn window_before(date: Date, n: u32) -> Vec<Month> {
        let this = Month::of(date);
        (1..=n as i32).rev().map(|k| this.plus(-k)).collect()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl fmt::Debug for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Month({self})")
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Month::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Age in whole years on `on` of a person born on `birth`: an age is
/// reached on the birthday (a 29 February birthday is reached on 1 March in
/// a common year).
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window() {
        let d = parse_date("2026-03-15").unwrap();
        let w = Month::window_before(d, 12);
        assert_eq!(w.first().unwrap().to_string(), "2025-03");
        assert_eq!(w.last().unwrap().to_string(), "2026-02");
        assert_eq!(w.len(), 12);
    }

    #[test]
    fn months_parse_strictly() {
        assert_eq!(Month::parse("2025-01").unwrap().to_string(), "2025-01");
        assert!(Month::parse("2025-13").is_err());
        assert!(Month::parse("2025-1").is_err());
        assert!(Month::parse("202501").is_err());
    }

    #[test]
    fn ages() {
        let b = parse_date("2008-03-15").unwrap();
        assert_eq!(age_on(b, parse_date("2026-03-14").unwrap()), 17);
        assert_eq!(age_on(b, parse_date("2026-03-15").unwrap()), 18);
        let leap = parse_date("2008-02-29").unwrap();
        assert_eq!(age_on(leap, parse_date("2026-02-28").unwrap()), 17);
        assert_eq!(age_on(leap, parse_date("2026-03-01").unwrap()), 18);
    }

    #[test]
    fn dates_parse_strictly() {
        assert!(parse_date("2026-02-29").is_err());
        assert!(parse_date("2026-2-1").is_err());
        assert!(parse_date("2024-02-29").is_ok());
    }
}
