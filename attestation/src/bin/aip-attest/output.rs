//! The verdict, as text for people or JSON for scripts.

use aip_attestation::clock::utc;
use aip_attestation::verified::Details;
use aip_attestation::{Measurement, Verified, VerifyError};
use serde_json::json;

pub fn print(result: &Result<Verified, VerifyError>, at: u64, as_json: bool) {
    if as_json {
        let value = match result {
            Ok(v) => json!({ "valid": true, "verified": v }),
            Err(e) => json!({
                "valid": false,
                "at": at,
                "error": { "class": e.class(), "exit_code": e.class().exit_code(), "message": e.to_string() },
            }),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return;
    }
    match result {
        Ok(v) => print_verified(v),
        Err(e) => {
            println!(
                "verdict        INVALID ({}) at {}",
                e.class().as_str(),
                utc(at)
            );
            println!("reason         {e}");
        }
    }
}

fn line(name: &str, value: impl std::fmt::Display) {
    println!("{name:<14} {value}");
}

fn hex_or_none(bytes: &Option<Vec<u8>>) -> String {
    bytes
        .as_deref()
        .map(hex::encode)
        .unwrap_or_else(|| "(none)".into())
}

fn print_verified(v: &Verified) {
    line("verdict", format!("VALID at {}", utc(v.verified_at)));
    line("platform", v.platform);
    match &v.details {
        Details::Nitro(d) => {
            line("module_id", &d.module_id);
            line(
                "timestamp",
                format!("{} ({} ms)", utc(d.timestamp_ms / 1000), d.timestamp_ms),
            );
            line("digest", &d.digest);
            for (index, value) in &d.pcrs {
                line(&format!("PCR{index}"), value);
            }
            line(
                "signing cert",
                format!(
                    "{} .. {}",
                    utc(d.signing_cert_not_before),
                    utc(d.signing_cert_not_after)
                ),
            );
            line("root sha256", hex::encode(d.root_sha256));
        }
        Details::SevSnp(d) => {
            line("product", format!("{:?} ({:?})", d.product, d.signing_key));
            line("version", d.version);
            line("guest policy", &d.guest_policy);
            line("vmpl", d.vmpl);
            line("guest_svn", d.guest_svn);
            if let Measurement::SevSnp {
                measurement,
                host_data,
                ..
            } = &v.measurement
            {
                line("measurement", hex::encode(measurement));
                line("host_data", hex::encode(host_data));
            }
            let t = d.reported_tcb;
            let fmc = t.fmc.map(|f| format!(" fmc {f}")).unwrap_or_default();
            line(
                "reported_tcb",
                format!(
                    "bootloader {} tee {} snp {} microcode {}{fmc}",
                    t.bootloader, t.tee, t.snp, t.microcode
                ),
            );
            line("chip_id", hex::encode(d.chip_id));
            line(
                "vek validity",
                format!("{} .. {}", utc(d.vek_not_before), utc(d.vek_not_after)),
            );
        }
    }
    line(
        if matches!(v.details, Details::SevSnp(_)) {
            "report_data"
        } else {
            "user_data"
        },
        hex_or_none(&v.report_data),
    );
    if !matches!(v.details, Details::SevSnp(_)) {
        line("public_key", hex_or_none(&v.public_key));
        line("nonce", hex_or_none(&v.nonce));
    }
    line(
        "debug",
        if v.debug {
            "yes (allowed by the policy)"
        } else {
            "no"
        },
    );
    line(
        "policy",
        match &v.policy_entry {
            Some(entry) => format!("allowed by entry {entry:?}"),
            None => "NOT CHECKED (no --policy): the measurement above is unjudged".into(),
        },
    );
    line(
        "nonce check",
        if v.nonce_checked {
            "matches"
        } else {
            "not checked (no --nonce)"
        },
    );
}
