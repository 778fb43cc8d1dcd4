//! One realistic message of every command in scope, on TCP 3868, each request/answer pair on
//! its own connection (client port) with consistent sequence numbers.
//!
//! The ERP exchange (RFC 6942 ERP-RK-Request, RFC 6734 Key) is in [`erp_samples`], not in
//! [`samples`]: Wireshark 4.0's dictionary has no AVP 581–586, 618 or 619 (its
//! dictionary.xml lists them in a comment only), so tshark would raise "Unknown AVP" expert
//! warnings for correct messages.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::app;
use super::avp::Time;
use super::commands as cmd;
use super::dict::{self as d, VENDOR_3GPP};
use super::repr::{AvpRepr as A, MessageRepr};
use super::PORT;
use crate::frame::Frame;
use crate::sample::Sample;

const REALM: &str = "epc.mnc001.mcc001.3gppnetwork.org";
const EPDG: &str = "epdg.epc.mnc001.mcc001.3gppnetwork.org";
const AAA_HOST: &str = "aaa.epc.mnc001.mcc001.3gppnetwork.org";
const HSS: &str = "hss.epc.mnc001.mcc001.3gppnetwork.org";
const PGW: &str = "pgw.epc.mnc001.mcc001.3gppnetwork.org";
const NAI: &str = "0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org";
const IMSI: &str = "001010000000001";
/// RFC 5612 example enterprise number: the Vendor-Id of the sample implementation.
const EXAMPLE_VENDOR: u32 = 32473;

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}
fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED))
}

const IP_EPDG: [u8; 4] = [192, 0, 2, 20];
const IP_AAA: [u8; 4] = [192, 0, 2, 10];
const IP_HSS: [u8; 4] = [192, 0, 2, 30];
const IP_PGW: [u8; 4] = [198, 51, 100, 1];
const IP_MAG: [u8; 4] = [192, 0, 2, 40];

/// 2023-11-14 22:13:20 UTC.
const NOW: i64 = 1_700_000_000;

fn vsai(app_id: u32) -> A<'static> {
    A::grouped(
        &d::VENDOR_SPECIFIC_APPLICATION_ID,
        vec![
            A::u32(&d::VENDOR_ID, VENDOR_3GPP),
            A::u32(&d::AUTH_APPLICATION_ID, app_id),
        ],
    )
}

fn origin(host: &'static str) -> [A<'static>; 2] {
    [
        A::utf8(&d::ORIGIN_HOST, host),
        A::utf8(&d::ORIGIN_REALM, REALM),
    ]
}

fn supported_features() -> A<'static> {
    A::grouped(
        &d::SUPPORTED_FEATURES,
        vec![
            A::u32(&d::VENDOR_ID, VENDOR_3GPP),
            A::u32(&d::FEATURE_LIST_ID, 1),
            A::u32(&d::FEATURE_LIST, 0x0000_0003),
        ],
    )
}

/// MIP6-Feature-Vector bits (RFC 5447 §4.2.5, RFC 5779 §5.5): PMIP6_SUPPORTED | IP4_HOA_SUPPORTED.
const MIP6_FV: u64 = 0x0000_0100_0000_0000 | 0x0000_0200_0000_0000;

fn mip6_agent_info() -> A<'static> {
    A::grouped(
        &d::MIP6_AGENT_INFO,
        vec![
            A::ip(&d::MIP_HOME_AGENT_ADDRESS, v4(IP_PGW)),
            A::ip(&d::MIP_HOME_AGENT_ADDRESS, v6("2001:db8:100::1")),
            A::grouped(
                &d::MIP_HOME_AGENT_HOST,
                vec![
                    A::utf8(&d::DESTINATION_REALM, REALM),
                    A::utf8(&d::DESTINATION_HOST, PGW),
                ],
            ),
        ],
    )
}

fn apn_configuration() -> A<'static> {
    A::grouped(
        &d::APN_CONFIGURATION,
        vec![
            A::u32(&d::CONTEXT_IDENTIFIER, 1),
            A::ip(&d::SERVED_PARTY_IP_ADDRESS, v4([198, 51, 100, 200])),
            A::enumerated(&d::PDN_TYPE_AVP, 2),
            A::utf8(&d::SERVICE_SELECTION, "internet"),
            A::grouped(
                &d::EPS_SUBSCRIBED_QOS_PROFILE,
                vec![
                    A::enumerated(&d::QOS_CLASS_IDENTIFIER_AVP, 9),
                    A::grouped(
                        &d::ALLOCATION_RETENTION_PRIORITY,
                        vec![
                            A::u32(&d::PRIORITY_LEVEL, 8),
                            A::enumerated(&d::PRE_EMPTION_CAPABILITY_AVP, 1),
                            A::enumerated(&d::PRE_EMPTION_VULNERABILITY_AVP, 0),
                        ],
                    ),
                ],
            ),
            A::enumerated(&d::VPLMN_DYNAMIC_ADDRESS_ALLOWED_AVP, 1),
            mip6_agent_info(),
            A::enumerated(&d::PDN_GW_ALLOCATION_TYPE_AVP, 0),
            ambr(),
        ],
    )
}

fn ambr() -> A<'static> {
    A::grouped(
        &d::AMBR,
        vec![
            A::u32(&d::MAX_REQUESTED_BANDWIDTH_UL, 50_000_000),
            A::u32(&d::MAX_REQUESTED_BANDWIDTH_DL, 100_000_000),
        ],
    )
}

fn non_3gpp_user_data() -> A<'static> {
    A::grouped(
        &d::NON_3GPP_USER_DATA,
        vec![
            A::grouped(
                &d::SUBSCRIPTION_ID,
                vec![
                    A::enumerated(&d::SUBSCRIPTION_ID_TYPE_AVP, 0),
                    A::utf8(&d::SUBSCRIPTION_ID_DATA, "15551230001"),
                ],
            ),
            A::enumerated(&d::NON_3GPP_IP_ACCESS_AVP, 0),
            A::enumerated(&d::NON_3GPP_IP_ACCESS_APN_AVP, 0),
            A::u64(&d::MIP6_FEATURE_VECTOR, MIP6_FV),
            ambr(),
            A::u32(&d::CONTEXT_IDENTIFIER, 1),
            apn_configuration(),
            A::utf8(&d::TGPP_CHARGING_CHARACTERISTICS, "0800"),
        ],
    )
}

