//! The gRPC services: thin handlers over the check path. Every call is
//! authenticated (a bearer token → a configured client), authorised (its
//! roles and region scope), and logged in the audit log — refusals too.
//! Nothing here logs an id number: handlers log application ids, and the
//! audit log holds keyed hashes of the ids.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, Date32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use hedui_engine::{Linker, Selection};
use hedui_policy::PolicySet;
use hedui_proto::v1;
use hedui_report::Outcome;
use hedui_sources::tables;
use hedui_store::{AuditEvent, SnapshotId, Store};
use tonic::{Request, Response, Status};

use crate::check;
use crate::config::{Client, Limits, Role, token_hash};
use crate::jobs::Jobs;

/// The linker prepared for a selection of snapshots.
type LinkerFor = (BTreeMap<String, SnapshotId>, Arc<Linker>);

/// Where the per-applicant `Verify` calls spent their time, summed over
/// the calls since the server started (read with
/// [`State::verify_timings`]; subtract two readings for an interval). The
/// phases of one call: waiting for a check slot, preparing (the request
/// normalised, its snapshot ids computed, the linker found), the check
/// (point-index reads, policy, report), then the commit of the request
/// snapshots with the audit entry.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VerifyTimings {
    /// Calls that reached a check (refusals before one are not counted).
    pub calls: u64,
    /// The phases of those calls, summed.
    pub all: Phases,
    /// Calls that took longer than [`VerifyTimings::SLOW`] from arrival to
    /// answer: the tail, and where its time went.
    pub slow_calls: u64,
    /// The phases of the slow calls, summed.
    pub slow: Phases,
}

/// The phases of `Verify` calls (see [`VerifyTimings`]), summed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phases {
    /// Waiting for one of the `concurrent_checks` slots.
    pub queued: Duration,
    /// Normalising the request, its snapshot ids, the linker.
    pub prepare: Duration,
    /// The check itself.
    pub check: Duration,
    /// After the check: the request snapshots and the audit entry
    /// committed (one transaction of the catalog's group commit).
    pub commit: Duration,
    /// From the call's arrival at the service to its answer.
    pub total: Duration,
}

impl Phases {
    fn add(&mut self, o: &Phases) {
        self.queued += o.queued;
        self.prepare += o.prepare;
        self.check += o.check;
        self.commit += o.commit;
        self.total += o.total;
    }

    fn since(&self, e: &Phases) -> Phases {
        Phases {
            queued: self.queued.saturating_sub(e.queued),
            prepare: self.prepare.saturating_sub(e.prepare),
            check: self.check.saturating_sub(e.check),
            commit: self.commit.saturating_sub(e.commit),
            total: self.total.saturating_sub(e.total),
        }
    }

    /// The mean of `calls` calls, in milliseconds.
    fn mean(&self, calls: u64, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = calls.max(1) as f64;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0 / n;
        write!(
            f,
            "mean {:.2} ms = queued {:.2} + prepare {:.2} + check {:.2} + commit {:.2} (+ {:.2} other)",
            ms(self.total),
            ms(self.queued),
            ms(self.prepare),
            ms(self.check),
            ms(self.commit),
            ms(self
                .total
                .saturating_sub(self.queued + self.prepare + self.check + self.commit)),
        )
    }
}

impl VerifyTimings {
    /// A call slower than this is counted in [`VerifyTimings::slow`].
    pub const SLOW: Duration = Duration::from_millis(20);

    fn add_call(&mut self, p: &Phases) {
        self.calls += 1;
        self.all.add(p);
        if p.total > Self::SLOW {
            self.slow_calls += 1;
            self.slow.add(p);
        }
    }

    /// `self − earlier`: the calls between two readings.
    pub fn since(&self, earlier: &VerifyTimings) -> VerifyTimings {
        VerifyTimings {
            calls: self.calls - earlier.calls,
            all: self.all.since(&earlier.all),
            slow_calls: self.slow_calls - earlier.slow_calls,
            slow: self.slow.since(&earlier.slow),
        }
    }
}

impl std::fmt::Display for VerifyTimings {
    /// The mean call, in milliseconds, and the mean of the slow ones.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} calls, ", self.calls)?;
        self.all.mean(self.calls, f)?;
        write!(
            f,
            "; {} over {} ms, ",
            self.slow_calls,
            Self::SLOW.as_millis()
        )?;
        self.slow.mean(self.slow_calls, f)
    }
}

