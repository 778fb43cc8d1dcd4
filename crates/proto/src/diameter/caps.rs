//! Capabilities exchange (RFC 6733 §5.3): our identity and what we advertise
//! ([`LocalIdentity`]), what the peer advertised ([`PeerCaps`]), and the applications both
//! sides can use ([`AppSet`]).

use std::net::IpAddr;

use mobstrap_wire::diameter::{app, commands, dict, AvpRepr, Header, Message, MessageRepr};

use super::rc;
use super::rules::{check_avps, check_mandatory, AvpRule, Rejection};

/// A Vendor-Specific-Application-Id entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VendorApp {
    pub vendor_id: u32,
    /// The Auth-Application-Id (or Acct-Application-Id when `acct`).
    pub app_id: u32,
    pub acct: bool,
}

/// Who we are and what we advertise in CER/CEA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalIdentity {
    pub origin_host: String,
    pub origin_realm: String,
    /// Host-IP-Address values; when empty, the connection's local address is used.
    pub host_ip_addresses: Vec<IpAddr>,
    pub vendor_id: u32,
    pub product_name: String,
    pub firmware_revision: Option<u32>,
    /// Changes on every restart (RFC 6733 §8.16); the node uses its start time.
    pub origin_state_id: u32,
    pub supported_vendor_ids: Vec<u32>,
    pub auth_apps: Vec<u32>,
    pub acct_apps: Vec<u32>,
    pub vendor_apps: Vec<VendorApp>,
}

impl LocalIdentity {
    /// An identity advertising no application (add them to the lists).
    pub fn new(origin_host: &str, origin_realm: &str) -> Self {
        LocalIdentity {
            origin_host: origin_host.to_string(),
            origin_realm: origin_realm.to_string(),
            host_ip_addresses: Vec::new(),
            vendor_id: 0,
            product_name: "mobstrap".to_string(),
            firmware_revision: None,
            origin_state_id: 0,
            supported_vendor_ids: Vec::new(),
            auth_apps: Vec::new(),
            acct_apps: Vec::new(),
            vendor_apps: Vec::new(),
        }
    }

    /// Every application id we advertise.
    pub fn app_set(&self) -> AppSet {
        let mut s = AppSet::default();
        for &a in self.auth_apps.iter().chain(&self.acct_apps) {
            s.insert(a);
        }
        for v in &self.vendor_apps {
            s.insert(v.app_id);
        }
        s
    }

    /// The capability AVPs of a CER or CEA, in RFC 6733 §5.3.1 order, after Origin-Host and
    /// Origin-Realm (which the caller places; CEA has Result-Code first).
    fn push_caps<'a>(&'a self, m: &mut MessageRepr<'a>, local_ip: Option<IpAddr>) {
        if self.host_ip_addresses.is_empty() {
            if let Some(ip) = local_ip {
                m.push(AvpRepr::ip(&dict::HOST_IP_ADDRESS, ip));
            }
        }
        for &ip in &self.host_ip_addresses {
            m.push(AvpRepr::ip(&dict::HOST_IP_ADDRESS, ip));
        }
        m.push(AvpRepr::u32(&dict::VENDOR_ID, self.vendor_id));
        m.push(AvpRepr::utf8(&dict::PRODUCT_NAME, &self.product_name));
        m.push(AvpRepr::u32(&dict::ORIGIN_STATE_ID, self.origin_state_id));
        for &v in &self.supported_vendor_ids {
            m.push(AvpRepr::u32(&dict::SUPPORTED_VENDOR_ID, v));
        }
        for &a in &self.auth_apps {
            m.push(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, a));
        }
        m.push(AvpRepr::u32(&dict::INBAND_SECURITY_ID_AVP, 0));
        for &a in &self.acct_apps {
            m.push(AvpRepr::u32(&dict::ACCT_APPLICATION_ID, a));
        }
        for v in &self.vendor_apps {
            let id = if v.acct {
                AvpRepr::u32(&dict::ACCT_APPLICATION_ID, v.app_id)
            } else {
                AvpRepr::u32(&dict::AUTH_APPLICATION_ID, v.app_id)
            };
            m.push(AvpRepr::grouped(
                &dict::VENDOR_SPECIFIC_APPLICATION_ID,
                vec![AvpRepr::u32(&dict::VENDOR_ID, v.vendor_id), id],
            ));
        }
        if let Some(f) = self.firmware_revision {
            m.push(AvpRepr::u32(&dict::FIRMWARE_REVISION, f));
        }
    }

    /// Appends a CER to `out`.
    pub fn emit_cer(
        &self,
        hop_by_hop: u32,
        end_to_end: u32,
        local_ip: Option<IpAddr>,
        out: &mut Vec<u8>,
    ) {
        let mut m = MessageRepr::request(commands::CAPABILITIES_EXCHANGE, app::COMMON)
            .hop_by_hop(hop_by_hop)
            .end_to_end(end_to_end);
        m.push(AvpRepr::utf8(&dict::ORIGIN_HOST, &self.origin_host));
        m.push(AvpRepr::utf8(&dict::ORIGIN_REALM, &self.origin_realm));
        self.push_caps(&mut m, local_ip);
        let _ = m.emit(out);
    }

    /// Appends the CEA answering `cer` to `out`: success with our capabilities, or the
    /// rejection (E bit for 3xxx) with Error-Message and Failed-AVP.
    pub fn emit_cea(
        &self,
        cer: &Header,
        result: Result<(), &Rejection>,
        local_ip: Option<IpAddr>,
        out: &mut Vec<u8>,
    ) {
        let mut m = MessageRepr {
            header: Header { flags: 0, ..*cer },
            avps: Vec::new(),
        };
        if let Err(r) = result {
            if rc::is_protocol_error(r.result_code) {
                m.header.flags |= mobstrap_wire::diameter::message::flags::ERROR;
            }
        }
        let code = match result {
            Ok(()) => rc::SUCCESS,
            Err(r) => r.result_code,
        };
        m.push(AvpRepr::u32(&dict::RESULT_CODE, code));
        m.push(AvpRepr::utf8(&dict::ORIGIN_HOST, &self.origin_host));
        m.push(AvpRepr::utf8(&dict::ORIGIN_REALM, &self.origin_realm));
        self.push_caps(&mut m, local_ip);
        if let Err(r) = result {
            if !r.reason.is_empty() {
                m.push(AvpRepr::utf8(&dict::ERROR_MESSAGE, &r.reason));
            }
            if let Some(b) = &r.failed_avp {
                m.push(AvpRepr::octets(&dict::FAILED_AVP, b));
            }
        }
        let _ = m.emit(out);
    }
}

