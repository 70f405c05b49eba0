//! The one error type of `hedui-synth`.

use std::io;
use std::path::PathBuf;

/// What can go wrong while generating a city.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot describe a city.
    #[error("invalid city configuration: {0}")]
    Config(String),
    /// A file or directory could not be created or written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The Parquet writer failed.
    #[error("cannot write Parquet file {path}: {source}")]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Building a record batch or writing CSV failed.
    #[error("cannot build or write table {path}: {source}")]
    Arrow {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: arrow::error::ArrowError,
    },
    /// The manifest could not be serialised.
    #[error("cannot write manifest {path}: {source}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The city ran out of sequence codes for a region and birth date: far
    /// more persons than one county can hold.
    #[error(
        "more than 500 persons of one gender born on {birth} in region {region}: the city is too large for its counties"
    )]
    SequenceExhausted {
        /// 6-digit region code of the id.
        region: String,
        /// The birth date.
        birth: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
