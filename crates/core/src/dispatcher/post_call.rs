//! Post-call processing, in order: summary, variable extraction, email notifications. Each step
//! is a small trait with a built-in implementation. A step that fails fails the processing
//! attempt, which the dispatcher retries with backoff and then records as `failed`;
//! notifications are sent by the worker, which records each before sending it.

use crate::domain::call::{Regex, compile_pattern, turns_text};
use crate::services::calls::Processed;
use crate::states::NotificationStatus;
use crate::views::{NewCall, NotificationView, ProcessingSettings};
use futures::future::{BoxFuture, FutureExt};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub trait Summarizer: Send + Sync {
    fn summarize(&self, call: &NewCall) -> Result<String, String>;
}

pub trait VariableExtractor: Send + Sync {
    fn extract(
        &self, call: &NewCall, settings: &ProcessingSettings,
    ) -> Result<BTreeMap<String, Option<String>>, String>;
}

/// Sends one plain-text e-mail to each address: call notifications and webhook alerts.
pub trait Notifier: Send + Sync {
    fn notify<'a>(
        &'a self, mail: &'a super::mail::Mail, to: &'a [String],
    ) -> BoxFuture<'a, Vec<NotificationView>>;
}

/// A deterministic summary: who spoke how much, how the caller opened and how the agent closed.
pub struct TranscriptSummarizer;

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

impl Summarizer for TranscriptSummarizer {
    fn summarize(&self, call: &NewCall) -> Result<String, String> {
        let turns = &call.transcript;
        if turns.is_empty() {
            return Ok("The call ended without a transcript.".to_owned());
        }
        let user = turns.iter().filter(|t| t.role == "user").count();
        let agent = turns.len() - user;
        let count = match turns.len() {
            1 => "1 turn".to_owned(),
            n => format!("{n} turns"),
        };
        let mut summary = format!("{count} ({agent} by the agent, {user} by the caller).");
        if let Some(first) = turns.iter().find(|t| t.role == "user") {
            summary.push_str(&format!(" The caller said: “{}”", clip(&first.text, 200)));
        }
        if let Some(last) = turns.iter().rev().find(|t| t.role == "agent") {
            summary.push_str(&format!(" The agent closed with: “{}”", clip(&last.text, 200)));
        }
        Ok(summary)
    }
}

/// The first match of each variable's pattern in the transcript (its first group if it has one).
/// Each pattern is compiled once, not once per call: settings change rarely, calls often.
#[derive(Default)]
pub struct PatternExtractor {
    compiled: Mutex<HashMap<String, Arc<Regex>>>,
}

/// Compiled patterns kept; past this many, the cache starts over. With each pattern's program
/// bounded (`compile_pattern`), this bounds the cache's memory (a few hundred MB at the very worst,
/// typical patterns take a few KB).
const CACHED_PATTERNS: usize = 256;

impl PatternExtractor {
    fn pattern(&self, pattern: &str) -> Result<Arc<Regex>, String> {
        if let Some(compiled) = self.compiled.lock().expect("never poisoned").get(pattern) {
            return Ok(compiled.clone());
        }
        let compiled = Arc::new(compile_pattern(pattern)?);
        let mut cache = self.compiled.lock().expect("never poisoned");
        if cache.len() >= CACHED_PATTERNS {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), compiled.clone());
        Ok(compiled)
    }
}

impl VariableExtractor for PatternExtractor {
    fn extract(
        &self, call: &NewCall, settings: &ProcessingSettings,
    ) -> Result<BTreeMap<String, Option<String>>, String> {
        let text = turns_text(&call.transcript);
        let mut values = BTreeMap::new();
        for variable in &settings.variables {
            let pattern =
                self.pattern(&variable.pattern).map_err(|e| format!("{}: {e}", variable.name))?;
            let value = pattern
                .captures(&text)
                .map(|c| c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str()).to_owned());
            values.insert(variable.name.clone(), value);
        }
        Ok(values)
    }
}

