//! The simulated État plateforme.
//!
//! Every party of the French government's API platform, running locally over one deterministic
//! synthetic [`population`]: the data providers ([`providers`]), the hubs ([`hubs`]), the identity
//! federation ([`identity`]) and the demo service providers ([`sp`]), each its own HTTP server
//! built on the shared plumbing in [`http`], started together by [`platform`]. See
//! `ARCHITECTURE.md` at the repository root for the map.

// Handlers return a ready `Response` as their error, the idiomatic axum shape; boxing it would
// add an allocation per error to please a size heuristic.
#![allow(clippy::result_large_err)]
// Every public item says what it is; xtask's tidy test keeps these lints here.
#![warn(missing_docs, unreachable_pub)]

pub mod cli;
pub mod config;
pub mod defects;
pub mod http;
pub mod hubs;
pub mod identity;
pub mod jose;
pub mod ledger;
pub mod party;
pub mod pdf;
pub mod platform;
pub mod population;
pub mod providers;
pub mod sp;
