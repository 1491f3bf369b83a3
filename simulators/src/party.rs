//! The party registry: every party the platform knows by id, with its role, default port and
//! title. The platform, the catalogue, the ports of `platform.toml`, the defect catalogue, the
//! command line and the runner's target profiles all read this one table.
//!
//! Identity providers beyond the three of the repository's `identity.toml` are configured there
//! and get a [`PartyId`] made at start-up ([`PartyId::configured`]); every other id is a
//! constant here, and `xtask`'s tidy test refuses a party id written as a literal elsewhere.
//!
//! ```
//! use simulators::party::{PartyId, Role};
//! let insee: PartyId = "insee".parse().unwrap();
//! assert_eq!(insee, PartyId::INSEE);
//! assert_eq!(insee.known().unwrap().role, Role::Provider);
//! assert_eq!(insee.known().unwrap().default_port, 7101);
//! assert!("nope".parse::<PartyId>().is_err());
//! ```

use std::borrow::{Borrow, Cow};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The role a party plays on the platform, as the catalogue names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A data provider (INSEE, URSSAF, DGFiP…).
    Provider,
    /// A hub between providers and service providers (API Entreprise, API Particulier).
    Hub,
    /// An identity broker (FranceConnect, FranceConnect+).
    Broker,
    /// An identity provider federated by a broker.
    Idp,
    /// A service provider (the demo marketplace and nursery).
    Sp,
}

impl Role {
    /// The role's name in the catalogue and the profiles (`provider`, `hub`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Hub => "hub",
            Role::Broker => "broker",
            Role::Idp => "idp",
            Role::Sp => "sp",
        }
    }
}

/// A party's short id (`insee`, `fc-plus`, `api-entreprise`…): on the command line, in the
/// catalogue, in journals and profiles.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(Cow<'static, str>);

/// A party the registry knows.
#[derive(Debug)]
pub struct Party {
    /// Its id.
    pub id: PartyId,
    /// What it does on the platform.
    pub role: Role,
    /// Port it listens on unless `platform.toml` (or `identity.toml`) says otherwise.
    pub default_port: u16,
    /// Its name for people; brokers, identity providers and service providers take the one
    /// of their configuration file, this being the repository's.
    pub title: &'static str,
}

