//! Phase 1: households and persons, with their life events and economics.
//!
//! Each chunk of persons is generated from its own random stream, so chunks
//! can be generated in parallel and the city is the same on any number of
//! threads. Ids are not assigned here (they need a city-wide pass over
//! sequence codes, see `ids.rs`).

use chrono::Datelike;
use hedui_model::codes::{DeathKind, DisabilityCategory};
use hedui_model::{Date, Month};

use crate::data::{self, COUNTIES, Era, vocabulary};
use crate::rng::{Rng, domain};
use crate::world::{self, Employers, YUAN, day, dn, standard};

/// Persons per generation chunk.
pub(crate) const CHUNK: usize = 2048;

/// The income class a household was designed with, by per-capita monthly
/// net income `P` against the standard `S`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// `P < S`.
    Poor,
    /// `S ≤ P < 1.5 S`.
    LowIncome,
    /// `1.5 S ≤ P < 2.5 S`.
    NearPoor,
    /// `2.5 S ≤ P < 5 S`.
    Modest,
    /// `5 S ≤ P < 12 S`.
    Comfortable,
    /// `P ≥ 12 S`.
    Wealthy,
}

impl Class {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Class::Poor => "poor",
            Class::LowIncome => "low_income",
            Class::NearPoor => "near_poor",
            Class::Modest => "modest",
            Class::Comfortable => "comfortable",
            Class::Wealthy => "wealthy",
        }
    }

    /// The class of a per-capita income (fen) against a standard.
    pub(crate) fn of(pc: i64, s: i64) -> Class {
        match pc {
            p if p < s => Class::Poor,
            p if 2 * p < 3 * s => Class::LowIncome,
            p if 2 * p < 5 * s => Class::NearPoor,
            p if p < 5 * s => Class::Modest,
            p if p < 12 * s => Class::Comfortable,
            _ => Class::Wealthy,
        }
    }

    /// Index for per-class probability tables.
    pub(crate) fn i(self) -> usize {
        self as usize
    }
}

/// Relation to the head of the registered household (与户主关系).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rel {
    Head,
    Spouse,
    Son,
    Daughter,
    Parent,
    Grandson,
    Granddaughter,
    Sibling,
    DaughterInLaw,
    SonInLaw,
}

impl Rel {
    /// As the hukou registry writes it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Rel::Head => "户主",
            Rel::Spouse => "配偶",
            Rel::Son => "子",
            Rel::Daughter => "女",
            Rel::Parent => "父母",
            Rel::Grandson => "孙子",
            Rel::Granddaughter => "孙女",
            Rel::Sibling => "兄弟姐妹",
            Rel::DaughterInLaw => "儿媳",
            Rel::SonInLaw => "女婿",
        }
    }

    /// The generation relative to the head (head = 0, children = 1).
    pub(crate) fn generation(self) -> i32 {
        match self {
            Rel::Parent => -1,
            Rel::Head | Rel::Spouse | Rel::Sibling => 0,
            Rel::Son | Rel::Daughter | Rel::DaughterInLaw | Rel::SonInLaw => 1,
            Rel::Grandson | Rel::Granddaughter => 2,
        }
    }
}

/// Hukou status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    Deceased,
    MovedOut,
    Cancelled,
}

/// What a person does for a living, which decides their records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Occ {
    /// Under 6.
    Child,
    /// At school or university.
    Student,
    /// Employed with withholding and social insurance.
    Employee,
    /// Flexible employment: contributes on their own at the minimum base,
    /// no tax records.
    Flexible,
    /// Casual labour paid now and then (劳务报酬).
    Informal,
    /// Farming: no departmental income records.
    Farmer,
    /// At home, no income.
    HomeMaker,
    /// Out of work.
    Unemployed,
    /// Runs a sole proprietorship (经营所得).
    SoleProprietor,
    /// Retired with an employee pension.
    Retired,
    /// Elderly with a resident basic pension.
    Elder,
    /// Unable to work (severe disability).
    Disabled,
}

impl Occ {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Occ::Child => "child",
            Occ::Student => "student",
            Occ::Employee => "employee",
            Occ::Flexible => "flexible",
            Occ::Informal => "informal",
            Occ::Farmer => "farmer",
            Occ::HomeMaker => "home_maker",
            Occ::Unemployed => "unemployed",
            Occ::SoleProprietor => "sole_proprietor",
            Occ::Retired => "retired",
            Occ::Elder => "elder",
            Occ::Disabled => "disabled",
        }
    }
}

/// A disability certificate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Disability {
    pub(crate) category: DisabilityCategory,
    pub(crate) grade: u8,
    pub(crate) issued: Date,
    pub(crate) valid_until: Option<Date>,
    /// An earlier certificate, expired, when this one is a renewal.
    pub(crate) previous: Option<Date>,
}

