//! Keys that lost their PEM shape on the way to the script, recognised so they are refused
//! rather than taken for an HMAC secret (see [`super::keys`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The shortest base64 text checked for a key's body: the smallest key DER (an Ed25519 public
/// key, 44 bytes) is 60 base64 characters.
const MIN_BODY: usize = 60;

/// Why `text` (a would-be secret, trimmed) is a PEM key in disguise, if it is one: a
/// `BEGIN ... KEY` or `BEGIN CERTIFICATE` line without PEM's exact five dashes, or only the
/// base64 body of a key (which `is_der_key` recognises once decoded).
pub fn pem_lookalike(text: &[u8], is_der_key: fn(&[u8]) -> bool) -> Option<String> {
    if let Some(line) = armor_line(text) {
        return Some(format!(
            "the key looks like a PEM key, but '{line}' is not PEM's '-----BEGIN <type>-----' \
             line (exactly five dashes each side, the key on the lines after it); a PEM-looking \
             text is never used as an HMAC secret"
        ));
    }
    if is_base64_body(text, is_der_key) {
        return Some(
            "the key looks like the base64 body of a PEM key without its -----BEGIN and \
             -----END lines: put them back (e.g. -----BEGIN PRIVATE KEY----- ... \
             -----END PRIVATE KEY-----); a PEM-looking text is never used as an HMAC secret"
                .to_owned(),
        );
    }
    None
}

/// The PEM armor `text` has in a mangled form, if any (`----BEGIN RSA PRIVATE KEY----`,
/// `BEGIN PUBLIC KEY`, with the key's body on the same line or not): the word BEGIN, then a
/// type ending in KEY or CERTIFICATE in capitals, with dashes (or nothing) on either side. Only
/// the armor is returned, never the key material beside it.
fn armor_line(text: &[u8]) -> Option<String> {
    text.split(|b| *b == b'\n').find_map(armor_in)
}

fn armor_in(line: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(found) = find(&line[from..], b"BEGIN ") {
        let at = from + found;
        from = at + 1;
        let before = line[..at].trim_ascii_end();
        let dashes_before = before.iter().rev().take_while(|b| **b == b'-').count();
        let after = &line[at + 6..];
        let kind_end = after
            .iter()
            .position(|b| *b == b'-' || *b == b'\r')
            .unwrap_or(after.len());
        let kind = after[..kind_end].trim_ascii();
        let rest = &after[kind_end..];
        let dashes_after = rest.iter().take_while(|b| **b == b'-').count();
        let typed = kind.ends_with(b"KEY") || kind.ends_with(b"CERTIFICATE");
        let capitals = kind
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b' ');
        let framed_before = dashes_before >= 2 || before.is_empty();
        let framed_after = dashes_after >= 2 || rest.trim_ascii().is_empty();
        if typed && capitals && framed_before && framed_after {
            let start = before.len() - dashes_before;
            let end = at + 6 + kind_end + dashes_after;
            return Some(String::from_utf8_lossy(&line[start..end]).into_owned());
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `text` is base64 (line breaks allowed) whose bytes are a key's DER.
fn is_base64_body(text: &[u8], is_der_key: fn(&[u8]) -> bool) -> bool {
    let compact: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.len() < MIN_BODY
        || !compact
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return false;
    }
    STANDARD.decode(&compact).is_ok_and(|der| is_der_key(&der))
}

/// Whether a PEM text's line breaks were escaped: it holds the two characters `\n` and no
/// line break between its `-----BEGIN` and `-----END` lines.
pub fn escaped_newlines(text: &[u8]) -> bool {
    let Some(begin) = text.windows(10).position(|w| w == b"-----BEGIN") else {
        return false;
    };
    let body = &text[begin..];
    let end = body
        .windows(8)
        .position(|w| w == b"-----END")
        .unwrap_or(body.len());
    let body = &body[..end];
    body.windows(2).any(|w| w == b"\\n") && !body.contains(&b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: &[u8]) -> bool {
        false
    }

    #[test]
    fn mangled_armor_lines_are_recognised() {
        for (text, armor) in [
            (
                "----BEGIN RSA PRIVATE KEY----\nMIIE\n----END RSA PRIVATE KEY----",
                "'----BEGIN RSA PRIVATE KEY----'",
            ),
            ("BEGIN PRIVATE KEY\nMIIE", "'BEGIN PRIVATE KEY'"),
            (
                "------BEGIN PUBLIC KEY------ MIIBsecret",
                "'------BEGIN PUBLIC KEY------'",
            ),
            (
                "-----BEGIN CERTIFICATE -----\nMIIB",
                "'-----BEGIN CERTIFICATE -----'",
            ),
        ] {
            let why = pem_lookalike(text.as_bytes(), never).unwrap_or_default();
            assert!(why.contains("looks like a PEM key"), "{text}: {why}");
            assert!(why.contains(armor), "{text}: {why}");
            assert!(!why.contains("MIIB"), "key material in {why}");
        }
        for secret in [
            "correct horse battery staple",
            "begin private key",
            "BEGIN the KEY",
            "-----BEGIN",
            "s3cr3t-----BEGIN-ish",
        ] {
            assert_eq!(pem_lookalike(secret.as_bytes(), never), None, "{secret}");
        }
    }

    #[test]
    fn base64_bodies_need_a_key_inside() {
        let body = STANDARD.encode([0x30u8; 60]);
        assert!(pem_lookalike(body.as_bytes(), |_| true).is_some());
        assert_eq!(pem_lookalike(body.as_bytes(), never), None);
        // short base64 secrets are never decoded
        assert_eq!(pem_lookalike(b"c2VjcmV0", |_| true), None);
    }

    #[test]
    fn escaped_line_breaks() {
        assert!(escaped_newlines(
            b"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n"
        ));
        assert!(!escaped_newlines(
            b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
        ));
        assert!(!escaped_newlines(b"secret\\n"));
    }
}
