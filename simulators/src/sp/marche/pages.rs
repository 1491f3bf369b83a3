//! The marketplace's pages (French): tenders, a tender and its application form, an
//! application with its pieces, the buyer's page.

use super::*;
use crate::http::{Markup, PreEscaped, html};
use crate::sp::{SpError, franceconnect_button};

pub(super) fn fc_button(return_to: &str) -> Markup {
    franceconnect_button(&format!("/connexion?retour={}", urlencode(return_to)))
}

pub(super) fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e[1..].to_string())
        .unwrap_or_default()
}

pub(super) async fn home(State(m): State<Marche>, headers: HeaderMap) -> Response {
    let user = m.sessions.user(&headers);
    let tenders = m.tenders.all();
    let main = html! {
        h1 { "Appels d'offres en cours" }
        p {
            "Candidatez avec votre seul numéro SIRET : la plateforme récupère vos informations et vos attestations auprès des administrations (API Entreprise). "
            em { "Dites-le nous une fois." }
        }
        @if user.is_none() { (fc_button("/")) }
        div.table-wrap {
            table #tenders {
                caption.muted { "Les appels d'offres ouverts aux candidatures" }
                thead { tr {
                    th scope="col" { "Référence" } th scope="col" { "Objet" }
                    th scope="col" { "Acheteur" } th scope="col" { "Date limite" }
                } }
                tbody {
                    @for t in &tenders {
                        tr {
                            td { a href={ "/appels-d-offres/" (t.reference) } { code { (t.reference) } } }
                            td { (t.title) }
                            td { (t.buyer_name) }
                            td { (t.deadline.format("%d/%m/%Y").to_string()) }
                        }
                    }
                }
            }
        }
        p.muted {
            "Acheteur public ? " a href="/acheteur" { "Publier un appel d'offres" }
            ". API JSON : " a href="/openapi.json" { "openapi.json" } "."
        }
    };
    page(
        StatusCode::OK,
        &m.title,
        "Appels d'offres",
        user.as_ref(),
        main,
    )
}

pub(super) async fn tender_page(
    State(m): State<Marche>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = m.sessions.user(&headers);
    tender_response(&m, &reference, user.as_ref(), None)
}

/// A tender, with the application form (an error on it above, when there was one).
fn tender_response(
    m: &Marche,
    reference: &str,
    user: Option<&SignedIn>,
    error: Option<(&SpError, &str)>,
) -> Response {
    let Some(t) = m.tenders.get(reference) else {
        return error_page(m, StatusCode::NOT_FOUND, user, "Appel d'offres inconnu.");
    };
    let wrong = error.is_some_and(|(e, _)| e.field == Some("siret"));
    let main = html! {
        p { a href="/" { "← Appels d'offres" } }
        @if m.core.defects.has(Defect::MarcheShowsTenderMarkup) {
            h1 { (PreEscaped(&t.title)) }
        } @else {
            h1 { (t.title) }
        }
        div.table-wrap { table {
            tr { th scope="row" { "Référence" } td { code { (t.reference) } } }
            tr { th scope="row" { "Acheteur" } td { (t.buyer_name) " " span.muted { "(SIRET " (t.buyer_siret) ")" } } }
            tr { th scope="row" { "Date limite" } td { (t.deadline.format("%d/%m/%Y").to_string()) } }
            tr { th scope="row" { "Description" } td { (t.description) } }
        } }
        h2 { "Candidater" }
        @if let Some((e, _)) = error {
            div.notice.ko #error role="alert" {
                (e.title)
                @if wrong { " : vérifiez le champ " a href="#siret" { "« Numéro SIRET de votre établissement »" } "." }
            }
        }
        @if user.is_some() {
            form #apply-form method="post" action={ "/appels-d-offres/" (t.reference) "/candidater" } {
                label for="siret" {
                    "Numéro SIRET de votre établissement (obligatoire)"
                    span.hint #siret-hint { "14 chiffres, sans espace" }
                }
                input #siret name="siret" inputmode="numeric" autocomplete="off" required
                    aria-describedby="siret-hint" value=[error.map(|(_, typed)| typed)]
                    aria-invalid=[wrong.then_some("true")];
                p.muted { "C'est tout : identité, extrait RCS, attestations de vigilance et fiscale sont récupérés pour vous." }
                button type="submit" { "Déposer ma candidature" }
            }
        } @else {
            p { "Identifiez-vous pour candidater." }
            (fc_button(&format!("/appels-d-offres/{}", t.reference)))
        }
    };
    let title = if error.is_some() {
        format!("Erreur — {}", t.title)
    } else {
        t.title.clone()
    };
    let status = error.map_or(StatusCode::OK, |(e, _)| e.status);
    page(status, &m.title, &title, user, main)
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
        Err(e) if e.field.is_some() => {
            tender_response(&m, &reference, Some(&user), Some((&e, &siret)))
        }
        Err(e) => problem_page(&m, &user, e),
    }
}

/// An error of the JSON API's checks shown as a page.
pub(super) fn problem_page(m: &Marche, user: &SignedIn, e: SpError) -> Response {
    error_page(m, e.status, Some(user), &e.to_string())
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
        Err(e) => problem_page(&m, &user, e),
    }
}

