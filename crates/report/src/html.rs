//! The printable report (核对报告) in Chinese: one self-contained HTML page.
//!
//! Inline CSS sized for A4, no external resource, no script. Every text is
//! escaped, and no identity number appears in clear: a member's id is
//! shown masked ([`hedui_model::id::mask`], `530302********123X`), and any
//! other run of 15 to 18 digits (with an optional final `X`) standing alone
//! in the text — an id in link evidence, in an application id, in a record
//! id — is masked the same way before it is escaped.

use std::collections::{BTreeMap, BTreeSet};

use hedui_model::codes::{BusinessRole, MemberRelation};
use hedui_model::id::mask;
use hedui_model::{CodeList, Fen};
use hedui_policy::RecordRef;
use serde_json::Value;

use crate::build::NOTICE_ZH;
use crate::labels::{
    ASSET_TESTS, CONDITIONS, DETAIL_KEYS, DETERMINATIONS, EXCLUSIONS, FLAG_NOTES, FLAGS, ID_STATUS,
    IMPUTED, KIND_FROM, METHODS, SOURCES, SPECIAL, label,
};
use crate::report::{
    ComparisonReport, ConditionReport, DeterminationReport, MemberReport, Report, TraceReport,
};

const CSS: &str = r#"
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
html { background: #e9e9e9; }
body { margin: 0; color: #111; font: 10pt/1.5 "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "SimSun", sans-serif; }
.page { width: 210mm; min-height: 297mm; margin: 0 auto; padding: 14mm 12mm 16mm 12mm; background: #fff; }
@media print { html { background: none; } .page { width: auto; min-height: 0; margin: 0; padding: 0; } }
h1 { font-size: 18pt; text-align: center; letter-spacing: 0.3em; margin: 0 0 2mm 0; }
.subtitle { text-align: center; color: #444; margin: 0 0 4mm 0; }
h2 { font-size: 12pt; margin: 6mm 0 2mm 0; padding: 1mm 0 1mm 2mm; border-left: 1.2mm solid #8b1a1a; background: #f4f0ef; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm 0; break-after: avoid; page-break-after: avoid; }
p { margin: 1mm 0; }
table { width: 100%; border-collapse: collapse; margin: 1mm 0 2mm 0; font-size: 9pt; }
th, td { border: 0.2mm solid #999; padding: 0.8mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #efefef; font-weight: bold; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.m { white-space: nowrap; }
td.cmp { text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.meta td, table.meta th { border: none; padding: 0.4mm 1.5mm; font-size: 10pt; }
table.meta th { background: none; width: 20mm; white-space: nowrap; color: #444; font-weight: normal; }
table.months { font-size: 8pt; }
table.months td, table.months th { padding: 0.5mm 1mm; }
tr.total td { font-weight: bold; background: #fafafa; }
.notice { border: 0.4mm solid #8b1a1a; padding: 2mm 3mm; margin: 3mm 0; background: #fffaf8; font-weight: bold; }
.notice p.more { font-weight: normal; font-size: 9pt; }
.ok { color: #11631f; font-weight: bold; }
.fail { color: #a30d0d; font-weight: bold; }
.muted { color: #555; font-size: 8.5pt; }
.code { font-family: "Noto Sans Mono CJK SC", "DejaVu Sans Mono", monospace; font-size: 8pt; overflow-wrap: anywhere; }
table.fixed { table-layout: fixed; }
td .ok, td .fail { white-space: nowrap; }
.keep { break-inside: avoid; page-break-inside: avoid; }
.badge { display: inline-block; border: 0.3mm solid #8b1a1a; color: #8b1a1a; padding: 0.3mm 2mm; margin: 0 1.5mm 1mm 0; border-radius: 1mm; font-weight: bold; }
.badge.none { border-color: #555; color: #555; }
.det { border: 0.2mm solid #bbb; padding: 1.5mm 2.5mm; margin: 2mm 0; }
.det h3 { margin-top: 0; }
ul { margin: 0.5mm 0; padding-left: 5mm; }
footer { margin-top: 6mm; border-top: 0.2mm solid #999; padding-top: 2mm; font-size: 8pt; color: #444; }
"#;

/// Whether `run` looks like an identity number: 15 to 18 characters, all
/// digits but for an optional final `X`.
fn id_like(run: &[u8]) -> bool {
    (15..=18).contains(&run.len())
        && run[..run.len() - 1].iter().all(u8::is_ascii_digit)
        && run
            .last()
            .is_some_and(|c| c.is_ascii_digit() || *c == b'X' || *c == b'x')
}

fn id_char(b: u8) -> bool {
    b.is_ascii_digit() || b == b'X' || b == b'x'
}

/// Appends `text` to `out` with every standalone id-like run masked,
/// passing each other piece through `put`. Works on bytes: the runs are
/// ASCII, and a byte of a multi-byte character is never ASCII, so run
/// bounds fall on character bounds.
fn scrub_into(out: &mut String, text: &str, put: fn(&mut String, &str)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut plain = 0;
    while i < bytes.len() {
        if !id_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && id_char(bytes[i]) {
            i += 1;
        }
        let bounded = (start == 0 || !bytes[start - 1].is_ascii_alphanumeric())
            && (i == bytes.len() || !bytes[i].is_ascii_alphanumeric());
        if bounded && id_like(&bytes[start..i]) {
            put(out, &text[plain..start]);
            out.push_str(&mask(&text[start..i]));
            plain = i;
        }
    }
    put(out, &text[plain..]);
}

/// Masks every standalone id-like run of `text` (see the module docs).
pub fn scrub_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    scrub_into(&mut out, text, |o, s| o.push_str(s));
    out
}

fn escape_into(out: &mut String, text: &str) {
    let mut plain = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[plain..i]);
        out.push_str(entity);
        plain = i + 1;
    }
    out.push_str(&text[plain..]);
}

/// Escapes text for HTML (after masking id-like runs).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    scrub_into(&mut out, text, escape_into);
    out
}

/// Yuan with two decimals and thousands separators: `12,345.60`.
fn yuan(fen: i64) -> String {
    let plain = Fen(fen).to_string();
    let (sign, rest) = plain
        .strip_prefix('-')
        .map_or(("", plain.as_str()), |r| ("-", r));
    let (int, dec) = rest.split_once('.').unwrap_or((rest, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{dec}")
}

fn yuan_opt(fen: Option<i64>) -> String {
    fen.map_or_else(|| "—".to_owned(), yuan)
}

fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

fn pass_cell(pass: bool) -> &'static str {
    if pass {
        r#"<span class="ok">通过</span>"#
    } else {
        r#"<span class="fail">不通过</span>"#
    }
}

fn holds_cell(holds: bool) -> &'static str {
    if holds {
        r#"<span class="ok">成立</span>"#
    } else {
        r#"<span class="fail">不成立</span>"#
    }
}

fn met_cell(holds: bool) -> &'static str {
    if holds {
        r#"<span class="ok">✓ 满足</span>"#
    } else {
        r#"<span class="fail">✗ 不满足</span>"#
    }
}

fn op_symbol(op: &str) -> &str {
    match op {
        "<=" => "≤",
        ">=" => "≥",
        "==" => "=",
        other => other,
    }
}

fn comparison_text(c: &ComparisonReport) -> String {
    format!("{} {} {}", c.lhs.0, op_symbol(&c.op), c.rhs.0)
}

fn record_text(r: &RecordRef) -> String {
    format!("{} {}", label(SOURCES, &r.source), r.record_id)
}

/// Records, one line per source: `社会保险（人社）：s-1、s-2`.
fn records_html(records: &[RecordRef]) -> String {
    if records.is_empty() {
        return r#"<span class="muted">—</span>"#.to_owned();
    }
    let mut by_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in records {
        by_source.entry(&r.source).or_default().push(&r.record_id);
    }
    by_source
        .iter()
        .map(|(source, ids)| {
            format!(
                "{}：<span class=\"code\">{}</span>",
                escape(label(SOURCES, source)),
                escape(&ids.join("、"))
            )
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// A parameter or value of a trace, in words.
fn param_text(v: &Value) -> String {
    match v {
        Value::Null => "未设定".to_owned(),
        Value::Bool(b) => if *b { "开" } else { "关" }.to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(param_text).collect::<Vec<_>>().join("、"),
        Value::Object(o) => {
            if let Some(f) = o.get("fen").and_then(Value::as_i64) {
                format!("{} 元", yuan(f))
            } else if let (Some(n), Some(d)) = (o.get("num"), o.get("den")) {
                format!("{n}/{d}")
            } else if let Some(p) = o.get("ppm") {
                format!("{p} ppm")
            } else if let Some(c) = o.get("count") {
                c.to_string()
            } else {
                crate::canonical::canonical_value_json(v)
            }
        }
        Value::Number(n) => n.to_string(),
    }
}

fn trace_html(t: &TraceReport) -> String {
    let list = |m: &BTreeMap<String, Value>| {
        m.iter()
            .map(|(k, v)| format!("{} = {}", escape(k), escape(&param_text(v))))
            .collect::<Vec<_>>()
            .join("；")
    };
    let mut s = format!(
        r#"<p class="muted">规则条款：<span class="code">{}</span></p>"#,
        escape(&t.clause)
    );
    if !t.params.is_empty() {
        s.push_str(&format!(
            r#"<p class="muted">政策参数：{}</p>"#,
            list(&t.params)
        ));
    }
    if !t.values.is_empty() {
        s.push_str(&format!(
            r#"<p class="muted">计算值：{}</p>"#,
            list(&t.values)
        ));
    }
    s
}

/// Flattens link evidence into `key: value` lines.
fn evidence_lines(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                evidence_lines(&p, x, out);
            }
        }
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            let items: Vec<String> = a.iter().map(param_text).collect();
            out.push(format!("{prefix}: {}", items.join(", ")));
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                match x {
                    Value::Object(o) if o.values().all(|v| !v.is_object() && !v.is_array()) => {
                        let parts: Vec<String> = o
                            .iter()
                            .filter(|(_, v)| !v.is_null())
                            .map(|(k, v)| format!("{k}={}", param_text(v)))
                            .collect();
                        out.push(format!("{prefix}[{i}]: {}", parts.join(", ")));
                    }
                    x => evidence_lines(&format!("{prefix}[{i}]"), x, out),
                }
            }
        }
        Value::Null => {}
        other => {
            let text = match other {
                Value::String(s) => s.clone(),
                x => x.to_string(),
            };
            if prefix.is_empty() {
                out.push(text);
            } else {
                out.push(format!("{prefix}: {text}"));
            }
        }
    }
}

struct Page<'a> {
    report: &'a Report,
    out: String,
    names: BTreeMap<&'a str, &'a str>,
}

impl<'a> Page<'a> {
    fn new(report: &'a Report) -> Page<'a> {
        Page {
            report,
            out: String::with_capacity(64 * 1024),
            names: report
                .members
                .iter()
                .map(|m| (m.id_number.as_str(), m.name.as_str()))
                .collect(),
        }
    }

    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// Appends formatted text without an intermediate string.
    fn pushf(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = std::fmt::Write::write_fmt(&mut self.out, args);
    }

    /// A member named and masked: `张伟（530302********123X）`, escaped.
    fn who(&self, id: &str) -> String {
        match self.names.get(id) {
            Some(name) => escape(&format!("{name}（{}）", mask(id))),
            None => escape(&mask(id)),
        }
    }

    fn header(&mut self) {
        let r = self.report;
        let rows = [
            ("申请编号", escape(&r.application_id)),
            ("行政区划", escape(&r.region_code)),
            (
                "申请日期",
                escape(&r.applied_on.format("%Y-%m-%d").to_string()),
            ),
            (
                "申请救助",
                format!(
                    "{}<span class=\"muted\">（{}）</span>",
                    escape(r.assistance.label_zh()),
                    escape(r.assistance.code())
                ),
            ),
            (
                "家庭类别",
                format!(
                    "{}<span class=\"muted\">（依据：{}）</span>",
                    escape(r.household_kind.label_zh()),
                    escape(label(KIND_FROM, &r.explain.household_kind_from))
                ),
            ),
            (
                "核对期间",
                format!(
                    "{} 至 {}（申请月份前 {} 个完整月）",
                    r.window.from, r.window.to, r.explain.income.lookback_months
                ),
            ),
            (
                "家庭人口",
                format!("{} 人（计入家庭人口）", r.household_size),
            ),
            ("低保标准", format!("{} 元/人·月", yuan(r.standard_fen))),
        ];
        self.push(
            "<header><h1>核对报告</h1><p class=\"subtitle\">最低生活保障等社会救助家庭经济状况核对</p><table class=\"meta\"><tbody>",
        );
        for pair in rows.chunks(2) {
            self.push("<tr>");
            for (k, v) in pair {
                self.pushf(format_args!("<th>{k}</th><td>{v}</td>"));
            }
            self.push("</tr>");
        }
        self.push("</tbody></table></header>");
        let more = NOTICE_ZH
            .split_once('。')
            .map_or(NOTICE_ZH, |(_, rest)| rest);
        self.pushf(format_args!(
            "<section class=\"notice\"><p>本报告为核对结果，供审核确认参考，不是救助决定。</p><p class=\"more\">{}</p></section>",
            escape(more)
        ));
    }

    fn conclusion(&mut self) {
        let r = self.report;
        self.push("<section><h2>一、核对结论</h2><p>");
        let holding: Vec<&String> = r
            .determinations
            .iter()
            .filter(|d| d.as_str() != "ineligible")
            .collect();
        if holding.is_empty() {
            self.push("符合的认定：<span class=\"badge none\">无</span>不符合低保、低收入、支出型困难、单人户低保和特困人员各项认定条件，未满足的条件见第五部分。");
        } else {
            self.push("符合的认定：");
        }
        for d in holding {
            self.pushf(format_args!(
                "<span class=\"badge\">{}</span>",
                escape(label(DETERMINATIONS, d))
            ));
        }
        self.push("</p>");
        let p = match r.per_capita_income_fen {
            Some(p) => {
                let below = r
                    .explain
                    .determinations
                    .iter()
                    .find(|d| d.code == "dibao")
                    .and_then(|d| d.conditions.iter().find(|c| c.name == "p_below_standard"))
                    .map(|c| c.holds);
                let rel = match below {
                    Some(true) => "低于",
                    Some(false) => "不低于",
                    None => "对比",
                };
                format!(
                    "家庭月人均收入 {} 元，{}低保标准 {} 元。",
                    yuan(p),
                    rel,
                    yuan(r.standard_fen)
                )
            }
            None => "无计入家庭人口的成员，不计算月人均收入。".to_owned(),
        };
        self.pushf(format_args!("<p>{p}</p>"));
        match r.benefit_fen {
            Some(b) => self.pushf(format_args!(
                "<p>低保月救助金额（差额救助，含特殊成员增发）：<b>{} 元</b>。</p>",
                yuan(b)
            )),
            None => self.push("<p>不符合低保，无低保救助金额。</p>"),
        }
        for s in &r.single_person {
            let who = self.who(&s.id_number);
            self.pushf(format_args!(
                "<p>单人户低保：{who}，月救助金额 <b>{} 元</b>。</p>",
                yuan(s.benefit_fen)
            ));
        }
        let failed = r.asset_tests_failed();
        if !failed.is_empty() {
            self.pushf(format_args!(
                "<p>财产核对未通过：<span class=\"fail\">{}</span>。</p>",
                failed.join("、")
            ));
        }
        if !r.flags.is_empty() {
            self.pushf(format_args!(
                "<p>疑点 {} 项，须人工复核（见第七部分）。</p>",
                r.flags.len()
            ));
        }
        self.push("</section>");
    }

    fn members(&mut self) {
        let r = self.report;
        self.push("<section><h2>二、家庭成员</h2><table><thead><tr><th>姓名</th><th>身份证号</th><th>证号状态</th><th>与申请人关系</th><th class=\"n\">年龄</th><th>计入家庭人口</th><th>特殊成员</th><th class=\"n\">期间净收入（元）</th></tr></thead><tbody>");
        for m in &r.members {
            let counted = if m.counted {
                "是".to_owned()
            } else if m.dead {
                "否（已死亡）".to_owned()
            } else {
                "否".to_owned()
            };
            let special: Vec<&str> = m.special.iter().map(|s| label(SPECIAL, s)).collect();
            let id_status = match label(ID_STATUS, &m.id_status) {
                s if s == m.id_status => format!("无效（{s}）"),
                s => s.to_owned(),
            };
            self.pushf(format_args!(
                "<tr><td>{}</td><td class=\"code\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                escape(&m.name),
                escape(&mask(&m.id_number)),
                escape(&id_status),
                escape(relation_label(m.relation)),
                m.age.map_or_else(|| "—".to_owned(), |a| a.to_string()),
                counted,
                if special.is_empty() { "—".to_owned() } else { escape(&special.join("、")) },
                yuan_opt(m.window_net_fen),
            ));
        }
        self.push("</tbody></table></section>");
    }

    fn member_income(&mut self, m: &MemberReport) {
        let who = self.who(&m.id_number);
        self.pushf(format_args!("<h3>{who}</h3>"));
        let silent = m.months.iter().all(|mo| {
            mo.records.is_empty()
                && mo.imputed.is_none()
                && [
                    mo.wage_fen,
                    mo.business_fen,
                    mo.property_fen,
                    mo.other_fen,
                    mo.transfer_in_fen,
                    mo.transfer_out_fen,
                    mo.employment_cost_fen,
                    mo.net_fen,
                ]
                .iter()
                .all(|x| *x == 0)
        });
        if silent && m.excluded_income.is_empty() {
            self.pushf(format_args!(
                "<p>核对期间（{} 个月）未查到该成员的收入记录，各月各项收入均为 0.00 元。</p>",
                m.months.len()
            ));
            return;
        }
        self.push("<table class=\"months\"><thead><tr><th>月份</th><th class=\"n\">工资性收入</th><th class=\"n\">经营净收入</th><th class=\"n\">财产净收入</th><th class=\"n\">其他收入</th><th class=\"n\">转移性收入</th><th class=\"n\">转移性支出</th><th class=\"n\">就业成本</th><th class=\"n\">月净收入</th><th>工资推算</th></tr></thead><tbody>");
        let mut tot = [0i64; 8];
        let mut imputed_notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for mo in &m.months {
            let v = [
                mo.wage_fen,
                mo.business_fen,
                mo.property_fen,
                mo.other_fen,
                mo.transfer_in_fen,
                mo.transfer_out_fen,
                mo.employment_cost_fen,
                mo.net_fen,
            ];
            for (t, x) in tot.iter_mut().zip(v) {
                *t += x;
            }
            let imputed = mo.imputed.as_ref().map_or_else(
                || "—".to_owned(),
                |i| {
                    imputed_notes
                        .entry(format!(
                            "按{}推算（{}记录）",
                            label(IMPUTED, &i.from),
                            label(SOURCES, &i.source)
                        ))
                        .or_default()
                        .push(format!("{} {}", mo.month, i.record_id));
                    escape(&format!("推算（{}）", label(IMPUTED, &i.from)))
                },
            );
            self.pushf(format_args!("<tr><td class=\"m\">{}</td>", mo.month));
            for x in v {
                self.pushf(format_args!("<td class=\"n\">{}</td>", yuan(x)));
            }
            self.pushf(format_args!("<td>{imputed}</td></tr>"));
        }
        self.push("<tr class=\"total\"><td>合计</td>");
        for x in tot {
            self.pushf(format_args!("<td class=\"n\">{}</td>", yuan(x)));
        }
        self.push("<td></td></tr></tbody></table>");
        if !imputed_notes.is_empty() {
            self.pushf(format_args!(
                "<p class=\"muted\">工资推算：当月无个税工资记录，按缴费基数推算，属线索性证据，弱于个税记录。{}</p>",
                escape(
                    &imputed_notes
                        .iter()
                        .map(|(k, v)| format!("{k}：{}", v.join("，")))
                        .collect::<Vec<_>>()
                        .join("；")
                )
            ));
        }
        self.pushf(format_args!(
            "<p>期间净收入合计：<b>{} 元</b>（单位：元；月净收入 = 各项收入 − 转移性支出 − 就业成本，可为负数）。</p>",
            yuan_opt(m.window_net_fen)
        ));
        if !m.excluded_income.is_empty() {
            self.push("<p>不计入收入的项目：</p><table><thead><tr><th>月份</th><th>来源</th><th>记录编号</th><th>原因</th><th class=\"n\">金额（元）</th></tr></thead><tbody>");
            for e in &m.excluded_income {
                self.pushf(format_args!(
                    "<tr><td>{}</td><td>{}</td><td class=\"code\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                    e.month,
                    escape(label(SOURCES, &e.source)),
                    escape(&e.record_id),
                    escape(label(EXCLUSIONS, &e.reason)),
                    yuan(e.amount_fen)
                ));
            }
            self.push("</tbody></table>");
        }
    }

    fn income(&mut self) {
        let r = self.report;
        self.push("<section><h2>三、收入核对</h2>");
        if let Some(t) = &r.explain.income.member_income {
            self.push(&trace_html(t));
        }
        for m in r.members.iter().filter(|m| m.counted) {
            self.member_income(m);
        }
        for m in r.members.iter().filter(|m| !m.counted) {
            let who = self.who(&m.id_number);
            self.pushf(format_args!(
                "<p class=\"muted\">{who} 不计入家庭人口，其记录不计入家庭收入。</p>"
            ));
        }
        let inc = &r.explain.income;
        self.push("<div class=\"keep\"><h3>家庭收入</h3><table><tbody>");
        let rows = [
            (
                "成员期间净收入之和",
                format!("{} 元", yuan(inc.members_net_fen)),
            ),
            (
                "期间家庭收入 W（不低于 0）",
                format!("{} 元", yuan(inc.window_total_fen)),
            ),
            (
                "家庭月收入 H = W ÷ 月数",
                format!("{} 元（四舍五入到分）", yuan(r.household_income_fen)),
            ),
            (
                "家庭月人均收入 P = H ÷ n",
                match r.per_capita_income_fen {
                    Some(p) => format!("{} 元（四舍五入到分）", yuan(p)),
                    None => "不计算（无计入成员）".to_owned(),
                },
            ),
            ("低保标准 S", format!("{} 元/人·月", yuan(r.standard_fen))),
        ];
        for (k, v) in rows {
            self.pushf(format_args!(
                "<tr><th>{k}</th><td class=\"n\">{v}</td></tr>"
            ));
        }
        self.push("</tbody></table></div><p class=\"muted\">与标准的比较均按整数进行、不先做除法（如 P &lt; S 即 W &lt; 月数 × S × n），见第五部分。</p>");
        self.push(&trace_html(&inc.trace));
        self.push("</section>");
    }

    fn assets(&mut self) {
        let r = self.report;
        let a = &r.asset_tests;
        let e = &r.explain.asset_tests;
        self.push("<section><h2>四、财产核对</h2><table><thead><tr><th>项目</th><th class=\"n\">核对值</th><th class=\"n\">限额</th><th>结果</th><th>依据记录</th></tr></thead><tbody>");
        let rows = [
            (
                "financial",
                format!("{} 元", yuan(a.financial.value_fen)),
                format!("{} 元", yuan(a.financial.limit_fen)),
                a.financial.pass,
                &a.financial.records,
            ),
            (
                "housing",
                format!("{} 套", a.housing.value),
                format!("{} 套", a.housing.limit),
                a.housing.pass,
                &a.housing.records,
            ),
            (
                "vehicles",
                format!("{} 辆（限定类型以外）", a.vehicles.value),
                format!("{} 辆", a.vehicles.limit),
                a.vehicles.pass,
                &a.vehicles.records,
            ),
            (
                "business",
                format!(
                    "{} 个（超限 {} 个）",
                    a.business.value, a.business.over_limit
                ),
                a.business.limit.map_or_else(
                    || "未设定注册资本限额".to_owned(),
                    |l| format!("注册资本 {} 元", yuan(l)),
                ),
                a.business.pass,
                &a.business.records,
            ),
        ];
        for (code, value, limit, pass, records) in rows {
            self.pushf(format_args!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                label(ASSET_TESTS, code),
                value,
                limit,
                pass_cell(pass),
                records_html(records)
            ));
        }
        self.push("</tbody></table>");
        self.push("<table class=\"fixed\"><colgroup><col style=\"width:12%\"><col style=\"width:70%\"><col style=\"width:18%\"></colgroup><thead><tr><th>项目</th><th>规则</th><th class=\"n\">整数比较</th></tr></thead><tbody>");
        for (code, x) in [
            ("financial", &e.financial),
            ("housing", &e.housing),
            ("vehicles", &e.vehicles),
            ("business", &e.business),
        ] {
            self.pushf(format_args!(
                "<tr><td>{}</td><td class=\"code\">{}<br>{}</td><td class=\"cmp\">{}</td></tr>",
                label(ASSET_TESTS, code),
                escape(&x.expr),
                escape(&x.trace.clause),
                x.comparison
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), |c| escape(&comparison_text(c)))
            ));
        }
        self.push("</tbody></table><p class=\"muted\">金融资产比较单位为分；住房、车辆、市场主体为个数。</p>");
        if !a.business.entities.is_empty() {
            self.push("<h3>登记的市场主体（供核实，登记本身不构成否定条件）</h3><table><thead><tr><th>成员</th><th>主体名称</th><th>身份</th><th>成立日期</th><th class=\"n\">注册资本（元）</th><th>超过限额</th><th>记录</th></tr></thead><tbody>");
            for b in &a.business.entities {
                let role = BusinessRole::parse(&b.role).map_or(b.role.as_str(), |r| r.label_zh());
                let who = self.who(&b.member);
                self.pushf(format_args!(
                    "<tr><td>{who}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"code\">{}</td></tr>",
                    escape(b.entity_name.as_deref().unwrap_or("—")),
                    escape(role),
                    b.established_on
                        .map_or_else(|| "不详".to_owned(), |d| d.format("%Y-%m-%d").to_string()),
                    b.registered_capital_fen.map_or_else(|| "不详".to_owned(), yuan),
                    yes_no(b.over_limit),
                    escape(&record_text(&RecordRef::new(b.source.clone(), b.record_id.clone())))
                ));
            }
            self.push("</tbody></table>");
        }
        self.push("</section>");
    }

    fn conditions_table(&mut self, conditions: &[ConditionReport]) {
        self.push("<table class=\"fixed\"><colgroup><col style=\"width:19%\"><col style=\"width:34%\"><col style=\"width:22%\"><col style=\"width:11%\"><col style=\"width:14%\"></colgroup><thead><tr><th>条件</th><th>规则</th><th class=\"n\">整数比较</th><th>结果</th><th>依据记录</th></tr></thead><tbody>");
        for c in conditions {
            self.pushf(format_args!(
                "<tr><td>{}</td><td class=\"code\">{}</td><td class=\"cmp\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(label(CONDITIONS, &c.name)),
                escape(&c.expr),
                c.comparison
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), |x| escape(&comparison_text(x))),
                met_cell(c.holds),
                records_html(&c.records)
            ));
        }
        self.push("</tbody></table>");
    }

    fn determination(&mut self, d: &DeterminationReport) {
        self.pushf(format_args!(
            "<div class=\"det\"><h3>{} {}</h3>",
            escape(label(DETERMINATIONS, &d.code)),
            holds_cell(d.holds)
        ));
        if d.code != "ineligible" {
            self.conditions_table(&d.conditions);
        }
        for m in &d.members {
            let who = self.who(&m.member);
            self.pushf(format_args!(
                "<div class=\"keep\"><p>成员 {who}：{}</p>",
                if m.holds {
                    "<span class=\"ok\">符合</span>"
                } else {
                    "<span class=\"fail\">不符合</span>"
                }
            ));
            self.conditions_table(&m.conditions);
            self.push("</div>");
        }
        if d.code == "ineligible" {
            if d.holds {
                self.push("<p>以上各项认定均不成立。未满足的条件：</p><ul>");
                for f in &d.failed {
                    let member = f
                        .member
                        .as_deref()
                        .map(|m| format!("（{}）", self.who(m)))
                        .unwrap_or_default();
                    self.pushf(format_args!(
                        "<li>{}：{}{member}</li>",
                        escape(label(DETERMINATIONS, &f.determination)),
                        escape(label(CONDITIONS, &f.condition))
                    ));
                }
                self.push("</ul>");
            } else {
                self.push("<p>至少一项认定成立。</p>");
            }
        }
        self.push(&trace_html(&d.trace));
        self.push("</div>");
    }

    fn determinations(&mut self) {
        self.push("<section><h2>五、认定依据</h2><p class=\"muted\">每项认定均予评估，不论申请类别；“成立”表示依核对记录满足该项全部条件，供审核确认参考。整数比较中金额以分为单位，两边按规则乘以月数、人数或比例后比较，不做除法。</p>");
        for d in &self.report.explain.determinations {
            self.determination(d);
        }
        self.push("</section>");
    }

    fn benefits(&mut self) {
        let r = self.report;
        self.push("<section><h2>六、救助金额</h2>");
        match &r.explain.benefit {
            Some(b) => {
                self.pushf(format_args!(
                    "<p>低保月救助金额：<b>{} 元</b>（精确值 {} / {} 分，四舍五入一次到分）。</p>",
                    yuan(b.amount_fen),
                    b.numerator.0,
                    b.denominator.0
                ));
                self.special_members(&b.special_members);
                self.push(&trace_html(&b.trace));
            }
            None => self.push("<p>不符合低保，无低保救助金额。</p>"),
        }
        for b in &r.explain.single_person {
            let who = b.member.as_deref().map(|m| self.who(m)).unwrap_or_default();
            self.pushf(format_args!(
                "<h3>单人户低保：{who}</h3><p>月救助金额：<b>{} 元</b>（精确值 {} / {} 分）。</p>",
                yuan(b.amount_fen),
                b.numerator.0,
                b.denominator.0
            ));
            self.special_members(&b.special_members);
            self.push(&trace_html(&b.trace));
        }
        self.push("</section>");
    }

    fn special_members(&mut self, members: &[crate::report::SpecialMemberReport]) {
        if members.is_empty() {
            self.push("<p>无特殊成员增发。</p>");
            return;
        }
        self.push("<p>特殊成员增发：</p><ul>");
        for s in members {
            let reasons: Vec<&str> = s.reasons.iter().map(|x| label(SPECIAL, x)).collect();
            let who = self.who(&s.member);
            self.pushf(format_args!(
                "<li>{who}：{}</li>",
                escape(&reasons.join("、"))
            ));
        }
        self.push("</ul>");
    }

    fn flags(&mut self) {
        let r = self.report;
        self.push("<section><h2>七、疑点</h2>");
        if r.flags.is_empty() {
            self.push("<p>无疑点。</p></section>");
            return;
        }
        self.push("<table><thead><tr><th>疑点</th><th>成员</th><th>说明</th><th>证据记录</th></tr></thead><tbody>");
        for f in &r.flags {
            let who = f
                .member
                .as_deref()
                .map_or_else(|| "—".to_owned(), |m| self.who(m));
            let mut note = escape(label(FLAG_NOTES, &f.code));
            let details: Vec<String> = f
                .detail
                .iter()
                .filter(|(k, _)| k.as_str() != "note" && k.as_str() != "message")
                .map(|(k, v)| {
                    let v = if k == "registered_capital_fen" {
                        v.parse::<i64>()
                            .map_or_else(|_| "不详".to_owned(), |f| format!("{} 元", yuan(f)))
                    } else if k == "over_limit" {
                        if v == "true" { "是" } else { "否" }.to_owned()
                    } else if k == "sources" {
                        v.split(',')
                            .map(|s| label(IMPUTED, s))
                            .collect::<Vec<_>>()
                            .join("、")
                    } else if k == "role" {
                        BusinessRole::parse(v).map_or(v.clone(), |r| r.label_zh().to_owned())
                    } else {
                        v.clone()
                    };
                    format!("{}：{}", label(DETAIL_KEYS, k), v)
                })
                .collect();
            if !details.is_empty() {
                note.push_str("<br><span class=\"muted\">");
                note.push_str(&escape(&details.join("；")));
                note.push_str("</span>");
            }
            self.pushf(format_args!(
                "<tr><td>{}</td><td>{who}</td><td>{note}</td><td>{}</td></tr>",
                escape(label(FLAGS, &f.code)),
                records_html(&f.evidence)
            ));
        }
        self.push("</tbody></table></section>");
    }

    fn links(&mut self) {
        let r = self.report;
        self.push("<section><h2>八、身份关联</h2><p class=\"muted\">部门记录与成员的关联方式与匹配概率（规则第二条）；疑似匹配仅列出供人工核实，不计入收入和财产。</p>");
        if r.links.is_empty() {
            self.push("<p>无关联记录。</p></section>");
            return;
        }
        // Every link, grouped by member (in the request's order), source,
        // method and counted.
        let order: BTreeMap<&str, usize> = r
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id_number.as_str(), i))
            .collect();
        let mut groups: BTreeMap<(usize, &str, &str, &str, bool), Vec<&str>> = BTreeMap::new();
        for l in &r.links {
            let i = order.get(l.member.as_str()).copied().unwrap_or(usize::MAX);
            groups
                .entry((i, &l.member, &l.source, &l.method, l.counted))
                .or_default()
                .push(&l.record_id);
        }
        self.push("<table class=\"fixed\"><colgroup><col style=\"width:22%\"><col style=\"width:17%\"><col style=\"width:14%\"><col style=\"width:6%\"><col style=\"width:6%\"><col style=\"width:35%\"></colgroup><thead><tr><th>成员</th><th>来源</th><th>关联方式</th><th>计入</th><th class=\"n\">记录数</th><th>记录编号</th></tr></thead><tbody>");
        for ((_, member, source, method, counted), ids) in &groups {
            let who = self.who(member);
            self.pushf(format_args!(
                "<tr><td>{who}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"code\">{}</td></tr>",
                escape(label(SOURCES, source)),
                escape(label(METHODS, method)),
                yes_no(*counted),
                ids.len(),
                escape(&ids.join("、"))
            ));
        }
        self.push("</tbody></table>");
        // The links a reviewer must look at, with their evidence.
        let doubtful: Vec<_> = r
            .links
            .iter()
            .filter(|l| l.method != "exact" && l.method != "upgraded")
            .collect();
        if !doubtful.is_empty() {
            self.push("<h3>概率匹配、证号姓名不符与疑似匹配的证据</h3><table class=\"fixed\"><colgroup><col style=\"width:15%\"><col style=\"width:13%\"><col style=\"width:18%\"><col style=\"width:12%\"><col style=\"width:9%\"><col style=\"width:33%\"></colgroup><thead><tr><th>来源</th><th>记录编号</th><th>成员</th><th>关联方式</th><th class=\"n\">匹配概率</th><th>匹配证据</th></tr></thead><tbody>");
            for l in doubtful {
                let mut lines = Vec::new();
                evidence_lines("", &l.evidence, &mut lines);
                let who = self.who(&l.member);
                self.pushf(format_args!(
                    "<tr><td>{}</td><td class=\"code\">{}</td><td>{who}</td><td>{}<br>计入：{}</td><td class=\"n\">{:.6}</td><td class=\"code\">{}</td></tr>",
                    escape(label(SOURCES, &l.source)),
                    escape(&l.record_id),
                    escape(label(METHODS, &l.method)),
                    yes_no(l.counted),
                    l.score,
                    lines.iter().map(|x| escape(x)).collect::<Vec<_>>().join("<br>")
                ));
            }
            self.push("</tbody></table>");
        }
        self.push("</section>");
    }

    fn evidence(&mut self) {
        let r = self.report;
        let mut uses: BTreeMap<RecordRef, BTreeSet<String>> = BTreeMap::new();
        let mut add = |rec: &RecordRef, what: String| {
            uses.entry(rec.clone()).or_default().insert(what);
        };
        for m in &r.members {
            for mo in &m.months {
                for rec in &mo.records {
                    add(rec, format!("{} 收入 {}", m.name, mo.month));
                }
                if let Some(i) = &mo.imputed {
                    add(
                        &RecordRef::new(i.source.clone(), i.record_id.clone()),
                        format!("{} 工资推算 {}", m.name, mo.month),
                    );
                }
            }
            for e in &m.excluded_income {
                add(
                    &RecordRef::new(e.source.clone(), e.record_id.clone()),
                    format!("{} 不计入收入 {}", m.name, e.month),
                );
            }
            for rec in &m.severe_disability {
                add(rec, format!("{} 重度残疾", m.name));
            }
        }
        let a = &r.asset_tests;
        for (code, records) in [
            ("financial", &a.financial.records),
            ("housing", &a.housing.records),
            ("vehicles", &a.vehicles.records),
            ("business", &a.business.records),
        ] {
            for rec in records {
                add(rec, format!("财产核对：{}", label(ASSET_TESTS, code)));
            }
        }
        for f in &r.flags {
            for rec in &f.evidence {
                add(rec, format!("疑点：{}", label(FLAGS, &f.code)));
            }
        }
        for d in &r.explain.determinations {
            let conds = d
                .conditions
                .iter()
                .chain(d.members.iter().flat_map(|m| m.conditions.iter()));
            for c in conds {
                for rec in &c.records {
                    add(
                        rec,
                        format!(
                            "认定：{}（{}）",
                            label(DETERMINATIONS, &d.code),
                            label(CONDITIONS, &c.name)
                        ),
                    );
                }
            }
        }
        for l in &r.links {
            let rec = RecordRef::new(l.source.clone(), l.record_id.clone());
            if l.method != "exact" || !uses.contains_key(&rec) {
                let who = self.names.get(l.member.as_str()).copied().unwrap_or("");
                uses.entry(rec)
                    .or_default()
                    .insert(format!("{who} 身份关联：{}", label(METHODS, &l.method)));
            }
        }
        self.push("<section><h2>九、证据记录</h2><p class=\"muted\">本报告引用的全部部门记录，按来源列出记录编号及其用途。</p>");
        if uses.is_empty() {
            self.push("<p>无。</p></section>");
            return;
        }
        let mut by_source: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (rec, what) in &uses {
            by_source
                .entry(rec.source.as_str())
                .or_default()
                .push(format!(
                    "<span class=\"code\">{}</span>（{}）",
                    escape(&rec.record_id),
                    escape(&what.iter().cloned().collect::<Vec<_>>().join("；"))
                ));
        }
        self.push("<table class=\"fixed\"><colgroup><col style=\"width:18%\"><col style=\"width:7%\"><col style=\"width:75%\"></colgroup><thead><tr><th>来源</th><th class=\"n\">记录数</th><th>记录编号（用途）</th></tr></thead><tbody>");
        for (source, items) in &by_source {
            self.pushf(format_args!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                escape(label(SOURCES, source)),
                items.len(),
                items.join("；")
            ));
        }
        self.push("</tbody></table></section>");
    }

    fn inputs(&mut self) {
        let r = self.report;
        let i = &r.inputs;
        self.push("<section><h2>十、核对依据</h2><table><thead><tr><th>数据来源</th><th>快照编号</th><th>数据截至</th></tr></thead><tbody>");
        for s in &i.snapshots {
            self.pushf(format_args!(
                "<tr><td>{}</td><td class=\"code\">{}</td><td>{}</td></tr>",
                escape(label(SOURCES, &s.source)),
                escape(&s.id),
                s.as_of.format("%Y-%m-%d")
            ));
        }
        if i.snapshots.is_empty() {
            self.push("<tr><td colspan=\"3\">—</td></tr>");
        }
        self.push("</tbody></table><table><tbody>");
        let region = if i.policy.region.is_empty() {
            "全部地区（参考政策）".to_owned()
        } else {
            i.policy.region.clone()
        };
        let rows = [
            (
                "政策",
                format!(
                    "{}（适用地区：{}；版本：{} 起施行）",
                    escape(&i.policy.name),
                    escape(&region),
                    i.policy.version.format("%Y-%m-%d")
                ),
            ),
            (
                "政策哈希",
                format!("<span class=\"code\">{}</span>", escape(&i.policy.hash)),
            ),
            (
                "匹配设置哈希",
                format!("<span class=\"code\">{}</span>", escape(&i.matcher.hash)),
            ),
            ("引擎版本", escape(&i.engine_version)),
            (
                "报告哈希",
                format!("<span class=\"code\">{}</span>", escape(&r.report_hash)),
            ),
        ];
        for (k, v) in rows {
            self.pushf(format_args!("<tr><th>{k}</th><td>{v}</td></tr>"));
        }
        self.push("</tbody></table><p class=\"muted\">报告哈希为报告 JSON 规范形式（不含 report_hash 本身）的 blake3 值；以同样的快照、政策版本、匹配设置和引擎版本复算，得到相同的报告与哈希。</p></section>");
    }

    fn footer(&mut self) {
        let r = self.report;
        self.pushf(format_args!(
            "<footer>核对报告 {} · 报告哈希 <span class=\"code\">{}</span><br>本报告为核对结果，供审核确认参考，不是救助决定。身份证号码已作脱敏处理。</footer>",
            escape(&r.application_id),
            escape(&r.report_hash)
        ));
    }
}

fn relation_label(r: MemberRelation) -> &'static str {
    r.label_zh()
}

impl Report {
    /// The Chinese labels of the asset tests that fail.
    fn asset_tests_failed(&self) -> Vec<&'static str> {
        let a = &self.asset_tests;
        [
            ("financial", a.financial.pass),
            ("housing", a.housing.pass),
            ("vehicles", a.vehicles.pass),
            ("business", a.business.pass),
        ]
        .into_iter()
        .filter(|(_, pass)| !pass)
        .map(|(code, _)| label(ASSET_TESTS, code))
        .collect()
    }
}

/// The printable report (核对报告) in Chinese: a self-contained HTML page
/// (inline CSS for A4, no external resource, no script), every text
/// escaped, every identity number masked.
pub fn html(report: &Report) -> String {
    let mut page = Page::new(report);
    page.pushf(format_args!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>核对报告 {}</title><style>{}</style></head><body><main class=\"page\">",
        escape(&report.application_id),
        CSS
    ));
    page.header();
    page.conclusion();
    page.members();
    page.income();
    page.assets();
    page.determinations();
    page.benefits();
    page.flags();
    page.links();
    page.evidence();
    page.inputs();
    page.footer();
    page.push("</main></body></html>\n");
    page.out
}
