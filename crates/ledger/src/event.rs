use serde::{Deserialize, Serialize};

/// What happened. The list covers what Part 11 and Annex 11 ask a trail to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Enrolment,
    KeyRotation,
    KeyRevocation,
    AuthSucceeded,
    AuthFailed,
    Lockout,
    SessionEnded,
    Sign,
    Reject,
    Revoke,
    Push,
    PushFailed,
    PolicySeen,
    Sync,
    Export,
    SettingsChange,
    Checkpoint,
    /// The signing key re-sealed under a new password (the key is unchanged).
    PasswordChange,
}

impl EventKind {
    /// The name used in the stored JSON and in filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrolment => "enrolment",
            Self::KeyRotation => "key_rotation",
            Self::KeyRevocation => "key_revocation",
            Self::AuthSucceeded => "auth_succeeded",
            Self::AuthFailed => "auth_failed",
            Self::Lockout => "lockout",
            Self::SessionEnded => "session_ended",
            Self::Sign => "sign",
            Self::Reject => "reject",
            Self::Revoke => "revoke",
            Self::Push => "push",
            Self::PushFailed => "push_failed",
            Self::PolicySeen => "policy_seen",
            Self::Sync => "sync",
            Self::Export => "export",
            Self::SettingsChange => "settings_change",
            Self::Checkpoint => "checkpoint",
            Self::PasswordChange => "password_change",
        }
    }
}

/// One audit entry, as the caller describes it. The ledger adds the sequence
/// number and the chain; the bytes stored are this serialized once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub kind: EventKind,
    /// Who: `host/user-id/login` of the forge identity, or `system`.
    pub actor: String,
    /// When, UTC, RFC 3339 with the local offset kept alongside.
    pub at_utc: String,
    pub local_offset: String,
    /// The forge's server time when known (from the last response's Date header).
    pub forge_time: Option<String>,
    /// Which object: e.g. `acme/pump#42@3e66…`, `key:ab12…`, `setting:idle_timeout`.
    pub object: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    /// Required for signatures, rejections, revocations and policy changes (Annex 11 §9).
    pub reason: Option<String>,
    /// Free detail for people reading the trail.
    pub detail: Option<String>,
    /// The actor's printed name when the event is theirs and it is known
    /// (enrolment, signatures): renderings show it instead of a bare login.
    /// Absent from entries written before it existed, which keep their hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed_name: Option<String>,
}

impl AuditEvent {
    /// An event happening now on this machine.
    pub fn now(kind: EventKind, actor: impl Into<String>, object: impl Into<String>) -> Self {
        let local = chrono::Local::now();
        Self {
            kind,
            actor: actor.into(),
            at_utc: local
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            local_offset: local.offset().to_string(),
            forge_time: None,
            object: object.into(),
            old_value: None,
            new_value: None,
            reason: None,
            detail: None,
            printed_name: None,
        }
    }

    pub fn printed_name(mut self, name: impl Into<String>) -> Self {
        self.printed_name = Some(name.into());
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn change(mut self, old: Option<String>, new: Option<String>) -> Self {
        self.old_value = old;
        self.new_value = new;
        self
    }

    pub(crate) fn needs_reason(&self) -> bool {
        matches!(
            self.kind,
            EventKind::Sign | EventKind::Reject | EventKind::Revoke | EventKind::KeyRevocation
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_stored_form() {
        for kind in [
            EventKind::Sign,
            EventKind::AuthFailed,
            EventKind::KeyRevocation,
            EventKind::SettingsChange,
            EventKind::PasswordChange,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
