//! OneNET security-authentication tokens:
//! `version=2018-10-31&res=<res>&et=<et>&method=<md5|sha1|sha256>&sign=<sign>`, where
//! `sign = base64(HMAC_method(base64_decode(access_key), et + "\n" + method + "\n" + res + "\n" + version))`
//! and the values of `res` and `sign` are URL-encoded in full.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use ota_core::Secret;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

pub const VERSION: &str = "2018-10-31";

/// How long a token made with [`TokenRequest::new`] is valid.
pub const DEFAULT_LIFETIME_SECS: u64 = 3600;

/// Everything but RFC 3986's unreserved characters is encoded (Python's `quote(v, safe='')`).
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Access keys are standard base64; padding is accepted either way.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access key is empty")]
    EmptyAccessKey,
    #[error("the access key is not base64 (copy it again from the OneNET console)")]
    AccessKeyNotBase64,
    #[error("the token names no product or device")]
    EmptyResource,
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    #[error("unknown signature method “{0}” (expected md5, sha1 or sha256)")]
    UnknownMethod(String),
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token expired")]
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenMethod {
    Md5,
    Sha1,
    Sha256,
}

impl TokenMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenMethod::Md5 => "md5",
            TokenMethod::Sha1 => "sha1",
            TokenMethod::Sha256 => "sha256",
        }
    }

    pub fn parse(s: &str) -> Result<Self, TokenError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md5" => Ok(TokenMethod::Md5),
            "sha1" => Ok(TokenMethod::Sha1),
            "sha256" => Ok(TokenMethod::Sha256),
            other => Err(TokenError::UnknownMethod(other.to_string())),
        }
    }

    fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            // HMAC takes keys of any length, so this cannot fail.
            match <M as Mac>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(message);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            TokenMethod::Md5 => run::<Hmac<md5::Md5>>(key, message),
            TokenMethod::Sha1 => run::<Hmac<sha1::Sha1>>(key, message),
            TokenMethod::Sha256 => run::<Hmac<sha2::Sha256>>(key, message),
        }
    }
}

/// What a token grants access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `products/{product_id}`, signed with the product's access key.
    Product(String),
    /// `products/{product_id}/devices/{device_name}`, signed with the device's key.
    Device {
        product_id: String,
        device_name: String,
    },
}

impl Resource {
    /// The raw (unencoded) `res` value.
    pub fn path(&self) -> String {
        match self {
            Resource::Product(id) => format!("products/{id}"),
            Resource::Device {
                product_id,
                device_name,
            } => format!("products/{product_id}/devices/{device_name}"),
        }
    }

