//! Checks every page test can run over rendered HTML, without a browser:
//! accessibility basics (a `lang`, labels on every field, one `h1` and
//! headings in order, `alt` on every image) and, on a `zh-CN` page, no
//! English-only text.
//!
//! Use: `assert_page_ok(&html)`, or look at `check_page(&html)`'s list.
//!
//! On a `zh-CN` page a visible text node (not inside `script`, `style`,
//! `code`, `kbd`, `samp` or `template`) that has Latin letters but no
//! Chinese character is a problem, and so is a `title`, `aria-label`,
//! `placeholder`, `alt` or button `value` attribute without one, unless
//! every Latin-letter token in it reads the same in both languages:
//! - codes: `B03`, `P01` (1–3 capitals and 2–3 digits), and identifiers of
//!   capitals and digits joined by `-` or `_` (`SX-GOV`, `CERT-2026-0001`);
//! - grade letters `AAA`, `AA`, `A`, `B`, `C`, `D`;
//! - ID numbers ending in `X`, model versions (`v1.2`, `2026.1`), hex
//!   digests of 8 or more characters, and `http(s)://` URLs;
//! - units: `km`, `m`, `kg`, `g`, `h`, `min`, `s`, `ms`, `KB`, `MB`, `GB`;
//! - [`SAME_IN_BOTH`]: `PDF`, `QR`, `ID`, `JSON`, `OIDC`, `API`, `URL`,
//!   `JWS`, `PKCE`: names of formats and protocols that Chinese text writes
//!   in Latin letters too, and `English` (the label of the language switch).

use scraper::{ElementRef, Html, Node, Selector};

/// Words a Chinese page writes in Latin letters too. Keep this short: every
/// entry is a word no page needs to translate.
pub const SAME_IN_BOTH: &[&str] = &[
    "PDF", "QR", "ID", "JSON", "OIDC", "API", "URL", "JWS", "PKCE", "English",
];

/// Units written the same in both languages.
const UNITS: &[&str] = &[
    "km", "m", "kg", "g", "h", "min", "s", "ms", "KB", "MB", "GB",
];

/// Elements whose text is not prose a reader reads as the page's language.
const NOT_PROSE: &[&str] = &["script", "style", "code", "kbd", "samp", "template"];

/// Attributes whose values a reader sees or hears.
const READ_ATTRS: &[&str] = &["title", "aria-label", "placeholder", "alt"];

/// Everything wrong with `html`; empty when the page passes.
pub fn check_page(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let mut problems = Vec::new();
    let lang = doc.root_element().attr("lang").unwrap_or("");
    match lang {
        "zh-CN" | "en" => {}
        "" => problems.push("<html> has no lang attribute (zh-CN or en)".to_owned()),
        other => problems.push(format!("<html lang=\"{other}\">: expected zh-CN or en")),
    }
    check_labels(&doc, &mut problems);
    check_headings(&doc, &mut problems);
    for img in doc.select(&sel("img")) {
        if img.attr("alt").is_none() {
            problems.push(format!("{} has no alt attribute", describe(img)));
        }
    }
    if lang == "zh-CN" {
        check_chinese(&doc, &mut problems);
    }
    problems
}

/// Panics with every problem `check_page` finds in `html`.
pub fn assert_page_ok(html: &str) {
    let problems = check_page(html);
    assert!(
        problems.is_empty(),
        "the page fails its checks:\n  - {}",
        problems.join("\n  - ")
    );
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a valid selector")
}

/// A short description of an element for a message: its tag and the
/// attributes that identify it.
fn describe(el: ElementRef<'_>) -> String {
    let mut out = format!("<{}", el.value().name());
    for a in ["id", "name", "type", "src"] {
        if let Some(v) = el.attr(a) {
            out.push_str(&format!(" {a}=\"{v}\""));
        }
    }
    out.push('>');
    out
}

fn non_empty(v: Option<&str>) -> bool {
    v.is_some_and(|v| !v.trim().is_empty())
}

