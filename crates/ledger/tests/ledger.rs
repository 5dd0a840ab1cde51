//! The ledger under tampering, crashes and I/O faults.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use countersign_ledger::{
    export, verify_export, AuditEvent, BreakKind, Checkpoint, EventKind, Export, Ledger,
    LedgerError, PushState,
};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("countersign-ledger-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("ledger.sqlite")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("u+w")
            .arg(&self.0)
            .status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn event(i: usize) -> AuditEvent {
    let kinds = [
        EventKind::Sync,
        EventKind::AuthSucceeded,
        EventKind::Sign,
        EventKind::AuthFailed,
        EventKind::PolicySeen,
    ];
    AuditEvent::now(
        kinds[i % kinds.len()],
        "github.com/5002/bob-qa",
        format!("acme/pump#{i}"),
    )
    .reason(format!("reason {i}"))
}

fn ledger_with(dir: &TempDir, n: usize) -> Ledger {
    let mut ledger = Ledger::open(&dir.db()).unwrap();
    for i in 0..n {
        ledger.append(&event(i)).unwrap();
    }
    ledger
}

#[test]
fn a_fresh_trail_verifies_and_the_database_refuses_rewrites() {
    let dir = TempDir::new("append-only");
    let mut ledger = ledger_with(&dir, 5);
    let (size, _) = ledger.verify().unwrap().unwrap();
    assert_eq!(size, 5);
    for sql in [
        "UPDATE audit SET bytes = x'00' WHERE seq = 2",
        "DELETE FROM audit WHERE seq = 5",
    ] {
        assert!(
            matches!(ledger.raw_execute(sql), Err(LedgerError::AppendOnly(_))),
            "{sql} was allowed"
        );
    }
    // Signatures, rejections and revocations need a reason (Annex 11 §9).
    let no_reason = AuditEvent::now(EventKind::Sign, "github.com/5002/bob-qa", "acme/pump#1");
    assert!(matches!(
        ledger.append(&no_reason),
        Err(LedgerError::Invalid(_))
    ));
    assert_eq!(
        ledger.head().unwrap().0,
        5,
        "the refused entry left no trace"
    );
}

#[test]
fn records_their_audit_entries_and_the_outbox_are_written_together() {
    let dir = TempDir::new("records");
    let mut ledger = Ledger::open(&dir.db()).unwrap();
    let sign = AuditEvent::now(EventKind::Sign, "github.com/5002/bob-qa", "acme/pump#42")
        .reason("approve");
    let (id, seq) = ledger
        .append_record(
            b"{\"envelope\":1}",
            "acme/pump",
            42,
            "3e66",
            &sign,
            &["github.com"],
        )
        .unwrap();
    let records = ledger.records().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].audit_seq, seq);
    let outbox = ledger.outbox().unwrap();
    assert_eq!(outbox[0].state, PushState::Pending);

    // A push that fails is remembered; one that succeeds marks the item; a retry is a no-op.
    let push = |ok| {
        AuditEvent::now(
            if ok {
                EventKind::Push
            } else {
                EventKind::PushFailed
            },
            "system",
            "acme/pump#42",
        )
    };
    ledger
        .record_push(id, "github.com", Err("503"), &push(false))
        .unwrap();
    ledger
        .record_push(id, "github.com", Ok("comment 77"), &push(true))
        .unwrap();
    let size_after_push = ledger.head().unwrap().0;
    ledger
        .record_push(id, "github.com", Ok("comment 77"), &push(true))
        .unwrap();
    assert_eq!(
        ledger.head().unwrap().0,
        size_after_push,
        "a repeated acknowledgement adds nothing"
    );
    let item = &ledger.outbox().unwrap()[0];
    assert_eq!(
        (item.state, item.attempts, item.remote_ref.as_deref()),
        (PushState::Pushed, 2, Some("comment 77"))
    );
    assert!(ledger
        .raw_execute("UPDATE outbox SET state = 'pending'")
        .is_err());
    assert_eq!(ledger.orphans().unwrap(), (0, 0));
}

fn exported(n: usize, name: &str) -> Export {
    let dir = TempDir::new(name);
    let mut ledger = ledger_with(&dir, n);
    let (size, head) = ledger.head().unwrap();
    ledger
        .add_checkpoint(&Checkpoint {
            size,
            head: hex::encode(head),
            signed_at: "2026-11-26T12:00:00Z".into(),
            key_id: "test".into(),
            signature: "unchecked-here".into(),
        })
        .unwrap();
    export(&ledger).unwrap()
}

