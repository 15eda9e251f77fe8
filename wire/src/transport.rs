//! Connecting and listening on an [`Endpoint`], with one stream type above the transport so
//! the host and the enclave run the same code over vsock, TCP and Unix sockets.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio_vsock::{VsockAddr, VsockListener, VsockStream};

use crate::endpoint::Endpoint;
use crate::error::WireError;

/// A connected byte stream on any transport.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Vsock(VsockStream),
}

impl Stream {
    pub async fn connect(endpoint: &Endpoint) -> Result<Stream, WireError> {
        Ok(match endpoint {
            Endpoint::Tcp(addr) => {
                let stream = TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                Stream::Tcp(stream)
            }
            Endpoint::Unix(path) => Stream::Unix(UnixStream::connect(path).await?),
            Endpoint::Vsock { cid, port } => {
                Stream::Vsock(VsockStream::connect(VsockAddr::new(*cid, *port)).await?)
            }
        })
    }
}

macro_rules! each_transport {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Tcp($s) => $e,
            Stream::Unix($s) => $e,
            Stream::Vsock($s) => $e,
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        each_transport!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        // Never hand the transport more than a chunk at once (the vsock bug; see frame.rs).
        let buf = &buf[..buf.len().min(crate::frame::MAX_WRITE_CHUNK)];
        each_transport!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        each_transport!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        each_transport!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

/// A listening socket on any transport.
#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
    Vsock(VsockListener),
}

impl Listener {
    /// Binds the endpoint. A Unix socket path left by an earlier run is replaced only if it
    /// is a socket; any other file there is an error.
    pub async fn bind(endpoint: &Endpoint) -> Result<Listener, WireError> {
        Ok(match endpoint {
            Endpoint::Tcp(addr) => Listener::Tcp(TcpListener::bind(addr).await?),
            Endpoint::Unix(path) => {
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    use std::os::unix::fs::FileTypeExt;
                    if !meta.file_type().is_socket() {
                        return Err(WireError::Endpoint {
                            text: endpoint.to_string(),
                            why: "the path exists and is not a socket".into(),
                        });
                    }
                    std::fs::remove_file(path)?;
                }
                Listener::Unix(UnixListener::bind(path)?)
            }
            Endpoint::Vsock { cid, port } => {
                Listener::Vsock(VsockListener::bind(VsockAddr::new(*cid, *port))?)
            }
        })
    }

    /// The bound endpoint (with the actual port when bound to port 0).
    pub fn local_endpoint(&self) -> Result<Endpoint, WireError> {
        Ok(match self {
            Listener::Tcp(l) => Endpoint::Tcp(l.local_addr()?),
            Listener::Unix(l) => {
                let addr = l.local_addr()?;
                let path = addr.as_pathname().ok_or_else(|| WireError::Endpoint {
                    text: format!("{addr:?}"),
                    why: "an unnamed Unix socket".into(),
                })?;
                Endpoint::Unix(path.to_path_buf())
            }
            Listener::Vsock(l) => {
                let addr = l.local_addr()?;
                Endpoint::Vsock {
                    cid: addr.cid(),
                    port: addr.port(),
                }
            }
        })
    }

    /// The next connection and a printable peer address.
    pub async fn accept(&self) -> Result<(Stream, String), WireError> {
        Ok(match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.accept().await?;
                s.set_nodelay(true)?;
                (Stream::Tcp(s), peer.to_string())
            }
            Listener::Unix(l) => {
                let (s, _) = l.accept().await?;
                (Stream::Unix(s), "unix".to_owned())
            }
            Listener::Vsock(l) => {
                let (s, peer) = l.accept().await?;
                (
                    Stream::Vsock(s),
                    format!("vsock:{}:{}", peer.cid(), peer.port()),
                )
            }
        })
    }
}
