//! The local audit trail checked against the forge: every record this
//! device signs carries the head of its trail at that moment (`audit_head`),
//! and the forge keeps the record where the signer's machine cannot rewrite
//! it. A trail shorter than, or diverging from, a head that one of its
//! records signed was cut or replaced.

use std::collections::BTreeSet;

use countersign_forge::{Forge, RepoId};
use countersign_signing::keys::PublicKey;
use countersign_signing::statement::Statement;
use serde::Serialize;

use crate::stores::Stores;
use crate::{records_on_forge, ApiError, ErrorCode};

/// One record of this device on the forge and what it says of the trail.
#[derive(Debug, Clone, Serialize)]
pub struct Witness {
    /// `owner/repo#n`, meaning and signing time.
    pub record: String,
    /// `size:hash` of the trail when the record was signed.
    pub head: String,
    /// Why the trail does not hold against this head; `None` when it does.
    pub problem: Option<String>,
}

/// The outcome of `countersign audit verify --forge …`.
#[derive(Debug, Clone, Serialize)]
pub struct WitnessReport {
    pub holds: bool,
    /// Entries in the local trail.
    pub trail_size: u64,
    /// The local trail's own check (chain and checkpoints), when it fails.
    pub trail_problem: Option<String>,
    /// Repositories whose records were read.
    pub repos: Vec<String>,
    pub witnesses: Vec<Witness>,
}

/// Check the trail in `stores` against the heads in the records that `key`
/// signed in `repos` (default: every repository the trail names, and those
/// the forge lists for this account).
pub(crate) async fn check(
    forge: &dyn Forge,
    stores: &Stores,
    key: Option<PublicKey>,
    repo: Option<String>,
) -> Result<WitnessReport, ApiError> {
    let key = key.ok_or_else(|| {
        ApiError::new(
            ErrorCode::SigningNotEnrolled,
            "this device is not enrolled for this forge account: it has signed no records to check its trail against",
        )
    })?;
    let repos: Vec<RepoId> = match repo {
        Some(r) => vec![r.parse()?],
        None => trail_repos(forge, stores).await?,
    };
    let (trail_size, trail_problem) = stores.with_ledger(|l| {
        Ok(match l.verify()? {
            Ok((size, _)) => (size, None),
            Err(b) => (l.head()?.0, Some(b.to_string())),
        })
    })?;
    let mut witnesses = Vec::new();
    for repo in &repos {
        let prefix = records_on_forge::RECORDS_REF_PREFIX;
        for (name, _) in forge.refs_under(repo, prefix).await? {
            let Some(number) = name
                .strip_prefix(prefix)
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let on_forge = records_on_forge::read(forge, repo, number, None).await?;
            for (statement, head) in on_forge
                .envelopes
                .iter()
                .filter(|e| countersign_signing::verify::is_signed_by(e, &key))
                .filter_map(Statement::of)
                .filter_map(|s| s.predicate.audit_head.clone().map(|h| (s, h)))
            {
                let problem = stores.with_ledger(|l| judge(l, trail_size, &head))?;
                witnesses.push(Witness {
                    record: format!(
                        "{repo}#{number}: {} signed {}",
                        statement.predicate.meaning, statement.predicate.signed_at
                    ),
                    head,
                    problem,
                });
            }
        }
    }
    Ok(WitnessReport {
        holds: trail_problem.is_none() && witnesses.iter().all(|w| w.problem.is_none()),
        trail_size,
        trail_problem,
        repos: repos.iter().map(ToString::to_string).collect(),
        witnesses,
    })
}

/// Why the trail does not hold against `head` (`size:hex`), if it does not.
fn judge(
    ledger: &countersign_ledger::Ledger,
    trail_size: u64,
    head: &str,
) -> Result<Option<String>, ApiError> {
    let Some((size, hash)) = head
        .split_once(':')
        .and_then(|(n, h)| Some((n.parse::<u64>().ok()?, h)))
    else {
        return Ok(Some(format!(
            "the record's audit head {head:?} is unreadable"
        )));
    };
    if trail_size < size {
        return Ok(Some(format!(
            "the trail has {trail_size} entries, shorter than the {size} this record signed: entries were removed or the trail was replaced"
        )));
    }
    Ok(match ledger.hash_at(size)? {
        Some(h) if hex::encode(h) == hash => None,
        _ => Some(format!(
            "the trail diverges from the head this record signed at entry {size}: the trail was replaced or rewritten"
        )),
    })
}

/// Repositories the trail names (its records and outbox), and those the
/// forge lists for this account: a replaced trail names none.
async fn trail_repos(forge: &dyn Forge, stores: &Stores) -> Result<Vec<RepoId>, ApiError> {
    let mut names: BTreeSet<String> = stores.with_ledger(|l| {
        Ok(l.records()?
            .into_iter()
            .map(|r| r.repo)
            .chain(l.outbox()?.into_iter().map(|o| o.repo))
            .collect())
    })?;
    names.extend(forge.repositories().await?.iter().map(ToString::to_string));
    names.iter().map(|n| Ok(n.parse()?)).collect()
}
