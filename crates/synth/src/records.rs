//! Phase 3: every department record of every household, with noise, and
//! one truth row per record.
//!
//! A chunk of households is generated from its own random stream into
//! Arrow builders, so chunks run in parallel and their batches are written
//! in chunk order: the same bytes on any number of threads.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::Datelike;
use hedui_model::codes::{
    AccountKind, BusinessRole, BusinessStatus, DisabilityCategory, ExpenseCategory, Gender,
    HukouKind, HukouStatus, IncomeKind, Insurance, PropertyUsage, Scheme, SocialInsuranceKind,
    VehicleKind,
};
use hedui_model::{CodeList, Date, Month};

use crate::config::{CityConfig, NoiseKind};
use crate::data::{self, COUNTIES, vocabulary};
use crate::noise::{self, Eligibility};
use crate::people::{Class, Household, Occ, Person, Role, Status, feature};
use crate::rng::{Rng, domain};
use crate::select::Selection;
use crate::tables::{Builder, EXTRACTS, Row, T};
use crate::world::{self, Employers, YUAN, day, dn};

/// Everything record generation reads.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) cfg: &'a CityConfig,
    pub(crate) persons: &'a [Person],
    pub(crate) households: &'a [Household],
    pub(crate) employers: &'a Employers,
    pub(crate) sel: &'a Selection,
    /// Schemas of the 14 extracts and of truth/records.
    pub(crate) extract_schemas: Vec<SchemaRef>,
    pub(crate) truth_schema: SchemaRef,
    pub(crate) months: Vec<Month>,
    pub(crate) periods: Vec<String>,
}

/// Noise counts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stats {
    /// Records carrying each kind (by `NoiseKind::index`).
    pub(crate) applied: [u64; 14],
    /// Records to which each kind applies.
    pub(crate) eligible: [u64; 14],
    /// Department records (hukou excluded: it carries no noise).
    pub(crate) noisy_base: u64,
    /// Rows written with Chinese labels.
    pub(crate) labelled: u64,
}

impl Stats {
    pub(crate) fn add(&mut self, o: &Stats) {
        for k in 0..14 {
            self.applied[k] += o.applied[k];
            self.eligible[k] += o.eligible[k];
        }
        self.noisy_base += o.noisy_base;
        self.labelled += o.labelled;
    }
}

/// The batches of one chunk.
#[derive(Debug)]
pub(crate) struct ChunkOut {
    /// One batch per extract, in `EXTRACTS` order.
    pub(crate) extracts: Vec<RecordBatch>,
    pub(crate) truth: RecordBatch,
    pub(crate) stats: Stats,
    /// Households (global index, ascending, once each) with a `medical`
    /// expense dated on or after [`recent_medical_from`]: the later
    /// snapshot gives them no `large_medical_expense` event.
    pub(crate) recent_medical: Vec<u32>,
}

/// The first day of the month two months before the month of `as_of`: a
/// medical expense from then on may fall in the 3-month window of the
/// `large_medical_expense` alert of a run on `as_of` or later.
pub(crate) fn recent_medical_from(as_of: Date) -> Date {
    Month::of(as_of).plus(-2).first_day()
}

/// A code or, on a labelled row, its Chinese label.
fn code<C: CodeList>(zh: bool, c: C) -> &'static str {
    if zh { c.label_zh() } else { c.code() }
}

/// A sole proprietorship or company a person is registered in.
struct Entity {
    name: String,
    code: String,
}

struct Gen<'a, 'c> {
    ctx: &'c Ctx<'a>,
    rng: Rng,
    b: Vec<Builder>,
    truth: Builder,
    seq: [u32; 14],
    chunk: usize,
    stats: Stats,
    certificates: u32,
    recent_from: Date,
    recent_medical: Vec<u32>,
}

/// Generates the records of the households `range` (chunk `chunk`).
pub(crate) fn chunk_records(
    ctx: &Ctx<'_>,
    chunk: usize,
    range: std::ops::Range<usize>,
) -> ChunkOut {
    let mut g = Gen {
        ctx,
        rng: Rng::derive(ctx.cfg.seed, domain::RECORDS, chunk as u64),
        b: EXTRACTS
            .iter()
            .zip(&ctx.extract_schemas)
            .map(|(t, s)| Builder::new(s.clone(), *t))
            .collect(),
        truth: Builder::new(ctx.truth_schema.clone(), T::TruthRecords),
        seq: [0; 14],
        chunk,
        stats: Stats::default(),
        certificates: 0,
        recent_from: recent_medical_from(ctx.cfg.as_of),
        recent_medical: Vec::new(),
    };
    for hi in range {
        g.household(hi);
    }
    g.recent_medical.sort_unstable();
    g.recent_medical.dedup();
    ChunkOut {
        extracts: g.b.iter_mut().map(Builder::finish).collect(),
        truth: g.truth.finish(),
        stats: g.stats,
        recent_medical: g.recent_medical,
    }
}

pub(crate) fn record_id(t: T, chunk: usize, n: u32) -> String {
    format!("{}{chunk:05}{n:07}", t.record_prefix())
}

fn round10(fen: i64) -> i64 {
    fen / (10 * YUAN) * (10 * YUAN)
}

