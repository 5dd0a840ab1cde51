// The commands the webview may call. Keep in step with
// `countersign_api::contract::COMMANDS`, `capabilities/default.json` and
// `permissions/reviewed-commands.txt`; a test in tests/ compares all four.
const COMMANDS: &[&str] = &[
    "app_info",
    "load_queue",
    "open_change_request",
    "review_change_request",
    "signer_status",
    "enrol",
    "preview_signature",
    "sign_change_request",
    "audit_trail",
    "outbox",
    "push_outbox",
    "admin_policy",
    "check_policy",
    "add_signer",
    "propose_policy",
    "settings",
    "save_settings",
    "store_token",
    "start_device_flow",
    "poll_device_flow",
    "sync_offline",
    "register_security_key",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build");
}
