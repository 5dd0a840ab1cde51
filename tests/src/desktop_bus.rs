//! The test's side of the session bus a window runs on: what the app sent
//! to the stand-in desktop (`desktop-services`), its tray item as a panel
//! reads it (StatusNotifierItem and its dbusmenu), and clicks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zbus::blocking::Connection;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Structure, Value};

/// The stand-in desktop's log and the bus it is on.
pub struct Desktop {
    pub log: PathBuf,
    bus_address_file: PathBuf,
}

/// A tray item as registered with the StatusNotifierWatcher.
#[derive(Debug, Clone)]
pub struct TrayItem {
    pub sender: String,
    pub path: String,
}

/// `GetLayout`'s answer: revision, and the root (id, properties, children).
type Layout = (u32, (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>));

/// One entry of the tray's menu.
#[derive(Debug, Clone)]
pub struct MenuEntry {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
}

impl Desktop {
    /// `root` is the keyring home the window runs in (its bus address is there).
    pub fn in_home(root: &Path) -> Self {
        Self {
            log: root.join("desktop.log"),
            bus_address_file: root.join("bus-address"),
        }
    }

    /// The shell text that starts the stand-in desktop on the session bus and
    /// waits until it owns its names, for `AppWindow::launch_with_env`.
    pub fn start_script(&self, binary: &Path) -> String {
        let log = self.log.display();
        format!(
            "{} {log} >{log}.out 2>&1 & i=0; while [ ! -e {ready} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done;",
            binary.display(),
            ready = self.log.with_extension("ready").display()
        )
    }

    /// Every JSON line logged so far.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Wait until a logged line satisfies `pick`.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        within: Duration,
        pick: impl Fn(&serde_json::Value) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = self.lines().iter().find_map(&pick) {
                return Ok(found);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no {what} within {within:?}; the desktop saw: {:?}",
                    self.lines()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The app's tray item, once it registered with the tray host.
    pub async fn tray_item(&self) -> Result<TrayItem, String> {
        self.wait_for("a tray item", Duration::from_secs(30), |l| {
            Some(TrayItem {
                sender: l["tray"]["sender"].as_str()?.to_owned(),
                path: l["tray"]["service"].as_str()?.to_owned(),
            })
        })
        .await
    }

    /// The count next to the tray icon once there is one (`wanted`: once it is that).
    pub async fn tray_count(&self, item: &TrayItem, wanted: Option<u32>) -> Result<u32, String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let label = self.tray_label(item)?;
            match label.parse::<u32>() {
                Ok(n) if wanted.is_none_or(|w| w == n) => return Ok(n),
                _ if Instant::now() > deadline => {
                    return Err(format!(
                        "the tray label stayed {label:?} (wanted {wanted:?})"
                    ))
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Every notification shown so far.
    pub fn notifications(&self) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .filter_map(|l| l.get("notify").cloned())
            .collect()
    }

    fn connect(&self) -> Result<Connection, String> {
        let address = std::fs::read_to_string(&self.bus_address_file).map_err(|e| e.to_string())?;
        zbus::blocking::connection::Builder::address(address.trim())
            .and_then(|b| b.build())
            .map_err(|e| format!("cannot join the window's session bus: {e}"))
    }

    /// A click on notification `id`, as the notification server reports it.
    pub fn click_notification(&self, id: u32) -> Result<(), String> {
        self.connect()?
            .call_method(
                Some("org.freedesktop.Notifications"),
                "/org/freedesktop/Notifications",
                Some("org.countersign.TestDesktop"),
                "Click",
                &(id,),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// A property of the tray item (`org.kde.StatusNotifierItem`).
    pub fn tray_property(&self, item: &TrayItem, name: &str) -> Result<OwnedValue, String> {
        let reply = self
            .connect()?
            .call_method(
                Some(item.sender.as_str()),
                item.path.as_str(),
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &("org.kde.StatusNotifierItem", name),
            )
            .map_err(|e| format!("{name}: {e}"))?;
        let value: OwnedValue = reply.body().deserialize().map_err(|e| e.to_string())?;
        Ok(value)
    }

    /// The label next to the tray icon (Ayatana's `XAyatanaLabel`).
    pub fn tray_label(&self, item: &TrayItem) -> Result<String, String> {
        let value = self.tray_property(item, "XAyatanaLabel")?;
        String::try_from(value).map_err(|e| e.to_string())
    }

    /// Where the tray item serves its menu (`com.canonical.dbusmenu`).
    fn menu_path(&self, item: &TrayItem) -> Result<OwnedObjectPath, String> {
        self.tray_property(item, "Menu")?
            .try_into()
            .map_err(|e: zbus::zvariant::Error| e.to_string())
    }

    /// The tray menu's top-level entries, as a panel reads them.
    pub fn tray_menu(&self, item: &TrayItem) -> Result<Vec<MenuEntry>, String> {
        let menu = self.menu_path(item)?;
        let reply = self
            .connect()?
            .call_method(
                Some(item.sender.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .map_err(|e| format!("GetLayout: {e}"))?;
        let (_revision, (_root, _props, children)): Layout =
            reply.body().deserialize().map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        for child in children {
            let structure: Structure = Value::from(child)
                .try_into()
                .map_err(|e: zbus::zvariant::Error| e.to_string())?;
            let fields = structure.into_fields();
            let id = i32::try_from(&fields[0]).map_err(|e| e.to_string())?;
            let props: HashMap<String, OwnedValue> = fields[1]
                .try_clone()
                .map_err(|e| e.to_string())?
                .try_into()
                .map_err(|e: zbus::zvariant::Error| e.to_string())?;
            let label = props
                .get("label")
                .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
                .unwrap_or_default();
            let enabled = props
                .get("enabled")
                .and_then(|v| bool::try_from(v).ok())
                .unwrap_or(true);
            entries.push(MenuEntry { id, label, enabled });
        }
        Ok(entries)
    }

    /// A click on tray menu entry `id`, as a panel sends it.
    pub fn click_menu(&self, item: &TrayItem, id: i32) -> Result<(), String> {
        let menu = self.menu_path(item)?;
        let now = 0u32;
        self.connect()?
            .call_method(
                Some(item.sender.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "Event",
                &(id, "clicked", Value::from(""), now),
            )
            .map(|_| ())
            .map_err(|e| format!("Event: {e}"))
    }
}
