/* epoll_sv.c - lab 17: an echo server for a thousand clients in one thread, an epoll event loop.
 *
 * Goal:  serve every client at once with one thread and no blocking call but the wait itself:
 *        every socket is non-blocking (O_NONBLOCK on the listener, accept4 with SOCK_NONBLOCK for
 *        the clients), one epoll instance says which of them is ready, and each ready socket is
 *        read until the kernel says EAGAIN. Every connection has an output buffer of its own:
 *        what could not be written yet waits there, and only then does the server ask epoll for
 *        EPOLLOUT. A client that does not read its echo fills its buffer; the server then stops
 *        reading from it (its bytes wait in the kernel), so its memory stays bounded and the
 *        other clients are served as before. EPOLLRDHUP tells it when a client half-closes.
 * Usage: epoll_sv [-e] ADDR PORT
 *          -e    edge-triggered (EPOLLET on every registration); default: level-triggered
 *          ADDR  the numeric IPv4 address to listen on, e.g. 127.0.0.1
 *          PORT  0..65535; 0 lets the kernel choose a free (ephemeral) port
 *        Prints "listening on ADDR port N (level-triggered)" (or "edge-triggered"), then for a
 *        client on descriptor N: "fd N: peer half-closed (EPOLLRDHUP)" when its FIN is seen,
 *        "fd N: echoed B bytes, then EOF" when its echo is complete and it is closed, or
 *        "fd N: dropped after B bytes" after an error (reported on stderr as
 *        "epoll_sv: CALL: ENAME (text)"). SIGTERM ends it with status 0.
 *        e.g. epoll_sv -e 127.0.0.1 0
 * Calls: fcntl(2) (O_NONBLOCK), socket(2), bind(2), listen(2), accept4(2) (SOCK_NONBLOCK),
 *        epoll_create1(2), epoll_ctl(2), epoll_wait(2), epoll(7) (level- and edge-triggered),
 *        read(2), send(2) (MSG_NOSIGNAL), close(2)
 * Done when: make check LAB=17 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* Each client's output buffer: the echo that the client has not taken yet. When it is full the
 * server stops reading from that client, so one client costs at most this much memory. */
#define OUT_CAP 16384
/* At most this many ready descriptors from one epoll_wait(); the others come next time. */
#define MAX_EVENTS 64

/* One client. out[off..len) is read but not yet written back; out[len..OUT_CAP) is free. */
struct conn {
	int fd;
	uint32_t events; /* the event mask registered with epoll now */
	int in_eof; /* read() returned 0: nothing more will come from the client */
	int rdhup; /* EPOLLRDHUP has been seen (and is no longer asked for) */
	unsigned long long total; /* bytes read from the client so far */
	size_t off, len;
	struct conn *prev, *next; /* the list of live clients */
	char out[OUT_CAP];
};

/* Every live client is on this list, from accept to close: the kernel holds a pointer to each in
 * its epoll set, but the program must be able to find them all too (lab 20's idle timeouts walk
 * such a list). */
static struct conn *clients;

static int ep = -1; /* the epoll instance */
static uint32_t trig; /* 0, or EPOLLET with -e: added to every registration */

