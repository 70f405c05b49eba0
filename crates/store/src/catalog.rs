//! The catalog: `catalog.sqlite`, an embedded SQLite database in WAL mode.
//!
//! It holds one row per visible snapshot. Batch jobs and the audit log will
//! live in the same database: every table is created by [`migrate`], which
//! walks [`MIGRATIONS`] from the file's `PRAGMA user_version` to the newest,
//! in one transaction.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

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
];

/// The catalog schema version this build writes (`PRAGMA user_version`).
pub const CATALOG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

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
    /// catalog's relative path).
    pub path: PathBuf,
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

#[derive(Debug)]
pub(crate) struct Catalog {
    path: PathBuf,
    root: PathBuf,
    conn: Mutex<Connection>,
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
        migrate(&mut conn, path)?;
        Ok(Catalog {
            path: path.to_owned(),
            root: root.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (every change is a transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
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
            path: self.root.join(rel),
            seq: seq as u64,
            ingested_at,
        }))
    }

    fn query(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<SnapshotMeta>> {
        let conn = self.conn();
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

    /// Inserts the row unless a snapshot with this id is already there, in
    /// one transaction. Returns whether this call inserted it.
    ///
    /// `fail_inside` makes the transaction fail after the insert and before
    /// the commit (failure injection).
    pub(crate) fn insert(&self, new: &NewSnapshot<'_>, fail_inside: bool) -> Result<Option<bool>> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let inserted = tx
            .execute(
                "INSERT OR IGNORE INTO snapshots \
                 (id, source, as_of, department, region_code, rows, quarantined, schema_version, \
                  path, ingested_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    new.id.as_str(),
                    new.source,
                    date_text(new.as_of),
                    new.department,
                    new.region_code,
                    new.rows as i64,
                    new.quarantined as i64,
                    i64::from(new.schema_version),
                    new.rel_path,
                    new.ingested_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                ],
            )
            .map_err(|e| self.err(e))?;
        if fail_inside {
            // Dropping `tx` rolls back, as a crash before COMMIT would.
            return Ok(None);
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Some(inserted == 1))
    }
}
