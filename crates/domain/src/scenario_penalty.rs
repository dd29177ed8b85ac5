//! The wording that reveals a penalty in a scenario's texts (第十八条): a
//! surcharge, a deposit increase, a denial or restriction, in Chinese
//! (substrings) and English (whole words and phrases).

/// Words that reveal a penalty, Chinese (matched as substrings).
pub(super) const PENALTY_ZH: &[&str] = &[
    "加价",
    "加收",
    "附加费",
    "额外收费",
    "额外费用",
    "提价",
    "涨价",
    "上浮",
    "提高押金",
    "增加押金",
    "押金上调",
    "加倍押金",
    "双倍押金",
    "拒绝",
    "不予",
    "限制",
    "禁止",
    "惩戒",
    "惩罚",
    "处罚",
    "罚款",
    "罚金",
    "黑名单",
    "取消资格",
    "降低额度",
    "减少额度",
    "提高利率",
    "上调利率",
];

/// Words that reveal a penalty, English (matched as whole words or phrases).
const PENALTY_EN: &[&str] = &[
    "surcharge",
    "surcharges",
    "surcharged",
    "markup",
    "mark up",
    "extra charge",
    "extra charges",
    "extra fee",
    "extra fees",
    "additional fee",
    "additional fees",
    "additional charge",
    "additional charges",
    "price increase",
    "higher price",
    "higher prices",
    "higher rate",
    "higher rates",
    "higher interest",
    "higher deposit",
    "increased deposit",
    "deposit increase",
    "raise the deposit",
    "raised deposit",
    "double deposit",
    "deny",
    "denies",
    "denied",
    "denial",
    "refuse",
    "refuses",
    "refused",
    "refusal",
    "reject",
    "rejected",
    "restrict",
    "restricts",
    "restricted",
    "restriction",
    "restrictions",
    "ban",
    "bans",
    "banned",
    "prohibit",
    "prohibited",
    "blacklist",
    "blacklisted",
    "penalty",
    "penalties",
    "penalise",
    "penalize",
    "punish",
    "punishment",
    "fined",
    "disqualify",
    "disqualified",
    "reduced credit",
    "lower credit",
];

/// The penalty words a description contains, in list order (empty: none).
pub fn penalty_words(text: &str) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = PENALTY_ZH
        .iter()
        .copied()
        .filter(|w| text.contains(w))
        .collect();
    // Whole words: letters and digits kept, everything else a single space.
    let mut words = String::with_capacity(text.len() + 2);
    words.push(' ');
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            words.push(c);
        } else if !words.ends_with(' ') {
            words.push(' ');
        }
    }
    if !words.ends_with(' ') {
        words.push(' ');
    }
    found.extend(
        PENALTY_EN
            .iter()
            .copied()
            .filter(|w| words.contains(&format!(" {w} "))),
    );
    found
}
