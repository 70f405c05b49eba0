//! Comparison vectors: how a record and a person agree, field by field.
//!
//! The id is not compared as one string: its parts are separate fields
//! (region, birth date, sequence, check character), because a typo hits
//! one part and leaves the others intact, and because the parts are close
//! to independent — which Fellegi–Sunter assumes. Comparing the whole id
//! *and* the birth date and region it encodes would count the same digits
//! twice. The whole-id distance (one substitution, one adjacent
//! transposition …) is still computed, for the explanation and for the
//! ambiguity guard.
//!
//! The name is one field whose levels go from the characters to the
//! pinyin: exact normal form, then the same pinyin (a homophone or a
//! variant character), then two Jaro–Winkler bands of the pinyin keys.
//! Characters and pinyin are not two fields, for the same reason: equal
//! characters imply equal pinyin.

use serde::{Deserialize, Serialize};

use crate::blocking::{NONE, Prepared};
use crate::records::plausible_date;
use crate::settings::MatchSettings;

/// A field of the comparison vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The name: normal form, then pinyin.
    Name = 0,
    /// The id's region code (digits 1–6).
    Region = 1,
    /// The birth date: the id's digits 7–14, else a stated birth date.
    BirthDate = 2,
    /// The id's sequence code (digits 15–17, the last one encoding the
    /// gender).
    Sequence = 3,
    /// The id's check character (digit 18), compared only when the
    /// record's id is invalid (a valid id's check follows from its body).
    Check = 4,
    /// Gender, compared only where the sequence does not already say it:
    /// a stated gender, or the id's gender digit when the sequences differ.
    Gender = 5,
    /// The record's own source: whether the person has id-linked records
    /// there, with the same employer or institution.
    Context = 6,
}

/// Number of fields.
pub(crate) const FIELDS: usize = 7;
/// Fields whose m-probabilities EM estimates (all but the source context,
/// which is estimated on each source's id-linked records).
pub(crate) const TRAINED: usize = 6;

/// A comparison vector: one level per field.
pub(crate) type Gamma = [u8; FIELDS];

pub(crate) mod level {
    pub(crate) const EXACT: u8 = 0;

    pub(crate) const NAME_PINYIN: u8 = 1;
    pub(crate) const NAME_CLOSE: u8 = 2;
    pub(crate) const NAME_SIMILAR: u8 = 3;
    pub(crate) const NAME_OTHER: u8 = 4;
    pub(crate) const NAME_MISSING: u8 = 5;

    pub(crate) const ONE_EDIT: u8 = 1;
    pub(crate) const REGION_MISSING: u8 = 3;

    pub(crate) const BIRTH_ONE_COMPONENT: u8 = 2;
    pub(crate) const BIRTH_OTHER: u8 = 3;
    pub(crate) const BIRTH_MISSING: u8 = 4;

    pub(crate) const SEQ_OTHER: u8 = 2;
    pub(crate) const SEQ_MISSING: u8 = 3;

    pub(crate) const CHECK_OTHER: u8 = 1;
    pub(crate) const CHECK_MISSING: u8 = 2;

    pub(crate) const GENDER_OTHER: u8 = 1;
    pub(crate) const GENDER_MISSING: u8 = 2;

    pub(crate) const CONTEXT_SAME: u8 = 0;
    pub(crate) const CONTEXT_IN_SOURCE: u8 = 1;
    pub(crate) const CONTEXT_ABSENT: u8 = 2;
    pub(crate) const CONTEXT_MISSING: u8 = 3;
}

