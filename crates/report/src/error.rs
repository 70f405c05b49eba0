//! The one error type of `hedui-report`.
//!
//! Building a report cannot fail: [`crate::build`] shapes findings that the
//! policy has already computed. What can fail is reading a report back —
//! a stored file that is not JSON, not a report, or has no hash — which is
//! what `hedui replay` and [`crate::verify_hash`] do.

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a stored report (or error object) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not JSON, or not JSON of the report's shape. The
    /// message is serde_json's, with line and column.
    #[error("not a report: {message}")]
    Json {
        /// What the JSON reader said.
        message: String,
    },
    /// The JSON is not an object (a report and an error object both are).
    #[error("not a report: the JSON is {found}, not an object")]
    NotAnObject {
        /// What was found instead (`an array`, `a string`, …).
        found: &'static str,
    },
    /// The object has no `report_hash`, or it is not a string: an error
    /// object, or a report that was never sealed.
    #[error("the report has no report_hash (an error object has none)")]
    MissingHash,
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Json {
            message: e.to_string(),
        }
    }
}