/// EAP-Response/Identity carrying the permanent NAI (59 bytes).
pub(crate) fn eap_identity() -> Vec<u8> {
    let mut e = vec![2, 1, 0, 0, 1];
    e.extend_from_slice(NAI.as_bytes());
    let n = e.len() as u16;
    e[2..4].copy_from_slice(&n.to_be_bytes());
    e
}

/// EAP-Request/AKA-Challenge with AT_RAND, AT_AUTN, AT_MAC (RFC 4187 §9.3).
fn eap_aka_challenge() -> Vec<u8> {
    let mut e = vec![1, 2, 0, 68, 23, 1, 0, 0];
    for (t, fill) in [(1u8, 0x11u8), (2, 0x22), (11, 0x33)] {
        e.extend_from_slice(&[t, 5, 0, 0]);
        e.extend_from_slice(&[fill; 16]);
    }
    e
}

const EAP_SUCCESS: [u8; 4] = [3, 2, 0, 4];
const MSK: [u8; 64] = [0x5a; 64];

struct Exchange {
    client: IpAddr,
    server: IpAddr,
    port: u16,
}

fn pair(
    out: &mut Vec<Sample>,
    ex: &Exchange,
    names: [&str; 2],
    req: MessageRepr<'_>,
    ans: MessageRepr<'_>,
) {
    let rq = req.to_vec().unwrap_or_default();
    let an = ans.to_vec().unwrap_or_default();
    let seq_c = 1_000;
    let seq_s = 5_000;
    let f1 = Frame::tcp(ex.client, ex.server, ex.port, PORT, seq_c, seq_s);
    let f2 = Frame::tcp(
        ex.server,
        ex.client,
        PORT,
        ex.port,
        seq_s,
        seq_c + rq.len() as u32,
    );
    for (name, frame, bytes) in [(names[0], f1, rq), (names[1], f2, an)] {
        // Without desegmentation tshark reports a truncated PDU instead of holding it back.
        out.push(
            Sample::new(format!("diameter/{name}"), frame, &bytes, super::dissect)
                .tshark(&["-o", "tcp.desegment_tcp_streams:FALSE"]),
        );
    }
}

fn sid(n: u32) -> String {
    format!("{EPDG};{NOW};{n}")
}

