//! French administrative identifiers and their check rules.
//!
//! Every identifier the population hands out passes the same check the real systems apply;
//! the providers use the `is_valid_*` functions to reject bad input before any lookup.

/// Luhn (mod 10) check over a string of ASCII digits: the rule INSEE applies to SIREN and SIRET.
pub fn luhn_valid(digits: &str) -> bool {
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && luhn_sum(digits) % 10 == 0
}

fn luhn_sum(digits: &str) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum()
}

/// The digit to append to `digits` so that the whole passes Luhn.
pub fn luhn_check_digit(digits: &str) -> u8 {
    let with_zero = format!("{digits}0");
    ((10 - luhn_sum(&with_zero) % 10) % 10) as u8
}

/// SIREN: 9 digits passing Luhn.
///
/// ```
/// use simulators::population::ids::is_valid_siren;
/// assert!(is_valid_siren("418166096"));
/// assert!(!is_valid_siren("418166097"));
/// ```
pub fn is_valid_siren(s: &str) -> bool {
    s.len() == 9 && luhn_valid(s)
}

/// SIREN of La Poste, whose establishments are too many for the NIC to keep Luhn.
pub const LA_POSTE_SIREN: &str = "356000000";

/// SIRET: 14 digits passing Luhn, or a La Poste SIRET whose digit sum is a multiple of 5.
///
/// ```
/// use simulators::population::ids::is_valid_siret;
/// assert!(is_valid_siret("30613890001294"));
/// assert!(is_valid_siret("35600000000042")); // La Poste rule: digit sum 20
/// assert!(!is_valid_siret("30613890001295"));
/// ```
pub fn is_valid_siret(s: &str) -> bool {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if s.starts_with(LA_POSTE_SIREN) && s != "35600000000000" {
        let sum: u32 = s.bytes().map(|b| u32::from(b - b'0')).sum();
        return sum % 5 == 0 || luhn_valid(s);
    }
    luhn_valid(s)
}

/// Builds a SIREN from an 8-digit body.
pub fn siren_from_body(body: u32) -> String {
    let body = format!("{:08}", body % 100_000_000);
    let key = luhn_check_digit(&body);
    format!("{body}{key}")
}

/// Builds a SIRET from a SIREN and a 4-digit NIC body (the fifth NIC digit is the key).
pub fn siret_from(siren: &str, nic_body: u16) -> String {
    if siren == LA_POSTE_SIREN {
        // La Poste: last digit chosen so that the digit sum is a multiple of 5.
        let body = format!("{siren}{:04}", nic_body % 10_000);
        let sum: u32 = body.bytes().map(|b| u32::from(b - b'0')).sum();
        let key = (5 - sum % 5) % 5;
        return format!("{body}{key}");
    }
    let body = format!("{siren}{:04}", nic_body % 10_000);
    let key = luhn_check_digit(&body);
    format!("{body}{key}")
}

/// NIR (numéro d'inscription au répertoire): 13 characters + 2-digit key,
/// key = 97 − (number mod 97) with Corsica's 2A → 19 and 2B → 18.
///
/// ```
/// use simulators::population::ids::{nir_key, is_valid_nir};
/// let body = "2820819398814"; // sex, year, month, place, order
/// let nir = format!("{body}{:02}", nir_key(body).unwrap());
/// assert!(is_valid_nir(&nir));
/// ```
pub fn nir_key(body13: &str) -> Option<u8> {
    nir_number(body13).map(|n| (97 - n % 97) as u8)
}

/// The NIR body as a number (2A → 19, 2B → 18), without allocating.
fn nir_number(body13: &str) -> Option<u64> {
    let b = body13.as_bytes();
    if b.len() != 13 {
        return None;
    }
    let mut n = 0u64;
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            // Corsica's letters sit in the department (positions 6–7).
            (b'2', Some(b'A')) if i == 5 => n = n * 100 + 19,
            (b'2', Some(b'B')) if i == 5 => n = n * 100 + 18,
            (d @ b'0'..=b'9', _) => {
                n = n * 10 + u64::from(d - b'0');
                i += 1;
                continue;
            }
            _ => return None,
        }
        i += 2;
    }
    Some(n)
}

/// A NIR as a compact integer key (unique: Corsica is told apart from department 19/18).
pub fn nir_index_key(nir: &str) -> Option<u64> {
    let corsica = u64::from(
        nir.as_bytes()
            .get(6)
            .is_some_and(|b| b.is_ascii_alphabetic()),
    );
    let n = nir_number(nir.get(..13)?)?;
    let key: u64 = nir.get(13..)?.parse().ok()?;
    Some((n * 100 + key) * 2 + corsica)
}

