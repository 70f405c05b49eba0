//! Batch jobs that survive: a submitted batch is written to the jobs
//! database (`<data>/jobs.sqlite`, embedded SQLite, WAL, synchronous
//! commits) before the submission is answered; its outcomes are written as
//! they are computed, a chunk per transaction; after a restart the runner
//! takes up every unfinished batch where it stopped.
//!
//! # Why a resumed batch gives exactly the reports of an uninterrupted one
//!
//! A batch pins, at submission, everything its reports depend on: the
//! request snapshots (content-addressed: the `applications` and `members`
//! tables as sent), the department snapshots current then (by id), and,
//! once linked, the matcher's hash. Each household's report depends on
//! nothing else (the policy version in force follows from its own request),
//! so a household computed before a kill, after it, or twice is the same
//! report. A chunk's outcomes commit together with the batch's counts, so a
//! kill loses at most the chunk in flight, which is computed again.
//!
//! # Identity
//!
//! A batch's id is the blake3 of its two request snapshot ids: the same
//! tables submitted again (a case system retrying after a timeout) are the
//! same batch — answered, not queued twice — whatever purpose or caller
//! the second submission names. The department snapshots stay those of the
//! first submission (the batch is one check, made once).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use hedui_store::SnapshotId;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The jobs database inside the data directory.
pub const JOBS_FILE: &str = "jobs.sqlite";

/// The schema, one step per entry (entry `i` takes `user_version` `i` to
/// `i + 1`). Append, never edit.
const MIGRATIONS: &[&str] = &[
    // 1: batches and their outcomes.
    "CREATE TABLE batches (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        id             TEXT    NOT NULL UNIQUE CHECK (length(id) = 64),
        caller         TEXT    NOT NULL,
        purpose        TEXT    NOT NULL,
        submitted_at   TEXT    NOT NULL,
        applications   TEXT    NOT NULL,
        members        TEXT    NOT NULL,
        snapshots      TEXT    NOT NULL,
        matcher_hash   TEXT    NOT NULL,
        regions        TEXT    NOT NULL,
        total          INTEGER NOT NULL,
        done           INTEGER NOT NULL,
        failed         INTEGER NOT NULL,
        state          TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done'))
    ) STRICT;
    CREATE TABLE outcomes (
        batch          TEXT    NOT NULL REFERENCES batches (id),
        application_id TEXT    NOT NULL,
        failed         INTEGER NOT NULL,
        report_hash    TEXT    NOT NULL,
        json           TEXT    NOT NULL,
        PRIMARY KEY (batch, application_id)
    ) STRICT, WITHOUT ROWID;",
    // 2: outcomes as a rowid table. A report's JSON is ~40 KB: in a
    // WITHOUT ROWID tree every row spills into overflow pages and the
    // tree itself is rebuilt around them; here rows are appended and the
    // keys live in small indexes, one of them covering the counts that
    // every recorded group updates.
    "CREATE TABLE outcomes_rows (
        batch          TEXT    NOT NULL REFERENCES batches (id),
        application_id TEXT    NOT NULL,
        failed         INTEGER NOT NULL,
        report_hash    TEXT    NOT NULL,
        json           TEXT    NOT NULL,
        UNIQUE (batch, application_id)
    ) STRICT;
    INSERT INTO outcomes_rows (batch, application_id, failed, report_hash, json)
        SELECT batch, application_id, failed, report_hash, json FROM outcomes
        ORDER BY batch, application_id;
    DROP TABLE outcomes;
    ALTER TABLE outcomes_rows RENAME TO outcomes;
    CREATE INDEX outcomes_counts ON outcomes (batch, failed);",
];

/// How long a writer waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a batch stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchState {
    /// Persisted, not started.
    Queued,
    /// Being checked (or interrupted, to be resumed).
    Running,
    /// Every household has an outcome.
    Done,
}

impl BatchState {
    /// The code stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            BatchState::Queued => "queued",
            BatchState::Running => "running",
            BatchState::Done => "done",
        }
    }

    fn parse(s: &str) -> Result<BatchState> {
        Ok(match s {
            "queued" => BatchState::Queued,
            "running" => BatchState::Running,
            "done" => BatchState::Done,
            _ => bail!("unknown batch state {s:?} in the jobs database"),
        })
    }
}

