//! Households built through hedui-policy's public API, and the engine's
//! additions (links, snapshots), so each test states only what matters.

#![allow(dead_code)]

use hedui_model::codes::{
    Assistance, BusinessRole, BusinessStatus, DisabilityCategory, HukouKind, HukouStatus,
    IncomeKind, MemberRelation, PropertyUsage, Scheme, SocialInsuranceKind, VehicleKind,
};
use hedui_model::{Date, Fen, IdNumber, Month};
use hedui_policy::{
    BusinessFact, Certificate, Findings, Holding, Household, HukouFacts, LinkFlag, LinkFlagKind,
    Member, PolicySet, PropertyFact, RecordRef, SocialInsuranceFact, TaxFact, VehicleFact,
};
use hedui_report::{LinkEntry, Report, ReportInputs, SnapshotRef, build};
use serde_json::json;

pub(crate) fn d(s: &str) -> Date {
    hedui_model::time::parse_date(s).unwrap()
}

pub(crate) fn m(s: &str) -> Month {
    Month::parse(s).unwrap()
}

/// A valid id for a person born on `birth` (`YYYYMMDD`), distinct by `seq`.
pub(crate) fn id(birth: &str, seq: u32) -> String {
    IdNumber::from_body(&format!("530302{birth}{seq:03}"))
        .unwrap()
        .as_str()
        .to_owned()
}

pub(crate) fn rec(source: &str, id: &str) -> RecordRef {
    RecordRef::new(source, id)
}

/// A member with an active urban hukou under the declared name.
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
        record: rec("hukou", &format!("h-{}", &id[14..])),
    });
    member
}

pub(crate) fn household(application_id: &str, members: Vec<Member>) -> Household {
    Household {
        application_id: application_id.to_owned(),
        region_code: "530302".to_owned(),
        hukou_kind: Some(HukouKind::Urban),
        assistance: Assistance::Dibao,
        applied_on: d("2026-03-15"),
        members,
    }
}

/// The window of a check dated 2026-03-15: 2025-03 … 2026-02.
pub(crate) fn window() -> Vec<Month> {
    Month::window_before(d("2026-03-15"), 12)
}

fn short(member: &Member) -> &str {
    &member.id_number[14..]
}

pub(crate) fn si(
    member: &mut Member,
    period: Month,
    kind: SocialInsuranceKind,
    scheme: Option<Scheme>,
    base: Option<Fen>,
    amount: Fen,
) {
    let record = rec(
        "social_insurance",
        &format!(
            "s-{}-{period}-{}",
            short(member),
            member.social_insurance.len()
        ),
    );
    member.social_insurance.push(SocialInsuranceFact {
        period,
        kind,
        scheme,
        base,
        amount,
        record,
    });
}

/// A 低保 household of three with two special members:
///
/// - 张伟, 67, an employee pension of 700.00 a month; one month an
///   `other_benefit` of 300.00 (excluded); a deposit of 20,000.00 and an
///   insurance cash value of 3,000.00; a possible-match tax record;
/// - 李娜, 53, a taxed wage of 1,800.00 (contribution 144.00) for six
///   months, then no tax record but a contribution base of 1,900.00
///   (contribution 152.00): imputed; a motorcycle; a sole proprietorship;
/// - 张小明, 12, an intellectual disability certificate of grade 3.
///
/// W = 8,400.00 + 16,824.00 = 25,224.00; H = 2,102.00; P = 700.67 < 900.00;
/// benefit = 2,700.00 − 2,102.00 + 2 × 180.00 = 958.00.
pub(crate) fn dibao_household() -> Household {
    let mut zhang = person("张伟", "19580520", 11, MemberRelation::Applicant);
    let mut li = person("李娜", "19720808", 22, MemberRelation::Spouse);
    let mut child = person("张小明", "20140110", 33, MemberRelation::Child);
    for (i, month) in window().into_iter().enumerate() {
        si(
            &mut zhang,
            month,
            SocialInsuranceKind::Pension,
            Some(Scheme::Employee),
            None,
            Fen::yuan(700),
        );
        if i == 4 {
            si(
                &mut zhang,
                month,
                SocialInsuranceKind::OtherBenefit,
                None,
                None,
                Fen::yuan(300),
            );
        }
        if i < 6 {
            let n = li.tax.len();
            li.tax.push(TaxFact {
                period: month,
                kind: IncomeKind::Wage,
                gross: Fen::yuan(1800),
                tax_paid: Some(Fen::ZERO),
                record: rec("tax", &format!("t-{}-{month}-{n}", short(&li))),
            });
            si(
                &mut li,
                month,
                SocialInsuranceKind::Contribution,
                Some(Scheme::Employee),
                Some(Fen::yuan(1800)),
                Fen::yuan(144),
            );
        } else {
            si(
                &mut li,
                month,
                SocialInsuranceKind::Contribution,
                Some(Scheme::Employee),
                Some(Fen::yuan(1900)),
                Fen::yuan(152),
            );
        }
    }
    zhang.assets.bank.push(Holding {
        value: Some(Fen::yuan(20_000)),
        record: rec("bank", "b-001"),
    });
    zhang.assets.insurance.push(Holding {
        value: Some(Fen::yuan(3_000)),
        record: rec("insurance", "i-001"),
    });
    for (member, r) in [(&mut zhang, "p-001"), (&mut li, "p-002")] {
        member.assets.property.push(PropertyFact {
            certificate_no: "云(2015)曲靖市不动产权第0012345号".to_owned(),
            usage: PropertyUsage::Residential,
            registered_on: d("2015-06-01"),
            cancelled_on: None,
            record: rec("property", r),
        });
    }
    li.assets.vehicles.push(VehicleFact {
        kind: VehicleKind::Motorcycle,
        registered_on: d("2020-04-01"),
        deregistered_on: None,
        record: rec("vehicle", "v-001"),
    });
    li.assets.business.push(BusinessFact {
        role: BusinessRole::SoleProprietor,
        status: BusinessStatus::Active,
        established_on: Some(d("2019-03-01")),
        registered_capital: Some(Fen::yuan(50_000)),
        entity_name: Some("麒麟区李娜小吃店".to_owned()),
        record: rec("business", "e-001"),
    });
    zhang.link_flags.push(LinkFlag {
        kind: LinkFlagKind::PossibleMatch,
        record: rec("tax", "t-pm-1"),
    });
    child.disability.push(Certificate {
        category: DisabilityCategory::Intellectual,
        grade: 3,
        issued_on: Some(d("2020-01-01")),
        valid_until: None,
        record: rec("disability", "c-001"),
    });
    household("APP-2026-0001", vec![zhang, li, child])
}

