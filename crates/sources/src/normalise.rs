//! The one normaliser every table goes through.
//!
//! Given a [`TableSpec`] and an extract's record batches, it
//!
//! 1. checks the schema: every required column present, every contract
//!    column of an accepted type — else the extract is rejected whole
//!    ([`Error::MissingColumn`], [`Error::WrongType`]);
//! 2. converts each row into canonical columns (see [`ColumnType`]): ids
//!    parsed and given a status, names normalised with pinyin, money exact
//!    in fen, dates and months typed, codes canonical;
//! 3. quarantines every row that cannot be taken as it is — a missing
//!    required value, unparseable money or date, an unknown code, a value
//!    out of range, a duplicate key — with its 1-based row number, its
//!    reason, the column, a message and the whole raw row (as JSON), so
//!    nothing is lost. Every row of a duplicated key is quarantined: hedui
//!    cannot tell which of two rows of one `record_id` the department meant.
//!
//! Batches are converted in parallel (rayon) and reassembled in input
//! order, so the output does not depend on the number of threads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Date32Builder, Decimal128Array, Float64Array,
    Float64Builder, Int64Array, Int64Builder, StringArray, StringBuilder,
};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use hedui_model::time::parse_date;
use hedui_model::{Fen, IdNumber, Month, PersonName};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::spec::{ColumnSpec, ColumnType, Presence, TableSpec};

/// Why a row was quarantined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// A required value is null or empty.
    MissingValue,
    /// Money that is not an exact decimal amount.
    BadMoney,
    /// A date that is not `YYYY-MM-DD` or not a real day.
    BadDate,
    /// A month that is not `YYYY-MM`.
    BadMonth,
    /// A code outside its list.
    UnknownCode,
    /// A number that does not parse or is outside its range.
    OutOfRange,
    /// The row's key (`record_id`) appears more than once in the extract.
    DuplicateKey,
}

impl Reason {
    /// Stable code, as stored in the quarantine.
    pub fn code(self) -> &'static str {
        match self {
            Reason::MissingValue => "missing_value",
            Reason::BadMoney => "bad_money",
            Reason::BadDate => "bad_date",
            Reason::BadMonth => "bad_month",
            Reason::UnknownCode => "unknown_code",
            Reason::OutOfRange => "out_of_range",
            Reason::DuplicateKey => "duplicate_record_id",
        }
    }
}

/// One fault of one row.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fault {
    reason: Reason,
    column: &'static str,
    detail: String,
}

/// An extract after normalisation.
#[derive(Debug)]
pub struct Normalised {
    /// The table.
    pub table: &'static TableSpec,
    /// Where it came from (file name or stream descriptor).
    pub file: String,
    /// Accepted rows in canonical columns, in input order; at least one
    /// (possibly empty) batch, so the schema is always there.
    pub rows: Vec<RecordBatch>,
    /// Quarantined rows (see [`quarantine_schema`]); at least one
    /// (possibly empty) batch.
    pub quarantine: Vec<RecordBatch>,
    /// Number of accepted rows.
    pub accepted: usize,
    /// Number of quarantined rows.
    pub quarantined: usize,
    /// Quarantined rows per reason code (first reason of each row).
    pub reasons: BTreeMap<&'static str, usize>,
}

/// Schema of quarantined rows: `row` (1-based, in the extract), the raw
/// `record_id`, the first `reason` and its `column`, every fault's message
/// in `detail`, and the whole raw row as a JSON object in `raw`.
pub fn quarantine_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("row", DataType::Int64, false),
        Field::new("record_id", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("column", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, false),
        Field::new("raw", DataType::Utf8, false),
    ]))
}

/// How an input column is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Str,
    Decimal,
    Date,
    Int,
    Float,
}

fn is_stringish(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_stringish(v),
        _ => false,
    }
}

fn access_for(ty: &ColumnType, dt: &DataType) -> Option<Access> {
    if is_stringish(dt) {
        return Some(Access::Str);
    }
    if matches!(dt, DataType::Null) {
        return Some(Access::Str);
    }
    match ty {
        ColumnType::Money => matches!(dt, DataType::Decimal128(_, _)).then_some(Access::Decimal),
        ColumnType::Date => {
            matches!(dt, DataType::Date32 | DataType::Date64).then_some(Access::Date)
        }
        ColumnType::Int { .. } | ColumnType::Code(_) => dt.is_integer().then_some(Access::Int),
        ColumnType::Float { .. } => (dt.is_numeric()).then_some(Access::Float),
        _ => None,
    }
}

