//! The embedded HSS's data: subscribers, their keys and profiles, and the EAP-AKA temporary
//! identities. Plain values with serde (the AAA configuration and the CLI use them) and a
//! text form for each profile field (the CSV import and `--apn` use it; `docs/store.md`).
//!
//! Every constructor validates and names the field it rejects; the store only ever holds
//! values that passed [`Subscriber::validate`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use mobstrap_crypto::SecretBytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A rejected value: which field, and why. Never carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field (a CSV column, a CLI option or a config key use the same names).
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// An IMSI: 6 to 15 decimal digits (TS 23.003 §2.2: MCC, MNC, MSIN).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Imsi(String);

/// Length of `nai.epc.mncXXX.mccYYY.3gppnetwork.org`.
const REALM_LEN: usize = 37;

impl Imsi {
    /// Validates an IMSI.
    pub fn new(s: &str) -> Result<Self, FieldError> {
        if !(6..=15).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                "imsi",
                format!("{s:?} is not 6 to 15 decimal digits"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Mobile country code (first three digits).
    pub fn mcc(&self) -> &str {
        &self.0[..3]
    }

    /// Mobile network code, `mnc_len` (2 or 3) digits after the MCC.
    pub fn mnc(&self, mnc_len: MncLen) -> &str {
        &self.0[3..3 + mnc_len.digits()]
    }

    /// The home network realm of the EPC NAIs (TS 23.003 §19.3.2):
    /// `nai.epc.mnc<MNC, 3 digits>.mcc<MCC>.3gppnetwork.org`.
    pub fn nai_realm(&self, mnc_len: MncLen) -> String {
        let mut s = String::with_capacity(REALM_LEN);
        self.push_nai_realm(&mut s, mnc_len);
        s
    }

    fn push_nai_realm(&self, s: &mut String, mnc_len: MncLen) {
        let mnc = self.mnc(mnc_len);
        s.push_str("nai.epc.mnc");
        // TS 23.003 §19.3.2: the MNC with three digits (a 2-digit MNC gets a leading zero)
        for _ in mnc.len()..3 {
            s.push('0');
        }
        s.push_str(mnc);
        s.push_str(".mcc");
        s.push_str(self.mcc());
        s.push_str(".3gppnetwork.org");
    }

    /// The permanent identity for `method` (TS 23.003 §19.3.2): `0<IMSI>@realm` for
    /// EAP-AKA, `6<IMSI>@realm` for EAP-AKA'. (Built without `format!`: the AAA makes one
    /// per successful authentication.)
    pub fn permanent_identity(&self, method: AkaMethod, mnc_len: MncLen) -> String {
        let mut s = String::with_capacity(2 + self.0.len() + REALM_LEN);
        s.push(method.permanent_prefix());
        s.push_str(&self.0);
        s.push('@');
        self.push_nai_realm(&mut s, mnc_len);
        s
    }
}

impl fmt::Display for Imsi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Imsi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Imsi({})", self.0)
    }
}

impl FromStr for Imsi {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        Imsi::new(s)
    }
}

impl Serialize for Imsi {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Imsi {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Imsi::new(&s).map_err(serde::de::Error::custom)
    }
}

/// Length of the MNC inside the IMSI: 2 or 3 digits (which one is not visible in the IMSI;
/// it is a property of the home network).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MncLen {
    /// Two-digit MNC (most of Europe), the default.
    #[default]
    Two,
    /// Three-digit MNC (North America, India, ...).
    Three,
}

impl MncLen {
    /// 2 or 3.
    pub fn digits(self) -> usize {
        match self {
            MncLen::Two => 2,
            MncLen::Three => 3,
        }
    }

    /// From 2 or 3.
    pub fn from_digits(n: u64) -> Result<Self, FieldError> {
        match n {
            2 => Ok(MncLen::Two),
            3 => Ok(MncLen::Three),
            _ => Err(FieldError::new("mnc_len", format!("{n}: must be 2 or 3"))),
        }
    }
}

impl Serialize for MncLen {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.digits() as u8)
    }
}

impl<'de> Deserialize<'de> for MncLen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        MncLen::from_digits(u64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// EAP-AKA (RFC 4187) or EAP-AKA' (RFC 9048).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AkaMethod {
    /// EAP-AKA, permanent identities start with `0`.
    Aka,
    /// EAP-AKA', permanent identities start with `6`.
    AkaPrime,
}

impl AkaMethod {
    /// The leading digit of the permanent identity (TS 23.003 §19.3.2).
    pub fn permanent_prefix(self) -> char {
        match self {
            AkaMethod::Aka => '0',
            AkaMethod::AkaPrime => '6',
        }
    }

    /// `aka` or `aka-prime` (the stored form).
    pub fn as_str(self) -> &'static str {
        match self {
            AkaMethod::Aka => "aka",
            AkaMethod::AkaPrime => "aka-prime",
        }
    }
}

