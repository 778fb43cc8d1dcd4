//! SA payloads: building our proposals and choosing among the peer's (RFC 7296 §2.7,
//! §3.3). The responder walks its own proposals in configured order and takes, for each
//! transform type, its first algorithm the peer also offers in one proposal; the result
//! carries the peer's proposal number (and SPI for Child SAs).

use mobstrap_crypto::dh::Group;
use mobstrap_crypto::ikev2::{Integ, Prf};
use mobstrap_crypto::transform::Encr;
use mobstrap_wire::ikev2::{Proposal, ProtocolId, Sa, Transform, TransformType};

use super::config::{EspProposal, IkeProposal};

/// The algorithms of an IKE SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IkeAlgs {
    pub encr: Encr,
    pub integ: Option<Integ>,
    pub prf: Prf,
    pub dh: Group,
}

/// The algorithms of a Child SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EspAlgs {
    pub encr: Encr,
    pub integ: Option<Integ>,
    pub esn: bool,
    /// PFS group (CREATE_CHILD_SA only).
    pub dh: Option<Group>,
}

fn encr_transform(e: Encr) -> Transform<'static> {
    Transform::new(TransformType::Encr, e.transform_id()).with_key_length(e.key_bits())
}

/// Builds the proposals of an IKE SA payload (`spi`: empty in IKE_SA_INIT, 8 bytes when
/// rekeying). Proposals that cannot be expressed (no PRF, no group) are skipped.
pub fn ike_sa_payload<'a>(props: &[IkeProposal], spi: &'a [u8]) -> Sa<'a> {
    let mut proposals = Vec::new();
    for p in props {
        if p.encr.is_empty() || p.prf.is_empty() || p.dh.is_empty() {
            continue;
        }
        let mut t: Vec<Transform<'static>> = p.encr.iter().map(|&e| encr_transform(e)).collect();
        t.extend(
            p.prf
                .iter()
                .map(|x| Transform::new(TransformType::Prf, x.transform_id())),
        );
        // Integrity only for non-AEAD ciphers (RFC 5282 §8: no INTEG with AEAD in one
        // proposal; a mixed list would be ambiguous, so AEAD proposals carry none).
        if p.encr.iter().any(|e| !e.is_aead()) {
            t.extend(
                p.integ
                    .iter()
                    .map(|x| Transform::new(TransformType::Integ, x.transform_id())),
            );
        }
        t.extend(
            p.dh.iter()
                .map(|g| Transform::new(TransformType::Ke, g.id())),
        );
        let n = u8::try_from(proposals.len() + 1).unwrap_or(u8::MAX);
        proposals.push(Proposal::new(n, ProtocolId::Ike, spi, t));
    }
    Sa { proposals }
}

/// Builds the proposals of an ESP SA payload with our inbound SPI. `pfs`: the group to
/// offer for PFS (CREATE_CHILD_SA), put first, followed by the proposal's other groups.
pub fn esp_sa_payload<'a>(props: &[EspProposal], spi: &'a [u8], pfs: Option<Group>) -> Sa<'a> {
    let mut proposals = Vec::new();
    for p in props {
        if p.encr.is_empty() {
            continue;
        }
        let mut t: Vec<Transform<'static>> = p.encr.iter().map(|&e| encr_transform(e)).collect();
        if p.encr.iter().any(|e| !e.is_aead()) {
            t.extend(
                p.integ
                    .iter()
                    .map(|x| Transform::new(TransformType::Integ, x.transform_id())),
            );
        }
        if let Some(g) = pfs {
            t.push(Transform::new(TransformType::Ke, g.id()));
            t.extend(
                p.dh.iter()
                    .filter(|&&x| x != g)
                    .map(|x| Transform::new(TransformType::Ke, x.id())),
            );
        }
        let esn: &[bool] = if p.esn.is_empty() { &[false] } else { &p.esn };
        t.extend(
            esn.iter()
                .map(|&e| Transform::new(TransformType::Esn, u16::from(e))),
        );
        let n = u8::try_from(proposals.len() + 1).unwrap_or(u8::MAX);
        proposals.push(Proposal::new(n, ProtocolId::Esp, spi, t));
    }
    Sa { proposals }
}

