//! The `tshark -V`-like tree of an IKEv2 message, tied to Wireshark's `isakmp.*` fields.

use crate::dissect::{ip_text, text, Node};
use crate::Result;

use super::cp::{CfgAttrType, CfgValue};
use super::natt::{classify_udp4500, Udp4500};
use super::sa::{transform_id_name, AttributeValue, TransformType, ATTR_KEY_LENGTH};
use super::sk::Plaintext;
use super::ts::TrafficSelector;
use super::{
    Cp, Delete, Encrypted, Header, Id, IdType, Message, Notify, NotifyType, Payload, PayloadBody,
    PayloadType, Sa, Ts,
};

/// Given the SK payload's data (IV | ciphertext | ICV), returns the decrypted content
/// (inner payloads | padding | pad length), or `None` to leave it opaque.
pub type Decrypt<'d> = &'d dyn Fn(&Header, &[u8]) -> Option<Vec<u8>>;

/// Decodes an IKEv2 message (UDP port 500 payload). SK payloads stay opaque.
pub fn dissect(data: &[u8]) -> Result<Node> {
    dissect_with_decrypt(data, &|_, _| None)
}

/// Decodes a message whose SK payload uses ENCR_NULL with no integrity transform (no IV,
/// no ICV): the inner payloads are shown. For tests and NULL-encrypted captures.
pub fn dissect_null_encrypted(data: &[u8]) -> Result<Node> {
    dissect_with_decrypt(data, &|_, sk| Some(sk.to_vec()))
}

/// Decodes a message, showing the inner payloads of SK when `decrypt` can open it.
pub fn dissect_with_decrypt(data: &[u8], decrypt: Decrypt<'_>) -> Result<Node> {
    let msg = Message::parse(data)?;
    let mut root = Node::branch("Internet Key Exchange Version 2");
    header_nodes(&msg, data.len(), &mut root);
    for p in &msg.payloads {
        root.push(payload_node(p, &msg.header, decrypt));
    }
    Ok(root)
}

/// Decodes a UDP port 4500 payload: Non-ESP Marker + IKE, NAT-keepalive, or ESP.
pub fn dissect_udp4500(data: &[u8]) -> Result<Node> {
    match classify_udp4500(data)? {
        Udp4500::Ike(ike) => {
            // tshark prints its FT_NONE marker fields as "1" when present.
            let mut n = Node::branch("UDP Encapsulation of IPsec Packets").with(
                Node::new("Non-ESP Marker", "00000000").field("udpencap.non_esp_marker", "1"),
            );
            n.push(dissect(ike)?);
            Ok(n)
        }
        Udp4500::Keepalive => Ok(Node::branch("UDP Encapsulation of IPsec Packets")
            .with(Node::new("NAT-keepalive packet", "ff").field("udpencap.nat_keepalive", "1"))),
        Udp4500::Esp(esp) => {
            let mut n = Node::branch("UDP Encapsulation of IPsec Packets");
            n.push(crate::esp::dissect(esp)?);
            Ok(n)
        }
    }
}

fn flag(label: &str, set: bool, field: &str) -> Node {
    Node::new(label, if set { "Set" } else { "Not set" }).field(field, if set { "1" } else { "0" })
}

fn header_nodes(msg: &Message<'_>, len: usize, root: &mut Node) {
    let h = &msg.header;
    let first = msg
        .payloads
        .first()
        .map(|p| p.payload_type())
        .unwrap_or(PayloadType::NoNext);
    root.push(Node::bytes("Initiator SPI", &h.spi_i, "isakmp.ispi"));
    root.push(Node::bytes("Responder SPI", &h.spi_r, "isakmp.rspi"));
    root.push(Node::code(
        "Next payload",
        first,
        first.value() as u64,
        "isakmp.nextpayload",
    ));
    root.push(
        Node::new("Version", format!("{}.{}", h.version >> 4, h.version & 15))
            .field("isakmp.version", format!("0x{:02x}", h.version))
            .with(Node::uint("MjVer", (h.version >> 4) as u64, "isakmp.mjver"))
            .with(Node::uint("MnVer", (h.version & 15) as u64, "isakmp.mnver")),
    );
    root.push(Node::code(
        "Exchange type",
        h.exchange_type,
        h.exchange_type.value() as u64,
        "isakmp.exchangetype",
    ));
    root.push(
        Node::new("Flags", format!("0x{:02x}", h.flags))
            .field("isakmp.flags", format!("0x{:02x}", h.flags))
            .with(flag("Initiator", h.is_initiator(), "isakmp.flag_i"))
            .with(flag("Version", h.higher_version(), "isakmp.flag_v"))
            .with(flag("Response", h.is_response(), "isakmp.flag_r")),
    );
    root.push(Node::uint(
        "Message ID",
        h.message_id as u64,
        "isakmp.messageid",
    ));
    root.push(Node::uint("Length", len as u64, "isakmp.length"));
}

