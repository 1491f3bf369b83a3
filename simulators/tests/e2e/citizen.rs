//! The virtual citizen of the conformance runner ([`conformance::citizen`]), with the
//! panicking conveniences tests want: a request that does not go through fails the test.

use conformance::citizen;
use conformance::exchange::Exchange;

pub use conformance::citizen::Outcome;

/// Reading the redirect back to the service provider, or failing the test.
pub trait Redirected {
    fn redirected(&self) -> &str;
}

impl Redirected for Outcome {
    fn redirected(&self) -> &str {
        match self {
            Outcome::Redirected(u) => u,
            page => panic!(
                "expected a redirect to the service provider, {}",
                page.describe()
            ),
        }
    }
}

/// A browser whose journeys end at redirects starting with `stop_at`.
pub struct Citizen {
    inner: citizen::Citizen,
    /// Redirects whose URL starts with this are where the journey ends (the service provider).
    pub stop_at: String,
    evidence: Vec<Exchange>,
}

/// The tests do not sort their evidence by party.
fn nobody(_: &str) -> String {
    "?".into()
}

impl Citizen {
    pub fn new(stop_at: &str) -> Citizen {
        Citizen {
            inner: citizen::Citizen::default(),
            stop_at: stop_at.to_string(),
            evidence: Vec::new(),
        }
    }

    /// GETs (or POSTs a form to) `url` and follows redirects until the service provider or a page.
    pub async fn go(&mut self, url: String, form: Option<Vec<(String, String)>>) -> Outcome {
        self.inner
            .go(url, form, &self.stop_at, &nobody, &mut self.evidence)
            .await
            .expect("the request goes through")
    }

    /// Submits the form holding `marker` on `html` (hidden fields kept, `extra` added).
    pub async fn submit(&mut self, html: &str, marker: &str, extra: &[(&str, &str)]) -> Outcome {
        self.inner
            .submit(
                html,
                marker,
                extra,
                &self.stop_at,
                &nobody,
                &mut self.evidence,
            )
            .await
            .expect("the form is there and its request goes through")
    }

    /// The whole sign-in: authorize URL → identity provider chosen → login → information page → back.
    pub async fn sign_in(
        &mut self,
        authorize_url: &str,
        idp: &str,
        login: &str,
        acr: Option<&str>,
    ) -> Outcome {
        self.inner
            .sign_in(
                authorize_url,
                idp,
                login,
                acr,
                &self.stop_at,
                &nobody,
                &mut self.evidence,
            )
            .await
            .expect("the sign-in's requests go through")
    }

    /// The `Cookie` header the browser sends to `url` (to call a service provider's JSON API
    /// in the signed-in session).
    pub fn cookie(&self, url: &str) -> String {
        self.inner.cookie_header(url)
    }
}
