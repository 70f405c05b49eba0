//! Phase 2a: trap twins and citizen id numbers.
//!
//! Ids are `region (6) + birth date (8) + sequence (3) + check`. The
//! sequence code's last digit is odd for men and even for women; within one
//! region, birth date and gender the codes are a seeded permutation of the
//! 500 possible ones, so every id is unique and valid (GB 11643, ISO 7064
//! MOD 11-2). Trap twins are made before ids: a second person of the same
//! surname, gender, district and about the same age takes the first's
//! given name and birth date, and a sequence code one digit away.

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use hedui_model::Date;
use hedui_model::id::check_char;

use crate::data::COUNTIES;
use crate::error::{Error, Result};
use crate::people::{Household, Person, Status, feature};
use crate::rng::{Rng, domain, mix64};
use crate::world::coprime_step;

/// Steps coprime with 500, for the sequence permutations.
fn steps() -> &'static [u16] {
    static STEPS: std::sync::OnceLock<Vec<u16>> = std::sync::OnceLock::new();
    STEPS.get_or_init(|| (1..500u16).filter(|s| s % 2 != 0 && s % 5 != 0).collect())
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    region: u32,
    day: i32,
    parity: u8,
}

impl Key {
    fn of(p: &Person) -> Key {
        Key {
            region: p.birth_region.parse().unwrap_or(0),
            day: p.birth.num_days_from_ce(),
            parity: u8::from(!p.female),
        }
    }

    /// (start, step) of this key's permutation.
    fn permutation(self, seed: u64) -> (u32, u32) {
        let h = mix64(
            seed ^ mix64(
                u64::from(self.region) << 24 ^ (self.day as u64) << 1 ^ u64::from(self.parity),
            ) ^ domain::SEQUENCE,
        );
        let st = steps();
        (
            (h % 500) as u32,
            u32::from(st[((h >> 32) % st.len() as u64) as usize]),
        )
    }

    /// The `k`-th sequence code (0..999) of this key.
    fn code(self, seed: u64, k: u32) -> u32 {
        let (start, step) = self.permutation(seed);
        let n = (start + k * step) % 500;
        n * 2 + u32::from(self.parity)
    }

    /// Position of a code in this key's permutation.
    fn position(self, seed: u64, code: u32) -> u32 {
        let (start, step) = self.permutation(seed);
        let n = code / 2;
        let inv = (1..500).find(|i| (i * step) % 500 == 1).unwrap_or(1);
        ((n + 500 - start) % 500 * inv) % 500
    }
}

fn write_id(p: &mut Person, seq: u32) {
    let mut body = [0u8; 17];
    body[..6].copy_from_slice(p.birth_region.as_bytes());
    let d = p.birth;
    let date = format!("{:04}{:02}{:02}", d.year(), d.month(), d.day());
    body[6..14].copy_from_slice(date.as_bytes());
    body[14] = b'0' + (seq / 100) as u8;
    body[15] = b'0' + (seq / 10 % 10) as u8;
    body[16] = b'0' + (seq % 10) as u8;
    p.id[..17].copy_from_slice(&body);
    p.id[17] = check_char(&body).unwrap_or(b'0');
}

/// Chooses trap-twin pairs, then assigns every id. Returns the pairs.
pub(crate) fn assign(
    seed: u64,
    persons: &mut [Person],
    households: &mut [Household],
    twin_pairs: usize,
    as_of: Date,
) -> Result<Vec<(u32, u32)>> {
    let pairs = twins(seed, persons, households, twin_pairs, as_of);
    let mut counts: HashMap<Key, u32> = HashMap::new();
    let is_b: HashSet<u32> = pairs.iter().map(|(_, b)| *b).collect();
    for (i, p) in persons.iter_mut().enumerate() {
        if is_b.contains(&(i as u32)) {
            continue;
        }
        let key = Key::of(p);
        let k = counts.entry(key).or_insert(0);
        if *k >= 500 {
            return Err(Error::SequenceExhausted {
                region: p.birth_region.to_owned(),
                birth: p.birth.to_string(),
            });
        }
        let code = key.code(seed, *k);
        *k += 1;
        write_id(p, code);
    }
    let mut extra: HashSet<(Key, u32)> = HashSet::new();
    let mut kept = Vec::with_capacity(pairs.len());
    let mut rng = Rng::derive(seed, domain::TWINS, 1);
    for (a, b) in pairs {
        let key = Key::of(&persons[a as usize]);
        let used = counts.get(&key).copied().unwrap_or(0);
        let a_id = persons[a as usize].id;
        let a_seq = u32::from(a_id[14] - b'0') * 100
            + u32::from(a_id[15] - b'0') * 10
            + u32::from(a_id[16] - b'0');
        // Codes one digit away (first or second digit), keeping the gender.
        let mut candidates: Vec<u32> = Vec::with_capacity(18);
        for pos in [0u32, 1] {
            let unit = if pos == 0 { 100 } else { 10 };
            let digit = a_seq / unit % 10;
            for d in 0..10 {
                if d != digit {
                    candidates.push(a_seq - digit * unit + d * unit);
                }
            }
        }
        let start = rng.index(candidates.len());
        let found = (0..candidates.len())
            .map(|k| candidates[(start + k) % candidates.len()])
            .find(|c| key.position(seed, *c) >= used && !extra.contains(&(key, *c)));
        let b_person = &mut persons[b as usize];
        match found {
            Some(code) => {
                extra.insert((key, code));
                write_id(b_person, code);
                kept.push((a, b));
            }
            None => {
                // No free neighbour: an ordinary code, no trap.
                let k = counts.entry(key).or_insert(0);
                let code = key.code(seed, *k);
                *k += 1;
                write_id(b_person, code);
                b_person.twin_of = None;
                persons[a as usize].twin_of = None;
            }
        }
    }
    Ok(kept)
}

