//! The catalog: `catalog.sqlite`, an embedded SQLite database in WAL mode.
//!
//! It holds one row per visible snapshot. Batch jobs and the audit log will
//! live in the same database: every table is created by [`migrate`], which
//! walks [`MIGRATIONS`] from the file's `PRAGMA user_version` to the newest,
//! in one transaction.

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::{Connection, Row, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::id::{SNAPSHOT_ID_LEN, SnapshotId, parse_prefix};

/// The schema of the catalog, one step per entry; entry `i` takes the
/// database from `user_version` `i` to `i + 1`. Append, never edit.
pub const MIGRATIONS: &[&str] = &[
    // 1: snapshots.
    "CREATE TABLE snapshots (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        id              TEXT    NOT NULL UNIQUE CHECK (length(id) = 64),
        source          TEXT    NOT NULL,
        as_of           TEXT    NOT NULL,
        department      TEXT    NOT NULL,
        region_code     TEXT,
        rows            INTEGER NOT NULL,
        quarantined     INTEGER NOT NULL,
        schema_version  INTEGER NOT NULL,
        path            TEXT    NOT NULL,
        ingested_at     TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX snapshots_by_source ON snapshots (source, as_of, seq);",
    // 2: the audit log (see `audit.rs`).
    "CREATE TABLE audit (
        seq                INTEGER PRIMARY KEY,
        at                 TEXT    NOT NULL,
        caller             TEXT    NOT NULL,
        role               TEXT    NOT NULL,
        action             TEXT    NOT NULL,
        outcome            TEXT    NOT NULL,
        purpose            TEXT    NOT NULL,
        authorization_ref  TEXT    NOT NULL,
        application_id     TEXT    NOT NULL,
        person_hashes      TEXT    NOT NULL,
        report_hash        TEXT    NOT NULL,
        detail             TEXT    NOT NULL,
        prev               TEXT    NOT NULL,
        hash               TEXT    NOT NULL
    ) STRICT;",
    // 3: monitoring runs, each household's state after each run, and the
    // alerts (see `monitor.rs`).
    "CREATE TABLE monitor_runs (
        run_id        TEXT    PRIMARY KEY CHECK (length(run_id) = 64),
        run_date      TEXT    NOT NULL,
        roster        TEXT    NOT NULL,
        snapshots     TEXT    NOT NULL,
        matcher_hash  TEXT    NOT NULL,
        households    INTEGER NOT NULL,
        alerts        INTEGER NOT NULL,
        recorded_at   TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX monitor_runs_by_date ON monitor_runs (run_date, run_id);
    CREATE TABLE monitor_state (
        household_id  TEXT NOT NULL,
        run_date      TEXT NOT NULL,
        run_id        TEXT NOT NULL,
        state         TEXT NOT NULL,
        PRIMARY KEY (household_id, run_date)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE monitor_alerts (
        run_id        TEXT    NOT NULL,
        household_id  TEXT    NOT NULL,
        seq           INTEGER NOT NULL,
        region_code   TEXT    NOT NULL,
        alert         TEXT    NOT NULL,
        line          TEXT    NOT NULL,
        PRIMARY KEY (run_id, household_id, seq)
    ) STRICT, WITHOUT ROWID;",
    // 4: the files of snapshots held in the catalog itself (see
    // `Store::commit_in_catalog`): a case system's household, a few rows.
    // A rowid table, so the blobs (a few KiB each) are appended in commit
    // order, and only the small (id, name) index takes inserts keyed by
    // random content ids.
    "CREATE TABLE snapshot_files (
        id     TEXT NOT NULL REFERENCES snapshots (id),
        name   TEXT NOT NULL,
        bytes  BLOB NOT NULL,
        UNIQUE (id, name)
    ) STRICT;",
];

/// How the catalog's `path` column names a snapshot held in the catalog
/// (`catalog:<source>/<id>`) rather than in a directory of the data
/// directory.
pub(crate) const IN_CATALOG_PREFIX: &str = "catalog:";

/// The catalog schema version this build writes (`PRAGMA user_version`).
pub const CATALOG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// WAL pages at which SQLite checkpoints inside the committing connection
/// (`wal_autocheckpoint`): a backstop only. The catalog checkpoints on a
/// thread of its own first (see [`Catalog::write`]), so a commit, and every
/// caller waiting on its group, does not wait for pages to be copied into
/// the database and fsynced (SQLite's default of 1,000 pages put that
/// inside some call about once a second under load).
const WAL_BACKSTOP_PAGES: i64 = 16_384;
/// At most one background checkpoint starts per this interval.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// How long a writer waits for another process's lock on the catalog.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

