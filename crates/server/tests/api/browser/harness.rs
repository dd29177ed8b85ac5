//! The harness itself, on pages a tiny router serves: a clean page passes,
//! a page with a JavaScript error and a broken image is caught, the phone
//! viewport is 360 CSS pixels wide, screenshots are written, and a printed
//! page's Chinese text and QR code come back out of the PDF.

use std::panic::AssertUnwindSafe;

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use futures_util::FutureExt as _;

use super::{artefacts_dir, pdf_qr_codes, pdf_text, run, serve};
use crate::pages_check::assert_page_ok;

/// What the QR code on the printed page says.
const VERIFY_URL: &str = "http://127.0.0.1:9/verify/certificates/CERT-2026-0001";

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"icon\" href=\"data:,\">\
         <style>body {{ font-family: 'Noto Sans CJK SC', sans-serif; margin: 1rem }}\
         .qr svg {{ width: 45mm; height: 45mm }}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    ))
}

fn qr_svg(text: &str) -> String {
    let svg = qrcode::QrCode::new(text.as_bytes())
        .expect("fits in a QR code")
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    // Inline in HTML: without the XML declaration.
    svg[svg.find("<svg").expect("an svg element")..].to_owned()
}

fn site() -> Router {
    Router::new()
        .route(
            "/clean",
            get(|| async { page("干净的页面", "<p>诚信分 812，等级 AA。</p>") }),
        )
        .route(
            "/broken",
            get(|| async {
                page(
                    "有问题的页面",
                    "<img src=\"/missing.png\" alt=\"不存在的图片\">\
                     <script>throw new Error('故意的错误 boom');</script>",
                )
            }),
        )
        .route(
            "/report",
            get(|| async {
                let body = format!(
                    "<p>姓名：张三　诚信分：<strong>812</strong>　等级：AA</p>\
                     <figure class=\"qr\">{}<figcaption>扫码验证本报告</figcaption></figure>",
                    qr_svg(VERIFY_URL)
                );
                page("个人信用报告", &body)
            }),
        )
}

#[test]
fn a_clean_page_passes_and_a_broken_one_is_caught() {
    const TEST: &str = "a_clean_page_passes_and_a_broken_one_is_caught";
    run(|b| async move {
        let site = serve(site()).await;
        b.viewport_phone().await;
        let began = std::time::Instant::now();
        b.goto(&site.url("/clean")).await;
        b.assert_clean("clean").await;
        eprintln!(
            "browser: a page loaded and checked clean in {} ms",
            began.elapsed().as_millis()
        );
        let width = b.execute("return window.innerWidth", vec![]).await.unwrap();
        assert_eq!(width, 360, "the phone viewport is 360 CSS pixels wide");
        let shot = b.screenshot(TEST, "clean").await;
        assert!(
            shot.ends_with(format!("{TEST}/01-clean.png")),
            "{}",
            shot.display()
        );
        let png = image::open(&shot).expect("the screenshot is a PNG");
        assert_eq!(png.width(), 720, "360 CSS pixels at twice the density");
        b.assert_clean("clean").await;
        assert_page_ok(&b.source().await.unwrap());

        b.goto(&site.url("/broken")).await;
        b.screenshot(TEST, "broken").await;
        let problems = b.problems().await;
        let has = |kind: &str, needle: &str| {
            problems
                .iter()
                .any(|p| p.starts_with(kind) && p.contains(needle))
        };
        assert!(
            has("console error", "boom"),
            "the script error: {problems:?}"
        );
        assert!(
            has("console error", "missing.png"),
            "the failed load: {problems:?}"
        );
        assert!(
            has("failed request", "/missing.png answered 404"),
            "the 404 among the page's requests: {problems:?}"
        );

        // assert_clean fails the test on such a page.
        b.goto(&site.url("/broken")).await;
        let caught = AssertUnwindSafe(b.assert_clean("broken"))
            .catch_unwind()
            .await;
        let message = caught.expect_err("assert_clean must fail on the broken page");
        let message = message
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert!(message.contains("page broken is not clean"), "{message}");
        assert!(message.contains("boom"), "{message}");

        // A page that is itself a 404 is a failed request too.
        b.goto(&site.url("/nowhere")).await;
        let problems = b.problems().await;
        assert!(
            problems.iter().any(|p| p.contains("/nowhere answered 404")),
            "{problems:?}"
        );

        // The next test starts clean: the reset empties the log.
        b.goto(&site.url("/clean")).await;
        b.assert_clean("clean again").await;
        assert_eq!(
            std::fs::read_dir(artefacts_dir().join(TEST))
                .unwrap()
                .count(),
            2
        );
    });
}

#[test]
fn a_printed_page_keeps_its_chinese_text_and_qr_code() {
    const TEST: &str = "a_printed_page_keeps_its_chinese_text_and_qr_code";
    run(|b| async move {
        let site = serve(site()).await;
        b.goto(&site.url("/report")).await;
        b.assert_clean("report").await;
        b.screenshot(TEST, "report").await;
        let pdf = b.print_pdf().await;
        std::fs::write(artefacts_dir().join(TEST).join("report.pdf"), &pdf).unwrap();

        let text = pdf_text(&pdf);
        for words in ["个人信用报告", "张三", "812", "AA", "扫码验证本报告"] {
            assert!(
                text.contains(words),
                "{words:?} is not in the PDF's text:\n{text}"
            );
        }
        assert_eq!(text.matches('\u{c}').count(), 1, "one A4 page:\n{text}");
        assert_eq!(pdf_qr_codes(&pdf), vec![VERIFY_URL.to_owned()]);

        // A page without a QR code has none, and not the report's words.
        b.goto(&site.url("/clean")).await;
        let pdf = b.print_pdf().await;
        assert_eq!(pdf_qr_codes(&pdf), Vec::<String>::new());
        let text = pdf_text(&pdf);
        assert!(
            text.contains("诚信分 812") && !text.contains("个人信用报告"),
            "{text}"
        );
    });
}
