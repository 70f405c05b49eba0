//! From requests, snapshots and links to each household's facts.
//!
//! One DataFusion query per source, over **every** household of the batch
//! at once — declared members ⋈ the source's linked view (its records
//! joined with their links once, keyed by person), with the look-back
//! window applied to monthly sources — so the number of queries does not
//! depend on the number of households: a single check and a batch of a
//! hundred thousand run the same plans. Review-band records (`possible`)
//! come back too, to be listed and flagged, never counted.
//!
//! Declared members are placed first: a valid declared id held by a
//! registered person is that person; an invalid declared id is resolved by
//! the matcher like any record (a counted link places the member, and the
//! report lists the link); a valid id that no one in the registry holds
//! stays that id, and the department records carrying exactly that id and
//! linked to no one are taken as the member's (method `declared`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use hedui_matching::{Method, RecordInput, Records};
use hedui_model::codes::*;
use hedui_model::{CodeList, Month};
use hedui_policy::{
    AssetFacts, BusinessFact, Certificate, DeathFact, ExpenseFact, Holding, Household,
    HousingFundFact, HukouFacts, LinkFlag, LinkFlagKind, Member, PolicySet, PropertyFact,
    RecordRef, SocialInsuranceFact, TaxFact, VehicleFact,
};
use hedui_store::{ROWS_FILE, SnapshotMeta, Store};
use rayon::prelude::*;

use crate::cols::{Cols, days, opt_date, opt_fen, opt_month, opt_str};
use crate::error::{Result, df};
use crate::link::Linker;
use crate::requests::{Rejected, Request, RequestSet};

/// A department record used for a member, or listed as a possible match.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkedRecord {
    /// The source table.
    pub source: String,
    /// The department's record id.
    pub record_id: String,
    /// The member it belongs to (the member's id text in the report).
    pub member: String,
    /// How it was placed: `exact`, `upgraded`, `id_conflict`, `fuzzy`,
    /// `possible`, or `declared`.
    pub method: String,
    /// Posterior match probability (1 for exact links).
    pub score: f64,
    /// Whether it counts (a `possible` match never does).
    pub counted: bool,
    /// What the record carried and why it was placed.
    pub evidence: Evidence,
}

/// A link's evidence. A record linked by its id — nearly all of a
/// batch's tens of millions — keeps just what it carried, and becomes
/// JSON only when its household's report is built.
#[derive(Clone, Debug, PartialEq)]
pub enum Evidence {
    /// Linked by its id (and name): the id and name it carried.
    Id {
        /// The id as the record carried it.
        id: Option<String>,
        /// The name as the record carried it.
        name: Option<String>,
    },
    /// Any other evidence (the matcher's explanation and what the record
    /// carried), as JSON.
    Json(serde_json::Value),
}

impl Evidence {
    /// The report's JSON of the evidence: for a link by id, `id`,
    /// `id_relation: "equal"` and `name`.
    pub fn into_value(self) -> serde_json::Value {
        match self {
            Evidence::Json(v) => v,
            Evidence::Id { id, name } => {
                let mut o = serde_json::Map::new();
                o.insert("id".into(), id.map(Into::into).unwrap_or_default());
                o.insert("id_relation".into(), "equal".into());
                o.insert("name".into(), name.map(Into::into).unwrap_or_default());
                serde_json::Value::Object(o)
            }
        }
    }
}

/// One household ready for the policy.
#[derive(Clone, Debug)]
pub struct CheckFacts {
    /// The request.
    pub request: Request,
    /// Facts for the policy.
    pub household: Household,
    /// Every record used and every possible match, sorted.
    pub links: Vec<LinkedRecord>,
}

/// Where the time went.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// Placing declared members.
    pub members: Duration,
    /// DataFusion planning and execution, per source.
    pub queries: BTreeMap<String, Duration>,
    /// Turning result rows into facts.
    pub assemble: Duration,
    /// Whether the rows were read from the point indexes (no query).
    pub indexed: bool,
}

/// A batch's facts.
#[derive(Debug)]
pub struct Gathered {
    /// Households in application order; a request that cannot be checked
    /// is its rejection.
    pub households: Vec<std::result::Result<CheckFacts, Rejected>>,
    /// Timings.
    pub timings: Timings,
}

/// Which columns of each source the facts need (besides record_id,
/// id_raw, name_raw), and whether the source is monthly.
pub(crate) fn columns_of(source: &str) -> (&'static [&'static str], bool) {
    match source {
        "death" => (&["death_date"], false),
        "tax" => (
            &["period", "income_kind", "gross_fen", "tax_paid_fen"],
            true,
        ),
        "social_insurance" => (
            &["period", "kind", "scheme", "base_fen", "amount_fen"],
            true,
        ),
        "housing_fund" => (&["period", "base_fen"], true),
        "property" => (
            &["certificate_no", "usage", "registered_on", "cancelled_on"],
            false,
        ),
        "vehicle" => (&["vehicle_kind", "registered_on", "deregistered_on"], false),
        "bank" => (&["balance_fen"], false),
        "securities" => (&["market_value_fen"], false),
        "insurance" => (&["cash_value_fen"], false),
        "business" => (
            &[
                "role",
                "status",
                "established_on",
                "registered_capital_fen",
                "entity_name",
            ],
            false,
        ),
        "disability" => (&["category", "grade", "issued_on", "valid_until"], false),
        "expense" => (&["category", "amount_fen", "date"], false),
        _ => (&[], false),
    }
}

