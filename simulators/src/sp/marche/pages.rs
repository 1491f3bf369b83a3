//! The marketplace's pages (French): tenders, a tender and its application form, an
//! application with its pieces, the buyer's page.

use super::*;

pub(super) fn error_page(
    m: &Marche,
    status: StatusCode,
    user: Option<&SignedIn>,
    message: &str,
) -> Response {
    page(
        status,
        &m.title,
        user,
        &format!(
            r#"<h1>Une erreur est survenue</h1><div class="notice ko" id="error">{}</div><p><a href="/">Retour aux appels d'offres</a></p>"#,
            escape(message)
        ),
    )
}

pub(super) fn fc_button(return_to: &str) -> String {
    format!(
        r#"<p><a class="button fc-button" id="franceconnect" href="/connexion?retour={}">S'identifier avec FranceConnect<small>Qu'est-ce que FranceConnect ?</small></a></p>"#,
        escape(&urlencode(return_to))
    )
}

pub(super) fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e[1..].to_string())
        .unwrap_or_default()
}

pub(super) async fn home(State(m): State<Marche>, headers: HeaderMap) -> Response {
    let user = m.sessions.user(&headers);
    let rows: String = m
        .tenders
        .all()
        .iter()
        .map(|t| {
            format!(
                r#"<tr><td><a href="/appels-d-offres/{r}"><code>{r}</code></a></td><td>{title}</td><td>{buyer}</td><td>{deadline}</td></tr>"#,
                r = escape(&t.reference),
                title = escape(&t.title),
                buyer = escape(&t.buyer_name),
                deadline = t.deadline.format("%d/%m/%Y"),
            )
        })
        .collect();
    let intro = if user.is_some() {
        String::new()
    } else {
        fc_button("/")
    };
    page(
        StatusCode::OK,
        &m.title,
        user.as_ref(),
        &format!(
            r#"<h1>Appels d'offres en cours</h1>
<p>Candidatez avec votre seul numéro SIRET : la plateforme récupère vos informations et vos attestations auprès des administrations (API Entreprise). <em>Dites-le nous une fois.</em></p>{intro}
<table id="tenders"><thead><tr><th>Référence</th><th>Objet</th><th>Acheteur</th><th>Date limite</th></tr></thead><tbody>{rows}</tbody></table>
<p class="muted">Acheteur public ? <a href="/acheteur">Publier un appel d'offres</a>. API JSON : <a href="/openapi.json">openapi.json</a>.</p>"#
        ),
    )
}

pub(super) async fn tender_page(
    State(m): State<Marche>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = m.sessions.user(&headers);
    let Some(t) = m.tenders.get(&reference) else {
        return error_page(
            &m,
            StatusCode::NOT_FOUND,
            user.as_ref(),
            "Appel d'offres inconnu.",
        );
    };
    let action = match &user {
        Some(_) => format!(
            r#"<h2>Candidater</h2><form method="post" action="/appels-d-offres/{r}/candidater" id="apply-form">
<label for="siret">Numéro SIRET de votre établissement</label><input id="siret" name="siret" inputmode="numeric" placeholder="14 chiffres" required>
<p class="muted">C'est tout : identité, extrait RCS, attestations de vigilance et fiscale sont récupérés pour vous.</p>
<button type="submit">Déposer ma candidature</button></form>"#,
            r = escape(&t.reference)
        ),
        None => format!(
            "<h2>Candidater</h2><p>Identifiez-vous pour candidater.</p>{}",
            fc_button(&format!("/appels-d-offres/{}", t.reference))
        ),
    };
    page(
        StatusCode::OK,
        &m.title,
        user.as_ref(),
        &format!(
            r#"<p><a href="/">← Appels d'offres</a></p><h1>{title}</h1>
<table><tr><th>Référence</th><td><code>{r}</code></td></tr><tr><th>Acheteur</th><td>{buyer} <span class="muted">(SIRET {siret})</span></td></tr><tr><th>Date limite</th><td>{deadline}</td></tr><tr><th>Description</th><td>{desc}</td></tr></table>{action}"#,
            title = escape(&t.title),
            r = escape(&t.reference),
            buyer = escape(&t.buyer_name),
            siret = escape(&t.buyer_siret),
            deadline = t.deadline.format("%d/%m/%Y"),
            desc = escape(&t.description),
        ),
    )
}

