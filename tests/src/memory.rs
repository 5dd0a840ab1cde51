//! The memory of a running app: its process and every descendant (WebKit's
//! web and network processes), read from `/proc`, for the benchmarks.

use std::collections::HashMap;

/// One process of the app.
#[derive(Debug, Clone)]
pub struct ProcessMemory {
    pub pid: u32,
    /// `/proc`'s name, cut to 15 characters (`WebKitWebProces`).
    pub name: String,
    pub rss: u64,
    pub pss: u64,
    /// Pages only this process maps (`Private_Clean` + `Private_Dirty`).
    pub private: u64,
    /// Anonymous memory: heaps, stacks, allocations (`Anonymous`).
    pub anonymous: u64,
}

/// Each process of the newest process named `exe` and its descendants.
pub fn processes_of_app(exe: &str) -> Vec<ProcessMemory> {
    let mut parent_of = HashMap::new();
    let mut name_of = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // comm may contain spaces; it is wrapped in the outermost parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let ppid: u32 = stat[close + 2..]
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        parent_of.insert(pid, ppid);
        name_of.insert(pid, comm);
    }
    // /proc's comm is cut to 15 characters.
    let short: String = exe.chars().take(15).collect();
    let Some(root) = name_of
        .iter()
        .filter(|(_, n)| **n == short)
        .map(|(p, _)| *p)
        .max()
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for &pid in parent_of.keys() {
        let mut p = pid;
        let mut inside = false;
        for _ in 0..64 {
            if p == root {
                inside = true;
                break;
            }
            match parent_of.get(&p) {
                Some(&pp) if pp != 0 => p = pp,
                _ => break,
            }
        }
        if inside {
            let rollup =
                std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            let (rss, pss) = (
                kb_field(&rollup, "Rss:") * 1024,
                kb_field(&rollup, "Pss:") * 1024,
            );
            if std::env::var_os("BENCH_VERBOSE").is_some() {
                println!(
                    "  {pid} {}: RSS {:.1} MB, PSS {:.1} MB",
                    name_of[&pid],
                    rss as f64 / 1e6,
                    pss as f64 / 1e6
                );
            }
            out.push(ProcessMemory {
                pid,
                name: name_of[&pid].clone(),
                rss,
                pss,
                private: (kb_field(&rollup, "Private_Clean:")
                    + kb_field(&rollup, "Private_Dirty:"))
                    * 1024,
                anonymous: kb_field(&rollup, "Anonymous:") * 1024,
            });
        }
    }
    out
}

/// Summed RSS and PSS (bytes) of the newest process named `exe` and all its descendants.
pub fn memory_of_app(exe: &str) -> (u64, u64) {
    processes_of_app(exe)
        .iter()
        .fold((0, 0), |(r, p), m| (r + m.rss, p + m.pss))
}

/// The app's own process (the UI process, WebKit's parent), by its name.
pub fn ui_process_of_app(exe: &str) -> Option<ProcessMemory> {
    let short: String = exe.chars().take(15).collect();
    processes_of_app(exe)
        .into_iter()
        .filter(|p| p.name == short)
        .min_by_key(|p| p.pid)
}

fn kb_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
