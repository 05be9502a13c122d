//! Sign-up and sign-in. Passwords are hashed with argon2id off the async threads.

use crate::AppState;
use crate::auth::ClientAddress;
use crate::domain::{Email, Password};
use crate::error::{AppError, FieldErrors};
use crate::views::UserView;
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::sync::{Arc, LazyLock};

/// A hash of a password nobody knows, verified against when the email has no account, so a
/// wrong email costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash(&uuid::Uuid::new_v4().to_string()));

fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default params")
        .to_string()
}

fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Hashes running at once: one per core. Each takes ~19 MiB and a core for a moment; unbounded,
/// a few hundred concurrent sign-ins grew the blocking pool to hundreds of threads and GiBs.
static HASHING: LazyLock<Arc<tokio::sync::Semaphore>> =
    LazyLock::new(|| Arc::new(tokio::sync::Semaphore::new(hashing_threads())));
/// How long a sign-in waits for a hashing slot before it is told to come back (503).
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn hashing_threads() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads of their own for hashing, as many as there are slots: hashing never spreads over the
/// blocking pool's threads, each with its own allocator arena.
static HASHERS: LazyLock<std::sync::mpsc::SyncSender<Job>> = LazyLock::new(|| {
    let (send, receive) = std::sync::mpsc::sync_channel::<Job>(hashing_threads());
    let receive = std::sync::Arc::new(std::sync::Mutex::new(receive));
    for i in 0..hashing_threads() {
        let receive = receive.clone();
        std::thread::Builder::new()
            .name(format!("voicy-hash-{i}"))
            .spawn(move || {
                loop {
                    let job = receive.lock().expect("never poisoned").recv();
                    match job {
                        Ok(job) => {
                            job();
                            give_back_memory();
                        }
                        Err(_) => return,
                    }
                }
            })
            .expect("a hashing thread starts");
    }
    send
});

/// Returns the hash's 19 MiB to the system. glibc raises its mmap threshold after the first large
/// buffer is freed, so later ones come from (and stay in) the heap: measured, the server grew by
/// 19.5 MB per sign-up up to 390 MB and stayed there; with this it stays under 65 MB (BENCHMARKS.md).
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    blocking_within(&HASHING, HASHING_WAIT, work).await
}

async fn blocking_within<T: Send + 'static>(
    slots: &Arc<tokio::sync::Semaphore>, wait: std::time::Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let Ok(Ok(slot)) = tokio::time::timeout(wait, slots.clone().acquire_owned()).await else {
        tracing::warn!("every password-hashing slot is busy; asking the client to retry");
        return Err(AppError::Unavailable);
    };
    let (done, result) = tokio::sync::oneshot::channel();
    // The slot goes with the job and is freed when the work is done, not when the caller stops
    // waiting (a client that hangs up must not let a further hash start beside its own).
    let job: Job = Box::new(move || {
        let _ = done.send(work());
        drop(slot);
    });
    // A slot is held, and the channel has room for as many jobs as there are slots.
    HASHERS
        .try_send(job)
        .map_err(|_| AppError::internal("the hashing queue is full although a slot is held"))?;
    result.await.map_err(AppError::internal)
}

/// A new account; `TooManySignUps` before any work when `client` has created its quota.
pub async fn sign_up(
    state: &AppState, client: Option<ClientAddress>, email: &str, password: &str,
) -> Result<UserView, AppError> {
    let (store, client) = (&state.store, client.map(|c| c.0.to_string()));
    let mut errors = FieldErrors::new();
    let email = errors.take("email", Email::parse(email));
    let password = errors.take("password", Password::parse(password));
    errors.into_result()?;
    state.throttle.sign_up(client.as_deref()).await?;
    let (email, password) = (email.expect("checked"), password.expect("checked"));
    let phc = blocking(move || hash(password.expose())).await?;
    let id = store.insert_user(&email, &phc).await?;
    Ok(UserView { id, email: email.as_str().to_owned() })
}

/// The user with these credentials, or `InvalidCredentials` whichever of the two is wrong;
/// `TooManyAttempts` before any work when the account or the client address is over its quota.
pub async fn sign_in(
    state: &AppState, client: Option<ClientAddress>, email: &str, password: &str,
) -> Result<UserView, AppError> {
    let store = &state.store;
    state.throttle.sign_in(email, client.map(|c| c.0.to_string()).as_deref()).await?;
    let email = Email::parse(email).ok();
    let account = match &email {
        Some(email) => store.credentials(email).await?,
        None => None,
    };
    let password = password.to_owned();
    let (user_id, phc) = match account {
        Some((id, phc)) => (Some(id), phc),
        None => (None, DUMMY_HASH.clone()),
    };
    let matches = blocking(move || verify(&password, &phc)).await?;
    match (user_id, email) {
        (Some(id), Some(email)) if matches => Ok(UserView { id, email: email.as_str().to_owned() }),
        _ => Err(AppError::InvalidCredentials),
    }
}

/// Warms the dummy hash at start-up so the first failed sign-in is not slower than the rest.
pub fn prepare() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn when_every_hashing_slot_is_busy_the_caller_gets_503_and_a_free_slot_runs_the_work() {
        let slots = Arc::new(tokio::sync::Semaphore::new(1));
        let _busy = slots.clone().acquire_owned().await.unwrap();
        let result = blocking_within(&slots, std::time::Duration::from_millis(100), || 1).await;
        assert_eq!(result, Err(AppError::Unavailable));
        drop(_busy);
        assert_eq!(
            blocking_within(&slots, std::time::Duration::from_millis(100), || 1).await,
            Ok(1)
        );
    }
}
