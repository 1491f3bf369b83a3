//! Every page state of both journeys, the broker's and the identity providers' pages, the
//! catalogue and a conformance report, in a real headless Chromium: walked by keyboard alone
//! (Tab to each control, Enter or Space to use it), audited with axe-core against WCAG 2.1 A and
//! AA (no serious or critical violation), and read at 320 px without scrolling sideways.
//!
//! Needs `chromium`, `chromedriver` (Debian) and axe-core (npm, `$BENCH_AXE`): `cargo xtask
//! test` installs them.

use std::path::PathBuf;

use conformance::browser::Browser;
use fantoccini::key::Key;
use simulators::party::ids;
use simulators::platform::{Platform, PlatformConfig};

/// What the audit found, page state by page state.
struct Audit {
    axe: String,
    browser: Browser,
    problems: Vec<String>,
    states: usize,
}

impl Audit {
    /// Audits the page the browser is on, as `state`.
    async fn check(&mut self, state: &str) {
        self.states += 1;
        match self.browser.audit(&self.axe).await {
            Ok(found) => {
                for v in found.iter().filter(|v| v.blocks()) {
                    self.problems.push(format!(
                        "{state}: {} ({}, {} element(s), first {}): {}",
                        v.id,
                        v.impact.as_deref().unwrap_or("?"),
                        v.nodes,
                        v.target,
                        v.help
                    ));
                }
            }
            Err(e) => self.problems.push(format!("{state}: {e}")),
        }
        if let Err(e) = self.browser.reflows_at(320).await {
            self.problems.push(format!(
                "{state}: scrolls sideways at 320 px (WCAG 1.4.10): {e}"
            ));
        }
    }

    /// Tabs to `selector` and presses Enter; a failure stops the walk (what follows needs it).
    async fn activate(&self, selector: &str) -> Result<(), String> {
        self.browser.tab_to(selector).await?;
        self.browser.press_enter().await
    }

    /// Tabs to a text field and types into it.
    async fn fill(&self, selector: &str, text: &str) -> Result<(), String> {
        self.browser.tab_to(selector).await?;
        self.browser.type_text(text).await
    }

    async fn page_has(&self, selector: &str) -> Result<(), String> {
        let found = self
            .browser
            .eval(&format!(
                "return document.querySelector({}) !== null",
                serde_json::json!(selector)
            ))
            .await?;
        if found == serde_json::json!(true) {
            Ok(())
        } else {
            Err(format!(
                "{selector} is not on {}",
                self.browser.url().await.unwrap_or_default()
            ))
        }
    }
}

