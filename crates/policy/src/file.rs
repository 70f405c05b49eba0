//! The policy file format (TOML) and its strict reader.
//!
//! One file per regional policy, several versions inside:
//!
//! ```toml
//! name = "yunnan"                 # unique among the loaded files
//! region = "53"                   # region-code prefix, digits, at most 6; "" = every region
//! base = "reference"              # optional: inherit what this file does not set
//! description = "…"               # optional free text, not hashed
//!
//! [[version]]
//! effective_from = 2024-01-01     # a TOML date (or the string "2024-01-01")
//! note = "…"                      # optional free text, not hashed
//! lookback_months = 12            # integer
//! financial_months = 24           # integer: limit = financial_months × S × n
//! max_residential = 1             # integer
//! tekun_minor_age = 18            # integer
//! gradual_exit_months = 6         # integer
//! medical_alert_multiple = 24     # integer: medical_alert = medical_alert_multiple × S
//! exclude_resident_pension = true # boolean
//! link_threshold = "0.99"         # probability: decimal string, ≤ 6 decimals (held in ppm)
//! review_threshold = "0.80"
//! low_income_factor = "3/2"       # ratio: "1.5", "3/2" or "150%", held exactly
//! special_increment = "20%"
//! employment_cost = "300.00"      # money: yuan as a decimal string
//! business_capital_limit = "none" # money, or "none" for unset
//! allowed_vehicle_kinds = ["motorcycle", "agricultural", "disability_mobility"]
//!
//! [version.standard]              # 低保标准 S, yuan per person per month
//! urban = "900.00"
//! rural = "700.00"
//!
//! [version.rigid_expense]         # replaced whole when given
//! form = "seed"                   # or "national_2025" with the two keys below
//! # disposable_income_per_year = "48000.00"   # 上年度人均可支配收入, yuan per person per year
//! # expense_ratio = "50%"                     # E ÷ W must exceed it
//! ```
//!
//! Money is never a bare number (`900` would be ambiguous between yuan and
//! fen) and never a float; a bare number is refused with a message saying
//! how to write it. Unknown keys are refused. Every error names the file
//! and the key (`version[2026-01-01].standard.urban`).
//!
//! # Inheritance
//!
//! Versions are listed with strictly increasing `effective_from`. Each sets
//! only what changes: version *k* is the overlay of versions 1…*k* of the
//! file. Without a `base`, the first version must set every parameter.
//! With `base = "B"`, version *k* starts from the version of policy B in
//! force on version *k*'s own `effective_from`, then overlays versions 1…*k*
//! of the file; B must have one. A version of B that takes effect later
//! does not reach this region until the region issues a version of its own
//! (a regional version, once issued, does not change under it, and neither
//! does its hash). Resolution happens before hashing.

use std::collections::BTreeMap;
use std::path::Path;

use hedui_model::codes::VehicleKind;
use hedui_model::{CodeList, Date, Fen};
use serde::Deserialize;
use toml::Value;

