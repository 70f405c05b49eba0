//! Income (rules §3): items, imputation, exclusions, W, H, P.

use hedui_model::Fen;
use hedui_model::codes::{IncomeKind, Scheme, SocialInsuranceKind};
use hedui_policy::{ExclusionReason, FlagCode, ImputedFrom};

use crate::common::*;

#[test]
fn window_is_the_full_months_before_the_month_of_applied_on() {
    let mut a = applicant();
    // In the window: 2025-03 and 2026-02. Outside: 2025-02 and 2026-03.
    for p in ["2025-02", "2025-03", "2026-02", "2026-03"] {
        other_income(&mut a, p, 1_000);
    }
    let f = run(&household("2026-03-15", vec![a]));
    assert_eq!(f.window.from, m("2025-03"));
    assert_eq!(f.window.to, m("2026-02"));
    let inc = f.members[0].income.as_ref().unwrap();
    assert_eq!(inc.months.len(), 12);
    assert_eq!(inc.window_net, Fen(2_000));
    assert_eq!(f.income.window_total, Fen(2_000));
}

#[test]
fn items_and_net_of_a_month() {
    let mut a = applicant();
    tax(
        &mut a,
        "2025-06",
        IncomeKind::Wage,
        Fen(200_000),
        Some(Fen(5_000)),
    );
    tax(&mut a, "2025-06", IncomeKind::Labour, Fen(50_000), None);
    tax(
        &mut a,
        "2025-06",
        IncomeKind::Business,
        Fen(10_000),
        Some(Fen(1_000)),
    );
    tax(&mut a, "2025-06", IncomeKind::Rent, Fen(7_000), None);
    tax(&mut a, "2025-06", IncomeKind::Interest, Fen(300), None);
    tax(&mut a, "2025-06", IncomeKind::Other, Fen(1_200), None);
    si(
        &mut a,
        "2025-06",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        Some(Fen(400_000)),
        Fen(32_000),
    );
    si(
        &mut a,
        "2025-06",
        SocialInsuranceKind::UnemploymentBenefit,
        None,
        None,
        Fen(15_000),
    );
    let f = run(&household("2026-03-15", vec![a]));
    let mi = f.members[0]
        .income
        .as_ref()
        .unwrap()
        .months
        .iter()
        .find(|x| x.month == m("2025-06"))
        .unwrap()
        .clone();
    assert_eq!(mi.wage, Fen(250_000));
    assert_eq!(mi.imputed, None);
    assert_eq!(mi.business, Fen(10_000));
    assert_eq!(mi.property, Fen(7_300));
    assert_eq!(mi.other, Fen(1_200));
    assert_eq!(mi.transfer_in, Fen(15_000));
    assert_eq!(mi.transfer_out, Fen(5_000 + 1_000 + 32_000));
    assert_eq!(mi.employment_cost, Fen(30_000));
    assert_eq!(
        mi.net,
        Fen(250_000 + 10_000 + 7_300 + 1_200 + 15_000 - 38_000 - 30_000)
    );
    assert_eq!(mi.records.len(), 8);
    assert!(mi.records.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_tax_record_of_zero_stops_imputation() {
    let mut a = applicant();
    tax(&mut a, "2025-06", IncomeKind::Wage, Fen(0), None);
    si(
        &mut a,
        "2025-06",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        Some(Fen(500_000)),
        Fen(0),
    );
    hf(&mut a, "2025-06", Some(Fen(450_000)));
    let f = run(&household("2026-03-15", vec![a]));
    let mi = &f.members[0].income.as_ref().unwrap().months[3];
    assert_eq!(mi.month, m("2025-06"));
    assert_eq!(mi.wage, Fen(0));
    assert_eq!(mi.imputed, None);
    assert_eq!(mi.employment_cost, Fen(0));
    assert_eq!(f.flags_of(FlagCode::ImputedWage).count(), 0);
}

#[test]
fn no_tax_record_imputes_the_largest_non_null_contribution_base() {
    let mut a = applicant();
    si(
        &mut a,
        "2025-06",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        None,
        Fen(0),
    );
    let small = si(
        &mut a,
        "2025-06",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        Some(Fen(300_000)),
        Fen(0),
    );
    let big = si(
        &mut a,
        "2025-06",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        Some(Fen(500_000)),
        Fen(0),
    );
    hf(&mut a, "2025-06", Some(Fen(900_000)));
    let f = run(&household("2026-03-15", vec![a]));
    let mi = &f.members[0].income.as_ref().unwrap().months[3];
    assert_eq!(mi.wage, Fen(500_000));
    let imp = mi.imputed.as_ref().unwrap();
    assert_eq!(imp.from, ImputedFrom::SocialInsuranceBase);
    assert_eq!(imp.record, big);
    assert_ne!(imp.record, small);
    // Imputed or not, the employment cost is deducted.
    assert_eq!(mi.employment_cost, Fen(30_000));
    let flags: Vec<_> = f.flags_of(FlagCode::ImputedWage).collect();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].evidence, [big]);
    assert_eq!(flags[0].detail["months"], "2025-06");
}

#[test]
fn without_a_contribution_base_the_housing_fund_base_is_imputed_else_zero() {
    let mut a = applicant();
    si(
        &mut a,
        "2025-06",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        None,
        Fen(0),
    );
    hf(&mut a, "2025-06", Some(Fen(200_000)));
    let chosen = hf(&mut a, "2025-06", Some(Fen(450_000)));
    hf(&mut a, "2025-07", None);
    let f = run(&household("2026-03-15", vec![a]));
    let months = &f.members[0].income.as_ref().unwrap().months;
    assert_eq!(months[3].wage, Fen(450_000));
    assert_eq!(
        months[3].imputed.as_ref().unwrap().from,
        ImputedFrom::HousingFundBase
    );
    assert_eq!(months[3].imputed.as_ref().unwrap().record, chosen);
    assert_eq!(months[4].wage, Fen(0));
    assert_eq!(months[4].imputed, None);
}

