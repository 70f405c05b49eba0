//! The point index: one household's records without a query.
//!
//! A linked view ([`crate::view`]) holds a snapshot's records keyed by
//! person, but reading it through DataFusion costs what a query costs
//! whatever it finds: planning fourteen queries, then decompressing and
//! decoding every Parquet page that holds one of the persons. For a batch
//! that is nothing; for a case system waiting on one applicant it is
//! nearly all of the wait.
//!
//! The point index is the columns a check reads of each view — and of
//! the hukou registry, keyed by id — stored once as an uncompressed Arrow
//! IPC file in the view's order (see [`hedui_store::Store::index_writer`]).
//! A reader maps the file into memory and keeps, per batch, its first and
//! last person: finding a person's rows is a binary search over batches,
//! then over the batch's sorted person column, and the rows are read in
//! place, with nothing decoded. Batches never straddle a point where the
//! person order breaks (the view's second run, or unsorted input), so
//! each maximal sorted stretch — a *segment* — is searched on its own.
//!
//! [`gather`](crate::gather()) reads the index instead of querying when a
//! check has few persons and every source it reads has one; the rows it
//! gets are the rows the query returns (the same join, the same window,
//! the same columns), so the facts are the same either way (a test holds
//! the two paths to that).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::buffer::Buffer;
use arrow::compute::interleave;
use arrow::datatypes::{Field, Schema, SchemaRef};
use hedui_store::{SnapshotMeta, Store};

use crate::cols::Cols;
use crate::error::{Error, Result};
use crate::view::{BY_PERSON, COUNTED, EXPLANATION, METHOD, PERSON, SCORE};

/// The key the hukou registry's index is stored under (it has no links:
/// it *is* the registry).
pub const HUKOU_INDEX_KEY: &str = "registry";

/// The hukou columns a check reads, the id first.
const HUKOU_COLUMNS: [&str; 9] = [
    "id_number",
    "record_id",
    "name_raw",
    "status",
    "status_date",
    "hukou_kind",
    "birth_date",
    "gender",
    "id_raw",
];

/// The columns of a source's index: the person and the link, what the
/// record carried, and the columns its facts need.
fn columns(source: &str) -> Vec<&'static str> {
    if source == "hukou" {
        return HUKOU_COLUMNS.to_vec();
    }
    let mut c = vec![
        PERSON,
        BY_PERSON,
        METHOD,
        COUNTED,
        SCORE,
        EXPLANATION,
        "record_id",
        "id_raw",
        "name_raw",
    ];
    c.extend_from_slice(crate::gather::columns_of(source).0);
    c
}

/// The key of a snapshot's index: the links' key, or
/// [`HUKOU_INDEX_KEY`] for the registry.
pub(crate) fn key_of<'a>(meta: &SnapshotMeta, key: &'a str) -> &'a str {
    if meta.source == "hukou" {
        HUKOU_INDEX_KEY
    } else {
        key
    }
}

/// Builds the point index of every snapshot of `snapshots` that has none
/// (each department snapshot from its linked view under `key`, which must
/// exist; the hukou registry from its rows); returns how many were built.
pub fn ensure_indexes(
    store: &Store,
    key: &str,
    snapshots: &BTreeMap<String, SnapshotMeta>,
) -> Result<usize> {
    crate::view::build_missing(
        snapshots,
        |meta| Ok(!store.has_index(&meta.id, key_of(meta, key))?),
        |meta| build_index(store, meta, key),
    )
}

/// Builds and stores the point index of one snapshot (see the module
/// docs): its view's (or the registry's) rows in their order, cut into
/// batches wherever the person order breaks; registry rows without an id
/// are left out (no member is read by them).
pub fn build_index(store: &Store, meta: &SnapshotMeta, key: &str) -> Result<()> {
    let cols = columns(&meta.source);
    let reader = if meta.source == "hukou" {
        store.rows_reader(&meta.id, Some(&cols))?
    } else {
        store
            .view_reader(&meta.id, key, Some(&cols))?
            .ok_or_else(|| {
                Error::Missing(format!(
                    "{} snapshot {} has no linked view under {key}: link it first",
                    meta.source, meta.id
                ))
            })?
    };
    let person = cols[0];
    let mut writer = None;
    for batch in reader {
        let batch = ordered(&batch?, &cols, &meta.source)?;
        let w = match &mut writer {
            Some(w) => w,
            None => {
                writer.insert(store.index_writer(&meta.id, key_of(meta, key), batch.schema())?)
            }
        };
        let ids = Cols::new(&batch, &meta.source).str(person)?.clone();
        let mut start = 0;
        while start < batch.num_rows() {
            if ids.is_null(start) {
                start += 1;
                continue;
            }
            let mut end = start + 1;
            while end < batch.num_rows()
                && ids.is_valid(end)
                && ids.value(end - 1) <= ids.value(end)
            {
                end += 1;
            }
            w.write(&batch.slice(start, end - start))?;
            start = end;
        }
    }
    let w = match writer {
        Some(w) => w,
        // No rows at all: an index of the columns' schema, empty.
        None => store.index_writer(
            &meta.id,
            key_of(meta, key),
            empty_schema(store, meta, &cols)?,
        )?,
    };
    w.finish()?;
    Ok(())
}

