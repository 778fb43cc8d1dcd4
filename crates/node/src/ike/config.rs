//! The TOML configuration of an IKE node (`mobstrap ike --config ike.toml`), documented in
//! `docs/ike-node.md`. Every key has a default where one is sensible; an invalid file is
//! refused with the key named (`ike.proposals[1]: unknown algorithm 'aes129'`).
//!
//! Algorithm proposals use strongSwan's notation (`aes128gcm16-prfsha256-x25519`,
//! `aes256-sha384-ecp384`, ESP `aes128gcm16`, `aes128-sha256-esn`), identities its
//! conventions (an IP literal is ID_IPV4/6_ADDR, `user@realm` ID_RFC822_ADDR, `@name` or a
//! dotted name ID_FQDN, `keyid:HEX` ID_KEY_ID).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mobstrap_crypto::dh::Group;
use mobstrap_crypto::ikev2::{Integ, Prf};
use mobstrap_crypto::sig::SigningKey;
use mobstrap_crypto::transform::Encr;
use mobstrap_proto::ikev2::{
    CfgPolicy, Config, DispatcherConfig, EapStart, EspProposal, Identity, IkeProposal, LocalAuth,
    Mode, PeerAuth, Ports, Signer, TsRange,
};
use mobstrap_wire::ikev2::{CfgAttrType, IdType};
use serde::Deserialize;

use super::node::{EspSettings, NodeConfig, TunSettings};
use super::pool::Prefix;

/// A configuration error naming the key.
#[derive(Debug, thiserror::Error)]
#[error("ike config: {key}: {why}")]
pub struct ConfigError {
    pub key: String,
    pub why: String,
}

fn err(key: impl Into<String>, why: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        why: why.into(),
    }
}

/// The file as written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub ike: IkeSection,
    #[serde(default)]
    pub tun: Option<TunSection>,
    #[serde(default)]
    pub usim: Option<UsimSection>,
    #[serde(default)]
    pub pool: Option<PoolSection>,
    #[serde(default)]
    pub aaa: Option<AaaSection>,
    /// The Diameter node (`docs/diameter-stack.md`) for `aaa.protocol = "diameter"`.
    #[serde(default)]
    pub diameter: Option<toml::Table>,
    #[serde(default)]
    pub metrics: Option<MetricsSection>,
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    #[default]
    Initiator,
    Responder,
}

