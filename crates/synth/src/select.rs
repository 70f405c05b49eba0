//! Phase 2b: who asks for assistance (check requests), who receives it
//! (the monitoring roster), and who works in civil affairs (staff and
//! their relatives).
//!
//! Requests are drawn by category so that every determination of the
//! rules happens: 低保 (poor households), 低收入, 支出型 (large medical
//! bills), 单人户 (a severely disabled member of a low-income household),
//! 特困 (elders living alone without income) and ineligible households
//! (hidden assets, or better off). Scenarios put the review flags in:
//! mistyped ids, homophone names, a dead or moved-out member declared, an
//! omitted member, a member registered elsewhere, a staff relative.

use std::collections::BTreeMap;

use chrono::Datelike;
use hedui_model::Date;
use hedui_model::codes::{Assistance, DeathKind, MemberRelation, StaffRelation};

use crate::data::{self, COUNTIES};
use crate::noise;
use crate::people::{Class, Household, Occ, Person, Rel, Role, Status, feature};
use crate::rng::{Rng, domain};
use crate::world::{Employers, YUAN, day, dn};

/// A declared member of a request or roster household.
#[derive(Clone, Debug)]
pub(crate) struct Declared {
    pub(crate) person: u32,
    pub(crate) id_number: String,
    pub(crate) name: String,
    pub(crate) relation: MemberRelation,
}

/// What a request deliberately carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    Clean,
    /// A declared id mistyped (`id_invalid`).
    TypoId,
    /// A declared name with a homophone (`name_mismatch`).
    NameHomophone,
    /// A member who died before the application is declared.
    DeadMember,
    /// A member whose hukou moved out is declared.
    MovedOutMember,
    /// A living member is left out of the declaration.
    OmittedMember,
}

impl Scenario {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Scenario::Clean => "clean",
            Scenario::TypoId => "typo_id",
            Scenario::NameHomophone => "name_homophone",
            Scenario::DeadMember => "dead_member",
            Scenario::MovedOutMember => "moved_out_member",
            Scenario::OmittedMember => "omitted_member",
        }
    }
}

/// One check request.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) household: u32,
    pub(crate) application_id: String,
    pub(crate) authorization_ref: String,
    pub(crate) applied_on: Date,
    pub(crate) assistance: Assistance,
    /// Given on the request (else taken from the applicant's hukou).
    pub(crate) hukou_kind_given: bool,
    pub(crate) category: &'static str,
    pub(crate) scenario: Scenario,
    /// The member the scenario concerns.
    pub(crate) scenario_member: Option<u32>,
    pub(crate) members: Vec<Declared>,
}

/// One roster household.
#[derive(Clone, Debug)]
pub(crate) struct RosterEntry {
    pub(crate) household: u32,
    pub(crate) household_id: String,
    pub(crate) authorization_ref: String,
    pub(crate) assistance: Assistance,
    pub(crate) applied_on: Date,
    pub(crate) since: Date,
    pub(crate) monthly_benefit: i64,
    pub(crate) members: Vec<Declared>,
}

/// A row of the staff register, kept under the relative it names.
#[derive(Clone, Debug)]
pub(crate) struct StaffLink {
    pub(crate) staff: u32,
    pub(crate) unit: String,
    pub(crate) relation: StaffRelation,
}

/// Everything phase 2b decides.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    pub(crate) requests: Vec<Request>,
    pub(crate) roster: Vec<RosterEntry>,
    /// Staff-register rows by the person they name.
    pub(crate) staff: BTreeMap<u32, Vec<StaffLink>>,
    pub(crate) staff_count: usize,
}

fn living_on(p: &Person, d: Date) -> bool {
    p.alive_on(d) && p.status == Status::Active
}

/// The applicant: the head if living and adult, else the first living
/// adult registered here.
fn applicant(persons: &[Person], h: &Household, d: Date) -> Option<usize> {
    h.members().find(|i| {
        let p = &persons[*i];
        living_on(p, d) && p.in_hukou && p.age_on(d) >= 18
    })
}

