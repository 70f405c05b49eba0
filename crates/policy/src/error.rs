//! The one error type of `hedui-policy`.
//!
//! Two families: a policy file that cannot be taken (named by file and
//! key), and a check that cannot be computed (no policy for the region or
//! date, no household kind). A check error concerns one household only: a
//! batch reports it in place of that household's report and goes on.

use hedui_model::Date;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a policy could not be loaded or a check could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The file is not TOML of the policy format (syntax, an unknown key,
    /// a value of the wrong type). The message names the key and line.
    #[error("{file}: {message}")]
    PolicySyntax {
        /// The policy file.
        file: String,
        /// What the TOML reader said.
        message: String,
    },
    /// A key holds a value the policy format does not allow.
    #[error("{file}: {key}: {message}")]
    PolicyValue {
        /// The policy file.
        file: String,
        /// The key, with its version: `version[2026-01-01].standard.urban`.
        key: String,
        /// What is wrong, in words.
        message: String,
    },
    /// Two files claim the same name or the same region prefix.
    #[error("{file}: {what} {value:?} is already taken by {other}")]
    PolicyDuplicate {
        /// The later file.
        file: String,
        /// `name` or `region`.
        what: &'static str,
        /// The duplicated value.
        value: String,
        /// The file that has it first.
        other: String,
    },
    /// A file's `base` names no loaded policy, or the bases form a cycle,
    /// or the base has no version in force on a version's date.
    #[error("{file}: base {base:?}: {message}")]
    PolicyBase {
        /// The file whose base is wrong.
        file: String,
        /// The base it names.
        base: String,
        /// What is wrong.
        message: String,
    },
    /// A policy file or directory could not be read (only [`crate::load_dir`]).
    #[error("{path}: {message}")]
    Read {
        /// The path.
        path: String,
        /// The operating system's words.
        message: String,
    },
    /// No loaded policy's region prefix matches the check's region code.
    #[error("no policy covers region {region_code:?}")]
    UnknownRegion {
        /// The region code of the check.
        region_code: String,
    },
    /// The region's policy has no version in force on the date: the date
    /// is before its earliest version.
    #[error(
        "no policy in force for region {region_code:?} on {on}: policy {policy:?} starts on {earliest}"
    )]
    NoPolicyInForce {
        /// The region code of the check.
        region_code: String,
        /// The date of the check (or of the monitoring run).
        on: Date,
        /// The policy selected by prefix.
        policy: String,
        /// Its earliest version's `effective_from`.
        earliest: Date,
    },
    /// Neither the request's `hukou_kind` nor the applicant's hukou record
    /// says whether the household is urban or rural (rules §1).
    #[error(
        "application {application_id:?}: household kind unknown: the request gives no hukou_kind and the applicant has no hukou record with hukou_kind"
    )]
    MissingHukouKind {
        /// The application.
        application_id: String,
    },
}

impl Error {
    /// Stable code of the error, for the report's error object
    /// (`{"error": {"code": ..., "message": ...}}`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::PolicySyntax { .. } | Error::PolicyValue { .. } => "policy_invalid",
            Error::PolicyDuplicate { .. } => "policy_duplicate",
            Error::PolicyBase { .. } => "policy_base",
            Error::Read { .. } => "policy_read",
            Error::UnknownRegion { .. } => "unknown_region",
            Error::NoPolicyInForce { .. } => "no_policy_in_force",
            Error::MissingHukouKind { .. } => "missing_hukou_kind",
        }
    }
}