impl FromStr for AkaMethod {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s {
            "aka" => Ok(AkaMethod::Aka),
            "aka-prime" | "aka'" => Ok(AkaMethod::AkaPrime),
            _ => Err(FieldError::new(
                "method",
                format!("{s:?}: expected aka or aka-prime"),
            )),
        }
    }
}

/// A permanent identity taken apart: which method its leading digit asks for, the IMSI
/// and the realm (`None` for a bare username).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermanentIdentity {
    /// From the leading digit (`0` or `6`).
    pub method: AkaMethod,
    /// The digits after it.
    pub imsi: Imsi,
    /// The part after `@`, if any.
    pub realm: Option<String>,
}

impl PermanentIdentity {
    /// Parses `0<IMSI>[@realm]` or `6<IMSI>[@realm]`; anything else (a pseudonym, a
    /// re-authentication identity, an EAP-SIM identity) is `None`.
    pub fn parse(nai: &str) -> Option<Self> {
        let (user, realm) = match nai.split_once('@') {
            Some((u, r)) => (u, Some(r.to_owned())),
            None => (nai, None),
        };
        let method = match user.as_bytes().first()? {
            b'0' => AkaMethod::Aka,
            b'6' => AkaMethod::AkaPrime,
            _ => return None,
        };
        let imsi = Imsi::new(&user[1..]).ok()?;
        Some(Self {
            method,
            imsi,
            realm,
        })
    }
}

/// A 16-octet secret (K or OPc): zeroized on drop, never printed by `Debug`, serialized as
/// hex (only the provisioning paths serialize it).
#[derive(Clone, PartialEq, Eq)]
pub struct Key128(SecretBytes<16>);

impl Key128 {
    /// Wraps key bytes.
    pub fn new(bytes: [u8; 16]) -> Self {
        Self(SecretBytes::new(bytes))
    }

    /// Parses 32 hex digits; the error names `field` and never echoes the value.
    pub fn from_hex(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).map_err(|_| {
            FieldError::new(
                field,
                format!("expected 32 hex digits (got {} characters)", s.len()),
            )
        })?;
        Ok(Self::new(out))
    }

    /// From a stored column (16 octets).
    pub fn from_slice(field: &'static str, b: &[u8]) -> Result<Self, FieldError> {
        let arr: [u8; 16] = b
            .try_into()
            .map_err(|_| FieldError::new(field, format!("{} octets, expected 16", b.len())))?;
        Ok(Self::new(arr))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Lower-case hex (for `show --secrets` and exports only).
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }
}

impl fmt::Debug for Key128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key128(redacted)")
    }
}

impl Serialize for Key128 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Key128 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Key128::from_hex("key", &s).map_err(serde::de::Error::custom)
    }
}

/// The Authentication Management Field, 2 octets (hex in text forms: `8000`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amf(pub [u8; 2]);

impl Default for Amf {
    /// `8000`: the "separation bit" set, as EPS and non-3GPP access require (TS 33.401 §6.1.1,
    /// TS 33.402 §6.1).
    fn default() -> Self {
        Amf([0x80, 0x00])
    }
}

impl Amf {
    /// Parses 4 hex digits.
    pub fn from_hex(s: &str) -> Result<Self, FieldError> {
        let mut out = [0u8; 2];
        hex::decode_to_slice(s.trim(), &mut out)
            .map_err(|_| FieldError::new("amf", format!("{s:?}: expected 4 hex digits")))?;
        Ok(Amf(out))
    }
}

impl fmt::Display for Amf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}{:02x}", self.0[0], self.0[1])
    }
}

impl fmt::Debug for Amf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amf({self})")
    }
}

impl Serialize for Amf {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Amf::from_hex(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Checks a DNS name (RFC 1035 labels: letters, digits, hyphens; 1-63 octets each; 253 in
/// all). Returns it in lower case.
pub fn validate_fqdn(field: &'static str, s: &str) -> Result<String, FieldError> {
    let name = s.strip_suffix('.').unwrap_or(s);
    let bad = |why: &str| FieldError::new(field, format!("{s:?} is not a host name: {why}"));
    if name.is_empty() || name.len() > 253 {
        return Err(bad("length"));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(bad("empty label or label over 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad("only letters, digits, hyphens and dots"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label starts or ends with a hyphen"));
        }
    }
    Ok(name.to_ascii_lowercase())
}

/// A host given either as an address or as a name to resolve (home agent / LMA, FHA).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostRef {
    /// An IPv4 or IPv6 address.
    Address(IpAddr),
    /// A fully qualified domain name (lower case).
    Fqdn(String),
}

impl HostRef {
    /// An address if it parses as one, else a validated FQDN.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if let Ok(a) = s.parse::<IpAddr>() {
            return Ok(HostRef::Address(a));
        }
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') || s.contains(':') {
            return Err(FieldError::new(
                field,
                format!("{s:?} is neither an IP address nor a host name"),
            ));
        }
        Ok(HostRef::Fqdn(validate_fqdn(field, s)?))
    }
}

