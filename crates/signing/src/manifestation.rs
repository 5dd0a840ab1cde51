//! The human-readable form of a signature (11.50): printed name, date and
//! time, meaning and reason — always derived from the signed statement, never
//! typed separately.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::statement::Approval;

/// Several lines for screens, reports and the forge comment.
pub fn manifestation(a: &Approval) -> String {
    format!(
        "Signed by {name} (@{login}, {host} user {id}) as {role}\n\
         Meaning: {meaning} — {statement}\n\
         Reason: {reason}\n\
         Date and time: {when}\n\
         Change: {repo}#{number} at commit {head}",
        name = a.signer.printed_name,
        login = a.signer.forge.login,
        host = a.signer.forge.host,
        id = a.signer.forge.user_id,
        role = a.signer.role,
        meaning = a.meaning,
        statement = a.meaning.statement(),
        reason = a.reason,
        when = date_and_time(&a.signed_at),
        repo = a.change_request.repo,
        number = a.change_request.number,
        head = a.change_request.head_sha,
    )
}

/// `2026-11-26 13:05:09 +01:00 (12:05:09 UTC)`: local time as signed, and UTC.
pub fn date_and_time(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => format!(
            "{} ({} UTC)",
            t.format("%Y-%m-%d %H:%M:%S %:z"),
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
                .replace('T', " ")
                .trim_end_matches('Z')
        ),
        Err(_) => format!("{rfc3339} (unparseable)"),
    }
}
