/* opts_cl.c - lab 19, the client: two socket options that change what goes on the wire.
 *
 * Goal:  see two options at work from the side that writes. TCP_NODELAY: a request sent as two
 *        small writes, then a read of the reply, waits for the peer's delayed ACK while Nagle's
 *        algorithm holds the second piece back; with the option the piece goes at once. SO_LINGER:
 *        how long close() may block while the kernel still holds bytes the peer has not
 *        acknowledged ({1, T}), and the abortive close that throws them away ({1, 0}).
 * Usage: opts_cl nagle [-n] HOST PORT ROUNDS
 *                             ROUNDS times: send "ping " and then "K\n" with two write()s, read the
 *                             reply line; print "round K: U us" (the time of the round) and at the
 *                             end "median U us (TCP_NODELAY off|on)". -n: set TCP_NODELAY first
 *        opts_cl send [-l SECS] HOST PORT BYTES
 *                             write BYTES bytes ("wrote N bytes"), then close: with -l, SO_LINGER
 *                             {1, SECS} first. Prints "close returned after MS ms"
 *        HOST is a numeric IPv4 address, ROUNDS 1..100, SECS 0..60. Every mode prints first
 *        "connected from ADDR port P to ADDR port Q".
 * Calls: socket(2), connect(2), setsockopt(2) with TCP_NODELAY (tcp(7)) and SO_LINGER (socket(7)),
 *        write(2), send(2), read(2), close(2), clock_gettime(2)
 * Done when: make check LAB=19 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "socklab.h"

#define MAX_ROUNDS 100
#define CHUNK 65536

static _Noreturn void usage(void)
{
	fputs("usage: opts_cl nagle [-n] HOST PORT ROUNDS | send [-l SECS] HOST PORT BYTES\n"
	      "  e.g. opts_cl nagle 127.0.0.1 41234 5;  opts_cl send -l 1 127.0.0.1 41234 200000\n",
	      stderr);
	exit(2);
}

/* A decimal number in lo..hi, or -1. */
static long number(const char *s, long lo, long hi)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

static long long now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		die("clock_gettime");
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Write all len bytes: a stream socket may take fewer than asked. */
static void write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

/* socket + connect to HOST:PORT, and say which ends were joined. */
static int connect_to(const struct sockaddr_in *srv)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		die("socket");
	if (connect(fd, (const struct sockaddr *)srv, sizeof(*srv)) == -1)
		die("connect");
	if (getsockname(fd, (struct sockaddr *)&me, &len) == -1)
		die("getsockname");
	if (inet_ntop(AF_INET, &me.sin_addr, a, sizeof(a)) == NULL)
		die("inet_ntop");
	if (inet_ntop(AF_INET, &srv->sin_addr, b, sizeof(b)) == NULL)
		die("inet_ntop");
	printf("connected from %s port %u to %s port %u\n", a, ntohs(me.sin_port), b, ntohs(srv->sin_port));
	return fd;
}

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* nagle: rounds of write, write, read; how long does each take? */
static void nagle(int fd, int nodelay, long rounds)
{
	long long took[MAX_ROUNDS] = { 0 };
	char req[32], reply[64];

	/* BEGIN SOLUTION TODO(19.1): With -n (nodelay set), turn Nagle's algorithm off on this
	 * socket before the first request, so that each small write goes out as a segment at once
	 * instead of waiting for the acknowledgement of the one before. A failure is fatal (die,
	 * naming the call). See tcp(7) (TCP_NODELAY), setsockopt(2). */
	/* Nagle's algorithm (on by default) lets a small segment go only when nothing sent is still
	 * unacknowledged; otherwise it waits, to be merged with what comes next. TCP_NODELAY is an
	 * option of TCP itself, so its level is IPPROTO_TCP (SOL_TCP), not SOL_SOCKET. */
	if (nodelay) {
		int one = 1;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
			die("setsockopt");
	}
	/* STUB: (void)nodelay; // placeholder: replace this line */
	/* END SOLUTION */

	for (long k = 1; k <= rounds; k++) {
		long long t0 = now_us();
		size_t got = 0;
		int hl = snprintf(req, sizeof(req), "%ld\n", k);

		/* BEGIN SOLUTION TODO(19.2): One round of the exchange: send the request in two
		 * pieces, each written with a call of its own: first the 5 bytes "ping ", then the hl bytes
		 * of req (the round number and a newline). Then read the reply into reply until it
		 * holds a newline (got counts the bytes so far): the peer answers only once it has the
		 * whole request. A failure is fatal, and so is an end of stream before the newline
		 * (print "opts_cl: the server closed the connection" on stderr, exit 1). See write(2),
		 * read(2). */
		/* Two writes, not one: the first piece goes out at once (nothing is in flight), the
		 * second finds the first unacknowledged. The peer, which has half a request, has
		 * nothing to say and delays its ACK (up to 40 ms on Linux) hoping to send it with an
		 * answer; Nagle waits for that ACK. Each side waits for the other: only the delayed
		 * ACK timer ends it. */
		write_all(fd, "ping ", 5);
		write_all(fd, req, (size_t)hl);
		while (got == 0 || reply[got - 1] != '\n') {
			if (got == sizeof(reply)) {
				fputs("opts_cl: the reply line is too long\n", stderr);
				exit(1);
			}
			ssize_t n = read(fd, reply + got, sizeof(reply) - got);
			if (n == -1)
				die("read");
			if (n == 0) {
				fputs("opts_cl: the server closed the connection\n", stderr);
				exit(1);
			}
			got += (size_t)n;
		}
		/* STUB: (void)got; (void)hl; (void)reply; (void)write_all; // placeholder: replace this line */
		/* END SOLUTION */
		took[k - 1] = now_us() - t0;
		printf("round %ld: %lld us\n", k, took[k - 1]);
	}
	qsort(took, (size_t)rounds, sizeof(took[0]), by_value);
	printf("median %lld us (TCP_NODELAY %s)\n", took[(rounds - 1) / 2], nodelay ? "on" : "off");
	if (close(fd) == -1)
		die("close");
}

