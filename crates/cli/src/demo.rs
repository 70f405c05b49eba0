//! `hedui demo`: the whole job on the embedded default, from nothing but
//! the repository: a synthetic city generated, every department extract
//! ingested into snapshots, every record linked to a person, the city's
//! check requests verified into reports; prints where everything is.

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
    let cfg = CityConfig::new(args.persons, args.seed);
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

    println!("5. where everything is:");
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
