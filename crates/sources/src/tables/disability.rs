//! `disability` — disability certificates 残疾人证 (残联).
//!
//! Category and grade (1–4, 1 the most severe) with the validity of the certificate.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "disability",
    label_zh: "残疾人证",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("category", Code(codes::<DisabilityCategory>()), Required),
        col("grade", Int { min: 1, max: 4 }, Required),
        col("issued_on", Date, Optional),
        col("valid_until", Date, Optional),
    ],
    key: &["record_id"],
};