impl fmt::Display for HostRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostRef::Address(a) => write!(f, "{a}"),
            HostRef::Fqdn(n) => f.write_str(n),
        }
    }
}

impl Serialize for HostRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HostRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        HostRef::parse("host", &String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An IPv6 prefix (`2001:db8:1::/48`); host bits must be zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Prefix {
    /// The prefix (host bits zero).
    pub addr: Ipv6Addr,
    /// Its length, 1 to 128.
    pub len: u8,
}

impl Ipv6Prefix {
    /// Parses `ADDR/LEN`.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let bad = |why: &str| FieldError::new(field, format!("{s:?}: {why}"));
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| bad("expected an IPv6 prefix like 2001:db8:1::/64"))?;
        let addr: Ipv6Addr = a.parse().map_err(|_| bad("not an IPv6 address"))?;
        let len: u8 = l
            .parse()
            .ok()
            .filter(|l| (1..=128).contains(l))
            .ok_or_else(|| bad("prefix length must be 1 to 128"))?;
        let host_mask = if len == 128 { 0 } else { u128::MAX >> len };
        if u128::from(addr) & host_mask != 0 {
            return Err(bad("bits set after the prefix length"));
        }
        Ok(Self { addr, len })
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl Serialize for Ipv6Prefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv6Prefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ipv6Prefix::parse("ipv6_prefix", &String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// How the PDN gateway of an APN is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GatewaySelection {
    /// This gateway address (text form `gw:ADDR`).
    Address(IpAddr),
    /// This gateway name, resolved by the gateway selection function (text form `fqdn:NAME`).
    Fqdn(String),
    /// Chosen at attach time (the AAA's configured gateways, or the visited network's
    /// mapping when roaming) — text form `dynamic`.
    Dynamic,
}

impl GatewaySelection {
    /// Parses `dynamic`, `gw:ADDR`, `fqdn:NAME`, or a bare address or name.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("dynamic") {
            return Ok(GatewaySelection::Dynamic);
        }
        if let Some(a) = s.strip_prefix("gw:") {
            return a.parse().map(GatewaySelection::Address).map_err(|_| {
                FieldError::new(field, format!("{a:?} after gw: is not an IP address"))
            });
        }
        if let Some(n) = s.strip_prefix("fqdn:") {
            return Ok(GatewaySelection::Fqdn(validate_fqdn(field, n)?));
        }
        match HostRef::parse(field, s) {
            Ok(HostRef::Address(a)) => Ok(GatewaySelection::Address(a)),
            Ok(HostRef::Fqdn(n)) => Ok(GatewaySelection::Fqdn(n)),
            Err(_) => Err(FieldError::new(
                field,
                format!("{s:?}: expected dynamic, gw:ADDRESS or fqdn:NAME"),
            )),
        }
    }
}

impl fmt::Display for GatewaySelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatewaySelection::Address(a) => write!(f, "gw:{a}"),
            GatewaySelection::Fqdn(n) => write!(f, "fqdn:{n}"),
            GatewaySelection::Dynamic => f.write_str("dynamic"),
        }
    }
}

impl Serialize for GatewaySelection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GatewaySelection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        GatewaySelection::parse("gateway", &String::deserialize(d)?)
            .map_err(serde::de::Error::custom)
    }
}

/// PDN type of an APN (TS 29.272 §7.3.62 PDN-Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PdnType {
    /// IPv4 only.
    Ipv4,
    /// IPv6 only.
    Ipv6,
    /// Dual stack (the default).
    #[default]
    Ipv4v6,
    /// IPv4 or IPv6, one of them per connection.
    Ipv4OrIpv6,
}

impl PdnType {
    /// `ipv4`, `ipv6`, `ipv4v6`, `ipv4-or-ipv6`.
    pub fn as_str(self) -> &'static str {
        match self {
            PdnType::Ipv4 => "ipv4",
            PdnType::Ipv6 => "ipv6",
            PdnType::Ipv4v6 => "ipv4v6",
            PdnType::Ipv4OrIpv6 => "ipv4-or-ipv6",
        }
    }

    /// The inverse of [`PdnType::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ipv4" => PdnType::Ipv4,
            "ipv6" => PdnType::Ipv6,
            "ipv4v6" => PdnType::Ipv4v6,
            "ipv4-or-ipv6" => PdnType::Ipv4OrIpv6,
            _ => return None,
        })
    }
}

/// Checks an APN network identifier (TS 23.003 §9.1: dot-separated labels of letters, digits
/// and hyphens, at most 63 octets in all) or the wildcard `*`. Returns it in lower case
/// (APNs compare case-insensitively).
pub fn validate_apn(field: &'static str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s == "*" {
        return Ok(s.to_owned());
    }
    if s.len() > 63 {
        return Err(FieldError::new(
            field,
            format!("APN {s:?} longer than 63 characters"),
        ));
    }
    validate_fqdn(field, s).map_err(|_| {
        FieldError::new(
            field,
            format!("APN {s:?}: labels of letters, digits, hyphens"),
        )
    })
}

