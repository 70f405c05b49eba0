//! `hedui serve`, `hedui audit verify`, `hedui token hash`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hedui_server::{Config, State};
use hedui_store::Store;

/// Options of `hedui serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The data directory (default: the configuration's, else ./hedui-data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The configuration file (see deploy/config.example.toml).
    #[arg(long, env = "HEDUI_CONFIG")]
    config: Option<PathBuf>,
    /// HOST:PORT to listen on (default 127.0.0.1:50051).
    #[arg(long)]
    listen: Option<String>,
    /// Folder of regional policy files (default: the embedded reference policy).
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// `hedui serve`: until SIGINT or SIGTERM, then the calls in flight finish.
pub(crate) fn serve(args: &ServeArgs) -> Result<ExitCode> {
    let mut config = Config::load(
        args.config.as_deref(),
        args.listen.as_deref(),
        args.data.as_deref(),
        &crate::default_data_dir(),
    )?;
    if let Some(path) = config.ensure_admin()? {
        println!(
            "no clients configured: an admin token (every role, every region) is in {}",
            path.display()
        );
        println!(
            "   clients send it as `authorization: Bearer <token>` (hedui: --token or HEDUI_TOKEN)"
        );
    }
    let store = Store::open(&config.data)
        .with_context(|| format!("opening the data directory {}", config.data.display()))?;
    let policies = hedui_server::check::policies(args.policies.as_deref())?;
    let mut state = State::new(store, policies, &config.clients, &config.limits)?;
    if let Some(m) = &config.monitor {
        println!(
            "   monitoring {} daily at {} (UTC{})",
            m.roster.display(),
            m.daily_at,
            m.utc_offset
        );
        state.schedule_monitoring(m.clone());
    }
    let state = Arc::new(state);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        println!(
            "hedui serving on {}{}",
            listener.local_addr()?,
            if config.tls.is_some() { " (TLS)" } else { "" }
        );
        hedui_server::run(
            state,
            &config.limits,
            config.tls.as_ref(),
            listener,
            shutdown_signal(),
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// `hedui audit …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Walk the audit log's hash chain: exit 0 if it is whole, 1 naming the first broken entry.
    Verify {
        /// The data directory.
        #[arg(long, default_value_os_t = crate::default_data_dir())]
        data: PathBuf,
    },
}

pub(crate) fn audit(cmd: &AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { data } => {
            let store = Store::open(data)
                .with_context(|| format!("opening the data directory {}", data.display()))?;
            let check = store.audit_verify()?;
            match check.broken {
                None => {
                    println!(
                        "audit log whole: {} entries, head {}",
                        check.entries, check.head
                    );
                    if check.head_behind > 0 {
                        println!(
                            "note: {} is {} entries behind the log (a crash between an append and its head); the next entry rewrites it",
                            hedui_store::AUDIT_HEAD_FILE,
                            check.head_behind
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, why)) => {
                    println!("audit log broken at entry {seq}: {why}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// `hedui token …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Print the blake3 of a token, as a client's `token_blake3` in the configuration.
    Hash {
        /// The token (default: read from HEDUI_TOKEN).
        #[arg(env = "HEDUI_TOKEN")]
        token: String,
    },
}

pub(crate) fn token(cmd: &TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Hash { token } => {
            println!("{}", hedui_server::token_hash(token.trim()));
            Ok(ExitCode::SUCCESS)
        }
    }
}
