//! Monitoring runs (动态监测, rules §7), shared by `hedui monitor`, the
//! `RunMonitor` RPC, the server's schedule and `hedui demo`.
//!
//! A run over a roster on a run date:
//!
//! 1. the roster's two tables are stored as snapshots (content-addressed:
//!    the same roster is the same snapshot), and read as requests dated on
//!    the run date;
//! 2. the department snapshots are the newest of each source with `as_of`
//!    on or before the run date (contract.md); records are linked as for a
//!    check;
//! 3. the engine gathers every household's facts in one set of DataFusion
//!    queries (the same plans as a batch check);
//! 4. each household's state after its latest run *before* the run date is
//!    read from the store, and the policy's pure [`hedui_policy::monitor`]
//!    decides its alerts and its new state;
//! 5. the run, the states and the alerts are recorded in one transaction.
//!
//! A rerun of a date reads the same previous states, so it gives the same
//! alerts (and replaces the first record of that run): nothing new.
//!
//! The output is one JSON line per alert (report.md), canonical (sorted
//! keys), sorted by household, alert, member: `{"household_id",
//! "run_date", "alert", "member", "records", "detail"}`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hedui_engine::{Linker, Roster, Selection};
use hedui_model::Date;
use hedui_policy::PolicySet;
use hedui_policy::monitor::{Alert, Enrolment, MonitorState};
use hedui_sources::Normalised;
use hedui_store::{MonitorRun, RunRecord, SnapshotMeta, Store};
use rayon::prelude::*;
use serde_json::json;

use crate::check::link;

/// One household's result of a run.
#[derive(Clone, Debug)]
pub struct HouseholdRun {
    /// The household.
    pub household_id: String,
    /// Its region code.
    pub region_code: String,
    /// Its alerts, sorted.
    pub alerts: Vec<Alert>,
    /// Its state after the run (`None`: not monitored, see `error`).
    pub state: Option<MonitorState>,
    /// Why it could not be monitored, or what was left out: `(code,
    /// message)`.
    pub error: Option<(String, String)>,
}

/// Where a run's time went.
#[derive(Clone, Debug, Default)]
pub struct MonitorTimings {
    /// Choosing snapshots, preparing the matcher, linking what is new.
    pub link: Duration,
    /// The engine's gather (DataFusion and assembling facts), wall time.
    pub gather: Duration,
    /// Of it: DataFusion planning and execution, per source.
    pub queries: BTreeMap<String, Duration>,
    /// Of it: turning result rows into facts.
    pub assemble: Duration,
    /// Reading previous states, the policy, and recording the run.
    pub state_and_policy: Duration,
}

/// A recorded run.
#[derive(Clone, Debug)]
pub struct MonitorOutput {
    /// The roster's households as read (members, authorisation refs), for
    /// the audit log.
    pub roster: Vec<hedui_engine::Request>,
    /// The run as recorded.
    pub run: MonitorRun,
    /// Every household, by id.
    pub households: Vec<HouseholdRun>,
    /// The alert lines, in output order.
    pub lines: Vec<String>,
    /// Timings.
    pub timings: MonitorTimings,
}

impl MonitorOutput {
    /// Alerts per code.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        let mut c = BTreeMap::new();
        for h in &self.households {
            for a in &h.alerts {
                *c.entry(a.alert.code()).or_insert(0) += 1;
            }
        }
        c
    }

    /// Households that could not be monitored, or only in part.
    pub fn errors(&self) -> impl Iterator<Item = &HouseholdRun> {
        self.households.iter().filter(|h| h.error.is_some())
    }
}

/// The canonical JSON line of an alert (report.md).
pub fn alert_line(household_id: &str, run_date: Date, a: &Alert) -> String {
    let v = json!({
        "household_id": household_id,
        "run_date": run_date,
        "alert": a.alert.code(),
        "member": a.member,
        "records": a.records,
        "detail": a.detail,
    });
    hedui_report::canonical::canonical_value_json(&v)
}

