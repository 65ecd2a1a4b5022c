//! Where a webhook may post: only to the outside world. A destination's host must resolve to
//! global unicast addresses, checked when it is registered and again at every connection (so
//! a name that later resolves inward, DNS rebinding, is refused then). Loopback, private,
//! link-local, shared (100.64/10), unique-local, unspecified, multicast, documentation and
//! other special ranges are refused in any spelling the HTTP client would accept: an address
//! is judged after the URL parser has read it (`2130706433`, `0x7f.1` and `127.1` are all
//! 127.0.0.1), and IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4)
//! are judged by it. Credentials in the URL are refused.
//!
//! An operator opens internal receivers by host name or CIDR with `KEPUASAN_WEBHOOK_ALLOW`
//! ([`Allow`]), as Gitea's webhook allow list does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use ipnet::IpNet;

/// The receivers an operator opened to webhooks despite the rules: host names (exact, any case)
/// and networks (CIDR, or one address). Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allow {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl Allow {
    /// Reads `KEPUASAN_WEBHOOK_ALLOW`: comma-separated host names, addresses and CIDRs.
    pub fn parse(text: &str) -> Result<Allow, String> {
        let mut allow = Allow::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                allow.nets.push(net);
            } else if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
                allow.nets.push(IpNet::from(ip));
            } else if entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                allow.hosts.push(entry.to_ascii_lowercase());
            } else {
                return Err(format!(
                    "KEPUASAN_WEBHOOK_ALLOW: `{entry}` is neither a host name nor an address or CIDR"
                ));
            }
        }
        Ok(allow)
    }

    fn host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    fn ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

/// An IPv4 address written as IPv6 (mapped `::ffff:a.b.c.d`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether an IPv4 address is global unicast: none of the special-purpose ranges of RFC 6890
/// and its successors.
fn global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network", and 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

/// Whether an IPv6 address is global unicast: inside 2000::/3, outside its special ranges, and
/// judged by the IPv4 address it carries when it carries one.
fn global_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return global_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96): the IPv4 address.
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return false; // ::, ::1 and the compatible forms: nothing to post to
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return global_v4(embedded(s[6], s[7]));
    }
    // 6to4 (2002::/16) carries its IPv4 address in the second and third groups.
    if s[0] == 0x2002 {
        return global_v4(embedded(s[1], s[2]));
    }
    (s[0] & 0xe000) == 0x2000 // global unicast 2000::/3 ...
        && !(s[0] == 0x2001 && s[1] < 0x0200) // ... but IETF protocol assignments (Teredo, ORCHID)
        && !(s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        && (s[0] & 0xfff0) != 0x3ff0 // documentation 3fff::/20
}

/// Whether a webhook may post to this address: global unicast, or allowed by the operator.
pub fn reachable(ip: IpAddr, allow: &Allow) -> bool {
    allow.ip(ip)
        || match canonical(ip) {
            IpAddr::V4(v4) => global_v4(v4),
            IpAddr::V6(v6) => global_v6(v6),
        }
}

/// Checks a webhook's http:// or https:// address as a person registers it: well formed, no
/// credentials, and its host allowed or resolving only to addresses [`reachable`] allows. The
/// error is a sentence for the `url` field.
pub fn check(url: &str, allow: &Allow) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a valid address: {e}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(
            "must not hold a user name or password; the secret signs every delivery".into(),
        );
    }
    // A host the operator opened is taken as it is; it need not resolve yet.
    if let Some(url::Host::Domain(name)) = parsed.host()
        && allow.host(name)
    {
        return Ok(());
    }
    addresses(&parsed, allow).map(|_| ())
}