pub(super) async fn apply_form(
    State(m): State<Marche>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(user) = m.sessions.user(&headers) else {
        return see_other(&format!("/appels-d-offres/{}", urlencode(&reference)), None);
    };
    let siret = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|f| f.into_iter().find(|(k, _)| k == "siret").map(|(_, v)| v))
        .unwrap_or_default();
    match apply(&m, &reference, &siret, &user).await {
        Ok(app) => with_subject(
            see_other(&format!("/candidatures/{}", app.id), None),
            app.siret,
        ),
        Err(e) => problem_page(&m, &user, e).await,
    }
}

/// A JSON API problem shown as a page.
pub(super) async fn problem_page(m: &Marche, user: &SignedIn, e: Response) -> Response {
    let (status, text) = super::super::problem_text(e).await;
    error_page(m, status, Some(user), &text)
}

pub(super) async fn refresh_form(
    State(m): State<Marche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(user) = m.sessions.user(&headers) else {
        return see_other("/", None);
    };
    match refresh(&m, &id, &user).await {
        Ok(app) => see_other(&format!("/candidatures/{}", app.id), None),
        Err(e) => problem_page(&m, &user, e).await,
    }
}

pub(super) fn badge(status: &str) -> String {
    let (class, label) = match status {
        "obtenue" | "complete" => ("ok", status),
        "refusee" | "rejetee" | "rejet" | "introuvable" => ("ko", status),
        "non_applicable" => ("info", "non applicable"),
        "a_verifier" => ("warn", "à vérifier"),
        _ => ("warn", status),
    };
    format!(r#"<span class="badge {class}">{}</span>"#, escape(label))
}

pub(super) async fn application_page(
    State(m): State<Marche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(user) = m.sessions.user(&headers) else {
        return see_other(
            &format!("/connexion?retour=/candidatures/{}", urlencode(&id)),
            None,
        );
    };
    let Some(a) = own_application(&m, &id, &user) else {
        return error_page(
            &m,
            StatusCode::NOT_FOUND,
            Some(&user),
            "Candidature inconnue.",
        );
    };
    let status = serde_json::to_value(a.status)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let e = &a.entreprise;
    let field = |label: &str, v: &Value| {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => "—".into(),
            other => other.to_string(),
        };
        format!("<tr><th>{label}</th><td>{}</td></tr>", escape(&text))
    };
    let officers: String = e["rcs"]["mandataires_sociaux"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            format!(
                "{} {} ({})",
                o["prenom"].as_str().unwrap_or(""),
                o["nom"].as_str().unwrap_or(""),
                o["fonction"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let fields = [
        field("Raison sociale", &e["raison_sociale"]),
        field("SIRET", &e["siret"]),
        field("Forme juridique", &e["forme_juridique"]),
        field("Activité principale", &e["activite_principale"]),
        field("Effectif", &e["tranche_effectif"]),
        field("Siège social", &e["adresse_siege"]),
        field("Établissement", &e["adresse_etablissement"]),
        field("Greffe", &e["rcs"]["greffe"]),
        field("Mandataires sociaux", &json!(officers)),
    ]
    .concat();
    let pieces: String = a
        .pieces
        .iter()
        .map(|p| {
            let doc = p
                .document_url
                .as_ref()
                .map(|u| format!(r#" — <a href="{}">document</a>"#, escape(u)))
                .unwrap_or_default();
            let validity = match (&p.valid_from, &p.valid_until) {
                (Some(f), Some(u)) => format!(" <span class=\"muted\">(du {f} au {u})</span>"),
                (Some(f), None) => format!(" <span class=\"muted\">({f})</span>"),
                _ => String::new(),
            };
            format!(
                r#"<tr data-piece="{k}"><td>{k}</td><td>{src}</td><td>{b}</td><td>{d}{validity}{doc}</td></tr>"#,
                k = escape(&p.kind),
                src = escape(&p.source),
                b = badge(&p.status),
                d = escape(&p.detail),
            )
        })
        .collect();
    let findings: String = a
        .findings
        .iter()
        .map(|f| {
            let class = match f.level.as_str() {
                "rejet" => "ko",
                _ => "warn",
            };
            format!(
                r#"<div class="notice {class}" data-finding="{}">{}</div>"#,
                escape(&f.level),
                escape(&f.message)
            )
        })
        .collect();
    let headline = match a.status {
        Status::Complete => {
            r#"<div class="notice ok">Candidature complète : toutes les pièces ont été obtenues auprès des administrations.</div>"#
        }
        Status::AVerifier => {
            r#"<div class="notice warn">Candidature déposée, à vérifier par l'acheteur.</div>"#
        }
        Status::Rejetee => r#"<div class="notice ko">Candidature irrecevable en l'état.</div>"#,
        Status::Incomplete => {
            r#"<div class="notice warn">Candidature enregistrée mais incomplète : un service ne répond pas. Rien n'est perdu ; actualisez plus tard.</div>"#
        }
    };
    page(
        StatusCode::OK,
        &m.title,
        Some(&user),
        &format!(
            r#"<p><a href="/appels-d-offres/{t}">← {t}</a></p><h1>Candidature <code>{id}</code> {badge}</h1>{headline}{findings}
<h2>Entreprise (pré-remplie)</h2><table id="prefilled">{fields}</table>
<h2>Pièces jointes</h2><table id="pieces"><thead><tr><th>Pièce</th><th>Source</th><th>État</th><th>Détail</th></tr></thead><tbody>{pieces}</tbody></table>
<p class="muted">Déposée par {who} le {created} ; {attempts} collecte(s). Chaque appel à API Entreprise porte context={ctx}, object={t}, recipient=SIRET de l'acheteur.</p>
<form method="post" action="/candidatures/{id}/actualiser"><button class="secondary" id="refresh">Actualiser les pièces</button></form>"#,
            t = escape(&a.tender),
            id = escape(&a.id),
            badge = badge(&status),
            who = escape(&user.display_name()),
            created = escape(&a.created_at[..16.min(a.created_at.len())]),
            attempts = a.attempts,
            ctx = escape(&m.context),
        ),
    )
}

pub(super) async fn buyer_page(State(m): State<Marche>, headers: HeaderMap) -> Response {
    let user = m.sessions.user(&headers);
    let Some(u) = &user else {
        return page(
            StatusCode::OK,
            &m.title,
            None,
            &format!(
                "<h1>Publier un appel d'offres</h1><p>Identifiez-vous pour publier.</p>{}",
                fc_button("/acheteur")
            ),
        );
    };
    let buyer = m
        .initial_tenders
        .first()
        .map(|t| t.buyer_siret.clone())
        .unwrap_or_default();
    page(
        StatusCode::OK,
        &m.title,
        Some(u),
        &format!(
            r#"<h1>Publier un appel d'offres</h1><form method="post" action="/acheteur" id="publish-form">
<label for="reference">Référence</label><input id="reference" name="reference" required>
<label for="title">Objet</label><input id="title" name="title" required>
<label for="description">Description</label><input id="description" name="description">
<label for="acheteur">SIRET de l'acheteur</label><input id="acheteur" name="acheteur" value="{buyer}" required>
<label for="deadline">Date limite</label><input id="deadline" name="deadline" type="date" required>
<p><button type="submit">Publier</button></p></form>"#,
            buyer = escape(&buyer)
        ),
    )
}

pub(super) async fn publish_form(
    State(m): State<Marche>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(user) = m.sessions.user(&headers) else {
        return see_other("/acheteur", None);
    };
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let Ok(deadline) = NaiveDate::parse_from_str(&get("deadline"), "%Y-%m-%d") else {
        return error_page(
            &m,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&user),
            "Date limite invalide (AAAA-MM-JJ).",
        );
    };
    let t = NewTender {
        reference: get("reference"),
        title: get("title"),
        description: get("description"),
        acheteur: get("acheteur"),
        deadline,
    };
    match publish(&m, t) {
        Ok(t) => see_other(&format!("/appels-d-offres/{}", t.reference), None),
        Err(e) => problem_page(&m, &user, e).await,
    }
}
