//! Noise: how departments write ids and names, applied to one record at a
//! time at the configured rates.

use hedui_model::name::{MIDDLE_DOT, MIDDLE_DOT_LOOKALIKES, normalise, to_traditional};

use crate::config::{NoiseKind, NoiseRates};
use crate::data::vocabulary;
use crate::people::Person;
use crate::rng::Rng;

/// What a person's records may carry, worked out once per person.
#[derive(Debug)]
pub(crate) struct Eligibility {
    legacy: bool,
    lower_x: bool,
    traditional: Option<String>,
    homophone: bool,
    middle_dot: bool,
    name_spaces: bool,
    /// Another person whose name a swapped record carries.
    pub(crate) partner: Option<u32>,
    pub(crate) twin: Option<u32>,
}

impl Eligibility {
    pub(crate) fn of(p: &Person, partner: Option<u32>) -> Eligibility {
        let year = chrono::Datelike::year(&p.birth);
        Eligibility {
            legacy: (1900..=1999).contains(&year) && &p.id[6..8] == b"19",
            lower_x: p.id[17] == b'X',
            traditional: traditional_form(&p.name),
            homophone: homophone_possible(p),
            middle_dot: p.name.contains(MIDDLE_DOT),
            name_spaces: p.name.chars().count() >= 2,
            partner,
            twin: p.twin_of,
        }
    }

    pub(crate) fn applies(&self, kind: NoiseKind) -> bool {
        match kind {
            NoiseKind::None => true,
            NoiseKind::Legacy15 => self.legacy,
            NoiseKind::LowerX => self.lower_x,
            NoiseKind::Fullwidth
            | NoiseKind::Spaces
            | NoiseKind::TypoDigit
            | NoiseKind::Transposition
            | NoiseKind::MissingId => true,
            NoiseKind::Traditional => self.traditional.is_some(),
            NoiseKind::Homophone => self.homophone,
            NoiseKind::MiddleDot => self.middle_dot,
            NoiseKind::NameSpaces => self.name_spaces,
            NoiseKind::SwappedName => self.partner.is_some(),
            NoiseKind::TrapTwin => self.twin.is_some(),
        }
    }
}

/// One draw: the kind whose slice the draw falls in, among the kinds that
/// apply, else `None`. Each applicable kind has exactly its rate.
pub(crate) fn draw(rates: &NoiseRates, rng: &mut Rng, e: &Eligibility) -> NoiseKind {
    let u = rng.below(1_000_000) as u32;
    let mut acc = 0u32;
    for kind in &NoiseKind::ALL[1..] {
        if e.applies(*kind) {
            acc += rates.rate(*kind);
            if u < acc {
                return *kind;
            }
        }
    }
    NoiseKind::None
}

/// An id and a name as a department writes them.
#[derive(Debug)]
pub(crate) struct Written {
    /// `None`: the id column is null.
    pub(crate) id: Option<String>,
    /// `None`: the person's own name, exact.
    pub(crate) name: Option<String>,
}

/// Applies `kind` to a person's id and name. `persons` gives the partner's
/// or twin's data.
pub(crate) fn apply(
    kind: NoiseKind,
    p: &Person,
    e: &Eligibility,
    persons: &[Person],
    rng: &mut Rng,
) -> Written {
    let id = p.id_str();
    let mut out = Written {
        id: Some(id.to_owned()),
        name: None,
    };
    match kind {
        NoiseKind::None => {}
        NoiseKind::Legacy15 => {
            out.id = Some(format!("{}{}{}", &id[..6], &id[8..14], &id[14..17]));
        }
        NoiseKind::LowerX => out.id = Some(id.replace('X', "x")),
        NoiseKind::Fullwidth => {
            out.id = Some(
                id.chars()
                    .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
                    .collect(),
            );
        }
        NoiseKind::Spaces => out.id = Some(spaced(id, rng)),
        NoiseKind::TypoDigit => out.id = Some(typo(id, rng)),
        NoiseKind::Transposition => out.id = Some(transposed(id, rng)),
        NoiseKind::MissingId => out.id = None,
        NoiseKind::Traditional => out.name = e.traditional.clone(),
        NoiseKind::Homophone => out.name = homophone(p, rng),
        NoiseKind::MiddleDot => {
            let others: Vec<char> = MIDDLE_DOT_LOOKALIKES
                .iter()
                .copied()
                .filter(|c| *c != MIDDLE_DOT)
                .collect();
            let dot = *rng.pick(&others);
            out.name = Some(p.name.replace(MIDDLE_DOT, &dot.to_string()));
        }
        NoiseKind::NameSpaces => {
            let at = usize::from(p.surname_len.max(1));
            let space = match rng.below(10) {
                0..6 => " ",
                6..9 => "\u{3000}",
                _ => "  ",
            };
            let mut s = String::with_capacity(p.name.len() + 3);
            for (i, c) in p.name.chars().enumerate() {
                if i == at {
                    s.push_str(space);
                }
                s.push(c);
            }
            out.name = Some(s);
        }
        NoiseKind::SwappedName => {
            if let Some(q) = e.partner {
                out.name = Some(persons[q as usize].name.clone());
            }
        }
        NoiseKind::TrapTwin => {
            if let Some(t) = e.twin {
                let twin = persons[t as usize].id_str();
                out.id = Some(format!("{}{}", &twin[..17], &id[17..]));
            }
        }
    }
    out
}

