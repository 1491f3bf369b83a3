//! A real browser for the bench: headless Chromium driven over WebDriver (`chromedriver`, both
//! from Debian), through `fantoccini`. It walks pages by keyboard alone, and audits them with
//! axe-core (npm), the engine behind the usual automated accessibility audits.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use conformance::browser::Browser;
//! let b = Browser::start().await?;
//! b.goto("http://127.0.0.1:7501/").await?;
//! b.tab_to("#franceconnect").await?; // Tab until the link has focus…
//! b.press_enter().await?; // …and follow it.
//! let found = b.audit(&std::fs::read_to_string("axe.min.js").unwrap()).await?;
//! assert!(found.iter().all(|v| !v.blocks()));
//! b.stop().await;
//! # Ok(()) }
//! ```

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder};
use serde::Deserialize;
use serde_json::{Value, json};

/// A headless Chromium session and the `chromedriver` process behind it.
pub struct Browser {
    client: Client,
    driver: Child,
}

/// One rule axe-core found broken on a page.
#[derive(Clone, Debug, Deserialize)]
pub struct Violation {
    /// The axe rule (`color-contrast`, `label`…).
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    /// What the rule asks.
    pub help: String,
    /// How many elements break it.
    pub nodes: usize,
    /// The first of them, as a CSS selector.
    pub target: Value,
}

impl Violation {
    /// Whether it is serious or critical: what an audit must not find.
    pub fn blocks(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
    }
}

/// The most Tab presses a walk makes looking for one element.
const MAX_TABS: usize = 80;

impl Browser {
    /// Starts `chromedriver` (`$CHROMEDRIVER`, else on the `PATH`) on a free loopback port and
    /// opens a headless Chromium (`$CHROMIUM`, else `/usr/bin/chromium`) through it.
    pub async fn start() -> Result<Browser, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let exe = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&exe)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start {exe} ({e}): apt-get install -y chromium chromium-driver")
            })?;
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": binary, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        // chromedriver takes a moment to listen.
        for _ in 0..50 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return Ok(Browser { client, driver }),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut driver = driver;
        let _ = driver.kill();
        Err(format!("no browser session through {exe}: {last}"))
    }

    /// Opens a URL and waits for the page.
    pub async fn goto(&self, url: &str) -> Result<(), String> {
        self.client
            .goto(url)
            .await
            .map_err(|e| format!("{url}: {e}"))
    }

    /// The page's URL.
    pub async fn url(&self) -> Result<String, String> {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .map_err(|e| e.to_string())
    }

    /// The page's cookies (HttpOnly ones included), as `name=value`.
    pub async fn cookies(&self) -> Result<Vec<String>, String> {
        let all = self
            .client
            .get_all_cookies()
            .await
            .map_err(|e| e.to_string())?;
        Ok(all
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect())
    }

    /// Sets a cookie (`name=value`) for the page's host, on every path. Through the page
    /// (`document.cookie`): Chromium refuses WebDriver cookies for an IP address.
    pub async fn add_cookie(&self, pair: &str) -> Result<(), String> {
        let script = format!(
            "document.cookie = {}; return 'ok';",
            json!(format!("{pair}; path=/"))
        );
        self.eval(&script).await.map(|_| ())
    }

    /// Runs a script in the page and returns its value.
    pub async fn eval(&self, script: &str) -> Result<Value, String> {
        self.client
            .execute(script, vec![])
            .await
            .map_err(|e| e.to_string())
    }

    /// Presses Tab until the focused element matches the CSS selector; fails when it never does
    /// (the element cannot be reached by keyboard).
    pub async fn tab_to(&self, selector: &str) -> Result<(), String> {
        let check = format!(
            "return document.activeElement !== null && document.activeElement.matches({})",
            json!(selector)
        );
        for _ in 0..MAX_TABS {
            if self.eval(&check).await? == json!(true) {
                return Ok(());
            }
            self.keys(&Key::Tab.to_string()).await?;
        }
        Err(format!(
            "{selector} never took the focus in {MAX_TABS} presses of Tab on {}",
            self.url().await.unwrap_or_default()
        ))
    }

    /// Types text into the focused element.
    pub async fn type_text(&self, text: &str) -> Result<(), String> {
        self.keys(text).await
    }

    /// Presses Enter on the focused element and waits for what it loads.
    pub async fn press_enter(&self) -> Result<(), String> {
        self.keys(&Key::Enter.to_string()).await?;
        self.settle().await
    }

    /// Presses Space on the focused element (a checkbox).
    pub async fn press_space(&self) -> Result<(), String> {
        self.keys(" ").await
    }

    async fn keys(&self, text: &str) -> Result<(), String> {
        self.client
            .active_element()
            .await
            .map_err(|e| e.to_string())?
            .send_keys(text)
            .await
            .map_err(|e| e.to_string())
    }

    /// Waits until the document has loaded (after a key press that navigates).
    async fn settle(&self) -> Result<(), String> {
        for _ in 0..100 {
            if self.eval("return document.readyState").await? == json!("complete") {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("the page did not finish loading".into())
    }

    /// Runs axe-core (its `axe.min.js` source) on the page against WCAG 2.1 A and AA.
    pub async fn audit(&self, axe_source: &str) -> Result<Vec<Violation>, String> {
        self.client
            .execute(axe_source, vec![])
            .await
            .map_err(|e| format!("axe-core did not load: {e}"))?;
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                   .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, target: v.nodes[0].target}))))
                   .catch(e => done({error: String(e)}));",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        serde_json::from_value(found.clone()).map_err(|_| format!("axe-core failed: {found}"))
    }

    /// Whether the page reads at `width` CSS pixels without scrolling sideways (WCAG 1.4.10);
    /// the error says the viewport and content widths when it does not.
    pub async fn reflows_at(&self, width: u32) -> Result<(), String> {
        let size = |w: u32| self.client.set_window_size(w, 900);
        size(width).await.map_err(|e| e.to_string())?;
        // The widths, and the outermost elements that stick out (for the error).
        let widths = self
            .eval(
                "const out = [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                   .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
                   .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
                 return [window.innerWidth, document.documentElement.scrollWidth, out.join(', ')]",
            )
            .await;
        size(1280).await.map_err(|e| e.to_string())?;
        let widths = widths?;
        let (inner, content) = (
            widths[0].as_u64().unwrap_or(0),
            widths[1].as_u64().unwrap_or(0),
        );
        if content <= inner {
            Ok(())
        } else {
            Err(format!(
                "{content} px of content in a {inner} px viewport (window asked at {width} px): {}",
                widths[2].as_str().unwrap_or_default()
            ))
        }
    }

    /// Closes the session and stops `chromedriver`.
    pub async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
