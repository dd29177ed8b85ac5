//! Placeholders in a model's indicator texts (`{ceiling}`, `{window_years_zh}`,
//! …), filled from the indicator's own parameters when the model is parsed,
//! so that a text never quotes a number the model no longer has.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Indicator, ModelIssue, Rule};

/// The values an indicator's texts may quote, by placeholder name.
///
/// Every kind: `{cap}` (except `latest_banded`, which has none); with a
/// window: `{window_years}` (`2`), `{window_years_zh}` (`两`) and
/// `{window_years_en}` (`two`). `latest_banded`: `{top_band_min}`,
/// `{top_band_max}`, `{top_band_points}` (the band with the most points),
/// `{missing_points}`, and `{gap_points}` when set. `{points_each}` where the
/// kind has it; `listed`: `{ceiling}` when set; `sum_steps`: `{step}`,
/// `{points_per_step}`; `in_publicity`: `{levels.<level>.points}` and
/// `{levels.<level>.months}`; `by_level`: `{points.<level>}`.
pub(super) fn params(rule: &Rule) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        p.insert(k.to_owned(), v);
    };
    let window = |put: &mut dyn FnMut(&str, String), years: i32| {
        put("window_years", years.to_string());
        put("window_years_zh", zh_number(years));
        put("window_years_en", en_number(years));
    };
    match rule {
        Rule::LatestBanded {
            window_years,
            missing_points,
            bands,
            gap_points,
            ..
        } => {
            window(&mut put, *window_years);
            put("missing_points", missing_points.to_string());
            if let Some(g) = gap_points {
                put("gap_points", g.to_string());
            }
            if let Some(top) = bands.iter().max_by_key(|b| (b.points, b.min)) {
                put("top_band_min", decimal(top.min));
                put("top_band_max", decimal(top.max));
                put("top_band_points", top.points.to_string());
            }
        }
        Rule::CommitmentsActive {
            points_each, cap, ..
        } => {
            put("points_each", points_each.to_string());
            put("cap", cap.to_string());
        }
        Rule::CommitmentsFulfilled {
            window_years,
            points_each,
            cap,
            ..
        }
        | Rule::CommitmentBreaches {
            window_years,
            points_each,
            cap,
            ..
        }
        | Rule::Count {
            window_years,
            points_each,
            cap,
            ..
        } => {
            window(&mut put, *window_years);
            put("points_each", points_each.to_string());
            put("cap", cap.to_string());
        }
        Rule::InPublicity { cap, levels, .. } => {
            put("cap", cap.to_string());
            for (name, l) in levels {
                put(&format!("levels.{name}.points"), l.points.to_string());
                put(&format!("levels.{name}.months"), l.months.to_string());
            }
        }
        Rule::Listed {
            points_each,
            cap,
            ceiling,
            ..
        } => {
            put("points_each", points_each.to_string());
            put("cap", cap.to_string());
            if let Some(c) = ceiling {
                put("ceiling", c.to_string());
            }
        }
        Rule::ByLevel {
            window_years,
            cap,
            points,
            ..
        } => {
            window(&mut put, *window_years);
            put("cap", cap.to_string());
            for (name, v) in points {
                put(&format!("points.{name}"), v.to_string());
            }
        }
        Rule::SumSteps {
            window_years,
            step,
            points_per_step,
            cap,
            ..
        } => {
            window(&mut put, *window_years);
            put("step", decimal(*step));
            put("points_per_step", points_per_step.to_string());
            put("cap", cap.to_string());
        }
    }
    p
}

/// Fills the placeholders of every text of `ind`, reporting each bad one at
/// `{path}.<text>` (e.g. `indicators[0].factor.zh`).
pub(super) fn render_indicator(path: &str, ind: &mut Indicator, issues: &mut Vec<ModelIssue>) {
    let params = params(&ind.rule);
    let mut texts: Vec<(String, &mut String)> = vec![
        ("name_zh".into(), &mut ind.name_zh),
        ("name_en".into(), &mut ind.name_en),
        ("factor.zh".into(), &mut ind.factor.zh),
        ("factor.en".into(), &mut ind.factor.en),
    ];
    if let Rule::LatestBanded {
        missing_factor: Some(t),
        ..
    } = &mut ind.rule
    {
        texts.push(("missing_factor.zh".into(), &mut t.zh));
        texts.push(("missing_factor.en".into(), &mut t.en));
    }
    for (sub, text) in texts {
        match render(text, &params) {
            Ok(rendered) => *text = rendered,
            Err(message) => issues.push(ModelIssue {
                path: format!("{path}.{sub}"),
                message,
            }),
        }
    }
}

/// `text` with each `{name}` replaced by its parameter; `{{` and `}}` stand
/// for literal braces.
pub(super) fn render(text: &str, params: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err("a `}` without its `{` (write `}}` for a literal brace)".into());
        }
        let Some(end) = tail.find('}') else {
            return Err("a `{` without its `}` (write `{{` for a literal brace)".into());
        };
        let name = &tail[1..end];
        match params.get(name) {
            Some(v) => out.push_str(v),
            None => {
                let known: Vec<String> = params.keys().map(|k| format!("{{{k}}}")).collect();
                return Err(format!(
                    "unknown placeholder `{{{name}}}`; this indicator has {}",
                    known.join(", ")
                ));
            }
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A count in Chinese numerals as used before a measure word (两年, 十二个月);
/// digits beyond 99.
fn zh_number(n: i32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        2 => "两".into(),
        0..=9 => DIGITS[n as usize].into(),
        10..=19 => format!("十{}", if n == 10 { "" } else { DIGITS[n as usize - 10] }),
        20..=99 => {
            let ones = if n % 10 == 0 {
                ""
            } else {
                DIGITS[n as usize % 10]
            };
            format!("{}十{ones}", DIGITS[n as usize / 10])
        }
        _ => n.to_string(),
    }
}

/// A count in English words up to twenty, digits beyond.
fn en_number(n: i32) -> String {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    usize::try_from(n)
        .ok()
        .and_then(|i| WORDS.get(i))
        .map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_words() {
        let zh: Vec<String> = [1, 2, 3, 5, 10, 12, 20, 22, 99, 100]
            .into_iter()
            .map(zh_number)
            .collect();
        assert_eq!(
            zh,
            [
                "一",
                "两",
                "三",
                "五",
                "十",
                "十二",
                "二十",
                "二十二",
                "九十九",
                "100"
            ]
        );
        assert_eq!(en_number(3), "three");
        assert_eq!(en_number(21), "21");
    }

    #[test]
    fn placeholders_braces_and_errors() {
        let p = BTreeMap::from([("ceiling".to_owned(), "549".to_owned())]);
        assert_eq!(
            render("最高{ceiling}分 {{x}}", &p).unwrap(),
            "最高549分 {x}"
        );
        let e = render("{ceilng}", &p).unwrap_err();
        assert!(e.contains("`{ceilng}`") && e.contains("{ceiling}"), "{e}");
        assert!(render("a { b", &p).is_err());
        assert!(render("a } b", &p).is_err());
    }
}
