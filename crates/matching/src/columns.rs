//! Typed access to the canonical columns of `hedui-sources` batches.

use arrow::array::{Array, ArrayRef, Date32Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};

/// A Utf8 view of one column (LargeUtf8, Utf8View and dictionaries are
/// cast once).
pub(crate) fn utf8(
    batch: &RecordBatch,
    source: &str,
    column: &'static str,
    required: bool,
) -> Result<Option<StringArray>> {
    let Ok(idx) = batch.schema().index_of(column) else {
        return if required {
            Err(Error::MissingColumn {
                source_name: source.to_owned(),
                column,
                expected: "Utf8",
            })
        } else {
            Ok(None)
        };
    };
    let array = batch.column(idx);
    to_utf8(array, source, column).map(Some)
}

/// Any column named at run time (context columns), displayed as Utf8.
pub(crate) fn display_named(batch: &RecordBatch, column: &str) -> Result<Option<StringArray>> {
    match batch.schema().index_of(column) {
        Ok(idx) => {
            let a = cast(batch.column(idx), &DataType::Utf8)?;
            Ok(a.as_any().downcast_ref::<StringArray>().cloned())
        }
        Err(_) => Ok(None),
    }
}

fn to_utf8(array: &ArrayRef, source: &str, column: &str) -> Result<StringArray> {
    let ok = match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, v) => {
            matches!(
                **v,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        }
        _ => false,
    };
    if !ok {
        return Err(Error::WrongType {
            source_name: source.to_owned(),
            column: column.to_owned(),
            found: array.data_type().to_string(),
            expected: "Utf8",
        });
    }
    if let Some(a) = array.as_any().downcast_ref::<StringArray>() {
        return Ok(a.clone());
    }
    let a = cast(array, &DataType::Utf8)?;
    Ok(a.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .unwrap_or_else(|| StringArray::new_null(array.len())))
}

/// An optional Date32 column.
pub(crate) fn date32(
    batch: &RecordBatch,
    source: &str,
    column: &'static str,
) -> Result<Option<Date32Array>> {
    let Ok(idx) = batch.schema().index_of(column) else {
        return Ok(None);
    };
    let array = batch.column(idx);
    match array.data_type() {
        DataType::Date32 => Ok(array.as_any().downcast_ref::<Date32Array>().cloned()),
        DataType::Date64 | DataType::Null => {
            let a = cast(array, &DataType::Date32)?;
            Ok(a.as_any().downcast_ref::<Date32Array>().cloned())
        }
        other => Err(Error::WrongType {
            source_name: source.to_owned(),
            column: column.to_owned(),
            found: other.to_string(),
            expected: "Date32",
        }),
    }
}

/// The value of row `i`, `None` when null or empty.
pub(crate) fn value(a: &Option<StringArray>, i: usize) -> Option<&str> {
    match a {
        Some(a) if a.is_valid(i) => {
            let v = a.value(i);
            (!v.is_empty()).then_some(v)
        }
        _ => None,
    }
}

const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

/// A Date32 day number as `yyyymmdd`.
pub(crate) fn days_to_ymd(days: i32) -> Option<u32> {
    use chrono::Datelike;
    let d = hedui_model::Date::from_num_days_from_ce_opt(days.checked_add(UNIX_EPOCH_CE_DAYS)?)?;
    let y = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    Some(y * 10_000 + d.month() * 100 + d.day())
}

/// A date as `yyyymmdd`.
pub(crate) fn date_to_ymd(d: hedui_model::Date) -> Option<u32> {
    use chrono::Datelike;
    let y = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    Some(y * 10_000 + d.month() * 100 + d.day())
}
