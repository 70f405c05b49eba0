//! Person names (姓名) as departments write them, and their normal form.
//!
//! The same person's name arrives as `张 伟`, `張偉`, `ＺＨＡＮＧ`, or, for
//! a minority name, `买买提·艾力` with any of a dozen dot look-alikes.
//! [`PersonName`] keeps the raw text and derives:
//!
//! - the **normal form**: full-width characters folded, every space removed
//!   (ASCII, ideographic, NBSP and the rest), every middle-dot look-alike
//!   unified to U+00B7 `·` (repeated and edge dots dropped), traditional and
//!   variant characters converted to standard simplified ones (OpenCC
//!   `t2s`), Latin letters lower-cased;
//! - the **pinyin syllables** of the normal form, without tones, with the
//!   surname readings of the first character (单 shan, 曾 zeng, 解 xie …)
//!   and of compound surnames (尉迟 yu chi, 万俟 mo qi …).
//!
//! Two names are *equal* when their normal forms are equal. A homophone
//! (张伟 / 张威) is a disagreement of names, but the same pinyin: identity
//! resolution weighs the two separately.

use std::sync::OnceLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use pinyin::ToPinyin;

use crate::id::fold_width;

/// The one middle dot of the normal form.
pub const MIDDLE_DOT: char = '\u{00B7}';

/// Characters departments type for the middle dot of minority names.
pub const MIDDLE_DOT_LOOKALIKES: &[char] = &[
    '\u{00B7}', // MIDDLE DOT
    '\u{0387}', // GREEK ANO TELEIA
    '\u{2022}', // BULLET
    '\u{2024}', // ONE DOT LEADER
    '\u{2027}', // HYPHENATION POINT
    '\u{2219}', // BULLET OPERATOR
    '\u{22C5}', // DOT OPERATOR
    '\u{25CF}', // BLACK CIRCLE
    '\u{30FB}', // KATAKANA MIDDLE DOT
    '\u{FF65}', // HALFWIDTH KATAKANA MIDDLE DOT
    '\u{FF0E}', // FULLWIDTH FULL STOP
    '\u{2E31}', // WORD SEPARATOR MIDDLE DOT
    '\u{16EB}', // RUNIC SINGLE PUNCTUATION
    '\u{318D}', // HANGUL LETTER ARAEA
    '\u{A78F}', // LATIN LETTER SINOLOGICAL DOT
    '.',        // FULL STOP, typed for want of the dot
    '\u{3002}', // IDEOGRAPHIC FULL STOP
];

/// Compound surnames (复姓) with their readings.
const COMPOUND_SURNAMES: &[(&str, [&str; 2])] = &[
    ("尉迟", ["yu", "chi"]),
    ("万俟", ["mo", "qi"]),
    ("单于", ["chan", "yu"]),
    ("长孙", ["zhang", "sun"]),
    ("欧阳", ["ou", "yang"]),
    ("司马", ["si", "ma"]),
    ("上官", ["shang", "guan"]),
    ("诸葛", ["zhu", "ge"]),
    ("令狐", ["ling", "hu"]),
    ("慕容", ["mu", "rong"]),
    ("皇甫", ["huang", "fu"]),
    ("东方", ["dong", "fang"]),
    ("夏侯", ["xia", "hou"]),
    ("公孙", ["gong", "sun"]),
    ("宇文", ["yu", "wen"]),
    ("澹台", ["tan", "tai"]),
    ("轩辕", ["xuan", "yuan"]),
    ("司徒", ["si", "tu"]),
    ("呼延", ["hu", "yan"]),
    ("端木", ["duan", "mu"]),
    ("闻人", ["wen", "ren"]),
    ("南宫", ["nan", "gong"]),
    ("西门", ["xi", "men"]),
    ("独孤", ["du", "gu"]),
    ("申屠", ["shen", "tu"]),
    ("钟离", ["zhong", "li"]),
    ("宗政", ["zong", "zheng"]),
    ("濮阳", ["pu", "yang"]),
    ("太史", ["tai", "shi"]),
    ("公冶", ["gong", "ye"]),
];