/// One proposal with the selected algorithms only (what a responder returns).
pub fn ike_selected<'a>(number: u8, algs: &IkeAlgs, spi: &'a [u8]) -> Sa<'a> {
    let mut t = vec![
        encr_transform(algs.encr),
        Transform::new(TransformType::Prf, algs.prf.transform_id()),
    ];
    if let Some(i) = algs.integ {
        t.push(Transform::new(TransformType::Integ, i.transform_id()));
    }
    t.push(Transform::new(TransformType::Ke, algs.dh.id()));
    Sa {
        proposals: vec![Proposal::new(number, ProtocolId::Ike, spi, t)],
    }
}

pub fn esp_selected<'a>(number: u8, algs: &EspAlgs, spi: &'a [u8]) -> Sa<'a> {
    let mut t = vec![encr_transform(algs.encr)];
    if let Some(i) = algs.integ {
        t.push(Transform::new(TransformType::Integ, i.transform_id()));
    }
    if let Some(g) = algs.dh {
        t.push(Transform::new(TransformType::Ke, g.id()));
    }
    t.push(Transform::new(TransformType::Esn, u16::from(algs.esn)));
    Sa {
        proposals: vec![Proposal::new(number, ProtocolId::Esp, spi, t)],
    }
}

/// The transforms of one peer proposal, grouped by type; `None` if it has a transform type
/// we do not know (RFC 7296 §3.3.6: such a proposal is rejected).
struct Offered {
    encr: Vec<Encr>,
    integ: Vec<Option<Integ>>,
    prf: Vec<Prf>,
    dh: Vec<Option<Group>>,
    esn: Vec<bool>,
    has_integ: bool,
    has_dh: bool,
    has_esn: bool,
}

fn offered(p: &Proposal<'_>) -> Option<Offered> {
    let mut o = Offered {
        encr: vec![],
        integ: vec![],
        prf: vec![],
        dh: vec![],
        esn: vec![],
        has_integ: false,
        has_dh: false,
        has_esn: false,
    };
    for t in &p.transforms {
        // Attributes other than Key Length make a transform unknown (§3.3.6).
        let only_key_length = t.attributes.iter().all(|a| a.attr_type == 14);
        match t.transform_type {
            TransformType::Encr => {
                if let (Some(bits), true) = (t.key_length(), only_key_length) {
                    if let Some(e) = Encr::from_transform(t.transform_id, bits) {
                        o.encr.push(e);
                    }
                }
            }
            TransformType::Prf => {
                if let Some(x) = Prf::from_transform_id(t.transform_id) {
                    o.prf.push(x);
                }
            }
            TransformType::Integ => {
                o.has_integ = true;
                if t.transform_id == 0 {
                    o.integ.push(None);
                } else if let Some(x) = Integ::from_transform_id(t.transform_id) {
                    o.integ.push(Some(x));
                }
            }
            TransformType::Ke => {
                o.has_dh = true;
                if t.transform_id == 0 {
                    o.dh.push(None);
                } else if let Some(g) = Group::from_id(t.transform_id) {
                    o.dh.push(Some(g));
                }
            }
            TransformType::Esn => {
                o.has_esn = true;
                match t.transform_id {
                    0 => o.esn.push(false),
                    1 => o.esn.push(true),
                    _ => {}
                }
            }
            _ => return None,
        }
    }
    Some(o)
}

fn pick_integ(encr: Encr, ours: &[Integ], o: &Offered) -> Option<Option<Integ>> {
    if encr.is_aead() {
        // An AEAD proposal has no integrity transform, or only NONE.
        if !o.has_integ || o.integ.contains(&None) {
            return Some(None);
        }
        return None;
    }
    ours.iter()
        .find(|i| o.integ.contains(&Some(**i)))
        .map(|&i| Some(i))
}

