use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use countersign_forge::gitea::{Flavor, GiteaConfig, GiteaForge};
use countersign_forge::github::{GitHubConfig, GitHubForge};
use countersign_forge::gitlab::{GitLabConfig, GitLabForge};
use countersign_forge::{Forge, RepoId};
use countersign_forge_sandbox::{ForgeShape, RunningSandbox, Seed, SANDBOX_TOKEN};
use countersign_secret::Secret;
use url::Url;

use crate::contract::{
    AddSigner, AppInfo, AuditFilter, AuditTrail, ChangeRequestDetail, ChangeRequestRef,
    DeviceFlowRequest, DevicePoll, DevicePollState, DeviceStart, DiffFiles, DiffPage, EnrolRequest,
    Enrolment, ForMe, LinkOpened, LinkRequest, Outbox, OutboxRow, OutboxState, PasswordChange,
    Person, PolicyCheck, PolicyDraft, PolicyText, ProposePolicy, ProposedPolicy, PushOutcome,
    Queue, RepoRef, Review, SecurityKeyRequest, SettingsView, SignRequest, SignatureDraft,
    SignaturePreview, SignedRecord, SignerStatus, SyncOutcome, TokenRequest, Verdict,
};
use countersign_ledger::cache::Kind;

use crate::settings::ForgeSettings;
use crate::signatures::Signatures;
use crate::stores::{KeychainSource, Stores};
use crate::ErrorCode;
use crate::{queue, ApiError};

/// What the gate found for one change request.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GateReport {
    /// True only when the policy is satisfied by the records on the forge.
    pub approved: bool,
    /// `ref`, `comment`, or `none` when the forge holds no records.
    pub records_from: String,
    pub records: usize,
    /// Valid records one place holds and the other lost: the gate fails
    /// closed until `countersign push --repo … --pr …` repairs them.
    pub disagreements: Vec<String>,
    /// Found on the forge but not approval statements at all; not counted.
    pub left_out: Vec<String>,
    pub review: Review,
}

/// Which forge a session talks to.
#[derive(Debug)]
pub enum ForgeTarget {
    /// Start the sandbox forge inside this process (the default with no account).
    EmbeddedSandbox,
    /// A sandbox forge already running elsewhere, e.g. `countersign sandbox`.
    Sandbox { api_base: Url },
    /// GitHub or GitHub Enterprise Server.
    GitHub {
        api_base: Url,
        token: Option<Secret<String>>,
        repos: Vec<RepoId>,
    },
    /// GitLab.com or a self-managed GitLab (`https://host/api/v4/`).
    GitLab {
        api_base: Url,
        token: Option<Secret<String>>,
        repos: Vec<RepoId>,
    },
    /// Gitea or Forgejo (`https://host/api/v1/`).
    Gitea {
        flavor: Flavor,
        api_base: Url,
        token: Option<Secret<String>>,
        repos: Vec<RepoId>,
    },
}

/// Which client speaks to the forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    GitHub,
    Gitea(Flavor),
    GitLab,
}

impl From<ForgeShape> for Client {
    fn from(shape: ForgeShape) -> Self {
        match shape {
            ForgeShape::GitHub => Client::GitHub,
            ForgeShape::Gitea => Client::Gitea(Flavor::Gitea),
            ForgeShape::Forgejo => Client::Gitea(Flavor::Forgejo),
            ForgeShape::GitLab => Client::GitLab,
        }
    }
}

/// The embedded sandbox's shape: GitHub's unless `COUNTERSIGN_SANDBOX_SHAPE`
/// says `gitea`, `forgejo` or `gitlab` (for running every flow against those shapes).
fn embedded_sandbox_shape() -> Result<ForgeShape, ApiError> {
    std::env::var("COUNTERSIGN_SANDBOX_SHAPE")
        .unwrap_or_default()
        .parse()
        .map_err(|e: String| ApiError::invalid_input(format!("COUNTERSIGN_SANDBOX_SHAPE: {e}")))
}

/// Where this device keeps its secrets and its ledger.
pub struct LocalStores {
    pub keychain: KeychainSource,
    /// The SQLite ledger: audit trail, signed records, outbox.
    pub ledger: PathBuf,
    /// Keep conditional-request answers on disk between runs, next to the
    /// ledger (the CLI: each run is a new process). A long-lived window keeps
    /// them in memory and does not read the cache key from the keychain at
    /// start-up.
    pub http_cache_on_disk: bool,
}

impl LocalStores {
    /// The OS keychain and the ledger in `data_dir`.
    pub fn in_dir(data_dir: PathBuf) -> Self {
        Self {
            keychain: KeychainSource::Os,
            ledger: data_dir.join("ledger.sqlite"),
            http_cache_on_disk: false,
        }
    }
}

use crate::folders::default_data_dir;

/// Who a review is read for: a person, who may sign from it, or the watch
/// that decides whether to tell them they are needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Person,
    Watch,
}

/// A change's standing for me at one head, from its last review.
#[derive(Debug, Clone)]
struct JudgedHead {
    head: String,
    waiting: bool,
    mine_stale: bool,
    head_is_mine: bool,
    /// The commit of the change's records ref the watch judged it at
    /// (others' signatures change what waits for me without moving the head).
    records_tip: Option<String>,
}

impl JudgedHead {
    fn of(review: &Review, head_is_mine: bool) -> Self {
        Self {
            head: review.head_sha.clone(),
            waiting: review.waiting_for_me,
            mine_stale: review
                .signatures
                .iter()
                .any(|s| s.mine && s.standing == crate::contract::Standing::Stale),
            head_is_mine,
            records_tip: None,
        }
    }
}

/// How long the window's wait for the next launch link lasts before it asks again.
pub const LINK_WAIT: std::time::Duration = std::time::Duration::from_secs(50);

/// A connection to one forge, and what the use cases need around it.
/// A change request by repository and number.
type ChangeKey = (String, u32);

