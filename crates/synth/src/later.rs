//! The later snapshot (`<out>/later/`): the same city some weeks after
//! `as_of`, so that two successive monitoring runs see changes.
//!
//! Events are planned before the department records are generated (the
//! ones that change a hukou row must be known while the first hukou rows
//! pass by), except `large_medical_expense`, which is given only to
//! households without a recent medical expense among the first records,
//! known once they are generated. Every later extract is the first one,
//! row for row (hukou rows whose status changed carry the new status and
//! date), followed by the records of the events, built on one thread in
//! roster order from the event's own random stream: the same bytes on any
//! number of threads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, StringArray};
use arrow::datatypes::{Date32Type, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono::Datelike;
use hedui_model::codes::{
    Assistance, BusinessRole, BusinessStatus, DeathKind, ExpenseCategory, HukouStatus, IncomeKind,
    Insurance, PropertyUsage, Scheme, SocialInsuranceKind, StaffRelation, VehicleKind,
};
use hedui_model::{CodeList, Date, Month};
use serde::Serialize;

use crate::config::CityConfig;
use crate::data::{self, COUNTIES};
use crate::error::{Error, Result};
use crate::people::{CHUNK, Class, Household, Person, Status};
use crate::records;
use crate::rng::{Rng, domain};
use crate::select::Selection;
use crate::tables::{Builder, EXTRACTS, LATER_DIR, Row, T, date32};
use crate::world::{self, Employers, YUAN, day, dn};

/// An event injected into the later snapshot, named by the monitoring
/// alert (rules §7) it should cause in a run on the later date that
/// follows a run on `as_of`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A member died after `as_of`: a `death` record, and in 40 % of the
    /// deaths the hukou row turned `deceased` too.
    Deceased,
    /// A car registered after `as_of`.
    NewVehicle,
    /// A residential property registered after `as_of`.
    NewProperty,
    /// An active sole proprietorship established after `as_of`.
    NewBusiness,
    /// A member's hukou row turned `moved_out` after `as_of`.
    MovedOut,
    /// Late-filed wages or an employee pension lift a `dibao`, `tekun` or
    /// `single_person` household's per-capita income to the standard or
    /// above.
    IncomeAboveStandard,
    /// The same late-filed wages raise the window's wage total.
    GradualExit,
    /// Medical bills after `as_of` above the alert limit.
    LargeMedicalExpense,
    /// A member newly registered in `staff`.
    StaffRelative,
}

impl EventKind {
    /// Every kind, in the order of [`LaterSummary::events`].
    pub const ALL: [EventKind; 9] = [
        EventKind::Deceased,
        EventKind::NewVehicle,
        EventKind::NewProperty,
        EventKind::NewBusiness,
        EventKind::MovedOut,
        EventKind::IncomeAboveStandard,
        EventKind::GradualExit,
        EventKind::LargeMedicalExpense,
        EventKind::StaffRelative,
    ];

    /// The alert code, as written to `later/truth/events.parquet`.
    pub fn code(self) -> &'static str {
        match self {
            EventKind::Deceased => "deceased",
            EventKind::NewVehicle => "new_vehicle",
            EventKind::NewProperty => "new_property",
            EventKind::NewBusiness => "new_business",
            EventKind::MovedOut => "moved_out",
            EventKind::IncomeAboveStandard => "income_above_standard",
            EventKind::GradualExit => "gradual_exit",
            EventKind::LargeMedicalExpense => "large_medical_expense",
            EventKind::StaffRelative => "staff_relative",
        }
    }

    /// Parses a code written by [`EventKind::code`].
    pub fn parse(code: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.code() == code)
    }
}

/// Rows of `later/truth/events` of one kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventCount {
    /// The kind.
    pub kind: EventKind,
    /// Rows naming it.
    pub count: u64,
}

/// What [`generate`](crate::generate) wrote of the later snapshot. Its
/// tables (rows, files, hashes) are in [`CitySummary::tables`](crate::CitySummary::tables)
/// as `later/extracts/<source>`, `later/truth/records` and
/// `later/truth/events`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LaterSummary {
    /// The date the later extracts are current to ([`CityConfig::later`]).
    pub as_of: Date,
    /// Roster households with an event (each has at most one).
    pub households: usize,
    /// Rows of `later/truth/events` by kind, in [`EventKind::ALL`] order
    /// (a wage event is two rows: `income_above_standard` and
    /// `gradual_exit`).
    pub events: Vec<EventCount>,
}

