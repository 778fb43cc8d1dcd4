//! Shared EAP-AKA / EAP-AKA' machinery for the server and peer methods: attribute collection
//! with the RFC 4187 §8.1 rules, message building straight into the transmit buffer (no
//! per-message allocation), AT_ENCR_DATA in place, AT_MAC, and the key sets.

use mobstrap_crypto::eap_aka::{self, AkaKeys, MacAlg, ReauthKeys};
use mobstrap_crypto::eap_aka_prime::{AkaPrimeKeys, AkaPrimeReauthKeys};
use mobstrap_crypto::SecretBytes;
use mobstrap_wire::codec::Writer;
use mobstrap_wire::eap::aka::{AttrType, Attribute, Subtype};
use mobstrap_wire::Reader;
use rand::RngCore;

use super::{Method, ReauthSecrets};

/// Largest AT_ENCR_DATA value (Length is one byte in units of 4; 4 bytes of header).
const ENCR_MAX: usize = 255 * 4 - 4;
/// At most this many AT_KDF attributes are kept.
pub(crate) const KDF_MAX: usize = 8;

/// Why attributes were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrError {
    Malformed,
    Duplicate(u8),
    NonSkippable(u8),
    Misplaced(u8),
    BadPadding,
}

/// The attributes of one message (or of decrypted AT_ENCR_DATA), at most one of each except
/// AT_KDF.
#[derive(Debug, Default, Clone)]
pub(crate) struct Attrs<'a> {
    pub rand: Option<&'a [u8; 16]>,
    pub autn: Option<&'a [u8; 16]>,
    pub res: Option<(u16, &'a [u8])>,
    pub auts: Option<&'a [u8; 14]>,
    pub permanent_id_req: bool,
    pub fullauth_id_req: bool,
    pub any_id_req: bool,
    pub mac: bool,
    pub notification: Option<u16>,
    pub identity: Option<&'a [u8]>,
    pub counter: Option<u16>,
    pub counter_too_small: bool,
    pub nonce_s: Option<&'a [u8; 16]>,
    pub client_error: Option<u16>,
    pub kdf_input: Option<&'a [u8]>,
    pub kdfs: [u16; KDF_MAX],
    pub kdf_count: usize,
    pub iv: Option<&'a [u8; 16]>,
    pub encr_data: Option<&'a [u8]>,
    pub next_pseudonym: Option<&'a [u8]>,
    pub next_reauth_id: Option<&'a [u8]>,
    pub checkcode: Option<&'a [u8]>,
    pub result_ind: bool,
    pub bidding: Option<u16>,
    seen: [u64; 4],
}

impl<'a> Attrs<'a> {
    fn mark(&mut self, t: u8) -> Result<(), AttrError> {
        let (w, b) = ((t / 64) as usize, t % 64);
        if self.seen[w] & (1 << b) != 0 && t != AttrType::Kdf.value() {
            return Err(AttrError::Duplicate(t));
        }
        self.seen[w] |= 1 << b;
        Ok(())
    }

