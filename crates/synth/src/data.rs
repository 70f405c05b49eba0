//! The city's vocabulary: counties, surnames and given names with realistic
//! frequencies, minority names, homophones, employers, streets.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A county (区/县/市) of the prefecture 曲靖市 (5303).
#[derive(Debug)]
pub(crate) struct County {
    /// 6-digit 行政区划代码.
    pub(crate) code: &'static str,
    /// Name without the prefecture (麒麟区).
    pub(crate) name: &'static str,
    /// Share of households with urban hukou, percent.
    pub(crate) urban_pct: u32,
    /// Relative population (10k persons, roughly the 2020 census).
    pub(crate) weight: u32,
    /// Residential price, yuan per m².
    pub(crate) price: i64,
    /// Streets (街道) and towns (镇/乡).
    pub(crate) towns: &'static [&'static str],
}

/// The prefecture: 曲靖市.
pub(crate) const PREFECTURE: &str = "曲靖市";
/// Its region code.
pub(crate) const PREFECTURE_CODE: &str = "530300";
/// The plate prefix of 曲靖.
pub(crate) const PLATE_PREFIX: &str = "云D";

pub(crate) const COUNTIES: &[County] = &[
    County {
        code: "530302",
        name: "麒麟区",
        urban_pct: 80,
        weight: 90,
        price: 6500,
        towns: &[
            "南宁街道",
            "建宁街道",
            "白石江街道",
            "太和街道",
            "潇湘街道",
            "三宝街道",
            "珠街街道",
            "沿江街道",
            "越州镇",
            "东山镇",
            "茨营镇",
        ],
    },
    County {
        code: "530303",
        name: "沾益区",
        urban_pct: 50,
        weight: 45,
        price: 4300,
        towns: &[
            "西平街道",
            "龙华街道",
            "金龙街道",
            "花山街道",
            "白水镇",
            "盘江镇",
            "德泽乡",
            "大坡乡",
            "菱角乡",
        ],
    },
    County {
        code: "530304",
        name: "马龙区",
        urban_pct: 45,
        weight: 21,
        price: 3900,
        towns: &[
            "通泉街道",
            "鸡头村街道",
            "张安屯街道",
            "旧县街道",
            "王家庄街道",
            "纳章镇",
            "马鸣乡",
            "月望乡",
        ],
    },
    County {
        code: "530322",
        name: "陆良县",
        urban_pct: 30,
        weight: 60,
        price: 4000,
        towns: &[
            "中枢街道",
            "同乐街道",
            "马街镇",
            "三岔河镇",
            "召夸镇",
            "大莫古镇",
            "芳华镇",
            "小百户镇",
            "板桥镇",
            "活水乡",
            "龙海乡",
        ],
    },
    County {
        code: "530323",
        name: "师宗县",
        urban_pct: 30,
        weight: 38,
        price: 3500,
        towns: &[
            "丹凤街道",
            "漾月街道",
            "竹基镇",
            "雄壁镇",
            "葵山镇",
            "彩云镇",
            "龙庆乡",
            "五龙乡",
            "高良乡",
        ],
    },
    County {
        code: "530324",
        name: "罗平县",
        urban_pct: 30,
        weight: 55,
        price: 3800,
        towns: &[
            "罗雄街道",
            "九龙街道",
            "腊山街道",
            "阿岗镇",
            "富乐镇",
            "马街镇",
            "钟山乡",
            "长底乡",
            "大水井乡",
            "老厂乡",
        ],
    },
    County {
        code: "530325",
        name: "富源县",
        urban_pct: 30,
        weight: 72,
        price: 3600,
        towns: &[
            "中安街道",
            "胜境街道",
            "后所镇",
            "营上镇",
            "墨红镇",
            "富村镇",
            "竹园镇",
            "大河镇",
            "黄泥河镇",
            "十八连山镇",
            "古敢乡",
        ],
    },
    County {
        code: "530326",
        name: "会泽县",
        urban_pct: 25,
        weight: 90,
        price: 3500,
        towns: &[
            "古城街道",
            "金钟街道",
            "宝云街道",
            "以礼街道",
            "娜姑镇",
            "迤车镇",
            "待补镇",
            "者海镇",
            "矿山镇",
            "大井镇",
            "田坝镇",
            "马路乡",
            "火红乡",
        ],
    },
    County {
        code: "530381",
        name: "宣威市",
        urban_pct: 35,
        weight: 125,
        price: 4200,
        towns: &[
            "宛水街道",
            "虹桥街道",
            "双龙街道",
            "西宁街道",
            "板桥街道",
            "丰华街道",
            "来宾街道",
            "羊场镇",
            "格宜镇",
            "热水镇",
            "务德镇",
            "海岱镇",
            "龙场镇",
            "杨柳镇",
            "倘塘镇",
            "落水镇",
        ],
    },
];

