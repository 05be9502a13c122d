//! The call_ended event against real receivers: one test per promise of the doc.

use crate::helpers::{Api, TestApp, secret};
use crate::receiver::{Behavior, Receiver, TestTls};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use voicy::config::Role;

pub(crate) fn hmac_hex(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

async fn dev_app() -> TestApp {
    TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await
}

async fn agent_with(app: &TestApp, hooks: &[Value]) -> (Api, String) {
    let owner = app.user().await;
    let agent = owner.create_agent("Dispatch").await;
    for hook in hooks {
        let res = owner.add_webhook(&agent, hook.clone()).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    (owner, agent)
}

fn hook(name: &str, url: &str) -> Value {
    json!({ "name": name, "url": url })
}

#[tokio::test]
async fn the_body_is_the_get_call_response_byte_for_byte_and_the_signature_verifies() {
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let key = secret("signing-key");
    let (owner, agent) = agent_with(
        &app,
        &[json!({ "name": "CRM", "url": receiver.url, "secret": key,
        "headers": [{ "name": "Authorization", "value": secret("token") }] })],
    )
    .await;
    let call = owner.post_call(&agent, "web").await;
    let hit = receiver.wait_for(1).await.remove(0);
    let settled = owner.settled(&call).await;

    let get = owner.get(&format!("/api/v1/calls/{call}")).await;
    assert_eq!(
        get.body.as_bytes(),
        hit.body.as_slice(),
        "event body differs from the Get Call API"
    );
    let view: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(view["status"], "completed");
    assert_eq!(view["id"], call.as_str());
    assert_eq!(view["duration_seconds"], 90);
    assert!(view["summary"].as_str().unwrap().contains("booked for Tuesday"));
    assert_eq!(view["metadata"], json!({ "crm_id": "42" }));

    assert_eq!(hit.header("x-voicy-signature"), Some(hmac_hex(&key, &hit.body).as_str()));
    assert_eq!(hit.header("x-voicy-event"), Some("call_ended"));
    assert_eq!(hit.header("content-type"), Some("application/json"));
    assert_eq!(hit.header("authorization"), Some(secret("token").as_str()));

    let delivery = &settled["deliveries"][0];
    assert_eq!(settled["event"]["state"], "sent");
    assert_eq!(delivery["outcome"], "ok");
    assert_eq!(delivery["status_code"], 200);
    assert_eq!(delivery["response_body"], "ok");
    assert_eq!(delivery["webhook_name"], "CRM");
    assert_eq!(
        delivery["request_headers"][0],
        json!({ "name": "Authorization", "value": "••••••" })
    );
}

#[tokio::test]
async fn without_a_secret_there_is_no_signature_header() {
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, agent) = agent_with(&app, &[hook("Plain", &receiver.url)]).await;
    owner.post_call(&agent, "web").await;
    let hit = receiver.wait_for(1).await.remove(0);
    assert_eq!(hit.header("x-voicy-signature"), None);
    assert_eq!(hit.header("x-voicy-event"), Some("call_ended"));
}

#[tokio::test]
async fn custom_headers_come_first_in_their_order_then_the_system_headers() {
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, agent) = agent_with(&app, &[json!({ "name": "Ordered", "url": receiver.url, "secret": secret("k"),
        "headers": [{ "name": "X-Zeta", "value": secret("1") }, { "name": "Authorization", "value": secret("2") },
                    { "name": "X-Alpha", "value": secret("3") }] })]).await;
    owner.post_call(&agent, "web").await;
    let hit = receiver.wait_for(1).await.remove(0);
    let names: Vec<String> = hit.headers.iter().map(|(n, _)| n.to_lowercase()).collect();
    let position = |n: &str| {
        names.iter().position(|x| x == n).unwrap_or_else(|| panic!("{n} missing from {names:?}"))
    };
    let order = [
        "x-zeta",
        "authorization",
        "x-alpha",
        "content-type",
        "x-voicy-event",
        "x-voicy-signature",
    ]
    .map(position);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "wire order {names:?}");
    assert_eq!(order[0], 0, "a custom header is the first header on the wire: {names:?}");
}