/// What happens to a household.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Death,
    MovedOut,
    Vehicle,
    Property,
    Business,
    Staff,
    Medical,
    Wage,
    Pension,
}

/// Rates, per mille of roster households (wages: of households receiving
/// `dibao`, `tekun` or `single_person`; pensions: of `dibao` households),
/// in the order households are assigned (the most particular first).
const RATES: [(Action, usize); 9] = [
    (Action::Wage, 20),
    (Action::Pension, 10),
    (Action::Staff, 5),
    (Action::MovedOut, 10),
    (Action::Death, 30),
    (Action::Vehicle, 20),
    (Action::Property, 10),
    (Action::Business, 10),
    (Action::Medical, 10),
];

/// Roster size from which every kind happens at least once.
const EVERY_KIND_FROM: usize = 40;

/// One planned event.
#[derive(Clone, Debug)]
struct Planned {
    /// Index into the roster.
    roster: usize,
    person: usize,
    action: Action,
    /// The date of a death or move, drawn when planned.
    date: Option<Date>,
    /// A death also recorded in hukou.
    hukou: bool,
    rng: Rng,
}

/// A hukou row that changes in the later snapshot.
#[derive(Clone, Copy, Debug)]
struct HukouChange {
    person: usize,
    status: HukouStatus,
    date: Date,
}

/// The later snapshot being made.
#[derive(Debug)]
pub(crate) struct Plan {
    /// `<out>/later`, for error messages.
    dir: PathBuf,
    seed: u64,
    as_of: Date,
    later: Date,
    chunks: usize,
    planned: Vec<Planned>,
    /// Households that may get the medical event, in the seeded order,
    /// with their eligible members.
    medical: Vec<(usize, Vec<usize>)>,
    medical_wanted: usize,
    /// Changed hukou rows by the (exact) id of the row.
    hukou: BTreeMap<String, HukouChange>,
    /// Record ids of the changed hukou rows by person.
    hukou_records: BTreeMap<usize, String>,
    /// Schemas of the 14 later extracts (with the later `hedui.as_of`),
    /// then `truth/records` and `truth/events`.
    pub(crate) schemas: Vec<SchemaRef>,
}

/// Households to give an event at `permille` of `base`, at least one on a
/// roster of [`EVERY_KIND_FROM`] households or more.
fn wanted(base: usize, permille: usize, roster: usize) -> usize {
    let k = (base * permille + 500) / 1000;
    if roster >= EVERY_KIND_FROM {
        k.max(1)
    } else {
        k
    }
}

/// A day in `(as_of, later]`.
fn in_window(rng: &mut Rng, as_of: Date, later: Date) -> Date {
    let days = i64::from(dn(later) - dn(as_of));
    day(dn(as_of) + rng.range(1, days) as i32)
}

/// `⌈a / b⌉` for positive `b`.
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1).div_euclid(b)
}

/// The monthly gross of the late-filed wages of a household of `n`
/// declared members and standard `s` (fen): ⌈1.5 × 12 × S × n / 4⌉ yuan
/// plus 500 yuan, so that four months of it lift the per-capita income of
/// the 12-month window clearly above `S`.
pub(crate) fn wage_gross(s: i64, n: i64) -> i64 {
    ceil_div(18 * s * n, 4 * YUAN) * YUAN + 500 * YUAN
}

/// The tax withheld on a late-filed wage: the usual withholding, at most
/// a fifth of the gross (so that the net stays above the standard for any
/// household size).
pub(crate) fn wage_tax_paid(gross: i64) -> i64 {
    world::wage_tax(gross, 0).min(gross / 5)
}

/// The monthly employee pension of the late-filed pension: ⌈1.5 × S × n⌉
/// yuan.
pub(crate) fn pension_amount(s: i64, n: i64) -> i64 {
    ceil_div(3 * s * n, 2 * YUAN) * YUAN
}

