//! Every answer of the simulated hubs validates against the schema its own `/openapi.json`
//! documents for that route and status; those documents carry the real hubs' published
//! contracts (`simulators/src/hubs/contracts/`). Companies, people, every error the hub gives
//! before or after calling its providers, and the providers failing.

use serde_json::Value;

use crate::common::hub_token;
use crate::common::{Answer, Bench, nursery_franceconnect_token};

/// Counts answers and keeps what did not validate.
#[derive(Default)]
struct Tally {
    checked: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, doc: &Value, route: &str, what: &str, a: &Answer) {
        self.checked += 1;
        let status = a.status.to_string();
        let response = &doc["paths"][route]["get"]["responses"][&status];
        let Some(schema) = response["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .map(|c| &c["schema"])
        else {
            self.failures
                .push(format!("{route} {what}: status {status} undocumented"));
            return;
        };
        let validator = jsonschema::validator_for(schema).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(&a.json)
            .take(4)
            .map(|e| format!("{} {e}", e.instance_path()))
            .collect();
        if !errors.is_empty() {
            self.failures
                .push(format!("{route} {what} ({status}): {}", errors.join("; ")));
        }
    }

    fn assert_clean(&self, at_least: usize) {
        assert!(
            self.failures.is_empty(),
            "{} of {} answers do not validate:\n{}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n")
        );
        assert!(self.checked >= at_least, "only {} answers", self.checked);
    }
}

async fn fault(b: &Bench, party: &str, fault: Option<Value>) {
    let url = b.url(party, "/_control/faults");
    match fault {
        Some(f) => b.send(b.http.put(url).json(&f)).await,
        None => b.send(b.http.delete(url)).await,
    };
}

const FAULTS: [&str; 3] = [
    r#"{"status": 500}"#,
    r#"{"status": 503}"#,
    r#"{"malformed": true}"#,
];

#[tokio::test]
async fn api_entreprise_answers_follow_its_published_contract() {
    let b = Bench::start().await;
    let doc = b.get("api-entreprise", "/openapi.json").await.json;
    let scopes = [
        "entreprises",
        "etablissements",
        "extraits_rcs",
        "attestations_sociales",
        "attestations_fiscales",
        "chiffre_affaires_dgfip",
        "msa_cotisations",
    ];
    let token = hub_token(&b, "api-entreprise", &scopes).await;
    let weak = hub_token(&b, "api-entreprise", &["msa_cotisations"]).await;
    let buyer = b.siret("commune-acheteuse");
    let tracing = format!("recipient={buyer}&context=Test&object=contrat");
    let p = &b.platform.population;
    // Every company persona, and more companies than that (ceased, natural persons…).
    let companies: Vec<_> = p
        .companies
        .iter()
        .filter(|c| c.persona.is_some())
        .chain(p.companies.iter().filter(|c| c.persona.is_none()).take(40))
        .collect();
    let routes: [(&str, &str, &str); 7] = [
        ("/v4/insee/sirene/unites_legales/{siren}", "siren", "insee"),
        ("/v4/insee/sirene/etablissements/{siret}", "siret", "insee"),
        (
            "/v4/urssaf/unites_legales/{siren}/attestation_vigilance",
            "siren",
            "urssaf",
        ),
        (
            "/v3/infogreffe/rcs/unites_legales/{siren}/extrait_kbis",
            "siren",
            "infogreffe",
        ),
        (
            "/v3/msa/etablissements/{siret}/conformite_cotisations",
            "siret",
            "msa",
        ),
        (
            "/v4/dgfip/unites_legales/{siren}/attestation_fiscale",
            "siren",
            "dgfip",
        ),
        (
            "/v3/dgfip/etablissements/{siret}/chiffres_affaires",
            "siret",
            "dgfip",
        ),
    ];
    let mut tally = Tally::default();
    for (route, kind, provider) in routes {
        let get = async |id: &str, query: &str, jwt: Option<&str>| {
            let url = format!(
                "{}?{query}",
                b.url("api-entreprise", &route.replace(&format!("{{{kind}}}"), id))
            );
            let mut r = b.http.get(url).header("Cache-Control", "no-cache");
            if let Some(jwt) = jwt {
                r = r.bearer_auth(jwt);
            }
            b.send(r).await
        };
        for c in &companies {
            // Every establishment, the closed ones too.
            let ids: Vec<String> = if kind == "siren" {
                vec![c.siren.clone()]
            } else {
                c.establishments.iter().map(|e| e.siret.clone()).collect()
            };
            for id in ids {
                let a = get(&id, &tracing, Some(&token)).await;
                tally.check(&doc, route, &id, &a);
            }
        }
        let id = if kind == "siren" {
            companies[0].siren.clone()
        } else {
            companies[0].head_office().siret.clone()
        };
        let refusals = [
            ("no token", tracing.clone(), None),
            ("no scope", tracing.clone(), Some(weak.as_str())),
            (
                "no recipient",
                "context=Test&object=x".to_string(),
                Some(token.as_str()),
            ),
            (
                "no context",
                format!("recipient={buyer}&object=x"),
                Some(token.as_str()),
            ),
        ];
        for (what, query, jwt) in refusals {
            let a = get(&id, &query, jwt).await;
            tally.check(&doc, route, what, &a);
        }
        let broken = format!(
            "{}{}",
            &id[..id.len() - 1],
            (id.as_bytes()[id.len() - 1] - b'0' + 1) % 10
        );
        let a = get(&broken, &tracing, Some(&token)).await;
        tally.check(&doc, route, "bad check digit", &a);
        // The provider failing: the MSA is asked about a farm, the others about the first persona.
        let farm = b.siret("gaec-msa");
        let asked = if provider == "msa" { farm } else { id.clone() };
        for f in FAULTS {
            fault(&b, provider, Some(serde_json::from_str(f).unwrap())).await;
            let a = get(&asked, &tracing, Some(&token)).await;
            tally.check(&doc, route, f, &a);
            fault(&b, provider, None).await;
        }
    }
    tally.assert_clean(400);
    b.stop().await;
}