/// How [`gather_with`] reads.
#[derive(Clone, Copy, Debug)]
pub struct GatherOptions {
    /// Every record's link for the report (a monitoring run names the
    /// records behind each alert from the facts, and does not list every
    /// link: it saves a string-laden struct per record).
    pub with_links: bool,
    /// Up to this many distinct persons, the queries name them literally,
    /// so a check of a few households reads only the row groups and pages
    /// of the linked views that hold their persons (the facts are the
    /// same either way).
    pub literal_persons: usize,
    /// Whether a check of at most `literal_persons` persons reads the
    /// point indexes ([`crate::index`]) when every source has one.
    pub point_index: bool,
}

impl Default for GatherOptions {
    fn default() -> Self {
        GatherOptions {
            with_links: true,
            literal_persons: 256,
            point_index: true,
        }
    }
}

/// The SQL of one source over every household: members ⋈ the source's
/// linked view (see [`crate::view`]), a registered member by the person
/// the links place records on, a member whom the registry does not know
/// by the id unlinked records carried (method `declared`). Without
/// `with_links`, what the records carried (id and name) and the matcher's
/// explanations are not read at all.
/// `bounds`: the earliest window start and the latest window end over
/// every member (days since the epoch), added as literal bounds on a
/// monthly source's period, so its scan filters rows while decoding
/// (each member's own window still applies in the join). `persons`: the
/// members' persons, named literally when they are few.
fn source_query(
    source: &str,
    with_links: bool,
    bounds: Option<(i32, i32)>,
    persons: Option<&[&str]>,
) -> String {
    use crate::view::{BY_PERSON, COUNTED, EXPLANATION, METHOD, PERSON, SCORE};
    let (cols, monthly) = columns_of(source);
    let extra: String = cols.iter().map(|c| format!(", v.\"{c}\"")).collect();
    let (carried, explanation) = if with_links {
        (
            "v.id_raw, v.name_raw".to_owned(),
            format!("CASE WHEN m.in_registry THEN v.{EXPLANATION} ELSE '{{}}' END"),
        )
    } else {
        (
            "CAST(NULL AS VARCHAR) AS id_raw, CAST(NULL AS VARCHAR) AS name_raw".to_owned(),
            "CAST(NULL AS VARCHAR)".to_owned(),
        )
    };
    let mut filter = String::new();
    if monthly {
        filter.push_str(" AND v.\"period\" >= m.window_from AND v.\"period\" < m.window_end");
        if let Some((from, end)) = bounds {
            filter.push_str(&format!(
                " AND v.\"period\" >= DATE '{}' AND v.\"period\" < DATE '{}'",
                crate::cols::day(from),
                crate::cols::day(end)
            ));
        }
    }
    if let Some([]) = persons {
        // No member: nothing to read.
        filter.push_str(" AND false");
    } else if let Some(p) = persons {
        filter.push_str(&format!(" AND v.{PERSON} IN ({})", quoted(p)));
    }
    format!(
        "SELECT m.member_idx, \
                CASE WHEN m.in_registry THEN v.{METHOD} ELSE 'declared' END AS method, \
                CASE WHEN m.in_registry THEN v.{COUNTED} ELSE true END AS counted, \
                CASE WHEN m.in_registry THEN v.{SCORE} ELSE CAST(1.0 AS DOUBLE) END AS score, \
                {explanation} AS explanation, v.record_id, {carried}{extra} \
         FROM members m JOIN \"v_{source}\" v \
           ON v.{PERSON} = m.person_id AND v.{BY_PERSON} = m.in_registry \
         WHERE true{filter}"
    )
}

/// The hukou registry's rows of the members, by id; with `persons`, the
/// members' persons named literally (as in [`source_query`]).
fn hukou_query(persons: Option<&[&str]>) -> String {
    let filter = match persons {
        Some([]) => " WHERE false".to_owned(),
        Some(p) => format!(" WHERE r.id_number IN ({})", quoted(p)),
        None => String::new(),
    };
    format!(
        "SELECT m.member_idx, r.record_id, r.name_raw, r.status, r.status_date, \
         r.hukou_kind, r.birth_date, r.gender, r.id_raw \
         FROM members m JOIN s_hukou r ON r.id_number = m.person_id{filter}"
    )
}

