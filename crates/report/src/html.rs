//! The printable report (核对报告) in Chinese: one self-contained HTML page.
//!
//! Inline CSS sized for A4, no external resource, no script. Every text is
//! escaped, and no identity number appears in clear: a member's id is
//! shown masked ([`hedui_model::id::mask`], `530302********123X`), and any
//! other run of 15 to 18 digits (with an optional final `X`) standing alone
//! in the text — an id in link evidence, in an application id, in a record
//! id — is masked the same way before it is escaped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Range;

use hedui_model::CodeList;
use hedui_model::codes::{BusinessRole, MemberRelation};
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

fn push_stars(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('*', n));
}

/// Appends [`mask`](hedui_model::id::mask) of an id-like run (ASCII, 15 to 18 bytes) without
/// the intermediate string.
fn push_masked_run(out: &mut String, run: &str) {
    out.push_str(&run[..6]);
    push_stars(out, run.len() - 10);
    out.push_str(&run[run.len() - 4..]);
}

/// Appends `escape(&mask(id))` for any text: the first six and last four
/// characters kept (escaped), the rest starred. The result has no digit
/// run longer than six, so there is nothing left to scrub.
fn push_masked_escaped(out: &mut String, id: &str) {
    let n = id.chars().count();
    if n < 11 {
        push_stars(out, n);
        return;
    }
    let head = id.char_indices().nth(6).map_or(id.len(), |(i, _)| i);
    let tail = id.char_indices().nth(n - 4).map_or(id.len(), |(i, _)| i);
    escape_into(out, &id[..head]);
    push_stars(out, n - 10);
    escape_into(out, &id[tail..]);
}

/// Appends `text` to `out` with every standalone id-like run masked,
/// passing each other piece through `put`. Works on bytes: the runs are
/// ASCII, and a byte of a multi-byte character is never ASCII, so run
/// bounds fall on character bounds.
///
/// Masking looks only at a run and the bytes either side of it, so
/// scrubbing pieces one by one gives the same text as scrubbing them
/// joined, as long as every separator written between them starts and
/// ends with a byte that is not ASCII alphanumeric (`、`, `；`, `（`,
/// `, `, `=`): the page relies on that to escape list items in place.
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
            push_masked_run(out, &text[start..i]);
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

/// Appends [`escape`] of `text` to `out`.
fn push_escaped(out: &mut String, text: &str) {
    scrub_into(out, text, escape_into);
}

/// Escapes text for HTML (after masking id-like runs).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    push_escaped(&mut out, text);
    out
}

/// Appends each item escaped, `sep` between them (a separator that keeps
/// the items' scrubbing apart, see [`scrub_into`]).
fn push_escaped_joined<'s>(out: &mut String, items: impl IntoIterator<Item = &'s str>, sep: &str) {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        push_escaped(out, item);
    }
}

fn push_int(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Yuan with two decimals and thousands separators: `12,345.60`.
fn push_yuan(out: &mut String, fen: i64) {
    if fen < 0 {
        out.push('-');
    }
    let a = fen.unsigned_abs();
    let mut buf = itoa::Buffer::new();
    let int = buf.format(a / 100);
    for (i, c) in int.char_indices() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push('.');
    push_int(out, a % 100 / 10);
    push_int(out, a % 10);
}

/// [`push_yuan`] into a new string, for the few figures written once a page.
fn yuan(fen: i64) -> String {
    let mut s = String::with_capacity(24);
    push_yuan(&mut s, fen);
    s
}

fn push_yuan_opt(out: &mut String, fen: Option<i64>) {
    match fen {
        Some(f) => push_yuan(out, f),
        None => out.push('—'),
    }
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

/// A comparison, escaped: `2522400 < 2592000`. (Scrubbed as one text: a
/// side of 15 digits or more is masked like an id.)
fn push_comparison(out: &mut String, scratch: &mut String, c: &ComparisonReport) {
    scratch.clear();
    let _ = write!(scratch, "{} {} {}", c.lhs.0, op_symbol(&c.op), c.rhs.0);
    push_escaped(out, scratch);
}

/// One line of records of a source: `社会保险（人社）：<span …>s-1、s-2</span>`.
fn push_record_group<'r>(out: &mut String, source: &str, ids: impl IntoIterator<Item = &'r str>) {
    push_escaped(out, label(SOURCES, source));
    out.push_str("：<span class=\"code\">");
    push_escaped_joined(out, ids, "、");
    out.push_str("</span>");
}

/// Records, one line per source: `社会保险（人社）：s-1、s-2`.
fn push_records(out: &mut String, records: &[RecordRef]) {
    if records.is_empty() {
        out.push_str(r#"<span class="muted">—</span>"#);
        return;
    }
    if records.is_sorted_by(|a, b| a.source <= b.source) {
        // As the report builds them: one run per source, no map needed.
        for (i, run) in records.chunk_by(|a, b| a.source == b.source).enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            push_record_group(
                out,
                &run[0].source,
                run.iter().map(|r| r.record_id.as_str()),
            );
        }
        return;
    }
    let mut by_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in records {
        by_source.entry(&r.source).or_default().push(&r.record_id);
    }
    for (i, (source, ids)) in by_source.iter().enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        push_record_group(out, source, ids.iter().copied());
    }
}