/// Relation of a member to the applicant, from both relations to the head.
pub(crate) fn relation_to(applicant: Rel, member: Rel) -> MemberRelation {
    use MemberRelation as M;
    use Rel::*;
    match (applicant, member) {
        (Head, Spouse) => M::Spouse,
        (Head, Son | Daughter) => M::Child,
        (Head, Parent) => M::Parent,
        (Head, Grandson | Granddaughter) => M::Grandchild,
        (Head, Sibling) => M::Sibling,
        (Spouse, Head) => M::Spouse,
        (Spouse, Son | Daughter) => M::Child,
        (Spouse, Grandson | Granddaughter) => M::Grandchild,
        (Son | Daughter, Head | Spouse) => M::Parent,
        (Son | Daughter, Son | Daughter) => M::Sibling,
        (Son | Daughter, Parent) => M::Grandparent,
        (Son, DaughterInLaw) | (Daughter, SonInLaw) => M::Spouse,
        (Son | Daughter, Grandson | Granddaughter) => M::Child,
        (DaughterInLaw, Son) | (SonInLaw, Daughter) => M::Spouse,
        (DaughterInLaw | SonInLaw, Grandson | Granddaughter) => M::Child,
        (Parent, Head) => M::Child,
        (Parent, Parent) => M::Spouse,
        (Parent, Son | Daughter) => M::Grandchild,
        (Sibling, Head) => M::Sibling,
        (Grandson | Granddaughter, Head | Spouse) => M::Grandparent,
        (Grandson | Granddaughter, Grandson | Granddaughter) => M::Sibling,
        _ => M::Other,
    }
}

fn declare(persons: &[Person], who: usize, applicant: usize) -> Declared {
    let p = &persons[who];
    Declared {
        person: who as u32,
        id_number: p.id_str().to_owned(),
        name: p.name.clone(),
        relation: if who == applicant {
            MemberRelation::Applicant
        } else {
            relation_to(persons[applicant].rel, p.rel)
        },
    }
}

/// Request categories with their share (percent) of the requests.
const CATEGORIES: [(&str, u32); 7] = [
    ("single_person", 5),
    ("tekun", 10),
    ("rigid_expense", 10),
    ("hidden_assets", 12),
    ("dibao", 35),
    ("low_income", 15),
    ("better_off", 13),
];

fn category(persons: &[Person], h: &Household, as_of: Date) -> Option<usize> {
    let living: Vec<usize> = h
        .members()
        .filter(|i| living_on(&persons[*i], as_of))
        .collect();
    applicant(persons, h, as_of)?;
    let hidden = h.features & feature::HIDDEN != 0;
    let alone_elder = living.len() == 1 && persons[living[0]].age_on(as_of) >= 60;
    let c = match h.class {
        Class::LowIncome if !hidden && h.features & feature::SEVERE_DISABILITY != 0 => 0,
        Class::Poor if !hidden && alone_elder => 1,
        Class::LowIncome | Class::NearPoor if !hidden && h.features & feature::BIG_MEDICAL != 0 => {
            2
        }
        Class::Poor | Class::LowIncome if hidden => 3,
        Class::Poor => 4,
        Class::LowIncome => 5,
        Class::NearPoor => return None,
        _ => 6,
    };
    Some(c)
}

/// Draws `k` of `list` without replacement, in a seeded order.
fn sample(rng: &mut Rng, list: &mut Vec<u32>, k: usize) -> Vec<u32> {
    let k = k.min(list.len());
    for i in 0..k {
        let j = i + rng.index(list.len() - i);
        list.swap(i, j);
    }
    list.drain(..k).collect()
}

/// Largest-remainder split of `total` by percentages.
fn split(total: usize, shares: &[u32]) -> Vec<usize> {
    let sum: u32 = shares.iter().sum();
    let mut out: Vec<usize> = shares
        .iter()
        .map(|s| total * *s as usize / sum as usize)
        .collect();
    let mut rest = total - out.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(total * shares[*i] as usize % sum as usize));
    for i in order {
        if rest == 0 {
            break;
        }
        out[i] += 1;
        rest -= 1;
    }
    if total >= shares.len() {
        // Every category at least once when there is room.
        for i in 0..out.len() {
            if out[i] > 0 {
                continue;
            }
            if let Some(j) = (0..out.len()).max_by_key(|j| out[*j]) {
                out[j] -= 1;
                out[i] += 1;
            }
        }
    }
    out
}

/// Decides requests, roster and staff; modifies persons where a scenario
/// needs it (a member who died or moved out before applying, a roster
/// member who died recently, staff employed by civil affairs).
pub(crate) fn select(
    seed: u64,
    wanted: usize,
    as_of: Date,
    persons: &mut [Person],
    households: &mut [Household],
    employers: &Employers,
) -> Selection {
    let mut sel = Selection::default();
    requests(seed, wanted, as_of, persons, households, &mut sel);
    roster(seed, as_of, persons, households, &mut sel);
    staff(seed, as_of, persons, households, employers, &mut sel);
    sel
}

