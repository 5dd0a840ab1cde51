//! The OS keychain behind [`SecretStore`], failing closed: when the keychain is
//! missing or locked the caller gets [`KeychainError`] with what to do about
//! it, and nothing is ever written anywhere else instead.

use std::sync::{Arc, Mutex, OnceLock};

use countersign_secret::Secret;

/// The keychain "service" every Countersign entry lives under.
pub const SERVICE: &str = "dev.countersign.desktop";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeychainError {
    /// No keychain service could be reached (no Secret Service on the session bus).
    #[error("no OS keychain is available: {0}. On Linux, start a Secret Service (GNOME Keyring or KWallet) in your session")]
    Unavailable(String),
    /// The keychain is locked and refused access.
    #[error("the OS keychain is locked: unlock it (log in again or open your keyring manager) and retry")]
    Locked,
    /// Any other refusal by the platform.
    #[error("the OS keychain refused the request: {0}")]
    Platform(String),
}

impl KeychainError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "keychain.unavailable",
            Self::Locked => "keychain.locked",
            Self::Platform(_) => "keychain.error",
        }
    }
}

/// Binary secrets by account name.
pub trait SecretStore: Send + Sync {
    fn get(&self, account: &str) -> Result<Option<Secret<Vec<u8>>>, KeychainError>;
    fn set(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError>;
    fn delete(&self, account: &str) -> Result<(), KeychainError>;
}

fn map_error(e: keyring_core::Error) -> KeychainError {
    use keyring_core::Error as E;
    match e {
        E::NoStorageAccess(inner) => {
            let text = inner.to_string();
            if text.to_ascii_lowercase().contains("lock") {
                KeychainError::Locked
            } else {
                KeychainError::Unavailable(text)
            }
        }
        E::NoDefaultStore => KeychainError::Unavailable("no default credential store".into()),
        other => KeychainError::Platform(other.to_string()),
    }
}

/// The platform's keychain, through keyring-core.
pub struct OsKeychain {
    _private: (),
}

static DEFAULT_STORE: OnceLock<Mutex<Result<(), KeychainError>>> = OnceLock::new();

impl OsKeychain {
    /// Connect to the platform keychain. Fails closed when there is none.
    pub fn open() -> Result<Self, KeychainError> {
        let state = DEFAULT_STORE
            .get_or_init(|| Mutex::new(Err(KeychainError::Unavailable("not yet opened".into()))));
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        if state.is_err() {
            *state = install_platform_store();
        }
        state.clone().map(|()| Self { _private: () })
    }

    fn entry(&self, account: &str) -> Result<keyring_core::Entry, KeychainError> {
        keyring_core::Entry::new(SERVICE, account).map_err(map_error)
    }
}

#[cfg(target_os = "linux")]
fn install_platform_store() -> Result<(), KeychainError> {
    let store = dbus_secret_service_keyring_store::Store::new()
        .map_err(|e| KeychainError::Unavailable(e.to_string()))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(target_os = "macos")]
fn install_platform_store() -> Result<(), KeychainError> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| KeychainError::Unavailable(e.to_string()))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(target_os = "windows")]
fn install_platform_store() -> Result<(), KeychainError> {
    let store = windows_native_keyring_store::Store::new()
        .map_err(|e| KeychainError::Unavailable(e.to_string()))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn install_platform_store() -> Result<(), KeychainError> {
    Err(KeychainError::Unavailable(
        "this platform has no supported keychain".into(),
    ))
}

impl SecretStore for OsKeychain {
    fn get(&self, account: &str) -> Result<Option<Secret<Vec<u8>>>, KeychainError> {
        match self.entry(account)?.get_secret() {
            Ok(bytes) => Ok(Some(Secret::new(bytes))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    fn set(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        self.entry(account)?.set_secret(secret).map_err(map_error)
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }
}

/// An in-memory store for tests of the code above the keychain, with an
/// injectable failure. Never used by the app itself.
#[derive(Default, Clone)]
pub struct MemoryStore {
    entries: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>>,
    fail_with: Arc<Mutex<Option<KeychainError>>>,
}

impl MemoryStore {
    pub fn fail_with(&self, error: Option<KeychainError>) {
        *self.fail_with.lock().unwrap() = error;
    }

    fn check(&self) -> Result<(), KeychainError> {
        match self.fail_with.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Secret<Vec<u8>>>, KeychainError> {
        self.check()?;
        Ok(self
            .entries
            .lock()
            .unwrap()
            .get(account)
            .cloned()
            .map(Secret::new))
    }

    fn set(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        self.check()?;
        self.entries
            .lock()
            .unwrap()
            .insert(account.to_owned(), secret.to_vec());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.check()?;
        self.entries.lock().unwrap().remove(account);
        Ok(())
    }
}
