//! Dead Simple Signing Envelope, as its specification defines it: signatures
//! cover `PAE(payloadType, payload)`, so verifiers never need a canonical JSON.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The payload type of an in-toto Statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Pre-Authentication Encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Hex SHA-256 of the raw ed25519 public key; a hint, never trusted alone.
    pub keyid: String,
    /// Base64 of the 64-byte ed25519 signature.
    pub sig: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Base64 of the serialized Statement, exactly the bytes that were signed.
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

impl Envelope {
    pub fn new(payload_type: &str, payload: &[u8]) -> Self {
        Self {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_owned(),
            signatures: Vec::new(),
        }
    }

    /// The signed bytes. Fails on non-canonical base64 so that two different
    /// envelope texts can never carry the same signature.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        STANDARD.decode(&self.payload)
    }

    /// `sha256:<hex>` of the signed statement: how a withdrawal names the
    /// record it takes back, whatever signatures the envelope carries.
    pub fn statement_digest(&self) -> Option<String> {
        use sha2::Digest;
        let bytes = self.payload_bytes().ok()?;
        Some(format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(bytes))
        ))
    }

    pub fn pae(&self) -> Result<Vec<u8>, base64::DecodeError> {
        Ok(pae(&self.payload_type, &self.payload_bytes()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_specification_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn envelopes_use_the_specified_field_names() {
        let env = Envelope::new(IN_TOTO_PAYLOAD_TYPE, b"{}");
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["payloadType"], IN_TOTO_PAYLOAD_TYPE);
        assert_eq!(json["payload"], "e30=");
        assert!(json["signatures"].as_array().unwrap().is_empty());
    }
}
