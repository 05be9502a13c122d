//! Which network addresses webhooks may never be sent to: this machine, the private network,
//! cloud metadata. The dispatcher checks the address it connects to (`src/dispatcher/guard.rs`);
//! `WebhookUrl` refuses a URL whose host can only be such an address when it is saved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether an address is off limits: loopback, private, link-local (cloud metadata included),
/// CGNAT, multicast, unspecified, broadcast, reserved, and IPv6 forms that embed such an IPv4.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16: 169.254.169.254 is the metadata service
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let segments = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7 (AWS metadata fd00:ec2::254)
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] == 0x64 && segments[1] == 0xff9b) // NAT64: embeds an IPv4 address
        || segments[0] == 0x2001 && segments[1] == 0x0db8 // documentation
        || segments[0] == 0x2002 // 6to4: embeds an IPv4 address
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo: embeds an IPv4 address
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || segments[..4] == [0x100, 0, 0, 0] // discard-only 100::/64
        || (segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

/// An IP-literal host that is forbidden (such hosts never go through a resolver).
pub fn forbidden_literal(url: &url::Url) -> Option<IpAddr> {
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    is_forbidden(ip).then_some(ip)
}
