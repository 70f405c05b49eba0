//! `insurance` — commercial insurance 商业保险.
//!
//! Cash value (a financial asset) and annual premium of each policy.

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "insurance",
    label_zh: "商业保险",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("insurer", Text, Optional),
        col("policy_no", Text, Optional),
        col("cash_value", Money, Required),
        col("annual_premium", Money, Optional),
        col("as_of", Date, Optional),
    ],
    key: &["record_id"],
};
