//! Benchmark of the review workspace's diff viewer on a large change, against
//! the renderer it replaced, in the same run (not a test: it prints figures).
//!
//! The change: 500 files of 200 added lines each (100,000 lines), served by
//! the sandbox forge. For each renderer, in a fresh window:
//! - first rows: from the click that asks for the change (the page's clock)
//!   to the first frame with diff rows painted — the forge's answers, the
//!   parse in Rust, the IPC and the rendering;
//! - scroll: the diff scrolled from top to bottom, a screenful per frame, each
//!   frame's duration from `requestAnimationFrame`'s timestamps (p50, p95, max);
//! - memory: PSS of the web process (and of all the app's processes) before
//!   the change is opened and after the scroll.
//!
//! The previous renderer (one `<pre>` with a `<span>` per line) no longer
//! ships; it is rebuilt here in the page, from the same `open_change_request`
//! answer, exactly as it was.
//!
//!   cargo build --release -p countersign-desktop -p countersign-tests --bins
//!   dbus-run-session -- target/release/bench-diff [--profile release] [--files 500] [--lines 200]

use std::time::Duration;

use countersign_forge_sandbox::{FileChange, RunningSandbox, Seed};
use countersign_tests::memory::processes_of_app;
use countersign_tests::window::{desktop_binary, AppWindow};

const NUMBER: u64 = 900;

/// The renderer the workspace replaced, as it was: the whole diff in one
/// `<pre>`, one span per line, in a pane that scrolls.
const PREVIOUS: &str = r#"
const done = arguments[arguments.length - 1];
const t0 = performance.now();
window.__TAURI_INTERNALS__.invoke('open_change_request', { request: { repo: arguments[0], number: arguments[1] } }).then(d => {
  const cls = (line) => line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff --git') || line.startsWith('index ')
    ? 'diff-line diff-file' : line.startsWith('@@') ? 'diff-line diff-hunk' : line.startsWith('+') ? 'diff-line diff-add'
    : line.startsWith('-') ? 'diff-line diff-del' : 'diff-line';
  const lines = d.diff.endsWith('\n') ? d.diff.slice(0, -1).split('\n') : d.diff.split('\n');
  const pre = document.createElement('pre');
  pre.className = 'diff';
  const code = document.createElement('code');
  for (const line of lines) { const s = document.createElement('span'); s.className = cls(line); s.textContent = line + '\n'; code.appendChild(s); }
  pre.appendChild(code);
  const detail = document.querySelector('[data-testid=detail]');
  detail.replaceChildren(pre);
  requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
}).catch(e => done(-1));
"#;

/// The floor: the change asked for over IPC as each renderer asks for it
/// (the workspace: `open_change`; the previous one: `open_change_request`,
/// with the raw diff), and parsed, nothing drawn.
const FLOOR: &str = r#"
const done = arguments[arguments.length - 1];
const t0 = performance.now();
window.__TAURI_INTERNALS__.invoke(arguments[2], { request: { repo: arguments[0], number: arguments[1] } })
  .then(d => done([performance.now() - t0, d.diff_files.length]))
  .catch(e => done([-1, 0]));
"#;

/// The workspace: the Files tab is already chosen; click the change.
const WORKSPACE: &str = r#"
const done = arguments[arguments.length - 1];
const t0 = performance.now();
document.querySelector(`[data-testid=queue-item][data-number='${arguments[1]}']`).click();
const wait = () => {
  const title = document.querySelector('[data-testid=detail-title]');
  if (title && title.textContent.includes('Bulk') && document.querySelector('[data-testid=diff] .row-line, [data-testid=diff] .row-added')) {
    requestAnimationFrame(() => done(performance.now() - t0));
  } else { requestAnimationFrame(wait); }
};
requestAnimationFrame(wait);
"#;

/// Scroll `selector` from top to bottom, a screenful a frame; the frames' durations.
const SCROLL: &str = r#"
const done = arguments[arguments.length - 1];
const el = document.querySelector(arguments[0]);
const step = el.clientHeight;
el.scrollTop = 0;
const frames = [];
let last = null;
const tick = (t) => {
  if (last !== null) frames.push(t - last);
  last = t;
  if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1 || frames.length > 50000) { done(frames); return; }
  el.scrollTop += step;
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"#;

