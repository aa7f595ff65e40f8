//! Vicohome error codes -> what a technician reads and can do next. One table: the seed's codes are the
//! contract; -3111 and -2133 come from vendor builds; -1024..-1027 are the session codes.

use ota_core::{ApiError, ErrorKind};

pub struct CatalogueEntry {
    pub code: i64,
    pub kind: ErrorKind,
    pub message: &'static str,
    pub hint: &'static str,
}

const LOW_BATTERY: &str = "The camera's battery is too low to update.";
const LOW_BATTERY_HINT: &str = "Charge the camera (or plug it in) and retry.";
const OFFLINE: &str = "The camera is offline.";
const OFFLINE_HINT: &str = "Power-cycle the camera and check its Wi-Fi, then retry.";
const SIGN_IN_HINT: &str =
    "Check the account's e-mail and password (remove and add the account again if they changed), then retry.";

pub const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry {
        code: -1,
        kind: ErrorKind::Retryable,
        message: "The Vicohome cloud reported a general error.",
        hint: "Retry in a minute; if it keeps failing, check the Vicohome service status.",
    },
    CatalogueEntry {
        code: -2,
        kind: ErrorKind::Validation,
        message: "The Vicohome cloud refused the request's parameters.",
        hint: "Check the camera's serial number and the account's region, then retry.",
    },
    CatalogueEntry {
        code: -100,
        kind: ErrorKind::NotFound,
        message: "This camera is not on the Vicohome account.",
        hint: "Check the serial number and refresh the device list; the camera may have been removed or moved to another account.",
    },
    CatalogueEntry {
        code: -101,
        kind: ErrorKind::Offline,
        message: OFFLINE,
        hint: OFFLINE_HINT,
    },
    // A sleeping battery camera cannot take an update either: same advice as offline.
    CatalogueEntry {
        code: -2133,
        kind: ErrorKind::Offline,
        message: OFFLINE,
        hint: OFFLINE_HINT,
    },
    CatalogueEntry {
        code: -102,
        kind: ErrorKind::Device,
        message: "No firmware update is available for this camera.",
        hint: "The camera already runs the newest firmware it is offered; refresh the device list to see its version.",
    },
    CatalogueEntry {
        code: -103,
        kind: ErrorKind::Device,
        message: LOW_BATTERY,
        hint: LOW_BATTERY_HINT,
    },
    CatalogueEntry {
        code: -3111,
        kind: ErrorKind::Device,
        message: LOW_BATTERY,
        hint: LOW_BATTERY_HINT,
    },
    CatalogueEntry {
        code: -10401,
        kind: ErrorKind::Device,
        message: "The camera could not download the update.",
        hint: "Move the camera closer to the Wi-Fi router (or improve its signal), keep it powered, and start the update again.",
    },
    CatalogueEntry {
        code: -10402,
        kind: ErrorKind::Device,
        message: "The camera could not install the update.",
        hint: "Restart the camera and start the update again; if it fails twice, contact Vicohome support with the serial number.",
    },
    CatalogueEntry {
        code: -1024,
        kind: ErrorKind::Auth,
        message: "The Vicohome session ended because the account signed in somewhere else.",
        hint: SIGN_IN_HINT,
    },
    CatalogueEntry {
        code: -1025,
        kind: ErrorKind::Auth,
        message: "The Vicohome cloud did not receive a sign-in token.",
        hint: SIGN_IN_HINT,
    },
    CatalogueEntry {
        code: -1026,
        kind: ErrorKind::Auth,
        message: "The Vicohome cloud rejected the sign-in token.",
        hint: SIGN_IN_HINT,
    },
    CatalogueEntry {
        code: -1027,
        kind: ErrorKind::Auth,
        message: "The Vicohome sign-in expired.",
        hint: SIGN_IN_HINT,
    },
];

/// The codes after which the client signs in again and repeats the call once.
pub const SESSION_CODES: [i64; 4] = [-1024, -1025, -1026, -1027];

pub fn is_session_code(code: i64) -> bool {
    SESSION_CODES.contains(&code)
}

pub fn entry(code: i64) -> Option<&'static CatalogueEntry> {
    CATALOGUE.iter().find(|e| e.code == code)
}