fn payload_node(p: &Payload<'_>, header: &Header, decrypt: Decrypt<'_>) -> Node {
    let ty = p.payload_type();
    let mut n = Node::code("Payload", ty, ty.value() as u64, "isakmp.typepayload");
    n.push(
        Node::new(
            "Critical Bit",
            if p.is_critical() {
                "Critical"
            } else {
                "Not critical"
            },
        )
        .field(
            "isakmp.criticalpayload",
            if p.is_critical() { "1" } else { "0" },
        ),
    );
    let reserved7 = format!("0x{:02x}", p.flags & 0x7f);
    n.push(Node::new("Reserved", reserved7.clone()).field("isakmp.reserved7", reserved7));
    n.push(Node::uint(
        "Payload length",
        p.buffer_len() as u64,
        "isakmp.payloadlength",
    ));
    match &p.body {
        PayloadBody::Sa(sa) => sa_nodes(sa, &mut n),
        PayloadBody::Ke(ke) => {
            let g = super::DhGroup::from(ke.dh_group);
            n.push(Node::code(
                "DH Group #",
                g,
                ke.dh_group as u64,
                "isakmp.key_exchange.dh_group",
            ));
            n.push(Node::bytes(
                "Reserved",
                &ke.reserved.to_be_bytes(),
                "isakmp.reserved",
            ));
            n.push(Node::bytes(
                "Key Exchange Data",
                ke.data,
                "isakmp.key_exchange.data",
            ));
        }
        PayloadBody::IdI(id) | PayloadBody::IdR(id) => id_nodes(id, &mut n),
        PayloadBody::Cert(c) => {
            n.push(Node::code(
                "Certificate Encoding",
                c.encoding,
                c.encoding.value() as u64,
                "isakmp.cert.encoding",
            ));
            n.push(Node::bytes("Certificate Data", c.data, ""));
        }
        PayloadBody::CertReq(c) => {
            n.push(Node::code(
                "Certificate Type",
                c.encoding,
                c.encoding.value() as u64,
                "isakmp.certreq.type",
            ));
            n.push(Node::bytes(
                "Certificate Authority Data",
                c.data,
                "isakmp.ike.certreq.authority",
            ));
        }
        PayloadBody::Auth(a) => {
            n.push(Node::code(
                "Authentication Method",
                a.method,
                a.method.value() as u64,
                "isakmp.auth.method",
            ));
            n.push(Node::bytes("Reserved", &a.reserved, "isakmp.reserved"));
            n.push(Node::bytes(
                "Authentication Data",
                a.data,
                "isakmp.auth.data",
            ));
        }
        PayloadBody::Nonce(d) => n.push(Node::bytes("Nonce DATA", d, "isakmp.nonce")),
        PayloadBody::Notify(nt) => notify_nodes(nt, &mut n),
        PayloadBody::Delete(d) => delete_nodes(d, &mut n),
        PayloadBody::VendorId(d) => n.push(Node::bytes("Vendor ID", d, "isakmp.vid_bytes")),
        PayloadBody::TsI(ts) | PayloadBody::TsR(ts) => ts_nodes(ts, &mut n),
        PayloadBody::Sk(e) => sk_nodes(e, header, decrypt, &mut n),
        PayloadBody::Cp(cp) => cp_nodes(cp, &mut n),
        PayloadBody::Eap(d) => n.push(Node::bytes("EAP Message", d, "")),
        PayloadBody::Skf(f) => {
            n.push(Node::code(
                "Next payload",
                f.first_payload,
                f.first_payload.value() as u64,
                "",
            ));
            n.push(Node::uint(
                "Fragment Number",
                f.fragment_number as u64,
                "isakmp.frag.number",
            ));
            n.push(Node::uint(
                "Total Fragments",
                f.total_fragments as u64,
                "isakmp.frag.total",
            ));
            n.push(Node::bytes("Encrypted Data", f.data, ""));
        }
        PayloadBody::Unknown { data, .. } => n.push(Node::bytes("Data", data, "")),
    }
    n
}