fn requests(
    seed: u64,
    wanted: usize,
    as_of: Date,
    persons: &mut [Person],
    households: &mut [Household],
    sel: &mut Selection,
) {
    let mut rng = Rng::derive(seed, domain::SELECT, 0);
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); CATEGORIES.len()];
    for (hi, h) in households.iter().enumerate() {
        if let Some(c) = category(persons, h, as_of) {
            lists[c].push(hi as u32);
        }
    }
    let available: usize = lists.iter().map(Vec::len).sum();
    let wanted = wanted.min(available);
    let shares: Vec<u32> = CATEGORIES.iter().map(|c| c.1).collect();
    let targets = split(wanted, &shares);
    let mut picked: Vec<(u32, usize)> = Vec::with_capacity(wanted);
    let mut deficit = 0;
    for (c, t) in targets.iter().enumerate() {
        let got = sample(&mut rng, &mut lists[c], *t);
        deficit += t - got.len();
        picked.extend(got.into_iter().map(|h| (h, c)));
    }
    // Short categories are made up from the largest remaining lists.
    for c in [4, 6, 5, 3, 2, 1, 0] {
        if deficit == 0 {
            break;
        }
        let got = sample(&mut rng, &mut lists[c], deficit);
        deficit -= got.len();
        picked.extend(got.into_iter().map(|h| (h, c)));
    }
    // A household with a member registered elsewhere, if any exists.
    if !picked.is_empty()
        && !picked
            .iter()
            .any(|(h, _)| households[*h as usize].features & feature::OUTSIDER != 0)
    {
        let outsider = (0..CATEGORIES.len()).find_map(|c| {
            lists[c]
                .iter()
                .position(|h| households[*h as usize].features & feature::OUTSIDER != 0)
                .map(|i| (c, i))
        });
        if let Some((c, i)) = outsider {
            let h = lists[c].remove(i);
            let last = picked.len() - 1;
            picked[last] = (h, c);
        }
    }
    // Application dates in the last six months.
    let mut rng = Rng::derive(seed, domain::REQUESTS, 0);
    let last_month = hedui_model::Month::of(as_of);
    let first_day = dn(last_month.plus(-5).first_day());
    let mut dated: Vec<(Date, u32, usize)> = picked
        .into_iter()
        .map(|(h, c)| {
            (
                day(rng.range(i64::from(first_day), i64::from(dn(as_of))) as i32),
                h,
                c,
            )
        })
        .collect();
    dated.sort_unstable();
    // Scenarios: the first six (in a seeded order) forced, the rest by rate.
    let n = dated.len();
    let mut scenario = vec![Scenario::Clean; n];
    let forced = [
        Scenario::TypoId,
        Scenario::NameHomophone,
        Scenario::DeadMember,
        Scenario::MovedOutMember,
        Scenario::OmittedMember,
    ];
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..n {
        let j = i + rng.index(n - i);
        order.swap(i, j);
    }
    let mut used = vec![false; n];
    for s in forced {
        if let Some(&i) = order.iter().find(|i| {
            !used[**i] && applicable(s, persons, &households[dated[**i].1 as usize], dated[**i].0)
        }) {
            scenario[i] = s;
            used[i] = true;
        }
    }
    for i in 0..n {
        if used[i] {
            continue;
        }
        let s = match rng.below(100) {
            0..3 => Scenario::TypoId,
            3..6 => Scenario::NameHomophone,
            6..9 => Scenario::DeadMember,
            9..11 => Scenario::MovedOutMember,
            11..14 => Scenario::OmittedMember,
            _ => Scenario::Clean,
        };
        if applicable(s, persons, &households[dated[i].1 as usize], dated[i].0) {
            scenario[i] = s;
        }
    }
    for ((applied_on, hi, c), s) in dated.into_iter().zip(scenario) {
        let h = households[hi as usize].clone();
        if applicant(persons, &h, applied_on).is_none() {
            // No adult living member could apply on that day.
            continue;
        }
        let region = COUNTIES[usize::from(h.county)].code;
        let seq = sel.requests.len() + 1;
        let mut req = Request {
            household: hi,
            application_id: format!("HD-{region}-{seq:06}"),
            authorization_ref: format!("SQ-{}-{seq:06}", applied_on.year()),
            applied_on,
            assistance: match CATEGORIES[c].0 {
                "tekun" => Assistance::Tekun,
                "rigid_expense" => Assistance::RigidExpense,
                "low_income" if rng.pct(50) => Assistance::LowIncome,
                _ if rng.pct(3) => Assistance::Temporary,
                _ => Assistance::Dibao,
            },
            hukou_kind_given: rng.pct(85),
            category: CATEGORIES[c].0,
            scenario: s,
            scenario_member: None,
            members: Vec::new(),
        };
        prepare_scenario(&mut rng, &mut req, persons, &h);
        let Some(app) = applicant(persons, &h, applied_on) else {
            continue;
        };
        let mut members: Vec<Declared> = h
            .members()
            .filter(|i| {
                living_on(&persons[*i], applied_on) || Some(*i as u32) == req.scenario_member
            })
            .map(|i| declare(persons, i, app))
            .collect();
        // The applicant first.
        members.sort_by_key(|m| m.person != app as u32);
        apply_scenario(&mut rng, &mut req, &mut members, persons);
        req.members = members;
        households[hi as usize].role = Role::Request(sel.requests.len() as u32);
        sel.requests.push(req);
    }
}