fn spaced(id: &str, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("{} {} {}", &id[..6], &id[6..14], &id[14..]),
        1 => format!("{}-{}-{}", &id[..6], &id[6..14], &id[14..]),
        2 => format!("{}\u{3000}{}", &id[..6], &id[6..]),
        _ => {
            let mut s = String::with_capacity(24);
            for (i, c) in id.chars().enumerate() {
                if i > 0 && i % 4 == 0 {
                    s.push(' ');
                }
                s.push(c);
            }
            s
        }
    }
}

/// One character replaced by another digit: the check digit always fails.
pub(crate) fn typo(id: &str, rng: &mut Rng) -> String {
    let mut b = id.as_bytes().to_vec();
    let pos = 2 + rng.index(b.len() - 2);
    let old = b[pos];
    let mut d = b'0' + rng.below(10) as u8;
    if d == old {
        d = b'0' + (d - b'0' + 1 + rng.below(9) as u8) % 10;
    }
    b[pos] = d;
    String::from_utf8(b).unwrap_or_default()
}

fn transposed(id: &str, rng: &mut Rng) -> String {
    let mut b = id.as_bytes().to_vec();
    let n = b.len() - 1;
    let start = rng.index(n);
    for k in 0..n {
        let i = (start + k) % n;
        if b[i] != b[i + 1] {
            b.swap(i, i + 1);
            break;
        }
    }
    String::from_utf8(b).unwrap_or_default()
}

/// The name in traditional characters, when it has a traditional form
/// that normalises back to it. Characters whose traditional form is also a
/// simplified character of its own (于 → 於, a surname too) stay as they
/// are: departments that write them so write another name.
fn traditional_form(name: &str) -> Option<String> {
    let whole = to_traditional(name);
    if whole == name {
        return None;
    }
    let normal = normalise(name);
    if normalise(&whole) == normal {
        return Some(whole);
    }
    let mut buf = [0u8; 4];
    let by_char: String = name
        .chars()
        .map(|c| {
            let c = c.encode_utf8(&mut buf);
            let t = to_traditional(c);
            if normalise(&t) == normalise(c) {
                t
            } else {
                c.to_owned()
            }
        })
        .collect();
    (by_char != name && normalise(&by_char) == normal).then_some(by_char)
}

/// Whether the pool has a homophone for a character of the given name.
pub(crate) fn homophone_possible(p: &Person) -> bool {
    let homophones = &vocabulary().homophones;
    p.surname_len > 0 && p.given_name().chars().any(|c| homophones.contains_key(&c))
}

/// The name with one given-name character replaced by a homophone, if any.
pub(crate) fn homophone(p: &Person, rng: &mut Rng) -> Option<String> {
    let homophones = &vocabulary().homophones;
    let chars: Vec<char> = p.name.chars().collect();
    let surname = usize::from(p.surname_len);
    let positions: Vec<usize> = (surname..chars.len())
        .filter(|i| homophones.contains_key(&chars[*i]))
        .collect();
    if surname == 0 || positions.is_empty() {
        return None;
    }
    let i = positions[rng.index(positions.len())];
    let alts = &homophones[&chars[i]];
    let mut out = chars;
    out[i] = *rng.pick(alts);
    Some(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hedui_model::IdNumber;

    #[test]
    fn id_noise_parses_back_or_fails() {
        let id = IdNumber::from_body("53030219800101123")
            .unwrap()
            .to_string();
        let mut rng = Rng::new(1);
        for _ in 0..200 {
            let s = spaced(&id, &mut rng);
            assert_eq!(IdNumber::parse(&s).id().unwrap().as_str(), &id, "{s}");
            let t = typo(&id, &mut rng);
            assert!(IdNumber::parse(&t).id().is_none(), "{t}");
            let t = transposed(&id, &mut rng);
            assert_ne!(t, id);
            assert!(IdNumber::parse(&t).id().is_none(), "{t}");
        }
        let legacy = format!("{}{}{}", &id[..6], &id[8..14], &id[14..17]);
        assert_eq!(IdNumber::parse(&legacy).id().unwrap().as_str(), id);
    }

    proptest::proptest! {
        /// A typo or a transposition never turns an id into another valid
        /// one; spaces always clean away.
        #[test]
        fn id_noise_is_detectable(
            region in proptest::sample::select(vec!["530302", "530381", "110105", "440305"]),
            days in 0i64..40_000,
            seq in 0u32..1000,
            seed: u64,
        ) {
            let birth = hedui_model::Date::from_ymd_opt(1910, 1, 1).unwrap() + chrono::Duration::days(days);
            let body = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
            let id = IdNumber::from_body(&body).unwrap().to_string();
            let mut rng = Rng::new(seed);
            proptest::prop_assert!(IdNumber::parse(&typo(&id, &mut rng)).id().is_none());
            proptest::prop_assert!(IdNumber::parse(&transposed(&id, &mut rng)).id().is_none());
            let spaced = spaced(&id, &mut rng);
            proptest::prop_assert_eq!(IdNumber::parse(&spaced).id().map(|i| i.to_string()), Some(id));
        }
    }

    #[test]
    fn draws_respect_eligibility() {
        let rates = NoiseRates::default();
        let e = Eligibility {
            legacy: false,
            lower_x: false,
            traditional: None,
            homophone: false,
            middle_dot: false,
            name_spaces: true,
            partner: None,
            twin: None,
        };
        let mut rng = Rng::new(2);
        for _ in 0..20_000 {
            let k = draw(&rates, &mut rng, &e);
            assert!(e.applies(k), "{k:?}");
        }
    }
}
