//! The hub's side towards the providers: timed HTTP calls recorded in the call, the DGFiP
//! gateway's client-credentials token, documents handed out as expiring URLs, pings.

use std::time::Instant;

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::party::PartyId;

use super::{CachePolicy, Hub, HubCall, Ping, ProviderCall, hub_error, provider_failure};
use crate::http::json_response;
use crate::http::trace::Propagate as _;

/// What a provider answered.
pub enum Upstream {
    /// It answered this status and body.
    Answer(u16, Bytes),
    /// It did not answer in time.
    Timeout,
    /// It could not be reached.
    Unreachable,
}

/// A gateway token and when to renew it.
pub(super) type GatewayToken = (String, DateTime<Utc>);

/// A document handed out as a URL: provider, path, expiry.
pub(super) type HandedDocument = (String, String, DateTime<Utc>);

impl Hub {
    /// Calls a provider (GET), timing it and recording it in `calls`.
    pub async fn upstream(
        &self,
        call: &mut HubCall,
        provider: &str,
        path: &str,
        headers: &[(&str, String)],
    ) -> Upstream {
        let base = self.providers.get(provider).cloned().unwrap_or_default();
        let url = format!("{base}{path}");
        let mut request = self.http.get(&url);
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        let started = Instant::now();
        let result = request.propagate().send().await;
        let broken = if self
            .core
            .defects
            .has(crate::defects::Defect::HubBrokenConnectionAsUnexpected)
        {
            Upstream::Answer(0, Bytes::new())
        } else {
            Upstream::Unreachable
        };
        let outcome = match result {
            Err(e) if e.is_timeout() => Upstream::Timeout,
            Err(_) => broken,
            Ok(r) => {
                let status = r.status().as_u16();
                match r.bytes().await {
                    Ok(body) => Upstream::Answer(status, body),
                    Err(e) if e.is_timeout() => Upstream::Timeout,
                    Err(_) => broken,
                }
            }
        };
        let (status, tag) = match &outcome {
            Upstream::Answer(s, _) => (*s, "ok"),
            Upstream::Timeout => (0, "timeout"),
            Upstream::Unreachable => (0, "unreachable"),
        };
        call.calls.push(ProviderCall {
            provider: provider.to_string(),
            url,
            status,
            outcome: tag.into(),
            duration_us: started.elapsed().as_micros() as u64,
        });
        outcome
    }