impl Disability {
    /// Severely disabled per rules §5 (grade 1–2, or 3 intellectual/mental).
    pub(crate) fn severe(&self) -> bool {
        self.grade <= 2
            || (self.grade == 3
                && matches!(
                    self.category,
                    DisabilityCategory::Intellectual | DisabilityCategory::Mental
                ))
    }
}

/// Household feature flags.
pub(crate) mod feature {
    pub(crate) const HIDDEN_CAR: u16 = 1;
    pub(crate) const HIDDEN_DEPOSITS: u16 = 1 << 1;
    pub(crate) const SECOND_HOME: u16 = 1 << 2;
    pub(crate) const BIG_MEDICAL: u16 = 1 << 3;
    pub(crate) const SEVERE_DISABILITY: u16 = 1 << 4;
    pub(crate) const OUTSIDER: u16 = 1 << 5;
    pub(crate) const MINORITY: u16 = 1 << 6;
    pub(crate) const TWIN: u16 = 1 << 7;
    pub(crate) const STAFF: u16 = 1 << 8;
    pub(crate) const RECENT_DEATH: u16 = 1 << 9;

    pub(crate) const ALL: [(u16, &str); 10] = [
        (HIDDEN_CAR, "hidden_car"),
        (HIDDEN_DEPOSITS, "hidden_deposits"),
        (SECOND_HOME, "second_home"),
        (BIG_MEDICAL, "big_medical"),
        (SEVERE_DISABILITY, "severe_disability"),
        (OUTSIDER, "outsider"),
        (MINORITY, "minority"),
        (TWIN, "trap_twin"),
        (STAFF, "staff"),
        (RECENT_DEATH, "recent_death"),
    ];
    pub(crate) const HIDDEN: u16 = HIDDEN_CAR | HIDDEN_DEPOSITS | SECOND_HOME;
}

/// A person of the city.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    /// The 18-character id (set by `ids::assign`).
    pub(crate) id: [u8; 18],
    pub(crate) name: String,
    /// Characters of the surname; 0 for a minority name with a middle dot.
    pub(crate) surname_len: u8,
    pub(crate) female: bool,
    pub(crate) birth: Date,
    /// Region code of the id (where the person was first registered).
    pub(crate) birth_region: &'static str,
    /// Global index of the household.
    pub(crate) household: u32,
    pub(crate) rel: Rel,
    /// In this city's hukou registry (false for spouses registered
    /// elsewhere).
    pub(crate) in_hukou: bool,
    pub(crate) status: Status,
    pub(crate) status_date: Option<Date>,
    pub(crate) death: Option<Date>,
    pub(crate) death_record: Option<DeathKind>,
    pub(crate) occ: Occ,
    /// Monthly gross at the end of the history: wage, labour pay in a month
    /// worked, or business income.
    pub(crate) wage: i64,
    pub(crate) employer: u32,
    /// Yearly raise, per mille.
    pub(crate) raise: u16,
    /// Months of history `[start, end)` in work.
    pub(crate) spell: (u16, u16),
    /// Unemployment-benefit months after the spell ends.
    pub(crate) benefit_months: u8,
    /// Percent of months with labour pay (informal work).
    pub(crate) work_pct: u8,
    /// Housing-fund rate, percent of the base for each side (0: none).
    pub(crate) fund_rate: u8,
    /// Unemployment insurance paid.
    pub(crate) unemployment_insured: bool,
    /// Monthly pension (employee or resident), fen.
    pub(crate) pension: i64,
    pub(crate) disability: Option<Disability>,
    /// Global index of the trap twin.
    pub(crate) twin_of: Option<u32>,
}

impl Person {
    pub(crate) fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or_default()
    }

    pub(crate) fn age_on(&self, d: Date) -> i32 {
        hedui_model::time::age_on(self.birth, d)
    }

    /// Alive on `d`.
    pub(crate) fn alive_on(&self, d: Date) -> bool {
        self.death.is_none_or(|x| x > d)
    }

    /// The last day the person lived in the city (death or moving out).
    pub(crate) fn left_on(&self) -> Option<Date> {
        match (self.death, self.status) {
            (Some(d), _) => Some(d),
            (None, Status::MovedOut | Status::Cancelled) => self.status_date,
            _ => None,
        }
    }

    /// Present in the city in month `m` (the whole month before leaving).
    pub(crate) fn present_in(&self, m: Month) -> bool {
        self.left_on().is_none_or(|d| Month::of(d) > m) && self.birth <= m.last_day()
    }

    pub(crate) fn given_name(&self) -> &str {
        let skip: usize = self
            .name
            .chars()
            .take(usize::from(self.surname_len))
            .map(char::len_utf8)
            .sum();
        &self.name[skip..]
    }
}

