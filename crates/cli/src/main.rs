//! `countersign`: the headless shell over `countersign-api`. Each subcommand
//! parses its flags, calls one use case and prints the result.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use countersign_api::contract::ChangeRequestRef;
use countersign_api::{ApiError, ForgeTarget, Session};
use countersign_forge_sandbox::{RunningSandbox, Seed};
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
    /// Serve the sandbox forge (GitHub-REST-shaped, demo data) on 127.0.0.1.
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

#[derive(clap::Args)]
struct ForgeArgs {
    /// REST root of a running sandbox forge; without it an embedded sandbox is started.
    #[arg(long)]
    sandbox_url: Option<Url>,
}

impl ForgeArgs {
    fn target(self) -> ForgeTarget {
        match self.sandbox_url {
            Some(api_base) => ForgeTarget::Sandbox { api_base },
            None => ForgeTarget::EmbeddedSandbox,
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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error [{}]: {}", e.code, e.message);
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), ApiError> {
    match cli.command {
        Command::Sandbox {
            port,
            no_pull_requests,
        } => {
            let seed = if no_pull_requests {
                Seed::NoPullRequests
            } else {
                Seed::Demo
            };
            let sandbox = RunningSandbox::start(port, seed)
                .await
                .map_err(|e| ApiError::new("sandbox.start_failed", e.to_string()))?;
            // Scripts read this line to learn the port.
            println!("sandbox forge listening on {}", sandbox.api_base());
            tokio::select! {
                () = sandbox.wait() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
        Command::Queue { forge } => {
            let session = Session::start(forge.target()).await?;
            print_json(&session.load_queue().await?)
        }
        Command::Show { forge, repo, pr } => {
            let session = Session::start(forge.target()).await?;
            let detail = session
                .open_change_request(ChangeRequestRef { repo, number: pr })
                .await?;
            print_json(&detail)
        }
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), ApiError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ApiError::new("internal", e.to_string()))?;
    println!("{text}");
    Ok(())
}