/// Checks the schema against the table and returns, per contract column,
/// its input index and access (None: optional and absent), plus the extra
/// columns' indices.
type Plan = (Vec<Option<(usize, Access)>>, Vec<usize>);

fn plan(table: &'static TableSpec, file: &str, schema: &Schema) -> Result<Plan> {
    let mut seen = std::collections::BTreeSet::new();
    for f in schema.fields() {
        if !seen.insert(f.name().as_str()) {
            return Err(Error::DuplicateColumn {
                file: file.to_owned(),
                column: f.name().clone(),
            });
        }
    }
    let mut cols = Vec::with_capacity(table.columns.len());
    for c in table.columns {
        match schema.index_of(c.name) {
            Ok(i) => {
                let dt = schema.field(i).data_type();
                let access = access_for(&c.ty, dt).ok_or_else(|| Error::WrongType {
                    file: file.to_owned(),
                    source_name: table.name,
                    column: c.name.to_owned(),
                    found: dt.to_string(),
                    expected: c.ty.expected(),
                })?;
                cols.push(Some((i, access)));
            }
            Err(_) if c.presence == Presence::Optional => cols.push(None),
            Err(_) => {
                return Err(Error::MissingColumn {
                    file: file.to_owned(),
                    source_name: table.name,
                    column: c.name,
                    expected: c.ty.expected(),
                });
            }
        }
    }
    let extras = (0..schema.fields().len())
        .filter(|i| table.column(schema.field(*i).name()).is_none())
        .collect();
    Ok((cols, extras))
}

/// A typed view of one input column.
enum Input {
    Absent,
    Str(StringArray),
    Decimal(Decimal128Array, i8),
    Date(Date32Array),
    Int(Int64Array),
    Float(Float64Array),
}

fn arrow_err(file: &str) -> impl Fn(arrow::error::ArrowError) -> Error + '_ {
    move |source| Error::Arrow {
        file: file.to_owned(),
        source,
    }
}

/// `array` cast to `to` and viewed as `A` (a cast to `to` always yields `A`).
fn cast_to<A: Array + Clone + 'static>(array: &ArrayRef, to: &DataType, file: &str) -> Result<A> {
    let a = cast(array, to).map_err(arrow_err(file))?;
    a.as_any()
        .downcast_ref::<A>()
        .cloned()
        .ok_or_else(|| Error::Arrow {
            file: file.to_owned(),
            source: arrow::error::ArrowError::CastError(format!("{} is not {to}", a.data_type())),
        })
}

impl Input {
    fn new(array: &ArrayRef, access: Access, file: &str) -> Result<Input> {
        Ok(match access {
            Access::Str => Input::Str(cast_to(array, &DataType::Utf8, file)?),
            Access::Decimal => {
                let scale = match array.data_type() {
                    DataType::Decimal128(_, s) => *s,
                    _ => 0,
                };
                Input::Decimal(cast_to(array, array.data_type(), file)?, scale)
            }
            Access::Date => Input::Date(cast_to(array, &DataType::Date32, file)?),
            Access::Int => Input::Int(cast_to(array, &DataType::Int64, file)?),
            Access::Float => Input::Float(cast_to(array, &DataType::Float64, file)?),
        })
    }

    /// The value as trimmed text; None for null or empty.
    fn text(&self, i: usize) -> Option<&str> {
        match self {
            Input::Str(a) if a.is_valid(i) => {
                let t = a.value(i).trim();
                (!t.is_empty()).then_some(t)
            }
            _ => None,
        }
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            Input::Absent => true,
            Input::Str(_) => self.text(i).is_none(),
            Input::Decimal(a, _) => a.is_null(i),
            Input::Date(a) => a.is_null(i),
            Input::Int(a) => a.is_null(i),
            Input::Float(a) => a.is_null(i),
        }
    }
}

const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

