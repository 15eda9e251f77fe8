//! Harness for end-to-end tests: starting binaries and talking to them.