/// Plans the events of the later snapshot `later` of the city.
pub(crate) fn plan(
    out: &Path,
    cfg: &CityConfig,
    later: Date,
    persons: &[Person],
    households: &[Household],
    sel: &Selection,
    schemas: Vec<SchemaRef>,
) -> Plan {
    let as_of = cfg.as_of;
    let n = sel.roster.len();
    // The members an event may concern: declared, registered here, living
    // and active on as_of.
    let members: Vec<Vec<usize>> = sel
        .roster
        .iter()
        .map(|e| {
            e.members
                .iter()
                .map(|m| m.person as usize)
                .filter(|pi| {
                    let p = &persons[*pi];
                    p.in_hukou && p.death.is_none() && p.status == Status::Active
                })
                .collect()
        })
        .collect();
    let receiving = |a: Assistance| {
        matches!(
            a,
            Assistance::Dibao | Assistance::Tekun | Assistance::SinglePerson
        )
    };
    let base = |action: Action| match action {
        Action::Wage => sel
            .roster
            .iter()
            .filter(|e| receiving(e.assistance))
            .count(),
        Action::Pension => sel
            .roster
            .iter()
            .filter(|e| e.assistance == Assistance::Dibao)
            .count(),
        _ => n,
    };
    // Whom of a household an event may concern (empty: not this one).
    let eligible = |action: Action, r: usize| -> Vec<usize> {
        let e = &sel.roster[r];
        let h = &households[e.household as usize];
        let age = |pi: usize| persons[pi].age_on(as_of);
        let m = members[r].iter().copied();
        match action {
            // Income events only where P < S held on as_of by design, so
            // that the condition is new in the later run.
            Action::Wage if receiving(e.assistance) && h.class == Class::Poor => m
                .filter(|pi| age(*pi) >= 18 && persons[*pi].age_on(later) <= 59)
                .collect(),
            Action::Pension if e.assistance == Assistance::Dibao && h.class == Class::Poor => {
                m.filter(|pi| age(*pi) >= 60).collect()
            }
            Action::Wage | Action::Pension => Vec::new(),
            // Nobody of the household in staff yet.
            Action::Staff if h.features & crate::people::feature::STAFF == 0 => {
                m.filter(|pi| age(*pi) >= 18).collect()
            }
            Action::Staff => Vec::new(),
            Action::Vehicle | Action::Property | Action::Business => {
                m.filter(|pi| age(*pi) >= 18).collect()
            }
            Action::Death | Action::MovedOut | Action::Medical => m.collect(),
        }
    };
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::derive(cfg.seed, domain::LATER, 0);
    for i in 0..n {
        let j = i + rng.index(n - i);
        order.swap(i, j);
    }
    let mut used = vec![false; n];
    let mut planned = Vec::new();
    let mut hukou = BTreeMap::new();
    let mut medical = Vec::new();
    let mut medical_wanted = 0;
    for (action, permille) in RATES {
        let k = wanted(base(action), permille, n);
        if action == Action::Medical {
            // Chosen once the first records are known.
            medical = order
                .iter()
                .filter(|r| !used[**r])
                .map(|r| (*r, eligible(action, *r)))
                .filter(|(_, m)| !m.is_empty())
                .collect();
            medical_wanted = k;
            continue;
        }
        let mut got = 0;
        for &r in &order {
            if got == k {
                break;
            }
            if used[r] {
                continue;
            }
            let m = eligible(action, r);
            if m.is_empty() {
                continue;
            }
            used[r] = true;
            got += 1;
            let mut rng = Rng::derive(cfg.seed, domain::LATER, 1 + r as u64);
            let person = m[rng.index(m.len())];
            let (date, in_hukou) = match action {
                Action::Death => {
                    let d = in_window(&mut rng, as_of, later);
                    (Some(d), rng.pct(40))
                }
                Action::MovedOut => (Some(in_window(&mut rng, as_of, later)), true),
                _ => (None, false),
            };
            if let (Some(d), true) = (date, in_hukou) {
                let status = if action == Action::Death {
                    HukouStatus::Deceased
                } else {
                    HukouStatus::MovedOut
                };
                hukou.insert(
                    persons[person].id_str().to_owned(),
                    HukouChange {
                        person,
                        status,
                        date: d,
                    },
                );
            }
            planned.push(Planned {
                roster: r,
                person,
                action,
                date,
                hukou: in_hukou,
                rng,
            });
        }
    }
    Plan {
        dir: out.join(LATER_DIR),
        seed: cfg.seed,
        as_of,
        later,
        chunks: persons.len().div_ceil(CHUNK),
        planned,
        medical,
        medical_wanted,
        hukou,
        hukou_records: BTreeMap::new(),
        schemas,
    }
}