/// SQL string literals of `values`, comma-separated.
fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a declared member was placed.
struct Placed {
    person_id: String,
    in_registry: bool,
    link: Option<LinkedRecord>,
}

fn place_members(requests: &[Request], linker: &Linker) -> Vec<Vec<Placed>> {
    // Members whose declared id is not a registered person's: resolve
    // them as records of the source "members" in one run.
    let mut inputs = Vec::new();
    for r in requests {
        for m in &r.members {
            let registered = m
                .id_number
                .is_some_and(|id| linker.registry.person(&id).is_some());
            if !registered && m.id_number.is_none() {
                inputs.push(RecordInput {
                    record_id: m.row_key.clone(),
                    id_number: m.id_raw.clone(),
                    name: m.name.clone(),
                    birth_date: None,
                    gender: None,
                    context: None,
                });
            }
        }
    }
    let records = Records::from_inputs("members", &inputs);
    let links = linker.model.resolve(&linker.registry, &records);
    requests
        .iter()
        .map(|r| {
            r.members
                .iter()
                .map(|m| {
                    if let Some(id) = m.id_number {
                        let in_registry = linker.registry.person(&id).is_some();
                        return Placed {
                            person_id: id.as_str().to_owned(),
                            in_registry,
                            link: None,
                        };
                    }
                    match links.get(&m.row_key) {
                        Some(l) if l.method.counted() && l.person_id.is_some() => Placed {
                            person_id: l
                                .person_id
                                .map(|p| p.as_str().to_owned())
                                .unwrap_or_default(),
                            in_registry: true,
                            link: Some(LinkedRecord {
                                source: "members".into(),
                                record_id: m.row_key.clone(),
                                member: m.id_text(),
                                method: l.method.code().to_owned(),
                                score: l.match_probability.unwrap_or(1.0),
                                counted: true,
                                evidence: Evidence::Json(
                                    serde_json::from_str(l.explanation())
                                        .unwrap_or(serde_json::Value::Null),
                                ),
                            }),
                        },
                        _ => Placed {
                            person_id: m.id_text(),
                            in_registry: false,
                            link: None,
                        },
                    }
                })
                .collect()
        })
        .collect()
}

fn members_batch(
    requests: &[Request],
    placed: &[Vec<Placed>],
    lookback: &[Option<u32>],
) -> Result<RecordBatch> {
    let mut idx = Vec::new();
    let mut person = Vec::new();
    let mut reg = Vec::new();
    let mut from = Vec::new();
    let mut end = Vec::new();
    let mut k = 0i64;
    for ((r, p), lb) in requests.iter().zip(placed).zip(lookback) {
        let this = Month::of(r.applied_on);
        for m in p {
            if let Some(lb) = lb {
                idx.push(k);
                person.push(m.person_id.clone());
                reg.push(m.in_registry);
                from.push(days(this.plus(-(*lb as i32)).first_day()));
                end.push(days(this.first_day()));
            }
            k += 1;
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("member_idx", DataType::Int64, false),
        Field::new("person_id", DataType::Utf8, false),
        Field::new("in_registry", DataType::Boolean, false),
        Field::new("window_from", DataType::Date32, false),
        Field::new("window_end", DataType::Date32, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(idx)),
        Arc::new(StringArray::from(person)),
        Arc::new(BooleanArray::from(reg)),
        Arc::new(Date32Array::from(from)),
        Arc::new(Date32Array::from(end)),
    ];
    RecordBatch::try_new(schema, cols)
        .map_err(|e| crate::Error::Missing(format!("members table: {e}")))
}

/// The earliest `window_from` and latest `window_end` of the members
/// table, if it has rows.
fn window_bounds(batch: &RecordBatch) -> Option<(i32, i32)> {
    let col = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<Date32Array>())
            .cloned()
    };
    let (from, end) = (col("window_from")?, col("window_end")?);
    Some((arrow::compute::min(&from)?, arrow::compute::max(&end)?))
}

fn rref(source: &str, id: &str) -> RecordRef {
    RecordRef::new(source, id)
}

