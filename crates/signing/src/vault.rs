//! The signer's private key at rest: sealed under a key derived with argon2id
//! from the signing password, so that a copy of the keychain entry alone cannot
//! sign. The public key is bound in as associated data, so a sealed blob moved
//! to another signer's entry does not open.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use countersign_secret::Secret;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::keys::{PublicKey, SignerKey};
use crate::SigningError;

/// argon2id cost. OWASP's minimum for argon2id is m = 19 MiB, t = 2, p = 1;
/// ≈ 35 ms per derivation in a release build on the development machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        Self {
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
        }
    }
}

impl KdfParams {
    fn check(&self) -> Result<(), SigningError> {
        // Refuse to open blobs whose parameters were weakened, or are absurd enough to hang.
        if self.m_kib < 19 * 1024
            || self.t < 2
            || self.p == 0
            || self.m_kib > 4 * 1024 * 1024
            || self.t > 64
            || self.p > 16
        {
            return Err(SigningError::BadKey(format!(
                "unacceptable argon2id parameters {self:?}"
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedKey {
    pub version: u32,
    pub public_key: PublicKey,
    pub kdf: KdfParams,
    pub salt: String,
    pub nonce: String,
    pub ciphertext: String,
}

const VERSION: u32 = 1;

fn derive(
    password: &Secret<String>,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, SigningError> {
    let p = Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|e| SigningError::BadKey(format!("argon2 parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(password.expose().as_bytes(), salt, out.as_mut())
        .map_err(|e| SigningError::BadKey(format!("argon2: {e}")))?;
    Ok(out)
}

fn aad(public_key: &PublicKey) -> Vec<u8> {
    let mut aad = b"countersign-sealed-key-v1".to_vec();
    aad.extend_from_slice(&public_key.to_bytes());
    aad
}

/// Seal `key` under `password`.
pub fn seal(
    key: &SignerKey,
    password: &Secret<String>,
    params: KdfParams,
) -> Result<SealedKey, SigningError> {
    params.check()?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut salt)
        .and_then(|()| getrandom::fill(&mut nonce))
        .map_err(|e| SigningError::BadKey(format!("no randomness: {e}")))?;
    let kek = derive(password, &salt, params)?;
    let public_key = key.public();
    let seed = key.seed();
    let ciphertext = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: seed.as_ref(),
                aad: &aad(&public_key),
            },
        )
        .map_err(|_| SigningError::BadKey("sealing failed".into()))?;
    Ok(SealedKey {
        version: VERSION,
        public_key,
        kdf: params,
        salt: STANDARD.encode(salt),
        nonce: STANDARD.encode(nonce),
        ciphertext: STANDARD.encode(ciphertext),
    })
}

/// The same key sealed under `new` instead of `old` (a fresh salt and
/// nonce); the key never leaves this function.
pub fn reseal(
    sealed: &SealedKey,
    old: &Secret<String>,
    new: &Secret<String>,
    params: KdfParams,
) -> Result<SealedKey, SigningError> {
    let key = unseal(sealed, old)?;
    seal(&key, new, params)
}

/// Open a sealed key. A wrong password and a tampered blob look the same: [`SigningError::Unseal`].
pub fn unseal(sealed: &SealedKey, password: &Secret<String>) -> Result<SignerKey, SigningError> {
    if sealed.version != VERSION {
        return Err(SigningError::BadKey(format!(
            "sealed key version {} is not supported",
            sealed.version
        )));
    }
    sealed.kdf.check()?;
    let decode = |field: &str, v: &str| {
        STANDARD
            .decode(v)
            .map_err(|_| SigningError::BadKey(format!("{field}: not base64")))
    };
    let salt = decode("salt", &sealed.salt)?;
    let nonce = decode("nonce", &sealed.nonce)?;
    let ciphertext = decode("ciphertext", &sealed.ciphertext)?;
    if nonce.len() != 12 || salt.len() < 16 {
        return Err(SigningError::BadKey(
            "sealed key: bad salt or nonce length".into(),
        ));
    }
    let kek = derive(password, &salt, sealed.kdf)?;
    let seed = Zeroizing::new(
        ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()))
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad(&sealed.public_key),
                },
            )
            .map_err(|_| SigningError::Unseal)?,
    );
    let seed: &[u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| SigningError::Unseal)?;
    let key = SignerKey::from_seed(seed);
    if key.public() != sealed.public_key {
        return Err(SigningError::Unseal);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_unseal_round_trip_only_with_the_password() {
        let key = SignerKey::from_test_seed([3; 32]);
        let password = Secret::from("correct horse battery staple");
        let sealed = seal(&key, &password, KdfParams::default()).unwrap();
        assert_eq!(unseal(&sealed, &password).unwrap().public(), key.public());
        assert!(matches!(
            unseal(&sealed, &Secret::from("wrong")),
            Err(SigningError::Unseal)
        ));

        let text = serde_json::to_string(&sealed).unwrap();
        assert!(
            !text.contains(&hex::encode([3u8; 32])),
            "the seed must not appear in clear"
        );

        // Moving the blob under another public key fails: the key is bound as associated data.
        let mut moved = sealed.clone();
        moved.public_key = SignerKey::from_test_seed([4; 32]).public();
        assert!(matches!(
            unseal(&moved, &password),
            Err(SigningError::Unseal)
        ));

        let mut weakened = sealed;
        weakened.kdf.m_kib = 1024;
        assert!(matches!(
            unseal(&weakened, &password),
            Err(SigningError::BadKey(_))
        ));
    }
}
