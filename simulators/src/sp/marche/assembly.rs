//! What the marketplace decides from the hub's answers, with no I/O: each answer becomes a
//! piece, what the buyer must know becomes a finding, and the findings give the status.
//! [`pieces::assemble`](super::pieces::assemble) fetches the answers in order and feeds them here.

use super::*;

/// One hub answer: status and body (null when unreadable), or why the call failed.
pub(super) type HubAnswer = Result<(u16, Value), String>;

/// An application being put together.
pub(super) struct Draft {
    siret: String,
    naf: String,
    siege: String,
    entreprise: Value,
    pieces: Vec<Piece>,
    findings: Vec<Finding>,
}

fn finding(level: Level, message: impl Into<String>) -> Finding {
    Finding {
        level,
        message: message.into(),
    }
}

impl Draft {
    pub(super) fn new(siret: &str) -> Self {
        Draft {
            siret: siret.to_string(),
            naf: String::new(),
            siege: String::new(),
            entreprise: json!({"siret": siret, "siren": &siret[..9]}),
            pieces: Vec::new(),
            findings: Vec::new(),
        }
    }

    fn flag(&mut self, level: Level, message: impl Into<String>) {
        self.findings.push(finding(level, message));
    }

    /// INSEE's legal unit: the company's identity.
    pub(super) fn identity(&mut self, answer: HubAnswer) {
        let body = match answer {
            Ok((200, body)) => body,
            other => {
                let p = unavailable("identite_insee", "INSEE", other);
                match p.status.as_str() {
                    "non_diffusible" => self.flag(Level::AVerifier, "Données non diffusibles (INSEE) : l'acheteur complètera l'identité de l'entreprise à partir des pièces qu'elle fournira."),
                    "introuvable" => self.flag(Level::Rejet, "SIREN inconnu du répertoire Sirene."),
                    _ => {}
                }
                self.pieces.push(p);
                return;
            }
        };
        let ul = &body["data"];
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        self.naf = text(&ul["activite_principale"]["code"]);
        let name = ul["personne_morale_attributs"]["raison_sociale"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| {
                let pp = &ul["personne_physique_attributs"];
                let full = format!(
                    "{} {}",
                    text(&pp["prenom_usuel"]),
                    text(&pp["nom_naissance"])
                );
                full.trim().to_string()
            });
        let e = &mut self.entreprise;
        e["raison_sociale"] = json!(name);
        e["forme_juridique"] = ul["forme_juridique"]["libelle"].clone();
        let activity = text(&ul["activite_principale"]["libelle"]);
        e["activite_principale"] = json!(format!("{} — {activity}", self.naf));
        e["tranche_effectif"] = ul["tranche_effectif_salarie"]["intitule"].clone();
        e["etat_administratif"] = ul["etat_administratif"].clone();
        self.siege = text(&ul["siret_siege_social"]);
        e["siret_siege"] = json!(self.siege);
        let identity = "Identité de l'unité légale (répertoire Sirene)";
        self.pieces
            .push(piece("identite_insee", "obtenue", "INSEE", identity));
        if ul["etat_administratif"] == "C" {
            self.flag(
                Level::Rejet,
                "L'entreprise est cessée (répertoire Sirene) : elle ne peut pas candidater.",
            );
        }
    }

    /// Whether INSEE gave the identity (the establishments are asked only then).
    pub(super) fn identity_known(&self) -> bool {
        self.pieces.iter().any(|p| p.status == "obtenue")
    }

    /// The head office's SIRET when the application comes from another establishment.
    pub(super) fn other_head_office(&self) -> Option<String> {
        (!self.siege.is_empty() && self.siege != self.siret).then(|| self.siege.clone())
    }

    /// Whether the activity is one of the agricultural divisions, whose MSA file is asked.
    pub(super) fn agricultural(&self, msa_divisions: &[String]) -> bool {
        msa_divisions
            .iter()
            .any(|d| self.naf.starts_with(d.as_str()))
    }

    /// INSEE's establishment the company applies with.
    pub(super) fn establishment(&mut self, answer: HubAnswer) {
        match answer {
            Ok((200, body)) => {
                let e = &body["data"];
                self.entreprise["adresse_etablissement"] = address_of(e);
                if self.siege == self.siret || self.siege.is_empty() {
                    self.entreprise["adresse_siege"] = address_of(e);
                }
                if e["etat_administratif"] == "F" {
                    self.flag(
                        Level::Rejet,
                        "Cet établissement est fermé (répertoire Sirene).",
                    );
                }
            }
            other => {
                let p = unavailable("etablissement_insee", "INSEE", other);
                if p.status == "introuvable" {
                    self.flag(Level::Rejet, "SIRET inconnu du répertoire Sirene.");
                }
                self.pieces.push(p);
            }
        }
    }

