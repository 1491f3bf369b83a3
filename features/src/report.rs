//! A run's results as one model, written as JUnit XML, Cucumber JSON, one offline HTML page and
//! a Markdown summary, all from the same data (so they never disagree), each naming the run's
//! seed and target.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use crate::exchange::Exchange;
use crate::world::percentile;

mod html;
pub(crate) use html::STYLE;

/// The id of a scenario's section in the HTML report (`s-<file>-<line>`), which certificates
/// link to as evidence.
pub fn anchor(s: &ScenarioResult) -> String {
    let file: String = s
        .file
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("s-{file}-{}", s.line)
}

/// A scenario's or a step's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Passed,
    Failed,
    /// No step definition matched a step.
    Skipped,
    /// A premise of the scenario does not hold for this target (a fault injected at a provider
    /// the hub under test did not call): nothing was judged, and the step says why.
    #[serde(rename = "NOT APPLICABLE")]
    NotApplicable,
}

impl Verdict {
    /// In Cucumber JSON's words (`not applicable` is `skipped` there).
    fn lower(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Skipped | Verdict::NotApplicable => "skipped",
        }
    }

    /// As reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::Skipped => "SKIPPED",
            Verdict::NotApplicable => "NOT APPLICABLE",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    pub keyword: String,
    pub text: String,
    pub line: usize,
    pub verdict: Verdict,
    pub error: Option<String>,
    pub duration_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioResult {
    pub feature: String,
    /// The feature file, relative to the repository.
    pub file: String,
    pub name: String,
    pub line: usize,
    pub tags: Vec<String>,
    pub verdict: Verdict,
    pub steps: Vec<StepResult>,
    pub duration_ms: f64,
    pub exchanges: Vec<Exchange>,
    /// Failures outside steps (hooks, SLA).
    pub errors: Vec<String>,
}

impl ScenarioResult {
    /// The first failure's message.
    pub fn failure(&self) -> Option<String> {
        self.steps
            .iter()
            .find_map(|s| {
                s.error
                    .as_ref()
                    .map(|e| format!("{} {}: {e}", s.keyword.trim(), s.text))
            })
            .or_else(|| self.errors.first().cloned())
    }
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub started: String,
    pub target: String,
    pub target_description: String,
    pub seed: u64,
    /// The platform clock the simulated parties started on (`now`: the machine's time).
    pub clock: String,
    /// The order scenarios started in (`written`, `random:SEED`).
    pub order: String,
    pub defects: Vec<String>,
    pub tags: Option<String>,
    pub name_filter: Option<String>,
    pub duration_ms: f64,
    pub scenarios: Vec<ScenarioResult>,
    /// Errors before any scenario ran (a feature file that does not parse).
    pub errors: Vec<String>,
    /// What the external parties had to register of the simulated ones (printed before the
    /// run): callbacks, redirect URIs, the URLs they call.
    pub registrations: Vec<String>,
}

/// Latency of one party over the run.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub party: String,
    pub exchanges: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

