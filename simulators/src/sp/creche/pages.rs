//! The nursery service's pages (French): nurseries, a nursery and its estimate, the counter.

use super::*;
use crate::http::{Markup, PreEscaped, html};
use crate::sp::{SpError, franceconnect_button};

pub(super) async fn home(State(c): State<Creche>, headers: HeaderMap) -> Response {
    let user = c.sessions.user(&headers);
    let main = html! {
        h1 { "Combien coûtera la crèche ?" }
        p {
            "Le tarif horaire des crèches municipales suit le barème national de la CNAF (prestation de service unique) : il dépend de vos ressources et du nombre de vos enfants. Plus besoin de fournir vos justificatifs : connectez-vous avec FranceConnect, la crèche les obtient directement, avec votre accord."
        }
        div.table-wrap {
            table #nurseries {
                caption.muted { "Les crèches et les données que chacune utilise" }
                thead { tr { th scope="col" { "Crèche" } th scope="col" { "Adresse" } th scope="col" { "Données utilisées" } } }
                tbody {
                    @for n in c.nurseries.iter() {
                        tr {
                            td { a href={ "/creches/" (n.id) } { (n.name) } }
                            td { (n.address) }
                            td { (n.data_path.label()) }
                        }
                    }
                }
            }
        }
        p.muted {
            "API JSON : " a href="/openapi.json" { "openapi.json" }
            " — barème : " a href="/api/bareme" { "/api/bareme" } "."
        }
    };
    page(StatusCode::OK, &c.title, "Les crèches", user.as_ref(), main)
}

pub(super) fn estimate_html(e: &Estimate) -> Markup {
    let fields: Vec<&str> = e.donnees_recues["champs"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let computed = e.issue == "tarif_calcule" && e.tarif_horaire.is_some();
    html! {
        h2 { "Votre tarif" }
        @if !computed {
            div.notice.warn #outcome role="status" data-issue=(e.issue) { (e.message) }
        }
        @if let (Some(h), Some(m)) = (&e.tarif_horaire, &e.facture_mensuelle) {
            div.table-wrap {
                table #bill {
                    tr { th scope="row" { "Tarif horaire" } td.amount #hourly { (h.replace('.', ",")) " €" } }
                    tr { th scope="row" { "Heures contractualisées" } td { (e.heures_annuelles) " h par an" } }
                    tr { th scope="row" { "Facture mensuelle" } td.amount #monthly { (m.replace('.', ",")) " €" } }
                }
            }
        }
        ol #explanation { @for l in &e.explications { li { (l) } } }
        @if e.donnees_recues["champs"].is_array() {
            p.muted #received {
                "Données reçues de " (e.donnees_recues["fournisseur"].as_str().unwrap_or("")) " : "
                (fields.join(", ")) "."
            }
        }
    }
}

pub(super) async fn nursery_page(
    State(c): State<Creche>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = c.sessions.user(&headers);
    let Some(n) = nursery(&c, &id) else {
        return error_page(&c, StatusCode::NOT_FOUND, user.as_ref(), "Crèche inconnue.");
    };
    let wanted = match n.data_path {
        DataPath::DgfipFranceConnect => "votre revenu fiscal de référence et votre nombre de parts",
        _ => "vos paramètres de calcul CAF/MSA (ressources, enfants à charge, AEEH)",
    };
    let main = html! {
        p { a href="/" { "← Crèches" } }
        h1 { (n.name) }
        p.muted { (n.address) " — données : " (n.data_path.label()) }
        @match (n.data_path, &user) {
            (DataPath::ApiParticulierIdentite, _) => p {
                "Cette crèche calcule le tarif au guichet : "
                a.button href={ "/creches/" (n.id) "/guichet" } { "Accès agent" }
            },
            (_, None) => {
                p { "Connectez-vous pour que la crèche obtienne " (wanted) " — et rien d'autre." }
                (franceconnect_button(&format!("/connexion?creche={}", n.id)))
            },
            (path, Some(_)) => (estimate_form_html(&c, n, path)),
        }
    };
    page(StatusCode::OK, &c.title, &n.name, user.as_ref(), main)
}

fn estimate_form_html(c: &Creche, n: &NurseryConfig, path: DataPath) -> Markup {
    html! {
        form #estimate-form method="post" action={ "/creches/" (n.id) "/estimation" } {
            label for="heures_annuelles" {
                "Heures d'accueil par an (contrat)"
                span.hint #heures-hint { "Un nombre entier entre 1 et 8 784" }
            }
            input #heures_annuelles name="heures_annuelles" type="number" min="1" max="8784"
                value=(c.default_hours) aria-describedby="heures-hint";
            @if path == DataPath::DgfipFranceConnect {
                label for="enfants" { "Enfants à charge (obligatoire)" }
                input #enfants name="enfants" type="number" min="1" value="1" required;
                label for="enfants_aeeh" { "Dont bénéficiaires de l'AEEH" }
                input #enfants_aeeh name="enfants_aeeh" type="number" min="0" value="0";
            }
            p { button type="submit" { "Calculer mon tarif" } }
        }
    }
}

