//! `property` — real-estate registration 不动产登记 (自然资源).
//!
//! One row per owner per property; a co-owned certificate appears once per co-owner. `share` is 0–1 (absent means 1).

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "property",
    label_zh: "不动产登记",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("certificate_no", Text, Required),
        col("usage", Code(codes::<PropertyUsage>()), Required),
        col(
            "area_m2",
            Float {
                min: 0.0,
                max: 1.0e7,
            },
            Optional,
        ),
        col("share", Float { min: 0.0, max: 1.0 }, Optional),
        col("address", Text, Optional),
        col("region_code", Text, Optional),
        col("registered_on", Date, Required),
        col("cancelled_on", Date, Optional),
        col("assessed_value", Money, Optional),
    ],
    key: &["record_id"],
};