/// Regions of birth outside the city: ids of persons who moved in, and of
/// spouses registered elsewhere. (code, weight)
pub(crate) const OUTSIDE_REGIONS: &[(&str, u32)] = &[
    ("530102", 6), // 昆明市五华区
    ("530111", 5), // 昆明市官渡区
    ("530402", 3), // 玉溪市红塔区
    ("532301", 3), // 楚雄市
    ("520201", 4), // 六盘水市钟山区
    ("520281", 4), // 盘州市
    ("522301", 2), // 兴义市
    ("510107", 2), // 成都市武侯区
    ("500103", 2), // 重庆市渝中区
    ("430104", 1), // 长沙市岳麓区
    ("440305", 1), // 深圳市南山区
    ("330106", 1), // 杭州市西湖区
    ("410105", 1), // 郑州市金水区
    ("650102", 2), // 乌鲁木齐市天山区
];

/// Surnames with frequency per 100,000 (national figures, rounded), then
/// rare and compound surnames.
pub(crate) const SURNAMES: &[(&str, u32)] = &[
    ("王", 7250),
    ("李", 7190),
    ("张", 6830),
    ("刘", 5380),
    ("陈", 4530),
    ("杨", 3080),
    ("赵", 2290),
    ("黄", 2230),
    ("周", 2120),
    ("吴", 2050),
    ("徐", 1670),
    ("孙", 1540),
    ("胡", 1310),
    ("朱", 1260),
    ("高", 1210),
    ("林", 1180),
    ("何", 1170),
    ("郭", 1150),
    ("马", 1050),
    ("罗", 860),
    ("梁", 840),
    ("宋", 810),
    ("郑", 780),
    ("谢", 720),
    ("韩", 680),
    ("唐", 650),
    ("冯", 640),
    ("于", 620),
    ("董", 610),
    ("萧", 60),
    ("肖", 580),
    ("程", 570),
    ("曹", 570),
    ("袁", 560),
    ("邓", 550),
    ("许", 540),
    ("傅", 520),
    ("沈", 500),
    ("曾", 500),
    ("彭", 490),
    ("吕", 470),
    ("苏", 460),
    ("卢", 460),
    ("蒋", 450),
    ("蔡", 440),
    ("贾", 410),
    ("丁", 400),
    ("魏", 390),
    ("薛", 380),
    ("叶", 380),
    ("阎", 100),
    ("闫", 280),
    ("余", 370),
    ("潘", 360),
    ("杜", 350),
    ("戴", 340),
    ("夏", 330),
    ("钟", 330),
    ("汪", 320),
    ("田", 320),
    ("任", 310),
    ("姜", 310),
    ("范", 300),
    ("方", 300),
    ("石", 290),
    ("姚", 290),
    ("谭", 280),
    ("廖", 270),
    ("邹", 260),
    ("熊", 260),
    ("金", 250),
    ("陆", 250),
    ("郝", 240),
    ("孔", 240),
    ("白", 240),
    ("崔", 230),
    ("康", 230),
    ("毛", 230),
    ("邱", 220),
    ("秦", 220),
    ("江", 220),
    ("史", 210),
    ("顾", 210),
    ("侯", 210),
    ("邵", 200),
    ("孟", 200),
    ("龙", 200),
    ("万", 190),
    ("段", 190),
    ("雷", 190),
    ("钱", 180),
    ("汤", 180),
    ("尹", 180),
    ("黎", 170),
    ("易", 170),
    ("常", 170),
    ("武", 170),
    ("乔", 160),
    ("贺", 160),
    ("赖", 160),
    ("龚", 160),
    ("文", 150),
    ("付", 150),
    ("韦", 150),
    ("莫", 120),
    ("覃", 90),
    ("普", 60),
    ("保", 40),
    ("浦", 40),
    ("缪", 20),
    ("单", 25),
    ("解", 20),
    ("仇", 12),
    ("查", 12),
    ("翟", 30),
    ("朴", 8),
    ("佘", 10),
    ("区", 6),
    ("逄", 5),
    ("禚", 3),
    ("宓", 4),
    ("隗", 3),
    ("乜", 2),
    ("厍", 3),
    ("那", 6),
    ("欧阳", 40),
    ("司马", 8),
    ("上官", 8),
    ("诸葛", 6),
    ("慕容", 3),
    ("皇甫", 5),
    ("尉迟", 2),
    ("东方", 4),
    ("夏侯", 3),
    ("公孙", 3),
    ("令狐", 3),
];

