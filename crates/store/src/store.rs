//! [`Store`]: the data directory, its snapshots and its catalog.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::ChunkReader;
use parquet::schema::types::ColumnPath;

use crate::audit::{AuditEntry, AuditEvent, append_entries, audit_now};
use crate::canonical::{
    self, Header, ID_NUMBER, RECORD_ID, RowOrder, Table, TableDigest, TableHasher,
};
use crate::catalog::{
    Catalog, HeldFiles, IN_CATALOG_PREFIX, NewSnapshot, SnapshotMeta, SnapshotRow, insert_snapshots,
};
use crate::error::{Error, Result};
use crate::fsutil::{self, DirLock, HashingWriter};
use crate::id::SnapshotId;
use crate::input::SnapshotInput;
use crate::manifest::{ColumnInfo, ContentHash, FileInfo, MANIFEST_FORMAT, Manifest};

/// Data directory used when none is configured.
pub const DEFAULT_DATA_DIR: &str = "hedui-data";
/// The catalog database, in the data directory.
pub const CATALOG_FILE: &str = "catalog.sqlite";
/// The accepted rows of a snapshot, in its directory.
pub const ROWS_FILE: &str = "rows.parquet";
/// The quarantined rows of a snapshot, in its directory.
pub const QUARANTINE_FILE: &str = "quarantine.parquet";
/// The manifest of a snapshot, in its directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Directory of committed snapshots, in the data directory.
pub const SNAPSHOTS_DIR: &str = "snapshots";
/// Directory of commits in progress, in the data directory.
pub const TMP_DIR: &str = "tmp";
/// The data-directory lock file.
const LOCK_FILE: &str = "lock";
/// Held exclusively while a process opens the catalog: SQLite answers a
/// second connection's `PRAGMA journal_mode = WAL` on a brand-new file with
/// `SQLITE_BUSY` without waiting, so two processes opening a new data dir
/// at once must take turns (the open is milliseconds; commits never wait
/// on this lock).
const OPEN_LOCK_FILE: &str = "open.lock";

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Rows gathered, hashed and written at a time.
const CHUNK_ROWS: usize = 64 * 1024;
/// Rows per batch returned by the readers.
const READ_BATCH_ROWS: usize = 64 * 1024;
/// zstd level of every Parquet file but the small ones (see
/// [`SMALL_TABLE_ROWS`]).
const ZSTD_LEVEL: i32 = 1;

/// Below this many rows a table is written uncompressed, in one chunk on
/// the calling thread (see [`writer_properties`] and [`write_table`]).
const SMALL_TABLE_ROWS: usize = 1024;
/// Most rows, accepted and quarantined together, of a snapshot held in the
/// catalog (see [`Store::commit_in_catalog`]).
pub const IN_CATALOG_MAX_ROWS: usize = SMALL_TABLE_ROWS;
/// Target false-positive rate of the bloom filters.
const BLOOM_FPP: f64 = 0.01;

/// The result of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The snapshot, as the catalog now holds it.
    pub meta: SnapshotMeta,
    /// `true` when a snapshot with the same content was already committed:
    /// nothing was added and `meta` is the existing one.
    pub already_present: bool,
}

/// What [`Store::sweep`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// `true` when a commit was in progress (in this or another process), so
    /// nothing was swept.
    pub skipped: bool,
    /// Leftover directories of interrupted commits removed from `tmp/`.
    pub tmp_removed: usize,
    /// Snapshot directories without a catalog row removed.
    pub orphans_removed: usize,
}

/// A point in [`Store::commit`] at which a test can make it fail.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailPoint {
    /// After the first chunk of `rows.parquet` is written, before its footer.
    DuringRows,
    /// After `rows.parquet` is complete and fsynced.
    AfterRows,
    /// After `quarantine.parquet` is complete and fsynced.
    AfterQuarantine,
    /// After `manifest.json` is written and the directory fsynced.
    AfterManifest,
    /// After the rename into `snapshots/<source>/<id>`, before the fsync of
    /// its parent.
    AfterRename,
    /// After the parent is fsynced, before the catalog transaction begins.
    BeforeCatalog,
    /// Inside the catalog transaction, after the insert, before `COMMIT`.
    InCatalogTransaction,
    /// After the catalog transaction commits (the snapshot is committed).
    AfterCatalog,
}

impl FailPoint {
    /// Every fail point, in the order a commit passes them.
    pub const ALL: [FailPoint; 8] = [
        FailPoint::DuringRows,
        FailPoint::AfterRows,
        FailPoint::AfterQuarantine,
        FailPoint::AfterManifest,
        FailPoint::AfterRename,
        FailPoint::BeforeCatalog,
        FailPoint::InCatalogTransaction,
        FailPoint::AfterCatalog,
    ];
}

/// How an injected failure behaves.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailMode {
    /// Return an error through the normal error path (temporary files are
    /// cleaned up as for any error).
    Error,
    /// Stop dead, as a killed process would: no clean-up at all; only
    /// [`Store::sweep`] (run by [`Store::open`]) removes what is left.
    Crash,
}

/// A data directory of immutable, content-addressed snapshots and their
/// catalog.
///
/// `Store` is `Send + Sync`: share one per process (`Arc<Store>`); any
/// number of processes may open the same directory.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    pub(crate) catalog: Catalog,
    pub(crate) lock: DirLock,
    /// The audit key, once read (it never changes once created).
    pub(crate) audit_key: std::sync::OnceLock<[u8; 32]>,
    /// The newest audit entry this process wrote into `audit.head`.
    pub(crate) audit_head: std::sync::Mutex<i64>,
}

