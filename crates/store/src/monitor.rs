//! Monitoring state (rules §7 "since the previous run"): one row per
//! monitoring run, each household's state after each run, and each run's
//! alerts, in the catalog (migration 3).
//!
//! The store keeps what the policy hands it — a household's state and its
//! alert lines are opaque text (JSON) here — and answers the one question
//! a run asks: each household's state after its latest run *before* a
//! date. A rerun of a date is therefore computed against the same previous
//! states as the first time, gives the same alerts, and replaces the
//! earlier record of that run (its states and alerts) in one transaction.

use std::collections::BTreeMap;
use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::store::Store;

/// One monitoring run as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorRun {
    /// blake3 of the run date and the roster's snapshot ids (hex).
    pub run_id: String,
    /// The run date.
    pub run_date: NaiveDate,
    /// The roster's snapshot ids (`roster_households`, `roster_members`).
    pub roster: Vec<String>,
    /// The department snapshots read, by source.
    pub snapshots: BTreeMap<String, String>,
    /// The matcher's hash.
    pub matcher_hash: String,
    /// Households monitored.
    pub households: u64,
    /// Alerts reported.
    pub alerts: u64,
    /// When it was recorded (catalog only, never in output).
    pub recorded_at: String,
}

/// One alert line as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAlert {
    /// The run's date (`YYYY-MM-DD`).
    pub run_date: String,
    /// The run.
    pub run_id: String,
    /// The household.
    pub household_id: String,
    /// Its region code (for region scopes).
    pub region_code: String,
    /// The alert code.
    pub alert: String,
    /// The alert's JSON line (report.md).
    pub line: String,
    /// Its place among the household's alerts of the run.
    pub seq: i64,
}

impl StoredAlert {
    /// Where a page that ends with this alert resumes
    /// ([`Store::monitor_alerts_page`]).
    pub fn cursor(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.run_date, self.run_id, self.household_id, self.seq
        )
    }
}

/// What a run records: the run, each household's new state, the alerts.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// The run (its `recorded_at` is set by the store).
    pub run: MonitorRun,
    /// `(household_id, state JSON)`.
    pub states: Vec<(String, String)>,
    /// `(household_id, region_code, alert code, JSON line)`, in output order.
    pub alerts: Vec<(String, String, String, String)>,
}

