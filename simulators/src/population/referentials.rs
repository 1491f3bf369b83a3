//! Small referentials the generator draws from: INSEE COG communes and countries, NAF codes,
//! catégories juridiques, headcount bands, given names by gender.
//!
//! Real codes, so that identifiers built from them (NIR digits 6–10 = COG commune) are plausible.

/// A commune: INSEE COG code, name, postal code.
pub struct Commune {
    /// INSEE COG code.
    pub cog: &'static str,
    /// Name, upper case.
    pub name: &'static str,
    /// Postal code of its main office.
    pub postal_code: &'static str,
}

macro_rules! communes {
    ($($cog:literal $name:literal $cp:literal),* $(,)?) => {
        &[$(Commune { cog: $cog, name: $name, postal_code: $cp }),*]
    };
}

/// Communes used as birthplaces and addresses (Paris and Lyon by arrondissement, as births are
/// registered there; Corsica 2A/2B; overseas departments).
pub const COMMUNES: &[Commune] = communes![
    "75111" "Paris 11e Arrondissement" "75011", "75113" "Paris 13e Arrondissement" "75013",
    "75115" "Paris 15e Arrondissement" "75015", "75118" "Paris 18e Arrondissement" "75018",
    "75107" "Paris 7e Arrondissement" "75007", "69381" "Lyon 1er Arrondissement" "69001",
    "69387" "Lyon 7e Arrondissement" "69007", "13201" "Marseille 1er Arrondissement" "13001",
    "31555" "Toulouse" "31000", "06088" "Nice" "06000", "44109" "Nantes" "44000",
    "67482" "Strasbourg" "67000", "34172" "Montpellier" "34000", "33063" "Bordeaux" "33000",
    "59350" "Lille" "59000", "35238" "Rennes" "35000", "51454" "Reims" "51100",
    "76351" "Le Havre" "76600", "42218" "Saint-Étienne" "42000", "83137" "Toulon" "83000",
    "38185" "Grenoble" "38000", "21231" "Dijon" "21000", "49007" "Angers" "49000",
    "30189" "Nîmes" "30000", "69266" "Villeurbanne" "69100", "63113" "Clermont-Ferrand" "63000",
    "72181" "Le Mans" "72000", "13001" "Aix-en-Provence" "13100", "29019" "Brest" "29200",
    "37261" "Tours" "37000", "80021" "Amiens" "80000", "87085" "Limoges" "87000",
    "74010" "Annecy" "74000", "66136" "Perpignan" "66000", "57463" "Metz" "57000",
    "25056" "Besançon" "25000", "45234" "Orléans" "45000", "76540" "Rouen" "76000",
    "68224" "Mulhouse" "68100", "14118" "Caen" "14000", "54395" "Nancy" "54000",
    "2A004" "Ajaccio" "20000", "2B033" "Bastia" "20200", "08105" "Charleville-Mézières" "08000",
    "86194" "Poitiers" "86000", "64445" "Pau" "64000", "17300" "La Rochelle" "17000",
    "84007" "Avignon" "84000", "78646" "Versailles" "78000", "93066" "Saint-Denis" "93200",
    "93048" "Montreuil" "93100", "92012" "Boulogne-Billancourt" "92100", "92050" "Nanterre" "92000",
    "94028" "Créteil" "94000", "94080" "Vincennes" "94300", "95018" "Argenteuil" "95100",
    "97411" "Saint-Denis" "97400", "97209" "Fort-de-France" "97200", "97120" "Pointe-à-Pitre" "97110",
    "97302" "Cayenne" "97300",
];

/// Finds a commune of the table by COG code.
pub fn commune(cog: &str) -> Option<&'static Commune> {
    COMMUNES.iter().find(|c| c.cog == cog)
}

/// France's COG country code.
pub const FRANCE: &str = "99100";

/// Foreign birth countries (COG code, name).
pub const FOREIGN_COUNTRIES: &[(&str, &str)] = &[
    ("99109", "ALLEMAGNE"),
    ("99131", "BELGIQUE"),
    ("99127", "ITALIE"),
    ("99134", "ESPAGNE"),
    ("99139", "PORTUGAL"),
    ("99132", "ROYAUME-UNI"),
    ("99122", "POLOGNE"),
    ("99114", "ROUMANIE"),
    ("99350", "MAROC"),
    ("99351", "TUNISIE"),
    ("99352", "ALGERIE"),
    ("99401", "CANADA"),
    ("99404", "ETATS-UNIS"),
];

