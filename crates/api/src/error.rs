use countersign_forge::ForgeError;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use crate::error_code::ErrorCode;

/// The error shape every IPC command returns: a stable machine `code` the UI
/// branches on, and a `message` for people. Codes are only added when a
/// consumer needs to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    #[ts(type = "ErrorCode")]
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }
}

impl From<ForgeError> for ApiError {
    fn from(e: ForgeError) -> Self {
        let message = match &e {
            ForgeError::Network { .. } => {
                format!("{e}. Check the connection, or the forge URL in Settings.")
            }
            ForgeError::Unauthorized(_) => format!("{e}. Sign in again in Settings."),
            _ => e.to_string(),
        };
        Self::new(ErrorCode::of(e.code()), message)
    }
}
