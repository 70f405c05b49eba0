//! `hedui-synth`: a seeded synthetic city for tests, benchmarks and the
//! demo.
//!
//! It writes everything hedui reads — the 14 department extracts, check
//! requests and a monitoring roster — exactly as the input contract
//! (`spec/contract.md`) names and types them, together with the ground
//! truth: which real person every department record belongs to and which
//! noise it carries. It sits at the very start of the flow, before
//! `hedui-sources` ingests the extracts, and depends on nothing of hedui
//! but `hedui-model`.
//!
//! The city is the prefecture 曲靖市 (5303) with its nine counties, urban
//! and rural. Households have realistic structure (户主, 配偶, 子, 女, 父母,
//! 孙子女, 儿媳 …) and ages; names follow the national surname frequencies
//! and small era-dependent given-name pools, so common names collide
//! (many 张伟 of one birth year in one district); a few minority names
//! carry middle dots. Ids are valid GB 11643 numbers (region of first
//! registration, birth date, sequence parity = gender, check character).
//! Households are designed into income classes against the 低保 standard
//! so that requests produce every determination of `spec/rules.md`.
//!
//! # Layout
//!
//! ```text
//! <out>/manifest.json                 seed, config, counts, noise rates and counts, file hashes
//! <out>/extracts/<source>.parquet     hukou death tax social_insurance housing_fund property
//!                                     vehicle bank securities insurance business disability
//!                                     expense staff
//! <out>/requests/applications.parquet, requests/members.parquet
//! <out>/roster/roster_households.parquet, roster/roster_members.parquet
//! <out>/truth/records.parquet         source, record_id, person_key, noise, name_key
//! <out>/truth/persons.parquet         every person: id, name, household, status, occupation, twin
//! <out>/truth/households.parquet      members, designed income class, features, role
//! <out>/truth/requests.parquet        category and scenario of every request
//! ```
//!
//! With [`CityConfig::csv`], a `.csv` beside every `.parquet` (header row,
//! money `1234.50`, dates `YYYY-MM-DD`).
//!
//! With [`CityConfig::later`], a second, later snapshot of the same city
//! for two successive monitoring runs (one on `as_of` over `extracts/`,
//! one on the later date over `later/extracts/`):
//!
//! ```text
//! <out>/later/extracts/<source>.parquet  the 14 extracts, each complete as of the later date
//!                                        (`hedui.as_of`): every row of the first extract,
//!                                        unchanged and in order (hukou rows of a move or a
//!                                        registered death carry the new status and date),
//!                                        then the events' new records (ids `<prefix>-L0000001`)
//! <out>/later/truth/records.parquet      the first truth rows, then one per new record
//! <out>/later/truth/events.parquet       household_id, event, id_number, date, record_ids:
//!                                        one row per alert (rules §7) an event should cause
//! ```
//!
//! Events ([`EventKind`]) happen only in roster households, at most one
//! per household, to a declared member registered here and living on
//! `as_of`, at about these rates of roster households: deaths 3 %, new
//! cars 2 %, new residential properties 1 %, new sole proprietorships
//! 1 %, moves out 1 %, new staff registrations 0.5 %, medical bills above
//! 1.2 × the alert limit 1 %; late-filed wages of the last four months for
//! 2 % of `dibao`/`tekun`/`single_person` households (two rows:
//! `income_above_standard` and `gradual_exit`) and a late-filed employee
//! pension of the last twelve months for 1 % of `dibao` households — at
//! least one of each on a roster of 40 households or more. Income events go
//! only to households designed below the standard, so never to a
//! `single_person` household (designed at or above it: the condition holds
//! already on `as_of`). Every dated
//! event falls in `(as_of, later]`; a condition (income, staff, medical)
//! is given only to a household where it did not hold on `as_of`. Without
//! `later`, nothing of this is written and every other file is the same.
//!
//! # Invariants
//!
//! - **Deterministic**: the same [`CityConfig`] gives the same bytes in
//!   every file, on any number of threads. Randomness comes from this
//!   crate's own xoshiro256** streams derived from `(seed, domain, index)`;
//!   chunks of 2,048 persons are generated in parallel and written in
//!   order; no hash-map order, no clock, fixed Parquet settings (ZSTD 1).
//! - Every hukou id is valid and unique; every department record's truth
//!   names a person of `truth/persons`; money is Decimal128(18, 2), never a
//!   float.
//! - Noise ([`NoiseRates`], parts per million) is applied to department
//!   records only, at most one kind per record, each kind at its rate among
//!   the records it applies to; the manifest and [`CitySummary::noise`]
//!   give the configured rate, the eligible and the applied counts.
//! - Traps are marked in truth: trap-twin pairs (`truth/persons.twin_of`)
//!   and records with another person's name (`noise = swapped_name`,
//!   `name_key`).
//!
//! # Example
//!
//! ```no_run
//! use hedui_synth::{CityConfig, generate};
//!
//! let cfg = CityConfig::new(10_000, 42);
//! let summary = generate(&cfg, std::path::Path::new("city"), &|p| {
//!     eprintln!("{} {}/{}", p.stage.name(), p.done, p.total);
//! })?;
//! assert!(summary.rows("extracts/tax").unwrap() > 0);
//! # Ok::<(), hedui_synth::Error>(())
//! ```

