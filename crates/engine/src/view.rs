//! The linked view of a department snapshot: the per-person index a check
//! reads.
//!
//! A snapshot's rows are stored in canonical order (by the id the record
//! carried, then record id) and its links, one per record, beside it. A
//! check wants the other way round: for each person, the records placed
//! on them. Joining the two at check time means a hash table of every
//! link of the batch's persons probed by every record of the source (at a
//! million persons, 9M links against 30M social-insurance records). The
//! view does that join once, when the snapshot is linked, and keeps its
//! result keyed by person:
//!
//! - one row per record and person it is read for, with every column of
//!   the record and the link's method, counted flag and score;
//! - [`PERSON`] is the person the link places the record on
//!   ([`BY_PERSON`] true) — or, for a record the matcher left `unlinked`,
//!   the valid id it carried ([`BY_PERSON`] false: the records a declared
//!   member whom the registry does not know is read by);
//! - [`EXPLANATION`] is the matcher's explanation for links other than by
//!   id (`exact`, `upgraded`: their evidence is the id and name the record
//!   carried, and the full waterfall stays in the links file);
//! - rows come in two runs, each sorted by (person, record id): the rows
//!   whose person is the id the record carried (nearly all, already in
//!   that order in the snapshot), then the rest. Small row groups and
//!   pages with statistics let a reader of a few persons skip the others.
//!
//! The view is derived: from the same rows and links it is the same bytes,
//! and nothing in a report depends on it beyond what the join gave.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{SortColumn, concat_batches, interleave, lexsort_to_indices, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use hedui_store::{LinksWriter, SnapshotMeta, Store, VIEW_ROW_GROUP_ROWS};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// The person a row is read for.
pub const PERSON: &str = "link_person";
/// Whether [`PERSON`] is the linked person (true) or the id an unlinked
/// record carried (false).
pub const BY_PERSON: &str = "link_by_person";
/// The link's method.
pub const METHOD: &str = "link_method";
/// Whether the link counts.
pub const COUNTED: &str = "link_counted";
/// The link's match probability.
pub const SCORE: &str = "link_score";
/// The matcher's explanation, for links other than by id.
pub const EXPLANATION: &str = "link_explanation";

/// The links' columns the view reads.
const LINK_COLUMNS: [&str; 6] = [
    "record_id",
    "person_id",
    "method",
    "counted",
    "match_probability",
    "explanation",
];

/// Builds the view of every department snapshot of `snapshots` that has
/// links under `key` and no view yet; returns how many were built.
pub fn ensure_views(
    store: &Store,
    key: &str,
    snapshots: &BTreeMap<String, SnapshotMeta>,
) -> Result<usize> {
    build_missing(
        snapshots,
        |meta| Ok(meta.source != "hukou" && !store.has_view(&meta.id, key)?),
        |meta| build_view(store, meta, key),
    )
}

/// Builds what `build` makes for every snapshot `wanted` says lacks it;
/// returns how many were built. One snapshot per core: each is read and
/// written on one thread, the largest (social insurance) first, since it
/// takes the longest.
pub(crate) fn build_missing(
    snapshots: &BTreeMap<String, SnapshotMeta>,
    wanted: impl Fn(&SnapshotMeta) -> Result<bool>,
    build: impl Fn(&SnapshotMeta) -> Result<()> + Sync,
) -> Result<usize> {
    let mut todo = Vec::new();
    for meta in snapshots.values() {
        if wanted(meta)? {
            todo.push(meta);
        }
    }
    todo.sort_by_key(|m| std::cmp::Reverse(m.rows));
    todo.par_iter()
        .map(|meta| build(meta))
        .collect::<Result<Vec<()>>>()?;
    Ok(todo.len())
}

fn missing(meta: &SnapshotMeta, key: &str, what: String) -> Error {
    Error::Missing(format!(
        "the links of {} snapshot {} under {key}: {what}",
        meta.source, meta.id
    ))
}

fn string_column(b: &RecordBatch, name: &str, meta: &SnapshotMeta) -> Result<StringArray> {
    Ok(crate::cols::Cols::new(b, &meta.source).str(name)?.clone())
}

/// Indices of `ids` in ascending order (ties in index order).
fn order_by(ids: &[&str]) -> Vec<u32> {
    let mut o: Vec<u32> = (0..ids.len() as u32).collect();
    if !ids.is_sorted() {
        o.par_sort_by(|a, b| ids[*a as usize].cmp(ids[*b as usize]));
    }
    o
}

