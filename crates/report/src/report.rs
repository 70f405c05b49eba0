//! The report's types: the JSON of `report.md`, field for field.
//!
//! Every struct here serialises to exactly the object `report.md` documents
//! (plus the additions listed in the crate docs); money is integer fen
//! (`*_fen`, `i64`), counts are integers, dates `YYYY-MM-DD`, months
//! `YYYY-MM`, codes their stable English code. The one float is a link's
//! `score`, a match probability, rounded to
//! [`FLOAT_DECIMALS`](crate::canonical::FLOAT_DECIMALS) decimals.
//!
//! The types also deserialise, so a stored report can be read back
//! ([`Report::from_json`]) — by `hedui replay` to find the snapshots,
//! policy version and matcher settings it names.

use std::collections::BTreeMap;
use std::fmt;

use hedui_model::codes::{Assistance, HukouKind, MemberRelation};
use hedui_model::{Date, Month};
use hedui_policy::RecordRef;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::canonical::canonical_json;
use crate::error::Result;

/// A snapshot a report read: the department source, the snapshot's
/// content id (blake3 of its normalised content) and its `as_of` date.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SnapshotRef {
    /// The contract table (`tax`, `hukou`, …).
    pub source: String,
    /// The snapshot's content id, blake3 hex.
    pub id: String,
    /// The extract's `as_of` date.
    pub as_of: Date,
}

/// What the engine adds to the policy's findings: the inputs the report
/// must name so that it can be replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportInputs {
    /// Every snapshot read (any order: the report sorts them).
    pub snapshots: Vec<SnapshotRef>,
    /// blake3 of the matcher settings and trained weights.
    pub matcher_hash: String,
    /// The engine's version (`0.1.0`).
    pub engine_version: String,
}

/// One department record resolved to a declared member (rules §2): every
/// record used in the figures, and every possible match listed for review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkEntry {
    /// The contract table.
    pub source: String,
    /// The department's `record_id`.
    pub record_id: String,
    /// The member's `id_number` (as normalised).
    pub member: String,
    /// `exact`, `upgraded`, `id_conflict`, `fuzzy` or `possible`.
    pub method: String,
    /// Posterior match probability (1 for exact and upgraded): a
    /// probability, never money. Rounded to 6 decimals in the report.
    pub score: f64,
    /// Whether the record counts in the member's figures (`possible`:
    /// never).
    pub counted: bool,
    /// What the record carried (`id`, `name`) and why it was placed. A
    /// record linked by its id (`exact`, `upgraded`) says just that
    /// (`"id_relation": "equal"`); every other link carries the matcher's
    /// whole explanation — prior, per-field levels and weights, the
    /// alternatives — the match-weight waterfall a reviewer reads. (The
    /// waterfall of an id link, the same for all of a person's records,
    /// stays in the stored links.)
    pub evidence: Value,
}

/// The look-back window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRange {
    /// First month.
    pub from: Month,
    /// Last month.
    pub to: Month,
}

/// Where an imputed wage was taken from (rules §3): a lead, weaker
/// evidence than a tax record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImputedReport {
    /// `social_insurance_base` or `housing_fund_base`.
    pub from: String,
    /// The record's source (`social_insurance`, `housing_fund`).
    pub source: String,
    /// The record whose base was taken.
    pub record_id: String,
}

/// One member's income items for one month, fen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthReport {
    /// The month.
    pub month: Month,
    /// 工资性收入.
    pub wage_fen: i64,
    /// 经营净收入.
    pub business_fen: i64,
    /// 财产净收入.
    pub property_fen: i64,
    /// 其他收入.
    pub other_fen: i64,
    /// 转移性收入.
    pub transfer_in_fen: i64,
    /// 转移性支出.
    pub transfer_out_fen: i64,
    /// 就业成本.
    pub employment_cost_fen: i64,
    /// The month's net; may be negative.
    pub net_fen: i64,
    /// `null`, or where the wage was imputed from.
    pub imputed: Option<ImputedReport>,
    /// The records counted in the month, sorted (added to report.md).
    pub records: Vec<RecordRef>,
}

