//! The demo service providers' apps, with the hub tokens the platform hands them.

use super::*;
use crate::party::PartyId;

/// The JWT a service provider presents to a hub: given as is, or signed here for a token the
/// simulated hub has registered (as the hub's administrators would hand it out).
pub(super) fn hub_jwt(
    hubs: &HubsConfig,
    hub: &str,
    token: &HubToken,
    config: &PlatformConfig,
) -> Result<String, String> {
    if let Some(jwt) = &token.jwt {
        return Ok(jwt.clone());
    }
    // A hub under test issued its own token for the service provider: the runner passes it.
    if let Some(jwt) = config.external_hub_tokens.get(hub) {
        return Ok(jwt.clone());
    }
    let jti = token
        .jti
        .as_deref()
        .ok_or_else(|| format!("{hub}: give the token's jwt or jti"))?;
    if config.external.contains_key(hub) {
        return Err(format!(
            "{hub} runs elsewhere: give the service provider's token as jwt, not jti (with cargo xtask conform: the profile's token.marketplace or token.nursery credential of {hub})"
        ));
    }
    let settings = match hub {
        h if h == PartyId::API_ENTREPRISE.as_str() => hubs.api_entreprise.as_ref(),
        _ => hubs.api_particulier.as_ref(),
    }
    .ok_or_else(|| format!("{hub} is not configured in the hubs' file"))?;
    let record = settings
        .tokens
        .iter()
        .find(|t| t.jti == jti)
        .ok_or_else(|| format!("{hub} has no token {jti:?}"))?;
    let registry = crate::hubs::tokens::TokenRegistry::new(settings.secret.as_bytes());
    // Issued at the platform clock's start, so the JWT is the same on any date when pinned.
    let issued = config
        .clock
        .as_deref()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| crate::http::Clock::default().now());
    Ok(registry.jwt(record, issued))
}

/// The demo service providers' apps.
pub(super) fn service_providers(
    sps: &SpConfig,
    config: &PlatformConfig,
    hubs: &HubsConfig,
    population: &Arc<Population>,
    urls: &HashMap<String, String>,
) -> Result<Vec<crate::http::PartyApp>, StartError> {
    let file = config
        .service_providers
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let fail = |e: String| StartError::Config(FileError::file(&file, e));
    let url = |id: &str| urls.get(id).cloned().unwrap_or_default();
    let mut apps = Vec::new();
    if let Some(c) = &sps.creche {
        apps.push(
            sp::creche::app(
                population.clone(),
                c,
                sp::creche::Resolved {
                    own_url: url(PartyId::SP_CRECHE.as_str()),
                    broker_url: url(&c.france_connect.broker),
                    hub_url: url(PartyId::API_PARTICULIER.as_str()),
                    hub_jwt: hub_jwt(
                        hubs,
                        PartyId::API_PARTICULIER.as_str(),
                        &c.api_particulier,
                        config,
                    )
                    .map_err(fail)?,
                    dgfip_url: url(PartyId::DGFIP.as_str()),
                },
            )
            .map_err(fail)?,
        );
    }
    if let Some(m) = &sps.marche {
        let dir = config
            .service_providers
            .as_ref()
            .and_then(|p| p.parent())
            .unwrap_or(Path::new("."));
        apps.push(
            sp::marche::app(
                population.clone(),
                m,
                sp::marche::Resolved {
                    own_url: url(PartyId::SP_MARCHE.as_str()),
                    broker_url: url(&m.france_connect.broker),
                    hub_url: url(PartyId::API_ENTREPRISE.as_str()),
                    hub_jwt: hub_jwt(
                        hubs,
                        PartyId::API_ENTREPRISE.as_str(),
                        &m.api_entreprise,
                        config,
                    )
                    .map_err(fail)?,
                    // The configured file, else the platform's data directory (`serve`).
                    store: m.store.as_ref().map(|s| dir.join(s)).or_else(|| {
                        let data = config.data_dir.as_ref()?;
                        Some(data.join(format!("{}.sqlite", PartyId::SP_MARCHE.as_str())))
                    }),
                },
            )
            .map_err(fail)?,
        );
    }
    Ok(apps)
}
