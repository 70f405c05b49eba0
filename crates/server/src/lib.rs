//! `hedui-server`: the service — tonic handlers over the check path, with
//! bearer-token roles and region scopes and an audit log entry for every
//! call; gRPC health checking and server reflection so `grpcurl` and load
//! balancers work. Also the check pipeline itself (`check`, `reports`),
//! shared with the command line: the server and `hedui verify` run the
//! same code and give the same reports.
//!
//! [`run`] serves on a listener until a shutdown future resolves.

mod batch;
pub mod check;
pub mod config;
mod flight;
pub mod ingest;
pub mod jobs;
pub mod monitor;
mod monitoring;
mod replay;
pub mod reports;
pub mod schedule;
mod service;

use std::future::Future;
use std::sync::Arc;

use anyhow::{Context, Result};
use hedui_proto::v1;
use tokio::net::TcpListener;

pub use batch::encode_ipc;
pub use config::{
    ADMIN_TOKEN_FILE, Client, Config, DEFAULT_LISTEN, Limits, MonitorSchedule, Role, Tls,
    token_hash,
};
pub use service::{Phases, State, VerifyTimings, report_message};

/// Serves the hedui services, health and reflection on `listener` (over
/// TLS when `tls` is given) until `shutdown` resolves (then finishes the
/// calls in flight).
pub async fn run(
    state: Arc<State>,
    limits: &Limits,
    tls: Option<&Tls>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<v1::verification_server::VerificationServer<service::Verification>>()
        .await;
    health
        .set_serving::<v1::catalog_server::CatalogServer<service::Catalog>>()
        .await;
    health
        .set_serving::<v1::batches_server::BatchesServer<batch::Batches>>()
        .await;
    health
        .set_serving::<v1::audit_server::AuditServer<replay::Audit>>()
        .await;
    health
        .set_serving::<v1::monitoring_server::MonitoringServer<monitoring::Monitoring>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("building the reflection service")?;
    let verification =
        v1::verification_server::VerificationServer::new(service::Verification(Arc::clone(&state)))
            .max_decoding_message_size(limits.max_request_bytes);
    let catalog = v1::catalog_server::CatalogServer::new(service::Catalog(Arc::clone(&state)))
        .max_decoding_message_size(limits.max_request_bytes);
    let batches = v1::batches_server::BatchesServer::new(batch::Batches(Arc::clone(&state)))
        .max_decoding_message_size(limits.max_batch_bytes)
        .max_encoding_message_size(usize::MAX);
    let audit = v1::audit_server::AuditServer::new(replay::Audit(Arc::clone(&state)))
        .max_decoding_message_size(limits.max_request_bytes);
    let monitoring =
        v1::monitoring_server::MonitoringServer::new(monitoring::Monitoring(Arc::clone(&state)))
            .max_decoding_message_size(limits.max_batch_bytes)
            .max_encoding_message_size(usize::MAX);
    let flight = hedui_proto::flight::flight_service_server::FlightServiceServer::new(
        flight::Flight(Arc::clone(&state)),
    )
    .max_decoding_message_size(limits.max_batch_bytes)
    .max_encoding_message_size(usize::MAX);
    health
        .set_serving::<hedui_proto::flight::flight_service_server::FlightServiceServer<flight::Flight>>()
        .await;
    // The batch runner: takes up unfinished batches now (a restart), and
    // each batch as it is submitted.
    let (runner_done, runner_stopped) = tokio::sync::oneshot::channel::<()>();
    {
        let state = Arc::clone(&state);
        std::thread::Builder::new()
            .name("hedui-batches".into())
            .spawn(move || {
                batch::runner(&state);
                let _ = runner_done.send(());
            })
            .context("starting the batch runner")?;
    }
    let scheduler_stopped = match state.schedule.clone() {
        Some(cfg) => {
            let (done, stopped) = tokio::sync::oneshot::channel::<()>();
            let state = Arc::clone(&state);
            std::thread::Builder::new()
                .name("hedui-monitor-schedule".into())
                .spawn(move || {
                    schedule::scheduler(&state, &cfg, &schedule::SystemClock);
                    let _ = done.send(());
                })
                .context("starting the monitoring schedule")?;
            Some(stopped)
        }
        None => None,
    };
    tracing::info!(addr = ?listener.local_addr().ok(), "serving");
    // Once `shutdown` resolves, calls in flight get the grace period to
    // finish; connections still open after it are dropped.
    let (fired, on_fire) = tokio::sync::oneshot::channel::<()>();
    let stopping = Arc::clone(&state);
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing the calls in flight");
        // The batch runner stops after its chunk in flight; what it has
        // not done is resumed at the next start.
        stopping.stop();
        let _ = fired.send(());
    };
    let mut builder = tonic::transport::Server::builder();
    if let Some(t) = tls {
        builder = builder
            .tls_config(t.server_config()?)
            .context("configuring TLS")?;
    }
    let serve = builder
        .concurrency_limit_per_connection(limits.concurrency_per_connection)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(verification)
        .add_service(catalog)
        .add_service(batches)
        .add_service(audit)
        .add_service(monitoring)
        .add_service(flight)
        .serve_with_incoming_shutdown(
            // No Nagle: an answer's last frames (data, trailers) go out
            // at once instead of waiting for the caller's delayed ACK,
            // which held every Verify for tens of milliseconds.
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            signal,
        );
    let grace = std::time::Duration::from_secs(limits.shutdown_grace_seconds);
    tokio::select! {
        r = serve => r.context("serving")?,
        () = async {
            if on_fire.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!("connections still open after the grace period: stopping");
        }
    }
    // The runner's chunk in flight may finish within the grace period.
    state.stop();
    if tokio::time::timeout(grace, runner_stopped).await.is_err() {
        tracing::warn!(
            "the batch runner's chunk in flight did not finish: it is redone at the next start"
        );
    }
    if let Some(stopped) = scheduler_stopped
        && tokio::time::timeout(grace, stopped).await.is_err()
    {
        tracing::warn!(
            "the monitoring run in flight did not finish: it is run again at the next start"
        );
    }
    tracing::info!("stopped");
    Ok(())
}
