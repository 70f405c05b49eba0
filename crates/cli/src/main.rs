//! `hedui`: the one binary of the verification service.
//!
//! Parses the command line, sets up logging, and calls the libraries:
//! `gen` (hedui-synth), `ingest` and `snapshots` (hedui-sources and
//! hedui-store), `verify` and `replay` (hedui-engine, hedui-policy,
//! hedui-report), `demo` (all of them on the embedded default).

mod demo;
mod gen_city;
mod ingest;
pub(crate) mod monitor;
mod progress;
mod remote;
mod serve;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc, not glibc malloc: the engine allocates and frees millions of
/// small facts per batch, and glibc's allocator fragments under that load
/// (a quarter of a 1M-person monitoring run went to `_int_malloc`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use hedui_model::Date;

/// hedui (核对): household economic-status verification.
#[derive(Debug, Parser)]
#[command(name = "hedui", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a synthetic city: every extract, check requests, a roster and the ground truth.
    Gen(gen_city::GenArgs),
    /// Ingest department extracts (Parquet, Arrow IPC, CSV) into snapshots.
    Ingest(ingest::IngestArgs),
    /// List the snapshots in the catalog.
    Snapshots(ingest::SnapshotsArgs),
    /// Check every application of a request folder; write reports and a summary.
    Verify(verify::VerifyArgs),
    /// Recompute a report from the inputs it names: `identical <hash>` or the differences.
    Replay(verify::ReplayArgs),
    /// A monitoring run over a roster on a run date: alerts as JSON lines.
    Monitor(monitor::MonitorArgs),
    /// The whole job on the embedded default: a synthetic city, ingested; prints where everything is.
    Demo(demo::DemoArgs),
    /// The gRPC server (health and reflection included).
    Serve(serve::ServeArgs),
    /// The audit log.
    #[command(subcommand)]
    Audit(serve::AuditCommand),
    /// Bearer tokens.
    #[command(subcommand)]
    Token(serve::TokenCommand),
}

/// Parses `YYYY-MM-DD` for clap.
pub(crate) fn parse_date_arg(s: &str) -> Result<Date, String> {
    hedui_model::time::parse_date(s).map_err(|e| e.to_string())
}

/// The default data directory.
pub(crate) fn default_data_dir() -> PathBuf {
    PathBuf::from("hedui-data")
}

/// Crates whose debug and trace output carries query values (DataFusion
/// logs pushed-down predicates: the ids of a batch's members; h2 and hyper
/// log headers: bearer tokens). Their events below INFO are dropped,
/// whatever `HEDUI_LOG` asks: no log line may hold an id number.
const VALUE_LOGGING_CRATES: &[&str] = &[
    "datafusion",
    "parquet",
    "arrow",
    "sqlparser",
    "h2",
    "hyper",
    "tonic",
    "tower",
];

/// Logging to stderr, filtered by `HEDUI_LOG` (default `warn`).
fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let env = tracing_subscriber::EnvFilter::try_from_env("HEDUI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let no_values = tracing_subscriber::filter::filter_fn(|meta| {
        let t = meta.target();
        let valued = VALUE_LOGGING_CRATES.iter().any(|c| t.starts_with(c));
        !(valued && *meta.level() > tracing::Level::INFO)
    });
    // Both filters are global, not per-layer: a per-layer filter records
    // its verdict in a thread-local that only a dispatched event clears,
    // so a `log` record it refused (DataFusion asks whether its debug
    // output is enabled) made it drop the next event on that thread — a
    // batch's "batch done" never reached the log.
    tracing_subscriber::registry()
        .with(env)
        .with(no_values)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    hedui::allocator::set_purge(match cli.command {
        Command::Serve(_) => hedui::allocator::SERVER,
        _ => hedui::allocator::Purge::AtExit,
    });
    init_logging();
    let result = match cli.command {
        Command::Gen(a) => gen_city::run(&a),
        Command::Ingest(a) => ingest::run(&a),
        Command::Snapshots(a) => ingest::list(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Replay(a) => verify::replay(&a),
        Command::Monitor(a) => monitor::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Serve(a) => serve::serve(&a),
        Command::Audit(a) => serve::audit(&a),
        Command::Token(a) => serve::token(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