/// Adds one result row of a department source to its member's facts.
fn add_fact(source: &str, c: &Cols<'_>, i: usize, m: &mut Member) -> Result<()> {
    let rid = c.str("record_id")?.value(i);
    let rec = rref(source, rid);
    let code =
        |name: &str| -> Result<Option<String>> { Ok(opt_str(c.str(name)?, i).map(str::to_owned)) };
    match source {
        "death" => {
            if let Some(date) = opt_date(c.date("death_date")?, i) {
                m.deaths.push(DeathFact { date, record: rec });
            }
        }
        "tax" => {
            let (Some(period), Some(kind), Some(gross)) = (
                opt_month(c.date("period")?, i),
                code("income_kind")?.and_then(|k| IncomeKind::parse(&k)),
                opt_fen(c.i64("gross_fen")?, i),
            ) else {
                return Ok(());
            };
            m.tax.push(TaxFact {
                period,
                kind,
                gross,
                tax_paid: opt_fen(c.i64("tax_paid_fen")?, i),
                record: rec,
            });
        }
        "social_insurance" => {
            let (Some(period), Some(kind), Some(amount)) = (
                opt_month(c.date("period")?, i),
                code("kind")?.and_then(|k| SocialInsuranceKind::parse(&k)),
                opt_fen(c.i64("amount_fen")?, i),
            ) else {
                return Ok(());
            };
            m.social_insurance.push(SocialInsuranceFact {
                period,
                kind,
                scheme: code("scheme")?.and_then(|s| Scheme::parse(&s)),
                base: opt_fen(c.i64("base_fen")?, i),
                amount,
                record: rec,
            });
        }
        "housing_fund" => {
            if let Some(period) = opt_month(c.date("period")?, i) {
                m.housing_fund.push(HousingFundFact {
                    period,
                    base: opt_fen(c.i64("base_fen")?, i),
                    record: rec,
                });
            }
        }
        "property" => {
            let (Some(usage), Some(registered_on)) = (
                code("usage")?.and_then(|u| PropertyUsage::parse(&u)),
                opt_date(c.date("registered_on")?, i),
            ) else {
                return Ok(());
            };
            m.assets.property.push(PropertyFact {
                certificate_no: code("certificate_no")?.unwrap_or_default(),
                usage,
                registered_on,
                cancelled_on: opt_date(c.date("cancelled_on")?, i),
                record: rec,
            });
        }
        "vehicle" => {
            let (Some(kind), Some(registered_on)) = (
                code("vehicle_kind")?.and_then(|k| VehicleKind::parse(&k)),
                opt_date(c.date("registered_on")?, i),
            ) else {
                return Ok(());
            };
            m.assets.vehicles.push(VehicleFact {
                kind,
                registered_on,
                deregistered_on: opt_date(c.date("deregistered_on")?, i),
                record: rec,
            });
        }
        "bank" | "securities" | "insurance" => {
            let col = match source {
                "bank" => "balance_fen",
                "securities" => "market_value_fen",
                _ => "cash_value_fen",
            };
            let h = Holding {
                value: opt_fen(c.i64(col)?, i),
                record: rec,
            };
            let a: &mut AssetFacts = &mut m.assets;
            match source {
                "bank" => a.bank.push(h),
                "securities" => a.securities.push(h),
                _ => a.insurance.push(h),
            }
        }
        "business" => {
            let (Some(role), Some(status)) = (
                code("role")?.and_then(|r| BusinessRole::parse(&r)),
                code("status")?.and_then(|s| BusinessStatus::parse(&s)),
            ) else {
                return Ok(());
            };
            m.assets.business.push(BusinessFact {
                role,
                status,
                established_on: opt_date(c.date("established_on")?, i),
                registered_capital: opt_fen(c.i64("registered_capital_fen")?, i),
                entity_name: code("entity_name")?,
                record: rec,
            });
        }
        "disability" => {
            let (Some(category), grade) = (
                code("category")?.and_then(|k| DisabilityCategory::parse(&k)),
                c.i64("grade")?,
            ) else {
                return Ok(());
            };
            if grade.is_valid(i) {
                m.disability.push(Certificate {
                    category,
                    grade: grade.value(i).clamp(0, 255) as u8,
                    issued_on: opt_date(c.date("issued_on")?, i),
                    valid_until: opt_date(c.date("valid_until")?, i),
                    record: rec,
                });
            }
        }
        "expense" => {
            let (Some(category), Some(amount), Some(date)) = (
                code("category")?.and_then(|k| ExpenseCategory::parse(&k)),
                opt_fen(c.i64("amount_fen")?, i),
                opt_date(c.date("date")?, i),
            ) else {
                return Ok(());
            };
            m.expenses.push(ExpenseFact {
                category,
                amount,
                date,
                record: rec,
            });
        }
        "staff" => m.staff.push(rec),
        _ => {}
    }
    Ok(())
}

/// The link columns of one result batch of a department source.
struct LinkCols<'a> {
    c: Cols<'a>,
    idx: &'a Int64Array,
    method: &'a StringArray,
    counted: &'a BooleanArray,
    score: &'a Float64Array,
    explanation: &'a StringArray,
    record_id: &'a StringArray,
    id_raw: &'a StringArray,
    name_raw: &'a StringArray,
}

impl<'a> LinkCols<'a> {
    fn new(b: &'a RecordBatch, source: &'a str) -> Result<Self> {
        let c = Cols::new(b, source);
        Ok(LinkCols {
            idx: c.i64("member_idx")?,
            method: c.str("method")?,
            counted: c.bool("counted")?,
            score: c.f64("score")?,
            explanation: c.str("explanation")?,
            record_id: c.str("record_id")?,
            id_raw: c.str("id_raw")?,
            name_raw: c.str("name_raw")?,
            c,
        })
    }
}