/// A parameter or value of a trace, in words (not escaped).
fn push_param_text(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("未设定"),
        Value::Bool(b) => out.push_str(if *b { "开" } else { "关" }),
        Value::String(s) => out.push_str(s),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push('、');
                }
                push_param_text(out, x);
            }
        }
        Value::Object(o) => {
            if let Some(f) = o.get("fen").and_then(Value::as_i64) {
                push_yuan(out, f);
                out.push_str(" 元");
            } else if let (Some(n), Some(d)) = (o.get("num"), o.get("den")) {
                let _ = write!(out, "{n}/{d}");
            } else if let Some(p) = o.get("ppm") {
                let _ = write!(out, "{p} ppm");
            } else if let Some(c) = o.get("count") {
                let _ = write!(out, "{c}");
            } else {
                crate::canonical::write_value(out, v);
            }
        }
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
    }
}

fn is_scalar(v: &Value) -> bool {
    !v.is_object() && !v.is_array()
}

/// Link evidence flattened into `key: value` lines, each escaped, `<br>`
/// between them. Its two buffers are kept from one link to the next.
#[derive(Default)]
struct EvidenceLines {
    /// The path of the value being walked: `person.id`, `alts[0]`.
    path: String,
    /// The line being built, before escaping.
    line: String,
    /// Lines written for the current link.
    written: usize,
}

impl EvidenceLines {
    fn write(&mut self, out: &mut String, evidence: &Value) {
        self.path.clear();
        self.written = 0;
        self.walk(out, evidence);
    }

    fn emit(&mut self, out: &mut String) {
        if self.written > 0 {
            out.push_str("<br>");
        }
        self.written += 1;
        push_escaped(out, &self.line);
        self.line.clear();
    }

    fn walk(&mut self, out: &mut String, v: &Value) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    let len = self.path.len();
                    if !self.path.is_empty() {
                        self.path.push('.');
                    }
                    self.path.push_str(k);
                    self.walk(out, x);
                    self.path.truncate(len);
                }
            }
            Value::Array(a) if a.iter().all(is_scalar) => {
                self.line.push_str(&self.path);
                self.line.push_str(": ");
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        self.line.push_str(", ");
                    }
                    push_param_text(&mut self.line, x);
                }
                self.emit(out);
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    match x {
                        Value::Object(o) if o.values().all(is_scalar) => {
                            let _ = write!(self.line, "{}[{i}]: ", self.path);
                            let parts = o.iter().filter(|(_, v)| !v.is_null());
                            for (j, (k, v)) in parts.enumerate() {
                                if j > 0 {
                                    self.line.push_str(", ");
                                }
                                self.line.push_str(k);
                                self.line.push('=');
                                push_param_text(&mut self.line, v);
                            }
                            self.emit(out);
                        }
                        x => {
                            let len = self.path.len();
                            let _ = write!(self.path, "[{i}]");
                            self.walk(out, x);
                            self.path.truncate(len);
                        }
                    }
                }
            }
            Value::Null => {}
            other => {
                if !self.path.is_empty() {
                    self.line.push_str(&self.path);
                    self.line.push_str(": ");
                }
                match other {
                    Value::String(s) => self.line.push_str(s),
                    x => {
                        let _ = write!(self.line, "{x}");
                    }
                }
                self.emit(out);
            }
        }
    }
}

