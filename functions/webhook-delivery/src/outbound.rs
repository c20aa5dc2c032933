//! The outbound address guard: webhook URLs are customer input, so without it a
//! customer could make the platform call its own private network or the cloud metadata
//! service (server-side request forgery).
//!
//! The check that matters happens at connect time, inside the HTTP client's DNS
//! resolver ([`GuardedResolver`]): the addresses checked are the addresses connected to,
//! so a name that resolves to a public address at registration and to a private one at
//! delivery (DNS rebinding) is still refused. [`check_url`] at registration only gives
//! the customer an early, clear answer.
//!
//! One gap the resolver cannot close: the HTTP client does not resolve a URL whose host
//! is an IP literal (`https://10.0.0.1/`), it connects straight to it. The dispatcher
//! must therefore call [`OutboundPolicy::check_literal`] (or [`literal_ip`]) before every
//! send; [`check_url`] alone is not enough, since a stored URL may predate a rule.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// IPv4 ranges no delivery may reach: not globally routable, or routable only inside
/// the network the platform runs in.
const FORBIDDEN_V4: &[(Ipv4Addr, u32)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", incl. 0.0.0.0
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private (RFC 1918)
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // carrier-grade NAT (RFC 6598)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local, incl. 169.254.169.254 (metadata)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private (RFC 1918)
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments (DS-Lite, NAT64 discovery)
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast (deprecated)
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private (RFC 1918)
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, incl. 255.255.255.255 (broadcast)
];

/// IPv6 ranges refused outright. Everything outside 2000::/3 (global unicast) is refused
/// as well, which already covers ::, ::1, fc00::/7, fe80::/10 and ff00::/8; they are
/// listed anyway so the table reads as the policy.
const FORBIDDEN_V6: &[(Ipv6Addr, u32)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128), // unspecified
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128), // loopback
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use NAT64 (RFC 8215)
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard-only
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32), // Teredo: hides an IPv4 behind a tunnel
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48), // benchmarking
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation (RFC 9637)
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique local, incl. fd00:ec2::254 (AWS metadata)
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local (deprecated)
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
];

/// Whether no delivery may connect to `ip`, whatever the configuration.
///
/// IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, translated
/// `::ffff:0:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
/// are judged by that IPv4 address, since that is where the packets end up.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_forbidden(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => v4_forbidden(v4),
            None => v6_forbidden(v6),
        },
    }
}

fn v4_forbidden(ip: Ipv4Addr) -> bool {
    let bits = ip.to_bits();
    FORBIDDEN_V4.iter().any(|&(net, len)| {
        let mask = u32::MAX << (32 - len);
        bits & mask == net.to_bits()
    })
}

fn v6_forbidden(ip: Ipv6Addr) -> bool {
    let bits = ip.to_bits();
    let global_unicast = bits >> 125 == 0b001;
    !global_unicast
        || FORBIDDEN_V6.iter().any(|&(net, len)| {
            let mask = u128::MAX << (128 - len);
            bits & mask == net.to_bits()
        })
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = ip.to_bits();
    let low32 = Ipv4Addr::from_bits(bits as u32);
    match bits >> 32 {
        0xffff | 0xffff_0000 | 0 => return Some(low32),
        0x0064_ff9b_0000_0000_0000_0000 => return Some(low32),
        _ => {}
    }
    if bits >> 112 == 0x2002 {
        return Some(Ipv4Addr::from_bits((bits >> 80) as u32));
    }
    None
}

/// What deployment allows beyond the fixed rules. The default is production's: nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Local work and tests deliver to receivers on this machine. Only loopback is
    /// opened: private, link-local and metadata addresses stay refused everywhere.
    pub allow_loopback: bool,
    /// Accept `http://` URLs at registration (local receivers have no certificate).
    pub allow_http: bool,
    /// Tests that let a fuzzer choose endpoint URLs: nothing leaves this machine. Only
    /// loopback addresses are allowed, and no name but `localhost` is even looked up
    /// (a lookup is itself traffic to the resolver); other names count as not resolving.
    pub only_loopback: bool,
}

