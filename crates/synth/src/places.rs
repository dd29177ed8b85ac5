//! Places and institutions: Shaoxing's districts, where outsiders come from,
//! and the enforcement authorities that issue penalties.

use chengxin_domain::district::SHAOXING;

/// A district or county of Shaoxing (绍兴市): its code and name come from
/// the domain's table ([`chengxin_domain::district::SHAOXING`]), the one
/// source of truth the dashboard reads too.
#[derive(Debug)]
pub(crate) struct District {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    /// The name without 区/县/市, as in 最美越城人.
    pub(crate) short: &'static str,
    /// The one-character abbreviation used in case numbers.
    pub(crate) abbr: &'static str,
    /// Relative population.
    pub(crate) weight: u32,
}

pub(crate) const DISTRICTS: &[District] = &[
    District {
        code: SHAOXING[0].code,
        name: SHAOXING[0].name_zh,
        short: "越城",
        abbr: "越",
        weight: 19,
    },
    District {
        code: SHAOXING[1].code,
        name: SHAOXING[1].name_zh,
        short: "柯桥",
        abbr: "柯",
        weight: 21,
    },
    District {
        code: SHAOXING[2].code,
        name: SHAOXING[2].name_zh,
        short: "上虞",
        abbr: "虞",
        weight: 15,
    },
    District {
        code: SHAOXING[3].code,
        name: SHAOXING[3].name_zh,
        short: "新昌",
        abbr: "新",
        weight: 8,
    },
    District {
        code: SHAOXING[4].code,
        name: SHAOXING[4].name_zh,
        short: "诸暨",
        abbr: "暨",
        weight: 23,
    },
    District {
        code: SHAOXING[5].code,
        name: SHAOXING[5].name_zh,
        short: "嵊州",
        abbr: "嵊",
        weight: 14,
    },
];

// Every district of the domain's table, each once (the entries above take
// them by index).
const _: () = assert!(DISTRICTS.len() == SHAOXING.len());

/// Address codes of places outside Shaoxing that people move in from, with
/// relative weights (neighbouring cities and the big sending provinces).
pub(crate) const ELSEWHERE: &[(&str, u32)] = &[
    ("330102", 6), // 杭州市上城区
    ("330106", 5), // 杭州市西湖区
    ("330203", 4), // 宁波市海曙区
    ("330302", 3), // 温州市鹿城区
    ("330702", 3), // 金华市婺城区
    ("320106", 3), // 南京市鼓楼区
    ("340104", 8), // 合肥市蜀山区
    ("340202", 5), // 芜湖市镜湖区
    ("510107", 7), // 成都市武侯区
    ("410105", 7), // 郑州市金水区
    ("360102", 6), // 南昌市东湖区
    ("420106", 5), // 武汉市武昌区
    ("430104", 5), // 长沙市岳麓区
    ("520102", 8), // 贵阳市南明区
    ("500103", 5), // 重庆市渝中区
    ("610113", 3), // 西安市雁塔区
    ("350102", 3), // 福州市鼓楼区
    ("370102", 2), // 济南市历下区
    ("450103", 2), // 南宁市青秀区
];

/// An enforcement field of administrative penalties (P01 `domain`).
pub(crate) struct Enforcer {
    pub(crate) domain: &'static str,
    pub(crate) unit: &'static str,
    /// Authority name for the city-level office.
    pub(crate) city: &'static str,
    /// District offices are named `{district_prefix}{district}{district_suffix}`.
    pub(crate) district_prefix: &'static str,
    pub(crate) district_suffix: &'static str,
    /// Case numbers read `{abbr}{case_code}罚〔{year}〕{n}号`.
    pub(crate) case_code: &'static str,
    pub(crate) weight: u32,
}

pub(crate) const TAX: usize = 0;
pub(crate) const TRAFFIC: usize = 1;

pub(crate) const ENFORCERS: &[Enforcer] = &[
    Enforcer {
        domain: "tax",
        unit: "SX-TAX",
        city: "绍兴市税务局",
        district_prefix: "绍兴市",
        district_suffix: "税务局",
        case_code: "税",
        weight: 20,
    },
    Enforcer {
        domain: "traffic",
        unit: "SX-TRAFFIC",
        city: "绍兴市公安局交通警察支队",
        district_prefix: "绍兴市公安局交通警察支队",
        district_suffix: "大队",
        case_code: "公交",
        weight: 40,
    },
    Enforcer {
        domain: "market",
        unit: "SX-AMR",
        city: "绍兴市市场监督管理局",
        district_prefix: "绍兴市",
        district_suffix: "市场监督管理局",
        case_code: "市监",
        weight: 25,
    },
    Enforcer {
        domain: "environment",
        unit: "SX-ENV",
        city: "绍兴市生态环境局",
        district_prefix: "绍兴市生态环境局",
        district_suffix: "分局",
        case_code: "环",
        weight: 15,
    },
];

/// Serious-dishonesty lists (S01 `list_type`) and the units that keep them.
pub(crate) const LISTS: &[(&str, &str, u32)] = &[
    ("court", "SX-COURT", 60),
    ("tax", "SX-TAX", 20),
    ("market", "SX-AMR", 20),
];

pub(crate) const CHARITIES: &[&str] = &[
    "绍兴市慈善总会",
    "绍兴市红十字会",
    "浙江省慈善联合总会",
    "绍兴市教育发展基金会",
    "绍兴市青少年发展基金会",
    "中华慈善总会",
];

pub(crate) const VOLUNTEER_ORGS: &[&str] = &[
    "绍兴市志愿者协会",
    "绍兴市红十字志愿服务队",
    "绍兴市文明实践志愿服务中心",
    "绍兴市图书馆志愿服务队",
    "绍兴市交通文明劝导志愿队",
    "绍兴市社区养老服务志愿队",
    "绍兴市蓝天救援队",
];

/// Honour titles by level: national, provincial, city. County-level ones are
/// built from the district's name with [`COUNTY_TITLES`].
pub(crate) const HONOURS: [&[&str]; 3] = [
    &[
        "全国道德模范",
        "全国优秀志愿者",
        "全国五一劳动奖章",
        "全国见义勇为英雄",
    ],
    &[
        "浙江省道德模范",
        "浙江省优秀志愿者",
        "浙江省劳动模范",
        "浙江好人",
    ],
    &[
        "绍兴市道德模范",
        "绍兴好人",
        "绍兴市优秀志愿者",
        "绍兴市见义勇为先进个人",
        "绍兴市文明家庭",
    ],
];

/// County-level honours: `{prefix}{district}{suffix}`, with the district's
/// short name when the flag is set.
pub(crate) const COUNTY_TITLES: &[(&str, bool, &str)] = &[
    ("", false, "优秀志愿者"),
    ("最美", true, "人"),
    ("", false, "文明市民"),
    ("", false, "孝老爱亲模范"),
];

/// Levels of O01 honours, rarest first, and how often each is awarded.
pub(crate) const HONOUR_LEVELS: [&str; 4] = ["national", "provincial", "city", "county"];
pub(crate) const HONOUR_WEIGHTS: [u32; 4] = [2, 8, 30, 60];
