// kcm-hook's confinement: a seccomp allow-list installed before it reads its untrusted
// stdin (DESIGN.md "kcm-hook", "Confinement").
//
// The hook runs as root in the runtime's namespaces on every container start, so a bug
// in its parsers must not turn into code execution or network access. Every syscall not
// on the list fails with EPERM (not a kill: the hook can still report the failure). The
// list holds what the hook needs — files, flock, the lock watchdog's timer, affinity, and
// an AF_UNIX socket for syslog — and nothing that executes programs (execve, execveat)
// or opens network sockets.
#pragma once

namespace kcm {

// Installs the filter for the calling process (all threads), setting no_new_privs as
// seccomp requires. Irreversible. Throws Error when the kernel refuses it.
void install_hook_seccomp_filter();

}  // namespace kcm