impl Field {
    /// Every field, in vector order.
    pub const ALL: [Field; FIELDS] = [
        Field::Name,
        Field::Region,
        Field::BirthDate,
        Field::Sequence,
        Field::Check,
        Field::Gender,
        Field::Context,
    ];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Region => "region",
            Field::BirthDate => "birth_date",
            Field::Sequence => "sequence",
            Field::Check => "check",
            Field::Gender => "gender",
            Field::Context => "context",
        }
    }

    /// The level codes, best first; the last is `missing` (not compared,
    /// weight 0).
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Name => &[
                "exact",
                "pinyin_exact",
                "pinyin_close",
                "pinyin_similar",
                "other",
                "missing",
            ],
            Field::Region | Field::Sequence => &["exact", "one_edit", "other", "missing"],
            Field::BirthDate => &["exact", "one_edit", "one_component", "other", "missing"],
            Field::Check | Field::Gender => &["exact", "other", "missing"],
            Field::Context => &["same_context", "in_source", "absent", "missing"],
        }
    }

    /// The `missing` level.
    pub fn missing(self) -> u8 {
        (self.levels().len() - 1) as u8
    }

    /// Whether the exact level's u-probability is adjusted for the
    /// frequency of the value (张伟 = 张伟 is worth less than a rare name).
    pub fn term_frequency(self) -> bool {
        matches!(self, Field::Name | Field::Region | Field::BirthDate)
    }
}

/// The person side of a comparison.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cand<'a> {
    pub(crate) id: &'a [u8],
    pub(crate) name: &'a str,
    pub(crate) pinyin: &'a str,
    /// Interned ids of a registered person's name and pinyin
    /// (`blocking::NONE` otherwise).
    pub(crate) name_id: u32,
    pub(crate) pinyin_id: u32,
    pub(crate) gender: u8,
    pub(crate) stated_birth: u32,
}

impl Cand<'_> {
    pub(crate) fn birth8(&self, stated: bool) -> [u8; 8] {
        if stated && self.stated_birth != 0 {
            crate::records::ymd8(self.stated_birth)
        } else {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.id[6..14]);
            b
        }
    }
}

/// Edit level of two equal-length byte strings: 0 equal, 1 one
/// substitution or one adjacent transposition, 2 anything else.
pub(crate) fn edit_level(a: &[u8], b: &[u8]) -> u8 {
    let mut first = usize::MAX;
    let mut diffs = 0;
    for i in 0..a.len().min(b.len()) {
        if a[i] != b[i] {
            diffs += 1;
            if diffs == 1 {
                first = i;
            } else if diffs > 2 {
                return 2;
            }
        }
    }
    match diffs {
        0 => 0,
        1 => 1,
        _ => {
            let i = first;
            if i + 1 < a.len() && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i] != a[i + 1] {
                // The two differences must be exactly i and i + 1.
                let rest_equal = a[i + 2..] == b[i + 2..];
                if rest_equal { 1 } else { 2 }
            } else {
                2
            }
        }
    }
}

/// Edits between a record's id and a person's id (restricted
/// Damerau–Levenshtein on the aligned positions: a substitution or an
/// adjacent transposition counts one). `None` when the record's id is
/// missing or not alignable.
pub(crate) fn id_edits(p: &Prepared<'_>, cand: &Cand<'_>) -> Option<u8> {
    id_distance(&p.rec.id, cand.id, u8::MAX)
}

/// As [`id_edits`] on the raw parts, stopping at `limit` + 1.
pub(crate) fn id_distance(id: &crate::records::IdEvidence, person: &[u8], limit: u8) -> Option<u8> {
    let n = match id.have {
        crate::records::ALL_18 => 18,
        crate::records::BODY_17 => 17,
        _ => return None,
    };
    let a = &id.chars[..n];
    let b = &person[..n];
    let mut edits = 0u8;
    let mut i = 0;
    while i < n {
        if a[i] != b[i] {
            if i + 1 < n && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 1] != b[i + 1] {
                i += 2;
            } else {
                i += 1;
            }
            edits += 1;
            if edits > limit {
                return Some(edits);
            }
        } else {
            i += 1;
        }
    }
    Some(edits)
}

