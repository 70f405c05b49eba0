//! The server on loopback, as a case system calls it: `hedui serve` run as
//! a real process with a configuration of three clients, called over gRPC.
//! Its report is the offline `hedui verify` report byte for byte (the same
//! hash); refusals carry the right codes; health and reflection answer;
//! the audit log's chain verifies and breaks when an entry is altered; and
//! no id number of the data appears in anything the server printed.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use arrow::array::Array as _;
use hedui_proto::v1;
use tonic::Code;

use crate::run::{hedui, ok};

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/assets")
}

/// Every id-like run (15 to 18 of `[0-9Xx]`) in the case's files.
fn ids_in(dir: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for sub in ["extracts", "requests"] {
        for f in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = f.unwrap().path();
            if path.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            let mut run = String::new();
            for c in text.chars().chain(std::iter::once(' ')) {
                if c.is_ascii_digit() || c == 'X' || c == 'x' {
                    run.push(c);
                } else {
                    if (15..=18).contains(&run.len()) {
                        ids.insert(run.clone());
                    }
                    run.clear();
                }
            }
        }
    }
    ids
}

struct Server {
    child: Child,
    addr: String,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

fn start(data: &Path, config: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hedui"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .env("HEDUI_LOG", "debug")
        // Chunks of a few households take milliseconds: paused between
        // chunks, a batch can be killed mid-way.
        .env("HEDUI_BATCH_CHUNK_PAUSE_MS", "150")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both streams drained as they come (a full pipe would stall the
    // server's logging and the server with it).
    let mut err_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err_pipe.read_to_string(&mut text);
        text
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    let mut seen = String::new();
    // The server prints its address once it listens.
    let addr = loop {
        first.clear();
        if out.read_line(&mut first).unwrap() == 0 {
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!("the server stopped before listening: {seen}\n{err}");
        }
        seen.push_str(&first);
        if let Some(a) = first.trim().strip_prefix("hedui serving on ") {
            break a.split(' ').next().unwrap_or_default().to_owned();
        }
    };
    let stdout = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = out.read_to_string(&mut rest);
        seen + &rest
    });
    Server {
        child,
        addr,
        stdout,
        stderr,
    }
}

fn with_token<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// The `[[clients]]` of a configuration: name, token, roles, one region
/// prefix each.
fn clients(list: &[(&str, &str, &[&str], &str)]) -> String {
    list.iter()
        .map(|(name, token, roles, region)| {
            format!(
                "[[clients]]\nname = {name:?}\ntoken_blake3 = \"{}\"\nroles = {roles:?}\nregions = [{region:?}]\n\n",
                hedui_server::token_hash(token)
            )
        })
        .collect()
}

/// `hedui ingest` of every file of `dir` into `data` as of `as_of`.
fn ingest_folder(data: &Path, as_of: &str, dir: &Path) {
    let mut args = vec![
        "ingest".to_owned(),
        "--data".into(),
        data.to_string_lossy().into_owned(),
        "--as-of".into(),
        as_of.trim().into(),
    ];
    for f in std::fs::read_dir(dir).unwrap() {
        args.push(f.unwrap().path().to_string_lossy().into_owned());
    }
    ok(&hedui(&args.iter().map(String::as_str).collect::<Vec<_>>()));
}

fn household(auth_ref: &str) -> v1::Household {
    v1::Household {
        application_id: "GD-AS-1".into(),
        region_code: "530302".into(),
        hukou_kind: "urban".into(),
        assistance: "dibao".into(),
        applied_on: "2026-03-15".into(),
        authorization_ref: auth_ref.into(),
        members: vec![v1::Member {
            id_number: "530302198101214112".into(),
            name: "田永福".into(),
            relation: "applicant".into(),
        }],
    }
}

