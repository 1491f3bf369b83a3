//! The load report as one offline HTML page (no script, no external resource), in the
//! conformance report's style: thresholds, figures per journey, step, party and hub, and SVG
//! plots (latency over time, the percentile distribution, throughput, errors), each with a text
//! alternative and its data in a table.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::measures::JourneyMeasures;
use super::report::LoadReport;

const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:0;color:#161616;line-height:1.45}
.skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem 1rem;z-index:10}
:focus-visible{outline:3px solid #0a76f6;outline-offset:2px}
header{border-bottom:1px solid #ddd;padding:.8rem 1rem}.brand{font-weight:700;border-left:.4rem solid #000091;padding-left:.6rem}
main{margin:1rem auto;max-width:80rem;padding:0 1rem}main:focus{outline:none}
h1{font-size:1.6rem;overflow-wrap:anywhere}.muted{color:#595959}.ok{color:#18753c}.FAIL{color:#ce0500}
table{border-collapse:collapse}.table-wrap{overflow-x:auto}
td,th{padding:.2rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f0ff}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}svg{max-width:100%;height:auto;background:#fff;border:1px solid #ddd}
details{border:1px solid #ddd;border-radius:.3rem;margin:.4rem 0;padding:.3rem .6rem}summary{cursor:pointer}
"#;

/// Colours with at least 3:1 contrast on white, told apart by dash pattern as well.
const SERIES: &[(&str, &str)] = &[
    ("#000091", ""),
    ("#ce0500", "6 3"),
    ("#18753c", "2 2"),
    ("#a33900", "8 2 2 2"),
];

const PERCENTILES: &[f64] = &[0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0];

impl LoadReport {
    /// The report as one self-contained HTML page.
    pub fn html(&self) -> String {
        let failed = self.thresholds.iter().any(|c| !c.held);
        let verdict = if failed { "FAIL" } else { "ok" };
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "Load run " (self.profile) " — " (if failed { "thresholds breached" } else { "thresholds held" }) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    a.skip href="#results" { "Skip to the results" }
                    header { span.brand { "État plateforme — load report" } }
                    main #results tabindex="-1" {
                        h1 { "Load run " code { (self.profile) } " — " span class=(verdict) { (if failed { "thresholds breached" } else { "thresholds held" }) } }
                        p.muted { (format!("{:.1} s, {} shard(s), {} iterations, {} errors, {} late starts, {} dropped (no VU free before the end); latency from each iteration's intended start (coordinated omission corrected).", self.elapsed_s, self.shards, self.all.iterations, self.all.errors, self.all.late, self.dropped)) }
                        @for n in &self.notes { p.muted { (n) } }
                        (self.threshold_table())
                        (figures_table("Journeys", &self.journeys.iter().chain([&self.all]).cloned().collect::<Vec<_>>()))
                        (figures_table("Steps", &self.steps))
                        (figures_table("Parties (every call made to each)", &self.parties))
                        (figures_table("Each hub's own time, from its journal", &self.hub_time))
                        (figures_table("Latency each hub adds to its providers'", &self.hub_added))
                        (self.plots())
                    }
                }
            }
        }
        .into_string()
            + "\n"
    }

    fn threshold_table(&self) -> Markup {
        html! {
            h2 { "Thresholds" }
            @if self.thresholds.is_empty() { p { "The profile sets no threshold." } }
            @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Verdict" } th scope="col" { "Scope" } th scope="col" { "Threshold" } th scope="col" { "Measured" } } }
                    tbody { @for c in &self.thresholds { tr {
                        td class=(if c.held { "ok" } else { "FAIL" }) { (if c.held { "held" } else { "breached" }) }
                        td { (c.name) } td { code { (c.threshold) } } td { (c.measured) }
                    } } }
                } }
            }
        }
    }

    fn plots(&self) -> Markup {
        let seconds = &self.timeline.seconds;
        let at = |f: &dyn Fn(&super::measures::Second) -> f64| -> Vec<(f64, f64)> {
            seconds
                .iter()
                .enumerate()
                .filter(|(_, s)| s.iterations > 0)
                .map(|(t, s)| (t as f64, f(s)))
                .collect()
        };
        let q = |p: f64| {
            move |s: &super::measures::Second| s.histogram.value_at_quantile(p) as f64 / 1000.0
        };
        let over_time = vec![
            ("p50".to_string(), at(&q(0.5))),
            ("p99".to_string(), at(&q(0.99))),
        ];
        let distribution: Vec<(String, Vec<(f64, f64)>)> = self
            .journeys
            .iter()
            .chain([&self.all])
            .take(SERIES.len())
            .map(|m| {
                (
                    m.name.clone(),
                    PERCENTILES
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (i as f64, m.ms(p / 100.0)))
                        .collect(),
                )
            })
            .collect();
        let throughput = vec![("iterations".to_string(), at(&|s| s.iterations as f64))];
        let errors = vec![("errors".to_string(), at(&|s| s.errors as f64))];
        let labels: Vec<String> = PERCENTILES.iter().map(|p| format!("p{p}")).collect();
        html! {
            h2 { "Plots" }
            (chart("Latency over time", "second of the run", "ms", &over_time, None))
            (chart("Latency by percentile", "percentile", "ms", &distribution, Some(&labels)))
            (chart("Throughput", "second of the run", "iterations started", &throughput, None))
            (chart("Errors", "second of the run", "failed iterations", &errors, None))
        }
    }
}

