//! The commands against a server (`--server URL`): `hedui verify` submits
//! its request folder as a batch, watches it and writes the reports as the
//! offline command does; `hedui replay` asks the server to replay.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use hedui_proto::v1;
use hedui_report::Outcome;
use tonic::Request;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

use hedui::check;
use hedui::reports::ReportWriter;

/// How to reach a server.
#[derive(Debug, Args, Clone)]
pub(crate) struct ServerArgs {
    /// A hedui server (e.g. http://127.0.0.1:50051): the work is done there.
    #[arg(long)]
    pub(crate) server: Option<String>,
    /// The bearer token for --server.
    #[arg(long, env = "HEDUI_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// For an https:// server: the CA certificate (PEM) its certificate is
    /// checked against.
    #[arg(long)]
    pub(crate) ca: Option<std::path::PathBuf>,
    /// For a server that asks for client certificates: this client's
    /// certificate (PEM), with --client-key.
    #[arg(long, requires = "client_key")]
    pub(crate) client_cert: Option<std::path::PathBuf>,
    /// This client's private key (PEM).
    #[arg(long, requires = "client_cert")]
    pub(crate) client_key: Option<std::path::PathBuf>,
}

/// A connected client: the channel and the bearer header.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    channel: Channel,
    bearer: MetadataValue<tonic::metadata::Ascii>,
}

impl Remote {
    /// Connects to `server` with `token`.
    pub(crate) async fn connect(args: &ServerArgs) -> Result<Remote> {
        let url = args.server.clone().context("--server is required")?;
        let Some(token) = args.token.as_deref() else {
            bail!("--server needs a token: --token or HEDUI_TOKEN");
        };
        let bearer = format!("Bearer {}", token.trim())
            .parse()
            .context("the token is not a valid header value")?;
        let mut endpoint = Endpoint::from_shared(url.clone())
            .with_context(|| format!("{url} is not a server URL"))?;
        if url.starts_with("https://") {
            let Some(ca) = &args.ca else {
                bail!(
                    "an https:// server needs --ca: the CA certificate its certificate is checked against"
                );
            };
            let read =
                |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
            let mut tls = tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(read(ca)?));
            if let (Some(c), Some(k)) = (&args.client_cert, &args.client_key) {
                tls = tls.identity(tonic::transport::Identity::from_pem(read(c)?, read(k)?));
            }
            endpoint = endpoint.tls_config(tls).context("configuring TLS")?;
        }
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("connecting to {url}"))?;
        Ok(Remote { channel, bearer })
    }

    /// A request with the bearer header.
    pub(crate) fn request<T>(&self, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        r.metadata_mut()
            .insert("authorization", self.bearer.clone());
        r
    }

    fn batches(&self) -> v1::batches_client::BatchesClient<Channel> {
        v1::batches_client::BatchesClient::new(self.channel.clone())
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX)
    }

    fn audit(&self) -> v1::audit_client::AuditClient<Channel> {
        v1::audit_client::AuditClient::new(self.channel.clone())
            .max_decoding_message_size(usize::MAX)
    }
}

/// A gRPC status as an error that says what the server said.
fn status(what: &str, s: &tonic::Status) -> anyhow::Error {
    anyhow::anyhow!(
        "{what}: the server answered {:?}: {}",
        s.code(),
        s.message()
    )
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the client runtime")
}

/// One request table of a folder, as the Arrow IPC stream `SubmitBatch`
/// carries (read as `hedui verify` reads it; the server normalises it).
fn table_ipc(dir: &Path, stem: &str) -> Result<Vec<u8>> {
    let path = check::find(dir, stem)?;
    let (schema, batches) = hedui_sources::read_file(&path)?;
    hedui_server::encode_ipc(&schema, &batches)
        .with_context(|| format!("encoding {}", path.display()))
}

