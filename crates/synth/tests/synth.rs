//! Integration tests of `hedui-synth`: one binary, one module per area.
//!
//! Two cities are generated once and shared: a small one (2,000 persons,
//! with CSV) and a medium one (20,000 persons) for rates and traps.

mod common {
    use std::collections::HashMap;
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use arrow::array::{Array, AsArray, RecordBatch};
    use arrow::compute::concat_batches;
    use hedui_synth::{CityConfig, CitySummary, generate};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    pub(crate) const SMALL_PERSONS: usize = 2_000;
    pub(crate) const MEDIUM_PERSONS: usize = 20_000;

    fn city_dir(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
    }

    /// The small city: 2,000 persons, seed 11, with CSV.
    pub(crate) fn small() -> &'static CitySummary {
        static CITY: OnceLock<CitySummary> = OnceLock::new();
        CITY.get_or_init(|| {
            let mut cfg = CityConfig::new(SMALL_PERSONS, 11);
            cfg.csv = true;
            let dir = city_dir("synth-small");
            let _ = std::fs::remove_dir_all(&dir);
            generate(&cfg, &dir, &|_| {}).expect("small city")
        })
    }

    /// The medium city: 20,000 persons, seed 5.
    pub(crate) fn medium() -> &'static CitySummary {
        static CITY: OnceLock<CitySummary> = OnceLock::new();
        CITY.get_or_init(|| {
            let cfg = CityConfig::new(MEDIUM_PERSONS, 5);
            let dir = city_dir("synth-medium");
            let _ = std::fs::remove_dir_all(&dir);
            generate(&cfg, &dir, &|_| {}).expect("medium city")
        })
    }

    /// A whole Parquet file as one batch.
    pub(crate) fn read(path: &Path) -> RecordBatch {
        let f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let builder = ParquetRecordBatchReaderBuilder::try_new(f).expect("parquet");
        let schema = builder.schema().clone();
        let batches: Vec<RecordBatch> = builder
            .build()
            .expect("reader")
            .collect::<Result<_, _>>()
            .expect("batches");
        concat_batches(&schema, &batches).expect("concat")
    }

    pub(crate) fn table(city: &CitySummary, name: &str) -> RecordBatch {
        read(
            &city
                .parquet_path(name)
                .unwrap_or_else(|| panic!("no table {name}")),
        )
    }

    pub(crate) fn strings(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
        let a = b
            .column_by_name(col)
            .unwrap_or_else(|| panic!("no column {col}"))
            .as_string::<i32>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i).to_owned()))
            .collect()
    }

    pub(crate) fn required(b: &RecordBatch, col: &str) -> Vec<String> {
        strings(b, col)
            .into_iter()
            .map(|s| s.unwrap_or_else(|| panic!("null in {col}")))
            .collect()
    }

    pub(crate) fn dates(b: &RecordBatch, col: &str) -> Vec<Option<hedui_model::Date>> {
        let a = b
            .column_by_name(col)
            .unwrap_or_else(|| panic!("no column {col}"))
            .as_primitive::<arrow::datatypes::Date32Type>();
        let epoch = hedui_model::Date::from_ymd_opt(1970, 1, 1).unwrap();
        (0..a.len())
            .map(|i| {
                a.is_valid(i)
                    .then(|| epoch + chrono::Duration::days(i64::from(a.value(i))))
            })
            .collect()
    }

    /// Truth persons by id.
    pub(crate) struct Person {
        pub(crate) name: String,
        pub(crate) birth: hedui_model::Date,
        pub(crate) region: String,
        pub(crate) in_hukou: bool,
        pub(crate) twin_of: Option<String>,
        pub(crate) gender: String,
    }

    pub(crate) fn persons(city: &CitySummary) -> HashMap<String, Person> {
        let b = table(city, "truth/persons");
        let keys = required(&b, "person_key");
        let names = required(&b, "name");
        let births = dates(&b, "birth_date");
        let regions = strings(&b, "region_code");
        let twins = strings(&b, "twin_of");
        let genders = required(&b, "gender");
        let in_hukou = b.column_by_name("in_hukou").unwrap().as_boolean().clone();
        let mut out = HashMap::new();
        for i in 0..keys.len() {
            let prev = out.insert(
                keys[i].clone(),
                Person {
                    name: names[i].clone(),
                    birth: births[i].unwrap(),
                    region: regions[i].clone().unwrap_or_default(),
                    in_hukou: in_hukou.value(i),
                    twin_of: twins[i].clone(),
                    gender: genders[i].clone(),
                },
            );
            assert!(prev.is_none(), "person {} twice in truth", keys[i]);
        }
        out
    }

    pub(crate) const EXTRACTS: [&str; 14] = [
        "hukou",
        "death",
        "tax",
        "social_insurance",
        "housing_fund",
        "property",
        "vehicle",
        "bank",
        "securities",
        "insurance",
        "business",
        "disability",
        "expense",
        "staff",
    ];
}

mod determinism {
    use std::collections::BTreeMap;
    use std::path::Path;

    use hedui_synth::{CityConfig, generate};

    fn hashes(dir: &Path) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    let bytes = std::fs::read(&p).unwrap();
                    out.insert(rel, blake3::hash(&bytes).to_hex().to_string());
                }
            }
        }
        out
    }

    fn run(cfg: &CityConfig, threads: usize) -> (tempfile::TempDir, hedui_synth::CitySummary) {
        let dir = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let s = pool.install(|| generate(cfg, dir.path(), &|_| {}).unwrap());
        (dir, s)
    }

    /// The same configuration gives the same bytes in every file, on one
    /// thread or three.
    #[test]
    fn same_config_same_bytes_on_any_thread_count() {
        let mut cfg = CityConfig::new(2_000, 99);
        cfg.csv = true;
        let (a, sa) = run(&cfg, 1);
        let (b, sb) = run(&cfg, 3);
        let ha = hashes(a.path());
        let hb = hashes(b.path());
        assert_eq!(ha.len(), 2 * 22 + 1, "files: {:?}", ha.keys());
        assert_eq!(ha, hb);
        assert_eq!(sa.tables, sb.tables);
        // The summary's hashes are the files' hashes.
        for t in &sa.tables {
            assert_eq!(ha[&t.parquet.path], t.parquet.blake3, "{}", t.table);
            let csv = t.csv.as_ref().expect("csv written");
            assert_eq!(ha[&csv.path], csv.blake3);
        }
    }

    #[test]
    fn another_seed_is_another_city() {
        let (a, _) = run(&CityConfig::new(300, 1), 2);
        let (b, _) = run(&CityConfig::new(300, 2), 2);
        let ha = hashes(a.path());
        let hb = hashes(b.path());
        assert_ne!(
            ha["extracts/hukou.parquet"], hb["extracts/hukou.parquet"],
            "two seeds gave the same registry"
        );
    }

    #[test]
    fn tiny_and_empty_cities_work() {
        for n in [0, 1, 5, 40] {
            let (_d, s) = run(&CityConfig::new(n, 3), 2);
            assert_eq!(s.persons, n);
            assert_eq!(s.rows("truth/persons"), Some(n as u64));
        }
    }

    #[test]
    fn bad_config_is_refused_with_reason() {
        let mut cfg = CityConfig::new(10, 1);
        cfg.months = 6;
        let dir = tempfile::tempdir().unwrap();
        let err = generate(&cfg, dir.path(), &|_| {}).unwrap_err();
        assert!(err.to_string().contains("months"), "{err}");
    }
}

