//! The folder of broken inputs under `fixtures/broken/`: each file gives
//! its clear error or its quarantine reasons (see its `expected.json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use hedui_sources::{load_file, table};

use crate::common::typed_batch;
use crate::formats::{write_ipc, write_parquet};

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/broken")
}

#[test]
fn every_broken_input_gives_its_answer() {
    let expected: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(folder().join("expected.json")).unwrap())
            .unwrap();
    assert!(expected.len() >= 12);
    for (file, want) in &expected {
        let path = folder().join(file);
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let result = load_file(table(stem).unwrap(), &path);
        match (want.get("error"), result) {
            (Some(parts), Err(e)) => {
                let msg = e.to_string();
                for p in parts.as_array().unwrap() {
                    assert!(
                        msg.contains(p.as_str().unwrap()),
                        "{file}: {msg:?} lacks {p}"
                    );
                }
            }
            (Some(_), Ok(out)) => {
                panic!("{file}: accepted {} rows, expected an error", out.accepted)
            }
            (None, Err(e)) => panic!("{file}: {e}"),
            (None, Ok(out)) => {
                assert_eq!(
                    out.accepted as u64,
                    want["accepted"].as_u64().unwrap(),
                    "{file}"
                );
                let reasons: BTreeMap<String, u64> = out
                    .reasons
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v as u64))
                    .collect();
                let want_reasons: BTreeMap<String, u64> =
                    serde_json::from_value(want["quarantined"].clone()).unwrap();
                assert_eq!(reasons, want_reasons, "{file}");
            }
        }
    }
}

/// Writes the binary fixtures. Run with `HEDUI_REGENERATE_FIXTURES=1`.
#[test]
fn regenerate_binary_fixtures() {
    if std::env::var_os("HEDUI_REGENERATE_FIXTURES").is_none() {
        return;
    }
    let t = table("tax").unwrap();
    let good = typed_batch(t, 2000);
    // wrong type: gross as Float64.
    let i = good.schema().index_of("gross").unwrap();
    let mut fields: Vec<Field> = good
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[i] = Field::new("gross", DataType::Float64, false);
    let mut cols: Vec<ArrayRef> = good.columns().to_vec();
    cols[i] = Arc::new(Float64Array::from(vec![5000.0; 2000]));
    // A distinct record id per row, so only the type is wrong.
    let ids: Vec<String> = (0..2000).map(|r| format!("T{r}")).collect();
    cols[0] = Arc::new(StringArray::from(ids));
    let wrong = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    write_parquet(&folder().join("wrong_type/tax.parquet"), &wrong);
    // truncated: a valid file cut in half.
    for ext in ["parquet", "arrow"] {
        let path = folder().join(format!("truncated/tax.{ext}"));
        if ext == "parquet" {
            write_parquet(&path, &good);
        } else {
            write_ipc(&path, &good);
        }
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    }
}