/// A batch as the jobs database holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Content id (see the module docs).
    pub id: String,
    /// The client that submitted it first.
    pub caller: String,
    /// The purpose it was submitted under.
    pub purpose: String,
    /// The request snapshots.
    pub applications: SnapshotId,
    /// The request snapshots.
    pub members: SnapshotId,
    /// The department snapshots pinned at submission, by source.
    pub snapshots: BTreeMap<String, SnapshotId>,
    /// The matcher's hash once the batch was linked; empty before.
    pub matcher_hash: String,
    /// The region codes of its households, distinct and sorted (who may
    /// see the batch).
    pub regions: Vec<String>,
    /// Households.
    pub total: u64,
    /// Households with an outcome.
    pub done: u64,
    /// Of `done`, error objects.
    pub failed: u64,
    /// Where it stands.
    pub state: BatchState,
}

/// One household's outcome, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOutcome {
    /// The application.
    pub application_id: String,
    /// An error object rather than a report.
    pub failed: bool,
    /// The report's hash (empty for an error object).
    pub report_hash: String,
    /// The canonical JSON, as `hedui verify` writes it.
    pub json: String,
}

/// The jobs database.
#[derive(Debug)]
pub struct Jobs {
    path: PathBuf,
    conn: Mutex<Connection>,
}

const BATCH_COLUMNS: &str = "id, caller, purpose, applications, members, snapshots, matcher_hash, \
                             regions, total, done, failed, state";

impl Jobs {
    /// Opens (creating and migrating) `<data>/jobs.sqlite`.
    pub fn open(data: &Path) -> Result<Jobs> {
        let path = data.join(JOBS_FILE);
        let mut conn =
            Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .with_context(|| format!("{}: WAL mode", path.display()))?;
        // A batch acknowledged is on disk: every commit is synced.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            bail!(
                "{} has schema version {version}, newer than this hedui ({known}): upgrade hedui",
                path.display()
            );
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(m)
                .with_context(|| format!("{}: migration {}", path.display(), i + 1))?;
        }
        tx.pragma_update(None, "user_version", known)?;
        tx.commit()?;
        Ok(Jobs {
            path,
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id a batch of these request snapshots has.
    pub fn batch_id(applications: &SnapshotId, members: &SnapshotId) -> String {
        let mut h = blake3::Hasher::new();
        h.update(b"hedui batch v1\n");
        h.update(applications.to_string().as_bytes());
        h.update(b"\n");
        h.update(members.to_string().as_bytes());
        h.finalize().to_hex().to_string()
    }

    /// Persists a new batch (synced before returning), or returns the one
    /// with the same content: `(batch, existing)`.
    pub fn submit(&self, new: Batch) -> Result<(Batch, bool)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(b) = get(&tx, &new.id)? {
            return Ok((b, true));
        }
        let at = chrono::DateTime::<chrono::Utc>::from(SystemTime::now())
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        tx.execute(
            "INSERT INTO batches (id, caller, purpose, submitted_at, applications, members,
                                  snapshots, matcher_hash, regions, total, done, failed, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, 0, 'queued')",
            params![
                new.id,
                new.caller,
                new.purpose,
                at,
                new.applications.to_string(),
                new.members.to_string(),
                snapshots_text(&new.snapshots),
                new.matcher_hash,
                new.regions.join(","),
                new.total as i64,
            ],
        )?;
        tx.commit()
            .with_context(|| format!("{}: committing the batch", self.path.display()))?;
        Ok((
            Batch {
                done: 0,
                failed: 0,
                state: BatchState::Queued,
                ..new
            },
            false,
        ))
    }

    /// The batch of this id.
    pub fn get(&self, id: &str) -> Result<Option<Batch>> {
        get(&self.conn(), id)
    }

    /// Batches not done, oldest first.
    pub fn unfinished(&self) -> Result<Vec<Batch>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE state <> 'done' ORDER BY seq"
        ))?;
        let rows = st.query_map([], batch_row)?;
        rows.map(|r| r?).collect()
    }

    /// Marks a batch running and records the matcher it is linked with.
    pub fn start(&self, id: &str, matcher_hash: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE batches SET state = 'running', matcher_hash = ?2 WHERE id = ?1",
            params![id, matcher_hash],
        )?;
        Ok(())
    }

    /// The applications of a batch that already have an outcome.
    pub fn done_applications(&self, id: &str) -> Result<HashSet<String>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT application_id FROM outcomes WHERE batch = ?1")?;
        let rows = st.query_map([id], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(r?)).collect()
    }

    /// Records a chunk's outcomes and the batch's counts in one
    /// transaction; the batch is done when every household has one.
    pub fn record(&self, id: &str, outcomes: &[StoredOutcome]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare(
                "INSERT OR REPLACE INTO outcomes (batch, application_id, failed, report_hash, json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for o in outcomes {
                insert.execute(params![
                    id,
                    o.application_id,
                    i64::from(o.failed),
                    o.report_hash,
                    o.json
                ])?;
            }
        }
        tx.execute(
            "UPDATE batches SET
                done = (SELECT count(*) FROM outcomes WHERE batch = ?1),
                failed = (SELECT count(*) FROM outcomes WHERE batch = ?1 AND failed = 1)
             WHERE id = ?1",
            [id],
        )?;
        tx.execute(
            "UPDATE batches SET state = 'done' WHERE id = ?1 AND done >= total",
            [id],
        )?;
        tx.commit()
            .with_context(|| format!("{}: committing outcomes", self.path.display()))?;
        Ok(())
    }

    /// One household's outcome.
    pub fn outcome(&self, batch: &str, application_id: &str) -> Result<Option<StoredOutcome>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT application_id, failed, report_hash, json FROM outcomes
                 WHERE batch = ?1 AND application_id = ?2",
                params![batch, application_id],
                outcome_row,
            )
            .optional()?)
    }

    /// Outcomes in application-id order, after `after`, at most `limit`.
    pub fn outcomes_page(
        &self,
        batch: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<StoredOutcome>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT application_id, failed, report_hash, json FROM outcomes
             WHERE batch = ?1 AND application_id > ?2 ORDER BY application_id LIMIT ?3",
        )?;
        let rows = st.query_map(
            params![batch, after, i64::try_from(limit).unwrap_or(i64::MAX)],
            outcome_row,
        )?;
        rows.map(|r| Ok(r?)).collect()
    }
}

