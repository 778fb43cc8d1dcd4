//! The store contract, run against both back ends: a SQLite file in a temp directory and a
//! real PostgreSQL cluster started for this test process (mobstrap-testsupport).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use mobstrap_store::sqn::{self, SqnPolicy, SEQ_LIMIT};
use mobstrap_store::*;
use mobstrap_testsupport::TempPostgres;

/// Defines `NAME::sqlite` and `NAME::postgres`, each running `async fn NAME(url)`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("store.sqlite").display());
                super::$name(&url).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let pg = mobstrap_testsupport::TempPostgres::shared().expect("PostgreSQL");
                let url = pg.fresh_database().unwrap();
                super::$name(&url).await;
            }
        }
    )*};
}

both_backends!(
    migrations_from_empty,
    crud,
    apn_profiles_and_identities,
    sqn_allocation,
    sqn_resync_never_backwards,
    sqn_exhaustion,
    concurrent_allocation_two_nodes,
    pseudonyms_and_reauth,
    cache_invalidation,
    aaa_sessions,
    one_batch_known_and_unknown_subscribers,
    identities_of_several_subscribers_replaced_in_one_batch,
    concurrent_misses_load_in_batches,
    identity_tables_upgrade_keeps_the_latest,
    shared_secret_first_one_wins,
);

const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";

fn imsi(n: u64) -> Imsi {
    Imsi::new(&format!("00101{n:010}")).unwrap()
}

fn sub(n: u64) -> Subscriber {
    let mut s = Subscriber::new(
        imsi(n),
        Key128::from_hex("k", K).unwrap(),
        Key128::from_hex("opc", OPC).unwrap(),
    );
    s.profile.apns = ApnProfile::parse_list("apns", "internet=dynamic").unwrap();
    s
}

fn prov(n: u64) -> Provision {
    Provision {
        subscriber: sub(n),
        sqn: None,
    }
}

async fn open(url: &str) -> Store {
    Store::open(url).await.expect("open store")
}

async fn open_node(url: &str, ind: u8, block: u32) -> Store {
    let opts = StoreOptions {
        sqn: SqnPolicy {
            ind: vec![ind],
            block,
        },
        ..StoreOptions::default()
    };
    Store::open_with(url, opts).await.expect("open store")
}

async fn migrations_from_empty(url: &str) {
    let s = open(url).await;
    assert_eq!(s.count_subscribers().await.unwrap(), 0);
    s.add_subscriber(&prov(1)).await.unwrap();
    drop(s);
    // Re-opening applies nothing twice and keeps the data.
    let s = open(url).await;
    assert_eq!(s.count_subscribers().await.unwrap(), 1);
    assert!(s.list_subscribers(None, 10).await.unwrap()[0].seq_hwm >= 1);
}

async fn shared_secret_first_one_wins(url: &str) {
    let a = open(url).await;
    let b = open(url).await;
    assert_eq!(a.shared_secret("k", &[1; 16]).await.unwrap(), vec![1; 16]);
    // Another node (or a restart) offering its own gets the stored one.
    assert_eq!(b.shared_secret("k", &[2; 16]).await.unwrap(), vec![1; 16]);
    assert_eq!(b.shared_secret("other", &[3; 4]).await.unwrap(), vec![3; 4]);
    drop((a, b));
    let c = open(url).await;
    assert_eq!(c.shared_secret("k", &[4; 16]).await.unwrap(), vec![1; 16]);
    // Racing creators agree.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..4u8 {
        let s = open(url).await;
        set.spawn(async move { s.shared_secret("raced", &[i; 8]).await.unwrap() });
    }
    let got = set.join_all().await;
    assert!(got.windows(2).all(|w| w[0] == w[1]), "{got:?}");
}

async fn crud(url: &str) {
    let s = open(url).await;
    s.add_subscriber(&prov(1)).await.unwrap();
    match s.add_subscriber(&prov(1)).await {
        Err(Error::Exists { imsi }) => assert_eq!(imsi, "001010000000001"),
        other => panic!("expected Exists, got {other:?}"),
    }
    // A failed batch writes nothing.
    let batch = [prov(2), prov(1)];
    assert!(s.write_subscribers(&batch, WriteMode::Add).await.is_err());
    assert!(s.subscriber(&imsi(2)).await.unwrap().is_none());

    let got = s.subscriber(&imsi(1)).await.unwrap().unwrap();
    assert_eq!(got.subscriber, sub(1));
    assert_eq!(got.seq_hwm, 1);

    // Replace: keys and profile change; a provisioning SQN only moves the counter up.
    let mut p = Provision {
        subscriber: sub(1),
        sqn: Some(sqn::compose(1000, 0)),
    };
    p.subscriber.amf = Amf([0x90, 0x01]);
    p.subscriber.profile.msisdn = Some("33600000001".into());
    s.write_subscribers(std::slice::from_ref(&p), WriteMode::Replace)
        .await
        .unwrap();
    let got = s.subscriber(&imsi(1)).await.unwrap().unwrap();
    assert_eq!(got.subscriber.amf, Amf([0x90, 0x01]));
    assert_eq!(
        got.subscriber.profile.msisdn.as_deref(),
        Some("33600000001")
    );
    assert_eq!(got.seq_hwm, 1001);
    p.sqn = Some(sqn::compose(10, 0));
    s.write_subscribers(&[p], WriteMode::Replace).await.unwrap();
    assert_eq!(
        s.subscriber_uncached(&imsi(1))
            .await
            .unwrap()
            .unwrap()
            .seq_hwm,
        1001,
        "re-provisioning never moves SEQ backwards"
    );

    // Import many in one transaction, list in pages.
    let many: Vec<Provision> = (10..135).map(prov).collect();
    assert_eq!(
        s.write_subscribers(&many, WriteMode::Add).await.unwrap(),
        125
    );
    assert_eq!(s.count_subscribers().await.unwrap(), 126);
    let mut seen = Vec::new();
    let mut after: Option<Imsi> = None;
    loop {
        let page = s.list_subscribers(after.as_ref(), 50).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = Some(page.last().unwrap().subscriber.imsi.clone());
        for st in page {
            assert_eq!(st.subscriber.profile.apns.len(), 1, "APNs loaded in lists");
            seen.push(st.subscriber.imsi);
        }
    }
    assert_eq!(seen.len(), 126);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "IMSI order");

    assert!(s.delete_subscriber(&imsi(1)).await.unwrap());
    assert!(!s.delete_subscriber(&imsi(1)).await.unwrap());
    assert!(s.subscriber(&imsi(1)).await.unwrap().is_none());
    assert!(matches!(
        s.next_sqn(&imsi(1)).await,
        Err(Error::NotFound { .. })
    ));
}

