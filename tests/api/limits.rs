//! The quotas that protect the service, tried as an attacker would: behind a trusted proxy, on
//! two instances sharing one database, with floods of sign-ups, web calls and oversized bodies.

use crate::helpers::{RawBody, TestApp, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "correct horse battery";

fn behind_proxy(s: &mut voicy::config::Settings) {
    s.trusted_proxies = voicy::config::TrustedProxies::parse("127.0.0.0/8").unwrap();
}

async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> StatusCode {
    app.client()
        .send_with(
            Method::POST,
            "/api/v1/auth/login",
            &[("x-forwarded-for", client)],
            &json!({ "email": email, "password": password }).to_string(),
        )
        .await
        .status
}

/// Two instances behind a proxy: one client's 60 wrong passwords throttle that client, not
/// another one the proxy forwards; and the per-account quota counts both instances together.
#[tokio::test]
async fn behind_a_trusted_proxy_one_clients_guesses_do_not_throttle_another_on_any_instance() {
    crate::helpers::inside_one_quota_window().await;
    let db = TestDb::fresh().await;
    let first = TestApp::spawn_in(db.clone(), behind_proxy).await;
    let second = TestApp::spawn_in(db, behind_proxy).await;
    let email = format!("target-{}@example.com", uuid::Uuid::new_v4());
    first
        .client()
        .post("/api/v1/auth/signup", json!({ "email": email, "password": PASSWORD }))
        .await;

    let mut answers = Vec::new();
    for i in 0..60 {
        let app = if i % 2 == 0 { &first } else { &second };
        answers.push(login_from(app, "203.0.113.7", &email, &format!("guess {i}")).await);
    }
    // The quota per account and client is 10 a minute: the same with two instances as with one.
    let refused = answers.iter().position(|s| *s == StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused, Some(10), "{answers:?}");
    assert!(answers[10..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
    // A forged address left of the proxy's is not believed: still the same client.
    let forged = login_from(&second, "198.51.100.1, 203.0.113.7", &email, PASSWORD).await;
    assert_eq!(forged, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy signs in, on either instance.
    assert_eq!(login_from(&first, "203.0.113.8", &email, PASSWORD).await, StatusCode::OK);
    assert_eq!(login_from(&second, "203.0.113.9", &email, PASSWORD).await, StatusCode::OK);
}

/// Without `VOICY_TRUSTED_PROXIES`, a forwarding header is anyone's to write: ignored.
#[tokio::test]
async fn forwarding_headers_from_an_untrusted_connection_do_not_spread_guesses() {
    crate::helpers::inside_one_quota_window().await;
    let app = TestApp::spawn().await;
    let email = format!("target-{}@example.com", uuid::Uuid::new_v4());
    app.client().post("/api/v1/auth/signup", json!({ "email": email, "password": PASSWORD })).await;
    for i in 0..10 {
        let status = login_from(&app, &format!("203.0.113.{i}"), &email, "wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&app, "203.0.113.200", &email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_sign_up_flood_from_one_address_is_refused_with_retry_after_and_others_still_sign_up() {
    crate::helpers::inside_one_quota_window().await;
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.limits.sign_ups_per_hour = 3;
    })
    .await;
    let sign_up = |client: &'static str| {
        let api = app.client();
        async move {
            let email = format!("new-{}@example.com", uuid::Uuid::new_v4());
            api.send_with(
                Method::POST,
                "/api/v1/auth/signup",
                &[("x-forwarded-for", client)],
                &json!({ "email": email, "password": PASSWORD }).to_string(),
            )
            .await
        }
    };
    for _ in 0..3 {
        assert_eq!(sign_up("203.0.113.7").await.status, StatusCode::CREATED);
    }
    let flood = sign_up("203.0.113.7").await;
    assert_eq!(flood.status, StatusCode::TOO_MANY_REQUESTS, "{}", flood.body);
    assert_eq!(flood.error_code(), "too_many_requests");
    let wait: u64 = flood.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(sign_up("203.0.113.8").await.status, StatusCode::CREATED);
    // A bad request is answered as such and costs nothing.
    let bad =
        app.client().post("/api/v1/auth/signup", json!({ "email": "x", "password": "y" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// An owner's web calls are limited per minute, on every instance together; phone calls are not.
#[tokio::test]
async fn web_calls_in_a_row_are_refused_at_the_limit_and_phone_calls_are_not() {
    crate::helpers::inside_one_quota_window().await;
    let db = TestDb::fresh().await;
    let limited = |s: &mut voicy::config::Settings| s.limits.web_calls_per_minute = 5;
    let first = TestApp::spawn_in(db.clone(), limited).await;
    let second = TestApp::spawn_in(db, limited).await;
    let owner = first.user().await;
    let agent = owner.create_agent("Flood").await;
    let on_second = owner.against(&second);
    let mut statuses = Vec::new();
    for i in 0..7 {
        statuses
            .push(call(if i % 2 == 0 { &owner } else { &on_second }, &agent, "web").await.status);
    }
    assert_eq!(statuses[..5], [StatusCode::ACCEPTED; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2], "{statuses:?}");
    let refused = call(&owner, &agent, "web").await;
    assert_eq!(refused.error_code(), "too_many_requests");
    assert!(refused.headers.contains_key("retry-after"));
    for _ in 0..10 {
        assert_eq!(call(&owner, &agent, "phone").await.status, StatusCode::ACCEPTED);
    }
}

async fn call(api: &crate::helpers::Api, agent: &str, kind: &str) -> crate::helpers::Res {
    api.send(
        Method::POST,
        "/api/v1/calls",
        Some(RawBody::Json(json!({
            "agent_id": agent, "type": kind, "started_at": "2026-11-27T09:00:00Z",
            "ended_at": "2026-11-27T09:01:00Z", "end_reason": "caller_hung_up", "transcript": []
        }))),
    )
    .await
}

/// The headers of a request that sends a body in chunks, without its end.
async fn open_chunked_post(base: &str, path: &str) -> tokio::net::TcpStream {
    let address = base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp
}

/// Sends 4 KB chunks until the server answers; the bytes sent by then, and the answer's head.
async fn send_until_answered(tcp: &mut tokio::net::TcpStream) -> (usize, String) {
    let chunk = format!("1000\r\n{}\r\n", "a".repeat(4096));
    let mut sent = 0;
    let mut answer = vec![0u8; 4096];
    loop {
        if sent < 2 * 1024 * 1024 && tcp.write_all(chunk.as_bytes()).await.is_ok() {
            sent += 4096;
        }
        match tokio::time::timeout(Duration::from_millis(50), tcp.read(&mut answer)).await {
            Ok(Ok(n)) if n > 0 => {
                return (sent, String::from_utf8_lossy(&answer[..n]).into_owned());
            }
            Ok(_) => return (sent, String::new()),
            Err(_) => continue,
        }
    }
}

#[tokio::test]
async fn an_unauthenticated_2_mb_body_is_refused_after_at_most_16_kb_is_read() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/auth/login", "/api/v1/auth/signup", "/rpc/sign_in", "/api/v1/agents"] {
        let mut tcp = open_chunked_post(&app.base, path).await;
        let (sent, answer) = send_until_answered(&mut tcp).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        // The server answered after 16 KB; what was sent meanwhile sat in socket buffers.
        assert!(sent < 2 * 1024 * 1024, "{path}: the whole body was sent ({sent} bytes)");
    }
    // Declared too large: refused from the headers alone.
    let declared = app
        .client()
        .send_raw(
            Method::POST,
            "/api/v1/auth/login",
            &[("content-type", "application/json")],
            &"x".repeat(20 * 1024),
        )
        .await;
    assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(declared.error_code(), "payload_too_large");
}

#[tokio::test]
async fn a_signed_in_owner_still_sends_bodies_up_to_2_mb() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Long call").await;
    // 50 turns of 3,900 characters: about 200 KB.
    let turn = json!({ "role": "user", "text": "word ".repeat(780), "start_ms": 0 });
    let res = owner
        .post(
            "/api/v1/calls",
            json!({
                "agent_id": agent, "type": "web", "started_at": "2026-11-27T09:00:00Z",
                "ended_at": "2026-11-27T09:01:00Z", "end_reason": "caller_hung_up",
                "transcript": vec![turn; 50]
            }),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_a_proxys_basic_header_leaves_the_session_alone()
{
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let key = owner.post("/api/v1/api-keys", json!({ "name": "ci" })).await.json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let anonymous = app.client();
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let auth = format!("{scheme} {key}");
        let res = anonymous
            .send_raw(Method::GET, "/api/v1/agents", &[("authorization", &auth)], "")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{scheme}: {}", res.body);
    }
    let res = owner
        .send_raw(Method::GET, "/api/v1/agents", &[("authorization", "Basic cHJveHk6cGFzcw==")], "")
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = anonymous
        .send_raw(Method::GET, "/api/v1/agents", &[("authorization", "Basic cHJveHk6cGFzcw==")], "")
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

/// Notification e-mails per agent and hour: the ones over the quota are recorded, not sent.
#[tokio::test]
async fn notification_emails_over_the_agents_hourly_quota_are_recorded_not_sent() {
    crate::helpers::inside_one_quota_window().await;
    let smtp = crate::smtp::SmtpServer::start().await;
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(voicy::config::SmtpUrl(smtp.url.clone()));
        s.limits.mails_per_agent_per_hour = 3;
    })
    .await;
    let owner = app.user().await;
    let agent = owner.create_agent("Mailer").await;
    let res = owner
        .send(
            Method::PUT,
            &format!("/api/v1/agents/{agent}/processing"),
            Some(RawBody::Json(
                json!({ "notification_emails": ["a@example.com", "b@example.com"] }),
            )),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let first = owner.post_call(&agent, "web").await;
    let second = owner.post_call(&agent, "web").await;
    let statuses = |view: serde_json::Value| {
        view["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["status"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    owner.settled(&first).await;
    owner.settled(&second).await;
    let first = owner.get(&format!("/api/v1/calls/{first}")).await.json();
    let second = owner.get(&format!("/api/v1/calls/{second}")).await.json();
    let mut all = statuses(first.clone());
    all.extend(statuses(second.clone()));
    all.sort();
    assert_eq!(all, ["sent", "sent", "sent", "skipped"], "{first:#} {second:#}");
    assert_eq!(smtp.mails.lock().await.len(), 3);
}