#[test]
fn employment_cost_is_min_of_wage_and_300() {
    let mut a = applicant();
    tax(&mut a, "2025-06", IncomeKind::Wage, Fen(20_000), None);
    tax(&mut a, "2025-07", IncomeKind::Wage, Fen(100_000), None);
    tax(&mut a, "2025-08", IncomeKind::Wage, Fen(30_000), None);
    tax(&mut a, "2025-09", IncomeKind::Wage, Fen(-5_000), None);
    let f = run(&household("2026-03-15", vec![a]));
    let months = &f.members[0].income.as_ref().unwrap().months;
    assert_eq!(
        (months[3].employment_cost, months[3].net),
        (Fen(20_000), Fen(0))
    );
    assert_eq!(
        (months[4].employment_cost, months[4].net),
        (Fen(30_000), Fen(70_000))
    );
    assert_eq!(
        (months[5].employment_cost, months[5].net),
        (Fen(30_000), Fen(0))
    );
    assert_eq!(
        (months[6].employment_cost, months[6].net),
        (Fen(0), Fen(-5_000))
    );
}

#[test]
fn a_negative_member_net_offsets_the_others_and_w_floors_only_for_the_household() {
    let mut a = applicant();
    // Only contributions: −500.00 a month, −6000.00 over the window.
    for p in window_2026_03() {
        si(
            &mut a,
            &p,
            SocialInsuranceKind::Contribution,
            Some(Scheme::Resident),
            None,
            Fen(50_000),
        );
    }
    let mut s = spouse();
    other_income(&mut s, "2025-05", 400_000);
    let f = run(&household("2026-03-15", vec![a.clone(), s]));
    assert_eq!(f.members[0].window_net(), Some(Fen(-600_000)));
    assert_eq!(f.members[1].window_net(), Some(Fen(400_000)));
    assert_eq!(f.income.members_net, Fen(-200_000));
    assert_eq!(f.income.window_total, Fen(0));
    assert_eq!(f.income.per_capita, Some(Fen(0)));
    let mut s = spouse();
    other_income(&mut s, "2025-05", 1_000_000);
    let f = run(&household("2026-03-15", vec![a, s]));
    assert_eq!(f.income.window_total, Fen(400_000));
}

#[test]
fn other_benefit_is_never_income_and_is_listed() {
    let mut a = applicant();
    let r = si(
        &mut a,
        "2025-06",
        SocialInsuranceKind::OtherBenefit,
        None,
        None,
        Fen(60_000),
    );
    let f = run(&household("2026-03-15", vec![a]));
    let inc = f.members[0].income.as_ref().unwrap();
    assert_eq!(inc.window_net, Fen(0));
    assert_eq!(inc.excluded.len(), 1);
    assert_eq!(inc.excluded[0].record, r);
    assert_eq!(inc.excluded[0].reason, ExclusionReason::OtherBenefit);
    assert_eq!(inc.excluded[0].amount, Fen(60_000));
}

#[test]
fn resident_pension_is_excluded_under_a_2025_check_and_counted_under_2026() {
    let build = |applied_on: &str, window: &[String]| {
        let mut a = applicant();
        for p in window {
            si(
                &mut a,
                p,
                SocialInsuranceKind::Pension,
                Some(Scheme::Resident),
                None,
                Fen(15_000),
            );
            // A pension without scheme always counts.
            si(
                &mut a,
                p,
                SocialInsuranceKind::Pension,
                None,
                None,
                Fen(1_000),
            );
        }
        household(applied_on, vec![a])
    };
    let w2025: Vec<String> = hedui_model::Month::window_before(d("2025-09-15"), 12)
        .iter()
        .map(|m| m.to_string())
        .collect();
    let f = run(&build("2025-09-15", &w2025));
    assert_eq!(f.policy.version, d("2021-07-01"));
    let inc = f.members[0].income.as_ref().unwrap();
    assert_eq!(inc.window_net, Fen(12 * 1_000));
    assert_eq!(inc.excluded.len(), 12);
    assert!(
        inc.excluded
            .iter()
            .all(|e| e.reason == ExclusionReason::ResidentPension)
    );

    let f = run(&build("2026-03-15", &window_2026_03()));
    assert_eq!(f.policy.version, d("2026-01-01"));
    let inc = f.members[0].income.as_ref().unwrap();
    assert_eq!(inc.window_net, Fen(12 * 16_000));
    assert!(inc.excluded.is_empty());
}

#[test]
fn h_and_p_are_rounded_half_up_once_for_display() {
    let mut a = applicant();
    // W = 1_000_006: H = 83_333.83 → 83_334; P (n = 2) = 41_666.916… → 41_667.
    other_income(&mut a, "2025-05", 1_000_006);
    let f = run(&household("2026-03-15", vec![a, spouse()]));
    assert_eq!(f.income.window_total, Fen(1_000_006));
    assert_eq!(f.income.monthly, Fen(83_334));
    assert_eq!(f.income.per_capita, Some(Fen(41_667)));
    // W = 18: H = 1.5 → 2 (half up), P = 0.75 → 1.
    let mut a = applicant();
    other_income(&mut a, "2025-05", 18);
    let f = run(&household("2026-03-15", vec![a, spouse()]));
    assert_eq!(f.income.monthly, Fen(2));
    assert_eq!(f.income.per_capita, Some(Fen(1)));
}
