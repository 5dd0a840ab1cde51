//! The conditional-request cache kept on disk between runs, so a repeated
//! `countersign queue` or gate run is answered by 304s.
//!
//! A 304 means "use the body you stored", so a stored body is as trusted as
//! the forge's answer: every entry carries an HMAC-SHA256 under a key kept in
//! the OS keychain, and an entry that does not verify (edited, planted, from
//! another key) is dropped. Whoever can edit the file but not read the key
//! cannot make the app believe anything the forge did not send.

use std::collections::HashMap;
use std::path::PathBuf;

use countersign_secret::Secret;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use url::Url;

use crate::rest::{Cached, MediaType};

/// Where the cache lives and the key that vouches for its entries.
#[derive(Debug, Clone)]
pub struct DiskCache {
    pub path: PathBuf,
    pub key: Secret<Vec<u8>>,
}

/// Enough for the queue and a few dozen reviews; older entries are dropped first.
const MAX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Entry {
    url: String,
    accept: String,
    etag: String,
    body: String,
    next: Option<String>,
    /// Absent in entries written before it was kept.
    #[serde(default)]
    total: Option<u64>,
    mac: String,
}

fn mac(
    key: &[u8],
    url: &str,
    accept: &str,
    etag: &str,
    body: &[u8],
    next: Option<&str>,
    total: Option<u64>,
) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    // A count is vouched for like the rest; entries without one keep the
    // MAC they were written with.
    let total = total.map(|n| n.to_string());
    for part in [
        url.as_bytes(),
        accept.as_bytes(),
        etag.as_bytes(),
        body,
        next.unwrap_or("").as_bytes(),
    ]
    .into_iter()
    .chain(total.as_deref().map(str::as_bytes))
    {
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    hex::encode(m.finalize().into_bytes())
}

pub(crate) type Entries = HashMap<(String, MediaType), Cached>;

/// The entries that verify and belong to `origin`; anything else is dropped.
pub(crate) fn load(cache: &DiskCache, origin: &Url) -> Entries {
    let Ok(bytes) = std::fs::read(&cache.path) else {
        return Entries::new();
    };
    let Ok(list) = serde_json::from_slice::<Vec<Entry>>(&bytes) else {
        tracing::warn!(path = %cache.path.display(), "the HTTP cache is unreadable; starting empty");
        return Entries::new();
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Entries::new();
    let mut dropped = 0;
    for e in list {
        let Some(accept) = MediaType::parse(&e.accept) else {
            dropped += 1;
            continue;
        };
        let body = base64::Engine::decode(&b64, &e.body).unwrap_or_default();
        let expected = mac(
            cache.key.expose(),
            &e.url,
            accept.as_str(),
            &e.etag,
            &body,
            e.next.as_deref(),
            e.total,
        );
        let same_origin = Url::parse(&e.url).is_ok_and(|u| u.origin() == origin.origin());
        if expected != e.mac || !same_origin {
            dropped += 1;
            continue;
        }
        let next = e.next.as_deref().and_then(|n| Url::parse(n).ok());
        out.insert(
            (e.url, accept),
            Cached {
                etag: e.etag,
                body,
                next,
                total: e.total,
            },
        );
    }
    if dropped > 0 {
        tracing::warn!(dropped, path = %cache.path.display(), "HTTP cache entries did not verify and were dropped");
    }
    out
}

/// Write `entries` (up to [`MAX_BYTES`] of bodies) atomically.
pub(crate) fn save(cache: &DiskCache, entries: &Entries) -> std::io::Result<()> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut total = 0;
    let mut list = Vec::new();
    for ((url, accept), c) in entries {
        total += c.body.len();
        if total > MAX_BYTES {
            break;
        }
        let next = c.next.as_ref().map(Url::to_string);
        list.push(Entry {
            mac: mac(
                cache.key.expose(),
                url,
                accept.as_str(),
                &c.etag,
                &c.body,
                next.as_deref(),
                c.total,
            ),
            url: url.clone(),
            accept: accept.as_str().to_owned(),
            etag: c.etag.clone(),
            total: c.total,
            body: base64::Engine::encode(&b64, &c.body),
            next,
        });
    }
    if let Some(dir) = cache.path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = cache.path.with_extension("tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec(&list).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, &cache.path)
}
