/* udp_sv.c - lab 13, the server: datagrams, one socket for every client, no connection.
 *
 * Goal:  a UDP echo server. It binds one datagram socket and, for ever, receives a datagram, says
 *        how long it was and who sent it, and sends it back to that sender. No listen(), no
 *        accept(): there are no connections, and the one socket serves every client. Each
 *        receive takes exactly one datagram, whatever else is queued behind it (the boundaries
 *        are kept); a datagram longer than the buffer is cut to the buffer's size and the rest is
 *        lost, but MSG_TRUNC still tells its real length; an empty datagram is a datagram (0
 *        bytes), not an end of file.
 * Usage: udp_sv [-r RCVBUF] [-s SIZE] ADDR PORT
 *          ADDR  the numeric IPv4 address to bind, e.g. 127.0.0.1
 *          PORT  0..65535; 0 lets the kernel choose a free (ephemeral) port
 *          -r RCVBUF  ask for a receive buffer of RCVBUF bytes (SO_RCVBUF): a small one overflows
 *          -s SIZE    receive into a buffer of SIZE bytes (1..65536, default 65536): a small one
 *                     truncates
 *        Prints "listening ADDR port N", with -r "receive buffer N bytes (SO_RCVBUF)", then one
 *        line per datagram: datagram K: N bytes from ADDR port P "TEXT" (", truncated to S" after
 *        P when it did not fit; TEXT: the bytes kept, up to 64, dots for unprintable ones).
 *        SIGTERM ends it with status 0.
 *        e.g. udp_sv 127.0.0.1 0;  udp_sv -s 10 127.0.0.1 7007 (then: udp_cl 127.0.0.1 7007 hello)
 * Calls: socket(2), setsockopt(2) with SO_RCVBUF (socket(7)), bind(2), recvfrom(2) with MSG_TRUNC
 *        (recv(2), udp(7)), sendto(2)
 * Done when: make check LAB=13 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* The largest buffer: room for the largest UDP datagram over IPv4 (65507 bytes) and more. */
#define MAX_SIZE 65536

static _Noreturn void usage(void)
{
	fputs("usage: udp_sv [-r RCVBUF] [-s SIZE] ADDR PORT\n"
	      "  ADDR a numeric IPv4 address (127.0.0.1); PORT 0..65535, 0: the kernel chooses\n"
	      "  -r RCVBUF: SO_RCVBUF of RCVBUF bytes (1..1048576); -s SIZE: receive buffer (1..65536)\n"
	      "  e.g. udp_sv 127.0.0.1 0;  udp_sv -s 10 127.0.0.1 7007\n",
	      stderr);
	exit(2);
}

/* SIGTERM: leave at once with status 0 (_exit is safe in a handler, exit is not). */
static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

/* A number from lo to hi, decimal digits only; usage error otherwise. */
static long number(const char *s, long lo, long hi)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 7)
		usage();
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			usage();
		v = v * 10 + (*s - '0');
	}
	if (v < lo || v > hi)
		usage();
	return v;
}

/* The first bytes of a datagram as text: up to 64, a dot for each byte that is not printable. */
static const char *text_of(const char *buf, size_t n)
{
	static char text[65];
	size_t i;

	for (i = 0; i < n && i < sizeof(text) - 1; i++) {
		text[i] = buf[i];
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			text[i] = '.';
	}
	text[i] = '\0';
	return text;
}

int main(int argc, char **argv)
{
	static char buf[MAX_SIZE];
	struct sockaddr_in addr = { .sin_family = AF_INET };
	unsigned short port;
	long rcvbuf = 0, size = MAX_SIZE;
	int a = 1;

	for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
		if (strcmp(argv[a], "-r") == 0)
			rcvbuf = number(argv[a + 1], 1, 1048576);
		else if (strcmp(argv[a], "-s") == 0)
			size = number(argv[a + 1], 1, MAX_SIZE);
		else
			usage();
	}
	if (argc - a != 2 || inet_pton(AF_INET, argv[a], &addr.sin_addr) != 1 || parse_port(argv[a + 1], &port) == -1)
		usage();
	addr.sin_port = htons(port);
	setvbuf(stdout, NULL, _IOLBF, 0); /* every line leaves at once: the tests wait for them */
	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");

	int fd = -1;
	/* TODO(13.1): Create the server's socket in fd: IPv4, datagrams (UDP). A
	 * failure is fatal (die, naming the call). Only then, if rcvbuf is not 0, ask the kernel for
	 * a receive buffer of rcvbuf bytes, before any datagram can arrive: the queue of datagrams
	 * waiting for the server lives in it. See socket(2), udp(7), socket(7) (SO_RCVBUF),
	 * setsockopt(2). */
	(void)rcvbuf; // placeholder: replace this line
	/* TODO(13.2): Give the socket its address and port (addr). That is all a UDP
	 * server does before it receives: there is no connection to listen for or to accept. A
	 * failure is fatal (die, naming the call). See bind(2). */
	(void)fd; // placeholder: replace this line
	socklen_t len = sizeof(addr);
	if (getsockname(fd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	printf("listening %s port %u\n", argv[a], ntohs(addr.sin_port));
	if (rcvbuf != 0) {
		int got;
		socklen_t glen = sizeof(got);
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &glen) == -1)
			die("getsockopt");
		printf("receive buffer %d bytes (SO_RCVBUF)\n", got);
	}

	for (long k = 1;; k++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = -1;

		/* TODO(13.3): Receive one datagram into buf (at most size bytes),
		 * with its sender's address in peer (plen says how big peer is). Ask the kernel to
		 * return the datagram's real length in n even when it is longer than size (the rest
		 * of it is lost either way). A failure is fatal (die, naming the call). See
		 * recvfrom(2) (MSG_TRUNC), udp(7). */
		errno = ENOSYS; die("recvfrom"); // placeholder: replace this line
		size_t kept = (size_t)n < (size_t)size ? (size_t)n : (size_t)size;
		char host[INET_ADDRSTRLEN] = "?";
		if (inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
		if (kept < (size_t)n)
			printf("datagram %ld: %zd bytes from %s port %u, truncated to %zu \"%s\"\n", k, n, host,
			       ntohs(peer.sin_port), kept, text_of(buf, kept));
		else
			printf("datagram %ld: %zd bytes from %s port %u \"%s\"\n", k, n, host, ntohs(peer.sin_port),
			       text_of(buf, kept));
		/* TODO(13.4): Send the bytes kept (kept of them, from buf) back to the
		 * sender of this datagram, as one datagram: the address recvfrom gave is the only way
		 * to reach it. A failure is fatal (die, naming the call). See sendto(2). */
		(void)plen; // placeholder: replace this line
	}
}
