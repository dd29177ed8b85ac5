//! Synthetic Chinese names: a surname and one or two given-name characters,
//! combined at random. No list of real persons is involved.

use rand::Rng;

use crate::rates::one_of;

/// Common surnames, most frequent first (Shaoxing favourites near the top).
/// The first [`COMMON`] are drawn more often, as real frequencies are skewed.
const SURNAMES: &[&str] = &[
    "王", "陈", "张", "李", "徐", "金", "周", "俞", "沈", "杨", "吴", "赵", "黄", "刘", "孙", "朱",
    "胡", "钱", "何", "郑", "马", "郭", "林", "高", "罗", "梁", "宋", "谢", "韩", "唐", "冯", "许",
    "邓", "曹", "彭", "曾", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏",
    "吕", "丁", "任", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "石", "贾", "夏", "方",
    "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "段", "雷", "侯", "史", "陶", "贺", "顾", "毛",
    "龚", "邵", "万", "严", "戴", "孔", "汤", "楼", "裘", "屠", "童", "鲁", "茹", "寿", "竺", "宣",
    "诸葛", "欧阳", "司马", "上官",
];
const COMMON: usize = 20;

/// Given-name characters that suit anyone.
const SHARED: &[&str] = &[
    "文", "晓", "建", "春", "海", "金", "玉", "秋", "云", "一", "子", "思", "宇", "佳", "心", "雨",
    "家", "明", "嘉", "永", "天", "亦", "安", "若", "梓", "可", "立", "新", "世", "晨",
];
/// Given-name characters used more for boys.
const MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫",
    "波", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林", "阳", "国", "志", "东", "峰", "亮",
    "成", "兵", "哲", "睿", "博", "轩", "豪", "源", "铭", "泽", "航", "宏", "毅",
];
/// Given-name characters used more for girls.
const FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "英", "燕", "萍", "红", "雪", "琳",
    "洁", "梅", "莉", "婷", "倩", "颖", "琴", "慧", "欣", "怡", "悦", "雯", "蕾", "晶", "妍", "茜",
    "月", "露", "瑶", "璐", "萱", "涵", "诗", "梦", "婉", "清", "彤", "岚", "丹",
];

/// Writes a fresh name into `out` (cleared first).
pub(crate) fn write_name(rng: &mut impl Rng, male: bool, out: &mut String) {
    out.clear();
    let surname = if rng.gen_bool(0.6) {
        one_of(rng, &SURNAMES[..COMMON])
    } else {
        one_of(rng, SURNAMES)
    };
    out.push_str(surname);
    let own = if male { MALE } else { FEMALE };
    if rng.gen_bool(0.3) {
        out.push_str(one_of(rng, own));
    } else {
        let first = if rng.gen_bool(0.5) { SHARED } else { own };
        out.push_str(one_of(rng, first));
        out.push_str(one_of(rng, own));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn names_are_two_to_four_han_characters() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut name = String::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..2000 {
            write_name(&mut rng, i % 2 == 0, &mut name);
            let n = name.chars().count();
            assert!((2..=4).contains(&n), "{name}");
            assert!(name.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
            seen.insert(name.clone());
        }
        // Varied enough that names do not repeat all the time.
        assert!(seen.len() > 1500, "{}", seen.len());
    }
}
