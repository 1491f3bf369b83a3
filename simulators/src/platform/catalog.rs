//! The API catalogue: the parties as JSON (`/catalog`) and as a page (`/`).

use super::*;

pub(super) fn catalog_entries(parties: &[RunningParty]) -> Vec<Value> {
    parties.iter().map(|p| json!({"id": p.id, "role": p.role, "title": p.title, "base_url": p.base_url, "openapi": p.openapi_url()})).collect()
}

pub(super) fn catalog_html(parties: &[RunningParty], population: &Population) -> String {
    let rows: String = parties
        .iter()
        .map(|p| {
            format!(
                "<tr><td><code>{}</code></td><td>{:?}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td><a href=\"{}\">openapi.json</a></td></tr>\n",
                p.id,
                p.role,
                crate::http::escape(&p.title),
                p.base_url,
                p.base_url,
                p.openapi_url()
            )
        })
        .collect();
    let personas: String = population
        .citizens
        .iter()
        .filter(|c| c.persona.as_ref().is_some_and(|k| !k.contains('#')))
        .map(|c| {
            format!(
                "<li><code>{}</code> — {} {}</li>",
                c.persona.as_deref().unwrap_or(""),
                crate::http::escape(&c.given_names),
                crate::http::escape(&c.family_name)
            )
        })
        .chain(population.companies.iter().filter_map(|c| {
            c.persona.as_ref().map(|k| {
                format!(
                    "<li><code>{k}</code> — {} (SIREN {})</li>",
                    crate::http::escape(&c.name),
                    c.siren
                )
            })
        }))
        .collect();
    format!(
        r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>État plateforme — simulated platform</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #161616; }}
h1 {{ border-left: .5rem solid #000091; padding-left: .75rem; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; }}
th {{ background: #f0f0ff; }} code {{ background: #f6f6f6; padding: 0 .2rem; }} .muted {{ color: #666; }}
</style></head><body>
<h1>État plateforme — simulated platform</h1>
<p class="muted">Every party runs locally over a synthetic population (seed {seed}, {citizens} citizens, {companies} companies). Machine-readable catalogue: <a href="/catalog">/catalog</a>. Each party also serves <code>/_control/journal</code>, <code>/_control/clock</code> and <code>/_control/reset</code>.</p>
<table><thead><tr><th>party</th><th>role</th><th>title</th><th>base URL</th><th>OpenAPI</th></tr></thead><tbody>
{rows}</tbody></table>
<h2>Personas</h2><ul>{personas}</ul>
</body></html>"#,
        seed = population.config.seed,
        citizens = population.citizens.len(),
        companies = population.companies.len(),
    )
}
