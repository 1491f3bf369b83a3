//! A company: legal form, activity, establishments, register entry, statuses and officers.

use chrono::Datelike;

use super::*;

/// What a company generator needs to know; `None` fields are drawn at random.
#[derive(Default)]
pub(crate) struct CompanySpec {
    pub siren: Option<String>,
    /// The head office's SIRET (it starts with `siren`).
    pub head_office_siret: Option<String>,
    pub sigle: Option<String>,
    pub name: Option<String>,
    pub owner: Option<CitizenId>,
    pub legal_form: Option<String>,
    pub naf: Option<String>,
    pub headcount_band: Option<String>,
    pub diffusion: Option<Diffusion>,
    pub created: Option<NaiveDate>,
    /// `Some(None)`: explicitly active.
    pub ceased: Option<Option<NaiveDate>>,
    pub establishments: Option<u32>,
    pub officers: Option<Vec<CitizenId>>,
    pub urssaf: Option<UrssafStatus>,
    pub fiscal: Option<FiscalStatus>,
    pub msa: Option<MsaStatus>,
    pub turnover: Option<Vec<u64>>,
    pub commune: Option<String>,
}

impl Builder {
    /// Adds a company; fields the spec leaves out are drawn from `rng`, always in the same order
    /// (legal form, activity, headcount, owner, name, diffusion, dates, establishments, register,
    /// statuses, turnover, officers) so that a seed gives the same company.
    ///
    /// Long: the draws in their fixed order; cut further, the order that keeps a seed's population
    /// unchanged would no longer read in one place.
    pub(crate) fn company(
        &mut self,
        rng: &mut Stream,
        mut spec: CompanySpec,
        persona: Option<String>,
    ) -> CompanyId {
        let id = self.companies.len() as CompanyId;
        let ry = i32::from(self.reference_year);
        let legal_form = spec
            .legal_form
            .take()
            .unwrap_or_else(|| random_legal_form(rng));
        let naf = spec
            .naf
            .take()
            .unwrap_or_else(|| random_naf(rng, &legal_form));
        let natural_person = legal_form == "1000";
        let headcount_band = spec
            .headcount_band
            .take()
            .unwrap_or_else(|| random_headcount_band(rng, natural_person || legal_form == "6540"));
        let siren = spec.siren.clone().unwrap_or_else(|| self.siren());
        let owner = if natural_person {
            spec.owner.or_else(|| self.random_adult(rng))
        } else {
            None
        };
        let name = spec.name.clone().unwrap_or_else(|| match owner {
            Some(o) => {
                let c = &self.citizens[o as usize];
                format!("{} {}", c.family_name, c.given_names)
            }
            None => company_name(rng, &legal_form, &naf),
        });
        let diffusion = spec
            .diffusion
            .unwrap_or_else(|| random_diffusion(rng, natural_person));
        let created = spec
            .created
            .unwrap_or_else(|| date_between(rng, 1960, ry - 1));
        let ceased = match spec.ceased {
            Some(c) => c,
            None => rng
                .chance(40)
                .then(|| date_between(rng, (created.year() + 1).min(ry - 1), ry - 1)),
        };
        let employees_mid = refs::headcount_band(&headcount_band)
            .map(|b| (b.2.unwrap_or(0) + b.3.unwrap_or(b.2.unwrap_or(0))) / 2)
            .unwrap_or(0);
        let dates = (created, ceased);
        let establishments = self.establishments(rng, &spec, &siren, &name, dates, employees_mid);
        let agricultural = refs::naf_is_agricultural(&naf);
        let registered = !matches!(legal_form.as_str(), "9220" | "7210")
            && (!natural_person || rng.chance(500))
            || spec.officers.is_some();
        let rcs =
            registered.then(|| rcs_entry(rng, &legal_form, &establishments[0].address, dates));
        let urssaf = spec.urssaf.unwrap_or_else(|| {
            let outside =
                ceased.is_some() || agricultural || (headcount_band == "NN" && rng.chance(600));
            random_urssaf(rng, outside)
        });
        let fiscal = spec
            .fiscal
            .unwrap_or_else(|| random_fiscal(rng, ceased.is_some()));
        let msa = spec.msa.or_else(|| agricultural.then(|| random_msa(rng)));
        let turnover = self.turnover(rng, spec.turnover.take(), employees_mid);
        let mut company = Company {
            sigle: spec.sigle.clone(),
            id,
            persona,
            siren,
            name,
            owner,
            legal_form,
            naf,
            headcount_band,
            diffusion,
            created,
            ceased,
            establishments,
            rcs,
            urssaf,
            fiscal,
            msa,
            turnover,
        };
        if let Some(rcs) = company.rcs.as_mut() {
            rcs.officers = self.officers(rng, &company.legal_form, spec.officers);
        }
        self.companies.push(company);
        id
    }