impl Gen<'_, '_> {
    /// Starts a record of table `t` for person `pi`: draws its noise,
    /// writes its truth row and the common columns. Returns the row (the
    /// caller appends the other columns) and whether codes are labels.
    fn rec(&mut self, t: T, pi: usize, e: &Eligibility) -> (Row<'_>, bool) {
        let ti = t as usize;
        self.seq[ti] += 1;
        let rid = record_id(t, self.chunk, self.seq[ti]);
        let persons = self.ctx.persons;
        let p = &persons[pi];
        let kind = if t == T::Hukou {
            NoiseKind::None
        } else {
            self.stats.noisy_base += 1;
            for k in &NoiseKind::ALL[1..] {
                if e.applies(*k) {
                    self.stats.eligible[k.index()] += 1;
                }
            }
            let k = noise::draw(&self.ctx.cfg.noise, &mut self.rng, e);
            self.stats.applied[k.index()] += 1;
            k
        };
        let w = noise::apply(kind, p, e, persons, &mut self.rng);
        let name_key = match (kind, e.partner) {
            (NoiseKind::SwappedName, Some(q)) => Some(persons[q as usize].id_str()),
            _ => None,
        };
        self.truth
            .row()
            .s(t.stem())
            .s(&rid)
            .so(Some(p.id_str()))
            .s(kind.code())
            .so(name_key);
        let zh = self.rng.ppm(self.ctx.cfg.noise.chinese_label);
        if zh {
            self.stats.labelled += 1;
        }
        let mut r = self.b[ti].row();
        r.s(&rid)
            .so(w.id.as_deref())
            .s(w.name.as_deref().unwrap_or(&p.name));
        (r, zh)
    }

    fn household(&mut self, hi: usize) {
        let ctx = self.ctx;
        let h = &ctx.households[hi];
        let members: Vec<usize> = h.members().collect();
        let elig: Vec<Eligibility> = members
            .iter()
            .map(|&pi| Eligibility::of(&ctx.persons[pi], self.partner(h, pi)))
            .collect();
        for (k, &pi) in members.iter().enumerate() {
            self.person(h, hi, pi, &elig[k]);
        }
        self.property(h, &members, &elig);
        self.vehicles(h, &members, &elig);
        self.household_expenses(h, &members, &elig);
    }

    /// Whose name a swapped record of `pi` carries: another member of the
    /// household with another name, else a neighbour.
    fn partner(&self, h: &Household, pi: usize) -> Option<u32> {
        let persons = self.ctx.persons;
        let name = &persons[pi].name;
        let r = h.members();
        let len = r.len();
        for k in 1..len {
            let q = r.start + (pi - r.start + k) % len;
            if persons[q].name != *name {
                return Some(q as u32);
            }
        }
        [pi + 1, pi.wrapping_sub(1)]
            .into_iter()
            .find(|q| *q < persons.len() && persons[*q].name != *name)
            .map(|q| q as u32)
    }

    fn person(&mut self, h: &Household, hi: usize, pi: usize, e: &Eligibility) {
        let ctx = self.ctx;
        let p = &ctx.persons[pi];
        let county = &COUNTIES[usize::from(h.county)];
        if p.in_hukou {
            let hukou_no = format!("{:09}", hi + 1);
            let status = match p.status {
                Status::Active => HukouStatus::Active,
                Status::Deceased => HukouStatus::Deceased,
                Status::MovedOut => HukouStatus::MovedOut,
                Status::Cancelled => HukouStatus::Cancelled,
            };
            let kind = if h.urban {
                HukouKind::Urban
            } else {
                HukouKind::Rural
            };
            let gender = if p.female {
                Gender::Female
            } else {
                Gender::Male
            };
            let (mut r, zh) = self.rec(T::Hukou, pi, e);
            r.so(Some(code(zh, gender)))
                .d(Some(p.birth))
                .so(Some(&hukou_no))
                .so(Some(p.rel.label()))
                .s(county.code)
                .so(Some(code(zh, kind)))
                .s(code(zh, status))
                .d(p.status_date);
        }
        if let (Some(kind), Some(d)) = (p.death_record, p.death) {
            let (mut r, zh) = self.rec(T::Death, pi, e);
            r.d(Some(d)).so(Some(code(zh, kind)));
        }
        let entity = (p.occ == Occ::SoleProprietor).then(|| self.shop(p, county));
        self.income(h, pi, e, entity.as_ref());
        self.benefits(h, hi, pi, e);
        self.finance(h, pi, e);
        self.business(h, pi, e, entity);
        self.disability(h, pi, e);
        self.expenses(h, pi, e);
        self.staff(pi, e);
    }

    fn shop(&mut self, p: &Person, county: &data::County) -> Entity {
        let kind = *self.rng.pick(data::SHOP_KINDS);
        Entity {
            name: format!("{}{}{kind}", county.name, p.name),
            code: world::uscc("92", county.code, &mut self.rng),
        }
    }

    /// A tax record: one per column of the table, hence the arguments.
    #[allow(clippy::too_many_arguments)]
    fn tax(
        &mut self,
        pi: usize,
        e: &Eligibility,
        mi: usize,
        kind: IncomeKind,
        gross: i64,
        tax_paid: Option<i64>,
        payer: Option<(&str, &str)>,
    ) {
        let period = &self.ctx.periods[mi];
        let (mut r, zh) = self.rec(T::Tax, pi, e);
        r.s(period)
            .s(code(zh, kind))
            .m(Some(gross))
            .m(tax_paid)
            .so(payer.map(|x| x.0))
            .so(payer.map(|x| x.1));
    }

    /// A social-insurance record: one argument per column.
    #[allow(clippy::too_many_arguments)]
    fn social(
        &mut self,
        pi: usize,
        e: &Eligibility,
        mi: usize,
        kind: SocialInsuranceKind,
        insurance: Option<Insurance>,
        scheme: Option<Scheme>,
        base: Option<i64>,
        amount: i64,
        employer: Option<(&str, &str)>,
    ) {
        let period = &self.ctx.periods[mi];
        let (mut r, zh) = self.rec(T::SocialInsurance, pi, e);
        r.s(period)
            .s(code(zh, kind))
            .so(insurance.map(|c| code(zh, c)))
            .so(scheme.map(|c| code(zh, c)))
            .m(base)
            .m(Some(amount))
            .so(employer.map(|x| x.0))
            .so(employer.map(|x| x.1));
    }

