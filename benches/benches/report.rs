//! The report of one large household: building it from the findings with
//! its canonical JSON (`build_sealed`), and its printable HTML page.
//!
//! Four members with twelve months of tax and social-insurance records
//! and bank holdings: some 180 links, every fifth a fuzzy one carrying the
//! matcher's whole explanation, as `hedui verify` writes for a household
//! with many records.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hedui_model::codes::{
    Assistance, HukouKind, HukouStatus, IncomeKind, MemberRelation, Scheme, SocialInsuranceKind,
};
use hedui_model::{Fen, IdNumber, Month};
use hedui_policy::{
    Findings, Holding, Household, HukouFacts, Member, PolicySet, RecordRef, SocialInsuranceFact,
    TaxFact,
};
use hedui_report::{LinkEntry, ReportInputs, SnapshotRef, build_sealed, html};
use serde_json::json;

fn date(s: &str) -> hedui_model::Date {
    hedui_model::time::parse_date(s).unwrap()
}

fn member(name: &str, birth: &str, seq: u32, relation: MemberRelation) -> Member {
    let id = IdNumber::from_body(&format!("530302{birth}{seq:03}"))
        .unwrap()
        .as_str()
        .to_owned();
    let mut m = Member::new(id.clone(), name, relation);
    m.hukou = Some(HukouFacts {
        name: name.to_owned(),
        status: HukouStatus::Active,
        status_date: None,
        hukou_kind: Some(HukouKind::Urban),
        birth_date: None,
        gender: None,
        record: RecordRef::new("hukou", format!("h-{}", &id[14..])),
    });
    m
}

fn household() -> Household {
    let window = Month::window_before(date("2026-03-15"), 12);
    let mut members = vec![
        member("张伟", "19580520", 11, MemberRelation::Applicant),
        member("李娜", "19720808", 22, MemberRelation::Spouse),
        member("张小明", "20140110", 33, MemberRelation::Child),
        member("张丽", "19990110", 34, MemberRelation::Child),
    ];
    for (k, m) in members.iter_mut().enumerate() {
        let short = m.id_number[14..].to_owned();
        for (i, &period) in window.iter().enumerate() {
            for j in 0..2 {
                let n = m.social_insurance.len();
                m.social_insurance.push(SocialInsuranceFact {
                    period,
                    kind: SocialInsuranceKind::Pension,
                    scheme: Some(Scheme::Employee),
                    base: None,
                    amount: Fen::yuan(300 + j),
                    record: RecordRef::new("social_insurance", format!("s-{short}-{period}-{n}")),
                });
            }
            if k != 2 && i % 3 != 0 {
                for j in 0..2 {
                    let n = m.tax.len();
                    m.tax.push(TaxFact {
                        period,
                        kind: IncomeKind::Wage,
                        gross: Fen::yuan(900 + j),
                        tax_paid: Some(Fen::ZERO),
                        record: RecordRef::new("tax", format!("t-{short}-{period}-{n}")),
                    });
                }
            }
        }
        for b in 0..5 {
            m.assets.bank.push(Holding {
                value: Some(Fen::yuan(100 + b)),
                record: RecordRef::new("bank", format!("b-{k}-{b}")),
            });
        }
    }
    Household {
        application_id: "APP-2026-0099".to_owned(),
        region_code: "530302".to_owned(),
        hukou_kind: Some(HukouKind::Urban),
        assistance: Assistance::Dibao,
        applied_on: date("2026-03-15"),
        members,
    }
}

/// A link for every record; every fifth a fuzzy one with its evidence.
fn links(h: &Household) -> Vec<LinkEntry> {
    let mut out = Vec::new();
    for m in &h.members {
        let records = m
            .hukou
            .iter()
            .map(|x| &x.record)
            .chain(m.tax.iter().map(|x| &x.record))
            .chain(m.social_insurance.iter().map(|x| &x.record))
            .chain(m.assets.bank.iter().map(|x| &x.record));
        for r in records {
            let fuzzy = out.len() % 5 == 1;
            out.push(LinkEntry {
                source: r.source.clone(),
                record_id: r.record_id.clone(),
                member: m.id_number.clone(),
                method: if fuzzy { "fuzzy" } else { "exact" }.to_owned(),
                score: if fuzzy { 0.879_547_123 } else { 1.0 },
                counted: true,
                evidence: if fuzzy {
                    json!({
                        "fields": {"name": ["exact", 0.926], "birth_date": ["transposition", 1.5], "context": ["absent", -1.585]},
                        "id": null, "id_relation": "missing", "others": 0.0, "outside": 0.1205, "prior": -1.0145, "weight": -1.6735,
                        "person": {"birth_date": "1984-10-10", "id": m.id_number, "name": m.declared_name, "pinyin": "zhang wei"},
                        "record": {"context": "915303020000000077", "id_status": "missing", "name": m.declared_name, "pinyin": "zhang wei"},
                    })
                } else {
                    json!({"id_relation": "equal"})
                },
            });
        }
    }
    out
}

fn inputs() -> ReportInputs {
    ReportInputs {
        snapshots: ["tax", "social_insurance", "hukou", "bank"]
            .iter()
            .enumerate()
            .map(|(i, s)| SnapshotRef {
                source: (*s).to_owned(),
                id: blake3::hash(&[i as u8]).to_hex().to_string(),
                as_of: date("2026-03-01"),
            })
            .collect(),
        matcher_hash: blake3::hash(b"matcher settings").to_hex().to_string(),
        engine_version: "0.1.0".to_owned(),
    }
}

fn bench(c: &mut Criterion) {
    let h = household();
    let findings: Findings = hedui_policy::check(&PolicySet::reference(), &h).unwrap();
    let links = links(&h);
    let inputs = inputs();
    let (report, json) = build_sealed(&findings, links.clone(), &inputs);
    let page = html(&report);

    let mut g = c.benchmark_group("report");
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("build_sealed_180_links", |b| {
        b.iter_batched(
            || links.clone(),
            |links| build_sealed(&findings, links, &inputs).1.len(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.throughput(Throughput::Bytes(page.len() as u64));
    g.bench_function("html_180_links", |b| b.iter(|| html(&report).len()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
