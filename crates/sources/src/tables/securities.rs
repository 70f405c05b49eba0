//! `securities` — securities accounts 证券.
//!
//! Market value of each account as of a date.

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "securities",
    label_zh: "证券",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("institution", Text, Optional),
        col("market_value", Money, Required),
        col("as_of", Date, Optional),
    ],
    key: &["record_id"],
};
