//! The defect catalogue: known deviations from the specification a simulated party can be told
//! to make (`simulators serve --defect NAME`, `cargo xtask conform --defect NAME`).
//!
//! A conformance suite proves itself by catching them: `cargo xtask conform --mutants` runs the
//! suite once per defect and reports which scenarios caught which one. Each defect is checked at
//! exactly one place in the party that owns it, and the platform turns it on in that party only
//! (parties sharing code, such as the two hubs or the two brokers, do not share defects).
//!
//! ```
//! use simulators::defects::{Defect, Defects};
//! let d: Defect = "hub-accepts-missing-recipient".parse().unwrap();
//! assert_eq!(*d.party(), simulators::party::PartyId::API_ENTREPRISE);
//! let set = Defects::default();
//! set.enable(d);
//! assert!(set.has(Defect::HubAcceptsMissingRecipient));
//! assert!(!set.has(Defect::BrokerAcceptsReusedCode));
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::party::PartyId;

/// One known deviation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Defect {
    /// `hub-ignores-scope-filtering` (api-particulier): returns every key of `data`, whatever the token's scopes
    HubIgnoresScopeFiltering,
    /// `hub-accepts-missing-recipient` (api-entreprise): answers a call without the `recipient` tracing parameter instead of 422 00203
    HubAcceptsMissingRecipient,
    /// `hub-timeout-as-500` (api-entreprise): maps a provider timeout to 500 instead of 504 XX002
    HubTimeoutAs500,
    /// `hub-skips-siren-checksum` (api-entreprise): passes a SIREN failing Luhn to the provider instead of 422 00301
    HubSkipsSirenChecksum,
    /// `hub-omits-ratelimit-headers` (api-entreprise): forgets the RateLimit-* headers
    HubOmitsRatelimitHeaders,
    /// `broker-accepts-reused-code` (fc): exchanges the same authorization code twice
    BrokerAcceptsReusedCode,
    /// `broker-accepts-short-nonce` (fc): accepts a nonce shorter than 22 characters
    BrokerAcceptsShortNonce,
    /// `broker-lowers-acr` (fc-plus): puts a lower acr in the ID token than the identity provider authenticated
    BrokerLowersAcr,
    /// `broker-signs-with-unpublished-key` (fc): signs ID tokens with a key absent from its JWKS
    BrokerSignsWithUnpublishedKey,
    /// `broker-sub-not-pairwise` (fc): gives every service provider the same sub
    BrokerSubNotPairwise,
    /// `idp-omits-nonce` (idp-impots): leaves `nonce` out of the ID token
    IdpOmitsNonce,
    /// `checktoken-leaks-scopes` (fc): tells a data provider every scope of the access token, other providers' included
    ChecktokenLeaksScopes,
    /// `insee-200-unknown-siren` (insee): answers 200 with an empty unit for an unknown SIREN
    InseeAnswers200ForUnknownSiren,
    /// `insee-wrong-error-format` (insee): answers errors as {\"error\": …} instead of INSEE's {\"header\": {statut, message}}
    InseeWrongErrorFormat,
    /// `urssaf-validity-dates-wrong` (urssaf): ends the attestation's validity a year after the analysed month instead of six months
    UrssafValidityDatesWrong,
    /// `dgfip-ignores-franceconnect-scopes` (dgfip): returns every tax field in FranceConnect mode, whatever the citizen consented to
    DgfipIgnoresFranceConnectScopes,
    /// `marche-accepts-refused-vigilance` (sp-marche): accepts an application whose attestation de vigilance the URSSAF refused
    MarcheAcceptsRefusedVigilance,
    /// `creche-ignores-aeeh` (sp-creche): prices a family with an AEEH child at its own row of the scale instead of the next one
    CrecheIgnoresAeeh,
    /// `broker-access-token-outlives-a-minute` (fc): keeps access tokens valid for an hour instead of 60 seconds
    BrokerAccessTokenOutlivesAMinute,
    /// `broker-accepts-expired-code` (fc): exchanges an authorization code older than its 30 seconds
    BrokerAcceptsExpiredCode,
    /// `broker-ignores-redirect-uri-mismatch` (fc): exchanges a code sent with another redirect_uri than the one it was issued for
    BrokerIgnoresRedirectUriMismatch,
    /// `broker-omits-iss-in-errors` (fc): sends errors back to the service provider without `iss` (RFC 9207)
    BrokerOmitsIssInErrors,
    /// `idp-wrong-audience` (idp-impots): puts another client than the broker in the ID token's `aud`
    IdpWrongAudience,
    /// `idp-unsigned-userinfo` (idp-impots): answers userinfo as plain JSON instead of a signed JWT
    IdpUnsignedUserinfo,
    /// `creche-ignores-floor` (sp-creche): prices resources below the PSU floor as they are instead of at the floor
    CrecheIgnoresFloor,
    /// `marche-skips-officer-check` (sp-marche): takes the signed-in applicant for an officer without reading the RCS extract's list
    MarcheSkipsOfficerCheck,
    /// `urssaf-verifies-any-code` (urssaf): confirms an attestation whatever security code the buyer gives
    UrssafVerifiesAnyCode,
    /// `dgfip-accepts-expired-token` (dgfip): accepts a gateway token past its hour instead of 401 JETON_EXPIRE
    DgfipAcceptsExpiredToken,
    /// `cnaf-200-for-no-file` (cnaf): answers 200 with an empty body for an identity without a file instead of 404 133
    CnafAnswers200ForNoFile,
    /// `insee-serves-non-diffusible` (insee): serves a unit that is never diffused instead of 403
    InseeServesNonDiffusible,
    /// `infogreffe-omits-officers` (infogreffe): leaves the officers (mandataires sociaux) out of the RCS extract
    InfogreffeOmitsOfficers,
    /// `hub-no-in-flight-guard` (api-entreprise): passes identical concurrent calls of a token on to the provider instead of 409 00015
    HubNoInFlightGuard,
    /// `hub-broken-connection-as-unexpected` (api-entreprise): maps a provider's broken connection (reset, closed, bytes that are not HTTP) to 502 XX999 instead of XX001
    HubBrokenConnectionAsUnexpected,
    /// `hub-accepts-unsigned-tokens` (api-entreprise): takes an `alg: none` token's claims as they come instead of 401 00101
    HubAcceptsUnsignedTokens,
    /// `broker-matches-redirect-prefix` (fc): accepts a redirect URI that merely starts with a registered one instead of Y04C013C
    BrokerMatchesRedirectPrefix,
    /// `broker-gives-code-to-any-client` (fc): exchanges a code for whichever client presents it instead of invalid_grant
    BrokerGivesCodeToAnyClient,
    /// `marche-keeps-session-at-sign-in` (sp-marche): signs in the session the browser came with instead of a new one (session fixation)
    MarcheKeepsSessionAtSignIn,
    /// `broker-skips-consent-csrf` (fc): accepts a consent form without its anti-forgery token instead of Y470001
    BrokerSkipsConsentCsrf,
    /// `broker-takes-scopes-from-consent-form` (fc): grants the scopes a posted consent form names instead of those the service provider asked for
    BrokerTakesScopesFromConsentForm,
    /// `creche-ignores-state` (sp-creche): signs the browser in from any callback, whatever its `state` and the ID token's `nonce` (login CSRF)
    CrecheIgnoresState,
    /// `urssaf-plain-text-431` (urssaf): refuses headers too large with a `text/plain` 431 instead of its error format
    UrssafPlainText431,
    /// `marche-shows-tender-markup` (sp-marche): shows a tender's title as markup on its page (stored HTML injection)
    MarcheShowsTenderMarkup,
    /// `creche-echoes-counter-markup` (sp-creche): shows what was typed into the counter form back as markup (reflected HTML injection)
    CrecheEchoesCounterMarkup,
    /// `hub-forwards-undecodable-parameters` (api-entreprise): reads tracing parameters whose bytes are not UTF-8 as replacement characters, and journals them, instead of refusing them as missing
    HubForwardsUndecodableParameters,
}