mod identities {
    use std::collections::{HashMap, HashSet};

    use hedui_model::name::{normalise, pinyin_syllables};
    use hedui_model::{IdForm, IdNumber};
    use hedui_synth::NoiseKind;

    use crate::common::{EXTRACTS, medium, persons, required, small, strings, table};

    #[test]
    fn every_hukou_id_is_valid_and_unique() {
        for city in [small(), medium()] {
            let b = table(city, "extracts/hukou");
            let ids = strings(&b, "id_number");
            let mut seen = HashSet::new();
            for id in ids {
                let id = id.expect("hukou ids are never null");
                let parsed = IdNumber::parse(&id);
                assert_eq!(parsed.status_code(), "valid", "{id}");
                assert!(seen.insert(id.clone()), "duplicate hukou id {id}");
            }
            let truth = persons(city);
            assert_eq!(truth.len(), city.persons);
            for (id, p) in &truth {
                let parsed = IdNumber::parse_valid(id).expect("truth ids are valid");
                assert_eq!(parsed.birth_date(), p.birth, "{id}");
                let female = matches!(parsed.gender(), hedui_model::IdGender::Female);
                assert_eq!(female, p.gender == "female", "{id}");
                assert_eq!(p.in_hukou, seen.contains(id), "{id}");
            }
        }
    }

    /// Every department record's truth names a real person, and the id and
    /// name the department wrote are what the noise code says.
    #[test]
    fn every_record_names_a_real_person_with_the_noise_truth_says() {
        let city = small();
        let truth_persons = persons(city);
        let t = table(city, "truth/records");
        let sources = required(&t, "source");
        let rids = required(&t, "record_id");
        let keys = strings(&t, "person_key");
        let noise = required(&t, "noise");
        let name_keys = strings(&t, "name_key");
        let mut written: HashMap<(String, String), (Option<String>, String)> = HashMap::new();
        for src in EXTRACTS {
            let b = table(city, &format!("extracts/{src}"));
            let r = required(&b, "record_id");
            let ids = strings(&b, "id_number");
            let names = required(&b, "name");
            let mut seen = HashSet::new();
            for i in 0..r.len() {
                assert!(seen.insert(r[i].clone()), "{src}: record_id {} twice", r[i]);
                written.insert(
                    (src.to_owned(), r[i].clone()),
                    (ids[i].clone(), names[i].clone()),
                );
            }
        }
        assert_eq!(written.len(), rids.len(), "one truth row per record");
        let mut seen_kinds = HashSet::new();
        for i in 0..rids.len() {
            let key = keys[i].as_deref().expect("every record has its person");
            let p = truth_persons
                .get(key)
                .unwrap_or_else(|| panic!("{} names no person", rids[i]));
            let (id, name) = &written[&(sources[i].clone(), rids[i].clone())];
            let kind = NoiseKind::parse(&noise[i]).expect("a known noise code");
            seen_kinds.insert(kind);
            if sources[i] == "hukou" {
                assert_eq!(kind, NoiseKind::None);
            }
            let parsed = id.as_deref().map(IdNumber::parse);
            let id_is = |expect: &str| {
                let got = parsed.as_ref().and_then(|p| p.id()).map(|x| x.to_string());
                assert_eq!(got.as_deref(), Some(expect), "{kind:?} {id:?}");
            };
            match kind {
                NoiseKind::None => {
                    assert_eq!(id.as_deref(), Some(key));
                    assert_eq!(name, &p.name);
                }
                NoiseKind::Legacy15 => {
                    assert_eq!(id.as_ref().unwrap().len(), 15);
                    let pr = parsed.as_ref().unwrap();
                    assert!(matches!(pr.result, Ok((_, IdForm::Upgraded))));
                    id_is(key);
                }
                NoiseKind::LowerX => {
                    assert!(id.as_ref().unwrap().ends_with('x'));
                    id_is(key);
                }
                NoiseKind::Fullwidth | NoiseKind::Spaces => {
                    assert_ne!(id.as_deref(), Some(key));
                    id_is(key);
                }
                NoiseKind::TypoDigit | NoiseKind::Transposition | NoiseKind::TrapTwin => {
                    assert!(
                        parsed.as_ref().unwrap().id().is_none(),
                        "{kind:?} {id:?} valid"
                    );
                }
                NoiseKind::MissingId => assert!(id.is_none()),
                NoiseKind::Traditional | NoiseKind::MiddleDot | NoiseKind::NameSpaces => {
                    assert_ne!(name, &p.name, "{kind:?}");
                    assert_eq!(normalise(name), normalise(&p.name), "{kind:?} {name}");
                    assert_eq!(id.as_deref(), Some(key));
                }
                NoiseKind::Homophone => {
                    assert_ne!(normalise(name), normalise(&p.name));
                    assert_eq!(
                        pinyin_syllables(&normalise(name)),
                        pinyin_syllables(&normalise(&p.name)),
                        "{name} / {}",
                        p.name
                    );
                }
                NoiseKind::SwappedName => {
                    let other = name_keys[i]
                        .as_deref()
                        .expect("name_key of a swapped record");
                    assert_ne!(other, key);
                    assert_eq!(name, &truth_persons[other].name);
                    assert_eq!(id.as_deref(), Some(key));
                }
            }
            if kind != NoiseKind::SwappedName {
                assert!(name_keys[i].is_none());
            }
        }
        for k in [
            NoiseKind::None,
            NoiseKind::Legacy15,
            NoiseKind::TypoDigit,
            NoiseKind::MissingId,
            NoiseKind::Traditional,
            NoiseKind::SwappedName,
        ] {
            assert!(seen_kinds.contains(&k), "no {k:?} record in the small city");
        }
    }
}

mod noise_rates {
    use std::collections::HashMap;

    use hedui_synth::NoiseKind;

    use crate::common::{medium, required, table};

    /// Each kind is applied at its configured rate among the records it
    /// applies to, and truth counts what the summary says.
    #[test]
    fn rates_are_within_tolerance_and_truth_agrees() {
        let city = medium();
        let t = table(city, "truth/records");
        let sources = required(&t, "source");
        let noise = required(&t, "noise");
        let mut counted: HashMap<String, u64> = HashMap::new();
        for (s, n) in sources.iter().zip(&noise) {
            if s != "hukou" {
                *counted.entry(n.clone()).or_default() += 1;
            }
        }
        let base = city.noise[0].eligible;
        assert!(base > 500_000, "records: {base}");
        for c in &city.noise {
            assert_eq!(
                counted.get(c.kind.code()).copied().unwrap_or(0),
                c.applied,
                "{:?}",
                c.kind
            );
            if c.kind == NoiseKind::None {
                continue;
            }
            assert!(c.eligible > 0, "{:?} applies to nothing", c.kind);
            let p = f64::from(c.rate_ppm) / 1e6;
            let expected = c.eligible as f64 * p;
            let sd = (expected * (1.0 - p)).sqrt();
            let diff = (c.applied as f64 - expected).abs();
            assert!(
                diff <= 5.0 * sd + 2.0,
                "{:?}: {} of {} eligible, expected {expected:.0} ± {sd:.1}",
                c.kind,
                c.applied,
                c.eligible
            );
        }
        // Kinds that apply to every record.
        for c in &city.noise {
            if matches!(
                c.kind,
                NoiseKind::Fullwidth
                    | NoiseKind::Spaces
                    | NoiseKind::TypoDigit
                    | NoiseKind::Transposition
                    | NoiseKind::MissingId
            ) {
                assert_eq!(c.eligible, base, "{:?}", c.kind);
            }
        }
        // Chinese labels on about 2 % of rows.
        let rows: u64 = city
            .tables
            .iter()
            .filter(|t| !t.table.starts_with("truth/"))
            .map(|t| t.rows)
            .sum();
        let share = city.labelled_rows as f64 / rows as f64;
        assert!((0.017..0.023).contains(&share), "labelled share {share}");
    }
}