#[test]
fn every_single_byte_change_is_found_at_its_entry() {
    let original = exported(6, "bytes");
    assert!(verify_export(&original).is_ok());
    let mut checked = 0;
    for i in 0..original.entries.len() {
        let len = original.entries[i].entry.len();
        for at in 0..len {
            let mut tampered = original.clone();
            let mut bytes = tampered.entries[i].entry.clone().into_bytes();
            // Stay within ASCII so the entry is still text; flip to a different character.
            bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
            tampered.entries[i].entry = String::from_utf8(bytes).unwrap();
            let err = verify_export(&tampered).unwrap_err();
            assert_eq!(
                (err.seq, err.kind),
                (original.entries[i].seq, BreakKind::Altered),
                "byte {at} of entry {i}"
            );
            checked += 1;
        }
    }
    assert!(checked > 500);
}

#[test]
fn deletions_insertions_reorderings_duplications_and_truncations_are_located() {
    for n in 2..=10 {
        let original = exported(n, &format!("shape-{n}"));
        for i in 0..n {
            let mut deleted = original.clone();
            deleted.entries.remove(i);
            let err = verify_export(&deleted).unwrap_err();
            if i == n - 1 {
                assert_eq!(err.kind, BreakKind::Truncated, "deleting the last of {n}");
            } else {
                assert_eq!(
                    (err.seq, err.kind),
                    (i as u64 + 1, BreakKind::Sequence),
                    "deleting {i} of {n}"
                );
            }

            let mut duplicated = original.clone();
            duplicated.entries.insert(i, original.entries[i].clone());
            let err = verify_export(&duplicated).unwrap_err();
            assert_eq!(
                (err.seq, err.kind),
                (i as u64 + 2, BreakKind::Sequence),
                "duplicating {i} of {n}"
            );

            // An inserted forgery that even carries the right number and a valid own hash.
            let mut inserted = original.clone();
            let forged_bytes = serde_json::to_string(&event(99)).unwrap();
            let prev = if i == 0 {
                [0u8; 32]
            } else {
                <[u8; 32]>::try_from(hex::decode(&original.entries[i - 1].hash).unwrap()).unwrap()
            };
            let hash = countersign_ledger::entry_hash(i as u64 + 1, &prev, forged_bytes.as_bytes());
            let mut forged = original.entries[i].clone();
            forged.entry = forged_bytes;
            forged.prev_hash = hex::encode(prev);
            forged.hash = hex::encode(hash);
            inserted.entries.insert(i, forged);
            let err = verify_export(&inserted).unwrap_err();
            assert_eq!(err.seq, i as u64 + 2, "inserting before {i} of {n}: {err}");

            if i + 1 < n {
                let mut swapped = original.clone();
                swapped.entries.swap(i, i + 1);
                let err = verify_export(&swapped).unwrap_err();
                assert_eq!(
                    (err.seq, err.kind),
                    (i as u64 + 1, BreakKind::Sequence),
                    "swapping {i} of {n}"
                );
            }
        }
        for keep in 0..n {
            let mut truncated = original.clone();
            truncated.entries.truncate(keep);
            truncated.size = keep as u64;
            truncated.head = truncated
                .entries
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or_else(|| hex::encode([0u8; 32]));
            let err = verify_export(&truncated).unwrap_err();
            assert_eq!(
                err.kind,
                BreakKind::Truncated,
                "truncating {n} to {keep}: {err}"
            );
        }
    }
}

#[test]
fn tampering_inside_the_database_is_found_even_with_the_triggers_dropped() {
    let dir = TempDir::new("db-tamper");
    let ledger = ledger_with(&dir, 8);
    ledger.raw_execute("DROP TRIGGER audit_no_update").unwrap();
    ledger.raw_execute("DROP TRIGGER audit_no_delete").unwrap();
    ledger.raw_execute("UPDATE audit SET bytes = CAST(replace(CAST(bytes AS TEXT), 'reason 4', 'reason X') AS BLOB) WHERE seq = 5").unwrap();
    let err = ledger.verify().unwrap().unwrap_err();
    assert_eq!((err.seq, err.kind), (5, BreakKind::Altered));

    let dir = TempDir::new("db-delete");
    let ledger = ledger_with(&dir, 8);
    ledger.raw_execute("DROP TRIGGER audit_no_delete").unwrap();
    ledger
        .raw_execute("DELETE FROM audit WHERE seq = 3")
        .unwrap();
    let err = ledger.verify().unwrap().unwrap_err();
    assert_eq!((err.seq, err.kind), (3, BreakKind::Sequence));

    let dir = TempDir::new("db-fork");
    let mut ledger = ledger_with(&dir, 4);
    for head in ["aa", "bb"] {
        ledger
            .add_checkpoint(&Checkpoint {
                size: 2,
                head: head.repeat(32),
                signed_at: "2026-11-26T12:00:00Z".into(),
                key_id: "k".into(),
                signature: "s".into(),
            })
            .unwrap();
    }
    assert_eq!(
        ledger.verify().unwrap().unwrap_err().kind,
        BreakKind::Forked
    );
}

