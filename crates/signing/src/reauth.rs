//! Re-authentication at the moment of signing (11.200(a)(1), 11.300(d)).
//!
//! Two components: the forge identity (the token's user, fetched from the
//! forge by the caller) and the signing password that unseals the key. The
//! first signing of a continuous session needs both; later ones need the
//! password. Repeated failures lock signing for a while. Every outcome is
//! returned as an [`AuthEvent`] for the audit trail.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use countersign_secret::Secret;

use crate::keys::{PublicKey, SignerKey};
use crate::vault::{unseal, SealedKey};
use crate::SigningError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReauthPolicy {
    /// A session ends after this long without a signing.
    pub idle_timeout: Duration,
    /// Failures within `failure_window` that trigger a lockout.
    pub max_failures: u32,
    pub failure_window: Duration,
    pub lockout: Duration,
}

impl Default for ReauthPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::minutes(15),
            max_failures: 3,
            failure_window: Duration::minutes(15),
            lockout: Duration::minutes(15),
        }
    }
}

/// The signer as the forge knows them, fetched with the signer's own token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub host: String,
    pub user_id: u64,
    pub login: String,
}

/// What happened, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthEvent {
    Succeeded {
        user_id: u64,
        first_in_session: bool,
    },
    Failed {
        user_id: u64,
        reason: String,
        failures_in_window: u32,
    },
    LockedOut {
        user_id: u64,
        until: DateTime<Utc>,
    },
    RefusedWhileLocked {
        user_id: u64,
        until: DateTime<Utc>,
    },
    SessionEnded {
        user_id: u64,
        why: String,
    },
}

/// Proof that this signer re-authenticated for this record just now. Only
/// [`Reauthenticator`] can make one; it carries the unsealed key, so signing
/// without it is impossible rather than merely forbidden.
pub struct FreshAuth {
    user_id: u64,
    digest: [u8; 32],
    key: SignerKey,
}

impl FreshAuth {
    pub(crate) fn covers(&self, user_id: u64, key: &PublicKey, digest: &[u8; 32]) -> bool {
        self.user_id == user_id && &self.key.public() == key && &self.digest == digest
    }

    pub(crate) fn key(&self) -> &SignerKey {
        &self.key
    }

    #[cfg(test)]
    pub(crate) fn for_test(user_id: u64, digest: [u8; 32], key: SignerKey) -> Self {
        Self {
            user_id,
            digest,
            key,
        }
    }
}

impl std::fmt::Debug for FreshAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FreshAuth(user {}, record {})",
            self.user_id,
            hex::encode(&self.digest[..8])
        )
    }
}

#[derive(Debug, Default)]
struct SignerState {
    failures: Vec<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
    session_last_used: Option<DateTime<Utc>>,
}

/// Re-authentication state for this app instance. A restart makes a new one,
/// which is how "app restart ends the session" holds.
#[derive(Debug, Default)]
pub struct Reauthenticator {
    policy: ReauthPolicy,
    signers: HashMap<u64, SignerState>,
}

impl Reauthenticator {
    pub fn new(policy: ReauthPolicy) -> Self {
        Self {
            policy,
            signers: HashMap::new(),
        }
    }

    /// The session and lockout settings of the policy that governs the change
    /// being signed; state already gathered (failures, sessions) is kept.
    pub fn set_policy(&mut self, policy: ReauthPolicy) {
        self.policy = policy;
    }

    /// Restore failures and a lockout recorded in the audit trail, so that a
    /// restart (or a new CLI process) does not reset the count.
    pub fn restore(
        &mut self,
        user_id: u64,
        failures: Vec<DateTime<Utc>>,
        locked_until: Option<DateTime<Utc>>,
    ) {
        let state = self.signers.entry(user_id).or_default();
        state.failures = failures;
        state.locked_until = locked_until;
    }

    /// The failures in the window and the lockout of `user_id`, to keep
    /// beside the sealed key so that no local file resets them.
    pub fn attempts(&self, user_id: u64) -> (Vec<DateTime<Utc>>, Option<DateTime<Utc>>) {
        self.signers
            .get(&user_id)
            .map(|s| (s.failures.clone(), s.locked_until))
            .unwrap_or_default()
    }

    /// Whether the next signing by `user_id` needs the forge identity again.
    pub fn needs_identity(&self, user_id: u64, now: DateTime<Utc>) -> bool {
        !self.session_alive(user_id, now)
    }

    pub fn locked_until(&self, user_id: u64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.signers
            .get(&user_id)
            .and_then(|s| s.locked_until)
            .filter(|t| *t > now)
    }