/// Chooses an IKE proposal. Returns the peer's proposal number, its SPI and the algorithms.
/// `prefer_dh`: the group of the peer's KE payload, taken when acceptable in the chosen
/// proposal (saving an INVALID_KE_PAYLOAD round trip).
pub fn select_ike<'a>(
    ours: &[IkeProposal],
    sa: &Sa<'a>,
    prefer_dh: Option<Group>,
) -> Option<(u8, &'a [u8], IkeAlgs)> {
    for mine in ours {
        for p in &sa.proposals {
            if p.protocol_id != ProtocolId::Ike {
                continue;
            }
            let Some(o) = offered(p) else { continue };
            let Some(&encr) = mine.encr.iter().find(|e| o.encr.contains(e)) else {
                continue;
            };
            let Some(integ) = pick_integ(encr, &mine.integ, &o) else {
                continue;
            };
            let Some(&prf) = mine.prf.iter().find(|x| o.prf.contains(x)) else {
                continue;
            };
            let preferred = prefer_dh.filter(|g| mine.dh.contains(g) && o.dh.contains(&Some(*g)));
            let Some(dh) =
                preferred.or_else(|| mine.dh.iter().copied().find(|g| o.dh.contains(&Some(*g))))
            else {
                continue;
            };
            return Some((
                p.number,
                p.spi,
                IkeAlgs {
                    encr,
                    integ,
                    prf,
                    dh,
                },
            ));
        }
    }
    None
}

/// Chooses an ESP proposal. `pfs`: the group of the KE payload the peer sent (CREATE_CHILD_SA),
/// or `None` (IKE_AUTH, or no KE).
pub fn select_esp<'a>(
    ours: &[EspProposal],
    sa: &Sa<'a>,
    pfs: Option<Group>,
) -> Option<(u8, &'a [u8], EspAlgs)> {
    for mine in ours {
        for p in &sa.proposals {
            if p.protocol_id != ProtocolId::Esp || p.spi.len() != 4 {
                continue;
            }
            let Some(o) = offered(p) else { continue };
            let Some(&encr) = mine.encr.iter().find(|e| o.encr.contains(e)) else {
                continue;
            };
            let Some(integ) = pick_integ(encr, &mine.integ, &o) else {
                continue;
            };
            let esn_pref: &[bool] = if mine.esn.is_empty() {
                &[false]
            } else {
                &mine.esn
            };
            let esn = if o.has_esn {
                match esn_pref.iter().find(|e| o.esn.contains(e)) {
                    Some(&e) => e,
                    None => continue,
                }
            } else if esn_pref.contains(&false) {
                false
            } else {
                continue;
            };
            // DH: with a KE payload we need its group in both lists; without one, the peer
            // must allow "no PFS" (no D-H transform or NONE).
            let dh = match pfs {
                Some(g) => {
                    if !(o.dh.contains(&Some(g)) && mine.dh.contains(&g)) {
                        continue;
                    }
                    Some(g)
                }
                None => {
                    if o.has_dh && !o.dh.contains(&None) {
                        continue;
                    }
                    None
                }
            };
            return Some((
                p.number,
                p.spi,
                EspAlgs {
                    encr,
                    integ,
                    esn,
                    dh,
                },
            ));
        }
    }
    None
}

/// For CREATE_CHILD_SA with a KE of the wrong group: the group we would take instead.
pub fn esp_pfs_group(ours: &[EspProposal], sa: &Sa<'_>) -> Option<Group> {
    for mine in ours {
        for p in &sa.proposals {
            if p.protocol_id != ProtocolId::Esp {
                continue;
            }
            let Some(o) = offered(p) else { continue };
            if let Some(&g) = mine.dh.iter().find(|g| o.dh.contains(&Some(**g))) {
                return Some(g);
            }
        }
    }
    None
}

/// Checks a responder's single returned IKE proposal against what we offered; returns the
/// algorithms.
pub fn accept_ike_reply(ours: &[IkeProposal], sa: &Sa<'_>) -> Option<IkeAlgs> {
    if sa.proposals.len() != 1 {
        return None;
    }
    let p = &sa.proposals[0];
    // Exactly one transform of each type.
    let count = |ty| {
        p.transforms
            .iter()
            .filter(|t| t.transform_type == ty)
            .count()
    };
    if count(TransformType::Encr) != 1
        || count(TransformType::Prf) != 1
        || count(TransformType::Ke) != 1
        || count(TransformType::Integ) > 1
    {
        return None;
    }
    let dh = p
        .transform(TransformType::Ke)
        .and_then(|t| Group::from_id(t.transform_id));
    let (_, _, algs) = select_ike(ours, sa, dh)?;
    Some(algs)
}