fn date_to_days(d: hedui_model::Date) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - UNIX_EPOCH_CE_DAYS
}

/// Output builders of one contract column.
enum Out {
    Id {
        raw: StringBuilder,
        number: StringBuilder,
        clean: StringBuilder,
        status: StringBuilder,
    },
    Name {
        raw: StringBuilder,
        normal: StringBuilder,
        pinyin: StringBuilder,
        cache: HashMap<String, (String, String)>,
    },
    Str(StringBuilder),
    I64(Int64Builder),
    Date(Date32Builder),
    F64(Float64Builder),
}

impl Out {
    fn new(ty: &ColumnType, n: usize) -> Out {
        let s = || StringBuilder::with_capacity(n, n * 8);
        match ty {
            ColumnType::Id => Out::Id {
                raw: s(),
                number: s(),
                clean: s(),
                status: s(),
            },
            ColumnType::Name => Out::Name {
                raw: s(),
                normal: s(),
                pinyin: s(),
                cache: HashMap::new(),
            },
            ColumnType::Text | ColumnType::Code(_) => Out::Str(s()),
            ColumnType::Money | ColumnType::Int { .. } => Out::I64(Int64Builder::with_capacity(n)),
            ColumnType::Date | ColumnType::Month => Out::Date(Date32Builder::with_capacity(n)),
            ColumnType::Float { .. } => Out::F64(Float64Builder::with_capacity(n)),
        }
    }

    fn finish(self, into: &mut Vec<ArrayRef>) {
        match self {
            Out::Id {
                mut raw,
                mut number,
                mut clean,
                mut status,
            } => {
                into.push(Arc::new(raw.finish()));
                into.push(Arc::new(number.finish()));
                into.push(Arc::new(clean.finish()));
                into.push(Arc::new(status.finish()));
            }
            Out::Name {
                mut raw,
                mut normal,
                mut pinyin,
                ..
            } => {
                into.push(Arc::new(raw.finish()));
                into.push(Arc::new(normal.finish()));
                into.push(Arc::new(pinyin.finish()));
            }
            Out::Str(mut b) => into.push(Arc::new(b.finish())),
            Out::I64(mut b) => into.push(Arc::new(b.finish())),
            Out::Date(mut b) => into.push(Arc::new(b.finish())),
            Out::F64(mut b) => into.push(Arc::new(b.finish())),
        }
    }
}

