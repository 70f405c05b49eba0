//! A hand-made town with known answers: a background of 3,000 persons
//! with many namesakes (so the model has something to learn), and special
//! persons and records for every method and both traps.

use std::collections::BTreeSet;

use arrow::array::RecordBatch;
use hedui_matching::{
    Link, Links, MatchSettings, Method, Model, Records, Registry, RegistryBuilder,
};

use crate::common::{P, hukou, id, tax};

const REGIONS: [&str; 5] = ["530302", "530303", "530322", "530381", "530325"];
const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: [&str; 24] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "桂英", "建华", "志强", "海燕", "建国", "玉兰",
];

/// A small deterministic generator (SplitMix64).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Special persons of the town.
pub(crate) mod who {
    /// 张伟, a common name.
    pub(crate) const ZHANG_WEI: &str = "53030219850312123";
    /// A rare name, unique in the town: 欧阳娜娜.
    pub(crate) const RARE: &str = "53038119770707456";
    /// A minority name with a middle dot: 买买提·艾力.
    pub(crate) const UYGHUR: &str = "65010219800101351";
    /// Born 1965: has a legacy 15-digit number. 刘德明.
    pub(crate) const LEGACY: &str = "53032219650815271";
    /// 李娜 (homophone 李纳 in records).
    pub(crate) const LI_NA: &str = "53030319920202222";
    /// Trap twins: 王芳, same birth date and district, bodies one digit
    /// apart (sequence 124 vs 125 would change gender: 122 vs 142).
    pub(crate) const TWIN_A: &str = "53030219900101122";
    pub(crate) const TWIN_B: &str = "53030219900101142";
    /// 陈静, for a valid id one body digit off (check recomputed).
    pub(crate) const CHEN_JING: &str = "53032519881123364";
    /// 赵强, whose id is typed with his wife's name 孙丽 (swapped name).
    pub(crate) const ZHAO_QIANG: &str = "53038119700505431";
    /// 孙丽, 赵强's wife.
    pub(crate) const SUN_LI: &str = "53038119720606432";
}

fn special() -> Vec<P> {
    use who::*;
    vec![
        crate::common::p(ZHANG_WEI, "张伟"),
        crate::common::p(RARE, "欧阳娜娜"),
        crate::common::p(UYGHUR, "买买提·艾力"),
        crate::common::p(LEGACY, "刘德明"),
        crate::common::p(LI_NA, "李娜"),
        crate::common::p(TWIN_A, "王芳"),
        crate::common::p(TWIN_B, "王芳"),
        crate::common::p(CHEN_JING, "陈静"),
        crate::common::p(ZHAO_QIANG, "赵强"),
        crate::common::p(SUN_LI, "孙丽"),
    ]
}

/// The background persons.
fn background() -> Vec<P> {
    let mut g = Gen(20_260_101);
    let mut seen = BTreeSet::new();
    for p in special() {
        seen.insert(p.id[..17].to_owned());
    }
    let mut out = Vec::new();
    while out.len() < 3000 {
        let region = REGIONS[g.below(5) as usize];
        let y = 1940 + g.below(70);
        let m = 1 + g.below(12);
        let d = 1 + g.below(28);
        let seq = g.below(1000);
        let body = format!("{region}{y:04}{m:02}{d:02}{seq:03}");
        // Keep the special persons' neighbourhoods free of look-alikes.
        if !seen.insert(body.clone()) || body.starts_with("53030219900101") {
            continue;
        }
        let name = format!(
            "{}{}",
            SURNAMES[g.below(10) as usize],
            GIVEN[g.below(24) as usize]
        );
        out.push(P {
            id: id(&body),
            name: Box::leak(name.into_boxed_str()),
        });
    }
    out
}

/// The town: registry and a tax extract where every background person
/// has three monthly records at one payer (a few with noise).
pub(crate) struct Town {
    pub(crate) registry: Registry,
    pub(crate) persons: Vec<P>,
    pub(crate) background_tax: Vec<(String, Option<String>, String, String)>,
}

pub(crate) fn town() -> Town {
    let mut persons = special();
    persons.extend(background());
    let mut b = RegistryBuilder::new();
    b.add_hukou(&hukou(&persons)).unwrap();
    let registry = b.build();
    let mut g = Gen(7);
    let mut rows = Vec::new();
    for (k, p) in persons.iter().enumerate().skip(special().len()) {
        let payer = format!("P{:03}", k % 150);
        for month in 0..3 {
            let rid = format!("T{k:05}-{month}");
            let roll = g.below(1000);
            let idv = if roll < 10 {
                // One wrong character anywhere.
                let mut c: Vec<u8> = p.id.clone().into_bytes();
                let pos = g.below(18) as usize;
                let d = if c[pos] == b'X' { 0 } else { c[pos] - b'0' };
                c[pos] = b'0' + ((d + 1 + g.below(8) as u8) % 10);
                Some(String::from_utf8(c).unwrap())
            } else if roll < 15 {
                // Two adjacent different characters swapped.
                let mut c: Vec<u8> = p.id.clone().into_bytes();
                match (0..17).find(|&i| c[i] != c[i + 1]) {
                    Some(i) => c.swap(i, i + 1),
                    None => c[0] = b'9',
                }
                Some(String::from_utf8(c).unwrap())
            } else if roll < 25 {
                None
            } else {
                Some(p.id.clone())
            };
            rows.push((rid, idv, p.name.to_owned(), payer.clone()));
        }
    }
    Town {
        registry,
        persons,
        background_tax: rows,
    }
}

/// Settings small enough for a debug build.
pub(crate) fn settings() -> MatchSettings {
    MatchSettings {
        u_pairs: 200_000,
        em_pairs: 60_000,
        ..MatchSettings::default()
    }
}

/// Tax batches of the town's background plus `extra` records.
pub(crate) fn tax_batches(
    t: &Town,
    extra: &[(&str, Option<&str>, &str, &str)],
) -> Vec<RecordBatch> {
    let mut rows: Vec<(&str, Option<&str>, &str, &str)> = t
        .background_tax
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_deref(), c.as_str(), d.as_str()))
        .collect();
    rows.extend_from_slice(extra);
    tax(&rows)
}

/// Trains on and resolves the town's tax extract with `extra` records.
pub(crate) fn resolve(t: &Town, extra: &[(&str, Option<&str>, &str, &str)]) -> (Model, Links) {
    let records = Records::from_batches("tax", &tax_batches(t, extra)).unwrap();
    let model = Model::train(&t.registry, &[&records], settings()).unwrap();
    let links = model.resolve(&t.registry, &records);
    (model, links)
}

pub(crate) fn link<'a>(links: &'a Links, record_id: &str) -> &'a Link {
    links
        .get(record_id)
        .unwrap_or_else(|| panic!("no link for {record_id}"))
}

pub(crate) fn assert_link(links: &Links, record_id: &str, method: Method, person: Option<&str>) {
    let l = link(links, record_id);
    assert_eq!(
        (l.method, l.person_id.map(|p| p.to_string())),
        (method, person.map(id)),
        "{record_id}: p {:?} {}",
        l.match_probability,
        l.explanation()
    );
}