const COLUMNS: &str = "seq, id, source, as_of, department, region_code, rows, quarantined, \
                       schema_version, path, ingested_at";

/// One snapshot as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// The content id.
    pub id: SnapshotId,
    /// The source table (`tax`, `hukou`, ...).
    pub source: String,
    /// The date the data is current to.
    pub as_of: NaiveDate,
    /// The department that sent the extract.
    pub department: String,
    /// The region the extract covers, if it said.
    pub region_code: Option<String>,
    /// Accepted rows.
    pub rows: u64,
    /// Quarantined rows.
    pub quarantined: u64,
    /// Version of the canonical schema of the source.
    pub schema_version: u32,
    /// The snapshot directory (absolute: the data dir joined with the
    /// catalog's relative path); for a snapshot held in the catalog
    /// ([`SnapshotMeta::in_catalog`]), the catalog file.
    pub path: PathBuf,
    /// Whether the snapshot's files are held in the catalog database
    /// (a small snapshot committed with `Store::commit_in_catalog`) rather
    /// than in a directory. Read either kind through the store's readers.
    pub in_catalog: bool,
    /// Ingest sequence: increases with every snapshot committed to this
    /// catalog, never reused.
    pub seq: u64,
    /// Wall-clock time of the commit (catalog only; never hashed).
    pub ingested_at: DateTime<Utc>,
}

/// The fields of a new catalog row.
#[derive(Debug)]
pub(crate) struct NewSnapshot<'a> {
    pub(crate) id: &'a SnapshotId,
    pub(crate) source: &'a str,
    pub(crate) as_of: NaiveDate,
    pub(crate) department: &'a str,
    pub(crate) region_code: Option<&'a str>,
    pub(crate) rows: u64,
    pub(crate) quarantined: u64,
    pub(crate) schema_version: u32,
    pub(crate) rel_path: &'a str,
    pub(crate) ingested_at: DateTime<Utc>,
}

