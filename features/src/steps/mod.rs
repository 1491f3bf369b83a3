//! The step library, by role. Steps speak only HTTP to the parties of the target, so the same
//! scenario runs against simulated and external implementations; steps that read a simulator's
//! control API (journals, faults, clocks, token minting) say so when the party is external.
//! French phrasings stand beside the English ones.

pub mod bad_input;
pub mod common;
pub mod faults;
pub mod flow_attacks;
pub mod hubs;
pub mod identity;
pub mod idp;
pub mod load;
pub mod providers;
pub mod security;
pub mod sp;
pub mod sp_attacks;