#[tokio::test]
async fn a_receiver_slower_than_5_seconds_times_out_once_and_is_not_retried() {
    let app = dev_app().await;
    let slow =
        Receiver::http(Behavior { delay: Duration::from_secs(6), ..Behavior::default() }).await;
    let (owner, agent) = agent_with(&app, &[hook("Slow", &slow.url)]).await;
    let call = owner.post_call(&agent, "web").await;
    let settled = owner.settled(&call).await;
    let delivery = &settled["deliveries"][0];
    assert_eq!(delivery["outcome"], "timeout");
    let ms = delivery["duration_ms"].as_i64().unwrap();
    assert!((4_900..5_900).contains(&ms), "timed out after {ms} ms");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(slow.hits().await.len(), 1);
}

#[tokio::test]
async fn a_500_is_recorded_and_not_retried_and_a_302_is_not_followed() {
    let app = dev_app().await;
    let failing =
        Receiver::http(Behavior { status: 500, body: "boom".into(), ..Behavior::default() }).await;
    let target = Receiver::http(Behavior::default()).await;
    let redirect = Receiver::http(Behavior {
        status: 302,
        location: Some(target.url.clone()),
        ..Behavior::default()
    })
    .await;
    let (owner, agent) =
        agent_with(&app, &[hook("Failing", &failing.url), hook("Redirect", &redirect.url)]).await;
    let call = owner.post_call(&agent, "web").await;
    let settled = owner.settled(&call).await;
    let by_name = |name: &str| {
        settled["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["webhook_name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("Failing")["outcome"], "http_status");
    assert_eq!(by_name("Failing")["status_code"], 500);
    assert_eq!(by_name("Failing")["response_body"], "boom");
    assert_eq!(by_name("Redirect")["outcome"], "http_status");
    assert_eq!(by_name("Redirect")["status_code"], 302);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(failing.hits().await.len(), 1);
    assert_eq!(redirect.hits().await.len(), 1);
    assert!(target.hits().await.is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn all_five_webhooks_fire_at_once() {
    let app = dev_app().await;
    let mut receivers = Vec::new();
    for _ in 0..5 {
        receivers.push(
            Receiver::http(Behavior { delay: Duration::from_secs(1), ..Behavior::default() }).await,
        );
    }
    let hooks: Vec<Value> =
        receivers.iter().enumerate().map(|(i, r)| hook(&format!("Hook {i}"), &r.url)).collect();
    let (owner, agent) = agent_with(&app, &hooks).await;
    let call = owner.post_call(&agent, "web").await;
    let mut arrivals = Vec::new();
    for r in &receivers {
        arrivals.push(r.wait_for(1).await[0].at);
    }
    let (first, last) = (arrivals.iter().min().unwrap(), arrivals.iter().max().unwrap());
    // Sequential sending would spread arrivals over 4 s (each receiver answers after 1 s).
    assert!(
        *last - *first < Duration::from_millis(900),
        "arrivals spread over {:?}",
        *last - *first
    );
    let settled = owner.settled(&call).await;
    assert!(settled["deliveries"].as_array().unwrap().iter().all(|d| d["outcome"] == "ok"));
}

#[tokio::test]
async fn phone_calls_use_the_deployed_webhooks_and_web_calls_the_draft() {
    let app = dev_app().await;
    let (deployed, draft) =
        (Receiver::http(Behavior::default()).await, Receiver::http(Behavior::default()).await);
    let key = secret("old-key");
    let (owner, agent) =
        agent_with(&app, &[json!({ "name": "CRM", "url": deployed.url, "secret": key })]).await;
    assert_eq!(
        owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await.status,
        StatusCode::CREATED
    );
    let id =
        owner.get(&format!("/api/v1/agents/{agent}/webhooks")).await.json()["webhooks"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    // A draft edit with a blank secret: the URL changes, the secret is kept.
    owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{id}"),
            json!({ "url": draft.url, "secret": "" }),
        )
        .await;

    let phone = owner.post_call(&agent, "phone").await;
    owner.settled(&phone).await;
    let web = owner.post_call(&agent, "web").await;
    owner.settled(&web).await;

    let (d, w) = (deployed.hits().await, draft.hits().await);
    assert_eq!((d.len(), w.len()), (1, 1));
    assert_eq!(serde_json::from_slice::<Value>(&d[0].body).unwrap()["agent_version"], 1);
    assert_eq!(serde_json::from_slice::<Value>(&w[0].body).unwrap()["agent_version"], Value::Null);
    // The draft edit left the secret blank: the web call is still signed with the old secret.
    assert_eq!(w[0].header("x-voicy-signature"), Some(hmac_hex(&key, &w[0].body).as_str()));
}

#[tokio::test]
async fn a_phone_call_without_a_deployed_version_sends_nothing_and_says_so() {
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, agent) = agent_with(&app, &[hook("CRM", &receiver.url)]).await;
    let call = owner.post_call(&agent, "phone").await;
    let settled = owner.settled(&call).await;
    assert_eq!(settled["event"]["state"], "skipped");
    assert!(settled["event"]["note"].as_str().unwrap().contains("deployed"));
    let view = owner.get(&format!("/api/v1/calls/{call}")).await.json();
    assert_eq!(view["processing_notes"][0]["step"], "webhooks");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.hits().await.is_empty());
}

#[tokio::test]
async fn with_the_guard_on_loopback_addresses_and_names_are_blocked() {
    let receiver = Receiver::http(Behavior::default()).await;
    let port = receiver.url.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
    let hooks = [
        hook("Literal", &format!("https://127.0.0.1:{port}/hook")),
        hook("Name", &format!("https://localhost:{port}/hook")),
        hook("Metadata", "https://169.254.169.254/latest/meta-data"),
    ];
    // The guarded instance refuses to save them, naming the URL…
    let app = TestApp::spawn().await; // guard on: insecure webhooks not allowed
    let owner = app.user().await;
    let agent = owner.create_agent("Guarded").await;
    for hook in &hooks {
        let res = owner.add_webhook(&agent, hook.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{hook}: {}", res.body);
        assert!(
            res.json()["error"]["fields"]["url"].as_str().unwrap().contains("private or reserved"),
            "{}",
            res.body
        );
    }
    // …and blocks them when sending, whatever stored them (here an instance that allows them
    // and does not dispatch, on the same database).
    let lax = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.role = Role::Web;
    })
    .await;
    let guarded = TestApp::spawn_in(lax.db.clone(), |_| {}).await;
    let (owner, agent) = agent_with(&lax, &hooks).await;
    let owner = owner.against(&guarded);
    let call = owner.post_call(&agent, "web").await;
    let settled = owner.settled(&call).await;
    for d in settled["deliveries"].as_array().unwrap() {
        assert_eq!(d["outcome"], "blocked", "{d}");
    }
    assert!(receiver.hits().await.is_empty());
}

