//! Worker processes a previous server left behind (SPEC §2.9): a server killed with SIGKILL
//! cannot stop the process groups of its `command` workers, which live on in groups of their
//! own. Before a restarted server re-runs those nodes it stops the old processes, so that the
//! same work never runs twice at once.
//!
//! Two ways to find them: the store's record of every running group (its id and the start
//! time of its leader, so a reused pid is never mistaken for ours), and, for a process that
//! started in the instant before its record was stored, the `CADRE_JOB_ID` every worker
//! carries in its environment.

use std::collections::HashSet;
use std::time::Duration;

use crate::store::ProcessRow;

/// How often the stop loop looks whether the groups have gone.
const STOP_POLL: Duration = Duration::from_millis(20);
/// `/proc/<pid>/stat` fields counted from the one after the command name's closing `)`.
const STAT_PGRP: usize = 2;
const STAT_STARTTIME: usize = 19;
/// The variable naming a worker's job (see `JobRun::worker_env`).
const JOB_VARIABLE: &[u8] = b"CADRE_JOB_ID=";

/// The start time of a process, in clock ticks since boot: with the pid, what identifies it.
pub fn start_ticks(pid: u32) -> Option<u64> {
    stat_field(pid, STAT_STARTTIME)
}

fn stat_field(pid: u32, index: usize) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, fields) = stat.rsplit_once(')')?;
    fields.split_whitespace().nth(index)?.parse().ok()
}

/// True when the recorded group is still there and still ours: its leader is the process
/// recorded, or the leader is gone but members remain (a live group's id is never handed to
/// a new process).
fn is_ours(process: &ProcessRow) -> bool {
    let Ok(pid) = u32::try_from(process.pgid) else { return false };
    match start_ticks(pid) {
        Some(ticks) => i64::try_from(ticks).is_ok_and(|t| t == process.started_ticks),
        None => group_exists(process.pgid),
    }
}

fn group_exists(pgid: i64) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else { return false };
    // SAFETY: signal 0 only checks that the group exists and may be signalled.
    unsafe { libc::killpg(pgid, 0) == 0 }
}

fn signal(pgid: i64, signal: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // SAFETY: killpg only sends a signal; a group already gone (ESRCH) is what we want.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

/// Groups of processes whose environment names one of `job_ids`.
fn groups_of_jobs(job_ids: &HashSet<String>) -> HashSet<i64> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return HashSet::new() };
    let own_group = i64::from(std::process::id());
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| environment_names_job(pid, job_ids))
        .filter_map(|pid| stat_field(pid, STAT_PGRP).and_then(|g| i64::try_from(g).ok()))
        .filter(|&group| group != own_group && group > 1)
        .collect()
}

fn environment_names_job(pid: u32, job_ids: &HashSet<String>) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { return false };
    environ
        .split(|&b| b == 0)
        .filter_map(|var| var.strip_prefix(JOB_VARIABLE))
        .any(|value| std::str::from_utf8(value).is_ok_and(|id| job_ids.contains(id)))
}

/// Stops what is left of the recorded groups and of any other group working for
/// `job_ids`: SIGTERM, up to `grace` to exit, then SIGKILL. Returns how many groups it stopped.
pub async fn stop(recorded: &[ProcessRow], job_ids: &HashSet<String>, grace: Duration) -> usize {
    let mut groups: HashSet<i64> = recorded.iter().filter(|p| is_ours(p)).map(|p| p.pgid).collect();
    groups.extend(groups_of_jobs(job_ids));
    if groups.is_empty() {
        return 0;
    }
    for &group in &groups {
        signal(group, libc::SIGTERM);
    }
    let deadline = tokio::time::Instant::now() + grace;
    while groups.iter().any(|&g| group_exists(g)) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(STOP_POLL).await;
    }
    for &group in &groups {
        signal(group, libc::SIGKILL);
    }
    groups.len()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::Duration;

    use super::{start_ticks, stop};
    use crate::store::ProcessRow;

    fn spawn_group(env: &[(&str, &str)]) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        std::process::Command::new("sleep").arg("30").envs(env.iter().copied()).process_group(0).spawn().expect("sleep")
    }

    fn gone(child: &mut std::process::Child) -> bool {
        child.wait().is_ok_and(|status| !status.success())
    }

    #[tokio::test]
    async fn recorded_groups_and_groups_naming_a_job_are_stopped_and_reused_pids_spared() {
        let mut recorded = spawn_group(&[]);
        let mut by_env = spawn_group(&[("CADRE_JOB_ID", "job-a")]);
        let mut bystander = spawn_group(&[("CADRE_JOB_ID", "job-b")]);
        let pid = recorded.id();
        let row = |ticks: i64| ProcessRow {
            node_id: uuid::Uuid::nil(),
            job_id: uuid::Uuid::nil(),
            pgid: i64::from(pid),
            started_ticks: ticks,
        };
        let ticks = i64::try_from(start_ticks(pid).expect("ticks")).expect("fits");

        let reused = stop(&[row(ticks + 1)], &HashSet::new(), Duration::from_millis(100)).await;
        assert_eq!(reused, 0, "a pid whose start time differs is not ours");

        let jobs = HashSet::from(["job-a".to_string()]);
        assert_eq!(stop(&[row(ticks)], &jobs, Duration::from_secs(1)).await, 2);
        assert!(gone(&mut recorded) && gone(&mut by_env));
        assert!(bystander.try_wait().expect("status").is_none(), "another job's process is left alone");
        bystander.kill().expect("kill");
        bystander.wait().expect("reaped");
    }
}
