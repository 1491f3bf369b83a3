//! A virtual citizen: follows the broker's and identity provider's pages as a browser would
//! (cookies, redirects, forms), without JavaScript.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// Where a sign-in ended.
#[derive(Debug)]
pub enum Outcome {
    /// Back at the service provider's redirect URI (the full URL, with code or error).
    Redirected(String),
    /// Stopped on a page (an error page, usually): status and HTML.
    Page(u16, String),
}

impl Outcome {
    pub fn redirected(&self) -> &str {
        match self {
            Outcome::Redirected(u) => u,
            Outcome::Page(s, h) => panic!(
                "expected a redirect to the service provider, got a {s} page: {}",
                &h[..h.len().min(600)]
            ),
        }
    }
    pub fn param(&self, name: &str) -> Option<String> {
        let url = self.redirected();
        let query = url.split_once(['?', '#']).map(|(_, q)| q).unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
    /// The Y-code of an error page.
    pub fn error_code(&self) -> Option<String> {
        match self {
            Outcome::Page(_, html) => {
                let start = html.find("id=\"error-code\">")? + 16;
                Some(html[start..start + html[start..].find('<')?].to_string())
            }
            Outcome::Redirected(_) => None,
        }
    }
}

/// A browser: a cookie jar (by host) and no automatic redirects.
pub struct Citizen {
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
    /// URL of the last page shown (relative form actions resolve against it).
    pub last_url: String,
    /// Redirects whose URL starts with this are where the journey ends (the service provider).
    pub stop_at: String,
}

fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
        .to_string()
}

impl Citizen {
    pub fn new(stop_at: &str) -> Citizen {
        Citizen {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
            last_url: String::new(),
            stop_at: stop_at.to_string(),
        }
    }

    fn cookie_header(&self, url: &str) -> String {
        let host = host_of(url);
        self.cookies
            .iter()
            .filter(|(h, _)| *h == host)
            .map(|(_, c)| c.clone())
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, url: &str, response: &reqwest::Response) {
        let host = host_of(url);
        for v in response.headers().get_all(SET_COOKIE) {
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

    /// GETs (or POSTs a form to) `url` and follows redirects until the service provider or a page.
    pub async fn go(
        &mut self,
        mut url: String,
        mut form: Option<Vec<(String, String)>>,
    ) -> Outcome {
        for _ in 0..20 {
            if url.starts_with(&self.stop_at) {
                return Outcome::Redirected(url);
            }
            let cookie = self.cookie_header(&url);
            let mut request = match form.take() {
                Some(f) => self.http.post(&url).form(&f),
                None => self.http.get(&url),
            };
            if !cookie.is_empty() {
                request = request.header(COOKIE, cookie);
            }
            let response = request.send().await.expect("request goes through");
            self.keep_cookies(&url, &response);
            if response.status().is_redirection() {
                let location = response.headers()[LOCATION].to_str().unwrap().to_string();
                url = if location.starts_with('/') {
                    format!("http://{}{location}", host_of(&url))
                } else {
                    location
                };
                continue;
            }
            let status = response.status().as_u16();
            self.last_url = url;
            return Outcome::Page(status, response.text().await.unwrap());
        }
        panic!("too many redirects");
    }

    /// Submits the form holding `marker` on `page` (hidden fields kept, `extra` added).
    pub async fn submit(&mut self, html: &str, marker: &str, extra: &[(&str, &str)]) -> Outcome {
        let at = html
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker} on the page: {}", &html[..html.len().min(400)]));
        let form_start = html[..at].rfind("<form").unwrap();
        let form = &html[form_start..form_start + html[form_start..].find("</form>").unwrap()];
        let action_start = form.find("action=\"").unwrap() + 8;
        let action = &form[action_start..action_start + form[action_start..].find('"').unwrap()];
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut rest = form;
        while let Some(i) = rest.find("type=\"hidden\" name=\"") {
            rest = &rest[i + 20..];
            let name = rest[..rest.find('"').unwrap()].to_string();
            let v = rest.find("value=\"").unwrap() + 7;
            let value = rest[v..v + rest[v..].find('"').unwrap()].replace("&amp;", "&");
            fields.push((name, value));
        }
        for (k, v) in extra {
            fields.retain(|(n, _)| n != k);
            fields.push((k.to_string(), v.to_string()));
        }
        let base = format!("http://{}", host_of(&self.last_url));
        let url = if action.starts_with('/') {
            format!("{base}{action}")
        } else {
            action.to_string()
        };
        let get = form.contains("method=\"get\"");
        if get {
            let q = serde_urlencoded::to_string(&fields).unwrap();
            self.go(format!("{url}?{q}"), None).await
        } else {
            self.go(url, Some(fields)).await
        }
    }

    /// The whole sign-in: authorize URL → identity provider chosen → login → information page → back.
    pub async fn sign_in(
        &mut self,
        authorize_url: &str,
        idp: &str,
        login: &str,
        acr: Option<&str>,
    ) -> Outcome {
        let mut outcome = self.go(authorize_url.to_string(), None).await;
        for _ in 0..4 {
            let Outcome::Page(200, html) = &outcome else {
                return outcome;
            };
            let html = html.clone();
            outcome = if html.contains("id=\"identity-providers\"") {
                self.submit(&html, &format!("data-idp=\"{idp}\""), &[])
                    .await
            } else if html.contains("id=\"login-form\"") {
                let acr = acr.map(|a| vec![("acr", a)]).unwrap_or_default();
                let mut extra = vec![("login", login), ("password", "123")];
                extra.extend(acr);
                self.submit(&html, "id=\"login-form\"", &extra).await
            } else if html.contains("id=\"consent-form\"") {
                self.submit(&html, "id=\"consent-form\"", &[]).await
            } else {
                return outcome;
            };
        }
        outcome
    }
}
