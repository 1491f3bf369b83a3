//! Start-up of the whole platform with the default population (10,000 citizens, 2,000
//! companies): generation, every party listening, the catalogue up; then a clean shutdown.
//! Target: well under a second.

use criterion::{Criterion, criterion_group, criterion_main};
use simulators::platform::{Platform, PlatformConfig};

fn startup(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut config = PlatformConfig::ephemeral();
    let defaults = PlatformConfig::default().population;
    config.population.citizens = defaults.citizens;
    config.population.companies = defaults.companies;
    let mut group = c.benchmark_group("platform");
    group.sample_size(20);
    group.bench_function("start_and_stop_default_platform", |b| {
        b.iter(|| {
            rt.block_on(async {
                let p = Platform::start(&config, None).await.unwrap();
                p.shutdown().await;
            })
        })
    });
    group.finish();
}

criterion_group!(benches, startup);
criterion_main!(benches);
