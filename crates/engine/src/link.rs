//! Identity resolution wired into the store: every department snapshot's
//! records linked to persons, the links stored with the snapshot.
//!
//! - The **registry** is built from the hukou snapshot in use; its hash
//!   names it.
//! - The **matcher** (a trained [`Model`]) is trained once per registry and
//!   settings, on the records of the department snapshots present when it
//!   is first needed (at most [`TRAINING_RECORDS_PER_SOURCE`] of each, a
//!   deterministic spread sample), and kept as the artifact `matchers/<model hash>.json`
//!   (with an index entry from registry + settings to that hash). Reports
//!   cite the model hash; a replay loads the model by it.
//! - **Links** of a snapshot are stored under the key
//!   `<registry hash>-<model hash>` (both shortened to 16 hex digits):
//!   linking a new snapshot of one source touches that source's records
//!   only; a new hukou snapshot or new settings give a new key, so every
//!   source is linked again.

use std::collections::BTreeMap;

use hedui_matching::{MatchSettings, Model, Records, Registry};
use hedui_store::{SnapshotMeta, Store};

use crate::error::{Error, Result};

/// Kind of the trained-matcher artifacts.
pub const MATCHERS: &str = "matchers";
const MATCHER_INDEX: &str = "matcher-index";

/// The registry and matcher in use, and the key of their links.
#[derive(Debug)]
pub struct Linker {
    /// The person registry (from hukou).
    pub registry: Registry,
    /// The trained matcher.
    pub model: Model,
    /// Key of the links in the store.
    pub key: String,
}

fn links_key(registry: &Registry, model: &Model) -> String {
    format!("{}-{}", &registry.hash()[..16], &model.hash()[..16])
}

/// Loads a trained matcher by its hash.
pub fn load_model(store: &Store, hash: &str) -> Result<Model> {
    let bytes = store
        .get_artifact(MATCHERS, &format!("{hash}.json"))?
        .ok_or_else(|| {
            Error::Missing(format!(
                "matcher {hash} is not in {}",
                store.root().display()
            ))
        })?;
    Ok(Model::from_json(&String::from_utf8_lossy(&bytes))?)
}

/// Batches of a snapshot turned into records at a time: bounded memory
/// for the Arrow side, enough work for every core.
const READ_GROUP: usize = 16;

/// Records linked at a time: the links of a piece are written out before
/// the next is computed.
pub const LINK_PIECE: usize = 1 << 20;

/// Reads a snapshot's rows as the matcher's records: only the columns the
/// matcher reads, a few batches at a time, so the Arrow form of a large
/// extract is never held whole beside its records. `take` says how many
/// rows of the head of each batch to keep.
fn read_records(
    store: &Store,
    meta: &SnapshotMeta,
    capacity: usize,
    take: impl Fn(usize) -> usize,
) -> Result<Records> {
    let cols = Records::columns(&meta.source);
    let mut records = Records::with_capacity(&meta.source, capacity);
    let mut group = Vec::with_capacity(READ_GROUP);
    for batch in store.rows_reader(&meta.id, Some(&cols))? {
        let b = batch?;
        let keep = take(b.num_rows()).min(b.num_rows());
        group.push(if keep == b.num_rows() {
            b
        } else {
            b.slice(0, keep)
        });
        if group.len() == READ_GROUP {
            records.extend_from_batches(&group)?;
            group.clear();
        }
    }
    records.extend_from_batches(&group)?;
    Ok(records)
}

/// Every record of a snapshot.
fn records_of(store: &Store, meta: &SnapshotMeta) -> Result<Records> {
    read_records(store, meta, usize::try_from(meta.rows).unwrap_or(0), |n| n)
}

/// Most records of one source the matcher trains on. Its EM and u
/// estimates sample far fewer pairs; holding every record of every source
/// of a million-person city at once (47M records) does not fit in memory.
pub const TRAINING_RECORDS_PER_SOURCE: usize = 500_000;

