//! Helpers: canonical batches built through `hedui-sources`, valid ids,
//! and a loader of the synthetic city.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use hedui_matching::{Records, Registry, RegistryBuilder, Truth};

/// Canonical rows of `table` from contract-form Utf8 columns.
pub(crate) fn canonical(table: &str, cols: &[(&str, Vec<Option<String>>)]) -> Vec<RecordBatch> {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays = cols
        .iter()
        .map(|(_, v)| Arc::new(StringArray::from(v.clone())) as _)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let spec = hedui_sources::table(table).unwrap();
    let out = hedui_sources::normalise(spec, table, &schema, &[batch]).unwrap();
    assert_eq!(
        out.quarantined, 0,
        "fixture rows quarantined: {:?}",
        out.reasons
    );
    out.rows
}

/// A valid id from 17 body digits.
pub(crate) fn id(body: &str) -> String {
    let c = hedui_model::id::check_char(body.as_bytes()).expect("17 digits");
    format!("{body}{}", c as char)
}

/// One person of a hukou fixture.
#[derive(Clone, Debug)]
pub(crate) struct P {
    pub(crate) id: String,
    pub(crate) name: &'static str,
}

pub(crate) fn p(body: &str, name: &'static str) -> P {
    P { id: id(body), name }
}

/// Canonical hukou batches of persons.
pub(crate) fn hukou(persons: &[P]) -> Vec<RecordBatch> {
    let n = persons.len();
    canonical(
        "hukou",
        &[
            (
                "record_id",
                (0..n).map(|i| Some(format!("H{i:05}"))).collect(),
            ),
            (
                "id_number",
                persons.iter().map(|p| Some(p.id.clone())).collect(),
            ),
            (
                "name",
                persons.iter().map(|p| Some(p.name.to_owned())).collect(),
            ),
            (
                "region_code",
                persons.iter().map(|p| Some(p.id[..6].to_owned())).collect(),
            ),
            ("status", vec![Some("active".to_owned()); n]),
        ],
    )
}

/// A department record: record_id, id as sent, name as sent.
pub(crate) type R<'a> = (&'a str, Option<&'a str>, &'a str);

/// Canonical `death` batches (the simplest department table).
pub(crate) fn death(rows: &[R<'_>]) -> Vec<RecordBatch> {
    canonical(
        "death",
        &[
            (
                "record_id",
                rows.iter().map(|r| Some(r.0.to_owned())).collect(),
            ),
            (
                "id_number",
                rows.iter().map(|r| r.1.map(str::to_owned)).collect(),
            ),
            ("name", rows.iter().map(|r| Some(r.2.to_owned())).collect()),
            (
                "death_date",
                vec![Some("2026-01-05".to_owned()); rows.len()],
            ),
        ],
    )
}

/// Canonical `tax` batches: record_id, id, name, payer_code.
pub(crate) fn tax(rows: &[(&str, Option<&str>, &str, &str)]) -> Vec<RecordBatch> {
    canonical(
        "tax",
        &[
            (
                "record_id",
                rows.iter().map(|r| Some(r.0.to_owned())).collect(),
            ),
            (
                "id_number",
                rows.iter().map(|r| r.1.map(str::to_owned)).collect(),
            ),
            ("name", rows.iter().map(|r| Some(r.2.to_owned())).collect()),
            ("period", vec![Some("2026-01".to_owned()); rows.len()]),
            ("income_kind", vec![Some("wage".to_owned()); rows.len()]),
            ("gross", vec![Some("5000.00".to_owned()); rows.len()]),
            (
                "payer_code",
                rows.iter().map(|r| Some(r.3.to_owned())).collect(),
            ),
        ],
    )
}

/// A synthetic city loaded for matching.
pub(crate) struct City {
    pub(crate) registry: Registry,
    pub(crate) sources: Vec<Records>,
    pub(crate) truth: Truth,
    pub(crate) declared: usize,
}

/// Loads a generated city: the hukou registry plus the declared request
/// members hukou lacks, every department extract, the truth.
pub(crate) fn load_city(dir: &Path) -> City {
    let ex = dir.join("extracts");
    let load = |t: &str| {
        let spec = hedui_sources::table(t).unwrap();
        hedui_sources::load_file(spec, &ex.join(format!("{t}.parquet"))).unwrap()
    };
    let hukou = load("hukou");
    let mut b = RegistryBuilder::new();
    b.add_hukou(&hukou.rows).unwrap();
    let members = {
        let spec = hedui_sources::table("members").unwrap();
        hedui_sources::load_file(spec, &dir.join("requests/members.parquet")).unwrap()
    };
    let mut declared = 0;
    for batch in &members.rows {
        let ids = batch.column_by_name("id_number").unwrap();
        let ids = ids.as_any().downcast_ref::<StringArray>().unwrap();
        let names = batch.column_by_name("name_raw").unwrap();
        let names = names.as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..batch.num_rows() {
            if ids.is_valid(i)
                && let Ok(idn) = hedui_model::IdNumber::parse_valid(ids.value(i))
            {
                b.add_declared(idn, names.value(i));
                declared += 1;
            }
        }
    }
    let registry = b.build();
    let mut sources = Vec::new();
    for t in hedui_sources::tables::ALL
        .iter()
        .filter(|t| t.kind == hedui_sources::TableKind::Department)
    {
        let n = load(t.name);
        sources.push(Records::from_batches(t.name, &n.rows).unwrap());
    }
    let (_, truth_batches) = hedui_sources::read_file(&dir.join("truth/records.parquet")).unwrap();
    let mut truth = Truth::from_batches(&truth_batches).unwrap();
    let (_, persons) = hedui_sources::read_file(&dir.join("truth/persons.parquet")).unwrap();
    truth.add_twins(&persons).unwrap();
    City {
        registry,
        sources,
        truth,
        declared,
    }
}

use arrow::array::Array as _;