/// One APN the subscriber may use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApnProfile {
    /// The APN network identifier (lower case), or `*` for any APN.
    pub apn: String,
    /// Where its PDN connections go.
    pub gateway: GatewaySelection,
    /// Whether a visited network may serve this APN with a gateway of its own (VPLMN address
    /// allowed; seed 002's roaming case). `false`: home-routed only.
    #[serde(default)]
    pub visited_allowed: bool,
    /// PDN type.
    #[serde(default)]
    pub pdn_type: PdnType,
}

impl ApnProfile {
    /// Parses one entry of the compact syntax: `APN=TARGET[+FLAG...]`, TARGET one of
    /// `dynamic`, `gw:ADDR`, `fqdn:NAME` (or a bare address or name), FLAG one of `visited`,
    /// `ipv4`, `ipv6`, `ipv4v6`, `ipv4-or-ipv6`. Flags may also be separated by commas.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let (apn, rest) = s.split_once('=').ok_or_else(|| {
            FieldError::new(
                field,
                format!("{s:?}: expected APN=TARGET, e.g. internet=gw:192.0.2.10"),
            )
        })?;
        let apn = validate_apn(field, apn)?;
        let mut parts = rest.split(['+', ',']);
        let target = parts.next().unwrap_or_default();
        let gateway = GatewaySelection::parse(field, target)
            .map_err(|e| FieldError::new(field, format!("APN {apn}: {}", e.reason)))?;
        let mut p = ApnProfile {
            apn,
            gateway,
            visited_allowed: false,
            pdn_type: PdnType::default(),
        };
        for flag in parts {
            let flag = flag.trim();
            if flag == "visited" {
                p.visited_allowed = true;
            } else if let Some(t) = PdnType::parse(flag) {
                p.pdn_type = t;
            } else {
                return Err(FieldError::new(
                    field,
                    format!(
                        "APN {}: unknown flag {flag:?} (visited, ipv4, ipv6, ipv4v6, ipv4-or-ipv6)",
                        p.apn
                    ),
                ));
            }
        }
        Ok(p)
    }

    /// Parses a `;`-separated list of entries (empty string: no APNs).
    pub fn parse_list(field: &'static str, s: &str) -> Result<Vec<Self>, FieldError> {
        let mut out: Vec<ApnProfile> = Vec::new();
        for entry in s.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let p = ApnProfile::parse(field, entry)?;
            if out.iter().any(|q| q.apn == p.apn) {
                return Err(FieldError::new(
                    field,
                    format!("APN {} listed twice", p.apn),
                ));
            }
            out.push(p);
        }
        Ok(out)
    }

    /// Formats a list in the compact syntax (the inverse of [`ApnProfile::parse_list`]).
    pub fn format_list(list: &[ApnProfile]) -> String {
        list.iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(";")
    }
}

impl fmt::Display for ApnProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.apn, self.gateway)?;
        if self.visited_allowed {
            f.write_str("+visited")?;
        }
        if self.pdn_type != PdnType::default() {
            write!(f, "+{}", self.pdn_type.as_str())?;
        }
        Ok(())
    }
}

/// A non-3GPP access type the subscriber may attach through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessType {
    /// Untrusted WLAN through an ePDG (S2b, SWm; seeds 002, 001).
    UntrustedWlan,
    /// Trusted WLAN (S2a, STa; seed 000).
    TrustedWlan,
    /// Another trusted non-3GPP access (STa), e.g. a PMIPv6 MAG of seed 003.
    TrustedNon3gpp,
    /// Mobile IPv4 through a foreign (home) agent (seed 004).
    Mip4,
}

impl AccessType {
    /// Every access type.
    pub const ALL: [AccessType; 4] = [
        AccessType::UntrustedWlan,
        AccessType::TrustedWlan,
        AccessType::TrustedNon3gpp,
        AccessType::Mip4,
    ];

    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::UntrustedWlan => "untrusted-wlan",
            AccessType::TrustedWlan => "trusted-wlan",
            AccessType::TrustedNon3gpp => "trusted-non3gpp",
            AccessType::Mip4 => "mip4",
        }
    }

    /// Parses one access type.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        AccessType::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    format!(
                        "unknown access type {s:?} (untrusted-wlan, trusted-wlan, trusted-non3gpp, mip4, all)"
                    ),
                )
            })
    }

    /// Parses a list separated by `,` `;` or spaces; `all` (or an empty string) is every type.
    pub fn parse_list(field: &'static str, s: &str) -> Result<Vec<Self>, FieldError> {
        let s = s.trim();
        if s.is_empty() || s == "all" {
            return Ok(AccessType::ALL.to_vec());
        }
        let mut v = Vec::new();
        for part in s.split([',', ';', ' ']).filter(|p| !p.is_empty()) {
            let a = AccessType::parse(field, part)?;
            if !v.contains(&a) {
                v.push(a);
            }
        }
        v.sort();
        Ok(v)
    }

    /// Formats a list (`all` when it holds every type).
    pub fn format_list(list: &[AccessType]) -> String {
        if AccessType::ALL.iter().all(|a| list.contains(a)) {
            return "all".into();
        }
        list.iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn all_access() -> Vec<AccessType> {
    AccessType::ALL.to_vec()
}

/// What the subscriber may do and where it goes: the profile the AAA hands to gateways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberProfile {
    /// MSISDN (digits), if the profile carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msisdn: Option<String>,
    /// APNs in order of preference.
    #[serde(default)]
    pub apns: Vec<ApnProfile>,
    /// The APN used when the UE asks for none; `None`: the first of `apns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_apn: Option<String>,
    /// Static IPv4 home address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_ipv4: Option<Ipv4Addr>,
    /// Static IPv6 home network prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_ipv6_prefix: Option<Ipv6Prefix>,
    /// Home agent (DSMIPv6) / LMA (PMIPv6) to use, as address or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_agent: Option<HostRef>,
    /// Mobile IPv4 foreign home agent assigned to the subscriber (seed 004).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mip4_fha: Option<HostRef>,
    /// Access types allowed (default: all).
    #[serde(default = "all_access")]
    pub access_types: Vec<AccessType>,
}

