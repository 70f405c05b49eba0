//! Arrow Flight: the bulk-data half of the API.
//!
//! - `DoPut` ingests an extract: the descriptor is a command, the JSON
//!   `{"source": "tax", "as_of": "2026-06-30", "department": "…",
//!   "region_code": "530302"}` (`department` and `region_code` optional),
//!   and the stream carries the table as the contract defines it. The
//!   rows go through the same normaliser and commit as `hedui ingest`, so
//!   the same extract is the same snapshot either way. One `PutResult`
//!   answers, its `app_metadata` the JSON `{"snapshot_id", "source",
//!   "accepted", "quarantined", "already_present"}`. Needs the `ingest`
//!   role; a region-coded extract needs a scope covering its region, one
//!   without a region code a scope covering every region.
//! - `DoGet` of the ticket `{"batch_id": "…"}` streams a batch's results
//!   as one table: a row per household (application id, outcome,
//!   determinations, n, S, P, benefit, flags, report hash, error). Needs
//!   what `ListBatchReports` needs.
//! - `DoGet` of the ticket `{"monitor_run_id": "…"}` (one run) or
//!   `{"monitor_run_date": "YYYY-MM-DD"}` (every run of the date) streams
//!   the alerts as one table for downstream systems: household, region,
//!   run date, alert, member, the records (`source/record_id`, a list) and
//!   the detail and the whole line as JSON; only the households in the
//!   token's region scope. Needs the `monitor` role.
//!
//! Every call is authenticated and audited as the gRPC services are.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Builder, ListBuilder, StringBuilder, UInt32Builder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use hedui_proto::flight::decode::FlightRecordBatchStream;
use hedui_proto::flight::encode::FlightDataEncoderBuilder;
use hedui_proto::flight::error::FlightError;
use hedui_proto::flight::flight_service_server::FlightService;
use hedui_proto::flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaResult, Ticket,
};
use hedui_report::Outcome;
use hedui_store::AuditEvent;
use serde::Deserialize;
use tonic::{Request, Response, Status, Streaming};

use crate::batch::{blocking, internal};
use crate::config::{Client, Role};
use crate::ingest::{ExtractMeta, commit_extract};
use crate::service::State;

/// The `DoPut` descriptor's command.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutCommand {
    source: String,
    as_of: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    region_code: Option<String>,
}

/// The `DoGet` ticket.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum GetTicket {
    /// A batch's results.
    Batch { batch_id: String },
    /// A monitoring run's alerts.
    Run { monitor_run_id: String },
    /// The alerts of every run of a date.
    Date { monitor_run_date: String },
}

/// The alerts as one table.
fn alerts_table(
    alerts: &[hedui_store::StoredAlert],
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let n = alerts.len();
    let mut cols: Vec<StringBuilder> = (0..7)
        .map(|_| StringBuilder::with_capacity(n, n * 16))
        .collect();
    let mut records = ListBuilder::new(StringBuilder::new());
    for a in alerts {
        let m = crate::monitoring::alert_message(&a.line, &a.region_code);
        cols[0].append_value(&m.household_id);
        cols[1].append_value(&m.region_code);
        cols[2].append_value(&m.run_date);
        cols[3].append_value(&m.alert);
        if m.member.is_empty() {
            cols[4].append_null();
        } else {
            cols[4].append_value(&m.member);
        }
        for r in &m.records {
            records
                .values()
                .append_value(format!("{}/{}", r.source, r.record_id));
        }
        records.append(true);
        cols[5].append_value(&m.detail_json);
        cols[6].append_value(&m.line_json);
    }
    let names = [
        "household_id",
        "region_code",
        "run_date",
        "alert",
        "member",
        "detail_json",
        "line_json",
    ];
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, *n == "member"))
        .collect();
    let mut arrays: Vec<ArrayRef> = cols
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    let rec: ArrayRef = Arc::new(records.finish());
    fields.insert(5, Field::new("records", rec.data_type().clone(), false));
    arrays.insert(5, rec);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// The Flight service.
#[derive(Debug, Clone)]
pub(crate) struct Flight(pub(crate) Arc<State>);

