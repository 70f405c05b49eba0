//! `hedui-policy`: regional policies and the rules that turn one
//! household's facts into findings, each with its trace.
//!
//! # Where it sits
//!
//! ```text
//! sources → snapshots → identity → engine ──Household──▶ policy ──Findings──▶ report
//! ```
//!
//! The engine (`hedui-engine`, DataFusion) joins a check request with every
//! department record linked to its members and hands this crate a
//! [`Household`] of plain facts: the linked records themselves, typed and
//! exact, each with its [`RecordRef`]. This crate applies rules §1 and
//! §3–§6 (`shared/spec/rules.md`) under the [`PolicyVersion`] in force and
//! returns [`Findings`]: who is counted, each member's monthly income items,
//! `W`, `H`, `P`, the asset tests, every determination with its conditions,
//! the benefits and the review flags. `hedui-report` shapes them into the
//! report JSON.
//!
//! A determination is a **finding that supports the county's decision**
//! (审核确认), never the decision itself: it says which rules hold on the
//! records found, with the values, thresholds and policy clauses, so that a
//! refusal can be explained from the report alone and an applicant can
//! challenge any figure.
//!
//! # Invariants
//!
//! - **Pure.** No I/O, no clock, no threads, no randomness: the same facts
//!   and policy version give the same findings. The one exception, kept at
//!   the edge, is [`load_dir`], which reads policy files and calls the pure
//!   parser [`PolicySet::parse`].
//! - **Exact.** Money is [`Fen`](hedui_model::Fen) (`i64` fen); factors are
//!   [`Ratio`]s of integers; link thresholds are [`Ppm`]. No floating point
//!   anywhere. Every comparison with a standard is made on integers
//!   without division (`P < S` ⇔ `W < lookback_months × S × n`), in `i128`;
//!   `H`, `P` and benefits are rounded half up to the fen once, for
//!   display, and never compared.
//! - **Traced.** Every test and determination carries a [`Trace`] (clause,
//!   parameter names and values, computed values, policy version and hash)
//!   and the integer [`Comparison`] it made; every figure names its records.
//! - **Deterministic order.** Members in the request's order; records,
//!   flags and excluded items sorted.
//! - **Reusable by date.** Membership, income and asset functions take the
//!   date (and window) they are evaluated on, so monitoring (rules §7)
//!   reuses them with its run date.
//!
//! # Policies
//!
//! Policy files are TOML, one per regional policy, with versions by
//! `effective_from` (format: [`mod@file`] module). The shipped reference policy
//! (`fixtures/policies/reference.toml`, [`PolicySet::reference`]) has the
//! region prefix `""`, so it covers every region; a real region adds a file
//! with a longer prefix (the longest prefix wins) and usually `base =
//! "reference"`. Each version is hashed (blake3 of its canonical JSON,
//! [`PolicyVersion::canonical_json`]); reports cite the hash.
//!
//! # Example
//!
//! ```
//! use hedui_model::codes::{Assistance, HukouKind, IncomeKind, MemberRelation};
//! use hedui_model::{Date, Fen, Month};
//! use hedui_policy::{DeterminationCode, Household, Member, PolicySet, RecordRef, TaxFact, check};
//!
//! let policies = PolicySet::reference();
//! let applied_on = Date::from_ymd_opt(2026, 3, 15).unwrap();
//! // Born 1949-12-31: 76 on the day, so special and unable to work.
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
//! let findings = check(&policies, &household).unwrap();
//! assert_eq!(findings.policy.version, Date::from_ymd_opt(2026, 1, 1).unwrap());
//! // 800.00 wage − 300.00 employment cost = 500.00 a month, below S = 900.00.
//! assert_eq!(findings.income.per_capita, Some(Fen::yuan(500)));
//! assert_eq!(
//!     findings.holding(),
//!     [DeterminationCode::Dibao, DeterminationCode::TekunCandidate]
//! );
//! // 900.00 − 500.00 + 20 % × 900.00 for the one special member.
//! assert_eq!(findings.benefit.unwrap().amount, Fen::yuan(580));
//! ```

pub mod arith;
pub mod assets;
mod determine;
pub mod error;
mod evaluate;
pub mod facts;
pub mod file;
pub mod findings;
mod flags;
pub mod income;
pub mod membership;
pub mod monitor;
pub mod policy;
pub mod ratio;

pub use error::{Error, Result};
pub use evaluate::{check, evaluate};
pub use facts::Household;
pub use facts::{
    AssetFacts, BusinessFact, Certificate, DeathFact, ExpenseFact, Holding, HousingFundFact,
    HukouFacts, LinkFlag, LinkFlagKind, Member, PropertyFact, RecordRef, SocialInsuranceFact,
    TaxFact, VehicleFact,
};
pub use file::load_dir;
pub use findings::{
    AssetTest, AssetTestName, AssetTests, Benefit, Comparison, Condition, Determination,
    DeterminationCode, ExcludedIncome, ExclusionReason, Failure, Findings, Flag, FlagCode,
    FlaggedBusiness, HouseholdIncome, Imputed, ImputedFrom, KindSource, MemberDetermination,
    MemberFindings, MemberIncome, MonthIncome, Op, ParamValue, Quantity, SpecialMember,
    SpecialReason, Trace, Window,
};
pub use policy::{
    Policy, PolicyHash, PolicyParams, PolicyRef, PolicySet, PolicyVersion, RigidExpenseForm,
    Standard,
};
pub use ratio::{Ppm, Ratio};