#[test]
fn verify_over_grpc_is_the_offline_report_and_every_call_is_authorised_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let case = case_dir();
    let as_of = std::fs::read_to_string(case.join("as_of")).unwrap();
    ingest_folder(&data, &as_of, &case.join("extracts"));

    // The offline report of the same household.
    let requests = dir.path().join("requests");
    std::fs::create_dir_all(&requests).unwrap();
    std::fs::write(
        requests.join("applications.csv"),
        "application_id,region_code,hukou_kind,assistance,applied_on,authorization_ref\nGD-AS-1,530302,urban,dibao,2026-03-15,SQ-GD-AS-1\n",
    )
    .unwrap();
    std::fs::write(
        requests.join("members.csv"),
        "application_id,id_number,name,relation\nGD-AS-1,530302198101214112,田永福,applicant\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(&hedui(&[
        "verify",
        "--data",
        data_s,
        "--requests",
        requests.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    let offline = std::fs::read_to_string(out.join("GD-AS-1.json")).unwrap();
    let offline: serde_json::Value = serde_json::from_str(&offline).unwrap();
    let offline_hash = offline["report_hash"].as_str().unwrap().to_owned();

    // Three clients: a county that verifies, another county, a monitor.
    let (county, other, monitor) = ("county-token-1", "other-county-token", "monitor-token");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        clients(&[
            ("county-530302", county, &["verify"], "530302"),
            ("county-530402", other, &["verify"], "530402"),
            ("monitoring", monitor, &["monitor"], ""),
        ]),
    )
    .unwrap();
    let mut server = start(&data, &config);
    let url = format!("http://{}", server.addr);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = v1::verification_client::VerificationClient::new(channel.clone());
        let request = |auth: &str, purpose: &str| v1::VerifyRequest {
            household: Some(household(auth)),
            purpose: purpose.into(),
            include_json: true,
        };

        let mut refusals: Vec<String> = Vec::new();
        // No token, an unknown token: UNAUTHENTICATED.
        let e = client
            .verify(tonic::Request::new(request("SQ-GD-AS-1", "review")))
            .await
            .unwrap_err();
        refusals.push(e.message().to_owned());
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        let e = client
            .verify(with_token(request("SQ-GD-AS-1", "review"), "nope"))
            .await
            .unwrap_err();
        refusals.push(e.message().to_owned());
        assert_eq!(e.code(), Code::Unauthenticated);
        // The wrong role, a region outside the scope: PERMISSION_DENIED.
        let e = client
            .verify(with_token(request("SQ-GD-AS-1", "review"), monitor))
            .await
            .unwrap_err();
        refusals.push(e.message().to_owned());
        assert_eq!(e.code(), Code::PermissionDenied);
        assert!(e.message().contains("verify"), "{}", e.message());
        let e = client
            .verify(with_token(request("SQ-GD-AS-1", "review"), other))
            .await
            .unwrap_err();
        refusals.push(e.message().to_owned());
        assert_eq!(e.code(), Code::PermissionDenied);
        assert!(e.message().contains("region"), "{}", e.message());
        // No authorisation ref, no purpose: INVALID_ARGUMENT, naming the field.
        let e = client
            .verify(with_token(request("", "review"), county))
            .await
            .unwrap_err();
        refusals.push(e.message().to_owned());
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains("authorization_ref"), "{}", e.message());
        let e = client
            .verify(with_token(request("SQ-GD-AS-1", " "), county))
            .await
            .unwrap_err();
        refusals.push(e.message().to_owned());
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains("purpose"), "{}", e.message());
        // No refusal says anything of the household's people.
        assert_eq!(refusals.len(), 6);
        for m in &refusals {
            assert!(!m.contains("530302198101214112"), "{m}");
            assert!(!m.contains("田永福"), "{m}");
        }

        // The county's call: the offline report, byte for byte.
        let r = client
            .verify(with_token(
                request("SQ-GD-AS-1", "dibao application review"),
                county,
            ))
            .await
            .unwrap()
            .into_inner()
            .report
            .unwrap();
        assert_eq!(r.report_hash, offline_hash);
        let online: serde_json::Value = serde_json::from_str(&r.json).unwrap();
        assert_eq!(online, offline);
        assert_eq!(r.determinations, vec!["ineligible".to_owned()]);
        // Twice: the same.
        let again = client
            .verify(with_token(
                request("SQ-GD-AS-1", "dibao application review"),
                county,
            ))
            .await
            .unwrap()
            .into_inner()
            .report
            .unwrap();
        assert_eq!(again.report_hash, offline_hash);

        // The catalog, for any authenticated caller.
        let mut catalog = v1::catalog_client::CatalogClient::new(channel.clone());
        let snaps = catalog
            .list_snapshots(with_token(v1::ListSnapshotsRequest::default(), monitor))
            .await
            .unwrap()
            .into_inner()
            .snapshots;
        assert!(snaps.iter().any(|s| s.source == "hukou"));

        // Health and reflection, as load balancers and grpcurl use them.
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "hedui.v1.Verification".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut reflection =
            tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(
                channel,
            );
        let req = tonic_reflection::pb::v1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = reflection
            .server_reflection_info(tokio_stream::iter(vec![req]))
            .await
            .unwrap()
            .into_inner();
        let resp = stream.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
            panic!("no service list");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for s in [
            "hedui.v1.Verification",
            "hedui.v1.Catalog",
            "grpc.health.v1.Health",
        ] {
            assert!(names.iter().any(|n| n == s), "{s} not in {names:?}");
        }
    });

    // The client's connections closed, then the server stopped (SIGTERM:
    // a graceful shutdown).
    drop(rt);
    let _ = Command::new("kill")
        .arg(server.child.id().to_string())
        .status();
    let status = server.child.wait().unwrap();
    let stderr = server.stderr.join().unwrap();
    let stdout = server.stdout.join().unwrap();
    assert!(status.success(), "server exit {status:?}: {stderr}");

    // Every call is in the audit log: 6 refusals, 2 checks, 1 listing.
    let store = hedui_store::Store::open(&data).unwrap();
    let entries = store.audit_entries().unwrap();
    let outcomes: Vec<&str> = entries.iter().map(|e| e.event.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        [
            "refused:unauthenticated",
            "refused:unauthenticated",
            "refused:permission_denied",
            "refused:permission_denied",
            "refused:invalid_argument",
            "refused:invalid_argument",
            "ok",
            "ok",
            "ok"
        ]
    );
    let checked = &entries[6].event;
    assert_eq!(checked.caller, "county-530302");
    assert_eq!(checked.authorization_ref, "SQ-GD-AS-1");
    assert_eq!(checked.purpose, "dibao application review");
    assert_eq!(checked.report_hash, offline_hash);
    assert_eq!(
        checked.person_hashes,
        vec![store.person_hash("530302198101214112").unwrap()]
    );
    drop(store);

    // The chain verifies; altering one entry breaks it, and says where.
    let out = ok(&hedui(&["audit", "verify", "--data", data_s]));
    assert!(out.contains("9 entries"), "{out}");
    {
        let conn = rusqlite::Connection::open(data.join("catalog.sqlite")).unwrap();
        conn.execute(
            "UPDATE audit SET purpose = 'something else' WHERE seq = 7",
            [],
        )
        .unwrap();
    }
    let out = hedui(&["audit", "verify", "--data", data_s]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("entry 7"), "{text}");

    // No id number of the data in anything the server printed, nor in the
    // audit log (debug logging on).
    let logs = format!("{stdout}\n{stderr}");
    assert!(
        logs.contains("verified"),
        "the server logged nothing: {logs}"
    );
    let audit_text = format!(
        "{:?}",
        hedui_store::Store::open(&data)
            .unwrap()
            .audit_entries()
            .unwrap()
    );
    let ids = ids_in(&case);
    assert!(ids.len() > 5, "{ids:?}");
    for id in &ids {
        if let Some(line) = logs.lines().find(|l| l.contains(id.as_str())) {
            // Where, with the id itself masked.
            let shown: String = line
                .replace(id.as_str(), "<id>")
                .chars()
                .take(300)
                .collect();
            panic!("a clear id number in the server's output: {shown}");
        }
        assert!(
            !audit_text.contains(id.as_str()),
            "a clear id number in the audit log"
        );
    }
}

