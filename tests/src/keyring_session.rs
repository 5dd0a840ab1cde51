//! A private D-Bus session with an unlocked GNOME Keyring: the real Secret
//! Service, isolated from the user's own (fresh HOME and XDG folders).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Isolated folders for one keyring session. Removed on drop.
pub struct KeyringHome {
    pub root: PathBuf,
}

impl KeyringHome {
    pub fn new(name: &str) -> Self {
        // Short and under /tmp: gnome-keyring's control socket path must fit in sockaddr_un.
        let root =
            std::env::temp_dir().join(format!("countersign-kr-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["home", "data", "config", "cache", "run"] {
            std::fs::create_dir_all(root.join(dir)).expect("keyring home");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root.join("run"), std::fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        Self { root }
    }

    /// `sh -c script` inside a new session bus with the keyring unlocked.
    /// `script` sees the keyring through the usual environment variables.
    pub fn command(&self, script: &str) -> Command {
        let mut cmd = Command::new("dbus-run-session");
        cmd.arg("--")
            .arg("sh")
            .arg("-c")
            .arg(format!(
                "printf %s \"$DBUS_SESSION_BUS_ADDRESS\" > {bus}; eval \"$(printf %s keyring-password | gnome-keyring-daemon --unlock --components=secrets)\" >/dev/null; {script}",
                bus = self.root.join("bus-address").display()
            ));
        self.isolate(&mut cmd);
        cmd
    }

    /// `program` in the same folders and on the session bus of the last
    /// [`KeyringHome::command`] (still running): a second launch beside it.
    pub fn command_on_its_bus(&self, program: &Path) -> Command {
        let address = std::fs::read_to_string(self.root.join("bus-address"))
            .expect("a keyring session is running");
        let mut cmd = Command::new(program);
        self.isolate(&mut cmd);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", address.trim());
        cmd
    }

    /// The same isolated folders but no session bus at all: no keychain.
    pub fn command_without_keychain(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        self.isolate(&mut cmd);
        cmd.env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", self.root.join("run/no-bus").display()),
        );
        cmd
    }

    fn isolate(&self, cmd: &mut Command) {
        cmd.env("HOME", self.root.join("home"))
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("XDG_CACHE_HOME", self.root.join("cache"))
            .env("XDG_STATE_HOME", self.root.join("state"))
            .env("XDG_RUNTIME_DIR", self.root.join("run"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
    }

    /// Every file under the isolated folders, for "nothing was written" checks.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push(path);
                }
            }
        }
        out
    }
}

impl Drop for KeyringHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