pub struct Session {
    forge: Arc<dyn Forge>,
    info: AppInfo,
    signatures: Signatures,
    stores: Arc<Stores>,
    data_dir: PathBuf,
    offline: Arc<crate::offline::Offline>,
    policies_seen: Mutex<std::collections::HashSet<(String, String)>>,
    /// The last snapshot read of each change request, for the preview and
    /// the push that follow a review; see [`Session::snapshot_of`].
    snapshots: Mutex<std::collections::HashMap<ChangeKey, Arc<crate::snapshot::Gathered>>>,
    /// Hands links to the system browser; set by the desktop shell.
    link_opener: Mutex<Option<crate::links::LinkOpener>>,
    /// The whole parsed diff of each change opened, for `diff_files`.
    diffs: Mutex<std::collections::HashMap<ChangeKey, Arc<Vec<crate::contract::DiffFile>>>>,
    device: tokio::sync::Mutex<Option<crate::accounts::PendingDevice>>,
    /// A queue fetch started before the window asked for it; see `prefetch_queue`.
    prefetched: Mutex<Option<tokio::task::JoinHandle<Result<Queue, ApiError>>>>,
    /// Each change's head at its last review, and whether it waited for me
    /// then: from this session's reviews, else read once from the offline
    /// cache (`None`: it had none). Answers the queue even without a keychain.
    judged: Mutex<std::collections::HashMap<String, Option<JudgedHead>>>,
    /// Changes I signed or withdrew on since the watch last looked.
    acted: Mutex<std::collections::HashSet<ChangeKey>>,
    watch: Mutex<crate::attention::Watch>,
    pushing: tokio::sync::Mutex<()>,
    /// The change a launch link asked for, until the window takes it.
    /// The last change a launch link asked for, until the window takes it;
    /// a watch so that the window can wait for the next one.
    requested: tokio::sync::watch::Sender<Option<crate::contract::RequestedChange>>,
    // Kept so the embedded sandbox lives exactly as long as the session.
    _sandbox: Option<RunningSandbox>,
}

impl Session {
    /// A session using the OS keychain and the default data folder.
    /// A session for one CLI run: the default data folder, and the HTTP
    /// cache kept on disk so the next run is answered by 304s.
    pub async fn start(target: ForgeTarget) -> Result<Self, ApiError> {
        let local = LocalStores {
            http_cache_on_disk: true,
            ..LocalStores::in_dir(default_data_dir())
        };
        Self::start_with(target, local).await
    }

