//! The back channel of service providers: `/token`, `/userinfo`, `/token/revocation`.

use crate::defects::Defect;
use crate::identity::config::AuthMethod;
use crate::jose::keys::SigningKey;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{
    ACCESS_TOKEN_LIFETIME, AccessToken, Authenticated, Broker, ID_TOKEN_LIFETIME, ServiceProvider,
    back_channel_error, lock,
};
use crate::http::query_pairs;
use crate::http::random_token;
use crate::http::{Caller, json_response, with_subject};
use crate::identity::pairwise_sub;
use crate::jose::{jwe, jws};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn form(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn field<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn invalid_client(detail: &str) -> Response {
    back_channel_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
        detail,
        "Y0434A7B",
    )
}

/// RFC 6749 §5.2: a client that tried `Authorization` gets a 401 with `WWW-Authenticate`
/// naming the scheme it used.
fn invalid_client_basic() -> Response {
    let mut r = invalid_client("client_secret_basic is not supported");
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"FranceConnect\", error=\"invalid_client\""),
    );
    r
}

/// Authenticates a service provider by `client_secret_post` or `private_key_jwt`.
fn authenticate<'a>(
    b: &'a Broker,
    headers: &HeaderMap,
    f: &[(String, String)],
) -> Result<&'a ServiceProvider, Response> {
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(invalid_client_basic());
    }
    if let Some(assertion) = field(f, "client_assertion") {
        if field(f, "client_assertion_type") != Some(JWT_BEARER) {
            return Err(invalid_client("unsupported client_assertion_type"));
        }
        let unverified = jws::parts(assertion).map_err(|e| invalid_client(&e.to_string()))?;
        let claims: Value = serde_json::from_slice(&unverified.payload)
            .map_err(|_| invalid_client("assertion payload is not JSON"))?;
        let client_id = claims["iss"].as_str().unwrap_or("");
        let sp =
            b.s.sp(client_id)
                .filter(|sp| sp.auth_method == AuthMethod::PrivateKeyJwt)
                .ok_or_else(|| invalid_client("unknown client or not a private_key_jwt client"))?;
        let algs: &[&str] = if b.s.encrypt {
            &["ES256"]
        } else {
            &["ES256", "RS256"]
        };
        jws::verify(assertion, &sp.client_jwks, algs)
            .map_err(|e| invalid_client(&format!("invalid assertion: {e}")))?;
        let token_endpoint = format!("{}/token", b.s.issuer());
        let aud_ok = match &claims["aud"] {
            Value::String(a) => *a == token_endpoint || *a == b.s.issuer(),
            Value::Array(list) => list
                .iter()
                .any(|a| *a == token_endpoint.as_str() || *a == b.s.issuer().as_str()),
            _ => false,
        };
        let now = b.core.clock.now().timestamp();
        if claims["sub"] != client_id
            || !aud_ok
            || claims["exp"].as_i64().unwrap_or(0) <= now
            || claims["jti"].as_str().is_none_or(str::is_empty)
        {
            return Err(invalid_client(
                "assertion must have iss = sub = client_id, aud = token endpoint, a future exp and a jti",
            ));
        }
        if field(f, "client_id").is_some_and(|c| c != client_id) {
            return Err(invalid_client("client_id does not match the assertion"));
        }
        return Ok(sp);
    }
    let (Some(id), Some(secret)) = (field(f, "client_id"), field(f, "client_secret")) else {
        return Err(invalid_client("no client authentication provided"));
    };
    b.s.sp(id)
        .filter(|sp| sp.client_secret == secret && sp.auth_method == AuthMethod::ClientSecretPost)
        .ok_or_else(|| invalid_client("invalid secret provided"))
}

