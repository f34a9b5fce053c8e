/* local_sv.c - lab 09, the server: an AF_LOCAL stream socket with a name in the file system, or
 * an abstract name that no file shows.
 *
 * Goal:  build a struct sockaddr_un for a path or an abstract name and compute its real length
 *        (offsetof(struct sockaddr_un, sun_path) + the bytes of the name, plus the NUL for a
 *        path); bind it and listen; serve clients one at a time. Meet the socket file: it appears
 *        at bind, it outlives a server killed by SIGKILL (the next bind gets EADDRINUSE until
 *        somebody unlinks it), and a server that ends cleanly removes its own file.
 * Usage: local_sv [-u] NAME
 *          NAME   a path, e.g. sv.sock (relative to the working directory) or /tmp/sv.sock; at
 *                 most 107 bytes, because sun_path holds 108 with the terminating NUL. Or @NAME
 *                 for an abstract name (at most 107 bytes after the @): no file is created.
 *          -u     unlink(NAME) before bind, to remove a stale socket file left by a server that
 *                 died (a path only; a missing file is fine)
 *        Prints "listening on NAME (addrlen N)", N being the length passed to bind(); then for
 *        each client "client K: peer unnamed (addrlen L)" and "client K: got LINE", and answers
 *        "echo: LINE\n". SIGTERM removes the socket file and exits 0.
 *        e.g. local_sv sv.sock;  local_sv -u sv.sock;  local_sv @socklab
 * Calls: socket(2), bind(2), listen(2), accept(2), unlink(2), read(2), send(2), close(2),
 *        sigaction(2), unix(7)
 * Done when: make check LAB=09 passes.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(const char *why)
{
	if (why)
		fprintf(stderr, "local_sv: %s\n", why);
	fputs("usage: local_sv [-u] NAME\n"
	      "  NAME: a path of 1..107 bytes (sun_path holds 108 with the NUL), or @NAME: an abstract\n"
	      "  name of 1..107 bytes; -u: unlink the path first (a stale socket file)\n",
	      stderr);
	exit(2);
}

/* Fill addr for NAME and return the length to pass to bind(): the family field plus the bytes of
 * the name that count. Returns 0 if NAME does not fit in sun_path (or is empty). */
static socklen_t make_addr(const char *name, struct sockaddr_un *addr)
{
	size_t n = strlen(name);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_LOCAL;
	if (name[0] != '@') {
		/* BEGIN SOLUTION TODO(09.1): A path name: refuse it (return 0) if it is empty or if
		 * it and its terminating NUL do not fit in sun_path; otherwise store it, NUL
		 * included, and return the address length: where sun_path starts in the structure,
		 * plus the bytes used. See unix(7) (Address format). */
		/* sun_path is a fixed array of 108 bytes: a longer path cannot be passed at all, and
		 * copying it anyway would write past the end of addr. Refuse it before any call. The
		 * length counts the family field (offsetof: 2 bytes), the path, and its NUL. */
		if (n == 0 || n >= sizeof(addr->sun_path))
			return 0;
		memcpy(addr->sun_path, name, n + 1);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		/* STUB: return 0; // placeholder: replace this line */
		/* END SOLUTION */
	}
	/* BEGIN SOLUTION TODO(09.2): An abstract name "@NAME": the first byte of sun_path stays NUL
	 * (that NUL is what makes the name abstract) and the bytes after the @ follow it. Refuse it
	 * (return 0) if there are none or too many to fit; otherwise return the length: where
	 * sun_path starts, plus the bytes used, with no terminating NUL counted. See unix(7)
	 * (Abstract sockets). */
	/* Every byte of the length belongs to the name, NULs included: "\0abc" with a length for
	 * those 4 bytes is another name than "\0abc\0\0..." with sizeof(*addr). So the length must
	 * be exact, and client and server must compute it the same way. */
	if (n < 2 || n - 1 > sizeof(addr->sun_path) - 1)
		return 0;
	memcpy(addr->sun_path + 1, name + 1, n - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (n - 1));
	/* STUB: (void)n; return 0; // placeholder: replace this line */
	/* END SOLUTION */
}

/* The path this server created, for the SIGTERM handler; empty until bind() succeeded, and for an
 * abstract name (no file). */
static char own_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char bye[160];
static size_t bye_len;

/* SIGTERM: remove our socket file and leave with status 0. Only async-signal-safe calls here:
 * unlink(), write() and _exit() are (printf() and exit() are not). */
static void on_term(int sig)
{
	(void)sig;
	/* BEGIN SOLUTION TODO(09.3): A server that ends cleanly removes the socket file it created:
	 * if own_path is not empty, remove that file. This runs in a signal handler, where only
	 * async-signal-safe functions may be called. See unlink(2), signal-safety(7). */
	/* Closing the socket does not remove the file: the name in the file system lives on
	 * until someone unlinks it, like any file. Only own_path is removed: it is set after our
	 * bind succeeded, so a server whose bind failed never deletes another server's file. */
	if (own_path[0] != '\0')
		unlink(own_path);
	/* END SOLUTION */
	if (write(STDOUT_FILENO, bye, bye_len) == -1) {
		/* nothing to do: we are leaving anyway */
	}
	_exit(0);
}

