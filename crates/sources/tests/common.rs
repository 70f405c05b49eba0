//! Valid example rows for any table, built from its spec.

use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Decimal128Array, Float64Array, Int32Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use hedui_sources::{ColumnType, TableSpec};

/// A valid id (GB 11643 example number).
pub(crate) const ID: &str = "11010519491231002X";

fn text_value(table: &TableSpec, name: &str, ty: &ColumnType, row: usize) -> String {
    match ty {
        ColumnType::Id => ID.to_owned(),
        ColumnType::Name => "张伟".to_owned(),
        ColumnType::Money => format!("{}.50", 1000 + row),
        ColumnType::Date => "2026-01-15".to_owned(),
        ColumnType::Month => "2025-12".to_owned(),
        ColumnType::Code(spec) => {
            // the first code of the list, found by trying its own parser on the
            // list's expected text
            let expected = (spec.expected)();
            let first = expected.split(' ').next().unwrap_or_default().to_owned();
            assert!((spec.parse)(&first).is_some(), "{}: {first}", table.name);
            first
        }
        ColumnType::Int { min, .. } => min.to_string(),
        ColumnType::Float { max, .. } => (max / 2.0).min(1.0).to_string(),
        ColumnType::Text if table.key.contains(&name) => format!("{name}-{row}"),
        ColumnType::Text => format!("{name} {row}"),
    }
}

/// `n` valid rows of `table`, every value as text (the CSV form).
pub(crate) fn text_batch(table: &TableSpec, n: usize) -> RecordBatch {
    let fields: Vec<Field> = table
        .columns
        .iter()
        .map(|c| Field::new(c.name, DataType::Utf8, true))
        .collect();
    let columns: Vec<ArrayRef> = table
        .columns
        .iter()
        .map(|c| {
            Arc::new(StringArray::from(
                (0..n)
                    .map(|r| text_value(table, c.name, &c.ty, r))
                    .collect::<Vec<_>>(),
            )) as ArrayRef
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// `n` valid rows of `table` in the contract's native Arrow types
/// (Decimal128 money, Date32 dates).
pub(crate) fn typed_batch(table: &TableSpec, n: usize) -> RecordBatch {
    let schema: SchemaRef = Arc::new(table.input_schema());
    let columns: Vec<ArrayRef> = table
        .columns
        .iter()
        .map(|c| -> ArrayRef {
            match c.ty {
                ColumnType::Money => Arc::new(
                    Decimal128Array::from(
                        (0..n)
                            .map(|r| (1000 + r as i128) * 100 + 50)
                            .collect::<Vec<_>>(),
                    )
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
                ),
                ColumnType::Date => Arc::new(Date32Array::from(vec![20468; n])),
                ColumnType::Int { min, .. } => Arc::new(Int32Array::from(vec![min as i32; n])),
                ColumnType::Float { max, .. } => {
                    Arc::new(Float64Array::from(vec![(max / 2.0).min(1.0); n]))
                }
                _ => Arc::new(StringArray::from(
                    (0..n)
                        .map(|r| text_value(table, c.name, &c.ty, r))
                        .collect::<Vec<_>>(),
                )),
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).unwrap()
}

/// Replaces one column of a batch (by name) with string values.
pub(crate) fn with_text(batch: &RecordBatch, name: &str, values: Vec<Option<&str>>) -> RecordBatch {
    let schema = batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns = batch.columns().to_vec();
    let i = schema.index_of(name).unwrap();
    fields[i] = Field::new(name, DataType::Utf8, true);
    columns[i] = Arc::new(StringArray::from(values));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// Removes one column.
pub(crate) fn without(batch: &RecordBatch, name: &str) -> RecordBatch {
    let i = batch.schema().index_of(name).unwrap();
    let mut b = batch.clone();
    b.remove_column(i);
    b
}