/// Birth-era of a given name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Era {
    /// Born before 1960.
    Before1960,
    /// 1960–1979.
    From1960,
    /// 1980–1999.
    From1980,
    /// 2000 and later.
    From2000,
}

impl Era {
    pub(crate) fn of_year(year: i32) -> Era {
        match year {
            ..1960 => Era::Before1960,
            1960..1980 => Era::From1960,
            1980..2000 => Era::From1980,
            _ => Era::From2000,
        }
    }
}

const MALE_BEFORE_1960: &[(&str, u32)] = &[
    ("建国", 30),
    ("国庆", 15),
    ("德明", 10),
    ("志明", 8),
    ("国华", 12),
    ("振华", 10),
    ("文华", 8),
    ("学文", 6),
    ("福贵", 6),
    ("有才", 6),
    ("永福", 6),
    ("金山", 6),
    ("长生", 6),
    ("正华", 6),
    ("建华", 12),
    ("树林", 5),
    ("国富", 6),
    ("光明", 6),
    ("明", 8),
    ("华", 8),
    ("强", 5),
    ("军", 6),
    ("德华", 8),
    ("玉林", 5),
];
const MALE_FROM_1960: &[(&str, u32)] = &[
    ("建华", 20),
    ("建军", 20),
    ("卫东", 10),
    ("卫国", 10),
    ("红兵", 8),
    ("志强", 15),
    ("国强", 12),
    ("建平", 10),
    ("海军", 8),
    ("春生", 6),
    ("永强", 10),
    ("文斌", 8),
    ("志刚", 12),
    ("建明", 8),
    ("勇", 15),
    ("军", 20),
    ("伟", 15),
    ("强", 15),
    ("平", 10),
    ("斌", 10),
    ("华", 10),
    ("刚", 12),
    ("明", 10),
    ("林", 8),
    ("涛", 6),
    ("波", 8),
    ("辉", 8),
    ("健", 6),
];
const MALE_FROM_1980: &[(&str, u32)] = &[
    ("伟", 40),
    ("磊", 25),
    ("强", 20),
    ("勇", 15),
    ("军", 15),
    ("杰", 20),
    ("涛", 20),
    ("斌", 15),
    ("超", 18),
    ("明", 12),
    ("刚", 10),
    ("平", 8),
    ("辉", 15),
    ("鹏", 18),
    ("华", 10),
    ("飞", 15),
    ("鑫", 15),
    ("波", 15),
    ("宁", 8),
    ("浩", 12),
    ("俊杰", 12),
    ("海涛", 10),
    ("志强", 10),
    ("文斌", 6),
    ("建华", 5),
    ("晓东", 10),
    ("云龙", 8),
    ("志伟", 10),
    ("家豪", 6),
    ("俊", 10),
    ("林", 8),
    ("毅", 8),
    ("峰", 10),
    ("凯", 10),
];
const MALE_FROM_2000: &[(&str, u32)] = &[
    ("子轩", 25),
    ("浩然", 25),
    ("宇轩", 20),
    ("浩宇", 20),
    ("梓豪", 15),
    ("一鸣", 12),
    ("俊熙", 10),
    ("宇航", 12),
    ("浩", 15),
    ("晨", 12),
    ("博文", 15),
    ("子豪", 12),
    ("皓轩", 10),
    ("睿", 10),
    ("梓轩", 12),
    ("铭", 8),
    ("俊杰", 10),
    ("宇", 12),
    ("天佑", 8),
    ("嘉豪", 10),
    ("思远", 8),
    ("奕辰", 10),
    ("沐宸", 10),
    ("子墨", 10),
    ("一诺", 4),
    ("明轩", 10),
    ("家乐", 6),
];
const FEMALE_BEFORE_1960: &[(&str, u32)] = &[
    ("秀英", 40),
    ("桂英", 30),
    ("秀兰", 30),
    ("玉兰", 25),
    ("桂兰", 20),
    ("秀珍", 20),
    ("凤英", 15),
    ("玉珍", 15),
    ("玉英", 15),
    ("淑珍", 10),
    ("秀云", 10),
    ("桂芳", 10),
    ("凤兰", 10),
    ("兰英", 10),
    ("翠花", 6),
    ("金花", 6),
    ("玉梅", 8),
    ("秀芳", 8),
    ("淑英", 8),
];
const FEMALE_FROM_1960: &[(&str, u32)] = &[
    ("丽", 20),
    ("红", 15),
    ("艳", 20),
    ("芳", 20),
    ("敏", 15),
    ("静", 10),
    ("霞", 15),
    ("燕", 15),
    ("玲", 12),
    ("红梅", 15),
    ("丽华", 12),
    ("秀梅", 8),
    ("春梅", 10),
    ("海燕", 12),
    ("丽娟", 12),
    ("美玲", 6),
    ("玉华", 8),
    ("桂芬", 6),
    ("晓红", 10),
    ("丽萍", 10),
    ("小红", 8),
    ("琼", 8),
    ("英", 8),
    ("萍", 10),
    ("慧", 6),
];
const FEMALE_FROM_1980: &[(&str, u32)] = &[
    ("芳", 40),
    ("娟", 25),
    ("敏", 25),
    ("静", 25),
    ("丽", 20),
    ("艳", 20),
    ("燕", 20),
    ("霞", 15),
    ("玲", 18),
    ("婷", 25),
    ("雪", 15),
    ("慧", 12),
    ("丹", 15),
    ("琳", 12),
    ("倩", 15),
    ("洁", 12),
    ("颖", 10),
    ("晶", 10),
    ("璐", 8),
    ("佳", 8),
    ("蕾", 8),
    ("晓燕", 10),
    ("丽娟", 8),
    ("婷婷", 15),
    ("欢", 8),
    ("莉", 10),
    ("梅", 8),
    ("娜", 12),
    ("薇", 6),
    ("莹", 8),
];
const FEMALE_FROM_2000: &[(&str, u32)] = &[
    ("欣怡", 25),
    ("梓涵", 25),
    ("诗涵", 20),
    ("雨涵", 20),
    ("子涵", 20),
    ("可馨", 15),
    ("一诺", 15),
    ("思琪", 12),
    ("佳怡", 15),
    ("梦琪", 10),
    ("雨欣", 15),
    ("紫涵", 10),
    ("语桐", 10),
    ("若曦", 10),
    ("雨桐", 12),
    ("欣妍", 10),
    ("诗琪", 8),
    ("梓萱", 12),
    ("思涵", 10),
    ("艺涵", 8),
    ("可欣", 10),
    ("依诺", 8),
    ("沐瑶", 8),
    ("安琪", 6),
    ("梦瑶", 6),
    ("晨曦", 6),
    ("子萱", 10),
];