/// Run the crash child for `run_for`, SIGKILL it, and return the ids it acknowledged.
fn run_and_kill(db: &Path, run_for: Duration) -> Vec<i64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-crash-child"))
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("ack ")?.split(' ').next()?.parse().ok())
            .collect::<Vec<i64>>()
    });
    std::thread::sleep(run_for);
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap()
}

#[test]
fn two_hundred_kills_lose_no_acknowledged_record() {
    let dir = TempDir::new("crash");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut acknowledged = 0;
    for kill in 0..200 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let acked = run_and_kill(&dir.db(), Duration::from_micros(1_000 + seed % 15_000));
        acknowledged += acked.len();
        let ledger = Ledger::open(&dir.db()).unwrap();
        let ids: HashSet<i64> = ledger.records().unwrap().iter().map(|r| r.id).collect();
        let missing: Vec<&i64> = acked.iter().filter(|id| !ids.contains(id)).collect();
        assert!(
            missing.is_empty(),
            "kill {kill}: acknowledged records {missing:?} are gone"
        );
        assert_eq!(ledger.integrity_check().unwrap(), "ok", "kill {kill}");
        assert!(
            ledger.verify().unwrap().is_ok(),
            "kill {kill}: the chain broke"
        );
        assert_eq!(
            ledger.orphans().unwrap(),
            (0, 0),
            "kill {kill}: a record without its entry or vice versa"
        );
    }
    assert!(
        acknowledged > 200,
        "the child hardly ran ({acknowledged} acknowledgements)"
    );
}

#[test]
fn a_locked_database_is_a_clear_error_and_acknowledges_nothing() {
    let dir = TempDir::new("locked");
    let mut ledger = ledger_with(&dir, 2);
    let holder = hold_write_lock(&dir.db());
    let err = ledger.append(&event(7)).unwrap_err();
    assert!(matches!(err, LedgerError::Locked(_)), "{err:?}");
    drop(holder);
    assert_eq!(ledger.head().unwrap().0, 2);
    assert!(ledger.verify().unwrap().is_ok());
}

/// A second connection holding the write lock, as another process would:
/// SQLite coordinates connections through the same file locks either way.
fn hold_write_lock(db: &Path) -> Ledger {
    let other = Ledger::open(db).unwrap();
    other.raw_execute("BEGIN EXCLUSIVE").unwrap();
    other
}

fn mount_tmpfs(at: &Path, options: &str) -> bool {
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(at)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_read_only_file_system_is_a_clear_error_with_no_false_acknowledgement() {
    // A read-only mount stops root too, unlike permission bits.
    let dir = TempDir::new("read-only");
    let mount = dir.0.join("ro");
    std::fs::create_dir_all(&mount).unwrap();
    if !mount_tmpfs(&mount, "size=4m") {
        eprintln!("skipped: cannot mount a tmpfs here (needs root and mount rights)");
        return;
    }
    let db = mount.join("ledger.sqlite");
    let result = std::panic::catch_unwind(|| {
        let mut ledger = Ledger::open(&db).unwrap();
        ledger.append(&event(0)).unwrap();
        drop(ledger);
        assert!(Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&mount)
            .status()
            .unwrap()
            .success());
        let outcome = Ledger::open(&db).and_then(|mut l| l.append(&event(1)));
        let err = outcome.expect_err("nothing can be acknowledged on a read-only file system");
        assert!(matches!(err, LedgerError::ReadOnly(_)), "{err:?}");
    });
    let _ = Command::new("umount").arg(&mount).status();
    result.unwrap();
}

#[test]
fn a_full_disk_is_a_clear_error_with_no_partial_entry() {
    let dir = TempDir::new("full");
    let mount = dir.0.join("small");
    std::fs::create_dir_all(&mount).unwrap();
    if !mount_tmpfs(&mount, "size=256k") {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root and mount rights)");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let mut ledger = Ledger::open(&mount.join("ledger.sqlite")).unwrap();
        let big = "x".repeat(8 * 1024);
        let mut acknowledged = 0u64;
        let err = loop {
            let e = event(1).detail(big.clone());
            match ledger.append(&e) {
                Ok(seq) => acknowledged = seq,
                Err(err) => break err,
            }
            assert!(acknowledged < 10_000, "the disk never filled");
        };
        assert!(matches!(err, LedgerError::DiskFull(_)), "{err:?}");
        drop(ledger);
        let ledger = Ledger::open(&mount.join("ledger.sqlite")).unwrap();
        assert_eq!(
            ledger.head().unwrap().0,
            acknowledged,
            "exactly the acknowledged entries are there"
        );
        assert!(ledger.verify().unwrap().is_ok());
    });
    let _ = Command::new("umount").arg(&mount).status();
    result.unwrap();
}