/// A household (共同生活家庭), registered under one 户号.
#[derive(Clone, Debug)]
pub(crate) struct Household {
    pub(crate) county: u8,
    pub(crate) town: u8,
    pub(crate) urban: bool,
    pub(crate) class: Class,
    pub(crate) features: u16,
    /// Global index of its first person; members are contiguous.
    pub(crate) first: u32,
    pub(crate) len: u8,
    /// Designed per-capita monthly net income, fen.
    pub(crate) pc_income: i64,
    /// Its part in requests or the roster (set in phase 2).
    pub(crate) role: Role,
}

impl Household {
    pub(crate) fn members(&self) -> std::ops::Range<usize> {
        self.first as usize..self.first as usize + usize::from(self.len)
    }

    pub(crate) fn standard(&self) -> i64 {
        standard(self.urban)
    }
}

/// A household's part in the check requests and the roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    None,
    /// Index into the requests.
    Request(u32),
    /// Index into the roster.
    Roster(u32),
}

/// The persons and households of one chunk; household `first` indexes are
/// local until the chunks are joined.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    pub(crate) households: Vec<Household>,
    pub(crate) persons: Vec<Person>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Archetype {
    SingleElder,
    ElderCouple,
    YoungSingle,
    Couple,
    Nuclear,
    ThreeGen,
    SingleParent,
    Skipped,
    Extended,
    Siblings,
}

const ARCHETYPES: [Archetype; 10] = [
    Archetype::SingleElder,
    Archetype::ElderCouple,
    Archetype::YoungSingle,
    Archetype::Couple,
    Archetype::Nuclear,
    Archetype::ThreeGen,
    Archetype::SingleParent,
    Archetype::Skipped,
    Archetype::Extended,
    Archetype::Siblings,
];
const ARCH_URBAN: [u32; 10] = [7, 11, 10, 12, 38, 9, 6, 2, 3, 2];
const ARCH_RURAL: [u32; 10] = [6, 9, 6, 8, 30, 14, 4, 9, 11, 3];

/// A member before its name and economics.
struct Proto {
    rel: Rel,
    female: bool,
    age: i32,
    surname: String,
    /// Uyghur-style: the father's given name.
    patronym: Option<&'static str>,
    outsider: bool,
    /// Died years before the history (a widowed elder's spouse).
    long_dead: bool,
}

/// Generates one chunk of `quota` persons.
pub(crate) fn generate_chunk(
    seed: u64,
    chunk: usize,
    quota: usize,
    as_of: Date,
    employers: &Employers,
) -> Chunk {
    let mut rng = Rng::derive(seed, domain::PEOPLE, chunk as u64);
    let mut out = Chunk::default();
    let county_weights: Vec<u32> = COUNTIES.iter().map(|c| c.weight).collect();
    while out.persons.len() < quota {
        let left = quota - out.persons.len();
        household(&mut rng, left, as_of, &county_weights, employers, &mut out);
    }
    out
}

fn surname(rng: &mut Rng) -> String {
    vocabulary().surnames.draw(rng).to_owned()
}

fn age_between(rng: &mut Rng, lo: i32, hi: i32) -> i32 {
    // Triangular-ish: the mean of two uniforms.
    let a = rng.range(i64::from(lo), i64::from(hi));
    let b = rng.range(i64::from(lo), i64::from(hi));
    ((a + b) / 2) as i32
}

