// aip-signer's attested release: the Lit Action behind the condition
//   {"contractAddress":"ipfs://<CID of this file>","standardContractType":"LitAction",
//    "chain":"ethereum","method":"go",
//    "parameters":[":litParam:attestation",":litParam:allowedSets","<allowed sets SHA-256>",":userAddress"],
//    "returnValueTest":{"comparator":"=","value":"true"}}
// A Lit node runs this file inside /web/encryption/sign and releases its decryption share only
// when `go` returns "true" (lit-peer access_control check_condition_via_lit_action: the
// parameters are substituted, spliced unescaped inside double quotes, and go's result is
// compared as a string). `:litParam:<name>` is filled from the resource
// `litParam:<name>:<base64url(value)>` of the requester's SIWE, so both values below are
// themselves base64url (no quote can reach the code); `:userAddress` is the address that
// signed that SIWE: the enclave's own secp256k1 key, generated at boot.
//
//   attestation  base64url of JSON {"evidence": <aip-signer evidence envelope>,
//                "boundKeys": {"tlsSpkiSha256": hex, "signingPublicKey": hex,
//                              "configSha256": hex}, "nonce": hex}
//   allowedSets  base64url of the measurement policy's canonical JSON (aip-attest
//                policy-hash prints its SHA-256, which the condition pins)
//
// go returns "true" only if: the allowed sets hash to the pinned value; the evidence verifies
// (Nitro: COSE ES384 under a chain to AWS's root valid at the node's time; SEV-SNP: the report
// signed by a VCEK/VLEK whose chain ends in AMD's ARK, TCB and chip id as certified); it is not
// debug evidence unless the sets allow it; its measurement is in a live allowed set, with the
// SNP floor and the configuration pin; and its binding (Nitro user_data, SNP report_data)
// commits to the bound keys, the nonce and :userAddress (attestation/spec/binding.md, v2). The
// same checks are made by aip-attestation in Rust; tests/tests/lit_action_verifier.rs runs both
// on every attestation test vector and on byte-flipped variants and requires the same verdict,
// and the Lit devnet runs this file under Node for every attested release
// (tests/tests/attested_release.rs). Dev evidence is trusted only under the `devRoot` (base64
// DER) the allowed sets name, which a production policy does not have.
//
// Only WebCrypto (crypto.subtle, in Lit's Deno runtime and in Node) is used; the CBOR and DER
// readers below are this file's own. Nothing here throws out of `go`: any failure is "false".


