//! What city to generate: [`CityConfig`] and the noise rates [`NoiseRates`].

use hedui_model::{Date, Month};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The configuration of one synthetic city. The same configuration always
/// gives the same bytes in every file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityConfig {
    /// Persons in the city: everyone in the hukou registry plus the few
    /// residents registered elsewhere (spouses from other provinces).
    pub persons: usize,
    /// The seed: every random choice derives from it.
    pub seed: u64,
    /// The date every extract is current to (默认 2026-06-30). Monthly
    /// tables end with this date's month.
    pub as_of: Date,
    /// Months of monthly history (tax, social insurance, housing fund),
    /// ending with the month of `as_of`. At least 13, so that the 12-month
    /// look-back window of every request is covered.
    pub months: u32,
    /// Check-request households to write (fewer if the city has fewer
    /// suitable households).
    pub requests: usize,
    /// Noise rates of department records.
    pub noise: NoiseRates,
    /// Also write a CSV file beside every Parquet file.
    pub csv: bool,
    /// A second, later snapshot of the same city (`<out>/later/`), for two
    /// successive monitoring runs: every extract again, complete as of this
    /// date, with the first extract's rows and the records of injected
    /// events (deaths, moves, new registrations, late-filed income …) dated
    /// after `as_of`. Must lie in `(as_of, as_of + 62 days]`. `None` (the
    /// default) writes no later snapshot and leaves every other file as it
    /// is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub later: Option<Date>,
}

/// The most days the later snapshot may lie after `as_of`.
pub const LATER_MAX_DAYS: i64 = 62;

impl CityConfig {
    /// The default city of `persons` persons and `seed`: as of 2026-06-30,
    /// 24 months of history, [`CityConfig::default_requests`] requests,
    /// default noise, Parquet only.
    pub fn new(persons: usize, seed: u64) -> CityConfig {
        CityConfig {
            persons,
            seed,
            as_of: Date::from_ymd_opt(2026, 6, 30).unwrap_or(Date::MIN),
            months: 24,
            requests: Self::default_requests(persons),
            noise: NoiseRates::default(),
            csv: false,
            later: None,
        }
    }

    /// The default number of requests: one per hundred persons, at least
    /// 20, at most 100,000.
    pub fn default_requests(persons: usize) -> usize {
        (persons / 100).clamp(20, 100_000)
    }

    /// The months of history, oldest first.
    pub fn history(&self) -> Vec<Month> {
        let last = Month::of(self.as_of);
        (0..self.months as i32)
            .rev()
            .map(|k| last.plus(-k))
            .collect()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.months < 13 {
            return Err(Error::Config(format!(
                "months is {}, at least 13 are needed to cover a 12-month look-back window",
                self.months
            )));
        }
        if self.months > 600 {
            return Err(Error::Config(format!(
                "months is {}, at most 600 are supported",
                self.months
            )));
        }
        if let Some(later) = self.later {
            let days = (later - self.as_of).num_days();
            if !(1..=LATER_MAX_DAYS).contains(&days) {
                return Err(Error::Config(format!(
                    "later is {later}, {days} days after as_of {}: it must be 1 to {LATER_MAX_DAYS} days after as_of",
                    self.as_of
                )));
            }
        }
        self.noise.validate()
    }
}

impl Default for CityConfig {
    /// 10,000 persons, seed 1.
    fn default() -> Self {
        CityConfig::new(10_000, 1)
    }
}

/// The kinds of noise a department record may carry, recorded in
/// `truth/records.parquet` column `noise`. At most one kind per record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseKind {
    /// The record is exact.
    None,
    /// The id is the 15-digit legacy form (persons born 1900–1999).
    Legacy15,
    /// The final `X` is lower case (ids ending in `X`).
    LowerX,
    /// The id is written in full-width digits and letters.
    Fullwidth,
    /// The id has spaces or hyphens inside.
    Spaces,
    /// One character of the id is a wrong digit (fails its check digit).
    TypoDigit,
    /// Two adjacent different characters of the id are swapped.
    Transposition,
    /// The id is null: the record carries only the name.
    MissingId,
    /// The name is written in traditional characters (names that have a
    /// traditional form).
    Traditional,
    /// One given-name character is replaced by another of the same pinyin
    /// (names with such a character in the pool).
    Homophone,
    /// The middle dot of a minority name is another look-alike.
    MiddleDot,
    /// The name has a space inside.
    NameSpaces,
    /// The record carries the person's id with another person's name
    /// (truth column `name_key` names the other person).
    SwappedName,
    /// A record of a trap-twin person whose id has the digit that tells the
    /// twins apart typed as the twin's: the body is the twin's, the check
    /// character the person's own.
    TrapTwin,
}

