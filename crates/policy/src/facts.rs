//! Household facts: what the engine knows of one household, as plain data.
//!
//! The engine (DataFusion, `hedui-engine`) fills these from the check
//! request joined with every department record that identity resolution
//! **linked** to a declared member (rules §2). They are the linked records
//! themselves, typed and exact, each with its [`RecordRef`]: no rule is
//! applied before the policy applies it. The engine does not sum, filter by
//! window, drop null bases or pick maxima — the rules do that here, once,
//! where they are tested. Concretely:
//!
//! - put every linked record of the member in its list, whatever its month
//!   or date: the policy selects the look-back window and the dates;
//! - put a record in the review band (rules §2.4, possible match) **only**
//!   in [`Member::link_flags`] as [`LinkFlagKind::PossibleMatch`], never in
//!   the income or asset lists: it is not counted;
//! - a record linked by id whose name disagrees (rules §2.3) goes in its
//!   list (it is counted) **and** in `link_flags` as
//!   [`LinkFlagKind::IdConflict`];
//! - keep nulls as `None` where the contract allows them: a null
//!   `tax_paid` is 0, a null contribution base is skipped by imputation,
//!   a null capital is flagged as unknown — the policy decides.
//!
//! All facts derive `Serialize` and `Deserialize`, so a household can be
//! written as JSON for a golden test or a bug report.

use hedui_model::codes::{
    Assistance, BusinessRole, BusinessStatus, DisabilityCategory, ExpenseCategory, Gender,
    HukouKind, HukouStatus, IncomeKind, MemberRelation, PropertyUsage, Scheme, SocialInsuranceKind,
    VehicleKind,
};
use hedui_model::{Date, Fen, Month};
use serde::{Deserialize, Serialize};

/// A department record cited as evidence: the table (`tax`, `hukou`, …)
/// and the department's own `record_id`. Ordered by source then id, so
/// every list of evidence is sorted the same way.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    /// The contract table the record comes from.
    pub source: String,
    /// The department's `record_id`.
    pub record_id: String,
}

impl RecordRef {
    /// A reference to `record_id` of `source`.
    pub fn new(source: impl Into<String>, record_id: impl Into<String>) -> RecordRef {
        RecordRef {
            source: source.into(),
            record_id: record_id.into(),
        }
    }
}

/// One check (核对): the request and its declared members with their
/// linked records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    /// The request's `application_id`.
    pub application_id: String,
    /// The request's `region_code`: selects the regional policy.
    pub region_code: String,
    /// The request's `hukou_kind`, when given; else the applicant's hukou
    /// record decides (rules §1).
    pub hukou_kind: Option<HukouKind>,
    /// What was applied for. Every determination is evaluated whatever it is.
    pub assistance: Assistance,
    /// Fixes the look-back window and the date of the asset tests.
    pub applied_on: Date,
    /// The declared members (共同生活家庭成员), in the request's order.
    pub members: Vec<Member>,
}

/// A declared member and every record linked to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The normalised 18-character id when the declared id is valid, else
    /// the declared text as received. Findings name the member by it.
    pub id_number: String,
    /// The id exactly as declared, when it is not `id_number` itself (a
    /// 15-digit legacy number, lower-case `x`, spaces): its parse gives
    /// the member's id status (`upgraded`, …). `None`: `id_number` is
    /// what was declared.
    #[serde(default)]
    pub declared_id: Option<String>,
    /// The name as declared in the request.
    pub declared_name: String,
    /// Relation to the applicant; the member of relation `applicant` is the
    /// applicant (rules §1: the household kind may come from their hukou).
    pub relation: MemberRelation,
    /// The member's hukou record, `None` when hukou has none.
    pub hukou: Option<HukouFacts>,
    /// Death and cremation records (殡葬, 卫健).
    #[serde(default)]
    pub deaths: Vec<DeathFact>,
    /// Disability certificates (残联).
    #[serde(default)]
    pub disability: Vec<Certificate>,
    /// Individual income tax records, every period.
    #[serde(default)]
    pub tax: Vec<TaxFact>,
    /// Social insurance records, every period.
    #[serde(default)]
    pub social_insurance: Vec<SocialInsuranceFact>,
    /// Housing provident fund records, every period.
    #[serde(default)]
    pub housing_fund: Vec<HousingFundFact>,
    /// Registered assets and financial holdings.
    #[serde(default)]
    pub assets: AssetFacts,
    /// Rigid expenses (刚性支出), every date.
    #[serde(default)]
    pub expenses: Vec<ExpenseFact>,
    /// `staff` records (经办人员及近亲属备案) naming the member.
    #[serde(default)]
    pub staff: Vec<RecordRef>,
    /// Identity doubts raised by identity resolution (rules §2.3, §2.4).
    #[serde(default)]
    pub link_flags: Vec<LinkFlag>,
}

impl Member {
    /// A member with no linked record at all.
    pub fn new(
        id_number: impl Into<String>,
        declared_name: impl Into<String>,
        relation: MemberRelation,
    ) -> Member {
        Member {
            id_number: id_number.into(),
            declared_id: None,
            declared_name: declared_name.into(),
            relation,
            hukou: None,
            deaths: Vec::new(),
            disability: Vec::new(),
            tax: Vec::new(),
            social_insurance: Vec::new(),
            housing_fund: Vec::new(),
            assets: AssetFacts::default(),
            expenses: Vec::new(),
            staff: Vec::new(),
            link_flags: Vec::new(),
        }
    }
}