/// Name, party and what goes wrong, for every defect, in catalogue order.
pub static CATALOGUE: &[(Defect, &str, PartyId, &str)] = &[
    (
        Defect::HubIgnoresScopeFiltering,
        "hub-ignores-scope-filtering",
        PartyId::API_PARTICULIER,
        "returns every key of `data`, whatever the token's scopes",
    ),
    (
        Defect::HubAcceptsMissingRecipient,
        "hub-accepts-missing-recipient",
        PartyId::API_ENTREPRISE,
        "answers a call without the `recipient` tracing parameter instead of 422 00203",
    ),
    (
        Defect::HubTimeoutAs500,
        "hub-timeout-as-500",
        PartyId::API_ENTREPRISE,
        "maps a provider timeout to 500 instead of 504 XX002",
    ),
    (
        Defect::HubSkipsSirenChecksum,
        "hub-skips-siren-checksum",
        PartyId::API_ENTREPRISE,
        "passes a SIREN failing Luhn to the provider instead of 422 00301",
    ),
    (
        Defect::HubOmitsRatelimitHeaders,
        "hub-omits-ratelimit-headers",
        PartyId::API_ENTREPRISE,
        "forgets the RateLimit-* headers",
    ),
    (
        Defect::BrokerAcceptsReusedCode,
        "broker-accepts-reused-code",
        PartyId::FC,
        "exchanges the same authorization code twice",
    ),
    (
        Defect::BrokerAcceptsShortNonce,
        "broker-accepts-short-nonce",
        PartyId::FC,
        "accepts a nonce shorter than 22 characters",
    ),
    (
        Defect::BrokerLowersAcr,
        "broker-lowers-acr",
        PartyId::FC_PLUS,
        "puts a lower acr in the ID token than the identity provider authenticated",
    ),
    (
        Defect::BrokerSignsWithUnpublishedKey,
        "broker-signs-with-unpublished-key",
        PartyId::FC,
        "signs ID tokens with a key absent from its JWKS",
    ),
    (
        Defect::BrokerSubNotPairwise,
        "broker-sub-not-pairwise",
        PartyId::FC,
        "gives every service provider the same sub",
    ),
    (
        Defect::IdpOmitsNonce,
        "idp-omits-nonce",
        PartyId::IDP_IMPOTS,
        "leaves `nonce` out of the ID token",
    ),
    (
        Defect::ChecktokenLeaksScopes,
        "checktoken-leaks-scopes",
        PartyId::FC,
        "tells a data provider every scope of the access token, other providers' included",
    ),
    (
        Defect::InseeAnswers200ForUnknownSiren,
        "insee-200-unknown-siren",
        PartyId::INSEE,
        "answers 200 with an empty unit for an unknown SIREN",
    ),
    (
        Defect::InseeWrongErrorFormat,
        "insee-wrong-error-format",
        PartyId::INSEE,
        "answers errors as {\"error\": …} instead of INSEE's {\"header\": {statut, message}}",
    ),
    (
        Defect::UrssafValidityDatesWrong,
        "urssaf-validity-dates-wrong",
        PartyId::URSSAF,
        "ends the attestation's validity a year after the analysed month instead of six months",
    ),
    (
        Defect::DgfipIgnoresFranceConnectScopes,
        "dgfip-ignores-franceconnect-scopes",
        PartyId::DGFIP,
        "returns every tax field in FranceConnect mode, whatever the citizen consented to",
    ),
    (
        Defect::MarcheAcceptsRefusedVigilance,
        "marche-accepts-refused-vigilance",
        PartyId::SP_MARCHE,
        "accepts an application whose attestation de vigilance the URSSAF refused",
    ),
    (
        Defect::CrecheIgnoresAeeh,
        "creche-ignores-aeeh",
        PartyId::SP_CRECHE,
        "prices a family with an AEEH child at its own row of the scale instead of the next one",
    ),
    (
        Defect::BrokerAccessTokenOutlivesAMinute,
        "broker-access-token-outlives-a-minute",
        PartyId::FC,
        "keeps access tokens valid for an hour instead of 60 seconds",
    ),
    (
        Defect::BrokerAcceptsExpiredCode,
        "broker-accepts-expired-code",
        PartyId::FC,
        "exchanges an authorization code older than its 30 seconds",
    ),
    (
        Defect::BrokerIgnoresRedirectUriMismatch,
        "broker-ignores-redirect-uri-mismatch",
        PartyId::FC,
        "exchanges a code sent with another redirect_uri than the one it was issued for",
    ),
    (
        Defect::BrokerOmitsIssInErrors,
        "broker-omits-iss-in-errors",
        PartyId::FC,
        "sends errors back to the service provider without `iss` (RFC 9207)",
    ),
    (
        Defect::IdpWrongAudience,
        "idp-wrong-audience",
        PartyId::IDP_IMPOTS,
        "puts another client than the broker in the ID token's `aud`",
    ),
    (
        Defect::IdpUnsignedUserinfo,
        "idp-unsigned-userinfo",
        PartyId::IDP_IMPOTS,
        "answers userinfo as plain JSON instead of a signed JWT",
    ),
    (
        Defect::CrecheIgnoresFloor,
        "creche-ignores-floor",
        PartyId::SP_CRECHE,
        "prices resources below the PSU floor as they are instead of at the floor",
    ),
    (
        Defect::MarcheSkipsOfficerCheck,
        "marche-skips-officer-check",
        PartyId::SP_MARCHE,
        "takes the signed-in applicant for an officer without reading the RCS extract's list",
    ),
    (
        Defect::UrssafVerifiesAnyCode,
        "urssaf-verifies-any-code",
        PartyId::URSSAF,
        "confirms an attestation whatever security code the buyer gives",
    ),
    (
        Defect::DgfipAcceptsExpiredToken,
        "dgfip-accepts-expired-token",
        PartyId::DGFIP,
        "accepts a gateway token past its hour instead of 401 JETON_EXPIRE",
    ),
    (
        Defect::CnafAnswers200ForNoFile,
        "cnaf-200-for-no-file",
        PartyId::CNAF,
        "answers 200 with an empty body for an identity without a file instead of 404 133",
    ),
    (
        Defect::InseeServesNonDiffusible,
        "insee-serves-non-diffusible",
        PartyId::INSEE,
        "serves a unit that is never diffused instead of 403",
    ),
    (
        Defect::InfogreffeOmitsOfficers,
        "infogreffe-omits-officers",
        PartyId::INFOGREFFE,
        "leaves the officers (mandataires sociaux) out of the RCS extract",
    ),
    (
        Defect::HubNoInFlightGuard,
        "hub-no-in-flight-guard",
        PartyId::API_ENTREPRISE,
        "passes identical concurrent calls of a token on to the provider instead of 409 00015",
    ),
    (
        Defect::HubBrokenConnectionAsUnexpected,
        "hub-broken-connection-as-unexpected",
        PartyId::API_ENTREPRISE,
        "maps a provider's broken connection (reset, closed, bytes that are not HTTP) to 502 XX999 instead of XX001",
    ),
    (
        Defect::HubAcceptsUnsignedTokens,
        "hub-accepts-unsigned-tokens",
        PartyId::API_ENTREPRISE,
        "takes an `alg: none` token's claims as they come instead of 401 00101",
    ),
    (
        Defect::BrokerMatchesRedirectPrefix,
        "broker-matches-redirect-prefix",
        PartyId::FC,
        "accepts a redirect URI that merely starts with a registered one instead of Y04C013C",
    ),
    (
        Defect::BrokerGivesCodeToAnyClient,
        "broker-gives-code-to-any-client",
        PartyId::FC,
        "exchanges a code for whichever client presents it instead of invalid_grant",
    ),
    (
        Defect::MarcheKeepsSessionAtSignIn,
        "marche-keeps-session-at-sign-in",
        PartyId::SP_MARCHE,
        "signs in the session the browser came with instead of a new one (session fixation)",
    ),
    (
        Defect::BrokerSkipsConsentCsrf,
        "broker-skips-consent-csrf",
        PartyId::FC,
        "accepts a consent form without its anti-forgery token instead of Y470001",
    ),
    (
        Defect::BrokerTakesScopesFromConsentForm,
        "broker-takes-scopes-from-consent-form",
        PartyId::FC,
        "grants the scopes a posted consent form names instead of those the service provider asked for",
    ),
    (
        Defect::CrecheIgnoresState,
        "creche-ignores-state",
        PartyId::SP_CRECHE,
        "signs the browser in from any callback, whatever its `state` and the ID token's `nonce` (login CSRF)",
    ),
    (
        Defect::UrssafPlainText431,
        "urssaf-plain-text-431",
        PartyId::URSSAF,
        "refuses headers too large with a `text/plain` 431 instead of its error format",
    ),
    (
        Defect::MarcheShowsTenderMarkup,
        "marche-shows-tender-markup",
        PartyId::SP_MARCHE,
        "shows a tender's title as markup on its page (stored HTML injection)",
    ),
    (
        Defect::CrecheEchoesCounterMarkup,
        "creche-echoes-counter-markup",
        PartyId::SP_CRECHE,
        "shows what was typed into the counter form back as markup (reflected HTML injection)",
    ),
    (
        Defect::HubForwardsUndecodableParameters,
        "hub-forwards-undecodable-parameters",
        PartyId::API_ENTREPRISE,
        "reads tracing parameters whose bytes are not UTF-8 as replacement characters, and journals them, instead of refusing them as missing",
    ),
];