/// Adds result row `i` of a department source to member `m` (declared
/// with the id text `member_id`): a counted record's facts, a possible
/// match or an id conflict as a link flag, and with `with_links` the
/// record's link.
fn row_facts(
    source: &str,
    l: &LinkCols<'_>,
    i: usize,
    m: &mut Member,
    member_id: &str,
    with_links: bool,
) -> Result<Option<LinkedRecord>> {
    let meth = l.method.value(i);
    let is_counted = l.counted.value(i);
    let rid = l.record_id.value(i);
    if is_counted {
        add_fact(source, &l.c, i, m)?;
    } else {
        m.link_flags.push(LinkFlag {
            kind: LinkFlagKind::PossibleMatch,
            record: rref(source, rid),
        });
    }
    if meth == Method::IdConflict.code() {
        m.link_flags.push(LinkFlag {
            kind: LinkFlagKind::IdConflict,
            record: rref(source, rid),
        });
    }
    if !with_links {
        return Ok(None);
    }
    let (id, name) = (opt_str(l.id_raw, i), opt_str(l.name_raw, i));
    // A link by id (and name) is explained by that: its waterfall stays
    // with the stored links. Every other link carries the matcher's whole
    // explanation, with what the record carried.
    let evidence = if meth == Method::Exact.code() || meth == Method::Upgraded.code() {
        Evidence::Id {
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
        }
    } else {
        Evidence::Json(match serde_json::from_str(l.explanation.value(i)) {
            Ok(serde_json::Value::Object(mut o)) => {
                o.insert("id".into(), id.map(Into::into).unwrap_or_default());
                o.insert("name".into(), name.map(Into::into).unwrap_or_default());
                serde_json::Value::Object(o)
            }
            _ => serde_json::json!({"id": id, "name": name}),
        })
    };
    Ok(Some(LinkedRecord {
        source: source.to_owned(),
        record_id: rid.to_owned(),
        member: member_id.to_owned(),
        method: meth.to_owned(),
        score: if l.score.is_valid(i) {
            l.score.value(i)
        } else {
            0.0
        },
        counted: is_counted,
        evidence,
    }))
}

/// One department source's result rows, as the query returned them,
/// with each request's rows: `rows[start[k]..start[k + 1]]` are request
/// `k`'s (batch, row) positions in result order.
#[derive(Debug)]
struct SourceRows {
    source: String,
    batches: Vec<RecordBatch>,
    start: Vec<usize>,
    rows: Vec<(u32, u32)>,
}

impl SourceRows {
    /// Groups `batches` by the request owning each row's member (rows of
    /// members not in the table are dropped), keeping result order
    /// within each request.
    fn new(
        source: &str,
        batches: Vec<RecordBatch>,
        owner: &[usize],
        requests: usize,
    ) -> Result<Self> {
        let mut count = vec![0usize; requests + 1];
        let mut placed: Vec<(usize, u32, u32)> = Vec::new();
        for (b, batch) in batches.iter().enumerate() {
            let idx = Cols::new(batch, source).i64("member_idx")?;
            for i in 0..batch.num_rows() {
                if let Some(&k) = usize::try_from(idx.value(i))
                    .ok()
                    .and_then(|mi| owner.get(mi))
                {
                    count[k + 1] += 1;
                    placed.push((k, b as u32, i as u32));
                }
            }
        }
        for k in 0..requests {
            count[k + 1] += count[k];
        }
        let mut next = count.clone();
        let mut rows = vec![(0u32, 0u32); placed.len()];
        for (k, b, i) in placed {
            rows[next[k]] = (b, i);
            next[k] += 1;
        }
        Ok(SourceRows {
            source: source.to_owned(),
            batches,
            start: count,
            rows,
        })
    }
}

use arrow::array::Array;

/// Gathers the facts of every request (see the module docs), with every
/// record's link for the report.
pub async fn gather(
    store: &Store,
    requests: &RequestSet,
    policies: &PolicySet,
    snapshots: &BTreeMap<String, SnapshotMeta>,
    linker: &Linker,
) -> Result<Gathered> {
    gather_with(
        store,
        requests,
        policies,
        snapshots,
        linker,
        GatherOptions::default(),
    )
    .await
}

/// As [`gather`], as `options` say: every household's facts built at
/// once (see [`gather_pending`] for building them one by one).
pub async fn gather_with(
    store: &Store,
    requests: &RequestSet,
    policies: &PolicySet,
    snapshots: &BTreeMap<String, SnapshotMeta>,
    linker: &Linker,
    options: GatherOptions,
) -> Result<Gathered> {
    let pending = gather_pending(store, requests, policies, snapshots, linker, options).await?;
    let t = Instant::now();
    let households = (0..pending.len())
        .into_par_iter()
        .map(|k| pending.facts(k))
        .collect::<Result<Vec<_>>>()?;
    let mut timings = pending.timings;
    timings.assemble += t.elapsed();
    Ok(Gathered {
        households,
        timings,
    })
}