fn household(
    rng: &mut Rng,
    left: usize,
    as_of: Date,
    county_weights: &[u32],
    employers: &Employers,
    out: &mut Chunk,
) {
    let county = rng.weighted(county_weights);
    let c = &COUNTIES[county];
    let town = rng.index(c.towns.len()) as u8;
    let urban = rng.pct(c.urban_pct);
    let arch = ARCHETYPES[rng.weighted(if urban { &ARCH_URBAN } else { &ARCH_RURAL })];
    let minority = rng.ppm(3_000);
    let mut protos = members(rng, arch);
    protos.truncate(left.max(1));
    let mut features = 0u16;
    if minority {
        features |= feature::MINORITY;
    }
    // A spouse registered in another province now and then.
    if protos.iter().any(|p| p.rel == Rel::Spouse) && rng.pct(3) {
        for p in protos.iter_mut().filter(|p| p.rel == Rel::Spouse) {
            p.outsider = true;
            features |= feature::OUTSIDER;
        }
    }
    let first = out.persons.len() as u32;
    let hh_index = out.households.len() as u32;
    let head_given = if minority {
        Some(if protos[0].female {
            *rng.pick(data::MINORITY_FEMALE)
        } else {
            *rng.pick(data::MINORITY_MALE)
        })
    } else {
        None
    };
    // The father of the head's children: the male of head and spouse.
    let father_given = head_given;
    for p in &protos {
        let birth = birth_date(rng, as_of, p.age);
        let (name, surname_len) = if minority {
            let own = if p.rel == Rel::Head {
                head_given.unwrap_or("买买提")
            } else if p.female {
                *rng.pick(data::MINORITY_FEMALE)
            } else {
                *rng.pick(data::MINORITY_MALE)
            };
            let patronym = match p.rel {
                Rel::Son | Rel::Daughter => father_given.unwrap_or("艾力"),
                _ => p.patronym.unwrap_or_else(|| *rng.pick(data::MINORITY_MALE)),
            };
            (format!("{own}·{patronym}"), 0u8)
        } else {
            let era = Era::of_year(birth.year());
            let given = vocabulary().given(p.female, era).draw(rng);
            (
                format!("{}{given}", p.surname),
                p.surname.chars().count() as u8,
            )
        };
        let birth_region = if p.outsider {
            vocabulary().outside.draw(rng)
        } else if rng.pct(92) {
            c.code
        } else if rng.pct(75) {
            COUNTIES[rng.index(COUNTIES.len())].code
        } else {
            vocabulary().outside.draw(rng)
        };
        out.persons.push(Person {
            id: [b'0'; 18],
            name,
            surname_len,
            female: p.female,
            birth,
            birth_region,
            household: hh_index,
            rel: p.rel,
            in_hukou: !p.outsider,
            status: Status::Active,
            status_date: None,
            death: None,
            death_record: None,
            occ: Occ::HomeMaker,
            wage: 0,
            employer: 0,
            raise: 0,
            spell: (0, 0),
            benefit_months: 0,
            work_pct: 0,
            fund_rate: 0,
            unemployment_insured: false,
            pension: 0,
            disability: None,
            twin_of: None,
        });
    }
    let members = first as usize..out.persons.len();
    let long_dead: Vec<bool> = protos.iter().map(|p| p.long_dead).collect();
    life_events(
        rng,
        urban,
        as_of,
        &mut out.persons[members.clone()],
        &long_dead,
    );
    for p in &mut out.persons[members.clone()] {
        p.disability = disability(rng, p, as_of);
    }
    let class_w: [u32; 6] = match (urban, arch) {
        (_, Archetype::SingleElder) => [30, 20, 15, 25, 8, 2],
        (_, Archetype::Skipped) => [20, 20, 20, 30, 9, 1],
        (true, _) => [4, 6, 10, 38, 32, 10],
        (false, _) => [9, 9, 14, 40, 23, 5],
    };
    let mut class = [
        Class::Poor,
        Class::LowIncome,
        Class::NearPoor,
        Class::Modest,
        Class::Comfortable,
        Class::Wealthy,
    ][rng.weighted(&class_w)];
    if class == Class::LowIncome && rng.pct(12) {
        // A household of the single-person rule: a severely disabled member.
        let ms: Vec<usize> = (members.start..members.end)
            .filter(|i| out.persons[*i].alive_on(as_of))
            .collect();
        if !ms.is_empty() {
            let i = ms[rng.index(ms.len())];
            let issued = day(dn(as_of) - rng.range(100, 3000) as i32);
            out.persons[i].disability = Some(Disability {
                category: *rng.pick(&[
                    DisabilityCategory::Physical,
                    DisabilityCategory::Intellectual,
                    DisabilityCategory::Visual,
                    DisabilityCategory::Multiple,
                ]),
                grade: rng.range(1, 2) as u8,
                issued,
                valid_until: Some(day(dn(issued) + 3652)),
                previous: None,
            });
        }
    }
    if out.persons[members.clone()]
        .iter()
        .any(|p| p.disability.is_some_and(|d| d.severe()))
    {
        features |= feature::SEVERE_DISABILITY;
    }
    let pc = economics(
        rng,
        &mut class,
        urban,
        county,
        as_of,
        employers,
        &mut out.persons[members.clone()],
    );
    if class <= Class::LowIncome && rng.pct(15) {
        features |= [
            feature::HIDDEN_CAR,
            feature::HIDDEN_CAR,
            feature::HIDDEN_DEPOSITS,
            feature::SECOND_HOME,
        ][rng.index(4)];
    }
    let medical_pct = if matches!(class, Class::LowIncome | Class::NearPoor) {
        12
    } else {
        2
    };
    if rng.pct(medical_pct) {
        features |= feature::BIG_MEDICAL;
    }
    out.households.push(Household {
        county: county as u8,
        town,
        urban,
        class,
        features,
        first,
        len: (out.persons.len() - first as usize) as u8,
        pc_income: pc,
        role: Role::None,
    });
}

fn birth_date(rng: &mut Rng, as_of: Date, age: i32) -> Date {
    // Born between `age + 1` years and `age` years before `as_of`.
    let y = as_of.year() - age;
    let latest = as_of
        .with_year(y)
        .unwrap_or_else(|| day(dn(as_of) - 365 * age));
    day(dn(latest) - rng.range(0, 364) as i32)
}