    fn income(&mut self, h: &Household, pi: usize, e: &Eligibility, entity: Option<&Entity>) {
        let ctx = self.ctx;
        let p = &ctx.persons[pi];
        let months = &ctx.months;
        let last_year = months.last().map_or(2026, |m| m.year());
        let employer = &ctx.employers.all[p.employer as usize];
        let payer = (employer.code.as_str(), employer.name.as_str());
        let mut fund_balance = 0i64;
        let mut benefit_left = p.benefit_months;
        let mut fund_started = false;
        for (mi, m) in months.iter().enumerate() {
            if !p.present_in(*m) {
                continue;
            }
            let years_before = i64::from(last_year - m.year());
            let age = p.age_on(m.first_day());
            match p.occ {
                Occ::Employee => {
                    let in_spell = mi >= usize::from(p.spell.0) && mi < usize::from(p.spell.1);
                    if in_spell {
                        let w = round10(p.wage * (1000 - i64::from(p.raise) * years_before) / 1000);
                        let gross = if self.rng.pct(1) { 0 } else { w };
                        let base = world::base_of(w);
                        let (pp, mm, uu) = world::own_contributions(base, p.unemployment_insured);
                        let tax = if gross > 0 {
                            world::wage_tax(gross, pp + mm + uu)
                        } else {
                            0
                        };
                        self.tax(pi, e, mi, IncomeKind::Wage, gross, Some(tax), Some(payer));
                        let emp = Some(payer);
                        let c = SocialInsuranceKind::Contribution;
                        let s = Some(Scheme::Employee);
                        self.social(
                            pi,
                            e,
                            mi,
                            c,
                            Some(Insurance::Pension),
                            s,
                            Some(base),
                            pp,
                            emp,
                        );
                        self.social(
                            pi,
                            e,
                            mi,
                            c,
                            Some(Insurance::Medical),
                            s,
                            Some(base),
                            mm,
                            emp,
                        );
                        if p.unemployment_insured {
                            let i = Some(Insurance::Unemployment);
                            self.social(pi, e, mi, c, i, s, Some(base), uu, emp);
                        }
                        if p.fund_rate > 0 {
                            let fbase = round10(w);
                            let deposit = fbase * i64::from(p.fund_rate) * 2 / 100;
                            if !fund_started {
                                fund_started = true;
                                fund_balance = deposit * self.rng.range(0, 90);
                            }
                            fund_balance += deposit;
                            let period = &ctx.periods[mi];
                            let (mut r, _) = self.rec(T::HousingFund, pi, e);
                            r.s(period)
                                .m(Some(fbase))
                                .m(Some(deposit))
                                .m(Some(fund_balance))
                                .so(Some(payer.0))
                                .so(Some(payer.1));
                        }
                    } else if mi >= usize::from(p.spell.1) && benefit_left > 0 {
                        benefit_left -= 1;
                        self.social(
                            pi,
                            e,
                            mi,
                            SocialInsuranceKind::UnemploymentBenefit,
                            Some(Insurance::Unemployment),
                            Some(Scheme::Employee),
                            None,
                            1_620 * YUAN,
                            None,
                        );
                    }
                }
                Occ::Flexible => {
                    let base = world::BASE_MIN;
                    let c = SocialInsuranceKind::Contribution;
                    let s = Some(Scheme::Employee);
                    let pension = base * 20 / 100;
                    let medical = base * 8 / 100;
                    self.social(
                        pi,
                        e,
                        mi,
                        c,
                        Some(Insurance::Pension),
                        s,
                        Some(base),
                        pension,
                        None,
                    );
                    self.social(
                        pi,
                        e,
                        mi,
                        c,
                        Some(Insurance::Medical),
                        s,
                        Some(base),
                        medical,
                        None,
                    );
                }
                Occ::Informal if self.rng.pct(u32::from(p.work_pct)) => {
                    let gross = round10(p.wage * self.rng.range(80, 120) / 100).max(100 * YUAN);
                    let who = if self.rng.pct(70) { Some(payer) } else { None };
                    let tax = world::labour_tax(gross);
                    self.tax(pi, e, mi, IncomeKind::Labour, gross, Some(tax), who);
                }
                Occ::SoleProprietor => {
                    let gross = round10(p.wage * self.rng.range(90, 110) / 100);
                    let tax = gross * 15 / 1000;
                    let who = entity.map(|x| (x.code.as_str(), x.name.as_str()));
                    self.tax(pi, e, mi, IncomeKind::Business, gross, Some(tax), who);
                }
                Occ::Retired | Occ::Elder if age >= 60 => {
                    let (scheme, amount) = if p.occ == Occ::Retired {
                        (
                            Scheme::Employee,
                            p.pension * (1000 - 30 * years_before) / 1000 / YUAN * YUAN,
                        )
                    } else {
                        (Scheme::Resident, p.pension)
                    };
                    self.social(
                        pi,
                        e,
                        mi,
                        SocialInsuranceKind::Pension,
                        Some(Insurance::Pension),
                        Some(scheme),
                        None,
                        amount,
                        None,
                    );
                }
                _ => {}
            }
            // Residents' own contributions, once a year.
            let resident = !matches!(p.occ, Occ::Employee | Occ::Flexible | Occ::Retired);
            if resident && m.month() == 3 && (18..60).contains(&age) && self.rng.pct(80) {
                let amount = [200, 300, 500, 1000][self.rng.weighted(&[50, 30, 15, 5])] * YUAN;
                self.social(
                    pi,
                    e,
                    mi,
                    SocialInsuranceKind::Contribution,
                    Some(Insurance::Pension),
                    Some(Scheme::Resident),
                    None,
                    amount,
                    None,
                );
            }
            if resident && m.month() == 12 && self.rng.pct(90) {
                let amount = if m.year() >= 2024 { 400 } else { 380 } * YUAN;
                self.social(
                    pi,
                    e,
                    mi,
                    SocialInsuranceKind::Contribution,
                    Some(Insurance::Medical),
                    Some(Scheme::Resident),
                    None,
                    amount,
                    None,
                );
            }
        }
        self.other_income(h, pi, e);
    }

