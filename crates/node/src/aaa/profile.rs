//! The subscriber profile as Diameter AVPs: APN-Configuration (TS 29.272 §7.3.35) with the
//! gateway an APN resolves to (MIP6-Agent-Info, RFC 5447 §4.2.1), Non-3GPP-User-Data
//! (TS 29.273 §8.2.3.1), the PMIPv6 profile of RFC 5779 (LMA, home prefix, IPv4 home
//! address) and the MAG–LMA key (docs/aaa.md: the encoding of each).
//!
//! Everything is emitted straight into a byte buffer that the answer appends after its
//! fixed AVPs, so the strings the AVPs borrow live only as long as one call.

use std::net::IpAddr;

use mobstrap_store::{ApnProfile, GatewaySelection, HostRef, PdnType, StoredSubscriber};
use mobstrap_wire::diameter::dict::{self, VENDOR_3GPP};
use mobstrap_wire::diameter::AvpRepr as A;

/// MIP6-Feature-Vector bits (RFC 5447 §4.2.5, RFC 5779 §5.5).
pub(crate) const MIP6_INTEGRATED: u64 = 0x0000_0000_0000_0001;
pub(crate) const PMIP6_SUPPORTED: u64 = 0x0000_0100_0000_0000;
pub(crate) const IP4_HOA_SUPPORTED: u64 = 0x0000_0200_0000_0000;
/// The feature bits this AAA grants when asked for.
pub(crate) const FEATURES: u64 = MIP6_INTEGRATED | PMIP6_SUPPORTED | IP4_HOA_SUPPORTED;

/// Key-Type (RFC 6734 §3.1.1) of the MAG–LMA key: mobstrap's value, not IANA-registered
/// (IANA has 0 DSRK, 1 rRK, 2 rMSK); documented in docs/aaa.md.
pub(crate) const KEY_TYPE_PMIP6_MAG_LMA: i32 = 100;

/// Emits one AVP into `out` (an AVP built from valid parts always emits).
pub(crate) fn emit(out: &mut Vec<u8>, a: &A<'_>) {
    let _ = a.emit(out);
}

/// A gateway for MIP6-Agent-Info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gateway {
    Address(IpAddr),
    /// FQDN (Destination-Host) and its realm (Destination-Realm).
    Host(String),
}

impl Gateway {
    pub fn from_selection(g: &GatewaySelection) -> Option<Gateway> {
        match g {
            GatewaySelection::Address(a) => Some(Gateway::Address(*a)),
            GatewaySelection::Fqdn(n) => Some(Gateway::Host(n.clone())),
            GatewaySelection::Dynamic => None,
        }
    }
    pub fn from_host_ref(h: &HostRef) -> Gateway {
        match h {
            HostRef::Address(a) => Gateway::Address(*a),
            HostRef::Fqdn(n) => Gateway::Host(n.clone()),
        }
    }
}

/// The realm of a host name: what follows its first label.
fn realm_of(host: &str) -> &str {
    host.split_once('.').map(|(_, r)| r).unwrap_or(host)
}

/// MIP6-Agent-Info: MIP-Home-Agent-Address, or MIP-Home-Agent-Host {Destination-Realm,
/// Destination-Host}.
pub(crate) fn mip6_agent_info(g: &Gateway) -> A<'_> {
    match g {
        Gateway::Address(a) => A::grouped(
            &dict::MIP6_AGENT_INFO,
            vec![A::ip(&dict::MIP_HOME_AGENT_ADDRESS, *a)],
        ),
        Gateway::Host(h) => A::grouped(
            &dict::MIP6_AGENT_INFO,
            vec![A::grouped(
                &dict::MIP_HOME_AGENT_HOST,
                vec![
                    A::utf8(&dict::DESTINATION_REALM, realm_of(h)),
                    A::utf8(&dict::DESTINATION_HOST, h),
                ],
            )],
        ),
    }
}

/// Reads a MIP6-Agent-Info AVP: the first address, and the host of MIP-Home-Agent-Host.
pub(crate) fn read_agent_info(
    avp: &mobstrap_wire::diameter::Avp<'_>,
) -> (Option<IpAddr>, Option<String>) {
    let mut addr = None;
    let mut host = None;
    if let Ok(inner) = avp.grouped() {
        for a in inner {
            if a.is(&dict::MIP_HOME_AGENT_ADDRESS) && addr.is_none() {
                addr = a.ip().ok();
            } else if a.is(&dict::MIP_HOME_AGENT_HOST) {
                if let Ok(h) = a.grouped() {
                    host = h
                        .get(&dict::DESTINATION_HOST)
                        .and_then(|d| d.utf8().ok())
                        .map(str::to_ascii_lowercase);
                }
            }
        }
    }
    (addr, host)
}

