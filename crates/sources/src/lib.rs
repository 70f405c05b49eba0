//! `hedui-sources`: every table of the input contract, validated and
//! normalised.
//!
//! Departments send extracts as Arrow record batches (over Flight, or as
//! Parquet / Arrow IPC / CSV files). This crate sits between them and the
//! snapshot store: it reads a file ([`read_file`]), checks the extract
//! against its table ([`tables`], one module per table, each a
//! [`TableSpec`]), and converts every row into canonical columns
//! ([`normalise()`]):
//!
//! | contract column | canonical columns |
//! | --- | --- |
//! | key (`record_id`, or `application_id` …) | `record_id` (Utf8, unique) |
//! | `id_number` | `id_raw`, `id_number` (valid 18 or null), `id_clean`, `id_status` |
//! | `name` | `name_raw`, `name` (normal form), `name_pinyin` |
//! | money | `<col>_fen` (Int64 fen, exact) |
//! | dates | Date32 |
//! | `period` | Date32 of the month's first day |
//! | codes | the English code (Chinese labels accepted on input) |
//! | extra columns | `extra_<name>` (Utf8, kept) |
//!
//! Invariants:
//! - a missing required column or a wrong type rejects the extract whole
//!   with an [`Error`] naming the file, column and what was expected;
//! - a bad row is never dropped silently and never counted: it is
//!   quarantined with its row number, reason, column and the raw row;
//! - an invalid id is not a reason to quarantine: the row is kept with its
//!   `id_status`, because identity resolution may still place it;
//! - output order follows input order and does not depend on threads.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("record_id", DataType::Utf8, false),
//!     Field::new("id_number", DataType::Utf8, true),
//!     Field::new("name", DataType::Utf8, false),
//!     Field::new("death_date", DataType::Utf8, false),
//! ]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![
//!     Arc::new(StringArray::from(vec!["D1", "D2"])),
//!     Arc::new(StringArray::from(vec![Some("110105491231002"), None])),
//!     Arc::new(StringArray::from(vec!["張 偉", "李娜"])),
//!     Arc::new(StringArray::from(vec!["2026-01-05", "2026-02-30"])),
//! ]).unwrap();
//! let table = hedui_sources::table("death").unwrap();
//! let out = hedui_sources::normalise(table, "death.csv", &schema, &[batch]).unwrap();
//! assert_eq!((out.accepted, out.quarantined), (1, 1));
//! assert_eq!(out.reasons["bad_date"], 1);
//! ```

pub mod error;
pub mod normalise;
pub mod read;
pub mod spec;
pub mod tables;

use std::path::Path;

pub use error::{Error, Result};
pub use normalise::{Normalised, Reason, normalise, quarantine_schema};
pub use read::{FileFormat, read_file};
pub use spec::{ColumnSpec, ColumnType, Presence, TableKind, TableSpec};

/// The table of a source name.
pub fn table(name: &str) -> Result<&'static TableSpec> {
    tables::ALL
        .iter()
        .copied()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::UnknownSource {
            name: name.to_owned(),
            expected: tables::ALL
                .iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Reads and normalises one extract file of `table`.
pub fn load_file(table: &'static TableSpec, path: &Path) -> Result<Normalised> {
    let (schema, batches) = read_file(path)?;
    let name = path.display().to_string();
    normalise(table, &name, &schema, &batches)
}
