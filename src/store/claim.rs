//! One server per SQLite data directory. SQLite is one process's store: two `cadre serve` on
//! the same directory would each drive the same jobs from their own memory and write over each
//! other. The first takes an exclusive lock on `<data_dir>/cadre.lock` (an OS file lock, so it
//! goes with the process however it ends, kill -9 included) and keeps it while it serves; a
//! second is refused at start with a message that says why and what to do instead.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "cadre.lock";

/// Held while the server runs; the lock goes when it is dropped or the process ends.
#[derive(Debug)]
pub struct DataDirClaim {
    _file: File,
}

/// Takes the data directory for this process, or says which one already has it.
pub fn claim_data_dir(dir: &Path) -> Result<DataDirClaim, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            let pid = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
            return Err(format!(
                "another cadre server{pid} is using the data directory {}: SQLite serves one server \
                 at a time; stop it first, or run several servers over PostgreSQL (store.database_url)",
                dir.display()
            ));
        }
        Err(TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
    }
    // Who holds it, for the next one's message; the lock, not this text, is what counts.
    file.set_len(0)
        .and_then(|()| write!(file, "{}", std::process::id()))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(DataDirClaim { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_one_directory_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().unwrap();
        let first = claim_data_dir(dir.path()).unwrap();
        let refused = claim_data_dir(dir.path()).unwrap_err();
        assert!(refused.contains(&format!("(process {})", std::process::id())), "{refused}");
        assert!(refused.contains("run several servers over PostgreSQL"), "{refused}");
        drop(first);
        claim_data_dir(dir.path()).expect("free again once the first is dropped");
    }
}