const ROOTS = {
  awsNitroRootG1: "MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTELMAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYDVQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQLDANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEGBSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZEh8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkFR+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYCMQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPWrfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6NIwLz3/Y=",
  milan: {
    ark: "MIIGYzCCBBKgAwIBAgIDAQAAMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstTWlsYW4wHhcNMjAxMDIyMTcyMzA1WhcNNDUxMDIyMTcyMzA1WjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczESMBAGA1UEAwwJQVJLLU1pbGFuMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA0Ld52RJOdeiJlqK2JdsVmD7FktuotWwX1fNgW41XY9Xz1HEhSUmhLz9Cu9DHRlvgJSNxbeYYsnJfvyjx1MfU0V5tkKiU1EesNFta1kTA0szNisdYc9isqk7mXT5+KfGRbfc4V/9zRIcE8jlHN61S1ju8X93+6dxDUrG2SzxqJ4BhqyYmUDruPXJSX4vUc01P7j98MpqOS95rORdGHeI52Naz5m2B+O+vjsC060d37jY9LFeuOP4Meri8qgfi2S5kKqg/aF6aPtuAZQVR7u3KFYXP59XmJgtcog05gmI0T/OitLhuzVvpZcLph0odh/1IPXqx3+MnjD97A7fXpqGd/y8KxX7jksTEzAOgbKAeam3lm+3yKIcTYMlsRMXPcjNbIvmsBykD//xSniusuHBkgnlENEWx1UcbQQrs+gVDkuVPhsnzIRNgYvM48Y+7LGiJYnrmE8xcrexekBxrva2V9TJQqnN3Q53kt5viQi3+gCfmkwC0F0tirIZbLkXPrPwzZ0M9eNxhIySb2npJfgnqz55I0u33wh4r0ZNQeTGfw03MBUtyuzGesGkcw+loqMaq1qR4tjGbPYxCvpCq7+OgpCCoMNit2uLo9M18fHz10lOMT8nWAUvRZFzteXCm+7PHdYPlmQwUw3LvenJ/ILXoQPHfbkH0CyPfhl1jWhJFZasCAwEAAaN+MHwwDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBSFrBrRQ/fIrFXUxR1BSKvVeErUUzAPBgNVHRMBAf8EBTADAQH/MDoGA1UdHwQzMDEwL6AtoCuGKWh0dHBzOi8va2RzaW50Zi5hbWQuY29tL3ZjZWsvdjEvTWlsYW4vY3JsMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBA4ICAQC6m0kDp6zv4Ojfgy+zleehsx6ol0ocgVelETobpx+EuCsqVFRPK1jZ1sp/lyd9+0fQ0r66n7kagRk4Ca39g66WGTJMeJdqYriwSTjjDCKVPSesWXYPVAyDhmP5n2v+BYipZWhpvqpaiO+EGK5IBP+578QeW/sSokrKdHaLAxG2LhZxj9aF73fqC7OAJZ5aPonw4RE299FVarh1Tx2eT3wSgkDgutCTB1YqzT5DuwvAe+co2CIVIzMDamYuSFjPN0BCgojl7V+bTou7dMsqIu/TW/rPCX9/EUcpKGKqPQ3P+N9r1hjEFY1plBg93t53OOo49GNI+V1zvXPLI6xIFVsh+mto2RtgEX/epmMKTNN6psW88qg7c1hTWtN6MbRuQ0vm+O+/2tKBF2h8THb94OvvHHoFDpbCELlqHnIYhxy0YKXGyaW1NjfULxrrmxVW4wcn5E8GddmvNa6yYm8scJagEi13mhGu4Jqh3QU3sf8iUSUr09xQDwHtOQUVIqx4maBZPBtSMf+qUDtjXSSq8lfWcd8bLr9mdsUnJZJ0+tuPMKmBnSH860llKk+VpVQsgqbzDIvOLvD6W1Umq25boxCYJ+TuBoa4s+HHCViAvgT9kf/rBq1d+ivj6skkHxuzcxbk1xv6ZGxrteJxVH7KlX7YRdZ6eARKwLe4AFZEAwoKCQ==",
    ask: "MIIGiTCCBDigAwIBAgIDAQABMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstTWlsYW4wHhcNMjAxMDIyMTgyNDIwWhcNNDUxMDIyMTgyNDIwWjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczESMBAGA1UEAwwJU0VWLU1pbGFuMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAnU2drrNTfbhNQIllf+W2y+ROCbSzId1aKZft2T9zjZQOzjGccl17i1mIKWl7NTcB0VYXt3JxZSzOZjsjLNVAEN2MGj9TiedL+QewKZX0JmQEuYjm+WKksLtxgdLp9E7EZNwNDqV1r0qRP5tB8OWkyQbIdLeu4aCz7j/Sl1FkBytev9sbFGzt7cwnjzi9m7noqsk+uRVBp3+In35QPdcj8YflEmnHBNvuUDJhLCJMW8KOjP6++Phbs3iCitJcANEtW4qTNFoKW3CHlbcSCjTM8KsNbUx3A8ek5EVLjZWH1pt9E3TfpR6XyfQKnY6kl5aEIPwdW3eFYaqCFPrIo9pQT6WuDSP4JCYJbZneKKIbZjzXkJt3NQG32EukYImBb9SCkm9+fS5LZFg9ojzubMX3+NkBoSXI7OPvnHMxjup9mw5se6QUV7GqpCA2TNypolmuQ+cAaxV7JqHE8dl9pWf+Y3arb+9iiFCwFt4lAlJw5D0CTRTC1Y5YWFDBCrA/vGnmTnqG8C+jjUAS7cjjR8q4OPhyDmJRPnaC/ZG5uP0K0z6GoO/3uen9wqshCuHegLTpOeHEJRKrQFr4PVIwVOB0+ebO5FgoyOw43nyFD5UKBDxEB4BKo/0uAiKHLRvvgLbORbU8KARIs1EoqEjmF8UtrmQWV2hUjwzqwvHFei8rPxMCAwEAAaOBozCBoDAdBgNVHQ4EFgQUO8ZuGCrD/T1iZEib47dHLLT8v/gwHwYDVR0jBBgwFoAUhawa0UP3yKxV1MUdQUir1XhK1FMwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQQwOgYDVR0fBDMwMTAvoC2gK4YpaHR0cHM6Ly9rZHNpbnRmLmFtZC5jb20vdmNlay92MS9NaWxhbi9jcmwwRgYJKoZIhvcNAQEKMDmgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgEwowMCAQEDggIBAIgeUQScAf3lDYqgWU1VtlDbmIN8S2dC5kmQzsZ/HtAjQnLEPI1jh3gJbLxL6gf3K8jxctzOWnkYcbdfMOOr28KT35IaAR20rekKRFptTHhe+DFr3AFzZLDD7cWK29/GpPitPJDKCvI7A4Ug06rk7J0zBe1fz/qe4i2/F12rvfwCGYhcRxPy7QF3q8fR6GCJdB1UQ5SlwCjFxD4uezURztIlIAjMkt7DFvKRh+2zK+5plVGGFsjDJtMz2ud9y0pvOE4j3dH5IW9jGxaSGStqNrabnnpF236ETr1/a43b8FFKL5QNmt8Vr9xnXRpznqCRvqjr+kVrb6dlfuTlliXeQTMlBoRWFJORL8AcBJxGZ4K2mXftl1jU5TLeh5KXL9NW7a/qAOIUs2FiOhqrtzAhJRg9Ij8QkQ9Pk+cKGzw6El3T3kFrEg6zkxmvMuabZOsdKfRkWfhH2ZKcTlDfmH1H0zq0Q2bG3uvaVdiCtFY1LlWyB38JS2fNsR/Py6t5brEJCFNvzaDky6KeC4ion/cVgUai7zzS3bGQWzKDKU35SqNU2WkPI8xCZ00WtIiKKFnXWUQxvlKmmgZBIYPe01zD0N8atFxmWiSnfJl690B9rJpNR/fIajxCW3Seiws6r1Zm+tCuVbMiNtpS9ThjNX4uve5thyfE2DgoxRFvY1CsoF5M",
    asvk: "MIIGjzCCBD6gAwIBAgIDAQEBMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstTWlsYW4wHhcNMjIxMTE2MjI0NTI0WhcNNDcxMTE2MjI0NTI0WjCBgDEUMBIGA1UECwwLRW5naW5lZXJpbmcxCzAJBgNVBAYTAlVTMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExHzAdBgNVBAoMFkFkdmFuY2VkIE1pY3JvIERldmljZXMxFzAVBgNVBAMMDlNFVi1WTEVLLU1pbGFuMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA1EUWkz5FTPz+uWT2hCEyisam8FRuXZAmS3l+rXgSCeS1Q0+1olcnFSJpiwfssfhoutJqePyicu+OhkX131PMeO/VOtH3upK4YNJmq36IJp7ZWIm5nK2fJNkYEHW0m/NXcIA9U2iHl5bAQ5cbGp97/FaOJ4VmGoTMV658Yox/plFmZRFfRcsw2hyNhqUl1gzdpnIIgPkygUovFEgaa0IVSgGLHQhZQiebNLLSVWRVReve0t94zlRIRRdrz84cckP9H9DTAUMyQaxSZbPINKbV6TPmtrwAV9UP1Qq418xn9I+C0SsWutP/5S1OiL8OTzQ4CvgbHOfd2F3yVv4xDBza4SelF2igoDf+BF4XI/IIHJL2N5uKy3+gkSB2Xl6prohgVmqRFvBW9OTCEa32WhXu0t1Z1abEKDZ3LpZt9/Crg6zyPpXDLR/tLHHpSaPRj7CTzHieKMTz+Q6RrCCQcHGfaAD/ETNY56aHvNJRZgbzXDUJvnLr3dYyOvvn/DtKhCSimJynn7Len4ArDVQVwXRPe3hR/asCE2CajT7kGC1AOtUzQuIKZS2D0Qk74g297JhLHpEBlQiyjRJ+LCWZNx9uJcixGyzav6fiOWx4U8uWhRzHs8nvDAdcS4LW31tPlA9BeOK/BGimQTu7hM5MDFZL0C9dWK5puCUJex6I2vSqvycCAwEAAaOBozCBoDAdBgNVHQ4EFgQUNuJXE6qi45/CgqkKRPtVLObC7pEwHwYDVR0jBBgwFoAUhawa0UP3yKxV1MUdQUir1XhK1FMwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQQwOgYDVR0fBDMwMTAvoC2gK4YpaHR0cHM6Ly9rZHNpbnRmLmFtZC5jb20vdmxlay92MS9NaWxhbi9jcmwwRgYJKoZIhvcNAQEKMDmgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgEwowMCAQEDggIBAI7ayEXDNj1rCVnjQFb6L91NNOmEIOmi6XtopAqr8fj7wqXap1MY82Y0AIi1K9R7C7G1sCmY8QyEyX0zqHsoNbU2IMcSdZrIp8neT8afv8tPt7qoW3hZ+QQRMtgVkVVrjJZelvlB74xr5ifDcDiBd2vu/C9IqoQS4pVBKNSFpofzjtYKvebBBBXxeM2b901UxNgVjCY26TtHEWN9cA6cDVqDDCCL6uOeR9UOvKDSSqlM6nXldSj7bgK7Wh9M9587IwRvNZluXc1CDiKMZybLdSKOlyMJH9ss1GPn0eBVEhVjf/gttn7HrcQ9xJZVXyDtL3tkGzemrPK14NOYzmph6xr1iiedAzOVpNdPiEXn2lvas0P4TD9UgBh0Y7xyf2yENHiSgJT4T8Iktm/TSzuh4vqkQ72A1HdNTGjoZcfzKCsQJ/YuFICeaNxw5cIAGBK/o+6Ek32NPv5XtixNOhEx7GsaVRG05bq5oTt14b4hKYhqV1CDrX5hiVRpFFDs/sAGfgTzLdiGXLcvYAUz1tCKIT/eQS9c4/yitn4F3mCPd4uQB+fggMtK0qPRthpFtc2SqVCTvHnhxyXqo7GpXMsssgLgKNwaFPe2+Ld5OwPR6Pokji9h55m05Dxob8XtD4gW6oFLo9Icg7XqdOr9Iip5RBIPxy7rKk/ReqGs9KH70YPk",
  },
  genoa: {
    ark: "MIIGYzCCBBKgAwIBAgIDAgAAMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstR2Vub2EwHhcNMjIwMTI2MTUzNDM3WhcNNDcwMTI2MTUzNDM3WjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczESMBAGA1UEAwwJQVJLLUdlbm9hMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA3Cd95S/uFOuRIskW9vz9VDBF69NDQF79oRhL/L2PVQGhK3YdfEBgpF/JiwWFBsT/fXDhzA01p3LkcT/7LdjcRfKXjHl+0Qq/M4dZkh6QDoUeKzNBLDcBKDDGWo3v35NyrxbA1DnkYwUKU5AAk4P94tKXLp80oxt84ahyHoLmc/LqsGsp+oq1Bz4PPsYLwTG4iMKVaaT90/oZ4I8oibSru92vJhlqWO27d/Rxc3iUMyhNeGToOvgx/iUo4gGpG61NDpkEUvIzuKcaMx8IdTpWg2DF6SwF0IgVMffnvtJmA68BwJNWo1E4PLJdaPfBifcJpuBFwNVQIPQEVX3aP89HJSp8YbY9lySS6PlVEqTBBtaQmi4ATGmMR+n2K/e+JAhU2Gj7jIpJhOkdH9firQDnmlA2SFfJ/Cc0mGNzW9RmIhyOUnNFoclmkRhl3/AQU5Ys9Qsan1jT/EiyT+pCpmnA+y9edvhDCbOG8F2oxHGRdTBkylungrkXJGYiwGrR8kaiqv7NN8QhOBMqYjcbrkEr0f8QMKklIS5ruOfqlLMCBw8JLB3LkjpWgtD7OpxkzSsohN47Uom86RY6lp72g8eXHP1qYrnvhzaG1S70vw6OkbaaC9EjiH/uHgAJQGxon7u0Q7xgoREWA/e7JcBQwLg80Hq/sbRuqesxz7wBWSY254cCAwEAAaN+MHwwDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBSfXfn+DdjzWtAzGiXvgSlPvjGoWzAPBgNVHRMBAf8EBTADAQH/MDoGA1UdHwQzMDEwL6AtoCuGKWh0dHBzOi8va2RzaW50Zi5hbWQuY29tL3ZjZWsvdjEvR2Vub2EvY3JsMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBA4ICAQAdIlPBC7DQmvH7kjlOznFx3i21SzOPDs5L7SgFjMC9rR07292GQCA7Z7Ulq97JQaWeD2ofGGse5swj4OQfKfVv/zaJUFjvosZOnfZ63epu8MjWgBSXJg5QE/Al0zRsZsp53DBTdA+Uv/s33fexdenT1mpKYzhIg/cKtz4oMxq8JKWJ8Po1CXLzKcfrTphjlbkh8AVKMXeBd2SpM33B1YP4g1BOdk013kqb7bRHZ1iB2JHG5cMKKbwRCSAAGHLTzASgDcXr9Fp7Z3liDhGu/ci1opGmkp12QNiJuBbkTU+xDZHm5X8Jm99BX7NEpzlOwIVR8ClgBDyuBkBC2ljtr3ZSaUIYj2xuyWN95KFY49nWxcz90CFa3Hzmy4zMQmBe9dVyls5eL5p9bkXcgRMDTbgmVZiAf4afe8DLdmQcYcMFQbHhgVzMiyZHGJgcCrQmA7MkTwEIds1wx/HzMcwU4qqNBAoZV7oeIIPxdqFXfPqHqiRlEbRDfX1TG5NFVaeByX0GyH6jzYVuezETzruaky6fp2bl2bczxPE8HdS38ijiJmm9vl50RGUeOAXjSuInGR4bsRufeGPB9peTa9BcBOeTWzstqTUB/F/qaZCIZKr4X6TyfUuSDz/1JDAGl+lxdM0P9+lLaP9NahQjHCVf0zf1c1salVuGFk2w/wMz1R1BHg==",
    ask: "MIIGiTCCBDigAwIBAgIDAgACMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstR2Vub2EwHhcNMjIxMDMxMTMzMzQ4WhcNNDcxMDMxMTMzMzQ4WjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczESMBAGA1UEAwwJU0VWLUdlbm9hMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAoHJhvk4Fwwkwb03AMfLySXJSXmEaCZMTRbLgPaj4oEzaD9tGfxCSw/nsCAiXHQaWUt++bnbjJO05TKT5d+Cdrz4/fiRBpbhf0xzvh11O+wJTBPj3uCzDm48vEZ8l5SXMO4wd/QqwsrejFERPD/Hdfv1mGCMW7ac0ug8trDzqGe+l+p8NMjp/EqBDY2vd8hLaVLmS+XjAqlYVNRksh9aTzSYL19/cTrBDmqQ2y8k23zNl2lW6q/BtQOpWGVs3EWvBHb/Qnf3f3S9+lC4H2jdDy9yn7kqyTWq4WCBnE4qhYJRokulYtzMZM1Ilk4Z6RPkOTR1MJ4gdFtj7lKmrkSuOoJYmqhJIsQJ854lAbJybgU7zyzWAwu3uaslkYKUEAQf2ja5Hyl3IBqOzpqY31SpKzbl8NXveZybRMklwfe4iDLI25T9ku9CVetDYifCbdGeuHdTwZBBemW4NE57L7iEV8+zz8nxng8OMX//4pXntWqmQbEAnBLv2ToTgd1H2zYRthyDLc3V119/+FnTW17LK6bKzTCgEnCHQEcAt0hDQLLF799+2lZTxxfBEoduAZax6IjgAMCi6e1ZfKPJSkdvb2m3BwfP8bniG7+AEJv1WOEmnBJc1pVQCttbJUodbi07Vfen5JRUqAvSM3ObWQOzSAGzsGnpIigwFpW6m9F7uYVUCAwEAAaOBozCBoDAdBgNVHQ4EFgQUssZ7pDW7HJVkHAmgQf/F3EmGFVowHwYDVR0jBBgwFoAUn135/g3Y81rQMxol74EpT74xqFswEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQQwOgYDVR0fBDMwMTAvoC2gK4YpaHR0cHM6Ly9rZHNpbnRmLmFtZC5jb20vdmNlay92MS9HZW5vYS9jcmwwRgYJKoZIhvcNAQEKMDmgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgEwowMCAQEDggIBAIgu3V2tQJOo0/6GvNmwLXbLDrsLKXqHUqdGyOZUpPHM3ujTaex1G+8bEgBswwBa+wNvl1SQqRqy2x2QwP+i//BcWr3lMrUxci4G7/P8hZBV821nrAUZtbvfqla5MrRH9AKJXWW/pmtd10czqCHkzdLQNZNjt2dnZHMQAMtGs1AtynREHNwEBiH2KAt7gUc/sKWnSCipztKE76puN/XXbSx+Ws+VPiFw6CBAeI9dqnEiQ1tpEgqtWEtcKm7Ggb1XH6oWbISoowvc00/ADWfNom0xl6v2C6RIWYgUoZ2f7PCyV3Dtbu/fQfyyZvmtVLA4gB2Ehc6Omjy21Y55WY9IweHlKENMPEUVtRqOvRVI0ml9Wbalf049joCu2j33XPqwp3IrzevmPBDGpR2Stdm3K66a/g/BSY7Wc9/VeykP3RXlxY1TMMJ8F1lpg6Tmu+c+vow7cliyqOoayAnR71U8+rWrL3HRHheSVX8GPYOaDNBTt831Z027vDWv3811vMoxYxhuTRaokvNWCSzmJ2EWrPYHcHOtkjSFKN7ot0Rc70fIRZEYc2rb3ywLSicEq3JQCnnz6iCZ1tMfplzcrJ2LnW2F1C8yRV+okylyORlsaxOLKYOWjaDTSFaq1NIwodHp7X9fOG48uRuJWS8GmifD969sC4Ut2FJFoklceBVUNCHR",
    asvk: "MIIGjzCCBD6gAwIBAgIDAgEBMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstR2Vub2EwHhcNMjIxMTE4MjA0ODM0WhcNNDcxMTE4MjA0ODM0WjCBgDEUMBIGA1UECwwLRW5naW5lZXJpbmcxCzAJBgNVBAYTAlVTMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExHzAdBgNVBAoMFkFkdmFuY2VkIE1pY3JvIERldmljZXMxFzAVBgNVBAMMDlNFVi1WTEVLLUdlbm9hMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAzL2/xihHscEpxS3+OsQZpAuNIJGSEQZrkoWPtqKMjjZOyXMMRHAheTm56Ei0Mb8TJZlbGDS5x/AdbowstGmpHqh2zvSvjZO7V4v6Ft84p71P6GXfOVEQgCuatiszfIwFrRQk/cmU7HuJadBq6XtYE+qBJMjus8C0WwW/IWY9j6pNbEA1SnUvVg6t89zfE+AcB5UDCKq09x7qw+rPt9pTpEch0f1bHdRFJlpgWGTq02ohH9bT+6au8kPpvMa3m2p8zdIIqtuuSG6srIimrpt24lsr4tLhQG65R/RbVJT9MsK4ULpbAUO5NwdlLwbnpLWHiUwoYrySMD8l3xRDvhPmInlXEFEo8lahcYllxiJJR8oqqA6x3jPFKmkfhEgaQefcn4P8nA4SScqAoLihn75iiDtU2+ZlkPnKgcNs5U1Le441ypen2n7BOnRyhmwyAUBGk3OcMXHsJ6KGpDJyTVCaC3fWX3ex4Iv4LkuKRA6O9yu3zHP23N/ubE8/YykffIjMbtBoOAzdWCn9lE4amo4VZ+8ewIutZAYmC5TIQO+wWUqKYr0iAobccMnZdJjUORjVoqVQ+dLr+/1otk36gfPc0LpmhWZKfAXF9sgvYtQjcaR9wlGr8ySRtZ2YJWofuR7zgYFJPEXRwAnbAR/05hBmog7CMt1F9YKSmku6JfRecY8CAwEAAaOBozCBoDAdBgNVHQ4EFgQUhEdjn8HQNI9bN2NAKL9zgM6VNoowHwYDVR0jBBgwFoAUn135/g3Y81rQMxol74EpT74xqFswEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQQwOgYDVR0fBDMwMTAvoC2gK4YpaHR0cHM6Ly9rZHNpbnRmLmFtZC5jb20vdmxlay92MS9HZW5vYS9jcmwwRgYJKoZIhvcNAQEKMDmgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgEwowMCAQEDggIBALgCTyTS/ppxo42n2LOox42LvNIsn2/ZaMs2NfCj4f2+VN5Xs1NNdptn2nq/SKu5aKnLS5XGWCnHfMSKZ7vqHLKMa0Wxfm+4JahOItQ3+PzbTa0EwUkq1u6oezhTHywX1PilNRc4EjWgQ6ba/z4BBxO3P10tW/C39VS0Cv8SN5G2bfZrPkjy6LBjGiaT4MBcsN+SM2o5QgKRG0qqn+edegHMmTPBDV2qCKbe5CBsa122q+F6S9hPEEiGkz/IpShnSGCaFvbEu0Uvh2dYUlrON2peZMDkevKurDXlGxTehAflCiugBsNeJivx0j7B/HazAvxkLPTCkIdmQJccezF5PCgmMW0SeP4cMb5Ewzv/yCsTLyh13YsYBww5eW4DBREd/vCAS7F1JQUZ4twQy/jqBAJhcDyGuRnnwrRevGdWsb3cXBqeLCub7CKZ1n/zqSRHq8FRgoroPRpfFjSGhDVFbjj7bDzWU6WNmF/7LpnqG+tIMyRc+3Y3yRAYchFNOFHyS6R2C0KTy1nRSYwBUdQtGaQ0rE3e5Mulcidh4qkIxpp089vzqV8JTSJsRzTOzkujOuHUYPKswJ1TvQr5S1C0gPN2qAESnCs7Nf2x82DSxmEqaiI7xS58pR6vZ8BeXMGPPQqgOm/oBzOypVR3iCG6MFdjsTNA6M8P7GCZe1p72cko",
  },
  turin: {
    ark: "MIIGYzCCBBKgAwIBAgIDAwAAMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstVHVyaW4wHhcNMjMwNTE1MjAwMzEyWhcNNDgwNTE1MjAwMzEyWjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczESMBAGA1UEAwwJQVJLLVR1cmluMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAwaAriB7EIuVc4ZB1wD3YfDxL+9eyS7+izm0Jj3W772NINCWl8Bj3w/JD2ZjmbRxWdIq/4d9iarCKorXloJUB1jRdgxqccTx1aOoig4+2w1XhVVJT7K457wT5ZLNJgQaxqa9Etkwjd6+9sOhlCDE9l43kQ0R2BikVJa/uyyVOSwEk5w5tXKOuG9jvq6QtAMJasW38wlqRDaKEGtZ9VUgGon27ZuL4sTJuC/azz9/iQBw8kEilzOl95AiTkeY5jSEBDWbAqnZk5qlM7kISKG20kgQm14mhNKDI2p2oua+zuAG7i52epoRF2GfU0TYk/yf+vCNB2tnechFQuP2e8bLk95ZdqPi9/UWw4JXjtdEA4u2JYplSSUPQVAXKt6LVqujtJcM59JKr2u0XQ75KwxcMp15gSXhBfInvPAwuAY4dEwwGqT8oIg4esPHwEsmChhYeDIxPG9R4fx9O0q6p8Gb+HXlTiS47P9YNeOpidOUKzDl/S1OvyhDtSL8LJc24QATFydo/iD/KUdvFTRlD0crkAMkZLoWQ8hLDGc6BZJXsdd7Zf2e4UW3tI/1oh/2t23Ot3zyhTcv5gDbABu0LjVe98uRnS15SMwK//lJt9e5BqKvgABkSoABf+B4VFtPVEX0ygrYaFaI9i5ABrxnVBmzXpRb21iI1NlNCfOGUPIhVpWECAwEAAaN+MHwwDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBRkoF9x4wwKZNg7deUBWZ4r7gYDRDAPBgNVHRMBAf8EBTADAQH/MDoGA1UdHwQzMDEwL6AtoCuGKWh0dHBzOi8va2RzaW50Zi5hbWQuY29tL3ZjZWsvdjEvVHVyaW4vY3JsMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBA4ICAQA/i6Mz4IETMK8YU/HxP7Bfej5i4aXhenJoTuiDX0nqx5CDJm9ELhskxAkJ/oLA1O92UoLybfFk4gEpKFtyfiUYex9LogZj5ix0sb2qfSSy9CRnOktGqfpel4e3KAhLgF5n2qZrqyq/8EPPldtSjEXn78sZMlIlUcQKSnnNCQZVFpktDfDiEiGNuitux3ghHUrcVuxSbZcrXDbsbMF7NDdfLUUS9TijrL33lrCXJs7m8kggGyCusiRQKHli1AEswiA4xU+8xsZrByYTopiGYtbJK8s0UCCXylyOuKSubvdAnMDJ5GDD0+DX46LSfv7fgGNSG+LOBWdif7KoQf9cIhKJtxGxZCn/tvHmwMzu4Jnx8N2vRnT+8DpBqhxtNvdXmrZUelSeQakx4djMKvmTR8Gd25EnC4RppCkjbmPxY3zPd1X7raalTn34EOF9DeLsC9JfzkDuojxpHWMm30wKnDo20mlDQk/zKCDa2Zc+YjtsTZCrTbvdgCukTKNZOUUVlWRu+sO/OwrmS2p16seHTIqHEbE1LntPv3gkCcHGDSUAKx9c0Aol+Dj9xpb2nmGqoDeJ59Ja6REkHCdw5TduXyqqMqfD1AX0/QDNdevCMKlWBRCQ7DFlog3H1a+r/kuMUZ/Ij9yyKlSgYZMJ4VgNKDgTQdcsAL0MCEMrzpacMwFusA==",
    ask: "MIIGiTCCBDigAwIBAgIDAwABMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstVHVyaW4wHhcNMjMwNTE1MjAyNTIxWhcNNDgwNTE1MjAyNTIxWjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczESMBAGA1UEAwwJU0VWLVR1cmluMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAnvg5Grv2Emd9lAhKdO64RXU3UESb6JTm0Hhzevx1PyxinxYqJL329qTJM0XmdozLYb7rsHxgM5I2pU18M8gect2pN/YB2LQ1/bIq37TPDbg7ym0MN6KkZ6aERxAX0voYtdDyNxjDAUjpRpCe1FccAev/Es2n/Fz1G1TmC2XepTQqaKpmt6mnDWSCHCVsQoY0gSibeaG6doM6OiNUCbKXaC7KHH5b/96BD1DJ84M+JHqPClFhHqUJwzKF5Qxj4wgWAZzK8UPhiNGjrF6+TBdlFGdSzEqw1jOrCTHduYyLK+5OQ3OIw4S+vZeOVoxJajTIWdsqYP2DLc0HkL0qWOumEOrrc2/4DeETShB0MyIpH05kSalyQN2eN5P6ptOB84hddCdbJPEepnD+FqQap1ukw3K8uBcgeBSAF23r6UtT8Uc5h7MsWX3MoZiEHcSkDQQ8IedTk7CLjsK6S7b/lfKqfYiRhKgGkRvsEd/MDNcumHZKIgzasJwgagzSggiUo9jXp3EWm84fqyxNXzSutPB7qD5P/ULAB+q9QgvrzC8XneaLP0MNrHhM80UejmsBTIktMvFoWVIelYDLdcoi0eMD5DRccfsgrYaY6h/+/qf9tgg+mX09UJpuSPRF38oyqnNNFMl5v/tWLgUsChPU6NCQC17Qaqr8mu2ynyyuHEs5JVUCAwEAAaOBozCBoDAdBgNVHQ4EFgQUbYJXt6v2sMgUALjxD0WvG9aq628wHwYDVR0jBBgwFoAUZKBfceMMCmTYO3XlAVmeK+4GA0QwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQQwOgYDVR0fBDMwMTAvoC2gK4YpaHR0cHM6Ly9rZHNpbnRmLmFtZC5jb20vdmNlay92MS9UdXJpbi9jcmwwRgYJKoZIhvcNAQEKMDmgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgEwowMCAQEDggIBAAXWJ3DPahralt5kXLPMm9oKlFRqeU3HcS7kA+VBlBA1lQRUhXkbXnTvW1GZcgdZvNCB/VlET61KbCzoFIhPIESVjjb/xWX2kg3X0HHmh1EtCDbHaUFM5rq6l+S1h7qOauRZebvrwApDzAANvW0LTHRumfGm/kqh9NDtVCIWPUZ1VQIgGx1T3dwmgOK8ncT1J3W5xIyS0Xu3KC6w7oBlq8G2pPgTcCBJ4JBCTXCEXiAAGaTR/TJIaSzoZFLhxYhCMjP8WQGToPGDK2i/lZhkcGHnJOQ+lgrXfpLGqBtLlS3QODyVP0MomczG4dqw3THP3Y8Aq9c2KE7SylAKsS/bBKCqkj4OrABkDSkMQEz3BBoFD63aD5ZG/Qiz+tmhnptyPVcweC9uJlSWYm25KiV4lT52uBjxatDZKQcrpdgcU8+ozzKU8ICnZPOwfWeyuNMq/juyd/rzg5IePyyvt+13aJ5MlZBXZxJKoxCYIMKUwZigf0XsBteT8gw10/xk5smIFIB2ERtTQPMuTENgrPTUjOeiqmBg663c2dLVol+MDiT4ltqfEm4Kl/cc4f+H6bEwhj1QKAN2ipRf+mP0NfzJb+6ZHNsOvyq/WByYpLXV9JJoiDW/8RZwPU/Mn7IuQBauCy78G7FS0ta3q1et74faYBBgeJ6awEasa25CvmsmlU0R",
    asvk: "MIIGjzCCBD6gAwIBAgIDAwEBMEYGCSqGSIb3DQEBCjA5oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMKMDAgEBMHsxFDASBgNVBAsMC0VuZ2luZWVyaW5nMQswCQYDVQQGEwJVUzEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMR8wHQYDVQQKDBZBZHZhbmNlZCBNaWNybyBEZXZpY2VzMRIwEAYDVQQDDAlBUkstVHVyaW4wHhcNMjMwNTE1MjEwOTQxWhcNNDgwNTE1MjEwOTQxWjCBgDEUMBIGA1UECwwLRW5naW5lZXJpbmcxCzAJBgNVBAYTAlVTMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExHzAdBgNVBAoMFkFkdmFuY2VkIE1pY3JvIERldmljZXMxFzAVBgNVBAMMDlNFVi1WTEVLLVR1cmluMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEApjrui4l0ZogEh0fDdVfJ4unowGGolk2wXyzjbjC/fnqlhFqiFj1JSKdkYSvzPVfgDR0MU2WLlytrAGqOHYBdk4Moz3xHTXJus75Nef0EBZpGk9M4PQGF+nTqYi+hDguq14wQUEltN9wGunnUeaMz0e6hfCasDevkypILMponvTvaM49RAipCvTgmPRTkQA8hjl3tA6R7S/HKTn6/Q3T74A0BfygK49LLkdHF05Wo0pZ9qmPyhi0Rh9epY0L+/T2e17fohWcCavgE+KF5GO5XINzunwKolCCyH3930iAmb1vv5v4PimnGsfH4ic4kIApR1hZApU3YG3qUE84qkb5SEASQsTZCT0Jv/AxC9So5h2wraVzWz6GvpPHEtRKvue5vehkwPjFipJMT5Z7CmNuXc+0lcVSZMHSbswFSHKKtp4F0UDoPnuIWw/djGDjkGXS9W5M2N3zVSbn94cJxCMzOTzILhcX/lJatooslfxvqucFH8PpS9xBMhuN4fTPlNk/oVbQ6w8pxEMibo0K8Q+gOqqzdVm6i7jotobsuYxH1Httjsc61vSskSDT4JkPjqTWiyOmsFI+6Ob/hya/fqpe0EPy68TPk85COC7uqNMzu58xb0uAtt0beejDx29mRRbiPNL5tnwK9KFmZDpeZWSZgzvn2K+SQTK80ZKn8Yq2SKfUCAwEAAaOBozCBoDAdBgNVHQ4EFgQUhcyC6bne81Yf2PT1B54XmiyCCNMwHwYDVR0jBBgwFoAUZKBfceMMCmTYO3XlAVmeK+4GA0QwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQQwOgYDVR0fBDMwMTAvoC2gK4YpaHR0cHM6Ly9rZHNpbnRmLmFtZC5jb20vdmxlay92MS9UdXJpbi9jcmwwRgYJKoZIhvcNAQEKMDmgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgEwowMCAQEDggIBAH6VbG86NSqZ9yjcqVuBGCEYwK6uDBQQHbXmYJXVX81sPN9cclAs6J2yiHcyDFq1g7ICnHO0T36vcj3V/27x4o2pmjAk3SU0YbMl9pR+AMHZrIQQ7FTldVP9HdWYx/KenFF42EFCAtOzgs9yLkyTviwX+d3YrWX0SXLMcuf0TO5VsCPX5DqcggneHruZMVICGTukY12cKYmasT74cms5WLzcQ5BVbttJmX+eHW6vDg3hlmvUmjuTNQVoF5k5KcbHVV6VzG9SITLFozwdLSr5MbmfYHv7adLoNA5F1Ihff1it0sn5HktUD/2GVGtkXES/KFEnXzS7A9wUlMqAGQOsEBUhFcg3MUAt0SYnQ/B3JdV87+ZEawMRLxEIinKDERI/i+l9fw61+R5TpSI3yhuQ4NGJAQ97dRqiy8EdiJOLLeT2DYOvi9pSJw3UqNuelINDlDCjChGimRv5Idjh0zbT6IjzagYY0rpSHbPgiJWrI2dA3qeJDEiEXQ++v4WP10fq+Jr5FTXiIwNd+1VGxBizw184gLPnEoXv8br+YScnZjB8YW/oWsGuHz2kMTxOVT5Zizn3yVXvOpXFiwiavWQDJS52woXOwBzIyEdTPUL1E8s4KS2HQBzK1VfwvWcYNE5S0bAIMX1bYiEyJkr49+VLypQx5sIDU1cbVw3Py5XISUxr",
  },
};