    /// INSEE's head office, when it is another establishment.
    pub(super) fn head_office(&mut self, answer: HubAnswer) {
        match answer {
            Ok((200, s)) => self.entreprise["adresse_siege"] = address_of(&s["data"]),
            other => self
                .pieces
                .push(unavailable("siege_social", "INSEE", other)),
        }
    }

    /// Infogreffe's extract: the register entry and the officers. Gives whether the signed-in
    /// applicant is among the officers, when the extract came.
    pub(super) fn rcs(
        &mut self,
        answer: HubAnswer,
        user: &SignedIn,
        skip_check: bool,
    ) -> Option<bool> {
        let body = match answer {
            Ok((200, body)) => body,
            Ok((404, body)) => {
                let (code, detail) = error_of(&body);
                let detail = format!("Pas d'immatriculation au RCS ({detail})");
                self.pieces.push(Piece {
                    code,
                    ..piece("extrait_rcs", "non_applicable", "Infogreffe", detail)
                });
                return None;
            }
            other => {
                self.pieces
                    .push(unavailable("extrait_rcs", "Infogreffe", other));
                return None;
            }
        };
        let k = &body["data"];
        let officers: Vec<Value> = k["mandataires_sociaux"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| {
                json!({
                    "nom": o["nom"].as_str().or(o["raison_sociale"].as_str()).unwrap_or(""),
                    "prenom": o["prenom"],
                    "fonction": o["fonction"],
                })
            })
            .collect();
        let is_officer = skip_check || officers.iter().any(|o| same_person(o, user));
        self.entreprise["rcs"] = json!({
            "greffe": k["greffe"]["valeur"],
            "date_immatriculation": k["date_immatriculation"],
            "capital": k["capital"]["montant"],
            "mandataires_sociaux": officers,
        });
        if self.entreprise.get("raison_sociale").is_none() {
            self.entreprise["raison_sociale"] = k["personne_morale"]["denomination"].clone();
        }
        if !k["date_radiation"].is_null() {
            let since = k["date_radiation"].as_str().unwrap_or("?");
            self.flag(
                Level::Rejet,
                format!("L'entreprise est radiée du RCS depuis le {since}."),
            );
        }
        if !is_officer {
            self.flag(Level::AVerifier, format!(
                "{} n'apparaît pas parmi les mandataires sociaux : l'acheteur vérifiera son pouvoir d'engager l'entreprise.",
                user.display_name()
            ));
        }
        let kind = "Extrait d'immatriculation au RCS";
        self.pieces.push(Piece {
            valid_from: k["date_extrait"].as_str().map(String::from),
            ..piece("extrait_rcs", "obtenue", "Infogreffe", kind)
        });
        Some(is_officer)
    }

    /// URSSAF's attestation de vigilance (manual review `04501`: available in two days).
    pub(super) fn vigilance(&mut self, answer: HubAnswer, accept_refused: bool) {
        match answer {
            Ok((200, body)) => {
                let d = &body["data"];
                let refused = d["entity_status"]["code"] != "ok" && !accept_refused;
                if refused {
                    let why = d["entity_status"]["description"].as_str().unwrap_or("");
                    self.flag(
                        Level::Rejet,
                        format!("Attestation de vigilance refusée par l'Urssaf : {why}"),
                    );
                }
                let status = if refused { "refusee" } else { "obtenue" };
                let label = d["entity_status"]["libelle"].as_str().unwrap_or("");
                self.pieces.push(Piece {
                    document_url: d["document_url"].as_str().map(String::from),
                    valid_from: d["date_debut_validite"].as_str().map(String::from),
                    valid_until: d["date_fin_validite"].as_str().map(String::from),
                    ..piece("attestation_vigilance", status, "URSSAF", label)
                });
            }
            Ok((502, body)) if error_of(&body).0.as_deref() == Some("04501") => {
                self.flag(Level::AVerifier, "L'Urssaf analyse la situation de l'entreprise : l'attestation sera disponible sous deux jours (actualisez la candidature).");
                self.pieces.push(unavailable(
                    "attestation_vigilance",
                    "URSSAF",
                    Ok((502, body)),
                ));
            }
            Ok((404, body)) => {
                self.flag(Level::AVerifier, "Entreprise hors du périmètre de l'Urssaf (autre organisme de recouvrement) : l'attestation de vigilance est à fournir par l'entreprise.");
                self.pieces.push(unavailable(
                    "attestation_vigilance",
                    "URSSAF",
                    Ok((404, body)),
                ));
            }
            other => self
                .pieces
                .push(unavailable("attestation_vigilance", "URSSAF", other)),
        }
    }

