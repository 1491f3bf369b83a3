//! A virtual citizen: an HTTP client with a cookie jar that follows redirects and submits the
//! HTML forms of the broker's and identity provider's pages (identity-provider selection, login,
//! information and consent), so sign-in journeys run headless against any FranceConnect-
//! compatible broker and identity provider. No JavaScript: the pages must work without it, as
//! FranceConnect's do.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::exchange::{self, Answer, Exchange};

/// Where a sign-in stopped.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Back at the service provider's redirect URI (the full URL, with a code or an error).
    Redirected(String),
    /// Stopped on a page (usually an error page): status and HTML.
    Page(u16, String),
}

impl Outcome {
    /// A parameter of the redirect back to the service provider.
    pub fn param(&self, name: &str) -> Option<String> {
        let Outcome::Redirected(url) = self else {
            return None;
        };
        let query = url.split_once(['?', '#']).map(|(_, q)| q).unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
    /// The FranceConnect error code (`Y…`) shown on an error page.
    pub fn error_code(&self) -> Option<String> {
        let Outcome::Page(_, html) = self else {
            return None;
        };
        let start = html.find("id=\"error-code\">")? + 16;
        Some(
            html[start..start + html[start..].find('<')?]
                .trim()
                .to_string(),
        )
    }
    /// For failure messages.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Redirected(u) => format!("redirected to {}", exchange::redact_url(u)),
            Outcome::Page(s, html) => {
                let text: String = html.chars().take(300).collect();
                format!("stopped on a {s} page: {text}")
            }
        }
    }
}

/// The browser: cookies by host, no automatic redirects.
#[derive(Debug, Default)]
pub struct Citizen {
    cookies: Vec<(String, String)>,
    last_url: String,
    /// The scenario id the browser's requests carry (`X-Bench-Scenario`), so the parties'
    /// journals can tell this scenario's calls from others'.
    pub trace: String,
}

fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
        .to_string()
}

fn origin_of(url: &str) -> String {
    let scheme = url.split("://").next().unwrap_or("http");
    format!("{scheme}://{}", host_of(url))
}

/// Who a URL belongs to, for the evidence.
pub type PartyOf<'a> = &'a dyn Fn(&str) -> String;

impl Citizen {
    /// A browser with no cookies whose requests carry the scenario id `trace`.
    pub fn with_trace(trace: String) -> Citizen {
        Citizen {
            trace,
            ..Citizen::default()
        }
    }