/// A set of application ids; `relay` when the peer advertised Relay (0xffffffff), which
/// matches every application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppSet {
    pub relay: bool,
    pub ids: Vec<u32>,
}

impl AppSet {
    pub fn insert(&mut self, id: u32) {
        if id == app::RELAY {
            self.relay = true;
        } else if !self.ids.contains(&id) {
            self.ids.push(id);
        }
    }
    pub fn contains(&self, id: u32) -> bool {
        self.relay || self.ids.contains(&id)
    }
    pub fn is_empty(&self) -> bool {
        !self.relay && self.ids.is_empty()
    }
    /// The applications both sides can use (RFC 6733 §5.3: Relay on either side matches
    /// every application of the other; two relays share everything).
    pub fn intersect(&self, other: &AppSet) -> AppSet {
        match (self.relay, other.relay) {
            (true, true) => AppSet {
                relay: true,
                ids: Vec::new(),
            },
            (true, false) => other.clone(),
            (false, true) => self.clone(),
            (false, false) => AppSet {
                relay: false,
                ids: self
                    .ids
                    .iter()
                    .copied()
                    .filter(|a| other.ids.contains(a))
                    .collect(),
            },
        }
    }
}

/// What the peer advertised in its CER or CEA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCaps {
    pub origin_host: String,
    pub origin_realm: String,
    pub host_ip_addresses: Vec<IpAddr>,
    pub vendor_id: u32,
    pub product_name: String,
    pub origin_state_id: Option<u32>,
    pub firmware_revision: Option<u32>,
    pub supported_vendor_ids: Vec<u32>,
    pub inband_security_ids: Vec<u32>,
    pub vendor_apps: Vec<VendorApp>,
    /// Every application advertised (Auth, Acct, Vendor-Specific).
    pub apps: AppSet,
    /// The applications both sides support (set when the exchange succeeds).
    pub common: AppSet,
}

const CER_RULES: &[AvpRule] = &[
    AvpRule::required(&dict::ORIGIN_HOST),
    AvpRule::required(&dict::ORIGIN_REALM),
    AvpRule::at_least_one(&dict::HOST_IP_ADDRESS),
    AvpRule::required(&dict::VENDOR_ID),
    AvpRule::required(&dict::PRODUCT_NAME),
    AvpRule::optional(&dict::ORIGIN_STATE_ID),
    AvpRule::optional(&dict::FIRMWARE_REVISION),
];