mod traps {
    use std::collections::HashSet;

    use hedui_model::IdNumber;

    use crate::common::{medium, persons, required, strings, table};

    /// Trap twins: different persons, same name, gender, birth date and
    /// district, both registered, valid ids one body digit apart.
    #[test]
    fn twins_are_valid_near_identical_different_persons() {
        let city = medium();
        assert!(city.twin_pairs >= 10, "pairs: {}", city.twin_pairs);
        let ps = persons(city);
        let hukou = table(city, "extracts/hukou");
        let registered: HashSet<String> = required(&hukou, "id_number").into_iter().collect();
        let mut pairs = 0;
        for (id, p) in &ps {
            let Some(t) = &p.twin_of else { continue };
            let q = &ps[t];
            assert_eq!(
                q.twin_of.as_deref(),
                Some(id.as_str()),
                "twin_of is symmetric"
            );
            assert_ne!(id, t);
            assert_eq!(p.name, q.name);
            assert_eq!(p.birth, q.birth);
            assert_eq!(p.region, q.region);
            assert_eq!(p.gender, q.gender);
            assert!(IdNumber::parse_valid(id).is_ok() && IdNumber::parse_valid(t).is_ok());
            assert!(registered.contains(id) && registered.contains(t));
            let diff = id
                .bytes()
                .zip(t.bytes())
                .take(17)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(diff, 1, "{id} / {t}");
            assert_eq!(&id[..6], &p.region, "born where registered");
            pairs += 1;
        }
        assert_eq!(pairs, 2 * city.twin_pairs);
        // Their typed-as-the-twin records exist.
        let t = table(city, "truth/records");
        let noise = required(&t, "noise");
        assert!(noise.iter().any(|n| n == "trap_twin"));
        // And common names collide anyway: some name has several holders
        // born the same year in the same district.
        let mut groups: std::collections::HashMap<(String, i32, String), u32> = Default::default();
        for p in ps.values() {
            *groups
                .entry((
                    p.name.clone(),
                    chrono::Datelike::year(&p.birth),
                    p.region.clone(),
                ))
                .or_default() += 1;
        }
        let max = groups.values().max().copied().unwrap_or(0);
        assert!(
            max >= 3,
            "largest same-name same-year same-district group: {max}"
        );
        let names = strings(&hukou, "name");
        assert!(
            names.iter().flatten().any(|n| n.contains('·')),
            "minority names with a middle dot"
        );
    }
}

mod requests {
    use std::collections::{HashMap, HashSet};

    use chrono::Datelike;
    use hedui_model::codes::{Assistance, MemberRelation};
    use hedui_model::{CodeList, IdNumber, Month};

    use crate::common::{dates, medium, persons, required, small, strings, table};

    #[test]
    fn requests_reference_existing_persons_and_covered_windows() {
        for city in [small(), medium()] {
            let ps = persons(city);
            let apps = table(city, "requests/applications");
            let ids = required(&apps, "application_id");
            let applied = dates(&apps, "applied_on");
            let auth = required(&apps, "authorization_ref");
            let assistance = required(&apps, "assistance");
            assert_eq!(ids.len(), city.requests);
            assert!(city.requests >= 20);
            let unique: HashSet<&String> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "application ids are unique");
            let first = Month::parse(&city.history.0).unwrap();
            for i in 0..ids.len() {
                let d = applied[i].unwrap();
                assert!(d <= city.as_of);
                let window = Month::window_before(d, 12);
                assert!(
                    window[0] >= first,
                    "{} window starts before the history",
                    ids[i]
                );
                let a = &auth[i];
                assert!(
                    a.len() == 14
                        && a.starts_with("SQ-")
                        && a[3..7].parse::<i32>().unwrap() == d.year(),
                    "{a}"
                );
                assert!(Assistance::parse(&assistance[i]).is_some());
            }
            let truth = table(city, "truth/requests");
            let scenario: HashMap<String, (String, Option<String>)> =
                required(&truth, "application_id")
                    .into_iter()
                    .zip(
                        required(&truth, "scenario")
                            .into_iter()
                            .zip(strings(&truth, "scenario_member")),
                    )
                    .collect();
            let members = table(city, "requests/members");
            let app = required(&members, "application_id");
            let mid = strings(&members, "id_number");
            let rel = required(&members, "relation");
            let mut applicants: HashMap<&str, u32> = HashMap::new();
            for i in 0..app.len() {
                assert!(unique.contains(&app[i]), "member of an unknown application");
                let r = MemberRelation::parse(&rel[i]).expect("a relation code");
                if r == MemberRelation::Applicant {
                    *applicants.entry(&app[i]).or_default() += 1;
                }
                let id = mid[i].as_deref().unwrap();
                match IdNumber::parse_valid(id) {
                    Ok(v) => assert!(ps.contains_key(v.as_str()), "{id} is nobody"),
                    Err(_) => assert_eq!(scenario[&app[i]].0, "typo_id", "{id} invalid"),
                }
            }
            for a in &ids {
                assert_eq!(applicants.get(a.as_str()), Some(&1), "{a}: one applicant");
            }
            if city.persons == crate::common::MEDIUM_PERSONS {
                let cats: HashSet<String> = required(&truth, "category").into_iter().collect();
                for c in [
                    "dibao",
                    "low_income",
                    "rigid_expense",
                    "single_person",
                    "tekun",
                    "hidden_assets",
                    "better_off",
                ] {
                    assert!(cats.contains(c), "no request of category {c}");
                }
            }
            // Some declared member is registered as a staff relative.
            let staff = table(city, "extracts/staff");
            let staff_ids: HashSet<String> =
                strings(&staff, "id_number").into_iter().flatten().collect();
            assert!(
                mid.iter().flatten().any(|id| staff_ids.contains(id)),
                "no request declares a staff relative"
            );
            let scen: HashSet<&str> = scenario.values().map(|s| s.0.as_str()).collect();
            for s in [
                "typo_id",
                "name_homophone",
                "dead_member",
                "moved_out_member",
                "omitted_member",
            ] {
                assert!(scen.contains(s), "no request with scenario {s}");
            }
        }
    }

    #[test]
    fn roster_households_are_current_recipients() {
        let city = medium();
        let ps = persons(city);
        let h = table(city, "roster/roster_households");
        let ids = required(&h, "household_id");
        assert!(!ids.is_empty());
        let assistance = required(&h, "assistance");
        let since = dates(&h, "since");
        let applied = dates(&h, "applied_on");
        let mut kinds = HashSet::new();
        for i in 0..ids.len() {
            let a = Assistance::parse(&assistance[i]).expect("an assistance code");
            kinds.insert(a.code());
            assert!(applied[i].unwrap() <= since[i].unwrap());
            assert!(since[i].unwrap() <= city.as_of);
        }
        for k in ["dibao", "tekun", "monitored"] {
            assert!(kinds.contains(k), "no roster household receiving {k}");
        }
        let m = table(city, "roster/roster_members");
        let mut members = HashSet::new();
        for id in strings(&m, "id_number") {
            let id = id.unwrap();
            assert!(ps.contains_key(&id), "roster member {id} is nobody");
            members.insert(id);
        }
        // Monitoring has something to catch: recent deaths of recipients.
        let death = table(city, "extracts/death");
        let died = dates(&death, "death_date");
        let recent = strings(&death, "id_number")
            .into_iter()
            .zip(died)
            .filter(|(id, d)| {
                id.as_ref().is_some_and(|i| members.contains(i))
                    && d.is_some_and(|d| (city.as_of - d).num_days() < 90)
            })
            .count();
        assert!(recent > 0, "no roster member died recently");
    }
}