#[test]
fn the_example_configuration_loads_and_an_unknown_key_is_refused() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/config.example.toml");
    let c =
        hedui_server::Config::load(Some(&example), None, None, Path::new("hedui-data")).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:50051");
    assert_eq!(c.clients.len(), 3);
    assert!(c.clients[0].may(hedui_server::Role::Verify));
    assert!(!c.clients[0].may(hedui_server::Role::Ingest));
    assert!(c.clients[0].sees("530302"));
    assert!(!c.clients[0].sees("530402"));
    assert!(c.clients[2].sees("110101"));
    assert_eq!(c.tls, None);
    assert_eq!(c.monitor, None);
    let dir = tempfile::tempdir().unwrap();
    // Its TLS and monitoring blocks, uncommented, are valid ones.
    let with_tls = dir.path().join("tls.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    assert!(text.contains("#> [tls]"));
    std::fs::write(&with_tls, text.replace("#> ", "")).unwrap();
    let c =
        hedui_server::Config::load(Some(&with_tls), None, None, Path::new("hedui-data")).unwrap();
    let tls = c.tls.unwrap();
    assert_eq!(tls.key, Path::new("/etc/hedui/tls/server.key"));
    assert!(tls.client_ca.is_some() && !tls.client_certificate_optional);
    // So is its monitoring schedule.
    let m = c.monitor.unwrap();
    assert_eq!(
        (m.daily_at.as_str(), m.utc_offset.as_str()),
        ("02:30", "+08:00")
    );
    assert!(m.parsed().is_ok());
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    std::fs::write(&bad, text.replace("concurrent_checks", "concurent_checks")).unwrap();
    let e = hedui_server::Config::load(Some(&bad), None, None, Path::new("d")).unwrap_err();
    assert!(format!("{e:#}").contains("concurent_checks"), "{e:#}");
    // No file: loopback, and an admin token written into the data dir.
    let mut c = hedui_server::Config::load(None, None, Some(dir.path()), Path::new("d")).unwrap();
    assert!(c.listen.ip().is_loopback());
    let path = c.ensure_admin().unwrap().unwrap();
    let token = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        c.clients[0].token_blake3,
        hedui_server::token_hash(token.trim())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

async fn channel_for(url: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Every file of a report folder, by name.
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|f| {
            let p = f.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// The number of audit entries of an action.
fn audited(data: &Path, action: &str) -> usize {
    hedui_store::Store::open(data)
        .unwrap()
        .audit_entries()
        .unwrap()
        .iter()
        .filter(|e| e.event.action == action)
        .count()
}

#[test]
fn a_batch_killed_mid_way_resumes_and_ends_with_the_offline_reports() {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    ok(&hedui(&[
        "gen",
        "--persons",
        "3000",
        "--seed",
        "11",
        "--csv",
        "--out",
        city.to_str().unwrap(),
    ]));
    // A centre that verifies and audits everywhere; a county; a monitor.
    let (centre, county, monitor) = ("centre-token", "county-token", "monitor-token");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[limits]\nbatch_chunk_households = 3\n\n{}",
            clients(&[
                ("centre", centre, &["verify", "audit", "ingest"], ""),
                ("county-999999", county, &["verify", "audit"], "999999"),
                ("monitoring", monitor, &["monitor"], ""),
            ])
        ),
    )
    .unwrap();

    // The city's extracts streamed to the server (Flight DoPut).
    let mut server = start(&data, &config);
    let url = format!("http://{}", server.addr);
    let mut ingest = Command::new(env!("CARGO_BIN_EXE_hedui"));
    ingest
        .args(["ingest", "--server", &url, "--as-of", "2026-06-30"])
        .env("HEDUI_TOKEN", centre);
    for f in std::fs::read_dir(city.join("extracts")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "parquet") {
            ingest.arg(p);
        }
    }
    let text = ok(&ingest.output().unwrap());
    assert!(
        text.contains("hukou") && text.contains("accepted"),
        "{text}"
    );
    // Refused without the ingest role.
    let out = Command::new(env!("CARGO_BIN_EXE_hedui"))
        .args(["ingest", "--server", &url, "--as-of", "2026-06-30"])
        .arg(city.join("extracts/tax.parquet"))
        .env("HEDUI_TOKEN", monitor)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ingest"),
        "{out:?}"
    );
    assert_eq!(audited(&data, "ingest"), 15, "14 extracts and a refusal");

    // The offline check of the same requests, on the snapshots the server
    // ingested.
    let requests = city.join("requests");
    let offline = dir.path().join("offline");
    ok(&hedui(&[
        "verify",
        "--data",
        data_s,
        "--requests",
        requests.to_str().unwrap(),
        "--out",
        offline.to_str().unwrap(),
    ]));

    let table = |stem: &str| {
        let (schema, batches) =
            hedui_sources::read_file(&requests.join(format!("{stem}.parquet"))).unwrap();
        hedui_server::encode_ipc(&schema, &batches).unwrap()
    };
    let submission = v1::SubmitBatchRequest {
        applications_ipc: table("applications"),
        members_ipc: table("members"),
        households: Vec::new(),
        purpose: "half-yearly re-check".into(),
    };

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (batch_id, total, done_at_kill) = rt.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut batches = v1::batches_client::BatchesClient::new(channel.clone());
        // Refused: the wrong role; a household outside the scope; a
        // household without its authorisation; no purpose.
        let e = batches
            .submit_batch(with_token(submission.clone(), monitor))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        let e = batches
            .submit_batch(with_token(submission.clone(), county))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        assert!(e.message().contains("region"), "{}", e.message());
        let mut unauthorised = household("");
        unauthorised.application_id = "NO-AUTH".into();
        let e = batches
            .submit_batch(with_token(
                v1::SubmitBatchRequest {
                    households: vec![household("SQ-1"), unauthorised],
                    purpose: "re-check".into(),
                    ..v1::SubmitBatchRequest::default()
                },
                centre,
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        assert!(
            e.message().contains("households[1].authorization_ref"),
            "{}",
            e.message()
        );
        let e = batches
            .submit_batch(with_token(
                v1::SubmitBatchRequest {
                    purpose: String::new(),
                    ..submission.clone()
                },
                centre,
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        assert!(e.message().contains("purpose"), "{}", e.message());

        // Accepted, persisted, and watched until it is partly done.
        let answer = batches
            .submit_batch(with_token(submission.clone(), centre))
            .await
            .unwrap()
            .into_inner();
        assert!(!answer.existing);
        assert!(answer.total >= 20, "{answer:?}");
        let mut watch = batches
            .watch_batch(with_token(
                v1::WatchBatchRequest {
                    batch_id: answer.batch_id.clone(),
                },
                centre,
            ))
            .await
            .unwrap()
            .into_inner();
        let mut done = 0;
        while let Some(p) = watch.message().await.unwrap() {
            assert_eq!(p.total, answer.total);
            done = p.done;
            if p.done >= 6 {
                break;
            }
        }
        (answer.batch_id, answer.total, done)
    });
    drop(rt);
    // Killed (SIGKILL: no shutdown at all) in the middle of the batch.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(
        (6..total).contains(&done_at_kill),
        "the batch was not killed mid-way: {done_at_kill} of {total} done"
    );
    let mut logs = server.stdout.join().unwrap() + &server.stderr.join().unwrap();

    // Restarted: the batch resumes. The same tables submitted again (from
    // the command line) are the same batch, which ends with the offline
    // reports, byte for byte.
    let mut server = start(&data, &config);
    let url = format!("http://{}", server.addr);
    let online = dir.path().join("online");
    let out = Command::new(env!("CARGO_BIN_EXE_hedui"))
        .args([
            "verify",
            "--server",
            &url,
            "--purpose",
            "half-yearly re-check",
        ])
        .arg("--requests")
        .arg(&requests)
        .arg("--out")
        .arg(&online)
        .env("HEDUI_TOKEN", centre)
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(text.contains(&batch_id), "{text}");
    assert!(text.contains("submitted before"), "{text}");
    let (a, b) = (files(&offline), files(&online));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same report files"
    );
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs from the offline report");
    }
    // Resumed, not redone: every household checked once, and the chunk
    // in flight at the kill (at most 3 households) perhaps twice.
    let checks = audited(&data, "batch_check");
    assert!(
        (total as usize..=total as usize + 3).contains(&checks),
        "{checks} batch checks logged for {total} households"
    );

    // An auditor replays a report of the batch on the server; a county
    // outside its region may not.
    let some = a
        .keys()
        .find(|k| k.ends_with(".json") && *k != "summary.json")
        .unwrap();
    let report = online.join(some);
    let out = Command::new(env!("CARGO_BIN_EXE_hedui"))
        .args(["replay", "--server", &url])
        .arg(&report)
        .env("HEDUI_TOKEN", centre)
        .output()
        .unwrap();
    assert!(ok(&out).starts_with("identical "));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut audit = v1::audit_client::AuditClient::new(channel.clone());
        let application_id = some.trim_end_matches(".json").to_owned();
        // The batch's report replayed by reference, as `token`.
        let by_ref = |token: &str| {
            with_token(
                v1::ReplayRequest {
                    report: Some(v1::replay_request::Report::BatchReport(
                        v1::BatchReportRef {
                            batch_id: batch_id.clone(),
                            application_id: application_id.clone(),
                        },
                    )),
                },
                token,
            )
        };
        let e = audit.replay(by_ref(county)).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        let r = audit.replay(by_ref(centre)).await.unwrap().into_inner();
        assert!(r.identical, "{:?}", r.differences);
        // One report of the batch, as a case system fetches it.
        let mut batches = v1::batches_client::BatchesClient::new(channel);
        let got = batches
            .get_report(with_token(
                v1::GetReportRequest {
                    batch_id: batch_id.clone(),
                    application_id,
                    include_json: true,
                },
                centre,
            ))
            .await
            .unwrap()
            .into_inner()
            .report
            .unwrap();
        assert_eq!(got.report_hash, r.report_hash);
        assert_eq!(got.json.as_bytes(), &a[some][..]);

        // The batch's results as one Arrow table (Flight DoGet).
        use futures::TryStreamExt as _;
        let mut flight = hedui_proto::flight::FlightClient::new(channel_for(&url).await);
        flight
            .add_header("authorization", &format!("Bearer {centre}"))
            .unwrap();
        let ticket = format!("{{\"batch_id\": \"{batch_id}\"}}");
        let tables: Vec<arrow::array::RecordBatch> = flight
            .do_get(hedui_proto::flight::Ticket::new(ticket))
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let rows: usize = tables.iter().map(|t| t.num_rows()).sum();
        assert_eq!(rows as u64, total);
        let t = &tables[0];
        let apps = t
            .column_by_name("application_id")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        let hashes = t
            .column_by_name("report_hash")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        for i in 0..t.num_rows() {
            let offline: serde_json::Value =
                serde_json::from_slice(&a[&format!("{}.json", apps.value(i))]).unwrap();
            assert_eq!(
                offline["report_hash"].as_str().unwrap_or_default(),
                if hashes.is_null(i) {
                    ""
                } else {
                    hashes.value(i)
                }
            );
        }
    });
    drop(rt);
    let _ = Command::new("kill")
        .arg(server.child.id().to_string())
        .status();
    let status = server.child.wait().unwrap();
    logs += &server.stdout.join().unwrap();
    logs += &server.stderr.join().unwrap();
    assert!(status.success(), "server exit {status:?}: {logs}");
    ok(&hedui(&["audit", "verify", "--data", data_s]));

    // No id number of the city in anything the servers printed.
    assert!(logs.contains("batch done"), "{logs}");
    let ids = ids_in(&city);
    assert!(ids.len() > 1000, "{}", ids.len());
    for id in &ids {
        assert!(
            !logs.contains(id.as_str()),
            "a clear id number in the server's output"
        );
    }
}