#[derive(Debug, Deserialize, Clone)]
pub struct PskLine {
    /// Peer identity (`None`/absent: any peer).
    pub id: Option<String>,
    pub secret: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct IkeSection {
    pub role: RoleName,
    pub name: Option<String>,
    pub bind: Option<Vec<String>>,
    pub port: Option<u16>,
    pub natt_port: Option<u16>,
    /// Initiator: the responder (`192.0.2.1` or `192.0.2.1:500`).
    pub remote: Option<String>,
    pub local_id: Option<String>,
    pub remote_id: Option<String>,
    /// How we authenticate: `psk`, `pubkey`, `eap` (initiator, with [usim]).
    pub auth: Option<String>,
    /// How the peer may authenticate: any of `psk`, `pubkey`, `eap` (responder: relayed).
    pub remote_auth: Option<Vec<String>>,
    pub psk: Option<String>,
    pub psks: Vec<PskLine>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub ca: Vec<PathBuf>,
    pub proposals: Option<Vec<String>>,
    pub esp_proposals: Option<Vec<String>>,
    /// Initiator: CFG_REQUEST attributes (`ip4`, `ip6`, `dns4`, `dns6`, `home-agent`,
    /// `pcscf4`, `pcscf6`).
    pub request: Option<Vec<String>>,
    pub local_ts: Option<Vec<String>>,
    pub remote_ts: Option<Vec<String>>,
    pub mode: Option<String>,
    /// UDP-encapsulate ESP even without a NAT (strongSwan's `encap = yes`).
    pub encap: Option<bool>,
    pub fragmentation: Option<bool>,
    pub fragment_mtu: Option<usize>,
    pub eap_only: Option<bool>,
    /// Responder: `identity` (relay EAP-Response/Identity built from IDi) or `request`
    /// (the AAA asks for the identity).
    pub eap_start: Option<String>,
    /// Liveness check interval in seconds (0: off).
    pub dpd: Option<u64>,
    pub retransmit_timeout: Option<f64>,
    pub retransmit_tries: Option<u32>,
    pub half_open_timeout: Option<u64>,
    pub application_timeout: Option<u64>,
    /// Seconds; 0 turns rekeying off.
    pub ike_lifetime: Option<u64>,
    pub child_lifetime: Option<u64>,
    pub initial_contact: Option<bool>,
    pub cookie_threshold: Option<usize>,
    pub max_half_open: Option<usize>,
    /// Write Wireshark key tables into this directory.
    pub keys_dir: Option<PathBuf>,
    pub replay_window: Option<usize>,
    /// NAT keepalive interval in seconds (0: none).
    pub keepalive: Option<u64>,
    pub raw_esp: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TunSection {
    pub enabled: Option<bool>,
    pub name: Option<String>,
    pub mtu: Option<u16>,
    /// `198.51.100.1/24`, `2001:db8:100::1/120`
    pub addresses: Vec<String>,
    pub install_vips: Option<bool>,
    pub routes: Option<bool>,
    pub route_table: Option<u32>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct UsimSection {
    pub imsi: String,
    pub k: String,
    pub opc: String,
    /// SQN_MS: the highest SQN the USIM accepted (hex, 6 octets).
    pub sqn: Option<String>,
    /// NAI realm (default `nai.epc.mnc<MNC>.mcc<MCC>.3gppnetwork.org`, 3-digit MNC when
    /// `mnc_len = 3`).
    pub realm: Option<String>,
    pub mnc_len: Option<u8>,
    /// The EAP identity (default `0<IMSI>@realm`, or `6…` when EAP-AKA' comes first).
    pub identity: Option<String>,
    /// `aka`, `aka-prime`, most preferred first (default `["aka"]`).
    pub methods: Option<Vec<String>>,
    pub network_name: Option<String>,
    /// Test-lab fault injection: `wrong-res` (answer every AKA-Challenge with a wrong RES
    /// under a valid AT_MAC).
    pub fault: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PoolSection {
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub dns4: Vec<String>,
    pub dns6: Vec<String>,
    pub exclude: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AaaSection {
    /// `radius` or `diameter`.
    pub protocol: String,
    /// RADIUS server `address:port`.
    pub server: Option<String>,
    pub secret: Option<String>,
    pub nas_identifier: Option<String>,
    pub retransmit: Option<f64>,
    pub max_sends: Option<u32>,
    /// Diameter: Destination-Realm (required), Destination-Host, application `swm` or `eap`.
    pub destination_realm: Option<String>,
    pub destination_host: Option<String>,
    pub application: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Prometheus exporter address, e.g. `127.0.0.1:9464`.
    pub listen: Option<String>,
}

/// USIM credentials, validated.
#[derive(Clone)]
pub struct UsimSpec {
    pub imsi: String,
    pub k: [u8; 16],
    pub opc: [u8; 16],
    pub sqn: u64,
    pub realm: String,
    pub identity: Option<String>,
    pub methods: Vec<mobstrap_proto::eap::Method>,
    pub network_name: Option<String>,
    /// A fault the USIM's EAP peer injects on purpose (test labs).
    pub fault: Option<mobstrap_proto::eap::PeerFault>,
}

impl std::fmt::Debug for UsimSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UsimSpec({}, keys redacted)", self.imsi)
    }
}

/// Which AAA the responder relays EAP to.
#[derive(Debug, Clone)]
pub enum AaaSpec {
    Radius(super::aaa::RadiusSettings),
    Diameter {
        node: Box<crate::diameter::DiameterConfig>,
        relay: super::aaa::DiameterSettings,
    },
}

/// The pool, validated.
#[derive(Debug, Clone)]
pub struct PoolSpec {
    pub v4: Option<Prefix>,
    pub v6: Option<Prefix>,
    pub dns4: Vec<std::net::Ipv4Addr>,
    pub dns6: Vec<std::net::Ipv6Addr>,
    pub exclude: Vec<IpAddr>,
}

/// Everything `mobstrap ike` needs, validated.
#[derive(Debug)]
pub struct IkeNodeSpec {
    pub node: NodeConfig,
    pub role: RoleName,
    pub remote: Option<SocketAddr>,
    pub usim: Option<UsimSpec>,
    pub pool: Option<PoolSpec>,
    pub aaa: Option<AaaSpec>,
    pub metrics: Option<SocketAddr>,
}

impl IkeNodeSpec {
    pub fn from_toml(text: &str, base: &Path) -> Result<IkeNodeSpec, ConfigError> {
        let f: FileConfig = toml::from_str(text).map_err(|e| {
            let why = e.message().to_string();
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].lines().count().max(1);
                    format!("line {line}")
                })
                .unwrap_or_else(|| "file".into());
            err(at, why)
        })?;
        build(f, base)
    }

    pub fn from_file(path: &Path) -> Result<IkeNodeSpec, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(path.display().to_string(), e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, base)
    }
}

/// Parses a strongSwan-style identity.
pub fn parse_identity(s: &str) -> Result<Identity, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty identity".into());
    }
    if let Some(h) = s.strip_prefix("keyid:") {
        return hex::decode(h.trim_start_matches("0x"))
            .map(|b| Identity::key_id(&b))
            .map_err(|_| format!("'{s}': keyid: needs hex"));
    }
    if let Some(r) = s.strip_prefix("fqdn:") {
        return Ok(Identity::fqdn(r));
    }
    if let Some(r) = s
        .strip_prefix("email:")
        .or_else(|| s.strip_prefix("rfc822:"))
    {
        return Ok(Identity::rfc822(r));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Identity::ip(ip));
    }
    if let Some(r) = s.strip_prefix('@') {
        return Ok(Identity::fqdn(r.trim_start_matches('#')));
    }
    if s.contains('@') {
        return Ok(Identity::rfc822(s));
    }
    Ok(Identity::fqdn(s))
}

fn group(t: &str) -> Option<Group> {
    Some(match t {
        "modp2048" => Group::Modp2048,
        "modp3072" => Group::Modp3072,
        "ecp256" => Group::Ecp256,
        "ecp384" => Group::Ecp384,
        "x25519" | "curve25519" => Group::Curve25519,
        _ => return None,
    })
}

fn encr(t: &str) -> Option<Encr> {
    Some(match t {
        "aes128" | "aes" => Encr::AesCbc128,
        "aes256" => Encr::AesCbc256,
        "aes128gcm16" | "aes128gcm128" | "aes128gcm" => Encr::AesGcm16_128,
        "aes256gcm16" | "aes256gcm128" | "aes256gcm" => Encr::AesGcm16_256,
        _ => return None,
    })
}

