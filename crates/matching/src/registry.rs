//! The person registry: one person per normalised 18-digit id.
//!
//! Built from the canonical `hukou` batches (户籍, the population
//! register) and from the persons that appear only in requests
//! ([`RegistryBuilder::add_declared`]). Persons are kept sorted by id with
//! compact interned strings; the registry holds the indexes identity
//! resolution needs: a hash index by id, the blocking indexes, and the
//! value frequencies of the term-frequency adjustment. Its
//! [`Registry::hash`] is the blake3 of its content, so stored links can be
//! keyed by the registry they were made against.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use hedui_model::{IdGender, IdNumber, PersonName};
use rayon::prelude::*;

use crate::blocking::{BlockingRule, KeySink, person_keys};
use crate::columns::{date32, days_to_ymd, utf8, value};
use crate::error::Result;
use crate::util::IntBuild;

/// Hukou status codes, in the order stored.
const STATUSES: [&str; 5] = ["", "active", "deceased", "moved_out", "cancelled"];

/// Interned strings: each distinct string stored once.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    values: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32, IntBuild>,
}

impl Interner {
    fn new() -> Interner {
        let mut i = Interner::default();
        i.intern("");
        i
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&k) = self.index.get(s) {
            return k;
        }
        let k = self.values.len() as u32;
        let a: Arc<str> = Arc::from(s);
        self.values.push(a.clone());
        self.index.insert(a, k);
        k
    }

    pub(crate) fn get(&self, k: u32) -> &str {
        &self.values[k as usize]
    }

    pub(crate) fn lookup(&self, s: &str) -> Option<u32> {
        self.index.get(s).copied()
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

/// The registry's string tables: names (normal form), pinyin keys and
/// hukou region codes, each interned on its own.
#[derive(Debug, Default)]
pub(crate) struct Strings {
    pub(crate) names: Interner,
    pub(crate) pinyins: Interner,
    pub(crate) regions: Interner,
}

impl Strings {
    pub(crate) fn name(&self, k: u32) -> &str {
        self.names.get(k)
    }
    pub(crate) fn pinyin(&self, k: u32) -> &str {
        self.pinyins.get(k)
    }
    pub(crate) fn region(&self, k: u32) -> &str {
        self.regions.get(k)
    }
}

/// One registered person, compact.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PersonRow {
    pub(crate) id: IdNumber,
    /// The id's 18 ASCII characters.
    pub(crate) idb: [u8; 18],
    pub(crate) name: u32,
    pub(crate) pinyin: u32,
    /// Byte ranges of the pinyin key: surname `..split.0`, given name
    /// `split.1..`.
    pub(crate) split: (u16, u16),
    /// Stated birth date from hukou as `yyyymmdd` (0: none).
    pub(crate) stated_birth: u32,
    /// 1 male, 2 female (hukou column, else the id).
    pub(crate) gender: u8,
    /// Interned hukou region code (current registration).
    pub(crate) region_code: u32,
    pub(crate) status: u8,
    pub(crate) declared: bool,
    /// Persons sharing this person's id region, and id birth date (the
    /// term frequencies of an exact link).
    pub(crate) region_n: u32,
    pub(crate) birth_n: u32,
}

impl PersonRow {
    pub(crate) fn id_bytes(&self) -> &[u8] {
        &self.idb
    }
}

/// Counts of what went into a registry.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RegistryStats {
    /// Hukou rows read.
    pub hukou_rows: usize,
    /// Hukou rows without a valid id: they cannot define a person and are
    /// left out (the hukou snapshot itself still resolves them fuzzily).
    pub hukou_rows_without_valid_id: usize,
    /// Hukou rows whose id another row already holds (the person is kept
    /// once: the active row, else the smallest record_id).
    pub hukou_duplicate_ids: usize,
    /// Persons added from requests that hukou does not hold.
    pub declared: usize,
    /// Persons in the registry.
    pub persons: usize,
}

/// A person as a caller sees it.
#[derive(Clone, Copy)]
pub struct Person<'a> {
    registry: &'a Registry,
    index: u32,
}

