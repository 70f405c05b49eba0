//! Who is in the household (rules §1) and the household kind.

use hedui_model::codes::{HukouKind, HukouStatus, MemberRelation};
use hedui_policy::{DeathFact, DeterminationCode, Error, FlagCode, KindSource, check};

use crate::common::*;

#[test]
fn a_death_dated_the_day_after_applied_on_is_counted() {
    let mut a = applicant();
    a.deaths.push(DeathFact {
        date: d("2026-03-16"),
        record: rec("death", "D1"),
    });
    let f = run(&household("2026-03-15", vec![a, spouse()]));
    assert_eq!(f.household_size, 2);
    assert!(f.members[0].counted);
    assert_eq!(f.flags_of(FlagCode::DeceasedMemberDeclared).count(), 0);
}

#[test]
fn a_death_dated_on_applied_on_is_not_counted_and_flagged() {
    let mut a = applicant();
    a.deaths.push(DeathFact {
        date: d("2026-03-15"),
        record: rec("death", "D1"),
    });
    let f = run(&household("2026-03-15", vec![a, spouse()]));
    assert_eq!(f.household_size, 1);
    assert!(!f.members[0].counted);
    assert!(f.members[0].dead);
    assert!(f.members[0].income.is_none());
    let flag: Vec<_> = f.flags_of(FlagCode::DeceasedMemberDeclared).collect();
    assert_eq!(flag.len(), 1);
    assert_eq!(
        flag[0].member.as_deref(),
        Some(f.members[0].id_number.as_str())
    );
    assert_eq!(flag[0].evidence, [rec("death", "D1")]);
}

#[test]
fn hukou_deceased_counts_by_its_date_or_always_without_one() {
    let dead_on = |date: Option<&str>| {
        let mut a = applicant();
        let h = a.hukou.as_mut().unwrap();
        h.status = HukouStatus::Deceased;
        h.status_date = date.map(d);
        run(&household("2026-03-15", vec![a, spouse()])).household_size
    };
    assert_eq!(dead_on(None), 1);
    assert_eq!(dead_on(Some("2026-03-15")), 1);
    assert_eq!(dead_on(Some("2026-03-16")), 2);
}

#[test]
fn not_in_hukou_and_moved_out_are_counted_and_flagged() {
    let mut a = applicant();
    a.hukou.as_mut().unwrap().status = HukouStatus::MovedOut;
    let mut s = spouse();
    s.hukou = None;
    let mut c = person("王芳", "20100101", 33, MemberRelation::Child);
    c.hukou.as_mut().unwrap().status = HukouStatus::Cancelled;
    let f = run(&household("2026-03-15", vec![a, s, c]));
    assert_eq!(f.household_size, 3);
    assert_eq!(f.flags_of(FlagCode::MovedOut).count(), 2);
    let not_in: Vec<_> = f.flags_of(FlagCode::NotInHukou).collect();
    assert_eq!(not_in.len(), 1);
    assert_eq!(
        not_in[0].member.as_deref(),
        Some(f.members[1].id_number.as_str())
    );
}

#[test]
fn no_counted_member_is_ineligible_without_p() {
    let mut a = applicant();
    a.hukou.as_mut().unwrap().status = HukouStatus::Deceased;
    let f = run(&household("2026-03-15", vec![a]));
    assert_eq!(f.household_size, 0);
    assert_eq!(f.income.per_capita, None);
    assert_eq!(f.holding(), [DeterminationCode::Ineligible]);
    assert_eq!(f.flags_of(FlagCode::NoCountedMember).count(), 1);
    let failed = &f.determination(DeterminationCode::Ineligible).failed;
    assert!(failed.iter().any(|x| x.condition == "n_positive"));
    assert!(f.benefit.is_none());
}

#[test]
fn household_kind_comes_from_the_request_else_the_applicants_hukou() {
    let mut h = household("2026-03-15", vec![applicant(), spouse()]);
    h.hukou_kind = Some(HukouKind::Rural);
    let f = run(&h);
    assert_eq!(
        (f.household_kind, f.household_kind_from),
        (HukouKind::Rural, KindSource::Request)
    );
    assert_eq!(f.standard.0, 70_000);
    h.hukou_kind = None;
    let f = run(&h);
    assert_eq!(
        (f.household_kind, f.household_kind_from),
        (HukouKind::Urban, KindSource::ApplicantHukou)
    );
    assert_eq!(f.standard.0, 90_000);
}

#[test]
fn no_household_kind_is_an_error_naming_hukou_kind() {
    let mut a = applicant();
    a.hukou.as_mut().unwrap().hukou_kind = None;
    let mut h = household("2026-03-15", vec![a, spouse()]);
    h.hukou_kind = None;
    let err = check(&reference(), &h).unwrap_err();
    assert_eq!(err.code(), "missing_hukou_kind");
    assert!(err.to_string().contains("hukou_kind"));
    assert!(matches!(err, Error::MissingHukouKind { application_id } if application_id == "APP-1"));
}

#[test]
fn ages_are_reached_on_the_birthday() {
    // Born 1966-03-15: 60 on 2026-03-15, special; 59 the day before.
    let elder = || person("赵强", "19660315", 44, MemberRelation::Parent);
    let f = run(&household("2026-03-15", vec![applicant(), elder()]));
    assert_eq!(f.members[1].age, Some(60));
    assert!(!f.members[1].special.is_empty());
    let f = run(&household("2026-03-14", vec![applicant(), elder()]));
    assert_eq!(f.members[1].age, Some(59));
    assert!(f.members[1].special.is_empty());
}

#[test]
fn hukou_birth_date_wins_over_the_id() {
    let mut a = applicant();
    a.hukou.as_mut().unwrap().birth_date = Some(d("1960-01-01"));
    let f = run(&household("2026-03-15", vec![a]));
    assert_eq!(f.members[0].birth_date, Some(d("1960-01-01")));
    assert_eq!(f.members[0].age, Some(66));
}
