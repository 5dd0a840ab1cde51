use chrono::{DateTime, Utc};

/// Why a forge call failed. Each variant has a stable [`ForgeError::code`] that
/// the UI and the CLI key their behaviour on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForgeError {
    /// The object does not exist, or the credential may not see it.
    #[error("not found: {0}")]
    NotFound(String),
    /// The forge rejected the credential.
    #[error("the forge rejected the credential: {0}")]
    Unauthorized(String),
    /// The credential is valid but lacks a permission.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Primary or secondary rate limit; retrying before `until` is pointless.
    #[error("rate limited by the forge until {until}")]
    RateLimited { until: DateTime<Utc> },
    /// The forge answered with something its own contract does not allow.
    #[error("unexpected answer from {endpoint}: {detail}")]
    Contract { endpoint: String, detail: String },
    /// The forge could not be reached or did not answer in time.
    #[error("cannot reach the forge at {endpoint}: {detail}")]
    Network { endpoint: String, detail: String },
    /// Any other non-success HTTP status.
    #[error("the forge answered {status} for {endpoint}")]
    Status { endpoint: String, status: u16 },
    /// The forge refused a write because the state moved on (e.g. a ref was
    /// updated by someone else): read again and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The forge will not produce this (e.g. a diff over its size limits); the
    /// caller must assemble it another way.
    #[error("too large for the forge to send: {0}")]
    TooLarge(String),
    /// The caller passed something that cannot be a valid request.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl ForgeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "forge.not_found",
            Self::Unauthorized(_) => "forge.unauthorized",
            Self::Forbidden(_) => "forge.forbidden",
            Self::RateLimited { .. } => "forge.rate_limited",
            Self::Contract { .. } => "forge.contract_violation",
            Self::Network { .. } => "forge.unreachable",
            Self::Status { .. } => "forge.http_status",
            Self::Conflict(_) => "forge.conflict",
            Self::TooLarge(_) => "forge.too_large",
            Self::InvalidInput(_) => "forge.invalid_input",
        }
    }
}
