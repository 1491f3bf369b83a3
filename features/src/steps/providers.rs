//! Data providers' contracts: INSEE, Infogreffe, URSSAF, the DGFiP gateway, the CNAF and MSA.

use cucumber::{then, when};
use simulators::party::ids;

use crate::exchange;
use crate::world::{BenchWorld, Step, at, ensure, text_of};

#[when(expr = "INSEE is asked for the legal unit of {string}")]
#[when(expr = "l'INSEE est interrogé sur l'unité légale de {string}")]
async fn insee_unit(w: &mut BenchWorld, who: String) -> Step {
    let siren = w.siren(&who)?;
    w.get(
        ids::INSEE,
        &format!("/entreprises/sirene/V3.11/siren/{siren}"),
    )
    .await?;
    Ok(())
}

#[when(expr = "INSEE is asked for the establishment {string}")]
async fn insee_establishment(w: &mut BenchWorld, siret: String) -> Step {
    let siret = match w.siret(&siret) {
        Ok(s) => s,
        Err(_) => siret,
    };
    w.get(
        ids::INSEE,
        &format!("/entreprises/sirene/V3.11/siret/{siret}"),
    )
    .await?;
    Ok(())
}

#[then(expr = "the error is in INSEE's format")]
#[then(expr = "l'erreur est au format de l'INSEE")]
async fn insee_error_format(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    let statut = a.json["header"]["statut"].as_u64();
    ensure(
        statut == Some(a.status as u64) && a.json["header"]["message"].is_string(),
        || {
            format!(
                "INSEE errors are {{\"header\": {{\"statut\": {}, \"message\": …}}}}; got {}",
                a.status,
                a.describe()
            )
        },
    )
}

#[when(expr = "URSSAF is asked for the attestation de vigilance of {string}")]
#[when(expr = "l'URSSAF est interrogée sur l'attestation de vigilance de {string}")]
async fn urssaf_attestation(w: &mut BenchWorld, who: String) -> Step {
    let siren = w.siren(&who)?;
    let a = w
        .get(
            ids::URSSAF,
            &format!("/api/v1/attestations/vigilance/{siren}"),
        )
        .await?;
    if let Some(code) = a.json["codeSecurite"].as_str() {
        w.kept.insert("code_securite".into(), code.to_string());
    }
    Ok(())
}

#[when(expr = "the buyer verifies the attestation of {string} with the code {string}")]
async fn urssaf_verify_code(w: &mut BenchWorld, who: String, code: String) -> Step {
    let siren = w.siren(&who)?;
    w.get(
        ids::URSSAF,
        &format!("/api/v1/attestations/verification?siren={siren}&code={code}"),
    )
    .await?;
    Ok(())
}

#[when(expr = "the buyer verifies the attestation of {string} with its security code")]
async fn urssaf_verify(w: &mut BenchWorld, who: String) -> Step {
    let siren = w.siren(&who)?;
    let code = w
        .kept
        .get("code_securite")
        .cloned()
        .ok_or("no attestation was fetched before (no security code)")?;
    w.get(
        ids::URSSAF,
        &format!("/api/v1/attestations/verification?siren={siren}&code={code}"),
    )
    .await?;
    Ok(())
}

#[then(expr = "the error is in URSSAF's format with code {string}")]
async fn urssaf_error(w: &mut BenchWorld, code: String) -> Step {
    let a = w.last()?;
    let got = text_of(at(&a.json, "errors.0.code"));
    ensure(got == code, || {
        format!("expected URSSAF code {code}, got {}", a.describe())
    })
}

/// A gateway token of the DGFiP for the profile's client.
async fn dgfip_token(w: &mut BenchWorld) -> Result<String, String> {
    if let Some(t) = w.kept.get("dgfip_token") {
        return Ok(t.clone());
    }
    let id = w.target.credential(ids::DGFIP, "client_id")?;
    let secret = w.target.credential(ids::DGFIP, "client_secret")?;
    let url = w.url(ids::DGFIP, "/token")?;
    let a = w
        .call(
            ids::DGFIP,
            exchange::client().post(url).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ]),
        )
        .await?;
    let token = a.json["access_token"]
        .as_str()
        .ok_or_else(|| format!("no gateway token: {}", a.describe()))?
        .to_string();
    w.kept.insert("dgfip_token".into(), token.clone());
    Ok(token)
}