mod config;
mod data;
mod error;
mod ids;
mod later;
mod noise;
mod output;
mod people;
mod records;
mod rng;
mod select;
mod tables;
mod world;
mod write;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

pub use config::{CityConfig, LATER_MAX_DAYS, NoiseKind, NoiseRates};
pub use error::{Error, Result};
pub use later::{EventCount, EventKind, LaterSummary};
pub use tables::{MONEY_PRECISION, MONEY_SCALE, later_table_paths, schema_of, table_paths};
pub use write::{FileSummary, TableSummary};

use hedui_model::Date;
use people::{CHUNK, Chunk};
use records::{ChunkOut, Ctx, Stats};
use tables::{EXTRACTS, LATER_DIR, T};
use write::Sink;

/// A stage of generation, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Households and persons (counted in chunks of persons).
    People,
    /// Ids, trap twins, requests, roster and staff.
    Identities,
    /// Department records (counted in chunks).
    Records,
    /// Requests, roster and the truth tables.
    Truth,
}

impl Stage {
    /// The stage's name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::People => "people",
            Stage::Identities => "identities",
            Stage::Records => "records",
            Stage::Truth => "truth",
        }
    }
}

/// Progress: `done` of `total` units of a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// Units done.
    pub done: u64,
    /// Units in the stage.
    pub total: u64,
}

/// How often a noise kind was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoiseCount {
    /// The kind (its code in `truth/records.noise`).
    pub kind: NoiseKind,
    /// Configured rate, parts per million of eligible records.
    pub rate_ppm: u32,
    /// Department records the kind applies to.
    pub eligible: u64,
    /// Records carrying it.
    pub applied: u64,
}

/// What [`generate`] wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CitySummary {
    /// The output directory.
    pub out: PathBuf,
    /// The seed.
    pub seed: u64,
    /// Persons (registered here or not).
    pub persons: usize,
    /// Households.
    pub households: usize,
    /// The date the extracts are current to.
    pub as_of: Date,
    /// First and last month of monthly history (`YYYY-MM`).
    pub history: (String, String),
    /// Check requests written.
    pub requests: usize,
    /// Roster households written.
    pub roster_households: usize,
    /// Registered staff.
    pub staff: usize,
    /// Trap-twin pairs.
    pub twin_pairs: usize,
    /// Department records (hukou included).
    pub department_records: u64,
    /// Rows written with Chinese code labels.
    pub labelled_rows: u64,
    /// Every table, in layout order.
    pub tables: Vec<TableSummary>,
    /// Noise counts in [`NoiseKind::ALL`] order; for `none`, `eligible` is
    /// the number of department records that could carry noise (all but
    /// hukou).
    pub noise: Vec<NoiseCount>,
    /// The later snapshot, when [`CityConfig::later`] is set (its tables
    /// are at the end of [`CitySummary::tables`], as `later/...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub later: Option<LaterSummary>,
}

impl CitySummary {
    /// Rows of a table by `group/stem` (`extracts/tax`).
    pub fn rows(&self, table: &str) -> Option<u64> {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .map(|t| t.rows)
    }

    /// Absolute path of a table's Parquet file.
    pub fn parquet_path(&self, table: &str) -> Option<PathBuf> {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .map(|t| self.out.join(&t.parquet.path))
    }
}

#[derive(Serialize)]
struct ExtractEntry<'a> {
    source: &'a str,
    path: String,
    as_of: Date,
    department: &'a str,
    region_code: &'a str,
    rows: u64,
}

