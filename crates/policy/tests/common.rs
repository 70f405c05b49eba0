//! Builders for household facts, so a test states only what matters.

#![allow(dead_code)]

use hedui_model::codes::{
    Assistance, DisabilityCategory, HukouKind, HukouStatus, IncomeKind, MemberRelation, Scheme,
    SocialInsuranceKind,
};
use hedui_model::{Date, Fen, IdNumber, Month};
use hedui_policy::{
    Certificate, Findings, Household, HousingFundFact, HukouFacts, Member, PolicySet,
    PolicyVersion, RecordRef, SocialInsuranceFact, TaxFact, evaluate,
};

/// `YYYY-MM-DD`.
pub(crate) fn d(s: &str) -> Date {
    hedui_model::time::parse_date(s).unwrap()
}

/// `YYYY-MM`.
pub(crate) fn m(s: &str) -> Month {
    Month::parse(s).unwrap()
}

/// A valid 18-character id for a person born on `birth` (`YYYYMMDD`),
/// made distinct by `seq` (0–999).
pub(crate) fn id(birth: &str, seq: u32) -> String {
    let body = format!("530302{birth}{seq:03}");
    IdNumber::from_body(&body).unwrap().as_str().to_owned()
}

pub(crate) fn rec(source: &str, id: &str) -> RecordRef {
    RecordRef::new(source, id)
}

/// A member with an active urban hukou record under the declared name.
pub(crate) fn person(name: &str, birth: &str, seq: u32, relation: MemberRelation) -> Member {
    let id = id(birth, seq);
    let mut member = Member::new(id.clone(), name, relation);
    member.hukou = Some(HukouFacts {
        name: name.to_owned(),
        status: HukouStatus::Active,
        status_date: None,
        hukou_kind: Some(HukouKind::Urban),
        birth_date: None,
        gender: None,
        record: rec("hukou", &format!("h-{id}")),
    });
    member
}

/// An adult applicant (born 1980).
pub(crate) fn applicant() -> Member {
    person("张伟", "19800101", 11, MemberRelation::Applicant)
}

/// An adult spouse (born 1982).
pub(crate) fn spouse() -> Member {
    person("李娜", "19820202", 22, MemberRelation::Spouse)
}

pub(crate) fn household(applied_on: &str, members: Vec<Member>) -> Household {
    Household {
        application_id: "APP-1".to_owned(),
        region_code: "530302".to_owned(),
        hukou_kind: Some(HukouKind::Urban),
        assistance: Assistance::Dibao,
        applied_on: d(applied_on),
        members,
    }
}

pub(crate) fn tax(
    member: &mut Member,
    period: &str,
    kind: IncomeKind,
    gross: Fen,
    tax_paid: Option<Fen>,
) {
    let n = member.tax.len();
    member.tax.push(TaxFact {
        period: m(period),
        kind,
        gross,
        tax_paid,
        record: rec(
            "tax",
            &format!("t-{}-{period}-{n}", &member.id_number[14..]),
        ),
    });
}

pub(crate) fn si(
    member: &mut Member,
    period: &str,
    kind: SocialInsuranceKind,
    scheme: Option<Scheme>,
    base: Option<Fen>,
    amount: Fen,
) -> RecordRef {
    let n = member.social_insurance.len();
    let record = rec(
        "social_insurance",
        &format!("s-{}-{period}-{n}", &member.id_number[14..]),
    );
    member.social_insurance.push(SocialInsuranceFact {
        period: m(period),
        kind,
        scheme,
        base,
        amount,
        record: record.clone(),
    });
    record
}

pub(crate) fn hf(member: &mut Member, period: &str, base: Option<Fen>) -> RecordRef {
    let n = member.housing_fund.len();
    let record = rec(
        "housing_fund",
        &format!("f-{}-{period}-{n}", &member.id_number[14..]),
    );
    member.housing_fund.push(HousingFundFact {
        period: m(period),
        base,
        record: record.clone(),
    });
    record
}

/// Gives a member "other" income (no employment cost, no tax) of `total`
/// fen in one window month, so that the household's `W` is exactly known.
pub(crate) fn other_income(member: &mut Member, period: &str, total: i64) {
    tax(member, period, IncomeKind::Other, Fen(total), None);
}

pub(crate) fn certificate(
    member: &mut Member,
    category: DisabilityCategory,
    grade: u8,
    valid_until: Option<&str>,
) -> RecordRef {
    let n = member.disability.len();
    let record = rec("disability", &format!("c-{}-{n}", &member.id_number[14..]));
    member.disability.push(Certificate {
        category,
        grade,
        issued_on: Some(d("2015-01-01")),
        valid_until: valid_until.map(d),
        record: record.clone(),
    });
    record
}

pub(crate) fn reference() -> PolicySet {
    PolicySet::reference()
}

/// The reference version in force on a date.
pub(crate) fn version_on(on: &str) -> PolicyVersion {
    reference().select("530302", d(on)).unwrap().clone()
}

/// Evaluates under the reference version in force on `applied_on`.
pub(crate) fn run(h: &Household) -> Findings {
    let policies = reference();
    hedui_policy::check(&policies, h).unwrap()
}

/// Evaluates under a given version.
pub(crate) fn run_with(h: &Household, v: &PolicyVersion) -> Findings {
    evaluate(h, v).unwrap()
}

/// Urban standard of the reference policy, fen.
pub(crate) const S: i64 = 90_000;
/// Look-back months of the reference policy.
pub(crate) const L: i64 = 12;

/// The window months of a check dated 2026-03-15 (2025-03 … 2026-02).
pub(crate) fn window_2026_03() -> Vec<String> {
    Month::window_before(d("2026-03-15"), 12)
        .iter()
        .map(|m| m.to_string())
        .collect()
}
