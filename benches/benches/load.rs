//! The load generator: a server (the library's `run`, in process, on
//! 127.0.0.1) over a synthetic city, called as case systems call it.
//!
//! 1. Closed loop: `HEDUI_LOAD_CLIENTS` (default 4) callers each send the
//!    next `Verify` as soon as the last is answered, for
//!    `HEDUI_LOAD_SECONDS` (default 20): the highest rate the machine
//!    sustains, with its latencies.
//! 2. Open loop: `Verify` at `HEDUI_LOAD_RATE` per second (default 200)
//!    for `HEDUI_LOAD_SECONDS`, whatever the answers take — p50, p99,
//!    errors. Skipped when the closed loop sustained less than half that
//!    rate (the queue would only grow), and said so.
//! 3. A batch of the city's requests over gRPC (`SubmitBatch`, watched to
//!    the end, every report fetched) against the same batch through the
//!    library offline.
//!
//! ```sh
//! HEDUI_BENCH_PERSONS=1000000 HEDUI_BENCH_REQUESTS=100000 HEDUI_BENCH_DIR=/tmp/b1m \
//!     cargo bench -p hedui-benches --bench load
//! ```
//!
//! `HEDUI_LOAD_BATCH=0` runs the per-applicant loops only.
//!
//! Defaults: 100,000 persons, 1,000 requests. Figures go to
//! `benches/README.md` with the command and the machine.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hedui_engine::Selection;
use hedui_model::codes::CodeList as _;
use hedui_proto::v1;
use hedui_server::{Client, Limits, Role, State};
use tonic::transport::Channel;

const TOKEN: &str = "load-generator-token";

fn with_token<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {TOKEN}").parse().expect("a header value"),
    );
    r
}

/// Percentile of sorted latencies.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k].as_secs_f64() * 1000.0
}

