//! Derived artifacts: what is computed from snapshots and kept beside them,
//! such as the links identity resolution gives each snapshot's records and
//! the trained matcher that gave them.
//!
//! Unlike snapshots they are not content-addressed by their own bytes but
//! keyed by what produced them (a snapshot id and a key naming the
//! registry and matcher hashes, or the matcher's own hash), so a caller
//! finds them again and knows when they are stale. Each is written aside in
//! `tmp/` and published by one rename: a reader sees a whole artifact or
//! none, and two writers of the same key (deterministic producers write the
//! same bytes) do not disturb each other.
//!
//! Beside a snapshot's links is its **linked view** under the same key:
//! each record with the link that places it, keyed by the person it
//! belongs to — the per-person index a check reads (see
//! [`Store::view_writer`]).
//!
//! A server answering one household at a time also keeps, per snapshot, a
//! **point index**: the columns a check reads of each view (or of the
//! hukou registry, by id) as an uncompressed Arrow IPC file in the view's
//! order, which it maps into memory and searches by person without
//! decoding anything (see [`Store::index_writer`]).
//!
//! Layout: `links/<snapshot id>/<key>.parquet`,
//! `links/<snapshot id>/<key>.view.parquet`,
//! `links/<snapshot id>/<key>.index.arrow`, `artifacts/<kind>/<key>`.

use std::fs::File;
use std::path::PathBuf;

use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::id::SnapshotId;
use crate::store::{Store, TMP_DIR};

/// Directory of links.
pub const LINKS_DIR: &str = "links";
/// Directory of other artifacts.
pub const ARTIFACTS_DIR: &str = "artifacts";
/// Rows per row group of a linked view: small enough that a lookup of one
/// household's persons reads a few row groups of each source.
pub const VIEW_ROW_GROUP_ROWS: usize = 32 * 1024;
/// Rows per data page of a linked view (the page index prunes within a
/// row group).
const VIEW_PAGE_ROWS: usize = 2 * 1024;

fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !key.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            source_name: String::new(),
            reason: format!("artifact key {key:?} must be 1–200 characters of [A-Za-z0-9._-]"),
        })
    }
}

/// The Parquet settings every derived file starts from.
fn derived_properties() -> parquet::file::properties::WriterPropertiesBuilder {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by("hedui".into())
}

impl Store {
    /// A fresh path in `tmp/` for a file about to be renamed into place:
    /// unique per process and call, so a file an earlier (killed) process
    /// left behind never stands in the way; `sweep` removes such leftovers.
    pub(crate) fn tmp_path(&self, name: &str) -> PathBuf {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The time too: a restarted server often gets its predecessor's
        // process id (a container's first process), and its counter
        // starts again at 0.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        self.root()
            .join(TMP_DIR)
            .join(format!("{}-{nanos}-{n}-{name}", std::process::id()))
    }

    fn publish(&self, tmp: PathBuf, dest: PathBuf) -> Result<PathBuf> {
        let parent = dest.parent().map(PathBuf::from).unwrap_or_default();
        fsutil::ensure_dir(&parent)?;
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
        fsutil::sync_dir(&parent)?;
        Ok(dest)
    }

    /// Where the links of a snapshot under `key` are (whether or not they
    /// exist).
    pub fn links_path(&self, snapshot: &SnapshotId, key: &str) -> Result<PathBuf> {
        self.derived_path(snapshot, key, "parquet")
    }

