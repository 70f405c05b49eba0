//! Determinations (rules §5) and benefits.

use hedui_model::Fen;
use hedui_model::codes::{DisabilityCategory, ExpenseCategory, MemberRelation};
use hedui_policy::{
    DeterminationCode as D, ExpenseFact, Findings, Household, Member, PolicySet, PolicyVersion,
    SpecialReason,
};

use crate::common::*;

/// Applicant with all the income `w`, plus `others` members without any.
fn with_w(w: i64, others: Vec<Member>) -> Household {
    let mut a = applicant();
    if w != 0 {
        other_income(&mut a, "2025-05", w);
    }
    let mut members = vec![a];
    members.extend(others);
    household("2026-03-15", members)
}

fn holding(f: &Findings) -> Vec<D> {
    f.holding()
}

fn expense(m: &mut Member, amount: i64, date: &str) {
    let n = m.expenses.len();
    m.expenses.push(ExpenseFact {
        category: ExpenseCategory::Medical,
        amount: Fen(amount),
        date: d(date),
        record: rec("expense", &format!("e-{}-{n}", &m.id_number[14..])),
    });
}

fn regional() -> PolicySet {
    PolicySet::parse([
        (
            "reference.toml",
            include_str!("../../../fixtures/policies/reference.toml"),
        ),
        ("yunnan.toml", include_str!("fixtures/yunnan.toml")),
        ("qujing.toml", include_str!("fixtures/qujing.toml")),
    ])
    .unwrap()
}

mod boundary {
    use super::*;

    /// `W` at `P = S` for n = 2: 12 × 900.00 × 2.
    const AT_S: i64 = L * S * 2;

    #[test]
    fn p_exactly_s_is_low_income_not_dibao() {
        let f = run(&with_w(AT_S, vec![spouse()]));
        assert_eq!(f.income.per_capita, Some(Fen(S)));
        assert_eq!(holding(&f), [D::LowIncome]);
        let c = &f.determination(D::Dibao).conditions[1];
        assert_eq!(c.name, "p_below_standard");
        assert!(!c.holds);
        let cmp = c.comparison.unwrap();
        assert_eq!((cmp.lhs, cmp.rhs), (i128::from(AT_S), i128::from(AT_S)));
    }

    #[test]
    fn one_fen_below_is_dibao_though_p_shows_as_s() {
        let f = run(&with_w(AT_S - 1, vec![spouse()]));
        // P = 89_999.958… rounds to 90_000: the display says S, the rule says below.
        assert_eq!(f.income.per_capita, Some(Fen(S)));
        assert_eq!(holding(&f), [D::Dibao]);
        assert!(f.benefit.is_some());
    }

    #[test]
    fn one_fen_above_is_low_income_and_p_shows_as_s() {
        let f = run(&with_w(AT_S + 1, vec![spouse()]));
        assert_eq!(f.income.per_capita, Some(Fen(S)));
        assert_eq!(holding(&f), [D::LowIncome]);
        assert!(f.benefit.is_none());
    }

    #[test]
    fn low_income_ends_below_one_and_a_half_s() {
        let at = 3 * L * S * 2 / 2;
        assert_eq!(
            holding(&run(&with_w(at - 1, vec![spouse()]))),
            [D::LowIncome]
        );
        let f = run(&with_w(at, vec![spouse()]));
        assert_eq!(holding(&f), [D::Ineligible]);
        let c = f
            .determination(D::LowIncome)
            .conditions
            .iter()
            .find(|c| c.name == "p_below_low_income_limit")
            .unwrap();
        // 2 × W < 3 × 12 × S × n
        let cmp = c.comparison.unwrap();
        assert_eq!(cmp.lhs, 2 * i128::from(at));
        assert_eq!(cmp.rhs, 3 * i128::from(L * S * 2));
    }

