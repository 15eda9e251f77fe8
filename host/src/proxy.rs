//! The host's two byte proxies. Neither terminates TLS or looks at the bytes: the API's TLS
//! ends inside the enclave, and so does the enclave's TLS to Lit nodes and RPC endpoints.
//!
//! - Ingress: clients connect to the host's public TCP port; each connection is joined to a
//!   new connection to the enclave's ingress endpoint.
//! - Egress: the enclave connects to the host's egress endpoint and names `host:port` in a
//!   first frame ([`EgressRequest`]); the host connects only if that exact `host:port` is on
//!   its allowlist, answers [`EgressReply`], and then copies bytes.

use std::collections::BTreeSet;
use std::sync::Arc;

use aip_wire::control::{receive, send};
use aip_wire::egress::{EgressReply, EgressRequest, EGRESS_FRAME_CAP};
use aip_wire::{Endpoint, Listener, Stream, WireError};
use tokio::net::{TcpListener, TcpStream};

use crate::metrics::{HostMetrics, OpLabels};

/// Exact `host:port` entries the enclave may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressAllowlist(BTreeSet<String>);

impl EgressAllowlist {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(entries: I) -> Self {
        Self(entries.into_iter().map(Into::into).collect())
    }

    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.0.contains(&format!("{host}:{port}"))
    }
}

/// Joins every client connection on `public` to a new connection to the enclave.
pub async fn serve_ingress(
    public: TcpListener,
    enclave: Endpoint,
    metrics: Arc<HostMetrics>,
) -> Result<(), WireError> {
    loop {
        let (mut client, peer) = public.accept().await?;
        metrics.ingress_connections.inc();
        let enclave = enclave.clone();
        tokio::spawn(async move {
            let outcome = async {
                client.set_nodelay(true)?;
                let mut inside = Stream::connect(&enclave).await?;
                tokio::io::copy_bidirectional(&mut client, &mut inside).await?;
                Ok::<_, WireError>(())
            }
            .await;
            if let Err(error) = outcome {
                tracing::info!(%peer, %error, "ingress connection ended");
            }
        });
    }
}

/// Serves the enclave's egress requests on `listener`.
pub async fn serve_egress(
    listener: Listener,
    allowlist: Arc<EgressAllowlist>,
    metrics: Arc<HostMetrics>,
) -> Result<(), WireError> {
    loop {
        let (stream, _) = listener.accept().await?;
        let allowlist = Arc::clone(&allowlist);
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            if let Err(error) = egress_connection(stream, &allowlist, &metrics).await {
                tracing::info!(%error, "egress connection ended");
            }
        });
    }
}

async fn egress_connection(
    mut enclave: Stream,
    allowlist: &EgressAllowlist,
    metrics: &HostMetrics,
) -> Result<(), WireError> {
    let Some(request) = receive::<_, EgressRequest>(&mut enclave, EGRESS_FRAME_CAP).await? else {
        return Ok(());
    };
    let count = |target: &str, outcome: &str| {
        metrics
            .egress
            .get_or_create(&OpLabels {
                op: target.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    };
    if !allowlist.allows(&request.host, request.port) {
        // Refused targets are not labelled by name: the label set stays bounded.
        count("not_allowed", "refused");
        tracing::warn!(host = %request.host, port = request.port, "egress refused: not on the allowlist");
        let reason = format!(
            "{}:{} is not on the host's egress allowlist",
            request.host, request.port
        );
        return send(
            &mut enclave,
            &EgressReply::Refused { reason },
            EGRESS_FRAME_CAP,
        )
        .await;
    }
    let mut target = match TcpStream::connect((request.host.as_str(), request.port)).await {
        Ok(target) => target,
        Err(error) => {
            count(
                &format!("{}:{}", request.host, request.port),
                "connect_failed",
            );
            let reason = format!("connecting to {}:{}: {error}", request.host, request.port);
            return send(
                &mut enclave,
                &EgressReply::Refused { reason },
                EGRESS_FRAME_CAP,
            )
            .await;
        }
    };
    target.set_nodelay(true)?;
    count(&format!("{}:{}", request.host, request.port), "connected");
    send(&mut enclave, &EgressReply::Connected, EGRESS_FRAME_CAP).await?;
    tokio::io::copy_bidirectional(&mut enclave, &mut target).await?;
    Ok(())
}
