//! Sign and verify throughput, and the cost of the argon2id key derivation.
//! `cargo bench -p countersign-signing` prints the figures.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::Utc;
use countersign_secret::Secret;
use countersign_signing::dsse::IN_TOTO_PAYLOAD_TYPE;
use countersign_signing::keys::SignerKey;
use countersign_signing::reauth::{Reauthenticator, VerifiedIdentity};
use countersign_signing::statement::ForgeIdentity;
use countersign_signing::vault::{seal, unseal, KdfParams};
use countersign_signing::verify::{verify_bundle, Bundle, Expectations, TrustedKey};
use countersign_signing::{sign, ApprovalDraft, ApprovalRequest, EvidenceFile};

fn per_op(label: &str, iterations: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let each = start.elapsed() / iterations;
    println!(
        "{label:<48} {:>10.1} µs/op  {:>10.0} ops/s",
        each.as_secs_f64() * 1e6,
        1.0 / each.as_secs_f64()
    );
    each
}

fn main() {
    let key = SignerKey::from_test_seed([1; 32]);
    let password = Secret::from("correct horse battery staple");
    let identity = ForgeIdentity {
        host: "github.com".into(),
        user_id: 5002,
        login: "bob-qa".into(),
    };
    let request = ApprovalRequest::validate(ApprovalDraft {
        forge: identity.clone(),
        signer_key: key.public(),
        reason: "Benchmark".into(),
        evidence: (0..10)
            .map(|i| EvidenceFile {
                name: format!("junit/suite-{i}.xml"),
                sha256: "4".repeat(64),
            })
            .collect(),
        policy_digest: Some(format!("sha256:{}", "5".repeat(64))),
        app_version: "bench".into(),
        ..countersign_signing_kit::draft(&key.public())
    })
    .unwrap();
    let preview = request.preview();
    let pae = countersign_signing::dsse::pae(IN_TOTO_PAYLOAD_TYPE, &preview.payload);
    println!(
        "statement payload: {} bytes, PAE: {} bytes",
        preview.payload.len(),
        pae.len()
    );

    let public = key.public();
    let envelope_for_verify = {
        let sealed = seal(&key, &password, KdfParams::default()).unwrap();
        let verified = VerifiedIdentity {
            host: "github.com".into(),
            user_id: 5002,
            login: "bob-qa".into(),
        };
        let (proof, _) = Reauthenticator::default().with_password(
            Utc::now(),
            Some(&verified),
            5002,
            &sealed,
            &password,
            preview.digest,
        );
        sign(&request, proof.unwrap()).unwrap()
    };
    let raw_sig = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &envelope_for_verify.signatures[0].sig,
    )
    .unwrap();

    per_op("ed25519 verify_strict over the PAE", 20_000, || {
        assert!(black_box(
            public.verify_strict(black_box(&pae), black_box(&raw_sig))
        ));
    });
    let trusted = [TrustedKey {
        printed_name: "Bob Okafor".into(),
        forge: identity,
        public_key: public,
        valid_from: None,
        valid_until: None,
        revoked_at: None,
        security_keys: Vec::new(),
    }];
    let bundle = Bundle::new(vec![envelope_for_verify]);
    per_op(
        "verify_bundle (decode, parse, verify, check)",
        5_000,
        || {
            assert!(black_box(verify_bundle(&bundle, &trusted, &Expectations::default())).holds());
        },
    );
    per_op("preview (serialize statement, PAE digest)", 20_000, || {
        black_box(request.preview());
    });

    let params = KdfParams::default();
    let sealed = seal(&key, &password, params).unwrap();
    let kdf = per_op(
        &format!(
            "argon2id unseal (m={} KiB, t={}, p={})",
            params.m_kib, params.t, params.p
        ),
        20,
        || {
            black_box(unseal(&sealed, &password).unwrap());
        },
    );
    // Signing a record = one unseal (re-authentication) + one ed25519 signature.
    let sealed2 = seal(&key, &password, params).unwrap();
    let verified = VerifiedIdentity {
        host: "github.com".into(),
        user_id: 5002,
        login: "bob-qa".into(),
    };
    let mut auth = Reauthenticator::default();
    per_op("full signing (re-authenticate + sign)", 20, || {
        let (proof, _) = auth.with_password(
            Utc::now(),
            Some(&verified),
            5002,
            &sealed2,
            &password,
            preview.digest,
        );
        black_box(sign(&request, proof.unwrap()).unwrap());
    });
    println!("a signing costs about one argon2id derivation ({:.1} ms) by design; the ed25519 part is microseconds", kdf.as_secs_f64() * 1e3);
}
