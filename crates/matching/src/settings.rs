//! [`MatchSettings`]: everything a caller decides about matching.
//!
//! The thresholds come from the regional policy (rules §2.4: link at a
//! posterior of 0.99, review from 0.80 by default); the rest sizes the
//! training samples and the comparison levels. Settings are part of the
//! model's hash, so a report that cites the hash pins them.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the matcher decides and trains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchSettings {
    /// Posterior match probability at or above which a fuzzy record is
    /// linked and counted *(policy, default 0.99)*.
    pub link_threshold: f64,
    /// Posterior from which a record is listed as a possible match for
    /// manual review, never counted *(policy, default 0.80)*.
    pub review_threshold: f64,
    /// Seed of every sample the training draws.
    pub seed: u64,
    /// Random record–person pairs drawn to estimate u-probabilities.
    pub u_pairs: usize,
    /// Blocked pairs sampled for the EM estimate of m-probabilities.
    pub em_pairs: usize,
    /// Most EM iterations.
    pub em_max_iterations: u32,
    /// EM stops when no m-probability moves by more than this.
    pub em_tolerance: f64,
    /// Pseudo-count of the prior on m-probabilities (keeps rare levels
    /// away from 0 and 1).
    pub em_prior_count: f64,
    /// A blocking key held by more persons than this produces no pairs for
    /// that rule (other rules still apply).
    pub max_block_size: usize,
    /// Jaro–Winkler similarity of the pinyin keys for the `pinyin_close`
    /// name level.
    pub pinyin_close: f64,
    /// Jaro–Winkler similarity of the pinyin keys for the
    /// `pinyin_similar` name level.
    pub pinyin_similar: f64,
    /// Smallest share of a source's records assumed to belong to persons
    /// outside the registry (the share is measured on each source's
    /// records with a valid id; this floor keeps it from reaching 0).
    pub min_outsider_rate: f64,
    /// Share of records assumed to belong to persons outside the registry
    /// when it cannot be measured (single-record lookups).
    pub default_outsider_rate: f64,
    /// Use the evidence of the same source's id-linked records (the
    /// person appears there, with the same employer or institution).
    pub source_context: bool,
    /// Most alternatives kept in an explanation.
    pub max_alternatives: usize,
}

impl Default for MatchSettings {
    fn default() -> Self {
        MatchSettings {
            link_threshold: 0.99,
            review_threshold: 0.80,
            seed: 0x4845_4455_4931,
            u_pairs: 500_000,
            em_pairs: 200_000,
            em_max_iterations: 100,
            em_tolerance: 1e-7,
            em_prior_count: 1.0,
            max_block_size: 5_000,
            pinyin_close: 0.94,
            pinyin_similar: 0.86,
            min_outsider_rate: 1e-4,
            default_outsider_rate: 0.01,
            source_context: true,
            max_alternatives: 3,
        }
    }
}

impl MatchSettings {
    /// Checks every value's domain.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::Settings(format!("{name} is {v}, expected 0–1")))
            }
        };
        unit("link_threshold", self.link_threshold)?;
        unit("review_threshold", self.review_threshold)?;
        unit("pinyin_close", self.pinyin_close)?;
        unit("pinyin_similar", self.pinyin_similar)?;
        unit("min_outsider_rate", self.min_outsider_rate)?;
        unit("default_outsider_rate", self.default_outsider_rate)?;
        if self.review_threshold > self.link_threshold {
            return Err(Error::Settings(format!(
                "review_threshold {} is above link_threshold {}",
                self.review_threshold, self.link_threshold
            )));
        }
        if self.link_threshold <= 0.5 {
            return Err(Error::Settings(format!(
                "link_threshold {} must be above 0.5: two persons could both pass it",
                self.link_threshold
            )));
        }
        if self.pinyin_similar > self.pinyin_close {
            return Err(Error::Settings(format!(
                "pinyin_similar {} is above pinyin_close {}",
                self.pinyin_similar, self.pinyin_close
            )));
        }
        if self.u_pairs == 0 || self.em_pairs == 0 || self.em_max_iterations == 0 {
            return Err(Error::Settings(
                "u_pairs, em_pairs and em_max_iterations must be positive".into(),
            ));
        }
        if !(self.em_tolerance.is_finite() && self.em_tolerance > 0.0) {
            return Err(Error::Settings(format!(
                "em_tolerance is {}, expected a positive number",
                self.em_tolerance
            )));
        }
        if !(self.em_prior_count.is_finite() && self.em_prior_count >= 0.0) {
            return Err(Error::Settings(format!(
                "em_prior_count is {}, expected 0 or more",
                self.em_prior_count
            )));
        }
        if self.max_block_size == 0 {
            return Err(Error::Settings("max_block_size must be positive".into()));
        }
        Ok(())
    }
}
