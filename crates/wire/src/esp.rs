//! ESP (RFC 4303): the header (SPI, sequence number) in front of opaque ciphertext, and
//! the trailer of a decrypted payload (padding, pad length, next header). UDP-encapsulated
//! ESP (RFC 3948) is told apart from IKE on port 4500 by its non-zero SPI
//! ([`crate::ikev2::classify_udp4500`]). Encryption and integrity are `mobstrap-crypto`'s.

use crate::codec::Writer;
use crate::dissect::Node;
use crate::{Error, ErrorKind, Reader, Result};

const P: &str = "esp";

/// SPI and Sequence Number.
pub const HEADER_LEN: usize = 8;

/// A checked view of an ESP packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer holding at least the 8-byte header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::truncated(P, "ESP.header"));
        }
        Ok(Packet { buffer })
    }

    fn word(&self, at: usize) -> u32 {
        match self.buffer.as_ref().get(at..at + 4) {
            Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        }
    }

    pub fn spi(&self) -> u32 {
        self.word(0)
    }
    pub fn sequence(&self) -> u32 {
        self.word(4)
    }
    /// IV | ciphertext | ICV.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

/// An ESP packet: header and the opaque rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Esp<'a> {
    /// Never 0 (RFC 4303 §2.1 reserves it; on UDP 4500 it is the Non-ESP Marker).
    pub spi: u32,
    /// Low 32 bits of the sequence number.
    pub sequence: u32,
    /// IV | encrypted payload and trailer | ICV.
    pub data: &'a [u8],
}

impl<'a> Esp<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let spi = r.u32("ESP.spi")?;
        if spi == 0 {
            return Err(Error::bad_value(P, "ESP.spi"));
        }
        let sequence = r.u32("ESP.sequence")?;
        Ok(Esp {
            spi,
            sequence,
            data: r.rest(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.spi == 0 {
            return Err(Error::bad_value(P, "ESP.spi"));
        }
        out.put_u32(self.spi);
        out.put_u32(self.sequence);
        out.put(self.data);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data.len()
    }
}

/// The decrypted content of an ESP packet (without IV and ICV): the protected payload,
/// the padding as received, and Next Header. Pad Length is the padding's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Trailer<'a> {
    /// The inner packet (and any TFC padding).
    pub payload: &'a [u8],
    pub padding: &'a [u8],
    /// IP protocol number of the payload (4 IPv4, 41 IPv6, 59 dummy packet).
    pub next_header: u8,
}

impl<'a> Trailer<'a> {
    /// Splits a decrypted ESP payload.
    pub fn parse(decrypted: &'a [u8]) -> Result<Self> {
        let n = decrypted.len();
        if n < 2 {
            return Err(Error::truncated(P, "ESP.pad_length"));
        }
        let next_header = decrypted[n - 1];
        let pad_len = decrypted[n - 2] as usize;
        let end = n - 2;
        let start = end.checked_sub(pad_len).ok_or(Error::new(
            P,
            "ESP.pad_length",
            ErrorKind::BadLength,
        ))?;
        Ok(Trailer {
            payload: &decrypted[..start],
            padding: &decrypted[start..end],
            next_header,
        })
    }

    /// Whether the padding is RFC 4303 §2.4's default monotonic 1, 2, 3, ...
    pub fn padding_is_default(&self) -> bool {
        self.padding
            .iter()
            .enumerate()
            .all(|(i, &b)| b as usize == i + 1)
    }