fn show(what: &str, mut lat: Vec<Duration>, errors: usize, secs: f64) {
    lat.sort();
    println!(
        "{what}: {} answered, {errors} errors in {secs:.1} s ({:.1}/s); p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        lat.len() as f64 / secs,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
}

/// The city's requests as `Verify` messages, each application id with
/// this run's suffix: every call of a run, and of a rerun on the same
/// store, is a new application whose request snapshots are new, as a case
/// system's calls are (a resent request would be found committed and not
/// written again).
fn households(requests: &std::path::Path, run: &str) -> anyhow::Result<Vec<v1::Household>> {
    let set = hedui_engine::requests::load_requests(requests)?;
    Ok(set
        .requests
        .iter()
        .map(|r| v1::Household {
            application_id: format!("{}-{run}", r.application_id),
            region_code: r.region_code.clone(),
            hukou_kind: r
                .hukou_kind
                .map(|k| k.code().to_owned())
                .unwrap_or_default(),
            assistance: r.assistance.code().to_owned(),
            applied_on: r.applied_on.to_string(),
            authorization_ref: r.authorization_ref.clone(),
            members: r
                .members
                .iter()
                .map(|m| v1::Member {
                    id_number: m.id_raw.clone().unwrap_or_default(),
                    name: m.name.clone(),
                    relation: m.relation.code().to_owned(),
                })
                .collect(),
        })
        .collect())
}

async fn verify(channel: Channel, h: v1::Household) -> Result<Duration, tonic::Status> {
    let t = Instant::now();
    v1::verification_client::VerificationClient::new(channel)
        .verify(with_token(v1::VerifyRequest {
            household: Some(h),
            purpose: "load test".into(),
            include_json: false,
        }))
        .await?;
    Ok(t.elapsed())
}

fn main() -> anyhow::Result<()> {
    // The allocator's purge delay as `hedui serve` does (before any thread).
    hedui::allocator::set_purge(hedui::allocator::SERVER);
    let city = common::city(100_000, 1_000)?;
    let seconds = common::env("HEDUI_LOAD_SECONDS", 20) as u64;
    let clients = common::env("HEDUI_LOAD_CLIENTS", 4);
    let rate = common::env("HEDUI_LOAD_RATE", 200);
    // 0: only the per-applicant loops (the batches take minutes at 1M).
    let with_batch = common::env("HEDUI_LOAD_BATCH", 1) != 0;
    let requests = city.city.join("requests");
    let run = format!(
        "L{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
    );
    let hs = households(&requests, &run)?;
    anyhow::ensure!(!hs.is_empty(), "the city has no requests");

    // Linked before the clock starts (a server links on its first check).
    let t = Instant::now();
    let snapshots = hedui_engine::select(&city.store, &Selection::Newest)?;
    let linker = hedui::check::link(&city.store, &snapshots, None)?;
    println!("link      {:.1} s", t.elapsed().as_secs_f64());
    // The point indexes a server builds with the newest snapshots' linker.
    let t = Instant::now();
    let built = hedui_engine::ensure_indexes(&city.store, &linker.key, &snapshots)?;
    println!(
        "indexes   {built} built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    drop(linker);

    // Offline, the same batch through the library.
    let policies = hedui::check::policies(None)?;
    let offline = if with_batch {
        let t = Instant::now();
        let (set, snaps) = hedui::check::load_and_store_requests(&city.store, &requests)?;
        let writer = hedui::reports::ReportWriter::create(&city.dir.join("load-offline"))?;
        hedui::check::run_checks_each(
            &city.store,
            &set,
            &snaps,
            &Selection::Newest,
            None,
            &policies,
            None,
            &|_, o, json| writer.write_json(&o, &json),
        )?;
        writer.finish()?;
        let offline = t.elapsed().as_secs_f64();
        println!(
            "offline   {} households through the library: {offline:.2} s",
            set.requests.len() + set.rejected.len()
        );
        offline
    } else {
        0.0
    };

    let limits = Limits::default();
    let state = Arc::new(State::new(
        hedui_store::Store::open(city.dir.join("data"))?,
        policies,
        &[Client {
            name: "load".into(),
            token_blake3: hedui_server::token_hash(TOKEN),
            roles: vec![Role::Admin],
            regions: vec![String::new()],
        }],
        &limits,
    )?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = Arc::clone(&state);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            hedui_server::run(state, &limits, None, listener, async {
                let _ = stopped.await;
            })
            .await
        });
        let channel = tonic::transport::Endpoint::from_shared(url)?
            .connect()
            .await?;
        // Warm: the linker prepared, the first check's plans built.
        let t = Instant::now();
        verify(channel.clone(), hs[0].clone()).await?;
        println!("warm      first Verify {:.1} s", t.elapsed().as_secs_f64());

        // 1. Closed loop.
        let before = served.verify_timings();
        let lat = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(Mutex::new(0usize));
        let t = Instant::now();
        let until = t + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (channel, hs, lat, errors) = (
                channel.clone(),
                hs.clone(),
                Arc::clone(&lat),
                Arc::clone(&errors),
            );
            tasks.push(tokio::spawn(async move {
                let mut k = c;
                while Instant::now() < until {
                    match verify(channel.clone(), hs[k % hs.len()].clone()).await {
                        Ok(d) => lat.lock().expect("lock").push(d),
                        Err(_) => *errors.lock().expect("lock") += 1,
                    }
                    k += clients;
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let secs = t.elapsed().as_secs_f64();
        let closed: Vec<Duration> = std::mem::take(&mut *lat.lock().expect("lock"));
        let sustained = closed.len() as f64 / secs;
        // The open loop's households follow the closed loop's.
        let first_open = closed.len() + *errors.lock().expect("lock") + clients;
        show(
            &format!("closed    {clients} callers, Verify"),
            closed,
            *errors.lock().expect("lock"),
            secs,
        );
        println!(
            "          server side: {}",
            served.verify_timings().since(&before)
        );

        // 2. Open loop at the target rate.
        if sustained * 2.0 < rate as f64 {
            println!(
                "open      {rate}/s not run: the closed loop sustained {sustained:.1}/s, a queue at {rate}/s would only grow"
            );
        } else {
            let before = served.verify_timings();
            let t = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
            let mut tasks = Vec::new();
            let mut k = first_open;
            while t.elapsed() < Duration::from_secs(seconds) {
                tick.tick().await;
                let (channel, h) = (channel.clone(), hs[k % hs.len()].clone());
                k += 1;
                tasks.push(tokio::spawn(verify(channel, h)));
            }
            let mut lat = Vec::new();
            let mut errors = 0;
            for t in tasks {
                match t.await? {
                    Ok(d) => lat.push(d),
                    Err(_) => errors += 1,
                }
            }
            show(
                &format!("open      {rate}/s, Verify"),
                lat,
                errors,
                t.elapsed().as_secs_f64(),
            );
            println!(
                "          server side: {}",
                served.verify_timings().since(&before)
            );
        }

        // 3. The batch over gRPC.
        if !with_batch {
            let _ = stop.send(());
            server.await??;
            return anyhow::Ok(());
        }
        let read = |stem: &str| -> anyhow::Result<Vec<u8>> {
            let (schema, batches) =
                hedui_sources::read_file(&hedui::check::find(&requests, stem)?)?;
            hedui_server::encode_ipc(&schema, &batches)
        };
        let mut batches = v1::batches_client::BatchesClient::new(channel.clone())
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let t = Instant::now();
        let answer = batches
            .submit_batch(with_token(v1::SubmitBatchRequest {
                applications_ipc: read("applications")?,
                members_ipc: read("members")?,
                households: Vec::new(),
                purpose: "load test".into(),
            }))
            .await?
            .into_inner();
        let mut watch = batches
            .watch_batch(with_token(v1::WatchBatchRequest {
                batch_id: answer.batch_id.clone(),
            }))
            .await?
            .into_inner();
        while watch.message().await?.is_some() {}
        let checked = t.elapsed().as_secs_f64();
        let mut after = String::new();
        let mut fetched = 0;
        loop {
            let page = batches
                .list_batch_reports(with_token(v1::ListBatchReportsRequest {
                    batch_id: answer.batch_id.clone(),
                    after: after.clone(),
                    limit: 0,
                }))
                .await?
                .into_inner();
            fetched += page.reports.len();
            if page.next_after.is_empty() {
                break;
            }
            after = page.next_after;
        }
        let total = t.elapsed().as_secs_f64();
        println!(
            "batch     {fetched} households over gRPC: {total:.2} s (checked {checked:.2} s, reports fetched {:.2} s) vs offline {offline:.2} s: {:.2}x",
            total - checked,
            total / offline
        );
        let _ = stop.send(());
        server.await??;
        anyhow::Ok(())
    })?;
    Ok(())
}
