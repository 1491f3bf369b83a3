//! The certificate's offline page: the plan, the result, every requirement's verdict with its
//! evidence, the waivers and the key that signed it. Built with `maud`, which escapes every value.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use super::certificate::{Certificate, RequirementVerdict};

/// The page, self-contained (no script, no external resource).
pub(super) fn page(c: &Certificate, jwk: &Value) -> String {
    let result = c.result.name();
    let title = format!("Certificate {} — {}", c.plan.role, result);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(crate::report::STYLE)) }
            }
            body {
                a.skip href="#certificate" { "Skip to the certificate" }
                header { span.brand { "État plateforme — certificate" } }
                main #certificate tabindex="-1" {
                    h1 { (c.plan.title) " — " span class=(result) { (result) } }
                    (facts(c))
                    h2 { "Requirements" }
                    div.table-wrap { table {
                        caption.visually-hidden { "Every requirement of the plan and its verdict" }
                        thead { tr {
                            th scope="col" { "Requirement" } th scope="col" { "Verdict" }
                            th scope="col" { "Evidence" }
                        } }
                        tbody { @for r in &c.requirements { (requirement(r)) } }
                    } }
                    h2 { "Signature" }
                    p { "This page shows " code { "certificate.json" } ", a JWS signed with the bench's certification key; "
                        code { "cargo xtask certify verify certificate.json" } " checks it offline. The public key:" }
                    pre { (serde_json::to_string_pretty(jwk).unwrap_or_default()) }
                }
            }
        }
    }
    .into_string()
        + "\n"
}

fn facts(c: &Certificate) -> Markup {
    let product = match (&c.target.product, &c.target.product_version) {
        (Some(p), Some(v)) => format!("{p} {v}"),
        (Some(p), None) => p.clone(),
        _ => "not stated".into(),
    };
    html! {
        dl {
            dt { "Plan" } dd { (c.plan.role) " plan, version " (c.plan.version)
                @if let Some(v) = &c.plan.variant { ", variant " code { (v) } }
                ", SHA-256 " code { (c.plan.sha256) } }
            dt { "Target" } dd { "profile " code { (c.target.profile) } " — " (c.target.description) }
            dt { "Product (as the vendor states it)" } dd { (product) }
            dt { "External parties" } dd {
                @if c.target.external.is_empty() { "none: the bench's own simulated parties" }
                @for (id, url) in &c.target.external { code { (id) } " at " code { (url) } " " }
            }
            dt { "Run" } dd { code { (c.run.id) } ", " (c.run.date) ", seed " (c.run.seed)
                @if !c.run.defects.is_empty() { ", defects made on purpose: " code { (c.run.defects.join(", ")) } }
                " — " a href=(c.run.report) { "the run's report" } }
            dt { "Bench" } dd { (c.bench.name) " " (c.bench.version)
                @if let Some(commit) = &c.bench.commit { " at " code { (commit) } } }
        }
    }
}

fn requirement(r: &RequirementVerdict) -> Markup {
    let v = r.verdict.name();
    html! {
        tr {
            td { b { (r.id) } " " (r.title) @if !r.mandatory { " " span.muted { "(optional)" } } }
            td { span class={ "badge " (v) } { (v) }
                @if let Some(w) = &r.waived_verdict { " " span.muted { "(" (w.name()) " under a waiver)" } } }
            td {
                @if !r.reason.is_empty() { div.muted { (r.reason) } }
                @if let Some(w) = &r.waiver {
                    div { "Waived by " (w.accepted_by) " until " (w.until.to_string()) ": " (w.reason) }
                }
                ul { @for s in &r.scenarios {
                    li { a href=(s.evidence) { (s.name) } " " span.muted { (s.verdict) " · " (s.at) } }
                } }
            }
        }
    }
}
