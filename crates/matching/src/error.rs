//! The one error type of `hedui-matching`.

/// What can go wrong while building a registry, reading records, training
/// a model or evaluating links.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A canonical batch lacks a column the matcher reads.
    #[error("{source_name}: canonical column {column:?} is missing (expected {expected})")]
    MissingColumn {
        /// The source (table) of the batch.
        source_name: String,
        /// The column.
        column: &'static str,
        /// Its expected type.
        expected: &'static str,
    },
    /// A canonical column has another type than the matcher reads.
    #[error("{source_name}: canonical column {column:?} is {found}, expected {expected}")]
    WrongType {
        /// The source (table) of the batch.
        source_name: String,
        /// The column.
        column: String,
        /// The type found.
        found: String,
        /// The type expected.
        expected: &'static str,
    },
    /// Settings outside their domain (a threshold outside 0–1, review above
    /// link, a zero sample size …).
    #[error("invalid matcher settings: {0}")]
    Settings(String),
    /// A model cannot be trained (empty registry, no records).
    #[error("cannot train the matcher: {0}")]
    Training(String),
    /// A serialised model that does not parse, or whose hash does not match
    /// its content.
    #[error("serialised model: {0}")]
    Model(String),
    /// A ground-truth table that cannot be read.
    #[error("ground truth: {0}")]
    Truth(String),
    /// JSON encoding or decoding.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// An Arrow operation failed while building output.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
