//! API Particulier through its HTTP surface: identity and FranceConnect modes, field filtering
//! by scope, both regimes, errors.

use serde_json::{Value, json};

use crate::common::{Answer, Bench, nursery_franceconnect_token};

const QF: &str = "/v3/dss/quotient_familial/identite";
const EAJE: &str = "/v3/dss/participation_familiale_eaje/identite";

async fn token(b: &Bench, scopes: &[&str]) -> String {
    let a = b
        .send(
            b.http
                .post(b.url("api-particulier", "/_control/tokens"))
                .json(&json!({"scopes": scopes})),
        )
        .await;
    a.json["token"].as_str().unwrap().to_string()
}

fn recipient(b: &Bench) -> String {
    b.platform
        .population
        .company_persona("commune-acheteuse")
        .unwrap()
        .head_office()
        .siret
        .clone()
}

fn lefebvre(b: &Bench) -> String {
    format!(
        "recipient={}&nomNaissance=LEFEBVRE&prenoms[]=Alexis&prenoms[]=G%C3%A9r%C3%B4me&sexeEtatCivil=F&anneeDateNaissance=1982&moisDateNaissance=12&jourDateNaissance=27&codeCogInseePaysNaissance=99100&codeCogInseeCommuneNaissance=08105",
        recipient(b)
    )
}

async fn call(b: &Bench, jwt: &str, path: &str, query: &str) -> Answer {
    b.send(
        b.http
            .get(format!("{}?{query}", b.url("api-particulier", path)))
            .bearer_auth(jwt),
    )
    .await
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

#[tokio::test]
async fn eaje_parameters_by_identity_filtered_by_scope() {
    let b = Bench::start().await;
    let all = token(
        &b,
        &[
            "cnav_participation_familiale_eaje_allocataires",
            "cnav_participation_familiale_eaje_enfants",
            "cnav_participation_familiale_eaje_adresse",
            "cnav_participation_familiale_eaje_parametres_calcul",
        ],
    )
    .await;
    let a = call(&b, &all, EAJE, &lefebvre(&b)).await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.content_type(), "application/vnd.api+json");
    let p = &a.json["data"]["parametres_calcul_participation_familiale"];
    assert_eq!(p["nombre_enfants_a_charge"], 2);
    assert_eq!(p["nombre_enfants_beneficiaire_aeeh"], 1);
    assert_eq!(p["base_ressources_annuelles"]["valeur"], 40923);
    assert_eq!(
        a.json["data"]["allocataires"][0]["date_naissance"],
        "1982-12-27"
    );
    assert_eq!(
        a.json["data"]["allocataires"][0]["code_cog_insee_commune_naissance"],
        "08105"
    );
    // Only the parameters: the other keys are omitted, not nulled.
    let params_only = token(&b, &["cnav_participation_familiale_eaje_parametres_calcul"]).await;
    let a = call(&b, &params_only, EAJE, &lefebvre(&b)).await;
    assert_eq!(
        keys(&a.json["data"]),
        ["parametres_calcul_participation_familiale"]
    );
    // A QF token cannot reach the EAJE endpoint.
    let qf = token(&b, &["cnaf_quotient_familial"]).await;
    assert_eq!(
        call(&b, &qf, EAJE, &lefebvre(&b)).await.json["errors"][0]["code"],
        "00100"
    );
    assert_eq!(
        call(&b, &params_only, EAJE, &lefebvre(&b)).await.headers["ratelimit-limit"],
        "20"
    );
    b.stop().await;
}