/// Checks a 15-character NIR against its key.
pub fn is_valid_nir(nir: &str) -> bool {
    if nir.len() != 15 || !nir.is_ascii() {
        return false;
    }
    let (body, key) = nir.split_at(13);
    match (nir_key(body), key.parse::<u8>()) {
        (Some(expected), Ok(k)) => expected == k && key.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// Numéro fiscal (SPI): 13 digits, first digit 0–3, last three = first ten mod 511.
///
/// ```
/// use simulators::population::ids::is_valid_numero_fiscal;
/// assert!(is_valid_numero_fiscal("3023217600053"));
/// assert!(!is_valid_numero_fiscal("3023217600054"));
/// ```
pub fn is_valid_numero_fiscal(s: &str) -> bool {
    if s.len() != 13 || !s.bytes().all(|b| b.is_ascii_digit()) || s.as_bytes()[0] > b'3' {
        return false;
    }
    let head: u64 = s[..10].parse().unwrap_or(u64::MAX);
    let key: u64 = s[10..].parse().unwrap_or(u64::MAX);
    head % 511 == key
}

/// Builds a numéro fiscal from its first ten digits (the first must be 0–3).
pub fn numero_fiscal_from_head(head: u64) -> String {
    let head = head % 4_000_000_000;
    format!("{head:010}{:03}", head % 511)
}

/// A bijection of `0..modulus` used to spread sequential indexes over an identifier space
/// without collisions (multiplier coprime with the modulus).
pub(crate) fn spread(index: u64, multiplier: u64, offset: u64, modulus: u64) -> u64 {
    (index.wrapping_mul(multiplier).wrapping_add(offset)) % modulus
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_identifiers() {
        assert!(is_valid_siren("552049447")); // SNCF
        assert!(is_valid_siren("130025265")); // DINUM
        assert!(!is_valid_siren("12345678"));
        assert!(!is_valid_siren("12345678a"));
        assert!(is_valid_siret("13002526500013"));
        assert!(!is_valid_siret("1300252650001"));
        assert!(is_valid_numero_fiscal("3023217600053"));
        assert!(!is_valid_numero_fiscal("5023217600053"));
        // A documented NIR example: 2 55 08 2A 004 001, key computed with 2A → 19.
        let body = "255082A004001";
        let key = nir_key(body).unwrap();
        let n: u64 = "2550819004001".parse().unwrap();
        assert_eq!(u64::from(key), 97 - n % 97);
        assert!(is_valid_nir(&format!("{body}{key:02}")));
        assert!(!is_valid_nir(&format!("{body}{:02}", (key + 1) % 97)));
    }

    #[test]
    fn la_poste_rule() {
        for nic in [0u16, 1, 42, 9999] {
            let s = siret_from(LA_POSTE_SIREN, nic);
            assert!(is_valid_siret(&s), "{s}");
            let sum: u32 = s.bytes().map(|b| u32::from(b - b'0')).sum();
            assert_eq!(sum % 5, 0);
        }
    }

    proptest! {
        #[test]
        fn generated_sirens_and_sirets_pass(body in 0u32..100_000_000, nic in 0u16..10_000) {
            let siren = siren_from_body(body);
            prop_assert!(is_valid_siren(&siren));
            prop_assert!(is_valid_siret(&siret_from(&siren, nic)));
        }

        #[test]
        fn one_changed_digit_breaks_luhn(body in 0u32..100_000_000, pos in 0usize..9, delta in 1u8..10) {
            let siren = siren_from_body(body);
            let mut bytes = siren.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            prop_assert!(!is_valid_siren(std::str::from_utf8(&bytes).unwrap()));
        }

        #[test]
        fn generated_numeros_fiscaux_pass(head in 0u64..4_000_000_000) {
            prop_assert!(is_valid_numero_fiscal(&numero_fiscal_from_head(head)));
        }

        #[test]
        fn generated_nirs_pass(sex in 1u8..3, yy in 0u8..100, mm in 1u8..13, place in prop::sample::select(vec!["75111", "2A004", "2B033", "97411", "99351"]), order in 1u16..1000) {
            let body = format!("{sex}{yy:02}{mm:02}{place}{order:03}");
            let nir = format!("{body}{:02}", nir_key(&body).unwrap());
            prop_assert!(is_valid_nir(&nir));
        }
    }
}
