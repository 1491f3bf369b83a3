//! The hubs' error codes, with the HTTP status and title the real hubs give each: one table
//! instead of a status and a title written at every call.
//!
//! Codes are five characters: `00xxx` are the hub's own, `XXyyy` a provider's (`01` INSEE,
//! `02` Infogreffe, `03` DGFiP, `04` URSSAF, `10` MSA, `35` CNAF & MSA, `37` CNAV), where `yyy`
//! is generic (`001` unavailable, `002` timeout, `003` not found…) or the provider's own.
//!
//! ```
//! use simulators::hubs::errors::official;
//! assert_eq!(official("00101"), Some((401, "Interdit")));
//! assert_eq!(official("01002"), Some((504, "Intermédiaire hors-délai")));
//! assert_eq!(official("00301").map(|(s, _)| s), Some(422));
//! ```

/// `(code, status, title)`, as the published contracts of API Entreprise and API Particulier
/// give them (`etalab/siade_staging_data`, `openapi_files/`). `?` stands for any character;
/// the first match wins. Codes marked "bench" have no published entry: the status and title
/// are the bench's, in the same register.
const TABLE: &[(&str, u16, &str)] = &[
    ("00015", 409, "Conflit"),
    ("00100", 403, "Privilèges insuffisants"),
    ("00101", 401, "Interdit"),
    ("00103", 401, "Jeton expiré"),
    ("00105", 401, "Jeton sur liste noire"),
    // bench: a token restricted to other IP addresses.
    ("00107", 403, "Adresse IP non autorisée"),
    // bench: what the plumbing refuses (a malformed request, no route, wrong method, a body
    // or headers too large) and an injected fault's status.
    ("00400", 400, "Requête invalide"),
    ("00404", 404, "Ressource inconnue"),
    ("00405", 405, "Méthode non autorisée"),
    ("00413", 413, "Requête trop volumineuse"),
    ("00431", 431, "En-têtes de requête trop volumineux"),
    ("00500", 500, "Erreur interne"),
    ("00503", 503, "Service indisponible"),
    ("00429", 429, "Trop de requêtes"),
    ("00501", 504, "Erreur réseau"),
    // Missing or malformed parameters (`00203` recipient, `00301` SIREN, `00366` identity…).
    ("002??", 422, "Entité non traitable"),
    ("003??", 422, "Entité non traitable"),
    ("00419", 422, "Entité non traitable"),
    ("00427", 422, "Entité non traitable"),
    // bench: INSEE's non-diffusible units (451 as the real hub).
    ("01005", 451, "Entité non diffusible"),
    (
        "04501",
        502,
        "Analyse manuelle de la situation du compte en cours",
    ),
    ("04502", 502, "Demande de traitement logiciel en cours"),
    (
        "04503",
        502,
        "La situation du compte ne permet pas de délivrer l'attestation demandée",
    ),
    ("03501", 502, "Potentielle ressource non trouvée"),
    ("10003", 404, "Dossier allocataire absent MSA"),
    ("35003", 404, "Allocataire non référencé"),
    // Generic provider codes, whatever the provider's prefix.
    // bench: a provider's 5xx other than 503.
    ("??000", 502, "Erreur du fournisseur"),
    ("??001", 502, "Service non disponible"),
    ("??002", 504, "Intermédiaire hors-délai"),
    ("??003", 404, "Entité non trouvée"),
    ("??004", 502, "Erreur de résolution DNS"),
    ("??999", 502, "Erreur inconnue du fournisseur de données"),
];

/// The status and title of a code, when the table has it.
pub fn official(code: &str) -> Option<(u16, &'static str)> {
    let matches = |pattern: &str| {
        pattern.len() == code.len()
            && pattern
                .chars()
                .zip(code.chars())
                .all(|(p, c)| p == '?' || p == c)
    };
    TABLE
        .iter()
        .find(|(pattern, ..)| matches(pattern))
        .map(|(_, status, title)| (*status, *title))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_codes_keep_their_prefix_and_specific_ones_win() {
        assert_eq!(official("04501").unwrap().0, 502);
        assert_eq!(
            official("10003").unwrap().1,
            "Dossier allocataire absent MSA"
        );
        assert_eq!(official("02003").unwrap().1, "Entité non trouvée");
        assert_eq!(official("03001").unwrap(), (502, "Service non disponible"));
        assert_eq!(official("00999"), official("01999"));
        assert!(official("00777").is_none());
        assert!(official("1").is_none());
    }

    /// Every five-digit code the hubs' sources write has a status and title here.
    #[test]
    fn every_code_the_hubs_answer_is_in_the_table() {
        let sources = [
            include_str!("entreprise.rs"),
            include_str!("particulier.rs"),
            include_str!("particulier/identity.rs"),
            include_str!("guard.rs"),
            include_str!("cache.rs"),
            include_str!("upstream.rs"),
            include_str!("jsonapi.rs"),
        ];
        let mut seen = 0;
        for text in sources {
            for (i, _) in text.match_indices("hub_error(") {
                let rest = text[i..].trim_start_matches("hub_error(").trim_start();
                let Some(code) = rest.strip_prefix('"').and_then(|r| r.get(..5)) else {
                    continue;
                };
                seen += 1;
                assert!(official(code).is_some(), "{code} is not in the table");
            }
        }
        assert!(seen >= 25, "found only {seen} codes");
        for prefix in ["01", "02", "03", "04", "10", "35", "37"] {
            for generic in ["000", "001", "002", "999"] {
                assert!(official(&format!("{prefix}{generic}")).is_some());
            }
        }
    }
}