pub(super) fn badge(status: &str) -> Markup {
    let (class, label) = match status {
        "obtenue" | "complete" => ("ok", status),
        "refusee" | "rejetee" | "rejet" | "introuvable" => ("ko", status),
        "non_applicable" => ("info", "non applicable"),
        "a_verifier" => ("warn", "à vérifier"),
        _ => ("warn", status),
    };
    html! { span class={ "badge " (class) } { (label) } }
}

/// Long: one page's template.
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
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
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
        ("Raison sociale", text(&e["raison_sociale"])),
        ("SIRET", text(&e["siret"])),
        ("Forme juridique", text(&e["forme_juridique"])),
        ("Activité principale", text(&e["activite_principale"])),
        ("Effectif", text(&e["tranche_effectif"])),
        ("Siège social", text(&e["adresse_siege"])),
        ("Établissement", text(&e["adresse_etablissement"])),
        ("Greffe", text(&e["rcs"]["greffe"])),
        ("Mandataires sociaux", text(&json!(officers))),
    ];
    let (headline_class, headline) = match a.status {
        Status::Complete => (
            "ok",
            "Candidature complète : toutes les pièces ont été obtenues auprès des administrations.",
        ),
        Status::AVerifier => ("warn", "Candidature déposée, à vérifier par l'acheteur."),
        Status::Rejetee => ("ko", "Candidature irrecevable en l'état."),
        Status::Incomplete => (
            "warn",
            "Candidature enregistrée mais incomplète : un service ne répond pas. Rien n'est perdu ; actualisez plus tard.",
        ),
    };
    let main = html! {
        p { a href={ "/appels-d-offres/" (a.tender) } { "← " (a.tender) } }
        h1 { "Candidature " code { (a.id) } " " (badge(&status)) }
        div class={ "notice " (headline_class) } role="status" { (headline) }
        @for f in &a.findings {
            div class={ "notice " (if f.level == Level::Rejet { "ko" } else { "warn" }) } data-finding=(f.level.as_str()) { (f.message) }
        }
        h2 { "Entreprise (pré-remplie)" }
        div.table-wrap {
            table #prefilled {
                @for (label, value) in &fields { tr { th scope="row" { (label) } td { (value) } } }
            }
        }
        h2 { "Pièces jointes" }
        div.table-wrap {
            table #pieces {
                thead { tr {
                    th scope="col" { "Pièce" } th scope="col" { "Source" }
                    th scope="col" { "État" } th scope="col" { "Détail" }
                } }
                tbody {
                    @for p in &a.pieces {
                        tr data-piece=(p.kind) {
                            td { (p.kind) }
                            td { (p.source) }
                            td { (badge(&p.status)) }
                            td {
                                (p.detail)
                                @match (&p.valid_from, &p.valid_until) {
                                    (Some(f), Some(u)) => { " " span.muted { "(du " (f) " au " (u) ")" } },
                                    (Some(f), None) => { " " span.muted { "(" (f) ")" } },
                                    _ => {},
                                }
                                @if let Some(u) = &p.document_url { " — " a href=(u) { "document " (p.kind) } }
                            }
                        }
                    }
                }
            }
        }
        p.muted {
            "Déposée par " (user.display_name()) " le " (a.created_at[..16.min(a.created_at.len())])
            " ; " (a.attempts) " collecte(s). Chaque appel à API Entreprise porte context=" (m.context)
            ", object=" (a.tender) ", recipient=SIRET de l'acheteur."
        }
        form method="post" action={ "/candidatures/" (a.id) "/actualiser" } {
            button.secondary #refresh type="submit" { "Actualiser les pièces" }
        }
    };
    page(
        StatusCode::OK,
        &m.title,
        &format!("Candidature {}", a.id),
        Some(&user),
        main,
    )
}

pub(super) async fn buyer_page(State(m): State<Marche>, headers: HeaderMap) -> Response {
    let user = m.sessions.user(&headers);
    let Some(u) = &user else {
        let main = html! {
            h1 { "Publier un appel d'offres" }
            p { "Identifiez-vous pour publier." }
            (fc_button("/acheteur"))
        };
        return page(
            StatusCode::OK,
            &m.title,
            "Publier un appel d'offres",
            None,
            main,
        );
    };
    let buyer = m
        .initial_tenders
        .first()
        .map(|t| t.buyer_siret.clone())
        .unwrap_or_default();
    let main = html! {
        h1 { "Publier un appel d'offres" }
        p.muted { "Les champs marqués « obligatoire » doivent être remplis." }
        form #publish-form method="post" action="/acheteur" {
            label for="reference" { "Référence (obligatoire)" span.hint #reference-hint { "Par exemple 2026-VIN-042" } }
            input #reference name="reference" required aria-describedby="reference-hint";
            label for="title" { "Objet (obligatoire)" }
            input #title name="title" required;
            label for="description" { "Description" }
            input #description name="description";
            label for="acheteur" { "SIRET de l'acheteur (obligatoire)" span.hint #acheteur-hint { "14 chiffres, sans espace" } }
            input #acheteur name="acheteur" value=(buyer) inputmode="numeric" required aria-describedby="acheteur-hint";
            label for="deadline" { "Date limite (obligatoire)" span.hint #deadline-hint { "Format : AAAA-MM-JJ" } }
            input #deadline name="deadline" type="date" required aria-describedby="deadline-hint";
            p { button type="submit" { "Publier" } }
        }
    };
    page(
        StatusCode::OK,
        &m.title,
        "Publier un appel d'offres",
        Some(u),
        main,
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
        Err(e) => problem_page(&m, &user, e),
    }
}
