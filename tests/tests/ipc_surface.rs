//! What the webview is allowed to do, checked against reviewed lists.

use std::collections::BTreeSet;

use countersign_tests::workspace_root;
use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn reviewed() -> BTreeSet<String> {
    read("src-tauri/permissions/reviewed-commands.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The quoted names inside the first `[...]` after `marker` in a Rust source file.
fn quoted_list_after(source: &str, marker: &str) -> BTreeSet<String> {
    let start = source
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not found"));
    let rest = &source[start + marker.len()..];
    let open = rest.find('[').unwrap();
    let close = rest[open..].find(']').unwrap() + open;
    rest[open + 1..close]
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn allowed_commands_equal_the_reviewed_list() {
    let reviewed = reviewed();

    let contract: BTreeSet<String> = countersign_api::contract::command_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        contract, reviewed,
        "contract::COMMANDS differs from the reviewed list"
    );

    let build = quoted_list_after(&read("src-tauri/build.rs"), "const COMMANDS: &[&str] =");
    assert_eq!(
        build, reviewed,
        "build.rs COMMANDS differs from the reviewed list"
    );

    let main = read("src-tauri/src/main.rs");
    let handler: BTreeSet<String> = quoted_list_after(&main, "generate_handler!")
        .into_iter()
        .map(|s| s.trim_start_matches("commands::").to_owned())
        .collect();
    assert_eq!(
        handler, reviewed,
        "generate_handler! differs from the reviewed list"
    );

    let capabilities = std::fs::read_dir(workspace_root().join("src-tauri/capabilities")).unwrap();
    let mut granted = BTreeSet::new();
    for entry in capabilities {
        let path = entry.unwrap().path();
        let cap: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for p in cap["permissions"].as_array().unwrap() {
            let p = p.as_str().expect("plain permission identifiers only");
            let command = p
                .strip_prefix("allow-")
                .unwrap_or_else(|| panic!("{}: {p} is not one of our commands", path.display()));
            assert!(!command.contains(':'), "{p}: no plugin or core permissions");
            granted.insert(command.replace('-', "_"));
        }
    }
    assert_eq!(
        granted, reviewed,
        "capabilities grant something other than the reviewed list"
    );
}

#[test]
fn the_csp_is_strict_and_the_global_api_is_off() {
    let conf = json("tauri.conf.json");
    assert_eq!(conf["app"]["withGlobalTauri"], Value::Bool(false));
    assert!(conf["app"]["security"]["dangerousDisableAssetCspModification"].is_null());
    let csp = conf["app"]["security"]["csp"]
        .as_object()
        .expect("a CSP object");
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    for (directive, value) in csp {
        let value = value.as_str().unwrap();
        for forbidden in [
            "'unsafe-inline'",
            "'unsafe-eval'",
            "'wasm-unsafe-eval'",
            "*",
            "https:",
            "blob:",
        ] {
            assert!(
                !value.split_whitespace().any(|t| t == forbidden),
                "{directive} allows {forbidden}"
            );
        }
        for source in value.split_whitespace() {
            let remote = source.starts_with("http://") || source.starts_with("https://");
            assert!(
                !remote || source == "http://ipc.localhost",
                "{directive} allows the remote origin {source}"
            );
        }
    }
}

#[test]
fn the_cli_config_agrees_with_the_root_config() {
    let root = json("tauri.conf.json");
    let cli = json("src-tauri/tauri.conf.json");
    for key in ["productName", "version", "identifier"] {
        assert_eq!(
            root[key], cli[key],
            "{key} differs between the two tauri.conf.json"
        );
    }
    let from_root = workspace_root().join(root["build"]["frontendDist"].as_str().unwrap());
    let from_cli = workspace_root()
        .join("src-tauri")
        .join(cli["build"]["frontendDist"].as_str().unwrap());
    assert_eq!(
        std::fs::canonicalize(from_root.parent().unwrap())
            .unwrap()
            .join(from_root.file_name().unwrap()),
        std::fs::canonicalize(from_cli.parent().unwrap())
            .unwrap()
            .join(from_cli.file_name().unwrap()),
        "frontendDist points at different folders"
    );
    let package_version = read("Cargo.toml");
    assert!(
        package_version.contains(&format!("version = {}", root["version"])),
        "the workspace version differs from tauri.conf.json's"
    );
}

#[test]
fn only_the_backend_module_imports_tauri_in_the_ui() {
    let mut offenders = Vec::new();
    let mut stack = vec![workspace_root().join("ui/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().unwrap() != "backend.ts" {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if text.contains("@tauri-apps/") {
                    offenders.push(path);
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "import @tauri-apps/* only in ui/src/backend.ts: {offenders:?}"
    );
}
