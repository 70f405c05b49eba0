//! `housing_fund` — housing provident fund 住房公积金.
//!
//! Monthly deposits with their base (a lead for imputing wages) and the balance.

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "housing_fund",
    label_zh: "住房公积金",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("period", Month, Required),
        col("base", Money, Optional),
        col("deposit", Money, Optional),
        col("balance", Money, Optional),
        col("employer_code", Text, Optional),
        col("employer_name", Text, Optional),
    ],
    key: &["record_id"],
};
