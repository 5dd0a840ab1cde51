// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod launch;
mod logging;
mod shell;

use tauri::Manager;

fn main() {
    tauri::Builder::default()
        .setup(|app| {
            let log_dir = app.path().app_log_dir()?;
            logging::init(&log_dir);
            let data_dir = app.path().app_data_dir()?;
            let session = tauri::async_runtime::block_on(launch::session(
                std::env::args().skip(1),
                data_dir.clone(),
            ))?;
            app.manage(shell::Shell::new(session, data_dir));
            // Lock or suspend ends every signing session (11.200(a)(1)).
            for bus in [countersign_api::os_session::Bus::System, countersign_api::os_session::Bus::Session] {
                let handle = app.handle().clone();
                countersign_api::os_session::watch(bus, move |why| {
                    if let Err(e) = handle.state::<shell::Shell>().session().end_signing_sessions(why) {
                        tracing::error!(code = %e.code, error = %e.message, "could not end the signing sessions");
                    }
                });
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::load_queue,
            commands::open_change_request,
            commands::review_change_request,
            commands::signer_status,
            commands::enrol,
            commands::preview_signature,
            commands::sign_change_request,
            commands::audit_trail,
            commands::outbox,
            commands::push_outbox,
            commands::admin_policy,
            commands::check_policy,
            commands::add_signer,
            commands::propose_policy,
            commands::settings,
            commands::save_settings,
            commands::store_token,
            commands::start_device_flow,
            commands::poll_device_flow,
            commands::sync_offline,
            commands::register_security_key,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Countersign window could not start");
}