    /// `links/<snapshot>/<key>.<suffix>`.
    fn derived_path(&self, snapshot: &SnapshotId, key: &str, suffix: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self
            .root()
            .join(LINKS_DIR)
            .join(snapshot.as_str())
            .join(format!("{key}.{suffix}")))
    }

    /// Whether links of a snapshot under `key` exist.
    pub fn has_links(&self, snapshot: &SnapshotId, key: &str) -> Result<bool> {
        Ok(self.links_path(snapshot, key)?.is_file())
    }

    /// Stores the links of a snapshot under `key`, atomically.
    pub fn put_links(
        &self,
        snapshot: &SnapshotId,
        key: &str,
        batches: &[RecordBatch],
    ) -> Result<PathBuf> {
        let Some(first) = batches.first() else {
            return Err(Error::InvalidInput {
                source_name: String::new(),
                reason: "links need at least one (possibly empty) batch".into(),
            });
        };
        let mut w = self.links_writer(snapshot, key, first.schema())?;
        for b in batches {
            w.write(b)?;
        }
        w.finish()
    }

    /// Starts writing the links of a snapshot under `key` piece by piece
    /// (a source of tens of millions of records is linked in pieces):
    /// nothing is visible until [`LinksWriter::finish`] publishes the whole
    /// file; a writer dropped unfinished removes what it wrote.
    pub fn links_writer(
        &self,
        snapshot: &SnapshotId,
        key: &str,
        schema: arrow::datatypes::SchemaRef,
    ) -> Result<LinksWriter<'_>> {
        let props = derived_properties().build();
        self.derived_writer(self.links_path(snapshot, key)?, schema, props)
    }

    /// Where the linked view of a snapshot under `key` is (whether or not
    /// it exists).
    pub fn view_path(&self, snapshot: &SnapshotId, key: &str) -> Result<PathBuf> {
        self.derived_path(snapshot, key, "view.parquet")
    }

    /// Whether the linked view of a snapshot under `key` exists.
    pub fn has_view(&self, snapshot: &SnapshotId, key: &str) -> Result<bool> {
        Ok(self.view_path(snapshot, key)?.is_file())
    }

    /// Starts writing the linked view of a snapshot under `key`, as
    /// [`Store::links_writer`] does the links. Its rows are written in
    /// runs sorted by person; small row groups and pages with statistics
    /// let a reader of a few persons skip the rest of the file.
    pub fn view_writer(
        &self,
        snapshot: &SnapshotId,
        key: &str,
        schema: arrow::datatypes::SchemaRef,
    ) -> Result<LinksWriter<'_>> {
        let props = derived_properties()
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_max_row_group_row_count(Some(VIEW_ROW_GROUP_ROWS))
            .set_data_page_row_count_limit(VIEW_PAGE_ROWS)
            .build();
        self.derived_writer(self.view_path(snapshot, key)?, schema, props)
    }

    /// Where the point index of a snapshot under `key` is (whether or
    /// not it exists).
    pub fn index_path(&self, snapshot: &SnapshotId, key: &str) -> Result<PathBuf> {
        self.derived_path(snapshot, key, "index.arrow")
    }

    /// Whether the point index of a snapshot under `key` exists.
    pub fn has_index(&self, snapshot: &SnapshotId, key: &str) -> Result<bool> {
        Ok(self.index_path(snapshot, key)?.is_file())
    }

    /// Starts writing the point index of a snapshot under `key`: an
    /// uncompressed Arrow IPC file (so a reader maps it and reads rows in
    /// place), published whole like the links.
    pub fn index_writer(
        &self,
        snapshot: &SnapshotId,
        key: &str,
        schema: arrow::datatypes::SchemaRef,
    ) -> Result<LinksWriter<'_>> {
        let dest = self.index_path(snapshot, key)?;
        self.derived_file(dest, |tmp, file| {
            arrow::ipc::writer::FileWriter::try_new_buffered(file, &schema)
                .map(Format::Ipc)
                .map_err(|e| Error::arrow(tmp.display().to_string(), e))
        })
    }

    fn derived_writer(
        &self,
        dest: PathBuf,
        schema: arrow::datatypes::SchemaRef,
        props: WriterProperties,
    ) -> Result<LinksWriter<'_>> {
        self.derived_file(dest, |tmp, file| {
            ArrowWriter::try_new(file, schema, Some(props))
                .map(Format::Parquet)
                .map_err(|e| Error::parquet(tmp, e))
        })
    }

    /// A derived file written in `tmp/` by the writer `open` makes, to be
    /// published at `dest`.
    fn derived_file(
        &self,
        dest: PathBuf,
        open: impl FnOnce(&std::path::Path, File) -> Result<Format>,
    ) -> Result<LinksWriter<'_>> {
        // Held shared while the file sits in tmp/, so that a sweep (which
        // takes the lock exclusively) never removes it half-written.
        let guard = self.lock.shared()?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self.tmp_path(&name);
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let writer = match open(&tmp, file) {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        Ok(LinksWriter {
            store: self,
            writer: Some(writer),
            tmp,
            dest,
            _guard: guard,
        })
    }

    /// The links of a snapshot under `key`, one batch at a time, with only
    /// the named columns (`None` for all); `None` if there are none.
    pub fn links_reader(
        &self,
        snapshot: &SnapshotId,
        key: &str,
        columns: Option<&[&str]>,
    ) -> Result<Option<crate::store::BatchReader>> {
        let path = self.links_path(snapshot, key)?;
        if !path.is_file() {
            return Ok(None);
        }
        crate::store::batch_reader(path, columns).map(Some)
    }

    /// The linked view of a snapshot under `key`, one batch at a time, with
    /// only the named columns (`None` for all); `None` if there is none.
    pub fn view_reader(
        &self,
        snapshot: &SnapshotId,
        key: &str,
        columns: Option<&[&str]>,
    ) -> Result<Option<crate::store::BatchReader>> {
        let path = self.view_path(snapshot, key)?;
        if !path.is_file() {
            return Ok(None);
        }
        crate::store::batch_reader(path, columns).map(Some)
    }

    /// Reads the links of a snapshot under `key`, if they exist.
    pub fn read_links(&self, snapshot: &SnapshotId, key: &str) -> Result<Option<Vec<RecordBatch>>> {
        let path = self.links_path(snapshot, key)?;
        if !path.is_file() {
            return Ok(None);
        }
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| Error::parquet(&path, e))?;
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::arrow(path.display().to_string(), e))?;
        Ok(Some(batches))
    }

    /// Stores a small artifact (`kind`/`key`, e.g. a trained matcher as
    /// `matchers/<hash>.json`), atomically. An existing artifact of the
    /// same key is left as it is: keys name their content.
    pub fn put_artifact(&self, kind: &str, key: &str, bytes: &[u8]) -> Result<PathBuf> {
        check_key(kind)?;
        check_key(key)?;
        let dest = self.root().join(ARTIFACTS_DIR).join(kind).join(key);
        if dest.is_file() {
            return Ok(dest);
        }
        let _guard = self.lock.shared()?;
        let tmp = self.tmp_path(key);
        fsutil::write_synced(&tmp, bytes)?;
        self.publish(tmp, dest)
    }

    /// Reads an artifact, if it exists.
    pub fn get_artifact(&self, kind: &str, key: &str) -> Result<Option<Vec<u8>>> {
        check_key(kind)?;
        check_key(key)?;
        let path = self.root().join(ARTIFACTS_DIR).join(kind).join(key);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }
}

