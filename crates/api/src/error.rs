use countersign_forge::ForgeError;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The error shape every IPC command returns: a stable machine `code` the UI
/// branches on, and a `message` for people. Codes are only added when a
/// consumer needs to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("invalid_input", message)
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
        Self::new(e.code(), message)
    }
}
