//! Review flags (疑点, rules §6): a report never hides a doubt.

use std::collections::BTreeMap;

use hedui_model::IdNumber;
use hedui_model::name::normalise;

use crate::facts::{Household, LinkFlagKind, RecordRef};
use crate::findings::{AssetTests, Flag, FlagCode, ImputedFrom, MemberFindings};
use crate::membership::Membership;

fn flag(
    code: FlagCode,
    member: Option<&str>,
    mut evidence: Vec<RecordRef>,
    detail: BTreeMap<&'static str, String>,
) -> Flag {
    evidence.sort();
    evidence.dedup();
    Flag {
        code,
        member: member.map(str::to_owned),
        evidence,
        detail,
    }
}

/// Every flag of a household, sorted by code (in the order of rules §6),
/// member, evidence.
pub(crate) fn flags(
    household: &Household,
    memberships: &[Membership],
    members: &[MemberFindings],
    assets: &AssetTests,
) -> Vec<Flag> {
    let mut out = Vec::new();
    for ((m, ms), found) in household.members.iter().zip(memberships).zip(members) {
        let id = Some(m.id_number.as_str());
        if ms.not_in_hukou {
            out.push(flag(FlagCode::NotInHukou, id, Vec::new(), BTreeMap::new()));
        }
        if ms.dead {
            let mut detail = BTreeMap::new();
            let mut dates: Vec<String> = m
                .deaths
                .iter()
                .filter(|d| d.date <= household.applied_on)
                .map(|d| d.date.to_string())
                .collect();
            if let Some(h) = &m.hukou
                && ms.death_evidence.contains(&h.record)
                && let Some(d) = h.status_date
            {
                dates.push(d.to_string());
            }
            dates.sort();
            dates.dedup();
            if !dates.is_empty() {
                detail.insert("dates", dates.join(","));
            }
            out.push(flag(
                FlagCode::DeceasedMemberDeclared,
                id,
                ms.death_evidence.clone(),
                detail,
            ));
        }
        if ms.moved_out
            && let Some(h) = &m.hukou
        {
            let mut detail = BTreeMap::new();
            detail.insert("status", h.status.to_string());
            if let Some(d) = h.status_date {
                detail.insert("status_date", d.to_string());
            }
            out.push(flag(FlagCode::MovedOut, id, vec![h.record.clone()], detail));
        }
        let parsed = IdNumber::parse(&m.id_number);
        if let Err(reason) = &parsed.result {
            let mut detail = BTreeMap::new();
            detail.insert("reason", reason.code().to_owned());
            detail.insert("message", reason.to_string());
            out.push(flag(FlagCode::IdInvalid, id, Vec::new(), detail));
        }
        if let Some(h) = &m.hukou {
            let declared = normalise(&m.declared_name);
            let registered = normalise(&h.name);
            if declared != registered {
                let mut detail = BTreeMap::new();
                detail.insert("declared", declared);
                detail.insert("hukou", registered);
                out.push(flag(
                    FlagCode::NameMismatch,
                    id,
                    vec![h.record.clone()],
                    detail,
                ));
            }
        }
        for (kind, code) in [
            (LinkFlagKind::IdConflict, FlagCode::IdConflict),
            (LinkFlagKind::PossibleMatch, FlagCode::PossibleMatch),
        ] {
            let records: Vec<RecordRef> = m
                .link_flags
                .iter()
                .filter(|f| f.kind == kind)
                .map(|f| f.record.clone())
                .collect();
            if !records.is_empty() {
                out.push(flag(code, id, records, BTreeMap::new()));
            }
        }
        if let Some(income) = &found.income {
            let imputed: Vec<_> = income
                .months
                .iter()
                .filter_map(|mi| mi.imputed.as_ref().map(|i| (mi.month, i)))
                .collect();
            if !imputed.is_empty() {
                let mut detail = BTreeMap::new();
                let months: Vec<String> = imputed.iter().map(|(m, _)| m.to_string()).collect();
                detail.insert("months", months.join(","));
                let mut sources: Vec<&str> = imputed
                    .iter()
                    .map(|(_, i)| match i.from {
                        ImputedFrom::SocialInsuranceBase => "social_insurance_base",
                        ImputedFrom::HousingFundBase => "housing_fund_base",
                    })
                    .collect();
                sources.sort_unstable();
                sources.dedup();
                detail.insert("sources", sources.join(","));
                detail.insert(
                    "note",
                    "imputed from a contribution base: a lead, weaker evidence than a tax record"
                        .to_owned(),
                );
                out.push(flag(
                    FlagCode::ImputedWage,
                    id,
                    imputed.iter().map(|(_, i)| i.record.clone()).collect(),
                    detail,
                ));
            }
        }
        if !m.staff.is_empty() {
            let mut detail = BTreeMap::new();
            detail.insert("note", "the case needs the county's home visit".to_owned());
            out.push(flag(FlagCode::StaffRelative, id, m.staff.clone(), detail));
        }
    }
    for b in &assets.flagged_business {
        let mut detail = BTreeMap::new();
        detail.insert(
            "registered_capital_fen",
            b.registered_capital
                .map_or_else(|| "unknown".to_owned(), |c| c.0.to_string()),
        );
        detail.insert("role", b.role.to_string());
        if let Some(name) = &b.entity_name {
            detail.insert("entity_name", name.clone());
        }
        if let Some(d) = b.established_on {
            detail.insert("established_on", d.to_string());
        }
        detail.insert("over_limit", b.over_limit.to_string());
        out.push(flag(
            FlagCode::Business,
            Some(&b.member),
            vec![b.record.clone()],
            detail,
        ));
    }
    if memberships.iter().all(|m| !m.counted) {
        out.push(flag(
            FlagCode::NoCountedMember,
            None,
            Vec::new(),
            BTreeMap::new(),
        ));
    }
    out.sort_by(|a, b| (a.code, &a.member, &a.evidence).cmp(&(b.code, &b.member, &b.evidence)));
    out
}
