//! The server's daily monitoring run (`[monitor]` in the configuration):
//! every day at `daily_at` local time the roster in `roster` is monitored
//! on that day's date, exactly as `hedui monitor` would, audited under the
//! caller `schedule`, its alerts kept for `ListAlerts` and Flight `DoGet`
//! and, with `out_dir`, written to `<out_dir>/<run_date>.jsonl`.
//!
//! A server that was down at the time runs the day's run when it starts
//! (once `daily_at` has passed and no run of that date is recorded); a day
//! missed entirely is not made up (the next run's window covers it: a run
//! reports everything since the household's previous run).
//!
//! Time comes from a [`Clock`], so a test drives the schedule with a fake
//! one.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
use hedui_model::Date;

use crate::config::MonitorSchedule;
use crate::monitor::MonitorOutput;
use crate::service::State;

/// Where the time comes from.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// When the daily run is due.
#[derive(Debug, Clone)]
pub struct Schedule {
    at: NaiveTime,
    offset: FixedOffset,
    /// The latest run date done (or recorded before the server started).
    last: Option<Date>,
}

impl Schedule {
    /// A schedule at `at` local time (`offset` from UTC), the latest run
    /// done being `last`.
    pub fn new(at: NaiveTime, offset: FixedOffset, last: Option<Date>) -> Schedule {
        Schedule { at, offset, last }
    }

    /// The run date due at `now`, if one is: today's (local) date once
    /// `daily_at` has passed and today has not been run.
    pub fn due(&self, now: DateTime<Utc>) -> Option<Date> {
        let local = now.with_timezone(&self.offset);
        let today = local.date_naive();
        (local.time() >= self.at && self.last.is_none_or(|l| l < today)).then_some(today)
    }

    /// Marks a run date done.
    pub fn done(&mut self, run_date: Date) {
        self.last = Some(self.last.map_or(run_date, |l| l.max(run_date)));
    }

    /// How long from `now` until the next run is due (zero if one is).
    pub fn until_next(&self, now: DateTime<Utc>) -> Duration {
        if self.due(now).is_some() {
            return Duration::ZERO;
        }
        let local = now.with_timezone(&self.offset);
        let today = local.date_naive();
        let day = if local.time() < self.at && self.last.is_none_or(|l| l < today) {
            today
        } else {
            today.succ_opt().unwrap_or(today)
        };
        let next = day
            .and_time(self.at)
            .and_local_timezone(self.offset)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        (next - now).to_std().unwrap_or(Duration::ZERO)
    }
}

/// The schedule of a configuration, starting after the latest run date
/// the store has recorded.
pub fn schedule_of(state: &State, cfg: &MonitorSchedule) -> Result<Schedule> {
    let (at, offset) = cfg.parsed()?;
    let last = state.store.monitor_runs()?.iter().map(|r| r.run_date).max();
    Ok(Schedule::new(at, offset, last))
}

/// One scheduled run on `run_date`: the roster read afresh, monitored,
/// audited, recorded and (with `out_dir`) written.
pub fn run_scheduled(
    state: &State,
    cfg: &MonitorSchedule,
    run_date: Date,
) -> Result<MonitorOutput> {
    let (h, m) = hedui_engine::load_roster_tables(&cfg.roster)
        .with_context(|| format!("monitor.roster: reading {}", cfg.roster.display()))?;
    let _one = state.monitoring.lock().unwrap_or_else(|p| p.into_inner());
    let o =
        crate::monitor::run_monitor_with(&state.store, &state.policies, &h, &m, run_date, &|s| {
            state.linker_for(s, None)
        })?;
    let events = crate::monitoring::run_audit(state, "schedule", &cfg.purpose, &o)
        .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
    state.store.audit_append_all(events)?;
    if let Some(dir) = &cfg.out_dir {
        crate::monitor::write_lines(&dir.join(format!("{run_date}.jsonl")), &o.lines)?;
    }
    Ok(o)
}

/// Runs what is due at the clock's now: the run, or `None`.
pub fn tick(
    state: &State,
    cfg: &MonitorSchedule,
    schedule: &mut Schedule,
    clock: &dyn Clock,
) -> Result<Option<MonitorOutput>> {
    let Some(run_date) = schedule.due(clock.now()) else {
        return Ok(None);
    };
    let o = run_scheduled(state, cfg, run_date)?;
    schedule.done(run_date);
    Ok(Some(o))
}

