//! The portal's words for the API's English values (record states,
//! statuses, causes, steps, actors, actions, field names), so a zh-CN page
//! never shows an English-only word and an English page reads naturally.
//! Each function maps a value as the API spells it; anything unknown is
//! shown as it is, after a word in the page's language.

use serde::Serialize;

use super::lang::Lang;

/// The API's name of a serialisable enum value (`"active"`, `"awaiting_unit"`).
pub fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn pick(l: Lang, pair: Option<(&'static str, &'static str)>, raw: &str) -> String {
    match pair {
        Some((zh, en)) => l.t(zh, en).to_owned(),
        None => format!("{} {raw}", l.t("其他", "other")),
    }
}

/// A record's state.
pub fn record_state(l: Lang, s: &str) -> String {
    let pair = match s {
        "active" => Some(("有效", "active")),
        "disputed" => Some(("异议中", "disputed")),
        "repaired" => Some(("已修复", "repaired")),
        "withdrawn" => Some(("已撤回", "withdrawn")),
        "corrected" => Some(("已更正", "corrected")),
        "pending" => Some(("待核实", "pending")),
        "rejected" => Some(("未通过", "rejected")),
        _ => None,
    };
    pick(l, pair, s)
}

/// Why the score changed (history, notifications).
pub fn cause(l: Lang, c: &str) -> String {
    let pair = match c {
        "import" => Some(("批量导入信息", "records imported")),
        "push" => Some(("单位报送信息", "a unit reported a record")),
        "withdraw" => Some(("单位撤回信息", "a unit withdrew a record")),
        "model_publish" => Some(("发布新评分模型", "a new score model")),
        "recompute" => Some(("重新计算", "recomputed")),
        "decision" => Some(("审核决定", "a decision on a record")),
        "commitment" => Some(("签署信用承诺", "a credit commitment signed")),
        "window" => Some((
            "信息进入或超出有效期",
            "a record entered or left its window",
        )),
        "self_report" => Some(("自主申报", "a self-report")),
        "objection" => Some(("异议处理", "an objection decided")),
        "repaired" => Some(("信用修复", "credit repair approved")),
        _ => None,
    };
    pick(l, pair, c)
}

/// A commitment's status.
pub fn commitment_status(l: Lang, s: &str) -> String {
    let pair = match s {
        "active" => Some(("履行中", "active")),
        "fulfilled" => Some(("已履行", "fulfilled")),
        "breached" => Some(("已违反", "breached")),
        "expired" => Some(("已失效", "expired")),
        _ => None,
    };
    pick(l, pair, s)
}

/// A self-report's or a repair application's status.
pub fn decision_status(l: Lang, s: &str) -> String {
    let pair = match s {
        "pending" => Some(("待审核", "pending")),
        "verified" => Some(("已核实", "verified")),
        "approved" => Some(("已批准", "approved")),
        "rejected" => Some(("未通过", "rejected")),
        _ => None,
    };
    pick(l, pair, s)
}

/// An objection's status.
pub fn objection_status(l: Lang, s: &str) -> String {
    let pair = match s {
        "submitted" => Some(("已提交", "submitted")),
        "accepted" => Some(("已受理", "accepted")),
        "awaiting_unit" => Some(("待单位答复", "awaiting the unit")),
        "corrected" => Some(("已更正", "corrected")),
        "explained" => Some(("已答复（维持）", "explained (stands)")),
        _ => None,
    };
    pick(l, pair, s)
}

/// A step of an objection.
pub fn objection_step(l: Lang, s: &str) -> String {
    let pair = match s {
        "submitted" => Some(("提交", "submitted")),
        "accepted" => Some(("受理", "accepted")),
        "routed_to_unit" => Some(("转报送单位核查", "sent to the unit")),
        "unit_replied" => Some(("单位答复", "the unit replied")),
        "corrected" => Some(("已更正", "corrected")),
        "explained" => Some(("已答复", "explained")),
        _ => None,
    };
    pick(l, pair, s)
}

/// How serious a repairable record is.
pub fn repair_level(l: Lang, s: &str) -> String {
    let pair = match s {
        "general" => Some(("一般", "general")),
        "serious" => Some(("严重", "serious")),
        _ => None,
    };
    pick(l, pair, s)
}

/// Who accessed the data (`actor_kind`).
pub fn actor_kind(l: Lang, s: &str) -> String {
    let pair = match s {
        "unit" => Some(("协同单位", "unit")),
        "operator" => Some(("信用工作机构操作员", "agency operator")),
        "staff" => Some(("信用工作机构工作人员", "agency staff")),
        "party" => Some(("授权查询方", "authorised party")),
        "partner" => Some(("合作城市", "partner city")),
        "system" => Some(("诚信分平台", "the platform")),
        _ => None,
    };
    pick(l, pair, s)
}