use crate::error::{Error, Result};
use crate::policy::{Policy, PolicyParams, PolicySet, PolicyVersion, RigidExpenseForm, Standard};
use crate::ratio::{Ppm, Ratio};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: String,
    region: String,
    base: Option<String>,
    description: Option<String>,
    #[serde(default)]
    version: Vec<RawVersion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    effective_from: Value,
    #[allow(dead_code)]
    note: Option<String>,
    lookback_months: Option<Value>,
    standard: Option<RawStandard>,
    link_threshold: Option<Value>,
    review_threshold: Option<Value>,
    financial_months: Option<Value>,
    max_residential: Option<Value>,
    allowed_vehicle_kinds: Option<Value>,
    business_capital_limit: Option<Value>,
    low_income_factor: Option<Value>,
    rigid_expense: Option<RawRigid>,
    special_increment: Option<Value>,
    tekun_minor_age: Option<Value>,
    employment_cost: Option<Value>,
    gradual_exit_months: Option<Value>,
    medical_alert_multiple: Option<Value>,
    exclude_resident_pension: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStandard {
    urban: Option<Value>,
    rural: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRigid {
    form: String,
    disposable_income_per_year: Option<Value>,
    expense_ratio: Option<Value>,
}

/// What one version sets; `None`: inherited.
#[derive(Clone, Debug, Default)]
struct Patch {
    lookback_months: Option<u32>,
    standard_urban: Option<Fen>,
    standard_rural: Option<Fen>,
    link_threshold: Option<Ppm>,
    review_threshold: Option<Ppm>,
    financial_months: Option<u32>,
    max_residential: Option<u32>,
    allowed_vehicle_kinds: Option<Vec<VehicleKind>>,
    business_capital_limit: Option<Option<Fen>>,
    low_income_factor: Option<Ratio>,
    rigid_expense: Option<RigidExpenseForm>,
    special_increment: Option<Ratio>,
    tekun_minor_age: Option<u32>,
    employment_cost: Option<Fen>,
    gradual_exit_months: Option<u32>,
    medical_alert_multiple: Option<u32>,
    exclude_resident_pension: Option<bool>,
}

macro_rules! overlay {
    ($dst:expr, $src:expr, $($f:ident),+) => {
        $( if $src.$f.is_some() { $dst.$f = $src.$f.clone(); } )+
    };
}

impl Patch {
    fn overlay(&mut self, o: &Patch) {
        overlay!(
            self,
            o,
            lookback_months,
            standard_urban,
            standard_rural,
            link_threshold,
            review_threshold,
            financial_months,
            max_residential,
            allowed_vehicle_kinds,
            business_capital_limit,
            low_income_factor,
            rigid_expense,
            special_increment,
            tekun_minor_age,
            employment_cost,
            gradual_exit_months,
            medical_alert_multiple,
            exclude_resident_pension
        );
    }

    fn from_params(p: &PolicyParams) -> Patch {
        Patch {
            lookback_months: Some(p.lookback_months),
            standard_urban: Some(p.standard.urban),
            standard_rural: Some(p.standard.rural),
            link_threshold: Some(p.link_threshold),
            review_threshold: Some(p.review_threshold),
            financial_months: Some(p.financial_months),
            max_residential: Some(p.max_residential),
            allowed_vehicle_kinds: Some(p.allowed_vehicle_kinds.clone()),
            business_capital_limit: Some(p.business_capital_limit),
            low_income_factor: Some(p.low_income_factor),
            rigid_expense: Some(p.rigid_expense),
            special_increment: Some(p.special_increment),
            tekun_minor_age: Some(p.tekun_minor_age),
            employment_cost: Some(p.employment_cost),
            gradual_exit_months: Some(p.gradual_exit_months),
            medical_alert_multiple: Some(p.medical_alert_multiple),
            exclude_resident_pension: Some(p.exclude_resident_pension),
        }
    }

    /// The resolved parameters, checked as a whole.
    fn finish(&self, cx: &Cx<'_>) -> Result<PolicyParams> {
        fn need<T: Clone>(v: &Option<T>, cx: &Cx<'_>, key: &str) -> Result<T> {
            v.clone().ok_or_else(|| {
                cx.err(
                    key,
                    "missing: the first version of a policy without a base must set every parameter",
                )
            })
        }
        let p = PolicyParams {
            lookback_months: need(&self.lookback_months, cx, "lookback_months")?,
            standard: Standard {
                urban: need(&self.standard_urban, cx, "standard.urban")?,
                rural: need(&self.standard_rural, cx, "standard.rural")?,
            },
            link_threshold: need(&self.link_threshold, cx, "link_threshold")?,
            review_threshold: need(&self.review_threshold, cx, "review_threshold")?,
            financial_months: need(&self.financial_months, cx, "financial_months")?,
            max_residential: need(&self.max_residential, cx, "max_residential")?,
            allowed_vehicle_kinds: need(&self.allowed_vehicle_kinds, cx, "allowed_vehicle_kinds")?,
            business_capital_limit: need(
                &self.business_capital_limit,
                cx,
                "business_capital_limit",
            )?,
            low_income_factor: need(&self.low_income_factor, cx, "low_income_factor")?,
            rigid_expense: need(&self.rigid_expense, cx, "rigid_expense")?,
            special_increment: need(&self.special_increment, cx, "special_increment")?,
            tekun_minor_age: need(&self.tekun_minor_age, cx, "tekun_minor_age")?,
            employment_cost: need(&self.employment_cost, cx, "employment_cost")?,
            gradual_exit_months: need(&self.gradual_exit_months, cx, "gradual_exit_months")?,
            medical_alert_multiple: need(
                &self.medical_alert_multiple,
                cx,
                "medical_alert_multiple",
            )?,
            exclude_resident_pension: need(
                &self.exclude_resident_pension,
                cx,
                "exclude_resident_pension",
            )?,
        };
        if p.lookback_months == 0 || p.lookback_months > 120 {
            return Err(cx.err("lookback_months", "must be between 1 and 120"));
        }
        if p.standard.urban.0 <= 0 {
            return Err(cx.err("standard.urban", "must be positive"));
        }
        if p.standard.rural.0 <= 0 {
            return Err(cx.err("standard.rural", "must be positive"));
        }
        if p.review_threshold > p.link_threshold {
            return Err(cx.err(
                "review_threshold",
                &format!(
                    "{} is above link_threshold {}",
                    p.review_threshold, p.link_threshold
                ),
            ));
        }
        if p.low_income_factor.num() < p.low_income_factor.den() {
            return Err(cx.err("low_income_factor", "must be at least 1"));
        }
        if p.tekun_minor_age > 150 {
            return Err(cx.err("tekun_minor_age", "must be at most 150"));
        }
        Ok(p)
    }
}

/// Where an error is: the file and the version.
struct Cx<'a> {
    file: &'a str,
    version: String,
}

