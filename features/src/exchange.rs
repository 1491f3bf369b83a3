//! Every HTTP exchange a scenario makes, timed and kept as evidence for the reports, with
//! secrets redacted before anything is stored.

use std::time::Instant;

use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::Value;

/// Bodies are kept up to this many characters in the evidence.
const BODY_EVIDENCE: usize = 4_000;

/// One request and its answer, as evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Exchange {
    /// The party it went to (`api-entreprise`…), or `?` when the URL is nobody's.
    pub party: String,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    /// 0 when no answer came.
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
    pub duration_ms: f64,
    /// Why no answer came.
    pub error: Option<String>,
}

/// An answer as the steps read it.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    /// The body as JSON (`Null` when it is not JSON).
    pub json: Value,
    pub url: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    /// A short description for failure messages.
    pub fn describe(&self) -> String {
        // Failure messages reach the reports too: the same redaction as the evidence.
        let body = redact_body(&self.text());
        let cut: String = body.chars().take(400).collect();
        format!("{} from {}: {cut}", self.status, redact_url(&self.url))
    }
}

const SECRET_FIELDS: &[&str] = &[
    "client_secret",
    "password",
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "client_assertion",
    "code",
    "id_token_hint",
];

/// Redacts a secret, keeping a short prefix so evidence stays recognisable.
fn redacted(v: &str) -> String {
    // At most a third of it, so a short secret (a password) shows nothing.
    let keep: String = v.chars().take((v.chars().count() / 3).min(6)).collect();
    format!("{keep}…[redacted]")
}

fn redact_header(name: &str, value: &str) -> String {
    let n = name.to_ascii_lowercase();
    if n == "authorization" {
        match value.split_once(' ') {
            Some((scheme, v)) => format!("{scheme} {}", redacted(v)),
            None => redacted(value),
        }
    } else if n == "cookie" || n == "set-cookie" || n == "x-franceconnect-oauth" {
        redacted(value)
    } else {
        value.to_string()
    }
}

fn redact_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if SECRET_FIELDS.contains(&k.as_str()) {
                    if let Value::String(s) = x {
                        *s = redacted(s);
                    }
                } else {
                    redact_json(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// Redacts secrets in a body: JSON members, form fields and query parameters by name.
pub fn redact_body(body: &str) -> String {
    if is_compact_jose(body.trim()) {
        // A signed or encrypted token as the whole body (userinfo, checktoken's answer).
        return redacted(body.trim());
    }
    if let Ok(mut v) = serde_json::from_str::<Value>(body) {
        redact_json(&mut v);
        return serde_json::to_string_pretty(&v).unwrap_or_default();
    }
    redact_pairs(body)
}

/// A compact JWS (three parts) or JWE (five), base64url between the dots.
fn is_compact_jose(s: &str) -> bool {
    let parts = s.split('.').count();
    s.starts_with("eyJ")
        && (parts == 3 || parts == 5)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Redacts `a=b&c=d` pairs (forms, query strings); anything else is kept as is.
fn redact_pairs(s: &str) -> String {
    if !s.contains('=') || s.contains(['<', '{', ' ', '\n']) {
        return s.to_string();
    }
    s.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if SECRET_FIELDS.contains(&k) => format!("{k}={}", redacted(v)),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Redacts a URL's query string.
pub fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, q)) => format!("{base}?{}", redact_pairs(q)),
        None => url.to_string(),
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= BODY_EVIDENCE {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(BODY_EVIDENCE).collect();
        c.push_str("\n… (cut)");
        c
    }
}

/// Sends a request, times it, and returns the answer and its (redacted) evidence.
pub async fn send(
    party: &str,
    request: reqwest::RequestBuilder,
) -> (Result<Answer, String>, Exchange) {
    let request = match request.build() {
        Ok(r) => r,
        Err(e) => {
            let ex = Exchange {
                party: party.into(),
                method: "?".into(),
                url: "?".into(),
                request_headers: vec![],
                request_body: String::new(),
                status: 0,
                response_headers: vec![],
                response_body: String::new(),
                duration_ms: 0.0,
                error: Some(e.to_string()),
            };
            return (Err(format!("the request could not be built: {e}")), ex);
        }
    };
    let mut ex = Exchange {
        party: party.into(),
        method: request.method().to_string(),
        url: redact_url(request.url().as_str()),
        request_headers: request
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    redact_header(k.as_str(), v.to_str().unwrap_or("")),
                )
            })
            .collect(),
        request_body: request
            .body()
            .and_then(|b| b.as_bytes())
            .map(|b| cut(&redact_body(&String::from_utf8_lossy(b))))
            .unwrap_or_default(),
        status: 0,
        response_headers: vec![],
        response_body: String::new(),
        duration_ms: 0.0,
        error: None,
    };
    let url = request.url().to_string();
    let started = Instant::now();
    let result = CLIENT.execute(request).await;
    let answer = match result {
        Ok(r) => {
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            match r.bytes().await {
                Ok(b) => Ok(Answer {
                    status,
                    json: serde_json::from_slice(&b).unwrap_or(Value::Null),
                    headers,
                    bytes: b.to_vec(),
                    url,
                }),
                Err(e) => Err(format!("{url}: the answer's body broke off: {e}")),
            }
        }
        Err(e) => Err(if e.is_timeout() {
            format!("{url}: no answer within {} s", TIMEOUT.as_secs())
        } else if e.is_connect() {
            format!(
                "{url}: nothing answers there (connection refused): is the party running, and is its base_url right?"
            )
        } else {
            format!("{url}: {e}")
        }),
    };
    ex.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &answer {
        Ok(a) => {
            ex.status = a.status;
            ex.response_headers = a
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        redact_header(k.as_str(), v.to_str().unwrap_or("")),
                    )
                })
                .collect();
            let ct = a.header("content-type").unwrap_or("");
            ex.response_body = if ct.contains("pdf") {
                format!("({} bytes of PDF)", a.bytes.len())
            } else {
                cut(&redact_body(&a.text()))
            };
        }
        Err(e) => ex.error = Some(e.clone()),
    }
    (answer, ex)
}

/// How long a step waits for any answer.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// One client for every scenario (connection reuse; no redirects followed: the virtual citizen
/// follows them itself, hop by hop, so each hop is evidence).
static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent("etat-plateforme-conformance")
        .build()
        .expect("an HTTP client with default TLS-free settings builds")
});

/// A request builder on the shared client.
pub fn client() -> &'static reqwest::Client {
    &CLIENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_reach_the_evidence() {
        let form = redact_body(
            "grant_type=authorization_code&code=abcdef123456&client_secret=s3cr3t-value",
        );
        assert!(
            !form.contains("s3cr3t-value") && !form.contains("abcdef123456"),
            "{form}"
        );
        assert!(form.contains("grant_type=authorization_code"));
        let json = redact_body(r#"{"access_token":"tok-very-secret","scope":"openid"}"#);
        assert!(
            !json.contains("tok-very-secret") && json.contains("openid"),
            "{json}"
        );
        assert_eq!(
            redact_header("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.x.y"),
            "Bearer eyJhbG…[redacted]"
        );
        assert!(redact_url("http://h/cb?code=abcdefghij&state=s").ends_with("state=s"));
        assert!(!redact_url("http://h/cb?code=abcdefghij&state=s").contains("ghij"));
    }
}
