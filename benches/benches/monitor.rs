//! Monitoring at scale: a synthetic city with its later snapshot (31 days
//! on), generated, ingested and linked; a roster of `HEDUI_BENCH_ROSTER`
//! households (default: a tenth of the persons) — the city's own roster,
//! then households of the registry added as `monitored` — run on the first
//! snapshots, again on the later ones, and once more on the same date (a
//! rerun: nothing new), through the same library calls `hedui monitor`
//! makes, with the time split into linking, gathering (DataFusion and
//! assembling facts) and state + policy + recording.
//!
//! ```sh
//! HEDUI_BENCH_PERSONS=1000000 HEDUI_BENCH_ROSTER=100000 \
//!     cargo bench -p hedui-benches --bench monitor
//! ```
//!
//! `HEDUI_BENCH_DIR=DIR` keeps the city and the store for the next run
//! (its monitoring states too: a second invocation's first run is then a
//! rerun, and says so). `HEDUI_BENCH_TRUTH=1` also compares both runs with
//! the alerts the ground truth implies (costly at scale: the truth links
//! of every snapshot are written).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use hedui_engine::Selection;
use hedui_sources::{Normalised, tables};

mod common;

/// The roster's two tables: the city's own roster, then households of
/// the registry (by hukou number, every member active) as `monitored`
/// until `wanted` households.
fn roster(
    city: &std::path::Path,
    wanted: usize,
    as_of: hedui_model::Date,
) -> anyhow::Result<(Normalised, Normalised)> {
    let dir = city.join("roster");
    let (h, m) = hedui_engine::load_roster_tables(&dir)?;
    let mut have: BTreeSet<String> = BTreeSet::new();
    for b in &m.rows {
        let ids = b.column_by_name("id_number").unwrap().as_string::<i32>();
        have.extend(ids.iter().flatten().map(str::to_owned));
    }
    let own = h.accepted;
    let extra = wanted.saturating_sub(own);
    // Households of the registry, in hukou-number order.
    let (_, hukou) = hedui_sources::read_file(&city.join("extracts/hukou.parquet"))?;
    let mut by_no: BTreeMap<String, Vec<(String, String, String, String)>> = BTreeMap::new();
    let mut bad: BTreeSet<String> = BTreeSet::new();
    for b in &hukou {
        let s = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
        let (id, name, no, rel, region, status) = (
            s("id_number"),
            s("name"),
            s("hukou_no"),
            s("relation"),
            s("region_code"),
            s("status"),
        );
        for i in 0..b.num_rows() {
            if no.is_null(i) || id.is_null(i) {
                continue;
            }
            let key = no.value(i).to_owned();
            if status.value(i) != "active" || have.contains(id.value(i)) {
                bad.insert(key.clone());
            }
            by_no.entry(key).or_default().push((
                id.value(i).to_owned(),
                name.value(i).to_owned(),
                rel.value(i).to_owned(),
                region.value(i).to_owned(),
            ));
        }
    }
    let since = as_of
        .checked_sub_signed(chrono::TimeDelta::days(400))
        .unwrap_or(as_of);
    let (mut hh, mut hregion, mut hauth) = (Vec::new(), Vec::new(), Vec::new());
    let (mut mh, mut mid, mut mname, mut mrel) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (no, members) in by_no
        .iter()
        .filter(|(no, _)| !bad.contains(*no))
        .take(extra)
    {
        let hid = format!("BM-{no}");
        hh.push(hid.clone());
        hregion.push(members[0].3.clone());
        hauth.push(format!("SQ-{no}"));
        let head = members.iter().position(|m| m.2 == "户主").unwrap_or(0);
        for (k, (id, name, rel, _)) in members.iter().enumerate() {
            mh.push(hid.clone());
            mid.push(id.clone());
            mname.push(name.clone());
            mrel.push(match rel.as_str() {
                _ if k == head => "applicant",
                "配偶" => "spouse",
                "子" | "女" | "儿子" | "女儿" => "child",
                "父母" | "父亲" | "母亲" => "parent",
                "孙子" | "孙女" | "孙子女" => "grandchild",
                "兄弟姐妹" => "sibling",
                _ => "other",
            });
        }
    }
    let n = hh.len();
    let text = |v: Vec<String>| Arc::new(StringArray::from(v)) as arrow::array::ArrayRef;
    let hs = Arc::new(Schema::new(
        [
            "household_id",
            "region_code",
            "assistance",
            "authorization_ref",
            "since",
        ]
        .iter()
        .map(|c| Field::new(*c, DataType::Utf8, false))
        .collect::<Vec<_>>(),
    ));
    let extra_h = RecordBatch::try_new(
        hs.clone(),
        vec![
            text(hh),
            text(hregion),
            text(vec!["monitored".into(); n]),
            text(hauth),
            text(vec![since.to_string(); n]),
        ],
    )?;
    let ms = Arc::new(Schema::new(
        ["household_id", "id_number", "name", "relation"]
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let extra_m = RecordBatch::try_new(
        ms.clone(),
        vec![
            text(mh),
            text(mid),
            text(mname),
            text(mrel.into_iter().map(str::to_owned).collect()),
        ],
    )?;
    let eh = hedui_sources::normalise(&tables::roster_households::SPEC, "bench", &hs, &[extra_h])?;
    let em = hedui_sources::normalise(&tables::roster_members::SPEC, "bench", &ms, &[extra_m])?;
    let join = |mut a: Normalised, b: Normalised| {
        a.rows.extend(b.rows);
        a.quarantine.extend(b.quarantine);
        a.accepted += b.accepted;
        a.quarantined += b.quarantined;
        a
    };
    Ok((join(h, eh), join(m, em)))
}

fn main() -> anyhow::Result<()> {
    // The allocator's purge delay as the `hedui` commands do (before any thread).
    hedui::allocator::set_purge(hedui::allocator::Purge::AtExit);
    let common::City {
        _temp, city, store, ..
    } = common::city_with(100_000, 1_000, true)?;
    let persons = common::env("HEDUI_BENCH_PERSONS", 100_000);
    let wanted = common::env("HEDUI_BENCH_ROSTER", persons / 10);
    let cfg = hedui_synth::CityConfig::new(persons, 2026);
    let first = cfg.as_of;
    let later = first
        .checked_add_signed(chrono::TimeDelta::days(31))
        .unwrap_or(first);
    let t = Instant::now();
    for d in [first, later] {
        let s = hedui_engine::select(&store, &Selection::OnOrBefore(d))?;
        hedui::check::link(&store, &s, None)?;
    }
    println!(
        "link      both snapshots' records, training included: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let (h, m) = roster(&city, wanted, first)?;
    println!(
        "roster    {} households ({} members): {:.1} s",
        h.accepted,
        m.accepted,
        t.elapsed().as_secs_f64()
    );
    let policies = hedui::check::policies(None)?;
    let ids: Vec<String> = hedui_engine::roster_from_normalised(&h, &m, first)?
        .set
        .requests
        .iter()
        .map(|r| r.application_id.clone())
        .collect();
    let rerun_first = !store.monitor_previous(&ids, later)?.is_empty();
    let mut outputs = Vec::new();
    for (label, date) in [("run 1", first), ("run 2", later), ("rerun 2", later)] {
        let t = Instant::now();
        let o = hedui::monitor::run_monitor(&store, &policies, &h, &m, date)?;
        let secs = t.elapsed().as_secs_f64();
        let counts: Vec<String> = o.counts().iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "{label:<9} {date}: {} households, {} alerts in {secs:.1} s = linking {:.2} + gathering {:.2} (DataFusion {:.2}, facts {:.2}) + state, policy and recording {:.2}{}",
            o.households.len(),
            o.lines.len(),
            o.timings.link.as_secs_f64(),
            o.timings.gather.as_secs_f64(),
            o.timings
                .queries
                .values()
                .map(|d| d.as_secs_f64())
                .sum::<f64>(),
            o.timings.assemble.as_secs_f64(),
            o.timings.state_and_policy.as_secs_f64(),
            if label == "run 1" && rerun_first {
                " (states kept from an earlier invocation: this is a rerun)"
            } else {
                ""
            }
        );
        println!("          {}", counts.join(", "));
        let mut q: Vec<(&String, &std::time::Duration)> = o.timings.queries.iter().collect();
        q.sort_by(|a, b| b.1.cmp(a.1));
        println!(
            "          DataFusion by source: {}",
            q.iter()
                .map(|(s, d)| format!("{s} {:.2}", d.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        outputs.push(o);
    }
    println!(
        "rerun     {} (a rerun is the same run)",
        if outputs[1].lines == outputs[2].lines {
            "identical alerts"
        } else {
            "DIFFERENT alerts"
        }
    );
    let e = hedui::monitor::events_found(
        &city.join("later/truth/events.parquet"),
        &outputs[0],
        &outputs[1],
    )?;
    println!(
        "events    run 2 found {} of the {} events the generator put between the snapshots ({} more were conditions already holding at run 1: not new)",
        e.found, e.total, e.already_held
    );
    for (h, alert, _) in e.missed.iter().take(5) {
        println!("          missed: {h} {alert}");
    }
    if std::env::var("HEDUI_BENCH_TRUTH").is_ok_and(|v| v == "1") {
        let a = hedui::monitor::truth_agreement(
            &store,
            &policies,
            &h,
            &m,
            &[
                (&outputs[0], &city.join("truth/records.parquet")),
                (&outputs[1], &city.join("later/truth/records.parquet")),
            ],
        )?;
        for r in &a {
            println!(
                "truth     {}: {} in both, {} only ours, {} only the truth's ({:.2} %)",
                r.run_date.map(|d| d.to_string()).unwrap_or_default(),
                r.both,
                r.ours_only.len(),
                r.truth_only.len(),
                100.0 * r.rate()
            );
        }
    }
    Ok(())
}
