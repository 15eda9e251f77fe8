//! What the host and enclave processes both do at start: JSON logs on stderr (level from
//! `RUST_LOG`, default info), a multi-threaded runtime, and errors rendered with their
//! whole chain of causes.

/// JSON log lines on stderr.
pub fn init_json_logs() {
    init_json_logs_to(std::io::stderr);
}

/// JSON log lines, one per `make_writer` (the enclave's go to the host, see its
/// `log_shipping`).
pub fn init_json_logs_to<W>(writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_writer(writer)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
}

/// The runtime both processes run on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// `error: cause: cause...`
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
