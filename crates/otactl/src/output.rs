//! How otactl prints: JSON on stdout when asked, errors on stderr with their code and next step.

use ota_core::ApiError;

pub fn print_error(err: &ApiError) {
    eprintln!("error: {}", err.display_line());
}

pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), ApiError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ApiError::internal(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

pub fn print_json_line<T: serde::Serialize>(value: &T) -> Result<(), ApiError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ApiError::internal(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
