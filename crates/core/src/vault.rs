//! Encryption at rest of what owners give us to send on their behalf: signing secrets and custom
//! header values. Each is sealed with XChaCha20-Poly1305 (a random 24-byte nonce per value, so
//! nonces never repeat in practice) under the operator's key, bound to the webhook and field it
//! belongs to, and stored with the id of the key that sealed it; a database copied without the
//! key reveals nothing, and a value moved to another webhook or field no longer opens.
//!
//! Keys come from `VOICY_SECRET_KEY` (or a file): base64 of 32 random bytes, several separated
//! by commas. The first seals; all of them open. Rotating is: put a new key first, restart (every
//! value is sealed again under it at start-up), then drop the old one.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const NONCE_BYTES: usize = 24;

/// The operator's keys. Never shows a key: `Debug` lists key ids only.
#[derive(Clone)]
pub struct Keyring {
    /// The first seals; every one opens.
    keys: Arc<[(String, XChaCha20Poly1305)]>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no key given: set VOICY_SECRET_KEY to base64 of 32 random bytes (e.g. the output of `head -c 32 /dev/urandom | base64`)"
    )]
    Missing,
    #[error("key {0} (counting from 1) is not base64 of exactly 32 bytes")]
    Invalid(usize),
}

/// A value that did not open: sealed with a key the ring does not hold, or altered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stored value sealed with key {key_id} does not open with the keys given")]
pub struct OpenError {
    pub key_id: String,
}

impl Keyring {
    /// Parses `base64key[,base64key…]`.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for (i, part) in text.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
            let bytes = STANDARD.decode(part).map_err(|_| KeyError::Invalid(i + 1))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Invalid(i + 1))?;
            keys.push((key_id(&key), XChaCha20Poly1305::new(&key.into())));
        }
        if keys.is_empty() {
            return Err(KeyError::Missing);
        }
        Ok(Self { keys: keys.into() })
    }

    /// A fresh random key, base64: what `VOICY_SECRET_KEY` takes.
    pub fn generate_key() -> String {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        STANDARD.encode(key)
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    pub fn holds(&self, key_id: &str) -> bool {
        self.keys.iter().any(|(id, _)| id == key_id)
    }

    /// Seals `plaintext` for `context` (which webhook and field it belongs to) under the current
    /// key; the result is URL-safe base64 of nonce and ciphertext.
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        use rand::RngCore;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self.keys[0]
            .1
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() },
            )
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Opens what `seal` made under `key_id` for the same `context`.
    pub fn open(&self, key_id: &str, context: &str, sealed: &str) -> Result<String, OpenError> {
        let fail = || OpenError { key_id: key_id.to_owned() };
        let cipher =
            self.keys.iter().find(|(id, _)| id == key_id).map(|(_, c)| c).ok_or_else(fail)?;
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| fail())?;
        if bytes.len() < NONCE_BYTES {
            return Err(fail());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload { msg: ciphertext, aad: context.as_bytes() },
            )
            .map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }
}

/// A short public name for a key, derived from it: stored beside each value so the right key is
/// picked to open it, and shown in logs instead of the key.
fn key_id(key: &[u8; 32]) -> String {
    let digest = Sha256::new().chain_update(b"voicy key id\0").chain_update(key).finalize();
    hex::encode(&digest[..4])
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.keys.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

impl PartialEq for Keyring {
    fn eq(&self, other: &Self) -> bool {
        self.keys.iter().map(|(id, _)| id).eq(other.keys.iter().map(|(id, _)| id))
    }
}

impl Eq for Keyring {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[&str]) -> Keyring {
        Keyring::parse(&keys.join(",")).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let (a, b) = (Keyring::generate_key(), Keyring::generate_key());
        let old = ring(&[&a]);
        let sealed = old.seal("w1/secret", "whsec_abc");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(old.open(old.current_id(), "w1/secret", &sealed).unwrap(), "whsec_abc");
        assert!(
            old.open(old.current_id(), "w2/secret", &sealed).is_err(),
            "moved to another webhook"
        );
        // After rotation the old key still opens; a ring without it does not.
        let rotated = ring(&[&b, &a]);
        assert_eq!(rotated.open(old.current_id(), "w1/secret", &sealed).unwrap(), "whsec_abc");
        assert_ne!(rotated.current_id(), old.current_id());
        assert!(ring(&[&b]).open(old.current_id(), "w1/secret", &sealed).is_err());
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let keys = ring(&[&Keyring::generate_key()]);
        assert_ne!(keys.seal("c", "v"), keys.seal("c", "v"));
    }

    #[test]
    fn bad_keys_are_refused_and_never_shown() {
        assert_eq!(Keyring::parse(" ").unwrap_err(), KeyError::Missing);
        assert_eq!(Keyring::parse("c2hvcnQ=").unwrap_err(), KeyError::Invalid(1));
        let key = Keyring::generate_key();
        assert!(!format!("{:?}", ring(&[&key])).contains(&key));
    }
}
