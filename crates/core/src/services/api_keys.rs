//! API keys: `vk_` and 64 hex digits of randomness, shown once; only their SHA-256 is stored
//! (a fast hash is right here: the key is random, not a password).

use crate::OwnerRequest;
use crate::auth::OwnerId;
use crate::domain::ApiKeyName;
use crate::error::{AppError, FieldErrors};
use crate::store::Store;
use crate::views::{ApiKeyView, CreatedApiKey};
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "vk_";

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub async fn create(request: &OwnerRequest, name: &str) -> Result<CreatedApiKey, AppError> {
    let name = ApiKeyName::parse(name).map_err(|m| FieldErrors::single("name", m))?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("{PREFIX}{}", hex::encode(bytes));
    let view =
        request.store().insert_api_key(request.owner(), name.as_str(), &key_hash(&key)).await?;
    Ok(CreatedApiKey { id: view.id, name: view.name, key })
}

pub async fn list(request: &OwnerRequest) -> Result<Vec<ApiKeyView>, AppError> {
    request.store().api_keys(request.owner()).await
}

pub async fn revoke(request: &OwnerRequest, id: &str) -> Result<(), AppError> {
    if request.store().delete_api_key(request.owner(), id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The owner of a presented key, or `InvalidApiKey` (revoked, mistyped, not one of ours).
pub async fn authenticate(store: &Store, key: &str) -> Result<OwnerId, AppError> {
    if !key.starts_with(PREFIX) {
        return Err(AppError::InvalidApiKey);
    }
    let owner = store.use_api_key(&key_hash(key)).await?.ok_or(AppError::InvalidApiKey)?;
    Ok(OwnerId::authenticated(owner))
}

/// A key the intake took on this instance's word that it was valid less than a minute ago,
/// without reading it (issue: one-at-a-time latency; on PostgreSQL that read was one of a
/// phone call's two round trips). The call's insert checks it instead, in the same statement
/// (`IncomingCall::check_key`): a key revoked since, through any instance, stores nothing.
/// Before any other answer, `confirm` it: a revoked key is a 401 whatever else is wrong
/// (`services::calls::create` and the intake's handler do).
pub struct KeyToConfirm {
    hash: String,
}

impl KeyToConfirm {
    /// Its hash, for the insert to check.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Reads the key now: `InvalidApiKey` if it is no longer the owner's.
    pub async fn confirm(self, store: &Store) -> Result<(), AppError> {
        store.use_api_key(&self.hash).await?.map(|_| ()).ok_or(AppError::InvalidApiKey)
    }
}

/// Confirms `key`, if there is one to confirm (see `KeyToConfirm`).
pub async fn confirm(store: &Store, key: Option<KeyToConfirm>) -> Result<(), AppError> {
    match key {
        Some(key) => key.confirm(store).await,
        None => Ok(()),
    }
}

/// The owner of a key presented to the intake: read as `authenticate` does, or, for a key this
/// instance read as valid within the last minute, taken as that owner's with the key left to
/// confirm (`KeyToConfirm`).
pub async fn authenticate_for_intake(
    store: &Store, key: &str,
) -> Result<(OwnerId, Option<KeyToConfirm>), AppError> {
    // Only keys read as valid are kept, so a malformed one is never found here.
    let hash = key_hash(key);
    if let Some(owner) = store.recently_valid_key(&hash) {
        return Ok((OwnerId::authenticated(owner), Some(KeyToConfirm { hash })));
    }
    Ok((authenticate(store, key).await?, None))
}