#[derive(Serialize)]
struct LaterManifest<'a> {
    as_of: Date,
    households: usize,
    events: BTreeMap<&'static str, u64>,
    extracts: Vec<ExtractEntry<'a>>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    generator: String,
    seed: u64,
    persons: usize,
    households: usize,
    as_of: Date,
    history: &'a (String, String),
    config: &'a CityConfig,
    requests: usize,
    roster_households: usize,
    staff: usize,
    twin_pairs: usize,
    department_records: u64,
    labelled_rows: u64,
    counts: BTreeMap<String, u64>,
    noise: &'a [NoiseCount],
    extracts: Vec<ExtractEntry<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    later: Option<LaterManifest<'a>>,
    files: Vec<&'a FileSummary>,
}

/// Chunks generated or written per round.
const GROUP: usize = 8;

/// Generates the city of `cfg` into `out` (created if missing; existing
/// files of the layout are replaced). `progress` is called from the calling
/// thread only.
pub fn generate(cfg: &CityConfig, out: &Path, progress: &dyn Fn(Progress)) -> Result<CitySummary> {
    cfg.validate()?;
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_owned(),
        source,
    })?;
    let as_of = cfg.as_of;
    let employers = world::Employers::generate(cfg.seed, cfg.persons);

    // Phase 1: people, in parallel chunks.
    let n_chunks = cfg.persons.div_ceil(CHUNK);
    let mut chunks: Vec<Chunk> = Vec::with_capacity(n_chunks);
    let total = n_chunks as u64;
    for g in (0..n_chunks).step_by(GROUP) {
        let end = (g + GROUP).min(n_chunks);
        let part: Vec<Chunk> = (g..end)
            .into_par_iter()
            .map(|c| {
                let quota = CHUNK.min(cfg.persons - c * CHUNK);
                people::generate_chunk(cfg.seed, c, quota, as_of, &employers)
            })
            .collect();
        chunks.extend(part);
        progress(Progress {
            stage: Stage::People,
            done: end as u64,
            total,
        });
    }
    let mut persons = Vec::with_capacity(cfg.persons);
    let mut households = Vec::new();
    let mut bounds = Vec::with_capacity(n_chunks);
    for c in chunks {
        let (h0, p0) = (households.len(), persons.len());
        for mut h in c.households {
            h.first += p0 as u32;
            households.push(h);
        }
        for mut p in c.persons {
            p.household += h0 as u32;
            persons.push(p);
        }
        bounds.push(h0..households.len());
    }

    // Phase 2: ids and twins, requests, roster, staff.
    progress(Progress {
        stage: Stage::Identities,
        done: 0,
        total: 2,
    });
    let wanted_twins = if cfg.noise.twin_pairs_per_million == 0 {
        0
    } else {
        (cfg.persons as u64 * u64::from(cfg.noise.twin_pairs_per_million) / 1_000_000).max(1)
            as usize
    };
    let pairs = ids::assign(cfg.seed, &mut persons, &mut households, wanted_twins, as_of)?;
    progress(Progress {
        stage: Stage::Identities,
        done: 1,
        total: 2,
    });
    let sel = select::select(
        cfg.seed,
        cfg.requests,
        as_of,
        &mut persons,
        &mut households,
        &employers,
    );
    progress(Progress {
        stage: Stage::Identities,
        done: 2,
        total: 2,
    });

    // The later snapshot's events (those changing hukou rows are needed
    // while the first rows are written).
    let mut plan = cfg.later.map(|date| {
        let mut schemas: Vec<_> = EXTRACTS
            .iter()
            .map(|t| t.schema(extract_meta(*t, date)))
            .collect();
        schemas.push(T::TruthRecords.schema(HashMap::new()));
        schemas.push(T::TruthEvents.schema(HashMap::new()));
        later::plan(out, cfg, date, &persons, &households, &sel, schemas)
    });

    // Phase 3: records, generated in parallel and written in order.
    let months = cfg.history();
    let ctx = Ctx {
        cfg,
        persons: &persons,
        households: &households,
        employers: &employers,
        sel: &sel,
        extract_schemas: EXTRACTS
            .iter()
            .map(|t| t.schema(extract_meta(*t, as_of)))
            .collect(),
        truth_schema: T::TruthRecords.schema(HashMap::new()),
        periods: months.iter().map(|m| m.to_string()).collect(),
        months,
    };
    let mut sinks: Vec<Sink> = Vec::with_capacity(EXTRACTS.len() + 1);
    for (t, s) in EXTRACTS.iter().zip(&ctx.extract_schemas) {
        sinks.push(Sink::create(out, *t, s.clone(), cfg.csv)?);
    }
    sinks.push(Sink::create(
        out,
        T::TruthRecords,
        ctx.truth_schema.clone(),
        cfg.csv,
    )?);
    if let Some(p) = &plan {
        // The later extracts and truth/records, after the first ones.
        for (t, s) in EXTRACTS
            .iter()
            .chain(std::iter::once(&T::TruthRecords))
            .zip(&p.schemas)
        {
            sinks.push(Sink::create_in(
                out,
                Some(LATER_DIR),
                *t,
                s.clone(),
                cfg.csv,
            )?);
        }
    }
    let mut stats = Stats::default();
    let mut recent_medical = BTreeSet::new();
    let mut pending: Option<Vec<ChunkOut>> = None;
    let starts: Vec<usize> = (0..n_chunks).step_by(GROUP).collect();
    for (k, g) in starts.iter().chain(std::iter::once(&n_chunks)).enumerate() {
        let prev = pending.take();
        let range = *g..(*g + GROUP).min(n_chunks);
        let (written, next) = rayon::join(
            || match prev {
                Some(outs) => write_group(
                    &mut sinks,
                    outs,
                    &mut stats,
                    plan.as_mut(),
                    &mut recent_medical,
                ),
                None => Ok(()),
            },
            || {
                range
                    .clone()
                    .into_par_iter()
                    .map(|c| records::chunk_records(&ctx, c, bounds[c].clone()))
                    .collect::<Vec<_>>()
            },
        );
        written?;
        if !next.is_empty() {
            pending = Some(next);
        }
        if k > 0 {
            progress(Progress {
                stage: Stage::Records,
                done: (*g).min(n_chunks) as u64,
                total,
            });
        }
    }
    let first_sinks = EXTRACTS.len() + 1;
    let later_sinks = sinks.split_off(first_sinks.min(sinks.len()));
    let mut tables = Vec::new();
    let mut truth_records = None;
    for s in sinks {
        let t = s.finish(out)?;
        if t.table == T::TruthRecords.path() {
            truth_records = Some(t);
        } else {
            tables.push(t);
        }
    }

    // The small tables and the truth.
    progress(Progress {
        stage: Stage::Truth,
        done: 0,
        total: 2,
    });
    let (small, labelled_small) =
        output::requests_and_roster(out, cfg, &persons, &households, &sel)?;
    let truth_people = output::truth_people(out, cfg, &persons, &households, &sel)?;
    let mut truth_requests = None;
    for t in small {
        if t.table == T::TruthRequests.path() {
            truth_requests = Some(t);
        } else {
            tables.push(t);
        }
    }
    tables.extend(truth_records);
    tables.extend(truth_people);
    tables.extend(truth_requests);
    let later_summary = match plan {
        Some(p) => {
            let built = p.build(&persons, &households, &sel, &employers, &recent_medical);
            tables.extend(write_later(out, later_sinks, built.extracts, built.truth)?);
            let mut events = Sink::create_in(
                out,
                Some(LATER_DIR),
                T::TruthEvents,
                built.events.schema(),
                cfg.csv,
            )?;
            events.push(built.events)?;
            tables.push(events.finish(out)?);
            Some(built.summary)
        }
        None => None,
    };
    progress(Progress {
        stage: Stage::Truth,
        done: 1,
        total: 2,
    });

    let noise: Vec<NoiseCount> = NoiseKind::ALL
        .iter()
        .map(|k| NoiseCount {
            kind: *k,
            rate_ppm: cfg.noise.rate(*k),
            eligible: if *k == NoiseKind::None {
                stats.noisy_base
            } else {
                stats.eligible[k.index()]
            },
            applied: stats.applied[k.index()],
        })
        .collect();
    let department_records: u64 = tables
        .iter()
        .filter(|t| t.table.starts_with("extracts/"))
        .map(|t| t.rows)
        .sum();
    let first = ctx.periods.first().cloned().unwrap_or_default();
    let last = ctx.periods.last().cloned().unwrap_or_default();
    let summary = CitySummary {
        out: out.to_owned(),
        seed: cfg.seed,
        persons: persons.len(),
        households: households.len(),
        as_of,
        history: (first, last),
        requests: sel.requests.len(),
        roster_households: sel.roster.len(),
        staff: sel.staff_count,
        twin_pairs: pairs.len(),
        department_records,
        labelled_rows: stats.labelled + labelled_small,
        tables,
        noise,
        later: later_summary,
    };
    write_manifest(out, cfg, &summary)?;
    progress(Progress {
        stage: Stage::Truth,
        done: 2,
        total: 2,
    });
    Ok(summary)
}

