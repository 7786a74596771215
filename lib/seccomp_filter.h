// kcm-hook's syscall confinement: a seccomp allow-list installed before it reads its
// untrusted stdin (docs/hook.md "Confinement").
//
// The hook runs as root in the runtime's namespaces on every container start, so a bug
// in its parsers must not turn into code execution, directly or through another root
// service. Every syscall not on the list fails with EPERM (not a kill: the hook can still
// report the failure). The list holds what the hook needs — files, flock, the lock
// watchdog's timer, affinity, sendto on the syslog connection made before it (log.h) —
// and nothing that executes programs, opens or connects sockets, makes links or device
// nodes, or sets setuid bits. The .cpp records why each is in or out.
//
// Order: this filter goes in first, for every container, because it needs no input;
// Landlock (landlock.h) follows only for containers that ask for CPUs, once their state
// names the cgroup to write, so the filter allows the landlock syscalls (they only ever
// take rights away) and Landlock relies on the no_new_privs this sets.
#pragma once

namespace kcm {

// Installs the filter for the calling process (all threads), setting no_new_privs as
// seccomp requires. Irreversible. Throws Error when the kernel refuses it.
void install_hook_seccomp_filter();

}  // namespace kcm
