//! Errors of the engine.

/// Why a check (or a batch) could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] hedui_store::Error),
    /// A request file is unreadable or malformed.
    #[error(transparent)]
    Sources(#[from] hedui_sources::Error),
    /// Identity resolution failed.
    #[error(transparent)]
    Matching(#[from] hedui_matching::Error),
    /// DataFusion failed planning or executing.
    #[error("query over {what}: {source}")]
    DataFusion {
        /// Which source or step.
        what: String,
        /// The DataFusion error.
        #[source]
        source: datafusion::error::DataFusionError,
    },
    /// A snapshot the check needs is missing.
    #[error("{0}")]
    Missing(String),
    /// A column of a snapshot is not what the canonical schema says.
    #[error("snapshot of {source_name}: column {column:?} missing or of an unexpected type")]
    Column {
        /// The source.
        source_name: String,
        /// The column.
        column: String,
    },
    /// The request folder lacks a table.
    #[error("{0}")]
    Requests(String),
    /// Arrow failed building a linked view.
    #[error("building a linked view: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Starting the async runtime failed.
    #[error("starting the query runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn df(
    what: impl Into<String>,
) -> impl FnOnce(datafusion::error::DataFusionError) -> Error {
    let what = what.into();
    move |source| Error::DataFusion { what, source }
}
