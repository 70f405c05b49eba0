//! The small tables: requests, roster and the truth about persons,
//! households and requests.

use std::collections::HashMap;
use std::path::Path;

use arrow::datatypes::SchemaRef;
use hedui_model::CodeList;
use hedui_model::codes::{Gender, HukouKind, HukouStatus};

use crate::config::CityConfig;
use crate::data::COUNTIES;
use crate::error::Result;
use crate::people::{Household, Person, Role, Status, feature};
use crate::rng::{Rng, domain};
use crate::select::Selection;
use crate::tables::{Builder, T};
use crate::write::{BATCH_ROWS, Sink, TableSummary};

fn code<C: CodeList>(zh: bool, c: C) -> &'static str {
    if zh { c.label_zh() } else { c.code() }
}

fn kind(urban: bool) -> HukouKind {
    if urban {
        HukouKind::Urban
    } else {
        HukouKind::Rural
    }
}

/// Writes one table from a row-producing closure, in batches.
fn table(
    out: &Path,
    t: T,
    schema: SchemaRef,
    csv: bool,
    rows: usize,
    mut fill: impl FnMut(usize, &mut Builder),
) -> Result<TableSummary> {
    let mut sink = Sink::create(out, t, schema.clone(), csv)?;
    let mut b = Builder::new(schema, t);
    for i in 0..rows {
        fill(i, &mut b);
        if b.rows() >= BATCH_ROWS {
            sink.push(b.finish())?;
        }
    }
    sink.push(b.finish())?;
    sink.finish(out)
}

pub(crate) fn household_key(hi: usize) -> String {
    format!("HH{:08}", hi + 1)
}

/// `requests/*`, `roster/*` and `truth/requests`.
pub(crate) fn requests_and_roster(
    out: &Path,
    cfg: &CityConfig,
    persons: &[Person],
    households: &[Household],
    sel: &Selection,
) -> Result<(Vec<TableSummary>, u64)> {
    let mut rng = Rng::derive(cfg.seed, domain::REQUESTS, 1);
    let label = cfg.noise.chinese_label;
    let mut labelled = 0u64;
    let meta = HashMap::new;
    let mut res = Vec::new();
    res.push(table(
        out,
        T::Applications,
        T::Applications.schema(meta()),
        cfg.csv,
        sel.requests.len(),
        |i, b| {
            let r = &sel.requests[i];
            let h = &households[r.household as usize];
            let zh = rng.ppm(label);
            labelled += u64::from(zh);
            b.row()
                .s(&r.application_id)
                .s(COUNTIES[usize::from(h.county)].code)
                .so(r.hukou_kind_given.then(|| code(zh, kind(h.urban))))
                .s(code(zh, r.assistance))
                .d(Some(r.applied_on))
                .s(&r.authorization_ref);
        },
    )?);
    let members: Vec<(usize, usize)> = sel
        .requests
        .iter()
        .enumerate()
        .flat_map(|(i, r)| (0..r.members.len()).map(move |k| (i, k)))
        .collect();
    res.push(table(
        out,
        T::Members,
        T::Members.schema(meta()),
        cfg.csv,
        members.len(),
        |i, b| {
            let (ri, k) = members[i];
            let r = &sel.requests[ri];
            let m = &r.members[k];
            let zh = rng.ppm(label);
            labelled += u64::from(zh);
            b.row()
                .s(&r.application_id)
                .so(Some(&m.id_number))
                .s(&m.name)
                .s(code(zh, m.relation));
        },
    )?);
    res.push(table(
        out,
        T::RosterHouseholds,
        T::RosterHouseholds.schema(meta()),
        cfg.csv,
        sel.roster.len(),
        |i, b| {
            let r = &sel.roster[i];
            let h = &households[r.household as usize];
            let zh = rng.ppm(label);
            labelled += u64::from(zh);
            let given = rng.pct(90);
            b.row()
                .s(&r.household_id)
                .s(COUNTIES[usize::from(h.county)].code)
                .so(given.then(|| code(zh, kind(h.urban))))
                .s(code(zh, r.assistance))
                .d(Some(r.applied_on))
                .s(&r.authorization_ref)
                .d(Some(r.since))
                .m(Some(r.monthly_benefit));
        },
    )?);
    let members: Vec<(usize, usize)> = sel
        .roster
        .iter()
        .enumerate()
        .flat_map(|(i, r)| (0..r.members.len()).map(move |k| (i, k)))
        .collect();
    res.push(table(
        out,
        T::RosterMembers,
        T::RosterMembers.schema(meta()),
        cfg.csv,
        members.len(),
        |i, b| {
            let (ri, k) = members[i];
            let r = &sel.roster[ri];
            let m = &r.members[k];
            let zh = rng.ppm(label);
            labelled += u64::from(zh);
            b.row()
                .s(&r.household_id)
                .so(Some(&m.id_number))
                .s(&m.name)
                .s(code(zh, m.relation));
        },
    )?);
    res.push(table(
        out,
        T::TruthRequests,
        T::TruthRequests.schema(meta()),
        cfg.csv,
        sel.requests.len(),
        |i, b| {
            let r = &sel.requests[i];
            b.row()
                .s(&r.application_id)
                .s(&household_key(r.household as usize))
                .s(r.category)
                .s(r.scenario.code())
                .so(r.scenario_member.map(|p| persons[p as usize].id_str()));
        },
    )?);
    Ok((res, labelled))
}

