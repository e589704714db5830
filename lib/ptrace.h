/* May this process read the memory of the Python processes it starts? Sampling profilers
 * (py-spy, profiling.sampling) need ptrace/process_vm_readv; inside a container that
 * takes CAP_SYS_PTRACE. Judged from /proc, without tracing anything. */
#pragma once

#include <stdbool.h>

enum ptrace_verdict {
	PTRACE_OK,      /* nothing stands in the way */
	PTRACE_MAYBE,   /* a seccomp filter without CAP_SYS_PTRACE: Docker's default profile
			 * blocks process_vm_readv */
	PTRACE_NO,      /* Yama forbids it */
};

struct ptrace_facts {
	enum ptrace_verdict verdict;
	bool cap_sys_ptrace;    /* CapEff has CAP_SYS_PTRACE */
	int seccomp;            /* Seccomp: 0 none, 1 strict, 2 filter; -1 unknown */
	int yama_scope;         /* kernel.yama.ptrace_scope; -1 without Yama */
	char reason[256];       /* why, when not PTRACE_OK */
	char hint[256];
};

/* From the text of /proc/self/status and the Yama scope (-1 when absent). */
void ptrace_assess(const char *proc_status, int yama_scope, struct ptrace_facts *ret);
/* Reads this process's /proc/self/status and /proc/sys/kernel/yama/ptrace_scope. Where
 * /proc is missing (not Linux) the answer is PTRACE_OK with unknowns. */
void ptrace_probe(struct ptrace_facts *ret);