/// A household refused by its assets: one adult with no income, a car and
/// a deposit of 500,000.00.
pub(crate) fn assets_household() -> Household {
    let mut wang = person("王芳", "19850303", 44, MemberRelation::Applicant);
    wang.assets.bank.push(Holding {
        value: Some(Fen::yuan(500_000)),
        record: rec("bank", "b-900"),
    });
    wang.assets.vehicles.push(VehicleFact {
        kind: VehicleKind::Car,
        registered_on: d("2024-01-10"),
        deregistered_on: None,
        record: rec("vehicle", "v-900"),
    });
    household("APP-2026-0002", vec![wang])
}

/// A household whose only member is dead: no counted member, no `P`.
pub(crate) fn empty_household() -> Household {
    let mut dead = person("赵六", "19400101", 55, MemberRelation::Applicant);
    if let Some(h) = dead.hukou.as_mut() {
        h.status = HukouStatus::Deceased;
        h.status_date = Some(d("2025-12-01"));
    }
    household("APP-2026-0004", vec![dead])
}

/// A household with no household kind anywhere: an error, not a report.
pub(crate) fn kindless_household() -> Household {
    let mut h = household(
        "APP-2026-0003",
        vec![Member::new(
            id("19900101", 66),
            "孙七",
            MemberRelation::Applicant,
        )],
    );
    h.hukou_kind = None;
    h
}

pub(crate) fn check(h: &Household) -> Findings {
    hedui_policy::check(&PolicySet::reference(), h).unwrap()
}

/// What the engine would hand over for a household: a link for every
/// record the facts cite (exact, score 1), one fuzzy tax link with an
/// unrounded score and float evidence, and the possible match.
pub(crate) fn links_for(h: &Household) -> Vec<LinkEntry> {
    let mut out = Vec::new();
    for member in &h.members {
        let mut records: Vec<RecordRef> = Vec::new();
        records.extend(member.hukou.iter().map(|x| x.record.clone()));
        records.extend(member.tax.iter().map(|x| x.record.clone()));
        records.extend(member.social_insurance.iter().map(|x| x.record.clone()));
        records.extend(member.disability.iter().map(|x| x.record.clone()));
        let a = &member.assets;
        records.extend(a.bank.iter().map(|x| x.record.clone()));
        records.extend(a.insurance.iter().map(|x| x.record.clone()));
        records.extend(a.property.iter().map(|x| x.record.clone()));
        records.extend(a.vehicles.iter().map(|x| x.record.clone()));
        records.extend(a.business.iter().map(|x| x.record.clone()));
        for r in records {
            out.push(LinkEntry {
                source: r.source,
                record_id: r.record_id,
                member: member.id_number.clone(),
                method: "exact".to_owned(),
                score: 1.0,
                counted: true,
                evidence: json!({"id": member.id_number, "name": member.declared_name}),
            });
        }
        for f in &member.link_flags {
            out.push(LinkEntry {
                source: f.record.source.clone(),
                record_id: f.record.record_id.clone(),
                member: member.id_number.clone(),
                method: "possible".to_owned(),
                score: 0.871_234_567_89,
                counted: false,
                evidence: json!({
                    "record": {"id": format!("{}{}", &member.id_number[..6], &member.id_number[8..17]), "name": member.declared_name, "birth_date": "1958-05-02"},
                    "person": {"id": member.id_number, "name": member.declared_name, "birth_date": "1958-05-20"},
                    "fields": [
                        {"field": "name", "level": "exact", "weight": 7.123_456_789},
                        {"field": "birth_date", "level": "transposition", "weight": 1.000_000_4}
                    ],
                    "weight": 3.456_789_123_4,
                }),
            });
        }
    }
    out
}

pub(crate) fn inputs() -> ReportInputs {
    let snap = |source: &str, n: u8| SnapshotRef {
        source: source.to_owned(),
        id: blake3::hash(&[n]).to_hex().to_string(),
        as_of: d("2026-03-01"),
    };
    ReportInputs {
        snapshots: vec![
            snap("tax", 1),
            snap("social_insurance", 2),
            snap("hukou", 3),
            snap("bank", 4),
        ],
        matcher_hash: blake3::hash(b"matcher settings").to_hex().to_string(),
        engine_version: "0.1.0".to_owned(),
    }
}

/// The report of a household with its links and the standard inputs.
pub(crate) fn report_of(h: &Household) -> Report {
    build(&check(h), links_for(h), &inputs())
}