    pub async fn start_with(target: ForgeTarget, local: LocalStores) -> Result<Self, ApiError> {
        let (client, api_base, token, repos, sandbox, embedded) = match target {
            ForgeTarget::EmbeddedSandbox => {
                let running = RunningSandbox::start(0, Seed::Demo).await.map_err(|e| {
                    ApiError::new(
                        ErrorCode::SandboxStartFailed,
                        format!("cannot start the sandbox forge: {e}"),
                    )
                })?;
                let shape = embedded_sandbox_shape()?;
                let base = Url::parse(&running.api_base_for(shape)).expect("sandbox URL");
                (
                    Client::from(shape),
                    base,
                    Some(Secret::from(SANDBOX_TOKEN)),
                    Vec::new(),
                    true,
                    Some(running),
                )
            }
            // The sandbox serves each forge's shape under its own root.
            ForgeTarget::Sandbox { api_base } => (
                Client::from(ForgeShape::of_path(api_base.path())),
                api_base,
                Some(Secret::from(SANDBOX_TOKEN)),
                Vec::new(),
                true,
                None,
            ),
            ForgeTarget::GitHub {
                api_base,
                token,
                repos,
            } => (Client::GitHub, api_base, token, repos, false, None),
            ForgeTarget::Gitea {
                flavor,
                api_base,
                token,
                repos,
            } => (Client::Gitea(flavor), api_base, token, repos, false, None),
            ForgeTarget::GitLab {
                api_base,
                token,
                repos,
            } => (Client::GitLab, api_base, token, repos, false, None),
        };
        let data_dir = local
            .ledger
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(default_data_dir);
        let stores = Arc::new(Stores::new(local.keychain.clone(), local.ledger.clone()));
        let disk_cache = if local.http_cache_on_disk {
            http_cache(&stores, &data_dir)
        } else {
            None
        };
        // The clients are the ones that talk to the real forges: the sandbox
        // gets no shortcut.
        let forge: Arc<dyn Forge> = match client {
            Client::GitHub => {
                let mut config = GitHubConfig::new(api_base.clone());
                config.token = token;
                config.repos = repos;
                config.disk_cache = disk_cache;
                Arc::new(GitHubForge::new(config)?)
            }
            Client::Gitea(flavor) => {
                let mut config = GiteaConfig::new(api_base.clone(), flavor);
                config.token = token;
                config.repos = repos;
                config.disk_cache = disk_cache;
                Arc::new(GiteaForge::new(config)?)
            }
            Client::GitLab => {
                let mut config = GitLabConfig::new(api_base.clone());
                config.token = token;
                config.repos = repos;
                config.disk_cache = disk_cache;
                Arc::new(GitLabForge::new(config)?)
            }
        };
        let info = AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            forge_label: if sandbox {
                "Sandbox".to_owned()
            } else {
                forge.host().to_owned()
            },
            forge_url: api_base.to_string(),
            sandbox,
        };
        tracing::info!(forge = %info.forge_url, sandbox, "session started");
        let signatures = Signatures::new(stores.clone());
        #[cfg(feature = "usb")]
        signatures.set_security_key_device(Arc::new(crate::security_key_usb::UsbSecurityKey));
        #[cfg(feature = "software-key")]
        if let Some(soft) = crate::security_key_soft::SoftSecurityKey::from_env() {
            signatures.set_security_key_device(Arc::new(soft));
        }
        stores.set_forge(forge.clone());
        Ok(Self {
            forge,
            info,
            offline: Arc::new(crate::offline::Offline::new(
                data_dir.join("cache.sqlite"),
                stores.clone(),
            )),
            data_dir,
            policies_seen: Mutex::new(std::collections::HashSet::new()),
            snapshots: Mutex::new(std::collections::HashMap::new()),
            diffs: Mutex::new(std::collections::HashMap::new()),
            link_opener: Mutex::new(None),
            device: tokio::sync::Mutex::new(None),
            prefetched: Mutex::new(None),
            judged: Mutex::new(Default::default()),
            acted: Mutex::new(Default::default()),
            watch: Mutex::new(Default::default()),
            pushing: tokio::sync::Mutex::new(()),
            requested: tokio::sync::watch::Sender::new(None),
            signatures,
            stores,
            _sandbox: embedded,
        })
    }

    /// A link the window was launched with (`countersign://review/…`, or the
    /// change's web address): kept for the window to open, when it names a
    /// change on this session's forge; else the reason, for the window to say.
    pub fn request_change(&self, link: &str) {
        let api = Url::parse(&self.info.forge_url).ok();
        let api_host = api.as_ref().and_then(|u| u.host_str()).unwrap_or_default();
        // GitHub answers its API on api.<host>; its pages are on <host>.
        let web_host = api_host.strip_prefix("api.").unwrap_or(api_host).to_owned();
        let requested = match crate::links::change_from_link(link, self.forge.host(), &web_host) {
            Ok(change) => crate::contract::RequestedChange {
                change: Some(change),
                refused: None,
            },
            Err(e) => {
                tracing::warn!(error = %e.message, "a launch link was not opened");
                crate::contract::RequestedChange {
                    change: None,
                    refused: Some(e.message),
                }
            }
        };
        self.requested.send_replace(Some(requested));
    }

    /// The change a launch link asked for, if one waits; taken once.
    pub async fn requested_change(&self) -> Result<crate::contract::RequestedChange, ApiError> {
        Ok(self.take_requested().unwrap_or_default())
    }

    /// The next change a later launch asks for (a second launch hands its
    /// link to this window): waits for one, or answers "none" after
    /// [`LINK_WAIT`] so that the window asks again and never hangs on a
    /// session that settings replaced.
    pub async fn next_requested_change(
        &self,
    ) -> Result<crate::contract::RequestedChange, ApiError> {
        // Subscribed before looking, so that a link arriving in between is seen.
        let mut arrived = self.requested.subscribe();
        let wait = async {
            loop {
                if let Some(r) = self.take_requested() {
                    return r;
                }
                if arrived.changed().await.is_err() {
                    return Default::default();
                }
            }
        };
        Ok(tokio::time::timeout(LINK_WAIT, wait)
            .await
            .unwrap_or_default())
    }

    fn take_requested(&self) -> Option<crate::contract::RequestedChange> {
        let mut taken = None;
        // Taking is not news: waiters are not woken by it.
        self.requested.send_if_modified(|kept| {
            taken = kept.take();
            false
        });
        taken
    }

    pub async fn app_info(&self) -> Result<AppInfo, ApiError> {
        Ok(self.info.clone())
    }

    /// The queue and every change request in it, for reading offline.
    pub async fn sync(&self) -> Result<crate::fetch_all::Synced, ApiError> {
        crate::fetch_all::sync(self.forge.clone()).await
    }

    /// Start fetching the queue now, so that the forge's latency overlaps
    /// whatever the caller still has to do (the desktop shell: WebKit's
    /// start-up). The next `load_queue` takes this fetch; later ones fetch
    /// afresh. Outside a Tokio runtime this does nothing.
    pub fn prefetch_queue(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let task = runtime.spawn(queue::load(self.forge.clone()));
        *self.prefetched.lock().expect("prefetch lock") = Some(task);
    }

    pub async fn load_queue(&self) -> Result<Queue, ApiError> {
        let prefetched = self.prefetched.lock().expect("prefetch lock").take();
        let loaded = match prefetched {
            Some(task) => task
                .await
                .unwrap_or_else(|e| Err(ApiError::new(ErrorCode::Internal, e.to_string()))),
            None => queue::load(self.forge.clone()).await,
        };
        match loaded {
            Ok(mut q) => {
                self.judge_for_me(&mut q);
                self.offline
                    .remember(Kind::Queue, "queue", &q, &q.synced_at);
                Ok(q)
            }
            Err(e) if crate::offline::is_offline(&e) => {
                match self.offline.recall::<Queue>(Kind::Queue, "queue") {
                    Some((mut q, _)) => {
                        q.offline = true;
                        Ok(q)
                    }
                    None => Err(crate::offline::not_cached(e, "the review queue")),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Mark each change by the last review of its current head kept on this
    /// device: a review is the only place the policy is evaluated, and a
    /// moved head makes an earlier answer unknown, not "no".
    fn judge_for_me(&self, queue: &mut Queue) {
        // The queue refreshes every minute: a kept review is decrypted once.
        let mut judged = self.judged.lock().expect("judged lock");
        for item in &mut queue.items {
            let key = format!("{}#{}", item.repo, item.number);
            let last = judged.entry(key).or_insert_with_key(|key| {
                self.offline
                    .recall::<Review>(Kind::Review, key)
                    .map(|(r, _)| JudgedHead::of(&r, false))
            });
            item.for_me = match last.as_ref().map(|j| (j.head.as_str(), j.waiting)) {
                Some((head, true)) if head == item.head_sha => ForMe::Waiting,
                Some((head, false)) if head == item.head_sha => ForMe::NotWaiting,
                _ => ForMe::NotJudged,
            };
        }
    }

    pub async fn open_change_request(
        &self,
        request: ChangeRequestRef,
    ) -> Result<ChangeRequestDetail, ApiError> {
        let key = format!("{}#{}", request.repo, request.number);
        let whole = match queue::open(self.forge.as_ref(), request.clone()).await {
            Ok(d) => {
                self.offline
                    .remember(Kind::ChangeRequest, &key, &d, &d.synced_at);
                Ok(d)
            }
            Err(e) if crate::offline::is_offline(&e) => {
                match self
                    .offline
                    .recall::<ChangeRequestDetail>(Kind::ChangeRequest, &key)
                {
                    Some((mut d, _)) => {
                        d.offline = true;
                        // Kept by a version that did not parse the diff yet.
                        if d.diff_files.is_empty() && !d.diff.is_empty() {
                            d.diff_files =
                                crate::parsed_diff::files(&d.diff, &d.files, &d.reconstructed);
                        }
                        Ok(d)
                    }
                    None => Err(crate::offline::not_cached(e, &key)),
                }
            }
            Err(e) => Err(e),
        };
        // A large diff crosses to the window a page at a time: the first
        // files' hunks now, the others' through `diff_files` as they scroll
        // into view, from the whole parse kept here.
        let mut d = whole?;
        let files = Arc::new(std::mem::take(&mut d.diff_files));
        d.diff_files = crate::parsed_diff::first_page(&files);
        let mut diffs = self.diffs.lock().unwrap();
        // A few changes at a time: the window reads one, maybe returns to the last.
        if diffs.len() >= 8 {
            diffs.clear();
        }
        diffs.insert((request.repo, request.number), files);
        Ok(d)
    }

    /// How this session opens links in the system browser (the desktop shell's).
    pub fn set_link_opener(&self, opener: crate::links::LinkOpener) {
        *self.link_opener.lock().unwrap() = Some(opener);
    }

    /// Open a link from forge text in the system browser, when it is a plain
    /// web address; the window has shown the reader the whole address first.
    pub async fn open_link(&self, request: LinkRequest) -> Result<LinkOpened, ApiError> {
        let url = crate::links::web_address(&request.url)?;
        let opener = self.link_opener.lock().unwrap().clone().ok_or_else(|| {
            ApiError::new(
                ErrorCode::LinkUnavailable,
                "this build cannot open links in a browser: copy the address instead",
            )
        })?;
        opener(&url).map_err(|e| {
            ApiError::new(
                ErrorCode::LinkUnavailable,
                format!("the browser could not be started: {e}"),
            )
        })?;
        Ok(LinkOpened {
            url: url.to_string(),
        })
    }

    /// A change request for the window: as [`Session::open_change_request`]
    /// without the raw unified diff, which the window never shows (its
    /// parsed files are the diff it shows), so that a large change crosses
    /// the IPC once, not twice.
    pub async fn open_change(
        &self,
        request: ChangeRequestRef,
    ) -> Result<ChangeRequestDetail, ApiError> {
        let mut d = self.open_change_request(request).await?;
        d.diff = String::new();
        Ok(d)
    }

    /// Whole files of a change's diff, from the parse kept when it was opened.
    pub async fn diff_files(&self, page: DiffPage) -> Result<DiffFiles, ApiError> {
        let key = (page.change_request.repo.clone(), page.change_request.number);
        let kept = self.diffs.lock().unwrap().get(&key).cloned();
        let files = match kept {
            Some(f) => f,
            None => {
                self.open_change_request(page.change_request).await?;
                self.diffs
                    .lock()
                    .unwrap()
                    .get(&key)
                    .cloned()
                    .unwrap_or_default()
            }
        };
        let from = (page.from as usize).min(files.len());
        let to = from.saturating_add(page.count as usize).min(files.len());
        Ok(DiffFiles {
            from: page.from,
            files: files[from..to].to_vec(),
        })
    }

    /// The policy's view of one change request, with every record known here
    /// and on the forge.
    pub async fn review_change_request(
        &self,
        request: ChangeRequestRef,
    ) -> Result<Review, ApiError> {
        let key = format!("{}#{}", request.repo, request.number);
        match self.review_online(request, Reader::Person).await {
            Ok(r) => Ok(r),
            Err(e) if crate::offline::is_offline(&e) => {
                match self.offline.recall::<Review>(Kind::Review, &key) {
                    Some((mut r, _)) => {
                        r.offline = true;
                        Ok(r)
                    }
                    None => Err(crate::offline::not_cached(
                        e,
                        &format!("the review of {key}"),
                    )),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn review_online(
        &self,
        request: ChangeRequestRef,
        reader: Reader,
    ) -> Result<Review, ApiError> {
        let key = format!("{}#{}", request.repo, request.number);
        let number = u64::from(request.number);
        let repo_name = request.repo.clone();
        let gathered =
            Arc::new(crate::snapshot::gather(self.forge.as_ref(), request.clone()).await?);
        if reader == Reader::Person {
            self.snapshots
                .lock()
                .unwrap()
                .insert((request.repo.clone(), request.number), gathered.clone());
            self.note_policy_seen(&repo_name, &gathered)?;
        }
        let remote = crate::records_on_forge::read(
            self.forge.as_ref(),
            &gathered.repo,
            number,
            gathered.policy.as_ref().ok(),
        )
        .await?;
        let local = self.stores.with_ledger(|l| {
            Ok(l.records()?
                .into_iter()
                .filter(|r| r.repo == repo_name && r.number == number)
                .filter_map(|r| serde_json::from_slice(&r.envelope).ok())
                .collect::<Vec<_>>())
        })?;
        // A record signed offline that has not reached the forge yet is
        // judged as if it arrived now: what the gate will say once pushed.
        let mut arrivals = remote.arrivals.clone();
        let now = self
            .forge
            .clock()
            .map_or_else(chrono::Utc::now, |c| c.now())
            .fixed_offset();
        for e in &local {
            let offline = countersign_signing::statement::Statement::of(e)
                .is_some_and(|s| s.predicate.offline.is_some());
            if let Some(d) = e.statement_digest().filter(|_| offline) {
                arrivals.entry(d).or_insert(now);
            }
        }
        let records = crate::records_on_forge::merge([remote.envelopes, local]);
        let user = self.forge.current_user().await.ok();
        let me = user.as_ref().map(|u| u.id);
        let head_is_mine = match (&user, gathered.commits.last()) {
            (Some(u), Some(c)) => c.author.as_ref().is_some_and(|a| a.login == u.login),
            _ => false,
        };
        // What this review read, for signing from it when the forge is away.
        // A watch reads for no one: nothing is kept that could be signed.
        if let Some(kept) = user.filter(|_| reader == Reader::Person).and_then(|u| {
            crate::snapshot::Kept::of(&gathered, records.clone(), u, self.forge.host())
        }) {
            self.offline.remember(
                Kind::Snapshot,
                &key,
                &kept,
                &gathered.gathered_at.to_rfc3339(),
            );
        }
        let mut review = crate::review::view(&gathered, self.forge.host(), me, &records, &arrivals);
        crate::review::block_on_disagreement(&mut review, &remote.disagreements);
        review.conversation = crate::review::conversation(
            &gathered.reviews,
            &remote.other_comments,
            &gathered.detail.item.head_sha,
        );
        self.judged
            .lock()
            .expect("judged lock")
            .insert(key.clone(), Some(JudgedHead::of(&review, head_is_mine)));
        if reader == Reader::Watch {
            return Ok(review);
        }
        self.offline
            .remember(Kind::Review, &key, &review, &review.synced_at);
        self.offline.remember(
            Kind::ChangeRequest,
            &key,
            &gathered.detail,
            &review.synced_at,
        );
        self.offline
            .remember_evidence(&key, &gathered.evidence, &review.synced_at);
        Ok(review)
    }

    /// The first time this session sees a policy version for a repository, the
    /// trail says so: which rules a reviewer was shown is part of the record.
    fn note_policy_seen(
        &self,
        repo: &str,
        gathered: &crate::snapshot::Gathered,
    ) -> Result<(), ApiError> {
        let Some(digest) = gathered.policy_digest.clone() else {
            return Ok(());
        };
        if !self
            .policies_seen
            .lock()
            .unwrap()
            .insert((repo.to_owned(), digest.clone()))
        {
            return Ok(());
        }
        let who = self.info.forge_url.trim_end_matches('/').to_owned();
        self.stores
            .record(
                countersign_ledger::AuditEvent::now(
                    countersign_ledger::EventKind::PolicySeen,
                    format!("reviewer@{who}"),
                    format!(
                        "{repo}:.countersign/policy.toml@{}",
                        gathered.detail.base_sha
                    ),
                )
                .change(None, Some(digest))
                .detail(match &gathered.policy {
                    Ok(_) => "policy read from the base commit".to_owned(),
                    Err(e) => format!("policy refused: {e}"),
                }),
            )
            .map(|_| ())
    }

    /// Fetch every change request of the queue with its review, and keep all
    /// of it for reading offline.
    pub async fn sync_offline(&self) -> Result<SyncOutcome, ApiError> {
        let queue = self.load_queue().await?;
        if queue.offline {
            return Err(ApiError::new(
                ErrorCode::ForgeUnreachable,
                "the forge cannot be reached: nothing new to sync",
            ));
        }
        let mut problems = Vec::new();
        let mut count = 0;
        for item in &queue.items {
            let request = ChangeRequestRef {
                repo: item.repo.clone(),
                number: item.number,
            };
            match self.review_online(request, Reader::Person).await {
                Ok(_) => count += 1,
                Err(e) => problems.push(format!("{}#{}: {}", item.repo, item.number, e.message)),
            }
        }
        // Done means kept: every write reaches the cache before this returns.
        self.offline.flush().await;
        self.stores
            .record(
                countersign_ledger::AuditEvent::now(
                    countersign_ledger::EventKind::Sync,
                    "local user".to_owned(),
                    self.info.forge_url.clone(),
                )
                .detail(format!(
                    "{count} change requests kept for offline reading; {} not kept",
                    problems.len()
                )),
            )
            .map(|_| ())?;
        Ok(SyncOutcome {
            change_requests: count,
            problems,
            synced_at: queue.synced_at,
        })
    }

    /// The gate: only what the forge holds counts (every version of the
    /// records ref and the records comment), never this device's ledger.
    pub async fn gate(&self, request: ChangeRequestRef) -> Result<GateReport, ApiError> {
        let number = u64::from(request.number);
        let gathered = crate::snapshot::gather(self.forge.as_ref(), request).await?;
        let (review, on_forge) = self.judged(&gathered, number).await?;
        Ok(GateReport {
            approved: review.verdict == Verdict::Approved,
            records_from: on_forge.source.to_owned(),
            records: on_forge.envelopes.len(),
            disagreements: on_forge.disagreements,
            left_out: on_forge.left_out,
            review,
        })
    }

    /// The change as the gate judges it: by the records the forge holds
    /// (never this device's), blocked when they disagree.
    async fn judged(
        &self,
        gathered: &crate::snapshot::Gathered,
        number: u64,
    ) -> Result<(Review, crate::records_on_forge::OnForge), ApiError> {
        let on_forge = crate::records_on_forge::read(
            self.forge.as_ref(),
            &gathered.repo,
            number,
            gathered.policy.as_ref().ok(),
        )
        .await?;
        let mut review = crate::review::view(
            gathered,
            self.forge.host(),
            None,
            &on_forge.envelopes,
            &on_forge.arrivals,
        );
        crate::review::block_on_disagreement(&mut review, &on_forge.disagreements);
        Ok((review, on_forge))
    }

    /// An inspector's dossier of one change request, written into `out`:
    /// what the forge holds (records, the policy at the base, the evidence),
    /// the review as the gate judges it, and this device's trail about it.
    pub async fn dossier(
        &self,
        request: ChangeRequestRef,
        out: &std::path::Path,
    ) -> Result<crate::dossier::Written, ApiError> {
        let number = u64::from(request.number);
        let object = format!("{}#{}", request.repo, request.number);
        let gathered = crate::snapshot::gather(self.forge.as_ref(), request).await?;
        let (review, on_forge) = self.judged(&gathered, number).await?;
        let roster = gathered
            .policy
            .as_ref()
            .map(|p| p.trusted_keys())
            .unwrap_or_default();
        let trail = self
            .stores
            .with_ledger(|l| crate::audit::trail(l, &AuditFilter::default(), 100_000))?
            .rows
            .into_iter()
            .filter(|r| r.object == object || r.object.starts_with(&format!("{object}@")))
            .rev()
            .map(|r| {
                let who = match r.printed_name {
                    Some(name) => format!("{name} ({})", r.actor),
                    None => r.actor,
                };
                (r.at_utc, r.kind, who, r.detail.unwrap_or_default())
            })
            .collect();
        let written = crate::dossier::write(
            out,
            &crate::dossier::Contents {
                review: &review,
                title: &gathered.detail.item.title,
                base_sha: &gathered.detail.base_sha,
                bundle: &countersign_signing::verify::Bundle::new(on_forge.envelopes.clone()),
                roster_json: serde_json::to_vec_pretty(&roster)
                    .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?,
                policy: gathered.policy_text.clone(),
                evidence: gathered
                    .evidence
                    .iter()
                    .map(|e| (e.name.clone(), e.content.clone()))
                    .collect(),
                trail,
            },
        )?;
        self.stores.record(
            countersign_ledger::AuditEvent::now(
                countersign_ledger::EventKind::Export,
                "local user".to_owned(),
                object,
            )
            .detail(format!("dossier written to {}", written.dir.display())),
        )?;
        Ok(written)
    }

    /// The window's dossier: into the user's documents folder (else the data
    /// folder), in a new folder named for the change and the time.
    pub async fn write_dossier(
        &self,
        request: ChangeRequestRef,
    ) -> Result<crate::contract::DossierWritten, ApiError> {
        // Only letters, digits, dots and dashes from the webview's request
        // reach the file system.
        let name: String = format!(
            "{}-{}-{}",
            request.repo,
            request.number,
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
        let root = dirs::document_dir()
            .filter(|d| d.is_dir())
            .unwrap_or_else(|| self.data_dir.clone())
            .join("Countersign dossiers");
        let written = self.dossier(request, &root.join(name)).await?;
        Ok(crate::contract::DossierWritten {
            dir: written.dir.display().to_string(),
            zip: written.zip.display().to_string(),
            files: u32::try_from(written.files.len()).unwrap_or(u32::MAX),
        })
    }

    pub async fn admin_policy(&self, request: RepoRef) -> Result<PolicyDraft, ApiError> {
        crate::admin::draft(self.forge.as_ref(), &request.repo).await
    }

    pub async fn check_policy(&self, request: PolicyText) -> Result<PolicyCheck, ApiError> {
        Ok(crate::admin::check(&request.text))
    }

    pub async fn add_signer(&self, request: AddSigner) -> Result<PolicyCheck, ApiError> {
        crate::admin::add_signer(request)
    }

    pub async fn propose_policy(&self, request: ProposePolicy) -> Result<ProposedPolicy, ApiError> {
        crate::admin::propose(self.forge.as_ref(), &self.stores, request).await
    }

    pub async fn remove_security_key(
        &self,
        request: crate::contract::RemoveSecurityKey,
    ) -> Result<SignerStatus, ApiError> {
        self.signatures
            .remove_security_key(self.forge.as_ref(), request)
            .await
    }

    pub async fn revoke_key(
        &self,
        request: crate::contract::RevokeKey,
    ) -> Result<crate::contract::KeyChange, ApiError> {
        crate::key_change::revoke(self.forge.as_ref(), &self.stores, &self.signatures, request)
            .await
    }

    pub async fn authorize_reset(
        &self,
        request: crate::contract::AuthorizeReset,
    ) -> Result<crate::contract::KeyChange, ApiError> {
        crate::key_change::authorize_reset(
            self.forge.as_ref(),
            &self.stores,
            &self.signatures,
            request,
        )
        .await
    }

    pub async fn enrol_after_reset(
        &self,
        request: crate::contract::ResetEnrolment,
    ) -> Result<crate::contract::KeyChange, ApiError> {
        crate::key_change::enrol_after_reset(
            self.forge.as_ref(),
            &self.stores,
            &self.signatures,
            request,
        )
        .await
    }

    pub async fn rotate_key(
        &self,
        request: crate::contract::RotateKey,
    ) -> Result<crate::contract::KeyChange, ApiError> {
        crate::key_change::rotate(self.forge.as_ref(), &self.stores, &self.signatures, request)
            .await
    }

    pub async fn settings(&self) -> Result<SettingsView, ApiError> {
        self.settings_view()
    }

    fn settings_view(&self) -> Result<SettingsView, ApiError> {
        let settings = crate::settings::load(&self.data_dir)?;
        let token_stored = Url::parse(&settings.api_url)
            .ok()
            .and_then(|api| {
                let keychain = self.stores.keychain().ok()?;
                crate::accounts::has_token(&api, keychain.as_ref()).ok()
            })
            .unwrap_or(false);
        Ok(SettingsView {
            settings,
            token_stored,
            connected_to: self.info.forge_url.clone(),
        })
    }

    /// Save the forge settings; the shell then starts a new session on them.
    pub async fn save_settings(&self, settings: ForgeSettings) -> Result<SettingsView, ApiError> {
        let before = crate::settings::load(&self.data_dir).ok();
        crate::settings::save(&self.data_dir, &settings)?;
        let json = |s: &ForgeSettings| serde_json::to_string(s).unwrap_or_default();
        self.stores
            .record(
                countersign_ledger::AuditEvent::now(
                    countersign_ledger::EventKind::SettingsChange,
                    "local user".to_owned(),
                    "forge settings",
                )
                .change(before.as_ref().map(json), Some(json(&settings))),
            )
            .map(|_| ())?;
        self.settings_view()
    }

    /// A session on the saved settings, with the OS keychain and the ledger in
    /// `data_dir`. A GitHub account without a token in the keychain is an
    /// error the settings screen can explain.
    pub async fn from_settings(data_dir: PathBuf) -> Result<Self, ApiError> {
        let target = crate::target::resolve(crate::target::Wanted::Saved(data_dir.clone()))?;
        Self::start_with(target, LocalStores::in_dir(data_dir)).await
    }

    /// The target the saved settings describe.
    pub fn target_from_settings(
        data_dir: &std::path::Path,
        keychain: &dyn countersign_keychain::SecretStore,
    ) -> Result<ForgeTarget, ApiError> {
        crate::target::resolve_with(
            crate::target::Wanted::Saved(data_dir.to_owned()),
            crate::target::Keychain::Given(keychain),
        )
    }

    pub async fn store_token(&self, request: TokenRequest) -> Result<Person, ApiError> {
        let api = Url::parse(&request.api_url)
            .map_err(|e| ApiError::invalid_input(format!("the API URL is not a URL: {e}")))?;
        let keychain = self.stores.keychain()?;
        crate::accounts::login(request.kind, api, request.token, keychain.as_ref()).await
    }

    pub async fn start_device_flow(
        &self,
        request: DeviceFlowRequest,
    ) -> Result<DeviceStart, ApiError> {
        let parse = |v: &str| {
            Url::parse(v).map_err(|e| ApiError::invalid_input(format!("{v:?} is not a URL: {e}")))
        };
        let (pending, shown) = crate::accounts::device_start(
            request.kind,
            parse(&request.web_url)?,
            parse(&request.api_url)?,
            &request.client_id,
        )
        .await?;
        *self.device.lock().await = Some(pending);
        Ok(shown)
    }

    pub async fn poll_device_flow(&self) -> Result<DevicePoll, ApiError> {
        let mut guard = self.device.lock().await;
        let pending = guard.as_mut().ok_or_else(|| {
            ApiError::new(
                ErrorCode::AccountsNoDeviceFlow,
                "start signing in with the forge first",
            )
        })?;
        let keychain = self.stores.keychain()?;
        let poll = crate::accounts::device_poll(pending, keychain.as_ref()).await?;
        if poll.state != DevicePollState::Pending {
            *guard = None;
        }
        Ok(poll)
    }

    /// Check this device's trail against the audit heads its records on the
    /// forge signed, in `repo` or in every repository the trail names.
    pub async fn audit_against_forge(
        &self,
        repo: Option<String>,
    ) -> Result<crate::audit_witness::WitnessReport, ApiError> {
        let key = self.signatures.my_key(self.forge.as_ref()).await?;
        crate::audit_witness::check(self.forge.as_ref(), &self.stores, key, repo).await
    }

    pub async fn signer_status(&self) -> Result<SignerStatus, ApiError> {
        self.signatures.status(self.forge.as_ref()).await
    }

    pub async fn change_password(&self, request: PasswordChange) -> Result<SignerStatus, ApiError> {
        self.signatures
            .change_password(self.forge.as_ref(), request)
            .await
    }

    pub async fn enrol(&self, request: EnrolRequest) -> Result<Enrolment, ApiError> {
        let enrolment = self.signatures.enrol(self.forge.as_ref(), request).await?;
        if self.info.sandbox {
            self.add_to_sandbox_roster(&enrolment).await?;
        }
        Ok(enrolment)
    }

    /// In the sandbox only, stand in for the administrator who adds a new
    /// signer's key to the policy roster (on a real forge that is a reviewed
    /// change to `.countersign/policy.toml`).
    async fn add_to_sandbox_roster(&self, enrolment: &Enrolment) -> Result<(), ApiError> {
        self.add_to_sandbox_roster_json(&enrolment.record_json)
            .await
    }

    async fn add_to_sandbox_roster_json(&self, record_json: &str) -> Result<(), ApiError> {
        let record: serde_json::Value = serde_json::from_str(record_json)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        let url = Url::parse(&self.info.forge_url)
            .and_then(|u| u.join("_sandbox/roster"))
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        let body = serde_json::json!({
            "user_id": record["forge"]["user_id"],
            "public_key": record["public_key"],
            "security_keys": record["security_keys"],
        });
        let response = reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::SandboxRoster,
                    format!("the sandbox did not take the key: {e}"),
                )
            })?;
        if !response.status().is_success() {
            return Err(ApiError::new(
                ErrorCode::SandboxRoster,
                format!("the sandbox refused the key: {}", response.status()),
            ));
        }
        Ok(())
    }

    /// The OS says the signer stepped away: every signing session ends.
    pub fn end_signing_sessions(&self, why: &str) -> Result<(), ApiError> {
        self.signatures.end_sessions(why)
    }

    /// Use this security-key reader (the app's USB reader; a software key in tests).
    pub fn set_security_key_device(&self, device: Arc<dyn crate::security_key::SecurityKeyDevice>) {
        self.signatures.set_security_key_device(device);
    }

    pub async fn register_security_key(
        &self,
        request: SecurityKeyRequest,
    ) -> Result<SignerStatus, ApiError> {
        let enrolment = self
            .signatures
            .register_security_key(self.forge.as_ref(), request.pin)
            .await?;
        if self.info.sandbox {
            let record = serde_json::to_string(&enrolment)
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
            self.add_to_sandbox_roster_json(&record).await?;
        }
        self.signer_status().await
    }

    pub async fn preview_signature(
        &self,
        draft: SignatureDraft,
    ) -> Result<SignaturePreview, ApiError> {
        match self.snapshot_of(&draft.change_request).await {
            Ok(snapshot) => {
                self.signatures
                    .preview(self.forge.as_ref(), draft, snapshot)
                    .await
            }
            // Without the forge: from the change as kept for offline, if it was.
            Err(e) if crate::offline::is_offline(&e) => {
                let kept = self.kept_for_signing(&draft.change_request, e)?;
                let files = self.offline.recall_evidence(&format!(
                    "{}#{}",
                    draft.change_request.repo, draft.change_request.number
                ));
                let snapshot = Arc::new(kept.restore(&files)?);
                let forge = crate::offline_forge::OfflineForge::new(&kept);
                self.signatures.preview(&forge, draft, snapshot).await
            }
            Err(e) => Err(e),
        }
    }

    /// The snapshot kept for offline signing of `request`, or why there is none.
    fn kept_for_signing(
        &self,
        request: &ChangeRequestRef,
        online: ApiError,
    ) -> Result<crate::snapshot::Kept, ApiError> {
        let key = format!("{}#{}", request.repo, request.number);
        self.offline
            .recall::<crate::snapshot::Kept>(Kind::Snapshot, &key)
            .map(|(kept, _)| kept)
            .ok_or_else(|| {
                crate::offline::not_cached(online, &format!("{key}, for signing offline,"))
            })
    }

    /// The change as the review read it, when that was under five minutes
    /// ago and the forge still has it (conditional requests); else read anew.
    async fn snapshot_of(
        &self,
        request: &ChangeRequestRef,
    ) -> Result<Arc<crate::snapshot::Gathered>, ApiError> {
        let key = (request.repo.clone(), request.number);
        let kept = self.snapshots.lock().unwrap().get(&key).cloned();
        let g = crate::snapshot::current(self.forge.as_ref(), kept, request.clone()).await?;
        self.snapshots.lock().unwrap().insert(key, g.clone());
        Ok(g)
    }

    /// Make this session's previews look `by` older (tests of expiry).
    #[doc(hidden)]
    pub fn age_previews(&self, by: chrono::Duration) {
        self.signatures.age_previews(by);
    }

    pub async fn sign_change_request(
        &self,
        request: SignRequest,
    ) -> Result<SignedRecord, ApiError> {
        if self.signatures.previewed_offline(&request.snapshot_id) {
            let kept = self.kept_for_signing(
                &request.draft.change_request,
                ApiError::new(ErrorCode::ForgeUnreachable, "the forge cannot be reached"),
            )?;
            let forge = crate::offline_forge::OfflineForge::new(&kept);
            return self.signatures.sign(&forge, request).await;
        }
        let change = &request.draft.change_request;
        let key = (change.repo.clone(), change.number);
        let signed = self.signatures.sign(self.forge.as_ref(), request).await?;
        // My signature changes what the change waits for: judge it again.
        self.judged
            .lock()
            .expect("judged lock")
            .remove(&format!("{}#{}", key.0, key.1));
        self.acted.lock().expect("acted lock").insert(key);
        Ok(signed)
    }

    /// Whether I am needed: the changes waiting for one of my roles (the
    /// tray) and the notifications due (rules in [`crate::attention`]).
    /// Changes not judged at their current head are reviewed for the watch
    /// (a few per look): such a reading keeps nothing that could be signed
    /// and writes nothing to the trail.
    pub async fn attention(&self) -> Result<crate::attention::Attention, ApiError> {
        /// Reviews per look: a forge full of new changes is judged over several minutes.
        const REVIEWS_PER_LOOK: usize = 5;
        let mut queue = self.load_queue().await?;
        if !queue.offline {
            // Every records ref's tip, in one request per repository.
            let mut tips = std::collections::HashMap::new();
            let repos: std::collections::BTreeSet<&str> =
                queue.items.iter().map(|i| i.repo.as_str()).collect();
            for repo in repos {
                match self.records_tips(repo).await {
                    Ok(found) => {
                        tips.insert(repo.to_owned(), found);
                    }
                    Err(e) => {
                        tracing::warn!(repo, error = %e.message, "the watch could not read the records refs");
                    }
                }
            }
            let mut reviews = 0;
            for item in queue.items.iter().filter(|i| !i.draft) {
                if reviews == REVIEWS_PER_LOOK {
                    break;
                }
                let key = format!("{}#{}", item.repo, item.number);
                let Some(repo_tips) = tips.get(&item.repo) else {
                    continue;
                };
                let tip = repo_tips
                    .get(&crate::records_on_forge::records_ref(u64::from(
                        item.number,
                    )))
                    .cloned();
                let current = self
                    .judged
                    .lock()
                    .expect("judged lock")
                    .get(&key)
                    .and_then(Option::as_ref)
                    .is_some_and(|j| j.head == item.head_sha && j.records_tip == tip);
                if current {
                    continue;
                }
                reviews += 1;
                let change = ChangeRequestRef {
                    repo: item.repo.clone(),
                    number: item.number,
                };
                match self.review_online(change, Reader::Watch).await {
                    Ok(_) => {
                        if let Some(Some(j)) =
                            self.judged.lock().expect("judged lock").get_mut(&key)
                        {
                            j.records_tip = tip;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(change = %key, error = %e.message, "the watch could not judge a change");
                    }
                }
            }
            self.judge_for_me(&mut queue);
        }
        let judged: Vec<crate::attention::Judged> = {
            let memo = self.judged.lock().expect("judged lock");
            queue
                .items
                .iter()
                .map(|i| {
                    let at_head = memo
                        .get(&format!("{}#{}", i.repo, i.number))
                        .and_then(Option::as_ref)
                        .filter(|j| j.head == i.head_sha);
                    crate::attention::Judged {
                        change: ChangeRequestRef {
                            repo: i.repo.clone(),
                            number: i.number,
                        },
                        title: i.title.clone(),
                        head_sha: i.head_sha.clone(),
                        known: at_head.is_some(),
                        waiting: at_head.is_some_and(|j| j.waiting),
                        mine_stale: at_head.is_some_and(|j| j.mine_stale),
                        head_is_mine: at_head.is_some_and(|j| j.head_is_mine),
                    }
                })
                .collect()
        };
        let acted = std::mem::take(&mut *self.acted.lock().expect("acted lock"));
        let now = self
            .forge
            .clock()
            .map_or_else(chrono::Utc::now, |c| c.now());
        Ok(self
            .watch
            .lock()
            .expect("watch lock")
            .look(now, &judged, &acted))
    }

    /// The commit each records ref of a repository points to, by ref name.
    async fn records_tips(
        &self,
        repo: &str,
    ) -> Result<std::collections::HashMap<String, String>, ApiError> {
        let repo: countersign_forge::RepoId = repo.parse()?;
        let prefix = crate::records_on_forge::RECORDS_REF_PREFIX;
        Ok(self
            .forge
            .refs_under(&repo, prefix)
            .await?
            .into_iter()
            .collect())
    }

    /// Open `change` in the window, as a launch link naming it would.
    pub fn request_open(&self, change: ChangeRequestRef) {
        self.requested
            .send_replace(Some(crate::contract::RequestedChange {
                change: Some(change),
                refused: None,
            }));
    }

    pub async fn audit_trail(&self, filter: AuditFilter) -> Result<AuditTrail, ApiError> {
        self.stores
            .with_ledger(|l| crate::audit::trail(l, &filter, 1000))
    }

    pub async fn outbox(&self) -> Result<Outbox, ApiError> {
        let items = self.stores.with_ledger(|l| Ok(l.outbox()?))?;
        Ok(Outbox {
            items: items
                .into_iter()
                .map(|i| OutboxRow {
                    repo: i.repo,
                    number: u32::try_from(i.number).unwrap_or(u32::MAX),
                    target: i.target,
                    state: match i.state {
                        countersign_ledger::PushState::Pending => OutboxState::Pending,
                        countersign_ledger::PushState::Pushed => OutboxState::Pushed,
                    },
                    attempts: i.attempts,
                    last_error: i.last_error,
                })
                .collect(),
        })
    }

    /// Push what waits in the outbox; records stay queued on failure.
    pub async fn push_outbox(&self) -> Result<PushOutcome, ApiError> {
        // One push at a time: the window retries on its own while a signer's
        // push may be running, and two would race for the records ref.
        let _one = self.pushing.lock().await;
        let kept = self.snapshots.lock().unwrap().clone();
        let r = crate::push::push_pending(self.forge.as_ref(), &self.stores, &kept).await?;
        Ok(PushOutcome {
            pushed: r.pushed,
            failed: r.failed,
            errors: r.errors,
        })
    }

    /// Push the records of one change request now, waiting in the outbox or
    /// not: repairs a records ref or comment that lost records.
    pub async fn push_change(&self, request: ChangeRequestRef) -> Result<PushOutcome, ApiError> {
        let _one = self.pushing.lock().await;
        let kept = self.snapshots.lock().unwrap().clone();
        let r = crate::push::push_change(
            self.forge.as_ref(),
            &self.stores,
            &kept,
            &request.repo,
            u64::from(request.number),
        )
        .await?;
        Ok(PushOutcome {
            pushed: r.pushed,
            failed: r.failed,
            errors: r.errors,
        })
    }
}

/// The keychain entry holding the key that vouches for the HTTP cache on disk.
const HTTP_CACHE_KEY: &str = "http-cache-key";

/// The conditional-request cache in `dir`, its entries authenticated with a
/// key from the keychain; none (memory only) when there is no keychain.
fn http_cache(stores: &Stores, dir: &std::path::Path) -> Option<countersign_forge::DiskCache> {
    let store = match stores.keychain() {
        Ok(store) => store,
        Err(e) => {
            tracing::info!(error = %e.message, "no keychain for the HTTP cache key: caching in memory only");
            return None;
        }
    };
    let key = match store.get(HTTP_CACHE_KEY) {
        Ok(Some(key)) if key.expose().len() == 32 => key,
        Ok(_) => {
            let mut fresh = vec![0u8; 32];
            getrandom::fill(&mut fresh).ok()?;
            store.set(HTTP_CACHE_KEY, &fresh).ok()?;
            Secret::new(fresh)
        }
        Err(e) => {
            tracing::info!(error = %e, "the HTTP cache key cannot be read: caching in memory only");
            return None;
        }
    };
    Some(countersign_forge::DiskCache {
        path: dir.join("http-cache.json"),
        key,
    })
}
