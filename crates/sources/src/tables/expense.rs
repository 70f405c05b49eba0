//! `expense` — rigid expenses 刚性支出 (医保, 教育, 残联).
//!
//! Dated out-of-pocket medical, education and disability-care expenses.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "expense",
    label_zh: "刚性支出",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("category", Code(codes::<ExpenseCategory>()), Required),
        col("amount", Money, Required),
        col("date", Date, Required),
        col("provider", Text, Optional),
    ],
    key: &["record_id"],
};