impl Default for SubscriberProfile {
    fn default() -> Self {
        Self {
            msisdn: None,
            apns: Vec::new(),
            default_apn: None,
            static_ipv4: None,
            static_ipv6_prefix: None,
            home_agent: None,
            mip4_fha: None,
            access_types: all_access(),
        }
    }
}

impl SubscriberProfile {
    /// The APN to use when the UE names none.
    pub fn default_apn(&self) -> Option<&ApnProfile> {
        match &self.default_apn {
            Some(name) => self.apn(name),
            None => self.apns.first(),
        }
    }

    /// The profile of `apn` (case-insensitive), or of the wildcard `*` if listed.
    pub fn apn(&self, apn: &str) -> Option<&ApnProfile> {
        self.apns
            .iter()
            .find(|p| p.apn.eq_ignore_ascii_case(apn))
            .or_else(|| self.apns.iter().find(|p| p.apn == "*"))
    }

    /// Whether `access` is allowed.
    pub fn allows(&self, access: AccessType) -> bool {
        self.access_types.contains(&access)
    }
}

/// One subscriber of the embedded HSS.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    /// The IMSI.
    pub imsi: Imsi,
    /// MNC length, to split the IMSI into MCC and MNC for the NAI realm.
    #[serde(default)]
    pub mnc_len: MncLen,
    /// Subscriber key K.
    pub k: Key128,
    /// OPc (TS 35.206 §4.1): given, or computed from OP at provisioning.
    pub opc: Key128,
    /// Whether OPc was computed from an OP given at provisioning (informational).
    #[serde(default)]
    pub opc_from_op: bool,
    /// Authentication management field.
    #[serde(default)]
    pub amf: Amf,
    /// Profile.
    #[serde(default, flatten)]
    pub profile: SubscriberProfile,
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("imsi", &self.imsi)
            .field("mnc_len", &self.mnc_len.digits())
            .field("amf", &self.amf)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Subscriber {
    /// A subscriber with OPc, default AMF and profile.
    pub fn new(imsi: Imsi, k: Key128, opc: Key128) -> Self {
        Self {
            imsi,
            mnc_len: MncLen::Two,
            k,
            opc,
            opc_from_op: false,
            amf: Amf::default(),
            profile: SubscriberProfile::default(),
        }
    }

    /// A subscriber from K and OP: OPc = E_K(OP) ⊕ OP is computed and stored (OP is not).
    pub fn with_op(imsi: Imsi, k: Key128, op: &Key128) -> Self {
        let opc = mobstrap_crypto::milenage::compute_opc(k.as_bytes(), op.as_bytes());
        let mut s = Self::new(imsi, k, Key128::new(*opc.as_bytes()));
        s.opc_from_op = true;
        s
    }

    /// The permanent identity for `method` (`0<IMSI>@nai.epc...` or `6<IMSI>@nai.epc...`).
    pub fn permanent_identity(&self, method: AkaMethod) -> String {
        self.imsi.permanent_identity(method, self.mnc_len)
    }

    /// The home realm `nai.epc.mnc<MNC>.mcc<MCC>.3gppnetwork.org`.
    pub fn nai_realm(&self) -> String {
        self.imsi.nai_realm(self.mnc_len)
    }

    /// Checks the invariants the types cannot express: the default APN is listed, the
    /// MSISDN is digits, the IMSI is long enough for its MNC, at least one access type.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.imsi.as_str().len() < 3 + self.mnc_len.digits() + 1 {
            return Err(FieldError::new(
                "imsi",
                format!(
                    "{} is too short for a {}-digit MNC",
                    self.imsi,
                    self.mnc_len.digits()
                ),
            ));
        }
        let p = &self.profile;
        if let Some(d) = &p.default_apn {
            if !p.apns.iter().any(|a| a.apn.eq_ignore_ascii_case(d)) {
                return Err(FieldError::new(
                    "default_apn",
                    format!("{d:?} is not one of the subscriber's APNs"),
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for a in &p.apns {
            validate_apn("apns", &a.apn)?;
            if !seen.insert(a.apn.to_ascii_lowercase()) {
                return Err(FieldError::new(
                    "apns",
                    format!("APN {} listed twice", a.apn),
                ));
            }
        }
        if let Some(m) = &p.msisdn {
            if m.is_empty() || m.len() > 15 || !m.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FieldError::new(
                    "msisdn",
                    format!("{m:?} is not 1 to 15 digits"),
                ));
            }
        }
        if p.access_types.is_empty() {
            return Err(FieldError::new(
                "access_types",
                "no access type allowed (use `all` for every one)",
            ));
        }
        Ok(())
    }
}