/// `hedui verify --server`: the folder's tables submitted as one batch,
/// its progress shown, its reports written to `out` as the offline
/// command writes them.
pub(crate) fn verify(
    server: &ServerArgs,
    requests: &Path,
    out: &Path,
    purpose: Option<&str>,
) -> Result<ExitCode> {
    let started = Instant::now();
    let Some(purpose) = purpose else {
        bail!(
            "--server needs --purpose: why the households are checked is recorded with every query"
        );
    };
    let submit = v1::SubmitBatchRequest {
        applications_ipc: table_ipc(requests, "applications")?,
        members_ipc: table_ipc(requests, "members")?,
        households: Vec::new(),
        purpose: purpose.to_owned(),
    };
    let rt = runtime()?;
    let summary = rt.block_on(async {
        let remote = Remote::connect(server).await?;
        let answer = remote
            .batches()
            .submit_batch(remote.request(submit))
            .await
            .map_err(|s| status("submitting the batch", &s))?
            .into_inner();
        println!(
            "batch {} of {} households {}",
            answer.batch_id,
            answer.total,
            if answer.existing {
                "(submitted before: the same batch)"
            } else {
                "submitted"
            }
        );
        let pb = crate::progress::bar(answer.total, "checking households".into());
        let mut watch = remote
            .batches()
            .watch_batch(remote.request(v1::WatchBatchRequest {
                batch_id: answer.batch_id.clone(),
            }))
            .await
            .map_err(|s| status("watching the batch", &s))?
            .into_inner();
        let mut last = None;
        while let Some(p) = watch
            .message()
            .await
            .map_err(|s| status("watching the batch", &s))?
        {
            pb.set_position(p.done);
            last = Some(p);
        }
        pb.finish_and_clear();
        match &last {
            Some(p) if p.state == "done" => {}
            _ => bail!(
                "the server stopped answering before batch {} was done; `hedui verify --server` \
                 again picks it up where it is",
                answer.batch_id
            ),
        }
        let writer = ReportWriter::create(out)?;
        let mut after = String::new();
        loop {
            let page = remote
                .batches()
                .list_batch_reports(remote.request(v1::ListBatchReportsRequest {
                    batch_id: answer.batch_id.clone(),
                    after: after.clone(),
                    limit: 0,
                }))
                .await
                .map_err(|s| status("fetching the reports", &s))?
                .into_inner();
            for r in &page.reports {
                let o = Outcome::from_json(&r.json)
                    .with_context(|| format!("the report of {}", r.application_id))?;
                writer.write(&o)?;
            }
            if page.next_after.is_empty() {
                break;
            }
            after = page.next_after;
        }
        writer.finish()
    })?;
    crate::verify::print_summary(&summary, " on the server", started.elapsed().as_secs_f64());
    println!(
        "   reports in {} (summary.json, <application_id>.json and .html)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `hedui ingest --server`: each file streamed to the server with Flight
/// `DoPut`; the server normalises and commits it as `hedui ingest` does.
pub(crate) fn ingest(
    server: &ServerArgs,
    files: &[(std::path::PathBuf, String)],
    as_of: hedui_model::Date,
    department: &str,
    region: Option<&str>,
) -> Result<ExitCode> {
    use futures::TryStreamExt as _;
    use hedui_proto::flight::encode::FlightDataEncoderBuilder;
    use hedui_proto::flight::{FlightClient, FlightDescriptor};
    let rt = runtime()?;
    rt.block_on(async {
        let remote = Remote::connect(server).await?;
        let mut client = FlightClient::new(remote.channel.clone());
        client
            .add_header("authorization", remote.bearer.to_str()?)
            .context("the token is not a valid header value")?;
        let mut failed = 0;
        for (path, source) in files {
            let (schema, batches) = hedui_sources::read_file(path)?;
            let cmd = serde_json::json!({
                "source": source,
                "as_of": as_of.to_string(),
                "department": department,
                "region_code": region,
            });
            let data = FlightDataEncoderBuilder::new()
                .with_schema(schema)
                .with_flight_descriptor(Some(FlightDescriptor::new_cmd(cmd.to_string())))
                .build(futures::stream::iter(batches.into_iter().map(Ok)));
            let answer = match client.do_put(data).await {
                Ok(s) => s.try_collect::<Vec<_>>().await,
                Err(e) => Err(e),
            };
            match answer {
                Ok(results) => {
                    for r in results {
                        let v: serde_json::Value = serde_json::from_slice(&r.app_metadata)
                            .context("the server's answer is not JSON")?;
                        let n = |k: &str| v[k].as_u64().unwrap_or(0) as usize;
                        crate::ingest::print_ingested(&crate::ingest::Ingested {
                            source: v["source"].as_str().unwrap_or_default().to_owned(),
                            id: v["snapshot_id"].as_str().unwrap_or_default().to_owned(),
                            accepted: n("accepted"),
                            quarantined: n("quarantined"),
                            reasons: String::new(),
                            already_present: v["already_present"].as_bool().unwrap_or(false),
                        });
                    }
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {}: {e}", path.display());
                }
            }
        }
        if failed > 0 {
            eprintln!(
                "{failed} of {} extracts were refused; nothing of them was stored",
                files.len()
            );
            return Ok(ExitCode::FAILURE);
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `hedui replay --server`: each report replayed by the server.
pub(crate) fn replay(server: &ServerArgs, reports: &[std::path::PathBuf]) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let remote = Remote::connect(server).await?;
        let mut code = ExitCode::SUCCESS;
        for path in reports {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let r = remote
                .audit()
                .replay(remote.request(v1::ReplayRequest {
                    report: Some(v1::replay_request::Report::ReportJson(text)),
                }))
                .await
                .map_err(|s| status(&format!("replaying {}", path.display()), &s))?
                .into_inner();
            let verdict = check::Replayed {
                application_id: String::new(),
                region_code: String::new(),
                report_hash: r.report_hash,
                differences: r.differences,
            };
            if !crate::verify::print_replayed(&path.display().to_string(), &verdict) {
                code = ExitCode::FAILURE;
            }
        }
        Ok(code)
    })
}

/// `hedui monitor --server`: the roster folder's tables sent with
/// `RunMonitor`; the alerts streamed back are written to `out` as the
/// offline command writes them (the same lines), the households not
/// monitored beside them.
pub(crate) fn monitor(
    server: &ServerArgs,
    roster: &Path,
    run_date: hedui_model::Date,
    out: &Path,
    purpose: Option<&str>,
) -> Result<ExitCode> {
    let started = Instant::now();
    let Some(purpose) = purpose else {
        bail!(
            "--server needs --purpose: why the roster's data is queried (recorded in the server's audit log)"
        );
    };
    let request = v1::RunMonitorRequest {
        roster_households_ipc: table_ipc(roster, "roster_households")?,
        roster_members_ipc: table_ipc(roster, "roster_members")?,
        run_date: run_date.to_string(),
        purpose: purpose.to_owned(),
    };
    let rt = runtime()?;
    let (lines, summary) = rt.block_on(async {
        let remote = Remote::connect(server).await?;
        let mut client = v1::monitoring_client::MonitoringClient::new(remote.channel.clone())
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let mut stream = client
            .run_monitor(remote.request(request))
            .await
            .map_err(|s| status("RunMonitor", &s))?
            .into_inner();
        let mut lines = Vec::new();
        let mut summary = None;
        while let Some(item) = stream
            .message()
            .await
            .map_err(|s| status("RunMonitor", &s))?
        {
            match item.item {
                Some(v1::run_monitor_response::Item::Alert(a)) => lines.push(a.line_json),
                Some(v1::run_monitor_response::Item::Summary(s)) => summary = Some(s),
                None => {}
            }
        }
        let summary = summary.context("the server's stream ended without the run's summary")?;
        Ok::<_, anyhow::Error>((lines, summary))
    })?;
    crate::monitor::write_lines(out, &lines)?;
    let errors: Vec<String> = summary
        .errors
        .iter()
        .map(|e| {
            hedui_report::canonical::canonical_value_json(&serde_json::json!({
                "household_id": e.household_id,
                "run_date": summary.run_date,
                "error": {"code": e.code, "message": e.message},
            }))
        })
        .collect();
    crate::monitor::write_errors(out, &errors)?;
    println!(
        "monitored {} households on {} at {}: {} alerts in {:.1} s (run {})",
        summary.households,
        summary.run_date,
        server.server.as_deref().unwrap_or_default(),
        summary.alerts,
        started.elapsed().as_secs_f64(),
        &summary.run_id[..summary.run_id.len().min(16)]
    );
    if !errors.is_empty() {
        println!(
            "   {} households not (fully) monitored: see the .errors.jsonl file",
            errors.len()
        );
    }
    println!("   alerts in {}", out.display());
    Ok(ExitCode::SUCCESS)
}
