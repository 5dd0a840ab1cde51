// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod launch;
mod logging;
mod rendering;
mod shell;

use tauri::Manager;

fn main() {
    let started = std::time::Instant::now();
    let rendering = rendering::choose();
    tauri::Builder::default()
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
            let data_dir = app.path().app_data_dir()?;
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
            let link = launch::link_from_args(args.clone().into_iter());
            tauri::async_runtime::spawn(async move {
                let session = launch::session(args.into_iter(), data_dir).await;
                if let (Ok(s), Some(link)) = (&session, &link) {
                    s.request_change(link);
                }
                if let Err(e) = &session {
                    tracing::error!(code = %e.code, error = %e.message, "the session could not open");
                }
                tracing::debug!(ms = started.elapsed().as_millis() as u64, "session opened");
                handle.state::<shell::Shell>().opened(session);
            });
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
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Countersign window could not start");
}
