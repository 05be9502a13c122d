use crate::helpers::{RawBody, TestApp, is_uuid};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn signup_returns_201_and_a_session_cookie_that_signs_the_user_in() {
    let app = TestApp::spawn().await;
    let api = app.client();
    let res = api
        .post("/api/v1/auth/signup", json!({ "email": "Ada@Example.com", "password": PASSWORD }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.json()["email"], "ada@example.com");
    assert!(is_uuid(res.json()["id"].as_str().unwrap()));
    let cookie = res.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "not Secure unless VOICY_SECURE_COOKIES=true: {cookie}");
    assert_eq!(api.get("/api/v1/agents").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_cookie_is_secure_when_configured() {
    let app = TestApp::spawn_with(|s| s.secure_cookies = true).await;
    let res = app
        .client()
        .post("/api/v1/auth/signup", json!({ "email": "a@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert!(res.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Secure"));
}

#[tokio::test]
async fn login_and_logout_start_and_end_the_session() {
    let app = TestApp::spawn().await;
    app.client()
        .post("/api/v1/auth/signup", json!({ "email": "bo@example.com", "password": PASSWORD }))
        .await;
    let api = app.client();
    assert_eq!(api.get("/api/v1/agents").await.status, StatusCode::UNAUTHORIZED);
    let res = api
        .post("/api/v1/auth/login", json!({ "email": "bo@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(api.get("/api/v1/agents").await.status, StatusCode::OK);
    assert_eq!(api.post("/api/v1/auth/logout", json!({})).await.status, StatusCode::NO_CONTENT);
    let res = api.get("/api/v1/agents").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.error_code(), "unauthenticated");
}

#[tokio::test]
async fn the_session_id_changes_on_sign_in() {
    let app = TestApp::spawn().await;
    app.client()
        .post("/api/v1/auth/signup", json!({ "email": "cy@example.com", "password": PASSWORD }))
        .await;
    let api = app.client();
    let first = api
        .post("/api/v1/auth/login", json!({ "email": "cy@example.com", "password": PASSWORD }))
        .await;
    let second = api
        .post("/api/v1/auth/login", json!({ "email": "cy@example.com", "password": PASSWORD }))
        .await;
    let cookie = |r: &crate::helpers::Res| {
        r.headers.get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned()
    };
    assert_ne!(cookie(&first), cookie(&second));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = TestApp::spawn().await;
    app.client()
        .post("/api/v1/auth/signup", json!({ "email": "di@example.com", "password": PASSWORD }))
        .await;
    let wrong_password = app
        .client()
        .post(
            "/api/v1/auth/login",
            json!({ "email": "di@example.com", "password": "not the password" }),
        )
        .await;
    let unknown_email = app
        .client()
        .post("/api/v1/auth/login", json!({ "email": "nobody@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.error_code(), "invalid_credentials");
}

#[tokio::test]
async fn a_duplicate_email_is_409_ignoring_case() {
    let app = TestApp::spawn().await;
    app.client()
        .post("/api/v1/auth/signup", json!({ "email": "ed@example.com", "password": PASSWORD }))
        .await;
    let res = app
        .client()
        .post("/api/v1/auth/signup", json!({ "email": "ED@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "email_taken");
}

#[tokio::test]
async fn a_short_password_and_a_bad_email_are_422_with_fields() {
    let app = TestApp::spawn().await;
    let res = app
        .client()
        .post("/api/v1/auth/signup", json!({ "email": "nope", "password": "short" }))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &res.json()["error"]["fields"];
    assert!(fields["email"].is_string() && fields["password"].is_string(), "{fields}");
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let res = app
        .client()
        .send(Method::POST, "/api/v1/auth/signup", Some(RawBody::Text("{not json".into())))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.error_code(), "malformed_request");
}

#[tokio::test]
async fn health_check_answers_when_the_database_does() {
    let app = TestApp::spawn().await;
    assert_eq!(app.client().get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn anonymous_page_visits_redirect_to_sign_in() {
    let app = TestApp::spawn().await;
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in ["/", "/agents", "/agents/some-id/settings", "/account/api-keys"] {
        let res = http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()["location"], "/signin", "{path}");
    }
    let res = http.get(format!("{}/signin", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_of_the_wrong_type_does_not_echo_the_value() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Echo").await;
    let res = owner
        .post(&format!("/api/v1/agents/{agent}/webhooks"), json!({ "name": "x", "url": "https://x.example.com", "headers": [], "secret": ["s3cr3t-typed-into-a-list"] }))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
}

#[tokio::test]
async fn a_server_restart_keeps_people_signed_in() {
    let before = TestApp::spawn().await;
    let owner = before.user().await;
    let agent = owner.create_agent("Survives restarts").await;
    let after = TestApp::spawn_in(before.db.clone(), |_| {}).await;
    let res = owner.against(&after).get(&format!("/api/v1/agents/{agent}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn password_guessing_on_one_account_is_throttled_with_retry_after() {
    crate::helpers::inside_one_quota_window().await;
    let app = TestApp::spawn().await;
    let email = format!("target-{}@example.com", uuid::Uuid::new_v4());
    app.client().post("/api/v1/auth/signup", json!({ "email": email, "password": PASSWORD })).await;
    // 15 guesses at once: the quota is 10 a minute per account and address, counted before any work.
    let guesser = app.client();
    let guesses = (0..15).map(|i| {
        guesser
            .post("/api/v1/auth/login", json!({ "email": email, "password": format!("guess {i}") }))
    });
    let answers = futures::future::join_all(guesses).await;
    let throttled: Vec<_> =
        answers.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert!(throttled.len() >= 5, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    for res in &throttled {
        assert_eq!(res.error_code(), "too_many_attempts");
        let wait: u64 = res.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait));
    }
    // The others were wrong passwords (or, if every hashing slot stayed busy, told to retry).
    assert!(answers.iter().all(|r| {
        [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS, StatusCode::SERVICE_UNAVAILABLE]
            .contains(&r.status)
    }));
}

#[tokio::test]
async fn guesses_from_one_address_do_not_lock_the_owner_out_from_theirs() {
    crate::helpers::inside_one_quota_window().await;
    let app = TestApp::spawn().await;
    let email = format!("target-{}@example.com", uuid::Uuid::new_v4());
    app.client().post("/api/v1/auth/signup", json!({ "email": email, "password": PASSWORD })).await;
    let guesser = app.client_from(std::net::Ipv4Addr::new(127, 0, 0, 3));
    for i in 0..12 {
        guesser
            .post("/api/v1/auth/login", json!({ "email": email, "password": format!("guess {i}") }))
            .await;
    }
    let guess =
        guesser.post("/api/v1/auth/login", json!({ "email": email, "password": PASSWORD })).await;
    assert_eq!(guess.status, StatusCode::TOO_MANY_REQUESTS, "{}", guess.body);
    let owner = app.client_from(std::net::Ipv4Addr::new(127, 0, 0, 4));
    let res =
        owner.post("/api/v1/auth/login", json!({ "email": email, "password": PASSWORD })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn a_page_view_moves_the_session_expiry_forward() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    // As if the session had been created long ago: its stored expiry is near.
    sqlx::query("UPDATE sessions SET expires_at = expires_at - 13 * 86400, data = REPLACE(data, 'seen_day', 'x')")
        .execute(&app.pool)
        .await
        .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT MAX(expires_at) FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(owner.get("/agents").await.status, StatusCode::OK);
    let after: i64 = sqlx::query_scalar("SELECT MAX(expires_at) FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        after > before + 12 * 86400,
        "expiry moved forward by the inactivity window: {before} -> {after}"
    );
}
