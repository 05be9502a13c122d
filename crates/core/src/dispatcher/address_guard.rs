//! The SSRF guard: webhook requests may not reach this machine, the private network, or cloud
//! metadata. Checked on the address actually connected to: names go through `GuardedResolver`,
//! IP-literal URLs through `forbidden_literal`.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;

/// Off limits: the rule is the domain's, so a URL that can only point there is refused when it
/// is saved too (`WebhookUrl`); here it is applied to the address actually connected to.
pub use crate::domain::{forbidden_literal, is_forbidden};

/// Raised when every address of a name is forbidden; `send` reports it as `blocked`.
#[derive(Debug, thiserror::Error)]
#[error("blocked by the SSRF guard: {0} resolves only to private or reserved addresses")]
pub struct Blocked(pub String);

/// Resolves with the system resolver and drops forbidden addresses.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                addrs.into_iter().filter(|a| !is_forbidden(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(Blocked(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::1",
            "2001:0:4136:e378::1",
            "fec0::1",
            "100::1",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip} should be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in ["93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111"]
        {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip} should be allowed");
        }
    }

    #[test]
    fn ip_literal_urls_are_checked() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(forbidden_literal(&url("https://127.0.0.1:8443/h")).is_some());
        assert!(forbidden_literal(&url("https://[::1]/h")).is_some());
        assert!(forbidden_literal(&url("https://example.com/h")).is_none());
        assert!(forbidden_literal(&url("https://1.1.1.1/h")).is_none());
    }
}
