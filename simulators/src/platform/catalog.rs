//! The API catalogue: the parties as JSON (`/catalog`) and as a page (`/`), and the platform's
//! clocks all at once (`/_control/clock`).

use super::*;
use crate::http::{Clock, Page, html, json_response};
use axum::Router;
use axum::http::StatusCode;
use std::sync::Arc;

pub(super) fn catalog_entries(parties: &[RunningParty]) -> Vec<Value> {
    parties.iter().map(|p| json!({"id": p.id, "role": p.role, "title": p.title, "base_url": p.base_url, "openapi": p.openapi_url()})).collect()
}

/// The catalogue's page, in English like the rest of the bench's own tooling (the parties'
/// titles stay French, marked as such).
pub(super) fn catalog_html(parties: &[RunningParty], population: &Population) -> String {
    let citizens = population
        .citizens
        .iter()
        .filter(|c| c.persona.as_ref().is_some_and(|k| !k.contains('#')));
    let companies = population.companies.iter().filter(|c| c.persona.is_some());
    let main = html! {
        h1 { "The simulated platform" }
        p.muted {
            "Every party runs locally over a synthetic population (seed " (population.config.seed) ", "
            (population.citizens.len()) " citizens, " (population.companies.len()) " companies). Machine-readable catalogue: "
            a href="/catalog" { "/catalog" } ". Each party also serves " code { "/_control/journal" } ", "
            code { "/_control/clock" } " and " code { "/_control/reset" } "."
        }
        div.table-wrap {
            table #parties {
                caption.muted { "The parties, in catalogue order" }
                thead { tr {
                    th scope="col" { "Party" } th scope="col" { "Role" } th scope="col" { "Title" }
                    th scope="col" { "Base URL" } th scope="col" { "OpenAPI" }
                } }
                tbody {
                    @for p in parties {
                        tr {
                            td { code { (p.id) } }
                            td { (p.role.as_str()) }
                            td lang="fr" { (p.title) }
                            td { a href=(p.base_url) { (p.base_url) } }
                            td { a href=(p.openapi_url()) { "openapi.json" span.visually-hidden { " of " (p.id) } } }
                        }
                    }
                }
            }
        }
        h2 { "Personas" }
        ul #personas {
            @for c in citizens {
                li { code { (c.persona.as_deref().unwrap_or("")) } " — " (c.given_names) " " (c.family_name) }
            }
            @for c in companies {
                li { code { (c.persona.as_deref().unwrap_or("")) } " — " span lang="fr" { (c.name) } " (SIREN " (c.siren) ")" }
            }
        }
    };
    Page {
        lang: "en",
        ..Page::new(
            "API catalogue",
            "État plateforme — simulated platform",
            main,
        )
    }
    .render()
}

/// The platform's clocks at once, on the catalogue's `/_control/clock`: `GET` shows each party's,
/// `PUT` applies the same body to all (`{"now": …}`, `{"advance_seconds": n}`, `{"frozen":
/// bool}`, as a party's own), `DELETE` resets all. A body refused changes none.
pub(super) fn clock_routes(parties: &[RunningParty]) -> Router {
    use axum::routing::get;
    let clocks: Arc<Vec<(String, Clock)>> = Arc::new(
        parties
            .iter()
            .map(|p| (p.id.to_string(), p.core.clock.clone()))
            .collect(),
    );
    let show = |clocks: &[(String, Clock)]| {
        let each: serde_json::Map<String, Value> = clocks
            .iter()
            .map(|(id, c)| (id.clone(), c.body()))
            .collect();
        json_response(StatusCode::OK, &json!({"parties": each}))
    };
    let (get_c, put_c, del_c) = (clocks.clone(), clocks.clone(), clocks);
    Router::new().route(
        "/_control/clock",
        get(move || async move { show(&get_c) })
            .put(move |body: axum::body::Bytes| async move {
                // Checked on a scratch clock first, so a bad body moves no party.
                if let Err(e) = Clock::default().apply(&body) {
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        &json!({"error": "bad_request", "detail": e}),
                    );
                }
                for (_, c) in put_c.iter() {
                    let _ = c.apply(&body);
                }
                show(&put_c)
            })
            .delete(move || async move {
                del_c.iter().for_each(|(_, c)| c.reset());
                show(&del_c)
            }),
    )
}