/// Small snapshots encoded for the catalog, not yet committed: what
/// [`Store::encode_in_catalog`] gives and [`Store::commit_held`] commits.
#[derive(Debug)]
pub struct HeldSnapshots {
    snapshots: Vec<HeldSnapshot>,
}

#[derive(Debug)]
struct HeldSnapshot {
    input: SnapshotInput,
    id: SnapshotId,
    rel_path: String,
    rows: u64,
    quarantined: u64,
    files: HeldFiles,
}

impl HeldSnapshots {
    /// The snapshots' ids, in the order of the inputs.
    pub fn ids(&self) -> impl Iterator<Item = &SnapshotId> {
        self.snapshots.iter().map(|h| &h.id)
    }
}

/// A commit's directory in `tmp/`, removed on drop unless disarmed.
struct TmpDir {
    path: PathBuf,
    armed: bool,
}

impl TmpDir {
    fn create(tmp_root: &Path) -> Result<TmpDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = tmp_root.join(format!("{}-{nanos}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TmpDir { path, armed: true }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }

    /// Leaves the directory where it is (a crash, or it was renamed).
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Batches of a stored Parquet file, read one at a time.
pub type BatchReader = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// Reads `path` one batch at a time, with only the named columns (those
/// the file has, in its column order; `None` for all).
pub(crate) fn batch_reader(path: PathBuf, columns: Option<&[&str]>) -> Result<BatchReader> {
    let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
    batch_reader_of(file, path, columns)
}

/// [`batch_reader`] of Parquet held anywhere (`path` names it in errors).
fn batch_reader_of<R: ChunkReader + 'static>(
    input: R,
    path: PathBuf,
    columns: Option<&[&str]>,
) -> Result<BatchReader> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(input)
        .map_err(|e| Error::parquet(&path, e))?
        .with_batch_size(READ_BATCH_ROWS);
    let builder = match columns {
        None => builder,
        Some(names) => {
            let schema = builder.parquet_schema();
            let leaves: Vec<usize> = (0..schema.num_columns())
                .filter(|i| names.contains(&schema.column(*i).name()))
                .collect();
            let mask = parquet::arrow::ProjectionMask::leaves(schema, leaves);
            builder.with_projection(mask)
        }
    };
    let reader = builder.build().map_err(|e| Error::parquet(&path, e))?;
    Ok(Box::new(reader.map(move |b| {
        b.map_err(|e| Error::parquet(&path, e.into()))
    })))
}

/// The Parquet settings of every snapshot file: zstd, page statistics,
/// 128 Ki-row row groups, bloom filters on the key columns, the sort order
/// recorded.
fn writer_properties(schema: &SchemaRef, rows: usize, sorted: bool) -> WriterProperties {
    // A table of a few rows (a case system's household, an empty
    // quarantine) is written uncompressed: a zstd codec per column costs
    // more to set up than it saves on a few hundred bytes. The snapshot id
    // is a digest of the rows, not of the file, so it is the same either
    // way.
    let compression = if rows < SMALL_TABLE_ROWS {
        Compression::UNCOMPRESSED
    } else {
        Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL).expect("valid zstd level"))
    };
    let mut props = WriterProperties::builder()
        .set_compression(compression)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("hedui-store {}", env!("CARGO_PKG_VERSION")));
    let ndv = rows.clamp(1, ROW_GROUP_ROWS) as u64;
    for key in [ID_NUMBER, RECORD_ID] {
        if schema.column_with_name(key).is_some() {
            let col = ColumnPath::from(key);
            props = props
                .set_column_bloom_filter_enabled(col.clone(), true)
                .set_column_bloom_filter_fpp(col.clone(), BLOOM_FPP)
                .set_column_bloom_filter_max_ndv(col, ndv);
        }
    }
    if schema.column_with_name(RECORD_ID).is_some() {
        // Unique by construction: a dictionary would only be built to be
        // abandoned.
        props = props.set_column_dictionary_enabled(ColumnPath::from(RECORD_ID), false);
    }
    if sorted {
        let sorting: Option<Vec<SortingColumn>> = [ID_NUMBER, RECORD_ID]
            .iter()
            .map(|k| {
                schema.index_of(k).ok().map(|i| SortingColumn {
                    column_idx: i as i32,
                    descending: false,
                    nulls_first: false,
                })
            })
            .collect();
        props = props.set_sorting_columns(sorting);
    }
    props.build()
}

/// Writes one table to `path`, chunk by chunk, hashing as it goes.
/// `chunk(range)` gives rows `range` of the canonical order, normalised.
///
/// Two stages on two cores: a producer thread gathers and hashes chunk
/// `k + 1` while this thread encodes chunk `k` into Parquet; a channel of
/// one chunk between them bounds the memory to two chunks.
fn write_table(
    path: &Path,
    schema: &SchemaRef,
    props: WriterProperties,
    rows: usize,
    chunk: impl Fn(std::ops::Range<usize>) -> Result<RecordBatch> + Send,
    fail_during: Option<FailPoint>,
) -> Result<(TableDigest, FileInfo)> {
    let file = File::create_new(path).map_err(|e| Error::io(path, e))?;
    let (digest, info, file) = encode_table(file, path, schema, props, rows, chunk, fail_during)?;
    file.sync_all().map_err(|e| Error::io(path, e))?;
    Ok((digest, info))
}

