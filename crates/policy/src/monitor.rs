//! Monitoring (rules §7): the alerts of one roster household at one run, as
//! a pure function of its facts on the run date, the policy in force and
//! the household's state at its previous run.
//!
//! [`monitor`] evaluates the household on the run date exactly as a check
//! would ([`crate::evaluate`] with `applied_on` = the run date: `n` counted
//! on the run date, income over the `lookback_months` full months before
//! the run month), then derives every alert of rules §7 and the
//! [`MonitorState`] to keep for the next run.
//!
//! - **Conditions** (`income_above_standard`, `financial_assets_over_limit`,
//!   `staff_relative`, `large_medical_expense`) alert when they hold now
//!   and did not at the previous run ([`MonitorState::conditions`]); before
//!   a first run none held.
//! - **Dated facts** (`deceased`, `new_vehicle`, `new_property`,
//!   `new_business`, `moved_out`) alert once: when their date is in the
//!   window. A fact is remembered in [`MonitorState::known`] once a run has
//!   seen it, so it never alerts twice.
//! - **Calendar alerts** (`review_due`, `age_transition`) alert when their
//!   date is in the window.
//!
//! A rerun of a run date is computed against the same previous state (the
//! caller keeps one state per household and run date, and passes the
//! latest *before* the run date), so it gives the same alerts.
//!
//! A monitoring run on `run_date` looks at the window `(start, run_date]`,
//! where `start` is the previous run's date, or the household's `since` on a
//! first run. A dated fact alerts when its date is in the window: a fact
//! dated exactly on the previous run date was in that run's window and is
//! not alerted again; a fact dated the day after is.
//!
//! Readings taken where rules §7 is silent:
//! - Review dates are counted from `since` each time (`since + k × interval`
//!   months, `k ≥ 1`), not chained from the previous due date, so month-end
//!   clamping (31 January + 1 month = 28/29 February) never drifts.
//! - `since` itself is not a review date (the first review is one interval
//!   after it), and a first run's window does not contain `since`.
//! - A dated fact that arrives late — dated after `since` but on or before
//!   the previous run, and absent from every earlier run's snapshots (a
//!   death registered weeks after it happened) — alerts in the first run
//!   that sees it, with `"late": true` in its detail. Read literally, §7
//!   would never report it, and a nightly run would miss nearly every
//!   death, since deaths reach the registry days later. When records
//!   arrive on time the two readings agree.
//! - A death alerts whenever a run first sees it, even dated on or before
//!   `since` (`"before_since": true`): a dead member on the rolls is the
//!   one thing never to miss.
//! - A fact without a date (a business without `established_on`, a hukou
//!   moved out without a status date) cannot be placed in a window: it
//!   alerts in the first run after a previous one that sees it, never on a
//!   first run (it may predate `since`).
//! - The scheduled re-checks of one window make one `review_due` alert,
//!   due on the latest date, every date in `due_dates` (a first run may
//!   look back over several).
//! - `large_medical_expense` and `staff_relative` are per member;
//!   `income_above_standard`, `gradual_exit` and
//!   `financial_assets_over_limit` are the household's (no member).
//! - `gradual_exit` compares the window's wage total (wages, imputed wages
//!   included, of the members counted) with the previous run's.
//! - A household whose kind cannot be known (rules §1) gets no alert that
//!   needs `S`; its conditions of those kinds carry over unchanged, so they
//!   do not alert again once it can.

use std::collections::{BTreeMap, BTreeSet};

use hedui_model::codes::{Assistance, HukouStatus};
use hedui_model::{CodeList, Date, Fen, Month};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::Result;
use crate::evaluate::evaluate;
use crate::facts::{Household, Member, RecordRef};
use crate::findings::Findings;
use crate::membership::{self, age_on, birth_date};
use crate::policy::PolicyVersion;

/// The window of one monitoring run: dates after `start` and on or before
/// `end` (the run date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertWindow {
    /// The previous run's date, or the household's `since` on a first run
    /// (exclusive).
    pub start: Date,
    /// The run date (inclusive).
    pub end: Date,
}

