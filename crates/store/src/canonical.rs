//! The canonical form of a snapshot and the byte encoding its id is the
//! blake3 digest of.
//!
//! The id must not change when a library changes how it lays out Parquet
//! pages, compresses, or orders metadata, so it is computed over an encoding
//! defined here, byte by byte, from the *values*; never over file bytes.
//!
//! # Canonical form
//!
//! Before anything is hashed or written, every column is brought to a
//! canonical physical type:
//!
//! - `LargeUtf8` and `Utf8View` become `Utf8`; `LargeBinary` and
//!   `BinaryView` become `Binary`; a dictionary is decoded to its value
//!   type;
//! - every float NaN becomes the one quiet NaN (`0x7ff8000000000000`,
//!   `0x7fc00000`); `-0.0` stays `-0.0`;
//! - field metadata is dropped; names, types and nullability stay.
//!
//! Rows are put in canonical order: the accepted rows by `id_number`
//! (byte-wise, nulls last) then `record_id` (byte-wise, unique, so the order
//! is total); the quarantined rows by all their columns in schema order
//! (ascending, nulls first, numbers by value, floats in IEEE total order,
//! strings and binary byte-wise, `false < true`); rows equal in every column
//! are identical, so their order cannot matter.
//!
//! # Encoding
//!
//! `u8`, `u32`, `u64`: little-endian unsigned integers; `str(s)` =
//! `u64(byte length) ‖ UTF-8 bytes`; `opt(None)` = `u8(0)`, `opt(Some(s))` =
//! `u8(1) ‖ str(s)`; `H(x)` = the 32-byte blake3 digest of `x`.
//!
//! ```text
//! snapshot_id = hex(H(
//!     str("hedui.snapshot.v1")
//!   ‖ str(source) ‖ str(as_of as YYYY-MM-DD) ‖ str(department) ‖ opt(region_code)
//!   ‖ u32(schema_version)
//!   ‖ table(rows) ‖ table(quarantine)))
//!
//! table = u64(row count) ‖ u32(column count)
//!       ‖ for each column in schema order: str(name) ‖ str(type) ‖ column_digest
//!
//! column_digest = H( str("hedui.column.v1") ‖ str(type) ‖ u64(row count) ‖ u64(null count)
//!                  ‖ H(nulls) ‖ H(values) ‖ H(lengths) )
//!   nulls   = u64(i) for every row i (0-based, canonical order) whose value is null
//!   values  = for every non-null value, in canonical order, its bytes:
//!               bool: u8 0 or 1; intN, uintN, date32, date64, time, timestamp,
//!               duration: the integer, N/8 bytes little-endian two's complement;
//!               float32/float64: the IEEE 754 bits little-endian (NaN canonical);
//!               decimal128/decimal256: the unscaled integer, 16/32 bytes LE;
//!               utf8/binary: the bytes; fixed_size_binary(w): the w bytes
//!   lengths = for utf8 and binary, u64(byte length) of every non-null value; empty otherwise
//! ```
//!
//! The type strings are hedui's own (see [`type_tag`]): `bool`, `int8` …
//! `int64`, `uint8` … `uint64`, `float32`, `float64`, `date32`, `date64`,
//! `time32[s]`, `time64[us]`, `timestamp[ms]`, `timestamp[us, UTC]`,
//! `duration[ns]`, `decimal128(18, 2)`, `decimal256(40, 2)`, `utf8`,
//! `binary`, `fixed_size_binary(16)`, `null`. Column digests stream: a column
//! hashed in chunks of any size gives the same digest as hashed whole.
//!
//! `source_files` and the wall-clock time of ingestion are not content and
//! are not hashed.

#[cfg(not(target_endian = "little"))]
compile_error!("the canonical encoding reads native buffers as little-endian bytes");

use std::hash::Hasher as _;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, FixedSizeBinaryArray, GenericByteArray, PrimitiveArray,
    RecordBatch, RecordBatchOptions, UInt32Array,
};
use arrow::compute::{
    SortColumn, SortOptions, cast, concat, concat_batches, interleave_record_batch,
    lexsort_to_indices, take_record_batch,
};
use arrow::datatypes::{
    ArrowNativeType, ArrowPrimitiveType, ByteArrayType, DataType, Date32Type, Date64Type,
    Decimal128Type, Decimal256Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Field, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, Schema, SchemaRef, Time32MillisecondType, Time32SecondType,
    Time64MicrosecondType, Time64NanosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, ToByteSlice, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow::row::{RowConverter, SortField};

use crate::error::{Error, Result};

/// Below this many rows a table's order is computed on one thread.
const PARALLEL_ORDER_ROWS: usize = 8_192;

/// Domain-separation tag of the snapshot digest; bump on any change to the
/// encoding.
pub const SNAPSHOT_ENCODING: &str = "hedui.snapshot.v1";
/// Domain-separation tag of a column digest.
pub const COLUMN_ENCODING: &str = "hedui.column.v1";

/// Name of the unique row-id column every snapshot's rows carry.
pub const RECORD_ID: &str = "record_id";
/// Name of the normalised id-number column every snapshot's rows carry.
pub const ID_NUMBER: &str = "id_number";

const CANONICAL_NAN_64: u64 = 0x7ff8_0000_0000_0000;
const CANONICAL_NAN_32: u32 = 0x7fc0_0000;

/// Size at which a hash stream hands its buffer to blake3.
const STREAM_BUFFER: usize = 64 * 1024;

/// Which table of a snapshot a column belongs to, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Rows,
    Quarantine,
}