    pub fn parse(res: &str) -> Option<Self> {
        let parts: Vec<&str> = res.split('/').collect();
        match parts.as_slice() {
            ["products", id] if !id.is_empty() => Some(Resource::Product(id.to_string())),
            ["products", id, "devices", name] if !id.is_empty() && !name.is_empty() => {
                Some(Resource::Device {
                    product_id: id.to_string(),
                    device_name: name.to_string(),
                })
            }
            _ => None,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Resource::Product(id) => id.trim().is_empty(),
            Resource::Device {
                product_id,
                device_name,
            } => product_id.trim().is_empty() || device_name.trim().is_empty(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub res: Resource,
    /// Expiry, Unix seconds.
    pub et: u64,
    pub method: TokenMethod,
}

impl TokenRequest {
    /// A token for `res` valid for an hour, signed with HMAC-SHA256.
    pub fn new(res: Resource) -> Self {
        Self {
            res,
            et: default_expiry(),
            method: TokenMethod::Sha256,
        }
    }
}

/// Now + one hour, in Unix seconds.
pub fn default_expiry() -> u64 {
    unix_now() + DEFAULT_LIFETIME_SECS
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `et \n method \n res \n version`, with the raw `res`.
pub fn string_to_sign(et: u64, method: TokenMethod, res: &str) -> String {
    format!("{et}\n{}\n{res}\n{VERSION}", method.as_str())
}

fn raw_signature(
    access_key: &Secret,
    et: u64,
    method: TokenMethod,
    res: &str,
) -> Result<String, TokenError> {
    let key_text = access_key.expose().trim();
    if key_text.is_empty() {
        return Err(TokenError::EmptyAccessKey);
    }
    let key = KEY_BASE64
        .decode(key_text)
        .map_err(|_| TokenError::AccessKeyNotBase64)?;
    let mac = method.hmac(&key, string_to_sign(et, method, res).as_bytes());
    Ok(STANDARD.encode(mac))
}

/// The token for `req`, ready for the `Authorization` header.
pub fn sign(access_key: &Secret, req: &TokenRequest) -> Result<String, TokenError> {
    if req.res.is_empty() {
        return Err(TokenError::EmptyResource);
    }
    let res = req.res.path();
    let signature = raw_signature(access_key, req.et, req.method, &res)?;
    Ok(format!(
        "version={VERSION}&res={}&et={}&method={}&sign={}",
        utf8_percent_encode(&res, VALUE),
        req.et,
        req.method.as_str(),
        utf8_percent_encode(&signature, VALUE),
    ))
}

/// A token taken apart, values URL-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    pub version: String,
    pub res: String,
    pub et: u64,
    pub method: TokenMethod,
    /// The base64 signature.
    pub sign: String,
}

/// Reads a token, encoded or raw (both are seen in the wild).
pub fn parse(token: &str) -> Result<ParsedToken, TokenError> {
    let (mut version, mut res, mut et, mut method, mut sign) = (None, None, None, None, None);
    for pair in token.trim().split('&') {
        let (key, value) = pair
            .split_once('=')
            .ok_or(TokenError::Malformed("a part has no “=”"))?;
        let value = percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| TokenError::Malformed("a value is not valid UTF-8"))?
            .into_owned();
        match key {
            "version" => version = Some(value),
            "res" => res = Some(value),
            "et" => {
                et = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| TokenError::Malformed("et is not a number"))?,
                )
            }
            "method" => method = Some(TokenMethod::parse(&value)?),
            "sign" => sign = Some(value),
            _ => {}
        }
    }
    let res = res.ok_or(TokenError::Malformed("res is missing"))?;
    if res.is_empty() {
        return Err(TokenError::EmptyResource);
    }
    Ok(ParsedToken {
        version: version.ok_or(TokenError::Malformed("version is missing"))?,
        res,
        et: et.ok_or(TokenError::Malformed("et is missing"))?,
        method: method.ok_or(TokenError::Malformed("method is missing"))?,
        sign: sign.ok_or(TokenError::Malformed("sign is missing"))?,
    })
}