#[tokio::test]
async fn https_receivers_are_verified_against_the_configured_ca() {
    let tls = TestTls::new();
    let receiver = Receiver::https(Behavior::default(), &tls).await;
    let trusted = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.webhook_ca_file = Some(tls.ca_file.clone());
    })
    .await;
    let (owner, agent) = agent_with(
        &trusted,
        &[json!({ "name": "TLS", "url": receiver.url, "secret": secret("tls") })],
    )
    .await;
    let call = owner.post_call(&agent, "web").await;
    assert_eq!(owner.settled(&call).await["deliveries"][0]["outcome"], "ok");
    let hit = receiver.wait_for(1).await.remove(0);
    assert_eq!(hit.header("x-voicy-signature"), Some(hmac_hex(&secret("tls"), &hit.body).as_str()));

    let untrusted = dev_app().await;
    let (owner, agent) = agent_with(&untrusted, &[hook("TLS", &receiver.url)]).await;
    let call = owner.post_call(&agent, "web").await;
    assert_eq!(owner.settled(&call).await["deliveries"][0]["outcome"], "tls");
}

#[tokio::test]
async fn a_call_stored_before_a_restart_is_sent_once_after_it() {
    let receiver = Receiver::http(Behavior::default()).await;
    let stopped = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.role = Role::Web; // stored, never sent: as if the process died right after the 202
    })
    .await;
    let (owner, agent) = agent_with(&stopped, &[hook("CRM", &receiver.url)]).await;
    let call = owner.post_call(&agent, "web").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.hits().await.is_empty());

    let restarted =
        TestApp::spawn_in(stopped.db.clone(), |s| s.allow_insecure_webhooks = true).await;
    assert_eq!(receiver.wait_for(1).await.len(), 1);
    let owner_again = restarted.client();
    let _ = owner_again; // the session lives in the shared database; the first client still works
    let settled = owner.settled(&call).await;
    assert_eq!(settled["event"]["state"], "sent");

    let _again = TestApp::spawn_in(stopped.db.clone(), |s| s.allow_insecure_webhooks = true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.hits().await.len(), 1, "sent exactly once across restarts");
}

