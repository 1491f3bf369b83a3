//! The forms of an HTML page, read as a browser reads them (html5ever's parser, through
//! `scraper`), so that the virtual citizen can sign in through any ordinary login page: what a
//! submit sends, which field takes the login, which the password.
//!
//! ```
//! use conformance::forms::forms;
//! let page = r#"<form action="/auth/123/login" method=post>
//!   <input type=hidden name=uid value="123">
//!   <label>E-mail <input name=user type=email></label>
//!   <input name=pass type=password><button name=go value=1>Sign in</button></form>"#;
//! let form = &forms(page)[0];
//! assert_eq!(form.username_field(), Some("user"));
//! assert_eq!(form.password_field(), Some("pass"));
//! assert_eq!(form.submission(&[]), vec![("uid".into(), "123".into()), ("go".into(), "1".into())]);
//! ```

use scraper::{ElementRef, Html, Selector};

/// A field the citizen can type in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Its `name`.
    pub name: String,
    /// Its `type`, lower case (`text` when absent).
    pub kind: String,
    /// Its `autocomplete` token, lower case.
    pub autocomplete: String,
}

/// One `<form>` of a page.
#[derive(Clone, Debug, Default)]
pub struct Form {
    /// Its `action`, as written (resolve it against the page's URL).
    pub action: String,
    /// Whether it is sent with GET (POST otherwise).
    pub get: bool,
    /// What it sends as it stands: hidden and prefilled inputs, selected options, checked boxes.
    pub fields: Vec<(String, String)>,
    /// The fields the citizen may type in (text, e-mail, password…).
    pub inputs: Vec<Input>,
    /// The first submit button's name and value, sent with it when it has a name.
    pub button: Option<(String, String)>,
    /// The form's markup, to find it by a marker.
    pub html: String,
}

/// Names a login field commonly has, most telling first.
const USERNAME_NAMES: &[&str] = &[
    "login",
    "username",
    "user",
    "email",
    "identifiant",
    "userid",
    "user_id",
    "account",
];

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid built-in selector")
}

/// Every form of `html`, in document order.
pub fn forms(html: &str) -> Vec<Form> {
    let page = Html::parse_document(html);
    page.select(&selector("form")).map(read_form).collect()
}

/// The forms of `html` that `css` selects (a profile's `[parties.<id>.login] form`).
pub fn forms_matching(html: &str, css: &str) -> Result<Vec<Form>, String> {
    let wanted = Selector::parse(css).map_err(|e| format!("form selector {css:?}: {e}"))?;
    let page = Html::parse_document(html);
    Ok(page.select(&wanted).map(read_form).collect())
}

fn read_form(form: ElementRef<'_>) -> Form {
    let attr = |e: &ElementRef<'_>, a: &str| e.value().attr(a).unwrap_or("").to_string();
    let mut f = Form {
        action: attr(&form, "action"),
        get: attr(&form, "method").eq_ignore_ascii_case("get"),
        html: form.html(),
        ..Form::default()
    };
    for field in form.select(&selector("input, select, textarea, button")) {
        let name = attr(&field, "name");
        let kind = match field.value().name() {
            "input" => attr(&field, "type").to_ascii_lowercase(),
            "button" => {
                let t = attr(&field, "type").to_ascii_lowercase();
                if t.is_empty() { "submit".into() } else { t }
            }
            other => other.to_string(),
        };
        let kind = if kind.is_empty() { "text".into() } else { kind };
        let value = attr(&field, "value");
        match kind.as_str() {
            "submit" | "image" if f.button.is_none() => {
                f.button = Some((name, value));
            }
            "hidden" if !name.is_empty() => f.fields.push((name, value)),
            "checkbox" | "radio" if field.value().attr("checked").is_some() && !name.is_empty() => {
                let value = if value.is_empty() { "on".into() } else { value };
                f.fields.push((name, value));
            }
            // Other buttons, unchecked boxes, files: nothing sent, nothing to type.
            "submit" | "image" | "checkbox" | "radio" | "button" | "reset" | "file" => {}
            "select" if !name.is_empty() => {
                let options: Vec<ElementRef<'_>> = field.select(&selector("option")).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.value().attr("selected").is_some())
                    .or(options.first());
                if let Some(o) = chosen {
                    let v = o.value().attr("value").map(String::from);
                    let v = v.unwrap_or_else(|| o.text().collect::<String>().trim().to_string());
                    f.fields.push((name, v));
                }
            }
            _ if !name.is_empty() => {
                if !value.is_empty() {
                    f.fields.push((name.clone(), value));
                }
                let autocomplete = attr(&field, "autocomplete").to_ascii_lowercase();
                f.inputs.push(Input {
                    name,
                    kind,
                    autocomplete,
                });
            }
            _ => {}
        }
    }
    f
}

