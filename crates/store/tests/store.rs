//! Integration tests of `hedui-store`: one binary, one module per area.

mod common {
    use std::path::Path;
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
        RecordBatch, StringBuilder,
    };
    use arrow::compute::concat_batches;
    use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
    use chrono::NaiveDate;
    use hedui_store::SnapshotInput;

    /// One row of a small tax-like extract.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct TaxRow {
        pub(crate) record_id: String,
        pub(crate) id_number: Option<String>,
        pub(crate) name: String,
        pub(crate) period: String,
        pub(crate) gross: i64,
        pub(crate) tax_paid: Option<i64>,
        pub(crate) months: i32,
        pub(crate) share: Option<f64>,
        pub(crate) withheld: bool,
        pub(crate) paid_on: Option<i32>,
    }

    /// A tiny deterministic generator (xorshift64*), so tests need no rand.
    #[derive(Debug)]
    pub(crate) struct Rng(u64);

    impl Rng {
        pub(crate) fn new(seed: u64) -> Self {
            Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
        }

        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                let j = self.below(i as u64 + 1) as usize;
                v.swap(i, j);
            }
        }
    }

    /// `n` rows over about `n / 3` people; some without an id number.
    pub(crate) fn tax_rows(n: usize, seed: u64) -> Vec<TaxRow> {
        let mut rng = Rng::new(seed);
        let people = (n / 3).max(1) as u64;
        (0..n)
            .map(|i| {
                let person = rng.below(people);
                let id_number = (rng.below(10) != 0).then(|| format!("110105{:012}", person));
                TaxRow {
                    record_id: format!("T{seed}-{i:07}"),
                    id_number,
                    name: format!("张{}", person),
                    period: format!("2024-{:02}", 1 + rng.below(12)),
                    gross: rng.below(2_000_000) as i64,
                    tax_paid: (rng.below(4) != 0).then(|| rng.below(50_000) as i64),
                    months: rng.below(12) as i32,
                    share: (rng.below(3) != 0).then(|| (rng.below(100) as f64) / 100.0),
                    withheld: rng.below(2) == 0,
                    paid_on: (rng.below(5) != 0).then(|| 19_000 + rng.below(1000) as i32),
                }
            })
            .collect()
    }

    pub(crate) fn tax_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("record_id", DataType::Utf8, false),
            Field::new("id_number", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, false),
            Field::new("period", DataType::Utf8, false),
            Field::new("gross", DataType::Int64, false),
            Field::new("tax_paid", DataType::Int64, true),
            Field::new("months", DataType::Int32, false),
            Field::new("share", DataType::Float64, true),
            Field::new("withheld", DataType::Boolean, false),
            Field::new("paid_on", DataType::Date32, true),
        ]))
    }

    pub(crate) fn tax_batch(rows: &[TaxRow]) -> RecordBatch {
        let mut record_id = StringBuilder::new();
        let mut id_number = StringBuilder::new();
        let mut name = StringBuilder::new();
        let mut period = StringBuilder::new();
        let mut gross = Int64Builder::new();
        let mut tax_paid = Int64Builder::new();
        let mut months = Int32Builder::new();
        let mut share = Float64Builder::new();
        let mut withheld = BooleanBuilder::new();
        let mut paid_on = Date32Builder::new();
        for r in rows {
            record_id.append_value(&r.record_id);
            id_number.append_option(r.id_number.as_deref());
            name.append_value(&r.name);
            period.append_value(&r.period);
            gross.append_value(r.gross);
            tax_paid.append_option(r.tax_paid);
            months.append_value(r.months);
            share.append_option(r.share);
            withheld.append_value(r.withheld);
            paid_on.append_option(r.paid_on);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(record_id.finish()),
            Arc::new(id_number.finish()),
            Arc::new(name.finish()),
            Arc::new(period.finish()),
            Arc::new(gross.finish()),
            Arc::new(tax_paid.finish()),
            Arc::new(months.finish()),
            Arc::new(share.finish()),
            Arc::new(withheld.finish()),
            Arc::new(paid_on.finish()),
        ];
        RecordBatch::try_new(tax_schema(), columns).expect("valid batch")
    }

    /// Splits rows into batches of the given sizes (the last takes the rest).
    pub(crate) fn batches(rows: &[TaxRow], sizes: &[usize]) -> Vec<RecordBatch> {
        let mut out = Vec::new();
        let mut at = 0;
        for &s in sizes {
            let end = (at + s).min(rows.len());
            out.push(tax_batch(&rows[at..end]));
            at = end;
        }
        if at < rows.len() || out.is_empty() {
            out.push(tax_batch(&rows[at..]));
        }
        out
    }

    /// The canonical order: id_number (nulls last), then record_id.
    pub(crate) fn sorted(rows: &[TaxRow]) -> Vec<TaxRow> {
        let mut rows = rows.to_vec();
        rows.sort_by(|a, b| {
            let ka = (
                a.id_number.is_none(),
                a.id_number.clone(),
                a.record_id.clone(),
            );
            let kb = (
                b.id_number.is_none(),
                b.id_number.clone(),
                b.record_id.clone(),
            );
            ka.cmp(&kb)
        });
        rows
    }

    pub(crate) fn quarantine_batch(rows: &[(&str, Option<&str>, &str)]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("record_id", DataType::Utf8, true),
            Field::new("raw_id_number", DataType::Utf8, true),
            Field::new("reason", DataType::Utf8, false),
        ]));
        let mut a = StringBuilder::new();
        let mut b = StringBuilder::new();
        let mut c = StringBuilder::new();
        for (r, i, why) in rows {
            a.append_value(r);
            b.append_option(*i);
            c.append_value(why);
        }
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(a.finish()),
                Arc::new(b.finish()),
                Arc::new(c.finish()),
            ],
        )
        .expect("valid batch")
    }

    pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    pub(crate) fn input(rows: Vec<RecordBatch>, as_of: NaiveDate) -> SnapshotInput {
        SnapshotInput {
            source: "tax".to_owned(),
            as_of,
            department: "某市税务局".to_owned(),
            region_code: Some("110105".to_owned()),
            schema_version: 1,
            rows,
            quarantine: vec![quarantine_batch(&[
                ("T-bad-2", Some("12345"), "id_number: wrong length"),
                ("T-bad-1", None, "gross: not a decimal"),
            ])],
            source_files: vec!["tax-2024-06.csv".to_owned()],
        }
    }

    pub(crate) fn tax_input(n: usize, seed: u64, as_of: NaiveDate) -> SnapshotInput {
        input(vec![tax_batch(&tax_rows(n, seed))], as_of)
    }

    pub(crate) fn concat(batches: &[RecordBatch]) -> RecordBatch {
        let schema = batches[0].schema();
        concat_batches(&schema, batches).expect("same schema")
    }

    /// Names in a directory, sorted; empty if it does not exist.
    pub(crate) fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names
    }

    /// Every snapshot directory on disk, as `source/id`.
    pub(crate) fn snapshot_dirs(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for source in entries(&root.join("snapshots")) {
            for id in entries(&root.join("snapshots").join(&source)) {
                out.push(format!("{source}/{id}"));
            }
        }
        out
    }
}

mod round_trip {
    use std::fs::File;
    use std::sync::Arc;

    use arrow::array::{Array, AsArray, LargeStringArray, RecordBatch, StringViewArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::basic::Compression;
    use parquet::file::properties::ReaderProperties;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::serialized_reader::ReadOptionsBuilder;

    use super::common::*;
    use hedui_store::{Manifest, ROW_GROUP_ROWS, SnapshotInput, Store};

    #[test]
    fn commit_then_read_gives_the_same_rows_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut rows = tax_rows(1000, 1);
        Rng::new(7).shuffle(&mut rows);
        let committed = store
            .commit(input(batches(&rows, &[300, 1, 0, 450]), date(2024, 6, 30)))
            .unwrap();
        assert!(!committed.already_present);
        assert_eq!(committed.meta.rows, 1000);
        assert_eq!(committed.meta.quarantined, 2);

        let read = concat(&store.read_rows(&committed.meta.id).unwrap());
        assert_eq!(read, tax_batch(&sorted(&rows)));
        assert_eq!(read.schema(), tax_schema());
        store.verify(&committed.meta.id).unwrap();
    }