/// [`write_table`] into any sink (`path` names it in errors and gives the
/// file's name): the digest, the file's size and blake3, and the sink.
fn encode_table<W: io::Write + Send>(
    sink: W,
    path: &Path,
    schema: &SchemaRef,
    props: WriterProperties,
    rows: usize,
    chunk: impl Fn(std::ops::Range<usize>) -> Result<RecordBatch> + Send,
    fail_during: Option<FailPoint>,
) -> Result<(TableDigest, FileInfo, W)> {
    let mut writer =
        ArrowWriter::try_new(HashingWriter::new(sink), Arc::clone(schema), Some(props))
            .map_err(|e| Error::parquet(path, e))?;
    let (digest, consumed) = if rows < SMALL_TABLE_ROWS {
        // One chunk: hashed and encoded here, without a second thread.
        let mut hasher = TableHasher::new(Arc::clone(schema));
        let consumed = match rows {
            0 => Ok(()),
            _ => chunk(0..rows).and_then(|batch| {
                hasher.update(&batch);
                encode(&mut writer, &batch, path, fail_during)
            }),
        };
        (Some(hasher.finish()), consumed)
    } else {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<RecordBatch>>(1);
            let producer = scope.spawn(move || {
                let mut hasher = TableHasher::new(Arc::clone(schema));
                let mut start = 0;
                while start < rows {
                    let end = (start + CHUNK_ROWS).min(rows);
                    let batch = match chunk(start..end) {
                        Ok(b) => b,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return None;
                        }
                    };
                    hasher.update(&batch);
                    if tx.send(Ok(batch)).is_err() {
                        return None; // the writer stopped
                    }
                    start = end;
                }
                Some(hasher.finish())
            });
            let consumed = consume(rx, &mut writer, path, fail_during);
            (producer.join().expect("hashing thread panicked"), consumed)
        })
    };
    consumed?;
    let digest = digest.expect("the producer finishes when the writer does");
    let inner = writer.into_inner().map_err(|e| Error::parquet(path, e))?;
    let (sink, bytes, blake3) = inner.finish();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((
        digest,
        FileInfo {
            name,
            bytes,
            blake3,
        },
        sink,
    ))
}

/// The writing stage of [`write_table`]. Takes the receiver by value so
/// that returning early drops it and unblocks the producer.
fn consume<W: io::Write + Send>(
    rx: std::sync::mpsc::Receiver<Result<RecordBatch>>,
    writer: &mut ArrowWriter<W>,
    path: &Path,
    fail_during: Option<FailPoint>,
) -> Result<()> {
    for batch in rx {
        encode(writer, &batch?, path, fail_during)?;
    }
    Ok(())
}

/// Encodes one chunk (and fails after it, for the failure tests).
fn encode<W: io::Write + Send>(
    writer: &mut ArrowWriter<W>,
    batch: &RecordBatch,
    path: &Path,
    fail_during: Option<FailPoint>,
) -> Result<()> {
    writer.write(batch).map_err(|e| Error::parquet(path, e))?;
    match fail_during {
        Some(fp) => Err(Error::Injected(fp)),
        None => Ok(()),
    }
}

/// Reads a whole Parquet file.
fn read_table(path: &Path) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    read_table_of(file, path)
}

/// [`read_table`] of Parquet held anywhere (`path` names it in errors).
fn read_table_of<R: ChunkReader + 'static>(input: R, path: &Path) -> Result<Vec<RecordBatch>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(input)
        .map_err(|e| Error::parquet(path, e))?
        .with_batch_size(READ_BATCH_ROWS)
        .build()
        .map_err(|e| Error::parquet(path, e))?;
    reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::parquet(path, e.into()))
}

/// The normalised, validated, canonically ordered content of an input.
struct Prepared {
    rows_schema: SchemaRef,
    rows: Vec<RecordBatch>,
    order: RowOrder,
    quarantine_schema: SchemaRef,
    quarantine: RecordBatch,
}

impl Prepared {
    fn new(input: &mut SnapshotInput) -> Result<Prepared> {
        input.check_header()?;
        let source = input.source.as_str();
        let rows_schema = canonical::common_schema(&input.rows, source, Table::Rows)?;
        let rows = std::mem::take(&mut input.rows)
            .into_iter()
            .map(|b| canonical::normalise_batch(&b, &rows_schema, source, Table::Rows))
            .collect::<Result<Vec<_>>>()?;
        let order = RowOrder::new(&rows, &rows_schema, source)?;
        let quarantine_schema =
            canonical::common_schema(&input.quarantine, source, Table::Quarantine)?;
        if quarantine_schema.fields().is_empty()
            && input.quarantine.iter().any(|b| b.num_rows() > 0)
        {
            return Err(Error::invalid(
                source,
                "quarantined rows need at least one column (the reason)",
            ));
        }
        let quarantine = std::mem::take(&mut input.quarantine)
            .into_iter()
            .map(|b| canonical::normalise_batch(&b, &quarantine_schema, source, Table::Quarantine))
            .collect::<Result<Vec<_>>>()?;
        let quarantine = canonical::sort_quarantine(&quarantine, &quarantine_schema, source)?;
        Ok(Prepared {
            rows_schema,
            rows,
            order,
            quarantine_schema,
            quarantine,
        })
    }

    fn rows_chunk(&self, range: std::ops::Range<usize>, source: &str) -> Result<RecordBatch> {
        self.order
            .gather(&self.rows, range)
            .map_err(|e| Error::arrow(format!("ordering the rows of `{source}`"), e))
    }

