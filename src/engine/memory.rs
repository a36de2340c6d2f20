//! Handing the memory a large job freed back to the operating system.
//!
//! glibc's allocator keeps what a program frees for its next allocations and returns only
//! the top of its heap by itself. A large job's request tree — hundreds of bytes per node,
//! freed as soon as the job is planned — would otherwise stay resident beside the driver's
//! arena, which is allocated afresh, and a finished job's nodes would stay resident after
//! it. `malloc_trim` gives the free pages back (measured on `million`: see BENCHMARKS.md).

/// Nodes from which a job's freed memory is worth a trim (a trim walks the whole heap).
pub const LARGE_JOB_NODES: usize = 10_000;

/// Returns free heap pages to the operating system (glibc only; a no-op elsewhere).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only reads and updates glibc's own allocator state, under its
    // locks; it has no precondition on the caller.
    unsafe {
        libc::malloc_trim(0);
    }
}
