//! Resolution: every record of a source to a person, with its method and
//! evidence.
//!
//! 1. **Id fast path.** A valid (or upgraded) id that a registered person
//!    holds: `exact` / `upgraded` when the names agree after
//!    normalisation, else `id_conflict` — linked to the id's holder,
//!    flagged, and scored so the reviewer sees how doubtful it is.
//! 2. **Source context.** The exact links of the source say which persons
//!    it holds and with which employer, payer or institution
//!    ([`default_context`](crate::records::default_context)); a record
//!    without a usable id is more likely a person the source already
//!    knows, at the same employer. The context's m-probabilities are
//!    measured on those exact links (per context column set), its
//!    u-probabilities are the shares of registered persons the source
//!    holds; both are in the run's [`ResolveSummary`].
//! 3. **Scoring** of every other record against its blocked candidates
//!    (and the source's unregistered identities with the same name, which
//!    compete but are never linked). The posterior of candidate *k* is
//!
//!    `p_k = 2^W_k / (Σ_c 2^W_c + R)`
//!
//!    where `W_c = log2 λ + Σ_f w_f` is the pair's match weight with the
//!    prior `λ = (1 − φ) / N` that a record belongs to one given person,
//!    and `R = φ·a + (1 − φ)·ρ` is the mass of "nobody among the
//!    candidates": `φ` the source's share of valid-id records whose id
//!    nobody registered holds, `a` the chance that such an outsider leaves
//!    no other record in the source (with the source context; else 1),
//!    `ρ` the chance that blocking missed the true person (from the
//!    m-probabilities). The candidates compete: two persons the evidence
//!    cannot tell apart share the probability, and neither reaches the
//!    threshold. Candidates with the same comparison vector and id
//!    distance are scored once, as a group (a record without id may have
//!    thousands of namesakes in a city).
//! 4. **Decision.** `fuzzy` when `p ≥ link` and no other candidate is at
//!    least as close on every key evidence (id edits, name level, birth
//!    date level, and — for a record with no id at all — the source
//!    context); `possible` when `p ≥ review`; else `unlinked`.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::blocking::{Prepared, candidates};
use crate::compare::{
    Cand, FIELDS, Field, Gamma, TRAINED, compare, id_edits, id_relation, level, show_birth,
};
use crate::links::{Link, Links, Method, ResolveSummary};
use crate::model::{Model, cand_of};
use crate::records::{IdStatus, MAX_CONTEXT_SETS, Record, RecordInput, Records};
use crate::registry::{Registry, digits_u32};
use crate::settings::MatchSettings;
use crate::util::{IntBuild, log2};

const CHUNK: usize = 2048;

/// The source context of one resolution run.
#[derive(Debug)]
struct SourceContext<'a> {
    /// Bitset of persons with an exact or upgraded record in the source.
    member: Vec<u64>,
    linked: usize,
    by_value: HashMap<&'a str, Vec<u32>, IntBuild>,
    /// m of the levels per context set, for records with a context value.
    m_with: [[f64; 3]; MAX_CONTEXT_SETS],
    m_without: [f64; 2],
    /// Records with a valid id nobody registered holds, per name.
    unregistered: HashMap<&'a str, Vec<u32>, IntBuild>,
}

impl SourceContext<'_> {
    fn is_member(&self, p: u32) -> bool {
        self.member[(p / 64) as usize] >> (p % 64) & 1 == 1
    }

    fn level(&self, same: Option<&[u32]>, p: u32) -> u8 {
        if same.is_some_and(|ps| ps.binary_search(&p).is_ok()) {
            return level::CONTEXT_SAME;
        }
        if self.is_member(p) {
            level::CONTEXT_IN_SOURCE
        } else {
            level::CONTEXT_ABSENT
        }
    }
}

/// Per-record u-probabilities of the term-frequency-adjusted levels and
/// of the context levels.
#[derive(Clone, Copy, Debug)]
struct RecordU<'a> {
    name: f64,
    pinyin: f64,
    region: f64,
    birth: f64,
    context: [f64; 3],
    context_m: [f64; 3],
    /// Persons with an id-linked record of the record's context value.
    context_persons: Option<&'a [u32]>,
}

/// Everything one run's scoring needs.
struct Scorer<'a> {
    model: &'a Model,
    reg: &'a Registry,
    s: &'a MatchSettings,
    records: &'a [Record],
    phi: f64,
    prior: f64,
    n: f64,
    ctx: Option<SourceContext<'a>>,
}

/// One scored candidate.
#[derive(Clone, Debug)]
struct Scored {
    /// Registered person, or `None` for an unregistered identity of the
    /// source (index into the records).
    person: Option<u32>,
    unregistered: Option<u32>,
    gamma: Gamma,
    weights: [f64; FIELDS],
    total: f64,
    edits: Option<u8>,
}