    /// The digests, without writing anything.
    fn digests(&self, source: &str) -> Result<(TableDigest, TableDigest)> {
        let mut rows = TableHasher::new(Arc::clone(&self.rows_schema));
        let mut start = 0;
        while start < self.order.len() {
            let end = (start + CHUNK_ROWS).min(self.order.len());
            rows.update(&self.rows_chunk(start..end, source)?);
            start = end;
        }
        let mut quarantine = TableHasher::new(Arc::clone(&self.quarantine_schema));
        quarantine.update(&self.quarantine);
        Ok((rows.finish(), quarantine.finish()))
    }
}

fn header(input: &SnapshotInput) -> Header<'_> {
    Header {
        source: &input.source,
        as_of: input.as_of,
        department: &input.department,
        region_code: input.region_code.as_deref(),
        schema_version: input.schema_version,
    }
}

impl SnapshotInput {
    /// The id this input would get, computed without touching a store (the
    /// full validation, sort and hash of a commit, no Parquet).
    pub fn content_id(&self) -> Result<SnapshotId> {
        let mut copy = self.clone();
        let prepared = Prepared::new(&mut copy)?;
        let (rows, quarantine) = prepared.digests(&self.source)?;
        Ok(SnapshotId::from_digest(&canonical::snapshot_digest(
            &header(self),
            &rows,
            &quarantine,
        )))
    }
}

/// The id of a prepared input and the manifest that names its files.
fn manifest_of(
    input: &SnapshotInput,
    rows_digest: &TableDigest,
    quarantine_digest: &TableDigest,
    files: Vec<FileInfo>,
) -> (SnapshotId, Manifest) {
    let id = SnapshotId::from_digest(&canonical::snapshot_digest(
        &header(input),
        rows_digest,
        quarantine_digest,
    ));
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_owned(),
        snapshot_id: id.clone(),
        source: input.source.clone(),
        as_of: input.as_of,
        department: input.department.clone(),
        region_code: input.region_code.clone(),
        schema_version: input.schema_version,
        rows: rows_digest.rows,
        quarantined: quarantine_digest.rows,
        columns: ColumnInfo::from_digests(rows_digest),
        quarantine_columns: ColumnInfo::from_digests(quarantine_digest),
        source_files: input.source_files.clone(),
        content_hash: ContentHash::of(&id),
        files,
    };
    (id, manifest)
}

/// Where a committed snapshot's three files are: its directory, or the
/// catalog database (see [`Store::commit_in_catalog`]).
enum Stored {
    Dir(PathBuf),
    Catalog {
        id: String,
        /// `<catalog file>#<id>`: how errors name its files.
        base: PathBuf,
        files: Vec<(String, Bytes)>,
    },
}

impl Stored {
    /// The file `name`, as errors name it.
    fn path(&self, name: &str) -> PathBuf {
        match self {
            Stored::Dir(dir) => dir.join(name),
            Stored::Catalog { base, .. } => base.join(name),
        }
    }

    /// The bytes of `name`, held in the catalog.
    fn held(&self, name: &str) -> Result<Option<Bytes>> {
        match self {
            Stored::Dir(_) => Ok(None),
            Stored::Catalog { id, files, .. } => files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| Some(b.clone()))
                .ok_or_else(|| Error::Corrupt {
                    id: id.clone(),
                    path: self.path(name),
                    reason: format!("the catalog holds no `{name}` of it"),
                }),
        }
    }

    fn table(&self, name: &str) -> Result<Vec<RecordBatch>> {
        match self.held(name)? {
            None => read_table(&self.path(name)),
            Some(bytes) => read_table_of(bytes, &self.path(name)),
        }
    }

    fn reader(&self, name: &str, columns: Option<&[&str]>) -> Result<BatchReader> {
        match self.held(name)? {
            None => batch_reader(self.path(name), columns),
            Some(bytes) => batch_reader_of(bytes, self.path(name), columns),
        }
    }

    fn schema(&self, name: &str) -> Result<SchemaRef> {
        fn of<R: ChunkReader + 'static>(input: R, path: &Path) -> Result<SchemaRef> {
            let builder = ParquetRecordBatchReaderBuilder::try_new(input)
                .map_err(|e| Error::parquet(path, e))?;
            Ok(Arc::clone(builder.schema()))
        }
        let path = self.path(name);
        match self.held(name)? {
            None => of(File::open(&path).map_err(|e| Error::io(&path, e))?, &path),
            Some(bytes) => of(bytes, &path),
        }
    }

    fn manifest(&self) -> Result<Manifest> {
        match self.held(MANIFEST_FILE)? {
            None => Manifest::read(&self.path(MANIFEST_FILE)),
            Some(bytes) => Manifest::from_slice(&bytes, &self.path(MANIFEST_FILE)),
        }
    }

    /// Size and blake3 (hex) of the file `name`.
    fn hash(&self, name: &str) -> Result<(u64, String)> {
        match self.held(name)? {
            None => fsutil::hash_file(&self.path(name)),
            Some(bytes) => Ok((
                bytes.len() as u64,
                blake3::hash(&bytes).to_hex().to_string(),
            )),
        }
    }
}

fn is_already_there(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
    )
}