/// The metadata of an extract current to `as_of`.
fn extract_meta(t: T, as_of: Date) -> HashMap<String, String> {
    let department = data::DEPARTMENTS
        .iter()
        .find(|(s, _)| *s == t.stem())
        .map_or("", |d| d.1);
    HashMap::from([
        ("hedui.source".to_owned(), t.stem().to_owned()),
        ("hedui.as_of".to_owned(), as_of.to_string()),
        ("hedui.department".to_owned(), department.to_owned()),
        (
            "hedui.region_code".to_owned(),
            data::PREFECTURE_CODE.to_owned(),
        ),
    ])
}

/// Writes a round of chunks: the first extracts and truth/records, then
/// (with a later snapshot) their later copies.
fn write_group(
    sinks: &mut [Sink],
    outs: Vec<ChunkOut>,
    stats: &mut Stats,
    mut plan: Option<&mut later::Plan>,
    recent_medical: &mut BTreeSet<u32>,
) -> Result<()> {
    let n = sinks.len();
    let first = EXTRACTS.len() + 1;
    let mut per_table: Vec<Vec<arrow::record_batch::RecordBatch>> = vec![Vec::new(); n];
    for o in outs {
        stats.add(&o.stats);
        recent_medical.extend(o.recent_medical);
        if let Some(p) = plan.as_deref_mut() {
            for (k, b) in p.pass(&o.extracts, &o.truth)?.into_iter().enumerate() {
                per_table[first + k].push(b);
            }
        }
        for (t, b) in o.extracts.into_iter().enumerate() {
            per_table[t].push(b);
        }
        per_table[first - 1].push(o.truth);
    }
    sinks
        .par_iter_mut()
        .zip(per_table.into_par_iter())
        .try_for_each(|(sink, batches)| {
            for b in batches {
                sink.push(b)?;
            }
            Ok(())
        })
}

