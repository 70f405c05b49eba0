//! `hedui gen`: the synthetic city.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hedui_model::Date;
use hedui_synth::{CityConfig, CitySummary, Progress};
use indicatif::ProgressBar;

use crate::progress;

/// Options of `hedui gen`.
#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// Persons in the city.
    #[arg(long, default_value_t = 20_000)]
    persons: usize,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Also write every table as CSV.
    #[arg(long)]
    csv: bool,
    /// The date the extracts are current to (default: the generator's).
    #[arg(long, value_parser = crate::parse_date_arg)]
    as_of: Option<Date>,
    /// Check-request households (default: about 1% of households).
    #[arg(long)]
    requests: Option<usize>,
    /// Also write a second, later snapshot of every extract, current to
    /// this date (at most 62 days after the first), with monitoring events
    /// between the two, into OUT/later/.
    #[arg(long, value_parser = crate::parse_date_arg)]
    later: Option<Date>,
}

/// Generates a city with progress bars per stage.
pub(crate) fn generate(cfg: &CityConfig, out: &Path) -> Result<CitySummary> {
    let current: RefCell<Option<(&'static str, ProgressBar)>> = RefCell::new(None);
    let report = |p: Progress| {
        let mut cur = current.borrow_mut();
        let name = p.stage.name();
        if cur.as_ref().map(|(n, _)| *n) != Some(name) {
            if let Some((_, pb)) = cur.take() {
                pb.finish();
            }
            *cur = Some((name, progress::bar(p.total, name.to_owned())));
        }
        if let Some((_, pb)) = cur.as_ref() {
            pb.set_length(p.total);
            pb.set_position(p.done);
        }
    };
    let summary = hedui_synth::generate(cfg, out, &report)
        .with_context(|| format!("generating the city into {}", out.display()))?;
    if let Some((_, pb)) = current.borrow_mut().take() {
        pb.finish();
    }
    Ok(summary)
}

/// `hedui gen`.
pub(crate) fn run(args: &GenArgs) -> Result<ExitCode> {
    let mut cfg = CityConfig::new(args.persons, args.seed);
    cfg.csv = args.csv;
    if let Some(d) = args.as_of {
        cfg.as_of = d;
    }
    if let Some(r) = args.requests {
        cfg.requests = r;
    }
    cfg.later = args.later;
    let started = std::time::Instant::now();
    let s = generate(&cfg, &args.out)?;
    println!(
        "city of {} persons in {} households (seed {}), extracts as of {}, history {}..{}, written in {:.1} s",
        s.persons,
        s.households,
        s.seed,
        s.as_of,
        s.history.0,
        s.history.1,
        started.elapsed().as_secs_f64()
    );
    for t in &s.tables {
        println!(
            "  {:<28} {:>10} rows  {}",
            t.table,
            t.rows,
            args.out.join(&t.parquet.path).display()
        );
    }
    println!(
        "  {} department records, {} check requests, {} roster households; ground truth in {}",
        s.department_records,
        s.requests,
        s.roster_households,
        args.out.join("truth").display()
    );
    Ok(ExitCode::SUCCESS)
}