impl Store {
    /// Opens (creating if needed) the data directory `root`: its
    /// `snapshots/` and `tmp/`, and the catalog, migrated to the newest
    /// schema. Then sweeps what interrupted commits left (see
    /// [`Store::sweep`]).
    pub fn open(root: impl AsRef<Path>) -> Result<Store> {
        let root = root.as_ref();
        fsutil::ensure_dir(root)?;
        let root = root.canonicalize().map_err(|e| Error::io(root, e))?;
        fsutil::ensure_dir(&root.join(SNAPSHOTS_DIR))?;
        fsutil::ensure_dir(&root.join(TMP_DIR))?;
        let catalog = {
            let _turn = DirLock::new(root.join(OPEN_LOCK_FILE)).exclusive()?;
            Catalog::open(&root.join(CATALOG_FILE), &root)?
        };
        let store = Store {
            lock: DirLock::new(root.join(LOCK_FILE)),
            root,
            catalog,
            audit_key: std::sync::OnceLock::new(),
            audit_head: std::sync::Mutex::new(0),
        };
        store.sweep()?;
        Ok(store)
    }

    /// The data directory (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes what interrupted commits left: every directory in `tmp/`, and
    /// every directory in `snapshots/<source>/` that has no catalog row (a
    /// commit that crashed between its rename and its catalog insert).
    ///
    /// Runs only when no commit is in progress in any process (it takes the
    /// data-directory lock exclusively, without waiting); otherwise it does
    /// nothing and says so.
    pub fn sweep(&self) -> Result<SweepReport> {
        let Some(_guard) = self.lock.try_exclusive()? else {
            return Ok(SweepReport {
                skipped: true,
                ..SweepReport::default()
            });
        };
        let mut report = SweepReport::default();
        let tmp = self.root.join(TMP_DIR);
        for entry in read_dir(&tmp)? {
            remove_entry(&entry)?;
            report.tmp_removed += 1;
        }
        if report.tmp_removed > 0 {
            fsutil::sync_dir(&tmp)?;
        }
        let known = self.catalog.paths()?;
        let snapshots = self.root.join(SNAPSHOTS_DIR);
        for source_dir in read_dir(&snapshots)? {
            if !source_dir.is_dir() {
                continue;
            }
            let mut removed = 0;
            for dir in read_dir(&source_dir)? {
                let rel = dir
                    .strip_prefix(&self.root)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if dir.is_dir() && !known.contains(&rel) {
                    remove_entry(&dir)?;
                    removed += 1;
                }
            }
            if removed > 0 {
                fsutil::sync_dir(&source_dir)?;
                report.orphans_removed += removed;
            }
        }
        Ok(report)
    }

    /// Commits an extract as a snapshot, or finds the snapshot that already
    /// holds the same content.
    ///
    /// Validates and normalises the input, sorts it canonically, writes
    /// `rows.parquet`, `quarantine.parquet` and `manifest.json` into a
    /// directory of its own under `tmp/`, fsyncs them, renames the directory
    /// to `snapshots/<source>/<id>` and inserts the catalog row in one
    /// transaction. The snapshot is visible from that insert on; any failure
    /// before it leaves nothing visible.
    pub fn commit(&self, input: SnapshotInput) -> Result<Committed> {
        self.commit_inner(input, None)
    }

    /// Commits small snapshots — a case system's household, a few rows
    /// per table — inside the catalog database, all of them in one
    /// transaction (all or none): for each, the same `rows.parquet`,
    /// `quarantine.parquet` and `manifest.json` a snapshot directory would
    /// hold, as blobs written with its catalog row. The transaction is
    /// grouped with the catalog writes of concurrent callers (one fsync of
    /// the catalog's WAL for all of them), where a snapshot directory
    /// costs seven fsyncs over three files and three directories, and
    /// leaves no inodes to allocate and sweep.
    ///
    /// An id is the one [`Store::commit`] gives the same input (a digest
    /// of the rows, not of where they are kept); either commit finds the
    /// other's snapshot as already present. The snapshots are listed, read
    /// and verified as any other ([`SnapshotMeta::in_catalog`] says where
    /// one is); only [`Store::snapshot_dir`] has no directory to give. An
    /// input of more than [`IN_CATALOG_MAX_ROWS`] rows is refused: extracts
    /// belong in files that DataFusion scans.
    pub fn commit_in_catalog(&self, inputs: Vec<SnapshotInput>) -> Result<Vec<Committed>> {
        let held = self.encode_in_catalog(inputs)?;
        Ok(self.commit_held(held, Vec::new())?.0)
    }