/// An income item not counted, and listed as such.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedReport {
    /// The record's source.
    pub source: String,
    /// The record.
    pub record_id: String,
    /// `other_benefit` or `resident_pension`.
    pub reason: String,
    /// The amount not counted.
    pub amount_fen: i64,
    /// The month (added to report.md).
    pub month: Month,
}

/// One declared member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberReport {
    /// As normalised (the declared text when invalid). Masked in HTML.
    pub id_number: String,
    /// The declared name.
    pub name: String,
    /// Relation to the applicant.
    pub relation: MemberRelation,
    /// Whether the member counts in `n` (rules §1).
    pub counted: bool,
    /// Σ of the months' nets; `null` for a member not counted, whose
    /// records are not household income and are not computed.
    pub window_net_fen: Option<i64>,
    /// Every window month, oldest first (empty when not counted).
    pub months: Vec<MonthReport>,
    /// Items excluded from income, by month then record.
    pub excluded_income: Vec<ExcludedReport>,
    /// `valid`, `upgraded`, or why the declared id is invalid (added).
    pub id_status: String,
    /// Dead on the check's date (added).
    pub dead: bool,
    /// Birth date used for ages, hukou's else the id's (added).
    pub birth_date: Option<Date>,
    /// Age on the check's date (added).
    pub age: Option<i32>,
    /// Why the member is special (`aged_60_or_more`, `under_18`,
    /// `severely_disabled`; added).
    pub special: Vec<String>,
    /// Certificates making the member severely disabled (added).
    pub severe_disability: Vec<RecordRef>,
}

/// An asset test measured in money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyTest {
    /// Σ of the values, fen.
    pub value_fen: i64,
    /// `financial_months × S × n`, fen.
    pub limit_fen: i64,
    /// `value_fen <= limit_fen`.
    pub pass: bool,
    /// The records summed, sorted.
    pub records: Vec<RecordRef>,
}

/// An asset test measured as a count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountTest {
    /// The count.
    pub value: u64,
    /// The largest count allowed.
    pub limit: u64,
    /// `value <= limit`.
    pub pass: bool,
    /// The records counted, sorted.
    pub records: Vec<RecordRef>,
}

/// A market entity flagged for review (rules §4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessEntity {
    /// The member.
    pub member: String,
    /// `business`.
    pub source: String,
    /// The record.
    pub record_id: String,
    /// `legal_rep`, `shareholder`, `sole_proprietor`.
    pub role: String,
    /// `entity_name`.
    pub entity_name: Option<String>,
    /// `established_on` (`null`: unknown, taken as established).
    pub established_on: Option<Date>,
    /// 注册资本, fen (`null`: unknown).
    pub registered_capital_fen: Option<i64>,
    /// Whether the capital exceeds the policy's limit.
    pub over_limit: bool,
}

/// The business test: a registration alone never disqualifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessTest {
    /// Entities flagged for review (count).
    pub value: u64,
    /// `business_capital_limit`, fen; `null` when the policy sets none.
    pub limit: Option<i64>,
    /// No flagged entity's capital exceeds the limit.
    pub pass: bool,
    /// The flagged entities' records, sorted.
    pub records: Vec<RecordRef>,
    /// Flagged entities over the limit (added).
    pub over_limit: u64,
    /// Every flagged entity, by member then record (added).
    pub entities: Vec<BusinessEntity>,
}

/// The four asset tests of rules §4, as of `applied_on`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetTestsReport {
    /// Bank, securities and insurance values.
    pub financial: MoneyTest,
    /// Distinct residential certificates.
    pub housing: CountTest,
    /// Vehicles held outside the allowed kinds (limit 0).
    pub vehicles: CountTest,
    /// Market entities.
    pub business: BusinessTest,
}

