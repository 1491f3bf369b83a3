//! API Entreprise's answers built from the providers' own: INSEE's legal units and
//! establishments and Infogreffe's RCS extract, in the shapes of the real published contract
//! (every key it requires, its enums and value styles, `links` and `meta`). Pure functions over
//! the providers' JSON, so the hub computes what the real hub computes from what it was told.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::population::referentials as refs;

/// A field of an INSEE legal unit, at the top level or in its current period.
fn ul<'a>(u: &'a Value, key: &str) -> &'a Value {
    match u.get(key) {
        Some(v) => v,
        None => &u["periodesUniteLegale"][0][key],
    }
}

/// An ISO date (or date-time) as the Unix timestamp API Entreprise gives dates in: midnight in
/// Paris that day (1955-01-01 is -473389200, as in the real answers).
fn epoch(date: &Value) -> Value {
    date.as_str()
        .and_then(|d| NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok())
        .and_then(|d| Some((d, d.and_hms_opt(0, 0, 0)?)))
        .map(|(d, midnight)| json!(midnight.and_utc().timestamp() - paris_offset(d) * 3600))
        .unwrap_or(Value::Null)
}

/// Paris's offset from UTC at midnight on `date`, in hours: +1, or +2 in summer time (since 1976;
/// it ends on the last Sunday of September until 1995, of October since). At midnight on a
/// change day the clocks have not changed yet.
fn paris_offset(date: NaiveDate) -> i64 {
    use chrono::Datelike;
    let year = date.year();
    let last_sunday = |month: u32| {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        next.and_then(|n| n.pred_opt()).map(|last| {
            last - chrono::Duration::days(i64::from(last.weekday().num_days_from_sunday()))
        })
    };
    let end_month = if year < 1996 { 9 } else { 10 };
    match (year >= 1976, last_sunday(3), last_sunday(end_month)) {
        (true, Some(start), Some(end)) if date > start && date <= end => 2,
        _ => 1,
    }
}

/// INSEE's diffusion status (`O`, `P`, `N`) in API Entreprise's words.
fn diffusion(code: &Value) -> &'static str {
    match code.as_str() {
        Some("P") => "partiellement_diffusible",
        Some("N") => "non_diffusible",
        _ => "diffusible",
    }
}

/// An activity code with its label, in the NAF rév. 2 nomenclature INSEE gives it in.
fn activity(naf: &str) -> Value {
    json!({"code": naf, "libelle": refs::naf_label(naf), "nomenclature": "NAFRev2"})
}

fn headcount(band: &Value, year: &Value) -> Value {
    let band = band.as_str();
    let info = band.and_then(refs::headcount_band);
    json!({
        "code": band, "intitule": info.map(|b| b.1), "date_reference": year,
        "de": info.and_then(|b| b.2), "a": info.and_then(|b| b.3),
    })
}

/// INSEE's `O`/`N` for the social and solidarity economy; unknown is `null`.
fn yes_no(v: &Value) -> Value {
    match v.as_str() {
        Some("O") => json!(true),
        Some("N") => json!(false),
        _ => Value::Null,
    }
}

