//! The check pipeline shared by `hedui verify`, `hedui replay` and `hedui
//! demo`: requests stored as snapshots, snapshots chosen, records linked,
//! facts gathered (DataFusion), the policy applied, reports built.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hedui_engine::{Linker, RequestSet, Selection};
use hedui_matching::MatchSettings;
use hedui_policy::PolicySet;
use hedui_report::{LinkEntry, Outcome, ReportInputs, SnapshotRef, error_report};
use hedui_sources::{Normalised, TableSpec, tables};
use hedui_store::{SnapshotId, SnapshotInput, SnapshotMeta, Store};
use rayon::prelude::*;

/// Where a check's time went.
#[derive(Debug, Default)]
pub struct CheckTimings {
    pub link: Duration,
    pub gather: hedui_engine::Timings,
    pub gather_total: Duration,
    pub policy_and_report: Duration,
}

/// The policies in use: the reference policy, or those of a folder.
pub fn policies(dir: Option<&Path>) -> Result<PolicySet> {
    match dir {
        Some(d) => hedui_policy::load_dir(d)
            .with_context(|| format!("loading policies from {}", d.display())),
        None => Ok(PolicySet::reference()),
    }
}

/// Commits a request table as a snapshot (content-addressed: a
/// resubmitted batch is the same snapshot), so a report can name it and a
/// replay can read it back.
fn store_request_table(
    store: &Store,
    n: &Normalised,
    applied_max: hedui_model::Date,
) -> Result<SnapshotMeta> {
    let input = SnapshotInput {
        source: n.table.name.to_owned(),
        as_of: applied_max,
        department: "check requests".into(),
        region_code: None,
        schema_version: n.table.schema_version,
        rows: n.rows.clone(),
        quarantine: n.quarantine.clone(),
        source_files: vec![n.file.clone()],
    };
    Ok(store.commit(input)?.meta)
}

fn find(dir: &Path, stem: &str) -> Result<std::path::PathBuf> {
    ["parquet", "arrow", "ipc", "feather", "csv"]
        .iter()
        .map(|e| dir.join(format!("{stem}.{e}")))
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "{}: no {stem}.parquet, {stem}.arrow or {stem}.csv",
                dir.display()
            )
        })
}

/// Loads a request folder, stores its two tables as snapshots and returns
/// the requests with the snapshots that hold them.
pub fn load_and_store_requests(
    store: &Store,
    dir: &Path,
) -> Result<(RequestSet, Vec<SnapshotMeta>)> {
    let apps = hedui_sources::load_file(&tables::applications::SPEC, &find(dir, "applications")?)?;
    let members = hedui_sources::load_file(&tables::members::SPEC, &find(dir, "members")?)?;
    let set = hedui_engine::requests::from_normalised(&apps, &members)?;
    // The snapshots' as_of: the latest applied_on of the batch (a date of
    // the content, not of the clock).
    let as_of = set
        .requests
        .iter()
        .map(|r| r.applied_on)
        .max()
        .unwrap_or(hedui_model::Date::from_ymd_opt(1970, 1, 1).unwrap_or_default());
    let metas = vec![
        store_request_table(store, &apps, as_of)?,
        store_request_table(store, &members, as_of)?,
    ];
    Ok((set, metas))
}

/// Reads request snapshots back (a replay).
pub fn read_stored_requests(
    store: &Store,
    apps: &SnapshotId,
    members: &SnapshotId,
) -> Result<RequestSet> {
    let read = |id: &SnapshotId, table: &'static TableSpec| -> Result<Normalised> {
        let rows = store.read_rows(id)?;
        let quarantine = store.read_quarantine(id)?;
        Ok(Normalised {
            table,
            file: id.to_string(),
            accepted: rows.iter().map(|b| b.num_rows()).sum(),
            quarantined: quarantine.iter().map(|b| b.num_rows()).sum(),
            rows,
            quarantine,
            reasons: BTreeMap::new(),
        })
    };
    Ok(hedui_engine::requests::from_normalised(
        &read(apps, &tables::applications::SPEC)?,
        &read(members, &tables::members::SPEC)?,
    )?)
}

/// Links what needs linking and returns the linker.
pub fn link(
    store: &Store,
    snapshots: &BTreeMap<String, SnapshotMeta>,
    model_hash: Option<&str>,
) -> Result<Linker> {
    let linker = hedui_engine::prepare(store, snapshots, &MatchSettings::default(), model_hash)
        .context("preparing identity resolution")?;
    hedui_engine::ensure_links(store, &linker, snapshots).context("linking records to persons")?;
    Ok(linker)
}

/// Runs the checks of `requests` over the chosen snapshots; `policy_hash`
/// pins the policy version (a replay) instead of the one in force.
pub fn run_checks(
    store: &Store,
    requests: &RequestSet,
    request_snapshots: &[SnapshotMeta],
    selection: &Selection,
    model_hash: Option<&str>,
    policies: &PolicySet,
    policy_hash: Option<&str>,
) -> Result<(Vec<Outcome>, CheckTimings)> {
    let mut timings = CheckTimings::default();
    let t = Instant::now();
    let snapshots = hedui_engine::select(store, selection)?;
    let linker = link(store, &snapshots, model_hash)?;
    timings.link = t.elapsed();

    let t = Instant::now();
    let rt = hedui_engine::runtime()?;
    let gathered = rt.block_on(hedui_engine::gather(
        store, requests, policies, &snapshots, &linker,
    ))?;
    timings.gather = gathered.timings;
    timings.gather_total = t.elapsed();

    let mut refs: Vec<SnapshotRef> = snapshots
        .values()
        .chain(request_snapshots)
        .map(|m| SnapshotRef {
            source: m.source.clone(),
            id: m.id.to_string(),
            as_of: m.as_of,
        })
        .collect();
    refs.sort();
    let inputs = ReportInputs {
        snapshots: refs,
        matcher_hash: linker.model.hash().to_owned(),
        engine_version: hedui_engine::ENGINE_VERSION.to_owned(),
    };
    let pinned = match policy_hash {
        Some(h) => Some(
            policies
                .by_hash(h)
                .with_context(|| format!("policy version {h} is not among the policies loaded"))?,
        ),
        None => None,
    };
    let t = Instant::now();
    let outcomes: Vec<Outcome> = gathered
        .households
        .par_iter()
        .map(|h| match h {
            Err(r) => Outcome::Error(error_report(&r.application_id, &r.code, &r.message)),
            Ok(c) => {
                let findings = match pinned {
                    Some(v) => hedui_policy::evaluate(&c.household, v),
                    None => hedui_policy::check(policies, &c.household),
                };
                let links: Vec<LinkEntry> = c
                    .links
                    .iter()
                    .map(|l| LinkEntry {
                        source: l.source.clone(),
                        record_id: l.record_id.clone(),
                        member: l.member.clone(),
                        method: l.method.clone(),
                        score: l.score,
                        counted: l.counted,
                        evidence: l.evidence.clone(),
                    })
                    .collect();
                Outcome::of_check(&c.request.application_id, &findings, &links, &inputs)
            }
        })
        .collect();
    timings.policy_and_report = t.elapsed();
    Ok((outcomes, timings))
}
