//! The `Monitoring` service: `RunMonitor` (a run over a roster sent with
//! the call, its alerts streamed) and `ListAlerts` (alerts of recorded
//! runs, the scheduled ones included), for the `monitor` role within its
//! region scope. The run itself is [`crate::monitor::run_monitor_with`],
//! the same as `hedui monitor`'s.

use std::collections::BTreeMap;
use std::sync::Arc;

use hedui_proto::v1;
use hedui_sources::tables;
use hedui_store::{AuditEvent, StoredAlert};
use tonic::{Request, Response, Status};

use crate::batch::{blocking, decode_ipc, internal, require_authorisations};
use crate::config::{Client, Role};
use crate::monitor::MonitorOutput;
use crate::service::State;

/// Alerts per `ListAlerts` page when the caller names no limit, and the
/// most a page holds.
const PAGE: usize = 1_000;
const MAX_PAGE: usize = 10_000;

/// The `Monitoring` service.
#[derive(Debug, Clone)]
pub(crate) struct Monitoring(pub(crate) Arc<State>);

/// An alert message from its stored JSON line.
pub(crate) fn alert_message(line: &str, region_code: &str) -> v1::Alert {
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    let text = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let records = v
        .get("records")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .map(|r| v1::RecordRef {
                    source: r
                        .get("source")
                        .and_then(|s| s.as_str())
                        .unwrap_or_default()
                        .into(),
                    record_id: r
                        .get("record_id")
                        .and_then(|s| s.as_str())
                        .unwrap_or_default()
                        .into(),
                })
                .collect()
        })
        .unwrap_or_default();
    v1::Alert {
        household_id: text("household_id"),
        run_date: text("run_date"),
        alert: text("alert"),
        member: text("member"),
        records,
        detail_json: v
            .get("detail")
            .map(hedui_report::canonical::canonical_value_json)
            .unwrap_or_default(),
        line_json: line.to_owned(),
        region_code: region_code.to_owned(),
    }
}

/// The audit entries of a run: one per household monitored, with the
/// keyed hashes of its members and the blake3 of its alert lines.
pub(crate) fn run_audit(
    state: &State,
    caller: &str,
    purpose: &str,
    o: &MonitorOutput,
) -> Result<Vec<AuditEvent>, Status> {
    let mut lines: BTreeMap<&str, blake3::Hasher> = BTreeMap::new();
    for h in &o.households {
        let hasher = lines.entry(h.household_id.as_str()).or_default();
        for a in &h.alerts {
            hasher
                .update(crate::monitor::alert_line(&h.household_id, o.run.run_date, a).as_bytes());
            hasher.update(b"\n");
        }
    }
    let errors: BTreeMap<&str, &str> = o
        .households
        .iter()
        .filter_map(|h| {
            h.error
                .as_ref()
                .map(|(c, _)| (h.household_id.as_str(), c.as_str()))
        })
        .collect();
    let mut events = Vec::with_capacity(o.roster.len());
    for r in &o.roster {
        let ids: Vec<String> = r.members.iter().map(|m| m.id_text()).collect();
        events.push(AuditEvent {
            caller: caller.to_owned(),
            role: Role::Monitor.code().into(),
            action: "monitor".into(),
            outcome: match errors.get(r.application_id.as_str()) {
                Some(code) => format!("ok:not_monitored:{code}"),
                None => "ok".into(),
            },
            purpose: purpose.to_owned(),
            authorization_ref: r.authorization_ref.clone(),
            application_id: r.application_id.clone(),
            person_hashes: state.person_hashes(&ids)?,
            report_hash: lines
                .get(r.application_id.as_str())
                .map(|h| h.finalize().to_hex().to_string())
                .unwrap_or_default(),
            detail: format!("monitoring run {} on {}", o.run.run_id, o.run.run_date),
        });
    }
    Ok(events)
}

