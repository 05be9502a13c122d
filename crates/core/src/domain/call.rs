//! A finished call as the telephony layer reports it, and post-call processing settings.

use super::Email;
use crate::error::{AppError, FieldErrors};
use crate::views::{NewCall, ProcessingSettings, Turn, VariableSpec};
use chrono::{DateTime, Utc};

// What a real call needs, with room to spare (README, "Call size"): a four-hour call is about
// 200 KB of text in about 3,000 turns, and one turn of 4,000 characters is three minutes of
// uninterrupted speech. The whole body stays under the 2 MB request limit with JSON escaping.
pub const MAX_TURNS: usize = 5_000;
pub const MAX_TURN_CHARS: usize = 4_000;
pub const MAX_TRANSCRIPT_BYTES: usize = 512 * 1024;
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
const MAX_VARIABLES: usize = 20;
const MAX_EMAILS: usize = 10;

pub use crate::states::CallKind;

/// A valid finished call.
#[derive(Debug, Clone)]
pub struct CallInput {
    pub kind: CallKind,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub raw: NewCall,
}

fn timestamp(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "Use an RFC 3339 time, e.g. 2026-11-27T09:30:00Z.".to_owned())
}

fn optional_short(value: &Option<String>, what: &str, max: usize) -> Result<(), String> {
    match value {
        Some(v) if v.chars().count() > max => {
            Err(format!("Use at most {max} characters for the {what}."))
        }
        Some(v) if v.chars().any(char::is_control) => {
            Err(format!("The {what} cannot contain control characters."))
        }
        _ => Ok(()),
    }
}

impl CallInput {
    pub fn parse(mut raw: NewCall) -> Result<Self, AppError> {
        let mut errors = FieldErrors::new();
        let kind = CallKind::parse(&raw.kind);
        if kind.is_none() {
            errors.add("type", "Use \"phone\" or \"web\".");
        }
        let started_at = errors.take("started_at", timestamp(&raw.started_at));
        let ended_at = errors.take("ended_at", timestamp(&raw.ended_at));
        if let (Some(start), Some(end)) = (started_at, ended_at)
            && end < start
        {
            errors.add("ended_at", "The call cannot end before it started.");
        }
        errors.take("from_number", optional_short(&raw.from_number, "from number", 32));
        errors.take("to_number", optional_short(&raw.to_number, "to number", 32));
        errors.take("end_reason", optional_short(&raw.end_reason, "end reason", 200));
        if raw.transcript.len() > MAX_TURNS {
            errors.add("transcript", format!("A transcript may have at most {MAX_TURNS} turns."));
            raw.transcript.clear(); // not looked at turn by turn: the count alone is the answer
        }
        let text_bytes: usize = raw.transcript.iter().map(|t| t.text.len()).sum();
        if text_bytes > MAX_TRANSCRIPT_BYTES {
            errors.add(
                "transcript",
                format!(
                    "A transcript may have at most {} KB of text.",
                    MAX_TRANSCRIPT_BYTES / 1024
                ),
            );
            raw.transcript.clear();
        }
        for (i, turn) in raw.transcript.iter_mut().enumerate() {
            if turn.role != "agent" && turn.role != "user" {
                errors.add(format!("transcript[{i}].role"), "Use \"agent\" or \"user\".");
            }
            turn.text = turn.text.trim().to_owned();
            if turn.text.is_empty() {
                errors.add(format!("transcript[{i}].text"), "Enter what was said.");
            } else if turn.text.chars().count() > MAX_TURN_CHARS {
                errors.add(
                    format!("transcript[{i}].text"),
                    format!("Use at most {MAX_TURN_CHARS} characters per turn."),
                );
            }
        }
        match &raw.metadata {
            Some(serde_json::Value::Object(_)) | None => {}
            Some(_) => errors.add("metadata", "Metadata must be a JSON object."),
        }
        if raw.metadata.as_ref().is_some_and(|m| m.to_string().len() > MAX_METADATA_BYTES) {
            errors.add("metadata", "Metadata may be at most 16 KB.");
        }
        errors.into_result()?;
        Ok(Self {
            kind: kind.expect("checked"),
            started_at: started_at.expect("checked"),
            ended_at: ended_at.expect("checked"),
            raw,
        })
    }
}

pub use regex::Regex;

