//! `roster_members` — members of roster households.
//!
//! As `members`, keyed by household, cleaned id and normal name.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "roster_members",
    label_zh: "监测对象家庭成员",
    kind: TableKind::Roster,
    schema_version: 1,
    columns: &[
        col("household_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("relation", Code(codes::<MemberRelation>()), Required),
    ],
    key: &["household_id", "id_number", "name"],
};
