//! Mobile IPv4 samples: registrations of seed 004 (co-located care-of address to the FHA, and
//! relayed by a foreign agent), their replies, and an Agent Advertisement.

use core::net::{IpAddr, Ipv4Addr};

use super::agent::{self, adv_flags, AdvExtension, AgentAdvertisement};
use super::dualstack::DualStack;
use super::ext::{Extension as E, GEN_AUTH_MN_AAA, KEYGEN_SUBTYPE_AAA};
use super::{flags, Message, Repr, PORT};
use crate::frame::Frame;
use crate::sample::Sample;

pub(crate) const MN_CCOA: [u8; 4] = [192, 0, 2, 60];
pub(crate) const FA: [u8; 4] = [192, 0, 2, 40];
pub(crate) const FHA: [u8; 4] = [192, 0, 2, 50];
pub(crate) const THOA: [u8; 4] = [198, 51, 100, 20];
pub(crate) const NAI: &[u8] = b"mn1@example.com";
/// NTP time 2023-11-14 22:13:20.5 UTC: Identification under timestamp replay protection.
pub(crate) const IDENT: u64 = ((1_700_000_000u64 + 2_208_988_800) << 32) | 0x8000_0000;

fn v6(s: &str) -> [u8; 16] {
    s.parse::<core::net::Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 16])
}

fn udp(name: &str, r: &Repr<'_>, src: [u8; 4], dst: [u8; 4]) -> Sample {
    let mut b = Vec::new();
    if let Err(e) = r.emit(&mut b) {
        panic!("mip4 sample {name}: {e}");
    }
    let ip = |a: [u8; 4]| IpAddr::V4(Ipv4Addr::from(a));
    Sample::new(
        name,
        Frame::udp(ip(src), ip(dst), PORT, PORT),
        &b,
        super::dissect,
    )
}

/// The seed-004 requests of a registration: all-zero addresses ask the FHA to assign.
pub(crate) fn requests() -> [DualStack; 3] {
    [
        DualStack::Ipv6HomeAddress([0; 16]),
        DualStack::Ipv6HomeAgentAddress([0; 16]),
        DualStack::TemporaryIpv4HomeAddress([0; 4]),
    ]
}

/// The seed-004 assignments of a reply.
pub(crate) fn assignments() -> [DualStack; 5] {
    [
        DualStack::Ipv6HomeAddress(v6("2001:db8:aaaa:1::100")),
        DualStack::Ipv6HomeAgentAddress(v6("2001:db8:aaaa:1::1")),
        DualStack::TemporaryIpv4HomeAddress(THOA),
        DualStack::Ipv6CareOfAddress(v6("2001:db8:bbbb::100")),
        DualStack::ForeignHomeAgentAddress(FHA),
    ]
}

/// RFC 3957 key generation nonce request (MN-HA, AAA subtype); data = the MN's SPI, opaque here.
pub(crate) const KEYGEN_REQUEST: E<'static> = E::LongForm {
    kind: 42,
    subtype: KEYGEN_SUBTYPE_AAA,
    data: &[0, 0, 0x01, 0x01],
};
/// RFC 3957 key generation nonce reply (MN-HA, AAA subtype); data = lifetime and nonce, opaque here.
pub(crate) const KEYGEN_REPLY: E<'static> = E::LongForm {
    kind: 43,
    subtype: KEYGEN_SUBTYPE_AAA,
    data: &[0, 0, 0x0e, 0x10, 0x5a, 0x5a, 0x5a, 0x5a],
};

/// Co-located CoA registration straight to the FHA (seed 004 §4.1.1), authenticated to AAA.
/// `keygen` adds the RFC 3957 key request, which tshark 4.0 cannot read (it takes every type it
/// does not know, 40–43 included, as having a one-octet length): the tshark sample leaves it out.
pub(crate) fn rrq_ccoa_extensions<'a>(req: &'a [DualStack; 3], keygen: bool) -> Vec<E<'a>> {
    let mut v = vec![E::Nai(NAI)];
    v.extend(req.iter().map(|d| d.to_extension()));
    if keygen {
        v.push(KEYGEN_REQUEST);
    }
    v.extend([
        E::Challenge(&[0x3c; 16]),
        E::GeneralizedAuth {
            subtype: GEN_AUTH_MN_AAA,
            spi: 2,
            authenticator: &[0xc3; 16],
        },
    ]);
    v
}

pub(crate) fn rrq_ccoa<'a>(req: &'a [DualStack; 3], keygen: bool) -> Repr<'a> {
    Repr::new(
        Message::Request {
            flags: flags::D | flags::T,
            lifetime: 1800,
            home_address: [0; 4],
            home_agent: FHA,
            care_of_address: MN_CCOA,
            identification: IDENT,
        },
        rrq_ccoa_extensions(req, keygen),
    )
}

