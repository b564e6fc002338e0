//! What an interrupt does: Ctrl-C (SIGINT), or SIGTERM or SIGHUP as `kill`, `timeout` or a closed
//! terminal send them.
//!
//! Every command but `measure` ends at once ([`install_default`]): it removes the temporary files
//! of the outputs it was writing ([`validate::atomic_file::remove_temporaries`]), so the outputs it
//! had finished stay, the one it was writing is left as it was, and no half-written file is left
//! beside it; then it dies by the signal, as without a handler, so that a shell script's loop
//! stops on Ctrl-C as it would for any other command. `measure` installs its own handler, which
//! first deletes the run's namespace ([`install`]).
//!
//! A signal that was ignored when kubetwin started stays ignored: SIGHUP under `nohup` (a logout
//! does not end a run meant to outlive the session), SIGINT for a background job of a script
//! (Ctrl-C is for the script's foreground command).

use std::io::Write;

use anyhow::Context;

/// Installs `on_signal`, called with the signal's number on a thread of its own, once per
/// signal and one signal after another, for each of SIGINT, SIGTERM and SIGHUP that is not
/// ignored now.
///
/// # Errors
/// When the signals cannot be registered or the thread cannot start.
#[cfg(unix)]
pub(crate) fn install(mut on_signal: impl FnMut(i32) + Send + 'static) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let wanted: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|&s| !disposition::ignored(s))
        .collect();
    let mut signals =
        signal_hook::iterator::Signals::new(&wanted).context("cannot handle Ctrl-C, SIGTERM or SIGHUP")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                on_signal(signal);
            }
        })
        .context("cannot start the thread that handles Ctrl-C")?;
    Ok(())
}

/// Elsewhere, Ctrl-C only, through the `ctrlc` crate; it does not say which signal came, so
/// `on_signal` is given SIGINT's number, 2.
#[cfg(not(unix))]
pub(crate) fn install(mut on_signal: impl FnMut(i32) + Send + 'static) -> anyhow::Result<()> {
    ctrlc::set_handler(move || on_signal(2)).context("cannot install the Ctrl-C handler")
}

/// The handler of every command but `measure`: [`end_by`] the signal, saying that the outputs
/// not yet complete were not written.
///
/// # Errors
/// As [`install`].
pub(crate) fn install_default() -> anyhow::Result<()> {
    install(|signal| {
        end_by(
            signal,
            "kubetwin: interrupted; outputs not yet complete were not written",
        )
    })
}

/// Ends the process because of `signal`: lets a second signal kill it at once should anything
/// below block, removes its temporary files and keeps new ones from being made, says `message`
/// on stderr if stderr is still there (a closed terminal or a dead `| tee` is no reason to keep
/// running), and dies by `signal`'s default action, so its parent sees it killed by the signal.
pub(crate) fn end_by(signal: i32, message: &str) -> ! {
    disposition::reset_all();
    let _held = validate::atomic_file::remove_temporaries();
    let _ = writeln!(std::io::stderr(), "\n{message}");
    disposition::die_by(signal)
}

/// Signal dispositions, through `libc` and `signal-hook`'s low-level calls.
#[cfg(unix)]
#[allow(unsafe_code)] // Two libc calls that read or set a signal's disposition; see SAFETY.
mod disposition {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

    /// Whether `signal` is ignored now.
    pub(super) fn ignored(signal: i32) -> bool {
        // SAFETY: with a null new action `sigaction` only writes the current one into `old`, a
        // zero-initialised `libc::sigaction` we own (all-zero is a valid value of that C struct).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
        }
    }

    /// Gives back the default action to the signals kubetwin handles (not to one that was
    /// ignored, which it never handled).
    pub(super) fn reset_all() {
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            if !ignored(signal) {
                // SAFETY: SIG_DFL installs no code of ours; the kernel's default action follows.
                unsafe {
                    libc::signal(signal, libc::SIG_DFL);
                }
            }
        }
    }

    /// Dies by `signal`'s default action; exits with 128 + `signal` should the signal not end it.
    pub(super) fn die_by(signal: i32) -> ! {
        let _ = signal_hook::low_level::emulate_default_handler(signal);
        std::process::exit(128 + signal)
    }
}

/// Elsewhere, there is only an exit status.
#[cfg(not(unix))]
mod disposition {
    pub(super) fn reset_all() {}

    pub(super) fn die_by(signal: i32) -> ! {
        std::process::exit(128 + signal)
    }
}
