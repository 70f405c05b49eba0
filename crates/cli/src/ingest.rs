//! `hedui ingest` and `hedui snapshots`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hedui_model::Date;
use hedui_store::Store;

use crate::progress;

/// Options of `hedui ingest`.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// The data directory (snapshots and catalog).
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    data: PathBuf,
    /// The date the extracts are current to.
    #[arg(long, value_parser = crate::parse_date_arg)]
    as_of: Date,
    /// The source (table) of every file; default: each file's stem.
    #[arg(long)]
    source: Option<String>,
    /// The department that sent the extracts (free text).
    #[arg(long, default_value = "")]
    department: String,
    /// The region the extracts cover (6-digit code), if any.
    #[arg(long)]
    region: Option<String>,
    /// Do not link the records to persons now (they are linked by the next
    /// ingest or check): for a bulk load of many extracts one by one.
    #[arg(long)]
    no_link: bool,
    /// Extract files: .parquet, .arrow / .ipc / .feather, or .csv.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    remote: crate::remote::ServerArgs,
}

/// Options of `hedui snapshots`.
#[derive(Debug, Args)]
pub(crate) struct SnapshotsArgs {
    /// The data directory.
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    data: PathBuf,
    /// Only this source.
    #[arg(long)]
    source: Option<String>,
}

pub(crate) use hedui_server::ingest::Ingested;

/// The source a file belongs to: the given name, else the file's stem.
fn source_of(path: &Path, given: Option<&str>) -> Result<String> {
    match given {
        Some(s) => Ok(s.to_owned()),
        None => path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_owned)
            .with_context(|| {
                format!(
                    "{}: cannot take a source name from this file name; give --source",
                    path.display()
                )
            }),
    }
}

/// Reads, normalises and commits one extract file.
pub(crate) fn ingest_file(
    store: &Store,
    path: &Path,
    source: &str,
    as_of: Date,
    department: &str,
    region: Option<&str>,
) -> Result<Ingested> {
    let table = hedui_sources::table(source).with_context(|| path.display().to_string())?;
    let out = hedui_sources::load_file(table, path)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    hedui_server::ingest::commit_extract(
        store,
        &hedui_server::ingest::ExtractMeta {
            table,
            as_of,
            department,
            region,
            file_name: &file_name,
        },
        out,
    )
    .with_context(|| path.display().to_string())
}

/// Prints one ingest's line.
pub(crate) fn print_ingested(i: &Ingested) {
    println!(
        "{:<18} {}  accepted {:>9}  quarantined {:>7}{}{}",
        i.source,
        i.id,
        i.accepted,
        i.quarantined,
        if i.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", i.reasons)
        },
        if i.already_present {
            "  (already present)"
        } else {
            ""
        },
    );
}

/// `hedui ingest`.
pub(crate) fn run(args: &IngestArgs) -> Result<ExitCode> {
    if args.remote.server.is_some() {
        let files = args
            .files
            .iter()
            .map(|p| Ok((p.clone(), source_of(p, args.source.as_deref())?)))
            .collect::<Result<Vec<_>>>()?;
        return crate::remote::ingest(
            &args.remote,
            &files,
            args.as_of,
            &args.department,
            args.region.as_deref(),
        );
    }
    let store = Store::open(&args.data)
        .with_context(|| format!("opening the data directory {}", args.data.display()))?;
    let mut failed = 0;
    let mut rows = 0;
    let started = std::time::Instant::now();
    for path in &args.files {
        let pb = progress::spinner(format!("ingesting {}", path.display()));
        let result = source_of(path, args.source.as_deref()).and_then(|source| {
            ingest_file(
                &store,
                path,
                &source,
                args.as_of,
                &args.department,
                args.region.as_deref(),
            )
        });
        pb.finish_and_clear();
        match result {
            Ok(i) => {
                rows += i.accepted + i.quarantined;
                print_ingested(&i);
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e:#}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "ingested {rows} rows of {} extracts in {secs:.1} s ({:.0} rows/s)",
        args.files.len() - failed,
        rows as f64 / secs.max(1e-9)
    );
    if !args.no_link {
        let t = std::time::Instant::now();
        link_after_ingest(&store)?;
        println!("linking: {:.1} s", t.elapsed().as_secs_f64());
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} extracts were refused; nothing of them was stored",
            args.files.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Links the records of every newest department snapshot that has no
/// links yet (identity resolution, stored with the snapshot). Without a
/// hukou snapshot there is no registry yet: linking waits for it.
fn link_after_ingest(store: &Store) -> Result<()> {
    let snapshots = match hedui_engine::select(store, &hedui_engine::Selection::Newest) {
        Ok(s) => s,
        Err(hedui_engine::Error::Missing(_)) => {
            println!(
                "not linked yet: records are linked to persons once hukou (the registry) is ingested"
            );
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if snapshots.len() < 2 {
        return Ok(());
    }
    let pb = progress::spinner("linking records to persons".into());
    let linker = hedui_engine::prepare(
        store,
        &snapshots,
        &hedui_matching::MatchSettings::default(),
        None,
    )
    .context("preparing identity resolution")?;
    let linked = hedui_engine::ensure_links(store, &linker, &snapshots)
        .context("linking records to persons")?;
    pb.finish_and_clear();
    for (source, n) in &linked {
        println!(
            "linked {n} records of {source} (matcher {})",
            &linker.model.hash()[..16]
        );
    }
    Ok(())
}

/// `hedui snapshots`.
pub(crate) fn list(args: &SnapshotsArgs) -> Result<ExitCode> {
    let store = Store::open(&args.data)
        .with_context(|| format!("opening the data directory {}", args.data.display()))?;
    for s in store.list(args.source.as_deref())? {
        println!(
            "{:<18} {}  as_of {}  rows {:>9}  quarantined {:>7}  {}",
            s.source,
            s.id.as_str(),
            s.as_of,
            s.rows,
            s.quarantined,
            s.department
        );
    }
    Ok(ExitCode::SUCCESS)
}