/// The FHA's reply with the seed-004 assignments (and the RFC 3957 key reply if `keygen`).
pub(crate) fn rrp<'a>(asg: &'a [DualStack; 5], keygen: bool) -> Repr<'a> {
    let mut ext = vec![E::Nai(NAI)];
    ext.extend(asg.iter().map(|d| d.to_extension()));
    if keygen {
        ext.push(KEYGEN_REPLY);
    }
    ext.push(E::Auth {
        kind: 32,
        spi: 0x101,
        authenticator: &[0x55; 16],
    });
    Repr::new(
        Message::Reply {
            code: 0,
            lifetime: 1800,
            home_address: THOA,
            home_agent: FHA,
            identification: IDENT,
        },
        ext,
    )
}

/// Every Mobile IPv4 sample.
pub fn samples() -> Vec<Sample> {
    let req = requests();
    let asg = assignments();
    let mut v = Vec::new();
    v.push(udp(
        "mip4/RRQ-ccoa-FHA",
        &rrq_ccoa(&req, false),
        MN_CCOA,
        FHA,
    ));

    // Relayed by a foreign agent (seed 004 §4.1.2): MN-HA and MN-FA authentication by the MN,
    // FA-HA authentication appended by the FA.
    let mut relayed = vec![E::Nai(NAI)];
    relayed.extend(req.iter().map(|d| d.to_extension()));
    relayed.extend([
        E::Auth {
            kind: 32,
            spi: 0x100,
            authenticator: &[0x11; 16],
        },
        E::Auth {
            kind: 33,
            spi: 0x101,
            authenticator: &[0x22; 16],
        },
        E::Auth {
            kind: 34,
            spi: 0x102,
            authenticator: &[0x33; 16],
        },
    ]);
    let rrq_fa = Repr::new(
        Message::Request {
            flags: flags::T,
            lifetime: 1800,
            home_address: [0; 4],
            home_agent: FHA,
            care_of_address: FA,
            identification: IDENT,
        },
        relayed,
    );
    v.push(udp("mip4/RRQ-via-FA", &rrq_fa, FA, FHA));

    // A mobile node that must not be registered without dual-stack bootstrapping asks with a
    // CVSE (critical: an agent that does not understand it rejects the registration).
    let crit = DualStack::Ipv6HomeAddress([0; 16]);
    let (vendor_id, vendor_type) = (super::dualstack::VENDOR_MOBSTRAP, crit.vendor_type());
    let rrq_crit = Repr::new(
        Message::Request {
            flags: flags::D | flags::T,
            lifetime: 1800,
            home_address: [0; 4],
            home_agent: FHA,
            care_of_address: MN_CCOA,
            identification: IDENT + 1,
        },
        vec![
            E::Nai(NAI),
            E::Cvse {
                reserved: 0,
                vendor_id,
                vendor_type,
                value: crit.value(),
            },
            E::Auth {
                kind: 32,
                spi: 0x100,
                authenticator: &[0x44; 16],
            },
        ],
    );
    v.push(udp("mip4/RRQ-CVSE", &rrq_crit, MN_CCOA, FHA));

    v.push(udp("mip4/RRP", &rrp(&asg, false), FHA, MN_CCOA));

    let denied = Repr::new(
        Message::Reply {
            code: 131,
            lifetime: 0,
            home_address: [0; 4],
            home_agent: FHA,
            identification: IDENT,
        },
        vec![E::Nai(NAI)],
    );
    v.push(udp("mip4/RRP-denied", &denied, FHA, MN_CCOA));

    // Agent Advertisement of the foreign agent: ICMP Router Advertisement + extensions.
    let mut exts = Vec::new();
    let coa = FA;
    if let Err(e) = agent::build_extensions(
        &[
            AdvExtension::MobilityAgent {
                sequence: 7,
                lifetime: 1800,
                flags: adv_flags::R | adv_flags::F | adv_flags::T,
                care_of_addresses: &coa,
            },
            AdvExtension::PrefixLengths(&[24]),
            AdvExtension::Padding,
        ],
        &mut exts,
    ) {
        panic!("mip4 agent sample: {e}");
    }
    let mut entries = Vec::new();
    entries.extend_from_slice(&FA);
    entries.extend_from_slice(&0i32.to_be_bytes());
    let adv = AgentAdvertisement {
        code: 0,
        checksum: 0,
        lifetime: 1800,
        entry_size: 2,
        entries: &entries,
        extensions: &exts,
    };
    let mut b = Vec::new();
    if let Err(e) = adv.emit_with_checksum(&mut b) {
        panic!("mip4 agent sample: {e}");
    }
    let ip = |a: [u8; 4]| IpAddr::V4(Ipv4Addr::from(a));
    v.push(Sample::new(
        "mip4/AgentAdvertisement",
        Frame::ip(ip(FA), ip([255, 255, 255, 255]), 1),
        &b,
        agent::dissect,
    ));
    v
}