#[tokio::test]
async fn requests_under_way_at_a_crash_are_recorded_as_interrupted_not_resent() {
    let receiver = Receiver::http(Behavior::default()).await;
    let stopped = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.role = Role::Web;
    })
    .await;
    let (owner, agent) = agent_with(&stopped, &[hook("CRM", &receiver.url)]).await;
    let call = owner.post_call(&agent, "web").await;
    // The state a crash mid-send leaves: event under way, one request recorded as started.
    sqlx::query("UPDATE calls SET body = '{}' WHERE id = $1")
        .bind(&call)
        .execute(&stopped.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE call_events SET state = 'sending' WHERE call_id = $1")
        .bind(&call)
        .execute(&stopped.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, started_at, outcome)
         VALUES ('d1', $1, $2, 'w1', 'CRM', $3, '2026-11-27T09:00:00.000Z', 'sending')",
    )
    .bind(&call)
    .bind(&agent)
    .bind(&receiver.url)
    .execute(&stopped.pool)
    .await
    .unwrap();

    let _restarted =
        TestApp::spawn_in(stopped.db.clone(), |s| s.allow_insecure_webhooks = true).await;
    let settled = owner.settled(&call).await;
    assert_eq!(settled["deliveries"][0]["outcome"], "interrupted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.hits().await.is_empty());
}

#[tokio::test]
async fn calls_are_validated_and_scoped_to_their_owner() {
    let app = dev_app().await;
    let (owner, agent) = agent_with(&app, &[]).await;
    let res = owner.post("/api/v1/calls", json!({ "agent_id": agent, "type": "fax", "started_at": "x", "transcript": [{ "role": "bot" }] })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = res.json()["error"]["fields"].clone();
    for f in ["type", "started_at", "ended_at", "transcript[0].role", "transcript[0].text"] {
        assert!(fields[f].is_string(), "{f}: {fields}");
    }
    let call = owner.post_call(&agent, "web").await;
    let other = app.user().await;
    assert_eq!(other.get(&format!("/api/v1/calls/{call}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.get(&format!("/api/v1/calls/{call}/deliveries")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/api/v1/agents/{agent}/calls")).await.status,
        StatusCode::NOT_FOUND
    );
    let res = other.post("/api/v1/calls", json!({ "agent_id": agent, "type": "web" })).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let list = owner.get(&format!("/api/v1/agents/{agent}/calls")).await.json();
    assert_eq!(list["calls"][0]["id"], call.as_str());
}

#[tokio::test]
async fn variables_and_notifications_come_from_the_config() {
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, agent) = agent_with(&app, &[hook("CRM", &receiver.url)]).await;
    let res = owner
        .send(reqwest::Method::PUT, &format!("/api/v1/agents/{agent}/processing"), Some(crate::helpers::RawBody::Json(json!({
            "variables": [{ "name": "phone", "description": "Callback number", "pattern": "number is ([0-9-]+)" }],
            "notification_emails": ["Ops@Example.com"]
        }))))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    owner.post_call(&agent, "web").await;
    let hit = receiver.wait_for(1).await.remove(0);
    let view: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(view["variables"], json!({ "phone": "555-0100" }));
    assert_eq!(view["notifications"][0]["to"], "ops@example.com");
    assert_eq!(view["notifications"][0]["status"], "skipped");
}