    /// Collects `buf`, a run of attributes. `encrypted` is true for the plaintext of
    /// AT_ENCR_DATA: the attributes RFC 4187 only allows there are refused outside it and
    /// vice versa.
    pub fn parse(buf: &'a [u8], encrypted: bool) -> Result<Self, AttrError> {
        let mut a = Attrs::default();
        let mut r = Reader::new("eap-aka", buf);
        while !r.is_empty() {
            let attr = Attribute::parse(&mut r).map_err(|_| AttrError::Malformed)?;
            let t = attr.type_code();
            a.mark(t)?;
            let inner_only = matches!(
                attr,
                Attribute::Padding(_)
                    | Attribute::Counter(_)
                    | Attribute::CounterTooSmall { .. }
                    | Attribute::NonceS { .. }
                    | Attribute::NextPseudonym(_)
                    | Attribute::NextReauthId(_)
            );
            if inner_only != encrypted && !matches!(attr, Attribute::Unknown { .. }) {
                return Err(AttrError::Misplaced(t));
            }
            match attr {
                Attribute::Rand { rand, .. } => a.rand = Some(rand),
                Attribute::Autn { autn, .. } => a.autn = Some(autn),
                Attribute::Res { res_bits, res, .. } => a.res = Some((res_bits, res)),
                Attribute::Auts(x) => a.auts = Some(x),
                Attribute::Padding(p) => {
                    if p.iter().any(|&b| b != 0) {
                        return Err(AttrError::BadPadding);
                    }
                }
                Attribute::PermanentIdReq { .. } => a.permanent_id_req = true,
                Attribute::Mac { .. } => a.mac = true,
                Attribute::Notification(c) => a.notification = Some(c),
                Attribute::AnyIdReq { .. } => a.any_id_req = true,
                Attribute::Identity(p) => a.identity = Some(p.value),
                Attribute::FullauthIdReq { .. } => a.fullauth_id_req = true,
                Attribute::Counter(c) => a.counter = Some(c),
                Attribute::CounterTooSmall { .. } => a.counter_too_small = true,
                Attribute::NonceS { nonce_s, .. } => a.nonce_s = Some(nonce_s),
                Attribute::ClientErrorCode(c) => a.client_error = Some(c),
                Attribute::KdfInput(p) => a.kdf_input = Some(p.value),
                Attribute::Kdf(k) => {
                    if a.kdf_count >= KDF_MAX {
                        return Err(AttrError::Duplicate(t));
                    }
                    a.kdfs[a.kdf_count] = k;
                    a.kdf_count += 1;
                }
                Attribute::Iv { iv, .. } => a.iv = Some(iv),
                Attribute::EncrData { data, .. } => a.encr_data = Some(data),
                Attribute::NextPseudonym(p) => a.next_pseudonym = Some(p.value),
                Attribute::NextReauthId(p) => a.next_reauth_id = Some(p.value),
                Attribute::Checkcode { checkcode, .. } => a.checkcode = Some(checkcode),
                Attribute::ResultInd { .. } => a.result_ind = true,
                Attribute::Bidding(b) => a.bidding = Some(b),
                Attribute::Unknown { typ, .. } => {
                    if !mobstrap_wire::eap::aka::is_skippable(typ) {
                        return Err(AttrError::NonSkippable(typ));
                    }
                }
            }
        }
        Ok(a)
    }

    pub fn kdfs(&self) -> &[u16] {
        &self.kdfs[..self.kdf_count]
    }
}

/// Splits an EAP-AKA/AKA' packet into (subtype, attribute bytes). The caller has checked
/// the EAP header and type.
pub(crate) fn split_message(packet: &[u8]) -> Option<(Subtype, &[u8])> {
    // Code, Identifier, Length (2), Type, Subtype, Reserved (2).
    if packet.len() < 8 {
        return None;
    }
    Some((Subtype::from(packet[5]), &packet[8..]))
}

/// Writes one EAP-AKA/AKA' message into a buffer; the EAP Length is patched at the end and
/// the AT_MAC value computed last.
pub(crate) struct MsgWriter<'b> {
    buf: &'b mut Vec<u8>,
    mac_at: Option<usize>,
    encr: Option<(usize, usize)>,
}

impl<'b> MsgWriter<'b> {
    /// Starts a Request (code 1) or Response (code 2). The buffer is cleared.
    pub fn new(buf: &'b mut Vec<u8>, code: u8, id: u8, method: Method, subtype: Subtype) -> Self {
        buf.clear();
        buf.extend_from_slice(&[code, id, 0, 0, method.eap_type(), subtype.value(), 0, 0]);
        MsgWriter {
            buf,
            mac_at: None,
            encr: None,
        }
    }

