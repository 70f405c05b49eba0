//! Reading extracts from files: Parquet, Arrow IPC (file or stream) and CSV,
//! chosen by extension.
//!
//! CSV is read with every column as text (money as decimal strings, dates
//! as `YYYY-MM-DD`), so no value is guessed at by type inference; the
//! normaliser parses each one exactly. A CSV that is not UTF-8 (GBK exports
//! are common) is refused with a message that says so.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use arrow::csv::ReaderBuilder;
use arrow::csv::reader::Format;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::{FileReader, StreamReader};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, Result};

/// Rows per batch read.
pub const BATCH_ROWS: usize = 65_536;

/// A file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC, file or stream format.
    ArrowIpc,
    /// Comma-separated values with a header row, UTF-8.
    Csv,
}

/// The format a path's extension names.
pub fn format_of(path: &Path) -> Result<FileFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("parquet" | "parq" | "pq") => Ok(FileFormat::Parquet),
        Some("arrow" | "ipc" | "feather" | "arrows") => Ok(FileFormat::ArrowIpc),
        Some("csv") => Ok(FileFormat::Csv),
        _ => Err(Error::UnknownFormat {
            path: path.to_owned(),
        }),
    }
}

fn read_err(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Read {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// Reads a whole extract file into its schema and batches.
pub fn read_file(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let format = format_of(path)?;
    let meta = std::fs::metadata(path).map_err(|e| read_err(path, e))?;
    if meta.len() == 0 {
        return Err(read_err(
            path,
            "the file is empty (0 bytes): not an extract",
        ));
    }
    match format {
        FileFormat::Parquet => read_parquet(path),
        FileFormat::ArrowIpc => read_ipc(path),
        FileFormat::Csv => read_csv(path),
    }
}

fn read_parquet(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let file = File::open(path).map_err(|e| read_err(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
        read_err(
            path,
            format!("not a readable Parquet file ({e}); is it truncated?"),
        )
    })?;
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| read_err(path, e))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            read_err(
                path,
                format!("Parquet data unreadable ({e}); is it truncated?"),
            )
        })?;
    Ok((schema, batches))
}

fn read_ipc(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut file = File::open(path).map_err(|e| read_err(path, e))?;
    let mut magic = [0u8; 6];
    let is_file_format = file.read_exact(&mut magic).is_ok() && &magic == b"ARROW1";
    file.seek(SeekFrom::Start(0))
        .map_err(|e| read_err(path, e))?;
    if is_file_format {
        let reader = FileReader::try_new(file, None).map_err(|e| {
            read_err(
                path,
                format!("not a readable Arrow IPC file ({e}); is it truncated?"),
            )
        })?;
        let schema = reader.schema();
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| read_err(path, format!("Arrow IPC data unreadable ({e})")))?;
        Ok((schema, batches))
    } else {
        let reader = StreamReader::try_new(BufReader::new(file), None).map_err(|e| {
            read_err(
                path,
                format!("not a readable Arrow IPC file or stream ({e})"),
            )
        })?;
        let schema = reader.schema();
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| {
                read_err(
                    path,
                    format!("Arrow IPC stream unreadable ({e}); is it truncated?"),
                )
            })?;
        Ok((schema, batches))
    }
}

fn read_csv(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let bytes = std::fs::read(path).map_err(|e| read_err(path, e))?;
    if let Err(e) = std::str::from_utf8(&bytes) {
        let upto = &bytes[..e.valid_up_to()];
        let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
        return Err(read_err(
            path,
            format!(
                "not UTF-8 text: invalid byte at line {line} (byte {}); CSV extracts must be UTF-8 \
                 — if this is a GBK export, convert it with `iconv -f GBK -t UTF-8`",
                e.valid_up_to()
            ),
        ));
    }
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let (inferred, _) = Format::default()
        .with_header(true)
        .infer_schema(body, Some(1))
        .map_err(|e| read_err(path, format!("unreadable CSV header ({e})")))?;
    if inferred.fields().is_empty() {
        return Err(read_err(path, "no header row"));
    }
    let schema: SchemaRef = Arc::new(Schema::new(
        inferred
            .fields()
            .iter()
            .map(|f| Field::new(f.name().trim(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let reader = ReaderBuilder::new(schema.clone())
        .with_header(true)
        .with_batch_size(BATCH_ROWS)
        .build(body)
        .map_err(|e| read_err(path, e))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| read_err(path, format!("malformed CSV ({e})")))?;
    Ok((schema, batches))
}
