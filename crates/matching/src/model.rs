//! The probabilistic model: Fellegi–Sunter match weights, trained on the
//! data itself without labels.
//!
//! - **u-probabilities** (how often a field agrees at each level for a
//!   record and a person who are *not* the same) are counted on
//!   `u_pairs` random record–person pairs drawn with a seeded generator;
//! - **m-probabilities** (the same, for the same person) are estimated by
//!   expectation–maximisation on samples of blocked pairs, one session per
//!   blocking rule with the fields that rule blocks on left out (blocked
//!   pairs agree on them by construction): `region_birth` pairs estimate
//!   the name, sequence, check and gender; `name` pairs the region, birth
//!   date, sequence, check and gender. A field estimated twice takes the
//!   average weighted by each session's estimated matches. In each
//!   session the records are split into those whose valid id a registered
//!   person holds and the rest; each stratum's records are taken in the
//!   order of a seeded hash of their source and `record_id` until the
//!   stratum's share of `em_pairs` is reached (the rest first, up to
//!   half), and the strata's comparison patterns are weighted back to
//!   their sizes. u stays fixed; m (with a small Dirichlet prior) and the
//!   match share are iterated until no m moves by more than
//!   `em_tolerance`;
//! - **term frequencies** adjust the exact levels of the name, region and
//!   birth date at scoring time: the u of `name = 张伟` is the share of
//!   persons named 张伟, not the average.
//!
//! Every count is an integer summed over fixed chunks, EM runs
//! sequentially over sorted patterns, so a model is the same bit for bit on
//! any number of threads. [`Model::hash`] is the blake3 of the model's
//! canonical JSON (settings, parameters, training summary).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::blocking::{BlockingRule, KeySink, Prepared, record_keys};
use crate::compare::{Cand, FIELDS, Field, Gamma, TRAINED, compare, level};
use crate::error::{Error, Result};
use crate::records::{Record, Records};
use crate::registry::Registry;
use crate::settings::MatchSettings;
use crate::util::{below, draw, log2, str_hash};

const FORMAT: &str = "hedui-matching/model/v1";

/// The trained parameters of one field (levels without `missing`, which
/// is never compared and weighs 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldParameters {
    /// The field.
    pub field: Field,
    /// Level codes, best first.
    pub levels: Vec<String>,
    /// P(level | same person), estimated by EM.
    #[serde(with = "exact::vec")]
    pub m: Vec<f64>,
    /// P(level | different persons), counted on random pairs.
    #[serde(with = "exact::vec")]
    pub u: Vec<f64>,
}

impl FieldParameters {
    /// The match weight (log2 Bayes factor) of a level, without
    /// term-frequency adjustment.
    pub fn weight(&self, level: usize) -> f64 {
        match (self.m.get(level), self.u.get(level)) {
            (Some(m), Some(u)) => log2(*m) - log2(*u),
            _ => 0.0,
        }
    }
}

/// One EM session: the pairs of one blocking rule, with the fields that
/// rule blocks on left out (blocked pairs agree on them by construction,
/// so they say nothing about matches there).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmSession {
    /// The blocking rule whose pairs were sampled.
    pub rule: BlockingRule,
    /// Fields left out of this session.
    pub excluded: Vec<Field>,
    /// Records in each stratum: `[id held by a registered person, other]`.
    pub stratum_records: [usize; 2],
    /// Records of each stratum sampled.
    pub sampled_records: [usize; 2],
    /// Pairs in the sample.
    pub pairs: u64,
    /// Distinct comparison patterns.
    pub patterns: usize,
    /// Iterations run.
    pub iterations: u32,
    /// Whether EM met its tolerance.
    pub converged: bool,
    /// Share of matches among the (weighted) pairs.
    #[serde(with = "exact::one")]
    pub match_share: f64,
}

