//! Crash soak (not a test: it prints figures). Kills a writer N times at
//! random moments and checks after each restart that no acknowledged record
//! is missing, the database is intact and the chain verifies.
//!
//!     cargo build --release -p countersign-ledger
//!     target/release/ledger-soak [KILLS]     (default 1000)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use countersign_ledger::Ledger;

fn main() {
    let kills: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let child_bin = std::env::current_exe()
        .unwrap()
        .with_file_name("ledger-crash-child");
    let dir = std::env::temp_dir().join(format!("countersign-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ledger.sqlite");
    let started = Instant::now();
    let mut acked_total = 0u64;
    let mut max_acked = 0i64;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let run_for = Duration::from_micros(2_000 + seed % 30_000);
        let (acked, _) = run_and_kill(&child_bin, &db, run_for);
        acked_total += acked.len() as u64;
        if let Some(m) = acked.iter().max() {
            max_acked = max_acked.max(*m);
        }
        let ledger = Ledger::open(&db).expect("reopen");
        let ids: std::collections::HashSet<i64> =
            ledger.records().unwrap().iter().map(|r| r.id).collect();
        let missing = acked.iter().filter(|id| !ids.contains(id)).count();
        let integrity = ledger.integrity_check().unwrap();
        let chain = ledger.verify().unwrap();
        let orphans = ledger.orphans().unwrap();
        if missing > 0 || integrity != "ok" || chain.is_err() || orphans != (0, 0) {
            eprintln!("kill {i}: missing {missing}, integrity {integrity}, chain {chain:?}, orphans {orphans:?}");
            std::process::exit(1);
        }
    }
    let ledger = Ledger::open(&db).unwrap();
    let (size, _) = ledger.head().unwrap();
    println!(
        "{kills} kills in {:.1} s: {acked_total} acknowledged records, 0 missing; integrity ok; chain of {size} entries verifies; no orphans",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn run_and_kill(
    child_bin: &std::path::Path,
    db: &std::path::Path,
    run_for: Duration,
) -> (Vec<i64>, Duration) {
    let mut child = Command::new(child_bin)
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut ids = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(id) = line
                .strip_prefix("ack ")
                .and_then(|r| r.split(' ').next())
                .and_then(|s| s.parse().ok())
            {
                ids.push(id);
            }
        }
        ids
    });
    std::thread::sleep(run_for);
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
    (reader.join().unwrap(), run_for)
}
