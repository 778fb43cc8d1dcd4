//! One realistic sample of every Mobility Header message (and, together, every option type
//! typed in [`super::options`]), framed as it travels.

use core::net::{IpAddr, Ipv6Addr};

use super::ip6;
use super::options::{
    MobOption as O, MNID_SUBTYPE_NAI, VENDOR_MOBSTRAP, VSO_SUBTYPE_HOME_GW_ADDRESS,
};
use super::udp::{self, Ipv4Transport};
use super::{
    ba_flags, br_flags, br_type, bu_flags, upn_flags, BindingAck, BindingUpdate, Message as M, Repr,
};
use crate::frame::{ip_proto, Frame};
use crate::sample::Sample;

pub(crate) const MAG: &str = "2001:db8:1::1";
pub(crate) const LMA: &str = "2001:db8:2::1";
pub(crate) const MAG4: &str = "192.0.2.1";
pub(crate) const LMA4: &str = "192.0.2.2";
pub(crate) const HOA: &str = "2001:db8:aaaa:1::100";
pub(crate) const COA: &str = "2001:db8:bbbb::100";
pub(crate) const HA: &str = "2001:db8:aaaa:1::1";
pub(crate) const CN: &str = "2001:db8:cccc::1";
pub(crate) const NAI: &[u8] = b"0232010000000000@example.com";
pub(crate) const APN: &[u8] = b"internet.example";
/// 2023-11-14 22:13:20 UTC and a half second: 48-bit seconds, 16-bit fraction.
pub(crate) const TS: u64 = (1_700_000_000u64 << 16) | 0x8000;

fn a6(s: &str) -> [u8; 16] {
    s.parse::<Ipv6Addr>().map(|a| a.octets()).unwrap_or([0; 16])
}
fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
}

fn emit(r: &Repr<'_>, src: &str, dst: &str) -> Vec<u8> {
    let mut v = Vec::new();
    if let Err(e) = r.emit_with_checksum(&a6(src), &a6(dst), &mut v) {
        panic!("mh sample: {e}");
    }
    v
}

fn bare(name: &str, r: &Repr<'_>, src: &str, dst: &str) -> Sample {
    let mh = emit(r, src, dst);
    Sample::new(
        name,
        Frame::ip(ip(src), ip(dst), ip_proto::MOBILITY),
        &mh,
        super::dissect,
    )
}

/// A raw IPv6 packet: header, one extension header, the Mobility Header.
fn with_ext(name: &str, src: &str, dst: &str, ext: &[u8], ext_nh: u8, mh: &[u8]) -> Sample {
    let mut packet = Vec::new();
    ip6::put_ipv6_header(
        &mut packet,
        &a6(src),
        &a6(dst),
        (ext.len() + mh.len()) as u16,
        ext_nh,
        64,
    );
    packet.extend_from_slice(ext);
    packet.extend_from_slice(mh);
    Sample {
        name: name.to_string(),
        packet,
        tshark_args: Vec::new(),
        dissect: super::dissect,
        skip_fields: Vec::new(),
    }
}

pub(crate) fn pbu_options() -> Vec<O<'static>> {
    vec![
        O::MobileNodeIdentifier {
            subtype: MNID_SUBTYPE_NAI,
            identifier: NAI,
        },
        O::HomeNetworkPrefix {
            reserved: 0,
            prefix_len: 0,
            prefix: [0; 16],
        },
        O::HandoffIndicator {
            reserved: 0,
            indicator: 1,
        },
        O::AccessTechnologyType {
            reserved: 0,
            att: 4,
        },
        O::Timestamp(TS),
        O::ServiceSelection(APN),
        O::Ipv4HomeAddressRequest {
            bits: 0,
            address: [0; 4],
        },
    ]
}

/// The PBU of the benchmark and the first sample: MAG → LMA.
pub(crate) fn pbu() -> Repr<'static> {
    let mut opts = pbu_options();
    opts.extend([
        O::MnLinkLayerIdentifier {
            reserved: 0,
            identifier: &[0x02, 0, 0, 0, 0, 0x01],
        },
        O::LinkLocalAddress(a6("fe80::1")),
        O::GreKey {
            reserved: 0,
            key: 0x0000_1001,
        },
        O::Ipv4DhcpSupportMode { bits: 0 },
    ]);
    Repr::new(
        M::BindingUpdate(BindingUpdate {
            seq: 1,
            flags: bu_flags::A | bu_flags::H | bu_flags::P,
            lifetime: 1000,
        }),
        opts,
    )
}

const HNP: &str = "2001:db8:aaaa:1::";

