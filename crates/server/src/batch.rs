//! Batches for verification centres: `SubmitBatch` (persisted before it is
//! answered), the runner that works through the jobs database (and takes up
//! an interrupted batch after a restart), `WatchBatch`, `GetReport` and
//! `ListBatchReports`. See [`crate::jobs`] for why a resumed batch gives
//! the reports of an uninterrupted one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::SchemaRef;
use hedui_engine::{RequestSet, Selection};
use hedui_proto::v1;
use hedui_report::Outcome;
use hedui_sources::{Normalised, tables};
use hedui_store::AuditEvent;
use tonic::{Request, Response, Status};

use crate::check;
use crate::config::{Client, Role};
use crate::jobs::{Batch, BatchState, Jobs, StoredOutcome};
use crate::service::{State, report_message, request_tables};

/// Reports per `ListBatchReports` page when the caller names no limit.
const PAGE: usize = 500;

/// An Arrow IPC stream's schema and batches; the error names the field.
pub(crate) fn decode_ipc(
    field: &str,
    bytes: &[u8],
) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
    let bad = |e: &dyn std::fmt::Display| {
        Status::invalid_argument(format!("{field}: is not an Arrow IPC stream ({e})"))
    };
    let reader = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .map_err(|e| bad(&e))?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| bad(&e))?;
    Ok((schema, batches))
}

/// Encodes a table as one Arrow IPC stream (what `SubmitBatch` carries).
pub fn encode_ipc(schema: &SchemaRef, batches: &[RecordBatch]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut out, schema)?;
        for b in batches {
            w.write(b)?;
        }
        w.finish()?;
    }
    Ok(out)
}

/// Refuses a batch in which a household carries no authorisation
/// (授权书): no one's data is queried without one.
pub(crate) fn require_authorisations(
    apps: &[RecordBatch],
    schema: &SchemaRef,
    field: &str,
    key: &str,
) -> Result<(), Status> {
    let (Ok(auth), Ok(app)) = (schema.index_of("authorization_ref"), schema.index_of(key)) else {
        // The normaliser names the missing column.
        return Ok(());
    };
    let mut row = 0usize;
    for b in apps {
        let a = b.column(auth);
        let texts = a.as_any().downcast_ref::<StringArray>();
        let ids = b.column(app).as_any().downcast_ref::<StringArray>();
        for i in 0..b.num_rows() {
            let blank = a.is_null(i) || texts.is_some_and(|t| t.value(i).trim().is_empty());
            if blank {
                let which = ids
                    .filter(|ids| !ids.is_null(i))
                    .map(|ids| format!(" ({key} {})", ids.value(i)))
                    .unwrap_or_default();
                return Err(Status::invalid_argument(format!(
                    "{field} row {}{which}: authorization_ref is required — every \
                     household carries the authorisation (授权书) its query is made under",
                    row + i + 1
                )));
            }
        }
        row += b.num_rows();
    }
    Ok(())
}

/// The normalised request tables of a submission.
fn intake(r: &v1::SubmitBatchRequest) -> Result<(Normalised, Normalised), Status> {
    if !r.households.is_empty() {
        return request_tables(&r.households).map_err(|e| Status::invalid_argument(e.to_string()));
    }
    let (aschema, abatches) = decode_ipc("applications_ipc", &r.applications_ipc)?;
    let (mschema, mbatches) = decode_ipc("members_ipc", &r.members_ipc)?;
    require_authorisations(&abatches, &aschema, "applications_ipc", "application_id")?;
    let norm = |field: &str, spec, schema: &SchemaRef, batches: &[RecordBatch]| {
        hedui_sources::normalise(spec, field, schema, batches)
            .map_err(|e| Status::invalid_argument(format!("{field}: {e}")))
    };
    Ok((
        norm(
            "applications_ipc",
            &tables::applications::SPEC,
            &aschema,
            &abatches,
        )?,
        norm("members_ipc", &tables::members::SPEC, &mschema, &mbatches)?,
    ))
}

