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

/// Plugins the shell calls from Rust only. A plugin's commands are the
/// page's only if the capability grants them, and it grants none (below).
const PLUGINS_USED_FROM_RUST: &[&str] = &[
    "tauri-plugin-deep-link",
    "tauri-plugin-notification",
    "tauri-plugin-opener",
    "tauri-plugin-single-instance",
    "tauri-plugin-window-state",
];

#[test]
fn the_desktop_shell_uses_no_tauri_plugins_the_page_can_call() {
    let manifest = std::fs::read_to_string(workspace_root().join("src-tauri/Cargo.toml")).unwrap();
    let doc: toml::Table = manifest.parse().unwrap();
    let deps = doc["dependencies"].as_table().unwrap();
    let plugins: Vec<&String> = deps
        .keys()
        .filter(|k| k.starts_with("tauri-plugin") && !PLUGINS_USED_FROM_RUST.contains(&k.as_str()))
        .collect();
    assert!(
        plugins.is_empty(),
        "shell/fs/http plugins widen what the webview can do: {plugins:?}"
    );
    // The page may call Countersign's own commands and nothing of a plugin's.
    let capability: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("src-tauri/capabilities/default.json"))
            .unwrap(),
    )
    .unwrap();
    let granted: Vec<&str> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| p.contains(':'))
        .collect();
    assert!(
        granted.is_empty(),
        "the page is granted plugin permissions: {granted:?}"
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

/// The modules of `crates/api` each module names through `crate::`.
fn api_module_imports() -> HashMap<String, HashSet<String>> {
    let dir = workspace_root().join("crates/api/src");
    let modules: HashSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    let mut graph = HashMap::new();
    for m in &modules {
        let text = std::fs::read_to_string(dir.join(format!("{m}.rs"))).unwrap();
        let mut uses = HashSet::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            // `crate::a::…`, or each name of `crate::{a, b::c}`.
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end].split(',').collect()
            } else {
                vec![rest]
            };
            for name in names {
                let name: String = name
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                    .collect();
                if modules.contains(&name) && &name != m {
                    uses.insert(name);
                }
            }
        }
        graph.insert(m.clone(), uses);
    }
    graph
}

/// A cycle of imports among the use-case modules makes every change to one of
/// them a change to all: there is none.
#[test]
fn the_use_case_modules_import_each_other_without_cycles() {
    let graph = api_module_imports();
    assert!(
        graph["push"].contains("snapshot"),
        "the scan sees imports: {graph:?}"
    );
    fn visit(
        m: &str,
        graph: &HashMap<String, HashSet<String>>,
        path: &mut Vec<String>,
        done: &mut HashSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_owned());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        let mut next: Vec<&String> = graph[m].iter().collect();
        next.sort();
        for n in next {
            if let Some(cycle) = visit(n, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = HashSet::new();
    let mut names: Vec<&String> = graph.keys().collect();
    names.sort();
    for m in names {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle in crates/api: {}", cycle.join(" → "));
        }
    }
}
