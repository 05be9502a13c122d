use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sqlx::AnyPool;
use std::sync::Arc;
use tempfile::TempDir;
use voicy::config::{DatabaseUrl, Settings};

/// Every signing secret and header value used in these tests contains this marker, and every
/// response body of the whole run is checked not to contain it.
pub const SECRET_MARK: &str = "s3cr3t-";

pub fn secret(label: &str) -> String {
    format!("{SECRET_MARK}{label}")
}

/// A fresh, empty database for one test: a SQLite file in a temporary directory, or, when
/// `VOICY_TEST_POSTGRES` names a PostgreSQL server (`make test` starts a throwaway one), a new
/// database on it. The whole suite runs once on each.
pub struct TestDb {
    pub url: String,
    /// Holds the SQLite file (empty on PostgreSQL) until the last app on it is gone.
    _dir: TempDir,
}

impl TestDb {
    pub async fn fresh() -> Arc<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match std::env::var("VOICY_TEST_POSTGRES").ok().filter(|u| !u.is_empty()) {
            Some(server) => {
                use sqlx::Connection;
                let name = format!("voicy_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("the test PostgreSQL server answers");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create a test database");
                let mut url = url::Url::parse(&server).expect("VOICY_TEST_POSTGRES is a URL");
                url.set_path(&name);
                url.to_string()
            }
            None => format!("sqlite://{}/voicy.db", dir.path().display()),
        };
        Arc::new(Self { url, _dir: dir })
    }
}

pub struct TestApp {
    pub base: String,
    pub pool: AnyPool,
    pub db: Arc<TestDb>,
    /// Kept so the dispatcher runs as long as the app.
    _dispatcher: Option<voicy_core::dispatcher::Running>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_in(TestDb::fresh().await, configure).await
    }

    /// Starts the app on `db`: a second app on the same `db` is a restart, or a second instance.
    pub async fn spawn_in(db: Arc<TestDb>, configure: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_built(db, configure, None).await
    }

    /// With given post-call processing steps instead of those the settings make.
    pub async fn spawn_with_steps(
        db: Arc<TestDb>, configure: impl FnOnce(&mut Settings),
        steps: voicy_core::dispatcher::post_call::Steps,
    ) -> Self {
        Self::spawn_built(db, configure, Some(steps)).await
    }

    async fn spawn_built(
        db: Arc<TestDb>, configure: impl FnOnce(&mut Settings),
        steps: Option<voicy_core::dispatcher::post_call::Steps>,
    ) -> Self {
        let mut settings = Settings::from_lookup(|k| {
            (k == "VOICY_SECRET_KEY").then(|| voicy::config::TEST_SECRET_KEY.to_owned())
        })
        .expect("default settings");
        settings.database_url = DatabaseUrl::new(db.url.clone());
        settings.listen_addr = "127.0.0.1:0".parse().unwrap();
        // Every test signs up from 127.0.0.1, and some make hundreds of web calls: the tests of
        // these quotas set them back.
        settings.limits.sign_ups_per_hour = 1_000_000;
        settings.limits.web_calls_per_minute = 1_000_000;
        configure(&mut settings);
        let instance = match steps {
            Some(steps) => voicy::build_with_steps(&settings, steps).await,
            None => voicy::build(&settings).await,
        }
        .expect("app builds");
        let listener =
            tokio::net::TcpListener::bind(settings.listen_addr).await.expect("bind port 0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(voicy::serve::serve(
            listener,
            instance.router,
            settings.connections,
            std::future::pending(),
        ));
        Self {
            base,
            pool: instance.state.store.pool().clone(),
            db,
            _dispatcher: instance.dispatcher,
        }
    }

    /// A client with its own cookie jar: one browser, one person.
    pub fn client(&self) -> Api {
        Api {
            base: self.base.clone(),
            http: Client::builder().cookie_store(true).build().unwrap(),
            bearer: None,
        }
    }

    /// A client whose connections come from another loopback address (`127.0.0.2`, …): another
    /// person's machine, as the server sees it. (Linux: the whole of 127/8 is loopback.)
    pub fn client_from(&self, address: std::net::Ipv4Addr) -> Api {
        let http = Client::builder()
            .cookie_store(true)
            .local_address(std::net::IpAddr::V4(address))
            .build()
            .unwrap();
        Api { base: self.base.clone(), http, bearer: None }
    }

    /// A new account, signed in on its own client.
    pub async fn user(&self) -> Api {
        let api = self.client();
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4());
        let res = api
            .post(
                "/api/v1/auth/signup",
                json!({ "email": email, "password": "correct horse battery" }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        api
    }
}