class Refused extends Error {
  constructor(kind, what) {
    super(`${kind}: ${what}`);
    this.kind = kind;
  }
}
const refuse = (kind, what) => {
  throw new Refused(kind, what);
};

// ---- bytes ------------------------------------------------------------------------------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Each alphabet as a table from character code to value (-1: not in it): a lookup per
// character, where searching the alphabet string cost a fifth of an action's own time.
const base64Table = (alphabet) => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
};
const B64_TABLE = base64Table(B64);
const B64URL_TABLE = base64Table(B64.slice(0, 62) + "-_");
function fromBase64(text, url) {
  if (typeof text !== "string") refuse("malformed", "base64 that is not text");
  const table = url ? B64URL_TABLE : B64_TABLE;
  const body = url ? text : text.replace(/=+$/, "");
  if (!url && text.length % 4 !== 0) refuse("malformed", "base64 of a bad length");
  if (body.length % 4 === 1) refuse("malformed", "base64 of a bad length");
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < body.length; i++) {
    const code = body.charCodeAt(i);
    const index = code < 128 ? table[code] : -1;
    if (index < 0) refuse("malformed", "not base64");
    value = (value << 6) | index;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) refuse("malformed", "base64 with stray bits");
  return out;
}
function fromHex(text, length) {
  if (typeof text !== "string" || !/^([0-9a-f]{2})*$/.test(text)) refuse("malformed", "not lowercase hex");
  const out = Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
  if (length !== undefined && out.length !== length) refuse("malformed", `hex of ${out.length} bytes, not ${length}`);
  return out;
}
const toHex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const utf8 = (text) => new TextEncoder().encode(text);
const digest = async (name, bytes) => new Uint8Array(await crypto.subtle.digest(name, bytes));

