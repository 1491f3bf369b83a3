//! The identity pivot of an `/identite` call, checked before any provider call and turned into
//! the regimes' query: the birth commune by code or by name and department, dates, the month
//! asked.

use super::*;
use crate::providers::social::QF_HISTORY_MONTHS;

/// The identity pivot of an `/identite` call, as the regimes' query.
pub(super) fn provider_query(
    q: &HashMap<String, String>,
    prenoms: &[String],
    today: chrono::NaiveDate,
) -> Result<Vec<(String, String)>, Response> {
    let bad = |detail: &str| Err(hub_error("00366", detail, None, None));
    let get = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let Some(nom) = get("nomNaissance") else {
        return bad("nomNaissance est obligatoire, en texte UTF-8");
    };
    if prenoms.is_empty() || prenoms.len() > 3 || prenoms.iter().any(|p| p.trim().is_empty()) {
        return bad("prenoms[] est obligatoire (1 à 3 prénoms, en texte UTF-8)");
    }
    let Some(sexe) = get("sexeEtatCivil").filter(|s| s == "M" || s == "F") else {
        return bad("sexeEtatCivil doit valoir M ou F");
    };
    // A country of the COG: 99 and three digits (99100 for France).
    let country =
        |p: &String| p.len() == 5 && p.starts_with("99") && p.bytes().all(|b| b.is_ascii_digit());
    let Some(pays) = get("codeCogInseePaysNaissance").filter(country) else {
        return bad(
            "codeCogInseePaysNaissance est obligatoire (code pays du COG : 99 et trois chiffres, 99100 pour la France)",
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
        ("anneeDateNaissance", 1880..=2100),
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
    out.extend(reference_period(q, today)?);
    if let Some(c) = commune {
        out.push(("codeInseeLieuDeNaissance".into(), c));
    }
    Ok(out)
}

/// The month the quotient familial is asked for (`annee` with `mois`; default: the current one),
/// checked before any provider call: both or neither, a real month (422 `00307` year, `00305`
/// month), one of the regimes' last [`QF_HISTORY_MONTHS`] (`00305`).
pub(super) fn reference_period(
    q: &HashMap<String, String>,
    today: chrono::NaiveDate,
) -> Result<Vec<(String, String)>, Response> {
    use chrono::Datelike;
    let refuse = |code: &str, name: &str, detail: String| {
        Err(hub_error(
            code,
            &detail,
            Some(json!({"parameter": name})),
            None,
        ))
    };
    let mut asked = Vec::new();
    for (name, code, range) in [("annee", "00307", 1900..=2100), ("mois", "00305", 1..=12)] {
        let Some(v) = q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
            continue;
        };
        let Some(n) = v.parse::<u16>().ok().filter(|n| range.contains(n)) else {
            let (lo, hi) = (range.start(), range.end());
            return refuse(
                code,
                name,
                format!("{name} doit être un entier entre {lo} et {hi}"),
            );
        };
        asked.push((name, i32::from(n)));
    }
    let (year, month) = match asked[..] {
        [] => return Ok(Vec::new()),
        // The loop reads annee, then mois.
        [.., (_, y), (_, m)] => (y, m),
        [(name, _)] => {
            let (code, other) = if name == "annee" {
                ("00305", "mois")
            } else {
                ("00307", "annee")
            };
            return refuse(
                code,
                other,
                format!("annee et mois vont ensemble : {other} manque"),
            );
        }
    };
    let age = (today.year() - year) * 12 + today.month() as i32 - month;
    if !(0..QF_HISTORY_MONTHS).contains(&age) {
        return refuse(
            "00305",
            "mois",
            format!(
                "le quotient familial n'est disponible que pour les {QF_HISTORY_MONTHS} derniers mois"
            ),
        );
    }
    Ok(vec![
        ("annee".into(), year.to_string()),
        ("mois".into(), month.to_string()),
    ])
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