impl RunReport {
    pub fn count(&self, v: Verdict) -> usize {
        self.scenarios.iter().filter(|s| s.verdict == v).count()
    }
    /// Whether the run passed: every scenario passed and nothing else went wrong.
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
            && self
                .scenarios
                .iter()
                .all(|s| matches!(s.verdict, Verdict::Passed | Verdict::NotApplicable))
    }
    /// Latency per party over every exchange of the run (control API calls aside).
    pub fn latencies(&self) -> Vec<Latency> {
        let mut by: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
        for e in self.scenarios.iter().flat_map(|s| &s.exchanges) {
            if e.status != 0 && !e.url.contains("/_control/") {
                by.entry(&e.party).or_default().push(e.duration_ms);
            }
        }
        by.into_iter()
            .map(|(party, mut t)| Latency {
                party: party.to_string(),
                exchanges: t.len(),
                p50_ms: percentile(&mut t, 50.0),
                p95_ms: percentile(&mut t, 95.0),
                max_ms: t.iter().cloned().fold(0.0, f64::max),
            })
            .collect()
    }

    /// Writes the four reports into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("junit.xml"), self.junit())?;
        std::fs::write(
            dir.join("cucumber.json"),
            serde_json::to_string_pretty(&self.cucumber_json()).unwrap_or_default(),
        )?;
        std::fs::write(dir.join("report.html"), self.html())?;
        std::fs::write(dir.join("summary.md"), self.markdown())?;
        Ok(())
    }

    fn features(&self) -> Vec<(&str, &str, Vec<&ScenarioResult>)> {
        let mut out: Vec<(&str, &str, Vec<&ScenarioResult>)> = Vec::new();
        for s in &self.scenarios {
            match out.iter_mut().find(|(f, _, _)| *f == s.file) {
                Some((_, _, v)) => v.push(s),
                None => out.push((&s.file, &s.feature, vec![s])),
            }
        }
        out
    }

    /// JUnit XML: a suite per feature, a case per scenario; seed and target as properties.
    pub fn junit(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuites name=\"conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.scenarios.len(),
            self.count(Verdict::Failed),
            self.count(Verdict::Skipped) + self.count(Verdict::NotApplicable),
            self.duration_ms / 1000.0
        );
        for (file, feature, scenarios) in self.features() {
            let failures = scenarios
                .iter()
                .filter(|s| s.verdict == Verdict::Failed)
                .count();
            let skipped = scenarios
                .iter()
                .filter(|s| matches!(s.verdict, Verdict::Skipped | Verdict::NotApplicable))
                .count();
            let time: f64 = scenarios.iter().map(|s| s.duration_ms).sum::<f64>() / 1000.0;
            let _ = writeln!(
                x,
                "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
                xml(feature),
                xml(file),
                scenarios.len()
            );
            let _ = writeln!(
                x,
                "    <properties><property name=\"run_id\" value=\"{}\"/><property name=\"target\" value=\"{}\"/><property name=\"seed\" value=\"{}\"/><property name=\"clock\" value=\"{}\"/><property name=\"order\" value=\"{}\"/><property name=\"defects\" value=\"{}\"/></properties>",
                xml(&self.run_id),
                xml(&self.target),
                self.seed,
                xml(&self.clock),
                xml(&self.order),
                xml(&self.defects.join(","))
            );
            for s in scenarios {
                let _ = write!(
                    x,
                    "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
                    xml(feature),
                    xml(&s.name),
                    xml(file),
                    s.line,
                    s.duration_ms / 1000.0
                );
                match s.verdict {
                    Verdict::Passed => x.push_str("/>\n"),
                    Verdict::Skipped | Verdict::NotApplicable => {
                        let _ = writeln!(
                            x,
                            "><skipped message=\"{}\"/></testcase>",
                            xml(&s.failure().unwrap_or_default())
                        );
                    }
                    Verdict::Failed => {
                        let msg = s.failure().unwrap_or_default();
                        let steps: String = s
                            .steps
                            .iter()
                            .map(|st| {
                                format!(
                                    "[{}] {} {}\n",
                                    st.verdict.lower(),
                                    st.keyword.trim(),
                                    st.text
                                )
                            })
                            .collect();
                        let _ = writeln!(
                            x,
                            "><failure message=\"{}\">{}</failure></testcase>",
                            xml(&msg),
                            xml(&format!("{steps}\n{msg}"))
                        );
                    }
                }
            }
            x.push_str("  </testsuite>\n");
        }
        x.push_str("</testsuites>\n");
        x
    }

    /// Cucumber JSON (the format Cucumber's report tools read); the run's seed, target and
    /// defects are in each feature's `metadata`.
    pub fn cucumber_json(&self) -> Value {
        let features: Vec<Value> = self
            .features()
            .into_iter()
            .map(|(file, feature, scenarios)| {
                let elements: Vec<Value> = scenarios
                    .iter()
                    .map(|s| {
                        let steps: Vec<Value> = s
                            .steps
                            .iter()
                            .map(|st| {
                                let mut result = json!({"status": st.verdict.lower(), "duration": (st.duration_ms * 1e6) as u64});
                                if let Some(e) = &st.error {
                                    result["error_message"] = json!(e);
                                }
                                json!({"keyword": st.keyword, "name": st.text, "line": st.line, "result": result})
                            })
                            .collect();
                        json!({
                            "id": format!("{};{}", slug(feature), slug(&s.name)),
                            "keyword": "Scenario", "type": "scenario", "name": s.name, "line": s.line,
                            "tags": s.tags.iter().map(|t| json!({"name": format!("@{t}")})).collect::<Vec<_>>(),
                            "steps": steps,
                        })
                    })
                    .collect();
                json!({
                    "uri": file, "id": slug(feature), "keyword": "Feature", "name": feature,
                    "description": format!("run {} — target {} — seed {}", self.run_id, self.target, self.seed),
                    "metadata": {"run_id": self.run_id, "target": self.target, "seed": self.seed, "clock": self.clock, "order": self.order, "defects": self.defects},
                    "elements": elements,
                })
            })
            .collect();
        Value::Array(features)
    }

    /// The Markdown summary.
    pub fn markdown(&self) -> String {
        let mut m = String::new();
        let _ = writeln!(m, "# Conformance run {}\n", self.run_id);
        let _ = writeln!(
            m,
            "- target: `{}` ({})\n- seed: {}\n- platform clock: {}\n- order: {}\n- started: {}\n- duration: {:.1} s",
            self.target,
            self.target_description,
            self.seed,
            self.clock,
            self.order,
            self.started,
            self.duration_ms / 1000.0
        );
        if !self.defects.is_empty() {
            let _ = writeln!(m, "- defects injected: {}", self.defects.join(", "));
        }
        if !self.registrations.is_empty() {
            let _ = writeln!(m, "- URLs the external parties register or call:");
            for r in &self.registrations {
                let _ = writeln!(m, "  - {r}");
            }
        }
        if let Some(t) = &self.tags {
            let _ = writeln!(m, "- tags: `{t}`");
        }
        let _ = writeln!(
            m,
            "\n**{}**: {} passed, {} failed, {} skipped, {} not applicable\n",
            if self.passed() { "PASSED" } else { "FAILED" },
            self.count(Verdict::Passed),
            self.count(Verdict::Failed),
            self.count(Verdict::Skipped),
            self.count(Verdict::NotApplicable)
        );
        for e in &self.errors {
            let _ = writeln!(m, "- error: {e}");
        }
        let failing: Vec<&ScenarioResult> = self
            .scenarios
            .iter()
            .filter(|s| s.verdict != Verdict::Passed)
            .collect();
        if !failing.is_empty() {
            m.push_str("## Not passed\n\n");
            for s in failing {
                let _ = writeln!(
                    m,
                    "- {} `{}:{}` {} — {}",
                    s.verdict.name(),
                    s.file,
                    s.line,
                    s.name,
                    s.failure().unwrap_or_default().replace('\n', " ")
                );
            }
            m.push('\n');
        }
        m.push_str("## Latency by party\n\n| party | exchanges | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|\n");
        for l in self.latencies() {
            let _ = writeln!(
                m,
                "| {} | {} | {:.1} | {:.1} | {:.1} |",
                l.party, l.exchanges, l.p50_ms, l.p95_ms, l.max_ms
            );
        }
        m
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml(s: &str) -> String {
    esc(s)
        .replace('\'', "&apos;")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || *c >= ' ')
        .collect()
}