/// The addresses a delivery to `url` may connect to: every one its host resolves to, each
/// [`reachable`]; an error naming why when any is not (a name that resolves both outward and
/// inward is refused whole).
pub fn addresses(url: &reqwest::Url, allow: &Allow) -> Result<Vec<SocketAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(443);
    let refused = |ip: IpAddr| {
        format!(
            "reaches {ip}, an address inside a private, local or special network; only the public internet is allowed unless the operator opens it (KEPUASAN_WEBHOOK_ALLOW)"
        )
    };
    match url.host() {
        None => Err("has no host".into()),
        Some(url::Host::Ipv4(ip)) => {
            let ip = IpAddr::V4(ip);
            if reachable(ip, allow) {
                Ok(vec![SocketAddr::new(ip, port)])
            } else {
                Err(refused(ip))
            }
        }
        Some(url::Host::Ipv6(ip)) => {
            let ip = IpAddr::V6(ip);
            if reachable(ip, allow) {
                Ok(vec![SocketAddr::new(ip, port)])
            } else {
                Err(refused(ip))
            }
        }
        Some(url::Host::Domain(name)) => resolve(name, port, allow),
    }
}

/// Resolves a host name and judges every address it gives; an allowed name is taken as it is.
pub fn resolve(name: &str, port: u16, allow: &Allow) -> Result<Vec<SocketAddr>, String> {
    let found: Vec<SocketAddr> = (name, port)
        .to_socket_addrs()
        .map_err(|_| format!("names the host `{name}`, which cannot be found"))?
        .collect();
    if found.is_empty() {
        return Err(format!("names the host `{name}`, which has no address"));
    }
    if allow.host(name) {
        return Ok(found);
    }
    match found.iter().find(|a| !reachable(a.ip(), allow)) {
        Some(inward) => Err(format!(
            "names the host `{name}`, which reaches {}, an address inside a private, local or special network; only the public internet is allowed unless the operator opens it (KEPUASAN_WEBHOOK_ALLOW)",
            inward.ip()
        )),
        None => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inward_address_is_refused_in_any_spelling() {
        let none = Allow::default();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1/",
            "http://localhost:5432/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://0/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://017700000001/",
            "http://[::1]/",
            "http://[::]/",
            "http://[fd00::1]/",
            "http://[fc00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::10.0.0.1]/",
            "http://[2002:c0a8:0101::1]/",
            "http://[2001:db8::1]/",
            "http://[ff02::1]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://192.0.2.10/",
            "http://198.51.100.7/",
            "http://203.0.113.9/",
            "http://198.18.0.1/",
        ] {
            assert!(check(url, &none).is_err(), "{url} was let through");
        }
    }

    #[test]
    fn public_addresses_pass_and_credentials_never_do() {
        let none = Allow::default();
        for url in [
            "https://1.1.1.1/hook",
            "http://8.8.8.8:8080/x",
            "https://[2606:4700:4700::1111]/",
            "http://[64:ff9b::8.8.8.8]/",
            "http://[2002:0808:0808::1]/",
        ] {
            assert_eq!(check(url, &none), Ok(()), "{url}");
        }
        assert!(check("https://user:secret@1.1.1.1/", &none).is_err());
        assert!(check("https://user@1.1.1.1/", &none).is_err());
    }

    #[test]
    fn the_operator_opens_receivers_by_host_or_network() {
        let allow = Allow::parse("10.20.0.0/16, 127.0.0.1,localhost, [::1]").unwrap();
        assert_eq!(check("http://10.20.3.4/x", &allow), Ok(()));
        assert!(check("http://10.21.3.4/x", &allow).is_err());
        assert_eq!(check("http://127.0.0.1:9000/", &allow), Ok(()));
        assert_eq!(check("http://[::ffff:127.0.0.1]/", &allow), Ok(()));
        assert_eq!(check("http://[::1]/", &allow), Ok(()));
        assert_eq!(check("http://localhost:9000/", &allow), Ok(()));
        assert!(check("http://127.0.0.2/", &allow).is_err());
        assert!(Allow::parse("http://x/").is_err());
        assert_eq!(Allow::parse("").unwrap(), Allow::default());
    }
}
