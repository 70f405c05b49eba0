//! Check requests (核对请求): `applications` and `members`, normalised by
//! `hedui-sources`, into [`Request`]s. A request that cannot be taken (a
//! quarantined application row, or a quarantined member row of it) is a
//! [`Rejected`] request with its reasons: it gets an error object, the rest
//! of the batch goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use hedui_model::codes::{Assistance, HukouKind, MemberRelation};
use hedui_model::{CodeList, Date, IdNumber};
use hedui_sources::Normalised;

use crate::cols::{Cols, opt_str};
use crate::error::{Error, Result};

/// A declared household member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredMember {
    /// The id as declared.
    pub id_raw: Option<String>,
    /// The valid normalised id, if the declared one is valid.
    pub id_number: Option<IdNumber>,
    /// The cleaned declared id (even when invalid).
    pub id_clean: Option<String>,
    /// The name as declared.
    pub name: String,
    /// Relation to the applicant.
    pub relation: MemberRelation,
    /// The member's canonical row key (`application/id/name`).
    pub row_key: String,
}

impl DeclaredMember {
    /// The id text the report shows: the normalised id, else the cleaned
    /// declared text, else empty.
    pub fn id_text(&self) -> String {
        self.id_number
            .map(|i| i.as_str().to_owned())
            .or_else(|| self.id_clean.clone())
            .unwrap_or_default()
    }
}

/// One household's check request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Unique per request.
    pub application_id: String,
    /// Selects the regional policy.
    pub region_code: String,
    /// Urban or rural, if the request says.
    pub hukou_kind: Option<HukouKind>,
    /// What was applied for.
    pub assistance: Assistance,
    /// Fixes the window and the asset date.
    pub applied_on: Date,
    /// The signed authorisation (授权书) permitting the query.
    pub authorization_ref: String,
    /// Declared members: the applicant first, then by relation, id and
    /// name (a canonical order, the same whatever the file's row order).
    pub members: Vec<DeclaredMember>,
}

/// A request that cannot be checked, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The application (as given).
    pub application_id: String,
    /// Error code (`invalid_request`).
    pub code: String,
    /// What is wrong, naming the rows and columns.
    pub message: String,
}

/// The requests of a batch, sorted by application id.
#[derive(Clone, Debug, Default)]
pub struct RequestSet {
    /// Requests to check.
    pub requests: Vec<Request>,
    /// Requests refused.
    pub rejected: Vec<Rejected>,
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    for ext in ["parquet", "arrow", "ipc", "feather", "csv"] {
        let p = dir.join(format!("{stem}.{ext}"));
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::Requests(format!(
        "{}: no {stem}.parquet, {stem}.arrow or {stem}.csv",
        dir.display()
    )))
}

/// Loads `DIR/applications.*` and `DIR/members.*`.
pub fn load_requests(dir: &Path) -> Result<RequestSet> {
    let apps = hedui_sources::load_file(
        &hedui_sources::tables::applications::SPEC,
        &find(dir, "applications")?,
    )?;
    let members = hedui_sources::load_file(
        &hedui_sources::tables::members::SPEC,
        &find(dir, "members")?,
    )?;
    from_normalised(&apps, &members)
}

fn quarantined(n: &Normalised, key_col: &str) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for q in &n.quarantine {
        let c = Cols::new(q, "quarantine");
        let (row, rid, detail) = (
            q.column_by_name("row"),
            c.str("record_id")?,
            c.str("detail")?,
        );
        let raw = c.str("raw")?;
        let rows = row.and_then(|r| r.as_primitive_opt::<arrow::datatypes::Int64Type>());
        for i in 0..q.num_rows() {
            // The application id of a quarantined row: its own column, from the raw row.
            let app = serde_json::from_str::<serde_json::Value>(raw.value(i))
                .ok()
                .and_then(|v| v.get(key_col).and_then(|s| s.as_str()).map(str::to_owned))
                .or_else(|| opt_str(rid, i).map(str::to_owned))
                .unwrap_or_default();
            let row_no = rows.map(|r| r.value(i)).unwrap_or_default();
            out.entry(app).or_default().push(format!(
                "{} row {row_no}: {}",
                n.table.name,
                detail.value(i)
            ));
        }
    }
    Ok(out)
}

/// Builds the request set from normalised `applications` and `members`.
pub fn from_normalised(apps: &Normalised, members: &Normalised) -> Result<RequestSet> {
    from_tables(apps, members, "application_id", None)
}

/// What the roster says of a household beyond a request's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolled {
    /// When assistance began.
    pub since: Date,
    /// The monthly benefit paid, if given.
    pub monthly_benefit: Option<hedui_model::Fen>,
    /// The last check's date, if given.
    pub last_checked: Option<Date>,
}

/// A monitoring roster (contract.md): its households as requests dated on
/// the run date (`application_id` = `household_id`), and each household's
/// enrolment.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    /// The households, as requests on the run date.
    pub set: RequestSet,
    /// Since, benefit and last check by household id.
    pub enrolled: BTreeMap<String, Enrolled>,
}