/// The [`ApiError`] for a Vicohome outcome code (never 0) and the cloud's own `msg`.
pub fn vicohome_error(code: i64, msg: Option<&str>) -> ApiError {
    match entry(code) {
        Some(e) => ApiError::new(e.kind, e.message).with_hint(e.hint),
        None => {
            let msg = msg.map(str::trim).filter(|m| !m.is_empty());
            let message = match msg {
                Some(m) => format!("Vicohome error {code}: {m}"),
                None => format!("Vicohome error {code}: the cloud gave no description."),
            };
            ApiError::new(ErrorKind::Retryable, message)
                .with_hint("Retry in a minute; if it persists, give this code to Vicohome support.")
        }
    }
    .with_vendor_code(code.to_string())
}

/// The error for a refused sign-in. Whatever the code (vendor builds answer a wrong password with -1
/// "account or password error"), the fix within the user's reach is the credentials; the cloud's own
/// words are kept in the message.
pub fn sign_in_error(code: i64, msg: Option<&str>) -> ApiError {
    let message = match msg.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => format!("Vicohome did not accept the e-mail or password ({m})."),
        None => "Vicohome did not accept the e-mail or password.".to_string(),
    };
    ApiError::new(ErrorKind::Auth, message)
        .with_hint("Check the e-mail, the password and the account's region (US or EU) in Settings, then retry.")
        .with_vendor_code(code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_message_and_next_step() {
        let documented = [
            -1, -2, -100, -101, -102, -103, -10401, -10402, -3111, -2133, -1024, -1025, -1026,
            -1027,
        ];
        for code in documented {
            let e = entry(code).unwrap_or_else(|| panic!("{code} missing from the catalogue"));
            assert!(
                !e.message.trim().is_empty() && !e.hint.trim().is_empty(),
                "{code}"
            );
            let err = vicohome_error(code, Some("raw"));
            assert_eq!(err.vendor_code.as_deref(), Some(code.to_string().as_str()));
            assert!(err.hint.as_deref().is_some_and(|h| !h.is_empty()));
        }
        assert_eq!(
            CATALOGUE.len(),
            documented.len(),
            "a catalogue entry is not covered by this test"
        );
    }

    #[test]
    fn kinds_follow_the_contract() {
        let kind = |c| vicohome_error(c, None).code;
        assert_eq!(kind(-101), ErrorKind::Offline);
        assert_eq!(kind(-2133), ErrorKind::Offline);
        assert_eq!(kind(-103), ErrorKind::Device);
        assert_eq!(kind(-3111), ErrorKind::Device);
        assert_eq!(kind(-102), ErrorKind::Device);
        assert_eq!(kind(-100), ErrorKind::NotFound);
        assert_eq!(kind(-2), ErrorKind::Validation);
        assert_eq!(kind(-1), ErrorKind::Retryable);
        assert_eq!(kind(-10401), ErrorKind::Device);
        assert_eq!(kind(-10402), ErrorKind::Device);
        for code in SESSION_CODES {
            assert_eq!(kind(code), ErrorKind::Auth);
        }
    }

    #[test]
    fn low_battery_and_offline_read_as_promised() {
        let low = vicohome_error(-103, Some("battery low"));
        assert_eq!(low.message, "The camera's battery is too low to update.");
        assert_eq!(
            low.hint.as_deref(),
            Some("Charge the camera (or plug it in) and retry.")
        );
        assert_eq!(vicohome_error(-3111, None).message, low.message);
        let offline = vicohome_error(-101, None);
        assert_eq!(offline.message, "The camera is offline.");
        assert_eq!(
            offline.hint.as_deref(),
            Some("Power-cycle the camera and check its Wi-Fi, then retry.")
        );
        assert_eq!(vicohome_error(-2133, None).message, offline.message);
    }

    #[test]
    fn unknown_codes_are_never_blank() {
        let err = vicohome_error(-777, Some("quota exceeded"));
        assert_eq!(err.message, "Vicohome error -777: quota exceeded");
        let blank = vicohome_error(-778, Some("  "));
        assert!(blank.message.starts_with("Vicohome error -778:"));
        assert!(blank.message.len() > "Vicohome error -778:".len());
        assert!(vicohome_error(-779, None).hint.is_some());
    }

    #[test]
    fn refused_sign_in_is_auth() {
        let err = sign_in_error(-1001, Some("password wrong"));
        assert_eq!(err.code, ErrorKind::Auth);
        assert!(err.message.contains("e-mail or password"));
        let general = sign_in_error(-1, Some("account or password error"));
        assert_eq!(general.code, ErrorKind::Auth);
        assert!(general.message.contains("account or password error"));
    }
}