    /// The head office and the secondary establishments, with distinct NICs.
    fn establishments(
        &mut self,
        rng: &mut Stream,
        spec: &CompanySpec,
        siren: &str,
        name: &str,
        (created, ceased): (NaiveDate, Option<NaiveDate>),
        employees_mid: u32,
    ) -> Vec<Establishment> {
        let ry = i32::from(self.reference_year);
        let secondary = spec
            .establishments
            .map(|n| n.saturating_sub(1))
            .unwrap_or_else(|| match employees_mid {
                0..=9 => rng.weighted(&[(85, 0), (15, 1)]),
                10..=49 => rng.weighted(&[(50, 0), (35, 1), (15, 2)]),
                _ => rng.range(1, 4),
            });
        let mut establishments = Vec::new();
        let mut used_nic = HashSet::new();
        for i in 0..=secondary {
            let head = i == 0;
            let mut nic_body = if head {
                rng.range(1, 3) as u16
            } else {
                rng.range(10, 9999) as u16
            };
            // A known head office keeps its NIC, and no other establishment takes it.
            let known = spec.head_office_siret.as_ref().filter(|_| head);
            if let Some(known) = known {
                nic_body = known[9..13].parse().unwrap_or(nic_body);
            }
            while !used_nic.insert(nic_body) {
                nic_body = nic_body % 9999 + 1;
            }
            let siret = match known {
                Some(known) => known.clone(),
                None => ids::siret_from(siren, nic_body),
            };
            let commune = spec.commune.as_deref().filter(|_| head);
            let address = self.address(rng, commune);
            let est_created = if head {
                created
            } else {
                date_between(rng, created.year(), ry - 1).max(created)
            };
            establishments.push(Establishment {
                siret,
                head_office: head,
                address,
                created: est_created,
                closed: ceased,
                sign: (!head && rng.chance(300)).then(|| name.to_string()),
            });
        }
        establishments
    }

    /// Three years of turnover ending with reference year − 1, given or drawn around the headcount.
    fn turnover(
        &self,
        rng: &mut Stream,
        given: Option<Vec<u64>>,
        employees_mid: u32,
    ) -> Vec<(u16, u64)> {
        let first_year = self.reference_year - 3;
        if let Some(t) = given {
            return t
                .into_iter()
                .enumerate()
                .map(|(i, amount)| (first_year + i as u16, amount))
                .collect();
        }
        let base = u64::from(employees_mid.max(1)) * u64::from(rng.range(60, 140)) * 1000;
        (0..3u16)
            .map(|i| {
                let drift = u64::from(rng.range(900, 1150));
                let amount = base * drift / 1000 * (100 + u64::from(i) * 3) / 100;
                (first_year + i, amount)
            })
            .collect()
    }

    /// Officers: the persona's, or random adults in the roles the legal form calls for.
    fn officers(
        &self,
        rng: &mut Stream,
        legal_form: &str,
        given: Option<Vec<CitizenId>>,
    ) -> Vec<Officer> {
        let roles: &[&str] = match legal_form {
            "5710" | "5720" => &["Président", "Directeur général"],
            "5599" => &[
                "Président du conseil d'administration",
                "Directeur général",
                "Administrateur",
            ],
            "1000" => &[],
            _ => &["Gérant", "Gérant"],
        };
        if let Some(list) = given {
            return list
                .into_iter()
                .enumerate()
                .map(|(i, citizen)| Officer {
                    citizen,
                    role: roles.get(i).copied().unwrap_or("Gérant").to_string(),
                })
                .collect();
        }
        let n = if roles.is_empty() {
            0
        } else {
            rng.range(1, roles.len() as u32) as usize
        };
        let mut officers = Vec::new();
        for role in roles.iter().take(n) {
            if let Some(citizen) = random_adult_in(rng, &self.citizens) {
                officers.push(Officer {
                    citizen,
                    role: role.to_string(),
                });
            }
        }
        officers
    }
}

fn random_legal_form(rng: &mut Stream) -> String {
    rng.weighted(&[
        (25, "5710"),
        (20, "5499"),
        (10, "5498"),
        (12, "5720"),
        (18, "1000"),
        (3, "5599"),
        (1, "5202"),
        (2, "5485"),
        (5, "6540"),
        (2, "6533"),
        (2, "9220"),
    ])
    .to_string()
}

fn random_naf(rng: &mut Stream, legal_form: &str) -> String {
    match legal_form {
        "6533" => *rng.pick(&["01.11Z", "01.21Z", "01.41Z"]),
        "6540" => "68.20B",
        "5485" => "86.21Z",
        _ => {
            // Postal and public-administration activities belong to their personas only.
            let non_agri: Vec<&str> = refs::NAF
                .iter()
                .filter(|n| !n.2 && !matches!(n.0, "53.10Z" | "84.11Z"))
                .map(|n| n.0)
                .collect();
            if rng.chance(40) {
                *rng.pick(&["01.21Z", "02.20Z", "81.30Z"])
            } else {
                *rng.pick(&non_agri)
            }
        }
    }
    .to_string()
}

