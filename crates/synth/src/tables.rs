//! The tables the city writes: their columns exactly as the input contract
//! names them, and a row builder over Arrow arrays.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder,
    StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use hedui_model::Date;

/// Precision of money columns (Decimal128(18, 2), yuan).
pub const MONEY_PRECISION: u8 = 18;
/// Scale of money columns.
pub const MONEY_SCALE: i8 = 2;

/// A column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Str,
    Date,
    Money,
    F64,
    I32,
    Bool,
}

impl Ty {
    fn data_type(self) -> DataType {
        match self {
            Ty::Str => DataType::Utf8,
            Ty::Date => DataType::Date32,
            Ty::Money => DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE),
            Ty::F64 => DataType::Float64,
            Ty::I32 => DataType::Int32,
            Ty::Bool => DataType::Boolean,
        }
    }
}

use Ty::{Bool as B, Date as D, F64 as F, I32 as I, Money as M, Str as S};

type Cols = &'static [(&'static str, Ty, bool)];

/// Every table the city writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum T {
    Hukou,
    Death,
    Tax,
    SocialInsurance,
    HousingFund,
    Property,
    Vehicle,
    Bank,
    Securities,
    Insurance,
    Business,
    Disability,
    Expense,
    Staff,
    Applications,
    Members,
    RosterHouseholds,
    RosterMembers,
    TruthRecords,
    TruthPersons,
    TruthHouseholds,
    TruthRequests,
    /// `later/truth/events`: the events injected into the later snapshot.
    TruthEvents,
}

/// The 14 department extracts, in the order they are written.
pub(crate) const EXTRACTS: [T; 14] = [
    T::Hukou,
    T::Death,
    T::Tax,
    T::SocialInsurance,
    T::HousingFund,
    T::Property,
    T::Vehicle,
    T::Bank,
    T::Securities,
    T::Insurance,
    T::Business,
    T::Disability,
    T::Expense,
    T::Staff,
];

pub(crate) const ALL_TABLES: [T; 22] = [
    T::Hukou,
    T::Death,
    T::Tax,
    T::SocialInsurance,
    T::HousingFund,
    T::Property,
    T::Vehicle,
    T::Bank,
    T::Securities,
    T::Insurance,
    T::Business,
    T::Disability,
    T::Expense,
    T::Staff,
    T::Applications,
    T::Members,
    T::RosterHouseholds,
    T::RosterMembers,
    T::TruthRecords,
    T::TruthPersons,
    T::TruthHouseholds,
    T::TruthRequests,
];