impl<'a> Person<'a> {
    fn row(&self) -> &'a PersonRow {
        &self.registry.persons[self.index as usize]
    }

    /// The person's 18-digit id.
    pub fn id(&self) -> IdNumber {
        self.row().id
    }

    /// Normal form of the name (张伟).
    pub fn name(&self) -> &'a str {
        self.registry.strings.name(self.row().name)
    }

    /// Pinyin key (`zhang wei`).
    pub fn pinyin(&self) -> &'a str {
        self.registry.strings.pinyin(self.row().pinyin)
    }

    /// Birth date as hukou states it, else as the id encodes it.
    pub fn birth_date(&self) -> hedui_model::Date {
        let r = self.row();
        if r.stated_birth != 0 {
            let y = (r.stated_birth / 10_000) as i32;
            let m = r.stated_birth / 100 % 100;
            let d = r.stated_birth % 100;
            if let Some(date) = hedui_model::Date::from_ymd_opt(y, m, d) {
                return date;
            }
        }
        r.id.birth_date()
    }

    /// Gender as hukou states it, else as the id encodes it.
    pub fn gender(&self) -> IdGender {
        if self.row().gender == 2 {
            IdGender::Female
        } else {
            IdGender::Male
        }
    }

    /// Hukou region code of registration (the id's region for a declared
    /// person).
    pub fn region_code(&self) -> &'a str {
        self.registry.strings.region(self.row().region_code)
    }

    /// Hukou status code (`active`, `deceased`, `moved_out`, `cancelled`);
    /// `None` for a declared person without hukou.
    pub fn status(&self) -> Option<&'static str> {
        let s = self.row().status as usize;
        (s != 0).then(|| STATUSES[s])
    }

    /// Whether the person comes from a request, not from hukou.
    pub fn declared(&self) -> bool {
        self.row().declared
    }
}

impl fmt::Debug for Person<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Person")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("declared", &self.declared())
            .finish()
    }
}

/// A sorted index from blocking key to persons.
#[derive(Debug, Default)]
pub(crate) struct BlockIndex {
    keys: Vec<u64>,
    persons: Vec<u32>,
}

impl BlockIndex {
    fn build(mut pairs: Vec<(u64, u32)>) -> BlockIndex {
        pairs.par_sort_unstable();
        pairs.dedup();
        let (keys, persons) = pairs.into_iter().unzip();
        BlockIndex { keys, persons }
    }

    /// Persons holding `key`, in ascending order.
    pub(crate) fn get(&self, key: u64) -> &[u32] {
        let lo = self.keys.partition_point(|k| *k < key);
        let hi = lo + self.keys[lo..].partition_point(|k| *k == key);
        &self.persons[lo..hi]
    }

    /// Number of distinct keys.
    pub(crate) fn distinct_keys(&self) -> usize {
        let mut n = 0;
        let mut last = None;
        for k in &self.keys {
            if last != Some(*k) {
                n += 1;
                last = Some(*k);
            }
        }
        n
    }
}

/// The registry of persons with its indexes.
pub struct Registry {
    pub(crate) persons: Vec<PersonRow>,
    pub(crate) strings: Strings,
    by_body: HashMap<u64, u32, IntBuild>,
    /// Persons per interned name.
    pub(crate) name_count: Vec<u32>,
    /// Persons per interned pinyin key.
    pub(crate) pinyin_count: Vec<u32>,
    /// Persons per id region (first six digits).
    pub(crate) region_count: HashMap<u32, u32, IntBuild>,
    /// Persons per id birth date (`yyyymmdd`).
    pub(crate) birth_count: HashMap<u32, u32, IntBuild>,
    pub(crate) blocks: Vec<BlockIndex>,
    stats: RegistryStats,
    hash: String,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("persons", &self.persons.len())
            .field("stats", &self.stats)
            .field("hash", &self.hash)
            .finish()
    }
}

/// Where a person's texts are, before the registry is built.
#[derive(Clone, Debug)]
enum RawText {
    /// Row `row` of the builder's hukou batch `batch`.
    Hukou { batch: u32, row: u32 },
    /// A declared person's normalised name and pinyin.
    Declared { name: String, pinyin: String },
}

/// One person before the registry is built.
#[derive(Clone, Debug)]
struct RawPerson {
    id: IdNumber,
    /// The id's 18 characters and the number of its 17 body digits.
    idb: [u8; 18],
    body: u64,
    text: RawText,
    stated_birth: u32,
    gender: u8,
    status: u8,
    declared: bool,
}