/// INSEE's headcount band; sole traders and property companies are mostly without employees.
fn random_headcount_band(rng: &mut Stream, small: bool) -> String {
    let band = if small {
        rng.weighted(&[(50, "NN"), (30, "00"), (20, "01")])
    } else {
        rng.weighted(&[
            (10, "NN"),
            (15, "00"),
            (20, "01"),
            (15, "02"),
            (12, "03"),
            (10, "11"),
            (8, "12"),
            (4, "21"),
            (3, "22"),
            (1, "31"),
            (1, "32"),
            (1, "41"),
        ])
    };
    band.to_string()
}

fn random_diffusion(rng: &mut Stream, natural_person: bool) -> Diffusion {
    if natural_person {
        rng.weighted(&[
            (68, Diffusion::Diffusible),
            (30, Diffusion::Partial),
            (2, Diffusion::NonDiffusible),
        ])
    } else {
        rng.weighted(&[(98, Diffusion::Diffusible), (2, Diffusion::NonDiffusible)])
    }
}

/// The register entry at the head office's greffe (Alsace-Moselle: the tribunal judiciaire).
fn rcs_entry(
    rng: &mut Stream,
    legal_form: &str,
    head: &Address,
    (created, ceased): (NaiveDate, Option<NaiveDate>),
) -> RcsEntry {
    let dept = &head.commune_cog[..2];
    let (greffe_code, greffe_name) = if matches!(dept, "57" | "67" | "68") {
        (
            format!("{dept}02"),
            format!("TRIBUNAL JUDICIAIRE {}", of_city(&head.city)),
        )
    } else {
        (
            format!("{dept}01"),
            format!("GREFFE DU TRIBUNAL DE COMMERCE {}", of_city(&head.city)),
        )
    };
    let capital = match legal_form {
        "1000" => 0,
        "5599" => u64::from(rng.range(37, 5000)) * 1000,
        _ => u64::from(*rng.pick(&[
            1u32, 100, 1000, 1500, 5000, 7500, 10_000, 15_000, 50_000, 100_000,
        ])),
    };
    RcsEntry {
        greffe_code,
        greffe_name,
        registered: created,
        struck_off: ceased,
        capital,
        officers: Vec::new(),
    }
}

fn random_urssaf(rng: &mut Stream, outside_perimeter: bool) -> UrssafStatus {
    if outside_perimeter {
        return UrssafStatus::OutsidePerimeter;
    }
    rng.weighted(&[
        (85, UrssafStatus::UpToDate),
        (6, UrssafStatus::Refused),
        (5, UrssafStatus::OutsidePerimeter),
        (4, UrssafStatus::ManualReview),
    ])
}

fn random_fiscal(rng: &mut Stream, ceased: bool) -> FiscalStatus {
    if ceased {
        return FiscalStatus::OutsidePerimeter;
    }
    rng.weighted(&[
        (90, FiscalStatus::Compliant),
        (7, FiscalStatus::NonCompliant),
        (3, FiscalStatus::OutsidePerimeter),
    ])
}

fn random_msa(rng: &mut Stream) -> MsaStatus {
    rng.weighted(&[
        (85, MsaStatus::UpToDate),
        (10, MsaStatus::Outdated),
        (5, MsaStatus::UnderInvestigation),
    ])
}

fn company_name(rng: &mut Stream, legal_form: &str, naf: &str) -> String {
    let n = rng.last_name();
    let patterns: &[&str] = match (legal_form, &naf[..2]) {
        ("6540", _) => &["SCI {N}", "SCI DU {N}", "SCI LES JARDINS {N}"],
        ("6533", _) => &["GAEC DU DOMAINE {N}", "GAEC {N}", "GAEC DES TERRES {N}"],
        ("9220", _) => &["ASSOCIATION {N}", "AMICALE {N}"],
        (_, "41" | "42" | "43") => &[
            "BATIMENTS {N}",
            "{N} CONSTRUCTION",
            "ENTREPRISE {N}",
            "{N} ET FILS",
            "{N} BTP",
            "MACONNERIE {N}",
        ],
        (_, "62" | "70" | "71") => &[
            "{N} INFORMATIQUE",
            "{N} CONSEIL",
            "SOLUTIONS {N}",
            "{N} INGENIERIE",
        ],
        (_, "56") => &["RESTAURANT {N}", "CHEZ {N}", "{N} RESTAURATION"],
        (_, "49") => &["TRANSPORTS {N}", "{N} LOGISTIQUE"],
        (_, "01" | "02" | "81") => &["DOMAINE {N}", "{N} PAYSAGES", "EARL {N}"],
        _ => &[
            "ETABLISSEMENTS {N}",
            "{N} ET ASSOCIES",
            "SOCIETE {N}",
            "{N} SERVICES",
        ],
    };
    rng.pick(patterns).replace("{N}", &n)
}
