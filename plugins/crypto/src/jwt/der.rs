//! Just enough DER to tell which key a PEM holds: read tag-length-value elements, and wrap a
//! SEC1 EC key into PKCS#8.

/// One DER element: its tag byte and its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
}

pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const OID: u8 = 0x06;
pub const SEQUENCE: u8 = 0x30;
/// `[0]`, constructed (a SEC1 key's curve, a certificate's version).
pub const CONTEXT_0: u8 = 0xa0;

/// The element at the start of `input` and what follows it. Only definite lengths (DER).
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (digits, after) = rest.split_at(count);
        rest = after;
        digits
            .iter()
            .fold(0usize, |n, &d| (n << 8) | usize::from(d))
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((Tlv { tag, content }, rest))
}

/// The one element `input` holds (nothing may follow it).
pub fn single(input: &[u8]) -> Option<Tlv<'_>> {
    match read(input)? {
        (tlv, []) => Some(tlv),
        _ => None,
    }
}

/// The elements inside a constructed element's contents.
pub fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tlv, after) = read(rest)?;
        out.push(tlv);
        rest = after;
    }
    Some(out)
}

/// The encoding of one element.
pub fn write(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let digits: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&d| d == 0)
            .collect();
        out.push(0x80 | digits.len() as u8);
        out.extend(digits);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let long = write(OCTET_STRING, &[7u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tlv, rest) = read(&long).expect("long form");
        assert_eq!(
            (tlv.tag, tlv.content.len(), rest.len()),
            (OCTET_STRING, 300, 0)
        );
        let seq = write(
            SEQUENCE,
            &[write(INTEGER, &[1]), write(OID, &[0x2b, 0x65, 0x70])].concat(),
        );
        let inner = children(single(&seq).expect("sequence").content).expect("children");
        assert_eq!(inner.len(), 2);
        assert_eq!(inner[1].content, &[0x2b, 0x65, 0x70]);
    }

    #[test]
    fn refuses_truncated_and_indefinite() {
        assert!(read(&[0x30, 0x05, 0x01]).is_none());
        assert!(read(&[0x30, 0x80, 0x00, 0x00]).is_none());
        assert!(read(&[0x30]).is_none());
        assert!(single(&[0x02, 0x01, 0x01, 0x00]).is_none());
    }
}