/// Converts one value of one column, appending to `out`; returns a fault
/// if the value cannot be taken (a null is appended then).
fn convert(c: &ColumnSpec, input: &Input, i: usize, out: &mut Out) -> Option<Fault> {
    let missing = input.is_null(i);
    let fault = |reason, detail: String| Fault {
        reason,
        column: c.name,
        detail,
    };
    let mut result = None;
    match out {
        Out::Id {
            raw,
            number,
            clean,
            status,
        } => {
            let text = match input {
                Input::Str(a) if a.is_valid(i) => Some(a.value(i)),
                _ => None,
            };
            let parsed = IdNumber::parse(text.unwrap_or(""));
            raw.append_option(text);
            match parsed.id() {
                Some(id) => number.append_value(id.as_str()),
                None => number.append_null(),
            }
            if parsed.cleaned.is_empty() {
                clean.append_null();
            } else {
                clean.append_value(&parsed.cleaned);
            }
            status.append_value(parsed.status_code());
        }
        Out::Name {
            raw,
            normal,
            pinyin,
            cache,
        } => match input {
            Input::Str(a) if !missing => {
                let r = a.value(i);
                raw.append_value(r);
                if !cache.contains_key(r) {
                    let n = PersonName::new(r);
                    cache.insert(r.to_owned(), (n.normal().to_owned(), n.pinyin_key()));
                }
                let (n, p) = &cache[r];
                normal.append_value(n);
                pinyin.append_value(p);
            }
            _ => {
                raw.append_null();
                normal.append_null();
                pinyin.append_null();
            }
        },
        Out::Str(b) => match (&c.ty, input.text(i)) {
            (ColumnType::Code(spec), Some(t)) => match (spec.parse)(t) {
                Some(code) => b.append_value(code),
                None => {
                    b.append_null();
                    result = Some(fault(
                        Reason::UnknownCode,
                        format!(
                            "{t:?} is not a {} code; expected {}",
                            spec.list,
                            (spec.expected)()
                        ),
                    ));
                }
            },
            (ColumnType::Code(spec), None) => match input {
                Input::Int(a) if a.is_valid(i) => match (spec.parse)(&a.value(i).to_string()) {
                    Some(code) => b.append_value(code),
                    None => {
                        b.append_null();
                        result = Some(fault(
                            Reason::UnknownCode,
                            format!(
                                "{} is not a {} code; expected {}",
                                a.value(i),
                                spec.list,
                                (spec.expected)()
                            ),
                        ));
                    }
                },
                _ => b.append_null(),
            },
            (_, t) => b.append_option(t),
        },
        Out::I64(b) => match (&c.ty, input) {
            (ColumnType::Money, Input::Decimal(a, scale)) if a.is_valid(i) => {
                match Fen::from_decimal(a.value(i), *scale) {
                    Ok(f) => b.append_value(f.0),
                    Err(e) => {
                        b.append_null();
                        result = Some(fault(Reason::BadMoney, e.to_string()));
                    }
                }
            }
            (ColumnType::Money, _) => match input.text(i) {
                Some(t) => match Fen::parse_yuan(t) {
                    Ok(f) => b.append_value(f.0),
                    Err(e) => {
                        b.append_null();
                        result = Some(fault(Reason::BadMoney, e.to_string()));
                    }
                },
                None => b.append_null(),
            },
            (ColumnType::Int { min, max }, _) => {
                let v = match input {
                    Input::Int(a) if a.is_valid(i) => Some(Ok(a.value(i))),
                    _ => input
                        .text(i)
                        .map(|t| t.parse::<i64>().map_err(|_| t.to_owned())),
                };
                match v {
                    Some(Ok(v)) if (*min..=*max).contains(&v) => b.append_value(v),
                    Some(Ok(v)) => {
                        b.append_null();
                        result = Some(fault(
                            Reason::OutOfRange,
                            format!("{v} is outside {min}–{max}"),
                        ));
                    }
                    Some(Err(t)) => {
                        b.append_null();
                        result = Some(fault(
                            Reason::OutOfRange,
                            format!("{t:?} is not an integer"),
                        ));
                    }
                    None => b.append_null(),
                }
            }
            _ => b.append_null(),
        },
        Out::Date(b) => match (&c.ty, input) {
            (ColumnType::Date, Input::Date(a)) if a.is_valid(i) => b.append_value(a.value(i)),
            (ColumnType::Date, _) => match input.text(i) {
                Some(t) => match parse_date(t) {
                    Ok(d) => b.append_value(date_to_days(d)),
                    Err(e) => {
                        b.append_null();
                        result = Some(fault(Reason::BadDate, e.to_string()));
                    }
                },
                None => b.append_null(),
            },
            (_, _) => match input.text(i) {
                Some(t) => match Month::parse(t) {
                    Ok(m) => b.append_value(date_to_days(m.first_day())),
                    Err(e) => {
                        b.append_null();
                        result = Some(fault(Reason::BadMonth, e.to_string()));
                    }
                },
                None => b.append_null(),
            },
        },
        Out::F64(b) => {
            let (min, max) = match c.ty {
                ColumnType::Float { min, max } => (min, max),
                _ => (f64::MIN, f64::MAX),
            };
            let v = match input {
                Input::Float(a) if a.is_valid(i) => Some(Ok(a.value(i))),
                _ => input
                    .text(i)
                    .map(|t| t.parse::<f64>().map_err(|_| t.to_owned())),
            };
            match v {
                Some(Ok(v)) if v >= min && v <= max => b.append_value(v),
                Some(Ok(v)) => {
                    b.append_null();
                    result = Some(fault(
                        Reason::OutOfRange,
                        format!("{v} is outside {min}–{max}"),
                    ));
                }
                Some(Err(t)) => {
                    b.append_null();
                    result = Some(fault(Reason::OutOfRange, format!("{t:?} is not a number")));
                }
                None => b.append_null(),
            }
        }
    }
    if result.is_none() && missing && c.presence == Presence::Required {
        result = Some(fault(
            Reason::MissingValue,
            format!("{} is required", c.name),
        ));
    }
    result
}

