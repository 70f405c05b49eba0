//! `hedui-report`: the verification report (核对报告) — canonical JSON, its
//! blake3 hash, the replay diff, a batch's summary, and the printable page
//! in Chinese.
//!
//! # Where it sits
//!
//! ```text
//! … → engine ──Household──▶ policy ──Findings──▶ report ──▶ <id>.json, <id>.html, summary.json
//!       └── links, snapshot ids, matcher hash ──────▲
//! ```
//!
//! [`build`] shapes the policy's [`Findings`](hedui_policy::Findings) and
//! what the engine adds — every identity link ([`LinkEntry`]) and the
//! snapshots and matcher it used ([`ReportInputs`]) — into a [`Report`]:
//! the JSON of `shared/spec/report.md`, field for field, plus the traces
//! under `explain` so a refusal can be explained from the report alone.
//! [`html`] renders it as an A4 page in Chinese; [`diff`] compares two
//! reports for `hedui replay`; [`summary`] counts a batch.
//!
//! A determination is a **finding that supports the county's decision**
//! (审核确认), never the decision itself: every report carries that wording
//! (`explain.notice`), and the page prints it at the top and the foot.
//!
//! # Invariants
//!
//! - **Canonical.** [`canonical_json`] writes compact JSON with every
//!   object's keys sorted by bytes, integers for money (fen) and counts,
//!   no wall-clock time, and every list sorted (members stay in the
//!   request's order, which is an input). The only floats — link scores and
//!   the matcher's evidence weights — are rounded to 6 decimals through a
//!   fixed decimal formatting, so a score summed in another order still
//!   gives the same bytes. The writer sorts keys itself, so the bytes do
//!   not depend on serde_json's `preserve_order` feature.
//! - **Hashed.** `report_hash` is the blake3 hex of the canonical JSON of
//!   the report without `report_hash`; [`verify_hash`] recomputes it from
//!   any stored text.
//! - **Masked in print.** The HTML never shows an identity number in
//!   clear: members' ids are masked with [`hedui_model::id::mask`] and any
//!   other id-like run of digits is masked too. The JSON keeps ids as
//!   normalised: it is the machine interface, read under authorisation.
//! - **Exact.** Money is `i64` fen end to end; the comparisons in
//!   `explain` are the policy's integer comparisons, both sides shown.
//!
//! # Fields beyond report.md
//!
//! `members[].{id_status, dead, birth_date, age, special,
//! severe_disability}`, `members[].months[].records`, `imputed` as
//! `{from, source, record_id}`, `excluded_income[].month`,
//! `asset_tests.business.{over_limit, entities}`, `flags[].detail`,
//! `inputs.policy.name`, and `explain` ([`Explain`]): the notice, where the
//! household kind came from, `W` and the income traces, each asset test's
//! comparison, every determination with its conditions (values,
//! thresholds, records), per-member conditions and failures, clause and
//! parameters, and each benefit's exact fraction.
//!
//! # Example
//!
//! ```
//! use hedui_model::codes::{Assistance, HukouKind, IncomeKind, MemberRelation};
//! use hedui_model::{Date, Fen, Month};
//! use hedui_policy::{Household, Member, PolicySet, RecordRef, TaxFact, check};
//! use hedui_report::{ReportInputs, SnapshotRef, build, canonical_json, html, verify_hash};
//!
//! let applied_on = Date::from_ymd_opt(2026, 3, 15).unwrap();
//! let mut applicant = Member::new("11010519491231002X", "张伟", MemberRelation::Applicant);
//! for m in Month::window_before(applied_on, 12) {
//!     applicant.tax.push(TaxFact {
//!         period: m,
//!         kind: IncomeKind::Wage,
//!         gross: Fen::yuan(800),
//!         tax_paid: None,
//!         record: RecordRef::new("tax", format!("t-{m}")),
//!     });
//! }
//! let household = Household {
//!     application_id: "A1".into(),
//!     region_code: "530302".into(),
//!     hukou_kind: Some(HukouKind::Urban),
//!     assistance: Assistance::Dibao,
//!     applied_on,
//!     members: vec![applicant],
//! };
//! let findings = check(&PolicySet::reference(), &household).unwrap();
//! let inputs = ReportInputs {
//!     snapshots: vec![SnapshotRef {
//!         source: "tax".into(),
//!         id: "ab12".into(),
//!         as_of: Date::from_ymd_opt(2026, 3, 1).unwrap(),
//!     }],
//!     matcher_hash: "cd34".into(),
//!     engine_version: "0.1.0".into(),
//! };
//! let report = build(&findings, vec![], &inputs);
//! assert_eq!(report.determinations, ["dibao", "tekun_candidate"]);
//! assert_eq!(report.per_capita_income_fen, Some(50_000));
//!
//! let json = canonical_json(&report);
//! assert!(verify_hash(&json).unwrap());
//! let page = html(&report);
//! assert!(page.contains("110105********002X") && !page.contains("11010519491231002X"));
//! ```

mod build;
pub mod canonical;
mod canonical_ser;
mod diff;
pub mod error;
mod html;
pub mod labels;
mod outcome;
mod report;

pub use build::{NOTICE_EN, NOTICE_ZH, build, build_sealed};
pub use canonical::{canonical_json, canonical_value_json, content_hash, verify_hash};
pub use canonical_ser::{CanonicalError, to_canonical};
pub use diff::{Difference, diff};
pub use error::{Error, Result};
pub use html::{escape, html, scrub_ids};
pub use outcome::{ErrorReport, Outcome, Summary, error_report, summary};
pub use report::{
    AssetExplain, AssetTestsReport, AssetsExplain, BenefitExplain, BusinessEntity, BusinessTest,
    ComparisonReport, ConditionReport, CountTest, DeterminationReport, ExactInt, ExcludedReport,
    Explain, FailureReport, FlagReport, ImputedReport, IncomeExplain, Inputs, LinkEntry,
    MatcherInput, MemberConditions, MemberReport, MoneyTest, MonthReport, Notice, PolicyInput,
    Report, ReportInputs, SinglePersonBenefit, SnapshotRef, SpecialMemberReport, TraceReport,
    WindowRange,
};
