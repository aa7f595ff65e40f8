//! OneNET security authentication, server side:
//! `version=2018-10-31&res=<res>&et=<unix expiry>&method=<md5|sha1|sha256>&sign=<sign>` where
//! `sign = base64(HMAC_method(base64_decode(access_key), et + "\n" + method + "\n" + res + "\n" + version))`.
//! Values may arrive URL-encoded or raw; both are accepted.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What `urllib.parse.quote(v, safe='')` leaves alone: letters, digits and `-._~`.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The only token version OneNET documents.
pub const VERSION: &str = "2018-10-31";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMethod {
    Md5,
    Sha1,
    Sha256,
}

impl SignMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignMethod::Md5 => "md5",
            SignMethod::Sha1 => "sha1",
            SignMethod::Sha256 => "sha256",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "md5" => Some(SignMethod::Md5),
            "sha1" => Some(SignMethod::Sha1),
            "sha256" => Some(SignMethod::Sha256),
            _ => None,
        }
    }
}

impl fmt::Display for SignMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token lacks `{0}`")]
    Missing(&'static str),
    #[error("the token's version {0:?} is not {VERSION}")]
    UnsupportedVersion(String),
    #[error("the token's method {0:?} is not md5, sha1 or sha256")]
    UnknownMethod(String),
    #[error("the token's et {0:?} is not a unix time")]
    BadExpiry(String),
    #[error("the token's sign is not base64")]
    SignNotBase64,
    #[error("the access key is not base64")]
    AccessKeyNotBase64,
    #[error("the token's sign does not match")]
    BadSign,
    #[error("the token expired at {0}")]
    Expired(u64),
    #[error("the token is for {found:?}, not {expected:?}")]
    WrongResource { expected: String, found: String },
}

/// A token's fields, URL-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub version: String,
    pub res: String,
    pub et: u64,
    pub method: SignMethod,
    pub sign: String,
}

/// Splits and URL-decodes a token (its fields in any order).
pub fn parse(raw: &str) -> Result<Token, TokenError> {
    let (mut version, mut res, mut et, mut method, mut sign) = (None, None, None, None, None);
    for pair in raw.trim().split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = percent_decode_str(value.trim())
            .decode_utf8_lossy()
            .into_owned();
        match key.trim() {
            "version" => version = Some(value),
            "res" => res = Some(value),
            "et" => et = Some(value),
            "method" => method = Some(value),
            "sign" => sign = Some(value),
            _ => {}
        }
    }
    let version = version.ok_or(TokenError::Missing("version"))?;
    if version != VERSION {
        return Err(TokenError::UnsupportedVersion(version));
    }
    let res = res
        .filter(|r| !r.is_empty())
        .ok_or(TokenError::Missing("res"))?;
    let et_raw = et.ok_or(TokenError::Missing("et"))?;
    let et = et_raw
        .trim()
        .parse()
        .map_err(|_| TokenError::BadExpiry(et_raw.clone()))?;
    let method_raw = method.ok_or(TokenError::Missing("method"))?;
    let method = SignMethod::parse(&method_raw).ok_or(TokenError::UnknownMethod(method_raw))?;
    let sign = sign
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::Missing("sign"))?;
    Ok(Token {
        version,
        res,
        et,
        method,
        sign,
    })
}

fn string_to_sign(et: u64, method: SignMethod, res: &str, version: &str) -> String {
    format!("{et}\n{method}\n{res}\n{version}")
}

fn mac_bytes(key: &[u8], method: SignMethod, message: &[u8]) -> Vec<u8> {
    // new_from_slice accepts keys of any length for HMAC, so the fallbacks never run.
    match method {
        SignMethod::Md5 => Hmac::<md5::Md5>::new_from_slice(key)
            .map(|m| m.chain_update(message).finalize().into_bytes().to_vec())
            .unwrap_or_default(),
        SignMethod::Sha1 => Hmac::<sha1::Sha1>::new_from_slice(key)
            .map(|m| m.chain_update(message).finalize().into_bytes().to_vec())
            .unwrap_or_default(),
        SignMethod::Sha256 => Hmac::<sha2::Sha256>::new_from_slice(key)
            .map(|m| m.chain_update(message).finalize().into_bytes().to_vec())
            .unwrap_or_default(),
    }
}

