//! A provider route against a raw hyper "hello" server, measured in the same run over loopback:
//! the ratio says what the party's routing, lookup, JSON and journal cost.
//! Target: the provider route reaches at least half the raw server's throughput.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use simulators::http::{Shutdown, bind, serve_party};
use simulators::population::{PersonaFile, Population, PopulationConfig};

const CONNECTIONS: usize = 32;
const REQUESTS: usize = 4_000;

fn provider_vs_raw(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let personas = PersonaFile::load(&simulators::platform::repository_personas()).unwrap();
    let population = Arc::new(Population::generate(
        &PopulationConfig::default(),
        Some(&personas),
    ));
    let siren = population
        .company_persona("batiments-dupont")
        .unwrap()
        .siren
        .clone();
    let shutdown = Shutdown::default();
    let (insee, hello) = rt.block_on(async {
        let listener = bind("127.0.0.1", 0).await.unwrap();
        let insee = serve_party(
            simulators::providers::insee::app(population.clone()),
            listener,
            &shutdown,
        )
        .unwrap();
        let (hello, _task) = bench::hello_server().await.unwrap();
        (insee, hello)
    });
    let path = format!("/entreprises/sirene/V3.11/siren/{siren}");

    let mut group = c.benchmark_group("provider_vs_raw");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    group.sample_size(20);
    group.bench_function("raw_hyper_hello", |b| {
        b.iter(|| {
            let s = rt
                .block_on(bench::drive(hello, "/", CONNECTIONS, REQUESTS))
                .unwrap();
            assert_eq!(s.ok, REQUESTS);
        })
    });
    group.bench_function("insee_unite_legale", |b| {
        b.iter(|| {
            let s = rt
                .block_on(bench::drive(insee.addr, &path, CONNECTIONS, REQUESTS))
                .unwrap();
            assert_eq!(s.ok, REQUESTS);
            // Keep the journal's memory bounded between samples, as a long run would.
            insee.core.journal.clear();
        })
    });
    group.finish();
    shutdown.trigger();
}

criterion_group!(benches, provider_vs_raw);
criterion_main!(benches);