/// A batch whose queries have run: their results held as Arrow, grouped
/// by household, each household's facts built when asked for
/// ([`Pending::facts`]). A batch of a hundred thousand households holds
/// its query results (tens of bytes a record), not every household's
/// facts and links as structs at once (hundreds).
#[derive(Debug)]
pub struct Pending<'a> {
    requests: &'a [Request],
    with_links: bool,
    /// The households in output order (by application id): a request's
    /// position, or its rejection.
    order: Vec<std::result::Result<usize, Rejected>>,
    /// Request `k`'s members are `members[member_start[k]..member_start[k + 1]]`.
    member_start: Vec<usize>,
    /// Every declared member with their hukou facts.
    members: Vec<Member>,
    /// Each request's links placed before the sources: declared members
    /// placed by the matcher, then hukou registrations.
    base_links: Vec<Vec<LinkedRecord>>,
    /// Each department source's rows, in source order.
    sources: Vec<SourceRows>,
    /// Where the time went: DataFusion per source, and grouping the rows
    /// (`assemble`; building a household's facts is the caller's time).
    pub timings: Timings,
}

impl Pending<'_> {
    /// How many households: the requests and the rejected ones.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The `n`th household in application-id order: its facts and links
    /// (sorted), or why it cannot be checked. Calls for different
    /// households may run in parallel.
    pub fn facts(&self, n: usize) -> Result<std::result::Result<CheckFacts, Rejected>> {
        let k = match &self.order[n] {
            Ok(k) => *k,
            Err(r) => return Ok(Err(r.clone())),
        };
        let r = &self.requests[k];
        let first = self.member_start[k];
        let mut ms: Vec<Member> = self.members[first..self.member_start[k + 1]].to_vec();
        let mut ls = self.base_links[k].clone();
        for src in &self.sources {
            let rows = &src.rows[src.start[k]..src.start[k + 1]];
            // Rows come grouped by result batch: its columns looked up
            // once per run of rows.
            for run in rows.chunk_by(|a, b| a.0 == b.0) {
                let l = LinkCols::new(&src.batches[run[0].0 as usize], &src.source)?;
                for &(_, i) in run {
                    let i = i as usize;
                    let at = l.idx.value(i) as usize - first;
                    let member_id = self.members[first + at].id_number.as_str();
                    if let Some(link) =
                        row_facts(&src.source, &l, i, &mut ms[at], member_id, self.with_links)?
                    {
                        ls.push(link);
                    }
                }
            }
        }
        ls.sort_by(|a, b| {
            (&a.source, &a.record_id, &a.member).cmp(&(&b.source, &b.record_id, &b.member))
        });
        Ok(Ok(CheckFacts {
            request: r.clone(),
            household: Household {
                application_id: r.application_id.clone(),
                region_code: r.region_code.clone(),
                hukou_kind: r.hukou_kind,
                assistance: r.assistance,
                applied_on: r.applied_on,
                members: ms,
            },
            links: ls,
        }))
    }
}

