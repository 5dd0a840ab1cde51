//! Append throughput with synchronous=FULL, and verification of a
//! 1,000,000-entry trail (target < 2 s on one core).
//! `cargo bench -p countersign-ledger` prints the figures.

use std::time::Instant;

use countersign_ledger::{
    entry_hash, verify_chain, AuditEvent, ChainEntry, EventKind, Ledger, GENESIS,
};

fn main() {
    let dir = std::env::temp_dir().join(format!("countersign-ledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // One transaction per event, as the app appends: each is durable before it returns.
    let mut ledger = Ledger::open(&dir.join("append.sqlite")).unwrap();
    let n = 3_000;
    let start = Instant::now();
    for i in 0..n {
        let e = AuditEvent::now(
            EventKind::Sync,
            "github.com/5002/bob-qa",
            format!("acme/pump#{i}"),
        );
        ledger.append(&e).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("append, one durable transaction each (synchronous=FULL): {:.0} events/s ({n} in {secs:.2} s)", n as f64 / secs);

    let entries = 1_000_000u64;
    let sample = serde_json::to_vec(
        &AuditEvent::now(
            EventKind::Sign,
            "github.com/5002/bob-qa",
            "acme/pump#42@3e660899f3",
        )
        .reason("Verified RA-042 controls C1 and C2 against HIL-17"),
    )
    .unwrap();
    let mut chain = Vec::with_capacity(entries as usize);
    let mut prev = GENESIS;
    for seq in 1..=entries {
        let hash = entry_hash(seq, &prev, &sample);
        chain.push(ChainEntry {
            seq,
            bytes: sample.clone(),
            prev_hash: prev,
            hash,
        });
        prev = hash;
    }
    let start = Instant::now();
    let mut h = GENESIS;
    for e in &chain {
        h = entry_hash(e.seq, &h, &e.bytes);
    }
    println!(
        "  of which SHA-256 alone: {:.2} s ({})",
        start.elapsed().as_secs_f64(),
        h[0]
    );
    let start = Instant::now();
    let (size, _) = verify_chain(chain).unwrap();
    println!(
        "verify a {size}-entry chain in memory ({} bytes per entry): {:.2} s (target < 2 s)",
        sample.len(),
        start.elapsed().as_secs_f64()
    );

    // The same trail read back from SQLite, as `countersign audit verify --db` does.
    let big = Ledger::open(&dir.join("big.sqlite")).unwrap();
    drop(big);
    let conn_path = dir.join("big.sqlite");
    {
        let mut ledger = Ledger::open(&conn_path).unwrap();
        let start = Instant::now();
        ledger.bulk_append_for_bench(&sample, entries).unwrap();
        println!(
            "built a {entries}-entry ledger in {:.1} s (one transaction)",
            start.elapsed().as_secs_f64()
        );
    }
    let ledger = Ledger::open(&conn_path).unwrap();
    let start = Instant::now();
    let verdict = ledger.verify().unwrap();
    println!(
        "verify a {}-entry ledger from SQLite: {:.2} s (target < 2 s)",
        verdict.as_ref().map(|(s, _)| *s).unwrap_or(0),
        start.elapsed().as_secs_f64()
    );
    assert!(verdict.is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}
