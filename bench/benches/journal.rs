//! What the durable journal costs: the INSEE route with its journal in memory beside the same
//! route with every entry committed to SQLite (hash-chained, WAL) before the answer goes out,
//! in the same run; and the store alone, appending entries as fast as it commits them.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use simulators::http::{Shutdown, bind, serve_party};
use simulators::ledger::Ledger;
use simulators::population::{PersonaFile, Population, PopulationConfig};

const CONNECTIONS: usize = 32;
const REQUESTS: usize = 4_000;

fn journal_cost(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let personas = PersonaFile::load(&simulators::platform::repository_personas()).unwrap();
    let population = Arc::new(Population::generate(
        &PopulationConfig::default(),
        Some(&personas),
    ));
    let siren = &population
        .company_persona("batiments-dupont")
        .unwrap()
        .siren;
    let path = format!("/entreprises/sirene/V3.11/siren/{siren}");
    let data = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(data.path()).unwrap();
    let shutdown = Shutdown::default();
    let (memory, durable) = rt.block_on(async {
        let serve = |app| async {
            let listener = bind("127.0.0.1", 0).await.unwrap();
            serve_party(app, listener, &shutdown).unwrap()
        };
        let memory = serve(simulators::providers::insee::app(population.clone())).await;
        let app = simulators::providers::insee::app(population.clone());
        app.core.journal.persist(&ledger, "insee");
        (memory, serve(app).await)
    });
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    group.sample_size(20);
    for (name, party) in [("insee_in_memory", &memory), ("insee_durable", &durable)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let s = rt
                    .block_on(bench::drive(party.addr, &path, CONNECTIONS, REQUESTS))
                    .unwrap();
                assert_eq!(s.ok, REQUESTS);
                party.core.journal.clear();
            })
        });
    }
    // An entry as the INSEE route writes one.
    let body = format!(
        r#"{{"seq":0,"time":"2026-11-22T09:00:00.000Z","caller":"bench","method":"GET","route":"/entreprises/sirene/V3.11/siren/{{siren}}","path":"{path}","subject":"{siren}","status":200,"duration_us":180,"correlation_id":null}}"#
    );
    let mut seq = 0u64;
    group.bench_function("ledger_append_then_flush", |b| {
        b.iter(|| {
            for _ in 0..REQUESTS {
                seq += 1;
                ledger.append("bench", seq, body.clone());
            }
            ledger.flush();
        })
    });
    group.finish();
    shutdown.trigger();
}

criterion_group!(benches, journal_cost);
criterion_main!(benches);