/// A batch under another schema (the later metadata), same columns.
fn rewrap(batch: &RecordBatch, schema: &SchemaRef, path: &Path) -> Result<RecordBatch> {
    RecordBatch::try_new(schema.clone(), batch.columns().to_vec()).map_err(|source| Error::Arrow {
        path: path.to_owned(),
        source,
    })
}

fn column_error(path: &Path, what: &str) -> Error {
    Error::Arrow {
        path: path.to_owned(),
        source: ArrowError::SchemaError(format!("hukou column {what} is not as built")),
    }
}

impl Plan {
    fn path(&self, t: T) -> PathBuf {
        self.dir
            .join(t.group())
            .join(format!("{}.parquet", t.stem()))
    }

    /// The later copies of one chunk's first batches (the 14 extracts and
    /// truth/records): the same rows, changed hukou rows with their new
    /// status and date.
    pub(crate) fn pass(
        &mut self,
        extracts: &[RecordBatch],
        truth: &RecordBatch,
    ) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::with_capacity(extracts.len() + 1);
        for (k, (t, b)) in EXTRACTS.iter().zip(extracts).enumerate() {
            let path = self.path(*t);
            let b = if *t == T::Hukou && !self.hukou.is_empty() {
                self.hukou_batch(b, &path)?
            } else {
                b.clone()
            };
            out.push(rewrap(&b, &self.schemas[k], &path)?);
        }
        out.push(rewrap(
            truth,
            &self.schemas[EXTRACTS.len()],
            &self.path(T::TruthRecords),
        )?);
        Ok(out)
    }

    fn hukou_batch(&mut self, b: &RecordBatch, path: &Path) -> Result<RecordBatch> {
        let col = |name: &str| -> Result<usize> {
            b.schema().index_of(name).map_err(|source| Error::Arrow {
                path: path.to_owned(),
                source,
            })
        };
        let (ci, cs, cd, cr) = (
            col("id_number")?,
            col("status")?,
            col("status_date")?,
            col("record_id")?,
        );
        let ids = b
            .column(ci)
            .as_string_opt::<i32>()
            .ok_or_else(|| column_error(path, "id_number"))?;
        let changed: Vec<(usize, HukouChange)> = (0..b.num_rows())
            .filter(|i| ids.is_valid(*i))
            .filter_map(|i| self.hukou.get(ids.value(i)).map(|c| (i, *c)))
            .collect();
        if changed.is_empty() {
            return Ok(b.clone());
        }
        let status = b
            .column(cs)
            .as_string_opt::<i32>()
            .ok_or_else(|| column_error(path, "status"))?;
        let dates = b
            .column(cd)
            .as_primitive_opt::<Date32Type>()
            .ok_or_else(|| column_error(path, "status_date"))?;
        let rids = b
            .column(cr)
            .as_string_opt::<i32>()
            .ok_or_else(|| column_error(path, "record_id"))?;
        let mut new_status: Vec<Option<String>> = (0..b.num_rows())
            .map(|i| status.is_valid(i).then(|| status.value(i).to_owned()))
            .collect();
        let mut new_dates: Vec<Option<i32>> = (0..b.num_rows())
            .map(|i| dates.is_valid(i).then(|| dates.value(i)))
            .collect();
        for (i, c) in changed {
            // A row written with Chinese labels keeps them.
            let zh = !status.value(i).is_ascii();
            let code = if zh {
                c.status.label_zh()
            } else {
                c.status.code()
            };
            new_status[i] = Some(code.to_owned());
            new_dates[i] = Some(date32(c.date));
            self.hukou_records
                .insert(c.person, rids.value(i).to_owned());
        }
        let mut columns: Vec<ArrayRef> = b.columns().to_vec();
        columns[cs] = Arc::new(StringArray::from(new_status));
        columns[cd] = Arc::new(Date32Array::from(new_dates));
        RecordBatch::try_new(b.schema(), columns).map_err(|source| Error::Arrow {
            path: path.to_owned(),
            source,
        })
    }

    /// Chooses the medical events among households without a recent
    /// medical expense, then builds the records of every event: one batch
    /// per extract (in `EXTRACTS` order), the truth rows and the events.
    pub(crate) fn build(
        mut self,
        persons: &[Person],
        households: &[Household],
        sel: &Selection,
        employers: &Employers,
        recent_medical: &BTreeSet<u32>,
    ) -> Built {
        let mut got = 0;
        for (r, m) in std::mem::take(&mut self.medical) {
            if got == self.medical_wanted {
                break;
            }
            if recent_medical.contains(&sel.roster[r].household) {
                continue;
            }
            got += 1;
            let mut rng = Rng::derive(self.seed, domain::LATER, 1 + r as u64);
            let person = m[rng.index(m.len())];
            self.planned.push(Planned {
                roster: r,
                person,
                action: Action::Medical,
                date: None,
                hukou: false,
                rng,
            });
        }
        self.planned.sort_by_key(|p| p.roster);
        let mut rows = Rows {
            b: EXTRACTS
                .iter()
                .zip(&self.schemas)
                .map(|(t, s)| Builder::new(s.clone(), *t))
                .collect(),
            truth: Builder::new(self.schemas[EXTRACTS.len()].clone(), T::TruthRecords),
            events: Builder::new(self.schemas[EXTRACTS.len() + 1].clone(), T::TruthEvents),
            seq: [0; 14],
            counts: [0; 9],
            certificates: 0,
        };
        let planned = std::mem::take(&mut self.planned);
        let households_with_events = planned.len();
        for mut ev in planned {
            let entry = &sel.roster[ev.roster];
            let h = &households[entry.household as usize];
            let p = &persons[ev.person];
            let ctx = EventCtx {
                as_of: self.as_of,
                later: self.later,
                household_id: &entry.household_id,
                h,
                p,
                n: entry.members.len() as i64,
                employers,
                chunks: self.chunks,
            };
            let hukou_rid = self.hukou_records.get(&ev.person).cloned();
            rows.event(&ctx, &mut ev, hukou_rid);
        }
        let counts = EventKind::ALL
            .iter()
            .zip(rows.counts)
            .map(|(k, c)| EventCount { kind: *k, count: c })
            .collect();
        Built {
            extracts: rows.b.iter_mut().map(Builder::finish).collect(),
            truth: rows.truth.finish(),
            events: rows.events.finish(),
            summary: LaterSummary {
                as_of: self.later,
                households: households_with_events,
                events: counts,
            },
        }
    }
}