impl Table {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Rows => "rows",
            Table::Quarantine => "quarantine",
        }
    }
}

/// The canonical type string of an already normalised type, or `None` when a
/// snapshot cannot hold it.
pub fn type_tag(data_type: &DataType) -> Option<String> {
    fn unit(u: &TimeUnit) -> &'static str {
        match u {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
        }
    }
    let tag = match data_type {
        DataType::Null => "null".to_owned(),
        DataType::Boolean => "bool".to_owned(),
        DataType::Int8 => "int8".to_owned(),
        DataType::Int16 => "int16".to_owned(),
        DataType::Int32 => "int32".to_owned(),
        DataType::Int64 => "int64".to_owned(),
        DataType::UInt8 => "uint8".to_owned(),
        DataType::UInt16 => "uint16".to_owned(),
        DataType::UInt32 => "uint32".to_owned(),
        DataType::UInt64 => "uint64".to_owned(),
        DataType::Float32 => "float32".to_owned(),
        DataType::Float64 => "float64".to_owned(),
        DataType::Date32 => "date32".to_owned(),
        DataType::Date64 => "date64".to_owned(),
        DataType::Time32(u @ (TimeUnit::Second | TimeUnit::Millisecond)) => {
            format!("time32[{}]", unit(u))
        }
        DataType::Time64(u @ (TimeUnit::Microsecond | TimeUnit::Nanosecond)) => {
            format!("time64[{}]", unit(u))
        }
        DataType::Timestamp(u, None) => format!("timestamp[{}]", unit(u)),
        DataType::Timestamp(u, Some(tz)) => format!("timestamp[{}, {tz}]", unit(u)),
        DataType::Duration(u) => format!("duration[{}]", unit(u)),
        DataType::Decimal128(p, s) => format!("decimal128({p}, {s})"),
        DataType::Decimal256(p, s) => format!("decimal256({p}, {s})"),
        DataType::Utf8 => "utf8".to_owned(),
        DataType::Binary => "binary".to_owned(),
        DataType::FixedSizeBinary(w) => format!("fixed_size_binary({w})"),
        _ => return None,
    };
    Some(tag)
}

/// Brings one column to its canonical physical type (see the module docs).
fn normalise_array(array: &ArrayRef) -> std::result::Result<ArrayRef, DataType> {
    let data_type = array.data_type();
    let cast_to = |to: &DataType| cast(array, to).map_err(|_| data_type.clone());
    match data_type {
        DataType::LargeUtf8 | DataType::Utf8View => cast_to(&DataType::Utf8),
        DataType::LargeBinary | DataType::BinaryView => cast_to(&DataType::Binary),
        DataType::Dictionary(_, value) => {
            let decoded = cast_to(value)?;
            normalise_array(&decoded)
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            if a.values().iter().any(|v| v.is_nan()) {
                let canon: PrimitiveArray<Float64Type> = a.unary(|v| {
                    if v.is_nan() {
                        f64::from_bits(CANONICAL_NAN_64)
                    } else {
                        v
                    }
                });
                Ok(Arc::new(canon))
            } else {
                Ok(Arc::clone(array))
            }
        }
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            if a.values().iter().any(|v| v.is_nan()) {
                let canon: PrimitiveArray<Float32Type> = a.unary(|v| {
                    if v.is_nan() {
                        f32::from_bits(CANONICAL_NAN_32)
                    } else {
                        v
                    }
                });
                Ok(Arc::new(canon))
            } else {
                Ok(Arc::clone(array))
            }
        }
        other if type_tag(other).is_some() => Ok(Arc::clone(array)),
        other => Err(other.clone()),
    }
}