pub fn accept_esp_reply(
    ours: &[EspProposal],
    sa: &Sa<'_>,
    pfs: Option<Group>,
) -> Option<(Vec<u8>, EspAlgs)> {
    if sa.proposals.len() != 1 {
        return None;
    }
    let p = &sa.proposals[0];
    let count = |ty| {
        p.transforms
            .iter()
            .filter(|t| t.transform_type == ty)
            .count()
    };
    if count(TransformType::Encr) != 1
        || count(TransformType::Integ) > 1
        || count(TransformType::Esn) > 1
        || count(TransformType::Ke) > 1
    {
        return None;
    }
    let (_, spi, algs) = select_esp(ours, sa, pfs)?;
    Some((spi.to_vec(), algs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ike_selection_prefers_our_order() {
        let ours = vec![
            IkeProposal::gcm_sha256_x25519(),
            IkeProposal {
                encr: vec![Encr::AesCbc256],
                integ: vec![Integ::HmacSha256_128],
                prf: vec![Prf::HmacSha384],
                dh: vec![Group::Ecp256],
            },
        ];
        let peer = vec![
            IkeProposal {
                encr: vec![Encr::AesCbc128, Encr::AesCbc256],
                integ: vec![Integ::HmacSha1_96, Integ::HmacSha256_128],
                prf: vec![Prf::HmacSha256, Prf::HmacSha384],
                dh: vec![Group::Modp2048, Group::Ecp256],
            },
            IkeProposal::gcm_sha256_x25519(),
        ];
        let sa = ike_sa_payload(&peer, &[]);
        let (n, spi, algs) = select_ike(&ours, &sa, None).unwrap();
        assert_eq!((n, spi.len()), (2, 0));
        assert_eq!(algs.encr, Encr::AesGcm16_128);
        assert_eq!(algs.integ, None);
        let only_cbc = ike_sa_payload(&peer[..1], &[]);
        let (n, _, algs) = select_ike(&ours, &only_cbc, None).unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            algs,
            IkeAlgs {
                encr: Encr::AesCbc256,
                integ: Some(Integ::HmacSha256_128),
                prf: Prf::HmacSha384,
                dh: Group::Ecp256
            }
        );
        // The KE group is taken when acceptable.
        let ours2 = vec![IkeProposal {
            dh: vec![Group::Ecp256, Group::Modp2048],
            ..ours[1].clone()
        }];
        let (_, _, a2) = select_ike(&ours2, &only_cbc, Some(Group::Modp2048)).unwrap();
        assert_eq!(a2.dh, Group::Modp2048);
        let (_, _, a2) = select_ike(&ours2, &only_cbc, Some(Group::Curve25519)).unwrap();
        assert_eq!(a2.dh, Group::Ecp256);
        // The reply must be acceptable to the peer.
        let reply = ike_selected(n, &algs, &[]);
        assert_eq!(accept_ike_reply(&peer, &reply), Some(algs));
        // Nothing in common.
        let p3 = vec![IkeProposal {
            dh: vec![Group::Modp3072],
            ..peer[0].clone()
        }];
        assert!(select_ike(&ours, &ike_sa_payload(&p3, &[]), None).is_none());
    }

    #[test]
    fn esp_selection_with_and_without_pfs() {
        let ours = vec![EspProposal {
            dh: vec![Group::Curve25519],
            ..EspProposal::gcm128()
        }];
        let spi = [1, 2, 3, 4];
        let sa = esp_sa_payload(&ours, &spi, None);
        let (_, s, algs) = select_esp(&ours, &sa, None).unwrap();
        assert_eq!(s, &spi);
        assert_eq!(algs.dh, None);
        assert!(!algs.esn);
        let sa = esp_sa_payload(&ours, &spi, Some(Group::Curve25519));
        assert!(select_esp(&ours, &sa, None).is_none(), "PFS required");
        let (_, _, algs) = select_esp(&ours, &sa, Some(Group::Curve25519)).unwrap();
        assert_eq!(algs.dh, Some(Group::Curve25519));
        assert!(select_esp(&ours, &sa, Some(Group::Ecp256)).is_none());
        assert_eq!(esp_pfs_group(&ours, &sa), Some(Group::Curve25519));
        let reply = esp_selected(1, &algs, &spi);
        assert!(accept_esp_reply(&ours, &reply, Some(Group::Curve25519)).is_some());
    }
}
