//! `applications` — check requests 核对请求, one row per household.
//!
//! Its canonical `record_id` is the `application_id`. `authorization_ref` is the signed authorisation (授权书) that permits the query.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "applications",
    label_zh: "核对申请",
    kind: TableKind::Request,
    schema_version: 1,
    columns: &[
        col("application_id", Text, Required),
        col("region_code", Text, Required),
        col("hukou_kind", Code(codes::<HukouKind>()), Optional),
        col("assistance", Code(codes::<Assistance>()), Required),
        col("applied_on", Date, Required),
        col("authorization_ref", Text, Required),
    ],
    key: &["application_id"],
};
