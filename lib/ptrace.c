/* The ptrace pre-flight check: capabilities, seccomp mode and Yama scope, from /proc. */
#include "ptrace.h"
#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_SYS_PTRACE_BIT 19

static const char *field(const char *status, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = status; p && *p; ) {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static const char container_hint[] =
	"run the container with --cap-add SYS_PTRACE, or --privileged as hydra does";

void ptrace_assess(const char *status, int yama_scope, struct ptrace_facts *ret)
{
	struct ptrace_facts f;
	const char *v;

	memset(&f, 0, sizeof(f));
	f.seccomp = -1;
	f.yama_scope = yama_scope;
	f.cap_sys_ptrace = true;
	if (status && (v = field(status, "CapEff"))) {
		unsigned long long caps = strtoull(v, NULL, 16);
		f.cap_sys_ptrace = (caps >> CAP_SYS_PTRACE_BIT) & 1;
	}
	if (status && (v = field(status, "Seccomp")))
		f.seccomp = atoi(v);

	if (yama_scope >= 3) {
		f.verdict = PTRACE_NO;
		snprintf(f.reason, sizeof(f.reason),
			 "kernel.yama.ptrace_scope is %d: no process may trace another", yama_scope);
		snprintf(f.hint, sizeof(f.hint),
			 "set kernel.yama.ptrace_scope to 1 on the host (it cannot be lowered until reboot once 3)");
	} else if (yama_scope == 2 && !f.cap_sys_ptrace) {
		f.verdict = PTRACE_NO;
		snprintf(f.reason, sizeof(f.reason),
			 "kernel.yama.ptrace_scope is 2 and this process lacks CAP_SYS_PTRACE");
		snprintf(f.hint, sizeof(f.hint), "%s, or set kernel.yama.ptrace_scope to 1 on the host",
			 container_hint);
	} else if (f.seccomp == 1) {
		f.verdict = PTRACE_NO;
		snprintf(f.reason, sizeof(f.reason), "this process runs in strict seccomp mode");
		snprintf(f.hint, sizeof(f.hint), "run sctprof outside the strict seccomp sandbox");
	} else if (f.seccomp == 2 && !f.cap_sys_ptrace) {
		f.verdict = PTRACE_MAYBE;
		snprintf(f.reason, sizeof(f.reason),
			 "a seccomp filter is active and CAP_SYS_PTRACE is missing: a container's "
			 "default profile blocks process_vm_readv");
		snprintf(f.hint, sizeof(f.hint), "%s", container_hint);
	}
	*ret = f;
}

void ptrace_probe(struct ptrace_facts *ret)
{
	char *status = NULL, *scope = NULL;

	(void)read_head("/proc/self/status", 16384, &status, NULL);
	(void)read_head("/proc/sys/kernel/yama/ptrace_scope", 32, &scope, NULL);
	ptrace_assess(status, scope ? atoi(scope) : -1, ret);
	free(status);
	free(scope);
}
