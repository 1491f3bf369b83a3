//! Population generation at scale. Target: 1,000,000 citizens in under 5 s (release).
//! The 100,000-citizen run is the baseline: the ratio shows generation stays linear.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use simulators::population::{PersonaFile, Population, PopulationConfig};

fn generation(c: &mut Criterion) {
    let personas = PersonaFile::load(&simulators::platform::repository_personas()).unwrap();
    let mut group = c.benchmark_group("population");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    for citizens in [100_000usize, 1_000_000] {
        group.throughput(Throughput::Elements(citizens as u64));
        group.bench_function(format!("generate_{citizens}_citizens"), |b| {
            b.iter(|| {
                Population::generate(
                    &PopulationConfig {
                        citizens,
                        ..PopulationConfig::default()
                    },
                    Some(&personas),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
