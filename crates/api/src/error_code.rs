//! Every error code that crosses IPC or leaves the CLI, declared once with
//! what it means. `docs/errors.md` and the TypeScript `ErrorCode` union and
//! `ErrorCodes` constants are generated from this list, so the window matches
//! on names the compiler checks, never on string literals.

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])+ $variant:ident = $wire:literal, )*) => {
        /// A stable machine-readable error code (`forge.unreachable`, …).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[doc = $doc])+ $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),*];

            /// The wire name, e.g. `forge.unreachable`.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)* }
            }

            /// The name of the constant in TypeScript's `ErrorCodes`.
            pub fn constant(self) -> &'static str {
                match self { $(Self::$variant => stringify!($variant),)* }
            }

            /// What the code means, for `docs/errors.md`.
            pub fn meaning(self) -> &'static str {
                match self { $(Self::$variant => concat!($($doc),+),)* }
            }

            /// The code with this wire name, if there is one.
            pub fn from_wire(wire: &str) -> Option<Self> {
                match wire { $($wire => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    /// No device sign-in was started: start signing in with the forge first.
    AccountsNoDeviceFlow = "accounts.no_device_flow",
    /// The signer is already a member of that role in the policy text.
    AdminAlreadyInRole = "admin.already_in_role",
    /// The pasted enrolment record is not a readable enrolment record.
    AdminBadEnrolmentRecord = "admin.bad_enrolment_record",
    /// The policy has no role of that name.
    AdminUnknownRole = "admin.unknown_role",
    /// An audit export cannot be read or does not verify as an export.
    AuditBadExport = "audit.bad_export",
    /// The encrypted offline cache cannot be opened.
    CacheUnavailable = "cache.unavailable",
    /// The link is not a web address (https: or http:, no credentials in it): it is not opened.
    LinkRefused = "link.refused",
    /// This build cannot hand links to the system browser.
    LinkUnavailable = "link.unavailable",
    /// An evidence file is not what its name says (unreadable XML, JSON, LCOV).
    EvidenceMalformed = "evidence.malformed",
    /// An evidence archive or file is over the limits (size, count, ratio).
    EvidenceTooLarge = "evidence.too_large",
    /// An evidence archive entry would escape its folder or is not a plain file.
    EvidenceUnsafeEntry = "evidence.unsafe_entry",
    /// The forge refused a write because its state moved (e.g. a ref changed underneath).
    ForgeConflict = "forge.conflict",
    /// The forge answered something its published API contract does not allow.
    ForgeContractViolation = "forge.contract_violation",
    /// The forge credential lacks the permission for this.
    ForgeForbidden = "forge.forbidden",
    /// The forge answered an unexpected HTTP status.
    ForgeHttpStatus = "forge.http_status",
    /// A repository, URL or other forge input is not valid.
    ForgeInvalidInput = "forge.invalid_input",
    /// The repository, change request or file does not exist (or is hidden from this credential).
    ForgeNotFound = "forge.not_found",
    /// No forge credential is configured for this forge.
    ForgeNotSignedIn = "forge.not_signed_in",
    /// The forge's rate limit is exhausted; the message says until when.
    ForgeRateLimited = "forge.rate_limited",
    /// What the forge sent is over a limit (diff, artifact).
    ForgeTooLarge = "forge.too_large",
    /// The forge refused the credential: sign in again.
    ForgeUnauthorized = "forge.unauthorized",
    /// The forge cannot be reached (network, DNS, TLS, timeout).
    ForgeUnreachable = "forge.unreachable",
    /// A bug or an impossible state: the message has the details.
    Internal = "internal",
    /// The request from the window or the command line is not valid.
    InvalidInput = "invalid_input",
    /// A local file could not be read or written.
    Io = "io",
    /// The window could not reach the app (set by the UI's transport, never by the app).
    Ipc = "ipc",
    /// The OS keychain failed in another way.
    KeychainError = "keychain.error",
    /// The OS keychain is locked: unlock it and try again.
    KeychainLocked = "keychain.locked",
    /// No OS keychain (Secret Service) is available.
    KeychainUnavailable = "keychain.unavailable",
    /// Something tried to change or delete an entry of the append-only trail.
    LedgerAppendOnly = "ledger.append_only",
    /// The ledger file is damaged.
    LedgerCorrupt = "ledger.corrupt",
    /// The disk holding the ledger is full.
    LedgerDiskFull = "ledger.disk_full",
    /// A value given to the ledger is not valid.
    LedgerInvalid = "ledger.invalid",
    /// Another process holds the ledger.
    LedgerLocked = "ledger.locked",
    /// The ledger named does not exist.
    LedgerNotFound = "ledger.not_found",
    /// The ledger is on a read-only file system.
    LedgerReadOnly = "ledger.read_only",
    /// SQLite failed in another way.
    LedgerSqlite = "ledger.sqlite",
    /// The ledger's folder cannot be created.
    LedgerUnavailable = "ledger.unavailable",
    /// The policy text does not parse or validate (line and column in the message).
    PolicyInvalid = "policy.invalid",
    /// There is nothing signed to push.
    PushNoRecords = "push.no_records",
    /// The records on the forge are not a readable bundle.
    RecordsMalformed = "records.malformed",
    /// The sandbox forge did not take a roster change.
    SandboxRoster = "sandbox.roster",
    /// The sandbox forge could not start.
    SandboxStartFailed = "sandbox.start_failed",
    /// The settings file cannot be read or is damaged.
    SettingsUnreadable = "settings.unreadable",
    /// The settings file cannot be written.
    SettingsUnwritable = "settings.unwritable",
    /// Enrolment needs the signer's acknowledgement that the signature is binding.
    SigningAcknowledgementRequired = "signing.acknowledgement_required",
    /// This forge identity already has a signing key on this device.
    SigningAlreadyEnrolled = "signing.already_enrolled",
    /// The sealed key or enrolment in the keychain is damaged or not this signer's.
    SigningBadKey = "signing.bad_key",
    /// The signing password is wrong (counts toward lockout).
    SigningBadPassword = "signing.bad_password",
    /// The signing password is older than the policy allows (`password_max_age_days`): change it, then sign.
    SigningPasswordExpired = "signing.password_expired",
    /// The change request changed between preview and signing.
    SigningChangedSincePreview = "signing.changed_since_preview",
    /// Evidence of the change was refused (unsafe or malformed): it cannot be signed until CI produces readable evidence.
    SigningEvidenceRefused = "signing.evidence_refused",
    /// The forge did not deliver the whole change (files past its cap, patches that cannot be rebuilt): it cannot be signed.
    SigningIncompleteChange = "signing.incomplete_change",
    /// The preview is older than five minutes, or not this session's: preview again.
    SigningPreviewExpired = "signing.preview_expired",
    /// The signature request is incomplete or not allowed (meaning, reason, name).
    SigningInvalidRequest = "signing.invalid_request",
    /// The keychain failed while signing.
    SigningKeychain = "signing.keychain",
    /// Too many failed re-authentications: signing is locked until the time given.
    SigningLockedOut = "signing.locked_out",
    /// No security key is registered for this signer.
    SigningNoSecurityKey = "signing.no_security_key",
    /// This build cannot reach a security key.
    SigningNoSecurityKeyReader = "signing.no_security_key_reader",
    /// This device has no signing key for the forge identity: enrol first.
    SigningNotEnrolled = "signing.not_enrolled",
    /// The policy at the base would refuse this signature (role, meaning, separation of duties): it is not made.
    SigningRefusedByPolicy = "signing.refused_by_policy",
    /// The policy requires this signer's registered security key for the role: sign with it.
    SigningSecurityKeyRequired = "signing.security_key_required",
    /// Signing needs a fresh re-authentication.
    SigningReauthRequired = "signing.reauth_required",
    /// The security key refused, timed out or gave an assertion that does not check.
    SigningSecurityKey = "signing.security_key",
    /// The file given to `verify --bundle` is not a bundle or envelope.
    VerifyBadBundle = "verify.bad_bundle",
    /// The file given to `verify --keys` is not a list of enrolment records.
    VerifyBadKeys = "verify.bad_keys",
}

impl ErrorCode {
    /// The code a domain crate's error names; `internal` for a name this list
    /// lacks (a test keeps the domain crates' names and this list in step).
    pub fn of(wire: &str) -> Self {
        Self::from_wire(wire).unwrap_or(Self::Internal)
    }

    /// `docs/errors.md`.
    pub fn markdown() -> String {
        let mut out = String::from(
            "# Error codes\n\n\
             Generated from `crates/api/src/error_code.rs` by `UPDATE_CONTRACT=1 cargo test -p countersign-api`; do not edit.\n\n\
             Every error the app, the window and the `countersign` CLI report carries one of these stable codes \
             with a message for people. The window matches on `ErrorCodes` in `ui/src/ipc/contract.ts`.\n\n\
             | Code | Meaning |\n|---|---|\n",
        );
        for c in Self::ALL {
            out.push_str(&format!("| `{}` | {} |\n", c.as_str(), c.meaning().trim()));
        }
        out
    }

    /// The TypeScript union and constants.
    pub fn typescript() -> String {
        let union: Vec<String> = Self::ALL
            .iter()
            .map(|c| format!("\"{}\"", c.as_str()))
            .collect();
        let mut out = format!("export type ErrorCode = {};\n\n", union.join(" | "));
        out.push_str("export const ErrorCodes = {\n");
        for c in Self::ALL {
            out.push_str(&format!("  {}: \"{}\",\n", c.constant(), c.as_str()));
        }
        out.push_str("} as const satisfies Record<string, ErrorCode>;\n");
        out
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = String::deserialize(d)?;
        Self::from_wire(&wire)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {wire:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// The wire names the domain crates' `code()` functions can return.
    fn domain_codes() -> Vec<String> {
        let sources = [
            include_str!("../../evidence/src/error.rs"),
            include_str!("../../forge/src/error.rs"),
            include_str!("../../keychain/src/lib.rs"),
            include_str!("../../ledger/src/error.rs"),
            include_str!("../../signing/src/error.rs"),
        ];
        let mut codes = Vec::new();
        for source in sources {
            let start = source
                .find("pub fn code(&self)")
                .expect("a code() function");
            let body = &source[start..];
            let body = &body[..body.find("\n    }\n").expect("end of code()")];
            let mut rest = body;
            while let Some(open) = rest.find('"') {
                let after = &rest[open + 1..];
                let close = after.find('"').expect("closing quote");
                codes.push(after[..close].to_owned());
                rest = &after[close + 1..];
            }
        }
        codes
    }

    #[test]
    fn every_domain_code_is_registered() {
        let codes = domain_codes();
        assert!(codes.len() > 25, "{codes:?}");
        for code in codes {
            assert!(
                ErrorCode::from_wire(&code).is_some(),
                "{code} is not in crates/api/src/error_code.rs"
            );
        }
    }

    #[test]
    fn wire_names_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert_eq!(ErrorCode::from_wire(c.as_str()), Some(*c));
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *c);
            assert!(!c.meaning().trim().is_empty());
        }
        assert!(serde_json::from_str::<ErrorCode>("\"no.such\"").is_err());
    }
}
