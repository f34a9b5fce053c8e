/* local_pair.c - lab 09, socketpair: two AF_LOCAL sockets connected to each other, with no name
 * at all, shared by a parent and its child.
 *
 * Goal:  create a connected pair with socketpair(), fork, and let each process keep one end and
 *        close the other: the parent sends a line, the child answers it in upper case, the parent
 *        closes, the child reads end of file. No bind, no listen, no accept, no file, no name:
 *        the pair exists only as two descriptors, inherited across fork().
 * Usage: local_pair [-w] MSG
 *          MSG  the line the parent sends (1..200 bytes, no newline)
 *          -w   after the exchange, the parent holds its end until SIGTERM (to look at the pair
 *               with ss -xp), then closes it
 *        Prints "socketpair: fd A and fd B", then, as it happens:
 *          parent P: sending "MSG" on fd A
 *          child C: got "MSG" on fd B
 *          parent P: got "UPPER-CASE MSG from child C" on fd A
 *          parent P: holding fd A until SIGTERM                     (with -w)
 *          child C: read returned 0 (EOF), exiting
 *          parent P: child C exited with status 0
 *        e.g. local_pair hello;  local_pair -w hello
 * Calls: socketpair(2), fork(2), close(2), send(2), read(2), waitpid(2), sigsuspend(2), unix(7)
 * Done when: make check LAB=09 passes.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: local_pair [-w] MSG\n"
	      "  MSG: one line of 1..200 bytes; -w: hold the pair open until SIGTERM\n",
	      stderr);
	exit(2);
}

static volatile sig_atomic_t got_term;
static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
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

/* Send a whole line; MSG_NOSIGNAL: a peer that has gone gives EPIPE, not a silent SIGPIPE death. */
static void send_line(int fd, const char *line)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	for (int off = 0; off < n;) {
		ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w == -1)
			die("send");
		off += (int)w;
	}
}

int main(int argc, char **argv)
{
	int opt, hold = 0;

	while ((opt = getopt(argc, argv, "+:w")) != -1) {
		if (opt == 'w')
			hold = 1;
		else
			usage();
	}
	if (argc - optind != 1)
		usage();
	const char *msg = argv[optind];
	if (msg[0] == '\0' || strlen(msg) > 200 || strchr(msg, '\n'))
		usage();

	setvbuf(stdout, NULL, _IOLBF, 0); /* line by line: parent and child share this stdout */
	/* SIGTERM stays blocked except inside sigsuspend(): one sent early waits there. */
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &term, &old) == -1)
		die("sigprocmask");
	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");

	int sv[2];
	/* BEGIN SOLUTION TODO(09.8): Create two local stream sockets already connected to each
	 * other, in sv: no name, no listener, no accept. A failure is fatal (die, naming the call).
	 * See socketpair(2), unix(7). */
	/* One call gives both ends of a connection, already connected: what socket + bind +
	 * listen + connect + accept give a server and a client, without any name. Only AF_LOCAL
	 * has pairs (AF_INET: EOPNOTSUPP). Unlike a pipe, each end can both read and write. */
	if (socketpair(AF_LOCAL, SOCK_STREAM, 0, sv) == -1)
		die("socketpair");
	/* STUB: sv[0] = sv[1] = -1; // placeholder: replace this line */
	/* END SOLUTION */
	printf("socketpair: fd %d and fd %d\n", sv[0], sv[1]);

	/* The child gets copies of both descriptors: both ends are now open in two processes. */
	pid_t child = fork();
	if (child == -1)
		die("fork");
	if (child == 0) {
		/* The child ends when the parent closes its end, not on SIGTERM. */
		if (signal(SIGTERM, SIG_IGN) == SIG_ERR)
			die("signal");
		char line[256];
		/* BEGIN SOLUTION TODO(09.9): The child keeps sv[1]: close the end it does not use,
		 * read the parent's line from sv[1] with read_line (a read error is fatal: die,
		 * naming the call), print "child C: got "LINE" on fd B", and send back the line in
		 * upper case followed by " from child C" with send_line. See close(2),
		 * toupper(3). */
		/* Close the end you do not use. The child's copy of sv[0] would otherwise keep the
		 * parent's end open: the child would never read end of file below, and wait for ever. */
		if (close(sv[0]) == -1)
			die("close");
		ssize_t got = read_line(sv[1], line, sizeof(line));
		if (got == -1)
			die("read");
		if (got == 0) {
			fprintf(stderr, "local_pair: the parent closed its end without sending\n");
			_exit(1);
		}
		printf("child %d: got \"%s\" on fd %d\n", (int)getpid(), line, sv[1]);
		char reply[300];
		size_t i;
		for (i = 0; i < 200 && line[i]; i++)
			reply[i] = (char)toupper((unsigned char)line[i]);
		snprintf(reply + i, sizeof(reply) - i, " from child %d", (int)getpid());
		send_line(sv[1], reply);
		/* STUB: (void)line; // placeholder: replace this line */
		/* END SOLUTION */
		/* Wait for the parent to close its end: read() returns 0 (end of file) only when no
		 * process holds sv[0] open any more. */
		ssize_t r;
		while ((r = read(sv[1], line, sizeof(line))) > 0)
			;
		if (r == -1)
			die("read");
		printf("child %d: read returned 0 (EOF), exiting\n", (int)getpid());
		_exit(0);
	}

	char reply[512];
	/* BEGIN SOLUTION TODO(09.10): The parent keeps sv[0]: close the end it does not use, print
	 * "parent P: sending "MSG" on fd A", send msg with send_line, read the child's answer with
	 * read_line (a read error is fatal: die, naming the call; 0 bytes means the child closed
	 * without answering: say so on stderr and return 1) and print "parent P: got "REPLY" on fd
	 * A". See close(2), socketpair(2). */
	/* The parent's copy of sv[1] must go too: the child's end belongs to the child. */
	if (close(sv[1]) == -1)
		die("close");
	printf("parent %d: sending \"%s\" on fd %d\n", (int)getpid(), msg, sv[0]);
	send_line(sv[0], msg);
	ssize_t got = read_line(sv[0], reply, sizeof(reply));
	if (got == -1)
		die("read");
	if (got == 0) {
		fprintf(stderr, "local_pair: the child closed its end without answering\n");
		return 1;
	}
	printf("parent %d: got \"%s\" on fd %d\n", (int)getpid(), reply, sv[0]);
	/* STUB: (void)reply; (void)read_line; (void)send_line; // placeholder: replace this line */
	/* END SOLUTION */

	if (hold) {
		printf("parent %d: holding fd %d until SIGTERM\n", (int)getpid(), sv[0]);
		while (!got_term)
			sigsuspend(&old);
	}
	/* Our close is the child's end of file. */
	if (close(sv[0]) == -1)
		die("close");
	int st;
	if (waitpid(child, &st, 0) == -1)
		die("waitpid");
	if (WIFEXITED(st))
		printf("parent %d: child %d exited with status %d\n", (int)getpid(), (int)child, WEXITSTATUS(st));
	else
		printf("parent %d: child %d was killed by signal %d\n", (int)getpid(), (int)child, WTERMSIG(st));
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