struct Figures {
    floor_ms: f64,
    first_rows_ms: f64,
    frames: Vec<f64>,
    web_before: u64,
    web_after: u64,
    all_before: u64,
    all_after: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn memory(exe: &str) -> (u64, u64) {
    let procs = processes_of_app(exe);
    let web = procs
        .iter()
        .filter(|p| p.name.starts_with("WebKitWebProces"))
        .map(|p| p.pss)
        .sum();
    (web, procs.iter().map(|p| p.pss).sum())
}

async fn run(
    renderer: &str,
    binary: &std::path::Path,
    sandbox: &RunningSandbox,
    repo: &str,
) -> Figures {
    let app = AppWindow::launch(
        &format!("bench-diff-{renderer}"),
        binary,
        &["--sandbox-url".into(), sandbox.api_base()],
    )
    .await
    .expect("launch");
    app.find("[data-testid=queue-item]").await.expect("queue");
    // Scrolling 100,000 lines a screen at a time takes minutes.
    app.client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(900)),
            None,
            None,
        ))
        .await
        .expect("script timeout");
    let exe = binary.file_name().unwrap().to_string_lossy().into_owned();
    if renderer == "workspace" {
        // A small change first, to choose the Files tab, as a reader would.
        app.find("[data-testid=queue-item][data-number='44']")
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        app.find("[data-testid=tab-files]")
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        app.find("[data-testid=diff] .row").await.unwrap();
    }
    let args = vec![serde_json::json!(repo), serde_json::json!(NUMBER)];
    // Twice: the first also warms the forge client's cache, as the review does.
    let mut floor_ms = f64::NAN;
    let command = if renderer == "workspace" {
        "open_change"
    } else {
        "open_change_request"
    };
    let mut floor_args = args.clone();
    floor_args.push(serde_json::json!(command));
    for _ in 0..2 {
        let answer = app
            .client
            .execute_async(FLOOR, floor_args.clone())
            .await
            .expect("floor");
        floor_ms = answer[0].as_f64().unwrap_or(f64::NAN);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (web_before, all_before) = memory(&exe);
    let script = if renderer == "workspace" {
        WORKSPACE
    } else {
        PREVIOUS
    };
    let first_rows_ms = app
        .client
        .execute_async(script, args)
        .await
        .expect("open")
        .as_f64()
        .unwrap_or(f64::NAN);
    let selector = if renderer == "workspace" {
        "[data-testid=diff]"
    } else {
        "[data-testid=detail]"
    };
    let frames: Vec<f64> = serde_json::from_value(
        app.client
            .execute_async(SCROLL, vec![serde_json::json!(selector)])
            .await
            .expect("scroll"),
    )
    .unwrap_or_default();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (web_after, all_after) = memory(&exe);
    app.close().await;
    Figures {
        floor_ms,
        first_rows_ms,
        frames,
        web_before,
        web_after,
        all_before,
        all_after,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut profile = "release".to_owned();
    let (mut files, mut lines) = (500usize, 200usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--profile" => profile = args.next().expect("--profile NAME"),
            "--files" => files = args.next().and_then(|v| v.parse().ok()).expect("--files N"),
            "--lines" => lines = args.next().and_then(|v| v.parse().ok()).expect("--lines N"),
            other => panic!("unknown argument {other}"),
        }
    }
    let binary = desktop_binary(&profile);
    let sandbox = RunningSandbox::start(0, Seed::Demo).await.expect("sandbox");
    let repo = {
        let store = sandbox.store();
        let mut st = store.write().unwrap();
        let repo = &mut st.repos[0];
        let mut pr = repo.pulls.iter().find(|p| p.number == 44).unwrap().clone();
        pr.number = NUMBER;
        pr.id += 900_000;
        pr.title = format!("Bulk change: {files} files, {} lines", files * lines);
        pr.files = (0..files)
            .map(|f| FileChange {
                path: format!("firmware/src/generated_{f:03}.rs"),
                previous_path: None,
                old: None,
                new: Some(
                    (0..lines)
                        .map(|i| format!("pub fn value_{i}() -> u32 {{ {i} * {f} }} // line {i} of file {f}\n"))
                        .collect(),
                ),
            })
            .collect();
        repo.pulls.push(pr);
        repo.full_name()
    };
    println!(
        "change: {files} files × {lines} lines = {} added lines ({profile} build)",
        files * lines
    );
    let mut results = Vec::new();
    for renderer in ["workspace", "previous"] {
        let f = run(renderer, &binary, &sandbox, &repo).await;
        let mut sorted = f.frames.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{renderer:>9}: the change over IPC alone {:.0} ms (floor); first rows {:.0} ms ({:.2}× the floor); scroll {} frames, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; \
             web process PSS {:.0} → {:.0} MB (+{:.0}); all app processes {:.0} → {:.0} MB (+{:.0})",
            f.floor_ms,
            f.first_rows_ms,
            f.first_rows_ms / f.floor_ms,
            f.frames.len(),
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.95),
            sorted.last().copied().unwrap_or(f64::NAN),
            f.web_before as f64 / 1e6,
            f.web_after as f64 / 1e6,
            (f.web_after as f64 - f.web_before as f64) / 1e6,
            f.all_before as f64 / 1e6,
            f.all_after as f64 / 1e6,
            (f.all_after as f64 - f.all_before as f64) / 1e6,
        );
        results.push((
            f.first_rows_ms,
            percentile(&sorted, 0.95),
            (f.web_after as f64 - f.web_before as f64) / 1e6,
        ));
    }
    let (new, old) = (results[0], results[1]);
    println!(
        "workspace / previous: first rows {:.2}×, p95 frame {:.2}×, web process growth {:.2}× \
         (targets: first rows < 500 ms, p95 frame < 50 ms, growth < 150 MB)",
        new.0 / old.0,
        new.1 / old.1,
        new.2 / old.2
    );
}
