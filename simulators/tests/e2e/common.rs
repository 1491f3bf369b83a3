//! A running platform and a small HTTP client for the tests.

use reqwest::header::HeaderMap;
use serde_json::Value;
use simulators::platform::{Platform, PlatformConfig};

pub struct Bench {
    pub platform: Platform,
    pub http: reqwest::Client,
}

/// An answer: status, headers, body as JSON (Null when not JSON) and raw bytes.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Bench {
    pub async fn start() -> Bench {
        Bench::start_with(PlatformConfig::ephemeral()).await
    }

    pub async fn start_with(config: PlatformConfig) -> Bench {
        let platform = Platform::start(&config, None)
            .await
            .expect("platform starts");
        let http = reqwest::Client::builder()
            .user_agent("e2e-tests")
            .build()
            .expect("client");
        Bench { platform, http }
    }

    pub fn url(&self, party: &str, path: &str) -> String {
        format!(
            "{}{path}",
            self.platform.party(party).expect("party runs").base_url
        )
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request goes through");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body").to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
            bytes,
        }
    }

    pub async fn get(&self, party: &str, path: &str) -> Answer {
        self.send(self.http.get(self.url(party, path))).await
    }

    pub async fn put_json(&self, party: &str, path: &str, body: Value) -> Answer {
        self.send(self.http.put(self.url(party, path)).json(&body))
            .await
    }

    pub async fn post(&self, party: &str, path: &str) -> Answer {
        self.send(self.http.post(self.url(party, path))).await
    }

    /// A SIREN of a company persona.
    pub fn siren(&self, persona: &str) -> String {
        self.platform
            .population
            .company_persona(persona)
            .expect("persona")
            .siren
            .clone()
    }

    /// The head-office SIRET of a company persona.
    pub fn siret(&self, persona: &str) -> String {
        self.platform
            .population
            .company_persona(persona)
            .expect("persona")
            .head_office()
            .siret
            .clone()
    }

    /// A gateway token of the DGFiP for a configured client.
    pub async fn dgfip_token(&self, client: &str) -> String {
        let secret = format!("{client}-secret-local-only");
        let a = self
            .send(self.http.post(self.url("dgfip", "/token")).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", &secret),
            ]))
            .await;
        assert_eq!(a.status, 200, "{}", a.json);
        a.json["access_token"].as_str().expect("token").to_string()
    }

    pub async fn stop(self) {
        self.platform.shutdown().await;
    }
}

/// Any valid SIREN absent from the population.
pub fn unknown_siren(bench: &Bench) -> String {
    (0u32..)
        .map(simulators::population::ids::siren_from_body)
        .find(|s| bench.platform.population.company_by_siren(s).is_none() && !s.starts_with("356"))
        .expect("some SIREN is free")
}

/// Signs the nursery's persona (`famille-eaje-aeeh`) in at FranceConnect with the nursery's
/// registration, asking for `scope`; the access token.
pub async fn nursery_franceconnect_token(b: &Bench, scope: &str) -> String {
    let issuer = format!("{}/api/v2", b.platform.party("fc").unwrap().base_url);
    let client = (
        "c4ec4e0000000000000000000000000000000000000000000000000000000001",
        "sp-creche-secret-0123456789-local-only",
    );
    let callback = format!(
        "{}/oidc-callback",
        b.platform.party("sp-creche").unwrap().base_url
    );
    let params = [
        ("response_type", "code"),
        ("client_id", client.0),
        ("redirect_uri", callback.as_str()),
        ("scope", scope),
        ("state", "state-0123456789abcdefghij"),
        ("nonce", "nonce-0123456789abcdefghijkl"),
        ("acr_values", "eidas1"),
    ];
    let code = crate::citizen::Citizen::new(&callback)
        .sign_in(
            &format!(
                "{issuer}/authorize?{}",
                serde_urlencoded::to_string(params).unwrap()
            ),
            "idp-ameli",
            "famille-eaje-aeeh",
            None,
        )
        .await
        .param("code")
        .unwrap();
    let t = b
        .send(b.http.post(format!("{issuer}/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", callback.as_str()),
            ("client_id", client.0),
            ("client_secret", client.1),
        ]))
        .await;
    t.json["access_token"].as_str().unwrap().to_string()
}

/// A token of `hub` with these scopes, minted through its control API (rate limit lifted).
pub async fn hub_token(b: &Bench, hub: &str, scopes: &[&str]) -> String {
    let a = b
        .send(
            b.http
                .post(b.url(hub, "/_control/tokens"))
                .json(&serde_json::json!({"scopes": scopes, "rate_limit_per_minute": 100_000})),
        )
        .await;
    a.json["token"].as_str().unwrap().to_string()
}