/* send: fill the connection with bytes, then close it, lingering or not. */
static void send_then_close(int fd, unsigned long bytes, long linger)
{
	static char buf[CHUNK];
	unsigned long sent = 0;

	memset(buf, 'x', sizeof(buf));
	/* BEGIN SOLUTION TODO(19.3): Send bytes bytes from buf (at most CHUNK at a time, the same
	 * buffer again and again), counting in sent what the kernel took: a send may take fewer
	 * bytes than asked. Use a blocking call, and make a reset connection an error to report
	 * (die, naming the call) rather than a death by SIGPIPE. See send(2) (MSG_NOSIGNAL). */
	while (sent < bytes) {
		size_t n = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);
		/* Blocks while the send buffer is full: when the peer does not read, its window
		 * closes (zero window), nothing more can go, and the kernel puts the process to sleep
		 * here until the peer makes room. MSG_NOSIGNAL: EPIPE or ECONNRESET is reported, not
		 * a death by SIGPIPE. */
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w == -1)
			die("send");
		sent += (size_t)w;
	}
	/* STUB: (void)fd; sent = bytes; // placeholder: replace this line */
	/* END SOLUTION */
	printf("wrote %lu bytes\n", sent);

	if (linger >= 0) {
		/* BEGIN SOLUTION TODO(19.4): Make the close below linger: turn SO_LINGER on with a
		 * timeout of linger seconds, so that closing waits (at most that long) until the peer
		 * has acknowledged what is still in the send buffer; a timeout of 0 makes close abort
		 * the connection instead. A failure is fatal (die, naming the call). See socket(7)
		 * (SO_LINGER, struct linger), setsockopt(2). */
		/* Without SO_LINGER, close() returns at once and the kernel delivers the rest in the
		 * background. {1, T} makes close() block until every byte is acknowledged or T
		 * seconds have passed; on Linux it then returns 0 anyway and the kernel goes on
		 * trying. {1, 0}: no waiting at all, the unsent bytes are discarded and an RST is
		 * sent instead of a FIN. */
		struct linger lg = { .l_onoff = 1, .l_linger = (int)linger };
		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
			die("setsockopt");
		/* STUB: (void)linger; // placeholder: replace this line */
		/* END SOLUTION */
	}
	long long t0 = now_us();
	if (close(fd) == -1)
		die("close");
	printf("close returned after %lld ms\n", (now_us() - t0) / 1000);
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv;
	unsigned short port;
	int nodelay = 0;
	long linger = -1, count;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	const char *mode = argv[1];
	int i = 2;
	if (strcmp(mode, "nagle") == 0 && argc > i && strcmp(argv[i], "-n") == 0) {
		nodelay = 1;
		i++;
	} else if (strcmp(mode, "send") == 0 && argc > i + 1 && strcmp(argv[i], "-l") == 0) {
		linger = number(argv[i + 1], 0, 60);
		if (linger == -1)
			usage();
		i += 2;
	} else if (strcmp(mode, "nagle") != 0 && strcmp(mode, "send") != 0) {
		usage();
	}
	if (argc != i + 3 || parse_port(argv[i + 1], &port) == -1 || port == 0)
		usage();
	if (strcmp(mode, "nagle") == 0)
		count = number(argv[i + 2], 1, MAX_ROUNDS);
	else
		count = number(argv[i + 2], 1, 1L << 30);
	if (count == -1)
		usage();
	memset(&srv, 0, sizeof(srv));
	srv.sin_family = AF_INET;
	srv.sin_port = htons(port);
	if (inet_pton(AF_INET, argv[i], &srv.sin_addr) != 1)
		usage();

	int fd = connect_to(&srv);
	if (strcmp(mode, "nagle") == 0)
		nagle(fd, nodelay, count);
	else
		send_then_close(fd, (unsigned long)count, linger);
	return 0;
}