/// The text columns of one hukou batch, read in place.
#[derive(Debug)]
struct HukouText {
    record_id: arrow::array::StringArray,
    name: arrow::array::StringArray,
    pinyin: arrow::array::StringArray,
    region: Option<arrow::array::StringArray>,
}

/// Collects hukou rows and declared persons, then builds a [`Registry`].
#[derive(Debug, Default)]
pub struct RegistryBuilder {
    texts: Vec<HukouText>,
    rows: Vec<RawPerson>,
    hukou_rows: usize,
    without_id: usize,
}

impl RegistryBuilder {
    /// An empty builder.
    pub fn new() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// Adds the rows of canonical `hukou` batches (as `hedui-sources`
    /// normalises them: `record_id`, `id_number`, `name`, `name_pinyin`,
    /// and when present `gender`, `birth_date`, `region_code`, `status`).
    pub fn add_hukou(&mut self, batches: &[RecordBatch]) -> Result<&mut Self> {
        let base = self.texts.len() as u32;
        let parts = batches
            .par_iter()
            .enumerate()
            .map(|(k, b)| read_hukou(b, base + k as u32))
            .collect::<Result<Vec<_>>>()?;
        for (text, rows, read, without) in parts {
            self.texts.push(text);
            self.rows.extend(rows);
            self.hukou_rows += read;
            self.without_id += without;
        }
        Ok(self)
    }

    /// Adds a person who appears only in a request (a declared member whom
    /// hukou does not hold). The name is taken as sent and normalised. If
    /// a hukou row holds the same id, the hukou person is kept.
    pub fn add_declared(&mut self, id: IdNumber, name: &str) -> &mut Self {
        let n = PersonName::new(name);
        let gender = match id.gender() {
            IdGender::Male => 1,
            IdGender::Female => 2,
        };
        let mut idb = [0u8; 18];
        idb.copy_from_slice(id.as_str().as_bytes());
        self.rows.push(RawPerson {
            id,
            idb,
            body: body_u64(&idb),
            text: RawText::Declared {
                name: n.normal().to_owned(),
                pinyin: n.pinyin_key(),
            },
            stated_birth: 0,
            gender,
            status: 0,
            declared: true,
        });
        self
    }

    fn hukou_text(&self, batch: u32, row: u32) -> (&HukouText, usize) {
        (&self.texts[batch as usize], row as usize)
    }

    fn name_of<'s>(&'s self, r: &'s RawPerson) -> &'s str {
        match &r.text {
            RawText::Hukou { batch, row } => {
                let (t, i) = self.hukou_text(*batch, *row);
                text_at(&t.name, i)
            }
            RawText::Declared { name, .. } => name,
        }
    }

    fn pinyin_of<'s>(&'s self, r: &'s RawPerson) -> &'s str {
        match &r.text {
            RawText::Hukou { batch, row } => {
                let (t, i) = self.hukou_text(*batch, *row);
                text_at(&t.pinyin, i)
            }
            RawText::Declared { pinyin, .. } => pinyin,
        }
    }

    fn region_of<'s>(&'s self, r: &'s RawPerson) -> &'s str {
        if let RawText::Hukou { batch, row } = &r.text {
            let (t, i) = self.hukou_text(*batch, *row);
            if let Some(v) = value(&t.region, i) {
                return v;
            }
        }
        r.id.region_code()
    }

    fn record_id_of<'s>(&'s self, r: &'s RawPerson) -> &'s str {
        match &r.text {
            RawText::Hukou { batch, row } => {
                let (t, i) = self.hukou_text(*batch, *row);
                text_at(&t.record_id, i)
            }
            RawText::Declared { .. } => "",
        }
    }