/// What the training saw and did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSummary {
    /// Hash of the registry trained against.
    pub registry_hash: String,
    /// Persons in that registry.
    pub persons: usize,
    /// Training records (all sources).
    pub records: usize,
    /// Random pairs counted for u.
    pub u_pairs: usize,
    /// The EM sessions; a field's m is the average of the sessions that
    /// estimate it, weighted by their estimated matches.
    pub sessions: Vec<EmSession>,
    /// Probability that blocking misses the true person, for a record
    /// `[without id digits, with id digits]` (from the m-probabilities).
    #[serde(with = "exact::pair")]
    pub blocking_miss: [f64; 2],
}

/// A trained matcher: settings, m- and u-probabilities, and its hash.
#[derive(Clone, Debug)]
pub struct Model {
    settings: MatchSettings,
    fields: Vec<FieldParameters>,
    training: TrainingSummary,
    hash: String,
    weights: [[f64; 8]; TRAINED],
}

/// The serialised form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelJson {
    format: String,
    settings: MatchSettings,
    fields: Vec<FieldParameters>,
    training: TrainingSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
}

/// Initial m-probabilities (and the centre of their prior).
fn m0(f: Field) -> &'static [f64] {
    match f {
        Field::Name => &[0.95, 0.01, 0.01, 0.005, 0.025],
        Field::Region => &[0.98, 0.01, 0.01],
        Field::BirthDate => &[0.97, 0.01, 0.01, 0.01],
        Field::Sequence => &[0.97, 0.01, 0.02],
        Field::Check => &[0.97, 0.03],
        Field::Gender => &[0.95, 0.05],
        Field::Context => &[0.9, 0.05, 0.05],
    }
}

const CHUNK: usize = 1 << 14;

/// Trained floats are written as strings of their shortest exact decimal
/// form and read back with correct rounding, so a model read from JSON is
/// the trained model bit for bit (JSON number parsing need not round-trip).
mod exact {
    use serde::{Deserialize, Deserializer, Serializer};

    fn parse<E: serde::de::Error>(s: &str) -> Result<f64, E> {
        s.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| E::custom(format!("{s:?} is not a finite number")))
    }

    pub(super) mod one {
        use super::*;
        pub(crate) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&x.to_string())
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
            parse(&String::deserialize(d)?)
        }
    }

    pub(super) mod vec {
        use super::*;
        pub(crate) fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|x| x.to_string()))
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Vec::<String>::deserialize(d)?
                .iter()
                .map(|s| parse(s))
                .collect()
        }
    }

    pub(super) mod pair {
        use super::*;
        pub(crate) fn serialize<S: Serializer>(v: &[f64; 2], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|x| x.to_string()))
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
            let v = Vec::<String>::deserialize(d)?;
            match v.as_slice() {
                [a, b] => Ok([parse(a)?, parse(b)?]),
                _ => Err(serde::de::Error::custom("expected two numbers")),
            }
        }
    }
}