/// Without an SMTP server configured, notifications are recorded as skipped, never dropped
/// silently.
pub struct UnconfiguredMail;

impl Notifier for UnconfiguredMail {
    fn notify<'a>(
        &'a self, _mail: &'a super::mail::Mail, to: &'a [String],
    ) -> BoxFuture<'a, Vec<NotificationView>> {
        let skipped = to
            .iter()
            .map(|address| NotificationView {
                to: address.clone(),
                status: NotificationStatus::Skipped,
                detail: Some(
                    "Email delivery is not configured on this server (VOICY_SMTP_URL).".to_owned(),
                ),
            })
            .collect();
        async move { skipped }.boxed()
    }
}

pub struct Steps {
    pub summarizer: Box<dyn Summarizer>,
    pub extractor: Box<dyn VariableExtractor>,
    pub notifier: Box<dyn Notifier>,
}

impl Default for Steps {
    fn default() -> Self {
        Self::with_notifier(Box::new(UnconfiguredMail))
    }
}

impl Steps {
    pub fn with_notifier(notifier: Box<dyn Notifier>) -> Self {
        Self {
            summarizer: Box::new(TranscriptSummarizer),
            extractor: Box::new(PatternExtractor::default()),
            notifier,
        }
    }

    /// The summary and the variables; an error names the step that failed.
    pub fn run(&self, call: &NewCall, settings: &ProcessingSettings) -> Result<Processed, String> {
        let summary = self.summarizer.summarize(call).map_err(|e| format!("summary: {e}"))?;
        let variables =
            self.extractor.extract(call, settings).map_err(|e| format!("variables: {e}"))?;
        Ok(Processed { summary: Some(summary), variables, ..Processed::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{Turn, VariableSpec};

    fn call() -> NewCall {
        let turn =
            |role: &str, text: &str| Turn { role: role.into(), text: text.into(), start_ms: None };
        NewCall {
            transcript: vec![
                turn("agent", "Hello, Acme dental."),
                turn("user", "I'd like to book a cleaning, my number is 555-0100."),
                turn("agent", "Booked for Tuesday."),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn the_summary_is_deterministic() {
        let summary = TranscriptSummarizer.summarize(&call()).unwrap();
        assert_eq!(summary, TranscriptSummarizer.summarize(&call()).unwrap());
        assert!(summary.starts_with("3 turns (2 by the agent, 1 by the caller)."));
        let one = TranscriptSummarizer
            .summarize(&NewCall { transcript: call().transcript[..1].to_vec(), ..call() })
            .unwrap();
        assert!(one.starts_with("1 turn ("), "{one}");
        assert!(summary.contains("Booked for Tuesday."));
    }

    #[test]
    fn variables_take_the_first_group_or_null() {
        let settings = ProcessingSettings {
            variables: vec![
                VariableSpec {
                    name: "phone".into(),
                    description: String::new(),
                    pattern: r"number is ([0-9-]+)".into(),
                },
                VariableSpec {
                    name: "email".into(),
                    description: String::new(),
                    pattern: r"\S+@\S+".into(),
                },
            ],
            notification_emails: vec![],
        };
        let values = PatternExtractor::default().extract(&call(), &settings).unwrap();
        assert_eq!(values["phone"].as_deref(), Some("555-0100"));
        assert_eq!(values["email"], None);
    }

    #[test]
    fn a_failing_step_fails_the_attempt_and_says_which_step() {
        struct Broken;
        impl Summarizer for Broken {
            fn summarize(&self, _: &NewCall) -> Result<String, String> {
                Err("model unavailable".into())
            }
        }
        let steps = Steps { summarizer: Box::new(Broken), ..Steps::default() };
        let err = steps.run(&call(), &ProcessingSettings::default()).unwrap_err();
        assert_eq!(err, "summary: model unavailable");
    }
}
