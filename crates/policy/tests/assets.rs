//! Asset tests (rules §4) as of applied_on.

use hedui_model::Fen;
use hedui_model::codes::{BusinessRole, BusinessStatus, PropertyUsage, VehicleKind};
use hedui_policy::{
    BusinessFact, FlagCode, Holding, Member, PolicySet, PropertyFact, Quantity, VehicleFact,
};

use crate::common::*;

fn property(
    m: &mut Member,
    cert: &str,
    usage: PropertyUsage,
    registered: &str,
    cancelled: Option<&str>,
) {
    let n = m.assets.property.len();
    m.assets.property.push(PropertyFact {
        certificate_no: cert.to_owned(),
        usage,
        registered_on: d(registered),
        cancelled_on: cancelled.map(d),
        record: rec("property", &format!("p-{}-{n}", &m.id_number[14..])),
    });
}

fn vehicle(m: &mut Member, kind: VehicleKind, registered: &str, deregistered: Option<&str>) {
    let n = m.assets.vehicles.len();
    m.assets.vehicles.push(VehicleFact {
        kind,
        registered_on: d(registered),
        deregistered_on: deregistered.map(d),
        record: rec("vehicle", &format!("v-{}-{n}", &m.id_number[14..])),
    });
}

fn business(
    m: &mut Member,
    status: BusinessStatus,
    established: Option<&str>,
    capital: Option<Fen>,
) {
    let n = m.assets.business.len();
    m.assets.business.push(BusinessFact {
        role: BusinessRole::SoleProprietor,
        status,
        established_on: established.map(d),
        registered_capital: capital,
        entity_name: Some("小卖部".to_owned()),
        record: rec("business", &format!("b-{}-{n}", &m.id_number[14..])),
    });
}

#[test]
fn financial_assets_up_to_the_limit_pass_one_fen_more_fails() {
    // Limit: 24 × 900.00 × 2 = 43_200.00 yuan.
    let limit = 24 * S * 2;
    let with = |total: i64| {
        let mut a = applicant();
        a.assets.bank.push(Holding {
            value: Some(Fen(total - 100)),
            record: rec("bank", "B1"),
        });
        a.assets.securities.push(Holding {
            value: Some(Fen(60)),
            record: rec("securities", "S1"),
        });
        a.assets.insurance.push(Holding {
            value: Some(Fen(40)),
            record: rec("insurance", "I1"),
        });
        a.assets.insurance.push(Holding {
            value: None,
            record: rec("insurance", "I2"),
        });
        run(&household("2026-03-15", vec![a, spouse()]))
            .asset_tests
            .financial
    };
    let t = with(limit);
    assert!(t.pass);
    assert_eq!(t.value, Quantity::Money(Fen(limit)));
    assert_eq!(t.limit, Some(Quantity::Money(Fen(limit))));
    assert_eq!(t.records.len(), 4);
    assert_eq!(
        t.trace.params["financial_months"],
        hedui_policy::ParamValue::Int(24)
    );
    assert!(!with(limit + 1).pass);
}

#[test]
fn a_co_owned_certificate_counts_once() {
    let mut a = applicant();
    let mut s = spouse();
    property(
        &mut a,
        "云(2019)0001",
        PropertyUsage::Residential,
        "2019-05-01",
        None,
    );
    property(
        &mut s,
        "云(2019)0001",
        PropertyUsage::Residential,
        "2019-05-01",
        None,
    );
    let f = run(&household("2026-03-15", vec![a.clone(), s.clone()]));
    assert_eq!(f.asset_tests.housing.value, Quantity::Count(1));
    assert!(f.asset_tests.housing.pass);
    assert_eq!(f.asset_tests.housing.records.len(), 2);
    property(
        &mut s,
        "云(2021)0002",
        PropertyUsage::Residential,
        "2021-05-01",
        None,
    );
    let f = run(&household("2026-03-15", vec![a, s]));
    assert_eq!(f.asset_tests.housing.value, Quantity::Count(2));
    assert!(!f.asset_tests.housing.pass);
}

#[test]
fn a_parking_space_land_or_shop_is_not_housing() {
    let mut a = applicant();
    property(&mut a, "R1", PropertyUsage::Residential, "2019-05-01", None);
    property(&mut a, "P1", PropertyUsage::Parking, "2019-05-01", None);
    property(&mut a, "L1", PropertyUsage::Land, "2019-05-01", None);
    property(&mut a, "C1", PropertyUsage::Commercial, "2019-05-01", None);
    let f = run(&household("2026-03-15", vec![a]));
    assert_eq!(f.asset_tests.housing.value, Quantity::Count(1));
    assert!(f.asset_tests.housing.pass);
}