/// Every value of `batches`, in order (record ids are never null).
fn flat(batches: &[StringArray]) -> Vec<&str> {
    batches
        .iter()
        .flat_map(|a| (0..a.len()).map(move |i| a.value(i)))
        .collect()
}

/// (batch, row) of every row of `batches`, in order.
fn positions(batches: &[StringArray]) -> Vec<(u32, u32)> {
    batches
        .iter()
        .enumerate()
        .flat_map(|(b, a)| (0..a.len() as u32).map(move |r| (b as u32, r)))
        .collect()
}

/// For each row of the snapshot in canonical order, where its link is
/// among the link batches: rows and links paired by record id.
fn pair_rows_with_links(
    store: &Store,
    meta: &SnapshotMeta,
    key: &str,
    links: &[RecordBatch],
) -> Result<Vec<(u32, u32)>> {
    let row_ids: Vec<StringArray> = store
        .rows_reader(&meta.id, Some(&["record_id"]))?
        .map(|b| string_column(&b?, "record_id", meta))
        .collect::<Result<_>>()?;
    let link_ids: Vec<StringArray> = links
        .iter()
        .map(|b| string_column(b, "record_id", meta))
        .collect::<Result<_>>()?;
    let (rows, lks) = (flat(&row_ids), flat(&link_ids));
    if rows.len() != lks.len() {
        return Err(missing(
            meta,
            key,
            format!("{} links for {} records", lks.len(), rows.len()),
        ));
    }
    let link_pos = positions(&link_ids);
    let (ro, lo) = (order_by(&rows), order_by(&lks));
    let mut row_link = vec![(0u32, 0u32); rows.len()];
    for (r, l) in ro.iter().zip(&lo) {
        let (r, l) = (*r as usize, *l as usize);
        if rows[r] != lks[l] {
            return Err(missing(
                meta,
                key,
                format!("record {:?} has no link", rows[r].min(lks[l])),
            ));
        }
        row_link[r] = link_pos[l];
    }
    Ok(row_link)
}

/// The view's schema: the link's columns, then the snapshot's.
pub(crate) fn view_schema(rows: &Schema) -> Result<SchemaRef> {
    let mut fields = vec![
        Field::new(PERSON, DataType::Utf8, false),
        Field::new(BY_PERSON, DataType::Boolean, false),
        Field::new(METHOD, DataType::Utf8, false),
        Field::new(COUNTED, DataType::Boolean, false),
        Field::new(SCORE, DataType::Float64, true),
        Field::new(EXPLANATION, DataType::Utf8, true),
    ];
    for f in rows.fields() {
        if f.name().starts_with("link_") {
            return Err(Error::Missing(format!(
                "snapshot column {:?} collides with the linked view's own columns",
                f.name()
            )));
        }
        fields.push(f.as_ref().clone());
    }
    Ok(Arc::new(Schema::new(fields)))
}

fn by_id(method: &str) -> bool {
    method == "exact" || method == "upgraded"
}