mod schemas {
    use arrow::datatypes::DataType;

    use crate::common::{EXTRACTS, read, small};

    const MONEY: DataType = DataType::Decimal128(18, 2);

    /// The columns of `spec/contract.md`, written out here independently of
    /// the generator.
    fn contract(table: &str) -> Vec<(&'static str, DataType)> {
        use DataType::{Date32 as D, Float64 as F, Int32 as I, Utf8 as S};
        let common = [("record_id", S), ("id_number", S), ("name", S)];
        let rest: Vec<(&str, DataType)> = match table {
            "hukou" => vec![
                ("gender", S),
                ("birth_date", D),
                ("hukou_no", S),
                ("relation", S),
                ("region_code", S),
                ("hukou_kind", S),
                ("status", S),
                ("status_date", D),
            ],
            "death" => vec![("death_date", D), ("kind", S)],
            "tax" => vec![
                ("period", S),
                ("income_kind", S),
                ("gross", MONEY),
                ("tax_paid", MONEY),
                ("payer_code", S),
                ("payer_name", S),
            ],
            "social_insurance" => vec![
                ("period", S),
                ("kind", S),
                ("insurance", S),
                ("scheme", S),
                ("base", MONEY),
                ("amount", MONEY),
                ("employer_code", S),
                ("employer_name", S),
            ],
            "housing_fund" => vec![
                ("period", S),
                ("base", MONEY),
                ("deposit", MONEY),
                ("balance", MONEY),
                ("employer_code", S),
                ("employer_name", S),
            ],
            "property" => vec![
                ("certificate_no", S),
                ("usage", S),
                ("area_m2", F),
                ("share", F),
                ("address", S),
                ("region_code", S),
                ("registered_on", D),
                ("cancelled_on", D),
                ("assessed_value", MONEY),
            ],
            "vehicle" => vec![
                ("plate_no", S),
                ("vehicle_kind", S),
                ("registered_on", D),
                ("deregistered_on", D),
                ("value", MONEY),
            ],
            "bank" => vec![
                ("institution", S),
                ("account_kind", S),
                ("balance", MONEY),
                ("as_of", D),
            ],
            "securities" => vec![("institution", S), ("market_value", MONEY), ("as_of", D)],
            "insurance" => vec![
                ("insurer", S),
                ("policy_no", S),
                ("cash_value", MONEY),
                ("annual_premium", MONEY),
                ("as_of", D),
            ],
            "business" => vec![
                ("role", S),
                ("entity_name", S),
                ("credit_code", S),
                ("registered_capital", MONEY),
                ("status", S),
                ("established_on", D),
            ],
            "disability" => vec![
                ("category", S),
                ("grade", I),
                ("issued_on", D),
                ("valid_until", D),
            ],
            "expense" => vec![
                ("category", S),
                ("amount", MONEY),
                ("date", D),
                ("provider", S),
            ],
            "staff" => vec![("staff_name", S), ("staff_unit", S), ("relation", S)],
            "applications" => {
                return vec![
                    ("application_id", S),
                    ("region_code", S),
                    ("hukou_kind", S),
                    ("assistance", S),
                    ("applied_on", D),
                    ("authorization_ref", S),
                ];
            }
            "members" => {
                return vec![
                    ("application_id", S),
                    ("id_number", S),
                    ("name", S),
                    ("relation", S),
                ];
            }
            "roster_households" => {
                return vec![
                    ("household_id", S),
                    ("region_code", S),
                    ("hukou_kind", S),
                    ("assistance", S),
                    ("applied_on", D),
                    ("authorization_ref", S),
                    ("since", D),
                    ("monthly_benefit", MONEY),
                ];
            }
            "roster_members" => {
                return vec![
                    ("household_id", S),
                    ("id_number", S),
                    ("name", S),
                    ("relation", S),
                ];
            }
            other => panic!("no contract table {other}"),
        };
        common.into_iter().chain(rest).collect()
    }

    #[test]
    fn every_table_has_the_contract_columns_and_types() {
        let city = small();
        let mut tables: Vec<String> = EXTRACTS.iter().map(|e| format!("extracts/{e}")).collect();
        for t in ["requests/applications", "requests/members"] {
            tables.push(t.to_owned());
        }
        for t in ["roster/roster_households", "roster/roster_members"] {
            tables.push(t.to_owned());
        }
        for name in tables {
            let b = read(&city.parquet_path(&name).unwrap());
            let stem = name.split('/').nth(1).unwrap();
            let got: Vec<(String, DataType)> = b
                .schema()
                .fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect();
            let want: Vec<(String, DataType)> = contract(stem)
                .into_iter()
                .map(|(n, t)| (n.to_owned(), t))
                .collect();
            assert_eq!(got, want, "{name}");
            assert_eq!(Some(b.num_rows() as u64), city.rows(&name), "{name}");
            assert!(b.num_rows() > 0, "{name} is empty");
            let schema = hedui_synth::schema_of(&name).unwrap();
            assert_eq!(schema.fields().len(), got.len());
        }
        // Extract metadata travels in the Parquet schema.
        let b = read(&city.parquet_path("extracts/tax").unwrap());
        let meta = b.schema().metadata().clone();
        assert_eq!(meta.get("hedui.source").map(String::as_str), Some("tax"));
        assert_eq!(
            meta.get("hedui.as_of").map(String::as_str),
            Some("2026-06-30")
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(city.out.join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["seed"], 11);
        assert_eq!(manifest["extracts"].as_array().unwrap().len(), 14);
        assert_eq!(
            manifest["counts"]["extracts/tax"],
            city.rows("extracts/tax").unwrap()
        );
    }

    fn is_money(s: &str) -> bool {
        let s = s.strip_prefix('-').unwrap_or(s);
        matches!(s.split_once('.'), Some((i, f)) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) && f.len() == 2 && f.bytes().all(|b| b.is_ascii_digit()))
    }

    fn is_date(s: &str) -> bool {
        hedui_model::time::parse_date(s).is_ok()
    }

