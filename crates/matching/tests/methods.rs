//! Every method of rules §2 on the hand-made town, both traps included.

use hedui_matching::{Field, Method};

use crate::common::id;
use crate::fixtures::{assert_link, link, resolve, town, who};

/// Replaces the character at `pos` of a valid id with another digit.
fn typo(id: &str, pos: usize) -> String {
    let mut c: Vec<u8> = id.as_bytes().to_vec();
    c[pos] = if c[pos] == b'9' || c[pos] == b'X' {
        b'1'
    } else {
        c[pos] + 1
    };
    String::from_utf8(c).unwrap()
}

fn swap(id: &str, pos: usize) -> String {
    let mut c: Vec<u8> = id.as_bytes().to_vec();
    c.swap(pos, pos + 1);
    String::from_utf8(c).unwrap()
}

#[test]
fn every_method_on_known_answers() {
    use who::*;
    let t = town();
    let zw = id(ZHANG_WEI);
    let rare = id(RARE);
    let uy = id(UYGHUR);
    let li_na = id(LI_NA);
    let chen = id(CHEN_JING);
    let zhao = id(ZHAO_QIANG);
    // 15-digit legacy form of 刘德明's id: drop "19" and the check.
    let legacy = id(LEGACY);
    let legacy15 = format!("{}{}", &legacy[..6], &legacy[8..17]);
    // A valid id nobody holds, one body digit from 陈静's (check recomputed).
    let chen_other = id(&format!(
        "{}{}",
        &chen[..16],
        (chen.as_bytes()[16] - b'0' + 2) % 10
    ));
    assert!(t.registry.person(&chen_other.parse().unwrap()).is_none());
    let typo_seq = typo(&zw, 15);
    let typo_region = typo(&zw, 3);
    let transposed = {
        // The first adjacent pair of different digits in the birth date.
        let pos = (6..13)
            .find(|&i| zw.as_bytes()[i] != zw.as_bytes()[i + 1])
            .unwrap();
        swap(&zw, pos)
    };
    let fullwidth: String = zw
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect();
    let spaced = format!("{} {} {}", &zw[..6], &zw[6..14], &zw[14..]);
    let lower_x = t
        .persons
        .iter()
        .find(|p| p.id.ends_with('X'))
        .map(|p| p.id.to_lowercase())
        .unwrap();
    let lower_x_name = t.persons.iter().find(|p| p.id.ends_with('X')).unwrap().name;
    let extra = [
        ("X01", Some(zw.as_str()), "张伟", "Q1"),
        ("X02", Some(fullwidth.as_str()), "張偉", "Q1"),
        ("X03", Some(spaced.as_str()), "张 伟", "Q1"),
        ("X04", Some(lower_x.as_str()), lower_x_name, "Q1"),
        ("X05", Some(uy.as_str()), "买买提•艾力", "Q1"),
        ("X06", Some(uy.as_str()), "买买提．艾力", "Q1"),
        ("X07", Some(legacy15.as_str()), "刘德明", "Q1"),
        ("X08", Some(legacy15.as_str()), "刘德民", "Q1"),
        ("X09", Some(li_na.as_str()), "李纳", "Q1"),
        ("X10", Some(zhao.as_str()), "孙丽", "Q1"),
        ("X11", Some(typo_seq.as_str()), "张伟", "Q1"),
        ("X12", Some(typo_region.as_str()), "张伟", "Q1"),
        ("X13", Some(transposed.as_str()), "张伟", "Q1"),
        ("X14", Some(chen_other.as_str()), "陈静", "Q1"),
        ("X15", None, "欧阳娜娜", "Q1"),
        ("X16", None, "歐陽娜娜", "Q1"),
        ("X17", None, "张伟", "Q8"),
        ("X18", Some("11010519491231002X"), "钱多多", "Q1"),
        ("X19", None, "司马相如", "Q1"),
        ("X20", Some(rare.as_str()), "欧阳娜娜", "Q1"),
    ];
    let (_, links) = resolve(&t, &extra);
    // exact, with every normalisation of ids and names
    for r in ["X01", "X02", "X03"] {
        assert_link(&links, r, Method::Exact, Some(ZHANG_WEI));
    }
    assert_eq!(link(&links, "X04").method, Method::Exact);
    assert_link(&links, "X05", Method::Exact, Some(UYGHUR));
    assert_link(&links, "X06", Method::Exact, Some(UYGHUR));
    assert_link(&links, "X20", Method::Exact, Some(RARE));
    // upgraded legacy number; with another name an id conflict
    assert_link(&links, "X07", Method::Upgraded, Some(LEGACY));
    assert_link(&links, "X08", Method::IdConflict, Some(LEGACY));
    // a homophone is a disagreement: linked to the holder, flagged
    assert_link(&links, "X09", Method::IdConflict, Some(LI_NA));
    assert_eq!(link(&links, "X09").field(Field::Name).level, "pinyin_exact");
    assert_eq!(Method::IdConflict.flag(), Some("id_conflict"));
    // one person's id typed with another person's name: flagged, not merged
    assert_link(&links, "X10", Method::IdConflict, Some(ZHAO_QIANG));
    assert_eq!(link(&links, "X10").field(Field::Name).level, "other");
    // a wrong digit in the sequence, in the region; a transposition
    assert_link(&links, "X11", Method::Fuzzy, Some(ZHANG_WEI));
    assert_link(&links, "X12", Method::Fuzzy, Some(ZHANG_WEI));
    assert_link(&links, "X13", Method::Fuzzy, Some(ZHANG_WEI));
    assert!(
        link(&links, "X13")
            .explanation()
            .contains("\"id_relation\":\"adjacent_transposition\"")
    );
    // a valid id of nobody, one body digit from a person of the same name
    assert_link(&links, "X14", Method::Fuzzy, Some(CHEN_JING));
    assert!(link(&links, "X14").explanation().contains("one_body_digit"));
    // no id: a rare name unique in the town links, in any script
    assert_link(&links, "X15", Method::Fuzzy, Some(RARE));
    assert_link(&links, "X16", Method::Fuzzy, Some(RARE));
    // no id and a common name: never counted
    let l = link(&links, "X17");
    assert!(!l.counted(), "{:?} {}", l.method, l.explanation());
    assert!(l.candidates > 1);
    // a valid id of nobody, a name of nobody: unlinked
    assert_link(&links, "X18", Method::Unlinked, None);
    assert_link(&links, "X19", Method::Unlinked, None);
    assert_eq!(link(&links, "X19").candidates, 0);
}