/// The member's hukou (户籍) record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HukouFacts {
    /// The name hukou holds.
    pub name: String,
    /// `active`, `deceased`, `moved_out`, `cancelled`.
    pub status: HukouStatus,
    /// Date of death, move or cancellation.
    pub status_date: Option<Date>,
    /// Urban or rural.
    pub hukou_kind: Option<HukouKind>,
    /// Birth date; when `None` the id number's birth date is used.
    pub birth_date: Option<Date>,
    /// Gender.
    pub gender: Option<Gender>,
    /// The record.
    pub record: RecordRef,
}

/// A `death` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeathFact {
    /// `death_date`.
    pub date: Date,
    /// The record.
    pub record: RecordRef,
}

/// A disability certificate (残疾人证).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// 残疾类别.
    pub category: DisabilityCategory,
    /// 残疾等级, 1 (most severe) to 4.
    pub grade: u8,
    /// Issue date; `None`: taken as issued.
    pub issued_on: Option<Date>,
    /// Last day of validity, inclusive; `None`: no end.
    pub valid_until: Option<Date>,
    /// The record.
    pub record: RecordRef,
}

impl Certificate {
    /// Whether the certificate is valid on `on`: issued on or before and
    /// valid until on or after (a certificate whose `valid_until` is `on`
    /// is still valid that day).
    pub fn valid_on(&self, on: Date) -> bool {
        self.issued_on.is_none_or(|d| d <= on) && self.valid_until.is_none_or(|d| d >= on)
    }
}

/// A `tax` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxFact {
    /// `period`.
    pub period: Month,
    /// `income_kind`.
    pub kind: IncomeKind,
    /// `gross`, income before tax.
    pub gross: Fen,
    /// `tax_paid`; `None` counts as 0.
    pub tax_paid: Option<Fen>,
    /// The record.
    pub record: RecordRef,
}

/// A `social_insurance` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialInsuranceFact {
    /// `period`.
    pub period: Month,
    /// `contribution`, `pension`, `unemployment_benefit`, `other_benefit`.
    pub kind: SocialInsuranceKind,
    /// `employee` or `resident`; `None` when the department gives none.
    pub scheme: Option<Scheme>,
    /// 缴费基数 of a contribution.
    pub base: Option<Fen>,
    /// The member's own share paid, or the benefit received.
    pub amount: Fen,
    /// The record.
    pub record: RecordRef,
}

/// A `housing_fund` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HousingFundFact {
    /// `period`.
    pub period: Month,
    /// 缴存基数.
    pub base: Option<Fen>,
    /// The record.
    pub record: RecordRef,
}

/// The member's assets, as the extracts give them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetFacts {
    /// `bank` rows: `balance`.
    #[serde(default)]
    pub bank: Vec<Holding>,
    /// `securities` rows: `market_value`.
    #[serde(default)]
    pub securities: Vec<Holding>,
    /// `insurance` rows: `cash_value`.
    #[serde(default)]
    pub insurance: Vec<Holding>,
    /// `property` rows, one per owner per certificate.
    #[serde(default)]
    pub property: Vec<PropertyFact>,
    /// `vehicle` rows.
    #[serde(default)]
    pub vehicles: Vec<VehicleFact>,
    /// `business` rows in which the member has a role.
    #[serde(default)]
    pub business: Vec<BusinessFact>,
}

/// A financial holding's value as of its extract's `as_of`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// Balance, market value or cash value; `None` (null) counts as 0 and
    /// the record is still cited.
    pub value: Option<Fen>,
    /// The record.
    pub record: RecordRef,
}

/// A `property` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyFact {
    /// 不动产权证号: co-owners share it.
    pub certificate_no: String,
    /// `residential`, `parking`, …
    pub usage: PropertyUsage,
    /// Registration date.
    pub registered_on: Date,
    /// Cancellation date; gone on that day.
    pub cancelled_on: Option<Date>,
    /// The record.
    pub record: RecordRef,
}

/// A `vehicle` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleFact {
    /// `vehicle_kind`.
    pub kind: VehicleKind,
    /// Registration date.
    pub registered_on: Date,
    /// Deregistration date; gone on that day.
    pub deregistered_on: Option<Date>,
    /// The record.
    pub record: RecordRef,
}

/// A `business` row: the member's role in a market entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessFact {
    /// `legal_rep`, `shareholder`, `sole_proprietor`.
    pub role: BusinessRole,
    /// `active`, `revoked`, `cancelled`.
    pub status: BusinessStatus,
    /// Establishment date; `None`: unknown, taken as established.
    pub established_on: Option<Date>,
    /// 注册资本; `None`: unknown, flagged as such.
    pub registered_capital: Option<Fen>,
    /// `entity_name`, for the flag's detail.
    pub entity_name: Option<String>,
    /// The record.
    pub record: RecordRef,
}

/// An `expense` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpenseFact {
    /// `medical`, `education`, `disability_care`.
    pub category: ExpenseCategory,
    /// Amount paid.
    pub amount: Fen,
    /// Date of the expense.
    pub date: Date,
    /// The record.
    pub record: RecordRef,
}

/// A doubt identity resolution raised about one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFlag {
    /// Which doubt.
    pub kind: LinkFlagKind,
    /// The record it concerns.
    pub record: RecordRef,
}

/// The two identity doubts of rules §2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkFlagKind {
    /// Linked by id, but the name disagrees (§2.3): counted, for review.
    IdConflict,
    /// In the review band (§2.4): listed, **not** counted.
    PossibleMatch,
}

/// Whether something registered on `start` and ended on `end` (if ever) is
/// held on `on`: registered on or before `on`, and not ended on or before
/// `on` (a thing ended on `on` is gone that day).
pub fn held_on(start: Date, end: Option<Date>, on: Date) -> bool {
    start <= on && end.is_none_or(|e| e > on)
}
