//! Typed access to columns of canonical batches, by name.

use arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{Date32Type, Float64Type, Int64Type};
use hedui_model::{Date, Fen, Month};

use crate::error::{Error, Result};

const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

/// A Date32 value as a date.
pub(crate) fn day(days: i32) -> Date {
    Date::from_num_days_from_ce_opt(days + UNIX_EPOCH_CE_DAYS).unwrap_or(Date::MIN)
}

/// A date as a Date32 value.
pub(crate) fn days(d: Date) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - UNIX_EPOCH_CE_DAYS
}

/// Columns of one batch, looked up by name with the source named in errors.
pub(crate) struct Cols<'a> {
    batch: &'a RecordBatch,
    source: &'a str,
}

impl<'a> Cols<'a> {
    pub(crate) fn new(batch: &'a RecordBatch, source: &'a str) -> Self {
        Cols { batch, source }
    }

    fn get(&self, name: &str) -> Result<&'a dyn Array> {
        self.batch
            .column_by_name(name)
            .map(|a| a.as_ref())
            .ok_or_else(|| self.err(name))
    }

    fn err(&self, name: &str) -> Error {
        Error::Column {
            source_name: self.source.to_owned(),
            column: name.to_owned(),
        }
    }

    pub(crate) fn str(&self, name: &str) -> Result<&'a StringArray> {
        self.get(name)?
            .as_string_opt::<i32>()
            .ok_or_else(|| self.err(name))
    }

    pub(crate) fn i64(&self, name: &str) -> Result<&'a Int64Array> {
        self.get(name)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| self.err(name))
    }

    pub(crate) fn f64(&self, name: &str) -> Result<&'a Float64Array> {
        self.get(name)?
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| self.err(name))
    }

    pub(crate) fn date(&self, name: &str) -> Result<&'a Date32Array> {
        self.get(name)?
            .as_primitive_opt::<Date32Type>()
            .ok_or_else(|| self.err(name))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<&'a BooleanArray> {
        self.get(name)?
            .as_boolean_opt()
            .ok_or_else(|| self.err(name))
    }
}

pub(crate) fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

pub(crate) fn opt_fen(a: &Int64Array, i: usize) -> Option<Fen> {
    a.is_valid(i).then(|| Fen(a.value(i)))
}

pub(crate) fn opt_date(a: &Date32Array, i: usize) -> Option<Date> {
    a.is_valid(i).then(|| day(a.value(i)))
}

pub(crate) fn opt_month(a: &Date32Array, i: usize) -> Option<Month> {
    opt_date(a, i).map(Month::of)
}