    /// Sorts, deduplicates, interns and indexes.
    pub fn build(self) -> Registry {
        let rows = &self.rows;
        // One person per id: a hukou row before a declaration, an active
        // row before others, then the smallest record_id.
        let keys: Vec<(u64, bool, u8)> = rows
            .par_iter()
            .map(|r| (r.body, r.declared, status_rank(r.status)))
            .collect();
        let mut order: Vec<u32> = (0..rows.len() as u32).collect();
        order.par_sort_unstable_by(|a, b| {
            let (ka, kb) = (&keys[*a as usize], &keys[*b as usize]);
            ka.cmp(kb).then_with(|| {
                self.record_id_of(&rows[*a as usize])
                    .cmp(self.record_id_of(&rows[*b as usize]))
                    .then(a.cmp(b))
            })
        });
        let mut kept: Vec<u32> = Vec::with_capacity(order.len());
        for i in order {
            if kept
                .last()
                .is_none_or(|l| keys[*l as usize].0 != keys[i as usize].0)
            {
                kept.push(i);
            }
        }
        let duplicates_total = rows.len() - kept.len();
        let declared_rows = rows.iter().filter(|r| r.declared).count();
        let declared = kept.iter().filter(|i| rows[**i as usize].declared).count();
        let declared_dropped = declared_rows - declared;
        // The three string tables are interned in parallel, each in person
        // order (so ids do not depend on threads).
        let this = &self;
        let kept_rows: Vec<&RawPerson> = kept.iter().map(|i| &rows[*i as usize]).collect();
        let ((names, name_ids), ((pinyins, pinyin_ids), (regions, region_ids))) = rayon::join(
            || intern_all(&kept_rows, |r| this.name_of(r)),
            || {
                rayon::join(
                    || intern_all(&kept_rows, |r| this.pinyin_of(r)),
                    || intern_all(&kept_rows, |r| this.region_of(r)),
                )
            },
        );
        // Surname lengths once per distinct name.
        let surname: Vec<u8> = (0..names.len() as u32)
            .into_par_iter()
            .map(|k| hedui_model::name::surname_len(names.get(k)).min(255) as u8)
            .collect();
        let mut persons: Vec<PersonRow> = kept
            .par_iter()
            .enumerate()
            .map(|(k, i)| {
                let r = &rows[*i as usize];
                PersonRow {
                    id: r.id,
                    idb: r.idb,
                    name: name_ids[k],
                    pinyin: pinyin_ids[k],
                    split: split_by_syllables(
                        self.pinyin_of(r),
                        usize::from(surname[name_ids[k] as usize]),
                    ),
                    stated_birth: r.stated_birth,
                    gender: r.gender,
                    region_code: region_ids[k],
                    status: r.status,
                    declared: r.declared,
                    region_n: 0,
                    birth_n: 0,
                }
            })
            .collect();
        let strings = Strings {
            names,
            pinyins,
            regions,
        };
        let mut name_count = vec![0u32; strings.names.len()];
        let mut pinyin_count = vec![0u32; strings.pinyins.len()];
        let mut region_count: HashMap<u32, u32, IntBuild> = HashMap::default();
        let mut birth_count: HashMap<u32, u32, IntBuild> = HashMap::default();
        let mut by_body: HashMap<u64, u32, IntBuild> = HashMap::default();
        by_body.reserve(persons.len());
        for (i, p) in persons.iter().enumerate() {
            name_count[p.name as usize] += 1;
            pinyin_count[p.pinyin as usize] += 1;
            let b = p.id_bytes();
            *region_count.entry(digits_u32(&b[0..6])).or_default() += 1;
            *birth_count.entry(digits_u32(&b[6..14])).or_default() += 1;
            by_body.insert(body_u64(b), i as u32);
        }
        for p in &mut persons {
            let b = p.idb;
            p.region_n = region_count
                .get(&digits_u32(&b[0..6]))
                .copied()
                .unwrap_or(0);
            p.birth_n = birth_count
                .get(&digits_u32(&b[6..14]))
                .copied()
                .unwrap_or(0);
        }
        let blocks = BlockingRule::ALL
            .par_iter()
            .map(|rule| {
                let pairs: Vec<(u64, u32)> = persons
                    .par_iter()
                    .enumerate()
                    .flat_map_iter(|(i, p)| {
                        let mut sink = KeySink::default();
                        person_keys(*rule, p, &strings, &mut sink);
                        let keys: Vec<(u64, u32)> =
                            sink.keys().iter().map(|k| (*k, i as u32)).collect();
                        keys
                    })
                    .collect();
                BlockIndex::build(pairs)
            })
            .collect();
        let hash = registry_hash(&persons, &strings);
        let stats = RegistryStats {
            hukou_rows: self.hukou_rows,
            hukou_rows_without_valid_id: self.without_id,
            hukou_duplicate_ids: duplicates_total - declared_dropped,
            declared,
            persons: persons.len(),
        };
        Registry {
            persons,
            strings,
            by_body,
            name_count,
            pinyin_count,
            region_count,
            birth_count,
            blocks,
            stats,
            hash,
        }
    }
}