    /// Rent, dividends and the odd prize.
    fn other_income(&mut self, h: &Household, pi: usize, e: &Eligibility) {
        let ctx = self.ctx;
        let p = &ctx.persons[pi];
        let months = &ctx.months;
        let adult = p.age_on(ctx.cfg.as_of) >= 18;
        let rent = pi == h.first as usize
            && match h.class {
                Class::Wealthy => self.rng.pct(45),
                Class::Comfortable => self.rng.pct(12),
                _ => false,
            };
        let monthly_rent = self.rng.range(150, 500) * 10 * YUAN;
        let dividends = adult && h.class == Class::Wealthy && self.rng.pct(35);
        let prize_month = (adult && self.rng.below(1000) < 2).then(|| self.rng.index(months.len()));
        for (mi, m) in months.iter().enumerate() {
            if !p.present_in(*m) {
                continue;
            }
            if rent {
                let tax = monthly_rent * 5 / 100;
                self.tax(pi, e, mi, IncomeKind::Rent, monthly_rent, Some(tax), None);
            }
            if dividends && m.month() == 6 {
                let gross = self.rng.decades(3, &[40, 45, 15]) * YUAN;
                self.tax(
                    pi,
                    e,
                    mi,
                    IncomeKind::Interest,
                    gross,
                    Some(gross / 10),
                    None,
                );
            }
            if prize_month == Some(mi) {
                let gross = self.rng.range(500, 10_000) * 10 * YUAN;
                self.tax(pi, e, mi, IncomeKind::Other, gross, Some(gross / 5), None);
            }
        }
    }

    /// Government payments (`other_benefit`): old-age allowance, disability
    /// subsidies, and the assistance of roster households.
    fn benefits(&mut self, h: &Household, hi: usize, pi: usize, e: &Eligibility) {
        let ctx = self.ctx;
        let p = &ctx.persons[pi];
        let ca = &ctx.employers.all[ctx.employers.civil_affairs[usize::from(h.county)] as usize];
        let payer = (ca.code.as_str(), ca.name.as_str());
        let roster = match ctx.households[hi].role {
            Role::Roster(r) => {
                let entry = &ctx.sel.roster[r as usize];
                (entry.members.first().map(|m| m.person as usize) == Some(pi)
                    && entry.monthly_benefit > 0)
                    .then_some(entry)
            }
            _ => None,
        };
        for (mi, m) in ctx.months.iter().enumerate() {
            if !p.present_in(*m) {
                continue;
            }
            let mut amounts: [i64; 3] = [0; 3];
            if p.age_on(m.first_day()) >= 80 {
                amounts[0] = 100 * YUAN;
            }
            if let Some(d) = p.disability {
                let valid =
                    d.issued <= m.first_day() && d.valid_until.is_none_or(|v| v >= m.last_day());
                if d.severe() && valid {
                    amounts[1] = 180 * YUAN;
                }
            }
            if let Some(r) = roster.filter(|r| Month::of(r.since) <= *m) {
                amounts[2] = r.monthly_benefit;
            }
            for a in amounts {
                if a > 0 {
                    self.social(
                        pi,
                        e,
                        mi,
                        SocialInsuranceKind::OtherBenefit,
                        None,
                        None,
                        None,
                        a,
                        Some(payer),
                    );
                }
            }
        }
    }

