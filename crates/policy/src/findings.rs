//! Findings: what a check establishes, each with its trace.
//!
//! A finding is evidence for the county's decision (审核确认), never the
//! decision itself. Every figure says what it was computed from: the
//! records, the parameter names and values, the clause of the rules, and
//! the policy version and hash ([`Trace`]). Every comparison with a
//! threshold is shown as the integer comparison actually made
//! ([`Comparison`]): `W < lookback_months * S * n` with both sides, so a
//! reader can check it with pencil and paper and no rounding can mislead.
//!
//! Findings serialize to JSON (`serde`); `hedui-report` shapes them into
//! the report of `report.md`. All lists are sorted or in the request's
//! member order, so the same facts and policy give the same bytes.

use std::collections::BTreeMap;

use hedui_model::codes::{Assistance, BusinessRole, HukouKind, MemberRelation, VehicleKind};
use hedui_model::{CodeList, Date, Fen, Month};
use serde::{Serialize, Serializer};

use crate::facts::RecordRef;
use crate::policy::PolicyRef;
use crate::ratio::{Ppm, Ratio};

/// A parameter or computed value cited in a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamValue {
    /// A count or whole number (`lookback_months`, `n`).
    Int(i64),
    /// Money: serialized `{"fen": …}`.
    Money(Fen),
    /// An exact ratio: `{"num": …, "den": …}`.
    Ratio(Ratio),
    /// A probability in ppm: `{"ppm": …}`.
    Ppm(Ppm),
    /// A switch.
    Bool(bool),
    /// A list of vehicle kinds (codes).
    Kinds(Vec<VehicleKind>),
    /// A date (`YYYY-MM-DD`).
    Date(Date),
    /// A month (`YYYY-MM`).
    Month(Month),
    /// A code or free text.
    Text(String),
    /// A parameter the policy leaves unset: `null`.
    Unset,
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            ParamValue::Int(i) => s.serialize_i64(*i),
            ParamValue::Money(f) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("fen", &f.0)?;
                m.end()
            }
            ParamValue::Ratio(r) => r.serialize(s),
            ParamValue::Ppm(p) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("ppm", &p.get())?;
                m.end()
            }
            ParamValue::Bool(b) => s.serialize_bool(*b),
            ParamValue::Kinds(k) => s.collect_seq(k.iter().map(|k| k.code())),
            ParamValue::Date(d) => s.collect_str(&d.format("%Y-%m-%d")),
            ParamValue::Month(m) => s.collect_str(m),
            ParamValue::Text(t) => s.serialize_str(t),
            ParamValue::Unset => s.serialize_none(),
        }
    }
}

/// Where a finding comes from: the clause of the rules, the policy
/// parameters it used (by their policy-file names), the computed values it
/// used, and the policy version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The clause: `rules §4 financial assets`.
    pub clause: &'static str,
    /// Policy parameters used, by name (`S` for the standard of the
    /// household's kind, `standard.urban` or `standard.rural`).
    pub params: BTreeMap<&'static str, ParamValue>,
    /// Values computed from the facts (`W`, `n`, `E`, …).
    pub values: BTreeMap<&'static str, ParamValue>,
    /// The policy version (and hash) the parameters are from.
    pub policy: PolicyRef,
}

impl Trace {
    /// A trace of a clause under a policy version.
    pub fn new(clause: &'static str, policy: &PolicyRef) -> Trace {
        Trace {
            clause,
            params: BTreeMap::new(),
            values: BTreeMap::new(),
            policy: policy.clone(),
        }
    }

    /// Adds a policy parameter.
    pub fn param(mut self, name: &'static str, value: ParamValue) -> Trace {
        self.params.insert(name, value);
        self
    }

    /// Adds a computed value.
    pub fn value(mut self, name: &'static str, value: ParamValue) -> Trace {
        self.values.insert(name, value);
        self
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
}

impl Op {
    /// The operator's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        }
    }

    /// Applies the operator.
    pub fn apply(self, lhs: i128, rhs: i128) -> bool {
        match self {
            Op::Lt => lhs < rhs,
            Op::Le => lhs <= rhs,
            Op::Gt => lhs > rhs,
            Op::Ge => lhs >= rhs,
            Op::Eq => lhs == rhs,
        }
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.symbol())
    }
}

