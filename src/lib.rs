//! The Voicy server: start-up, the REST API, and the dashboard it serves.

mod anonymous_bodies;
pub mod api;
pub mod client_address;
pub mod config;
mod csrf;
pub mod metrics;
pub mod page_cache;
pub mod serve;
mod server_fn_rules;
mod sessions;
mod sign_in_gate;

use app::{App, shell};
use axum::{Router, routing::get};
use config::{Role, Settings};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::sync::LazyLock;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use voicy_core::{
    AppState, WebhookPolicy, dispatcher,
    services::{self, accounts, throttle::Throttle},
    store::{Backend, Store},
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database named by VOICY_DATABASE_URL: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Reseal(#[from] voicy_core::store::ResealError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("{0}")]
    WebhookClient(#[from] dispatcher::ClientError),
    #[error("{0}")]
    Mail(#[from] dispatcher::mail::MailError),
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("VOICY_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    // Colours only for a terminal: a log file or a journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).try_init();
}

/// jemalloc for every allocation of the process (see Cargo.toml); set here, in the library, so
/// the tests and benchmarks that link it run on the allocator the server ships with.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A built instance: its router, its state, and its dispatcher when its role dispatches.
pub struct Instance {
    pub router: Router,
    pub state: AppState,
    pub dispatcher: Option<dispatcher::Running>,
}

/// The dashboard's routes, listed once per process. Leptos lists them by rendering the app with
/// every resource in the process held back (a process-wide switch, not a per-render one): a page
/// that started loading data at that moment never finished. Listing them once, before any
/// instance of this process serves, means no page is ever rendered during it (several instances
/// in one process, as in the tests, wait for the one listing).
static ROUTES: LazyLock<Vec<leptos_axum::AxumRouteListing>> =
    LazyLock::new(|| generate_route_list(App));

/// Opens and migrates the database and builds the instance its role asks for: the whole
/// router (dashboard, server functions, REST API, health check) unless it is a worker, and the
/// dispatcher unless it is `web`.
pub async fn build(settings: &Settings) -> Result<Instance, StartError> {
    let steps = match &settings.smtp_url {
        Some(url) => dispatcher::post_call::Steps::with_notifier(Box::new(
            dispatcher::mail::SmtpNotifier::new(&url.0, &settings.mail_from)?,
        )),
        None => dispatcher::post_call::Steps::default(),
    };
    build_with_steps(settings, steps).await
}

/// `build` with given post-call processing steps (tests use failing ones).
pub async fn build_with_steps(
    settings: &Settings, steps: dispatcher::post_call::Steps,
) -> Result<Instance, StartError> {
    let store = open_store(settings).await?;
    accounts::prepare();
    let client = dispatcher::WebhookClient::new(
        !settings.allow_insecure_webhooks,
        settings.webhook_ca_file.as_deref(),
        settings.max_requests_per_webhook,
    )?;
    let steps = std::sync::Arc::new(steps);
    let alerts =
        dispatcher::alerts::start(store.clone(), steps.clone(), settings.public_url.clone());
    let events = dispatcher::Dispatcher::new(alerts);
    services::retention::start(store.clone(), settings.retention_days);
    // One set of quotas for the instance: the dispatcher takes e-mails from it, requests the rest.
    let throttle = Throttle::new(store.clone(), settings.limits);
    let running = settings.role.dispatches().then(|| {
        events.start(
            store.clone(),
            client.clone(),
            steps,
            dispatcher::Options {
                instance: dispatcher::instance_name(),
                lease: settings.lease,
                max_calls_in_flight: settings.max_calls_in_flight,
                retry_schedule: settings.retry_schedule.clone(),
                replay_rate: settings.replay_rate,
                throttle: throttle.clone(),
                postgres_url: (store.backend() == Backend::Postgres)
                    .then(|| settings.database_url.clone()),
            },
        )
    });
    let state = AppState {
        throttle,
        store,
        policy: WebhookPolicy { allow_insecure: settings.allow_insecure_webhooks },
        events,
        sender: client,
        api_document: api::openapi_json(),
    };
    let router = if settings.role.serves_dashboard() {
        dashboard(settings, &state)
    } else {
        Router::new().route("/healthz", get(api::healthz)).with_state(state.clone())
    };
    Ok(Instance { router, state, dispatcher: running })
}

/// Opens the database (making a SQLite file's folder), migrates it, and seals under the current
/// key whatever is not yet.
async fn open_store(settings: &Settings) -> Result<Store, StartError> {
    let url = settings.database_url.expose();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .map(|p| p.split('?').next().unwrap_or(p))
        .and_then(|p| std::path::Path::new(p).parent())
        && !path.as_os_str().is_empty()
    {
        std::fs::create_dir_all(path)?;
    }
    let store = Store::connect(url, settings.secret_keys.clone()).await?;
    store.migrate().await?;
    let resealed = store.reseal().await?;
    if resealed > 0 {
        tracing::info!(
            rows = resealed,
            key_id = settings.secret_keys.current_id(),
            "webhook secrets and header values sealed under the current key"
        );
    }
    Ok(store)
}

/// The whole router of an instance that serves the dashboard: the REST API, the pages and their
/// server functions, the bundle, and the layers every request passes.
fn dashboard(settings: &Settings, state: &AppState) -> Router {
    // cargo-leptos writes the bundle's content hashes next to the server binary it builds.
    let hashed = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|f| f.exists());
    let leptos_options = LeptosOptions::builder()
        .output_name("voicy")
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(settings.listen_addr)
        .hash_files(hashed)
        .build();
    let routes = ROUTES.clone();
    let context = {
        let state = state.clone();
        move || {
            // One memo per request: the page's server functions share what they have read.
            app::server::provide_request_context(&state);
            // A fresh nonce per page, for its Content-Security-Policy (`app::shell`).
            leptos::nonce::provide_nonce();
        }
    };
    let api = Router::new()
        .route("/healthz", get(api::healthz))
        // `/metrics` is served on VOICY_METRICS_ADDR only, never to the public.
        .route("/metrics", get(|| async { api::ApiError(voicy_model::error::AppError::NotFound) }))
        .nest("/api/v1", api::router())
        .with_state::<LeptosOptions>(state.clone());
    let pages = std::sync::Arc::new(page_cache::PageCache::new(
        state.clone(),
        &routes,
        settings.page_cache_bytes,
    ));
    let router = Router::new()
        .merge(api)
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .nest_service("/pkg", bundle(&settings.site_root, hashed))
        // The not-found page too gets the app's context and its own script nonce.
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .with_state(leptos_options)
        .layer(axum::middleware::from_fn_with_state(pages, page_cache::serve_or_keep));
    let router = with_request_layers(router, settings, &state.store);
    if settings.metrics_addr.is_some() {
        router.layer(axum::middleware::from_fn(metrics::record_http))
    } else {
        router
    }
}

/// What every dashboard request passes, innermost first: the server functions' rules, the
/// sign-in gate, the session, the cross-site check, the security headers, the timeouts, and
/// the request's span.
fn with_request_layers(router: Router, settings: &Settings, store: &Store) -> Router {
    let sessions = sessions::DbSessions::new(store.clone());
    sessions.spawn_cleanup();
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name("voicy_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookies)
        .with_expiry(Expiry::OnInactivity(sign_in_gate::INACTIVITY));
    let site =
        csrf::SiteOrigin { public: settings.public_url.clone(), https: settings.secure_cookies };
    router
        .layer(axum::middleware::from_fn(server_fn_rules::hold_to_api_rules))
        .layer(axum::middleware::from_fn(sign_in_gate::require_sign_in))
        .layer(axum::middleware::from_fn(anonymous_bodies::cap))
        .layer(session_layer)
        .layer(axum::middleware::from_fn_with_state(
            settings.trusted_proxies.clone(),
            client_address::identify,
        ))
        .layer(axum::middleware::from_fn_with_state(site, csrf::refuse_cross_site))
        .layer(axum::middleware::from_fn_with_state(settings.secure_cookies, security_headers))
        // A body must keep arriving (the header-read timeout is the listener's, `serve`), and a
        // whole request, body included, must be answered within REQUEST_TIMEOUT (408).
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_READ_TIMEOUT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                // Faults are logged once, where they happen (`AppError::internal`); a
                // status-based failure log here would repeat them.
                .on_failure(()),
        )
}

/// The wasm bundle, its script and the stylesheet: the `.br`/`.gz` files a release build writes
/// beside them (`--precompress`) are sent to browsers that accept them. With hashed names a
/// file never changes, so browsers keep it a year; without, they check each time.
fn bundle(
    site_root: &str, hashed: bool,
) -> tower_http::set_header::SetResponseHeader<
    tower_http::services::ServeDir,
    axum::http::HeaderValue,
> {
    use axum::http::{HeaderValue, header::CACHE_CONTROL};
    use tower::Layer;
    let cache = HeaderValue::from_static(if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    });
    let files = tower_http::services::ServeDir::new(std::path::Path::new(site_root).join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    tower_http::set_header::SetResponseHeaderLayer::overriding(CACHE_CONTROL, cache).layer(files)
}

/// Longest pause while a request body arrives.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Longest time from a request's headers to its answer (a body sent a byte at a time included).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Headers every response carries: no framing (clickjacking), no MIME sniffing, no full URLs in
/// the Referer sent to other sites, and, behind HTTPS (`VOICY_SECURE_COOKIES`), HSTS. The base CSP
/// restricts framing, plugins, base and form targets; pages add a script nonce to it.
async fn security_headers(
    axum::extract::State(https): axum::extract::State<bool>, request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    // Pages set their own, stricter policy with a script nonce (`app::shell`).
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    ));
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Serves a built instance until SIGTERM or Ctrl-C, then shuts down cleanly: stops accepting
/// connections and claiming calls, lets requests and deliveries under way finish, writes every
/// result, and returns unstarted claims to the queue.
async fn serve_instance(
    settings: &Settings, listener: TcpListener, instance: Instance,
) -> Result<(), StartError> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests and deliveries under way");
        let _ = stop.send(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let http = serve::serve(
        listener,
        instance.router,
        settings.connections,
        until_stopped(stopped.clone()),
    );
    let dispatch = async {
        if let Some(dispatcher) = instance.dispatcher {
            until_stopped(stopped).await;
            dispatcher.shutdown().await;
        }
    };
    tokio::join!(http, dispatch);
    tracing::info!("stopped");
    Ok(())
}

pub async fn run(settings: Settings) -> Result<(), StartError> {
    let listener = TcpListener::bind(settings.listen_addr).await?;
    let addr: SocketAddr = listener.local_addr()?;
    if settings.allow_insecure_webhooks {
        tracing::warn!(
            "VOICY_ALLOW_INSECURE_WEBHOOKS=true: http:// webhook URLs are accepted (local development only)"
        );
    }
    if settings.role.serves_dashboard()
        && !std::path::Path::new(&settings.site_root).join("pkg").is_dir()
    {
        tracing::warn!(
            "VOICY_SITE_ROOT={:?} has no pkg/ directory: pages will show without their styles and scripts \
             (build the bundle with `make run`, or point VOICY_SITE_ROOT at the built site)",
            settings.site_root
        );
    }
    let metrics = match settings.metrics_addr {
        Some(addr) => Some((TcpListener::bind(addr).await?, metrics::install())),
        None => None,
    };
    // Built before saying it serves: a database or certificate that fails stops the start first.
    let instance = build(&settings).await?;
    if let Some((listener, handle)) = metrics {
        let addr = listener.local_addr()?;
        let router = metrics::router(instance.state.clone(), handle);
        tracing::info!("metrics at http://{addr}/metrics");
        // It ends with the process: a scrape under way at shutdown does not hold it up.
        tokio::spawn(async move { axum::serve(listener, router).await });
    }
    let what = match settings.role {
        Role::Serve => "serving the dashboard, the API and the dispatcher",
        Role::Web => "serving the dashboard and the API (no dispatching)",
        Role::Worker => "dispatching (health check only)",
    };
    tracing::info!(database = %settings.database_url.redacted(), "{what} at http://{addr}");
    serve_instance(&settings, listener, instance).await
}

/// SIGTERM (what systemd and Kubernetes send) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