    #[test]
    fn quarantine_is_kept_sorted_by_all_columns() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut inp = tax_input(10, 2, date(2024, 6, 30));
        inp.quarantine = vec![
            quarantine_batch(&[("b", None, "x"), ("a", Some("2"), "y")]),
            quarantine_batch(&[("a", None, "z"), ("a", Some("1"), "w")]),
        ];
        let c = store.commit(inp).unwrap();
        let q = concat(&store.read_quarantine(&c.meta.id).unwrap());
        assert_eq!(
            q,
            quarantine_batch(&[
                ("a", None, "z"),
                ("a", Some("1"), "w"),
                ("a", Some("2"), "y"),
                ("b", None, "x"),
            ])
        );
        store.verify(&c.meta.id).unwrap();
    }

    #[test]
    fn manifest_describes_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = store.commit(tax_input(50, 3, date(2024, 6, 30))).unwrap();
        let snapshot_dir = store.snapshot_dir(&c.meta.id).unwrap();
        assert_eq!(
            snapshot_dir,
            store
                .root()
                .join("snapshots")
                .join("tax")
                .join(c.meta.id.as_str())
        );
        assert_eq!(
            entries(&snapshot_dir),
            ["manifest.json", "quarantine.parquet", "rows.parquet"]
        );
        let m: Manifest = store.manifest(&c.meta.id).unwrap();
        assert_eq!(m.snapshot_id, c.meta.id);
        assert_eq!(m.content_hash.value, c.meta.id.as_str());
        assert_eq!(m.content_hash.algorithm, "blake3");
        assert_eq!(m.source, "tax");
        assert_eq!(m.as_of, date(2024, 6, 30));
        assert_eq!(m.department, "某市税务局");
        assert_eq!(m.region_code.as_deref(), Some("110105"));
        assert_eq!((m.rows, m.quarantined, m.schema_version), (50, 2, 1));
        assert_eq!(m.source_files, ["tax-2024-06.csv"]);
        let cols: Vec<(&str, &str, bool)> = m
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str(), c.nullable))
            .collect();
        assert_eq!(
            cols,
            [
                ("record_id", "utf8", false),
                ("id_number", "utf8", true),
                ("name", "utf8", false),
                ("period", "utf8", false),
                ("gross", "int64", false),
                ("tax_paid", "int64", true),
                ("months", "int32", false),
                ("share", "float64", true),
                ("withheld", "bool", false),
                ("paid_on", "date32", true),
            ]
        );
        assert_eq!(m.quarantine_columns.len(), 3);
        // No wall-clock time in the manifest: the same content gives the
        // same bytes in another store.
        let bytes = std::fs::read(snapshot_dir.join("manifest.json")).unwrap();
        let other = tempfile::tempdir().unwrap();
        let store2 = Store::open(other.path()).unwrap();
        let c2 = store2.commit(tax_input(50, 3, date(2024, 6, 30))).unwrap();
        let bytes2 = std::fs::read(
            store2
                .snapshot_dir(&c2.meta.id)
                .unwrap()
                .join("manifest.json"),
        )
        .unwrap();
        assert_eq!(bytes, bytes2);
    }

    #[test]
    fn parquet_has_row_groups_bloom_filters_statistics_and_sort_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let n = ROW_GROUP_ROWS + 1000;
        let c = store.commit(tax_input(n, 4, date(2024, 6, 30))).unwrap();
        let path = store.snapshot_dir(&c.meta.id).unwrap().join("rows.parquet");
        let options = ReadOptionsBuilder::new()
            .with_reader_properties(
                ReaderProperties::builder()
                    .set_read_bloom_filter(true)
                    .build(),
            )
            .build();
        let reader =
            SerializedFileReader::new_with_options(File::open(path).unwrap(), options).unwrap();
        let meta = reader.metadata();
        assert_eq!(meta.num_row_groups(), 2);
        assert_eq!(meta.row_group(0).num_rows() as usize, ROW_GROUP_ROWS);
        assert_eq!(meta.row_group(1).num_rows(), 1000);
        for rg in meta.row_groups() {
            let id_col = rg.column(1);
            assert_eq!(id_col.column_path().string(), "id_number");
            assert!(
                id_col.bloom_filter_offset().is_some(),
                "bloom filter on id_number"
            );
            assert!(
                rg.column(0).bloom_filter_offset().is_some(),
                "bloom filter on record_id"
            );
            assert!(rg.column(4).bloom_filter_offset().is_none());
            assert!(matches!(id_col.compression(), Compression::ZSTD(_)));
            assert!(id_col.statistics().is_some());
            let sorting = rg.sorting_columns().expect("sort order recorded");
            assert_eq!(sorting.len(), 2);
            assert_eq!((sorting[0].column_idx, sorting[0].nulls_first), (1, false));
            assert_eq!(sorting[1].column_idx, 0);
        }
        // Bloom filter answers: a present id may be, an absent one is not.
        let rg = reader.get_row_group(0).unwrap();
        let bloom = rg.get_column_bloom_filter(1).expect("bloom filter read");
        let first = concat(&store.read_rows(&c.meta.id).unwrap());
        let some_id = first.column(1).as_string::<i32>().value(0).to_owned();
        assert!(bloom.check(&some_id.as_str()));
        let absent = (0..100)
            .filter(|i| !bloom.check(&format!("999999{i:012}").as_str()))
            .count();
        assert!(
            absent > 90,
            "an absent id is rejected by the filter: {absent}/100"
        );
    }

    #[test]
    fn empty_rows_and_no_quarantine_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut inp = input(vec![tax_batch(&[])], date(2024, 1, 1));
        inp.quarantine.clear();
        let c = store.commit(inp).unwrap();
        assert_eq!((c.meta.rows, c.meta.quarantined), (0, 0));
        let rows = store.read_rows(&c.meta.id).unwrap();
        assert_eq!(rows.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
        assert!(store.read_quarantine(&c.meta.id).unwrap().is_empty());
        store.verify(&c.meta.id).unwrap();
    }

    #[test]
    fn large_and_view_strings_are_stored_as_utf8_with_the_same_id() {
        let rows = tax_rows(20, 5);
        let plain = input(vec![tax_batch(&rows)], date(2024, 6, 30));
        let b = tax_batch(&rows);
        let mut fields: Vec<Field> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut columns = b.columns().to_vec();
        let ids = b.column(1).as_string::<i32>();
        columns[1] = Arc::new(LargeStringArray::from_iter(ids.iter()));
        fields[1] = Field::new("id_number", DataType::LargeUtf8, true);
        let names = b.column(2).as_string::<i32>();
        columns[2] = Arc::new(StringViewArray::from_iter(names.iter()));
        fields[2] = Field::new("name", DataType::Utf8View, false);
        let odd = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let odd = SnapshotInput {
            rows: vec![odd],
            ..plain.clone()
        };
        assert_eq!(odd.content_id().unwrap(), plain.content_id().unwrap());

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = store.commit(odd).unwrap();
        let read = concat(&store.read_rows(&c.meta.id).unwrap());
        assert_eq!(read.column(1).data_type(), &DataType::Utf8);
        assert_eq!(read.column(2).data_type(), &DataType::Utf8);
        assert_eq!(read, tax_batch(&sorted(&rows)));
        assert!(store.commit(plain).unwrap().already_present);
    }

    /// Ids that are not normalised 18-character ids still sort byte-wise
    /// (the general sort path).
    #[test]
    fn irregular_id_numbers_sort_byte_wise() {
        let mut rows = tax_rows(60, 8);
        let odd = [
            "",
            "X",
            "abc",
            "11010519491231002x",
            "1101051949123100",
            "１１０",
        ];
        for (i, r) in rows.iter_mut().enumerate().take(odd.len() * 3) {
            r.id_number = Some(odd[i % odd.len()].to_owned());
        }
        Rng::new(5).shuffle(&mut rows);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = store
            .commit(input(batches(&rows, &[10, 20]), date(2024, 6, 30)))
            .unwrap();
        let read = concat(&store.read_rows(&c.meta.id).unwrap());
        assert_eq!(read, tax_batch(&sorted(&rows)));
        store.verify(&c.meta.id).unwrap();
    }

    /// A table of a few rows is written uncompressed (no codec per
    /// column); a large one with zstd. The id does not depend on it.
    #[test]
    fn small_tables_are_written_uncompressed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let codec = |n: usize| {
            let c = store.commit(tax_input(n, 9, date(2024, 6, 30))).unwrap();
            let path = store.snapshot_dir(&c.meta.id).unwrap().join("rows.parquet");
            let r = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
            r.metadata().row_group(0).column(0).compression()
        };
        assert_eq!(codec(5), Compression::UNCOMPRESSED);
        assert!(matches!(codec(5000), Compression::ZSTD(_)));
    }

    #[test]
    fn a_reopened_store_reads_what_it_committed() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = Store::open(dir.path()).unwrap();
            store
                .commit(tax_input(100, 6, date(2024, 6, 30)))
                .unwrap()
                .meta
                .id
        };
        let store = Store::open(dir.path()).unwrap();
        let meta = store.get(&id).unwrap().expect("still there");
        assert_eq!(meta.rows, 100);
        assert_eq!(concat(&store.read_rows(&id).unwrap()).num_rows(), 100);
        store.verify(&id).unwrap();
        let rows = store.read_rows(&id).unwrap();
        assert!(rows.iter().all(|b| b.column(0).null_count() == 0));
    }
}

mod identity {
    use super::common::*;
    use hedui_store::{SnapshotInput, Store};