fn check_labels(doc: &Html, problems: &mut Vec<String>) {
    let label_for: Vec<&str> = doc
        .select(&sel("label[for]"))
        .filter_map(|l| l.attr("for"))
        .collect();
    let exists = |id: &str| doc.select(&sel("[id]")).any(|e| e.attr("id") == Some(id));
    for field in doc.select(&sel("input, select, textarea")) {
        let kind = field.attr("type").unwrap_or("text").to_ascii_lowercase();
        if field.value().name() == "input"
            && matches!(
                kind.as_str(),
                "hidden" | "submit" | "button" | "reset" | "image"
            )
        {
            continue;
        }
        let by_for = field.attr("id").is_some_and(|id| label_for.contains(&id));
        let wrapped = field
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| a.value().name() == "label");
        let by_aria = non_empty(field.attr("aria-label"))
            || field.attr("aria-labelledby").is_some_and(|ids| {
                let mut ids = ids.split_whitespace().peekable();
                ids.peek().is_some() && ids.all(exists)
            });
        if !(by_for || wrapped || by_aria) {
            problems.push(format!(
                "{} has no label (<label for>, a wrapping <label>, aria-label or aria-labelledby)",
                describe(field)
            ));
        }
    }
}

fn check_headings(doc: &Html, problems: &mut Vec<String>) {
    let mut h1s = 0;
    // A page may open with an h2 (a banner) before its h1, not with an h3.
    let mut previous: Option<usize> = None;
    for h in doc.select(&sel("h1, h2, h3, h4, h5, h6")) {
        let level: usize = h.value().name()[1..].parse().expect("h1..h6");
        if level == 1 {
            h1s += 1;
        }
        let text: String = h.text().collect();
        match previous {
            Some(p) if level > p + 1 => problems.push(format!(
                "heading level skipped: h{p} then h{level} (\"{}\")",
                text.trim()
            )),
            None if level > 2 => problems.push(format!(
                "the first heading is an h{level} (\"{}\")",
                text.trim()
            )),
            _ => {}
        }
        previous = Some(level);
    }
    if h1s != 1 {
        problems.push(format!("expected exactly one <h1>, found {h1s}"));
    }
}

fn check_chinese(doc: &Html, problems: &mut Vec<String>) {
    for node in doc.tree.nodes() {
        let Node::Text(text) = node.value() else {
            continue;
        };
        let hidden = node
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| NOT_PROSE.contains(&a.value().name()));
        if !hidden && english_only(text) {
            let inside = node
                .parent()
                .and_then(ElementRef::wrap)
                .map_or_else(String::new, |p| format!(" in <{}>", p.value().name()));
            problems.push(format!(
                "English-only text on a zh-CN page{inside}: \"{}\"",
                text.trim()
            ));
        }
    }
    for el in doc.root_element().descendent_elements() {
        let mut attrs: Vec<&str> = READ_ATTRS.to_vec();
        let kind = el.attr("type").unwrap_or("");
        if el.value().name() == "input" && matches!(kind, "submit" | "button" | "reset") {
            attrs.push("value");
        }
        for a in attrs {
            if let Some(v) = el.attr(a).filter(|v| english_only(v)) {
                problems.push(format!(
                    "English-only {a}=\"{v}\" on {} of a zh-CN page",
                    describe(el)
                ));
            }
        }
    }
}

/// True when `text` has a Latin-letter word that is not the same in both
/// languages and no Chinese character to go with it.
fn english_only(text: &str) -> bool {
    if text.chars().any(is_cjk) {
        return false;
    }
    // `?`, `!`, `:` and `.` end a word only at its end: URLs keep theirs.
    text.split(|c: char| c.is_whitespace() || "()[]{},;\"'“”‘’「」（），；：！？、·|".contains(c))
        .map(|t| t.trim_end_matches([':', '.', '?', '!']))
        .filter(|t| t.chars().any(|c| c.is_ascii_alphabetic()))
        .any(|t| !same_in_both(t))
}

/// A Chinese (Han) character.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}')
}