pub(crate) fn pba() -> Repr<'static> {
    Repr::new(
        M::BindingAck(BindingAck {
            status: 0,
            flags: ba_flags::P,
            seq: 1,
            lifetime: 1000,
        }),
        vec![
            O::MobileNodeIdentifier {
                subtype: MNID_SUBTYPE_NAI,
                identifier: NAI,
            },
            O::HomeNetworkPrefix {
                reserved: 0,
                prefix_len: 64,
                prefix: a6(HNP),
            },
            O::HandoffIndicator {
                reserved: 0,
                indicator: 1,
            },
            O::AccessTechnologyType {
                reserved: 0,
                att: 4,
            },
            O::Timestamp(TS),
            O::ServiceSelection(APN),
            O::Ipv4HomeAddressReply {
                status: 0,
                bits: 24 << 2,
                address: [198, 51, 100, 10],
            },
            O::Ipv4DefaultRouterAddress {
                reserved: 0,
                address: [198, 51, 100, 1],
            },
            O::GreKey {
                reserved: 0,
                key: 0x0000_2002,
            },
            O::LinkLocalAddress(a6("fe80::2")),
            O::MnLinkLayerIdentifier {
                reserved: 0,
                identifier: &[0x02, 0, 0, 0, 0, 0x01],
            },
            O::VendorSpecific {
                vendor_id: VENDOR_MOBSTRAP,
                sub_type: VSO_SUBTYPE_HOME_GW_ADDRESS,
                data: PGW_HOME_OCTETS,
            },
        ],
    )
}

/// 2001:db8:9999::1, the home PDN GW of the s2b roaming chain (seed 002).
const PGW_HOME_OCTETS: &[u8] = &[
    0x20, 0x01, 0x0d, 0xb8, 0x99, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
];

fn udp5436(name: &str, r: Repr<'static>, src: &str, dst: &str, src4: &str, dst4: &str) -> Sample {
    let t = Ipv4Transport::new(a6(src), a6(dst), r);
    let mut payload = Vec::new();
    if let Err(e) = t.emit_with_checksum(&mut payload) {
        panic!("mh sample {name}: {e}");
    }
    // tshark 4.0 dissects UDP 5436 as a Mobility Header directly after UDP; this decode-as makes
    // it read the RFC 5844 §4 layout (IPv6 header, then the Mobility Header).
    Sample::new(
        name,
        Frame::udp(ip(src4), ip(dst4), udp::PORT_CONTROL, udp::PORT_CONTROL),
        &payload,
        udp::dissect,
    )
    .tshark(&["-d", "udp.port==5436,ipv6"])
}

