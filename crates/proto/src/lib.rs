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
    required("household.application_id", &h.application_id)?;
    required("household.region_code", &h.region_code)?;
    required("household.assistance", &h.assistance)?;
    date_field("household.applied_on", &h.applied_on)?;
    required("household.authorization_ref", &h.authorization_ref)?;
    required("purpose", &r.purpose)?;
    if h.members.is_empty() {
        return Err(field("household.members", "needs at least the applicant"));
    }
    for (i, m) in h.members.iter().enumerate() {
        required(&format!("household.members[{i}].name"), &m.name)?;
        required(&format!("household.members[{i}].relation"), &m.relation)?;
    }
    Ok(())
}
