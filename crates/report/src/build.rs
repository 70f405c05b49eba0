//! From the policy's findings (and what the engine adds) to the report.

use std::collections::BTreeMap;

use hedui_model::CodeList;
use hedui_model::Fen;
use hedui_policy::{
    AssetTest, Benefit, Comparison, Condition, Determination, ExclusionReason, Findings,
    ImputedFrom, KindSource, MemberFindings, ParamValue, Quantity, RecordRef, SpecialReason, Trace,
};
use serde_json::Value;

use crate::canonical::{canonical_value_json, normalise_floats_in_place, round_float};
use crate::report::{
    AssetExplain, AssetTestsReport, AssetsExplain, BenefitExplain, BusinessEntity, BusinessTest,
    ComparisonReport, ConditionReport, CountTest, DeterminationReport, ExactInt, ExcludedReport,
    Explain, FailureReport, FlagReport, ImputedReport, IncomeExplain, Inputs, LinkEntry,
    MatcherInput, MemberConditions, MemberReport, MoneyTest, MonthReport, Notice, PolicyInput,
    Report, ReportInputs, SinglePersonBenefit, SpecialMemberReport, TraceReport, WindowRange,
};

/// The wording every report carries, in Chinese: a determination supports
/// the county's decision (审核确认) and is not the decision.
pub const NOTICE_ZH: &str = "本报告为核对结果，供审核确认参考，不是救助决定。各项认定是对县级民政部门审核确认的支持，是否给予救助由县级民政部门依法决定。";

/// The same wording in English.
pub const NOTICE_EN: &str = "This report is a verification finding for the county's review and confirmation (审核确认); it is not a decision on assistance. Each determination supports the county's decision and is never the decision itself.";

/// Stable codes of the policy's enums, spelled here rather than taken
/// from their serde names, so the report's codes are its own contract.
fn special_code(r: &SpecialReason) -> String {
    match r {
        SpecialReason::Aged60OrMore => "aged_60_or_more",
        SpecialReason::Under18 => "under_18",
        SpecialReason::SeverelyDisabled => "severely_disabled",
    }
    .to_owned()
}

fn exclusion_code(r: ExclusionReason) -> &'static str {
    match r {
        ExclusionReason::OtherBenefit => "other_benefit",
        ExclusionReason::ResidentPension => "resident_pension",
    }
}

fn imputed_code(f: ImputedFrom) -> &'static str {
    match f {
        ImputedFrom::SocialInsuranceBase => "social_insurance_base",
        ImputedFrom::HousingFundBase => "housing_fund_base",
    }
}

fn kind_from_code(k: KindSource) -> &'static str {
    match k {
        KindSource::Request => "request",
        KindSource::ApplicantHukou => "applicant_hukou",
    }
}

fn sorted(mut records: Vec<RecordRef>) -> Vec<RecordRef> {
    records.sort();
    records.dedup();
    records
}

fn trace(t: &Trace) -> TraceReport {
    let conv = |m: &BTreeMap<&'static str, ParamValue>| {
        m.iter()
            .map(|(k, v)| {
                let value = serde_json::to_value(v).unwrap_or(Value::Null);
                ((*k).to_owned(), value)
            })
            .collect()
    };
    TraceReport {
        clause: t.clause.to_owned(),
        params: conv(&t.params),
        values: conv(&t.values),
    }
}

fn comparison(c: &Comparison) -> ComparisonReport {
    ComparisonReport {
        lhs: ExactInt(c.lhs),
        op: c.op.symbol().to_owned(),
        rhs: ExactInt(c.rhs),
    }
}

fn condition(c: &Condition) -> ConditionReport {
    ConditionReport {
        name: c.name.to_owned(),
        expr: c.expr.to_owned(),
        holds: c.holds,
        comparison: c.comparison.as_ref().map(comparison),
        records: sorted(c.records.clone()),
    }
}

