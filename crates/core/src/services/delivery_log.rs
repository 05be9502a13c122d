//! The searchable deliveries log: `GET /api/v1/agents/{id}/deliveries` and the Deliveries page.
//! Each filter is parsed here, and a bad one is named with what to give instead.

use crate::OwnerRequest;
use crate::error::{AppError, FieldErrors};
use crate::states::{DeliveryKind, DeliveryOutcome};
use crate::store::{LogQuery, StatusFilter};
use crate::views::{DeliveryFilter, DeliveryPage};
use chrono::{DateTime, SecondsFormat, Utc};

/// Deliveries a page holds.
pub const PAGE: i64 = 50;

/// Ids are hyphenated lower-case UUIDs; other spellings of one could never match.
fn id(raw: &str, what: &str) -> Result<String, String> {
    match uuid::Uuid::try_parse(raw) {
        Ok(id) if id.hyphenated().to_string() == raw => Ok(raw.to_owned()),
        _ => {
            Err(format!("is not {what} id: copy it from the dashboard or the API, or leave it out"))
        }
    }
}

fn status(raw: &str) -> Result<StatusFilter, String> {
    let class = raw.strip_suffix("xx").and_then(|c| c.parse::<u16>().ok());
    match (class, raw.parse::<u16>()) {
        (Some(class @ 1..=5), _) => Ok(StatusFilter::Class(class)),
        (None, Ok(code @ 100..=599)) => Ok(StatusFilter::Code(code)),
        _ => Err("give a status code from 100 to 599, or 2xx, 3xx, 4xx, 5xx".to_owned()),
    }
}

/// An RFC 3339 instant, or a form's `datetime-local` value (`2026-12-06T09:00`), read as UTC.
fn instant(raw: &str) -> Result<String, String> {
    let at = DateTime::parse_from_rfc3339(raw).map(|at| at.with_timezone(&Utc)).or_else(|_| {
        ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|format| chrono::NaiveDateTime::parse_from_str(raw, format).ok())
            .map(|local| local.and_utc())
            .ok_or(())
    });
    at.map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true))
        .map_err(|_| "give an RFC 3339 instant, e.g. 2026-12-06T09:00:00Z".to_owned())
}

fn named<T>(
    parse: fn(&str) -> Option<T>, all: &[T], text: fn(&T) -> &'static str,
) -> impl Fn(&str) -> Result<T, String> {
    move |raw| {
        parse(raw).ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(text).collect();
            format!("give one of {}", names.join(", "))
        })
    }
}

/// The filters as typed; blank ones are left out.
pub fn parse(filter: &DeliveryFilter) -> Result<LogQuery, AppError> {
    let mut errors = FieldErrors::new();
    let given = |v: &Option<String>| {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    };
    let mut field =
        |name: &str, raw: &Option<String>, parse: &dyn Fn(&str) -> Result<String, String>| {
            given(raw).and_then(|raw| errors.take(name, parse(&raw)))
        };
    let webhook_id = field("webhook_id", &filter.webhook_id, &|r| id(r, "a webhook"));
    let call_id = field("call_id", &filter.call_id, &|r| id(r, "a call"));
    let before = field("before", &filter.before, &|r| id(r, "a delivery"));
    let since = field("since", &filter.since, &instant);
    let until = field("until", &filter.until, &instant);
    let outcome = given(&filter.outcome).and_then(|raw| {
        let parse = named(DeliveryOutcome::parse, DeliveryOutcome::ALL, |o| o.as_str());
        errors.take("outcome", parse(&raw))
    });
    let kind = given(&filter.kind).and_then(|raw| {
        let parse = named(DeliveryKind::parse, DeliveryKind::ALL, |k| k.as_str());
        errors.take("kind", parse(&raw))
    });
    let status = given(&filter.status).and_then(|raw| errors.take("status", status(&raw)));
    errors.into_result()?;
    Ok(LogQuery { webhook_id, outcome, status, kind, since, until, call_id, before })
}

pub async fn search(
    request: &OwnerRequest, agent_id: &str, filter: &DeliveryFilter,
) -> Result<DeliveryPage, AppError> {
    let agent = request.agent(agent_id).await?;
    let query = parse(filter)?;
    let (deliveries, next_before) = match request.store().delivery_log(&agent, &query, PAGE).await {
        Err(AppError::NotFound) => {
            return Err(FieldErrors::single(
                "before",
                "is not one of this agent's deliveries: use the next_before of the page before",
            ));
        }
        found => found?,
    };
    Ok(DeliveryPage { deliveries, next_before })
}
