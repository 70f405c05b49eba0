//! Parsing what departments send: ids, names, money.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hedui_model::{Fen, IdNumber, PersonName};

fn bench(c: &mut Criterion) {
    let ids = hedui_benches::ids(10_000);
    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(ids.len() as u64));
    g.bench_function("id_parse_10k", |b| {
        b.iter(|| {
            ids.iter()
                .filter(|s| IdNumber::parse(s).id().is_some())
                .count()
        })
    });
    let names = [
        "张伟",
        "張偉",
        "买买提•艾力",
        "欧阳 娜娜",
        "ＷＡＮＧ",
        "尉迟恭",
        "李秀英",
        "單雄信",
    ];
    let many: Vec<&str> = (0..10_000).map(|i| names[i % names.len()]).collect();
    g.bench_function("name_normalise_10k", |b| {
        b.iter(|| {
            many.iter()
                .map(|n| PersonName::new(n).pinyin().len())
                .sum::<usize>()
        })
    });
    let money: Vec<String> = (0..10_000)
        .map(|i| format!("{}.{:02}", i * 37, i % 100))
        .collect();
    g.bench_function("fen_parse_10k", |b| {
        b.iter(|| {
            money
                .iter()
                .map(|m| Fen::parse_yuan(m).map(|f| f.0).unwrap_or(0))
                .sum::<i64>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
