/* The parser sandbox (sandbox.h). The allow-list is kept as data, one row per
 * syscall, the way systemd's seccomp-util.c keeps its groups; argument filters narrow
 * the few calls that could do more than we need. libseccomp returns negative errnos:
 * every call is checked with `< 0`. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "error.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

bool sandbox_supported(void)
{
#ifdef SANITIZED
	return false;
#else
	return true;
#endif
}

/* Allowed without conditions: memory, I/O on open descriptors, time, exit. */
static const char *const allowed[] = {
	"read", "readv", "write", "writev", "pread64", "pwrite64", "lseek", "close", "fstat",
	"brk", "munmap", "mremap", "madvise",
	"exit", "exit_group", "rt_sigreturn", "rt_sigprocmask",
	"getpid", "gettid", "tgkill",                 /* abort() */
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"getrandom", "futex", "sysinfo",              /* glibc's qsort() asks for RAM size */
	NULL,
};

static int add(scmp_filter_ctx ctx, const char *name, unsigned n, const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name), r;

	if (nr == __NR_SCMP_ERROR)
		return 0;   /* not on this architecture */
	r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, args);
	if (r < 0)
		return err_set(-r, "sandbox: cannot allow %s: %s", name, strerror(-r));
	return 0;
}

int sandbox_enter(void)
{
	scmp_filter_ctx ctx = NULL;
	int r;

	/* Libraries that open a file lazily do it now: jansson reads /dev/urandom for its
	 * hash seed the first time an object is made. */
	json_object_seed(0);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(errno, "sandbox: cannot set no_new_privs: %s", strerror(errno));
#ifdef SANITIZED
	return 0;
#endif
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return err_set(ENOMEM, "sandbox: cannot create a seccomp filter");
	for (size_t i = 0; allowed[i]; i++)
		if ((r = add(ctx, allowed[i], 0, NULL)) < 0)
			goto out;
	{
		/* memory, never executable */
		struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
		/* fstat() of an open descriptor only: newfstatat(fd, "", buf, AT_EMPTY_PATH) */
		struct scmp_arg_cmp empty_path = SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH);
		/* isatty() on stdout, which stdio asks before choosing its buffering */
		struct scmp_arg_cmp tcgets = SCMP_A1(SCMP_CMP_EQ, TCGETS);
		struct scmp_arg_cmp fcntl_getfl = SCMP_A1(SCMP_CMP_EQ, F_GETFL);

		if ((r = add(ctx, "mmap", 1, &noexec)) < 0 || (r = add(ctx, "mprotect", 1, &noexec)) < 0 ||
		    (r = add(ctx, "newfstatat", 1, &empty_path)) < 0 ||
		    (r = add(ctx, "ioctl", 1, &tcgets)) < 0 ||
		    (r = add(ctx, "fcntl", 1, &fcntl_getfl)) < 0)
			goto out;
	}
	r = seccomp_load(ctx);
	if (r < 0)
		r = err_set(-r, "sandbox: cannot load the seccomp filter: %s (use --no-sandbox "
			    "where the kernel has no seccomp)", strerror(-r));
out:
	seccomp_release(ctx);
	return r;
}