/// Whether a scenario can happen in a household.
fn applicable(s: Scenario, persons: &[Person], h: &Household, d: Date) -> bool {
    let Some(app) = applicant(persons, h, d) else {
        return false;
    };
    let others = h
        .members()
        .filter(|i| *i != app && persons[*i].in_hukou && living_on(&persons[*i], d))
        .count();
    match s {
        Scenario::Clean | Scenario::TypoId => true,
        Scenario::NameHomophone => h
            .members()
            .any(|i| living_on(&persons[i], d) && noise::homophone_possible(&persons[i])),
        Scenario::DeadMember | Scenario::MovedOutMember | Scenario::OmittedMember => others >= 1,
    }
}

/// Changes the persons a scenario needs before members are declared.
fn prepare_scenario(rng: &mut Rng, req: &mut Request, persons: &mut [Person], h: &Household) {
    let d = req.applied_on;
    let Some(app) = applicant(persons, h, d) else {
        return;
    };
    let others: Vec<usize> = h
        .members()
        .filter(|i| *i != app && persons[*i].in_hukou && living_on(&persons[*i], d))
        .collect();
    if others.is_empty() {
        return;
    }
    let who = others[rng.index(others.len())];
    match req.scenario {
        Scenario::DeadMember => {
            let p = &mut persons[who];
            let death = day(dn(d) - rng.range(10, 90) as i32).max(p.birth);
            p.death = Some(death);
            p.death_record = Some(DeathKind::Cremation);
            if rng.pct(50) {
                p.status = Status::Deceased;
                p.status_date = Some(death);
            }
            req.scenario_member = Some(who as u32);
        }
        Scenario::MovedOutMember => {
            let p = &mut persons[who];
            p.status = Status::MovedOut;
            p.status_date = Some(day(dn(d) - rng.range(30, 400) as i32).max(p.birth));
            req.scenario_member = Some(who as u32);
        }
        Scenario::OmittedMember => req.scenario_member = Some(who as u32),
        _ => {}
    }
}

/// Changes the declared members as the scenario says.
fn apply_scenario(
    rng: &mut Rng,
    req: &mut Request,
    members: &mut Vec<Declared>,
    persons: &[Person],
) {
    match req.scenario {
        Scenario::TypoId => {
            let i = rng.index(members.len());
            members[i].id_number = noise::typo(&members[i].id_number, rng);
            req.scenario_member = Some(members[i].person);
        }
        Scenario::NameHomophone => {
            let candidates: Vec<usize> = (0..members.len())
                .filter(|i| noise::homophone_possible(&persons[members[*i].person as usize]))
                .collect();
            if let Some(&i) = candidates.get(rng.index(candidates.len().max(1))) {
                let p = &persons[members[i].person as usize];
                if let Some(name) = noise::homophone(p, rng) {
                    members[i].name = name;
                    req.scenario_member = Some(members[i].person);
                }
            }
            if req.scenario_member.is_none() {
                req.scenario = Scenario::Clean;
            }
        }
        Scenario::OmittedMember => {
            if let Some(who) = req.scenario_member {
                members.retain(|m| m.person != who);
            }
        }
        _ => {}
    }
}