    #[test]
    fn a_failed_asset_test_stops_dibao_and_low_income() {
        let mut h = with_w(0, vec![spouse()]);
        h.members[0].assets.bank.push(hedui_policy::Holding {
            value: Some(Fen(24 * S * 2 + 1)),
            record: rec("bank", "B1"),
        });
        let f = run(&h);
        assert_eq!(holding(&f), [D::Ineligible]);
        let failed = &f.determination(D::Ineligible).failed;
        assert!(
            failed
                .iter()
                .any(|x| x.determination == D::Dibao && x.condition == "financial")
        );
        assert!(
            !failed
                .iter()
                .any(|x| x.determination == D::Dibao && x.condition == "p_below_standard")
        );
    }
}

mod rigid_expense {
    use super::*;

    /// A household at P = 1.5 S (not low income) with expenses.
    fn case(expenses: &[(i64, &str)]) -> Household {
        let mut h = with_w(3 * L * S, vec![spouse()]);
        for (amount, date) in expenses {
            expense(&mut h.members[1], *amount, date);
        }
        h
    }

    #[test]
    fn seed_rule_holds_when_income_net_of_expense_is_below_s() {
        // W − E < 12 × S × 2 = 2_160_000 ⇔ E > 1_080_000.
        let f = run(&case(&[(1_080_000, "2025-08-01")]));
        assert_eq!(holding(&f), [D::Ineligible]);
        let f = run(&case(&[(1_000_000, "2025-08-01"), (80_001, "2026-02-28")]));
        assert_eq!(holding(&f), [D::RigidExpense]);
        let c = f
            .determination(D::RigidExpense)
            .conditions
            .iter()
            .find(|c| c.name == "net_of_expense_below_standard")
            .unwrap();
        assert_eq!(c.records.len(), 2);
    }

    #[test]
    fn expenses_outside_the_window_do_not_count() {
        let f = run(&case(&[
            (2_000_000, "2026-03-01"),
            (2_000_000, "2025-02-28"),
        ]));
        assert_eq!(holding(&f), [D::Ineligible]);
    }

    #[test]
    fn rigid_expense_needs_p_at_least_s() {
        let mut h = with_w(L * S, vec![spouse()]);
        expense(&mut h.members[0], 5_000_000, "2025-08-01");
        let f = run(&h);
        assert!(!f.holds(D::RigidExpense));
        assert!(f.holds(D::Dibao));
    }

    fn national() -> PolicyVersion {
        regional()
            .select("530302", d("2026-03-15"))
            .unwrap()
            .clone()
    }

    #[test]
    fn national_form_compares_p_with_disposable_income_and_expense_share() {
        let v = national();
        // S = 950.00 here; W = 3 × 12 × 950.00 (P = 1.5 S, not low income);
        // 48_000.00 a year = 4_000.00 a month > P; E / W > 50 %.
        let w = 3 * L * 95_000;
        let build = |e: i64| {
            let mut a = applicant();
            other_income(&mut a, "2025-05", w);
            let mut s = spouse();
            expense(&mut s, e, "2025-07-07");
            household("2026-03-15", vec![a, s])
        };
        let f = run_with(&build(w / 2), &v);
        assert_eq!(holding(&f), [D::Ineligible]);
        let f = run_with(&build(w / 2 + 1), &v);
        assert_eq!(holding(&f), [D::RigidExpense]);
        let det = f.determination(D::RigidExpense);
        let names: Vec<_> = det.conditions.iter().map(|c| c.name).collect();
        assert!(names.contains(&"p_below_disposable_income"));
        assert!(names.contains(&"expense_share_above_ratio"));
    }

    #[test]
    fn national_form_fails_above_disposable_income() {
        let v = national();
        // P = 4_000.00 a month exactly: not below 48_000.00 / 12.
        let w = L * 400_000 * 2;
        let mut a = applicant();
        other_income(&mut a, "2025-05", w);
        let mut s = spouse();
        expense(&mut s, w, "2025-07-07");
        let f = run_with(&household("2026-03-15", vec![a, s]), &v);
        assert!(!f.holds(D::RigidExpense));
    }
}

mod special_cases {
    use super::*;

