//! The visited AAA (seed 002, roaming): SWm requests for foreign realms are proxied to the
//! home AAA (a `[[diameter.route]]` with `action = "proxy"`), and this hook
//!
//! * adds Visited-Network-Identifier (our `[roaming] visited_network_id`) to DER and AAR
//!   when the ePDG did not, so the home AAA knows the user roams (TS 29.273 §7.1.2);
//! * on the AA-Answer of a successful AAR, maps the APN to a gateway of the visited network
//!   (`[[roaming.visited_gateway]]`) and adds it as a top-level MIP6-Agent-Info, next to the
//!   home gateway the home AAA put in APN-Configuration/MIP6-Agent-Info (step 10): the ePDG
//!   sends its PBU to the visited gateway and names the home gateway in it (step 11).

use std::sync::Arc;

use mobstrap_proto::diameter::Rejection;
use mobstrap_wire::diameter::commands;
use mobstrap_wire::diameter::{dict, AvpRepr as A, Message, MessageRepr};

use super::config::AaaConfig;
use super::profile::{self, Gateway};
use crate::diameter::ProxyHook;

pub(crate) struct VisitedAaa {
    pub config: Arc<AaaConfig>,
    pub network_id: String,
}

impl VisitedAaa {
    /// The visited gateway for an APN: an exact entry, else `*`.
    fn gateway(&self, apn: &str) -> Option<Gateway> {
        let g = &self.config.roaming.visited_gateways;
        g.iter()
            .find(|v| v.apn.eq_ignore_ascii_case(apn))
            .or_else(|| g.iter().find(|v| v.apn == "*"))
            .and_then(|v| Gateway::from_selection(&v.gateway))
    }
}

impl ProxyHook for VisitedAaa {
    fn request(&self, req: &Message<'_>, raw: &[u8], out: &mut Vec<u8>) -> Result<bool, Rejection> {
        let cmd = req.header.command_code;
        if cmd != commands::DIAMETER_EAP && cmd != commands::AA {
            return Ok(false);
        }
        if req.get(&dict::VISITED_NETWORK_IDENTIFIER).is_some() {
            return Ok(false);
        }
        let Ok(mut m) = MessageRepr::parse(raw) else {
            return Ok(false);
        };
        m.push(A::octets(
            &dict::VISITED_NETWORK_IDENTIFIER,
            self.network_id.as_bytes(),
        ));
        Ok(m.emit(out).is_ok())
    }

    fn answer(&self, req: &Message<'_>, ans: &Message<'_>, raw: &[u8], out: &mut Vec<u8>) -> bool {
        if ans.header.command_code != commands::AA || ans.result_code() != Some(2001) {
            return false;
        }
        // The APN: as the ePDG asked, else as the home AAA configured it.
        let apn = req
            .get(&dict::SERVICE_SELECTION)
            .and_then(|a| a.utf8().ok())
            .map(str::to_string)
            .or_else(|| {
                ans.get(&dict::APN_CONFIGURATION)
                    .and_then(|c| c.grouped().ok())
                    .and_then(|g| g.get(&dict::SERVICE_SELECTION))
                    .and_then(|s| s.utf8().ok())
                    .map(str::to_string)
            });
        let Some(apn) = apn else { return false };
        let Some(gw) = self.gateway(&apn) else {
            tracing::debug!(apn = %apn, "visited AAA: no visited gateway for the APN; home-routed");
            return false;
        };
        let Ok(mut m) = MessageRepr::parse(raw) else {
            return false;
        };
        m.push(profile::mip6_agent_info(&gw));
        metrics::counter!("aaa_visited_gateway_mapped_total").increment(1);
        tracing::debug!(apn = %apn, gateway = ?gw, "visited AAA: visited gateway added to the AA-Answer");
        m.emit(out).is_ok()
    }
}
