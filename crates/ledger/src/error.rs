/// Why a ledger operation failed. Nothing is acknowledged unless it committed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The disk is full: nothing was written.
    #[error("the disk is full: nothing was recorded ({0})")]
    DiskFull(String),
    /// The database or its folder is read-only.
    #[error("the ledger is read-only: nothing was recorded ({0})")]
    ReadOnly(String),
    /// Another process holds the database.
    #[error("the ledger is locked by another process: nothing was recorded ({0})")]
    Locked(String),
    /// The file is not a ledger, or it is damaged.
    #[error("the ledger file is damaged or not a Countersign ledger: {0}")]
    Corrupt(String),
    /// An attempt to change history, refused by the database itself.
    #[error("the audit trail is append-only: {0}")]
    AppendOnly(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("SQLite: {0}")]
    Sqlite(String),
}

impl LedgerError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::DiskFull(_) => "ledger.disk_full",
            Self::ReadOnly(_) => "ledger.read_only",
            Self::Locked(_) => "ledger.locked",
            Self::Corrupt(_) => "ledger.corrupt",
            Self::AppendOnly(_) => "ledger.append_only",
            Self::Invalid(_) => "ledger.invalid",
            Self::Sqlite(_) => "ledger.sqlite",
        }
    }
}

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        let text = e.to_string();
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Self::DiskFull(text),
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::CannotOpen)
                if text.contains("readonly") || text.contains("read-only") =>
            {
                Self::ReadOnly(text)
            }
            Some(ErrorCode::ReadOnly) => Self::ReadOnly(text),
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Self::Locked(text),
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => Self::Corrupt(text),
            Some(ErrorCode::ConstraintViolation) if text.contains("append-only") => {
                Self::AppendOnly(text)
            }
            _ if text.contains("append-only") => Self::AppendOnly(text),
            _ => Self::Sqlite(text),
        }
    }
}
