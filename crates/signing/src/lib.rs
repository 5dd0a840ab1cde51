//! Countersign's electronic signatures (21 CFR Part 11 §§ 11.50, 11.70, 11.200).
//!
//! A signature is a DSSE envelope around an in-toto Statement whose subjects
//! are the commit, the diff and each evidence file, and whose predicate names
//! the signer, the meaning, the reason and the time. This crate never touches
//! the network: the forge identity and the forge's server time come in as data.
//!
//! The flow, with the types that enforce it:
//! 1. [`ApprovalDraft`] → [`ApprovalRequest::validate`]: a request that cannot be
//!    signed unless complete;
//! 2. [`ApprovalRequest::preview`]: exactly the statement and digest that will be signed;
//! 3. [`reauth::Reauthenticator`] checks the password against the sealed key and
//!    yields a [`reauth::FreshAuth`], bound to the signer and that digest;
//! 4. [`sign`] takes the request and the proof; it cannot be called without one.
//! 5. [`verify::verify_bundle`] checks everything again, for anyone, offline.

pub mod dsse;
pub mod enrolment;
mod error;
pub mod fido2;
pub mod key_event;
pub mod keys;
pub mod manifestation;
pub mod reauth;
mod record;
pub mod statement;
pub mod vault;
pub mod verify;

pub use error::SigningError;
pub use record::{is_format, sign, ApprovalDraft, ApprovalRequest, EvidenceFile, Preview};
pub use statement::Meaning;
