//! `tax` — individual income tax 个人所得税 (税务).
//!
//! Monthly income by kind, gross before tax, with the tax withheld: the strongest evidence of wage income.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "tax",
    label_zh: "个人所得税",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("period", Month, Required),
        col("income_kind", Code(codes::<IncomeKind>()), Required),
        col("gross", Money, Required),
        col("tax_paid", Money, Optional),
        col("payer_code", Text, Optional),
        col("payer_name", Text, Optional),
    ],
    key: &["record_id"],
};
