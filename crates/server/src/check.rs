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
    /// Choosing snapshots, preparing the matcher, linking what is new.
    pub link: Duration,
    /// The engine's own split (DataFusion per source, assembling facts).
    pub gather: hedui_engine::Timings,
    /// All of gathering, wall time.
    pub gather_total: Duration,
    /// Each household's facts built from the query results, the policy,
    /// the report and the sink (writing), run together in parallel: wall
    /// time.
    pub policy_report_and_sink: Duration,
    /// Time spent inside the sink, summed over the threads.
    pub sink_thread_time: Duration,
    /// Time spent building households' facts from the query results,
    /// summed over the threads.
    pub facts_thread_time: Duration,
}

impl CheckTimings {
    /// A thread-time sum as its share of the parallel stage's wall time.
    fn share(d: Duration) -> Duration {
        d / rayon::current_num_threads().max(1) as u32
    }

    /// Wall time of policy and report alone: the parallel stage less the
    /// shares of building facts and of the sink (their thread times over
    /// the threads).
    pub fn policy_and_report(&self) -> Duration {
        self.policy_report_and_sink
            .saturating_sub(self.facts() + self.sink())
    }

    /// Wall time of the sink's share (see [`CheckTimings::policy_and_report`]).
    pub fn sink(&self) -> Duration {
        Self::share(self.sink_thread_time).min(self.policy_report_and_sink)
    }

    /// Wall time of building facts from the query results, beside the
    /// policy (see [`CheckTimings::policy_and_report`]); the grouping of
    /// the rows before it is [`hedui_engine::Timings::assemble`].
    pub fn facts(&self) -> Duration {
        Self::share(self.facts_thread_time).min(self.policy_report_and_sink)
    }
}

/// The policies in use: the reference policy, or those of a folder.
pub fn policies(dir: Option<&Path>) -> Result<PolicySet> {
    match dir {
        Some(d) => hedui_policy::load_dir(d)
            .with_context(|| format!("loading policies from {}", d.display())),
        None => Ok(PolicySet::reference()),
    }
}

/// Commits a normalised table of requests or a roster as a snapshot
/// dated `as_of` (a date of its content), from `department`.
pub(crate) fn store_table(
    store: &Store,
    n: &Normalised,
    as_of: hedui_model::Date,
    department: &str,
) -> Result<SnapshotMeta> {
    Ok(store.commit(table_input(n, as_of, department))?.meta)
}

/// The snapshot of a normalised table dated `as_of`, from `department`.
fn table_input(n: &Normalised, as_of: hedui_model::Date, department: &str) -> SnapshotInput {
    SnapshotInput {
        source: n.table.name.to_owned(),
        as_of,
        department: department.into(),
        region_code: None,
        schema_version: n.table.schema_version,
        rows: n.rows.clone(),
        quarantine: n.quarantine.clone(),
        source_files: vec![n.file.clone()],
    }
}

/// The requests of normalised `applications` and `members` tables, and
/// the two snapshots that will hold them (not committed: see
/// [`store_requests`]).
pub fn request_inputs(
    apps: &Normalised,
    members: &Normalised,
) -> Result<(RequestSet, [SnapshotInput; 2])> {
    let set = hedui_engine::requests::from_normalised(apps, members)?;
    // The snapshots' as_of: the latest applied_on of the batch (a date of
    // the content, not of the clock).
    let as_of = set
        .requests
        .iter()
        .map(|r| r.applied_on)
        .max()
        .unwrap_or(hedui_model::Date::from_ymd_opt(1970, 1, 1).unwrap_or_default());
    let inputs = [
        table_input(apps, as_of, "check requests"),
        table_input(members, as_of, "check requests"),
    ];
    Ok((set, inputs))
}

/// `DIR/<stem>.parquet`, `.arrow`, `.ipc`, `.feather` or `.csv`, the first that exists.
pub fn find(dir: &Path, stem: &str) -> Result<std::path::PathBuf> {
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
    store_requests(store, &apps, &members)
}