/// The legal unit's fields that an establishment's `unite_legale` shares.
fn unite_legale_fields(u: &Value) -> serde_json::Map<String, Value> {
    let siren = ul(u, "siren").as_str().unwrap_or_default();
    let legal_form = ul(u, "categorieJuridiqueUniteLegale")
        .as_str()
        .unwrap_or_default();
    let naf = ul(u, "activitePrincipaleUniteLegale")
        .as_str()
        .unwrap_or_default();
    let natural = legal_form == "1000";
    let status = ul(u, "statutDiffusionUniteLegale");
    let ceased = ul(u, "etatAdministratifUniteLegale") == "C";
    let fields = json!({
        "siren": siren,
        "rna": ul(u, "identifiantAssociationUniteLegale"),
        "siret_siege_social": format!("{siren}{}", ul(u, "nicSiegeUniteLegale").as_str().unwrap_or("")),
        "type": if natural { "personne_physique" } else { "personne_morale" },
        "personne_morale_attributs": {
            "raison_sociale": ul(u, "denominationUniteLegale"), "sigle": ul(u, "sigleUniteLegale"),
        },
        "personne_physique_attributs": {
            "pseudonyme": ul(u, "pseudonymeUniteLegale"), "prenom_usuel": ul(u, "prenomUsuelUniteLegale"),
            "prenom_1": ul(u, "prenom1UniteLegale"), "prenom_2": ul(u, "prenom2UniteLegale"),
            "prenom_3": ul(u, "prenom3UniteLegale"), "prenom_4": ul(u, "prenom4UniteLegale"),
            "nom_usage": ul(u, "nomUsageUniteLegale"), "nom_naissance": ul(u, "nomUniteLegale"),
            "sexe": ul(u, "sexeUniteLegale"),
        },
        "categorie_entreprise": ul(u, "categorieEntreprise"),
        "status_diffusion": diffusion(status),
        "diffusable_commercialement": status.as_str().is_none_or(|s| s == "O"),
        "forme_juridique": {"code": legal_form, "libelle": refs::legal_form_label(legal_form)},
        "activite_principale": activity(naf),
        "tranche_effectif_salarie": headcount(ul(u, "trancheEffectifsUniteLegale"), ul(u, "anneeEffectifsUniteLegale")),
        "etat_administratif": if ceased { "C" } else { "A" },
        "economie_sociale_et_solidaire": yes_no(ul(u, "economieSocialeSolidaireUniteLegale")),
        "date_creation": epoch(ul(u, "dateCreationUniteLegale")),
        "activite_principale_naf_rev2": activity(naf),
    });
    match fields {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// `GET /v4/insee/sirene/unites_legales/{siren}`: `data`, `links` and `meta` from INSEE's unit;
/// `base` is the hub's own URL (the links point at its other resources).
pub(super) fn unite_legale(u: &Value, base: &str) -> Value {
    let mut data = unite_legale_fields(u);
    let ceased = ul(u, "etatAdministratifUniteLegale") == "C";
    data.insert(
        "date_cessation".into(),
        if ceased {
            epoch(&u["periodesUniteLegale"][0]["dateDebut"])
        } else {
            Value::Null
        },
    );
    let head = data["siret_siege_social"]
        .as_str()
        .unwrap_or("")
        .to_string();
    json!({
        "data": data,
        "links": {
            "siege_social": format!("{base}/v4/insee/sirene/etablissements/{head}"),
            "siege_social_adresse": format!("{base}/v3/insee/sirene/etablissements/{head}/adresse"),
        },
        "meta": {
            "date_derniere_mise_a_jour": epoch(&u["dateDernierTraitementUniteLegale"]),
            "redirect_from_siren": null,
        },
    })
}

/// INSEE's street types (abbreviated) in API Entreprise's words.
fn street_type(code: &str) -> Option<&'static str> {
    Some(match code {
        "ALL" => "ALLÉE",
        "AV" => "AVENUE",
        "BD" => "BOULEVARD",
        "CAR" => "CARREFOUR",
        "CHE" => "CHEMIN",
        "CHS" => "CHAUSSÉE",
        "CITE" => "CITÉ",
        "COR" => "CORNICHE",
        "CRS" => "COURS",
        "DOM" => "DOMAINE",
        "DSC" => "DESCENTE",
        "ECA" => "ECART",
        "ESP" => "ESPLANADE",
        "FG" => "FAUBOURG",
        "GR" => "GRANDE RUE",
        "HAM" => "HAMEAU",
        "HLE" => "HALLE",
        "IMP" => "IMPASSE",
        "LD" => "LIEU-DIT",
        "LOT" => "LOTISSEMENT",
        "MAR" => "MARCHÉ",
        "MTE" => "MONTÉE",
        "PASS" => "PASSAGE",
        "PL" => "PLACE",
        "PLN" => "PLAINE",
        "PLT" => "PLATEAU",
        "PRO" => "PROMENADE",
        "PRV" => "PARVIS",
        "QUA" => "QUARTIER",
        "QUAI" => "QUAI",
        "RES" => "RÉSIDENCE",
        "RLE" => "RUELLE",
        "ROC" => "ROCADE",
        "RPT" => "ROND-POINT",
        "RTE" => "ROUTE",
        "RUE" => "RUE",
        "SEN" | "SENT" => "SENTIER",
        "SQ" => "SQUARE",
        "TPL" => "TERRE-PLEIN",
        "TRA" => "TRAVERSE",
        "VLA" => "VILLA",
        "VLGE" => "VILLAGE",
        _ => return None,
    })
}

/// INSEE's repetition index (`B`, `T`, `Q`, `C`) in API Entreprise's words.
fn repetition(code: &Value) -> Value {
    match code.as_str() {
        Some("B") => json!("bis"),
        Some("T") => json!("ter"),
        Some("Q") => json!("quarter"),
        Some("C") => json!("quinquies"),
        _ => Value::Null,
    }
}

/// Words joined by a space, empty ones left out.
fn line(parts: &[&Value]) -> String {
    parts
        .iter()
        .filter_map(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn adresse(e: &Value, status: &'static str) -> Value {
    let a = &e["adresseEtablissement"];
    let street = a["typeVoieEtablissement"].as_str().and_then(street_type);
    let u = &e["uniteLegale"];
    let recipient = u["denominationUniteLegale"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            let name = line(&[&u["prenom1UniteLegale"], &u["nomUniteLegale"]]);
            (!name.is_empty()).then_some(name)
        });
    let abroad = a["codePaysEtrangerEtablissement"].is_string();
    json!({
        "numero_voie": a["numeroVoieEtablissement"].as_str().unwrap_or(""),
        "indice_repetition_voie": repetition(&a["indiceRepetitionEtablissement"]),
        "type_voie": street,
        "libelle_voie": a["libelleVoieEtablissement"].as_str().unwrap_or(""),
        "complement_adresse": a["complementAdresseEtablissement"],
        "code_commune": a["codeCommuneEtablissement"],
        "code_postal": a["codePostalEtablissement"],
        "distribution_speciale": a["distributionSpecialeEtablissement"],
        "code_cedex": a["codeCedexEtablissement"],
        "libelle_cedex": a["libelleCedexEtablissement"],
        "libelle_commune": a["libelleCommuneEtablissement"],
        "libelle_commune_etranger": a["libelleCommuneEtrangerEtablissement"],
        "code_pays_etranger": a["codePaysEtrangerEtablissement"],
        "libelle_pays_etranger": a["libellePaysEtrangerEtablissement"],
        "status_diffusion": status,
        // The postal lines as La Poste's norm (AFNOR XPZ 10-011) sets them: unused lines empty.
        "acheminement_postal": {
            "l1": recipient.unwrap_or_default(), "l2": "", "l3": line(&[&a["complementAdresseEtablissement"]]),
            "l4": line(&[&a["numeroVoieEtablissement"], &json!(street), &a["libelleVoieEtablissement"]]),
            "l5": line(&[&a["distributionSpecialeEtablissement"]]),
            "l6": line(&[&a["codePostalEtablissement"], &a["libelleCommuneEtablissement"]]),
            "l7": if abroad { a["libellePaysEtrangerEtablissement"].clone() } else { json!("FRANCE") },
        },
    })
}

/// `GET /v4/insee/sirene/etablissements/{siret}`: `data`, `links` and `meta` from INSEE's
/// establishment.
pub(super) fn etablissement(e: &Value, base: &str) -> Value {
    let period = &e["periodesEtablissement"][0];
    let closed = period["etatAdministratifEtablissement"] == "F";
    let naf = period["activitePrincipaleEtablissement"]
        .as_str()
        .unwrap_or_default();
    let status = diffusion(&e["statutDiffusionEtablissement"]);
    let siren = e["siren"].as_str().unwrap_or_default();
    json!({
        "data": {
            "siret": e["siret"],
            "siege_social": e["etablissementSiege"].as_bool().unwrap_or(false),
            "etat_administratif": if closed { "F" } else { "A" },
            "date_fermeture": if closed { epoch(&period["dateDebut"]) } else { Value::Null },
            "activite_principale": activity(naf),
            "tranche_effectif_salarie": headcount(&e["trancheEffectifsEtablissement"], &e["anneeEffectifsEtablissement"]),
            "status_diffusion": status,
            "diffusable_commercialement": status == "diffusible",
            "enseigne": period["enseigne1Etablissement"],
            "unite_legale": unite_legale_fields(&e["uniteLegale"]),
            "adresse": adresse(e, status),
            "date_creation": epoch(&e["dateCreationEtablissement"]),
            "activite_principale_naf_rev2": activity(naf),
        },
        "links": {"unite_legale": format!("{base}/v4/insee/sirene/unites_legales/{siren}")},
        "meta": {
            "date_derniere_mise_a_jour": epoch(&e["dateDernierTraitementEtablissement"]),
            "redirect_from_siret": null,
        },
    })
}

/// Infogreffe's officer in API Entreprise's shape.
fn mandataire(m: &Value) -> Value {
    let natural = m["type"] != "PM";
    json!({
        "numero_identification": m["siren"],
        "type": if natural { "personne_physique" } else { "personne_morale" },
        "fonction": m["qualite"],
        "nom": m["nom"], "prenom": m["prenoms"], "date_naissance": m["date_naissance"],
        "raison_sociale": m["denomination"],
    })
}

/// `GET /v3/infogreffe/rcs/unites_legales/{siren}/extrait_kbis`: the whole answer from
/// Infogreffe's extract. Both `personne_physique` and `personne_morale` are always there, with
/// null members for the other kind of person, as in the real contract.
pub(super) fn extrait_kbis(k: &Value) -> Value {
    let officers: Vec<Value> = k["mandataires_sociaux"]
        .as_array()
        .map(|list| list.iter().map(mandataire).collect())
        .unwrap_or_default();
    let pp = &k["personne_physique"];
    let head = &k["adresse_siege"];
    let person = |v: Value| if pp.is_object() { v } else { Value::Null };
    let registered = k["date_immatriculation"].as_str();
    let moral = k["denomination"].is_string();
    let end_of_life = registered
        .filter(|_| moral)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|d| d.checked_add_months(chrono::Months::new(99 * 12)))
        .map(|d| json!(d.format("%Y-%m-%d").to_string()))
        .unwrap_or(Value::Null);
    let capital = &k["capital"];
    json!({
        "data": {
            "siren": k["siren"],
            "date_radiation": k["date_radiation"],
            "date_extrait": k["date_extrait"],
            "date_immatriculation": k["date_immatriculation"],
            "mandataires_sociaux": officers,
            "observations": k["observations"].as_array().cloned().unwrap_or_default(),
            "nom_commercial": k["nom_commercial"],
            "etablissement_principal": {
                "activite": k["activite_principale"],
                "origine_fonds": k["etablissement_principal"]["origine_fonds"],
                "mode_exploitation": k["etablissement_principal"]["mode_exploitation"],
                "code_ape": k["code_ape"].as_str().unwrap_or("").replace('.', ""),
            },
            "capital": {
                "montant": capital["montant"],
                "devise": capital["devise"].as_str().map(|d| if d == "EUR" { "EUROS" } else { d }),
                "code_devise": capital["devise"],
            },
            "greffe": {"valeur": k["greffe"]["libelle"].as_str().unwrap_or("").to_uppercase(), "code": k["greffe"]["code"]},
            "personne_physique": {
                "adresse": {
                    "nom_postal": person(head["ligne"].clone()), "numero": null, "type": null, "voie": null,
                    "ligne_1": null, "ligne_2": null,
                    "localite": person(head["commune"].clone()), "code_postal": person(head["code_postal"].clone()),
                    "bureau_distributeur": null, "pays": person(json!("FRANCE")),
                },
                "nationalite": {"valeur": person(json!("FRANÇAISE")), "code": person(json!("FR"))},
                "nom": pp["nom"], "prenom": pp["prenoms"],
                "naissance": {
                    "pays": {"valeur": null, "code": null},
                    "date": pp["date_naissance"], "lieu": null,
                },
            },
            "personne_morale": {
                "forme_juridique": {
                    "valeur": if moral { k["forme_juridique"]["libelle"].as_str().map(str::to_uppercase).into() } else { Value::Null },
                    "code": if moral { k["forme_juridique"]["code"].clone() } else { Value::Null },
                },
                "denomination": k["denomination"],
                "date_cloture_exercice_comptable": if moral { json!("12-31") } else { Value::Null },
                "date_fin_de_vie": end_of_life,
            },
        },
        "links": {},
        "meta": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_paris_midnights_as_in_the_real_answers() {
        for (date, stamp) in [
            ("1955-01-01", -473_389_200),
            ("1952-05-11", -556_765_200),
            ("1986-06-23", 519_861_600),
            ("2022-08-29", 1_661_724_000),
        ] {
            assert_eq!(epoch(&json!(date)), json!(stamp), "{date}");
        }
        assert_eq!(epoch(&json!("not a date")), Value::Null);
    }

    #[test]
    fn both_kinds_of_person_are_always_objects_in_the_extract() {
        let extract = extrait_kbis(&json!({"siren": "552049447", "denomination": "X",
            "forme_juridique": {"code": "5599", "libelle": "SA"}, "date_immatriculation": "1985-07-01",
            "capital": {"montant": 1000, "devise": "EUR"}, "greffe": {"code": "7501", "libelle": "Paris"},
            "code_ape": "49.10Z", "etablissement_principal": {}, "adresse_siege": {}}));
        let d = &extract["data"];
        assert!(d["personne_physique"].is_object() && d["personne_morale"].is_object());
        assert_eq!(d["personne_morale"]["date_fin_de_vie"], "2084-07-01");
        assert_eq!(d["capital"]["devise"], "EUROS");
        assert_eq!(d["etablissement_principal"]["code_ape"], "4910Z");
        assert_eq!(d["greffe"]["valeur"], "PARIS");
    }
}