/// The name level.
pub(crate) fn name_level(rec_name: &str, rec_py: &str, cand: &Cand<'_>, s: &MatchSettings) -> u8 {
    if rec_name.is_empty() || cand.name.is_empty() {
        return level::NAME_MISSING;
    }
    if rec_name == cand.name {
        return level::EXACT;
    }
    if rec_py.is_empty() || cand.pinyin.is_empty() {
        return level::NAME_OTHER;
    }
    if rec_py == cand.pinyin {
        return level::NAME_PINYIN;
    }
    let jw = jaro_winkler(rec_py, cand.pinyin);
    if jw >= s.pinyin_close {
        level::NAME_CLOSE
    } else if jw >= s.pinyin_similar {
        level::NAME_SIMILAR
    } else {
        level::NAME_OTHER
    }
}

fn birth_level(a: &[u8; 8], b: &[u8; 8]) -> u8 {
    match edit_level(a, b) {
        0 => level::EXACT,
        1 => level::ONE_EDIT,
        _ => {
            let differ = [(0, 4), (4, 6), (6, 8)]
                .iter()
                .filter(|(lo, hi)| a[*lo..*hi] != b[*lo..*hi])
                .count();
            if differ == 1 {
                level::BIRTH_ONE_COMPONENT
            } else {
                level::BIRTH_OTHER
            }
        }
    }
}

/// The comparison vector of a record and a person (the context level is
/// left `missing`; the resolver sets it).
pub(crate) fn compare(p: &Prepared<'_>, cand: &Cand<'_>, s: &MatchSettings) -> Gamma {
    let rec = p.rec;
    let id = &rec.id;
    let mut g: Gamma = [0; FIELDS];
    g[Field::Name as usize] = if p.name_id != NONE && cand.name_id != NONE {
        // Both interned in the same registry: equal ids, equal strings.
        if rec.name.is_empty() || cand.name.is_empty() {
            level::NAME_MISSING
        } else if p.name_id == cand.name_id {
            level::EXACT
        } else if p.pinyin_id != NONE && p.pinyin_id == cand.pinyin_id && !rec.pinyin.is_empty() {
            level::NAME_PINYIN
        } else {
            name_level(&rec.name, &rec.pinyin, cand, s)
        }
    } else {
        name_level(&rec.name, &rec.pinyin, cand, s)
    };
    g[Field::Region as usize] = match id.part(0, 6) {
        Some(r) => edit_level(r, &cand.id[0..6]),
        None => level::REGION_MISSING,
    };
    g[Field::BirthDate as usize] = match p.birth8 {
        Some(b) => {
            let from_id = id.has(6, 14);
            birth_level(&b, &cand.birth8(!from_id))
        }
        None => level::BIRTH_MISSING,
    };
    g[Field::Sequence as usize] = match id.part(14, 17) {
        Some(q) => edit_level(q, &cand.id[14..17]),
        None => level::SEQ_MISSING,
    };
    // The check character of a valid id is a function of its body: it
    // says nothing the body does not.
    g[Field::Check as usize] = match id.part(17, 18) {
        _ if id.valid_body.is_some() => level::CHECK_MISSING,
        Some(c) if c[0] == cand.id[17] => level::EXACT,
        Some(_) => level::CHECK_OTHER,
        None => level::CHECK_MISSING,
    };
    let rec_gender = if rec.stated_gender != 0 {
        rec.stated_gender
    } else if g[Field::Sequence as usize] == level::SEQ_OTHER && id.chars[16].is_ascii_digit() {
        if (id.chars[16] - b'0') % 2 == 1 { 1 } else { 2 }
    } else {
        0
    };
    g[Field::Gender as usize] = match rec_gender {
        0 => level::GENDER_MISSING,
        x if x == cand.gender => level::EXACT,
        _ => level::GENDER_OTHER,
    };
    g[Field::Context as usize] = level::CONTEXT_MISSING;
    g
}

/// How the record's id relates to the person's, in words.
pub(crate) fn id_relation(p: &Prepared<'_>, cand: &Cand<'_>) -> &'static str {
    let id = &p.rec.id;
    match id_edits(p, cand) {
        None if id.have == 0 => "missing",
        None => "unaligned",
        Some(0) if id.have == crate::records::ALL_18 => "equal",
        Some(0) => "equal_body",
        Some(1) => {
            let n = if id.have == crate::records::ALL_18 {
                18
            } else {
                17
            };
            let diffs = (0..n).filter(|&i| id.chars[i] != cand.id[i]).count();
            if diffs == 2 {
                "adjacent_transposition"
            } else {
                "one_substitution"
            }
        }
        Some(2)
            if id.have == crate::records::ALL_18
                && id.chars[17] != cand.id[17]
                && edit_level(&id.chars[..17], &cand.id[..17]) == 1 =>
        {
            "one_body_digit"
        }
        Some(_) => "other",
    }
}