/// An integer comparison as made: `lhs op rhs`, both sides exact (fen, or
/// fen × counts; no division anywhere).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Comparison {
    /// Left side.
    pub lhs: i128,
    /// Operator.
    pub op: Op,
    /// Right side.
    pub rhs: i128,
}

impl Comparison {
    /// Whether it holds.
    pub fn holds(&self) -> bool {
        self.op.apply(self.lhs, self.rhs)
    }
}

/// One condition of a determination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// Stable name: `p_below_standard`, `financial`, …
    pub name: &'static str,
    /// What it says, in the rules' letters: `W < lookback_months * S * n`.
    pub expr: &'static str,
    /// Whether it holds.
    pub holds: bool,
    /// The integer comparison, when it is one.
    pub comparison: Option<Comparison>,
    /// Records it rests on (certificates, for a disability condition).
    pub records: Vec<RecordRef>,
}

impl Condition {
    /// A condition that is an integer comparison.
    pub fn compare(
        name: &'static str,
        expr: &'static str,
        lhs: i128,
        op: Op,
        rhs: i128,
    ) -> Condition {
        let comparison = Comparison { lhs, op, rhs };
        Condition {
            name,
            expr,
            holds: comparison.holds(),
            comparison: Some(comparison),
            records: Vec::new(),
        }
    }

    /// The same condition, resting on records.
    pub fn with_records(mut self, records: Vec<RecordRef>) -> Condition {
        self.records = records;
        self
    }

    /// A condition that is a fact, resting on records.
    pub fn fact(
        name: &'static str,
        expr: &'static str,
        holds: bool,
        records: Vec<RecordRef>,
    ) -> Condition {
        Condition {
            name,
            expr,
            holds,
            comparison: None,
            records,
        }
    }
}

/// Where the household kind came from (rules §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KindSource {
    /// The request's `hukou_kind`.
    Request,
    /// The applicant's hukou record.
    ApplicantHukou,
}

/// The look-back window: `lookback_months` full months before the month
/// of the check's date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    /// First month.
    pub from: Month,
    /// Last month (the month before the check's date).
    pub to: Month,
    /// The months, oldest first.
    pub months: Vec<Month>,
}

impl Window {
    /// The window of a check (or run) dated `on`.
    pub fn before(on: Date, lookback_months: u32) -> Window {
        let months = Month::window_before(on, lookback_months);
        let this = Month::of(on);
        Window {
            from: months.first().copied().unwrap_or(this),
            to: months.last().copied().unwrap_or(this),
            months,
        }
    }

    /// Whether a date falls in one of the window's months.
    pub fn contains_date(&self, date: Date) -> bool {
        let m = Month::of(date);
        self.from <= m && m <= self.to && !self.months.is_empty()
    }
}

/// Where an imputed wage comes from (rules §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImputedFrom {
    /// The largest non-null `social_insurance.base` of the month's
    /// contributions.
    SocialInsuranceBase,
    /// The largest `housing_fund.base` of the month.
    HousingFundBase,
}

/// An imputed wage: a lead, weaker evidence than a tax record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Imputed {
    /// Which base.
    pub from: ImputedFrom,
    /// The record whose base was taken.
    pub record: RecordRef,
}

/// One member's income items for one month (rules §3), in fen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonthIncome {
    /// The month.
    pub month: Month,
    /// 工资性收入.
    pub wage: Fen,
    /// Set when the wage was imputed from a contribution base.
    pub imputed: Option<Imputed>,
    /// 经营净收入.
    pub business: Fen,
    /// 财产净收入 (rent and interest).
    pub property: Fen,
    /// 其他收入.
    pub other: Fen,
    /// 转移性收入 counted (pension, unemployment benefit).
    pub transfer_in: Fen,
    /// 转移性支出 (tax paid, own contributions).
    pub transfer_out: Fen,
    /// 就业成本 deducted.
    pub employment_cost: Fen,
    /// The month's net; may be negative.
    pub net: Fen,
    /// Records counted in this month, sorted.
    pub records: Vec<RecordRef>,
}