fn get(conn: &Connection, id: &str) -> Result<Option<Batch>> {
    conn.query_row(
        &format!("SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?1"),
        [id],
        batch_row,
    )
    .optional()?
    .transpose()
}

fn snapshots_text(s: &BTreeMap<String, SnapshotId>) -> String {
    s.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_snapshots(text: &str) -> Result<BTreeMap<String, SnapshotId>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("snapshot entry {kv:?} in the jobs database"))?;
            Ok((k.to_owned(), SnapshotId::parse(v)?))
        })
        .collect()
}

/// A row of `batches` (the parse of its text columns is the outer result).
fn batch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Batch>> {
    let id: String = r.get(0)?;
    let caller: String = r.get(1)?;
    let purpose: String = r.get(2)?;
    let applications: String = r.get(3)?;
    let members: String = r.get(4)?;
    let snapshots: String = r.get(5)?;
    let matcher_hash: String = r.get(6)?;
    let regions: String = r.get(7)?;
    let total: i64 = r.get(8)?;
    let done: i64 = r.get(9)?;
    let failed: i64 = r.get(10)?;
    let state: String = r.get(11)?;
    Ok((|| {
        Ok(Batch {
            id,
            caller,
            purpose,
            applications: SnapshotId::parse(&applications)?,
            members: SnapshotId::parse(&members)?,
            snapshots: parse_snapshots(&snapshots)?,
            matcher_hash,
            regions: regions
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            total: u64::try_from(total)?,
            done: u64::try_from(done)?,
            failed: u64::try_from(failed)?,
            state: BatchState::parse(&state)?,
        })
    })())
}