impl Model {
    /// Trains a model on `records` (any sources) against `registry`.
    pub fn train(
        registry: &Registry,
        records: &[&Records],
        settings: MatchSettings,
    ) -> Result<Model> {
        settings.validate()?;
        if registry.is_empty() {
            return Err(Error::Training("the registry holds no person".into()));
        }
        let flat: Vec<(u64, &Record)> = records
            .iter()
            .flat_map(|rs| {
                let salt = str_hash(settings.seed, rs.source());
                rs.rows.iter().map(move |r| (salt, r))
            })
            .collect();
        if flat.is_empty() {
            return Err(Error::Training("no records to train on".into()));
        }
        let u_counts = count_u(registry, &flat, &settings);
        let base: Vec<FieldParameters> = Field::ALL[..TRAINED]
            .iter()
            .map(|f| {
                let n = f.levels().len() - 1;
                let c = &u_counts[*f as usize];
                let total: u64 = c[..n].iter().sum();
                let u = (0..n)
                    .map(|l| (c[l] as f64 + 0.5) / (total as f64 + 0.5 * n as f64))
                    .collect();
                FieldParameters {
                    field: *f,
                    levels: f.levels()[..n].iter().map(|s| (*s).to_owned()).collect(),
                    m: m0(*f).to_vec(),
                    u,
                }
            })
            .collect();
        let plan: [(BlockingRule, &[Field]); 2] = [
            (
                BlockingRule::RegionBirth,
                &[Field::Region, Field::BirthDate],
            ),
            (BlockingRule::Name, &[Field::Name]),
        ];
        let budget = settings.em_pairs.div_ceil(plan.len());
        let strata = strata(registry, &flat);
        let mut sessions = Vec::new();
        // Per field and level: Σ matches × m, and Σ matches.
        let mut acc: Vec<(Vec<f64>, f64)> =
            base.iter().map(|f| (vec![0.0; f.m.len()], 0.0)).collect();
        for (rule, excluded) in plan {
            let (patterns, sample) =
                em_sample(registry, &flat, &strata, &settings, rule, excluded, budget);
            let mut fields = base.clone();
            let (iterations, converged, match_share) = run_em(&mut fields, &patterns, &settings);
            let total_w: f64 = patterns.iter().map(|(_, w)| w).sum();
            let matches = match_share * total_w;
            for (k, f) in fields.iter().enumerate() {
                if excluded.contains(&f.field) {
                    continue;
                }
                for (a, m) in acc[k].0.iter_mut().zip(&f.m) {
                    *a += matches * m;
                }
                acc[k].1 += matches;
            }
            sessions.push(EmSession {
                rule,
                excluded: excluded.to_vec(),
                stratum_records: sample.stratum_records,
                sampled_records: sample.sampled_records,
                pairs: sample.pairs,
                patterns: patterns.len(),
                iterations,
                converged,
                match_share,
            });
        }
        let mut fields = base;
        for (f, (a, total)) in fields.iter_mut().zip(&acc) {
            if *total > 0.0 {
                f.m = a.iter().map(|x| x / total).collect();
            }
        }
        let m = |f: Field, l: u8| fields[f as usize].m[l as usize];
        let unblocked_name =
            (1.0 - m(Field::Name, level::EXACT) - m(Field::Name, level::NAME_PINYIN)).max(1e-6);
        let unblocked_id = 1.0 - m(Field::Region, level::EXACT) * m(Field::BirthDate, level::EXACT);
        let training = TrainingSummary {
            registry_hash: registry.hash().to_owned(),
            persons: registry.len(),
            records: flat.len(),
            u_pairs: settings.u_pairs,
            sessions,
            blocking_miss: [unblocked_name, (unblocked_name * unblocked_id).max(1e-6)],
        };
        Ok(Model::assemble(settings, fields, training))
    }

    fn assemble(
        settings: MatchSettings,
        fields: Vec<FieldParameters>,
        training: TrainingSummary,
    ) -> Model {
        let mut weights = [[0.0; 8]; TRAINED];
        for (k, f) in fields.iter().enumerate().take(TRAINED) {
            for (l, w) in weights[k].iter_mut().enumerate().take(f.m.len()) {
                *w = f.weight(l);
            }
        }
        let mut model = Model {
            settings,
            fields,
            training,
            hash: String::new(),
            weights,
        };
        model.hash = model.compute_hash();
        model
    }

    fn canonical_json(&self) -> String {
        let j = ModelJson {
            format: FORMAT.to_owned(),
            settings: self.settings.clone(),
            fields: self.fields.clone(),
            training: self.training.clone(),
            hash: None,
        };
        serde_json::to_string(&j).unwrap_or_default()
    }

    fn compute_hash(&self) -> String {
        blake3::hash(self.canonical_json().as_bytes())
            .to_hex()
            .to_string()
    }

    /// blake3 (hex) of the settings, the trained parameters and the
    /// training summary: reports cite it, stored links are keyed by it.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The settings.
    pub fn settings(&self) -> &MatchSettings {
        &self.settings
    }

