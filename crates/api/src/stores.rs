//! This device's local stores, shared by every use case: the OS keychain
//! (opened on first use, so a missing keychain only matters to the flows
//! that need it), the ledger (audit trail, signed records, outbox), and the
//! forge whose clock dates audit entries.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::SecondsFormat;
use countersign_forge::Forge;
use countersign_keychain::{OsKeychain, SecretStore};
use countersign_ledger::{AuditEvent, Ledger};

use crate::{ApiError, ErrorCode};

/// Where the keychain comes from: the OS one (opened on first use, so a
/// missing keychain only matters to the flows that need it) or a given store.
#[derive(Clone)]
pub enum KeychainSource {
    Os,
    Given(Arc<dyn SecretStore>),
}

/// The local stores, one per session.
pub struct Stores {
    source: KeychainSource,
    opened: Mutex<Option<Arc<dyn SecretStore>>>,
    ledger_path: PathBuf,
    ledger: Mutex<Option<Ledger>>,
    forge: Mutex<Option<Arc<dyn Forge>>>,
}

impl Stores {
    pub fn new(source: KeychainSource, ledger_path: PathBuf) -> Self {
        Self {
            source,
            opened: Mutex::new(None),
            ledger_path,
            ledger: Mutex::new(None),
            forge: Mutex::new(None),
        }
    }

    /// The keychain, opened on first use.
    pub(crate) fn keychain(&self) -> Result<Arc<dyn SecretStore>, ApiError> {
        let mut opened = self.opened.lock().unwrap();
        if let Some(store) = opened.as_ref() {
            return Ok(store.clone());
        }
        let store: Arc<dyn SecretStore> = match &self.source {
            KeychainSource::Given(store) => store.clone(),
            KeychainSource::Os => Arc::new(OsKeychain::open()?),
        };
        *opened = Some(store.clone());
        Ok(store)
    }

    /// Run `f` with the ledger, opening it on first use.
    pub(crate) fn with_ledger<T>(
        &self,
        f: impl FnOnce(&mut Ledger) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut guard = self.ledger.lock().unwrap();
        if guard.is_none() {
            if let Some(dir) = self.ledger_path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    ApiError::new(
                        ErrorCode::LedgerUnavailable,
                        format!("cannot create {}: {e}", dir.display()),
                    )
                })?;
            }
            *guard = Some(Ledger::open(&self.ledger_path)?);
        }
        f(guard.as_mut().expect("opened above"))
    }

    /// Append `event` to the audit trail, with the forge's time when known.
    pub(crate) fn record(&self, event: AuditEvent) -> Result<u64, ApiError> {
        let event = self.with_forge_time(event);
        self.with_ledger(|l| Ok(l.append(&event)?))
    }

    /// The forge's clock now, from its last `Date` and how far ours has
    /// moved since: an inspector can date the entry without trusting this
    /// machine's clock alone.
    pub(crate) fn with_forge_time(&self, mut event: AuditEvent) -> AuditEvent {
        if event.forge_time.is_none() {
            let clock = self.forge.lock().unwrap().as_ref().and_then(|f| f.clock());
            event.forge_time = clock.map(|c| c.now().to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        event
    }

    /// The forge whose clock dates audit entries.
    pub(crate) fn set_forge(&self, forge: Arc<dyn Forge>) {
        *self.forge.lock().unwrap() = Some(forge);
    }
}
