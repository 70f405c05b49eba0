//! Monitoring windows and review dates (rules §7).

use hedui_model::Date;
use hedui_policy::monitor::{AlertWindow, review_after_death, review_interval_months, reviews_due};

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn a_fact_dated_on_the_previous_run_date_is_not_in_the_next_window() {
    let w = AlertWindow::new(d(2025, 1, 1), Some(d(2026, 3, 1)), d(2026, 4, 1)).unwrap();
    assert!(!w.contains(d(2026, 3, 1)));
    assert!(w.contains(d(2026, 3, 2)));
    assert!(w.contains(d(2026, 4, 1)));
    assert!(!w.contains(d(2026, 4, 2)));
}

#[test]
fn a_first_run_looks_back_to_since() {
    let w = AlertWindow::new(d(2025, 1, 1), None, d(2026, 4, 1)).unwrap();
    assert!(w.contains(d(2025, 1, 2)));
    assert!(!w.contains(d(2025, 1, 1)));
}

#[test]
fn a_rerun_on_the_same_date_has_an_empty_window() {
    assert_eq!(
        AlertWindow::new(d(2025, 1, 1), Some(d(2026, 4, 1)), d(2026, 4, 1)),
        None
    );
}

#[test]
fn review_interval_follows_tekun_and_working_age() {
    assert_eq!(review_interval_months(true, true), 12);
    assert_eq!(review_interval_months(false, false), 12);
    assert_eq!(review_interval_months(false, true), 6);
}

#[test]
fn reviews_are_counted_from_since_without_drift() {
    let w = AlertWindow::new(d(2025, 1, 31), None, d(2026, 3, 31)).unwrap();
    assert_eq!(
        reviews_due(d(2025, 1, 31), 6, &w),
        vec![d(2025, 7, 31), d(2026, 1, 31)]
    );
    let later = AlertWindow::new(d(2025, 1, 31), Some(d(2026, 1, 31)), d(2026, 8, 1)).unwrap();
    assert_eq!(reviews_due(d(2025, 1, 31), 6, &later), vec![d(2026, 7, 31)]);
}

#[test]
fn review_after_death_is_three_months_later() {
    let w = AlertWindow::new(d(2025, 1, 1), Some(d(2026, 5, 1)), d(2026, 6, 1)).unwrap();
    assert_eq!(review_after_death(d(2026, 2, 15), &w), Some(d(2026, 5, 15)));
    assert_eq!(review_after_death(d(2026, 1, 15), &w), None);
}