/// Why an item is not income (rules §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    /// `other_benefit`: government assistance is never income.
    OtherBenefit,
    /// A resident-scheme pension while `exclude_resident_pension` is on.
    ResidentPension,
}

/// An income item excluded, and listed as excluded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExcludedIncome {
    /// The month.
    pub month: Month,
    /// The record.
    pub record: RecordRef,
    /// Why.
    pub reason: ExclusionReason,
    /// The amount not counted.
    pub amount: Fen,
}

/// One member's income over the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberIncome {
    /// Every window month, oldest first (months without records are zero).
    pub months: Vec<MonthIncome>,
    /// Sum of the months' nets; may be negative.
    pub window_net: Fen,
    /// Items excluded, by month then record.
    pub excluded: Vec<ExcludedIncome>,
    /// Parameters used.
    pub trace: Trace,
}

/// Why a member is "special" (rules §5): once per member for the increment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialReason {
    /// Aged 60 or more on the date.
    Aged60OrMore,
    /// Under 18 on the date.
    Under18,
    /// Severely disabled on the date.
    SeverelyDisabled,
}

/// What the check found about one declared member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberFindings {
    /// The member's id as in the facts (normalised when valid).
    pub id_number: String,
    /// The declared name.
    pub name: String,
    /// Relation to the applicant.
    pub relation: MemberRelation,
    /// Status of the declared id: `valid`, `upgraded` or the reason it is
    /// invalid (`bad_check_digit`, …).
    pub id_status: &'static str,
    /// Whether the member counts in `n` (rules §1).
    pub counted: bool,
    /// Whether the member is dead on the date (rules §1).
    pub dead: bool,
    /// Birth date used for ages (hukou, else the id).
    pub birth_date: Option<Date>,
    /// Age on the date; `None` without a birth date.
    pub age: Option<i32>,
    /// Certificates making the member severely disabled on the date
    /// (empty: not severely disabled).
    pub severe_disability: Vec<RecordRef>,
    /// Why the member is special (empty: not special, or not counted).
    pub special: Vec<SpecialReason>,
    /// Income; `None` for a member not counted (their records are not
    /// income of the household).
    pub income: Option<MemberIncome>,
}

impl MemberFindings {
    /// The member's window net, when counted.
    pub fn window_net(&self) -> Option<Fen> {
        self.income.as_ref().map(|i| i.window_net)
    }
}

/// The household's income (rules §3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HouseholdIncome {
    /// Σ of the counted members' window nets; may be negative.
    pub members_net: Fen,
    /// `W` = max(0, members_net): the exact figure every test compares.
    pub window_total: Fen,
    /// `H` = W / lookback_months, rounded half up: for display only.
    pub monthly: Fen,
    /// `P` = W / lookback_months / n, rounded half up: for display only;
    /// `None` when no member is counted.
    pub per_capita: Option<Fen>,
    /// Values and parameters.
    pub trace: Trace,
}

/// The four asset tests of rules §4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetTestName {
    /// Bank, securities and insurance values.
    Financial,
    /// Distinct residential certificates.
    Housing,
    /// Vehicles outside the allowed kinds.
    Vehicles,
    /// Market entities over a capital limit.
    Business,
}

impl AssetTestName {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            AssetTestName::Financial => "financial",
            AssetTestName::Housing => "housing",
            AssetTestName::Vehicles => "vehicles",
            AssetTestName::Business => "business",
        }
    }
}

/// A measured quantity: money or a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quantity {
    /// Fen: `{"fen": …}`.
    Money(Fen),
    /// A count: `{"count": …}`.
    Count(u64),
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Quantity::Money(f) => m.serialize_entry("fen", &f.0)?,
            Quantity::Count(c) => m.serialize_entry("count", c)?,
        }
        m.end()
    }
}

/// One asset test with its values, limit and records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssetTest {
    /// Which test.
    pub name: AssetTestName,
    /// What was measured.
    pub value: Quantity,
    /// The limit; `None` for the business test without a capital limit.
    pub limit: Option<Quantity>,
    /// Whether the test passes.
    pub pass: bool,
    /// The integer comparison made, when it is one (financial, housing,
    /// vehicles).
    pub comparison: Option<Comparison>,
    /// Records counted (sorted).
    pub records: Vec<RecordRef>,
    /// Parameters and clause.
    pub trace: Trace,
}

