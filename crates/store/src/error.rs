//! The one error type of `hedui-store`.
//!
//! Every variant carries what a user needs to act on it: the file or
//! directory involved, the snapshot id, the source table, the column. Id
//! numbers (公民身份号码) never appear in a message.

use std::path::PathBuf;

use arrow::error::ArrowError;
use parquet::errors::ParquetError;

use crate::FailPoint;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory the operation was on.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The SQLite catalog failed.
    #[error("catalog {}: {source}", path.display())]
    Catalog {
        /// The catalog database file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },

    /// The catalog was created by a newer build of hedui.
    #[error(
        "catalog {} has schema version {found}, newer than this build supports ({supported}); \
         upgrade hedui",
        path.display()
    )]
    CatalogTooNew {
        /// The catalog database file.
        path: PathBuf,
        /// The version found in the file (`PRAGMA user_version`).
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// An Arrow kernel (sort, take, cast, concat) failed.
    #[error("Arrow error while {context}: {source}")]
    Arrow {
        /// What the store was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: ArrowError,
    },

    /// Writing or reading a Parquet file failed.
    #[error("Parquet error on {}: {source}", path.display())]
    Parquet {
        /// The Parquet file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: ParquetError,
    },

    /// A manifest could not be written or read.
    #[error("manifest {}: {source}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },

    /// The extract handed to [`Store::commit`](crate::Store::commit) breaks
    /// the input contract of the store.
    #[error("invalid snapshot input for source `{source_name}`: {reason}")]
    InvalidInput {
        /// The source table (`tax`, `hukou`, ...).
        source_name: String,
        /// What is wrong.
        reason: String,
    },

    /// A column the store relies on is missing or has the wrong type.
    #[error("snapshot input for source `{source_name}`: column `{column}` {problem}")]
    Column {
        /// The source table.
        source_name: String,
        /// The column.
        column: String,
        /// What is wrong with it ("is missing", "must be Utf8, found Int64", ...).
        problem: String,
    },

    /// Two rows of one extract share a `record_id`.
    #[error(
        "snapshot input for source `{source_name}`: record_id `{record_id}` occurs more than once"
    )]
    DuplicateRecordId {
        /// The source table.
        source_name: String,
        /// The repeated record id (the department's own row id, not personal data).
        record_id: String,
    },

    /// A column has a type the canonical encoding does not cover.
    #[error(
        "column `{column}` of the {table} of source `{source_name}` has type {data_type}, \
         which a snapshot cannot hold (flat columns only: booleans, integers, floats, decimals, \
         dates, times, timestamps, strings, binary)"
    )]
    UnsupportedType {
        /// The source table.
        source_name: String,
        /// `"rows"` or `"quarantine"`.
        table: &'static str,
        /// The column.
        column: String,
        /// The Arrow type found.
        data_type: String,
    },

    /// Text that should be a snapshot id (or a prefix of one) is not.
    #[error("`{text}` is not a snapshot id: {reason}")]
    InvalidId {
        /// The text given.
        text: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// No snapshot has this id (or starts with this prefix).
    #[error("snapshot {id} not found")]
    NotFound {
        /// The id or prefix asked for.
        id: String,
    },

    /// A prefix matches more than one snapshot.
    #[error("snapshot id prefix `{prefix}` is ambiguous: {count} snapshots match")]
    Ambiguous {
        /// The prefix asked for.
        prefix: String,
        /// How many snapshots it matches.
        count: usize,
    },

    /// A snapshot on disk does not match its catalog row or its manifest.
    #[error("snapshot {id} at {} is corrupt: {reason}", path.display())]
    Corrupt {
        /// The snapshot id.
        id: String,
        /// The snapshot directory or file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },

    /// A snapshot held in the catalog was asked for its directory.
    #[error(
        "snapshot {id} is held in the catalog {}, not in a directory: read it through the store",
        path.display()
    )]
    NoDirectory {
        /// The snapshot id.
        id: String,
        /// The catalog file.
        path: PathBuf,
    },

    /// A failure injected by a test through
    /// [`Store::commit_with_failpoint`](crate::Store::commit_with_failpoint).
    #[error("injected failure at {0:?}")]
    Injected(FailPoint),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn arrow(context: impl Into<String>, source: ArrowError) -> Self {
        Error::Arrow {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn parquet(path: impl Into<PathBuf>, source: ParquetError) -> Self {
        Error::Parquet {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(source_name: &str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            source_name: source_name.to_owned(),
            reason: reason.into(),
        }
    }
}
