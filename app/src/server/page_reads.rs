//! What a server-rendered page read, kept so that it can be read again.
//!
//! A page rendered whole is a function of its address, its signed-in owner and what its server
//! functions returned (the page's nonce aside). The server's page cache (`voicy::page_cache`)
//! keeps a page's HTML with the reads that made it; on the next request for the same page by
//! the same owner it runs those reads again, against the database, and sends the kept HTML only
//! when every read returns the same bytes. So a kept page is never older than the data: a change
//! made anywhere (another tab, the REST API, the dispatcher, another instance) shows at once.
//!
//! Every server function that pages read with (`input = GetUrl`) goes through [`read`]; a test
//! (`every_page_read_is_recorded_under_its_own_name`) keeps it so, and server code that reaches
//! for the request's state outside a read keeps the page from being kept ([`reaching_for_state`]).

use serde::{Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use voicy_model::error::AppError;

/// Runs a read again: its output as JSON, or `None` when it failed.
pub type Replay =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send>> + Send + Sync>;

/// One read of a page: which (the server function and its arguments), how to run it again, and
/// the JSON it returned.
#[derive(Clone)]
pub struct Read {
    pub key: String,
    pub replay: Replay,
    pub output: Vec<u8>,
}

/// The reads of one render. The page cache puts one in the request's extensions; server
/// functions called over HTTP have none and record nothing.
#[derive(Clone, Default)]
pub struct PageReads {
    inner: Arc<Mutex<Recorded>>,
}

#[derive(Default)]
struct Recorded {
    reads: Vec<Read>,
    /// A read failed (the page shows an error, which is not kept), or the render reached for the
    /// request's state outside a read.
    failed: bool,
    /// Outputs the cache's check has just read in this request, by key: the render uses them
    /// instead of asking the database a second time.
    fresh: HashMap<String, Vec<u8>>,
}

impl PageReads {
    /// A recorder whose reads start from outputs read a moment ago in this request.
    pub fn with_fresh(fresh: HashMap<String, Vec<u8>>) -> Self {
        Self { inner: Arc::new(Mutex::new(Recorded { fresh, ..Recorded::default() })) }
    }

    /// The reads of a render that can be kept: none failed.
    pub fn complete(&self) -> Option<Vec<Read>> {
        let recorded = self.lock();
        (!recorded.failed).then(|| recorded.reads.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.inner.lock().expect("never poisoned: nothing panics while it is held")
    }

    fn record(&self, key: String, replay: Replay, output: Vec<u8>) {
        let mut recorded = self.lock();
        if !recorded.reads.iter().any(|r| r.key == key) {
            recorded.reads.push(Read { key, replay, output });
        }
    }

    /// The recorder of the page being rendered, if it is one the page cache may keep.
    fn current() -> Option<Self> {
        let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
        parts.extensions.get::<Self>().cloned()
    }
}

tokio::task_local! {
    /// Set while a recorded read runs.
    static RECORDING: ();
}

/// Called where server code reaches for the request's state. Outside a recorded read, during a
/// render that could be kept, whatever it reads would not be checked again: the page is not kept.
/// (Fails closed for a page that a future change makes read some other way.)
pub fn reaching_for_state() {
    let outside = RECORDING.try_with(|_| ()).is_err();
    if let Some(reads) = PageReads::current().filter(|_| outside) {
        reads.lock().failed = true;
    }
}

/// Reads through `fetch`, recording the read when a page is being rendered. `key` names the read
/// (server function and arguments) within a page.
pub async fn read<T, F, Fut>(key: String, fetch: F) -> Result<T, AppError>
where
    T: Serialize + DeserializeOwned,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let Some(reads) = PageReads::current() else {
        return fetch().await;
    };
    // Read already in this request (by the cache's check, or by this render: Leptos may build a
    // page's sections more than once while rendering it): the same answer, without the database.
    let known = {
        let recorded = reads.lock();
        recorded
            .fresh
            .get(&key)
            .cloned()
            .or_else(|| recorded.reads.iter().find(|r| r.key == key).map(|r| r.output.clone()))
    };
    let (result, output) = match known
        .and_then(|bytes| serde_json::from_slice(&bytes).ok().map(|value| (value, bytes)))
    {
        Some((value, bytes)) => (Ok(value), Some(bytes)),
        None => {
            let result = RECORDING.scope((), fetch()).await;
            let output = result.as_ref().ok().and_then(|value| serde_json::to_vec(value).ok());
            (result, output)
        }
    };
    match output {
        Some(output) => reads.record(key, replay(fetch), output),
        None => reads.lock().failed = true,
    }
    result
}

fn replay<T, F, Fut>(fetch: F) -> Replay
where
    T: Serialize,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    Arc::new(move || {
        let pending = fetch();
        Box::pin(
            async move { pending.await.ok().and_then(|value| serde_json::to_vec(&value).ok()) },
        )
    })
}

