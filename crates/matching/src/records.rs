//! The records of one source, reduced to the evidence identity resolution
//! reads: the id as sent (cleaned, even when invalid), the name's normal
//! form and pinyin, a stated birth date and gender when the source has
//! them, and a context value (the employer, the institution) when the
//! source has one.

use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use hedui_model::{Date, IdGender, IdNumber, PersonName};
use rayon::prelude::*;

use crate::columns::{date_to_ymd, date32, days_to_ymd, display_named, utf8, value};
use crate::error::Result;
use crate::registry::body_u64;

/// The id status codes of `hedui-sources`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum IdStatus {
    Valid,
    Upgraded,
    Missing,
    BadLength,
    BadCharacters,
    BadRegion,
    BadBirthDate,
    BadCheckDigit,
}

impl IdStatus {
    fn parse(code: &str) -> IdStatus {
        match code {
            "valid" => IdStatus::Valid,
            "upgraded" => IdStatus::Upgraded,
            "bad_length" => IdStatus::BadLength,
            "bad_characters" => IdStatus::BadCharacters,
            "bad_region" => IdStatus::BadRegion,
            "bad_birth_date" => IdStatus::BadBirthDate,
            "bad_check_digit" => IdStatus::BadCheckDigit,
            _ => IdStatus::Missing,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            IdStatus::Valid => "valid",
            IdStatus::Upgraded => "upgraded",
            IdStatus::Missing => "missing",
            IdStatus::BadLength => "bad_length",
            IdStatus::BadCharacters => "bad_characters",
            IdStatus::BadRegion => "bad_region",
            IdStatus::BadBirthDate => "bad_birth_date",
            IdStatus::BadCheckDigit => "bad_check_digit",
        }
    }
}

/// What a record's id says, aligned on the 18 positions of a number:
/// region 0–5, birth date 6–13, sequence 14–16, check 17. A 15-digit
/// legacy number that does not validate is aligned by inserting `19`; its
/// check position is unknown.
#[derive(Clone, Debug)]
pub(crate) struct IdEvidence {
    pub(crate) chars: [u8; 18],
    /// Bit `i` set when position `i` is known.
    pub(crate) have: u32,
    pub(crate) status: IdStatus,
    /// The body of a valid (or upgraded) number.
    pub(crate) valid_body: Option<u64>,
    /// The cleaned text as received when it is not 15 or 18 ASCII
    /// characters (shown as evidence).
    pub(crate) other_text: Option<Box<str>>,
}

pub(crate) const ALL_18: u32 = (1 << 18) - 1;
pub(crate) const BODY_17: u32 = (1 << 17) - 1;

impl IdEvidence {
    pub(crate) fn missing() -> IdEvidence {
        IdEvidence {
            chars: [0; 18],
            have: 0,
            status: IdStatus::Missing,
            valid_body: None,
            other_text: None,
        }
    }

    fn new(id_number: Option<&str>, id_clean: Option<&str>, status: IdStatus) -> IdEvidence {
        let mut e = IdEvidence::missing();
        e.status = status;
        if let Some(valid) = id_number.filter(|s| s.len() == 18 && s.is_ascii()) {
            e.chars.copy_from_slice(valid.as_bytes());
            e.have = ALL_18;
            e.valid_body = Some(body_u64(valid.as_bytes()));
            if !matches!(status, IdStatus::Valid | IdStatus::Upgraded) {
                e.status = IdStatus::Valid;
            }
            return e;
        }
        if matches!(status, IdStatus::Valid | IdStatus::Upgraded) {
            e.status = IdStatus::Missing;
        }
        let Some(clean) = id_clean.filter(|s| !s.is_empty()) else {
            if e.status != IdStatus::Missing {
                e.status = IdStatus::Missing;
            }
            return e;
        };
        let b = clean.as_bytes();
        if clean.is_ascii() && b.len() == 18 {
            e.chars.copy_from_slice(b);
            e.have = ALL_18;
        } else if clean.is_ascii() && b.len() == 15 {
            e.chars[..6].copy_from_slice(&b[..6]);
            e.chars[6] = b'1';
            e.chars[7] = b'9';
            e.chars[8..17].copy_from_slice(&b[6..15]);
            e.have = BODY_17;
        } else {
            let prefix: Vec<u8> = clean.bytes().take_while(u8::is_ascii).take(6).collect();
            if prefix.len() == 6 && clean.chars().count() >= 14 {
                e.chars[..6].copy_from_slice(&prefix);
                e.have = (1 << 6) - 1;
            }
            e.other_text = Some(clean.into());
        }
        e
    }