/// A market entity flagged for review (rules §4 business).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlaggedBusiness {
    /// The member.
    pub member: String,
    /// The `business` record.
    pub record: RecordRef,
    /// The member's role.
    pub role: BusinessRole,
    /// `entity_name`.
    pub entity_name: Option<String>,
    /// `established_on` (`None`: unknown, taken as established).
    pub established_on: Option<Date>,
    /// `registered_capital` (`None`: unknown).
    pub registered_capital: Option<Fen>,
    /// Whether the capital exceeds `business_capital_limit`.
    pub over_limit: bool,
}

/// The asset tests (rules §4), as of the check's date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssetTests {
    /// Financial assets ≤ financial_months × S × n.
    pub financial: AssetTest,
    /// Distinct residential certificates ≤ max_residential.
    pub housing: AssetTest,
    /// No held vehicle outside allowed_vehicle_kinds.
    pub vehicles: AssetTest,
    /// No flagged entity over business_capital_limit.
    pub business: AssetTest,
    /// Every entity flagged for review, by member then record.
    pub flagged_business: Vec<FlaggedBusiness>,
}

impl AssetTests {
    /// The four tests in order.
    pub fn all(&self) -> [&AssetTest; 4] {
        [
            &self.financial,
            &self.housing,
            &self.vehicles,
            &self.business,
        ]
    }

    /// Whether every test passes.
    pub fn all_pass(&self) -> bool {
        self.all().iter().all(|t| t.pass)
    }
}

/// The determinations of rules §5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeterminationCode {
    /// 低保.
    Dibao,
    /// 低收入.
    LowIncome,
    /// 支出型困难.
    RigidExpense,
    /// 单人户 (低保 for a severely disabled member alone).
    SinglePerson,
    /// 特困 candidate, pending the check of legal supporters.
    TekunCandidate,
    /// None of the above.
    Ineligible,
}

impl DeterminationCode {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            DeterminationCode::Dibao => "dibao",
            DeterminationCode::LowIncome => "low_income",
            DeterminationCode::RigidExpense => "rigid_expense",
            DeterminationCode::SinglePerson => "single_person",
            DeterminationCode::TekunCandidate => "tekun_candidate",
            DeterminationCode::Ineligible => "ineligible",
        }
    }
}

/// A determination evaluated for one member (single_person, tekun).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberDetermination {
    /// The member.
    pub member: String,
    /// Whether it holds for them.
    pub holds: bool,
    /// Their conditions.
    pub conditions: Vec<Condition>,
}

/// A failed condition, as `ineligible` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The determination the condition belongs to.
    pub determination: DeterminationCode,
    /// The member, for a per-member condition.
    pub member: Option<String>,
    /// The condition's name.
    pub condition: &'static str,
}

/// One determination of rules §5: a finding that supports the county's
/// decision (审核确认), never the decision itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Determination {
    /// Which.
    pub code: DeterminationCode,
    /// Whether it holds.
    pub holds: bool,
    /// Household-level conditions (all must hold, and for a per-member
    /// determination at least one member too).
    pub conditions: Vec<Condition>,
    /// Per-member evaluations (single_person, tekun_candidate).
    pub members: Vec<MemberDetermination>,
    /// For `ineligible`: every failed condition of the others.
    pub failed: Vec<Failure>,
    /// Parameters and values.
    pub trace: Trace,
}

/// A member counted for the special increment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpecialMember {
    /// The member.
    pub member: String,
    /// Why (one increment whatever the number of reasons).
    pub reasons: Vec<SpecialReason>,
}

/// A monthly benefit (差额救助), rounded half up once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Benefit {
    /// The member, for a single-person benefit.
    pub member: Option<String>,
    /// The amount, rounded half up to the fen.
    pub amount: Fen,
    /// The exact amount is `numerator / denominator` fen.
    pub numerator: i128,
    /// Positive.
    pub denominator: i128,
    /// The members whose increment is included.
    pub special_members: Vec<SpecialMember>,
    /// Parameters and values.
    pub trace: Trace,
}

