//! Writing tables: Parquet (ZSTD level 1, fixed writer settings) and, on
//! request, CSV beside it, in batches of at least 64k rows, each file
//! hashed (blake3) while it is written.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::tables::T;

/// Rows gathered before a batch is written.
pub(crate) const BATCH_ROWS: usize = 65_536;

/// A writer that hashes what it writes.
pub(crate) struct Hashing {
    inner: BufWriter<File>,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Hashing {
    fn create(path: &Path) -> Result<Hashing> {
        let f = File::create(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(Hashing {
            inner: BufWriter::with_capacity(1 << 20, f),
            hasher: blake3::Hasher::new(),
            bytes: 0,
        })
    }

    fn done(mut self, path: &Path) -> Result<(u64, String)> {
        self.inner.flush().map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok((self.bytes, self.hasher.finalize().to_hex().to_string()))
    }
}

/// One written file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    /// Path relative to the output directory (`extracts/tax.parquet`).
    pub path: String,
    /// Bytes.
    pub bytes: u64,
    /// blake3 of the bytes, hex.
    pub blake3: String,
}

/// One written table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableSummary {
    /// `group/stem`, e.g. `extracts/tax`.
    pub table: String,
    /// Rows.
    pub rows: u64,
    /// The Parquet file.
    pub parquet: FileSummary,
    /// The CSV file, when written.
    pub csv: Option<FileSummary>,
}

/// A table being written.
pub(crate) struct Sink {
    table: T,
    /// `group/stem`, or `later/group/stem` for the later snapshot.
    name: String,
    parquet_path: PathBuf,
    csv_path: Option<PathBuf>,
    schema: SchemaRef,
    parquet: ArrowWriter<Hashing>,
    csv: Option<arrow::csv::Writer<Hashing>>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    rows: u64,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("table", &self.table)
            .field("rows", &self.rows)
            .finish()
    }
}

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_created_by(format!("hedui-synth {}", env!("CARGO_PKG_VERSION")))
        // Record ids are unique: a dictionary would only cost time.
        .set_column_dictionary_enabled(ColumnPath::from("record_id"), false)
        .build()
}

impl Sink {
    pub(crate) fn create(out: &Path, table: T, schema: SchemaRef, csv: bool) -> Result<Sink> {
        Sink::create_in(out, None, table, schema, csv)
    }

    /// A sink under `out/<folder>/` (the later snapshot) when `folder` is
    /// given, else under `out/`.
    pub(crate) fn create_in(
        out: &Path,
        folder: Option<&str>,
        table: T,
        schema: SchemaRef,
        csv: bool,
    ) -> Result<Sink> {
        let (base, name) = match folder {
            Some(f) => (out.join(f), format!("{f}/{}", table.path())),
            None => (out.to_owned(), table.path()),
        };
        let dir = base.join(table.group());
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let parquet_path = dir.join(format!("{}.parquet", table.stem()));
        let w = Hashing::create(&parquet_path)?;
        let parquet =
            ArrowWriter::try_new(w, schema.clone(), Some(properties())).map_err(|source| {
                Error::Parquet {
                    path: parquet_path.clone(),
                    source,
                }
            })?;
        let (csv_path, csv) = if csv {
            let p = dir.join(format!("{}.csv", table.stem()));
            let w = Hashing::create(&p)?;
            let writer = arrow::csv::WriterBuilder::new().with_header(true).build(w);
            (Some(p), Some(writer))
        } else {
            (None, None)
        };
        Ok(Sink {
            table,
            name,
            parquet_path,
            csv_path,
            schema,
            parquet,
            csv,
            pending: Vec::new(),
            pending_rows: 0,
            rows: 0,
        })
    }

    /// Adds rows; writes when 64k have gathered.
    pub(crate) fn push(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        if self.pending_rows >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = if self.pending.len() == 1 {
            self.pending
                .pop()
                .unwrap_or_else(|| RecordBatch::new_empty(self.schema.clone()))
        } else {
            let b = concat_batches(&self.schema, &self.pending).map_err(|source| Error::Arrow {
                path: self.parquet_path.clone(),
                source,
            })?;
            self.pending.clear();
            b
        };
        self.pending_rows = 0;
        self.rows += batch.num_rows() as u64;
        self.parquet
            .write(&batch)
            .map_err(|source| Error::Parquet {
                path: self.parquet_path.clone(),
                source,
            })?;
        if let (Some(w), Some(p)) = (self.csv.as_mut(), self.csv_path.as_ref()) {
            w.write(&batch).map_err(|source| Error::Arrow {
                path: p.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// Writes what is left and closes the files.
    pub(crate) fn finish(mut self, out: &Path) -> Result<TableSummary> {
        self.flush()?;
        if self.rows == 0 {
            // An empty table still gets its CSV header.
            if let (Some(w), Some(p)) = (self.csv.as_mut(), self.csv_path.as_ref()) {
                w.write(&RecordBatch::new_empty(self.schema.clone()))
                    .map_err(|source| Error::Arrow {
                        path: p.clone(),
                        source,
                    })?;
            }
        }
        let rel = |p: &Path| {
            p.strip_prefix(out)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/")
        };
        let path = self.parquet_path.clone();
        let w = self.parquet.into_inner().map_err(|source| Error::Parquet {
            path: path.clone(),
            source,
        })?;
        let (bytes, blake3) = w.done(&path)?;
        let parquet = FileSummary {
            path: rel(&path),
            bytes,
            blake3,
        };
        let csv = match (self.csv, self.csv_path) {
            (Some(w), Some(p)) => {
                let (bytes, blake3) = w.into_inner().done(&p)?;
                Some(FileSummary {
                    path: rel(&p),
                    bytes,
                    blake3,
                })
            }
            _ => None,
        };
        Ok(TableSummary {
            table: self.name,
            rows: self.rows,
            parquet,
            csv,
        })
    }
}