impl AlertWindow {
    /// The window of a run on `run_date` after a previous run on
    /// `previous` (or, if none, a first run looking back to `since`).
    /// `None` when the window is empty or backwards (a run date on or
    /// before the previous run or `since`).
    pub fn new(since: Date, previous: Option<Date>, run_date: Date) -> Option<Self> {
        let start = previous.unwrap_or(since);
        (start < run_date).then_some(Self {
            start,
            end: run_date,
        })
    }

    /// Whether a dated fact falls in this window.
    pub fn contains(&self, date: Date) -> bool {
        self.start < date && date <= self.end
    }
}

/// The months between re-checks (rules §7 `review_due`): 12 for a `tekun`
/// household or one without a working-age member (18 to 59), 6 otherwise.
pub fn review_interval_months(tekun: bool, has_working_age_member: bool) -> u32 {
    if tekun || !has_working_age_member {
        12
    } else {
        6
    }
}

/// The re-check dates counted from `since` every `interval_months` that
/// fall in `window`, in order.
pub fn reviews_due(since: Date, interval_months: u32, window: &AlertWindow) -> Vec<Date> {
    let mut due = Vec::new();
    if interval_months == 0 {
        return due;
    }
    let mut k: u32 = 1;
    while let Some(date) = k
        .checked_mul(interval_months)
        .and_then(|months| since.checked_add_months(chrono::Months::new(months)))
    {
        if date > window.end {
            break;
        }
        if window.contains(date) {
            due.push(date);
        }
        k += 1;
    }
    due
}

/// The re-check after a member's death (rules §7): the day three months
/// later, if it falls in `window`.
pub fn review_after_death(died_on: Date, window: &AlertWindow) -> Option<Date> {
    died_on
        .checked_add_months(chrono::Months::new(3))
        .filter(|date| window.contains(*date))
}

/// An alert of rules §7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A member has died (死亡保 must stop).
    Deceased,
    /// For `dibao`, `tekun`, `single_person`: the recomputed `P ≥ S`.
    IncomeAboveStandard,
    /// With `income_above_standard`, when the window's wages rose.
    GradualExit,
    /// A vehicle registered in the window.
    NewVehicle,
    /// A property registered in the window.
    NewProperty,
    /// An entity established in the window.
    NewBusiness,
    /// The financial test fails.
    FinancialAssetsOverLimit,
    /// A member appears in the staff register.
    StaffRelative,
    /// A member's hukou moved out or was cancelled.
    MovedOut,
    /// A member's medical expenses of the last 3 months exceed
    /// `medical_alert`.
    LargeMedicalExpense,
    /// A re-check falls due.
    ReviewDue,
    /// A member turns 18 or 60.
    AgeTransition,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 12] = [
        AlertKind::Deceased,
        AlertKind::IncomeAboveStandard,
        AlertKind::GradualExit,
        AlertKind::NewVehicle,
        AlertKind::NewProperty,
        AlertKind::NewBusiness,
        AlertKind::FinancialAssetsOverLimit,
        AlertKind::StaffRelative,
        AlertKind::MovedOut,
        AlertKind::LargeMedicalExpense,
        AlertKind::ReviewDue,
        AlertKind::AgeTransition,
    ];

    /// The code of rules §7.
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::Deceased => "deceased",
            AlertKind::IncomeAboveStandard => "income_above_standard",
            AlertKind::GradualExit => "gradual_exit",
            AlertKind::NewVehicle => "new_vehicle",
            AlertKind::NewProperty => "new_property",
            AlertKind::NewBusiness => "new_business",
            AlertKind::FinancialAssetsOverLimit => "financial_assets_over_limit",
            AlertKind::StaffRelative => "staff_relative",
            AlertKind::MovedOut => "moved_out",
            AlertKind::LargeMedicalExpense => "large_medical_expense",
            AlertKind::ReviewDue => "review_due",
            AlertKind::AgeTransition => "age_transition",
        }
    }

    /// The kind of a code.
    pub fn parse(code: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// One alert: its kind, the member it names (none for a household's
/// alert), the records behind it and what it found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    /// The kind.
    pub alert: AlertKind,
    /// The member's id text, or `None` for the household.
    pub member: Option<String>,
    /// The records behind it, sorted.
    pub records: Vec<RecordRef>,
    /// Dates, values, thresholds, the policy version that decided it.
    pub detail: BTreeMap<String, Value>,
}

