//! The error object, a check's outcome, and a batch's `summary.json`.

use std::collections::BTreeMap;

use hedui_policy::Findings;
use serde_json::{Value, json};

use crate::build::build;
use crate::canonical::{canonical_value_json, kind_of};
use crate::error::{Error, Result};
use crate::labels::{DETERMINATIONS, FLAGS};
use crate::report::{LinkEntry, Report, ReportInputs};

/// The answer for a household that cannot be checked (rules §1: no
/// household kind; an unknown region; no policy in force): written in
/// place of its report, and the rest of the batch goes on.
///
/// JSON: `{"application_id": …, "error": {"code": …, "message": …}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReport {
    /// The request's id.
    pub application_id: String,
    /// Stable code (`missing_hukou_kind`, `unknown_region`,
    /// `no_policy_in_force`, …).
    pub code: String,
    /// What went wrong, in words a user can act on.
    pub message: String,
}

/// The error object of an application: see [`ErrorReport`].
pub fn error_report(
    application_id: impl Into<String>,
    code: impl Into<String>,
    message: impl Into<String>,
) -> ErrorReport {
    ErrorReport {
        application_id: application_id.into(),
        code: code.into(),
        message: message.into(),
    }
}

impl ErrorReport {
    /// The error object of a check the policy could not compute.
    pub fn from_policy_error(application_id: &str, error: &hedui_policy::Error) -> ErrorReport {
        error_report(application_id, error.code(), error.to_string())
    }

    /// `{"application_id": …, "error": {"code": …, "message": …}}`.
    pub fn to_value(&self) -> Value {
        json!({
            "application_id": self.application_id,
            "error": {"code": self.code, "message": self.message},
        })
    }

    /// The canonical JSON of [`ErrorReport::to_value`].
    pub fn to_json(&self) -> String {
        canonical_value_json(&self.to_value())
    }

    /// Reads an error object back.
    pub fn from_value(value: &Value) -> Result<ErrorReport> {
        let text = |v: Option<&Value>, what: &str| -> Result<String> {
            v.and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::Json {
                    message: format!("error object: {what} is missing or not a string"),
                })
        };
        let err = value.get("error");
        Ok(ErrorReport {
            application_id: text(value.get("application_id"), "application_id")?,
            code: text(err.and_then(|e| e.get("code")), "error.code")?,
            message: text(err.and_then(|e| e.get("message")), "error.message")?,
        })
    }
}

/// What a check gave for one application: its report or its error
/// object.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The household was checked.
    Report(Box<Report>),
    /// It could not be.
    Error(ErrorReport),
}

impl Outcome {
    /// The report of a computed check, or the error object of one that
    /// could not be computed.
    pub fn of_check(
        application_id: &str,
        result: &hedui_policy::Result<Findings>,
        links: Vec<LinkEntry>,
        inputs: &ReportInputs,
    ) -> Outcome {
        match result {
            Ok(findings) => Outcome::Report(Box::new(build(findings, links, inputs))),
            Err(e) => Outcome::Error(ErrorReport::from_policy_error(application_id, e)),
        }
    }

    /// As [`Outcome::of_check`], with the outcome's canonical JSON
    /// (what [`Outcome::to_json`] gives), serialised once.
    pub fn of_check_json(
        application_id: &str,
        result: &hedui_policy::Result<Findings>,
        links: Vec<LinkEntry>,
        inputs: &ReportInputs,
    ) -> (Outcome, String) {
        match result {
            Ok(findings) => {
                let (report, json) = crate::build::build_sealed(findings, links, inputs);
                (Outcome::Report(Box::new(report)), json)
            }
            Err(e) => {
                let e = ErrorReport::from_policy_error(application_id, e);
                let json = e.to_json();
                (Outcome::Error(e), json)
            }
        }
    }

    /// The application's id.
    pub fn application_id(&self) -> &str {
        match self {
            Outcome::Report(r) => &r.application_id,
            Outcome::Error(e) => &e.application_id,
        }
    }

