//! End-to-end tests of the simulated platform, through its public HTTP surface only.

mod abuse;
mod broker;
mod broker_oidc;
mod citizen;
mod common;
mod control;
mod dgfip;
mod dgfip_fc;
mod documented;
mod durability;
mod faults;
mod hub_contracts;
mod hub_entreprise;
mod hub_particulier;
mod idp;
mod infogreffe;
mod insee;
mod openapi;
mod platform;
mod robustness;
mod service_providers;
mod social;
mod urssaf;
