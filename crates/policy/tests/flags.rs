//! Review flags (rules §6): every doubt named, with its member and evidence.

use hedui_model::Fen;
use hedui_model::codes::{IncomeKind, MemberRelation, Scheme, SocialInsuranceKind};
use hedui_policy::{FlagCode, LinkFlag, LinkFlagKind, Member};

use crate::common::*;

#[test]
fn an_invalid_declared_id_is_flagged_with_its_reason() {
    let good = id("19820202", 22);
    let wrong = if good.ends_with('0') { '1' } else { '0' };
    let bad = Member::new(
        format!("{}{wrong}", &good[..17]),
        "李娜",
        MemberRelation::Spouse,
    );
    let valid = applicant();
    let f = run(&household("2026-03-15", vec![valid, bad.clone()]));
    let flags: Vec<_> = f.flags_of(FlagCode::IdInvalid).collect();
    assert_eq!(flags.len(), 1, "{:?}", f.flags);
    assert_eq!(flags[0].member.as_deref(), Some(bad.id_number.as_str()));
    assert_eq!(flags[0].detail["reason"], "bad_check_digit");
    assert_eq!(f.members[1].id_status, "bad_check_digit");
    assert_eq!(f.members[0].id_status, "valid");
    // Still counted: a bad id is a doubt, not an absence.
    assert_eq!(f.household_size, 2);
}

#[test]
fn name_mismatch_after_normalisation_only() {
    let mut a = applicant();
    a.declared_name = "張 偉".to_owned(); // traditional, with a space: the same name
    let mut s = spouse();
    s.declared_name = "李那".to_owned(); // another character: a mismatch
    let f = run(&household("2026-03-15", vec![a, s.clone()]));
    let flags: Vec<_> = f.flags_of(FlagCode::NameMismatch).collect();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].member.as_deref(), Some(s.id_number.as_str()));
    assert_eq!(
        flags[0].evidence,
        [s.hukou.as_ref().unwrap().record.clone()]
    );
    assert_eq!(flags[0].detail["declared"], "李那");
    assert_eq!(flags[0].detail["hukou"], "李娜");
}

#[test]
fn link_doubts_staff_and_imputation_are_flagged_with_evidence() {
    let mut a = applicant();
    a.link_flags.push(LinkFlag {
        kind: LinkFlagKind::PossibleMatch,
        record: rec("tax", "T9"),
    });
    a.link_flags.push(LinkFlag {
        kind: LinkFlagKind::IdConflict,
        record: rec("bank", "B2"),
    });
    a.link_flags.push(LinkFlag {
        kind: LinkFlagKind::IdConflict,
        record: rec("bank", "B1"),
    });
    a.staff.push(rec("staff", "ST1"));
    si(
        &mut a,
        "2025-04",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        Some(Fen(400_000)),
        Fen(0),
    );
    tax(&mut a, "2025-05", IncomeKind::Wage, Fen(400_000), None);
    let f = run(&household("2026-03-15", vec![a]));
    let codes: Vec<FlagCode> = f.flags.iter().map(|x| x.code).collect();
    assert_eq!(
        codes,
        [
            FlagCode::IdConflict,
            FlagCode::PossibleMatch,
            FlagCode::ImputedWage,
            FlagCode::StaffRelative
        ]
    );
    assert_eq!(f.flags[0].evidence, [rec("bank", "B1"), rec("bank", "B2")]);
    assert_eq!(f.flags[1].evidence, [rec("tax", "T9")]);
    assert_eq!(f.flags[2].detail["months"], "2025-04");
    assert_eq!(f.flags[3].evidence, [rec("staff", "ST1")]);
}

#[test]
fn flags_are_sorted_by_code_then_member() {
    let mut a = applicant();
    a.hukou = None;
    let mut s = spouse();
    s.hukou = None;
    s.staff.push(rec("staff", "X"));
    let f = run(&household("2026-03-15", vec![s.clone(), a.clone()]));
    let got: Vec<(FlagCode, Option<String>)> =
        f.flags.iter().map(|x| (x.code, x.member.clone())).collect();
    let mut ids = [a.id_number.clone(), s.id_number.clone()];
    ids.sort();
    assert_eq!(
        got,
        [
            (FlagCode::NotInHukou, Some(ids[0].clone())),
            (FlagCode::NotInHukou, Some(ids[1].clone())),
            (FlagCode::StaffRelative, Some(s.id_number.clone())),
        ]
    );
}

#[test]
fn same_facts_give_the_same_findings_whatever_the_record_order() {
    let mut a = applicant();
    si(
        &mut a,
        "2025-04",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        Some(Fen(400_000)),
        Fen(100),
    );
    si(
        &mut a,
        "2025-04",
        SocialInsuranceKind::Contribution,
        Some(Scheme::Employee),
        Some(Fen(400_000)),
        Fen(200),
    );
    other_income(&mut a, "2025-06", 5);
    let mut b = a.clone();
    b.social_insurance.reverse();
    let fa = run(&household("2026-03-15", vec![a]));
    let fb = run(&household("2026-03-15", vec![b]));
    assert_eq!(
        serde_json::to_string(&fa).unwrap(),
        serde_json::to_string(&fb).unwrap()
    );
}

#[test]
fn findings_carry_the_policy_version_and_hash_in_every_trace() {
    let f = run(&household("2026-03-15", vec![applicant()]));
    let v = version_on("2026-03-15");
    assert_eq!(f.policy, v.policy_ref());
    for t in f.asset_tests.all() {
        assert_eq!(t.trace.policy.hash, v.hash);
    }
    for det in &f.determinations {
        assert_eq!(det.trace.policy.hash, v.hash);
    }
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["policy"]["hash"], v.hash.to_hex());
    assert_eq!(json["determinations"][0]["code"], "dibao");
    assert_eq!(
        json["determinations"][0]["conditions"][1]["comparison"]["op"],
        "<"
    );
}
