//! Shared data builders for hedui's benches (`cargo bench -p hedui-benches`).
//!
//! Benches build their data inside the bench, deterministically, so that a
//! figure can be reproduced anywhere; the recorded figures, the commands
//! that produced them and the machine are in `benches/README.md`.

use std::sync::Arc;

use arrow::array::{ArrayRef, Decimal128Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use hedui_model::id::check_char;

/// A deterministic sequence of valid ids (`n` of them), with a share of
/// dirty forms (lower-case x, spaces, legacy 15-digit) like real extracts.
pub fn ids(n: usize) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let r = next();
            let county = 530_300 + (r % 30) as u32;
            let year = 1940 + (r >> 8) % 80;
            let month = 1 + (r >> 16) % 12;
            let day = 1 + (r >> 24) % 28;
            let seq = (r >> 32) % 1000;
            let body = format!("{county}{year:04}{month:02}{day:02}{seq:03}");
            let c = check_char(body.as_bytes()).unwrap_or(b'0') as char;
            match i % 50 {
                0 => format!("{}{}", &body[..6], &body[8..]),
                1 => format!("{body}{c}").to_lowercase(),
                2 => format!("{} {} {c}", &body[..6], &body[6..]),
                _ => format!("{body}{c}"),
            }
        })
        .collect()
}

/// A tax extract of `n` rows as CSV text would give it (all Utf8).
pub fn tax_batch(n: usize) -> (Arc<Schema>, RecordBatch) {
    let names = [
        "张伟",
        "王芳",
        "李娜",
        "張偉",
        "刘 洋",
        "买买提•艾力",
        "陈静",
        "杨秀英",
    ];
    let ids = ids(n / 12 + 1);
    let schema = Arc::new(Schema::new(vec![
        Field::new("record_id", DataType::Utf8, false),
        Field::new("id_number", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, false),
        Field::new("period", DataType::Utf8, false),
        Field::new("income_kind", DataType::Utf8, false),
        Field::new("gross", DataType::Decimal128(18, 2), false),
        Field::new("tax_paid", DataType::Decimal128(18, 2), true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| format!("T{i:09}")),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| ids[i / 12].as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| names[(i / 12) % names.len()]),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| format!("2025-{:02}", i % 12 + 1)),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| if i % 7 == 0 { "工资薪金" } else { "wage" }),
        )),
        Arc::new(
            Decimal128Array::from_iter_values((0..n).map(|i| 300_000 + (i as i128 % 5000) * 100))
                .with_precision_and_scale(18, 2)
                .unwrap_or_else(|_| Decimal128Array::from(vec![0i128; n])),
        ),
        Arc::new(
            Decimal128Array::from_iter_values((0..n).map(|i| (i as i128 % 300) * 100))
                .with_precision_and_scale(18, 2)
                .unwrap_or_else(|_| Decimal128Array::from(vec![0i128; n])),
        ),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .unwrap_or_else(|_| RecordBatch::new_empty(schema.clone()));
    (schema, batch)
}
