//! `cargo xtask certify`: a role's certification plan against a target profile, and `certify
//! verify`, which checks a certificate offline.

use std::path::PathBuf;

use conformance::certify::{self, CertifyOptions, verdict::Outcome};

/// `cargo xtask certify`'s options.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct CertifyArgs {
    #[command(subcommand)]
    command: Option<CertifyCommand>,
    /// The role certified: provider, hub, broker, idp or sp.
    #[arg(long)]
    role: Option<String>,
    /// The role's variant, when its plan has some (e.g. --variant api-entreprise).
    #[arg(long)]
    variant: Option<String>,
    /// Target profile: a name in scenarios/targets/ or a path.
    #[arg(long, default_value = "default")]
    target: String,
    /// A waivers file: `[[waiver]]` tables with requirement, reason, accepted_by, until.
    #[arg(long)]
    waivers: Option<PathBuf>,
    /// Where the certificate goes (default: reports/<run-id>/certificate.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The certification key (PKCS#8 PEM), made on first use.
    #[arg(long, default_value = "reports/.keys/certification.pem")]
    key: PathBuf,
    /// Where the run's reports go.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
}

#[derive(clap::Subcommand)]
enum CertifyCommand {
    /// Checks a certificate offline: its signature, that nothing was edited, and (with
    /// --trust) that a trusted key signed it.
    Verify {
        /// The certificate (certificate.json).
        file: PathBuf,
        /// The public key (JWK) or keys (JWKS) to trust, e.g. reports/<run>/certification-key.jwk.
        #[arg(long)]
        trust: Option<PathBuf>,
    },
}

pub(crate) fn run(args: CertifyArgs, root: PathBuf) -> i32 {
    if let Some(CertifyCommand::Verify { file, trust }) = args.command {
        return verify(&file, trust.as_deref());
    }
    let Some(role) = args.role else {
        eprintln!(
            "error: say which role to certify: --role {}",
            certify::plan::ROLES.join("|")
        );
        return 2;
    };
    let options = CertifyOptions {
        root,
        role,
        variant: args.variant,
        target: args.target,
        waivers: args.waivers,
        out: args.out,
        reports: args.reports,
        key: args.key,
        progress: true,
        defects: Vec::new(),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let certified = match runtime.block_on(certify::certify(&options)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let c = &certified.certificate;
    println!();
    for r in &c.requirements {
        println!("{:<8} {:<10} {}", r.verdict.name(), r.id, r.title);
        if !r.reason.is_empty() && r.verdict != Outcome::Passed {
            println!("{:<19} {}", "", r.reason);
        }
    }
    println!(
        "\n{}: the {} plan {} against {}",
        c.result.name(),
        c.plan.role,
        c.plan.version,
        c.target.profile
    );
    println!("certificate: {}", certified.path.display());
    println!(
        "page:        {}",
        certified.path.with_extension("html").display()
    );
    match c.result {
        Outcome::Failed => 1,
        _ => 0,
    }
}

fn verify(file: &std::path::Path, trust: Option<&std::path::Path>) -> i32 {
    let read = |p: &std::path::Path| -> Result<serde_json::Value, String> {
        let text =
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", p.display()))
    };
    let checked = read(file).and_then(|signed| {
        let trusted = trust.map(read).transpose()?;
        certify::verify(&signed, trusted.as_ref())
    });
    match checked {
        Ok(v) => {
            let c = &v.certificate;
            println!(
                "valid: {} for the {} plan {} (sha256 {}), target {}, run {} on {}, signed by key {}",
                c.result.name(),
                c.plan.role,
                c.plan.version,
                &c.plan.sha256[..12.min(c.plan.sha256.len())],
                c.target.profile,
                c.run.id,
                c.run.date,
                v.key_thumbprint
            );
            if trust.is_none() {
                println!(
                    "(no --trust key given: compare the key {} with the one its issuer publishes)",
                    v.key_thumbprint
                );
            }
            0
        }
        Err(e) => {
            eprintln!("invalid: {}: {e}", file.display());
            1
        }
    }
}
