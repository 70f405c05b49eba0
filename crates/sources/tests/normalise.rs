//! Normalisation and quarantine, table by table.

use std::sync::Arc;

use arrow::array::{Array, AsArray, LargeStringArray, RecordBatch, StringViewArray};
use arrow::datatypes::{DataType, Date32Type, Field, Int64Type, Schema};
use hedui_sources::{Error, normalise, table};

use crate::common::{ID, text_batch, typed_batch, with_text, without};

fn column<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    b.column(b.schema().index_of(name).unwrap()).as_ref()
}

#[test]
fn canonical_columns_of_tax() {
    let t = table("tax").unwrap();
    let b = typed_batch(t, 3);
    let b = with_text(
        &b,
        "id_number",
        vec![
            Some("110105491231002"),
            Some(" 11010519491231002x "),
            Some("11010519491231002 1"),
        ],
    );
    let b = with_text(
        &b,
        "name",
        vec![Some("張 偉"), Some("张伟"), Some("ＺＨＡＮＧ")],
    );
    let b = with_text(
        &b,
        "income_kind",
        vec![Some("工资薪金"), Some("labour"), Some("其他")],
    );
    let out = normalise(t, "tax.parquet", &b.schema(), &[b]).unwrap();
    assert_eq!(out.accepted, 3);
    let r = &out.rows[0];
    let ids = column(r, "id_number").as_string::<i32>();
    assert_eq!(ids.value(0), ID);
    assert_eq!(ids.value(1), ID);
    assert!(ids.is_null(2), "a bad id keeps the row, without a number");
    let status = column(r, "id_status").as_string::<i32>();
    assert_eq!(
        (status.value(0), status.value(1), status.value(2)),
        ("upgraded", "valid", "bad_check_digit")
    );
    assert_eq!(
        column(r, "id_clean").as_string::<i32>().value(2),
        "110105194912310021"
    );
    let names = column(r, "name").as_string::<i32>();
    assert_eq!((names.value(0), names.value(2)), ("张伟", "zhang"));
    assert_eq!(column(r, "name_raw").as_string::<i32>().value(0), "張 偉");
    assert_eq!(
        column(r, "name_pinyin").as_string::<i32>().value(0),
        "zhang wei"
    );
    let kinds = column(r, "income_kind").as_string::<i32>();
    assert_eq!(
        (kinds.value(0), kinds.value(1), kinds.value(2)),
        ("wage", "labour", "other")
    );
    let gross = column(r, "gross_fen").as_primitive::<Int64Type>();
    assert_eq!(gross.value(0), 100_050);
    let period = column(r, "period").as_primitive::<Date32Type>();
    assert_eq!(period.value(0), 20423, "2025-12-01");
}

#[test]
fn string_money_is_exact() {
    let t = table("bank").unwrap();
    let b = text_batch(t, 4);
    let b = with_text(
        &b,
        "balance",
        vec![Some("1234.5"), Some("1234.50"), Some("0.07"), Some("-3")],
    );
    let out = normalise(t, "bank.csv", &b.schema(), &[b]).unwrap();
    let fen = column(&out.rows[0], "balance_fen").as_primitive::<Int64Type>();
    assert_eq!(fen.values().to_vec(), vec![123_450, 123_450, 7, -300]);
}

#[test]
fn every_string_type_is_accepted() {
    let t = table("death").unwrap();
    let b = text_batch(t, 2);
    let schema = Arc::new(Schema::new(vec![
        Field::new("record_id", DataType::LargeUtf8, false),
        Field::new("id_number", DataType::Utf8View, true),
        Field::new("name", DataType::Utf8, false),
        Field::new("death_date", DataType::Utf8View, false),
        Field::new("kind", DataType::LargeUtf8, true),
    ]));
    let col = |n: &str| {
        b.column(b.schema().index_of(n).unwrap())
            .as_string::<i32>()
            .iter()
            .collect::<Vec<_>>()
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(LargeStringArray::from(col("record_id"))),
            Arc::new(StringViewArray::from(col("id_number"))),
            Arc::new(arrow::array::StringArray::from(col("name"))),
            Arc::new(StringViewArray::from(col("death_date"))),
            Arc::new(LargeStringArray::from(col("kind"))),
        ],
    )
    .unwrap();
    let out = normalise(t, "death.arrow", &schema, &[batch]).unwrap();
    assert_eq!((out.accepted, out.quarantined), (2, 0));
}