    /// DGFiP's attestation de régularité fiscale (refused: `03003`).
    pub(super) fn fiscal(&mut self, answer: HubAnswer) {
        match answer {
            Ok((200, body)) => {
                let d = &body["data"];
                let label = "Attestation de régularité fiscale";
                self.pieces.push(Piece {
                    document_url: d["document_url"].as_str().map(String::from),
                    valid_from: d["date_delivrance_attestation"].as_str().map(String::from),
                    ..piece("attestation_fiscale", "obtenue", "DGFiP", label)
                });
            }
            Ok((404, body)) if error_of(&body).0.as_deref() == Some("03003") => {
                let (code, detail) = error_of(&body);
                self.flag(
                    Level::Rejet,
                    format!("Attestation fiscale refusée par la DGFiP : {detail}"),
                );
                self.pieces.push(Piece {
                    code,
                    ..piece("attestation_fiscale", "refusee", "DGFiP", detail)
                });
            }
            other => self
                .pieces
                .push(unavailable("attestation_fiscale", "DGFiP", other)),
        }
    }

    /// MSA's compliance, `None` when the activity is not agricultural (not asked).
    pub(super) fn msa(&mut self, answer: Option<HubAnswer>) {
        let Some(answer) = answer else {
            let why = "Activité non agricole : la MSA n'est pas interrogée";
            self.pieces
                .push(piece("conformite_msa", "non_applicable", "MSA", why));
            return;
        };
        match answer {
            Ok((200, body)) => {
                let status = body["data"]["status"].as_str().unwrap_or("");
                let ok = status == "up_to_date";
                if !ok {
                    let level = if status == "outdated" {
                        Level::Rejet
                    } else {
                        Level::AVerifier
                    };
                    self.flag(level, format!("Cotisations MSA : {status}"));
                }
                let state = if ok { "obtenue" } else { "refusee" };
                let detail = format!("Conformité des cotisations : {status}");
                self.pieces
                    .push(piece("conformite_msa", state, "MSA", detail));
            }
            other => self
                .pieces
                .push(unavailable("conformite_msa", "MSA", other)),
        }
    }

    /// The missing pieces' findings, then the status: any rejection rejects, a source that did
    /// not answer leaves it incomplete, anything to check leaves it to the buyer.
    pub(super) fn finish(mut self) -> (Status, Value, Vec<Piece>, Vec<Finding>) {
        for p in &self.pieces {
            // A certificate the hub could not find: the company will have to provide it.
            let providable = matches!(
                p.kind.as_str(),
                "attestation_fiscale" | "conformite_msa" | "siege_social"
            );
            if p.status == "introuvable" && providable {
                self.findings.push(finding(
                    Level::AVerifier,
                    format!(
                        "Pièce « {} » introuvable auprès de {} ({}) : l'entreprise la fournira.",
                        p.kind, p.source, p.detail
                    ),
                ));
            }
            if p.status == "indisponible" && p.code.as_deref() != Some("04501") {
                self.findings.push(finding(Level::Indisponible, format!(
                    "{} ne répond pas ({}) : votre candidature est enregistrée ; actualisez-la plus tard pour obtenir la pièce « {} ».",
                    p.source, p.detail, p.kind
                )));
            }
        }
        let any = |level: Level| self.findings.iter().any(|f| f.level == level);
        let status = if any(Level::Rejet) {
            Status::Rejetee
        } else if any(Level::Indisponible) {
            Status::Incomplete
        } else if any(Level::AVerifier) {
            Status::AVerifier
        } else {
            Status::Complete
        };
        (status, self.entreprise, self.pieces, self.findings)
    }
}

/// Whether an officer of the extract is the signed-in applicant: same family name and first
/// given name, compared as registries compare them.
fn same_person(officer: &Value, user: &SignedIn) -> bool {
    let first = |v: &Value| norm(v.as_str().unwrap_or("").split(' ').next().unwrap_or(""));
    norm(officer["nom"].as_str().unwrap_or(""))
        == norm(user.userinfo["family_name"].as_str().unwrap_or(""))
        && first(&officer["prenom"]) == first(&user.userinfo["given_name"])
}
