//! Links: the outcome of resolving a source's records, and their Arrow
//! form.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, RecordBatch, StringBuilder, UInt32Builder,
};
use arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef};
use hedui_model::IdNumber;
use serde::{Deserialize, Serialize};

use crate::compare::{FIELDS, Field};
use crate::error::Result;

/// How a record was resolved (rules §2), strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Valid id equal, names equal after normalisation.
    Exact,
    /// A legacy 15-digit id, upgraded, equal; names equal.
    Upgraded,
    /// The id equals a registered person's but the name disagrees: linked
    /// to the id's holder and flagged for review.
    IdConflict,
    /// No usable id match, but the evidence reaches the link threshold.
    Fuzzy,
    /// In the review band: listed for manual review, never counted.
    Possible,
    /// No person reaches the review threshold, or none could be told
    /// apart from another.
    Unlinked,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 6] = [
        Method::Exact,
        Method::Upgraded,
        Method::IdConflict,
        Method::Fuzzy,
        Method::Possible,
        Method::Unlinked,
    ];

    /// Stable code (`exact`, `upgraded`, `id_conflict`, `fuzzy`,
    /// `possible`, `unlinked`).
    pub fn code(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Upgraded => "upgraded",
            Method::IdConflict => "id_conflict",
            Method::Fuzzy => "fuzzy",
            Method::Possible => "possible",
            Method::Unlinked => "unlinked",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.code() == code)
    }

    /// Whether a record resolved this way belongs to the person in a
    /// report's figures (exact, upgraded, id_conflict, fuzzy).
    pub fn counted(self) -> bool {
        matches!(
            self,
            Method::Exact | Method::Upgraded | Method::IdConflict | Method::Fuzzy
        )
    }

    /// The report flag the method raises (`id_conflict`,
    /// `possible_match`), if any.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            Method::IdConflict => Some("id_conflict"),
            Method::Possible => Some("possible_match"),
            _ => None,
        }
    }
}

/// One field's part of a link's match weight.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FieldScore {
    /// The field.
    pub field: Field,
    /// The comparison level.
    pub level: &'static str,
    /// log2 Bayes factor (0 when not compared).
    pub weight: f64,
}

/// The resolution of one record.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The record's `record_id`.
    pub record_id: String,
    /// The person linked (or, for `possible`, the best candidate).
    pub person_id: Option<IdNumber>,
    /// How.
    pub method: Method,
    /// Posterior probability that the record belongs to `person_id` (1 for
    /// exact and upgraded; the best candidate's for unlinked). `None`
    /// when no candidate was found.
    pub match_probability: Option<f64>,
    /// Match weight of the pair: log2 of the prior plus every field's
    /// log2 Bayes factor.
    pub match_weight: Option<f64>,
    /// Persons compared with the record (1 for an id match).
    pub candidates: u32,
    pub(crate) levels: [u8; FIELDS],
    pub(crate) weights: [f64; FIELDS],
    pub(crate) explanation: String,
}

impl Link {
    /// Whether the record counts for the person.
    pub fn counted(&self) -> bool {
        self.method.counted()
    }

    /// One field's level and weight for the linked (or best) person.
    pub fn field(&self, f: Field) -> FieldScore {
        let l = self.levels[f as usize] as usize;
        FieldScore {
            field: f,
            level: f.levels().get(l).copied().unwrap_or("missing"),
            weight: self.weights[f as usize],
        }
    }

    /// Every field, in order: the match-weight waterfall after the prior.
    pub fn fields(&self) -> Vec<FieldScore> {
        Field::ALL.iter().map(|f| self.field(*f)).collect()
    }

    /// The explanation as JSON: the record's and the person's evidence,
    /// the prior, every field's level and weight, the probability mass of
    /// the other candidates and of "nobody in the registry", and the best
    /// alternatives.
    pub fn explanation(&self) -> &str {
        &self.explanation
    }
}

/// What a resolution run saw.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResolveSummary {
    /// Records resolved.
    pub records: usize,
    /// Records per method code.
    pub methods: BTreeMap<&'static str, usize>,
    /// Share of the source's valid-id records whose id nobody in the
    /// registry holds: the prior that a record belongs to nobody
    /// registered (floored by the settings).
    pub outsider_rate: f64,
    /// Records scored against candidates (all but exact and upgraded).
    pub scored_records: usize,
    /// Record–person pairs scored.
    pub scored_pairs: u64,
    /// Persons with an id-linked record in the source (source context).
    pub context_persons: usize,
    /// m of the context levels for records with a value of the source's
    /// first context set `[same_context, in_source, absent]`, estimated on
    /// the id-linked records.
    pub context_m: [f64; 3],
}