/// What the services share: the store, the policies, the clients, the
/// batch jobs, and the linker of the snapshots last used (prepared once,
/// again when they change).
pub struct State {
    pub(crate) store: Store,
    pub(crate) policies: PolicySet,
    pub(crate) jobs: Jobs,
    /// Households gathered at once by the batch runner.
    pub(crate) batch_chunk: usize,
    clients: Vec<(blake3::Hash, Arc<Client>)>,
    linker: Mutex<Option<LinkerFor>>,
    /// Slots for computing checks (`concurrent_checks`): held from
    /// preparing a request to its report, not while waiting for the
    /// request snapshots or the audit entry to be durable.
    checks: Arc<tokio::sync::Semaphore>,
    timings: Mutex<VerifyTimings>,
    stopping: AtomicBool,
    /// Rings the batch runner: a batch was submitted, or the server stops.
    bell: (Mutex<u64>, Condvar),
    /// One monitoring run at a time (an RPC's or the schedule's): each
    /// reads the states the one before it recorded.
    pub(crate) monitoring: Mutex<()>,
    /// The daily monitoring run, if configured.
    pub(crate) schedule: Option<crate::config::MonitorSchedule>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("store", &self.store.root())
            .field("clients", &self.clients.len())
            .finish_non_exhaustive()
    }
}

impl State {
    /// The state over an open store (its jobs database opened, or created).
    pub fn new(
        store: Store,
        policies: PolicySet,
        clients: &[Client],
        limits: &Limits,
    ) -> anyhow::Result<State> {
        let clients = clients
            .iter()
            .filter_map(|c| {
                blake3::Hash::from_hex(&c.token_blake3)
                    .ok()
                    .map(|h| (h, Arc::new(c.clone())))
            })
            .collect();
        let jobs = Jobs::open(store.root())?;
        Ok(State {
            store,
            policies,
            jobs,
            batch_chunk: limits.batch_chunk_households.max(1),
            clients,
            linker: Mutex::new(None),
            checks: Arc::new(tokio::sync::Semaphore::new(limits.concurrent_checks.max(1))),
            timings: Mutex::new(VerifyTimings::default()),
            stopping: AtomicBool::new(false),
            bell: (Mutex::new(0), Condvar::new()),
            monitoring: Mutex::new(()),
            schedule: None,
        })
    }