/// The sample set checked by the tshark harness.
pub fn samples() -> Vec<Sample> {
    let mut v = Vec::new();
    let epdg_aaa = |port| Exchange {
        client: v4(IP_EPDG),
        server: v4(IP_AAA),
        port,
    };
    let aaa_epdg = |port| Exchange {
        client: v4(IP_AAA),
        server: v4(IP_EPDG),
        port,
    };
    let aaa_hss = |port| Exchange {
        client: v4(IP_AAA),
        server: v4(IP_HSS),
        port,
    };
    let hss_aaa = |port| Exchange {
        client: v4(IP_HSS),
        server: v4(IP_AAA),
        port,
    };

    // CER / CEA
    let caps = |host: &'static str, ip: [u8; 4]| {
        let mut a = origin(host).to_vec();
        a.push(A::ip(&d::HOST_IP_ADDRESS, v4(ip)));
        a.push(A::ip(&d::HOST_IP_ADDRESS, v6("2001:db8::20")));
        a.push(A::u32(&d::VENDOR_ID, EXAMPLE_VENDOR));
        a.push(A::utf8(&d::PRODUCT_NAME, "mobstrap"));
        a.push(A::u32(&d::ORIGIN_STATE_ID, NOW as u32));
        a.push(A::u32(&d::SUPPORTED_VENDOR_ID, VENDOR_3GPP));
        a.push(A::u32(&d::AUTH_APPLICATION_ID, app::EAP));
        a.push(A::u32(&d::AUTH_APPLICATION_ID, app::NASREQ));
        a.push(A::u32(&d::ACCT_APPLICATION_ID, app::BASE_ACCOUNTING));
        a.push(vsai(app::SWM));
        a.push(vsai(app::SWX));
        a.push(vsai(app::S6B));
        a.push(A::u32(&d::INBAND_SECURITY_ID_AVP, 0));
        a.push(A::u32(&d::FIRMWARE_REVISION, 1));
        a
    };
    let mut cer = MessageRepr::request(cmd::CAPABILITIES_EXCHANGE, app::COMMON)
        .hop_by_hop(0x1000)
        .end_to_end(0x5000_0001);
    cer.avps = caps(EPDG, IP_EPDG);
    let mut cea = MessageRepr {
        header: super::Header {
            flags: 0,
            ..cer.header
        },
        avps: vec![A::u32(&d::RESULT_CODE, 2001)],
    };
    cea.avps.extend(caps(AAA_HOST, IP_AAA));
    pair(&mut v, &epdg_aaa(40001), ["CER", "CEA"], cer, cea);

    // DWR / DWA
    let dwr = MessageRepr::request(cmd::DEVICE_WATCHDOG, app::COMMON)
        .hop_by_hop(0x1001)
        .end_to_end(0x5000_0002)
        .with(A::utf8(&d::ORIGIN_HOST, EPDG))
        .with(A::utf8(&d::ORIGIN_REALM, REALM))
        .with(A::u32(&d::ORIGIN_STATE_ID, NOW as u32));
    let mut dwa = MessageRepr {
        header: super::Header {
            flags: 0,
            ..dwr.header
        },
        avps: vec![A::u32(&d::RESULT_CODE, 2001)],
    };
    dwa.avps.extend(origin(AAA_HOST));
    pair(&mut v, &epdg_aaa(40002), ["DWR", "DWA"], dwr, dwa);

    // DPR / DPA
    let mut dpr = MessageRepr::request(cmd::DISCONNECT_PEER, app::COMMON)
        .hop_by_hop(0x1002)
        .end_to_end(0x5000_0003);
    dpr.avps.extend(origin(EPDG));
    dpr.push(A::enumerated(&d::DISCONNECT_CAUSE_AVP, 2));
    let mut dpa = MessageRepr {
        header: super::Header {
            flags: 0,
            ..dpr.header
        },
        avps: vec![A::u32(&d::RESULT_CODE, 2001)],
    };
    dpa.avps.extend(origin(AAA_HOST));
    pair(&mut v, &epdg_aaa(40003), ["DPR", "DPA"], dpr, dpa);

    // SWm DER (EAP-Response/Identity) / DEA (AKA-Challenge, 1001)
    let s = sid(1);
    let eap_id = eap_identity();
    let der = swm_der(&s, &eap_id);
    let challenge = eap_aka_challenge();
    let mut dea1 = answer(&der, &s);
    dea1.push(A::u32(&d::AUTH_APPLICATION_ID, app::SWM));
    dea1.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3));
    dea1.push(A::u32(&d::RESULT_CODE, 1001));
    dea1.avps.extend(origin(AAA_HOST));
    dea1.push(A::octets(&d::EAP_PAYLOAD, &challenge));
    dea1.push(A::u32(&d::MULTI_ROUND_TIME_OUT, 30));
    pair(
        &mut v,
        &epdg_aaa(40004),
        ["SWm-DER", "SWm-DEA-challenge"],
        der.clone(),
        dea1,
    );

    // SWm DEA success with MSK, APN configuration, agent info
    let mut dea = answer(&der, &s);
    dea.push(A::u32(&d::AUTH_APPLICATION_ID, app::SWM));
    dea.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3));
    dea.push(A::u32(&d::RESULT_CODE, 2001));
    dea.avps.extend(origin(AAA_HOST));
    dea.push(A::octets(&d::EAP_PAYLOAD, &EAP_SUCCESS));
    dea.push(A::octets(&d::EAP_MASTER_SESSION_KEY, &MSK));
    dea.push(A::utf8(&d::USER_NAME, NAI));
    dea.push(A::utf8(&d::APN_OI_REPLACEMENT, "mnc001.mcc001.gprs"));
    dea.push(apn_configuration());
    dea.push(mip6_agent_info());
    dea.push(A::u64(&d::MIP6_FEATURE_VECTOR, MIP6_FV));
    dea.push(A::utf8(&d::MOBILE_NODE_IDENTIFIER, NAI));
    dea.push(A::u32(&d::SESSION_TIMEOUT, 86_400));
    dea.push(A::enumerated(&d::AUTH_SESSION_STATE_AVP, 0));
    dea.push(A::utf8(&d::TGPP_AAA_SERVER_NAME, AAA_HOST));
    dea.push(supported_features());
    let mut der2 = der.clone();
    der2.header.hop_by_hop += 1;
    dea.header.hop_by_hop = der2.header.hop_by_hop;
    pair(
        &mut v,
        &epdg_aaa(40005),
        ["SWm-DER-2", "SWm-DEA-success"],
        der2,
        dea,
    );

    // STa DER / DEA (trusted WLAN)
    let s = format!("twan.{REALM};{NOW};7");
    let der = MessageRepr::request(cmd::DIAMETER_EAP, app::STA)
        .hop_by_hop(0x2001)
        .end_to_end(0x6000_0001)
        .with(A::utf8(&d::SESSION_ID, &s))
        .with(A::u32(&d::AUTH_APPLICATION_ID, app::STA))
        .with(A::utf8(
            &d::ORIGIN_HOST,
            "twan.epc.mnc001.mcc001.3gppnetwork.org",
        ))
        .with(A::utf8(&d::ORIGIN_REALM, REALM))
        .with(A::utf8(&d::DESTINATION_REALM, REALM))
        .with(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3))
        .with(A::octets(&d::EAP_PAYLOAD, &eap_id))
        .with(A::utf8(&d::USER_NAME, NAI))
        .with(A::enumerated(&d::RAT_TYPE_AVP, 0))
        .with(A::utf8(&d::ANID, "WLAN"))
        .with(A::u64(&d::MIP6_FEATURE_VECTOR, MIP6_FV))
        .with(A::utf8(&d::CALLING_STATION_ID, "02-00-5E-10-00-01"));
    let mut dea = answer(&der, &s);
    dea.push(A::u32(&d::AUTH_APPLICATION_ID, app::STA));
    dea.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3));
    dea.push(A::u32(&d::RESULT_CODE, 2001));
    dea.push(A::utf8(&d::ORIGIN_HOST, AAA_HOST));
    dea.push(A::utf8(&d::ORIGIN_REALM, REALM));
    dea.push(A::octets(&d::EAP_PAYLOAD, &EAP_SUCCESS));
    dea.push(A::octets(&d::EAP_MASTER_SESSION_KEY, &MSK));
    dea.push(A::enumerated(&d::AN_TRUSTED_AVP, 0));
    dea.push(A::octets(&d::FULL_NETWORK_NAME, b"\x80mobstrap"));
    dea.push(A::octets(&d::SHORT_NETWORK_NAME, b"\x80mbs"));
    dea.push(A::u32(&d::SESSION_TIMEOUT, 3600));
    pair(
        &mut v,
        &Exchange {
            client: v4([192, 0, 2, 50]),
            server: v4(IP_AAA),
            port: 40006,
        },
        ["STa-DER", "STa-DEA"],
        der,
        dea,
    );

    // EAP application DER rejected: 5004 with Failed-AVP and EAP-Reissued-Payload
    let s = sid(9);
    let der = MessageRepr::request(cmd::DIAMETER_EAP, app::EAP)
        .hop_by_hop(0x2002)
        .end_to_end(0x6000_0002)
        .with(A::utf8(&d::SESSION_ID, &s))
        .with(A::u32(&d::AUTH_APPLICATION_ID, app::EAP))
        .with(A::utf8(&d::ORIGIN_HOST, EPDG))
        .with(A::utf8(&d::ORIGIN_REALM, REALM))
        .with(A::utf8(&d::DESTINATION_REALM, REALM))
        .with(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 1))
        .with(A::octets(&d::EAP_PAYLOAD, &[2, 2, 0, 6, 23, 1]))
        .with(A::utf8(&d::NAS_IDENTIFIER, "epdg1"));
    let bad = A::octets(&d::EAP_PAYLOAD, &[2, 2, 0, 6, 23, 1]);
    let mut bad_bytes = Vec::new();
    let _ = bad.emit(&mut bad_bytes);
    let mut dea = answer(&der, &s);
    dea.push(A::u32(&d::AUTH_APPLICATION_ID, app::EAP));
    dea.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 1));
    dea.push(A::u32(&d::RESULT_CODE, 5004));
    dea.avps.extend(origin(AAA_HOST));
    dea.push(A::new(&d::FAILED_AVP, super::Value::Octets(&bad_bytes)));
    dea.push(A::octets(&d::EAP_REISSUED_PAYLOAD, &challenge));
    dea.push(A::utf8(&d::ERROR_MESSAGE, "EAP-Response too short"));
    dea.push(A::utf8(&d::ERROR_REPORTING_HOST, AAA_HOST));
    pair(
        &mut v,
        &epdg_aaa(40007),
        ["EAP-DER", "EAP-DEA-error"],
        der,
        dea,
    );

    // SWm AAR / AAA
    let s = sid(1);
    let aar = MessageRepr::request(cmd::AA, app::SWM)
        .hop_by_hop(0x1010)
        .end_to_end(0x5000_0010)
        .with(A::utf8(&d::SESSION_ID, &s))
        .with(A::u32(&d::AUTH_APPLICATION_ID, app::SWM))
        .with(A::utf8(&d::ORIGIN_HOST, EPDG))
        .with(A::utf8(&d::ORIGIN_REALM, REALM))
        .with(A::utf8(&d::DESTINATION_REALM, REALM))
        .with(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 2))
        .with(A::utf8(&d::USER_NAME, NAI))
        .with(A::utf8(&d::SERVICE_SELECTION, "internet"))
        .with(A::u32(&d::AAR_FLAGS, 0))
        .with(A::ip(&d::UE_LOCAL_IP_ADDRESS, v4([203, 0, 113, 7])));
    let mut aaa = answer(&aar, &s);
    aaa.push(A::u32(&d::AUTH_APPLICATION_ID, app::SWM));
    aaa.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 2));
    aaa.push(A::u32(&d::RESULT_CODE, 2001));
    aaa.avps.extend(origin(AAA_HOST));
    aaa.push(A::u32(&d::SESSION_TIMEOUT, 86_400));
    aaa.push(apn_configuration());
    pair(&mut v, &epdg_aaa(40008), ["SWm-AAR", "SWm-AAA"], aar, aaa);

    // S6b AAR / AAA (PDN GW → AAA)
    let s = format!("{PGW};{NOW};3");
    let aar = s6b_aar(&s);
    let mut aaa = answer(&aar, &s);
    aaa.push(A::u32(&d::AUTH_APPLICATION_ID, app::S6B));
    aaa.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 2));
    aaa.push(A::u32(&d::RESULT_CODE, 2001));
    aaa.avps.extend(origin(AAA_HOST));
    aaa.push(A::utf8(&d::MOBILE_NODE_IDENTIFIER, NAI));
    aaa.push(A::u64(&d::MIP6_FEATURE_VECTOR, MIP6_FV));
    aaa.push(A::u32(&d::SESSION_TIMEOUT, 86_400));
    aaa.push(A::enumerated(&d::AUTH_SESSION_STATE_AVP, 0));
    let pgw_aaa = |port| Exchange {
        client: v4(IP_PGW),
        server: v4(IP_AAA),
        port,
    };
    pair(
        &mut v,
        &pgw_aaa(40009),
        ["S6b-AAR", "S6b-AAA"],
        aar.clone(),
        aaa,
    );

    // S6b AAA error: Experimental-Result 5451 with Failed-AVP
    let mut aar_ims = aar.clone();
    aar_ims.header.hop_by_hop += 1;
    for a in aar_ims.avps.iter_mut() {
        if a.code == d::SERVICE_SELECTION.code {
            a.value = super::Value::Text("ims");
        }
    }
    let mut err = answer(&aar_ims, &s);
    err.push(A::u32(&d::AUTH_APPLICATION_ID, app::S6B));
    err.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 2));
    err.avps.extend(origin(AAA_HOST));
    err.push(A::grouped(
        &d::EXPERIMENTAL_RESULT,
        vec![
            A::u32(&d::VENDOR_ID, VENDOR_3GPP),
            A::u32(&d::EXPERIMENTAL_RESULT_CODE, 5451),
        ],
    ));
    err.push(A::grouped(
        &d::FAILED_AVP,
        vec![A::utf8(&d::SERVICE_SELECTION, "ims")],
    ));
    pair(
        &mut v,
        &pgw_aaa(40010),
        ["S6b-AAR-ims", "S6b-AAA-error"],
        aar_ims,
        err,
    );

    // NASREQ AAR / AAA for a PMIPv6 MAG (RFC 7155 + RFC 5779)
    let s = format!("mag.{REALM};{NOW};4");
    let aar = MessageRepr::request(cmd::AA, app::NASREQ)
        .hop_by_hop(0x3001)
        .end_to_end(0x7000_0001)
        .with(A::utf8(&d::SESSION_ID, &s))
        .with(A::u32(&d::AUTH_APPLICATION_ID, app::NASREQ))
        .with(A::utf8(
            &d::ORIGIN_HOST,
            "mag.epc.mnc001.mcc001.3gppnetwork.org",
        ))
        .with(A::utf8(&d::ORIGIN_REALM, REALM))
        .with(A::utf8(&d::DESTINATION_REALM, REALM))
        .with(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3))
        .with(A::utf8(&d::NAS_IDENTIFIER, "mag1"))
        .with(A::octets(&d::NAS_IP_ADDRESS, &IP_MAG))
        .with(A::enumerated(&d::NAS_PORT_TYPE_AVP, 19))
        .with(A::utf8(&d::USER_NAME, NAI))
        .with(A::enumerated(&d::SERVICE_TYPE_AVP, 2))
        .with(A::utf8(&d::CALLING_STATION_ID, "02-00-5E-10-00-01"))
        .with(A::utf8(&d::CALLED_STATION_ID, "02-00-5E-10-00-FE:mobstrap"))
        .with(A::octets(&d::CHAP_CHALLENGE, &[0x44; 16]))
        .with(A::grouped(
            &d::CHAP_AUTH,
            vec![
                A::enumerated(&d::CHAP_ALGORITHM_AVP, 5),
                A::octets(&d::CHAP_IDENT, &[7]),
                A::octets(&d::CHAP_RESPONSE, &[0x55; 16]),
            ],
        ))
        .with(A::u64(&d::MIP6_FEATURE_VECTOR, MIP6_FV));
    let mut aaa = answer(&aar, &s);
    aaa.push(A::u32(&d::AUTH_APPLICATION_ID, app::NASREQ));
    aaa.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3));
    aaa.push(A::u32(&d::RESULT_CODE, 2001));
    aaa.avps.extend(origin(AAA_HOST));
    aaa.push(A::utf8(&d::USER_NAME, NAI));
    aaa.push(A::enumerated(&d::SERVICE_TYPE_AVP, 2));
    aaa.push(A::enumerated(&d::FRAMED_PROTOCOL_AVP, 1));
    aaa.push(A::octets(&d::FRAMED_IP_ADDRESS, &[198, 51, 100, 201]));
    aaa.push(A::octets(&d::FRAMED_IP_NETMASK, &[255, 255, 255, 0]));
    aaa.push(A::octets(
        &d::FRAMED_IPV6_PREFIX,
        &[0, 64, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x42, 0, 0],
    ));
    aaa.push(A::u64(&d::FRAMED_INTERFACE_ID, 0x0200_5eff_fe10_0001));
    aaa.push(A::u32(&d::FRAMED_MTU, 1400));
    aaa.push(A::u32(&d::IDLE_TIMEOUT, 600));
    aaa.push(A::u32(&d::SESSION_TIMEOUT, 86_400));
    aaa.push(A::utf8(&d::REPLY_MESSAGE, "welcome"));
    aaa.push(A::utf8(
        &d::NAS_FILTER_RULE,
        "permit in ip from any to 198.51.100.0/24",
    ));
    aaa.push(A::utf8(&d::MOBILE_NODE_IDENTIFIER, NAI));
    aaa.push(A::utf8(&d::SERVICE_SELECTION, "internet"));
    aaa.push(A::grouped(
        &d::MIP6_AGENT_INFO,
        vec![A::ip(&d::MIP_HOME_AGENT_ADDRESS, v6("2001:db8:100::1"))],
    ));
    let mut hlp = vec![64u8];
    hlp.extend_from_slice(&[
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    aaa.push(A::octets(&d::MIP6_HOME_LINK_PREFIX, &hlp));
    aaa.push(A::ip(&d::PMIP6_IPV4_HOME_ADDRESS, v4([198, 51, 100, 201])));
    aaa.push(A::ip(&d::PMIP6_DHCP_SERVER_ADDRESS, v4(IP_PGW)));
    aaa.push(A::grouped(
        &d::SERVICE_CONFIGURATION,
        vec![
            A::grouped(
                &d::MIP6_AGENT_INFO,
                vec![A::ip(&d::MIP_HOME_AGENT_ADDRESS, v4(IP_PGW))],
            ),
            A::utf8(&d::SERVICE_SELECTION, "ims"),
        ],
    ));
    aaa.push(A::enumerated(&d::AUTH_SESSION_STATE_AVP, 0));
    pair(
        &mut v,
        &Exchange {
            client: v4(IP_MAG),
            server: v4(IP_AAA),
            port: 40011,
        },
        ["NASREQ-AAR", "NASREQ-AAA"],
        aar,
        aaa,
    );

    // STR / STA (SWm)
    let s = sid(1);
    let mut str_ = MessageRepr::request(cmd::SESSION_TERMINATION, app::SWM)
        .hop_by_hop(0x1020)
        .end_to_end(0x5000_0020);
    str_.push(A::utf8(&d::SESSION_ID, &s));
    str_.avps.extend(origin(EPDG));
    str_.push(A::utf8(&d::DESTINATION_REALM, REALM));
    str_.push(A::u32(&d::AUTH_APPLICATION_ID, app::SWM));
    str_.push(A::enumerated(&d::TERMINATION_CAUSE_AVP, 1));
    str_.push(A::utf8(&d::USER_NAME, NAI));
    let mut sta = answer(&str_, &s);
    sta.push(A::u32(&d::RESULT_CODE, 2001));
    sta.avps.extend(origin(AAA_HOST));
    pair(&mut v, &epdg_aaa(40012), ["STR", "STA"], str_, sta);

    // ASR / ASA (AAA → ePDG)
    let mut asr = MessageRepr::request(cmd::ABORT_SESSION, app::SWM)
        .hop_by_hop(0x4001)
        .end_to_end(0x8000_0001);
    asr.push(A::utf8(&d::SESSION_ID, &s));
    asr.avps.extend(origin(AAA_HOST));
    asr.push(A::utf8(&d::DESTINATION_REALM, REALM));
    asr.push(A::utf8(&d::DESTINATION_HOST, EPDG));
    asr.push(A::u32(&d::AUTH_APPLICATION_ID, app::SWM));
    asr.push(A::utf8(&d::USER_NAME, NAI));
    asr.push(A::enumerated(&d::AUTH_SESSION_STATE_AVP, 0));
    let mut asa = answer(&asr, &s);
    asa.push(A::u32(&d::RESULT_CODE, 2001));
    asa.avps.extend(origin(EPDG));
    pair(&mut v, &aaa_epdg(40013), ["ASR", "ASA"], asr, asa);

    // RAR / RAA (AAA → ePDG)
    let mut rar = MessageRepr::request(cmd::RE_AUTH, app::SWM)
        .hop_by_hop(0x4002)
        .end_to_end(0x8000_0002);
    rar.push(A::utf8(&d::SESSION_ID, &s));
    rar.avps.extend(origin(AAA_HOST));
    rar.push(A::utf8(&d::DESTINATION_REALM, REALM));
    rar.push(A::utf8(&d::DESTINATION_HOST, EPDG));
    rar.push(A::u32(&d::AUTH_APPLICATION_ID, app::SWM));
    rar.push(A::enumerated(&d::RE_AUTH_REQUEST_TYPE_AVP, 0));
    rar.push(A::utf8(&d::USER_NAME, NAI));
    rar.push(A::u32(&d::RAR_FLAGS, 0));
    let mut raa = answer(&rar, &s);
    raa.push(A::u32(&d::RESULT_CODE, 2001));
    raa.avps.extend(origin(EPDG));
    pair(&mut v, &aaa_epdg(40014), ["RAR", "RAA"], rar, raa);

    // SWx MAR / MAA
    let s = format!("{AAA_HOST};{NOW};100");
    let mar = swx_request(cmd::MULTIMEDIA_AUTH, &s, 0x5001)
        .with(A::utf8(&d::USER_NAME, IMSI))
        .with(A::u32(&d::SIP_NUMBER_AUTH_ITEMS, 1))
        .with(A::grouped(
            &d::SIP_AUTH_DATA_ITEM,
            vec![A::utf8(&d::SIP_AUTHENTICATION_SCHEME, "EAP-AKA")],
        ))
        .with(A::enumerated(&d::RAT_TYPE_AVP, 0))
        .with(supported_features());
    let mut maa = swx_answer(&mar, &s);
    maa.push(A::utf8(&d::USER_NAME, IMSI));
    maa.push(A::u32(&d::SIP_NUMBER_AUTH_ITEMS, 1));
    maa.push(A::grouped(
        &d::SIP_AUTH_DATA_ITEM,
        vec![
            A::u32(&d::SIP_ITEM_NUMBER, 1),
            A::utf8(&d::SIP_AUTHENTICATION_SCHEME, "EAP-AKA"),
            A::octets(&d::SIP_AUTHENTICATE, &[0x11; 32]),
            A::octets(&d::SIP_AUTHORIZATION, &[0x66; 8]),
            A::octets(&d::CONFIDENTIALITY_KEY, &[0x77; 16]),
            A::octets(&d::INTEGRITY_KEY, &[0x88; 16]),
        ],
    ));
    pair(&mut v, &aaa_hss(40015), ["SWx-MAR", "SWx-MAA"], mar, maa);

    // SWx SAR / SAA
    let sar = swx_request(cmd::SERVER_ASSIGNMENT, &s, 0x5002)
        .with(A::utf8(&d::USER_NAME, IMSI))
        .with(A::enumerated(&d::SERVER_ASSIGNMENT_TYPE_AVP, 1))
        .with(A::utf8(&d::SERVICE_SELECTION, "internet"))
        .with(A::u32(&d::CONTEXT_IDENTIFIER, 1))
        .with(mip6_agent_info())
        .with(A::octets(
            &d::VISITED_NETWORK_IDENTIFIER,
            b"mnc002.mcc001.3gppnetwork.org",
        ))
        .with(A::u32(&d::AAA_FAILURE_INDICATION, 0))
        .with(supported_features());
    let mut saa = swx_answer(&sar, &s);
    saa.push(A::utf8(&d::USER_NAME, IMSI));
    saa.push(non_3gpp_user_data());
    saa.push(A::utf8(&d::TGPP_AAA_SERVER_NAME, AAA_HOST));
    pair(&mut v, &aaa_hss(40016), ["SWx-SAR", "SWx-SAA"], sar, saa);

    // SWx PPR / PPA (HSS → AAA)
    let s2 = format!("{HSS};{NOW};200");
    let ppr = swx_request(cmd::PUSH_PROFILE, &s2, 0x6001)
        .with(A::utf8(&d::DESTINATION_HOST, AAA_HOST))
        .with(A::utf8(&d::USER_NAME, IMSI))
        .with(non_3gpp_user_data())
        .with(A::u32(&d::PPR_FLAGS, 0));
    let mut ppr = ppr;
    set_origin(&mut ppr, HSS);
    let mut ppa = swx_answer(&ppr, &s2);
    set_origin(&mut ppa, AAA_HOST);
    pair(&mut v, &hss_aaa(40017), ["SWx-PPR", "SWx-PPA"], ppr, ppa);

    // SWx RTR / RTA (HSS → AAA)
    let s3 = format!("{HSS};{NOW};201");
    let mut rtr = swx_request(cmd::REGISTRATION_TERMINATION, &s3, 0x6002)
        .with(A::utf8(&d::DESTINATION_HOST, AAA_HOST))
        .with(A::utf8(&d::USER_NAME, IMSI))
        .with(A::grouped(
            &d::DEREGISTRATION_REASON,
            vec![
                A::enumerated(&d::REASON_CODE_AVP, 0),
                A::utf8(&d::REASON_INFO, "subscription withdrawn"),
            ],
        ));
    set_origin(&mut rtr, HSS);
    let mut rta = swx_answer(&rtr, &s3);
    set_origin(&mut rta, AAA_HOST);
    pair(&mut v, &hss_aaa(40018), ["SWx-RTR", "SWx-RTA"], rtr, rta);

    // ACR / ACA (base accounting)
    let s = sid(1);
    let mut acr = MessageRepr::request(cmd::ACCOUNTING, app::BASE_ACCOUNTING)
        .hop_by_hop(0x1030)
        .end_to_end(0x5000_0030);
    acr.push(A::utf8(&d::SESSION_ID, &s));
    acr.avps.extend(origin(EPDG));
    acr.push(A::utf8(&d::DESTINATION_REALM, REALM));
    acr.push(A::enumerated(&d::ACCOUNTING_RECORD_TYPE_AVP, 4));
    acr.push(A::u32(&d::ACCOUNTING_RECORD_NUMBER, 2));
    acr.push(A::u32(&d::ACCT_APPLICATION_ID, app::BASE_ACCOUNTING));
    acr.push(A::utf8(&d::USER_NAME, NAI));
    acr.push(A::u64(&d::ACCOUNTING_SUB_SESSION_ID, 1));
    acr.push(A::octets(&d::ACCT_SESSION_ID, &[0, 0, 0, 1]));
    acr.push(A::utf8(&d::ACCT_MULTI_SESSION_ID, "epdg-1"));
    acr.push(A::u32(&d::ACCT_INTERIM_INTERVAL, 600));
    acr.push(A::enumerated(&d::ACCOUNTING_REALTIME_REQUIRED_AVP, 1));
    acr.push(A::u32(&d::ORIGIN_STATE_ID, NOW as u32));
    acr.push(A::time(
        &d::EVENT_TIMESTAMP,
        Time::from_unix(NOW + 3600).unwrap_or(Time(0)),
    ));
    acr.push(A::u32(&d::ACCT_SESSION_TIME, 3600));
    acr.push(A::u64(&d::ACCOUNTING_INPUT_OCTETS, 12_345_678));
    acr.push(A::u64(&d::ACCOUNTING_OUTPUT_OCTETS, 87_654_321));
    acr.push(A::u64(&d::ACCOUNTING_INPUT_PACKETS, 10_000));
    acr.push(A::u64(&d::ACCOUNTING_OUTPUT_PACKETS, 20_000));
    acr.push(A::u64(&d::ACCOUNTING_EAP_AUTH_METHOD, 23));
    acr.push(A::enumerated(&d::ACCOUNTING_AUTH_METHOD_AVP, 5));
    acr.push(A::enumerated(&d::ACCT_AUTHENTIC_AVP, 4));
    acr.push(A::octets(&d::CLASS, b"gold"));
    let mut aca = answer(&acr, &s);
    aca.push(A::u32(&d::RESULT_CODE, 2001));
    aca.avps.extend(origin(AAA_HOST));
    aca.push(A::enumerated(&d::ACCOUNTING_RECORD_TYPE_AVP, 4));
    aca.push(A::u32(&d::ACCOUNTING_RECORD_NUMBER, 2));
    aca.push(A::u32(&d::ACCT_APPLICATION_ID, app::BASE_ACCOUNTING));
    pair(&mut v, &epdg_aaa(40019), ["ACR", "ACA"], acr, aca);

    // Routed request with Route-Record and Proxy-Info, protocol-error answer (E bit, 3002)
    let s = sid(11);
    let mut der = swm_der(&s, &eap_id);
    der.header.hop_by_hop = 0x9001;
    der.header.flags |= super::message::flags::RETRANSMITTED;
    der.push(A::utf8(
        &d::ROUTE_RECORD,
        "dra.epc.mnc001.mcc001.3gppnetwork.org",
    ));
    der.push(A::grouped(
        &d::PROXY_INFO,
        vec![
            A::utf8(&d::PROXY_HOST, "dra.epc.mnc001.mcc001.3gppnetwork.org"),
            A::octets(&d::PROXY_STATE, &[1, 2, 3, 4]),
        ],
    ));
    let mut ans = answer(&der, &s);
    ans.header.flags = super::message::flags::PROXIABLE | super::message::flags::ERROR;
    ans.push(A::u32(&d::RESULT_CODE, 3002));
    ans.push(A::utf8(
        &d::ORIGIN_HOST,
        "dra.epc.mnc001.mcc001.3gppnetwork.org",
    ));
    ans.push(A::utf8(&d::ORIGIN_REALM, REALM));
    ans.push(A::utf8(
        &d::ERROR_REPORTING_HOST,
        "dra.epc.mnc001.mcc001.3gppnetwork.org",
    ));
    ans.push(A::grouped(
        &d::PROXY_INFO,
        vec![
            A::utf8(&d::PROXY_HOST, "dra.epc.mnc001.mcc001.3gppnetwork.org"),
            A::octets(&d::PROXY_STATE, &[1, 2, 3, 4]),
        ],
    ));
    pair(
        &mut v,
        &epdg_aaa(40020),
        ["SWm-DER-routed", "SWm-DEA-3002"],
        der,
        ans,
    );

    v
}

/// The RFC 6942 ERP bootstrapping exchange (EAP application): DER with ERP-RK-Request, DEA
/// with the rRK in a Key AVP. Not tshark-checked (see the module comment).
pub fn erp_samples() -> Vec<Sample> {
    let mut v = Vec::new();
    let s = format!("{EPDG};{NOW};500");
    let eap_id = eap_identity();
    let der = MessageRepr::request(cmd::DIAMETER_EAP, app::EAP)
        .hop_by_hop(0xa001)
        .end_to_end(0xa000_0001)
        .with(A::utf8(&d::SESSION_ID, &s))
        .with(A::u32(&d::AUTH_APPLICATION_ID, app::EAP))
        .with(A::utf8(&d::ORIGIN_HOST, EPDG))
        .with(A::utf8(&d::ORIGIN_REALM, REALM))
        .with(A::utf8(&d::DESTINATION_REALM, REALM))
        .with(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3))
        .with(A::octets(&d::EAP_PAYLOAD, &eap_id))
        .with(A::grouped(
            &d::ERP_RK_REQUEST,
            vec![A::utf8(&d::ERP_REALM, REALM)],
        ));
    let mut dea = answer(&der, &s);
    dea.push(A::u32(&d::AUTH_APPLICATION_ID, app::EAP));
    dea.push(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3));
    dea.push(A::u32(&d::RESULT_CODE, 2001));
    dea.avps.extend(origin(AAA_HOST));
    dea.push(A::octets(&d::EAP_PAYLOAD, &EAP_SUCCESS));
    dea.push(A::octets(&d::EAP_MASTER_SESSION_KEY, &MSK));
    dea.push(A::octets(&d::EAP_KEY_NAME, &[0x17; 65]));
    dea.push(A::grouped(
        &d::KEY,
        vec![
            A::enumerated(&d::KEY_TYPE_AVP, 1),
            A::octets(&d::KEYING_MATERIAL, &[0x99; 64]),
            A::u32(&d::KEY_LIFETIME, 86_400),
            A::octets(&d::KEY_NAME, &[0x42; 8]),
            A::u32(&d::KEY_SPI, 0x0000_1234),
        ],
    ));
    pair(
        &mut v,
        &Exchange {
            client: v4(IP_EPDG),
            server: v4(IP_AAA),
            port: 40030,
        },
        ["ERP-DER", "ERP-DEA"],
        der,
        dea,
    );
    v
}