/// A token with Latin letters that reads the same in Chinese.
fn same_in_both(t: &str) -> bool {
    let t = t.trim_start_matches(['+', '-', '#', '/']);
    SAME_IN_BOTH.contains(&t)
        || UNITS.contains(&t)
        || matches!(t, "AAA" | "AA" | "A" | "B" | "C" | "D")
        || t.starts_with("http://")
        || t.starts_with("https://")
        || is_short_code(t)
        || is_identifier(t)
        || is_id_number(t)
        || is_version(t)
        || (t.len() >= 8 && t.chars().all(|c| c.is_ascii_hexdigit()))
        || is_quantity(t)
}

/// `B03`, `P01`: one to three capitals, then two or three digits.
fn is_short_code(t: &str) -> bool {
    let letters = t.chars().take_while(char::is_ascii_uppercase).count();
    let digits = t.len() - letters;
    (1..=3).contains(&letters)
        && (2..=3).contains(&digits)
        && t[letters..].chars().all(|c| c.is_ascii_digit())
}

/// `SX-GOV`, `CERT-2026-0001`: capitals and digits in two or more parts
/// joined by `-` or `_`.
fn is_identifier(t: &str) -> bool {
    let parts: Vec<&str> = t.split(['-', '_']).collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
}

/// An 18-character resident ID number whose check character is `X`.
fn is_id_number(t: &str) -> bool {
    t.len() == 18 && t[..17].chars().all(|c| c.is_ascii_digit()) && matches!(&t[17..], "X" | "x")
}