    pub(crate) fn has(&self, lo: usize, hi: usize) -> bool {
        let mask = ((1u32 << (hi - lo)) - 1) << lo;
        self.have & mask == mask
    }

    pub(crate) fn part(&self, lo: usize, hi: usize) -> Option<&[u8]> {
        self.has(lo, hi).then(|| &self.chars[lo..hi])
    }

    /// The id as evidence: the cleaned text as received.
    pub(crate) fn text(&self) -> Option<String> {
        self.text_ref().map(|t| t.into_owned())
    }

    /// As [`IdEvidence::text`], borrowed when possible.
    pub(crate) fn text_ref(&self) -> Option<std::borrow::Cow<'_, str>> {
        if let Some(t) = &self.other_text {
            return Some(std::borrow::Cow::Borrowed(t));
        }
        match self.have {
            ALL_18 => Some(String::from_utf8_lossy(&self.chars)),
            BODY_17 => {
                let mut s = String::from_utf8_lossy(&self.chars[..6]).into_owned();
                s.push_str(&String::from_utf8_lossy(&self.chars[8..17]));
                Some(std::borrow::Cow::Owned(s))
            }
            _ => None,
        }
    }
}

/// One record's evidence.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub(crate) record_id: Box<str>,
    pub(crate) id: IdEvidence,
    pub(crate) name: Box<str>,
    pub(crate) pinyin: Box<str>,
    /// Byte ranges of the pinyin key: the surname is `..split.0`, the given
    /// name `split.1..` (a compound surname has two syllables, a minority
    /// name with a middle dot none).
    pub(crate) split: (u16, u16),
    /// Stated birth date as `yyyymmdd` (0: none).
    pub(crate) stated_birth: u32,
    /// Stated gender: 1 male, 2 female, 0 none.
    pub(crate) stated_gender: u8,
    pub(crate) context: Option<Box<str>>,
}

impl Record {
    /// Index of the context set the record's context value comes from.
    pub(crate) fn context_set(&self) -> Option<usize> {
        self.context
            .as_deref()
            .and_then(|c| c.bytes().next())
            .map(|b| usize::from(b.wrapping_sub(b'0')).min(MAX_CONTEXT_SETS - 1))
    }

    /// The context value for display (`payer|amount`).
    pub(crate) fn context_display(&self) -> Option<String> {
        self.context
            .as_deref()
            .map(|c| c.get(2..).unwrap_or("").replace('\u{1f}', "|"))
    }

    /// The birth date the record carries as 8 ASCII digits: the id's
    /// digits 7–14 when known, else the stated date.
    pub(crate) fn birth8(&self) -> Option<[u8; 8]> {
        if let Some(p) = self.id.part(6, 14) {
            let mut b = [0u8; 8];
            b.copy_from_slice(p);
            if self.stated_birth == 0 || plausible_date(&b) {
                return Some(b);
            }
        }
        (self.stated_birth != 0).then(|| ymd8(self.stated_birth))
    }
}

/// Most context sets a source may define.
pub(crate) const MAX_CONTEXT_SETS: usize = 4;

/// `yyyymmdd` as 8 ASCII digits.
pub(crate) fn ymd8(v: u32) -> [u8; 8] {
    let mut b = [b'0'; 8];
    let mut x = v;
    for i in (0..8).rev() {
        b[i] = b'0' + (x % 10) as u8;
        x /= 10;
    }
    b
}

/// Whether 8 ASCII characters form a real calendar date.
pub(crate) fn plausible_date(b: &[u8]) -> bool {
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = |r: &[u8]| r.iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0'));
    Date::from_ymd_opt(n(&b[0..4]) as i32, n(&b[4..6]), n(&b[6..8])).is_some()
}

