//! `hedui-proto`: the hedui.v1 gRPC API, generated from
//! `proto/hedui/v1/hedui.proto` with a vendored protoc, and its
//! conversions to and from the domain's words. The only crate that sees
//! prost: the server and the clients use the types re-exported here.

#![allow(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    unused_qualifications
)]

/// The generated messages, clients and servers of package `hedui.v1`.
pub mod v1 {
    tonic::include_proto!("hedui.v1");

    /// The encoded file descriptor set of the API, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("hedui_descriptor");
}

/// Arrow Flight (extract ingest with `DoPut`, a batch's results with
/// `DoGet`): the bulk-data half of the API.
pub use arrow_flight as flight;

use hedui_model::Date;
use hedui_model::time::parse_date;

/// A request field that is missing or malformed: the field's path and
/// what is wrong, in words the caller can act on (never a value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field, e.g. `household.applied_on`.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for FieldError {}

fn field(field: &str, problem: &str) -> FieldError {
    FieldError {
        field: field.to_owned(),
        problem: problem.to_owned(),
    }
}

/// A date field (`YYYY-MM-DD`).
pub fn date_field(name: &str, text: &str) -> Result<Date, FieldError> {
    if text.is_empty() {
        return Err(field(name, "is required (YYYY-MM-DD)"));
    }
    parse_date(text).map_err(|_| field(name, "is not a date (YYYY-MM-DD)"))
}

/// A required text field.
pub fn required<'a>(name: &str, text: &'a str) -> Result<&'a str, FieldError> {
    if text.trim().is_empty() {
        Err(field(name, "is required"))
    } else {
        Ok(text)
    }
}

/// Checks what a `VerifyRequest` must carry before anything is looked up:
/// a household with an application id, a region, an assistance code, an
/// application date, an authorisation ref, at least one member with a
/// name, and a purpose. Codes are checked by the normaliser, as for a
/// file.
pub fn check_verify_request(r: &v1::VerifyRequest) -> Result<(), FieldError> {
    let h = r
        .household
        .as_ref()
        .ok_or_else(|| field("household", "is required"))?;
    check_household("household", h)?;
    required("purpose", &r.purpose)?;
    Ok(())
}

/// Checks one household message; `at` names it in the error
/// (`household`, `households[3]`).
pub fn check_household(at: &str, h: &v1::Household) -> Result<(), FieldError> {
    required(&format!("{at}.application_id"), &h.application_id)?;
    required(&format!("{at}.region_code"), &h.region_code)?;
    required(&format!("{at}.assistance"), &h.assistance)?;
    date_field(&format!("{at}.applied_on"), &h.applied_on)?;
    required(&format!("{at}.authorization_ref"), &h.authorization_ref)?;
    if h.members.is_empty() {
        return Err(field(
            &format!("{at}.members"),
            "needs at least the applicant",
        ));
    }
    for (i, m) in h.members.iter().enumerate() {
        required(&format!("{at}.members[{i}].name"), &m.name)?;
        required(&format!("{at}.members[{i}].relation"), &m.relation)?;
    }
    Ok(())
}

/// Checks a `SubmitBatchRequest`: a purpose, and either both tables or
/// households (each checked as for `Verify`), not both.
pub fn check_submit_batch(r: &v1::SubmitBatchRequest) -> Result<(), FieldError> {
    required("purpose", &r.purpose)?;
    let tables = !r.applications_ipc.is_empty() || !r.members_ipc.is_empty();
    match (tables, r.households.is_empty()) {
        (true, false) => Err(field(
            "households",
            "send either the applications and members tables or households, not both",
        )),
        (false, true) => Err(field(
            "applications_ipc",
            "is required (with members_ipc), or households",
        )),
        (true, true) => {
            if r.applications_ipc.is_empty() {
                return Err(field("applications_ipc", "is required with members_ipc"));
            }
            if r.members_ipc.is_empty() {
                return Err(field("members_ipc", "is required with applications_ipc"));
            }
            Ok(())
        }
        (false, false) => r
            .households
            .iter()
            .enumerate()
            .try_for_each(|(i, h)| check_household(&format!("households[{i}]"), h)),
    }
}

/// Checks a `RunMonitorRequest`: both roster tables, a run date and a
/// purpose; returns the run date.
pub fn check_run_monitor(r: &v1::RunMonitorRequest) -> Result<Date, FieldError> {
    if r.roster_households_ipc.is_empty() {
        return Err(field("roster_households_ipc", "is required"));
    }
    if r.roster_members_ipc.is_empty() {
        return Err(field("roster_members_ipc", "is required"));
    }
    required("purpose", &r.purpose)?;
    date_field("run_date", &r.run_date)
}