/// A run's id: blake3 of the run date and the roster's snapshot ids.
pub fn run_id(run_date: Date, roster: &[SnapshotMeta]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"hedui monitor run v1\n");
    h.update(run_date.to_string().as_bytes());
    for m in roster {
        h.update(b"\n");
        h.update(m.source.as_bytes());
        h.update(b"=");
        h.update(m.id.to_string().as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// Stores the roster's two tables as snapshots and reads them as a roster
/// on `run_date`.
pub fn store_roster(
    store: &Store,
    households: &Normalised,
    members: &Normalised,
    run_date: Date,
) -> Result<(Roster, Vec<SnapshotMeta>)> {
    let roster = hedui_engine::roster_from_normalised(households, members, run_date)?;
    // The snapshots' as_of: the latest `since` (a date of the content).
    let as_of = roster
        .enrolled
        .values()
        .map(|e| e.since)
        .max()
        .unwrap_or(Date::from_ymd_opt(1970, 1, 1).unwrap_or_default());
    let metas = vec![
        crate::check::store_table(store, households, as_of, "monitoring roster")?,
        crate::check::store_table(store, members, as_of, "monitoring roster")?,
    ];
    Ok((roster, metas))
}

/// Decides every household's alerts from gathered facts and previous
/// states (pure but for the engine's gather): nothing is recorded.
pub fn compute(
    store: &Store,
    policies: &PolicySet,
    roster: &Roster,
    snapshots: &BTreeMap<String, SnapshotMeta>,
    linker: &Linker,
    previous: &BTreeMap<String, MonitorState>,
) -> Result<(Vec<HouseholdRun>, hedui_engine::Timings, Duration)> {
    let t = Instant::now();
    let pending = hedui_engine::block_on(hedui_engine::gather_pending(
        store,
        &roster.set,
        policies,
        snapshots,
        linker,
        hedui_engine::GatherOptions {
            with_links: false,
            ..Default::default()
        },
    ))??;
    let gather_time = t.elapsed();
    let engine_timings = pending.timings.clone();
    let regions: BTreeMap<&str, &str> = roster
        .set
        .requests
        .iter()
        .map(|r| (r.application_id.as_str(), r.region_code.as_str()))
        .collect();
    // Each household's facts built from the query results as its policy
    // runs (the batch never holds every household's facts at once).
    let out = (0..pending.len())
        .into_par_iter()
        .map(|k| {
            pending.facts(k).map(|h| match h {
                Err(r) => HouseholdRun {
                    region_code: regions
                        .get(r.application_id.as_str())
                        .copied()
                        .unwrap_or_default()
                        .to_owned(),
                    household_id: r.application_id,
                    alerts: Vec::new(),
                    state: None,
                    error: Some((r.code, r.message)),
                },
                Ok(c) => {
                    let id = c.request.application_id.clone();
                    let region = c.request.region_code.clone();
                    let fail = |code: &str, message: String| HouseholdRun {
                        household_id: id.clone(),
                        region_code: region.clone(),
                        alerts: Vec::new(),
                        state: None,
                        error: Some((code.to_owned(), message)),
                    };
                    let Some(enrolled) = roster.enrolled.get(&id) else {
                        return fail("invalid_request", "the household has no `since`".into());
                    };
                    let version = match policies.select(&region, c.household.applied_on) {
                        Ok(v) => v,
                        Err(e) => return fail(e.code(), e.to_string()),
                    };
                    match hedui_policy::monitor::monitor(
                        &c.household,
                        Enrolment {
                            since: enrolled.since,
                        },
                        previous.get(&id),
                        version,
                    ) {
                        Ok(o) => HouseholdRun {
                            household_id: id,
                            region_code: region,
                            alerts: o.alerts,
                            // A run before the household's `since` leaves
                            // no state: its first run is still to come.
                            state: o.state.run_date.is_some().then_some(o.state),
                            error: o.note.map(|n| ("partial".to_owned(), n)),
                        },
                        Err(e) => fail(e.code(), e.to_string()),
                    }
                }
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((out, engine_timings, gather_time))
}

/// Runs monitoring over a roster on `run_date` and records it (see the
/// module docs).
pub fn run_monitor(
    store: &Store,
    policies: &PolicySet,
    households: &Normalised,
    members: &Normalised,
    run_date: Date,
) -> Result<MonitorOutput> {
    run_monitor_with(store, policies, households, members, run_date, &|s| {
        Ok(std::sync::Arc::new(link(store, s, None)?))
    })
}

/// The snapshots' linker, prepared or held (the server keeps one).
pub type LinkerFor<'a> =
    dyn Fn(&BTreeMap<String, SnapshotMeta>) -> Result<std::sync::Arc<Linker>> + 'a;

/// As [`run_monitor`], with the linker from `linker_for`.
pub fn run_monitor_with(
    store: &Store,
    policies: &PolicySet,
    households: &Normalised,
    members: &Normalised,
    run_date: Date,
    linker_for: &LinkerFor<'_>,
) -> Result<MonitorOutput> {
    let mut timings = MonitorTimings::default();
    let t = Instant::now();
    let (roster, roster_snaps) = store_roster(store, households, members, run_date)?;
    let snapshots = hedui_engine::select(store, &Selection::OnOrBefore(run_date))
        .with_context(|| format!("choosing the snapshots current on {run_date}"))?;
    let linker = linker_for(&snapshots)?;
    timings.link = t.elapsed();

    let t = Instant::now();
    let ids: Vec<String> = roster
        .set
        .requests
        .iter()
        .map(|r| r.application_id.clone())
        .collect();
    let mut previous = BTreeMap::new();
    for (h, (_, state)) in store.monitor_previous(&ids, run_date)? {
        let s: MonitorState = serde_json::from_str(&state)
            .with_context(|| format!("the stored monitoring state of household {h}"))?;
        previous.insert(h, s);
    }
    let pre = t.elapsed();
    let (households, engine, gather) =
        compute(store, policies, &roster, &snapshots, &linker, &previous)?;
    let roster_requests = roster.set.requests;
    timings.gather = gather;
    timings.queries = engine.queries;
    timings.assemble = engine.assemble;

    let t = Instant::now();
    let mut lines = Vec::new();
    let mut alerts = Vec::new();
    let mut states = Vec::new();
    for h in &households {
        for a in &h.alerts {
            let line = alert_line(&h.household_id, run_date, a);
            alerts.push((
                h.household_id.clone(),
                h.region_code.clone(),
                a.alert.code().to_owned(),
                line.clone(),
            ));
            lines.push(line);
        }
        if let Some(s) = &h.state {
            states.push((h.household_id.clone(), serde_json::to_string(s)?));
        }
    }
    let run = store.monitor_record(RunRecord {
        run: MonitorRun {
            run_id: run_id(run_date, &roster_snaps),
            run_date,
            roster: roster_snaps.iter().map(|m| m.id.to_string()).collect(),
            snapshots: snapshots
                .iter()
                .map(|(s, m)| (s.clone(), m.id.to_string()))
                .collect(),
            matcher_hash: linker.model.hash().to_owned(),
            households: households.len() as u64,
            alerts: lines.len() as u64,
            recorded_at: String::new(),
        },
        states,
        alerts,
    })?;
    timings.state_and_policy = pre + t.elapsed();
    Ok(MonitorOutput {
        roster: roster_requests,
        run,
        households,
        lines,
        timings,
    })
}

/// An alert's identity for comparisons: household, alert code, member.
pub type AlertKey = (String, String, String);

fn keys(households: &[HouseholdRun]) -> std::collections::BTreeSet<AlertKey> {
    households
        .iter()
        .flat_map(|h| {
            h.alerts.iter().map(|a| {
                (
                    h.household_id.clone(),
                    a.alert.code().to_owned(),
                    a.member.clone().unwrap_or_default(),
                )
            })
        })
        .collect()
}

/// How far one run's alerts agree with those its ground truth implies.
#[derive(Clone, Debug, Default)]
pub struct RunAgreement {
    /// The run date.
    pub run_date: Option<Date>,
    /// Alerts of both.
    pub both: usize,
    /// Ours only.
    pub ours_only: Vec<AlertKey>,
    /// The truth's only.
    pub truth_only: Vec<AlertKey>,
}

impl RunAgreement {
    /// `both / (both + ours only + truth only)`: 1 when the alert sets are
    /// equal.
    pub fn rate(&self) -> f64 {
        let all = self.both + self.ours_only.len() + self.truth_only.len();
        if all == 0 {
            1.0
        } else {
            self.both as f64 / all as f64
        }
    }
}

/// Recomputes successive monitoring runs of a synthetic city with its
/// ground truth as links (every record on its true person) and compares
/// their alerts with ours. `runs`: for each run in order, our output, the
/// snapshots it read and the truth records of those snapshots
/// (`truth/records.parquet`). The truth's states carry from run to run in
/// memory; nothing is recorded.
pub fn truth_agreement(
    store: &Store,
    policies: &PolicySet,
    households: &Normalised,
    members: &Normalised,
    runs: &[(&MonitorOutput, &std::path::Path)],
) -> Result<Vec<RunAgreement>> {
    let mut previous: BTreeMap<String, MonitorState> = BTreeMap::new();
    let mut out = Vec::new();
    for (ours, truth) in runs {
        let run_date = ours.run.run_date;
        let roster = hedui_engine::roster_from_normalised(households, members, run_date)?;
        let mut snapshots = BTreeMap::new();
        for (source, id) in &ours.run.snapshots {
            let id = hedui_store::SnapshotId::parse(id)?;
            let meta = store
                .get(&id)?
                .with_context(|| format!("snapshot {id} of {source}"))?;
            snapshots.insert(source.clone(), meta);
        }
        let linker = crate::check::truth_linker(store, truth, &snapshots)?;
        let (truthful, _, _) = compute(store, policies, &roster, &snapshots, &linker, &previous)?;
        for h in &truthful {
            if let Some(s) = &h.state {
                previous.insert(h.household_id.clone(), s.clone());
            }
        }
        let (a, b) = (keys(&ours.households), keys(&truthful));
        out.push(RunAgreement {
            run_date: Some(run_date),
            both: a.intersection(&b).count(),
            ours_only: a.difference(&b).cloned().collect(),
            truth_only: b.difference(&a).cloned().collect(),
        });
    }
    Ok(out)
}

/// The generator's events between two snapshots, against run 2's alerts.
#[derive(Clone, Debug, Default)]
pub struct EventsFound {
    /// Events found among run 2's alerts.
    pub found: usize,
    /// Events that should alert (the total less `already_held`).
    pub total: usize,
    /// Condition events whose condition already held at run 1 (so, by
    /// rules §7, not new at run 2): not counted.
    pub already_held: usize,
    /// The events not found.
    pub missed: Vec<AlertKey>,
}

/// The injected events of a later snapshot (`later/truth/events.parquet`
/// of `hedui gen --later`) found among run 2's alerts; a condition event
/// whose condition already held at run 1 is set aside (not new).
pub fn events_found(
    events: &std::path::Path,
    run1: &MonitorOutput,
    run2: &MonitorOutput,
) -> Result<EventsFound> {
    use arrow::array::AsArray;
    let (_, batches) = hedui_sources::read_file(events)?;
    let have = keys(&run2.households);
    let before = keys(&run1.households);
    let mut out = EventsFound::default();
    for b in &batches {
        let col = |n: &str| -> Result<arrow::array::StringArray> {
            b.column_by_name(n)
                .and_then(|c| c.as_string_opt::<i32>().cloned())
                .with_context(|| format!("{}: no Utf8 column {n}", events.display()))
        };
        let (hh, ev, id) = (col("household_id")?, col("event")?, col("id_number")?);
        for i in 0..b.num_rows() {
            let household = hh.value(i).to_owned();
            let alert = ev.value(i).to_owned();
            // Household alerts name no member.
            let member = match alert.as_str() {
                "income_above_standard" | "gradual_exit" | "financial_assets_over_limit" => {
                    String::new()
                }
                _ => id.value(i).to_owned(),
            };
            // gradual_exit comes with income_above_standard newly holding.
            let condition = match alert.as_str() {
                "gradual_exit" => Some("income_above_standard"),
                a @ ("income_above_standard"
                | "financial_assets_over_limit"
                | "staff_relative"
                | "large_medical_expense") => Some(a),
                _ => None,
            };
            if let Some(c) = condition {
                let m = if c == "income_above_standard" {
                    String::new()
                } else {
                    member.clone()
                };
                if before.contains(&(household.clone(), c.to_owned(), m)) {
                    out.already_held += 1;
                    continue;
                }
            }
            out.total += 1;
            let key = (household, alert, member);
            if have.contains(&key) {
                out.found += 1;
            } else {
                out.missed.push(key);
            }
        }
    }
    Ok(out)
}

/// Writes alert lines (or any lines) to `path` whole or not at all: a
/// temporary file beside it, synced, renamed over it.
pub fn write_lines(path: &std::path::Path, lines: &[String]) -> Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("jsonl.tmp");
    {
        let f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = std::io::BufWriter::new(f);
        for l in lines {
            w.write_all(l.as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()
            .with_context(|| format!("writing {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