#[tokio::test]
async fn quotient_familial_from_either_regime() {
    let b = Bench::start().await;
    let jwt = token(&b, &["cnaf_quotient_familial", "cnaf_enfants"]).await;
    let a = call(&b, &jwt, QF, &lefebvre(&b)).await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(keys(&a.json["data"]), ["enfants", "quotient_familial"]);
    assert_eq!(a.json["data"]["quotient_familial"]["fournisseur"], "CNAF");
    // An MSA file: the hub asks the CNAF, then the MSA.
    let roux = format!(
        "recipient={}&nomNaissance=ROUX&prenoms[]=Jeanne&sexeEtatCivil=F&anneeDateNaissance=1987&moisDateNaissance=6&jourDateNaissance=27&codeCogInseePaysNaissance=99100&codeCogInseeCommuneNaissance=51454",
        recipient(&b)
    );
    let m = call(&b, &jwt, QF, &roux).await;
    assert_eq!(m.json["data"]["quotient_familial"]["fournisseur"], "MSA");
    let journal = b.get("api-particulier", "/_control/hub-journal").await;
    let calls = journal.json["entries"][1]["provider_calls"]
        .as_array()
        .unwrap();
    assert_eq!(
        calls
            .iter()
            .map(|c| c["provider"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["cnaf", "msa"]
    );
    // No file anywhere: 35003. A bad identity: 00366. No recipient: 00203.
    let bernard = format!(
        "recipient={}&nomNaissance=BERNARD&prenoms[]=Elodie&sexeEtatCivil=F&anneeDateNaissance=1990&codeCogInseePaysNaissance=99100&codeCogInseeCommuneNaissance=69381",
        recipient(&b)
    );
    let n = call(&b, &jwt, QF, &bernard).await;
    assert_eq!(
        (n.status, n.json["errors"][0]["code"].as_str()),
        (404, Some("35003"))
    );
    let bad = call(&b, &jwt, QF, &format!("recipient={}&nomNaissance=X&prenoms[]=A&sexeEtatCivil=Z&anneeDateNaissance=1990&codeCogInseePaysNaissance=99100", recipient(&b))).await;
    assert_eq!(
        (bad.status, bad.json["errors"][0]["code"].as_str()),
        (422, Some("00366"))
    );
    let no_recipient = call(&b, &jwt, QF, "nomNaissance=LEFEBVRE").await;
    assert_eq!(no_recipient.json["errors"][0]["code"], "00203");
    // Cached per identity, shared across recipients, filtered per caller.
    let again = call(&b, &jwt, QF, &lefebvre(&b)).await;
    assert_eq!(again.headers["x-response-cached"], "true");
    let introspect = b
        .send(
            b.http
                .get(b.url("api-particulier", "/api/introspect"))
                .bearer_auth(&jwt),
        )
        .await;
    assert_eq!(
        introspect.json["scopes"],
        json!(["cnaf_quotient_familial", "cnaf_enfants"])
    );
    b.stop().await;
}

#[tokio::test]
async fn franceconnect_mode_takes_scopes_and_identity_from_the_citizen_token() {
    let b = Bench::start().await;
    // The nursery's registration at FranceConnect: identity pivot and the EAJE parameters only.
    let fc_token = nursery_franceconnect_token(
        &b,
        "openid identite_pivot cnav_participation_familiale_eaje_parametres_calcul",
    )
    .await;
    let a = b
        .send(
            b.http
                .get(format!(
                    "{}?recipient={}",
                    b.url(
                        "api-particulier",
                        "/v3/dss/participation_familiale_eaje/france_connect"
                    ),
                    recipient(&b)
                ))
                .bearer_auth(&fc_token),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(
        keys(&a.json["data"]),
        ["parametres_calcul_participation_familiale"]
    );
    assert_eq!(
        a.json["data"]["parametres_calcul_participation_familiale"]["base_ressources_annuelles"]["valeur"],
        40923
    );
    // The broker saw API Particulier's checktoken.
    let checks = b
        .get("fc", "/_control/journal?route=/api/v2/checktoken")
        .await;
    assert_eq!(
        checks.json["entries"][0]["caller"],
        "api-particulier-fd-000000000000000000000001"
    );
    // A FranceConnect token without QF scopes cannot read the QF; an unknown token is refused.
    let qf = b
        .send(
            b.http
                .get(format!(
                    "{}?recipient={}",
                    b.url(
                        "api-particulier",
                        "/v3/dss/quotient_familial/france_connect"
                    ),
                    recipient(&b)
                ))
                .bearer_auth(&fc_token),
        )
        .await;
    assert_eq!(
        (qf.status, qf.json["errors"][0]["code"].as_str()),
        (403, Some("00100"))
    );
    let unknown = b
        .send(
            b.http
                .get(format!(
                    "{}?recipient={}",
                    b.url(
                        "api-particulier",
                        "/v3/dss/quotient_familial/france_connect"
                    ),
                    recipient(&b)
                ))
                .bearer_auth("x".repeat(43)),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.json["errors"][0]["code"].as_str()),
        (401, Some("00101"))
    );
    // Every call is in the hub journal, the refusal before checktoken answered too.
    let journal = b.get("api-particulier", "/_control/hub-journal").await;
    let statuses: Vec<(u64, &str)> = journal.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_u64().unwrap(),
                e["endpoint"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (200, "/v3/dss/participation_familiale_eaje/france_connect"),
            (403, "/v3/dss/quotient_familial/france_connect"),
            (401, "/v3/dss/quotient_familial/france_connect"),
        ]
    );
    b.stop().await;
}

#[tokio::test]
async fn pings_of_the_regimes() {
    let b = Bench::start().await;
    let list = b.get("api-particulier", "/api/pings").await;
    let urls: Vec<String> = list.json["pings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(urls.len(), 2);
    for url in urls {
        let r = b.send(b.http.get(&url)).await;
        assert_eq!(
            (r.status, r.json["status"].as_str()),
            (200, Some("ok")),
            "{url}"
        );
    }
    assert_eq!(
        b.get("api-particulier", "/api/nobody/ping").await.status,
        404
    );
    b.stop().await;
}

#[tokio::test]
async fn identity_and_month_are_checked_before_any_provider_call() {
    let b = Bench::start().await;
    let jwt = token(&b, &["cnaf_quotient_familial"]).await;
    let cnaf = simulators::party::ids::CNAF;
    let before = b.get(cnaf, "/_control/journal").await.json["entries"]
        .as_array()
        .map_or(0, Vec::len);
    let base = lefebvre(&b);
    for (query, code) in [
        // The regimes keep 24 months of quotient familial.
        (format!("{base}&annee=1990&mois=1"), "00305"),
        // annee and mois go together.
        (format!("{base}&annee=2020"), "00305"),
        (format!("{base}&mois=3"), "00307"),
        (base.replace("99100", "00000"), "00366"),
        (base.replace("prenoms[]=Alexis", "prenoms[]=%20"), "00366"),
        (
            base.replace("anneeDateNaissance=1982", "anneeDateNaissance=1800"),
            "00366",
        ),
    ] {
        let a = call(&b, &jwt, QF, &query).await;
        assert_eq!(
            (a.status, a.json["errors"][0]["code"].as_str()),
            (422, Some(code)),
            "{query}: {}",
            a.json
        );
    }
    let after = b.get(cnaf, "/_control/journal").await.json["entries"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(after, before, "no call reached the CNAF");
    // The same identity, well formed, does reach it.
    assert_eq!(call(&b, &jwt, QF, &base).await.status, 200);
    let reached = b.get(cnaf, "/_control/journal").await.json["entries"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(reached > after);
    b.stop().await;
}
