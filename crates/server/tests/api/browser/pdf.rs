//! Reading PDFs the browser printed: their text (poppler's `pdftotext`)
//! and the QR codes on their pages (`pdftoppm` to PNG at 200 dpi, then
//! `rqrr`).

use std::path::Path;
use std::process::Command;

/// Runs `program` with `args`; panics with its stderr if it fails.
fn run(program: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (apt-get install poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Writes `pdf` to a new temporary folder; returns the folder and the file.
fn written(pdf: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).expect("write the PDF");
    (dir, file)
}

/// The text of `pdf`, laid out as on the page (`pdftotext -layout`).
pub fn pdf_text(pdf: &[u8]) -> String {
    let (_dir, file) = written(pdf);
    let out = run(
        "pdftotext",
        &[
            "-layout".as_ref(),
            "-enc".as_ref(),
            "UTF-8".as_ref(),
            file.as_os_str(),
            "-".as_ref(),
        ],
    );
    String::from_utf8(out).expect("pdftotext writes UTF-8")
}

/// The contents of every QR code on every page of `pdf`, page by page.
pub fn pdf_qr_codes(pdf: &[u8]) -> Vec<String> {
    let (dir, file) = written(pdf);
    let prefix = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "200".as_ref(),
            "-png".as_ref(),
            file.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list the pages")
        .map(|e| e.expect("a page").path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    // page-1.png ... page-10.png: pdftoppm pads the numbers, so names sort.
    pages.sort();
    pages.iter().flat_map(|p| qr_codes_in(p)).collect()
}

/// The contents of the QR codes in the PNG image at `path`.
fn qr_codes_in(path: &Path) -> Vec<String> {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .to_luma8();
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32).0[0]
        });
    prepared
        .detect_grids()
        .into_iter()
        .map(|grid| {
            let (_, content) = grid
                .decode()
                .unwrap_or_else(|e| panic!("a QR code in {} does not decode: {e}", path.display()));
            content
        })
        .collect()
}