fn members(rng: &mut Rng, arch: Archetype) -> Vec<Proto> {
    let mut v: Vec<Proto> = Vec::with_capacity(6);
    let mk = |rel, female, age: i32, surname: String| Proto {
        rel,
        female,
        age: age.max(0),
        surname,
        patronym: None,
        outsider: false,
        long_dead: false,
    };
    let head_male_pct = 80;
    match arch {
        Archetype::SingleElder => {
            let female = rng.pct(60);
            let age = age_between(rng, 62, 95);
            v.push(mk(Rel::Head, female, age, surname(rng)));
            if rng.pct(45) {
                // Widowed: the late spouse stays on the register.
                let sa = (age + rng.range(-3, 6) as i32).max(55);
                let mut spouse = mk(Rel::Spouse, !female, sa, surname(rng));
                spouse.long_dead = true;
                v.push(spouse);
            }
        }
        Archetype::ElderCouple => {
            let age = age_between(rng, 60, 90);
            v.push(mk(Rel::Head, false, age, surname(rng)));
            let sa = age - rng.range(-2, 6) as i32;
            v.push(mk(Rel::Spouse, true, sa.max(55), surname(rng)));
        }
        Archetype::YoungSingle => {
            let female = rng.pct(45);
            v.push(mk(
                Rel::Head,
                female,
                age_between(rng, 19, 45),
                surname(rng),
            ));
        }
        Archetype::Couple => {
            // Young couples, and empty nests whose children left.
            let age = if rng.pct(40) {
                age_between(rng, 22, 36)
            } else {
                age_between(rng, 44, 68)
            };
            v.push(mk(Rel::Head, false, age, surname(rng)));
            v.push(mk(
                Rel::Spouse,
                true,
                (age - rng.range(-2, 5) as i32).max(20),
                surname(rng),
            ));
        }
        Archetype::Nuclear
        | Archetype::ThreeGen
        | Archetype::SingleParent
        | Archetype::Extended
        | Archetype::Siblings => {
            let head_female = if arch == Archetype::SingleParent {
                rng.pct(70)
            } else {
                !rng.pct(head_male_pct)
            };
            let (lo, hi) = match arch {
                Archetype::Extended => (55, 82),
                Archetype::ThreeGen => (30, 55),
                Archetype::Siblings => (22, 60),
                _ => (26, 62),
            };
            let age = age_between(rng, lo, hi);
            let head_surname = surname(rng);
            v.push(mk(Rel::Head, head_female, age, head_surname.clone()));
            if arch == Archetype::Siblings {
                let f = rng.pct(50);
                v.push(mk(
                    Rel::Sibling,
                    f,
                    (age + rng.range(-10, 10) as i32).max(18),
                    head_surname,
                ));
                return v;
            }
            let mut father_surname = head_surname.clone();
            let mut mother_age = age;
            if arch != Archetype::SingleParent {
                let spouse_surname = surname(rng);
                let sa = if head_female {
                    age + rng.range(-1, 5) as i32
                } else {
                    age - rng.range(-2, 5) as i32
                };
                if head_female {
                    father_surname = spouse_surname.clone();
                } else {
                    mother_age = sa;
                }
                v.push(mk(Rel::Spouse, !head_female, sa.max(20), spouse_surname));
            }
            let kids = if rng.pct(45) { 2 } else { 1 };
            let first_gap = rng.range(22, 34) as i32;
            let mut child_age = mother_age - first_gap;
            for k in 0..kids {
                if child_age < 0 {
                    break;
                }
                let female = rng.pct(48);
                let child_surname = if rng.pct(96) {
                    father_surname.clone()
                } else {
                    v[0].surname.clone()
                };
                let rel = if female { Rel::Daughter } else { Rel::Son };
                v.push(mk(rel, female, child_age, child_surname));
                if arch == Archetype::Extended && k == 0 {
                    // The married child and their family live with the
                    // head: mostly a son and 儿媳, sometimes (入赘) a
                    // daughter and 女婿, whose children take the head's
                    // family name.
                    let daughter_line = rng.pct(20);
                    let child = v.len() - 1;
                    v[child].female = daughter_line;
                    v[child].rel = if daughter_line {
                        Rel::Daughter
                    } else {
                        Rel::Son
                    };
                    v[child].surname = father_surname.clone();
                    let child_age = v[child].age.max(22);
                    v[child].age = child_age;
                    let in_law_age = (child_age - rng.range(-2, 4) as i32).max(20);
                    let in_law = if daughter_line {
                        Rel::SonInLaw
                    } else {
                        Rel::DaughterInLaw
                    };
                    v.push(mk(in_law, !daughter_line, in_law_age, surname(rng)));
                    let mother_age = if daughter_line { child_age } else { in_law_age };
                    let g = if rng.pct(50) { 2 } else { 1 };
                    let mut ga = mother_age - rng.range(22, 32) as i32;
                    for _ in 0..g {
                        if ga < 0 {
                            break;
                        }
                        let f = rng.pct(48);
                        let rel = if f { Rel::Granddaughter } else { Rel::Grandson };
                        v.push(mk(rel, f, ga, father_surname.clone()));
                        ga -= rng.range(2, 6) as i32;
                    }
                    break;
                }
                child_age -= rng.range(2, 8) as i32;
            }
            if arch == Archetype::ThreeGen {
                let head = &v[0];
                let parents = if rng.pct(55) { 1 } else { 2 };
                let pa = (head.age + rng.range(25, 34) as i32).min(97);
                let own_surname = head.surname.clone();
                if parents == 2 {
                    v.push(mk(Rel::Parent, false, pa, own_surname));
                    v.push(mk(
                        Rel::Parent,
                        true,
                        (pa - rng.range(0, 5) as i32).min(97),
                        surname(rng),
                    ));
                } else {
                    let female = rng.pct(65);
                    let s = if female { surname(rng) } else { own_surname };
                    v.push(mk(Rel::Parent, female, pa, s));
                }
            }
        }
        Archetype::Skipped => {
            let age = age_between(rng, 55, 78);
            let s = surname(rng);
            v.push(mk(Rel::Head, false, age, s.clone()));
            if rng.pct(70) {
                v.push(mk(
                    Rel::Spouse,
                    true,
                    age - rng.range(-2, 5) as i32,
                    surname(rng),
                ));
            }
            let g = if rng.pct(40) { 2 } else { 1 };
            let mut ga = (age - rng.range(45, 58) as i32).clamp(1, 16);
            for _ in 0..g {
                let f = rng.pct(48);
                let rel = if f { Rel::Granddaughter } else { Rel::Grandson };
                v.push(mk(rel, f, ga, s.clone()));
                ga = (ga - rng.range(2, 5) as i32).max(0);
            }
        }
    }
    v
}