/// A pseudonym (RFC 4187 §4.1.1.7) issued by the AAA: its username maps back to the IMSI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PseudonymRecord {
    /// The username part the UE will present (the AAA chooses it; unique).
    pub username: String,
    /// The subscriber.
    pub imsi: Imsi,
    /// The method it was issued in.
    pub method: AkaMethod,
    /// Unix time (seconds) after which it is no longer accepted.
    pub expires_at: i64,
}

/// A fast re-authentication identity (RFC 4187 §5, RFC 9048 §3.3) with what the AAA needs
/// to run the fast re-authentication: the counter and the keys of the full authentication.
#[derive(Clone, PartialEq, Eq)]
pub struct ReauthRecord {
    /// The username part the UE will present (unique; one-time).
    pub username: String,
    /// The subscriber.
    pub imsi: Imsi,
    /// The method of the full authentication.
    pub method: AkaMethod,
    /// AT_COUNTER of the last (re-)authentication; the next one must use a larger value.
    pub counter: u16,
    /// EAP-AKA: the master key MK (20 octets). Empty for EAP-AKA'.
    pub mk: Vec<u8>,
    /// EAP-AKA': K_re (32 octets). Empty for EAP-AKA.
    pub k_re: Vec<u8>,
    /// K_aut (16 octets for EAP-AKA, 32 for EAP-AKA').
    pub k_aut: Vec<u8>,
    /// K_encr (16 octets).
    pub k_encr: Vec<u8>,
    /// Unix time (seconds) after which it is no longer accepted.
    pub expires_at: i64,
}

impl fmt::Debug for ReauthRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReauthRecord")
            .field("username", &self.username)
            .field("imsi", &self.imsi)
            .field("method", &self.method)
            .field("counter", &self.counter)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Drop for ReauthRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.mk.zeroize();
        self.k_re.zeroize();
        self.k_aut.zeroize();
        self.k_encr.zeroize();
    }
}

impl PseudonymRecord {
    /// (username, IMSI, method) as stored.
    pub(crate) fn key(&self) -> (&str, &str, &str) {
        (&self.username, self.imsi.as_str(), self.method.as_str())
    }
}

impl ReauthRecord {
    /// (username, IMSI, method) as stored.
    pub(crate) fn key(&self) -> (&str, &str, &str) {
        (&self.username, self.imsi.as_str(), self.method.as_str())
    }

    /// Checks the key lengths against the method.
    pub fn validate(&self) -> Result<(), FieldError> {
        let (mk, kre, kaut) = match self.method {
            AkaMethod::Aka => (20, 0, 16),
            AkaMethod::AkaPrime => (0, 32, 32),
        };
        let check = |field: &'static str, v: &[u8], n: usize| {
            if v.len() == n {
                Ok(())
            } else {
                Err(FieldError::new(
                    field,
                    format!("{} octets, {} needs {n}", v.len(), self.method.as_str()),
                ))
            }
        };
        check("mk", &self.mk, mk)?;
        check("k_re", &self.k_re, kre)?;
        check("k_aut", &self.k_aut, kaut)?;
        check("k_encr", &self.k_encr, 16)?;
        if self.username.is_empty() || self.username.len() > 253 {
            return Err(FieldError::new("username", "empty or too long"));
        }
        Ok(())
    }
}

/// What a stored AAA session is (docs/aaa.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    /// SWm (ePDG, untrusted non-3GPP access): DER/DEA then AAR/AAA.
    Swm,
    /// STa (trusted non-3GPP access, a MAG).
    Sta,
    /// The Diameter EAP application (RFC 4072; RFC 5779 MAG).
    Eap,
    /// S6b: a PDN GW / LMA registered for the user and APN.
    S6b,
}

impl SessionKind {
    /// `swm`, `sta`, `eap`, `s6b`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Swm => "swm",
            SessionKind::Sta => "sta",
            SessionKind::Eap => "eap",
            SessionKind::S6b => "s6b",
        }
    }
}

