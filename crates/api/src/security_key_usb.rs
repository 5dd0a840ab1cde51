//! A USB security key (CTAP2 over HID), the app's reader. The PIN comes from
//! the signer through the request, never from a prompt of the library's own.

use countersign_secret::Secret;
use webauthn_authenticator_rs::ctap2::CtapAuthenticator;
use webauthn_authenticator_rs::transport::Transport;
use webauthn_authenticator_rs::types::{CableRequestType, CableState, EnrollSampleStatus};
use webauthn_authenticator_rs::ui::UiCallback;
use webauthn_authenticator_rs::usb::USBTransport;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use crate::security_key::{origin, SecurityKeyDevice};
use crate::ApiError;
use crate::ErrorCode;

/// Answers the key's PIN request with the PIN the signer typed.
#[derive(Debug)]
struct Pin(Option<String>);

impl UiCallback for Pin {
    fn request_pin(&self) -> Option<String> {
        self.0.clone()
    }
    fn request_touch(&self) {
        tracing::info!("touch the security key");
    }
    fn processing(&self) {}
    fn fingerprint_enrollment_feedback(&self, _: u32, _: Option<EnrollSampleStatus>) {}
    fn cable_qr_code(&self, _: CableRequestType, _: String) {}
    fn dismiss_qr_code(&self) {}
    fn cable_status_update(&self, _: CableState) {}
}

fn failed(what: &str, e: impl std::fmt::Debug) -> ApiError {
    ApiError::new(ErrorCode::SigningSecurityKey, format!("{what}: {e:?}"))
}

pub struct UsbSecurityKey;

impl UsbSecurityKey {
    /// Run `f` against the first USB security key found. Called on a blocking thread.
    fn with_key<R>(
        pin: Option<&Secret<String>>,
        f: impl FnOnce(&mut dyn FnMut(Ceremony) -> Result<Outcome, ApiError>) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let ui = Pin(pin.map(|p| p.expose().clone()));
        let runtime = tokio::runtime::Handle::current();
        let transport = runtime
            .block_on(USBTransport::new())
            .map_err(|e| failed("no USB access (udev rules for /dev/hidraw*?)", e))?;
        let token = runtime
            .block_on(transport.tokens())
            .map_err(|e| failed("cannot list security keys", e))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::SigningSecurityKey,
                    "no security key is plugged in",
                )
            })?;
        let mut authenticator = runtime
            .block_on(CtapAuthenticator::new(token, &ui))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::SigningSecurityKey,
                    "the security key does not speak CTAP2",
                )
            })?;
        let mut run = |c: Ceremony| -> Result<Outcome, ApiError> {
            match c {
                Ceremony::Register(o) => authenticator
                    .do_registration(origin(), o)
                    .map(Outcome::Registered)
                    .map_err(|e| failed("registration", e)),
                Ceremony::Assert(o) => authenticator
                    .do_authentication(origin(), o)
                    .map(Outcome::Asserted)
                    .map_err(|e| failed("confirmation (wrong PIN or no touch?)", e)),
            }
        };
        f(&mut run)
    }
}

enum Ceremony {
    Register(CreationChallengeResponse),
    Assert(RequestChallengeResponse),
}

enum Outcome {
    Registered(RegisterPublicKeyCredential),
    Asserted(PublicKeyCredential),
}

impl SecurityKeyDevice for UsbSecurityKey {
    fn register(
        &self,
        options: CreationChallengeResponse,
        pin: Option<&Secret<String>>,
    ) -> Result<RegisterPublicKeyCredential, ApiError> {
        Self::with_key(pin, |run| match run(Ceremony::Register(options))? {
            Outcome::Registered(r) => Ok(r),
            Outcome::Asserted(_) => unreachable!("a registration answers with a registration"),
        })
    }

    fn assert(
        &self,
        options: RequestChallengeResponse,
        pin: Option<&Secret<String>>,
    ) -> Result<PublicKeyCredential, ApiError> {
        Self::with_key(pin, |run| match run(Ceremony::Assert(options))? {
            Outcome::Asserted(a) => Ok(a),
            Outcome::Registered(_) => unreachable!("an assertion answers with an assertion"),
        })
    }
}