const HUKOU: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("gender", S, true),
    ("birth_date", D, true),
    ("hukou_no", S, true),
    ("relation", S, true),
    ("region_code", S, false),
    ("hukou_kind", S, true),
    ("status", S, false),
    ("status_date", D, true),
];
const DEATH: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("death_date", D, false),
    ("kind", S, true),
];
const TAX: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("period", S, false),
    ("income_kind", S, false),
    ("gross", M, false),
    ("tax_paid", M, true),
    ("payer_code", S, true),
    ("payer_name", S, true),
];
const SOCIAL: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("period", S, false),
    ("kind", S, false),
    ("insurance", S, true),
    ("scheme", S, true),
    ("base", M, true),
    ("amount", M, false),
    ("employer_code", S, true),
    ("employer_name", S, true),
];
const FUND: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("period", S, false),
    ("base", M, true),
    ("deposit", M, true),
    ("balance", M, true),
    ("employer_code", S, true),
    ("employer_name", S, true),
];
const PROPERTY: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("certificate_no", S, false),
    ("usage", S, false),
    ("area_m2", F, true),
    ("share", F, true),
    ("address", S, true),
    ("region_code", S, true),
    ("registered_on", D, false),
    ("cancelled_on", D, true),
    ("assessed_value", M, true),
];
const VEHICLE: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("plate_no", S, true),
    ("vehicle_kind", S, false),
    ("registered_on", D, false),
    ("deregistered_on", D, true),
    ("value", M, true),
];
const BANK: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("institution", S, true),
    ("account_kind", S, true),
    ("balance", M, false),
    ("as_of", D, true),
];
const SECURITIES: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("institution", S, true),
    ("market_value", M, false),
    ("as_of", D, true),
];
const INSURANCE: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("insurer", S, true),
    ("policy_no", S, true),
    ("cash_value", M, false),
    ("annual_premium", M, true),
    ("as_of", D, true),
];
const BUSINESS: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("role", S, false),
    ("entity_name", S, true),
    ("credit_code", S, true),
    ("registered_capital", M, true),
    ("status", S, false),
    ("established_on", D, true),
];
const DISABILITY: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("category", S, false),
    ("grade", I, false),
    ("issued_on", D, true),
    ("valid_until", D, true),
];
const EXPENSE: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("category", S, false),
    ("amount", M, false),
    ("date", D, false),
    ("provider", S, true),
];
const STAFF: Cols = &[
    ("record_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("staff_name", S, true),
    ("staff_unit", S, true),
    ("relation", S, false),
];
const APPLICATIONS: Cols = &[
    ("application_id", S, false),
    ("region_code", S, false),
    ("hukou_kind", S, true),
    ("assistance", S, false),
    ("applied_on", D, false),
    ("authorization_ref", S, false),
];
const MEMBERS: Cols = &[
    ("application_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("relation", S, false),
];
const ROSTER_HOUSEHOLDS: Cols = &[
    ("household_id", S, false),
    ("region_code", S, false),
    ("hukou_kind", S, true),
    ("assistance", S, false),
    ("applied_on", D, false),
    ("authorization_ref", S, false),
    ("since", D, false),
    ("monthly_benefit", M, false),
];
const ROSTER_MEMBERS: Cols = &[
    ("household_id", S, false),
    ("id_number", S, true),
    ("name", S, false),
    ("relation", S, false),
];
const TRUTH_RECORDS: Cols = &[
    ("source", S, false),
    ("record_id", S, false),
    ("person_key", S, true),
    ("noise", S, false),
    ("name_key", S, true),
];
const TRUTH_PERSONS: Cols = &[
    ("person_key", S, false),
    ("name", S, false),
    ("gender", S, false),
    ("birth_date", D, false),
    ("region_code", S, true),
    ("household_key", S, false),
    ("relation", S, false),
    ("hukou_kind", S, true),
    ("status", S, true),
    ("status_date", D, true),
    ("death_date", D, true),
    ("in_hukou", B, false),
    ("occupation", S, false),
    ("twin_of", S, true),
    ("severely_disabled", B, false),
];
const TRUTH_HOUSEHOLDS: Cols = &[
    ("household_key", S, false),
    ("hukou_no", S, false),
    ("region_code", S, false),
    ("hukou_kind", S, false),
    ("size", I, false),
    ("living", I, false),
    ("members", S, false),
    ("income_class", S, false),
    ("designed_per_capita_income", M, false),
    ("features", S, false),
    ("role", S, false),
    ("role_id", S, true),
];
const TRUTH_EVENTS: Cols = &[
    ("household_id", S, false),
    ("event", S, false),
    ("id_number", S, false),
    ("date", D, true),
    ("record_ids", S, false),
];
const TRUTH_REQUESTS: Cols = &[
    ("application_id", S, false),
    ("household_key", S, false),
    ("category", S, false),
    ("scenario", S, false),
    ("scenario_member", S, true),
];

impl T {
    /// The table's file stem (`tax`, `applications`, `records`).
    pub(crate) fn stem(self) -> &'static str {
        match self {
            T::Hukou => "hukou",
            T::Death => "death",
            T::Tax => "tax",
            T::SocialInsurance => "social_insurance",
            T::HousingFund => "housing_fund",
            T::Property => "property",
            T::Vehicle => "vehicle",
            T::Bank => "bank",
            T::Securities => "securities",
            T::Insurance => "insurance",
            T::Business => "business",
            T::Disability => "disability",
            T::Expense => "expense",
            T::Staff => "staff",
            T::Applications => "applications",
            T::Members => "members",
            T::RosterHouseholds => "roster_households",
            T::RosterMembers => "roster_members",
            T::TruthRecords => "records",
            T::TruthPersons => "persons",
            T::TruthHouseholds => "households",
            T::TruthRequests => "requests",
            T::TruthEvents => "events",
        }
    }

    /// The folder under the output directory.
    pub(crate) fn group(self) -> &'static str {
        match self {
            T::Applications | T::Members => "requests",
            T::RosterHouseholds | T::RosterMembers => "roster",
            T::TruthRecords
            | T::TruthPersons
            | T::TruthHouseholds
            | T::TruthRequests
            | T::TruthEvents => "truth",
            _ => "extracts",
        }
    }

    /// `group/stem`.
    pub(crate) fn path(self) -> String {
        format!("{}/{}", self.group(), self.stem())
    }

    /// Prefix of record ids of an extract.
    pub(crate) fn record_prefix(self) -> &'static str {
        match self {
            T::Hukou => "HK",
            T::Death => "SW",
            T::Tax => "GS",
            T::SocialInsurance => "SB",
            T::HousingFund => "GJ",
            T::Property => "BD",
            T::Vehicle => "CL",
            T::Bank => "YH",
            T::Securities => "ZQ",
            T::Insurance => "BX",
            T::Business => "SC",
            T::Disability => "CJ",
            T::Expense => "ZC",
            T::Staff => "BA",
            _ => "XX",
        }
    }

    pub(crate) fn columns(self) -> Cols {
        match self {
            T::Hukou => HUKOU,
            T::Death => DEATH,
            T::Tax => TAX,
            T::SocialInsurance => SOCIAL,
            T::HousingFund => FUND,
            T::Property => PROPERTY,
            T::Vehicle => VEHICLE,
            T::Bank => BANK,
            T::Securities => SECURITIES,
            T::Insurance => INSURANCE,
            T::Business => BUSINESS,
            T::Disability => DISABILITY,
            T::Expense => EXPENSE,
            T::Staff => STAFF,
            T::Applications => APPLICATIONS,
            T::Members => MEMBERS,
            T::RosterHouseholds => ROSTER_HOUSEHOLDS,
            T::RosterMembers => ROSTER_MEMBERS,
            T::TruthRecords => TRUTH_RECORDS,
            T::TruthPersons => TRUTH_PERSONS,
            T::TruthHouseholds => TRUTH_HOUSEHOLDS,
            T::TruthRequests => TRUTH_REQUESTS,
            T::TruthEvents => TRUTH_EVENTS,
        }
    }

    /// The Arrow schema, with `metadata` on the schema.
    pub(crate) fn schema(self, metadata: HashMap<String, String>) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns()
            .iter()
            .map(|(n, t, null)| Field::new(*n, t.data_type(), *null))
            .collect();
        Arc::new(Schema::new_with_metadata(fields, metadata))
    }
}

