use std::collections::HashSet;
use std::ops::Range;

use chrono::{DateTime, FixedOffset};
use countersign_signing::keys::PublicKey;
use countersign_signing::Meaning;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::model::{
    CheckFrom, Evidence, GateSettings, Key, Member, Policy, RequiredCheck, Requirement,
    RiskClassRule, Role, Rule, SessionSettings, UnknownContributors, DEFAULT_CHECK_APP,
    DEFAULT_EVIDENCE_MIB,
};
use crate::risk::RiskClass;

/// Why a policy file was refused, and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy.toml line {line}, column {column}: {message}")]
#[non_exhaustive]
pub struct PolicyError {
    /// 1-based line of the problem in the policy file.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong there, for the person fixing it.
    pub message: String,
}

fn at(text: &str, span: Range<usize>, message: impl Into<String>) -> PolicyError {
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    PolicyError {
        line,
        column,
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Spanned<u32>,
    #[serde(default)]
    session: Option<RawSession>,
    #[serde(default)]
    roles: Vec<RawRole>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    evidence: Option<RawEvidence>,
    #[serde(default)]
    separation_of_duties: Option<RawSeparation>,
    #[serde(default)]
    risk: Option<RawRisk>,
    #[serde(default)]
    gate: Option<RawGate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    /// Seconds, or a string such as `"5m"`, `"90s"`, `"1h"`.
    #[serde(default)]
    max_clock_skew: Option<Spanned<toml::Value>>,
    #[serde(default)]
    protected_branches: Option<Vec<Spanned<String>>>,
    /// Whether records signed offline (from a kept snapshot) count.
    #[serde(default)]
    allow_offline_signing: Option<Spanned<bool>>,
    /// With it: how long after the snapshot such a record may reach the forge.
    #[serde(default)]
    max_offline_age: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRisk {
    #[serde(default)]
    default: Option<Spanned<String>>,
    #[serde(default)]
    classes: Vec<RawRiskClass>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRiskClass {
    class: Spanned<String>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    labels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    idle_timeout_minutes: Spanned<u32>,
    max_failures: Spanned<u32>,
    lockout_minutes: Spanned<u32>,
    #[serde(default)]
    require_security_key: bool,
    #[serde(default)]
    password_max_age_days: Option<Spanned<u32>>,
    /// The role whose members authorize a forgotten-password reset; two
    /// different members must each sign one.
    #[serde(default)]
    reset_by: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    require_security_key: bool,
    #[serde(default)]
    members: Vec<RawMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    forge: String,
    user_id: u64,
    login: String,
    printed_name: String,
    #[serde(default)]
    emails: Vec<Spanned<String>>,
    #[serde(default)]
    keys: Vec<RawKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    public_key: Spanned<String>,
    #[serde(default)]
    valid_from: Option<Spanned<String>>,
    #[serde(default)]
    valid_until: Option<Spanned<String>>,
    #[serde(default)]
    revoked_at: Option<Spanned<String>>,
    /// base64url credential id of a FIDO2 security key, with its COSE public
    /// key as base64url JSON (as `countersign enrol` exports it).
    #[serde(default)]
    fido2_credential_id: Option<String>,
    #[serde(default)]
    fido2_public_key: Option<Spanned<String>>,
    /// Further security keys (a backup one), each as the pair above.
    #[serde(default)]
    fido2: Vec<RawFido2>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFido2 {
    credential_id: String,
    public_key: Spanned<String>,
}

/// A registered security key from its credential id and base64url COSE-key JSON.
fn security_key(
    text: &str,
    id: &str,
    cose: &Spanned<String>,
) -> Result<countersign_signing::fido2::SecurityKey, PolicyError> {
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        cose.get_ref(),
    )
    .map_err(|_| at(text, cose.span(), "fido2_public_key is not base64url"))?;
    let public_key = serde_json::from_slice(&bytes).map_err(|e| {
        at(
            text,
            cose.span(),
            format!("fido2_public_key is not a COSE key: {e}"),
        )
    })?;
    Ok(countersign_signing::fido2::SecurityKey {
        credential_id: id.to_owned(),
        public_key,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    role: Spanned<String>,
    #[serde(default = "one")]
    signatures: Spanned<u32>,
    #[serde(default)]
    meanings: Vec<Spanned<String>>,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    risk: Vec<Spanned<String>>,
    require: Spanned<Vec<RawRequirement>>,
    #[serde(default)]
    order: Vec<Spanned<String>>,
    #[serde(default)]
    needs_risk_assessment: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvidence {
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    junit: bool,
    #[serde(default)]
    min_coverage: Option<Spanned<f64>>,
    #[serde(default)]
    workflows: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    max_total_mib: Option<u64>,
}

/// `"build"`, `{ name = "build", app = "github-actions" }` or `{ context = "ci/jenkins" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawCheck {
    Name(String),
    Table(RawCheckTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckTable {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    context: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeparation {
    #[serde(default = "yes")]
    author_cannot_sign: bool,
    #[serde(default = "yes")]
    one_role_per_person: bool,
    #[serde(default)]
    unknown_contributors: Option<Spanned<String>>,
}

fn yes() -> bool {
    true
}

const RISK_CLASSES: [&str; 4] = ["high", "medium", "low", "unassessed"];

fn globs(text: &str, patterns: &[Spanned<String>]) -> Result<Option<GlobSet>, PolicyError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        set.add(
            Glob::new(p.get_ref())
                .map_err(|e| at(text, p.span(), format!("bad path glob: {e}")))?,
        );
    }
    set.build()
        .map(Some)
        .map_err(|e| at(text, patterns[0].span(), e.to_string()))
}

fn risk_class(text: &str, v: &Spanned<String>) -> Result<RiskClass, PolicyError> {
    v.get_ref()
        .parse()
        .map_err(|e: String| at(text, v.span(), e))
}

fn time(
    text: &str,
    field: &Option<Spanned<String>>,
) -> Result<Option<DateTime<FixedOffset>>, PolicyError> {
    match field {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v.get_ref())
            .map(Some)
            .map_err(|e| at(text, v.span(), format!("not an RFC 3339 time: {e}"))),
    }
}

/// A non-negative duration: whole seconds, or a number with `s`, `m` or `h`.
/// Written by hand: three units do not warrant another dependency.
fn duration(v: &toml::Value) -> Option<chrono::Duration> {
    let seconds = match v {
        toml::Value::Integer(n) => *n,
        toml::Value::String(s) => {
            let s = s.trim();
            let unit = s.chars().last()?;
            let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
            n.checked_mul(match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return None,
            })?
        }
        _ => return None,
    };
    (0..=86_400 * 7)
        .contains(&seconds)
        .then(|| chrono::Duration::seconds(seconds))
}

/// Parse and validate a policy file.
pub fn parse(text: &str) -> Result<Policy, PolicyError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        at(text, span, e.message().to_owned())
    })?;
    if *raw.version.get_ref() != 1 {
        return Err(at(
            text,
            raw.version.span(),
            "this Countersign reads policy version 1",
        ));
    }

    let mut role_names = HashSet::new();
    let mut roles = Vec::new();
    for r in raw.roles {
        let name = r.name.get_ref().trim().to_owned();
        if name.is_empty() || !role_names.insert(name.clone()) {
            return Err(at(
                text,
                r.name.span(),
                format!("role name {name:?} is empty or used twice"),
            ));
        }
        let mut members = Vec::new();
        for m in r.members {
            let mut keys = Vec::new();
            for k in m.keys {
                let public_key = PublicKey::from_base64(k.public_key.get_ref())
                    .map_err(|e| at(text, k.public_key.span(), e.to_string()))?;
                let mut security_keys = match (&k.fido2_credential_id, &k.fido2_public_key) {
                    (None, None) => Vec::new(),
                    (Some(id), Some(cose)) => vec![security_key(text, id, cose)?],
                    _ => {
                        return Err(at(
                            text,
                            k.public_key.span(),
                            "fido2_credential_id and fido2_public_key go together",
                        ))
                    }
                };
                for extra in &k.fido2 {
                    security_keys.push(security_key(
                        text,
                        &extra.credential_id,
                        &extra.public_key,
                    )?);
                }
                keys.push(Key {
                    public_key,
                    valid_from: time(text, &k.valid_from)?,
                    valid_until: time(text, &k.valid_until)?,
                    revoked_at: time(text, &k.revoked_at)?,
                    security_keys,
                });
            }
            let mut emails = Vec::new();
            for e in m.emails {
                let email = e.get_ref().trim();
                if !email.contains('@') || email.contains(char::is_whitespace) {
                    return Err(at(
                        text,
                        e.span(),
                        format!("{email:?} is not an e-mail address"),
                    ));
                }
                emails.push(email.to_owned());
            }
            members.push(Member {
                forge: m.forge,
                user_id: m.user_id,
                login: m.login,
                printed_name: m.printed_name,
                emails,
                keys,
            });
        }
        roles.push(Role {
            name,
            description: r.description,
            members,
            require_security_key: r.require_security_key,
        });
    }

    let mut rules = Vec::new();
    for r in raw.rules {
        let paths = globs(text, &r.paths)?;
        for class in &r.risk {
            if !RISK_CLASSES.contains(&class.get_ref().as_str()) {
                return Err(at(
                    text,
                    class.span(),
                    format!("risk class must be one of {RISK_CLASSES:?}"),
                ));
            }
        }
        if r.require.get_ref().is_empty() {
            return Err(at(
                text,
                r.require.span(),
                format!("rule {:?} requires no signature", r.name),
            ));
        }
        let mut require = Vec::new();
        for q in r.require.into_inner() {
            if !role_names.contains(q.role.get_ref()) {
                return Err(at(
                    text,
                    q.role.span(),
                    format!("unknown role {:?}", q.role.get_ref()),
                ));
            }
            if *q.signatures.get_ref() == 0 {
                return Err(at(
                    text,
                    q.signatures.span(),
                    "a requirement needs at least one signature",
                ));
            }
            let mut meanings = Vec::new();
            for m in &q.meanings {
                let meaning = m
                    .get_ref()
                    .parse::<Meaning>()
                    .map_err(|e| at(text, m.span(), e))?;
                // A withdrawal takes a signature back; it never counts as one.
                if meaning == Meaning::Withdrawal {
                    return Err(at(
                        text,
                        m.span(),
                        format!("{meaning} cannot meet a requirement"),
                    ));
                }
                meanings.push(meaning);
            }
            require.push(Requirement {
                role: q.role.into_inner(),
                signatures: q.signatures.into_inner(),
                meanings,
            });
        }
        for o in &r.order {
            if !require.iter().any(|q| &q.role == o.get_ref()) {
                return Err(at(
                    text,
                    o.span(),
                    format!(
                        "order names {:?}, which this rule does not require",
                        o.get_ref()
                    ),
                ));
            }
        }
        rules.push(Rule {
            name: r.name,
            paths,
            labels: r.labels,
            risk: r.risk.into_iter().map(Spanned::into_inner).collect(),
            require,
            order: r.order.into_iter().map(Spanned::into_inner).collect(),
            needs_risk_assessment: r.needs_risk_assessment,
        });
    }

    let evidence = match raw.evidence {
        None => Evidence::default(),
        Some(e) => {
            if let Some(c) = &e.min_coverage {
                if !(0.0..=100.0).contains(c.get_ref()) {
                    return Err(at(text, c.span(), "coverage is a percentage from 0 to 100"));
                }
            }
            let mut checks = Vec::new();
            for c in &e.checks {
                let bad = || {
                    at(
                        text,
                        c.span(),
                        "a check is \"name\", { name = \"…\", app = \"…\" } or { context = \"…\" }",
                    )
                };
                let (name, from) = match c.get_ref() {
                    RawCheck::Name(n) => (n.clone(), CheckFrom::ForgeCi),
                    RawCheck::Table(RawCheckTable {
                        name: Some(n),
                        app,
                        context: None,
                    }) => (
                        n.clone(),
                        match app.as_deref() {
                            None | Some(DEFAULT_CHECK_APP) => CheckFrom::ForgeCi,
                            Some(other) => CheckFrom::App(other.to_owned()),
                        },
                    ),
                    RawCheck::Table(RawCheckTable {
                        name: None,
                        app: None,
                        context: Some(ctx),
                    }) => (ctx.clone(), CheckFrom::Status),
                    RawCheck::Table(_) => return Err(bad()),
                };
                if name.trim().is_empty() {
                    return Err(bad());
                }
                checks.push(RequiredCheck { name, from });
            }
            let workflows = match e.workflows {
                None => None,
                Some(list) => {
                    let mut paths = Vec::new();
                    for w in list {
                        let path = w.get_ref();
                        if !is_workflow_path(path) {
                            return Err(at(
                                text,
                                w.span(),
                                "a workflow is a .yml or .yaml file: under .github/workflows/, \
                                 .gitea/workflows/ or .forgejo/workflows/ for Actions, or GitLab's CI \
                                 configuration (e.g. .gitlab-ci.yml, or file.yml@group/project)",
                            ));
                        }
                        paths.push(path.clone());
                    }
                    Some(paths)
                }
            };
            Evidence {
                checks,
                junit_required: e.junit,
                min_coverage: e.min_coverage.map(Spanned::into_inner),
                workflows,
                max_total_mib: e.max_total_mib.unwrap_or(DEFAULT_EVIDENCE_MIB),
            }
        }
    };
    let reset_by = match raw.session.as_ref().and_then(|s| s.reset_by.as_ref()) {
        Some(role) if !roles.iter().any(|r| r.name == *role.get_ref()) => {
            return Err(at(
                text,
                role.span(),
                format!("reset_by names no role: {:?}", role.get_ref()),
            ))
        }
        Some(role) => Some(role.get_ref().clone()),
        None => None,
    };
    let session = match raw.session {
        None => SessionSettings::default(),
        Some(s) => {
            for (v, what) in [
                (&s.idle_timeout_minutes, "idle timeout"),
                (&s.max_failures, "failures"),
                (&s.lockout_minutes, "lockout"),
            ] {
                if *v.get_ref() == 0 {
                    return Err(at(text, v.span(), format!("{what} must be at least 1")));
                }
            }
            if let Some(days) = &s.password_max_age_days {
                if *days.get_ref() == 0 {
                    return Err(at(
                        text,
                        days.span(),
                        "password_max_age_days must be at least 1".to_owned(),
                    ));
                }
            }
            SessionSettings {
                idle_timeout_minutes: s.idle_timeout_minutes.into_inner(),
                max_failures: s.max_failures.into_inner(),
                lockout_minutes: s.lockout_minutes.into_inner(),
                require_security_key: s.require_security_key,
                password_max_age_days: s.password_max_age_days.map(Spanned::into_inner),
            }
        }
    };
    let separation = raw.separation_of_duties.unwrap_or(RawSeparation {
        author_cannot_sign: true,
        one_role_per_person: true,
        unknown_contributors: None,
    });
    let unknown_contributors = match &separation.unknown_contributors {
        None => None,
        Some(v) => Some(match v.get_ref().as_str() {
            "block" => UnknownContributors::Block,
            "allow" => UnknownContributors::Allow,
            other => {
                return Err(at(
                    text,
                    v.span(),
                    format!("unknown_contributors is \"block\" or \"allow\", not {other:?}"),
                ))
            }
        }),
    };
    let (risk_default, risk_classes) = match raw.risk {
        None => (RiskClass::Unassessed, Vec::new()),
        Some(r) => {
            let default = match &r.default {
                None => RiskClass::Unassessed,
                Some(d) => risk_class(text, d)?,
            };
            let mut classes = Vec::new();
            for c in r.classes {
                if c.paths.is_empty() && c.labels.is_empty() {
                    return Err(at(
                        text,
                        c.class.span(),
                        "a risk class needs paths or labels to match",
                    ));
                }
                classes.push(RiskClassRule {
                    class: risk_class(text, &c.class)?,
                    paths: globs(text, &c.paths)?,
                    labels: c.labels,
                });
            }
            (default, classes)
        }
    };
    let mut gate = GateSettings::default();
    if let Some(g) = raw.gate {
        if let Some(v) = &g.max_clock_skew {
            gate.max_clock_skew = duration(v.get_ref()).ok_or_else(|| {
                at(
                    text,
                    v.span(),
                    "max_clock_skew is seconds (300) or a duration such as \"5m\", \"90s\", \"1h\"",
                )
            })?;
        }
        match (&g.allow_offline_signing, &g.max_offline_age) {
            (Some(allow), None) if *allow.get_ref() => {
                return Err(at(
                    text,
                    allow.span(),
                    "allow_offline_signing needs max_offline_age (for example \"72h\")".to_owned(),
                ))
            }
            (Some(allow), Some(age)) if *allow.get_ref() => {
                gate.max_offline_age = Some(duration(age.get_ref()).ok_or_else(|| {
                    at(
                        text,
                        age.span(),
                        "max_offline_age is seconds or a duration such as \"72h\"",
                    )
                })?);
            }
            (None, Some(age)) => {
                return Err(at(
                    text,
                    age.span(),
                    "max_offline_age needs allow_offline_signing = true".to_owned(),
                ))
            }
            _ => {}
        }
        if let Some(branches) = g.protected_branches {
            let names = branches.iter().map(|b| b.get_ref().clone()).collect();
            let set = globs(text, &branches)?.unwrap_or_else(GlobSet::empty);
            gate.protected_branches = Some((names, set));
        }
    }
    Ok(Policy {
        risk_default,
        risk_classes,
        roles,
        rules,
        evidence,
        session,
        author_cannot_sign: separation.author_cannot_sign,
        one_role_per_person: separation.one_role_per_person,
        unknown_contributors,
        gate,
        removed_at_tip: Vec::new(),
        tip_of: None,
        reset_by,
    })
}

/// A workflow the evidence may come from: an Actions workflow file
/// (GitHub's, Gitea's or Forgejo's folder), or a GitLab CI configuration —
/// a YAML file anywhere in the repository, or `file@group/project[:ref]` for
/// one kept in another project. Plain path segments only.
fn is_workflow_path(path: &str) -> bool {
    let (file, elsewhere) = match path.split_once('@') {
        Some((file, project)) => (file, Some(project)),
        None => (path, None),
    };
    let plain = |p: &str| {
        !p.is_empty()
            && p.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            })
    };
    let project_ok = elsewhere.is_none_or(|p| {
        let project = p.split_once(':').map_or(p, |(project, _)| project);
        // A project in groups within groups too (GitLab nests them 20 deep).
        plain(project) && (2..=22).contains(&project.split('/').count())
    });
    plain(file) && (file.ends_with(".yml") || file.ends_with(".yaml")) && project_ok
}

#[cfg(test)]
mod workflow_path_tests {
    use super::is_workflow_path;

    #[test]
    fn workflows_of_every_forge_are_named_and_nothing_else() {
        for ok in [
            ".github/workflows/ci.yml",
            ".gitea/workflows/ci.yaml",
            ".forgejo/workflows/ci.yml",
            ".gitlab-ci.yml",
            "ci/pipeline.yml",
            "gate.yml@qa/ci-config",
            "gate.yml@qa/ci-config:v2",
            "gate.yml@qa/platform/ci-config",
        ] {
            assert!(is_workflow_path(ok), "{ok}");
        }
        for bad in [
            "",
            "ci.txt",
            "../ci.yml",
            "a//b.yml",
            "/ci.yml",
            "ci.yml@",
            "ci.yml@qa",
            "ci.yml@a//c",
            "ci.yml@../x",
        ] {
            assert!(!is_workflow_path(bad), "{bad:?}");
        }
    }
}