    /// Fails with `BadChecksum` on ESP.padding unless the padding is the default one.
    pub fn check_padding(&self) -> Result<()> {
        if self.padding_is_default() {
            Ok(())
        } else {
            Err(Error::new(P, "ESP.padding", ErrorKind::BadChecksum))
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let pad =
            u8::try_from(self.padding.len()).map_err(|_| Error::too_long(P, "ESP.pad_length"))?;
        out.put(self.payload);
        out.put(self.padding);
        out.put_u8(pad);
        out.put_u8(self.next_header);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        self.payload.len() + self.padding.len() + 2
    }
}

/// Padding length so that payload, padding, pad length and next header end on a multiple
/// of `align` (the cipher block size, at least 4: RFC 4303 §2.4).
pub fn padding_len(payload_len: usize, align: usize) -> usize {
    crate::codec::pad_to(payload_len + 2, align.max(4))
}

/// Appends `payload`, the default padding 1, 2, 3, ... for `align`, Pad Length and Next
/// Header: the plaintext to encrypt.
pub fn emit_plaintext(
    payload: &[u8],
    next_header: u8,
    align: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    let pad = padding_len(payload.len(), align);
    let pad_byte = u8::try_from(pad).map_err(|_| Error::too_long(P, "ESP.pad_length"))?;
    out.put(payload);
    for i in 1..=pad_byte {
        out.put_u8(i);
    }
    out.put_u8(pad_byte);
    out.put_u8(next_header);
    Ok(())
}

/// Decodes an ESP packet (IP protocol 50, or UDP 4500 after classification): header only.
pub fn dissect(data: &[u8]) -> Result<Node> {
    let e = Esp::parse(data)?;
    Ok(Node::branch("Encapsulating Security Payload")
        .with(
            Node::new("ESP SPI", format!("0x{:08x}", e.spi))
                .field("esp.spi", format!("0x{:08x}", e.spi)),
        )
        .with(Node::uint(
            "ESP Sequence",
            e.sequence as u64,
            "esp.sequence",
        ))
        .with(Node::bytes("Encrypted data", e.data, "")))
}

/// Decodes an ESP packet using NULL encryption and no ICV (RFC 2410): the trailer is shown.
/// For tests and NULL-protected captures.
pub fn dissect_null(data: &[u8]) -> Result<Node> {
    let e = Esp::parse(data)?;
    let t = Trailer::parse(e.data)?;
    let mut n = dissect(data)?;
    n.children.pop();
    n.push(Node::bytes("Payload", t.payload, ""));
    n.push(Node::bytes("Pad", t.padding, "esp.pad"));
    n.push(Node::new(
        "Padding check",
        if t.padding_is_default() {
            "default (1, 2, 3, ...)"
        } else {
            "not default"
        },
    ));
    n.push(Node::uint(
        "ESP Pad Length",
        t.padding.len() as u64,
        "esp.pad_len",
    ));
    n.push(Node::uint(
        "ESP Next Header",
        t.next_header as u64,
        "esp.protocol",
    ));
    Ok(n)
}

/// ESP samples: UDP-encapsulated on 4500 (opaque ciphertext), and bare over IP protocol 50
/// with NULL encryption so that tshark (given a NULL `esp_sa` UAT entry) checks the trailer.
pub fn samples() -> Vec<crate::sample::Sample> {
    use crate::frame::{ip_proto, Frame};
    use crate::sample::Sample;
    let ue: core::net::IpAddr = core::net::IpAddr::V4(core::net::Ipv4Addr::new(192, 0, 2, 10));
    let epdg: core::net::IpAddr = core::net::IpAddr::V4(core::net::Ipv4Addr::new(198, 51, 100, 1));
    let mut v = Vec::new();

    // AES-CBC-128 / HMAC-SHA-256-128 as it travels: IV 16, ciphertext 64, ICV 16.
    let ct: Vec<u8> = (0..96u32)
        .map(|i| (i.wrapping_mul(37) ^ 0x5a) as u8)
        .collect();
    let mut b = Vec::new();
    let esp = Esp {
        spi: 0xc20b6602,
        sequence: 1,
        data: &ct,
    };
    if let Err(e) = esp.emit(&mut b) {
        panic!("sample does not emit: {e}");
    }
    v.push(Sample::new(
        "esp/udp4500",
        Frame::udp(epdg, ue, 4500, 4500),
        &b,
        crate::ikev2::dissect_udp4500,
    ));

    // NULL encryption, no integrity, carrying a UDP datagram (discard port) inside IPv4
    // (tunnel mode).
    let inner = Frame::udp(
        core::net::IpAddr::V4(core::net::Ipv4Addr::new(10, 45, 0, 7)),
        core::net::IpAddr::V4(core::net::Ipv4Addr::new(198, 51, 100, 80)),
        40000,
        9,
    )
    .build(b"mobstrap");
    let inner = match inner {
        Ok(i) => i,
        Err(e) => panic!("sample does not build: {e}"),
    };
    let mut plain = Vec::new();
    if let Err(e) = emit_plaintext(&inner, 4, 4, &mut plain) {
        panic!("sample does not emit: {e}");
    }
    let mut b = Vec::new();
    if let Err(e) = (Esp {
        spi: 0xc10a5501,
        sequence: 7,
        data: &plain,
    })
    .emit(&mut b)
    {
        panic!("sample does not emit: {e}");
    }
    v.push(
        Sample::new(
            "esp/ip50-NULL",
            Frame::ip(ue, epdg, ip_proto::ESP),
            &b,
            dissect_null,
        )
        .tshark(&["-o", "esp.enable_encryption_decode:TRUE", "-o", NULL_SA_UAT]),
    );
    v
}

/// tshark's `esp_sa` entry for the NULL sample.
const NULL_SA_UAT: &str = "uat:esp_sa:\"IPv4\",\"192.0.2.10\",\"198.51.100.1\",\"0xc10a5501\",\"NULL\",\"\",\"NULL\",\"\"";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_layout_and_errors() {
        let b = [0xc1, 0x0a, 0x55, 0x01, 0, 0, 0, 7, 0xaa, 0xbb];
        let e = Esp::parse(&b).unwrap();
        assert_eq!(
            (e.spi, e.sequence, e.data),
            (0xc10a5501, 7, &[0xaa, 0xbb][..])
        );
        let v = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            (v.spi(), v.sequence(), v.payload()),
            (0xc10a5501, 7, &[0xaa, 0xbb][..])
        );
        let mut out = Vec::new();
        e.emit(&mut out).unwrap();
        assert_eq!(out, b);
        assert_eq!(
            Esp::parse(&[0, 0, 0, 0, 0, 0, 0, 1]).unwrap_err().field,
            "ESP.spi"
        );
        assert_eq!(
            Esp::parse(&[0, 0, 0, 1, 0, 0]).unwrap_err().field,
            "ESP.sequence"
        );
        assert_eq!(
            Packet::new_checked(&[1u8, 2][..]).unwrap_err().field,
            "ESP.header"
        );
    }

    /// RFC 4303 §2.4: payload, padding 1..n, Pad Length, Next Header, aligned.
    #[test]
    fn trailer_default_padding() {
        let mut out = Vec::new();
        emit_plaintext(&[0x45; 5], 4, 16, &mut out).unwrap();
        assert_eq!(out.len(), 16);
        assert_eq!(&out[5..], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 4]);
        let t = Trailer::parse(&out).unwrap();
        assert_eq!((t.payload.len(), t.padding.len(), t.next_header), (5, 9, 4));
        assert!(t.padding_is_default() && t.check_padding().is_ok());
        let mut back = Vec::new();
        t.emit(&mut back).unwrap();
        assert_eq!(back, out);
        // Alignment to 4 even for a stream cipher (block 1).
        let mut out = Vec::new();
        emit_plaintext(&[0; 6], 41, 1, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 0, 0, 0, 0, 41]);
        // Non-default padding is kept and flagged.
        let odd = [9, 9, 0xde, 0xad, 2, 59];
        let t = Trailer::parse(&odd).unwrap();
        assert_eq!(t.padding, &[0xde, 0xad]);
        assert!(!t.padding_is_default());
        assert_eq!(t.check_padding().unwrap_err().field, "ESP.padding");
        let mut back = Vec::new();
        t.emit(&mut back).unwrap();
        assert_eq!(back, odd);
        assert_eq!(
            Trailer::parse(&[1, 5, 4]).unwrap_err().field,
            "ESP.pad_length"
        );
        assert_eq!(Trailer::parse(&[4]).unwrap_err().field, "ESP.pad_length");
    }

    #[test]
    fn samples_decode() {
        for s in samples() {
            let t = s.decode().unwrap();
            assert!(
                t.fields().iter().any(|(n, _)| *n == "esp.spi"),
                "{}",
                s.name
            );
        }
    }

    proptest! {
        #[test]
        fn esp_round_trips(spi in 1u32.., seq in any::<u32>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let e = Esp { spi, sequence: seq, data: &data };
            let mut out = Vec::new();
            e.emit(&mut out).unwrap();
            prop_assert_eq!(out.len(), e.buffer_len());
            prop_assert_eq!(Esp::parse(&out).unwrap(), e);
        }

        #[test]
        fn trailer_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..64), pad in proptest::collection::vec(any::<u8>(), 0..255), nh in any::<u8>()) {
            let t = Trailer { payload: &payload, padding: &pad, next_header: nh };
            let mut out = Vec::new();
            t.emit(&mut out).unwrap();
            prop_assert_eq!(out.len(), t.buffer_len());
            prop_assert_eq!(Trailer::parse(&out).unwrap(), t);
        }

        #[test]
        fn default_padding_aligns(len in 0usize..300, align in prop_oneof![Just(1usize), Just(4), Just(8), Just(16)]) {
            let payload = vec![0u8; len];
            let mut out = Vec::new();
            emit_plaintext(&payload, 4, align, &mut out).unwrap();
            prop_assert_eq!(out.len() % align.max(4), 0);
            let t = Trailer::parse(&out).unwrap();
            prop_assert!(t.padding_is_default());
            prop_assert_eq!(t.payload.len(), len);
        }

        #[test]
        fn arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(e) = Esp::parse(&b) {
                let mut out = Vec::new();
                e.emit(&mut out).unwrap();
                prop_assert_eq!(&out, &b);
            }
            if let Ok(t) = Trailer::parse(&b) {
                let mut out = Vec::new();
                t.emit(&mut out).unwrap();
                prop_assert_eq!(&out, &b);
            }
            let _ = dissect(&b);
            let _ = dissect_null(&b);
        }
    }
}