async fn apn_profiles_and_identities(url: &str) {
    let s = open(url).await;
    let mut p = prov(7);
    p.subscriber.mnc_len = MncLen::Three;
    p.subscriber.profile = SubscriberProfile {
        msisdn: Some("15551234567".into()),
        apns: ApnProfile::parse_list(
            "apns",
            "internet=gw:192.0.2.10;ims=fqdn:pgw.ims.example+visited+ipv6;v6=gw:2001:db8::1+ipv4-or-ipv6;*=dynamic+visited",
        )
        .unwrap(),
        default_apn: Some("ims".into()),
        static_ipv4: Some("10.1.2.3".parse().unwrap()),
        static_ipv6_prefix: Some(Ipv6Prefix::parse("p", "2001:db8:7::/48").unwrap()),
        home_agent: Some(HostRef::parse("h", "lma.example.net").unwrap()),
        mip4_fha: Some(HostRef::parse("h", "198.51.100.4").unwrap()),
        access_types: vec![AccessType::TrustedWlan, AccessType::Mip4],
    };
    s.add_subscriber(&p).await.unwrap();
    let got = s.subscriber_uncached(&imsi(7)).await.unwrap().unwrap();
    assert_eq!(got.subscriber.profile, p.subscriber.profile);
    // A subscriber without APN profiles loads with none (the load joins the APN rows).
    let mut none = prov(9);
    none.subscriber.profile.apns.clear();
    none.subscriber.profile.default_apn = None;
    s.add_subscriber(&none).await.unwrap();
    let got9 = s.subscriber_uncached(&imsi(9)).await.unwrap().unwrap();
    assert!(got9.subscriber.profile.apns.is_empty());
    assert_eq!(got9.subscriber.profile, none.subscriber.profile);
    assert!(s.subscriber_uncached(&imsi(99)).await.unwrap().is_none());
    let prof = &got.subscriber.profile;
    assert_eq!(prof.default_apn().unwrap().apn, "ims");
    assert_eq!(prof.apn("INTERNET").unwrap().apn, "internet");
    assert_eq!(prof.apn("other").unwrap().apn, "*", "wildcard");
    assert!(prof.allows(AccessType::Mip4));
    assert!(!prof.allows(AccessType::UntrustedWlan));
    assert_eq!(
        got.subscriber.permanent_identity(AkaMethod::Aka),
        "0001010000000007@nai.epc.mnc010.mcc001.3gppnetwork.org"
    );
    assert_eq!(
        got.subscriber.permanent_identity(AkaMethod::AkaPrime),
        "6001010000000007@nai.epc.mnc010.mcc001.3gppnetwork.org"
    );
    // An invalid profile never reaches the database.
    let mut bad = prov(8);
    bad.subscriber.profile.default_apn = Some("nope".into());
    match s.add_subscriber(&bad).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "default_apn"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

async fn sqn_allocation(url: &str) {
    let s = open_node(url, 3, 4).await;
    let mut p = prov(1);
    p.sqn = Some(sqn::compose(500, 9));
    s.add_subscriber(&p).await.unwrap();
    s.add_subscriber(&prov(2)).await.unwrap();
    let mut last = 0;
    for i in 0..10 {
        let q = s.next_sqn(&imsi(1)).await.unwrap();
        let (seq, ind) = sqn::split(q);
        assert_eq!(ind, 3, "this node's IND");
        assert!(seq > 500, "above the provisioned SQN");
        assert!(q > last, "increasing");
        if i == 0 {
            assert_eq!(seq, 501);
        }
        last = q;
    }
    // Blocks of 4, the next one reserved ahead when half of the current one is used: after
    // 10 values (blocks 501, 505, 509) the block from 513 is reserved too.
    s.flush().await.unwrap();
    let hwm = s
        .subscriber_uncached(&imsi(1))
        .await
        .unwrap()
        .unwrap()
        .seq_hwm;
    assert_eq!(hwm, 517);
    assert_eq!(sqn::split(s.next_sqn(&imsi(2)).await.unwrap()).0, 1);
    assert!(matches!(
        s.next_sqn(&imsi(99)).await,
        Err(Error::NotFound { .. })
    ));

    // A restarted node skips the rest of its block and continues above it.
    drop(s);
    let s = open_node(url, 3, 4).await;
    let (seq, _) = sqn::split(s.next_sqn(&imsi(1)).await.unwrap());
    assert_eq!(seq, 517);

    // Re-provisioning with a higher SQN (a card that moved on elsewhere) takes effect at
    // once, even though this node still holds values of its block.
    let p = Provision {
        subscriber: sub(1),
        sqn: Some(sqn::compose(5000, 0)),
    };
    s.write_subscribers(&[p], WriteMode::Replace).await.unwrap();
    assert_eq!(sqn::split(s.next_sqn(&imsi(1)).await.unwrap()).0, 5001);

    // Several IND values are taken in turn; SEQ keeps growing.
    drop(s);
    let opts = StoreOptions {
        sqn: SqnPolicy {
            ind: vec![4, 5],
            block: 8,
        },
        ..StoreOptions::default()
    };
    let s = Store::open_with(url, opts).await.unwrap();
    let a = sqn::split(s.next_sqn(&imsi(1)).await.unwrap());
    let b = sqn::split(s.next_sqn(&imsi(1)).await.unwrap());
    assert_eq!(b.0, a.0 + 1);
    let expect = |seq: u64| [4, 5][(seq % 2) as usize];
    assert_eq!([a.1, b.1], [expect(a.0), expect(b.0)]);
    // Concurrent callers: per IND, SEQ still only grows in the order values were issued.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut v = Vec::new();
            for _ in 0..50 {
                v.push(sqn::split(s.next_sqn(&imsi(1)).await.unwrap()));
            }
            v
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    for (seq, ind) in &all {
        assert_eq!(*ind, expect(*seq));
    }
}

async fn sqn_resync_never_backwards(url: &str) {
    let s = open_node(url, 0, 32).await;
    s.add_subscriber(&prov(1)).await.unwrap();
    let first = s.next_sqn(&imsi(1)).await.unwrap();
    assert_eq!(sqn::split(first).0, 1);

    // The USIM is far ahead (SQN_MS from AUTS): the next SQN goes above it, even though
    // this node still holds 31 values of its block.
    let sqn_ms = sqn::compose(70_000, 17);
    let hwm = s.resync_sqn(&imsi(1), sqn_ms).await.unwrap();
    assert_eq!(hwm, 70_001);
    let next = s.next_sqn(&imsi(1)).await.unwrap();
    assert!(sqn::split(next).0 > 70_000, "{next}");

    // An SQN_MS below what we issued moves nothing backwards.
    let before = s
        .subscriber_uncached(&imsi(1))
        .await
        .unwrap()
        .unwrap()
        .seq_hwm;
    let hwm = s.resync_sqn(&imsi(1), sqn::compose(5, 0)).await.unwrap();
    assert_eq!(hwm, before);
    let after = s.next_sqn(&imsi(1)).await.unwrap();
    assert!(after > next, "never backwards");

    // Resync seen by a second node: its old block is below the new mark in the database,
    // and its next reservation comes from above.
    let other = open_node(url, 1, 32).await;
    let o1 = sqn::split(other.next_sqn(&imsi(1)).await.unwrap()).0;
    s.resync_sqn(&imsi(1), sqn::compose(900_000, 1))
        .await
        .unwrap();
    let s1 = sqn::split(s.next_sqn(&imsi(1)).await.unwrap()).0;
    assert!(s1 > 900_000 && s1 != o1);

    assert!(matches!(
        s.resync_sqn(&imsi(42), 1).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.resync_sqn(&imsi(1), 1 << 48).await,
        Err(Error::Invalid(_))
    ));

    // The administrative reset is the only way down.
    s.reset_sqn(&imsi(1), sqn::compose(10, 0)).await.unwrap();
    assert_eq!(sqn::split(s.next_sqn(&imsi(1)).await.unwrap()).0, 11);
}

async fn sqn_exhaustion(url: &str) {
    let s = open_node(url, 0, 4).await;
    let mut p = prov(1);
    p.sqn = Some(sqn::compose(SEQ_LIMIT - 3, 0));
    s.add_subscriber(&p).await.unwrap();
    // Two values left (2^43 - 2, 2^43 - 1) but a block is 4: refused, never wrapped.
    assert!(matches!(
        s.next_sqn(&imsi(1)).await,
        Err(Error::SqnExhausted { .. })
    ));
    let s1 = open_node(url, 0, 1).await;
    assert_eq!(
        sqn::split(s1.next_sqn(&imsi(1)).await.unwrap()).0,
        SEQ_LIMIT - 2
    );
    assert_eq!(
        sqn::split(s1.next_sqn(&imsi(1)).await.unwrap()).0,
        SEQ_LIMIT - 1
    );
    assert!(matches!(
        s1.next_sqn(&imsi(1)).await,
        Err(Error::SqnExhausted { .. })
    ));
}

async fn concurrent_allocation_two_nodes(url: &str) {
    let a = open_node(url, 1, 8).await;
    let b = open_node(url, 2, 3).await;
    let subs: Vec<Provision> = (1..=5).map(prov).collect();
    a.write_subscribers(&subs, WriteMode::Add).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..16u64 {
        let store = if t % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..60u64 {
                let who = imsi(1 + (t + i) % 5);
                got.push((who.clone(), store.next_sqn(&who).await.unwrap()));
            }
            got
        }));
    }
    let mut all: HashMap<Imsi, HashSet<u64>> = HashMap::new();
    let mut seqs: HashMap<Imsi, HashSet<u64>> = HashMap::new();
    let mut n = 0;
    for t in tasks {
        for (who, q) in t.await.unwrap() {
            n += 1;
            assert!(
                all.entry(who.clone()).or_default().insert(q),
                "SQN {q} repeated"
            );
            assert!(
                seqs.entry(who).or_default().insert(sqn::split(q).0),
                "SEQ repeated across nodes"
            );
        }
    }
    assert_eq!(n, 16 * 60);
}

