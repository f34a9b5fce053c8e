/* mux_sv.c - lab 16: one process, many clients: I/O multiplexing with select(), then with poll().
 *
 * Goal:  a line echo server that serves every client at once from one thread of one process, no
 *        fork(), no thread per client. It asks the kernel which of its sockets are ready, and
 *        does with each only what cannot block: one read() on a readable socket (it may bring a
 *        piece of a line: readiness is not completion, so what came is kept for later), one
 *        send() that does not wait on a writable one. An idle client, a client that sends its
 *        line in pieces, or one that stops reading its echo holds up nobody. A client's EOF
 *        (its half-close) is answered by the rest of its echo, then the server closes its side
 *        and forgets the descriptor. select() watches only descriptors below FD_SETSIZE: the
 *        select() server refuses a connection whose descriptor is higher; poll() has no such wall.
 * Usage: mux_sv [-p] ADDR PORT
 *          -p    wait in poll() instead of select()
 *          ADDR  the numeric IPv4 address to listen on, e.g. 127.0.0.1
 *          PORT  0..65535; 0 lets the kernel choose a free (ephemeral) port
 *        Every line a client sends ("...\n") comes back to it once the whole line has arrived; a
 *        line longer than BUF_SIZE comes back in pieces of BUF_SIZE, and at the client's EOF so does
 *        a last line without a newline. Prints "listening on ADDR port N, waiting in select()
 *        (FD_SETSIZE 1024)" (or "in poll()"), then for client K "client K: fd F, peer ADDR port P",
 *        "client K: echoed N bytes, then EOF", "client K: dropped after N bytes" (the error on
 *        stderr as "mux_sv: CALL: ENAME (text)"), or "client K: fd F >= FD_SETSIZE (1024): select
 *        cannot watch it, refused". SIGUSR1 only interrupts select() or poll(); SIGTERM ends the
 *        server with status 0.
 *        e.g. mux_sv 127.0.0.1 0;  mux_sv -p 127.0.0.1 7016 (then: nc 127.0.0.1 7016, several times)
 * Calls: select(2) (FD_ZERO, FD_SET, FD_ISSET, FD_SETSIZE), poll(2), socket(2), setsockopt(2),
 *        bind(2), listen(2), accept(2), read(2), send(2) (MSG_DONTWAIT, MSG_NOSIGNAL), close(2),
 *        sigaction(2), signal(2), select_tut(2)
 * Done when: make check LAB=16 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* A client's buffer: the longest line that comes back in one piece. */
#define BUF_SIZE 4096
/* The most clients served at once (poll() can serve this many; select() stops below FD_SETSIZE). */
#define MAX_CLIENTS 2048
/* Connections the kernel may complete before the server accepts them (lab 04). */
#define BACKLOG 64

/* What the server knows of one client between two rounds of select() or poll(): since it never
 * waits for one client alone, everything it has read and not yet sent back must be kept here. */
struct client {
	int fd;
	int eof; /* read() returned 0: the client half-closed, no more bytes will come */
	long id; /* K: the client's number, in the order of arrival */
	size_t len; /* buf[0..len): received, not yet sent back */
	size_t ready; /* buf[0..ready): whole lines (ready <= len), may go back now */
	unsigned long long echoed; /* bytes sent back so far */
	char buf[BUF_SIZE];
};

/* clients[0..nclients) are the connected clients: the one list of descriptors to watch. */
static struct client clients[MAX_CLIENTS];
static int nclients;

static _Noreturn void usage(void)
{
	fputs("usage: mux_sv [-p] ADDR PORT\n"
	      "  -p: poll() instead of select(); ADDR a numeric IPv4 address (127.0.0.1);\n"
	      "  PORT 0..65535, 0: the kernel chooses.  e.g. mux_sv 127.0.0.1 0\n",
	      stderr);
	exit(2);
}

/* SIGTERM: leave at once with status 0 (write() and _exit() are async-signal-safe). */
static void on_term(int sig)
{
	static const char msg[] = "SIGTERM: exiting\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) == -1) {
		/* nothing to do: we are leaving anyway */
	}
	_exit(0);
}

/* SIGUSR1 does nothing; installed without SA_RESTART, it makes select() or poll() return EINTR. */
static void on_usr1(int sig)
{
	(void)sig;
}

/* Room for more input: not after the client's EOF, and not while the buffer is full (its echo must
 * go first: a client that does not read its echo is not read either, and so cannot fill our memory). */
