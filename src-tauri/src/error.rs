//! The IPC edge: every command answers `Result<T, IpcError>`, serialized as `ApiError`
//! (`{code, message, hint?, vendorCode?, retryAfterSecs?}`), which the UI branches on by `code`.

use ota_app::{ApiError, CoreError};
use serde::Serialize;

#[derive(Debug)]
pub struct IpcError(pub ApiError);

impl Serialize for IpcError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl From<ApiError> for IpcError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<CoreError> for IpcError {
    fn from(e: CoreError) -> Self {
        Self(e.into())
    }
}

pub type IpcResult<T> = Result<T, IpcError>;