fn roster(
    seed: u64,
    as_of: Date,
    persons: &mut [Person],
    households: &mut [Household],
    sel: &mut Selection,
) {
    let mut rng = Rng::derive(seed, domain::ROSTER, 0);
    let mut entries: Vec<(u32, Assistance)> = Vec::new();
    for (hi, h) in households.iter().enumerate() {
        if h.role != Role::None || applicant(persons, h, as_of).is_none() {
            continue;
        }
        let living: Vec<usize> = h
            .members()
            .filter(|i| living_on(&persons[*i], as_of))
            .collect();
        let alone_elder = living.len() == 1 && persons[living[0]].age_on(as_of) >= 60;
        let hidden = h.features & feature::HIDDEN != 0;
        let severe = h.features & feature::SEVERE_DISABILITY != 0;
        let a = match h.class {
            Class::Poor if alone_elder && rng.pct(80) => Some(Assistance::Tekun),
            Class::Poor if hidden && rng.pct(50) => Some(Assistance::Dibao),
            Class::Poor if !hidden && rng.pct(75) => Some(Assistance::Dibao),
            Class::LowIncome if severe && rng.pct(60) => Some(Assistance::SinglePerson),
            Class::LowIncome if rng.pct(30) => Some(Assistance::Monitored),
            Class::NearPoor if rng.pct(4) => Some(Assistance::Monitored),
            // Recipients whose income has since risen.
            Class::NearPoor | Class::Modest if rng.pct(2) => Some(Assistance::Dibao),
            _ => None,
        };
        if let Some(a) = a {
            entries.push((hi as u32, a));
        }
    }
    let base = sel.requests.len();
    for (k, (hi, assistance)) in entries.into_iter().enumerate() {
        let h = households[hi as usize].clone();
        let region = COUNTIES[usize::from(h.county)].code;
        let improved = h.class >= Class::NearPoor && assistance == Assistance::Dibao;
        let since = day(dn(as_of) - rng.range(if improved { 730 } else { 120 }, 2900) as i32);
        let applied_on = day(dn(since) - rng.range(10, 60) as i32);
        let Some(app) = applicant(persons, &h, as_of) else {
            continue;
        };
        let members: Vec<Declared> = {
            let mut m: Vec<Declared> = h
                .members()
                .filter(|i| living_on(&persons[*i], as_of))
                .map(|i| declare(persons, i, app))
                .collect();
            m.sort_by_key(|d| d.person != app as u32);
            m
        };
        let n = members.len() as i64;
        let s = h.standard();
        let specials = members
            .iter()
            .filter(|m| {
                let p = &persons[m.person as usize];
                let age = p.age_on(as_of);
                !(18..60).contains(&age) || p.disability.is_some_and(|d| d.severe())
            })
            .count() as i64;
        let benefit = match assistance {
            Assistance::Tekun => s * 13 / 10,
            Assistance::SinglePerson => s + s / 5,
            Assistance::Monitored => 0,
            _ if improved => s * n * rng.range(30, 80) / 100,
            _ => (s - h.pc_income).max(0) * n + s / 5 * specials,
        };
        let monthly_benefit = (benefit.max(if assistance == Assistance::Monitored {
            0
        } else {
            50 * YUAN
        }) + YUAN / 2)
            / YUAN
            * YUAN;
        let seq = base + k + 1;
        households[hi as usize].role = Role::Roster(sel.roster.len() as u32);
        sel.roster.push(RosterEntry {
            household: hi,
            household_id: format!("DB-{region}-{:06}", k + 1),
            authorization_ref: format!("SQ-{}-{seq:06}", applied_on.year()),
            assistance,
            applied_on,
            since,
            monthly_benefit,
            members,
        });
        // A recent death in some roster households: monitoring's catch.
        if rng.pct(3) {
            let living: Vec<u32> = sel.roster[sel.roster.len() - 1]
                .members
                .iter()
                .map(|m| m.person)
                .collect();
            let who = living[rng.index(living.len())] as usize;
            let p = &mut persons[who];
            let death = day(dn(as_of) - rng.range(3, 75) as i32).max(p.birth);
            p.death = Some(death);
            p.death_record = Some(if h.urban {
                DeathKind::Cremation
            } else {
                DeathKind::Burial
            });
            if rng.pct(40) {
                p.status = Status::Deceased;
                p.status_date = Some(death);
            } else {
                p.status = Status::Active;
                p.status_date = None;
            }
            households[hi as usize].features |= feature::RECENT_DEATH;
        }
    }
}

