//! SWm beyond the EAP relay (TS 29.273 §7.1.2): the authorization AAR/AAA in the Session-Id
//! of the DER/DEA (seed 002 steps 9–10) and the Session-Termination STR/STA when the
//! tunnel goes away. The DER/DEA themselves are `ike::aaa::DiameterRelay`'s.

use std::net::IpAddr;

use mobstrap_wire::diameter::{app, commands, dict, Avp, AvpRepr, Message};
use tracing::debug;

use crate::diameter::DiameterNode;

/// A gateway as the AAA names it in MIP6-Agent-Info: an address, or a host name to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayRef {
    Address(IpAddr),
    Host(String),
}

impl std::fmt::Display for GatewayRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GatewayRef::Address(a) => write!(f, "{a}"),
            GatewayRef::Host(h) => write!(f, "{h}"),
        }
    }
}

/// What an AA-Answer said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// 2001: the home gateway (APN-Configuration / MIP6-Agent-Info of the APN) and, when
    /// a visited AAA added one, the visited gateway (top-level MIP6-Agent-Info).
    Granted {
        home: Option<GatewayRef>,
        visited: Option<GatewayRef>,
        /// Session-Timeout (s), if given.
        session_timeout: Option<u32>,
    },
    /// Anything else: the Result-Code or Experimental-Result-Code.
    Refused(u32),
}

/// DIAMETER_ERROR_USER_NO_APN_SUBSCRIPTION (TS 29.273 §10.3.7).
pub const NO_APN_SUBSCRIPTION: u32 = 5451;

/// The Result-Code, or the Experimental-Result-Code.
pub fn result_of(m: &Message<'_>) -> Option<u32> {
    m.result_code().or_else(|| {
        m.get(&dict::EXPERIMENTAL_RESULT)
            .and_then(|g| g.grouped().ok())
            .and_then(|g| g.get(&dict::EXPERIMENTAL_RESULT_CODE))
            .and_then(|a| a.u32().ok())
    })
}

/// A MIP6-Agent-Info: its first MIP-Home-Agent-Address, else its MIP-Home-Agent-Host's
/// Destination-Host.
pub fn agent_info(avp: &Avp<'_>) -> Option<GatewayRef> {
    let inner = avp.grouped().ok()?;
    let mut host = None;
    for a in inner {
        if a.is(&dict::MIP_HOME_AGENT_ADDRESS) {
            if let Ok(ip) = a.ip() {
                return Some(GatewayRef::Address(ip));
            }
        } else if a.is(&dict::MIP_HOME_AGENT_HOST) && host.is_none() {
            host = a
                .grouped()
                .ok()
                .and_then(|h| h.get(&dict::DESTINATION_HOST))
                .and_then(|d| d.utf8().ok())
                .map(|s| s.to_ascii_lowercase());
        }
    }
    host.map(GatewayRef::Host)
}

/// Reads an AA-Answer for `apn` (the AAR's Service-Selection).
pub fn read_aaa(m: &Message<'_>, apn: &str) -> Authorization {
    let rc = result_of(m).unwrap_or(0);
    if rc != 2001 {
        return Authorization::Refused(rc);
    }
    // APN-Configuration of the APN (or the only one)
    let configs: Vec<Avp<'_>> = m
        .avps()
        .filter(|a| a.is(&dict::APN_CONFIGURATION))
        .collect();
    let pick = configs
        .iter()
        .find(|c| {
            c.grouped()
                .ok()
                .and_then(|g| g.get(&dict::SERVICE_SELECTION))
                .and_then(|s| s.utf8().ok())
                .is_some_and(|s| s.eq_ignore_ascii_case(apn))
        })
        .or_else(|| (configs.len() == 1).then(|| &configs[0]));
    let home = pick
        .and_then(|c| c.grouped().ok())
        .and_then(|g| g.get(&dict::MIP6_AGENT_INFO))
        .and_then(|a| agent_info(&a));
    let visited = m.get(&dict::MIP6_AGENT_INFO).and_then(|a| agent_info(&a));
    let session_timeout = m.get(&dict::SESSION_TIMEOUT).and_then(|a| a.u32().ok());
    Authorization::Granted {
        home,
        visited,
        session_timeout,
    }
}

/// SWm AAR/STR over a running Diameter node.
#[derive(Clone)]
pub struct SwmClient {
    node: DiameterNode,
    destination_realm: String,
    destination_host: Option<String>,
}

impl SwmClient {
    pub fn new(
        node: DiameterNode,
        destination_realm: String,
        destination_host: Option<String>,
    ) -> Self {
        SwmClient {
            node,
            destination_realm,
            destination_host,
        }
    }