/// An audit action.
pub fn action(l: Lang, s: &str) -> String {
    let pair = match s {
        "person.read" => Some(("查询", "read")),
        "person.renamed" => Some(("更新姓名", "name updated")),
        "record.accepted" | "records.ingested" => Some(("报送信息", "record reported")),
        "record.corrected" => Some(("更正信息", "record corrected")),
        "record.withdrawn" => Some(("撤回信息", "record withdrawn")),
        "record.disputed" => Some(("标记异议", "record disputed")),
        "record.dispute_resolved" => Some(("异议处理完毕", "dispute resolved")),
        "record.repaired" => Some(("信用修复", "record repaired")),
        "record.verified" => Some(("核实申报", "self-report verified")),
        "record.rejected" => Some(("驳回申报", "self-report rejected")),
        "score.changed" | "scores.changed" => Some(("诚信分变动", "score changed")),
        "authorisation.used" => Some(("凭授权查询", "read under authorisation")),
        "authorisation.redeemed" => Some(("领取授权", "authorisation redeemed")),
        "authorisation.use_refused" => Some(("授权查询被拒绝", "authorised read refused")),
        "authorisation.refused" => Some(("拒绝授权请求", "grant refused")),
        "objection.accepted" => Some(("受理异议", "objection accepted")),
        "objection.decided" => Some(("异议决定", "objection decided")),
        "objection.unit_replied" => Some(("单位答复异议", "unit replied to objection")),
        "objection.overdue" => Some(("异议逾期", "objection overdue")),
        "repair.applied" => Some(("申请信用修复", "repair applied for")),
        _ => None,
    };
    pick(l, pair, s)
}

/// The purpose as the access log gives it (`中文 / English`), in `l`.
pub fn purpose(l: Lang, s: &str) -> String {
    match s.split_once(" / ") {
        Some((zh, en)) => l.t(zh, en).to_owned(),
        None => s.to_owned(),
    }
}

/// A catalogue field's name.
pub fn field(l: Lang, name: &str) -> String {
    let pair = match name {
        "active" => Some(("有效", "active")),
        "amount_cny" => Some(("金额（元）", "amount (CNY)")),
        "authority" => Some(("决定机关", "authority")),
        "awarded_on" => Some(("授予日期", "awarded on")),
        "capacity" => Some(("行为能力", "capacity")),
        "case_no" => Some(("文书号", "case number")),
        "decided_on" => Some(("决定日期", "decided on")),
        "domain" => Some(("领域", "domain")),
        "donated_on" => Some(("捐赠日期", "donated on")),
        "evaluated_on" => Some(("评价日期", "evaluated on")),
        "hours" => Some(("服务时长（小时）", "hours")),
        "level" => Some(("级别", "level")),
        "list_type" => Some(("名单类型", "list type")),
        "listed_on" => Some(("列入日期", "listed on")),
        "organisation" => Some(("组织单位", "organisation")),
        "recipient" => Some(("受赠方", "recipient")),
        "region_code" => Some(("行政区划代码", "region code")),
        "registered_on" => Some(("登记日期", "registered on")),
        "removed_on" => Some(("移出日期", "removed on")),
        "score" => Some(("分值", "score")),
        "served_on" => Some(("服务日期", "served on")),
        "signed_on" => Some(("签署日期", "signed on")),
        "template" => Some(("承诺模板", "template")),
        "text" => Some(("文本", "text")),
        "title" => Some(("名称", "title")),
        "valid_from" => Some(("有效期起", "valid from")),
        "valid_until" => Some(("有效期至", "valid until")),
        "volume_ml" => Some(("献血量（毫升）", "volume (ml)")),
        _ => None,
    };
    pick(l, pair, name)
}

/// An enumerated field value (levels, capacity).
pub fn value(l: Lang, v: &str) -> String {
    let pair = match v {
        "minor" => Some(("轻微", "minor")),
        "general" => Some(("一般", "general")),
        "serious" => Some(("严重", "serious")),
        "national" => Some(("国家级", "national")),
        "provincial" => Some(("省级", "provincial")),
        "city" => Some(("市级", "city")),
        "county" => Some(("县级", "county")),
        "full" => Some(("完全", "full")),
        "limited" => Some(("限制", "limited")),
        "none" => Some(("无", "none")),
        _ => None,
    };
    match pair {
        Some((zh, en)) => l.t(zh, en).to_owned(),
        None => v.to_owned(),
    }
}

/// A record's fields as `名称：值` lines, each one text (so a value in
/// Latin letters still sits beside its label in the page's language).
pub fn fields(l: Lang, fields: &serde_json::Value) -> Vec<String> {
    let Some(map) = fields.as_object() else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| {
            let shown = match v {
                serde_json::Value::String(s) => value(l, s),
                serde_json::Value::Bool(b) => l
                    .t(if *b { "是" } else { "否" }, if *b { "yes" } else { "no" })
                    .to_owned(),
                serde_json::Value::Null => "—".to_owned(),
                other => other.to_string(),
            };
            format!("{}{}{shown}", field(l, k), l.t("：", ": "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_state_has_both_words() {
        for (s, zh) in [
            ("active", "有效"),
            ("disputed", "异议中"),
            ("repaired", "已修复"),
            ("withdrawn", "已撤回"),
            ("corrected", "已更正"),
            ("pending", "待核实"),
            ("rejected", "未通过"),
        ] {
            assert_eq!(record_state(Lang::Zh, s), zh);
            assert_eq!(record_state(Lang::En, s), s);
        }
        assert_eq!(record_state(Lang::Zh, "odd"), "其他 odd");
    }

    #[test]
    fn fields_are_labelled_in_the_page_language() {
        let f =
            serde_json::json!({"level": "general", "authority": "绍兴市税务局", "active": true});
        let zh = fields(Lang::Zh, &f);
        assert!(zh.contains(&"级别：一般".to_owned()), "{zh:?}");
        assert!(zh.contains(&"有效：是".to_owned()), "{zh:?}");
        let en = fields(Lang::En, &f);
        assert!(en.contains(&"level: general".to_owned()), "{en:?}");
        assert_eq!(
            purpose(Lang::En, "查询您的信息 / read your data"),
            "read your data"
        );
    }
}
