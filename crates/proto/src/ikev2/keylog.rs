//! Key export for Wireshark/tshark: lines of the `ikev2_decryption_table` and `esp_sa`
//! UATs, in the format strongSwan's save-keys plugin writes (and tshark 4.0 reads):
//!
//! ```text
//! ikev2_decryption_table: <SPIi hex>,<SPIr hex>,<SK_ei hex>,<SK_er hex>,"<encr>",<SK_ai hex>,<SK_ar hex>,"<integ>"
//! esp_sa:                 "IPv4","<src>","<dst>","0x<SPI>","<encr>","0x<key>","<integ>","0x<key>"
//! ```
//!
//! The AES-GCM keys include the 4-octet salt, as Wireshark expects. Feed a line to tshark
//! with `-o "uat:ikev2_decryption_table:<line>"` / `-o "uat:esp_sa:<line>"` (and
//! `-o esp.enable_encryption_decode:TRUE`), or append the lines to the files of the same
//! name in the Wireshark profile directory.

use std::net::IpAddr;

use mobstrap_crypto::ikev2::Integ;
use mobstrap_crypto::transform::Encr;

use super::config::hex;
use super::ChildSaInfo;

fn ike_encr_name(e: Encr) -> &'static str {
    match e {
        Encr::AesCbc128 => "AES-CBC-128 [RFC3602]",
        Encr::AesCbc256 => "AES-CBC-256 [RFC3602]",
        Encr::AesGcm16_128 => "AES-GCM-128 with 16 octet ICV [RFC5282]",
        Encr::AesGcm16_256 => "AES-GCM-256 with 16 octet ICV [RFC5282]",
    }
}

fn ike_integ_name(i: Option<Integ>) -> &'static str {
    match i {
        None => "NONE [RFC4306]",
        Some(Integ::HmacSha1_96) => "HMAC_SHA1_96 [RFC2404]",
        Some(Integ::HmacSha256_128) => "HMAC_SHA2_256_128 [RFC4868]",
        Some(Integ::HmacSha384_192) => "HMAC_SHA2_384_192 [RFC4868]",
        Some(Integ::HmacSha512_256) => "HMAC_SHA2_512_256 [RFC4868]",
    }
}

fn esp_encr_name(e: Encr) -> &'static str {
    match e {
        Encr::AesCbc128 | Encr::AesCbc256 => "AES-CBC [RFC3602]",
        Encr::AesGcm16_128 | Encr::AesGcm16_256 => "AES-GCM with 16 octet ICV [RFC4106]",
    }
}

fn esp_integ_name(i: Option<Integ>) -> &'static str {
    match i {
        None => "NULL",
        Some(Integ::HmacSha1_96) => "HMAC-SHA-1-96 [RFC2404]",
        Some(Integ::HmacSha256_128) => "HMAC-SHA-256-128 [RFC4868]",
        Some(Integ::HmacSha384_192) => "HMAC-SHA-384-192 [RFC4868]",
        Some(Integ::HmacSha512_256) => "HMAC-SHA-512-256 [RFC4868]",
    }
}

/// One `ikev2_decryption_table` line.
#[allow(clippy::too_many_arguments)]
pub(crate) fn ike_line(
    spi_i: &[u8; 8],
    spi_r: &[u8; 8],
    encr: Encr,
    integ: Option<Integ>,
    sk_ei: &[u8],
    sk_er: &[u8],
    sk_ai: &[u8],
    sk_ar: &[u8],
) -> String {
    format!(
        "{},{},{},{},\"{}\",{},{},\"{}\"",
        hex(spi_i),
        hex(spi_r),
        hex(sk_ei),
        hex(sk_er),
        ike_encr_name(encr),
        hex(sk_ai),
        hex(sk_ar),
        ike_integ_name(integ)
    )
}

fn family(a: IpAddr) -> &'static str {
    if a.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// The two `esp_sa` lines of a Child SA (inbound, then outbound).
pub(crate) fn esp_lines(c: &ChildSaInfo) -> [String; 2] {
    let line = |src: IpAddr, dst: IpAddr, spi: u32, encr: &[u8], integ: &[u8]| {
        format!(
            "\"{}\",\"{}\",\"{}\",\"0x{:08x}\",\"{}\",\"0x{}\",\"{}\",\"0x{}\"",
            family(src),
            src,
            dst,
            spi,
            esp_encr_name(c.algs.encr),
            hex(encr),
            esp_integ_name(c.algs.integ),
            hex(integ)
        )
    };
    [
        line(
            c.remote.ip(),
            c.local.ip(),
            c.inbound_spi,
            c.inbound.encr.as_bytes(),
            c.inbound.integ.as_bytes(),
        ),
        line(
            c.local.ip(),
            c.remote.ip(),
            c.outbound_spi,
            c.outbound.encr.as_bytes(),
            c.outbound.integ.as_bytes(),
        ),
    ]
}
