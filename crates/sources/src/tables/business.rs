//! `business` — market-entity registration 市场主体登记 (市场监管).
//!
//! A person's role in a registered entity. A null capital is kept: the report flags it as unknown.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "business",
    label_zh: "市场主体登记",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("role", Code(codes::<BusinessRole>()), Required),
        col("entity_name", Text, Optional),
        col("credit_code", Text, Optional),
        col("registered_capital", Money, Optional),
        col("status", Code(codes::<BusinessStatus>()), Required),
        col("established_on", Date, Optional),
    ],
    key: &["record_id"],
};
