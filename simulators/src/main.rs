//! `simulators`: the simulated État plateforme as one binary, for people who do not use cargo.
//! `simulators serve [--only PARTY]`, `simulators population`.

use clap::Parser;

fn main() {
    std::process::exit(simulators::cli::run(simulators::cli::Cli::parse()));
}
