//! Verification errors, one variant per failure class, so that operators can alert on each
//! class and the auditor CLI can exit with a distinct code per class.

use serde::Serialize;

/// The underlying cause of a failure, kept for `source()` chains.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The class of a verification failure. Stable: the CLI's exit codes and the metrics labels
/// are derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The bytes are not well-formed evidence (or carry something we do not understand).
    Malformed,
    /// A signature over the evidence or a certificate does not verify.
    Signature,
    /// The certificate chain does not lead to a pinned root, or violates X.509 rules.
    Chain,
    /// A certificate is not valid at the verification time.
    Expired,
    /// The measurement is in no allowed set of the policy.
    Measurement,
    /// The measurement matched only a policy entry that has expired.
    PolicyExpired,
    /// Debug evidence (all-zero PCRs, SNP debug policy bit) without `allow_debug`.
    Debug,
    /// The evidence does not carry the expected binding of keys and nonce.
    Binding,
    /// The evidence does not carry the expected nonce.
    Nonce,
    /// The binding does not commit to the configuration the matching policy entry pins.
    Config,
    /// The platform is below the entry's floor: an SEV-SNP TCB under `min_tcb`, or a guest
    /// policy that allows a migration agent without `allow_migration_agent`.
    Platform,
}

impl FailureClass {
    /// Every class, in exit-code order.
    pub const ALL: [FailureClass; 11] = [
        FailureClass::Malformed,
        FailureClass::Signature,
        FailureClass::Chain,
        FailureClass::Expired,
        FailureClass::Measurement,
        FailureClass::PolicyExpired,
        FailureClass::Debug,
        FailureClass::Binding,
        FailureClass::Nonce,
        FailureClass::Config,
        FailureClass::Platform,
    ];

    /// The `aip-attest verify` exit code for this class (10..=20; 0 is valid, 1 and 2 are
    /// reserved for I/O and usage errors).
    pub fn exit_code(self) -> u8 {
        match self {
            FailureClass::Malformed => 10,
            FailureClass::Signature => 11,
            FailureClass::Chain => 12,
            FailureClass::Expired => 13,
            FailureClass::Measurement => 14,
            FailureClass::PolicyExpired => 15,
            FailureClass::Debug => 16,
            FailureClass::Binding => 17,
            FailureClass::Nonce => 18,
            FailureClass::Config => 19,
            FailureClass::Platform => 20,
        }
    }

    /// The snake_case name used in JSON output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Malformed => "malformed",
            FailureClass::Signature => "signature",
            FailureClass::Chain => "chain",
            FailureClass::Expired => "expired",
            FailureClass::Measurement => "measurement",
            FailureClass::PolicyExpired => "policy_expired",
            FailureClass::Debug => "debug",
            FailureClass::Binding => "binding",
            FailureClass::Nonce => "nonce",
            FailureClass::Config => "config",
            FailureClass::Platform => "platform",
        }
    }
}

/// Why evidence was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed evidence: {what}")]
    Malformed {
        what: String,
        #[source]
        source: Option<Source>,
    },
    #[error("signature does not verify: {what}")]
    Signature {
        what: String,
        #[source]
        source: Option<Source>,
    },
    #[error("certificate chain rejected: {what}")]
    Chain {
        what: String,
        #[source]
        source: Option<Source>,
    },
    #[error("{what} is not valid at unix time {at} (valid {not_before}..={not_after})")]
    Expired {
        what: String,
        at: u64,
        not_before: u64,
        not_after: u64,
    },
    #[error("measurement is not allowed by the policy: {what}")]
    Measurement { what: String },
    #[error("measurement matches policy entry {entry:?}, which expired at unix time {expired_at}")]
    PolicyExpired { entry: String, expired_at: u64 },
    #[error("debug evidence refused ({what}); the policy does not set allow_debug")]
    Debug { what: String },
    #[error("binding mismatch: {what}")]
    Binding { what: String },
    #[error("nonce mismatch: {what}")]
    Nonce { what: String },
    #[error("configuration not allowed by policy entry {entry:?}: {what}")]
    Config { entry: String, what: String },
    #[error("platform below policy entry {entry:?}: {what}")]
    Platform { entry: String, what: String },
}

impl VerifyError {
    /// The failure class, for alerting and exit codes.
    pub fn class(&self) -> FailureClass {
        match self {
            VerifyError::Malformed { .. } => FailureClass::Malformed,
            VerifyError::Signature { .. } => FailureClass::Signature,
            VerifyError::Chain { .. } => FailureClass::Chain,
            VerifyError::Expired { .. } => FailureClass::Expired,
            VerifyError::Measurement { .. } => FailureClass::Measurement,
            VerifyError::PolicyExpired { .. } => FailureClass::PolicyExpired,
            VerifyError::Debug { .. } => FailureClass::Debug,
            VerifyError::Binding { .. } => FailureClass::Binding,
            VerifyError::Nonce { .. } => FailureClass::Nonce,
            VerifyError::Config { .. } => FailureClass::Config,
            VerifyError::Platform { .. } => FailureClass::Platform,
        }
    }

    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        VerifyError::Malformed {
            what: what.into(),
            source: None,
        }
    }

    pub(crate) fn malformed_by(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        VerifyError::Malformed {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn signature(what: impl Into<String>, source: Option<Source>) -> Self {
        VerifyError::Signature {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn chain(what: impl Into<String>) -> Self {
        VerifyError::Chain {
            what: what.into(),
            source: None,
        }
    }

    pub(crate) fn chain_by(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        VerifyError::Chain {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Why evidence could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error("the attestation device {device} is not available")]
    DeviceUnavailable {
        device: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the attestation device {device} refused the request: {detail}")]
    DeviceRefused { device: String, detail: String },
    #[error("the attestation device returned unusable evidence: {0}")]
    BadEvidence(String),
    #[error("SEV-SNP evidence needs the VCEK or VLEK certificate, and none was provided")]
    MissingEndorsementKey,
    #[error("the request is invalid: {0}")]
    InvalidRequest(String),
    #[error("the dev PKI could not be used: {0}")]
    DevPki(String),
}

/// Why a measurement policy file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the policy: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("policy entry {entry:?}: {what}")]
    Entry { entry: String, what: String },
    #[error("the policy allows nothing: add at least one [[nitro]] or [[sev_snp]] entry")]
    Empty,
    #[error("dev_root is not a PEM certificate")]
    DevRoot(#[source] x509_cert::der::Error),
}

/// Why a transported evidence envelope was rejected.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the envelope is not valid JSON of the expected shape")]
    Json(#[from] serde_json::Error),
    #[error("unsupported envelope version {0} (this build reads version 1)")]
    Version(u32),
    #[error("field {field} is not valid base64")]
    Base64 {
        field: &'static str,
        #[source]
        source: base64::DecodeError,
    },
    #[error("field {0} is missing")]
    Missing(&'static str),
    #[error("field {field} does not belong in {platform} evidence")]
    Misplaced {
        field: &'static str,
        platform: crate::evidence::Platform,
    },
    #[error("field {field} is too large ({len} bytes, at most {max})")]
    TooLarge {
        field: &'static str,
        len: usize,
        max: usize,
    },
}