fn determination(d: &Determination) -> DeterminationReport {
    DeterminationReport {
        code: d.code.code().to_owned(),
        holds: d.holds,
        conditions: d.conditions.iter().map(condition).collect(),
        members: d
            .members
            .iter()
            .map(|m| MemberConditions {
                member: m.member.clone(),
                holds: m.holds,
                conditions: m.conditions.iter().map(condition).collect(),
            })
            .collect(),
        failed: d
            .failed
            .iter()
            .map(|f| FailureReport {
                determination: f.determination.code().to_owned(),
                member: f.member.clone(),
                condition: f.condition.to_owned(),
            })
            .collect(),
        trace: trace(&d.trace),
    }
}

fn benefit(b: &Benefit) -> BenefitExplain {
    BenefitExplain {
        member: b.member.clone(),
        amount_fen: b.amount.0,
        numerator: ExactInt(b.numerator),
        denominator: ExactInt(b.denominator),
        special_members: b
            .special_members
            .iter()
            .map(|s| SpecialMemberReport {
                member: s.member.clone(),
                reasons: s.reasons.iter().map(special_code).collect(),
            })
            .collect(),
        trace: trace(&b.trace),
    }
}

fn member(m: &MemberFindings) -> MemberReport {
    let (window_net_fen, months, excluded_income) = match &m.income {
        Some(income) => (
            Some(income.window_net.0),
            income
                .months
                .iter()
                .map(|mi| MonthReport {
                    month: mi.month,
                    wage_fen: mi.wage.0,
                    business_fen: mi.business.0,
                    property_fen: mi.property.0,
                    other_fen: mi.other.0,
                    transfer_in_fen: mi.transfer_in.0,
                    transfer_out_fen: mi.transfer_out.0,
                    employment_cost_fen: mi.employment_cost.0,
                    net_fen: mi.net.0,
                    imputed: mi.imputed.as_ref().map(|i| ImputedReport {
                        from: imputed_code(i.from).to_owned(),
                        source: i.record.source.clone(),
                        record_id: i.record.record_id.clone(),
                    }),
                    records: sorted(mi.records.clone()),
                })
                .collect(),
            {
                let mut ex: Vec<ExcludedReport> = income
                    .excluded
                    .iter()
                    .map(|e| ExcludedReport {
                        source: e.record.source.clone(),
                        record_id: e.record.record_id.clone(),
                        reason: exclusion_code(e.reason).to_owned(),
                        amount_fen: e.amount.0,
                        month: e.month,
                    })
                    .collect();
                ex.sort_by(|a, b| {
                    (a.month, &a.source, &a.record_id, &a.reason, a.amount_fen).cmp(&(
                        b.month,
                        &b.source,
                        &b.record_id,
                        &b.reason,
                        b.amount_fen,
                    ))
                });
                ex
            },
        ),
        None => (None, Vec::new(), Vec::new()),
    };
    MemberReport {
        id_number: m.id_number.clone(),
        name: m.name.clone(),
        relation: m.relation,
        counted: m.counted,
        window_net_fen,
        months,
        excluded_income,
        id_status: m.id_status.to_owned(),
        dead: m.dead,
        birth_date: m.birth_date,
        age: m.age,
        special: m.special.iter().map(special_code).collect(),
        severe_disability: sorted(m.severe_disability.clone()),
    }
}

fn fen_of(q: Option<&Quantity>) -> Option<i64> {
    match q {
        Some(Quantity::Money(f)) => Some(f.0),
        Some(Quantity::Count(c)) => i64::try_from(*c).ok(),
        None => None,
    }
}

fn count_of(q: Option<&Quantity>) -> u64 {
    match q {
        Some(Quantity::Count(c)) => *c,
        Some(Quantity::Money(f)) => u64::try_from(f.0).unwrap_or(0),
        None => 0,
    }
}