    /// CSV beside Parquet: header row, money `1234.50`, dates `YYYY-MM-DD`.
    #[test]
    fn csv_is_formatted_as_the_contract_says() {
        let city = small();
        for t in &city.tables {
            let csv = t.csv.as_ref().expect("the small city has CSV");
            let text = std::fs::read_to_string(city.out.join(&csv.path)).unwrap();
            let mut reader = csv_lines(&text);
            let header = reader.remove(0);
            let schema = hedui_synth::schema_of(&t.table).unwrap();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert_eq!(header, names, "{}", t.table);
            assert_eq!(reader.len() as u64, t.rows, "{}", t.table);
            for row in reader.iter().take(500) {
                for (k, f) in schema.fields().iter().enumerate() {
                    let v = &row[k];
                    if v.is_empty() {
                        continue;
                    }
                    match f.data_type() {
                        DataType::Decimal128(..) => assert!(is_money(v), "{}: {v}", t.table),
                        DataType::Date32 => assert!(is_date(v), "{}: {v}", t.table),
                        _ => {}
                    }
                    if f.name() == "period" {
                        assert!(hedui_model::Month::parse(v).is_ok(), "{v}");
                    }
                }
            }
        }
    }

    /// A minimal CSV splitter (quoted fields with commas, no newlines).
    fn csv_lines(text: &str) -> Vec<Vec<String>> {
        text.lines()
            .map(|line| {
                let mut out = Vec::new();
                let mut cur = String::new();
                let mut quoted = false;
                let mut chars = line.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '"' if quoted && chars.peek() == Some(&'"') => {
                            cur.push('"');
                            chars.next();
                        }
                        '"' => quoted = !quoted,
                        ',' if !quoted => out.push(std::mem::take(&mut cur)),
                        c => cur.push(c),
                    }
                }
                out.push(cur);
                out
            })
            .collect()
    }
}

mod realism {
    use std::collections::HashMap;

    use hedui_model::CodeList;
    use hedui_model::codes::{HukouStatus, IncomeKind};

    use crate::common::{dates, medium, required, strings, table};

    #[test]
    fn codes_are_english_with_a_few_chinese_labels_that_parse() {
        let city = medium();
        let tax = table(city, "extracts/tax");
        let kinds = required(&tax, "income_kind");
        let mut zh = 0;
        for k in &kinds {
            assert!(IncomeKind::parse(k).is_some(), "{k}");
            zh += usize::from(!k.is_ascii());
        }
        let share = zh as f64 / kinds.len() as f64;
        assert!((0.01..0.03).contains(&share), "labelled {share}");
        let mut by_kind: HashMap<&str, usize> = HashMap::new();
        for k in &kinds {
            *by_kind
                .entry(IncomeKind::parse(k).unwrap().code())
                .or_default() += 1;
        }
        for k in ["wage", "labour", "business", "rent", "interest"] {
            assert!(by_kind.contains_key(k), "no {k} income");
        }
    }

    #[test]
    fn the_registry_has_deaths_moves_and_lagging_records() {
        let city = medium();
        let hukou = table(city, "extracts/hukou");
        let ids = required(&hukou, "id_number");
        let status: Vec<HukouStatus> = required(&hukou, "status")
            .iter()
            .map(|s| HukouStatus::parse(s).unwrap())
            .collect();
        let status_dates = dates(&hukou, "status_date");
        let n = ids.len() as f64;
        let count = |s: HukouStatus| status.iter().filter(|x| **x == s).count() as f64 / n;
        assert!(count(HukouStatus::Active) > 0.9);
        assert!(count(HukouStatus::Deceased) > 0.005);
        assert!(count(HukouStatus::MovedOut) > 0.002);
        for i in 0..ids.len() {
            if status[i] != HukouStatus::Active {
                assert!(status_dates[i].is_some(), "{}", ids[i]);
            }
        }
        // Death records of persons the registry still shows as active.
        let active: std::collections::HashSet<&String> = ids
            .iter()
            .zip(&status)
            .filter(|(_, s)| **s == HukouStatus::Active)
            .map(|(i, _)| i)
            .collect();
        let death = table(city, "extracts/death");
        let lagging = strings(&death, "id_number")
            .into_iter()
            .flatten()
            .filter(|id| active.contains(id))
            .count();
        assert!(lagging > 0, "no death record ahead of the registry");
        // About 6 % of persons hold a disability certificate.
        let dis = table(city, "extracts/disability");
        let holders: std::collections::HashSet<String> =
            strings(&dis, "id_number").into_iter().flatten().collect();
        let share = holders.len() as f64 / city.persons as f64;
        assert!((0.03..0.10).contains(&share), "disability share {share}");
        // Surnames: 王, 李 and 张 lead.
        let names = required(&hukou, "name");
        let mut surnames: HashMap<char, usize> = HashMap::new();
        for n in &names {
            *surnames.entry(n.chars().next().unwrap()).or_default() += 1;
        }
        let mut top: Vec<(usize, char)> = surnames.iter().map(|(c, k)| (*k, *c)).collect();
        top.sort_unstable_by(|a, b| b.cmp(a));
        let top3: Vec<char> = top.iter().take(3).map(|x| x.1).collect();
        for c in ['王', '李', '张'] {
            assert!(top3.contains(&c), "top surnames {top3:?}");
        }
    }
}

mod later {
    //! The later snapshot (`CityConfig::later`): complete extracts as of the
    //! later date, the events' records, and their truth.

    use std::collections::{BTreeMap, HashMap, HashSet};
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use arrow::array::{Array, AsArray, RecordBatch};
    use arrow::datatypes::Decimal128Type;
    use hedui_model::codes::HukouKind;
    use hedui_model::{CodeList, Date, Month};
    use hedui_synth::{CityConfig, CitySummary, EventKind, generate};

    use crate::common::{EXTRACTS, dates, read, required, strings, table};

    const PERSONS: usize = 5_000;
    const SEED: u64 = 21;

    fn config(later: bool) -> CityConfig {
        let mut cfg = CityConfig::new(PERSONS, SEED);
        if later {
            cfg.later = Some(cfg.as_of + chrono::Duration::days(45));
        }
        cfg
    }

    fn city_dir(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
    }