    fn finance(&mut self, h: &Household, pi: usize, e: &Eligibility) {
        let ctx = self.ctx;
        let p = &ctx.persons[pi];
        let as_of = ctx.cfg.as_of;
        if !p.alive_on(as_of) && self.rng.pct(50) {
            return;
        }
        let adult = p.age_on(as_of) >= 18;
        let c = h.class.i();
        let accounts = if adult {
            let (lo, hi) = [(1, 1), (1, 2), (1, 2), (1, 3), (2, 4), (2, 5)][c];
            self.rng.range(lo, hi) as usize
        } else {
            usize::from(self.rng.pct(20))
        };
        let (lo_exp, weights): (u32, &[u32]) = match h.class {
            Class::Poor => (1, &[35, 45, 18, 2]),
            Class::LowIncome => (1, &[20, 42, 34, 4]),
            Class::NearPoor => (2, &[30, 45, 23, 2]),
            Class::Modest => (2, &[10, 40, 42, 8]),
            Class::Comfortable => (3, &[20, 45, 30, 5]),
            Class::Wealthy => (3, &[10, 35, 40, 15]),
        };
        let hidden = pi == h.first as usize && h.features & feature::HIDDEN_DEPOSITS != 0;
        for k in 0..accounts + usize::from(hidden) {
            let institution = vocabulary().banks.draw(&mut self.rng);
            let (kind, balance) = if k == accounts {
                (AccountKind::Time, self.rng.range(150_000, 900_000) * YUAN)
            } else {
                let kind = match (h.class, self.rng.below(100)) {
                    (Class::Poor | Class::LowIncome, 0..92) => AccountKind::Demand,
                    (_, 0..60) => AccountKind::Demand,
                    (_, 60..85) => AccountKind::Time,
                    (_, 85..95) => AccountKind::Wealth,
                    _ => AccountKind::Other,
                };
                let yuan = if !adult {
                    self.rng.range(0, 3000)
                } else if self.rng.pct(5) {
                    0
                } else {
                    self.rng.decades(lo_exp, weights)
                };
                (kind, yuan * YUAN + self.rng.range(0, 99))
            };
            let (mut r, zh) = self.rec(T::Bank, pi, e);
            r.so(Some(institution))
                .so(Some(code(zh, kind)))
                .m(Some(balance))
                .d(Some(as_of));
        }
        if !adult {
            return;
        }
        if self.rng.pct([1, 1, 2, 4, 12, 40][c]) {
            let w: &[u32] = if c >= 4 {
                &[10, 40, 40, 10]
            } else {
                &[40, 45, 15, 0]
            };
            let value = self.rng.decades(3, w) * YUAN + self.rng.range(0, 99);
            let inst = *self.rng.pick(data::BROKERS);
            let (mut r, _) = self.rec(T::Securities, pi, e);
            r.so(Some(inst)).m(Some(value)).d(Some(as_of));
        }
        if self.rng.pct([2, 4, 8, 12, 30, 55][c]) {
            let insurer_i = self.rng.index(data::INSURERS.len());
            let (lo, w): (u32, &[u32]) = match c {
                0..2 => (2, &[50, 40, 10]),
                2..4 => (3, &[50, 40, 10]),
                _ => (3, &[20, 50, 30]),
            };
            let cash = self.rng.decades(lo, w) * YUAN;
            let premium = self.rng.range(100, 3000) * 10 * YUAN;
            let policy = format!("P{insurer_i}{:014}", self.rng.below(100_000_000_000_000));
            let (mut r, _) = self.rec(T::Insurance, pi, e);
            r.so(Some(data::INSURERS[insurer_i]))
                .so(Some(&policy))
                .m(Some(cash))
                .m(Some(premium))
                .d(Some(as_of));
        }
    }

    fn business(&mut self, h: &Household, pi: usize, e: &Eligibility, shop: Option<Entity>) {
        let ctx = self.ctx;
        let p = &ctx.persons[pi];
        let as_of = ctx.cfg.as_of;
        let county = &COUNTIES[usize::from(h.county)];
        let c = h.class.i();
        let age = p.age_on(as_of);
        let earliest =
            dn(Date::from_ymd_opt(2005, 1, 1).unwrap_or(as_of)).max(dn(p.birth) + 18 * 366);
        let mut entries: Vec<(BusinessRole, Entity, BusinessStatus, Option<i64>)> = Vec::new();
        if let Some(s) = shop {
            let cap = (!self.rng.pct(50)).then(|| self.rng.range(1, 20) * 10_000 * YUAN);
            entries.push((BusinessRole::SoleProprietor, s, BusinessStatus::Active, cap));
        }
        if (20..75).contains(&age) {
            let status = |rng: &mut Rng| match rng.below(100) {
                0..80 => BusinessStatus::Active,
                80..86 => BusinessStatus::Revoked,
                _ => BusinessStatus::Cancelled,
            };
            if self.rng.pct([1, 2, 3, 4, 4, 6][c]) {
                let s = self.shop(p, county);
                let st = if self.rng.pct(50) {
                    BusinessStatus::Cancelled
                } else {
                    status(&mut self.rng)
                };
                let cap = (!self.rng.pct(50)).then(|| self.rng.range(1, 10) * 10_000 * YUAN);
                entries.push((BusinessRole::SoleProprietor, s, st, cap));
            }
            for (role, pct) in [
                (BusinessRole::LegalRep, [0, 0, 0, 1, 3, 25][c]),
                (BusinessRole::Shareholder, [0, 0, 0, 1, 3, 20][c]),
            ] {
                let firms = &ctx.employers.firms_by_county[usize::from(h.county)];
                if !firms.is_empty() && self.rng.pct(pct) {
                    let f = &ctx.employers.all[*self.rng.pick(firms) as usize];
                    let cap = (!self.rng.pct(5)).then(|| self.rng.decades(5, &[50, 35, 15]) * YUAN);
                    let st = status(&mut self.rng);
                    entries.push((
                        role,
                        Entity {
                            name: f.name.clone(),
                            code: f.code.clone(),
                        },
                        st,
                        cap,
                    ));
                }
            }
        }
        for (role, ent, st, cap) in entries {
            let established = day(self
                .rng
                .range(i64::from(earliest), i64::from(dn(as_of) - 30))
                as i32);
            let (mut r, zh) = self.rec(T::Business, pi, e);
            r.s(code(zh, role))
                .so(Some(&ent.name))
                .so(Some(&ent.code))
                .m(cap)
                .s(code(zh, st))
                .d(Some(established));
        }
    }

    fn disability(&mut self, _h: &Household, pi: usize, e: &Eligibility) {
        let p = &self.ctx.persons[pi];
        let Some(d) = p.disability else {
            return;
        };
        let mut certs = vec![(d.issued, d.valid_until)];
        if let Some(prev) = d.previous {
            certs.push((prev, Some(day(dn(d.issued) - 1))));
        }
        for (issued, until) in certs {
            let (mut r, zh) = self.rec(T::Disability, pi, e);
            r.s(code(zh, d.category))
                .i(Some(i32::from(d.grade)))
                .d(Some(issued))
                .d(until);
        }
    }

