//! The nursery service's pages (French): nurseries, a nursery and its estimate, the counter.

use super::*;

pub(super) fn error_page(
    c: &Creche,
    status: StatusCode,
    user: Option<&SignedIn>,
    message: &str,
) -> Response {
    page(
        status,
        &c.title,
        user,
        &format!(
            r#"<h1>Une erreur est survenue</h1><div class="notice ko" id="error">{}</div><p><a href="/">Retour aux crèches</a></p>"#,
            escape(message)
        ),
    )
}

pub(super) async fn home(State(c): State<Creche>, headers: HeaderMap) -> Response {
    let user = c.sessions.user(&headers);
    let rows: String = c
        .nurseries
        .iter()
        .map(|n| {
            format!(
                r#"<tr><td><a href="/creches/{id}">{name}</a></td><td>{addr}</td><td>{path}</td></tr>"#,
                id = escape(&n.id),
                name = escape(&n.name),
                addr = escape(&n.address),
                path = escape(n.data_path.label()),
            )
        })
        .collect();
    page(
        StatusCode::OK,
        &c.title,
        user.as_ref(),
        &format!(
            r#"<h1>Combien coûtera la crèche ?</h1>
<p>Le tarif horaire des crèches municipales suit le barème national de la CNAF (prestation de service unique) : il dépend de vos ressources et du nombre de vos enfants. Plus besoin de fournir vos justificatifs : connectez-vous avec FranceConnect, la crèche les obtient directement, avec votre accord.</p>
<table id="nurseries"><thead><tr><th>Crèche</th><th>Adresse</th><th>Données utilisées</th></tr></thead><tbody>{rows}</tbody></table>
<p class="muted">API JSON : <a href="/openapi.json">openapi.json</a> — barème : <a href="/api/bareme">/api/bareme</a>.</p>"#
        ),
    )
}