impl Form {
    /// The password field's name, if the form has one.
    pub fn password_field(&self) -> Option<&str> {
        self.inputs
            .iter()
            .find(|i| i.kind == "password")
            .map(|i| i.name.as_str())
    }

    /// The field the login goes in: the one marked `autocomplete="username"`, else one with a
    /// login's usual name, else the first text or e-mail field.
    pub fn username_field(&self) -> Option<&str> {
        let typed = |i: &&Input| matches!(i.kind.as_str(), "text" | "email" | "tel");
        let by_autocomplete = self.inputs.iter().find(|i| i.autocomplete == "username");
        let by_name = || {
            USERNAME_NAMES.iter().find_map(|n| {
                self.inputs
                    .iter()
                    .filter(typed)
                    .find(|i| i.name.eq_ignore_ascii_case(n))
            })
        };
        by_autocomplete
            .or_else(by_name)
            .or_else(|| self.inputs.iter().find(typed))
            .map(|i| i.name.as_str())
    }

    /// Whether the citizen has nothing to type: a consent or "continue" form.
    pub fn is_confirmation(&self) -> bool {
        !self.get && self.inputs.is_empty()
    }

    /// What submitting it sends: its fields with `extra` typed over them, and its button.
    pub fn submission(&self, extra: &[(String, String)]) -> Vec<(String, String)> {
        let mut fields = self.fields.clone();
        for (k, v) in extra {
            fields.retain(|(n, _)| n != k);
            fields.push((k.clone(), v.clone()));
        }
        if let Some((name, value)) = &self.button {
            if !name.is_empty() && !fields.iter().any(|(n, _)| n == name) {
                fields.push((name.clone(), value.clone()));
            }
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_field_is_found_by_autocomplete_then_name_then_position() {
        let f = &forms(
            r#"<form><input name=a><input name=b autocomplete=username><input type=password name=p></form>"#,
        )[0];
        assert_eq!(f.username_field(), Some("b"));
        let f = &forms(
            r#"<form><input name=q><input name=Email type=email><input type=password name=p></form>"#,
        )[0];
        assert_eq!(f.username_field(), Some("Email"));
        let f = &forms(r#"<form><input name=who><input type=password name=p></form>"#)[0];
        assert_eq!(f.username_field(), Some("who"));
    }

    #[test]
    fn a_hidden_password_is_not_a_password_field() {
        let f = &forms(
            r#"<form method="post"><input type="hidden" name="password" value="123"><button>Go</button></form>"#,
        )[0];
        assert_eq!(f.password_field(), None);
        assert!(f.is_confirmation());
    }

    #[test]
    fn selects_send_their_selected_option_and_boxes_only_when_checked() {
        let f = &forms(
            r#"<form><select name=acr><option>eidas1</option><option selected value="eidas2">2</option></select>
            <input type=checkbox name=keep><input type=checkbox name=ok checked></form>"#,
        )[0];
        assert_eq!(
            f.submission(&[]),
            vec![("acr".into(), "eidas2".into()), ("ok".into(), "on".into())]
        );
    }
}
