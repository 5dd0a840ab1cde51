//! ed25519 keys. Public keys are checked on the way in (length, curve point,
//! not of small order); signatures are checked with `verify_strict`, because
//! plain `verify` accepts a weak key with a crafted signature for any message.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::SigningError;

/// A signer's private key, alive only while unsealed for one signing.
pub struct SignerKey(SigningKey);

impl SignerKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, SigningError> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut())
            .map_err(|e| SigningError::BadKey(format!("no randomness: {e}")))?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    pub(crate) fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    pub(crate) fn seed(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.0.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// Only for tests and fixtures that need a fixed key.
    #[doc(hidden)]
    pub fn from_test_seed(seed: [u8; 32]) -> Self {
        Self::from_seed(&seed)
    }
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignerKey(public {})", self.public().key_id())
    }
}

/// An ed25519 public key that passed the weak-key check.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SigningError> {
        let raw: [u8; 32] = bytes.try_into().map_err(|_| {
            SigningError::BadKey(format!(
                "an ed25519 public key has 32 bytes, not {}",
                bytes.len()
            ))
        })?;
        let key = VerifyingKey::from_bytes(&raw)
            .map_err(|_| SigningError::BadKey("not a point on the ed25519 curve".into()))?;
        if key.is_weak() {
            return Err(SigningError::BadKey(
                "weak (small-order) ed25519 public key".into(),
            ));
        }
        Ok(Self(key))
    }

    pub fn from_base64(text: &str) -> Result<Self, SigningError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| SigningError::BadKey(format!("base64: {e}")))?;
        Self::from_bytes(&bytes)
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }

    /// The DSSE key id: hex SHA-256 of the raw public key.
    pub fn key_id(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// For people comparing keys by eye: `SHA256:` and the first 128 bits in groups.
    pub fn fingerprint(&self) -> String {
        let id = self.key_id();
        let groups: Vec<&str> = (0..8).map(|i| &id[i * 4..i * 4 + 4]).collect();
        format!("SHA256:{}", groups.join(":"))
    }

    /// Strict verification (RFC 8032 §5.1.7 plus rejection of non-canonical
    /// and small-order components).
    pub fn verify_strict(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(raw) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&raw);
        self.0.verify_strict(message, &sig).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_malformed_keys_are_refused() {
        // The identity point: with it, plain `verify` accepts a crafted signature for any message.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey::from_bytes(&identity),
            Err(SigningError::BadKey(_))
        ));
        assert!(PublicKey::from_bytes(&[0u8; 31]).is_err());
        let good = SignerKey::from_seed(&[7; 32]).public();
        assert!(PublicKey::from_bytes(&good.to_bytes()).is_ok());
        assert_eq!(PublicKey::from_base64(&good.to_base64()).unwrap(), good);
    }

    #[test]
    fn signatures_verify_only_for_their_message() {
        let key = SignerKey::from_seed(&[9; 32]);
        let sig = key.sign(b"approve 3e66");
        assert!(key.public().verify_strict(b"approve 3e66", &sig));
        assert!(!key.public().verify_strict(b"approve 3e67", &sig));
        assert!(!SignerKey::from_seed(&[8; 32])
            .public()
            .verify_strict(b"approve 3e66", &sig));
        assert!(!key.public().verify_strict(b"approve 3e66", &sig[..63]));
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let key = SignerKey::from_seed(&[0xAB; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.to_lowercase().contains("abab"), "{shown}");
    }
}