/// A single-person household's benefit (单人户).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinglePersonBenefit {
    /// The member.
    pub id_number: String,
    /// Monthly benefit, fen, rounded half up once.
    pub benefit_fen: i64,
}

/// A review flag (疑点).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagReport {
    /// The code of rules §6.
    pub code: String,
    /// The member (`null` for `no_counted_member`).
    pub member: Option<String>,
    /// The records behind it, sorted.
    pub evidence: Vec<RecordRef>,
    /// Detail in words and codes (added): `months`, `registered_capital_fen`, …
    pub detail: BTreeMap<String, String>,
}

/// The policy version used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyInput {
    /// The policy's name (added).
    pub name: String,
    /// Its region prefix (`""`: every region).
    pub region: String,
    /// The version's `effective_from`.
    pub version: Date,
    /// blake3 of the version's canonical JSON.
    pub hash: String,
}

/// The matcher settings used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatcherInput {
    /// blake3 of the settings and trained weights.
    pub hash: String,
}

/// Everything a replay needs to recompute the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// Snapshots read, sorted by source, id, as_of.
    pub snapshots: Vec<SnapshotRef>,
    /// Policy version.
    pub policy: PolicyInput,
    /// Matcher.
    pub matcher: MatcherInput,
    /// Engine version.
    pub engine_version: String,
}

/// An exact integer of a trace (a side of a comparison, a benefit's
/// numerator): a JSON integer when it fits `i64`, else its decimal text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExactInt(pub i128);

impl Serialize for ExactInt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(self.0) {
            Ok(v) => s.serialize_i64(v),
            Err(_) => s.collect_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for ExactInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ExactInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or its decimal text")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ExactInt, E> {
                Ok(ExactInt(i128::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ExactInt, E> {
                Ok(ExactInt(i128::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExactInt, E> {
                v.parse().map(ExactInt).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer comparison as the policy made it: `lhs op rhs`, no
/// division anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparisonReport {
    /// Left side.
    pub lhs: ExactInt,
    /// `<`, `<=`, `>`, `>=`, `==`.
    pub op: String,
    /// Right side.
    pub rhs: ExactInt,
}

/// Where a figure comes from: the clause of the rules, the policy
/// parameters (by their policy-file names) and the computed values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceReport {
    /// `rules §4 financial assets: …`.
    pub clause: String,
    /// Parameters, by name: an integer, `{"fen": …}`, `{"num", "den"}`,
    /// `{"ppm": …}`, a boolean, a list of codes, a date, or `null`
    /// (unset).
    pub params: BTreeMap<String, Value>,
    /// Computed values (`W`, `n`, `E`, …), in the same forms.
    pub values: BTreeMap<String, Value>,
}

/// One condition of a determination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionReport {
    /// Stable name (`p_below_standard`, `financial`, …).
    pub name: String,
    /// What it says, in the rules' letters.
    pub expr: String,
    /// Whether it holds.
    pub holds: bool,
    /// The integer comparison, when it is one.
    pub comparison: Option<ComparisonReport>,
    /// Records it rests on, sorted.
    pub records: Vec<RecordRef>,
}

/// A determination evaluated for one member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberConditions {
    /// The member.
    pub member: String,
    /// Whether it holds for them.
    pub holds: bool,
    /// Their conditions.
    pub conditions: Vec<ConditionReport>,
}

/// A failed condition, as `ineligible` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReport {
    /// The determination it belongs to.
    pub determination: String,
    /// The member, for a per-member condition.
    pub member: Option<String>,
    /// The condition's name.
    pub condition: String,
}

/// One determination of rules §5 with everything it was decided on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeterminationReport {
    /// The code.
    pub code: String,
    /// Whether it holds.
    pub holds: bool,
    /// Household-level conditions, in the rules' order.
    pub conditions: Vec<ConditionReport>,
    /// Per-member evaluations (single_person, tekun_candidate).
    pub members: Vec<MemberConditions>,
    /// For `ineligible`: every failed condition of the others.
    pub failed: Vec<FailureReport>,
    /// Clause, parameters, values.
    pub trace: TraceReport,
}

/// An asset test's comparison and trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetExplain {
    /// What the test says.
    pub expr: String,
    /// The integer comparison (`null` for business without a limit).
    pub comparison: Option<ComparisonReport>,
    /// Clause, parameters, values.
    pub trace: TraceReport,
}