/// Interns one text of every person, in person order.
fn intern_all<'s>(
    rows: &[&'s RawPerson],
    f: impl Fn(&'s RawPerson) -> &'s str,
) -> (Interner, Vec<u32>) {
    let mut t = Interner::new();
    let ids = rows.iter().map(|r| t.intern(f(r))).collect();
    (t, ids)
}

fn status_rank(s: u8) -> u8 {
    match s {
        1 => 0,
        0 => 2,
        _ => 1,
    }
}

/// The value of a Utf8 array at `i`, empty when null.
fn text_at(a: &arrow::array::StringArray, i: usize) -> &str {
    if arrow::array::Array::is_valid(a, i) {
        a.value(i)
    } else {
        ""
    }
}

type HukouPart = (HukouText, Vec<RawPerson>, usize, usize);

fn read_hukou(batch: &RecordBatch, index: u32) -> Result<HukouPart> {
    let src = "hukou";
    let record_id = utf8(batch, src, "record_id", true)?;
    let id_number = utf8(batch, src, "id_number", true)?;
    let name = utf8(batch, src, "name", true)?;
    let pinyin = utf8(batch, src, "name_pinyin", true)?;
    let gender = utf8(batch, src, "gender", false)?;
    let region = utf8(batch, src, "region_code", false)?;
    let status = utf8(batch, src, "status", false)?;
    let birth = date32(batch, src, "birth_date")?;
    let n = batch.num_rows();
    let mut out = Vec::with_capacity(n);
    let mut without = 0;
    for i in 0..n {
        let Some(id) = value(&id_number, i).and_then(|s| IdNumber::parse_valid(s).ok()) else {
            without += 1;
            continue;
        };
        let g = match value(&gender, i) {
            Some("female") => 2,
            Some("male") => 1,
            _ => match id.gender() {
                IdGender::Male => 1,
                IdGender::Female => 2,
            },
        };
        let st = value(&status, i)
            .and_then(|s| STATUSES.iter().position(|x| *x == s))
            .unwrap_or(0) as u8;
        let stated_birth = birth
            .as_ref()
            .filter(|b| arrow::array::Array::is_valid(*b, i))
            .and_then(|b| days_to_ymd(b.value(i)))
            .unwrap_or(0);
        let mut idb = [0u8; 18];
        idb.copy_from_slice(id.as_str().as_bytes());
        out.push(RawPerson {
            id,
            idb,
            body: body_u64(&idb),
            text: RawText::Hukou {
                batch: index,
                row: i as u32,
            },
            stated_birth,
            gender: g,
            status: st,
            declared: false,
        });
    }
    let empty = || arrow::array::StringArray::new_null(n);
    let text = HukouText {
        record_id: record_id.unwrap_or_else(empty),
        name: name.unwrap_or_else(empty),
        pinyin: pinyin.unwrap_or_else(empty),
        region,
    };
    Ok((text, out, n, without))
}

/// The surname and given-name byte ranges of a pinyin key (see
/// [`PersonRow::split`]).
pub(crate) fn pinyin_split(name: &str, pinyin: &str) -> (u16, u16) {
    split_by_syllables(pinyin, hedui_model::name::surname_len(name))
}

/// As [`pinyin_split`], the surname's syllable count known.
pub(crate) fn split_by_syllables(pinyin: &str, n: usize) -> (u16, u16) {
    let (surname, given) = split_pinyin(pinyin, n);
    let a = surname.len();
    let b = if given.is_empty() {
        pinyin.len()
    } else {
        given.as_ptr() as usize - pinyin.as_ptr() as usize
    };
    (
        u16::try_from(a).unwrap_or(u16::MAX),
        u16::try_from(b).unwrap_or(u16::MAX),
    )
}

/// The surname and given name of a pinyin key by its split.
pub(crate) fn split_at(pinyin: &str, split: (u16, u16)) -> (&str, &str) {
    let (a, b) = (usize::from(split.0), usize::from(split.1));
    match (pinyin.get(..a), pinyin.get(b..)) {
        (Some(s), Some(g)) if a <= b => (s, g),
        _ => ("", pinyin),
    }
}

/// Splits a pinyin key into surname and given-name syllables.
pub(crate) fn split_pinyin(pinyin: &str, surname_syllables: usize) -> (&str, &str) {
    if surname_syllables == 0 {
        return ("", pinyin);
    }
    let mut cut = None;
    let mut seen = 0;
    for (i, c) in pinyin.char_indices() {
        if c == ' ' {
            seen += 1;
            if seen == surname_syllables {
                cut = Some(i);
                break;
            }
        }
    }
    match cut {
        Some(i) => (&pinyin[..i], &pinyin[i + 1..]),
        None => (pinyin, ""),
    }
}

/// ASCII digits as a number (non-digits count as 0; callers pass digits).
pub(crate) fn digits_u32(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |a, c| {
        a.wrapping_mul(10)
            .wrapping_add(u32::from(c.wrapping_sub(b'0') % 10))
    })
}