/// A CA and a certificate it signs for `names`, as PEM: (ca, cert, key).
fn certificates(names: &[&str]) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    let cert = params
        .signed_by(&key, &Issuer::from_params(&ca_params, &ca_key))
        .unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[test]
fn over_tls_a_client_needs_a_certificate_of_the_configured_ca_and_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let (server_ca, server_cert, server_key) = certificates(&["localhost"]);
    let (client_ca, client_cert, client_key) = certificates(&["county-530302"]);
    let (_, stranger_cert, stranger_key) = certificates(&["someone-else"]);
    for (name, text) in [
        ("server-ca.pem", &server_ca),
        ("server.pem", &server_cert),
        ("server.key", &server_key),
        ("client-ca.pem", &client_ca),
    ] {
        std::fs::write(p(name), text).unwrap();
    }
    let token = "tls-county-token";
    std::fs::write(
        p("config.toml"),
        format!(
            "[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n\n{}",
            p("server.pem"),
            p("server.key"),
            p("client-ca.pem"),
            clients(&[("county-530302", token, &["verify"], "530302")])
        ),
    )
    .unwrap();
    let mut server = start(&p("data"), &p("config.toml"));
    let port = server.addr.rsplit(':').next().unwrap().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
        let list = |channel| async move {
            v1::catalog_client::CatalogClient::new(channel)
                .list_snapshots(with_token(v1::ListSnapshotsRequest::default(), token))
                .await
        };
        let tls = |identity: Option<(&str, &str)>| {
            let mut c = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&server_ca))
                .domain_name("localhost");
            if let Some((cert, key)) = identity {
                c = c.identity(Identity::from_pem(cert, key));
            }
            Endpoint::from_shared(format!("https://localhost:{port}"))
                .unwrap()
                .tls_config(c)
                .unwrap()
        };
        // Plaintext: no answer.
        let plain = Endpoint::from_shared(format!("http://127.0.0.1:{port}")).unwrap();
        if let Ok(ch) = plain.connect().await {
            assert!(list(ch).await.is_err(), "plaintext was answered");
        }
        // TLS without a client certificate, or with one of another CA:
        // the handshake fails.
        for identity in [None, Some((stranger_cert.as_str(), stranger_key.as_str()))] {
            if let Ok(ch) = tls(identity).connect().await {
                assert!(
                    list(ch).await.is_err(),
                    "answered without a good certificate"
                );
            }
        }
        // The county's certificate and token: answered.
        let ch = tls(Some((&client_cert, &client_key)))
            .connect()
            .await
            .unwrap();
        list(ch.clone()).await.unwrap();
        // The certificate alone is not enough: the token decides.
        let e = v1::catalog_client::CatalogClient::new(ch)
            .list_snapshots(tonic::Request::new(v1::ListSnapshotsRequest::default()))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
    });
    drop(rt);
    let _ = server.child.kill();
    let _ = server.child.wait();
}