impl PeerCaps {
    /// Reads a CER or a successful CEA: checks the command's AVPs (5005, 5009), rejects
    /// unknown AVPs with the M bit (5001), and bad values (5004).
    pub fn parse(msg: &Message<'_>) -> Result<PeerCaps, Rejection> {
        check_avps(msg, CER_RULES)?;
        check_mandatory(msg, |a| a.def().is_some())?;
        let mut c = PeerCaps {
            origin_host: String::new(),
            origin_realm: String::new(),
            host_ip_addresses: Vec::new(),
            vendor_id: 0,
            product_name: String::new(),
            origin_state_id: None,
            firmware_revision: None,
            supported_vendor_ids: Vec::new(),
            inband_security_ids: Vec::new(),
            vendor_apps: Vec::new(),
            apps: AppSet::default(),
            common: AppSet::default(),
        };
        let bad = |a: &mobstrap_wire::diameter::Avp<'_>, what: &'static str| {
            Rejection::new(rc::INVALID_AVP_VALUE, what).with_avp(a)
        };
        for a in msg.avps() {
            // Values of dictionary AVPs were type-checked by Message::check.
            if a.is(&dict::ORIGIN_HOST) {
                let v = a.utf8().map_err(|_| bad(&a, "Origin-Host"))?;
                if v.is_empty() {
                    return Err(bad(&a, "Origin-Host is empty"));
                }
                c.origin_host = v.to_string();
            } else if a.is(&dict::ORIGIN_REALM) {
                let v = a.utf8().map_err(|_| bad(&a, "Origin-Realm"))?;
                if v.is_empty() {
                    return Err(bad(&a, "Origin-Realm is empty"));
                }
                c.origin_realm = v.to_string();
            } else if a.is(&dict::HOST_IP_ADDRESS) {
                // Other address families (E.164, ...) are legal and ignored here.
                if let Ok(ip) = a.ip() {
                    c.host_ip_addresses.push(ip);
                }
            } else if a.is(&dict::VENDOR_ID) {
                c.vendor_id = a.u32().map_err(|_| bad(&a, "Vendor-Id"))?;
            } else if a.is(&dict::PRODUCT_NAME) {
                c.product_name = a.utf8().map_err(|_| bad(&a, "Product-Name"))?.to_string();
            } else if a.is(&dict::ORIGIN_STATE_ID) {
                c.origin_state_id = a.u32().ok();
            } else if a.is(&dict::FIRMWARE_REVISION) {
                c.firmware_revision = a.u32().ok();
            } else if a.is(&dict::SUPPORTED_VENDOR_ID) {
                c.supported_vendor_ids
                    .push(a.u32().map_err(|_| bad(&a, "Supported-Vendor-Id"))?);
            } else if a.is(&dict::INBAND_SECURITY_ID_AVP) {
                c.inband_security_ids
                    .push(a.u32().map_err(|_| bad(&a, "Inband-Security-Id"))?);
            } else if a.is(&dict::AUTH_APPLICATION_ID) || a.is(&dict::ACCT_APPLICATION_ID) {
                c.apps
                    .insert(a.u32().map_err(|_| bad(&a, "Application-Id"))?);
            } else if a.is(&dict::VENDOR_SPECIFIC_APPLICATION_ID) {
                let g = a
                    .grouped()
                    .map_err(|_| bad(&a, "Vendor-Specific-Application-Id"))?;
                let mut vendor = None;
                let mut id = None;
                for m in g {
                    if m.is(&dict::VENDOR_ID) {
                        vendor = m.u32().ok();
                    } else if m.is(&dict::AUTH_APPLICATION_ID) {
                        id = m.u32().ok().map(|x| (x, false));
                    } else if m.is(&dict::ACCT_APPLICATION_ID) {
                        id = m.u32().ok().map(|x| (x, true));
                    }
                }
                let Some((app_id, acct)) = id else {
                    return Err(Rejection::missing(&dict::AUTH_APPLICATION_ID));
                };
                c.apps.insert(app_id);
                c.vendor_apps.push(VendorApp {
                    vendor_id: vendor.unwrap_or(0),
                    app_id,
                    acct,
                });
            }
        }
        Ok(c)
    }

    /// Whether the peer accepts our "no in-band security" (RFC 6733 §6.10: absent means 0).
    pub fn accepts_no_inband_security(&self) -> bool {
        self.inband_security_ids.is_empty() || self.inband_security_ids.contains(&0)
    }

    /// Whether requests of `app_id` may be sent to this peer.
    pub fn supports(&self, app_id: u32) -> bool {
        self.common.contains(app_id)
    }
}
