//! `cargo xtask peers`: the simulated parties and the load engine beside their peers, in one run
//! on this machine, every figure a ratio against what ran beside it (`bench/peers.sh` installs
//! the peers, builds xtask in release, then runs `xtask peers [route|engine|hub|signin|memory
//! MINUTES]`):
//!
//! - the INSEE legal-unit route, raw hyper serving the same bytes, and WireMock serving them as a
//!   stub, at full speed under `wrk`, and at one fixed rate under the load engine (p99);
//! - the load engine against `wrk` (full speed) and `oha` (fixed rate, CO-corrected) on the
//!   same raw server;
//! - the latency API Entreprise adds to its providers' at 1,000 calls a second, real calls;
//! - `signin`: the identity provider's authorization code flow, the same scenario through the
//!   step library against the simulated provider and against node `oidc-provider`, and
//!   complete FranceConnect sign-ins a second;
//! - `memory MINUTES`: the whole platform's resident memory under a steady rate.
//!
//! Loopback only; every run bounded in time and count.

mod memory;
mod signin;
mod tools;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bench::load::{Arrivals, Journey, LoadProfile, LoadReport, Platform, Threshold, Work};
use simulators::http::{Shutdown, bind, serve_party};
use simulators::population::export::{Kind, Selection};
use simulators::population::{PersonaFile, Population, PopulationConfig};

/// One line of the results: what, the figure, what it is compared with.
pub(crate) struct Line(String, String);

pub(crate) fn profile(
    party: &str,
    path: &str,
    rate: f64,
    secs: u64,
    max_vus: usize,
) -> LoadProfile {
    LoadProfile {
        name: format!("peers-{party}"),
        description: String::new(),
        target: "default".into(),
        arrivals: Arrivals::Constant {
            rate,
            duration: Duration::from_secs(secs),
        },
        max_iterations: (rate * secs as f64) as usize,
        max_vus,
        warmup: Duration::from_secs(1),
        seed: 42,
        allowed_hosts: Vec::new(),
        journeys: vec![Journey {
            name: party.into(),
            work: Work::Request {
                party: party.into(),
                method: "GET".into(),
                path: path.into(),
                headers: Vec::new(),
                expect: Vec::new(),
            },
            data: None,
            weight: 1,
            thresholds: Vec::new(),
            step_thresholds: Vec::new(),
        }],
        thresholds: vec![Threshold::parse("error_rate < 1%").expect("a threshold")],
        party_thresholds: Vec::new(),
        hub_added_thresholds: Vec::new(),
    }
}

async fn engine(
    p: &LoadProfile,
    urls: &HashMap<String, String>,
    population: &Population,
) -> Result<LoadReport, String> {
    bench::load::run(p, &Platform::new(urls, population), &|_| {}).await
}

fn population() -> Arc<Population> {
    let personas =
        PersonaFile::load(&simulators::platform::repository_personas()).expect("personas");
    Arc::new(Population::generate(
        &PopulationConfig::default(),
        Some(&personas),
    ))
}