static int wants_read(const struct client *c)
{
	return !c->eof && c->len < BUF_SIZE;
}

/* Something to send back: whole lines. */
static int wants_write(const struct client *c)
{
	return c->ready > 0;
}

/* Mark what may go back now: up to the last newline; everything once the client has sent its last
 * byte, or when the buffer is full of one line too long to wait for. */
static void mark_ready(struct client *c)
{
	const char *nl = memrchr(c->buf, '\n', c->len);

	c->ready = nl ? (size_t)(nl - c->buf) + 1 : 0;
	if (c->eof || c->len == BUF_SIZE)
		c->ready = c->len;
}

/* Client c's socket is readable: take what has arrived. Returns 0, or -1 if the client must be
 * dropped (the error reported). */
static int on_readable(struct client *c)
{
	/* TODO(16.1): c's socket is readable: read ONCE what has arrived, into the free
	 * end of c->buf (c->len bytes are already there; the rest is free), and count it in c->len.
	 * Readable means a read will not block, not that a whole line is there: it may bring a
	 * piece of one, and reading again to wait for the rest would block the server for every
	 * client. 0 bytes is the client's EOF: set c->eof. Then let mark_ready mark what may go
	 * back. A failure (ECONNRESET: the client reset the connection) ends this client:
	 * report_errno naming the call, return -1. See read(2), select(2) (BUGS: readiness). */
	(void)c; (void)mark_ready; report_errno("read", ENOSYS); return -1; // placeholder: replace this line
	return 0;
}

/* Client c's socket is writable: send back what may go. Returns 0, or -1 if the client must be
 * dropped (the error reported). */
static int on_writable(struct client *c)
{
	/* TODO(16.2): c's socket is writable: send the c->ready bytes at the start of
	 * c->buf, but without waiting (a client that does not read its echo must not stop the
	 * server) and without SIGPIPE. The kernel may take fewer (a short write): drop what it took
	 * from the front of c->buf (c->len, c->ready and c->echoed change by as much), the rest goes
	 * in a later round. EAGAIN or EINTR: nothing taken, return 0; any other failure (EPIPE,
	 * ECONNRESET): report_errno naming the call, return -1. See send(2) (MSG_DONTWAIT,
	 * MSG_NOSIGNAL), memmove(3). */
	(void)c; report_errno("send", ENOSYS); return -1; // placeholder: replace this line
	return 0;
}

/* Client i is done with: close its descriptor and take it out of the table. */
static void drop(int i)
{
	/* TODO(16.3): Client i is finished: close its descriptor (a failure is only
	 * reported, with report_errno), and take it out of clients[0..nclients), so that no later
	 * round watches a descriptor that is closed (select would fail with EBADF, poll answer
	 * POLLNVAL at once, for ever) or that accept has meanwhile given to a new client. The
	 * order of the others does not matter. See close(2). */
	(void)i; // placeholder: replace this line
}

/* One round's news for client i: read first (an EOF may end it), then write; drop it once it is
 * done (EOF and everything sent back) or has failed. */
static void serve(int i, int readable, int writable)
{
	struct client *c = &clients[i];
	int rc = 0;

	if (readable)
		rc = on_readable(c);
	if (rc == 0 && writable)
		rc = on_writable(c);
	if (rc == -1) {
		printf("client %ld: dropped after %llu bytes\n", c->id, c->echoed);
		drop(i);
	} else if (c->eof && c->len == 0) {
		/* The client half-closed and has its whole echo: now our FIN (close) ends it. */
		printf("client %ld: echoed %llu bytes, then EOF\n", c->id, c->echoed);
		drop(i);
	}
}

