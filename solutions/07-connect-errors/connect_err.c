/* connect_err.c - lab 07: the three ways connect() fails, and what each one means on the wire.
 *
 * Goal:  try to connect to ADDR:PORT and classify the outcome by its errno:
 *        no answer to the SYN        -> ETIMEDOUT    (often a wrong address, a host that is down)
 *        an RST comes back           -> ECONNREFUSED (often a wrong port: nobody listens there)
 *        destination unreachable     -> ENETUNREACH / EHOSTUNREACH (no route), EACCES (prohibited)
 *        and bound the wait yourself: non-blocking connect, poll() with a time limit, SO_ERROR.
 * Usage: connect_err [-s SYNCNT] [-t MS] ADDR PORT
 *          ADDR    a numeric IPv4 address (no DNS), e.g. 127.0.0.1
 *          -s N    TCP_SYNCNT: the kernel's time limit for the SYN computed from N instead of
 *                  tcp_syn_retries (N = 1: ETIMEDOUT after 3 s)
 *          -t MS   non-blocking connect: wait at most MS milliseconds for the handshake
 *        On success prints "connected to ADDR port P from ADDR port Q", exit 0. On failure prints
 *        one line on stdout saying what happened on the wire, and "connect_err: connect: ENAME
 *        (text)" on stderr, exit 1. Bad arguments: usage on stderr, exit 2.
 * Calls: socket(2), connect(2), setsockopt(2) with TCP_SYNCNT (tcp(7)), fcntl(2) O_NONBLOCK,
 *        poll(2), getsockopt(2) SO_ERROR (socket(7)), getsockname(2), ip(7), errno(3)
 * Done when: make check LAB=07 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* connect_within() returns this when our own time limit ran out: not an errno, the kernel had not
 * given up yet. */
#define OWN_LIMIT (-1)

static _Noreturn void usage(void)
{
	fputs("usage: connect_err [-s SYNCNT] [-t MS] ADDR PORT\n"
	      "  ADDR is a numeric IPv4 address; SYNCNT 1..255; MS 1..600000\n"
	      "  e.g. connect_err 127.0.0.1 8080;  connect_err -s 1 -t 500 127.0.0.1 8080\n",
	      stderr);
	exit(2);
}

/* A decimal number in lo..hi, or usage(). */
static int parse_num(const char *s, int lo, int hi)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 7)
		usage();
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			usage();
		v = v * 10 + (*p - '0');
	}
	if (v < lo || v > hi)
		usage();
	return (int)v;
}

/* Plain blocking connect: the call returns only when the handshake is done or has failed.
 * Returns 0, or the errno connect() failed with. */
static int connect_blocking(int fd, const struct sockaddr_in *sa)
{
	/* BEGIN SOLUTION TODO(07.1): Connect fd to sa and report how it went: 0 on success,
	 * otherwise the errno it failed with. Do not die here: main classifies the error. See
	 * connect(2). */
	/* connect() sends the SYN and sleeps until a SYN-ACK (success), an RST (ECONNREFUSED), an
	 * ICMP error or a route lookup failure (ENETUNREACH, EHOSTUNREACH, EACCES), or until the
	 * kernel's time limit for an unanswered SYN runs out (ETIMEDOUT). */
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == -1)
		return errno;
	return 0;
	/* STUB: (void)fd; (void)sa; return ENOSYS; // placeholder: replace this line */
	/* END SOLUTION */
}

/* Non-blocking connect bounded by ms milliseconds. Returns 0, the errno of the failed handshake,
 * or OWN_LIMIT if the time ran out first. */
static int connect_within(int fd, const struct sockaddr_in *sa, int ms)
{
	/* BEGIN SOLUTION TODO(07.4): Start a connect that does not wait for the handshake: make fd
	 * non-blocking (its other file status flags kept) and connect. Success at once: return 0; a
	 * failure other than "in progress": return its errno; in progress: print "connect:
	 * EINPROGRESS: SYN sent, waiting at most MS ms" and go on. See connect(2) (EINPROGRESS),
	 * fcntl(2). */
	int flags = fcntl(fd, F_GETFL);
	if (flags == -1)
		die("fcntl");
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		die("fcntl");
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	/* A route lookup failure is known before any packet leaves: it comes back at once even
	 * from a non-blocking connect. EINPROGRESS means "SYN sent, the answer is not here yet". */
	if (errno != EINPROGRESS)
		return errno;
	printf("connect: %s: SYN sent, waiting at most %d ms\n", strerrorname_np(errno), ms);
	/* STUB: (void)sa; // placeholder: replace this line */
	/* END SOLUTION */

	/* BEGIN SOLUTION TODO(07.5): Wait at most ms milliseconds for the handshake to end: the
	 * socket becomes writable when it does. If the time runs out, return OWN_LIMIT; otherwise
	 * ask the socket for the handshake's result (its pending error) and return it, 0 meaning
	 * connected. See poll(2), connect(2) (EINPROGRESS), socket(7) (SO_ERROR). */
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int n = poll(&p, 1, ms);
	if (n == -1)
		die("poll");
	if (n == 0)
		return OWN_LIMIT; /* the kernel is still resending the SYN; closing fd stops it */
	/* Writable means "the handshake finished", not "it worked": the outcome waits in the
	 * socket's pending error, which SO_ERROR reads (and clears). */
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		die("getsockopt");
	return err;
	/* STUB: (void)fd; (void)ms; return ENOSYS; // placeholder: replace this line */
	/* END SOLUTION */
}