/// The records of the events.
#[derive(Debug)]
pub(crate) struct Built {
    /// New rows of each extract, in `EXTRACTS` order.
    pub(crate) extracts: Vec<RecordBatch>,
    /// Their truth rows.
    pub(crate) truth: RecordBatch,
    /// `later/truth/events`.
    pub(crate) events: RecordBatch,
    pub(crate) summary: LaterSummary,
}

/// What one event's records are made of.
struct EventCtx<'a> {
    as_of: Date,
    later: Date,
    household_id: &'a str,
    h: &'a Household,
    p: &'a Person,
    /// Declared members.
    n: i64,
    employers: &'a Employers,
    chunks: usize,
}

struct Rows {
    b: Vec<Builder>,
    truth: Builder,
    events: Builder,
    seq: [u32; 14],
    counts: [u64; 9],
    certificates: u32,
}

impl Rows {
    /// Starts a new record of `t` for `p` (exact id and name): its truth
    /// row and the common columns. Returns the record id and the row.
    fn rec(&mut self, t: T, p: &Person) -> (String, Row<'_>) {
        let ti = t as usize;
        self.seq[ti] += 1;
        let rid = format!("{}-L{:07}", t.record_prefix(), self.seq[ti]);
        self.truth
            .row()
            .s(t.stem())
            .s(&rid)
            .so(Some(p.id_str()))
            .s("none")
            .so(None);
        let mut r = self.b[ti].row();
        r.s(&rid).so(Some(p.id_str())).s(&p.name);
        (rid, r)
    }

