//! `countersign`: the headless shell over `countersign-api`. Each subcommand
//! parses its flags, calls one use case and prints the result.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use countersign_api::audit;
use countersign_api::bundle_check::{bundle_of, verify_offline, VerifyInput, VerifyOutcome};
use countersign_api::contract::{
    ChangeRequestRef, EnrolRequest, Meaning, SeenContent, SignRequest, SignatureDraft,
};
use countersign_api::target::{self, Wanted};
use countersign_api::ErrorCode;
use countersign_api::{ApiError, ForgeTarget, Session};
use countersign_forge_sandbox::{RunningSandbox, Seed};
use countersign_secret::Secret;
use url::Url;

#[derive(Parser)]
#[command(
    name = "countersign",
    version,
    about = "Part 11 electronic signatures for change requests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sandbox forge (demo data) on 127.0.0.1: GitHub's shape at its
    /// root, Gitea's under /api/v1/, Forgejo's under /forgejo/api/v1/, GitLab's
    /// under /gitlab/api/v4/.
    Sandbox {
        /// Port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Serve the demo repository without any pull requests.
        #[arg(long)]
        no_pull_requests: bool,
    },
    /// List the open change requests (JSON).
    Queue {
        #[command(flatten)]
        forge: ForgeArgs,
    },
    /// Verify approval records. Offline with --bundle (exit 0 only when every
    /// signature holds); as the gate with --forge/--repo/--pr (exit 0 only when
    /// the policy at the base commit is satisfied by the records on the forge).
    Verify {
        /// A Countersign bundle or a single DSSE envelope.
        #[arg(long, required_unless_present_any = ["forge", "dossier"], conflicts_with_all = ["forge", "dossier"])]
        bundle: Option<PathBuf>,
        /// A folder written by `countersign dossier`: every file against its manifest.
        #[arg(long, conflicts_with = "forge")]
        dossier: Option<PathBuf>,
        /// The gate: `github` (GitHub or GitHub Enterprise Server), `gitea`,
        /// `forgejo`, `gitlab` or `sandbox`.
        #[arg(long, requires_all = ["repo", "pr"])]
        forge: Option<String>,
        /// OWNER/REPO (with --forge).
        #[arg(long)]
        repo: Option<String>,
        /// The pull request number (with --forge).
        #[arg(long)]
        pr: Option<u32>,
        /// REST root for --forge github (default: $GITHUB_API_URL, else https://api.github.com/),
        /// for --forge gitea|forgejo (e.g. https://git.example/api/v1/; default:
        /// $GITHUB_SERVER_URL/api/v1/), for --forge gitlab (default: $CI_API_V4_URL)
        /// or for --forge sandbox (default: an embedded sandbox).
        #[arg(long)]
        api_url: Option<Url>,
        /// The commit the records must cover.
        #[arg(long)]
        commit: Option<String>,
        /// The unified diff the records must cover.
        #[arg(long)]
        diff: Option<PathBuf>,
        /// An evidence file the records must cover, as NAME=PATH (or PATH, named by
        /// its file name). When given, the evidence set must match exactly.
        #[arg(long = "evidence", value_name = "NAME=PATH")]
        evidence: Vec<String>,
        /// Trusted keys: a JSON list of enrolment records from the policy roster.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Enrol this device: make a signing key sealed under a password in the OS keychain.
    Enrol {
        #[command(flatten)]
        forge: ForgeArgs,
        /// Your printed name, as it will appear on every signature.
        #[arg(long)]
        name: String,
        /// Read the signing password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
        /// Accept that your electronic signature is legally binding (21 CFR 11.100(c)).
        #[arg(long)]
        accept_acknowledgement: bool,
        /// Write the public enrolment record here (for the policy roster).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Sign a change request after re-authenticating with the signing password.
    Sign {
        #[command(flatten)]
        forge: ForgeArgs,
        /// OWNER/REPO
        #[arg(long)]
        repo: String,
        #[arg(long)]
        pr: u32,
        /// authorship, review, approval, responsibility, rejection, or
        /// withdrawal (with --withdraws).
        #[arg(long)]
        meaning: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        role: String,
        /// With --meaning withdrawal: the record of yours it takes back, as
        /// `countersign verify --forge` lists it (sha256:…).
        #[arg(long)]
        withdraws: Option<String>,
        /// Confirm with your registered security key too (asks for its PIN,
        /// then a touch; with --password-stdin the PIN is the second line).
        #[arg(long)]
        security_key: bool,
        /// With several security keys (a backup one): which, by credential id
        /// (`countersign key list`); implies --security-key.
        #[arg(long)]
        security_key_id: Option<String>,
        /// Read the signing password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
        /// Write the signed envelope as a bundle here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Push signed records waiting in the outbox to the forge (comment and status).
    /// With --repo and --pr, push that change request's records now, waiting
    /// or not: repairs records the ref or the comment lost.
    Push {
        #[command(flatten)]
        forge: ForgeArgs,
        /// OWNER/REPO of the change request to push (with --pr).
        #[arg(long, requires = "pr")]
        repo: Option<String>,
        #[arg(long, requires = "repo")]
        pr: Option<u32>,
    },
    /// Write an inspector's dossier of a change request into a folder:
    /// index.html, the records bundle, the roster, the policy at the base,
    /// the evidence, VERIFY.md and MANIFEST.sha256.
    Dossier {
        /// `github` (GitHub or GitHub Enterprise Server) or `sandbox`.
        #[arg(long)]
        forge: String,
        /// REST root (as for `countersign verify`).
        #[arg(long)]
        api_url: Option<Url>,
        /// OWNER/REPO
        #[arg(long)]
        repo: String,
        #[arg(long)]
        pr: u32,
        #[arg(long)]
        out: PathBuf,
    },
    /// Change the signing password: the key is re-sealed under the new one.
    Password {
        #[command(flatten)]
        forge: ForgeArgs,
        /// Read the current password, then the new one, from standard input (a line each).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Check a forge token and keep it in the OS keychain.
    Login {
        /// REST root, e.g. https://api.github.com/ or https://git.example/api/v1/
        #[arg(long)]
        api_url: Url,
        /// Which kind of forge --api-url is.
        #[arg(long, value_enum, default_value_t = ForgeName::Github)]
        forge: ForgeName,
        /// Read the token from standard input (one line).
        #[arg(long)]
        token_stdin: bool,
    },
    /// Signing keys over their lifetime.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// A forgotten signing password, under dual control.
    Reset {
        #[command(subcommand)]
        action: ResetAction,
    },
    /// Withdraw one of your signatures: a signed withdrawal that names the
    /// record (as `countersign verify --forge` lists it) and gives a reason.
    Withdraw {
        #[command(flatten)]
        forge: ForgeArgs,
        /// OWNER/REPO
        #[arg(long)]
        repo: String,
        #[arg(long)]
        pr: u32,
        /// The record to withdraw: `sha256:…`.
        #[arg(long)]
        record: String,
        #[arg(long)]
        reason: String,
        /// Read the signing password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// The local audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Show one change request with its diff (JSON).
    Show {
        #[command(flatten)]
        forge: ForgeArgs,
        /// OWNER/REPO
        #[arg(long)]
        repo: String,
        #[arg(long)]
        pr: u32,
    },
}

#[derive(Subcommand)]
enum ResetAction {
    /// As a member of the policy's `reset_by` role: authorize a member who
    /// forgot their signing password to enrol a new key. Two members'
    /// authorizations, merged, are needed.
    Authorize {
        #[command(flatten)]
        forge: ForgeArgs,
        #[arg(long)]
        repo: String,
        /// The member's forge login.
        #[arg(long)]
        user: String,
        /// How their identity was confirmed.
        #[arg(long)]
        reason: String,
        /// Read your own signing password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// After a forgotten password: enrol a new key on two merged
    /// authorizations; your old key is revoked in the proposed roster change.
    Enrol {
        #[command(flatten)]
        forge: ForgeArgs,
        #[arg(long)]
        repo: String,
        /// Path of an authorization record on the base branch (twice or more).
        #[arg(long = "authorization", required = true)]
        authorizations: Vec<String>,
        /// Read the new key's signing password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
        /// Accept the acknowledgement that the electronic signature is legally binding.
        #[arg(long)]
        accept_acknowledgement: bool,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Change the signing password (as `countersign password`).
    Passwd {
        #[command(flatten)]
        forge: ForgeArgs,
        /// Read the current password, then the new one, from standard input (a line each).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Register a FIDO2 security key (a backup one too) with this device's
    /// signer; asks for the key's PIN, then a touch.
    AddSecurityKey {
        #[command(flatten)]
        forge: ForgeArgs,
        /// Read the PIN from standard input (one line).
        #[arg(long)]
        pin_stdin: bool,
    },
    /// This device's signing identity: key, enrolment, password age, session,
    /// security keys.
    List {
        #[command(flatten)]
        forge: ForgeArgs,
    },
    /// Move to a new signing key: the new key is sealed under a new password,
    /// and the roster change (old key ended, new key in the same roles) is
    /// proposed with a rotation record signed by the old key.
    Rotate {
        #[command(flatten)]
        forge: ForgeArgs,
        /// OWNER/REPO whose policy roster lists your key.
        #[arg(long)]
        repo: String,
        #[arg(long)]
        reason: String,
        /// Read the current password, then the new key's, from standard input (a line each).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Revoke a member's signing key (lost laptop, leaver): proposes the
    /// roster edit and a revocation record you sign, as one pull request.
    Revoke {
        #[command(flatten)]
        forge: ForgeArgs,
        /// OWNER/REPO whose policy roster lists the key.
        #[arg(long)]
        repo: String,
        /// The key as the roster lists it (base64 public_key).
        #[arg(long)]
        key: String,
        #[arg(long)]
        reason: String,
        /// Read your own signing password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check the hash chain and checkpoints; report the first broken place.
    /// With --forge, also check this device's trail against the audit heads
    /// its signed records on the forge carry (a trail cut or replaced shows).
    Verify {
        /// A ledger database (default: this device's).
        #[arg(long, conflicts_with_all = ["export", "forge"])]
        db: Option<PathBuf>,
        /// An `audit.json` written by `countersign audit export`.
        #[arg(long, conflicts_with = "forge")]
        export: Option<PathBuf>,
        /// `github` (GitHub or GitHub Enterprise Server), `gitea`, `forgejo`, `gitlab` or `sandbox`.
        #[arg(long)]
        forge: Option<String>,
        /// OWNER/REPO (with --forge; default: every repository the trail
        /// names or the account can see).
        #[arg(long, requires = "forge")]
        repo: Option<String>,
        /// REST root for --forge (as for `countersign verify`).
        #[arg(long, requires = "forge")]
        api_url: Option<Url>,
    },
    /// Write audit.json (verifiable elsewhere) and audit.html into a folder.
    Export {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct ForgeArgs {
    /// REST root of a running sandbox forge. With neither this nor --api-url,
    /// an embedded sandbox is started.
    #[arg(long, conflicts_with = "api_url")]
    sandbox_url: Option<Url>,
    /// REST root of the forge, e.g. https://api.github.com/ or
    /// https://git.example/api/v1/ (the token comes from the keychain: see
    /// `countersign login`).
    #[arg(long)]
    api_url: Option<Url>,
    /// Which kind of forge --api-url is.
    #[arg(long = "forge", value_enum, requires = "api_url")]
    kind: Option<ForgeName>,
    /// OWNER/REPO to watch (repeatable; default: your most recently pushed repositories).
    #[arg(long = "watch", value_name = "OWNER/REPO")]
    repos: Vec<String>,
}

impl ForgeArgs {
    fn target(self) -> Result<ForgeTarget, ApiError> {
        target::resolve(match (self.sandbox_url, self.api_url) {
            (Some(url), _) => Wanted::Sandbox(url),
            (None, Some(api_base)) if matches!(self.kind, Some(ForgeName::Gitlab)) => {
                Wanted::GitLab {
                    api_base: Some(api_base),
                    repos: self.repos,
                    token_from_env: false,
                }
            }
            (None, Some(api_base)) => match self.kind.unwrap_or(ForgeName::Github).flavor() {
                None => Wanted::GitHub {
                    api_base: Some(api_base),
                    repos: self.repos,
                    token_from_env: false,
                },
                Some(flavor) => Wanted::Gitea {
                    flavor,
                    api_base: Some(api_base),
                    repos: self.repos,
                    token_from_env: false,
                },
            },
            (None, None) => Wanted::EmbeddedSandbox,
        })
    }
}

/// The kinds of forge a token or REST root can be for.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ForgeName {
    Github,
    Gitea,
    Forgejo,
    Gitlab,
}

impl ForgeName {
    fn kind(self) -> countersign_api::contract::ForgeKind {
        use countersign_api::contract::ForgeKind;
        match self {
            Self::Github => ForgeKind::GitHub,
            Self::Gitea => ForgeKind::Gitea,
            Self::Forgejo => ForgeKind::Forgejo,
            Self::Gitlab => ForgeKind::GitLab,
        }
    }

    fn flavor(self) -> Option<countersign_api::Flavor> {
        use countersign_api::Flavor;
        match self {
            Self::Github | Self::Gitlab => None,
            Self::Gitea => Some(Flavor::Gitea),
            Self::Forgejo => Some(Flavor::Forgejo),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COUNTERSIGN_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error [{}]: {}", e.code, e.message);
            ExitCode::FAILURE
        }
    }
}

/// One function per subcommand, each a few lines over the use cases.
async fn run(cli: Cli) -> Result<ExitCode, ApiError> {
    match cli.command {
        Command::Sandbox {
            port,
            no_pull_requests,
        } => sandbox(port, no_pull_requests).await,
        Command::Queue { forge } => queue(forge).await,
        Command::Verify {
            forge: Some(forge),
            repo: Some(repo),
            pr: Some(pr),
            api_url,
            json,
            ..
        } => gate(&forge, api_url, repo, pr, json).await,
        Command::Verify {
            dossier: Some(dir), ..
        } => verify_dossier(&dir),
        Command::Verify {
            bundle,
            commit,
            diff,
            evidence,
            keys,
            json,
            ..
        } => verify_bundle(bundle, keys, commit, diff, &evidence, json),
        Command::Dossier {
            forge,
            api_url,
            repo,
            pr,
            out,
        } => dossier(&forge, api_url, repo, pr, &out).await,
        Command::Password {
            forge,
            password_stdin,
        } => change_password(forge, password_stdin).await,
        Command::Enrol {
            forge,
            name,
            password_stdin,
            accept_acknowledgement,
            out,
        } => enrol(forge, name, password_stdin, accept_acknowledgement, out).await,
        Command::Sign {
            forge,
            repo,
            pr,
            meaning,
            reason,
            role,
            withdraws,
            security_key,
            security_key_id,
            password_stdin,
            out,
        } => {
            let meaning: Meaning =
                serde_json::from_value(serde_json::Value::String(meaning.clone()))
                    .map_err(|_| ApiError::invalid_input(format!("unknown meaning {meaning:?}")))?;
            let draft = SignatureDraft {
                change_request: ChangeRequestRef { repo, number: pr },
                meaning,
                reason,
                role,
                use_security_key: security_key || security_key_id.is_some(),
                security_key_id,
                withdraws,
            };
            sign(forge, draft, password_stdin, out).await
        }
        Command::Push { forge, repo, pr } => push(forge, repo.zip(pr)).await,
        Command::Login {
            api_url,
            forge,
            token_stdin,
        } => login(forge, api_url, token_stdin).await,
        Command::Audit {
            action:
                AuditAction::Verify {
                    forge: Some(forge),
                    repo,
                    api_url,
                    ..
                },
        } => audit_against_forge(&forge, repo, api_url).await,
        Command::Reset {
            action:
                ResetAction::Authorize {
                    forge,
                    repo,
                    user: login,
                    reason,
                    password_stdin,
                },
        } => {
            let password = read_password(password_stdin)?;
            let session = Session::start(forge.target()?).await?;
            let change = session
                .authorize_reset(countersign_api::contract::AuthorizeReset {
                    repo,
                    login,
                    reason,
                    password,
                })
                .await?;
            println!(
                "Proposed as #{} from {}: your authorization for {} is {} (it counts once merged)",
                change.number, change.branch, change.holder, change.record_path
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Reset {
            action:
                ResetAction::Enrol {
                    forge,
                    repo,
                    authorizations,
                    password_stdin,
                    accept_acknowledgement,
                },
        } => {
            let password = read_password_as(password_stdin, "The new key's signing password: ")?;
            let session = Session::start(forge.target()?).await?;
            let change = session
                .enrol_after_reset(countersign_api::contract::ResetEnrolment {
                    repo,
                    authorizations,
                    password,
                    acknowledged: accept_acknowledgement,
                })
                .await?;
            println!(
                "Proposed as #{} from {}: a new key for {} in {}; the old one is revoked once merged",
                change.number,
                change.branch,
                change.holder,
                change.roles.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Key {
            action:
                KeyAction::Passwd {
                    forge,
                    password_stdin,
                },
        } => change_password(forge, password_stdin).await,
        Command::Key {
            action: KeyAction::AddSecurityKey { forge, pin_stdin },
        } => {
            let pin = read_password_as(pin_stdin, "Security key PIN: ")?;
            let session = Session::start(forge.target()?).await?;
            eprintln!("Touch the security key when it blinks.");
            let status = session
                .register_security_key(countersign_api::contract::SecurityKeyRequest {
                    pin: Some(pin),
                })
                .await?;
            println!(
                "Security key registered; {} registered for {}: {}",
                status.security_key_ids.len(),
                status.printed_name.unwrap_or_default(),
                status.security_key_ids.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Key {
            action: KeyAction::List { forge },
        } => {
            let session = Session::start(forge.target()?).await?;
            let s = session.signer_status().await?;
            if !s.enrolled {
                println!(
                    "@{} has no signing key on this device (countersign enrol).",
                    s.identity.login
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!("Printed name: {}", s.printed_name.unwrap_or_default());
            println!(
                "Forge account: @{} (user {})",
                s.identity.login, s.identity.id
            );
            println!("Signing key: {}", s.fingerprint.unwrap_or_default());
            println!("Enrolled: {}", s.enrolled_at.unwrap_or_default());
            println!(
                "Password set: {}",
                s.password_set_at.as_deref().unwrap_or("at enrolment")
            );
            println!(
                "Signing session: {}",
                s.session_ends_at.map_or(
                    "none (the next signature asks for everything)".to_owned(),
                    |t| format!("open until {t}")
                )
            );
            if let Some(t) = s.locked_until {
                println!("Locked until: {t}");
            }
            for id in &s.security_key_ids {
                println!("Security key: {id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Withdraw {
            forge,
            repo,
            pr,
            record,
            reason,
            password_stdin,
        } => {
            let session = Session::start(forge.target()?).await?;
            let change_request = ChangeRequestRef { repo, number: pr };
            // The role is the withdrawn record's own.
            let review = session
                .review_change_request(change_request.clone())
                .await?;
            let role = review
                .signatures
                .iter()
                .find(|s| s.record.as_deref() == Some(record.as_str()))
                .map(|s| s.role.clone())
                .ok_or_else(|| {
                    ApiError::invalid_input(format!(
                        "no record {record} on this change (countersign verify --forge lists them)"
                    ))
                })?;
            let draft = SignatureDraft {
                change_request,
                meaning: Meaning::Withdrawal,
                reason,
                role,
                use_security_key: false,
                security_key_id: None,
                withdraws: Some(record),
            };
            sign_with(session, draft, password_stdin, None).await
        }
        Command::Key {
            action:
                KeyAction::Rotate {
                    forge,
                    repo,
                    reason,
                    password_stdin,
                },
        } => {
            let password = read_password_as(password_stdin, "Current signing password: ")?;
            let new_password =
                read_password_as(password_stdin, "The new key's signing password: ")?;
            if !password_stdin
                && read_password_as(false, "The new key's signing password again: ")?.expose()
                    != new_password.expose()
            {
                return Err(ApiError::invalid_input("the two new passwords differ"));
            }
            let session = Session::start(forge.target()?).await?;
            let change = session
                .rotate_key(countersign_api::contract::RotateKey {
                    repo,
                    reason,
                    password,
                    new_password,
                })
                .await?;
            println!(
                "Proposed as #{} from {}: {} moves to a new key in {}; signed record {}. This device signs with the new key, which counts once the pull request is merged.",
                change.number,
                change.branch,
                change.holder,
                change.roles.join(", "),
                change.record_path
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Key {
            action:
                KeyAction::Revoke {
                    forge,
                    repo,
                    key,
                    reason,
                    password_stdin,
                },
        } => {
            let password = read_password(password_stdin)?;
            let session = Session::start(forge.target()?).await?;
            let change = session
                .revoke_key(countersign_api::contract::RevokeKey {
                    repo,
                    public_key: key,
                    reason,
                    password,
                })
                .await?;
            println!(
                "Proposed as #{} from {}: {}'s key revoked in {}; signed record {}",
                change.number,
                change.branch,
                change.holder,
                change.roles.join(", "),
                change.record_path
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { action } => audit_trail(action),
        Command::Show { forge, repo, pr } => {
            show(forge, ChangeRequestRef { repo, number: pr }).await
        }
    }
}

/// `countersign sandbox`: serve the sandbox forge until interrupted.
async fn sandbox(port: u16, no_pull_requests: bool) -> Result<ExitCode, ApiError> {
    let seed = if no_pull_requests {
        Seed::NoPullRequests
    } else {
        Seed::Demo
    };
    let sandbox = RunningSandbox::start(port, seed)
        .await
        .map_err(|e| ApiError::new(ErrorCode::SandboxStartFailed, e.to_string()))?;
    // Scripts read this line to learn the port.
    println!("sandbox forge listening on {}", sandbox.api_base());
    println!(
        "  in Gitea's shape at {}\n  in Forgejo's shape at {}\n  in GitLab's shape at {}",
        sandbox.api_base_as(countersign_forge_sandbox::Shape::Gitea),
        sandbox.api_base_as(countersign_forge_sandbox::Shape::Forgejo),
        sandbox.gitlab_api_base()
    );
    tokio::select! {
        () = sandbox.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// `countersign queue`: the open change requests, as JSON.
async fn queue(forge: ForgeArgs) -> Result<ExitCode, ApiError> {
    let session = Session::start(forge.target()?).await?;
    print_json(&session.load_queue().await?)
}

/// `countersign verify --forge …`: the gate; exit 0 only when approved.
async fn gate(
    forge: &str,
    api_url: Option<Url>,
    repo: String,
    pr: u32,
    json: bool,
) -> Result<ExitCode, ApiError> {
    let session = Session::start(gate_target(forge, api_url)?).await?;
    let report = session
        .gate(ChangeRequestRef {
            repo: repo.clone(),
            number: pr,
        })
        .await?;
    if json {
        print_json(&report)?;
    } else {
        print_gate(&repo, pr, &report);
    }
    Ok(exit_if(report.approved))
}

/// `countersign verify --bundle …`: records against what the verifier holds, offline.
fn verify_bundle(
    bundle: Option<PathBuf>,
    keys: Option<PathBuf>,
    commit: Option<String>,
    diff: Option<PathBuf>,
    evidence: &[String],
    json: bool,
) -> Result<ExitCode, ApiError> {
    let bundle = bundle.ok_or_else(|| {
        ApiError::invalid_input("pass --bundle FILE, or --forge with --repo and --pr")
    })?;
    let input = VerifyInput {
        bundle: read(&bundle)?,
        keys: keys.as_deref().map(read).transpose()?,
        commit,
        diff: diff.as_deref().map(read).transpose()?,
        evidence: evidence
            .iter()
            .map(|e| evidence_arg(e))
            .collect::<Result<_, _>>()?,
    };
    let outcome = verify_offline(input)?;
    if json {
        print_json(&outcome)?;
    } else {
        print_outcome(&outcome);
    }
    Ok(exit_if(outcome.holds))
}

/// `countersign enrol`: a signing key in the keychain, and its enrolment record.
async fn enrol(
    forge: ForgeArgs,
    name: String,
    password_stdin: bool,
    accept_acknowledgement: bool,
    out: Option<PathBuf>,
) -> Result<ExitCode, ApiError> {
    let password = read_password(password_stdin)?;
    let session = Session::start(forge.target()?).await?;
    let enrolment = session
        .enrol(EnrolRequest {
            printed_name: name,
            password,
            acknowledged: accept_acknowledgement,
        })
        .await?;
    println!("{}", enrolment.acknowledgement);
    println!("Enrolled key {}", enrolment.fingerprint);
    match out {
        Some(out) => write(&out, enrolment.record_json.as_bytes())?,
        None => println!("{}", enrolment.record_json),
    }
    Ok(ExitCode::SUCCESS)
}

/// `countersign sign`: preview, re-authenticate, sign; optionally write the bundle.
async fn sign(
    forge: ForgeArgs,
    draft: SignatureDraft,
    password_stdin: bool,
    out: Option<PathBuf>,
) -> Result<ExitCode, ApiError> {
    let session = Session::start(forge.target()?).await?;
    sign_with(session, draft, password_stdin, out).await
}

/// Preview, re-authenticate (password, and the security key's PIN when the
/// draft uses one), sign; optionally write the bundle.
async fn sign_with(
    session: Session,
    draft: SignatureDraft,
    password_stdin: bool,
    out: Option<PathBuf>,
) -> Result<ExitCode, ApiError> {
    let password = read_password(password_stdin)?;
    let pin = if draft.use_security_key {
        Some(read_password_as(password_stdin, "Security key PIN: ")?)
    } else {
        None
    };
    // The CLI's "review" is this line: the commit and diff it signs.
    let preview = session.preview_signature(draft.clone()).await?;
    eprintln!(
        "Signing commit {} with diff sha256 {}",
        preview.head_sha, preview.diff_sha256
    );
    if let Some(warning) = &preview.clock_warning {
        eprintln!("Warning: {warning}");
    }
    let seen = SeenContent {
        head_sha: preview.head_sha,
        diff_sha256: preview.diff_sha256,
    };
    let signed = session
        .sign_change_request(SignRequest {
            snapshot_id: preview.snapshot_id,
            draft,
            seen,
            password,
            security_key_pin: pin,
        })
        .await?;
    println!("{}", signed.manifestation);
    if let Some(out) = out {
        write(&out, &bundle_of(&signed.envelope_json)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `countersign dossier`.
async fn dossier(
    forge: &str,
    api_url: Option<Url>,
    repo: String,
    number: u32,
    out: &Path,
) -> Result<ExitCode, ApiError> {
    let session = Session::start(gate_target(forge, api_url)?).await?;
    let written = session
        .dossier(ChangeRequestRef { repo, number }, out)
        .await?;
    println!(
        "Dossier written to {} ({} files, listed in {}), and as {}.",
        written.dir.display(),
        written.files.len(),
        countersign_api::dossier::MANIFEST,
        written.zip.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `countersign verify --dossier DIR`.
fn verify_dossier(dir: &Path) -> Result<ExitCode, ApiError> {
    let c = countersign_api::dossier::check(dir)?;
    for f in &c.changed {
        println!("CHANGED: {f}");
    }
    for f in &c.missing {
        println!("MISSING: {f}");
    }
    for f in &c.unlisted {
        println!("NOT LISTED: {f}");
    }
    println!(
        "{}",
        if c.holds {
            "Dossier holds: every file as listed."
        } else {
            "Dossier does NOT hold."
        }
    );
    Ok(exit_if(c.holds))
}

/// `countersign password`: re-seal this device's key under a new password.
async fn change_password(forge: ForgeArgs, from_stdin: bool) -> Result<ExitCode, ApiError> {
    let old = read_password_as(from_stdin, "Current signing password: ")?;
    let new = read_password_as(from_stdin, "New signing password: ")?;
    if !from_stdin
        && read_password_as(false, "New signing password again: ")?.expose() != new.expose()
    {
        return Err(ApiError::invalid_input("the two new passwords differ"));
    }
    let session = Session::start(forge.target()?).await?;
    let status = session
        .change_password(countersign_api::contract::PasswordChange {
            old_password: old,
            new_password: new,
        })
        .await?;
    println!(
        "Signing password changed for {} ({}); the key is unchanged.",
        status.printed_name.unwrap_or_default(),
        status.fingerprint.unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// `countersign push`: send what waits in the outbox, or one change
/// request's records.
async fn push(forge: ForgeArgs, change: Option<(String, u32)>) -> Result<ExitCode, ApiError> {
    let session = Session::start(forge.target()?).await?;
    let report = match change {
        Some((repo, number)) => {
            session
                .push_change(ChangeRequestRef { repo, number })
                .await?
        }
        None => session.push_outbox().await?,
    };
    println!("{} pushed, {} still waiting", report.pushed, report.failed);
    for e in &report.errors {
        println!("  {e}");
    }
    Ok(exit_if(report.failed == 0))
}

/// `countersign login`: check a token with the forge, then keep it in the keychain.
async fn login(forge: ForgeName, api_url: Url, token_stdin: bool) -> Result<ExitCode, ApiError> {
    if !token_stdin {
        return Err(ApiError::invalid_input(
            "pass --token-stdin and write the token to standard input",
        ));
    }
    let token = read_password(true)?;
    let me = countersign_api::accounts::login_to_os_keychain(forge.kind(), api_url.clone(), token)
        .await?;
    println!("Signed in to {api_url} as @{} (user {})", me.login, me.id);
    Ok(ExitCode::SUCCESS)
}

/// `countersign audit verify --forge …`: this device's trail against the
/// audit heads in its records on the forge.
async fn audit_against_forge(
    forge: &str,
    repo: Option<String>,
    api_url: Option<Url>,
) -> Result<ExitCode, ApiError> {
    let session = Session::start(gate_target(forge, api_url)?).await?;
    let report = session.audit_against_forge(repo).await?;
    match &report.trail_problem {
        None => println!("Audit trail: {} entries, chain holds", report.trail_size),
        Some(p) => println!("Audit trail BROKEN at {p}"),
    }
    println!(
        "Records of this device on the forge ({}): {}",
        report.repos.join(", "),
        report.witnesses.len()
    );
    for w in &report.witnesses {
        match &w.problem {
            None => println!("  {}: holds at {}", w.record, w.head),
            Some(p) => println!("  {}: DOES NOT HOLD — {p}", w.record),
        }
    }
    println!(
        "{}",
        if report.holds {
            "The trail holds against every signed head."
        } else {
            "The trail does NOT hold."
        }
    );
    Ok(exit_if(report.holds))
}

/// `countersign audit verify|export`.
fn audit_trail(action: AuditAction) -> Result<ExitCode, ApiError> {
    let default_db = || countersign_api::default_data_dir().join("ledger.sqlite");
    let verdict = match action {
        AuditAction::Verify {
            export: Some(path), ..
        } => audit::verify_export_file(&read(&path)?)?,
        AuditAction::Verify { db, .. } => audit::verify_db(&db.unwrap_or_else(default_db))?,
        AuditAction::Export { db, out } => {
            let actor = format!(
                "cli/{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            );
            let v = audit::export_to(&db.unwrap_or_else(default_db), &out, &actor)?;
            println!(
                "Wrote {} and {}",
                out.join("audit.json").display(),
                out.join("audit.html").display()
            );
            v
        }
    };
    match &verdict.problem {
        None => println!(
            "Audit trail verified: {} entries, head {}",
            verdict.size, verdict.head
        ),
        Some(p) => println!("Audit trail BROKEN at {p}"),
    }
    Ok(exit_if(verdict.holds))
}

/// `countersign show`: one change request with its whole diff, as JSON.
async fn show(forge: ForgeArgs, change_request: ChangeRequestRef) -> Result<ExitCode, ApiError> {
    let session = Session::start(forge.target()?).await?;
    print_json(&session.open_change_request(change_request).await?)
}

/// Success, or the exit code 1 that means "checked, and it does not hold".
fn exit_if(holds: bool) -> ExitCode {
    if holds {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Where the gate reads from. In CI the token comes from `GITHUB_TOKEN` (or
/// `COUNTERSIGN_TOKEN`); on a workstation from the keychain (`countersign login`).
fn gate_target(forge: &str, api_url: Option<Url>) -> Result<ForgeTarget, ApiError> {
    target::resolve(match (forge, api_url) {
        ("sandbox", Some(url)) => Wanted::Sandbox(url),
        ("sandbox", None) => Wanted::EmbeddedSandbox,
        ("github", api_base) => Wanted::GitHub {
            api_base,
            repos: Vec::new(),
            token_from_env: true,
        },
        ("gitea", api_base) => Wanted::Gitea {
            flavor: countersign_api::Flavor::Gitea,
            api_base,
            repos: Vec::new(),
            token_from_env: true,
        },
        ("forgejo", api_base) => Wanted::Gitea {
            flavor: countersign_api::Flavor::Forgejo,
            api_base,
            repos: Vec::new(),
            token_from_env: true,
        },
        ("gitlab", api_base) => Wanted::GitLab {
            api_base,
            repos: Vec::new(),
            token_from_env: true,
        },
        (other, _) => {
            return Err(ApiError::invalid_input(format!(
                "--forge must be github, gitea, forgejo, gitlab or sandbox, not {other:?}"
            )))
        }
    })
}

fn print_gate(repo: &str, pr: u32, report: &countersign_api::GateReport) {
    let r = &report.review;
    println!("{repo}#{pr} at {}", r.head_sha);
    match (&r.policy.digest, &r.policy.error) {
        (_, Some(e)) => println!("Policy: BLOCKED: {e}"),
        (Some(d), None) => println!("Policy: .countersign/policy.toml at the base commit ({d})"),
        (None, None) => {}
    }
    println!(
        "Risk class: {} (rules: {})",
        r.risk_class,
        r.rules.join(", ")
    );
    match (&r.assessment, &r.assessment_error) {
        (Some(a), _) => println!(
            "Risk assessment: {} — risk {} before controls, {} after",
            a.hazard, a.risk_before, a.risk_after
        ),
        (None, Some(e)) => println!("Risk assessment: UNREADABLE: {e}"),
        (None, None) => println!("Risk assessment: none"),
    }
    match report.records_from.as_str() {
        "none" => println!("Records: none on the forge"),
        from => println!("Records: {} (from the {from})", report.records),
    }
    for d in &report.disagreements {
        println!("Records DISAGREE: {d} (repair: countersign push --repo {repo} --pr {pr})");
    }
    for l in &report.left_out {
        println!("Left out (not a signed record): {l}");
    }
    for s in &r.signatures {
        let meaning = s
            .meaning
            .map(|m| format!("{m:?}").to_lowercase())
            .unwrap_or_default();
        println!(
            "  {} as {} ({meaning}) at {}: {}{}",
            s.printed_name,
            s.role,
            s.signed_at,
            s.standing.to_string().to_uppercase(),
            s.why
                .as_deref()
                .map(|w| format!(" — {w}"))
                .unwrap_or_default()
        );
        if let Some(record) = &s.record {
            println!("    record {record}");
        }
        // A measured skew over a minute is worth a reader's attention even
        // when it is within the policy's bound.
        if let Some(skew) = s.clock_skew_seconds.filter(|k| k.unsigned_abs() > 60) {
            println!(
                "    clock: the signer's was {} the forge's",
                countersign_api::signatures::clock_difference(skew)
            );
        }
    }
    for q in &r.requirements {
        println!(
            "Requirement {} ({}): {}/{} {}",
            q.role_title,
            q.rule,
            q.signed_by.len(),
            q.needed,
            if q.met { "met" } else { "MISSING" }
        );
    }
    for e in &r.evidence_checks {
        println!(
            "Evidence {}: {} {}",
            e.what,
            if e.met { "met" } else { "MISSING" },
            e.detail
        );
    }
    for p in &r.evidence_problems {
        println!("Evidence REFUSED: {p}");
    }
    println!("Status: {}", r.status_line);
    println!(
        "{}",
        if report.approved {
            "APPROVED: the policy is satisfied."
        } else {
            "NOT APPROVED."
        }
    );
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<ExitCode, ApiError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ApiError> {
    std::fs::write(path, bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::Io,
            format!("cannot write {}: {e}", path.display()),
        )
    })
}

/// The password comes only from standard input, never from an argument,
/// where other users could read it in the process list.
/// The password: one line of standard input with `--password-stdin`, else
/// asked on the terminal without echo. Every copy is wiped when dropped.
fn read_password(from_stdin: bool) -> Result<Secret<String>, ApiError> {
    read_password_as(from_stdin, "Signing password: ")
}

/// As [`read_password`], asking with `prompt` on a terminal.
fn read_password_as(from_stdin: bool, prompt: &str) -> Result<Secret<String>, ApiError> {
    let unreadable =
        |e: std::io::Error| ApiError::new(ErrorCode::Io, format!("cannot read the password: {e}"));
    let line = if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(unreadable)?;
        Secret::new(line)
    } else if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        Secret::new(rpassword::prompt_password(prompt).map_err(unreadable)?)
    } else {
        return Err(ApiError::invalid_input(
            "pass --password-stdin and write the password to standard input, or run on a terminal",
        ));
    };
    Ok(Secret::new(
        line.expose().trim_end_matches(['\n', '\r']).to_owned(),
    ))
}

fn read(path: &Path) -> Result<Vec<u8>, ApiError> {
    std::fs::read(path).map_err(|e| {
        ApiError::new(
            ErrorCode::Io,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

fn evidence_arg(arg: &str) -> Result<(String, Vec<u8>), ApiError> {
    let (name, path) = match arg.split_once('=') {
        Some((name, path)) => (name.to_owned(), PathBuf::from(path)),
        None => {
            let path = PathBuf::from(arg);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, path)
        }
    };
    Ok((name, read(&path)?))
}

fn print_outcome(outcome: &VerifyOutcome) {
    for (i, s) in outcome.signatures.iter().enumerate() {
        println!("Signature {} (key {})", i + 1, s.key_id);
        if let Some(m) = &s.manifestation {
            for line in m.lines() {
                println!("  {line}");
            }
        }
        if s.problems.is_empty() {
            println!("  VERIFIED");
        } else {
            for p in &s.problems {
                println!("  FAILED: {p}");
            }
        }
    }
    if outcome.signatures.is_empty() {
        println!("FAILED: the bundle holds no signature");
    }
    println!(
        "{}",
        if outcome.holds {
            "All signatures verified."
        } else {
            "Verification failed."
        }
    );
}