pub(super) fn form_of(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

pub(super) fn field(form: &[(String, String)], k: &str) -> Option<String> {
    form.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub(super) async fn estimate_form(
    State(c): State<Creche>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(n) = nursery(&c, &id).cloned() else {
        return error_page(&c, StatusCode::NOT_FOUND, None, "Crèche inconnue.");
    };
    let Some(user) = c.sessions.user(&headers) else {
        return see_other(&format!("/creches/{}", n.id), None);
    };
    let form = form_of(&body);
    let number = |k: &str| field(&form, k).and_then(|v| v.parse::<u32>().ok());
    let req = EstimateRequest {
        heures_annuelles: number("heures_annuelles"),
        enfants: number("enfants"),
        enfants_aeeh: number("enfants_aeeh"),
    };
    let (title, outcome) = match estimate(&c, &n, &user, req).await {
        Ok(e) => ("Votre tarif", estimate_html(&e)),
        Err(e) => ("Erreur", error_notice(&e, &[])),
    };
    let main = html! {
        p { a href={ "/creches/" (n.id) } { "← " (n.name) } }
        h1 { (n.name) }
        (outcome)
    };
    page(
        StatusCode::OK,
        &c.title,
        &format!("{title} — {}", n.name),
        Some(&user),
        main,
    )
}

/// An error in words, naming the form field it is about by its label (with a link to it).
fn error_notice(e: &SpError, labels: &[(&str, &str)]) -> Markup {
    let label = e
        .field
        .and_then(|f| labels.iter().find(|(name, _)| *name == f));
    html! {
        div.notice.ko #error role="alert" {
            (e.title)
            @if let Some((name, label)) = label {
                " : vérifiez le champ " a href={ "#" (name) } { "« " (label) " »" } "."
            }
        }
    }
}

/// The counter's fields: name, label, hint, whether required, `autocomplete`.
const COUNTER_FIELDS: &[(&str, &str, Option<&str>, bool, &str)] = &[
    (
        "nom_naissance",
        "Nom de naissance",
        None,
        true,
        "family-name",
    ),
    (
        "prenoms",
        "Prénoms",
        Some("Séparés par des espaces"),
        true,
        "given-name",
    ),
    (
        "date_naissance",
        "Date de naissance",
        Some("Format : AAAA-MM-JJ"),
        true,
        "bday",
    ),
    (
        "code_cog_commune_naissance",
        "Commune de naissance (code COG)",
        Some("5 caractères, par exemple 75056 ; à laisser vide si né à l'étranger"),
        false,
        "off",
    ),
    (
        "code_cog_pays_naissance",
        "Pays de naissance (code COG)",
        Some("99100 pour la France"),
        false,
        "off",
    ),
    (
        "heures_annuelles",
        "Heures d'accueil par an",
        Some("Un nombre entier entre 1 et 8 784"),
        false,
        "off",
    ),
];

/// Label of a counter field, by name.
fn counter_labels() -> Vec<(&'static str, &'static str)> {
    let mut labels: Vec<_> = COUNTER_FIELDS.iter().map(|f| (f.0, f.1)).collect();
    labels.push(("sexe", "Sexe à l'état civil"));
    labels.push(("famille_informee", "La famille a été informée"));
    labels
}

/// The counter form, filled with what was typed, the field in error marked.
fn counter_form_html(
    c: &Creche,
    n: &NurseryConfig,
    values: &[(String, String)],
    error: Option<&SpError>,
) -> Markup {
    let value = |k: &str| field(values, k);
    let default_hours = c.default_hours.to_string();
    let wrong = error.and_then(|e| e.field);
    let raw = c.core.defects.has(Defect::CrecheEchoesCounterMarkup);
    html! {
        p.muted { "Les champs marqués « obligatoire » doivent être remplis." }
        form #counter-form method="post" action={ "/creches/" (n.id) "/guichet" } {
            @for (name, label, hint, required, auto) in COUNTER_FIELDS {
                @let hint_id = format!("{name}-hint");
                @let typed = value(name).or_else(|| match *name {
                    "code_cog_pays_naissance" => Some("99100".to_string()),
                    "heures_annuelles" => Some(default_hours.clone()),
                    _ => None,
                });
                label for=(name) {
                    (label) @if *required { " (obligatoire)" }
                    @if let Some(h) = hint { span.hint id=(hint_id) { (h) } }
                }
                @let typed = typed.map(|t| if raw { PreEscaped(t) } else { html! { (t) } });
                input id=(name) name=(name) required[*required] autocomplete=(auto)
                    type=(if *name == "heures_annuelles" { "number" } else { "text" })
                    value=[typed]
                    aria-invalid=[(wrong == Some(*name)).then_some("true")]
                    aria-describedby=[hint.map(|_| hint_id.as_str())];
            }
            label for="sexe" { "Sexe à l'état civil (obligatoire)" }
            select #sexe name="sexe" required {
                option value="F" selected[value("sexe").as_deref() == Some("F")] { "F" }
                option value="M" selected[value("sexe").as_deref() == Some("M")] { "M" }
            }
            p {
                label.check for="famille_informee" {
                    input #famille_informee type="checkbox" name="famille_informee" value="oui"
                        aria-invalid=[(wrong == Some("famille_informee")).then_some("true")];
                    " La famille a été informée des données consultées et de leur base légale (obligatoire)"
                }
            }
            p { button type="submit" { "Calculer le tarif" } }
        }
    }
}

