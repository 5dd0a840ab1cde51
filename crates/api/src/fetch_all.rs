//! The queue and every open change request in it, fetched with the
//! forge client's bounded concurrency. A second sync of unchanged change
//! requests costs only conditional requests (ETag → 304).

use std::sync::Arc;

use countersign_forge::Forge;
use tokio::task::JoinSet;

use crate::contract::{ChangeRequestDetail, ChangeRequestRef, Queue};
use crate::ErrorCode;
use crate::{queue, ApiError};

pub struct Synced {
    pub queue: Queue,
    pub details: Vec<ChangeRequestDetail>,
    /// `owner/name#n: message` for each change request that could not be read.
    pub problems: Vec<String>,
}

pub async fn sync(forge: Arc<dyn Forge>) -> Result<Synced, ApiError> {
    let queue = queue::load(forge.clone()).await?;
    let mut tasks = JoinSet::new();
    for item in &queue.items {
        let forge = forge.clone();
        let request = ChangeRequestRef {
            repo: item.repo.clone(),
            number: item.number,
        };
        tasks.spawn(async move {
            let name = format!("{}#{}", request.repo, request.number);
            (name, queue::open(forge.as_ref(), request).await)
        });
    }
    let mut details = Vec::new();
    let mut problems = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (name, result) =
            joined.map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        match result {
            Ok(d) => details.push(d),
            Err(e) => problems.push(format!("{name}: {}", e.message)),
        }
    }
    details.sort_by(|a, b| {
        (a.item.repo.as_str(), a.item.number).cmp(&(b.item.repo.as_str(), b.item.number))
    });
    Ok(Synced {
        queue,
        details,
        problems,
    })
}
