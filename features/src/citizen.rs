//! A virtual citizen: an HTTP client with a cookie jar that follows redirects and submits the
//! HTML forms of the broker's and identity provider's pages (identity-provider selection, login,
//! information and consent), so sign-in journeys run headless against any FranceConnect-
//! compatible broker and identity provider. No JavaScript: the pages must work without it, as
//! FranceConnect's do.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::exchange::{self, Answer, Exchange};
use crate::forms::{Form, forms, forms_matching};

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
    /// The FranceConnect error code (`Y…`) shown on an error page: the `#error-code` element,
    /// else the first `Y` and six hexadecimal digits of the page's text.
    pub fn error_code(&self) -> Option<String> {
        let Outcome::Page(_, html) = self else {
            return None;
        };
        let page = scraper::Html::parse_document(html);
        let by_id = scraper::Selector::parse("#error-code").expect("a valid selector");
        if let Some(e) = page.select(&by_id).next() {
            return Some(e.text().collect::<String>().trim().to_string());
        }
        let text: String = page.root_element().text().collect();
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .find(|w| {
                w.len() == 7
                    && w.starts_with('Y')
                    && w[1..]
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
            })
            .map(String::from)
    }
    /// For failure messages: where it went, or the page it stopped on, read as text (its
    /// title, its alert, its error code).
    pub fn describe(&self) -> String {
        match self {
            Outcome::Redirected(u) => match self.param("error") {
                // Sent back with an OAuth error: who sent it is the page before, the code says why.
                Some(error) => format!(
                    "sent back to {} with OAuth error {error}: {}",
                    exchange::redact_url(u.split(['?', '#']).next().unwrap_or(u)),
                    self.param("error_description").unwrap_or_default()
                ),
                None => format!("redirected to {}", exchange::redact_url(u)),
            },
            Outcome::Page(s, html) => {
                let page = scraper::Html::parse_document(html);
                let text_of = |css: &str| {
                    let sel = scraper::Selector::parse(css).expect("a valid selector");
                    page.select(&sel).next().map(|e| {
                        let t: Vec<String> = e.text().map(|t| t.trim().to_string()).collect();
                        t.into_iter()
                            .filter(|t| !t.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                };
                let title = text_of("title").unwrap_or_default();
                let said = text_of("[role=alert]")
                    .or_else(|| text_of("main"))
                    .or_else(|| text_of("body"))
                    .unwrap_or_default();
                let said: String = said.chars().take(240).collect();
                match self.error_code() {
                    Some(code) => {
                        format!("stopped on an error page ({s}) with code {code}: {said}")
                    }
                    None => format!("stopped on a {s} page \"{title}\": {said}"),
                }
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
    /// How to sign in at identity providers whose login page needs it, by party id.
    pub logins: std::collections::BTreeMap<String, LoginForm>,
    /// Every URL requested since the sign-in began (the browser driver starts over from the
    /// first one at the identity provider).
    trail: Vec<String>,
    /// An attack on the broker's consent form, when set; `tampered` counts the forms sent so.
    pub consent_tampering: Option<Tampering>,
    /// How many consent forms were sent tampered with.
    pub tampered: usize,
}

/// How an attack changes the broker's consent form before it is sent.
#[derive(Clone, Debug)]
pub enum Tampering {
    /// Sent as another site would forge it: every value it carried (its anti-forgery token
    /// among them) unknown to the forger.
    Forged,
    /// Sent with these fields added (scopes the service provider did not ask for).
    Added(Vec<(String, String)>),
}

/// What a forger puts where it cannot know the page's values.
const FORGED: &str = "forged-by-another-site";

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

    /// The same citizen, signing in at identity providers as `logins` says.
    pub fn with_logins(mut self, logins: std::collections::BTreeMap<String, LoginForm>) -> Self {
        self.logins = logins;
        self
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

    /// Keeps the cookies `a` (an answer from `url`) sets, as the browser does; an attack step
    /// also uses it to plant cookies another browser was given.
    pub fn keep_cookies(&mut self, url: &str, a: &Answer) {
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
            self.set_cookie(&host, &pair);
        }
    }

    /// Keeps `name=value` for `host`, replacing the cookie of that name; an empty value
    /// deletes it.
    fn set_cookie(&mut self, host: &str, pair: &str) {
        let name = pair.split('=').next().unwrap_or("");
        let prefix = format!("{name}=");
        self.cookies
            .retain(|(h, c)| !(h == host && c.starts_with(&prefix)));
        if !pair.ends_with('=') {
            self.cookies.push((host.to_string(), pair.to_string()));
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
            self.trail.push(url.clone());
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

    /// Submits the form around `marker` on `html`: what it sends as it stands, plus `extra`.
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
        let form = forms(html)
            .into_iter()
            .find(|f| f.html.contains(marker))
            .ok_or_else(|| format!("no form holding {marker} on the page: {page}"))?;
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.send_form(&form, &extra, stop_at, party_of, evidence)
            .await
    }

    /// Sends `form` as a browser would, with `extra` typed in; its action is resolved against
    /// the page it came from.
    pub async fn send_form(
        &mut self,
        form: &Form,
        extra: &[(String, String)],
        stop_at: &str,
        party_of: PartyOf<'_>,
        evidence: &mut Vec<Exchange>,
    ) -> Result<Outcome, String> {
        let base = reqwest::Url::parse(&self.last_url)
            .map_err(|e| format!("the page's URL {:?}: {e}", self.last_url))?;
        let mut url = base
            .join(&form.action)
            .map_err(|e| format!("the form's action {:?}: {e}", form.action))?;
        let fields = form.submission(extra);
        if form.get {
            url.set_query(None);
            url.query_pairs_mut().extend_pairs(&fields);
            self.go(url.to_string(), None, stop_at, party_of, evidence)
                .await
        } else {
            self.go(url.to_string(), Some(fields), stop_at, party_of, evidence)
                .await
        }
    }

    /// The whole sign-in: authorize URL → identity provider chosen → login (with the `acr` the
    /// citizen picks, when the identity provider offers it) → information and consent → back.
    /// Any ordinary login page works: the form with a password field takes the login and the
    /// password; a form with nothing to type (consent, "continue") is then submitted. A
    /// profile's `[parties.<id>.login]` names the form and fields where that is not enough.
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
        self.trail.clear();
        let mut outcome = self
            .go(authorize_url.to_string(), None, stop_at, party_of, evidence)
            .await?;
        // Where the login form was: a consent or "continue" page there follows the login.
        let mut login_origin: Option<String> = None;
        for _ in 0..6 {
            let Outcome::Page(200, html) = &outcome else {
                return Ok(outcome);
            };
            let html = html.clone();
            let at = party_of(&self.last_url);
            let settings = self.logins.get(&at).cloned().unwrap_or_default();
            let marker = format!("data-idp=\"{idp}\"");
            if html.contains("id=\"identity-providers\"") && html.contains(&marker) {
                outcome = self
                    .submit(&html, &marker, &[], stop_at, party_of, evidence)
                    .await?;
                continue;
            }
            if settings.driver == Driver::Browser && !forms(&html).is_empty() {
                outcome = self
                    .sign_in_in_browser(&settings, login, stop_at, party_of, evidence)
                    .await?;
                login_origin = Some(origin_of(&self.last_url));
                continue;
            }
            let candidates = match &settings.form {
                Some(css) => forms_matching(&html, css)?,
                None => forms(&html),
            };
            if let Some(form) = candidates.iter().find(|f| f.password_field().is_some()) {
                let typed = settings.typed(form, login, acr)?;
                outcome = self
                    .send_form(form, &typed, stop_at, party_of, evidence)
                    .await?;
                login_origin = Some(origin_of(&self.last_url));
                continue;
            }
            // At the identity provider after the login, or on a consent page, a form with nothing
            // to type is a consent or "continue" form; anywhere else (the service provider's
            // sign-out button) it is left alone.
            let at_idp = login_origin.as_deref() == Some(origin_of(&self.last_url).as_str());
            let confirmation = candidates
                .iter()
                .find(|f| f.is_confirmation() && f.html.contains("consent"))
                .or_else(|| candidates.iter().find(|f| f.is_confirmation()));
            match confirmation {
                Some(form) if at_idp || self.last_url.contains("consent") => {
                    let mut form = form.clone();
                    let mut extra = Vec::new();
                    // The attack is on the broker's form, not the identity provider's.
                    let at_broker = at != idp;
                    match self.consent_tampering.as_ref().filter(|_| at_broker) {
                        Some(Tampering::Forged) => {
                            form.fields.iter_mut().for_each(|(_, v)| *v = FORGED.into());
                        }
                        Some(Tampering::Added(fields)) => extra = fields.clone(),
                        None => {}
                    }
                    self.tampered += usize::from(self.consent_tampering.is_some() && at_broker);
                    outcome = self
                        .send_form(&form, &extra, stop_at, party_of, evidence)
                        .await?;
                }
                _ => return Ok(outcome),
            }
        }
        Ok(outcome)
    }

    /// Signs in on the identity provider's pages in headless Chromium: the browser starts over
    /// from the authorization request that reached the provider, the pages' own JavaScript
    /// runs, and once the browser leaves the provider its cookies come back and the citizen
    /// carries on from there over HTTP.
    async fn sign_in_in_browser(
        &mut self,
        settings: &LoginForm,
        login: &str,
        stop_at: &str,
        party_of: PartyOf<'_>,
        evidence: &mut Vec<Exchange>,
    ) -> Result<Outcome, String> {
        let browser = crate::browser::Browser::start().await?;
        let left_at = self.drive(&browser, settings, login).await;
        browser.stop().await;
        let url = left_at?;
        if url.starts_with(stop_at) {
            return Ok(Outcome::Redirected(url));
        }
        self.go(url, None, stop_at, party_of, evidence).await
    }

    /// Fills and submits the login form in `browser`, confirms a consent form if one comes,
    /// and gives the first URL outside the identity provider.
    async fn drive(
        &mut self,
        browser: &crate::browser::Browser,
        settings: &LoginForm,
        login: &str,
    ) -> Result<String, String> {
        let page = self.last_url.clone();
        let origin = origin_of(&page);
        let host = host_of(&page);
        // The browser starts over from the request that first reached the identity provider
        // (its authorization request), so its session there is its own.
        let entry = self
            .trail
            .iter()
            .find(|u| origin_of(u) == origin)
            .cloned()
            .unwrap_or_else(|| page.clone());
        browser.goto(&entry).await?;
        for _ in 0..50 {
            let ready = browser
                .eval("return document.readyState === 'complete' && !!document.querySelector('input[type=password]')")
                .await?;
            if ready == true {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let filled = browser.eval(&fill_script(settings, login)).await?;
        if filled != "ok" {
            return Err(format!("in the browser, on {page}: {filled}"));
        }
        let mut confirmed = String::new();
        for _ in 0..150 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let url = browser.url().await?;
            if !url.starts_with(&origin) {
                for pair in browser.cookies().await? {
                    self.set_cookie(&host_of(&url), &pair);
                    self.set_cookie(&host, &pair);
                }
                self.last_url = url.clone();
                return Ok(url);
            }
            if url != confirmed && browser.eval(CONFIRM_SCRIPT).await? == "clicked" {
                confirmed = url;
            }
        }
        let at = browser.url().await.unwrap_or_default();
        let text = browser
            .eval("return document.body ? document.body.innerText.slice(0, 200) : ''")
            .await
            .unwrap_or_default();
        Err(format!(
            "in the browser, the identity provider at {origin} did not let the citizen go within 15 s: still on {at}: {text}"
        ))
    }
}

/// How the citizen signs in at one identity provider (a profile's `[parties.<id>.login]`):
/// every field is optional, the defaults read the page.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    /// A CSS selector for the login form; default: the form with a password field.
    #[serde(default)]
    pub form: Option<String>,
    /// The field the login goes in; default: `autocomplete="username"`, a login's usual name,
    /// else the first text field.
    #[serde(default)]
    pub username: Option<String>,
    /// The password field; default: the form's password field.
    #[serde(default)]
    pub password: Option<String>,
    /// The password typed; default `123`, the simulated identity providers' test password.
    #[serde(default)]
    pub secret: Option<String>,
    /// More fields and the values to type in them.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// `http` (default): the page is read and its form sent over HTTP. `browser`: a real
    /// headless Chromium signs in, for login pages that need JavaScript.
    #[serde(default)]
    pub driver: Driver,
}

/// Who signs in on an identity provider's pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// The bench's HTTP client, reading the page's forms.
    #[default]
    Http,
    /// Headless Chromium over WebDriver, running the page's JavaScript.
    Browser,
}

impl LoginForm {
    /// What the citizen types in `form`: the login, the password, the level asked for (where
    /// the form has an `acr` field) and the profile's extra fields.
    fn typed(
        &self,
        form: &Form,
        login: &str,
        acr: Option<&str>,
    ) -> Result<Vec<(String, String)>, String> {
        let username = self.username.as_deref().or(form.username_field()).ok_or(
            "the login form has no field for the login (set [parties.<id>.login] username)",
        )?;
        let password = self
            .password
            .as_deref()
            .or(form.password_field())
            .ok_or("the login form has no password field")?;
        let secret = self.secret.as_deref().unwrap_or("123");
        let mut typed = vec![
            (username.to_string(), login.to_string()),
            (password.to_string(), secret.to_string()),
        ];
        if let Some(a) = acr.filter(|_| form.fields.iter().any(|(n, _)| n == "acr")) {
            typed.push(("acr".into(), a.into()));
        }
        typed.extend(self.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(typed)
    }
}

/// Clicks the submit button of a form with nothing to type (consent, "continue") once the page
/// has loaded and shows no password field.
const CONFIRM_SCRIPT: &str = r#"
if (document.readyState !== 'complete' || document.querySelector('input[type=password]')) return 'no';
const typed = (f) => [...f.querySelectorAll('input, textarea, select')].some(i => !['hidden', 'submit', 'button', 'checkbox', 'radio'].includes(i.type));
const form = [...document.forms].find(f => !typed(f));
const button = form && form.querySelector('button:not([type]), button[type=submit], input[type=submit]');
if (!button) return 'no';
button.click();
return 'clicked';
"#;

/// The script that fills the login form as the profile says (or as the defaults find it) and
/// clicks its submit button, so the page's own handlers run.
fn fill_script(settings: &LoginForm, login: &str) -> String {
    let js = |v: &Option<String>| serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    let fields = serde_json::to_string(&settings.fields).unwrap_or_else(|_| "{}".into());
    format!(
        r#"
const css = {form};
const form = [...document.querySelectorAll(css || 'form')].find(f => f.querySelector('input[type=password]'));
if (!form) return 'no form with a password field';
const named = (n) => n && form.querySelector('[name="' + n + '"]');
const password = named({password}) || form.querySelector('input[type=password]');
const texts = [...form.querySelectorAll('input')].filter(i => ['text', 'email', 'tel', ''].includes(i.getAttribute('type') || ''));
const user = named({username}) || form.querySelector('[autocomplete=username]') || texts[0];
if (!user) return 'no field for the login';
const set = (el, v) => {{ el.focus(); el.value = v; el.dispatchEvent(new Event('input', {{bubbles: true}})); el.dispatchEvent(new Event('change', {{bubbles: true}})); }};
set(user, {login});
set(password, {secret});
for (const [n, v] of Object.entries({fields})) {{ const el = named(n); if (el) set(el, v); }}
const button = form.querySelector('button:not([type]), button[type=submit], input[type=submit]');
if (button) button.click(); else form.requestSubmit();
return 'ok';
"#,
        form = js(&settings.form),
        password = js(&settings.password),
        username = js(&settings.username),
        login = serde_json::to_string(login).unwrap_or_default(),
        secret =
            serde_json::to_string(settings.secret.as_deref().unwrap_or("123")).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_codes_and_parameters() {
        let o = Outcome::Redirected("http://sp/cb?code=c1&state=s#x".into());
        assert_eq!(o.param("code").as_deref(), Some("c1"));
        let refused = Outcome::Redirected(
            "http://sp/cb?error=invalid_scope&error_description=requested+scope+is+not+allowed&state=s"
                .into(),
        );
        assert_eq!(
            refused.describe(),
            "sent back to http://sp/cb with OAuth error invalid_scope: requested scope is not allowed"
        );
        let p = Outcome::Page(400, "<p id=\"error-code\">Y030007</p>".into());
        assert_eq!(p.error_code().as_deref(), Some("Y030007"));
    }
}