/// The region codes of a batch's households, distinct and sorted.
fn regions(set: &RequestSet) -> Vec<String> {
    let mut r: Vec<String> = set.requests.iter().map(|q| q.region_code.clone()).collect();
    r.sort();
    r.dedup();
    r
}

/// The batch runner: works through unfinished batches, oldest first,
/// until the server stops. Runs on its own thread (the checks use the
/// engine's runtime and rayon).
pub(crate) fn runner(state: &State) {
    let mut seen = state.rings();
    while !state.stopping() {
        let batches = match state.jobs.unfinished() {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "reading the jobs database");
                Vec::new()
            }
        };
        let mut failed = false;
        for b in &batches {
            if state.stopping() {
                break;
            }
            if let Err(e) = run_batch(state, b) {
                tracing::error!(batch = %b.id, error = %format!("{e:#}"), "batch stopped; it is retried");
                failed = true;
            }
        }
        if batches.is_empty() || failed {
            seen = state.wait_for_ring(seen, Duration::from_secs(if failed { 10 } else { 60 }));
        }
    }
    tracing::info!("batch runner stopped");
}

/// Runs a batch's households that have no outcome yet, a chunk at a time.
fn run_batch(state: &State, b: &Batch) -> anyhow::Result<()> {
    let store = &state.store;
    let snapshots = hedui_engine::select(store, &Selection::Exact(b.snapshots.clone()))?;
    let pinned = (!b.matcher_hash.is_empty()).then_some(b.matcher_hash.as_str());
    let linker = state.linker_for(&snapshots, pinned)?;
    state.jobs.start(&b.id, linker.model.hash())?;
    let set = check::read_stored_requests(store, &b.applications, &b.members)?;
    let request_snaps = vec![
        store
            .get(&b.applications)?
            .context("the batch's applications snapshot is missing")?,
        store
            .get(&b.members)?
            .context("the batch's members snapshot is missing")?,
    ];
    let done = state.jobs.done_applications(&b.id)?;
    let requests: Vec<_> = set
        .requests
        .into_iter()
        .filter(|r| !done.contains(&r.application_id))
        .collect();
    let rejected: Vec<_> = set
        .rejected
        .into_iter()
        .filter(|r| !done.contains(&r.application_id))
        .collect();
    tracing::info!(batch = %b.id, pending = requests.len() + rejected.len(), total = b.total, "running batch");
    let mut chunks: Vec<RequestSet> = requests
        .chunks(state.batch_chunk)
        .map(|c| RequestSet {
            requests: c.to_vec(),
            rejected: Vec::new(),
        })
        .collect();
    if !rejected.is_empty() {
        chunks.push(RequestSet {
            requests: Vec::new(),
            rejected,
        });
    }
    for chunk in chunks {
        if state.stopping() {
            return Ok(());
        }
        // Every outcome recorded within a moment of being built, a group
        // at a time (one audit append and one jobs transaction each): a
        // kill loses at most the groups in flight, and the chunk is
        // gathered once whatever its size.
        let by_app: BTreeMap<&str, &hedui_engine::requests::Request> = chunk
            .requests
            .iter()
            .map(|r| (r.application_id.as_str(), r))
            .collect();
        let pending: std::sync::Mutex<Vec<(Outcome, String)>> = std::sync::Mutex::new(Vec::new());
        let flush = |group: Vec<(Outcome, String)>| record_group(state, b, &by_app, group);
        check::check_linked_each(
            store,
            &chunk,
            check::snapshot_refs(&request_snaps),
            &snapshots,
            &linker,
            &state.policies,
            None,
            &|_, o, json| {
                let full = {
                    let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
                    p.push((o, json));
                    if p.len() >= RECORD_GROUP {
                        std::mem::take(&mut *p)
                    } else {
                        Vec::new()
                    }
                };
                if full.is_empty() { Ok(()) } else { flush(full) }
            },
        )?;
        flush(pending.into_inner().unwrap_or_else(|e| e.into_inner()))?;
        if let Some(pause) = chunk_pause() {
            std::thread::sleep(pause);
        }
    }
    // Marks the batch done (also one with no household left to run).
    state.jobs.record(&b.id, &[])?;
    tracing::info!(batch = %b.id, "batch done");
    Ok(())
}

