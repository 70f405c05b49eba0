//! Regional policies (地方政策): parameters, versions, selection, hashes.
//!
//! A [`PolicySet`] holds one [`Policy`] per region prefix (行政区划代码
//! prefix; `""` covers every region). A policy has [`PolicyVersion`]s by
//! `effective_from`. A check on `applied_on` in region `530302` uses the
//! policy with the **longest prefix** of `530302`, and of it the version
//! with the latest `effective_from ≤ applied_on`. A date before that
//! policy's earliest version is [`Error::NoPolicyInForce`] — the selection
//! never falls back to a shorter prefix, because a region that has its own
//! policy has left the base's rules.
//!
//! Every version carries its [`PolicyHash`]: the blake3 digest of its
//! canonical form (see [`PolicyVersion::canonical_json`]), computed over the
//! fully-resolved parameters, so a version inherited from a base has the
//! hash of what it actually applies.

use std::fmt;

use hedui_model::codes::{HukouKind, VehicleKind};
use hedui_model::{CodeList, Date, Fen};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::ratio::{Ppm, Ratio};

/// The monthly 低保 standard `S` for one person, by household kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Standard {
    /// 城市低保标准, fen per person per month.
    pub urban: Fen,
    /// 农村低保标准, fen per person per month.
    pub rural: Fen,
}

/// How 支出型困难 (`rigid_expense`) is determined (rules §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RigidExpenseForm {
    /// The seed documents' rule: `P ≥ S` and `(W − E) / lookback_months / n
    /// < S`, where `E` is the window's rigid expense.
    Seed,
    /// The 2025 national form: `P ≥ S`, `P` below last year's local
    /// per-capita disposable income, and `E ÷ W` above a ratio.
    National2025 {
        /// 上年度当地居民人均可支配收入, fen per person per **year**
        /// (compared with the monthly `P` as `12 × P < this`).
        disposable_income_per_year: Fen,
        /// 刚性支出占家庭总收入比例: `E ÷ W` must exceed it.
        expense_ratio: Ratio,
    },
}

/// The fully-resolved parameters of one policy version. Every figure the
/// rules mark *(policy)*.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PolicyParams {
    /// Full calendar months of the income look-back window (rules §3).
    pub lookback_months: u32,
    /// 低保标准 `S` by household kind.
    pub standard: Standard,
    /// Posterior match probability at or above which a fuzzy record is
    /// linked (rules §2.4).
    pub link_threshold: Ppm,
    /// Posterior match probability from which a fuzzy record is listed as a
    /// possible match (rules §2.4).
    pub review_threshold: Ppm,
    /// Financial assets limit in months of `S` per person (rules §4).
    pub financial_months: u32,
    /// Most residential certificates a household may hold (rules §4).
    pub max_residential: u32,
    /// Vehicle kinds that do not disqualify (rules §4), sorted, distinct.
    pub allowed_vehicle_kinds: Vec<VehicleKind>,
    /// Registered capital above which a flagged entity fails the business
    /// test; `None`: a registration never fails it (rules §4).
    pub business_capital_limit: Option<Fen>,
    /// 低收入 upper bound as a multiple of `S` (rules §5).
    pub low_income_factor: Ratio,
    /// Which form of the 支出型 rule applies (rules §5).
    pub rigid_expense: RigidExpenseForm,
    /// Share of `S` added to a benefit per special member (rules §5).
    pub special_increment: Ratio,
    /// Age under which a member is a minor unable to work for 特困 (rules §5).
    pub tekun_minor_age: u32,
    /// 就业成本 deducted from a month's wage, fen (rules §3).
    pub employment_cost: Fen,
    /// Months of the 渐退期 (rules §7).
    pub gradual_exit_months: u32,
    /// `medical_alert = medical_alert_multiple × S` (rules §7).
    pub medical_alert_multiple: u32,
    /// Whether the basic pension of the resident scheme is excluded from
    /// income (rules §3).
    pub exclude_resident_pension: bool,
}

impl PolicyParams {
    /// `S` for a household of this kind.
    pub fn standard(&self, kind: HukouKind) -> Fen {
        match kind {
            HukouKind::Urban => self.standard.urban,
            HukouKind::Rural => self.standard.rural,
        }
    }

