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

mod alerts {
    use hedui_model::codes::{Assistance, HukouKind, HukouStatus, MemberRelation, VehicleKind};
    use hedui_model::{Date, Fen, Month};
    use hedui_policy::monitor::{AlertKind, Enrolment, MonitorState, monitor};
    use hedui_policy::{
        DeathFact, Household, HukouFacts, Member, PolicySet, RecordRef, TaxFact, VehicleFact,
    };

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).unwrap()
    }

    fn member(id: &str, birth: Date) -> Member {
        let mut m = Member::new(id, "成员", MemberRelation::Applicant);
        m.hukou = Some(HukouFacts {
            name: "成员".into(),
            status: HukouStatus::Active,
            status_date: None,
            hukou_kind: Some(HukouKind::Urban),
            birth_date: Some(birth),
            gender: None,
            record: RecordRef::new("hukou", format!("h-{id}")),
        });
        m
    }

    fn household(run_date: Date, members: Vec<Member>) -> Household {
        Household {
            application_id: "H1".into(),
            region_code: "530302".into(),
            hukou_kind: Some(HukouKind::Urban),
            assistance: Assistance::Dibao,
            applied_on: run_date,
            members,
        }
    }

    fn run(
        h: &Household,
        since: Date,
        prev: Option<&MonitorState>,
    ) -> (Vec<(AlertKind, Option<String>)>, MonitorState) {
        let policies = PolicySet::reference();
        let v = policies.select(&h.region_code, h.applied_on).unwrap();
        let o = monitor(h, Enrolment { since }, prev, v).unwrap();
        (
            o.alerts
                .iter()
                .map(|a| (a.alert, a.member.clone()))
                .collect(),
            o.state,
        )
    }

    #[test]
    fn a_dated_fact_alerts_once_and_a_rerun_gives_the_same_alerts() {
        let since = d(2025, 11, 5);
        let mut m = member("A", d(1980, 5, 10));
        m.assets.vehicles.push(VehicleFact {
            kind: VehicleKind::Car,
            registered_on: d(2026, 3, 31),
            deregistered_on: None,
            record: RecordRef::new("vehicle", "v1"),
        });
        let h1 = household(d(2026, 3, 31), vec![m.clone()]);
        let (a1, s1) = run(&h1, since, None);
        assert_eq!(a1, vec![(AlertKind::NewVehicle, Some("A".into()))]);
        // The next run: the vehicle dated on the previous run date is not
        // alerted again; one registered the day after is.
        m.assets.vehicles.push(VehicleFact {
            kind: VehicleKind::Car,
            registered_on: d(2026, 4, 1),
            deregistered_on: None,
            record: RecordRef::new("vehicle", "v2"),
        });
        let h2 = household(d(2026, 4, 30), vec![m]);
        let (a2, s2) = run(&h2, since, Some(&s1));
        assert_eq!(a2, vec![(AlertKind::NewVehicle, Some("A".into()))]);
        // A rerun of the date against the same previous state: the same.
        let (a2b, s2b) = run(&h2, since, Some(&s1));
        assert_eq!((a2b, s2b), (a2, s2.clone()));
        // And a run after it, with nothing new: nothing.
        let (a3, _) = run(
            &household(d(2026, 5, 1), h2.members.clone()),
            since,
            Some(&s2),
        );
        assert!(a3.is_empty(), "{a3:?}");
    }

    #[test]
    fn a_death_registered_late_alerts_once_marked_late() {
        let since = d(2025, 11, 5);
        let m = member("A", d(1970, 1, 1));
        let (_, s1) = run(&household(d(2026, 3, 31), vec![m.clone()]), since, None);
        let mut dead = m;
        dead.deaths.push(DeathFact {
            date: d(2026, 3, 20),
            record: RecordRef::new("death", "s1"),
        });
        let h2 = household(d(2026, 4, 30), vec![dead]);
        let policies = PolicySet::reference();
        let v = policies.select("530302", h2.applied_on).unwrap();
        let o = monitor(&h2, Enrolment { since }, Some(&s1), v).unwrap();
        let death = o
            .alerts
            .iter()
            .find(|a| a.alert == AlertKind::Deceased)
            .expect("the late death alerts");
        assert_eq!(death.detail.get("late"), Some(&serde_json::json!(true)));
        let (a3, _) = run(
            &household(d(2026, 5, 31), h2.members.clone()),
            since,
            Some(&o.state),
        );
        assert!(!a3.iter().any(|(k, _)| *k == AlertKind::Deceased));
    }

    #[test]
    fn income_crossing_the_standard_through_wages_is_a_gradual_exit_candidate() {
        let since = d(2025, 11, 5);
        let mut m = member("A", d(1985, 3, 3));
        let (_, s1) = run(&household(d(2026, 3, 31), vec![m.clone()]), since, None);
        for month in ["2026-01", "2026-02", "2026-03"] {
            m.tax.push(TaxFact {
                period: Month::parse(month).unwrap(),
                kind: hedui_model::codes::IncomeKind::Wage,
                gross: Fen::yuan(5000),
                tax_paid: None,
                record: RecordRef::new("tax", month),
            });
        }
        let (a2, s2) = run(&household(d(2026, 4, 30), vec![m]), since, Some(&s1));
        assert_eq!(
            a2,
            vec![
                (AlertKind::GradualExit, None),
                (AlertKind::IncomeAboveStandard, None)
            ]
        );
        assert_eq!(s2.wage_total, Some(1_500_000));
    }

    #[test]
    fn a_first_run_never_gives_gradual_exit() {
        let mut m = member("A", d(1985, 3, 3));
        for month in Month::window_before(d(2026, 3, 31), 12) {
            m.tax.push(TaxFact {
                period: month,
                kind: hedui_model::codes::IncomeKind::Wage,
                gross: Fen::yuan(3000),
                tax_paid: None,
                record: RecordRef::new("tax", month.to_string()),
            });
        }
        let (a, _) = run(&household(d(2026, 3, 31), vec![m]), d(2025, 11, 5), None);
        assert_eq!(a, vec![(AlertKind::IncomeAboveStandard, None)]);
    }

    #[test]
    fn a_run_on_or_before_since_alerts_nothing_and_leaves_no_state() {
        let mut m = member("A", d(1980, 5, 10));
        m.deaths.push(DeathFact {
            date: d(2026, 1, 1),
            record: RecordRef::new("death", "s1"),
        });
        let (a, s) = run(&household(d(2026, 3, 31), vec![m]), d(2026, 3, 31), None);
        assert!(a.is_empty(), "{a:?}");
        assert_eq!(s.run_date, None);
    }

    #[test]
    fn every_code_parses_back() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.code()), Some(k));
        }
    }
}
