//! Start-up benchmark of the desktop app against the bare window (not a
//! test: it prints figures). The floor is `bare-window`
//! (`tests/bare-window`): a Tauri 2 window with an empty page, the same
//! Tauri, WebKitGTK and rendering choice. Both are launched the same ways in
//! the same run, one after the other, and the figures are given as ratios.
//!
//! For each run and each of the two:
//! 1. Launch through tauri-driver (the app against a sandbox forge); time
//!    from the WebDriver "new session" request (which starts the program)
//!    to the first queue row (the app) or the first painted frame (the bare
//!    window); once idle, the memory of the program and all its descendants
//!    (WebKit's web and network processes).
//! 2. Launch again as a user does, without WebDriver (whose automation
//!    session adds to WebKit's memory); once idle, the same memory figures,
//!    and the UI process's own: private pages and anonymous memory.
//!
//! Targets (issue 17): idle PSS, all processes, at most 1.15 x the bare
//! window's; start to first queue row at most 1.3 x the bare window's time
//! to first paint; the app's own share (UI process anonymous memory above
//! the bare window's) under 40 MB. Memory is PSS (shared pages split between
//! the processes mapping them); RSS is printed beside it.
//!
//! Each window gets its own Xvfb. Run it inside a D-Bus session, as a desktop
//! has one (without, GTK starts a bus, the portals and the accessibility bus
//! on every launch, which no user's desktop does):
//!   cargo build --release -p countersign-desktop -p countersign-bare-window -p countersign-tests --bins
//!   dbus-run-session -- target/release/bench-startup [--runs N] [--profile release]
//! Build the packages in one command: built apart, their features unify
//! differently and each build undoes the other's.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use countersign_forge_sandbox::{RunningSandbox, Seed};
use countersign_tests::memory::{memory_of_app, ui_process_of_app};
use countersign_tests::target_dir;
use countersign_tests::window::{desktop_binary, AppWindow, PrivateDisplay};

/// One program's figures over the runs.
#[derive(Default)]
struct Figures {
    /// Seconds from launch to the first queue row / first paint.
    ready: Vec<f64>,
    driven_pss: Vec<f64>,
    pss: Vec<f64>,
    rss: Vec<f64>,
    ui_private: Vec<f64>,
    ui_anonymous: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

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
    let app_binary = desktop_binary(&profile);
    let bare_binary = target_dir().join(&profile).join("bare-window");
    assert!(
        bare_binary.exists(),
        "{} is missing: cargo build --{profile} -p countersign-bare-window",
        bare_binary.display()
    );
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.expect("sandbox");
    let app_args = vec!["--sandbox-url".to_owned(), sandbox.api_base()];
    let mut app = Figures::default();
    let mut bare = Figures::default();
    for i in 0..runs {
        for (name, binary, args, ready_css, figures) in [
            (
                "app",
                &app_binary,
                app_args.clone(),
                "[data-testid=queue-item]",
                &mut app,
            ),
            (
                "bare",
                &bare_binary,
                Vec::new(),
                "body[data-painted]",
                &mut bare,
            ),
        ] {
            let exe = binary.file_name().unwrap().to_string_lossy().into_owned();
            let window = AppWindow::launch(&format!("bench-{name}-{i}"), binary, &args)
                .await
                .expect("launch");
            window.find(ready_css).await.expect("ready");
            // From the session request that launches the program; tauri-driver's
            // own start-up before it is not the program's.
            let ready = window.session_requested.elapsed().as_secs_f64();
            tokio::time::sleep(Duration::from_secs(3)).await;
            let (_, driven_pss) = memory_of_app(&exe);
            window.close().await;

            let plain = plain_launch_memory(binary, &args, &sandbox).await;
            println!(
                "run {i} {name}: ready {:.0} ms; idle PSS {:.1} MB under WebDriver; \
                 launched as a user does: PSS {:.1} MB, RSS {:.1} MB, UI process private {:.1} MB, anonymous {:.1} MB",
                ready * 1000.0,
                driven_pss as f64 / 1e6,
                plain.pss / 1e6,
                plain.rss / 1e6,
                plain.ui_private / 1e6,
                plain.ui_anonymous / 1e6,
            );
            figures.ready.push(ready);
            figures.driven_pss.push(driven_pss as f64 / 1e6);
            figures.pss.push(plain.pss / 1e6);
            figures.rss.push(plain.rss / 1e6);
            figures.ui_private.push(plain.ui_private / 1e6);
            figures.ui_anonymous.push(plain.ui_anonymous / 1e6);
        }
    }
    let row = |what: &str, a: &[f64], b: &[f64], unit: &str, target: &str| {
        let (a, b) = (median(a), median(b));
        println!(
            "{what:<44} app {a:>8.1} {unit}   bare {b:>8.1} {unit}   ratio {:.2}   {target}",
            a / b
        );
    };
    println!("\nmedian of {runs} ({profile}), app against the bare window, side by side:");
    let ms = |v: &[f64]| v.iter().map(|s| s * 1000.0).collect::<Vec<_>>();
    row(
        "launch to first queue row / first paint",
        &ms(&app.ready),
        &ms(&bare.ready),
        "ms",
        "(target ratio <= 1.30)",
    );
    row(
        "idle PSS, all processes",
        &app.pss,
        &bare.pss,
        "MB",
        "(target ratio <= 1.15)",
    );
    row("idle RSS, all processes", &app.rss, &bare.rss, "MB", "");
    row(
        "idle PSS under WebDriver",
        &app.driven_pss,
        &bare.driven_pss,
        "MB",
        "",
    );
    row(
        "UI process, private pages",
        &app.ui_private,
        &bare.ui_private,
        "MB",
        "",
    );
    row(
        "UI process, anonymous memory",
        &app.ui_anonymous,
        &bare.ui_anonymous,
        "MB",
        "",
    );
    println!(
        "the app's own share (UI process anonymous memory above the bare window's): {:.1} MB (target < 40 MB)",
        median(&app.ui_anonymous) - median(&bare.ui_anonymous)
    );
}

struct Plain {
    pss: f64,
    rss: f64,
    ui_private: f64,
    ui_anonymous: f64,
}

/// Start the program on a display of its own, without WebDriver; once it
/// has idled (the app: after the sandbox answered its queue requests), its memory.
async fn plain_launch_memory(binary: &Path, args: &[String], sandbox: &RunningSandbox) -> Plain {
    let display = PrivateDisplay::start().await.expect("Xvfb");
    let requests = || sandbox.store().read().unwrap().requests;
    let before = requests();
    let mut child = tokio::process::Command::new(binary)
        .args(args)
        .env("DISPLAY", &display.name)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("launch");
    let deadline = Instant::now() + Duration::from_secs(60);
    if args.is_empty() {
        // The bare window asks nobody anything: give it the app's usual time to its queue.
        tokio::time::sleep(Duration::from_secs(1)).await;
    } else {
        // The queue is the repositories, then their pull requests.
        while requests() < before + 2 {
            assert!(
                Instant::now() < deadline,
                "the app never asked for its queue"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let exe = binary.file_name().unwrap().to_string_lossy().into_owned();
    let (rss, pss) = memory_of_app(&exe);
    let ui = ui_process_of_app(&exe);
    // As a window manager closes it: WebKit's processes leave with the app,
    // and none stays behind to share pages with the next run.
    if let Some(pid) = child.id() {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    drop(display);
    Plain {
        pss: pss as f64,
        rss: rss as f64,
        ui_private: ui.as_ref().map_or(0.0, |u| u.private as f64),
        ui_anonymous: ui.as_ref().map_or(0.0, |u| u.anonymous as f64),
    }
}