fn slug(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RunReport {
        let step = |v: Verdict, e: Option<&str>| StepResult {
            keyword: "Then ".into(),
            text: "the answer is 200 <&>".into(),
            line: 4,
            verdict: v,
            error: e.map(str::to_string),
            duration_ms: 1.0,
        };
        let scenario = |name: &str, v: Verdict, e: Option<&str>| ScenarioResult {
            feature: "INSEE".into(),
            file: "features/providers/insee.feature".into(),
            name: name.into(),
            line: 3,
            tags: vec!["provider".into()],
            verdict: v,
            steps: vec![step(v, e)],
            duration_ms: 2.0,
            exchanges: vec![],
            errors: vec![],
        };
        RunReport {
            run_id: "r1".into(),
            started: "2026-11-23T00:00:00Z".into(),
            target: "default".into(),
            target_description: "all simulated".into(),
            seed: 42,
            clock: "2026-11-22T09:00:00Z".into(),
            order: "random:7".into(),
            defects: vec![],
            tags: None,
            name_filter: None,
            duration_ms: 5.0,
            scenarios: vec![
                scenario("ok", Verdict::Passed, None),
                scenario(
                    "broken \"quotes\"",
                    Verdict::Failed,
                    Some("expected 200, got 404"),
                ),
            ],
            errors: vec![],
            registrations: vec![],
        }
    }

    #[test]
    fn every_report_names_seed_target_and_failures() {
        let r = sample();
        assert!(!r.passed());
        let junit = r.junit();
        assert!(junit.contains("tests=\"2\" failures=\"1\""));
        assert!(junit.contains("<property name=\"seed\" value=\"42\"/>"));
        assert!(junit.contains("expected 200, got 404") && junit.contains("&quot;quotes&quot;"));
        let json = r.cucumber_json();
        assert_eq!(json[0]["metadata"]["seed"], 42);
        assert_eq!(
            json[0]["elements"][1]["steps"][0]["result"]["status"],
            "failed"
        );
        let html = r.html();
        assert!(html.contains("FAILED") && html.contains("&lt;&amp;&gt;") && !html.contains("<&>"));
        let md = r.markdown();
        assert!(
            md.contains("1 passed, 1 failed, 0 skipped, 0 not applicable")
                && md.contains("seed: 42")
        );
        assert!(
            md.contains("platform clock: 2026-11-22T09:00:00Z") && md.contains("order: random:7")
        );
    }
}