#[test]
fn a_certificate_cancelled_on_applied_on_is_gone_registered_on_it_is_held() {
    let mut a = applicant();
    property(&mut a, "R1", PropertyUsage::Residential, "2019-05-01", None);
    property(
        &mut a,
        "R2",
        PropertyUsage::Residential,
        "2019-05-01",
        Some("2026-03-15"),
    );
    let f = run(&household("2026-03-15", vec![a.clone()]));
    assert!(f.asset_tests.housing.pass);
    property(&mut a, "R3", PropertyUsage::Residential, "2026-03-15", None);
    let f = run(&household("2026-03-15", vec![a.clone()]));
    assert!(!f.asset_tests.housing.pass);
    // Registered the day after: not held yet.
    let mut b = applicant();
    property(&mut b, "R1", PropertyUsage::Residential, "2019-05-01", None);
    property(&mut b, "R4", PropertyUsage::Residential, "2026-03-16", None);
    assert!(
        run(&household("2026-03-15", vec![b]))
            .asset_tests
            .housing
            .pass
    );
}

#[test]
fn a_vehicle_deregistered_on_applied_on_is_gone() {
    let car = |deregistered: Option<&str>| {
        let mut a = applicant();
        vehicle(&mut a, VehicleKind::Car, "2018-01-01", deregistered);
        run(&household("2026-03-15", vec![a])).asset_tests.vehicles
    };
    assert!(car(Some("2026-03-15")).pass);
    let held = car(Some("2026-03-16"));
    assert!(!held.pass);
    assert_eq!(held.value, Quantity::Count(1));
    assert_eq!(held.records.len(), 1);
    assert!(!car(None).pass);
}

#[test]
fn allowed_vehicle_kinds_do_not_disqualify() {
    let mut a = applicant();
    vehicle(&mut a, VehicleKind::Motorcycle, "2018-01-01", None);
    vehicle(&mut a, VehicleKind::Agricultural, "2018-01-01", None);
    vehicle(&mut a, VehicleKind::DisabilityMobility, "2018-01-01", None);
    vehicle(&mut a, VehicleKind::Truck, "2026-03-16", None);
    assert!(
        run(&household("2026-03-15", vec![a]))
            .asset_tests
            .vehicles
            .pass
    );
}

#[test]
fn an_active_business_is_flagged_not_disqualifying_without_a_limit() {
    let mut a = applicant();
    business(&mut a, BusinessStatus::Active, Some("2020-01-01"), None);
    business(
        &mut a,
        BusinessStatus::Active,
        Some("2020-01-01"),
        Some(Fen(50_000_000)),
    );
    business(
        &mut a,
        BusinessStatus::Revoked,
        Some("2020-01-01"),
        Some(Fen(1)),
    );
    business(
        &mut a,
        BusinessStatus::Active,
        Some("2026-03-16"),
        Some(Fen(1)),
    );
    let f = run(&household("2026-03-15", vec![a]));
    let t = &f.asset_tests.business;
    assert!(t.pass);
    assert_eq!(t.value, Quantity::Count(2));
    assert_eq!(t.limit, None);
    let flags: Vec<_> = f.flags_of(FlagCode::Business).collect();
    assert_eq!(flags.len(), 2);
    assert_eq!(flags[0].detail["registered_capital_fen"], "unknown");
    assert_eq!(flags[1].detail["registered_capital_fen"], "50000000");
}

#[test]
fn a_business_over_the_policy_capital_limit_fails() {
    let set = PolicySet::parse([
        (
            "reference.toml",
            include_str!("../../../fixtures/policies/reference.toml"),
        ),
        ("yunnan.toml", include_str!("fixtures/yunnan.toml")),
        ("qujing.toml", include_str!("fixtures/qujing.toml")),
    ])
    .unwrap();
    let v = set.select("530302", d("2026-03-15")).unwrap();
    let with = |capital: Option<Fen>| {
        let mut a = applicant();
        business(&mut a, BusinessStatus::Active, None, capital);
        run_with(&household("2026-03-15", vec![a]), v)
            .asset_tests
            .business
    };
    // Limit 100_000.00 yuan.
    assert!(with(Some(Fen(10_000_000))).pass);
    let over = with(Some(Fen(10_000_001)));
    assert!(!over.pass);
    assert_eq!(over.limit, Some(Quantity::Money(Fen(10_000_000))));
    // Unknown capital is flagged as unknown, and does not exceed.
    assert!(with(None).pass);
}

#[test]
fn assets_of_a_dead_member_do_not_count() {
    let mut a = applicant();
    vehicle(&mut a, VehicleKind::Car, "2018-01-01", None);
    a.hukou.as_mut().unwrap().status = hedui_model::codes::HukouStatus::Deceased;
    let f = run(&household("2026-03-15", vec![a, spouse()]));
    assert!(f.asset_tests.vehicles.pass);
}