/// Checks a token against an access key: signature and expiry (`now` in Unix seconds).
pub fn verify(access_key: &Secret, token: &str, now: u64) -> Result<ParsedToken, TokenError> {
    let parsed = parse(token)?;
    if parsed.version != VERSION {
        return Err(TokenError::Malformed("unknown version"));
    }
    let expected = raw_signature(access_key, parsed.et, parsed.method, &parsed.res)?;
    if expected != parsed.sign {
        return Err(TokenError::BadSignature);
    }
    if parsed.et <= now {
        return Err(TokenError::Expired);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Produced by crates/ota-clouds/tests/vectors/onenet_token.py (an independent implementation in
    // Python's standard library). Rerun: `python3 crates/ota-clouds/tests/vectors/onenet_token.py`.
    const ACCESS_KEY: &str = "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY=";
    const ET: u64 = 1893456000;
    const VECTORS: &[(&str, &str, &str)] = &[
        ("products/245528", "md5", "version=2018-10-31&res=products%2F245528&et=1893456000&method=md5&sign=55wmqGSmBylC7g17wQ62ng%3D%3D"),
        ("products/245528", "sha1", "version=2018-10-31&res=products%2F245528&et=1893456000&method=sha1&sign=khBt4hNIhk1qg4xlMtq8tuGIGHs%3D"),
        ("products/245528", "sha256", "version=2018-10-31&res=products%2F245528&et=1893456000&method=sha256&sign=m5JcJZq7yNl2InOj%2BrRwuPrAC2XL0w%2B4XfzaeMepAE8%3D"),
        ("products/245528/devices/pump-01", "sha256", "version=2018-10-31&res=products%2F245528%2Fdevices%2Fpump-01&et=1893456000&method=sha256&sign=RGvo4X3qhJCSQ1O4oT%2BQ4pcRIKwh5xEevK3idaOIj08%3D"),
    ];

    /// The token printed in the seed document (its key is not published).
    const SEED_TOKEN: &str =
        "version=2018-10-31&res=products%2F245528&et=7559008892&method=sha1&sign=TPllhakDDnUV90epLnOqpj6aWqI%3D";

    #[test]
    fn matches_the_independent_implementation() {
        let key = Secret::new(ACCESS_KEY);
        for (res, method, expected) in VECTORS {
            let req = TokenRequest {
                res: Resource::parse(res).unwrap(),
                et: ET,
                method: TokenMethod::parse(method).unwrap(),
            };
            assert_eq!(sign(&key, &req).unwrap(), *expected, "{res} {method}");
            assert!(verify(&key, expected, ET - 1).is_ok());
        }
    }

    #[test]
    fn seed_token_parses() {
        let parsed = parse(SEED_TOKEN).unwrap();
        assert_eq!(parsed.version, VERSION);
        assert_eq!(parsed.res, "products/245528");
        assert_eq!(
            Resource::parse(&parsed.res),
            Some(Resource::Product("245528".into()))
        );
        assert_eq!(parsed.et, 7_559_008_892);
        assert_eq!(parsed.method, TokenMethod::Sha1);
        assert_eq!(parsed.sign, "TPllhakDDnUV90epLnOqpj6aWqI=");
        // A SHA-1 HMAC is 20 bytes.
        assert_eq!(STANDARD.decode(&parsed.sign).unwrap().len(), 20);
    }

    #[test]
    fn raw_tokens_parse_too() {
        let raw = "version=2018-10-31&res=products/1&et=5&method=sha256&sign=a+b/c=";
        let parsed = parse(raw).unwrap();
        assert_eq!(
            (parsed.res.as_str(), parsed.sign.as_str()),
            ("products/1", "a+b/c=")
        );
    }

    #[test]
    fn verify_rejects_tampering_and_expiry() {
        let key = Secret::new(ACCESS_KEY);
        let (_, _, token) = VECTORS[2];
        let other_key = Secret::new(STANDARD.encode(b"another key entirely"));
        assert_eq!(verify(&other_key, token, 0), Err(TokenError::BadSignature));
        let moved = token.replace("245528", "245529");
        assert_eq!(verify(&key, &moved, 0), Err(TokenError::BadSignature));
        assert_eq!(verify(&key, token, ET), Err(TokenError::Expired));
    }

    #[test]
    fn bad_inputs_are_errors_without_the_key() {
        let req = TokenRequest::new(Resource::Product("1".into()));
        assert_eq!(
            sign(&Secret::new(""), &req),
            Err(TokenError::EmptyAccessKey)
        );
        let err = sign(&Secret::new("not*base64!"), &req).unwrap_err();
        assert_eq!(err, TokenError::AccessKeyNotBase64);
        assert!(!err.to_string().contains("not*base64"));
        let empty = TokenRequest::new(Resource::Product(" ".into()));
        assert_eq!(
            sign(&Secret::new(ACCESS_KEY), &empty),
            Err(TokenError::EmptyResource)
        );
        assert!(matches!(
            parse("version=1&et=x"),
            Err(TokenError::Malformed(_))
        ));
        assert!(matches!(parse("garbage"), Err(TokenError::Malformed(_))));
        assert!(matches!(
            parse("version=2018-10-31&res=products%2F1&et=1&method=sha512&sign=x"),
            Err(TokenError::UnknownMethod(_))
        ));
    }

    #[test]
    fn default_expiry_is_an_hour_ahead() {
        let req = TokenRequest::new(Resource::Product("9".into()));
        let now = unix_now();
        assert!(req.et >= now + 3590 && req.et <= now + 3610);
        assert_eq!(req.method, TokenMethod::Sha256);
    }
}