/// The four asset tests' comparisons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetsExplain {
    /// Financial assets.
    pub financial: AssetExplain,
    /// Housing.
    pub housing: AssetExplain,
    /// Vehicles.
    pub vehicles: AssetExplain,
    /// Business.
    pub business: AssetExplain,
}

/// The household's income figures as compared (exact) and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeExplain {
    /// Σ of the counted members' window nets; may be negative.
    pub members_net_fen: i64,
    /// `W = max(0, members_net)`: the figure every test compares.
    pub window_total_fen: i64,
    /// `lookback_months`.
    pub lookback_months: i64,
    /// Clause, parameters, values of `W`, `H`, `P`.
    pub trace: TraceReport,
    /// The parameters of the members' monthly income (rules §3); `null`
    /// when no member is counted.
    pub member_income: Option<TraceReport>,
}

/// A member counted for the special increment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialMemberReport {
    /// The member.
    pub member: String,
    /// Why (one increment whatever the number of reasons).
    pub reasons: Vec<String>,
}

/// A benefit's exact computation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitExplain {
    /// The member, for a single-person benefit.
    pub member: Option<String>,
    /// Rounded half up once, fen.
    pub amount_fen: i64,
    /// The exact amount is `numerator / denominator` fen.
    pub numerator: ExactInt,
    /// Positive.
    pub denominator: ExactInt,
    /// Members whose increment is included.
    pub special_members: Vec<SpecialMemberReport>,
    /// Clause, parameters, values.
    pub trace: TraceReport,
}

/// The wording that a determination is a finding, not a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// In Chinese.
    pub zh: String,
    /// In English.
    pub en: String,
}

/// Everything needed to explain the report's figures and determinations
/// from the report alone (added to report.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explain {
    /// A determination supports the county's decision (审核确认); it is
    /// not the decision.
    pub notice: Notice,
    /// `request` or `applicant_hukou`: where the household kind came from.
    pub household_kind_from: String,
    /// `W`, `H`, `P`.
    pub income: IncomeExplain,
    /// The asset tests' comparisons.
    pub asset_tests: AssetsExplain,
    /// Every determination, held or not, in the order of rules §5.
    pub determinations: Vec<DeterminationReport>,
    /// The 低保 benefit's computation, when `dibao` holds.
    pub benefit: Option<BenefitExplain>,
    /// Each single-person benefit's computation, by member.
    pub single_person: Vec<BenefitExplain>,
}

/// The verification report (核对报告) of one household: the JSON of
/// `report.md`. Build it with [`crate::build`]; write it with
/// [`canonical_json`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The request's id.
    pub application_id: String,
    /// The request's region code.
    pub region_code: String,
    /// The check's date.
    pub applied_on: Date,
    /// What was applied for.
    pub assistance: Assistance,
    /// Urban or rural (rules §1).
    pub household_kind: HukouKind,
    /// `n`: counted members.
    pub household_size: u32,
    /// The look-back window.
    pub window: WindowRange,
    /// `S`, fen per person per month.
    pub standard_fen: i64,
    /// `H`, rounded half up.
    pub household_income_fen: i64,
    /// `P`, rounded half up; `null` when `n = 0`.
    pub per_capita_income_fen: Option<i64>,
    /// Every declared member, in the request's order.
    pub members: Vec<MemberReport>,
    /// The asset tests.
    pub asset_tests: AssetTestsReport,
    /// Codes of the determinations that hold, sorted.
    pub determinations: Vec<String>,
    /// Monthly 低保 benefit; `null` when `dibao` does not hold.
    pub benefit_fen: Option<i64>,
    /// Single-person benefits.
    pub single_person: Vec<SinglePersonBenefit>,
    /// Review flags, sorted by code, member, evidence.
    pub flags: Vec<FlagReport>,
    /// Every record used and every possible match, sorted by source,
    /// record_id, member.
    pub links: Vec<LinkEntry>,
    /// What the report was computed from.
    pub inputs: Inputs,
    /// Traces (added).
    pub explain: Explain,
    /// blake3 hex of the canonical JSON of everything else.
    pub report_hash: String,
}