fn sa_nodes(sa: &Sa<'_>, n: &mut Node) {
    let np = sa.proposals.len();
    for (i, p) in sa.proposals.iter().enumerate() {
        let mut pn = Node::uint("Payload: Proposal", p.number as u64, "");
        pn.push(Node::uint(
            "Last Substruc",
            if i + 1 == np { 0 } else { 2 },
            "isakmp.nextpayload",
        ));
        pn.push(Node::bytes("Reserved", &[p.reserved], "isakmp.reserved"));
        pn.push(Node::uint(
            "Proposal length",
            p.buffer_len() as u64,
            "isakmp.payloadlength",
        ));
        pn.push(Node::uint(
            "Proposal number",
            p.number as u64,
            "isakmp.prop.number",
        ));
        pn.push(Node::code(
            "Protocol ID",
            p.protocol_id,
            p.protocol_id.value() as u64,
            "isakmp.prop.protoid",
        ));
        pn.push(Node::uint("SPI Size", p.spi.len() as u64, "isakmp.spisize"));
        if !p.spi.is_empty() {
            pn.push(Node::bytes("SPI", p.spi, "isakmp.spi"));
        }
        pn.push(Node::uint(
            "Proposal transforms",
            p.transforms.len() as u64,
            "isakmp.prop.transforms",
        ));
        let nt = p.transforms.len();
        for (j, t) in p.transforms.iter().enumerate() {
            let id_field = match t.transform_type {
                TransformType::Encr => "isakmp.tf.id.encr",
                TransformType::Prf => "isakmp.tf.id.prf",
                TransformType::Integ => "isakmp.tf.id.integ",
                TransformType::Ke => "isakmp.tf.id.dh",
                TransformType::Esn => "isakmp.tf.id.esn",
                _ => "isakmp.tf.id",
            };
            let name = transform_id_name(t.transform_type, t.transform_id).unwrap_or("Unknown");
            let mut tn = Node::new(
                "Payload: Transform",
                format!("{} ({})", t.transform_type, name),
            );
            let last = if j + 1 == nt { 0 } else { 3 };
            tn.push(Node::uint("Last Substruc", last, "isakmp.nextpayload"));
            tn.push(Node::bytes("Reserved", &t.reserved[..1], "isakmp.reserved"));
            tn.push(Node::uint(
                "Transform length",
                t.buffer_len() as u64,
                "isakmp.payloadlength",
            ));
            tn.push(Node::code(
                "Transform Type",
                t.transform_type,
                t.transform_type.value() as u64,
                "isakmp.tf.type",
            ));
            tn.push(Node::bytes("Reserved", &t.reserved[1..], "isakmp.reserved"));
            tn.push(Node::code(
                "Transform ID",
                name,
                t.transform_id as u64,
                id_field,
            ));
            for a in &t.attributes {
                let mut an = Node::uint(
                    "Transform Attribute Type",
                    a.attr_type as u64,
                    "isakmp.ike2.attr.type",
                );
                match a.value {
                    AttributeValue::Tv(v) => {
                        an.push(
                            Node::new("Format", "Type/Value (TV)")
                                .field("isakmp.ike2.attr.format", "1"),
                        );
                        an.push(Node::bytes(
                            "Value",
                            &v.to_be_bytes(),
                            "isakmp.ike2.attr.value",
                        ));
                        if a.attr_type == ATTR_KEY_LENGTH {
                            an.push(Node::uint(
                                "Key Length",
                                v as u64,
                                "isakmp.ike2.attr.key_length",
                            ));
                        }
                    }
                    AttributeValue::Tlv(b) => {
                        an.push(
                            Node::new("Format", "Type/Length/Value (TLV)")
                                .field("isakmp.ike2.attr.format", "0"),
                        );
                        an.push(Node::uint(
                            "Length",
                            b.len() as u64,
                            "isakmp.ike2.attr.length",
                        ));
                        an.push(Node::bytes("Value", b, "isakmp.ike2.attr.value"));
                    }
                }
                tn.push(an);
            }
            pn.push(tn);
        }
        n.push(pn);
    }
}