#[tokio::test]
async fn notification_emails_go_out_through_smtp_before_the_event() {
    let smtp = crate::smtp::SmtpServer::start().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let app = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.smtp_url = Some(voicy::config::SmtpUrl(smtp.url.clone()));
    })
    .await;
    let (owner, agent) = agent_with(&app, &[hook("CRM", &receiver.url)]).await;
    owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/agents/{agent}/processing"),
            Some(crate::helpers::RawBody::Json(json!({
                "notification_emails": ["ops@example.com", "lead@example.com"]
            }))),
        )
        .await;
    owner.post_call(&agent, "web").await;
    let hit = receiver.wait_for(1).await.remove(0);
    // The event fires only after notifications are done: both mails are already there.
    let mails = smtp.mails.lock().await.clone();
    assert_eq!(mails.len(), 2, "{}", String::from_utf8_lossy(&hit.body));
    assert_eq!(mails[0].to, ["ops@example.com"]);
    assert!(mails[0].data.contains("booked for Tuesday"));
    let view: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(
        view["notifications"],
        json!([{ "to": "ops@example.com", "status": "sent" }, { "to": "lead@example.com", "status": "sent" }])
    );
}

/// A standard MIME parser reads what a real SMTP listener received: text/plain in UTF-8, with
/// `MIME-Version`, `Message-ID` and the agent named in the subject; non-ASCII text decodes exactly.
#[tokio::test]
async fn notification_emails_are_well_formed_mime_and_their_text_decodes_exactly() {
    let smtp = crate::smtp::SmtpServer::start().await;
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(voicy::config::SmtpUrl(smtp.url.clone()));
    })
    .await;
    let owner = app.user().await;
    let agent = owner.create_agent("Zoë’s Bäckerei").await;
    owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/agents/{agent}/processing"),
            Some(crate::helpers::RawBody::Json(
                json!({ "notification_emails": ["ops@example.com"] }),
            )),
        )
        .await;
    let text = "Grüße, Zoë → “quotes” and a line of sixty characters to make it wrap at least once or twice.";
    let res = owner
        .post("/api/v1/calls", json!({
            "agent_id": agent, "type": "web", "started_at": "2026-11-27T09:00:00Z", "ended_at": "2026-11-27T09:01:30Z",
            "transcript": [{ "role": "user", "text": text }, { "role": "agent", "text": ".a line that starts with a dot" }]
        }))
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    owner.settled(res.json()["id"].as_str().unwrap()).await;
    let mails = smtp.mails.lock().await.clone();
    assert_eq!(mails.len(), 1);
    let raw = mails[0].data.as_bytes();
    let message = mail_parser::MessageParser::default().parse(raw).expect("a MIME message");
    assert_eq!(message.subject(), Some("Voicy: a call to Zoë’s Bäckerei ended"));
    assert!(message.header("MIME-Version").is_some(), "{}", mails[0].data);
    assert!(message.message_id().is_some_and(|id| id.contains('@')), "{}", mails[0].data);
    use mail_parser::MimeHeaders;
    let content_type = message.content_type().expect("a Content-Type");
    assert_eq!((content_type.ctype(), content_type.subtype()), ("text", Some("plain")));
    assert_eq!(content_type.attribute("charset").map(str::to_lowercase).as_deref(), Some("utf-8"));
    let body = message.body_text(0).expect("a text body");
    assert!(body.contains(&format!("Caller: {text}")), "{body}");
    assert!(body.contains("Agent: .a line that starts with a dot"), "{body}");
}