/// The review flags of rules §6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagCode {
    /// A declared member has no hukou record.
    NotInHukou,
    /// A declared member is dead.
    DeceasedMemberDeclared,
    /// Hukou moved out or cancelled.
    MovedOut,
    /// No member counted.
    NoCountedMember,
    /// The declared id fails its check digit or format.
    IdInvalid,
    /// The declared name differs from hukou's.
    NameMismatch,
    /// A record linked by id carries another name.
    IdConflict,
    /// A record in the review band, not counted.
    PossibleMatch,
    /// A month's wage was imputed.
    ImputedWage,
    /// The member appears in `staff`.
    StaffRelative,
    /// A market entity flagged for review.
    Business,
}

impl FlagCode {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            FlagCode::NotInHukou => "not_in_hukou",
            FlagCode::DeceasedMemberDeclared => "deceased_member_declared",
            FlagCode::MovedOut => "moved_out",
            FlagCode::NoCountedMember => "no_counted_member",
            FlagCode::IdInvalid => "id_invalid",
            FlagCode::NameMismatch => "name_mismatch",
            FlagCode::IdConflict => "id_conflict",
            FlagCode::PossibleMatch => "possible_match",
            FlagCode::ImputedWage => "imputed_wage",
            FlagCode::StaffRelative => "staff_relative",
            FlagCode::Business => "business",
        }
    }
}

/// A review flag (疑点): its member and evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// Which.
    pub code: FlagCode,
    /// The member it concerns (`None` for `no_counted_member`).
    pub member: Option<String>,
    /// Records behind it, sorted.
    pub evidence: Vec<RecordRef>,
    /// Detail in words and codes (`months`, `capital_fen`, …).
    pub detail: BTreeMap<&'static str, String>,
}

/// Everything a check establishes for one household.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// The request's id.
    pub application_id: String,
    /// The request's region.
    pub region_code: String,
    /// The check's date.
    pub applied_on: Date,
    /// What was applied for.
    pub assistance: Assistance,
    /// The policy version used.
    pub policy: PolicyRef,
    /// Urban or rural (rules §1).
    pub household_kind: HukouKind,
    /// Where the kind came from.
    pub household_kind_from: KindSource,
    /// `S`, fen per person per month.
    pub standard: Fen,
    /// `n`: counted members.
    pub household_size: u32,
    /// The look-back window.
    pub window: Window,
    /// Every declared member, in the request's order.
    pub members: Vec<MemberFindings>,
    /// W, H, P.
    pub income: HouseholdIncome,
    /// The asset tests.
    pub asset_tests: AssetTests,
    /// Every determination, evaluated whatever was applied for, in the
    /// order of rules §5.
    pub determinations: Vec<Determination>,
    /// The 低保 benefit, when `dibao` holds.
    pub benefit: Option<Benefit>,
    /// The benefit of each `single_person` member.
    pub single_person: Vec<Benefit>,
    /// Every review flag, sorted by code, member, evidence.
    pub flags: Vec<Flag>,
}

impl Findings {
    /// The codes of the determinations that hold, sorted by code.
    pub fn holding(&self) -> Vec<DeterminationCode> {
        let mut v: Vec<DeterminationCode> = self
            .determinations
            .iter()
            .filter(|d| d.holds)
            .map(|d| d.code)
            .collect();
        v.sort_by_key(|c| c.code());
        v
    }

    /// A determination by code.
    pub fn determination(&self, code: DeterminationCode) -> &Determination {
        self.determinations
            .iter()
            .find(|d| d.code == code)
            .expect("every determination is evaluated")
    }

    /// Whether a determination holds.
    pub fn holds(&self, code: DeterminationCode) -> bool {
        self.determination(code).holds
    }

    /// The flags with a code.
    pub fn flags_of(&self, code: FlagCode) -> impl Iterator<Item = &Flag> {
        self.flags.iter().filter(move |f| f.code == code)
    }

    /// A member's findings by id.
    pub fn member(&self, id_number: &str) -> Option<&MemberFindings> {
        self.members.iter().find(|m| m.id_number == id_number)
    }
}
