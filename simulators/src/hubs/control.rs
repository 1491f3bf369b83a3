//! The hubs' control API: tokens (`/_control/tokens`) and the hub journal (`/_control/hub-journal`).

use std::net::IpAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::tokens::TokenRecord;
use super::{Hub, HubEntry};
use crate::http::json_response;
use crate::population::ids;

/// Body of `POST /_control/tokens`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    scopes: Vec<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    siret: Option<String>,
    /// RFC 3339; default: 18 months from now.
    #[serde(default)]
    expires: Option<DateTime<Utc>>,
    #[serde(default)]
    blacklisted: bool,
    #[serde(default)]
    allowed_ips: Vec<IpAddr>,
    #[serde(default)]
    rate_limit_per_minute: Option<u32>,
}

/// The hub's control routes: the token registry (`GET`, `POST`, `DELETE /_control/tokens/{jti}`)
/// and the hub journal (`GET /_control/hub-journal`).
pub fn control(hub: Hub) -> Router {
    Router::new()
        .route("/_control/tokens", get(list_tokens).post(create_token))
        .route(
            "/_control/tokens/{jti}",
            delete(delete_token).put(replace_token),
        )
        .route("/_control/hub-journal", get(hub_journal))
        .with_state(hub)
}

async fn list_tokens(State(h): State<Hub>) -> Response {
    json_response(StatusCode::OK, &json!({"tokens": h.registry.list()}))
}

fn control_error(detail: String) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": "Bad Request", "detail": detail}),
    )
}

async fn create_token(State(h): State<Hub>, body: Bytes) -> Response {
    let t: NewToken = match serde_json::from_slice(&body) {
        Ok(t) => t,
        Err(e) => {
            return control_error(format!(
                "expected {{\"scopes\": [...], \"subject\"?, \"siret\"?, \"expires\"?, ...}}: {e}"
            ));
        }
    };
    if let Some(s) = t.siret.as_ref().filter(|s| !ids::is_valid_siret(s)) {
        return control_error(format!("siret {s:?} is not a valid SIRET"));
    }
    let now = h.core.clock.now();
    let expires = t
        .expires
        .unwrap_or_else(|| now + chrono::Duration::days(548));
    let (mut record, _) = h
        .registry
        .issue(t.scopes, &t.subject, t.siret, expires, now);
    record.blacklisted = t.blacklisted;
    record.allowed_ips = t.allowed_ips;
    record.rate_limit_per_minute = t.rate_limit_per_minute;
    h.registry.insert(record.clone());
    let jwt = h.registry.jwt(&record, now);
    json_response(
        StatusCode::CREATED,
        &json!({"token": jwt, "record": record}),
    )
}

async fn replace_token(State(h): State<Hub>, Path(jti): Path<String>, body: Bytes) -> Response {
    match serde_json::from_slice::<TokenRecord>(&body) {
        Ok(r) if r.jti == jti => {
            h.registry.insert(r.clone());
            json_response(
                StatusCode::OK,
                &json!({"record": r, "token": h.registry.jwt(&r, h.core.clock.now())}),
            )
        }
        Ok(_) => control_error("the body's jti must be the path's".into()),
        Err(e) => control_error(format!("expected a token record: {e}")),
    }
}

async fn delete_token(State(h): State<Hub>, Path(jti): Path<String>) -> Response {
    if h.registry.remove(&jti) {
        json_response(StatusCode::OK, &json!({"deleted": jti}))
    } else {
        json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": "Not Found", "detail": format!("no token {jti}")}),
        )
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct JournalFilter {
    jti: Option<String>,
    recipient: Option<String>,
    scenario: Option<String>,
    /// Entries after this sequence number only.
    since: Option<u64>,
    /// At most this many entries (the oldest first); `limit=0` gives only `last_seq`.
    limit: Option<usize>,
}

async fn hub_journal(
    State(h): State<Hub>,
    q: Result<Query<JournalFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let f = match q {
        Ok(Query(f)) => f,
        Err(e) => return control_error(format!("bad journal query: {e}")),
    };
    let entries: Vec<HubEntry> = h.journal.query(&super::journal::HubQuery {
        since: f.since,
        limit: f.limit,
        jti: f.jti,
        recipient: f.recipient,
        scenario: f.scenario,
    });
    json_response(
        StatusCode::OK,
        &json!({"party": h.core.id, "last_seq": h.journal.last_seq(), "entries": entries}),
    )
}
