//! The real `countersign-desktop` window, launched by `tauri-driver` (which
//! drives WebKitWebDriver) and controlled with fantoccini.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::process::{Child, Command};

use crate::keyring_session::KeyringHome;
use crate::{free_port, target_dir};

/// How long an element may take to appear; the first paint under a busy Xvfb
/// can take several seconds.
pub const WAIT: Duration = Duration::from_secs(30);

/// How long the first WebDriver session may take. On a fresh machine the very
/// first WebKit start builds its font and shader caches while the other test
/// binaries compete for both cores: CI saw more than 30 s once.
pub const LAUNCH_WAIT: Duration = Duration::from_secs(120);

pub struct AppWindow {
    pub client: Client,
    /// When the WebDriver session that launched the app was requested.
    pub session_requested: Instant,
    driver: Child,
    display: PrivateDisplay,
    name: String,
}

/// A private X server for one window. Windows of tests running side by side
/// never overlap, and the screenshot is read from the X server: WebKit's own
/// WebDriver screenshot never answers when WebKit paints without
/// compositing, which the app chooses on machines without a GPU.
pub struct PrivateDisplay {
    server: Child,
    /// `:N`, for `DISPLAY`.
    pub name: String,
}

impl PrivateDisplay {
    pub async fn start() -> Result<Self, String> {
        use tokio::io::AsyncBufReadExt;
        let mut server = Command::new("Xvfb")
            // Xvfb picks a free display and writes its number when it accepts clients.
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start Xvfb (apt install xvfb): {e}"))?;
        let stdout = server.stdout.take().expect("piped");
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            tokio::io::BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .map_err(|_| "Xvfb named no display within 30 s".to_owned())?
        .map_err(|e| format!("Xvfb: {e}"))?;
        let number: u32 = line
            .trim()
            .parse()
            .map_err(|_| format!("Xvfb wrote {line:?}, not a display number"))?;
        Ok(Self {
            server,
            name: format!(":{number}"),
        })
    }

    pub async fn screenshot(&self, path: &Path) -> Result<(), String> {
        let status = Command::new("import")
            .args(["-display", &self.name, "-window", "root"])
            .arg(format!("png:{}", path.display()))
            .stderr(Stdio::null())
            .status()
            .await
            .map_err(|e| format!("cannot run ImageMagick's import: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("import -display {} failed: {status}", self.name))
        }
    }
}

/// Which build of the desktop binary to launch.
pub fn desktop_binary(profile: &str) -> PathBuf {
    target_dir().join(profile).join(format!(
        "countersign-desktop{}",
        std::env::consts::EXE_SUFFIX
    ))
}

impl AppWindow {
    /// Launch the desktop app with `args`. `name` names the screenshot.
    pub async fn launch(name: &str, binary: &Path, args: &[String]) -> Result<Self, String> {
        Self::launch_with_keyring(name, binary, args, None).await
    }

    /// As [`AppWindow::launch`], with the app inside `keyring`'s private D-Bus
    /// session so that it finds a real, unlocked Secret Service.
    pub async fn launch_with_keyring(
        name: &str,
        binary: &Path,
        args: &[String],
        keyring: Option<&KeyringHome>,
    ) -> Result<Self, String> {
        Self::launch_with_env(name, binary, args, keyring, "").await
    }

