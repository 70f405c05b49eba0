//! `hedui-store`: immutable, content-addressed snapshots and their catalog.
//!
//! # Where it sits
//!
//! ```text
//! departments ──▶ hedui-sources ──SnapshotInput──▶ hedui-store ──▶ hedui-engine, reports, replay
//!                 (validate, normalise,            (sort, hash, write Parquet,
//!                  quarantine)                      commit atomically, catalog)
//! ```
//!
//! `hedui-sources` turns a department's extract into a [`SnapshotInput`]:
//! normalised rows in the source's canonical schema and the quarantined rows
//! with their reasons. [`Store::commit`] makes it a **snapshot**: an
//! immutable directory named by the blake3 of its canonical content, listed
//! in the catalog. Checks read the [`Store::newest`] snapshot of each
//! source, monitoring runs on day D the [`Store::newest_on_or_before`] D,
//! and a report names the [`SnapshotId`]s it read, so a replay reads exactly
//! the same data.
//!
//! # On disk
//!
//! ```text
//! <data dir>/                       (default ./hedui-data)
//!   catalog.sqlite                  SQLite, WAL: tables `snapshots`, `snapshot_files` (the
//!                                   files of small snapshots held in the catalog), audit log,
//!                                   monitoring state
//!   lock                            advisory lock: commits shared, sweep exclusive
//!   open.lock                       advisory lock: opening the catalog takes turns
//!   audit.key, audit.head           the audit log's secret key and newest entry (see `Store::audit_verify`)
//!   tmp/<pid>-<nanos>-<n>/          commits in progress (swept on open)
//!   snapshots/<source>/<id>/
//!     rows.parquet                  accepted rows, sorted by (id_number nulls last, record_id)
//!     quarantine.parquet            rejected rows with reasons, sorted by all columns
//!     manifest.json                 source, as_of, department, region, counts, schema version,
//!                                   columns with types and digests, source files, content hash
//! ```
//!
//! A small snapshot — a case system's household of a few rows — can be
//! committed with [`Store::commit_in_catalog`] instead: the same three files,
//! byte for byte, held as blobs in `snapshot_files` and written in the
//! transaction that inserts its catalog row (one fsync of the catalog's WAL,
//! shared by concurrent commits, instead of seven over three files and
//! three directories). Its id is the id [`Store::commit`] gives the same
//! content; it is read, listed and verified like any other.
//!
//! Parquet files are zstd-compressed with page statistics, 128 Ki-row row
//! groups, bloom filters on `id_number` and `record_id`, and the sort order
//! recorded in the footer, so a lookup of one person reads little.
//!
//! # Invariants
//!
//! - **The id is the content.** [`SnapshotId`] is the blake3 of an encoding
//!   defined in [`canonical`] over the values, not the file bytes: the same
//!   content in any row order or batching, written by any library version,
//!   has the same id; any change of a value, a column, `as_of`, the
//!   department, the region or the schema version changes it.
//! - **Immutable, no duplicates.** Committing content already present adds
//!   nothing and returns the existing snapshot with
//!   [`Committed::already_present`].
//! - **Whole or not at all.** A snapshot is written in `tmp/`, fsynced,
//!   renamed into place in one step and becomes visible only when its
//!   catalog row is committed (a snapshot held in the catalog: its files
//!   and its row in one transaction). A crash or error at any point leaves
//!   nothing visible; [`Store::open`] sweeps what it left. Concurrent commits of the
//!   same content, from threads or processes, leave one snapshot.
//! - **No wall-clock time in content.** Ingestion time is in the catalog
//!   only, never in the manifest or the id.
//! - **Rows are keyed.** Every snapshot's rows have a unique, non-null
//!   Utf8 `record_id` and a nullable Utf8 `id_number`.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use arrow::array::{RecordBatch, StringArray, Int64Array};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use chrono::NaiveDate;
//! use hedui_store::{SnapshotInput, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path().join("hedui-data"))?;
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("record_id", DataType::Utf8, false),
//!     Field::new("id_number", DataType::Utf8, true),
//!     Field::new("gross", DataType::Int64, false), // fen
//! ]));
//! let batch = RecordBatch::try_new(schema, vec![
//!     Arc::new(StringArray::from(vec!["t-2", "t-1"])),
//!     Arc::new(StringArray::from(vec![Some("11010519491231002X"), None])),
//!     Arc::new(Int64Array::from(vec![512_000, 300_000])),
//! ])?;
//! let input = SnapshotInput {
//!     source: "tax".into(),
//!     as_of: NaiveDate::from_ymd_opt(2024, 6, 30).unwrap(),
//!     department: "国家税务总局某市税务局".into(),
//!     region_code: Some("110105".into()),
//!     schema_version: 1,
//!     rows: vec![batch],
//!     quarantine: vec![],
//!     source_files: vec!["tax-2024-06.parquet".into()],
//! };
//!
//! let first = store.commit(input.clone())?;
//! assert!(!first.already_present);
//! assert_eq!(first.meta.rows, 2);
//!
//! let again = store.commit(input)?; // same content: same id, nothing added
//! assert!(again.already_present);
//! assert_eq!(again.meta.id, first.meta.id);
//!
//! let newest = store.newest("tax")?.unwrap();
//! assert_eq!(newest.id, first.meta.id);
//! let rows = store.read_rows(&newest.id)?;
//! assert_eq!(rows[0].num_rows(), 2);
//! store.verify(&newest.id)?;
//! # Ok(())
//! # }
//! ```

mod audit;
pub mod canonical;
mod catalog;
mod derived;
mod error;
mod fsutil;
mod id;
mod input;
mod manifest;
mod monitor;
mod store;

pub use audit::{AUDIT_HEAD_FILE, AUDIT_KEY_FILE, AuditCheck, AuditEntry, AuditEvent, GENESIS};
pub use catalog::{CATALOG_SCHEMA_VERSION, MIGRATIONS, SnapshotMeta};
pub use derived::{ARTIFACTS_DIR, LINKS_DIR, LinksWriter, VIEW_ROW_GROUP_ROWS};
pub use error::{Error, Result};
pub use id::{MIN_PREFIX_LEN, SNAPSHOT_ID_LEN, SnapshotId};
pub use input::SnapshotInput;
pub use manifest::{ColumnInfo, ContentHash, FileInfo, MANIFEST_FORMAT, Manifest};
pub use monitor::{MonitorRun, RunRecord, StoredAlert};
pub use store::{
    BatchReader, CATALOG_FILE, Committed, DEFAULT_DATA_DIR, FailMode, FailPoint, HeldSnapshots,
    IN_CATALOG_MAX_ROWS, MANIFEST_FILE, QUARANTINE_FILE, ROW_GROUP_ROWS, ROWS_FILE, SNAPSHOTS_DIR,
    Store, SweepReport, TMP_DIR,
};