/// The scheduler's loop (its own thread): waits for the next run, runs it,
/// until the server stops. A failed run is logged and retried in ten
/// minutes.
pub(crate) fn scheduler(state: &Arc<State>, cfg: &MonitorSchedule, clock: &dyn Clock) {
    let mut schedule = match schedule_of(state, cfg) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "monitoring schedule not started");
            return;
        }
    };
    tracing::info!(daily_at = %cfg.daily_at, utc_offset = %cfg.utc_offset, "monitoring schedule started");
    let mut seen = state.rings();
    while !state.stopping() {
        match tick(state, cfg, &mut schedule, clock) {
            Ok(Some(o)) => tracing::info!(
                run_date = %o.run.run_date,
                households = o.households.len(),
                alerts = o.lines.len(),
                "scheduled monitoring run done"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "scheduled monitoring run failed; retried in 10 minutes");
                seen = state.wait_for_ring(seen, Duration::from_secs(600));
                continue;
            }
        }
        // Wake at least every minute (a changed clock), or when stopping.
        let wait = schedule
            .until_next(clock.now())
            .min(Duration::from_secs(60));
        seen = state.wait_for_ring(seen, wait.max(Duration::from_millis(100)));
    }
    tracing::info!("monitoring schedule stopped");
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::config::Limits;

    struct FakeClock(Mutex<DateTime<Utc>>);

    impl FakeClock {
        fn at(s: &str) -> FakeClock {
            FakeClock(Mutex::new(parse(s)))
        }
        fn set(&self, s: &str) {
            *self.0.lock().unwrap() = parse(s);
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    fn parse(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn due_once_a_day_after_the_local_time() {
        let cst = FixedOffset::east_opt(8 * 3600).unwrap();
        let mut s = Schedule::new(NaiveTime::from_hms_opt(2, 30, 0).unwrap(), cst, None);
        // 02:29 in Beijing is 18:29 UTC the day before.
        assert_eq!(s.due(parse("2026-03-30T18:29:00Z")), None);
        assert_eq!(
            s.until_next(parse("2026-03-30T18:29:00Z")),
            Duration::from_secs(60)
        );
        assert_eq!(s.due(parse("2026-03-30T18:30:00Z")), Some(d(2026, 3, 31)));
        s.done(d(2026, 3, 31));
        assert_eq!(s.due(parse("2026-03-30T23:00:00Z")), None);
        assert_eq!(
            s.until_next(parse("2026-03-30T18:30:00Z")),
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(s.due(parse("2026-03-31T18:30:00Z")), Some(d(2026, 4, 1)));
        // Started after the time with nothing run today: due at once.
        let late = Schedule::new(
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            cst,
            Some(d(2026, 3, 30)),
        );
        assert_eq!(
            late.due(parse("2026-03-31T04:00:00Z")),
            Some(d(2026, 3, 31))
        );
    }

    #[test]
    fn the_schedule_fires_with_a_fake_clock_and_records_the_run() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/monitor/dated_facts");
        let dir = tempfile::tempdir().unwrap();
        let store = hedui_store::Store::open(dir.path().join("data")).unwrap();
        for f in std::fs::read_dir(root.join("snap1")).unwrap() {
            let p = f.unwrap().path();
            let source = p.file_stem().unwrap().to_str().unwrap().to_owned();
            let spec = *hedui_sources::tables::ALL
                .iter()
                .find(|t| t.name == source)
                .unwrap();
            let n = hedui_sources::load_file(spec, &p).unwrap();
            crate::ingest::commit_extract(
                &store,
                &crate::ingest::ExtractMeta {
                    table: spec,
                    as_of: d(2026, 3, 31),
                    department: "test",
                    region: None,
                    file_name: &source,
                },
                n,
            )
            .unwrap();
        }
        let state = State::new(
            store,
            hedui_policy::PolicySet::reference(),
            &[],
            &Limits::default(),
        )
        .unwrap();
        let out = dir.path().join("alerts");
        let cfg = MonitorSchedule {
            daily_at: "02:30".into(),
            utc_offset: "+08:00".into(),
            roster: root.join("roster"),
            out_dir: Some(out.clone()),
            purpose: "test".into(),
        };
        let mut schedule = schedule_of(&state, &cfg).unwrap();
        let clock = FakeClock::at("2026-03-31T01:00:00+08:00");
        assert!(tick(&state, &cfg, &mut schedule, &clock).unwrap().is_none());
        clock.set("2026-03-31T02:30:00+08:00");
        let o = tick(&state, &cfg, &mut schedule, &clock)
            .unwrap()
            .expect("the run fires");
        assert_eq!(o.run.run_date, d(2026, 3, 31));
        assert!(o.lines.iter().any(|l| l.contains("\"deceased\"")));
        assert_eq!(
            std::fs::read_to_string(out.join("2026-03-31.jsonl"))
                .unwrap()
                .lines()
                .count(),
            o.lines.len()
        );
        // Not again the same day; a restarted scheduler knows the day is done.
        clock.set("2026-03-31T23:59:00+08:00");
        assert!(tick(&state, &cfg, &mut schedule, &clock).unwrap().is_none());
        let mut restarted = schedule_of(&state, &cfg).unwrap();
        assert!(
            tick(&state, &cfg, &mut restarted, &clock)
                .unwrap()
                .is_none()
        );
        // The next day's run: the window since the previous run.
        clock.set("2026-04-01T02:31:00+08:00");
        let o2 = tick(&state, &cfg, &mut schedule, &clock)
            .unwrap()
            .expect("the next day's run");
        assert_eq!(o2.run.run_date, d(2026, 4, 1));
        assert!(
            !o2.lines.iter().any(|l| l.contains("\"deceased\"")),
            "{:?}",
            o2.lines
        );
        let runs = state.store.monitor_runs().unwrap();
        assert_eq!(
            runs.iter().map(|r| r.run_date).collect::<Vec<_>>(),
            [d(2026, 3, 31), d(2026, 4, 1)]
        );
        // Audited under the caller `schedule`, one entry per household.
        let entries = state.store.audit_entries().unwrap();
        assert_eq!(
            entries
                .iter()
                .filter(|e| e.event.caller == "schedule" && e.event.action == "monitor")
                .count(),
            2 * 6
        );
    }
}
