//! The operating system telling the app that the signer stepped away: the
//! machine is about to suspend, or the screen locked. Either ends every
//! continuous signing session, so the next signature needs every component
//! again (11.200(a)(1)). Linux: logind on the system bus and the freedesktop
//! screen saver on the session bus. Elsewhere the idle timeout and a restart
//! still end sessions.

use std::time::Duration;

/// Why a session ended, as the audit trail says it.
pub const SUSPEND: &str = "the system is suspending";
pub const LOCKED: &str = "the screen was locked";

/// Which D-Bus to listen on.
#[derive(Debug, Clone)]
pub enum Bus {
    System,
    Session,
    /// A private bus, by address (tests).
    Address(String),
}

/// Listen in the background; `on_event` runs for each event. Returns `false`
/// when the bus cannot be reached (no logind in a container, no session bus):
/// the idle timeout still applies then.
#[cfg(target_os = "linux")]
pub fn watch(bus: Bus, on_event: impl Fn(&'static str) + Send + Sync + 'static) -> bool {
    use dbus::blocking::Connection;
    use dbus::message::MatchRule;

    let connect = match &bus {
        Bus::System => Connection::new_system(),
        Bus::Session => Connection::new_session(),
        Bus::Address(a) => dbus::channel::Channel::open_private(a).and_then(|mut c| {
            c.register()?;
            Ok(Connection::from(c))
        }),
    };
    let conn = match connect {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(?bus, error = %e, "not watching for lock or suspend on this bus");
            return false;
        }
    };
    let on_event = std::sync::Arc::new(on_event);
    let rules = [
        (
            "org.freedesktop.login1.Manager",
            "PrepareForSleep",
            SUSPEND,
            true,
        ),
        ("org.freedesktop.login1.Session", "Lock", LOCKED, false),
        ("org.freedesktop.ScreenSaver", "ActiveChanged", LOCKED, true),
    ];
    for (interface, member, why, needs_true) in rules {
        let rule = MatchRule::new_signal(interface, member);
        let handler = on_event.clone();
        let added = conn.add_match(rule, move |(): (), _, msg| {
            // PrepareForSleep(true) and ActiveChanged(true) start the event;
            // their `false` is the way back, which ends nothing.
            let starts = !needs_true || msg.read1::<bool>().unwrap_or(false);
            if starts {
                handler(why);
            }
            true
        });
        if let Err(e) = added {
            tracing::warn!(interface, member, error = %e, "cannot watch this signal");
        }
    }
    std::thread::Builder::new()
        .name("os-session-watch".into())
        .spawn(move || loop {
            if let Err(e) = conn.process(Duration::from_millis(1000)) {
                tracing::warn!(error = %e, "stopped watching for lock and suspend");
                return;
            }
        })
        .is_ok()
}

#[cfg(not(target_os = "linux"))]
pub fn watch(_bus: Bus, _on_event: impl Fn(&'static str) + Send + Sync + 'static) -> bool {
    false
}
