//! What the server functions (`/rpc/…`) take, for checks the `#[server]` macro cannot express:
//! their argument structs accept and drop fields they do not know, where the REST API refuses
//! them by name. `argument_names` lists, per server-function path, the fields it takes.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The field names of the struct `T` deserializes as, read from its `Deserialize` impl.
pub fn struct_fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields = None;
    let _ = T::deserialize(FieldNames(&mut fields));
    fields.unwrap_or(&[])
}

/// A deserializer that only notes which fields a struct asks for, then stops.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names read")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self, _: &'static str, fields: &'static [&'static str], _: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = Some(fields);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Server-function path → the argument names it takes.
pub fn argument_names() -> &'static HashMap<&'static str, &'static [&'static str]> {
    static NAMES: OnceLock<HashMap<&'static str, &'static [&'static str]>> = OnceLock::new();
    NAMES.get_or_init(|| {
        use crate::components::{CurrentUser, SignOut};
        use crate::pages::{
            agent::*, agents::*, api_keys::*, auth::*, call_erasure::*, calls::*, delivery_log::*,
            processing::*, reference::*, replay::*, stats::*, webhook_actions::*, webhook_tools::*,
        };
        use leptos::server_fn::ServerFn;
        fn entry<T: ServerFn + for<'de> Deserialize<'de>>()
        -> (&'static str, &'static [&'static str]) {
            (T::PATH, struct_fields::<T>())
        }
        HashMap::from([
            entry::<CurrentUser>(),
            entry::<GetAgent>(),
            entry::<ListAgents>(),
            entry::<CreateAgent>(),
            entry::<ListApiKeys>(),
            entry::<CreateApiKey>(),
            entry::<RevokeApiKey>(),
            entry::<SignIn>(),
            entry::<SignUp>(),
            entry::<SignOut>(),
            entry::<StartTestCall>(),
            entry::<ListCalls>(),
            entry::<GetCallDetail>(),
            entry::<EraseCallData>(),
            entry::<GetProcessing>(),
            entry::<SaveProcessing>(),
            entry::<GetWebhookSettings>(),
            entry::<AddWebhook>(),
            entry::<UpdateWebhook>(),
            entry::<DeleteWebhook>(),
            entry::<GetAgentAlerts>(),
            entry::<StartReplay>(),
            entry::<SearchDeliveries>(),
            entry::<GetWebhookStats>(),
            entry::<ListWebhooks>(),
            entry::<GetReplay>(),
            entry::<CancelReplay>(),
            entry::<SetWebhookPaused>(),
            entry::<DeployAgent>(),
            entry::<RestoreVersion>(),
            entry::<SendTestEvent>(),
            entry::<Redeliver>(),
            entry::<GenerateSecret>(),
            entry::<GetWebhookHealth>(),
            entry::<GetApiReference>(),
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_server_function_has_its_argument_names() {
        let names = argument_names();
        for (path, _) in leptos::server_fn::axum::server_fn_paths() {
            assert!(
                names.contains_key(path),
                "{path} is not in server_fn_arguments::argument_names"
            );
        }
        assert_eq!(
            names[<crate::pages::webhook_actions::UpdateWebhook as leptos::server_fn::ServerFn>::PATH],
            ["agent_id", "webhook_id", "patch"]
        );
        assert!(
            names[<crate::pages::agents::ListAgents as leptos::server_fn::ServerFn>::PATH]
                .is_empty()
        );
        // Fixed addresses (`endpoint`), not the default name + hash of the module's path: a page
        // holds them (the account menu's sign-out form), and a move must not change them.
        for (path, _) in leptos::server_fn::axum::server_fn_paths() {
            let name = path.strip_prefix("/rpc/").unwrap_or_default();
            assert!(!name.is_empty() && !name.ends_with(|c: char| c.is_ascii_digit()), "{path}");
        }
        assert_eq!(
            <crate::components::SignOut as leptos::server_fn::ServerFn>::PATH,
            "/rpc/sign_out"
        );
    }
}
