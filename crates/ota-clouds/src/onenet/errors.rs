//! OneNET `errno` values -> [`ApiError`], in one table (device-side OTA codes from the shared README
//! included, for the OTA calls to come).

use ota_core::{ApiError, ErrorKind};

pub struct CatalogueEntry {
    pub errno: i64,
    pub kind: ErrorKind,
    pub message: &'static str,
    pub hint: &'static str,
}

pub const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry {
        errno: 1,
        kind: ErrorKind::Auth,
        message: "OneNET rejected the access key or token",
        hint: "Check the product id and its access key in Settings (the key is on the product's page in the OneNET console). If they are right, check this computer's date and time: OneNET tokens carry an expiry time, and a clock that is off by an hour makes them look expired.",
    },
    CatalogueEntry {
        errno: 2,
        kind: ErrorKind::Validation,
        message: "OneNET refused the request's parameters",
        hint: "Check the product id and the device id, then retry.",
    },
    CatalogueEntry {
        errno: 4,
        kind: ErrorKind::Device,
        message: "The update task's download token is not valid for this device",
        hint: "Let the device check for its task again.",
    },
    CatalogueEntry {
        errno: 7,
        kind: ErrorKind::Retryable,
        message: "OneNET had an internal error",
        hint: "Retry in a minute.",
    },
    CatalogueEntry {
        errno: 8,
        kind: ErrorKind::Device,
        message: "The device's manufacturer or model does not match the update task",
        hint: "Check the task's target manufacturer and model in the OneNET console.",
    },
    CatalogueEntry {
        errno: 9,
        kind: ErrorKind::Device,
        message: "The device's version does not match the difference package",
        hint: "Use a full package, or one built from the device's current version.",
    },
    CatalogueEntry {
        errno: 11,
        kind: ErrorKind::NotFound,
        message: "There is no update task of this type for the device",
        hint: "Create the task in the OneNET console first.",
    },
    CatalogueEntry {
        errno: 12,
        kind: ErrorKind::Device,
        message: "The update task's download token expired",
        hint: "Let the device check for its task again to get a new token.",
    },
    CatalogueEntry {
        errno: 17,
        kind: ErrorKind::Conflict,
        message: "The update task is not in a state that allows this",
        hint: "Refresh the task's status and retry.",
    },
    CatalogueEntry {
        errno: 20,
        kind: ErrorKind::Conflict,
        message: "The update task has already finished",
        hint: "Refresh the device's status.",
    },
    CatalogueEntry {
        errno: 21,
        kind: ErrorKind::Conflict,
        message: "OneNET refused this operation on the update task",
        hint: "Refresh the task's status and retry.",
    },
    CatalogueEntry {
        errno: 22,
        kind: ErrorKind::Conflict,
        message: "The update task was cancelled",
        hint: "Create a new task in the OneNET console if the device should still update.",
    },
    CatalogueEntry {
        errno: 24,
        kind: ErrorKind::Validation,
        message: "OneNET refused the reported result code",
        hint: "Report one of the documented result codes.",
    },
    CatalogueEntry {
        errno: 27,
        kind: ErrorKind::Validation,
        message: "The version is not in OneNET's format",
        hint: "Use 1 to 20 characters of letters, digits, '_', '.' or '-'.",
    },
];

pub fn onenet_error(errno: i64, error: Option<&str>) -> ApiError {
    let err = match CATALOGUE.iter().find(|e| e.errno == errno) {
        Some(e) => ApiError::new(e.kind, e.message).with_hint(e.hint),
        None => {
            let detail = error.map(str::trim).filter(|d| !d.is_empty());
            ApiError::new(
                ErrorKind::Retryable,
                match detail {
                    Some(d) => format!("OneNET error {errno}: {d}"),
                    None => format!("OneNET error {errno}: the cloud gave no description."),
                },
            )
            .with_hint("Retry in a minute; if it persists, give this code to OneNET support.")
        }
    };
    err.with_vendor_code(format!("errno {errno}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_reads_well() {
        for e in CATALOGUE {
            let err = onenet_error(e.errno, None);
            assert!(!err.message.is_empty() && err.hint.as_deref().is_some_and(|h| !h.is_empty()));
            assert_eq!(err.vendor_code, Some(format!("errno {}", e.errno)));
        }
        let auth = onenet_error(1, Some("auth failed"));
        assert_eq!(auth.code, ErrorKind::Auth);
        assert_eq!(auth.message, "OneNET rejected the access key or token");
        assert_eq!(
            onenet_error(99, Some("odd")).message,
            "OneNET error 99: odd"
        );
    }
}