/// One batch converted: its canonical columns (all rows), each row's
/// faults, and each row's key.
struct Converted {
    columns: Vec<ArrayRef>,
    faults: Vec<Vec<Fault>>,
    keys: Vec<Option<String>>,
}

fn key_part(c: &ColumnSpec, columns: &[ArrayRef], out_index: usize, i: usize) -> Option<String> {
    let get = |k: usize| {
        columns[k]
            .as_any()
            .downcast_ref::<StringArray>()
            .and_then(|a| a.is_valid(i).then(|| a.value(i).to_owned()))
    };
    match c.ty {
        // For an id, its cleaned form (the normalised number when valid).
        ColumnType::Id => get(out_index + 2),
        // For a name, its normal form.
        ColumnType::Name => get(out_index + 1),
        _ => get(out_index),
    }
}

fn convert_batch(
    table: &'static TableSpec,
    plan: &Plan,
    batch: &RecordBatch,
    file: &str,
) -> Result<Converted> {
    let n = batch.num_rows();
    let (cols, extras) = plan;
    let inputs = table
        .columns
        .iter()
        .zip(cols)
        .map(|(_, p)| match p {
            Some((idx, access)) => Input::new(batch.column(*idx), *access, file),
            None => Ok(Input::Absent),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut outs: Vec<Out> = table.columns.iter().map(|c| Out::new(&c.ty, n)).collect();
    let mut faults = vec![Vec::new(); n];
    for (k, c) in table.columns.iter().enumerate() {
        let (input, out) = (&inputs[k], &mut outs[k]);
        for (i, row_faults) in faults.iter_mut().enumerate() {
            if let Some(f) = convert(c, input, i, out) {
                row_faults.push(f);
            }
        }
    }
    // Assemble canonical columns in canonical order: record_id first.
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut out_index = Vec::with_capacity(table.columns.len());
    let mut record_id_col = None;
    for (c, out) in table.columns.iter().zip(outs) {
        out_index.push(columns.len());
        if c.name == "record_id" {
            record_id_col = Some(columns.len());
        }
        out.finish(&mut columns);
    }
    let keys: Vec<Option<String>> = (0..n)
        .map(|i| {
            let mut parts = Vec::with_capacity(table.key.len());
            for k in table.key {
                let idx = table.columns.iter().position(|c| c.name == *k)?;
                parts.push(
                    key_part(&table.columns[idx], &columns, out_index[idx], i).unwrap_or_default(),
                );
            }
            Some(parts.join("/")).filter(|s| !s.is_empty())
        })
        .collect();
    let mut record_id = StringBuilder::with_capacity(n, n * 12);
    for k in &keys {
        record_id.append_value(k.as_deref().unwrap_or(""));
    }
    let mut assembled: Vec<ArrayRef> = vec![Arc::new(record_id.finish())];
    for (k, a) in columns.into_iter().enumerate() {
        if Some(k) != record_id_col {
            assembled.push(a);
        }
    }
    for idx in extras {
        assembled.push(cast(batch.column(*idx), &DataType::Utf8).map_err(arrow_err(file))?);
    }
    Ok(Converted {
        columns: assembled,
        faults,
        keys,
    })
}

fn raw_row_json(batch: &RecordBatch, i: usize) -> String {
    let opts = FormatOptions::default();
    let mut map = serde_json::Map::new();
    for (f, a) in batch.schema().fields().iter().zip(batch.columns()) {
        let v = if a.is_null(i) {
            serde_json::Value::Null
        } else {
            match ArrayFormatter::try_new(a.as_ref(), &opts) {
                Ok(fmt) => serde_json::Value::String(fmt.value(i).to_string()),
                Err(_) => serde_json::Value::Null,
            }
        };
        map.insert(f.name().clone(), v);
    }
    serde_json::Value::Object(map).to_string()
}

/// Normalises an extract of `table` (see the module docs). `schema` is the
/// extract's schema (needed when it has no batches).
pub fn normalise(
    table: &'static TableSpec,
    file: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Normalised> {
    let plan = plan(table, file, schema)?;
    let converted = batches
        .par_iter()
        .map(|b| convert_batch(table, &plan, b, file))
        .collect::<Result<Vec<_>>>()?;

    // Keys seen more than once among rows otherwise valid.
    let duplicates: HashSet<String> = {
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for c in &converted {
            for (k, f) in c.keys.iter().zip(&c.faults) {
                if let (Some(k), true) = (k, f.is_empty()) {
                    *counts.entry(k.as_str()).or_default() += 1;
                }
            }
        }
        counts
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(k, _)| k.to_owned())
            .collect()
    };
    let key_desc = table.key.join(" + ");

    let mut fields: Vec<Field> = table
        .canonical_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for idx in &plan.1 {
        let name = schema.field(*idx).name();
        fields.push(Field::new(format!("extra_{name}"), DataType::Utf8, true));
    }
    let out_schema = Arc::new(Schema::new(fields));

    let mut out = Normalised {
        table,
        file: file.to_owned(),
        rows: Vec::new(),
        quarantine: Vec::new(),
        accepted: 0,
        quarantined: 0,
        reasons: BTreeMap::new(),
    };
    let mut row_base = 0i64;
    for (batch, mut conv) in batches.iter().zip(converted) {
        for (k, f) in conv.keys.iter().zip(conv.faults.iter_mut()) {
            match k {
                None if f.is_empty() => f.push(Fault {
                    reason: Reason::MissingValue,
                    column: table.key[0],
                    detail: format!("the row has no key ({key_desc})"),
                }),
                Some(k) if f.is_empty() && duplicates.contains(k.as_str()) => f.push(Fault {
                    reason: Reason::DuplicateKey,
                    column: table.key[0],
                    detail: format!("{key_desc} {k:?} appears more than once in the extract"),
                }),
                _ => {}
            }
        }
        let keep: BooleanArray = conv.faults.iter().map(|f| Some(f.is_empty())).collect();
        let all =
            RecordBatch::try_new(out_schema.clone(), conv.columns).map_err(arrow_err(file))?;
        let kept = filter_record_batch(&all, &keep).map_err(arrow_err(file))?;
        out.accepted += kept.num_rows();
        if kept.num_rows() > 0 {
            out.rows.push(kept);
        }

        let mut row = Int64Builder::new();
        let mut rid = StringBuilder::new();
        let mut reason = StringBuilder::new();
        let mut column = StringBuilder::new();
        let mut detail = StringBuilder::new();
        let mut raw = StringBuilder::new();
        let rid_input = batch
            .schema()
            .index_of(table.key[0])
            .ok()
            .and_then(|i| cast(batch.column(i), &DataType::Utf8).ok());
        let rid_input = rid_input
            .as_ref()
            .and_then(|a| a.as_any().downcast_ref::<StringArray>());
        for (i, f) in conv.faults.iter().enumerate() {
            let Some(first) = f.first() else { continue };
            row.append_value(row_base + i as i64 + 1);
            rid.append_option(rid_input.and_then(|a| a.is_valid(i).then(|| a.value(i))));
            reason.append_value(first.reason.code());
            column.append_value(first.column);
            detail.append_value(
                f.iter()
                    .map(|f| format!("{}: {}", f.column, f.detail))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            raw.append_value(raw_row_json(batch, i));
            *out.reasons.entry(first.reason.code()).or_default() += 1;
            out.quarantined += 1;
        }
        let q = RecordBatch::try_new(
            quarantine_schema(),
            vec![
                Arc::new(row.finish()),
                Arc::new(rid.finish()),
                Arc::new(reason.finish()),
                Arc::new(column.finish()),
                Arc::new(detail.finish()),
                Arc::new(raw.finish()),
            ],
        )
        .map_err(arrow_err(file))?;
        if q.num_rows() > 0 {
            out.quarantine.push(q);
        }
        row_base += batch.num_rows() as i64;
    }
    // An extract of no rows (or no accepted rows) still has its schema.
    if out.rows.is_empty() {
        out.rows.push(RecordBatch::new_empty(out_schema));
    }
    if out.quarantine.is_empty() {
        out.quarantine
            .push(RecordBatch::new_empty(quarantine_schema()));
    }
    Ok(out)
}