static _Noreturn void usage(void)
{
	fputs("usage: epoll_sv [-e] ADDR PORT\n"
	      "  -e edge-triggered (EPOLLET); ADDR a numeric IPv4 address; PORT 0..65535, 0: the kernel chooses\n"
	      "  e.g. epoll_sv -e 127.0.0.1 0\n",
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

/* Send out[off..len) to the client until all is gone or the socket is full. Returns 0 (the rest,
 * if any, waits in the buffer, moved to its start), or -1 with errno set (EPIPE, ECONNRESET...). */
static int flush_out(struct conn *c)
{
	/* TODO(17.4): Send the waiting part of the output buffer, out[off..len), to
	 * the client, as much as the kernel takes: a non-blocking socket takes what fits in its send
	 * buffer and then says EAGAIN, which is not an error but "try again when EPOLLOUT says there
	 * is room". Move off by what was taken; EINTR: try again; any other failure: return -1. A
	 * client that has gone must not kill the server with SIGPIPE. Once all is sent the buffer is
	 * empty (off and len 0). See send(2) (MSG_NOSIGNAL), socket(7) (O_NONBLOCK, EAGAIN). */
	(void)c; errno = ENOSYS; return -1; // placeholder: replace this line
	/* Keep the waiting bytes at the start of the buffer, so that the free space is one piece. */
	if (c->off == c->len) {
		c->off = c->len = 0;
	} else if (c->off > 0) {
		memmove(c->out, c->out + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	return 0;
}

/* Read what the client has sent into the free part of its buffer, sending the echo whenever the
 * buffer fills. Returns 0 (c->in_eof set at the client's EOF), or -1 with errno set; *call names
 * the call that failed. */
static int fill_in(struct conn *c, const char **call)
{
	/* TODO(17.3): Read from the client into the free part of out (from len to
	 * OUT_CAP), again and again, until the kernel says there is nothing more for now (EAGAIN),
	 * or the client's end of stream (0: set in_eof), or the buffer is full. Why until EAGAIN: in
	 * edge-triggered mode epoll reports a readable socket once, when data arrives, not while
	 * data waits; what you leave unread is never reported again. When the buffer is full, try to
	 * send it (flush_out) and go on reading only if that made room: otherwise stop, and the
	 * client's bytes wait in the kernel. Count what you read in total. EINTR: read again; any
	 * other failure: return -1 with *call set to the call's name. See read(2), epoll(7). */
	(void)c; *call = "read"; errno = ENOSYS; return -1; // placeholder: replace this line
}

/* Tell epoll what this client is waiting for now. Returns 0, or -1 with errno set. */
static int want(struct conn *c)
{
	uint32_t ev = 0;

	/* TODO(17.5): Work out the events this client needs now, and change its
	 * registration only if they differ from c->events (then remember them there). EPOLLIN only
	 * while reading makes sense: not after its EOF, not while the buffer is full (level-
	 * triggered, a readable socket that we do not read would be reported again and again: a busy
	 * loop). EPOLLOUT only while something waits to be written: a socket with room in its send
	 * buffer is writable almost always, so asked for all the time it would wake the loop for
	 * nothing. EPOLLRDHUP until the half-close has been seen. Always the triggering mode (trig).
	 * See epoll_ctl(2) (EPOLL_CTL_MOD), epoll(7). */
	(void)c; (void)ev; errno = ENOSYS; return -1; // placeholder: replace this line
	return 0;
}

/* The end of a client: close its socket (which also takes it out of the epoll set) and free it. */
static void finish(struct conn *c, const char *call)
{
	if (call != NULL) {
		report_errno(call, errno);
		printf("fd %d: dropped after %llu bytes\n", c->fd, c->total);
	} else {
		printf("fd %d: echoed %llu bytes, then EOF\n", c->fd, c->total);
	}
	if (close(c->fd) == -1)
		report_errno("close", errno);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
}

/* Events on one client's socket. */
static void on_client(struct conn *c, uint32_t events)
{
	const char *call = NULL;

	/* TODO(17.6): The client's half-close: when the events say EPOLLRDHUP for
	 * the first time, print "fd N: peer half-closed (EPOLLRDHUP)" and remember it (rdhup), so
	 * that want stops asking for it. It comes as soon as the FIN has arrived, even while the
	 * server does not read from this client (a full buffer) and unread bytes wait before the
	 * FIN. See epoll_ctl(2) (EPOLLRDHUP). */
	(void)events; // placeholder: replace this line
	/* Room first (EPOLLOUT), then input: EPOLLHUP and EPOLLERR come whatever was asked for, and
	 * the read or the send then says what happened (0, ECONNRESET...). */
	if ((events & EPOLLOUT) && flush_out(c) == -1) {
		finish(c, "send");
		return;
	}
	if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !c->in_eof && fill_in(c, &call) == -1) {
		finish(c, call);
		return;
	}
	/* Echo what was read at once; whatever does not fit waits for EPOLLOUT. */
	if (flush_out(c) == -1) {
		finish(c, "send");
		return;
	}
	if (c->in_eof && c->len == 0) {
		finish(c, NULL);
		return;
	}
	if (want(c) == -1) {
		finish(c, "epoll_ctl");
		return;
	}
}

/* The listener is ready: take every client that waits. */
static void on_listener(int lfd)
{
	for (;;) {
		int cfd;

		/* TODO(17.2): Take the next waiting client into cfd, its socket
		 * non-blocking from the start (one call, no fcntl afterwards: O_NONBLOCK is not
		 * inherited from the listener). Take clients until the kernel says none is left
		 * (EAGAIN: return): edge-triggered, the listener is reported once for a burst of
		 * connections. EINTR or a client gone before we took it (ECONNABORTED): go on. Any
		 * other failure: report it (report_errno, naming the call) and return; the server
		 * goes on. See accept4(2) (SOCK_NONBLOCK). */
		cfd = -1; (void)lfd; errno = ENOSYS; die("accept4"); // placeholder: replace this line
		struct conn *c = malloc(sizeof(*c));
		if (c == NULL) {
			report_errno("malloc", errno);
			if (close(cfd) == -1)
				report_errno("close", errno);
			continue;
		}
		/* The header only: the buffer's pages stay untouched (and cost no memory) until used. */
		c->fd = cfd;
		c->in_eof = c->rdhup = 0;
		c->total = 0;
		c->off = c->len = 0;
		c->prev = NULL;
		c->next = clients;
		if (clients != NULL)
			clients->prev = c;
		clients = c;
		/* TODO(17.7): Register the client with the epoll instance: it is
		 * waiting for input (EPOLLIN) and for its half-close (EPOLLRDHUP), in the triggering
		 * mode of this run (trig); c itself goes with every event (the data field), so that an
		 * event leads straight to its client. Remember the mask in c->events. On failure: end
		 * this client (finish, naming the call: it reports, closes and frees) and go on. See
		 * epoll_ctl(2). */
		errno = ENOSYS; finish(c, "epoll_ctl"); // placeholder: replace this line
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	unsigned short port;
	int opt;

	while ((opt = getopt(argc, argv, "e")) != -1) {
		if (opt != 'e')
			usage();
		trig = EPOLLET;
	}
	if (argc - optind != 2 || inet_pton(AF_INET, argv[optind], &addr.sin_addr) != 1 ||
	    parse_port(argv[optind + 1], &port) == -1)
		usage();
	addr.sin_port = htons(port);
	setvbuf(stdout, NULL, _IOLBF, 0); /* every line must leave at once: the tests wait for them */

	struct sigaction sa = { .sa_handler = on_term };
	if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	int one = 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("setsockopt");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	/* A thousand clients may knock at once: let them all wait in the queue. */
	if (listen(lfd, SOMAXCONN) == -1)
		die("listen");
	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");

	/* TODO(17.1): Make the listening socket non-blocking, keeping its other
	 * status flags: then an accept with no client waiting fails with EAGAIN instead of putting
	 * the whole server to sleep (a client that connects and resets before we take it leaves the
	 * listener reported ready with nobody to accept). Then create the epoll instance into ep
	 * (closed on exec) and register lfd with it for input, in the triggering mode of this run
	 * (trig), with NULL as its data: that is how the loop tells the listener from a client.
	 * Failures are fatal (die, naming the call). See fcntl(2) (F_GETFL, F_SETFL, O_NONBLOCK),
	 * epoll_create1(2), epoll_ctl(2). */
	(void)ep; errno = ENOSYS; die("epoll_create1"); // placeholder: replace this line
	char host[INET_ADDRSTRLEN];
	if (inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host)) == NULL)
		die("inet_ntop");
	printf("listening on %s port %u (%s)\n", host, ntohs(addr.sin_port),
	       trig ? "edge-triggered" : "level-triggered");

	/* The event loop: the only place where the server waits. */
	for (;;) {
		struct epoll_event evs[MAX_EVENTS];
		int n;

		/* TODO(17.8): Wait, with no time limit, until at least one registered
		 * socket is ready; n is how many, their events are in evs. EINTR: wait again; any
		 * other failure is fatal (die, naming the call). See epoll_wait(2). */
		n = 0; (void)evs; errno = ENOSYS; die("epoll_wait"); // placeholder: replace this line
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				on_listener(lfd);
			else
				on_client(evs[i].data.ptr, evs[i].events);
		}
	}
}
