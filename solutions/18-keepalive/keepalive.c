/* keepalive.c - lab 18: finding out that the peer of a connection is gone.
 *
 * Goal:  a TCP connection whose peer vanished without a word (its cable pulled, its machine off)
 *        looks exactly like an idle one: no FIN, no RST, nothing. This client finds such a peer in
 *        the three ways there are: the kernel's keepalive probes while the connection is idle
 *        (mode wait), the kernel's limit on how long sent data may stay unacknowledged (mode send,
 *        TCP_USER_TIMEOUT), and a heartbeat of the program's own (mode beat), which also finds a
 *        peer whose kernel still answers while its program hangs. A peer that rebooted has
 *        forgotten the connection: the next segment that reaches it gets an RST (ECONNRESET).
 * Usage: keepalive wait IDLE INTVL CNT HOST PORT
 *                                 keepalive on (idle IDLE s, a probe every INTVL s, CNT probes);
 *                                 print "keepalive: ..." as the kernel holds it, then read until
 *                                 the peer closes ("peer closed (EOF)", exit 0) or the read fails
 *        keepalive send MS HOST PORT
 *                                 TCP_USER_TIMEOUT of MS ms; print "user timeout: ...", then send
 *                                 "line K" every 100 ms, printing "sent line K", until a send fails
 *        keepalive beat MS N HOST PORT
 *                                 send "ping K" every MS ms; "beat K: answered" when anything came
 *                                 back before the next beat, else "beat K: no answer (M in a row)";
 *                                 after N unanswered beats in a row print "peer dead: N heartbeats
 *                                 in a row unanswered" and exit 1
 *        HOST is a numeric IPv4 address. Every mode prints first "connected from ADDR port P to ADDR
 *        port Q". A failed call: "keepalive: CALL: ENAME (text)", exit 1 (ETIMEDOUT, ECONNRESET).
 * Calls: socket(2), connect(2), setsockopt(2)/getsockopt(2) with SO_KEEPALIVE (socket(7)) and
 *        TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT (tcp(7)), read(2), send(2),
 *        poll(2), clock_gettime(2), nanosleep(2)
 * Done when: make check LAB=18 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "socklab.h"

/* Mode send: the pause between two lines, in ms. */
#define SEND_GAP_MS 100

static _Noreturn void usage(void)
{
	fputs("usage: keepalive wait IDLE INTVL CNT HOST PORT | send MS HOST PORT | beat MS N HOST PORT\n"
	      "  IDLE, INTVL 1..32767 s; CNT 1..127; send MS 1..600000; beat MS 10..60000, N 1..1000\n"
	      "  e.g. keepalive wait 1 1 3 127.0.0.1 7007;  keepalive beat 200 3 127.0.0.1 7007\n",
	      stderr);
	exit(2);
}

/* A whole decimal number in lo..hi, nothing else; -1 if s is not one. */
static int parse_num(const char *s, long lo, long hi, int *v)
{
	long n = 0;

	if (*s == '\0' || strlen(s) > 9)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
	}
	if (n < lo || n > hi)
		return -1;
	*v = (int)n;
	return 0;
}

/* Milliseconds on a clock that never jumps (unlike the time of day). */
static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		die("clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send all len bytes; MSG_NOSIGNAL: a peer that reset the connection is an error we report
 * (EPIPE, ECONNRESET), not a death by SIGPIPE. */
static void send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1)
			die("send");
		p += n;
		len -= (size_t)n;
	}
}

/* socket + connect to srv, and say which ends were joined. */
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
	if (inet_ntop(AF_INET, &me.sin_addr, a, sizeof(a)) == NULL ||
	    inet_ntop(AF_INET, &srv->sin_addr, b, sizeof(b)) == NULL)
		die("inet_ntop");
	printf("connected from %s port %u to %s port %u\n", a, ntohs(me.sin_port), b, ntohs(srv->sin_port));
	return fd;
}

/* One int option as the kernel holds it. */
static int get_int(int fd, int level, int name, const char *what)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) == -1)
		die(what);
	return v;
}