    /// The work of [`Store::commit_in_catalog`] before its transaction:
    /// each input validated, sorted, hashed and encoded (its id known),
    /// nothing written. Commit with [`Store::commit_held`], with the audit
    /// entries that belong with them if any.
    pub fn encode_in_catalog(&self, inputs: Vec<SnapshotInput>) -> Result<HeldSnapshots> {
        let mut snapshots = Vec::with_capacity(inputs.len());
        for mut input in inputs {
            let prepared = Prepared::new(&mut input)?;
            let source = input.source.as_str();
            let n = prepared.order.len() + prepared.quarantine.num_rows();
            if n > IN_CATALOG_MAX_ROWS {
                return Err(Error::invalid(
                    source,
                    format!(
                        "{n} rows: a snapshot held in the catalog has at most \
                         {IN_CATALOG_MAX_ROWS}; commit it as a directory"
                    ),
                ));
            }
            let label = PathBuf::from(format!("{}#{source}", self.catalog.path().display()));
            let (rows_digest, rows_file, rows_bytes) = encode_table(
                Vec::new(),
                &label.join(ROWS_FILE),
                &prepared.rows_schema,
                writer_properties(&prepared.rows_schema, prepared.order.len(), true),
                prepared.order.len(),
                |range| prepared.rows_chunk(range, source),
                None,
            )?;
            let q = &prepared.quarantine;
            let (quarantine_digest, quarantine_file, quarantine_bytes) = encode_table(
                Vec::new(),
                &label.join(QUARANTINE_FILE),
                &prepared.quarantine_schema,
                writer_properties(&prepared.quarantine_schema, q.num_rows(), false),
                q.num_rows(),
                |range| Ok(q.slice(range.start, range.len())),
                None,
            )?;
            let (id, manifest) = manifest_of(
                &input,
                &rows_digest,
                &quarantine_digest,
                vec![rows_file, quarantine_file],
            );
            let manifest_bytes = manifest.to_bytes(&label.join(MANIFEST_FILE))?;
            snapshots.push(HeldSnapshot {
                rel_path: format!("{IN_CATALOG_PREFIX}{source}/{id}"),
                id,
                rows: rows_digest.rows,
                quarantined: quarantine_digest.rows,
                input,
                files: vec![
                    (MANIFEST_FILE, manifest_bytes),
                    (ROWS_FILE, rows_bytes),
                    (QUARANTINE_FILE, quarantine_bytes),
                ],
            });
        }
        Ok(HeldSnapshots { snapshots })
    }

    /// Commits snapshots encoded by [`Store::encode_in_catalog`] and
    /// appends `audit` to the audit log, in one transaction of the
    /// catalog's group commit (one fsync for both, shared with concurrent
    /// callers): a per-applicant check's request snapshots and the entry
    /// that logs the check are durable together, or neither is.
    pub fn commit_held(
        &self,
        held: HeldSnapshots,
        audit: Vec<AuditEvent>,
    ) -> Result<(Vec<Committed>, Vec<AuditEntry>)> {
        let now = DateTime::<Utc>::from(SystemTime::now());
        let ids: Vec<SnapshotId> = held.snapshots.iter().map(|h| h.id.clone()).collect();
        let rows: Vec<SnapshotRow> = held
            .snapshots
            .into_iter()
            .map(|mut h| {
                let files = std::mem::take(&mut h.files);
                SnapshotRow::from((
                    NewSnapshot {
                        id: &h.id,
                        source: &h.input.source,
                        as_of: h.input.as_of,
                        department: &h.input.department,
                        region_code: h.input.region_code.as_deref(),
                        rows: h.rows,
                        quarantined: h.quarantined,
                        schema_version: h.input.schema_version,
                        rel_path: &h.rel_path,
                        ingested_at: now,
                    },
                    files,
                ))
            })
            .collect();
        let path = self.catalog.path().to_owned();
        let at = audit_now();
        let (inserted, entries) = self.catalog.write(move |c| {
            let inserted = insert_snapshots(c, &path, rows)?;
            let entries = match audit.is_empty() {
                true => Vec::new(),
                false => append_entries(c, &path, &at, audit)?,
            };
            Ok((inserted, entries))
        })?;
        self.audit_head_after(&entries)?;
        let mut out = Vec::with_capacity(ids.len());
        for (id, this_call) in ids.iter().zip(inserted) {
            let meta = self
                .catalog
                .get(id)?
                .ok_or_else(|| Error::NotFound { id: id.to_string() })?;
            out.push(Committed {
                meta,
                already_present: !this_call,
            });
        }
        Ok((out, entries))
    }

    /// [`Store::commit`] that fails at `at`, for the failure tests.
    #[doc(hidden)]
    pub fn commit_with_failpoint(
        &self,
        input: SnapshotInput,
        at: FailPoint,
        mode: FailMode,
    ) -> Result<Committed> {
        self.commit_inner(input, Some((at, mode)))
    }

