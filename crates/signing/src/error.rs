/// Why a record could not be prepared or signed. Verification failures are not
/// errors but findings: see [`crate::verify::Finding`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The request is incomplete or malformed; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// The proof of re-authentication does not belong to this signer or record.
    #[error("the re-authentication does not cover this record: authenticate again")]
    ProofMismatch,
    /// The sealed key could not be opened: wrong password or damaged entry.
    #[error("the signing password is wrong, or the stored key is damaged")]
    Unseal,
    /// Signing is refused until the lockout ends.
    #[error("signing is locked until {until} after {failures} failed attempts")]
    LockedOut {
        until: chrono::DateTime<chrono::Utc>,
        failures: u32,
    },
    /// A stored or supplied key is malformed or weak.
    #[error("bad key: {0}")]
    BadKey(String),
    /// The OS keychain is missing, locked or refused access.
    #[error("keychain: {0}")]
    Keychain(String),
    /// A security-key ceremony failed or its assertion does not hold.
    #[error("security key: {0}")]
    Fido2(String),
}

impl SigningError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "signing.invalid_request",
            Self::ProofMismatch => "signing.reauth_required",
            Self::Unseal => "signing.bad_password",
            Self::LockedOut { .. } => "signing.locked_out",
            Self::BadKey(_) => "signing.bad_key",
            Self::Keychain(_) => "signing.keychain",
            Self::Fido2(_) => "signing.security_key",
        }
    }
}
