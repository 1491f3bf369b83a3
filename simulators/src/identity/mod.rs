//! The identity side: identity providers ([`idp`]) over the population, and what the
//! FranceConnect federation shares: eIDAS levels, the identity pivot, the pairwise `sub`.

pub(crate) mod broker;
pub mod checktoken_client;
pub(crate) mod config;
pub(crate) mod idp;
pub mod rp;

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::FileError;
use crate::jose::JoseError;
use crate::jose::keys::{DecryptionKey, SigningKey, thumbprint_kid};
use crate::population::{Citizen, Population};

/// eIDAS levels of assurance as FranceConnect names them, lowest first.
pub const EIDAS_LEVELS: &[&str] = &["eidas1", "eidas2", "eidas3"];

/// Rank of an eIDAS level (1–3), `None` for an unknown value.
pub fn acr_rank(acr: &str) -> Option<usize> {
    EIDAS_LEVELS.iter().position(|l| *l == acr).map(|i| i + 1)
}

/// The identity pivot and the complementary claims an identity provider asserts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// All given names, space separated.
    pub given_name: String,
    /// Birth family name.
    pub family_name: String,
    /// `YYYY-MM-DD`; identity providers send `00` for an unknown month or day.
    pub birthdate: String,
    /// `male` or `female`.
    pub gender: String,
    /// COG commune; empty when born abroad.
    pub birthplace: String,
    /// COG country, `99100` for France.
    pub birthcountry: String,
    /// E-mail address.
    pub email: String,
    /// Usage name, when there is one.
    pub preferred_username: Option<String>,
}

impl Identity {
    /// The identity of a citizen, as an identity provider holds it (raw birth date).
    pub fn of(c: &Citizen) -> Identity {
        Identity {
            given_name: c.given_names.clone(),
            family_name: c.family_name.clone(),
            birthdate: c.birth_date.raw(),
            gender: c.gender.oidc().to_string(),
            birthplace: c.birthplace.clone(),
            birthcountry: c.birthcountry.clone(),
            email: c.email.clone(),
            preferred_username: c.usage_name.clone(),
        }
    }

    /// The birth date as FranceConnect hands it to service providers: `00` become `01`.
    pub fn normalized_birthdate(&self) -> String {
        let mut parts: Vec<String> = self.birthdate.split('-').map(str::to_string).collect();
        for p in parts.iter_mut().skip(1) {
            if p == "00" {
                *p = "01".into();
            }
        }
        parts.join("-")
    }
}

/// FranceConnect's pairwise subject: `hex(sha256(entity + base64(sha256(pivot)) + secret)) + "v1"`,
/// with the pivot `given_name + family_name + birthdate + gender + birthplace (if born in France)
/// + birthcountry` on the normalised identity.
///
/// ```
/// use simulators::identity::{Identity, pairwise_sub};
/// let id = Identity { given_name: "Thomas".into(), family_name: "DELATOUR".into(), birthdate: "1994-04-16".into(),
///     gender: "male".into(), birthplace: "75111".into(), birthcountry: "99100".into(), email: "t@example.org".into(), preferred_username: None };
/// let a = pairwise_sub("entity-a", &id, "secret");
/// assert_eq!(a.len(), 66);
/// assert!(a.ends_with("v1"));
/// assert_ne!(a, pairwise_sub("entity-b", &id, "secret"));
/// ```
pub fn pairwise_sub(entity_id: &str, identity: &Identity, secret: &str) -> String {
    let birthplace = if identity.birthcountry == "99100" {
        identity.birthplace.as_str()
    } else {
        ""
    };
    let pivot = format!(
        "{}{}{}{}{}{}",
        identity.given_name,
        identity.family_name,
        identity.normalized_birthdate(),
        identity.gender,
        birthplace,
        identity.birthcountry
    );
    let identity_hash = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha256::digest(pivot.as_bytes()),
    );
    let digest = Sha256::new()
        .chain_update(entity_id.as_bytes())
        .chain_update(identity_hash.as_bytes())
        .chain_update(secret.as_bytes())
        .finalize();
    format!(
        "{}v1",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// The claims a FranceConnect scope releases (OpenID Connect's `profile`, FranceConnect's
/// `birth` and `identite_pivot`, one scope per claim otherwise). Data scopes release no claim.
pub fn claims_of_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "given_name",
            "family_name",
            "birthdate",
            "gender",
            "preferred_username",
        ],
        "birth" => &["birthplace", "birthcountry"],
        "identite_pivot" => &[
            "given_name",
            "family_name",
            "birthdate",
            "gender",
            "birthplace",
            "birthcountry",
        ],
        "given_name" => &["given_name"],
        "family_name" => &["family_name"],
        "birthdate" => &["birthdate"],
        "gender" => &["gender"],
        "birthplace" => &["birthplace"],
        "birthcountry" => &["birthcountry"],
        "email" => &["email"],
        "preferred_username" => &["preferred_username"],
        "idp_birthdate" => &["idp_birthdate"],
        "idp_id" => &["idp_id"],
        // FranceConnect+'s RNIPP reconciliation scopes.
        "rnipp_given_name" => &["given_name", "rnipp_given_name", "rnipp_given_name_array"],
        "rnipp_family_name" => &["rnipp_family_name"],
        "rnipp_gender" => &["rnipp_gender"],
        "rnipp_birthdate" => &["rnipp_birthdate"],
        "rnipp_birthplace" => &["rnipp_birthplace"],
        "rnipp_birthcountry" => &["rnipp_birthcountry"],
        "rnipp_profile" => &[
            "rnipp_given_name",
            "rnipp_given_name_array",
            "rnipp_family_name",
            "rnipp_birthdate",
            "rnipp_gender",
        ],
        "rnipp_birth" => &["rnipp_birthplace", "rnipp_birthcountry"],
        "rnipp_identite_pivot" => &[
            "rnipp_given_name",
            "rnipp_given_name_array",
            "rnipp_family_name",
            "rnipp_birthdate",
            "rnipp_gender",
            "rnipp_birthplace",
            "rnipp_birthcountry",
        ],
        _ => &[],
    }
}