#[tokio::test]
async fn api_particulier_answers_follow_its_published_contract() {
    let b = Bench::start().await;
    let doc = b.get("api-particulier", "/openapi.json").await.json;
    let qf = hub_token(
        &b,
        "api-particulier",
        &[
            "cnaf_quotient_familial",
            "cnaf_allocataires",
            "cnaf_enfants",
            "cnaf_adresse",
        ],
    )
    .await;
    let eaje = hub_token(
        &b,
        "api-particulier",
        &[
            "cnav_participation_familiale_eaje_allocataires",
            "cnav_participation_familiale_eaje_enfants",
            "cnav_participation_familiale_eaje_adresse",
            "cnav_participation_familiale_eaje_parametres_calcul",
        ],
    )
    .await;
    let buyer = b.siret("commune-acheteuse");
    let p = &b.platform.population;
    let adults: Vec<_> = p
        .citizens
        .iter()
        .filter(|c| p.household_of(c).declarants.contains(&c.id))
        .filter(|c| c.persona.is_some())
        .chain(
            p.citizens
                .iter()
                .filter(|c| p.household_of(c).declarants.contains(&c.id))
                .take(40),
        )
        .collect();
    let mut tally = Tally::default();
    for (route, jwt) in [
        ("/v3/dss/quotient_familial/identite", &qf),
        ("/v3/dss/participation_familiale_eaje/identite", &eaje),
    ] {
        for (i, c) in adults.iter().enumerate() {
            let mut q: Vec<(&str, String)> = vec![
                ("recipient", buyer.clone()),
                ("nomNaissance", c.family_name.clone()),
                ("sexeEtatCivil", c.gender.letter().to_string()),
                ("codeCogInseePaysNaissance", c.birthcountry.clone()),
            ];
            q.extend(
                c.given_names
                    .split(' ')
                    .take(3)
                    .map(|g| ("prenoms[]", g.to_string())),
            );
            // Every other one without its birth year, which the contract makes optional.
            if i % 2 == 0 {
                q.push(("anneeDateNaissance", c.birth_date.year.to_string()));
            }
            if c.birth_date.month != 0 {
                q.push(("moisDateNaissance", c.birth_date.month.to_string()));
            }
            if c.birth_date.day != 0 {
                q.push(("jourDateNaissance", c.birth_date.day.to_string()));
            }
            if !c.birthplace.is_empty() {
                q.push(("codeCogInseeCommuneNaissance", c.birthplace.clone()));
            }
            let ask = async |q: &[(&str, String)], jwt: Option<&str>| {
                let mut r = b
                    .http
                    .get(b.url("api-particulier", route))
                    .query(q)
                    .header("Cache-Control", "no-cache");
                if let Some(jwt) = jwt {
                    r = r.bearer_auth(jwt);
                }
                b.send(r).await
            };
            let a = ask(&q, Some(jwt)).await;
            tally.check(&doc, route, &c.family_name, &a);
            if i == 0 {
                let mut bad = q.clone();
                bad.push(("moisDateNaissance", "13".into()));
                tally.check(&doc, route, "month 13", &ask(&bad, Some(jwt)).await);
                tally.check(&doc, route, "no token", &ask(&q, None).await);
                let no_recipient: Vec<_> = q
                    .iter()
                    .filter(|(k, _)| *k != "recipient")
                    .cloned()
                    .collect();
                tally.check(
                    &doc,
                    route,
                    "no recipient",
                    &ask(&no_recipient, Some(jwt)).await,
                );
                for f in FAULTS {
                    fault(&b, "cnaf", Some(serde_json::from_str(f).unwrap())).await;
                    tally.check(&doc, route, f, &ask(&q, Some(jwt)).await);
                    fault(&b, "cnaf", None).await;
                }
            }
        }
    }
    // FranceConnect mode, with the nursery's FranceConnect token.
    // Every data scope: the contract describes answers whose keys no scope masks.
    let access = nursery_franceconnect_token(
        &b,
        "openid identite_pivot cnaf_quotient_familial cnaf_allocataires cnaf_enfants cnaf_adresse cnav_participation_familiale_eaje_allocataires cnav_participation_familiale_eaje_enfants cnav_participation_familiale_eaje_adresse cnav_participation_familiale_eaje_parametres_calcul",
    )
    .await;
    for route in [
        "/v3/dss/participation_familiale_eaje/france_connect",
        "/v3/dss/quotient_familial/france_connect",
    ] {
        for (what, bearer) in [("signed in", access.as_str()), ("forged", "not-a-token")] {
            let a = b
                .send(
                    b.http
                        .get(b.url("api-particulier", route))
                        .query(&[("recipient", buyer.as_str())])
                        .bearer_auth(bearer),
                )
                .await;
            tally.check(&doc, route, what, &a);
        }
    }
    tally.assert_clean(120);
    b.stop().await;
}