/// Stores normalised `applications` and `members` tables as snapshots
/// (content-addressed: a resubmitted batch is the same snapshot), so that
/// a report can name them and a replay read them back, and returns the
/// requests with the snapshots that hold them.
pub fn store_requests(
    store: &Store,
    apps: &Normalised,
    members: &Normalised,
) -> Result<(RequestSet, Vec<SnapshotMeta>)> {
    let (set, [a, m]) = request_inputs(apps, members)?;
    let metas = vec![store.commit(a)?.meta, store.commit(m)?.meta];
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
/// pins the policy version (a replay) instead of the one in force. The
/// outcomes come back in application order.
pub fn run_checks(
    store: &Store,
    requests: &RequestSet,
    request_snapshots: &[SnapshotMeta],
    selection: &Selection,
    model_hash: Option<&str>,
    policies: &PolicySet,
    policy_hash: Option<&str>,
) -> Result<(Vec<Outcome>, CheckTimings)> {
    collect(|sink| {
        run_checks_each(
            store,
            requests,
            request_snapshots,
            selection,
            model_hash,
            policies,
            policy_hash,
            sink,
        )
    })
}

/// As [`run_checks`], handing each outcome to `sink` as soon as it is
/// built (see [`check_linked_each`]).
#[allow(clippy::too_many_arguments)]
pub fn run_checks_each(
    store: &Store,
    requests: &RequestSet,
    request_snapshots: &[SnapshotMeta],
    selection: &Selection,
    model_hash: Option<&str>,
    policies: &PolicySet,
    policy_hash: Option<&str>,
    sink: &Sink<'_>,
) -> Result<CheckTimings> {
    let t = Instant::now();
    let snapshots = hedui_engine::select(store, selection)?;
    let linker = link(store, &snapshots, model_hash)?;
    let link_time = t.elapsed();
    let mut timings = check_linked_each(
        store,
        requests,
        snapshot_refs(request_snapshots),
        &snapshots,
        &linker,
        policies,
        policy_hash,
        sink,
    )?;
    timings.link = link_time;
    Ok(timings)
}

/// Where outcomes go as they are built: called from worker threads with
/// the outcome's position in application order and its canonical JSON
/// (the bytes of `<application_id>.json`, serialised once with its hash).
pub type Sink<'a> = dyn Fn(usize, Outcome, String) -> Result<()> + Sync + 'a;

/// Runs `each` with a sink that gathers the outcomes, and returns them in
/// application order.
fn collect(
    each: impl FnOnce(&Sink<'_>) -> Result<CheckTimings>,
) -> Result<(Vec<Outcome>, CheckTimings)> {
    let (v, timings) = collect_json(each)?;
    Ok((v.into_iter().map(|(o, _)| o).collect(), timings))
}

/// As [`collect`], each outcome with its canonical JSON.
fn collect_json(
    each: impl FnOnce(&Sink<'_>) -> Result<CheckTimings>,
) -> Result<(Vec<(Outcome, String)>, CheckTimings)> {
    let got = std::sync::Mutex::new(Vec::new());
    let timings = each(&|k, o, json| {
        got.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((k, o, json));
        Ok(())
    })?;
    let mut v = got.into_inner().unwrap_or_else(|p| p.into_inner());
    v.sort_by_key(|(k, _, _)| *k);
    Ok((v.into_iter().map(|(_, o, j)| (o, j)).collect(), timings))
}

/// The checks of `requests` over `snapshots`, with the links `linker`
/// names, in application order, each outcome with its canonical JSON
/// (serialised once, with its hash). The request snapshots are named by
/// their references ([`snapshot_refs`] of committed ones; the server
/// computes them from the content and commits while the check runs).
pub fn check_linked(
    store: &Store,
    requests: &RequestSet,
    request_refs: Vec<SnapshotRef>,
    snapshots: &BTreeMap<String, SnapshotMeta>,
    linker: &Linker,
    policies: &PolicySet,
    policy_hash: Option<&str>,
) -> Result<(Vec<(Outcome, String)>, CheckTimings)> {
    collect_json(|sink| {
        check_linked_each(
            store,
            requests,
            request_refs,
            snapshots,
            linker,
            policies,
            policy_hash,
            sink,
        )
    })
}

/// How a report names snapshots.
pub fn snapshot_refs<'a>(metas: impl IntoIterator<Item = &'a SnapshotMeta>) -> Vec<SnapshotRef> {
    metas
        .into_iter()
        .map(|m| SnapshotRef {
            source: m.source.clone(),
            id: m.id.to_string(),
            as_of: m.as_of,
        })
        .collect()
}

/// The checks of `requests` over `snapshots`: the facts of every
/// household gathered in one set of queries, then the policy and the
/// report of each household in parallel, each outcome handed to `sink` as
/// soon as it is built and the household's facts dropped, so a batch
/// never holds all its reports.
#[allow(clippy::too_many_arguments)]
pub fn check_linked_each(
    store: &Store,
    requests: &RequestSet,
    request_refs: Vec<SnapshotRef>,
    snapshots: &BTreeMap<String, SnapshotMeta>,
    linker: &Linker,
    policies: &PolicySet,
    policy_hash: Option<&str>,
    sink: &Sink<'_>,
) -> Result<CheckTimings> {
    let mut timings = CheckTimings::default();

    let t = Instant::now();
    let pending = hedui_engine::block_on(hedui_engine::gather_pending(
        store,
        requests,
        policies,
        snapshots,
        linker,
        hedui_engine::GatherOptions::default(),
    ))??;
    timings.gather = pending.timings.clone();
    timings.gather_total = t.elapsed();

    let mut refs = snapshot_refs(snapshots.values());
    refs.extend(request_refs);
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
    let sinking = std::sync::atomic::AtomicU64::new(0);
    let building = std::sync::atomic::AtomicU64::new(0);
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    (0..pending.len())
        .into_par_iter()
        .try_for_each(|k| -> Result<()> {
            let tf = Instant::now();
            let h = pending.facts(k)?;
            building.fetch_add(nanos(tf.elapsed()), std::sync::atomic::Ordering::Relaxed);
            let (outcome, json) = match h {
                Err(r) => {
                    let e = error_report(&r.application_id, &r.code, &r.message);
                    let json = e.to_json();
                    (Outcome::Error(e), json)
                }
                Ok(c) => {
                    let findings = match pinned {
                        Some(v) => hedui_policy::evaluate(&c.household, v),
                        None => hedui_policy::check(policies, &c.household),
                    };
                    let links: Vec<LinkEntry> = c
                        .links
                        .into_iter()
                        .map(|l| LinkEntry {
                            source: l.source,
                            record_id: l.record_id,
                            member: l.member,
                            method: l.method,
                            score: l.score,
                            counted: l.counted,
                            evidence: l.evidence.into_value(),
                        })
                        .collect();
                    Outcome::of_check_json(&c.request.application_id, &findings, links, &inputs)
                }
            };
            let ts = Instant::now();
            let r = sink(k, outcome, json);
            sinking.fetch_add(nanos(ts.elapsed()), std::sync::atomic::Ordering::Relaxed);
            r
        })?;
    timings.policy_report_and_sink = t.elapsed();
    timings.sink_thread_time = Duration::from_nanos(sinking.into_inner());
    timings.facts_thread_time = Duration::from_nanos(building.into_inner());
    Ok(timings)
}

/// A linker whose links are a synthetic city's ground truth (each record
/// placed on its true person, from `truth` = `truth/records.parquet`),
/// stored under the key `truth` beside the matcher's links, for
/// `snapshots`.
pub fn truth_linker(
    store: &Store,
    truth: &Path,
    snapshots: &BTreeMap<String, SnapshotMeta>,
) -> Result<Linker> {
    use arrow::array::{Array, AsArray, BooleanArray, Float64Array, RecordBatch, StringArray};
    use std::collections::HashMap;
    use std::sync::Arc;

    let (_, truth) = hedui_sources::read_file(truth)?;
    let mut owner: HashMap<(String, String), String> = HashMap::new();
    for b in &truth {
        let col = |n: &str| {
            b.column_by_name(n)
                .and_then(|c| c.as_string_opt::<i32>().cloned())
        };
        let (Some(src), Some(rid), Some(person)) =
            (col("source"), col("record_id"), col("person_key"))
        else {
            anyhow::bail!("truth/records.parquet lacks source, record_id or person_key");
        };
        for i in 0..b.num_rows() {
            if person.is_valid(i) {
                owner.insert(
                    (src.value(i).to_owned(), rid.value(i).to_owned()),
                    person.value(i).to_owned(),
                );
            }
        }
    }
    let mut linker = link(store, snapshots, None)?;
    linker.key = "truth".into();
    for meta in snapshots.values().filter(|m| m.source != "hukou") {
        let mut rids = Vec::new();
        for b in store.read_rows(&meta.id)? {
            if let Some(r) = b
                .column_by_name("record_id")
                .and_then(|c| c.as_string_opt::<i32>())
            {
                rids.extend(r.iter().flatten().map(str::to_owned));
            }
        }
        let person: Vec<Option<&str>> = rids
            .iter()
            .map(|r| {
                owner
                    .get(&(meta.source.clone(), r.clone()))
                    .map(String::as_str)
            })
            .collect();
        let n = rids.len();
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("source", arrow::datatypes::DataType::Utf8, false),
            arrow::datatypes::Field::new("record_id", arrow::datatypes::DataType::Utf8, false),
            arrow::datatypes::Field::new("person_id", arrow::datatypes::DataType::Utf8, true),
            arrow::datatypes::Field::new("method", arrow::datatypes::DataType::Utf8, false),
            arrow::datatypes::Field::new("counted", arrow::datatypes::DataType::Boolean, false),
            arrow::datatypes::Field::new(
                "match_probability",
                arrow::datatypes::DataType::Float64,
                true,
            ),
            arrow::datatypes::Field::new("explanation", arrow::datatypes::DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![meta.source.as_str(); n])),
                Arc::new(StringArray::from(
                    rids.iter().map(String::as_str).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(person.clone())),
                Arc::new(StringArray::from(
                    person
                        .iter()
                        .map(|p| if p.is_some() { "exact" } else { "unlinked" })
                        .collect::<Vec<_>>(),
                )),
                Arc::new(BooleanArray::from(
                    person.iter().map(Option::is_some).collect::<Vec<_>>(),
                )),
                Arc::new(Float64Array::from(vec![1.0; n])),
                Arc::new(StringArray::from(vec!["{\"truth\":true}"; n])),
            ],
        )?;
        store.put_links(&meta.id, "truth", &[batch])?;
    }
    hedui_engine::ensure_views(store, "truth", snapshots)?;
    Ok(linker)
}