/// Fault injection for tests: `HEDUI_BATCH_CHUNK_PAUSE_MS` makes the
/// runner pause after recording each chunk, so that a test can kill the
/// server between chunks (a chunk of a few households takes milliseconds
/// with the point indexes). Unset in production.
fn chunk_pause() -> Option<Duration> {
    std::env::var("HEDUI_BATCH_CHUNK_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

/// Outcomes recorded together (one audit append, one jobs transaction).
const RECORD_GROUP: usize = 1_000;

/// Audits and records a group of a batch's outcomes. Logged before the
/// outcomes commit: a kill between the two computes the group again and
/// logs it twice, never not at all.
fn record_group(
    state: &State,
    b: &Batch,
    by_app: &BTreeMap<&str, &hedui_engine::requests::Request>,
    group: Vec<(Outcome, String)>,
) -> anyhow::Result<()> {
    if group.is_empty() {
        return Ok(());
    }
    let mut events = Vec::with_capacity(group.len());
    for (o, _) in &group {
        let req = by_app.get(o.application_id());
        let ids: Vec<String> = req
            .map(|r| r.members.iter().map(|m| m.id_text()).collect())
            .unwrap_or_default();
        events.push(AuditEvent {
            caller: b.caller.clone(),
            role: Role::Verify.code().into(),
            action: "batch_check".into(),
            outcome: match o {
                Outcome::Report(_) => "ok".into(),
                Outcome::Error(e) => format!("ok:not_checkable:{}", e.code),
            },
            purpose: b.purpose.clone(),
            authorization_ref: req.map(|r| r.authorization_ref.clone()).unwrap_or_default(),
            application_id: o.application_id().to_owned(),
            person_hashes: state
                .person_hashes(&ids)
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?,
            report_hash: report_hash(o),
            detail: format!("batch {}", b.id),
        });
    }
    state.store.audit_append_all(events)?;
    let stored: Vec<StoredOutcome> = group
        .into_iter()
        .map(|(o, json)| StoredOutcome {
            application_id: o.application_id().to_owned(),
            failed: matches!(o, Outcome::Error(_)),
            report_hash: report_hash(&o),
            json,
        })
        .collect();
    state.jobs.record(&b.id, &stored)?;
    Ok(())
}

/// The report's hash; empty for an error object.
pub(crate) fn report_hash(o: &Outcome) -> String {
    match o {
        Outcome::Report(r) => r.report_hash.clone(),
        Outcome::Error(_) => String::new(),
    }
}

fn progress(b: &Batch) -> v1::BatchProgress {
    v1::BatchProgress {
        batch_id: b.id.clone(),
        state: b.state.code().into(),
        total: b.total,
        done: b.done,
        failed: b.failed,
    }
}

/// The `Batches` service.
#[derive(Debug, Clone)]
pub(crate) struct Batches(pub(crate) Arc<State>);

/// The batch a call names, when the client may see it: the `verify` role
/// and a region scope covering every household of the batch.
pub(crate) fn visible_batch(
    state: &State,
    client: &Client,
    action: &str,
    id: &str,
) -> Result<Batch, Status> {
    let refuse = |s: Status| state.refuse(client, Role::Verify, action, "", s);
    if !client.may(Role::Verify) {
        return Err(refuse(Status::permission_denied(
            "this token does not have the `verify` role",
        )));
    }
    let batch = state
        .jobs
        .get(id)
        .map_err(|e| internal("reading the jobs database", &e))?
        .ok_or_else(|| refuse(Status::not_found(format!("no batch {id}"))))?;
    if !batch.regions.iter().all(|r| client.sees(r)) {
        return Err(refuse(Status::permission_denied(
            "the batch holds households outside this token's region scope",
        )));
    }
    Ok(batch)
}

/// INTERNAL for the caller; the reason in the server log only.
pub(crate) fn internal(what: &str, e: &dyn std::fmt::Display) -> Status {
    tracing::error!(error = %e, "{what}");
    Status::internal(format!("{what} failed; the server log has the reason"))
}

/// Runs blocking work (the store, the jobs database) off the async
/// threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Status::internal("the call stopped"))?
}

#[tonic::async_trait]
impl v1::batches_server::Batches for Batches {
    async fn submit_batch(
        &self,
        req: Request<v1::SubmitBatchRequest>,
    ) -> Result<Response<v1::SubmitBatchResponse>, Status> {
        let state = Arc::clone(&self.0);
        let client = state.authenticate(&req, "submit_batch")?;
        let body = req.into_inner();
        blocking(move || submit(&state, &client, &body)).await
    }

    type WatchBatchStream =
        tokio_stream::wrappers::ReceiverStream<Result<v1::BatchProgress, Status>>;

    async fn watch_batch(
        &self,
        req: Request<v1::WatchBatchRequest>,
    ) -> Result<Response<Self::WatchBatchStream>, Status> {
        let state = Arc::clone(&self.0);
        let client = state.authenticate(&req, "watch_batch")?;
        let id = req.into_inner().batch_id;
        let me = self.clone();
        let first = {
            let id = id.clone();
            blocking(move || visible_batch(&me.0, &client, "watch_batch", &id)).await?
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut last = progress(&first);
            if tx.send(Ok(last.clone())).await.is_err() {
                return;
            }
            while last.state != BatchState::Done.code() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let s = Arc::clone(&state);
                let id = id.clone();
                let now = blocking(move || {
                    s.jobs
                        .get(&id)
                        .map_err(|e| internal("reading the jobs database", &e))
                })
                .await;
                let now = match now {
                    Ok(Some(b)) => progress(&b),
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                if now != last {
                    last = now;
                    if tx.send(Ok(last.clone())).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }

    async fn get_report(
        &self,
        req: Request<v1::GetReportRequest>,
    ) -> Result<Response<v1::GetReportResponse>, Status> {
        let me = self.clone();
        let client = me.0.authenticate(&req, "get_report")?;
        let body = req.into_inner();
        blocking(move || {
            let state = &me.0;
            let batch = visible_batch(state, &client, "get_report", &body.batch_id)?;
            let stored = state
                .jobs
                .outcome(&batch.id, &body.application_id)
                .map_err(|e| internal("reading the jobs database", &e))?
                .ok_or_else(|| {
                    Status::not_found(format!(
                        "application {} has no outcome in batch {} (yet)",
                        body.application_id, batch.id
                    ))
                })?;
            let outcome = Outcome::from_json(&stored.json)
                .map_err(|e| internal("reading a stored report", &e))?;
            state.audit(read_entry(state, &client, "get_report", &batch, &outcome)?)?;
            Ok(Response::new(v1::GetReportResponse {
                report: Some(report_message(&outcome, body.include_json)),
            }))
        })
        .await
    }

    async fn list_batch_reports(
        &self,
        req: Request<v1::ListBatchReportsRequest>,
    ) -> Result<Response<v1::ListBatchReportsResponse>, Status> {
        let me = self.clone();
        let client = me.0.authenticate(&req, "list_batch_reports")?;
        let body = req.into_inner();
        blocking(move || {
            let state = &me.0;
            let batch = visible_batch(state, &client, "list_batch_reports", &body.batch_id)?;
            let limit = match body.limit {
                0 => PAGE,
                n => (n as usize).min(PAGE * 10),
            };
            let page = state
                .jobs
                .outcomes_page(&batch.id, &body.after, limit)
                .map_err(|e| internal("reading the jobs database", &e))?;
            let mut reports = Vec::with_capacity(page.len());
            let mut events = Vec::with_capacity(page.len());
            for s in &page {
                let outcome = Outcome::from_json(&s.json)
                    .map_err(|e| internal("reading a stored report", &e))?;
                events.push(read_entry(
                    state,
                    &client,
                    "list_batch_reports",
                    &batch,
                    &outcome,
                )?);
                let mut m = report_message(&outcome, false);
                m.json.clone_from(&s.json);
                reports.push(m);
            }
            state
                .store
                .audit_append_all(events)
                .map_err(|e| internal("appending to the audit log", &e))?;
            let next_after = if page.len() == limit {
                page.last()
                    .map(|s| s.application_id.clone())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            Ok(Response::new(v1::ListBatchReportsResponse {
                reports,
                next_after,
            }))
        })
        .await
    }
}

/// The audit entry of reading one household's stored outcome.
pub(crate) fn read_entry(
    state: &State,
    client: &Client,
    action: &str,
    batch: &Batch,
    outcome: &Outcome,
) -> Result<AuditEvent, Status> {
    let ids: Vec<String> = match outcome {
        Outcome::Report(r) => r.members.iter().map(|m| m.id_number.clone()).collect(),
        Outcome::Error(_) => Vec::new(),
    };
    Ok(AuditEvent {
        caller: client.name.clone(),
        role: Role::Verify.code().into(),
        action: action.into(),
        outcome: "ok".into(),
        purpose: batch.purpose.clone(),
        application_id: outcome.application_id().to_owned(),
        person_hashes: state.person_hashes(&ids)?,
        report_hash: report_hash(outcome),
        detail: format!("batch {}", batch.id),
        ..AuditEvent::default()
    })
}

/// `SubmitBatch`: checks, normalises and stores the request tables,
/// pins the snapshots and persists the batch, then rings the runner.
fn submit(
    state: &State,
    client: &Client,
    body: &v1::SubmitBatchRequest,
) -> Result<Response<v1::SubmitBatchResponse>, Status> {
    let refuse = |s: Status| state.refuse(client, Role::Verify, "submit_batch", "", s);
    if !client.may(Role::Verify) {
        return Err(refuse(Status::permission_denied(
            "this token does not have the `verify` role",
        )));
    }
    if let Err(e) = hedui_proto::check_submit_batch(body) {
        return Err(refuse(Status::invalid_argument(e.to_string())));
    }
    let (apps, members) = intake(body).map_err(&refuse)?;
    let (set, snaps) = check::store_requests(&state.store, &apps, &members)
        .map_err(|e| internal("storing the batch's requests", &e))?;
    if let Some(r) = set.requests.iter().find(|r| !client.sees(&r.region_code)) {
        return Err(refuse(Status::permission_denied(format!(
            "application {}: its region is outside this token's region scope",
            r.application_id
        ))));
    }
    let (Some(a), Some(m)) = (snaps.first(), snaps.get(1)) else {
        return Err(internal("storing the batch's requests", &"no snapshot"));
    };
    let snapshots = hedui_engine::select(&state.store, &Selection::Newest)
        .map_err(|e| Status::failed_precondition(e.to_string()))?;
    let new = Batch {
        id: Jobs::batch_id(&a.id, &m.id),
        caller: client.name.clone(),
        purpose: body.purpose.clone(),
        applications: a.id.clone(),
        members: m.id.clone(),
        snapshots: snapshots
            .iter()
            .map(|(k, v)| (k.clone(), v.id.clone()))
            .collect(),
        matcher_hash: String::new(),
        regions: regions(&set),
        total: (set.requests.len() + set.rejected.len()) as u64,
        done: 0,
        failed: 0,
        state: BatchState::Queued,
    };
    let (batch, existing) = state
        .jobs
        .submit(new)
        .map_err(|e| internal("persisting the batch", &e))?;
    state.audit(AuditEvent {
        caller: client.name.clone(),
        role: Role::Verify.code().into(),
        action: "submit_batch".into(),
        outcome: if existing { "ok:existing" } else { "ok" }.into(),
        purpose: body.purpose.clone(),
        detail: format!("batch {} of {} households", batch.id, batch.total),
        ..AuditEvent::default()
    })?;
    tracing::info!(client = %client.name, batch = %batch.id, total = batch.total, existing, "batch submitted");
    state.ring();
    Ok(Response::new(v1::SubmitBatchResponse {
        batch_id: batch.id,
        total: batch.total,
        existing,
    }))
}
