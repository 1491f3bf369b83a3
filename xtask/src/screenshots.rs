//! `cargo xtask screenshots`: the README's walkthrough pictures. Starts the simulated platform,
//! walks both demo journeys with the conformance runner's virtual citizen, keeps each page it
//! sees (as served, under `reports/screenshots/`), and has headless Chromium draw them into
//! `docs/screenshots/`. Pages are self-contained (inline styles, no scripts), so the drawing of a
//! saved page is the page.

use simulators::party::ids;
use std::path::{Path, PathBuf};

use conformance::citizen::{Citizen, Outcome};
use conformance::exchange::Exchange;
use simulators::platform::{Platform, PlatformConfig};

struct Walk {
    citizen: Citizen,
    evidence: Vec<Exchange>,
    pages: PathBuf,
    shots: Vec<(String, PathBuf)>,
}

fn nobody(_: &str) -> String {
    "?".into()
}

impl Walk {
    /// Keeps the page an outcome shows under `name`.
    fn keep(&mut self, name: &str, outcome: &Outcome) -> Result<String, String> {
        let Outcome::Page(_, html) = outcome else {
            return Err(format!("{name}: expected a page, {}", outcome.describe()));
        };
        let file = self.pages.join(format!("{name}.html"));
        std::fs::write(&file, html).map_err(|e| format!("{}: {e}", file.display()))?;
        self.shots.push((name.to_string(), file));
        Ok(html.clone())
    }

    async fn go(
        &mut self,
        url: String,
        form: Option<Vec<(String, String)>>,
    ) -> Result<Outcome, String> {
        self.citizen
            .go(url, form, "never://", &nobody, &mut self.evidence)
            .await
    }

    async fn submit(
        &mut self,
        html: &str,
        marker: &str,
        extra: &[(&str, &str)],
    ) -> Result<Outcome, String> {
        self.citizen
            .submit(html, marker, extra, "never://", &nobody, &mut self.evidence)
            .await
    }

    /// From a service provider's sign-in link through FranceConnect's pages, keeping each.
    async fn sign_in(&mut self, url: String, login: &str, prefix: &str) -> Result<String, String> {
        let o = self.go(url, None).await?;
        let html = self.keep(&format!("{prefix}-franceconnect"), &o)?;
        let o = self.submit(&html, "data-idp=\"idp-impots\"", &[]).await?;
        let html = self.keep(&format!("{prefix}-idp-login"), &o)?;
        let o = self
            .submit(
                &html,
                "id=\"login-form\"",
                &[("login", login), ("password", "123")],
            )
            .await?;
        let html = self.keep(&format!("{prefix}-consent"), &o)?;
        let o = self.submit(&html, "id=\"consent-form\"", &[]).await?;
        match &o {
            Outcome::Page(200, html) => Ok(html.clone()),
            other => Err(format!(
                "sign-in did not end on the service: {}",
                other.describe()
            )),
        }
    }
}

/// Runs the walk; prints where the pictures are.
pub fn run(root: &Path) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(walk(root)) {
        Ok(shots) => draw(root, &shots),
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn walk(root: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut config =
        PlatformConfig::load(&root.join("scenarios/platform.toml")).map_err(|e| e.to_string())?;
    config.free_ports = true;
    config.population.citizens = 2_000;
    config.population.companies = 300;
    let platform = Platform::start(&config, None)
        .await
        .map_err(|e| e.to_string())?;
    let url = |id: &str| {
        platform
            .party(id)
            .map(|p| p.base_url.clone())
            .unwrap_or_default()
    };
    let pages = root.join("reports/screenshots");
    std::fs::create_dir_all(&pages).map_err(|e| e.to_string())?;
    let mut w = Walk {
        citizen: Citizen::default(),
        evidence: Vec::new(),
        pages,
        shots: Vec::new(),
    };
    let result = async {
        // The marketplace.
        let marche = url(ids::SP_MARCHE);
        let o = w.go(format!("{marche}/"), None).await?;
        w.keep("01-marche-tenders", &o)?;
        w.sign_in(
            format!("{marche}/connexion?retour=/appels-d-offres/2026-VIN-0042"),
            "dirigeant-dupont",
            "02-marche",
        )
        .await?;
        let o = w
            .go(format!("{marche}/appels-d-offres/2026-VIN-0042"), None)
            .await?;
        let html = w.keep("03-marche-tender", &o)?;
        let siret = |persona: &str| {
            platform
                .population
                .company_persona(persona)
                .map(|c| c.head_office().siret.clone())
                .unwrap_or_default()
        };
        let o = w
            .submit(
                &html,
                "id=\"apply-form\"",
                &[("siret", &siret("batiments-dupont"))],
            )
            .await?;
        w.keep("04-marche-application-complete", &o)?;
        let o = w
            .submit(
                &html,
                "id=\"apply-form\"",
                &[("siret", &siret("charpentes-refus-vigilance"))],
            )
            .await?;
        w.keep("05-marche-application-rejected", &o)?;
        // The nursery.
        let creche = url(ids::SP_CRECHE);
        w.citizen = Citizen::default();
        let o = w.go(format!("{creche}/"), None).await?;
        w.keep("06-creche-nurseries", &o)?;
        let o = w.go(format!("{creche}/creches/les-lilas"), None).await?;
        w.keep("07-creche-nursery", &o)?;
        let html = w
            .sign_in(
                format!("{creche}/connexion?creche=les-lilas"),
                "famille-eaje-aeeh",
                "08-creche",
            )
            .await?;
        let o = w.submit(&html, "id=\"estimate-form\"", &[]).await?;
        w.keep("09-creche-fee", &o)?;
        let o = w
            .go(format!("{creche}/creches/guichet-famille/guichet"), None)
            .await?;
        w.keep("10-creche-counter", &o)?;
        Ok::<(), String>(())
    }
    .await;
    platform.shutdown().await;
    result.map(|_| w.shots)
}

/// Headless Chromium draws each saved page.
fn draw(root: &Path, shots: &[(String, PathBuf)]) -> i32 {
    let out = root.join("docs/screenshots");
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: {}: {e}", out.display());
        return 1;
    }
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok()
        });
    let Some(browser) = browser else {
        eprintln!(
            "error: no Chromium found (apt-get install -y chromium); the pages are in reports/screenshots/"
        );
        return 1;
    };
    for (name, page) in shots {
        let png = out.join(format!("{name}.png"));
        let status = std::process::Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1200,900",
            ])
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", page.display()))
            .stderr(std::process::Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => {
                println!("{}", png.strip_prefix(root).unwrap_or(&png).display())
            }
            _ => {
                eprintln!("error: {browser} could not draw {}", page.display());
                return 1;
            }
        }
    }
    0
}
