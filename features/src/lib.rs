//! The conformance runner: the Gherkin features of `features/`, run with cucumber against a
//! target profile (simulated parties embedded, external ones by URL), with reports and the
//! defect catalogue's mutation score.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! let options = conformance::RunOptions::default();
//! let report = conformance::run(&options).await?;
//! println!("{} passed", report.count(conformance::report::Verdict::Passed));
//! # Ok(()) }
//! ```

pub mod browser;
pub mod certify;
pub mod citizen;
pub mod container;
pub mod exchange;
pub mod forms;
pub mod judge;
pub mod list;
pub mod load;
pub mod order;
pub mod profile;
pub mod report;
pub mod steps;
pub mod target;
pub mod vendors;
pub mod world;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cucumber::event::{self, Cucumber as Ev};
use cucumber::{World as _, gherkin, parser};
use simulators::defects::Defect;

use crate::exchange::Exchange;
use crate::profile::Profile;
use crate::report::{RunReport, ScenarioResult, StepResult, Verdict};
use crate::target::Target;
use crate::world::BenchWorld;

/// What to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Repository root (features, scenarios and reports are found from it).
    pub root: PathBuf,
    /// Target profile: a name in `scenarios/targets/` or a path.
    pub target: String,
    /// A tag expression (`@hub and not @control`).
    pub tags: Option<String>,
    /// A regular expression on scenario names.
    pub name: Option<String>,
    /// Defects the simulated parties make.
    pub defects: Vec<Defect>,
    /// Where reports go (`None`: not written).
    pub reports: Option<PathBuf>,
    /// Print a line per scenario as it ends.
    pub progress: bool,
    /// Scenarios run at once (`@serial` ones run alone).
    pub concurrency: usize,
    /// The order scenarios start in.
    pub order: order::Order,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            root: Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
            target: "default".into(),
            tags: None,
            name: None,
            defects: Vec::new(),
            reports: None,
            progress: false,
            concurrency: 8,
            order: order::Order::Written,
        }
    }
}

/// Evidence handed from each scenario's `after` hook to the writer, by scenario key.
type Evidence = Arc<Mutex<HashMap<String, (Vec<Exchange>, Vec<String>)>>>;

fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> String {
    format!(
        "{}:{}:{}",
        feature
            .path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        scenario.position.line,
        scenario.name
    )
}

/// Runs in one process take turns: each scenario's world finds its run's target through
/// [`world::set_current`], so two runs at once would mix their targets.
static ONE_RUN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs the suite once against a fresh target; writes the reports when asked. Runs started at
/// once in one process (tests on several threads) take turns.
pub async fn run(options: &RunOptions) -> Result<RunReport, String> {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    let profile = Profile::find(&options.target, &options.root).map_err(|e| e.to_string())?;
    let selection = list::Selection::new(options.tags.as_deref(), options.name.as_deref())?;
    let started_at = chrono::Utc::now();
    let run_id = format!(
        "{}-{}{}",
        started_at.format("%Y%m%dT%H%M%S%.3fZ"),
        profile.name,
        if options.defects.is_empty() {
            String::new()
        } else {
            format!(
                "-{}",
                options
                    .defects
                    .iter()
                    .map(|d| d.name())
                    .collect::<Vec<_>>()
                    .join("+")
            )
        }
    );
    let started = Instant::now();
    let target = Arc::new(Target::start(profile.clone(), &options.defects, &options.root).await?);
    world::set_current(Some(target.clone()));

    let evidence: Evidence = Arc::default();
    let kept = evidence.clone();
    let writer = Collector {
        root: options.root.clone(),
        evidence: evidence.clone(),
        started: HashMap::new(),
        open: HashMap::new(),
        done: Vec::new(),
        errors: Vec::new(),
        progress: options.progress,
    };
    if options.progress {
        println!(
            "run {run_id}: target {}, seed {}, platform clock {}, order {}",
            profile.name, profile.platform.seed, profile.platform.clock, options.order
        );
    }
    let registrations = target.registrations();
    if options.progress && !registrations.is_empty() {
        println!("the external parties register or call:");
        for r in &registrations {
            println!("  {r}");
        }
    }
    let collector = BenchWorld::cucumber::<PathBuf>()
        .with_parser::<_, PathBuf>(order::Ordered(options.order))
        .with_writer(writer)
        .with_default_cli()
        .max_concurrent_scenarios(options.concurrency.max(1))
        .before(|feature, rule, scenario, world| {
            let serial = feature
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| &r.tags))
                .chain(&scenario.tags)
                .any(|t| t == "serial");
            Box::pin(async move {
                world.serial = serial;
                if serial {
                    // A scenario that runs alone starts from reset parties, whatever ran before.
                    // A failed hook fails the scenario, with this message in its report.
                    if let Err(e) = world.reset_simulated().await {
                        panic!("the parties could not be reset before a @serial scenario: {e}");
                    }
                }
            })
        })
        .after(move |feature, _rule, scenario, _finished, world| {
            let kept = kept.clone();
            Box::pin(async move {
                let Some(w) = world else { return };
                w.clean_up().await;
                let violations = w.sla_violations();
                kept.lock().unwrap_or_else(|e| e.into_inner()).insert(
                    key(feature, scenario),
                    (std::mem::take(&mut w.evidence), violations),
                );
            })
        })
        .filter_run(
            options.root.join("features"),
            move |feature, rule, scenario| selection.selects(feature, rule, scenario),
        )
        .await;
    world::set_current(None);
    target.stop().await;
    let mut scenarios = collector.done;
    scenarios.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let report = RunReport {
        run_id: run_id.clone(),
        started: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        target: profile.name.clone(),
        target_description: profile.description.clone(),
        seed: profile.platform.seed,
        clock: profile.platform.clock.clone(),
        order: options.order.to_string(),
        defects: options
            .defects
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
        tags: options.tags.clone(),
        name_filter: options.name.clone(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        scenarios,
        errors: collector.errors,
        registrations,
    };
    if let Some(dir) = &options.reports {
        report
            .write(&dir.join(&run_id))
            .map_err(|e| format!("cannot write the reports in {}: {e}", dir.display()))?;
    }
    Ok(report)
}