    /// Whether a vehicle of this kind leaves the vehicle test passing.
    pub fn vehicle_allowed(&self, kind: VehicleKind) -> bool {
        self.allowed_vehicle_kinds.contains(&kind)
    }

    /// The large-medical-expense threshold of rules §7 for a standard `S`.
    pub fn medical_alert(&self, standard: Fen) -> Fen {
        standard.times(i64::from(self.medical_alert_multiple))
    }

    /// The canonical JSON value of the parameters (sorted keys when written
    /// by [`canonical_string`]); money in integer fen, ratios as `{num,
    /// den}`, probabilities in ppm.
    pub fn to_canonical_value(&self) -> Value {
        let rigid = match self.rigid_expense {
            RigidExpenseForm::Seed => json!({"form": "seed"}),
            RigidExpenseForm::National2025 {
                disposable_income_per_year,
                expense_ratio,
            } => json!({
                "form": "national_2025",
                "disposable_income_per_year_fen": disposable_income_per_year.0,
                "expense_ratio": ratio_value(expense_ratio),
            }),
        };
        json!({
            "lookback_months": self.lookback_months,
            "standard_fen": {"urban": self.standard.urban.0, "rural": self.standard.rural.0},
            "link_threshold_ppm": self.link_threshold.get(),
            "review_threshold_ppm": self.review_threshold.get(),
            "financial_months": self.financial_months,
            "max_residential": self.max_residential,
            "allowed_vehicle_kinds": self.allowed_vehicle_kinds.iter().map(|k| k.code()).collect::<Vec<_>>(),
            "business_capital_limit_fen": self.business_capital_limit.map(|f| f.0),
            "low_income_factor": ratio_value(self.low_income_factor),
            "rigid_expense": rigid,
            "special_increment": ratio_value(self.special_increment),
            "tekun_minor_age": self.tekun_minor_age,
            "employment_cost_fen": self.employment_cost.0,
            "gradual_exit_months": self.gradual_exit_months,
            "medical_alert_multiple": self.medical_alert_multiple,
            "exclude_resident_pension": self.exclude_resident_pension,
        })
    }
}

fn ratio_value(r: Ratio) -> Value {
    json!({"num": r.num(), "den": r.den()})
}

/// Writes a JSON value canonically: object keys sorted by their UTF-8
/// bytes, no whitespace, strings escaped as `serde_json` escapes them,
/// numbers as integers. Independent of `serde_json`'s map ordering feature.
pub fn canonical_string(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
    }
}

/// The blake3 digest of a policy version's canonical form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyHash(pub [u8; 32]);

impl PolicyHash {
    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

impl fmt::Display for PolicyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PolicyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyHash({})", self.to_hex())
    }
}

impl Serialize for PolicyHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// What a report cites of the policy it used: `{"name", "region",
/// "version", "hash"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PolicyRef {
    /// The policy's name (`reference`).
    pub name: String,
    /// Its region prefix (`""`: every region).
    pub region: String,
    /// The version's `effective_from`.
    pub version: Date,
    /// The version's hash, hex.
    pub hash: PolicyHash,
}

/// One version of a regional policy: the parameters in force from
/// `effective_from` until the next version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersion {
    /// The policy's name.
    pub name: String,
    /// The policy's region prefix.
    pub region: String,
    /// First day this version is in force.
    pub effective_from: Date,
    /// The fully-resolved parameters.
    pub params: PolicyParams,
    /// blake3 of [`PolicyVersion::canonical_json`].
    pub hash: PolicyHash,
}

/// Tag of the canonical form; a change of the form changes every hash.
pub const CANONICAL_FORMAT: &str = "hedui.policy.v1";

impl PolicyVersion {
    /// A version from resolved parameters, its hash computed.
    pub fn new(name: &str, region: &str, effective_from: Date, params: PolicyParams) -> Self {
        let mut v = PolicyVersion {
            name: name.to_owned(),
            region: region.to_owned(),
            effective_from,
            params,
            hash: PolicyHash([0; 32]),
        };
        v.hash = PolicyHash(*blake3::hash(v.canonical_json().as_bytes()).as_bytes());
        v
    }

