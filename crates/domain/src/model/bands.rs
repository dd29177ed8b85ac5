//! Coverage of a `latest_banded` indicator's bands over its field's declared
//! range: every value a record can hold must fall in some band, unless the
//! indicator says what a value in a gap scores (`gap_points`).

use rust_decimal::Decimal;

use super::Band;
use crate::catalogue::{FieldSpec, FieldType};

/// Each stretch of the field's range that no band covers, described for a
/// message (`600–649`, `values below 0`, `values above 599 and below 600`).
/// An integer field only needs its whole numbers covered; a decimal field
/// needs every value, so bands must meet exactly (which, inclusive on both
/// ends, they cannot without overlapping: such a field needs `gap_points`).
pub(super) fn gaps(bands: &[Band], field: &FieldSpec) -> Vec<String> {
    let int = field.ty == FieldType::Int;
    let mut spans: Vec<(Decimal, Decimal)> = bands
        .iter()
        .map(|b| {
            if int {
                (b.min.ceil(), b.max.floor())
            } else {
                (b.min, b.max)
            }
        })
        .filter(|(lo, hi)| lo <= hi)
        .collect();
    spans.sort();
    let one = Decimal::ONE;
    let mut out = Vec::new();
    // The lowest value still to be covered; `true` when that value itself
    // must be covered, `false` when only values above it must.
    let mut need: Option<(Decimal, bool)> =
        field.min.map(|m| (if int { m.ceil() } else { m }, true));
    let mut first = true;
    for (lo, hi) in spans {
        match need {
            None if first => out.push(format!("values below {lo}")),
            Some((v, incl)) if lo > v => out.push(if int {
                range(v, lo - one)
            } else if incl {
                format!("values from {v} to below {lo}")
            } else {
                format!("values above {v} and below {lo}")
            }),
            _ => {}
        }
        first = false;
        let next = if int { (hi + one, true) } else { (hi, false) };
        need = Some(match need {
            Some(n) if n.0 > next.0 || (n.0 == next.0 && !n.1) => n,
            _ => next,
        });
    }
    let Some(max) = field.max.map(|m| if int { m.floor() } else { m }) else {
        match need {
            Some((v, incl)) => out.push(format!(
                "values {} {v}",
                if incl { "from" } else { "above" }
            )),
            None => out.push("every value".into()),
        }
        return out;
    };
    match need {
        None => out.push(format!("values up to {max}")),
        Some((v, true)) if v <= max => out.push(if int {
            range(v, max)
        } else {
            format!("values from {v} to {max}")
        }),
        Some((v, false)) if v < max => out.push(format!("values above {v} up to {max}")),
        _ => {}
    }
    out
}

fn range(from: Decimal, to: Decimal) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from}–{to}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ty: FieldType, min: Option<i64>, max: Option<i64>) -> FieldSpec {
        FieldSpec {
            name: "score".into(),
            ty,
            required: true,
            min: min.map(Decimal::from),
            max: max.map(Decimal::from),
            values: Vec::new(),
            max_len: None,
            not_before: None,
        }
    }

    fn bands(spans: &[(i64, i64)]) -> Vec<Band> {
        spans
            .iter()
            .map(|&(min, max)| Band {
                min: min.into(),
                max: max.into(),
                points: 0,
            })
            .collect()
    }

    #[test]
    fn integer_fields_need_every_whole_number() {
        let f = field(FieldType::Int, Some(0), Some(1000));
        assert!(gaps(&bands(&[(850, 1000), (0, 849)]), &f).is_empty());
        assert_eq!(
            gaps(&bands(&[(850, 1000), (700, 799), (10, 699)]), &f),
            ["0–9", "800–849"]
        );
        assert_eq!(gaps(&bands(&[(0, 998)]), &f), ["999–1000"]);
        assert_eq!(gaps(&bands(&[(0, 999)]), &f), ["1000"]);
        assert_eq!(gaps(&[], &f), ["0–1000"]);
        let open = field(FieldType::Int, None, None);
        assert_eq!(
            gaps(&bands(&[(0, 10)]), &open),
            ["values below 0", "values from 11"]
        );
    }

    #[test]
    fn decimal_fields_need_every_value() {
        let f = field(FieldType::Decimal, Some(0), Some(10));
        assert_eq!(
            gaps(&bands(&[(0, 4), (5, 10)]), &f),
            ["values above 4 and below 5"]
        );
        assert_eq!(gaps(&bands(&[(0, 10)]), &f), Vec::<String>::new());
    }
}
