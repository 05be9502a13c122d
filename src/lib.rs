//! The Voicy server: start-up, the REST API, and the dashboard it serves.

pub mod api;
pub mod config;
pub mod dispatcher;
mod guard;

use app::server::{AppState, WebhookPolicy, services::accounts, store::Store};
use app::{App, shell};
use axum::{Router, routing::get};
use config::Settings;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite, cookie::time::Duration};
use tower_sessions_sqlx_store::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("{0}")]
    WebhookClient(#[from] dispatcher::ClientError),
    #[error("{0}")]
    Mail(#[from] dispatcher::mail::MailError),
    #[error("cannot recover unsent call events")]
    Recover,
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("VOICY_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// Opens and migrates the database and builds the whole router (dashboard, server functions,
/// REST API, health check).
pub async fn build(settings: &Settings) -> Result<(Router, AppState), StartError> {
    if let Some(path) = settings.database_url.strip_prefix("sqlite://").and_then(|p| std::path::Path::new(p).parent()) {
        if !path.as_os_str().is_empty() {
            std::fs::create_dir_all(path)?;
        }
    }
    let store = Store::connect(&settings.database_url).await?;
    store.migrate().await?;
    let sessions = SqliteStore::new(store.pool().clone());
    sessions.migrate().await?;
    accounts::prepare();

    let client = dispatcher::WebhookClient::new(!settings.allow_insecure_webhooks, settings.webhook_ca_file.as_deref())?;
    let steps = match &settings.smtp_url {
        Some(url) => dispatcher::steps::Steps::with_notifier(Box::new(dispatcher::mail::SmtpNotifier::new(&url.0, &settings.mail_from)?)),
        None => dispatcher::steps::Steps::default(),
    };
    let events = dispatcher::Dispatcher::start(store.clone(), client, steps, settings.dispatch);
    if settings.dispatch {
        dispatcher::recover(&store, &events).await.map_err(|_| StartError::Recover)?;
    }
    let state = AppState { store, policy: WebhookPolicy { allow_insecure: settings.allow_insecure_webhooks }, events };
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name("voicy_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookies)
        .with_expiry(Expiry::OnInactivity(Duration::days(14)));

    let leptos_options = LeptosOptions::builder()
        .output_name("voicy")
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(settings.listen_addr)
        .build();
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let api = Router::new()
        .route("/healthz", get(api::healthz))
        .nest("/api/v1", api::router())
        .with_state::<LeptosOptions>(state.clone());
    let router = Router::new()
        .merge(api)
        .leptos_routes_with_context(&leptos_options, routes, context, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        .layer(axum::middleware::from_fn(guard::require_sign_in))
        .layer(session_layer)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                // Faults are logged once, where they happen (`AppError::internal`); server
                // functions answer every error, a validation error included, with a 500, so a
                // status-based failure log here would only repeat or mislabel them.
                .on_failure(()),
        );
    Ok((router, state))
}

/// Serves on `listener` until the process is stopped.
pub async fn serve(settings: &Settings, listener: TcpListener) -> Result<(), StartError> {
    let (router, _) = build(settings).await?;
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

pub async fn run(settings: Settings) -> Result<(), StartError> {
    let listener = TcpListener::bind(settings.listen_addr).await?;
    let addr: SocketAddr = listener.local_addr()?;
    if settings.allow_insecure_webhooks {
        tracing::warn!("VOICY_ALLOW_INSECURE_WEBHOOKS=true: http:// webhook URLs are accepted (local development only)");
    }
    tracing::info!(database = %settings.database_url, "serving the dashboard at http://{addr}");
    serve(&settings, listener).await
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
