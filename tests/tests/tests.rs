//! One integration-test binary for the whole workspace (ripgrep's pattern):
//! - `architecture`: what may depend on what;
//! - `contract`: the forge client and the sandbox against GitHub's published OpenAPI description;
//! - `ipc_surface`: the commands, capabilities, CSP and configs the window gets;
//! - `e2e`: the real window, driven over WebDriver, against the sandbox forge;
//! - `gate_workflow`: the example CI workflow's triggers, and its gate step run against the sandbox;
//! - `interop`: our DSSE envelopes against securesystemslib;
//! - `signing_cli`: the headless signing ceremony with the real OS keychain;
//! - `requirements`: docs/requirements.toml against the tests and Part 11.

mod architecture;
mod contract;
mod e2e;
mod gate_workflow;
mod interop;
mod ipc_surface;
mod requirements;
mod signing_cli;