/// Probability (per mille) of dying within the 24 months before `as_of`.
fn death_permille(age: i32) -> u32 {
    match age {
        ..18 => 1,
        18..50 => 3,
        50..65 => 12,
        65..75 => 35,
        75..85 => 90,
        _ => 220,
    }
}

fn life_events(rng: &mut Rng, urban: bool, as_of: Date, ps: &mut [Person], long_dead: &[bool]) {
    let end = dn(as_of);
    for (i, p) in ps.iter_mut().enumerate() {
        let age = p.age_on(as_of);
        if long_dead[i] {
            // A widowed elder's spouse: died years ago, still on the
            // register as deceased.
            p.death = Some(day(end - rng.range(400, 4000) as i32).max(p.birth));
            continue;
        }
        if rng.below(1000) < u64::from(death_permille(age)) {
            let d = day(end - rng.range(1, 730) as i32);
            if d > p.birth {
                p.death = Some(d);
            }
        }
        if p.death.is_none() && i > 0 && (16..=40).contains(&age) && rng.below(1000) < 12 {
            p.status = Status::MovedOut;
            p.status_date = Some(day(end - rng.range(30, 2000) as i32).max(p.birth));
        } else if p.death.is_none() && i > 0 && rng.below(1000) < 1 {
            p.status = Status::Cancelled;
            p.status_date = Some(day(end - rng.range(30, 2000) as i32).max(p.birth));
        }
    }
    for p in ps.iter_mut() {
        if let Some(d) = p.death {
            if rng.pct(92) {
                p.death_record = Some(if urban {
                    if rng.pct(85) {
                        DeathKind::Cremation
                    } else {
                        DeathKind::MedicalCertificate
                    }
                } else {
                    match rng.below(100) {
                        0..60 => DeathKind::Cremation,
                        60..85 => DeathKind::Burial,
                        _ => DeathKind::MedicalCertificate,
                    }
                });
                // The registry lags behind recent deaths.
                let lag = match end - dn(d) {
                    ..90 => rng.pct(50),
                    90..365 => rng.pct(8),
                    _ => false,
                };
                if !lag {
                    p.status = Status::Deceased;
                    p.status_date = Some(d);
                }
            } else {
                p.status = Status::Deceased;
                p.status_date = Some(d);
            }
        }
    }
}

fn disability(rng: &mut Rng, p: &Person, as_of: Date) -> Option<Disability> {
    let age = p.age_on(as_of);
    let permille = match age {
        ..18 => 15,
        18..45 => 30,
        45..60 => 60,
        60..75 => 110,
        _ => 190,
    };
    if rng.below(1000) >= permille {
        return None;
    }
    use DisabilityCategory::*;
    let cats = [
        Physical,
        Hearing,
        Visual,
        Multiple,
        Mental,
        Intellectual,
        Speech,
    ];
    let category = cats[rng.weighted(&[29, 24, 15, 16, 7, 7, 2])];
    let grade = 1 + rng.weighted(&[10, 20, 25, 45]) as u8;
    let adult_day = dn(p.birth) + 366;
    let issued = day((dn(as_of) - rng.range(30, 5800) as i32)
        .max(adult_day)
        .min(dn(as_of)));
    let valid_until = if rng.pct(15) {
        None
    } else {
        Some(day(dn(issued) + 3652 - rng.range(0, 2) as i32))
    };
    let previous = (rng.pct(10) && dn(issued) - 3652 > adult_day).then(|| day(dn(issued) - 3652));
    Some(Disability {
        category,
        grade,
        issued,
        valid_until,
        previous,
    })
}