    /// Where the `Verify` calls so far spent their time.
    pub fn verify_timings(&self) -> VerifyTimings {
        *self.timings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs monitoring daily as `cfg` says, once the server runs.
    pub fn schedule_monitoring(&mut self, cfg: crate::config::MonitorSchedule) {
        self.schedule = Some(cfg);
    }

    /// Wakes the batch runner.
    pub(crate) fn ring(&self) {
        let (m, c) = &self.bell;
        *m.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        c.notify_all();
    }

    /// Waits for [`State::ring`] (or `timeout`).
    pub(crate) fn wait_for_ring(&self, seen: u64, timeout: Duration) -> u64 {
        let (m, c) = &self.bell;
        let g = m.lock().unwrap_or_else(|p| p.into_inner());
        let (g, _) = c
            .wait_timeout_while(g, timeout, |n| *n == seen && !self.stopping())
            .unwrap_or_else(|p| p.into_inner());
        *g
    }

    /// The current ring count.
    pub(crate) fn rings(&self) -> u64 {
        *self.bell.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the batch runner to stop after the chunk in flight.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.ring();
    }

    /// Whether the server is stopping.
    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The client a bearer token belongs to (constant-time comparison of
    /// the token's hash).
    fn client_of(&self, token: &str) -> Option<Arc<Client>> {
        let h = blake3::Hash::from_hex(token_hash(token)).ok()?;
        self.clients
            .iter()
            .find(|(k, _)| *k == h)
            .map(|(_, c)| Arc::clone(c))
    }

    /// The linker for the newest snapshots, prepared (and every new
    /// snapshot linked) when they changed since the last call.
    fn linker(&self) -> anyhow::Result<(BTreeMap<String, hedui_store::SnapshotMeta>, Arc<Linker>)> {
        let snapshots = hedui_engine::select(&self.store, &Selection::Newest)?;
        let linker = self.linker_for(&snapshots, None)?;
        Ok((snapshots, linker))
    }

    /// The linker for these snapshots (with this matcher, when pinned),
    /// prepared when it is not the one held.
    pub(crate) fn linker_for(
        &self,
        snapshots: &BTreeMap<String, hedui_store::SnapshotMeta>,
        model_hash: Option<&str>,
    ) -> anyhow::Result<Arc<Linker>> {
        let ids: BTreeMap<String, SnapshotId> = snapshots
            .iter()
            .map(|(k, m)| (k.clone(), m.id.clone()))
            .collect();
        let mut cached = self.linker.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((held, l)) = cached.as_ref()
            && *held == ids
            && model_hash.is_none_or(|h| h == l.model.hash())
        {
            return Ok(Arc::clone(l));
        }
        let linker = Arc::new(check::link(&self.store, snapshots, model_hash)?);
        if model_hash.is_none() {
            // The newest snapshots answer case systems one household at a
            // time: their point indexes, built once, spare each call its
            // queries.
            let t = Instant::now();
            let built = hedui_engine::ensure_indexes(&self.store, &linker.key, snapshots)?;
            if built > 0 {
                tracing::info!(
                    built,
                    seconds = t.elapsed().as_secs_f64(),
                    "point indexes built"
                );
            }
        }
        *cached = Some((ids, Arc::clone(&linker)));
        Ok(linker)
    }

    pub(crate) fn audit(&self, event: AuditEvent) -> Result<(), Status> {
        self.store.audit_append(event).map(|_| ()).map_err(|e| {
            tracing::error!(error = %e, "audit log append failed");
            Status::internal("the audit log could not be written; nothing was returned")
        })
    }

    /// Keyed hashes of id numbers for the audit log.
    pub(crate) fn person_hashes(&self, ids: &[String]) -> Result<Vec<String>, Status> {
        ids.iter()
            .filter(|s| !s.is_empty())
            .map(|p| self.store.person_hash(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                tracing::error!(error = %e, "audit key");
                Status::internal("the audit log could not be written; nothing was returned")
            })
    }

    /// Authenticates a call: its client, or UNAUTHENTICATED (logged).
    pub(crate) fn authenticate<T>(
        &self,
        req: &Request<T>,
        action: &str,
    ) -> Result<Arc<Client>, Status> {
        let token = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let client = token.and_then(|t| self.client_of(t));
        match client {
            Some(c) => Ok(c),
            None => {
                let why = if token.is_none() {
                    "no bearer token"
                } else {
                    "unknown token"
                };
                self.audit(AuditEvent {
                    caller: "-".into(),
                    role: "-".into(),
                    action: action.into(),
                    outcome: "refused:unauthenticated".into(),
                    detail: why.into(),
                    ..AuditEvent::default()
                })?;
                tracing::info!(action, "refused: {why}");
                Err(Status::unauthenticated(
                    "send `authorization: Bearer <token>` with a token configured for this server",
                ))
            }
        }
    }

    pub(crate) fn refuse(
        &self,
        client: &Client,
        role: Role,
        action: &str,
        application_id: &str,
        status: Status,
    ) -> Status {
        let code = match status.code() {
            tonic::Code::PermissionDenied => "permission_denied",
            tonic::Code::InvalidArgument => "invalid_argument",
            _ => "refused",
        };
        if let Err(e) = self.audit(AuditEvent {
            caller: client.name.clone(),
            role: role.code().into(),
            action: action.into(),
            outcome: format!("refused:{code}"),
            application_id: application_id.into(),
            detail: status.message().chars().take(200).collect(),
            ..AuditEvent::default()
        }) {
            return e;
        }
        tracing::info!(client = %client.name, action, application_id, "refused: {code}");
        status
    }
}

/// The `applications` and `members` tables of one household, as a file of
/// the contract would carry them: the same normaliser takes them, so the
/// server's check and `hedui verify` of the same household store the same
/// request snapshots and give the same report.
pub(crate) fn request_tables(
    hs: &[v1::Household],
) -> anyhow::Result<(hedui_sources::Normalised, hedui_sources::Normalised)> {
    let epoch = hedui_model::Date::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let days = hs
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let at = if hs.len() == 1 {
                "household.applied_on".to_owned()
            } else {
                format!("households[{i}].applied_on")
            };
            Ok((hedui_proto::date_field(&at, &h.applied_on)? - epoch).num_days() as i32)
        })
        .collect::<anyhow::Result<Vec<i32>>>()?;
    let opt = |s: &str| {
        if s.is_empty() {
            None
        } else {
            Some(s.to_owned())
        }
    };
    let apps_schema = Arc::new(Schema::new(vec![
        Field::new("application_id", DataType::Utf8, false),
        Field::new("region_code", DataType::Utf8, false),
        Field::new("hukou_kind", DataType::Utf8, true),
        Field::new("assistance", DataType::Utf8, false),
        Field::new("applied_on", DataType::Date32, false),
        Field::new("authorization_ref", DataType::Utf8, false),
    ]));
    let apps = RecordBatch::try_new(
        apps_schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                hs.iter().map(|h| h.application_id.as_str()),
            )) as ArrayRef,
            Arc::new(StringArray::from_iter_values(
                hs.iter().map(|h| h.region_code.as_str()),
            )),
            Arc::new(StringArray::from(
                hs.iter().map(|h| opt(&h.hukou_kind)).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from_iter_values(
                hs.iter().map(|h| h.assistance.as_str()),
            )),
            Arc::new(Date32Array::from(days)),
            Arc::new(StringArray::from_iter_values(
                hs.iter().map(|h| h.authorization_ref.as_str()),
            )),
        ],
    )?;
    let members_schema = Arc::new(Schema::new(vec![
        Field::new("application_id", DataType::Utf8, false),
        Field::new("id_number", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, false),
        Field::new("relation", DataType::Utf8, false),
    ]));
    let all = || {
        hs.iter()
            .flat_map(|h| h.members.iter().map(move |m| (h, m)))
    };
    let members = RecordBatch::try_new(
        members_schema.clone(),
        vec![
            Arc::new(StringArray::from(
                all()
                    .map(|(h, _)| h.application_id.as_str())
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
            Arc::new(StringArray::from(
                all().map(|(_, m)| opt(&m.id_number)).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                all().map(|(_, m)| m.name.as_str()).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                all().map(|(_, m)| m.relation.as_str()).collect::<Vec<_>>(),
            )),
        ],
    )?;
    let a = hedui_sources::normalise(
        &tables::applications::SPEC,
        "request",
        &apps_schema,
        &[apps],
    )?;
    let m = hedui_sources::normalise(
        &tables::members::SPEC,
        "request",
        &members_schema,
        &[members],
    )?;
    Ok((a, m))
}

/// The report message of an outcome.
pub fn report_message(o: &Outcome, include_json: bool) -> v1::VerificationReport {
    let json = if include_json {
        o.to_json()
    } else {
        String::new()
    };
    match o {
        Outcome::Report(r) => v1::VerificationReport {
            application_id: r.application_id.clone(),
            report_hash: r.report_hash.clone(),
            determinations: r.determinations.clone(),
            household_size: r.household_size,
            standard_fen: r.standard_fen,
            household_income_fen: r.household_income_fen,
            per_capita_income_fen: r.per_capita_income_fen,
            benefit_fen: r.benefit_fen,
            flags: r
                .flags
                .iter()
                .map(|f| v1::Flag {
                    code: f.code.clone(),
                    member: f.member.clone().unwrap_or_default(),
                })
                .collect(),
            error_code: String::new(),
            error_message: String::new(),
            json,
            policy_version: r.inputs.policy.version.to_string(),
            matcher_hash: r.inputs.matcher.hash.clone(),
        },
        Outcome::Error(e) => v1::VerificationReport {
            application_id: e.application_id.clone(),
            error_code: e.code.clone(),
            error_message: e.message.clone(),
            json,
            ..v1::VerificationReport::default()
        },
    }
}

/// The `Verification` service.
#[derive(Debug, Clone)]
pub(crate) struct Verification(pub(crate) Arc<State>);

#[tonic::async_trait]
impl v1::verification_server::Verification for Verification {
    async fn verify(
        &self,
        req: Request<v1::VerifyRequest>,
    ) -> Result<Response<v1::VerifyResponse>, Status> {
        let arrived = Instant::now();
        let state = &self.0;
        let client = state.authenticate(&req, "verify")?;
        let body = req.into_inner();
        let app = body
            .household
            .as_ref()
            .map(|h| h.application_id.clone())
            .unwrap_or_default();
        let refuse = |status: Status| state.refuse(&client, Role::Verify, "verify", &app, status);
        if !client.may(Role::Verify) {
            return Err(refuse(Status::permission_denied(
                "this token does not have the `verify` role",
            )));
        }
        if let Err(e) = hedui_proto::check_verify_request(&body) {
            return Err(refuse(Status::invalid_argument(e.to_string())));
        }
        let Some(household) = body.household.clone() else {
            return Err(Status::invalid_argument("household: is required"));
        };
        if !client.sees(&household.region_code) {
            return Err(refuse(Status::permission_denied(
                "the household's region is outside this token's region scope",
            )));
        }
        // The audit entry of this check, once its outcome is known.
        let entry = AuditEvent {
            caller: client.name.clone(),
            role: Role::Verify.code().into(),
            action: "verify".into(),
            purpose: body.purpose.clone(),
            authorization_ref: household.authorization_ref.clone(),
            application_id: app.clone(),
            ..AuditEvent::default()
        };
        let permit = Arc::clone(&state.checks)
            .acquire_owned()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        let queued = arrived.elapsed();
        let worker = Arc::clone(state);
        let include_json = body.include_json;
        // The check and its audit entry block (the engine's runtime, rayon,
        // fsyncs): off the server's async threads, on tokio's pool of
        // blocking threads, so that a call waiting on its fsyncs never
        // holds up the parsing and answering of the others.
        let report = tokio::task::spawn_blocking(move || {
            let state = &worker;
            let refuse = |status: Status| state.refuse(&client, Role::Verify, "verify", &app, status);
            let mut t = Phases {
                queued,
                ..Phases::default()
            };
            let mut slot = Some(permit);
            let checked = check_one(state, &household, &mut t, &mut slot);
            // Whatever happened, the slot is free for the next check.
            drop(slot);
            let (outcome, persons, held) = match checked {
                Ok(r) => r,
                Err(CheckError::Invalid(msg)) => {
                    return Err(refuse(Status::invalid_argument(msg)));
                }
                Err(CheckError::Internal(e)) => {
                    tracing::error!(application_id = %app, error = %e, "check failed");
                    state.audit(AuditEvent {
                        outcome: "error:internal".into(),
                        ..entry
                    })?;
                    return Err(Status::internal(
                        "the check could not be computed; the server log has the reason",
                    ));
                }
            };
            let commit_start = Instant::now();
            let person_hashes = state.person_hashes(&persons)?;
            let report_hash = crate::batch::report_hash(&outcome);
            // The request snapshots the report names and the entry that
            // logs the check, durable together (one transaction) before
            // the answer: no report without its inputs, none unlogged.
            let event = AuditEvent {
                outcome: match &outcome {
                    Outcome::Report(_) => "ok".into(),
                    Outcome::Error(e) => format!("ok:not_checkable:{}", e.code),
                },
                person_hashes,
                report_hash: report_hash.clone(),
                ..entry
            };
            state
                .store
                .commit_held(held, vec![event])
                .map_err(|e| {
                    tracing::error!(application_id = %app, error = %e, "committing the request and its audit entry");
                    Status::internal(
                        "the request could not be stored nor the audit log written; nothing was returned",
                    )
                })?;
            t.commit = commit_start.elapsed();
            tracing::info!(client = %client.name, application_id = %app, report_hash = %report_hash, "verified");
            let report = report_message(&outcome, include_json);
            t.total = arrived.elapsed();
            state
                .timings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .add_call(&t);
            Ok(report)
        })
        .await
        .map_err(|_| Status::internal("the check stopped"))??;
        Ok(Response::new(v1::VerifyResponse {
            report: Some(report),
        }))
    }
}

enum CheckError {
    /// The request cannot be taken (a quarantined row): why.
    Invalid(String),
    Internal(anyhow::Error),
}

/// One household's check: its tables normalised and encoded as request
/// snapshots (committed by the caller with the audit entry:
/// [`Store::commit_held`](hedui_store::Store::commit_held)), then the same
/// pipeline as `hedui verify`. Returns the outcome, the normalised ids of
/// the declared members (for the audit log's keyed hashes) and the encoded
/// request snapshots. `slot` (a check slot) is released once the outcome
/// is computed.
fn check_one(
    state: &State,
    h: &v1::Household,
    t: &mut Phases,
    slot: &mut Option<tokio::sync::OwnedSemaphorePermit>,
) -> Result<(Outcome, Vec<String>, hedui_store::HeldSnapshots), CheckError> {
    let start = Instant::now();
    let (apps, members) =
        request_tables(std::slice::from_ref(h)).map_err(|e| CheckError::Invalid(e.to_string()))?;
    let (set, inputs) = check::request_inputs(&apps, &members).map_err(CheckError::Internal)?;
    if let Some(r) = set.rejected.first() {
        return Err(CheckError::Invalid(format!("{}: {}", r.code, r.message)));
    }
    let declared = members.accepted + members.quarantined;
    if declared > hedui_store::IN_CATALOG_MAX_ROWS {
        return Err(CheckError::Invalid(format!(
            "a household of {declared} members: Verify takes at most {}; submit it as a batch",
            hedui_store::IN_CATALOG_MAX_ROWS
        )));
    }
    let persons: Vec<String> = set
        .requests
        .iter()
        .flat_map(|r| r.members.iter().map(|m| m.id_text()))
        .filter(|s| !s.is_empty())
        .collect();
    let named: Vec<(String, hedui_model::Date)> =
        inputs.iter().map(|i| (i.source.clone(), i.as_of)).collect();
    // Encoded once: the ids the report names are those the commit writes.
    let held = state
        .store
        .encode_in_catalog(inputs.into())
        .map_err(|e| CheckError::Internal(e.into()))?;
    let refs: Vec<hedui_report::SnapshotRef> = named
        .into_iter()
        .zip(held.ids())
        .map(|((source, as_of), id)| hedui_report::SnapshotRef {
            source,
            id: id.to_string(),
            as_of,
        })
        .collect();
    let (snapshots, linker) = state.linker().map_err(CheckError::Internal)?;
    t.prepare = start.elapsed();
    let check_start = Instant::now();
    let checked = check::check_linked(
        &state.store,
        &set,
        refs,
        &snapshots,
        &linker,
        &state.policies,
        None,
    );
    t.check = check_start.elapsed();
    // Computed: committing needs no slot, so a slow fsync does not hold up
    // the checks of the calls behind this one.
    drop(slot.take());
    let (mut outcomes, _) = checked.map_err(CheckError::Internal)?;
    let (outcome, _) = outcomes
        .pop()
        .ok_or_else(|| CheckError::Internal(anyhow::anyhow!("no outcome for the household")))?;
    Ok((outcome, persons, held))
}

/// The `Catalog` service.
#[derive(Debug, Clone)]
pub(crate) struct Catalog(pub(crate) Arc<State>);

#[tonic::async_trait]
impl v1::catalog_server::Catalog for Catalog {
    async fn list_snapshots(
        &self,
        req: Request<v1::ListSnapshotsRequest>,
    ) -> Result<Response<v1::ListSnapshotsResponse>, Status> {
        let state = &self.0;
        let client = state.authenticate(&req, "list_snapshots")?;
        let source = req.into_inner().source;
        let metas = state
            .store
            .list(if source.is_empty() {
                None
            } else {
                Some(source.as_str())
            })
            .map_err(|e| {
                tracing::error!(error = %e, "listing snapshots");
                Status::internal("the catalog could not be read")
            })?;
        state.audit(AuditEvent {
            caller: client.name.clone(),
            role: "-".into(),
            action: "list_snapshots".into(),
            outcome: "ok".into(),
            detail: source,
            ..AuditEvent::default()
        })?;
        Ok(Response::new(v1::ListSnapshotsResponse {
            snapshots: metas
                .into_iter()
                .map(|m| v1::Snapshot {
                    id: m.id.to_string(),
                    source: m.source,
                    as_of: m.as_of.to_string(),
                    department: m.department,
                    rows: m.rows,
                    quarantined: m.quarantined,
                })
                .collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn household(app: &str, members: &[(&str, &str)]) -> v1::Household {
        v1::Household {
            application_id: app.into(),
            region_code: "530302".into(),
            hukou_kind: String::new(),
            assistance: "dibao".into(),
            applied_on: "2026-03-15".into(),
            authorization_ref: format!("SQ-{app}"),
            members: members
                .iter()
                .map(|(name, relation)| v1::Member {
                    id_number: String::new(),
                    name: (*name).into(),
                    relation: (*relation).into(),
                })
                .collect(),
        }
    }

    /// Regression: the members column was built from an iterator of no
    /// known length, which arrow refuses with a panic ("Iterator must be
    /// sized"): every Verify failed.
    #[test]
    fn households_become_the_contract_tables_one_row_per_household_and_member() {
        let hs = [
            household("A1", &[("张三", "applicant"), ("李四", "spouse")]),
            household("A2", &[("王五", "applicant")]),
        ];
        let (apps, members) = request_tables(&hs).unwrap();
        assert_eq!((apps.accepted, apps.quarantined), (2, 0));
        assert_eq!((members.accepted, members.quarantined), (3, 0));
        let e = request_tables(&[v1::Household {
            applied_on: "15/03/2026".into(),
            ..household("A3", &[("赵六", "applicant")])
        }])
        .unwrap_err();
        assert!(e.to_string().contains("household.applied_on"), "{e}");
    }
}
