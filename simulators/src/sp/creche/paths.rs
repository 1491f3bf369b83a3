//! The three data paths to the family's figures: API Particulier in FranceConnect mode, the
//! DGFiP's FranceConnect mode (the parent declares the children), and the counter by identity
//! pivot under the legal basis shown.

use super::*;
use crate::party::PartyId;

/// API Particulier's EAJE parameters, by FranceConnect token or by identity pivot.
///
/// Long: one data path end to end: the calls, then every answer mapped to the figures and their
/// explanation.
pub(super) async fn from_api_particulier(
    c: &Creche,
    n: &NurseryConfig,
    hours: u32,
    request: reqwest::RequestBuilder,
) -> Estimate {
    let answer = match request.propagate().send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
        Err(e) => {
            return Estimate::outcome(
                n,
                hours,
                "service_indisponible",
                format!(
                    "API Particulier est injoignable ({e}). Réessayez plus tard, ou transmettez votre avis d'imposition à la crèche."
                ),
            );
        }
    };
    match answer {
        (200, body) => {
            let data = &body["data"];
            let p = &data["parametres_calcul_participation_familiale"];
            let (Some(resources), Some(children)) = (
                p["base_ressources_annuelles"]["valeur"].as_f64(),
                p["nombre_enfants_a_charge"].as_u64(),
            ) else {
                let mut e = Estimate::outcome(
                    n,
                    hours,
                    "donnees_incompletes",
                    "La CAF n'a pas transmis les paramètres de calcul (base ressources, enfants à charge).".into(),
                );
                e.donnees_recues = received(PartyId::API_PARTICULIER.as_str(), data);
                return e;
            };
            let family = Family {
                annual_resources_cents: (resources * 100.0).round() as i64,
                children: children as u32,
                aeeh_children: p["nombre_enfants_beneficiaire_aeeh"].as_u64().unwrap_or(0) as u32,
            };
            let mut e = priced(
                c,
                n,
                hours,
                family,
                p["base_ressources_annuelles"]["annee_calcul"].as_i64(),
                "retenues par la CAF/MSA",
            );
            e.donnees_recues = received(PartyId::API_PARTICULIER.as_str(), data);
            e
        }
        (404, body) => {
            let code = body["errors"][0]["code"].as_str().unwrap_or("");
            let mut e = Estimate::outcome(
                n,
                hours,
                "sans_dossier_caf_msa",
                "Aucun dossier CAF ou MSA ne correspond à votre identité. La crèche calculera votre tarif à partir de votre avis d'imposition N-2 (ou du plancher si vous n'avez pas de ressources).".into(),
            );
            e.explications
                .push(format!("API Particulier a répondu 404 (code {code})."));
            e
        }
        (status @ (401 | 403), body) => Estimate::outcome(
            n,
            hours,
            "acces_refuse",
            format!(
                "API Particulier a refusé l'accès ({status}) : {}. Reconnectez-vous avec FranceConnect.",
                body["errors"][0]["detail"].as_str().unwrap_or("")
            ),
        ),
        (422, body) => Estimate::outcome(
            n,
            hours,
            "identite_non_trouvee",
            format!(
                "Identité refusée par API Particulier : {}",
                body["errors"][0]["detail"].as_str().unwrap_or("")
            ),
        ),
        (status, body) => Estimate::outcome(
            n,
            hours,
            "service_indisponible",
            format!(
                "Le service de la CAF/MSA ne répond pas (HTTP {status}{}). Votre demande n'est pas perdue : réessayez plus tard, ou transmettez votre avis d'imposition à la crèche.",
                body["errors"][0]["code"]
                    .as_str()
                    .map(|c| format!(", code {c}"))
                    .unwrap_or_default()
            ),
        ),
    }
}

