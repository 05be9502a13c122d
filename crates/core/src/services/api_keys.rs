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
