//! QR codes as inline SVG (the `qrcode` crate), for an authorisation's
//! one-time code and the printable report's verification link.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// `text` as an SVG QR code `size` pixels square at least, with a quiet
/// zone; `None` only if the text is too long for any QR code.
pub fn svg(text: &str, size: u32, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // The renderer writes an XML declaration; inline SVG in HTML must not
    // carry one. The label makes the image accessible.
    let start = image.find("<svg")?;
    let body = &image[start..];
    Some(body.replacen(
        "<svg",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\"",
            super::svg::attr(label)
        ),
        1,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_inline_svg() {
        let s = super::svg("https://example.test/verify?x=1", 160, "二维码 <QR>").unwrap();
        assert!(
            s.starts_with("<svg role=\"img\" aria-label=\"二维码 &lt;QR&gt;\""),
            "{}",
            &s[..80]
        );
        assert!(!s.contains("<?xml"));
        assert!(s.contains("<path") || s.contains("<rect"));
    }
}