#[tokio::test]
async fn a_receiver_that_echoes_a_header_value_does_not_put_it_in_the_deliveries_log() {
    let app = dev_app().await;
    let token = secret("echoed-token");
    let echo = Receiver::http(Behavior {
        body: format!("you sent Authorization: {token}"),
        ..Behavior::default()
    })
    .await;
    let (owner, agent) = agent_with(
        &app,
        &[json!({ "name": "Echo", "url": echo.url,
        "headers": [{ "name": "Authorization", "value": token }] })],
    )
    .await;
    let call = owner.post_call(&agent, "web").await;
    // `settled` reads the deliveries through the API, whose bodies are all scanned for secrets.
    let settled = owner.settled(&call).await;
    assert_eq!(settled["deliveries"][0]["response_body"], "you sent Authorization: ••••••");
}

#[tokio::test]
async fn an_echoed_value_is_masked_in_its_json_form_and_where_the_log_cuts_the_answer() {
    let app = dev_app().await;
    let value = secret("tok/en ü");
    // PHP-style JSON (escaped slash, \u escapes) starting 8 bytes before the 2 KB the log keeps.
    let echo = format!("{}{}", "x".repeat(2040), r#"s3cr3t-tok\/en \u00fc"#);
    let receiver =
        Receiver::http(Behavior { status: 400, body: echo, ..Behavior::default() }).await;
    let (owner, agent) = agent_with(
        &app,
        &[json!({ "name": "Echo", "url": receiver.url,
        "headers": [{ "name": "Authorization", "value": value }] })],
    )
    .await;
    let call = owner.post_call(&agent, "web").await;
    let settled = owner.settled(&call).await;
    let kept = settled["deliveries"][0]["response_body"].as_str().unwrap();
    assert!(kept.starts_with(&"x".repeat(2040)), "{kept}");
    assert!(!kept.contains("s3cr") && !kept.contains("tok"), "{}", &kept[2000..]);
}

#[tokio::test]
async fn a_refused_connection_is_explained_without_the_client_internals() {
    let app = dev_app().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let (owner, agent) = agent_with(&app, &[hook("Gone", &url)]).await;
    let call = owner.post_call(&agent, "web").await;
    let delivery = owner.settled(&call).await["deliveries"][0].clone();
    assert_eq!(delivery["outcome"], "connect");
    let error = delivery["error"].as_str().unwrap();
    assert!(error.starts_with("The connection was refused"), "{error}");
    assert!(
        !error.contains("os error") && !error.contains("hyper") && !error.contains("/hook"),
        "{error}"
    );
}

#[tokio::test]
async fn over_the_per_webhook_limit_a_delivery_is_not_sent_and_says_so_at_once() {
    let app = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.max_requests_per_webhook = 1;
    })
    .await;
    // Answers after 4 s: the second call's request is due while the first one's still waits.
    let slow =
        Receiver::http(Behavior { delay: Duration::from_secs(4), ..Behavior::default() }).await;
    let (owner, agent) = agent_with(&app, &[hook("Slow", &slow.url)]).await;
    let first = owner.post_call(&agent, "web").await;
    slow.wait_for(1).await;
    let calls = [first, owner.post_call(&agent, "web").await];
    let mut outcomes = Vec::new();
    for call in &calls {
        let delivery = owner.settled(call).await["deliveries"][0].clone();
        if delivery["outcome"] == "in_flight_limit" {
            assert!(delivery["duration_ms"].as_i64().unwrap() < 1_000, "it waited: {delivery}");
            assert!(
                delivery["error"]
                    .as_str()
                    .unwrap()
                    .contains("1 earlier request to this webhook was still waiting"),
                "{delivery}"
            );
            assert!(delivery["status_code"].is_null());
        }
        outcomes.push(delivery["outcome"].as_str().unwrap().to_owned());
    }
    outcomes.sort();
    assert_eq!(outcomes, ["in_flight_limit", "ok"]);
    assert_eq!(slow.hits().await.len(), 1, "the second request was not sent");

    // Once the endpoint's requests have ended, its slots are free again.
    let call = owner.post_call(&agent, "web").await;
    assert_eq!(owner.settled(&call).await["deliveries"][0]["outcome"], "ok");
}