/// The INSEE route beside raw hyper and WireMock serving the same bytes.
async fn provider_route(population: &Arc<Population>, out: &mut Vec<Line>) -> Result<(), String> {
    let shutdown = Shutdown::default();
    let listener = bind("127.0.0.1", 0).await.map_err(|e| e.to_string())?;
    let insee = serve_party(
        simulators::providers::insee::app(population.clone()),
        listener,
        &shutdown,
    )
    .map_err(|e| e.to_string())?;
    let siren = &population
        .company_persona("batiments-dupont")
        .ok_or("no persona")?
        .siren;
    let path = format!("/entreprises/sirene/V3.11/siren/{siren}");
    let body = reqwest::get(format!("{}{path}", insee.base_url))
        .await
        .map_err(|e| e.to_string())?
        .bytes()
        .await
        .map_err(|e| e.to_string())?;
    let (raw, _task) = bench::bytes_server(body.clone(), "application/json")
        .await
        .map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let text = String::from_utf8_lossy(&body).into_owned();
    let _wiremock = tools::WireMock::start(port, &path, &text, "application/json").await?;
    let urls = [
        (
            simulators::party::ids::INSEE,
            format!("{}{path}", insee.base_url),
        ),
        ("raw hyper", format!("http://{raw}{path}")),
        ("WireMock", format!("http://127.0.0.1:{port}{path}")),
    ];
    // Warm every server (WireMock's JIT most), then measure each for 15 s.
    for (_, u) in &urls {
        tools::wrk(u, 5)?;
    }
    let mut rates = Vec::new();
    for (name, u) in &urls {
        let r = tools::wrk(u, 15)?;
        insee.core.journal.clear();
        out.push(Line(
            format!("{name}: wrk -t1 -c32, {} bytes", body.len()),
            format!(
                "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
                r.per_s, r.p50_ms, r.p99_ms
            ),
        ));
        rates.push(r);
    }
    out.push(Line(
        "insee / raw hyper, throughput".into(),
        format!("{:.2}", rates[0].per_s / rates[1].per_s),
    ));
    out.push(Line(
        "insee / WireMock, throughput".into(),
        format!("{:.2}", rates[0].per_s / rates[2].per_s),
    ));
    // The same offered rate to both (half of what WireMock can do), p99 from intended starts.
    let rate = (rates[2].per_s * 0.5).floor();
    let mut p99 = Vec::new();
    for (name, u) in [&urls[0], &urls[2]] {
        let map = HashMap::from([(name.to_string(), u.trim_end_matches(&path).to_string())]);
        let r = engine(&profile(name, &path, rate, 10, 64), &map, population).await?;
        out.push(Line(
            format!("{name} at {rate:.0} req/s (load engine)"),
            format!(
                "p50 {:.2} ms, p99 {:.2} ms, {} errors",
                r.all.ms(0.5),
                r.all.ms(0.99),
                r.all.errors
            ),
        ));
        p99.push(r.all.ms(0.99));
    }
    out.push(Line(
        format!("insee p99 / WireMock p99 at {rate:.0} req/s"),
        format!("{:.2}", p99[0] / p99[1]),
    ));
    shutdown.trigger();
    Ok(())
}

/// The load engine beside wrk (full speed) and oha (a fixed rate) on the same raw server.
async fn load_engine(population: &Arc<Population>, out: &mut Vec<Line>) -> Result<(), String> {
    let (raw, _task) = bench::hello_server().await.map_err(|e| e.to_string())?;
    let url = format!("http://{raw}/");
    let map = HashMap::from([("raw".to_string(), format!("http://{raw}"))]);
    tools::wrk(&url, 3)?;
    let w = tools::wrk(&url, 10)?;
    // As fast as 32 VUs go, closed model as wrk's connections are.
    let mut closed = profile("raw", "/", 1.0, 10, 32);
    closed.arrivals = Arrivals::ConstantVus {
        vus: 32,
        duration: Duration::from_secs(10),
    };
    closed.max_iterations = usize::MAX;
    let full = engine(&closed, &map, population).await?;
    let rate = full.all.iterations as f64 / (full.elapsed_s - 1.0).max(1e-9);
    out.push(Line(
        "wrk -t1 -c32 on raw hyper".into(),
        format!("{:.0} req/s", w.per_s),
    ));
    out.push(Line(
        "load engine, 32 VUs, on raw hyper".into(),
        format!("{rate:.0} req/s"),
    ));
    out.push(Line(
        "load engine / wrk, throughput".into(),
        format!("{:.2}", rate / w.per_s),
    ));
    let fixed = 2_000;
    let r = engine(
        &profile("raw", "/", f64::from(fixed), 10, 32),
        &map,
        population,
    )
    .await?;
    out.push(Line(
        format!("load engine at {fixed}/s"),
        format!("p50 {:.3} ms, p99 {:.3} ms", r.all.ms(0.5), r.all.ms(0.99)),
    ));
    match tools::oha_fixed(&url, fixed, 10) {
        Ok((p50, p99)) => {
            out.push(Line(
                format!("oha -q {fixed} --latency-correction"),
                format!("p50 {p50:.3} ms, p99 {p99:.3} ms"),
            ));
            out.push(Line(
                "load engine p99 / oha p99".into(),
                format!("{:.2}", r.all.ms(0.99) / p99),
            ));
        }
        Err(e) => out.push(Line("oha".into(), format!("not run: {e}"))),
    }
    Ok(())
}