/// Runs a roster sent with a call: checks, runs, audits; the run.
fn run(
    state: &State,
    client: &Client,
    body: &v1::RunMonitorRequest,
) -> Result<MonitorOutput, Status> {
    let refuse = |s: Status| state.refuse(client, Role::Monitor, "run_monitor", "", s);
    if !client.may(Role::Monitor) {
        return Err(refuse(Status::permission_denied(
            "this token does not have the `monitor` role",
        )));
    }
    let run_date = hedui_proto::check_run_monitor(body)
        .map_err(|e| refuse(Status::invalid_argument(e.to_string())))?;
    let (hschema, hbatches) = decode_ipc("roster_households_ipc", &body.roster_households_ipc)?;
    let (mschema, mbatches) = decode_ipc("roster_members_ipc", &body.roster_members_ipc)?;
    require_authorisations(&hbatches, &hschema, "roster_households_ipc", "household_id")
        .map_err(refuse)?;
    let norm = |field: &str, spec, schema, batches: &[arrow::array::RecordBatch]| {
        hedui_sources::normalise(spec, field, schema, batches)
            .map_err(|e| refuse(Status::invalid_argument(format!("{field}: {e}"))))
    };
    let households = norm(
        "roster_households_ipc",
        &tables::roster_households::SPEC,
        &hschema,
        &hbatches,
    )?;
    let members = norm(
        "roster_members_ipc",
        &tables::roster_members::SPEC,
        &mschema,
        &mbatches,
    )?;
    // The scope, before anything is looked up.
    let roster = hedui_engine::roster_from_normalised(&households, &members, run_date)
        .map_err(|e| refuse(Status::invalid_argument(format!("the roster: {e}"))))?;
    if let Some(r) = roster
        .set
        .requests
        .iter()
        .find(|r| !client.sees(&r.region_code))
    {
        return Err(state.refuse(
            client,
            Role::Monitor,
            "run_monitor",
            &r.application_id,
            Status::permission_denied(
                "the roster holds households outside this token's region scope",
            ),
        ));
    }
    let _one = state.monitoring.lock().unwrap_or_else(|p| p.into_inner());
    let o = crate::monitor::run_monitor_with(
        &state.store,
        &state.policies,
        &households,
        &members,
        run_date,
        &|s| state.linker_for(s, None),
    )
    .map_err(|e| internal("the monitoring run", &format!("{e:#}")))?;
    let events = run_audit(state, &client.name, &body.purpose, &o)?;
    state
        .store
        .audit_append_all(events)
        .map_err(|e| internal("appending to the audit log", &e))?;
    Ok(o)
}

/// The summary message of a run.
pub(crate) fn summary(o: &MonitorOutput) -> v1::MonitorRunSummary {
    v1::MonitorRunSummary {
        run_id: o.run.run_id.clone(),
        run_date: o.run.run_date.to_string(),
        households: o.households.len() as u64,
        alerts: o.lines.len() as u64,
        errors: o
            .errors()
            .map(|h| {
                let (code, message) = h.error.clone().unwrap_or_default();
                v1::HouseholdError {
                    household_id: h.household_id.clone(),
                    code,
                    message,
                }
            })
            .collect(),
    }
}

/// The recorded alerts a client may see: the `monitor` role, filtered to
/// its region scope; audited (one entry naming the members).
pub(crate) fn visible_alerts(
    state: &State,
    client: &Client,
    action: &str,
    run_id: Option<&str>,
    run_date: Option<hedui_model::Date>,
) -> Result<Vec<StoredAlert>, Status> {
    if !client.may(Role::Monitor) {
        return Err(state.refuse(
            client,
            Role::Monitor,
            action,
            "",
            Status::permission_denied("this token does not have the `monitor` role"),
        ));
    }
    visible_page(state, client, run_id, run_date, None, usize::MAX)
}