/// Candidates of one record that share a comparison vector and an id
/// distance.
#[derive(Debug)]
struct Group {
    /// The scores (of the first member).
    sc: Scored,
    count: u32,
    /// The first members, in id order (empty for an unregistered
    /// identity).
    members: Vec<u32>,
}

fn group_key(s: &Scored) -> u64 {
    let g = s
        .gamma
        .iter()
        .fold(0u64, |a, l| (a << 3) | u64::from(*l & 7));
    (g << 8) | u64::from(s.edits.unwrap_or(255))
}

/// Field weights already computed for one record, by comparison vector.
type Memo = Vec<(Gamma, [f64; FIELDS])>;

/// What step 1 left for a record.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Linked(u32),
    Conflict(u32),
    Score,
}

enum Fast {
    Done(Link),
    Conflict(u32),
    Score,
}

#[derive(Serialize)]
struct SideJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<std::borrow::Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_status: Option<&'static str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pinyin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
}

/// Level and weight of every compared field (fields not compared are
/// left out: their weight is 0).
#[derive(Serialize, Default)]
struct FieldsJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<(&'static str, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<(&'static str, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<(&'static str, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence: Option<(&'static str, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<(&'static str, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<(&'static str, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<(&'static str, f64)>,
}

impl FieldsJson {
    fn new(gamma: &Gamma, weights: &[f64; FIELDS]) -> FieldsJson {
        let mut j = FieldsJson::default();
        for f in Field::ALL {
            let l = gamma[f as usize];
            if l >= f.missing() {
                continue;
            }
            let v = Some((f.levels()[l as usize], round4(weights[f as usize])));
            match f {
                Field::Name => j.name = v,
                Field::Region => j.region = v,
                Field::BirthDate => j.birth_date = v,
                Field::Sequence => j.sequence = v,
                Field::Check => j.check = v,
                Field::Gender => j.gender = v,
                Field::Context => j.context = v,
            }
        }
        j
    }
}

#[derive(Serialize)]
struct AltJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    person_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unregistered_id: Option<String>,
    weight: f64,
    probability: f64,
    id_relation: &'static str,
    name: &'static str,
    birth_date: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'static str>,
    /// Candidates sharing this evidence (namesakes of a record without id).
    #[serde(skip_serializing_if = "Option::is_none")]
    same_evidence: Option<u32>,
}

#[derive(Serialize)]
struct ExplainJson<'a> {
    id_relation: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_edits: Option<u8>,
    record: SideJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    person: Option<SideJson<'a>>,
    prior: f64,
    fields: FieldsJson,
    weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    others: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outside: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alternatives: Vec<AltJson>,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The share of records with a valid id whose id nobody holds.
fn outsider_rate(reg: &Registry, rows: &[Record], s: &MatchSettings) -> f64 {
    let (valid, out) = rows
        .par_chunks(CHUNK)
        .map(|c| {
            let mut v = 0usize;
            let mut o = 0usize;
            for r in c {
                if let Some(b) = r.id.valid_body {
                    v += 1;
                    if reg.index_of_body(b).is_none() {
                        o += 1;
                    }
                }
            }
            (v, o)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    if valid == 0 {
        s.default_outsider_rate
    } else {
        (out as f64 / valid as f64).clamp(s.min_outsider_rate, 0.5)
    }
}

impl<'a> Scorer<'a> {
    fn new(model: &'a Model, reg: &'a Registry, records: &'a [Record], phi: f64) -> Scorer<'a> {
        let n = reg.len().max(1) as f64;
        Scorer {
            model,
            reg,
            s: model.settings(),
            records,
            phi,
            prior: log2((1.0 - phi) / n),
            n,
            ctx: None,
        }
    }

    /// Step 1: the id fast path.
    /// What [`Scorer::fast`] would do with a record, without building its
    /// link: linked by its id, an id held by someone else's name, or to
    /// be scored.
    fn classify(&self, rec: &Record) -> Kind {
        let Some(holder) = rec.id.valid_body.and_then(|b| self.reg.index_of_body(b)) else {
            return Kind::Score;
        };
        let person = self.reg.row(holder);
        if !rec.name.is_empty() && *rec.name == *self.reg.name_str(person.name) {
            Kind::Linked(holder)
        } else {
            Kind::Conflict(holder)
        }
    }

    /// The summary of `records` links with these method counts.
    fn summary(
        &self,
        records: usize,
        methods: std::collections::BTreeMap<&'static str, usize>,
        (scored_records, scored_pairs): (usize, u64),
    ) -> ResolveSummary {
        let (context_persons, context_m) = self
            .ctx
            .as_ref()
            .map_or((0, [0.0; 3]), |c| (c.linked, c.m_with[0]));
        ResolveSummary {
            records,
            methods,
            outsider_rate: self.phi,
            scored_records,
            scored_pairs,
            context_persons,
            context_m,
        }
    }

    fn fast(&self, rec: &Record) -> Fast {
        let Some(holder) = rec.id.valid_body.and_then(|b| self.reg.index_of_body(b)) else {
            return Fast::Score;
        };
        let person = self.reg.row(holder);
        if !rec.name.is_empty() && *rec.name == *self.reg.name_str(person.name) {
            let method = if rec.id.status == IdStatus::Upgraded {
                Method::Upgraded
            } else {
                Method::Exact
            };
            let mut p = Prepared::new(rec);
            p.name_id = person.name;
            let u = self.exact_u(person);
            let sc = self.score(&p, &u, holder, &mut Vec::new());
            let explanation = exact_json(rec, &sc, self.prior);
            Fast::Done(Link {
                record_id: rec.record_id.to_string(),
                person_id: Some(person.id),
                method,
                match_probability: Some(1.0),
                match_weight: Some(sc.total),
                candidates: 1,
                levels: sc.gamma,
                weights: sc.weights,
                explanation,
            })
        } else {
            Fast::Conflict(holder)
        }
    }

    /// The term frequencies of an exact link: the person's own values.
    fn exact_u(&self, person: &crate::registry::PersonRow) -> RecordU<'static> {
        let f = |c: u32| f64::from(c.max(1)) / self.n;
        RecordU {
            name: f(self.reg.name_count[person.name as usize]),
            pinyin: 1.0,
            region: f(person.region_n),
            birth: f(person.birth_n),
            context: [1.0; 3],
            context_m: [1.0; 3],
            context_persons: None,
        }
    }

    fn record_u(&self, p: &Prepared<'_>) -> RecordU<'_> {
        let reg = self.reg;
        let n = self.n;
        let rec = p.rec;
        let count = |k: u32, counts: &[u32]| {
            if k == crate::blocking::NONE {
                0
            } else {
                counts[k as usize]
            }
        };
        let name_n = count(p.name_id, &reg.name_count);
        let py_n = count(p.pinyin_id, &reg.pinyin_count);
        let region_n = rec
            .id
            .part(0, 6)
            .and_then(|r| reg.region_count.get(&digits_u32(r)).copied())
            .unwrap_or(0);
        let birth_n = p
            .birth8
            .and_then(|b| reg.birth_count.get(&digits_u32(&b)).copied())
            .unwrap_or(0);
        let f = |c: u32| f64::from(c.max(1)) / n;
        let mut u = RecordU {
            name: f(name_n),
            pinyin: f(py_n.saturating_sub(name_n)),
            region: f(region_n),
            birth: f(birth_n),
            context: [1.0; 3],
            context_m: [1.0; 3],
            context_persons: None,
        };
        if let Some(ctx) = &self.ctx {
            let floor = 0.5 / n;
            let linked = ctx.linked as f64;
            match rec.context.as_deref() {
                Some(v) => {
                    let persons = ctx.by_value.get(v);
                    u.context_persons = persons.map(|p| p.as_slice());
                    let nv = persons.map_or(0, Vec::len) as f64;
                    u.context = [
                        (nv / n).max(floor),
                        ((linked - nv) / n).max(floor),
                        ((n - linked) / n).max(floor),
                    ];
                    u.context_m = ctx.m_with[rec.context_set().unwrap_or(0)];
                }
                None => {
                    u.context = [1.0, (linked / n).max(floor), ((n - linked) / n).max(floor)];
                    u.context_m = [1.0, ctx.m_without[0], ctx.m_without[1]];
                }
            }
        }
        u
    }

    fn weights(&self, g: &Gamma, u: &RecordU) -> [f64; FIELDS] {
        let mut w = [0.0; FIELDS];
        for f in &Field::ALL[..TRAINED] {
            let l = g[*f as usize];
            w[*f as usize] = if l >= f.missing() {
                0.0
            } else if l == level::EXACT && f.term_frequency() {
                let tf = match f {
                    Field::Name => u.name,
                    Field::Region => u.region,
                    _ => u.birth,
                };
                log2(self.model.m(*f, l)) - log2(tf)
            } else if *f == Field::Name && l == level::NAME_PINYIN {
                log2(self.model.m(*f, l)) - log2(u.pinyin)
            } else {
                self.model.weight(*f, l)
            };
        }
        let l = g[Field::Context as usize];
        if l < level::CONTEXT_MISSING {
            w[Field::Context as usize] =
                log2(u.context_m[l as usize]) - log2(u.context[l as usize]);
        }
        w
    }

    fn finish(
        &self,
        mut gamma: Gamma,
        u: &RecordU,
        p: &Prepared<'_>,
        c: &Cand<'_>,
        memo: &mut Memo,
    ) -> Scored {
        if self.ctx.is_none() {
            gamma[Field::Context as usize] = level::CONTEXT_MISSING;
        }
        // A record's weights depend only on the comparison vector: the
        // many namesakes of a record without id share a handful of them.
        let weights = match memo.iter().find(|(g, _)| *g == gamma) {
            Some((_, w)) => *w,
            None => {
                let w = self.weights(&gamma, u);
                if memo.len() < 64 {
                    memo.push((gamma, w));
                }
                w
            }
        };
        let total = self.prior + weights.iter().sum::<f64>();
        Scored {
            person: None,
            unregistered: None,
            gamma,
            weights,
            total,
            edits: id_edits(p, c),
        }
    }

    fn score(&self, p: &Prepared<'_>, u: &RecordU, person: u32, memo: &mut Memo) -> Scored {
        let c = cand_of(self.reg, person);
        let mut g = compare(p, &c, self.s);
        if let Some(ctx) = &self.ctx {
            g[Field::Context as usize] = ctx.level(u.context_persons, person);
        }
        let mut sc = self.finish(g, u, p, &c, memo);
        sc.person = Some(person);
        sc
    }

    fn unregistered_cand(&self, i: u32) -> Cand<'a> {
        let r = &self.records[i as usize];
        let gender = if (r.id.chars[16].wrapping_sub(b'0')) % 2 == 1 {
            1
        } else {
            2
        };
        Cand {
            id: &r.id.chars,
            name: &r.name,
            pinyin: &r.pinyin,
            name_id: crate::blocking::NONE,
            pinyin_id: crate::blocking::NONE,
            gender,
            stated_birth: 0,
        }
    }

    /// Unregistered identities of the source with the record's name.
    fn unregistered(&self, p: &Prepared<'_>, u: &RecordU, out: &mut Vec<Scored>, memo: &mut Memo) {
        let Some(ctx) = &self.ctx else { return };
        let rec = p.rec;
        let Some(list) = ctx.unregistered.get(&*rec.name) else {
            return;
        };
        let mut seen: Vec<u64> = Vec::new();
        for &i in list.iter().take(256) {
            let other = &self.records[i as usize];
            let Some(body) = other.id.valid_body else {
                continue;
            };
            if Some(body) == rec.id.valid_body || seen.contains(&body) {
                continue;
            }
            seen.push(body);
            let same_ctx = rec.context.is_some()
                && list.iter().take(256).any(|&j| {
                    let o = &self.records[j as usize];
                    o.id.valid_body == Some(body) && o.context == rec.context
                });
            let c = self.unregistered_cand(i);
            let mut g = compare(p, &c, self.s);
            g[Field::Context as usize] = if same_ctx {
                level::CONTEXT_SAME
            } else {
                level::CONTEXT_IN_SOURCE
            };
            let mut sc = self.finish(g, u, p, &c, memo);
            sc.unregistered = Some(i);
            out.push(sc);
            if seen.len() >= 16 {
                break;
            }
        }
    }

    /// The "nobody among the candidates" mass `R`.
    ///
    /// With the source context, an outsider whose record this is would
    /// usually show up in the source under an unregistered id; those
    /// identities compete as candidates, so the outsider mass left is that
    /// of an outsider with no other record in the source:
    /// `φ · m(absent) / u(absent)`.
    fn outside(&self, rec: &Record, u: &RecordU) -> f64 {
        let rho = self.model.training().blocking_miss[usize::from(rec.id.have != 0)];
        let visible = match &self.ctx {
            Some(_) => {
                let a = level::CONTEXT_ABSENT as usize;
                (u.context_m[a] / u.context[a]).min(1.0)
            }
            None => 1.0,
        };
        self.phi * visible + (1.0 - self.phi) * rho
    }

    /// Steps 3 and 4 for one record; `holder` is the id's holder of an
    /// id conflict.
    fn resolve_scored(&self, rec: &Record, holder: Option<u32>) -> (Link, u64) {
        let p = Prepared::interned(rec, self.reg);
        let u = self.record_u(&p);
        let mut buf = Vec::new();
        candidates(self.reg, &p, self.s, &mut buf, None);
        if let Some(h) = holder
            && let Err(pos) = buf.binary_search(&h)
        {
            buf.insert(pos, h);
        }
        // Candidates with the same comparison vector and id distance have
        // the same weight and the same standing: they are kept as groups
        // (a record without id may have thousands of namesakes). Persons
        // are visited in id order, so a group's first member has the
        // smallest id.
        let keep = self.s.max_alternatives + 1;
        let mut memo = Memo::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<u64, usize, IntBuild> = HashMap::default();
        let mut holder_group = None;
        for &c in &buf {
            let sc = self.score(&p, &u, c, &mut memo);
            let key = group_key(&sc);
            let gi = *index.entry(key).or_insert_with(|| {
                groups.push(Group {
                    sc,
                    count: 0,
                    members: Vec::new(),
                });
                groups.len() - 1
            });
            let g = &mut groups[gi];
            g.count += 1;
            if g.members.len() < keep || Some(c) == holder {
                g.members.push(c);
            }
            if Some(c) == holder {
                holder_group = Some(gi);
            }
        }
        let mut pseudo = Vec::new();
        self.unregistered(&p, &u, &mut pseudo, &mut memo);
        for sc in pseudo {
            groups.push(Group {
                sc,
                count: 1,
                members: Vec::new(),
            });
        }
        let pairs: u64 = groups.iter().map(|g| u64::from(g.count)).sum();
        // Best first; ties by the first member's id (registered first).
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by(|a, b| {
            let (ga, gb) = (&groups[*a], &groups[*b]);
            gb.sc
                .total
                .total_cmp(&ga.sc.total)
                .then_with(|| self.group_order(ga).cmp(&self.group_order(gb)))
        });
        let outside = self.outside(rec, &u);
        let top = order.first().map_or(0.0, |g| groups[*g].sc.total);
        let denom: f64 = groups
            .iter()
            .map(|g| f64::from(g.count) * (g.sc.total - top).exp2())
            .sum::<f64>()
            + outside * (-top).exp2();
        let prob = |total: f64| {
            if denom > 0.0 {
                (total - top).exp2() / denom
            } else {
                0.0
            }
        };
        let chosen = match (holder, holder_group) {
            (Some(h), Some(g)) => Some((g, h)),
            (Some(_), None) => None,
            (None, _) => order
                .iter()
                .find(|g| !groups[**g].members.is_empty())
                .map(|g| (*g, groups[*g].members[0])),
        };
        let Some((bg, best_person)) = chosen else {
            let explanation = self.explain_none(&p);
            return (
                Link {
                    record_id: rec.record_id.to_string(),
                    person_id: None,
                    method: Method::Unlinked,
                    match_probability: None,
                    match_weight: None,
                    candidates: pairs as u32,
                    levels: no_levels(),
                    weights: [0.0; FIELDS],
                    explanation,
                },
                pairs,
            );
        };
        let mut best = groups[bg].sc.clone();
        best.person = Some(best_person);
        let pb = prob(best.total);
        let method = if holder.is_some() {
            Method::IdConflict
        } else {
            let key = |s: &Scored| {
                let mut k = vec![
                    s.edits.unwrap_or(99),
                    s.gamma[Field::Name as usize],
                    s.gamma[Field::BirthDate as usize],
                ];
                if rec.id.have == 0 {
                    k.push(s.gamma[Field::Context as usize]);
                }
                k
            };
            let kb = key(&best);
            let ambiguous = groups[bg].count > 1
                || groups
                    .iter()
                    .enumerate()
                    .any(|(i, g)| i != bg && key(&g.sc).iter().zip(&kb).all(|(a, b)| a <= b));
            if pb >= self.s.link_threshold && !ambiguous {
                Method::Fuzzy
            } else if pb >= self.s.review_threshold {
                Method::Possible
            } else {
                Method::Unlinked
            }
        };
        let outside_mass = outside * (-top).exp2() / denom;
        let others = 1.0 - pb - outside_mass;
        let mut alternatives: Vec<AltJson> = Vec::new();
        'alt: for gi in &order {
            let g = &groups[*gi];
            if g.members.is_empty() {
                if alternatives.len() >= self.s.max_alternatives {
                    break;
                }
                alternatives.push(self.alt_json(&p, &g.sc, prob(g.sc.total), 1));
                continue;
            }
            for m in &g.members {
                if *m == best_person {
                    continue;
                }
                if alternatives.len() >= self.s.max_alternatives {
                    break 'alt;
                }
                let mut sc = g.sc.clone();
                sc.person = Some(*m);
                alternatives.push(self.alt_json(&p, &sc, prob(sc.total), g.count));
            }
        }
        let explanation = self.explain(
            &p,
            &best,
            alternatives,
            Some((others.max(0.0), outside_mass)),
        );
        let person_id = match method {
            Method::Unlinked => None,
            _ => Some(self.reg.row(best_person).id),
        };
        (
            Link {
                record_id: rec.record_id.to_string(),
                person_id,
                method,
                match_probability: Some(pb),
                match_weight: Some(best.total),
                candidates: pairs as u32,
                levels: best.gamma,
                weights: best.weights,
                explanation,
            },
            pairs,
        )
    }

    /// Tie-break of groups of equal weight: the first member's id,
    /// registered persons before unregistered identities.
    fn group_order(&self, g: &Group) -> (u8, [u8; 18]) {
        match g.members.first() {
            Some(m) => {
                let mut k = [0u8; 18];
                k.copy_from_slice(self.reg.row(*m).id_bytes());
                (0, k)
            }
            None => self.key_of(&g.sc),
        }
    }

    fn key_of(&self, s: &Scored) -> (u8, [u8; 18]) {
        match (s.person, s.unregistered) {
            (Some(i), _) => {
                let mut k = [0u8; 18];
                k.copy_from_slice(self.reg.row(i).id_bytes());
                (0, k)
            }
            (None, Some(i)) => (1, self.records[i as usize].id.chars),
            _ => (2, [0; 18]),
        }
    }

    fn cand_for(&self, s: &Scored) -> Option<Cand<'a>> {
        match (s.person, s.unregistered) {
            (Some(i), _) => Some(cand_of(self.reg, i)),
            (None, Some(i)) => Some(self.unregistered_cand(i)),
            _ => None,
        }
    }

    fn alt_json(&self, p: &Prepared<'_>, s: &Scored, probability: f64, tied: u32) -> AltJson {
        let c = self.cand_for(s);
        let lv = |f: Field| f.levels()[s.gamma[f as usize] as usize];
        AltJson {
            person_id: s.person.map(|i| self.reg.row(i).id.to_string()),
            unregistered_id: s
                .unregistered
                .and_then(|i| self.records[i as usize].id.text()),
            weight: round4(s.total),
            probability: round4(probability),
            id_relation: c.map_or("missing", |c| id_relation(p, &c)),
            name: lv(Field::Name),
            birth_date: lv(Field::BirthDate),
            context: (s.gamma[Field::Context as usize] != level::CONTEXT_MISSING)
                .then(|| lv(Field::Context)),
            same_evidence: (tied > 1).then_some(tied),
        }
    }

    fn record_side<'b>(&self, p: &'b Prepared<'b>, full: bool) -> SideJson<'b> {
        let rec = p.rec;
        SideJson {
            id: rec.id.text_ref(),
            id_status: full.then(|| rec.id.status.code()),
            name: &rec.name,
            pinyin: full.then_some(&*rec.pinyin),
            birth_date: if full {
                p.birth8.as_ref().map(show_birth)
            } else {
                None
            },
            context: if full { rec.context_display() } else { None },
        }
    }

    /// The explanation of a link; `scored` adds the person's side, the
    /// competition and the alternatives (an exact link's record and person
    /// agree on id and name by definition).
    fn explain(
        &self,
        p: &Prepared<'_>,
        best: &Scored,
        alternatives: Vec<AltJson>,
        competition: Option<(f64, f64)>,
    ) -> String {
        let c = self.cand_for(best);
        let scored = competition.is_some();
        let person = c.filter(|_| scored).map(|c| SideJson {
            id: Some(String::from_utf8_lossy(c.id)),
            id_status: None,
            name: c.name,
            pinyin: Some(c.pinyin),
            birth_date: Some(show_birth(&c.birth8(!p.rec.id.has(6, 14)))),
            context: None,
        });
        let j = ExplainJson {
            id_relation: c.map_or("missing", |c| id_relation(p, &c)),
            id_edits: best.edits.filter(|_| scored),
            record: self.record_side(p, scored),
            person,
            prior: round4(self.prior),
            fields: FieldsJson::new(&best.gamma, &best.weights),
            weight: round4(best.total),
            others: competition.map(|c| round4(c.0)),
            outside: competition.map(|c| round4(c.1)),
            alternatives,
        };
        serde_json::to_string(&j).unwrap_or_default()
    }

    fn explain_none(&self, p: &Prepared<'_>) -> String {
        let j = ExplainJson {
            id_relation: "missing",
            id_edits: None,
            record: self.record_side(p, true),
            person: None,
            prior: round4(self.prior),
            fields: FieldsJson::default(),
            weight: 0.0,
            others: None,
            outside: Some(1.0),
            alternatives: Vec::new(),
        };
        serde_json::to_string(&j).unwrap_or_default()
    }
}

/// The explanation of an exact or upgraded link, written directly (most
/// links are exact: this is the hot path). Same shape as [`ExplainJson`]
/// without the person's side, which the record matches by definition.
fn exact_json(rec: &Record, sc: &Scored, prior: f64) -> String {
    fn num(out: &mut Vec<u8>, x: f64) {
        let _ = serde_json::to_writer(&mut *out, &round4(x));
    }
    let mut out: Vec<u8> = Vec::with_capacity(240);
    out.extend_from_slice(b"{\"id_relation\":\"equal\",\"record\":{");
    if let Some(id) = rec.id.text_ref() {
        out.extend_from_slice(b"\"id\":");
        let _ = serde_json::to_writer(&mut out, &*id);
        out.push(b',');
    }
    out.extend_from_slice(b"\"name\":");
    let _ = serde_json::to_writer(&mut out, &*rec.name);
    out.extend_from_slice(b"},\"prior\":");
    num(&mut out, prior);
    out.extend_from_slice(b",\"fields\":{");
    let mut first = true;
    for f in Field::ALL {
        let l = sc.gamma[f as usize];
        if l >= f.missing() {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'"');
        out.extend_from_slice(f.code().as_bytes());
        out.extend_from_slice(b"\":[\"");
        out.extend_from_slice(f.levels()[l as usize].as_bytes());
        out.extend_from_slice(b"\",");
        num(&mut out, sc.weights[f as usize]);
        out.push(b']');
    }
    out.extend_from_slice(b"},\"weight\":");
    num(&mut out, sc.total);
    out.push(b'}');
    String::from_utf8(out).unwrap_or_default()
}

fn no_levels() -> [u8; FIELDS] {
    let mut l = [0u8; FIELDS];
    for f in Field::ALL {
        l[f as usize] = f.missing();
    }
    l
}

fn build_context<'a>(reg: &Registry, rows: &'a [Record], kinds: &[Kind]) -> SourceContext<'a> {
    let n = reg.len();
    let mut member = vec![0u64; n.div_ceil(64).max(1)];
    // (person, context) of every exact or upgraded record.
    let mut pairs: Vec<(u32, Option<&'a str>)> = Vec::new();
    let mut unregistered: HashMap<&'a str, Vec<u32>, IntBuild> = HashMap::default();
    for (i, (rec, k)) in rows.iter().zip(kinds).enumerate() {
        match k {
            Kind::Linked(person) => pairs.push((*person, rec.context.as_deref())),
            Kind::Score if rec.id.valid_body.is_some() && !rec.name.is_empty() => {
                unregistered.entry(&rec.name).or_default().push(i as u32);
            }
            _ => {}
        }
    }
    pairs.sort_unstable();
    let mut by_value: HashMap<&'a str, Vec<u32>, IntBuild> = HashMap::default();
    let mut linked = 0;
    let mut with = [[0u64; 3]; MAX_CONTEXT_SETS];
    let mut without = [0u64; 2];
    let mut i = 0;
    while i < pairs.len() {
        let person = pairs[i].0;
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == person {
            j += 1;
        }
        member[(person / 64) as usize] |= 1 << (person % 64);
        linked += 1;
        let group = &pairs[i..j];
        let many = group.len() >= 2;
        let mut k = 0;
        while k < group.len() {
            let v = group[k].1;
            let mut e = k;
            while e < group.len() && group[e].1 == v {
                e += 1;
            }
            let same = e - k;
            match v {
                Some(v) => {
                    by_value.entry(v).or_default().push(person);
                    let l = if same >= 2 {
                        0
                    } else if many {
                        1
                    } else {
                        2
                    };
                    let set =
                        usize::from(v.as_bytes()[0].wrapping_sub(b'0')).min(MAX_CONTEXT_SETS - 1);
                    with[set][l] += same as u64;
                }
                None => without[usize::from(!many)] += same as u64,
            }
            k = e;
        }
        i = j;
    }
    // Persons are pushed in ascending order, so every list is sorted.
    let norm = |c: &[u64]| -> Vec<f64> {
        let t: u64 = c.iter().sum();
        c.iter()
            .map(|x| (*x as f64 + 0.5) / (t as f64 + 0.5 * c.len() as f64))
            .collect()
    };
    let mut m_with = [[0.0; 3]; MAX_CONTEXT_SETS];
    for (m, c) in m_with.iter_mut().zip(&with) {
        let v = norm(c);
        *m = [v[0], v[1], v[2]];
    }
    let mo = norm(&without);
    SourceContext {
        member,
        linked,
        by_value,
        m_with,
        m_without: [mo[0], mo[1]],
        unregistered,
    }
}

impl Model {
    /// Resolves every record of one source (see the module docs). Only
    /// this source's records are read: a new snapshot of a source is
    /// linked alone.
    pub fn resolve(&self, registry: &Registry, records: &Records) -> Links {
        let mut links = Vec::with_capacity(records.len());
        let summary = self
            .resolve_chunked(registry, records, usize::MAX, |chunk| {
                links.extend(chunk.links);
                Ok::<(), std::convert::Infallible>(())
            })
            .unwrap_or_else(|e| match e {});
        Links {
            source: records.source().to_owned(),
            registry_hash: registry.hash().to_owned(),
            model_hash: self.hash().to_owned(),
            summary,
            links,
        }
    }

    /// As [`Model::resolve`], handing the links to `sink` in pieces of at
    /// most `chunk` records, in the same order (by record_id), so that a
    /// source of tens of millions of records never holds all its links at
    /// once. The whole source is still read first — the outsider rate and
    /// the source context are measured on all of it — so the links are
    /// the same, bit for bit, whatever `chunk` is. Each piece carries the
    /// counts of its own links; the summary of the whole run is returned.
    /// There is always at least one piece (empty for an empty source).
    pub fn resolve_chunked<E>(
        &self,
        registry: &Registry,
        records: &Records,
        chunk: usize,
        mut sink: impl FnMut(Links) -> Result<(), E>,
    ) -> Result<ResolveSummary, E> {
        let rows = &records.rows;
        let phi = outsider_rate(registry, rows, self.settings());
        // Links by id are scored without the source context (it is
        // measured on them); the rest with it.
        let base = Scorer::new(self, registry, rows, phi);
        let mut scorer = Scorer::new(self, registry, rows, phi);
        // Step 1: which records an id links at once, and what is left.
        let kinds: Vec<Kind> = rows.par_iter().map(|r| base.classify(r)).collect();
        if self.settings().source_context {
            scorer.ctx = Some(build_context(registry, rows, &kinds));
        }
        // Sorted by record_id (input order between equal ids).
        let mut order: Vec<u32> = (0..rows.len() as u32).collect();
        order.par_sort_unstable_by(|a, b| {
            rows[*a as usize]
                .record_id
                .cmp(&rows[*b as usize].record_id)
                .then(a.cmp(b))
        });
        let mut methods = std::collections::BTreeMap::new();
        for m in Method::ALL {
            methods.insert(m.code(), 0);
        }
        let (mut scored_records, mut scored_pairs) = (0usize, 0u64);
        // An empty source still gives one (empty) piece.
        let pieces: Vec<&[u32]> = if order.is_empty() {
            vec![&[]]
        } else {
            order.chunks(chunk.max(1)).collect()
        };
        for piece in pieces {
            // Step 2: each record of the piece placed, in parallel, in
            // order.
            let placed: Vec<(Link, Option<u64>)> = piece
                .par_iter()
                .with_min_len(256)
                .map(|&i| {
                    let rec = &rows[i as usize];
                    let scored = |h: Option<u32>| {
                        let (l, n) = scorer.resolve_scored(rec, h);
                        (l, Some(n))
                    };
                    match kinds[i as usize] {
                        // classify and fast agree, so a linked record is
                        // done here.
                        Kind::Linked(_) => match base.fast(rec) {
                            Fast::Done(l) => (l, None),
                            Fast::Conflict(h) => scored(Some(h)),
                            Fast::Score => scored(None),
                        },
                        Kind::Conflict(h) => scored(Some(h)),
                        Kind::Score => scored(None),
                    }
                })
                .collect();
            let mut piece_methods = std::collections::BTreeMap::new();
            for m in Method::ALL {
                piece_methods.insert(m.code(), 0);
            }
            let mut piece_scored = (0usize, 0u64);
            let links: Vec<Link> = placed
                .into_iter()
                .map(|(l, n)| {
                    if let Some(n) = n {
                        piece_scored.0 += 1;
                        piece_scored.1 += n;
                    }
                    *piece_methods.entry(l.method.code()).or_default() += 1;
                    l
                })
                .collect();
            scored_records += piece_scored.0;
            scored_pairs += piece_scored.1;
            for (m, n) in &piece_methods {
                *methods.entry(m).or_default() += n;
            }
            let summary = scorer.summary(links.len(), piece_methods, piece_scored);
            sink(Links {
                source: records.source().to_owned(),
                registry_hash: registry.hash().to_owned(),
                model_hash: self.hash().to_owned(),
                summary,
                links,
            })?;
        }
        Ok(scorer.summary(rows.len(), methods, (scored_records, scored_pairs)))
    }

    /// Resolves one record given by value (a single household's check):
    /// the id hash lookup first, then scoring against the blocked
    /// candidates, with the default outsider rate and no source context.
    pub fn resolve_one(&self, registry: &Registry, input: &RecordInput) -> Link {
        let rows = [input.to_record()];
        let scorer = Scorer::new(self, registry, &rows, self.settings().default_outsider_rate);
        match scorer.fast(&rows[0]) {
            Fast::Done(l) => l,
            Fast::Conflict(h) => scorer.resolve_scored(&rows[0], Some(h)).0,
            Fast::Score => scorer.resolve_scored(&rows[0], None).0,
        }
    }
}