/// Single-character surnames whose surname reading differs from the
/// character's most common reading.
const SURNAME_READINGS: &[(char, &str)] = &[
    ('单', "shan"),
    ('曾', "zeng"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('区', "ou"),
    ('查', "zha"),
    ('乐', "yue"),
    ('朴', "piao"),
    ('覃', "qin"),
    ('盖', "ge"),
    ('缪', "miao"),
    ('翟', "zhai"),
    ('召', "shao"),
    ('种', "chong"),
    ('秘', "bi"),
    ('繁', "po"),
    ('冼', "xian"),
    ('员', "yun"),
    ('尉', "wei"),
    ('折', "she"),
    ('黑', "he"),
    ('牟', "mou"),
    ('隗', "wei"),
    ('句', "gou"),
    ('厍', "she"),
    ('那', "na"),
    ('宓', "mi"),
    ('洗', "xian"),
    ('重', "chong"),
    ('长', "chang"),
    ('过', "guo"),
    ('华', "hua"),
    ('任', "ren"),
    ('沈', "shen"),
    ('燕', "yan"),
    ('纪', "ji"),
    ('居', "ju"),
    ('阚', "kan"),
    ('禚', "zhuo"),
    ('逄', "pang"),
    ('佘', "she"),
    ('柏', "bai"),
    ('薄', "bo"),
    ('曲', "qu"),
    ('蕃', "pi"),
    ('卜', "bu"),
    ('能', "nai"),
    ('祭', "zhai"),
    ('都', "du"),
    ('乜', "nie"),
    ('奇', "ji"),
];

fn t2s() -> &'static OpenCC {
    static T2S: OnceLock<OpenCC> = OnceLock::new();
    T2S.get_or_init(|| {
        OpenCC::from_config(BuiltinConfig::T2s)
            .expect("the embedded OpenCC t2s configuration always loads")
    })
}

fn s2t() -> &'static OpenCC {
    static S2T: OnceLock<OpenCC> = OnceLock::new();
    S2T.get_or_init(|| {
        OpenCC::from_config(BuiltinConfig::S2t)
            .expect("the embedded OpenCC s2t configuration always loads")
    })
}

/// Converts simplified text to traditional characters (OpenCC `s2t`). The
/// synthetic city uses it to write names the way some departments do.
pub fn to_traditional(text: &str) -> String {
    s2t().convert(text)
}

/// Whether a character is one of the middle-dot look-alikes.
pub fn is_middle_dot(c: char) -> bool {
    MIDDLE_DOT_LOOKALIKES.contains(&c)
}

/// The normal form of a name (see the module docs).
pub fn normalise(raw: &str) -> String {
    let mut folded = String::with_capacity(raw.len());
    let mut pending_dot = false;
    for c in raw.chars() {
        let c = fold_width(c);
        if c.is_whitespace() || matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}') {
            continue;
        }
        if is_middle_dot(c) {
            pending_dot = !folded.is_empty();
            continue;
        }
        if pending_dot {
            folded.push(MIDDLE_DOT);
            pending_dot = false;
        }
        folded.extend(c.to_lowercase());
    }
    if folded.is_ascii() {
        return folded;
    }
    t2s().convert(&folded)
}

/// The pinyin syllables (plain, no tones) of a name already in normal form,
/// with surname readings for its first character or compound surname.
/// Characters without a reading (Latin letters, digits) are kept as they
/// are; the middle dot gives no syllable.
pub fn pinyin_syllables(normal: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(4);
    let mut rest = normal;
    let han_name = !normal.contains(MIDDLE_DOT);
    if han_name {
        if let Some((s, reading)) = COMPOUND_SURNAMES
            .iter()
            .find(|(s, _)| normal.starts_with(s))
        {
            out.extend(reading.iter().map(|r| (*r).to_owned()));
            rest = &normal[s.len()..];
        } else if let Some(first) = normal.chars().next()
            && let Some((_, reading)) = SURNAME_READINGS.iter().find(|(c, _)| *c == first)
        {
            out.push((*reading).to_owned());
            rest = &normal[first.len_utf8()..];
        }
    }
    let mut latin = String::new();
    for c in rest.chars() {
        if c == MIDDLE_DOT {
            if !latin.is_empty() {
                out.push(std::mem::take(&mut latin));
            }
            continue;
        }
        match c.to_pinyin() {
            Some(p) => {
                if !latin.is_empty() {
                    out.push(std::mem::take(&mut latin));
                }
                out.push(p.plain().to_owned());
            }
            None => latin.push(c),
        }
    }
    if !latin.is_empty() {
        out.push(latin);
    }
    out
}

