//! The API reference: every REST operation and schema, read from the OpenAPI document the server
//! generates from its handlers, and a guide to verifying webhook requests. Rendered on the
//! server with no script or stylesheet from elsewhere (no CDN).

use crate::components::Frame;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use voicy_model::error::AppError;
use voicy_model::views::{ApiField, ApiOperation, ApiReference};

/// Public, like the document itself: it describes the API and holds no data.
#[leptos::server(prefix = "/rpc", endpoint = "get_api_reference", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_api_reference() -> Result<ApiReference, AppError> {
    crate::server::page_reads::page_read!("get_api_reference"; {
        let (state, _) = crate::server::request_state().await?;
        Ok(voicy_core::services::reference::reference(&state.api_document))
    })
}

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| get_api_reference());
    view! {
        <Title text="API reference"/>
        <Frame>
            <Suspense fallback=|| view! { <p class="muted">"Loading the reference…"</p> }>
                {move || Suspend::new(async move {
                    match reference.await {
                        Ok(reference) => view! { <Reference reference/> }.into_any(),
                        Err(e) => view! { <p class="notice error">{e.to_string()} " Reload the page to try again."</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

/// Doc-comment text as the page shows it: hard-wrapped lines joined, `code` spans as code.
fn prose(text: &str) -> impl IntoView + use<> {
    let joined = text.split("\n\n").map(|p| p.replace('\n', " ")).collect::<Vec<_>>().join(" ");
    joined
        .split('`')
        .enumerate()
        .map(|(i, piece)| {
            if i % 2 == 1 {
                view! { <code>{piece.to_owned()}</code> }.into_any()
            } else {
                piece.to_owned().into_any()
            }
        })
        .collect_view()
}

/// What a status means, where the document gives no more.
fn status_name(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "No content",
        "401" => "Not signed in, or an unknown API key",
        "404" => "Not found (or another owner's)",
        "409" => "Conflict",
        "413" => "The body is too large",
        "422" => "Invalid fields",
        "429" => "Too many attempts",
        "default" => "Any other error",
        _ => "",
    }
}

fn anchor(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect()
}

#[component]
fn Reference(reference: ApiReference) -> impl IntoView {
    let base = reference.base.clone();
    view! {
        <h1>{reference.title.clone()}</h1>
        <p class="muted">{format!("Version {} · OpenAPI 3.1", reference.version)}</p>
        <section class="card">
            <p>{prose(&reference.description)}</p>
            <p>"Every path below starts with " <code>{base.clone()}</code> ". The whole document: "
                <a href=format!("{base}/openapi.json")>{format!("{base}/openapi.json")}</a>
                " (for code generators and API tools). Fields marked * are always present (responses) or required (requests)."</p>
            <nav aria-label="Contents">
                <ul class="toc">
                    {reference.tags.iter().map(|t| view! { <li><a href=format!("#{}", anchor(&t.name))>{capitalized(&t.name)}</a></li> }).collect_view()}
                    <li><a href="#schemas">"schemas"</a></li>
                    <li><a href="#verify">"verify a webhook"</a></li>
                </ul>
            </nav>
        </section>
        {reference.tags.into_iter().map(|tag| view! {
            <section class="card" aria-labelledby=anchor(&tag.name)>
                <h2 id=anchor(&tag.name)>{capitalized(&tag.name)}</h2>
                <p class="muted">{tag.description.clone()}</p>
                {tag.operations.into_iter().map(|op| view! { <Operation op/> }).collect_view()}
            </section>
        }).collect_view()}
        <section class="card" aria-labelledby="schemas">
            <h2 id="schemas">"Schemas"</h2>
            {reference.schemas.into_iter().map(|schema| view! {
                <div class="schema">
                    <h3 id=format!("schema-{}", schema.name)><code>{schema.name.clone()}</code></h3>
                    {(!schema.description.is_empty()).then(|| view! { <p class="muted">{prose(&schema.description)}</p> })}
                    <Fields fields=schema.fields label=format!("Fields of {}", schema.name)/>
                </div>
            }).collect_view()}
        </section>
        <VerifyGuide/>
    }
}

#[component]
fn Operation(op: ApiOperation) -> impl IntoView {
    let title = format!("{} {}", op.method, op.path);
    view! {
        <article class="operation" aria-label=title.clone()>
            <h3><span class=format!("method {}", op.method.to_ascii_lowercase())>{op.method.clone()}</span> " " <code>{op.path.clone()}</code></h3>
            <p>{prose(&op.summary)} " " {prose(&op.description)} {(!op.authenticated).then_some(" No authentication needed.")}</p>
            {(!op.parameters.is_empty()).then(|| view! { <Fields fields=op.parameters.clone() label=format!("Parameters of {title}")/> })}
            {op.request.clone().map(|schema| view! {
                <p>"Body: " <a href=format!("#schema-{schema}")><code>{schema.clone()}</code></a></p>
            })}
            <ul class="responses" aria-label=format!("Responses of {title}")>
                {op.responses.into_iter().map(|r| view! {
                    <li>
                        <code>{r.status.clone()}</code> " "
                        {if r.description.is_empty() { status_name(&r.status).to_owned() } else { r.description.clone() }}
                        {r.schema.map(|s| view! { " → " <a href=format!("#schema-{s}")><code>{s.clone()}</code></a> })}
                    </li>
                }).collect_view()}
            </ul>
        </article>
    }
}

#[component]
fn Fields(fields: Vec<ApiField>, label: String) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="fields" aria-label=label>
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col">"Description"</th></tr></thead>
                <tbody>
                    {fields.into_iter().map(|f| view! {
                        <tr>
                            <td><code>{f.name.clone()}</code>{f.required.then_some(" *")}</td>
                            <td class="mono">{f.kind.clone()}</td>
                            <td>{prose(&f.description)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

const NODE: &str = r#"import { createHmac, timingSafeEqual } from 'node:crypto';

// rawBody: the request body exactly as received (a Buffer), before any JSON parsing.
export function isFromVoicy(rawBody, signature, secret) {
  const expected = Buffer.from(createHmac('sha256', secret).update(rawBody).digest('hex'));
  const given = Buffer.from(signature ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// With "Standard Webhooks signatures" on: npm install standardwebhooks
import { Webhook } from 'standardwebhooks';
// Throws unless the signature verifies and webhook-timestamp is within 5 minutes.
const call = new Webhook(secret).verify(rawBody.toString('utf8'), req.headers);"#;

const PYTHON: &str = r#"import hashlib
import hmac

def is_from_voicy(raw_body: bytes, signature: str, secret: str) -> bool:
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature or "")

# With "Standard Webhooks signatures" on: pip install standardwebhooks
from standardwebhooks.webhooks import Webhook

# Raises unless the signature verifies and webhook-timestamp is within 5 minutes.
call = Webhook(secret).verify(raw_body, dict(request.headers))"#;

const RUST: &str = r#"use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `raw_body`: the request body exactly as received, before any JSON parsing.
fn is_from_voicy(raw_body: &[u8], signature: &str, secret: &str) -> bool {
    let Ok(given) = hex::decode(signature) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(raw_body);
    mac.verify_slice(&given).is_ok() // compares in constant time
}

// With "Standard Webhooks signatures" on: cargo add standardwebhooks
let webhook = standardwebhooks::Webhook::new(&secret)?;
webhook.verify(&raw_body, &headers)?; // headers: http::HeaderMap"#;

#[component]
fn VerifyGuide() -> impl IntoView {
    view! {
        <section class="card guide" aria-labelledby="verify">
            <h2 id="verify">"Verify a webhook"</h2>
            <p>"With a signing secret, each request carries " <code>"x-voicy-signature"</code>
                ": the lowercase hex HMAC-SHA256 of the raw request body, keyed with the secret as you typed it. "
                "Compute it over the bytes you received, before parsing the JSON, and compare in constant time."</p>
            <p>"Turn on " <strong>"Standard Webhooks signatures"</strong> " (with a " <code>"whsec_"</code>
                " secret from " <em>"Generate secret"</em> ") to also get " <code>"webhook-id"</code> " (the call's id: the same on a redelivery, "
                "so you can drop duplicates), " <code>"webhook-timestamp"</code> " and " <code>"webhook-signature"</code>
                ", which the maintained Standard Webhooks libraries verify, with replay protection."</p>
            <h3>"Node.js"</h3>
            <pre class="code"><code>{NODE}</code></pre>
            <h3>"Python"</h3>
            <pre class="code"><code>{PYTHON}</code></pre>
            <h3>"Rust"</h3>
            <pre class="code"><code>{RUST}</code></pre>
            <p class="muted">"Test your receiver with " <em>"Send test"</em> " on a webhook's row: its body is a sample call with "
                <code>"\"metadata\":{\"test\":true}"</code> "."</p>
        </section>
    }
}

/// "webhooks" → "Webhooks": the document's tags are lower-case names, the page's headings are not.
/// ASCII only: the tags are ours, and Unicode's case tables would weigh on the bundle.
fn capitalized(name: &str) -> String {
    let mut out = name.to_owned();
    if let Some(first) = out.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    out
}