    /// 5,000 persons, seed 21, later snapshot 45 days after `as_of`.
    fn city() -> &'static CitySummary {
        static CITY: OnceLock<CitySummary> = OnceLock::new();
        CITY.get_or_init(|| {
            let dir = city_dir("synth-later");
            let _ = std::fs::remove_dir_all(&dir);
            generate(&config(true), &dir, &|_| {}).expect("city with a later snapshot")
        })
    }

    /// The same city without the later snapshot.
    fn plain() -> &'static CitySummary {
        static CITY: OnceLock<CitySummary> = OnceLock::new();
        CITY.get_or_init(|| {
            let dir = city_dir("synth-later-none");
            let _ = std::fs::remove_dir_all(&dir);
            generate(&config(false), &dir, &|_| {}).expect("city without a later snapshot")
        })
    }

    fn later_date() -> Date {
        city().later.as_ref().expect("later summary").as_of
    }

    fn money(b: &RecordBatch, col: &str) -> Vec<Option<i128>> {
        let a = b
            .column_by_name(col)
            .unwrap_or_else(|| panic!("no column {col}"))
            .as_primitive::<Decimal128Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    struct Event {
        household: String,
        kind: EventKind,
        id: String,
        date: Option<Date>,
        records: Vec<String>,
    }

    fn events() -> Vec<Event> {
        let b = table(city(), "later/truth/events");
        let households = required(&b, "household_id");
        let kinds = required(&b, "event");
        let ids = required(&b, "id_number");
        let ds = dates(&b, "date");
        let rids = required(&b, "record_ids");
        (0..b.num_rows())
            .map(|i| Event {
                household: households[i].clone(),
                kind: EventKind::parse(&kinds[i]).unwrap_or_else(|| panic!("{}", kinds[i])),
                id: ids[i].clone(),
                date: ds[i],
                records: rids[i].split(';').map(str::to_owned).collect(),
            })
            .collect()
    }

    /// Truth of the later snapshot: record id → (source, person).
    fn truth() -> HashMap<String, (String, Option<String>)> {
        let b = table(city(), "later/truth/records");
        let sources = required(&b, "source");
        let rids = required(&b, "record_id");
        let keys = strings(&b, "person_key");
        let noise = required(&b, "noise");
        let mut out = HashMap::new();
        for i in 0..rids.len() {
            if rids[i].contains("-L") {
                assert_eq!(noise[i], "none", "{}", rids[i]);
            }
            let prev = out.insert(rids[i].clone(), (sources[i].clone(), keys[i].clone()));
            assert!(prev.is_none(), "record {} twice in truth", rids[i]);
        }
        out
    }

    /// Rows of a later extract by record id.
    fn by_record(b: &RecordBatch) -> HashMap<String, usize> {
        required(b, "record_id")
            .into_iter()
            .enumerate()
            .map(|(i, r)| (r, i))
            .collect()
    }

    /// Declared members of every roster household.
    fn roster() -> HashMap<String, Vec<(String, String)>> {
        let b = table(city(), "roster/roster_members");
        let hh = required(&b, "household_id");
        let ids = required(&b, "id_number");
        let names = required(&b, "name");
        let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for i in 0..hh.len() {
            out.entry(hh[i].clone())
                .or_default()
                .push((ids[i].clone(), names[i].clone()));
        }
        out
    }

    /// Every row of each first extract is in its later extract, unchanged
    /// and in order (hukou rows of a move or registered death excepted:
    /// they carry the new status and date), followed by the new rows.
    #[test]
    fn later_extracts_are_the_first_rows_then_the_new_ones() {
        let c = city();
        let later = later_date();
        let changed: HashSet<String> = events()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Deceased | EventKind::MovedOut))
            .flat_map(|e| e.records.iter().filter(|r| r.starts_with("HK")).cloned())
            .collect();
        assert!(
            events().iter().any(|e| e.kind == EventKind::MovedOut),
            "no move"
        );
        let mut new_rows = 0;
        for stem in EXTRACTS {
            let first = table(c, &format!("extracts/{stem}"));
            let second = table(c, &format!("later/extracts/{stem}"));
            let meta = second.schema().metadata().clone();
            assert_eq!(meta.get("hedui.source").map(String::as_str), Some(stem));
            assert_eq!(
                meta.get("hedui.as_of").cloned(),
                Some(later.to_string()),
                "{stem}"
            );
            assert_eq!(first.schema().fields(), second.schema().fields(), "{stem}");
            let n = first.num_rows();
            assert!(second.num_rows() >= n, "{stem}");
            let head = second.slice(0, n);
            let rids = required(&first, "record_id");
            for (k, f) in first.schema().fields().iter().enumerate() {
                let same = first.column(k).to_data() == head.column(k).to_data();
                if stem == "hukou" && (f.name() == "status" || f.name() == "status_date") {
                    // Only the changed rows differ.
                    let a = strings(&first, "status");
                    let b = strings(&head, "status");
                    let da = dates(&first, "status_date");
                    let db = dates(&head, "status_date");
                    for i in 0..n {
                        let differs = a[i] != b[i] || da[i] != db[i];
                        assert_eq!(differs, changed.contains(&rids[i]), "{}", rids[i]);
                    }
                } else {
                    assert!(same, "{stem}.{} changed", f.name());
                }
            }
            // The new rows: ids of their own, the member's exact id.
            let tail = second.slice(n, second.num_rows() - n);
            new_rows += tail.num_rows();
            let old: HashSet<&String> = rids.iter().collect();
            for r in required(&tail, "record_id") {
                assert!(!old.contains(&r), "{r} reused");
                assert!(r.contains("-L"), "{r}");
            }
            let all: HashSet<String> = required(&second, "record_id").into_iter().collect();
            assert_eq!(all.len(), second.num_rows(), "{stem}: duplicate ids");
            for id in required(&tail, "id_number") {
                assert_eq!(
                    hedui_model::IdNumber::parse(&id).status_code(),
                    "valid",
                    "{id}"
                );
            }
            assert_eq!(
                Some(second.num_rows() as u64),
                c.rows(&format!("later/extracts/{stem}"))
            );
        }
        assert!(new_rows > 0);
        // Truth: the first rows, then one per new record.
        let t1 = table(c, "truth/records");
        let t2 = table(c, "later/truth/records");
        assert_eq!(t2.num_rows(), t1.num_rows() + new_rows);
        let head = t2.slice(0, t1.num_rows());
        for k in 0..t1.num_columns() {
            assert_eq!(t1.column(k).to_data(), head.column(k).to_data());
        }
    }

    /// Every event names a living declared member of a roster household,
    /// is dated in (as_of, later] (conditions are undated), and its records
    /// are in the later extracts and their truth with that member.
    #[test]
    fn every_event_is_dated_in_the_window_and_backed_by_its_records() {
        let c = city();
        let as_of = c.as_of;
        let later = later_date();
        let roster = roster();
        let truth = truth();
        let mut extracts: HashMap<String, (RecordBatch, HashMap<String, usize>)> = HashMap::new();
        for stem in EXTRACTS {
            let b = table(c, &format!("later/extracts/{stem}"));
            let idx = by_record(&b);
            extracts.insert(stem.to_owned(), (b, idx));
        }
        let first_hukou = table(c, "extracts/hukou");
        let hukou_kind: HashMap<String, HukouKind> = required(&first_hukou, "id_number")
            .into_iter()
            .zip(strings(&first_hukou, "hukou_kind"))
            .filter_map(|(id, k)| Some((id, HukouKind::parse(&k?)?)))
            .collect();
        let evs = events();
        assert!(!evs.is_empty());
        for e in &evs {
            let members = roster
                .get(&e.household)
                .unwrap_or_else(|| panic!("{} not on the roster", e.household));
            let name = &members
                .iter()
                .find(|m| m.0 == e.id)
                .unwrap_or_else(|| panic!("{} not declared in {}", e.id, e.household))
                .1;
            let dated = !matches!(
                e.kind,
                EventKind::IncomeAboveStandard | EventKind::GradualExit | EventKind::StaffRelative
            );
            assert_eq!(e.date.is_some(), dated, "{}", e.kind.code());
            if let Some(d) = e.date {
                assert!(as_of < d && d <= later, "{} {d}", e.kind.code());
            }
            assert!(!e.records.is_empty() && !e.records[0].is_empty());
            for r in &e.records {
                let (source, person) = truth
                    .get(r)
                    .unwrap_or_else(|| panic!("{r} not in later/truth/records"));
                assert_eq!(person.as_deref(), Some(e.id.as_str()), "{r}");
                let (b, idx) = &extracts[source];
                let i = *idx
                    .get(r)
                    .unwrap_or_else(|| panic!("{r} not in later/extracts/{source}"));
                assert_eq!(strings(b, "id_number")[i].as_deref(), Some(e.id.as_str()));
                assert_eq!(&required(b, "name")[i], name, "{r}: not the hukou name");
                let date_col = |col: &str| dates(b, col)[i];
                match e.kind {
                    EventKind::Deceased if source == "death" => {
                        assert_eq!(date_col("death_date"), e.date);
                    }
                    EventKind::Deceased | EventKind::MovedOut => {
                        assert_eq!(source, "hukou");
                        let want = if e.kind == EventKind::Deceased {
                            "deceased"
                        } else {
                            "moved_out"
                        };
                        let st = required(b, "status")[i].clone();
                        assert_eq!(
                            hedui_model::codes::HukouStatus::parse(&st).map(|s| s.code()),
                            Some(want)
                        );
                        assert_eq!(date_col("status_date"), e.date);
                    }
                    EventKind::NewVehicle => {
                        assert_eq!(source, "vehicle");
                        assert_eq!(date_col("registered_on"), e.date);
                        assert_eq!(required(b, "vehicle_kind")[i], "car");
                    }
                    EventKind::NewProperty => {
                        assert_eq!(source, "property");
                        assert_eq!(date_col("registered_on"), e.date);
                        assert_eq!(required(b, "usage")[i], "residential");
                    }
                    EventKind::NewBusiness => {
                        assert_eq!(source, "business");
                        assert_eq!(date_col("established_on"), e.date);
                        assert_eq!(required(b, "status")[i], "active");
                    }
                    EventKind::StaffRelative => {
                        assert_eq!(source, "staff");
                        assert_eq!(required(b, "relation")[i], "self");
                    }
                    EventKind::LargeMedicalExpense => {
                        assert_eq!(source, "expense");
                        assert_eq!(required(b, "category")[i], "medical");
                        let d = date_col("date").unwrap();
                        assert!(d > as_of && d <= later);
                        assert!(d >= Month::of(later).plus(-2).first_day());
                    }
                    EventKind::IncomeAboveStandard | EventKind::GradualExit => {
                        assert!(source == "tax" || source == "social_insurance", "{source}");
                    }
                }
            }
            if e.kind == EventKind::Deceased {
                assert!(e.records.iter().any(|r| r.starts_with("SW")));
            }
            // The money: above the limits with the household's standard.
            let s: i128 = match hukou_kind.get(&e.id) {
                Some(HukouKind::Urban) => 90_000,
                _ => 70_000,
            };
            let n = members.len() as i128;
            let sum = |source: &str, col: &str| -> i128 {
                let (b, idx) = &extracts[source];
                let m = money(b, col);
                e.records.iter().map(|r| m[idx[r]].unwrap()).sum()
            };
            match e.kind {
                EventKind::LargeMedicalExpense => {
                    assert!(sum("expense", "amount") * 5 > 24 * s * 6, "{}", e.household);
                }
                EventKind::IncomeAboveStandard if e.records[0].starts_with("GS") => {
                    let (b, idx) = &extracts["tax"];
                    let periods = required(b, "period");
                    let kinds = required(b, "income_kind");
                    let months: Vec<String> = (0..4)
                        .rev()
                        .map(|k| Month::of(as_of).plus(-k).to_string())
                        .collect();
                    let got: Vec<String> =
                        e.records.iter().map(|r| periods[idx[r]].clone()).collect();
                    assert_eq!(got, months);
                    assert!(e.records.iter().all(|r| kinds[idx[r]] == "wage"));
                    let tax = sum("tax", "tax_paid");
                    let net = sum("tax", "gross") - tax - 4 * 30_000;
                    assert!(net >= 12 * s * n, "{}: {net}", e.household);
                    assert!(
                        evs.iter().any(|g| g.kind == EventKind::GradualExit
                            && g.household == e.household
                            && g.records == e.records),
                        "{}: no gradual_exit",
                        e.household
                    );
                }
                EventKind::IncomeAboveStandard => {
                    let (b, idx) = &extracts["social_insurance"];
                    let kinds = required(b, "kind");
                    let schemes = strings(b, "scheme");
                    assert_eq!(e.records.len(), 12);
                    for r in &e.records {
                        assert_eq!(kinds[idx[r]], "pension");
                        assert_eq!(schemes[idx[r]].as_deref(), Some("employee"));
                    }
                    // At least ten of the months fall in any later window.
                    let monthly = sum("social_insurance", "amount") / 12;
                    assert!(10 * monthly >= 12 * s * n, "{}", e.household);
                    assert!(
                        !evs.iter().any(|g| g.kind == EventKind::GradualExit
                            && g.household == e.household),
                        "a pension event with wages"
                    );
                }
                _ => {}
            }
        }
    }

    /// Conditions alert only when new: an income event's household was
    /// designed below the standard, a medical event's has no medical
    /// expense of the last three months in the first extract, a staff
    /// event's no member in staff.
    #[test]
    fn condition_events_are_new_conditions() {
        let c = city();
        let roster = roster();
        let t1 = table(c, "truth/records");
        let sources = required(&t1, "source");
        let persons = strings(&t1, "person_key");
        let rids = required(&t1, "record_id");
        let expense = table(c, "extracts/expense");
        let idx = by_record(&expense);
        let cats = required(&expense, "category");
        let ds = dates(&expense, "date");
        let from = Month::of(c.as_of).plus(-2).first_day();
        let mut recent_medical: HashSet<String> = HashSet::new();
        let mut staff: HashSet<String> = HashSet::new();
        for i in 0..rids.len() {
            let Some(p) = &persons[i] else { continue };
            if sources[i] == "expense" {
                let k = idx[&rids[i]];
                if cats[k] == "medical" && ds[k].unwrap() >= from {
                    recent_medical.insert(p.clone());
                }
            } else if sources[i] == "staff" {
                staff.insert(p.clone());
            }
        }
        let households = table(c, "roster/roster_households");
        let assistance: HashMap<String, String> = required(&households, "household_id")
            .into_iter()
            .zip(required(&households, "assistance"))
            .collect();
        for e in events() {
            let members = &roster[&e.household];
            match e.kind {
                EventKind::LargeMedicalExpense => {
                    for (id, _) in members {
                        assert!(!recent_medical.contains(id), "{}", e.household);
                    }
                }
                EventKind::StaffRelative => {
                    for (id, _) in members {
                        assert!(!staff.contains(id), "{}", e.household);
                    }
                }
                EventKind::IncomeAboveStandard | EventKind::GradualExit => {
                    let a = hedui_model::codes::Assistance::parse(&assistance[&e.household])
                        .unwrap()
                        .code();
                    assert!(["dibao", "tekun", "single_person"].contains(&a), "{a}");
                }
                _ => {}
            }
        }
    }

    /// Every kind happens, at about its rate, at most one event per
    /// household; the summary and the manifest count them.
    #[test]
    fn events_of_every_kind_at_about_their_rates() {
        let c = city();
        let roster = c.roster_households;
        assert!(roster >= 100, "roster of {roster}");
        let evs = events();
        let mut by_kind: BTreeMap<EventKind, u64> = BTreeMap::new();
        let mut by_household: HashMap<&str, HashSet<EventKind>> = HashMap::new();
        for e in &evs {
            *by_kind.entry(e.kind).or_default() += 1;
            by_household.entry(&e.household).or_default().insert(e.kind);
        }
        for k in EventKind::ALL {
            assert!(
                by_kind.get(&k).copied().unwrap_or(0) >= 1,
                "no {}",
                k.code()
            );
        }
        for (h, kinds) in &by_household {
            let ok = kinds.len() == 1
                || (kinds.len() == 2
                    && kinds.contains(&EventKind::IncomeAboveStandard)
                    && kinds.contains(&EventKind::GradualExit));
            assert!(ok, "{h}: {kinds:?}");
        }
        let share = |k: EventKind| by_kind[&k] as f64 / roster as f64;
        assert!((0.015..0.05).contains(&share(EventKind::Deceased)));
        assert!((0.008..0.04).contains(&share(EventKind::NewVehicle)));
        let summary = c.later.as_ref().unwrap();
        assert_eq!(summary.households, by_household.len());
        for ec in &summary.events {
            assert_eq!(by_kind.get(&ec.kind).copied().unwrap_or(0), ec.count);
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(c.out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["later"]["as_of"], later_date().to_string());
        assert_eq!(manifest["later"]["extracts"].as_array().unwrap().len(), 14);
        assert_eq!(
            manifest["later"]["events"]["deceased"],
            by_kind[&EventKind::Deceased]
        );
        assert_eq!(manifest["counts"]["later/truth/events"], evs.len() as u64);
        let files: Vec<&str> = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        for p in hedui_synth::later_table_paths() {
            assert!(files.contains(&format!("{p}.parquet").as_str()), "{p}");
            assert!(hedui_synth::schema_of(&p).is_some(), "{p}");
        }
        // Every event household is assisted or monitored on the roster.
        assert!(evs.iter().all(|e| e.household.starts_with("DB-")));
    }

    /// A later snapshot changes none of the first files: the same tables,
    /// hashes and manifest (less its later parts) as without one.
    #[test]
    fn adding_a_later_snapshot_changes_no_first_file() {
        let (a, b) = (city(), plain());
        assert!(b.later.is_none());
        let first: Vec<_> = a
            .tables
            .iter()
            .filter(|t| !t.table.starts_with("later/"))
            .cloned()
            .collect();
        assert_eq!(first, b.tables);
        assert_eq!(a.tables.len(), b.tables.len() + 16);
        let read_manifest = |c: &CitySummary| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(c.out.join("manifest.json")).unwrap()).unwrap()
        };
        let mut ma = read_manifest(a);
        let mb = read_manifest(b);
        assert!(mb.get("later").is_none() && mb["config"].get("later").is_none());
        let o = ma.as_object_mut().unwrap();
        o.remove("later");
        o["config"].as_object_mut().unwrap().remove("later");
        o["counts"]
            .as_object_mut()
            .unwrap()
            .retain(|k, _| !k.starts_with("later/"));
        o["files"]
            .as_array_mut()
            .unwrap()
            .retain(|f| !f["path"].as_str().unwrap().starts_with("later/"));
        assert_eq!(ma, mb);
        assert!(!b.out.join("later").exists());
    }

    /// The later files too are the same bytes on one thread or three, with
    /// CSV beside them.
    #[test]
    fn later_snapshot_is_deterministic_on_any_thread_count() {
        let mut cfg = CityConfig::new(2_000, 5);
        cfg.csv = true;
        cfg.later = Some(cfg.as_of + chrono::Duration::days(62));
        let run = |threads: usize| {
            let dir = tempfile::tempdir().unwrap();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let s = pool.install(|| generate(&cfg, dir.path(), &|_| {}).unwrap());
            (dir, s)
        };
        let (da, sa) = run(1);
        let (db, sb) = run(3);
        assert_eq!(sa.tables, sb.tables);
        assert_eq!(sa.later, sb.later);
        let mut files = 0;
        for t in sa.tables.iter().filter(|t| t.table.starts_with("later/")) {
            for f in [Some(&t.parquet), t.csv.as_ref()].into_iter().flatten() {
                let x = std::fs::read(da.path().join(&f.path)).unwrap();
                let y = std::fs::read(db.path().join(&f.path)).unwrap();
                assert!(x == y, "{} differs", f.path);
                assert_eq!(blake3::hash(&x).to_hex().to_string(), f.blake3);
                files += 1;
            }
        }
        assert_eq!(files, 2 * 16);
        let m = |d: &tempfile::TempDir| std::fs::read(d.path().join("manifest.json")).unwrap();
        assert_eq!(m(&da), m(&db));
        // A roster this small may miss a kind, never a later file.
        let events = read(&sa.parquet_path("later/truth/events").unwrap());
        assert_eq!(
            Some(events.num_rows() as u64),
            sa.rows("later/truth/events")
        );
    }

    /// The later date must lie in (as_of, as_of + 62 days].
    #[test]
    fn a_later_date_outside_the_window_is_refused() {
        for days in [-3, 0, 63] {
            let mut cfg = CityConfig::new(50, 1);
            cfg.later = Some(cfg.as_of + chrono::Duration::days(days));
            let dir = tempfile::tempdir().unwrap();
            let err = generate(&cfg, dir.path(), &|_| {}).unwrap_err();
            assert!(err.to_string().contains("later"), "{days}: {err}");
        }
        let mut cfg = CityConfig::new(50, 1);
        cfg.later = Some(cfg.as_of + chrono::Duration::days(1));
        let dir = tempfile::tempdir().unwrap();
        let s = generate(&cfg, dir.path(), &|_| {}).unwrap();
        assert_eq!(s.later.as_ref().map(|l| l.as_of), cfg.later);
    }
}