/// Per-class probability (percent) that an urban elder draws an employee
/// pension, and a rural one.
const EMPLOYEE_PENSION_PCT: [(u32, u32); 6] =
    [(0, 0), (10, 0), (50, 10), (85, 35), (95, 50), (98, 70)];

/// Decides every member's occupation and income so that the household's
/// per-capita net income lands in its class. Returns the designed
/// per-capita income; `class` is corrected when the members cannot earn it.
fn economics(
    rng: &mut Rng,
    class: &mut Class,
    urban: bool,
    county: usize,
    as_of: Date,
    employers: &Employers,
    ps: &mut [Person],
) -> i64 {
    let s = standard(urban);
    let living: Vec<usize> = (0..ps.len())
        .filter(|i| ps[*i].alive_on(as_of) && ps[*i].status == Status::Active)
        .collect();
    let n = living.len().max(1) as i64;
    let band = match *class {
        Class::Poor => {
            if rng.pct(35) {
                (0, s / 10)
            } else {
                (0, s * 85 / 100)
            }
        }
        Class::LowIncome => (s * 108 / 100, s * 142 / 100),
        Class::NearPoor => (s * 160 / 100, s * 240 / 100),
        Class::Modest => (s * 260 / 100, s * 480 / 100),
        Class::Comfortable => (s * 5, s * 11),
        Class::Wealthy => (s * 13, s * 45),
    };
    let pc = rng.range(band.0, band.1);
    let total = pc * n;
    // Occupations by age.
    let mut earners = Vec::new();
    let mut gone = Vec::new();
    let mut elders = Vec::new();
    for (i, p) in ps.iter_mut().enumerate() {
        let age = p.age_on(as_of);
        p.occ = match age {
            ..6 => Occ::Child,
            6..18 => Occ::Student,
            18..23 if rng.pct(if *class >= Class::Modest { 60 } else { 25 }) => Occ::Student,
            _ if p.disability.is_some_and(|d| d.grade <= 2) && age < 60 => Occ::Disabled,
            18..60 => {
                if living.contains(&i) {
                    earners.push(i);
                } else {
                    gone.push(i);
                }
                if urban { Occ::HomeMaker } else { Occ::Farmer }
            }
            _ => {
                elders.push(i);
                Occ::Elder
            }
        };
    }
    let mut achieved = 0i64;
    // Elders: resident pensions, or employee pensions in better-off
    // households.
    let (u_pct, r_pct) = EMPLOYEE_PENSION_PCT[class.i()];
    let mut employee_elders = Vec::new();
    for &i in &elders {
        let p = &mut ps[i];
        p.pension = rng.range(148, 260) * YUAN;
        if rng.pct(if urban { u_pct } else { r_pct }) {
            employee_elders.push(i);
        } else if living.contains(&i) {
            achieved += p.pension;
        }
    }
    if earners.is_empty() && employee_elders.is_empty() && *class > Class::Poor {
        // Nobody can earn the class's income: an elder with a small
        // employee pension, if any, else the household is poor.
        if let Some(&i) = elders.first() {
            employee_elders.push(i);
        }
    }
    // Second earners often farm (rural) or keep house (urban): income no
    // department records.
    if earners.len() > 1 {
        let mut kept = vec![earners[0]];
        for &i in &earners[1..] {
            if rng.pct(if urban { 15 } else { 45 }) {
                ps[i].occ = if urban { Occ::HomeMaker } else { Occ::Farmer };
            } else {
                kept.push(i);
            }
        }
        earners = kept;
    }
    let units = (earners.len() + employee_elders.len()) as i64;
    let remaining = (total - achieved).max(0);
    if units > 0 {
        // Shares: the first unit the most.
        let mut shares = vec![0i64; units as usize];
        if units == 1 {
            shares[0] = remaining;
        } else {
            let main = remaining * rng.range(55, 75) / 100;
            shares[0] = main;
            let rest = remaining - main;
            let others = units - 1;
            for s in shares.iter_mut().skip(1) {
                *s = rest / others;
            }
        }
        let mut k = 0;
        for &i in &employee_elders {
            let share = shares[k];
            k += 1;
            let p = &mut ps[i];
            p.occ = Occ::Retired;
            p.pension = share.clamp(900 * YUAN, 12_000 * YUAN) / YUAN * YUAN;
            if living.contains(&i) {
                achieved += p.pension;
            }
        }
        for &i in &earners {
            let share = shares[k];
            k += 1;
            achieved += work(rng, &mut ps[i], share, *class, urban, county, employers);
        }
    }
    // Members who died or left worked like the others until then.
    for &i in &gone {
        let share = pc * rng.range(100, 200) / 100;
        work(rng, &mut ps[i], share, *class, urban, county, employers);
    }
    let designed = achieved / n;
    *class = Class::of(designed, s);
    designed
}

