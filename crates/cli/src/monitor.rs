//! `hedui monitor`: a monitoring run (动态监测, rules §7) over a roster on a
//! run date; the alerts as JSON lines (report.md), sorted by household,
//! alert and member.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use hedui_model::Date;
use hedui_store::Store;

use hedui::monitor::MonitorOutput;

/// Options of `hedui monitor`.
#[derive(Debug, Args)]
pub(crate) struct MonitorArgs {
    /// The data directory.
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    data: PathBuf,
    /// A folder with `roster_households.*` and `roster_members.*`.
    #[arg(long)]
    roster: PathBuf,
    /// The run date (YYYY-MM-DD): snapshots current on it, alerts since the previous run.
    #[arg(long, value_parser = crate::parse_date_arg)]
    run_date: Date,
    /// Where the alerts go, one JSON line each.
    #[arg(long)]
    out: PathBuf,
    /// A folder of policy files (default: the reference policy).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// With --server: why the roster's data is queried (for the audit log).
    #[arg(long)]
    purpose: Option<String>,
    #[command(flatten)]
    remote: crate::remote::ServerArgs,
}

pub(crate) use hedui::monitor::write_lines;

/// The households that could not be monitored (or only in part), as JSON
/// lines beside the alerts: `FILE.errors.jsonl`.
fn errors_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".errors.jsonl");
    PathBuf::from(s)
}

/// Prints what a run found.
pub(crate) fn print_run(o: &MonitorOutput, secs: f64) {
    let counts = o.counts();
    println!(
        "monitored {} households on {}: {} alerts in {secs:.1} s (run {})",
        o.households.len(),
        o.run.run_date,
        o.lines.len(),
        &o.run.run_id[..16]
    );
    if !counts.is_empty() {
        println!(
            "   alerts: {}",
            counts
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let errors = o.errors().count();
    if errors > 0 {
        println!("   {errors} households not (fully) monitored: see the .errors.jsonl file");
    }
}

/// Runs and writes a monitoring run; returns it.
pub(crate) fn run_to_file(
    store: &Store,
    policies: &hedui_policy::PolicySet,
    roster: &Path,
    run_date: Date,
    out: &Path,
) -> Result<MonitorOutput> {
    let (h, m) = hedui_engine::load_roster_tables(roster)
        .with_context(|| format!("reading the roster in {}", roster.display()))?;
    let o = hedui::monitor::run_monitor(store, policies, &h, &m, run_date)?;
    write_lines(out, &o.lines)?;
    let errors: Vec<String> = o
        .errors()
        .map(|h| {
            let (code, message) = h.error.clone().unwrap_or_default();
            hedui_report::canonical::canonical_value_json(&serde_json::json!({
                "household_id": h.household_id,
                "run_date": run_date,
                "error": {"code": code, "message": message},
            }))
        })
        .collect();
    write_errors(out, &errors)?;
    Ok(o)
}

/// Writes the households not monitored beside the alerts
/// (`FILE.errors.jsonl`), or removes a stale file when there are none.
pub(crate) fn write_errors(out: &Path, errors: &[String]) -> Result<()> {
    let ep = errors_path(out);
    if errors.is_empty() {
        match std::fs::remove_file(&ep) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", ep.display()))
            }
            _ => Ok(()),
        }
    } else {
        write_lines(&ep, errors)
    }
}

/// `hedui monitor`.
pub(crate) fn run(args: &MonitorArgs) -> Result<ExitCode> {
    if args.remote.server.is_some() {
        return crate::remote::monitor(
            &args.remote,
            &args.roster,
            args.run_date,
            &args.out,
            args.purpose.as_deref(),
        );
    }
    let started = Instant::now();
    let store = Store::open(&args.data)
        .with_context(|| format!("opening the data directory {}", args.data.display()))?;
    let policies = hedui::check::policies(args.policies.as_deref())?;
    let o = run_to_file(&store, &policies, &args.roster, args.run_date, &args.out)?;
    print_run(&o, started.elapsed().as_secs_f64());
    println!(
        "   time: linking {:.2} s, gathering {:.2} s, state + policy + recording {:.2} s",
        o.timings.link.as_secs_f64(),
        o.timings.gather.as_secs_f64(),
        o.timings.state_and_policy.as_secs_f64()
    );
    println!("   alerts in {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
