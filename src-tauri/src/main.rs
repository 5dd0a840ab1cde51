// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod instance;
mod launch;
mod logging;
mod notices;
mod rendering;
mod shell;
mod tray;

use tauri::Manager;

fn main() {
    let started = std::time::Instant::now();
    let rendering = rendering::choose();
    // The CLI's rule too: `COUNTERSIGN_DATA_DIR`, else the platform's data
    // folder under the app identifier.
    let data_dir = countersign_api::default_data_dir();
    let context = tauri::generate_context!("../tauri.conf.json");
    let bus_id = instance::bus_id(&context.config().identifier, &data_dir);
    tauri::Builder::default()
        // First, so that a second launch hands over its link and exits before
        // anything else starts (the plugin's own advice).
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(bus_id)
                .callback(|app, argv, _cwd| {
                    tracing::info!("a second launch handed over to this window");
                    let link = launch::link_from_args(argv.into_iter().skip(1));
                    if let (Some(link), Some(shell)) = (link, app.try_state::<shell::Shell>()) {
                        shell.request_change(&link);
                    }
                    tray::show_window(app);
                })
                .build(),
        )
        // Declares the countersign:// scheme, which the packages' desktop
        // entry registers; links arrive on the command line (above, and below
        // for the first launch).
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        // The window opens where and as large as it was left (from Rust:
        // the page is granted none of this plugin's commands).
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(move |app| {
            // Logs are state, not data: the XDG state directory where there is one.
            let log_dir = match dirs::state_dir() {
                Some(state) => state.join("countersign").join("logs"),
                None => app.path().app_log_dir()?,
            };
            logging::init(&log_dir);
            tracing::info!(?rendering, "web content rendering");
            // Links from forge text open in the system browser, from Rust
            // only: the page has no opener permission of its own.
            let browser = app.handle().clone();
            let opener: countersign_api::links::LinkOpener = std::sync::Arc::new(move |url| {
                use tauri_plugin_opener::OpenerExt;
                browser
                    .opener()
                    .open_url(url.as_str(), None::<&str>)
                    .map_err(|e| e.to_string())
            });
            app.manage(shell::Shell::opening(data_dir.clone(), opener));
            // The main thread is GTK's: blocking it here would hold back
            // WebKit loading the page.
            let handle = app.handle().clone();
            let args: Vec<String> = std::env::args().skip(1).collect();
            if let Some(link) = launch::link_from_args(args.clone().into_iter()) {
                app.state::<shell::Shell>().request_change(&link);
            }
            let data_dir = data_dir.clone();
            tauri::async_runtime::spawn(async move {
                let session = launch::session(args.into_iter(), data_dir).await;
                if let Err(e) = &session {
                    tracing::error!(code = %e.code, error = %e.message, "the session could not open");
                }
                tracing::debug!(ms = started.elapsed().as_millis() as u64, "session opened");
                handle.state::<shell::Shell>().opened(session);
            });
            // A missing tray (no StatusNotifier host) costs the count, not the app.
            if let Err(e) = tray::install(app.handle()) {
                tracing::warn!(error = %e, "no tray icon");
            }
            notices::install(app.handle());
            // Lock or suspend ends every signing session (11.200(a)(1)).
            for bus in [countersign_api::os_session::Bus::System, countersign_api::os_session::Bus::Session] {
                let handle = app.handle().clone();
                std::thread::Builder::new()
                    .name("os-session-connect".into())
                    .spawn(move || {
                        countersign_api::os_session::watch(bus, move |why| {
                            let Some(session) = handle.state::<shell::Shell>().open_session() else {
                                return;
                            };
                            if let Err(e) = session.end_signing_sessions(why) {
                                tracing::error!(code = %e.code, error = %e.message, "could not end the signing sessions");
                            }
                        });
                    })?;
            }
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(context)
        .expect("the Countersign window could not start");
}