    fn request<'a>(
        &'a self,
        command: u32,
        sid: &'a str,
    ) -> mobstrap_wire::diameter::MessageRepr<'a> {
        let mut r = self.node.new_request(command, app::SWM);
        r.avps.insert(0, AvpRepr::utf8(&dict::SESSION_ID, sid));
        r.push(AvpRepr::u32(&dict::AUTH_APPLICATION_ID, app::SWM));
        r.push(AvpRepr::utf8(
            &dict::DESTINATION_REALM,
            &self.destination_realm,
        ));
        if let Some(h) = &self.destination_host {
            r.push(AvpRepr::utf8(&dict::DESTINATION_HOST, h));
        }
        r
    }

    /// Seed 002 step 9: AAR (AUTHORIZE_ONLY) with User-Name and Service-Selection.
    pub async fn aar(&self, sid: &str, user: &str, apn: &str) -> Result<Authorization, String> {
        let mut r = self.request(commands::AA, sid);
        r.push(AvpRepr::enumerated(&dict::AUTH_REQUEST_TYPE_AVP, 2)); // AUTHORIZE_ONLY
        r.push(AvpRepr::utf8(&dict::USER_NAME, user));
        r.push(AvpRepr::utf8(&dict::SERVICE_SELECTION, apn));
        let bytes = r.to_vec().map_err(|e| e.to_string())?;
        let ans = self
            .node
            .request(bytes)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let m = ans.message().map_err(|e| e.to_string())?;
        let a = read_aaa(&m, apn);
        debug!(session = %sid, answer = ?a, "AA-Answer");
        Ok(a)
    }

    /// STR with Termination-Cause DIAMETER_LOGOUT (1); returns the STA's Result-Code.
    pub async fn str(&self, sid: &str, user: &str) -> Result<u32, String> {
        let mut r = self.request(commands::SESSION_TERMINATION, sid);
        r.push(AvpRepr::enumerated(&dict::TERMINATION_CAUSE_AVP, 1));
        if !user.is_empty() {
            r.push(AvpRepr::utf8(&dict::USER_NAME, user));
        }
        let bytes = r.to_vec().map_err(|e| e.to_string())?;
        let ans = self
            .node
            .request(bytes)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let m = ans.message().map_err(|e| e.to_string())?;
        Ok(result_of(&m).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobstrap_wire::diameter::{AvpRepr as A, MessageRepr};

    fn answer(avps: Vec<A<'static>>) -> Vec<u8> {
        let mut m = MessageRepr::request(commands::AA, app::SWM);
        m.header.flags &= !mobstrap_wire::diameter::message::flags::REQUEST;
        m.avps = avps;
        m.to_vec().unwrap()
    }

    #[test]
    fn reads_home_and_visited_gateways() {
        let hgw: IpAddr = "192.0.2.10".parse().unwrap();
        let vgw: IpAddr = "198.51.100.1".parse().unwrap();
        let b = answer(vec![
            A::utf8(&dict::SESSION_ID, "s;1"),
            A::u32(&dict::RESULT_CODE, 2001),
            A::u32(&dict::SESSION_TIMEOUT, 3600),
            A::grouped(
                &dict::APN_CONFIGURATION,
                vec![
                    A::u32(&dict::CONTEXT_IDENTIFIER, 1),
                    A::utf8(&dict::SERVICE_SELECTION, "other"),
                    A::grouped(
                        &dict::MIP6_AGENT_INFO,
                        vec![A::ip(&dict::MIP_HOME_AGENT_ADDRESS, vgw)],
                    ),
                ],
            ),
            A::grouped(
                &dict::APN_CONFIGURATION,
                vec![
                    A::u32(&dict::CONTEXT_IDENTIFIER, 2),
                    A::utf8(&dict::SERVICE_SELECTION, "internet"),
                    A::grouped(
                        &dict::MIP6_AGENT_INFO,
                        vec![A::ip(&dict::MIP_HOME_AGENT_ADDRESS, hgw)],
                    ),
                ],
            ),
            A::grouped(
                &dict::MIP6_AGENT_INFO,
                vec![A::grouped(
                    &dict::MIP_HOME_AGENT_HOST,
                    vec![
                        A::utf8(&dict::DESTINATION_REALM, "visited.example"),
                        A::utf8(&dict::DESTINATION_HOST, "VGW.visited.example"),
                    ],
                )],
            ),
        ]);
        let m = Message::parse(&b).unwrap();
        assert_eq!(
            read_aaa(&m, "Internet"),
            Authorization::Granted {
                home: Some(GatewayRef::Address(hgw)),
                visited: Some(GatewayRef::Host("vgw.visited.example".into())),
                session_timeout: Some(3600),
            }
        );
    }

    #[test]
    fn experimental_result_is_a_refusal() {
        let b = answer(vec![
            A::utf8(&dict::SESSION_ID, "s;1"),
            A::grouped(
                &dict::EXPERIMENTAL_RESULT,
                vec![
                    A::u32(&dict::VENDOR_ID, 10415),
                    A::u32(&dict::EXPERIMENTAL_RESULT_CODE, NO_APN_SUBSCRIPTION),
                ],
            ),
        ]);
        let m = Message::parse(&b).unwrap();
        assert_eq!(
            read_aaa(&m, "internet"),
            Authorization::Refused(NO_APN_SUBSCRIPTION)
        );
    }
}
