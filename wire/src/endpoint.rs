//! Where a channel listens or connects: vsock in production, TCP or a Unix socket locally.
//! One string form for configs and flags: `vsock:CID:PORT`, `tcp:IP:PORT`, `unix:PATH`.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::WireError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// AF_VSOCK: the enclave's context id (or the parent's, 3) and a port.
    Vsock { cid: u32, port: u32 },
    /// TCP, for local runs and tests; an IP address, never a name to resolve.
    Tcp(SocketAddr),
    /// A Unix stream socket path.
    Unix(PathBuf),
}

impl FromStr for Endpoint {
    type Err = WireError;

    fn from_str(text: &str) -> Result<Self, WireError> {
        let bad = |why: &str| WireError::Endpoint {
            text: text.to_owned(),
            why: why.to_owned(),
        };
        let (scheme, rest) = text
            .split_once(':')
            .ok_or_else(|| bad("expected vsock:CID:PORT, tcp:IP:PORT or unix:PATH"))?;
        match scheme {
            "vsock" => {
                let (cid, port) = rest
                    .split_once(':')
                    .ok_or_else(|| bad("expected vsock:CID:PORT"))?;
                let cid = cid.parse().map_err(|_| bad("the CID is not a u32"))?;
                let port = port.parse().map_err(|_| bad("the port is not a u32"))?;
                Ok(Endpoint::Vsock { cid, port })
            }
            "tcp" => rest
                .parse()
                .map(Endpoint::Tcp)
                .map_err(|_| bad("expected tcp:IP:PORT with an IP address")),
            "unix" if !rest.is_empty() => Ok(Endpoint::Unix(PathBuf::from(rest))),
            "unix" => Err(bad("the socket path is empty")),
            _ => Err(bad("unknown scheme (vsock, tcp or unix)")),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Vsock { cid, port } => write!(f, "vsock:{cid}:{port}"),
            Endpoint::Tcp(addr) => write!(f, "tcp:{addr}"),
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

impl serde::Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Endpoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