fn verify_mac(key: &[u8], method: SignMethod, message: &[u8], expected: &[u8]) -> bool {
    // `verify_slice` compares in constant time.
    match method {
        SignMethod::Md5 => Hmac::<md5::Md5>::new_from_slice(key)
            .map(|m| m.chain_update(message).verify_slice(expected).is_ok())
            .unwrap_or(false),
        SignMethod::Sha1 => Hmac::<sha1::Sha1>::new_from_slice(key)
            .map(|m| m.chain_update(message).verify_slice(expected).is_ok())
            .unwrap_or(false),
        SignMethod::Sha256 => Hmac::<sha2::Sha256>::new_from_slice(key)
            .map(|m| m.chain_update(message).verify_slice(expected).is_ok())
            .unwrap_or(false),
    }
}

fn decode_key(access_key: &str) -> Result<Vec<u8>, TokenError> {
    STANDARD
        .decode(access_key.trim())
        .map_err(|_| TokenError::AccessKeyNotBase64)
}

/// The base64 sign for these fields (not URL-encoded).
pub fn compute_sign(
    access_key: &str,
    et: u64,
    method: SignMethod,
    res: &str,
) -> Result<String, TokenError> {
    let key = decode_key(access_key)?;
    let message = string_to_sign(et, method, res, VERSION);
    Ok(STANDARD.encode(mac_bytes(&key, method, message.as_bytes())))
}

/// A complete token with `res` and `sign` URL-encoded, as OneNET's own tools write it.
pub fn sign_token(
    access_key: &str,
    res: &str,
    et: u64,
    method: SignMethod,
) -> Result<String, TokenError> {
    let sign = compute_sign(access_key, et, method, res)?;
    let encode = |v: &str| utf8_percent_encode(v, QUOTE).to_string();
    Ok(format!(
        "version={VERSION}&res={}&et={et}&method={method}&sign={}",
        encode(res),
        encode(&sign)
    ))
}