impl OutboundPolicy {
    /// Whether a delivery may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let loopback = ip.to_canonical().is_loopback();
        if self.only_loopback {
            return loopback;
        }
        !is_forbidden(ip) || (self.allow_loopback && loopback)
    }

    /// Whether `host` (a name, not an address) may be sent to the resolver.
    pub fn may_look_up(&self, host: &str) -> bool {
        !self.only_loopback || host.eq_ignore_ascii_case("localhost")
    }

    /// Refuses a URL whose host is a forbidden IP literal. The resolver never sees such
    /// hosts, so the dispatcher calls this before every send.
    pub fn check_literal(&self, url: &Url) -> Result<(), RefusedAddress> {
        match literal_ip(url) {
            Some(ip) if !self.allows(ip) => Err(RefusedAddress {
                host: ip.to_string(),
                addresses: vec![ip],
            }),
            _ => Ok(()),
        }
    }
}

/// The host of `url` when it is an IP literal (after URL normalisation, so
/// `http://2130706433/` and `http://0x7f.1/` are `127.0.0.1`). The HTTP client connects
/// to such hosts without asking the resolver, so they must be checked separately.
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    // `host_str` brackets IPv6 literals. A domain never parses as an address: the URL
    // parser has already turned anything address-shaped into an address.
    let host = url.host_str()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}

/// A connection refused because every address of the host is forbidden. Its message
/// starts with `refused address` and [`is_refused`] finds it in an error chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAddress {
    pub host: String,
    pub addresses: Vec<IpAddr>,
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refused address: {} resolves only to addresses deliveries may not reach (",
            self.host
        )?;
        for (i, ip) in self.addresses.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{ip}")?;
        }
        f.write_str(")")
    }
}

impl StdError for RefusedAddress {}

/// Whether `err` or anything in its `source()` chain is a [`RefusedAddress`].
pub fn is_refused(err: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if err.is::<RefusedAddress>() {
            return true;
        }
        current = err.source();
    }
    false
}

/// Name resolution, behind a trait so tests can answer what they like (and change the
/// answer between calls, as a rebinding attacker would).
pub trait Lookup: Send + Sync {
    /// Every address `host` resolves to; the guard filters them.
    fn lookup(&self, host: &str) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send;
}

/// The operating system's resolver (getaddrinfo on a blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let found = tokio::net::lookup_host((host, 0)).await?;
        Ok(found.map(|addr| addr.ip()).collect())
    }
}

/// A `reqwest` resolver that hands the client only the addresses the policy allows, and
/// fails with [`RefusedAddress`] when none remain, before any connection is attempted.
pub struct GuardedResolver<L> {
    policy: OutboundPolicy,
    lookup: Arc<L>,
}

impl<L: Lookup> GuardedResolver<L> {
    /// Guards `lookup` with `policy`; hand the result to `ClientBuilder::dns_resolver`.
    pub fn new(policy: OutboundPolicy, lookup: L) -> Self {
        Self {
            policy,
            lookup: Arc::new(lookup),
        }
    }
}

impl<L: Lookup + 'static> Resolve for GuardedResolver<L> {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let lookup = Arc::clone(&self.lookup);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if !policy.may_look_up(&host) {
                return Err(RefusedAddress {
                    host,
                    addresses: Vec::new(),
                }
                .into());
            }
            let found = lookup.lookup(&host).await?;
            if found.is_empty() {
                return Err(io::Error::new(io::ErrorKind::NotFound, "no addresses").into());
            }
            let (allowed, refused): (Vec<IpAddr>, Vec<IpAddr>) =
                found.into_iter().partition(|ip| policy.allows(*ip));
            if allowed.is_empty() {
                return Err(RefusedAddress {
                    host,
                    addresses: refused,
                }
                .into());
            }
            // Port 0: the client puts in the URL's port.
            let addrs: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// Per-request timeout for deliveries (roadmap: 30 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The delivery client: guarded resolver, no proxy (a proxy would be resolved instead
