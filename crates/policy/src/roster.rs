//! Administration of the roster: a signer's exported enrolment record added
//! to a role, editing the policy text in place so that comments and layout
//! survive the review of the change that proposes it.

use serde::Deserialize;
use toml_edit::{value, ArrayOfTables, DocumentMut, Item, Table};

use crate::parse::{parse, PolicyError};

/// The public enrolment record a signer exports (`countersign enrol --out`,
/// or the app's enrolment screen). Only these fields are read.
#[derive(Debug, Clone, Deserialize)]
pub struct EnrolmentRecord {
    pub printed_name: String,
    pub forge: EnrolmentForge,
    pub public_key: String,
    pub valid_from: String,
    #[serde(default)]
    pub security_keys: Vec<countersign_signing::fido2::SecurityKey>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnrolmentForge {
    pub host: String,
    pub user_id: u64,
    pub login: String,
}

/// Why a signer cannot be added to the roster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// The enrolment record (JSON exported by `countersign enrol`) does not parse or verify.
    #[error("the enrolment record is not readable: {0}")]
    BadRecord(String),
    /// The policy, before or after the edit, does not validate.
    #[error("{0}")]
    Policy(#[from] PolicyError),
    /// The policy names no such role.
    #[error("the policy has no role {0:?}")]
    UnknownRole(String),
    /// That key is already in that role.
    #[error("key {0} is already in role {1:?}")]
    AlreadyThere(String, String),
    /// The policy file's layout cannot be edited in place (e.g. inline tables).
    #[error("the policy text cannot be edited: {0}")]
    NotEditable(String),
    /// No member of any role holds that key.
    #[error("no member of the roster holds the key {0}")]
    KeyNotFound(String),
    /// The key is already revoked or has already ended.
    #[error("the key {0} already ends at {1}")]
    AlreadyEnded(String, String),
}

/// Whose key a revocation or rotation ended, as the roster names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub printed_name: String,
    pub forge: String,
    pub user_id: u64,
    pub login: String,
    /// The roles the key was listed in.
    pub roles: Vec<String>,
}

/// How a key ends: revoked (`revoked_at`: what it signed from then on is
/// invalid), or rotated out (`valid_until`: it stops counting then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEnd {
    Revoked,
    RotatedOut,
}

