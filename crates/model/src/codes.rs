//! The code lists of the input contract, with their Chinese labels.
//!
//! English codes are canonical; the Chinese labels (and a few common
//! synonyms departments use) are accepted on input. [`CodeList`] gives the
//! same three operations for every list, so `hedui-sources` validates any
//! coded column the same way.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What every code list offers.
pub trait CodeList: Sized + Copy + 'static {
    /// The list's name, for error messages (`income_kind`).
    const LIST: &'static str;
    /// Every member, in declaration order.
    const ALL: &'static [Self];
    /// The canonical English code.
    fn code(self) -> &'static str;
    /// The Chinese label shown in reports.
    fn label_zh(self) -> &'static str;
    /// Every accepted spelling besides the code (labels and synonyms).
    fn aliases(self) -> &'static [&'static str];

    /// Parses an English code (case-insensitive) or a Chinese label.
    fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.code().eq_ignore_ascii_case(t) || c.aliases().contains(&t))
    }

    /// The accepted codes, for an error message.
    fn expected() -> String {
        Self::ALL
            .iter()
            .map(|c| format!("{} ({})", c.code(), c.label_zh()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

macro_rules! code_list {
    (
        $(#[$meta:meta])*
        $name:ident, $list:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal $(, $alias:literal)* ; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = $label] $variant, )+
        }

        impl CodeList for $name {
            const LIST: &'static str = $list;
            const ALL: &'static [Self] = &[ $( $name::$variant, )+ ];
            fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )+ }
            }
            fn label_zh(self) -> &'static str {
                match self { $( $name::$variant => $label, )+ }
            }
            fn aliases(self) -> &'static [&'static str] {
                match self { $( $name::$variant => &[$label $(, $alias)*], )+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_list! {
    /// 性别
    Gender, "gender" {
        Male = "male", "男", "1", "M";
        Female = "female", "女", "2", "F";
    }
}

code_list! {
    /// 户口性质: selects the urban or rural standard.
    HukouKind, "hukou_kind" {
        Urban = "urban", "城镇", "城市", "非农业", "非农业户口", "城镇户口";
        Rural = "rural", "农村", "农业", "农业户口", "农村户口";
    }
}

code_list! {
    /// 户籍状态
    HukouStatus, "status" {
        Active = "active", "正常", "在册";
        Deceased = "deceased", "死亡";
        MovedOut = "moved_out", "迁出";
        Cancelled = "cancelled", "注销";
    }
}

code_list! {
    /// 死亡记录类别
    DeathKind, "kind" {
        Cremation = "cremation", "火化";
        Burial = "burial", "土葬", "安葬";
        MedicalCertificate = "medical_certificate", "医学死亡证明", "死亡医学证明";
    }
}

code_list! {
    /// 所得项目 (个人所得税)
    IncomeKind, "income_kind" {
        Wage = "wage", "工资薪金", "工资薪金所得";
        Labour = "labour", "劳务报酬", "劳务报酬所得", "labor";
        Business = "business", "经营所得";
        Rent = "rent", "财产租赁", "财产租赁所得";
        Interest = "interest", "利息股息红利", "利息股息红利所得";
        Other = "other", "其他", "其他所得";
    }
}

code_list! {
    /// 社会保险记录类别
    SocialInsuranceKind, "kind" {
        Contribution = "contribution", "缴费";
        Pension = "pension", "养老金领取", "养老金";
        UnemploymentBenefit = "unemployment_benefit", "失业保险金";
        OtherBenefit = "other_benefit", "其他待遇", "其他";
    }
}

code_list! {
    /// 险种
    Insurance, "insurance" {
        Pension = "pension", "养老保险", "养老";
        Medical = "medical", "医疗保险", "医疗";
        Unemployment = "unemployment", "失业保险", "失业";
        Injury = "injury", "工伤保险", "工伤";
        Maternity = "maternity", "生育保险", "生育";
    }
}

code_list! {
    /// 参保类型
    Scheme, "scheme" {
        Employee = "employee", "职工", "城镇职工";
        Resident = "resident", "城乡居民", "居民";
    }
}

code_list! {
    /// 不动产用途
    PropertyUsage, "usage" {
        Residential = "residential", "住宅";
        Commercial = "commercial", "商业";
        Office = "office", "办公";
        Industrial = "industrial", "工业";
        Parking = "parking", "车位", "车库";
        Land = "land", "宅基地", "土地";
        Other = "other", "其他";
    }
}

code_list! {
    /// 车辆类型
    VehicleKind, "vehicle_kind" {
        Car = "car", "小型汽车", "小汽车", "轿车";
        Truck = "truck", "货车";
        Motorcycle = "motorcycle", "摩托车";
        Agricultural = "agricultural", "农用车", "拖拉机";
        DisabilityMobility = "disability_mobility", "残疾人专用车", "残疾人机动轮椅车";
        Other = "other", "其他";
    }
}

code_list! {
    /// 账户类型
    AccountKind, "account_kind" {
        Demand = "demand", "活期";
        Time = "time", "定期";
        Wealth = "wealth", "理财";
        Other = "other", "其他";
    }
}

code_list! {
    /// 市场主体中的身份
    BusinessRole, "role" {
        LegalRep = "legal_rep", "法定代表人";
        Shareholder = "shareholder", "股东";
        SoleProprietor = "sole_proprietor", "个体工商户经营者", "经营者";
    }
}

code_list! {
    /// 市场主体登记状态
    BusinessStatus, "status" {
        Active = "active", "存续", "在营", "开业";
        Revoked = "revoked", "吊销";
        Cancelled = "cancelled", "注销";
    }
}

code_list! {
    /// 残疾类别
    DisabilityCategory, "category" {
        Visual = "visual", "视力", "视力残疾";
        Hearing = "hearing", "听力", "听力残疾";
        Speech = "speech", "言语", "言语残疾";
        Physical = "physical", "肢体", "肢体残疾";
        Intellectual = "intellectual", "智力", "智力残疾";
        Mental = "mental", "精神", "精神残疾";
        Multiple = "multiple", "多重", "多重残疾";
    }
}

code_list! {
    /// 刚性支出类别
    ExpenseCategory, "category" {
        Medical = "medical", "医疗自付", "医疗";
        Education = "education", "教育";
        DisabilityCare = "disability_care", "残疾护理";
    }
}

code_list! {
    /// 与经办人员的关系
    StaffRelation, "relation" {
        SelfStaff = "self", "本人";
        Spouse = "spouse", "配偶";
        Parent = "parent", "父母";
        Child = "child", "子女";
        Sibling = "sibling", "兄弟姐妹";
        Grandparent = "grandparent", "祖父母", "外祖父母";
        Grandchild = "grandchild", "孙子女", "外孙子女";
        InLaw = "in_law", "姻亲";
        Other = "other", "其他";
    }
}

code_list! {
    /// 救助类别: what was applied for, or what a roster household receives.
    Assistance, "assistance" {
        Dibao = "dibao", "低保", "最低生活保障";
        Tekun = "tekun", "特困", "特困供养";
        LowIncome = "low_income", "低收入";
        RigidExpense = "rigid_expense", "支出型", "支出型困难";
        Temporary = "temporary", "临时救助";
        /// Roster only.
        SinglePerson = "single_person", "单人户", "单人户低保";
        /// Roster only.
        Monitored = "monitored", "监测", "低收入监测";
    }
}

code_list! {
    /// 与申请人关系 (declared household members)
    MemberRelation, "relation" {
        Applicant = "applicant", "申请人", "本人";
        Spouse = "spouse", "配偶";
        Child = "child", "子女", "子", "女";
        Parent = "parent", "父母", "父", "母";
        Grandparent = "grandparent", "祖父母", "外祖父母";
        Grandchild = "grandchild", "孙子女", "外孙子女";
        Sibling = "sibling", "兄弟姐妹";
        Other = "other", "其他";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_parse() {
        assert_eq!(IncomeKind::parse("wage"), Some(IncomeKind::Wage));
        assert_eq!(IncomeKind::parse("工资薪金"), Some(IncomeKind::Wage));
        assert_eq!(Gender::parse("1"), Some(Gender::Male));
        assert_eq!(Gender::parse("女"), Some(Gender::Female));
        assert_eq!(HukouStatus::parse(" 迁出 "), Some(HukouStatus::MovedOut));
        assert_eq!(VehicleKind::parse("spaceship"), None);
        assert!(VehicleKind::expected().contains("car (小型汽车)"));
    }
}
