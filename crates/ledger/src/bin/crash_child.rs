//! Helper for the crash tests: signs-and-appends in a loop and prints each
//! acknowledged record id after its transaction committed, until killed.
//!
//!     ledger-crash-child DB_PATH

use std::io::Write;

use countersign_ledger::{AuditEvent, EventKind, Ledger};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: ledger-crash-child DB_PATH");
    let mut ledger = Ledger::open(std::path::Path::new(&path)).expect("open ledger");
    let stdout = std::io::stdout();
    let mut n: u64 = 0;
    loop {
        n += 1;
        let envelope = format!("{{\"payload\":\"record {n}\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[]}}");
        let event = AuditEvent::now(
            EventKind::Sign,
            "github.com/5002/bob-qa",
            format!("acme/pump#42 record {n}"),
        )
        .reason("crash test");
        let (id, seq) = ledger
            .append_record(
                envelope.as_bytes(),
                "acme/pump",
                42,
                "3e66",
                &event,
                &["github.com"],
            )
            .expect("append");
        if n.is_multiple_of(3) {
            ledger
                .append(&AuditEvent::now(EventKind::Sync, "system", "acme/pump"))
                .expect("append");
        }
        // Only now, after COMMIT returned, is the record acknowledged.
        let mut out = stdout.lock();
        writeln!(out, "ack {id} {seq}")
            .and_then(|()| out.flush())
            .expect("stdout");
    }
}