    /// Appends an attribute. The values come from this engine, so emit cannot fail except
    /// for an identity too long for its field, which is reported.
    pub fn attr(&mut self, a: &Attribute<'_>) -> Result<(), mobstrap_wire::Error> {
        a.emit(self.buf)
    }

    /// AT_MAC with a zero value, filled in by [`MsgWriter::finish`].
    pub fn mac(&mut self) {
        self.buf
            .extend_from_slice(&[AttrType::Mac.value(), 5, 0, 0]);
        self.mac_at = Some(self.buf.len());
        self.buf.extend_from_slice(&[0u8; 16]);
    }

    /// AT_IV (random) then the header of AT_ENCR_DATA; the attributes that follow until
    /// [`MsgWriter::end_encr`] are its plaintext.
    pub fn begin_encr(&mut self, rng: &mut dyn RngCore) -> [u8; 16] {
        let mut iv = [0u8; 16];
        rng.fill_bytes(&mut iv);
        self.buf.extend_from_slice(&[AttrType::Iv.value(), 5, 0, 0]);
        self.buf.extend_from_slice(&iv);
        let hdr = self.buf.len();
        self.buf
            .extend_from_slice(&[AttrType::EncrData.value(), 0, 0, 0]);
        self.encr = Some((hdr, self.buf.len()));
        iv
    }

    /// Pads the plaintext with AT_PADDING to a multiple of 16 and encrypts it in place.
    pub fn end_encr(&mut self, k_encr: &[u8; 16], iv: &[u8; 16]) -> Result<(), EncrError> {
        let (hdr, start) = self.encr.take().ok_or(EncrError)?;
        let len = self.buf.len() - start;
        let rem = len % 16;
        if rem != 0 || len == 0 {
            // Attributes are 4-aligned, so the padding is 4, 8, 12 or (empty plaintext) 16.
            let pad = if len == 0 { 16 } else { 16 - rem };
            self.buf.push(AttrType::Padding.value());
            self.buf.push((pad / 4) as u8);
            self.buf.put_zeros(pad - 2);
        }
        let len = self.buf.len() - start;
        if len > ENCR_MAX {
            return Err(EncrError);
        }
        eap_aka::encrypt_encr_data(k_encr, iv, &mut self.buf[start..]).map_err(|_| EncrError)?;
        self.buf[hdr + 1] = ((len + 4) / 4) as u8;
        Ok(())
    }

    /// Patches the EAP Length, computes AT_MAC if one was added (over the packet followed by
    /// `extra`). Returns the offset of the MAC value, if any.
    pub fn finish(self, mac: Option<(MacAlg, &[u8])>, extra: &[u8]) -> Option<usize> {
        let len = self.buf.len().min(u16::MAX as usize) as u16;
        self.buf[2..4].copy_from_slice(&len.to_be_bytes());
        if let (Some(at), Some((alg, k_aut))) = (self.mac_at, mac) {
            // The offset is ours and inside the buffer: this cannot fail.
            let _ = eap_aka::set_at_mac(alg, k_aut, self.buf, at, extra);
        }
        self.mac_at
    }
}

/// AT_ENCR_DATA could not be built or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EncrError;

/// Decrypts AT_ENCR_DATA into `scratch` and returns the plaintext slice.
pub(crate) fn decrypt_encr<'s>(
    k_encr: &[u8; 16],
    iv: &[u8; 16],
    data: &[u8],
    scratch: &'s mut [u8; 1024],
) -> Result<&'s [u8], EncrError> {
    if data.is_empty() || !data.len().is_multiple_of(16) || data.len() > scratch.len() {
        return Err(EncrError);
    }
    let out = &mut scratch[..data.len()];
    out.copy_from_slice(data);
    eap_aka::decrypt_encr_data(k_encr, iv, out).map_err(|_| EncrError)?;
    Ok(out)
}