/* wait: an idle connection; only keepalive probes can tell that the peer is gone. */
static void wait_idle(int fd, int idle, int intvl, int cnt)
{
	/* BEGIN SOLUTION TODO(18.1): Make the kernel check the idle connection: turn keepalive on
	 * for this socket, and set its three timers from idle, intvl and cnt (the defaults wait two
	 * hours before the first probe). A failure is fatal (die, naming the call). See socket(7)
	 * (SO_KEEPALIVE), tcp(7) (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT), setsockopt(2). */
	/* SO_KEEPALIVE alone would use the machine's defaults (net.ipv4.tcp_keepalive_time 7200 s,
	 * _intvl 75 s, _probes 9): more than two hours before anyone notices. The TCP_ options set
	 * them for this socket only. After IDLE s without a segment from the peer the kernel sends
	 * a probe (an empty ACK that a live peer must answer), then one every INTVL s; CNT
	 * unanswered probes in a row end the connection with ETIMEDOUT. */
	int on = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1)
		die("setsockopt");
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) == -1)
		die("setsockopt");
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) == -1)
		die("setsockopt");
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) == -1)
		die("setsockopt");
	/* STUB: (void)idle; (void)intvl; (void)cnt; // placeholder: replace this line */
	/* END SOLUTION */
	/* What the kernel really holds for this socket, not what we meant to set. */
	printf("keepalive: SO_KEEPALIVE %d, idle %d s, interval %d s, count %d\n",
	       get_int(fd, SOL_SOCKET, SO_KEEPALIVE, "getsockopt"),
	       get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, "getsockopt"),
	       get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, "getsockopt"),
	       get_int(fd, IPPROTO_TCP, TCP_KEEPCNT, "getsockopt"));

	/* BEGIN SOLUTION TODO(18.2): Wait for the peer: read until it closes, printing "read N
	 * bytes" for whatever comes, then "peer closed (EOF)". A failed read is the news this mode
	 * waits for: report it (die, naming the call). See read(2). */
	char buf[4096];
	ssize_t n;
	/* The probes are the kernel's business: the program just sits in read(). When they go
	 * unanswered, the kernel aborts the connection and read() returns -1 with ETIMEDOUT; a
	 * peer that rebooted answers a probe with RST: ECONNRESET. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		printf("read %zd bytes\n", n);
	if (n == -1)
		die("read");
	printf("peer closed (EOF)\n");
	/* STUB: (void)fd; // placeholder: replace this line */
	/* END SOLUTION */
}

/* send: data keeps going out; how long may it stay unacknowledged? */
static void send_lines(int fd, int ms)
{
	/* BEGIN SOLUTION TODO(18.3): Bound how long data we sent may stay unacknowledged: ms
	 * milliseconds, instead of the ~15 minutes of retransmissions the kernel allows by
	 * default. A failure is fatal (die, naming the call). See tcp(7) (TCP_USER_TIMEOUT). */
	/* Keepalive never acts here: the connection is not idle, it has data in flight. The kernel
	 * retransmits it with growing pauses (net.ipv4.tcp_retries2 = 15: about 15 minutes) before
	 * it gives up. TCP_USER_TIMEOUT replaces that with a time: once data has waited ms ms for
	 * its ACK, the kernel aborts the connection with ETIMEDOUT. */
	unsigned int ut = (unsigned int)ms;
	if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut)) == -1)
		die("setsockopt");
	/* STUB: (void)ms; // placeholder: replace this line */
	/* END SOLUTION */
	printf("user timeout: %d ms\n", get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "getsockopt"));

	struct timespec gap = { .tv_sec = 0, .tv_nsec = SEND_GAP_MS * 1000000L };
	/* BEGIN SOLUTION TODO(18.4): Send "line K\n" (K = 1, 2, ...) every SEND_GAP_MS ms, printing
	 * "sent line K" after each, until a send fails: report that failure (die, naming the call).
	 * A peer that is gone must not kill the program by SIGPIPE. See send(2) (MSG_NOSIGNAL),
	 * nanosleep(2). */
	/* send() succeeding says only that the bytes are in our kernel's send buffer, not that the
	 * peer got them: with the peer gone, sends go on succeeding until the kernel gives up on the
	 * connection; the next call after that fails with ETIMEDOUT. */
	for (long k = 1;; k++) {
		char line[32];
		int len = snprintf(line, sizeof(line), "line %ld\n", k);
		send_all(fd, line, (size_t)len);
		printf("sent line %ld\n", k);
		/* EINTR (a signal) only shortens the pause. */
		if (nanosleep(&gap, NULL) == -1 && errno != EINTR)
			die("nanosleep");
	}
	/* STUB: (void)fd; (void)gap; (void)send_all; // placeholder: replace this line */
	/* END SOLUTION */
}