async fn pseudonyms_and_reauth(url: &str) {
    let s = open(url).await;
    s.add_subscriber(&prov(1)).await.unwrap();
    let now = 1_700_000_000;
    s.put_pseudonym(PseudonymRecord {
        username: "p-abc".into(),
        imsi: imsi(1),
        method: AkaMethod::AkaPrime,
        expires_at: now + 3600,
    })
    .await
    .unwrap();
    let p = s.pseudonym("p-abc", now).await.unwrap().unwrap();
    assert_eq!((p.imsi.clone(), p.method), (imsi(1), AkaMethod::AkaPrime));
    assert!(
        s.pseudonym("p-abc", now + 3600).await.unwrap().is_none(),
        "expired"
    );
    assert!(s.pseudonym("nope", now).await.unwrap().is_none());
    assert!(matches!(
        s.put_pseudonym(PseudonymRecord {
            username: "p-x".into(),
            imsi: imsi(2),
            method: AkaMethod::Aka,
            expires_at: now + 10,
        })
        .await,
        Err(Error::NotFound { .. })
    ));

    let reauth = |name: &str, counter: u16, exp: i64| ReauthRecord {
        username: name.into(),
        imsi: imsi(1),
        method: AkaMethod::Aka,
        counter,
        mk: vec![7; 20],
        k_re: Vec::new(),
        k_aut: vec![8; 16],
        k_encr: vec![9; 16],
        expires_at: exp,
    };
    s.put_reauth(reauth("r-1", 1, now + 600)).await.unwrap();
    let r = s.reauth("r-1", now).await.unwrap().unwrap();
    assert_eq!(
        (r.counter, r.mk.clone(), r.k_aut.len()),
        (1, vec![7; 20], 16)
    );
    // Replacing keeps one row per name.
    s.put_reauth(reauth("r-1", 2, now + 600)).await.unwrap();
    assert_eq!(s.reauth("r-1", now).await.unwrap().unwrap().counter, 2);
    // One-time: the first take gets it, the second nothing.
    assert_eq!(s.take_reauth("r-1", now).await.unwrap().unwrap().counter, 2);
    assert!(s.take_reauth("r-1", now).await.unwrap().is_none());
    // Wrong key sizes are refused before the database.
    let mut bad = reauth("r-bad", 1, now + 1);
    bad.method = AkaMethod::AkaPrime;
    assert!(matches!(s.put_reauth(bad).await, Err(Error::Invalid(_))));
    let prime = ReauthRecord {
        username: "r-prime".into(),
        imsi: imsi(1),
        method: AkaMethod::AkaPrime,
        counter: 65535,
        mk: Vec::new(),
        k_re: vec![1; 32],
        k_aut: vec![2; 32],
        k_encr: vec![3; 16],
        expires_at: now + 5,
    };
    s.put_reauth(prime).await.unwrap();
    assert_eq!(
        s.reauth("r-prime", now).await.unwrap().unwrap().counter,
        65535
    );

    // Expiry and purge.
    s.put_reauth(reauth("r-old", 1, now - 1)).await.unwrap();
    s.put_pseudonym_nowait(PseudonymRecord {
        username: "p-old".into(),
        imsi: imsi(1),
        method: AkaMethod::Aka,
        expires_at: now - 1,
    })
    .unwrap();
    // A later waited write commits after (or with) the queued one.
    s.put_reauth(reauth("r-2", 5, now + 600)).await.unwrap();
    assert!(
        s.take_reauth("r-old", now).await.unwrap().is_none(),
        "expired"
    );
    s.put_reauth(reauth("r-old", 1, now - 1)).await.unwrap();
    let purged = s.purge_expired(now).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            pseudonyms: 1,
            reauth_ids: 1,
            sessions: 0,
        }
    );
    assert!(
        s.pseudonym("p-abc", now).await.unwrap().is_some(),
        "live one kept"
    );

    // A new pseudonym / re-authentication identity replaces the subscriber's older ones of
    // the same method (the peer uses the latest); other methods keep theirs.
    for name in ["p-new1", "p-new2"] {
        s.put_pseudonym(PseudonymRecord {
            username: name.into(),
            imsi: imsi(1),
            method: AkaMethod::Aka,
            expires_at: now + 3600,
        })
        .await
        .unwrap();
    }
    assert!(
        s.pseudonym("p-new1", now).await.unwrap().is_none(),
        "older one gone"
    );
    assert!(s.pseudonym("p-new2", now).await.unwrap().is_some());
    assert!(
        s.pseudonym("p-abc", now).await.unwrap().is_some(),
        "AKA' one kept"
    );
    s.put_reauth(reauth("r-3", 1, now + 600)).await.unwrap();
    s.put_reauth(reauth("r-4", 1, now + 600)).await.unwrap();
    assert!(
        s.reauth("r-3", now).await.unwrap().is_none(),
        "older one gone"
    );
    assert!(s.reauth("r-4", now).await.unwrap().is_some());
    assert!(
        s.reauth("r-prime", now).await.unwrap().is_some(),
        "AKA' one kept"
    );

    // Deleting the subscriber deletes its identities.
    s.delete_subscriber(&imsi(1)).await.unwrap();
    assert!(s.pseudonym("p-abc", now).await.unwrap().is_none());
    assert!(s.reauth("r-2", now).await.unwrap().is_none());
}