/// The tables of the later snapshot, under `later/`, in the order they are
/// written.
pub(crate) const LATER_TABLES: [T; 16] = [
    T::Hukou,
    T::Death,
    T::Tax,
    T::SocialInsurance,
    T::HousingFund,
    T::Property,
    T::Vehicle,
    T::Bank,
    T::Securities,
    T::Insurance,
    T::Business,
    T::Disability,
    T::Expense,
    T::Staff,
    T::TruthRecords,
    T::TruthEvents,
];

/// The folder of the later snapshot under the output directory.
pub(crate) const LATER_DIR: &str = "later";

/// The Arrow schema of an output table by its `group/stem` path (for
/// readers and tests): `extracts/tax`, `truth/records` ... and, for the
/// later snapshot, `later/extracts/tax`, `later/truth/records`,
/// `later/truth/events`.
pub fn schema_of(path: &str) -> Option<SchemaRef> {
    let (tables, path): (&[T], &str) = match path.strip_prefix("later/") {
        Some(rest) => (&LATER_TABLES, rest),
        None => (&ALL_TABLES, path),
    };
    tables
        .iter()
        .find(|t| t.path() == path)
        .map(|t| t.schema(HashMap::new()))
}

/// Every output table's `group/stem` path (without the later snapshot's,
/// see [`later_table_paths`]).
pub fn table_paths() -> Vec<String> {
    ALL_TABLES.iter().map(|t| t.path()).collect()
}

/// Every table of the later snapshot (written when
/// [`CityConfig::later`](crate::CityConfig::later) is set), as
/// `later/group/stem`: the 14 extracts, `later/truth/records` and
/// `later/truth/events`.
pub fn later_table_paths() -> Vec<String> {
    LATER_TABLES
        .iter()
        .map(|t| format!("{LATER_DIR}/{}", t.path()))
        .collect()
}

enum Col {
    Str(StringBuilder),
    Date(Date32Builder),
    Money(Decimal128Builder),
    F64(Float64Builder),
    I32(Int32Builder),
    Bool(BooleanBuilder),
}

/// Days since 1970-01-01 of a date (Date32).
pub(crate) fn date32(d: Date) -> i32 {
    (d - Date::from_ymd_opt(1970, 1, 1).unwrap_or(Date::MIN)).num_days() as i32
}

/// Builds one table's rows into Arrow arrays.
pub(crate) struct Builder {
    schema: SchemaRef,
    cols: Vec<Col>,
    rows: usize,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("columns", &self.cols.len())
            .field("rows", &self.rows)
            .finish()
    }
}

