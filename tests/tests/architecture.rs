use std::collections::{HashMap, HashSet};
use std::process::Command;

use countersign_tests::workspace_root;
use serde_json::Value;

fn host_triple() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

fn metadata() -> Value {
    // Resolving for this host only keeps cargo from needing other platforms' crates.
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            &host_triple(),
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata JSON")
}

/// Every package reachable from `root` through normal dependencies.
fn reachable<'a>(root: &'a str, graph: &'a HashMap<&'a str, Vec<&'a str>>) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(graph.get(id).into_iter().flatten().copied());
        }
    }
    seen
}

#[test]
fn no_domain_crate_depends_on_tauri_even_indirectly() {
    let meta = metadata();
    let crates_dir = workspace_root().join("crates");
    let packages = meta["packages"].as_array().unwrap();
    let name_of: HashMap<&str, &str> = packages
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    // Only normal (non-dev, non-build) edges: what ships inside the crate.
    let graph: HashMap<&str, Vec<&str>> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let deps = n["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap())
                .collect();
            (n["id"].as_str().unwrap(), deps)
        })
        .collect();
    let domain: Vec<&Value> = packages
        .iter()
        .filter(|p| {
            std::path::Path::new(p["manifest_path"].as_str().unwrap()).starts_with(&crates_dir)
        })
        .collect();
    assert!(
        domain.len() >= 5,
        "expected the domain crates under crates/, found {}",
        domain.len()
    );
    for p in domain {
        let id = p["id"].as_str().unwrap();
        let bad: Vec<&str> = reachable(id, &graph)
            .into_iter()
            .map(|d| name_of[d])
            .filter(|n| {
                *n == "tauri" || n.starts_with("tauri-") || *n == "wry" || *n == "webkit2gtk"
            })
            .collect();
        assert!(bad.is_empty(), "{} depends on {bad:?}", p["name"]);
    }
}

#[test]
fn the_desktop_shell_uses_no_tauri_plugins() {
    let manifest = std::fs::read_to_string(workspace_root().join("src-tauri/Cargo.toml")).unwrap();
    let doc: toml::Table = manifest.parse().unwrap();
    let deps = doc["dependencies"].as_table().unwrap();
    let plugins: Vec<&String> = deps
        .keys()
        .filter(|k| k.starts_with("tauri-plugin"))
        .collect();
    assert!(
        plugins.is_empty(),
        "shell/fs/http plugins widen what the webview can do: {plugins:?}"
    );
}

/// Leaf crates don't call each other: each stays testable alone and a change
/// in one cannot reach into another. Only the shared secret type, and the
/// policy's use of the signature verifier, cross between them.
#[test]
fn leaf_crates_depend_on_no_other_leaf_crate() {
    let meta = metadata();
    let allowed: &[(&str, &str)] = &[
        ("countersign-forge", "countersign-secret"),
        ("countersign-keychain", "countersign-secret"),
        ("countersign-signing", "countersign-secret"),
        ("countersign-ledger", "countersign-secret"),
        ("countersign-policy", "countersign-signing"),
        ("countersign-policy", "countersign-secret"),
    ];
    let leaves = [
        "countersign-forge",
        "countersign-forge-sandbox",
        "countersign-keychain",
        "countersign-ledger",
        "countersign-signing",
        "countersign-policy",
        "countersign-evidence",
        "countersign-secret",
    ];
    let mut found = 0;
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        if !leaves.contains(&name) {
            continue;
        }
        found += 1;
        for d in p["dependencies"].as_array().unwrap() {
            let dep = d["name"].as_str().unwrap();
            let normal = d["kind"].is_null();
            if normal && dep.starts_with("countersign-") {
                assert!(
                    allowed.contains(&(name, dep)),
                    "{name} depends on {dep}: leaf crates talk through countersign-api"
                );
            }
        }
    }
    assert_eq!(found, leaves.len(), "a leaf crate was renamed or removed");
}
