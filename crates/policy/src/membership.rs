//! Who is in the household (rules §1), and the per-member circumstances of
//! rules §5 (age, severe disability, special, unable to work).
//!
//! Every function takes the date it is evaluated on — `applied_on` for a
//! check, the run date for a monitoring run (rules §7) — and nothing else
//! of the request, so both reuse them.

use hedui_model::codes::{DisabilityCategory, HukouKind, HukouStatus, MemberRelation};
use hedui_model::{Date, IdNumber};

use crate::error::{Error, Result};
use crate::facts::{Household, Member, RecordRef};
use crate::findings::{KindSource, SpecialReason};

/// A member's place in the household on a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// Counted in `n`: every declared member who is not dead.
    pub counted: bool,
    /// Dead on the date: hukou `deceased` dated on or before it (or
    /// undated), or a death record dated on or before it.
    pub dead: bool,
    /// The records showing the death (hukou and/or death records), sorted.
    pub death_evidence: Vec<RecordRef>,
    /// No hukou record: counted, flagged `not_in_hukou`.
    pub not_in_hukou: bool,
    /// Hukou status `moved_out` or `cancelled`: counted, flagged `moved_out`.
    pub moved_out: bool,
}

/// A member's membership on `on` (rules §1).
pub fn membership(member: &Member, on: Date) -> Membership {
    let mut death_evidence = Vec::new();
    if let Some(h) = &member.hukou
        && h.status == HukouStatus::Deceased
        && h.status_date.is_none_or(|d| d <= on)
    {
        death_evidence.push(h.record.clone());
    }
    death_evidence.extend(
        member
            .deaths
            .iter()
            .filter(|d| d.date <= on)
            .map(|d| d.record.clone()),
    );
    death_evidence.sort();
    death_evidence.dedup();
    let dead = !death_evidence.is_empty();
    Membership {
        counted: !dead,
        dead,
        death_evidence,
        not_in_hukou: member.hukou.is_none(),
        moved_out: member
            .hukou
            .as_ref()
            .is_some_and(|h| matches!(h.status, HukouStatus::MovedOut | HukouStatus::Cancelled)),
    }
}

/// The household's kind: the request's `hukou_kind`, else the applicant's
/// hukou record's; else [`Error::MissingHukouKind`] (rules §1). The
/// applicant is the first declared member of relation `applicant`.
pub fn household_kind(household: &Household) -> Result<(HukouKind, KindSource)> {
    if let Some(k) = household.hukou_kind {
        return Ok((k, KindSource::Request));
    }
    household
        .members
        .iter()
        .find(|m| m.relation == MemberRelation::Applicant)
        .and_then(|m| m.hukou.as_ref())
        .and_then(|h| h.hukou_kind)
        .map(|k| (k, KindSource::ApplicantHukou))
        .ok_or_else(|| Error::MissingHukouKind {
            application_id: household.application_id.clone(),
        })
}

/// The birth date used for ages: hukou's, else the one the (valid) id
/// number encodes.
pub fn birth_date(member: &Member) -> Option<Date> {
    member
        .hukou
        .as_ref()
        .and_then(|h| h.birth_date)
        .or_else(|| {
            IdNumber::parse(&member.id_number)
                .id()
                .map(|id| id.birth_date())
        })
}

/// Age on `on` (reached on the birthday), when the birth date is known.
pub fn age_on(member: &Member, on: Date) -> Option<i32> {
    birth_date(member).map(|b| hedui_model::time::age_on(b, on))
}

/// The certificates that make a member **severely disabled** on `on`
/// (rules §5): valid on `on`, and grade 1 or 2 of any category, or grade 3
/// of category intellectual or mental. Empty: not severely disabled.
pub fn severe_disability(member: &Member, on: Date) -> Vec<RecordRef> {
    let mut v: Vec<RecordRef> = member
        .disability
        .iter()
        .filter(|c| c.valid_on(on))
        .filter(|c| {
            matches!(c.grade, 1 | 2)
                || (c.grade == 3
                    && matches!(
                        c.category,
                        DisabilityCategory::Intellectual | DisabilityCategory::Mental
                    ))
        })
        .map(|c| c.record.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The certificates that make a member unable to work for 特困 (rules §5,
/// 特困人员认定办法 2021 Art. 5): valid on `on`, and intellectual or
/// mental grade 1–3, physical grade 1–2, or visual grade 1. No other
/// category.
pub fn tekun_disability(member: &Member, on: Date) -> Vec<RecordRef> {
    let mut v: Vec<RecordRef> = member
        .disability
        .iter()
        .filter(|c| c.valid_on(on))
        .filter(|c| match c.category {
            DisabilityCategory::Intellectual | DisabilityCategory::Mental => {
                (1..=3).contains(&c.grade)
            }
            DisabilityCategory::Physical => (1..=2).contains(&c.grade),
            DisabilityCategory::Visual => c.grade == 1,
            _ => false,
        })
        .map(|c| c.record.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Why a counted member is special on `on` (rules §5): aged 60 or more,
/// under 18, severely disabled. Empty: not special.
pub fn special_reasons(member: &Member, on: Date) -> Vec<SpecialReason> {
    let mut v = Vec::new();
    if let Some(age) = age_on(member, on) {
        if age >= 60 {
            v.push(SpecialReason::Aged60OrMore);
        }
        if age < 18 {
            v.push(SpecialReason::Under18);
        }
    }
    if !severe_disability(member, on).is_empty() {
        v.push(SpecialReason::SeverelyDisabled);
    }
    v
}