// ---- CBOR (RFC 8949), definite lengths only: what a Nitro document uses ------------------

function cborDecode(bytes) {
  let at = 0;
  const take = (n) => {
    if (at + n > bytes.length) refuse("malformed", "CBOR ends early");
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const argument = (info) => {
    if (info < 24) return info;
    const size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (!size) refuse("malformed", "CBOR indefinite or reserved length");
    let value = 0n;
    for (const b of take(size)) value = (value << 8n) | BigInt(b);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };
  const item = (depth) => {
    if (depth > 16) refuse("malformed", "CBOR nested too deeply");
    const head = take(1)[0];
    const major = head >> 5;
    const info = head & 31;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      refuse("malformed", "CBOR simple value or float");
    }
    const arg = argument(info);
    const count = () => {
      if (typeof arg !== "number" || arg > bytes.length) refuse("malformed", "CBOR length beyond the input");
      return arg;
    };
    switch (major) {
      case 0:
        return { int: BigInt(arg) };
      case 1:
        return { int: -1n - BigInt(arg) };
      case 2:
        return take(count()).slice();
      case 3:
        return new TextDecoder("utf-8", { fatal: true }).decode(take(count()));
      case 4: {
        const list = [];
        for (let i = count(); i > 0; i--) list.push(item(depth + 1));
        return list;
      }
      case 5: {
        const map = new Map();
        for (let i = count(); i > 0; i--) {
          const key = item(depth + 1);
          const name = typeof key === "string" ? `t:${key}` : key && key.int !== undefined ? `i:${key.int}` : null;
          if (name === null) refuse("malformed", "a CBOR map key is neither text nor an integer");
          if (map.has(name)) refuse("malformed", "a CBOR map repeats a key");
          map.set(name, item(depth + 1));
        }
        return map;
      }
      case 6:
        return { tag: arg, value: item(depth + 1) };
    }
    return refuse("malformed", "CBOR major type");
  };
  const value = item(0);
  if (at !== bytes.length) refuse("malformed", "bytes follow the CBOR item");
  return value;
}