/// of the target, bypassing the guard), no redirects (a 3xx is a failed attempt, and
/// following it would reach a URL nobody checked), 30 s timeout.
pub fn client_builder<L: Lookup + 'static>(
    policy: OutboundPolicy,
    lookup: L,
) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(GuardedResolver::new(policy, lookup))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
}

/// Longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why an endpoint URL was refused at registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("the URL does not parse: {0}")]
    Unparseable(String),
    #[error("the URL must use https")]
    Scheme,
    #[error("the URL may not contain a user name or password")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL points at {0}, which deliveries may not reach")]
    ForbiddenAddress(IpAddr),
}

/// Checks an endpoint URL at registration and returns it normalised (store that form).
///
/// Host names are not resolved here: the answer could change before delivery, so the
/// guarded resolver decides at connect time.
pub fn check_url(text: &str, policy: OutboundPolicy) -> Result<Url, UrlRefusal> {
    if text.chars().count() > MAX_URL_LEN {
        return Err(UrlRefusal::TooLong);
    }
    let url = Url::parse(text).map_err(|e| UrlRefusal::Unparseable(e.to_string()))?;
    // Normalisation percent-encodes, so the stored form can be longer than the input.
    if url.as_str().len() > MAX_URL_LEN {
        return Err(UrlRefusal::TooLong);
    }
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        _ => return Err(UrlRefusal::Scheme),
    }
    // Credentials in the URL would be sent with every delivery and shown in every log.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefusal::Credentials);
    }
    // The parser already refuses host-less http(s) URLs; checked again so a parser
    // change cannot quietly let one through.
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlRefusal::NoHost);
    }
    match literal_ip(&url) {
        Some(ip) if !policy.allows(ip) => Err(UrlRefusal::ForbiddenAddress(ip)),
        _ => Ok(url),
    }
}

