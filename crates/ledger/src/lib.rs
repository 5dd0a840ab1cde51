//! The local ledger (21 CFR 11.10(e)): a secure, computer-generated,
//! time-stamped audit trail that never hides earlier entries, the signed
//! records exactly as signed, and the outbox that carries them to the forge.
//!
//! - Append-only: triggers abort UPDATE and DELETE; the API has no way to
//!   rewrite an entry.
//! - Hash chain: entry *n* stores `H(n) = SHA-256("countersign-audit-v1" ‖ n ‖ H(n-1) ‖ bytes(n))`
//!   over its exact stored bytes, so any change, deletion, insertion,
//!   reordering or duplication breaks the chain at a precise place.
//! - Checkpoints (size, head) signed by the user's key witness the trail's
//!   length, which is what makes truncation detectable.
//! - Durability: WAL with `synchronous=FULL`; a record and its audit entry are
//!   written in one transaction, and acknowledged only after it commits.
//!
//! The ledger never talks to the forge: pushing is the caller's job; the
//! ledger only remembers what is waiting and what was acknowledged.

pub mod cache;
mod chain;
mod error;
mod event;
mod export;
mod store;

pub use chain::{entry_hash, verify_chain, Break, BreakKind, ChainEntry, GENESIS};
pub use error::LedgerError;
pub use event::{AuditEvent, EventKind};
pub use export::{export, html_report, printed_names, verify_export, Export, ExportedCheckpoint};
pub use store::{Checkpoint, Ledger, OutboxItem, PushState, StoredRecord};