    /// The `Cookie` header the citizen's browser sends to `url`.
    pub fn cookie_header(&self, url: &str) -> String {
        let host = host_of(url);
        self.cookies
            .iter()
            .filter(|(h, _)| *h == host)
            .map(|(_, c)| c.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, url: &str, a: &Answer) {
        let host = host_of(url);
        for v in a.headers.get_all(SET_COOKIE) {
            let pair = v
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            let name = pair.split('=').next().unwrap_or("").to_string();
            self.cookies
                .retain(|(h, c)| !(*h == host && c.starts_with(&format!("{name}="))));
            if !pair.ends_with('=') {
                self.cookies.push((host.clone(), pair));
            }
        }
    }

    /// GETs `url` (or POSTs `form` to it) and follows redirects until one goes to `stop_at` (the
    /// service provider) or a page is shown.
    pub async fn go(
        &mut self,
        mut url: String,
        mut form: Option<Vec<(String, String)>>,
        stop_at: &str,
        party_of: PartyOf<'_>,
        evidence: &mut Vec<Exchange>,
    ) -> Result<Outcome, String> {
        for _ in 0..20 {
            if url.starts_with(stop_at) {
                return Ok(Outcome::Redirected(url));
            }
            let cookie = self.cookie_header(&url);
            let mut request = match form.take() {
                Some(f) => exchange::client().post(&url).form(&f),
                None => exchange::client().get(&url),
            };
            if !cookie.is_empty() {
                request = request.header(COOKIE, cookie);
            }
            if !self.trace.is_empty() {
                request = request.header(simulators::http::trace::SCENARIO_HEADER, &self.trace);
            }
            let (answer, ex) = exchange::send(&party_of(&url), request).await;
            evidence.push(ex);
            let answer = answer?;
            self.keep_cookies(&url, &answer);
            if (300..400).contains(&answer.status) {
                let location = answer
                    .header(LOCATION.as_str())
                    .ok_or_else(|| format!("a {} without Location from {url}", answer.status))?
                    .to_string();
                url = if location.starts_with('/') {
                    format!("{}{location}", origin_of(&url))
                } else {
                    location
                };
                continue;
            }
            self.last_url = url;
            return Ok(Outcome::Page(answer.status, answer.text()));
        }
        Err("more than 20 redirects".into())
    }

    /// Submits the form around `marker` on `html`: its hidden fields, plus `extra`.
    pub async fn submit(
        &mut self,
        html: &str,
        marker: &str,
        extra: &[(&str, &str)],
        stop_at: &str,
        party_of: PartyOf<'_>,
        evidence: &mut Vec<Exchange>,
    ) -> Result<Outcome, String> {
        let page: String = html.chars().take(300).collect();
        let at = html
            .find(marker)
            .ok_or_else(|| format!("no {marker} on the page: {page}"))?;
        let form_start = html[..at]
            .rfind("<form")
            .ok_or_else(|| format!("{marker} is not inside a form"))?;
        let form_end = html[form_start..]
            .find("</form>")
            .ok_or("an unclosed form")?;
        let form = &html[form_start..form_start + form_end];
        let action = attribute(form, "action").unwrap_or_default();
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut rest = form;
        while let Some(i) = rest.find("<input") {
            rest = &rest[i + 6..];
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            if attribute(tag, "type").as_deref() == Some("hidden") {
                if let Some(name) = attribute(tag, "name") {
                    fields.push((name, attribute(tag, "value").unwrap_or_default()));
                }
            }
        }
        for (k, v) in extra {
            fields.retain(|(n, _)| n != k);
            fields.push((k.to_string(), v.to_string()));
        }
        let url = if action.starts_with('/') {
            format!("{}{action}", origin_of(&self.last_url))
        } else if action.is_empty() {
            self.last_url.clone()
        } else {
            action
        };
        if attribute(form, "method").is_some_and(|m| m.eq_ignore_ascii_case("get")) {
            let q = serde_urlencoded::to_string(&fields).map_err(|e| e.to_string())?;
            self.go(format!("{url}?{q}"), None, stop_at, party_of, evidence)
                .await
        } else {
            self.go(url, Some(fields), stop_at, party_of, evidence)
                .await
        }
    }

    /// The whole sign-in: authorize URL → identity provider chosen → login (with the `acr` the
    /// citizen picks, when the identity provider offers it) → information and consent → back.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_in(
        &mut self,
        authorize_url: &str,
        idp: &str,
        login: &str,
        acr: Option<&str>,
        stop_at: &str,
        party_of: PartyOf<'_>,
        evidence: &mut Vec<Exchange>,
    ) -> Result<Outcome, String> {
        let mut outcome = self
            .go(authorize_url.to_string(), None, stop_at, party_of, evidence)
            .await?;
        for _ in 0..5 {
            let Outcome::Page(200, html) = &outcome else {
                return Ok(outcome);
            };
            let html = html.clone();
            outcome = if html.contains("id=\"identity-providers\"") {
                let marker = format!("data-idp=\"{idp}\"");
                self.submit(&html, &marker, &[], stop_at, party_of, evidence)
                    .await?
            } else if html.contains("id=\"login-form\"") {
                let mut extra = vec![("login", login), ("password", "123")];
                if let Some(a) = acr {
                    extra.push(("acr", a));
                }
                self.submit(
                    &html,
                    "id=\"login-form\"",
                    &extra,
                    stop_at,
                    party_of,
                    evidence,
                )
                .await?
            } else if html.contains("id=\"consent-form\"") {
                self.submit(
                    &html,
                    "id=\"consent-form\"",
                    &[],
                    stop_at,
                    party_of,
                    evidence,
                )
                .await?
            } else {
                return Ok(outcome);
            };
        }
        Ok(outcome)
    }
}

/// An HTML attribute's value (double-quoted, with `&amp;` decoded).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let mut from = 0;
    while let Some(i) = tag[from..].find(&needle) {
        let start = from + i;
        // A whole attribute name, not the end of another (`data-name=`).
        if start == 0 || tag.as_bytes()[start - 1].is_ascii_whitespace() {
            let v = start + needle.len();
            let end = tag[v..].find('"')? + v;
            return Some(
                tag[v..end]
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&#39;", "'")
                    .replace("&amp;", "&"),
            );
        }
        from = start + needle.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_whole() {
        let tag = r#"<input data-name="x" type="hidden" name="state" value="a&amp;b">"#;
        assert_eq!(attribute(tag, "name").as_deref(), Some("state"));
        assert_eq!(attribute(tag, "value").as_deref(), Some("a&b"));
        assert_eq!(attribute(tag, "missing"), None);
    }

    #[test]
    fn outcomes_read_codes_and_parameters() {
        let o = Outcome::Redirected("http://sp/cb?code=c1&state=s#x".into());
        assert_eq!(o.param("code").as_deref(), Some("c1"));
        let p = Outcome::Page(400, "<p id=\"error-code\">Y030007</p>".into());
        assert_eq!(p.error_code().as_deref(), Some("Y030007"));
    }
}