/// The body of a server function that pages read with, through [`read`]: the key is the
/// function's name and arguments, and each run of the body gets its own copy of the arguments.
///
/// `page_read!("get_agent", agent_id; { …body using agent_id… })`
macro_rules! page_read {
    ($name:literal $(, $arg:ident)*; $body:block) => {{
        let key = ::serde_json::json!([$name $(, &$arg)*]).to_string();
        $crate::server::page_reads::read(key, move || {
            $(let $arg = $arg.clone();)*
            async move $body
        })
        .await
    }};
}
pub(crate) use page_read;

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::prelude::{Owner, provide_context};
    use leptos::reactive::computed::ScopedFuture;

    /// A render's context: the request's parts, carrying `reads`.
    fn rendering(reads: &PageReads) -> Owner {
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        parts.extensions.insert(reads.clone());
        let owner = Owner::new();
        owner.with(|| provide_context(parts));
        owner
    }

    #[tokio::test]
    async fn state_reached_outside_a_recorded_read_means_the_page_is_not_kept() {
        let inside = PageReads::default();
        let owner = rendering(&inside);
        let value = owner
            .with(|| {
                ScopedFuture::new(read("k".into(), || async {
                    reaching_for_state();
                    Ok::<_, AppError>(7u8)
                }))
            })
            .await;
        assert_eq!(value.ok(), Some(7));
        assert_eq!(inside.complete().map(|reads| reads.len()), Some(1));

        let outside = PageReads::default();
        rendering(&outside).with(reaching_for_state);
        assert!(outside.complete().is_none());
    }

    /// A page is kept only with every read it made: each server function that pages read with
    /// (`input = GetUrl`) must go through `page_read!`, under its own name (the key that matches
    /// a read with its earlier answer).
    #[test]
    fn every_page_read_is_recorded_under_its_own_name() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut names = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (at, line) in lines.iter().enumerate() {
                if !(line.trim_start().starts_with("#[leptos::server(")
                    && line.contains("input = GetUrl"))
                {
                    continue;
                }
                let where_ = format!("{}:{}", file.display(), at + 1);
                let name = lines[at + 1]
                    .trim_start()
                    .strip_prefix("pub async fn ")
                    .and_then(|rest| rest.split('(').next())
                    .expect(&where_);
                // The body's first line, after a signature that may span several lines.
                let body = (at + 1..lines.len()).find(|&i| lines[i].trim_end().ends_with('{'));
                let first = body.and_then(|i| lines.get(i + 1)).expect(&where_);
                assert!(
                    first.contains(&format!("page_read!(\"{name}\"")),
                    "{where_}: {name} does not start with page_read!(\"{name}\""
                );
                assert!(
                    !names.contains(&name.to_owned()),
                    "{where_}: a second page read named {name}"
                );
                names.push(name.to_owned());
            }
        }
        assert!(names.len() >= 10, "found {names:?}");
    }
}