impl NoiseKind {
    /// Every kind, in the order rates are laid out.
    pub const ALL: [NoiseKind; 14] = [
        NoiseKind::None,
        NoiseKind::Legacy15,
        NoiseKind::LowerX,
        NoiseKind::Fullwidth,
        NoiseKind::Spaces,
        NoiseKind::TypoDigit,
        NoiseKind::Transposition,
        NoiseKind::MissingId,
        NoiseKind::Traditional,
        NoiseKind::Homophone,
        NoiseKind::MiddleDot,
        NoiseKind::NameSpaces,
        NoiseKind::SwappedName,
        NoiseKind::TrapTwin,
    ];

    /// The code written to `truth/records.parquet`.
    pub fn code(self) -> &'static str {
        match self {
            NoiseKind::None => "none",
            NoiseKind::Legacy15 => "legacy15",
            NoiseKind::LowerX => "lower_x",
            NoiseKind::Fullwidth => "fullwidth",
            NoiseKind::Spaces => "spaces",
            NoiseKind::TypoDigit => "typo_digit",
            NoiseKind::Transposition => "transposition",
            NoiseKind::MissingId => "missing_id",
            NoiseKind::Traditional => "traditional",
            NoiseKind::Homophone => "homophone",
            NoiseKind::MiddleDot => "middle_dot",
            NoiseKind::NameSpaces => "name_spaces",
            NoiseKind::SwappedName => "swapped_name",
            NoiseKind::TrapTwin => "trap_twin",
        }
    }

    /// Parses a code written by [`NoiseKind::code`].
    pub fn parse(code: &str) -> Option<NoiseKind> {
        NoiseKind::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// Position in [`NoiseKind::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Noise rates in parts per million.
///
/// Each rate is the probability that a department record **to which the
/// kind applies** carries that kind (see [`NoiseKind`] for when each
/// applies; most apply to every record). A record carries at most one
/// kind: one draw per record falls in the slice of one applicable kind or
/// in none. Hukou records are the registry and carry no noise; requests
/// and rosters have their own, fixed, scenarios.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseRates {
    /// 15-digit legacy ids, of records of persons born 1900–1999. Default 1.5 %.
    pub legacy15: u32,
    /// Lower-case `x`, of records whose id ends in `X`. Default 15 %.
    pub lower_x: u32,
    /// Full-width digits and letters. Default 0.5 %.
    pub fullwidth: u32,
    /// Spaces or hyphens inside the id. Default 0.8 %.
    pub spaces: u32,
    /// One wrong digit. Default 1 %.
    pub typo_digit: u32,
    /// Adjacent transposition. Default 0.5 %.
    pub transposition: u32,
    /// Id missing (null). Default 1 %.
    pub missing_id: u32,
    /// Traditional characters, of names that have a traditional form.
    /// Default 1 %.
    pub traditional: u32,
    /// A homophone in the given name, of names that have one in the pool.
    /// Default 0.5 %.
    pub homophone: u32,
    /// Another middle-dot look-alike, of minority names. Default 20 %.
    pub middle_dot: u32,
    /// A space inside the name. Default 0.8 %.
    pub name_spaces: u32,
    /// The id with another person's name (of the household, else a
    /// neighbour). Default 0.2 %.
    pub swapped_name: u32,
    /// The twin's body digit in a trap twin's id, of records of trap-twin
    /// persons. Default 10 %.
    pub trap_twin: u32,
    /// Rows (of every extract, request and roster table) whose coded
    /// columns carry the Chinese label instead of the English code.
    /// Independent of the identity noise above. Default 2 %.
    pub chinese_label: u32,
    /// Trap-twin pairs per million persons: two different persons with the
    /// same name, gender, birth date and district whose ids differ in one
    /// body digit (both valid). At least one pair when non-zero and the
    /// city has candidates. Default 1,000: 0.2 % of persons are one of a
    /// pair.
    pub twin_pairs_per_million: u32,
}

