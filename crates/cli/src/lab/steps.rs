//! Seed 002's step numbers: a rule table per scenario that labels ladder messages, and the
//! verdict (every expected step present, in order, plus the scenario's own checks).

use mobstrap_wire::diameter::commands;

use super::decode::{Kind, Msg};

/// What a rule matches.
#[derive(Debug, Clone, Copy)]
pub enum Pat {
    /// An IKE message: exchange name, response?, message ID, and a text its decrypted
    /// content summary must contain (`None`: any).
    Ike(&'static str, bool, u32, Option<&'static str>),
    /// A Diameter request with this command code (and an EAP-Payload starting with…).
    Req(u32, Option<&'static str>),
    /// A Diameter answer with this command code and result code.
    Ans(u32, Option<u32>),
    /// A Diameter answer with this command code and result code whose EAP-Payload starts
    /// with this text.
    AnsEap(u32, u32, &'static str),
    /// A PMIPv6 registration (lifetime > 0) by name (`PBU`, `PBA`).
    Pmip(&'static str),
    /// A PBA with this status.
    PbaStatus(u8),
}

/// One row of a rule table: a message from column `from` to column `to` matching `pat` is
/// step `step`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub step: u32,
    pub from: &'static str,
    pub to: &'static str,
    pub pat: Pat,
}

const fn r(step: u32, from: &'static str, to: &'static str, pat: Pat) -> Rule {
    Rule {
        step,
        from,
        to,
        pat,
    }
}

const DER: u32 = commands::DIAMETER_EAP;
const AAR: u32 = commands::AA;

/// Seed 002 §2.1, non-roaming (steps 1–15; 16 is the tunnel-up check).
pub const S2B: &[Rule] = &[
    r(1, "UE", "ePDG", Pat::Ike("IKE_SA_INIT", false, 0, None)),
    r(1, "ePDG", "UE", Pat::Ike("IKE_SA_INIT", true, 0, None)),
    r(2, "UE", "ePDG", Pat::Ike("IKE_AUTH", false, 1, None)),
    r(
        3,
        "ePDG",
        "AAA",
        Pat::Req(DER, Some("EAP-Response/Identity")),
    ),
    r(4, "AAA", "ePDG", Pat::Ans(DER, Some(1001))),
    r(
        5,
        "ePDG",
        "UE",
        Pat::Ike("IKE_AUTH", true, 1, Some("EAP-Request/AKA-Challenge")),
    ),
    r(
        6,
        "UE",
        "ePDG",
        Pat::Ike("IKE_AUTH", false, 2, Some("EAP-Response/AKA-Challenge")),
    ),
    r(
        7,
        "ePDG",
        "AAA",
        Pat::Req(DER, Some("EAP-Response/AKA-Challenge")),
    ),
    r(8, "AAA", "ePDG", Pat::Ans(DER, Some(2001))),
    r(9, "ePDG", "AAA", Pat::Req(AAR, None)),
    r(10, "AAA", "ePDG", Pat::Ans(AAR, Some(2001))),
    r(11, "ePDG", "GW", Pat::Pmip("PBU")),
    r(12, "GW", "ePDG", Pat::Pmip("PBA")),
    r(
        13,
        "ePDG",
        "UE",
        Pat::Ike("IKE_AUTH", true, 2, Some("EAP-Success")),
    ),
    r(
        14,
        "UE",
        "ePDG",
        Pat::Ike("IKE_AUTH", false, 3, Some("AUTH")),
    ),
    r(
        15,
        "ePDG",
        "UE",
        Pat::Ike("IKE_AUTH", true, 3, Some("CP(CFG_REPLY)")),
    ),
];

/// Seed 002 §2.2, roaming (steps 1–17; 18 is the tunnel-up check). Diameter crosses the
/// visited AAA proxy: both hops carry the step number.
pub const S2B_ROAMING: &[Rule] = &[
    r(1, "UE", "ePDG", Pat::Ike("IKE_SA_INIT", false, 0, None)),
    r(1, "ePDG", "UE", Pat::Ike("IKE_SA_INIT", true, 0, None)),
    r(2, "UE", "ePDG", Pat::Ike("IKE_AUTH", false, 1, None)),
    r(
        3,
        "ePDG",
        "vAAA",
        Pat::Req(DER, Some("EAP-Response/Identity")),
    ),
    r(
        3,
        "vAAA",
        "hAAA",
        Pat::Req(DER, Some("EAP-Response/Identity")),
    ),
    r(4, "hAAA", "vAAA", Pat::Ans(DER, Some(1001))),
    r(4, "vAAA", "ePDG", Pat::Ans(DER, Some(1001))),
    r(
        5,
        "ePDG",
        "UE",
        Pat::Ike("IKE_AUTH", true, 1, Some("EAP-Request/AKA-Challenge")),
    ),
    r(
        6,
        "UE",
        "ePDG",
        Pat::Ike("IKE_AUTH", false, 2, Some("EAP-Response/AKA-Challenge")),
    ),
    r(
        7,
        "ePDG",
        "vAAA",
        Pat::Req(DER, Some("EAP-Response/AKA-Challenge")),
    ),
    r(
        7,
        "vAAA",
        "hAAA",
        Pat::Req(DER, Some("EAP-Response/AKA-Challenge")),
    ),
    r(8, "hAAA", "vAAA", Pat::Ans(DER, Some(2001))),
    r(8, "vAAA", "ePDG", Pat::Ans(DER, Some(2001))),
    r(9, "ePDG", "vAAA", Pat::Req(AAR, None)),
    r(9, "vAAA", "hAAA", Pat::Req(AAR, None)),
    r(10, "hAAA", "vAAA", Pat::Ans(AAR, Some(2001))),
    r(10, "vAAA", "ePDG", Pat::Ans(AAR, Some(2001))),
    r(11, "ePDG", "vGW", Pat::Pmip("PBU")),
    r(12, "vGW", "hGW", Pat::Pmip("PBU")),
    r(13, "hGW", "vGW", Pat::Pmip("PBA")),
    r(14, "vGW", "ePDG", Pat::Pmip("PBA")),
    r(
        15,
        "ePDG",
        "UE",
        Pat::Ike("IKE_AUTH", true, 2, Some("EAP-Success")),
    ),
    r(
        16,
        "UE",
        "ePDG",
        Pat::Ike("IKE_AUTH", false, 3, Some("AUTH")),
    ),
    r(
        17,
        "ePDG",
        "UE",
        Pat::Ike("IKE_AUTH", true, 3, Some("CP(CFG_REPLY)")),
    ),
];

/// The first steps every non-roaming table shares (1–2).
macro_rules! ike_start {
    () => {
        [
            r(1, "UE", "ePDG", Pat::Ike("IKE_SA_INIT", false, 0, None)),
            r(1, "ePDG", "UE", Pat::Ike("IKE_SA_INIT", true, 0, None)),
            r(2, "UE", "ePDG", Pat::Ike("IKE_AUTH", false, 1, None)),
        ]
    };
}

/// Unknown IMSI: the AAA answers the identity with an EAP-AKA failure notification (RFC 4187
/// §6.3.1; 3–6), acknowledged by the UE (6–7), then fails the session with
/// DIAMETER_ERROR_USER_UNKNOWN and EAP-Failure (8); the ePDG relays the EAP-Failure and the SA
/// ends (13).
pub const UNKNOWN_IMSI: &[Rule] = &{
    let s = ike_start!();
    [
        s[0],
        s[1],
        s[2],
        r(
            3,
            "ePDG",
            "AAA",
            Pat::Req(DER, Some("EAP-Response/Identity")),
        ),
        r(4, "AAA", "ePDG", Pat::Ans(DER, Some(1001))),
        r(
            5,
            "ePDG",
            "UE",
            Pat::Ike("IKE_AUTH", true, 1, Some("EAP-Request/AKA-Notification")),
        ),
        r(
            6,
            "UE",
            "ePDG",
            Pat::Ike("IKE_AUTH", false, 2, Some("EAP-Response/AKA-Notification")),
        ),
        r(
            7,
            "ePDG",
            "AAA",
            Pat::Req(DER, Some("EAP-Response/AKA-Notification")),
        ),
        r(8, "AAA", "ePDG", Pat::Ans(DER, Some(5001))),
        r(
            13,
            "ePDG",
            "UE",
            Pat::Ike("IKE_AUTH", true, 2, Some("EAP-Failure")),
        ),
    ]
};

/// Steps 3–7 of every EAP-AKA that reaches the challenge (the UE's answer, step 6, is in the
/// table of each scenario).
macro_rules! eap_challenge {
    () => {
        [
            r(
                3,
                "ePDG",
                "AAA",
                Pat::Req(DER, Some("EAP-Response/Identity")),
            ),
            r(
                4,
                "AAA",
                "ePDG",
                Pat::AnsEap(DER, 1001, "EAP-Request/AKA-Challenge"),
            ),
            r(
                5,
                "ePDG",
                "UE",
                Pat::Ike("IKE_AUTH", true, 1, Some("EAP-Request/AKA-Challenge")),
            ),
        ]
    };
}

/// Wrong RES: the UE answers the challenge (6, 7) with a RES the AAA's XRES comparison
/// refuses (AT_MAC is valid). The AAA fails the UE through an EAP-AKA "General Failure"
/// notification round (RFC 4187 §6.1, §6.3.2): DEA 1001 with the AKA-Notification, relayed
/// to the UE in IKE_AUTH response #2, acknowledged in request #3, relayed back — all of it
/// step 8, the AAA's verdict on the challenge — then DEA 4001
/// DIAMETER_AUTHENTICATION_REJECTED with EAP-Failure (8); the ePDG relays the EAP-Failure
/// (13).
pub const WRONG_RES: &[Rule] = &{
    let (s, c) = (ike_start!(), eap_challenge!());
    [
        s[0],
        s[1],
        s[2],
        c[0],
        c[1],
        c[2],
        r(
            6,
            "UE",
            "ePDG",
            Pat::Ike("IKE_AUTH", false, 2, Some("EAP-Response/AKA-Challenge")),
        ),
        r(
            7,
            "ePDG",
            "AAA",
            Pat::Req(DER, Some("EAP-Response/AKA-Challenge")),
        ),
        r(
            8,
            "AAA",
            "ePDG",
            Pat::AnsEap(DER, 1001, "EAP-Request/AKA-Notification"),
        ),
        r(
            8,
            "ePDG",
            "UE",
            Pat::Ike("IKE_AUTH", true, 2, Some("EAP-Request/AKA-Notification")),
        ),
        r(
            8,
            "UE",
            "ePDG",
            Pat::Ike("IKE_AUTH", false, 3, Some("EAP-Response/AKA-Notification")),
        ),
        r(
            8,
            "ePDG",
            "AAA",
            Pat::Req(DER, Some("EAP-Response/AKA-Notification")),
        ),
        r(8, "AAA", "ePDG", Pat::Ans(DER, Some(4001))),
        r(
            13,
            "ePDG",
            "UE",
            Pat::Ike("IKE_AUTH", true, 3, Some("EAP-Failure")),
        ),
    ]
};

/// Wrong K: AUTN does not verify in the UE's USIM, which answers (6)
/// EAP-Response/AKA-Authentication-Reject (RFC 4187 §6.3.1); the ePDG relays it (7), the AAA
/// ends at once with DEA 4001 DIAMETER_AUTHENTICATION_REJECTED and EAP-Failure (8, RFC 4187
/// §6.3.2: no notification after an Authentication-Reject), relayed to the UE (13).
pub const WRONG_K: &[Rule] = &{
    let (s, c) = (ike_start!(), eap_challenge!());
    [
        s[0],
        s[1],
        s[2],
        c[0],
        c[1],
        c[2],
        r(
            6,
            "UE",
            "ePDG",
            Pat::Ike(
                "IKE_AUTH",
                false,
                2,
                Some("EAP-Response/AKA-Authentication-Reject"),
            ),
        ),
        r(
            7,
            "ePDG",
            "AAA",
            Pat::Req(DER, Some("EAP-Response/AKA-Authentication-Reject")),
        ),
        r(8, "AAA", "ePDG", Pat::Ans(DER, Some(4001))),
        r(
            13,
            "ePDG",
            "UE",
            Pat::Ike("IKE_AUTH", true, 2, Some("EAP-Failure")),
        ),
    ]
};

/// Steps 3–8 of a successful EAP-AKA.
macro_rules! eap_ok {
    () => {
        [
            r(
                3,
                "ePDG",
                "AAA",
                Pat::Req(DER, Some("EAP-Response/Identity")),
            ),
            r(4, "AAA", "ePDG", Pat::Ans(DER, Some(1001))),
            r(
                5,
                "ePDG",
                "UE",
                Pat::Ike("IKE_AUTH", true, 1, Some("EAP-Request/AKA-Challenge")),
            ),
            r(
                6,
                "UE",
                "ePDG",
                Pat::Ike("IKE_AUTH", false, 2, Some("EAP-Response/AKA-Challenge")),
            ),
            r(
                7,
                "ePDG",
                "AAA",
                Pat::Req(DER, Some("EAP-Response/AKA-Challenge")),
            ),
            r(8, "AAA", "ePDG", Pat::Ans(DER, Some(2001))),
            r(9, "ePDG", "AAA", Pat::Req(AAR, None)),
        ]
    };
}

/// APN not allowed: the AAA answers the AAR with 5451 (10); instead of the EAP-Success the
/// ePDG answers NO_APN_SUBSCRIPTION (13).
pub const APN_NOT_ALLOWED: &[Rule] = &{
    let (s, e) = (ike_start!(), eap_ok!());
    [
        s[0],
        s[1],
        s[2],
        e[0],
        e[1],
        e[2],
        e[3],
        e[4],
        e[5],
        e[6],
        r(10, "AAA", "ePDG", Pat::Ans(AAR, Some(5451))),
        r(
            13,
            "ePDG",
            "UE",
            Pat::Ike("IKE_AUTH", true, 2, Some("NO_APN_SUBSCRIPTION")),
        ),
    ]
};

/// Pool exhausted: the PBA says 130 (12); the ePDG answers INTERNAL_ADDRESS_FAILURE (13).
pub const POOL_EXHAUSTED: &[Rule] = &{
    let (s, e) = (ike_start!(), eap_ok!());
    [
        s[0],
        s[1],
        s[2],
        e[0],
        e[1],
        e[2],
        e[3],
        e[4],
        e[5],
        e[6],
        r(10, "AAA", "ePDG", Pat::Ans(AAR, Some(2001))),
        r(11, "ePDG", "GW", Pat::Pmip("PBU")),
        r(12, "GW", "ePDG", Pat::PbaStatus(130)),
        r(
            13,
            "ePDG",
            "UE",
            Pat::Ike("IKE_AUTH", true, 2, Some("INTERNAL_ADDRESS_FAILURE")),
        ),
    ]
};

/// Gateway unreachable: the PBU goes unanswered (11, retransmitted); the ePDG answers
/// NETWORK_FAILURE (13).
pub const GW_UNREACHABLE: &[Rule] = &{
    let (s, e) = (ike_start!(), eap_ok!());
    [
        s[0],
        s[1],
        s[2],
        e[0],
        e[1],
        e[2],
        e[3],
        e[4],
        e[5],
        e[6],
        r(10, "AAA", "ePDG", Pat::Ans(AAR, Some(2001))),
        r(11, "ePDG", "GW", Pat::Pmip("PBU")),
        r(
            13,
            "ePDG",
            "UE",
            Pat::Ike("IKE_AUTH", true, 2, Some("NETWORK_FAILURE")),
        ),
    ]
};

fn matches(p: &Pat, k: &Kind) -> bool {
    match (p, k) {
        (
            Pat::Ike(x, resp, mid, want),
            Kind::Ike {
                exchange,
                response,
                message_id,
                inner,
                ..
            },
        ) => {
            exchange == x
                && response == resp
                && message_id == mid
                && want.is_none_or(|w| inner.iter().any(|i| i.contains(w)))
        }
        (
            Pat::Req(c, eap),
            Kind::Diameter {
                command,
                request: true,
                eap: e,
                ..
            },
        ) => {
            command == c
                && match eap {
                    None => true,
                    Some(want) => e.as_deref().is_some_and(|e| e.starts_with(want)),
                }
        }
        (
            Pat::Ans(c, res),
            Kind::Diameter {
                command,
                request: false,
                result,
                ..
            },
        ) => command == c && (res.is_none() || res == result),
        (
            Pat::AnsEap(c, res, want),
            Kind::Diameter {
                command,
                request: false,
                result,
                eap,
                ..
            },
        ) => {
            command == c
                && *result == Some(*res)
                && eap.as_deref().is_some_and(|e| e.starts_with(want))
        }
        (Pat::Pmip(n), Kind::Pmip { name, lifetime, .. }) => name == n && *lifetime > 0,
        (Pat::PbaStatus(s), Kind::Pmip { name, status, .. }) => {
            name == "PBA" && *status == Some(*s)
        }
        _ => false,
    }
}

/// Labels `msgs` (columns already resolved by `column`) with the table's step numbers.
pub fn label(msgs: &mut [Msg], rules: &[Rule], column: impl Fn(Option<&str>) -> Option<String>) {
    for m in msgs.iter_mut() {
        let (f, t) = (column(m.from.as_deref()), column(m.to.as_deref()));
        m.step = rules
            .iter()
            .find(|r| {
                f.as_deref() == Some(r.from)
                    && (t.as_deref() == Some(r.to) || t.is_none())
                    && matches(&r.pat, &m.kind)
            })
            .map(|r| r.step);
    }
}

/// A verdict line: what was checked and whether it held.
#[derive(Debug, Clone)]
pub struct Check {
    pub what: String,
    pub ok: bool,
}

/// Steps `expected` present in the ladder's step sequence, in non-decreasing order.
pub fn order_checks(steps: &[Option<u32>], expected: &[u32]) -> Vec<Check> {
    let seen: Vec<u32> = steps.iter().flatten().copied().collect();
    let mut checks = Vec::new();
    let missing: Vec<u32> = expected
        .iter()
        .copied()
        .filter(|s| !seen.contains(s))
        .collect();
    checks.push(Check {
        what: if missing.is_empty() {
            format!("steps {} all present", ranges(expected))
        } else {
            format!("steps missing: {missing:?}")
        },
        ok: missing.is_empty(),
    });
    let bad = seen.windows(2).find(|w| w[1] < w[0]);
    checks.push(Check {
        what: match bad {
            None => "steps in the seed's order".into(),
            Some(w) => format!("step {} after step {} (out of order)", w[1], w[0]),
        },
        ok: bad.is_none(),
    });
    checks
}

fn ranges(v: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            v[i].to_string()
        } else {
            format!("{}-{}", v[i], v[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_out_of_order_steps_fail() {
        let ok = [Some(1), Some(1), None, Some(2), Some(3)];
        assert!(order_checks(&ok, &[1, 2, 3]).iter().all(|c| c.ok));
        let missing = [Some(1), Some(3)];
        let c = order_checks(&missing, &[1, 2, 3]);
        assert!(!c[0].ok && c[0].what.contains("[2]"), "{c:?}");
        let swapped = [Some(1), Some(3), Some(2)];
        let c = order_checks(&swapped, &[1, 2, 3]);
        assert!(c[0].ok && !c[1].ok, "{c:?}");
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
    }
}
