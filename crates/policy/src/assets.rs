//! Asset tests (财产, rules §4), as of a date: `applied_on` for a check, the
//! run date for a monitoring run.
//!
//! "Held on D": registered on or before D and not ended on or before D (a
//! certificate cancelled or a vehicle deregistered on D is gone that day).

use std::collections::BTreeSet;

use hedui_model::codes::{BusinessStatus, PropertyUsage};
use hedui_model::{Date, Fen};

use crate::facts::{Member, RecordRef, held_on};
use crate::findings::{
    AssetTest, AssetTestName, AssetTests, Comparison, FlaggedBusiness, Op, ParamValue, Quantity,
    Trace,
};
use crate::policy::PolicyVersion;

/// Clamps an exact `i128` product into `Fen` for display; comparisons are
/// made on the `i128` itself.
pub(crate) fn fen_display(v: i128) -> Fen {
    Fen(i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX }))
}

/// The four asset tests over the counted members, on `on`, with the
/// standard `S` of the household's kind and `n` counted members.
pub fn asset_tests(
    counted: &[&Member],
    on: Date,
    standard: Fen,
    n: u32,
    policy: &PolicyVersion,
) -> AssetTests {
    let params = &policy.params;
    let pref = policy.policy_ref();

    // Financial assets.
    let mut total: i128 = 0;
    let mut fin_records = Vec::new();
    for m in counted {
        let a = &m.assets;
        for h in a.bank.iter().chain(&a.securities).chain(&a.insurance) {
            total += i128::from(h.value.unwrap_or(Fen::ZERO).0);
            fin_records.push(h.record.clone());
        }
    }
    fin_records.sort();
    fin_records.dedup();
    let limit = i128::from(params.financial_months) * i128::from(standard.0) * i128::from(n);
    let cmp = Comparison {
        lhs: total,
        op: Op::Le,
        rhs: limit,
    };
    let financial = AssetTest {
        name: AssetTestName::Financial,
        value: Quantity::Money(fen_display(total)),
        limit: Some(Quantity::Money(fen_display(limit))),
        pass: cmp.holds(),
        comparison: Some(cmp),
        records: fin_records,
        trace: Trace::new(
            "rules §4 financial assets: Σ balance + market_value + cash_value <= financial_months * S * n",
            &pref,
        )
        .param(
            "financial_months",
            ParamValue::Int(i64::from(params.financial_months)),
        )
        .param("S", ParamValue::Money(standard))
        .value("n", ParamValue::Int(i64::from(n))),
    };

    // Housing: distinct residential certificates held on `on`.
    let mut certs = BTreeSet::new();
    let mut house_records = Vec::new();
    for m in counted {
        for p in &m.assets.property {
            if p.usage == PropertyUsage::Residential && held_on(p.registered_on, p.cancelled_on, on)
            {
                certs.insert(p.certificate_no.as_str());
                house_records.push(p.record.clone());
            }
        }
    }
    house_records.sort();
    house_records.dedup();
    let cmp = Comparison {
        lhs: certs.len() as i128,
        op: Op::Le,
        rhs: i128::from(params.max_residential),
    };
    let housing = AssetTest {
        name: AssetTestName::Housing,
        value: Quantity::Count(certs.len() as u64),
        limit: Some(Quantity::Count(u64::from(params.max_residential))),
        pass: cmp.holds(),
        comparison: Some(cmp),
        records: house_records,
        trace: Trace::new(
            "rules §4 housing: distinct residential certificate_no held <= max_residential",
            &pref,
        )
        .param(
            "max_residential",
            ParamValue::Int(i64::from(params.max_residential)),
        )
        .value("on", ParamValue::Date(on)),
    };

    // Vehicles held outside the allowed kinds.
    let mut veh_records = Vec::new();
    for m in counted {
        for v in &m.assets.vehicles {
            if held_on(v.registered_on, v.deregistered_on, on) && !params.vehicle_allowed(v.kind) {
                veh_records.push(v.record.clone());
            }
        }
    }
    veh_records.sort();
    veh_records.dedup();
    let cmp = Comparison {
        lhs: veh_records.len() as i128,
        op: Op::Eq,
        rhs: 0,
    };
    let vehicles = AssetTest {
        name: AssetTestName::Vehicles,
        value: Quantity::Count(veh_records.len() as u64),
        limit: Some(Quantity::Count(0)),
        pass: cmp.holds(),
        comparison: Some(cmp),
        records: veh_records,
        trace: Trace::new(
            "rules §4 vehicles: no vehicle held outside allowed_vehicle_kinds",
            &pref,
        )
        .param(
            "allowed_vehicle_kinds",
            ParamValue::Kinds(params.allowed_vehicle_kinds.clone()),
        )
        .value("on", ParamValue::Date(on)),
    };

    // Business: every active entity established on or before `on` is
    // flagged; the test fails only over a capital limit.
    let mut flagged = Vec::new();
    for m in counted {
        for b in &m.assets.business {
            if b.status == BusinessStatus::Active && b.established_on.is_none_or(|d| d <= on) {
                let over_limit = match (params.business_capital_limit, b.registered_capital) {
                    (Some(limit), Some(cap)) => cap > limit,
                    _ => false,
                };
                flagged.push(FlaggedBusiness {
                    member: m.id_number.clone(),
                    record: b.record.clone(),
                    role: b.role,
                    entity_name: b.entity_name.clone(),
                    established_on: b.established_on,
                    registered_capital: b.registered_capital,
                    over_limit,
                });
            }
        }
    }
    flagged.sort_by(|a, b| (&a.member, &a.record).cmp(&(&b.member, &b.record)));
    flagged.dedup_by(|a, b| a.member == b.member && a.record == b.record);
    let mut bus_records: Vec<RecordRef> = flagged.iter().map(|f| f.record.clone()).collect();
    bus_records.sort();
    bus_records.dedup();
    let over = flagged.iter().filter(|f| f.over_limit).count();
    let business = AssetTest {
        name: AssetTestName::Business,
        value: Quantity::Count(flagged.len() as u64),
        limit: params.business_capital_limit.map(Quantity::Money),
        pass: over == 0,
        comparison: params.business_capital_limit.map(|_| Comparison {
            lhs: over as i128,
            op: Op::Eq,
            rhs: 0,
        }),
        records: bus_records,
        trace: Trace::new(
            "rules §4 business: a registration alone never disqualifies; fails only over business_capital_limit",
            &pref,
        )
        .param(
            "business_capital_limit",
            params
                .business_capital_limit
                .map_or(ParamValue::Unset, ParamValue::Money),
        )
        .value("over_limit", ParamValue::Int(over as i64))
        .value("on", ParamValue::Date(on)),
    };

    AssetTests {
        financial,
        housing,
        vehicles,
        business,
        flagged_business: flagged,
    }
}