/// Number of characters of the surname of a name in normal form: 2 for a
/// known compound surname, 0 for a minority name written with a middle dot
/// (it has no surname in the Han sense), else 1.
pub fn surname_len(normal: &str) -> usize {
    if normal.contains(MIDDLE_DOT) || normal.is_empty() {
        0
    } else if COMPOUND_SURNAMES.iter().any(|(s, _)| normal.starts_with(s)) {
        2
    } else {
        1
    }
}

/// A name as received, with its normal form and pinyin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName {
    raw: String,
    normal: String,
    pinyin: Vec<String>,
}

impl PersonName {
    /// Normalises a raw name.
    pub fn new(raw: &str) -> PersonName {
        let normal = normalise(raw);
        let pinyin = pinyin_syllables(&normal);
        PersonName {
            raw: raw.to_owned(),
            normal,
            pinyin,
        }
    }

    /// The text exactly as received.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The normal form: two names agree when these are equal.
    pub fn normal(&self) -> &str {
        &self.normal
    }

    /// Pinyin syllables, surname readings applied.
    pub fn pinyin(&self) -> &[String] {
        &self.pinyin
    }

    /// Pinyin key: the syllables joined by single spaces (`zhang wei`).
    pub fn pinyin_key(&self) -> String {
        self.pinyin.join(" ")
    }

    /// Pinyin of the surname (empty for a minority name with a middle dot).
    pub fn surname_pinyin(&self) -> String {
        let n = surname_len(&self.normal);
        self.pinyin[..n.min(self.pinyin.len())].join(" ")
    }

    /// Pinyin of the given name.
    pub fn given_pinyin(&self) -> String {
        let n = surname_len(&self.normal);
        self.pinyin[n.min(self.pinyin.len())..].join(" ")
    }

    /// Whether two names agree after normalisation.
    pub fn agrees_with(&self, other: &PersonName) -> bool {
        self.normal == other.normal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_and_width_and_spaces() {
        assert_eq!(normalise("張 偉"), "张伟");
        assert_eq!(normalise("张\u{3000}伟"), "张伟");
        assert_eq!(normalise("张\u{00A0}伟 "), "张伟");
        assert_eq!(normalise("ＷＡＮＧ"), "wang");
    }

    #[test]
    fn middle_dots_unify() {
        for d in MIDDLE_DOT_LOOKALIKES {
            let raw = format!("买买提{d}艾力");
            assert_eq!(normalise(&raw), "买买提·艾力", "{:?}", d);
        }
        assert_eq!(normalise("·买买提··艾力·"), "买买提·艾力");
    }

    #[test]
    fn surname_readings() {
        assert_eq!(PersonName::new("单雄信").pinyin_key(), "shan xiong xin");
        assert_eq!(PersonName::new("曾国藩").pinyin_key(), "zeng guo fan");
        assert_eq!(PersonName::new("尉迟恭").pinyin_key(), "yu chi gong");
        assert_eq!(PersonName::new("尉迟恭").surname_pinyin(), "yu chi");
        assert_eq!(PersonName::new("乐嘉").pinyin_key(), "yue jia");
        assert_eq!(PersonName::new("朴树").pinyin_key(), "piao shu");
        assert_eq!(PersonName::new("覃海").given_pinyin(), "hai");
    }

    #[test]
    fn homophones_share_pinyin_not_normal_form() {
        let a = PersonName::new("张伟");
        let b = PersonName::new("张威");
        assert!(!a.agrees_with(&b));
        assert_eq!(a.pinyin_key(), b.pinyin_key());
    }
}
