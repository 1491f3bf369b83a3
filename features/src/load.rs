//! The Gherkin scenarios as load journeys: the load engine (`bench::load`) runs a scenario's
//! steps through this crate's step library, each iteration on a fresh world, so the journeys
//! that certify an implementation are the ones that load it. A Scenario Outline's columns
//! (`<siret>`) take each iteration's population row; the other columns keep their first
//! example's value.
//!
//! ```no_run
//! # async fn demo(target: std::sync::Arc<conformance::target::Target>) -> Result<(), String> {
//! use bench::load::Scenarios as _;
//! let journeys = conformance::load::GherkinJourneys::new(target);
//! let found = journeys.prepare(Some("features/journeys/mps_load.feature: A company up to date applies with its SIRET"), None)?;
//! assert_eq!(found.len(), 1);
//! # Ok(()) }
//! ```

use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bench::load::{Call, Iteration, IterationFuture, Scenario, Scenarios, StepTime};
use cucumber::World as _;
use cucumber::gherkin::{self, GherkinEnv};
use cucumber::step::Collection;

use crate::target::Target;
use crate::world::BenchWorld;

thread_local! {
    /// Set while a load iteration's step runs: its failure (a panic, as cucumber's steps fail)
    /// is recorded, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Keeps the panic hook quiet for steps failing under load; other panics print as before.
fn quiet_failing_steps() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info)
            }
        }));
    });
}

/// Runs the scenarios of `features/` against `target` as load journeys.
pub struct GherkinJourneys {
    target: Arc<Target>,
}

impl GherkinJourneys {
    /// The journeys of the repository `target` was started from.
    pub fn new(target: Arc<Target>) -> GherkinJourneys {
        quiet_failing_steps();
        GherkinJourneys { target }
    }
}

/// A scenario, its background before it, ready to run again and again.
struct Loaded {
    name: String,
    steps: Vec<gherkin::Step>,
    columns: Vec<String>,
    defaults: HashMap<String, String>,
    target: Arc<Target>,
    collection: Rc<Collection<BenchWorld>>,
}

impl Scenarios for GherkinJourneys {
    fn prepare(
        &self,
        scenario: Option<&str>,
        tags: Option<&str>,
    ) -> Result<Vec<Box<dyn Scenario>>, String> {
        let root = &self.target.root;
        let (files, name) = match scenario {
            Some(s) => {
                let (file, name) = s
                    .split_once(".feature:")
                    .ok_or("scenario is \"features/<file>.feature: <scenario name>\"")?;
                (
                    vec![root.join(format!("{file}.feature"))],
                    Some(name.trim()),
                )
            }
            None => {
                let mut files = Vec::new();
                crate::list::feature_files(&root.join("features"), &mut files)
                    .map_err(|e| format!("features/: {e}"))?;
                files.sort();
                (files, None)
            }
        };
        let selection = crate::list::Selection::new(tags, None)?;
        // Made here, on the thread the scenarios will run on.
        let steps = Rc::new(BenchWorld::collection());
        let mut out: Vec<Box<dyn Scenario>> = Vec::new();
        for file in files {
            let feature = gherkin::Feature::parse_path(&file, GherkinEnv::default())
                .map_err(|e| format!("{}: {e}", file.display()))?;
            for (rule, s) in feature.scenarios.iter().map(|s| (None, s)).chain(
                feature
                    .rules
                    .iter()
                    .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
            ) {
                if name.is_some_and(|n| n != s.name) || !selection.selects(&feature, rule, s) {
                    continue;
                }
                let serial = crate::list::all_tags(&feature, rule, s).any(|t| t == "serial");
                if serial && name.is_some() {
                    return Err(format!(
                        "{:?} is @serial: it resets parties every scenario shares, so it cannot run under load",
                        s.name
                    ));
                }
                if serial {
                    continue;
                }
                out.push(Box::new(self.load(&steps, &file, &feature, rule, s)?));
            }
        }
        if out.is_empty() {
            return Err(match (scenario, tags) {
                (Some(s), _) => format!("no scenario {s:?}"),
                (None, Some(t)) => format!("no scenario but @serial ones matches the tags {t:?}"),
                (None, None) => "a scenario journey names a scenario or tags".into(),
            });
        }
        Ok(out)
    }
}

impl GherkinJourneys {
    fn load(
        &self,
        collection: &Rc<Collection<BenchWorld>>,
        file: &Path,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        s: &gherkin::Scenario,
    ) -> Result<Loaded, String> {
        let mut steps: Vec<gherkin::Step> = Vec::new();
        for background in [
            feature.background.as_ref(),
            rule.and_then(|r| r.background.as_ref()),
        ]
        .into_iter()
        .flatten()
        {
            steps.extend(background.steps.iter().cloned());
        }
        steps.extend(s.steps.iter().cloned());
        let (columns, defaults) = match s.examples.first().and_then(|e| e.table.as_ref()) {
            Some(table) if !table.rows.is_empty() => {
                let header = table.rows[0].clone();
                let first = table.rows.get(1).cloned().unwrap_or_default();
                let defaults = header.iter().cloned().zip(first).collect();
                (header, defaults)
            }
            _ => (Vec::new(), HashMap::new()),
        };
        let relative = file.strip_prefix(&self.target.root).unwrap_or(file);
        let name = format!("{}:{} {}", relative.display(), s.position.line, s.name);
        // Every step must have its definition now, not in the middle of the load.
        for step in &steps {
            let filled = fill(step, &defaults);
            match collection.find(&filled) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(format!(
                        "{name}: no step definition matches {:?}",
                        filled.value
                    ));
                }
                Err(e) => return Err(format!("{name}: {:?} is ambiguous: {e}", filled.value)),
            }
        }
        Ok(Loaded {
            name,
            steps,
            columns,
            defaults,
            target: self.target.clone(),
            collection: collection.clone(),
        })
    }
}

