//! The server functions' response encoding: JSON, decoded in the browser from text.
//!
//! Leptos's own `Json` decodes a response with `serde_json::from_slice`, while a resource sent
//! with the page is decoded with `serde_json::from_str`: the two readers made two copies of every
//! view type's deserializer in the wasm bundle. Decoding responses from text too leaves one.
//! `Deferred` goes further for a value that only a part of a page reads: its JSON is kept as text
//! until that part decodes it, so its deserializer lives in that part's wasm chunk alone.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use serde_json::value::RawValue;
use std::marker::PhantomData;

#[cfg(feature = "leptos")]
pub use server_fn_codec::{Json, JsonText};

/// The server functions' codec (only where Leptos is built in: the app, never the core).
#[cfg(feature = "leptos")]
mod server_fn_codec {
    use leptos::server_fn::codec::Post;
    use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
    use serde::{Serialize, de::DeserializeOwned};

    /// JSON in the body of a `POST`, read back as text.
    pub struct JsonText;

    impl ContentType for JsonText {
        const CONTENT_TYPE: &'static str = "application/json";
    }

    impl FormatType for JsonText {
        const FORMAT_TYPE: Format = Format::Text;
    }

    impl<T: Serialize> Encodes<T> for JsonText {
        type Error = serde_json::Error;

        fn encode(output: &T) -> Result<Bytes, Self::Error> {
            serde_json::to_vec(output).map(Bytes::from)
        }
    }

    impl<T: DeserializeOwned> Decodes<T> for JsonText {
        type Error = serde_json::Error;

        fn decode(bytes: Bytes) -> Result<T, Self::Error> {
            // Our server only ever writes UTF-8 here; anything else is a broken response.
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                <serde_json::Error as serde::de::Error>::custom("the response is not UTF-8")
            })?;
            serde_json::from_str(text)
        }
    }

    /// The output encoding of every server function (`#[server(output = …)]`).
    pub type Json = Post<JsonText>;
}

/// A `T` sent as its own JSON, unchanged, and read in the browser as text: decoded (`open`) only
/// where it is used. What carries it (a resource, a server function's response) then needs no
/// deserializer for `T`, so neither does the wasm chunk of the part of the page that carries it.
pub struct Deferred<T> {
    json: Box<RawValue>,
    of: PhantomData<fn() -> T>,
}

impl<T: Serialize> Deferred<T> {
    pub fn new(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self { json: serde_json::value::to_raw_value(value)?, of: PhantomData })
    }
}

impl<T: DeserializeOwned> Deferred<T> {
    pub fn open(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.json.get())
    }
}

impl<T> Clone for Deferred<T> {
    fn clone(&self) -> Self {
        Self { json: self.json.clone(), of: PhantomData }
    }
}

impl<T> Serialize for Deferred<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Deferred<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self { json: Box::<RawValue>::deserialize(deserializer)?, of: PhantomData })
    }
}

#[cfg(test)]
mod tests {
    use super::Deferred;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        name: String,
        headers: Vec<(String, String)>,
    }

    #[derive(Serialize, Deserialize)]
    struct Outer {
        count: usize,
        inner: Deferred<Inner>,
    }

    #[test]
    fn a_deferred_value_is_sent_as_its_own_json_and_opened_later() {
        let inner = Inner {
            name: "CRM \"main\" ✓".into(),
            headers: vec![("X-Key".into(), "a\\b".into())],
        };
        let outer = Outer { count: 1, inner: Deferred::new(&inner).unwrap() };
        let json = serde_json::to_string(&outer).unwrap();
        // The same JSON as the value itself, not a string holding it.
        assert_eq!(
            json,
            format!(r#"{{"count":1,"inner":{}}}"#, serde_json::to_string(&inner).unwrap())
        );
        let read: Outer = serde_json::from_str(&json).unwrap();
        assert_eq!(read.count, 1);
        assert_eq!(read.inner.open().unwrap(), inner);
        // Sent on again unchanged (a resource written into a page is read back the same way).
        assert_eq!(serde_json::to_string(&read).unwrap(), json);
    }

    #[test]
    fn a_deferred_value_of_the_wrong_shape_fails_when_opened_not_when_read() {
        let read: Outer = serde_json::from_str(r#"{"count":0,"inner":{"name":7}}"#).unwrap();
        assert!(read.inner.open().is_err());
    }
}