#[test]
fn trap_twins_are_never_confused() {
    use who::*;
    let t = town();
    let a = id(TWIN_A);
    let b = id(TWIN_B);
    // The twin's body with the person's own check character: one
    // substitution from each twin.
    let between = format!("{}{}", &b[..17], &a[17..]);
    assert!(hedui_model::IdNumber::parse_valid(&between).is_err());
    // A typo elsewhere in twin A's id keeps it closer to A.
    let near_a = typo(&a, 8);
    let extra = [
        ("W1", Some(a.as_str()), "王芳", "Q2"),
        ("W2", Some(b.as_str()), "王芳", "Q3"),
        ("W3", Some(between.as_str()), "王芳", "Q2"),
        ("W4", Some(near_a.as_str()), "王芳", "Q2"),
        ("W5", None, "王芳", "Q9"),
    ];
    let (_, links) = resolve(&t, &extra);
    // exact beats fuzzy: each twin's own id links to that twin only
    assert_link(&links, "W1", Method::Exact, Some(TWIN_A));
    assert_link(&links, "W2", Method::Exact, Some(TWIN_B));
    // equidistant: never counted, whatever the score
    let l = link(&links, "W3");
    assert!(
        matches!(l.method, Method::Possible | Method::Unlinked),
        "{:?} {}",
        l.method,
        l.explanation()
    );
    assert!(l.candidates >= 2);
    // a typo that keeps the id nearer twin A
    assert_link(&links, "W4", Method::Fuzzy, Some(TWIN_A));
    assert!(!link(&links, "W5").counted());
}

