//! The tray icon: how many changes wait for one of my roles, and a menu
//! that opens the window on the queue or on the first of them.

use std::sync::Mutex;

use countersign_api::contract::ChangeRequestRef;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};

use crate::shell::Shell;

pub struct Tray {
    icon: TrayIcon,
    first: MenuItem<Wry>,
    first_change: Mutex<Option<ChangeRequestRef>>,
}

const OPEN_FIRST: &str = "open-first";
const OPEN_QUEUE: &str = "open-queue";
const QUIT: &str = "quit";

/// Put the icon in the tray (where the desktop has one: without a
/// StatusNotifier host nothing shows, and nothing fails).
pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let first = MenuItem::with_id(
        app,
        OPEN_FIRST,
        "Nothing waits for you",
        false,
        None::<&str>,
    )?;
    let queue = MenuItem::with_id(app, OPEN_QUEUE, "Open the review queue", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, QUIT, "Quit Countersign", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&first, &queue, &quit])?;
    let mut builder = TrayIconBuilder::with_id("countersign")
        .menu(&menu)
        .tooltip("Countersign")
        .on_menu_event(|app, event| match event.id.as_ref() {
            OPEN_FIRST => {
                let wanted = app
                    .state::<Tray>()
                    .first_change
                    .lock()
                    .expect("tray lock")
                    .clone();
                if let (Some(change), Some(session)) = (wanted, app.state::<Shell>().open_session())
                {
                    session.request_open(change);
                }
                show_window(app);
            }
            OPEN_QUEUE => show_window(app),
            QUIT => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    app.manage(Tray {
        icon,
        first,
        first_change: Mutex::new(None),
    });
    Ok(())
}

/// Show how many changes wait for me, and offer the first.
pub fn show(app: &AppHandle, waiting: &[(ChangeRequestRef, String)]) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let count = waiting.len();
    // The label next to the icon (Linux) or the title (macOS); empty when nothing waits.
    let label = (count > 0).then(|| count.to_string());
    if let Err(e) = tray.icon.set_title(label.as_deref()) {
        tracing::warn!(error = %e, "the tray label could not be set");
    }
    let tooltip = match count {
        0 => "Countersign: nothing waits for you".to_owned(),
        1 => "Countersign: 1 change waits for your signature".to_owned(),
        n => format!("Countersign: {n} changes wait for your signature"),
    };
    let _ = tray.icon.set_tooltip(Some(&tooltip));
    let first = waiting.first();
    let text = match first {
        Some((c, title)) => format!("Open {} #{}: {}", c.repo, c.number, shorten(title)),
        None => "Nothing waits for you".to_owned(),
    };
    let _ = tray.first.set_text(text);
    let _ = tray.first.set_enabled(first.is_some());
    *tray.first_change.lock().expect("tray lock") = first.map(|(c, _)| c.clone());
}

pub fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// A menu entry is one line: long titles are cut, at a character boundary.
fn shorten(title: &str) -> String {
    const MAX: usize = 60;
    match title.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &title[..at]),
        None => title.to_owned(),
    }
}
