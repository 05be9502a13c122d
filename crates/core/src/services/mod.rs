//! The one service layer: the dashboard's server functions and the REST handlers are thin
//! wrappers around these functions, so both answer every request the same way.

pub mod accounts;
pub mod agents;
pub mod alerts;
pub mod api_keys;
pub mod calls;
pub mod deliveries;
pub mod delivery_log;
pub mod diff;
pub mod health;
pub mod pauses;
pub mod reference;
pub mod replays;
pub mod retention;
pub mod stats;
pub mod stats_chart;
pub mod throttle;
pub mod versions;
pub mod webhooks;