    fn expenses(&mut self, h: &Household, pi: usize, e: &Eligibility) {
        let ctx = self.ctx;
        let p = &ctx.persons[pi];
        let as_of = ctx.cfg.as_of;
        let county = &COUNTIES[usize::from(h.county)];
        let first = dn(ctx.months[0].first_day());
        let end = p.left_on().map_or(dn(as_of), |d| dn(d).min(dn(as_of)));
        let start = first.max(dn(p.birth));
        if end <= start {
            return;
        }
        let age = p.age_on(as_of);
        let pct = match age {
            ..18 => 8,
            18..60 => 10,
            _ => 30,
        };
        if self.rng.pct(pct) {
            for _ in 0..self.rng.range(1, 4) {
                let amount = self.rng.decades(2, &[40, 45, 13, 2]).min(300_000) * YUAN
                    + self.rng.range(0, 99);
                let date = day(self.rng.range(i64::from(start), i64::from(end)) as i32);
                let provider = self.hospital(county);
                self.expense(pi, e, ExpenseCategory::Medical, amount, date, &provider);
            }
        }
        // School fees.
        for m in &ctx.months {
            if m.month() != 9 && m.month() != 3 {
                continue;
            }
            let d = m.first_day().with_day(5).unwrap_or(m.first_day());
            if dn(d) < start || dn(d) > end {
                continue;
            }
            let a = p.age_on(d);
            if p.occ == Occ::Student && (15..18).contains(&a) {
                let amount = self.rng.range(120, 250) * 10 * YUAN;
                let school = format!("{}第一中学", county.name);
                self.expense(pi, e, ExpenseCategory::Education, amount, d, &school);
            } else if p.occ == Occ::Student && (18..23).contains(&a) && m.month() == 9 {
                let amount = self.rng.range(480, 800) * 10 * YUAN;
                let uni = *self.rng.pick(data::UNIVERSITIES);
                self.expense(pi, e, ExpenseCategory::Education, amount, d, uni);
            }
        }
        if p.disability.is_some_and(|d| d.severe()) && self.rng.pct(30) {
            let provider = format!("{}残疾人康复中心", county.name);
            for m in &ctx.months {
                let d = m.last_day();
                if m.month() % 3 == 0 && dn(d) >= start && dn(d) <= end {
                    let amount = self.rng.range(60, 240) * 10 * YUAN;
                    self.expense(pi, e, ExpenseCategory::DisabilityCare, amount, d, &provider);
                }
            }
        }
    }

    fn hospital(&mut self, county: &data::County) -> String {
        if self.rng.pct(60) {
            format!("{}人民医院", county.name)
        } else {
            (*self.rng.pick(data::HOSPITALS)).to_owned()
        }
    }

    fn expense(
        &mut self,
        pi: usize,
        e: &Eligibility,
        category: ExpenseCategory,
        amount: i64,
        date: Date,
        provider: &str,
    ) {
        if category == ExpenseCategory::Medical && date >= self.recent_from {
            self.recent_medical.push(self.ctx.persons[pi].household);
        }
        let (mut r, zh) = self.rec(T::Expense, pi, e);
        r.s(code(zh, category))
            .m(Some(amount))
            .d(Some(date))
            .so(Some(provider));
    }

    /// Large medical bills: within every request's look-back window for
    /// households with the `big_medical` feature, and in the last months
    /// for some roster households (the `large_medical_expense` alert).
    fn household_expenses(&mut self, h: &Household, members: &[usize], elig: &[Eligibility]) {
        let ctx = self.ctx;
        let as_of = ctx.cfg.as_of;
        let county = &COUNTIES[usize::from(h.county)];
        let living: Vec<usize> = (0..members.len())
            .filter(|k| ctx.persons[members[*k]].alive_on(as_of))
            .collect();
        if living.is_empty() {
            return;
        }
        let last = Month::of(as_of);
        if h.features & feature::BIG_MEDICAL != 0 {
            let k = living[self.rng.index(living.len())];
            let lo = dn(last.plus(-12).first_day());
            let hi = dn(last.plus(-6).last_day());
            let bills = self.rng.range(2, 5) as usize;
            let total = self.rng.range(30_000, 150_000) * YUAN;
            let weights: Vec<i64> = (0..bills).map(|_| self.rng.range(1, 10)).collect();
            let sum: i64 = weights.iter().sum();
            for w in weights {
                let d = day(self.rng.range(i64::from(lo), i64::from(hi)) as i32);
                let provider = self.hospital(county);
                let amount = total * w / sum / YUAN * YUAN + self.rng.range(0, 99);
                self.expense(
                    members[k],
                    &elig[k],
                    ExpenseCategory::Medical,
                    amount,
                    d,
                    &provider,
                );
            }
        }
        if matches!(h.role, Role::Roster(_)) && self.rng.pct(3) {
            let k = living[self.rng.index(living.len())];
            let d = day(dn(as_of) - self.rng.range(3, 60) as i32);
            let amount = self.rng.range(25_000, 80_000) * YUAN;
            let provider = (*self.rng.pick(data::HOSPITALS)).to_owned();
            self.expense(
                members[k],
                &elig[k],
                ExpenseCategory::Medical,
                amount,
                d,
                &provider,
            );
        }
    }

    fn staff(&mut self, pi: usize, e: &Eligibility) {
        let ctx = self.ctx;
        let Some(links) = ctx.sel.staff.get(&(pi as u32)) else {
            return;
        };
        for link in links {
            let staff_name = &ctx.persons[link.staff as usize].name;
            let (mut r, zh) = self.rec(T::Staff, pi, e);
            r.so(Some(staff_name))
                .so(Some(&link.unit))
                .s(code(zh, link.relation));
        }
    }

