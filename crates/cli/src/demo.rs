//! `hedui demo`: the whole job on the embedded default, from nothing but
//! the repository: a synthetic city generated, every department extract
//! ingested into snapshots, every record linked to a person, the city's
//! check requests verified into reports, and two monitoring runs over the
//! city's roster (on the first snapshots, then on a later snapshot with
//! deaths, new cars, new wages... between them) plus a rerun; prints where
//! everything is.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hedui_store::Store;
use hedui_synth::CityConfig;

use crate::ingest::{ingest_file, print_ingested};

/// Options of `hedui demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Where the city and the data directory go.
    #[arg(long, default_value = "hedui-demo")]
    dir: PathBuf,
    /// Persons in the city.
    #[arg(long, default_value_t = 20_000)]
    persons: usize,
    /// Seed.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// `hedui demo`.
pub(crate) fn run(args: &DemoArgs) -> Result<ExitCode> {
    let city = args.dir.join("city");
    let data = args.dir.join("data");
    let mut cfg = CityConfig::new(args.persons, args.seed);
    // A later snapshot a month on, for the monitoring runs.
    let later = cfg
        .as_of
        .checked_add_months(chrono::Months::new(1))
        .context("a later date")?;
    cfg.later = Some(later);
    println!(
        "1. generating a synthetic city of {} persons into {}",
        args.persons,
        city.display()
    );
    let summary = crate::gen_city::generate(&cfg, &city)?;
    println!(
        "   {} households, {} department records, {} check requests, {} roster households",
        summary.households, summary.department_records, summary.requests, summary.roster_households
    );

    println!(
        "2. ingesting every department extract into {}",
        data.display()
    );
    let store = Store::open(&data).with_context(|| format!("opening {}", data.display()))?;
    let mut accepted = 0;
    let mut quarantined = 0;
    for table in hedui_sources::tables::ALL
        .iter()
        .filter(|t| t.kind == hedui_sources::TableKind::Department)
    {
        let path = city
            .join("extracts")
            .join(format!("{}.parquet", table.name));
        let i = ingest_file(
            &store,
            &path,
            table.name,
            summary.as_of,
            table.label_zh,
            None,
        )?;
        accepted += i.accepted;
        quarantined += i.quarantined;
        print_ingested(&i);
    }
    println!(
        "   {accepted} rows accepted, {quarantined} quarantined (each with its reason, in the snapshot's quarantine.parquet)"
    );

    println!("3. linking every record to a person (identity resolution)");
    let snapshots = hedui_engine::select(&store, &hedui_engine::Selection::Newest)?;
    let linker = hedui::check::link(&store, &snapshots, None)?;
    println!(
        "   matcher {} (registry of {} persons)",
        linker.model.hash(),
        linker.registry.len()
    );

    let reports = args.dir.join("reports");
    println!(
        "4. checking the {} requests of {}",
        summary.requests,
        city.join("requests").display()
    );
    let policies = hedui::check::policies(None)?;
    let (requests, request_snaps) =
        hedui::check::load_and_store_requests(&store, &city.join("requests"))?;
    let (outcomes, _) = hedui::check::run_checks(
        &store,
        &requests,
        &request_snaps,
        &hedui_engine::Selection::Newest,
        None,
        &policies,
        None,
    )?;
    let summary_as_of = summary.as_of;
    let summary = hedui::reports::write_outcomes(&reports, &outcomes)?;
    crate::verify::print_counts(&summary);
    let agreement =
        hedui::check::truth_agreement(&store, &city, &requests, &request_snaps, &outcomes)?;
    println!(
        "   agreement with the ground truth (the same checks with every record on its true person): {} of {} households ({:.1} %)",
        agreement.agreed,
        agreement.compared,
        100.0 * agreement.agreed as f64 / agreement.compared.max(1) as f64
    );
    for (app, ours, truth) in agreement.differing.iter().take(5) {
        println!(
            "     {app}: {} here, {} from the truth",
            ours.join("+"),
            truth.join("+")
        );
    }

    let alerts = monitoring(&store, &policies, &city, summary_as_of, later, &args.dir)?;

    println!("6. where everything is:");
    println!(
        "   reports            {}  (summary.json; <application_id>.json and .html)",
        reports.display()
    );
    if let Some(first) = outcomes
        .iter()
        .find(|o| matches!(o, hedui_report::Outcome::Report(_)))
    {
        let stem = hedui::reports::safe_file_stem(first.application_id());
        println!(
            "   e.g.               {}",
            reports.join(format!("{stem}.html")).display()
        );
        println!(
            "   replay it with:    hedui replay --data {} {}",
            data.display(),
            reports.join(format!("{stem}.json")).display()
        );
    }
    println!("   extracts           {}", city.join("extracts").display());
    println!("   check requests     {}", city.join("requests").display());
    println!("   monitoring roster  {}", city.join("roster").display());
    println!(
        "   alerts             {}  (one JSON line per alert; the later snapshot in {})",
        alerts.display(),
        city.join("later").display()
    );
    println!("   ground truth       {}", city.join("truth").display());
    println!("   snapshots          {}", data.join("snapshots").display());
    println!(
        "   catalog            {}",
        data.join("catalog.sqlite").display()
    );
    println!(
        "   list them with:    hedui snapshots --data {}",
        data.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Step 5 of the demo: monitoring run 1 on the first snapshots, the later
/// snapshot ingested, run 2 on it, each compared with the alerts the
/// ground truth implies, and a rerun of run 2 (nothing new). Returns the
/// folder of the alert files.
fn monitoring(
    store: &Store,
    policies: &hedui_policy::PolicySet,
    city: &std::path::Path,
    first: hedui_model::Date,
    later: hedui_model::Date,
    dir: &std::path::Path,
) -> Result<PathBuf> {
    let roster = city.join("roster");
    let alerts = dir.join("alerts");
    println!(
        "5. monitoring the roster of {} (动态监测): a run on {first}, the snapshot of {later}, a run on {later}",
        roster.display()
    );
    let t = std::time::Instant::now();
    let run1 = crate::monitor::run_to_file(
        store,
        policies,
        &roster,
        first,
        &alerts.join(format!("{first}.jsonl")),
    )?;
    crate::monitor::print_run(&run1, t.elapsed().as_secs_f64());
    for table in hedui_sources::tables::ALL
        .iter()
        .filter(|t| t.kind == hedui_sources::TableKind::Department)
    {
        let path = city
            .join("later/extracts")
            .join(format!("{}.parquet", table.name));
        ingest_file(store, &path, table.name, later, table.label_zh, None)?;
    }
    println!("   ingested the later snapshot of every extract (as of {later})");
    let t = std::time::Instant::now();
    let run2 = crate::monitor::run_to_file(
        store,
        policies,
        &roster,
        later,
        &alerts.join(format!("{later}.jsonl")),
    )?;
    crate::monitor::print_run(&run2, t.elapsed().as_secs_f64());
    let (h, m) = hedui_engine::load_roster_tables(&roster)?;
    let agreement = hedui::monitor::truth_agreement(
        store,
        policies,
        &h,
        &m,
        &[
            (&run1, &city.join("truth/records.parquet")),
            (&run2, &city.join("later/truth/records.parquet")),
        ],
    )?;
    for a in &agreement {
        println!(
            "   agreement with the ground truth on {} (the same runs with every record on its true person): {} alerts in both, {} only here, {} only from the truth ({:.1} %)",
            a.run_date.map(|d| d.to_string()).unwrap_or_default(),
            a.both,
            a.ours_only.len(),
            a.truth_only.len(),
            100.0 * a.rate()
        );
        for (hh, alert, member) in a.ours_only.iter().chain(&a.truth_only).take(3) {
            let who = if member.is_empty() {
                "household"
            } else {
                "a member"
            };
            println!("     differs: {hh} {alert} ({who})");
        }
    }
    let e = hedui::monitor::events_found(&city.join("later/truth/events.parquet"), &run1, &run2)?;
    println!(
        "   events the generator put between the snapshots found by run 2: {} of {}, {} more being conditions that already held at run 1 ({:.1} %)",
        e.found,
        e.total,
        e.already_held,
        100.0 * e.found as f64 / e.total.max(1) as f64
    );
    let rerun = crate::monitor::run_to_file(
        store,
        policies,
        &roster,
        later,
        &alerts.join(format!("{later}-rerun.jsonl")),
    )?;
    println!(
        "   a rerun on {later}: {} alerts, {} (a rerun is the same run: nothing new)",
        rerun.lines.len(),
        if rerun.lines == run2.lines {
            "identical to run 2"
        } else {
            "DIFFERENT from run 2"
        }
    );
    Ok(alerts)
}
