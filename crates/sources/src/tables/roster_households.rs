//! `roster_households` — the monitoring roster 动态监测名册: recipients and monitored low-income households.
//!
//! As `applications`, keyed by `household_id`, with `since` (when assistance began) and `monthly_benefit`. `applied_on` (the last check) is optional here.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "roster_households",
    label_zh: "监测对象家庭",
    kind: TableKind::Roster,
    schema_version: 1,
    columns: &[
        col("household_id", Text, Required),
        col("region_code", Text, Required),
        col("hukou_kind", Code(codes::<HukouKind>()), Optional),
        col("assistance", Code(codes::<Assistance>()), Required),
        col("applied_on", Date, Optional),
        col("authorization_ref", Text, Required),
        col("since", Date, Required),
        col("monthly_benefit", Money, Optional),
    ],
    key: &["household_id"],
};