    /// A DGFiP gateway token (client credentials), cached until a minute before it expires.
    async fn dgfip_bearer(&self, call: &mut HubCall, refresh: bool) -> Option<String> {
        let now = self.core.clock.now();
        if !refresh {
            if let Some((t, exp)) = self
                .dgfip_token
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                if exp > now {
                    return Some(t);
                }
            }
        }
        let (id, secret) = self.dgfip.clone()?;
        let base = self.providers.get(PartyId::DGFIP.as_str())?.clone();
        let started = Instant::now();
        let answer = self
            .http
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .propagate()
            .send()
            .await;
        let status = answer.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
        let body: Option<Value> = match answer {
            Ok(r) if r.status().is_success() => r.json().await.ok(),
            _ => None,
        };
        call.calls.push(ProviderCall {
            provider: PartyId::DGFIP.to_string(),
            url: format!("{base}/token"),
            status,
            outcome: if status == 0 { "unreachable" } else { "ok" }.into(),
            duration_us: started.elapsed().as_micros() as u64,
        });
        let body = body?;
        let token = body["access_token"].as_str()?.to_string();
        let lifetime = body["expires_in"].as_i64().unwrap_or(3600);
        *self.dgfip_token.lock().unwrap_or_else(|e| e.into_inner()) = Some((
            token.clone(),
            now + chrono::Duration::seconds(lifetime - 60),
        ));
        Some(token)
    }

    /// Calls a DGFiP route with the gateway token and a correlation id; renews the token once
    /// if the gateway refuses it.
    pub async fn dgfip(&self, call: &mut HubCall, path: &str) -> Upstream {
        for refresh in [false, true] {
            let Some(token) = self.dgfip_bearer(call, refresh).await else {
                return Upstream::Unreachable;
            };
            let outcome = self
                .upstream(
                    call,
                    &PartyId::DGFIP,
                    path,
                    &[
                        ("authorization", format!("Bearer {token}")),
                        ("x-correlation-id", crate::http::uuid_like()),
                    ],
                )
                .await;
            if !matches!(outcome, Upstream::Answer(401, _)) {
                return outcome;
            }
        }
        Upstream::Answer(401, Bytes::new())
    }

    /// Hands a provider document out as an expiring URL on the hub.
    pub fn file_url(&self, provider: &str, path: &str, lifetime: i64) -> String {
        let id = crate::http::random_token();
        let expires = self.core.clock.now() + chrono::Duration::seconds(lifetime);
        let document = (provider.to_string(), path.to_string(), expires);
        let now = self.core.clock.now();
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.insert(id.clone(), document, expires, now);
        drop(files);
        format!(
            "{}/files/{id}",
            self.providers
                .get(self.core.id.as_str())
                .cloned()
                .unwrap_or_default()
        )
    }

    /// `GET /files/{id}`: the document, fetched from its provider, while the URL is valid.
    pub async fn file(&self, id: &str) -> Response {
        let entry = self
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        let Some((provider, path, _)) = entry.filter(|(_, _, exp)| *exp > self.core.clock.now())
        else {
            return hub_error(
                "00404",
                "Ce lien de document est inconnu ou expiré",
                None,
                None,
            );
        };
        let mut call = HubCall {
            started: Instant::now(),
            endpoint: "/files/{id}",
            cache: CachePolicy::None,
            caller: None,
            quota: None,
            calls: Vec::new(),
        };
        let outcome = if PartyId::DGFIP == provider.as_str() {
            self.dgfip(&mut call, &path).await
        } else {
            self.upstream(&mut call, &provider, &path, &[]).await
        };
        let response = match outcome {
            Upstream::Answer(200, body) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/pdf")],
                body,
            )
                .into_response(),
            other => provider_failure("00", &provider, &other),
        };
        self.finish(call, "", response)
    }

    /// `GET /ping/{provider}/{source}`: the provider's state, `ok` (200) or `bad_gateway` (502),
    /// with the last time it was ok. Public and not rate limited, as on the real hubs.
    pub async fn ping(&self, pings: &[Ping], provider: &str, source: &str) -> Response {
        let Some((party, _, path)) = pings
            .iter()
            .find(|(p, s, _)| *p == provider && *s == source)
        else {
            return hub_error("00404", "Aucun fournisseur à cette adresse", None, None);
        };
        let mut call = HubCall {
            started: Instant::now(),
            endpoint: "/ping/{provider}/{source}",
            cache: CachePolicy::None,
            caller: None,
            quota: None,
            calls: Vec::new(),
        };
        let outcome = self.upstream(&mut call, party, path, &[]).await;
        let now = self.core.clock.now();
        let key = format!("{provider}/{source}");
        let ok = matches!(outcome, Upstream::Answer(200, _));
        let last_ok = {
            let mut map = self.last_ok.lock().unwrap_or_else(|e| e.into_inner());
            if ok {
                map.insert(key.clone(), now);
            }
            map.get(&key).copied()
        };
        let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let body = json!({"status": if ok { "ok" } else { "bad_gateway" }, "last_update": stamp(now), "last_ok_status": last_ok.map(stamp)});
        let response = json_response(
            if ok {
                StatusCode::OK
            } else {
                StatusCode::BAD_GATEWAY
            },
            &body,
        );
        self.finish(call, "", response)
    }

    /// `GET /pings`: every ping route, as `url_of(provider, source)` under the hub's base URL.
    pub fn pings(&self, pings: &[Ping], url_of: fn(&str, &str) -> String) -> Response {
        let base = self
            .providers
            .get(self.core.id.as_str())
            .cloned()
            .unwrap_or_default();
        let list: Vec<Value> = pings.iter().map(|(p, s, _)| json!({"provider": p, "source": s, "url": format!("{base}{}", url_of(p, s))})).collect();
        json_response(StatusCode::OK, &json!({"pings": list}))
    }
}