/// Compiles an owner's pattern within bounds: a pattern of at most 500 characters whose compiled
/// program and lazy DFA stay under 256 KB each. The regex crate runs in time linear in the text,
/// so a bounded program over a bounded transcript is a bounded cost.
pub fn compile_pattern(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.is_empty() || pattern.len() > 500 {
        return Err("Enter a pattern of at most 500 characters.".to_owned());
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(256 << 10)
        .dfa_size_limit(256 << 10)
        .build()
        .map_err(|e| format!("Not a valid pattern: {e}"))
}

/// Parses processing settings; the returned value is what is stored.
pub fn parse_processing(input: &ProcessingSettings) -> Result<ProcessingSettings, AppError> {
    // Over-long lists are rejected before any entry is looked at (names are compared pairwise).
    if input.variables.len() > MAX_VARIABLES {
        return Err(FieldErrors::single(
            "variables",
            format!("Use at most {MAX_VARIABLES} variables."),
        ));
    }
    if input.notification_emails.len() > MAX_EMAILS {
        return Err(FieldErrors::single(
            "notification_emails",
            format!("Use at most {MAX_EMAILS} addresses."),
        ));
    }
    let mut errors = FieldErrors::new();
    let mut variables: Vec<VariableSpec> = Vec::new();
    for (i, v) in input.variables.iter().enumerate() {
        let name = v.name.trim();
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name {
            errors.add(
                format!("variables[{i}].name"),
                "Use 1–64 letters, digits and underscores, not starting with a digit.",
            );
        } else if variables.iter().any(|o| o.name == name) {
            errors.add(format!("variables[{i}].name"), "Each variable name may appear once.");
        }
        if v.description.chars().count() > 500 {
            errors.add(format!("variables[{i}].description"), "Use at most 500 characters.");
        }
        errors.take(format!("variables[{i}].pattern"), compile_pattern(&v.pattern));
        variables.push(VariableSpec {
            name: name.to_owned(),
            description: v.description.trim().to_owned(),
            pattern: v.pattern.clone(),
        });
    }
    let mut emails = Vec::new();
    for (i, e) in input.notification_emails.iter().enumerate() {
        if let Some(email) = errors.take(format!("notification_emails[{i}]"), Email::parse(e)) {
            emails.push(email.as_str().to_owned());
        }
    }
    errors.into_result()?;
    Ok(ProcessingSettings { variables, notification_emails: emails })
}

pub fn turns_text(turns: &[Turn]) -> String {
    turns.iter().map(|t| format!("{}: {}", t.role, t.text)).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> NewCall {
        NewCall {
            agent_id: "a".into(),
            kind: "phone".into(),
            started_at: "2026-11-27T09:00:00Z".into(),
            ended_at: "2026-11-27T09:02:05Z".into(),
            transcript: vec![Turn { role: "user".into(), text: " hi ".into(), start_ms: None }],
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_call_parses_and_trims_turns() {
        let parsed = CallInput::parse(call()).unwrap();
        assert_eq!(parsed.kind, CallKind::Phone);
        assert_eq!(parsed.raw.transcript[0].text, "hi");
        assert_eq!((parsed.ended_at - parsed.started_at).num_seconds(), 125);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = call();
        bad.kind = "fax".into();
        bad.ended_at = "yesterday".into();
        bad.transcript.push(Turn { role: "robot".into(), text: "".into(), start_ms: None });
        bad.metadata = Some(serde_json::json!([1]));
        let fields = CallInput::parse(bad).unwrap_err();
        for f in ["type", "ended_at", "transcript[1].role", "transcript[1].text", "metadata"] {
            assert!(fields.field(f).is_some(), "{f}");
        }
    }

    #[test]
    fn a_call_cannot_end_before_it_starts() {
        let mut bad = call();
        bad.ended_at = "2026-11-27T08:00:00Z".into();
        assert!(CallInput::parse(bad).unwrap_err().field("ended_at").is_some());
    }

    #[test]
    fn processing_settings_reject_bad_patterns_and_emails() {
        let input = ProcessingSettings {
            variables: vec![VariableSpec {
                name: "1x".into(),
                description: String::new(),
                pattern: "(".into(),
            }],
            notification_emails: vec!["nope".into()],
        };
        let err = parse_processing(&input).unwrap_err();
        for f in ["variables[0].name", "variables[0].pattern", "notification_emails[0]"] {
            assert!(err.field(f).is_some(), "{f}");
        }
    }
}