fn id_nodes(id: &Id<'_>, n: &mut Node) {
    n.push(Node::code(
        "ID type",
        id.id_type,
        id.id_type.value() as u64,
        "isakmp.id.type",
    ));
    n.push(Node::bytes("Reserved", &id.reserved, "isakmp.reserved"));
    let d = id.data;
    n.push(match id.id_type {
        IdType::Ipv4Addr if d.len() == 4 => {
            Node::new("ID_IPV4_ADDR", ip_text(d)).field("isakmp.id.data.ipv4_addr", ip_text(d))
        }
        IdType::Ipv6Addr if d.len() == 16 => {
            Node::new("ID_IPV6_ADDR", ip_text(d)).field("isakmp.id.data.ipv6_addr", ip_text(d))
        }
        IdType::Fqdn => Node::new("ID_FQDN", text(d)).field("isakmp.id.data.fqdn", text(d)),
        IdType::Rfc822Addr => {
            Node::new("ID_RFC822_ADDR", text(d)).field("isakmp.id.data.user_fqdn", text(d))
        }
        IdType::KeyId => Node::bytes("ID_KEY_ID", d, "isakmp.id.data.key_id"),
        _ => Node::bytes("Identification Data", d, ""),
    });
}

fn notify_nodes(nt: &Notify<'_>, n: &mut Node) {
    n.push(Node::code(
        "Protocol ID",
        nt.protocol_id,
        nt.protocol_id.value() as u64,
        "isakmp.notify.protoid",
    ));
    n.push(Node::uint(
        "SPI Size",
        nt.spi.len() as u64,
        "isakmp.spisize",
    ));
    n.push(Node::code(
        "Notify Message Type",
        nt.notify_type,
        nt.notify_type.value() as u64,
        "isakmp.notify.msgtype",
    ));
    if !nt.spi.is_empty() {
        n.push(Node::bytes("SPI", nt.spi, "isakmp.spi"));
    }
    if nt.data.is_empty() {
        return;
    }
    let mut d = Node::bytes("Notification DATA", nt.data, "isakmp.notify.data");
    match nt.notify_type {
        NotifyType::InvalidKePayload => {
            if let Some(g) = nt.accepted_dh_group() {
                d.push(Node::code(
                    "Accepted DH group number",
                    super::DhGroup::from(g),
                    g as u64,
                    "isakmp.notify.data.accepted_dh_group",
                ));
            }
        }
        NotifyType::SignatureHashAlgorithms => {
            for h in nt.signature_hash_algorithms() {
                d.push(Node::code(
                    "Supported Signature Hash Algorithm",
                    h,
                    h.value() as u64,
                    "isakmp.notify.data.signature_hash_algorithms",
                ));
            }
        }
        NotifyType::AdditionalIp4Address => {
            if let Some(a) = nt.additional_ip4() {
                d.push(Node::new("Address", a.to_string()));
            }
        }
        NotifyType::AdditionalIp6Address => {
            if let Some(a) = nt.additional_ip6() {
                d.push(Node::new("Address", a.to_string()));
            }
        }
        _ => {}
    }
    n.push(d);
}

fn delete_nodes(d: &Delete<'_>, n: &mut Node) {
    n.push(Node::code(
        "Protocol ID",
        d.protocol_id,
        d.protocol_id.value() as u64,
        "isakmp.delete.protoid",
    ));
    n.push(Node::uint("SPI Size", d.spi_size as u64, "isakmp.spisize"));
    n.push(Node::uint(
        "Number of SPIs",
        d.num_spis as u64,
        "isakmp.spinum",
    ));
    for s in d.iter() {
        n.push(Node::bytes("Delete SPI", s, "isakmp.delete.spi"));
    }
}