    /// The trained parameters, one entry per trained field.
    pub fn fields(&self) -> &[FieldParameters] {
        &self.fields
    }

    /// What the training saw.
    pub fn training(&self) -> &TrainingSummary {
        &self.training
    }

    /// The same parameters under other settings that do not change
    /// training: thresholds, outsider rates, source context, alternatives
    /// kept. The hash changes. Settings that shape training (seed, sample
    /// sizes, EM, block cap, Jaro–Winkler levels) need [`Model::train`].
    pub fn with_settings(&self, settings: MatchSettings) -> Result<Model> {
        settings.validate()?;
        let (a, b) = (&self.settings, &settings);
        if a.seed != b.seed
            || a.u_pairs != b.u_pairs
            || a.em_pairs != b.em_pairs
            || a.em_max_iterations != b.em_max_iterations
            || a.em_tolerance.to_bits() != b.em_tolerance.to_bits()
            || a.em_prior_count.to_bits() != b.em_prior_count.to_bits()
            || a.max_block_size != b.max_block_size
            || a.pinyin_close.to_bits() != b.pinyin_close.to_bits()
            || a.pinyin_similar.to_bits() != b.pinyin_similar.to_bits()
        {
            return Err(Error::Settings(
                "these settings shape training: train a new model".into(),
            ));
        }
        Ok(Model::assemble(
            settings,
            self.fields.clone(),
            self.training.clone(),
        ))
    }

    /// The same parameters with other thresholds (a policy's). The hash
    /// changes.
    pub fn with_thresholds(&self, link: f64, review: f64) -> Result<Model> {
        let mut s = self.settings.clone();
        s.link_threshold = link;
        s.review_threshold = review;
        self.with_settings(s)
    }

    /// The model as JSON, hash included.
    pub fn to_json(&self) -> String {
        let j = ModelJson {
            format: FORMAT.to_owned(),
            settings: self.settings.clone(),
            fields: self.fields.clone(),
            training: self.training.clone(),
            hash: Some(self.hash.clone()),
        };
        serde_json::to_string_pretty(&j).unwrap_or_default()
    }

    /// Reads a model written by [`Model::to_json`]; the hash it carries
    /// must match its content.
    pub fn from_json(text: &str) -> Result<Model> {
        let j: ModelJson = serde_json::from_str(text)?;
        if j.format != FORMAT {
            return Err(Error::Model(format!(
                "format {:?}, expected {FORMAT:?}",
                j.format
            )));
        }
        j.settings.validate()?;
        if j.fields.len() != TRAINED
            || j.fields.iter().zip(Field::ALL).any(|(p, f)| {
                p.field != f
                    || p.m.len() != f.levels().len() - 1
                    || p.u.len() != p.m.len()
                    || p.m.iter().chain(&p.u).any(|x| !(x.is_finite() && *x > 0.0))
            })
        {
            return Err(Error::Model(
                "fields do not match this version's comparison levels".into(),
            ));
        }
        let model = Model::assemble(j.settings, j.fields, j.training);
        if let Some(h) = j.hash
            && h != model.hash
        {
            return Err(Error::Model(format!(
                "hash {h} does not match the content ({})",
                model.hash
            )));
        }
        Ok(model)
    }

    /// Weight of a trained field's level, no term-frequency adjustment.
    pub(crate) fn weight(&self, f: Field, l: u8) -> f64 {
        if l >= f.missing() {
            0.0
        } else {
            self.weights[f as usize][l as usize]
        }
    }

    /// m of a trained field's level.
    pub(crate) fn m(&self, f: Field, l: u8) -> f64 {
        self.fields[f as usize].m[l as usize]
    }
}

