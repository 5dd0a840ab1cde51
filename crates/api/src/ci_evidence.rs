//! Which CI artifacts count as evidence for a change: only those of runs of
//! the workflows the policy names, on the head commit, completed, whose
//! workflow file is the same at the base and the head (a change cannot bring
//! or edit the workflow that vouches for it); of two artifacts with one name,
//! the newest completed run's, deterministically.

use std::collections::BTreeMap;

use countersign_forge::{Artifact, Forge, RepoId};
use countersign_policy::Policy;

use crate::ApiError;

/// The artifacts to download, and why each other one does not count.
pub struct Chosen {
    pub counted: Vec<Artifact>,
    pub ignored: Vec<String>,
    /// Why no artifact is downloaded at all, when they weigh too much.
    pub refused: Option<String>,
}

pub async fn choose(
    forge: &dyn Forge,
    repo: &RepoId,
    base_sha: &str,
    head_sha: &str,
    policy: Option<&Policy>,
    artifacts: Vec<Artifact>,
) -> Result<Chosen, ApiError> {
    let mut ignored = Vec::new();
    let Some(policy) = policy else {
        return Ok(Chosen {
            counted: Vec::new(),
            ignored,
            refused: None,
        });
    };
    let Some(workflows) = &policy.evidence.workflows else {
        if !artifacts.is_empty() {
            ignored
                .push("no CI artifact counts: the policy names no [evidence] workflows".to_owned());
        }
        return Ok(Chosen {
            counted: Vec::new(),
            ignored,
            refused: None,
        });
    };
    // Whether each named workflow is the same file at the base and the head.
    let mut unchanged = BTreeMap::new();
    for path in workflows {
        let (at_base, at_head) = tokio::try_join!(
            forge.file_at(repo, path, base_sha),
            forge.file_at(repo, path, head_sha),
        )?;
        unchanged.insert(path.as_str(), at_base.is_some() && at_base == at_head);
    }
    let mut newest: BTreeMap<String, Artifact> = BTreeMap::new();
    for a in artifacts {
        let from = a.workflow_path.as_deref().unwrap_or("an unknown workflow");
        let why_not = match unchanged.get(from) {
            None => Some(format!(
                "{}: made by {from}, not a workflow the policy names",
                a.name
            )),
            Some(false) => Some(format!(
                "{}: made by {from}, which this change adds or edits",
                a.name
            )),
            Some(true) if !a.run_completed => {
                Some(format!("{}: its run of {from} has not completed", a.name))
            }
            Some(true) => None,
        };
        if let Some(why) = why_not {
            ignored.push(why);
            continue;
        }
        let key = |x: &Artifact| (x.run_created_at, x.run_id);
        match newest.get(&a.name) {
            Some(kept) if key(kept) >= key(&a) => {
                ignored.push(format!("{}: superseded by a newer run", a.name));
            }
            Some(_) => {
                ignored.push(format!("{}: superseded by a newer run", a.name));
                newest.insert(a.name.clone(), a);
            }
            None => {
                newest.insert(a.name.clone(), a);
            }
        }
    }
    let counted: Vec<Artifact> = newest.into_values().collect();
    // Bounded as a whole, before anything is downloaded.
    let total: u64 = counted.iter().map(|a| a.size_bytes).sum();
    let max = policy.evidence.max_total_mib.saturating_mul(1024 * 1024);
    if total > max {
        return Ok(Chosen {
            counted: Vec::new(),
            ignored,
            refused: Some(format!(
                "the CI artifacts of this change total {:.1} MiB, over the policy's [evidence] max_total_mib = {}",
                total as f64 / (1024.0 * 1024.0),
                policy.evidence.max_total_mib
            )),
        });
    }
    Ok(Chosen {
        counted,
        ignored,
        refused: None,
    })
}
