//! What a Linux desktop offers an app over its session bus, for the
//! end-to-end tests: a notification server (`org.freedesktop.Notifications`,
//! the Desktop Notifications Specification 1.2) and a tray host
//! (`org.kde.StatusNotifierWatcher`). Each call is written as a JSON line
//! to the file named by the first argument; `<file>.ready` appears once both
//! names are owned. A test clicks a notification through
//! `org.countersign.TestDesktop.Click(id)`, which emits `ActionInvoked(id,
//! "default")` as a server does when the user clicks the notification.
//!
//! Usage: `desktop-services LOG` inside the session bus under test.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;
use zbus::{interface, message::Header};

fn log(path: &Path, line: serde_json::Value) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("the log file");
    writeln!(file, "{line}").expect("write the log");
}

struct Notifications {
    log: PathBuf,
    last_id: u32,
}

#[interface(name = "org.freedesktop.Notifications")]
impl Notifications {
    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            self.last_id += 1;
            self.last_id
        };
        log(
            &self.log,
            serde_json::json!({"notify": {
                "id": id, "app_name": app_name, "summary": summary,
                "body": body, "actions": actions,
            }}),
        );
        id
    }

    fn close_notification(&self, id: u32) {
        log(&self.log, serde_json::json!({"close": id}));
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "countersign-test-desktop".into(),
            "Countersign tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

/// The test's hand: a click on a shown notification.
struct TestDesktop;

#[interface(name = "org.countersign.TestDesktop")]
impl TestDesktop {
    async fn click(
        &self,
        id: u32,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        Notifications::action_invoked(&emitter, id, "default").await?;
        Ok(())
    }
}

struct Watcher {
    log: PathBuf,
    items: Vec<String>,
}

#[interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(
        &mut self,
        service: String,
        #[zbus(header)] header: Header<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        log(
            &self.log,
            serde_json::json!({"tray": {"sender": sender, "service": service}}),
        );
        self.items.push(format!("{sender}{service}"));
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.clone()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let log_path = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: desktop-services LOG")?,
    );
    let _connection = zbus::blocking::connection::Builder::session()?
        .name("org.freedesktop.Notifications")?
        .name("org.kde.StatusNotifierWatcher")?
        .serve_at(
            "/org/freedesktop/Notifications",
            Notifications {
                log: log_path.clone(),
                last_id: 0,
            },
        )?
        .serve_at("/org/freedesktop/Notifications", TestDesktop)?
        .serve_at(
            "/StatusNotifierWatcher",
            Watcher {
                log: log_path.clone(),
                items: Vec::new(),
            },
        )?
        .build()?;
    std::fs::write(log_path.with_extension("ready"), b"")?;
    // Started by the shell that then becomes tauri-driver: gone with it.
    let parent = std::os::unix::process::parent_id();
    while std::os::unix::process::parent_id() == parent {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    Ok(())
}
