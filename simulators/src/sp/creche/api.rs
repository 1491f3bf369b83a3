//! The nursery service's JSON API: session, nurseries, the scale, estimates and the counter;
//! errors as RFC 9457 problem details.

use super::*;

pub(super) fn unknown_nursery(id: &str) -> SpError {
    problem(
        StatusCode::NOT_FOUND,
        "unknown-nursery",
        "Crèche inconnue",
        &format!("no nursery {id:?}; GET /api/creches lists them"),
    )
}

pub(super) fn signed_in(c: &Creche, headers: &HeaderMap) -> Result<SignedIn, SpError> {
    c.sessions.require(headers, "/connexion?creche=ID")
}

pub(super) async fn api_session(State(c): State<Creche>, headers: HeaderMap) -> Response {
    super::super::session_json(&c.sessions, &headers, "/connexion?creche=ID")
}

pub(super) async fn api_nurseries(State(c): State<Creche>) -> Response {
    json_response(StatusCode::OK, &json!({"creches": *c.nurseries}))
}

pub(super) async fn api_bareme(State(c): State<Creche>) -> Response {
    json_response(StatusCode::OK, &json!(*c.bareme))
}

pub(super) fn estimate_response(e: Estimate) -> Response {
    let subject = e
        .identite
        .as_ref()
        .and_then(|i| i["sub"].as_str().map(String::from));
    let r = json_response(StatusCode::OK, &json!(e));
    match subject {
        Some(s) => with_subject(r, s),
        None => r,
    }
}

pub(super) async fn api_estimate(
    State(c): State<Creche>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SpError> {
    let n = nursery(&c, &id)
        .cloned()
        .ok_or_else(|| unknown_nursery(&id))?;
    let user = signed_in(&c, &headers)?;
    let req: EstimateRequest = if body.is_empty() {
        EstimateRequest::default()
    } else {
        super::super::json_body(&headers, &body)?
    };
    Ok(estimate_response(estimate(&c, &n, &user, req).await?))
}

pub(super) async fn api_counter(
    State(c): State<Creche>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SpError> {
    let n = nursery(&c, &id)
        .cloned()
        .ok_or_else(|| unknown_nursery(&id))?;
    let req: CounterRequest = super::super::json_body(&headers, &body)?;
    Ok(estimate_response(counter(&c, &n, req).await?))
}
