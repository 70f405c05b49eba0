//! `hedui-matching`: identity resolution (rules §2) — which person each
//! department record belongs to.
//!
//! In the flow of hedui (核对) it sits between the snapshots and the
//! engine: `hedui-sources` normalises every extract into canonical columns
//! (`id_number`, `id_clean`, `id_status`, `name`, `name_pinyin` …); this
//! crate builds a [`Registry`] of persons from `hukou` (户籍) and from the
//! persons declared in requests, trains a [`Model`] on the records
//! themselves, and resolves each source's [`Records`] to [`Links`]: one
//! [`Link`] per record with its [`Method`], its posterior probability, its
//! match weight and the per-field evidence behind it. The engine joins
//! members to records through the counted links; a report lists every
//! link it used and every possible match.
//!
//! Resolution, in order of strength:
//!
//! 1. `exact` — the valid id a registered person holds, names equal after
//!    normalisation; `upgraded` — the same through a 15-digit legacy id;
//! 2. `id_conflict` — the id a registered person holds with another name
//!    (a homophone is a disagreement): linked to the id's holder, flagged;
//! 3. `fuzzy` — otherwise, a Fellegi–Sunter posterior at or above the link
//!    threshold (policy, default 0.99) for one person that no other
//!    candidate matches as closely; `possible` — in the review band
//!    (default 0.80 up to the link threshold): listed, never counted;
//!    `unlinked` — the rest.
//!
//! The model ([`model`]): comparison fields name (normal form, then pinyin
//! with Jaro–Winkler bands), the id's region, birth date, sequence and
//! check parts, gender and the source context; u-probabilities from random
//! pairs, m-probabilities by EM on a deterministic sample of blocked
//! pairs, term-frequency adjusted exact levels; blocking rules that
//! tolerate id typos ([`blocking`]). The posterior lets the candidates
//! compete ([`resolve`]), so two persons the evidence
//! cannot tell apart are never linked.
//!
//! Invariants:
//! - exact beats fuzzy: a record whose valid id a registered person holds
//!   is linked to that person and to no one else;
//! - a doubtful link is a flag (`id_conflict`, `possible`), never a silent
//!   merge;
//! - the same registry, model and records give the same links and the same
//!   weights bit for bit, on any number of threads; links are sorted by
//!   `record_id`;
//! - a source is resolved alone: a new snapshot of one source touches only
//!   its records. Stored links stay valid while [`Registry::hash`] and
//!   [`Model::hash`] are unchanged.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use hedui_matching::{MatchSettings, Method, Model, Records, Registry};
//!
//! fn canonical(table: &str, cols: &[(&str, Vec<Option<&str>>)]) -> Vec<RecordBatch> {
//!     let schema = Arc::new(Schema::new(
//!         cols.iter().map(|(n, _)| Field::new(*n, DataType::Utf8, true)).collect::<Vec<_>>(),
//!     ));
//!     let arrays = cols
//!         .iter()
//!         .map(|(_, v)| Arc::new(StringArray::from(v.clone())) as _)
//!         .collect();
//!     let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
//!     let spec = hedui_sources::table(table).unwrap();
//!     hedui_sources::normalise(spec, table, &schema, &[batch]).unwrap().rows
//! }
//!
//! let hukou = canonical("hukou", &[
//!     ("record_id", vec![Some("H1"), Some("H2")]),
//!     ("id_number", vec![Some("11010519491231002X"), Some("530302198503121234")]),
//!     ("name", vec![Some("張偉"), Some("李娜")]),
//!     ("region_code", vec![Some("110105"), Some("530302")]),
//!     ("status", vec![Some("active"), Some("active")]),
//! ]);
//! let registry = Registry::from_hukou(&hukou).unwrap();
//!
//! let death = canonical("death", &[
//!     ("record_id", vec![Some("D1"), Some("D2")]),
//!     ("id_number", vec![Some("110105491231002"), Some("530302198503121235")]),
//!     ("name", vec![Some("张伟"), Some("李娜")]),
//!     ("death_date", vec![Some("2026-01-05"), Some("2026-02-01")]),
//! ]);
//! let records = Records::from_batches("death", &death).unwrap();
//! let model = Model::train(&registry, &[&records], MatchSettings::default()).unwrap();
//! let links = model.resolve(&registry, &records);
//! assert_eq!(links.get("D1").unwrap().method, Method::Upgraded);
//! // D2's check digit is wrong; name and every other digit agree.
//! assert_eq!(links.get("D2").unwrap().method, Method::Fuzzy);
//! assert_eq!(links.get("D2").unwrap().person_id.unwrap().as_str(), "530302198503121234");
//! ```

pub mod blocking;
mod columns;
pub mod compare;
pub mod error;
pub mod evaluate;
pub mod links;
pub mod model;
pub mod records;
pub mod registry;
pub mod resolve;
pub mod settings;
mod util;

pub use blocking::{BlockingCounts, BlockingRule, RuleCount, count_pairs};
pub use compare::Field;
pub use error::{Error, Result};
pub use evaluate::{Quality, QualityReport, TRAP_KINDS, Truth, evaluate};
pub use links::{FieldScore, Link, Links, Method, ResolveSummary, links_schema};
pub use model::{EmSession, FieldParameters, Model, TrainingSummary};
pub use records::{RecordInput, RecordStats, Records, default_context};
pub use registry::{Person, Registry, RegistryBuilder, RegistryStats};
pub use settings::MatchSettings;
