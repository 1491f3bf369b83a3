//! The HTML every party's pages share: one page shell, built with `maud`, which escapes every
//! value it is given (raw HTML needs an explicit `PreEscaped`).
//!
//! The shell carries what RGAA (WCAG 2.1 AA) asks of every page: the language, a title naming
//! the page then the site, a skip link to the main content, a `<header>` that wraps on a 320 px
//! screen, one `<main>`, visible keyboard focus.
//!
//! ```
//! use simulators::http::{Page, html};
//! let page = Page::new("Connexion", "FranceConnect", html! { h1 { "Connexion" } p { "<b>" } });
//! let text = page.render();
//! assert!(text.contains("<title>Connexion — FranceConnect</title>"));
//! assert!(text.contains("&lt;b&gt;"));
//! assert!(text.contains(r##"href="#contenu""##));
//! ```

pub use maud::{Markup, PreEscaped, html};

use maud::DOCTYPE;

/// One page: what it is, which site it belongs to, and its content.
pub struct Page<'a> {
    /// The page's language (`fr`; `en` for the few English ones).
    pub lang: &'a str,
    /// What this page is ("Choisir un compte"); the `<title>` starts with it.
    pub title: &'a str,
    /// The site ("FranceConnect (simulé)"), in the header and after the title.
    pub site: &'a str,
    /// A line under the site's name in the header.
    pub tagline: Option<&'a str>,
    /// The header's right-hand side (who is signed in, the sign-out button).
    pub account: Option<Markup>,
    /// The main content.
    pub main: Markup,
}

impl<'a> Page<'a> {
    /// A French page with nothing in the header but the site.
    pub fn new(title: &'a str, site: &'a str, main: Markup) -> Self {
        Page {
            lang: "fr",
            title,
            site,
            tagline: None,
            account: None,
            main,
        }
    }

    /// The whole document.
    pub fn render(self) -> String {
        let title = if self.title.is_empty() || self.title == self.site {
            self.site.to_string()
        } else {
            format!("{} — {}", self.title, self.site)
        };
        html! {
            (DOCTYPE)
            html lang=(self.lang) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    a.skip href="#contenu" {
                        @if self.lang == "en" { "Skip to content" } @else { "Aller au contenu" }
                    }
                    header {
                        span.brand {
                            (self.site)
                            @if let Some(t) = self.tagline { small { (t) } }
                        }
                        @if let Some(a) = self.account { div.who { (a) } }
                    }
                    main #contenu tabindex="-1" { (self.main) }
                }
            }
        }
        .into_string()
    }
}

/// The platform's look (the État's design system, simplified), for every party.
const STYLE: &str = r#"
body { font-family: Marianne, system-ui, sans-serif; margin: 0; color: #161616; background: #f6f6f6; line-height: 1.5; }
.skip { position: absolute; left: -9999px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem 1rem; z-index: 10; }
:focus-visible { outline: 3px solid #0a76f6; outline-offset: 2px; }
header { background: #fff; border-bottom: 1px solid #ddd; padding: .8rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; }
header .brand { font-weight: 700; border-left: .4rem solid #000091; padding-left: .6rem; }
header .brand small { display: block; font-weight: 400; color: #595959; }
header .who { margin-left: auto; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; }
form.inline { display: inline; margin: 0; }
main { max-width: 60rem; margin: 1.5rem auto; background: #fff; padding: 1.5rem; border-radius: .25rem; box-sizing: border-box; }
main:focus { outline: none; }
@media (max-width: 40rem) { main { margin: 0; padding: 1rem; } }
h1 { font-size: 1.6rem; margin-top: 0; } h2 { font-size: 1.2rem; margin-top: 1.6rem; }
a { color: #000091; }
button, .button { background: #000091; color: #fff; border: 0; padding: .55rem 1.1rem; cursor: pointer; border-radius: .25rem; font-size: 1rem; text-decoration: none; display: inline-block; }
button.secondary { background: #fff; color: #000091; border: 1px solid #000091; }
.fc-button { padding: .7rem 1.3rem; font-weight: 700; }
label, legend { display: block; margin: .6rem 0 .2rem; font-weight: 600; }
label.check { font-weight: 400; }
.hint { display: block; font-weight: 400; color: #595959; font-size: .9rem; }
input, select { padding: .45rem; width: 100%; box-sizing: border-box; font-size: 1rem; }
input[type=checkbox], input[type=radio] { width: auto; }
fieldset { border: 0; padding: 0; margin: 0; }
.table-wrap { overflow-x: auto; position: relative; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e5e5e5; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f0ff; } th[scope=row] { width: 35%; }
.muted { color: #595959; font-size: .9rem; } code { background: #eee; padding: 0 .2rem; overflow-wrap: anywhere; }
ul.accounts { list-style: none; padding: 0; } ul.accounts li { margin: .3rem 0; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: .2rem; font-size: .85rem; font-weight: 700; }
.ok { background: #b8fec9; color: #18753c; } .warn { background: #ffe9e6; color: #a33900; } .ko { background: #ffe9e9; color: #ce0500; } .info { background: #e8edff; color: #0063cb; }
.notice, .error { border-left: .3rem solid #0063cb; padding: .6rem 1rem; background: #e8edff; margin: 1rem 0; }
.notice.warn { border-color: #a33900; background: #fff4f3; } .notice.ko, .error { border-color: #ce0500; background: #fff4f4; } .notice.ok { border-color: #18753c; background: #f0fff4; }
.amount { font-size: 2rem; font-weight: 700; color: #000091; }
"#;
