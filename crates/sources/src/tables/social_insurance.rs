//! `social_insurance` — social insurance 社会保险 (人社).
//!
//! Contributions (with their base, a lead for imputing wages) and benefits received: pensions, unemployment benefit, other benefits.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "social_insurance",
    label_zh: "社会保险",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("period", Month, Required),
        col("kind", Code(codes::<SocialInsuranceKind>()), Required),
        col("insurance", Code(codes::<Insurance>()), Optional),
        col("scheme", Code(codes::<Scheme>()), Optional),
        col("base", Money, Optional),
        col("amount", Money, Required),
        col("employer_code", Text, Optional),
        col("employer_name", Text, Optional),
    ],
    key: &["record_id"],
};
