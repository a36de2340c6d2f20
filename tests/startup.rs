//! `cadre serve` refusing to start leaves nothing behind: a malformed bootstrap key or a busy
//! port fails before the data directory is created and before an admin key is generated, and a
//! second server on a SQLite data directory another one uses is refused.

#[path = "support/server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod server;

use std::process::{Command, Output};

use server::BIN;

fn serve_once(data_dir: &std::path::Path, bind: &str, bootstrap_key: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.arg("serve").env("CADRE_BIND", bind).env("CADRE_DATA_DIR", data_dir);
    command.env_remove("DATABASE_URL").env_remove("CADRE_BOOTSTRAP_KEY");
    if let Some(key) = bootstrap_key {
        command.env("CADRE_BOOTSTRAP_KEY", key);
    }
    command.output().expect("cadre serve runs")
}

#[test]
fn a_malformed_bootstrap_key_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().expect("dir");
    let data_dir = dir.path().join("data");
    let bind = format!("127.0.0.1:{}", server::free_port());
    let output = serve_once(&data_dir, &bind, Some("not-a-key"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CADRE_BOOTSTRAP_KEY must start with `sk-orch-`"), "{stderr}");
    assert!(!data_dir.exists(), "nothing is created on disk");
}

#[test]
fn a_busy_port_fails_before_a_key_is_generated_or_anything_is_stored() {
    let dir = tempfile::tempdir().expect("dir");
    let data_dir = dir.path().join("data");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let bind = taken.local_addr().expect("address").to_string();
    let output = serve_once(&data_dir, &bind, None);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("cannot listen on {bind}")), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("sk-orch-"), "no admin key is shown: {stdout}");
    assert!(!data_dir.exists(), "nothing is created on disk");
}

#[test]
fn a_second_server_on_one_sqlite_data_directory_is_refused_and_the_first_goes_on() {
    let dir = tempfile::tempdir().expect("dir");
    let data_dir = dir.path().join("data");
    let (first, _) = server::serve(&data_dir, None);
    let bind = format!("127.0.0.1:{}", server::free_port());
    let second = serve_once(&data_dir, &bind, None);
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    let pid = first.child.id();
    assert!(stderr.contains(&format!("another cadre server (process {pid}) is using the data directory")), "{stderr}");
    assert!(stderr.contains("run several servers over PostgreSQL"), "{stderr}");
    // The first server still answers.
    server::wait_healthy(&first.url, &data_dir.with_extension("log"));
    // Killed, it lets go (the lock is the process's): the next one starts.
    drop(first);
    let (third, _) = server::serve(&data_dir, None);
    drop(third);
}