async fn cache_invalidation(url: &str) {
    let opts = StoreOptions {
        cache_ttl: Some(Duration::from_millis(300)),
        ..StoreOptions::default()
    };
    let s = Store::open_with(url, opts).await.unwrap();
    s.add_subscriber(&prov(1)).await.unwrap();
    let a = s.subscriber(&imsi(1)).await.unwrap().unwrap();
    let b = s.subscriber(&imsi(1)).await.unwrap().unwrap();
    assert!(Arc::ptr_eq(&a, &b), "second read served from the cache");

    // An update through this store is seen at once.
    let mut p = prov(1);
    p.subscriber.amf = Amf([0, 1]);
    s.write_subscribers(&[p], WriteMode::Replace).await.unwrap();
    assert_eq!(
        s.subscriber(&imsi(1))
            .await
            .unwrap()
            .unwrap()
            .subscriber
            .amf,
        Amf([0, 1])
    );

    // An update by another process (another store) is seen after the TTL.
    let other = open(url).await;
    let mut p = prov(1);
    p.subscriber.amf = Amf([0, 2]);
    other
        .write_subscribers(&[p], WriteMode::Replace)
        .await
        .unwrap();
    assert_eq!(
        s.subscriber(&imsi(1))
            .await
            .unwrap()
            .unwrap()
            .subscriber
            .amf,
        Amf([0, 1])
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        s.subscriber(&imsi(1))
            .await
            .unwrap()
            .unwrap()
            .subscriber
            .amf,
        Amf([0, 2])
    );

    // Entries past the TTL are dropped by a sweep; fresh ones stay.
    s.add_subscriber(&prov(2)).await.unwrap();
    s.subscriber(&imsi(2)).await.unwrap().unwrap();
    assert_eq!(s.cached_subscribers(), 2);
    assert_eq!(s.sweep_cache(), 0, "both fresh");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(s.sweep_cache(), 2);
    assert_eq!(s.cached_subscribers(), 0);
    assert!(
        s.subscriber(&imsi(2)).await.unwrap().is_some(),
        "loaded again"
    );
    assert_eq!(s.cached_subscribers(), 1);

    // A delete through this store is seen at once.
    s.delete_subscriber(&imsi(1)).await.unwrap();
    assert!(s.subscriber(&imsi(1)).await.unwrap().is_none());
}

#[tokio::test]
async fn urls() {
    for bad in [
        "mysql://x/y",
        "",
        "postgres://u:secret@127.0.0.1:1/x?sslmode=bogus",
    ] {
        match Store::open(bad).await {
            Err(e @ Error::Url { .. }) => assert!(!e.to_string().contains("secret"), "{e}"),
            Err(e) => panic!("{bad:?}: expected a URL error, got {e}"),
            Ok(_) => panic!("{bad:?} opened"),
        }
    }
    // A bare path and sqlite:// both create the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.sqlite");
    Store::open(path.to_str().unwrap()).await.unwrap();
    assert!(path.exists());
    let s = Store::open("sqlite::memory:").await.unwrap();
    s.add_subscriber(&prov(1)).await.unwrap();
    assert!(s.next_sqn(&imsi(1)).await.is_ok());
    assert_eq!(s.kind(), BackendKind::Sqlite);
}

#[test]
fn postgres_cluster_is_real() {
    let pg = TempPostgres::shared().unwrap();
    let v = pg.psql("postgres", "SHOW server_version_num").unwrap();
    assert!(v.trim().parse::<u32>().unwrap() >= 100000);
}

fn session(id: &str, n: u64, key: bool, created: i64, exp: i64) -> AaaSessionRecord {
    AaaSessionRecord {
        session_id: id.into(),
        imsi: imsi(n),
        kind: SessionKind::Sta,
        peer: "mag.example".into(),
        aaa_host: "aaa1.example".into(),
        nai: format!("0{}@nai.epc.mnc001.mcc001.3gppnetwork.org", imsi(n)),
        apn: Some("internet".into()),
        gateway_host: None,
        gateway_address: None,
        visited_network: None,
        mag_lma_key: if key { vec![0x5a; 64] } else { Vec::new() },
        lma_identity: key.then(|| "lma.example".into()),
        created_ms: created * 1000,
        expires_at: exp,
    }
}

