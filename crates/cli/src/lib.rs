//! The library half of the `hedui` binary: the check pipeline shared by
//! `hedui verify`, `hedui replay`, `hedui demo` and the end-to-end
//! benchmark — requests stored as snapshots, snapshots chosen, records
//! linked, facts gathered with DataFusion, the policy applied, reports
//! built and written.

pub mod check;
pub mod reports;
