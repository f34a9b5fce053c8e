/* close_sv.c - lab 08, the server: the ways a connection ends, seen from the side that accepts.
 *
 * Goal:  serve one client and end the connection in one of three ways: read the request up to the
 *        client's half-close (EOF), answer, close (mode upper); keep the connection half-closed in
 *        CLOSE-WAIT after the client's FIN until told to close (mode hold); or close first, so that
 *        the TIME_WAIT lands on the server (mode close).
 * Usage: close_sv upper ADDR PORT   read to EOF, reply "got N bytes\n" and the bytes in upper case,
 *                                   close, exit
 *        close_sv hold ADDR PORT    read to EOF, then keep the socket open (CLOSE-WAIT) until SIGUSR1,
 *                                   then close, exit
 *        close_sv close ADDR PORT   close the connection as soon as it is accepted, exit
 *        ADDR is a numeric IPv4 address, PORT 0 lets the kernel choose. The server prints
 *        "listening on ADDR port N" first, then "peer ADDR port P" for the client it accepts.
 *        SIGTERM ends it at any time (exit 0).
 * Calls: socket(2), setsockopt(2), bind(2), listen(2), accept(2), read(2), send(2) (MSG_NOSIGNAL),
 *        close(2), sigsuspend(2), tcp(7)
 * Done when: make check LAB=08 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* read() at most this much at a time: a request may take many reads. */
#define CHUNK 4096

/* SIGTERM ends the server at once, cleanly: _exit() is safe in a signal handler (exit() is not). */
static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static _Noreturn void usage(void)
{
	fputs("usage: close_sv upper|hold|close ADDR PORT\n"
	      "  e.g. close_sv upper 127.0.0.1 0   (then: kill -USR1 PID to release a held connection)\n",
	      stderr);
	exit(2);
}

/* Send all len bytes: a stream socket may accept fewer than asked (a short write). A client that
 * closed without reading the reply turns our send into EPIPE (after its kernel's RST, ECONNRESET):
 * MSG_NOSIGNAL makes that an error we report ("close_sv: send: EPIPE (...)", exit 1) instead of a
 * silent death by SIGPIPE (status 141), which is what write() would do. */
static void write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1)
			die("send");
		p += n;
		len -= (size_t)n;
	}
}

/* upper: the request ends where the client half-closed; only then can the server answer. */
static void serve_upper(int cfd)
{
	char *data = NULL;
	size_t len = 0, cap = 0;

	/* TODO(08.4): Read the whole request into data (len bytes so far, cap bytes
	 * allocated), at most CHUNK bytes at a time, growing data as needed, until the client's end
	 * of stream: the request has no length, its end is the client's FIN. A read error is fatal
	 * (die, naming the call). See read(2), realloc(3). */
	(void)cfd; (void)cap; // placeholder: replace this line
	printf("read returned 0 (EOF) after %zu bytes\n", len);

	/* Half-closed is only one direction: the server can still send. */
	char head[64];
	int hl = snprintf(head, sizeof(head), "got %zu bytes\n", len);
	write_all(cfd, head, (size_t)hl);
	for (size_t i = 0; i < len; i++) {
		/* cppcheck-suppress nullPointer ; in the starter data stays NULL, but len stays 0 */
		data[i] = (char)toupper((unsigned char)data[i]);
	}
	write_all(cfd, data, len);
	free(data);
	/* Our FIN: the client's read() returns 0 once it has the whole reply. The client closed
	 * first, so the TIME_WAIT is its, not ours. */
	if (close(cfd) == -1)
		die("close");
	printf("replied and closed\n");
}

/* hold: the client has closed, we have not: the connection stays half-closed (CLOSE-WAIT). */
static void serve_hold(int cfd, const sigset_t *waitmask)
{
	/* TODO(08.5): Wait for the client's FIN: read until the end of the stream (a
	 * read error is fatal: die, naming the call), then print "peer closed: read returned 0
	 * (EOF), CLOSE-WAIT until SIGUSR1" and wait for SIGUSR1 with the signal mask waitmask. Do
	 * not close the socket here: the caller does, afterwards, so that CLOSE-WAIT can be seen
	 * meanwhile. See read(2), sigsuspend(2), tcp(7). */
	(void)cfd; (void)waitmask; // placeholder: replace this line
	/* Now our FIN goes out; the client, which closed first, takes the TIME_WAIT. */
	if (close(cfd) == -1)
		die("close");
	printf("closed\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	unsigned short port;
	enum { UPPER, HOLD, CLOSE } mode;

	if (argc != 4)
		usage();
	if (strcmp(argv[1], "upper") == 0)
		mode = UPPER;
	else if (strcmp(argv[1], "hold") == 0)
		mode = HOLD;
	else if (strcmp(argv[1], "close") == 0)
		mode = CLOSE;
	else
		usage();
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	if (parse_port(argv[3], &port) == -1 || inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1)
		usage();
	addr.sin_port = htons(port);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* SIGUSR1 releases a held connection. It stays blocked except inside sigsuspend, so that
	 * one sent early is kept pending instead of being lost. */
	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction");
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) == -1)
		die("sigprocmask");

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	/* In mode close the server closes first and its port keeps a TIME_WAIT for a minute:
	 * SO_REUSEADDR lets a restarted server bind the same port anyway. */
	int one = 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("setsockopt");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	if (listen(lfd, 8) == -1)
		die("listen");
	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	printf("listening on %s port %u\n", argv[2], ntohs(addr.sin_port));

	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
	if (cfd == -1)
		die("accept");
	/* One client only: the listener is no longer needed, and closing it ends no connection. */
	if (close(lfd) == -1)
		die("close");
	char host[INET_ADDRSTRLEN];
	if (inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host)) == NULL)
		die("inet_ntop");
	printf("peer %s port %u\n", host, ntohs(peer.sin_port));

	switch (mode) {
	case UPPER: serve_upper(cfd); break;
	case HOLD: serve_hold(cfd, &waitmask); break;
	case CLOSE:
		/* The server closes first: it sends the first FIN and will hold the TIME_WAIT. */
		if (close(cfd) == -1)
			die("close");
		printf("closed\n");
		break;
	}
	return 0;
}