fn integ(t: &str) -> Option<Integ> {
    Some(match t {
        "sha1" | "sha" => Integ::HmacSha1_96,
        "sha256" | "sha2_256" => Integ::HmacSha256_128,
        "sha384" | "sha2_384" => Integ::HmacSha384_192,
        "sha512" | "sha2_512" => Integ::HmacSha512_256,
        _ => return None,
    })
}

fn prf(t: &str) -> Option<Prf> {
    Some(match t {
        "prfsha1" => Prf::HmacSha1,
        "prfsha256" => Prf::HmacSha256,
        "prfsha384" => Prf::HmacSha384,
        "prfsha512" => Prf::HmacSha512,
        _ => return None,
    })
}

fn prf_of(i: Integ) -> Prf {
    match i {
        Integ::HmacSha1_96 => Prf::HmacSha1,
        Integ::HmacSha256_128 => Prf::HmacSha256,
        Integ::HmacSha384_192 => Prf::HmacSha384,
        Integ::HmacSha512_256 => Prf::HmacSha512,
    }
}

/// `aes128gcm16-prfsha256-x25519`, `aes128-aes256-sha256-ecp256-modp2048`.
pub fn parse_ike_proposal(s: &str) -> Result<IkeProposal, String> {
    let mut p = IkeProposal {
        encr: vec![],
        integ: vec![],
        prf: vec![],
        dh: vec![],
    };
    for t in s.split('-').map(|t| t.trim().to_ascii_lowercase()) {
        if let Some(e) = encr(&t) {
            p.encr.push(e);
        } else if let Some(i) = integ(&t) {
            p.integ.push(i);
        } else if let Some(f) = prf(&t) {
            p.prf.push(f);
        } else if let Some(g) = group(&t) {
            p.dh.push(g);
        } else {
            return Err(format!("unknown algorithm '{t}' in '{s}'"));
        }
    }
    let aead = check_ciphers(s, &p.encr, &p.integ)?;
    if p.prf.is_empty() {
        if aead {
            return Err(format!("'{s}': AEAD needs a PRF (e.g. prfsha256)"));
        }
        p.prf = p.integ.iter().map(|i| prf_of(*i)).collect();
        p.prf.dedup();
    }
    if p.dh.is_empty() {
        return Err(format!("'{s}' has no DH group (e.g. x25519)"));
    }
    Ok(p)
}

/// The cipher rules IKE and ESP proposals share (RFC 7296 §3.3): at least one encryption
/// algorithm; AEAD and non-AEAD ciphers not mixed; an integrity algorithm exactly when the
/// ciphers are not AEAD. Returns whether the proposal is AEAD.
fn check_ciphers(s: &str, encr: &[Encr], integ: &[Integ]) -> Result<bool, String> {
    if encr.is_empty() {
        return Err(format!("'{s}' has no encryption algorithm"));
    }
    let aead = encr.iter().all(|e| e.is_aead());
    if encr.iter().any(|e| e.is_aead()) && !aead {
        return Err(format!("'{s}' mixes AEAD and non-AEAD ciphers"));
    }
    if !aead && integ.is_empty() {
        return Err(format!("'{s}' needs an integrity algorithm (e.g. sha256)"));
    }
    if aead && !integ.is_empty() {
        return Err(format!("'{s}': AEAD takes no integrity algorithm"));
    }
    Ok(aead)
}

/// `aes128gcm16`, `aes128-sha256`, `aes128gcm16-esn`, `aes128-sha256-modp2048` (PFS).
pub fn parse_esp_proposal(s: &str) -> Result<EspProposal, String> {
    let mut p = EspProposal {
        encr: vec![],
        integ: vec![],
        esn: vec![],
        dh: vec![],
    };
    for t in s.split('-').map(|t| t.trim().to_ascii_lowercase()) {
        if t == "esn" {
            p.esn.push(true);
        } else if t == "noesn" {
            p.esn.push(false);
        } else if let Some(e) = encr(&t) {
            p.encr.push(e);
        } else if let Some(i) = integ(&t) {
            p.integ.push(i);
        } else if let Some(g) = group(&t) {
            p.dh.push(g);
        } else {
            return Err(format!("unknown algorithm '{t}' in '{s}'"));
        }
    }
    check_ciphers(s, &p.encr, &p.integ)?;
    if p.esn.is_empty() {
        p.esn.push(false);
    }
    Ok(p)
}

fn parse_ts(s: &str) -> Result<TsRange, String> {
    let p: Prefix = s.parse()?;
    Ok(TsRange::prefix(p.addr, p.len))
}