    #[test]
    fn same_content_twice_gives_one_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = store.commit(tax_input(200, 1, date(2024, 6, 30))).unwrap();
        let second = store.commit(tax_input(200, 1, date(2024, 6, 30))).unwrap();
        assert!(!first.already_present);
        assert!(second.already_present);
        assert_eq!(first.meta, second.meta);
        assert_eq!(store.list(None).unwrap().len(), 1);
        assert_eq!(snapshot_dirs(store.root()).len(), 1);
        assert!(entries(&store.root().join("tmp")).is_empty());
    }

    #[test]
    fn another_row_order_and_batching_gives_the_same_id() {
        let rows = tax_rows(500, 2);
        let a = input(vec![tax_batch(&rows)], date(2024, 6, 30));
        let mut shuffled = rows.clone();
        Rng::new(99).shuffle(&mut shuffled);
        let mut b = input(batches(&shuffled, &[7, 0, 200, 13]), date(2024, 6, 30));
        b.quarantine = vec![
            quarantine_batch(&[("T-bad-1", None, "gross: not a decimal")]),
            quarantine_batch(&[("T-bad-2", Some("12345"), "id_number: wrong length")]),
        ];
        assert_eq!(a.content_id().unwrap(), b.content_id().unwrap());

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ca = store.commit(a).unwrap();
        let cb = store.commit(b).unwrap();
        assert_eq!(ca.meta.id, cb.meta.id);
        assert!(cb.already_present);
    }

    #[test]
    fn quarantine_order_does_not_matter() {
        let a = tax_input(10, 3, date(2024, 6, 30));
        let mut b = a.clone();
        b.quarantine = vec![
            quarantine_batch(&[("T-bad-1", None, "gross: not a decimal")]),
            quarantine_batch(&[("T-bad-2", Some("12345"), "id_number: wrong length")]),
        ];
        assert_eq!(a.content_id().unwrap(), b.content_id().unwrap());
    }

    #[test]
    fn any_change_of_content_changes_the_id() {
        let base = tax_input(50, 4, date(2024, 6, 30));
        let id = base.content_id().unwrap();
        let variants: Vec<(&str, SnapshotInput)> = vec![
            (
                "as_of",
                SnapshotInput {
                    as_of: date(2024, 7, 31),
                    ..base.clone()
                },
            ),
            (
                "department",
                SnapshotInput {
                    department: "另一个局".to_owned(),
                    ..base.clone()
                },
            ),
            (
                "region",
                SnapshotInput {
                    region_code: None,
                    ..base.clone()
                },
            ),
            (
                "region value",
                SnapshotInput {
                    region_code: Some("110106".to_owned()),
                    ..base.clone()
                },
            ),
            (
                "schema_version",
                SnapshotInput {
                    schema_version: 2,
                    ..base.clone()
                },
            ),
            (
                "source",
                SnapshotInput {
                    source: "tax2".to_owned(),
                    ..base.clone()
                },
            ),
            (
                "quarantine",
                SnapshotInput {
                    quarantine: vec![],
                    ..base.clone()
                },
            ),
            ("a value", {
                let mut rows = tax_rows(50, 4);
                rows[17].gross += 1;
                input(vec![tax_batch(&rows)], date(2024, 6, 30))
            }),
            ("a null", {
                let mut rows = tax_rows(50, 4);
                let i = rows.iter().position(|r| r.tax_paid.is_some()).unwrap();
                rows[i].tax_paid = None;
                input(vec![tax_batch(&rows)], date(2024, 6, 30))
            }),
            ("a row fewer", {
                let mut rows = tax_rows(50, 4);
                rows.pop();
                input(vec![tax_batch(&rows)], date(2024, 6, 30))
            }),
            ("a string split differently", {
                let mut rows = tax_rows(50, 4);
                rows[0].name = "张".to_owned();
                rows[1].name = format!("{}{}", rows[0].name.clone(), rows[1].name);
                input(vec![tax_batch(&rows)], date(2024, 6, 30))
            }),
        ];
        let mut seen = std::collections::BTreeSet::new();
        seen.insert(id.clone());
        for (what, v) in variants {
            let other = v.content_id().unwrap();
            assert_ne!(other, id, "changing {what} must change the id");
            assert!(
                seen.insert(other),
                "changing {what} collides with another variant"
            );
        }
    }

    #[test]
    fn source_files_are_not_content() {
        let a = tax_input(30, 5, date(2024, 6, 30));
        let b = SnapshotInput {
            source_files: vec!["other-name.parquet".to_owned()],
            ..a.clone()
        };
        assert_eq!(a.content_id().unwrap(), b.content_id().unwrap());
    }

    #[test]
    fn content_id_is_the_committed_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let inp = tax_input(300, 6, date(2024, 6, 30));
        let id = inp.content_id().unwrap();
        assert_eq!(store.commit(inp).unwrap().meta.id, id);
    }
}

/// The canonical encoding as documented in `hedui_store::canonical`,
/// written out independently here: if the code and the documentation ever
/// disagree, or a library upgrade changes the id of existing content, this
/// fails.
mod encoding {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use hedui_store::SnapshotInput;

    use super::common::date;

    fn s(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }

    fn h(bytes: &[u8]) -> [u8; 32] {
        *blake3::hash(bytes).as_bytes()
    }

    fn column(tag: &str, rows: u64, nulls: &[u64], values: &[u8], lengths: &[u64]) -> [u8; 32] {
        let mut out = Vec::new();
        s(&mut out, "hedui.column.v1");
        s(&mut out, tag);
        out.extend_from_slice(&rows.to_le_bytes());
        out.extend_from_slice(&(nulls.len() as u64).to_le_bytes());
        let null_bytes: Vec<u8> = nulls.iter().flat_map(|n| n.to_le_bytes()).collect();
        out.extend_from_slice(&h(&null_bytes));
        out.extend_from_slice(&h(values));
        let length_bytes: Vec<u8> = lengths.iter().flat_map(|n| n.to_le_bytes()).collect();
        out.extend_from_slice(&h(&length_bytes));
        h(&out)
    }

    #[test]
    fn the_id_follows_the_documented_encoding() {
        // Given in non-canonical order.
        let schema = Arc::new(Schema::new(vec![
            Field::new("record_id", DataType::Utf8, false),
            Field::new("id_number", DataType::Utf8, true),
            Field::new("gross", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["r3", "r1", "r2"])),
                Arc::new(StringArray::from(vec![
                    None,
                    Some("11010519491231002X"),
                    Some("11010519491231002X"),
                ])),
                Arc::new(Int64Array::from(vec![Some(7), Some(-1), None])),
            ],
        )
        .unwrap();
        let input = SnapshotInput {
            source: "tax".to_owned(),
            as_of: date(2024, 6, 30),
            department: "税务".to_owned(),
            region_code: None,
            schema_version: 3,
            rows: vec![batch],
            quarantine: vec![],
            source_files: vec![],
        };

        // Canonical order: (id, r1, -1), (id, r2, null), (null, r3, 7).
        let record_id = column("utf8", 3, &[], b"r1r2r3", &[2, 2, 2]);
        let id = "11010519491231002X";
        let id_number = column("utf8", 3, &[2], format!("{id}{id}").as_bytes(), &[18, 18]);
        let mut gross_values = Vec::new();
        gross_values.extend_from_slice(&(-1i64).to_le_bytes());
        gross_values.extend_from_slice(&7i64.to_le_bytes());
        let gross = column("int64", 3, &[1], &gross_values, &[]);

        let mut out = Vec::new();
        s(&mut out, "hedui.snapshot.v1");
        s(&mut out, "tax");
        s(&mut out, "2024-06-30");
        s(&mut out, "税务");
        out.push(0);
        out.extend_from_slice(&3u32.to_le_bytes());
        // rows
        out.extend_from_slice(&3u64.to_le_bytes());
        out.extend_from_slice(&3u32.to_le_bytes());
        for (name, tag, digest) in [
            ("record_id", "utf8", record_id),
            ("id_number", "utf8", id_number),
            ("gross", "int64", gross),
        ] {
            s(&mut out, name);
            s(&mut out, tag);
            out.extend_from_slice(&digest);
        }
        // quarantine: no rows, no columns
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        let expected = blake3::hash(&out).to_hex().to_string();

        let got = input.content_id().unwrap();
        assert_eq!(got.as_str(), expected);
        // Pinned: the id of this content must never change.
        assert_eq!(got.as_str(), PINNED);
    }

    const PINNED: &str = "591aa23c0df57cae6b0799b28e0739f0773baaa2631b1afc95dd24190813e1e7";
}

mod failure {
    use hedui_store::{Error, FailMode, FailPoint, Store};

    use super::common::*;

    fn check(at: FailPoint, mode: FailMode) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // A snapshot committed before must come through untouched.
        let before = store
            .commit(tax_input(40, 10, date(2024, 5, 31)))
            .unwrap()
            .meta;

        let inp = tax_input(300, 11, date(2024, 6, 30));
        let id = inp.content_id().unwrap();
        let err = store
            .commit_with_failpoint(inp.clone(), at, mode)
            .expect_err("injected failure");
        assert!(
            matches!(err, Error::Injected(p) if p == at),
            "{at:?} {mode:?}: {err}"
        );

        let committed = at == FailPoint::AfterCatalog;
        let visible: Vec<_> = store
            .list(None)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        if committed {
            assert_eq!(visible, [before.id.clone(), id.clone()], "{at:?} {mode:?}");
        } else {
            assert_eq!(
                visible,
                std::slice::from_ref(&before.id),
                "{at:?} {mode:?}: nothing new visible"
            );
            assert!(store.get(&id).unwrap().is_none());
            assert!(store.newest("tax").unwrap().unwrap().id == before.id);
        }
        if mode == FailMode::Error
            && matches!(
                at,
                FailPoint::DuringRows
                    | FailPoint::AfterRows
                    | FailPoint::AfterQuarantine
                    | FailPoint::AfterManifest
            )
        {
            assert!(
                entries(&store.root().join("tmp")).is_empty(),
                "{at:?}: an error cleans its temporary directory"
            );
        }

