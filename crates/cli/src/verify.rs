//! `hedui verify` and `hedui replay`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use hedui_engine::Selection;
use hedui_store::Store;

use hedui::check;
use hedui::reports::ReportWriter;

/// Options of `hedui verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The data directory (snapshots and catalog).
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    data: PathBuf,
    /// Folder with applications.* and members.* (Parquet, Arrow IPC or CSV).
    #[arg(long)]
    requests: PathBuf,
    /// Where reports go: <application_id>.json and .html, and summary.json.
    #[arg(long)]
    out: PathBuf,
    /// Folder of regional policy files (default: the embedded reference policy).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// With --server: why the households are checked (recorded in the
    /// audit log with every household's query).
    #[arg(long)]
    purpose: Option<String>,
    #[command(flatten)]
    remote: crate::remote::ServerArgs,
}

/// Options of `hedui replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The data directory.
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    data: PathBuf,
    /// Folder of regional policy files (default: the embedded reference policy).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Reports written by `hedui verify` (one or more).
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    #[command(flatten)]
    remote: crate::remote::ServerArgs,
}

/// A batch's summary for the terminal: households, reports, errors
/// (`where_` says where they were checked), then the counts.
pub(crate) fn print_summary(summary: &serde_json::Value, where_: &str, secs: f64) {
    let count = |k: &str| {
        summary
            .get(k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    println!(
        "checked {} households{where_}: {} reports, {} not checkable, in {secs:.1} s",
        count("applications"),
        count("reports"),
        count("errors"),
    );
    print_counts(summary);
}

/// Counts of determinations and errors of a batch's summary, for the
/// terminal.
pub(crate) fn print_counts(summary: &serde_json::Value) {
    let fmt = |key: &str| {
        summary
            .get(key)
            .and_then(serde_json::Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| v.as_u64().unwrap_or(0) > 0)
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    println!("   determinations: {}", fmt("determinations"));
    let errors = fmt("error_codes");
    if !errors.is_empty() {
        println!("   not checkable:  {errors}");
    }
}

/// `hedui verify`: each report written as soon as it is built.
pub(crate) fn run(args: &VerifyArgs) -> Result<ExitCode> {
    if args.remote.server.is_some() {
        return crate::remote::verify(
            &args.remote,
            &args.requests,
            &args.out,
            args.purpose.as_deref(),
        );
    }
    let started = Instant::now();
    let store = Store::open(&args.data)
        .with_context(|| format!("opening the data directory {}", args.data.display()))?;
    let policies = check::policies(args.policies.as_deref())?;
    let (requests, request_snaps) = check::load_and_store_requests(&store, &args.requests)?;
    let total = requests.requests.len() + requests.rejected.len();
    let pb = crate::progress::bar(total as u64, "checking households".into());
    let writer = ReportWriter::create(&args.out)?;
    let t = check::run_checks_each(
        &store,
        &requests,
        &request_snaps,
        &Selection::Newest,
        None,
        &policies,
        None,
        &|_, o, json| {
            writer.write_json(&o, &json)?;
            pb.inc(1);
            Ok(())
        },
    )?;
    let summary = writer.finish()?;
    pb.finish_and_clear();
    print_summary(&summary, "", started.elapsed().as_secs_f64());
    let queries: f64 = t.gather.queries.values().map(|d| d.as_secs_f64()).sum();
    println!(
        "   time: linking {:.2} s, DataFusion {:.2} s, assembling facts {:.2} s, policy + report {:.2} s, writing {:.2} s",
        t.link.as_secs_f64(),
        queries,
        (t.gather.assemble + t.facts()).as_secs_f64(),
        t.policy_and_report().as_secs_f64(),
        t.sink().as_secs_f64()
    );
    println!(
        "   reports in {} (summary.json, <application_id>.json and .html)",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `hedui replay`.
pub(crate) fn replay(args: &ReplayArgs) -> Result<ExitCode> {
    if args.remote.server.is_some() {
        return crate::remote::replay(&args.remote, &args.reports);
    }
    let store = Store::open(&args.data)
        .with_context(|| format!("opening the data directory {}", args.data.display()))?;
    let policies = check::policies(args.policies.as_deref())?;
    let mut code = ExitCode::SUCCESS;
    for report in &args.reports {
        if !replay_one(&store, &policies, report)? {
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

/// Replays one report: prints `identical <hash>` and returns true, or
/// prints the differences and returns false.
fn replay_one(
    store: &Store,
    policies: &hedui_policy::PolicySet,
    report: &std::path::Path,
) -> Result<bool> {
    let text =
        std::fs::read_to_string(report).with_context(|| format!("reading {}", report.display()))?;
    let r = check::replay(store, policies, &text).with_context(|| report.display().to_string())?;
    Ok(print_replayed(&report.display().to_string(), &r))
}

/// Prints a replay's verdict; true when identical.
pub(crate) fn print_replayed(what: &str, r: &check::Replayed) -> bool {
    if r.differences.is_empty() {
        println!("identical {}", r.report_hash);
        true
    } else {
        println!(
            "{} differences between {what} and the recomputed report:",
            r.differences.len(),
        );
        for d in &r.differences {
            println!("  {d}");
        }
        false
    }
}
