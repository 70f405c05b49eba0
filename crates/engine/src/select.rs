//! Which snapshots a check reads (contract.md): the newest of each source;
//! for a date, the newest with `as_of` on or before it; for a replay, the
//! exact snapshots a report names.

use std::collections::BTreeMap;

use hedui_model::Date;
use hedui_sources::{TableKind, tables};
use hedui_store::{SnapshotId, SnapshotMeta, Store};

use crate::error::{Error, Result};

/// How snapshots are chosen.
#[derive(Clone, Debug)]
pub enum Selection {
    /// The newest snapshot of each source (a check).
    Newest,
    /// The newest with `as_of` on or before the date (a monitoring run).
    OnOrBefore(Date),
    /// Exactly these (a replay).
    Exact(BTreeMap<String, SnapshotId>),
}

/// The chosen snapshot of each department source that has one, by source.
/// `hukou` is required: without the registry no one can be placed.
pub fn select(store: &Store, selection: &Selection) -> Result<BTreeMap<String, SnapshotMeta>> {
    let mut out = BTreeMap::new();
    for t in tables::ALL
        .iter()
        .filter(|t| t.kind == TableKind::Department)
    {
        let meta = match selection {
            Selection::Newest => store.newest(t.name)?,
            Selection::OnOrBefore(d) => store.newest_on_or_before(t.name, *d)?,
            Selection::Exact(ids) => match ids.get(t.name) {
                Some(id) => Some(store.get(id)?.ok_or_else(|| {
                    Error::Missing(format!(
                        "snapshot {id} of {} is not in the catalog of {}",
                        t.name,
                        store.root().display()
                    ))
                })?),
                None => None,
            },
        };
        if let Some(m) = meta {
            out.insert(t.name.to_owned(), m);
        }
    }
    if !out.contains_key("hukou") {
        return Err(Error::Missing(format!(
            "no hukou snapshot in {}: ingest the household registration (hukou) first",
            store.root().display()
        )));
    }
    Ok(out)
}
