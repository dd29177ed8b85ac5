//! Shaoxing's districts and counties (绍兴市辖区、县、县级市) by their
//! GB/T 2260 administrative division codes: the one table the statistics
//! (counts by district, from the region code of an ID number) and the
//! synthetic population generator both read. A code not in it is "outside
//! the city" for the dashboard: a district code identifies nobody among its
//! thousands, so it is shown; other codes are grouped, not listed.

/// A district or county of Shaoxing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct District {
    /// The 6-digit administrative division code.
    pub code: &'static str,
    /// Its name in Chinese.
    pub name_zh: &'static str,
    /// Its name in English (pinyin, as the city writes it).
    pub name_en: &'static str,
}

/// The six districts and counties of Shaoxing, in code order.
pub const SHAOXING: [District; 6] = [
    District {
        code: "330602",
        name_zh: "越城区",
        name_en: "Yuecheng District",
    },
    District {
        code: "330603",
        name_zh: "柯桥区",
        name_en: "Keqiao District",
    },
    District {
        code: "330604",
        name_zh: "上虞区",
        name_en: "Shangyu District",
    },
    District {
        code: "330624",
        name_zh: "新昌县",
        name_en: "Xinchang County",
    },
    District {
        code: "330681",
        name_zh: "诸暨市",
        name_en: "Zhuji City",
    },
    District {
        code: "330683",
        name_zh: "嵊州市",
        name_en: "Shengzhou City",
    },
];

/// The district of Shaoxing with this code, if it is one.
pub fn district(code: &str) -> Option<&'static District> {
    SHAOXING.iter().find(|d| d.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_sorted_valid_shaoxing_codes() {
        for w in SHAOXING.windows(2) {
            assert!(w[0].code < w[1].code);
        }
        for d in SHAOXING {
            assert!(crate::id::is_region_code(d.code), "{}", d.code);
            assert!(d.code.starts_with("3306"), "{}", d.code);
        }
    }

    #[test]
    fn look_up() {
        assert_eq!(district("330681").map(|d| d.name_zh), Some("诸暨市"));
        assert_eq!(district("330102"), None); // 杭州市上城区
        assert_eq!(district("3306"), None);
    }
}
