//! Quality of links against a ground truth (the synthetic city's
//! `truth/records.parquet`): precision and recall of the counted links,
//! overall, per noise kind and per source; the review band; and the wrong
//! links on the generator's traps.

use std::collections::{BTreeMap, HashMap};

use arrow::record_batch::RecordBatch;
use hedui_model::IdNumber;
use serde::Serialize;

use crate::columns::{utf8, value};
use crate::error::{Error, Result};
use crate::links::{Links, Method};
use crate::registry::Registry;

/// Noise kinds that are traps: a counted wrong link on them is the worst
/// failure (a poor family's food money cut, a dead person paid).
/// Records of trap-twin persons (see [`Truth::add_twins`]) are traps too.
pub const TRAP_KINDS: [&str; 2] = ["trap_twin", "swapped_name"];

#[derive(Clone, Debug)]
struct TruthRow {
    person: Option<IdNumber>,
    noise: String,
}

/// The true person of each record: `(source, record_id) → person`.
#[derive(Clone, Debug, Default)]
pub struct Truth {
    rows: HashMap<(String, String), TruthRow>,
    twins: std::collections::HashSet<IdNumber>,
}

impl Truth {
    /// An empty truth.
    pub fn new() -> Truth {
        Truth::default()
    }

    /// Reads batches with columns `source`, `record_id`, `person_key` (the
    /// true person's 18-digit id, nullable) and optionally `noise`.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Truth> {
        let mut t = Truth::new();
        for b in batches {
            let src = "truth";
            let source = utf8(b, src, "source", true)?;
            let record_id = utf8(b, src, "record_id", true)?;
            let person = utf8(b, src, "person_key", true)?;
            let noise = utf8(b, src, "noise", false)?;
            for i in 0..b.num_rows() {
                let (Some(s), Some(r)) = (value(&source, i), value(&record_id, i)) else {
                    return Err(Error::Truth(format!("row {i} has no source or record_id")));
                };
                t.insert(s, r, value(&person, i), value(&noise, i).unwrap_or("none"));
            }
        }
        Ok(t)
    }

    /// Marks the persons of trap-twin pairs from batches of the truth's
    /// persons table (columns `person_key` and `twin_of`): every record of
    /// a twin is then a trap record.
    pub fn add_twins(&mut self, persons: &[RecordBatch]) -> Result<()> {
        for b in persons {
            let person = utf8(b, "truth_persons", "person_key", true)?;
            let twin = utf8(b, "truth_persons", "twin_of", true)?;
            for i in 0..b.num_rows() {
                if value(&twin, i).is_some()
                    && let Some(p) = value(&person, i).and_then(|p| IdNumber::parse_valid(p).ok())
                {
                    self.twins.insert(p);
                }
            }
        }
        Ok(())
    }

    /// Marks one person as a trap twin.
    pub fn mark_twin(&mut self, person: IdNumber) {
        self.twins.insert(person);
    }

    /// Adds one record's truth.
    pub fn insert(&mut self, source: &str, record_id: &str, person_key: Option<&str>, noise: &str) {
        self.rows.insert(
            (source.to_owned(), record_id.to_owned()),
            TruthRow {
                person: person_key.and_then(|p| IdNumber::parse_valid(p).ok()),
                noise: noise.to_owned(),
            },
        );
    }

    /// The true person (if known) and noise kind of a record.
    pub fn get(&self, source: &str, record_id: &str) -> Option<(Option<IdNumber>, &str)> {
        self.rows
            .get(&(source.to_owned(), record_id.to_owned()))
            .map(|t| (t.person, t.noise.as_str()))
    }

    /// Records with a truth.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Counts and rates of one slice of records.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Quality {
    /// Records.
    pub records: usize,
    /// Records whose true person is in the registry.
    pub linkable: usize,
    /// Counted links (exact, upgraded, id_conflict, fuzzy).
    pub counted: usize,
    /// Counted links to the true person.
    pub correct: usize,
    /// Counted links to another person.
    pub wrong: usize,
    /// Records in the review band.
    pub possible: usize,
    /// Review-band records whose best candidate is the true person.
    pub possible_correct: usize,
    /// Records left unlinked.
    pub unlinked: usize,
    /// correct / counted (1 when nothing is counted).
    pub precision: f64,
    /// correct / linkable (1 when nothing is linkable).
    pub recall: f64,
}

impl Quality {
    fn finish(&mut self) {
        self.precision = if self.counted == 0 {
            1.0
        } else {
            self.correct as f64 / self.counted as f64
        };
        self.recall = if self.linkable == 0 {
            1.0
        } else {
            self.correct as f64 / self.linkable as f64
        };
    }
}

/// The quality of a set of links.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QualityReport {
    /// Every record with a truth.
    pub overall: Quality,
    /// Per noise kind.
    pub by_noise: BTreeMap<String, Quality>,
    /// Per source.
    pub by_source: BTreeMap<String, Quality>,
    /// Records per method.
    pub methods: BTreeMap<String, usize>,
    /// Records linked as id conflicts.
    pub id_conflicts: usize,
    /// Records in the review band.
    pub review_band: usize,
    /// Trap records: noise in [`TRAP_KINDS`], or a record of a trap twin.
    pub trap_records: usize,
    /// Counted wrong links on trap records.
    pub trap_wrong_links: usize,
    /// `swapped_name` records counted without the id-conflict flag.
    pub swapped_name_unflagged: usize,
    /// Links whose record has no truth row.
    pub records_without_truth: usize,
}

/// Compares links with the truth.
pub fn evaluate(truth: &Truth, links: &[&Links], registry: &Registry) -> QualityReport {
    let mut rep = QualityReport::default();
    for ls in links {
        for l in &ls.links {
            let Some(t) = truth.rows.get(&(ls.source.clone(), l.record_id.clone())) else {
                rep.records_without_truth += 1;
                continue;
            };
            *rep.methods.entry(l.method.code().to_owned()).or_default() += 1;
            let linkable = t.person.is_some_and(|p| registry.person(&p).is_some());
            let right = l.person_id.is_some() && l.person_id == t.person;
            bump(&mut rep.overall, l.method, linkable, right);
            bump(
                rep.by_noise.entry(t.noise.clone()).or_default(),
                l.method,
                linkable,
                right,
            );
            bump(
                rep.by_source.entry(ls.source.clone()).or_default(),
                l.method,
                linkable,
                right,
            );
            match l.method {
                Method::IdConflict => rep.id_conflicts += 1,
                Method::Possible => rep.review_band += 1,
                _ => {}
            }
            let trap = TRAP_KINDS.contains(&t.noise.as_str())
                || t.person.is_some_and(|p| truth.twins.contains(&p));
            if trap {
                rep.trap_records += 1;
                if l.counted() && !right {
                    rep.trap_wrong_links += 1;
                }
            }
            if t.noise == "swapped_name" && l.counted() && l.method != Method::IdConflict {
                rep.swapped_name_unflagged += 1;
            }
        }
    }
    rep.overall.finish();
    for q in rep.by_noise.values_mut().chain(rep.by_source.values_mut()) {
        q.finish();
    }
    rep
}

fn bump(q: &mut Quality, m: Method, linkable: bool, right: bool) {
    q.records += 1;
    if linkable {
        q.linkable += 1;
    }
    match m {
        m if m.counted() => {
            q.counted += 1;
            if right {
                q.correct += 1;
            } else {
                q.wrong += 1;
            }
        }
        Method::Possible => {
            q.possible += 1;
            if right {
                q.possible_correct += 1;
            }
        }
        _ => q.unlinked += 1,
    }
}