/// Decodes the first PEM block with one of `labels` (or DER when the file is not PEM).
pub fn read_pem(path: &Path, labels: &[&str]) -> Result<Vec<Vec<u8>>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let Ok(text) = std::str::from_utf8(&data) else {
        return Ok(vec![data]);
    };
    if !text.contains("-----BEGIN ") {
        return Ok(vec![data]);
    }
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut b64 = String::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("-----BEGIN ") {
            cur = Some(rest.trim_end_matches('-').to_string());
            b64.clear();
        } else if l.starts_with("-----END ") {
            if let Some(label) = cur.take() {
                if labels.iter().any(|x| *x == label) {
                    out.push(
                        base64_decode(&b64)
                            .ok_or_else(|| format!("{}: bad base64 in {label}", path.display()))?,
                    );
                } else if label == "EC PRIVATE KEY" && labels.contains(&"PRIVATE KEY") {
                    // SEC1 (what strongSwan's pki writes): wrapped into PKCS#8
                    let der = base64_decode(&b64)
                        .ok_or_else(|| format!("{}: bad base64 in {label}", path.display()))?;
                    out.push(sec1_to_pkcs8(&der).ok_or_else(|| {
                        format!("{}: EC PRIVATE KEY without a named curve", path.display())
                    })?);
                }
            }
        } else if cur.is_some() {
            b64.push_str(l);
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no {} block", path.display(), labels.join("/")));
    }
    Ok(out)
}

