/* echo_sv.c - lab 12, the capstone server: an iterative echo server that keeps going.
 *
 * Goal:  put every lab together in a server that a real client cannot break: it sends back every
 *        byte it receives, however the kernel splits them up (short reads, short writes); a signal
 *        that interrupts a blocking call (EINTR) costs nothing; a client that vanishes or resets
 *        costs that one connection (EPIPE, ECONNRESET reported on stderr), never the server
 *        (SIGPIPE ignored); killed and started again at once, it gets its port back although old
 *        connections are still in TIME_WAIT (SO_REUSEADDR). It serves clients one after another
 *        until SIGTERM.
 * Usage: echo_sv ADDR PORT
 *          ADDR  the numeric IPv4 address to listen on, e.g. 127.0.0.1 (0.0.0.0: every address)
 *          PORT  0..65535; 0 lets the kernel choose a free (ephemeral) port
 *        Prints "listening on ADDR port N", then for client K "client K: peer ADDR port P" and
 *        "client K: echoed N bytes, then EOF" (or "client K: dropped after N bytes" after an error,
 *        which goes to stderr as "echo_sv: CALL: ENAME (text)"). SIGUSR1 does nothing but
 *        interrupt the call the server is blocked in (try it). SIGTERM ends it with status 0.
 *        e.g. echo_sv 127.0.0.1 0;  echo_sv 127.0.0.1 7007 (then: nc -N 127.0.0.1 7007 < file)
 * Calls: signal(2) or sigaction(2), socket(2), setsockopt(2) with SO_REUSEADDR (socket(7)), bind(2),
 *        listen(2), accept(2), read(2), write(2), close(2), signal(7) (EINTR, SA_RESTART, SIGPIPE)
 * Done when: make check LAB=12 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* The most one read() takes and one write() gives back: the usual size of a socket copy loop. */
#define BUF_SIZE 16384

static _Noreturn void usage(void)
{
	fputs("usage: echo_sv ADDR PORT\n"
	      "  ADDR a numeric IPv4 address (127.0.0.1); PORT 0..65535, 0: the kernel chooses\n"
	      "  e.g. echo_sv 127.0.0.1 0\n",
	      stderr);
	exit(2);
}

/* SIGTERM: leave at once with status 0. Only async-signal-safe calls in a handler: write() and
 * _exit() are, printf() and exit() are not. The kernel closes every socket on the way out. */
static void on_term(int sig)
{
	static const char msg[] = "SIGTERM: exiting\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) == -1) {
		/* nothing to do: we are leaving anyway */
	}
	_exit(0);
}

/* SIGUSR1 does nothing. Its handler is installed WITHOUT SA_RESTART, as many real servers' handlers
 * are (SIGCHLD, SIGALRM, SIGHUP): whenever one arrives, the blocking call the server is in returns
 * early, with EINTR or with part of the work done. The server must carry on as if nothing happened. */
static void on_usr1(int sig)
{
	(void)sig;
}

/* Write all len bytes of p to fd. Returns 0, or -1 with errno set (EPIPE, ECONNRESET...). */
static int write_all(int fd, const char *p, size_t len)
{
	/* TODO(12.1): Write all len bytes of p to fd: a write may take fewer bytes
	 * than asked (a short write), so go on with the rest until none is left. A write
	 * interrupted by a signal (EINTR) wrote nothing: try it again. Any other failure: return -1
	 * (errno tells why). See write(2), signal(7) (EINTR). */
	(void)fd; (void)p; (void)len; errno = ENOSYS; return -1; // placeholder: replace this line
	return 0;
}

/* Echo everything client K sends on cfd back to it, until its EOF or an error. */
static void serve(int cfd, long k)
{
	char buf[BUF_SIZE];
	unsigned long long total = 0;

	/* TODO(12.2): The echo loop: read up to BUF_SIZE bytes from cfd into buf and
	 * write them all back (write_all); count them in total; stop at the client's end of stream.
	 * A read interrupted by a signal is tried again. Any other failure of the read or the write
	 * ends this client only: report_errno, naming the call, print "client K: dropped after
	 * TOTAL bytes" and return. See read(2), signal(7). */
	(void)cfd; (void)buf; (void)write_all; // placeholder: replace this line
	printf("client %ld: echoed %llu bytes, then EOF\n", k, total);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	unsigned short port;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 || parse_port(argv[2], &port) == -1)
		usage();
	addr.sin_port = htons(port);
	setvbuf(stdout, NULL, _IOLBF, 0); /* every line must leave at once: the tests wait for them */

	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");
	sa.sa_handler = on_usr1;
	sa.sa_flags = 0; /* no SA_RESTART: interrupted calls fail with EINTR */
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction");

	/* TODO(12.3): A client that vanishes while the server writes to it must not
	 * kill the server: make the whole process ignore SIGPIPE, so that such a write fails with
	 * EPIPE instead. A failure is fatal (die, naming "signal"). See signal(7), sigaction(2). */

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	/* TODO(12.4): Before the bind, allow lfd to reuse a port that TIME_WAIT
	 * sockets of an earlier run still hold, so that a restarted server gets its port back at
	 * once. A failure is fatal (die, naming the call). See socket(7) (SO_REUSEADDR),
	 * setsockopt(2). */
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	if (listen(lfd, 16) == -1)
		die("listen");
	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	printf("listening on %s port %u\n", argv[1], ntohs(addr.sin_port));

	/* The iterative server: one client at a time, for ever. The others wait in the accept queue. */
	for (long k = 1;; k++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int cfd;

		/* TODO(12.5): Take the next client into cfd (its address into peer;
		 * plen says how big peer is, and must be reset before each try). If a signal
		 * interrupts the wait (EINTR), or the client was gone before we took it
		 * (ECONNABORTED), wait again; any other failure is fatal (die, naming the call).
		 * See accept(2). */
		cfd = -1; errno = ENOSYS; (void)plen; die("accept"); // placeholder: replace this line
		char host[INET_ADDRSTRLEN] = "?";
		if (inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
		printf("client %ld: peer %s port %u\n", k, host, ntohs(peer.sin_port));
		serve(cfd, k);
		/* The connected socket goes; the listening one stays for the next client. */
		if (close(cfd) == -1)
			report_errno("close", errno);
	}
}
