//! Mutations of known-good inputs, for generated-input ("fuzz") tests of
//! every parser that reads forge or CI bytes. `cargo fuzz` needs a nightly
//! toolchain that CI machines cannot install, so these run on stable under
//! `proptest`, inside `cargo test`: each target a bounded number of cases
//! (`COUNTERSIGN_FUZZ_CASES`, default 256), a failure shrunk to a small input
//! and kept in the target's `.proptest-regressions` file, which proptest
//! replays first on every later run.
//!
//! Mutating a valid seed reaches the parser's deep paths that random bytes
//! never would (a JUnit file with one attribute broken, a zip with one header
//! field changed); pure random input is added by each target as well.

use proptest::prelude::*;

/// One change to the input.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Replace the byte at this position (modulo the length).
    Set(usize, u8),
    /// Insert these bytes at this position.
    Insert(usize, Vec<u8>),
    /// Remove up to this many bytes from this position.
    Remove(usize, usize),
    /// Repeat up to this many bytes from this position, in place.
    Repeat(usize, usize),
    /// Keep only the first (position modulo length) bytes.
    Truncate(usize),
}

/// Tokens that mean something to the formats read here: XML, JSON, TOML,
/// Markdown fences, zip signatures, and text that can lie.
const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"</",
    b"/>",
    b"<!DOCTYPE x [<!ENTITY e \"ee\">]>",
    b"&e;",
    b"]]>",
    b"<![CDATA[",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"=",
    b"[[",
    b"\"\"\"",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff\xfe",
    b"\xe2\x80\xae",
    b"null",
    b"-1",
    b"1e309",
    b"18446744073709551616",
    b"```",
    b"```json\n",
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"../",
    b"/",
];

fn edit() -> impl Strategy<Value = Edit> {
    let inserted = prop_oneof![
        prop::sample::select(TOKENS).prop_map(|t| t.to_vec()),
        prop::collection::vec(any::<u8>(), 1..16),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Set(at, b)),
        (any::<usize>(), inserted).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Remove(at, n)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Repeat(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// One to eight edits.
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..8)
}

/// `seed` with `edits` applied in order.
pub fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for e in edits {
        let at = |i: usize| {
            if out.is_empty() {
                0
            } else {
                i % (out.len() + 1)
            }
        };
        match e {
            Edit::Set(i, b) if !out.is_empty() => {
                let i = i % out.len();
                out[i] = *b;
            }
            Edit::Set(..) => {}
            Edit::Insert(i, bytes) => {
                let i = at(*i);
                out.splice(i..i, bytes.iter().copied());
            }
            Edit::Remove(i, n) => {
                let i = at(*i);
                let end = (i + n).min(out.len());
                out.drain(i..end);
            }
            Edit::Repeat(i, n) => {
                let i = at(*i);
                let end = (i + n).min(out.len());
                let copy = out[i..end].to_vec();
                out.splice(i..i, copy);
            }
            Edit::Truncate(i) => {
                let i = at(*i);
                out.truncate(i);
            }
        }
    }
    out
}

/// Cases per target: `COUNTERSIGN_FUZZ_CASES`, else 256 (a few seconds each
/// in a debug build, so the suite stays quick; CI may ask for more).
pub fn cases() -> u32 {
    std::env::var("COUNTERSIGN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// The proptest configuration every target uses.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        ..ProptestConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_stay_in_bounds_on_any_input() {
        for seed in [&b""[..], b"a", b"<a/>"] {
            for e in [
                Edit::Set(99, b'x'),
                Edit::Insert(99, b"zz".to_vec()),
                Edit::Remove(99, 10),
                Edit::Repeat(0, 10),
                Edit::Truncate(99),
            ] {
                let _ = apply(seed, &[e]);
            }
        }
        assert_eq!(apply(b"abc", &[Edit::Insert(1, b"X".to_vec())]), b"aXbc");
        assert_eq!(apply(b"abc", &[Edit::Remove(1, 1)]), b"ac");
        assert_eq!(apply(b"abc", &[Edit::Repeat(0, 2)]), b"ababc");
        assert_eq!(apply(b"abc", &[Edit::Truncate(2)]), b"ab");
        assert_eq!(apply(b"abc", &[Edit::Set(4, b'Z')]), b"aZc");
    }
}
