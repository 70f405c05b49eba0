//! `staff` — registered staff and close relatives 经办人员及近亲属备案.
//!
//! A member found here needs the county's home visit.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "staff",
    label_zh: "经办人员及近亲属备案",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("staff_name", Text, Optional),
        col("staff_unit", Text, Optional),
        col("relation", Code(codes::<StaffRelation>()), Optional),
    ],
    key: &["record_id"],
};