/// The 17 body digits of a valid id as a number.
pub(crate) fn body_u64(b: &[u8]) -> u64 {
    b[..17]
        .iter()
        .fold(0u64, |a, c| a * 10 + u64::from(c.wrapping_sub(b'0') % 10))
}

fn registry_hash(persons: &[PersonRow], s: &Strings) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"hedui-matching/registry/v1\0");
    h.update(&(persons.len() as u64).to_le_bytes());
    for p in persons {
        h.update(p.id_bytes());
        for t in [s.name(p.name), s.pinyin(p.pinyin), s.region(p.region_code)] {
            h.update(t.as_bytes());
            h.update(&[0]);
        }
        h.update(&p.stated_birth.to_le_bytes());
        h.update(&[p.gender, p.status, u8::from(p.declared)]);
    }
    h.finalize().to_hex().to_string()
}

impl Registry {
    /// A registry of the canonical hukou batches alone.
    pub fn from_hukou(batches: &[RecordBatch]) -> Result<Registry> {
        let mut b = RegistryBuilder::new();
        b.add_hukou(batches)?;
        Ok(b.build())
    }

    /// Number of persons.
    pub fn len(&self) -> usize {
        self.persons.len()
    }

    /// Whether the registry holds nobody.
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty()
    }

    /// blake3 (hex) of the registry's content: persons in id order with
    /// their names, pinyin, birth dates, genders, regions and statuses.
    /// Links made against one registry are valid for another with the same
    /// hash.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// What went into the registry.
    pub fn stats(&self) -> &RegistryStats {
        &self.stats
    }

    /// The person holding a valid id (hash lookup).
    pub fn person(&self, id: &IdNumber) -> Option<Person<'_>> {
        self.index_of(id).map(|index| Person {
            registry: self,
            index,
        })
    }

    /// Every person, in id order.
    pub fn persons(&self) -> impl Iterator<Item = Person<'_>> + '_ {
        (0..self.persons.len() as u32).map(move |index| Person {
            registry: self,
            index,
        })
    }

    /// Number of persons whose name (normal form) is `name`.
    pub fn name_frequency(&self, name: &str) -> u32 {
        self.strings
            .names
            .lookup(name)
            .map_or(0, |k| self.name_count[k as usize])
    }

    pub(crate) fn index_of(&self, id: &IdNumber) -> Option<u32> {
        self.by_body.get(&body_u64(id.as_str().as_bytes())).copied()
    }

    pub(crate) fn index_of_body(&self, body: u64) -> Option<u32> {
        self.by_body.get(&body).copied()
    }

    pub(crate) fn row(&self, i: u32) -> &PersonRow {
        &self.persons[i as usize]
    }

    pub(crate) fn name_str(&self, k: u32) -> &str {
        self.strings.name(k)
    }

    pub(crate) fn pinyin_str(&self, k: u32) -> &str {
        self.strings.pinyin(k)
    }

    pub(crate) fn block(&self, rule: BlockingRule) -> &BlockIndex {
        &self.blocks[rule as usize]
    }
}