impl Alert {
    fn new(alert: AlertKind, member: Option<&str>, mut records: Vec<RecordRef>) -> Alert {
        records.sort();
        records.dedup();
        Alert {
            alert,
            member: member.map(str::to_owned),
            records,
            detail: BTreeMap::new(),
        }
    }

    fn with(mut self, key: &str, value: Value) -> Alert {
        self.detail.insert(key.to_owned(), value);
        self
    }

    /// The sort key of report.md: alert code, then member (the household
    /// first), then records.
    fn key(&self) -> (&'static str, Option<&str>, &[RecordRef]) {
        (self.alert.code(), self.member.as_deref(), &self.records)
    }
}

/// A household's state after a run: what the next run compares with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorState {
    /// The run's date.
    pub run_date: Option<Date>,
    /// The conditions that held: `(alert code, member id or "")`.
    pub conditions: BTreeSet<(String, String)>,
    /// The dated facts seen (`kind:member:source/record`), each alerted
    /// once.
    pub known: BTreeSet<String>,
    /// The window's wage total of the counted members, fen (`None`: not
    /// computed, the household's kind unknown).
    pub wage_total: Option<i64>,
}

/// The roster's own data about a household (contract: `roster_households`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enrolment {
    /// When assistance began (a first run looks back to it).
    pub since: Date,
}

/// What one run found for one household.
#[derive(Clone, Debug)]
pub struct MonitorOutcome {
    /// The alerts, sorted (report.md).
    pub alerts: Vec<Alert>,
    /// The state to keep for the next run.
    pub state: MonitorState,
    /// The household evaluated on the run date, if its kind is known.
    pub findings: Option<Findings>,
    /// Why `S`-dependent alerts were not computed, if they were not.
    pub note: Option<String>,
}

