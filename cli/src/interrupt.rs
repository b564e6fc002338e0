//! What an interrupt does: Ctrl-C (SIGINT), or SIGTERM or SIGHUP as `kill`, `timeout` or a closed
//! terminal send them (the `ctrlc` crate's `termination` feature).
//!
//! Every command but `measure` stops at once and removes the temporary files of the outputs it
//! was writing ([`validate::atomic_file::remove_temporaries_and_exit`]): the outputs it had
//! finished stay, the one it was writing is left as it was, and no half-written temporary file is
//! left beside it. `measure` installs its own handler, which first deletes the run's namespace.
//! A SIGHUP that was ignored (`nohup kubetwin sweep ...`) stays ignored: a logout does not end a
//! run its user meant to outlive the session.

use anyhow::Context;

/// Exit status after an interrupt: 128 + SIGINT, what a shell reports for a process Ctrl-C
/// killed.
pub(crate) const INTERRUPTED: i32 = 130;

/// Installs `handler` for Ctrl-C, SIGTERM and SIGHUP, leaving an ignored SIGHUP ignored.
///
/// # Errors
/// When a handler is installed already, or the signal's disposition cannot be set.
pub(crate) fn install(handler: impl FnMut() + Send + 'static) -> anyhow::Result<()> {
    let nohup = sighup::ignored();
    let installed = ctrlc::set_handler(handler).context("cannot install the Ctrl-C handler");
    if nohup {
        sighup::ignore();
    }
    installed
}

/// The handler of every command but `measure`: removes the temporary files of the outputs being
/// written, says so, and exits with [`INTERRUPTED`].
///
/// # Errors
/// As [`install`].
pub(crate) fn install_default() -> anyhow::Result<()> {
    install(|| {
        eprintln!("\nkubetwin: interrupted; outputs not yet complete were not written");
        validate::atomic_file::remove_temporaries_and_exit(INTERRUPTED)
    })
}

/// SIGHUP's disposition, which ctrlc's `termination` feature replaces with its handler.
#[cfg(unix)]
#[allow(unsafe_code)] // Two libc calls that read or set a signal's disposition; see SAFETY.
mod sighup {
    /// Whether SIGHUP is ignored now.
    pub(super) fn ignored() -> bool {
        // SAFETY: with a null new action `sigaction` only writes the current one into `old`, a
        // zero-initialised `libc::sigaction` we own (all-zero is a valid value of that C struct).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
        }
    }

    /// Ignores SIGHUP again.
    pub(super) fn ignore() {
        // SAFETY: SIG_IGN installs no code of ours; it restores what `nohup` had set.
        unsafe {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
        }
    }
}

/// Elsewhere there is no SIGHUP.
#[cfg(not(unix))]
mod sighup {
    pub(super) fn ignored() -> bool {
        false
    }
    pub(super) fn ignore() {}
}
