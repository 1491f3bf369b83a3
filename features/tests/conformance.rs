//! The Gherkin suite against the embedded platform (every party simulated), as part of
//! `cargo test`. Prints libtest's summary line so CI counts scenarios like tests.

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let options = conformance::RunOptions {
        progress: true,
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