#[test]
fn explanations_add_up() {
    use who::*;
    let t = town();
    let zw = id(ZHANG_WEI);
    let typo_seq = typo(&zw, 15);
    let (model, links) = resolve(
        &t,
        &[
            ("E1", Some(zw.as_str()), "张伟", "Q1"),
            ("E2", Some(typo_seq.as_str()), "张伟", "Q1"),
        ],
    );
    for r in ["E1", "E2"] {
        let l = link(&links, r);
        let j: serde_json::Value = serde_json::from_str(l.explanation()).unwrap();
        let prior = j["prior"].as_f64().unwrap();
        let sum: f64 = l.fields().iter().map(|f| f.weight).sum();
        assert!((prior + sum - l.match_weight.unwrap()).abs() < 1e-3, "{r}");
        let fields = j["fields"].as_object().unwrap();
        let compared = l.fields().iter().filter(|f| f.level != "missing").count();
        assert_eq!(fields.len(), compared, "{r}");
        for f in l.fields().iter().filter(|f| f.level != "missing") {
            assert_eq!(fields[f.field.code()][0].as_str().unwrap(), f.level);
        }
        assert_eq!(j["record"]["name"].as_str().unwrap(), "张伟");
    }
    // A scored link shows both sides; an exact one needs only the record's.
    let j: serde_json::Value = serde_json::from_str(link(&links, "E2").explanation()).unwrap();
    assert_eq!(j["person"]["id"].as_str().unwrap(), zw);
    assert_eq!(j["record"]["birth_date"].as_str().unwrap(), "1985-03-12");
    assert_eq!(j["id_relation"].as_str().unwrap(), "one_substitution");
    let j: serde_json::Value = serde_json::from_str(link(&links, "E1").explanation()).unwrap();
    assert_eq!(j["record"]["id"].as_str().unwrap(), zw);
    assert_eq!(j["id_relation"].as_str().unwrap(), "equal");
    // Term frequencies: 张伟 is common in the town, 欧阳娜娜 unique.
    let l = link(&links, "E1");
    assert!(l.field(Field::Name).weight > 0.0);
    let rare_name_weight = {
        let n = t.registry.name_frequency("欧阳娜娜");
        let z = t.registry.name_frequency("张伟");
        assert!(n == 1 && z > 5, "{n} {z}");
        let m = model.fields()[Field::Name as usize].m[0];
        m.log2() - (f64::from(n) / t.registry.len() as f64).log2()
    };
    assert!(rare_name_weight > l.field(Field::Name).weight + 2.0);
    // A typo costs weight but the link stands.
    let typo_link = link(&links, "E2");
    assert_eq!(typo_link.method, Method::Fuzzy);
    assert!(typo_link.field(Field::Sequence).weight < l.field(Field::Sequence).weight);
    assert_eq!(typo_link.field(Field::Sequence).level, "one_edit");
    assert!(typo_link.field(Field::Sequence).weight < 0.0);
}

#[test]
fn a_source_without_context_resolves_on_its_own() {
    use who::*;
    let t = town();
    // Train on the town's tax records, resolve a death extract: a source
    // is resolved alone, with its own outsider rate and no context column.
    let tax = hedui_matching::Records::from_batches("tax", &crate::fixtures::tax_batches(&t, &[]))
        .unwrap();
    let model =
        hedui_matching::Model::train(&t.registry, &[&tax], crate::fixtures::settings()).unwrap();
    let zw = id(ZHANG_WEI);
    let typo_check = typo(&zw, 17);
    let legacy = id(LEGACY);
    let legacy15 = format!("{}{}", &legacy[..6], &legacy[8..17]);
    let rows = [
        ("D1", Some(zw.as_str()), "张伟"),
        ("D2", Some(typo_check.as_str()), "張偉"),
        ("D3", Some(legacy15.as_str()), "劉德明"),
        ("D4", None, "欧阳娜娜"),
        ("D5", None, "王芳"),
    ];
    let death =
        hedui_matching::Records::from_batches("death", &crate::common::death(&rows)).unwrap();
    assert_eq!(death.stats().records, 5);
    assert_eq!(death.stats().missing_id, 2);
    assert_eq!(death.stats().invalid_id, 1);
    let links = model.resolve(&t.registry, &death);
    assert_eq!(links.source, "death");
    assert_link(&links, "D1", Method::Exact, Some(ZHANG_WEI));
    assert_link(&links, "D2", Method::Fuzzy, Some(ZHANG_WEI));
    assert_eq!(link(&links, "D2").field(Field::Check).level, "other");
    assert_link(&links, "D3", Method::Upgraded, Some(LEGACY));
    assert_eq!(
        link(&links, "D4").person_id.map(|p| p.to_string()),
        Some(id(RARE))
    );
    assert!(!link(&links, "D5").counted());
}
