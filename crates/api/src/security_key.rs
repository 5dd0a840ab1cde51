//! The authenticator side of FIDO2: whatever talks to the physical key. The
//! relying-party checks live in the signing crate; this is only the device,
//! behind a trait so that tests use the software authenticator and the app a
//! USB key. Ceremonies block (PIN entry, touch): callers run them on a
//! blocking thread.

use countersign_secret::Secret;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use crate::ApiError;

pub trait SecurityKeyDevice: Send + Sync {
    fn register(
        &self,
        options: CreationChallengeResponse,
        pin: Option<&Secret<String>>,
    ) -> Result<RegisterPublicKeyCredential, ApiError>;

    fn assert(
        &self,
        options: RequestChallengeResponse,
        pin: Option<&Secret<String>>,
    ) -> Result<PublicKeyCredential, ApiError>;
}

pub fn origin() -> webauthn_rs::prelude::Url {
    webauthn_rs::prelude::Url::parse(countersign_signing::fido2::ORIGIN).expect("a valid origin")
}
