//! The review queue: open change requests across the watched repositories,
//! and one change request opened for review.

use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use countersign_forge::{ChangeRequestSummary, Forge, RepoId};
use tokio::task::JoinSet;

use crate::contract::{
    ChangeRequestDetail, ChangeRequestRef, ChangedFile, ForMe, Person, Queue, QueueItem,
    RepoProblem, RiskClass,
};
use crate::ApiError;
use crate::ErrorCode;

pub async fn load(forge: Arc<dyn Forge>) -> Result<Queue, ApiError> {
    let repos = forge.repositories().await?;
    let mut tasks = JoinSet::new();
    for repo in repos {
        let forge = forge.clone();
        tasks.spawn(async move {
            let result = forge.open_change_requests(&repo).await;
            (repo, result)
        });
    }
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut loaded_any = false;
    while let Some(joined) = tasks.join_next().await {
        let (repo, result) =
            joined.map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        match result {
            Ok(list) => {
                loaded_any = true;
                items.extend(list.into_iter().map(queue_item));
            }
            Err(e) => problems.push(RepoProblem {
                repo: repo.to_string(),
                error: e.into(),
            }),
        }
    }
    // Nothing loaded at all is an error, not an empty queue: an empty queue
    // would tell the approver there is nothing to sign.
    if !loaded_any && !problems.is_empty() {
        return Err(problems.swap_remove(0).error);
    }
    items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.repo.cmp(&b.repo)));
    Ok(Queue {
        items,
        problems,
        synced_at: now(),
        offline: false,
    })
}

pub async fn open(
    forge: &dyn Forge,
    request: ChangeRequestRef,
) -> Result<ChangeRequestDetail, ApiError> {
    let repo: RepoId = request.repo.parse()?;
    let number = u64::from(request.number);
    let (cr, files, diff) = tokio::join!(
        forge.change_request(&repo, number),
        forge.changed_files(&repo, number),
        forge.unified_diff(&repo, number),
    );
    let (cr, files) = (cr?, files?);
    let forge_diff = match diff {
        Ok(d) => Some(d),
        Err(countersign_forge::ForgeError::TooLarge(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let whole = crate::whole_diff::complete(
        forge,
        &repo,
        &files,
        cr.changed_files,
        forge_diff,
        &cr.summary.base_sha,
        &cr.summary.head_sha,
    )
    .await;
    let files: Vec<ChangedFile> = files
        .into_iter()
        .map(|f| ChangedFile {
            patch_available: f.patch.is_some() || whole.reconstructed.contains(&f.path),
            path: f.path,
            previous_path: f.previous_path,
            status: serde_json::to_value(f.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            additions: clamp(f.additions),
            deletions: clamp(f.deletions),
        })
        .collect();
    Ok(ChangeRequestDetail {
        base_ref: cr.summary.base_ref.clone(),
        base_sha: cr.summary.base_sha.clone(),
        item: queue_item(cr.summary),
        body: cr.body,
        web_url: cr.web_url,
        diff_files: crate::parsed_diff::files(&whole.diff, &files, &whole.reconstructed),
        files,
        diff: whole.diff,
        reconstructed: whole.reconstructed,
        missing: whole.missing,
        synced_at: now(),
        offline: false,
        additions: clamp(cr.additions),
        deletions: clamp(cr.deletions),
        commits: clamp(cr.commits),
        repo_id: cr.repo_id,
    })
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn risk_from_labels(labels: &[String]) -> RiskClass {
    let mut risk = RiskClass::Unassessed;
    for label in labels {
        // The highest stated class wins, so a second, lower label cannot hide a high one.
        risk = match (label.as_str(), risk) {
            ("risk:high", _) => RiskClass::High,
            ("risk:medium", RiskClass::Unassessed | RiskClass::Low) => RiskClass::Medium,
            ("risk:low", RiskClass::Unassessed) => RiskClass::Low,
            _ => risk,
        };
    }
    risk
}

fn queue_item(s: ChangeRequestSummary) -> QueueItem {
    QueueItem {
        repo: s.repo.to_string(),
        number: clamp(s.number),
        risk: risk_from_labels(&s.labels),
        title: s.title,
        author: Person {
            id: s.author.id,
            login: s.author.login,
            name: s.author.name,
        },
        labels: s.labels,
        draft: s.draft,
        head_sha: s.head_sha,
        created_at: s.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        for_me: ForMe::NotJudged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_risk_label_wins() {
        let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(risk_from_labels(&labels(&["docs"])), RiskClass::Unassessed);
        assert_eq!(risk_from_labels(&labels(&["risk:low"])), RiskClass::Low);
        assert_eq!(
            risk_from_labels(&labels(&["risk:high", "risk:low"])),
            RiskClass::High
        );
        assert_eq!(
            risk_from_labels(&labels(&["risk:low", "risk:medium"])),
            RiskClass::Medium
        );
        assert_eq!(
            risk_from_labels(&labels(&["risk:medium", "risk:low"])),
            RiskClass::Medium
        );
    }
}
