//! Seed 002 scenarios: `s2b` (UE, ePDG with its MAG, AAA, GW) and `s2b-roaming` (UE, ePDG,
//! visited AAA proxy, home AAA, visited GW, home GW). Every node is the real network
//! function on its own loopback address.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use mobstrap_node::epdg::pmip::start_epdg;
use mobstrap_node::epdg::{self, EpdgSpec};
use mobstrap_node::gw::{GwConfig, GwNode};
use mobstrap_node::mag::Mag;
use mobstrap_node::ue::AttachOutcome;

use super::world::{self, addr};
use super::{Env, Outcome};

const PSK: &str = "lab-psk";
/// The IMSI of the unknown-imsi scenario (not provisioned).
const UNKNOWN_IMSI: &str = "001010000000099";
const PMIP: u16 = 5436;

async fn start_gw(
    env: &Env,
    name: &str,
    last: u8,
    pool4: &str,
    pool6: &str,
    roaming: bool,
) -> anyhow::Result<GwNode> {
    let text = format!(
        r#"[node]
name = "{name}"
[pmip]
listen = "{ip}:{PMIP}"
[pools]
ipv4 = "{pool4}"
ipv6 = "{pool6}"
[store]
url = "sqlite://{db}"
{roam}
"#,
        ip = addr(last),
        db = env.dir.join(format!("{name}.sqlite")).display(),
        roam = if roaming { "[roaming]\n" } else { "" }
    );
    let cfg = GwConfig::from_toml(&text).context("gw config")?;
    GwNode::start(cfg)
        .await
        .with_context(|| format!("starting {name}"))
}

/// What goes wrong (or nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Attach,
    /// The UE's IMSI is not provisioned.
    UnknownImsi,
    /// The UE asks for an APN outside its profile.
    ApnNotAllowed,
    /// The gateway's IPv4 pool has no free address.
    PoolExhausted,
    /// The AAA names a gateway nobody answers at.
    GwUnreachable,
    /// The UE's USIM verifies AUTN but answers with a wrong RES under a valid AT_MAC
    /// (`[usim] fault = "wrong-res"`).
    WrongRes,
    /// The UE's USIM holds another K: AUTN does not verify, AKA-Authentication-Reject.
    WrongK,
}

/// A K that is not the subscriber's (test set 1's K with its first octet changed).
const WRONG_K: &str = "565b5ce8b199b49faa5f0a2ee238a6bc";

pub async fn s2b(env: &Env) -> anyhow::Result<Outcome> {
    attach(env, false, Variant::Attach).await
}

pub async fn s2b_roaming(env: &Env) -> anyhow::Result<Outcome> {
    attach(env, true, Variant::Attach).await
}

pub async fn failure(env: &Env, v: Variant) -> anyhow::Result<Outcome> {
    attach(env, false, v).await
}