function cborEncodeBytes(major, payload) {
  const n = payload.length;
  const head =
    n < 24 ? [(major << 5) | n] : n < 256 ? [(major << 5) | 24, n] : n < 65536 ? [(major << 5) | 25, n >> 8, n & 255] : [(major << 5) | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  return concat(Uint8Array.from(head), payload);
}

// ---- DER (X.509) ------------------------------------------------------------------------

function derRead(bytes, at = 0) {
  if (at + 2 > bytes.length) refuse("malformed", "DER ends early");
  const tag = bytes[at];
  if ((tag & 0x1f) === 0x1f) refuse("malformed", "DER high tag number");
  let length = bytes[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const size = length & 0x7f;
    if (size === 0 || size > 3) refuse("malformed", "DER length form");
    length = 0;
    for (let i = 0; i < size; i++) length = length * 256 + bytes[start + i];
    start += size;
    if (length < 128 || (size > 1 && bytes[at + 2] === 0)) refuse("malformed", "DER length not minimal");
  }
  const end = start + length;
  if (end > bytes.length) refuse("malformed", "DER length beyond the input");
  return { tag, start, end, raw: bytes.subarray(at, end), body: bytes.subarray(start, end) };
}
function derChildren(node, bytes) {
  const out = [];
  for (let at = node.start; at < node.end; ) {
    const child = derRead(bytes, at);
    if (child.end > node.end) refuse("malformed", "DER child beyond its parent");
    out.push(child);
    at = child.end;
  }
  return out;
}
function oidText(body) {
  const parts = [];
  let value = 0;
  for (const b of body) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}
function derTime(node) {
  const text = new TextDecoder().decode(node.body);
  const m = node.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m || (node.tag !== 0x17 && node.tag !== 0x18)) refuse("malformed", "a certificate time is not UTCTime or GeneralizedTime in Z");
  let year = Number(m[1]);
  if (node.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
}

const OID = {
  ecdsaSha384: "1.2.840.10045.4.3.3",
  ecPublicKey: "1.2.840.10045.2.1",
  secp384r1: "1.3.132.0.34",
  rsaPss: "1.2.840.113549.1.1.10",
  rsaEncryption: "1.2.840.113549.1.1.1",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  productName: "1.3.6.1.4.1.3704.1.2",
  blSpl: "1.3.6.1.4.1.3704.1.3.1",
  teeSpl: "1.3.6.1.4.1.3704.1.3.2",
  snpSpl: "1.3.6.1.4.1.3704.1.3.3",
  ucodeSpl: "1.3.6.1.4.1.3704.1.3.8",
  fmcSpl: "1.3.6.1.4.1.3704.1.3.9",
  hwId: "1.3.6.1.4.1.3704.1.4",
};

function parseCertificate(der, what) {
  const top = derRead(der);
  if (top.tag !== 0x30 || top.end !== der.length) refuse("malformed", `${what} is not a DER certificate`);
  const [tbs, sigAlg, sig, ...more] = derChildren(top, der);
  if (!tbs || !sigAlg || !sig || more.length || tbs.tag !== 0x30 || sigAlg.tag !== 0x30 || sig.tag !== 0x03) refuse("malformed", `${what} is not a DER certificate`);
  const fields = derChildren(tbs, der);
  let i = 0;
  let version = 1;
  if (fields[0] && fields[0].tag === 0xa0) {
    const v = derChildren(fields[0], der)[0];
    version = v && v.tag === 0x02 && v.body.length === 1 ? v.body[0] + 1 : 0;
    i = 1;
  }
  const [serial, innerAlg, issuer, validity, subject, spki] = fields.slice(i, i + 6);
  if (!spki || serial.tag !== 0x02 || issuer.tag !== 0x30 || validity.tag !== 0x30 || subject.tag !== 0x30 || spki.tag !== 0x30) refuse("malformed", `${what} has a malformed TBSCertificate`);
  const [notBefore, notAfter] = derChildren(validity, der);
  const extensions = [];
  for (const extra of fields.slice(i + 6)) {
    if (extra.tag === 0xa3) {
      const list = derChildren(extra, der)[0];
      for (const ext of derChildren(list, der)) {
        const parts = derChildren(ext, der);
        const critical = parts.length === 3 && parts[1].tag === 0x01 && parts[1].body[0] !== 0;
        const value = parts[parts.length - 1];
        if (parts[0].tag !== 0x06 || value.tag !== 0x04) refuse("malformed", `${what} has a malformed extension`);
        extensions.push({ oid: oidText(parts[0].body), critical, value: value.body });
      }
    }
  }
  const [spkiAlg, spkiKey] = derChildren(spki, der);
  const spkiAlgParts = derChildren(spkiAlg, der);
  if (sig.body[0] !== 0) refuse("malformed", `${what} has a partial-byte signature`);
  return {
    der,
    version,
    tbs: tbs.raw,
    outerAlg: sigAlg.raw,
    innerAlg: innerAlg.raw,
    sigOid: oidText(derChildren(sigAlg, der)[0].body),
    sigAlgHasParams: derChildren(sigAlg, der).length > 1,
    signature: sig.body.subarray(1),
    issuer: issuer.raw,
    subject: subject.raw,
    notBefore: derTime(notBefore),
    notAfter: derTime(notAfter),
    keyOid: oidText(spkiAlgParts[0].body),
    keyParamOid: spkiAlgParts[1] && spkiAlgParts[1].tag === 0x06 ? oidText(spkiAlgParts[1].body) : null,
    keyBits: spkiKey.body.subarray(1),
    extensions,
    extension(oid) {
      const found = this.extensions.find((e) => e.oid === oid);
      return found ? found.value : null;
    },
  };
}

function checkValidity(cert, at, what) {
  if (at < cert.notBefore || at > cert.notAfter) refuse("expired", `${what} is valid from ${cert.notBefore} to ${cert.notAfter}, not at ${at}`);
}

// ECDSA-Sig-Value (DER) to the fixed r || s WebCrypto verifies.
function ecdsaRaw(der) {
  const top = derRead(der);
  const [r, s] = derChildren(top, der);
  if (top.tag !== 0x30 || top.end !== der.length || !r || !s || r.tag !== 2 || s.tag !== 2) refuse("malformed", "an ECDSA signature is not DER");
  const fixed = (int) => {
    let body = int.body;
    while (body.length > 48 && body[0] === 0) body = body.subarray(1);
    if (body.length > 48) refuse("malformed", "an ECDSA signature component is too long");
    return concat(new Uint8Array(48 - body.length), body);
  };
  return concat(fixed(r), fixed(s));
}

async function p384Key(cert, what) {
  if (cert.keyOid !== OID.ecPublicKey || cert.keyParamOid !== OID.secp384r1) refuse("chain", `${what} does not hold a P-384 key`);
  try {
    return await crypto.subtle.importKey("raw", cert.keyBits, { name: "ECDSA", namedCurve: "P-384" }, false, ["verify"]);
  } catch (_) {
    return refuse("chain", `${what} holds an invalid P-384 key`);
  }
}
const p384Verify = (key, signature, data) => crypto.subtle.verify({ name: "ECDSA", hash: "SHA-384" }, key, signature, data);

// ---- Nitro ------------------------------------------------------------------------------

function keyUsage(cert) {
  const value = cert.extension(OID.keyUsage);
  if (!value) return null;
  const bits = derRead(value);
  if (bits.tag !== 0x03) refuse("malformed", "key usage is not a bit string");
  return { digitalSignature: (bits.body[1] & 0x80) !== 0, keyCertSign: (bits.body[1] & 0x04) !== 0 };
}
function basicConstraints(cert) {
  const value = cert.extension(OID.basicConstraints);
  if (!value) return null;
  const seq = derRead(value);
  let ca = false;
  let pathLen = null;
  for (const part of derChildren(seq, value)) {
    if (part.tag === 0x01) ca = part.body[0] !== 0;
    else if (part.tag === 0x02) pathLen = part.body.reduce((n, b) => n * 256 + b, 0);
  }
  return { ca, pathLen };
}
function checkCertificate(cert, role, at, what) {
  if (cert.version !== 3) refuse("chain", `${what} is not an X.509 v3 certificate`);
  const seen = new Set();
  for (const ext of cert.extensions) {
    if (ext.oid === OID.basicConstraints || ext.oid === OID.keyUsage) {
      if (seen.has(ext.oid)) refuse("chain", `${what} repeats an extension`);
      seen.add(ext.oid);
    } else if (ext.critical) refuse("chain", `${what} has an unknown critical extension ${ext.oid}`);
  }
  const usage = keyUsage(cert);
  if (!usage) refuse("chain", `${what} has no key usage`);
  const basic = basicConstraints(cert);
  if (role.ca) {
    if (!basic || !basic.ca) refuse("chain", `${what} is not marked as a CA`);
    if (basic.pathLen !== null && role.below > basic.pathLen) refuse("chain", `${what} allows ${basic.pathLen} CAs below it`);
    if (!usage.keyCertSign) refuse("chain", `${what} may not sign certificates`);
  } else {
    if (basic && basic.ca) refuse("chain", `${what} is a CA, not a signing leaf`);
    if (!usage.digitalSignature) refuse("chain", `${what} may not sign documents`);
  }
  checkValidity(cert, at, what);
}
async function checkSignedBy(cert, issuerKey, what) {
  if (cert.sigOid !== OID.ecdsaSha384 || cert.sigAlgHasParams || !equal(cert.outerAlg, cert.innerAlg)) refuse("chain", `${what} is not signed with ecdsa-with-SHA384`);
  if (!(await p384Verify(issuerKey, ecdsaRaw(cert.signature), cert.tbs))) refuse("chain", `the signature on ${what} does not verify`);
}

const NITRO_FIELDS = ["module_id", "timestamp", "digest", "pcrs", "certificate", "cabundle", "public_key", "user_data", "nonce"];

function parseNitroDocument(bytes) {
  if (bytes.length > 32 * 1024) refuse("malformed", "the document is larger than a Nitro document can be");
  let sign1 = cborDecode(bytes);
  if (sign1 && sign1.tag !== undefined) {
    if (sign1.tag !== 18) refuse("malformed", "a CBOR tag other than COSE_Sign1");
    sign1 = sign1.value;
  }
  if (!Array.isArray(sign1) || sign1.length !== 4) refuse("malformed", "not a COSE_Sign1 structure");
  const [protectedBytes, unprotected, payload, signature] = sign1;
  if (!(protectedBytes instanceof Uint8Array) || !(unprotected instanceof Map) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) refuse("malformed", "not a COSE_Sign1 structure");
  const header = protectedBytes.length ? cborDecode(protectedBytes) : new Map();
  if (!(header instanceof Map)) refuse("malformed", "the protected header is not a map");
  const alg = header.get("i:1");
  if (!alg || alg.int !== -35n) refuse("malformed", "the protected header does not name ES384");
  const crit = header.get("i:2");
  if (crit !== undefined && !(Array.isArray(crit) && crit.length === 0)) refuse("malformed", "the protected header lists critical parameters");
  if (signature.length !== 96) refuse("malformed", "the signature is not 96 bytes");
  const map = cborDecode(payload);
  if (!(map instanceof Map)) refuse("malformed", "the payload is not a map");
  const doc = {};
  for (const [key, value] of map) {
    if (!key.startsWith("t:") || !NITRO_FIELDS.includes(key.slice(2))) refuse("malformed", `the payload has an unknown field ${key}`);
    doc[key.slice(2)] = value;
  }
  const bytesOf = (value, min, max, what) => {
    if (!(value instanceof Uint8Array) || value.length < min || value.length > max) refuse("malformed", `${what} is not ${min} to ${max} bytes`);
    return value;
  };
  const optional = (value, what) => (value === null || value === undefined ? null : bytesOf(value, 0, 1024, what));
  if (typeof doc.module_id !== "string" || !doc.module_id) refuse("malformed", "module_id is not non-empty text");
  if (!doc.timestamp || doc.timestamp.int === undefined || doc.timestamp.int <= 0n || doc.timestamp.int > 0xffffffffffffffffn) refuse("malformed", "timestamp is not a positive 64-bit integer");
  if (doc.digest !== "SHA384") refuse("malformed", "digest is not SHA384");
  if (!(doc.pcrs instanceof Map) || doc.pcrs.size < 1 || doc.pcrs.size > 32) refuse("malformed", "pcrs is not a map of 1 to 32 entries");
  const pcrs = new Map();
  for (const [key, value] of doc.pcrs) {
    const index = key.startsWith("i:") ? Number(key.slice(2)) : -1;
    if (!(index >= 0 && index < 32)) refuse("malformed", "a PCR index is not an integer in 0..31");
    pcrs.set(index, bytesOf(value, 48, 48, `PCR${index}`));
  }
  bytesOf(doc.certificate, 1, 1024, "certificate");
  if (!Array.isArray(doc.cabundle) || doc.cabundle.length === 0) refuse("malformed", "cabundle is not a non-empty array");
  doc.cabundle.forEach((c, i) => bytesOf(c, 1, 1024, `cabundle[${i}]`));
  return {
    protectedBytes,
    payload,
    signature,
    timestampMs: doc.timestamp.int,
    pcrs,
    certificate: doc.certificate,
    cabundle: doc.cabundle,
    publicKey: optional(doc.public_key, "public_key"),
    userData: optional(doc.user_data, "user_data"),
    nonce: optional(doc.nonce, "nonce"),
  };
}

async function verifyNitro(bytes, rootDer, at) {
  const doc = parseNitroDocument(bytes);
  const root = parseCertificate(rootDer, "the root certificate");
  const intermediates = doc.cabundle.slice(1).map((der, i) => parseCertificate(der, `cabundle[${i + 1}]`));
  const leaf = parseCertificate(doc.certificate, "the signing certificate");
  const rootKey = await p384Key(root, "the root certificate");
  await checkSignedBy(root, rootKey, "the root certificate");
  checkCertificate(root, { ca: true, below: intermediates.length }, at, "the root certificate");
  let issuer = root;
  let issuerKey = rootKey;
  for (const [index, cert] of intermediates.entries()) {
    const what = `intermediate certificate ${index + 1}`;
    if (!equal(cert.issuer, issuer.subject)) refuse("chain", `${what} names another issuer`);
    await checkSignedBy(cert, issuerKey, what);
    checkCertificate(cert, { ca: true, below: intermediates.length - index - 1 }, at, what);
    issuerKey = await p384Key(cert, what);
    issuer = cert;
  }
  if (!equal(leaf.issuer, issuer.subject)) refuse("chain", "the signing certificate names another issuer");
  await checkSignedBy(leaf, issuerKey, "the signing certificate");
  checkCertificate(leaf, { ca: false }, at, "the signing certificate");
  const leafKey = await p384Key(leaf, "the signing certificate");
  const toBeSigned = concat(
    Uint8Array.of(0x84),
    cborEncodeBytes(3, utf8("Signature1")),
    cborEncodeBytes(2, doc.protectedBytes),
    cborEncodeBytes(2, new Uint8Array(0)),
    cborEncodeBytes(2, doc.payload),
  );
  if (!(await p384Verify(leafKey, doc.signature, toBeSigned))) refuse("signature", "the COSE_Sign1 signature does not verify under the signing certificate");
  const pcr = (i) => doc.pcrs.get(i) || refuse("malformed", `the document has no PCR${i}`);
  const zero = (p) => p.every((b) => b === 0);
  return {
    platform: "nitro",
    debug: [0, 1, 2].every((i) => doc.pcrs.has(i) && zero(doc.pcrs.get(i))),
    measurement: { kind: "nitro", pcr0: toHex(pcr(0)), pcr1: toHex(pcr(1)), pcr2: toHex(pcr(2)), pcr8: doc.pcrs.has(8) ? toHex(doc.pcrs.get(8)) : null },
    reportData: doc.userData,
    publicKey: doc.publicKey,
    nonce: doc.nonce,
  };
}

// ---- SEV-SNP ----------------------------------------------------------------------------

const SNP_REPORT_BYTES = 1184;
const SNP_SIGNED_BYTES = 0x2a0;

function rsaJwk(cert, what) {
  // SubjectPublicKeyInfo of RSA (rsaEncryption or RSASSA-PSS): RSAPublicKey ::= SEQUENCE {n, e}.
  if (cert.keyOid !== OID.rsaEncryption && cert.keyOid !== OID.rsaPss) refuse("chain", `${what} does not hold an RSA key`);
  const seq = derRead(cert.keyBits);
  const [n, e] = derChildren(seq, cert.keyBits);
  if (!n || !e || n.tag !== 2 || e.tag !== 2) refuse("chain", `${what} holds a malformed RSA key`);
  const b64url = (bytes) => {
    let body = bytes;
    while (body.length > 1 && body[0] === 0) body = body.subarray(1);
    let out = "";
    for (let i = 0; i < body.length; i += 3) {
      const chunk = (body[i] << 16) | ((body[i + 1] || 0) << 8) | (body[i + 2] || 0);
      const chars = [18, 12, 6, 0].map((s) => B64[(chunk >> s) & 63]);
      out += chars.slice(0, Math.ceil(((Math.min(3, body.length - i)) * 8) / 6)).join("");
    }
    return out.replace(/\+/g, "-").replace(/\//g, "_");
  };
  return { kty: "RSA", n: b64url(n.body), e: b64url(e.body), ext: true };
}
// AMD signs its ARK, ASK/ASVK and VCEK/VLEK certificates with RSASSA-PSS, SHA-384, salt 48.
async function checkPssSignedBy(cert, issuer, what) {
  if (cert.sigOid !== OID.rsaPss || !equal(cert.outerAlg, cert.innerAlg)) refuse("chain", `${what} is not signed with RSASSA-PSS`);
  let key;
  try {
    key = await crypto.subtle.importKey("jwk", rsaJwk(issuer, `the issuer of ${what}`), { name: "RSA-PSS", hash: "SHA-384" }, false, ["verify"]);
  } catch (_) {
    refuse("chain", `the issuer of ${what} holds an unusable RSA key`);
  }
  if (!(await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 48 }, key, cert.signature, cert.tbs))) refuse("chain", `the signature on ${what} does not verify`);
}