        // Reopen, as after a restart: the sweep removes every leftover.
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert!(
            entries(&store.root().join("tmp")).is_empty(),
            "{at:?} {mode:?}: tmp swept"
        );
        let mut expected_dirs = vec![format!("tax/{}", before.id)];
        if committed {
            expected_dirs.push(format!("tax/{id}"));
            expected_dirs.sort();
        }
        assert_eq!(
            snapshot_dirs(store.root()),
            expected_dirs,
            "{at:?} {mode:?}: no strays"
        );
        store.verify(&before.id).unwrap();

        // A retry succeeds with the same id.
        let retry = store.commit(inp).unwrap();
        assert_eq!(retry.meta.id, id);
        assert_eq!(retry.already_present, committed);
        store.verify(&id).unwrap();
        assert_eq!(store.list(None).unwrap().len(), 2);
        assert!(entries(&store.root().join("tmp")).is_empty());
    }

    /// The process lives on after the failure and retries at once, before
    /// any sweep: the retry must adopt or redo whatever the failed attempt
    /// left, and leave no stray behind.
    #[test]
    fn a_retry_in_the_same_process_after_any_failure_works() {
        for mode in [FailMode::Error, FailMode::Crash] {
            for at in FailPoint::ALL {
                let dir = tempfile::tempdir().unwrap();
                let store = Store::open(dir.path()).unwrap();
                let inp = tax_input(200, 13, date(2024, 6, 30));
                let id = inp.content_id().unwrap();
                assert!(store.commit_with_failpoint(inp.clone(), at, mode).is_err());
                let retry = store.commit(inp).unwrap();
                assert_eq!(retry.meta.id, id, "{at:?} {mode:?}");
                assert_eq!(retry.already_present, at == FailPoint::AfterCatalog);
                store.verify(&id).unwrap();
                drop(store);
                let store = Store::open(dir.path()).unwrap();
                assert_eq!(snapshot_dirs(store.root()), [format!("tax/{id}")]);
                assert!(entries(&store.root().join("tmp")).is_empty());
                assert_eq!(store.list(None).unwrap().len(), 1);
            }
        }
    }

    #[test]
    fn a_crash_at_any_point_leaves_nothing_visible_and_a_retry_works() {
        for at in FailPoint::ALL {
            check(at, FailMode::Crash);
        }
    }

    #[test]
    fn an_error_at_any_point_leaves_nothing_visible_and_a_retry_works() {
        for at in FailPoint::ALL {
            check(at, FailMode::Error);
        }
    }

    #[test]
    fn a_crash_with_empty_rows_is_swept_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let inp = input(vec![tax_batch(&[])], date(2024, 6, 30));
        for at in FailPoint::ALL.into_iter().take(6) {
            assert!(
                store
                    .commit_with_failpoint(inp.clone(), at, FailMode::Crash)
                    .is_err()
            );
        }
        assert!(store.list(None).unwrap().is_empty());
        let report = store.sweep().unwrap();
        assert!(!report.skipped);
        assert!(report.tmp_removed >= 4, "{report:?}");
        assert_eq!(report.orphans_removed, 1, "{report:?}");
        assert!(snapshot_dirs(store.root()).is_empty());
        assert!(!store.commit(inp).unwrap().already_present);
    }

    #[test]
    fn invalid_input_touches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut rows = tax_rows(10, 12);
        rows[3].record_id = rows[7].record_id.clone();
        assert!(
            store
                .commit(input(vec![tax_batch(&rows)], date(2024, 6, 30)))
                .is_err()
        );
        assert!(entries(&store.root().join("tmp")).is_empty());
        assert!(snapshot_dirs(store.root()).is_empty());
        assert!(store.list(None).unwrap().is_empty());
    }
}

mod queries {
    use hedui_store::{Error, SnapshotInput, Store};

    use super::common::*;

    fn commit(
        store: &Store,
        source: &str,
        seed: u64,
        as_of: chrono::NaiveDate,
    ) -> hedui_store::SnapshotMeta {
        let inp = SnapshotInput {
            source: source.to_owned(),
            ..tax_input(20, seed, as_of)
        };
        store.commit(inp).unwrap().meta
    }

    #[test]
    fn newest_and_newest_on_or_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let may = commit(&store, "tax", 1, date(2024, 5, 31));
        let july = commit(&store, "tax", 2, date(2024, 7, 31));
        let june_a = commit(&store, "tax", 3, date(2024, 6, 30));
        let june_b = commit(&store, "tax", 4, date(2024, 6, 30)); // same as_of, later ingest
        let hukou = commit(&store, "hukou", 5, date(2024, 8, 31));
        assert!(june_b.seq > june_a.seq && june_a.seq > july.seq && july.seq > may.seq);

        assert_eq!(store.newest("tax").unwrap().unwrap().id, july.id);
        assert_eq!(store.newest("hukou").unwrap().unwrap().id, hukou.id);
        assert!(store.newest("bank").unwrap().is_none());

        let on = |d| store.newest_on_or_before("tax", d).unwrap().map(|m| m.id);
        assert_eq!(on(date(2024, 5, 30)), None);
        assert_eq!(on(date(2024, 5, 31)), Some(may.id.clone()));
        assert_eq!(on(date(2024, 6, 29)), Some(may.id.clone()));
        assert_eq!(on(date(2024, 6, 30)), Some(june_b.id.clone()));
        assert_eq!(on(date(2024, 7, 30)), Some(june_b.id.clone()));
        assert_eq!(on(date(2024, 7, 31)), Some(july.id.clone()));
        assert_eq!(on(date(2030, 1, 1)), Some(july.id.clone()));

        // Re-ingesting june_a does not make it newer: nothing is added.
        let again = store
            .commit(SnapshotInput {
                source: "tax".to_owned(),
                ..tax_input(20, 3, date(2024, 6, 30))
            })
            .unwrap();
        assert!(again.already_present);
        assert_eq!(on(date(2024, 6, 30)), Some(june_b.id.clone()));
    }

    #[test]
    fn list_is_sorted_by_source_as_of_and_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t2 = commit(&store, "tax", 1, date(2024, 7, 31));
        let h1 = commit(&store, "hukou", 2, date(2024, 9, 30));
        let t1 = commit(&store, "tax", 3, date(2024, 6, 30));
        let t3 = commit(&store, "tax", 4, date(2024, 7, 31));
        let ids =
            |v: Vec<hedui_store::SnapshotMeta>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.list(None).unwrap()),
            [h1.id.clone(), t1.id.clone(), t2.id.clone(), t3.id.clone()]
        );
        assert_eq!(ids(store.list(Some("tax")).unwrap()), [t1.id, t2.id, t3.id]);
        assert!(store.list(Some("bank")).unwrap().is_empty());
        assert_eq!(store.get(&h1.id).unwrap().unwrap(), h1);
        assert_eq!(
            h1.path,
            store.root().join("snapshots/hukou").join(h1.id.as_str())
        );
        assert_eq!(h1.rows, 20);
        assert_eq!(h1.quarantined, 2);
        assert_eq!(h1.department, "某市税务局");
    }

    #[test]
    fn ids_resolve_from_unique_prefixes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let m = commit(&store, "tax", 1, date(2024, 6, 30));
        assert_eq!(store.resolve(m.id.as_str()).unwrap().id, m.id);
        assert_eq!(store.resolve(m.id.short(8)).unwrap().id, m.id);
        assert_eq!(
            store.resolve(&m.id.short(12).to_uppercase()).unwrap().id,
            m.id
        );
        assert!(matches!(
            store.resolve(m.id.short(7)),
            Err(Error::InvalidId { .. })
        ));
        assert!(matches!(
            store.resolve("zzzzzzzzzz"),
            Err(Error::InvalidId { .. })
        ));
        let absent = if m.id.as_str().starts_with('0') {
            "11111111"
        } else {
            "00000000"
        };
        assert!(matches!(store.resolve(absent), Err(Error::NotFound { .. })));
        let unknown = hedui_store::SnapshotId::parse(&"ab".repeat(32)).unwrap();
        assert!(store.get(&unknown).unwrap().is_none());
        assert!(matches!(
            store.read_rows(&unknown),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            store.snapshot_dir(&unknown),
            Err(Error::NotFound { .. })
        ));
        assert!(hedui_store::SnapshotId::parse("abc").is_err());
    }
}

mod catalog {
    use hedui_store::{CATALOG_SCHEMA_VERSION, Error, Store};

    use super::common::*;

    #[test]
    fn the_catalog_is_wal_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.commit(tax_input(5, 1, date(2024, 6, 30))).unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("catalog.sqlite")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, CATALOG_SCHEMA_VERSION);
        let (n, path, at): (i64, String, String) = conn
            .query_row(
                "SELECT count(*), max(path), max(ingested_at) FROM snapshots",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(n, 1);
        assert!(path.starts_with("snapshots/tax/"), "{path}");
        assert!(at.ends_with('Z'), "{at}");
    }

    #[test]
    fn a_newer_catalog_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conn = rusqlite::Connection::open(dir.path().join("catalog.sqlite")).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, Error::CatalogTooNew { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("catalog.sqlite"), "{err}");
    }
}