    /// As [`AppWindow::launch_with_keyring`], with `env` (`NAME=value …`) set
    /// for the app inside the keyring session.
    pub async fn launch_with_env(
        name: &str,
        binary: &Path,
        args: &[String],
        keyring: Option<&KeyringHome>,
        env: &str,
    ) -> Result<Self, String> {
        if !binary.exists() {
            return Err(format!(
                "{} is missing: build it first (cargo build -p countersign-desktop)",
                binary.display()
            ));
        }
        let display = PrivateDisplay::start().await?;
        let port = free_port();
        let native_port = free_port();
        let driver_args = format!("--port {port} --native-port {native_port}");
        let mut driver = match keyring {
            Some(home) => {
                Command::from(home.command(&format!("{env} exec tauri-driver {driver_args}")))
            }
            None => {
                let mut c = Command::new("tauri-driver");
                c.args(driver_args.split(' '));
                for pair in env.split_whitespace() {
                    if let Some((name, value)) = pair.split_once('=') {
                        c.env(name, value);
                    }
                }
                c
            }
        };
        driver
            .env("DISPLAY", &display.name)
            .env_remove("WAYLAND_DISPLAY");
        // Its own process group, so that closing ends the driver and everything it started.
        driver.process_group(0);
        let driver = driver
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!("cannot start tauri-driver (cargo install tauri-driver --locked): {e}")
            })?;
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": binary, "args": args }),
        );
        caps.insert("browserName".into(), serde_json::json!("wry"));
        let deadline = Instant::now() + LAUNCH_WAIT;
        let (client, session_requested) = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let requested = Instant::now();
            // A session that never answers (the app died under the driver) must
            // fail the test, not hang the suite.
            let attempt = tokio::time::timeout(
                LAUNCH_WAIT,
                ClientBuilder::new(connector)
                    .capabilities(caps.clone())
                    .connect(&url),
            )
            .await
            .map_err(|_| format!("no WebDriver session within {LAUNCH_WAIT:?}"))?;
            match attempt {
                Ok(client) => break (client, requested),
                Err(e) if Instant::now() < deadline => {
                    tracing_note(&format!("waiting for tauri-driver: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(format!("no WebDriver session: {e}")),
            }
        };
        Ok(Self {
            client,
            session_requested,
            driver,
            display,
            name: name.to_owned(),
        })
    }

    /// The X display the window is on (`:N`).
    pub fn display(&self) -> &str {
        &self.display.name
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Result<Element, String> {
        self.client
            .wait()
            .at_most(WAIT)
            // fantoccini looks every 250 ms by default: a quarter second
            // lost per step, and too coarse for the start-up benchmark.
            .every(Duration::from_millis(20))
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("{css} did not appear: {e}"))
    }

    /// Wait until `count` elements match `css`.
    pub async fn find_n(&self, css: &str, count: usize) -> Result<Vec<Element>, String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self
                .client
                .find_all(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?;
            if found.len() == count {
                return Ok(found);
            }
            if Instant::now() > deadline {
                return Err(format!("expected {count} × {css}, saw {}", found.len()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until the text of the element at `css` contains `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> Result<String, String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let el = self.find(css).await?;
            // The page may be replaced between finding and reading (a reload,
            // a re-render): a vanished node means "look again", until the deadline.
            let text = match el.text().await {
                Ok(t) => t,
                Err(e) if Instant::now() > deadline => return Err(e.to_string()),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{css} never contained {needle:?}; last text: {text:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Save what the window shows as `target/e2e-screenshots/<name>.png`.
    pub async fn screenshot(&self) -> Result<PathBuf, String> {
        self.screenshot_as(&self.name).await
    }

    /// Save what the window shows now as `target/e2e-screenshots/<name>.png`.
    pub async fn screenshot_as(&self, name: &str) -> Result<PathBuf, String> {
        // What was just changed is painted before the screen is read.
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let dir = target_dir().join("e2e-screenshots");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join(format!("{name}.png"));
        self.display.screenshot(&path).await?;
        Ok(path)
    }

    /// Screenshot, then end the session and the driver, whatever the test's outcome.
    pub async fn close(mut self) {
        if let Err(e) = self.screenshot().await {
            eprintln!("{}: {e}", self.name);
        }
        let _ = self.client.clone().close().await;
        if let Some(pid) = self.driver.id() {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .status()
                .await;
        }
        let _ = self.driver.kill().await;
        let _ = self.display.server.kill().await;
    }
}

fn tracing_note(message: &str) {
    if std::env::var_os("COUNTERSIGN_E2E_VERBOSE").is_some() {
        eprintln!("{message}");
    }
}
