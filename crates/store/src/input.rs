//! [`SnapshotInput`]: what the sources crate hands the store.

use arrow::array::RecordBatch;
use chrono::{Datelike, NaiveDate};

use crate::error::{Error, Result};

/// One ingested, validated and normalised extract, ready to become a
/// snapshot.
///
/// Produced by `hedui-sources`; consumed by
/// [`Store::commit`](crate::Store::commit).
#[derive(Debug, Clone)]
pub struct SnapshotInput {
    /// The source table, e.g. `tax` (lower-case ASCII letters, digits and
    /// `_`, starting with a letter, at most 64 bytes: it names a directory).
    pub source: String,
    /// The date the data is current to (years 1 to 9999).
    pub as_of: NaiveDate,
    /// The department that sent it (free text).
    pub department: String,
    /// The region it covers, if the extract said.
    pub region_code: Option<String>,
    /// Version of the canonical schema of that source.
    pub schema_version: u32,
    /// The accepted rows in the source's canonical schema, in any order and
    /// any batching; every batch has the same columns. At least one batch
    /// (it may be empty: it gives the schema). Always has a Utf8 column
    /// `record_id`, non-null and unique, and a nullable Utf8 column
    /// `id_number` (the normalised 18-character id, or null).
    pub rows: Vec<RecordBatch>,
    /// The rejected rows with their reasons, in a schema of their own; every
    /// batch has the same columns. May be empty.
    pub quarantine: Vec<RecordBatch>,
    /// Names (not content) of the files the extract came from; recorded in
    /// the manifest, not part of the id.
    pub source_files: Vec<String>,
}

/// Longest source name accepted.
const MAX_SOURCE_LEN: usize = 64;

/// Checks that `source` can name a snapshot directory.
pub(crate) fn check_source_name(source: &str) -> Result<()> {
    let ok = !source.is_empty()
        && source.len() <= MAX_SOURCE_LEN
        && source.as_bytes()[0].is_ascii_lowercase()
        && source
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            source,
            "a source name is 1 to 64 of a-z, 0-9 and `_`, starting with a letter",
        ))
    }
}

impl SnapshotInput {
    pub(crate) fn check_header(&self) -> Result<()> {
        check_source_name(&self.source)?;
        if !(1..=9999).contains(&self.as_of.year()) {
            return Err(Error::invalid(
                &self.source,
                format!("as_of {} is outside the years 1 to 9999", self.as_of),
            ));
        }
        if self.rows.is_empty() {
            return Err(Error::invalid(
                &self.source,
                "no row batches: pass at least one (possibly empty) batch to give the schema",
            ));
        }
        Ok(())
    }
}