async fn aaa_sessions(url: &str) {
    let s = Store::open(url).await.unwrap();
    s.add_subscriber(&prov(1)).await.unwrap();
    s.add_subscriber(&prov(2)).await.unwrap();
    let now = unix_now();
    s.put_session(session("mag;1;1", 1, true, now - 5, now + 600))
        .await
        .unwrap();
    let got = s.session("mag;1;1", now).await.unwrap().unwrap();
    assert_eq!(got, session("mag;1;1", 1, true, now - 5, now + 600));
    // A second node on the same database sees it (PostgreSQL: another pool; SQLite: the file).
    if !url.contains("memory") {
        let other = Store::open_with(
            url,
            StoreOptions {
                sqn: SqnPolicy::for_node(2).unwrap(),
                ..StoreOptions::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            other
                .session("mag;1;1", now)
                .await
                .unwrap()
                .unwrap()
                .mag_lma_key,
            vec![0x5a; 64]
        );
    }
    // Text a peer chose (NAI, Origin-Host) is stored as sent, whatever its characters.
    let mut odd = session("mag;\"odd\";\\", 2, false, now, now + 600);
    odd.nai = "0001\"\\\u{7f}\u{e9}\u{1f600}@nai".into();
    odd.peer = "mag.[x]'y'".into();
    s.put_session(odd.clone()).await.unwrap();
    assert_eq!(
        s.session(&odd.session_id, now).await.unwrap(),
        Some(odd.clone())
    );
    assert!(s.delete_session(&odd.session_id).await.unwrap());
    // Registration replaces by Session-Id; newest first per subscriber.
    let mut reg = session("pgw;1;2", 1, false, now, now + 600);
    reg.kind = SessionKind::S6b;
    reg.gateway_host = Some("pgw.example".into());
    reg.gateway_address = Some("192.0.2.10".into());
    s.put_session_nowait(reg.clone()).unwrap();
    s.flush().await.unwrap();
    assert!(
        s.session("pgw;1;2", now).await.unwrap().is_some(),
        "flushed"
    );
    s.put_session(session("mag;2;1", 2, false, now, now + 600))
        .await
        .unwrap();
    let list = s.sessions_for(&imsi(1), now).await.unwrap();
    assert_eq!(
        list.iter()
            .map(|a| a.session_id.as_str())
            .collect::<Vec<_>>(),
        ["pgw;1;2", "mag;1;1"]
    );
    assert_eq!(list[0], reg);
    // Unknown subscribers are refused; bad key lengths before the database.
    assert!(matches!(
        s.put_session(session("x;9", 9, false, now, now + 1)).await,
        Err(Error::NotFound { .. })
    ));
    let mut bad = session("x;1", 1, false, now, now + 1);
    bad.mag_lma_key = vec![1; 3];
    assert!(matches!(s.put_session(bad).await, Err(Error::Invalid(_))));
    // Expiry, purge, delete, cascade.
    s.put_session(session("old;1", 1, false, now - 10, now - 1))
        .await
        .unwrap();
    assert!(s.session("old;1", now).await.unwrap().is_none());
    assert_eq!(s.purge_expired(now).await.unwrap().sessions, 1);
    assert!(s.delete_session("pgw;1;2").await.unwrap());
    assert!(!s.delete_session("pgw;1;2").await.unwrap());
    // Deletes are group-committed: many at once, one batch; a put queued before a delete
    // of the same Session-Id is deleted, one queued after it stays.
    for i in 0..300 {
        s.put_session_nowait(session(&format!("many;{i}"), 2, false, now, now + 600))
            .unwrap();
    }
    let deletes: Vec<_> = (0..300)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.delete_session(&format!("many;{i}")).await.unwrap() })
        })
        .collect();
    // "again;1": stored, deleted, stored again, queued in this order (one task: the delete's
    // request leaves at its first poll, before the second put)
    s.put_session_nowait(session("again;1", 2, false, now, now + 600))
        .unwrap();
    let (existed, ()) = tokio::join!(s.delete_session("again;1"), async {
        tokio::task::yield_now().await;
        s.put_session_nowait(session("again;1", 2, false, now, now + 600))
            .unwrap();
    });
    assert!(existed.unwrap());
    for d in deletes {
        assert!(d.await.unwrap(), "every session existed");
    }
    s.flush().await.unwrap();
    assert!(s.session("many;7", now).await.unwrap().is_none());
    assert!(s.session("many;299", now).await.unwrap().is_none());
    assert!(s.session("again;1", now).await.unwrap().is_some());
    assert!(s.delete_session("again;1").await.unwrap());
    s.delete_subscriber(&imsi(1)).await.unwrap();
    assert!(s.session("mag;1;1", now).await.unwrap().is_none());
    assert_eq!(s.sessions_for(&imsi(2), now).await.unwrap().len(), 1);
}

mod pools {
    use super::*;