async fn attach(env: &Env, roaming: bool, variant: Variant) -> anyhow::Result<Outcome> {
    let home = world::start_aaa(
        &env.dir,
        "aaa",
        "aaa.home.lab.example",
        world::HOME_REALM,
        addr(40),
        "",
        "",
    )
    .await?;
    let hgw_last = if roaming { 60 } else { 50 };
    // the gateway the AAA names: nobody listens at .59
    let named_gw = if variant == Variant::GwUnreachable {
        59
    } else {
        hgw_last
    };
    world::provision(
        &home,
        &format!(
            "internet=gw:{}{}",
            addr(named_gw),
            if roaming { "+visited" } else { "" }
        ),
    )
    .await?;
    let visited = if roaming {
        Some(
            world::start_aaa(
                &env.dir,
                "vaaa",
                "aaa.visited.lab.example",
                world::VISITED_REALM,
                addr(30),
                &format!(
                    "role = \"visited\"\n[[roaming.visited_gateway]]\napn = \"*\"\ngateway = \"gw:{}\"",
                    addr(50)
                ),
                &format!(
                    "[[diameter.peer]]\nhost = \"aaa.home.lab.example\"\nconnect = \"{}:{}\"\n[[diameter.route]]\nrealm = \"{}\"\naction = \"proxy\"\npeers = [\"aaa.home.lab.example\"]",
                    addr(40),
                    world::DIAMETER_PORT,
                    world::HOME_REALM
                ),
            )
            .await?,
        )
    } else {
        None
    };
    let v4_pool = if variant == Variant::PoolExhausted {
        // one address, held by another subscriber (below)
        "10.45.0.7-10.45.0.7/24"
    } else {
        "10.45.0.0/24"
    };
    let hgw = start_gw(
        env,
        if roaming { "hgw" } else { "gw" },
        hgw_last,
        v4_pool,
        "2001:db8:45::/48",
        false,
    )
    .await?;
    if variant == Variant::PoolExhausted {
        // the gateway's store says the one address is taken ("gw.ipv4" is its IPv4 pool)
        hgw.store()
            .pool_allocate("gw.ipv4", 1, "001010000000002/internet", 0)
            .await
            .context("filling the gateway's pool")?;
    }
    let vgw = if roaming {
        Some(start_gw(env, "vgw", 50, "10.46.0.0/24", "2001:db8:46::/48", true).await?)
    } else {
        None
    };
    let (port, natt) = world::ike_ports();
    let epdg_keys = env.dir.join("keys-epdg");
    std::fs::create_dir_all(&epdg_keys)?;
    let (aaa_host, aaa_ip, realm) = if roaming {
        ("aaa.visited.lab.example", addr(30), world::HOME_REALM)
    } else {
        ("aaa.home.lab.example", addr(40), world::HOME_REALM)
    };
    let text = format!(
        r#"[ike]
name = "epdg"
bind = ["{ip}"]
port = {port}
natt_port = {natt}
local_id = "fqdn:epdg.lab.example"
auth = "psk"
psk = "{PSK}"
keys_dir = "{keys}"
raw_esp = false
[aaa]
protocol = "diameter"
destination_realm = "{realm}"
application = "swm"
[diameter]
origin_host = "epdg.{origin_realm}"
origin_realm = "{origin_realm}"
[[diameter.peer]]
host = "{aaa_host}"
connect = "{aaa_ip}:{dport}"
[diameter.default_route]
action = "relay"
peers = ["{aaa_host}"]
[mag]
# PBU retransmissions at 0.3 s and 0.9 s: a gateway that does not answer fails in ~2 s
listen = "{ip}:{PMIP}"
initial_timeout = 0.3
max_transmissions = 3
"#,
        ip = addr(20),
        keys = epdg_keys.display(),
        dport = world::DIAMETER_PORT,
        origin_realm = if roaming {
            world::VISITED_REALM
        } else {
            world::HOME_REALM
        },
    );
    let spec = EpdgSpec::from_toml(&text, &env.dir).context("ePDG config")?;
    // the whole ePDG, its MAG included, as `mobstrap epdg` runs it
    let (epdg, _events, mobility) = start_epdg(spec).await.context("ePDG start")?;
    let mag = mobility.mag;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ue_keys = env.dir.join("keys-ue");
    let good = world::UsimCard::GOOD;
    let (usim, apn) = match variant {
        Variant::UnknownImsi => (
            world::UsimCard {
                imsi: UNKNOWN_IMSI,
                ..good
            },
            "internet",
        ),
        Variant::ApnNotAllowed => (good, "ims"),
        Variant::WrongRes => (
            world::UsimCard {
                fault: Some("wrong-res"),
                ..good
            },
            "internet",
        ),
        Variant::WrongK => (world::UsimCard { k: WRONG_K, ..good }, "internet"),
        _ => (good, "internet"),
    };
    let mut ue = world::start_ue(
        addr(10),
        SocketAddr::new(addr(20), port),
        usim,
        apn,
        PSK,
        &ue_keys,
    )
    .await?;
    let mut out = Outcome {
        aliases: vec![
            ("ue".into(), "UE".into()),
            ("epdg".into(), "ePDG".into()),
            ("mag".into(), "ePDG".into()),
            (
                format!(
                    "epdg.{}",
                    if roaming {
                        world::VISITED_REALM
                    } else {
                        world::HOME_REALM
                    }
                ),
                "ePDG".into(),
            ),
            (
                "aaa.home.lab.example".into(),
                if roaming { "hAAA" } else { "AAA" }.into(),
            ),
            ("aaa.visited.lab.example".into(), "vAAA".into()),
            ("gw".into(), "GW".into()),
            ("vgw".into(), "vGW".into()),
            ("hgw".into(), "hGW".into()),
        ],
        key_dirs: vec![ue_keys, epdg_keys],
        addresses: vec![(addr(59), "GW".into())],
        ..Default::default()
    };
    let tunnel_step = if roaming { 18 } else { 16 };
    if variant != Variant::Attach {
        // a failure: the refusal is the UE's last word; nothing may be left anywhere
        let outcome = tokio::time::timeout(Duration::from_secs(15), ue.attached()).await;
        match outcome {
            Ok(AttachOutcome::Refused { notify, reason }) => {
                let n = notify.map(|n| n.to_string()).unwrap_or_default();
                out.note("UE", None, format!("refused: {n}"));
                let want = expected_notify(variant).unwrap_or("");
                out.check(
                    n == want,
                    format!(
                        "the UE was refused with {want} (got {}; {reason})",
                        if n.is_empty() { "none" } else { &n }
                    ),
                );
            }
            Ok(AttachOutcome::Attached { .. }) => {
                out.note("UE", None, "attached");
                out.check(false, "the UE was refused");
            }
            Err(_) => out.check(false, "the UE got an answer within 15 s"),
        }
        ue.handle.shutdown().await;
        let left = leftovers(&epdg, &mag, &hgw, vgw.as_ref(), &home, visited.as_ref()).await;
        out.check(
            left.is_empty(),
            if left.is_empty() {
                "no state is left in any node".to_string()
            } else {
                format!("state left: {left}")
            },
        );
        epdg.shutdown().await;
        hgw.shutdown().await;
        home.shutdown(Duration::from_secs(2)).await;
        return Ok(out);
    }
    match tokio::time::timeout(Duration::from_secs(15), ue.attached()).await {
        Ok(AttachOutcome::Attached { ip4, ip6, .. }) => {
            out.note(
                "UE",
                Some(tunnel_step),
                format!(
                    "IPsec tunnel up, {} {}",
                    ip4.map(|x| x.to_string()).unwrap_or_default(),
                    ip6.map(|x| format!("{}/{}", x.0, x.1)).unwrap_or_default()
                ),
            );
            let in4 = ip4.is_some_and(|a| a.octets()[..2] == [10, 45]);
            let in6 = ip6.is_some_and(|(a, _)| a.segments()[..3] == [0x2001, 0xdb8, 0x45]);
            out.check(
                in4 && in6,
                format!(
                    "UE got the home gateway's IPv4 {} and IPv6 {} in CFG_REPLY",
                    ip4.map(|x| x.to_string()).unwrap_or("(none)".into()),
                    ip6.map(|x| format!("{}/{}", x.0, x.1))
                        .unwrap_or("(none)".into())
                ),
            );
            // the gateway counts the binding once its task has moved on from the PBA
            for _ in 0..20 {
                if hgw.bindings() == 1 && vgw.as_ref().is_none_or(|v| v.bindings() == 1) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            out.check(
                hgw.bindings() == 1,
                format!("home gateway holds {} binding(s)", hgw.bindings()),
            );
            if let Some(v) = &vgw {
                out.check(
                    v.bindings() == 1,
                    format!("visited gateway holds {} binding(s)", v.bindings()),
                );
            }
        }
        Ok(AttachOutcome::Refused { notify, reason }) => {
            let n = notify.map(|n| n.to_string()).unwrap_or_default();
            out.note("UE", None, format!("refused: {n} ({reason})"));
            if let Some(want) = expected_notify(variant) {
                out.check(
                    n == want,
                    format!(
                        "the UE was refused with {want} (got {})",
                        if n.is_empty() { "none" } else { &n }
                    ),
                );
            }
        }
        Err(_) => out.note("UE", None, "no answer"),
    }
    // the UE detaches (IKE DELETE): the ePDG de-registers the binding and ends the AAA
    // session; nothing may be left in any node
    let _ = ue.detach().await;
    let left = leftovers(&epdg, &mag, &hgw, vgw.as_ref(), &home, visited.as_ref()).await;
    out.note("UE", None, "detached (IKE DELETE)");
    out.check(
        left.is_empty(),
        if left.is_empty() {
            "after the detach no state is left in any node".to_string()
        } else {
            format!("state left after the detach: {left}")
        },
    );
    epdg.shutdown().await;
    if let Some(v) = vgw {
        v.shutdown().await;
    }
    hgw.shutdown().await;
    if let Some(v) = visited {
        v.shutdown(Duration::from_secs(2)).await;
    }
    home.shutdown(Duration::from_secs(2)).await;
    Ok(out)
}

/// The notify the UE must be refused with (docs/epdg.md).
fn expected_notify(v: Variant) -> Option<&'static str> {
    match v {
        Variant::Attach => None,
        Variant::UnknownImsi => Some("AUTHENTICATION_FAILED"),
        Variant::ApnNotAllowed => Some("NO_APN_SUBSCRIPTION"),
        Variant::PoolExhausted => Some("INTERNAL_ADDRESS_FAILURE"),
        Variant::GwUnreachable => Some("NETWORK_FAILURE"),
        Variant::WrongRes | Variant::WrongK => Some("AUTHENTICATION_FAILED"),
    }
}