/// A links batch whose explanations of links by id are null.
fn compact_explanations(b: &RecordBatch, meta: &SnapshotMeta) -> Result<RecordBatch> {
    let (method, expl) = (
        string_column(b, "method", meta)?,
        string_column(b, "explanation", meta)?,
    );
    let kept: StringArray = (0..b.num_rows())
        .map(|i| (!by_id(method.value(i)) && expl.is_valid(i)).then(|| expl.value(i)))
        .collect();
    let at = b.schema().index_of("explanation")?;
    let mut cols = b.columns().to_vec();
    cols[at] = Arc::new(kept);
    let fields: Vec<Field> = b
        .schema()
        .fields()
        .iter()
        .map(|f| {
            if f.name() == "explanation" {
                f.as_ref().clone().with_nullable(true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

/// The link columns of one batch of rows, aligned with it.
struct Aligned {
    person: StringArray,
    method: StringArray,
    counted: BooleanArray,
    score: ArrayRef,
    explanation: StringArray,
}

fn align(links: &[RecordBatch], at: &[(u32, u32)], meta: &SnapshotMeta) -> Result<Aligned> {
    let idx: Vec<(usize, usize)> = at.iter().map(|(b, r)| (*b as usize, *r as usize)).collect();
    let bad = |name: &str| Error::Column {
        source_name: format!("links of {}", meta.source),
        column: name.to_owned(),
    };
    let pick = |name: &str| -> Result<ArrayRef> {
        let cols: Vec<&dyn Array> = links
            .iter()
            .map(|b| {
                b.column_by_name(name)
                    .map(|c| c.as_ref())
                    .ok_or_else(|| bad(name))
            })
            .collect::<Result<_>>()?;
        Ok(interleave(&cols, &idx)?)
    };
    let string = |name: &str| -> Result<StringArray> {
        pick(name)?
            .as_string_opt::<i32>()
            .cloned()
            .ok_or_else(|| bad(name))
    };
    let counted = pick("counted")?
        .as_boolean_opt()
        .cloned()
        .ok_or_else(|| bad("counted"))?;
    Ok(Aligned {
        person: string("person_id")?,
        method: string("method")?,
        counted,
        score: pick("match_probability")?,
        explanation: string("explanation")?,
    })
}

/// One row of the view: the snapshot row it is of, the person it is read
/// for and whether that is the linked person.
struct Emit<'a> {
    row: u32,
    person: &'a str,
    by_person: bool,
}

fn view_batch(
    schema: &SchemaRef,
    rows: &RecordBatch,
    a: &Aligned,
    emits: &[Emit<'_>],
) -> Result<RecordBatch> {
    let idx = UInt32Array::from_iter_values(emits.iter().map(|e| e.row));
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            emits.iter().map(|e| e.person),
        )),
        Arc::new(BooleanArray::from_iter(
            emits.iter().map(|e| Some(e.by_person)),
        )),
        take(&a.method, &idx, None)?,
        take(&a.counted, &idx, None)?,
        take(&a.score, &idx, None)?,
        take(&a.explanation, &idx, None)?,
    ];
    for c in rows.columns() {
        cols.push(take(c, &idx, None)?);
    }
    Ok(RecordBatch::try_new(schema.clone(), cols)?)
}

/// Builds and stores the view of one department snapshot from its rows
/// and its links under `key` (see the module docs).
pub fn build_view(store: &Store, meta: &SnapshotMeta, key: &str) -> Result<()> {
    // Explanations kept only for links other than by id, as each batch
    // is read: the rest are most of a large source's links' bytes.
    let links: Vec<RecordBatch> = store
        .links_reader(&meta.id, key, Some(&LINK_COLUMNS))?
        .ok_or_else(|| missing(meta, key, "not stored".into()))?
        .map(|b| compact_explanations(&b?, meta))
        .collect::<Result<_>>()?;
    let row_link = pair_rows_with_links(store, meta, key, &links)?;
    let schema = view_schema(store.rows_schema(&meta.id)?.as_ref())?;
    let mut writer: LinksWriter<'_> = store.view_writer(&meta.id, key, schema.clone())?;
    let mut rest: Vec<RecordBatch> = Vec::new();
    let mut offset = 0usize;
    for batch in store.rows_reader(&meta.id, None)? {
        let rows = batch?;
        let n = rows.num_rows();
        let a = align(&links, &row_link[offset..offset + n], meta)?;
        offset += n;
        let carried = string_column(&rows, "id_number", meta)?;
        let (mut first, mut second) = (Vec::with_capacity(n), Vec::new());
        for i in 0..n {
            let own = carried.is_valid(i).then(|| carried.value(i));
            if a.person.is_valid(i) {
                let person = a.person.value(i);
                let e = Emit {
                    row: i as u32,
                    person,
                    by_person: true,
                };
                if own == Some(person) {
                    first.push(e);
                } else {
                    second.push(e);
                }
            }
            if let (Some(own), "unlinked") = (own, a.method.value(i)) {
                first.push(Emit {
                    row: i as u32,
                    person: own,
                    by_person: false,
                });
            }
        }
        writer.write(&view_batch(&schema, &rows, &a, &first)?)?;
        if !second.is_empty() {
            rest.push(view_batch(&schema, &rows, &a, &second)?);
        }
    }
    // The second run: the records placed on someone other than the id
    // they carried, sorted by person and record id.
    let rest = concat_batches(&schema, &rest)?;
    if rest.num_rows() > 0 {
        let sort = [PERSON, "record_id"]
            .iter()
            .map(|c| {
                Ok(SortColumn {
                    values: rest
                        .column_by_name(c)
                        .cloned()
                        .ok_or_else(|| Error::Column {
                            source_name: meta.source.clone(),
                            column: (*c).to_owned(),
                        })?,
                    options: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let order = lexsort_to_indices(&sort, None)?;
        let cols = rest
            .columns()
            .iter()
            .map(|c| take(c, &order, None))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let sorted = RecordBatch::try_new(schema.clone(), cols)?;
        let mut at = 0;
        while at < sorted.num_rows() {
            let len = VIEW_ROW_GROUP_ROWS.min(sorted.num_rows() - at);
            writer.write(&sorted.slice(at, len))?;
            at += len;
        }
    }
    writer.finish()?;
    Ok(())
}