#[test]
fn missing_required_column_rejects_the_extract() {
    let t = table("tax").unwrap();
    let b = without(&typed_batch(t, 1), "gross");
    let err = normalise(t, "tax.parquet", &b.schema(), &[b]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingColumn {
                column: "gross",
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("tax.parquet") && msg.contains("\"gross\"") && msg.contains("Decimal128"),
        "{msg}"
    );
}

#[test]
fn optional_columns_may_be_absent() {
    let t = table("tax").unwrap();
    let b = without(&without(&typed_batch(t, 2), "tax_paid"), "payer_name");
    let out = normalise(t, "tax.parquet", &b.schema(), &[b]).unwrap();
    assert_eq!(out.accepted, 2);
    assert_eq!(column(&out.rows[0], "tax_paid_fen").null_count(), 2);
}

#[test]
fn float_money_is_a_wrong_type() {
    let t = table("tax").unwrap();
    let b = typed_batch(t, 1);
    let i = b.schema().index_of("gross").unwrap();
    let mut fields: Vec<Field> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[i] = Field::new("gross", DataType::Float64, false);
    let mut cols = b.columns().to_vec();
    cols[i] = Arc::new(arrow::array::Float64Array::from(vec![1.5]));
    let b = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    let err = normalise(t, "tax.parquet", &b.schema(), &[b]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("\"gross\"")
            && msg.contains("Float64")
            && msg.contains("never floating point"),
        "{msg}"
    );
}

#[test]
fn bad_rows_are_quarantined_with_reasons() {
    let t = table("tax").unwrap();
    let b = text_batch(t, 7);
    let b = with_text(
        &b,
        "gross",
        vec![
            Some("1.005"),
            Some("abc"),
            Some("1"),
            Some("1"),
            Some("1"),
            Some("1"),
            Some("1"),
        ],
    );
    let b = with_text(
        &b,
        "period",
        vec![
            Some("2025-01"),
            Some("2025-01"),
            Some("2025-13"),
            Some("2025-01"),
            Some("2025-01"),
            Some("2025-01"),
            Some("2025-01"),
        ],
    );
    let b = with_text(
        &b,
        "income_kind",
        vec![
            Some("wage"),
            Some("wage"),
            Some("wage"),
            Some("salary"),
            Some("wage"),
            Some("wage"),
            Some("wage"),
        ],
    );
    let b = with_text(
        &b,
        "record_id",
        vec![
            Some("r1"),
            Some("r2"),
            Some("r3"),
            Some("r4"),
            Some("dup"),
            Some("dup"),
            None,
        ],
    );
    let b = with_text(
        &b,
        "name",
        vec![
            Some("a"),
            Some("b"),
            Some("c"),
            Some("d"),
            Some("e"),
            Some("f"),
            Some("g"),
        ],
    );
    let out = normalise(t, "tax.csv", &b.schema(), &[b]).unwrap();
    assert_eq!(out.accepted, 0);
    assert_eq!(out.quarantined, 7);
    let q = &out.quarantine[0];
    let reasons: Vec<&str> = column(q, "reason")
        .as_string::<i32>()
        .iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(
        reasons,
        vec![
            "bad_money",
            "bad_money",
            "bad_month",
            "unknown_code",
            "duplicate_record_id",
            "duplicate_record_id",
            "missing_value"
        ]
    );
    let rows: Vec<i64> = column(q, "row")
        .as_primitive::<Int64Type>()
        .values()
        .to_vec();
    assert_eq!(rows, vec![1, 2, 3, 4, 5, 6, 7]);
    let detail = column(q, "detail").as_string::<i32>();
    assert!(
        detail.value(0).contains("fractions of a fen"),
        "{}",
        detail.value(0)
    );
    assert!(detail.value(3).contains("salary") && detail.value(3).contains("wage (工资薪金)"));
    let raw = column(q, "raw").as_string::<i32>();
    let v: serde_json::Value = serde_json::from_str(raw.value(1)).unwrap();
    assert_eq!(v["gross"], "abc", "the raw row is kept whole");
    assert_eq!(out.reasons["bad_money"], 2);
}

#[test]
fn a_bad_id_is_not_a_quarantine_reason() {
    let t = table("hukou").unwrap();
    let b = text_batch(t, 4);
    let b = with_text(
        &b,
        "id_number",
        vec![
            Some("11010519491231002X"),
            Some("110105194912310021"),
            Some("abc"),
            None,
        ],
    );
    let out = normalise(t, "hukou.csv", &b.schema(), &[b]).unwrap();
    assert_eq!((out.accepted, out.quarantined), (4, 0));
    let status = column(&out.rows[0], "id_status").as_string::<i32>();
    assert_eq!(
        status.iter().map(Option::unwrap).collect::<Vec<_>>(),
        vec!["valid", "bad_check_digit", "bad_length", "missing"]
    );
}

#[test]
fn members_are_keyed_by_application_id_and_name() {
    let t = table("members").unwrap();
    let b = text_batch(t, 3);
    let b = with_text(
        &b,
        "application_id",
        vec![Some("A1"), Some("A1"), Some("A1")],
    );
    let b = with_text(&b, "id_number", vec![Some(ID), Some(ID), None]);
    let b = with_text(&b, "name", vec![Some("张伟"), Some("張伟"), Some("李娜")]);
    let out = normalise(t, "members.csv", &b.schema(), &[b]).unwrap();
    assert_eq!(out.quarantined, 2, "the same member declared twice");
    let rid = column(&out.rows[0], "record_id").as_string::<i32>();
    assert_eq!(rid.value(0), "A1//李娜");
}

#[test]
fn extra_columns_are_kept() {
    let t = table("vehicle").unwrap();
    let b = text_batch(t, 1);
    let mut fields: Vec<Field> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("colour", DataType::Utf8, true));
    let mut cols = b.columns().to_vec();
    cols.push(Arc::new(arrow::array::StringArray::from(vec!["红"])));
    let b = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    let out = normalise(t, "vehicle.csv", &b.schema(), &[b]).unwrap();
    assert_eq!(
        column(&out.rows[0], "extra_colour")
            .as_string::<i32>()
            .value(0),
        "红"
    );
}

#[test]
fn grades_and_shares_are_range_checked() {
    let t = table("disability").unwrap();
    let b = with_text(
        &text_batch(t, 3),
        "grade",
        vec![Some("1"), Some("5"), Some("二")],
    );
    let out = normalise(t, "disability.csv", &b.schema(), &[b]).unwrap();
    assert_eq!((out.accepted, out.reasons["out_of_range"]), (1, 2));
    let t = table("property").unwrap();
    let b = with_text(&text_batch(t, 2), "share", vec![Some("0.5"), Some("1.5")]);
    let out = normalise(t, "property.csv", &b.schema(), &[b]).unwrap();
    assert_eq!((out.accepted, out.quarantined), (1, 1));
}

#[test]
fn unknown_source_names_the_tables() {
    let err = table("taxes").unwrap_err().to_string();
    assert!(
        err.contains("taxes") && err.contains("social_insurance"),
        "{err}"
    );
}