/// One DER TLV at the start of `d`: (tag, value, rest).
fn der_tlv(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *d.first()?;
    let l0 = *d.get(1)? as usize;
    let (len, hdr) = if l0 < 0x80 {
        (l0, 2)
    } else {
        let n = l0 & 0x7f;
        if n == 0 || n > 3 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *d.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let v = d.get(hdr..hdr + len)?;
    Some((tag, v, &d[hdr + len..]))
}

fn der(tag: u8, v: &[u8]) -> Vec<u8> {
    let mut o = vec![tag];
    if v.len() < 0x80 {
        o.push(v.len() as u8);
    } else if v.len() < 0x100 {
        o.extend_from_slice(&[0x81, v.len() as u8]);
    } else {
        o.extend_from_slice(&[0x82, (v.len() >> 8) as u8, v.len() as u8]);
    }
    o.extend_from_slice(v);
    o
}

/// RFC 5915 ECPrivateKey → PKCS#8 PrivateKeyInfo (RFC 5208) with id-ecPublicKey and the
/// curve named in the key's parameters.
fn sec1_to_pkcs8(sec1: &[u8]) -> Option<Vec<u8>> {
    let (t, body, _) = der_tlv(sec1)?;
    if t != 0x30 {
        return None;
    }
    let (_, _, rest) = der_tlv(body)?; // version
    let (_, _, mut rest) = der_tlv(rest)?; // privateKey
    let mut curve = None;
    while !rest.is_empty() {
        let (t, v, r) = der_tlv(rest)?;
        if t == 0xa0 {
            curve = Some(v.to_vec()); // the OID TLV inside [0]
        }
        rest = r;
    }
    let curve = curve?;
    const EC_PUBLIC_KEY: [u8; 9] = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let mut alg = EC_PUBLIC_KEY.to_vec();
    alg.extend_from_slice(&curve);
    let mut inner = vec![0x02, 0x01, 0x00];
    inner.extend(der(0x30, &alg));
    inner.extend(der(0x04, sec1));
    Some(der(0x30, &inner))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= val(*c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

fn hex16(key: &str, v: &str) -> Result<[u8; 16], ConfigError> {
    let b = hex::decode(v.trim().trim_start_matches("0x")).map_err(|_| err(key, "not hex"))?;
    b.try_into()
        .map_err(|_| err(key, "must be 16 octets (32 hex digits)"))
}

fn secs(key: &str, v: f64) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(v).map_err(|_| err(key, "not a duration in seconds"))
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn build(f: FileConfig, base: &Path) -> Result<IkeNodeSpec, ConfigError> {
    let i = &f.ike;
    let role = i.role.clone();
    let responder = role == RoleName::Responder;
    let ports = Ports {
        ike: i.port.unwrap_or(500),
        natt: i.natt_port.unwrap_or(4500),
    };
    let local_id = match &i.local_id {
        Some(s) => parse_identity(s).map_err(|e| err("ike.local_id", e))?,
        None => {
            if let Some(u) = &f.usim {
                // the EAP identity travels in IDi (filled in when the USIM is built)
                Identity::rfc822(&u.imsi)
            } else {
                return Err(err("ike.local_id", "required (e.g. \"epdg.example.org\")"));
            }
        }
    };
    let mut c = Config::new(local_id);
    c.ports = ports;
    if let Some(r) = &i.remote_id {
        c.remote_id = Some(parse_identity(r).map_err(|e| err("ike.remote_id", e))?);
    }
    c.local_auth = match i.auth.as_deref().unwrap_or("psk") {
        "psk" => LocalAuth::Psk,
        "pubkey" | "cert" | "signature" => LocalAuth::Signature,
        "eap" | "eap-aka" => {
            if responder {
                return Err(err("ike.auth", "a responder cannot authenticate with EAP"));
            }
            LocalAuth::Eap
        }
        o => return Err(err("ike.auth", format!("'{o}': psk, pubkey or eap"))),
    };
    let mut pa = PeerAuth::default();
    for (n, a) in i
        .remote_auth
        .clone()
        .unwrap_or_else(|| vec!["psk".into()])
        .iter()
        .enumerate()
    {
        match a.as_str() {
            "psk" => pa.psk = true,
            "pubkey" | "cert" | "signature" => pa.signature = true,
            "eap" | "eap-aka" | "eap-radius" => pa.eap = true,
            o => {
                return Err(err(
                    format!("ike.remote_auth[{n}]"),
                    format!("'{o}': psk, pubkey or eap"),
                ))
            }
        }
    }
    if pa.eap && !responder {
        // an initiator checks the responder's AUTH (certificate or PSK) before EAP
        return Err(err(
            "ike.remote_auth",
            "eap is for responders; an initiator authenticates its peer with psk or pubkey",
        ));
    }
    c.peer_auth = pa;
    if let Some(p) = &i.psk {
        c.psks.push(mobstrap_proto::ikev2::PskEntry {
            identity: None,
            secret: mobstrap_crypto::SecretVec::from_slice(p.as_bytes()),
        });
    }
    for (n, l) in i.psks.iter().enumerate() {
        let id = match &l.id {
            Some(s) => Some(parse_identity(s).map_err(|e| err(format!("ike.psks[{n}].id"), e))?),
            None => None,
        };
        c.psks.push(mobstrap_proto::ikev2::PskEntry {
            identity: id,
            secret: mobstrap_crypto::SecretVec::from_slice(l.secret.as_bytes()),
        });
    }
    if (c.local_auth == LocalAuth::Psk || pa.psk) && c.psks.is_empty() {
        return Err(err(
            "ike.psk",
            "PSK authentication needs ike.psk or ike.psks",
        ));
    }
    if c.local_auth == LocalAuth::Signature {
        let cert = i
            .cert
            .as_ref()
            .ok_or_else(|| err("ike.cert", "pubkey authentication needs a certificate"))?;
        let key = i
            .key
            .as_ref()
            .ok_or_else(|| err("ike.key", "pubkey authentication needs a private key"))?;
        let chain =
            read_pem(&resolve(base, cert), &["CERTIFICATE"]).map_err(|e| err("ike.cert", e))?;
        let der = read_pem(&resolve(base, key), &["PRIVATE KEY"]).map_err(|e| err("ike.key", e))?;
        let key = SigningKey::from_pkcs8(&der[0]).map_err(|e| err("ike.key", e.to_string()))?;
        c.signer = Some(Arc::new(Signer { key, chain }));
    }
    for (n, p) in i.ca.iter().enumerate() {
        let v = read_pem(&resolve(base, p), &["CERTIFICATE"])
            .map_err(|e| err(format!("ike.ca[{n}]"), e))?;
        c.ca_certs.extend(v);
    }
    if pa.signature && c.ca_certs.is_empty() {
        return Err(err(
            "ike.ca",
            "pubkey peer authentication needs a CA certificate",
        ));
    }
    if let Some(ps) = &i.proposals {
        c.ike_proposals = ps
            .iter()
            .enumerate()
            .map(|(n, s)| parse_ike_proposal(s).map_err(|e| err(format!("ike.proposals[{n}]"), e)))
            .collect::<Result<_, _>>()?;
    }
    if let Some(ps) = &i.esp_proposals {
        c.esp_proposals = ps
            .iter()
            .enumerate()
            .map(|(n, s)| {
                parse_esp_proposal(s).map_err(|e| err(format!("ike.esp_proposals[{n}]"), e))
            })
            .collect::<Result<_, _>>()?;
    }
    if !responder {
        let req = i
            .request
            .clone()
            .unwrap_or_else(|| vec!["ip4".into(), "ip6".into()]);
        for (n, r) in req.iter().enumerate() {
            let a = match r.as_str() {
                "ip4" => CfgAttrType::InternalIp4Address,
                "ip6" => CfgAttrType::InternalIp6Address,
                "dns4" => CfgAttrType::InternalIp4Dns,
                "dns6" => CfgAttrType::InternalIp6Dns,
                "home-agent" => CfgAttrType::HomeAgentAddress,
                "pcscf4" => CfgAttrType::PCscfIp4Address,
                "pcscf6" => CfgAttrType::PCscfIp6Address,
                o => {
                    return Err(err(
                        format!("ike.request[{n}]"),
                        format!("'{o}': ip4, ip6, dns4, dns6, home-agent, pcscf4, pcscf6"),
                    ))
                }
            };
            c.cfg_request.push(a);
        }
    }
    if let Some(v) = &i.local_ts {
        c.local_ts = v
            .iter()
            .enumerate()
            .map(|(n, s)| parse_ts(s).map_err(|e| err(format!("ike.local_ts[{n}]"), e)))
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = &i.remote_ts {
        c.remote_ts = v
            .iter()
            .enumerate()
            .map(|(n, s)| parse_ts(s).map_err(|e| err(format!("ike.remote_ts[{n}]"), e)))
            .collect::<Result<_, _>>()?;
    }
    c.mode = match i.mode.as_deref().unwrap_or("tunnel") {
        "tunnel" => Mode::Tunnel,
        "transport" => Mode::Transport,
        o => return Err(err("ike.mode", format!("'{o}': tunnel or transport"))),
    };
    c.force_encap = i.encap.unwrap_or(true);
    c.fragmentation = i.fragmentation.unwrap_or(true);
    if let Some(m) = i.fragment_mtu {
        if !(576..=65_535).contains(&m) {
            return Err(err("ike.fragment_mtu", "576..65535"));
        }
        c.fragment_mtu = m;
    }
    c.eap_only = i.eap_only.unwrap_or(false);
    c.eap_start = match i.eap_start.as_deref().unwrap_or("identity") {
        "identity" => EapStart::IdentityFromIdi,
        "request" | "empty" => EapStart::Empty,
        o => return Err(err("ike.eap_start", format!("'{o}': identity or request"))),
    };
    match i.dpd {
        Some(0) => c.timers.dpd_interval = None,
        Some(s) => c.timers.dpd_interval = Some(Duration::from_secs(s)),
        None => {}
    }
    if let Some(t) = i.retransmit_timeout {
        c.timers.retransmit_timeout = secs("ike.retransmit_timeout", t)?;
    }
    if let Some(t) = i.retransmit_tries {
        c.timers.retransmit_tries = t;
    }
    if let Some(t) = i.half_open_timeout {
        c.timers.half_open_timeout = Duration::from_secs(t);
    }
    if let Some(t) = i.application_timeout {
        c.timers.application_timeout = Duration::from_secs(t);
    }
    let lifetime = |key: &str, s: u64| -> mobstrap_proto::ikev2::Lifetime {
        let _ = key;
        if s == 0 {
            mobstrap_proto::ikev2::Lifetime::NEVER
        } else {
            mobstrap_proto::ikev2::Lifetime {
                rekey: Some(Duration::from_secs(s)),
                jitter: Duration::from_secs(s / 10),
                hard: Some(Duration::from_secs(s + s / 10)),
            }
        }
    };
    if let Some(s) = i.ike_lifetime {
        c.lifetimes.ike = lifetime("ike.ike_lifetime", s);
    }
    if let Some(s) = i.child_lifetime {
        c.lifetimes.child = lifetime("ike.child_lifetime", s);
    }
    c.initial_contact = i.initial_contact.unwrap_or(false);
    // The data path holds the ESP keys; the SA's records keep a copy only for the key files.
    c.keep_child_keys = i.keys_dir.is_some();
    if responder && (f.pool.is_some() || pa.eap) {
        c.cfg_policy = CfgPolicy::Defer;
    }
    c.spi_allocator = Some(Arc::new(mobstrap_proto::ikev2::SpiSet::new()));

    let remote = match (&i.remote, responder) {
        (Some(r), _) => Some(
            r.parse::<SocketAddr>()
                .or_else(|_| r.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, ports.ike)))
                .map_err(|_| err("ike.remote", format!("'{r}' is not an address")))?,
        ),
        (None, false) => {
            return Err(err(
                "ike.remote",
                "an initiator needs the responder's address",
            ))
        }
        (None, true) => None,
    };

    let usim = match &f.usim {
        Some(u) => {
            if c.local_auth != LocalAuth::Eap {
                return Err(err("usim", "only used with ike.auth = \"eap\""));
            }
            let imsi = u.imsi.trim().to_string();
            if !(6..=15).contains(&imsi.len()) || !imsi.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("usim.imsi", "6 to 15 digits"));
            }
            let sqn = match &u.sqn {
                Some(s) => u64::from_str_radix(s.trim().trim_start_matches("0x"), 16)
                    .ok()
                    .filter(|v| *v < (1 << 48))
                    .ok_or_else(|| err("usim.sqn", "hex, at most 6 octets"))?,
                None => 0,
            };
            let mnc_len = u.mnc_len.unwrap_or(2);
            if !(2..=3).contains(&mnc_len) {
                return Err(err("usim.mnc_len", "2 or 3"));
            }
            let realm = u.realm.clone().unwrap_or_else(|| {
                mobstrap_proto::eap::epc_realm(&imsi[..3], &imsi[3..3 + mnc_len as usize])
            });
            let mut methods = Vec::new();
            for (n, m) in u
                .methods
                .clone()
                .unwrap_or_else(|| vec!["aka".into()])
                .iter()
                .enumerate()
            {
                methods.push(match m.as_str() {
                    "aka" => mobstrap_proto::eap::Method::Aka,
                    "aka-prime" | "aka'" => mobstrap_proto::eap::Method::AkaPrime,
                    o => {
                        return Err(err(
                            format!("usim.methods[{n}]"),
                            format!("'{o}': aka or aka-prime"),
                        ))
                    }
                });
            }
            let fault = match u.fault.as_deref() {
                None => None,
                Some(name) => Some(mobstrap_proto::eap::PeerFault::from_name(name).ok_or_else(
                    || {
                        err(
                            "usim.fault",
                            format!("unknown fault '{name}' (known: wrong-res)"),
                        )
                    },
                )?),
            };
            Some(UsimSpec {
                k: hex16("usim.k", &u.k)?,
                opc: hex16("usim.opc", &u.opc)?,
                imsi,
                sqn,
                realm,
                identity: u.identity.clone(),
                methods,
                network_name: u.network_name.clone(),
                fault,
            })
        }
        None => {
            if c.local_auth == LocalAuth::Eap {
                return Err(err("usim", "ike.auth = \"eap\" needs a [usim] section"));
            }
            None
        }
    };

    let pool = match &f.pool {
        Some(p) => {
            if !responder {
                return Err(err("pool", "only a responder assigns addresses"));
            }
            let v4 = match &p.ipv4 {
                Some(s) => Some(s.parse::<Prefix>().map_err(|e| err("pool.ipv4", e))?)
                    .filter(|x| x.addr.is_ipv4())
                    .ok_or_else(|| err("pool.ipv4", "an IPv4 prefix"))
                    .map(Some)?,
                None => None,
            };
            let v6 = match &p.ipv6 {
                Some(s) => Some(s.parse::<Prefix>().map_err(|e| err("pool.ipv6", e))?)
                    .filter(|x| x.addr.is_ipv6())
                    .ok_or_else(|| err("pool.ipv6", "an IPv6 prefix"))
                    .map(Some)?,
                None => None,
            };
            let mut spec = PoolSpec {
                v4,
                v6,
                dns4: vec![],
                dns6: vec![],
                exclude: vec![],
            };
            for (n, d) in p.dns4.iter().enumerate() {
                spec.dns4.push(
                    d.parse()
                        .map_err(|_| err(format!("pool.dns4[{n}]"), "an IPv4 address"))?,
                );
            }
            for (n, d) in p.dns6.iter().enumerate() {
                spec.dns6.push(
                    d.parse()
                        .map_err(|_| err(format!("pool.dns6[{n}]"), "an IPv6 address"))?,
                );
            }
            for (n, d) in p.exclude.iter().enumerate() {
                spec.exclude.push(
                    d.parse()
                        .map_err(|_| err(format!("pool.exclude[{n}]"), "an address"))?,
                );
            }
            Some(spec)
        }
        None => None,
    };

    let aaa = match &f.aaa {
        Some(a) => {
            if !responder || !pa.eap {
                return Err(err(
                    "aaa",
                    "only for a responder with remote_auth = [\"eap\"]",
                ));
            }
            match a.protocol.as_str() {
                "radius" => {
                    let server = a
                        .server
                        .as_deref()
                        .ok_or_else(|| err("aaa.server", "required for RADIUS"))?;
                    let server: SocketAddr = server
                        .parse()
                        .or_else(|_| server.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 1812)))
                        .map_err(|_| err("aaa.server", format!("'{server}' is not an address")))?;
                    Some(AaaSpec::Radius(super::aaa::RadiusSettings {
                        server,
                        secret: a
                            .secret
                            .clone()
                            .ok_or_else(|| err("aaa.secret", "required for RADIUS"))?
                            .into_bytes(),
                        nas_identifier: a
                            .nas_identifier
                            .clone()
                            .unwrap_or_else(|| "mobstrap-ike".into()),
                        retransmit: secs("aaa.retransmit", a.retransmit.unwrap_or(2.0))?,
                        max_sends: a.max_sends.unwrap_or(3).max(1),
                    }))
                }
                "diameter" => {
                    let table = f.diameter.clone().ok_or_else(|| {
                        err(
                            "diameter",
                            "aaa.protocol = \"diameter\" needs a [diameter] section",
                        )
                    })?;
                    // the section's keys are the Diameter node's own (docs/diameter-stack.md)
                    let node = crate::diameter::DiameterConfig::from_toml(&table.to_string())
                        .map_err(|e| err("diameter", e.to_string()))?;
                    let application = match a.application.as_deref().unwrap_or("swm") {
                        "swm" => mobstrap_wire::diameter::app::SWM,
                        "eap" => mobstrap_wire::diameter::app::EAP,
                        o => return Err(err("aaa.application", format!("'{o}': swm or eap"))),
                    };
                    Some(AaaSpec::Diameter {
                        node: Box::new(node),
                        relay: super::aaa::DiameterSettings {
                            destination_realm: a.destination_realm.clone().ok_or_else(|| {
                                err("aaa.destination_realm", "required for Diameter")
                            })?,
                            destination_host: a.destination_host.clone(),
                            application,
                        },
                    })
                }
                o => return Err(err("aaa.protocol", format!("'{o}': radius or diameter"))),
            }
        }
        None => {
            if responder && pa.eap {
                return Err(err(
                    "aaa",
                    "remote_auth = [\"eap\"] needs an [aaa] section to relay to",
                ));
            }
            None
        }
    };

    let tun = match &f.tun {
        Some(t) if t.enabled.unwrap_or(true) => {
            let mut addresses = Vec::new();
            for (n, a) in t.addresses.iter().enumerate() {
                let p: Prefix = a
                    .parse()
                    .map_err(|e| err(format!("tun.addresses[{n}]"), e))?;
                addresses.push((p.addr, p.len));
            }
            let d = TunSettings::default();
            Some(TunSettings {
                name: t.name.clone(),
                mtu: t.mtu.unwrap_or(d.mtu),
                addresses,
                install_vips: t.install_vips.unwrap_or(true),
                routes: t.routes.unwrap_or(true),
                route_table: t.route_table.unwrap_or(d.route_table),
            })
        }
        _ => None,
    };
    let mut bind = Vec::new();
    for (n, b) in i
        .bind
        .clone()
        .unwrap_or_else(|| vec!["0.0.0.0".into()])
        .iter()
        .enumerate()
    {
        bind.push(
            b.parse::<IpAddr>()
                .map_err(|_| err(format!("ike.bind[{n}]"), format!("'{b}' is not an address")))?,
        );
    }
    let mut dconf = DispatcherConfig::default();
    if let Some(t) = i.cookie_threshold {
        dconf.cookie_threshold = t;
    }
    if let Some(t) = i.max_half_open {
        dconf.max_half_open = t;
    }
    let esp = EspSettings {
        replay_window: i.replay_window.unwrap_or(1024),
        keepalive: match i.keepalive {
            Some(0) => None,
            Some(s) => Some(Duration::from_secs(s)),
            None => Some(Duration::from_secs(20)),
        },
        raw: i.raw_esp.unwrap_or(true),
    };
    let metrics = match f.metrics.as_ref().and_then(|m| m.listen.as_deref()) {
        Some(s) => Some(
            s.parse::<SocketAddr>()
                .map_err(|_| err("metrics.listen", format!("'{s}' is not address:port")))?,
        ),
        None => None,
    };
    let node = NodeConfig {
        engine: Arc::new(c),
        dispatcher: dconf,
        bind,
        esp,
        tun,
        keys_dir: i.keys_dir.as_ref().map(|p| resolve(base, p)),
        name: i.name.clone().unwrap_or_else(|| {
            if responder {
                "ike-responder".into()
            } else {
                "ike-initiator".into()
            }
        }),
        packet_sink: None,
    };
    Ok(IkeNodeSpec {
        node,
        role,
        remote,
        usim,
        pool,
        aaa,
        metrics,
    })
}