/// Every Mobility Header sample.
pub fn samples() -> Vec<Sample> {
    let mut v = vec![
        bare("mh/PBU", &pbu(), MAG, LMA),
        bare("mh/PBA", &pba(), LMA, MAG),
        udp5436("mh/PBU-ipv4-udp5436", pbu(), MAG, LMA, MAG4, LMA4),
        udp5436("mh/PBA-ipv4-udp5436", pba(), LMA, MAG, LMA4, MAG4),
    ];

    // DSMIPv6 home registration: CoA → HA with the Home Address option; checksum over the HoA.
    let bu = Repr::new(
        M::BindingUpdate(BindingUpdate {
            seq: 10,
            flags: bu_flags::A | bu_flags::H | bu_flags::K,
            lifetime: 500,
        }),
        vec![
            O::AlternateCareOfAddress(a6(COA)),
            O::Ipv4CareOfAddress {
                reserved: 0,
                address: [192, 0, 2, 60],
            },
            O::Ipv4HomeAddress {
                bits: 0,
                address: [0; 4],
            },
        ],
    );
    let mh = emit(&bu, HOA, HA);
    let mut ext = Vec::new();
    ip6::put_home_address_dest_opts(&mut ext, super::NEXT_HEADER, &a6(HOA));
    v.push(with_ext(
        "mh/BU-HAO-DSMIPv6",
        COA,
        HA,
        &ext,
        ip6::nh::DEST_OPTS,
        &mh,
    ));

    let ba = Repr::new(
        M::BindingAck(BindingAck {
            status: 0,
            flags: ba_flags::K,
            seq: 10,
            lifetime: 500,
        }),
        vec![
            O::BindingRefreshAdvice(450),
            O::Ipv4AddressAcknowledgement {
                status: 0,
                bits: 24 << 2,
                address: [198, 51, 100, 20],
            },
            O::NatDetection {
                bits: 0x8000,
                refresh_time: 110,
            },
        ],
    );
    let mh = emit(&ba, HA, HOA);
    let mut ext = Vec::new();
    ip6::put_type2_routing_header(&mut ext, super::NEXT_HEADER, &a6(HOA));
    v.push(with_ext(
        "mh/BA-RH2-DSMIPv6",
        HA,
        COA,
        &ext,
        ip6::nh::ROUTING,
        &mh,
    ));

    // Return routability (RFC 6275 §5.2.5): HoTI/HoT via the home address, CoTI/CoT direct.
    let cookie_h = 0x1122_3344_5566_7788;
    let cookie_c = 0x8877_6655_4433_2211;
    v.push(bare(
        "mh/HoTI",
        &Repr::new(
            M::HomeTestInit {
                reserved: 0,
                cookie: cookie_h,
            },
            vec![],
        ),
        HOA,
        CN,
    ));
    v.push(bare(
        "mh/CoTI",
        &Repr::new(
            M::CareOfTestInit {
                reserved: 0,
                cookie: cookie_c,
            },
            vec![],
        ),
        COA,
        CN,
    ));
    v.push(bare(
        "mh/HoT",
        &Repr::new(
            M::HomeTest {
                nonce_index: 7,
                cookie: cookie_h,
                token: 0x0102_0304_0506_0708,
            },
            vec![],
        ),
        CN,
        HOA,
    ));
    v.push(bare(
        "mh/CoT",
        &Repr::new(
            M::CareOfTest {
                nonce_index: 9,
                cookie: cookie_c,
                token: 0x0a0b_0c0d_0e0f_1011,
            },
            vec![],
        ),
        CN,
        COA,
    ));
    // Correspondent registration with the nonce indices and the 96-bit authenticator.
    let bu_cn = Repr::new(
        M::BindingUpdate(BindingUpdate {
            seq: 11,
            flags: bu_flags::A,
            lifetime: 100,
        }),
        vec![
            O::NonceIndices {
                home: 7,
                care_of: 9,
            },
            O::BindingAuthorizationData(&[0xa5; 12]),
        ],
    );
    let mh = emit(&bu_cn, HOA, CN);
    let mut ext = Vec::new();
    ip6::put_home_address_dest_opts(&mut ext, super::NEXT_HEADER, &a6(HOA));
    v.push(with_ext(
        "mh/BU-correspondent",
        COA,
        CN,
        &ext,
        ip6::nh::DEST_OPTS,
        &mh,
    ));

    // NEMO mobile router BU (RFC 3963) with the authentication protocol of RFC 4285.
    let bu_nemo = Repr::new(
        M::BindingUpdate(BindingUpdate {
            seq: 12,
            flags: bu_flags::A | bu_flags::H | bu_flags::R,
            lifetime: 300,
        }),
        vec![
            O::MobileNetworkPrefix {
                reserved: 0,
                prefix_len: 48,
                prefix: a6("2001:db8:cafe::"),
            },
            O::MobileNodeIdentifier {
                subtype: MNID_SUBTYPE_NAI,
                identifier: b"mr1@example.com",
            },
            O::ReplayProtection(0x0123_4567_89ab_cdef),
            O::Authentication {
                subtype: 1,
                spi: 0x100,
                data: &[0x5a; 12],
            },
        ],
    );
    let mh = emit(&bu_nemo, HOA, HA);
    let mut ext = Vec::new();
    ip6::put_home_address_dest_opts(&mut ext, super::NEXT_HEADER, &a6(HOA));
    let mut s = with_ext("mh/BU-NEMO-auth", COA, HA, &ext, ip6::nh::DEST_OPTS, &mh);
    // tshark 4.0 shows 2 octets too few of the RFC 4285 authentication data (it subtracts the
    // Type and Length octets from the Length a second time): 17 = subtype + SPI + 12 octets.
    s.skip_fields.push("mip6.auth.auth_data");
    v.push(s);

    v.push(bare(
        "mh/BRR",
        &Repr::new(
            M::BindingRefreshRequest { reserved: 0 },
            vec![O::LinkLayerAddress {
                code: 2,
                address: &[0x02, 0, 0, 0, 0, 0x02],
            }],
        ),
        HA,
        HOA,
    ));
    v.push(bare(
        "mh/BE",
        &Repr::new(
            M::BindingError {
                status: 2,
                reserved: 0,
                home_address: a6(HOA),
            },
            vec![],
        ),
        CN,
        COA,
    ));
    let mnid = O::MobileNodeIdentifier {
        subtype: MNID_SUBTYPE_NAI,
        identifier: NAI,
    };
    v.push(bare(
        "mh/BRI",
        &Repr::new(
            M::BindingRevocation {
                br_type: br_type::INDICATION,
                code: 1,
                seq: 21,
                flags: br_flags::P,
            },
            vec![
                mnid,
                O::HomeNetworkPrefix {
                    reserved: 0,
                    prefix_len: 64,
                    prefix: a6(HNP),
                },
            ],
        ),
        LMA,
        MAG,
    ));
    v.push(bare(
        "mh/BRA",
        &Repr::new(
            M::BindingRevocation {
                br_type: br_type::ACKNOWLEDGEMENT,
                code: 0,
                seq: 21,
                flags: br_flags::P,
            },
            vec![mnid],
        ),
        MAG,
        LMA,
    ));
    // tshark 4.0 knows no MH type 19/20 and shows their data as bytes: compare the header only.
    let upn_skip = [
        "mip6.mobility_opt.len",
        "mip6.mnid.subtype",
        "mip6.mnid.identifier",
        "mip6.padn",
    ];
    v.push(bare(
        "mh/UPN",
        &Repr::new(
            M::UpdateNotification {
                seq: 31,
                reason: 1,
                flags: upn_flags::A,
            },
            vec![mnid],
        ),
        LMA,
        MAG,
    ));
    if let Some(s) = v.last_mut() {
        s.skip_fields.extend(upn_skip);
    }
    v.push(bare(
        "mh/UPA",
        &Repr::new(
            M::UpdateNotificationAck {
                seq: 31,
                status: 0,
                reserved: 0,
            },
            vec![mnid],
        ),
        MAG,
        LMA,
    ));
    if let Some(s) = v.last_mut() {
        s.skip_fields.extend(upn_skip);
    }
    v
}