    /// Defines `sqlite` and `postgres` variants of one pool test.
    macro_rules! both {
        ($($name:ident),*) => {$(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = format!("sqlite://{}", dir.path().join("store.sqlite").display());
                    super::$name(&url).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let pg = mobstrap_testsupport::TempPostgres::shared().expect("PostgreSQL");
                    let url = pg.fresh_database().unwrap();
                    super::$name(&url).await;
                }
            }
        )*};
    }
    both!(
        allocate_release_exhaust,
        survives_reopen,
        expiry_reclaims,
        concurrent_owners,
        two_nodes,
        batched_runs
    );

    async fn allocate_release_exhaust(url: &str) {
        let s = Store::open(url).await.unwrap();
        let v4 = PoolSpec::parse("192.0.2.10-192.0.2.12/24").unwrap();
        assert_eq!(v4.size(), 3);
        let a = s
            .pool_allocate("v4", v4.size(), "a@x/internet", 0)
            .await
            .unwrap();
        let b = s
            .pool_allocate("v4", v4.size(), "b@x/internet", 0)
            .await
            .unwrap();
        assert_eq!((a, b), (0, 1));
        assert_eq!(v4.slot(b), Some(("192.0.2.11".parse().unwrap(), 24)));
        // idempotent
        assert_eq!(
            s.pool_allocate("v4", 3, "a@x/internet", 0).await.unwrap(),
            0
        );
        s.pool_allocate("v4", 3, "c@x/internet", 0).await.unwrap();
        assert_eq!(s.pool_count("v4").await.unwrap(), 3);
        // full, but an owner holding a slot gets it back
        assert_eq!(
            s.pool_allocate("v4", 3, "b@x/internet", 0).await.unwrap(),
            1
        );
        match s.pool_allocate("v4", 3, "d@x/internet", 0).await {
            Err(Error::PoolExhausted { pool }) => assert_eq!(pool, "v4"),
            other => panic!("{other:?}"),
        }
        // another pool is independent
        assert_eq!(
            s.pool_allocate("v6", 1 << 16, "d@x/internet", 0)
                .await
                .unwrap(),
            0
        );
        // release makes room; the lowest free slot is reused
        assert!(s.pool_release("v4", "b@x/internet").await.unwrap());
        assert!(!s.pool_release("v4", "b@x/internet").await.unwrap());
        assert_eq!(
            s.pool_allocate("v4", 3, "d@x/internet", 0).await.unwrap(),
            1
        );
        assert_eq!(
            s.pool_list("v4").await.unwrap(),
            vec![
                (0, "a@x/internet".to_string()),
                (1, "d@x/internet".to_string()),
                (2, "c@x/internet".to_string())
            ]
        );
    }

    async fn survives_reopen(url: &str) {
        let s = Store::open(url).await.unwrap();
        for i in 0..5 {
            s.pool_allocate("v6", 1 << 16, &format!("u{i}"), 0)
                .await
                .unwrap();
        }
        s.pool_release("v6", "u2").await.unwrap();
        drop(s);
        let s = Store::open(url).await.unwrap();
        assert_eq!(s.pool_lookup("v6", "u3").await.unwrap(), Some(3));
        assert_eq!(s.pool_allocate("v6", 1 << 16, "u4", 0).await.unwrap(), 4);
        // new owners continue after the highest slot; the freed slot 2 waits until the
        // cursor wraps around the pool
        assert_eq!(s.pool_allocate("v6", 1 << 16, "new", 0).await.unwrap(), 5);
        assert_eq!(s.pool_allocate("v6", 6, "new2", 0).await.unwrap(), 2);
    }

    async fn expiry_reclaims(url: &str) {
        let s = Store::open(url).await.unwrap();
        let now = unix_now();
        s.pool_allocate("p", 2, "old", now - 10).await.unwrap();
        s.pool_allocate("p", 2, "live", now + 1000).await.unwrap();
        // full: the expired slot is reclaimed
        assert_eq!(s.pool_allocate("p", 2, "new", now + 1000).await.unwrap(), 0);
        assert_eq!(s.pool_lookup("p", "old").await.unwrap(), None);
        // touching moves the expiry
        assert!(s.pool_touch("p", "live", now - 1).await.unwrap());
        assert_eq!(s.pool_purge_expired(now).await.unwrap(), 1);
        assert_eq!(s.pool_count("p").await.unwrap(), 1);
    }

    async fn concurrent_owners(url: &str) {
        let s = Store::open(url).await.unwrap();
        let mut tasks = vec![];
        for i in 0..40 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                // every owner twice, concurrently
                let a = s
                    .pool_allocate("c", 100, &format!("o{}", i % 20), 0)
                    .await
                    .unwrap();
                (i % 20, a)
            }));
        }
        let mut by_owner: HashMap<u32, u64> = HashMap::new();
        for t in tasks {
            let (o, slot) = t.await.unwrap();
            if let Some(prev) = by_owner.insert(o, slot) {
                assert_eq!(prev, slot, "same owner, same slot");
            }
        }
        let slots: HashSet<u64> = by_owner.values().copied().collect();
        assert_eq!(slots.len(), 20, "distinct slots");
        assert_eq!(s.pool_count("c").await.unwrap(), 20);
    }

    /// Two stores on one database (two gateway nodes): their cursors start at the same slot
    /// and collide; every owner still gets its own slot.
    async fn two_nodes(url: &str) {
        let a = Store::open(url).await.unwrap();
        let b = Store::open(url).await.unwrap();
        let mut tasks = vec![];
        for i in 0..60 {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                s.pool_allocate("n", 1000, &format!("o{i}"), 0)
                    .await
                    .unwrap()
            }));
        }
        let mut slots = HashSet::new();
        for t in tasks {
            assert!(slots.insert(t.await.unwrap()), "a slot handed out twice");
        }
        assert_eq!(a.pool_count("n").await.unwrap(), 60);
        assert_eq!(b.pool_list("n").await.unwrap().len(), 60);
    }

    /// Allocations and releases that reach the writer together go through its multi-row
    /// statements: two pools interleaved, owners asking twice, owners that already hold a
    /// slot, a small pool that runs out inside the batch, and releases of one owner twice.
    async fn batched_runs(url: &str) {
        let s = Store::open(url).await.unwrap();
        // Three owners already hold slots 0..3 of "big".
        for o in ["h0", "h1", "h2"] {
            s.pool_allocate("big", 1000, o, 0).await.unwrap();
        }
        let mut tasks = vec![];
        for i in 0..150 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let (pool, size, owner) = match i % 3 {
                    // 50 allocations in a pool of 30: 30 succeed, 20 find it full
                    0 => ("small", 30, format!("s{}", i / 3)),
                    // owners o0..o24 twice each, and the three holders
                    1 => (
                        "big",
                        1000,
                        if i < 10 {
                            format!("h{}", i / 3)
                        } else {
                            format!("o{}", (i / 3) % 25)
                        },
                    ),
                    _ => ("big", 1000, format!("p{i}")),
                };
                (
                    pool,
                    owner.clone(),
                    s.pool_allocate(pool, size, &owner, 0).await,
                )
            }));
        }
        let mut got: HashMap<(String, String), u64> = HashMap::new();
        let mut full = 0;
        for t in tasks {
            let (pool, owner, r) = t.await.unwrap();
            match r {
                Ok(slot) => {
                    if let Some(prev) = got.insert((pool.to_string(), owner.clone()), slot) {
                        assert_eq!(prev, slot, "{owner} got two slots");
                    }
                }
                Err(Error::PoolExhausted { pool: p }) => {
                    assert_eq!(p, "small");
                    full += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(full, 20, "the small pool is full after 30");
        for pool in ["small", "big"] {
            let slots: Vec<u64> = got
                .iter()
                .filter(|((p, _), _)| p == pool)
                .map(|(_, s)| *s)
                .collect();
            let distinct: HashSet<u64> = slots.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                slots.len(),
                "{pool}: a slot handed out twice"
            );
            let listed = s.pool_list(pool).await.unwrap();
            assert_eq!(listed.len(), slots.len(), "{pool}: stored = handed out");
            for (slot, owner) in listed {
                assert_eq!(
                    got.get(&(pool.to_string(), owner.clone())),
                    Some(&slot),
                    "{pool} {owner}"
                );
            }
        }
        for (i, o) in ["h0", "h1", "h2"].iter().enumerate() {
            assert_eq!(
                got.get(&("big".to_string(), o.to_string())),
                Some(&(i as u64))
            );
        }
        // Releases together, every owner of "big" twice: one of the two finds it.
        let owners: Vec<String> = s
            .pool_list("big")
            .await
            .unwrap()
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        let mut tasks = vec![];
        for o in owners.iter().chain(owners.iter()) {
            let (s, o) = (s.clone(), o.clone());
            tasks.push(tokio::spawn(async move {
                (o.clone(), s.pool_release("big", &o).await.unwrap())
            }));
        }
        let mut freed: HashMap<String, u32> = HashMap::new();
        for t in tasks {
            let (o, f) = t.await.unwrap();
            *freed.entry(o).or_default() += u32::from(f);
        }
        assert!(
            freed.values().all(|&n| n == 1),
            "each owner released once: {freed:?}"
        );
        assert_eq!(s.pool_count("big").await.unwrap(), 0);
        assert_eq!(s.pool_count("small").await.unwrap(), 30);
    }

    #[test]
    fn specs() {
        let p = PoolSpec::parse("192.0.2.0/24").unwrap();
        assert_eq!(p.size(), 253, ".1 to .253; .254 is the router");
        assert_eq!(p.slot(0), Some(("192.0.2.1".parse().unwrap(), 24)));
        assert_eq!(p.slot_of("192.0.2.253".parse().unwrap()), Some(252));
        assert_eq!(p.slot(253), None);
        let p = PoolSpec::parse("2001:db8:1::/48").unwrap();
        assert_eq!(p.size(), 65536);
        assert_eq!(p.slot(5), Some(("2001:db8:1:5::".parse().unwrap(), 64)));
        assert_eq!(p.slot_of("2001:db8:1:5::77".parse().unwrap()), Some(5));
        assert_eq!(p.slot_of("2001:db8:2::1".parse().unwrap()), None);
        let p = PoolSpec::parse("2001:db8::/56,/60").unwrap();
        assert_eq!(p.size(), 16);
        assert!(PoolSpec::parse("2001::/16").is_err(), "2^48 /64s: too many");
        assert!(PoolSpec::parse("10.0.0.9-10.0.0.1/24").is_err());
        assert!(PoolSpec::parse("nonsense").is_err());
    }
}

