//! The Gherkin suite against the embedded platform (every party simulated), as part of
//! `cargo test`. Prints libtest's summary line so CI counts scenarios like tests.
//! `CONFORMANCE_ORDER=random:SEED` shuffles the scenarios (`cargo xtask test` runs it so, under
//! faked machine dates, to show the verdicts depend on neither).

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let order = match std::env::var("CONFORMANCE_ORDER") {
        Ok(o) => match o.parse() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: CONFORMANCE_ORDER: {e}");
                std::process::exit(2);
            }
        },
        Err(_) => conformance::order::Order::Written,
    };
    let options = conformance::RunOptions {
        progress: true,
        order,
        ..conformance::RunOptions::default()
    };
    let report = match runtime.block_on(conformance::run(&options)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            println!(
                "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
            );
            std::process::exit(1);
        }
    };
    use conformance::report::Verdict;
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    let passed = report.count(Verdict::Passed);
    let failed =
        report.count(Verdict::Failed) + report.count(Verdict::Skipped) + report.errors.len();
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s",
        if report.passed() { "ok" } else { "FAILED" },
        report.duration_ms / 1000.0
    );
    if !report.passed() || report.scenarios.is_empty() {
        std::process::exit(1);
    }
}