/// The context a source's records carry by default: alternative sets of
/// canonical columns, the first whose values are all present giving the
/// record's context value. A person's records in one source usually share
/// it — the employer or payer of monthly records, the kind and amount of a
/// pension paid every month, the institution of accounts. How much it is
/// worth is measured on each source's id-linked records.
pub fn default_context(source: &str) -> &'static [&'static [&'static str]] {
    match source {
        "tax" => &[&["payer_code"], &["income_kind", "gross_fen"]],
        "social_insurance" => &[&["employer_code"], &["kind", "scheme", "amount_fen"]],
        "housing_fund" => &[&["employer_code"]],
        "bank" | "securities" => &[&["institution"]],
        "insurance" => &[&["insurer"]],
        "expense" => &[&["provider"]],
        _ => &[],
    }
}

/// Counts of the records of one source by id status.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecordStats {
    /// Records.
    pub records: usize,
    /// Records with a valid (or upgraded legacy) id.
    pub valid_id: usize,
    /// Records without an id.
    pub missing_id: usize,
    /// Records whose id is present but invalid.
    pub invalid_id: usize,
}

/// The records of one source, ready to be resolved.
#[derive(Debug)]
pub struct Records {
    source: String,
    pub(crate) rows: Vec<Record>,
    stats: RecordStats,
}

/// One record given by value, for single-record lookups (a household's
/// member, a record typed in by a case worker).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordInput {
    /// The record's identifier (echoed in the link).
    pub record_id: String,
    /// The id as sent, if any (any of the accepted forms).
    pub id_number: Option<String>,
    /// The name as sent.
    pub name: String,
    /// A stated birth date, if the record has one.
    pub birth_date: Option<Date>,
    /// A stated gender, if the record has one.
    pub gender: Option<IdGender>,
    /// A context value (employer, institution), if any.
    pub context: Option<String>,
}

impl RecordInput {
    pub(crate) fn to_record(&self) -> Record {
        let (number, clean, status) = match &self.id_number {
            Some(raw) => {
                let p = IdNumber::parse(raw);
                (
                    p.id().map(|i| i.to_string()),
                    Some(p.cleaned.clone()),
                    IdStatus::parse(p.status_code()),
                )
            }
            None => (None, None, IdStatus::Missing),
        };
        let name = PersonName::new(&self.name);
        let pinyin = name.pinyin_key();
        Record {
            record_id: self.record_id.as_str().into(),
            id: IdEvidence::new(number.as_deref(), clean.as_deref(), status),
            name: name.normal().into(),
            split: crate::registry::pinyin_split(name.normal(), &pinyin),
            pinyin: pinyin.into(),
            stated_birth: self.birth_date.and_then(date_to_ymd).unwrap_or(0),
            stated_gender: match self.gender {
                Some(IdGender::Male) => 1,
                Some(IdGender::Female) => 2,
                None => 0,
            },
            context: self.context.as_deref().map(Into::into),
        }
    }
}

impl Records {
    /// Reads canonical batches of `source` (as `hedui-sources` normalises
    /// them): `record_id`, `id_number`, `id_clean`, `id_status`, `name`,
    /// `name_pinyin`, and when present `birth_date`, `gender` and the
    /// source's [`default_context`] columns.
    pub fn from_batches(source: &str, batches: &[RecordBatch]) -> Result<Records> {
        Records::from_batches_with_context(source, batches, default_context(source))
    }

    /// As [`Records::from_batches`], with explicit context column sets (see
    /// [`default_context`]; empty for none).
    pub fn from_batches_with_context(
        source: &str,
        batches: &[RecordBatch],
        context: &[&[&str]],
    ) -> Result<Records> {
        let parts = batches
            .par_iter()
            .map(|b| read_batch(source, b, context))
            .collect::<Result<Vec<_>>>()?;
        let rows: Vec<Record> = parts.into_iter().flatten().collect();
        Ok(Records::from_rows(source, rows))
    }