/// Replaces the engine's local identity (the USIM's NAI goes into IDi).
pub fn with_local_id(node: &mut NodeConfig, id: Identity) {
    if let Some(c) = Arc::get_mut(&mut node.engine) {
        c.local_id = id;
    }
}

#[allow(dead_code)]
fn id_type_name(t: IdType) -> &'static str {
    match t {
        IdType::Fqdn => "fqdn",
        IdType::Rfc822Addr => "rfc822",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_identities_and_errors_name_the_key() {
        let p = parse_ike_proposal("aes128gcm16-prfsha256-x25519").unwrap();
        assert_eq!(p, IkeProposal::gcm_sha256_x25519());
        let p = parse_ike_proposal("aes128-aes256-sha256-ecp256-modp2048").unwrap();
        assert_eq!(p.prf, vec![Prf::HmacSha256]);
        assert_eq!(p.dh, vec![Group::Ecp256, Group::Modp2048]);
        assert!(parse_ike_proposal("aes128gcm16-x25519").is_err());
        assert!(parse_ike_proposal("aes129-sha256-x25519").is_err());
        for bad in ["aes128gcm16-sha256", "aes128gcm16-aes128-sha256", "aes128"] {
            assert!(parse_esp_proposal(bad).is_err(), "{bad} accepted");
        }
        let e = parse_esp_proposal("aes128-sha256-esn").unwrap();
        assert_eq!(e.esn, vec![true]);
        assert_eq!(
            parse_identity("192.0.2.1").unwrap(),
            Identity::ip("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            parse_identity("0001@nai.example").unwrap().id_type,
            IdType::Rfc822Addr
        );
        assert_eq!(parse_identity("@epdg").unwrap(), Identity::fqdn("epdg"));
        assert_eq!(
            parse_identity("epdg.example").unwrap(),
            Identity::fqdn("epdg.example")
        );
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");

        let base = Path::new(".");
        let e = IkeNodeSpec::from_toml(
            "[ike]\nrole = \"initiator\"\nlocal_id = \"a.example\"\npsk = \"x\"\n",
            base,
        )
        .unwrap_err();
        assert_eq!(e.key, "ike.remote");
        let e = IkeNodeSpec::from_toml(
            "[ike]\nrole = \"initiator\"\nlocal_id = \"a\"\nremote = \"192.0.2.1\"\npsk = \"x\"\nproposals = [\"aes128gcm16-prfsha256-x25519\", \"aes129-sha256-x25519\"]\n",
            base,
        )
        .unwrap_err();
        assert_eq!(e.key, "ike.proposals[1]");
        let e = IkeNodeSpec::from_toml("[ike]\nbogus = 1\n", base).unwrap_err();
        assert!(e.why.contains("bogus"), "{e}");
        let e = IkeNodeSpec::from_toml(
            "[ike]\nrole = \"responder\"\nlocal_id = \"gw\"\nremote_auth = [\"eap\"]\nauth = \"psk\"\npsk = \"x\"\n",
            base,
        )
        .unwrap_err();
        assert_eq!(e.key, "aaa");
        let ok = IkeNodeSpec::from_toml(
            "[ike]\nrole = \"responder\"\nlocal_id = \"gw.example\"\npsk = \"x\"\nport = 10500\nnatt_port = 14500\n[pool]\nipv4 = \"198.51.100.0/24\"\nipv6 = \"2001:db8:100::/120\"\n[tun]\naddresses = [\"198.51.100.1/24\"]\n",
            base,
        )
        .unwrap();
        assert_eq!(ok.node.engine.ports.ike, 10500);
        assert_eq!(ok.node.engine.cfg_policy, CfgPolicy::Defer);
        assert!(ok.node.tun.is_some());
        assert_eq!(ok.role, RoleName::Responder);
    }

    #[test]
    fn usim_fault_is_parsed_and_unknown_faults_name_the_key() {
        let text = |fault: &str| {
            format!(
                "[ike]\nrole = \"initiator\"\nauth = \"eap\"\nremote = \"192.0.2.1\"\npsk = \"x\"\nremote_auth = [\"psk\"]\n[usim]\nimsi = \"001010000000001\"\nk = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nopc = \"cd63cb71954a9f4e48a5994e37a02baf\"\n{fault}"
            )
        };
        let base = Path::new(".");
        let plain = IkeNodeSpec::from_toml(&text(""), base).unwrap();
        assert_eq!(plain.usim.unwrap().fault, None);
        let faulty = IkeNodeSpec::from_toml(&text("fault = \"wrong-res\"\n"), base).unwrap();
        assert_eq!(
            faulty.usim.unwrap().fault,
            Some(mobstrap_proto::eap::PeerFault::WrongRes)
        );
        let e = IkeNodeSpec::from_toml(&text("fault = \"wrong-sqn\"\n"), base).unwrap_err();
        assert_eq!(e.key, "usim.fault");
        assert!(e.why.contains("wrong-res"), "{e}");
    }
}