/// One defect's outcome in a mutation run.
#[derive(Clone, Debug)]
pub struct MutantResult {
    pub defect: Defect,
    /// Scenarios that passed on the clean platform and failed with the defect on (they caught
    /// it), as `file:line name`.
    pub caught_by: Vec<String>,
}

impl MutantResult {
    /// Caught by one scenario only: a change to that scenario could lose it.
    pub fn thinly_covered(&self) -> bool {
        self.caught_by.len() == 1
    }
}

/// A mutation run: the clean run, each defect's catchers, and the score over them.
#[derive(Clone, Debug)]
pub struct MutationReport {
    pub clean: RunReport,
    pub results: Vec<MutantResult>,
}

impl MutationReport {
    /// Defects caught by at least one scenario.
    pub fn caught(&self) -> usize {
        self.results
            .iter()
            .filter(|r| !r.caught_by.is_empty())
            .count()
    }

    /// For every scenario of the clean run, the defects it catches (none: it catches nothing).
    pub fn by_scenario(&self) -> Vec<(String, Vec<Defect>)> {
        self.clean
            .scenarios
            .iter()
            .map(|s| {
                let id = scenario_id(s);
                let defects = self
                    .results
                    .iter()
                    .filter(|r| r.caught_by.contains(&id))
                    .map(|r| r.defect)
                    .collect();
                (id, defects)
            })
            .collect()
    }

    /// For every feature file, the defects its scenarios catch.
    pub fn by_feature(&self) -> Vec<(String, Vec<Defect>)> {
        let mut files: Vec<String> = self
            .clean
            .scenarios
            .iter()
            .map(|s| s.file.clone())
            .collect();
        files.dedup();
        files
            .into_iter()
            .map(|f| {
                let prefix = format!("{f}:");
                let defects = self
                    .results
                    .iter()
                    .filter(|r| r.caught_by.iter().any(|c| c.starts_with(&prefix)))
                    .map(|r| r.defect)
                    .collect();
                (f, defects)
            })
            .collect()
    }

    /// The report as Markdown: the score, per defect its catchers, per feature file and per
    /// scenario the defects caught.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut m = String::new();
        let _ = writeln!(
            m,
            "# Mutation run {}\n\nmutation score: {}/{} defects caught\n\n## By defect\n",
            self.clean.run_id,
            self.caught(),
            self.results.len()
        );
        for r in &self.results {
            let mark = match r.caught_by.len() {
                0 => "NOT CAUGHT",
                1 => "caught (thinly: one scenario)",
                _ => "caught",
            };
            let _ = writeln!(
                m,
                "- `{}` ({}, {}): {mark}",
                r.defect.name(),
                r.defect.party(),
                r.defect.description()
            );
            for c in &r.caught_by {
                let _ = writeln!(m, "  - {c}");
            }
        }
        let _ = writeln!(m, "\n## By feature file\n");
        for (f, ds) in self.by_feature() {
            let _ = writeln!(m, "- `{f}`: {}", names(&ds));
        }
        let _ = writeln!(m, "\n## By scenario\n");
        for (s, ds) in self.by_scenario() {
            let _ = writeln!(m, "- {s}: {}", names(&ds));
        }
        m
    }
}