    /// The columns [`Records::from_batches`] reads of `source`: a reader
    /// may load only these.
    pub fn columns(source: &str) -> Vec<&'static str> {
        let mut cols = vec![
            "record_id",
            "id_number",
            "id_clean",
            "id_status",
            "name",
            "name_pinyin",
            "gender",
            "birth_date",
        ];
        for set in default_context(source) {
            for c in *set {
                if !cols.contains(c) {
                    cols.push(c);
                }
            }
        }
        cols
    }

    /// No records yet, room for `capacity` (see
    /// [`Records::extend_from_batches`]).
    pub fn with_capacity(source: &str, capacity: usize) -> Records {
        Records {
            source: source.to_owned(),
            rows: Vec::with_capacity(capacity),
            stats: RecordStats::default(),
        }
    }

    /// Appends the records of `more` batches of the same source (a source
    /// read a few batches at a time).
    pub fn extend_from_batches(&mut self, batches: &[RecordBatch]) -> Result<()> {
        let more = Records::from_batches(&self.source, batches)?;
        self.stats.records += more.stats.records;
        self.stats.valid_id += more.stats.valid_id;
        self.stats.missing_id += more.stats.missing_id;
        self.stats.invalid_id += more.stats.invalid_id;
        self.rows.extend(more.rows);
        Ok(())
    }

    /// Records given by value.
    pub fn from_inputs(source: &str, inputs: &[RecordInput]) -> Records {
        Records::from_rows(source, inputs.iter().map(RecordInput::to_record).collect())
    }

    fn from_rows(source: &str, mut rows: Vec<Record>) -> Records {
        rows.par_iter_mut()
            .for_each(|r| r.split = crate::registry::pinyin_split(&r.name, &r.pinyin));
        let mut stats = RecordStats {
            records: rows.len(),
            ..RecordStats::default()
        };
        for r in &rows {
            if r.id.valid_body.is_some() {
                stats.valid_id += 1;
            } else if r.id.status == IdStatus::Missing {
                stats.missing_id += 1;
            } else {
                stats.invalid_id += 1;
            }
        }
        Records {
            source: source.to_owned(),
            rows,
            stats,
        }
    }

    /// The source (table) name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Counts by id status.
    pub fn stats(&self) -> &RecordStats {
        &self.stats
    }
}

fn read_batch(source: &str, batch: &RecordBatch, context: &[&[&str]]) -> Result<Vec<Record>> {
    let record_id = utf8(batch, source, "record_id", true)?;
    let id_number = utf8(batch, source, "id_number", true)?;
    let id_clean = utf8(batch, source, "id_clean", false)?;
    let id_status = utf8(batch, source, "id_status", false)?;
    let name = utf8(batch, source, "name", true)?;
    let pinyin = utf8(batch, source, "name_pinyin", false)?;
    let gender = utf8(batch, source, "gender", false)?;
    let birth = date32(batch, source, "birth_date")?;
    let ctx: Vec<Vec<Option<arrow::array::StringArray>>> = context
        .iter()
        .map(|set| {
            set.iter()
                .map(|c| display_named(batch, c))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<_>>()?;
    let n = batch.num_rows();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let number = value(&id_number, i);
        let status = match value(&id_status, i) {
            Some(s) => IdStatus::parse(s),
            None if number.is_some() => IdStatus::Valid,
            None => IdStatus::Missing,
        };
        let nm = value(&name, i).unwrap_or("");
        let py: Box<str> = match value(&pinyin, i) {
            Some(p) => p.into(),
            None if !nm.is_empty() => hedui_model::name::pinyin_syllables(nm).join(" ").into(),
            None => "".into(),
        };
        out.push(Record {
            record_id: value(&record_id, i).unwrap_or("").into(),
            id: IdEvidence::new(number, value(&id_clean, i), status),
            name: nm.into(),
            pinyin: py,
            split: (0, 0),
            stated_birth: birth
                .as_ref()
                .filter(|b| b.is_valid(i))
                .and_then(|b| days_to_ymd(b.value(i)))
                .unwrap_or(0),
            stated_gender: match value(&gender, i) {
                Some("male") => 1,
                Some("female") => 2,
                _ => 0,
            },
            context: context_value(&ctx, i),
        });
    }
    Ok(out)
}

/// The first context set whose values are all present, as one string:
/// the set's index (one digit), then the values, each after U+001F.
fn context_value(sets: &[Vec<Option<arrow::array::StringArray>>], i: usize) -> Option<Box<str>> {
    for (k, set) in sets.iter().enumerate() {
        let values: Option<Vec<&str>> = set.iter().map(|a| value(a, i)).collect();
        if let Some(v) = values.filter(|v| !v.is_empty()) {
            let mut s = k.min(9).to_string();
            for x in v {
                s.push('\u{1f}');
                s.push_str(x);
            }
            return Some(s.into());
        }
    }
    None
}