/// Runs the queries of every request (see the module docs) and returns
/// their results grouped by household, for [`Pending::facts`].
pub async fn gather_pending<'a>(
    store: &Store,
    requests: &'a RequestSet,
    policies: &PolicySet,
    snapshots: &BTreeMap<String, SnapshotMeta>,
    linker: &Linker,
    options: GatherOptions,
) -> Result<Pending<'a>> {
    let with_links = options.with_links;
    let mut timings = Timings::default();
    let reqs = &requests.requests;
    // The look-back of each request's policy; a request without a policy
    // in force is rejected (an unknown region, a date before the earliest
    // version).
    let mut lookback = Vec::with_capacity(reqs.len());
    let mut rejected: BTreeMap<usize, Rejected> = BTreeMap::new();
    for (k, r) in reqs.iter().enumerate() {
        match policies.select(&r.region_code, r.applied_on) {
            Ok(v) => lookback.push(Some(v.params.lookback_months)),
            Err(e) => {
                lookback.push(None);
                rejected.insert(
                    k,
                    Rejected {
                        application_id: r.application_id.clone(),
                        code: e.code().to_owned(),
                        message: e.to_string(),
                    },
                );
            }
        }
    }

    let t = Instant::now();
    let placed = place_members(reqs, linker);
    let mut members: Vec<Member> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    let mut member_start = Vec::with_capacity(reqs.len() + 1);
    let mut links: Vec<Vec<LinkedRecord>> = vec![Vec::new(); reqs.len()];
    for (k, (r, p)) in reqs.iter().zip(&placed).enumerate() {
        member_start.push(members.len());
        for (d, pl) in r.members.iter().zip(p) {
            let mut member = Member::new(d.id_text(), d.name.clone(), d.relation);
            member.declared_id = d.id_raw.clone().filter(|raw| *raw != member.id_number);
            members.push(member);
            owner.push(k);
            if let Some(l) = &pl.link {
                links[k].push(l.clone());
            }
        }
    }
    member_start.push(members.len());
    let batch = members_batch(reqs, &placed, &lookback)?;
    let bounds = window_bounds(&batch);
    timings.members = t.elapsed();

    let mut persons: Vec<&str> = placed
        .iter()
        .flatten()
        .map(|p| p.person_id.as_str())
        .collect();
    persons.sort_unstable();
    persons.dedup();
    let persons = (persons.len() <= options.literal_persons).then_some(persons);
    // A check of a few persons reads the point indexes when every source
    // has one (the same rows, without a query); otherwise one query per
    // source.
    let fetch = match &persons {
        Some(_) if options.point_index => crate::index::indexes_of(store, &linker.key, snapshots)?
            .map(|ix| Fetch::Index(ix, batch.clone())),
        _ => None,
    };
    timings.indexed = fetch.is_some();
    let fetch = match fetch {
        Some(f) => f,
        None => Fetch::query(store, snapshots, linker, batch, persons, bounds).await?,
    };

    // hukou: the registry itself, by id.
    let t = Instant::now();
    let hukou = fetch.hukou().await?;
    timings.queries.insert("hukou".into(), t.elapsed());
    let mut t_assemble = Duration::ZERO;
    let ta = Instant::now();
    let mut best: BTreeMap<i64, (u8, Option<hedui_model::Date>, String, HukouFacts)> =
        BTreeMap::new();
    for b in &hukou {
        let c = Cols::new(b, "hukou");
        let idx = c.i64("member_idx")?;
        for i in 0..b.num_rows() {
            let Some(status) = opt_str(c.str("status")?, i).and_then(HukouStatus::parse) else {
                continue;
            };
            let rid = c.str("record_id")?.value(i).to_owned();
            let facts = HukouFacts {
                name: opt_str(c.str("name_raw")?, i)
                    .unwrap_or_default()
                    .to_owned(),
                status,
                status_date: opt_date(c.date("status_date")?, i),
                hukou_kind: opt_str(c.str("hukou_kind")?, i).and_then(HukouKind::parse),
                birth_date: opt_date(c.date("birth_date")?, i),
                gender: opt_str(c.str("gender")?, i).and_then(Gender::parse),
                record: rref("hukou", &rid),
            };
            // One registration per person: an active one first, then the
            // latest status date, then the smallest record id.
            let rank = u8::from(status != HukouStatus::Active);
            let key = (rank, std::cmp::Reverse(facts.status_date), rid.clone());
            let e = best.entry(idx.value(i));
            match e {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert((rank, facts.status_date, rid, facts));
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let cur = o.get();
                    if key < (cur.0, std::cmp::Reverse(cur.1), cur.2.clone()) {
                        o.insert((rank, facts.status_date, rid, facts));
                    }
                }
            }
        }
    }
    for (idx, (_, _, rid, facts)) in best {
        let m = &mut members[idx as usize];
        links[owner[idx as usize]].push(LinkedRecord {
            source: "hukou".into(),
            record_id: rid,
            member: m.id_number.clone(),
            method: "exact".into(),
            score: 1.0,
            counted: true,
            evidence: Evidence::Json(serde_json::json!({"registry": "hukou", "name": facts.name})),
        });
        m.hukou = Some(facts);
    }
    t_assemble += ta.elapsed();

    let mut sources = Vec::new();
    for source in snapshots.keys().filter(|s| *s != "hukou") {
        let t = Instant::now();
        let out = fetch.source(source, with_links).await?;
        timings.queries.insert(source.clone(), t.elapsed());
        let ta = Instant::now();
        sources.push(SourceRows::new(source, out, &owner, reqs.len())?);
        t_assemble += ta.elapsed();
    }

    // Households in application-id order (a stable sort: the requests,
    // then those refused when read).
    let ta = Instant::now();
    let mut order: Vec<std::result::Result<usize, Rejected>> = (0..reqs.len())
        .map(|k| rejected.remove(&k).map_or(Ok(k), Err))
        .collect();
    order.extend(requests.rejected.iter().cloned().map(Err));
    fn app_id<'r>(reqs: &'r [Request], h: &'r std::result::Result<usize, Rejected>) -> &'r str {
        match h {
            Ok(k) => &reqs[*k].application_id,
            Err(r) => &r.application_id,
        }
    }
    order.sort_by(|a, b| app_id(reqs, a).cmp(app_id(reqs, b)));
    timings.assemble = t_assemble + ta.elapsed();
    Ok(Pending {
        requests: reqs,
        with_links,
        order,
        member_start,
        members,
        base_links: links,
        sources,
        timings,
    })
}

