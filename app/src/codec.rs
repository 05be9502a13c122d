//! The server functions' response encoding: JSON, decoded in the browser from text.
//!
//! Leptos's own `Json` decodes a response with `serde_json::from_slice`, while a resource sent
//! with the page is decoded with `serde_json::from_str`: the two readers made two copies of every
//! view type's deserializer in the wasm bundle. Decoding responses from text too leaves one.

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
        let text = std::str::from_utf8(&bytes).map_err(|_| <serde_json::Error as serde::de::Error>::custom("the response is not UTF-8"))?;
        serde_json::from_str(text)
    }
}

/// The output encoding of every server function (`#[server(output = …)]`).
pub type Json = Post<JsonText>;