pub(super) async fn counter_page(State(c): State<Creche>, Path(id): Path<String>) -> Response {
    let Some(n) = nursery(&c, &id) else {
        return error_page(&c, StatusCode::NOT_FOUND, None, "Crèche inconnue.");
    };
    counter_response(&c, n, &[], None, None)
}

/// The counter page: its form (kept as typed), an error above it or the estimate below.
fn counter_response(
    c: &Creche,
    n: &NurseryConfig,
    values: &[(String, String)],
    error: Option<&SpError>,
    estimate: Option<&Estimate>,
) -> Response {
    let main = html! {
        p { a href={ "/creches/" (n.id) } { "← " (n.name) } }
        h1 { "Guichet — " (n.name) }
        div.notice { "Consultation sans connexion du parent. Base légale : " (n.legal_basis) }
        @if let Some(e) = error { (error_notice(e, &counter_labels())) }
        (counter_form_html(c, n, values, error))
        @if let Some(e) = estimate { (estimate_html(e)) }
    };
    let title = match (error, estimate) {
        (Some(_), _) => format!("Erreur — Guichet {}", n.name),
        (None, Some(_)) => format!("Tarif — Guichet {}", n.name),
        _ => format!("Guichet — {}", n.name),
    };
    let status = error.map_or(StatusCode::OK, |e| e.status);
    page(status, &c.title, &title, None, main)
}

pub(super) async fn counter_form(
    State(c): State<Creche>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(n) = nursery(&c, &id).cloned() else {
        return error_page(&c, StatusCode::NOT_FOUND, None, "Crèche inconnue.");
    };
    let form = form_of(&body);
    let req = CounterRequest {
        nom_naissance: field(&form, "nom_naissance").unwrap_or_default(),
        prenoms: field(&form, "prenoms").unwrap_or_default(),
        sexe: field(&form, "sexe").unwrap_or_default(),
        date_naissance: field(&form, "date_naissance").unwrap_or_default(),
        code_cog_commune_naissance: field(&form, "code_cog_commune_naissance").unwrap_or_default(),
        code_cog_pays_naissance: field(&form, "code_cog_pays_naissance").unwrap_or_else(france),
        heures_annuelles: field(&form, "heures_annuelles").and_then(|v| v.parse().ok()),
        famille_informee: field(&form, "famille_informee").is_some(),
    };
    match counter(&c, &n, req).await {
        Ok(e) => counter_response(&c, &n, &form, None, Some(&e)),
        Err(e) => counter_response(&c, &n, &form, Some(&e), None),
    }
}
