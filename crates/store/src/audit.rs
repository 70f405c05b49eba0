//! The audit log: who looked at whose data, and under which authorisation
//! (个人信息保护法; 社会救助暂行办法 Art. 61/66).
//!
//! One entry per query and per ingest, in the catalog's `audit` table: the
//! time, the caller and role, the action and its outcome, the purpose and
//! the authorisation ref, the application, **keyed hashes** of the id
//! numbers involved (never the numbers: blake3 keyed with the data
//! directory's secret `audit.key`, so a number can be checked against the
//! log by whoever holds the key, and by nobody else), and the report hash.
//!
//! Each entry carries the hash of the previous one (`prev`) and its own
//! (`hash` = blake3 of the entry's canonical encoding, `prev` included), so
//! an altered or deleted entry breaks the chain; the newest entry's
//! sequence and hash are also kept in `audit.head`, rewritten after every
//! append, so cutting entries off the end is detected too (a head that
//! names an entry the log no longer has). A head *behind* the log — a
//! crash between an append's commit and its head reaching the disk — names
//! an entry the log has, with its hash: it is accepted and reported, and
//! the next append rewrites it.
//! [`Store::audit_verify`] walks the chain.

use std::io::Read as _;
use std::path::PathBuf;
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::params;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::store::Store;

/// The secret key of the keyed person hashes.
pub const AUDIT_KEY_FILE: &str = "audit.key";
/// The newest entry's `seq hash`.
pub const AUDIT_HEAD_FILE: &str = "audit.head";
/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is logged about one call (the store adds the time, the sequence
/// number and the chain).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditEvent {
    /// The client (its configured name), or `-` when unauthenticated.
    pub caller: String,
    /// The role the call used (`verify`, `ingest`, …), or `-`.
    pub role: String,
    /// The call (`verify`, `list_snapshots`, `ingest`, …).
    pub action: String,
    /// `ok`, or `refused:<code>`, or `error:<code>`.
    pub outcome: String,
    /// Why the query was made, as the caller said.
    pub purpose: String,
    /// The authorisation (授权书) ref the query was made under.
    pub authorization_ref: String,
    /// The application checked, if any.
    pub application_id: String,
    /// Keyed hashes of the id numbers involved ([`Store::person_hash`]).
    pub person_hashes: Vec<String>,
    /// The report's hash, if one was produced.
    pub report_hash: String,
    /// Anything else, short (no personal data).
    pub detail: String,
}

/// A logged entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// 1, 2, 3, … without gaps.
    pub seq: i64,
    /// When (UTC, RFC 3339 with milliseconds).
    pub at: String,
    /// What.
    pub event: AuditEvent,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev: String,
    /// blake3 of this entry's canonical encoding.
    pub hash: String,
}

/// What [`Store::audit_verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheck {
    /// Entries walked.
    pub entries: i64,
    /// The newest entry's hash ([`GENESIS`] for an empty log).
    pub head: String,
    /// The first break found, if any: the entry and what is wrong.
    pub broken: Option<(i64, String)>,
    /// Entries after the one `audit.head` names (0 when it names the last;
    /// more after a crash between an append and its head; see the module
    /// docs).
    pub head_behind: i64,
}

