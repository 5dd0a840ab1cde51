//! Offline reading: what was fetched is kept in the encrypted cache, and when
//! the forge cannot be reached the same use cases answer from it, marked as
//! offline with the time each item was synced. What was never synced says so.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use countersign_keychain::SecretStore;
use countersign_ledger::cache::{Cache, Kind};
use countersign_secret::Secret;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::stores::Stores;
use crate::ApiError;
use crate::ErrorCode;

const KEY_ACCOUNT: &str = "offline-cache-key";

pub struct Offline {
    path: PathBuf,
    stores: Arc<Stores>,
    cache: Mutex<Option<Cache>>,
    // Background writes still running, so a sync can wait until all is kept.
    pending: AtomicUsize,
    done: tokio::sync::Notify,
}

/// Errors after which the cache may answer instead.
pub fn is_offline(e: &ApiError) -> bool {
    e.code == "forge.unreachable"
}

impl Offline {
    pub fn new(path: PathBuf, stores: Arc<Stores>) -> Self {
        Self {
            path,
            stores,
            cache: Mutex::new(None),
            pending: AtomicUsize::new(0),
            done: tokio::sync::Notify::new(),
        }
    }

    fn spawn(self: &Arc<Self>, write: impl FnOnce(&Self) + Send + 'static) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            write(&this);
            this.pending.fetch_sub(1, Ordering::SeqCst);
            this.done.notify_waiters();
        });
    }

    /// Wait until every background write so far has finished.
    pub async fn flush(&self) {
        loop {
            let notified = self.done.notified();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    fn keychain(&self) -> Result<Arc<dyn SecretStore>, ApiError> {
        self.stores.keychain()
    }

    /// The cache key from the keychain, made on first use.
    fn key(keychain: &dyn SecretStore) -> Result<Secret<[u8; 32]>, ApiError> {
        if let Some(bytes) = keychain.get(KEY_ACCOUNT)? {
            if let Ok(key) = <[u8; 32]>::try_from(bytes.expose().as_slice()) {
                return Ok(Secret::new(key));
            }
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| {
            ApiError::new(ErrorCode::CacheUnavailable, format!("no randomness: {e}"))
        })?;
        keychain.set(KEY_ACCOUNT, &key)?;
        Ok(Secret::new(key))
    }

    fn with<T>(&self, f: impl FnOnce(&Cache) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut guard = self.cache.lock().unwrap();
        if guard.is_none() {
            let key = Self::key(self.keychain()?.as_ref())?;
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ApiError::new(ErrorCode::CacheUnavailable, e.to_string()))?;
            }
            *guard = Some(Cache::open(&self.path, &key)?);
        }
        f(guard.as_ref().expect("opened above"))
    }

    /// Keep `value`, in the background: the answer to the user never waits
    /// for the keychain or the disk, and a cache that cannot be written only
    /// costs offline reading.
    pub fn remember<T: Serialize>(
        self: &Arc<Self>,
        kind: Kind,
        key: &str,
        value: &T,
        synced_at: &str,
    ) {
        let Ok(json) = serde_json::to_string(value) else {
            return;
        };
        let (key, at) = (key.to_owned(), synced_at.to_owned());
        self.spawn(move |this| {
            if let Err(e) = this.with(|c| Ok(c.put(kind, &key, &json, &at)?)) {
                tracing::warn!(code = %e.code, error = %e.message, "not kept for offline reading");
            }
        });
    }

    pub fn remember_evidence(
        self: &Arc<Self>,
        owner: &str,
        files: &[countersign_evidence::EvidenceFile],
        synced_at: &str,
    ) {
        let files: Vec<(String, String, Vec<u8>)> = files
            .iter()
            .map(|f| (f.name.clone(), f.sha256.clone(), f.content.clone()))
            .collect();
        let (owner, at) = (owner.to_owned(), synced_at.to_owned());
        self.spawn(move |this| {
            let result = this.with(|c| {
                for (name, sha256, content) in &files {
                    c.put_evidence(&owner, name, sha256, content, &at)?;
                }
                Ok(())
            });
            if let Err(e) = result {
                tracing::warn!(code = %e.code, error = %e.message, "evidence not kept for offline reading");
            }
        });
    }

    /// `(name, sha256, bytes)` of the evidence files kept for `owner`; none
    /// when nothing was kept or the cache cannot be read.
    pub fn recall_evidence(&self, owner: &str) -> Vec<(String, String, Vec<u8>)> {
        self.with(|c| Ok(c.evidence(owner)?)).unwrap_or_default()
    }

    /// What was kept under `key`, with when it was synced; `None` if never.
    pub fn recall<T: DeserializeOwned>(&self, kind: Kind, key: &str) -> Option<(T, String)> {
        self.with(|c| Ok(c.get(kind, key)?))
            .ok()
            .flatten()
            .and_then(|hit| Some((serde_json::from_str(&hit.json).ok()?, hit.synced_at)))
    }
}

/// The error to show when offline and nothing was kept.
pub fn not_cached(online: ApiError, what: &str) -> ApiError {
    ApiError::new(
        online.code,
        format!(
            "{} — and {what} was never synced on this device, so it cannot be shown offline.",
            online.message
        ),
    )
}