/// Writes for known and unknown subscribers committed in one batch: each gets its own
/// outcome (the SQLite back end learns "all written" from the row count and looks the
/// subscribers up only when some row was not).
async fn one_batch_known_and_unknown_subscribers(url: &str) {
    let s = Store::open(url).await.unwrap();
    s.add_subscriber(&prov(1)).await.unwrap();
    s.add_subscriber(&prov(2)).await.unwrap();
    let now = unix_now();
    let pseudonym = |name: &str, n: u64| PseudonymRecord {
        username: name.into(),
        imsi: imsi(n),
        method: AkaMethod::Aka,
        expires_at: now + 600,
    };
    for round in 0..3 {
        // Keeps the writer busy so that the five writes below queue up behind it and are
        // committed together.
        for i in 0..2000 {
            s.put_session_nowait(session(
                &format!("busy;{round};{i}"),
                1,
                false,
                now,
                now + 600,
            ))
            .unwrap();
        }
        let (a, b, c, d, e) = tokio::join!(
            s.put_session(session(&format!("a;{round}"), 1, false, now, now + 600)),
            s.put_session(session(&format!("b;{round}"), 9, false, now, now + 600)),
            s.put_session(session(&format!("c;{round}"), 2, true, now, now + 600)),
            s.put_pseudonym(pseudonym(&format!("p9-{round}"), 9)),
            s.put_pseudonym(pseudonym(&format!("p2-{round}"), 2)),
        );
        assert!(a.is_ok() && c.is_ok() && e.is_ok(), "{a:?} {c:?} {e:?}");
        assert!(matches!(b, Err(Error::NotFound { .. })), "{b:?}");
        assert!(matches!(d, Err(Error::NotFound { .. })), "{d:?}");
        assert!(s
            .session(&format!("a;{round}"), now)
            .await
            .unwrap()
            .is_some());
        assert!(s
            .session(&format!("b;{round}"), now)
            .await
            .unwrap()
            .is_none());
        assert!(s
            .session(&format!("c;{round}"), now)
            .await
            .unwrap()
            .is_some());
        assert!(s
            .pseudonym(&format!("p2-{round}"), now)
            .await
            .unwrap()
            .is_some());
        assert!(s
            .pseudonym(&format!("p9-{round}"), now)
            .await
            .unwrap()
            .is_none());
    }
}

/// New pseudonyms of three subscribers committed in one batch replace each subscriber's older
/// one (the pruning statement is written for 4 identities, the last one repeated).
async fn identities_of_several_subscribers_replaced_in_one_batch(url: &str) {
    let s = Store::open(url).await.unwrap();
    for n in 1..=3 {
        s.add_subscriber(&prov(n)).await.unwrap();
    }
    let now = unix_now();
    let p = |name: String, n: u64| PseudonymRecord {
        username: name,
        imsi: imsi(n),
        method: AkaMethod::Aka,
        expires_at: now + 600,
    };
    for n in 1..=3 {
        s.put_pseudonym(p(format!("old-{n}"), n)).await.unwrap();
    }
    for n in 1..=3 {
        s.put_pseudonym_nowait(p(format!("new-{n}"), n)).unwrap();
    }
    // Twenty for subscriber 1 back to back (the writer takes most of them in one batch,
    // where each replaces the one before): the last one is kept.
    for i in 0..20 {
        s.put_pseudonym_nowait(p(format!("newer-1-{i}"), 1))
            .unwrap();
    }
    s.flush().await.unwrap();
    assert!(s.pseudonym("newer-1-19", now).await.unwrap().is_some());
    for name in ["new-1", "newer-1-0", "newer-1-18"] {
        assert!(s.pseudonym(name, now).await.unwrap().is_none(), "{name}");
    }
    // A username that is another subscriber's current pseudonym (a 96-bit collision) is
    // not taken over: the write fails and the other subscriber's mapping stays.
    assert!(matches!(
        s.put_pseudonym(p("new-3".into(), 2)).await,
        Err(Error::IdentityTaken { imsi: i }) if i == imsi(2).as_str()
    ));
    assert!(s.pseudonym("new-2", now).await.unwrap().is_some());
    assert_eq!(
        s.pseudonym("new-3", now).await.unwrap().map(|r| r.imsi),
        Some(imsi(3))
    );
    for n in 2..=3 {
        assert!(
            s.pseudonym(&format!("old-{n}"), now)
                .await
                .unwrap()
                .is_none(),
            "old-{n}"
        );
        let got = s.pseudonym(&format!("new-{n}"), now).await.unwrap();
        assert_eq!(got.map(|r| r.imsi), Some(imsi(n)), "new-{n}");
    }
}