/// What is still held anywhere ("" when nothing), after waiting up to 5 s for clean-ups.
async fn leftovers(
    epdg: &epdg::EpdgHandle,
    mag: &Mag,
    hgw: &GwNode,
    vgw: Option<&GwNode>,
    home: &mobstrap_node::aaa::AaaNode,
    visited: Option<&mobstrap_node::aaa::AaaNode>,
) -> String {
    let mut left = String::new();
    for _ in 0..50 {
        let e = epdg
            .status()
            .await
            .map(|s| s.sessions + s.cleanups)
            .unwrap_or(1);
        let counts = [
            ("ePDG sessions", e),
            ("MAG sessions", mag.sessions().await),
            ("home GW bindings", hgw.bindings()),
            ("visited GW bindings", vgw.map_or(0, |v| v.bindings())),
            ("home GW pool allocations", allocations(hgw).await),
            (
                "visited GW pool allocations",
                match vgw {
                    Some(v) => allocations(v).await,
                    None => 0,
                },
            ),
            ("home AAA conversations", home.conversations()),
            (
                "visited AAA conversations",
                visited.map_or(0, |v| v.conversations()),
            ),
            ("home AAA authorized sessions", home.authorized_sessions()),
            (
                "visited AAA authorized sessions",
                visited.map_or(0, |v| v.authorized_sessions()),
            ),
            ("home AAA stored sessions", stored_sessions(home).await),
        ];
        left = counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(w, n)| format!("{w}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    left
}

/// Addresses and prefixes a gateway's pools hold for the lab's UEs (the pool-exhausted
/// scenario's filler belongs to another subscriber and is not counted).
async fn allocations(gw: &GwNode) -> usize {
    let mut n = 0;
    for pool in ["gw.ipv4", "gw.ipv6"] {
        match gw.store().pool_list(pool).await {
            Ok(list) => {
                n += list
                    .iter()
                    .filter(|(_, owner)| {
                        owner.contains(world::IMSI) || owner.contains(UNKNOWN_IMSI)
                    })
                    .count()
            }
            Err(_) => n += 1,
        }
    }
    n
}

/// AAA sessions the AAA's store holds for the lab's subscriber.
async fn stored_sessions(aaa: &mobstrap_node::aaa::AaaNode) -> usize {
    let Ok(imsi) = mobstrap_store::Imsi::new(world::IMSI) else {
        return 1;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    aaa.store()
        .sessions_for(&imsi, now)
        .await
        .map_or(1, |v| v.len())
}
