//! Monitoring (rules §7), first slice: the alert window and the review
//! schedule, as pure functions of dates.
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

use hedui_model::Date;

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