/// Characters that sound like the characters of the given names above:
/// the pool from which homophone substitutions are drawn.
const HOMOPHONE_EXTRAS: &str = "威薇玮炜巍莉力立利婧菁君钧峻婕捷韬彬桦方鹃彦雁琳霖亭庭廷学惠晖瑛盈岚澜玫鸿宏屏蔷朋菲霏羽语予晗寒含萱宣琦祺淇馨新仪宜依昊皓冉紫辰宸臣博雯闻嘉家骏铭鸣智健剑贞锋枫舒书纳雷潮闽茜影露路焕媚虹钰芹勤钢岗滨桃民泳永珊姗";

/// Uyghur-style given names (written `given·father's given`).
pub(crate) const MINORITY_MALE: &[&str] = &[
    "买买提",
    "艾力",
    "吐尔逊",
    "阿不都",
    "艾买提",
    "热合曼",
    "阿迪力",
    "亚森",
    "伊力哈木",
    "努尔兰",
];
pub(crate) const MINORITY_FEMALE: &[&str] = &[
    "阿依古丽",
    "古丽娜尔",
    "热依拉",
    "迪丽拜尔",
    "帕提古丽",
    "阿依努尔",
    "米热古丽",
    "祖丽菲亚",
];

/// Word-marks (字号) of companies.
pub(crate) const FIRM_MARKS: &[&str] = &[
    "恒通", "鑫源", "华达", "兴旺", "宏达", "金穗", "鼎盛", "瑞丰", "永安", "昌盛", "聚丰", "汇鑫",
    "麒龙", "珠源", "云岭", "滇东", "凯旋", "顺达", "博远", "嘉禾", "泰和", "德润", "天誉", "盛世",
    "銮鑫", "锦程", "万象", "福瑞", "康泰", "宏图", "信达", "佳诚", "远航", "金桥", "绿源", "丰禾",
    "益民", "同心", "众诚", "合力",
];
/// Trades of companies.
pub(crate) const FIRM_TRADES: &[&str] = &[
    "商贸",
    "建筑工程",
    "物流",
    "餐饮管理",
    "农业科技",
    "煤业",
    "汽车销售",
    "房地产开发",
    "物业服务",
    "劳务派遣",
    "机械制造",
    "食品",
    "烟草物资",
    "电子科技",
    "装饰工程",
    "运输",
    "医药",
    "酒店管理",
    "矿业",
    "农产品",
];
/// Sole-proprietor shop kinds.
pub(crate) const SHOP_KINDS: &[&str] = &[
    "小吃店",
    "便利店",
    "五金店",
    "理发店",
    "汽车修理部",
    "百货店",
    "农资店",
    "早餐店",
    "服装店",
    "烧烤店",
    "米线店",
    "水果店",
    "养殖场",
    "建材经营部",
    "手机维修部",
];
/// Public units of each county (`{county}` is replaced).
pub(crate) const COUNTY_UNITS: &[&str] = &[
    "{county}人民医院",
    "{county}中医医院",
    "{county}第一中学",
    "{county}第二中学",
    "{county}教育体育局",
    "{county}财政局",
    "{county}公安局",
    "{county}自然资源局",
    "{county}农业农村局",
    "{county}人力资源和社会保障局",
    "{county}市场监督管理局",
    "{county}人民政府办公室",
];
/// The civil-affairs bureau of a county: staff work here.
pub(crate) const CIVIL_AFFAIRS: &str = "{county}民政局";
/// Units of the prefecture.
pub(crate) const CITY_UNITS: &[&str] = &[
    "曲靖市第一人民医院",
    "曲靖市第二人民医院",
    "曲靖市中医医院",
    "曲靖师范学院",
    "曲靖医学高等专科学校",
    "曲靖市第一中学",
    "曲靖市人民政府办公室",
    "曲靖市住房和城乡建设局",
];
/// Banks and their branches.
pub(crate) const BANKS: &[(&str, u32)] = &[
    ("中国农业银行曲靖分行", 25),
    ("中国工商银行曲靖分行", 18),
    ("中国建设银行曲靖分行", 16),
    ("中国银行曲靖分行", 8),
    ("中国邮政储蓄银行曲靖市分行", 14),
    ("曲靖农村商业银行", 16),
    ("富滇银行曲靖分行", 5),
    ("曲靖市商业银行", 3),
    ("招商银行曲靖分行", 3),
];
pub(crate) const BROKERS: &[&str] = &[
    "太平洋证券曲靖营业部",
    "中信证券昆明营业部",
    "国泰君安证券曲靖营业部",
    "华泰证券昆明营业部",
    "招商证券曲靖营业部",
];
pub(crate) const INSURERS: &[&str] = &[
    "中国人寿保险股份有限公司曲靖分公司",
    "中国平安人寿保险股份有限公司曲靖中心支公司",
    "中国太平洋人寿保险股份有限公司曲靖中心支公司",
    "新华人寿保险股份有限公司曲靖中心支公司",
    "泰康人寿保险有限责任公司曲靖中心支公司",
];
pub(crate) const HOSPITALS: &[&str] = &[
    "曲靖市第一人民医院",
    "曲靖市第二人民医院",
    "曲靖市中医医院",
    "昆明医科大学第一附属医院",
    "云南省第一人民医院",
];
pub(crate) const UNIVERSITIES: &[&str] = &[
    "曲靖师范学院",
    "云南大学",
    "昆明理工大学",
    "云南师范大学",
    "曲靖医学高等专科学校",
    "云南财经大学",
];
pub(crate) const ROADS: &[&str] = &[
    "人民路",
    "建设路",
    "解放路",
    "新华路",
    "文化路",
    "胜利路",
    "环城路",
    "民族街",
    "振兴路",
    "滨河路",
    "南宁路",
    "麒麟路",
    "文昌街",
    "紫云路",
    "翠峰路",
    "珠江源大道",
];
pub(crate) const VILLAGES: &[&str] = &[
    "大村",
    "小河",
    "新村",
    "团结",
    "红旗",
    "和平",
    "石头寨",
    "黄泥塘",
    "龙潭",
    "白沙",
    "老街",
    "大坪",
    "中所",
    "双河",
    "海子",
    "三元",
];
/// Departments supplying each extract, by source name.
pub(crate) const DEPARTMENTS: &[(&str, &str)] = &[
    ("hukou", "曲靖市公安局"),
    ("death", "曲靖市民政局、曲靖市卫生健康委员会"),
    ("tax", "国家税务总局曲靖市税务局"),
    ("social_insurance", "曲靖市人力资源和社会保障局"),
    ("housing_fund", "曲靖市住房公积金管理中心"),
    ("property", "曲靖市自然资源和规划局"),
    ("vehicle", "曲靖市公安局交通警察支队"),
    ("bank", "中国人民银行曲靖市分行"),
    ("securities", "中国证券监督管理委员会云南监管局"),
    ("insurance", "国家金融监督管理总局曲靖监管分局"),
    ("business", "曲靖市市场监督管理局"),
    ("disability", "曲靖市残疾人联合会"),
    ("expense", "曲靖市医疗保障局、曲靖市教育体育局"),
    ("staff", "曲靖市民政局"),
];