/// [`check_url`], then what the host resolves to now: refused when every address is
/// one deliveries may not reach (the registration-time answer a customer sees at once;
/// the connect-time guard still decides every delivery, since DNS answers change). A
/// name that does not resolve is accepted: its deliveries fail until it does.
pub async fn check_registration(
    text: &str,
    policy: OutboundPolicy,
    lookup: &impl Lookup,
) -> Result<Url, UrlRefusal> {
    let url = check_url(text, policy)?;
    if literal_ip(&url).is_some() {
        return Ok(url);
    }
    let Some(host) = url.host_str() else {
        return Err(UrlRefusal::NoHost);
    };
    if !policy.may_look_up(host) {
        return Ok(url);
    }
    match lookup.lookup(host).await {
        Ok(addresses)
            if !addresses.is_empty() && !addresses.iter().any(|ip| policy.allows(*ip)) =>
        {
            Err(UrlRefusal::ForbiddenAddress(addresses[0]))
        }
        _ => Ok(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const LOCAL: OutboundPolicy = OutboundPolicy {
        allow_loopback: true,
        allow_http: true,
        only_loopback: false,
    };
    const STRICT: OutboundPolicy = OutboundPolicy {
        allow_loopback: false,
        allow_http: false,
        only_loopback: false,
    };

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forbidden_ipv4_addresses_are_refused() {
        for text in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.170",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_forbidden(ip(text)), "{text} should be forbidden");
        }
    }

    #[test]
    fn forbidden_ipv6_addresses_are_refused() {
        for text in [
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "2001:2::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "64:ff9b:1::a00:1",
            "4000::1",
        ] {
            assert!(is_forbidden(ip(text)), "{text} should be forbidden");
        }
    }

    #[test]
    fn ipv6_forms_that_embed_a_forbidden_ipv4_address_are_refused() {
        for text in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0:10.0.0.1",
            "::10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b::10.0.0.1",
            "2002:a9fe:a9fe::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
        ] {
            assert!(is_forbidden(ip(text)), "{text} should be forbidden");
        }
    }

    #[test]
    fn public_addresses_in_every_form_are_allowed() {
        for text in [
            "93.184.216.34",
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "2606:2800:220:1:248:1893:25c8:1946",
            "2a00:1450:4001:80b::200e",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            assert!(!is_forbidden(ip(text)), "{text} should be allowed");
            assert!(STRICT.allows(ip(text)), "{text} should be allowed");
        }
    }

    #[test]
    fn allowing_loopback_opens_loopback_and_nothing_else() {
        for text in ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"] {
            assert!(LOCAL.allows(ip(text)), "{text}");
            assert!(!STRICT.allows(ip(text)), "{text}");
        }
        for text in [
            "10.0.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "fd00:ec2::254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "64:ff9b::7f00:1",
        ] {
            assert!(!LOCAL.allows(ip(text)), "{text}");
        }
    }

    /// Answers from a script, one answer per call, repeating the last; counts calls.
    struct ScriptedLookup {
        answers: Mutex<VecDeque<io::Result<Vec<IpAddr>>>>,
        calls: Arc<AtomicUsize>,
    }

    impl ScriptedLookup {
        fn new(answers: Vec<Vec<&str>>) -> (Self, Arc<AtomicUsize>) {
            let calls = Arc::new(AtomicUsize::new(0));
            let answers = answers
                .into_iter()
                .map(|a| Ok(a.into_iter().map(ip).collect()))
                .collect();
            let lookup = Self {
                answers: Mutex::new(answers),
                calls: Arc::clone(&calls),
            };
            (lookup, calls)
        }

        fn failing(kind: io::ErrorKind) -> Self {
            Self {
                answers: Mutex::new(VecDeque::from([Err(io::Error::from(kind))])),
                calls: Arc::default(),
            }
        }
    }

    impl Lookup for ScriptedLookup {
        async fn lookup(&self, _host: &str) -> io::Result<Vec<IpAddr>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let mut answers = self.answers.lock().unwrap();
            if answers.len() > 1 {
                return answers.pop_front().unwrap();
            }
            match answers.front().unwrap() {
                Ok(ips) => Ok(ips.clone()),
                Err(e) => Err(io::Error::from(e.kind())),
            }
        }
    }

    async fn resolve<L: Lookup + 'static>(
        resolver: &GuardedResolver<L>,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn StdError + Send + Sync>> {
        let addrs = resolver.resolve(host.parse().unwrap()).await?;
        Ok(addrs.collect())
    }

    #[tokio::test]
    async fn a_name_that_rebinds_to_a_private_address_is_refused_on_the_second_lookup() {
        let (lookup, calls) = ScriptedLookup::new(vec![vec!["93.184.216.34"], vec!["10.0.0.1"]]);
        let resolver = GuardedResolver::new(STRICT, lookup);

        let first = resolve(&resolver, "rebind.test").await.unwrap();
        assert_eq!(first, vec![SocketAddr::new(ip("93.184.216.34"), 0)]);

        let second = resolve(&resolver, "rebind.test").await.unwrap_err();
        assert!(is_refused(&*second), "{second}");
        assert_eq!(
            second.to_string(),
            "refused address: rebind.test resolves only to addresses deliveries may not reach (10.0.0.1)"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn forbidden_answers_are_dropped_and_allowed_ones_kept() {
        let (lookup, _) = ScriptedLookup::new(vec![vec![
            "10.0.0.1",
            "93.184.216.34",
            "fd00:ec2::254",
            "2606:2800:220:1:248:1893:25c8:1946",
        ]]);
        let resolver = GuardedResolver::new(STRICT, lookup);
        let addrs = resolve(&resolver, "mixed.test").await.unwrap();
        assert_eq!(
            addrs,
            vec![
                SocketAddr::new(ip("93.184.216.34"), 0),
                SocketAddr::new(ip("2606:2800:220:1:248:1893:25c8:1946"), 0),
            ]
        );
    }

    #[tokio::test]
    async fn a_name_with_no_answer_fails_without_claiming_a_refusal() {
        let (lookup, _) = ScriptedLookup::new(vec![vec![]]);
        let resolver = GuardedResolver::new(STRICT, lookup);
        let err = resolve(&resolver, "empty.test").await.unwrap_err();
        assert!(!is_refused(&*err));

        let resolver =
            GuardedResolver::new(STRICT, ScriptedLookup::failing(io::ErrorKind::NotFound));
        let err = resolve(&resolver, "nxdomain.test").await.unwrap_err();
        assert!(!is_refused(&*err));
    }

    #[tokio::test]
    async fn the_system_resolver_is_guarded_too() {
        // localhost comes from /etc/hosts, no network needed.
        let err = resolve(&GuardedResolver::new(STRICT, SystemLookup), "localhost")
            .await
            .unwrap_err();
        assert!(is_refused(&*err), "{err}");

        let addrs = resolve(&GuardedResolver::new(LOCAL, SystemLookup), "localhost")
            .await
            .unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    #[tokio::test]
    async fn only_loopback_keeps_every_lookup_and_connection_on_this_machine() {
        let policy = OutboundPolicy {
            only_loopback: true,
            ..LOCAL
        };
        let (lookup, calls) = ScriptedLookup::new(vec![vec!["93.184.216.34"]]);
        let resolver = GuardedResolver::new(policy, lookup);
        let err = resolve(&resolver, "example.com").await.unwrap_err();
        assert!(is_refused(&*err), "{err}");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "the name was never looked up"
        );

        // Registration accepts an unknown name as it would one that does not resolve,
        // again without asking the resolver; a public literal is refused outright.
        let (lookup, calls) = ScriptedLookup::new(vec![vec!["93.184.216.34"]]);
        assert!(check_registration("https://example.com/h", policy, &lookup)
            .await
            .is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(matches!(
            check_registration("https://93.184.216.34/h", policy, &lookup).await,
            Err(UrlRefusal::ForbiddenAddress(_))
        ));
        assert!(policy.allows(ip("127.0.0.1")) && policy.allows(ip("::1")));
        let addrs = resolve(&GuardedResolver::new(policy, SystemLookup), "localhost")
            .await
            .unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    #[tokio::test]
    async fn the_client_refuses_a_private_answer_in_the_resolver_before_connecting() {
        let (lookup, calls) = ScriptedLookup::new(vec![vec!["10.0.0.1"]]);
        let client = client_builder(STRICT, lookup).build().unwrap();

        let err = client
            .post("http://rebind.test:8080/hook")
            .body("{}")
            .send()
            .await
            .unwrap_err();

        assert!(is_refused(&err), "{err:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// A loopback receiver answering 204 to each request; counts connections.
    async fn receiver() -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let _ = stream
                        .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        (port, connections)
    }

    #[tokio::test]
    async fn with_loopback_allowed_a_delivery_reaches_a_local_receiver() {
        let (port, connections) = receiver().await;
        let (lookup, _) = ScriptedLookup::new(vec![vec!["127.0.0.1"]]);
        let client = client_builder(LOCAL, lookup).build().unwrap();

        let response = client
            .post(format!("http://receiver.test:{port}/hook"))
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 204);
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn with_loopback_refused_the_local_receiver_never_sees_a_connection() {
        let (port, connections) = receiver().await;
        let (lookup, _) = ScriptedLookup::new(vec![vec!["127.0.0.1"]]);
        let client = client_builder(STRICT, lookup).build().unwrap();

        let err = client
            .post(format!("http://receiver.test:{port}/hook"))
            .send()
            .await
            .unwrap_err();

        assert!(is_refused(&err), "{err:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_ip_literal_url_bypasses_the_resolver_so_check_literal_must_refuse_it() {
        // Documents the client's behaviour this module works around: with the strict
        // policy, a literal loopback URL is still connected to, and the resolver is
        // never asked. (Loopback only: no traffic leaves the machine.)
        let (port, connections) = receiver().await;
        let (lookup, calls) = ScriptedLookup::new(vec![vec!["93.184.216.34"]]);
        let client = client_builder(STRICT, lookup).build().unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();

        let response = client.post(url.clone()).send().await.unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(connections.load(Ordering::SeqCst), 1);

        let refusal = STRICT.check_literal(&url).unwrap_err();
        assert!(refusal
            .to_string()
            .starts_with("refused address: 127.0.0.1"));
        assert_eq!(LOCAL.check_literal(&url), Ok(()));
        let named = Url::parse("https://example.com/hook").unwrap();
        assert_eq!(STRICT.check_literal(&named), Ok(()));
    }

    #[test]
    fn literal_ip_reads_normalised_hosts() {
        let cases = [
            ("https://10.0.0.1/x", Some("10.0.0.1")),
            ("https://[::ffff:10.0.0.1]/x", Some("::ffff:10.0.0.1")),
            ("https://2130706433/x", Some("127.0.0.1")),
            ("https://0x7f.1/x", Some("127.0.0.1")),
            ("https://example.com/x", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                literal_ip(&Url::parse(text).unwrap()),
                expected.map(ip),
                "{text}"
            );
        }
    }

    #[test]
    fn an_https_url_with_a_public_or_named_host_is_accepted_and_normalised() {
        let url = check_url("HTTPS://Example.COM:443/hooks?x=1", STRICT).unwrap();
        assert_eq!(url.as_str(), "https://example.com/hooks?x=1");
        assert!(check_url("https://93.184.216.34/h", STRICT).is_ok());
        assert!(check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/h", STRICT).is_ok());
    }

    #[test]
    fn plain_http_is_refused_unless_allowed_and_other_schemes_always() {
        assert_eq!(
            check_url("http://example.com/h", STRICT),
            Err(UrlRefusal::Scheme)
        );
        assert!(check_url("http://example.com/h", LOCAL).is_ok());
        for text in [
            "ftp://example.com/h",
            "file:///etc/passwd",
            "gopher://example.com/",
        ] {
            assert_eq!(check_url(text, LOCAL), Err(UrlRefusal::Scheme), "{text}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        for text in [
            "https://user@example.com/h",
            "https://user:pass@example.com/h",
            "https://:pass@example.com/h",
        ] {
            assert_eq!(
                check_url(text, STRICT),
                Err(UrlRefusal::Credentials),
                "{text}"
            );
        }
    }

    #[test]
    fn urls_over_2048_characters_are_refused() {
        let base = "https://example.com/";
        let fits = format!("{base}{}", "a".repeat(MAX_URL_LEN - base.len()));
        assert!(check_url(&fits, STRICT).is_ok());
        let over = format!("{fits}a");
        assert_eq!(check_url(&over, STRICT), Err(UrlRefusal::TooLong));
        // Short input that grows past the limit once percent-encoded (é is %C3%A9).
        let grows = format!("{base}{}", "é".repeat(1000));
        assert_eq!(check_url(&grows, STRICT), Err(UrlRefusal::TooLong));
    }

    #[test]
    fn unparseable_or_hostless_urls_are_refused() {
        for text in ["not a url", "https://", "https://:443/", "/relative"] {
            assert!(check_url(text, STRICT).is_err(), "{text}");
        }
    }

    #[test]
    fn ip_literal_hosts_are_checked_at_registration() {
        for (text, addr) in [
            (
                "https://169.254.169.254/latest/meta-data",
                "169.254.169.254",
            ),
            ("https://[::1]/h", "::1"),
            ("https://[::ffff:10.0.0.1]/h", "::ffff:10.0.0.1"),
            ("https://[fd00:ec2::254]/h", "fd00:ec2::254"),
            ("https://2130706433/h", "127.0.0.1"),
            ("https://0x7f.0.0.1/h", "127.0.0.1"),
            ("https://100.64.0.1/h", "100.64.0.1"),
        ] {
            assert_eq!(
                check_url(text, STRICT),
                Err(UrlRefusal::ForbiddenAddress(ip(addr))),
                "{text}"
            );
        }
        assert!(check_url("http://127.0.0.1:8080/h", LOCAL).is_ok());
        assert_eq!(
            check_url("http://10.0.0.1/h", LOCAL),
            Err(UrlRefusal::ForbiddenAddress(ip("10.0.0.1")))
        );
    }
}
