//! Charts drawn on the server as inline SVG: the score dial, bar charts
//! (histograms, counts) and a line chart (score history). Only SVG
//! presentation attributes are used (no `style`), so the pages' strict
//! Content-Security-Policy holds; each chart has `role="img"` and a label,
//! and its numbers are also in the page as text or a table.

use std::fmt::Write as _;

/// `s` escaped for an attribute value or text in SVG/HTML.
pub fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A half-circle dial for `value` out of `max`, with the value and a
/// caption (e.g. the grade) in the middle.
pub fn dial(value: i64, max: i64, caption: &str, label: &str) -> String {
    let f = if max > 0 {
        (value.clamp(0, max) as f64) / (max as f64)
    } else {
        0.0
    };
    let (cx, cy, r) = (100.0, 100.0, 80.0);
    let angle = std::f64::consts::PI * (1.0 - f);
    let (x, y) = (cx + r * angle.cos(), cy - r * angle.sin());
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg class="dial" viewBox="0 0 200 120" role="img" aria-label="{label}"><path d="M20 100 A80 80 0 0 1 180 100" fill="none" stroke="#d9dee7" stroke-width="16" stroke-linecap="round"/>"##,
        label = attr(label)
    );
    if f > 0.0 {
        let _ = write!(
            s,
            r##"<path d="M20 100 A80 80 0 0 1 {x:.2} {y:.2}" fill="none" stroke="#1a6b3c" stroke-width="16" stroke-linecap="round"/>"##
        );
    }
    let _ = write!(
        s,
        r##"<text x="100" y="88" text-anchor="middle" font-size="34" font-weight="700" fill="#111">{value}</text><text x="100" y="112" text-anchor="middle" font-size="15" fill="#333">{}</text></svg>"##,
        attr(caption)
    );
    s
}

/// One bar of a [`bars`] chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
}

/// A vertical bar chart of `bars` (histograms, counts), each bar labelled
/// below and its value above.
pub fn bars(bars: &[Bar], label: &str) -> String {
    let n = bars.len().max(1) as f64;
    let (w, h, top, bottom) = (600.0, 240.0, 20.0, 40.0);
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max).max(1.0);
    let slot = w / n;
    let bw = (slot * 0.7).max(1.0);
    let mut s = format!(
        r##"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}"><line x1="0" y1="{base}" x2="{w}" y2="{base}" stroke="#555" stroke-width="1"/>"##,
        attr(label),
        base = h - bottom
    );
    for (i, b) in bars.iter().enumerate() {
        let bh = (h - top - bottom) * (b.value / max);
        let x = slot * i as f64 + (slot - bw) / 2.0;
        let y = h - bottom - bh;
        let mid = x + bw / 2.0;
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="#2f5d9e"/><text x="{mid:.1}" y="{ty:.1}" text-anchor="middle" font-size="12" fill="#111">{v}</text><text x="{mid:.1}" y="{ly:.1}" text-anchor="middle" font-size="12" fill="#333">{l}</text>"##,
            ty = y - 4.0,
            v = fmt_num(b.value),
            ly = h - bottom + 16.0,
            l = attr(&b.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A line chart of `points` (label, value) with values from 0 to `max`.
pub fn line(points: &[(String, f64)], max: f64, label: &str) -> String {
    let (w, h, left, top, bottom) = (600.0, 220.0, 40.0, 16.0, 36.0);
    let max = max.max(1.0);
    let n = points.len();
    let x_of = |i: usize| {
        if n <= 1 {
            left + (w - left) / 2.0
        } else {
            left + (w - left - 10.0) * i as f64 / (n - 1) as f64
        }
    };
    let y_of = |v: f64| h - bottom - (h - top - bottom) * (v.clamp(0.0, max) / max);
    let mut s = format!(
        r##"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"##,
        attr(label)
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let y = y_of(v);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{w}" y2="{y:.1}" stroke="#d9dee7" stroke-width="1"/><text x="{tx}" y="{ty:.1}" text-anchor="end" font-size="11" fill="#333">{v}</text>"##,
            tx = left - 4.0,
            ty = y + 4.0,
            v = fmt_num(v)
        );
    }
    if n > 0 {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, v))| format!("{:.1},{:.1}", x_of(i), y_of(*v)))
            .collect();
        let _ = write!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#1a6b3c" stroke-width="2.5"/>"##,
            path.join(" ")
        );
        for (i, (l, v)) in points.iter().enumerate() {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#1a6b3c"><title>{} {}</title></circle>"##,
                x_of(i),
                y_of(*v),
                attr(l),
                fmt_num(*v)
            );
        }
        let first = &points[0].0;
        let last = &points[n - 1].0;
        let _ = write!(
            s,
            r##"<text x="{left}" y="{y}" font-size="11" fill="#333">{}</text><text x="{w}" y="{y}" text-anchor="end" font-size="11" fill="#333">{}</text>"##,
            attr(first),
            attr(last),
            y = h - 10.0
        );
    }
    s.push_str("</svg>");
    s
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_shows_the_value_and_escapes_its_texts() {
        let s = dial(720, 1000, "AA <良好>", "诚信分 720");
        assert!(s.contains(">720<"));
        assert!(s.contains("AA &lt;良好&gt;"));
        assert!(!s.contains("style="));
        // Nothing drawn beyond the track for zero.
        assert_eq!(dial(0, 1000, "D", "x").matches("<path").count(), 1);
        assert_eq!(dial(1000, 1000, "AAA", "x").matches("<path").count(), 2);
    }

    #[test]
    fn bars_scale_to_the_largest_value() {
        let s = bars(
            &[
                Bar {
                    label: "A".into(),
                    value: 10.0,
                },
                Bar {
                    label: "B".into(),
                    value: 5.0,
                },
            ],
            "chart",
        );
        assert!(s.contains(r#"height="180.0""#), "{s}");
        assert!(s.contains(r#"height="90.0""#), "{s}");
    }

    #[test]
    fn a_line_has_a_point_per_value() {
        let pts = vec![
            ("2026-01-01".to_owned(), 600.0),
            ("2026-06-01".to_owned(), 640.0),
        ];
        let s = line(&pts, 1000.0, "history");
        assert_eq!(s.matches("<circle").count(), 2);
        assert!(s.contains("2026-06-01"));
    }
}