#[when(expr = "the DGFiP is asked for the turnover of {string}")]
#[when(expr = "la DGFiP est interrogée sur le chiffre d'affaires de {string}")]
async fn dgfip_turnover(w: &mut BenchWorld, who: String) -> Step {
    let siret = w.siret(&who)?;
    let request = dgfip_get(w, &format!("/entreprises/1.0/chiffresaffaires/{siret}")).await?;
    w.call(ids::DGFIP, request).await?;
    Ok(())
}

/// A GET to the DGFiP gateway with the client's token and a correlation id.
async fn dgfip_get(w: &mut BenchWorld, path: &str) -> Result<reqwest::RequestBuilder, String> {
    let token = dgfip_token(w).await?;
    Ok(exchange::client()
        .get(w.url(ids::DGFIP, path)?)
        .bearer_auth(token)
        .header("X-Correlation-ID", "conformance"))
}

#[when(expr = "the DGFiP is asked for the turnover of {string} without a token")]
async fn dgfip_turnover_anonymous(w: &mut BenchWorld, who: String) -> Step {
    let siret = w.siret(&who)?;
    w.get(
        ids::DGFIP,
        &format!("/entreprises/1.0/chiffresaffaires/{siret}"),
    )
    .await?;
    Ok(())
}

#[then(expr = "the error is in the DGFiP's format")]
async fn dgfip_error(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    ensure(
        a.json["erreur"]["code"].is_string() || a.json["erreur"].is_object(),
        || {
            format!(
                "DGFiP errors carry an \"erreur\" object; got {}",
                a.describe()
            )
        },
    )
}

/// The identity pivot query of a citizen persona, as the CNAF takes it.
fn identity_query(w: &BenchWorld, persona: &str) -> Result<String, String> {
    let p = w.person(persona)?;
    let b = &p.birth_date;
    let mut pairs = vec![
        ("nomNaissance", p.family_name.clone()),
        ("prenoms", p.given_names.clone()),
        ("sexe", p.gender.letter().to_string()),
        ("anneeDateDeNaissance", b.year.to_string()),
        ("codePaysLieuDeNaissance", p.birthcountry.clone()),
    ];
    if b.month != 0 {
        pairs.push(("moisDateDeNaissance", b.month.to_string()));
    }
    if b.day != 0 {
        pairs.push(("jourDateDeNaissance", b.day.to_string()));
    }
    if !p.birthplace.is_empty() {
        pairs.push(("codeInseeLieuDeNaissance", p.birthplace.clone()));
    }
    serde_urlencoded::to_string(pairs).map_err(|e| e.to_string())
}

#[when(expr = "the CNAF is asked for the quotient familial of {string}")]
#[when(expr = "la CNAF est interrogée sur le quotient familial de {string}")]
async fn cnaf_qf(w: &mut BenchWorld, persona: String) -> Step {
    let q = identity_query(w, &persona)?;
    w.get(ids::CNAF, &format!("/api/v1/quotient-familial?{q}"))
        .await?;
    Ok(())
}

#[then(expr = "the error is in the CNAF's format")]
async fn cnaf_error(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    ensure(
        a.json["codeRetour"].is_string() || a.json["codeRetour"].is_number(),
        || format!("CNAF errors carry codeRetour; got {}", a.describe()),
    )
}

#[when(expr = "Infogreffe is asked for the RCS extract of {string}")]
async fn infogreffe_extract(w: &mut BenchWorld, who: String) -> Step {
    let siren = w.siren(&who)?;
    w.get(
        ids::INFOGREFFE,
        &format!("/api/v1/entreprises/{siren}/extrait-rcs"),
    )
    .await?;
    Ok(())
}

#[when(
    expr = "the DGFiP is asked for the citizen's {int} tax situation with their FranceConnect token"
)]
#[when(
    expr = "la DGFiP est interrogée sur la situation fiscale {int} de l'usager avec son jeton FranceConnect"
)]
async fn dgfip_franceconnect(w: &mut BenchWorld, annrev: u32) -> Step {
    let access = w.sign_in.access_token()?;
    let path = format!("/impotparticulier/1.0/situations/ir/assiettes/annrev/{annrev}");
    let request = dgfip_get(w, &path).await?;
    w.call(ids::DGFIP, request.header("X-FranceConnect-OAuth", access))
        .await?;
    Ok(())
}