/// Monitoring over the server: `RunMonitor` streams the alerts the offline
/// `hedui monitor` writes (the golden case's blessed output), `ListAlerts`
/// pages them within the region scope, Flight `DoGet` gives them as a
/// table, a rerun gives the same alerts, and every refusal has its code.
#[test]
fn monitoring_over_grpc_is_the_offline_run_with_roles_and_scopes() {
    use futures::TryStreamExt as _;

    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/monitor/dated_facts");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap().to_owned();
    ingest_folder(&data, "2026-03-31", &case.join("snap1"));
    let offline = std::fs::read_to_string(case.join("expected/1.jsonl")).unwrap();

    let (monitor, county, verifier) = ("monitor-token", "county-530402-monitor", "verify-token");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        clients(&[
            ("monitoring-5303", monitor, &["monitor"], "5303"),
            ("monitoring-530402", county, &["monitor"], "530402"),
            ("case-system", verifier, &["verify"], ""),
        ]),
    )
    .unwrap();
    let mut server = start(&data, &config);
    let url = format!("http://{}", server.addr);
    let table = |stem: &str| {
        let (schema, batches) =
            hedui_sources::read_file(&case.join("roster").join(format!("{stem}.csv"))).unwrap();
        hedui_server::encode_ipc(&schema, &batches).unwrap()
    };
    let request = v1::RunMonitorRequest {
        roster_households_ipc: table("roster_households"),
        roster_members_ipc: table("roster_members"),
        run_date: "2026-03-31".into(),
        purpose: "dynamic monitoring".into(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut m = v1::monitoring_client::MonitoringClient::new(channel_for(&url).await);
        let run = |m: &mut v1::monitoring_client::MonitoringClient<tonic::transport::Channel>,
                   r: tonic::Request<v1::RunMonitorRequest>| {
            let mut m = m.clone();
            async move {
                let stream = m.run_monitor(r).await?.into_inner();
                let items: Vec<v1::RunMonitorResponse> = stream.try_collect().await?;
                Ok::<_, tonic::Status>(items)
            }
        };
        // Refusals, each with its code, before anything is computed.
        let code = |r: Result<Vec<v1::RunMonitorResponse>, tonic::Status>| r.unwrap_err().code();
        assert_eq!(
            code(run(&mut m, tonic::Request::new(request.clone())).await),
            Code::Unauthenticated
        );
        assert_eq!(
            code(run(&mut m, with_token(request.clone(), verifier)).await),
            Code::PermissionDenied
        );
        assert_eq!(
            code(run(&mut m, with_token(request.clone(), county)).await),
            Code::PermissionDenied
        );
        let no_purpose = v1::RunMonitorRequest {
            purpose: String::new(),
            ..request.clone()
        };
        assert_eq!(
            code(run(&mut m, with_token(no_purpose, monitor)).await),
            Code::InvalidArgument
        );
        let text = std::fs::read_to_string(case.join("roster/roster_households.csv")).unwrap();
        let unauthorised = dir.path().join("roster_households.csv");
        std::fs::write(&unauthorised, text.replace(",SQ-MA-2,", ",,")).unwrap();
        let (schema, batches) = hedui_sources::read_file(&unauthorised).unwrap();
        let no_auth = v1::RunMonitorRequest {
            roster_households_ipc: hedui_server::encode_ipc(&schema, &batches).unwrap(),
            ..request.clone()
        };
        let e = run(&mut m, with_token(no_auth, monitor)).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains("authorization_ref"), "{}", e.message());

        // The run: the offline alerts, line for line, then its summary.
        let items = run(&mut m, with_token(request.clone(), monitor))
            .await
            .unwrap();
        let mut lines = String::new();
        let mut summary = None;
        for i in items {
            match i.item.unwrap() {
                v1::run_monitor_response::Item::Alert(a) => {
                    assert_eq!(a.region_code, "530302");
                    lines.push_str(&a.line_json);
                    lines.push('\n');
                }
                v1::run_monitor_response::Item::Summary(s) => summary = Some(s),
            }
        }
        assert_eq!(lines, offline);
        let summary = summary.expect("the run's summary comes last");
        assert_eq!(summary.households, 6);
        assert_eq!(summary.alerts as usize, offline.lines().count());
        // A rerun is the same run.
        let again = run(&mut m, with_token(request.clone(), monitor))
            .await
            .unwrap();
        let again_lines: String = again
            .iter()
            .filter_map(|i| match &i.item {
                Some(v1::run_monitor_response::Item::Alert(a)) => {
                    Some(format!("{}\n", a.line_json))
                }
                _ => None,
            })
            .collect();
        assert_eq!(again_lines, offline);

        // ListAlerts, a page of 3 at a time; another county sees nothing.
        let mut got = String::new();
        let mut token = String::new();
        loop {
            let page = m
                .list_alerts(with_token(
                    v1::ListAlertsRequest {
                        run_id: summary.run_id.clone(),
                        page_token: token.clone(),
                        limit: 3,
                        ..Default::default()
                    },
                    monitor,
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(page.alerts.len() <= 3);
            for a in &page.alerts {
                got.push_str(&a.line_json);
                got.push('\n');
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(got, offline);
        let none = m
            .list_alerts(with_token(
                v1::ListAlertsRequest {
                    run_date: "2026-03-31".into(),
                    ..Default::default()
                },
                county,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(none.alerts.is_empty());
        let denied = m
            .list_alerts(with_token(v1::ListAlertsRequest::default(), verifier))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);

        // The alerts as an Arrow table (Flight DoGet).
        let mut flight = hedui_proto::flight::FlightClient::new(channel_for(&url).await);
        flight
            .add_header("authorization", &format!("Bearer {monitor}"))
            .unwrap();
        let ticket = format!("{{\"monitor_run_id\": \"{}\"}}", summary.run_id);
        let tables: Vec<arrow::array::RecordBatch> = flight
            .do_get(hedui_proto::flight::Ticket::new(ticket))
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let rows: usize = tables.iter().map(|t| t.num_rows()).sum();
        assert_eq!(rows, offline.lines().count());
        let alerts = tables[0]
            .column_by_name("alert")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        assert!((0..alerts.len()).any(|i| alerts.value(i) == "deceased"));
    });
    drop(rt);
    // `hedui monitor --server` writes the offline file, byte for byte.
    let file = dir.path().join("remote.jsonl");
    ok(&hedui(&[
        "monitor",
        "--server",
        &url,
        "--token",
        monitor,
        "--purpose",
        "dynamic monitoring",
        "--roster",
        case.join("roster").to_str().unwrap(),
        "--run-date",
        "2026-03-31",
        "--out",
        file.to_str().unwrap(),
    ]));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), offline);
    let _ = Command::new("kill")
        .arg(server.child.id().to_string())
        .status();
    let status = server.child.wait().unwrap();
    let logs = server.stdout.join().unwrap() + &server.stderr.join().unwrap();
    assert!(status.success(), "server exit {status:?}: {logs}");
    // Audited: each household of each run, under its authorisation.
    let store = hedui_store::Store::open(&data).unwrap();
    let entries = store.audit_entries().unwrap();
    let monitored: Vec<_> = entries
        .iter()
        .filter(|e| e.event.action == "monitor")
        .collect();
    assert_eq!(monitored.len(), 18);
    assert!(
        monitored
            .iter()
            .all(|e| e.event.authorization_ref.starts_with("SQ-MA-"))
    );
    ok(&hedui(&["audit", "verify", "--data", &data_s]));
    // No id number of the roster in the server's output.
    let roster = std::fs::read_to_string(case.join("roster/roster_members.csv")).unwrap();
    for line in roster.lines().skip(1) {
        let id = line.split(',').nth(1).unwrap();
        assert!(
            !logs.contains(id),
            "a clear id number in the server's output"
        );
    }
}
