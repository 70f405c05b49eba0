//! Normalising an extract: a 120,000-row tax extract (ids, names, months,
//! codes, Decimal128 money) through the one normaliser.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let n = 120_000;
    let (schema, batch) = hedui_benches::tax_batch(n);
    let batches: Vec<_> = (0..n)
        .step_by(65_536)
        .map(|o| batch.slice(o, (n - o).min(65_536)))
        .collect();
    let table = hedui_sources::table("tax").expect("tax is a contract table");
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function("normalise_tax_120k", |b| {
        b.iter(|| {
            hedui_sources::normalise(table, "bench", &schema, &batches)
                .map(|o| o.accepted)
                .unwrap_or(0)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