/// A store made before migration 0004 held one row per issued identity; upgraded, it keeps
/// the latest of each subscriber and method (the one the peer was sent last).
async fn identity_tables_upgrade_keeps_the_latest(url: &str) {
    let sqlite = url.starts_with("sqlite:");
    let kind = if sqlite { "sqlite" } else { "postgres" };
    let old = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(kind);
    for f in [
        "0001_subscribers.sql",
        "0002_aaa_session.sql",
        "0003_address_pool.sql",
    ] {
        std::fs::copy(src.join(f), old.path().join(f)).unwrap();
    }
    let before = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
    let now = unix_now();
    let hex = |h: &str| {
        if sqlite {
            format!("unhex('{h}')")
        } else {
            format!("decode('{h}', 'hex')")
        }
    };
    let mut sql = format!(
        "INSERT INTO subscriber (imsi, mnc_len, k, opc, amf, seq_hwm, access_types, created_at, \
         updated_at) VALUES ('{}', 2, {}, {}, {}, 1, 'wlan', 0, 0);\n",
        imsi(1).as_str(),
        hex(K),
        hex(OPC),
        hex("8000")
    );
    for (name, method, exp) in [
        ("p-a", "aka", 100),
        ("p-c", "aka", 300),
        ("p-b", "aka", 200),
        ("p-prime", "aka-prime", 100),
    ] {
        sql += &format!(
            "INSERT INTO pseudonym (username, imsi, method, expires_at) \
             VALUES ('{name}', '{}', '{method}', {});\n",
            imsi(1).as_str(),
            now + exp
        );
    }
    for (name, counter, exp) in [("r-a", 1, 300), ("r-b", 2, 100)] {
        sql += &format!(
            "INSERT INTO reauth_identity (username, imsi, method, counter, mk, k_re, k_aut, \
             k_encr, expires_at) VALUES ('{name}', '{}', 'aka', {counter}, {}, {}, {}, {}, {});\n",
            imsi(1).as_str(),
            hex(&"07".repeat(20)),
            hex(""),
            hex(&"08".repeat(16)),
            hex(&"09".repeat(16)),
            now + exp
        );
    }
    if sqlite {
        let o: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let pool = sqlx::SqlitePool::connect_with(o.create_if_missing(true))
            .await
            .unwrap();
        before.run(&pool).await.unwrap();
        sqlx::raw_sql(&sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        before.run(&pool).await.unwrap();
        sqlx::raw_sql(&sql).execute(&pool).await.unwrap();
        pool.close().await;
    }

    let s = open(url).await;
    for (name, kept) in [
        ("p-a", false),
        ("p-b", false),
        ("p-c", true),
        ("p-prime", true),
    ] {
        let got = s.pseudonym(name, now).await.unwrap();
        assert_eq!(got.is_some(), kept, "{name}");
    }
    assert!(s.reauth("r-b", now).await.unwrap().is_none());
    let r = s.reauth("r-a", now).await.unwrap().unwrap();
    assert_eq!(
        (r.counter, r.mk.clone(), r.k_encr.clone()),
        (1, vec![7; 20], vec![9; 16])
    );
    // New identities replace the upgraded ones in place.
    s.put_pseudonym(PseudonymRecord {
        username: "p-d".into(),
        imsi: imsi(1),
        method: AkaMethod::Aka,
        expires_at: now + 600,
    })
    .await
    .unwrap();
    assert!(s.pseudonym("p-c", now).await.unwrap().is_none());
    assert!(s.pseudonym("p-d", now).await.unwrap().is_some());
    assert!(s.pseudonym("p-prime", now).await.unwrap().is_some());
}

/// Subscriber `n` of [`concurrent_misses_load_in_batches`]: 0, 1 or 2 APN profiles and an
/// MSISDN of its own, so that rows attributed to the wrong subscriber show.
fn varied(n: u64) -> Provision {
    let mut p = prov(n);
    let prof = &mut p.subscriber.profile;
    prof.msisdn = Some(format!("1555{n:07}"));
    prof.apns = match n % 3 {
        0 => Vec::new(),
        1 => ApnProfile::parse_list("apns", &format!("a{n}=dynamic")).unwrap(),
        _ => ApnProfile::parse_list("apns", &format!("a{n}=gw:192.0.2.{};b{n}=dynamic", n % 250))
            .unwrap(),
    };
    prof.default_apn = None;
    p
}

/// Cache misses that arrive together are answered by the batched loader: every caller
/// gets its own subscriber with its own APN profiles, an unknown IMSI gets None, and a
/// batch larger than the largest statement shape (64) is split.
async fn concurrent_misses_load_in_batches(url: &str) {
    let opts = StoreOptions {
        cache_ttl: None,
        ..StoreOptions::default()
    };
    let s = Store::open_with(url, opts).await.unwrap();
    let known: Vec<Provision> = (1..=150).map(varied).collect();
    s.write_subscribers(&known, WriteMode::Add).await.unwrap();

    // 400 concurrent lookups: 150 known IMSIs twice, 100 unknown ones.
    let mut tasks = Vec::new();
    for n in (1..=150).chain(1..=150).chain(1001..=1100) {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            (n, s.subscriber(&imsi(n)).await.unwrap())
        }));
    }
    for t in tasks {
        let (n, got) = t.await.unwrap();
        if n <= 150 {
            let got = got.unwrap_or_else(|| panic!("subscriber {n} not loaded"));
            assert_eq!(got.subscriber.imsi, imsi(n));
            assert_eq!(
                got.subscriber.profile,
                varied(n).subscriber.profile,
                "subscriber {n}"
            );
        } else {
            assert!(got.is_none(), "unknown IMSI {n} loaded");
        }
    }

    // The back end's batch directly: 100 IMSIs (two statements), with repeats and unknowns.
    let ids: Vec<String> = (1..=80)
        .chain(1..=5)
        .chain(2001..=2015)
        .map(|n| imsi(n).as_str().to_owned())
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let got = s.backend().load_subscribers(&refs).await.unwrap();
    assert_eq!(got.len(), 80, "each known subscriber once");
    let mut seen = HashSet::new();
    for g in &got {
        let n: u64 = g.subscriber.imsi.as_str()[5..].parse().unwrap();
        assert!(seen.insert(n), "subscriber {n} twice");
        assert_eq!(
            g.subscriber.profile,
            varied(n).subscriber.profile,
            "subscriber {n}"
        );
    }
    assert!(s.backend().load_subscribers(&[]).await.unwrap().is_empty());
}