/// End the key `public_key` (base64) at `at` (RFC 3339) in every role that
/// lists it; with `successor` (an enrolment record), the holder's new key
/// joins each of those memberships. The result is validated as a whole.
pub fn end_key(
    policy_text: &str,
    public_key: &str,
    at: &str,
    end: KeyEnd,
    successor: Option<&str>,
) -> Result<(String, KeyHolder), RosterError> {
    let successor: Option<EnrolmentRecord> = successor
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| RosterError::BadRecord(e.to_string()))?;
    let mut doc = editable(policy_text)?;
    let roles = doc
        .get_mut("roles")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| RosterError::KeyNotFound(public_key.to_owned()))?;
    let mut holder: Option<KeyHolder> = None;
    for role in roles.iter_mut() {
        let role_name = role
            .get("name")
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_owned();
        let Some(members) = role
            .get_mut("members")
            .and_then(Item::as_array_of_tables_mut)
        else {
            continue;
        };
        for member in members.iter_mut() {
            let field = |name: &str| {
                member
                    .get(name)
                    .and_then(Item::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let (forge, login, printed_name) =
                (field("forge"), field("login"), field("printed_name"));
            let user_id = member
                .get("user_id")
                .and_then(Item::as_integer)
                .and_then(|i| u64::try_from(i).ok())
                .unwrap_or_default();
            let Some(keys) = member
                .get_mut("keys")
                .and_then(Item::as_array_of_tables_mut)
            else {
                continue;
            };
            let Some(key) = keys
                .iter_mut()
                .find(|k| k.get("public_key").and_then(Item::as_str) == Some(public_key))
            else {
                continue;
            };
            for ended in ["revoked_at", "valid_until"] {
                if let Some(when) = key.get(ended).and_then(Item::as_str) {
                    return Err(RosterError::AlreadyEnded(
                        public_key.to_owned(),
                        when.to_owned(),
                    ));
                }
            }
            let field_name = match end {
                KeyEnd::Revoked => "revoked_at",
                KeyEnd::RotatedOut => "valid_until",
            };
            key.insert(field_name, value(at));
            if let Some(next) = &successor {
                if next.forge.user_id != user_id || next.forge.host != forge {
                    return Err(RosterError::BadRecord(format!(
                        "the new key is enrolled by {} (user {}), not by the key's holder {printed_name} (user {user_id})",
                        next.printed_name, next.forge.user_id
                    )));
                }
                let mut new_key = Table::new();
                new_key.insert("public_key", value(next.public_key.clone()));
                new_key.insert("valid_from", value(next.valid_from.clone()));
                keys.push(new_key);
            }
            let h = holder.get_or_insert_with(|| KeyHolder {
                printed_name,
                forge,
                user_id,
                login,
                roles: Vec::new(),
            });
            h.roles.push(role_name.clone());
        }
    }
    let holder = holder.ok_or_else(|| RosterError::KeyNotFound(public_key.to_owned()))?;
    let text = doc.to_string();
    parse(&text)?;
    Ok((text, holder))
}

fn not_editable(what: &str) -> RosterError {
    RosterError::NotEditable(what.to_owned())
}

/// The policy text as a document to edit in place. What parse() would
/// refuse is refused first, with its line and column.
fn editable(policy_text: &str) -> Result<DocumentMut, RosterError> {
    parse(policy_text)?;
    policy_text
        .parse()
        .map_err(|e: toml_edit::TomlError| not_editable(&e.to_string()))
}

/// Add the signer of `record_json` to `role`: as a new member, or with a new
/// key when they are already one. The result is validated as a whole.
pub fn add_member(policy_text: &str, role: &str, record_json: &str) -> Result<String, RosterError> {
    let record: EnrolmentRecord =
        serde_json::from_str(record_json).map_err(|e| RosterError::BadRecord(e.to_string()))?;
    let mut doc = editable(policy_text)?;
    let roles = doc
        .get_mut("roles")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| RosterError::UnknownRole(role.to_owned()))?;
    let target = roles
        .iter_mut()
        .find(|t| t.get("name").and_then(Item::as_str) == Some(role))
        .ok_or_else(|| RosterError::UnknownRole(role.to_owned()))?;

    let mut key = Table::new();
    key.insert("public_key", value(record.public_key.clone()));
    key.insert("valid_from", value(record.valid_from.clone()));
    let cose_of = |sk: &countersign_signing::fido2::SecurityKey| {
        serde_json::to_vec(&sk.public_key)
            .map(|cose| {
                base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, cose)
            })
            .map_err(|e| RosterError::BadRecord(e.to_string()))
    };
    // The first security key as the pair older policies know; backups after it.
    if let Some(sk) = record.security_keys.first() {
        key.insert("fido2_credential_id", value(sk.credential_id.clone()));
        key.insert("fido2_public_key", value(cose_of(sk)?));
    }
    if record.security_keys.len() > 1 {
        let mut backups = toml_edit::Array::new();
        for sk in &record.security_keys[1..] {
            let mut t = toml_edit::InlineTable::new();
            t.insert("credential_id", sk.credential_id.clone().into());
            t.insert("public_key", cose_of(sk)?.into());
            backups.push(t);
        }
        key.insert("fido2", value(backups));
    }

    if target.get("members").is_none() {
        target.insert("members", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let members = target
        .get_mut("members")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| not_editable("members is not an array of tables"))?;
    let existing = members.iter_mut().find(|m| {
        m.get("user_id").and_then(Item::as_integer) == i64::try_from(record.forge.user_id).ok()
            && m.get("forge").and_then(Item::as_str) == Some(record.forge.host.as_str())
    });
    match existing {
        Some(member) => {
            if member.get("keys").is_none() {
                member.insert("keys", Item::ArrayOfTables(ArrayOfTables::new()));
            }
            let keys = member
                .get_mut("keys")
                .and_then(Item::as_array_of_tables_mut)
                .ok_or_else(|| not_editable("keys is not an array of tables"))?;
            if keys.iter().any(|k| {
                k.get("public_key").and_then(Item::as_str) == Some(record.public_key.as_str())
            }) {
                return Err(RosterError::AlreadyThere(
                    record.public_key,
                    role.to_owned(),
                ));
            }
            keys.push(key);
        }
        None => {
            let mut member = Table::new();
            member.insert("forge", value(record.forge.host.clone()));
            member.insert(
                "user_id",
                value(i64::try_from(record.forge.user_id).unwrap_or(i64::MAX)),
            );
            member.insert("login", value(record.forge.login.clone()));
            member.insert("printed_name", value(record.printed_name.clone()));
            let mut keys = ArrayOfTables::new();
            keys.push(key);
            member.insert("keys", Item::ArrayOfTables(keys));
            members.push(member);
        }
    }
    let text = doc.to_string();
    parse(&text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "# our policy\nversion = 1\n\n[[roles]]\nname = \"qa\" # quality\n\n[[roles.members]]\nforge = \"github.com\"\nuser_id = 5002\nlogin = \"bob-qa\"\nprinted_name = \"Bob Okafor\"\n\n[[roles]]\nname = \"clinical-safety\"\n\n[[rules]]\nname = \"all\"\nrequire = [{ role = \"qa\" }]\n";

    fn record(user_id: u64, seed: u8) -> String {
        let key = countersign_signing::keys::SignerKey::from_test_seed([seed; 32])
            .public()
            .to_base64();
        format!(
            r#"{{"printed_name":"Dr. Carol Weiss","forge":{{"host":"github.com","user_id":{user_id},"login":"carol"}},"public_key":"{key}","key_id":"x","fingerprint":"y","valid_from":"2026-11-26T10:00:00Z","acknowledgement":"z"}}"#
        )
    }

    #[test]
    fn a_new_member_joins_the_role_and_comments_survive() {
        let text = add_member(POLICY, "clinical-safety", &record(5003, 3)).unwrap();
        assert!(text.starts_with("# our policy\n"), "{text}");
        assert!(text.contains("name = \"qa\" # quality"), "{text}");
        let policy = parse(&text).unwrap();
        assert!(policy.is_member("clinical-safety", "github.com", 5003));
        assert!(!policy.is_member("qa", "github.com", 5003));
        assert_eq!(
            policy.role("clinical-safety").unwrap().members[0]
                .keys
                .len(),
            1
        );
    }

    #[test]
    fn an_existing_member_gets_another_key_once() {
        let text = add_member(POLICY, "qa", &record(5002, 2)).unwrap();
        let policy = parse(&text).unwrap();
        let bob = &policy.role("qa").unwrap().members[0];
        assert_eq!(
            (bob.printed_name.as_str(), bob.keys.len()),
            ("Bob Okafor", 1)
        );
        assert!(matches!(
            add_member(&text, "qa", &record(5002, 2)),
            Err(RosterError::AlreadyThere(..))
        ));
    }

    #[test]
    fn a_key_is_revoked_or_rotated_out_once_in_every_role_that_lists_it() {
        let bob = record(5002, 2)
            .replace("Dr. Carol Weiss", "Bob Okafor")
            .replace("\"carol\"", "\"bob-qa\"");
        let text = add_member(POLICY, "qa", &bob).unwrap();
        let text = add_member(&text, "clinical-safety", &bob).unwrap();
        let key = countersign_signing::keys::SignerKey::from_test_seed([2; 32])
            .public()
            .to_base64();
        let at = "2026-11-30T10:00:00+00:00";
        let (revoked, holder) = end_key(&text, &key, at, KeyEnd::Revoked, None).unwrap();
        assert_eq!(holder.roles, ["qa", "clinical-safety"]);
        assert_eq!(
            (holder.user_id, holder.printed_name.as_str()),
            (5002, "Bob Okafor")
        );
        assert_eq!(
            revoked.matches(&format!("revoked_at = \"{at}\"")).count(),
            2,
            "{revoked}"
        );
        assert!(revoked.starts_with("# our policy\n"));
        assert!(matches!(
            end_key(&revoked, &key, at, KeyEnd::Revoked, None),
            Err(RosterError::AlreadyEnded(..))
        ));
        assert!(matches!(
            end_key(&text, "AAAA", at, KeyEnd::Revoked, None),
            Err(RosterError::KeyNotFound(_))
        ));

        // Rotation: the old key ends, the holder's new key joins each role;
        // another person's enrolment cannot take their place.
        let next = record(5002, 9).replace("Dr. Carol Weiss", "Bob Okafor");
        let (rotated, _) = end_key(&text, &key, at, KeyEnd::RotatedOut, Some(&next)).unwrap();
        let policy = parse(&rotated).unwrap();
        for role in ["qa", "clinical-safety"] {
            let member = &policy.role(role).unwrap().members[0];
            assert_eq!(member.keys.len(), 2, "{role}");
            assert!(member.keys[0].valid_until.is_some());
        }
        let someone_else = record(5003, 9);
        assert!(matches!(
            end_key(&text, &key, at, KeyEnd::RotatedOut, Some(&someone_else)),
            Err(RosterError::BadRecord(_))
        ));
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert!(matches!(
            add_member(POLICY, "release", &record(5003, 3)),
            Err(RosterError::UnknownRole(_))
        ));
        assert!(matches!(
            add_member(POLICY, "qa", "{not json"),
            Err(RosterError::BadRecord(_))
        ));
        let weak = record(5003, 3).replace(
            &countersign_signing::keys::SignerKey::from_test_seed([3; 32])
                .public()
                .to_base64(),
            "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        assert!(matches!(
            add_member(POLICY, "qa", &weak),
            Err(RosterError::Policy(_))
        ));
        assert!(matches!(
            add_member("version = 2\n", "qa", &record(5003, 3)),
            Err(RosterError::Policy(_))
        ));
    }
}
