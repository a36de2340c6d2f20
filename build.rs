//! Builds the dashboard (`frontend/`, React + Vite) into `frontend/dist`, which
//! `src/dashboard.rs` embeds, so that `cargo run` on a fresh clone serves a working page.
//!
//! `npm ci` runs only when `node_modules` is missing or older than the lock file; the Vite
//! build reruns only when the frontend's sources change. `CADRE_SKIP_FRONTEND=1` skips both
//! (the Docker image builds the assets in a Node stage of its own; an edit-compile loop on the
//! Rust side does not need them).

use std::path::Path;
use std::process::{Command, Stdio};

const FRONTEND: &str = "frontend";
/// What the built assets depend on.
const SOURCES: [&str; 7] =
    ["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"];

fn main() {
    println!("cargo:rerun-if-env-changed=CADRE_SKIP_FRONTEND");
    // Skipping, the frontend's sources are not watched either, so editing them does not
    // rebuild the server (the embedded `dist` files are tracked by rust-embed itself).
    if std::env::var_os("CADRE_SKIP_FRONTEND").is_some_and(|v| v == "1") {
        return;
    }
    let frontend = Path::new(FRONTEND);
    // Only paths that exist: cargo counts a missing one as changed on every build.
    for source in SOURCES.iter().filter(|source| frontend.join(source).exists()) {
        println!("cargo:rerun-if-changed={FRONTEND}/{source}");
    }
    if !frontend.join("package.json").exists() {
        return;
    }
    if needs_install(frontend) {
        npm(frontend, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(frontend, &["run", "build"]);
}

/// `node_modules` is missing, or was installed from an older lock file.
fn needs_install(frontend: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let installed = modified(&frontend.join("node_modules/.package-lock.json"));
    let locked = modified(&frontend.join("package-lock.json"));
    match (installed, locked) {
        (Some(installed), Some(locked)) => installed < locked,
        _ => true,
    }
}

fn npm(frontend: &Path, args: &[&str]) {
    // npm's output goes to stderr: cargo reads a build script's stdout as instructions.
    let status = Command::new("npm")
        .args(args)
        .current_dir(frontend)
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .unwrap_or_else(|err| panic!("could not run npm (Node.js 20+ is needed to build the dashboard): {err}"));
    assert!(
        status.success(),
        "`npm {}` failed in {FRONTEND}/ ({status}); set CADRE_SKIP_FRONTEND=1 to build without the dashboard",
        args.join(" ")
    );
}