mod in_catalog {
    //! Small snapshots held in the catalog (`Store::commit_in_catalog`).

    use hedui_store::{Error, IN_CATALOG_MAX_ROWS, SnapshotInput, Store};

    use super::common::*;

    fn household(seed: u64) -> SnapshotInput {
        tax_input(7, seed, date(2024, 6, 30))
    }

    #[test]
    fn held_in_the_catalog_as_a_directory_would_be() {
        let dirs = tempfile::tempdir().unwrap();
        let on_disk = Store::open(dirs.path().join("disk")).unwrap();
        let in_cat = Store::open(dirs.path().join("cat")).unwrap();
        let d = on_disk.commit(household(1)).unwrap();
        let c = in_cat
            .commit_in_catalog(vec![household(1), household(2)])
            .unwrap();
        assert_eq!(c.len(), 2);
        // The same id, rows, quarantine and manifest: only the place differs.
        assert_eq!(c[0].meta.id, d.meta.id);
        assert!(!c[0].already_present && !c[1].already_present);
        assert!(c[0].meta.in_catalog && !d.meta.in_catalog);
        assert_eq!(c[0].meta.path, in_cat.root().join("catalog.sqlite"));
        assert_eq!(
            in_cat.read_rows(&c[0].meta.id).unwrap(),
            on_disk.read_rows(&d.meta.id).unwrap()
        );
        assert_eq!(
            in_cat.read_quarantine(&c[0].meta.id).unwrap(),
            on_disk.read_quarantine(&d.meta.id).unwrap()
        );
        assert_eq!(
            in_cat.manifest(&c[0].meta.id).unwrap(),
            on_disk.manifest(&d.meta.id).unwrap()
        );
        let cols: Vec<_> = in_cat
            .rows_reader(&c[0].meta.id, Some(&["record_id"]))
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
        assert_eq!(cols[0].num_columns(), 1);
        assert_eq!(
            in_cat.rows_schema(&c[1].meta.id).unwrap(),
            on_disk.rows_schema(&d.meta.id).unwrap()
        );
        in_cat.verify(&c[0].meta.id).unwrap();
        in_cat.verify(&c[1].meta.id).unwrap();
        // No directory: asked for one, the store says where it is instead.
        assert!(snapshot_dirs(in_cat.root()).is_empty());
        let err = in_cat.snapshot_dir(&c[0].meta.id).unwrap_err();
        assert!(matches!(err, Error::NoDirectory { .. }), "{err}");
        assert!(err.to_string().contains("catalog.sqlite"), "{err}");
        // Durable, listed, and left alone by the sweep of a reopen.
        drop(in_cat);
        let reopened = Store::open(dirs.path().join("cat")).unwrap();
        assert_eq!(reopened.list(None).unwrap().len(), 2);
        assert_eq!(reopened.newest("tax").unwrap().unwrap().seq, c[1].meta.seq);
        reopened.verify(&c[0].meta.id).unwrap();
    }

    #[test]
    fn either_kind_of_commit_finds_the_other_present() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = store.commit(household(1)).unwrap();
        let again = store.commit_in_catalog(vec![household(1)]).unwrap();
        assert!(again[0].already_present);
        assert_eq!(again[0].meta, first.meta);
        let held = store.commit_in_catalog(vec![household(2)]).unwrap();
        let dir_commit = store.commit(household(2)).unwrap();
        assert!(dir_commit.already_present);
        assert_eq!(dir_commit.meta, held[0].meta);
        assert_eq!(snapshot_dirs(store.root()).len(), 1);
        assert!(entries(&store.root().join("tmp")).is_empty());
        // Twice in one call: one snapshot, found the second time.
        let twice = store
            .commit_in_catalog(vec![household(3), household(3)])
            .unwrap();
        assert!(!twice[0].already_present && twice[1].already_present);
        assert_eq!(twice[0].meta, twice[1].meta);
        assert_eq!(store.list(None).unwrap().len(), 3);
    }

    #[test]
    fn all_or_none_and_only_small() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let big = tax_input(IN_CATALOG_MAX_ROWS, 9, date(2024, 6, 30));
        let err = store
            .commit_in_catalog(vec![household(1), big])
            .unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
        assert!(store.list(None).unwrap().is_empty());
        // The same input as a directory is fine.
        store
            .commit(tax_input(IN_CATALOG_MAX_ROWS, 9, date(2024, 6, 30)))
            .unwrap();
    }

    #[test]
    fn encoded_then_committed_with_their_audit_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let held = store
            .encode_in_catalog(vec![household(1), household(2)])
            .unwrap();
        let ids: Vec<_> = held.ids().cloned().collect();
        // Encoding writes nothing; the ids are those of a commit.
        assert!(store.list(None).unwrap().is_empty());
        assert_eq!(ids[0], household(1).content_id().unwrap());
        let event = hedui_store::AuditEvent {
            caller: "case-system".into(),
            action: "verify".into(),
            report_hash: "r1".into(),
            ..Default::default()
        };
        let (committed, entries) = store.commit_held(held, vec![event.clone()]).unwrap();
        assert_eq!(
            committed
                .iter()
                .map(|c| c.meta.id.clone())
                .collect::<Vec<_>>(),
            ids
        );
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].event, event);
        assert_eq!(store.audit_entries().unwrap(), entries);
        let check = store.audit_verify().unwrap();
        assert_eq!(
            (check.entries, check.broken, check.head_behind),
            (1, None, 0)
        );
        // The same request again: nothing new stored, a second entry logged.
        let again = store.encode_in_catalog(vec![household(1)]).unwrap();
        let (c2, e2) = store.commit_held(again, vec![event]).unwrap();
        assert!(c2[0].already_present);
        assert_eq!(e2[0].seq, 2);
        assert_eq!(store.list(None).unwrap().len(), 2);
    }

    #[test]
    fn an_altered_blob_fails_verification() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = store.commit_in_catalog(vec![household(1)]).unwrap();
        let id = c[0].meta.id.clone();
        let conn = rusqlite::Connection::open(dir.path().join("catalog.sqlite")).unwrap();
        let mut bytes: Vec<u8> = conn
            .query_row(
                "SELECT bytes FROM snapshot_files WHERE id = ?1 AND name = 'rows.parquet'",
                [id.as_str()],
                |r| r.get(0),
            )
            .unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        conn.execute(
            "UPDATE snapshot_files SET bytes = ?2 WHERE id = ?1 AND name = 'rows.parquet'",
            rusqlite::params![id.as_str(), bytes],
        )
        .unwrap();
        let err = store.verify(&id).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("rows.parquet"), "{err}");
        // A blob removed: named too.
        conn.execute(
            "DELETE FROM snapshot_files WHERE id = ?1 AND name = 'manifest.json'",
            [id.as_str()],
        )
        .unwrap();
        let err = store.manifest(&id).unwrap_err();
        assert!(err.to_string().contains("manifest.json"), "{err}");
    }
}

mod concurrency {
    use std::sync::{Arc, Barrier};

    use hedui_store::Store;

    use super::common::*;

    #[test]
    fn two_stores_committing_the_same_content_at_once_leave_one_snapshot() {
        for round in 0..4 {
            let dir = tempfile::tempdir().unwrap();
            let barrier = Arc::new(Barrier::new(2));
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let root = dir.path().to_owned();
                    let barrier = Arc::clone(&barrier);
                    std::thread::spawn(move || {
                        // Each its own Store: its own SQLite connection and
                        // lock handle, as two processes would have.
                        let store = Store::open(&root).unwrap();
                        let inp = tax_input(2000, 1, date(2024, 6, 30));
                        barrier.wait();
                        store.commit(inp).unwrap()
                    })
                })
                .collect();
            let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            assert_eq!(results[0].meta.id, results[1].meta.id, "round {round}");
            let fresh = results.iter().filter(|c| !c.already_present).count();
            assert_eq!(fresh, 1, "round {round}: exactly one commit added it");
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.list(None).unwrap().len(), 1);
            assert_eq!(snapshot_dirs(store.root()).len(), 1);
            assert!(entries(&store.root().join("tmp")).is_empty());
            store.verify(&results[0].meta.id).unwrap();
        }
    }

    /// Run as a child process by the test below: commits the fixed content
    /// into the data dir named by `HEDUI_STORE_CHILD_DIR`.
    #[test]
    #[ignore = "helper: run as a child process by two_processes_committing_..."]
    fn child_commit() {
        let Ok(root) = std::env::var("HEDUI_STORE_CHILD_DIR") else {
            return;
        };
        let store = Store::open(&root).unwrap();
        let c = store
            .commit(tax_input(20_000, 1, date(2024, 6, 30)))
            .unwrap();
        println!("CHILD {} {}", c.meta.id, c.already_present);
    }

    #[test]
    fn two_processes_committing_the_same_content_at_once_leave_one_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..2)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args([
                        "--ignored",
                        "--exact",
                        "concurrency::child_commit",
                        "--nocapture",
                    ])
                    .env("HEDUI_STORE_CHILD_DIR", dir.path())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut results = Vec::new();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "child failed");
            let text = String::from_utf8(out.stdout).unwrap();
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix("CHILD "))
                .unwrap_or_else(|| panic!("no result in {text}"))
                .to_owned();
            results.push(line);
        }
        let parsed: Vec<(&str, bool)> = results
            .iter()
            .map(|l| {
                let (id, present) = l.split_once(' ').unwrap();
                (id, present == "true")
            })
            .collect();
        assert_eq!(parsed[0].0, parsed[1].0);
        assert_eq!(parsed.iter().filter(|(_, present)| !present).count(), 1);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.list(None).unwrap().len(), 1);
        assert_eq!(snapshot_dirs(store.root()).len(), 1);
        assert!(entries(&store.root().join("tmp")).is_empty());
        store.verify(&store.list(None).unwrap()[0].id).unwrap();
    }

    #[test]
    fn one_store_shared_by_threads_commits_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let handles: Vec<_> = (0..4u64)
            .map(|seed| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    store
                        .commit(tax_input(500, seed, date(2024, 6, 30)))
                        .unwrap()
                })
            })
            .collect();
        let mut seqs: Vec<u64> = handles
            .into_iter()
            .map(|h| h.join().unwrap().meta.seq)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), 4);
        assert_eq!(store.list(Some("tax")).unwrap().len(), 4);
        // A sweep while nothing is in flight removes nothing committed.
        let report = store.sweep().unwrap();
        assert_eq!((report.tmp_removed, report.orphans_removed), (0, 0));
        assert_eq!(snapshot_dirs(store.root()).len(), 4);
    }
}