    fn disabled(category: DisabilityCategory, grade: u8, valid_until: Option<&str>) -> Member {
        let mut m = person("陈静", "19900101", 55, MemberRelation::Child);
        certificate(&mut m, category, grade, valid_until);
        m
    }

    #[test]
    fn a_certificate_expiring_the_day_before_is_not_severe_on_the_day_it_is() {
        let f = run(&with_w(
            0,
            vec![disabled(
                DisabilityCategory::Physical,
                1,
                Some("2026-03-14"),
            )],
        ));
        assert!(f.members[1].severe_disability.is_empty());
        assert!(f.members[1].special.is_empty());
        let f = run(&with_w(
            0,
            vec![disabled(
                DisabilityCategory::Physical,
                1,
                Some("2026-03-15"),
            )],
        ));
        assert_eq!(f.members[1].severe_disability.len(), 1);
        assert_eq!(f.members[1].special, [SpecialReason::SeverelyDisabled]);
    }

    #[test]
    fn severity_by_grade_and_category() {
        let severe = |c, g| {
            !run(&with_w(0, vec![disabled(c, g, None)])).members[1]
                .severe_disability
                .is_empty()
        };
        assert!(severe(DisabilityCategory::Hearing, 2));
        assert!(severe(DisabilityCategory::Mental, 3));
        assert!(severe(DisabilityCategory::Intellectual, 3));
        assert!(!severe(DisabilityCategory::Physical, 3));
        assert!(!severe(DisabilityCategory::Mental, 4));
    }

    #[test]
    fn single_person_for_each_severely_disabled_member_of_a_low_income_household() {
        // Household W at P = 1.2 S (n = 3), so low income; two severely
        // disabled members: each listed with their own benefit.
        let mut b = disabled(DisabilityCategory::Mental, 3, None);
        other_income(&mut b, "2025-06", 1_000_000);
        let c = {
            let mut m = person("陈亮", "19920101", 66, MemberRelation::Child);
            certificate(&mut m, DisabilityCategory::Visual, 2, None);
            m
        };
        let w_total = L * S * 3 * 6 / 5;
        let h = with_w(w_total - 1_000_000, vec![b, c]);
        let f = run(&h);
        assert_eq!(holding(&f), [D::LowIncome, D::SinglePerson]);
        assert_eq!(f.single_person.len(), 2);
        // max(0, 900.00 − 10_000.00 / 12) + 20 % × 900.00
        // = 66.666… + 180.00 = 246.666… → 246.67.
        let first = &f.single_person[0];
        assert_eq!(
            first.member.as_deref(),
            Some(f.members[1].id_number.as_str())
        );
        assert_eq!(first.amount, Fen(24_667));
        assert_eq!((first.numerator, first.denominator), (1_480_000, 60));
        // No income of their own: 900.00 + 180.00.
        assert_eq!(f.single_person[1].amount, Fen(108_000));
    }

    #[test]
    fn single_person_needs_a_low_income_household() {
        let f = run(&with_w(
            0,
            vec![disabled(DisabilityCategory::Physical, 1, None)],
        ));
        assert!(f.holds(D::Dibao));
        assert!(!f.holds(D::SinglePerson));
        assert!(f.single_person.is_empty());
    }

    #[test]
    fn tekun_candidate_an_elder_alone_with_little_income() {
        let mut e = person("刘大爷", "19500101", 77, MemberRelation::Applicant);
        other_income(&mut e, "2025-05", L * S - 1);
        let f = run(&household("2026-03-15", vec![e.clone()]));
        assert!(f.holds(D::TekunCandidate));
        assert!(
            f.determination(D::TekunCandidate)
                .trace
                .clause
                .contains("法定义务人")
        );
        // Own net at 12 × S: not below.
        let mut e2 = person("刘大爷", "19500101", 77, MemberRelation::Applicant);
        other_income(&mut e2, "2025-05", L * S);
        assert!(!run(&household("2026-03-15", vec![e2])).holds(D::TekunCandidate));
    }

