//! The steps of [`Platform::start`](super::Platform::start): read the configuration files, plan
//! the parties and their ports, bind them (URLs are known only then), build every party, and
//! serve the catalogue.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::catalog::{catalog_entries, catalog_html};
use super::services::service_providers;
use super::{PlatformConfig, StartError};
use crate::http::{PartyApp, RunningParty, Shutdown, bind, json_response};
use crate::hubs::{HubsConfig, entreprise, particulier};
use crate::identity::config::IdentityConfig;
use crate::identity::{broker, idp};
use crate::party::{self, PartyId, Role};
use crate::population::Population;
use crate::providers;
use crate::sp::SpConfig;

/// The files `platform.toml` names, read.
pub(super) struct Files {
    pub identity: Option<IdentityConfig>,
    pub hubs: HubsConfig,
    pub sps: SpConfig,
}

impl Files {
    pub(super) fn load(config: &PlatformConfig) -> Result<Files, StartError> {
        let identity = match &config.identity {
            Some(path) => Some(IdentityConfig::load(path).map_err(StartError::Config)?),
            None => None,
        };
        let mut hubs = match &config.hubs {
            Some(path) => HubsConfig::load(path).map_err(StartError::Config)?,
            None => HubsConfig::default(),
        };
        if let Some(ms) = config.hub_provider_timeout_ms {
            for h in [&mut hubs.api_entreprise, &mut hubs.api_particulier]
                .into_iter()
                .flatten()
            {
                h.provider_timeout_ms = ms;
            }
        }
        let sps = match &config.service_providers {
            Some(path) => SpConfig::load(path).map_err(StartError::Config)?,
            None => SpConfig::default(),
        };
        Ok(Files {
            identity,
            hubs,
            sps,
        })
    }
}

/// Every party and its port, in catalogue order: providers, hubs, identity, service providers.
pub(super) fn plan(config: &PlatformConfig, files: &Files) -> Vec<(PartyId, u16)> {
    let mut plan: Vec<(PartyId, u16)> = party::of_role(Role::Provider)
        .map(|p| (p.id.clone(), config.ports.of(&p.id)))
        .collect();
    let configured = [
        (PartyId::API_ENTREPRISE, files.hubs.api_entreprise.is_some()),
        (
            PartyId::API_PARTICULIER,
            files.hubs.api_particulier.is_some(),
        ),
    ];
    plan.extend(
        configured
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(hub, _)| (hub.clone(), config.ports.of(&hub))),
    );
    if let Some(idc) = &files.identity {
        plan.extend(
            idc.identity_providers
                .iter()
                .map(|e| (PartyId::configured(&e.id), e.port)),
        );
        plan.extend(idc.brokers.keys().map(|id| {
            let id = PartyId::configured(id);
            let port = config.ports.of(&id);
            (id, port)
        }));
    }
    let configured = [
        (PartyId::SP_CRECHE, files.sps.creche.is_some()),
        (PartyId::SP_MARCHE, files.sps.marche.is_some()),
    ];
    plan.extend(
        configured
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(sp, _)| (sp.clone(), config.ports.of(&sp))),
    );
    plan
}

/// Binds the planned parties that run here, and gives every party's URL. Bound first: parties
/// name each other's URLs (redirect URIs, issuers), and a free port is only known once bound.
/// Parties running elsewhere keep their configured address.
pub(super) async fn bind_plan(
    config: &PlatformConfig,
    plan: &[(PartyId, u16)],
    only: Option<&str>,
) -> Result<(HashMap<String, TcpListener>, HashMap<String, String>), StartError> {
    let mut listeners = HashMap::new();
    let mut urls = HashMap::new();
    for (id, port) in plan {
        let id = id.to_string();
        if let Some(url) = config.external.get(&id) {
            urls.insert(id, url.trim_end_matches('/').to_string());
        } else if only.is_none_or(|o| o == id) {
            let free = config.free_ports && !config.ports.pinned(&PartyId::configured(&id));
            let listener = bind(&config.host, if free { 0 } else { *port })
                .await
                .map_err(StartError::Io)?;
            let port = listener.local_addr().map_err(StartError::Io)?.port();
            urls.insert(
                id.clone(),
                format!("http://{}:{port}", host_of(config, &id)),
            );
            listeners.insert(id, listener);
        } else {
            urls.insert(
                id.clone(),
                format!("http://{}:{port}", host_of(config, &id)),
            );
        }
    }
    // Parties that do not run here (not configured, or not built yet) are reached at their
    // configured address.
    for p in party::REGISTRY {
        let id = p.id.to_string();
        let url = format!("http://{}:{}", host_of(config, &id), config.ports.of(&p.id));
        urls.entry(id).or_insert(url);
    }
    Ok((listeners, urls))
}