/* One line on stdout: what the errno means on the wire, and the usual cause. */
static void explain(int err)
{
	/* BEGIN SOLUTION TODO(07.3): Print one line on stdout that says what err means on the wire:
	 * for ECONNREFUSED start it with "RST received", for ETIMEDOUT with "no answer to the SYN",
	 * for ENETUNREACH and EHOSTUNREACH with "destination unreachable", for EACCES and EPERM
	 * with "destination unreachable" too (a prohibit route or a firewall); anything else:
	 * "connect failed". See connect(2), docs/errno.md. */
	switch (err) {
	case ECONNREFUSED: /* the host is there, but answered the SYN with an RST */
		puts("RST received: the host is up but nobody listens on that port (wrong port?)");
		break;
	case ETIMEDOUT: /* silence: the SYN (and its retries) got no answer at all */
		puts("no answer to the SYN: the kernel resent it and gave up (wrong address? host down? "
		     "a firewall dropping packets?)");
		break;
	case ENETUNREACH: /* no route to the network: nothing was sent */
		puts("destination unreachable: no route to that network (wrong address? no default route?)");
		break;
	case EHOSTUNREACH: /* an unreachable route, an ICMP host unreachable, or ARP got no reply */
		puts("destination unreachable: no route to that host");
		break;
	case EACCES: /* a prohibit route (ICMP "administratively prohibited") */
	case EPERM: /* a local firewall rule rejected the SYN */
		puts("destination unreachable: the route or a firewall prohibits it");
		break;
	default: puts("connect failed for another reason (see errno below)"); break;
	}
	/* STUB: (void)err; // placeholder: replace this line */
	/* END SOLUTION */
}

int main(int argc, char **argv)
{
	int syncnt = 0, ms = 0, opt;
	struct sockaddr_in sa;
	unsigned short port;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "+s:t:")) != -1) {
		if (opt == 's')
			syncnt = parse_num(optarg, 1, 255);
		else if (opt == 't')
			ms = parse_num(optarg, 1, 600000);
		else
			usage();
	}
	if (argc - optind != 2 || parse_port(argv[optind + 1], &port) == -1)
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
		usage();

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		die("socket");
	if (syncnt > 0) {
		/* BEGIN SOLUTION TODO(07.2): Bound the time an unanswered SYN may take: set the
		 * TCP-level option that tells the kernel how many times to send the SYN again on
		 * this socket to syncnt, instead of the machine-wide default of tcp_syn_retries
		 * (about two minutes). See tcp(7), setsockopt(2). */
		/* With 1, ETIMEDOUT comes after 3 s (on Linux >= 6.5 the SYN goes out three times in
		 * them, at 0, 1 and 2 s; before, twice), with 2 after 7 s. The kernel accepts 1..127
		 * and answers EINVAL above that. */
		if (setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof(syncnt)) == -1)
			die("setsockopt");
		/* STUB: (void)syncnt; // placeholder: replace this line */
		/* END SOLUTION */
	}

	int err = ms > 0 ? connect_within(fd, &sa, ms) : connect_blocking(fd, &sa);
	if (err == OWN_LIMIT) {
		printf("no answer within %d ms: we stopped waiting by our own limit (the kernel was still "
		       "resending the SYN)\n",
		       ms);
		fprintf(stderr, "%s: connect: no answer within %d ms (our own limit, not an errno)\n",
			program_invocation_short_name, ms);
		exit(1);
	}
	if (err != 0) {
		explain(err);
		errno = err;
		die("connect");
	}

	/* Connected: the kernel chose our source address and an ephemeral port (lab 06). */
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char peer[INET_ADDRSTRLEN], mine[INET_ADDRSTRLEN];
	if (getsockname(fd, (struct sockaddr *)&me, &len) == -1)
		die("getsockname");
	if (inet_ntop(AF_INET, &sa.sin_addr, peer, sizeof(peer)) == NULL)
		die("inet_ntop");
	if (inet_ntop(AF_INET, &me.sin_addr, mine, sizeof(mine)) == NULL)
		die("inet_ntop");
	printf("connected to %s port %u from %s port %u\n", peer, port, mine, ntohs(me.sin_port));
	close(fd);
	return 0;
}
