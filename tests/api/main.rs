//! Integration tests: each starts the real app on port 0 with a fresh database and talks to it
//! over HTTP, as the dashboard and API clients do.

mod helpers;
mod intake_start;
mod listener;
mod receiver;
mod smtp;

mod accounts;
mod agents;
mod api_keys;
mod calls;
mod commit_fault;
mod conformance;
mod contract;
mod cross_owner;
mod deploy;
mod dispatch;
mod erasure;
mod fuzz;
mod limits;
mod owner_tools;
mod page_cache;
mod pages;
mod processes;
mod queue;
mod rpc;
mod safety_net;
mod sealed;
mod webhooks;
