//! `hedui-engine`: from snapshots and links to household facts, with
//! DataFusion.
//!
//! In the flow it sits after identity resolution and before the policy:
//!
//! ```text
//! snapshots ─▶ link (hedui-matching, stored links) ─▶ gather (DataFusion) ─▶ Household facts ─▶ hedui-policy
//! ```
//!
//! - [`select`] chooses the snapshots a check reads (the newest of each
//!   source; on or before a date; or exactly those a report names);
//! - [`link`] builds the person registry from hukou, trains (once per
//!   registry and settings) or loads the matcher, and links each department
//!   snapshot's records, storing the links with the snapshot, and
//!   [`view`] joins each snapshot's records with their links once, keyed
//!   by person (the index a check reads);
//! - [`requests`] reads check requests into [`Request`]s;
//! - [`gather()`] runs one query per source over every household at once —
//!   members ⋈ linked views — and assembles each household's facts,
//!   with every record used and every possible match.
//!
//! Invariants: the number of queries does not depend on the number of
//! households; the facts and links of a household do not depend on the
//! order rows come back in (they are sorted, and the policy is
//! order-independent); a household that cannot be checked is a
//! [`Rejected`] request, and the rest of the batch goes on.

mod cols;
pub mod error;
pub mod gather;
pub mod index;
pub mod link;
pub mod requests;
pub mod select;
pub mod view;

pub use error::{Error, Result};
pub use gather::{
    CheckFacts, Evidence, GatherOptions, Gathered, LinkedRecord, Pending, Timings, gather,
    gather_pending, gather_with,
};
pub use index::{PointIndex, build_index, ensure_indexes};
pub use link::{Linker, ensure_links, load_model, prepare};
pub use requests::{
    DeclaredMember, Enrolled, Rejected, Request, RequestSet, Roster, load_requests, load_roster,
    load_roster_tables, roster_from_normalised,
};
pub use select::{Selection, select};
pub use view::{build_view, ensure_views};

/// The engine's version, recorded in every report.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs `future` to completion on the process's engine runtime (built on
/// first use, two worker threads, shared by every check of the process:
/// a server answering one household at a time does not start threads per
/// call). For callers that are not async; not to be called from inside a
/// Tokio runtime's threads.
pub fn block_on<F: Future>(future: F) -> Result<F::Output> {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    let rt = match RUNTIME.get() {
        Some(rt) => rt,
        None => {
            let rt = runtime()?;
            RUNTIME.get_or_init(|| rt)
        }
    };
    Ok(rt.block_on(future))
}

/// A runtime for DataFusion, for callers that are not async (the CLI).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
