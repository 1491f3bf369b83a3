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

/// Fetches every piece of an application through the hub, then decides its status with
/// [`Draft`], which is pure over the hub's answers.
pub(super) async fn assemble(m: &Marche, app: &mut Application, tender: &Tender, user: &SignedIn) {
    let siret = app.siret.clone();
    let siren = siret[..9].to_string();
    let get = |path: String| async move { hub_get(m, &path, tender).await };
    let mut draft = Draft::new(&siret);
    draft.identity(get(format!("/v4/insee/sirene/unites_legales/{siren}")).await);
    if draft.identity_known() {
        draft.establishment(get(format!("/v4/insee/sirene/etablissements/{siret}")).await);
        if let Some(siege) = draft.other_head_office() {
            draft.head_office(get(format!("/v4/insee/sirene/etablissements/{siege}")).await);
        }
    }
    let kbis = get(format!(
        "/v3/infogreffe/rcs/unites_legales/{siren}/extrait_kbis"
    ))
    .await;
    let skip_officer_check = m.core.defects.has(Defect::MarcheSkipsOfficerCheck);
    let officer = draft.rcs(kbis, user, skip_officer_check);
    if let Some(officer) = officer {
        app.applicant["mandataire_social"] = json!(officer);
    }
    let vigilance = get(format!(
        "/v4/urssaf/unites_legales/{siren}/attestation_vigilance"
    ))
    .await;
    let accept_refused = m.core.defects.has(Defect::MarcheAcceptsRefusedVigilance);
    draft.vigilance(vigilance, accept_refused);
    draft.fiscal(
        get(format!(
            "/v4/dgfip/unites_legales/{siren}/attestation_fiscale"
        ))
        .await,
    );
    // MSA: only for agricultural employers.
    let msa = if draft.agricultural(&m.msa_divisions) {
        Some(
            get(format!(
                "/v3/msa/etablissements/{siret}/conformite_cotisations"
            ))
            .await,
        )
    } else {
        None
    };
    draft.msa(msa);
    let (status, entreprise, pieces, findings) = draft.finish();
    app.status = status;
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
