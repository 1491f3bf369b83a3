//! The HTML every party's pages share: escaping and the page shell.

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// An HTML page in the platform's look.
pub fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title>
<style>
body {{ font-family: Marianne, system-ui, sans-serif; margin: 0; color: #161616; background: #f6f6f6; }}
header {{ background: #fff; border-bottom: 1px solid #ddd; padding: 1rem 2rem; }}
header b {{ border-left: .4rem solid #000091; padding-left: .6rem; }}
main {{ max-width: 46rem; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: .25rem; }}
h1 {{ font-size: 1.5rem; }} button, input[type=submit] {{ background: #000091; color: #fff; border: 0; padding: .5rem 1rem; cursor: pointer; border-radius: .25rem; }}
button.secondary {{ background: #fff; color: #000091; border: 1px solid #000091; }}
label {{ display: block; margin: .5rem 0 .2rem; font-weight: 600; }} input, select {{ padding: .4rem; width: 100%; box-sizing: border-box; }}
ul.accounts {{ list-style: none; padding: 0; }} ul.accounts li {{ margin: .3rem 0; }} .muted {{ color: #666; font-size: .9rem; }}
.error {{ border-left: .3rem solid #ce0500; padding: .5rem 1rem; background: #fff4f4; }} code {{ background: #eee; padding: 0 .2rem; }}
</style></head><body><header><b>{t}</b></header><main>{body}</main></body></html>"#,
        t = escape(title)
    )
}