/// The files of a snapshot held in the catalog: (name, bytes); none for a
/// snapshot in a directory.
pub(crate) type HeldFiles = Vec<(&'static str, Vec<u8>)>;

#[derive(Debug)]
pub(crate) struct Catalog {
    path: PathBuf,
    root: PathBuf,
    conn: Mutex<Connection>,
    /// A second connection for the snapshot queries: in WAL mode a reader
    /// never waits for a writer, so looking a snapshot up (every check
    /// selects the newest of each source) does not queue behind a commit
    /// holding `conn` through its fsync.
    read: Mutex<Connection>,
    /// Writes waiting to be committed together (see [`Catalog::write`]).
    group: Mutex<Group>,
    group_done: Condvar,
    checkpointer: Arc<Checkpointer>,
}

/// The connection that checkpoints the WAL off the writers' path.
#[derive(Debug)]
struct Checkpointer {
    conn: Mutex<Connection>,
    running: AtomicBool,
    last: Mutex<Instant>,
}

/// A write as the group commit runs it: on a savepoint of the group's
/// transaction, its result boxed.
type WriteOp = Box<dyn FnOnce(&Connection) -> Result<Box<dyn Any + Send>> + Send>;

/// The writes of concurrent callers, committed as one transaction (one
/// fsync of the WAL) by whichever of them finds no commit running.
#[derive(Default)]
struct Group {
    pending: Vec<(u64, WriteOp)>,
    done: HashMap<u64, Result<Box<dyn Any + Send>>>,
    running: bool,
    next: u64,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("pending", &self.pending.len())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

/// The same SQLite failure for every write of a group whose commit failed.
fn repeat_failure(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            rusqlite::Error::SqliteFailure(*code, msg.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// Brings the catalog schema to [`CATALOG_SCHEMA_VERSION`], in one
/// immediate transaction (so two processes opening a new data dir at once
/// migrate it once). Fails if the file is newer than this build.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let err = |e| Error::Catalog {
        path: path.to_owned(),
        source: e,
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let found: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err)?;
    if found > CATALOG_SCHEMA_VERSION {
        return Err(Error::CatalogTooNew {
            path: path.to_owned(),
            found,
            supported: CATALOG_SCHEMA_VERSION,
        });
    }
    for step in &MIGRATIONS[found.max(0) as usize..] {
        tx.execute_batch(step).map_err(err)?;
    }
    if found < CATALOG_SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", CATALOG_SCHEMA_VERSION)
            .map_err(err)?;
    }
    tx.commit().map_err(err)
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl Catalog {
    pub(crate) fn open(path: &Path, root: &Path) -> Result<Catalog> {
        let err = |e| Error::Catalog {
            path: path.to_owned(),
            source: e,
        };
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Corrupt {
                id: "-".to_owned(),
                path: path.to_owned(),
                reason: format!("the catalog cannot use WAL journaling (got `{mode}`)"),
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(err)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)
            .map_err(err)?;
        migrate(&mut conn, path)?;
        let read = Connection::open(path).map_err(err)?;
        read.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        read.pragma_update(None, "query_only", true).map_err(err)?;
        let checkpoint = Connection::open(path).map_err(err)?;
        checkpoint.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        Ok(Catalog {
            path: path.to_owned(),
            root: root.to_owned(),
            conn: Mutex::new(conn),
            read: Mutex::new(read),
            group: Mutex::new(Group::default()),
            group_done: Condvar::new(),
            checkpointer: Arc::new(Checkpointer {
                conn: Mutex::new(checkpoint),
                running: AtomicBool::new(false),
                last: Mutex::new(Instant::now()),
            }),
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (every change is a transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `op` in a transaction of the catalog's writer connection and
    /// commits it — grouped with the writes other threads submit
    /// meanwhile: whoever finds no commit running takes every pending write,
    /// runs each on a savepoint of one `BEGIN IMMEDIATE` transaction (a
    /// failing write is rolled back alone and gets its error), commits once
    /// (one fsync for the group; `synchronous = FULL`) and hands each
    /// caller its result. Writes run in submission order, so a write sees
    /// every write submitted before it. Nothing returns before its write
    /// is durable, and a failed commit fails every write of its group.
    pub(crate) fn write<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let op: WriteOp = Box::new(move |c| op(c).map(|v| Box::new(v) as Box<dyn Any + Send>));
        let lock = || self.group.lock().unwrap_or_else(|p| p.into_inner());
        let mut g = lock();
        let ticket = g.next;
        g.next += 1;
        g.pending.push((ticket, op));
        loop {
            if let Some(done) = g.done.remove(&ticket) {
                return done.map(|b| *b.downcast::<T>().expect("a write's own result type"));
            }
            if g.running {
                g = self.group_done.wait(g).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            g.running = true;
            let ops = std::mem::take(&mut g.pending);
            drop(g);
            let tickets: Vec<u64> = ops.iter().map(|(t, _)| *t).collect();
            let run =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.commit_group(ops)));
            g = lock();
            let results = match run {
                Ok(results) => results,
                Err(panic) => {
                    // Nobody waits forever on a commit that will not come.
                    for t in tickets {
                        g.done.insert(
                            t,
                            Err(self.err(rusqlite::Error::SqliteFailure(
                                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                                Some("a write of its group panicked".into()),
                            ))),
                        );
                    }
                    g.running = false;
                    self.group_done.notify_all();
                    drop(g);
                    std::panic::resume_unwind(panic);
                }
            };
            g.done.extend(results);
            g.running = false;
            self.group_done.notify_all();
            drop(g);
            self.checkpoint_soon();
            g = lock();
        }
    }

    /// Starts a passive checkpoint of the WAL on a thread of its own,
    /// unless one is running or one started less than
    /// [`CHECKPOINT_EVERY`] ago. Passive: it copies what no reader still
    /// needs and never blocks a writer, so commits go on meanwhile. A
    /// checkpoint that fails leaves the WAL to SQLite's own (the backstop
    /// of [`WAL_BACKSTOP_PAGES`]); nothing is lost either way, the WAL
    /// being durable.
    fn checkpoint_soon(&self) {
        let c = &self.checkpointer;
        {
            let mut last = c.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < CHECKPOINT_EVERY || c.running.swap(true, Ordering::AcqRel) {
                return;
            }
            *last = Instant::now();
        }
        let job = Arc::clone(c);
        let spawned = std::thread::Builder::new()
            .name("catalog-checkpoint".into())
            .spawn(move || {
                {
                    let conn = job.conn.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
                job.running.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            c.running.store(false, Ordering::Release);
        }
    }

    fn commit_group(&self, ops: Vec<(u64, WriteOp)>) -> Vec<(u64, Result<Box<dyn Any + Send>>)> {
        let mut conn = self.conn();
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                return ops
                    .into_iter()
                    .map(|(t, _)| (t, Err(self.err(repeat_failure(&e)))))
                    .collect();
            }
        };
        let mut out = Vec::with_capacity(ops.len());
        for (ticket, op) in ops {
            let result = match tx.savepoint() {
                Err(e) => Err(self.err(e)),
                Ok(mut sp) => match op(&sp) {
                    Ok(v) => sp.commit().map(|()| v).map_err(|e| self.err(e)),
                    Err(e) => {
                        // Rolled back alone; the group goes on.
                        let _ = sp.rollback();
                        Err(e)
                    }
                },
            };
            out.push((ticket, result));
        }
        if let Err(e) = tx.commit() {
            for (_, r) in &mut out {
                if r.is_ok() {
                    *r = Err(self.err(repeat_failure(&e)));
                }
            }
        }
        out
    }

    /// The catalog database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> Error {
        Error::Catalog {
            path: self.path.clone(),
            source: e,
        }
    }

    fn meta(&self, row: &Row<'_>) -> rusqlite::Result<std::result::Result<SnapshotMeta, String>> {
        let seq: i64 = row.get(0)?;
        let id: String = row.get(1)?;
        let as_of: String = row.get(3)?;
        let rows: i64 = row.get(6)?;
        let quarantined: i64 = row.get(7)?;
        let schema_version: i64 = row.get(8)?;
        let rel: String = row.get(9)?;
        let ingested_at: String = row.get(10)?;
        let parsed = (|| {
            let id = SnapshotId::parse(&id).map_err(|e| e.to_string())?;
            let as_of = NaiveDate::parse_from_str(&as_of, "%Y-%m-%d")
                .map_err(|e| format!("as_of `{as_of}`: {e}"))?;
            let ingested_at = DateTime::parse_from_rfc3339(&ingested_at)
                .map_err(|e| format!("ingested_at `{ingested_at}`: {e}"))?
                .with_timezone(&Utc);
            Ok::<_, String>((id, as_of, ingested_at))
        })();
        let (id, as_of, ingested_at) = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(SnapshotMeta {
            id,
            source: row.get(2)?,
            as_of,
            department: row.get(4)?,
            region_code: row.get(5)?,
            rows: rows as u64,
            quarantined: quarantined as u64,
            schema_version: schema_version as u32,
            in_catalog: rel.starts_with(IN_CATALOG_PREFIX),
            path: if rel.starts_with(IN_CATALOG_PREFIX) {
                self.path.clone()
            } else {
                self.root.join(rel)
            },
            seq: seq as u64,
            ingested_at,
        }))
    }

    fn query(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<SnapshotMeta>> {
        let conn = self.read.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, |row| self.meta(row))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            match row.map_err(|e| self.err(e))? {
                Ok(meta) => out.push(meta),
                Err(reason) => {
                    return Err(Error::Corrupt {
                        id: "-".to_owned(),
                        path: self.path.clone(),
                        reason: format!("catalog row unreadable: {reason}"),
                    });
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn list(&self, source: Option<&str>) -> Result<Vec<SnapshotMeta>> {
        match source {
            None => self.query(
                &format!("SELECT {COLUMNS} FROM snapshots ORDER BY source, as_of, seq"),
                [],
            ),
            Some(s) => self.query(
                &format!("SELECT {COLUMNS} FROM snapshots WHERE source = ?1 ORDER BY as_of, seq"),
                [s],
            ),
        }
    }

    pub(crate) fn get(&self, id: &SnapshotId) -> Result<Option<SnapshotMeta>> {
        let mut found = self.query(
            &format!("SELECT {COLUMNS} FROM snapshots WHERE id = ?1"),
            [id.as_str()],
        )?;
        Ok(found.pop())
    }

    /// Snapshots whose id starts with `prefix` (at most two: enough to tell
    /// unique from ambiguous), and the total count.
    pub(crate) fn by_prefix(&self, prefix: &str) -> Result<(Vec<SnapshotMeta>, usize)> {
        let prefix = parse_prefix(prefix)?;
        if prefix.len() == SNAPSHOT_ID_LEN {
            let id = SnapshotId::parse(&prefix)?;
            let found: Vec<_> = self.get(&id)?.into_iter().collect();
            let n = found.len();
            return Ok((found, n));
        }
        // Hex digits only (checked), so the range bounds are exact.
        let upper = format!("{prefix}g");
        let found = self.query(
            &format!("SELECT {COLUMNS} FROM snapshots WHERE id >= ?1 AND id < ?2 ORDER BY id"),
            [prefix.as_str(), upper.as_str()],
        )?;
        let n = found.len();
        Ok((found, n))
    }

    pub(crate) fn newest(
        &self,
        source: &str,
        on_or_before: Option<NaiveDate>,
    ) -> Result<Option<SnapshotMeta>> {
        let mut found = match on_or_before {
            None => self.query(
                &format!(
                    "SELECT {COLUMNS} FROM snapshots WHERE source = ?1 \
                     ORDER BY as_of DESC, seq DESC LIMIT 1"
                ),
                [source],
            )?,
            Some(d) => self.query(
                &format!(
                    "SELECT {COLUMNS} FROM snapshots WHERE source = ?1 AND as_of <= ?2 \
                     ORDER BY as_of DESC, seq DESC LIMIT 1"
                ),
                [source, date_text(d).as_str()],
            )?,
        };
        Ok(found.pop())
    }

    /// Relative paths of every snapshot, for the sweep.
    pub(crate) fn paths(&self) -> Result<std::collections::BTreeSet<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT path FROM snapshots")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Inserts a snapshot's row unless a snapshot with its id is already
    /// there, in one transaction (grouped with concurrent writes: see
    /// [`Catalog::write`]). Returns whether this call inserted it. A
    /// snapshot held in the catalog is inserted with its files by
    /// [`insert_snapshots`] instead.
    ///
    /// `fail_inside` makes the transaction fail after the insert and
    /// before the commit (failure injection).
    pub(crate) fn insert(&self, new: NewSnapshot<'_>, fail_inside: bool) -> Result<Option<bool>> {
        let path = self.path.clone();
        let row = SnapshotRow::from((new, HeldFiles::new()));
        let written = self.write(move |c| {
            let inserted = insert_snapshots(c, &path, vec![row])?;
            if fail_inside {
                // Rolled back, as a crash before COMMIT would.
                return Err(Error::Injected(
                    crate::store::FailPoint::InCatalogTransaction,
                ));
            }
            Ok(inserted.first().copied().unwrap_or(false))
        });
        match written {
            Ok(inserted) => Ok(Some(inserted)),
            Err(Error::Injected(_)) if fail_inside => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The files of a snapshot held in the catalog, by name.
    pub(crate) fn files(&self, id: &SnapshotId) -> Result<Vec<(String, Vec<u8>)>> {
        let conn = self.read.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn
            .prepare_cached("SELECT name, bytes FROM snapshot_files WHERE id = ?1 ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }
}

/// A snapshot's catalog row and its held files, owned (to be written by a
/// group commit on another thread).
pub(crate) struct SnapshotRow {
    id: String,
    source: String,
    as_of: String,
    department: String,
    region_code: Option<String>,
    rows: i64,
    quarantined: i64,
    schema_version: i64,
    rel_path: String,
    ingested_at: String,
    files: HeldFiles,
}

impl From<(NewSnapshot<'_>, HeldFiles)> for SnapshotRow {
    fn from((new, files): (NewSnapshot<'_>, HeldFiles)) -> SnapshotRow {
        SnapshotRow {
            id: new.id.as_str().to_owned(),
            source: new.source.to_owned(),
            as_of: date_text(new.as_of),
            department: new.department.to_owned(),
            region_code: new.region_code.map(str::to_owned),
            rows: new.rows as i64,
            quarantined: new.quarantined as i64,
            schema_version: i64::from(new.schema_version),
            rel_path: new.rel_path.to_owned(),
            ingested_at: new.ingested_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            files,
        }
    }
}

/// Inserts each snapshot's row (unless its id is there already) and, when
/// this call inserted it, its held files, inside the transaction of `c`;
/// `path` names the catalog in errors. Returns, for each, whether this
/// call inserted it.
pub(crate) fn insert_snapshots(
    c: &Connection,
    path: &Path,
    rows: Vec<SnapshotRow>,
) -> Result<Vec<bool>> {
    let err = |e| Error::Catalog {
        path: path.to_owned(),
        source: e,
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let inserted = c
            .prepare_cached(
                "INSERT OR IGNORE INTO snapshots \
                 (id, source, as_of, department, region_code, rows, quarantined, \
                  schema_version, path, ingested_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    row.id,
                    row.source,
                    row.as_of,
                    row.department,
                    row.region_code,
                    row.rows,
                    row.quarantined,
                    row.schema_version,
                    row.rel_path,
                    row.ingested_at
                ])
            })
            .map_err(err)?;
        // Not inserted: a commit of the same content got there first, and
        // its files (of whichever kind) are the snapshot's.
        if inserted == 1 && !row.files.is_empty() {
            let mut stmt = c
                .prepare_cached("INSERT INTO snapshot_files (id, name, bytes) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            for (name, bytes) in &row.files {
                stmt.execute(params![row.id, name, bytes]).map_err(err)?;
            }
        }
        out.push(inserted == 1);
    }
    Ok(out)
}