/// How far the determinations agree with those recomputed from the
/// generator's ground truth.
#[derive(Debug, Default)]
pub struct Agreement {
    /// Households compared (reports on both sides).
    pub compared: usize,
    /// Households with the same determinations.
    pub agreed: usize,
    /// Those that differ: application, ours, from the truth.
    pub differing: Vec<(String, Vec<String>, Vec<String>)>,
}

/// Recomputes the checks with the ground truth of a synthetic city as
/// links (each record placed on its true person: `truth/records.parquet`),
/// and compares the determinations with `outcomes`. The truth links are
/// stored under the key `truth`, beside the matcher's.
pub fn truth_agreement(
    store: &Store,
    city: &Path,
    requests: &RequestSet,
    request_snapshots: &[SnapshotMeta],
    outcomes: &[Outcome],
) -> Result<Agreement> {
    let snapshots = hedui_engine::select(store, &Selection::Newest)?;
    let linker = truth_linker(store, &city.join("truth/records.parquet"), &snapshots)?;
    let policies = PolicySet::reference();
    let (truthful, _) = check_linked(
        store,
        requests,
        snapshot_refs(request_snapshots),
        &snapshots,
        &linker,
        &policies,
        None,
    )?;
    let ours: BTreeMap<&str, &Outcome> = outcomes.iter().map(|o| (o.application_id(), o)).collect();
    let mut a = Agreement::default();
    for (t, _) in &truthful {
        let (Some(Outcome::Report(o)), Outcome::Report(t)) = (ours.get(t.application_id()), t)
        else {
            continue;
        };
        let d = |r: &hedui_report::Report| {
            r.determinations
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
        };
        a.compared += 1;
        if d(o) == d(t) {
            a.agreed += 1;
        } else {
            a.differing.push((o.application_id.clone(), d(o), d(t)));
        }
    }
    Ok(a)
}