/* The listening socket is readable: take the client that is waiting, number it (*k), add it. */
static void take_client(int lfd, int use_poll, long *k)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);

	if (cfd == -1) {
		/* Gone before we took it, or a signal: nobody to add. */
		if (errno == EINTR || errno == ECONNABORTED)
			return;
		die("accept");
	}
	long id = ++*k;
	/* TODO(16.4): An fd_set holds descriptors 0 to FD_SETSIZE - 1 only: FD_SET
	 * with a higher one writes past the end of the set (memory that is not the set's), and
	 * select cannot watch it. So, in the select server (not with use_poll), a client whose
	 * descriptor cfd is FD_SETSIZE or more is refused: print "client K: fd F >= FD_SETSIZE
	 * (1024): select cannot watch it, refused", close it (report a failure) and
	 * return before it joins the table. See select(2) (NOTES, FD_SETSIZE). */
	(void)use_poll; // placeholder: replace this line
	if (nclients == MAX_CLIENTS) {
		printf("client %ld: fd %d: already %d clients, refused\n", id, cfd, MAX_CLIENTS);
		if (close(cfd) == -1)
			report_errno("close", errno);
		return;
	}
	char host[INET_ADDRSTRLEN];
	if (inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host)) == NULL)
		die("inet_ntop");
	printf("client %ld: fd %d, peer %s port %u\n", id, cfd, host, ntohs(peer.sin_port));
	struct client *c = &clients[nclients++];
	c->fd = cfd;
	c->id = id;
	c->eof = 0;
	c->len = c->ready = 0;
	c->echoed = 0;
}

/* The select() server: for ever, one round = wait until some socket is ready, then serve it. */
static _Noreturn void loop_select(int lfd)
{
	long k = 0;

	for (;;) {
		fd_set rfds, wfds;
		int maxfd = lfd;

		/* TODO(16.5): One round of select. Arm two sets from scratch: lfd and
		 * every client that wants_read to be read, every client that wants_write to be
		 * written; select overwrites them with the descriptors that are ready, so sets kept
		 * from the last round would watch only what was ready then. Wait with no time limit
		 * (the first argument is one more than the highest descriptor in the sets). EINTR:
		 * start the round again; any other failure is fatal (die, naming the call). Then serve
		 * every client, walking clients[] from the end (drop moves the last one into the
		 * hole), telling it whether its descriptor is in each set, and only after that take a
		 * new client (take_client) if lfd is readable. See select(2), select_tut(2). */
		(void)rfds; (void)wfds; (void)maxfd; (void)k; (void)wants_read; (void)wants_write; (void)serve; (void)take_client; errno = ENOSYS; die("select"); // placeholder: replace this line
	}
}

/* The poll() server: the same rounds, with an array instead of two sets. */
static _Noreturn void loop_poll(int lfd)
{
	static struct pollfd pfd[1 + MAX_CLIENTS];
	long k = 0;

	for (;;) {
		/* TODO(16.6): One round of poll. Fill pfd: pfd[0] for lfd (readable),
		 * pfd[1 + i] for clients[i], its events POLLIN if it wants_read, POLLOUT if it
		 * wants_write. Wait for all 1 + nclients entries with no time limit. EINTR: start the
		 * round again; any other failure is fatal (die, naming the call). Then serve every
		 * client, from the end as with select: readable if it asked for POLLIN and revents
		 * has POLLIN, POLLHUP or POLLERR (the read then tells what happened); writable
		 * if it asked for POLLOUT and revents has POLLOUT, POLLHUP or POLLERR. Last, take a new
		 * client (take_client, use_poll 1) if pfd[0] has POLLIN. See poll(2). */
		(void)lfd; (void)pfd; (void)k; (void)wants_read; (void)wants_write; (void)serve; (void)take_client; errno = ENOSYS; die("poll"); // placeholder: replace this line
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	unsigned short port;
	int use_poll = 0, opt;

	while ((opt = getopt(argc, argv, "p")) != -1) {
		if (opt != 'p')
			usage();
		use_poll = 1;
	}
	if (argc - optind != 2 || inet_pton(AF_INET, argv[optind], &addr.sin_addr) != 1 ||
	    parse_port(argv[optind + 1], &port) == -1)
		usage();
	addr.sin_port = htons(port);
	setvbuf(stdout, NULL, _IOLBF, 0); /* every line must leave at once: the tests wait for them */

	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");
	sa.sa_handler = on_usr1; /* sa_flags 0: no SA_RESTART */
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction");
	/* A client that vanishes must cost its connection only (EPIPE), never the server (lab 12);
	 * the sends say MSG_NOSIGNAL too. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal");

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	int one = 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("setsockopt");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	if (listen(lfd, BACKLOG) == -1)
		die("listen");
	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	if (use_poll) {
		printf("listening on %s port %u, waiting in poll()\n", argv[optind], ntohs(addr.sin_port));
		loop_poll(lfd);
	}
	printf("listening on %s port %u, waiting in select() (FD_SETSIZE %d)\n", argv[optind], ntohs(addr.sin_port),
	       FD_SETSIZE);
	loop_select(lfd);
}
