//! Errors that reject a whole extract. A bad *row* is not an error: it is
//! quarantined with its reason (see [`crate::Reason`]).

use std::path::PathBuf;

/// Why an extract (a file or a batch stream) was rejected whole.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The source name is not a table of the contract.
    #[error("unknown source {name:?}; expected one of: {expected}")]
    UnknownSource {
        /// What was given.
        name: String,
        /// The contract's tables.
        expected: String,
    },
    /// A required column is absent.
    #[error("{file}: {source_name} extract has no column {column:?} (required, {expected})")]
    MissingColumn {
        /// File or stream name.
        file: String,
        /// Table name.
        source_name: &'static str,
        /// The missing column.
        column: &'static str,
        /// What the contract expects there.
        expected: String,
    },
    /// A column has a type the contract does not allow.
    #[error("{file}: column {column:?} of {source_name} has type {found}, expected {expected}")]
    WrongType {
        /// File or stream name.
        file: String,
        /// Table name.
        source_name: &'static str,
        /// The column.
        column: String,
        /// The type found.
        found: String,
        /// What the contract expects.
        expected: String,
    },
    /// Two columns of the same name.
    #[error("{file}: column {column:?} appears more than once")]
    DuplicateColumn {
        /// File or stream name.
        file: String,
        /// The column.
        column: String,
    },
    /// The file could not be opened or read.
    #[error("{}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong, in words.
        message: String,
    },
    /// The file's extension names no format hedui reads.
    #[error("{}: unknown file format (expected .parquet, .arrow / .ipc / .feather, or .csv)", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// An Arrow kernel failed (a bug or resource exhaustion, not bad input).
    #[error("{file}: {source}")]
    Arrow {
        /// File or stream name.
        file: String,
        /// The Arrow error.
        #[source]
        source: arrow::error::ArrowError,
    },
}

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