    fn session_alive(&self, user_id: u64, now: DateTime<Utc>) -> bool {
        self.signers
            .get(&user_id)
            .and_then(|s| s.session_last_used)
            .is_some_and(|t| now - t < self.policy.idle_timeout)
    }

    /// When `user_id`'s continuous signing session ends if it is not used
    /// again (`None`: there is none; the next signing asks for everything).
    pub fn session_ends_at(&self, user_id: u64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.signers
            .get(&user_id)
            .and_then(|s| s.session_last_used)
            .map(|t| t + self.policy.idle_timeout)
            .filter(|end| *end > now)
    }

    /// End every session: the OS was locked or suspended, or the user signed out.
    pub fn end_sessions(&mut self, why: &str) -> Vec<AuthEvent> {
        let mut events = Vec::new();
        for (user_id, state) in &mut self.signers {
            if state.session_last_used.take().is_some() {
                events.push(AuthEvent::SessionEnded {
                    user_id: *user_id,
                    why: why.to_owned(),
                });
            }
        }
        events
    }

    /// Re-authenticate `signer_user_id` with the signing password for the
    /// record whose preview digest is `digest`. `identity` is required when no
    /// session is alive. Returns the proof, and the events to append to the trail.
    pub fn with_password(
        &mut self,
        now: DateTime<Utc>,
        identity: Option<&VerifiedIdentity>,
        signer_user_id: u64,
        sealed: &SealedKey,
        password: &Secret<String>,
        digest: [u8; 32],
    ) -> (Result<FreshAuth, SigningError>, Vec<AuthEvent>) {
        let policy = self.policy;
        let first_in_session = !self.session_alive(signer_user_id, now);
        let state = self.signers.entry(signer_user_id).or_default();
        if let Some(until) = state.locked_until.filter(|t| *t > now) {
            let failures = state.failures.len() as u32;
            return (
                Err(SigningError::LockedOut { until, failures }),
                vec![AuthEvent::RefusedWhileLocked {
                    user_id: signer_user_id,
                    until,
                }],
            );
        }
        let identity_problem = if first_in_session {
            match identity {
                None => Some(
                    "the forge identity must be verified for the first signing of a session"
                        .to_owned(),
                ),
                Some(id) if id.user_id != signer_user_id => Some(format!(
                    "the forge account (user {}) is not the signer (user {signer_user_id})",
                    id.user_id
                )),
                Some(_) => None,
            }
        } else {
            None
        };
        let outcome = match identity_problem {
            Some(problem) => Err(SigningError::Invalid(problem)),
            None => unseal(sealed, password),
        };
        match outcome {
            Ok(key) => {
                state.failures.clear();
                state.locked_until = None;
                state.session_last_used = Some(now);
                let events = vec![AuthEvent::Succeeded {
                    user_id: signer_user_id,
                    first_in_session,
                }];
                (
                    Ok(FreshAuth {
                        user_id: signer_user_id,
                        digest,
                        key,
                    }),
                    events,
                )
            }
            Err(e) => {
                let events = self.record_failure(now, signer_user_id, &e.to_string());
                match events.iter().find_map(|ev| match ev {
                    AuthEvent::LockedOut { until, .. } => Some(*until),
                    _ => None,
                }) {
                    Some(until) => (
                        Err(SigningError::LockedOut {
                            until,
                            failures: policy.max_failures,
                        }),
                        events,
                    ),
                    None => (Err(e), events),
                }
            }
        }
    }

    /// A failed attempt, whichever factor failed (a wrong password, or a
    /// security key's wrong PIN, missing touch or bad assertion): it counts
    /// toward the lockout and ends the session, so the next try needs every
    /// component.
    pub fn record_failure(
        &mut self,
        now: DateTime<Utc>,
        signer_user_id: u64,
        reason: &str,
    ) -> Vec<AuthEvent> {
        let policy = self.policy;
        let state = self.signers.entry(signer_user_id).or_default();
        state.failures.retain(|t| now - *t < policy.failure_window);
        state.failures.push(now);
        state.session_last_used = None;
        let failures_in_window = state.failures.len() as u32;
        let mut events = vec![AuthEvent::Failed {
            user_id: signer_user_id,
            reason: reason.to_owned(),
            failures_in_window,
        }];
        if failures_in_window >= policy.max_failures {
            let until = now + policy.lockout;
            state.locked_until = Some(until);
            events.push(AuthEvent::LockedOut {
                user_id: signer_user_id,
                until,
            });
        }
        events
    }
}