/// A replay's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// The report's application.
    pub application_id: String,
    /// The report's region (for a caller's scope).
    pub region_code: String,
    /// The original report's hash.
    pub report_hash: String,
    /// Where the recomputed report differs (JSON paths with both values);
    /// empty when it is identical.
    pub differences: Vec<String>,
}

/// The report a replay starts from, read and checked: the report, and
/// the snapshots it names by source.
pub fn replay_source(text: &str) -> Result<(hedui_report::Report, BTreeMap<String, SnapshotId>)> {
    let original = match Outcome::from_json(text).context("not a hedui report")? {
        Outcome::Report(r) => r,
        Outcome::Error(e) => anyhow::bail!(
            "an error object ({}), not a report: nothing to replay",
            e.code
        ),
    };
    let mut ids: BTreeMap<String, SnapshotId> = BTreeMap::new();
    for s in &original.inputs.snapshots {
        ids.insert(
            s.source.clone(),
            SnapshotId::parse(&s.id).with_context(|| format!("snapshot id {:?}", s.id))?,
        );
    }
    Ok((*original, ids))
}

/// Recomputes a report (its canonical JSON, as written) from the
/// snapshots, policy version and matcher it names, and compares.
pub fn replay(store: &Store, policies: &PolicySet, text: &str) -> Result<Replayed> {
    let stored: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let (original, ids) = replay_source(text)?;
    let (Some(apps), Some(members)) = (
        ids.get("applications").cloned(),
        ids.get("members").cloned(),
    ) else {
        anyhow::bail!("the report names no request snapshots (applications, members)");
    };
    let mut requests = read_stored_requests(store, &apps, &members)?;
    requests
        .requests
        .retain(|r| r.application_id == original.application_id);
    requests
        .rejected
        .retain(|r| r.application_id == original.application_id);
    let request_snaps = vec![
        store.get(&apps)?.context("request snapshot missing")?,
        store.get(&members)?.context("request snapshot missing")?,
    ];
    let (outcomes, _) = run_checks(
        store,
        &requests,
        &request_snaps,
        &Selection::Exact(ids),
        Some(&original.inputs.matcher.hash),
        policies,
        Some(&original.inputs.policy.hash),
    )?;
    let Some(again) = outcomes
        .into_iter()
        .find(|o| o.application_id() == original.application_id)
    else {
        anyhow::bail!(
            "application {} is not in the request snapshots",
            original.application_id
        );
    };
    let recomputed: serde_json::Value = serde_json::from_str(&again.to_json())?;
    Ok(Replayed {
        differences: hedui_report::diff(&stored, &recomputed)
            .iter()
            .map(ToString::to_string)
            .collect(),
        application_id: original.application_id,
        region_code: original.region_code,
        report_hash: original.report_hash,
    })
}
