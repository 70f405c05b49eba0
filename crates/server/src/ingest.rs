//! Committing an extract: normalised rows (and their quarantine) become a
//! snapshot. `hedui ingest` (files) and Flight `DoPut` (a stream) both end
//! here, so an extract sent either way is the same snapshot.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use hedui_model::Date;
use hedui_sources::{Normalised, TableSpec};
use hedui_store::{SnapshotInput, Store};

/// What one extract's ingest gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// The source (table).
    pub source: String,
    /// The snapshot's id.
    pub id: String,
    /// Rows accepted.
    pub accepted: usize,
    /// Rows quarantined.
    pub quarantined: usize,
    /// Quarantine reasons with their counts, `reason n, …`.
    pub reasons: String,
    /// The same content was already a snapshot.
    pub already_present: bool,
}

/// Where an extract came from and what it is.
#[derive(Debug, Clone)]
pub struct ExtractMeta<'a> {
    /// Its table.
    pub table: &'static TableSpec,
    /// The date its data is current to.
    pub as_of: Date,
    /// The department that sent it.
    pub department: &'a str,
    /// The region it covers, if any.
    pub region: Option<&'a str>,
    /// The file (or stream) it was read from, as the manifest records it.
    pub file_name: &'a str,
}

/// Commits a normalised extract as a snapshot (whole or nothing).
pub fn commit_extract(store: &Store, meta: &ExtractMeta<'_>, out: Normalised) -> Result<Ingested> {
    let mut reasons = String::new();
    for (r, n) in &out.reasons {
        let _ = write!(
            reasons,
            "{}{r} {n}",
            if reasons.is_empty() { "" } else { ", " }
        );
    }
    let input = SnapshotInput {
        source: meta.table.name.to_owned(),
        as_of: meta.as_of,
        department: meta.department.to_owned(),
        region_code: meta.region.map(str::to_owned),
        schema_version: meta.table.schema_version,
        rows: out.rows,
        quarantine: out.quarantine,
        source_files: vec![meta.file_name.to_owned()],
    };
    let committed = store
        .commit(input)
        .with_context(|| format!("{}: committing the snapshot", meta.file_name))?;
    Ok(Ingested {
        source: meta.table.name.to_owned(),
        id: committed.meta.id.as_str().to_owned(),
        accepted: out.accepted,
        quarantined: out.quarantined,
        reasons,
        already_present: committed.already_present,
    })
}
