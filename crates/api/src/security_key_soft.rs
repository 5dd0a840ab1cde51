//! A software security key, for the end-to-end tests of the window: debug
//! builds use it when `COUNTERSIGN_SOFTWARE_SECURITY_KEY=1`. It is a FIDO2
//! authenticator in memory — fine for exercising the ceremony, worthless as a
//! second factor — so release builds never honour the variable.

use std::sync::Mutex;

use countersign_secret::Secret;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use crate::security_key::{origin, SecurityKeyDevice};
use crate::ApiError;
use crate::ErrorCode;

pub struct SoftSecurityKey(Mutex<SoftPasskey>);

impl SoftSecurityKey {
    /// `Some` only in a debug build with the variable set.
    pub fn from_env() -> Option<Self> {
        let wanted = std::env::var("COUNTERSIGN_SOFTWARE_SECURITY_KEY").as_deref() == Ok("1");
        (cfg!(debug_assertions) && wanted).then(|| {
            tracing::warn!("a software security key stands in for a real one (test builds only)");
            Self(Mutex::new(SoftPasskey::new(true)))
        })
    }
}

fn needs_pin(pin: Option<&Secret<String>>) -> Result<(), ApiError> {
    match pin {
        Some(p) if !p.expose().is_empty() => Ok(()),
        _ => Err(ApiError::new(
            ErrorCode::SigningSecurityKey,
            "the security key needs its PIN",
        )),
    }
}

impl SecurityKeyDevice for SoftSecurityKey {
    fn register(
        &self,
        options: CreationChallengeResponse,
        pin: Option<&Secret<String>>,
    ) -> Result<RegisterPublicKeyCredential, ApiError> {
        needs_pin(pin)?;
        self.0
            .lock()
            .unwrap()
            .do_registration(origin(), options)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::SigningSecurityKey,
                    format!("registration: {e:?}"),
                )
            })
    }

    fn assert(
        &self,
        options: RequestChallengeResponse,
        pin: Option<&Secret<String>>,
    ) -> Result<PublicKeyCredential, ApiError> {
        needs_pin(pin)?;
        self.0
            .lock()
            .unwrap()
            .do_authentication(origin(), options)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::SigningSecurityKey,
                    format!("confirmation: {e:?}"),
                )
            })
    }
}