/// The cases of the real staging environments answer here with the same values.
#[tokio::test]
async fn the_real_staging_cases_replay() {
    let b = Bench::start().await;
    let ae = hub_token(
        &b,
        "api-entreprise",
        &["entreprises", "etablissements", "extraits_rcs"],
    )
    .await;
    let buyer = b.siret("commune-acheteuse");
    let get = async |path: &str| {
        let url = format!(
            "{}?recipient={buyer}&context=Test&object=staging",
            b.url("api-entreprise", path)
        );
        b.send(b.http.get(url).bearer_auth(&ae)).await
    };
    let sncf = get("/v4/insee/sirene/unites_legales/552049447").await;
    let d = &sncf.json["data"];
    assert_eq!(sncf.status, 200, "{}", sncf.json);
    assert_eq!(
        (
            d["siret_siege_social"].as_str(),
            d["personne_morale_attributs"]["raison_sociale"].as_str(),
            d["personne_morale_attributs"]["sigle"].as_str(),
        ),
        (
            Some("55204944776279"),
            Some("SOCIETE NATIONALE SNCF"),
            Some("SNCF")
        )
    );
    assert_eq!(
        (
            d["forme_juridique"]["code"].as_str(),
            d["activite_principale"]["code"].as_str(),
            d["tranche_effectif_salarie"]["code"].as_str(),
            d["categorie_entreprise"].as_str(),
            d["date_creation"].as_i64(),
        ),
        (
            Some("5599"),
            Some("49.10Z"),
            Some("53"),
            Some("GE"),
            Some(-473_389_200)
        )
    );
    let head = get("/v4/insee/sirene/etablissements/55204944776279").await;
    assert_eq!(head.json["data"]["siege_social"], true, "{}", head.json);
    let kbis = get("/v3/infogreffe/rcs/unites_legales/552049447/extrait_kbis").await;
    assert_eq!(kbis.status, 200, "{}", kbis.json);
    let crf = get("/v4/insee/sirene/unites_legales/775672272").await;
    assert_eq!(
        (
            crf.json["data"]["siret_siege_social"].as_str(),
            crf.json["data"]["forme_juridique"]["code"].as_str(),
            crf.json["data"]["date_creation"].as_i64(),
        ),
        (Some("77567227221138"), Some("9230"), Some(-556_765_200))
    );
    let dinum = get("/v4/insee/sirene/etablissements/13002526500013").await;
    assert_eq!(
        dinum.json["data"]["unite_legale"]["personne_morale_attributs"]["sigle"], "DINUM",
        "{}",
        dinum.json
    );
    // API Particulier's nominal identity, with the staging case's own parameters.
    let ap = hub_token(
        &b,
        "api-particulier",
        &["cnav_participation_familiale_eaje_parametres_calcul"],
    )
    .await;
    let a = b
        .send(
            b.http
                .get(b.url(
                    "api-particulier",
                    "/v3/dss/participation_familiale_eaje/identite",
                ))
                .query(&[
                    ("recipient", buyer.as_str()),
                    ("codeCogInseeCommuneNaissance", "08480"),
                    ("codeCogInseePaysNaissance", "99100"),
                    ("sexeEtatCivil", "F"),
                    ("nomNaissance", "LEFEBVRE"),
                    ("prenoms[]", "ALEXIS"),
                    ("prenoms[]", "GÉRÔME"),
                    ("prenoms[]", "JEAN-PHILIPPE"),
                    ("anneeDateNaissance", "1982"),
                    ("moisDateNaissance", "12"),
                    ("jourDateNaissance", "27"),
                ])
                .bearer_auth(&ap),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.json);
    let calcul = &a.json["data"]["parametres_calcul_participation_familiale"];
    assert_eq!(
        (
            calcul["nombre_enfants_a_charge"].as_i64(),
            calcul["nombre_enfants_beneficiaire_aeeh"].as_i64(),
            calcul["base_ressources_annuelles"]["valeur"].as_i64(),
        ),
        (Some(1), Some(1), Some(40923))
    );
    b.stop().await;
}