/// Level counts over random pairs.
fn count_u(reg: &Registry, flat: &[(u64, &Record)], s: &MatchSettings) -> [[u64; 8]; FIELDS] {
    let n_rec = flat.len();
    let n_per = reg.len();
    let chunks = s.u_pairs.div_ceil(CHUNK);
    let parts: Vec<[[u64; 8]; FIELDS]> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut counts = [[0u64; 8]; FIELDS];
            let lo = c * CHUNK;
            let hi = ((c + 1) * CHUNK).min(s.u_pairs);
            // Visit the chunk's pairs in record order (memory order) —
            // counts do not depend on the order.
            let mut pairs: Vec<(u32, u32)> = (lo..hi)
                .map(|k| {
                    (
                        below(draw(s.seed, 1, k as u64), n_rec) as u32,
                        below(draw(s.seed, 2, k as u64), n_per) as u32,
                    )
                })
                .collect();
            pairs.sort_unstable();
            for (ri, pi) in pairs {
                let r = flat[ri as usize].1;
                let p = Prepared::new(r);
                let g = compare(&p, &cand_of(reg, pi), s);
                for f in 0..TRAINED {
                    counts[f][g[f] as usize] += 1;
                }
            }
            counts
        })
        .collect();
    let mut total = [[0u64; 8]; FIELDS];
    for p in parts {
        for f in 0..FIELDS {
            for l in 0..8 {
                total[f][l] += p[f][l];
            }
        }
    }
    total
}

/// The person side of a comparison for a registered person.
pub(crate) fn cand_of(reg: &Registry, i: u32) -> Cand<'_> {
    let p = reg.row(i);
    Cand {
        id: p.id_bytes(),
        name: reg.name_str(p.name),
        pinyin: reg.pinyin_str(p.pinyin),
        name_id: p.name,
        pinyin_id: p.pinyin,
        gender: p.gender,
        stated_birth: p.stated_birth,
    }
}

fn encode(g: &Gamma) -> u32 {
    g[..TRAINED]
        .iter()
        .enumerate()
        .fold(0u32, |a, (f, l)| a | (u32::from(*l) << (3 * f)))
}

fn decode(k: u32) -> Gamma {
    let mut g = [0u8; FIELDS];
    for (f, l) in g.iter_mut().enumerate().take(TRAINED) {
        *l = ((k >> (3 * f)) & 7) as u8;
    }
    g[Field::Context as usize] = level::CONTEXT_MISSING;
    g
}

#[derive(Debug, Default)]
struct Sample {
    stratum_records: [usize; 2],
    sampled_records: [usize; 2],
    pairs: u64,
}

/// The EM strata — 0: the id is held by a registered person, 1: the rest —
/// each in the order of a seeded hash of the record's source and id.
fn strata(reg: &Registry, flat: &[(u64, &Record)]) -> [Vec<(u64, usize)>; 2] {
    let tagged: Vec<(bool, u64)> = flat
        .par_iter()
        .map(|(salt, r)| {
            let hit = r.id.valid_body.and_then(|b| reg.index_of_body(b)).is_some();
            (hit, str_hash(*salt, &r.record_id))
        })
        .collect();
    let mut strata: [Vec<(u64, usize)>; 2] = [Vec::new(), Vec::new()];
    for (i, (hit, h)) in tagged.into_iter().enumerate() {
        strata[usize::from(!hit)].push((h, i));
    }
    for st in &mut strata {
        st.par_sort_unstable();
    }
    strata
}