/// Where a check's rows come from.
enum Fetch<'a> {
    /// The point indexes of every source, by source, and the members.
    Index(BTreeMap<String, Arc<crate::index::PointIndex>>, RecordBatch),
    /// One DataFusion query per source over the members table and the
    /// linked views; the persons named literally when they are few.
    Query {
        ctx: SessionContext,
        persons: Option<Vec<&'a str>>,
        bounds: Option<(i32, i32)>,
    },
}

impl<'a> Fetch<'a> {
    /// A session with the members table and every source's view (the
    /// hukou registry's rows) registered.
    async fn query(
        store: &Store,
        snapshots: &BTreeMap<String, SnapshotMeta>,
        linker: &Linker,
        members: RecordBatch,
        persons: Option<Vec<&'a str>>,
        bounds: Option<(i32, i32)>,
    ) -> Result<Fetch<'a>> {
        let mut config = SessionConfig::new().with_target_partitions(2);
        // Strings come back as Utf8, the type of the canonical schema.
        config
            .options_mut()
            .execution
            .parquet
            .schema_force_view_types = false;
        // Predicates evaluated while decoding: a column is decoded only for
        // the rows that pass (the explanations of the few non-id links).
        config.options_mut().execution.parquet.pushdown_filters = true;
        config.options_mut().execution.parquet.reorder_filters = true;
        // `VARCHAR` in the SQL is Utf8 too, the type of the canonical schema.
        config.options_mut().sql_parser.map_string_types_to_utf8view = false;
        let ctx = SessionContext::new_with_config_rt(config, shared_runtime()?);
        ctx.register_batch("members", members)
            .map_err(df("members"))?;
        for (source, meta) in snapshots {
            if source == "hukou" {
                register(&ctx, "s_hukou", &meta.path.join(ROWS_FILE)).await?;
                continue;
            }
            let path = store.view_path(&meta.id, &linker.key)?;
            if !path.is_file() {
                return Err(crate::Error::Missing(format!(
                    "{source} snapshot {} has no linked view under {}: link it first",
                    meta.id, linker.key
                )));
            }
            register(&ctx, &format!("v_{source}"), &path).await?;
        }
        Ok(Fetch::Query {
            ctx,
            persons,
            bounds,
        })
    }

    async fn run(ctx: &SessionContext, sql: &str, what: &str) -> Result<Vec<RecordBatch>> {
        ctx.sql(sql)
            .await
            .map_err(df(what))?
            .collect()
            .await
            .map_err(df(what))
    }

    /// The hukou rows of the members (see [`hukou_query`]).
    async fn hukou(&self) -> Result<Vec<RecordBatch>> {
        match self {
            Fetch::Index(ix, members) => match ix.get("hukou") {
                Some(h) => Ok(vec![crate::index::hukou_rows(h, members)?]),
                None => Ok(Vec::new()),
            },
            Fetch::Query { ctx, persons, .. } => {
                Self::run(ctx, &hukou_query(persons.as_deref()), "hukou").await
            }
        }
    }

    /// The rows of one department source (see [`source_query`]).
    async fn source(&self, source: &str, with_links: bool) -> Result<Vec<RecordBatch>> {
        match self {
            Fetch::Index(ix, members) => match ix.get(source) {
                Some(s) => Ok(vec![crate::index::source_rows(
                    s, source, members, with_links,
                )?]),
                None => Ok(Vec::new()),
            },
            Fetch::Query {
                ctx,
                persons,
                bounds,
            } => {
                let sql = source_query(source, with_links, *bounds, persons.as_deref());
                Self::run(ctx, &sql, source).await
            }
        }
    }
}

/// Bytes of Parquet footers and page indexes kept between checks.
const METADATA_CACHE_BYTES: usize = 512 << 20;

/// One DataFusion runtime for the process: its cache of Parquet footers
/// and page indexes outlives each check's session, so a per-applicant
/// check does not read the metadata of every snapshot and view again.
/// Stored files never change under a path (snapshots are content
/// addressed; links and views are published whole, by rename), and the
/// cache keys each entry by the file's size and modification time too.
fn shared_runtime() -> Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>> {
    use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
    static RUNTIME: std::sync::OnceLock<Arc<RuntimeEnv>> = std::sync::OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(Arc::clone(rt));
    }
    let rt = RuntimeEnvBuilder::new()
        .with_metadata_cache_limit(METADATA_CACHE_BYTES)
        .build_arc()
        .map_err(df("the query runtime"))?;
    Ok(Arc::clone(RUNTIME.get_or_init(|| rt)))
}

async fn register(ctx: &SessionContext, name: &str, path: &Path) -> Result<()> {
    let p = path.to_string_lossy().into_owned();
    ctx.register_parquet(name, &p, ParquetReadOptions::default())
        .await
        .map_err(df(format!("{name} ({p})")))
}