fn names(ds: &[Defect]) -> String {
    if ds.is_empty() {
        "none".into()
    } else {
        ds.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
    }
}

/// How a scenario is named in a mutation report: `file:line name`.
fn scenario_id(s: &ScenarioResult) -> String {
    format!("{}:{} {}", s.file, s.line, s.name)
}

/// Runs the suite once clean, then once per defect. A score over a clean run that fails means
/// nothing (a failing scenario would be credited with every defect), so that is an error; a
/// defect counts as caught only by scenarios that passed clean and fail with it.
pub async fn mutants(options: &RunOptions, defects: &[Defect]) -> Result<MutationReport, String> {
    let clean = run(options).await?;
    if !clean.passed() || clean.scenarios.is_empty() {
        let failing: Vec<String> = clean
            .scenarios
            .iter()
            .filter(|s| s.verdict != Verdict::Passed)
            .map(scenario_id)
            .chain(clean.errors.iter().cloned())
            .collect();
        return Err(format!(
            "no mutation score: the clean run must pass first, and {} scenario(s) did not:\n  {}",
            failing.len().max(usize::from(clean.scenarios.is_empty())),
            if failing.is_empty() {
                "no scenario matched".to_string()
            } else {
                failing.join("\n  ")
            }
        ));
    }
    let passed_clean: std::collections::HashSet<String> = clean
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Passed)
        .map(scenario_id)
        .collect();
    let mut results = Vec::new();
    for d in defects {
        let mut o = options.clone();
        o.defects = vec![*d];
        o.progress = false;
        let r = run(&o).await?;
        let caught_by = r
            .scenarios
            .iter()
            .filter(|s| s.verdict != Verdict::Passed)
            .map(scenario_id)
            .filter(|id| passed_clean.contains(id))
            .collect();
        results.push(MutantResult {
            defect: *d,
            caught_by,
        });
    }
    Ok(MutationReport { clean, results })
}

/// The writer: turns cucumber's events into [`ScenarioResult`]s and prints progress.
struct Collector {
    root: PathBuf,
    evidence: Evidence,
    started: HashMap<String, Instant>,
    open: HashMap<String, (Instant, ScenarioResult)>,
    done: Vec<ScenarioResult>,
    errors: Vec<String>,
    progress: bool,
}

impl cucumber::writer::Normalized for Collector {}

impl Collector {
    fn relative(&self, feature: &gherkin::Feature) -> String {
        let path = feature.path.clone().unwrap_or_default();
        let root = self.root.canonicalize().unwrap_or(self.root.clone());
        path.strip_prefix(&root)
            .or_else(|_| path.strip_prefix(&self.root))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.display().to_string())
    }

    fn on_scenario(
        &mut self,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
        ev: event::Scenario<BenchWorld>,
    ) {
        let k = key(feature, scenario);
        match ev {
            event::Scenario::Started => {
                let tags = feature
                    .tags
                    .iter()
                    .chain(rule.iter().flat_map(|r| &r.tags))
                    .chain(&scenario.tags)
                    .cloned()
                    .collect();
                let result = ScenarioResult {
                    feature: feature.name.clone(),
                    file: self.relative(feature),
                    name: scenario.name.clone(),
                    line: scenario.position.line,
                    tags,
                    verdict: Verdict::Passed,
                    steps: Vec::new(),
                    duration_ms: 0.0,
                    exchanges: Vec::new(),
                    errors: Vec::new(),
                };
                self.open.insert(k, (Instant::now(), result));
            }
            event::Scenario::Step(step, ev) | event::Scenario::Background(step, ev) => {
                let step_key = format!("{k}#{}", step.position.line);
                match ev {
                    event::Step::Started => {
                        self.started.insert(step_key, Instant::now());
                    }
                    other => {
                        let took = self
                            .started
                            .remove(&step_key)
                            .map(|t| t.elapsed().as_secs_f64() * 1000.0)
                            .unwrap_or(0.0);
                        let (verdict, error) = match other {
                            event::Step::Passed(..) => (Verdict::Passed, None),
                            event::Step::Skipped => (
                                Verdict::Skipped,
                                Some("no step definition matches this step".to_string()),
                            ),
                            event::Step::Failed(_, _, _, e) => {
                                let e = step_error(&e);
                                if e.starts_with(world::NOT_APPLICABLE) {
                                    (Verdict::NotApplicable, Some(e))
                                } else {
                                    (Verdict::Failed, Some(e))
                                }
                            }
                            event::Step::Started => unreachable!("handled above"),
                        };
                        if let Some((_, r)) = self.open.get_mut(&k) {
                            r.steps.push(StepResult {
                                keyword: step.keyword.clone(),
                                text: step.value.clone(),
                                line: step.position.line,
                                verdict,
                                error,
                                duration_ms: took,
                            });
                        }
                    }
                }
            }
            event::Scenario::Hook(_, event::Hook::Failed(_, info)) => {
                if let Some((_, r)) = self.open.get_mut(&k) {
                    r.errors.push(format!("hook failed: {}", panic_text(&info)));
                }
            }
            event::Scenario::Finished => {
                let Some((t, mut r)) = self.open.remove(&k) else {
                    return;
                };
                r.duration_ms = t.elapsed().as_secs_f64() * 1000.0;
                if let Some((exchanges, violations)) = self
                    .evidence
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&k)
                {
                    r.exchanges = exchanges;
                    r.errors.extend(violations);
                }
                r.verdict = if r.steps.iter().any(|s| s.verdict == Verdict::Failed)
                    || !r.errors.is_empty()
                {
                    Verdict::Failed
                } else if r.steps.iter().any(|s| s.verdict == Verdict::Skipped) {
                    Verdict::Skipped
                } else if r.steps.iter().any(|s| s.verdict == Verdict::NotApplicable) {
                    Verdict::NotApplicable
                } else {
                    Verdict::Passed
                };
                if self.progress {
                    let mark = match r.verdict {
                        Verdict::Passed => "ok  ",
                        Verdict::Failed => "FAIL",
                        Verdict::Skipped => "SKIP",
                        Verdict::NotApplicable => "N/A ",
                    };
                    println!(
                        "{mark} {} › {} ({:.0} ms)",
                        r.feature, r.name, r.duration_ms
                    );
                    if let Some(f) = r.failure() {
                        println!("       {}", f.replace('\n', "\n       "));
                    }
                }
                self.done.push(r);
            }
            _ => {}
        }
    }
}