/// NAF rév. 2 activities in INSEE's dotted form, with labels; `true` marks agricultural
/// activities whose employers contribute to the MSA rather than the URSSAF.
pub const NAF: &[(&str, &str, bool)] = &[
    ("41.20A", "Construction de maisons individuelles", false),
    ("41.20B", "Construction d'autres bâtiments", false),
    ("42.11Z", "Construction de routes et autoroutes", false),
    (
        "43.21A",
        "Travaux d'installation électrique dans tous locaux",
        false,
    ),
    (
        "43.22A",
        "Travaux d'installation d'eau et de gaz en tous locaux",
        false,
    ),
    ("43.31Z", "Travaux de plâtrerie", false),
    ("43.32A", "Travaux de menuiserie bois et PVC", false),
    ("43.34Z", "Travaux de peinture et vitrerie", false),
    ("43.91B", "Travaux de couverture par éléments", false),
    (
        "43.99C",
        "Travaux de maçonnerie générale et gros œuvre de bâtiment",
        false,
    ),
    ("62.01Z", "Programmation informatique", false),
    (
        "62.02A",
        "Conseil en systèmes et logiciels informatiques",
        false,
    ),
    (
        "70.22Z",
        "Conseil pour les affaires et autres conseils de gestion",
        false,
    ),
    ("71.12B", "Ingénierie, études techniques", false),
    ("81.21Z", "Nettoyage courant des bâtiments", false),
    ("56.10A", "Restauration traditionnelle", false),
    ("56.29A", "Restauration collective sous contrat", false),
    ("49.41A", "Transports routiers de fret interurbains", false),
    ("47.11D", "Supermarchés", false),
    ("69.20Z", "Activités comptables", false),
    ("85.59A", "Formation continue d'adultes", false),
    ("86.21Z", "Activité des médecins généralistes", false),
    ("88.91A", "Accueil de jeunes enfants", false),
    (
        "68.20B",
        "Location de terrains et d'autres biens immobiliers",
        false,
    ),
    (
        "53.10Z",
        "Activités de poste dans le cadre d'une obligation de service universel",
        false,
    ),
    ("84.11Z", "Administration publique générale", false),
    (
        "01.11Z",
        "Culture de céréales (à l'exception du riz), de légumineuses et de graines oléagineuses",
        true,
    ),
    ("01.21Z", "Culture de la vigne", true),
    ("01.41Z", "Élevage de vaches laitières", true),
    ("02.20Z", "Exploitation forestière", true),
    ("81.30Z", "Services d'aménagement paysager", true),
];

/// NAF codes only personas use (the companies of the real hubs' staging data): labelled, never
/// drawn by the generator, so adding one leaves the random population as it is.
pub const PERSONA_ONLY_NAF: &[(&str, &str)] = &[
    ("49.10Z", "Transport ferroviaire interurbain de voyageurs"),
    ("88.99B", "Action sociale sans hébergement n.c.a."),
];

/// Label of a NAF code of the tables.
pub fn naf_label(code: &str) -> Option<&'static str> {
    NAF.iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, l, _)| *l)
        .or_else(|| {
            PERSONA_ONLY_NAF
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, l)| *l)
        })
}

/// Whether a NAF code is agricultural (MSA affiliation).
pub fn naf_is_agricultural(code: &str) -> bool {
    code.starts_with("01.") || code.starts_with("02.") || code == "81.30Z"
}

/// Catégories juridiques (INSEE level III codes) with labels.
pub const LEGAL_FORMS: &[(&str, &str)] = &[
    ("1000", "Entrepreneur individuel"),
    (
        "5499",
        "Société à responsabilité limitée (sans autre indication)",
    ),
    ("5498", "SARL unipersonnelle"),
    ("5710", "SAS, société par actions simplifiée"),
    (
        "5720",
        "Société par actions simplifiée à associé unique ou société par actions simplifiée unipersonnelle",
    ),
    ("5599", "SA à conseil d'administration (s.a.i.)"),
    ("7120", "Service central d'un ministère"),
    ("5202", "Société en nom collectif"),
    (
        "5485",
        "Société d'exercice libéral à responsabilité limitée",
    ),
    ("6540", "Société civile immobilière"),
    (
        "6533",
        "Groupement agricole d'exploitation en commun (GAEC)",
    ),
    ("9220", "Association déclarée"),
    ("9230", "Association déclarée, reconnue d'utilité publique"),
    ("7210", "Commune et commune nouvelle"),
];