const le32 = (b, at) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] * 2 ** 24);
const le64 = (b, at) => BigInt(le32(b, at)) | (BigInt(le32(b, at + 4)) << 32n);

function parseSnpReport(bytes) {
  if (bytes.length !== SNP_REPORT_BYTES) refuse("malformed", `an SEV-SNP report is ${SNP_REPORT_BYTES} bytes, this is ${bytes.length}`);
  const version = le32(bytes, 0);
  if (version < 2 || version > 5) refuse("malformed", `SEV-SNP report version ${version} is not one this verifier knows (2 to 5)`);
  if (le32(bytes, 0x34) !== 1) refuse("malformed", "the report's signature algorithm is not ECDSA P-384 SHA-384");
  const keyInfo = le32(bytes, 0x48);
  if (keyInfo & 2) refuse("signature", "the report is unsigned (MASK_CHIP_KEY is set)");
  const signingKey = (keyInfo >> 2) & 7;
  if (signingKey > 1) refuse("malformed", `the report names signing key ${signingKey}, neither VCEK nor VLEK`);
  const zero = (from, to) => bytes.subarray(from, to).every((b) => b === 0);
  if (!zero(0x2a0 + 48, 0x2a0 + 72) || !zero(0x2a0 + 72 + 48, 0x2a0 + 144)) refuse("malformed", "the report signature has non-zero bytes beyond the P-384 components");
  if (!zero(0x2a0 + 144, SNP_REPORT_BYTES)) refuse("malformed", "the SEV-SNP report has non-zero reserved bytes");
  const policy = le64(bytes, 0x08);
  const reversed = (from) => Uint8Array.from(bytes.subarray(from, from + 48)).reverse();
  return {
    bytes,
    policy,
    vmpl: le32(bytes, 0x30),
    reportData: bytes.slice(0x50, 0x90),
    measurement: bytes.slice(0x90, 0xc0),
    hostData: bytes.slice(0xc0, 0xe0),
    reportedTcb: bytes.slice(0x180, 0x188),
    chipId: bytes.slice(0x1a0, 0x1e0),
    signingKey: signingKey === 0 ? "VCEK" : "VLEK",
    signature: concat(reversed(0x2a0), reversed(0x2a0 + 72)),
    debug: (policy & (1n << 19n)) !== 0n,
    migrationAgent: (policy & (1n << 18n)) !== 0n,
  };
}

