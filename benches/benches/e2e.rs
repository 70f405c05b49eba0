//! The end-to-end harness: a synthetic city generated, ingested and
//! linked, then `verify` of its check requests through the same library
//! calls the `hedui` binary makes, with the time split into linking,
//! DataFusion (planning and execution), assembling facts, policy and
//! report building, and report writing; and, over the same snapshots, the
//! floor: the exact-id joins and sums written as one plain DataFusion SQL
//! query (no matching, no policy, no report).
//!
//! ```sh
//! HEDUI_BENCH_PERSONS=1000000 HEDUI_BENCH_REQUESTS=100000 \
//!     cargo bench -p hedui-benches --bench e2e
//! ```
//!
//! Defaults: 100,000 persons, 1,000 requests. Figures go to
//! `benches/README.md` with the command and the machine.
//!
//! `HEDUI_BENCH_DIR=DIR` keeps the city and the store in `DIR` and reuses
//! them on the next run (a generated city and ingested snapshots are
//! skipped, stored links are not recomputed), so the check itself can be
//! measured again without the minutes of generating and linking a
//! million-person city.

use std::path::Path;
use std::time::Instant;

use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use hedui_engine::Selection;
use hedui_store::ROWS_FILE;

mod common;

fn main() -> anyhow::Result<()> {
    // The allocator's purge delay as the `hedui` commands do (before any thread).
    hedui::allocator::set_purge(hedui::allocator::Purge::AtExit);
    // `cargo bench` passes --bench; nothing else to parse.
    let common::City {
        _temp,
        dir,
        city,
        store,
    } = common::city(100_000, 1_000)?;
    let dir = dir.as_path();
    let snapshots = hedui_engine::select(&store, &Selection::Newest)?;
    let t = Instant::now();
    let linker = hedui::check::link(&store, &snapshots, None)?;
    println!(
        "link      every record of every source, training included: {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // The bench's own linker only times the link step: `hedui verify`
    // holds one registry, not two.
    drop(linker);
    let policies = hedui::check::policies(None)?;
    let rss_before = common::rss_mib();
    let t = Instant::now();
    let (set, request_snaps) =
        hedui::check::load_and_store_requests(&store, &city.join("requests"))?;
    let t_requests = t.elapsed();
    let t = Instant::now();
    let writer = hedui::reports::ReportWriter::create(&dir.join("reports"))?;
    let gathered = std::sync::atomic::AtomicBool::new(false);
    let rss_gathered = std::sync::atomic::AtomicU64::new(0);
    let timings = hedui::check::run_checks_each(
        &store,
        &set,
        &request_snaps,
        &Selection::Newest,
        None,
        &policies,
        None,
        &|_, o, json| {
            // Every query has run before the first report: the batch's
            // query results held, each household's facts built as its
            // report is.
            if !gathered.swap(true, std::sync::atomic::Ordering::Relaxed) {
                rss_gathered.store(common::rss_mib(), std::sync::atomic::Ordering::Relaxed);
            }
            writer.write_json(&o, &json)
        },
    )?;
    let summary = writer.finish()?;
    let t_check = t.elapsed();
    let df: f64 = timings
        .gather
        .queries
        .values()
        .map(|d| d.as_secs_f64())
        .sum();
    let total = t_requests + t_check;
    println!(
        "verify    {} households: {:.2} s = requests {:.2} + links (stored) {:.2} + DataFusion {:.2} + assemble {:.2} + policy and report {:.2} + writing {:.2}",
        summary["applications"],
        total.as_secs_f64(),
        t_requests.as_secs_f64(),
        timings.link.as_secs_f64(),
        df,
        (timings.gather.assemble + timings.facts()).as_secs_f64(),
        timings.policy_and_report().as_secs_f64(),
        timings.sink().as_secs_f64()
    );
    println!(
        "memory    resident {} MiB before verify, {} MiB with every query's results held; process peak {} MiB",
        rss_before,
        rss_gathered.into_inner(),
        common::peak_rss_mib()
    );

    // The floor: exact-id joins and sums in one plain SQL query.
    let rt = hedui_engine::runtime()?;
    let t = Instant::now();
    let n = rt.block_on(floor(&city.join("requests/members.parquet"), &snapshots))?;
    println!(
        "floor     one SQL query, exact ids, window sums per member: {:.2} s ({n} rows)",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn floor(
    members: &Path,
    snapshots: &std::collections::BTreeMap<String, hedui_store::SnapshotMeta>,
) -> anyhow::Result<usize> {
    let mut config = SessionConfig::new().with_target_partitions(2);
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    let ctx = SessionContext::new_with_config(config);
    ctx.register_parquet(
        "members",
        &members.to_string_lossy(),
        ParquetReadOptions::default(),
    )
    .await?;
    for s in ["tax", "social_insurance", "bank"] {
        let path = snapshots[s].path.join(ROWS_FILE);
        ctx.register_parquet(s, &path.to_string_lossy(), ParquetReadOptions::default())
            .await?;
    }
    let sql = "WITH t AS (SELECT id_number, sum(gross_fen) AS gross, sum(coalesce(tax_paid_fen, 0)) AS paid FROM tax GROUP BY id_number), \
               s AS (SELECT id_number, sum(CASE WHEN kind = 'contribution' THEN amount_fen ELSE 0 END) AS contrib, \
                            sum(CASE WHEN kind IN ('pension', 'unemployment_benefit') THEN amount_fen ELSE 0 END) AS benefit \
                     FROM social_insurance GROUP BY id_number), \
               b AS (SELECT id_number, sum(balance_fen) AS balance FROM bank GROUP BY id_number) \
               SELECT m.application_id, sum(coalesce(t.gross, 0) - coalesce(t.paid, 0) - coalesce(s.contrib, 0) + coalesce(s.benefit, 0)) AS w, \
                      sum(coalesce(b.balance, 0)) AS financial \
               FROM members m LEFT JOIN t ON t.id_number = upper(m.id_number) \
               LEFT JOIN s ON s.id_number = upper(m.id_number) LEFT JOIN b ON b.id_number = upper(m.id_number) \
               GROUP BY m.application_id";
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(batches.iter().map(|b| b.num_rows()).sum())
}
