//! Query strings and URLs, as every party reads and writes them.

/// Query parameters as sent, in order, repeated keys kept (`prenoms=A&prenoms=B`).
///
/// A value whose percent-decoding is not UTF-8 (`context=%FF`) is read as empty, never as
/// replacement characters: each route then refuses it as it refuses a missing value, in its own
/// format and with its own code, before any provider is called (Rails, which serves the real
/// hubs, refuses such a parameter too).
///
/// ```
/// use simulators::http::query_pairs;
/// let pairs = query_pairs(Some("context=March%C3%A9+public&object=%FF&prenoms=A&prenoms=B"));
/// assert_eq!(pairs[0], ("context".into(), "Marché public".into()));
/// assert_eq!(pairs[1], ("object".into(), String::new()));
/// assert_eq!(pairs.len(), 4);
/// ```
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decoded(k), decoded(v))
        })
        .collect()
}

/// One `application/x-www-form-urlencoded` component: `+` is a space; not UTF-8 is empty.
fn decoded(component: &str) -> String {
    let spaced = component.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .unwrap_or_default()
}

/// The first value of a query parameter.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Appends query parameters to a URL.
pub fn url_with(base: &str, params: &[(&str, &str)]) -> String {
    let encoded = serde_urlencoded::to_string(params).unwrap_or_default();
    if base.contains('?') {
        format!("{base}&{encoded}")
    } else {
        format!("{base}?{encoded}")
    }
}