/* Read one line (up to a newline or end of file) into buf, NUL-terminated, newline dropped.
 * Returns the bytes read (0: end of file at once), or -1 with errno set. */
static ssize_t read_line(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size - 1) {
		ssize_t r = read(fd, buf + got, size - 1 - got);
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return (ssize_t)got;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr;
	int opt, unlink_first = 0;

	while ((opt = getopt(argc, argv, "+:u")) != -1) {
		if (opt == 'u')
			unlink_first = 1;
		else
			usage(NULL);
	}
	if (argc - optind != 1)
		usage(NULL);
	const char *name = argv[optind];
	socklen_t len = make_addr(name, &addr);
	if (len == 0) {
		/* Refused before any socket call: the kernel could only see a cut-down name. */
		char why[160];
		size_t room = sizeof(addr.sun_path);
		snprintf(why, sizeof(why),
			 "make_addr() refused NAME (%zu bytes): a path needs 1..%zu bytes "
			 "(sun_path holds %zu with the NUL), @NAME 1..%zu after the @",
			 strlen(name), room - 1, room, room - 1);
		usage(why);
	}
	int is_path = name[0] != '@';

	setvbuf(stdout, NULL, _IOLBF, 0); /* every line must leave at once: the tests wait for them */
	/* SIGTERM is blocked until the handler has what it needs (own_path, the message). */
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &term, &old) == -1)
		die("sigprocmask");
	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");

	/* AF_LOCAL (also spelled AF_UNIX): a socket that never leaves this machine. Stream type, as
	 * TCP: a connection, an accept queue, bytes in order. */
	int lfd = socket(AF_LOCAL, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");

	/* BEGIN SOLUTION TODO(09.4): With -u (unlink_first) and a path (is_path), remove the file
	 * at name before binding, since a path that exists makes bind fail with EADDRINUSE. A file
	 * that is not there is fine; any other failure is fatal (die, naming the call). See
	 * unlink(2), unix(7). */
	/* bind() creates the socket file and fails with EADDRINUSE if anything already exists at
	 * that path, even the stale file of a server that was killed. Servers unlink first. The
	 * catch: this also takes the name from a server that is still running (it keeps its
	 * socket, but nobody can reach it any more). Abstract names have no file to remove: the
	 * kernel frees them when the last socket holding them is closed. */
	if (unlink_first && is_path && unlink(name) == -1 && errno != ENOENT)
		die("unlink");
	/* STUB: (void)unlink_first; // placeholder: replace this line */
	/* END SOLUTION */

	/* BEGIN SOLUTION TODO(09.5): Give lfd its name, addr, with the length make_addr returned:
	 * for a local address the length says where the name ends, so the size of the whole
	 * structure is wrong. A failure is fatal (die, naming the call). See bind(2), unix(7). */
	/* For a path the kernel creates the socket file here (srwx... in ls -l, test -S). With
	 * sizeof(addr) an abstract name would be padded with NULs to 108 bytes: a different name
	 * from the one the client asks for, which then gets ECONNREFUSED. */
	if (bind(lfd, (struct sockaddr *)&addr, len) == -1)
		die("bind");
	/* STUB: (void)len; // placeholder: replace this line */
	/* END SOLUTION */
	/* The file is ours from now on: the SIGTERM handler removes it. */
	if (is_path)
		memcpy(own_path, name, strlen(name) + 1);
	if (is_path)
		snprintf(bye, sizeof(bye), "SIGTERM: removing %s, exiting\n", name);
	else
		snprintf(bye, sizeof(bye), "SIGTERM: exiting (%s is abstract: no file to remove)\n", name);
	bye_len = strlen(bye);

	if (listen(lfd, 8) == -1)
		die("listen");
	printf("listening on %s (addrlen %u)\n", name, (unsigned)len);
	if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
		die("sigprocmask");

	/* An iterative server, as in lab 05. */
	for (long k = 1;; k++) {
		struct sockaddr_un peer;
		socklen_t plen = sizeof(peer);
		int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
		if (cfd == -1)
			die("accept");
		/* A client that did not bind has no name: accept() returns only the family field. */
		printf("client %ld: peer %s (addrlen %u)\n", k,
		       plen <= offsetof(struct sockaddr_un, sun_path) ? "unnamed" : "named", (unsigned)plen);
		char line[512], reply[600];
		ssize_t got = read_line(cfd, line, sizeof(line));
		if (got == -1) {
			report_errno("read", errno);
		} else if (got == 0) {
			printf("client %ld: EOF before any line\n", k); /* it connected and closed */
		} else {
			printf("client %ld: got %s\n", k, line);
			int rn = snprintf(reply, sizeof(reply), "echo: %s\n", line);
			if (send(cfd, reply, (size_t)rn, MSG_NOSIGNAL) == -1)
				report_errno("send", errno);
		}
		if (close(cfd) == -1)
			report_errno("close", errno);
	}
}
