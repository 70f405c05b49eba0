//! How the process's allocator (mimalloc, the `hedui` binary's global
//! allocator) gives freed memory back to the system.
//!
//! mimalloc by default returns ("purges") memory that has been free for
//! 10 ms (100 ms for its arenas). A batch allocates and frees a report's
//! buffers for every household, so the same memory went back to the
//! kernel and was faulted in — and zeroed — again, over and over: in a
//! profile of `hedui verify` of 100,000 households, 7 % of all samples were
//! the kernel clearing pages (`clear_page_erms`), and on this VM freed
//! pages are also reported to the host. Keeping freed memory took that
//! run from 57.9–59.1 s to 49.2 s (the same binary, `MIMALLOC_PURGE_DELAY=-1`;
//! benches/README.md, 2026-12-04) at a peak of 2.4 GB,
//! the peak being what the batch holds anyway.
//!
//! So a command that runs and exits (`verify`, `demo`, `ingest`, …)
//! keeps the memory it freed until it exits; the server, which lives for
//! months and sees bursts, gives it back after a second idle (ten for the
//! arenas). `MIMALLOC_PURGE_DELAY` in the environment overrides both, as
//! mimalloc documents.

use std::ffi::{c_int, c_long};

/// mimalloc's `mi_option_purge_delay` (v3 `mimalloc.h`; libmimalloc-sys
/// exports no constant for it). `the_option_is_the_purge_delay` checks the
/// number against the environment variable of that name.
const PURGE_DELAY: c_int = 15;

/// When freed memory goes back to the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purge {
    /// Never, until the process exits: a command.
    AtExit,
    /// After this many milliseconds unused: a long-running server.
    AfterMillis(u32),
}

/// The server's delay.
pub const SERVER: Purge = Purge::AfterMillis(1000);

/// Sets the purge delay unless `MIMALLOC_PURGE_DELAY` set it. To be called
/// first thing in `main`, before any other thread exists (mimalloc's
/// options are not thread safe).
pub fn set_purge(p: Purge) {
    let value: c_long = match p {
        Purge::AtExit => -1,
        Purge::AfterMillis(ms) => c_long::from(ms),
    };
    // SAFETY: a plain setter of mimalloc's option table, called before
    // other threads start.
    unsafe { libmimalloc_sys::mi_option_set_default(PURGE_DELAY, value) }
}

/// The purge delay in force, in milliseconds (-1: never).
pub fn purge_delay() -> c_long {
    // SAFETY: a plain getter of mimalloc's option table.
    unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the test `name` of this binary again in a child process with
    /// `env` set (mimalloc reads its environment once, at start) and
    /// fails if the child's run of it does not pass.
    fn in_child(name: &str, env: &[(&str, &str)]) {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name])
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Run in a child process with the environment variable set: the
    /// option number read back is the one the variable names.
    #[test]
    fn the_option_is_the_purge_delay() {
        if let Ok(v) = std::env::var("HEDUI_TEST_PURGE_CHILD") {
            assert_eq!(purge_delay().to_string(), v);
            set_purge(Purge::AtExit);
            assert_eq!(purge_delay().to_string(), v, "the environment wins");
            return;
        }
        for v in ["1234", "-1"] {
            in_child(
                "allocator::tests::the_option_is_the_purge_delay",
                &[("HEDUI_TEST_PURGE_CHILD", v), ("MIMALLOC_PURGE_DELAY", v)],
            );
        }
    }

    #[test]
    fn a_setting_without_the_variable_holds() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        if std::env::var_os("HEDUI_TEST_PURGE_SET").is_some() {
            set_purge(Purge::AtExit);
            assert_eq!(purge_delay(), -1);
            set_purge(SERVER);
            assert_eq!(purge_delay(), 1000);
            return;
        }
        in_child(
            "allocator::tests::a_setting_without_the_variable_holds",
            &[("HEDUI_TEST_PURGE_SET", "1")],
        );
    }
}
