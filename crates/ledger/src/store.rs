use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::chain::{entry_hash, verify_chain, Break, BreakKind, ChainEntry, GENESIS};
use crate::{AuditEvent, LedgerError};

const APPLICATION_ID: i32 = 0x4353_4c47; // "CSLG"
const SCHEMA_VERSION: i32 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY,
    bytes     BLOB NOT NULL,
    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash      BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE TABLE IF NOT EXISTS records (
    id         INTEGER PRIMARY KEY,
    audit_seq  INTEGER NOT NULL UNIQUE REFERENCES audit(seq),
    envelope   BLOB NOT NULL,
    repo       TEXT NOT NULL,
    number     INTEGER NOT NULL,
    head_sha   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'signed records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'signed records are append-only'); END;

CREATE TABLE IF NOT EXISTS outbox (
    record_id  INTEGER NOT NULL REFERENCES records(id),
    target     TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'pushed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    remote_ref TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (record_id, target)
);
CREATE TRIGGER IF NOT EXISTS outbox_no_delete BEFORE DELETE ON outbox
    BEGIN SELECT RAISE(ABORT, 'the outbox keeps every record'); END;
CREATE TRIGGER IF NOT EXISTS outbox_no_unpush BEFORE UPDATE OF state ON outbox
    WHEN OLD.state = 'pushed' AND NEW.state <> 'pushed'
    BEGIN SELECT RAISE(ABORT, 'a pushed record stays pushed'); END;

CREATE TABLE IF NOT EXISTS checkpoints (
    size      INTEGER NOT NULL,
    head      BLOB NOT NULL CHECK (length(head) = 32),
    signed_at TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (size, head)
);
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
";

/// A signed (size, head) of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub size: u64,
    /// Hex SHA-256 chain head at `size`.
    pub head: String,
    pub signed_at: String,
    pub key_id: String,
    /// Base64 ed25519 signature over [`Checkpoint::message`], checked by the caller's verifier.
    pub signature: String,
}

impl Checkpoint {
    /// The bytes a checkpoint signature covers.
    pub fn message(size: u64, head: &str) -> Vec<u8> {
        format!("countersign-audit-checkpoint-v1\n{size}\n{head}\n").into_bytes()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: i64,
    pub audit_seq: u64,
    pub envelope: Vec<u8>,
    pub repo: String,
    pub number: u64,
    pub head_sha: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushState {
    Pending,
    Pushed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub record_id: i64,
    pub target: String,
    pub state: PushState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub remote_ref: Option<String>,
    pub repo: String,
    pub number: u64,
}

pub struct Ledger {
    conn: Connection,
}

fn folder_is_read_only(path: &Path) -> bool {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let probe = folder.join(format!(".countersign-write-probe-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            false
        }
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
        ),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn blob32(v: Vec<u8>) -> [u8; 32] {
    v.try_into().unwrap_or([0xff; 32])
}

impl Ledger {
    /// Open (or create) the ledger at `path`.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        Self::open_inner(path).map_err(|e| match e {
            // SQLite says "unable to open database file" for a read-only
            // folder or file system (WAL needs its side files): say which.
            LedgerError::Sqlite(text) if folder_is_read_only(path) => {
                LedgerError::ReadOnly(format!("{}: {text}", path.display()))
            }
            other => other,
        })
    }

