//! FIDO2 security keys: registration with `webauthn-rs` as the relying party,
//! and an assertion bound to the record it authorises.
//!
//! `webauthn-rs` makes every authentication challenge random, so the binding
//! is done here: the challenge is the digest of the record itself, with the
//! assertion fields left blank (the record cannot contain a signature over
//! itself). The assertion is then written into the record, and the ed25519
//! signature covers both. Anyone can re-check it offline with the registered
//! COSE public key: the client data names this challenge, the relying-party
//! id hash is ours, the user-verification flag is set, and the authenticator's
//! signature over `authenticatorData ‖ SHA-256(clientDataJSON)` holds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    COSEKey, CreationChallengeResponse, Credential, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::{
    AllowCredentials, PublicKeyCredentialRequestOptions, UserVerificationPolicy,
};

use crate::statement::Fido2Assertion;
use crate::SigningError;

/// The relying-party id: permanent for every credential registered with it.
pub const RP_ID: &str = "tauri.localhost";
/// The origin the desktop app speaks for (an `https://` origin is required).
pub const ORIGIN: &str = "https://tauri.localhost";

const FLAG_USER_PRESENT: u8 = 0x01;
const FLAG_USER_VERIFIED: u8 = 0x04;

/// A registered security key, as the enrolment record and the roster hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityKey {
    /// base64url, no padding.
    pub credential_id: String,
    pub public_key: COSEKey,
}

fn relying_party() -> Result<Webauthn, SigningError> {
    let origin = Url::parse(ORIGIN).expect("a valid origin");
    WebauthnBuilder::new(RP_ID, &origin)
        .and_then(|b| b.rp_name("Countersign").build())
        .map_err(|e| SigningError::Fido2(format!("relying party: {e}")))
}

/// Start registering a security key for a signer (user verification required).
pub fn start_registration(
    user_id: u64,
    login: &str,
    printed_name: &str,
) -> Result<(CreationChallengeResponse, PasskeyRegistration), SigningError> {
    let user = Uuid::from_u64_pair(0x636f_756e_7465_7273, user_id);
    relying_party()?
        .start_passkey_registration(user, login, printed_name, None)
        .map_err(|e| SigningError::Fido2(format!("registration: {e}")))
}

pub fn finish_registration(
    response: &RegisterPublicKeyCredential,
    state: &PasskeyRegistration,
) -> Result<SecurityKey, SigningError> {
    let passkey = relying_party()?
        .finish_passkey_registration(response, state)
        .map_err(|e| SigningError::Fido2(format!("registration refused: {e}")))?;
    let credential = Credential::from(passkey);
    Ok(SecurityKey {
        credential_id: URL_SAFE_NO_PAD.encode::<&[u8]>(credential.cred_id.as_ref()),
        public_key: credential.cred,
    })
}

/// What to ask the authenticator for: an assertion over `challenge` by this
/// credential, with user verification (PIN or biometric).
pub fn request(
    challenge: &[u8; 32],
    key: &SecurityKey,
) -> Result<RequestChallengeResponse, SigningError> {
    let id = URL_SAFE_NO_PAD
        .decode(&key.credential_id)
        .map_err(|_| SigningError::Fido2("the credential id is not base64url".into()))?;
    Ok(RequestChallengeResponse {
        public_key: PublicKeyCredentialRequestOptions {
            challenge: challenge.to_vec(),
            timeout: Some(60_000),
            rp_id: RP_ID.to_owned(),
            allow_credentials: vec![AllowCredentials {
                type_: "public-key".to_owned(),
                id,
                transports: None,
            }],
            user_verification: UserVerificationPolicy::Required,
            hints: None,
            extensions: None,
        },
        mediation: None,
    })
}

/// The assertion as the record keeps it (base64url fields).
pub fn assertion_of(credential: &PublicKeyCredential) -> Fido2Assertion {
    Fido2Assertion {
        credential_id: URL_SAFE_NO_PAD.encode(&credential.raw_id),
        authenticator_data: URL_SAFE_NO_PAD.encode(&credential.response.authenticator_data),
        client_data_json: URL_SAFE_NO_PAD.encode(&credential.response.client_data_json),
        signature: URL_SAFE_NO_PAD.encode(&credential.response.signature),
    }
}

/// An assertion still to be made by `credential_id`: the form a record takes
/// before the key confirms it, and what the challenge is computed over.
pub fn pending(credential_id: &str) -> Fido2Assertion {
    Fido2Assertion {
        credential_id: credential_id.to_owned(),
        authenticator_data: String::new(),
        client_data_json: String::new(),
        signature: String::new(),
    }
}

/// The record's assertion fields emptied: what the challenge is computed over.
pub fn blank(assertion: &Fido2Assertion) -> Fido2Assertion {
    pending(&assertion.credential_id)
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
}

/// Check an assertion for `challenge` against the registered key. Returns the
/// authenticator's signature counter, which must grow from one use to the next.
pub fn check(
    assertion: &Fido2Assertion,
    key: &SecurityKey,
    challenge: &[u8; 32],
) -> Result<u32, String> {
    if assertion.credential_id != key.credential_id {
        return Err("made with another security key".into());
    }
    let decode = |what: &str, v: &str| {
        URL_SAFE_NO_PAD
            .decode(v)
            .map_err(|_| format!("{what} is not base64url"))
    };
    let auth_data = decode("authenticator data", &assertion.authenticator_data)?;
    let client_json = decode("client data", &assertion.client_data_json)?;
    let signature = decode("signature", &assertion.signature)?;
    let client: ClientData =
        serde_json::from_slice(&client_json).map_err(|e| format!("client data: {e}"))?;
    if client.kind != "webauthn.get" {
        return Err(format!("client data type is {:?}", client.kind));
    }
    if client.challenge != URL_SAFE_NO_PAD.encode(challenge) {
        return Err("the assertion was made for another record (challenge differs)".into());
    }
    // Browsers send the origin bare; some clients serialise it as a URL with "/".
    if client.origin.trim_end_matches('/') != ORIGIN {
        return Err(format!("made for origin {:?}, not {ORIGIN}", client.origin));
    }
    if auth_data.len() < 37 {
        return Err("authenticator data is too short".into());
    }
    if auth_data[..32] != Sha256::digest(RP_ID.as_bytes())[..] {
        return Err(format!("made for another relying party than {RP_ID}"));
    }
    let flags = auth_data[32];
    if flags & FLAG_USER_PRESENT == 0 {
        return Err("the user was not present (no touch)".into());
    }
    if flags & FLAG_USER_VERIFIED == 0 {
        return Err("the user was not verified (no PIN or biometric)".into());
    }
    let mut signed = auth_data.clone();
    signed.extend_from_slice(&Sha256::digest(&client_json));
    match key.public_key.verify_signature(&signature, &signed) {
        Ok(true) => {}
        _ => return Err("the security key's signature does not verify".into()),
    }
    Ok(u32::from_be_bytes([
        auth_data[33],
        auth_data[34],
        auth_data[35],
        auth_data[36],
    ]))
}