/// Accepts `raw` when it is signed with `access_key`, names `expected_res` and has not expired at
/// `now_unix` (real seconds).
pub fn verify(
    raw: &str,
    access_key: &str,
    expected_res: &str,
    now_unix: u64,
) -> Result<Token, TokenError> {
    let token = parse(raw)?;
    let key = decode_key(access_key)?;
    let provided = STANDARD
        .decode(token.sign.trim())
        .map_err(|_| TokenError::SignNotBase64)?;
    let message = string_to_sign(token.et, token.method, &token.res, &token.version);
    if !verify_mac(&key, token.method, message.as_bytes(), &provided) {
        return Err(TokenError::BadSign);
    }
    if token.et < now_unix {
        return Err(TokenError::Expired(token.et));
    }
    if token.res != expected_res {
        return Err(TokenError::WrongResource {
            expected: expected_res.to_string(),
            found: token.res,
        });
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's token (`onenet-ota-south-api.md`); its access key is not published.
    const SEED_TOKEN: &str = "version=2018-10-31&res=products%2F245528&et=7559008892&method=sha1&sign=TPllhakDDnUV90epLnOqpj6aWqI%3D";

    // Computed independently with Python 3 (hmac, hashlib, base64, urllib.parse.quote(v, safe='')):
    //   KEY = base64.b64encode(bytes(range(100, 132))); ET = 2000000000
    //   sign = base64(hmac.new(b64decode(KEY), f"{ET}\n{m}\n{res}\n2018-10-31", m).digest())
    const ACCESS_KEY: &str = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";
    const ET: u64 = 2_000_000_000;
    const VECTORS: &[(&str, &str, &str, &str)] = &[
        ("products/700001", "md5", "+MTaTDC3VKJMTTyWHvhXgw==", "version=2018-10-31&res=products%2F700001&et=2000000000&method=md5&sign=%2BMTaTDC3VKJMTTyWHvhXgw%3D%3D"),
        ("products/700001", "sha1", "StyUtikunvUNg8/s4qkmNupaxOc=", "version=2018-10-31&res=products%2F700001&et=2000000000&method=sha1&sign=StyUtikunvUNg8%2Fs4qkmNupaxOc%3D"),
        ("products/700001", "sha256", "O4D61QInzdr59oyCMCthLOn009HIQHtLhuXGQizSCrQ=", "version=2018-10-31&res=products%2F700001&et=2000000000&method=sha256&sign=O4D61QInzdr59oyCMCthLOn009HIQHtLhuXGQizSCrQ%3D"),
        ("products/700001/devices/pump-01", "sha256", "Cm9DBRYpvyzKBe7Rfh0atCiweUKIrHSqPUiNWEpd4Wg=", "version=2018-10-31&res=products%2F700001%2Fdevices%2Fpump-01&et=2000000000&method=sha256&sign=Cm9DBRYpvyzKBe7Rfh0atCiweUKIrHSqPUiNWEpd4Wg%3D"),
    ];
    const NOW: u64 = 1_700_000_000;

    #[test]
    fn seed_token_structure() {
        let token = parse(SEED_TOKEN).unwrap();
        assert_eq!(token.version, VERSION);
        assert_eq!(token.res, "products/245528");
        assert_eq!(token.et, 7_559_008_892);
        assert_eq!(token.method, SignMethod::Sha1);
        assert_eq!(token.sign, "TPllhakDDnUV90epLnOqpj6aWqI=");
        // A SHA-1 HMAC is 20 bytes.
        assert_eq!(STANDARD.decode(&token.sign).unwrap().len(), 20);
        // Any key but the product's own fails it.
        assert_eq!(
            verify(SEED_TOKEN, ACCESS_KEY, "products/245528", NOW),
            Err(TokenError::BadSign)
        );
    }

    #[test]
    fn python_vectors_sign_and_verify() {
        for (res, method, sign, token) in VECTORS {
            let method = SignMethod::parse(method).unwrap();
            assert_eq!(compute_sign(ACCESS_KEY, ET, method, res).unwrap(), *sign);
            assert_eq!(sign_token(ACCESS_KEY, res, ET, method).unwrap(), *token);
            let ok = verify(token, ACCESS_KEY, res, NOW).unwrap();
            assert_eq!(ok.res, *res);
        }
    }

    #[test]
    fn raw_tokens_are_accepted_too() {
        let (res, _, sign, _) = VECTORS[1];
        let raw = format!("version=2018-10-31&res={res}&et={ET}&method=sha1&sign={sign}");
        assert!(verify(&raw, ACCESS_KEY, res, NOW).is_ok());
    }

    #[test]
    fn tampered_expired_and_misdirected_tokens_fail() {
        let (res, _, _, token) = VECTORS[2];
        let tampered = token.replace("et=2000000000", "et=2000000001");
        assert_eq!(
            verify(&tampered, ACCESS_KEY, res, NOW),
            Err(TokenError::BadSign)
        );
        let other_sign = token.replace("sign=O4", "sign=P4");
        assert_eq!(
            verify(&other_sign, ACCESS_KEY, res, NOW),
            Err(TokenError::BadSign)
        );
        assert_eq!(
            verify(token, ACCESS_KEY, res, ET + 1),
            Err(TokenError::Expired(ET))
        );
        assert!(matches!(
            verify(token, ACCESS_KEY, "products/700002", NOW),
            Err(TokenError::WrongResource { .. })
        ));
        let other_key = STANDARD.encode([7u8; 32]);
        assert_eq!(
            verify(token, &other_key, res, NOW),
            Err(TokenError::BadSign)
        );
        assert_eq!(
            verify(
                &token.replace("method=sha256", "method=sha512"),
                ACCESS_KEY,
                res,
                NOW
            ),
            Err(TokenError::UnknownMethod("sha512".into()))
        );
        assert_eq!(
            verify("res=products%2F1", ACCESS_KEY, res, NOW),
            Err(TokenError::Missing("version"))
        );
    }
}