/// Builds a roster from normalised `roster_households` and
/// `roster_members`: every household a request dated `run_date`, so the
/// engine gathers its facts on the run date as for a check.
pub fn roster_from_normalised(
    households: &Normalised,
    members: &Normalised,
    run_date: Date,
) -> Result<Roster> {
    let set = from_tables(households, members, "household_id", Some(run_date))?;
    let mut enrolled = BTreeMap::new();
    for b in &households.rows {
        let c = Cols::new(b, "roster_households");
        let (id, since, benefit, applied) = (
            c.str("household_id")?,
            c.date("since")?,
            c.i64("monthly_benefit_fen")?,
            c.date("applied_on")?,
        );
        for i in 0..b.num_rows() {
            if !since.is_valid(i) {
                continue;
            }
            enrolled.insert(
                id.value(i).to_owned(),
                Enrolled {
                    since: crate::cols::day(since.value(i)),
                    monthly_benefit: crate::cols::opt_fen(benefit, i),
                    last_checked: crate::cols::opt_date(applied, i),
                },
            );
        }
    }
    Ok(Roster { set, enrolled })
}

/// Loads `DIR/roster_households.*` and `DIR/roster_members.*`.
pub fn load_roster(dir: &Path, run_date: Date) -> Result<Roster> {
    let (h, m) = load_roster_tables(dir)?;
    roster_from_normalised(&h, &m, run_date)
}

/// Reads and normalises the two roster tables of `DIR`.
pub fn load_roster_tables(dir: &Path) -> Result<(Normalised, Normalised)> {
    let h = hedui_sources::load_file(
        &hedui_sources::tables::roster_households::SPEC,
        &find(dir, "roster_households")?,
    )?;
    let m = hedui_sources::load_file(
        &hedui_sources::tables::roster_members::SPEC,
        &find(dir, "roster_members")?,
    )?;
    Ok((h, m))
}

/// The request set of two tables keyed by `key` (`application_id` or
/// `household_id`); `run_date`, if given, dates every request (a roster).
fn from_tables(
    apps: &Normalised,
    members: &Normalised,
    key: &str,
    run_date: Option<Date>,
) -> Result<RequestSet> {
    let noun = if key == "household_id" {
        "household"
    } else {
        "application"
    };
    let mut bad = quarantined(apps, key)?;
    for (k, v) in quarantined(members, key)? {
        bad.entry(k).or_default().extend(v);
    }
    let mut declared: BTreeMap<String, Vec<DeclaredMember>> = BTreeMap::new();
    for b in &members.rows {
        let c = Cols::new(b, members.table.name);
        let (app, key, raw, num, clean, name, rel) = (
            c.str(key)?,
            c.str("record_id")?,
            c.str("id_raw")?,
            c.str("id_number")?,
            c.str("id_clean")?,
            c.str("name_raw")?,
            c.str("relation")?,
        );
        for i in 0..b.num_rows() {
            declared
                .entry(app.value(i).to_owned())
                .or_default()
                .push(DeclaredMember {
                    id_raw: opt_str(raw, i).map(str::to_owned),
                    id_number: opt_str(num, i).and_then(|s| IdNumber::parse_valid(s).ok()),
                    id_clean: opt_str(clean, i).map(str::to_owned),
                    name: name.value(i).to_owned(),
                    relation: MemberRelation::parse(rel.value(i)).unwrap_or(MemberRelation::Other),
                    row_key: key.value(i).to_owned(),
                });
        }
    }
    // Members in a canonical order — the applicant first, then by
    // relation, id and name — so that a request read back from its
    // (content-addressed, row-order-free) snapshot is the same request.
    for ms in declared.values_mut() {
        ms.sort_by(|a, b| {
            (a.relation, a.id_text(), &a.name).cmp(&(b.relation, b.id_text(), &b.name))
        });
    }
    let mut set = RequestSet::default();
    for b in &apps.rows {
        let c = Cols::new(b, apps.table.name);
        let (id, region, kind, assistance, applied, auth) = (
            c.str(key)?,
            c.str("region_code")?,
            c.str("hukou_kind")?,
            c.str("assistance")?,
            c.date("applied_on")?,
            c.str("authorization_ref")?,
        );
        for i in 0..b.num_rows() {
            let app = id.value(i).to_owned();
            let members = declared.remove(&app).unwrap_or_default();
            if let Some(reasons) = bad.remove(&app) {
                set.rejected.push(Rejected {
                    application_id: app,
                    code: "invalid_request".into(),
                    message: reasons.join("; "),
                });
                continue;
            }
            if members.is_empty() {
                set.rejected.push(Rejected {
                    application_id: app,
                    code: "no_members".into(),
                    message: format!("the {noun} declares no household member"),
                });
                continue;
            }
            set.requests.push(Request {
                application_id: app,
                region_code: region.value(i).to_owned(),
                hukou_kind: opt_str(kind, i).and_then(HukouKind::parse),
                assistance: Assistance::parse(assistance.value(i)).unwrap_or(Assistance::Dibao),
                applied_on: match run_date {
                    Some(d) => d,
                    None => crate::cols::day(applied.value(i)),
                },
                authorization_ref: auth.value(i).to_owned(),
                members,
            });
        }
    }
    // Quarantined applications, and members of no known application.
    for (app, reasons) in bad {
        set.rejected.push(Rejected {
            application_id: app,
            code: "invalid_request".into(),
            message: reasons.join("; "),
        });
    }
    for (app, _) in declared {
        set.rejected.push(Rejected {
            application_id: app,
            code: "no_application".into(),
            message: format!(
                "members are declared for a{} {noun} that is not in {}",
                if noun == "application" { "n" } else { "" },
                apps.table.name
            ),
        });
    }
    set.requests
        .sort_by(|a, b| a.application_id.cmp(&b.application_id));
    set.rejected
        .sort_by(|a, b| a.application_id.cmp(&b.application_id));
    set.rejected
        .dedup_by(|a, b| a.application_id == b.application_id);
    Ok(set)
}
