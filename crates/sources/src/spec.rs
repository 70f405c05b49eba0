//! How a table of the contract is described: its columns, their types, what
//! is required, and which codes a coded column takes.
//!
//! A table module (`tables/tax.rs` …) is nothing but a [`TableSpec`]: the
//! normaliser ([`crate::normalise`]) reads it to validate and convert any
//! extract the same way.

use arrow::datatypes::{DataType, Field, Schema};
use hedui_model::CodeList;

/// What kind of table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// A department extract: `record_id`, `id_number`, `name` and its own
    /// columns; becomes a snapshot.
    Department,
    /// A check request table (`applications`, `members`).
    Request,
    /// A monitoring roster table.
    Roster,
}

/// The values a coded column takes.
#[derive(Clone, Copy)]
pub struct CodeSpec {
    /// Name of the list (`income_kind`).
    pub list: &'static str,
    /// Canonical code of an accepted spelling.
    pub parse: fn(&str) -> Option<&'static str>,
    /// The accepted codes with labels, for messages.
    pub expected: fn() -> String,
}

impl std::fmt::Debug for CodeSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeSpec")
            .field("list", &self.list)
            .finish()
    }
}

fn parse_code<C: CodeList>(s: &str) -> Option<&'static str> {
    C::parse(s).map(CodeList::code)
}

/// The [`CodeSpec`] of a code list of `hedui-model`.
pub const fn codes<C: CodeList>() -> CodeSpec {
    CodeSpec {
        list: C::LIST,
        parse: parse_code::<C>,
        expected: C::expected,
    }
}

/// The type of a column, as the contract states it, and the canonical
/// column(s) it becomes.
#[derive(Clone, Copy, Debug)]
pub enum ColumnType {
    /// Free text (Utf8). Canonical: Utf8, trimmed; empty is null.
    Text,
    /// 公民身份号码. Canonical: `id_raw` (as sent), `id_number` (valid
    /// normalised 18 characters, or null), `id_clean` (the cleaned
    /// candidate even when invalid), `id_status` (`valid`, `upgraded`,
    /// `missing`, `bad_length`, `bad_characters`, `bad_region`,
    /// `bad_birth_date`, `bad_check_digit`). An invalid id never
    /// quarantines a row.
    Id,
    /// A person's name. Canonical: `<col>_raw` (as sent), `<col>` (normal
    /// form), `<col>_pinyin` (syllables joined by spaces).
    Name,
    /// Money in yuan (Decimal128 or a decimal string). Canonical:
    /// `<col>_fen`, Int64 fen, exact.
    Money,
    /// A date (Date32 or `YYYY-MM-DD`). Canonical: Date32.
    Date,
    /// A month `YYYY-MM`. Canonical: Date32 of the month's first day.
    Month,
    /// A code of a list; English codes or Chinese labels. Canonical: Utf8,
    /// the English code.
    Code(CodeSpec),
    /// An integer in a closed range. Canonical: Int64.
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A measure that is not money (area, share), in a closed range.
    /// Canonical: Float64.
    Float {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
}

impl ColumnType {
    /// What the contract accepts on input, in words.
    pub fn expected(&self) -> String {
        match self {
            ColumnType::Text | ColumnType::Id | ColumnType::Name => {
                "Utf8 (or LargeUtf8 / Utf8View)".into()
            }
            ColumnType::Money => {
                "money: Decimal128(p, 2) in yuan, or a decimal string such as 1234.50; never floating point"
                    .into()
            }
            ColumnType::Date => "Date32, or a YYYY-MM-DD string".into(),
            ColumnType::Month => "a YYYY-MM string".into(),
            ColumnType::Code(c) => format!("a {} code: {}", c.list, (c.expected)()),
            ColumnType::Int { min, max } => format!("an integer {min}–{max}"),
            ColumnType::Float { min, max } => format!("a number {min}–{max}"),
        }
    }
}

/// Whether a column must be present and whether its values may be null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Column required; a null value quarantines the row.
    Required,
    /// Column required; values may be null (`id_number`: a record without
    /// an id may still be placed by name).
    RequiredNullable,
    /// Column optional; absent means all null.
    Optional,
}

