//! The `Audit` service: `Replay` recomputes a report from the snapshots,
//! policy version and matcher it names (the auditors' check that the same
//! inputs give the same report, byte for byte, years later).

use std::sync::Arc;

use hedui_proto::v1;
use hedui_store::AuditEvent;
use tonic::{Request, Response, Status};

use crate::check;
use crate::config::Role;
use crate::service::State;

/// The `Audit` service.
#[derive(Debug, Clone)]
pub(crate) struct Audit(pub(crate) Arc<State>);

#[tonic::async_trait]
impl v1::audit_server::Audit for Audit {
    async fn replay(
        &self,
        req: Request<v1::ReplayRequest>,
    ) -> Result<Response<v1::ReplayResponse>, Status> {
        let state = Arc::clone(&self.0);
        let client = state.authenticate(&req, "replay")?;
        let body = req.into_inner();
        crate::batch::blocking(move || {
            let refuse =
                |app: &str, s: Status| state.refuse(&client, Role::Audit, "replay", app, s);
            if !client.may(Role::Audit) {
                return Err(refuse(
                    "",
                    Status::permission_denied("this token does not have the `audit` role"),
                ));
            }
            let text = match body.report {
                Some(v1::replay_request::Report::ReportJson(t)) => t,
                Some(v1::replay_request::Report::BatchReport(r)) => state
                    .jobs
                    .outcome(&r.batch_id, &r.application_id)
                    .map_err(|e| crate::batch::internal("reading the jobs database", &e))?
                    .ok_or_else(|| {
                        refuse(
                            &r.application_id,
                            Status::not_found(format!(
                                "application {} has no report in batch {}",
                                r.application_id, r.batch_id
                            )),
                        )
                    })?
                    .json,
                None => {
                    return Err(refuse(
                        "",
                        Status::invalid_argument("report: send report_json or batch_report"),
                    ));
                }
            };
            let (original, _) = check::replay_source(&text).map_err(|e| {
                refuse("", Status::invalid_argument(format!("report_json: {e:#}")))
            })?;
            if !client.sees(&original.region_code) {
                return Err(refuse(
                    &original.application_id,
                    Status::permission_denied(
                        "the report's region is outside this token's region scope",
                    ),
                ));
            }
            let ids: Vec<String> = original
                .members
                .iter()
                .map(|m| m.id_number.clone())
                .collect();
            let entry = AuditEvent {
                caller: client.name.clone(),
                role: Role::Audit.code().into(),
                action: "replay".into(),
                application_id: original.application_id.clone(),
                person_hashes: state.person_hashes(&ids)?,
                report_hash: original.report_hash.clone(),
                ..AuditEvent::default()
            };
            let replayed = match check::replay(&state.store, &state.policies, &text) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(application_id = %original.application_id, error = %format!("{e:#}"), "replay failed");
                    state.audit(AuditEvent {
                        outcome: "error:replay".into(),
                        ..entry
                    })?;
                    return Err(Status::failed_precondition(
                        "the report cannot be recomputed here (are the snapshots it names held by \
                         this server?); the server log has the reason",
                    ));
                }
            };
            let identical = replayed.differences.is_empty();
            state.audit(AuditEvent {
                outcome: if identical { "ok:identical" } else { "ok:differs" }.into(),
                ..entry
            })?;
            Ok(Response::new(v1::ReplayResponse {
                identical,
                report_hash: replayed.report_hash,
                differences: replayed.differences,
            }))
        })
        .await
    }
}