    fn address(&mut self, h: &Household, rural_home: bool) -> String {
        address(h, rural_home, &mut self.rng)
    }

    fn property(&mut self, h: &Household, members: &[usize], elig: &[Eligibility]) {
        let ctx = self.ctx;
        let as_of = ctx.cfg.as_of;
        let persons = ctx.persons;
        let county = &COUNTIES[usize::from(h.county)];
        let c = h.class.i();
        let head = 0usize;
        let spouse = members
            .iter()
            .position(|i| persons[*i].rel == crate::people::Rel::Spouse && persons[*i].in_hukou);
        // (usage, extra) to register.
        let mut props: Vec<PropertyUsage> = Vec::new();
        if h.urban {
            if self.rng.pct([35, 50, 65, 80, 95, 100][c]) {
                props.push(PropertyUsage::Residential);
            }
            let extra = match h.class {
                Class::Comfortable => usize::from(self.rng.pct(35)),
                Class::Wealthy => self.rng.range(1, 3) as usize,
                _ => 0,
            };
            props.extend(std::iter::repeat_n(PropertyUsage::Residential, extra));
            if self.rng.pct([0, 2, 5, 15, 40, 70][c]) {
                props.push(PropertyUsage::Parking);
            }
        } else {
            if self.rng.pct(90) {
                props.push(PropertyUsage::Land);
            }
            if self.rng.pct([3, 8, 15, 25, 50, 90][c]) {
                props.push(PropertyUsage::Residential);
            }
            if h.class == Class::Wealthy {
                props.push(PropertyUsage::Residential);
            }
        }
        if h.features & feature::SECOND_HOME != 0 {
            props.push(PropertyUsage::Residential);
            props.push(PropertyUsage::Residential);
        }
        if match h.class {
            Class::Wealthy => self.rng.pct(40),
            Class::Comfortable => self.rng.pct(5),
            _ => false,
        } {
            props.push(if self.rng.pct(70) {
                PropertyUsage::Commercial
            } else {
                PropertyUsage::Office
            });
        }
        let sold = self.rng.pct(8);
        let new = matches!(h.role, Role::Roster(_)) && self.rng.pct(2);
        let n_current = props.len();
        if sold {
            props.push(PropertyUsage::Residential);
        }
        if new {
            props.push(PropertyUsage::Residential);
        }
        // Registered once the owner was an adult, from 1998 on.
        let adult_day = dn(persons[members[head]].birth) + 18 * 366;
        let first_day = dn(Date::from_ymd_opt(1998, 1, 1).unwrap_or(as_of))
            .max(adult_day)
            .min(dn(as_of) - 400);
        for (k, usage) in props.into_iter().enumerate() {
            let is_sold = sold && k == n_current;
            let is_new = new && k == props_len_new(n_current, sold);
            let registered = if is_new {
                day(dn(as_of) - self.rng.range(5, 80) as i32)
            } else if is_sold {
                day(self.rng.range(
                    i64::from(first_day),
                    i64::from(first_day).max(i64::from(dn(as_of)) - 1500),
                ) as i32)
            } else {
                day(self
                    .rng
                    .range(i64::from(first_day), i64::from(dn(as_of)) - 30)
                    as i32)
            };
            let cancelled = is_sold.then(|| {
                day(self
                    .rng
                    .range(i64::from(dn(registered)) + 200, i64::from(dn(as_of)) - 10)
                    as i32)
            });
            let area_tenths: i64 = match usage {
                PropertyUsage::Residential => self.rng.range(450, 1600),
                PropertyUsage::Parking => self.rng.range(120, 160),
                PropertyUsage::Land => self.rng.range(800, 3000),
                _ => self.rng.range(200, 2200),
            };
            let area = area_tenths as f64 / 10.0;
            let value = if self.rng.pct(20) || usage == PropertyUsage::Land {
                None
            } else {
                let per_m2 = match usage {
                    PropertyUsage::Parking => county.price * 2,
                    PropertyUsage::Commercial | PropertyUsage::Office => county.price * 3 / 2,
                    _ => county.price,
                };
                Some(area_tenths * per_m2 * self.rng.range(80, 120) / 100 / 10 / 100 * 100 * YUAN)
            };
            let co_owned =
                usage == PropertyUsage::Residential && spouse.is_some() && self.rng.pct(60);
            let owners: Vec<usize> = match (co_owned, spouse) {
                (true, Some(s)) => vec![head, s],
                _ => vec![head],
            };
            self.certificates += 1;
            let cert = format!(
                "云({}){}不动产权第{:07}号",
                registered.year(),
                county.name,
                self.chunk as u64 * 20_000 + u64::from(self.certificates)
            );
            let address = self.address(h, usage == PropertyUsage::Land);
            let share = 1.0 / owners.len() as f64;
            for o in owners {
                let (mut r, zh) = self.rec(T::Property, members[o], &elig[o]);
                r.s(&cert)
                    .s(code(zh, usage))
                    .f(Some(area))
                    .f(Some(share))
                    .so(Some(&address))
                    .so(Some(county.code))
                    .d(Some(registered))
                    .d(cancelled)
                    .m(value);
            }
        }
    }

    fn plate(&mut self) -> String {
        plate(&mut self.rng)
    }