/// Finishes the later extracts and truth/records with the events' rows.
fn write_later(
    out: &Path,
    sinks: Vec<Sink>,
    extracts: Vec<arrow::record_batch::RecordBatch>,
    truth: arrow::record_batch::RecordBatch,
) -> Result<Vec<TableSummary>> {
    let mut res = Vec::with_capacity(sinks.len());
    let new_rows = extracts.into_iter().chain(std::iter::once(truth));
    for (mut sink, rows) in sinks.into_iter().zip(new_rows) {
        sink.push(rows)?;
        res.push(sink.finish(out)?);
    }
    Ok(res)
}

fn write_manifest(out: &Path, cfg: &CityConfig, s: &CitySummary) -> Result<()> {
    let counts: BTreeMap<String, u64> =
        s.tables.iter().map(|t| (t.table.clone(), t.rows)).collect();
    let entries = |prefix: &str, as_of: Date| -> Vec<ExtractEntry<'_>> {
        EXTRACTS
            .iter()
            .map(|t| {
                let name = format!("{prefix}{}", t.path());
                let table = s.tables.iter().find(|x| x.table == name);
                ExtractEntry {
                    source: t.stem(),
                    path: table.map(|x| x.parquet.path.clone()).unwrap_or_default(),
                    as_of,
                    department: data::DEPARTMENTS
                        .iter()
                        .find(|(n, _)| *n == t.stem())
                        .map_or("", |d| d.1),
                    region_code: data::PREFECTURE_CODE,
                    rows: table.map_or(0, |x| x.rows),
                }
            })
            .collect()
    };
    let extracts = entries("", cfg.as_of);
    let later = s.later.as_ref().map(|l| LaterManifest {
        as_of: l.as_of,
        households: l.households,
        events: l.events.iter().map(|e| (e.kind.code(), e.count)).collect(),
        extracts: entries(&format!("{LATER_DIR}/"), l.as_of),
    });
    let mut files: Vec<&FileSummary> = Vec::new();
    for t in &s.tables {
        files.push(&t.parquet);
        if let Some(c) = &t.csv {
            files.push(c);
        }
    }
    let m = Manifest {
        generator: format!("hedui-synth {}", env!("CARGO_PKG_VERSION")),
        seed: s.seed,
        persons: s.persons,
        households: s.households,
        as_of: s.as_of,
        history: &s.history,
        config: cfg,
        requests: s.requests,
        roster_households: s.roster_households,
        staff: s.staff,
        twin_pairs: s.twin_pairs,
        department_records: s.department_records,
        labelled_rows: s.labelled_rows,
        counts,
        noise: &s.noise,
        extracts,
        later,
        files,
    };
    let path = out.join("manifest.json");
    let mut bytes = serde_json::to_vec_pretty(&m).map_err(|source| Error::Manifest {
        path: path.clone(),
        source,
    })?;
    bytes.push(b'\n');
    std::fs::write(&path, bytes).map_err(|source| Error::Io { path, source })
}