    fn commit_inner(
        &self,
        mut input: SnapshotInput,
        fail: Option<(FailPoint, FailMode)>,
    ) -> Result<Committed> {
        let prepared = Prepared::new(&mut input)?;
        let source = input.source.as_str();

        let _lock = self.lock.shared()?;
        let mut tmp = TmpDir::create(&self.root.join(TMP_DIR))?;
        let fail_at = |point: FailPoint, tmp: &mut TmpDir| -> Result<()> {
            match fail {
                Some((p, mode)) if p == point => {
                    if mode == FailMode::Crash {
                        tmp.disarm();
                    }
                    Err(Error::Injected(point))
                }
                _ => Ok(()),
            }
        };

        // rows.parquet
        let rows_path = tmp.path.join(ROWS_FILE);
        let during = match fail {
            Some((FailPoint::DuringRows, _)) => Some(FailPoint::DuringRows),
            _ => None,
        };
        let written = write_table(
            &rows_path,
            &prepared.rows_schema,
            writer_properties(&prepared.rows_schema, prepared.order.len(), true),
            prepared.order.len(),
            |range| prepared.rows_chunk(range, source),
            during,
        );
        let (rows_digest, rows_file) = match written {
            Ok(w) => w,
            Err(e @ Error::Injected(_)) => {
                fail_at(FailPoint::DuringRows, &mut tmp)?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if prepared.order.is_empty() {
            fail_at(FailPoint::DuringRows, &mut tmp)?;
        }
        fail_at(FailPoint::AfterRows, &mut tmp)?;

        // quarantine.parquet
        let quarantine_path = tmp.path.join(QUARANTINE_FILE);
        let q = &prepared.quarantine;
        let (quarantine_digest, quarantine_file) = write_table(
            &quarantine_path,
            &prepared.quarantine_schema,
            writer_properties(&prepared.quarantine_schema, q.num_rows(), false),
            q.num_rows(),
            |range| Ok(q.slice(range.start, range.len())),
            None,
        )?;
        fail_at(FailPoint::AfterQuarantine, &mut tmp)?;

        // manifest.json
        let (id, manifest) = manifest_of(
            &input,
            &rows_digest,
            &quarantine_digest,
            vec![rows_file, quarantine_file],
        );
        let manifest_path = tmp.path.join(MANIFEST_FILE);
        fsutil::write_synced(&manifest_path, &manifest.to_bytes(&manifest_path)?)?;
        fsutil::sync_dir(&tmp.path)?;
        fail_at(FailPoint::AfterManifest, &mut tmp)?;

        // Same content already committed: keep the first, drop this copy.
        if let Some(meta) = self.catalog.get(&id)? {
            return Ok(Committed {
                meta,
                already_present: true,
            });
        }

        // Rename into place, in one step.
        let source_dir = self.root.join(SNAPSHOTS_DIR).join(source);
        fsutil::ensure_dir(&source_dir)?;
        let final_dir = source_dir.join(id.as_str());
        match std::fs::rename(&tmp.path, &final_dir) {
            Ok(()) => tmp.disarm(),
            Err(e) if is_already_there(&e) || final_dir.join(MANIFEST_FILE).is_file() => {
                // Another commit of the same content (in this or another
                // process) renamed first, or crashed after its rename; its
                // directory is complete, since it was renamed only after it
                // was fsynced. Keep it, drop ours.
                let existing = Manifest::read(&final_dir.join(MANIFEST_FILE))?;
                if existing.snapshot_id != id {
                    return Err(Error::Corrupt {
                        id: id.to_string(),
                        path: final_dir,
                        reason: format!("its manifest names snapshot {}", existing.snapshot_id),
                    });
                }
            }
            Err(e) => return Err(Error::io(&final_dir, e)),
        }
        fail_at(FailPoint::AfterRename, &mut tmp)?;
        fsutil::sync_dir(&source_dir)?;
        fsutil::sync_dir(&self.root.join(TMP_DIR))?;
        fail_at(FailPoint::BeforeCatalog, &mut tmp)?;

        // The commit point.
        let rel_path = format!("{SNAPSHOTS_DIR}/{source}/{id}");
        let new = NewSnapshot {
            id: &id,
            source,
            as_of: input.as_of,
            department: &input.department,
            region_code: input.region_code.as_deref(),
            rows: rows_digest.rows,
            quarantined: quarantine_digest.rows,
            schema_version: input.schema_version,
            rel_path: &rel_path,
            ingested_at: DateTime::<Utc>::from(SystemTime::now()),
        };
        let fail_inside = matches!(fail, Some((FailPoint::InCatalogTransaction, _)));
        let inserted = match self.catalog.insert(new, fail_inside)? {
            Some(inserted) => inserted,
            None => return Err(Error::Injected(FailPoint::InCatalogTransaction)),
        };
        fail_at(FailPoint::AfterCatalog, &mut tmp)?;
        let meta = self
            .catalog
            .get(&id)?
            .ok_or_else(|| Error::NotFound { id: id.to_string() })?;
        Ok(Committed {
            meta,
            already_present: !inserted,
        })
    }

    /// Every snapshot, or every snapshot of one source, ordered by source,
    /// then `as_of`, then ingest sequence.
    pub fn list(&self, source: Option<&str>) -> Result<Vec<SnapshotMeta>> {
        self.catalog.list(source)
    }

    /// The snapshot with this id, if it is committed.
    pub fn get(&self, id: &SnapshotId) -> Result<Option<SnapshotMeta>> {
        self.catalog.get(id)
    }

    /// The snapshot a user named by its id or a unique prefix of it (at
    /// least 8 hex digits).
    pub fn resolve(&self, id_or_prefix: &str) -> Result<SnapshotMeta> {
        let (mut found, count) = self.catalog.by_prefix(id_or_prefix)?;
        match count {
            0 => Err(Error::NotFound {
                id: id_or_prefix.to_owned(),
            }),
            1 => Ok(found.remove(0)),
            count => Err(Error::Ambiguous {
                prefix: id_or_prefix.to_owned(),
                count,
            }),
        }
    }

    /// The newest snapshot of `source`: greatest `as_of`, ties broken by the
    /// latest ingest. What a check uses.
    pub fn newest(&self, source: &str) -> Result<Option<SnapshotMeta>> {
        self.catalog.newest(source, None)
    }

    /// The newest snapshot of `source` with `as_of` on or before `date`
    /// (ties broken by the latest ingest). What a monitoring run on `date`
    /// uses.
    pub fn newest_on_or_before(
        &self,
        source: &str,
        date: NaiveDate,
    ) -> Result<Option<SnapshotMeta>> {
        self.catalog.newest(source, Some(date))
    }

    fn meta(&self, id: &SnapshotId) -> Result<SnapshotMeta> {
        self.catalog
            .get(id)?
            .ok_or_else(|| Error::NotFound { id: id.to_string() })
    }

    /// Where the files of a committed snapshot are.
    fn stored(&self, id: &SnapshotId) -> Result<(SnapshotMeta, Stored)> {
        let meta = self.meta(id)?;
        let stored = if meta.in_catalog {
            Stored::Catalog {
                id: id.to_string(),
                base: PathBuf::from(format!("{}#{id}", meta.path.display())),
                files: self
                    .catalog
                    .files(id)?
                    .into_iter()
                    .map(|(n, b)| (n, Bytes::from(b)))
                    .collect(),
            }
        } else {
            Stored::Dir(meta.path.clone())
        };
        Ok((meta, stored))
    }

    /// The directory of a committed snapshot (holding [`ROWS_FILE`],
    /// [`QUARANTINE_FILE`] and [`MANIFEST_FILE`]). A snapshot held in the
    /// catalog has none: for it this is an error that says so (read it
    /// with [`Store::read_rows`], [`Store::rows_reader`] and the others).
    pub fn snapshot_dir(&self, id: &SnapshotId) -> Result<PathBuf> {
        let meta = self.meta(id)?;
        if meta.in_catalog {
            return Err(Error::NoDirectory {
                id: id.to_string(),
                path: meta.path,
            });
        }
        Ok(meta.path)
    }

    /// The manifest of a committed snapshot.
    pub fn manifest(&self, id: &SnapshotId) -> Result<Manifest> {
        self.stored(id)?.1.manifest()
    }

    /// The accepted rows of a committed snapshot, in canonical order
    /// (`id_number` nulls last, then `record_id`).
    pub fn read_rows(&self, id: &SnapshotId) -> Result<Vec<RecordBatch>> {
        self.stored(id)?.1.table(ROWS_FILE)
    }

    /// The accepted rows of a committed snapshot, in canonical order, one
    /// batch at a time, with only the named columns (those the snapshot
    /// has, in its column order; `None` for all): a reader of one
    /// purpose never holds a 30-million-row extract whole.
    pub fn rows_reader(&self, id: &SnapshotId, columns: Option<&[&str]>) -> Result<BatchReader> {
        self.stored(id)?.1.reader(ROWS_FILE, columns)
    }

    /// The Arrow schema of a committed snapshot's rows.
    pub fn rows_schema(&self, id: &SnapshotId) -> Result<SchemaRef> {
        self.stored(id)?.1.schema(ROWS_FILE)
    }

    /// The quarantined rows of a committed snapshot, in canonical order.
    pub fn read_quarantine(&self, id: &SnapshotId) -> Result<Vec<RecordBatch>> {
        self.stored(id)?.1.table(QUARANTINE_FILE)
    }

    /// Checks a committed snapshot end to end: the manifest matches the
    /// catalog, the files match their sizes and blake3 in the manifest, and
    /// the content read back, in stored order, hashes to the id (which also
    /// proves it is stored in canonical order). The same for a snapshot
    /// held in the catalog, whose files are the catalog's blobs.
    pub fn verify(&self, id: &SnapshotId) -> Result<()> {
        let (meta, stored) = self.stored(id)?;
        let corrupt = |path: PathBuf, reason: String| Error::Corrupt {
            id: id.to_string(),
            path,
            reason,
        };
        let manifest = stored.manifest()?;
        let agrees = manifest.snapshot_id == *id
            && manifest.source == meta.source
            && manifest.as_of == meta.as_of
            && manifest.department == meta.department
            && manifest.region_code == meta.region_code
            && manifest.schema_version == meta.schema_version
            && manifest.rows == meta.rows
            && manifest.quarantined == meta.quarantined;
        if !agrees {
            return Err(corrupt(
                stored.path(MANIFEST_FILE),
                "manifest disagrees with the catalog".to_owned(),
            ));
        }
        for f in &manifest.files {
            let (bytes, blake3) = stored.hash(&f.name)?;
            if bytes != f.bytes || blake3 != f.blake3 {
                return Err(corrupt(
                    stored.path(&f.name),
                    format!(
                        "{bytes} bytes with blake3 {blake3}, manifest says {} bytes with blake3 {}",
                        f.bytes, f.blake3
                    ),
                ));
            }
        }
        let digest_of = |name: &str, table: Table| -> Result<TableDigest> {
            let batches = stored.table(name)?;
            let file_schema = match batches.first() {
                Some(b) => b.schema(),
                None => stored.schema(name)?,
            };
            let schema = canonical::normalise_schema(&file_schema, &meta.source, table)?;
            let mut hasher = TableHasher::new(Arc::clone(&schema));
            for b in &batches {
                hasher.update(&canonical::normalise_batch(
                    b,
                    &schema,
                    &meta.source,
                    table,
                )?);
            }
            Ok(hasher.finish())
        };
        let rows = digest_of(ROWS_FILE, Table::Rows)?;
        let quarantine = digest_of(QUARANTINE_FILE, Table::Quarantine)?;
        let header = Header {
            source: &manifest.source,
            as_of: manifest.as_of,
            department: &manifest.department,
            region_code: manifest.region_code.as_deref(),
            schema_version: manifest.schema_version,
        };
        let recomputed =
            SnapshotId::from_digest(&canonical::snapshot_digest(&header, &rows, &quarantine));
        if recomputed != *id {
            return Err(corrupt(
                meta.path.clone(),
                format!("its content hashes to {recomputed}"),
            ));
        }
        Ok(())
    }
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        out.push(entry.map_err(|e| Error::io(dir, e))?.path());
    }
    out.sort();
    Ok(out)
}

fn remove_entry(path: &Path) -> Result<()> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}