/// A frequency table prepared for drawing.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) items: Vec<&'static str>,
    pub(crate) cum: Vec<u32>,
}

impl Table {
    fn new(rows: &[(&'static str, u32)]) -> Table {
        let mut acc = 0;
        let mut cum = Vec::with_capacity(rows.len());
        for (_, w) in rows {
            acc += *w;
            cum.push(acc);
        }
        Table {
            items: rows.iter().map(|(s, _)| *s).collect(),
            cum,
        }
    }

    pub(crate) fn draw(&self, rng: &mut crate::rng::Rng) -> &'static str {
        self.items[rng.cumulative(&self.cum)]
    }
}

/// Every prepared table, built once.
#[derive(Debug)]
pub(crate) struct Vocabulary {
    pub(crate) surnames: Table,
    /// `[female as usize][era]`
    pub(crate) given: [[Table; 4]; 2],
    pub(crate) banks: Table,
    pub(crate) outside: Table,
    /// Same-pinyin alternatives of each given-name character.
    pub(crate) homophones: BTreeMap<char, Vec<char>>,
}

pub(crate) fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(|| Vocabulary {
        surnames: Table::new(SURNAMES),
        given: [
            [
                Table::new(MALE_BEFORE_1960),
                Table::new(MALE_FROM_1960),
                Table::new(MALE_FROM_1980),
                Table::new(MALE_FROM_2000),
            ],
            [
                Table::new(FEMALE_BEFORE_1960),
                Table::new(FEMALE_FROM_1960),
                Table::new(FEMALE_FROM_1980),
                Table::new(FEMALE_FROM_2000),
            ],
        ],
        banks: Table::new(BANKS),
        outside: Table::new(OUTSIDE_REGIONS),
        homophones: build_homophones(),
    })
}