/// `POST /token`: `authorization_code` only.
///
/// Long: the token endpoint's checks in RFC 6749 §4.1.3's order (either client authentication,
/// code, redirect URI, expiry), each with its own error.
pub(super) async fn token(State(b): State<Broker>, headers: HeaderMap, body: Bytes) -> Response {
    let f = form(&body);
    let sp = match authenticate(&b, &headers, &f) {
        Ok(sp) => sp.clone(),
        Err(e) => return e,
    };
    let caller = |mut r: Response| {
        r.extensions_mut().insert(Caller(sp.client_id.clone()));
        r
    };
    if field(&f, "grant_type") != Some("authorization_code") {
        return caller(back_channel_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unsupported grant_type requested",
            "only authorization_code",
            "Y04A1C2E",
        ));
    }
    let Some(code) = field(&f, "code").filter(|c| !c.is_empty()) else {
        return caller(back_channel_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing required parameter 'code'",
            "undefined",
            "Y048017B",
        ));
    };
    let grant = if b.core.defects.has(Defect::BrokerAcceptsReusedCode) {
        lock(&b.codes).get(code).cloned()
    } else {
        lock(&b.codes).remove(code)
    };
    let now = b.core.clock.now();
    let Some(grant) = grant else {
        // A replayed code: what it already gave is revoked (RFC 6749 §4.1.2).
        if lock(&b.used_codes).contains_key(code) {
            for t in lock(&b.tokens).values_mut().filter(|t| t.code == code) {
                t.revoked = true;
            }
        }
        return caller(back_channel_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "grant request is invalid",
            "authorization code not found",
            "Y049E20B",
        ));
    };
    let lifetime = if b.core.defects.has(Defect::BrokerAccessTokenOutlivesAMinute) {
        3600
    } else {
        ACCESS_TOKEN_LIFETIME
    };
    // Remembered as long as what the code gives lives: a replay revokes it.
    let (until, _) = b.for_seconds(lifetime);
    lock(&b.used_codes).insert(code.to_string(), (), until, now);
    let expired = grant.expires <= now && !b.core.defects.has(Defect::BrokerAcceptsExpiredCode);
    let other_client =
        grant.client_id != sp.client_id && !b.core.defects.has(Defect::BrokerGivesCodeToAnyClient);
    if expired || other_client {
        return caller(back_channel_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "grant request is invalid",
            "authorization code expired or not issued to this client",
            "Y049E20B",
        ));
    }
    if field(&f, "redirect_uri") != Some(grant.redirect_uri.as_str())
        && !b.core.defects.has(Defect::BrokerIgnoresRedirectUriMismatch)
    {
        return caller(back_channel_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "grant request is invalid",
            "redirect_uri mismatch",
            "Y049E20B",
        ));
    }
    let a = &grant.authenticated;
    let sub = sub_for(&b, &sp, &a.identity);
    let iat = now.timestamp();
    let acr = if b.core.defects.has(Defect::BrokerLowersAcr) && a.acr == "eidas3" {
        "eidas2"
    } else {
        a.acr.as_str()
    };
    let mut claims = json!({
        "sub": sub, "acr": acr, "auth_time": a.auth_time, "nonce": grant.nonce,
        "aud": sp.client_id, "exp": iat + ID_TOKEN_LIFETIME, "iat": iat, "iss": b.s.issuer(),
    });
    if grant.want_amr {
        claims["amr"] = json!(a.amr);
    }
    let id_token = match seal(&b, &sp, &sp.id_token_alg, &claims) {
        Ok(t) => t,
        Err(e) => {
            return caller(back_channel_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "cannot sign the ID token",
                &e,
                "Y000500",
            ));
        }
    };
    if b.s.encrypt {
        lock(&b.issued_jwe).record(&id_token, &sp.client_id);
    }
    let access_token = random_token();
    let token = AccessToken {
        client_id: sp.client_id.clone(),
        scopes: grant.scopes.clone(),
        authenticated: a.clone(),
        jti: random_token(),
        iat,
        exp: iat + lifetime,
        revoked: false,
        code: code.to_string(),
    };
    lock(&b.tokens).insert(access_token.clone(), token, until, now);
    let mut response = json_response(
        StatusCode::OK,
        &json!({"access_token": access_token, "expires_in": ACCESS_TOKEN_LIFETIME, "id_token": id_token, "scope": grant.scopes.join(" "), "token_type": "Bearer"}),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    caller(with_subject(response, sub))
}

/// The service provider's pairwise `sub` (one per entity id).
fn sub_for(b: &Broker, sp: &ServiceProvider, identity: &crate::identity::Identity) -> String {
    let entity = if b.core.defects.has(Defect::BrokerSubNotPairwise) {
        ""
    } else {
        sp.entity_id.as_str()
    };
    pairwise_sub(entity, identity, &b.s.sub_secret)
}

/// Signs claims with the broker's key for `alg`; on FranceConnect+ also encrypts them to the
/// service provider (JWE header: `alg`, `enc`, `cty`, `kid`, `iss`, `aud`).
fn seal(b: &Broker, sp: &ServiceProvider, alg: &str, claims: &Value) -> Result<String, String> {
    let alg = if b.s.encrypt { "ES256" } else { alg };
    let key = if b.core.defects.has(Defect::BrokerSignsWithUnpublishedKey) {
        SigningKey::generate_es256("unpublished")
    } else {
        b.signing_key(alg)
            .ok_or_else(|| format!("the broker has no {alg} key"))?
    };
    let signed = jws::sign_json(&key, claims, None);
    if !b.s.encrypt {
        return Ok(signed);
    }
    let (Some(enc_alg), Some(jwk)) = (&sp.encryption_alg, sp.encryption_jwks.first()) else {
        return Err("the client has no encryption key".into());
    };
    let mut extra = Map::new();
    extra.insert("cty".into(), json!("JWT"));
    extra.insert("iss".into(), json!(b.s.issuer()));
    extra.insert("aud".into(), json!(sp.client_id));
    jwe::encrypt(signed.as_bytes(), jwk, enc_alg, Some(&extra)).map_err(|e| e.to_string())
}

/// The token a request carries (`Authorization: Bearer` or `?access_token=`), if valid.
pub(crate) fn bearer(headers: &HeaderMap, raw_query: Option<&str>) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .or_else(|| {
            query_pairs(raw_query)
                .into_iter()
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v)
        })
}