fn swm_der<'a>(s: &'a str, eap: &'a [u8]) -> MessageRepr<'a> {
    MessageRepr::request(cmd::DIAMETER_EAP, app::SWM)
        .hop_by_hop(0x1003)
        .end_to_end(0x5000_0004)
        .with(A::utf8(&d::SESSION_ID, s))
        .with(A::u32(&d::AUTH_APPLICATION_ID, app::SWM))
        .with(A::utf8(&d::ORIGIN_HOST, EPDG))
        .with(A::utf8(&d::ORIGIN_REALM, REALM))
        .with(A::utf8(&d::DESTINATION_REALM, REALM))
        .with(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 3))
        .with(A::octets(&d::EAP_PAYLOAD, eap))
        .with(A::utf8(&d::USER_NAME, NAI))
        .with(A::enumerated(&d::RAT_TYPE_AVP, 0))
        .with(A::utf8(&d::SERVICE_SELECTION, "internet"))
        .with(A::u64(&d::MIP6_FEATURE_VECTOR, MIP6_FV))
        .with(A::ip(&d::UE_LOCAL_IP_ADDRESS, v4([203, 0, 113, 7])))
        .with(A::grouped(
            &d::TERMINAL_INFORMATION,
            vec![
                A::utf8(&d::IMEI, "35693803564380"),
                A::utf8(&d::SOFTWARE_VERSION, "12"),
            ],
        ))
        .with(A::octets(
            &d::VISITED_NETWORK_IDENTIFIER,
            b"mnc001.mcc001.3gppnetwork.org",
        ))
        .with(A::u32(&d::EMERGENCY_SERVICES, 0))
        .with(supported_features())
}

