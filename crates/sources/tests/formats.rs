//! Every table ingests from Parquet, Arrow IPC (file and stream) and CSV.

use std::fs::File;
use std::path::Path;

use arrow::csv::WriterBuilder;
use arrow::ipc::writer::{FileWriter, StreamWriter};
use arrow::record_batch::RecordBatch;
use hedui_sources::{load_file, tables};
use parquet::arrow::ArrowWriter;

use crate::common::{text_batch, typed_batch};

pub(crate) fn write_parquet(path: &Path, b: &RecordBatch) {
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), b.schema(), None).unwrap();
    w.write(b).unwrap();
    w.close().unwrap();
}

pub(crate) fn write_ipc(path: &Path, b: &RecordBatch) {
    let mut w = FileWriter::try_new(File::create(path).unwrap(), &b.schema()).unwrap();
    w.write(b).unwrap();
    w.finish().unwrap();
}

pub(crate) fn write_ipc_stream(path: &Path, b: &RecordBatch) {
    let mut w = StreamWriter::try_new(File::create(path).unwrap(), &b.schema()).unwrap();
    w.write(b).unwrap();
    w.finish().unwrap();
}

pub(crate) fn write_csv(path: &Path, b: &RecordBatch) {
    let mut w = WriterBuilder::new()
        .with_header(true)
        .build(File::create(path).unwrap());
    w.write(b).unwrap();
}

#[test]
fn every_table_from_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for table in tables::ALL {
        let typed = typed_batch(table, 5);
        let text = text_batch(table, 5);
        let files = [
            (
                "typed.parquet",
                &typed,
                write_parquet as fn(&Path, &RecordBatch),
            ),
            ("typed.arrow", &typed, write_ipc),
            ("typed.arrows", &typed, write_ipc_stream),
            ("text.parquet", &text, write_parquet),
            ("typed.csv", &typed, write_csv),
            ("text.csv", &text, write_csv),
        ];
        let mut canonical = None;
        for (name, batch, write) in files {
            let path = dir.path().join(format!("{}-{name}", table.name));
            write(&path, batch);
            let out = load_file(table, &path).unwrap_or_else(|e| panic!("{}: {e}", table.name));
            assert_eq!(
                out.quarantined, 0,
                "{} {name}: {:?}",
                table.name, out.reasons
            );
            assert_eq!(out.accepted, 5, "{} {name}", table.name);
            let rows = arrow::compute::concat_batches(&out.rows[0].schema(), &out.rows).unwrap();
            assert_eq!(
                rows.schema().as_ref(),
                &table.canonical_schema(),
                "{} {name}",
                table.name
            );
            // Every format gives the same canonical rows.
            match &canonical {
                None => canonical = Some(rows),
                Some(c) => assert_eq!(c, &rows, "{} {name}", table.name),
            }
        }
    }
}