    fn vehicles(&mut self, h: &Household, members: &[usize], elig: &[Eligibility]) {
        let ctx = self.ctx;
        let as_of = ctx.cfg.as_of;
        let persons = ctx.persons;
        let c = h.class.i();
        let mut kinds: Vec<VehicleKind> = Vec::new();
        let elderly = members
            .iter()
            .all(|i| !persons[*i].alive_on(as_of) || persons[*i].age_on(as_of) >= 70);
        if elderly {
            // Households of the very old keep at most a motorcycle.
            if !h.urban && self.rng.pct(20) {
                kinds.push(VehicleKind::Motorcycle);
            }
        } else if h.urban {
            if self.rng.pct([2, 5, 15, 35, 60, 90][c]) {
                kinds.push(VehicleKind::Car);
            }
            if h.class == Class::Wealthy && self.rng.pct(40) {
                kinds.push(VehicleKind::Car);
            }
            if self.rng.pct(10) {
                kinds.push(VehicleKind::Motorcycle);
            }
        } else {
            if self.rng.pct(45) {
                kinds.push(VehicleKind::Motorcycle);
            }
            if self.rng.pct(15) {
                kinds.push(VehicleKind::Agricultural);
            }
            if self.rng.pct([2, 5, 12, 25, 50, 90][c]) {
                kinds.push(VehicleKind::Car);
            }
            if c >= 3 && self.rng.pct(3) {
                kinds.push(VehicleKind::Truck);
            }
        }
        if h.features & feature::HIDDEN_CAR != 0 {
            kinds.push(VehicleKind::Car);
        }
        let physical = members.iter().position(|i| {
            persons[*i]
                .disability
                .is_some_and(|d| d.category == DisabilityCategory::Physical)
        });
        if physical.is_some() && self.rng.pct(10) {
            kinds.push(VehicleKind::DisabilityMobility);
        }
        let n_current = kinds.len();
        let old = self.rng.pct(10);
        if old {
            kinds.push(if h.urban {
                VehicleKind::Car
            } else {
                VehicleKind::Motorcycle
            });
        }
        let new = matches!(h.role, Role::Roster(_)) && self.rng.pct(3);
        if new {
            kinds.push(VehicleKind::Car);
        }
        let adults: Vec<usize> = (0..members.len())
            .filter(|k| persons[members[*k]].age_on(as_of) >= 18)
            .collect();
        if adults.is_empty() {
            return;
        }
        let since_2006 = dn(Date::from_ymd_opt(2006, 1, 1).unwrap_or(as_of));
        for (k, kind) in kinds.into_iter().enumerate() {
            let is_old = old && k == n_current;
            let is_new = new && k == n_current + usize::from(old);
            let owner = if kind == VehicleKind::DisabilityMobility {
                physical.unwrap_or(0)
            } else if self.rng.pct(70) {
                adults[0]
            } else {
                adults[self.rng.index(adults.len())]
            };
            // Registered once the owner was an adult, from 2006 on.
            let first_day = since_2006
                .max(dn(persons[members[owner]].birth) + 18 * 366)
                .min(dn(as_of) - 500);
            let registered = if is_new {
                day(dn(as_of) - self.rng.range(5, 80) as i32)
            } else if is_old {
                day(self.rng.range(
                    i64::from(first_day),
                    i64::from(first_day).max(i64::from(dn(as_of)) - 500),
                ) as i32)
            } else {
                day(self
                    .rng
                    .range(i64::from(first_day), i64::from(dn(as_of)) - 30)
                    as i32)
            };
            let deregistered = is_old.then(|| {
                day(self
                    .rng
                    .range(i64::from(dn(registered)) + 400, i64::from(dn(as_of)) - 10)
                    as i32)
            });
            let value = if self.rng.pct(30) {
                None
            } else {
                let yuan = match kind {
                    VehicleKind::Car => self.rng.range(4, 30) * 10_000,
                    VehicleKind::Truck => self.rng.range(6, 40) * 10_000,
                    VehicleKind::Motorcycle => self.rng.range(3, 15) * 1_000,
                    VehicleKind::Agricultural => self.rng.range(5, 30) * 1_000,
                    _ => self.rng.range(5, 20) * 1_000,
                };
                Some(yuan * YUAN)
            };
            let plate =
                (kind != VehicleKind::Agricultural || self.rng.pct(90)).then(|| self.plate());
            let (mut r, zh) = self.rec(T::Vehicle, members[owner], &elig[owner]);
            r.so(plate.as_deref())
                .s(code(zh, kind))
                .d(Some(registered))
                .d(deregistered)
                .m(value);
        }
    }
}

/// An address in the household's town: a village group and house number
/// for a rural home, else a street, building, unit and flat.
pub(crate) fn address(h: &Household, rural_home: bool, rng: &mut Rng) -> String {
    let county = &COUNTIES[usize::from(h.county)];
    let town = county.towns[usize::from(h.town)];
    if rural_home {
        let village = *rng.pick(data::VILLAGES);
        format!(
            "{}{}{town}{village}村委会{}组{}号",
            data::PREFECTURE,
            county.name,
            rng.range(1, 12),
            rng.range(1, 200)
        )
    } else {
        let road = *rng.pick(data::ROADS);
        format!(
            "{}{}{town}{road}{}号{}栋{}单元{}{:02}室",
            data::PREFECTURE,
            county.name,
            rng.range(1, 400),
            rng.range(1, 30),
            rng.range(1, 4),
            rng.range(1, 28),
            rng.range(1, 6)
        )
    }
}

/// A plate number of the prefecture (云D and five letters or digits).
pub(crate) fn plate(rng: &mut Rng) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const MIXED: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let mut s = String::from(data::PLATE_PREFIX);
    s.push(char::from(*rng.pick(LETTERS)));
    for _ in 0..4 {
        s.push(char::from(*rng.pick(MIXED)));
    }
    s
}

/// Index of the newly registered property in the list: after the current
/// ones and the sold one.
fn props_len_new(n_current: usize, sold: bool) -> usize {
    n_current + usize::from(sold)
}