const PRODUCTS = [
  { name: "Milan", roots: "milan", fmc: false },
  { name: "Genoa", roots: "genoa", fmc: false },
  { name: "Turin", roots: "turin", fmc: true },
];

// The reported TCB's bytes: Milan and Genoa [bootloader, tee, 0, 0, 0, 0, snp, microcode];
// Turin [fmc, bootloader, tee, snp, 0, 0, 0, microcode].
function tcbOf(bytes, fmc) {
  return fmc
    ? { fmc: bytes[0], bootloader: bytes[1], tee: bytes[2], snp: bytes[3], microcode: bytes[7] }
    : { fmc: null, bootloader: bytes[0], tee: bytes[1], snp: bytes[6], microcode: bytes[7] };
}

function smallInteger(value, what) {
  const node = derRead(value);
  if (node.tag !== 2 || node.end !== value.length || node.body.length < 1 || node.body.length > 2 || (node.body.length === 2 && node.body[0] !== 0)) refuse("malformed", `the VEK's ${what} extension is not a small integer`);
  const n = node.body[node.body.length - 1];
  if (node.body.length === 1 && n > 127) refuse("malformed", `the VEK's ${what} extension is not a small integer`);
  return n;
}

async function verifySnp(envelope, at) {
  const report = parseSnpReport(fromBase64(envelope.report));
  const vek = parseCertificate(fromBase64(envelope.vek), "the VEK certificate");
  if (!equal(vek.outerAlg, vek.innerAlg)) refuse("malformed", "the VEK's outer signature algorithm is not what it signed");
  let product = null;
  let intermediate = null;
  let ark = null;
  for (const candidate of PRODUCTS) {
    const roots = ROOTS[candidate.roots];
    const inter = parseCertificate(fromBase64(report.signingKey === "VCEK" ? roots.ask : roots.asvk), "the built-in intermediate");
    if (!equal(vek.issuer, inter.subject)) continue;
    try {
      await checkPssSignedBy(vek, inter, "the VEK certificate");
    } catch (_) {
      continue;
    }
    product = candidate;
    intermediate = inter;
    ark = parseCertificate(fromBase64(roots.ark), "the built-in ARK");
    break;
  }
  if (!product) refuse("chain", `the ${report.signingKey} certificate was not issued by any built-in AMD key (Milan, Genoa, Turin)`);
  await checkPssSignedBy(ark, ark, "the ARK");
  await checkPssSignedBy(intermediate, ark, "the intermediate");
  checkValidity(ark, at, "the ARK");
  checkValidity(intermediate, at, report.signingKey === "VCEK" ? "the ASK" : "the ASVK");
  checkValidity(vek, at, "the VEK certificate");
  const vekKey = await p384Key(vek, "the VEK certificate");
  if (!(await p384Verify(vekKey, report.signature, report.bytes.subarray(0, SNP_SIGNED_BYTES)))) refuse("signature", "the report signature does not verify under the VEK");

  const required = (oid, what) => {
    const value = vek.extension(oid);
    if (!value) refuse("malformed", `the VEK has no ${what} extension`);
    return smallInteger(value, what);
  };
  const certified = {
    fmc: product.fmc ? required(OID.fmcSpl, "fmcSPL") : null,
    bootloader: required(OID.blSpl, "blSPL"),
    tee: required(OID.teeSpl, "teeSPL"),
    snp: required(OID.snpSpl, "snpSPL"),
    microcode: required(OID.ucodeSpl, "ucodeSPL"),
  };
  const nameValue = vek.extension(OID.productName);
  if (nameValue) {
    const node = derRead(nameValue);
    if (node.tag !== 0x16) refuse("malformed", "the VEK's productName is not IA5 text");
    const name = new TextDecoder().decode(node.body);
    if (!name.startsWith(product.name)) refuse("chain", `the VEK says product ${name}, its chain is ${product.name}`);
  }
  const reported = tcbOf(report.reportedTcb, product.fmc);
  for (const part of ["fmc", "bootloader", "tee", "snp", "microcode"]) {
    if (certified[part] !== reported[part]) refuse("chain", "the VEK was issued for another TCB than the report claims");
  }
  if (report.signingKey === "VCEK") {
    const hwId = vek.extension(OID.hwId);
    if (!hwId) refuse("malformed", "the VCEK has no hwID extension");
    const ok = hwId.length > 0 && hwId.length <= 64 && equal(report.chipId.subarray(0, hwId.length), hwId) && report.chipId.subarray(hwId.length).every((b) => b === 0);
    if (!ok) refuse("chain", "the VCEK belongs to another chip (hwID differs from the report's chip_id)");
  }
  return {
    platform: "sev-snp",
    debug: report.debug,
    migrationAgent: report.migrationAgent,
    reportedTcb: reported,
    measurement: { kind: "sev-snp", measurement: toHex(report.measurement), hostData: toHex(report.hostData), vmpl: report.vmpl },
    reportData: report.reportData,
    publicKey: null,
    nonce: null,
  };
}