/// The step with its `<column>`s replaced.
fn fill(step: &gherkin::Step, values: &HashMap<String, String>) -> gherkin::Step {
    let replace = |text: &str| {
        values.iter().fold(text.to_string(), |t, (k, v)| {
            t.replace(&format!("<{k}>"), v)
        })
    };
    let mut out = step.clone();
    out.value = replace(&step.value);
    out.docstring = step.docstring.as_deref().map(replace);
    if let Some(table) = &mut out.table {
        for cell in table.rows.iter_mut().flatten() {
            *cell = replace(cell);
        }
    }
    out
}

impl Scenario for Loaded {
    fn name(&self) -> &str {
        &self.name
    }

    fn columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    fn run(&self, values: HashMap<String, String>) -> IterationFuture {
        let mut filled = self.defaults.clone();
        filled.extend(values);
        let steps: Vec<(String, gherkin::Step)> = self
            .steps
            .iter()
            .map(|s| (format!("{}{}", s.keyword, s.value), fill(s, &filled)))
            .collect();
        let (target, collection) = (self.target.clone(), self.collection.clone());
        Box::pin(async move {
            let mut world = BenchWorld::for_target(target);
            let mut it = Iteration::default();
            for (text, step) in steps {
                let started = Instant::now();
                let outcome = run_step(&collection, &mut world, &step).await;
                it.steps.push(StepTime {
                    text,
                    took: started.elapsed(),
                    ok: outcome.is_ok(),
                });
                if let Err(why) = outcome {
                    it.failure = Some(format!("{}{}: {why}", step.keyword, step.value));
                    break;
                }
            }
            world.clean_up().await;
            it.calls = world
                .evidence
                .iter()
                .filter(|e| !e.url.contains("/_control/"))
                .map(|e| Call {
                    party: e.party.clone(),
                    took: Duration::from_secs_f64(e.duration_ms.max(0.0) / 1000.0),
                    status: e.status,
                })
                .collect();
            it
        })
    }
}

/// Runs one step; its failure (a panic, as cucumber's steps fail) comes back as its message.
async fn run_step(
    collection: &Collection<BenchWorld>,
    world: &mut BenchWorld,
    step: &gherkin::Step,
) -> Result<(), String> {
    let (f, _, _, context) = collection
        .find(step)
        .map_err(|e| e.to_string())?
        .ok_or("no step definition matches it")?;
    let mut future = f(world, context);
    std::future::poll_fn(|cx| {
        QUIET.with(|q| q.set(true));
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx)));
        QUIET.with(|q| q.set(false));
        match polled {
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the step failed".into()))),
        }
    })
    .await
}

/// The bearer token `{hub_token}` stands for at each hub: its first registered token
/// (`scenarios/hubs.toml`), the marketplace's and the nursery's habilitations, issued at the
/// platform clock's start so the hubs' clock finds it valid whatever the machine's date.
pub fn hub_tokens(target: &Target) -> Result<HashMap<String, String>, String> {
    let hubs = simulators::hubs::HubsConfig::load(&target.root.join("scenarios/hubs.toml"))
        .map_err(|e| e.to_string())?;
    let now = chrono::DateTime::parse_from_rfc3339(&target.profile.platform.clock)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now());
    let mut out = HashMap::new();
    for (id, settings) in [
        (simulators::party::ids::API_ENTREPRISE, &hubs.api_entreprise),
        (
            simulators::party::ids::API_PARTICULIER,
            &hubs.api_particulier,
        ),
    ] {
        let Some(s) = settings else { continue };
        if let Some(t) = s.tokens.first() {
            let registry = simulators::hubs::tokens::TokenRegistry::new(s.secret.as_bytes());
            out.insert(id.to_string(), registry.jwt(t, now));
        }
    }
    Ok(out)
}

/// Loads `target`'s parties as `profile` says, its Gherkin journeys through the step library.
pub async fn run(
    profile: &bench::load::LoadProfile,
    target: Arc<Target>,
    progress: &(dyn Fn(String) + Sync),
) -> Result<bench::load::LoadReport, String> {
    let urls: HashMap<String, String> = target.urls.clone().into_iter().collect();
    let journeys = Arc::new(GherkinJourneys::new(target.clone()));
    let platform = bench::load::Platform {
        urls: &urls,
        population: &target.population,
        tokens: hub_tokens(&target)?,
        hub_journals: [
            simulators::party::ids::API_ENTREPRISE,
            simulators::party::ids::API_PARTICULIER,
        ]
        .into_iter()
        .filter(|h| target.is_simulated(h))
        .map(str::to_string)
        .collect(),
        scenarios: journeys,
    };
    bench::load::run(profile, &platform, progress).await
}
