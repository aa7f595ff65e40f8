//! Quectel envelope codes -> [`ApiError`]. The end-user API's own code list is not published; its codes
//! follow HTTP numbering, so they are read that way.

use ota_core::{ApiError, ErrorKind};

/// Envelope codes that mean "the access token is no longer good": 401 (the code the simulator and the
/// HTTP-numbered reading give "token invalid" / "token expired"), and 5032, which public clients of the
/// end-user API check for a refused or expired token. The client renews once (refresh, else sign in) and
/// repeats the call once; a second refusal is shown as an auth error.
pub const SESSION_CODES: [i64; 2] = [401, 5032];

pub fn is_session_code(code: i64) -> bool {
    SESSION_CODES.contains(&code)
}

/// True for an authorized call's HTTP 401 or 403 without an envelope: the token was refused below the API.
pub fn is_refused_status(err: &ApiError) -> bool {
    err.code == ErrorKind::Auth
        && matches!(err.vendor_code.as_deref(), Some("HTTP 401" | "HTTP 403"))
}

pub fn quectel_error(code: i64, description: Option<&str>) -> ApiError {
    let detail = description.map(str::trim).filter(|d| !d.is_empty());
    let err = match code {
        401 | 5032 => ApiError::new(ErrorKind::Auth, "Quectel no longer accepts this account's sign-in.")
            .with_hint("Check the e-mail and password in Settings (remove and add the account again if they changed)."),
        403 => ApiError::new(ErrorKind::Auth, "Quectel does not allow this account to do that.")
            .with_hint("Check that the device is bound to this account in the Quectel app."),
        404 => ApiError::new(ErrorKind::NotFound, "Quectel does not know this device or plan.")
            .with_hint("Refresh the device list; the device may have been unbound from the account."),
        429 => ApiError::new(ErrorKind::RateLimited, "Quectel asked the console to slow down.")
            .with_hint("Wait a minute, then retry."),
        400 => ApiError::new(
            ErrorKind::Validation,
            match detail {
                Some(d) => format!("Quectel refused the request: {d}"),
                None => "Quectel refused the request's parameters.".to_string(),
            },
        )
        .with_hint("Check the account's settings and the device's keys, then retry."),
        500..=599 => ApiError::new(ErrorKind::Retryable, "Quectel had a temporary failure.")
            .with_hint("Retry in a minute."),
        _ => ApiError::new(
            ErrorKind::Retryable,
            match detail {
                Some(d) => format!("Quectel error {code}: {d}"),
                None => format!("Quectel error {code}: the cloud gave no description."),
            },
        )
        .with_hint("Retry in a minute; if it persists, give this code to Quectel support."),
    };
    err.with_vendor_code(code.to_string())
}

pub fn sign_in_error(code: i64, description: Option<&str>) -> ApiError {
    if (500..=599).contains(&code) || code == 429 {
        return quectel_error(code, description);
    }
    let message = match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("Quectel did not accept the e-mail or password ({d})."),
        None => "Quectel did not accept the e-mail or password.".to_string(),
    };
    ApiError::new(ErrorKind::Auth, message)
        .with_hint("Check the e-mail, the password and the account's data center (global or China) in Settings.")
        .with_vendor_code(code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds_with_next_steps() {
        for (code, kind) in [
            (401, ErrorKind::Auth),
            (403, ErrorKind::Auth),
            (404, ErrorKind::NotFound),
            (429, ErrorKind::RateLimited),
            (400, ErrorKind::Validation),
            (503, ErrorKind::Retryable),
            (7001, ErrorKind::Retryable),
        ] {
            let err = quectel_error(code, Some("x"));
            assert_eq!(err.code, kind, "{code}");
            assert!(err.hint.is_some() && !err.message.is_empty());
            assert_eq!(err.vendor_code, Some(code.to_string()));
        }
        assert_eq!(
            quectel_error(7001, None).message,
            "Quectel error 7001: the cloud gave no description."
        );
        assert_eq!(sign_in_error(4001, None).code, ErrorKind::Auth);
        assert_eq!(sign_in_error(500, None).code, ErrorKind::Retryable);
    }

    #[test]
    fn a_refused_token_is_an_auth_error_the_retry_helper_leaves_alone() {
        for code in SESSION_CODES {
            let err = quectel_error(code, Some("token invalid"));
            assert_eq!(err.code, ErrorKind::Auth, "{code}");
            assert!(!crate::retry::is_retryable(&err), "{code}");
        }
        for status in [401, 403] {
            let err = crate::http::status_error(
                reqwest::StatusCode::from_u16(status).unwrap(),
                None,
                "h",
            )
            .unwrap();
            assert!(is_refused_status(&err), "HTTP {status}");
            assert!(!crate::retry::is_retryable(&err), "HTTP {status}");
        }
        // Envelope 403: the device is not bound to the account; signing in again cannot help.
        assert!(!is_session_code(403));
        assert!(!is_refused_status(&quectel_error(403, None)));
    }
}