fn outcome_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredOutcome> {
    Ok(StoredOutcome {
        application_id: r.get(0)?,
        failed: r.get::<_, i64>(1)? != 0,
        report_hash: r.get(2)?,
        json: r.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(c: char) -> SnapshotId {
        SnapshotId::parse(&c.to_string().repeat(64)).unwrap()
    }

    fn batch() -> Batch {
        let (a, m) = (sid('a'), sid('b'));
        Batch {
            id: Jobs::batch_id(&a, &m),
            caller: "centre".into(),
            purpose: "re-check".into(),
            applications: a,
            members: m,
            snapshots: [("hukou".to_owned(), sid('c')), ("tax".to_owned(), sid('d'))].into(),
            matcher_hash: String::new(),
            regions: vec!["530302".into(), "530303".into()],
            total: 2,
            done: 0,
            failed: 0,
            state: BatchState::Queued,
        }
    }

    fn outcome(app: &str, failed: bool) -> StoredOutcome {
        StoredOutcome {
            application_id: app.into(),
            failed,
            report_hash: if failed { String::new() } else { "h".into() },
            json: format!("{{\"application_id\":\"{app}\"}}"),
        }
    }

    #[test]
    fn a_batch_survives_reopening_and_is_done_when_every_household_is() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::open(dir.path()).unwrap();
        let (b, existing) = jobs.submit(batch()).unwrap();
        assert!(!existing);
        assert_eq!(jobs.submit(batch()).unwrap(), (b.clone(), true));
        jobs.start(&b.id, "m").unwrap();
        jobs.record(&b.id, &[outcome("A1", false)]).unwrap();
        drop(jobs);

        let jobs = Jobs::open(dir.path()).unwrap();
        let again = jobs.get(&b.id).unwrap().unwrap();
        assert_eq!((again.done, again.state), (1, BatchState::Running));
        assert_eq!(again.snapshots, batch().snapshots);
        assert_eq!(again.matcher_hash, "m");
        assert_eq!(again.regions, batch().regions);
        assert_eq!(jobs.unfinished().unwrap().len(), 1);
        assert_eq!(
            jobs.done_applications(&b.id).unwrap(),
            HashSet::from(["A1".to_owned()])
        );
        // A chunk computed twice (a kill between its audit and its commit)
        // replaces, never double-counts.
        jobs.record(&b.id, &[outcome("A1", false), outcome("A2", true)])
            .unwrap();
        let done = jobs.get(&b.id).unwrap().unwrap();
        assert_eq!(
            (done.done, done.failed, done.state),
            (2, 1, BatchState::Done)
        );
        assert!(jobs.unfinished().unwrap().is_empty());
        let page = jobs.outcomes_page(&b.id, "A1", 10).unwrap();
        assert_eq!(page, vec![outcome("A2", true)]);
        assert_eq!(
            jobs.outcome(&b.id, "A1").unwrap(),
            Some(outcome("A1", false))
        );
    }

    #[test]
    fn outcomes_recorded_under_the_first_schema_survive_its_migration() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::open(dir.path()).unwrap();
        let (b, _) = jobs.submit(batch()).unwrap();
        jobs.start(&b.id, "m").unwrap();
        drop(jobs);
        // Back to schema 1, as a data directory of an earlier hedui has it,
        // with an outcome in the WITHOUT ROWID table.
        let conn = Connection::open(dir.path().join(JOBS_FILE)).unwrap();
        conn.execute_batch(
            "DROP INDEX outcomes_counts; DROP TABLE outcomes; PRAGMA user_version = 1;",
        )
        .unwrap();
        let first = MIGRATIONS[0];
        let outcomes_v1 = &first[first.find("CREATE TABLE outcomes").unwrap()..];
        conn.execute_batch(outcomes_v1).unwrap();
        conn.execute(
            "INSERT INTO outcomes VALUES (?1, 'A1', 0, 'h', '{\"application_id\":\"A1\"}')",
            [&b.id],
        )
        .unwrap();
        drop(conn);
        let jobs = Jobs::open(dir.path()).unwrap();
        assert_eq!(
            jobs.outcome(&b.id, "A1").unwrap(),
            Some(outcome("A1", false))
        );
        jobs.record(&b.id, &[outcome("A2", true)]).unwrap();
        let done = jobs.get(&b.id).unwrap().unwrap();
        assert_eq!(
            (done.done, done.failed, done.state),
            (2, 1, BatchState::Done)
        );
    }
}
