//! The HTML report: one self-contained page (no script, no external resource), accessible as
//! the platform's pages are (skip link, one `<main>`, tables with headers, the language of each
//! scenario marked), built with `maud`, which escapes every value.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{RunReport, ScenarioResult, Verdict};
use crate::exchange::Exchange;

/// Keywords only a French feature file uses (`# language: fr`).
const FRENCH_KEYWORDS: &[&str] = &[
    "Soit",
    "Étant donné",
    "Etant donné",
    "Quand",
    "Lorsque",
    "Alors",
    "Et",
    "Mais",
];

/// The scenario's language, from its steps' keywords.
fn language(s: &ScenarioResult) -> &'static str {
    let french = s
        .steps
        .iter()
        .any(|st| FRENCH_KEYWORDS.contains(&st.keyword.trim()));
    if french { "fr" } else { "en" }
}

/// The verdict's CSS class (its name, spaces as `-`).
fn verdict_name(v: Verdict) -> String {
    v.name().replace(' ', "-")
}

impl RunReport {
    /// One self-contained HTML page (no script, no external resource).
    pub fn html(&self) -> String {
        let verdict = if self.passed() { "PASSED" } else { "FAILED" };
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "Conformance " (self.run_id) " — " (verdict) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    a.skip href="#results" { "Skip to the results" }
                    header { span.brand { "État plateforme — conformance report" } }
                    main #results tabindex="-1" {
                        h1 { "Conformance run " code { (self.run_id) } " — " span class=(verdict) { (verdict) } }
                        (self.summary())
                        (self.latency_table())
                        @for (file, feature, scenarios) in self.features() {
                            section {
                                h2 { (feature) " " span.muted { (file) } }
                                @for s in scenarios { (scenario(s)) }
                            }
                        }
                    }
                }
            }
        }
        .into_string()
            + "\n"
    }

    fn summary(&self) -> Markup {
        html! {
            p.muted {
                "Target " b { (self.target) } " (" (self.target_description) ") · seed " (self.seed)
                " · platform clock " (self.clock) " · order " (self.order) " · started " (self.started)
                " · " (format!("{:.1}", self.duration_ms / 1000.0)) " s"
                @if !self.defects.is_empty() { " · " b { "defects injected: " (self.defects.join(", ")) } }
            }
            @if !self.registrations.is_empty() {
                details {
                    summary { "URLs the external parties register or call" }
                    ul { @for r in &self.registrations { li { code { (r) } } } }
                }
            }
            p {
                span.badge.PASSED { (self.count(Verdict::Passed)) " passed" } " "
                span.badge.FAILED { (self.count(Verdict::Failed)) " failed" } " "
                span.badge.SKIPPED { (self.count(Verdict::Skipped)) " skipped" } " "
                span.badge.NOT-APPLICABLE { (self.count(Verdict::NotApplicable)) " not applicable" }
            }
            @for e in &self.errors { div.err role="alert" { (e) } }
        }
    }

    fn latency_table(&self) -> Markup {
        html! {
            h2 { "Latency by party" }
            div.table-wrap { table #latency {
                thead { tr {
                    th scope="col" { "Party" } th scope="col" { "Exchanges" }
                    th scope="col" { "p50 ms" } th scope="col" { "p95 ms" } th scope="col" { "max ms" }
                } }
                tbody {
                    @for l in self.latencies() {
                        tr {
                            th scope="row" { (l.party) }
                            td { (l.exchanges) }
                            td { (format!("{:.1}", l.p50_ms)) }
                            td { (format!("{:.1}", l.p95_ms)) }
                            td { (format!("{:.1}", l.max_ms)) }
                        }
                    }
                }
            } }
        }
    }
}

/// A scenario: its verdict and name, its steps as a table with headers, its evidence.
fn scenario(s: &ScenarioResult) -> Markup {
    let v = verdict_name(s.verdict);
    let tags: Vec<String> = s.tags.iter().map(|t| format!("@{t}")).collect();
    html! {
        details id=(super::anchor(s)) open[s.verdict != Verdict::Passed] lang=(language(s)) {
            summary {
                span class={ "badge " (v) } { (s.verdict.name()) } " " (s.name) " "
                span.muted lang="en" { "line " (s.line) " · " (format!("{:.0}", s.duration_ms)) " ms · " (tags.join(" ")) }
            }
            div.table-wrap { table.steps {
                caption.visually-hidden lang="en" { "Steps of " (s.name) }
                thead lang="en" { tr { th scope="col" { "Verdict" } th scope="col" { "Step" } th scope="col" { "Duration" } } }
                tbody {
                    @for st in &s.steps {
                        @let sv = verdict_name(st.verdict);
                        tr {
                            td class=(sv) lang="en" { (st.verdict.name().to_lowercase()) }
                            td { b { (st.keyword.trim()) } " " (st.text) }
                            td.muted { (format!("{:.0}", st.duration_ms)) " ms" }
                        }
                        @if let Some(e) = &st.error {
                            tr { td {} td colspan="2" { div.err lang="en" { (e) } } }
                        }
                    }
                }
            } }
            @for e in &s.errors { div.err lang="en" { (e) } }
            @if !s.exchanges.is_empty() {
                details lang="en" {
                    summary { (s.exchanges.len()) " exchanges (evidence, secrets redacted)" }
                    @for e in &s.exchanges { (exchange(e)) }
                }
            }
        }
    }
}

fn exchange(e: &Exchange) -> Markup {
    let headers = |h: &[(String, String)]| -> String {
        h.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
    };
    let status = if e.status == 0 {
        "no answer".to_string()
    } else {
        e.status.to_string()
    };
    html! {
        details {
            summary {
                code { (e.method) " " (e.url) } " → " b { (status) } " "
                span.muted { (e.party) " · " (format!("{:.1}", e.duration_ms)) " ms" }
            }
            pre { (headers(&e.request_headers)) (e.error.as_deref().unwrap_or_default()) "\n\n" (e.request_body) }
            pre { (headers(&e.response_headers)) "\n\n" (e.response_body) }
        }
    }
}

/// The reports' style sheet, shared by the certificate's page.
pub(crate) const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:0;color:#161616;line-height:1.45}
.skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem 1rem;z-index:10}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
:focus-visible{outline:3px solid #0a76f6;outline-offset:2px}
header{border-bottom:1px solid #ddd;padding:.8rem 1rem}.brand{font-weight:700;border-left:.4rem solid #000091;padding-left:.6rem}
main{margin:1rem auto;max-width:80rem;padding:0 1rem}main:focus{outline:none}
h1{font-size:1.6rem;overflow-wrap:anywhere}.muted{color:#595959}
.PASSED{color:#18753c}.FAILED{color:#ce0500}.SKIPPED,.WARNING,.NOT-APPLICABLE{color:#a33900}.REVIEW,.WAIVED{color:#6e445a}
.badge{font-weight:700;padding:.1rem .4rem;border-radius:.2rem;background:#f6f6f6;white-space:nowrap}dt{font-weight:700}
details{border:1px solid #ddd;border-radius:.3rem;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer;overflow-wrap:anywhere}table{border-collapse:collapse}
.table-wrap{overflow-x:auto;position:relative}h2,code,.muted{overflow-wrap:anywhere}
td,th{padding:.2rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f0ff}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:20rem;font-size:.8rem;white-space:pre-wrap;word-break:break-all}
.err{background:#fee;border-left:3px solid #ce0500;padding:.3rem .5rem;white-space:pre-wrap}
"#;
