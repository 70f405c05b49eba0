//! Blocking: which persons a record is compared with.
//!
//! Comparing every record with every person is out of the question (10¹²
//! pairs for a city), so each record is compared only with the persons
//! that share a blocking key with it. The rules tolerate id typos: every
//! key leaves out at least one part of the id, and the name rules leave it
//! out entirely.
//!
//! | rule | key | finds the true person when |
//! | --- | --- | --- |
//! | `region_birth` | id digits 1–14 (region + birth date) | the typo is in the sequence or check digits |
//! | `surname_birth` | surname pinyin + birth date (id digits, else stated) | the typo is in the region |
//! | `given_region_year` | given-name pinyin + region + birth year | the typo is in the birth month or day |
//! | `name` | the name's normal form | the id is missing or garbled and the name is exact; or a transposition straddles two parts of the id |
//! | `pinyin` | the pinyin key | the id is missing and the name is a homophone |
//!
//! For a record with a whole id (18 characters, or a 15-digit legacy
//! number), the name rules keep only the persons within three edits of
//! it: a namesake with another id is no candidate, and a common name's
//! block is large.
//!
//! [`count_pairs`] counts the pairs each rule produces, so the cost of a
//! rule set is known before it runs.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::records::{Record, Records};
use crate::registry::{PersonRow, Registry, Strings, split_at};
use crate::settings::MatchSettings;
use crate::util::KeyHasher;

/// A blocking rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockingRule {
    /// Region and birth date of the id (digits 1–14).
    RegionBirth = 0,
    /// Surname pinyin and birth date.
    SurnameBirth = 1,
    /// Given-name pinyin, region and birth year.
    GivenRegionYear = 2,
    /// Name, normal form.
    Name = 3,
    /// Name, pinyin key.
    Pinyin = 4,
}

impl BlockingRule {
    /// Every rule.
    pub const ALL: [BlockingRule; 5] = [
        BlockingRule::RegionBirth,
        BlockingRule::SurnameBirth,
        BlockingRule::GivenRegionYear,
        BlockingRule::Name,
        BlockingRule::Pinyin,
    ];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            BlockingRule::RegionBirth => "region_birth",
            BlockingRule::SurnameBirth => "surname_birth",
            BlockingRule::GivenRegionYear => "given_region_year",
            BlockingRule::Name => "name",
            BlockingRule::Pinyin => "pinyin",
        }
    }
}

/// Up to four keys of one rule.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KeySink {
    keys: [u64; 4],
    len: usize,
}

impl KeySink {
    fn push(&mut self, k: u64) {
        if self.len < 4 && !self.keys[..self.len].contains(&k) {
            self.keys[self.len] = k;
            self.len += 1;
        }
    }

    pub(crate) fn keys(&self) -> &[u64] {
        &self.keys[..self.len]
    }
}

fn key(rule: BlockingRule, parts: &[&[u8]]) -> u64 {
    let mut h = KeyHasher::new(rule as u8);
    for p in parts {
        h.part(p);
    }
    h.finish()
}

/// The keys of a registered person.
pub(crate) fn person_keys(rule: BlockingRule, p: &PersonRow, s: &Strings, sink: &mut KeySink) {
    let id = p.id_bytes();
    match rule {
        BlockingRule::RegionBirth => sink.push(key(rule, &[&id[0..14]])),
        BlockingRule::SurnameBirth => {
            let (surname, _) = split_at(s.pinyin(p.pinyin), p.split);
            if !surname.is_empty() {
                sink.push(key(rule, &[surname.as_bytes(), &id[6..14]]));
            }
        }
        BlockingRule::GivenRegionYear => {
            let (_, given) = split_at(s.pinyin(p.pinyin), p.split);
            if !given.is_empty() {
                sink.push(key(rule, &[given.as_bytes(), &id[0..6], &id[6..10]]));
            }
        }
        BlockingRule::Name => {
            let name = s.name(p.name);
            if !name.is_empty() {
                sink.push(key(rule, &[name.as_bytes()]));
            }
        }
        BlockingRule::Pinyin => {
            let py = s.pinyin(p.pinyin);
            if !py.is_empty() {
                sink.push(key(rule, &[py.as_bytes()]));
            }
        }
    }
}