/// Label of a catégorie juridique of the table.
pub fn legal_form_label(code: &str) -> Option<&'static str> {
    LEGAL_FORMS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

/// INSEE headcount bands (tranche d'effectif salarié): code, label, lower and upper bound.
pub const HEADCOUNT_BANDS: &[(&str, &str, Option<u32>, Option<u32>)] = &[
    ("NN", "Unité non employeuse", None, None),
    ("00", "0 salarié", Some(0), Some(0)),
    ("01", "1 ou 2 salariés", Some(1), Some(2)),
    ("02", "3 à 5 salariés", Some(3), Some(5)),
    ("03", "6 à 9 salariés", Some(6), Some(9)),
    ("11", "10 à 19 salariés", Some(10), Some(19)),
    ("12", "20 à 49 salariés", Some(20), Some(49)),
    ("21", "50 à 99 salariés", Some(50), Some(99)),
    ("22", "100 à 199 salariés", Some(100), Some(199)),
    ("31", "200 à 249 salariés", Some(200), Some(249)),
    ("32", "250 à 499 salariés", Some(250), Some(499)),
    ("41", "500 à 999 salariés", Some(500), Some(999)),
    ("42", "1 000 à 1 999 salariés", Some(1000), Some(1999)),
    ("51", "2 000 à 4 999 salariés", Some(2000), Some(4999)),
    ("52", "5 000 à 9 999 salariés", Some(5000), Some(9999)),
    ("53", "10 000 salariés et plus", Some(10000), None),
];

/// Looks a headcount band up by code.
pub fn headcount_band(
    code: &str,
) -> Option<&'static (&'static str, &'static str, Option<u32>, Option<u32>)> {
    HEADCOUNT_BANDS.iter().find(|b| b.0 == code)
}

/// French given names, by gender (fake's French list does not tell genders apart).
pub const FEMALE_GIVEN_NAMES: &[&str] = &[
    "Marie",
    "Jeanne",
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sarah",
    "Emma",
    "Louise",
    "Alice",
    "Juliette",
    "Anne",
    "Isabelle",
    "Nathalie",
    "Sophie",
    "Catherine",
    "Valérie",
    "Sandrine",
    "Christine",
    "Élodie",
    "Aurélie",
    "Céline",
    "Émilie",
    "Julie",
    "Claire",
    "Hélène",
    "Françoise",
    "Monique",
    "Sylvie",
    "Martine",
    "Brigitte",
    "Laura",
    "Pauline",
    "Mathilde",
    "Lucie",
    "Zoé",
    "Jade",
    "Lina",
    "Rose",
    "Anaïs",
    "Margaux",
    "Océane",
    "Stéphanie",
    "Virginie",
    "Agnès",
    "Bernadette",
    "Geneviève",
    "Danielle",
    "Yasmine",
];

/// See [`FEMALE_GIVEN_NAMES`].
pub const MALE_GIVEN_NAMES: &[&str] = &[
    "Jean",
    "Pierre",
    "Michel",
    "Thomas",
    "Nicolas",
    "Julien",
    "Antoine",
    "Alexandre",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Paul",
    "Philippe",
    "Alain",
    "Patrick",
    "François",
    "Christophe",
    "Stéphane",
    "Sébastien",
    "Laurent",
    "Olivier",
    "Éric",
    "David",
    "Frédéric",
    "Vincent",
    "Guillaume",
    "Maxime",
    "Romain",
    "Mathieu",
    "Benoît",
    "Jérôme",
    "Loïc",
    "René",
    "Gérard",
    "Bernard",
    "André",
    "Claude",
    "Yves",
    "Noah",
    "Adam",
    "Léo",
    "Raphaël",
    "Théo",
    "Nathan",
    "Mohamed",
    "Karim",
    "Samuel",
];
