//! Altered score certificates for verifier tests: one byte of the payload
//! or of the signature changed, another `kid`, `alg: none`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;

fn parts(jws: &str) -> (String, String, String) {
    let mut it = jws.split('.');
    let (h, p, s) = (it.next(), it.next(), it.next());
    (
        h.expect("header").to_owned(),
        p.expect("payload").to_owned(),
        s.expect("signature").to_owned(),
    )
}

/// The certificate with one byte of its payload changed (a letter of
/// `sub`), still valid base64url and JSON: only the signature tells.
pub fn payload_byte_changed(jws: &str) -> String {
    let (h, p, s) = parts(jws);
    let mut payload = B64.decode(&p).expect("payload is base64url");
    let at = find(&payload, b"\"sub\":\"") + 7;
    payload[at] = if payload[at] == b'A' { b'B' } else { b'A' };
    format!("{h}.{}.{s}", B64.encode(payload))
}

/// The certificate with one byte of its signature changed.
pub fn signature_byte_changed(jws: &str) -> String {
    let (h, p, s) = parts(jws);
    let mut sig = B64.decode(&s).expect("signature is base64url");
    sig[10] ^= 0x01;
    format!("{h}.{p}.{}", B64.encode(sig))
}

/// The certificate with its header naming another key id.
pub fn with_kid(jws: &str, kid: &str) -> String {
    let (h, p, s) = parts(jws);
    let mut header: serde_json::Value =
        serde_json::from_slice(&B64.decode(&h).expect("header")).expect("header JSON");
    header["kid"] = serde_json::Value::String(kid.to_owned());
    format!(
        "{}.{p}.{s}",
        B64.encode(serde_json::to_vec(&header).unwrap())
    )
}

/// The certificate's claims, unsigned, under `alg: none`.
pub fn alg_none(jws: &str) -> String {
    let (h, p, _) = parts(jws);
    let mut header: serde_json::Value =
        serde_json::from_slice(&B64.decode(&h).expect("header")).expect("header JSON");
    header["alg"] = serde_json::Value::String("none".into());
    format!("{}.{p}.", B64.encode(serde_json::to_vec(&header).unwrap()))
}

/// The certificate's claims (unverified).
pub fn claims(jws: &str) -> serde_json::Value {
    let (_, p, _) = parts(jws);
    serde_json::from_slice(&B64.decode(p).expect("payload")).expect("payload JSON")
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("the claim is present")
}
