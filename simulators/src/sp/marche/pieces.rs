//! The application's pieces, fetched through API Entreprise with the tender as `object` and the
//! buyer as `recipient`: identity and head office, RCS extract and officers, attestations,
//! MSA compliance; each piece's status and the findings for the buyer.

use super::*;

/// One call to API Entreprise: status and body (null when unreadable), or why it failed.
pub(super) async fn hub_get(
    m: &Marche,
    path: &str,
    tender: &Tender,
) -> Result<(u16, Value), String> {
    let url = format!("{}{path}", m.hub_url);
    let r = m
        .http
        .get(&url)
        .bearer_auth(&m.hub_token)
        .query(&[
            ("context", m.context.as_str()),
            ("object", tender.reference.as_str()),
            ("recipient", tender.buyer_siret.as_str()),
        ])
        .propagate()
        .send()
        .await
        .map_err(|e| format!("API Entreprise injoignable : {e}"))?;
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

pub(super) fn error_of(body: &Value) -> (Option<String>, String) {
    let e = &body["errors"][0];
    (
        e["code"].as_str().map(String::from),
        e["detail"]
            .as_str()
            .or(e["title"].as_str())
            .unwrap_or("erreur sans détail")
            .to_string(),
    )
}

pub(super) fn piece(kind: &str, status: &str, source: &str, detail: impl Into<String>) -> Piece {
    Piece {
        kind: kind.into(),
        status: status.into(),
        source: source.into(),
        detail: detail.into(),
        document_url: None,
        valid_from: None,
        valid_until: None,
        code: None,
        hub_status: None,
    }
}

/// A hub answer that is not a result: the piece saying why.
pub(super) fn unavailable(
    kind: &str,
    source: &str,
    outcome: Result<(u16, Value), String>,
) -> Piece {
    match outcome {
        Err(e) => piece(kind, "indisponible", source, e),
        Ok((status, body)) => {
            let (code, detail) = error_of(&body);
            let state = match status {
                404 => "introuvable",
                451 => "non_diffusible",
                _ => "indisponible",
            };
            Piece {
                code,
                hub_status: Some(status),
                ..piece(kind, state, source, format!("{detail} (HTTP {status})"))
            }
        }
    }
}

pub(super) fn address_of(etablissement: &Value) -> Value {
    let a = &etablissement["adresse"]["acheminement_postal"];
    let lines: Vec<&str> = ["l4", "l5", "l6", "l7"]
        .iter()
        .filter_map(|k| a[*k].as_str())
        .collect();
    json!(lines.join(", "))
}

/// Fetches every piece of an application and decides its status.
pub(super) async fn assemble(m: &Marche, app: &mut Application, tender: &Tender, user: &SignedIn) {
    let siret = app.siret.clone();
    let siren = siret[..9].to_string();
    let mut pieces = Vec::new();
    let mut findings = Vec::new();
    let mut entreprise = json!({"siret": siret, "siren": siren});
    // INSEE: the legal unit (identity), the establishment applied with, and the head office.
    let mut naf = String::new();
    let mut siege = String::new();
    match hub_get(
        m,
        &format!("/v4/insee/sirene/unites_legales/{siren}"),
        tender,
    )
    .await
    {
        Ok((200, body)) => {
            let ul = &body["data"];
            naf = ul["activite_principale"]["code"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let name = ul["personne_morale_attributs"]["raison_sociale"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| {
                    let pp = &ul["personne_physique_attributs"];
                    format!(
                        "{} {}",
                        pp["prenom_usuel"].as_str().unwrap_or(""),
                        pp["nom_naissance"].as_str().unwrap_or("")
                    )
                    .trim()
                    .to_string()
                });
            entreprise["raison_sociale"] = json!(name);
            entreprise["forme_juridique"] = ul["forme_juridique"]["libelle"].clone();
            entreprise["activite_principale"] = json!(format!(
                "{} — {}",
                naf,
                ul["activite_principale"]["libelle"].as_str().unwrap_or("")
            ));
            entreprise["tranche_effectif"] = ul["tranche_effectif_salarie"]["intitule"].clone();
            entreprise["etat_administratif"] = ul["etat_administratif"].clone();
            siege = ul["siret_siege_social"].as_str().unwrap_or("").to_string();
            entreprise["siret_siege"] = json!(siege);
            pieces.push(piece(
                "identite_insee",
                "obtenue",
                "INSEE",
                "Identité de l'unité légale (répertoire Sirene)",
            ));
            if ul["etat_administratif"] == "C" {
                findings.push(Finding {
                    level: "rejet".into(),
                    message:
                        "L'entreprise est cessée (répertoire Sirene) : elle ne peut pas candidater."
                            .into(),
                });
            }
        }
        other => {
            let p = unavailable("identite_insee", "INSEE", other);
            match p.status.as_str() {
                "non_diffusible" => findings.push(Finding {
                    level: "a_verifier".into(),
                    message: "Données non diffusibles (INSEE) : l'acheteur complètera l'identité de l'entreprise à partir des pièces qu'elle fournira."
                        .into(),
                }),
                "introuvable" => findings.push(Finding {
                    level: "rejet".into(),
                    message: "SIREN inconnu du répertoire Sirene.".into(),
                }),
                _ => {}
            }
            pieces.push(p);
        }
    }
    let identity_known = pieces.iter().any(|p| p.status == "obtenue");
    if identity_known {
        match hub_get(
            m,
            &format!("/v4/insee/sirene/etablissements/{siret}"),
            tender,
        )
        .await
        {
            Ok((200, body)) => {
                let e = &body["data"];
                entreprise["adresse_etablissement"] = address_of(e);
                if siege == siret || siege.is_empty() {
                    entreprise["adresse_siege"] = address_of(e);
                }
                if e["etat_administratif"] == "F" {
                    findings.push(Finding {
                        level: "rejet".into(),
                        message: "Cet établissement est fermé (répertoire Sirene).".into(),
                    });
                }
            }
            other => {
                let p = unavailable("etablissement_insee", "INSEE", other);
                if p.status == "introuvable" {
                    findings.push(Finding {
                        level: "rejet".into(),
                        message: "SIRET inconnu du répertoire Sirene.".into(),
                    });
                }
                pieces.push(p);
            }
        }
        if !siege.is_empty() && siege != siret {
            match hub_get(
                m,
                &format!("/v4/insee/sirene/etablissements/{siege}"),
                tender,
            )
            .await
            {
                Ok((200, s)) => entreprise["adresse_siege"] = address_of(&s["data"]),
                other => pieces.push(unavailable("siege_social", "INSEE", other)),
            }
        }
    }
    // Infogreffe: RCS extract and officers.
    match hub_get(
        m,
        &format!("/v3/infogreffe/rcs/unites_legales/{siren}/extrait_kbis"),
        tender,
    )
    .await
    {
        Ok((200, body)) => {
            let k = &body["data"];
            let officers: Vec<Value> = k["mandataires_sociaux"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| {
                    json!({
                        "nom": o["nom"].as_str().or(o["raison_sociale"].as_str()).unwrap_or(""),
                        "prenom": o["prenom"],
                        "fonction": o["fonction"],
                    })
                })
                .collect();
            entreprise["rcs"] = json!({
                "greffe": k["greffe"]["valeur"],
                "date_immatriculation": k["date_immatriculation"],
                "capital": k["capital"]["montant"],
                "mandataires_sociaux": officers,
            });
            if entreprise.get("raison_sociale").is_none() {
                entreprise["raison_sociale"] = k["personne_morale"]["denomination"].clone();
            }
            if !k["date_radiation"].is_null() {
                findings.push(Finding {
                    level: "rejet".into(),
                    message: format!(
                        "L'entreprise est radiée du RCS depuis le {}.",
                        k["date_radiation"].as_str().unwrap_or("?")
                    ),
                });
            }
            let applicant = (
                norm(user.userinfo["family_name"].as_str().unwrap_or("")),
                norm(
                    user.userinfo["given_name"]
                        .as_str()
                        .unwrap_or("")
                        .split(' ')
                        .next()
                        .unwrap_or(""),
                ),
            );
            let is_officer = m.core.defects.has(Defect::MarcheSkipsOfficerCheck)
                || officers.iter().any(|o| {
                    norm(o["nom"].as_str().unwrap_or("")) == applicant.0
                        && norm(
                            o["prenom"]
                                .as_str()
                                .unwrap_or("")
                                .split(' ')
                                .next()
                                .unwrap_or(""),
                        ) == applicant.1
                });
            app.applicant["mandataire_social"] = json!(is_officer);
            if !is_officer {
                findings.push(Finding {
                    level: "a_verifier".into(),
                    message: format!(
                        "{} n'apparaît pas parmi les mandataires sociaux : l'acheteur vérifiera son pouvoir d'engager l'entreprise.",
                        user.display_name()
                    ),
                });
            }
            pieces.push(Piece {
                valid_from: k["date_extrait"].as_str().map(String::from),
                ..piece(
                    "extrait_rcs",
                    "obtenue",
                    "Infogreffe",
                    "Extrait d'immatriculation au RCS",
                )
            });
        }
        Ok((404, body)) => {
            let (code, detail) = error_of(&body);
            pieces.push(Piece {
                code,
                ..piece(
                    "extrait_rcs",
                    "non_applicable",
                    "Infogreffe",
                    format!("Pas d'immatriculation au RCS ({detail})"),
                )
            });
        }
        other => pieces.push(unavailable("extrait_rcs", "Infogreffe", other)),
    }
    // URSSAF: attestation de vigilance.
    match hub_get(
        m,
        &format!("/v4/urssaf/unites_legales/{siren}/attestation_vigilance"),
        tender,
    )
    .await
    {
        Ok((200, body)) => {
            let d = &body["data"];
            let refused = d["entity_status"]["code"] != "ok"
                && !m.core.defects.has(Defect::MarcheAcceptsRefusedVigilance);
            if refused {
                findings.push(Finding {
                    level: "rejet".into(),
                    message: format!(
                        "Attestation de vigilance refusée par l'Urssaf : {}",
                        d["entity_status"]["description"].as_str().unwrap_or("")
                    ),
                });
            }
            pieces.push(Piece {
                document_url: d["document_url"].as_str().map(String::from),
                valid_from: d["date_debut_validite"].as_str().map(String::from),
                valid_until: d["date_fin_validite"].as_str().map(String::from),
                ..piece(
                    "attestation_vigilance",
                    if refused { "refusee" } else { "obtenue" },
                    "URSSAF",
                    d["entity_status"]["libelle"].as_str().unwrap_or(""),
                )
            });
        }
        Ok((502, body)) if error_of(&body).0.as_deref() == Some("04501") => {
            findings.push(Finding {
                level: "a_verifier".into(),
                message: "L'Urssaf analyse la situation de l'entreprise : l'attestation sera disponible sous deux jours (actualisez la candidature).".into(),
            });
            pieces.push(unavailable(
                "attestation_vigilance",
                "URSSAF",
                Ok((502, body)),
            ));
        }
        Ok((404, body)) => {
            findings.push(Finding {
                level: "a_verifier".into(),
                message: "Entreprise hors du périmètre de l'Urssaf (autre organisme de recouvrement) : l'attestation de vigilance est à fournir par l'entreprise.".into(),
            });
            pieces.push(unavailable(
                "attestation_vigilance",
                "URSSAF",
                Ok((404, body)),
            ));
        }
        other => pieces.push(unavailable("attestation_vigilance", "URSSAF", other)),
    }
    // DGFiP: attestation de régularité fiscale.
    match hub_get(
        m,
        &format!("/v4/dgfip/unites_legales/{siren}/attestation_fiscale"),
        tender,
    )
    .await
    {
        Ok((200, body)) => {
            let d = &body["data"];
            pieces.push(Piece {
                document_url: d["document_url"].as_str().map(String::from),
                valid_from: d["date_delivrance_attestation"].as_str().map(String::from),
                ..piece(
                    "attestation_fiscale",
                    "obtenue",
                    "DGFiP",
                    "Attestation de régularité fiscale",
                )
            });
        }
        Ok((404, body)) if error_of(&body).0.as_deref() == Some("03003") => {
            let (code, detail) = error_of(&body);
            findings.push(Finding {
                level: "rejet".into(),
                message: format!("Attestation fiscale refusée par la DGFiP : {detail}"),
            });
            pieces.push(Piece {
                code,
                ..piece("attestation_fiscale", "refusee", "DGFiP", detail)
            });
        }
        other => pieces.push(unavailable("attestation_fiscale", "DGFiP", other)),
    }
    // MSA: only for agricultural employers.
    if m.msa_divisions.iter().any(|d| naf.starts_with(d.as_str())) {
        match hub_get(
            m,
            &format!("/v3/msa/etablissements/{siret}/conformite_cotisations"),
            tender,
        )
        .await
        {
            Ok((200, body)) => {
                let status = body["data"]["status"].as_str().unwrap_or("");
                let ok = status == "up_to_date";
                if !ok {
                    findings.push(Finding {
                        level: if status == "outdated" {
                            "rejet"
                        } else {
                            "a_verifier"
                        }
                        .into(),
                        message: format!("Cotisations MSA : {status}"),
                    });
                }
                pieces.push(piece(
                    "conformite_msa",
                    if ok { "obtenue" } else { "refusee" },
                    "MSA",
                    format!("Conformité des cotisations : {status}"),
                ));
            }
            other => pieces.push(unavailable("conformite_msa", "MSA", other)),
        }
    } else {
        pieces.push(piece(
            "conformite_msa",
            "non_applicable",
            "MSA",
            "Activité non agricole : la MSA n'est pas interrogée",
        ));
    }
    for p in &pieces {
        // A certificate the hub could not find: the company will have to provide it.
        if p.status == "introuvable"
            && matches!(
                p.kind.as_str(),
                "attestation_fiscale" | "conformite_msa" | "siege_social"
            )
        {
            findings.push(Finding {
                level: "a_verifier".into(),
                message: format!(
                    "Pièce « {} » introuvable auprès de {} ({}) : l'entreprise la fournira.",
                    p.kind, p.source, p.detail
                ),
            });
        }
        if p.status == "indisponible" && p.code.as_deref() != Some("04501") {
            findings.push(Finding {
                level: "indisponible".into(),
                message: format!(
                    "{} ne répond pas ({}) : votre candidature est enregistrée ; actualisez-la plus tard pour obtenir la pièce « {} ».",
                    p.source, p.detail, p.kind
                ),
            });
        }
    }
    app.status = if findings.iter().any(|f| f.level == "rejet") {
        Status::Rejetee
    } else if findings.iter().any(|f| f.level == "indisponible") {
        Status::Incomplete
    } else if findings.iter().any(|f| f.level == "a_verifier") {
        Status::AVerifier
    } else {
        Status::Complete
    };
    app.entreprise = entreprise;
    app.pieces = pieces;
    app.findings = findings;
    app.attempts += 1;
    app.updated_at = m.core.clock.now().to_rfc3339();
}

/// Upper case, accents and punctuation dropped: names as registries compare them.
pub(super) fn norm(s: &str) -> String {
    deunicode::deunicode(s)
        .to_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

pub(super) fn applicant_json(u: &SignedIn) -> Value {
    json!({
        "sub": u.sub,
        "acr": u.acr,
        "given_name": u.userinfo["given_name"],
        "family_name": u.userinfo["family_name"],
        "birthdate": u.userinfo["birthdate"],
        "email": u.userinfo["email"],
    })
}