mod errors {
    use std::sync::Arc;

    use arrow::array::{Array, Int64Array, ListArray, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use hedui_store::{Error, SnapshotInput};

    use super::common::*;

    fn with_batch(batch: RecordBatch) -> SnapshotInput {
        input(vec![batch], date(2024, 6, 30))
    }

    #[test]
    fn duplicate_record_ids_are_refused() {
        let mut rows = tax_rows(100, 1);
        rows[90].record_id = rows[3].record_id.clone();
        rows[90].id_number = Some("999999999999999999".to_owned());
        let err = with_batch(tax_batch(&rows)).content_id().unwrap_err();
        match &err {
            Error::DuplicateRecordId {
                source_name,
                record_id,
            } => {
                assert_eq!(source_name, "tax");
                assert_eq!(record_id, &rows[3].record_id);
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains(&rows[3].record_id));
    }

    #[test]
    fn key_columns_are_required_with_their_types() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "id_number",
            DataType::Utf8,
            true,
        )]));
        let b = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec!["x"]))]).unwrap();
        let err = with_batch(b).content_id().unwrap_err();
        assert!(
            matches!(&err, Error::Column { column, .. } if column == "record_id"),
            "{err}"
        );

        let schema = Arc::new(Schema::new(vec![
            Field::new("record_id", DataType::Utf8, false),
            Field::new("id_number", DataType::Int64, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["r"])),
                Arc::new(Int64Array::from(vec![1])),
            ],
        )
        .unwrap();
        let err = with_batch(b).content_id().unwrap_err();
        assert!(
            matches!(&err, Error::Column { column, .. } if column == "id_number"),
            "{err}"
        );
        assert!(err.to_string().contains("Utf8"), "{err}");

        let schema = Arc::new(Schema::new(vec![
            Field::new("record_id", DataType::Utf8, true),
            Field::new("id_number", DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("r"), None])),
                Arc::new(StringArray::from(vec![Some("a"), Some("b")])),
            ],
        )
        .unwrap();
        let err = with_batch(b).content_id().unwrap_err();
        assert!(err.to_string().contains("null"), "{err}");
    }

    #[test]
    fn nested_columns_are_refused_with_the_column_named() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("record_id", DataType::Utf8, false),
            Field::new("id_number", DataType::Utf8, true),
            Field::new("months", list.data_type().clone(), true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["r"])),
                Arc::new(StringArray::from(vec![Some("a")])),
                Arc::new(list),
            ],
        )
        .unwrap();
        let err = with_batch(b).content_id().unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedType { column, table: "rows", .. } if column == "months"),
            "{err}"
        );
    }

    #[test]
    fn header_and_batches_are_checked() {
        let ok = tax_input(5, 1, date(2024, 6, 30));
        for bad in ["", "Tax", "tax/../x", "1tax", "税务"] {
            let err = SnapshotInput {
                source: bad.to_owned(),
                ..ok.clone()
            }
            .content_id()
            .unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err}");
        }
        let err = SnapshotInput {
            rows: vec![],
            ..ok.clone()
        }
        .content_id()
        .unwrap_err();
        assert!(err.to_string().contains("no row batches"), "{err}");

        let other = quarantine_batch(&[("a", None, "b")]);
        let err = SnapshotInput {
            rows: vec![tax_batch(&tax_rows(3, 1)), other],
            ..ok.clone()
        }
        .content_id()
        .unwrap_err();
        assert!(err.to_string().contains("batch 1"), "{err}");

        let err = SnapshotInput {
            quarantine: vec![
                quarantine_batch(&[("a", None, "b")]),
                tax_batch(&tax_rows(1, 1)),
            ],
            ..ok.clone()
        }
        .content_id()
        .unwrap_err();
        assert!(err.to_string().contains("quarantine"), "{err}");

        let no_columns = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(2)),
        )
        .unwrap();
        let err = SnapshotInput {
            quarantine: vec![no_columns],
            ..ok.clone()
        }
        .content_id()
        .unwrap_err();
        assert!(err.to_string().contains("at least one column"), "{err}");
    }
}

mod types {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BinaryArray, Date64Array, Decimal128Array, DictionaryArray, Float32Array,
        Int8Array, LargeStringArray, NullArray, RecordBatch, StringArray,
        TimestampMillisecondArray, UInt64Array,
    };
    use arrow::datatypes::{DataType, Field, Int32Type, Schema, TimeUnit};
    use hedui_store::Store;

    use super::common::*;

    /// A quarantine may have any flat schema: it is stored, read back and
    /// hashes to the same id.
    #[test]
    fn a_quarantine_of_many_types_round_trips_and_verifies() {
        let n = 4;
        let dict: DictionaryArray<Int32Type> = vec![Some("a"), None, Some("b"), Some("a")]
            .into_iter()
            .collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "reason",
                Arc::new(StringArray::from(vec!["x", "y", "x", "z"])),
            ),
            (
                "i8",
                Arc::new(Int8Array::from(vec![Some(-1), None, Some(3), Some(-1)])),
            ),
            ("u64", Arc::new(UInt64Array::from(vec![u64::MAX, 0, 7, 7]))),
            (
                "f32",
                Arc::new(Float32Array::from(vec![
                    Some(f32::NAN),
                    Some(-0.0),
                    None,
                    Some(1.5),
                ])),
            ),
            (
                "money",
                Arc::new(
                    Decimal128Array::from(vec![Some(123_450), None, Some(-1), Some(0)])
                        .with_precision_and_scale(18, 2)
                        .unwrap(),
                ),
            ),
            (
                "at",
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(1), Some(2), None, Some(4)])
                        .with_timezone("Asia/Shanghai"),
                ),
            ),
            (
                "d64",
                Arc::new(Date64Array::from(vec![
                    Some(86_400_000),
                    None,
                    Some(0),
                    Some(0),
                ])),
            ),
            (
                "raw",
                Arc::new(BinaryArray::from_opt_vec(vec![
                    Some(b"\x00\xff"),
                    None,
                    Some(b""),
                    Some(b"q"),
                ])),
            ),
            (
                "large",
                Arc::new(LargeStringArray::from(vec![
                    Some("大"),
                    Some(""),
                    None,
                    Some("x"),
                ])),
            ),
            ("dict", Arc::new(dict)),
            ("nothing", Arc::new(NullArray::new(n))),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let q =
            RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect()).unwrap();
        let mut inp = tax_input(10, 1, date(2024, 6, 30));
        inp.quarantine = vec![q.clone()];
        let id = inp.content_id().unwrap();

        let reversed = {
            let idx = arrow::array::UInt32Array::from(vec![3, 2, 1, 0]);
            arrow::compute::take_record_batch(&q, &idx).unwrap()
        };
        let mut inp2 = inp.clone();
        inp2.quarantine = vec![reversed.slice(0, 1), reversed.slice(1, 3)];
        assert_eq!(inp2.content_id().unwrap(), id);

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = store.commit(inp).unwrap();
        assert_eq!(c.meta.id, id);
        assert_eq!(c.meta.quarantined, 4);
        store.verify(&id).unwrap();
        let read = concat(&store.read_quarantine(&id).unwrap());
        let types: Vec<DataType> = read
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(types[8], DataType::Utf8, "large strings stored as Utf8");
        assert_eq!(types[9], DataType::Utf8, "dictionaries decoded");
        assert_eq!(
            types[5],
            DataType::Timestamp(TimeUnit::Millisecond, Some("Asia/Shanghai".into()))
        );
        let manifest = store.manifest(&id).unwrap();
        let tags: Vec<&str> = manifest
            .quarantine_columns
            .iter()
            .map(|c| c.data_type.as_str())
            .collect();
        assert_eq!(
            tags,
            [
                "utf8",
                "int8",
                "uint64",
                "float32",
                "decimal128(18, 2)",
                "timestamp[ms, Asia/Shanghai]",
                "date64",
                "binary",
                "utf8",
                "utf8",
                "null"
            ]
        );
    }

    #[test]
    fn nan_payloads_do_not_change_the_id() {
        let mut a = tax_rows(10, 2);
        a[0].share = Some(f64::NAN);
        let mut b = a.clone();
        b[0].share = Some(f64::from_bits(0x7ff8_0000_0000_0abc));
        let ia = input(vec![tax_batch(&a)], date(2024, 6, 30));
        let ib = input(vec![tax_batch(&b)], date(2024, 6, 30));
        assert_eq!(ia.content_id().unwrap(), ib.content_id().unwrap());
    }
}