impl Flight {
    /// `DoGet` of alerts (see the module docs).
    async fn alerts(
        &self,
        client: Arc<Client>,
        run_id: Option<String>,
        run_date: Option<hedui_model::Date>,
    ) -> Result<Response<BoxStream<'static, Result<FlightData, Status>>>, Status> {
        let state = Arc::clone(&self.0);
        let table = blocking(move || {
            let alerts = crate::monitoring::visible_alerts(
                &state,
                &client,
                "flight_do_get",
                run_id.as_deref(),
                run_date,
            )?;
            crate::monitoring::audit_read(&state, &client, "flight_do_get", &alerts)?;
            alerts_table(&alerts).map_err(|e| internal("building the alerts table", &e))
        })
        .await?;
        let stream = FlightDataEncoderBuilder::new()
            .build(futures::stream::iter([Ok(table)]))
            .map_err(Status::from);
        Ok(Response::new(stream.boxed()))
    }
}

fn not_offered(what: &str) -> Status {
    Status::unimplemented(format!(
        "{what} is not offered: DoPut ingests an extract, DoGet fetches a batch's results"
    ))
}

/// The results table of a batch's outcomes.
fn results_table(outcomes: &[Outcome]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let n = outcomes.len();
    let mut app = StringBuilder::with_capacity(n, n * 16);
    let mut outcome = StringBuilder::with_capacity(n, n * 6);
    let mut dets = ListBuilder::new(StringBuilder::new());
    let mut size = UInt32Builder::with_capacity(n);
    let mut standard = Int64Builder::with_capacity(n);
    let mut income = Int64Builder::with_capacity(n);
    let mut per_capita = Int64Builder::with_capacity(n);
    let mut benefit = Int64Builder::with_capacity(n);
    let mut flags = ListBuilder::new(StringBuilder::new());
    let mut hash = StringBuilder::with_capacity(n, n * 64);
    let mut error = StringBuilder::new();
    for o in outcomes {
        app.append_value(o.application_id());
        match o {
            Outcome::Report(r) => {
                outcome.append_value("report");
                for d in &r.determinations {
                    dets.values().append_value(d);
                }
                dets.append(true);
                size.append_value(r.household_size);
                standard.append_value(r.standard_fen);
                income.append_value(r.household_income_fen);
                per_capita.append_option(r.per_capita_income_fen);
                benefit.append_option(r.benefit_fen);
                for f in &r.flags {
                    flags.values().append_value(&f.code);
                }
                flags.append(true);
                hash.append_value(&r.report_hash);
                error.append_null();
            }
            Outcome::Error(e) => {
                outcome.append_value("error");
                dets.append(true);
                size.append_null();
                standard.append_null();
                income.append_null();
                per_capita.append_null();
                benefit.append_null();
                flags.append(true);
                hash.append_null();
                error.append_value(&e.code);
            }
        }
    }
    let list = |name: &str| {
        Field::new(
            name,
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        )
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("application_id", DataType::Utf8, false),
        Field::new("outcome", DataType::Utf8, false),
        list("determinations"),
        Field::new("household_size", DataType::UInt32, true),
        Field::new("standard_fen", DataType::Int64, true),
        Field::new("household_income_fen", DataType::Int64, true),
        Field::new("per_capita_income_fen", DataType::Int64, true),
        Field::new("benefit_fen", DataType::Int64, true),
        list("flags"),
        Field::new("report_hash", DataType::Utf8, true),
        Field::new("error_code", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(app.finish()),
        Arc::new(outcome.finish()),
        Arc::new(dets.finish()),
        Arc::new(size.finish()),
        Arc::new(standard.finish()),
        Arc::new(income.finish()),
        Arc::new(per_capita.finish()),
        Arc::new(benefit.finish()),
        Arc::new(flags.finish()),
        Arc::new(hash.finish()),
        Arc::new(error.finish()),
    ];
    RecordBatch::try_new(schema, columns)
}

impl Flight {
    /// `DoPut`'s work once the stream is read: authorise, normalise, commit.
    fn ingest(
        &self,
        client: &Client,
        cmd: &PutCommand,
        schema: &arrow::datatypes::SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<PutResult, Status> {
        let state = &self.0;
        let refuse = |s: Status| state.refuse(client, Role::Ingest, "ingest", "", s);
        let table = hedui_sources::table(&cmd.source)
            .map_err(|e| refuse(Status::invalid_argument(format!("descriptor.source: {e}"))))?;
        let as_of = hedui_proto::date_field("descriptor.as_of", &cmd.as_of)
            .map_err(|e| refuse(Status::invalid_argument(e.to_string())))?;
        let region = cmd.region_code.as_deref().unwrap_or("");
        let covered = if region.is_empty() {
            client.regions.iter().any(String::is_empty)
        } else {
            client.sees(region)
        };
        if !covered {
            return Err(refuse(Status::permission_denied(
                "the extract's region is outside this token's region scope (an extract without \
                 region_code needs a scope covering every region)",
            )));
        }
        let file_name = format!("flight:{}", cmd.source);
        let out = hedui_sources::normalise(table, &file_name, schema, batches)
            .map_err(|e| refuse(Status::invalid_argument(e.to_string())))?;
        let got = commit_extract(
            &state.store,
            &ExtractMeta {
                table,
                as_of,
                department: &cmd.department,
                region: cmd.region_code.as_deref(),
                file_name: &file_name,
            },
            out,
        )
        .map_err(|e| internal("committing the snapshot", &format!("{e:#}")))?;
        state.audit(AuditEvent {
            caller: client.name.clone(),
            role: Role::Ingest.code().into(),
            action: "ingest".into(),
            outcome: if got.already_present {
                "ok:already_present"
            } else {
                "ok"
            }
            .into(),
            detail: format!(
                "{} snapshot {} as of {}: accepted {}, quarantined {}",
                got.source, got.id, as_of, got.accepted, got.quarantined
            ),
            ..AuditEvent::default()
        })?;
        tracing::info!(client = %client.name, source = %got.source, snapshot = %got.id, accepted = got.accepted, quarantined = got.quarantined, "ingested over Flight");
        let meta = serde_json::json!({
            "snapshot_id": got.id,
            "source": got.source,
            "accepted": got.accepted,
            "quarantined": got.quarantined,
            "already_present": got.already_present,
        });
        Ok(PutResult {
            app_metadata: meta.to_string().into_bytes().into(),
        })
    }
}

#[tonic::async_trait]
impl FlightService for Flight {
    type HandshakeStream = BoxStream<'static, Result<HandshakeResponse, Status>>;
    type ListFlightsStream = BoxStream<'static, Result<FlightInfo, Status>>;
    type DoGetStream = BoxStream<'static, Result<FlightData, Status>>;
    type DoPutStream = BoxStream<'static, Result<PutResult, Status>>;
    type DoActionStream = BoxStream<'static, Result<hedui_proto::flight::Result, Status>>;
    type ListActionsStream = BoxStream<'static, Result<ActionType, Status>>;
    type DoExchangeStream = BoxStream<'static, Result<FlightData, Status>>;

    async fn handshake(
        &self,
        _: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(not_offered(
            "Handshake (send `authorization: Bearer <token>` on every call)",
        ))
    }

    async fn list_flights(
        &self,
        _: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        Err(not_offered("ListFlights"))
    }

    async fn get_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Err(not_offered("GetFlightInfo"))
    }

    async fn poll_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(not_offered("PollFlightInfo"))
    }

    async fn get_schema(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        Err(not_offered("GetSchema"))
    }

    async fn do_get(&self, req: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        let state = Arc::clone(&self.0);
        let client = state.authenticate(&req, "flight_do_get")?;
        let ticket: GetTicket = serde_json::from_slice(&req.get_ref().ticket).map_err(|e| {
            state.refuse(
                &client,
                Role::Verify,
                "flight_do_get",
                "",
                Status::invalid_argument(format!(
                    "ticket: not {{\"batch_id\": \"…\"}}, {{\"monitor_run_id\": \"…\"}} or \
                     {{\"monitor_run_date\": \"YYYY-MM-DD\"}} ({e})"
                )),
            )
        })?;
        let batch_id = match ticket {
            GetTicket::Batch { batch_id } => batch_id,
            GetTicket::Run { monitor_run_id } => {
                return self.alerts(client, Some(monitor_run_id), None).await;
            }
            GetTicket::Date { monitor_run_date } => {
                let date = hedui_proto::date_field("monitor_run_date", &monitor_run_date).map_err(
                    |e| {
                        state.refuse(
                            &client,
                            Role::Monitor,
                            "flight_do_get",
                            "",
                            Status::invalid_argument(e.to_string()),
                        )
                    },
                )?;
                return self.alerts(client, None, Some(date)).await;
            }
        };
        let batch = blocking(move || {
            let batch = crate::batch::visible_batch(&state, &client, "flight_do_get", &batch_id)?;
            let mut outcomes = Vec::with_capacity(batch.done as usize);
            let mut events = Vec::with_capacity(batch.done as usize);
            let mut after = String::new();
            loop {
                let page = state
                    .jobs
                    .outcomes_page(&batch.id, &after, 5_000)
                    .map_err(|e| internal("reading the jobs database", &e))?;
                let Some(last) = page.last() else { break };
                after.clone_from(&last.application_id);
                for s in &page {
                    let o = Outcome::from_json(&s.json)
                        .map_err(|e| internal("reading a stored report", &e))?;
                    events.push(crate::batch::read_entry(
                        &state,
                        &client,
                        "flight_do_get",
                        &batch,
                        &o,
                    )?);
                    outcomes.push(o);
                }
            }
            state
                .store
                .audit_append_all(events)
                .map_err(|e| internal("appending to the audit log", &e))?;
            results_table(&outcomes).map_err(|e| internal("building the results table", &e))
        })
        .await?;
        let stream = FlightDataEncoderBuilder::new()
            .build(futures::stream::iter([Ok(batch)]))
            .map_err(Status::from);
        Ok(Response::new(stream.boxed()))
    }

    async fn do_put(
        &self,
        req: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        let client = self.0.authenticate(&req, "ingest")?;
        let refuse = |s: Status| self.0.refuse(&client, Role::Ingest, "ingest", "", s);
        if !client.may(Role::Ingest) {
            return Err(refuse(Status::permission_denied(
                "this token does not have the `ingest` role",
            )));
        }
        let mut stream = req.into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| refuse(Status::invalid_argument("the stream is empty")))?;
        let cmd: PutCommand = first
            .flight_descriptor
            .as_ref()
            .map(|d| serde_json::from_slice(&d.cmd))
            .ok_or_else(|| refuse(Status::invalid_argument("descriptor: is required")))?
            .map_err(|e| {
                refuse(Status::invalid_argument(format!(
                    "descriptor.cmd: not {{\"source\", \"as_of\", \"department\", \"region_code\"}} ({e})"
                )))
            })?;
        let data = futures::stream::once(async { Ok(first) })
            .chain(stream)
            .map_err(FlightError::from);
        let mut decoded = FlightRecordBatchStream::new_from_flight_data(data);
        let mut batches = Vec::new();
        while let Some(b) = decoded
            .try_next()
            .await
            .map_err(|e| refuse(Status::invalid_argument(format!("the stream: {e}"))))?
        {
            batches.push(b);
        }
        let schema = match (decoded.schema(), batches.first()) {
            (Some(s), _) => Arc::clone(s),
            (None, Some(b)) => b.schema(),
            (None, None) => {
                return Err(refuse(Status::invalid_argument(
                    "the stream carries no schema",
                )));
            }
        };
        let me = self.clone();
        let result = blocking(move || me.ingest(&client, &cmd, &schema, &batches)).await?;
        Ok(Response::new(futures::stream::iter([Ok(result)]).boxed()))
    }

    async fn do_action(
        &self,
        _: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        Err(not_offered("DoAction"))
    }

    async fn list_actions(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        Err(not_offered("ListActions"))
    }

    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(not_offered("DoExchange"))
    }
}