    /// The canonical JSON written to `<application_id>.json`.
    pub fn to_json(&self) -> String {
        match self {
            Outcome::Report(r) => r.to_json(),
            Outcome::Error(e) => e.to_json(),
        }
    }

    /// Reads a stored `<application_id>.json`: a report, or an error
    /// object (an object with an `error` member).
    pub fn from_json(json: &str) -> Result<Outcome> {
        let value: Value = serde_json::from_str(json)?;
        if !value.is_object() {
            return Err(Error::NotAnObject {
                found: kind_of(&value),
            });
        }
        if value.get("error").is_some() {
            Ok(Outcome::Error(ErrorReport::from_value(&value)?))
        } else {
            Ok(Outcome::Report(Box::new(serde_json::from_value(value)?)))
        }
    }
}

/// A batch's `summary.json`, built one outcome at a time so a batch of
/// any size is summarised without holding its reports.
///
/// ```json
/// {"applications": 3, "reports": 2, "errors": 1,
///  "determinations": {"dibao": 1, "ineligible": 1, "low_income": 0, …},
///  "flags": {"business": 0, "imputed_wage": 1, …},
///  "error_codes": {"missing_hukou_kind": 1},
///  "results": [{"application_id": "A1", "report_hash": "…", "determinations": ["dibao"], "flags": ["imputed_wage"]},
///              {"application_id": "A3", "error": "missing_hukou_kind"}, …]}
/// ```
///
/// `determinations` counts the households where each determination holds
/// and `flags` the households with at least one flag of each code (every
/// code listed, zeros included); `results` is sorted by application id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    determinations: BTreeMap<String, u64>,
    flags: BTreeMap<String, u64>,
    error_codes: BTreeMap<String, u64>,
    reports: u64,
    errors: u64,
    results: Vec<(String, String, Value)>,
}

impl Summary {
    /// An empty summary, every determination and flag code at zero.
    pub fn new() -> Summary {
        Summary {
            determinations: DETERMINATIONS
                .iter()
                .map(|(c, _)| ((*c).to_owned(), 0))
                .collect(),
            flags: FLAGS.iter().map(|(c, _)| ((*c).to_owned(), 0)).collect(),
            ..Summary::default()
        }
    }

    /// Counts a report.
    pub fn add_report(&mut self, report: &Report) {
        self.reports += 1;
        for d in &report.determinations {
            *self.determinations.entry(d.clone()).or_default() += 1;
        }
        let mut codes: Vec<String> = report.flags.iter().map(|f| f.code.clone()).collect();
        codes.dedup();
        for c in &codes {
            *self.flags.entry(c.clone()).or_default() += 1;
        }
        self.results.push((
            report.application_id.clone(),
            report.report_hash.clone(),
            json!({
                "application_id": report.application_id,
                "report_hash": report.report_hash,
                "determinations": report.determinations,
                "flags": codes,
            }),
        ));
    }

    /// Counts an error object.
    pub fn add_error(&mut self, error: &ErrorReport) {
        self.errors += 1;
        *self.error_codes.entry(error.code.clone()).or_default() += 1;
        self.results.push((
            error.application_id.clone(),
            String::new(),
            json!({"application_id": error.application_id, "error": error.code}),
        ));
    }

    /// Counts an outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Report(r) => self.add_report(r),
            Outcome::Error(e) => self.add_error(e),
        }
    }

    /// The `summary.json` value (write it with
    /// [`canonical_value_json`]).
    pub fn to_value(&self) -> Value {
        let mut results: Vec<&(String, String, Value)> = self.results.iter().collect();
        results.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        json!({
            "applications": self.reports + self.errors,
            "reports": self.reports,
            "errors": self.errors,
            "determinations": self.determinations,
            "flags": self.flags,
            "error_codes": self.error_codes,
            "results": results.into_iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        })
    }
}

/// The `summary.json` of a batch's outcomes (see [`Summary`]).
pub fn summary(outcomes: &[Outcome]) -> Value {
    let mut s = Summary::new();
    for o in outcomes {
        s.add(o);
    }
    s.to_value()
}