/// `truth/persons` and `truth/households`.
pub(crate) fn truth_people(
    out: &Path,
    cfg: &CityConfig,
    persons: &[Person],
    households: &[Household],
    sel: &Selection,
) -> Result<Vec<TableSummary>> {
    let as_of = cfg.as_of;
    let persons_t = table(
        out,
        T::TruthPersons,
        T::TruthPersons.schema(HashMap::new()),
        cfg.csv,
        persons.len(),
        |i, b| {
            let p = &persons[i];
            let h = &households[p.household as usize];
            let region = if p.in_hukou {
                COUNTIES[usize::from(h.county)].code
            } else {
                p.birth_region
            };
            let status = p.in_hukou.then_some(match p.status {
                Status::Active => HukouStatus::Active,
                Status::Deceased => HukouStatus::Deceased,
                Status::MovedOut => HukouStatus::MovedOut,
                Status::Cancelled => HukouStatus::Cancelled,
            });
            let gender = if p.female {
                Gender::Female
            } else {
                Gender::Male
            };
            b.row()
                .s(p.id_str())
                .s(&p.name)
                .s(gender.code())
                .d(Some(p.birth))
                .so(Some(region))
                .s(&household_key(p.household as usize))
                .s(p.rel.label())
                .so(p.in_hukou.then(|| kind(h.urban).code()))
                .so(status.map(|s| s.code()))
                .d(p.status_date)
                .d(p.death)
                .b(p.in_hukou)
                .s(p.occ.code())
                .so(p.twin_of.map(|t| persons[t as usize].id_str()))
                .b(p.disability.is_some_and(|d| d.severe()));
        },
    )?;
    let households_t = table(
        out,
        T::TruthHouseholds,
        T::TruthHouseholds.schema(HashMap::new()),
        cfg.csv,
        households.len(),
        |i, b| {
            let h = &households[i];
            let ids: Vec<&str> = h.members().map(|p| persons[p].id_str()).collect();
            let living = h
                .members()
                .filter(|p| persons[*p].alive_on(as_of) && persons[*p].status == Status::Active)
                .count();
            let features: Vec<&str> = feature::ALL
                .iter()
                .filter(|(f, _)| h.features & f != 0)
                .map(|(_, n)| *n)
                .collect();
            let (role, role_id) = match h.role {
                Role::None => ("none", None),
                Role::Request(r) => (
                    "request",
                    Some(sel.requests[r as usize].application_id.as_str()),
                ),
                Role::Roster(r) => ("roster", Some(sel.roster[r as usize].household_id.as_str())),
            };
            b.row()
                .s(&household_key(i))
                .s(&format!("{:09}", i + 1))
                .s(COUNTIES[usize::from(h.county)].code)
                .s(kind(h.urban).code())
                .i(Some(i32::from(h.len)))
                .i(Some(living as i32))
                .s(&ids.join(","))
                .s(h.class.code())
                .m(Some(h.pc_income))
                .s(&features.join(","))
                .s(role)
                .so(role_id);
        },
    )?;
    Ok(vec![persons_t, households_t])
}