/// One column of a table.
#[derive(Clone, Copy, Debug)]
pub struct ColumnSpec {
    /// Exact column name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// Required or not.
    pub presence: Presence,
}

/// Shorthand for table modules.
pub const fn col(name: &'static str, ty: ColumnType, presence: Presence) -> ColumnSpec {
    ColumnSpec { name, ty, presence }
}

/// A table of the contract.
#[derive(Clone, Copy, Debug)]
pub struct TableSpec {
    /// Table (source) name, exact.
    pub name: &'static str,
    /// Chinese name.
    pub label_zh: &'static str,
    /// Department extract, request or roster.
    pub kind: TableKind,
    /// Version of the canonical schema; bumped when normalisation changes.
    pub schema_version: u32,
    /// The contract's columns.
    pub columns: &'static [ColumnSpec],
    /// Columns whose values together identify a row uniquely within one
    /// extract; they form the canonical `record_id`, joined by `/`.
    pub key: &'static [&'static str],
}

impl TableSpec {
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The Arrow schema of the input as the contract writes it (Utf8 text,
    /// Decimal128(18, 2) money, Date32 dates). Other accepted input types
    /// are listed by [`ColumnType::expected`].
    pub fn input_schema(&self) -> Schema {
        Schema::new(
            self.columns
                .iter()
                .map(|c| {
                    let dt = match c.ty {
                        ColumnType::Money => DataType::Decimal128(18, 2),
                        ColumnType::Date => DataType::Date32,
                        ColumnType::Int { .. } => DataType::Int32,
                        ColumnType::Float { .. } => DataType::Float64,
                        _ => DataType::Utf8,
                    };
                    Field::new(c.name, dt, c.presence != Presence::Required)
                })
                .collect::<Vec<_>>(),
        )
    }

    /// The canonical schema of normalised rows (without extra columns,
    /// which follow as `extra_<name>` Utf8).
    pub fn canonical_schema(&self) -> Schema {
        let mut fields = vec![Field::new("record_id", DataType::Utf8, false)];
        for c in self.columns {
            // Every canonical column but the key and the id status is
            // nullable: optional columns may be absent, and the Parquet
            // schema should not change with the data.
            let null = true;
            match c.ty {
                ColumnType::Id => {
                    fields.push(Field::new("id_raw", DataType::Utf8, true));
                    fields.push(Field::new("id_number", DataType::Utf8, true));
                    fields.push(Field::new("id_clean", DataType::Utf8, true));
                    fields.push(Field::new("id_status", DataType::Utf8, false));
                }
                ColumnType::Name => {
                    fields.push(Field::new(format!("{}_raw", c.name), DataType::Utf8, null));
                    fields.push(Field::new(c.name, DataType::Utf8, null));
                    fields.push(Field::new(
                        format!("{}_pinyin", c.name),
                        DataType::Utf8,
                        null,
                    ));
                }
                ColumnType::Money => {
                    fields.push(Field::new(format!("{}_fen", c.name), DataType::Int64, null))
                }
                ColumnType::Date | ColumnType::Month => {
                    fields.push(Field::new(c.name, DataType::Date32, null))
                }
                ColumnType::Int { .. } => fields.push(Field::new(c.name, DataType::Int64, null)),
                ColumnType::Float { .. } => {
                    fields.push(Field::new(c.name, DataType::Float64, null))
                }
                ColumnType::Text | ColumnType::Code(_) => {
                    if c.name != "record_id" {
                        fields.push(Field::new(c.name, DataType::Utf8, null))
                    }
                }
            }
        }
        Schema::new(fields)
    }
}