fn axe_source() -> String {
    let path = std::env::var("BENCH_AXE").unwrap_or_else(|_| {
        panic!("BENCH_AXE is not set: run `cargo xtask test`, which installs axe-core (npm) and sets it")
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("axe-core at {path}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_state_passes_axe_and_the_journeys_walk_by_keyboard() {
    let axe = axe_source();
    let platform = Platform::start(&PlatformConfig::ephemeral(), None)
        .await
        .expect("the platform starts");
    let browser = Browser::start().await.expect("a headless Chromium");
    let mut audit = Audit {
        axe,
        browser,
        problems: Vec::new(),
        states: 0,
    };
    let walked = walk(&mut audit, &platform).await;
    let Audit {
        browser,
        problems,
        states,
        ..
    } = audit;
    browser.stop().await;
    platform.shutdown().await;
    walked.expect("the keyboard walk reaches every state");
    assert!(states >= 20, "only {states} page states audited");
    assert!(
        problems.is_empty(),
        "{} problem(s) over {states} page states:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

async fn walk(a: &mut Audit, platform: &Platform) -> Result<(), String> {
    let url = |id: &str| {
        platform
            .party(id)
            .map(|p| p.base_url.clone())
            .unwrap_or_default()
    };
    let catalog = format!("http://{}/", platform.catalog.ok_or("no catalogue")?);
    a.browser.goto(&catalog).await?;
    a.check("catalogue").await;
    nursery_journey(a, &url(ids::SP_CRECHE)).await?;
    counter_journey(a, platform, &url(ids::SP_CRECHE)).await?;
    marketplace_journey(a, platform, &url(ids::SP_MARCHE)).await?;
    error_pages(a, &url(ids::FC), &url(ids::IDP_IMPOTS)).await?;
    report_page(a).await?;
    load_report_page(a, platform).await?;
    certificate_page(a).await
}

/// A load report with its plots, a threshold held and one breached, its data tables opened by
/// keyboard.
async fn load_report_page(a: &mut Audit, platform: &Platform) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("p.toml");
    std::fs::write(
        &file,
        "thresholds = [\"p(99) < 1s\", \"max < 1us\"]\n[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 20\nduration = \"2s\"\n\n[[journey]]\nname = \"INSEE legal unit\"\nparty = \"insee\"\npath = \"/entreprises/sirene/V3.11/siren/{siren}\"\ndata = { kind = \"companies\" }\nexpect = [200, 403, 404]\n",
    )
    .map_err(|e| e.to_string())?;
    let profile = bench::load::LoadProfile::load(&file)?;
    let urls: std::collections::HashMap<String, String> = platform
        .parties
        .iter()
        .map(|p| (p.id.to_string(), p.base_url.clone()))
        .collect();
    let load = bench::load::Platform::new(&urls, &platform.population);
    let report = bench::load::run(&profile, &load, &|_| {}).await?;
    let page = dir.path().join("load.html");
    std::fs::write(&page, report.html()).map_err(|e| e.to_string())?;
    a.browser
        .goto(&format!("file://{}", page.display()))
        .await?;
    a.check("load report").await;
    a.activate("details summary").await?;
    a.check("load report, a plot's data open").await;
    Ok(())
}

/// A parent signs in with FranceConnect at the nursery, consents, gets the fee, signs out.
async fn nursery_journey(a: &mut Audit, creche: &str) -> Result<(), String> {
    a.browser.goto(&format!("{creche}/")).await?;
    a.check("nursery: home").await;
    a.activate(r#"a[href="/creches/les-lilas"]"#).await?;
    a.check("nursery: a nursery, signed out").await;
    a.activate("#franceconnect").await?;
    a.check("FranceConnect: choose an account").await;
    a.activate(r#"button[data-idp="idp-impots"]"#).await?;
    a.check("identity provider: sign-in").await;
    a.activate(r#"button[data-login="famille-eaje-aeeh"]"#)
        .await?;
    a.check("FranceConnect: what will be shared").await;
    a.activate("#consent-form button").await?;
    a.page_has("#estimate-form").await?;
    a.check("nursery: estimate form, signed in").await;
    a.activate("#estimate-form button").await?;
    a.page_has("#hourly").await?;
    a.check("nursery: the fee").await;
    a.activate("#logout").await?;
    a.page_has("#nurseries").await?;
    a.check("nursery: signed out").await;
    Ok(())
}

/// An agent at the counter: a form sent without the family informed, then complete.
async fn counter_journey(a: &mut Audit, platform: &Platform, creche: &str) -> Result<(), String> {
    let p = platform
        .population
        .citizen_persona("famille-eaje-aeeh")
        .ok_or("no persona famille-eaje-aeeh")?;
    a.browser
        .goto(&format!("{creche}/creches/guichet-famille/guichet"))
        .await?;
    a.check("counter: form").await;
    a.fill("#nom_naissance", &p.family_name).await?;
    a.fill("#prenoms", &p.given_names).await?;
    a.fill("#date_naissance", &p.birth_date.normalized())
        .await?;
    a.fill("#code_cog_commune_naissance", &p.birthplace).await?;
    a.activate("#counter-form button").await?;
    // The form stays, with what was typed, and the error names the box to tick by its label.
    a.page_has("#error a[href='#famille_informee']").await?;
    a.page_has("#counter-form").await?;
    a.check("counter: family not informed").await;
    a.browser.tab_to("#famille_informee").await?;
    a.browser.press_space().await?;
    a.activate("#counter-form button").await?;
    a.page_has("#hourly").await?;
    a.check("counter: the fee").await;
    Ok(())
}

/// A company director signs in by typing a login, applies with a wrong SIRET, then the right one.
async fn marketplace_journey(
    a: &mut Audit,
    platform: &Platform,
    marche: &str,
) -> Result<(), String> {
    let siret = platform
        .population
        .company_persona("batiments-dupont")
        .map(|c| c.head_office().siret.clone())
        .ok_or("no persona batiments-dupont")?;
    a.browser.goto(&format!("{marche}/")).await?;
    a.check("marketplace: tenders, signed out").await;
    a.activate("#franceconnect").await?;
    a.activate(r#"button[data-idp="idp-impots"]"#).await?;
    a.fill("#login", "dirigeant-dupont").await?;
    a.fill("#password", "123").await?;
    a.activate("#login-form button").await?;
    a.activate("#consent-form button").await?;
    a.page_has("#signed-in-as").await?;
    a.check("marketplace: tenders, signed in").await;
    a.activate(r#"a[href="/appels-d-offres/2026-VIN-0042"]"#)
        .await?;
    a.check("marketplace: a tender").await;
    a.fill("#siret", "123").await?;
    a.browser.press_enter().await?;
    a.page_has("#error a[href='#siret']").await?;
    a.check("marketplace: a wrong SIRET").await;
    a.browser.tab_to("#siret").await?;
    a.browser
        .type_text(&Key::Backspace.to_string().repeat(3))
        .await?;
    a.browser.type_text(&siret).await?;
    a.browser.press_enter().await?;
    a.page_has("#pieces").await?;
    a.check("marketplace: the application").await;
    a.browser.goto(&format!("{marche}/acheteur")).await?;
    a.check("marketplace: publishing a tender").await;
    Ok(())
}

async fn error_pages(a: &mut Audit, fc: &str, idp: &str) -> Result<(), String> {
    a.browser
        .goto(&format!("{fc}/api/v2/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=http://nowhere/&state=s&nonce=n"))
        .await?;
    a.page_has("#error-code").await?;
    a.check("FranceConnect: an error").await;
    a.browser
        .goto(&format!("{idp}/authorize?client_id=nobody"))
        .await?;
    a.check("identity provider: an error").await;
    Ok(())
}

/// A conformance report with a failure (a defect injected), in French and English scenarios.
async fn report_page(a: &mut Audit) -> Result<(), String> {
    let dir: PathBuf = std::env::temp_dir().join(format!("a11y-report-{}", std::process::id()));
    let options = conformance::RunOptions {
        name: Some("AEEH".into()),
        defects: vec!["creche-ignores-aeeh".parse().map_err(|e: String| e)?],
        reports: Some(dir.clone()),
        ..conformance::RunOptions::default()
    };
    let report = conformance::run(&options).await?;
    if report.count(conformance::report::Verdict::Failed) == 0 {
        return Err("the defect made no scenario fail: the report shows no failure".into());
    }
    let file = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .map(|p| if p.is_dir() { p.join("report.html") } else { p })
        .find(|p| p.ends_with("report.html") && p.exists())
        .ok_or("no report.html written")?;
    a.browser
        .goto(&format!("file://{}", file.display()))
        .await?;
    a.check("conformance report").await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A certificate's page with every verdict: passed, failed and waived (a defect breaks the
/// userinfo), and one awaiting review.
async fn certificate_page(a: &mut Audit) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let waivers = dir.path().join("waivers.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\nrequirement = \"IDP-03\"\nreason = \"shown on the page\"\naccepted_by = \"the accessibility test\"\nuntil = \"2999-12-31\"\n",
    )
    .map_err(|e| e.to_string())?;
    let options = conformance::certify::CertifyOptions {
        role: "idp".into(),
        defects: vec!["idp-unsigned-userinfo".parse().map_err(|e: String| e)?],
        waivers: Some(waivers),
        reports: dir.path().join("reports"),
        key: dir.path().join("key.pem"),
        ..conformance::certify::CertifyOptions::default()
    };
    let certified = conformance::certify::certify(&options).await?;
    let page = certified.path.with_extension("html");
    a.browser
        .goto(&format!("file://{}", page.display()))
        .await?;
    a.check("certificate").await;
    Ok(())
}