/// Declares every known party once: its constant, role, default port, title and doc line.
macro_rules! registry {
    ($($konst:ident = $id:literal, $role:ident, $port:literal, $title:literal, $doc:literal;)*) => {
        /// The known ids as plain text, for `match` arms and `&'static str` tables.
        pub mod ids {
            $(#[doc = $doc] pub const $konst: &str = $id;)*
        }

        impl PartyId {
            $(#[doc = $doc] pub const $konst: PartyId = PartyId(Cow::Borrowed(ids::$konst));)*
        }

        /// Every party the platform knows, in catalogue order: providers, hubs, brokers,
        /// identity providers, service providers.
        pub static REGISTRY: &[Party] = &[
            $(Party { id: PartyId::$konst, role: Role::$role, default_port: $port, title: $title },)*
        ];
    };
}

registry! {
    INSEE = "insee", Provider, 7101, "INSEE — API Sirene", "INSEE's Sirene API.";
    INFOGREFFE = "infogreffe", Provider, 7102, "Infogreffe — RCS", "Infogreffe's RCS extracts.";
    URSSAF = "urssaf", Provider, 7103, "URSSAF — attestations de vigilance",
        "The URSSAF's attestations de vigilance.";
    DGFIP = "dgfip", Provider, 7104, "DGFiP — API Impôt particulier, attestations fiscales",
        "The DGFiP's APIs (Impôt particulier, attestation fiscale).";
    CNAF = "cnaf", Provider, 7105, "CNAF — quotient familial, participation EAJE",
        "The CNAF's quotient familial.";
    MSA = "msa", Provider, 7106,
        "MSA — quotient familial, participation EAJE, conformité des cotisations",
        "The MSA (farmers' family benefits and contributions).";
    API_ENTREPRISE = "api-entreprise", Hub, 7201, "API Entreprise", "API Entreprise.";
    API_PARTICULIER = "api-particulier", Hub, 7202, "API Particulier", "API Particulier.";
    FC = "fc", Broker, 7301, "FranceConnect (simulé)", "FranceConnect (eIDAS low).";
    FC_PLUS = "fc-plus", Broker, 7302, "FranceConnect+ (simulé)",
        "FranceConnect+ (eIDAS substantial and high).";
    IDP_IMPOTS = "idp-impots", Idp, 7401, "impots.gouv.fr (simulé)",
        "The simulated impots.gouv.fr identity provider.";
    IDP_AMELI = "idp-ameli", Idp, 7402, "ameli.fr (simulé)",
        "The simulated ameli.fr identity provider.";
    IDP_PLUS = "idp-plus", Idp, 7403, "Identité numérique substantielle (simulé)",
        "The simulated substantial-level identity provider of FranceConnect+.";
    SP_CRECHE = "sp-creche", Sp, 7501, "Crèches de Vincennes (démo)",
        "The town's nursery (demo service provider).";
    SP_MARCHE = "sp-marche", Sp, 7502, "Marché Public Simplifié (démo)",
        "The public-tender marketplace (demo service provider).";
}

impl PartyId {
    /// The id of a party configured in a file rather than known here (an identity provider of
    /// `identity.toml`); a known id gives back its constant.
    pub fn configured(id: &str) -> PartyId {
        id.parse()
            .unwrap_or_else(|_| PartyId(Cow::Owned(id.to_string())))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its title in the registry (configured parties take theirs from their file).
    pub fn title(&self) -> &'static str {
        self.known().map_or("", |p| p.title)
    }

    /// The registry's entry, when the party is one it knows.
    pub fn known(&self) -> Option<&'static Party> {
        REGISTRY.iter().find(|p| p.id == *self)
    }

    /// Whether `body` is an error of `status` in this party's own format, the real system's:
    /// JSON:API `errors` with the hubs' `00<status>` code, INSEE's `header.statut`, URSSAF's
    /// `TECH<status>`, the DGFiP's `erreur`, Infogreffe's `code` and `message`, the CNAF's and
    /// the MSA's `codeRetour`, the services' problem details, OAuth's `error` for brokers and
    /// identity providers. How a bench tells the party's own refusal from a framework's or a
    /// proxy's.
    ///
    /// ```
    /// use serde_json::json;
    /// use simulators::party::PartyId;
    /// let insee = json!({"header": {"statut": 431, "message": "Erreur"}});
    /// assert!(PartyId::INSEE.speaks_error_format(431, &insee));
    /// assert!(!PartyId::API_ENTREPRISE.speaks_error_format(431, &insee));
    /// ```
    pub fn speaks_error_format(&self, status: u16, body: &serde_json::Value) -> bool {
        let text = |v: &serde_json::Value| v.is_string();
        match self.as_str() {
            ids::API_ENTREPRISE | ids::API_PARTICULIER => {
                body["errors"][0]["code"] == format!("00{status}").as_str()
            }
            ids::INSEE => body["header"]["statut"] == status,
            ids::URSSAF => body["errors"][0]["code"] == format!("TECH{status}").as_str(),
            ids::DGFIP => text(&body["erreur"]["code"]),
            ids::INFOGREFFE => text(&body["code"]) && text(&body["message"]),
            ids::CNAF | ids::MSA => body["codeRetour"] == status.to_string().as_str(),
            ids::SP_MARCHE | ids::SP_CRECHE => body["status"] == status && text(&body["title"]),
            _ => text(&body["error"]) && text(&body["error_description"]),
        }
    }
}

/// The known parties of one role, in catalogue order.
pub fn of_role(role: Role) -> impl Iterator<Item = &'static Party> {
    REGISTRY.iter().filter(move |p| p.role == role)
}

impl std::str::FromStr for PartyId {
    type Err = String;
    /// A known party's id; the error lists them.
    fn from_str(s: &str) -> Result<PartyId, String> {
        REGISTRY
            .iter()
            .find(|p| p.id.as_str() == s)
            .map(|p| p.id.clone())
            .ok_or_else(|| {
                let known: Vec<&str> = REGISTRY.iter().map(|p| p.id.as_str()).collect();
                format!("unknown party {s:?}; parties are: {}", known.join(", "))
            })
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl std::ops::Deref for PartyId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PartyId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for PartyId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for PartyId {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for PartyId {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<PartyId> for &str {
    fn eq(&self, other: &PartyId) -> bool {
        **self == *other.0
    }
}

impl PartialEq<PartyId> for str {
    fn eq(&self, other: &PartyId) -> bool {
        *self == *other.0
    }
}

impl Serialize for PartyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PartyId {
    /// Any id: configured identity providers are not in the registry.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PartyId, D::Error> {
        let s = String::deserialize(d)?;
        Ok(PartyId::configured(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_ports_are_unique() {
        let mut ids: Vec<&str> = REGISTRY.iter().map(|p| p.id.as_str()).collect();
        let mut ports: Vec<u16> = REGISTRY.iter().map(|p| p.default_port).collect();
        ids.sort();
        ids.dedup();
        ports.sort();
        ports.dedup();
        assert_eq!(ids.len(), REGISTRY.len());
        assert_eq!(ports.len(), REGISTRY.len());
    }

    #[test]
    fn configured_ids_reuse_the_constants() {
        assert_eq!(PartyId::configured("fc-plus"), PartyId::FC_PLUS);
        let x = PartyId::configured("idp-x");
        assert_eq!(x, "idp-x");
        assert!(x.known().is_none());
        let err = "idp-x".parse::<PartyId>().unwrap_err();
        assert!(err.contains("api-particulier"), "{err}");
    }
}