fn s6b_aar(s: &str) -> MessageRepr<'_> {
    MessageRepr::request(cmd::AA, app::S6B)
        .hop_by_hop(0x7001)
        .end_to_end(0x9000_0001)
        .with(A::utf8(&d::SESSION_ID, s))
        .with(A::u32(&d::AUTH_APPLICATION_ID, app::S6B))
        .with(A::utf8(&d::ORIGIN_HOST, PGW))
        .with(A::utf8(&d::ORIGIN_REALM, REALM))
        .with(A::utf8(&d::DESTINATION_REALM, REALM))
        .with(A::enumerated(&d::AUTH_REQUEST_TYPE_AVP, 2))
        .with(A::utf8(&d::USER_NAME, NAI))
        .with(A::utf8(&d::SERVICE_SELECTION, "internet"))
        .with(mip6_agent_info())
        .with(A::u64(&d::MIP6_FEATURE_VECTOR, MIP6_FV))
        .with(A::u32(&d::CONTEXT_IDENTIFIER, 1))
        .with(A::enumerated(&d::RAT_TYPE_AVP, 0))
        .with(supported_features())
}

fn swx_request<'a>(code: u32, s: &'a str, hbh: u32) -> MessageRepr<'a> {
    let mut m = MessageRepr::request(code, app::SWX)
        .hop_by_hop(hbh)
        .end_to_end(0xb000_0000 | hbh);
    m.push(A::utf8(&d::SESSION_ID, s));
    m.push(vsai(app::SWX));
    m.push(A::enumerated(&d::AUTH_SESSION_STATE_AVP, 1));
    m.avps.extend(origin(AAA_HOST));
    m.push(A::utf8(&d::DESTINATION_REALM, REALM));
    m
}

fn swx_answer<'a>(req: &MessageRepr<'a>, s: &'a str) -> MessageRepr<'a> {
    let mut m = answer(req, s);
    m.push(vsai(app::SWX));
    m.push(A::u32(&d::RESULT_CODE, 2001));
    m.push(A::enumerated(&d::AUTH_SESSION_STATE_AVP, 1));
    m.avps.extend(origin(HSS));
    m
}

fn set_origin(m: &mut MessageRepr<'_>, host: &'static str) {
    for a in m.avps.iter_mut() {
        if a.code == d::ORIGIN_HOST.code {
            a.value = super::Value::Text(host);
        }
    }
}

fn answer<'a>(req: &MessageRepr<'a>, s: &'a str) -> MessageRepr<'a> {
    let mut h = req.header;
    h.flags &= super::message::flags::PROXIABLE;
    MessageRepr {
        header: h,
        avps: vec![A::utf8(&d::SESSION_ID, s)],
    }
}
