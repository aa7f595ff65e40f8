//! The end of a fetch as OneNET and the user hear of it: a report's answer (or why it was not taken),
//! and the error when the bytes fail their MD5.

use ota_core::onenet::{OnenetReportAnswer, OnenetTask};
use ota_core::{ApiError, ErrorKind};

use crate::onenet::results::VERIFY_FAILED;

pub(super) fn answer_or_refusal(
    result: Result<OnenetReportAnswer, ApiError>,
    code: u16,
) -> OnenetReportAnswer {
    match result {
        Ok(answer) => answer,
        Err(err) => OnenetReportAnswer {
            code,
            accepted: false,
            message: format!("OneNET did not record {code}: {}", err.display_line()),
        },
    }
}

/// What the user reads when the bytes fail their MD5: the digests, that the bytes are gone, and what
/// OneNET was told (the task ends as failed when the report was taken).
pub(super) fn verify_failure(
    task: &OnenetTask,
    md5: &str,
    report: Option<&OnenetReportAnswer>,
) -> ApiError {
    let code = VERIFY_FAILED;
    let mut message = format!(
        "The package's MD5 is {md5}, not {} as the task states: the download was deleted",
        task.md5
    );
    let hint = match report {
        Some(answer) if answer.accepted => {
            message.push_str(&format!(
                " and {code} (download failed) reported to OneNET, which ends the task as failed"
            ));
            "Create the task again in the OneNET console and download it anew; if it repeats, upload the package again: the one on the platform is damaged."
        }
        Some(answer) => {
            message.push_str(&format!("; {}", answer.message));
            "Check for the task again and download it anew; if it repeats, the package on the platform is damaged."
        }
        None => {
            message.push_str(&format!(" ({code} not reported)"));
            "Check for the task again and download it anew; if it repeats, the package on the platform is damaged."
        }
    };
    ApiError::new(ErrorKind::Device, message)
        .with_hint(hint)
        .with_vendor_code(format!("result {code}"))
}