fn staff(
    seed: u64,
    as_of: Date,
    persons: &mut [Person],
    households: &mut [Household],
    employers: &Employers,
    sel: &mut Selection,
) {
    let mut rng = Rng::derive(seed, domain::STAFF, 0);
    let n = persons.len();
    if n == 0 {
        return;
    }
    let wanted = (n / 2500).clamp(3, 400);
    let step = crate::world::coprime_step(n, &mut rng);
    let start = rng.index(n);
    let mut chosen = Vec::new();
    for k in 0..n {
        if chosen.len() >= wanted {
            break;
        }
        let i = (start + k * step) % n;
        let p = &persons[i];
        let h = &households[p.household as usize];
        let age = p.age_on(as_of);
        if p.in_hukou
            && living_on(p, as_of)
            && (25..=58).contains(&age)
            && p.occ == Occ::Employee
            && h.class >= Class::NearPoor
            && h.role == Role::None
            && p.twin_of.is_none()
        {
            chosen.push(i);
        }
    }
    // Relatives in request and roster households, for some staff.
    let mut assisted: Vec<u32> = Vec::new();
    for r in &sel.requests {
        assisted.extend(r.members.iter().map(|m| m.person));
    }
    let request_people = assisted.len();
    for r in &sel.roster {
        assisted.extend(r.members.iter().map(|m| m.person));
    }
    for (k, &s) in chosen.iter().enumerate() {
        let hi = persons[s].household as usize;
        let county = &COUNTIES[usize::from(households[hi].county)];
        let unit = if rng.pct(65) {
            data::CIVIL_AFFAIRS.replace("{county}", county.name)
        } else {
            let town = county.towns[usize::from(households[hi].town)];
            format!("{}{town}民政办", county.name)
        };
        {
            let p = &mut persons[s];
            p.employer = employers.civil_affairs[usize::from(households[hi].county)];
            p.unemployment_insured = false;
            if p.fund_rate == 0 {
                p.fund_rate = 12;
            }
        }
        households[hi].features |= feature::STAFF;
        let staff_rel = persons[s].rel;
        let members: Vec<usize> = households[hi].members().collect();
        for m in members {
            if !persons[m].alive_on(as_of) {
                continue;
            }
            let relation = if m == s {
                StaffRelation::SelfStaff
            } else {
                match relation_to(staff_rel, persons[m].rel) {
                    MemberRelation::Spouse => StaffRelation::Spouse,
                    MemberRelation::Child => StaffRelation::Child,
                    MemberRelation::Parent => StaffRelation::Parent,
                    MemberRelation::Sibling => StaffRelation::Sibling,
                    MemberRelation::Grandparent => StaffRelation::Grandparent,
                    MemberRelation::Grandchild => StaffRelation::Grandchild,
                    _ => StaffRelation::InLaw,
                }
            };
            sel.staff.entry(m as u32).or_default().push(StaffLink {
                staff: s as u32,
                unit: unit.clone(),
                relation,
            });
        }
        // A sibling or in-law living in an assisted household: the first
        // staff member's in a request household, the second's on the
        // roster, then a quarter of the others.
        let pick = match k {
            0 if request_people > 0 => Some(assisted[rng.index(request_people)]),
            1 if assisted.len() > request_people => {
                Some(assisted[request_people + rng.index(assisted.len() - request_people)])
            }
            _ if !assisted.is_empty() && rng.pct(25) => Some(assisted[rng.index(assisted.len())]),
            _ => None,
        };
        if let Some(r) = pick {
            let relation = if rng.pct(60) {
                StaffRelation::Sibling
            } else {
                StaffRelation::InLaw
            };
            let rh = persons[r as usize].household as usize;
            households[rh].features |= feature::STAFF;
            sel.staff.entry(r).or_default().push(StaffLink {
                staff: s as u32,
                unit,
                relation,
            });
        }
    }
    sel.staff_count = chosen.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_every_category() {
        let s = split(20, &[5, 10, 10, 12, 35, 15, 13]);
        assert_eq!(s.iter().sum::<usize>(), 20);
        assert!(s.iter().all(|x| *x >= 1));
        assert_eq!(split(3, &[50, 50, 1]).iter().sum::<usize>(), 3);
    }

    #[test]
    fn relations_map_through_the_head() {
        assert_eq!(relation_to(Rel::Head, Rel::Son), MemberRelation::Child);
        assert_eq!(relation_to(Rel::Son, Rel::Head), MemberRelation::Parent);
        assert_eq!(relation_to(Rel::Spouse, Rel::Head), MemberRelation::Spouse);
        assert_eq!(
            relation_to(Rel::Son, Rel::Parent),
            MemberRelation::Grandparent
        );
    }
}