/// Verifies the AT_MAC of a received packet (`extra` appended to the HMAC input).
pub(crate) fn verify_mac(alg: MacAlg, k_aut: &[u8], packet: &[u8], extra: &[u8]) -> bool {
    match mobstrap_wire::eap::aka::mac_offset(packet) {
        Ok(Some(off)) => eap_aka::verify_at_mac(alg, k_aut, packet, off, extra).is_ok(),
        _ => false,
    }
}

/// The MAC value of a packet (for the re-authentication Session-Id).
pub(crate) fn mac_value(packet: &[u8]) -> Option<[u8; 16]> {
    let off = mobstrap_wire::eap::aka::mac_offset(packet).ok()??;
    packet.get(off..off + 16)?.try_into().ok()
}

pub(crate) fn mac_alg(m: Method) -> MacAlg {
    match m {
        Method::Aka => MacAlg::HmacSha1_128,
        Method::AkaPrime => MacAlg::HmacSha256_128,
    }
}

/// Keys of one exchange: the full-authentication set, plus the re-authentication MSK/EMSK
/// when the exchange was a fast re-authentication.
pub(crate) enum Keys {
    Aka(AkaKeys, Option<ReauthKeys>),
    AkaPrime(AkaPrimeKeys, Option<AkaPrimeReauthKeys>),
}

impl Keys {
    pub fn method(&self) -> Method {
        match self {
            Keys::Aka(..) => Method::Aka,
            Keys::AkaPrime(..) => Method::AkaPrime,
        }
    }

    pub fn k_aut(&self) -> &[u8] {
        match self {
            Keys::Aka(k, _) => k.k_aut.as_bytes(),
            Keys::AkaPrime(k, _) => k.k_aut.as_bytes(),
        }
    }

    pub fn k_encr(&self) -> &[u8; 16] {
        match self {
            Keys::Aka(k, _) => k.k_encr.as_bytes(),
            Keys::AkaPrime(k, _) => k.k_encr.as_bytes(),
        }
    }

    pub fn mac(&self) -> Option<(MacAlg, &[u8])> {
        Some((mac_alg(self.method()), self.k_aut()))
    }

    pub fn msk(&self) -> &SecretBytes<64> {
        match self {
            Keys::Aka(_, Some(r)) => &r.msk,
            Keys::Aka(k, None) => &k.msk,
            Keys::AkaPrime(_, Some(r)) => &r.msk,
            Keys::AkaPrime(k, None) => &k.msk,
        }
    }

    pub fn emsk(&self) -> &SecretBytes<64> {
        match self {
            Keys::Aka(_, Some(r)) => &r.emsk,
            Keys::Aka(k, None) => &k.emsk,
            Keys::AkaPrime(_, Some(r)) => &r.emsk,
            Keys::AkaPrime(k, None) => &k.emsk,
        }
    }

    /// What the store keeps for fast re-authentication.
    pub fn reauth_secrets(&self) -> ReauthSecrets {
        match self {
            Keys::Aka(k, _) => ReauthSecrets::Aka {
                mk: k.mk.clone(),
                k_encr: k.k_encr.clone(),
                k_aut: k.k_aut.clone(),
            },
            Keys::AkaPrime(k, _) => ReauthSecrets::AkaPrime {
                k_encr: k.k_encr.clone(),
                k_aut: k.k_aut.clone(),
                k_re: k.k_re.clone(),
            },
        }
    }

    /// The full-authentication keys back from a stored context.
    pub fn from_reauth(s: &ReauthSecrets) -> Self {
        match s {
            ReauthSecrets::Aka { mk, .. } => Keys::Aka(AkaKeys::from_mk(mk.clone()), None),
            ReauthSecrets::AkaPrime {
                k_encr,
                k_aut,
                k_re,
            } => Keys::AkaPrime(
                AkaPrimeKeys {
                    k_encr: k_encr.clone(),
                    k_aut: k_aut.clone(),
                    k_re: k_re.clone(),
                    msk: SecretBytes::new([0u8; 64]),
                    emsk: SecretBytes::new([0u8; 64]),
                },
                None,
            ),
        }
    }

