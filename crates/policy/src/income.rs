//! Income (收入, rules §3): per member and month, then the household's `W`,
//! `H` and `P`.
//!
//! The window is given, not derived from a request, so a monitoring run
//! (rules §7) computes income over the months before its run date with the
//! same functions.

use hedui_model::codes::{IncomeKind, Scheme, SocialInsuranceKind};
use hedui_model::{Fen, Month};

use crate::facts::{Member, RecordRef};
use crate::findings::{
    ExcludedIncome, ExclusionReason, HouseholdIncome, Imputed, ImputedFrom, MemberIncome,
    MonthIncome, ParamValue, Trace, Window,
};
use crate::policy::PolicyVersion;

/// One member's income items for each month of `window` (rules §3).
///
/// - wage: Σ `gross` of tax kinds `wage` and `labour`; when the month has
///   **no** such record (a record of 0.00 is one), the largest non-null
///   contribution base of the month, else the largest housing-fund base,
///   else 0 — marked imputed with its record;
/// - business, property (rent + interest), other: Σ `gross` by kind;
/// - transfer in: pensions and unemployment benefits; `other_benefit`
///   excluded, and resident-scheme pensions while
///   `exclude_resident_pension` is on (a pension without scheme counts);
/// - transfer out: Σ `tax_paid` (null 0) of the month's tax records + Σ own
///   contributions;
/// - employment cost: `min(wage, employment_cost)` when wage > 0.
pub fn member_income(member: &Member, window: &Window, policy: &PolicyVersion) -> MemberIncome {
    let params = &policy.params;
    let mut months = Vec::with_capacity(window.months.len());
    let mut excluded = Vec::new();
    let mut window_net = Fen::ZERO;
    for &m in &window.months {
        let mi = month_income(member, m, policy, &mut excluded);
        window_net += mi.net;
        months.push(mi);
    }
    excluded.sort_by(|a, b| (a.month, &a.record).cmp(&(b.month, &b.record)));
    let trace = Trace::new("rules §3 income", &policy.policy_ref())
        .param(
            "lookback_months",
            ParamValue::Int(i64::from(params.lookback_months)),
        )
        .param("employment_cost", ParamValue::Money(params.employment_cost))
        .param(
            "exclude_resident_pension",
            ParamValue::Bool(params.exclude_resident_pension),
        )
        .value("window_from", ParamValue::Month(window.from))
        .value("window_to", ParamValue::Month(window.to));
    MemberIncome {
        months,
        window_net,
        excluded,
        trace,
    }
}

fn month_income(
    member: &Member,
    m: Month,
    policy: &PolicyVersion,
    excluded: &mut Vec<ExcludedIncome>,
) -> MonthIncome {
    let params = &policy.params;
    let mut records: Vec<RecordRef> = Vec::new();
    let (mut wage, mut business, mut property, mut other, mut tax_paid) =
        (Fen::ZERO, Fen::ZERO, Fen::ZERO, Fen::ZERO, Fen::ZERO);
    let mut has_wage_record = false;
    for t in member.tax.iter().filter(|t| t.period == m) {
        match t.kind {
            IncomeKind::Wage | IncomeKind::Labour => {
                wage += t.gross;
                has_wage_record = true;
            }
            IncomeKind::Business => business += t.gross,
            IncomeKind::Rent | IncomeKind::Interest => property += t.gross,
            IncomeKind::Other => other += t.gross,
        }
        tax_paid += t.tax_paid.unwrap_or(Fen::ZERO);
        records.push(t.record.clone());
    }

    let mut transfer_in = Fen::ZERO;
    let mut contributions = Fen::ZERO;
    let mut best_si_base: Option<(Fen, &RecordRef)> = None;
    for s in member.social_insurance.iter().filter(|s| s.period == m) {
        match s.kind {
            SocialInsuranceKind::Contribution => {
                contributions += s.amount;
                records.push(s.record.clone());
                if let Some(base) = s.base {
                    best_si_base = better(best_si_base, (base, &s.record));
                }
            }
            SocialInsuranceKind::Pension
                if s.scheme == Some(Scheme::Resident) && params.exclude_resident_pension =>
            {
                excluded.push(ExcludedIncome {
                    month: m,
                    record: s.record.clone(),
                    reason: ExclusionReason::ResidentPension,
                    amount: s.amount,
                });
            }
            SocialInsuranceKind::Pension | SocialInsuranceKind::UnemploymentBenefit => {
                transfer_in += s.amount;
                records.push(s.record.clone());
            }
            SocialInsuranceKind::OtherBenefit => excluded.push(ExcludedIncome {
                month: m,
                record: s.record.clone(),
                reason: ExclusionReason::OtherBenefit,
                amount: s.amount,
            }),
        }
    }

    let mut imputed = None;
    if !has_wage_record {
        if let Some((base, record)) = best_si_base {
            wage = base;
            imputed = Some(Imputed {
                from: ImputedFrom::SocialInsuranceBase,
                record: record.clone(),
            });
        } else {
            let mut best_hf: Option<(Fen, &RecordRef)> = None;
            for h in member.housing_fund.iter().filter(|h| h.period == m) {
                if let Some(base) = h.base {
                    best_hf = better(best_hf, (base, &h.record));
                }
            }
            if let Some((base, record)) = best_hf {
                wage = base;
                records.push(record.clone());
                imputed = Some(Imputed {
                    from: ImputedFrom::HousingFundBase,
                    record: record.clone(),
                });
            }
        }
    }

    let employment_cost = if wage > Fen::ZERO {
        wage.min(params.employment_cost)
    } else {
        Fen::ZERO
    };
    let transfer_out = tax_paid + contributions;
    let net = wage + business + property + other + transfer_in - transfer_out - employment_cost;
    records.sort();
    records.dedup();
    MonthIncome {
        month: m,
        wage,
        imputed,
        business,
        property,
        other,
        transfer_in,
        transfer_out,
        employment_cost,
        net,
        records,
    }
}

/// The larger base; between equal bases the smaller record, so the choice
/// does not depend on the order the engine gives records in.
fn better<'a>(
    cur: Option<(Fen, &'a RecordRef)>,
    cand: (Fen, &'a RecordRef),
) -> Option<(Fen, &'a RecordRef)> {
    match cur {
        Some(c) if c.0 > cand.0 || (c.0 == cand.0 && c.1 <= cand.1) => Some(c),
        _ => Some(cand),
    }
}

/// The household's income from the counted members' window nets (rules
/// §3): `W = max(0, Σ nets)` — a member's negative net offsets the others,
/// the floor applies only to the household — `H = W / lookback_months` and
/// `P = H / n`, each rounded half up once, for display. Tests compare `W`,
/// never `H` or `P`.
pub fn household_income(
    counted_nets: &[Fen],
    n: u32,
    standard: Fen,
    policy: &PolicyVersion,
) -> HouseholdIncome {
    let lookback = i64::from(policy.params.lookback_months);
    let members_net: Fen = counted_nets.iter().copied().sum();
    let w = members_net.max(Fen::ZERO);
    let monthly = w.div_round_half_up(lookback);
    let per_capita = (n > 0).then(|| w.div_round_half_up(lookback * i64::from(n)));
    let trace = Trace::new("rules §3 W, H, P", &policy.policy_ref())
        .param("lookback_months", ParamValue::Int(lookback))
        .param("S", ParamValue::Money(standard))
        .value("members_net", ParamValue::Money(members_net))
        .value("W", ParamValue::Money(w))
        .value("n", ParamValue::Int(i64::from(n)));
    HouseholdIncome {
        members_net,
        window_total: w,
        monthly,
        per_capita,
        trace,
    }
}
