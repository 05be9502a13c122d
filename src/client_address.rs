//! Who the client is, by network address, for the throttles: the connection's own address,
//! unless it is one of the operator's proxies (`VOICY_TRUSTED_PROXIES`). Then the client is the
//! rightmost address in `X-Forwarded-For` (or, without one, `Forwarded`) that is not itself a
//! trusted proxy: each proxy appends the address it was connected from, so everything to the left
//! of the first untrusted hop may have been written by the client and is not believed.

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use voicy_core::auth::ClientAddress;

/// The proxies whose forwarding headers are believed. Empty (the default): none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    /// Addresses or CIDRs separated by commas: `10.0.0.0/8, 192.0.2.7, fd00::/8`.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let nets = value
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| "expected addresses or CIDRs separated by commas, e.g. 10.0.0.0/8, 192.0.2.7")
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(Arc::new(nets)))
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind a connection from `peer` that sent `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return canonical(peer);
        }
        let hops = forwarded_hops(headers);
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) if self.contains(*ip) => continue,
                Some(ip) => return canonical(*ip),
                // `unknown` or an obfuscated name: the client cannot be told; the proxy stands in.
                None => return canonical(peer),
            }
        }
        // Every hop is a trusted proxy: the leftmost is the nearest to the client that is known.
        hops.first().copied().flatten().map_or(canonical(peer), canonical)
    }
}

/// An IPv4 address written as IPv6 (`::ffff:203.0.113.7`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The hops the forwarding headers list, left (the client's end) to right; `None` for one that
/// is not an address. `X-Forwarded-For` when present (what common proxies append to), else
/// `Forwarded` (RFC 7239).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    let xff: Vec<&str> = values("x-forwarded-for").flat_map(|v| v.split(',')).collect();
    if !xff.is_empty() {
        return xff.into_iter().map(address).collect();
    }
    values("forwarded")
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| address(value))
            })
        })
        .collect()
}

/// `203.0.113.7`, `203.0.113.7:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[')?.split(']').next()?.parse().ok()
}

/// Puts the request's `ClientAddress` among its extensions, for the throttles.
pub async fn identify(
    axum::extract::State(trusted): axum::extract::State<TrustedProxies>, mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = trusted.client(peer, request.headers());
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_connection_are_ignored() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let sent = headers(&[("x-forwarded-for", "198.51.100.9")]);
        assert_eq!(proxies.client(ip("203.0.113.7"), &sent), ip("203.0.113.7"));
        assert_eq!(TrustedProxies::default().client(ip("10.0.0.1"), &sent), ip("10.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_and_a_forged_left_part_is_not_believed() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        let sent = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 192.0.2.7")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &sent), ip("203.0.113.7"));
        let two_headers =
            headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.8")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &two_headers), ip("203.0.113.8"));
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let sent = headers(&[(
            "forwarded",
            r#"for=1.1.1.1, for="[2001:db8::7]:4711";proto=https, for=10.0.0.3"#,
        )]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &sent), ip("2001:db8::7"));
        let with_port = headers(&[("forwarded", "for=203.0.113.7:4711")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &with_port), ip("203.0.113.7"));
    }

    #[test]
    fn an_unknown_hop_leaves_the_proxy_as_the_client_and_all_trusted_the_leftmost() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &unknown), ip("10.0.0.1"));
        let all = headers(&[("x-forwarded-for", "10.1.1.1, 10.2.2.2")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &all), ip("10.1.1.1"));
        let none = HeaderMap::new();
        assert_eq!(proxies.client(ip("10.0.0.1"), &none), ip("10.0.0.1"));
    }

    #[test]
    fn a_list_that_is_not_addresses_is_refused_and_a_mapped_ipv4_peer_is_ipv4() {
        assert!(TrustedProxies::parse("10.0.0.0/8, proxy.internal").is_err());
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let sent = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(proxies.client(ip("::ffff:127.0.0.1"), &sent), ip("203.0.113.7"));
    }
}