/// The links of one source's records, sorted by `record_id`.
#[derive(Clone, Debug)]
pub struct Links {
    /// The source.
    pub source: String,
    /// Hash of the registry linked against.
    pub registry_hash: String,
    /// Hash of the model.
    pub model_hash: String,
    /// One link per record, sorted by record_id.
    pub links: Vec<Link>,
    /// Counts.
    pub summary: ResolveSummary,
}

/// Schema metadata keys of the links batch.
pub const META_REGISTRY_HASH: &str = "hedui.matching.registry_hash";
/// See [`META_REGISTRY_HASH`].
pub const META_MODEL_HASH: &str = "hedui.matching.model_hash";
/// See [`META_REGISTRY_HASH`].
pub const META_SOURCE: &str = "hedui.matching.source";

/// The schema of a links batch:
///
/// | column | type | |
/// | --- | --- | --- |
/// | source | Utf8 | |
/// | record_id | Utf8 | sorted ascending |
/// | person_id | Utf8, nullable | 18-digit id of the person (best candidate for `possible`) |
/// | method | Utf8 | `exact`, `upgraded`, `id_conflict`, `fuzzy`, `possible`, `unlinked` |
/// | counted | Boolean | exact, upgraded, id_conflict, fuzzy |
/// | match_probability | Float64, nullable | posterior of person_id |
/// | match_weight | Float64, nullable | log2 prior + Σ field weights |
/// | candidates | UInt32 | persons compared |
/// | w_name … w_context | Float64 | per-field log2 Bayes factors |
/// | explanation | Utf8 | JSON evidence (see [`Link::explanation`]) |
pub fn links_schema() -> SchemaRef {
    let mut fields = vec![
        ArrowField::new("source", DataType::Utf8, false),
        ArrowField::new("record_id", DataType::Utf8, false),
        ArrowField::new("person_id", DataType::Utf8, true),
        ArrowField::new("method", DataType::Utf8, false),
        ArrowField::new("counted", DataType::Boolean, false),
        ArrowField::new("match_probability", DataType::Float64, true),
        ArrowField::new("match_weight", DataType::Float64, true),
        ArrowField::new("candidates", DataType::UInt32, false),
    ];
    for f in Field::ALL {
        fields.push(ArrowField::new(
            format!("w_{}", f.code()),
            DataType::Float64,
            false,
        ));
    }
    fields.push(ArrowField::new("explanation", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

impl Links {
    /// The link of a record, by binary search.
    pub fn get(&self, record_id: &str) -> Option<&Link> {
        self.links
            .binary_search_by(|l| l.record_id.as_str().cmp(record_id))
            .ok()
            .map(|i| &self.links[i])
    }

    /// Number of links.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The links as one Arrow batch ([`links_schema`]), with the source and
    /// both hashes in the schema metadata.
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let n = self.links.len();
        let mut source = StringBuilder::with_capacity(n, n * self.source.len());
        let mut record_id = StringBuilder::with_capacity(n, n * 16);
        let mut person = StringBuilder::with_capacity(n, n * 18);
        let mut method = StringBuilder::with_capacity(n, n * 6);
        let mut counted = BooleanBuilder::with_capacity(n);
        let mut prob = Float64Builder::with_capacity(n);
        let mut weight = Float64Builder::with_capacity(n);
        let mut cands = UInt32Builder::with_capacity(n);
        let mut w: Vec<Float64Builder> = (0..FIELDS)
            .map(|_| Float64Builder::with_capacity(n))
            .collect();
        let bytes: usize = self.links.iter().map(|l| l.explanation.len()).sum();
        let mut expl = StringBuilder::with_capacity(n, bytes);
        for l in &self.links {
            source.append_value(&self.source);
            record_id.append_value(&l.record_id);
            person.append_option(l.person_id.map(|p| p.to_string()));
            method.append_value(l.method.code());
            counted.append_value(l.counted());
            prob.append_option(l.match_probability);
            weight.append_option(l.match_weight);
            cands.append_value(l.candidates);
            for (k, b) in w.iter_mut().enumerate() {
                b.append_value(l.weights[k]);
            }
            expl.append_value(&l.explanation);
        }
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(source.finish()),
            Arc::new(record_id.finish()),
            Arc::new(person.finish()),
            Arc::new(method.finish()),
            Arc::new(counted.finish()),
            Arc::new(prob.finish()),
            Arc::new(weight.finish()),
            Arc::new(cands.finish()),
        ];
        for mut b in w {
            cols.push(Arc::new(b.finish()));
        }
        cols.push(Arc::new(expl.finish()));
        let meta = [
            (META_SOURCE.to_owned(), self.source.clone()),
            (META_REGISTRY_HASH.to_owned(), self.registry_hash.clone()),
            (META_MODEL_HASH.to_owned(), self.model_hash.clone()),
        ]
        .into_iter()
        .collect();
        let schema = Arc::new(links_schema().as_ref().clone().with_metadata(meta));
        Ok(RecordBatch::try_new(schema, cols)?)
    }
}