impl Defect {
    fn entry(self) -> &'static (Defect, &'static str, PartyId, &'static str) {
        CATALOGUE
            .iter()
            .find(|(d, ..)| *d == self)
            .expect("every defect is in the catalogue")
    }
    /// Its name on the command line (`hub-accepts-missing-recipient`).
    pub fn name(self) -> &'static str {
        self.entry().1
    }
    /// The party that makes it.
    pub fn party(self) -> &'static PartyId {
        &self.entry().2
    }
    /// What goes wrong.
    pub fn description(self) -> &'static str {
        self.entry().3
    }
    /// Every defect, in catalogue order.
    pub fn all() -> impl Iterator<Item = Defect> {
        CATALOGUE.iter().map(|(d, ..)| *d)
    }
}

impl std::fmt::Display for Defect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Defect {
    type Err = String;
    fn from_str(s: &str) -> Result<Defect, String> {
        CATALOGUE
            .iter()
            .find(|(_, name, ..)| *name == s)
            .map(|(d, ..)| *d)
            .ok_or_else(|| {
                format!(
                    "unknown defect {s:?}; defects are: {}",
                    CATALOGUE
                        .iter()
                        .map(|(_, n, ..)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// The defects a party makes: a shared bit set, cheap to check on every request.
#[derive(Clone, Debug, Default)]
pub struct Defects(Arc<AtomicU64>);

impl Defects {
    /// Whether this defect is on.
    pub fn has(&self, d: Defect) -> bool {
        self.0.load(Ordering::Relaxed) & (1 << d as u8) != 0
    }
    /// Every defect in force as one word (bit `d as u8` for defect `d`): what an answer that
    /// depends on them is kept under.
    pub fn bits(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    /// Turns a defect on.
    pub fn enable(&self, d: Defect) {
        self.0.fetch_or(1 << d as u8, Ordering::Relaxed);
    }
    /// The defects that are on, in catalogue order.
    pub fn enabled(&self) -> Vec<Defect> {
        Defect::all().filter(|d| self.has(*d)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_parties_exist() {
        assert!(CATALOGUE.len() >= 30);
        // The bit set holds them all.
        assert!(CATALOGUE.len() <= 64);
        for d in Defect::all() {
            assert_eq!(d.name().parse::<Defect>(), Ok(d));
            assert!(!d.description().is_empty());
        }
        let err = "nope".parse::<Defect>().unwrap_err();
        assert!(err.contains("hub-timeout-as-500"), "{err}");
    }

    #[test]
    fn sets_are_shared_between_clones() {
        let a = Defects::default();
        let b = a.clone();
        b.enable(Defect::IdpOmitsNonce);
        assert_eq!(a.enabled(), vec![Defect::IdpOmitsNonce]);
    }
}
