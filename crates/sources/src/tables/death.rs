//! `death` — death and cremation records 死亡火化 (殡葬, 卫健).
//!
//! A death record dates a death even when hukou has not been updated yet.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "death",
    label_zh: "死亡火化",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("death_date", Date, Required),
        col("kind", Code(codes::<DeathKind>()), Optional),
    ],
    key: &["record_id"],
};
