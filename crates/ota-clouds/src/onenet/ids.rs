//! OneNET's identifiers as the cloud defines them, checked before any of them reaches a URL or a file
//! name: a device id is a decimal number, an MD5 is 32 hex digits, a download token is "ota_" and 20
//! letters or digits, a version is 1–20 of `[A-Za-z0-9_.-]`. Anything else is refused with words,
//! before the disk or the network is touched — so no id can carry `/`, `..` or a multibyte character
//! into a path.

use ota_core::onenet::OnenetTask;
use ota_core::ApiError;

/// The longest device id accepted: OneNET's ids are 64-bit numbers (at most 20 digits).
const DEV_ID_MAX_DIGITS: usize = 20;
/// Hex digits of an MD5.
const MD5_HEX_DIGITS: usize = 32;
/// What every download token starts with.
const TOKEN_PREFIX: &str = "ota_";
/// Letters and digits after the prefix.
const TOKEN_BODY_LEN: usize = 20;

/// How much of an outside value an error message repeats (in characters, never bytes).
const QUOTED_CHARS: usize = 40;

/// `value` for an error message: at most [`QUOTED_CHARS`] characters, control characters dropped.
fn quoted(value: &str) -> String {
    let mut shown: String = value
        .chars()
        .filter(|c| !c.is_control())
        .take(QUOTED_CHARS)
        .collect();
    if value.chars().count() > QUOTED_CHARS {
        shown.push('…');
    }
    shown
}

pub fn is_dev_id(value: &str) -> bool {
    (1..=DEV_ID_MAX_DIGITS).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

/// A device id: digits only, 1–20 of them.
pub fn dev_id(value: &str) -> Result<&str, ApiError> {
    if is_dev_id(value) {
        return Ok(value);
    }
    Err(ApiError::validation(format!(
        "“{}” is not a OneNET device id: it is the device's number (1 to {DEV_ID_MAX_DIGITS} digits).",
        quoted(value)
    ))
    .with_hint("Copy the device id from the OneNET console."))
}

pub fn is_md5(value: &str) -> bool {
    value.len() == MD5_HEX_DIGITS
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A package MD5 as the console keeps it: 32 lower-case hex digits.
pub fn md5(value: &str) -> Result<&str, ApiError> {
    if is_md5(value) {
        return Ok(value);
    }
    Err(ApiError::validation(format!(
        "“{}” is not an MD5 (32 hex digits).",
        quoted(value)
    ))
    .with_hint("Check the device for its task again: the task states its package's MD5."))
}

pub fn is_download_token(value: &str) -> bool {
    value.strip_prefix(TOKEN_PREFIX).is_some_and(|body| {
        body.len() == TOKEN_BODY_LEN && body.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// A download token: "ota_" and 20 letters or digits.
pub fn download_token(value: &str) -> Result<&str, ApiError> {
    if is_download_token(value) {
        return Ok(value);
    }
    Err(ApiError::validation(
        "The download token is not one OneNET hands out (\"ota_\" and 20 letters or digits).",
    )
    .with_hint("Check the device for its task again to get its token."))
}

/// OneNET's version format (errno 27 otherwise).
pub fn is_version(value: &str) -> bool {
    (1..=20).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A task's target version: OneNET's version format, or empty (a task that names none).
pub fn target_version(value: &str) -> Result<&str, ApiError> {
    if value.is_empty() || is_version(value) {
        return Ok(value);
    }
    Err(ApiError::validation(format!(
        "“{}” is not a version OneNET hands out (1 to 20 letters, digits, '_', '.' or '-').",
        quoted(value)
    ))
    .with_hint("Check the device for its task again."))
}

/// Every id of a task that reaches a URL or a file name, and a size that can be downloaded.
pub fn task(task: &OnenetTask) -> Result<(), ApiError> {
    dev_id(&task.dev_id)?;
    md5(&task.md5)?;
    download_token(&task.token)?;
    target_version(&task.target_version)?;
    if task.size == 0 {
        return Err(ApiError::validation("The task states an empty package.")
            .with_hint("Check the device for its task again."));
    }
    Ok(())
}

/// The first `n` characters of an already validated (ASCII) id — by characters, so even an
/// unvalidated value could not split one.
pub fn prefix(value: &str, n: usize) -> String {
    value.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ota_core::ErrorKind;

    #[test]
    fn device_ids_are_numbers() {
        assert!(dev_id("527776559").is_ok());
        for bad in [
            "",
            "../../x",
            "1/2",
            "..",
            "12a",
            " 1",
            "1 ",
            "١٢٣",
            &"9".repeat(21),
        ] {
            let err = dev_id(bad).unwrap_err();
            assert_eq!(err.code, ErrorKind::Validation, "{bad}");
        }
    }

    #[test]
    fn md5s_are_32_lower_case_hex_digits() {
        assert!(md5("ad2f4e4ea2a27eace7e4913139f8f01a").is_ok());
        let multibyte = "é".repeat(16);
        assert_eq!(multibyte.len(), 32, "32 bytes, 16 characters");
        for bad in [
            multibyte.as_str(),
            "../ad2f4e4ea2a27eace7e4913139f8f0",
            "AD2F4E4EA2A27EACE7E4913139F8F01A",
            "ad2f4e4e",
            "",
        ] {
            assert!(md5(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_are_ota_and_twenty_alphanumerics() {
        assert!(download_token("ota_iF0hnXrq2CxLrP8vZ39l").is_ok());
        for bad in [
            "ota_iF0hnXrq2CxLrP8vZ39",
            "ota_iF0hnXrq2CxLrP8vZ39lX",
            "ota_../../../../etc/pas",
            "ota_iF0hnXrq2CxLrP8v_39l",
            "OTA_iF0hnXrq2CxLrP8vZ39l",
            "xyz_iF0hnXrq2CxLrP8vZ39l",
            "ota_ééééééééééééééééééé",
        ] {
            assert!(download_token(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoting_outside_values_never_splits_a_character() {
        let long = "é".repeat(100);
        let err = md5(&long).unwrap_err();
        assert!(err.message.contains('…'), "{}", err.message);
        assert_eq!(prefix("éé", 1), "é");
        assert!(target_version("../x").is_err());
        assert!(target_version("").is_ok());
    }
}
