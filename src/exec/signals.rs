//! Signals, the synchronous way: the wrapper blocks the signals it cares about and takes them
//! with `sigtimedwait`, so that no handler ever runs, no signal is lost between two checks, and
//! every wait in every phase doubles as the place where signals are handled.
//!
//! Blocked signals stay pending while the wrapper is busy (an HTTP call, say) and are taken at
//! the next wait; that delay is bounded by the per-request timeouts. The child must not inherit
//! that mask: the job's `Command` empties it, and resets every disposition, between `fork` and
//! `execve` ([`reset_for_exec`]).

use std::io;
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

use libc::c_int;

/// Signals forwarded to the job (never `SIGCHLD` or `SIGURG`).
pub const FORWARDED: [c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Signals that end the readiness wait (there is no job yet to forward them to). The other
/// forwarded signals are dropped until the job runs (as in the shell wrapper).
pub const STOPPING: [c_int; 2] = [libc::SIGTERM, libc::SIGINT];

/// The blocked set: [`FORWARDED`] plus `SIGCHLD`.
pub struct Signals {
    set: libc::sigset_t,
}

impl Signals {
    /// Blocks [`FORWARDED`] and `SIGCHLD` in the calling thread. Call it while the process has
    /// a single thread (the wrapper never starts another), so the whole process has them blocked.
    pub fn block() -> io::Result<Signals> {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set; sigaddset and pthread_sigmask get valid
        // pointers to it.
        let set = unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            let mut set = set.assume_init();
            for sig in FORWARDED.iter().chain(&[libc::SIGCHLD]) {
                libc::sigaddset(&mut set, *sig);
            }
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            set
        };
        Ok(Signals { set })
    }

    /// Takes one pending signal of the set, waiting up to `timeout` for one to arrive.
    /// `None` when the time passed with no signal.
    pub fn wait(&self, timeout: Duration) -> Option<c_int> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ts = libc::timespec {
                tv_sec: left.as_secs() as _,
                tv_nsec: left.subsec_nanos() as _,
            };
            // SAFETY: valid set and timespec; a null siginfo pointer is allowed.
            let sig = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &ts) };
            if sig > 0 {
                return Some(sig);
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) && !left.is_zero() {
                continue;
            }
            return None;
        }
    }
}

/// Empties the calling thread's signal mask. Async-signal-safe: used between `fork` and
/// `execve`.
pub fn unblock_all() -> io::Result<()> {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set before pthread_sigmask reads it.
    let rc = unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, set.as_ptr(), std::ptr::null_mut())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Prepares a child for `execve`: every signal's disposition back to `SIG_DFL` (`SIGKILL` and
/// `SIGSTOP` cannot change) and an empty mask. Async-signal-safe: runs between `fork` and
/// `execve`.
///
/// Handlers are reset by `execve` anyway, but ignored signals would survive it, and the
/// wrapper's own parent may have left some ignored (glibc's `posix_spawn` leaves its internal
/// signals 32 and 33 ignored; Python ignores `SIGXFSZ`). The raw `rt_sigaction` system call is
/// used because the libc wrappers refuse those internal signals.
pub fn reset_for_exec() -> io::Result<()> {
    // The kernel's `struct sigaction` all zero: SIG_DFL (0), no flags, empty mask. 32 bytes cover
    // every layout (handler, flags, optional restorer, 8-byte mask).
    let dfl = [0u64; 4];
    // Linux's signals are 1 to 64 on every architecture this builds for.
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: a valid, zeroed kernel sigaction and no old-action pointer; sigsetsize 8 is
        // the kernel's sigset size on these architectures. Errors (none expected) are ignored.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                dfl.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8usize,
            );
        }
    }
    unblock_all()
}

/// Raw wait status of a process that ended, as `waitpid` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStatus(pub c_int);

impl WaitStatus {
    /// The signal that killed the process, if one did.
    pub fn signal(self) -> Option<c_int> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }

    /// The exit code as a shell reports it: the process's own code, or 128+N for signal N.
    pub fn code(self) -> i32 {
        match self.signal() {
            Some(sig) => 128 + sig,
            None => libc::WEXITSTATUS(self.0),
        }
    }
}

/// Collects ended children without blocking. With `any` (the wrapper is PID 1 and inherits
/// every orphan of the container), reaps every ended child; otherwise only `pid`. Returns the
/// status of `pid` if it was among them.
pub fn reap(pid: libc::pid_t, any: bool) -> Option<WaitStatus> {
    let mut found = None;
    loop {
        let mut status: c_int = 0;
        let who = if any { -1 } else { pid };
        // SAFETY: plain waitpid with a valid status pointer.
        let r = unsafe { libc::waitpid(who, &mut status, libc::WNOHANG) };
        if r > 0 && r == pid {
            found = Some(WaitStatus(status));
        }
        if r <= 0 || !any {
            return found;
        }
    }
}

/// Whether this process is PID 1 of its PID namespace (a container's init).
pub fn is_pid1() -> bool {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() == 1 }
}

/// Sends `sig` to `pid`; errors (the process is already gone) do not matter.
pub fn send(pid: libc::pid_t, sig: c_int) {
    // SAFETY: kill has no memory effects.
    unsafe {
        libc::kill(pid, sig);
    }
}