/// The uses of every record the report cites (section 九), each use's
/// text kept in one buffer rather than a string of its own.
#[derive(Default)]
struct RecordUses<'a> {
    texts: String,
    /// Source, record id and the range of the use's text in `texts`.
    uses: Vec<(&'a str, &'a str, Range<usize>)>,
}

impl<'a> RecordUses<'a> {
    fn add(&mut self, source: &'a str, record_id: &'a str, what: std::fmt::Arguments<'_>) {
        let from = self.texts.len();
        let _ = self.texts.write_fmt(what);
        self.uses.push((source, record_id, from..self.texts.len()));
    }

    fn add_record(&mut self, rec: &'a RecordRef, what: std::fmt::Arguments<'_>) {
        self.add(&rec.source, &rec.record_id, what);
    }
}

/// A member named and masked: `张伟（530302********123X）`, escaped (the
/// masked id alone for an id not among the members).
fn push_member(out: &mut String, names: &BTreeMap<&str, &str>, id: &str) {
    if let Some(name) = names.get(id) {
        // `（` keeps the name's scrubbing apart from the id's.
        push_escaped(out, name);
        out.push('（');
        push_masked_escaped(out, id);
        out.push('）');
    } else {
        push_masked_escaped(out, id);
    }
}

/// A flag's detail value in words (not escaped).
fn push_flag_detail(out: &mut String, key: &str, v: &str) {
    match key {
        "registered_capital_fen" => match v.parse::<i64>() {
            Ok(f) => {
                push_yuan(out, f);
                out.push_str(" 元");
            }
            Err(_) => out.push_str("不详"),
        },
        "over_limit" => out.push_str(if v == "true" { "是" } else { "否" }),
        "sources" => {
            for (i, s) in v.split(',').enumerate() {
                if i > 0 {
                    out.push('、');
                }
                out.push_str(label(IMPUTED, s));
            }
        }
        "role" => out.push_str(BusinessRole::parse(v).map_or(v, |r| r.label_zh())),
        _ => out.push_str(v),
    }
}

/// What the links table groups by: the member's place in the request,
/// the member, source, method and whether counted.
type LinkGroup<'r> = (usize, &'r str, &'r str, &'r str, bool);

