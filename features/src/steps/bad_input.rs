//! Bad input at any party, through its public HTTP surface: a header larger than any server of
//! the field accepts (nginx, Apache, Node and Tomcat stop between 8 and 32 KiB). It must be
//! refused with 431 (RFC 6585) or 400 (RFC 9110 §15.5.1), in the party's own error format,
//! never a 5xx or a dropped connection, and the party must answer the next call as before.

use cucumber::{then, when};
use simulators::party::PartyId;

use crate::exchange;
use crate::world::{BenchWorld, Step, ensure};

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