/// The host `id` is reached at: its `[hosts]` entry (parties split over hosts), else the
/// host they all listen on.
fn host_of<'a>(config: &'a PlatformConfig, id: &str) -> &'a str {
    config
        .hosts
        .get(id)
        .map(String::as_str)
        .unwrap_or_else(|| advertised(&config.host))
}

/// The host the parties' URLs name: listening on every interface (`0.0.0.0` in a container
/// whose ports are published), they name loopback, where the host and the container's other
/// parties reach them.
fn advertised(host: &str) -> &str {
    match host {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        h => h,
    }
}

/// Every party's application, each knowing the others' URLs.
pub(super) fn apps(
    config: &PlatformConfig,
    files: &Files,
    population: &Arc<Population>,
    urls: &HashMap<String, String>,
) -> Result<Vec<PartyApp>, StartError> {
    let identity = files.identity.as_ref();
    let checktoken = |party: &PartyId| match identity {
        Some(idc) => idc
            .checktoken_access(party, urls)
            .map_err(StartError::Config),
        None => Ok(None),
    };
    let dgfip_fc = checktoken(&PartyId::DGFIP)?.map(providers::dgfip::FranceConnectLink::new);
    let mut apps = providers::all(population, &config.dgfip.clients, dgfip_fc);
    if let Some(idc) = identity {
        for settings in idc.idp_settings(urls).map_err(StartError::Config)? {
            apps.push(idp::app(population.clone(), settings));
        }
        for id in idc.brokers.keys() {
            let settings = idc.broker_settings(id, urls).map_err(StartError::Config)?;
            apps.push(broker::app(population.clone(), settings));
        }
    }
    if let Some(settings) = &files.hubs.api_entreprise {
        apps.push(entreprise::app(population.clone(), settings, urls.clone()));
    }
    if let Some(settings) = &files.hubs.api_particulier {
        let fc = checktoken(&PartyId::API_PARTICULIER)?
            .map(crate::identity::checktoken_client::FranceConnectLink::new);
        apps.push(particulier::app(
            population.clone(),
            settings,
            urls.clone(),
            fc,
        ));
    }
    apps.extend(service_providers(
        &files.sps,
        config,
        &files.hubs,
        population,
        urls,
    )?);
    Ok(apps)
}

/// The API catalogue: `/` for people, `/catalog` for programs.
pub(super) async fn serve_catalog(
    config: &PlatformConfig,
    parties: &[RunningParty],
    population: &Population,
    shutdown: &Shutdown,
) -> Result<(SocketAddr, JoinHandle<()>), StartError> {
    let port = if config.free_ports {
        0
    } else {
        config.catalog_port
    };
    let listener = bind(&config.host, port).await.map_err(StartError::Io)?;
    let addr = listener.local_addr().map_err(StartError::Io)?;
    let entries = Arc::new(catalog_entries(parties));
    let html = Arc::new(catalog_html(parties, population));
    let not_found = json!({"error": "Not Found", "detail": "the catalogue serves /, /catalog and /_control/clock"});
    let router = Router::new()
        .route(
            "/catalog",
            get(
                move || async move { json_response(StatusCode::OK, &json!({"parties": *entries})) },
            ),
        )
        .route("/", get(move || async move { Html((*html).clone()) }))
        .merge(super::catalog::clock_routes(parties))
        .fallback(move || async move { json_response(StatusCode::NOT_FOUND, &not_found) });
    let stop = shutdown.wait();
    let too_large = json_response(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        &json!({"error": "Request Header Fields Too Large", "detail": "the request's head is too large"}),
    );
    let task = tokio::spawn(crate::http::server::serve(
        listener, router, too_large, stop,
    ));
    Ok((addr, task))
}
