//! Start-up benchmark of the desktop app (not a test: it prints figures).
//!
//! For each run:
//! 1. Launch the window through tauri-driver against a sandbox forge; time
//!    from the WebDriver "new session" request (which starts the app) to the
//!    first queue row in the DOM; once idle, the memory of the app and all
//!    its descendants (WebKit's web and network processes).
//! 2. Launch it again as a user does, without WebDriver (whose automation
//!    session adds to WebKit's memory); once the sandbox has served the
//!    queue and the app has idled, the same memory figures.
//!
//! Targets: < 1 s, < 200 MB. Memory is PSS (shared pages split between the
//! processes mapping them), so that libraries shared by the app's own
//! processes count once; RSS is printed beside it.
//!
//! Each window gets its own Xvfb. Run it inside a D-Bus session, as a desktop
//! has one (without, GTK starts a bus, the portals and the accessibility bus
//! on every launch, which no user's desktop does):
//!   cargo build --release -p countersign-desktop -p countersign-tests --bins
//!   dbus-run-session -- target/release/bench-startup [--runs N] [--profile release]
//! Build both packages in one command: built apart, their features unify
//! differently and each build undoes the other's.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use countersign_forge_sandbox::{RunningSandbox, Seed};
use countersign_tests::memory::memory_of_app;
use countersign_tests::window::{desktop_binary, AppWindow, PrivateDisplay};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut runs = 5;
    let mut profile = "release".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--profile" => profile = args.next().expect("--profile NAME"),
            other => panic!("unknown argument {other}"),
        }
    }
    let binary = desktop_binary(&profile);
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.expect("sandbox");
    let mut startup = Vec::new();
    let mut rss = Vec::new();
    let mut pss = Vec::new();
    let mut plain_rss = Vec::new();
    let mut plain_pss = Vec::new();
    for i in 0..runs {
        let app = AppWindow::launch(
            &format!("bench-{i}"),
            &binary,
            &["--sandbox-url".into(), sandbox.api_base()],
        )
        .await
        .expect("launch");
        app.find("[data-testid=queue-item]")
            .await
            .expect("queue visible");
        // From the session request that launches the app; tauri-driver's own
        // start-up before it is not the app's.
        let elapsed = app.session_requested.elapsed();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (r, p) = memory_of_app(&binary.file_name().unwrap().to_string_lossy());
        println!(
            "run {i}: start to queue visible {:.0} ms; idle memory RSS {:.1} MB, PSS {:.1} MB",
            elapsed.as_secs_f64() * 1000.0,
            r as f64 / 1e6,
            p as f64 / 1e6
        );
        startup.push(elapsed.as_secs_f64());
        rss.push(r as f64 / 1e6);
        pss.push(p as f64 / 1e6);
        app.close().await;

        let (r, p) = plain_launch_memory(&binary, &sandbox).await;
        println!(
            "run {i}: launched without WebDriver, idle memory RSS {:.1} MB, PSS {:.1} MB",
            r as f64 / 1e6,
            p as f64 / 1e6
        );
        plain_rss.push(r as f64 / 1e6);
        plain_pss.push(p as f64 / 1e6);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    println!(
        "median of {runs} ({profile}): start to queue visible {:.0} ms (target < 1000); \
         idle RSS of all app processes {:.1} MB, PSS {:.1} MB under WebDriver; \
         {:.1} MB, PSS {:.1} MB launched as a user does (target < 200 MB)",
        median(&mut startup) * 1000.0,
        median(&mut rss),
        median(&mut pss),
        median(&mut plain_rss),
        median(&mut plain_pss)
    );
}

/// Start the app on a display of its own, without WebDriver; once the sandbox
/// has answered its queue requests and it has idled, its memory.
async fn plain_launch_memory(binary: &Path, sandbox: &RunningSandbox) -> (u64, u64) {
    let display = PrivateDisplay::start().await.expect("Xvfb");
    let requests = || sandbox.store().read().unwrap().requests;
    let before = requests();
    let mut app = tokio::process::Command::new(binary)
        .args(["--sandbox-url", &sandbox.api_base()])
        .env("DISPLAY", &display.name)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("launch");
    let deadline = Instant::now() + Duration::from_secs(60);
    // The queue is the repositories, then their pull requests.
    while requests() < before + 2 {
        assert!(
            Instant::now() < deadline,
            "the app never asked for its queue"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory = memory_of_app(&binary.file_name().unwrap().to_string_lossy());
    // As a window manager closes it: WebKit's processes leave with the app,
    // and none stays behind to share pages with the next run.
    if let Some(pid) = app.id() {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(Duration::from_secs(10), app.wait())
        .await
        .is_err()
    {
        let _ = app.kill().await;
    }
    drop(display);
    memory
}