/// Not a test: generates a city of `HEDUI_SYNTH_PERSONS` persons into
/// `HEDUI_SYNTH_OUT` (with `HEDUI_SYNTH_LATER_DAYS`, a later snapshot that
/// many days after `as_of`) and prints the time and row counts (for
/// measuring).
#[test]
#[ignore]
fn generate_city_from_env() {
    let n: usize = std::env::var("HEDUI_SYNTH_PERSONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let out = std::path::PathBuf::from(
        std::env::var("HEDUI_SYNTH_OUT").unwrap_or_else(|_| "/tmp/hedui-city".to_owned()),
    );
    let mut cfg = hedui_synth::CityConfig::new(n, 7);
    cfg.csv = std::env::var("HEDUI_SYNTH_CSV").is_ok();
    if let Some(days) = std::env::var("HEDUI_SYNTH_LATER_DAYS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        cfg.later = Some(cfg.as_of + chrono::Duration::days(days));
    }
    let t = std::time::Instant::now();
    let s = hedui_synth::generate(&cfg, &out, &|p| {
        if p.done == p.total {
            eprintln!(
                "{} done at {:.1}s",
                p.stage.name(),
                t.elapsed().as_secs_f64()
            );
        }
    })
    .unwrap();
    eprintln!("{n} persons in {:.1}s", t.elapsed().as_secs_f64());
    for t in &s.tables {
        eprintln!(
            "{:28} {:>10} rows {:>12} bytes",
            t.table, t.rows, t.parquet.bytes
        );
    }
    if let Some(l) = &s.later {
        eprintln!(
            "later {}: {} households with an event",
            l.as_of, l.households
        );
        for e in &l.events {
            eprintln!("  {:24} {:>6}", e.kind.code(), e.count);
        }
    }
    for k in &s.noise {
        eprintln!(
            "{:14} rate {:>7} ppm  eligible {:>9}  applied {:>8}",
            k.kind.code(),
            k.rate_ppm,
            k.eligible,
            k.applied
        );
    }
}