/// A token of API Entreprise's for the legal-unit scope, its rate limit lifted (the hub's
/// control API), so the figures measure the hub, not the habilitation's 600 calls a minute.
pub(crate) async fn unlimited_token(hub: &str) -> Result<String, String> {
    let minted: serde_json::Value = reqwest::Client::new()
        .post(format!("{hub}/_control/tokens"))
        .json(&serde_json::json!({"scopes": ["unites_legales_etablissements_insee"], "rate_limit_per_minute": 1_000_000}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    minted["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{hub} minted no token: {minted}"))
}

/// API Entreprise's legal-unit route as `token`, on the diffusible companies, `object` naming
/// the run in the hub's journal.
pub(crate) fn hub_profile(
    token: &str,
    object: &str,
    rate: f64,
    secs: u64,
    max_vus: usize,
) -> Result<LoadProfile, String> {
    let path = format!(
        "/v4/insee/sirene/unites_legales/{{siren}}?recipient=13002526500013&context=bench&object={object}"
    );
    let mut p = profile(
        simulators::party::ids::API_ENTREPRISE,
        &path,
        rate,
        secs,
        max_vus,
    );
    if let Work::Request { headers, .. } = &mut p.journeys[0].work {
        headers.push(("Authorization".into(), format!("Bearer {token}")));
    }
    p.journeys[0].data = Some((
        Kind::Companies,
        Selection::parse(&["diffusion=diffusible".into()], Kind::Companies)?,
    ));
    Ok(p)
}

/// What API Entreprise adds to its providers' latency at 1,000 calls a second.
async fn hub_added(out: &mut Vec<Line>) -> Result<(), String> {
    // The default population's companies, every call past the hub's cache (`Cache-Control:
    // no-cache`, which API Entreprise honours): each is a real call to INSEE.
    let mut config = simulators::platform::PlatformConfig::ephemeral();
    config.population.companies = PopulationConfig::default().companies;
    let platform = simulators::platform::Platform::start(&config, None)
        .await
        .map_err(|e| e.to_string())?;
    let urls: HashMap<String, String> = platform
        .parties
        .iter()
        .map(|p| (p.id.to_string(), p.base_url.clone()))
        .collect();
    let hub = simulators::party::ids::API_ENTREPRISE;
    let token = unlimited_token(&urls[hub]).await?;
    let mut p = hub_profile(&token, "peers", 1000.0, 10, 256)?;
    if let Work::Request {
        headers, expect, ..
    } = &mut p.journeys[0].work
    {
        headers.push(("Cache-Control".into(), "no-cache".into()));
        // Two calls for one company at once get 409 00015 (the in-flight guard), as they should.
        expect.extend([200, 409]);
    }
    let load = Platform {
        hub_journals: vec![hub.to_string()],
        ..Platform::new(&urls, &platform.population)
    };
    let r = bench::load::run(&p, &load, &|_| {}).await?;
    let added = r.hub_added.first().ok_or("no hub journal read")?;
    out.push(Line(
        format!(
            "API Entreprise at 1000/s: {} real calls, {} errors",
            added.iterations, r.all.errors
        ),
        format!(
            "hub-added p50 {:.3} ms, p99 {:.3} ms",
            added.ms(0.5),
            added.ms(0.99)
        ),
    ));
    out.push(Line(
        "hub-added p99 / 1 ms target".into(),
        format!("{:.2}", added.ms(0.99)),
    ));
    platform.shutdown().await;
    Ok(())
}

/// `cargo xtask peers [SECTION]`; gives the exit code.
pub(crate) fn run(args: &[String]) -> i32 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let mut out = Vec::new();
    let outcome = runtime.block_on(async {
        if args.first().map(String::as_str) == Some("memory") {
            let minutes = args.get(1).and_then(|m| m.parse().ok()).unwrap_or(10);
            return memory::run(minutes, &mut out).await;
        }
        let only = args.first().map(String::as_str);
        let population = population();
        if only.is_none_or(|o| o == "route") {
            eprintln!("== the INSEE route beside raw hyper and WireMock (about 1.5 min)");
            provider_route(&population, &mut out).await?;
        }
        if only.is_none_or(|o| o == "engine") {
            eprintln!("== the load engine beside wrk and oha (about 40 s)");
            load_engine(&population, &mut out).await?;
        }
        if only.is_none_or(|o| o == "hub") {
            eprintln!("== API Entreprise's added latency at 1,000 calls a second (10 s)");
            hub_added(&mut out).await?;
        }
        if only.is_none_or(|o| o == "signin") {
            eprintln!(
                "== sign-ins: the simulated identity provider beside oidc-provider (about 40 s)"
            );
            signin::run(&mut out).await?;
        }
        Ok(())
    });
    for Line(what, figure) in &out {
        println!("{what:<62} {figure}");
    }
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