fn panic_text(info: &event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

fn step_error(e: &event::StepError) -> String {
    match e {
        event::StepError::Panic(info) => panic_text(info),
        other => other.to_string(),
    }
}

impl cucumber::Writer<BenchWorld> for Collector {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        ev: parser::Result<cucumber::Event<Ev<BenchWorld>>>,
        _cli: &Self::Cli,
    ) {
        match ev {
            Err(e) => self.errors.push(format!("feature file error: {e}")),
            Ok(ev) => {
                if let Ev::Feature(feature, fev) = ev.value {
                    match fev {
                        event::Feature::Scenario(sc, ev) => {
                            self.on_scenario(&feature, None, &sc, ev.event)
                        }
                        event::Feature::Rule(rule, event::Rule::Scenario(sc, ev)) => {
                            self.on_scenario(&feature, Some(&rule), &sc, ev.event)
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(file: &str, line: usize) -> ScenarioResult {
        ScenarioResult {
            feature: "f".into(),
            file: file.into(),
            name: format!("s{line}"),
            line,
            tags: vec![],
            verdict: Verdict::Passed,
            steps: vec![],
            duration_ms: 1.0,
            exchanges: vec![],
            errors: vec![],
        }
    }

    #[test]
    fn a_mutation_report_says_who_caught_what() {
        let clean = RunReport {
            run_id: "r".into(),
            started: String::new(),
            target: "default".into(),
            target_description: String::new(),
            seed: 42,
            clock: "2026-11-22T09:00:00Z".into(),
            order: "written".into(),
            defects: vec![],
            tags: None,
            name_filter: None,
            duration_ms: 1.0,
            scenarios: vec![scenario("a.feature", 1), scenario("b.feature", 2)],
            errors: vec![],
            registrations: vec![],
        };
        let report = MutationReport {
            clean,
            results: vec![
                MutantResult {
                    defect: Defect::IdpOmitsNonce,
                    caught_by: vec!["a.feature:1 s1".into()],
                },
                MutantResult {
                    defect: Defect::HubTimeoutAs500,
                    caught_by: vec![],
                },
            ],
        };
        assert_eq!(report.caught(), 1);
        assert!(report.results[0].thinly_covered());
        assert_eq!(
            report.by_feature(),
            vec![
                ("a.feature".to_string(), vec![Defect::IdpOmitsNonce]),
                ("b.feature".to_string(), vec![])
            ]
        );
        let md = report.markdown();
        assert!(md.contains("1/2 defects caught"), "{md}");
        assert!(md.contains("`hub-timeout-as-500` (api-entreprise, ") && md.contains("NOT CAUGHT"));
        assert!(md.contains("- b.feature:2 s2: none"));
    }
}
