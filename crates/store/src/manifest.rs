//! `manifest.json`: what a snapshot holds, beside its Parquet files.
//!
//! The manifest is deterministic (no wall-clock time, fields in a fixed
//! order), so the same content always gives a byte-identical manifest with
//! the same `source_files`. Readers ignore fields they do not know, so a
//! later format may add some.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::canonical::{ColumnDigest, SNAPSHOT_ENCODING, TableDigest};
use crate::error::{Error, Result};
use crate::id::SnapshotId;

/// The value of [`Manifest::format`] this build writes.
pub const MANIFEST_FORMAT: &str = "hedui.snapshot.manifest.v1";

/// The manifest of one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// The snapshot id, equal to `content_hash.value`.
    pub snapshot_id: SnapshotId,
    /// The source table (`tax`, `hukou`, ...).
    pub source: String,
    /// The date the data is current to.
    pub as_of: NaiveDate,
    /// The department that sent the extract (free text).
    pub department: String,
    /// The region the extract covers, if it said.
    pub region_code: Option<String>,
    /// Version of the canonical schema of the source.
    pub schema_version: u32,
    /// Accepted rows.
    pub rows: u64,
    /// Quarantined rows.
    pub quarantined: u64,
    /// Columns of `rows.parquet`, in file order.
    pub columns: Vec<ColumnInfo>,
    /// Columns of `quarantine.parquet`, in file order.
    pub quarantine_columns: Vec<ColumnInfo>,
    /// Names of the files the extract came from (not hashed).
    pub source_files: Vec<String>,
    /// The content hash the id is.
    pub content_hash: ContentHash,
    /// The data files, with sizes and blake3 of their bytes, for integrity
    /// checks (these hashes depend on the Parquet writer; the id does not).
    pub files: Vec<FileInfo>,
}

/// One column of a snapshot table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Canonical type string (see [`crate::canonical::type_tag`]).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether the column may hold nulls.
    pub nullable: bool,
    /// blake3 (hex) column digest of the canonical encoding: equal digests,
    /// equal columns, so two snapshots can be compared column by column.
    pub digest: String,
}

/// How the snapshot id was computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHash {
    /// Always `blake3`.
    pub algorithm: String,
    /// The canonical encoding, [`SNAPSHOT_ENCODING`].
    pub encoding: String,
    /// The digest, hex.
    pub value: String,
}

/// One data file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// File name inside the snapshot directory.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// blake3 (hex) of the file's bytes.
    pub blake3: String,
}

impl ColumnInfo {
    pub(crate) fn from_digests(table: &TableDigest) -> Vec<ColumnInfo> {
        table
            .columns
            .iter()
            .map(|c: &ColumnDigest| ColumnInfo {
                name: c.name.clone(),
                data_type: c.tag.clone(),
                nullable: c.nullable,
                digest: c.digest.to_hex().to_string(),
            })
            .collect()
    }
}

impl ContentHash {
    pub(crate) fn of(id: &SnapshotId) -> Self {
        ContentHash {
            algorithm: "blake3".to_owned(),
            encoding: SNAPSHOT_ENCODING.to_owned(),
            value: id.as_str().to_owned(),
        }
    }
}

impl Manifest {
    /// Reads and parses a manifest file.
    pub fn read(path: &Path) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Manifest::from_slice(&bytes, path)
    }

    /// Parses a manifest's bytes (`path` names them in errors).
    pub(crate) fn from_slice(bytes: &[u8], path: &Path) -> Result<Manifest> {
        serde_json::from_slice(bytes).map_err(|e| Error::Manifest {
            path: path.to_owned(),
            source: e,
        })
    }

    /// The manifest as pretty JSON with a final newline.
    pub(crate) fn to_bytes(&self, path: &Path) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Manifest {
            path: path.to_owned(),
            source: e,
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
