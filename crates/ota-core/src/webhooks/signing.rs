//! The signature of a delivery, GitHub's convention: `X-OTA-Signature-256: sha256=<hex>`, the lowercase hex
//! HMAC-SHA256 of the raw request body keyed with the webhook's secret. [`verify`] is what a receiver
//! does (in constant time).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-OTA-Signature-256";
/// The event's name (`campaign.completed`).
pub const EVENT_HEADER: &str = "X-OTA-Event";
/// The event's id (its audit entry's id), the same in every attempt: receivers drop ids they have seen.
pub const DELIVERY_HEADER: &str = "X-OTA-Delivery";

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    mac
}

/// The header's value for `body`: `sha256=` and the hex HMAC-SHA256 of the body keyed with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!(
        "sha256={}",
        crate::hex::lower_hex(&mac(secret, body).finalize().into_bytes())
    )
}

/// Whether `header` (the `X-OTA-Signature-256` value) signs `body` with `secret`; compared in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(bytes) = decode_hex(hex) else {
        return false;
    };
    mac(secret, body).verify_slice(&bytes).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_the_same_secret_and_body_verify() {
        let body = br#"{"id":1,"event":"campaign.started"}"#;
        let header = sign(b"s3cret", body);
        assert!(verify(b"s3cret", body, &header));
        assert!(!verify(b"another secret", body, &header));
        assert!(!verify(
            b"s3cret",
            br#"{"id":2,"event":"campaign.started"}"#,
            &header
        ));
        assert!(!verify(
            b"s3cret",
            body,
            header.trim_start_matches("sha256=")
        ));
        assert!(!verify(b"s3cret", body, "sha256=zz"));
        assert!(!verify(b"s3cret", body, "sha256="));
    }
}