pub struct Api {
    base: String,
    http: Client,
    bearer: Option<String>,
}

pub struct Res {
    pub status: StatusCode,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

impl Api {
    /// A client of `base` with the given HTTP client (and its cookie jar).
    pub fn with_client(base: &str, http: Client) -> Api {
        Api { base: base.to_owned(), http, bearer: None }
    }

    /// The same person (same cookie jar) talking to another server, e.g. after a restart.
    pub fn against(&self, app: &TestApp) -> Api {
        Api { base: app.base.clone(), http: self.http.clone(), bearer: self.bearer.clone() }
    }

    /// The same person, authenticating with an API key instead of the cookie.
    pub fn with_bearer(&self, key: &str) -> Api {
        Api { base: self.base.clone(), http: Client::new(), bearer: Some(key.to_owned()) }
    }

    /// Sends a request. Sign-up and sign-in answered 503 (every password-hashing slot stayed
    /// busy) are sent again, as a client is told to: the tests of one binary share the process's
    /// hashing slots, and a hundred of them signing up at once can keep them busy past the wait.
    pub async fn send(&self, method: Method, path: &str, body: Option<RawBody>) -> Res {
        let retried = path.starts_with("/api/v1/auth/");
        let mut tries = 0;
        loop {
            let res = self.send_once(method.clone(), path, body.clone()).await;
            tries += 1;
            if !(retried && res.status == StatusCode::SERVICE_UNAVAILABLE && tries < 20) {
                return res;
            }
            // The server says 5 s (`Retry-After`); a slot frees within a hash's time.
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    async fn send_once(&self, method: Method, path: &str, body: Option<RawBody>) -> Res {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(key) = &self.bearer {
            req = req.bearer_auth(key);
        }
        req = match body {
            Some(RawBody::Json(value)) => req.json(&value),
            Some(RawBody::Text(text)) => req.header("content-type", "application/json").body(text),
            None => req,
        };
        let res = req.send().await.expect("request reaches the server");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap();
        assert!(
            !body.contains(SECRET_MARK),
            "a response leaked a secret or header value: {path}: {body}"
        );
        crate::conformance::check(&method, path, status, &body);
        Res { status, body, headers }
    }

    /// A JSON request with extra headers (e.g. `Origin`).
    pub async fn send_with(
        &self, method: Method, path: &str, headers: &[(&str, &str)], body: &str,
    ) -> Res {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send_raw(method, path, &all, body).await
    }

    /// A request with exactly these headers and body (e.g. a form post as a browser sends it).
    pub async fn send_raw(
        &self, method: Method, path: &str, headers: &[(&str, &str)], body: &str,
    ) -> Res {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.body(body.to_owned()).send().await.expect("request reaches the server");
        let (status, headers) = (res.status(), res.headers().clone());
        let body = res.text().await.unwrap();
        assert!(
            !body.contains(SECRET_MARK),
            "a response leaked a secret or header value: {path}: {body}"
        );
        crate::conformance::check(&method, path, status, &body);
        Res { status, body, headers }
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(RawBody::Json(body))).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(Method::PATCH, path, Some(RawBody::Json(body))).await
    }

    pub async fn delete(&self, path: &str) -> Res {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn create_agent(&self, name: &str) -> String {
        let res = self.post("/api/v1/agents", json!({ "name": name })).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.json()["id"].as_str().unwrap().to_owned()
    }

    /// Reports a finished call; returns its id.
    pub async fn post_call(&self, agent: &str, kind: &str) -> String {
        let res = self
            .post("/api/v1/calls", json!({
                "agent_id": agent, "type": kind, "from_number": "+15550100", "to_number": "+15550199",
                "started_at": "2026-11-27T09:00:00Z", "ended_at": "2026-11-27T09:01:30Z", "end_reason": "caller_hung_up",
                "transcript": [
                    { "role": "agent", "text": "Hello, Acme dental, how can I help?", "start_ms": 0 },
                    { "role": "user", "text": "I'd like to book a cleaning. My number is 555-0100.", "start_ms": 2100 },
                    { "role": "agent", "text": "You're booked for Tuesday at 10.", "start_ms": 6000 }
                ],
                "metadata": { "crm_id": "42" }
            }))
            .await;
        assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
        res.json()["id"].as_str().unwrap().to_owned()
    }

    /// Waits (up to 15 s) until the call's event is settled and returns its deliveries.
    pub async fn settled(&self, call: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let res = self.get(&format!("/api/v1/calls/{call}/deliveries")).await.json();
            let state = res["event"]["state"].as_str().unwrap_or_default().to_owned();
            if matches!(state.as_str(), "sent" | "skipped" | "failed")
                || std::time::Instant::now() > deadline
            {
                return res;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn add_webhook(&self, agent: &str, body: Value) -> Res {
        self.post(&format!("/api/v1/agents/{agent}/webhooks"), body).await
    }
}

#[derive(Clone)]
pub enum RawBody {
    Json(Value),
    Text(String),
}

/// `(secret, headers JSON)` of a draft webhook as stored, opened with the test key. The sealed
/// text itself must not show the values.
pub async fn stored(pool: &AnyPool, webhook_id: &str) -> (Option<String>, Value) {
    let row = sqlx::query_as("SELECT url, secret, headers, key_id FROM webhooks WHERE id = $1")
        .bind(webhook_id)
        .fetch_one(pool)
        .await
        .unwrap();
    open_stored(webhook_id, row)
}

/// The same for a deployed version's copy of a webhook.
pub async fn stored_deployed(
    pool: &AnyPool, webhook_id: &str, version: i64,
) -> (Option<String>, Value) {
    let row = sqlx::query_as("SELECT url, secret, headers, key_id FROM deployed_webhooks WHERE webhook_id = $1 AND version = $2")
        .bind(webhook_id)
        .bind(version)
        .fetch_one(pool)
        .await
        .unwrap();
    open_stored(webhook_id, row)
}

fn open_stored(
    webhook_id: &str, (url, secret, headers, key_id): (String, Option<String>, String, String),
) -> (Option<String>, Value) {
    use voicy_core::store::{header_context, secret_context};
    assert!(
        !headers.contains(SECRET_MARK)
            && !secret.as_deref().unwrap_or_default().contains(SECRET_MARK),
        "stored in plaintext"
    );
    let keys = test_keys();
    let open = |context: String, sealed: &str| {
        keys.open(&key_id, &context, sealed).expect("opens with the test key")
    };
    let secret = secret.map(|s| open(secret_context(webhook_id, &url), &s));
    let mut headers: Value = serde_json::from_str(&headers).unwrap();
    for (i, header) in headers.as_array_mut().unwrap().iter_mut().enumerate() {
        let value = open(
            header_context(webhook_id, &url, i, header["name"].as_str().unwrap()),
            header["value"].as_str().unwrap(),
        );
        header["value"] = Value::String(value);
    }
    (secret, headers)
}

pub fn test_keys() -> voicy_core::vault::Keyring {
    voicy_core::vault::Keyring::parse(voicy::config::TEST_SECRET_KEY).unwrap()
}

pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// Waits, if need be, until the current minute has at least 30 s left. Quotas count in fixed
/// windows (a minute, an hour: an hour ends with a minute), and a test that spends one must not
/// see it start over halfway through.
pub async fn inside_one_quota_window() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let into_minute = now.as_secs_f64() % 60.0;
    if into_minute > 30.0 {
        tokio::time::sleep(std::time::Duration::from_secs_f64(60.1 - into_minute)).await;
    }
}
