//! Desktop notifications and the look that decides them: every so often
//! the session says what waits for me (`Session::attention`, rules and
//! tests in `countersign_api::attention`); the tray shows the count and the
//! notifications due are shown, unless switched off in Settings. Clicking
//! one opens its change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use countersign_api::contract::ChangeRequestRef;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::shell::Shell;

/// How many shown notifications a click is still looked up for.
const KEPT: i32 = 500;

/// Which change each shown notification opens (none: the queue).
#[derive(Default)]
pub struct Shown {
    next_id: AtomicI32,
    opens: Mutex<HashMap<i32, Option<ChangeRequestRef>>>,
}

/// How often to look: a minute, as the queue refreshes;
/// `COUNTERSIGN_WATCH_SECONDS` for the end-to-end tests (at least 1).
fn every() -> Duration {
    let seconds = std::env::var("COUNTERSIGN_WATCH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(60)
        .max(1);
    Duration::from_secs(seconds)
}

/// The action id the notification plugin reports when the notification
/// itself is clicked (buttons on it would report their own ids).
const CLICKED: &str = "tap";

pub fn install(app: &AppHandle) {
    app.manage(Shown::default());
    let handle = app.clone();
    // Runs on the plugin's thread: hand over and return.
    let _ = app.notification().on_action(move |performed| {
        if performed.action_id() != CLICKED {
            return;
        }
        let Some(id) = performed.notification().map(|n| n.id()) else {
            return;
        };
        let wanted = handle
            .state::<Shown>()
            .opens
            .lock()
            .expect("notices lock")
            .get(&id)
            .cloned()
            .flatten();
        tracing::info!(id, "a notification was clicked");
        if let (Some(change), Some(session)) = (wanted, handle.state::<Shell>().open_session()) {
            session.request_open(change);
        }
        crate::tray::show_window(&handle);
    });
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let every = every();
        loop {
            tokio::time::sleep(every).await;
            look(&handle).await;
        }
    });
}

async fn look(app: &AppHandle) {
    let Some(session) = app.state::<Shell>().open_session() else {
        return;
    };
    let attention = match session.attention().await {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!(code = %e.code, error = %e.message, "no look this time");
            return;
        }
    };
    crate::tray::show(app, &attention.waiting);
    let wanted = session
        .settings()
        .await
        .map(|v| v.settings.notifications)
        .unwrap_or(true);
    if !wanted {
        return;
    }
    let shown = app.state::<Shown>();
    for notice in attention.notices {
        let id = shown.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        {
            let mut opens = shown.opens.lock().expect("notices lock");
            // A notification servers still show is among the last few hundred.
            opens.retain(|shown_id, _| id - *shown_id < KEPT);
            opens.insert(id, notice.change.clone());
        }
        let sent = app
            .notification()
            .builder()
            .id(id)
            .title(&notice.title)
            .body(&notice.body)
            .show();
        match sent {
            Ok(()) => tracing::info!(id, kind = ?notice.kind, "notification shown"),
            Err(e) => tracing::warn!(error = %e, "a notification could not be shown"),
        }
    }
}