/// Gives a working-age person work that nets about `share` a month; returns
/// the net as the rules would see it.
fn work(
    rng: &mut Rng,
    p: &mut Person,
    share: i64,
    class: Class,
    urban: bool,
    county: usize,
    employers: &Employers,
) -> i64 {
    p.raise = rng.range(0, 60) as u16;
    p.spell = (0, u16::MAX);
    if share < 150 * YUAN {
        p.occ = if urban {
            if rng.pct(50) {
                Occ::Unemployed
            } else {
                Occ::HomeMaker
            }
        } else {
            Occ::Farmer
        };
        return 0;
    }
    if share < 1_200 * YUAN {
        // Casual labour in some months.
        p.occ = Occ::Informal;
        p.work_pct = rng.range(30, 70) as u8;
        let gross = share * 100 / i64::from(p.work_pct) + world::EMPLOYMENT_COST;
        p.wage = gross / YUAN * YUAN;
        p.employer = employers.choose(county, 10, rng);
        let net_month = p.wage - world::labour_tax(p.wage) - world::EMPLOYMENT_COST;
        return net_month * i64::from(p.work_pct) / 100;
    }
    let sole_pct = if urban { 8 } else { 14 };
    if rng.pct(sole_pct) {
        p.occ = Occ::SoleProprietor;
        p.wage = (share * 1000 / 985) / YUAN * YUAN;
        return p.wage - p.wage * 15 / 1000;
    }
    if (2_000 * YUAN..3_500 * YUAN).contains(&share) && rng.pct(12) {
        // Contributes as a flexible worker at the minimum base: the wage
        // the rules impute is the base.
        p.occ = Occ::Flexible;
        p.wage = world::BASE_MIN;
        return world::BASE_MIN - world::BASE_MIN * 28 / 100 - world::EMPLOYMENT_COST;
    }
    p.occ = Occ::Employee;
    let public_pct = match class {
        Class::Poor | Class::LowIncome => 3,
        Class::NearPoor => 10,
        Class::Modest => 25,
        _ => 35,
    };
    p.employer = employers.choose(county, public_pct, rng);
    let e = &employers.all[p.employer as usize];
    p.unemployment_insured = !e.public || rng.pct(50);
    p.wage = world::gross_for_net(share, p.unemployment_insured);
    if rng.pct(e.fund_pct) && class >= Class::NearPoor {
        p.fund_rate = rng.range(5, 12) as u8;
    }
    if class >= Class::Modest {
        // Job changes: some started in the history, some ended in it.
        match rng.below(100) {
            0..6 => p.spell = (rng.range(1, 20) as u16, u16::MAX),
            6..10 => {
                p.spell = (0, rng.range(3, 20) as u16);
                if rng.pct(60) {
                    p.benefit_months = rng.range(3, 12) as u8;
                }
            }
            _ => {}
        }
    }
    world::wage_net(p.wage, p.unemployment_insured)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(n: usize) -> Chunk {
        let as_of = Date::from_ymd_opt(2026, 6, 30).unwrap();
        let e = Employers::generate(5, n);
        generate_chunk(5, 0, n, as_of, &e)
    }

    #[test]
    fn chunk_has_exactly_its_quota_and_consistent_households() {
        let c = chunk(3000);
        assert_eq!(c.persons.len(), 3000);
        let as_of = Date::from_ymd_opt(2026, 6, 30).unwrap();
        let mut covered = 0;
        for (hi, h) in c.households.iter().enumerate() {
            assert_eq!(h.first as usize, covered);
            covered += usize::from(h.len);
            let head = &c.persons[h.first as usize];
            assert_eq!(head.rel, Rel::Head);
            for p in &c.persons[h.members()] {
                assert_eq!(p.household as usize, hi);
                let gap = p.age_on(as_of) - head.age_on(as_of);
                match p.rel {
                    Rel::Son | Rel::Daughter => assert!(gap <= -18, "child gap {gap}"),
                    Rel::Parent => assert!(gap >= 20, "parent gap {gap}"),
                    Rel::Grandson | Rel::Granddaughter => assert!(gap <= -38, "{gap}"),
                    _ => {}
                }
            }
        }
        assert_eq!(covered, 3000);
        let mean = 3000.0 / c.households.len() as f64;
        assert!((2.2..3.6).contains(&mean), "mean household size {mean}");
    }

    #[test]
    fn classes_cover_the_range() {
        let c = chunk(6000);
        for class in [
            Class::Poor,
            Class::LowIncome,
            Class::NearPoor,
            Class::Modest,
            Class::Comfortable,
            Class::Wealthy,
        ] {
            assert!(
                c.households.iter().any(|h| h.class == class),
                "{class:?} missing"
            );
        }
        for h in &c.households {
            assert_eq!(Class::of(h.pc_income, h.standard()), h.class);
        }
    }
}