/// The weighted comparison patterns of one EM session's sample, in
/// pattern order: the pairs of `rule`, `excluded` fields set to missing.
fn em_sample(
    reg: &Registry,
    flat: &[(u64, &Record)],
    strata: &[Vec<(u64, usize)>; 2],
    s: &MatchSettings,
    rule: BlockingRule,
    excluded: &[Field],
    em_pairs: usize,
) -> (Vec<(Gamma, f64)>, Sample) {
    let mut sample = Sample {
        stratum_records: [strata[0].len(), strata[1].len()],
        ..Sample::default()
    };
    let mut counts: BTreeMap<u32, [u64; 2]> = BTreeMap::new();
    let mut used = 0u64;
    // The stratum without id hits first, up to half the budget: it holds
    // the rare levels. The other stratum takes the rest.
    for stratum in [1usize, 0] {
        let budget = if stratum == 1 {
            (em_pairs / 2) as u64
        } else {
            (em_pairs as u64).saturating_sub(used)
        };
        let mut taken = 0u64;
        'outer: for chunk in strata[stratum].chunks(2048) {
            let per_record: Vec<Vec<u32>> = chunk
                .par_iter()
                .map(|(_, i)| {
                    let p = Prepared::new(flat[*i].1);
                    let mut keys = KeySink::default();
                    record_keys(rule, &p, &mut keys);
                    let mut out = Vec::new();
                    for k in keys.keys() {
                        let block = reg.block(rule).get(*k);
                        if block.len() > s.max_block_size {
                            continue;
                        }
                        for c in block {
                            let mut g = compare(&p, &cand_of(reg, *c), s);
                            for f in excluded {
                                g[*f as usize] = f.missing();
                            }
                            let informative = (0..TRAINED).any(|f| g[f] < Field::ALL[f].missing());
                            if informative {
                                out.push(encode(&g));
                            }
                        }
                    }
                    out
                })
                .collect();
            for pats in per_record {
                if taken >= budget {
                    break 'outer;
                }
                taken += pats.len() as u64;
                sample.sampled_records[stratum] += 1;
                for k in pats {
                    counts.entry(k).or_default()[stratum] += 1;
                }
            }
        }
        used += taken;
    }
    sample.pairs = used;
    let w = |st: usize| {
        if sample.sampled_records[st] == 0 {
            0.0
        } else {
            sample.stratum_records[st] as f64 / sample.sampled_records[st] as f64
        }
    };
    let (w0, w1) = (w(0), w(1));
    let patterns = counts
        .into_iter()
        .map(|(k, c)| (decode(k), c[0] as f64 * w0 + c[1] as f64 * w1))
        .filter(|(_, w)| *w > 0.0)
        .collect();
    (patterns, sample)
}

/// Expectation–maximisation of m and the match share, u fixed.
fn run_em(
    fields: &mut [FieldParameters],
    patterns: &[(Gamma, f64)],
    s: &MatchSettings,
) -> (u32, bool, f64) {
    let mut lambda = 0.1f64;
    let alpha = s.em_prior_count;
    if patterns.is_empty() {
        return (0, false, lambda);
    }
    for it in 1..=s.em_max_iterations {
        let mut acc: Vec<Vec<f64>> = fields.iter().map(|f| vec![0.0; f.m.len()]).collect();
        let mut g_sum = 0.0;
        let mut w_sum = 0.0;
        for (g, w) in patterns {
            let mut lm = lambda;
            let mut lu = 1.0 - lambda;
            for (f, p) in fields.iter().enumerate() {
                let l = g[f] as usize;
                if l < p.m.len() {
                    lm *= p.m[l];
                    lu *= p.u[l];
                }
            }
            let post = if lm + lu > 0.0 { lm / (lm + lu) } else { 0.0 };
            let gw = post * w;
            for (f, a) in acc.iter_mut().enumerate() {
                let l = g[f] as usize;
                if l < a.len() {
                    a[l] += gw;
                }
            }
            g_sum += gw;
            w_sum += w;
        }
        let mut delta = 0.0f64;
        for (p, a) in fields.iter_mut().zip(&acc) {
            let prior = m0(p.field);
            let total: f64 = a.iter().sum::<f64>() + alpha;
            for l in 0..p.m.len() {
                let new = ((a[l] + alpha * prior[l]) / total).max(1e-9);
                delta = delta.max((new - p.m[l]).abs());
                p.m[l] = new;
            }
            let norm: f64 = p.m.iter().sum();
            for m in &mut p.m {
                *m /= norm;
            }
        }
        lambda = (g_sum / w_sum).clamp(1e-9, 1.0 - 1e-9);
        if delta < s.em_tolerance {
            return (it, true, lambda);
        }
    }
    (s.em_max_iterations, false, lambda)
}
