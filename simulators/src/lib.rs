//! The simulated État plateforme.
//!
//! Every party of the French government's API platform, running locally over one deterministic
//! synthetic [`population`]: data providers ([`providers`]), and the HTTP plumbing they share
//! ([`http`]). See `ARCHITECTURE.md` at the repository root for the map.

pub mod population;