fn figures_table(title: &str, ms: &[JourneyMeasures]) -> Markup {
    html! {
        @if !ms.is_empty() {
            h2 { (title) }
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Count" } th scope="col" { "Errors" } th scope="col" { "Late" }
                    @for p in ["p50", "p95", "p99", "p99.9", "p99.99", "max"] { th scope="col" { (p) " ms" } }
                } }
                tbody { @for m in ms { tr {
                    th scope="row" { (m.name) } td.n { (m.iterations) } td.n { (m.errors) } td.n { (m.late) }
                    @for q in [0.5, 0.95, 0.99, 0.999, 0.9999] { td.n { (format!("{:.2}", m.ms(q))) } }
                    td.n { (format!("{:.2}", m.histogram.max() as f64 / 1000.0)) }
                } } }
            } }
            @for m in ms.iter().filter(|m| !m.failures.is_empty()) {
                details { summary { "First failures of " (m.name) } ul { @for f in &m.failures { li { code { (f) } } } } }
            }
        }
    }
}

/// A line chart of `series` (x, y), with its data as a table; `labels` names x = 0, 1, … .
fn chart(
    title: &str,
    x_name: &str,
    y_name: &str,
    series: &[(String, Vec<(f64, f64)>)],
    labels: Option<&[String]>,
) -> Markup {
    let (w, h, left, bottom) = (720.0, 260.0, 56.0, 36.0);
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let x_max = points.clone().map(|p| p.0).fold(1.0, f64::max);
    let y_max = nice(points.map(|p| p.1).fold(0.0, f64::max));
    let x = |v: f64| left + v / x_max * (w - left - 12.0);
    let y = |v: f64| h - bottom - v / y_max * (h - bottom - 12.0);
    let summary = series
        .iter()
        .map(|(n, p)| {
            format!(
                "{n}: {} points, highest {:.2} {y_name}",
                p.len(),
                p.iter().map(|q| q.1).fold(0.0, f64::max)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let x_label = |v: f64| {
        labels
            .and_then(|l| l.get(v as usize).cloned())
            .unwrap_or_else(|| format!("{v:.0}"))
    };
    html! {
        figure {
            svg viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(format!("{title}: {summary}")) {
                title { (title) }
                line x1=(left) y1=(y(0.0)) x2=(w - 12.0) y2=(y(0.0)) stroke="#595959" {}
                line x1=(left) y1=(y(0.0)) x2=(left) y2="12" stroke="#595959" {}
                @for i in 0..=4 {
                    @let v = y_max * f64::from(i) / 4.0;
                    text x=(left - 4.0) y=(y(v) + 4.0) text-anchor="end" font-size="11" fill="#161616" { (format!("{v:.1}")) }
                }
                @for i in 0..=4 {
                    @let v = (x_max * f64::from(i) / 4.0).round();
                    text x=(x(v)) y=(h - bottom + 16.0) text-anchor="middle" font-size="11" fill="#161616" { (x_label(v)) }
                }
                text x=(w / 2.0) y=(h - 4.0) text-anchor="middle" font-size="12" fill="#161616" { (x_name) }
                text x="12" y="12" font-size="12" fill="#161616" { (y_name) }
                @for (i, (_, p)) in series.iter().enumerate() {
                    @let (colour, dash) = SERIES[i % SERIES.len()];
                    polyline fill="none" stroke=(colour) stroke-width="2" stroke-dasharray=(dash)
                        points=(p.iter().map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b))).collect::<Vec<_>>().join(" ")) {}
                }
            }
            figcaption {
                (title) ": "
                @for (i, (n, _)) in series.iter().enumerate() {
                    @let (colour, dash) = SERIES[i % SERIES.len()];
                    span style=(format!("color:{colour}")) { (if dash.is_empty() { "━ " } else { "╍ " }) } (n) " "
                }
            }
            details { summary { "The data of “" (title) "”" }
                div.table-wrap { table {
                    thead { tr { th scope="col" { (x_name) } @for (n, _) in series { th scope="col" { (n) " (" (y_name) ")" } } } }
                    tbody { @for (i, (a, _)) in series.first().map(|s| s.1.as_slice()).unwrap_or_default().iter().enumerate() { tr {
                        th scope="row" { (x_label(*a)) }
                        @for (_, p) in series { td.n { (p.get(i).map(|q| format!("{:.2}", q.1)).unwrap_or_default()) } }
                    } } }
                } }
            }
        }
    }
}

/// A round upper bound for an axis.
fn nice(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let step = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * step)
        .find(|b| *b >= v)
        .unwrap_or(10.0 * step)
}
