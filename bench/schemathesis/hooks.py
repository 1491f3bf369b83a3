"""Schemathesis hooks for the parties' OpenAPI documents.

The documents declare the French identifiers with a `format` beside their `pattern`
(`siren`, `siret`): a pattern says nine or fourteen digits, the format adds the check the
servers enforce and a pattern cannot say (the Luhn key, La Poste's SIRETs). These generators
make identifiers that pass it, so "schema-valid" data is valid for the servers too; the
negative phase still sends every other string.
"""

import datetime

import schemathesis
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode


def luhn_key(digits):
    """The digit that completes `digits` to a Luhn-valid number."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        # The key sits rightmost: from the right, the digits before it are doubled first.
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def luhn_number(length):
    body = st.lists(st.integers(0, 9), min_size=length - 1, max_size=length - 1)
    return body.map(lambda ds: "".join(map(str, ds + [luhn_key(ds)])))


schemathesis.openapi.format("siren", luhn_number(9))
schemathesis.openapi.format("siret", luhn_number(14))


# What no parameter schema can carry, as the documents' descriptions say it: someone born in
# France has a birth commune (CNAF/MSA `codeInseeLieuDeNaissance`, API Particulier
# `codeCogInseeCommuneNaissance`, a code of the COG); `annee` and `mois` go together and name
# one of the last 24 months (the parties run on today's date here).
FRANCE = "99100"
PARIS = "75056"


@schemathesis.hook
def map_case(ctx, case):
    """Positive cases only: the negative ones must keep breaking these rules."""
    meta = getattr(case, "_meta", None)
    positive = meta is not None and meta.generation.mode == GenerationMode.POSITIVE
    if positive and isinstance(case.query, dict):
        case.query = within_rules(dict(case.query))
    if positive and isinstance(case.body, dict) and "famille_informee" in case.body:
        # The nursery's counter: its body carries the same identity pivot.
        body = dict(case.body)
        if body.get("code_cog_pays_naissance", FRANCE) == FRANCE:
            body.setdefault("code_cog_commune_naissance", PARIS)
        case.body = body
    return case


def within_rules(query):
    if query.get("codePaysLieuDeNaissance") == FRANCE:
        code = query.get("codeInseeLieuDeNaissance")
        if not isinstance(code, str) or len(code.encode()) != 5:
            query["codeInseeLieuDeNaissance"] = PARIS
    named = "nomCommuneNaissance" in query or "codeCogInseeDepartementNaissance" in query
    if "codeCogInseePaysNaissance" in query and "codeCogInseeCommuneNaissance" not in query:
        if query["codeCogInseePaysNaissance"] == FRANCE or named:
            query["codeCogInseeCommuneNaissance"] = PARIS
    if "annee" in query or "mois" in query:
        today = datetime.date.today()
        query["annee"], query["mois"] = today.year, today.month
    return query
