//! The fee and its explanation: the PSU scale applied to what a data path brought (pure over
//! the family's figures), and which fields the nursery received.

use super::*;

/// An explained outcome.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Estimate {
    pub(super) creche: String,
    pub(super) voie: DataPath,
    /// `tarif_calcule`, `sans_dossier_caf_msa`, `identite_non_trouvee`, `service_indisponible`,
    /// `donnees_incompletes`.
    pub(super) issue: &'static str,
    pub(super) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tarif_horaire: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) facture_mensuelle: Option<String>,
    pub(super) heures_annuelles: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) calcul: Option<Value>,
    pub(super) explications: Vec<String>,
    /// Which party answered, and the top-level fields it sent (data minimisation, visible).
    pub(super) donnees_recues: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) identite: Option<Value>,
}

impl Estimate {
    pub(super) fn outcome(
        n: &NurseryConfig,
        hours: u32,
        issue: &'static str,
        message: String,
    ) -> Self {
        Estimate {
            creche: n.id.clone(),
            voie: n.data_path,
            issue,
            message,
            tarif_horaire: None,
            facture_mensuelle: None,
            heures_annuelles: hours,
            calcul: None,
            explications: Vec::new(),
            donnees_recues: Value::Null,
            identite: None,
        }
    }
}

pub(super) fn received(party: &str, data: &Value) -> Value {
    let fields: Vec<&String> = data
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    json!({"fournisseur": party, "champs": fields})
}

/// The fee for `family` and the sentences that explain it.
pub(super) fn priced(
    c: &Creche,
    n: &NurseryConfig,
    hours: u32,
    family: Family,
    resources_year: Option<i64>,
    source: &str,
) -> Estimate {
    let today = c.core.clock.now().date_naive();
    let mut family = family;
    if c.core.defects.has(Defect::CrecheIgnoresAeeh) {
        family.aeeh_children = 0;
    }
    let floorless;
    let bareme = if c.core.defects.has(Defect::CrecheIgnoresFloor) {
        let mut b = (*c.bareme).clone();
        for p in &mut b.planchers {
            p.monthly = 0.0;
        }
        floorless = b;
        &floorless
    } else {
        &*c.bareme
    };
    let Some(fee) = bareme.compute(&family, hours, today) else {
        return Estimate::outcome(
            n,
            hours,
            "donnees_incompletes",
            format!("Le barème configuré ne couvre pas la date du {today}."),
        );
    };
    let mut e = Estimate::outcome(
        n,
        hours,
        "tarif_calcule",
        format!(
            "Tarif horaire : {} ; facture mensuelle : {}.",
            euros(fee.hourly_cents),
            euros(fee.monthly_bill_cents)
        ),
    );
    e.explications = explain(&fee, source, resources_year);
    e.tarif_horaire = Some(decimal(fee.hourly_cents));
    e.facture_mensuelle = Some(decimal(fee.monthly_bill_cents));
    e.calcul = Some(json!({
        "ressources_annuelles": decimal(family.annual_resources_cents),
        "annee_ressources": resources_year,
        "ressources_mensuelles": decimal(fee.monthly_resources_cents),
        "plancher": decimal(fee.plancher_cents),
        "plafond": decimal(fee.plafond_cents),
        "borne": fee.bound,
        "ressources_retenues": decimal(fee.retained_resources_cents),
        "enfants_a_charge": fee.children,
        "enfants_aeeh": fee.aeeh_children,
        "ligne_bareme": fee.rate_row,
        "taux_effort": fee.taux_effort_percent(),
        "date_bareme": fee.date,
    }));
    e
}

pub(super) fn explain(fee: &Fee, source: &str, year: Option<i64>) -> Vec<String> {
    let mut out = vec![format!(
        "Ressources {}{} : {} par mois (ressources annuelles ÷ 12).",
        source,
        year.map(|y| format!(" de {y}")).unwrap_or_default(),
        euros(fee.monthly_resources_cents)
    )];
    out.push(match fee.bound {
        Bound::Plancher => format!(
            "Elles sont inférieures au plancher ({}) : le plancher s'applique.",
            euros(fee.plancher_cents)
        ),
        Bound::Plafond => format!(
            "Elles dépassent le plafond ({}) : le plafond s'applique.",
            euros(fee.plafond_cents)
        ),
        Bound::None => format!(
            "Elles sont entre le plancher ({}) et le plafond ({}).",
            euros(fee.plancher_cents),
            euros(fee.plafond_cents)
        ),
    });
    if fee.aeeh_children > 0 {
        out.push(format!(
            "{} enfant(s) à charge, dont {} bénéficiaire(s) de l'AEEH : le taux d'effort applicable est celui d'une famille de {} enfants.",
            fee.children, fee.aeeh_children, fee.rate_row
        ));
    } else {
        out.push(format!("{} enfant(s) à charge.", fee.children));
    }
    out.push(format!(
        "Taux d'effort horaire : {} → {} de l'heure.",
        fee.taux_effort_percent(),
        euros(fee.hourly_cents)
    ));
    out.push(format!(
        "Mensualisation : {} × {} heures par an ÷ 12 = {} par mois.",
        euros(fee.hourly_cents),
        fee.annual_hours,
        euros(fee.monthly_bill_cents)
    ));
    out
}