fn ts_nodes(ts: &Ts<'_>, n: &mut Node) {
    n.push(Node::uint(
        "Number of Traffic Selectors",
        ts.selectors.len() as u64,
        "isakmp.ts.number",
    ));
    n.push(Node::bytes("Reserved", &ts.reserved, "isakmp.reserved"));
    for s in &ts.selectors {
        let ty = s.ts_type();
        let mut sn = Node::code(
            "Traffic Selector Type",
            ty,
            ty.value() as u64,
            "isakmp.ts.type",
        );
        match *s {
            TrafficSelector::Ipv4 {
                ip_protocol,
                start_port,
                end_port,
                start,
                end,
            } => {
                sn.push(Node::uint(
                    "Protocol ID",
                    ip_protocol as u64,
                    "isakmp.ts.protoid",
                ));
                sn.push(Node::uint(
                    "Selector Length",
                    16,
                    "isakmp.ts.selector_length",
                ));
                sn.push(Node::uint(
                    "Start Port",
                    start_port as u64,
                    "isakmp.ts.start_port",
                ));
                sn.push(Node::uint(
                    "End Port",
                    end_port as u64,
                    "isakmp.ts.end_port",
                ));
                sn.push(
                    Node::new("Starting Addr", start.to_string())
                        .field("isakmp.ts.start_ipv4", start.to_string()),
                );
                sn.push(
                    Node::new("Ending Addr", end.to_string())
                        .field("isakmp.ts.end_ipv4", end.to_string()),
                );
            }
            TrafficSelector::Ipv6 {
                ip_protocol,
                start_port,
                end_port,
                start,
                end,
            } => {
                sn.push(Node::uint(
                    "Protocol ID",
                    ip_protocol as u64,
                    "isakmp.ts.protoid",
                ));
                sn.push(Node::uint(
                    "Selector Length",
                    40,
                    "isakmp.ts.selector_length",
                ));
                sn.push(Node::uint(
                    "Start Port",
                    start_port as u64,
                    "isakmp.ts.start_port",
                ));
                sn.push(Node::uint(
                    "End Port",
                    end_port as u64,
                    "isakmp.ts.end_port",
                ));
                sn.push(
                    Node::new("Starting Addr", start.to_string())
                        .field("isakmp.ts.start_ipv6", start.to_string()),
                );
                sn.push(
                    Node::new("Ending Addr", end.to_string())
                        .field("isakmp.ts.end_ipv6", end.to_string()),
                );
            }
            TrafficSelector::Other { data, .. } => {
                sn.push(Node::uint(
                    "Selector Length",
                    data.len() as u64 + 4,
                    "isakmp.ts.selector_length",
                ));
                sn.push(Node::bytes("Data", data, ""));
            }
        }
        n.push(sn);
    }
}