impl Builder {
    pub(crate) fn new(schema: SchemaRef, table: T) -> Builder {
        let cols = table
            .columns()
            .iter()
            .map(|(_, t, _)| match t {
                Ty::Str => Col::Str(StringBuilder::new()),
                Ty::Date => Col::Date(Date32Builder::new()),
                Ty::Money => Col::Money(
                    Decimal128Builder::new()
                        .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                        .expect("Decimal128(18, 2) is a valid decimal type"),
                ),
                Ty::F64 => Col::F64(Float64Builder::new()),
                Ty::I32 => Col::I32(Int32Builder::new()),
                Ty::Bool => Col::Bool(BooleanBuilder::new()),
            })
            .collect();
        Builder {
            schema,
            cols,
            rows: 0,
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Starts a row: append every column in order, then drop the row.
    pub(crate) fn row(&mut self) -> Row<'_> {
        Row { b: self, c: 0 }
    }

    /// The rows built so far as a batch; the builder is emptied.
    pub(crate) fn finish(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Str(b) => Arc::new(b.finish()),
                    Col::Date(b) => Arc::new(b.finish()),
                    Col::Money(b) => Arc::new(b.finish()),
                    Col::F64(b) => Arc::new(b.finish()),
                    Col::I32(b) => Arc::new(b.finish()),
                    Col::Bool(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .expect("rows are built column by column against the table's own schema")
    }
}

/// One row being appended; every column must be given, in order.
pub(crate) struct Row<'a> {
    b: &'a mut Builder,
    c: usize,
}

impl Row<'_> {
    fn col(&mut self) -> &mut Col {
        let c = self.c;
        self.c += 1;
        &mut self.b.cols[c]
    }

    fn mismatch(&self, what: &str) -> ! {
        panic!(
            "column {} of {:?} is not {what}",
            self.c - 1,
            self.b.schema.field(self.c - 1).name()
        )
    }

    /// A string.
    pub(crate) fn s(&mut self, v: &str) -> &mut Self {
        match self.col() {
            Col::Str(b) => b.append_value(v),
            _ => self.mismatch("Utf8"),
        }
        self
    }

    /// A nullable string.
    pub(crate) fn so(&mut self, v: Option<&str>) -> &mut Self {
        match self.col() {
            Col::Str(b) => b.append_option(v),
            _ => self.mismatch("Utf8"),
        }
        self
    }

    /// A nullable date.
    pub(crate) fn d(&mut self, v: Option<Date>) -> &mut Self {
        match self.col() {
            Col::Date(b) => b.append_option(v.map(date32)),
            _ => self.mismatch("Date32"),
        }
        self
    }

    /// Nullable money, in fen.
    pub(crate) fn m(&mut self, v: Option<i64>) -> &mut Self {
        match self.col() {
            Col::Money(b) => b.append_option(v.map(i128::from)),
            _ => self.mismatch("Decimal128"),
        }
        self
    }

    /// A nullable float.
    pub(crate) fn f(&mut self, v: Option<f64>) -> &mut Self {
        match self.col() {
            Col::F64(b) => b.append_option(v),
            _ => self.mismatch("Float64"),
        }
        self
    }

    /// A nullable Int32.
    pub(crate) fn i(&mut self, v: Option<i32>) -> &mut Self {
        match self.col() {
            Col::I32(b) => b.append_option(v),
            _ => self.mismatch("Int32"),
        }
        self
    }

    /// A boolean.
    pub(crate) fn b(&mut self, v: bool) -> &mut Self {
        match self.col() {
            Col::Bool(b) => b.append_value(v),
            _ => self.mismatch("Boolean"),
        }
        self
    }
}

impl Drop for Row<'_> {
    fn drop(&mut self) {
        debug_assert_eq!(
            self.c,
            self.b.cols.len(),
            "a row of {:?} was left incomplete",
            self.b.schema.fields().first().map(|f| f.name())
        );
        self.b.rows += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extract_has_the_common_columns() {
        for t in EXTRACTS {
            let names: Vec<&str> = t.columns().iter().map(|c| c.0).collect();
            assert_eq!(&names[..3], &["record_id", "id_number", "name"], "{t:?}");
        }
        assert!(schema_of("extracts/tax").is_some());
        assert!(schema_of("extracts/nothing").is_none());
        assert!(schema_of("truth/events").is_none());
        assert!(schema_of("later/truth/events").is_some());
        assert!(schema_of("later/truth/persons").is_none());
        assert_eq!(later_table_paths().len(), 16);
    }

    #[test]
    fn rows_build_batches() {
        let schema = T::Death.schema(HashMap::new());
        let mut b = Builder::new(schema, T::Death);
        b.row()
            .s("SW1")
            .so(None)
            .s("张伟")
            .d(Date::from_ymd_opt(2026, 1, 2))
            .so(Some("cremation"));
        assert_eq!(b.rows(), 1);
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(b.rows(), 0);
    }
}