// ---- the allowed sets, the binding, the verdict -----------------------------------------

// The first live entry of the allowed sets (the policy's canonical JSON) that admits the
// measurement, after the debug rule; then the SNP floor and the configuration pin.
function checkPolicy(verified, sets, at, boundKeys) {
  if (verified.debug && sets.allowDebug !== true) refuse("debug", "debug evidence is refused unless the allowed sets allow it");
  const m = verified.measurement;
  const matches = (e) =>
    e.kind === m.kind &&
    (m.kind === "nitro"
      ? e.pcr0 === m.pcr0 && e.pcr1 === m.pcr1 && e.pcr2 === m.pcr2 && (e.pcr8 === null || e.pcr8 === m.pcr8)
      : e.measurement === m.measurement && (e.hostData === null || e.hostData === m.hostData) && e.vmpl === m.vmpl);
  let expired = null;
  let entry = null;
  for (const e of sets.entries.filter(matches)) {
    if (e.expires !== null && at >= e.expires) expired = expired || e;
    else {
      entry = e;
      break;
    }
  }
  if (!entry) refuse(expired ? "policy_expired" : "measurement", expired ? `entry ${expired.name} has expired` : "no allowed set admits this measurement");
  if (m.kind === "sev-snp") {
    if (verified.migrationAgent && sets.allowMigrationAgent !== true) refuse("platform", "the guest policy allows a migration agent");
    if (entry.minTcb) {
      for (const part of ["bootloader", "tee", "snp", "microcode"]) {
        if (verified.reportedTcb[part] < entry.minTcb[part]) refuse("platform", `reported TCB ${part} is below the entry's minimum`);
      }
    }
  }
  return entry;
}

const BINDING_DOMAIN = "aip-signer/attestation/v2";
const CONFIG_DOMAIN = "aip-signer/config/v1";

// attestation/spec/binding.md, v2: SHA-512 over length-prefixed fields; the release key's
// Ethereum address (20 bytes) is the third field.
async function bindingOf(keys, address, nonce) {
  const fields = [utf8(BINDING_DOMAIN), keys.tlsSpkiSha256, keys.signingPublicKey, address, keys.configSha256, nonce];
  const parts = [];
  for (const field of fields) {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, field.length);
    parts.push(length, field);
  }
  return digest("SHA-512", concat(...parts));
}

// Verifies `envelope` (the evidence JSON) at `at` (unix seconds) against the allowed sets.
// `options.devRoot` (DER) trusts dev evidence under that root; `options.binding` is
// {keys, address, nonce} to check the binding. Returns the verified facts or throws Refused.
async function verifyEvidence(envelope, sets, at, options = {}) {
  try {
    return await verifyEvidenceUnclassified(envelope, sets, at, options);
  } catch (error) {
    // Anything not refused on purpose (text that is not UTF-8, a key WebCrypto rejects) is
    // input this verifier does not understand.
    if (error instanceof Refused) throw error;
    return refuse("malformed", String(error && error.message));
  }
}

async function verifyEvidenceUnclassified(envelope, sets, at, options) {
  if (!envelope || envelope.version !== 1) refuse("malformed", "not a version 1 evidence envelope");
  const known = { nitro: ["document"], dev: ["document"], "sev-snp": ["report", "vek", "chain"] }[envelope.platform];
  if (!known) refuse("malformed", "unknown platform");
  for (const key of Object.keys(envelope)) {
    if (key !== "version" && key !== "platform" && !known.includes(key)) refuse("malformed", `the envelope has ${key} for platform ${envelope.platform}`);
  }
  let verified;
  if (envelope.platform === "sev-snp") {
    if (typeof envelope.report !== "string" || typeof envelope.vek !== "string") refuse("malformed", "the envelope lacks the report or the VEK");
    verified = await verifySnp(envelope, at);
  } else {
    if (typeof envelope.document !== "string") refuse("malformed", "the envelope has no document");
    const root = envelope.platform === "dev" ? options.devRoot || refuse("chain", "dev evidence is trusted only under an explicit dev root") : fromBase64(ROOTS.awsNitroRootG1);
    verified = await verifyNitro(fromBase64(envelope.document), root, at);
    verified.platform = envelope.platform;
  }
  let entry = null;
  if (sets) {
    entry = checkPolicy(verified, sets, at, options.binding && options.binding.keys);
  } else if (verified.debug) {
    refuse("debug", "debug evidence is refused without allowed sets that allow it");
  }
  const binding = options.binding;
  if (binding) {
    if (entry && entry.config !== null) {
      const identity = fromHex(entry.config, 32);
      const expected = await digest("SHA-256", concat(utf8(CONFIG_DOMAIN), identity, options.setsSha256));
      if (!equal(expected, binding.keys.configSha256)) refuse("config", `the evidence binds another configuration than entry ${entry.name} pins`);
    }
    if (verified.platform !== "sev-snp" && !(verified.nonce && equal(verified.nonce, binding.nonce))) refuse("nonce", "the document does not carry the nonce");
    const expected = await bindingOf(binding.keys, binding.address, binding.nonce);
    if (!verified.reportData || !equal(verified.reportData, expected)) refuse("binding", "the evidence does not bind these keys, this nonce and this address");
  } else if (entry && entry.config !== null) {
    refuse("config", "the entry pins the configuration; the bound keys are needed to check it");
  }
  verified.entry = entry ? entry.name : null;
  return verified;
}

// The condition's method. Every argument is a string the node spliced in.
async function go(attestation, allowedSets, allowedSetsSha256, userAddress) {
  try {
    const setsBytes = fromBase64(allowedSets, true);
    const setsSha256 = await digest("SHA-256", setsBytes);
    if (toHex(setsSha256) !== allowedSetsSha256) return "false";
    const sets = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(setsBytes));
    if (!sets.entries.every((e) => typeof e.config === "string")) return "false";
    const param = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64(attestation, true)));
    if (!/^0x[0-9a-fA-F]{40}$/.test(userAddress)) return "false";
    const keys = {
      tlsSpkiSha256: fromHex(param.boundKeys.tlsSpkiSha256, 32),
      signingPublicKey: fromHex(param.boundKeys.signingPublicKey, 32),
      configSha256: fromHex(param.boundKeys.configSha256, 32),
    };
    const options = {
      devRoot: typeof sets.devRoot === "string" ? fromBase64(sets.devRoot) : undefined,
      setsSha256,
      binding: { keys, address: fromHex(userAddress.slice(2).toLowerCase(), 20), nonce: fromHex(param.nonce) },
    };
    const at = Math.floor(Date.now() / 1000);
    await verifyEvidence(param.evidence, sets, at, options);
    return "true";
  } catch (_) {
    return "false";
  }
}
