//! The identity pivot of an `/identite` call, checked before any provider call and turned into
//! the regimes' query: the birth commune by code or by name and department, dates, the month
//! asked.

use super::*;

/// The identity pivot of an `/identite` call, as the regimes' query.
pub(super) fn provider_query(
    q: &HashMap<String, String>,
    prenoms: &[String],
) -> Result<Vec<(String, String)>, Response> {
    let bad = |detail: &str| Err(hub_error("00366", detail, None, None));
    let get = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let Some(nom) = get("nomNaissance") else {
        return bad("nomNaissance est obligatoire");
    };
    if prenoms.is_empty() || prenoms.len() > 3 {
        return bad("prenoms[] est obligatoire (1 à 3 prénoms)");
    }
    let Some(sexe) = get("sexeEtatCivil").filter(|s| s == "M" || s == "F") else {
        return bad("sexeEtatCivil doit valoir M ou F");
    };
    let Some(pays) = get("codeCogInseePaysNaissance").filter(|p| p.len() == 5) else {
        return bad(
            "codeCogInseePaysNaissance est obligatoire (5 caractères, 99100 pour la France)",
        );
    };
    let commune = match birth_commune(&get) {
        Ok(c) => c,
        Err(detail) => return bad(&detail),
    };
    if pays == "99100" && commune.is_none() {
        return bad(
            "une naissance en France demande codeCogInseeCommuneNaissance, ou nomCommuneNaissance et codeCogInseeDepartementNaissance",
        );
    }
    // Checked here, before any provider call: a malformed date is the caller's mistake.
    for (name, range) in [
        ("anneeDateNaissance", 1800..=2100),
        ("moisDateNaissance", 1..=12),
        ("jourDateNaissance", 1..=31),
    ] {
        if let Some(v) = get(name) {
            if !v.parse::<u16>().is_ok_and(|n| range.contains(&n)) {
                return bad(&format!(
                    "{name} doit être un entier entre {} et {}",
                    range.start(),
                    range.end()
                ));
            }
        }
    }
    let mut out = vec![
        ("nomNaissance".into(), nom),
        ("sexe".into(), sexe),
        ("codePaysLieuDeNaissance".into(), pays),
    ];
    if let Some(annee) = get("anneeDateNaissance") {
        out.push(("anneeDateDeNaissance".into(), annee));
    }
    out.extend(prenoms.iter().map(|p| ("prenoms".to_string(), p.clone())));
    for (from, to) in [
        ("moisDateNaissance", "moisDateDeNaissance"),
        ("jourDateNaissance", "jourDateDeNaissance"),
    ] {
        if let Some(v) = get(from) {
            out.push((to.into(), v));
        }
    }
    out.extend(reference_period(q)?);
    if let Some(c) = commune {
        out.push(("codeInseeLieuDeNaissance".into(), c));
    }
    Ok(out)
}

/// The month the quotient familial is asked for (`annee`, `mois`; default: the current one),
/// checked before any provider call (422 `00307` year, `00305` month).
pub(super) fn reference_period(
    q: &HashMap<String, String>,
) -> Result<Vec<(String, String)>, Response> {
    let mut out = Vec::new();
    for (name, code, range) in [("annee", "00307", 1900..=2100), ("mois", "00305", 1..=12)] {
        let Some(v) = q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
            continue;
        };
        if !v.parse::<u16>().is_ok_and(|n| range.contains(&n)) {
            return Err(hub_error(
                code,
                &format!(
                    "{name} doit être un entier entre {} et {}",
                    range.start(),
                    range.end()
                ),
                Some(json!({"parameter": name})),
                None,
            ));
        }
        out.push((name.to_string(), v.to_string()));
    }
    Ok(out)
}

/// The birth commune's COG code: given, or found from its name and department (the real hub's
/// "transcogage"). `Ok(None)`: none given.
pub(super) fn birth_commune(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, String> {
    if let Some(code) = get("codeCogInseeCommuneNaissance") {
        return if code.len() == 5 {
            Ok(Some(code))
        } else {
            Err("codeCogInseeCommuneNaissance fait 5 caractères".into())
        };
    }
    let (Some(name), Some(dept)) = (
        get("nomCommuneNaissance"),
        get("codeCogInseeDepartementNaissance"),
    ) else {
        return Ok(None);
    };
    let wanted = comparable(&name);
    crate::population::referentials::COMMUNES
        .iter()
        .find(|c| c.cog.starts_with(dept.as_str()) && comparable(c.name) == wanted)
        .map(|c| Some(c.cog.to_string()))
        .ok_or_else(|| {
            format!(
                "aucune commune {name:?} dans le département {dept} au code officiel géographique"
            )
        })
}

/// A commune name as compared: no accents, case, hyphens or apostrophes.
pub(super) fn comparable(name: &str) -> String {
    deunicode::deunicode(name)
        .to_uppercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