fn cp_nodes(cp: &Cp<'_>, n: &mut Node) {
    n.push(Node::code(
        "Type",
        cp.cfg_type,
        cp.cfg_type.value() as u64,
        "isakmp.cfg.type",
    ));
    n.push(Node::bytes("Reserved", &cp.reserved, "isakmp.reserved"));
    for a in &cp.attributes {
        let t = a.attr_type();
        let mut an = Node::code(
            "Attribute Type",
            t,
            t.value() as u64,
            "isakmp.cfg.attr.type",
        );
        an.push(Node::uint(
            "Length",
            a.value.len() as u64,
            "isakmp.cfg.attr.length",
        ));
        let r = if a.reserved_bit() { "1" } else { "0" };
        an.push(Node::new("Reserved bit", r).field("isakmp.cfg.attr.format", r));
        let v = a.typed();
        let (field, shown): (&str, String) = match (t, v) {
            (_, CfgValue::Empty) => ("", String::new()),
            (CfgAttrType::InternalIp4Address, CfgValue::Ip4(x)) => {
                ("isakmp.cfg.attr.internal_ip4_address", x.to_string())
            }
            (CfgAttrType::InternalIp4Netmask, CfgValue::Ip4(x)) => {
                ("isakmp.cfg.attr.internal_ip4_netmask", x.to_string())
            }
            (CfgAttrType::InternalIp4Dns, CfgValue::Ip4(x)) => {
                ("isakmp.cfg.attr.internal_ip4_dns", x.to_string())
            }
            (CfgAttrType::InternalIp4Nbns, CfgValue::Ip4(x)) => {
                ("isakmp.cfg.attr.internal_ip4_nbns", x.to_string())
            }
            (CfgAttrType::InternalIp4Dhcp, CfgValue::Ip4(x)) => {
                ("isakmp.cfg.attr.internal_ip4_dhcp", x.to_string())
            }
            (CfgAttrType::PCscfIp4Address, CfgValue::Ip4(x)) => {
                ("isakmp.cfg.attr.p_cscf_ip4_address", x.to_string())
            }
            (CfgAttrType::InternalIp6Dns, CfgValue::Ip6(x)) => {
                ("isakmp.cfg.attr.internal_ip6_dns", x.to_string())
            }
            (CfgAttrType::InternalIp6Dhcp, CfgValue::Ip6(x)) => {
                ("isakmp.cfg.attr.internal_ip6_dhcp", x.to_string())
            }
            (CfgAttrType::PCscfIp6Address, CfgValue::Ip6(x)) => {
                ("isakmp.cfg.attr.p_cscf_ip6_address", x.to_string())
            }
            (CfgAttrType::ApplicationVersion, _) => {
                ("isakmp.cfg.attr.application_version", text(a.value))
            }
            _ => ("", String::new()),
        };
        if !field.is_empty() {
            an.push(Node::new("Value", shown.clone()).field(field, shown));
        } else {
            match v {
                CfgValue::Empty => {}
                CfgValue::Ip6Prefix(addr, len) => {
                    let (af, lf) = match t {
                        CfgAttrType::InternalIp6Address => (
                            "isakmp.cfg.attr.internal_ip6_address",
                            "isakmp.cfg.attr.internal_ip6_address.prefix",
                        ),
                        CfgAttrType::InternalIp6Subnet => (
                            "isakmp.cfg.attr.internal_ip6_subnet_ip",
                            "isakmp.cfg.attr.internal_ip6_subnet_prefix",
                        ),
                        _ => (
                            "isakmp.cfg.attr.internal_ip6_prefix_ip",
                            "isakmp.cfg.attr.internal_ip6_prefix_length",
                        ),
                    };
                    an.push(Node::new("Address", addr.to_string()).field(af, addr.to_string()));
                    an.push(Node::uint("Prefix length", len as u64, lf));
                }
                CfgValue::Ip4Subnet(addr, mask) => {
                    an.push(
                        Node::new("Address", addr.to_string())
                            .field("isakmp.cfg.attr.internal_ip4_subnet_ip", addr.to_string()),
                    );
                    an.push(Node::new("Netmask", mask.to_string()).field(
                        "isakmp.cfg.attr.internal_ip4_subnet_netmask",
                        mask.to_string(),
                    ));
                }
                CfgValue::Ip6Link {
                    interface_id,
                    link_id,
                } => {
                    an.push(Node::uint(
                        "Link-Local Interface ID",
                        interface_id,
                        "isakmp.cfg.attr.internal_ip6_link_interface",
                    ));
                    an.push(Node::bytes(
                        "IKEv2 Link ID",
                        link_id,
                        "isakmp.cfg.attr.internal_ip6_link_id",
                    ));
                }
                CfgValue::AttrList(_) => {
                    for s in a.supported_attributes() {
                        an.push(Node::code(
                            "Supported attribute",
                            s,
                            s.value() as u64,
                            "isakmp.cfg.attr.supported_attributes",
                        ));
                    }
                }
                CfgValue::Mip6HomePrefix {
                    lifetime,
                    prefix,
                    prefix_len,
                } => {
                    an.push(Node::uint("Prefix Lifetime", lifetime as u64, ""));
                    an.push(Node::new("Home Prefix", format!("{prefix}/{prefix_len}")));
                }
                CfgValue::HomeAgent { ipv6, ipv4 } => {
                    an.push(Node::new("Home Agent IPv6 Address", ipv6.to_string()));
                    if let Some(v4) = ipv4 {
                        an.push(Node::new("Home Agent IPv4 Address", v4.to_string()));
                    }
                }
                _ => an.push(Node::bytes("Value", a.value, "isakmp.cfg.attr.value")),
            }
        }
        n.push(an);
    }
}

fn sk_nodes(e: &Encrypted<'_>, header: &Header, decrypt: Decrypt<'_>, n: &mut Node) {
    n.push(Node::code(
        "Next payload",
        e.first_payload,
        e.first_payload.value() as u64,
        "",
    ));
    n.push(Node::bytes("Encrypted Data", e.data, ""));
    let Some(plain) = decrypt(header, e.data) else {
        return;
    };
    let mut dn = Node::branch("Decrypted Data");
    match Plaintext::parse(e.first_payload, &plain) {
        Ok(pt) => {
            let mut cn = Node::branch("Contained Data");
            for p in &pt.payloads {
                // Inner payloads are never SK themselves in a valid message; opaque if so.
                cn.push(payload_node(p, header, &|_, _| None));
            }
            dn.push(cn);
            dn.push(Node::uint(
                "Pad Length",
                pt.padding.len() as u64,
                "isakmp.enc.pad_length",
            ));
        }
        Err(err) => dn.push(Node::new("Error", err.to_string())),
    }
    n.push(dn);
}
