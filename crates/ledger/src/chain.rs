//! The hash chain, independent of storage: the same function checks the
//! database and an export.

/// The previous hash of entry 1.
pub const GENESIS: [u8; 32] = [0; 32];

/// `SHA-256("countersign-audit-v1" ‖ seq as 8 bytes big-endian ‖ prev ‖ bytes)`.
/// The sequence number is inside the hash, so a reordered or duplicated entry
/// cannot keep a valid chain.
///
/// SHA-256 from `ring`: its assembly is about twice as fast as the portable
/// implementation on CPUs without SHA extensions, which is what keeps a
/// million-entry verification within its time budget on one core.
pub fn entry_hash(seq: u64, prev: &[u8; 32], bytes: &[u8]) -> [u8; 32] {
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    h.update(b"countersign-audit-v1");
    h.update(&seq.to_be_bytes());
    h.update(prev);
    h.update(bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finish().as_ref());
    out
}

/// One stored entry as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    pub seq: u64,
    pub bytes: Vec<u8>,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// The entry's bytes (or its stored hash) were changed.
    Altered,
    /// The entry does not follow the one before it: something was deleted,
    /// inserted or moved between them.
    Unlinked,
    /// Sequence numbers skip, repeat or go backwards.
    Sequence,
    /// The trail is shorter than a checkpoint says it was.
    Truncated,
    /// A checkpoint's head is not the trail's hash at that size.
    CheckpointMismatch,
    /// Two checkpoints claim the same size with different heads.
    Forked,
}

/// The first place the trail does not hold, precisely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub seq: u64,
    pub kind: BreakKind,
    pub detail: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "entry {}: {:?}: {}", self.seq, self.kind, self.detail)
    }
}

/// Walk entries in stored order. Returns the head (size, hash) or the first break.
pub fn verify_chain<I>(entries: I) -> Result<(u64, [u8; 32]), Break>
where
    I: IntoIterator<Item = ChainEntry>,
{
    let mut expected_seq = 1u64;
    let mut prev = GENESIS;
    for e in entries {
        if e.seq != expected_seq {
            let what = if e.seq > expected_seq {
                format!(
                    "expected entry {expected_seq} next, found {}: entries are missing",
                    e.seq
                )
            } else {
                format!(
                    "expected entry {expected_seq} next, found {} again or out of order",
                    e.seq
                )
            };
            return Err(Break {
                seq: expected_seq,
                kind: BreakKind::Sequence,
                detail: what,
            });
        }
        if e.prev_hash != prev {
            return Err(Break {
                seq: e.seq,
                kind: BreakKind::Unlinked,
                detail: "its link does not match the entry before it".into(),
            });
        }
        if entry_hash(e.seq, &e.prev_hash, &e.bytes) != e.hash {
            return Err(Break {
                seq: e.seq,
                kind: BreakKind::Altered,
                detail: "its content does not match its hash".into(),
            });
        }
        prev = e.hash;
        expected_seq += 1;
    }
    Ok((expected_seq - 1, prev))
}
