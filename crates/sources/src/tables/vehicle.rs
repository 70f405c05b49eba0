//! `vehicle` — motor-vehicle registration 车辆登记 (公安交管).
//!
//! A registration holds from `registered_on` until `deregistered_on`.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "vehicle",
    label_zh: "车辆登记",
    kind: TableKind::Department,
    schema_version: 1,
    columns: &[
        col("record_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("plate_no", Text, Optional),
        col("vehicle_kind", Code(codes::<VehicleKind>()), Required),
        col("registered_on", Date, Required),
        col("deregistered_on", Date, Optional),
        col("value", Money, Optional),
    ],
    key: &["record_id"],
};
