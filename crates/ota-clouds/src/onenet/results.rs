//! The result codes a device reports to OneNET (`POST /ota/south/report {"result": code}`): the seed's
//! 101–107 and 201–206, plus 207 and 208 from OneNET's SDK notes. One table, read by the client, the CLI
//! and the window.

use ota_core::onenet::{OnenetResultCode, OnenetResultStage};

pub struct ResultEntry {
    pub code: u16,
    pub meaning: &'static str,
}

pub const DOWNLOADED: u16 = 101;
pub const UPGRADED: u16 = 201;
/// What a fetch reports when the downloaded bytes fail their MD5. The result belongs to the download
/// phase: OneNET takes one 1xx after the download and a 2xx only after the upgrade began (after 101),
/// so 205 ("upgrade failed, MD5 check failure") would be refused with errno 21 here. No documented 1xx
/// names an integrity failure (102–106 are space, memory, timeout, power and signal), which leaves 107,
/// "download failed, unknown exception" — also what the vendor's notes have a device report when the
/// download itself answers an error.
pub const VERIFY_FAILED: u16 = 107;

pub const RESULT_CODES: &[ResultEntry] = &[
    ResultEntry {
        code: 101,
        meaning: "Package downloaded",
    },
    ResultEntry {
        code: 102,
        meaning: "Download failed: not enough space",
    },
    ResultEntry {
        code: 103,
        meaning: "Download failed: out of memory",
    },
    ResultEntry {
        code: 104,
        meaning: "Download failed: the request timed out",
    },
    ResultEntry {
        code: 105,
        meaning: "Download failed: battery too low",
    },
    ResultEntry {
        code: 106,
        meaning: "Download failed: signal too weak",
    },
    ResultEntry {
        code: 107,
        meaning: "Download failed: unknown error",
    },
    ResultEntry {
        code: 201,
        meaning: "Upgrade succeeded",
    },
    ResultEntry {
        code: 202,
        meaning: "Upgrade failed: battery too low",
    },
    ResultEntry {
        code: 203,
        meaning: "Upgrade failed: out of memory",
    },
    ResultEntry {
        code: 204,
        meaning: "Upgrade failed: the version does not match",
    },
    ResultEntry {
        code: 205,
        meaning: "Upgrade failed: MD5 check failed",
    },
    ResultEntry {
        code: 206,
        meaning: "Upgrade failed: unknown error",
    },
    ResultEntry {
        code: 207,
        meaning: "Upgrade failed: too many retries",
    },
    ResultEntry {
        code: 208,
        meaning: "Upgrade failed: the upgrade expired",
    },
];

pub fn entry(code: u16) -> Option<&'static ResultEntry> {
    RESULT_CODES.iter().find(|e| e.code == code)
}

pub fn stage(code: u16) -> OnenetResultStage {
    if code < 200 {
        OnenetResultStage::Download
    } else {
        OnenetResultStage::Upgrade
    }
}

pub fn is_success(code: u16) -> bool {
    code == DOWNLOADED || code == UPGRADED
}

/// The table as the window shows it.
pub fn catalogue() -> Vec<OnenetResultCode> {
    RESULT_CODES
        .iter()
        .map(|e| OnenetResultCode {
            code: e.code,
            stage: stage(e.code),
            success: is_success(e.code),
            meaning: e.meaning.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_seed_is_known_once() {
        let seed = [
            101, 102, 103, 104, 105, 106, 107, 201, 202, 203, 204, 205, 206,
        ];
        for code in seed {
            assert!(entry(code).is_some(), "{code}");
        }
        let mut codes: Vec<u16> = RESULT_CODES.iter().map(|e| e.code).collect();
        codes.dedup();
        assert_eq!(codes.len(), RESULT_CODES.len());
        assert_eq!(stage(106), OnenetResultStage::Download);
        assert_eq!(stage(205), OnenetResultStage::Upgrade);
        assert!(is_success(101) && is_success(201) && !is_success(205));
        assert_eq!(catalogue().iter().filter(|c| c.success).count(), 2);
    }
}