impl Report {
    /// The report as a JSON value (all of it, `report_hash` included).
    pub fn to_value(&self) -> Value {
        // Only strings, integers, booleans, floats and string-keyed maps:
        // serialising to a `Value` cannot fail.
        serde_json::to_value(self).expect("a report serialises to JSON")
    }

    /// The canonical JSON (see [`canonical_json`]).
    pub fn to_json(&self) -> String {
        canonical_json(self)
    }

    /// Reads a stored report. It does not check the hash: see
    /// [`crate::verify_hash`].
    pub fn from_json(json: &str) -> Result<Report> {
        Ok(serde_json::from_str(json)?)
    }

    /// blake3 of the canonical JSON of the report without `report_hash`:
    /// what `report_hash` must be.
    pub fn content_hash(&self) -> String {
        // Written directly (no `Value` tree): the same bytes as
        // `canonical::content_hash(&self.to_value())`, which tests check.
        let text = crate::canonical_ser::to_canonical(self, Some(crate::canonical::HASH_KEY))
            .expect("a report serialises to JSON");
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }

    /// Sets `report_hash` to [`Report::content_hash`].
    pub fn seal(&mut self) {
        self.report_hash = self.content_hash();
    }

    /// Seals the report and returns its canonical JSON — what [`seal`]
    /// then [`Report::to_json`] give — from one serialisation: the report
    /// is written with a placeholder hash of 64 zeros, the hash is taken
    /// over those bytes without the `report_hash` member (exactly the
    /// canonical JSON of the rest: members are written in key order,
    /// separated by commas, without whitespace), and the placeholder is
    /// overwritten with it. A batch writes 9 GB of reports; serialising
    /// each once instead of twice is a twelfth of its time.
    ///
    /// [`seal`]: Report::seal
    pub fn seal_to_json(&mut self) -> String {
        use crate::canonical::HASH_KEY;
        const PLACEHOLDER: &str =
            "0000000000000000000000000000000000000000000000000000000000000000";
        self.report_hash = PLACEHOLDER.to_owned();
        let mut text = self.to_json();
        // Inside a JSON string a quote is escaped, so this member text
        // occurs only as the member itself.
        let member = format!("\"{HASH_KEY}\":\"{PLACEHOLDER}\"");
        let Some(at) = text.find(&member) else {
            self.seal();
            return self.to_json();
        };
        let end = at + member.len();
        let bytes = text.as_bytes();
        // The member and the comma that separates it from a neighbour.
        let (cut_from, cut_to) = if bytes.get(end) == Some(&b',') {
            (at, end + 1)
        } else if at > 0 && bytes[at - 1] == b',' {
            (at - 1, end)
        } else {
            (at, end)
        };
        let mut hasher = blake3::Hasher::new();
        hasher.update(&bytes[..cut_from]);
        hasher.update(&bytes[cut_to..]);
        let hash = hasher.finalize().to_hex().to_string();
        let value = at + HASH_KEY.len() + 4;
        text.replace_range(value..value + PLACEHOLDER.len(), &hash);
        self.report_hash = hash;
        text
    }

    /// Whether `report_hash` is the content hash.
    pub fn hash_is_valid(&self) -> bool {
        self.report_hash == self.content_hash()
    }

    /// A member by id.
    pub fn member(&self, id_number: &str) -> Option<&MemberReport> {
        self.members.iter().find(|m| m.id_number == id_number)
    }
}