/// The DGFiP's FranceConnect-mode tax situation (income year N-2).
///
/// Long: one data path end to end: the calls, then every answer mapped to the figures and their
/// explanation.
pub(super) async fn from_dgfip(
    c: &Creche,
    n: &NurseryConfig,
    hours: u32,
    user: &SignedIn,
    children: u32,
    aeeh: u32,
) -> Estimate {
    let unavailable = |detail: String| {
        Estimate::outcome(
            n,
            hours,
            "service_indisponible",
            format!(
                "Le service des impôts ne répond pas ({detail}). Réessayez plus tard, ou transmettez votre avis d'imposition à la crèche."
            ),
        )
    };
    let token = match c
        .http
        .post(format!("{}/token", c.dgfip_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.dgfip_client.0.as_str()),
            ("client_secret", c.dgfip_client.1.as_str()),
            ("scope", "RessourceIR"),
        ])
        .propagate()
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v["access_token"].as_str().map(String::from)),
        Ok(r) => return unavailable(format!("jeton de la passerelle : HTTP {}", r.status())),
        Err(e) => return unavailable(e.to_string()),
    };
    let Some(token) = token else {
        return unavailable("jeton de la passerelle illisible".into());
    };
    // The income of year N-2, as the scale asks.
    let annrev = i64::from(chrono::Datelike::year(&c.core.clock.now().date_naive())) - 2;
    let r = c
        .http
        .get(format!(
            "{}/impotparticulier/1.0/situations/ir/assiettes/annrev/{annrev}",
            c.dgfip_url
        ))
        .bearer_auth(token)
        .header("X-FranceConnect-OAuth", &user.access_token)
        .header("X-Correlation-ID", crate::http::uuid_like())
        .propagate()
        .send()
        .await;
    let (status, body) = match r {
        Ok(r) => (
            r.status().as_u16(),
            r.json::<Value>().await.unwrap_or(Value::Null),
        ),
        Err(e) => return unavailable(e.to_string()),
    };
    match status {
        200 => {
            let Some(rfr) = body["rfr"].as_f64() else {
                let mut e = Estimate::outcome(
                    n,
                    hours,
                    "donnees_incompletes",
                    "La DGFiP n'a pas transmis le revenu fiscal de référence.".into(),
                );
                e.donnees_recues = received(PartyId::DGFIP.as_str(), &body);
                return e;
            };
            let family = Family {
                annual_resources_cents: (rfr * 100.0).round() as i64,
                children,
                aeeh_children: aeeh,
            };
            let mut e = priced(
                c,
                n,
                hours,
                family,
                Some(annrev),
                "déclarées aux impôts (revenu fiscal de référence)",
            );
            e.donnees_recues = received(PartyId::DGFIP.as_str(), &body);
            e
        }
        404 => Estimate::outcome(
            n,
            hours,
            "sans_avis_imposition",
            format!(
                "La DGFiP n'a pas de situation fiscale {annrev} pour vous : transmettez vos justificatifs de ressources à la crèche."
            ),
        ),
        401 | 403 => Estimate::outcome(
            n,
            hours,
            "acces_refuse",
            format!(
                "La DGFiP a refusé l'accès ({status}) : {}. Reconnectez-vous avec FranceConnect.",
                body["message"]
                    .as_str()
                    .or(body["erreur"]["message"].as_str())
                    .unwrap_or("")
            ),
        ),
        other => unavailable(format!("HTTP {other}")),
    }
}

pub(super) fn identity_of(u: &SignedIn) -> Value {
    json!({
        "sub": u.sub, "acr": u.acr,
        "given_name": u.userinfo["given_name"], "family_name": u.userinfo["family_name"],
        "birthdate": u.userinfo["birthdate"], "gender": u.userinfo["gender"],
        "birthplace": u.userinfo["birthplace"], "birthcountry": u.userinfo["birthcountry"],
    })
}

/// What the parent asks for.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct EstimateRequest {
    pub(super) heures_annuelles: Option<u32>,
    /// Declared by the parent on the DGFiP path (the tax situation gives resources only).
    pub(super) enfants: Option<u32>,
    pub(super) enfants_aeeh: Option<u32>,
}

pub(super) fn check_hours(c: &Creche, hours: Option<u32>) -> Result<u32, SpError> {
    let h = hours.unwrap_or(c.default_hours);
    if h == 0 || h > 8784 {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-hours",
            "Nombre d'heures invalide",
            "heures_annuelles is between 1 and 8784 (a year's hours)",
        )
        .on_field("heures_annuelles"));
    }
    Ok(h)
}