impl Default for NoiseRates {
    fn default() -> Self {
        NoiseRates {
            legacy15: 15_000,
            lower_x: 150_000,
            fullwidth: 5_000,
            spaces: 8_000,
            typo_digit: 10_000,
            transposition: 5_000,
            missing_id: 10_000,
            traditional: 10_000,
            homophone: 5_000,
            middle_dot: 200_000,
            name_spaces: 8_000,
            swapped_name: 2_000,
            trap_twin: 100_000,
            chinese_label: 20_000,
            twin_pairs_per_million: 1_000,
        }
    }
}

impl NoiseRates {
    /// No noise at all: every record exact, every code English, no twins.
    pub fn none() -> NoiseRates {
        NoiseRates {
            legacy15: 0,
            lower_x: 0,
            fullwidth: 0,
            spaces: 0,
            typo_digit: 0,
            transposition: 0,
            missing_id: 0,
            traditional: 0,
            homophone: 0,
            middle_dot: 0,
            name_spaces: 0,
            swapped_name: 0,
            trap_twin: 0,
            chinese_label: 0,
            twin_pairs_per_million: 0,
        }
    }

    /// The rate of one kind, ppm (`None` is whatever is left).
    pub fn rate(&self, kind: NoiseKind) -> u32 {
        match kind {
            NoiseKind::None => 0,
            NoiseKind::Legacy15 => self.legacy15,
            NoiseKind::LowerX => self.lower_x,
            NoiseKind::Fullwidth => self.fullwidth,
            NoiseKind::Spaces => self.spaces,
            NoiseKind::TypoDigit => self.typo_digit,
            NoiseKind::Transposition => self.transposition,
            NoiseKind::MissingId => self.missing_id,
            NoiseKind::Traditional => self.traditional,
            NoiseKind::Homophone => self.homophone,
            NoiseKind::MiddleDot => self.middle_dot,
            NoiseKind::NameSpaces => self.name_spaces,
            NoiseKind::SwappedName => self.swapped_name,
            NoiseKind::TrapTwin => self.trap_twin,
        }
    }

    fn validate(&self) -> Result<()> {
        let total: u64 = NoiseKind::ALL
            .iter()
            .map(|k| u64::from(self.rate(*k)))
            .sum();
        if total > 1_000_000 {
            return Err(Error::Config(format!(
                "noise rates add up to {total} ppm, more than 1,000,000: a record carries at most one kind"
            )));
        }
        if self.chinese_label > 1_000_000 {
            return Err(Error::Config(format!(
                "chinese_label is {} ppm, more than 1,000,000",
                self.chinese_label
            )));
        }
        if self.twin_pairs_per_million > 100_000 {
            return Err(Error::Config(format!(
                "twin_pairs_per_million is {}, at most 100,000",
                self.twin_pairs_per_million
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_codes_parse() {
        let c = CityConfig::default();
        c.validate().unwrap();
        assert_eq!(c.history().len(), 24);
        assert_eq!(c.history()[0].to_string(), "2024-07");
        assert_eq!(c.history()[23].to_string(), "2026-06");
        for k in NoiseKind::ALL {
            assert_eq!(NoiseKind::parse(k.code()), Some(k));
            assert_eq!(NoiseKind::ALL[k.index()], k);
        }
    }

    #[test]
    fn bad_configs_are_refused() {
        let mut c = CityConfig::new(100, 1);
        c.months = 12;
        assert!(matches!(c.validate(), Err(Error::Config(_))));
        let mut c = CityConfig::new(100, 1);
        c.noise.typo_digit = 999_999;
        assert!(c.validate().is_err());
    }

    #[test]
    fn later_must_lie_in_the_62_days_after_as_of() {
        let mut c = CityConfig::new(100, 1);
        let as_of = c.as_of;
        for (days, ok) in [(-1, false), (0, false), (1, true), (62, true), (63, false)] {
            c.later = Some(as_of + chrono::Duration::days(days));
            let r = c.validate();
            assert_eq!(r.is_ok(), ok, "{days}: {r:?}");
            if let Err(e) = r {
                assert!(e.to_string().contains("later"), "{e}");
            }
        }
    }
}
