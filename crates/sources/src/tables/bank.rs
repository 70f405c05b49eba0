//! `bank` — deposits and wealth products 银行.
//!
//! One row per account, with its balance as of the date the bank gives.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "bank",
    label_zh: "银行存款",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("institution", Text, Optional),
        col("account_kind", Code(codes::<AccountKind>()), Optional),
        col("balance", Money, Required),
        col("as_of", Date, Optional),
    ],
    key: &["record_id"],
};