    fn open_inner(path: &Path) -> Result<Self, LedgerError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        let app_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if app_id != APPLICATION_ID && tables > 0 {
            return Err(LedgerError::Corrupt(format!(
                "{} is another kind of database",
                path.display()
            )));
        }
        // WAL survives a crash of the writer; FULL makes each commit durable
        // before it returns, which is when a record is acknowledged.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if mode != "wal" {
            return Err(LedgerError::Sqlite(format!(
                "cannot switch to WAL (got {mode})"
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA fullfsync = ON; PRAGMA foreign_keys = ON;",
        )?;
        if app_id != APPLICATION_ID {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA} PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))?;
        } else {
            let version: i32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version != SCHEMA_VERSION {
                return Err(LedgerError::Corrupt(format!(
                    "schema version {version}, this build reads {SCHEMA_VERSION}"
                )));
            }
        }
        Ok(Self { conn })
    }

    fn insert_event(
        tx: &rusqlite::Transaction<'_>,
        event: &AuditEvent,
    ) -> Result<u64, LedgerError> {
        if event.needs_reason() && event.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(LedgerError::Invalid(format!(
                "a {:?} entry needs a reason",
                event.kind
            )));
        }
        let bytes = serde_json::to_vec(event).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = match last {
            Some((seq, hash)) => (seq as u64 + 1, blob32(hash)),
            None => (1, GENESIS),
        };
        let hash = entry_hash(seq, &prev, &bytes);
        tx.execute(
            "INSERT INTO audit (seq, bytes, prev_hash, hash) VALUES (?1, ?2, ?3, ?4)",
            params![seq as i64, bytes, prev.as_slice(), hash.as_slice()],
        )?;
        Ok(seq)
    }

    /// Append one audit entry; returns its sequence number once committed.
    pub fn append(&mut self, event: &AuditEvent) -> Result<u64, LedgerError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq = Self::insert_event(&tx, event)?;
        tx.commit()?;
        Ok(seq)
    }

    /// Store a signed record, its audit entry and its outbox rows in one
    /// transaction. Returns (record id, audit seq) only after the commit.
    pub fn append_record(
        &mut self,
        envelope: &[u8],
        repo: &str,
        number: u64,
        head_sha: &str,
        event: &AuditEvent,
        targets: &[&str],
    ) -> Result<(i64, u64), LedgerError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq = Self::insert_event(&tx, event)?;
        let at = now();
        tx.execute(
            "INSERT INTO records (audit_seq, envelope, repo, number, head_sha, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![seq as i64, envelope, repo, number as i64, head_sha, at],
        )?;
        let id = tx.last_insert_rowid();
        for target in targets {
            tx.execute(
                "INSERT INTO outbox (record_id, target, state, updated_at) VALUES (?1, ?2, 'pending', ?3)",
                params![id, target, at],
            )?;
        }
        tx.commit()?;
        Ok((id, seq))
    }

    /// Record a push outcome with its audit entry, atomically. Marking a
    /// pushed item pushed again is a no-op, which makes retries idempotent.
    pub fn record_push(
        &mut self,
        record_id: i64,
        target: &str,
        outcome: Result<&str, &str>,
        event: &AuditEvent,
    ) -> Result<(), LedgerError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state: Option<String> = tx
            .query_row(
                "SELECT state FROM outbox WHERE record_id = ?1 AND target = ?2",
                params![record_id, target],
                |r| r.get(0),
            )
            .optional()?;
        match state.as_deref() {
            None => {
                return Err(LedgerError::Invalid(format!(
                    "record {record_id} has no outbox entry for {target}"
                )))
            }
            Some("pushed") => return Ok(()),
            _ => {}
        }
        Self::insert_event(&tx, event)?;
        match outcome {
            Ok(remote_ref) => tx.execute(
                "UPDATE outbox SET state = 'pushed', attempts = attempts + 1, last_error = NULL, remote_ref = ?3, updated_at = ?4
                 WHERE record_id = ?1 AND target = ?2",
                params![record_id, target, remote_ref, now()],
            )?,
            Err(error) => tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, updated_at = ?4 WHERE record_id = ?1 AND target = ?2",
                params![record_id, target, error, now()],
            )?,
        };
        tx.commit()?;
        Ok(())
    }

    pub fn add_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), LedgerError> {
        let head = hex::decode(&checkpoint.head)
            .ok()
            .filter(|h| h.len() == 32)
            .ok_or_else(|| LedgerError::Invalid("checkpoint head must be 64 hex digits".into()))?;
        self.conn.execute(
            "INSERT OR IGNORE INTO checkpoints (size, head, signed_at, key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![checkpoint.size as i64, head, checkpoint.signed_at, checkpoint.key_id, checkpoint.signature],
        )?;
        Ok(())
    }

    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT size, head, signed_at, key_id, signature FROM checkpoints ORDER BY size, head",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Checkpoint {
                size: r.get::<_, i64>(0)? as u64,
                head: hex::encode(r.get::<_, Vec<u8>>(1)?),
                signed_at: r.get(2)?,
                key_id: r.get(3)?,
                signature: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every entry in storage order (by sequence number).
    pub fn entries(&self) -> Result<Vec<ChainEntry>, LedgerError> {
        let mut out = Vec::new();
        self.for_each_entry(|e| out.push(e))?;
        Ok(out)
    }

    fn for_each_entry(&self, mut f: impl FnMut(ChainEntry)) -> Result<(), LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, bytes, prev_hash, hash FROM audit ORDER BY rowid")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(ChainEntry {
                seq: r.get::<_, i64>(0)? as u64,
                bytes: r.get(1)?,
                prev_hash: blob32(r.get(2)?),
                hash: blob32(r.get(3)?),
            });
        }
        Ok(())
    }

    /// Check the chain and the checkpoints. `Ok(Err(break))` is a trail that
    /// does not hold; `Err` is a ledger that cannot be read.
    pub fn verify(&self) -> Result<Result<(u64, [u8; 32]), Break>, LedgerError> {
        let checkpoints = self.checkpoints()?;
        let wanted: std::collections::HashSet<u64> = checkpoints.iter().map(|c| c.size).collect();
        let mut heads = std::collections::HashMap::new();
        // Streamed: a million entries are checked without holding them all.
        let mut stmt = self
            .conn
            .prepare("SELECT seq, bytes, prev_hash, hash FROM audit ORDER BY seq")?;
        let mut read_error = None;
        let chain = {
            let rows = stmt.query_map([], |r| {
                Ok(ChainEntry {
                    seq: r.get::<_, i64>(0)? as u64,
                    bytes: r.get(1)?,
                    prev_hash: blob32(r.get(2)?),
                    hash: blob32(r.get(3)?),
                })
            })?;
            verify_chain(
                rows.map_while(|r| r.map_err(|e| read_error = Some(e)).ok())
                    .inspect(|e| {
                        if wanted.contains(&e.seq) {
                            heads.insert(e.seq, e.hash);
                        }
                    }),
            )
        };
        if let Some(e) = read_error {
            return Err(e.into());
        }
        Ok(chain.and_then(|(size, head)| {
            check_checkpoints(&checkpoints, size, |n| heads.get(&n).copied()).map(|()| (size, head))
        }))
    }

    /// The trail's hash after `seq` entries (the stored hash of entry
    /// `seq`); meaningful once [`Ledger::verify`] holds.
    pub fn hash_at(&self, seq: u64) -> Result<Option<[u8; 32]>, LedgerError> {
        let hash: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT hash FROM audit WHERE seq = ?1",
                params![seq as i64],
                |r| r.get(0),
            )
            .optional()?;
        Ok(hash.map(blob32))
    }

    pub fn head(&self) -> Result<(u64, [u8; 32]), LedgerError> {
        let last: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(last
            .map(|(s, h)| (s as u64, blob32(h)))
            .unwrap_or((0, GENESIS)))
    }

    /// Audit entries, newest first, optionally only those whose JSON contains `needle`.
    pub fn events(&self, limit: usize) -> Result<Vec<(u64, AuditEvent)>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, bytes FROM audit ORDER BY seq DESC LIMIT ?1")?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, bytes) = row?;
            let event = serde_json::from_slice(&bytes)
                .map_err(|e| LedgerError::Corrupt(format!("entry {seq}: {e}")))?;
            out.push((seq, event));
        }
        Ok(out)
    }

    pub fn records(&self) -> Result<Vec<StoredRecord>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, audit_seq, envelope, repo, number, head_sha, created_at FROM records ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredRecord {
                id: r.get(0)?,
                audit_seq: r.get::<_, i64>(1)? as u64,
                envelope: r.get(2)?,
                repo: r.get(3)?,
                number: r.get::<_, i64>(4)? as u64,
                head_sha: r.get(5)?,
                created_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn outbox(&self) -> Result<Vec<OutboxItem>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT o.record_id, o.target, o.state, o.attempts, o.last_error, o.remote_ref, r.repo, r.number
             FROM outbox o JOIN records r ON r.id = o.record_id ORDER BY o.record_id, o.target",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxItem {
                record_id: r.get(0)?,
                target: r.get(1)?,
                state: if r.get::<_, String>(2)? == "pushed" {
                    PushState::Pushed
                } else {
                    PushState::Pending
                },
                attempts: r.get::<_, i64>(3)? as u32,
                last_error: r.get(4)?,
                remote_ref: r.get(5)?,
                repo: r.get(6)?,
                number: r.get::<_, i64>(7)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `PRAGMA integrity_check`: `ok` or SQLite's list of problems.
    pub fn integrity_check(&self) -> Result<String, LedgerError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Records whose audit entry is missing, and sign entries without a record.
    pub fn orphans(&self) -> Result<(u64, u64), LedgerError> {
        let records_without_entry: i64 = self.conn.query_row(
            "SELECT count(*) FROM records r LEFT JOIN audit a ON a.seq = r.audit_seq WHERE a.seq IS NULL",
            [],
            |r| r.get(0),
        )?;
        let sign_entries_without_record: i64 = self.conn.query_row(
            "SELECT count(*) FROM audit a LEFT JOIN records r ON r.audit_seq = a.seq
             WHERE json_extract(CAST(a.bytes AS TEXT), '$.kind') IN ('sign', 'reject') AND r.id IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok((
            records_without_entry as u64,
            sign_entries_without_record as u64,
        ))
    }

    /// Benchmarks only: append `count` copies of `bytes` in one transaction.
    #[doc(hidden)]
    pub fn bulk_append_for_bench(&mut self, bytes: &[u8], count: u64) -> Result<(), LedgerError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let (mut seq, mut prev) = {
                let last: Option<(i64, Vec<u8>)> = tx
                    .query_row(
                        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                last.map(|(s, h)| (s as u64, blob32(h)))
                    .unwrap_or((0, GENESIS))
            };
            let mut stmt = tx.prepare(
                "INSERT INTO audit (seq, bytes, prev_hash, hash) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for _ in 0..count {
                seq += 1;
                let hash = entry_hash(seq, &prev, bytes);
                stmt.execute(params![seq as i64, bytes, prev.as_slice(), hash.as_slice()])?;
                prev = hash;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// For tests of the append-only triggers: run raw SQL as an attacker with
    /// the file would (they could also edit bytes; see the tamper tests).
    #[doc(hidden)]
    pub fn raw_execute(&self, sql: &str) -> Result<usize, LedgerError> {
        Ok(self.conn.execute(sql, [])?)
    }
}

/// Checkpoints must agree with the trail: same head at their size, no two
/// heads for one size, and none beyond the trail's end.
/// `head_at(n)`: the trail's hash after `n` entries, for `1 ≤ n ≤ size`.
pub(crate) fn check_checkpoints(
    checkpoints: &[Checkpoint],
    size: u64,
    head_at: impl Fn(u64) -> Option<[u8; 32]>,
) -> Result<(), Break> {
    // Forks first: two signed heads for one size mean the trail was rewritten
    // between them, whichever of the two the current trail matches.
    let mut by_size: std::collections::BTreeMap<u64, &str> = std::collections::BTreeMap::new();
    for cp in checkpoints {
        if let Some(other) = by_size.insert(cp.size, &cp.head) {
            if other != cp.head {
                return Err(Break {
                    seq: cp.size,
                    kind: BreakKind::Forked,
                    detail: format!("two checkpoints at size {} with different heads", cp.size),
                });
            }
        }
    }
    for cp in checkpoints {
        if cp.size > size {
            return Err(Break {
                seq: size + 1,
                kind: BreakKind::Truncated,
                detail: format!(
                    "a checkpoint witnessed {} entries, the trail has {size}",
                    cp.size
                ),
            });
        }
        if cp.size > 0 && head_at(cp.size).map(hex::encode).as_deref() != Some(cp.head.as_str()) {
            return Err(Break {
                seq: cp.size,
                kind: BreakKind::CheckpointMismatch,
                detail: format!("the checkpoint at size {} names another head", cp.size),
            });
        }
    }
    Ok(())
}
