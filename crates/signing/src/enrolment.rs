//! Enrolment: a signer's new key pair on this device, and the public record an
//! administrator adds to the policy roster.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::keys::{PublicKey, SignerKey};
use crate::statement::ForgeIdentity;
use crate::verify::TrustedKey;

/// 11.100(c): the signer certifies that the electronic signature is the
/// legally binding equivalent of the handwritten one. `{name}` is replaced by
/// the printed name; the resulting text is part of the record.
pub const ACKNOWLEDGEMENT: &str =
    "I, {name}, agree that every electronic signature I make with Countersign \
is the legally binding equivalent of my traditional handwritten signature (21 CFR 11.100(c)).";

pub fn acknowledgement_for(printed_name: &str) -> String {
    ACKNOWLEDGEMENT.replace("{name}", printed_name)
}

/// The public half of an enrolment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolmentRecord {
    pub printed_name: String,
    pub forge: ForgeIdentity,
    pub public_key: PublicKey,
    pub key_id: String,
    pub fingerprint: String,
    /// RFC 3339 UTC; the key is valid from then.
    pub valid_from: String,
    pub acknowledgement: String,
    /// Security keys registered for signing, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_keys: Vec<crate::fido2::SecurityKey>,
}

impl EnrolmentRecord {
    pub fn new(
        printed_name: &str,
        forge: ForgeIdentity,
        key: &SignerKey,
        at: DateTime<Utc>,
    ) -> Self {
        let public_key = key.public();
        Self {
            printed_name: printed_name.to_owned(),
            forge,
            key_id: public_key.key_id(),
            fingerprint: public_key.fingerprint(),
            public_key,
            valid_from: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            acknowledgement: acknowledgement_for(printed_name),
            security_keys: Vec::new(),
        }
    }

    pub fn trusted_key(&self) -> TrustedKey {
        TrustedKey {
            printed_name: self.printed_name.clone(),
            forge: self.forge.clone(),
            public_key: self.public_key,
            valid_from: Some(self.valid_from.clone()),
            valid_until: None,
            revoked_at: None,
            security_keys: self.security_keys.clone(),
        }
    }
}