/// The format of a derived file being written.
enum Format {
    Parquet(ArrowWriter<File>),
    Ipc(arrow::ipc::writer::FileWriter<std::io::BufWriter<File>>),
}

/// A derived file being written: links, a linked view or a point index
/// (see [`Store::links_writer`]).
pub struct LinksWriter<'a> {
    store: &'a Store,
    writer: Option<Format>,
    tmp: PathBuf,
    dest: PathBuf,
    _guard: fsutil::LockGuard,
}

impl std::fmt::Debug for LinksWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinksWriter")
            .field("tmp", &self.tmp)
            .field("dest", &self.dest)
            .finish_non_exhaustive()
    }
}

impl LinksWriter<'_> {
    /// Appends a batch (of the schema the writer was opened with).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self.writer.as_mut() {
            Some(Format::Parquet(w)) => w.write(batch).map_err(|e| Error::parquet(&self.tmp, e)),
            Some(Format::Ipc(w)) => w
                .write(batch)
                .map_err(|e| Error::arrow(self.tmp.display().to_string(), e)),
            None => Err(Error::InvalidInput {
                source_name: String::new(),
                reason: "links writer already finished".into(),
            }),
        }
    }

    /// Closes, fsyncs and publishes the file; returns where it is.
    pub fn finish(mut self) -> Result<PathBuf> {
        let Some(w) = self.writer.take() else {
            return Err(Error::InvalidInput {
                source_name: String::new(),
                reason: "links writer already finished".into(),
            });
        };
        let file = match w {
            Format::Parquet(w) => w.into_inner().map_err(|e| Error::parquet(&self.tmp, e))?,
            Format::Ipc(w) => w
                .into_inner()
                .map_err(|e| Error::arrow(self.tmp.display().to_string(), e))?
                .into_inner()
                .map_err(|e| Error::io(&self.tmp, e.into_error()))?,
        };
        file.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        let tmp = std::mem::take(&mut self.tmp);
        let dest = std::mem::take(&mut self.dest);
        self.store.publish(tmp, dest)
    }
}

impl Drop for LinksWriter<'_> {
    fn drop(&mut self) {
        // Unfinished (an error on the way): nothing half-written stays.
        if !self.tmp.as_os_str().is_empty() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
