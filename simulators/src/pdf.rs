//! Certificates as real PDF documents (attestation de vigilance, attestation de régularité
//! fiscale, extrait Kbis), each with a verification code the issuing provider can check.
//!
//! Built with `pdf-writer` and the standard Helvetica fonts (WinAnsi encoding for French text),
//! so no font file ships with the bench.

use pdf_writer::types::{LineCapStyle, TextRenderingMode};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use sha2::{Digest, Sha256};

/// What a certificate says.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// Issuing body, printed in the header ("URSSAF", "Direction générale des Finances publiques").
    pub issuer: String,
    /// Document title ("Attestation de vigilance").
    pub title: String,
    /// Paragraph under the title.
    pub intro: String,
    /// Label / value lines.
    pub fields: Vec<(String, String)>,
    /// Verification code printed in a box, with how to check it.
    pub verification_code: String,
    /// How to check the document (verification code, URL).
    pub verification_hint: String,
    /// Small print at the bottom.
    pub footer: String,
}

/// A verification code: 15 characters from an unambiguous alphabet, derived from a party secret
/// and the document's content, so the issuer can recompute it instead of storing it.
///
/// ```
/// let a = simulators::pdf::verification_code(&[7; 32], &["418166096", "2026-10"]);
/// assert_eq!(a.len(), 15);
/// assert_eq!(a, simulators::pdf::verification_code(&[7; 32], &["418166096", "2026-10"]));
/// assert_ne!(a, simulators::pdf::verification_code(&[7; 32], &["418166096", "2026-11"]));
/// ```
pub fn verification_code(secret: &[u8; 32], parts: &[&str]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut h = Sha256::new().chain_update(secret);
    for p in parts {
        h.update((p.len() as u32).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()
        .iter()
        .take(15)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Encodes text for a standard font with WinAnsiEncoding; characters outside it become `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '’' => 0x92,
            '‘' => 0x91,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            'œ' => 0x9C,
            'Œ' => 0x8C,
            'Ÿ' => 0x9F,
            c if (c as u32) < 0x80 => c as u8,
            c if (0xA0..=0xFF).contains(&(c as u32)) => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Helvetica advance widths (per 1000 em) for ASCII, to wrap lines; accents take the base letter's.
fn text_width(text: &str, size: f32) -> f32 {
    let w: f32 = text
        .chars()
        .map(|c| {
            match deunicode::deunicode_char(c)
                .and_then(|s| s.chars().next())
                .unwrap_or('?')
            {
                'i' | 'j' | 'l' | '\'' | '.' | ',' | ':' | ';' | '!' | '|' => 222.0,
                ' ' | 'f' | 't' | 'I' | '/' | '(' | ')' | '-' => 278.0,
                'r' => 333.0,
                'm' | 'M' => 833.0,
                'w' | 'W' => 800.0,
                c if c.is_ascii_uppercase() => 667.0,
                c if c.is_ascii_digit() => 556.0,
                _ => 556.0,
            }
        })
        .sum();
    w * size / 1000.0
}

fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size) > width && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Renders a certificate as a one-page A4 PDF.
///
/// Long: one page drawn top to bottom, in the order its reader reads it.
pub fn render(cert: &Certificate) -> Vec<u8> {
    let (catalog, tree, page, content_id, regular, bold) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
        Ref::new(6),
    );
    let (regular_name, bold_name) = (Name(b"F1"), Name(b"F2"));
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .parent(tree)
        .contents(content_id);
    {
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        fonts.pair(regular_name, regular);
        fonts.pair(bold_name, bold);
    }
    p.finish();
    for (id, base) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    let mut c = Content::new();
    // Header band in the Republic's colours.
    for (i, (r, g, b)) in [(0.0, 0.0, 0.57), (1.0, 1.0, 1.0), (0.88, 0.0, 0.06)]
        .into_iter()
        .enumerate()
    {
        c.set_fill_rgb(r, g, b);
        c.rect(40.0 + i as f32 * 20.0, 780.0, 20.0, 30.0);
        c.fill_nonzero();
    }
    c.set_fill_rgb(0.0, 0.0, 0.0);
    let text = |c: &mut Content, font: Name, size: f32, x: f32, y: f32, s: &str| {
        c.begin_text();
        c.set_font(font, size);
        c.set_text_rendering_mode(TextRenderingMode::Fill);
        c.next_line(x, y);
        c.show(Str(&win_ansi(s)));
        c.end_text();
    };
    text(
        &mut c,
        bold_name,
        11.0,
        110.0,
        798.0,
        "RÉPUBLIQUE FRANÇAISE",
    );
    text(&mut c, regular_name, 10.0, 110.0, 784.0, &cert.issuer);
    text(&mut c, bold_name, 20.0, 40.0, 730.0, &cert.title);
    let mut y = 700.0;
    for line in wrap(&cert.intro, 10.5, 515.0) {
        text(&mut c, regular_name, 10.5, 40.0, y, &line);
        y -= 15.0;
    }
    y -= 12.0;
    for (label, value) in &cert.fields {
        text(&mut c, bold_name, 10.0, 40.0, y, label);
        let wrapped = wrap(value, 10.0, 330.0);
        for (i, line) in wrapped.iter().enumerate() {
            text(&mut c, regular_name, 10.0, 225.0, y - i as f32 * 13.0, line);
        }
        y -= 13.0 * wrapped.len().max(1) as f32 + 7.0;
    }
    // Verification box.
    y -= 10.0;
    c.set_stroke_rgb(0.0, 0.0, 0.57);
    c.set_line_width(1.2);
    c.set_line_cap(LineCapStyle::ButtCap);
    c.rect(40.0, y - 50.0, 515.0, 58.0);
    c.stroke();
    text(
        &mut c,
        bold_name,
        10.0,
        52.0,
        y - 10.0,
        "Code de vérification",
    );
    text(
        &mut c,
        bold_name,
        16.0,
        52.0,
        y - 32.0,
        &cert.verification_code,
    );
    for (i, line) in wrap(&cert.verification_hint, 8.5, 300.0).iter().enumerate() {
        text(
            &mut c,
            regular_name,
            8.5,
            250.0,
            y - 12.0 - i as f32 * 11.0,
            line,
        );
    }
    for (i, line) in wrap(&cert.footer, 8.0, 515.0).iter().enumerate() {
        text(
            &mut c,
            regular_name,
            8.0,
            40.0,
            60.0 - i as f32 * 10.0,
            line,
        );
    }
    // Content streams are a few kilobytes: stored uncompressed, no deflate dependency.
    pdf.stream(content_id, &c.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_parseable_pdf_with_the_text() {
        let cert = Certificate {
            issuer: "URSSAF".into(),
            title: "Attestation de vigilance".into(),
            intro: "L'Urssaf atteste que l'entreprise est à jour de ses obligations déclaratives et de paiement.".into(),
            fields: vec![("SIREN".into(), "418166096".into()), ("Raison sociale".into(), "BÂTIMENTS DUPONT — Œuvre".into())],
            verification_code: "ABCDEFGHJKLMNPQ".into(),
            verification_hint: "Vérifiez sur le service de vérification de l'Urssaf.".into(),
            footer: "Document simulé.".into(),
        };
        let bytes = render(&cert);
        assert!(bytes.starts_with(b"%PDF-1."));
        assert!(bytes.ends_with(b"%%EOF") || bytes.ends_with(b"%%EOF\n"));
        let body = String::from_utf8_lossy(&bytes);
        assert!(body.contains("/WinAnsiEncoding"));
        assert!(body.contains("ABCDEFGHJKLMNPQ"));
        // "à jour" encoded with one WinAnsi byte for "à" (pdf-writer writes such strings in hex).
        assert!(body.contains("E0206A6F7572"), "{body}");
    }

    #[test]
    fn verification_codes_depend_on_every_part() {
        let s = [1u8; 32];
        let a = verification_code(&s, &["a", "bc"]);
        assert_ne!(a, verification_code(&s, &["ab", "c"]));
        assert_ne!(a, verification_code(&[2u8; 32], &["a", "bc"]));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }
}
