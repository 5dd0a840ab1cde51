//! The offline cache: what was synced from the forge (the queue, change
//! requests with their diffs, policy reviews with risk assessments, evidence
//! files, policy snapshots), so a reviewer can read it on a plane.
//!
//! Encrypted at rest with SQLCipher under a random 256-bit key that the
//! caller keeps in the OS keychain: a copied cache file alone reads as noise.
//! It is a cache, not a record: anything in it can be fetched again, so a
//! damaged or unkeyable file is replaced rather than repaired.

use std::path::Path;

use countersign_secret::Secret;
use rusqlite::{params, Connection, OptionalExtension};

use crate::LedgerError;

/// What one cached item holds, with when it was fetched (RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    pub json: String,
    pub synced_at: String,
}

pub struct Cache {
    conn: Connection,
}

/// Kinds of cached items, each keyed by a string the caller chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Queue,
    ChangeRequest,
    Review,
    Policy,
    /// What a review read, for signing from it offline.
    Snapshot,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queue => "queue",
            Self::ChangeRequest => "change_request",
            Self::Review => "review",
            Self::Policy => "policy",
            Self::Snapshot => "snapshot",
        }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    json TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS evidence (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (owner, name)
);
";

impl Cache {
    /// Open (or create) the cache at `path` with `key`. A file that this key
    /// does not open is a cache from another key (the keychain entry was
    /// reset) or garbage: it is replaced, since everything in it can be synced again.
    pub fn open(path: &Path, key: &Secret<[u8; 32]>) -> Result<Self, LedgerError> {
        match Self::open_keyed(path, key) {
            Ok(c) => Ok(c),
            Err(LedgerError::Corrupt(why)) => {
                tracing::warn!(%why, path = %path.display(), "the offline cache cannot be opened with its key; starting an empty one");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                Self::open_keyed(path, key)
            }
            Err(e) => Err(e),
        }
    }

    fn open_keyed(path: &Path, key: &Secret<[u8; 32]>) -> Result<Self, LedgerError> {
        let conn = Connection::open(path)?;
        // A raw key (x'…'): SQLCipher skips its own passphrase KDF, which a
        // random 256-bit key does not need.
        // The key in hex, and the statement holding it: both wiped when dropped.
        let hex_key = Secret::new(hex::encode(key.expose()));
        let pragma = Secret::new(format!("PRAGMA key = \"x'{}'\";", hex_key.expose()));
        conn.execute_batch(pragma.expose())?;
        // The first read is where a wrong key shows.
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            return Err(LedgerError::Corrupt(e.to_string()));
        }
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    pub fn put(
        &self,
        kind: Kind,
        key: &str,
        json: &str,
        synced_at: &str,
    ) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO items (kind, key, json, synced_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, key) DO UPDATE SET json = excluded.json, synced_at = excluded.synced_at",
            params![kind.as_str(), key, json, synced_at],
        )?;
        Ok(())
    }

    pub fn get(&self, kind: Kind, key: &str) -> Result<Option<Cached>, LedgerError> {
        Ok(self
            .conn
            .query_row(
                "SELECT json, synced_at FROM items WHERE kind = ?1 AND key = ?2",
                params![kind.as_str(), key],
                |r| {
                    Ok(Cached {
                        json: r.get(0)?,
                        synced_at: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Keep an evidence file's bytes, under the change request it belongs to.
    pub fn put_evidence(
        &self,
        owner: &str,
        name: &str,
        sha256: &str,
        content: &[u8],
        synced_at: &str,
    ) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO evidence (owner, name, sha256, content, synced_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (owner, name) DO UPDATE SET sha256 = excluded.sha256, content = excluded.content, synced_at = excluded.synced_at",
            params![owner, name, sha256, content, synced_at],
        )?;
        Ok(())
    }

    /// `(name, sha256, bytes)` of every evidence file kept for `owner`.
    pub fn evidence(&self, owner: &str) -> Result<Vec<(String, String, Vec<u8>)>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, sha256, content FROM evidence WHERE owner = ?1 ORDER BY name")?;
        let rows = stmt.query_map(params![owner], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Secret<[u8; 32]> {
        Secret::new([b; 32])
    }

    #[test]
    fn items_round_trip_and_the_file_is_unreadable_without_the_key() {
        let dir = std::env::temp_dir().join(format!("countersign-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cache.sqlite");
        {
            let c = Cache::open(&path, &key(7)).unwrap();
            c.put(
                Kind::ChangeRequest,
                "acme/pump#42",
                "{\"title\":\"Clamp infusion rate\"}",
                "2026-11-26T10:00:00Z",
            )
            .unwrap();
            c.put_evidence(
                "acme/pump#42",
                "junit.xml",
                "ab",
                b"<testsuites/>",
                "2026-11-26T10:00:00Z",
            )
            .unwrap();
            let got = c.get(Kind::ChangeRequest, "acme/pump#42").unwrap().unwrap();
            assert_eq!(got.synced_at, "2026-11-26T10:00:00Z");
            assert!(c.get(Kind::Review, "acme/pump#42").unwrap().is_none());
        }
        // Checkpoint the WAL so that everything is in the main file.
        {
            let c = Cache::open(&path, &key(7)).unwrap();
            c.conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Clamp infusion rate") && !text.contains("testsuites"));
        assert!(
            !bytes.starts_with(b"SQLite format 3"),
            "encrypted, header included"
        );
        // The right key reads it back; a wrong key starts an empty cache.
        let c = Cache::open(&path, &key(7)).unwrap();
        assert_eq!(c.evidence("acme/pump#42").unwrap()[0].2, b"<testsuites/>");
        let other = Cache::open(&path, &key(8)).unwrap();
        assert!(other
            .get(Kind::ChangeRequest, "acme/pump#42")
            .unwrap()
            .is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