/// A deterministic spread sample of a snapshot's records for training:
/// the same share of the head of every batch (batches cover contiguous
/// ranges of the id order, so the sample spans the whole id space).
fn training_records_of(store: &Store, meta: &SnapshotMeta) -> Result<Records> {
    let total = usize::try_from(meta.rows).unwrap_or(usize::MAX);
    if total <= TRAINING_RECORDS_PER_SOURCE {
        return records_of(store, meta);
    }
    read_records(store, meta, TRAINING_RECORDS_PER_SOURCE, |n| {
        (n * TRAINING_RECORDS_PER_SOURCE).div_ceil(total)
    })
}

/// The registry of the chosen hukou snapshot and the matcher for it:
/// `model_hash` names a stored one (a replay); otherwise the one trained
/// for this registry and settings, trained now if there is none yet.
pub fn prepare(
    store: &Store,
    snapshots: &BTreeMap<String, SnapshotMeta>,
    settings: &MatchSettings,
    model_hash: Option<&str>,
) -> Result<Linker> {
    let hukou = snapshots
        .get("hukou")
        .ok_or_else(|| Error::Missing("no hukou snapshot".into()))?;
    let registry = Registry::from_hukou(&store.read_rows(&hukou.id)?)?;
    let model = match model_hash {
        Some(h) => load_model(store, h)?,
        None => {
            let settings_json = serde_json::to_string(settings).unwrap_or_default();
            let index_key =
                blake3::hash(format!("{}\n{settings_json}", registry.hash()).as_bytes())
                    .to_hex()
                    .to_string();
            match store.get_artifact(MATCHER_INDEX, &index_key)? {
                Some(h) => load_model(store, String::from_utf8_lossy(&h).trim())?,
                None => {
                    let mut records = snapshots
                        .values()
                        .filter(|m| m.source != "hukou")
                        .map(|m| training_records_of(store, m))
                        .collect::<Result<Vec<_>>>()?;
                    // With no department record yet (a registry alone),
                    // the matcher learns from the registry's own records:
                    // declared members still need placing.
                    // Such a model is kept (a report may cite it) but not
                    // indexed: it is trained again once records arrive.
                    let registry_only = records.iter().all(|r| r.is_empty());
                    if registry_only {
                        records = vec![records_of(store, hukou)?];
                    }
                    let refs: Vec<&Records> = records.iter().collect();
                    let model = Model::train(&registry, &refs, settings.clone())?;
                    store.put_artifact(
                        MATCHERS,
                        &format!("{}.json", model.hash()),
                        model.to_json().as_bytes(),
                    )?;
                    if !registry_only {
                        store.put_artifact(MATCHER_INDEX, &index_key, model.hash().as_bytes())?;
                    }
                    model
                }
            }
        }
    };
    let key = links_key(&registry, &model);
    Ok(Linker {
        registry,
        model,
        key,
    })
}

/// How many records of each source were linked now (sources whose links
/// were already stored are absent).
pub type Linked = BTreeMap<String, usize>;

/// Links every chosen department snapshot that has no links under the
/// linker's key yet, and stores them; then builds the linked view of each
/// that has none (see [`crate::view`]).
pub fn ensure_links(
    store: &Store,
    linker: &Linker,
    snapshots: &BTreeMap<String, SnapshotMeta>,
) -> Result<Linked> {
    let mut done = Linked::new();
    for meta in snapshots.values() {
        if meta.source == "hukou" || store.has_links(&meta.id, &linker.key)? {
            continue;
        }
        let records = records_of(store, meta)?;
        // Opened on the first piece: its schema carries the hashes.
        let mut writer = None;
        linker
            .model
            .resolve_chunked(&linker.registry, &records, LINK_PIECE, |piece| {
                let batch = piece.to_record_batch()?;
                let w = match &mut writer {
                    Some(w) => w,
                    None => {
                        writer.insert(store.links_writer(&meta.id, &linker.key, batch.schema())?)
                    }
                };
                w.write(&batch)?;
                Ok::<(), Error>(())
            })?;
        if let Some(w) = writer {
            w.finish()?;
        }
        done.insert(meta.source.clone(), records.len());
    }
    crate::view::ensure_views(store, &linker.key, snapshots)?;
    Ok(done)
}
