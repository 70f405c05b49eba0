//! `hukou` — household registration 户籍 (公安).
//!
//! The person registry: one row per registered person. `hukou_kind` selects the urban or rural standard; `status` and `status_date` say whether the person is alive and still registered here.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "hukou",
    label_zh: "户籍",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("gender", Code(codes::<Gender>()), Optional),
        col("birth_date", Date, Optional),
        col("hukou_no", Text, Optional),
        col("relation", Text, Optional),
        col("region_code", Text, Required),
        col("hukou_kind", Code(codes::<HukouKind>()), Optional),
        col("status", Code(codes::<HukouStatus>()), Required),
        col("status_date", Date, Optional),
    ],
    key: &["record_id"],
};
