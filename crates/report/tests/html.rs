//! The printable page: self-contained, Chinese, escaped, ids masked.

use hedui_model::id::mask;
use hedui_report::{escape, html, scrub_ids};

use crate::common::{assets_household, dibao_household, empty_household, report_of};

/// Writes the sample pages to `$HEDUI_REPORT_SAMPLES` when set (to look
/// at them in a browser); never needed by the tests themselves.
fn maybe_write(name: &str, page: &str) {
    if let Ok(dir) = std::env::var("HEDUI_REPORT_SAMPLES") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), page).unwrap();
    }
}

#[test]
fn no_clear_id_anywhere_in_the_html() {
    for (name, h) in [
        ("dibao.html", dibao_household()),
        ("assets.html", assets_household()),
        ("empty.html", empty_household()),
    ] {
        let r = report_of(&h);
        let page = html(&r);
        maybe_write(name, &page);
        for m in &r.members {
            assert!(
                !page.contains(&m.id_number),
                "{name}: clear id {} in the HTML",
                m.id_number
            );
            // The 15-character legacy form and the 17-digit body neither.
            assert!(!page.contains(&m.id_number[..17]));
            assert!(
                page.contains(&mask(&m.id_number)),
                "{name}: masked id shown"
            );
        }
        for l in &r.links {
            assert!(!page.contains(&l.member));
        }
    }
}

#[test]
fn the_page_is_self_contained_and_printable() {
    let page = html(&report_of(&dibao_household()));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
    assert!(page.contains("@page { size: A4;"));
    for forbidden in [
        "<script", "src=", "href=", "@import", "url(", "http://", "https://",
    ] {
        assert!(!page.contains(forbidden), "{forbidden} in the page");
    }
}

/// The page's visible text: the markup between `<` and `>` removed.
fn text_of(page: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn the_page_says_what_the_report_found() {
    let r = report_of(&dibao_household());
    let page = text_of(&html(&r));
    for text in [
        "核对报告",
        "APP-2026-0001",
        "530302",
        "2026-03-15",
        "低保",
        "城镇",
        "本报告为核对结果，供审核确认参考，不是救助决定",
        "张伟",
        "申请人",
        "配偶",
        "子女",
        // Income by month in yuan with two decimals.
        "1,800.00",
        "700.00",
        "社保缴费基数",
        "政府救助类待遇，不计入收入",
        // H, P, S.
        "2,102.00",
        "700.67",
        "900.00",
        // Assets with value, limit, result, records.
        "金融资产",
        "23,000.00",
        "64,800.00",
        "通过",
        "银行存款：b-001",
        "麒麟区李娜小吃店",
        // Determinations with their conditions.
        "月人均收入低于低保标准",
        "2522400 &lt; 3240000",
        "成立",
        "不成立",
        "其他计入成员均无正收入",
        // Benefit.
        "958.00",
        "年满60周岁",
        "未满18周岁",
        // Flags with Chinese labels.
        "工资按缴费基数推算",
        "疑似本人记录",
        "登记有市场主体",
        // Links.
        "疑似匹配（未计入）",
        "0.871235",
        // Inputs.
        "个人所得税（税务）",
        &r.inputs.policy.hash,
        &r.inputs.matcher.hash,
        "0.1.0",
        &r.report_hash,
    ] {
        assert!(page.contains(text), "missing from the page: {text}");
    }
}

#[test]
fn a_refusal_shows_the_failed_tests() {
    let page = text_of(&html(&report_of(&assets_household())));
    assert!(page.contains("不通过"));
    assert!(page.contains("不符合以上各项条件"));
    assert!(page.contains("未满足的条件"));
    assert!(page.contains("机动车登记（公安交管）：v-900"));
    assert!(page.contains("50000000 ≤ 2160000"));
}

#[test]
fn every_text_is_escaped() {
    let mut h = dibao_household();
    h.application_id = "<script>alert('x')</script>&".to_owned();
    h.members[0].declared_name = "张<b>伟</b>".to_owned();
    let page = html(&report_of(&h));
    assert!(!page.contains("<script>"));
    assert!(!page.contains("<b>伟"));
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
    assert!(page.contains("张&lt;b&gt;伟&lt;/b&gt;"));
}

#[test]
fn id_like_runs_are_masked_and_nothing_else() {
    assert_eq!(
        scrub_ids("id 53030219580520011X."),
        "id 530302********011X."
    );
    assert_eq!(scrub_ids("旧号530302580520011号"), "旧号530302*****0011号");
    // Dates, amounts, record ids and hashes stay.
    for text in [
        "2026-03-15",
        "1234.50",
        "t-0011-2025-03-0",
        "ab530302195805200113cd",
    ] {
        assert_eq!(scrub_ids(text), text);
    }
    assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
}