/* beat: the program's own heartbeat: only an answer from the peer's program counts. */
static void heartbeat(int fd, int ms, int n)
{
	/* BEGIN SOLUTION TODO(18.5): Every ms milliseconds send "ping K\n" (K = 1, 2, ...), then
	 * wait for an answer until the next beat is due, without sleeping through it: anything the
	 * peer sends counts. Print "beat K: answered", or "beat K: no answer (M in a row)"; after n
	 * unanswered beats in a row print "peer dead: N heartbeats in a row unanswered" and exit 1.
	 * A peer that closes: "peer closed (EOF)", exit 0. A failed call is fatal (die, naming it).
	 * See poll(2), read(2), send(2), clock_gettime(2). */
	/* Neither the kernel's keepalive nor TCP_USER_TIMEOUT can tell a live program from a hung
	 * one: the peer's kernel acknowledges our bytes even when its program never reads them. Only
	 * an answer written by the peer's program proves it alive, and only a timer of our own turns
	 * its absence into a verdict, as fast as we choose. */
	char buf[4096];
	int missed = 0;
	for (long k = 1;; k++) {
		char ping[32];
		int len = snprintf(ping, sizeof(ping), "ping %ld\n", k);
		send_all(fd, ping, (size_t)len);
		long long due = now_ms() + ms;
		int answered = 0;
		/* Wait in poll() until the next beat is due, taking whatever arrives meanwhile. */
		for (long long left = ms; left > 0; left = due - now_ms()) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int r = poll(&p, 1, (int)left);
			if (r == -1 && errno != EINTR)
				die("poll");
			if (r <= 0)
				continue;
			/* POLLIN, or POLLERR/POLLHUP: read() says which (data, EOF or the error). */
			ssize_t got = read(fd, buf, sizeof(buf));
			if (got == -1)
				die("read");
			if (got == 0) {
				printf("peer closed (EOF)\n");
				return;
			}
			answered = 1;
		}
		if (answered) {
			missed = 0;
			printf("beat %ld: answered\n", k);
		} else {
			missed++;
			printf("beat %ld: no answer (%d in a row)\n", k, missed);
			if (missed >= n) {
				printf("peer dead: %d heartbeats in a row unanswered\n", n);
				exit(1);
			}
		}
	}
	/* STUB: (void)fd; (void)ms; (void)n; (void)now_ms; // placeholder: replace this line */
	/* END SOLUTION */
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv = { .sin_family = AF_INET };
	unsigned short port;
	int a = 0, b = 0, c = 0, nargs;

	/* Line-buffered even into a pipe or a file: every line is there as soon as it is printed. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	const char *mode = argv[1];
	if (strcmp(mode, "wait") == 0) {
		nargs = 3;
		if (argc != 7 || parse_num(argv[2], 1, 32767, &a) == -1 || parse_num(argv[3], 1, 32767, &b) == -1 ||
		    parse_num(argv[4], 1, 127, &c) == -1)
			usage();
	} else if (strcmp(mode, "send") == 0) {
		nargs = 1;
		if (argc != 5 || parse_num(argv[2], 1, 600000, &a) == -1)
			usage();
	} else if (strcmp(mode, "beat") == 0) {
		nargs = 2;
		if (argc != 6 || parse_num(argv[2], 10, 60000, &a) == -1 || parse_num(argv[3], 1, 1000, &b) == -1)
			usage();
	} else {
		usage();
	}
	if (inet_pton(AF_INET, argv[2 + nargs], &srv.sin_addr) != 1 || parse_port(argv[3 + nargs], &port) == -1 ||
	    port == 0)
		usage();
	srv.sin_port = htons(port);

	int fd = connect_to(&srv);
	if (strcmp(mode, "wait") == 0)
		wait_idle(fd, a, b, c);
	else if (strcmp(mode, "send") == 0)
		send_lines(fd, a);
	else
		heartbeat(fd, a, b);
	if (close(fd) == -1)
		die("close");
	return 0;
}