    /// The canonical form that is hashed:
    /// `{"effective_from":"YYYY-MM-DD","format":"hedui.policy.v1","name":…,
    /// "params":{…},"region":…}` with keys sorted, no whitespace. Free text
    /// (`description`, `note`) and the name of a base are not part of it:
    /// two versions that apply the same rules to the same region from the
    /// same day have the same hash.
    pub fn canonical_json(&self) -> String {
        canonical_string(&json!({
            "format": CANONICAL_FORMAT,
            "name": self.name,
            "region": self.region,
            "effective_from": self.effective_from.format("%Y-%m-%d").to_string(),
            "params": self.params.to_canonical_value(),
        }))
    }

    /// What a report cites.
    pub fn policy_ref(&self) -> PolicyRef {
        PolicyRef {
            name: self.name.clone(),
            region: self.region.clone(),
            version: self.effective_from,
            hash: self.hash,
        }
    }
}

/// A regional policy: a region prefix and its versions, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Unique name (`reference`, `yunnan`).
    pub name: String,
    /// Region-code prefix it covers: ASCII digits, at most 6; `""` = all.
    pub region: String,
    /// The policy it inherits unset parameters from, if any.
    pub base: Option<String>,
    /// The file it was read from (as given to the parser).
    pub file: String,
    /// Free text, not hashed.
    pub description: Option<String>,
    /// Versions by strictly increasing `effective_from`.
    pub versions: Vec<PolicyVersion>,
}

impl Policy {
    /// The version in force on `on`: the latest `effective_from ≤ on`.
    pub fn in_force(&self, on: Date) -> Option<&PolicyVersion> {
        self.versions.iter().rev().find(|v| v.effective_from <= on)
    }

    /// The earliest version's `effective_from`.
    pub fn earliest(&self) -> Option<Date> {
        self.versions.first().map(|v| v.effective_from)
    }

    /// Whether this policy's prefix covers a region code.
    pub fn covers(&self, region_code: &str) -> bool {
        region_code.starts_with(&self.region)
    }
}

/// Every loaded policy, by region prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicySet {
    /// Sorted by region prefix.
    pub(crate) policies: Vec<Policy>,
}

/// The shipped reference policy (`fixtures/policies/reference.toml`).
pub const REFERENCE_TOML: &str = include_str!("../../../fixtures/policies/reference.toml");

impl PolicySet {
    /// Parses policy files given as `(file name, contents)`: pure, no I/O.
    /// The file names only serve error messages and [`Policy::file`]. A
    /// file may name another as its `base`; order does not matter.
    pub fn parse<'a, I>(files: I) -> Result<PolicySet>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        crate::file::parse_files(files)
    }

    /// The shipped reference policy alone (prefix `""`, every region; two
    /// versions, 2021-07-01 and 2026-01-01).
    pub fn reference() -> PolicySet {
        PolicySet::parse([("fixtures/policies/reference.toml", REFERENCE_TOML)])
            .expect("the embedded reference policy parses (tested)")
    }

    /// The policies, sorted by region prefix.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The policy of a region: the longest prefix of `region_code`.
    pub fn policy_for(&self, region_code: &str) -> Result<&Policy> {
        self.policies
            .iter()
            .filter(|p| p.covers(region_code))
            .max_by_key(|p| p.region.len())
            .ok_or_else(|| Error::UnknownRegion {
                region_code: region_code.to_owned(),
            })
    }

    /// The version in force for a region on a date (`applied_on` of a
    /// check, the run date of a monitoring run).
    pub fn select(&self, region_code: &str, on: Date) -> Result<&PolicyVersion> {
        let policy = self.policy_for(region_code)?;
        policy.in_force(on).ok_or_else(|| Error::NoPolicyInForce {
            region_code: region_code.to_owned(),
            on,
            policy: policy.name.clone(),
            earliest: policy.earliest().unwrap_or(on),
        })
    }

    /// The version with this hash (hex), for replay.
    pub fn by_hash(&self, hex: &str) -> Option<&PolicyVersion> {
        self.policies
            .iter()
            .flat_map(|p| p.versions.iter())
            .find(|v| v.hash.to_hex().eq_ignore_ascii_case(hex))
    }
}