impl Vocabulary {
    pub(crate) fn given(&self, female: bool, era: Era) -> &Table {
        let e = match era {
            Era::Before1960 => 0,
            Era::From1960 => 1,
            Era::From1980 => 2,
            Era::From2000 => 3,
        };
        &self.given[usize::from(female)][e]
    }
}

/// The reading of one character as a given-name character (prefixed with
/// 王 so that surname readings do not apply).
fn given_reading(c: char) -> Option<String> {
    let syl = hedui_model::name::pinyin_syllables(&format!("王{c}"));
    (syl.len() == 2 && syl[1].chars().all(|ch| ch.is_ascii_lowercase())).then(|| syl[1].clone())
}

fn build_homophones() -> BTreeMap<char, Vec<char>> {
    let mut pool: Vec<char> = Vec::new();
    let tables = [
        MALE_BEFORE_1960,
        MALE_FROM_1960,
        MALE_FROM_1980,
        MALE_FROM_2000,
        FEMALE_BEFORE_1960,
        FEMALE_FROM_1960,
        FEMALE_FROM_1980,
        FEMALE_FROM_2000,
    ];
    for t in tables {
        for (name, _) in t {
            pool.extend(name.chars());
        }
    }
    pool.extend(HOMOPHONE_EXTRAS.chars());
    pool.sort_unstable();
    pool.dedup();
    let mut by_reading: BTreeMap<String, Vec<char>> = BTreeMap::new();
    for c in &pool {
        if let Some(r) = given_reading(*c) {
            by_reading.entry(r).or_default().push(*c);
        }
    }
    let mut out = BTreeMap::new();
    for chars in by_reading.values() {
        for c in chars {
            // Alternatives must differ after normalisation too.
            let alts: Vec<char> = chars
                .iter()
                .copied()
                .filter(|a| {
                    a != c
                        && hedui_model::name::normalise(&a.to_string())
                            != hedui_model::name::normalise(&c.to_string())
                })
                .collect();
            if !alts.is_empty() {
                out.insert(*c, alts);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homophones_share_pinyin() {
        let v = vocabulary();
        let alts = v.homophones.get(&'伟').expect("伟 has homophones");
        assert!(alts.contains(&'威'));
        for (c, alts) in &v.homophones {
            for a in alts {
                assert_eq!(given_reading(*c), given_reading(*a));
            }
        }
    }

    #[test]
    fn counties_are_valid_region_codes() {
        for c in COUNTIES {
            assert_eq!(c.code.len(), 6);
            assert!(c.code.starts_with("5303"));
        }
        let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
        assert!(total > 80_000);
    }
}