/// Whether a person may take `birth` without breaking the generations of
/// their household.
fn consistent(persons: &[Person], h: &Household, who: usize, birth: Date) -> bool {
    let g = persons[who].rel.generation();
    let year = birth.year();
    h.members().filter(|i| *i != who).all(|i| {
        let m = &persons[i];
        let dg = m.rel.generation() - g;
        let dy = m.birth.year() - year;
        match dg.signum() {
            1 => dy >= 18 * dg,
            -1 => -dy >= 18 * -dg,
            _ => true,
        }
    })
}

fn twins(
    seed: u64,
    persons: &mut [Person],
    households: &mut [Household],
    wanted: usize,
    as_of: Date,
) -> Vec<(u32, u32)> {
    if wanted == 0 || persons.len() < 2 {
        return Vec::new();
    }
    let eligible = |p: &Person, h: &Household| {
        p.in_hukou
            && p.status == Status::Active
            && p.alive_on(as_of)
            && p.surname_len == 1
            && p.birth_region == COUNTIES[usize::from(h.county)].code
            && (1950..=2005).contains(&p.birth.year())
    };
    // Candidates for the second twin by (surname, gender, region, year).
    let mut index: HashMap<(char, bool, &'static str, i32), Vec<u32>> = HashMap::new();
    for (i, p) in persons.iter().enumerate() {
        if eligible(p, &households[p.household as usize]) {
            let s = p.name.chars().next().unwrap_or(' ');
            index
                .entry((s, p.female, p.birth_region, p.birth.year()))
                .or_default()
                .push(i as u32);
        }
    }
    let mut rng = Rng::derive(seed, domain::TWINS, 0);
    let n = persons.len();
    let step = coprime_step(n, &mut rng);
    let start = rng.index(n);
    let mut taken: HashSet<u32> = HashSet::new();
    let mut pairs = Vec::new();
    for k in 0..n {
        if pairs.len() >= wanted {
            break;
        }
        let a = (start + k * step) % n;
        let pa = &persons[a];
        if taken.contains(&(a as u32)) || !eligible(pa, &households[pa.household as usize]) {
            continue;
        }
        let s = pa.name.chars().next().unwrap_or(' ');
        let y = pa.birth.year();
        let mut found = None;
        'search: for dy in [0, 1, -1, 2, -2] {
            let Some(list) = index.get(&(s, pa.female, pa.birth_region, y + dy)) else {
                continue;
            };
            let off = rng.index(list.len());
            for j in 0..list.len() {
                let b = list[(off + j) % list.len()];
                let pb = &persons[b as usize];
                if b as usize == a
                    || taken.contains(&b)
                    || pb.household == pa.household
                    || pb.name == pa.name && pb.birth == pa.birth
                {
                    continue;
                }
                let hb = &households[pb.household as usize];
                if consistent(persons, hb, b as usize, pa.birth) {
                    found = Some(b);
                    break 'search;
                }
            }
        }
        if let Some(b) = found {
            taken.insert(a as u32);
            taken.insert(b);
            let (name, birth) = (persons[a].name.clone(), persons[a].birth);
            let pb = &mut persons[b as usize];
            pb.name = name;
            pb.birth = birth;
            pb.twin_of = Some(a as u32);
            let hb = pb.household as usize;
            persons[a].twin_of = Some(b);
            let ha = persons[a].household as usize;
            households[ha].features |= feature::TWIN;
            households[hb].features |= feature::TWIN;
            pairs.push((a as u32, b));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_positions_invert_codes() {
        let key = Key {
            region: 530302,
            day: 720_000,
            parity: 1,
        };
        for k in 0..500 {
            let c = key.code(9, k);
            assert_eq!(c % 2, 1);
            assert_eq!(key.position(9, c), k);
        }
    }
}
