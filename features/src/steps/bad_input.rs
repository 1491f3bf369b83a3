//! Bad input at any party, through its public HTTP surface: a header larger than any server of
//! the field accepts (nginx, Apache, Node and Tomcat stop between 8 and 32 KiB). It must be
//! refused with 431 (RFC 6585) or 400 (RFC 9110 §15.5.1), in the party's own error format,
//! never a 5xx or a dropped connection, and the party must answer the next call as before.
//! And a hub parameter whose bytes are not UTF-8: refused as the route refuses a missing one,
//! before any provider call, never forwarded as replacement characters.

use cucumber::{then, when};
use simulators::party::PartyId;

use super::hubs::{eaje_call, eaje_identity, entreprise_get_raw, entreprise_path, tracing};
use crate::exchange;
use crate::world::{BenchWorld, Step, ensure};

/// Bytes no UTF-8 decoder accepts, percent-encoded: a lone `FF`, then a lead byte `C3` whose
/// continuation is missing.
const NOT_UTF8: &str = "%FF%C3%28";

/// `pairs` as a query string, the values named `name` replaced by [`NOT_UTF8`].
fn query_not_utf8(pairs: &[(&str, String)], name: &str) -> Result<String, String> {
    ensure(pairs.iter().any(|(k, _)| *k == name), || {
        format!("this call has no parameter {name:?} to corrupt")
    })?;
    let encoded = pairs.iter().map(|(k, v)| {
        let clean = serde_urlencoded::to_string([(k, v)]).map_err(|e| e.to_string())?;
        Ok(if *k == name {
            format!(
                "{}{NOT_UTF8}",
                &clean[..clean.find('=').unwrap_or(clean.len()) + 1]
            )
        } else {
            clean
        })
    });
    Ok(encoded.collect::<Result<Vec<String>, String>>()?.join("&"))
}

#[when(
    expr = "the marketplace requests the legal unit of {string} with {word} bytes that are not UTF-8"
)]
async fn legal_unit_not_utf8(w: &mut BenchWorld, who: String, name: String) -> Step {
    let path = entreprise_path(w, "legal unit", &who)?;
    let q = query_not_utf8(&tracing(w, "T-2026-042")?, &name)?;
    let request = entreprise_get_raw(w, &path, &q, true)?;
    w.call(simulators::party::ids::API_ENTREPRISE, request)
        .await?;
    Ok(())
}

#[when(
    expr = "the nursery asks API Particulier for the EAJE parameters of {string} by identity, with {word} bytes that are not UTF-8"
)]
async fn eaje_not_utf8(w: &mut BenchWorld, persona: String, name: String) -> Step {
    let q = query_not_utf8(&eaje_identity(w, &persona)?, &name)?;
    eaje_call(w, &q).await
}

#[when(expr = "a client sends {word} a request with a header of {int} KiB")]
#[when(expr = "un client envoie à {word} une requête avec un en-tête de {int} Kio")]
async fn oversized_header(w: &mut BenchWorld, party: String, kib: usize) -> Step {
    let url = w.url(&party, "/")?;
    let padding = "a".repeat(kib * 1024);
    let request = exchange::client().get(url).header("x-padding", padding);
    w.call(&party, request)
        .await
        .map_err(|e| format!("{party} gave no answer to an oversized header: {e}"))?;
    Ok(())
}

#[then(expr = "{word} refuses it in its own error format, and answers the next call")]
#[then(expr = "{word} la refuse dans son propre format d'erreur, et répond à l'appel suivant")]
async fn refused_in_format(w: &mut BenchWorld, party: String) -> Step {
    let a = w.last()?.clone();
    ensure([400, 431].contains(&a.status), || {
        format!(
            "RFC 6585 §5: a header too large is refused with 431 (or 400); {party} gave {}",
            a.describe()
        )
    })?;
    ensure(
        PartyId::configured(&party).speaks_error_format(a.status, &a.json),
        || {
            format!(
                "{party}'s refusal is not in its own error format (what its API documents for every error): {}",
                a.describe()
            )
        },
    )?;
    let next = w.get(&party, "/").await?;
    ensure(next.status < 500, || {
        format!(
            "{party} no longer answers after the refusal: {}",
            next.describe()
        )
    })
}