/// A birth date of 8 ASCII digits for display (`1985-03-12`, or the raw
/// digits when not a real date).
pub(crate) fn show_birth(b: &[u8; 8]) -> String {
    let s = String::from_utf8_lossy(b);
    if plausible_date(b) {
        format!("{}-{}-{}", &s[0..4], &s[4..6], &s[6..8])
    } else {
        s.into_owned()
    }
}

/// Jaro–Winkler similarity, as `strsim::jaro_winkler` computes it (the
/// same arithmetic in the same order, so the same bits), without
/// allocating for ASCII strings of up to 64 bytes — pinyin keys.
pub(crate) fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !(a.is_ascii() && b.is_ascii() && x.len() <= 64 && y.len() <= 64) {
        return strsim::jaro_winkler(a, b);
    }
    let sim = jaro_ascii(x, y);
    if sim > 0.7 {
        let prefix = x.iter().take(4).zip(y).take_while(|(p, q)| p == q).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

fn jaro_ascii(a: &[u8], b: &[u8]) -> f64 {
    let (al, bl) = (a.len(), b.len());
    if al == 0 && bl == 0 {
        return 1.0;
    } else if al == 0 || bl == 0 {
        return 0.0;
    }
    let range = (al.max(bl) / 2).saturating_sub(1);
    let (mut af, mut bf) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = bl.min(i + range + 1);
        for (j, cb) in b.iter().enumerate().take(hi).skip(lo) {
            if ca == cb && bf >> j & 1 == 0 {
                af |= 1 << i;
                bf |= 1 << j;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, ca) in a.iter().enumerate() {
        if af >> i & 1 == 1 {
            while bf >> j & 1 == 0 {
                j += 1;
            }
            if *ca != b[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    transpositions /= 2;
    ((matches as f64 / al as f64)
        + (matches as f64 / bl as f64)
        + ((matches - transpositions) as f64 / matches as f64))
        / 3.0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn edit_levels() {
        assert_eq!(edit_level(b"530302", b"530302"), 0);
        assert_eq!(edit_level(b"530302", b"530312"), 1);
        assert_eq!(edit_level(b"530302", b"533002"), 1);
        assert_eq!(edit_level(b"530302", b"350302"), 1);
        assert_eq!(edit_level(b"530302", b"530320"), 1);
        assert_eq!(edit_level(b"530302", b"531312"), 2);
        assert_eq!(edit_level(b"123456", b"214365"), 2);
    }

    #[test]
    fn jaro_winkler_known_values() {
        for (a, b) in [
            ("zhang wei", "zhang wei"),
            ("zhang wei", "zhang wen"),
            ("zhang wei", "zhang li"),
            ("", ""),
            ("a", ""),
            ("li na", "na li"),
        ] {
            assert_eq!(
                jaro_winkler(a, b).to_bits(),
                strsim::jaro_winkler(a, b).to_bits(),
                "{a} {b}"
            );
        }
    }

    proptest! {
        #[test]
        fn jaro_winkler_is_strsim_bit_for_bit(a in "[a-z ]{0,20}", b in "[a-z ]{0,20}") {
            prop_assert_eq!(jaro_winkler(&a, &b).to_bits(), strsim::jaro_winkler(&a, &b).to_bits());
        }

        #[test]
        fn one_substitution_is_one_edit(s in "[0-9]{6}", pos in 0usize..6, d in 1u8..10) {
            let mut t = s.clone().into_bytes();
            t[pos] = b'0' + (t[pos] - b'0' + d) % 10;
            prop_assert_eq!(edit_level(s.as_bytes(), &t), 1);
        }
    }
}