    #[test]
    fn tekun_needs_no_other_member_with_positive_net() {
        let e = person("刘大爷", "19500101", 77, MemberRelation::Applicant);
        let mut s = spouse();
        other_income(&mut s, "2025-05", 1);
        let f = run(&household("2026-03-15", vec![e.clone(), s]));
        assert!(!f.holds(D::TekunCandidate));
        let det = f.determination(D::TekunCandidate);
        let elder = &det.members[0];
        assert!(!elder.holds);
        assert!(
            elder
                .conditions
                .iter()
                .any(|c| c.name == "no_other_positive_net" && !c.holds)
        );
        // A spouse with zero net does not stop it.
        let f = run(&household("2026-03-15", vec![e, spouse()]));
        assert!(f.holds(D::TekunCandidate));
    }

    #[test]
    fn tekun_unable_to_work_by_age_or_the_art5_certificates_only() {
        let alone = |m: Member| run(&household("2026-03-15", vec![m])).holds(D::TekunCandidate);
        // Minor: under 18.
        assert!(alone(person(
            "小明",
            "20090316",
            88,
            MemberRelation::Applicant
        )));
        assert!(!alone(person(
            "小明",
            "20080315",
            88,
            MemberRelation::Applicant
        )));
        let with_cert = |c, g| {
            let mut m = person("陈静", "19900101", 55, MemberRelation::Applicant);
            certificate(&mut m, c, g, None);
            alone(m)
        };
        assert!(with_cert(DisabilityCategory::Intellectual, 3));
        assert!(with_cert(DisabilityCategory::Physical, 2));
        assert!(!with_cert(DisabilityCategory::Physical, 3));
        assert!(with_cert(DisabilityCategory::Visual, 1));
        // Severely disabled (grade 2) but not in Art. 5's list.
        assert!(!with_cert(DisabilityCategory::Visual, 2));
        assert!(!with_cert(DisabilityCategory::Hearing, 1));
        // An adult of working age.
        assert!(!alone(applicant()));
    }

    #[test]
    fn determinations_are_evaluated_whatever_was_applied_for() {
        let mut h = with_w(0, vec![spouse()]);
        h.assistance = hedui_model::codes::Assistance::Temporary;
        let f = run(&h);
        assert_eq!(f.determinations.len(), 6);
        assert!(f.holds(D::Dibao));
    }
}

mod benefit {
    use super::*;

    #[test]
    fn benefit_is_the_gap_plus_one_increment_per_special_member() {
        let child = person("王小", "20160101", 31, MemberRelation::Child);
        let mut elder = person("王老", "19600101", 32, MemberRelation::Parent);
        certificate(&mut elder, DisabilityCategory::Physical, 1, None);
        let mut severe = person("王二", "19960101", 33, MemberRelation::Child);
        certificate(&mut severe, DisabilityCategory::Mental, 3, None);
        let h = with_w(1_000_000, vec![child, elder, severe]);
        let f = run(&h);
        assert!(f.holds(D::Dibao));
        assert_eq!(
            f.members[2].special,
            [SpecialReason::Aged60OrMore, SpecialReason::SeverelyDisabled]
        );
        let b = f.benefit.as_ref().unwrap();
        // 4 × 900.00 − 10_000.00 / 12 + 3 × 180.00 = 3_306.666… → 3_306.67.
        assert_eq!(b.special_members.len(), 3);
        assert_eq!((b.numerator, b.denominator), (19_840_000, 60));
        assert_eq!(b.amount, Fen(330_667));
    }

    #[test]
    fn benefit_gap_never_goes_negative_and_rounds_once() {
        // One member, H = 899.995 (W = 10_799.94 yuan): gap 0.005 → 0.01.
        let f = run(&with_w(L * S - 6, vec![]));
        let b = f.benefit.as_ref().unwrap();
        assert_eq!((b.numerator, b.denominator), (30, 60));
        assert_eq!(b.amount, Fen(1));
        assert_eq!(f.income.monthly, Fen(S));
    }
}
