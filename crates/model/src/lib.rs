//! What crosses the wire: the views the REST API and the dashboard's server functions send, the
//! one error type, and the codec they travel in. Compiled for the server and for the browser.

pub mod codec;
pub mod error;
pub mod states;
pub mod views;
