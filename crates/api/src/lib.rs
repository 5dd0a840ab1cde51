//! Countersign's use cases. The desktop shell, the `countersign` CLI and the
//! tests all call this crate and nothing below it, so behaviour is written
//! once and tested without a window.

pub mod accounts;
pub mod admin;
pub mod attention;
pub mod audit;
pub mod audit_witness;
pub mod bundle_check;
mod ci_evidence;
mod commands;
pub mod contract;
pub mod digest;
pub mod dossier;
mod error;
mod error_code;
mod evidence_details;
pub mod fetch_all;
pub mod folders;
pub mod forge_text;
pub mod key_change;
pub mod links;
mod offline;
mod offline_forge;
pub mod os_session;
mod parsed_diff;
pub mod push;
mod queue;
pub mod records_on_forge;
pub mod review;
pub mod security_key;
#[cfg(feature = "software-key")]
pub mod security_key_soft;
#[cfg(feature = "usb")]
pub mod security_key_usb;
mod session;
pub mod settings;
pub mod signatures;
pub mod snapshot;
pub mod stores;
pub mod target;
mod whole_diff;

/// Gitea or Forgejo, for [`ForgeTarget::Gitea`].
pub use countersign_forge::gitea::Flavor;
pub use error::{ApiError, ErrorCode};
pub use folders::default_data_dir;
pub use session::{ForgeTarget, GateReport, LocalStores, Session};