fn entry_hash(seq: i64, at: &str, e: &AuditEvent, prev: &str) -> String {
    // Length-prefixed fields: no two different entries encode the same.
    let mut h = blake3::Hasher::new();
    h.update(b"hedui-audit-v1");
    let hashes = e.person_hashes.join(",");
    let seq_text = seq.to_string();
    for f in [
        seq_text.as_str(),
        at,
        &e.caller,
        &e.role,
        &e.action,
        &e.outcome,
        &e.purpose,
        &e.authorization_ref,
        &e.application_id,
        &hashes,
        &e.report_hash,
        &e.detail,
        prev,
    ] {
        h.update(&(f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

impl Store {
    fn audit_key_path(&self) -> PathBuf {
        self.root().join(AUDIT_KEY_FILE)
    }

    /// The data directory's audit key, created (32 bytes from the
    /// operating system's random source, mode 0600) on first use.
    fn audit_key(&self) -> Result<[u8; 32]> {
        if let Some(k) = self.audit_key.get() {
            return Ok(*k);
        }
        let key = self.read_or_create_audit_key()?;
        Ok(*self.audit_key.get_or_init(|| key))
    }

    fn read_or_create_audit_key(&self) -> Result<[u8; 32]> {
        let path = self.audit_key_path();
        if let Ok(bytes) = std::fs::read(&path) {
            return <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| Error::Corrupt {
                id: "-".into(),
                path: path.clone(),
                reason: "the audit key must be 32 bytes".into(),
            });
        }
        let mut key = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut key))
            .map_err(|e| Error::io("/dev/urandom", e))?;
        let _guard = self.lock.shared()?;
        let tmp = self.tmp_path(AUDIT_KEY_FILE);
        fsutil::write_synced(&tmp, &key)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::io(&tmp, e))?;
        }
        // Another process may have created it meanwhile: the first wins.
        match std::fs::hard_link(&tmp, &path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        let _ = std::fs::remove_file(&tmp);
        fsutil::sync_dir(self.root())?;
        self.audit_key()
    }

    /// The keyed hash of an id number as the audit log records it.
    pub fn person_hash(&self, id_number: &str) -> Result<String> {
        let key = self.audit_key()?;
        Ok(blake3::keyed_hash(&key, id_number.as_bytes())
            .to_hex()
            .to_string())
    }

    /// Appends an entry to the audit log and returns it.
    pub fn audit_append(&self, event: AuditEvent) -> Result<AuditEntry> {
        let mut entries = self.audit_append_all(vec![event])?;
        Ok(entries.pop().expect("one event appends one entry"))
    }

    /// Appends entries in order, in one transaction (a batch's households:
    /// all or none of them are logged), and returns them.
    pub fn audit_append_all(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditEntry>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let at = audit_now();
        let path = self.catalog.path().to_owned();
        // On the catalog's group commit: the entries of concurrent calls
        // commit with one fsync, each chained onto the one before it.
        let out = self
            .catalog
            .write(move |tx| append_entries(tx, &path, &at, events))?;
        self.audit_head_after(&out)?;
        Ok(out)
    }

    /// After entries are durable: `audit.head` names the newest.
    pub(crate) fn audit_head_after(&self, out: &[AuditEntry]) -> Result<()> {
        // The head, written once the entries are durable; never moved back
        // by a call that finished after a later one (`audit_head` holds the
        // newest this process wrote). Not fsynced: the log is the record and
        // is durable at the commit; a head that a crash (or another process
        // appending to this data directory) leaves behind the log still
        // names one of its entries, which `audit_verify` accepts and
        // reports, and the next append rewrites it. A head *ahead* of the
        // log is what cutting entries off the end leaves, and is a break.
        // The temporary file is unique to this call, so what a killed
        // process left in `tmp/` never blocks an append.
        let (last_seq, last_hash) = out
            .last()
            .map(|e| (e.seq, e.hash.clone()))
            .unwrap_or_default();
        let mut newest = self.audit_head.lock().unwrap_or_else(|p| p.into_inner());
        if last_seq > *newest {
            self.write_audit_head(last_seq, &last_hash)?;
            *newest = last_seq;
        }
        drop(newest);
        Ok(())
    }

    fn write_audit_head(&self, seq: i64, hash: &str) -> Result<()> {
        let _guard = self.lock.shared()?;
        let head = self.root().join(AUDIT_HEAD_FILE);
        let tmp = self.tmp_path(AUDIT_HEAD_FILE);
        std::fs::write(&tmp, format!("{seq} {hash}\n")).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &head).map_err(|e| Error::io(&head, e))
    }

    /// Every entry, in order.
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>> {
        let conn = self.catalog.conn();
        let err = |e| self.catalog.err(e);
        let mut st = conn
            .prepare(
                "SELECT seq, at, caller, role, action, outcome, purpose, authorization_ref,
                        application_id, person_hashes, report_hash, detail, prev, hash
                 FROM audit ORDER BY seq",
            )
            .map_err(err)?;
        let rows = st
            .query_map([], |r| {
                let hashes: String = r.get(9)?;
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    event: AuditEvent {
                        caller: r.get(2)?,
                        role: r.get(3)?,
                        action: r.get(4)?,
                        outcome: r.get(5)?,
                        purpose: r.get(6)?,
                        authorization_ref: r.get(7)?,
                        application_id: r.get(8)?,
                        person_hashes: if hashes.is_empty() {
                            Vec::new()
                        } else {
                            hashes.split(',').map(str::to_owned).collect()
                        },
                        report_hash: r.get(10)?,
                        detail: r.get(11)?,
                    },
                    prev: r.get(12)?,
                    hash: r.get(13)?,
                })
            })
            .map_err(err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(err)
    }

    /// Walks the chain: every entry's hash recomputed, every `prev` the
    /// hash before it, sequence numbers without gaps, and the last entry
    /// the one `audit.head` names.
    pub fn audit_verify(&self) -> Result<AuditCheck> {
        let entries = self.audit_entries()?;
        let mut prev = GENESIS.to_owned();
        let mut check = AuditCheck {
            entries: entries.len() as i64,
            head: GENESIS.to_owned(),
            broken: None,
            head_behind: 0,
        };
        for (i, e) in entries.iter().enumerate() {
            let expected_seq = i as i64 + 1;
            let problem = if e.seq != expected_seq {
                Some(format!("entry {expected_seq} is missing"))
            } else if e.prev != prev {
                Some("does not follow the entry before it (an entry was removed or altered)".into())
            } else if entry_hash(e.seq, &e.at, &e.event, &e.prev) != e.hash {
                Some("its content does not match its hash (altered)".into())
            } else {
                None
            };
            if let Some(p) = problem {
                check.broken = Some((e.seq, p));
                return Ok(check);
            }
            prev = e.hash.clone();
        }
        check.head = prev.clone();
        let head_path = self.root().join(AUDIT_HEAD_FILE);
        match std::fs::read_to_string(&head_path) {
            Ok(text) => {
                let stated = text.trim();
                let named = stated
                    .split_once(' ')
                    .and_then(|(s, h)| Some((s.parse::<i64>().ok()?, h)));
                match named {
                    Some((seq, hash)) if seq == check.entries && hash == prev => {}
                    // Behind: it names an entry the log has, with its hash.
                    Some((seq, hash))
                        if (1..check.entries).contains(&seq)
                            && entries[(seq - 1) as usize].hash == hash =>
                    {
                        check.head_behind = check.entries - seq;
                    }
                    // Empty: a crash before its first bytes reached the disk.
                    None if stated.is_empty() => check.head_behind = check.entries,
                    _ => {
                        check.broken = Some((
                            check.entries,
                            format!(
                                "{AUDIT_HEAD_FILE} names entry `{stated}`, which the log does not hold: it ends at `{} {prev}` (entries cut off the end, or the head altered)",
                                check.entries
                            ),
                        ));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !entries.is_empty() {
                    check.broken = Some((check.entries, format!("{AUDIT_HEAD_FILE} is missing")));
                }
            }
            Err(e) => return Err(Error::io(&head_path, e)),
        }
        Ok(check)
    }
}

/// The time an audit entry records.
pub(crate) fn audit_now() -> String {
    DateTime::<Utc>::from(SystemTime::now()).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Appends `events` to the audit table inside the transaction of `tx`,
/// each chained onto the entry before it; `path` names the catalog in
/// errors. The caller commits (and then moves the head: see
/// `Store::audit_head_after`).
pub(crate) fn append_entries(
    tx: &rusqlite::Connection,
    path: &std::path::Path,
    at: &str,
    events: Vec<AuditEvent>,
) -> Result<Vec<AuditEntry>> {
    let err = |e| Error::Catalog {
        path: path.to_owned(),
        source: e,
    };
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(err)?;
    let (mut seq, mut prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_owned()),
    };
    let mut out = Vec::with_capacity(events.len());
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO audit (seq, at, caller, role, action, outcome, purpose,
                                    authorization_ref, application_id, person_hashes,
                                    report_hash, detail, prev, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .map_err(err)?;
    for event in events {
        let hash = entry_hash(seq, at, &event, &prev);
        insert
            .execute(params![
                seq,
                at,
                event.caller,
                event.role,
                event.action,
                event.outcome,
                event.purpose,
                event.authorization_ref,
                event.application_id,
                event.person_hashes.join(","),
                event.report_hash,
                event.detail,
                prev,
                hash
            ])
            .map_err(err)?;
        out.push(AuditEntry {
            seq,
            at: at.to_owned(),
            event,
            prev: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
        seq += 1;
    }
    Ok(out)
}
