/* The sandbox kills a process that opens a file, makes a socket, execs or ptraces
 * once inside, and lets it compute, allocate and write to descriptors it already has.
 * Each case runs in a forked child; the parent checks how the child ended. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "tap.h"

enum act { ACT_OPEN, ACT_OPENAT, ACT_SOCKET, ACT_EXECVE, ACT_PTRACE, ACT_FORK, ACT_WORK };

/* Returns the child's wait status. The child exits 0 if the action "succeeded" (it must
 * not, except ACT_WORK), 3 if it failed without being killed, 2 if entering failed. */
static int in_child(enum act a, int pipe_w)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		char *const argv[] = { (char *)"/bin/true", NULL };
		char *p;
		if (sandbox_enter() < 0)
			_exit(2);
		switch (a) {
		case ACT_OPEN:
			_exit(open("/etc/hostname", O_RDONLY) >= 0 ? 0 : 3);
		case ACT_OPENAT:
			_exit(openat(AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY) >= 0 ? 0 : 3);
		case ACT_SOCKET:
			_exit(socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 3);
		case ACT_EXECVE:
			execve("/bin/true", argv, NULL);
			_exit(3);
		case ACT_PTRACE:
			_exit(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : 3);
		case ACT_FORK:
			_exit(fork() >= 0 ? 0 : 3);
		case ACT_WORK:
			p = malloc(64 << 20);   /* mmap */
			if (!p)
				_exit(3);
			p[0] = 'o';
			p[1] = 'k';
			free(p);
			_exit(write(pipe_w, "ok", 2) == 2 ? 0 : 3);
		}
		_exit(4);
	}
	waitpid(pid, &st, 0);
	return st;
}

static void killed(enum act a, const char *what)
{
	int st = in_child(a, -1);

	if (!ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, what))
		printf("#   status %d (exited %d)\n", st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
	int fds[2], st;
	char buf[4] = "";

	if (!sandbox_supported()) {
		tap_skip("sandbox kills open()", "sanitizer build: no seccomp filter is loaded");
		return tap_done();
	}
	if (pipe(fds) < 0)
		return 1;
	st = in_child(ACT_WORK, fds[1]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
		tap_skip("sandbox", "seccomp is not available in this kernel or container");
		return tap_done();
	}
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "memory and writes to an open descriptor work inside");
	ok(read(fds[0], buf, 2) == 2 && buf[0] == 'o' && buf[1] == 'k', "what the child wrote arrived");
	killed(ACT_OPEN, "open() kills the process with SIGSYS");
	killed(ACT_OPENAT, "openat() kills the process with SIGSYS");
	killed(ACT_SOCKET, "socket() kills the process with SIGSYS");
	killed(ACT_EXECVE, "execve() kills the process with SIGSYS");
	killed(ACT_PTRACE, "ptrace() kills the process with SIGSYS");
	killed(ACT_FORK, "fork() kills the process with SIGSYS");
	return tap_done();
}