pub(super) async fn estimate(
    c: &Creche,
    n: &NurseryConfig,
    user: &SignedIn,
    req: EstimateRequest,
) -> Result<Estimate, SpError> {
    let hours = check_hours(c, req.heures_annuelles)?;
    let mut e = match n.data_path {
        DataPath::ApiParticulierFranceConnect => {
            let request = c
                .http
                .get(format!(
                    "{}/v3/dss/participation_familiale_eaje/france_connect",
                    c.hub_url
                ))
                .bearer_auth(&user.access_token)
                .query(&[("recipient", c.recipient.as_str())]);
            from_api_particulier(c, n, hours, request).await
        }
        DataPath::DgfipFranceConnect => {
            let Some(children) = req.enfants.filter(|n| (1..=20).contains(n)) else {
                return Err(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "children-required",
                    "Nombre d'enfants à charge requis",
                    "on this nursery's tax path, declare enfants (1 to 20) and enfants_aeeh",
                ));
            };
            let aeeh = req.enfants_aeeh.unwrap_or(0);
            if aeeh > children {
                return Err(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-aeeh",
                    "Nombre d'enfants AEEH invalide",
                    "enfants_aeeh cannot exceed enfants",
                ));
            }
            from_dgfip(c, n, hours, user, children, aeeh).await
        }
        DataPath::ApiParticulierIdentite => {
            return Err(problem(
                StatusCode::CONFLICT,
                "counter-only",
                "Estimation au guichet",
                "this nursery reads family data at the counter: POST /api/creches/{id}/guichet",
            ));
        }
    };
    e.identite = Some(identity_of(user));
    Ok(e)
}

/// The parent's identity pivot as the agent types it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CounterRequest {
    pub(super) nom_naissance: String,
    pub(super) prenoms: String,
    /// `F` or `M`.
    pub(super) sexe: String,
    /// `AAAA-MM-JJ`.
    pub(super) date_naissance: String,
    #[serde(default)]
    pub(super) code_cog_commune_naissance: String,
    #[serde(default = "france")]
    pub(super) code_cog_pays_naissance: String,
    pub(super) heures_annuelles: Option<u32>,
    /// The agent confirms the family was told which data is read and why.
    pub(super) famille_informee: bool,
}

pub(super) fn france() -> String {
    "99100".into()
}

pub(super) async fn counter(
    c: &Creche,
    n: &NurseryConfig,
    req: CounterRequest,
) -> Result<Estimate, SpError> {
    if n.data_path != DataPath::ApiParticulierIdentite {
        return Err(problem(
            StatusCode::CONFLICT,
            "franceconnect-only",
            "Estimation avec FranceConnect",
            "this nursery reads family data with the parent signed in: POST /api/creches/{id}/estimation",
        ));
    }
    if !req.famille_informee {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "family-not-informed",
            "Information de la famille requise",
            &format!(
                "confirm famille_informee: the family must be told of the data read and its legal basis ({})",
                n.legal_basis
            ),
        )
        .on_field("famille_informee"));
    }
    let hours = check_hours(c, req.heures_annuelles)?;
    let date: Vec<&str> = req.date_naissance.split('-').collect();
    if date.len() != 3 || date.iter().any(|p| p.parse::<u32>().is_err()) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-birthdate",
            "Date de naissance invalide",
            "date_naissance is AAAA-MM-JJ",
        )
        .on_field("date_naissance"));
    }
    let mut query: Vec<(String, String)> = vec![
        ("recipient".into(), c.recipient.clone()),
        ("nomNaissance".into(), req.nom_naissance.clone()),
        ("sexeEtatCivil".into(), req.sexe.clone()),
        ("anneeDateNaissance".into(), date[0].into()),
        ("moisDateNaissance".into(), date[1].into()),
        ("jourDateNaissance".into(), date[2].into()),
        (
            "codeCogInseePaysNaissance".into(),
            req.code_cog_pays_naissance.clone(),
        ),
    ];
    if !req.code_cog_commune_naissance.is_empty() {
        query.push((
            "codeCogInseeCommuneNaissance".into(),
            req.code_cog_commune_naissance.clone(),
        ));
    }
    for p in req.prenoms.split_whitespace() {
        query.push(("prenoms[]".into(), p.into()));
    }
    let request = c
        .http
        .get(format!(
            "{}/v3/dss/participation_familiale_eaje/identite",
            c.hub_url
        ))
        .bearer_auth(&c.hub_token)
        .query(&query);
    let mut e = from_api_particulier(c, n, hours, request).await;
    e.explications.push(format!(
        "Base légale de la consultation : {}",
        n.legal_basis
    ));
    Ok(e)
}