fn count_test(t: &AssetTest) -> CountTest {
    CountTest {
        value: count_of(Some(&t.value)),
        limit: count_of(t.limit.as_ref()),
        pass: t.pass,
        records: sorted(t.records.clone()),
    }
}

fn asset_explain(t: &AssetTest, expr: &str) -> AssetExplain {
    AssetExplain {
        expr: expr.to_owned(),
        comparison: t.comparison.as_ref().map(comparison),
        trace: trace(&t.trace),
    }
}

fn asset_tests(f: &Findings) -> (AssetTestsReport, AssetsExplain) {
    let a = &f.asset_tests;
    let mut entities: Vec<BusinessEntity> = a
        .flagged_business
        .iter()
        .map(|b| BusinessEntity {
            member: b.member.clone(),
            source: b.record.source.clone(),
            record_id: b.record.record_id.clone(),
            role: b.role.code().to_owned(),
            entity_name: b.entity_name.clone(),
            established_on: b.established_on,
            registered_capital_fen: b.registered_capital.map(|c| c.0),
            over_limit: b.over_limit,
        })
        .collect();
    entities.sort_by(|x, y| {
        (&x.member, &x.source, &x.record_id).cmp(&(&y.member, &y.source, &y.record_id))
    });
    let report = AssetTestsReport {
        financial: MoneyTest {
            value_fen: fen_of(Some(&a.financial.value)).unwrap_or(0),
            limit_fen: fen_of(a.financial.limit.as_ref()).unwrap_or(0),
            pass: a.financial.pass,
            records: sorted(a.financial.records.clone()),
        },
        housing: count_test(&a.housing),
        vehicles: count_test(&a.vehicles),
        business: BusinessTest {
            value: count_of(Some(&a.business.value)),
            limit: fen_of(a.business.limit.as_ref()),
            pass: a.business.pass,
            records: sorted(a.business.records.clone()),
            over_limit: entities.iter().filter(|e| e.over_limit).count() as u64,
            entities,
        },
    };
    let explain = AssetsExplain {
        financial: asset_explain(
            &a.financial,
            "Σ balance + market_value + cash_value of counted members <= financial_months * S * n",
        ),
        housing: asset_explain(
            &a.housing,
            "distinct residential certificate_no held on applied_on <= max_residential",
        ),
        vehicles: asset_explain(
            &a.vehicles,
            "number of vehicles held outside allowed_vehicle_kinds == 0",
        ),
        business: asset_explain(
            &a.business,
            "number of flagged entities with registered_capital > business_capital_limit == 0 (no limit: always passes)",
        ),
    };
    (report, explain)
}

fn link(mut l: LinkEntry) -> LinkEntry {
    // A non-finite score (a matcher bug) cannot be JSON: shown as 0.
    l.score = round_float(l.score).unwrap_or(0.0);
    normalise_floats_in_place(&mut l.evidence);
    l
}

/// Builds the report of one household from the policy's findings, the
/// identity links of its members' records and the inputs the engine read.
///
/// Deterministic: members stay in the request's order; every other list is
/// sorted (records by source and record_id, flags by code, member and
/// evidence, links by source, record_id and member, snapshots by source,
/// id and as_of); floats are rounded to 6 decimals. The same findings,
/// links and inputs give the same canonical bytes and the same
/// `report_hash`, whatever order the records came in.
pub fn build(findings: &Findings, links: Vec<LinkEntry>, inputs: &ReportInputs) -> Report {
    let mut report = unsealed(findings, links, inputs);
    report.seal();
    report
}

/// As [`build`], with the report's canonical JSON, from one
/// serialisation ([`Report::seal_to_json`]).
pub fn build_sealed(
    findings: &Findings,
    links: Vec<LinkEntry>,
    inputs: &ReportInputs,
) -> (Report, String) {
    let mut report = unsealed(findings, links, inputs);
    let json = report.seal_to_json();
    (report, json)
}