    fn emit(&mut self, c: &EventCtx<'_>, kind: EventKind, date: Option<Date>, rids: &[String]) {
        self.counts[kind as usize] += 1;
        self.events
            .row()
            .s(c.household_id)
            .s(kind.code())
            .s(c.p.id_str())
            .d(date)
            .s(&rids.join(";"));
    }

    fn event(&mut self, c: &EventCtx<'_>, ev: &mut Planned, hukou_rid: Option<String>) {
        let rng = &mut ev.rng;
        let (as_of, later, h, p) = (c.as_of, c.later, c.h, c.p);
        let county = &COUNTIES[usize::from(h.county)];
        let s = h.standard();
        match ev.action {
            Action::Death => {
                let date = ev.date.unwrap_or(later);
                let kind = if h.urban {
                    DeathKind::Cremation
                } else {
                    DeathKind::Burial
                };
                let (rid, mut r) = self.rec(T::Death, p);
                r.d(Some(date)).so(Some(kind.code()));
                drop(r);
                let mut rids = vec![rid];
                if ev.hukou {
                    rids.extend(hukou_rid);
                }
                self.emit(c, EventKind::Deceased, Some(date), &rids);
            }
            Action::MovedOut => {
                let date = ev.date.unwrap_or(later);
                let rids: Vec<String> = hukou_rid.into_iter().collect();
                self.emit(c, EventKind::MovedOut, Some(date), &rids);
            }
            Action::Vehicle => {
                let date = in_window(rng, as_of, later);
                let plate = records::plate(rng);
                let value = rng.range(4, 30) * 10_000 * YUAN;
                let (rid, mut r) = self.rec(T::Vehicle, p);
                r.so(Some(&plate))
                    .s(VehicleKind::Car.code())
                    .d(Some(date))
                    .d(None)
                    .m(Some(value));
                drop(r);
                self.emit(c, EventKind::NewVehicle, Some(date), &[rid]);
            }
            Action::Property => {
                let date = in_window(rng, as_of, later);
                self.certificates += 1;
                // After every number of the first registrations.
                let cert = format!(
                    "云({}){}不动产权第{:07}号",
                    date.year(),
                    county.name,
                    c.chunks as u64 * 20_000 + u64::from(self.certificates)
                );
                let area_tenths = rng.range(450, 1600);
                let value =
                    area_tenths * county.price * rng.range(80, 120) / 100 / 10 / 100 * 100 * YUAN;
                let address = records::address(h, false, rng);
                let (rid, mut r) = self.rec(T::Property, p);
                r.s(&cert)
                    .s(PropertyUsage::Residential.code())
                    .f(Some(area_tenths as f64 / 10.0))
                    .f(Some(1.0))
                    .so(Some(&address))
                    .so(Some(county.code))
                    .d(Some(date))
                    .d(None)
                    .m(Some(value));
                drop(r);
                self.emit(c, EventKind::NewProperty, Some(date), &[rid]);
            }
            Action::Business => {
                let date = in_window(rng, as_of, later);
                let kind = *rng.pick(data::SHOP_KINDS);
                let name = format!("{}{}{kind}", county.name, p.name);
                let code = world::uscc("92", county.code, rng);
                let capital = (!rng.pct(50)).then(|| rng.range(1, 20) * 10_000 * YUAN);
                let (rid, mut r) = self.rec(T::Business, p);
                r.s(BusinessRole::SoleProprietor.code())
                    .so(Some(&name))
                    .so(Some(&code))
                    .m(capital)
                    .s(BusinessStatus::Active.code())
                    .d(Some(date));
                drop(r);
                self.emit(c, EventKind::NewBusiness, Some(date), &[rid]);
            }
            Action::Staff => {
                let unit = if rng.pct(65) {
                    data::CIVIL_AFFAIRS.replace("{county}", county.name)
                } else {
                    let town = county.towns[usize::from(h.town)];
                    format!("{}{town}民政办", county.name)
                };
                let (rid, mut r) = self.rec(T::Staff, p);
                r.so(Some(&p.name))
                    .so(Some(&unit))
                    .s(StaffRelation::SelfStaff.code());
                drop(r);
                self.emit(c, EventKind::StaffRelative, None, &[rid]);
            }
            Action::Medical => {
                // Above 1.2 × the alert limit (24 × S) in one bill, in the
                // three months ending with the later date and after as_of.
                let over = 24 * s * 6 / 5;
                let lo = dn(Month::of(later).plus(-2).first_day()).max(dn(as_of) + 1);
                let hi = dn(later);
                let on = |rng: &mut Rng| day(rng.range(i64::from(lo), i64::from(hi)) as i32);
                let main =
                    rng.range(over / YUAN + 1, over * 3 / 2 / YUAN) * YUAN + rng.range(0, 99);
                let main_date = on(rng);
                let mut bills = vec![(main, main_date)];
                for _ in 0..rng.range(0, 2) {
                    let amount = rng.decades(2, &[50, 40, 10]) * YUAN + rng.range(0, 99);
                    bills.push((amount, on(rng)));
                }
                let mut rids = Vec::new();
                for (amount, date) in bills {
                    let provider = if rng.pct(60) {
                        format!("{}人民医院", county.name)
                    } else {
                        (*rng.pick(data::HOSPITALS)).to_owned()
                    };
                    let (rid, mut r) = self.rec(T::Expense, p);
                    r.s(ExpenseCategory::Medical.code())
                        .m(Some(amount))
                        .d(Some(date))
                        .so(Some(&provider));
                    drop(r);
                    rids.push(rid);
                }
                self.emit(c, EventKind::LargeMedicalExpense, Some(main_date), &rids);
            }
            Action::Wage => {
                let gross = wage_gross(s, c.n);
                let tax = wage_tax_paid(gross);
                let e =
                    &c.employers.all[c.employers.choose(usize::from(h.county), 30, rng) as usize];
                let last = Month::of(as_of);
                let mut rids = Vec::new();
                for k in (0..4).rev() {
                    let period = last.plus(-k).to_string();
                    let (rid, mut r) = self.rec(T::Tax, p);
                    r.s(&period)
                        .s(IncomeKind::Wage.code())
                        .m(Some(gross))
                        .m(Some(tax))
                        .so(Some(&e.code))
                        .so(Some(&e.name));
                    drop(r);
                    rids.push(rid);
                }
                self.emit(c, EventKind::IncomeAboveStandard, None, &rids);
                self.emit(c, EventKind::GradualExit, None, &rids);
            }
            Action::Pension => {
                let amount = pension_amount(s, c.n);
                let last = Month::of(as_of);
                let mut rids = Vec::new();
                for k in (0..12).rev() {
                    let period = last.plus(-k).to_string();
                    let (rid, mut r) = self.rec(T::SocialInsurance, p);
                    r.s(&period)
                        .s(SocialInsuranceKind::Pension.code())
                        .so(Some(Insurance::Pension.code()))
                        .so(Some(Scheme::Employee.code()))
                        .m(None)
                        .m(Some(amount))
                        .so(None)
                        .so(None);
                    drop(r);
                    rids.push(rid);
                }
                self.emit(c, EventKind::IncomeAboveStandard, None, &rids);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_counts_round() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.code()), Some(k));
            assert_eq!(EventKind::ALL[k as usize], k);
        }
        assert_eq!(wanted(212, 5, 212), 1);
        assert_eq!(wanted(1000, 30, 1000), 30);
        assert_eq!(wanted(10, 5, 10), 0);
        assert_eq!(wanted(0, 20, 50), 1);
    }

    /// Four months of the late wages, net of tax and employment cost, are
    /// above 12 × S × n for any household size; twelve months of the
    /// pension (ten of them in the later window at worst) too.
    #[test]
    fn late_income_lifts_any_household_above_the_standard() {
        for s in [world::STANDARD_URBAN, world::STANDARD_RURAL] {
            for n in 1..=30 {
                let g = wage_gross(s, n);
                assert_eq!(g % YUAN, 0);
                assert!(g >= 18 * s * n / 4 + 500 * YUAN);
                let net = 4 * (g - wage_tax_paid(g) - world::EMPLOYMENT_COST);
                assert!(net > 12 * s * n * 11 / 10, "{s} {n}");
                let a = pension_amount(s, n);
                assert_eq!(a % YUAN, 0);
                assert!(10 * a > 12 * s * n * 11 / 10, "{s} {n}");
            }
        }
    }
}
