//! DGFiP's FranceConnect mode ("API Impôt particulier" FC twins): the service provider sends the
//! citizen's FranceConnect access token in `X-FranceConnect-OAuth` (with its gateway token in
//! `Authorization`); the DGFiP asks the broker's `checktoken`, decrypts the answer with its own
//! key, verifies the signature against the broker's JWKS, checks issuer, audience, activity and
//! expiry, reconciles the identity pivot with its records, and answers only what the scopes allow.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::{
    DgfipState, SITUATION_MEDIA_TYPE, authorize, error, notice_date, scopes, situation_json,
    with_caller,
};
use crate::http::{typed_json, with_subject};
use crate::population::{BirthDate, Gender, PivotQuery};

/// Which situation field each FranceConnect data scope unlocks.
pub const SCOPE_FIELDS: &[(&str, &str)] = &[
    ("dgfip_rfr", "rfr"),
    ("dgfip_nbpart", "nbPart"),
    ("dgfip_sitfam", "sitFam"),
    ("dgfip_pac", "pac"),
    ("dgfip_aft", "aft"),
];

pub(super) async fn situation_fc(
    state: State<DgfipState>,
    path: Path<String>,
    headers: HeaderMap,
) -> Response {
    situation_fc_for(state, path, headers, scopes::RESSOURCE_IR).await
}

pub(super) async fn derniere_situation_fc(
    state: State<DgfipState>,
    path: Path<String>,
    headers: HeaderMap,
) -> Response {
    situation_fc_for(state, path, headers, scopes::RESSOURCE_IR_DERNIERE).await
}

/// Long: the FranceConnect mode's checks in the DGFiP's order of precedence (gateway token,
/// checktoken, signature, audience, expiry, scopes, reconciliation), then the answer.
async fn situation_fc_for(
    State(s): State<DgfipState>,
    Path(annrev): Path<String>,
    headers: HeaderMap,
    scope: &str,
) -> Response {
    let client = match authorize(&s, &headers, scope) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let respond = |r: Response| with_caller(r, &client);
    let Some(link) = &s.france_connect else {
        return respond(error(
            StatusCode::NOT_IMPLEMENTED,
            "FRANCECONNECT_NON_CONFIGURE",
            "Aucun fournisseur FranceConnect n'est configuré pour ce fournisseur de données",
            &headers,
        ));
    };
    let Some(fc_token) = headers
        .get("x-franceconnect-oauth")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return respond(error(
            StatusCode::UNAUTHORIZED,
            "JETON_FC_ABSENT",
            "En-tête X-FranceConnect-OAuth absent",
            &headers,
        ));
    };
    let Some(year) = annrev.parse::<u16>().ok().filter(|_| annrev.len() == 4) else {
        return respond(error(
            StatusCode::BAD_REQUEST,
            "ANNREV_INVALIDE",
            "L'année de revenus doit comporter 4 chiffres",
            &headers,
        ));
    };
    let introspection = match link.introspect(fc_token).await {
        Ok(Some(i)) => i,
        Ok(None) => {
            return respond(error(
                StatusCode::UNAUTHORIZED,
                "JETON_FC_INVALIDE",
                "Jeton FranceConnect inconnu, expiré ou révoqué",
                &headers,
            ));
        }
        Err(e) => {
            return respond(error(
                StatusCode::BAD_GATEWAY,
                "FRANCECONNECT_INDISPONIBLE",
                &format!("Vérification du jeton FranceConnect impossible : {e}"),
                &headers,
            ));
        }
    };
    let now = s.core.clock.now().timestamp();
    if introspection
        .get("exp")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        <= now
    {
        return respond(error(
            StatusCode::UNAUTHORIZED,
            "JETON_FC_EXPIRE",
            "Jeton FranceConnect expiré",
            &headers,
        ));
    }
    let granted: Vec<&str> = introspection
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(' ')
        .collect();
    let fields: Vec<&str> = SCOPE_FIELDS
        .iter()
        .filter(|(sc, _)| {
            granted.contains(sc)
                || s.core
                    .defects
                    .has(crate::defects::Defect::DgfipIgnoresFranceConnectScopes)
        })
        .map(|(_, f)| *f)
        .collect();
    if fields.is_empty() {
        return respond(error(
            StatusCode::FORBIDDEN,
            "SCOPE_FC_INSUFFISANT",
            "Le jeton FranceConnect ne porte aucune donnée fiscale",
            &headers,
        ));
    }
    // Reconciliation on the identity pivot: exactly one declarant must match.
    let text = |k: &str| {
        introspection
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let birth = BirthDate::parse(&text("birthdate"));
    let gender = match text("gender").as_str() {
        "female" => Some(Gender::Female),
        "male" => Some(Gender::Male),
        _ => None,
    };
    let (family, given, place, country) = (
        text("family_name"),
        text("given_name"),
        text("birthplace"),
        text("birthcountry"),
    );
    let query = PivotQuery {
        family_name: &family,
        given_names: &given,
        gender,
        birth_year: birth.map(|b| b.year),
        birth_month: birth.map(|b| b.month),
        birth_day: birth.map(|b| b.day),
        birthplace: Some(&place),
        birthcountry: Some(&country),
    };
    let p = &s.core.population;
    let declarants: Vec<_> = p
        .find_by_pivot(&query)
        .into_iter()
        .filter(|c| c.numero_fiscal.is_some())
        .collect();
    let citizen = match declarants.as_slice() {
        [one] => *one,
        [] => {
            return respond(error(
                StatusCode::NOT_FOUND,
                "USAGER_NON_RECONNU",
                "Aucun usager ne correspond à cette identité",
                &headers,
            ));
        }
        _ => {
            return respond(error(
                StatusCode::CONFLICT,
                "USAGER_AMBIGU",
                "Plusieurs usagers correspondent à cette identité",
                &headers,
            ));
        }
    };
    let spi = citizen.numero_fiscal.clone().unwrap_or_default();
    if s.core.clock.now().date_naive() < notice_date(year) {
        return respond(with_subject(
            error(
                StatusCode::NOT_FOUND,
                "SITUATION_NON_DISPONIBLE",
                &format!("La situation des revenus {year} n'est pas encore établie"),
                &headers,
            ),
            spi,
        ));
    }
    let Some(Value::Object(full)) = situation_json(p, p.household_of(citizen), year) else {
        return respond(with_subject(
            error(
                StatusCode::NOT_FOUND,
                "SITUATION_INCONNUE",
                &format!("Aucune situation pour les revenus {year}"),
                &headers,
            ),
            spi,
        ));
    };
    // Only what the scopes allow (and the year it is about).
    let body: Map<String, Value> = full
        .into_iter()
        .filter(|(k, _)| k == "annRevenu" || fields.contains(&k.as_str()))
        .collect();
    respond(with_subject(
        typed_json(StatusCode::OK, &Value::Object(body), SITUATION_MEDIA_TYPE),
        spi,
    ))
}