fn unsealed(findings: &Findings, links: Vec<LinkEntry>, inputs: &ReportInputs) -> Report {
    let f = findings;
    let (asset_report, asset_explain) = asset_tests(f);

    let mut determinations: Vec<String> = f.holding().iter().map(|c| c.code().to_owned()).collect();
    determinations.sort();

    let mut flags: Vec<FlagReport> = f
        .flags
        .iter()
        .map(|fl| FlagReport {
            code: fl.code.code().to_owned(),
            member: fl.member.clone(),
            evidence: sorted(fl.evidence.clone()),
            detail: fl
                .detail
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        })
        .collect();
    flags.sort_by(|a, b| {
        (&a.code, &a.member, &a.evidence, &a.detail).cmp(&(
            &b.code,
            &b.member,
            &b.evidence,
            &b.detail,
        ))
    });

    let mut links: Vec<LinkEntry> = links.into_iter().map(link).collect();
    links.sort_by(|a, b| {
        (&a.source, &a.record_id, &a.member, &a.method)
            .cmp(&(&b.source, &b.record_id, &b.member, &b.method))
            .then(a.score.total_cmp(&b.score))
            .then(a.counted.cmp(&b.counted))
            .then_with(|| canonical_value_json(&a.evidence).cmp(&canonical_value_json(&b.evidence)))
    });

    let mut snapshots = inputs.snapshots.clone();
    snapshots.sort();
    snapshots.dedup();

    let mut single_person: Vec<SinglePersonBenefit> = f
        .single_person
        .iter()
        .map(|b| SinglePersonBenefit {
            id_number: b.member.clone().unwrap_or_default(),
            benefit_fen: b.amount.0,
        })
        .collect();
    single_person.sort_by(|a, b| a.id_number.cmp(&b.id_number));
    let mut single_explain: Vec<BenefitExplain> = f.single_person.iter().map(benefit).collect();
    single_explain.sort_by(|a, b| a.member.cmp(&b.member));

    let member_income = f
        .members
        .iter()
        .find_map(|m| m.income.as_ref())
        .map(|i| trace(&i.trace));

    Report {
        application_id: f.application_id.clone(),
        region_code: f.region_code.clone(),
        applied_on: f.applied_on,
        assistance: f.assistance,
        household_kind: f.household_kind,
        household_size: f.household_size,
        window: WindowRange {
            from: f.window.from,
            to: f.window.to,
        },
        standard_fen: f.standard.0,
        household_income_fen: f.income.monthly.0,
        per_capita_income_fen: f.income.per_capita.map(|p: Fen| p.0),
        members: f.members.iter().map(member).collect(),
        asset_tests: asset_report,
        determinations,
        benefit_fen: f.benefit.as_ref().map(|b| b.amount.0),
        single_person,
        flags,
        links,
        inputs: Inputs {
            snapshots,
            policy: PolicyInput {
                name: f.policy.name.clone(),
                region: f.policy.region.clone(),
                version: f.policy.version,
                hash: f.policy.hash.to_hex(),
            },
            matcher: MatcherInput {
                hash: inputs.matcher_hash.clone(),
            },
            engine_version: inputs.engine_version.clone(),
        },
        explain: Explain {
            notice: Notice {
                zh: NOTICE_ZH.to_owned(),
                en: NOTICE_EN.to_owned(),
            },
            household_kind_from: kind_from_code(f.household_kind_from).to_owned(),
            income: IncomeExplain {
                members_net_fen: f.income.members_net.0,
                window_total_fen: f.income.window_total.0,
                lookback_months: match f.income.trace.params.get("lookback_months") {
                    Some(ParamValue::Int(l)) => *l,
                    _ => f.window.months.len() as i64,
                },
                trace: trace(&f.income.trace),
                member_income,
            },
            asset_tests: asset_explain,
            determinations: f.determinations.iter().map(determination).collect(),
            benefit: f.benefit.as_ref().map(benefit),
            single_person: single_explain,
        },
        report_hash: String::new(),
    }
}