/// JSON of the catalog's small list and map columns (strings only: it
/// cannot fail).
fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl Store {
    /// Each household's state after its latest run dated before `before`,
    /// with that run's date: `household_id → (run_date, state JSON)`.
    /// Households never run before are absent.
    pub fn monitor_previous(
        &self,
        households: &[String],
        before: NaiveDate,
    ) -> Result<BTreeMap<String, (NaiveDate, String)>> {
        let conn = self.catalog.conn();
        let err = |e| self.catalog.err(e);
        let mut stmt = conn
            .prepare_cached(
                "SELECT run_date, state FROM monitor_state \
                 WHERE household_id = ?1 AND run_date < ?2 \
                 ORDER BY run_date DESC LIMIT 1",
            )
            .map_err(err)?;
        let before = date_text(before);
        let mut out = BTreeMap::new();
        for h in households {
            let row: Option<(String, String)> = stmt
                .query_row(params![h, before], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(err)?;
            if let Some((d, state)) = row {
                let date =
                    NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| Error::Corrupt {
                        id: "-".to_owned(),
                        path: self.root().join("catalog.sqlite"),
                        reason: format!("monitor_state of {h}: run_date `{d}`: {e}"),
                    })?;
                out.insert(h.clone(), (date, state));
            }
        }
        Ok(out)
    }

    /// Records a run in one transaction: the run row, each household's
    /// state for the run date (replacing a rerun's), and the run's alerts
    /// (replacing a rerun's).
    pub fn monitor_record(&self, record: RunRecord) -> Result<MonitorRun> {
        let mut run = record.run;
        run.recorded_at =
            DateTime::<Utc>::from(SystemTime::now()).to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut conn = self.catalog.conn();
        let err = |e| self.catalog.err(e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let date = date_text(run.run_date);
        tx.execute(
            "INSERT INTO monitor_runs (run_id, run_date, roster, snapshots, matcher_hash, \
             households, alerts, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (run_id) DO UPDATE SET snapshots = excluded.snapshots, \
             matcher_hash = excluded.matcher_hash, households = excluded.households, \
             alerts = excluded.alerts, recorded_at = excluded.recorded_at",
            params![
                run.run_id,
                date,
                to_json(&run.roster),
                to_json(&run.snapshots),
                run.matcher_hash,
                run.households as i64,
                run.alerts as i64,
                run.recorded_at
            ],
        )
        .map_err(err)?;
        {
            let mut put = tx
                .prepare(
                    "INSERT INTO monitor_state (household_id, run_date, run_id, state) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (household_id, run_date) \
                     DO UPDATE SET run_id = excluded.run_id, state = excluded.state",
                )
                .map_err(err)?;
            for (h, state) in &record.states {
                put.execute(params![h, date, run.run_id, state])
                    .map_err(err)?;
            }
            tx.execute(
                "DELETE FROM monitor_alerts WHERE run_id = ?1",
                params![run.run_id],
            )
            .map_err(err)?;
            let mut add = tx
                .prepare(
                    "INSERT INTO monitor_alerts (run_id, household_id, seq, region_code, alert, line) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            let mut seq: BTreeMap<&str, i64> = BTreeMap::new();
            for (h, region, alert, line) in &record.alerts {
                let k = seq.entry(h.as_str()).or_default();
                add.execute(params![run.run_id, h, *k, region, alert, line])
                    .map_err(err)?;
                *k += 1;
            }
        }
        tx.commit().map_err(err)?;
        Ok(run)
    }

    /// The recorded runs, by date then id.
    pub fn monitor_runs(&self) -> Result<Vec<MonitorRun>> {
        let conn = self.catalog.conn();
        let err = |e| self.catalog.err(e);
        let mut stmt = conn
            .prepare_cached(
                "SELECT run_id, run_date, roster, snapshots, matcher_hash, households, alerts, \
                 recorded_at FROM monitor_runs ORDER BY run_date, run_id",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (run_id, d, roster, snapshots, matcher_hash, households, alerts, recorded_at) =
                row.map_err(err)?;
            let corrupt = |reason: String| Error::Corrupt {
                id: run_id.clone(),
                path: self.root().join("catalog.sqlite"),
                reason,
            };
            out.push(MonitorRun {
                run_date: NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|e| corrupt(format!("run_date `{d}`: {e}")))?,
                roster: serde_json::from_str(&roster)
                    .map_err(|e| corrupt(format!("roster: {e}")))?,
                snapshots: serde_json::from_str(&snapshots)
                    .map_err(|e| corrupt(format!("snapshots: {e}")))?,
                matcher_hash,
                households: households as u64,
                alerts: alerts as u64,
                recorded_at,
                run_id,
            });
        }
        Ok(out)
    }

    /// The alerts of a run (`run_id`), or of every run dated `run_date`,
    /// of the households whose region code starts with `region_prefix`,
    /// in output order (household, then the run's order).
    pub fn monitor_alerts(
        &self,
        run_id: Option<&str>,
        run_date: Option<NaiveDate>,
        region_prefix: &str,
    ) -> Result<Vec<StoredAlert>> {
        self.monitor_alerts_page(
            run_id,
            run_date,
            &[region_prefix.to_owned()],
            None,
            usize::MAX,
        )
    }

    /// A page of at most `limit` alerts, as [`Store::monitor_alerts`]
    /// for the households under any of `prefixes`, resuming after
    /// `after` (a [`StoredAlert::cursor`]); in the order of runs by date
    /// and id, then household, then the run's order.
    pub fn monitor_alerts_page(
        &self,
        run_id: Option<&str>,
        run_date: Option<NaiveDate>,
        prefixes: &[String],
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredAlert>> {
        if prefixes.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let conn = self.catalog.conn();
        let err = |e| self.catalog.err(e);
        // ?1 run, ?2 date, ?3..?5 the cursor's date, run and household,
        // ?6.. the prefixes, then the cursor's seq.
        let seq_slot = 6 + prefixes.len();
        let scope = (0..prefixes.len())
            .map(|i| format!("substr(a.region_code, 1, length(?{n})) = ?{n}", n = i + 6))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!(
            "SELECT r.run_date, a.run_id, a.household_id, a.region_code, a.alert, a.line, a.seq \
             FROM monitor_alerts a JOIN monitor_runs r ON r.run_id = a.run_id \
             WHERE (?1 IS NULL OR a.run_id = ?1) AND (?2 IS NULL OR r.run_date = ?2) \
             AND (?3 IS NULL OR (r.run_date, a.run_id, a.household_id, a.seq) > (?3, ?4, ?5, CAST(?{seq_slot} AS INTEGER))) \
             AND ({scope}) \
             ORDER BY r.run_date, a.run_id, a.household_id, a.seq LIMIT {}",
            i64::try_from(limit).unwrap_or(i64::MAX)
        );
        // The cursor's parts: date, run, household (which may hold a
        // `|`), seq.
        let parts: Vec<&str> = after
            .and_then(|a| {
                let (date, rest) = a.split_once('|')?;
                let (run, rest) = rest.split_once('|')?;
                let (household, seq) = rest.rsplit_once('|')?;
                Some(vec![date, run, household, seq])
            })
            .unwrap_or_default();
        if after.is_some() && parts.len() != 4 {
            return Err(Error::Corrupt {
                id: "-".to_owned(),
                path: self.root().join("catalog.sqlite"),
                reason: format!("not an alert cursor: {:?}", after.unwrap_or_default()),
            });
        }
        let part = |i: usize| parts.get(i).map(|s| (*s).to_owned());
        let mut values: Vec<Option<String>> = vec![
            run_id.map(str::to_owned),
            run_date.map(date_text),
            part(0),
            part(1),
            part(2),
        ];
        values.extend(prefixes.iter().map(|p| Some(p.clone())));
        values.push(part(3));
        let mut stmt = conn.prepare(&sql).map_err(err)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values.iter()), |r| {
                Ok(StoredAlert {
                    run_date: r.get(0)?,
                    run_id: r.get(1)?,
                    household_id: r.get(2)?,
                    region_code: r.get(3)?,
                    alert: r.get(4)?,
                    line: r.get(5)?,
                    seq: r.get(6)?,
                })
            })
            .map_err(err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(err)
    }
}