/// `v1`, `v1.2`, `V2026.1`.
fn is_version(t: &str) -> bool {
    let Some(rest) = t.strip_prefix(['v', 'V']) else {
        return false;
    };
    !rest.is_empty()
        && rest
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// A number with a unit: `12km`, `3.5MB`.
fn is_quantity(t: &str) -> bool {
    let unit_at = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    unit_at > 0
        && t[..unit_at].chars().all(|c| c.is_ascii_digit() || c == '.')
        && UNITS.contains(&&t[unit_at..])
}

mod tests {
    use super::*;

    /// A zh-CN page that passes, with `body` inside it.
    fn zh(body: &str) -> String {
        format!(
            "<!doctype html><html lang=\"zh-CN\"><head><title>我的诚信分</title></head>\
             <body><h1>诚信分</h1>{body}</body></html>"
        )
    }

    /// The problems of `html`, which must all contain `needle` and be at least one.
    fn fires(html: &str, needle: &str) {
        let problems = check_page(html);
        assert!(
            !problems.is_empty(),
            "expected a problem about {needle:?} in {html}"
        );
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "expected a problem about {needle:?}, got {problems:?}"
        );
    }

    #[test]
    fn a_good_chinese_page_passes() {
        let html = zh(r#"
            <nav><a href="/en" lang="en">English</a></nav>
            <h2>评分明细</h2><h3>B03 纳税 AAA</h3>
            <table><tr><th>指标</th><th>等级</th></tr>
              <tr><td>830</td><td>AA</td><td>2026.1</td><td>v2</td><td>12 km</td><td>3.5MB</td>
              <td>2026-11-20</td><td>33060219900101123X</td><td>SX-GOV</td><td>CERT-2026-0001</td>
              <td>PDF</td><td>QR</td><td>9f86d081884c7d65</td><td>P01: A</td></tr></table>
            <p>https://example.invalid/verify?c=1</p>
            <img src="/dial.svg" alt="诚信分表盘"><img src="/line.svg" alt="">
            <form>
              <label for="q">身份证号</label><input id="q" name="q" placeholder="18 位身份证号">
              <label>原因 <textarea name="reason"></textarea></label>
              <span id="l1">范围</span><select aria-labelledby="l1"><option>分数</option></select>
              <input name="code" aria-label="一次性代码">
              <input type="hidden" name="csrf" value="abc"><input type="submit" value="提交">
              <button title="提交申请">提交</button>
            </form>
            <script>const english = "not checked";</script><code>GET /api/v1/me</code>
            <h2>历史</h2>"#);
        assert_eq!(check_page(&html), Vec::<String>::new());
    }

    #[test]
    fn an_english_page_may_be_english() {
        let html = r#"<html lang="en"><head><title>My score</title></head>
            <body><h1>Score</h1><label>Reason <input name="r"></label></body></html>"#;
        assert_eq!(check_page(html), Vec::<String>::new());
    }

    #[test]
    fn lang_must_be_set_and_known() {
        fires("<html><body><h1>分</h1></body></html>", "no lang attribute");
        fires(
            "<html lang=\"fr\"><body><h1>x</h1></body></html>",
            "expected zh-CN or en",
        );
    }

    #[test]
    fn every_field_needs_a_label() {
        fires(
            &zh(r#"<input name="q">"#),
            "<input name=\"q\"> has no label",
        );
        fires(
            &zh(r#"<select id="s"></select>"#),
            "<select id=\"s\"> has no label",
        );
        fires(&zh(r#"<textarea name="t"></textarea>"#), "has no label");
        fires(
            &zh(r#"<label for="other">号</label><input id="q">"#),
            "has no label",
        );
        fires(&zh(r#"<input aria-label=" " name="q">"#), "has no label");
        fires(
            &zh(r#"<input aria-labelledby="nowhere" name="q">"#),
            "has no label",
        );
    }

    #[test]
    fn exactly_one_h1_and_no_skipped_levels() {
        fires(
            "<html lang=\"zh-CN\"><body><h2>分</h2></body></html>",
            "found 0",
        );
        fires(&zh("<h1>再一个</h1>"), "found 2");
        fires(&zh("<h2>明细</h2><h4>纳税</h4>"), "h2 then h4");
        fires(
            "<html lang=\"zh-CN\"><body><h3>横幅</h3><h1>分</h1></body></html>",
            "first heading is an h3",
        );
    }

    #[test]
    fn every_image_needs_alt() {
        fires(
            &zh(r#"<img src="/x.png">"#),
            "<img src=\"/x.png\"> has no alt",
        );
    }

    #[test]
    fn english_only_text_on_a_chinese_page_is_found() {
        fires(
            &zh("<p>Your score</p>"),
            "English-only text on a zh-CN page in <p>: \"Your score\"",
        );
        fires(&zh("<p>分数 <b>Score</b></p>"), "\"Score\"");
        fires(&zh("<p>830 points</p>"), "830 points");
        fires(&zh("<button>OK</button>"), "\"OK\"");
        fires(&zh("<p>SX GOV</p>"), "SX GOV");
        fires(
            "<html lang=\"zh-CN\"><head><title>My score</title></head><body><h1>分</h1></body></html>",
            "in <title>",
        );
        fires(
            &zh(r#"<img src="/d.svg" alt="score dial">"#),
            "English-only alt=\"score dial\"",
        );
        fires(
            &zh(r#"<a href="/" title="Home">首页</a>"#),
            "English-only title=\"Home\"",
        );
        fires(
            &zh(r#"<input aria-label="Code" name="c">"#),
            "English-only aria-label",
        );
        fires(
            &zh(r#"<label>号 <input name="q" placeholder="ID number"></label>"#),
            "English-only placeholder",
        );
        fires(
            &zh(r#"<input type="submit" value="Send">"#),
            "English-only value=\"Send\"",
        );
    }

    #[test]
    fn tokens_that_read_the_same_are_allowed_and_others_are_not() {
        for ok in [
            "B03",
            "P01",
            "AAA",
            "A",
            "v1.2",
            "12km",
            "KB",
            "SX-GOV",
            "PDF",
            "QR",
            "33060219900101123X",
            "deadbeef01",
            "https://x.invalid/a",
        ] {
            assert!(!english_only(ok), "{ok} reads the same in Chinese");
        }
        for bad in [
            "Score", "AB", "E", "BB", "ok", "v", "Bx03", "version2", "km/h-ish",
        ] {
            assert!(english_only(bad), "{bad} is English");
        }
    }
}
