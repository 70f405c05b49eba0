//! One check, end to end: facts and a policy version in, findings out.

use hedui_model::{Fen, IdNumber};

use crate::assets::asset_tests;
use crate::determine::{Case, MemberCase, determine};
use crate::error::Result;
use crate::facts::{Household, Member};
use crate::findings::{Findings, MemberFindings, Window};
use crate::flags::flags;
use crate::income::{household_income, member_income};
use crate::membership::{
    self, Membership, age_on, birth_date, severe_disability, special_reasons, tekun_disability,
};
use crate::policy::{PolicySet, PolicyVersion};

/// Evaluates a household under a policy version (rules §1, §3–§6), as of
/// `household.applied_on`. Pure: the same facts and version give the same
/// findings. The version is used as given — the caller chose it with
/// [`PolicySet::select`] (or, in a replay, by the hash a report recorded).
///
/// The only error is [`crate::Error::MissingHukouKind`]: nothing else of
/// the facts can stop a check.
pub fn evaluate(household: &Household, policy: &PolicyVersion) -> Result<Findings> {
    let on = household.applied_on;
    let params = &policy.params;
    let (kind, kind_from) = membership::household_kind(household)?;
    let standard = params.standard(kind);
    let window = Window::before(on, params.lookback_months);

    let memberships: Vec<Membership> = household
        .members
        .iter()
        .map(|m| membership::membership(m, on))
        .collect();
    let counted: Vec<&Member> = household
        .members
        .iter()
        .zip(&memberships)
        .filter(|(_, ms)| ms.counted)
        .map(|(m, _)| m)
        .collect();
    let n = u32::try_from(counted.len()).unwrap_or(u32::MAX);

    let members: Vec<MemberFindings> = household
        .members
        .iter()
        .zip(&memberships)
        .map(|(m, ms)| MemberFindings {
            id_number: m.id_number.clone(),
            name: m.declared_name.clone(),
            relation: m.relation,
            id_status: IdNumber::parse(m.declared_id.as_deref().unwrap_or(&m.id_number))
                .status_code(),
            counted: ms.counted,
            dead: ms.dead,
            birth_date: birth_date(m),
            age: age_on(m, on),
            severe_disability: severe_disability(m, on),
            special: if ms.counted {
                special_reasons(m, on)
            } else {
                Vec::new()
            },
            income: ms.counted.then(|| member_income(m, &window, policy)),
        })
        .collect();

    let nets: Vec<Fen> = members.iter().filter_map(|m| m.window_net()).collect();
    let income = household_income(&nets, n, standard, policy);
    let assets = asset_tests(&counted, on, standard, n, policy);

    let mut expense = Fen::ZERO;
    let mut expense_records = Vec::new();
    for m in &counted {
        for e in m.expenses.iter().filter(|e| window.contains_date(e.date)) {
            expense += e.amount;
            expense_records.push(e.record.clone());
        }
    }
    expense_records.sort();
    expense_records.dedup();

    let cases: Vec<MemberCase<'_>> = household
        .members
        .iter()
        .zip(&members)
        .filter(|(_, f)| f.counted)
        .map(|(m, f)| MemberCase {
            id: &f.id_number,
            window_net: f.window_net().unwrap_or(Fen::ZERO),
            age: f.age,
            severe: f.severe_disability.clone(),
            tekun_certs: tekun_disability(m, on),
            special: f.special.clone(),
        })
        .collect();
    let outcome = determine(&Case {
        policy,
        standard,
        n,
        w: income.window_total,
        expense,
        expense_records,
        assets: &assets,
        members: cases,
    });
    let flags = flags(household, &memberships, &members, &assets);

    Ok(Findings {
        application_id: household.application_id.clone(),
        region_code: household.region_code.clone(),
        applied_on: on,
        assistance: household.assistance,
        policy: policy.policy_ref(),
        household_kind: kind,
        household_kind_from: kind_from,
        standard,
        household_size: n,
        window,
        members,
        income,
        asset_tests: assets,
        determinations: outcome.determinations,
        benefit: outcome.benefit,
        single_person: outcome.single_person,
        flags,
    })
}

/// Selects the version in force for the household's region on its
/// `applied_on` and evaluates it: [`crate::Error::UnknownRegion`] or
/// [`crate::Error::NoPolicyInForce`] when there is none.
pub fn check(policies: &PolicySet, household: &Household) -> Result<Findings> {
    let version = policies.select(&household.region_code, household.applied_on)?;
    evaluate(household, version)
}