/// Claims of the scopes granted, from the identity (normalised birth date).
pub(crate) fn identity_claims(
    b: &Broker,
    a: &Authenticated,
    scopes: &[String],
) -> Map<String, Value> {
    let id = &a.identity;
    let given_array: Vec<&str> = id.given_name.split(' ').filter(|s| !s.is_empty()).collect();
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    for scope in scopes {
        let names = crate::identity::claims_of_scope(scope);
        for name in names {
            match *name {
                "given_name" => {
                    put("given_name", json!(id.given_name));
                    if !b.s.encrypt {
                        put("given_name_array", json!(given_array));
                    }
                }
                "family_name" => put("family_name", json!(id.family_name)),
                "birthdate" => put("birthdate", json!(id.normalized_birthdate())),
                "gender" => put("gender", json!(id.gender)),
                "birthplace" => put("birthplace", json!(id.birthplace)),
                "birthcountry" => put("birthcountry", json!(id.birthcountry)),
                "email" => put("email", json!(id.email)),
                "preferred_username" => put(
                    "preferred_username",
                    json!(id.preferred_username.clone().unwrap_or_default()),
                ),
                "idp_birthdate" if !b.s.encrypt => put("idp_birthdate", json!(a.idp_birthdate)),
                "idp_id" if !b.s.encrypt => put("idp_id", json!(a.idp)),
                // The RNIPP's values: the population is the civil register here.
                "rnipp_given_name" if b.s.encrypt => put("rnipp_given_name", json!(id.given_name)),
                "rnipp_given_name_array" if b.s.encrypt => {
                    put("rnipp_given_name_array", json!(given_array))
                }
                "rnipp_family_name" if b.s.encrypt => {
                    put("rnipp_family_name", json!(id.family_name))
                }
                "rnipp_gender" if b.s.encrypt => put("rnipp_gender", json!(id.gender)),
                "rnipp_birthdate" if b.s.encrypt => {
                    put("rnipp_birthdate", json!(id.normalized_birthdate()))
                }
                "rnipp_birthplace" if b.s.encrypt => put("rnipp_birthplace", json!(id.birthplace)),
                "rnipp_birthcountry" if b.s.encrypt => {
                    put("rnipp_birthcountry", json!(id.birthcountry))
                }
                _ => {}
            }
        }
    }
    out
}

fn token_error(status: StatusCode, description: &str, detail: &str, code: &str) -> Response {
    let mut r = back_channel_error(status, "invalid_token", description, detail, code);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    r
}

/// `POST /userinfo` (OIDC Core §5.3.1): the same answer; the token in `Authorization` or as
/// the form field `access_token` (RFC 6750 §2.2).
pub(super) async fn userinfo_post(
    state: State<Broker>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = std::str::from_utf8(&body).ok().map(str::to_string);
    userinfo(state, headers, RawQuery(form)).await
}

/// `GET /userinfo`: the granted claims as a signed JWT (JWE on FranceConnect+).
pub(super) async fn userinfo(
    State(b): State<Broker>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(token) = bearer(&headers, raw.as_deref()) else {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "no access token provided",
            "no access token provided",
            "Y04146A2",
        );
    };
    let now = b.core.clock.now().timestamp();
    let Some(t) = lock(&b.tokens)
        .get(&token)
        .cloned()
        .filter(|t| !t.revoked && t.exp > now)
    else {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid token provided",
            "access token not found",
            "Y040001",
        );
    };
    let Some(sp) = b.s.sp(&t.client_id).cloned() else {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid token provided",
            "client no longer registered",
            "Y040001",
        );
    };
    let sub = sub_for(&b, &sp, &t.authenticated.identity);
    let mut claims = identity_claims(&b, &t.authenticated, &t.scopes);
    claims.insert("sub".into(), json!(sub));
    claims.insert("aud".into(), json!(sp.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + ID_TOKEN_LIFETIME));
    claims.insert("iss".into(), json!(b.s.issuer()));
    match seal(&b, &sp, &sp.userinfo_alg, &Value::Object(claims)) {
        Ok(jwt) => {
            let mut r = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/jwt")],
                jwt,
            )
                .into_response();
            r.extensions_mut().insert(Caller(sp.client_id.clone()));
            with_subject(r, sub)
        }
        Err(e) => back_channel_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "cannot sign userinfo",
            &e,
            "Y000500",
        ),
    }
}

/// `POST /token/revocation` (RFC 7009): `token`, `client_id`, `client_secret`.
pub(super) async fn revocation(
    State(b): State<Broker>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let sp = match authenticate(&b, &headers, &f) {
        Ok(sp) => sp.clone(),
        Err(e) => return e,
    };
    let Some(token) = field(&f, "token").filter(|t| t.len() >= 43) else {
        return back_channel_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing or invalid parameter 'token'",
            "token",
            "Y030007",
        );
    };
    // Unknown tokens and other clients' tokens: success without effect, as RFC 7009 says.
    if let Some(t) = lock(&b.tokens)
        .get_mut(token)
        .filter(|t| t.client_id == sp.client_id)
    {
        t.revoked = true;
    }
    let mut r = json_response(StatusCode::OK, &json!({}));
    r.extensions_mut().insert(Caller(sp.client_id));
    r
}