impl FromStr for SessionKind {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        Ok(match s {
            "swm" => SessionKind::Swm,
            "sta" => SessionKind::Sta,
            "eap" => SessionKind::Eap,
            "s6b" => SessionKind::S6b,
            _ => {
                return Err(FieldError::new(
                    "kind",
                    format!("unknown session kind {s:?}"),
                ))
            }
        })
    }
}

/// A session of the AAA server that every AAA node sharing the database must see: an
/// authorization of an access gateway (SWm, STa, EAP application), or a PDN GW / LMA
/// registration over S6b, with the MAG–LMA key of seed 003 when one was derived.
#[derive(Clone, PartialEq, Eq)]
pub struct AaaSessionRecord {
    /// The Diameter Session-Id (unique).
    pub session_id: String,
    /// The subscriber.
    pub imsi: Imsi,
    /// Which interface.
    pub kind: SessionKind,
    /// Diameter identity of the client (ePDG, MAG, PDN GW / LMA).
    pub peer: String,
    /// Diameter identity of the AAA node that created it.
    pub aaa_host: String,
    /// The subscriber's permanent NAI (Mobile-Node-Identifier).
    pub nai: String,
    /// The APN (S6b registration, SWm authorization).
    pub apn: Option<String>,
    /// S6b: the registered PDN GW / LMA identity.
    pub gateway_host: Option<String>,
    /// S6b: the registered PDN GW / LMA address, if it sent one.
    pub gateway_address: Option<String>,
    /// Visited-Network-Identifier when the user roams.
    pub visited_network: Option<String>,
    /// The MAG–LMA key (64 octets) derived from this session's EMSK; empty if none.
    pub mag_lma_key: Vec<u8>,
    /// The LMA identity the key is bound to (its IKEv2 identity: FQDN or address).
    pub lma_identity: Option<String>,
    /// Unix time of creation in milliseconds (orders a subscriber's sessions).
    pub created_ms: i64,
    /// Unix time (seconds) after which it is gone.
    pub expires_at: i64,
}

impl fmt::Debug for AaaSessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AaaSessionRecord")
            .field("session_id", &self.session_id)
            .field("imsi", &self.imsi)
            .field("kind", &self.kind)
            .field("peer", &self.peer)
            .field("aaa_host", &self.aaa_host)
            .field("apn", &self.apn)
            .field("gateway_host", &self.gateway_host)
            .field("gateway_address", &self.gateway_address)
            .field("visited_network", &self.visited_network)
            .field("mag_lma_key", &(!self.mag_lma_key.is_empty()))
            .field("lma_identity", &self.lma_identity)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Drop for AaaSessionRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.mag_lma_key.zeroize();
    }
}