mod properties {
    use proptest::prelude::*;

    use super::common::{Rng, batches, date, input, tax_batch, tax_rows};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

        /// Shuffling rows and cutting them into batches never changes the id.
        #[test]
        fn shuffling_rows_never_changes_the_id(
            n in 0usize..200,
            seed in any::<u64>(),
            shuffle_seed in any::<u64>(),
            cuts in proptest::collection::vec(0usize..80, 0..5),
        ) {
            let rows = tax_rows(n, seed % 1000);
            let canonical = input(vec![tax_batch(&rows)], date(2024, 6, 30));
            let mut shuffled = rows.clone();
            Rng::new(shuffle_seed).shuffle(&mut shuffled);
            let other = input(batches(&shuffled, &cuts), date(2024, 6, 30));
            prop_assert_eq!(canonical.content_id().unwrap(), other.content_id().unwrap());
        }
    }
}

/// Throughput of a commit; run by hand:
/// `cargo test -p hedui-store --test store -- --ignored --nocapture throughput`.
mod throughput {
    use std::time::Instant;

    use hedui_store::Store;

    use super::common::*;

    #[test]
    #[ignore = "measurement, run by hand"]
    fn throughput_of_a_million_row_commit() {
        let n: usize = std::env::var("HEDUI_STORE_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let mut rows = tax_rows(n, 1);
        Rng::new(3).shuffle(&mut rows);
        let batches = batches(&rows, &vec![100_000; n / 100_000]);
        drop(rows);
        let inp = input(batches, date(2024, 6, 30));
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();

        let t = Instant::now();
        let id = inp.content_id().unwrap();
        let hash_only = t.elapsed();

        let t = Instant::now();
        let c = store.commit(inp.clone()).unwrap();
        let commit = t.elapsed();
        assert_eq!(c.meta.id, id);

        let t = Instant::now();
        let again = store.commit(inp).unwrap();
        let recommit = t.elapsed();
        assert!(again.already_present);

        let t = Instant::now();
        let read: usize = store
            .read_rows(&id)
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        let read_time = t.elapsed();
        assert_eq!(read, n);

        let bytes = std::fs::metadata(c.meta.path.join("rows.parquet"))
            .unwrap()
            .len();
        let rate = |d: std::time::Duration| n as f64 / d.as_secs_f64();
        println!(
            "{n} rows x 10 columns: content_id {hash_only:?} ({:.0} rows/s), commit {commit:?} \
             ({:.0} rows/s), re-commit {recommit:?}, read {read_time:?} ({:.0} rows/s), \
             rows.parquet {bytes} bytes",
            rate(hash_only),
            rate(commit),
            rate(read_time)
        );
    }
}

mod derived {
    use hedui_store::Store;

    use crate::common::{date, input, tax_batch, tax_rows};

    #[test]
    fn links_round_trip_under_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let snap = store
            .commit(input(vec![tax_batch(&tax_rows(20, 1))], date(2026, 6, 30)))
            .unwrap()
            .meta
            .id;
        let links = vec![tax_batch(&tax_rows(5, 2))];
        assert!(!store.has_links(&snap, "reg-abc").unwrap());
        assert!(store.read_links(&snap, "reg-abc").unwrap().is_none());
        store.put_links(&snap, "reg-abc", &links).unwrap();
        assert!(store.has_links(&snap, "reg-abc").unwrap());
        assert_eq!(store.read_links(&snap, "reg-abc").unwrap().unwrap(), links);
        // Written again (a deterministic producer writes the same bytes): fine.
        store.put_links(&snap, "reg-abc", &links).unwrap();
        // Nothing is left in tmp/, and reopening (which sweeps) keeps them.
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert!(store.has_links(&snap, "reg-abc").unwrap());
    }

    #[test]
    fn links_written_in_pieces_appear_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let snap = store
            .commit(input(vec![tax_batch(&tax_rows(20, 1))], date(2026, 6, 30)))
            .unwrap()
            .meta
            .id;
        let pieces = vec![tax_batch(&tax_rows(5, 2)), tax_batch(&tax_rows(3, 3))];
        let tmp_count = || std::fs::read_dir(dir.path().join("tmp")).unwrap().count();
        // Dropped half-written (an error on the way): nothing visible,
        // nothing left in tmp/.
        let mut w = store.links_writer(&snap, "k", pieces[0].schema()).unwrap();
        w.write(&pieces[0]).unwrap();
        assert!(!store.has_links(&snap, "k").unwrap());
        drop(w);
        assert!(!store.has_links(&snap, "k").unwrap());
        assert_eq!(tmp_count(), 0);
        // Finished: every piece, in order.
        let mut w = store.links_writer(&snap, "k", pieces[0].schema()).unwrap();
        for p in &pieces {
            w.write(p).unwrap();
            assert!(!store.has_links(&snap, "k").unwrap());
        }
        w.finish().unwrap();
        let back = store.read_links(&snap, "k").unwrap().unwrap();
        let rows: usize = back.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 8);
        assert_eq!(
            arrow::compute::concat_batches(&back[0].schema(), &back).unwrap(),
            arrow::compute::concat_batches(&pieces[0].schema(), &pieces).unwrap()
        );
        assert_eq!(tmp_count(), 0);
    }

    #[test]
    fn rows_reader_streams_the_named_columns_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let snap = store
            .commit(input(vec![tax_batch(&tax_rows(50, 1))], date(2026, 6, 30)))
            .unwrap()
            .meta
            .id;
        let whole = store.read_rows(&snap).unwrap();
        let part: Vec<_> = store
            .rows_reader(&snap, Some(&["record_id", "no_such_column", "id_number"]))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let names: Vec<String> = part[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        // The snapshot's column order, not the order asked for.
        let expected: Vec<String> = whole[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| n == "record_id" || n == "id_number")
            .collect();
        assert_eq!(names, expected);
        let col = |bs: &[arrow::array::RecordBatch]| -> Vec<String> {
            bs.iter()
                .flat_map(|b| {
                    let c = b.column_by_name("record_id").unwrap();
                    let c = c
                        .as_any()
                        .downcast_ref::<arrow::array::StringArray>()
                        .unwrap()
                        .clone();
                    (0..arrow::array::Array::len(&c)).map(move |i| c.value(i).to_owned())
                })
                .collect()
        };
        assert_eq!(col(&part), col(&whole));
        let all: Vec<_> = store
            .rows_reader(&snap, None)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(all, whole);
    }

    #[test]
    fn artifacts_are_kept_by_key_and_keys_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.put_artifact("matchers", "abc.json", b"{}").unwrap();
        // A key names its content: a second put leaves the first.
        store
            .put_artifact("matchers", "abc.json", b"other")
            .unwrap();
        assert_eq!(
            store.get_artifact("matchers", "abc.json").unwrap().unwrap(),
            b"{}"
        );
        assert!(
            store
                .get_artifact("matchers", "nope.json")
                .unwrap()
                .is_none()
        );
        assert!(store.put_artifact("matchers", "../escape", b"x").is_err());
        assert!(store.put_artifact("", "k", b"x").is_err());
    }
}

mod audit {
    use hedui_store::{AuditEvent, GENESIS, Store};

    fn event(n: usize) -> AuditEvent {
        AuditEvent {
            caller: format!("client-{n}"),
            role: "verify".into(),
            action: "verify".into(),
            outcome: "ok".into(),
            purpose: "review".into(),
            authorization_ref: format!("SQ-{n}"),
            application_id: format!("A{n}"),
            person_hashes: vec![],
            report_hash: "r".into(),
            detail: String::new(),
        }
    }