    /// Derives the re-authentication MSK/EMSK (RFC 4187 §7, RFC 9048 §3.3).
    pub fn derive_reauth(&mut self, identity: &[u8], counter: u16, nonce_s: &[u8; 16]) -> bool {
        match self {
            Keys::Aka(k, r) => {
                *r = Some(ReauthKeys::derive(
                    identity,
                    counter,
                    nonce_s,
                    k.mk.as_bytes(),
                ));
                true
            }
            Keys::AkaPrime(k, r) => {
                match AkaPrimeReauthKeys::derive(k.k_re.as_bytes(), identity, counter, nonce_s) {
                    Ok(x) => {
                        *r = Some(x);
                        true
                    }
                    Err(_) => false,
                }
            }
        }
    }
}

/// Session-Id (RFC 5247 Appendix A, RFC 9048 §6).
pub(crate) fn session_id(m: Method, a: &[u8; 16], b: &[u8; 16]) -> [u8; 33] {
    let mut s = [0u8; 33];
    s[0] = m.eap_type();
    s[1..17].copy_from_slice(a);
    s[17..].copy_from_slice(b);
    s
}

/// A random username: `prefix` then 24 lowercase hex digits (96 random bits, RFC 9048 §5.2:
/// nothing in it relates to the subscriber).
pub(crate) fn random_username(prefix: u8, rng: &mut dyn RngCore) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut r = [0u8; 12];
    rng.fill_bytes(&mut r);
    let mut s = String::with_capacity(25 + 64);
    s.push(prefix as char);
    for b in r {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// RFC 9048 §3.1 prefix comparison of network names: colon-separated fields, the extra fields
/// of the longer one ignored, the rest equal.
pub(crate) fn network_names_match(a: &[u8], b: &[u8]) -> bool {
    if a.is_empty() || b.is_empty() {
        return true;
    }
    let mut fa = a.split(|&c| c == b':');
    let mut fb = b.split(|&c| c == b':');
    loop {
        match (fa.next(), fb.next()) {
            (Some(x), Some(y)) => {
                if x != y {
                    return false;
                }
            }
            _ => return true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_name_prefix_rule() {
        assert!(network_names_match(b"FOO:BAR", b"FOO"));
        assert!(network_names_match(b"FOO", b"FOO:BAR"));
        assert!(network_names_match(b"", b"FOO:BAR"));
        assert!(!network_names_match(b"FOO:BAZ", b"FOO:BAR"));
        assert!(!network_names_match(b"WLAN", b"HRPD"));
    }

    #[test]
    fn duplicate_and_misplaced_attributes_are_refused() {
        // AT_RESULT_IND twice.
        let buf = [135u8, 1, 0, 0, 135, 1, 0, 0];
        assert_eq!(
            Attrs::parse(&buf, false).err(),
            Some(AttrError::Duplicate(135))
        );
        // AT_COUNTER outside AT_ENCR_DATA.
        let buf = [19u8, 1, 0, 1];
        assert_eq!(
            Attrs::parse(&buf, false).err(),
            Some(AttrError::Misplaced(19))
        );
        assert_eq!(Attrs::parse(&buf, true).unwrap().counter, Some(1));
        // Non-skippable unknown type 99; skippable 200 is ignored.
        assert_eq!(
            Attrs::parse(&[99u8, 1, 0, 0], false).err(),
            Some(AttrError::NonSkippable(99))
        );
        assert!(Attrs::parse(&[200u8, 1, 0, 0], false).is_ok());
        // Two AT_KDF are fine.
        let a = Attrs::parse(&[24u8, 1, 0, 2, 24, 1, 0, 1], false).unwrap();
        assert_eq!(a.kdfs(), &[2, 1]);
    }
}