/// The index schema of a snapshot whose view (or registry) has no rows.
fn empty_schema(store: &Store, meta: &SnapshotMeta, cols: &[&str]) -> Result<SchemaRef> {
    let rows = store.rows_schema(&meta.id)?;
    let full = if meta.source == "hukou" {
        rows
    } else {
        crate::view::view_schema(&rows)?
    };
    let fields: Vec<Field> = cols
        .iter()
        .map(|c| {
            full.field_with_name(c).cloned().map_err(|_| Error::Column {
                source_name: meta.source.clone(),
                column: (*c).to_owned(),
            })
        })
        .collect::<Result<_>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// `batch` with its columns in the order of `cols` (a projected Parquet
/// read gives them in file order).
fn ordered(batch: &RecordBatch, cols: &[&str], source: &str) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(cols.len());
    let mut arrays = Vec::with_capacity(cols.len());
    for c in cols {
        let i = schema.index_of(c).map_err(|_| Error::Column {
            source_name: source.to_owned(),
            column: (*c).to_owned(),
        })?;
        fields.push(schema.field(i).clone());
        arrays.push(Arc::clone(batch.column(i)));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// One batch of an index, with its first and last person.
#[derive(Debug)]
struct Part {
    batch: RecordBatch,
    first: String,
    last: String,
}

/// A point index mapped into memory (see the module docs).
#[derive(Debug)]
pub struct PointIndex {
    schema: SchemaRef,
    /// Maximal stretches of batches in person order.
    segments: Vec<Vec<Part>>,
    rows: usize,
}

impl PointIndex {
    /// Maps the index at `path` and reads its batches' bounds. Every
    /// batch is validated as it is read (offsets, UTF-8), so a damaged
    /// file is an error here, not a wrong answer later.
    pub fn open(path: &Path) -> Result<PointIndex> {
        let bad = |what: String| Error::Missing(format!("point index {}: {what}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        // SAFETY: a point index is published whole by a rename and never
        // written again under its path (its name is its snapshot's content
        // id and the links' key); the store's sweep removes only files of
        // tmp/. So the mapped bytes do not change while they are mapped.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| bad(e.to_string()))?;
        let buffer = Buffer::from(bytes::Bytes::from_owner(map));
        let n = buffer.len();
        if n < 10 {
            return Err(bad("too short".into()));
        }
        let trailer: [u8; 10] = buffer[n - 10..]
            .try_into()
            .map_err(|_| bad("no trailer".into()))?;
        let footer_len = arrow::ipc::reader::read_footer_length(trailer)?;
        let footer = arrow::ipc::root_as_footer(&buffer[n - 10 - footer_len..n - 10])
            .map_err(|e| bad(format!("footer: {e}")))?;
        let schema = Arc::new(arrow::ipc::convert::fb_to_schema(
            footer.schema().ok_or_else(|| bad("no schema".into()))?,
        ));
        let decoder = arrow::ipc::reader::FileDecoder::new(Arc::clone(&schema), footer.version());
        let mut segments: Vec<Vec<Part>> = Vec::new();
        let mut rows = 0;
        for block in footer.recordBatches().into_iter().flatten() {
            let len = block.bodyLength() as usize + block.metaDataLength() as usize;
            let data = buffer.slice_with_length(block.offset() as usize, len);
            let Some(batch) = decoder.read_record_batch(block, &data)? else {
                continue;
            };
            if batch.num_rows() == 0 {
                continue;
            }
            let ids = Cols::new(&batch, "point index").str(schema.field(0).name())?;
            let (first, last) = (
                ids.value(0).to_owned(),
                ids.value(batch.num_rows() - 1).to_owned(),
            );
            rows += batch.num_rows();
            let part = Part { batch, first, last };
            match segments.last_mut() {
                Some(seg) if seg.last().is_some_and(|p| p.last <= part.first) => seg.push(part),
                _ => segments.push(vec![part]),
            }
        }
        Ok(PointIndex {
            schema,
            segments,
            rows,
        })
    }

    /// The index's columns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// How many rows it holds.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// Every row of `person`, as (batch, row) pairs into
    /// [`PointIndex::batches`], segment by segment in index order.
    fn find(&self, person: &str, out: &mut Vec<(usize, usize)>) -> Result<()> {
        let mut base = 0;
        for seg in &self.segments {
            let from = seg.partition_point(|p| p.last.as_str() < person);
            for (k, part) in seg.iter().enumerate().skip(from) {
                if part.first.as_str() > person {
                    break;
                }
                let ids = Cols::new(&part.batch, "point index").str(self.schema.field(0).name())?;
                let lo = search(ids, |v| v < person);
                let hi = search(ids, |v| v <= person);
                out.extend((lo..hi).map(|r| (base + k, r)));
            }
            base += seg.len();
        }
        Ok(())
    }

    /// Every batch, in index order (the numbering of [`PointIndex::find`]).
    fn batches(&self) -> impl Iterator<Item = &RecordBatch> {
        self.segments.iter().flatten().map(|p| &p.batch)
    }
}

/// The first row of the sorted `ids` for which `before` is false.
fn search(ids: &StringArray, before: impl Fn(&str) -> bool) -> usize {
    let (mut lo, mut hi) = (0, ids.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(ids.value(mid)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Indexes opened in this process, by path (a path's file never changes).
const OPEN_INDEXES: usize = 256;

/// The point index at `path`, opened once per process.
pub fn open_index(path: &Path) -> Result<Arc<PointIndex>> {
    static OPEN: Mutex<Option<HashMap<PathBuf, Arc<PointIndex>>>> = Mutex::new(None);
    if let Some(ix) = OPEN
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(path)
    {
        return Ok(Arc::clone(ix));
    }
    let ix = Arc::new(PointIndex::open(path)?);
    let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    let map = open.get_or_insert_with(HashMap::new);
    if map.len() >= OPEN_INDEXES {
        // Snapshots of long ago: opening one again costs a map and a read
        // of its batch headers.
        map.clear();
    }
    Ok(Arc::clone(map.entry(path.to_owned()).or_insert(ix)))
}

/// The point indexes of a check's snapshots, by source, if every one of
/// them has one.
pub(crate) fn indexes_of(
    store: &Store,
    key: &str,
    snapshots: &BTreeMap<String, SnapshotMeta>,
) -> Result<Option<BTreeMap<String, Arc<PointIndex>>>> {
    let mut out = BTreeMap::new();
    for (source, meta) in snapshots {
        let path = store.index_path(&meta.id, key_of(meta, key))?;
        if !path.is_file() {
            return Ok(None);
        }
        out.insert(source.clone(), open_index(&path)?);
    }
    Ok(Some(out))
}

/// The members table's columns (see `gather::members_batch`).
struct MemberRows<'a> {
    idx: &'a Int64Array,
    person: &'a StringArray,
    in_registry: &'a BooleanArray,
    from: &'a Date32Array,
    end: &'a Date32Array,
}

impl<'a> MemberRows<'a> {
    fn of(members: &'a RecordBatch) -> Result<Self> {
        let c = Cols::new(members, "members");
        Ok(MemberRows {
            idx: c.i64("member_idx")?,
            person: c.str("person_id")?,
            in_registry: c.bool("in_registry")?,
            from: c.date("window_from")?,
            end: c.date("window_end")?,
        })
    }
}

/// Columns `names` of `ix` at `at`, one array each.
fn pick(ix: &PointIndex, names: &[&str], at: &[(usize, usize)]) -> Result<Vec<ArrayRef>> {
    let batches: Vec<&RecordBatch> = ix.batches().collect();
    names
        .iter()
        .map(|name| {
            let i = ix.schema.index_of(name).map_err(|_| Error::Column {
                source_name: "point index".into(),
                column: (*name).to_owned(),
            })?;
            let cols: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
            Ok(interleave(&cols, at)?)
        })
        .collect()
}

/// The hukou rows of `members`, as `gather`'s registry query gives them:
/// `member_idx` and the registry's columns, for every registration whose
/// id is a member's person.
pub(crate) fn hukou_rows(ix: &PointIndex, members: &RecordBatch) -> Result<RecordBatch> {
    let m = MemberRows::of(members)?;
    let (mut idx, mut at) = (Vec::new(), Vec::new());
    let mut found = Vec::new();
    for i in 0..members.num_rows() {
        found.clear();
        ix.find(m.person.value(i), &mut found)?;
        idx.extend(std::iter::repeat_n(m.idx.value(i), found.len()));
        at.extend_from_slice(&found);
    }
    let names = &HUKOU_COLUMNS[1..];
    let mut fields = vec![Field::new(
        "member_idx",
        arrow::datatypes::DataType::Int64,
        false,
    )];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(idx))];
    for (name, a) in names.iter().zip(pick(ix, names, &at)?) {
        fields.push(Field::new(*name, a.data_type().clone(), true));
        arrays.push(a);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// The rows of one department source for `members`, as `gather`'s query
/// over its linked view gives them (see `gather::source_query`): a
/// registered member by the records linked to their person, a member the
/// registry does not know by the unlinked records carrying their id
/// (method `declared`), a monthly source within each member's window.
pub(crate) fn source_rows(
    ix: &PointIndex,
    source: &str,
    members: &RecordBatch,
    with_links: bool,
) -> Result<RecordBatch> {
    let m = MemberRows::of(members)?;
    let (extra, monthly) = crate::gather::columns_of(source);
    let batches: Vec<&RecordBatch> = ix.batches().collect();
    let col = |name: &str| -> Result<usize> {
        ix.schema.index_of(name).map_err(|_| Error::Column {
            source_name: format!("point index of {source}"),
            column: name.to_owned(),
        })
    };
    let bad = |column: &str| Error::Column {
        source_name: format!("point index of {source}"),
        column: column.to_owned(),
    };
    let by_person: Vec<&BooleanArray> = batches
        .iter()
        .map(|b| {
            b.column(col(BY_PERSON)?)
                .as_any()
                .downcast_ref()
                .ok_or_else(|| bad(BY_PERSON))
        })
        .collect::<Result<_>>()?;
    let period: Option<Vec<&Date32Array>> = if monthly {
        let p = col("period")?;
        Some(
            batches
                .iter()
                .map(|b| {
                    b.column(p)
                        .as_any()
                        .downcast_ref()
                        .ok_or_else(|| bad("period"))
                })
                .collect::<Result<_>>()?,
        )
    } else {
        None
    };
    // (member row, (batch, row)) of every row the join keeps.
    let mut kept: Vec<(usize, (usize, usize))> = Vec::new();
    let mut found = Vec::new();
    for i in 0..members.num_rows() {
        found.clear();
        ix.find(m.person.value(i), &mut found)?;
        let reg = m.in_registry.value(i);
        let (from, end) = (m.from.value(i), m.end.value(i));
        for &(b, r) in &found {
            if by_person[b].value(r) != reg {
                continue;
            }
            if let Some(p) = &period {
                let d = p[b];
                if d.is_null(r) || d.value(r) < from || d.value(r) >= end {
                    continue;
                }
            }
            kept.push((i, (b, r)));
        }
    }
    let at: Vec<(usize, usize)> = kept.iter().map(|(_, p)| *p).collect();
    let reg: Vec<bool> = kept.iter().map(|(i, _)| m.in_registry.value(*i)).collect();
    let link = pick(ix, &[METHOD, COUNTED, SCORE, EXPLANATION], &at)?;
    let (method, counted, score, expl) = (
        link[0].as_any().downcast_ref::<StringArray>(),
        link[1].as_any().downcast_ref::<BooleanArray>(),
        link[2].as_any().downcast_ref::<Float64Array>(),
        link[3].as_any().downcast_ref::<StringArray>(),
    );
    let (Some(method), Some(counted), Some(score), Some(expl)) = (method, counted, score, expl)
    else {
        return Err(bad(METHOD));
    };
    use arrow::datatypes::DataType as T;
    let mut fields = vec![
        Field::new("member_idx", T::Int64, false),
        Field::new("method", T::Utf8, true),
        Field::new("counted", T::Boolean, true),
        Field::new("score", T::Float64, true),
        Field::new("explanation", T::Utf8, true),
    ];
    let n = kept.len();
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            kept.iter().map(|(i, _)| m.idx.value(*i)),
        )),
        Arc::new(StringArray::from_iter((0..n).map(|k| {
            Some(if reg[k] { method.value(k) } else { "declared" })
        }))),
        Arc::new(BooleanArray::from_iter((0..n).map(|k| {
            if reg[k] {
                counted.is_valid(k).then(|| counted.value(k))
            } else {
                Some(true)
            }
        }))),
        Arc::new(Float64Array::from_iter((0..n).map(|k| {
            if reg[k] {
                score.is_valid(k).then(|| score.value(k))
            } else {
                Some(1.0)
            }
        }))),
        Arc::new(StringArray::from_iter((0..n).map(|k| {
            if !with_links {
                None
            } else if reg[k] {
                expl.is_valid(k).then(|| expl.value(k))
            } else {
                Some("{}")
            }
        }))),
    ];
    let carried = ["record_id", "id_raw", "name_raw"];
    let mut names: Vec<&str> = carried.to_vec();
    names.extend_from_slice(extra);
    for (name, a) in names.iter().zip(pick(ix, &names, &at)?) {
        let a = if !with_links && (*name == "id_raw" || *name == "name_raw") {
            arrow::array::new_null_array(&T::Utf8, n)
        } else {
            a
        };
        fields.push(Field::new(*name, a.data_type().clone(), true));
        arrays.push(a);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