    fn exec(dir: &std::path::Path, sql: &str) {
        let conn = rusqlite::Connection::open(dir.join("catalog.sqlite")).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    #[test]
    fn the_chain_verifies_and_any_change_breaks_it_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let empty = store.audit_verify().unwrap();
        assert_eq!(
            (empty.entries, empty.head.as_str(), empty.broken),
            (0, GENESIS, None)
        );
        let mut last = String::new();
        for n in 1..=5 {
            let e = store.audit_append(event(n)).unwrap();
            assert_eq!(e.seq, n as i64);
            if n > 1 {
                assert_eq!(e.prev, last);
            }
            last = e.hash;
        }
        let ok = store.audit_verify().unwrap();
        assert_eq!((ok.entries, ok.broken), (5, None));
        assert_eq!(ok.head, last);
        drop(store);

        // Altered content.
        exec(
            dir.path(),
            "UPDATE audit SET authorization_ref = 'forged' WHERE seq = 3",
        );
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.audit_verify().unwrap().broken.unwrap().0, 3);
        drop(store);
        exec(
            dir.path(),
            "UPDATE audit SET authorization_ref = 'SQ-3' WHERE seq = 3",
        );
        assert!(
            Store::open(dir.path())
                .unwrap()
                .audit_verify()
                .unwrap()
                .broken
                .is_none()
        );

        // A deleted middle entry, then one cut off the end.
        let copy = tempfile::tempdir().unwrap();
        for f in ["catalog.sqlite", "catalog.sqlite-wal", "audit.head"] {
            if dir.path().join(f).is_file() {
                std::fs::copy(dir.path().join(f), copy.path().join(f)).unwrap();
            }
        }
        exec(dir.path(), "DELETE FROM audit WHERE seq = 2");
        let broken = Store::open(dir.path())
            .unwrap()
            .audit_verify()
            .unwrap()
            .broken
            .unwrap();
        assert_eq!(broken.0, 3, "{broken:?}");
        exec(copy.path(), "DELETE FROM audit WHERE seq = 5");
        let broken = Store::open(copy.path())
            .unwrap()
            .audit_verify()
            .unwrap()
            .broken
            .unwrap();
        assert!(broken.1.contains("cut off"), "{broken:?}");
    }

    /// Regression: a server killed (SIGKILL) between writing the head's
    /// temporary file and renaming it left `audit.head.tmp` behind, and
    /// every later append failed on it: the restarted server answered
    /// "the audit log could not be written" to every call.
    #[test]
    fn what_a_killed_append_leaves_does_not_block_the_next_and_the_head_heals() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for n in 1..=3 {
            store.audit_append(event(n)).unwrap();
        }
        drop(store);
        // A kill after the head was written but before the commit: the
        // head is ahead of the log, and temporary files are left over.
        let head = dir.path().join("audit.head");
        let before = std::fs::read_to_string(&head).unwrap();
        std::fs::write(&head, format!("4 {}\n", "f".repeat(64))).unwrap();
        std::fs::write(dir.path().join("audit.head.tmp"), b"3 x\n").unwrap();
        std::fs::write(dir.path().join("audit.key.tmp"), b"junk").unwrap();
        std::fs::write(dir.path().join("tmp/1-0-audit.head"), b"3 x\n").unwrap();
        let store = Store::open(dir.path()).unwrap();
        let broken = store.audit_verify().unwrap().broken.unwrap();
        assert!(broken.1.contains("cut off"), "{broken:?}");
        // The next append rewrites the head from the log.
        let e = store.audit_append(event(4)).unwrap();
        assert_eq!(e.seq, 4);
        let check = store.audit_verify().unwrap();
        assert_eq!(
            (check.entries, check.broken, check.head_behind),
            (4, None, 0)
        );
        assert_ne!(std::fs::read_to_string(&head).unwrap(), before);
        // A kill after a commit, before its head reached the disk: the head
        // names an earlier entry of the log, with its hash — accepted, and
        // said; the same number with another hash is a break.
        let second = store.audit_entries().unwrap()[1].hash.clone();
        std::fs::write(&head, format!("2 {second}\n")).unwrap();
        let check = store.audit_verify().unwrap();
        assert_eq!((check.broken, check.head_behind), (None, 2));
        std::fs::write(&head, "").unwrap();
        assert_eq!(store.audit_verify().unwrap().head_behind, 4);
        std::fs::write(&head, format!("2 {}\n", "0".repeat(64))).unwrap();
        assert!(store.audit_verify().unwrap().broken.is_some());
        store.audit_append(event(5)).unwrap();
        let check = store.audit_verify().unwrap();
        assert_eq!(
            (check.entries, check.broken, check.head_behind),
            (5, None, 0)
        );
        // The key is the one created first, whatever was left beside it.
        let h = store.person_hash("530302198101214112").unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.person_hash("530302198101214112").unwrap(), h);
    }

    /// Concurrent appends share commits (the catalog's group commit) and
    /// still form one gapless chain, each call's entry in it once, with
    /// the head on the last.
    #[test]
    fn concurrent_appends_form_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut seqs: Vec<i64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|t| {
                    let store = &store;
                    s.spawn(move || {
                        (0..40)
                            .map(|i| store.audit_append(event(t * 100 + i)).unwrap().seq)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        seqs.sort();
        assert_eq!(seqs, (1..=320).collect::<Vec<_>>());
        let check = store.audit_verify().unwrap();
        assert_eq!(
            (check.entries, check.broken, check.head_behind),
            (320, None, 0)
        );
        let mut apps: Vec<String> = store
            .audit_entries()
            .unwrap()
            .into_iter()
            .map(|e| e.event.application_id)
            .collect();
        apps.sort();
        apps.dedup();
        assert_eq!(apps.len(), 320);
    }

    #[test]
    fn person_hashes_are_keyed_per_data_directory() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (sa, sb) = (
            Store::open(a.path()).unwrap(),
            Store::open(b.path()).unwrap(),
        );
        let id = "530302198101214112";
        let h = sa.person_hash(id).unwrap();
        assert_eq!(h, sa.person_hash(id).unwrap());
        assert_eq!(h, Store::open(a.path()).unwrap().person_hash(id).unwrap());
        assert_ne!(h, sb.person_hash(id).unwrap());
        assert_ne!(h, blake3::hash(id.as_bytes()).to_hex().to_string());
        assert!(!h.contains(id));
    }
}

mod monitor_state {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;
    use hedui_store::{MonitorRun, RunRecord, Store};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn record(run_date: NaiveDate, state: &str, alerts: &[(&str, &str)]) -> RunRecord {
        RunRecord {
            run: MonitorRun {
                run_id: format!("{:0>64}", run_date.format("%Y%m%d")),
                run_date,
                roster: vec!["r1".into(), "r2".into()],
                snapshots: BTreeMap::from([("hukou".into(), "s".into())]),
                matcher_hash: "m".into(),
                households: 1,
                alerts: alerts.len() as u64,
                recorded_at: String::new(),
            },
            states: vec![("H1".into(), state.into())],
            alerts: alerts
                .iter()
                .map(|(code, line)| ("H1".into(), "530302".into(), (*code).into(), (*line).into()))
                .collect(),
        }
    }

    #[test]
    fn the_previous_state_is_the_latest_before_the_date_and_a_rerun_replaces_its_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ids = vec!["H1".to_owned(), "H2".to_owned()];
        assert!(
            store
                .monitor_previous(&ids, d(2026, 3, 31))
                .unwrap()
                .is_empty()
        );
        store
            .monitor_record(record(
                d(2026, 3, 31),
                "s1",
                &[("deceased", "a"), ("review_due", "b")],
            ))
            .unwrap();
        store
            .monitor_record(record(d(2026, 4, 30), "s2", &[("new_vehicle", "c")]))
            .unwrap();
        // A run on 2026-04-30 (or its rerun) compares with 2026-03-31.
        let prev = store.monitor_previous(&ids, d(2026, 4, 30)).unwrap();
        assert_eq!(prev.get("H1"), Some(&(d(2026, 3, 31), "s1".to_owned())));
        assert!(!prev.contains_key("H2"));
        let prev = store.monitor_previous(&ids, d(2026, 5, 1)).unwrap();
        assert_eq!(prev["H1"].1, "s2");
        // A rerun of 2026-04-30 replaces that run's alerts and state.
        store
            .monitor_record(record(d(2026, 4, 30), "s2b", &[("new_vehicle", "c2")]))
            .unwrap();
        let a = store
            .monitor_alerts(None, Some(d(2026, 4, 30)), "")
            .unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].line, "c2");
        assert_eq!(
            store.monitor_previous(&ids, d(2026, 5, 1)).unwrap()["H1"].1,
            "s2b"
        );
        // Region scopes filter alerts.
        assert_eq!(store.monitor_alerts(None, None, "5303").unwrap().len(), 3);
        assert!(store.monitor_alerts(None, None, "5304").unwrap().is_empty());
        // Pages resume after their last alert's cursor, over any of the
        // scope's prefixes, in order.
        let scope = vec!["5304".to_owned(), "530302".to_owned()];
        let first = store
            .monitor_alerts_page(None, None, &scope, None, 2)
            .unwrap();
        assert_eq!(
            first.iter().map(|a| a.line.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let rest = store
            .monitor_alerts_page(None, None, &scope, Some(&first[1].cursor()), 2)
            .unwrap();
        assert_eq!(
            rest.iter().map(|a| a.line.as_str()).collect::<Vec<_>>(),
            ["c2"]
        );
        assert!(
            store
                .monitor_alerts_page(None, None, &["53".into()], Some("x"), 2)
                .is_err()
        );
        let runs = store.monitor_runs().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].alerts, 1);
        // The state survives reopening.
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.monitor_alerts(None, None, "").unwrap().len(), 3);
    }
}