/// Reads a signing key; its `kid` is its JWK thumbprint, stable for the same key.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, FileError> {
    let file = path.display().to_string();
    let pem = crate::config::read(path)?;
    let key = SigningKey::from_pkcs8_pem("", &pem)
        .map_err(|e: JoseError| FileError::file(&file, e.to_string()))?;
    let kid = thumbprint_kid(&key.public_jwk().unwrap_or_default());
    SigningKey::from_pkcs8_pem(kid, &pem).map_err(|e| FileError::file(&file, e.to_string()))
}

/// Reads a decryption key; its `kid` is its JWK thumbprint.
pub fn load_decryption_key(path: &Path) -> Result<DecryptionKey, FileError> {
    let file = path.display().to_string();
    let pem = crate::config::read(path)?;
    let key = DecryptionKey::from_pkcs8_pem("", &pem)
        .map_err(|e| FileError::file(&file, e.to_string()))?;
    let kid = thumbprint_kid(&key.public_jwk("enc"));
    DecryptionKey::from_pkcs8_pem(kid, &pem).map_err(|e| FileError::file(&file, e.to_string()))
}

/// A test account of an identity provider: login, password and identity.
#[derive(Clone, Debug)]
pub struct Account {
    /// The login typed on the identity provider's page.
    pub login: String,
    /// Its password (local, synthetic).
    pub password: String,
    /// The identity it signs in as.
    pub identity: Identity,
    /// Persona description, shown on login pages.
    pub label: String,
}

/// Password of every test account, as in FranceConnect's mocks.
pub const TEST_PASSWORD: &str = "123";

/// The login of a citizen: the persona key, else `c` + id.
pub fn login_of(c: &Citizen) -> String {
    c.login()
}

/// Finds the account behind a login (adults only: children do not sign in).
pub fn account(p: &Population, login: &str) -> Option<Account> {
    let citizen = match login
        .strip_prefix('c')
        .and_then(|id| id.parse::<u32>().ok())
    {
        Some(id) => p.citizens.get(id as usize).filter(|c| c.persona.is_none()),
        None => p.citizen_persona(login),
    }?;
    citizen.numero_fiscal.as_ref()?;
    Some(Account {
        login: login_of(citizen),
        password: TEST_PASSWORD.into(),
        identity: Identity::of(citizen),
        label: format!(
            "{} {}",
            citizen.given_names,
            citizen.usage_name.as_ref().unwrap_or(&citizen.family_name)
        ),
    })
}

/// Accounts shown on login pages: personas first, then a few others.
pub fn listed_accounts(p: &Population, extra: usize) -> Vec<Account> {
    let personas = p
        .citizens
        .iter()
        .filter(|c| c.persona.as_ref().is_some_and(|k| !k.contains('#')));
    let others = p
        .citizens
        .iter()
        .filter(|c| c.persona.is_none())
        .take(extra * 3);
    personas
        .chain(others)
        .filter_map(|c| account(p, &login_of(c)))
        .take(40 + extra)
        .collect()
}