struct Page<'a> {
    report: &'a Report,
    out: String,
    names: BTreeMap<&'a str, &'a str>,
    /// Plain text being put together before it is escaped as one piece.
    scratch: String,
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
            scratch: String::new(),
        }
    }

    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// Appends formatted text without an intermediate string.
    fn pushf(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = std::fmt::Write::write_fmt(&mut self.out, args);
    }

    /// Appends `text`, escaped.
    fn text(&mut self, text: &str) {
        push_escaped(&mut self.out, text);
    }

    /// Appends the text `build` writes, escaped as one piece (for a text
    /// whose parts are not kept apart by separators, see [`scrub_into`]).
    fn text_of(&mut self, build: impl FnOnce(&mut String)) {
        let mut plain = std::mem::take(&mut self.scratch);
        plain.clear();
        build(&mut plain);
        push_escaped(&mut self.out, &plain);
        self.scratch = plain;
    }

    /// Appends a member named and masked: `张伟（530302********123X）`,
    /// escaped.
    fn push_who(&mut self, id: &str) {
        push_member(&mut self.out, &self.names, id);
    }

    /// [`Page::push_who`] into a new string.
    fn who(&self, id: &str) -> String {
        let mut s = String::new();
        push_member(&mut s, &self.names, id);
        s
    }

    fn trace(&mut self, t: &TraceReport) {
        self.push(r#"<p class="muted">规则条款：<span class="code">"#);
        self.text(&t.clause);
        self.push("</span></p>");
        if !t.params.is_empty() {
            self.push(r#"<p class="muted">政策参数："#);
            self.param_list(&t.params);
            self.push("</p>");
        }
        if !t.values.is_empty() {
            self.push(r#"<p class="muted">计算值："#);
            self.param_list(&t.values);
            self.push("</p>");
        }
    }

    /// `key = value；…`, key and value escaped each.
    fn param_list(&mut self, m: &BTreeMap<String, Value>) {
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 {
                self.push("；");
            }
            self.text(k);
            self.push(" = ");
            self.text_of(|s| push_param_text(s, v));
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
                "是"
            } else if m.dead {
                "否（已死亡）"
            } else {
                "否"
            };
            self.push("<tr><td>");
            self.text(&m.name);
            self.push("</td><td class=\"code\">");
            push_masked_escaped(&mut self.out, &m.id_number);
            self.push("</td><td>");
            match label(ID_STATUS, &m.id_status) {
                s if s == m.id_status => {
                    self.push("无效（");
                    self.text(s);
                    self.push("）");
                }
                s => self.text(s),
            }
            self.push("</td><td>");
            self.text(relation_label(m.relation));
            self.push("</td><td class=\"n\">");
            match m.age {
                Some(a) => push_int(&mut self.out, a),
                None => self.push("—"),
            }
            self.push("</td><td>");
            self.push(counted);
            self.push("</td><td>");
            if m.special.is_empty() {
                self.push("—");
            } else {
                let special = m.special.iter().map(|s| label(SPECIAL, s));
                push_escaped_joined(&mut self.out, special, "、");
            }
            self.push("</td><td class=\"n\">");
            push_yuan_opt(&mut self.out, m.window_net_fen);
            self.push("</td></tr>");
        }
        self.push("</tbody></table></section>");
    }

    fn member_income(&mut self, m: &MemberReport) {
        self.push("<h3>");
        self.push_who(&m.id_number);
        self.push("</h3>");
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
            self.pushf(format_args!("<tr><td class=\"m\">{}</td>", mo.month));
            for x in v {
                self.push("<td class=\"n\">");
                push_yuan(&mut self.out, x);
                self.push("</td>");
            }
            self.push("<td>");
            match &mo.imputed {
                Some(i) => {
                    imputed_notes
                        .entry(format!(
                            "按{}推算（{}记录）",
                            label(IMPUTED, &i.from),
                            label(SOURCES, &i.source)
                        ))
                        .or_default()
                        .push(format!("{} {}", mo.month, i.record_id));
                    self.push("推算（");
                    self.text(label(IMPUTED, &i.from));
                    self.push("）");
                }
                None => self.push("—"),
            }
            self.push("</td></tr>");
        }
        self.push("<tr class=\"total\"><td>合计</td>");
        for x in tot {
            self.push("<td class=\"n\">");
            push_yuan(&mut self.out, x);
            self.push("</td>");
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
        self.push("<p>期间净收入合计：<b>");
        push_yuan_opt(&mut self.out, m.window_net_fen);
        self.push(
            " 元</b>（单位：元；月净收入 = 各项收入 − 转移性支出 − 就业成本，可为负数）。</p>",
        );
        if !m.excluded_income.is_empty() {
            self.push("<p>不计入收入的项目：</p><table><thead><tr><th>月份</th><th>来源</th><th>记录编号</th><th>原因</th><th class=\"n\">金额（元）</th></tr></thead><tbody>");
            for e in &m.excluded_income {
                self.pushf(format_args!("<tr><td>{}</td><td>", e.month));
                self.text(label(SOURCES, &e.source));
                self.push("</td><td class=\"code\">");
                self.text(&e.record_id);
                self.push("</td><td>");
                self.text(label(EXCLUSIONS, &e.reason));
                self.push("</td><td class=\"n\">");
                push_yuan(&mut self.out, e.amount_fen);
                self.push("</td></tr>");
            }
            self.push("</tbody></table>");
        }
    }

    fn income(&mut self) {
        let r = self.report;
        self.push("<section><h2>三、收入核对</h2>");
        if let Some(t) = &r.explain.income.member_income {
            self.trace(t);
        }
        for m in r.members.iter().filter(|m| m.counted) {
            self.member_income(m);
        }
        for m in r.members.iter().filter(|m| !m.counted) {
            self.push("<p class=\"muted\">");
            self.push_who(&m.id_number);
            self.push(" 不计入家庭人口，其记录不计入家庭收入。</p>");
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
        self.trace(&inc.trace);
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
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>",
                label(ASSET_TESTS, code),
                value,
                limit,
                pass_cell(pass),
            ));
            push_records(&mut self.out, records);
            self.push("</td></tr>");
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
                "<tr><td>{}</td><td class=\"code\">",
                label(ASSET_TESTS, code)
            ));
            self.text(&x.expr);
            self.push("<br>");
            self.text(&x.trace.clause);
            self.push("</td><td class=\"cmp\">");
            self.comparison(x.comparison.as_ref());
            self.push("</td></tr>");
        }
        self.push("</tbody></table><p class=\"muted\">金融资产比较单位为分；住房、车辆、市场主体为个数。</p>");
        if !a.business.entities.is_empty() {
            self.push("<h3>登记的市场主体（供核实，登记本身不构成否定条件）</h3><table><thead><tr><th>成员</th><th>主体名称</th><th>身份</th><th>成立日期</th><th class=\"n\">注册资本（元）</th><th>超过限额</th><th>记录</th></tr></thead><tbody>");
            for b in &a.business.entities {
                let role = BusinessRole::parse(&b.role).map_or(b.role.as_str(), |r| r.label_zh());
                self.push("<tr><td>");
                self.push_who(&b.member);
                self.push("</td><td>");
                self.text(b.entity_name.as_deref().unwrap_or("—"));
                self.push("</td><td>");
                self.text(role);
                self.push("</td><td>");
                match b.established_on {
                    Some(d) => self.pushf(format_args!("{}", d.format("%Y-%m-%d"))),
                    None => self.push("不详"),
                }
                self.push("</td><td class=\"n\">");
                match b.registered_capital_fen {
                    Some(c) => push_yuan(&mut self.out, c),
                    None => self.push("不详"),
                }
                self.pushf(format_args!(
                    "</td><td>{}</td><td class=\"code\">",
                    yes_no(b.over_limit)
                ));
                // Source label and record id, scrubbed as one text.
                self.text_of(|s| {
                    let _ = write!(s, "{} {}", label(SOURCES, &b.source), b.record_id);
                });
                self.push("</td></tr>");
            }
            self.push("</tbody></table>");
        }
        self.push("</section>");
    }

    /// A comparison's cell text, `—` without one.
    fn comparison(&mut self, c: Option<&ComparisonReport>) {
        match c {
            Some(c) => push_comparison(&mut self.out, &mut self.scratch, c),
            None => self.push("—"),
        }
    }

    fn conditions_table(&mut self, conditions: &[ConditionReport]) {
        self.push("<table class=\"fixed\"><colgroup><col style=\"width:19%\"><col style=\"width:34%\"><col style=\"width:22%\"><col style=\"width:11%\"><col style=\"width:14%\"></colgroup><thead><tr><th>条件</th><th>规则</th><th class=\"n\">整数比较</th><th>结果</th><th>依据记录</th></tr></thead><tbody>");
        for c in conditions {
            self.push("<tr><td>");
            self.text(label(CONDITIONS, &c.name));
            self.push("</td><td class=\"code\">");
            self.text(&c.expr);
            self.push("</td><td class=\"cmp\">");
            self.comparison(c.comparison.as_ref());
            self.push("</td><td>");
            self.push(met_cell(c.holds));
            self.push("</td><td>");
            push_records(&mut self.out, &c.records);
            self.push("</td></tr>");
        }
        self.push("</tbody></table>");
    }

    fn determination(&mut self, d: &DeterminationReport) {
        self.push("<div class=\"det\"><h3>");
        self.text(label(DETERMINATIONS, &d.code));
        self.push(" ");
        self.push(holds_cell(d.holds));
        self.push("</h3>");
        if d.code != "ineligible" {
            self.conditions_table(&d.conditions);
        }
        for m in &d.members {
            self.push("<div class=\"keep\"><p>成员 ");
            self.push_who(&m.member);
            self.pushf(format_args!(
                "：{}</p>",
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
        self.trace(&d.trace);
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
                self.trace(&b.trace);
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
            self.trace(&b.trace);
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
            self.push("<li>");
            self.push_who(&s.member);
            self.push("：");
            let reasons = s.reasons.iter().map(|x| label(SPECIAL, x));
            push_escaped_joined(&mut self.out, reasons, "、");
            self.push("</li>");
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
            self.push("<tr><td>");
            self.text(label(FLAGS, &f.code));
            self.push("</td><td>");
            match f.member.as_deref() {
                Some(m) => self.push_who(m),
                None => self.push("—"),
            }
            self.push("</td><td>");
            self.text(label(FLAG_NOTES, &f.code));
            let mut details = f
                .detail
                .iter()
                .filter(|(k, _)| k.as_str() != "note" && k.as_str() != "message")
                .peekable();
            if details.peek().is_some() {
                self.push("<br><span class=\"muted\">");
                // The details scrubbed as one text, as their values may
                // run into each other.
                self.text_of(|s| {
                    for (i, (k, v)) in details.enumerate() {
                        if i > 0 {
                            s.push('；');
                        }
                        s.push_str(label(DETAIL_KEYS, k));
                        s.push('：');
                        push_flag_detail(s, k, v);
                    }
                });
                self.push("</span>");
            }
            self.push("</td><td>");
            push_records(&mut self.out, &f.evidence);
            self.push("</td></tr>");
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
        // Stable: within a group the records keep the links' order.
        let mut rows: Vec<(LinkGroup<'_>, &str)> = r
            .links
            .iter()
            .map(|l| {
                let i = order.get(l.member.as_str()).copied().unwrap_or(usize::MAX);
                (
                    (i, &*l.member, &*l.source, &*l.method, l.counted),
                    &*l.record_id,
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        self.push("<table class=\"fixed\"><colgroup><col style=\"width:22%\"><col style=\"width:17%\"><col style=\"width:14%\"><col style=\"width:6%\"><col style=\"width:6%\"><col style=\"width:35%\"></colgroup><thead><tr><th>成员</th><th>来源</th><th>关联方式</th><th>计入</th><th class=\"n\">记录数</th><th>记录编号</th></tr></thead><tbody>");
        for group in rows.chunk_by(|a, b| a.0 == b.0) {
            let (_, member, source, method, counted) = group[0].0;
            self.push("<tr><td>");
            self.push_who(member);
            self.push("</td><td>");
            self.text(label(SOURCES, source));
            self.push("</td><td>");
            self.text(label(METHODS, method));
            self.pushf(format_args!(
                "</td><td>{}</td><td class=\"n\">{}</td><td class=\"code\">",
                yes_no(counted),
                group.len()
            ));
            push_escaped_joined(&mut self.out, group.iter().map(|(_, id)| *id), "、");
            self.push("</td></tr>");
        }
        self.push("</tbody></table>");
        // The links a reviewer must look at, with their evidence.
        let mut doubtful = r
            .links
            .iter()
            .filter(|l| l.method != "exact" && l.method != "upgraded")
            .peekable();
        if doubtful.peek().is_some() {
            self.push("<h3>概率匹配、证号姓名不符与疑似匹配的证据</h3><table class=\"fixed\"><colgroup><col style=\"width:15%\"><col style=\"width:13%\"><col style=\"width:18%\"><col style=\"width:12%\"><col style=\"width:9%\"><col style=\"width:33%\"></colgroup><thead><tr><th>来源</th><th>记录编号</th><th>成员</th><th>关联方式</th><th class=\"n\">匹配概率</th><th>匹配证据</th></tr></thead><tbody>");
            let mut lines = EvidenceLines::default();
            for l in doubtful {
                self.push("<tr><td>");
                self.text(label(SOURCES, &l.source));
                self.push("</td><td class=\"code\">");
                self.text(&l.record_id);
                self.push("</td><td>");
                self.push_who(&l.member);
                self.push("</td><td>");
                self.text(label(METHODS, &l.method));
                self.pushf(format_args!(
                    "<br>计入：{}</td><td class=\"n\">{:.6}</td><td class=\"code\">",
                    yes_no(l.counted),
                    l.score
                ));
                lines.write(&mut self.out, &l.evidence);
                self.push("</td></tr>");
            }
            self.push("</tbody></table>");
        }
        self.push("</section>");
    }

    fn evidence(&mut self) {
        let r = self.report;
        let mut uses = RecordUses::default();
        for m in &r.members {
            for mo in &m.months {
                for rec in &mo.records {
                    uses.add_record(rec, format_args!("{} 收入 {}", m.name, mo.month));
                }
                if let Some(i) = &mo.imputed {
                    uses.add(
                        &i.source,
                        &i.record_id,
                        format_args!("{} 工资推算 {}", m.name, mo.month),
                    );
                }
            }
            for e in &m.excluded_income {
                uses.add(
                    &e.source,
                    &e.record_id,
                    format_args!("{} 不计入收入 {}", m.name, e.month),
                );
            }
            for rec in &m.severe_disability {
                uses.add_record(rec, format_args!("{} 重度残疾", m.name));
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
                uses.add_record(rec, format_args!("财产核对：{}", label(ASSET_TESTS, code)));
            }
        }
        for f in &r.flags {
            for rec in &f.evidence {
                uses.add_record(rec, format_args!("疑点：{}", label(FLAGS, &f.code)));
            }
        }
        for d in &r.explain.determinations {
            let conds = d
                .conditions
                .iter()
                .chain(d.members.iter().flat_map(|m| m.conditions.iter()));
            for c in conds {
                for rec in &c.records {
                    uses.add_record(
                        rec,
                        format_args!(
                            "认定：{}（{}）",
                            label(DETERMINATIONS, &d.code),
                            label(CONDITIONS, &c.name)
                        ),
                    );
                }
            }
        }
        // A link is a use of its record unless it is exact and the record
        // has a use already (from the figures or an earlier link).
        uses.uses
            .sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
        let cited = uses.uses.len();
        let mut linked: BTreeSet<(&str, &str)> = BTreeSet::new();
        for l in &r.links {
            let key = (l.source.as_str(), l.record_id.as_str());
            let used = || {
                linked.contains(&key)
                    || uses.uses[..cited]
                        .binary_search_by(|u| (u.0, u.1).cmp(&key))
                        .is_ok()
            };
            if l.method != "exact" || !used() {
                let who = self.names.get(l.member.as_str()).copied().unwrap_or("");
                uses.add(
                    key.0,
                    key.1,
                    format_args!("{who} 身份关联：{}", label(METHODS, &l.method)),
                );
                linked.insert(key);
            }
        }
        self.push("<section><h2>九、证据记录</h2><p class=\"muted\">本报告引用的全部部门记录，按来源列出记录编号及其用途。</p>");
        if uses.uses.is_empty() {
            self.push("<p>无。</p></section>");
            return;
        }
        // By record, then each record's uses sorted and deduplicated.
        let RecordUses {
            texts,
            uses: mut list,
        } = uses;
        list.sort_by(|x, y| (x.0, x.1, &texts[x.2.clone()]).cmp(&(y.0, y.1, &texts[y.2.clone()])));
        list.dedup_by(|x, y| (x.0, x.1, &texts[x.2.clone()]) == (y.0, y.1, &texts[y.2.clone()]));
        self.push("<table class=\"fixed\"><colgroup><col style=\"width:18%\"><col style=\"width:7%\"><col style=\"width:75%\"></colgroup><thead><tr><th>来源</th><th class=\"n\">记录数</th><th>记录编号（用途）</th></tr></thead><tbody>");
        for source in list.chunk_by(|x, y| x.0 == y.0) {
            let records = source.chunk_by(|x, y| x.1 == y.1);
            self.push("<tr><td>");
            self.text(label(SOURCES, source[0].0));
            self.pushf(format_args!(
                "</td><td class=\"n\">{}</td><td>",
                records.clone().count()
            ));
            for (i, record) in records.enumerate() {
                if i > 0 {
                    self.push("；");
                }
                self.push("<span class=\"code\">");
                self.text(record[0].1);
                self.push("</span>（");
                let what = record.iter().map(|u| &texts[u.2.clone()]);
                push_escaped_joined(&mut self.out, what, "；");
                self.push("）");
            }
            self.push("</td></tr>");
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