/// The canonical schema of `schema` (types normalised, metadata dropped), or
/// the first column a snapshot cannot hold.
pub(crate) fn normalise_schema(
    schema: &Schema,
    source_name: &str,
    table: Table,
) -> Result<SchemaRef> {
    let fields = schema
        .fields()
        .iter()
        .map(|f| {
            let data_type =
                normalised_type(f.data_type()).ok_or_else(|| Error::UnsupportedType {
                    source_name: source_name.to_owned(),
                    table: table.name(),
                    column: f.name().clone(),
                    data_type: f.data_type().to_string(),
                })?;
            Ok(Field::new(f.name(), data_type, f.is_nullable()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

fn normalised_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::LargeUtf8 | DataType::Utf8View => Some(DataType::Utf8),
        DataType::LargeBinary | DataType::BinaryView => Some(DataType::Binary),
        DataType::Dictionary(_, value) => normalised_type(value),
        other => type_tag(other).map(|_| other.clone()),
    }
}

/// Brings every column of `batch` to its canonical type and gives it the
/// canonical schema `schema` (which must be `normalise_schema` of a schema
/// with the same names and types, nullability widened as needed).
pub(crate) fn normalise_batch(
    batch: &RecordBatch,
    schema: &SchemaRef,
    source_name: &str,
    table: Table,
) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(batch.schema().fields())
        .map(|(column, field)| {
            normalise_array(column).map_err(|data_type| Error::UnsupportedType {
                source_name: source_name.to_owned(),
                table: table.name(),
                column: field.name().clone(),
                data_type: data_type.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(Arc::clone(schema), columns, &options).map_err(|e| {
        Error::arrow(
            format!("normalising the {} of `{source_name}`", table.name()),
            e,
        )
    })
}

/// Checks that every batch has the same column names and types, and returns
/// the canonical schema, each field nullable when it is in any batch.
pub(crate) fn common_schema(
    batches: &[RecordBatch],
    source_name: &str,
    table: Table,
) -> Result<SchemaRef> {
    let Some(first) = batches.first() else {
        return Ok(Arc::new(Schema::empty()));
    };
    let first_schema = first.schema();
    let mut nullable: Vec<bool> = first_schema
        .fields()
        .iter()
        .map(|f| f.is_nullable())
        .collect();
    for (i, batch) in batches.iter().enumerate().skip(1) {
        let schema = batch.schema();
        let same = schema.fields().len() == first_schema.fields().len()
            && schema
                .fields()
                .iter()
                .zip(first_schema.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if !same {
            return Err(Error::invalid(
                source_name,
                format!(
                    "{} batch {i} has columns {} but batch 0 has {}",
                    table.name(),
                    describe(&schema),
                    describe(&first_schema)
                ),
            ));
        }
        for (n, f) in nullable.iter_mut().zip(schema.fields()) {
            *n |= f.is_nullable();
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for f in first_schema.fields() {
        if !seen.insert(f.name().as_str()) {
            return Err(Error::invalid(
                source_name,
                format!("{} has two columns named `{}`", table.name(), f.name()),
            ));
        }
    }
    let widened = Schema::new(
        first_schema
            .fields()
            .iter()
            .zip(nullable)
            .map(|(f, n)| Field::new(f.name(), f.data_type().clone(), n))
            .collect::<Vec<_>>(),
    );
    normalise_schema(&widened, source_name, table)
}

fn describe(schema: &Schema) -> String {
    let cols: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect();
    format!("({})", cols.join(", "))
}

// ---------------------------------------------------------------------------
// Hashing

/// A blake3 stream with a buffer in front, so that many small writes cost
/// one `update` per 64 KiB.
struct Stream {
    hasher: blake3::Hasher,
    buf: Vec<u8>,
}

impl Stream {
    fn new() -> Self {
        Stream {
            hasher: blake3::Hasher::new(),
            buf: Vec::with_capacity(STREAM_BUFFER),
        }
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        if bytes.len() >= STREAM_BUFFER / 4 {
            self.flush();
            self.hasher.update(bytes);
        } else {
            if self.buf.len() + bytes.len() > STREAM_BUFFER {
                self.flush();
            }
            self.buf.extend_from_slice(bytes);
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
    }

    fn finish(mut self) -> blake3::Hash {
        self.flush();
        self.hasher.finalize()
    }
}

/// The streaming digest of one column (see the module docs).
pub(crate) struct ColumnHasher {
    tag: String,
    rows: u64,
    null_count: u64,
    nulls: Stream,
    values: Stream,
    lengths: Stream,
}

impl ColumnHasher {
    pub(crate) fn new(tag: String) -> Self {
        ColumnHasher {
            tag,
            rows: 0,
            null_count: 0,
            nulls: Stream::new(),
            values: Stream::new(),
            lengths: Stream::new(),
        }
    }

    /// Feeds the next `array.len()` rows of the column, in canonical order.
    /// The array must have the normalised type the hasher was made for.
    pub(crate) fn update(&mut self, array: &dyn Array) {
        let base = self.rows;
        let len = array.len();
        self.rows += len as u64;
        if array.data_type() == &DataType::Null {
            self.null_count += len as u64;
            for i in 0..len as u64 {
                self.nulls.write(&(base + i).to_le_bytes());
            }
            return;
        }
        if let Some(nulls) = array.nulls().filter(|n| n.null_count() > 0) {
            self.null_count += nulls.null_count() as u64;
            for i in (!nulls.inner()).set_indices() {
                self.nulls.write(&(base + i as u64).to_le_bytes());
            }
        }
        match array.data_type() {
            DataType::Boolean => self.boolean(array.as_boolean()),
            DataType::Int8 => self.primitive::<Int8Type>(array),
            DataType::Int16 => self.primitive::<Int16Type>(array),
            DataType::Int32 => self.primitive::<Int32Type>(array),
            DataType::Int64 => self.primitive::<Int64Type>(array),
            DataType::UInt8 => self.primitive::<UInt8Type>(array),
            DataType::UInt16 => self.primitive::<UInt16Type>(array),
            DataType::UInt32 => self.primitive::<UInt32Type>(array),
            DataType::UInt64 => self.primitive::<UInt64Type>(array),
            DataType::Float32 => self.float32(array.as_primitive::<Float32Type>()),
            DataType::Float64 => self.float64(array.as_primitive::<Float64Type>()),
            DataType::Date32 => self.primitive::<Date32Type>(array),
            DataType::Date64 => self.primitive::<Date64Type>(array),
            DataType::Time32(TimeUnit::Second) => self.primitive::<Time32SecondType>(array),
            DataType::Time32(_) => self.primitive::<Time32MillisecondType>(array),
            DataType::Time64(TimeUnit::Microsecond) => {
                self.primitive::<Time64MicrosecondType>(array)
            }
            DataType::Time64(_) => self.primitive::<Time64NanosecondType>(array),
            DataType::Timestamp(TimeUnit::Second, _) => {
                self.primitive::<TimestampSecondType>(array)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                self.primitive::<TimestampMillisecondType>(array)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                self.primitive::<TimestampMicrosecondType>(array)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                self.primitive::<TimestampNanosecondType>(array)
            }
            DataType::Duration(TimeUnit::Second) => self.primitive::<DurationSecondType>(array),
            DataType::Duration(TimeUnit::Millisecond) => {
                self.primitive::<DurationMillisecondType>(array)
            }
            DataType::Duration(TimeUnit::Microsecond) => {
                self.primitive::<DurationMicrosecondType>(array)
            }
            DataType::Duration(TimeUnit::Nanosecond) => {
                self.primitive::<DurationNanosecondType>(array)
            }
            DataType::Decimal128(_, _) => self.primitive::<Decimal128Type>(array),
            DataType::Decimal256(_, _) => self.primitive::<Decimal256Type>(array),
            DataType::Utf8 => self.bytes(array.as_string::<i32>()),
            DataType::LargeUtf8 => self.bytes(array.as_string::<i64>()),
            DataType::Binary => self.bytes(array.as_binary::<i32>()),
            DataType::LargeBinary => self.bytes(array.as_binary::<i64>()),
            DataType::FixedSizeBinary(_) => self.fixed_size_binary(array.as_fixed_size_binary()),
            other => unreachable!("column of type {other} passed normalisation"),
        }
    }

    fn primitive<T: ArrowPrimitiveType>(&mut self, array: &dyn Array) {
        let array = array.as_primitive::<T>();
        let values: &[T::Native] = array.values();
        match array.nulls().filter(|n| n.null_count() > 0) {
            None => self.values.write(values.to_byte_slice()),
            Some(nulls) => {
                for (start, end) in nulls.valid_slices() {
                    self.values.write(values[start..end].to_byte_slice());
                }
            }
        }
    }

    fn float64(&mut self, array: &PrimitiveArray<Float64Type>) {
        self.floats(array, |v: f64| {
            if v.is_nan() {
                CANONICAL_NAN_64
            } else {
                v.to_bits()
            }
            .to_le_bytes()
        });
    }

    fn float32(&mut self, array: &PrimitiveArray<Float32Type>) {
        self.floats(array, |v: f32| {
            if v.is_nan() {
                CANONICAL_NAN_32
            } else {
                v.to_bits()
            }
            .to_le_bytes()
        });
    }

    /// Non-null float values, each as the bytes `canon` gives (one NaN).
    fn floats<T: ArrowPrimitiveType, const N: usize>(
        &mut self,
        array: &PrimitiveArray<T>,
        canon: impl Fn(T::Native) -> [u8; N],
    ) {
        let values = array.values();
        match array.nulls().filter(|n| n.null_count() > 0) {
            None => {
                for v in values.iter() {
                    self.values.write(&canon(*v));
                }
            }
            Some(nulls) => {
                for i in nulls.valid_indices() {
                    self.values.write(&canon(values[i]));
                }
            }
        }
    }

    fn boolean(&mut self, array: &BooleanArray) {
        let values = array.values();
        match array.nulls().filter(|n| n.null_count() > 0) {
            None => {
                for v in values.iter() {
                    self.values.write(&[u8::from(v)]);
                }
            }
            Some(nulls) => {
                for i in nulls.valid_indices() {
                    self.values.write(&[u8::from(values.value(i))]);
                }
            }
        }
    }

    fn bytes<T: ByteArrayType>(&mut self, array: &GenericByteArray<T>) {
        let offsets = array.value_offsets();
        let data = array.value_data();
        let run = |start: usize, end: usize, values: &mut Stream, lengths: &mut Stream| {
            let lo = offsets[start].as_usize();
            let hi = offsets[end].as_usize();
            values.write(&data[lo..hi]);
            for w in offsets[start..=end].windows(2) {
                let len = (w[1].as_usize() - w[0].as_usize()) as u64;
                lengths.write(&len.to_le_bytes());
            }
        };
        match array.nulls().filter(|n| n.null_count() > 0) {
            None => run(0, array.len(), &mut self.values, &mut self.lengths),
            Some(nulls) => {
                for (start, end) in nulls.valid_slices() {
                    run(start, end, &mut self.values, &mut self.lengths);
                }
            }
        }
    }

    fn fixed_size_binary(&mut self, array: &FixedSizeBinaryArray) {
        for i in 0..array.len() {
            if array.is_valid(i) {
                self.values.write(array.value(i));
            }
        }
    }

    /// The column digest.
    pub(crate) fn finish(self) -> blake3::Hash {
        let mut h = blake3::Hasher::new();
        put_str(&mut h, COLUMN_ENCODING);
        put_str(&mut h, &self.tag);
        h.update(&self.rows.to_le_bytes());
        h.update(&self.null_count.to_le_bytes());
        h.update(self.nulls.finish().as_bytes());
        h.update(self.values.finish().as_bytes());
        h.update(self.lengths.finish().as_bytes());
        h.finalize()
    }
}

/// One column of a table digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnDigest {
    pub(crate) name: String,
    pub(crate) tag: String,
    pub(crate) nullable: bool,
    pub(crate) digest: blake3::Hash,
}

/// The digest of a whole table: its row count and its columns' digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableDigest {
    pub(crate) rows: u64,
    pub(crate) columns: Vec<ColumnDigest>,
}

/// Streams the batches of one table, in canonical order, into a digest.
pub(crate) struct TableHasher {
    schema: SchemaRef,
    rows: u64,
    columns: Vec<ColumnHasher>,
}

impl TableHasher {
    /// A hasher for tables of the normalised schema `schema`.
    pub(crate) fn new(schema: SchemaRef) -> Self {
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                let tag = type_tag(f.data_type()).expect("schema was normalised");
                ColumnHasher::new(tag)
            })
            .collect();
        TableHasher {
            schema,
            rows: 0,
            columns,
        }
    }

    /// Feeds the next rows, in canonical order, normalised.
    pub(crate) fn update(&mut self, batch: &RecordBatch) {
        self.rows += batch.num_rows() as u64;
        for (hasher, column) in self.columns.iter_mut().zip(batch.columns()) {
            hasher.update(column.as_ref());
        }
    }

    pub(crate) fn finish(self) -> TableDigest {
        let columns = self
            .columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(hasher, field)| ColumnDigest {
                name: field.name().clone(),
                tag: hasher.tag.clone(),
                nullable: field.is_nullable(),
                digest: hasher.finish(),
            })
            .collect();
        TableDigest {
            rows: self.rows,
            columns,
        }
    }
}

/// What, besides the two tables, the id covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'a> {
    pub(crate) source: &'a str,
    pub(crate) as_of: chrono::NaiveDate,
    pub(crate) department: &'a str,
    pub(crate) region_code: Option<&'a str>,
    pub(crate) schema_version: u32,
}

fn put_str(h: &mut blake3::Hasher, s: &str) {
    h.update(&(s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

fn put_table(h: &mut blake3::Hasher, table: &TableDigest) {
    h.update(&table.rows.to_le_bytes());
    h.update(&(table.columns.len() as u32).to_le_bytes());
    for c in &table.columns {
        put_str(h, &c.name);
        put_str(h, &c.tag);
        h.update(c.digest.as_bytes());
    }
}

/// The snapshot digest: header, rows, quarantine.
pub(crate) fn snapshot_digest(
    header: &Header<'_>,
    rows: &TableDigest,
    quarantine: &TableDigest,
) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    put_str(&mut h, SNAPSHOT_ENCODING);
    put_str(&mut h, header.source);
    put_str(&mut h, &header.as_of.format("%Y-%m-%d").to_string());
    put_str(&mut h, header.department);
    match header.region_code {
        None => {
            h.update(&[0]);
        }
        Some(r) => {
            h.update(&[1]);
            put_str(&mut h, r);
        }
    }
    h.update(&header.schema_version.to_le_bytes());
    put_table(&mut h, rows);
    put_table(&mut h, quarantine);
    h.finalize()
}

// ---------------------------------------------------------------------------
// Canonical order

/// The canonical order of the accepted rows of an extract, and the means to
/// gather them in that order a chunk at a time (so the sorted table is never
/// materialised whole).
pub(crate) struct RowOrder {
    indices: UInt32Array,
    /// The first global row of each batch.
    starts: Vec<usize>,
}

impl RowOrder {
    /// Validates the key columns of the normalised `batches` and sorts:
    /// `id_number` ascending, nulls last, then `record_id` ascending (a
    /// table without `id_number` sorts by `record_id`).
    pub(crate) fn new(batches: &[RecordBatch], schema: &Schema, source_name: &str) -> Result<Self> {
        let key = |name: &str| -> Result<usize> {
            let (i, field) = schema.column_with_name(name).ok_or_else(|| Error::Column {
                source_name: source_name.to_owned(),
                column: name.to_owned(),
                problem: "is missing".to_owned(),
            })?;
            if field.data_type() != &DataType::Utf8 {
                return Err(Error::Column {
                    source_name: source_name.to_owned(),
                    column: name.to_owned(),
                    problem: format!("must be Utf8, found {}", field.data_type()),
                });
            }
            Ok(i)
        };
        let record_col = key(RECORD_ID)?;
        // A table without ids (a check request's `applications`) sorts by
        // record_id alone, as if every id were null.
        let id_col = match schema.column_with_name(ID_NUMBER) {
            Some(_) => Some(key(ID_NUMBER)?),
            None => None,
        };

        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if total > u32::MAX as usize {
            return Err(Error::invalid(
                source_name,
                format!(
                    "{total} rows in one snapshot; at most {} are supported",
                    u32::MAX
                ),
            ));
        }
        let mut starts = Vec::with_capacity(batches.len());
        let mut at = 0;
        for b in batches {
            starts.push(at);
            at += b.num_rows();
            if b.column(record_col).null_count() > 0 {
                return Err(Error::Column {
                    source_name: source_name.to_owned(),
                    column: RECORD_ID.to_owned(),
                    problem: "has null values; every row needs its record_id".to_owned(),
                });
            }
        }

        let record_ids = concat_keys(batches, record_col, source_name)?;
        let id_numbers = match id_col {
            Some(c) => concat_keys(batches, c, source_name)?,
            None => arrow::array::new_null_array(&DataType::Utf8, total),
        };
        // The uniqueness check and the sort read the same keys: one core
        // each, but a small table (a request's) on this thread alone — a
        // thread costs more than both.
        let (unique, indices) = if total < PARALLEL_ORDER_ROWS {
            (
                check_unique(&record_ids, source_name),
                sort_keys(&id_numbers, &record_ids, source_name),
            )
        } else {
            std::thread::scope(|scope| {
                let unique = scope.spawn(|| check_unique(&record_ids, source_name));
                let indices = sort_keys(&id_numbers, &record_ids, source_name);
                (unique.join().expect("uniqueness check panicked"), indices)
            })
        };
        unique?;
        let indices = indices?;
        Ok(RowOrder { indices, starts })
    }

    pub(crate) fn len(&self) -> usize {
        self.indices.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Rows `range` of the canonical order, as one batch.
    pub(crate) fn gather(
        &self,
        batches: &[RecordBatch],
        range: std::ops::Range<usize>,
    ) -> std::result::Result<RecordBatch, arrow::error::ArrowError> {
        let indices = self.indices.slice(range.start, range.len());
        if batches.len() == 1 {
            return take_record_batch(&batches[0], &indices);
        }
        let pairs: Vec<(usize, usize)> = indices
            .values()
            .iter()
            .map(|&g| {
                let g = g as usize;
                let b = self.starts.partition_point(|&s| s <= g) - 1;
                (b, g - self.starts[b])
            })
            .collect();
        let refs: Vec<&RecordBatch> = batches.iter().collect();
        interleave_record_batch(&refs, &pairs)
    }
}

/// The canonical order of the key columns: `id_number` ascending, nulls
/// last, then `record_id` ascending.
fn sort_keys(
    id_numbers: &ArrayRef,
    record_ids: &ArrayRef,
    source_name: &str,
) -> Result<UInt32Array> {
    if id_numbers.is_empty() {
        return Ok(UInt32Array::from(Vec::<u32>::new()));
    }
    if let Some(indices) = sort_by_id_code(id_numbers, record_ids) {
        return Ok(indices);
    }
    let ascending_nulls_last = Some(SortOptions {
        descending: false,
        nulls_first: false,
    });
    lexsort_to_indices(
        &[
            SortColumn {
                values: Arc::clone(id_numbers),
                options: ascending_nulls_last,
            },
            SortColumn {
                values: Arc::clone(record_ids),
                options: ascending_nulls_last,
            },
        ],
        None,
    )
    .map_err(|e| Error::arrow(format!("sorting the rows of `{source_name}`"), e))
}

/// A dense, order-preserving code of a normalised 18-character id number
/// (17 digits, then a digit or `X`): byte order of the ids is numeric order
/// of the codes. `None` for anything else.
#[inline]
fn id_code(id: &[u8]) -> Option<u64> {
    let (body, check) = id.split_last_chunk::<1>().filter(|_| id.len() == 18)?;
    let mut code: u64 = 0;
    for &c in body {
        if !c.is_ascii_digit() {
            return None;
        }
        code = code * 10 + u64::from(c - b'0');
    }
    let last = match check[0] {
        c @ b'0'..=b'9' => u64::from(c - b'0'),
        b'X' => 10,
        _ => return None,
    };
    Some(code * 11 + last)
}

/// The canonical order computed fast when every non-null id number is a
/// normalised 18-character id (the sources contract): sort `(code, row)`
/// pairs, nulls as `u64::MAX` (above every code, < 1.1e18), comparing
/// `record_id` strings only between rows of one person. `None` when some id
/// is not in that form; the caller then falls back to the general sort,
/// which gives the same order.
fn sort_by_id_code(id_numbers: &ArrayRef, record_ids: &ArrayRef) -> Option<UInt32Array> {
    fn codes<T: ByteArrayType>(ids: &GenericByteArray<T>) -> Option<Vec<(u64, u32)>>
    where
        T::Native: AsRef<[u8]>,
    {
        let mut out = Vec::with_capacity(ids.len());
        for i in 0..ids.len() {
            let code = if ids.is_null(i) {
                u64::MAX
            } else {
                id_code(ids.value(i).as_ref())?
            };
            out.push((code, i as u32));
        }
        Some(out)
    }
    fn sort<T: ByteArrayType>(pairs: &mut [(u64, u32)], rids: &GenericByteArray<T>)
    where
        T::Native: AsRef<[u8]>,
    {
        pairs.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let ra: &[u8] = rids.value(a.1 as usize).as_ref();
                let rb: &[u8] = rids.value(b.1 as usize).as_ref();
                ra.cmp(rb)
            })
        });
    }
    let mut pairs = match id_numbers.data_type() {
        DataType::LargeUtf8 => codes(id_numbers.as_string::<i64>())?,
        _ => codes(id_numbers.as_string::<i32>())?,
    };
    match record_ids.data_type() {
        DataType::LargeUtf8 => sort(&mut pairs, record_ids.as_string::<i64>()),
        _ => sort(&mut pairs, record_ids.as_string::<i32>()),
    }
    Some(UInt32Array::from_iter_values(
        pairs.into_iter().map(|p| p.1),
    ))
}

/// One key column over all batches, as one array (LargeUtf8 when the bytes
/// would overflow Utf8's 32-bit offsets).
fn concat_keys(batches: &[RecordBatch], col: usize, source_name: &str) -> Result<ArrayRef> {
    let arrays: Vec<&ArrayRef> = batches.iter().map(|b| b.column(col)).collect();
    let bytes: usize = arrays
        .iter()
        .map(|a| {
            let offsets = a.as_string::<i32>().value_offsets();
            (offsets[offsets.len() - 1] - offsets[0]) as usize
        })
        .sum();
    let context = || format!("collecting the key columns of `{source_name}`");
    let owned: Vec<ArrayRef> = if bytes >= i32::MAX as usize {
        arrays
            .iter()
            .map(|a| cast(a, &DataType::LargeUtf8))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::arrow(context(), e))?
    } else {
        arrays.into_iter().cloned().collect()
    };
    if owned.len() == 1 {
        return Ok(Arc::clone(&owned[0]));
    }
    if owned.is_empty() {
        return Ok(arrow::array::new_empty_array(&DataType::Utf8));
    }
    let refs: Vec<&dyn Array> = owned.iter().map(|a| a.as_ref()).collect();
    concat(&refs).map_err(|e| Error::arrow(context(), e))
}

/// A small, fast, non-cryptographic hash of a byte string (FxHash's
/// multiply-rotate over 8-byte words, then a murmur3 finaliser), used only
/// to find candidate duplicates.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        self.0 = (self.0.rotate_left(5) ^ bytes.len() as u64).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

fn key_hash(bytes: &[u8]) -> u64 {
    let mut h = KeyHasher::default();
    h.write(bytes);
    h.finish()
}

/// Fails on the first `record_id` that occurs twice. Sorts 64-bit hashes
/// (8 bytes a row) and compares the strings only where hashes collide.
fn check_unique(record_ids: &ArrayRef, source_name: &str) -> Result<()> {
    fn run<T: ByteArrayType>(a: &GenericByteArray<T>, source_name: &str) -> Result<()>
    where
        T::Native: AsRef<[u8]>,
    {
        let mut hashes: Vec<u64> = (0..a.len())
            .map(|i| key_hash(a.value(i).as_ref()))
            .collect();
        hashes.sort_unstable();
        let mut suspects: Vec<u64> = hashes
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        drop(hashes);
        if suspects.is_empty() {
            return Ok(());
        }
        suspects.dedup();
        let suspects: std::collections::HashSet<u64> = suspects.into_iter().collect();
        let mut seen: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
        for i in 0..a.len() {
            let v: &[u8] = a.value(i).as_ref();
            if suspects.contains(&key_hash(v)) && !seen.insert(v) {
                return Err(Error::DuplicateRecordId {
                    source_name: source_name.to_owned(),
                    record_id: String::from_utf8_lossy(v).into_owned(),
                });
            }
        }
        Ok(())
    }
    match record_ids.data_type() {
        DataType::LargeUtf8 => run(record_ids.as_string::<i64>(), source_name),
        _ => run(record_ids.as_string::<i32>(), source_name),
    }
}

/// The quarantined rows in canonical order: all columns lexicographically
/// (see the module docs), as one normalised batch.
pub(crate) fn sort_quarantine(
    batches: &[RecordBatch],
    schema: &SchemaRef,
    source_name: &str,
) -> Result<RecordBatch> {
    let context = || format!("sorting the quarantine of `{source_name}`");
    let batch = concat_batches(schema, batches).map_err(|e| Error::arrow(context(), e))?;
    if batch.num_columns() == 0 || batch.num_rows() < 2 {
        return Ok(batch);
    }
    let fields = schema
        .fields()
        .iter()
        .map(|f| {
            SortField::new_with_options(
                f.data_type().clone(),
                SortOptions {
                    descending: false,
                    nulls_first: true,
                },
            )
        })
        .collect();
    let converter = RowConverter::new(fields).map_err(|e| Error::arrow(context(), e))?;
    let rows = converter
        .convert_columns(batch.columns())
        .map_err(|e| Error::arrow(context(), e))?;
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.sort_unstable_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));
    take_record_batch(&batch, &UInt32Array::from(order)).map_err(|e| Error::arrow(context(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;

    #[test]
    fn id_codes_keep_the_byte_order_of_ids() {
        let mut ids = vec![
            "110105194912310021",
            "11010519491231002X",
            "110105194912310020",
            "000000000000000000",
            "99999999999999999X",
            "999999999999999999",
            "110105194912310119",
        ];
        let mut by_code = ids.clone();
        by_code.sort_by_key(|s| id_code(s.as_bytes()).unwrap());
        ids.sort();
        assert_eq!(by_code, ids);
        for bad in [
            "",
            "11010519491231002x",
            "1101051949123100211",
            "11010519491231002",
            "1101051949123X0021",
        ] {
            assert_eq!(id_code(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn the_fast_sort_and_the_general_sort_agree() {
        let mut state = 0x1234_5678_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let n = 2000;
        let ids: Vec<Option<String>> = (0..n)
            .map(|_| {
                let r = next();
                (r % 7 != 0).then(|| {
                    let check = match r % 11 {
                        10 => 'X',
                        d => char::from(b'0' + d as u8),
                    };
                    format!("1101051949{:07}{check}", (r >> 8) % 50)
                })
            })
            .collect();
        let rids: Vec<String> = (0..n).map(|i| format!("r{}", (i * 7919) % n)).collect();
        let id_arr: ArrayRef = Arc::new(StringArray::from(ids));
        let rid_arr: ArrayRef = Arc::new(StringArray::from(rids));
        let fast = sort_by_id_code(&id_arr, &rid_arr).expect("all ids canonical");
        let general = lexsort_to_indices(
            &[
                SortColumn {
                    values: Arc::clone(&id_arr),
                    options: Some(SortOptions {
                        descending: false,
                        nulls_first: false,
                    }),
                },
                SortColumn {
                    values: rid_arr,
                    options: None,
                },
            ],
            None,
        )
        .unwrap();
        assert_eq!(fast, general);
    }

    #[test]
    fn column_digests_do_not_depend_on_chunking() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("bcd"),
            Some(""),
            None,
            Some("e"),
        ]));
        let whole = {
            let mut h = ColumnHasher::new("utf8".into());
            h.update(a.as_ref());
            h.finish()
        };
        for cut in 0..=a.len() {
            let mut h = ColumnHasher::new("utf8".into());
            h.update(a.slice(0, cut).as_ref());
            h.update(a.slice(cut, a.len() - cut).as_ref());
            assert_eq!(h.finish(), whole, "cut at {cut}");
        }
    }
}