fn pdn_type(t: PdnType) -> i32 {
    match t {
        PdnType::Ipv4 => 0,
        PdnType::Ipv6 => 1,
        PdnType::Ipv4v6 => 2,
        PdnType::Ipv4OrIpv6 => 3,
    }
}

/// The gateway a `dynamic` APN gets from `[apn] dynamic_gateways`: stable per subscriber
/// and APN (FNV-1a of "IMSI/APN" modulo their number).
pub(crate) fn dynamic_choice<'g>(
    gateways: &'g [GatewaySelection],
    imsi: &str,
    apn: &str,
) -> Option<&'g GatewaySelection> {
    if gateways.is_empty() {
        return None;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in imsi.bytes().chain(std::iter::once(b'/')).chain(apn.bytes()) {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    gateways.get((h % gateways.len() as u64) as usize)
}

/// One APN-Configuration. `name` is the APN as requested (the profile may be `*`);
/// `gateway` the resolved gateway (None: the gateway selection function chooses).
pub(crate) fn apn_configuration(
    out: &mut Vec<u8>,
    sub: &StoredSubscriber,
    profile: &ApnProfile,
    name: &str,
    context_id: u32,
    gateway: Option<&Gateway>,
) {
    let p = &sub.subscriber.profile;
    let mut v = vec![A::u32(&dict::CONTEXT_IDENTIFIER, context_id)];
    if let Some(a) = p.static_ipv4 {
        v.push(A::ip(&dict::SERVED_PARTY_IP_ADDRESS, IpAddr::V4(a)));
    }
    if let Some(pre) = p.static_ipv6_prefix {
        v.push(A::ip(&dict::SERVED_PARTY_IP_ADDRESS, IpAddr::V6(pre.addr)));
    }
    v.push(A::enumerated(
        &dict::PDN_TYPE_AVP,
        pdn_type(profile.pdn_type),
    ));
    v.push(A::utf8(&dict::SERVICE_SELECTION, name));
    v.push(A::enumerated(
        &dict::VPLMN_DYNAMIC_ADDRESS_ALLOWED_AVP,
        i32::from(profile.visited_allowed),
    ));
    if let Some(g) = gateway {
        v.push(mip6_agent_info(g));
    }
    let static_gw = !matches!(profile.gateway, GatewaySelection::Dynamic);
    v.push(A::enumerated(
        &dict::PDN_GW_ALLOCATION_TYPE_AVP,
        if static_gw { 0 } else { 1 },
    ));
    emit(out, &A::grouped(&dict::APN_CONFIGURATION, v));
}

/// Every APN of the profile (for DEA): explicit gateways, and `dynamic` ones from the
/// configured list.
pub(crate) fn all_apn_configurations(
    out: &mut Vec<u8>,
    sub: &StoredSubscriber,
    dynamic: &[GatewaySelection],
) {
    let imsi = sub.subscriber.imsi.as_str();
    for (i, a) in sub.subscriber.profile.apns.iter().enumerate() {
        let gw = match &a.gateway {
            GatewaySelection::Dynamic => {
                dynamic_choice(dynamic, imsi, &a.apn).and_then(Gateway::from_selection)
            }
            g => Gateway::from_selection(g),
        };
        apn_configuration(out, sub, a, &a.apn, i as u32 + 1, gw.as_ref());
    }
}

/// The context identifier of an APN of the profile (its position + 1).
pub(crate) fn context_id(sub: &StoredSubscriber, apn: &ApnProfile) -> u32 {
    sub.subscriber
        .profile
        .apns
        .iter()
        .position(|a| a.apn == apn.apn)
        .map(|i| i as u32 + 1)
        .unwrap_or(1)
}

/// Non-3GPP-User-Data (STa DEA).
pub(crate) fn non_3gpp_user_data(
    out: &mut Vec<u8>,
    sub: &StoredSubscriber,
    dynamic: &[GatewaySelection],
) {
    let p = &sub.subscriber.profile;
    let mut apns = Vec::new();
    all_apn_configurations(&mut apns, sub, dynamic);
    let mut v = Vec::new();
    if let Some(m) = &p.msisdn {
        v.push(A::grouped(
            &dict::SUBSCRIPTION_ID,
            vec![
                A::enumerated(&dict::SUBSCRIPTION_ID_TYPE_AVP, 0),
                A::utf8(&dict::SUBSCRIPTION_ID_DATA, m),
            ],
        ));
    }
    v.push(A::enumerated(&dict::NON_3GPP_IP_ACCESS_AVP, 0));
    v.push(A::enumerated(&dict::NON_3GPP_IP_ACCESS_APN_AVP, 0));
    v.push(A::u64(&dict::MIP6_FEATURE_VECTOR, FEATURES));
    if let Some(d) = p.default_apn() {
        v.push(A::u32(&dict::CONTEXT_IDENTIFIER, context_id(sub, d)));
    }
    // The APN configurations are already encoded: carry them as raw AVP bytes.
    let mut group = Vec::new();
    for a in &v {
        emit(&mut group, a);
    }
    group.extend_from_slice(&apns);
    emit(
        out,
        &A::new(
            &dict::NON_3GPP_USER_DATA,
            mobstrap_wire::diameter::Value::Octets(&group),
        ),
    );
}

/// The PMIPv6 profile for a MAG (RFC 5779 §5): the LMA (MIP6-Agent-Info), the APN
/// (Service-Selection), the home network prefix (MIP6-Home-Link-Prefix: prefix length then
/// 16 octets, RFC 5447 §4.2.4) and the IPv4 home address (PMIP6-IPv4-Home-Address).
pub(crate) fn pmip6_profile(out: &mut Vec<u8>, sub: &StoredSubscriber, lma: Option<&Gateway>) {
    let p = &sub.subscriber.profile;
    if let Some(g) = lma {
        emit(out, &mip6_agent_info(g));
    }
    if let Some(d) = p.default_apn() {
        if d.apn != "*" {
            emit(out, &A::utf8(&dict::SERVICE_SELECTION, &d.apn));
        }
    }
    if let Some(pre) = p.static_ipv6_prefix {
        let mut b = [0u8; 17];
        b[0] = pre.len;
        b[1..].copy_from_slice(&pre.addr.octets());
        emit(out, &A::octets(&dict::MIP6_HOME_LINK_PREFIX, &b));
    }
    if let Some(a) = p.static_ipv4 {
        emit(out, &A::ip(&dict::PMIP6_IPV4_HOME_ADDRESS, IpAddr::V4(a)));
    }
}

/// The MAG–LMA key as an RFC 6734 Key AVP: Key-Type 100 (mobstrap), Keying-Material
/// (64 octets), Key-Lifetime (seconds), Key-Name (the LMA identity it is bound to).
pub(crate) fn key_avp(out: &mut Vec<u8>, key: &[u8], lifetime: u32, lma_identity: &str) {
    emit(
        out,
        &A::grouped(
            &dict::KEY,
            vec![
                A::enumerated(&dict::KEY_TYPE_AVP, KEY_TYPE_PMIP6_MAG_LMA),
                A::octets(&dict::KEYING_MATERIAL, key),
                A::u32(&dict::KEY_LIFETIME, lifetime),
                A::octets(&dict::KEY_NAME, lma_identity.as_bytes()),
            ],
        ),
    );
}

/// Experimental-Result {Vendor-Id 10415, Experimental-Result-Code}.
pub(crate) fn experimental_result(code: u32) -> A<'static> {
    A::grouped(
        &dict::EXPERIMENTAL_RESULT,
        vec![
            A::u32(&dict::VENDOR_ID, VENDOR_3GPP),
            A::u32(&dict::EXPERIMENTAL_RESULT_CODE, code),
        ],
    )
}

