//! Chinese labels for the codes a report carries, for the HTML page.
//!
//! The codes of the input contract (relations, kinds, roles) have their
//! labels in `hedui_model::codes`; the codes of the rules (determinations,
//! flags, conditions, link methods, sources, …) have theirs here. Each
//! table lists every code, so [`crate::Summary`] can also use them as the
//! complete code lists. An unknown code is shown as itself.

/// Determinations of rules §5, in the rules' order.
pub const DETERMINATIONS: &[(&str, &str)] = &[
    ("dibao", "最低生活保障（低保）"),
    ("low_income", "低收入家庭"),
    ("rigid_expense", "支出型困难家庭"),
    ("single_person", "单人户低保（重度残疾人单独纳入）"),
    ("tekun_candidate", "特困人员（待核查法定义务人）"),
    ("ineligible", "不符合以上各项条件"),
];

/// Review flags (疑点) of rules §6, in the rules' order.
pub const FLAGS: &[(&str, &str)] = &[
    ("not_in_hukou", "未查到户籍"),
    ("deceased_member_declared", "申报成员已死亡"),
    ("moved_out", "户籍已迁出或注销"),
    ("no_counted_member", "无计入家庭人口的成员"),
    ("id_invalid", "身份证号码无效"),
    ("name_mismatch", "申报姓名与户籍姓名不一致"),
    ("id_conflict", "记录证号相同但姓名不符"),
    ("possible_match", "疑似本人记录（待人工核实，未计入）"),
    ("imputed_wage", "工资按缴费基数推算"),
    ("staff_relative", "经办人员近亲属"),
    ("business", "登记有市场主体"),
];

/// What each flag asks of the reviewer.
pub const FLAG_NOTES: &[(&str, &str)] = &[
    ("not_in_hukou", "户籍库中无该成员记录，请核实身份与户籍。"),
    (
        "deceased_member_declared",
        "该成员在申请日前已死亡，不计入家庭人口。",
    ),
    (
        "moved_out",
        "户籍状态为迁出或注销，仍计入家庭人口，请核实是否共同生活。",
    ),
    (
        "no_counted_member",
        "没有可计入家庭人口的成员，不计算人均收入。",
    ),
    ("id_invalid", "申报的身份证号码校验不通过或格式错误。"),
    ("name_mismatch", "申报姓名与户籍登记姓名规范化后不一致。"),
    (
        "id_conflict",
        "部门记录的身份证号与成员相同但姓名不同，已按证号计入，请复核。",
    ),
    (
        "possible_match",
        "概率匹配分数处于复核区间，该记录未计入，请人工核实是否本人。",
    ),
    (
        "imputed_wage",
        "当月无个税工资记录，按社保或公积金缴费基数推算，证据弱于个税记录。",
    ),
    (
        "staff_relative",
        "该成员在经办人员及近亲属备案中，须由县级开展入户核查。",
    ),
    (
        "business",
        "登记注册不单独构成否定条件，请核实经营状况及注册资本。",
    ),
];

/// Link methods of rules §2.
pub const METHODS: &[(&str, &str)] = &[
    ("exact", "证号姓名一致"),
    ("upgraded", "15位证号升位后一致"),
    ("id_conflict", "证号一致、姓名不符"),
    ("fuzzy", "概率匹配"),
    ("possible", "疑似匹配（未计入）"),
    ("unlinked", "未关联"),
];

/// Contract sources (departments).
pub const SOURCES: &[(&str, &str)] = &[
    ("hukou", "户籍（公安）"),
    ("death", "死亡火化（殡葬、卫健）"),
    ("tax", "个人所得税（税务）"),
    ("social_insurance", "社会保险（人社）"),
    ("housing_fund", "住房公积金"),
    ("property", "不动产登记（自然资源）"),
    ("vehicle", "机动车登记（公安交管）"),
    ("bank", "银行存款"),
    ("securities", "证券"),
    ("insurance", "商业保险"),
    ("business", "市场主体登记（市场监管）"),
    ("disability", "残疾人证（残联）"),
    ("expense", "刚性支出"),
    ("staff", "经办人员及近亲属备案"),
];

/// Asset tests of rules §4.
pub const ASSET_TESTS: &[(&str, &str)] = &[
    ("financial", "金融资产"),
    ("housing", "住房"),
    ("vehicles", "机动车辆"),
    ("business", "市场主体"),
];

/// Conditions of the determinations.
pub const CONDITIONS: &[(&str, &str)] = &[
    ("n_positive", "有计入家庭人口的成员"),
    ("p_below_standard", "月人均收入低于低保标准"),
    ("p_at_least_standard", "月人均收入不低于低保标准"),
    ("p_below_low_income_limit", "月人均收入低于低收入标准"),
    (
        "net_of_expense_below_standard",
        "扣除刚性支出后月人均收入低于低保标准",
    ),
    (
        "p_below_disposable_income",
        "月人均收入低于上年当地人均可支配收入",
    ),
    (
        "expense_share_above_ratio",
        "刚性支出占家庭收入比例超过规定",
    ),
    ("household_low_income", "家庭为低收入家庭"),
    ("severely_disabled", "持有效重度残疾证"),
    ("unable_to_work", "无劳动能力"),
    ("own_net_below_standard", "本人收入低于低保标准"),
    ("no_other_positive_net", "其他计入成员均无正收入"),
    ("financial", "金融资产不超过限额"),
    ("housing", "住房不超过限定套数"),
    ("vehicles", "无限定类型以外的机动车辆"),
    ("business", "市场主体注册资本未超过限额"),
    ("not_dibao", "不符合低保"),
    ("not_low_income", "不属于低收入家庭"),
    ("not_rigid_expense", "不属于支出型困难家庭"),
    ("not_single_person", "不符合单人户低保"),
    ("not_tekun_candidate", "不符合特困人员条件"),
];

/// Why an income item is not counted.
pub const EXCLUSIONS: &[(&str, &str)] = &[
    ("other_benefit", "政府救助类待遇，不计入收入"),
    ("resident_pension", "城乡居民基础养老金，按政策不计入"),
];

/// Why a member is special (特殊成员, the benefit's increment).
pub const SPECIAL: &[(&str, &str)] = &[
    ("aged_60_or_more", "年满60周岁"),
    ("under_18", "未满18周岁"),
    ("severely_disabled", "重度残疾"),
];

/// Where an imputed wage came from.
pub const IMPUTED: &[(&str, &str)] = &[
    ("social_insurance_base", "社保缴费基数"),
    ("housing_fund_base", "公积金缴存基数"),
];

/// Status of a declared id.
pub const ID_STATUS: &[(&str, &str)] = &[("valid", "有效"), ("upgraded", "15位已升18位")];

/// Keys of a flag's detail.
pub const DETAIL_KEYS: &[(&str, &str)] = &[
    ("dates", "死亡日期"),
    ("status", "户籍状态"),
    ("status_date", "状态日期"),
    ("reason", "原因代码"),
    ("declared", "申报姓名"),
    ("hukou", "户籍姓名"),
    ("months", "月份"),
    ("sources", "推算来源"),
    ("registered_capital_fen", "注册资本"),
    ("role", "身份"),
    ("entity_name", "主体名称"),
    ("established_on", "成立日期"),
    ("over_limit", "超过限额"),
];

/// Where the household kind came from.
pub const KIND_FROM: &[(&str, &str)] =
    &[("request", "申请材料"), ("applicant_hukou", "申请人户籍")];

/// The label of `code` in `table`, or the code itself.
pub fn label<'a>(table: &[(&'static str, &'static str)], code: &'a str) -> &'a str {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, l)| *l)
}