/// A page of the recorded alerts inside the client's region scope.
fn visible_page(
    state: &State,
    client: &Client,
    run_id: Option<&str>,
    run_date: Option<hedui_model::Date>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredAlert>, Status> {
    state
        .store
        .monitor_alerts_page(run_id, run_date, &client.regions, after, limit)
        .map_err(|e| internal("reading the alerts", &e))
}

/// Audits a read of alerts: who saw the alerts of which members.
pub(crate) fn audit_read(
    state: &State,
    client: &Client,
    action: &str,
    alerts: &[StoredAlert],
) -> Result<(), Status> {
    let mut ids: Vec<String> = alerts
        .iter()
        .map(|a| alert_message(&a.line, &a.region_code).member)
        .filter(|m| !m.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    let runs: std::collections::BTreeSet<&str> = alerts.iter().map(|a| a.run_id.as_str()).collect();
    state.audit(AuditEvent {
        caller: client.name.clone(),
        role: Role::Monitor.code().into(),
        action: action.into(),
        outcome: "ok".into(),
        person_hashes: state.person_hashes(&ids)?,
        detail: format!(
            "{} alerts of {} run(s): {}",
            alerts.len(),
            runs.len(),
            runs.iter()
                .map(|r| &r[..r.len().min(16)])
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ..AuditEvent::default()
    })
}

#[tonic::async_trait]
impl v1::monitoring_server::Monitoring for Monitoring {
    type RunMonitorStream =
        tokio_stream::wrappers::ReceiverStream<Result<v1::RunMonitorResponse, Status>>;

    async fn run_monitor(
        &self,
        req: Request<v1::RunMonitorRequest>,
    ) -> Result<Response<Self::RunMonitorStream>, Status> {
        let state = Arc::clone(&self.0);
        let client = state.authenticate(&req, "run_monitor")?;
        let body = req.into_inner();
        let o = blocking(move || run(&state, &client, &body)).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        tokio::spawn(async move {
            let regions: BTreeMap<&str, &str> = o
                .households
                .iter()
                .map(|h| (h.household_id.as_str(), h.region_code.as_str()))
                .collect();
            for line in &o.lines {
                let mut a = alert_message(line, "");
                a.region_code = regions
                    .get(a.household_id.as_str())
                    .copied()
                    .unwrap_or_default()
                    .to_owned();
                let item = v1::RunMonitorResponse {
                    item: Some(v1::run_monitor_response::Item::Alert(a)),
                };
                if tx.send(Ok(item)).await.is_err() {
                    return;
                }
            }
            let _ = tx
                .send(Ok(v1::RunMonitorResponse {
                    item: Some(v1::run_monitor_response::Item::Summary(summary(&o))),
                }))
                .await;
        });
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }

    async fn list_alerts(
        &self,
        req: Request<v1::ListAlertsRequest>,
    ) -> Result<Response<v1::ListAlertsResponse>, Status> {
        let state = Arc::clone(&self.0);
        let client = state.authenticate(&req, "list_alerts")?;
        let body = req.into_inner();
        blocking(move || {
            let refuse = |s: Status| state.refuse(&client, Role::Monitor, "list_alerts", "", s);
            let run_date = if body.run_date.is_empty() {
                None
            } else {
                Some(
                    hedui_proto::date_field("run_date", &body.run_date)
                        .map_err(|e| refuse(Status::invalid_argument(e.to_string())))?,
                )
            };
            if !client.may(Role::Monitor) {
                return Err(refuse(Status::permission_denied(
                    "this token does not have the `monitor` role",
                )));
            }
            let after = (!body.page_token.is_empty()).then_some(body.page_token.as_str());
            if after.is_some_and(|a| a.matches('|').count() < 3) {
                return Err(refuse(Status::invalid_argument(
                    "page_token: send the next_page_token of the previous page",
                )));
            }
            let limit = match body.limit as usize {
                0 => PAGE,
                n => n.min(MAX_PAGE),
            };
            let run_id = (!body.run_id.is_empty()).then_some(body.run_id.as_str());
            // One more than the page: whether there is a next one.
            let mut page = visible_page(&state, &client, run_id, run_date, after, limit + 1)?;
            let more = page.len() > limit;
            page.truncate(limit);
            audit_read(&state, &client, "list_alerts", &page)?;
            Ok(Response::new(v1::ListAlertsResponse {
                next_page_token: match page.last() {
                    Some(last) if more => last.cursor(),
                    _ => String::new(),
                },
                alerts: page
                    .iter()
                    .map(|a| alert_message(&a.line, &a.region_code))
                    .collect(),
            }))
        })
        .await
    }
}