/// A dated fact that may alert once.
struct Dated {
    kind: AlertKind,
    member: String,
    key: String,
    date: Option<Date>,
    records: Vec<RecordRef>,
    detail: Vec<(&'static str, Value)>,
}

fn dated_facts(m: &Member, ms: &membership::Membership, run_date: Date) -> Vec<Dated> {
    let id = m.id_number.as_str();
    let mut out = Vec::new();
    // The death: the earliest date any record gives, once per member.
    if ms.dead {
        let hukou_date = m
            .hukou
            .as_ref()
            .filter(|h| h.status == HukouStatus::Deceased)
            .and_then(|h| h.status_date);
        let date = m
            .deaths
            .iter()
            .filter(|d| d.date <= run_date)
            .map(|d| d.date)
            .chain(hukou_date)
            .min();
        out.push(Dated {
            kind: AlertKind::Deceased,
            member: id.to_owned(),
            key: format!("deceased:{id}"),
            date,
            records: ms.death_evidence.clone(),
            detail: date.map(|d| ("died_on", json!(d))).into_iter().collect(),
        });
    }
    if let Some(h) = &m.hukou
        && matches!(h.status, HukouStatus::MovedOut | HukouStatus::Cancelled)
    {
        out.push(Dated {
            kind: AlertKind::MovedOut,
            member: id.to_owned(),
            key: format!("moved_out:{id}:{}:{}", h.status.code(), h.record.record_id),
            date: h.status_date,
            records: vec![h.record.clone()],
            detail: vec![("status", json!(h.status.code()))]
                .into_iter()
                .chain(h.status_date.map(|d| ("status_date", json!(d))))
                .collect(),
        });
    }
    let record_key = |kind: AlertKind, r: &RecordRef| {
        format!("{}:{id}:{}/{}", kind.code(), r.source, r.record_id)
    };
    for v in &m.assets.vehicles {
        out.push(Dated {
            kind: AlertKind::NewVehicle,
            member: id.to_owned(),
            key: record_key(AlertKind::NewVehicle, &v.record),
            date: Some(v.registered_on),
            records: vec![v.record.clone()],
            detail: vec![
                ("registered_on", json!(v.registered_on)),
                ("vehicle_kind", json!(v.kind.code())),
            ],
        });
    }
    for p in &m.assets.property {
        out.push(Dated {
            kind: AlertKind::NewProperty,
            member: id.to_owned(),
            key: record_key(AlertKind::NewProperty, &p.record),
            date: Some(p.registered_on),
            records: vec![p.record.clone()],
            detail: vec![
                ("registered_on", json!(p.registered_on)),
                ("usage", json!(p.usage.code())),
            ],
        });
    }
    for b in &m.assets.business {
        out.push(Dated {
            kind: AlertKind::NewBusiness,
            member: id.to_owned(),
            key: record_key(AlertKind::NewBusiness, &b.record),
            date: b.established_on,
            records: vec![b.record.clone()],
            detail: vec![
                ("role", json!(b.role.code())),
                ("status", json!(b.status.code())),
            ]
            .into_iter()
            .chain(b.established_on.map(|d| ("established_on", json!(d))))
            .chain(
                b.registered_capital
                    .map(|c| ("registered_capital_fen", json!(c.0))),
            )
            .collect(),
        });
    }
    out
}

/// The window's wage total of the counted members (imputed wages
/// included).
fn wage_total(f: &Findings) -> (i64, Vec<RecordRef>) {
    let mut total = 0i64;
    let mut records = Vec::new();
    for m in f.members.iter().filter(|m| m.counted) {
        for month in m.income.iter().flat_map(|i| &i.months) {
            if month.wage != Fen::ZERO {
                total = total.saturating_add(month.wage.0);
                records.extend(month.records.iter().filter(|r| r.source == "tax").cloned());
                records.extend(month.imputed.iter().map(|i| i.record.clone()));
            }
        }
    }
    (total, records)
}

fn policy_detail(f: &Findings) -> Value {
    json!({"name": f.policy.name, "region": f.policy.region, "version": f.policy.version, "hash": f.policy.hash.to_hex()})
}

/// The alerts of one household at one run (see the module docs).
/// `household.applied_on` is the run date; `policy` the version in force
/// for its region on that date; `previous` the household's state after
/// its latest run before this date (`None`: a first run). Pure.
///
/// A run dated on or before `since` has an empty window: no alert, and
/// the state is the previous one (or empty).
pub fn monitor(
    household: &Household,
    enrolment: Enrolment,
    previous: Option<&MonitorState>,
    policy: &PolicyVersion,
) -> Result<MonitorOutcome> {
    let run_date = household.applied_on;
    let since = enrolment.since;
    let prev_date = previous.and_then(|p| p.run_date);
    let Some(window) = AlertWindow::new(since, prev_date.filter(|d| *d > since), run_date) else {
        return Ok(MonitorOutcome {
            alerts: Vec::new(),
            state: previous.cloned().unwrap_or_default(),
            findings: None,
            note: Some(format!(
                "run date {run_date} is not after the household's since ({since}) or its previous run"
            )),
        });
    };
    let empty = MonitorState::default();
    let prev = previous.unwrap_or(&empty);
    let first_run = previous.is_none();
    let mut alerts = Vec::new();
    let mut state = MonitorState {
        run_date: Some(run_date),
        ..MonitorState::default()
    };

    // Each member's place on the run date, once.
    let memberships: Vec<membership::Membership> = household
        .members
        .iter()
        .map(|m| membership::membership(m, run_date))
        .collect();
    let members = || household.members.iter().zip(&memberships);

    // Dated facts: once each.
    let mut deaths: Vec<(String, Date, bool, Vec<RecordRef>)> = Vec::new();
    for (m, ms) in members() {
        for f in dated_facts(m, ms, run_date) {
            // A death is never too old: a dead member on the rolls
            // alerts whenever first seen (dated before `since` too).
            let placeable = match f.date {
                Some(d) => (f.kind == AlertKind::Deceased || since < d) && d <= run_date,
                None => true,
            };
            if !placeable {
                continue;
            }
            state.known.insert(f.key.clone());
            let in_window = f.date.is_some_and(|d| window.contains(d));
            let unseen = !prev.known.contains(&f.key);
            let death = f.kind == AlertKind::Deceased;
            let before_since = death && f.date.is_some_and(|d| d <= since);
            let late = !first_run && unseen && !in_window && f.date.is_some() && !before_since;
            let undated_new = unseen && f.date.is_none() && (death || !first_run);
            let alerted = unseen && (in_window || late || undated_new || before_since);
            if f.kind == AlertKind::Deceased
                && let Some(d) = f.date
            {
                deaths.push((f.member.clone(), d, alerted, ms.death_evidence.clone()));
            }
            if !alerted {
                continue;
            }
            let mut a = Alert::new(f.kind, Some(&f.member), f.records);
            for (k, v) in f.detail {
                a = a.with(k, v);
            }
            if late {
                a = a.with("late", json!(true));
            }
            if undated_new {
                a = a.with("undated", json!(true));
            }
            if before_since {
                a = a.with("before_since", json!(true));
            }
            alerts.push(a);
        }
    }

    // Calendar alerts: review dates and ages in the window.
    let has_working_age = members()
        .any(|(m, ms)| !ms.dead && age_on(m, run_date).is_some_and(|a| (18..=59).contains(&a)));
    let tekun = household.assistance == Assistance::Tekun;
    let interval = review_interval_months(tekun, has_working_age);
    // One re-check alert however many dates the window holds (a first
    // run looking back years): due on the latest, the others listed.
    let due = reviews_due(since, interval, &window);
    if let Some(last) = due.last() {
        alerts.push(
            Alert::new(AlertKind::ReviewDue, None, Vec::new())
                .with("due_on", json!(last))
                .with("due_dates", json!(due))
                .with("interval_months", json!(interval))
                .with("since", json!(since)),
        );
    }
    for (member, died_on, alerted_now, records) in deaths {
        let due = died_on
            .checked_add_months(chrono::Months::new(3))
            .filter(|due| window.contains(*due) || (alerted_now && *due <= run_date));
        if let Some(due) = due {
            alerts.push(
                Alert::new(AlertKind::ReviewDue, Some(&member), records)
                    .with("due_on", json!(due))
                    .with("died_on", json!(died_on))
                    .with("after_death", json!(true)),
            );
        }
    }
    for (m, _) in members().filter(|(_, ms)| !ms.dead) {
        let Some(birth) = birth_date(m) else {
            continue;
        };
        for age in [18u32, 60] {
            let Some(day) = birth.checked_add_months(chrono::Months::new(12 * age)) else {
                continue;
            };
            if window.contains(day) {
                let records = m.hukou.iter().map(|h| h.record.clone()).collect();
                alerts.push(
                    Alert::new(AlertKind::AgeTransition, Some(&m.id_number), records)
                        .with("age", json!(age))
                        .with("on", json!(day))
                        .with("birth_date", json!(birth)),
                );
            }
        }
    }

    // Conditions: alert when they newly hold.
    let mut held: Vec<Alert> = Vec::new();
    for (m, ms) in members() {
        if !m.staff.is_empty() && !ms.dead {
            held.push(Alert::new(
                AlertKind::StaffRelative,
                Some(&m.id_number),
                m.staff.clone(),
            ));
        }
    }
    let (findings, note) = match evaluate(household, policy) {
        Ok(f) => (Some(f), None),
        Err(e) => (None, Some(e.to_string())),
    };
    if let Some(f) = &findings {
        let params = &policy.params;
        let s = f.standard;
        let n = i128::from(f.household_size);
        let w = i128::from(f.income.window_total.0);
        let lookback = i128::from(params.lookback_months);
        let (wages, wage_records) = wage_total(f);
        state.wage_total = Some(wages);
        let receiving = matches!(
            household.assistance,
            Assistance::Dibao | Assistance::Tekun | Assistance::SinglePerson
        );
        // P ≥ S ⇔ W ≥ lookback × S × n, without division.
        let rhs = lookback * i128::from(s.0) * n;
        if receiving && n > 0 && w >= rhs {
            let mut records: Vec<RecordRef> = f
                .members
                .iter()
                .flat_map(|m| m.income.iter().flat_map(|i| &i.months))
                .flat_map(|mo| mo.records.iter().cloned())
                .collect();
            records.extend(
                f.members
                    .iter()
                    .flat_map(|m| m.income.iter().flat_map(|i| &i.months))
                    .flat_map(|mo| mo.imputed.iter().map(|i| i.record.clone())),
            );
            let a = Alert::new(AlertKind::IncomeAboveStandard, None, records)
                .with("per_capita_income_fen", json!(f.income.per_capita.map(|p| p.0)))
                .with("standard_fen", json!(s.0))
                .with("household_size", json!(f.household_size))
                .with("window_total_fen", json!(f.income.window_total.0))
                .with("window", json!({"from": f.window.from.to_string(), "to": f.window.to.to_string()}))
                .with("comparison", json!({"lhs": w.to_string(), "op": ">=", "rhs": rhs.to_string(), "expr": "W >= lookback_months × S × n"}))
                .with("policy", policy_detail(f));
            let newly = !prev.conditions.contains(&(
                AlertKind::IncomeAboveStandard.code().to_owned(),
                String::new(),
            ));
            if newly
                && !first_run
                && let Some(before) = prev.wage_total
                && wages > before
            {
                alerts.push(
                    Alert::new(AlertKind::GradualExit, None, wage_records)
                        .with("wage_total_fen", json!(wages))
                        .with("previous_wage_total_fen", json!(before))
                        .with("gradual_exit_months", json!(params.gradual_exit_months))
                        .with("policy", policy_detail(f)),
                );
            }
            held.push(a);
        }
        let fin = &f.asset_tests.financial;
        if !fin.pass {
            held.push(
                Alert::new(
                    AlertKind::FinancialAssetsOverLimit,
                    None,
                    fin.records.clone(),
                )
                .with(
                    "value",
                    serde_json::to_value(fin.value).unwrap_or(Value::Null),
                )
                .with(
                    "limit",
                    serde_json::to_value(fin.limit).unwrap_or(Value::Null),
                )
                .with("policy", policy_detail(f)),
            );
        }
        let limit = params.medical_alert(s);
        let from = Month::of(run_date).plus(-2).first_day();
        for m in &household.members {
            let bills: Vec<_> = m
                .expenses
                .iter()
                .filter(|e| {
                    e.category == hedui_model::codes::ExpenseCategory::Medical
                        && from <= e.date
                        && e.date <= run_date
                })
                .collect();
            let total: i64 = bills.iter().map(|e| e.amount.0).sum();
            if !bills.is_empty() && total > limit.0 {
                held.push(
                    Alert::new(
                        AlertKind::LargeMedicalExpense,
                        Some(&m.id_number),
                        bills.iter().map(|e| e.record.clone()).collect(),
                    )
                    .with("total_fen", json!(total))
                    .with("medical_alert_fen", json!(limit.0))
                    .with("from", json!(from))
                    .with("to", json!(run_date))
                    .with(
                        "medical_alert_multiple",
                        json!(params.medical_alert_multiple),
                    )
                    .with("policy", policy_detail(f)),
                );
            }
        }
    } else {
        // Without S, the conditions that need it carry over.
        state.conditions.extend(
            prev.conditions
                .iter()
                .filter(|(code, _)| code != AlertKind::StaffRelative.code())
                .cloned(),
        );
        state.wage_total = prev.wage_total;
    }
    for a in held {
        let key = (
            a.alert.code().to_owned(),
            a.member.clone().unwrap_or_default(),
        );
        if !prev.conditions.contains(&key) {
            alerts.push(a);
        }
        state.conditions.insert(key);
    }
    alerts.sort_by(|a, b| a.key().cmp(&b.key()));
    Ok(MonitorOutcome {
        alerts,
        state,
        findings,
        note,
    })
}
