/* launch - run a student's program with nothing of the test harness in its hands.
 *
 * Usage: DIR/.run/NAME [ARG...]  or  DIR/.run-uUID/NAME [ARG...]   (a symbolic link to launch)
 *        launch PROGRAM [ARG...]   (make trace and make bench)
 * Environment: SOCKLAB_KEEP_FDS=N keeps descriptors 3..N open too (a test that shows which descriptor
 *              socket() returns opens some itself); removed before PROGRAM runs.
 *
 * Every lab program a test runs is started through this (the tests' $LAB_BIN/NAME are symbolic links
 * to it, in a folder .run or .run-uUID beside the programs: see lab_setup_file in
 * tests/lib/socklab.bash), so no test can forget it. Called through such a link, it runs DIR/NAME
 * (as UID): the name it was started by comes from the kernel (AT_EXECFN), so it reads no file and
 * makes no call a test could be watching with strace (a shell script in between would: dash's own
 * fcntl() and read() would take the failures a test injects into the program's).
 *  - every descriptor above 2 is closed: bats' result stream (fd 3) and whatever else the harness
 *    holds never reach the program, so nothing it writes can be read as a test result;
 *  - as .run-uUID/NAME (the batch sandbox, tools/instructor/grade.sh, where the tests run as root of a user
 *    namespace): the program runs as UID instead, with no supplementary groups and no way to gain
 *    privileges (no_new_privs), keeping only CAP_NET_BIND_SERVICE and CAP_NET_RAW as ambient
 *    capabilities, so that it meets the network as root would (ports below 1024, raw sockets: what
 *    the tests expect of a program run as root) but cannot signal, trace or write anything of the
 *    harness. Where the process is not root (a test ran it as nobody, or in a namespace of
 *    nobody's), the UID changes nothing: it already is not the harness. Where it is root and cannot
 *    become UID, it refuses (status 126) instead of running the program as the harness.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/auxv.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "socklab.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static _Noreturn void refuse(const char *what)
{
	fprintf(stderr, "socklab launch: cannot run the program as the student's user: %s: %s\n", what,
		strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	exit(126);
}

/* Become uid (and gid) uid, keeping CAP_NET_BIND_SERVICE and CAP_NET_RAW across execve. */
static void become(uid_t uid)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	const int caps[] = { CAP_NET_BIND_SERVICE, CAP_NET_RAW };

	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) == -1)
		refuse("prctl(PR_SET_KEEPCAPS)");
	if (setgroups(0, NULL) == -1)
		refuse("setgroups");
	if (setresgid(uid, uid, uid) == -1)
		refuse("setresgid");
	if (setresuid(uid, uid, uid) == -1)
		refuse("setresuid");
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		data[0].permitted |= 1U << caps[i];
		data[0].effective |= 1U << caps[i];
		data[0].inheritable |= 1U << caps[i];
	}
	if (syscall(SYS_capset, &hdr, data) == -1)
		refuse("capset");
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)caps[i], 0L, 0L) == -1)
			refuse("prctl(PR_CAP_AMBIENT_RAISE)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == -1)
		refuse("prctl(PR_SET_NO_NEW_PRIVS)");
}

/* Started as DIR/.run[-uUID]/NAME: the program DIR/NAME into *real, UID into *uid (-1: none). */
static int by_link(const char *path, char *real, size_t size, long *uid)
{
	const char *name = strrchr(path, '/'), *run;
	size_t dirlen;

	if (name == NULL)
		return -1;
	for (run = name - 1; run > path && *run != '/'; run--)
		;
	if (*run != '/' || strncmp(run, "/.run", 5) != 0)
		return -1;
	*uid = -1;
	if (run[5] == '-' && run[6] == 'u') {
		char *end;

		errno = 0;
		*uid = strtol(run + 7, &end, 10);
		if (errno || end != name || *uid <= 0)
			return -1;
	} else if (run + 5 != name) {
		return -1;
	}
	dirlen = (size_t)(run - path);
	if ((size_t)snprintf(real, size, "%.*s%s", (int)dirlen, path, name) >= size)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int arg = 1;
	long uid = -1;
	static char real[4096];
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	const char *self = execfn ? strrchr(execfn, '/') : NULL;

	if (self != NULL && strcmp(self, "/launch") != 0) {
		if (by_link(execfn, real, sizeof real, &uid) == -1) {
			fprintf(stderr, "socklab launch: started as %s, not DIR/.run[-uUID]/NAME\n", execfn);
			return 126;
		}
		argv[0] = real;
		arg = 0;
	}
	if (arg >= argc) {
		fputs("usage: launch PROGRAM [ARG...], or a link DIR/.run[-uUID]/NAME to it\n", stderr);
		return 2;
	}
	const char *keep_s = getenv("SOCKLAB_KEEP_FDS");
	unsigned keep = keep_s && *keep_s >= '3' && *keep_s <= '9' && keep_s[1] == '\0' ? (unsigned)(*keep_s - '0') : 2;

	unsetenv("SOCKLAB_KEEP_FDS");
	/* close_range (Linux 5.9); where it is missing, one close() per possible descriptor. */
	if (syscall(SYS_close_range, keep + 1, ~0U, 0U) == -1) {
		long max = sysconf(_SC_OPEN_MAX);

		for (long fd = keep + 1; fd < (max > 0 ? max : 1024); fd++)
			close((int)fd);
	}
	if (uid > 0 && geteuid() == 0)
		become((uid_t)uid);
	execv(argv[arg], argv + arg);
	fprintf(stderr, "socklab launch: %s: %s (%s)\n", argv[arg],
		strerrorname_np(errno) ? strerrorname_np(errno) : "E?", strerror(errno));
	return 127;
}