/// The octets the MAG–LMA key derivation binds (the LMA's IKEv2 Identification Data:
/// address octets, or the FQDN).
pub(crate) fn lma_identity_octets(h: &HostRef) -> Vec<u8> {
    match h {
        HostRef::Address(IpAddr::V4(a)) => a.octets().to_vec(),
        HostRef::Address(IpAddr::V6(a)) => a.octets().to_vec(),
        HostRef::Fqdn(n) => n.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_choice_is_stable_and_spreads() {
        let gws = vec![
            GatewaySelection::parse("g", "gw:192.0.2.1").unwrap(),
            GatewaySelection::parse("g", "gw:192.0.2.2").unwrap(),
            GatewaySelection::parse("g", "fqdn:pgw.example").unwrap(),
        ];
        let a = dynamic_choice(&gws, "001010000000001", "internet");
        assert_eq!(a, dynamic_choice(&gws, "001010000000001", "INTERNET"));
        let mut seen = std::collections::HashSet::new();
        for i in 0..100 {
            seen.insert(dynamic_choice(&gws, &format!("0010100000{i:05}"), "internet").cloned());
        }
        assert_eq!(seen.len(), 3);
        assert!(dynamic_choice(&[], "1", "x").is_none());
    }

    #[test]
    fn realm_of_a_host() {
        assert_eq!(realm_of("pgw.home.example"), "home.example");
        assert_eq!(realm_of("localhost"), "localhost");
    }
}
