//! `members` — declared household members 共同生活家庭成员.
//!
//! Keyed by application, cleaned id and normal name (`A-1/530302…/张伟`): a member declared twice is quarantined as a duplicate.

use hedui_model::codes::*;

use crate::spec::ColumnType::*;
use crate::spec::Presence::*;
use crate::spec::{TableKind, TableSpec, codes, col};

/// The table.
pub const SPEC: TableSpec = TableSpec {
    name: "members",
    label_zh: "共同生活家庭成员",
    kind: TableKind::Request,
    schema_version: 1,
    columns: &[
        col("application_id", Text, Required),
        col("id_number", Id, RequiredNullable),
        col("name", Name, Required),
        col("relation", Code(codes::<MemberRelation>()), Required),
    ],
    key: &["application_id", "id_number", "name"],
};