impl AaaSessionRecord {
    /// Checks lengths.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.session_id.is_empty() || self.session_id.len() > 1024 {
            return Err(FieldError::new("session_id", "empty or longer than 1024"));
        }
        if !(self.mag_lma_key.is_empty() || self.mag_lma_key.len() == 64) {
            return Err(FieldError::new(
                "mag_lma_key",
                "must be 64 octets or absent",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imsi(s: &str) -> Imsi {
        Imsi::new(s).unwrap()
    }

    #[test]
    fn identities_follow_ts_23_003() {
        let i = imsi("234150999999999");
        assert_eq!(
            i.permanent_identity(AkaMethod::Aka, MncLen::Two),
            "0234150999999999@nai.epc.mnc015.mcc234.3gppnetwork.org"
        );
        assert_eq!(
            i.permanent_identity(AkaMethod::AkaPrime, MncLen::Three),
            "6234150999999999@nai.epc.mnc150.mcc234.3gppnetwork.org"
        );
        let p = PermanentIdentity::parse("6001010123456789@nai.epc.mnc001.mcc001.3gppnetwork.org")
            .unwrap();
        assert_eq!(p.method, AkaMethod::AkaPrime);
        assert_eq!(p.imsi.as_str(), "001010123456789");
        assert!(PermanentIdentity::parse("2001010123456789@x").is_none());
        assert!(PermanentIdentity::parse("0abc@x").is_none());
        assert!(PermanentIdentity::parse("").is_none());
    }

    #[test]
    fn imsi_bounds() {
        assert!(Imsi::new("12345").is_err());
        assert!(Imsi::new("123456").is_ok());
        assert!(Imsi::new("1234567890123456").is_err());
        assert!(Imsi::new("12345a").is_err());
    }

    #[test]
    fn apn_syntax_round_trips() {
        let l = ApnProfile::parse_list(
            "apns",
            "internet=gw:192.0.2.10;IMS=fqdn:PGW.ims.example,visited;v6=gw:2001:db8::1+ipv6;*=dynamic+visited+ipv4",
        )
        .unwrap();
        assert_eq!(l.len(), 4);
        assert_eq!(l[1].apn, "ims");
        assert_eq!(
            l[1].gateway,
            GatewaySelection::Fqdn("pgw.ims.example".into())
        );
        assert!(l[1].visited_allowed);
        assert_eq!(l[2].pdn_type, PdnType::Ipv6);
        assert_eq!(l[3].gateway, GatewaySelection::Dynamic);
        let text = ApnProfile::format_list(&l);
        assert_eq!(
            text,
            "internet=gw:192.0.2.10;ims=fqdn:pgw.ims.example+visited;v6=gw:2001:db8::1+ipv6;*=dynamic+visited+ipv4"
        );
        assert_eq!(ApnProfile::parse_list("apns", &text).unwrap(), l);
        // Bare targets.
        let b = ApnProfile::parse("apns", "a=192.0.2.1").unwrap();
        assert_eq!(
            b.gateway,
            GatewaySelection::Address("192.0.2.1".parse().unwrap())
        );
    }

    #[test]
    fn apn_syntax_errors_name_the_problem() {
        let e = ApnProfile::parse_list("apns", "internet").unwrap_err();
        assert!(e.reason.contains("APN=TARGET"), "{e}");
        let e = ApnProfile::parse_list("apns", "internet=gw:999.1.1.1").unwrap_err();
        assert!(e.reason.contains("not an IP address"), "{e}");
        let e = ApnProfile::parse_list("apns", "internet=dynamic+roaming").unwrap_err();
        assert!(e.reason.contains("unknown flag \"roaming\""), "{e}");
        let e = ApnProfile::parse_list("apns", "a=dynamic;A=dynamic").unwrap_err();
        assert!(e.reason.contains("twice"), "{e}");
        let e = ApnProfile::parse_list("apns", "bad_apn=dynamic").unwrap_err();
        assert_eq!(e.field, "apns");
    }

    #[test]
    fn prefixes_and_hosts() {
        assert!(Ipv6Prefix::parse("p", "2001:db8:1::/48").is_ok());
        assert!(Ipv6Prefix::parse("p", "2001:db8:1::1/64").is_err());
        assert!(Ipv6Prefix::parse("p", "2001:db8::/0").is_err());
        assert!(Ipv6Prefix::parse("p", "2001:db8::1/128").is_ok());
        assert_eq!(
            HostRef::parse("h", "LMA.example.org").unwrap(),
            HostRef::Fqdn("lma.example.org".into())
        );
        assert!(HostRef::parse("h", "192.0.2.300").is_err());
        assert!(HostRef::parse("h", "-bad.example").is_err());
    }

    #[test]
    fn access_lists() {
        assert_eq!(AccessType::parse_list("a", "").unwrap().len(), 4);
        let l = AccessType::parse_list("a", "trusted-wlan, untrusted-wlan").unwrap();
        assert_eq!(l, vec![AccessType::UntrustedWlan, AccessType::TrustedWlan]);
        assert_eq!(AccessType::format_list(&l), "untrusted-wlan,trusted-wlan");
        assert!(AccessType::parse_list("a", "wifi").is_err());
    }

    #[test]
    fn opc_from_op_matches_ts_35_208_set_1() {
        let k = Key128::from_hex("k", "465b5ce8b199b49faa5f0a2ee238a6bc").unwrap();
        let op = Key128::from_hex("op", "cdc202d5123e20f62b6d676ac72cb318").unwrap();
        let s = Subscriber::with_op(imsi("001010123456789"), k, &op);
        assert_eq!(s.opc.to_hex(), "cd63cb71954a9f4e48a5994e37a02baf");
        assert!(s.opc_from_op);
        assert!(!format!("{s:?}").contains("465b5c"), "Debug leaks K");
    }

    #[test]
    fn serde_round_trip() {
        let mut s = Subscriber::new(
            imsi("001010000000001"),
            Key128::new([1; 16]),
            Key128::new([2; 16]),
        );
        s.profile.apns = ApnProfile::parse_list("apns", "internet=dynamic").unwrap();
        s.profile.home_agent = Some(HostRef::parse("h", "2001:db8::10").unwrap());
        let j = serde_json::to_string(&s).unwrap();
        let back: Subscriber = serde_json::from_str(&j).unwrap();
        assert_eq!(back, s);
        let t: Subscriber = serde_json::from_str(
            r#"{"imsi":"001010000000002","k":"00000000000000000000000000000001","opc":"00000000000000000000000000000002"}"#,
        )
        .unwrap();
        assert_eq!(t.profile.access_types.len(), 4);
        assert_eq!(t.amf, Amf([0x80, 0]));
    }

    #[test]
    fn validate_rejects_inconsistent_profiles() {
        let mut s = Subscriber::new(
            imsi("001010000000001"),
            Key128::new([1; 16]),
            Key128::new([2; 16]),
        );
        s.profile.default_apn = Some("ims".into());
        assert_eq!(s.validate().unwrap_err().field, "default_apn");
        s.profile.default_apn = None;
        s.profile.msisdn = Some("+33".into());
        assert_eq!(s.validate().unwrap_err().field, "msisdn");
        s.profile.msisdn = None;
        s.profile.access_types.clear();
        assert_eq!(s.validate().unwrap_err().field, "access_types");
    }
}