/// A record with the parts its keys and comparisons need, derived once.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    pub(crate) rec: &'a Record,
    pub(crate) surname: &'a str,
    pub(crate) given: &'a str,
    pub(crate) birth8: Option<[u8; 8]>,
    /// The stated birth date when it differs from the id's.
    pub(crate) stated8: Option<[u8; 8]>,
    /// The name and pinyin as interned in the registry compared with
    /// (`NONE` when the registry holds no such string, or not looked up).
    pub(crate) name_id: u32,
    pub(crate) pinyin_id: u32,
}

/// No interned string.
pub(crate) const NONE: u32 = u32::MAX;

impl<'a> Prepared<'a> {
    pub(crate) fn new(rec: &'a Record) -> Prepared<'a> {
        let (surname, given) = split_at(&rec.pinyin, rec.split);
        let birth8 = rec.birth8();
        let stated8 = (rec.stated_birth != 0)
            .then(|| crate::records::ymd8(rec.stated_birth))
            .filter(|s| Some(*s) != birth8);
        Prepared {
            rec,
            surname,
            given,
            birth8,
            stated8,
            name_id: NONE,
            pinyin_id: NONE,
        }
    }

    /// With the name and pinyin looked up in the registry, so that
    /// comparisons with its persons compare interned ids.
    pub(crate) fn interned(rec: &'a Record, reg: &Registry) -> Prepared<'a> {
        let mut p = Prepared::new(rec);
        p.name_id = reg.strings.names.lookup(&rec.name).unwrap_or(NONE);
        p.pinyin_id = reg.strings.pinyins.lookup(&rec.pinyin).unwrap_or(NONE);
        p
    }
}

/// The keys of a record.
pub(crate) fn record_keys(rule: BlockingRule, p: &Prepared<'_>, sink: &mut KeySink) {
    let rec = p.rec;
    let region = rec.id.part(0, 6);
    let births = [p.birth8, p.stated8];
    match rule {
        BlockingRule::RegionBirth => {
            if let Some(rb) = rec.id.part(0, 14) {
                sink.push(key(rule, &[rb]));
            }
        }
        BlockingRule::SurnameBirth => {
            if !p.surname.is_empty() {
                for b in births.iter().flatten() {
                    sink.push(key(rule, &[p.surname.as_bytes(), b]));
                }
            }
        }
        BlockingRule::GivenRegionYear => {
            if let (false, Some(r)) = (p.given.is_empty(), region) {
                for b in births.iter().flatten() {
                    sink.push(key(rule, &[p.given.as_bytes(), r, &b[0..4]]));
                }
            }
        }
        BlockingRule::Name => {
            if !rec.name.is_empty() {
                sink.push(key(rule, &[rec.name.as_bytes()]));
            }
        }
        BlockingRule::Pinyin => {
            if !rec.pinyin.is_empty() {
                sink.push(key(rule, &[rec.pinyin.as_bytes()]));
            }
        }
    }
}

/// The candidates of a record: every person sharing a key of any rule
/// (blocks larger than `max_block_size` skipped), ascending, distinct.
/// `per_rule` receives the pairs of each rule before deduplication.
pub(crate) fn candidates(
    reg: &Registry,
    p: &Prepared<'_>,
    settings: &MatchSettings,
    out: &mut Vec<u32>,
    mut per_rule: Option<&mut [u64; 5]>,
) {
    out.clear();
    let aligned =
        p.rec.id.have == crate::records::ALL_18 || p.rec.id.have == crate::records::BODY_17;
    for rule in BlockingRule::ALL {
        let mut sink = KeySink::default();
        record_keys(rule, p, &mut sink);
        for k in sink.keys() {
            let block = reg.block(rule).get(*k);
            if block.len() > settings.max_block_size {
                continue;
            }
            if let Some(c) = per_rule.as_deref_mut() {
                c[rule as usize] += block.len() as u64;
            }
            if aligned && matches!(rule, BlockingRule::Name | BlockingRule::Pinyin) {
                // A record with a whole id: the name rules only add the
                // persons its id is a few typos from (the id rules miss
                // them when a typo straddles two parts of the id).
                out.extend(block.iter().filter(|c| {
                    crate::compare::id_distance(&p.rec.id, reg.row(**c).id_bytes(), NAME_RULE_EDITS)
                        .is_some_and(|d| d <= NAME_RULE_EDITS)
                }));
            } else {
                out.extend_from_slice(block);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// For a record with a whole id, the name rules keep the persons within
/// this many edits of it.
pub(crate) const NAME_RULE_EDITS: u8 = 3;

/// Pairs produced by one rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// The rule.
    pub rule: BlockingRule,
    /// Distinct keys in the registry's index of the rule.
    pub registry_keys: usize,
    /// Record–person pairs over all records.
    pub pairs: u64,
    /// Pairs over the records the id fast path does not resolve (those the
    /// matcher actually scores).
    pub fuzzy_pairs: u64,
}

/// What a blocking rule set costs on a set of records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockingCounts {
    /// Records counted.
    pub records: usize,
    /// Records whose valid id a registered person holds.
    pub id_hits: usize,
    /// Per rule.
    pub rules: Vec<RuleCount>,
    /// Distinct record–person pairs over all rules and records.
    pub distinct_pairs: u64,
    /// Distinct pairs over the records the id fast path does not resolve.
    pub distinct_fuzzy_pairs: u64,
}

/// Counts the pairs each blocking rule produces for `records`.
pub fn count_pairs(reg: &Registry, records: &Records, settings: &MatchSettings) -> BlockingCounts {
    const CHUNK: usize = 4096;
    /// Per chunk: pairs per rule (all, fuzzy), distinct pairs (all,
    /// fuzzy), id hits.
    type Part = ([u64; 5], [u64; 5], u64, u64, usize);
    let parts: Vec<Part> = records
        .rows
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut all = [0u64; 5];
            let mut fuzzy = [0u64; 5];
            let (mut distinct, mut distinct_fuzzy, mut hits) = (0u64, 0u64, 0usize);
            let mut buf = Vec::new();
            for rec in chunk {
                let p = Prepared::new(rec);
                let hit = rec
                    .id
                    .valid_body
                    .and_then(|b| reg.index_of_body(b))
                    .is_some();
                let mut counts = [0u64; 5];
                candidates(reg, &p, settings, &mut buf, Some(&mut counts));
                for k in 0..5 {
                    all[k] += counts[k];
                    if !hit {
                        fuzzy[k] += counts[k];
                    }
                }
                distinct += buf.len() as u64;
                if hit {
                    hits += 1;
                } else {
                    distinct_fuzzy += buf.len() as u64;
                }
            }
            (all, fuzzy, distinct, distinct_fuzzy, hits)
        })
        .collect();
    let mut all = [0u64; 5];
    let mut fuzzy = [0u64; 5];
    let (mut distinct, mut distinct_fuzzy, mut hits) = (0, 0, 0);
    for (a, f, d, df, h) in parts {
        for k in 0..5 {
            all[k] += a[k];
            fuzzy[k] += f[k];
        }
        distinct += d;
        distinct_fuzzy += df;
        hits += h;
    }
    BlockingCounts {
        records: records.len(),
        id_hits: hits,
        rules: BlockingRule::ALL
            .iter()
            .map(|r| RuleCount {
                rule: *r,
                registry_keys: reg.block(*r).distinct_keys(),
                pairs: all[*r as usize],
                fuzzy_pairs: fuzzy[*r as usize],
            })
            .collect(),
        distinct_pairs: distinct,
        distinct_fuzzy_pairs: distinct_fuzzy,
    }
}