pub(super) fn estimate_html(e: &Estimate) -> String {
    let lines: String = e
        .explications
        .iter()
        .map(|l| format!("<li>{}</li>", escape(l)))
        .collect();
    let (class, headline) = match (e.issue, &e.tarif_horaire) {
        ("tarif_calcule", Some(_)) => ("ok", String::new()),
        _ => ("warn", escape(&e.message)),
    };
    let fee = match (&e.tarif_horaire, &e.facture_mensuelle) {
        (Some(h), Some(m)) => format!(
            r#"<table id="bill"><tr><th>Tarif horaire</th><td class="amount" id="hourly">{} €</td></tr><tr><th>Heures contractualisées</th><td>{} h par an</td></tr><tr><th>Facture mensuelle</th><td class="amount" id="monthly">{} €</td></tr></table>"#,
            h.replace('.', ","),
            e.heures_annuelles,
            m.replace('.', ",")
        ),
        _ => String::new(),
    };
    let received = e.donnees_recues["champs"]
        .as_array()
        .map(|f| {
            format!(
                r#"<p class="muted" id="received">Données reçues de {} : {}.</p>"#,
                escape(e.donnees_recues["fournisseur"].as_str().unwrap_or("")),
                escape(
                    &f.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            )
        })
        .unwrap_or_default();
    let notice = if headline.is_empty() {
        String::new()
    } else {
        format!(
            r#"<div class="notice {class}" id="outcome" data-issue="{}">{headline}</div>"#,
            e.issue
        )
    };
    format!(r#"<h2>Votre tarif</h2>{notice}{fee}<ol id="explanation">{lines}</ol>{received}"#)
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
    let head = format!(
        r#"<p><a href="/">← Crèches</a></p><h1>{}</h1><p class="muted">{} — données : {}</p>"#,
        escape(&n.name),
        escape(&n.address),
        escape(n.data_path.label())
    );
    let body = match (n.data_path, &user) {
        (DataPath::ApiParticulierIdentite, _) => format!(
            r#"<p>Cette crèche calcule le tarif au guichet : <a class="button" href="/creches/{}/guichet">Accès agent</a></p>"#,
            escape(&n.id)
        ),
        (_, None) => format!(
            r#"<p>Connectez-vous pour que la crèche obtienne {} — et rien d'autre.</p>
<p><a class="button fc-button" id="franceconnect" href="/connexion?creche={}">S'identifier avec FranceConnect<small>Qu'est-ce que FranceConnect ?</small></a></p>"#,
            match n.data_path {
                DataPath::DgfipFranceConnect =>
                    "votre revenu fiscal de référence et votre nombre de parts",
                _ => "vos paramètres de calcul CAF/MSA (ressources, enfants à charge, AEEH)",
            },
            escape(&n.id)
        ),
        (path, Some(_)) => {
            let declared = if path == DataPath::DgfipFranceConnect {
                r#"<label for="enfants">Enfants à charge</label><input id="enfants" name="enfants" type="number" min="1" value="1" required>
<label for="enfants_aeeh">Dont bénéficiaires de l'AEEH</label><input id="enfants_aeeh" name="enfants_aeeh" type="number" min="0" value="0">"#
            } else {
                ""
            };
            format!(
                r#"<form method="post" action="/creches/{id}/estimation" id="estimate-form">
<label for="heures_annuelles">Heures d'accueil par an (contrat)</label><input id="heures_annuelles" name="heures_annuelles" type="number" min="1" value="{h}">{declared}
<p><button type="submit">Calculer mon tarif</button></p></form>"#,
                id = escape(&n.id),
                h = c.default_hours
            )
        }
    };
    page(
        StatusCode::OK,
        &c.title,
        user.as_ref(),
        &format!("{head}{body}"),
    )
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
    let html = match estimate(&c, &n, &user, req).await {
        Ok(e) => estimate_html(&e),
        Err(e) => problem_html(e).await,
    };
    page(
        StatusCode::OK,
        &c.title,
        Some(&user),
        &format!(
            r#"<p><a href="/creches/{id}">← {name}</a></p><h1>{name}</h1>{html}"#,
            id = escape(&n.id),
            name = escape(&n.name)
        ),
    )
}

pub(super) async fn problem_html(e: Response) -> String {
    let (_, text) = super::super::problem_text(e).await;
    format!(
        r#"<div class="notice ko" id="error">{}</div>"#,
        escape(&text)
    )
}

pub(super) async fn counter_page(State(c): State<Creche>, Path(id): Path<String>) -> Response {
    let Some(n) = nursery(&c, &id) else {
        return error_page(&c, StatusCode::NOT_FOUND, None, "Crèche inconnue.");
    };
    page(
        StatusCode::OK,
        &c.title,
        None,
        &format!(
            r#"<p><a href="/creches/{id}">← {name}</a></p><h1>Guichet — {name}</h1>
<div class="notice">Consultation sans connexion du parent. Base légale : {basis}</div>
<form method="post" action="/creches/{id}/guichet" id="counter-form">
<label for="nom_naissance">Nom de naissance</label><input id="nom_naissance" name="nom_naissance" required>
<label for="prenoms">Prénoms</label><input id="prenoms" name="prenoms" required>
<label for="sexe">Sexe à l'état civil</label><select id="sexe" name="sexe"><option value="F">F</option><option value="M">M</option></select>
<label for="date_naissance">Date de naissance</label><input id="date_naissance" name="date_naissance" type="date" required>
<label for="code_cog_commune_naissance">Commune de naissance (code COG)</label><input id="code_cog_commune_naissance" name="code_cog_commune_naissance">
<label for="code_cog_pays_naissance">Pays de naissance (code COG)</label><input id="code_cog_pays_naissance" name="code_cog_pays_naissance" value="99100">
<label for="heures_annuelles">Heures d'accueil par an</label><input id="heures_annuelles" name="heures_annuelles" type="number" value="{h}">
<label><input type="checkbox" name="famille_informee" value="oui" style="width:auto"> La famille a été informée des données consultées et de leur base légale</label>
<p><button type="submit">Calculer le tarif</button></p></form>"#,
            id = escape(&n.id),
            name = escape(&n.name),
            basis = escape(&n.legal_basis),
            h = c.default_hours,
        ),
    )
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
    let html = match counter(&c, &n, req).await {
        Ok(e) => estimate_html(&e),
        Err(e) => problem_html(e).await,
    };
    page(
        StatusCode::OK,
        &c.title,
        None,
        &format!(
            r#"<p><a href="/creches/{id}/guichet">← Guichet</a></p><h1>{name}</h1>{html}"#,
            id = escape(&n.id),
            name = escape(&n.name)
        ),
    )
}