impl Cx<'_> {
    fn err(&self, key: &str, message: &str) -> Error {
        Error::PolicyValue {
            file: self.file.to_owned(),
            key: format!("{}.{key}", self.version),
            message: message.to_owned(),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn date_value(v: &Value, cx: &Cx<'_>, key: &str) -> Result<Date> {
    match v {
        Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
            .date
            .and_then(|d| {
                Date::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            })
            .ok_or_else(|| cx.err(key, "not a calendar date")),
        Value::String(s) => {
            hedui_model::time::parse_date(s).map_err(|e| cx.err(key, &e.to_string()))
        }
        other => Err(cx.err(
            key,
            &format!(
                "expected a date such as 2026-01-01, found {}",
                kind_of(other)
            ),
        )),
    }
}

fn count_value(v: &Value, cx: &Cx<'_>, key: &str) -> Result<u32> {
    match v {
        Value::Integer(i) => u32::try_from(*i)
            .map_err(|_| cx.err(key, &format!("{i} is not a non-negative whole number"))),
        other => Err(cx.err(
            key,
            &format!("expected a whole number, found {}", kind_of(other)),
        )),
    }
}

fn bool_value(v: &Value, cx: &Cx<'_>, key: &str) -> Result<bool> {
    match v {
        Value::Boolean(b) => Ok(*b),
        other => Err(cx.err(
            key,
            &format!("expected true or false, found {}", kind_of(other)),
        )),
    }
}

fn money_value(v: &Value, cx: &Cx<'_>, key: &str) -> Result<Fen> {
    match v {
        Value::String(s) => {
            let f = Fen::parse_yuan(s).map_err(|e| cx.err(key, &e.to_string()))?;
            if f.0 < 0 {
                return Err(cx.err(key, "an amount here cannot be negative"));
            }
            Ok(f)
        }
        other => Err(cx.err(
            key,
            &format!(
                "write money as yuan in a decimal string such as \"900.00\", found {}",
                kind_of(other)
            ),
        )),
    }
}

fn ratio_value(v: &Value, cx: &Cx<'_>, key: &str) -> Result<Ratio> {
    match v {
        Value::String(s) => Ratio::parse(s).map_err(|e| cx.err(key, &e)),
        Value::Integer(i) => u64::try_from(*i)
            .map(Ratio::whole)
            .map_err(|_| cx.err(key, "a ratio cannot be negative")),
        other => Err(cx.err(
            key,
            &format!(
                "write a ratio as a string such as \"1.5\", \"3/2\" or \"20%\", found {}",
                kind_of(other)
            ),
        )),
    }
}

fn ppm_value(v: &Value, cx: &Cx<'_>, key: &str) -> Result<Ppm> {
    match v {
        Value::String(s) => Ppm::parse(s).map_err(|e| cx.err(key, &e)),
        other => Err(cx.err(
            key,
            &format!(
                "write a probability as a decimal string such as \"0.99\", found {}",
                kind_of(other)
            ),
        )),
    }
}

fn vehicle_kinds_value(v: &Value, cx: &Cx<'_>, key: &str) -> Result<Vec<VehicleKind>> {
    let Value::Array(items) = v else {
        return Err(cx.err(
            key,
            &format!("expected an array of vehicle kinds, found {}", kind_of(v)),
        ));
    };
    let mut kinds = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(s) = item else {
            return Err(cx.err(
                key,
                &format!("expected a vehicle kind, found {}", kind_of(item)),
            ));
        };
        let kind = VehicleKind::parse(s).ok_or_else(|| {
            cx.err(
                key,
                &format!(
                    "unknown vehicle kind {s:?}; expected one of {}",
                    VehicleKind::expected()
                ),
            )
        })?;
        kinds.push(kind);
    }
    kinds.sort();
    kinds.dedup();
    Ok(kinds)
}

fn patch_of(raw: &RawVersion, cx: &Cx<'_>) -> Result<Patch> {
    let mut p = Patch::default();
    macro_rules! take {
        ($field:ident, $conv:ident) => {
            if let Some(v) = &raw.$field {
                p.$field = Some($conv(v, cx, stringify!($field))?);
            }
        };
    }
    take!(lookback_months, count_value);
    take!(financial_months, count_value);
    take!(max_residential, count_value);
    take!(tekun_minor_age, count_value);
    take!(gradual_exit_months, count_value);
    take!(medical_alert_multiple, count_value);
    take!(exclude_resident_pension, bool_value);
    take!(link_threshold, ppm_value);
    take!(review_threshold, ppm_value);
    take!(low_income_factor, ratio_value);
    take!(special_increment, ratio_value);
    take!(employment_cost, money_value);
    take!(allowed_vehicle_kinds, vehicle_kinds_value);
    if let Some(v) = &raw.business_capital_limit {
        p.business_capital_limit = Some(match v {
            Value::String(s) if s.trim().eq_ignore_ascii_case("none") => None,
            other => Some(money_value(other, cx, "business_capital_limit")?),
        });
    }
    if let Some(s) = &raw.standard {
        if let Some(v) = &s.urban {
            p.standard_urban = Some(money_value(v, cx, "standard.urban")?);
        }
        if let Some(v) = &s.rural {
            p.standard_rural = Some(money_value(v, cx, "standard.rural")?);
        }
    }
    if let Some(r) = &raw.rigid_expense {
        p.rigid_expense = Some(match r.form.as_str() {
            "seed" => {
                if r.disposable_income_per_year.is_some() || r.expense_ratio.is_some() {
                    return Err(cx.err(
                        "rigid_expense",
                        "form \"seed\" takes no disposable_income_per_year or expense_ratio",
                    ));
                }
                RigidExpenseForm::Seed
            }
            "national_2025" => {
                let income = r.disposable_income_per_year.as_ref().ok_or_else(|| {
                    cx.err(
                        "rigid_expense.disposable_income_per_year",
                        "missing: form \"national_2025\" needs it",
                    )
                })?;
                let ratio = r.expense_ratio.as_ref().ok_or_else(|| {
                    cx.err(
                        "rigid_expense.expense_ratio",
                        "missing: form \"national_2025\" needs it",
                    )
                })?;
                let income = money_value(income, cx, "rigid_expense.disposable_income_per_year")?;
                if income.0 <= 0 {
                    return Err(cx.err(
                        "rigid_expense.disposable_income_per_year",
                        "must be positive",
                    ));
                }
                RigidExpenseForm::National2025 {
                    disposable_income_per_year: income,
                    expense_ratio: ratio_value(ratio, cx, "rigid_expense.expense_ratio")?,
                }
            }
            other => {
                return Err(cx.err(
                    "rigid_expense.form",
                    &format!("unknown form {other:?}; expected \"seed\" or \"national_2025\""),
                ));
            }
        });
    }
    Ok(p)
}

/// A file read but not yet resolved against its base.
struct Parsed {
    file: String,
    name: String,
    region: String,
    base: Option<String>,
    description: Option<String>,
    versions: Vec<(Date, Patch, String)>,
}

fn parse_one(file: &str, text: &str) -> Result<Parsed> {
    let raw: RawFile = toml::from_str(text).map_err(|e| Error::PolicySyntax {
        file: file.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let top = Cx {
        file,
        version: String::new(),
    };
    let top_err = |key: &str, message: &str| Error::PolicyValue {
        file: top.file.to_owned(),
        key: key.to_owned(),
        message: message.to_owned(),
    };
    let name_ok = !raw.name.is_empty()
        && raw
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !name_ok {
        return Err(top_err(
            "name",
            "must be non-empty lower-case ASCII letters, digits, '_' or '-'",
        ));
    }
    if raw.region.len() > 6 || !raw.region.bytes().all(|b| b.is_ascii_digit()) {
        return Err(top_err(
            "region",
            "must be a region-code prefix: at most 6 ASCII digits (\"\" for every region)",
        ));
    }
    if raw.base.as_deref() == Some(raw.name.as_str()) {
        return Err(Error::PolicyBase {
            file: file.to_owned(),
            base: raw.name.clone(),
            message: "a policy cannot be its own base".to_owned(),
        });
    }
    if raw.version.is_empty() {
        return Err(top_err(
            "version",
            "a policy needs at least one [[version]]",
        ));
    }
    let mut versions: Vec<(Date, Patch, String)> = Vec::with_capacity(raw.version.len());
    for (i, rv) in raw.version.iter().enumerate() {
        let by_index = Cx {
            file,
            version: format!("version[{}]", i + 1),
        };
        let eff = date_value(&rv.effective_from, &by_index, "effective_from")?;
        let label = format!("version[{eff}]");
        let cx = Cx {
            file,
            version: label.clone(),
        };
        if let Some((prev, _, _)) = versions.last()
            && *prev >= eff
        {
            return Err(cx.err(
                "effective_from",
                &format!("versions must be listed by strictly increasing effective_from; {prev} comes before it"),
            ));
        }
        versions.push((eff, patch_of(rv, &cx)?, label));
    }
    Ok(Parsed {
        file: file.to_owned(),
        name: raw.name,
        region: raw.region,
        base: raw.base,
        description: raw.description,
        versions,
    })
}

fn resolve(
    name: &str,
    parsed: &BTreeMap<String, Parsed>,
    done: &mut BTreeMap<String, Policy>,
    visiting: &mut Vec<String>,
) -> Result<()> {
    if done.contains_key(name) {
        return Ok(());
    }
    let p = &parsed[name];
    visiting.push(name.to_owned());
    if let Some(base) = &p.base {
        if !parsed.contains_key(base) {
            return Err(Error::PolicyBase {
                file: p.file.clone(),
                base: base.clone(),
                message: "no loaded policy has this name".to_owned(),
            });
        }
        if visiting.iter().any(|v| v == base) {
            return Err(Error::PolicyBase {
                file: p.file.clone(),
                base: base.clone(),
                message: format!("bases form a cycle: {} → {base}", visiting.join(" → ")),
            });
        }
        resolve(base, parsed, done, visiting)?;
    }
    let mut versions = Vec::with_capacity(p.versions.len());
    let mut own = Patch::default();
    for (eff, patch, label) in &p.versions {
        own.overlay(patch);
        let mut full = match &p.base {
            Some(base) => {
                let bv = done[base].in_force(*eff).ok_or_else(|| Error::PolicyBase {
                    file: p.file.clone(),
                    base: base.clone(),
                    message: format!("has no version in force on {eff}, where {label} starts"),
                })?;
                Patch::from_params(&bv.params)
            }
            None => Patch::default(),
        };
        full.overlay(&own);
        let cx = Cx {
            file: &p.file,
            version: label.clone(),
        };
        let params = full.finish(&cx)?;
        versions.push(PolicyVersion::new(&p.name, &p.region, *eff, params));
    }
    visiting.pop();
    done.insert(
        name.to_owned(),
        Policy {
            name: p.name.clone(),
            region: p.region.clone(),
            base: p.base.clone(),
            file: p.file.clone(),
            description: p.description.clone(),
            versions,
        },
    );
    Ok(())
}

pub(crate) fn parse_files<'a, I>(files: I) -> Result<PolicySet>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut parsed: BTreeMap<String, Parsed> = BTreeMap::new();
    let mut regions: BTreeMap<String, String> = BTreeMap::new();
    for (file, text) in files {
        let p = parse_one(file, text)?;
        if let Some(other) = parsed.get(&p.name) {
            return Err(Error::PolicyDuplicate {
                file: file.to_owned(),
                what: "name",
                value: p.name,
                other: other.file.clone(),
            });
        }
        if let Some(other) = regions.get(&p.region) {
            return Err(Error::PolicyDuplicate {
                file: file.to_owned(),
                what: "region",
                value: p.region,
                other: other.clone(),
            });
        }
        regions.insert(p.region.clone(), p.file.clone());
        parsed.insert(p.name.clone(), p);
    }
    let mut done = BTreeMap::new();
    let names: Vec<String> = parsed.keys().cloned().collect();
    for name in &names {
        resolve(name, &parsed, &mut done, &mut Vec::new())?;
    }
    let mut policies: Vec<Policy> = done.into_values().collect();
    policies.sort_by(|a, b| a.region.cmp(&b.region));
    Ok(PolicySet { policies })
}

/// Reads every `*.toml` file of a directory (not its subdirectories), in
/// file-name order, and parses them together with [`PolicySet::parse`].
/// The only function of this crate that touches the file system.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<PolicySet> {
    let dir = dir.as_ref();
    let read_err = |path: &Path, e: std::io::Error| Error::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| read_err(dir, e))? {
        let path = entry.map_err(|e| read_err(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in &paths {
        let text = std::fs::read_to_string(path).map_err(|e| read_err(path, e))?;
        files.push((path.display().to_string(), text));
    }
    PolicySet::parse(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
}
