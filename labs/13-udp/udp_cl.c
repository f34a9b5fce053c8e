/* udp_cl.c - lab 13, the client: datagrams out, replies back, connected or not.
 *
 * Goal:  send each argument as one datagram to a UDP server, then wait for the replies, each
 *        wait bounded by a receive timeout: UDP promises nothing, and a reply that never comes
 *        must not hang the client. Unconnected, the socket sends with sendto() and takes a reply
 *        from anyone; connected (-c), connect() fixes the peer: the kernel drops datagrams from
 *        anyone else, and an ICMP "port unreachable" from the peer's host comes back as
 *        ECONNREFUSED on the next send or receive - an unconnected socket never hears of it.
 * Usage: udp_cl [-c] [-w MS] HOST PORT DATAGRAM...
 *          HOST  the server's numeric IPv4 address, e.g. 127.0.0.1;  PORT 1..65535
 *          -c    connect the socket to HOST PORT first
 *          -w MS wait at most MS ms for each reply (1..60000, default 1000)
 *          DATAGRAM  the text of one datagram ("" is an empty one), or @N: N bytes a..z repeated
 *                    (N up to 70000: over 65507 the kernel refuses it)
 *        Prints "local ADDR port P" once the socket has its port (after connect, or after the
 *        first sendto), "sent K: N bytes" per datagram, then per reply:
 *        reply K: N bytes from ADDR port P "TEXT" (TEXT: up to 64 bytes, dots for unprintable
 *        ones). Exit 0 once every datagram has had its reply; a failed call ends it:
 *        "udp_cl: recvfrom: EAGAIN (...)" when a wait timed out, exit 1.
 *        e.g. udp_cl 127.0.0.1 7007 one two three;  udp_cl -c -w 300 127.0.0.1 7007 hello
 * Calls: socket(2), connect(2), sendto(2), send(2), setsockopt(2) with SO_RCVTIMEO (socket(7)),
 *        recvfrom(2), getsockname(2), udp(7)
 * Done when: make check LAB=13 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "socklab.h"

/* Room for any datagram the client may try to send (the kernel refuses those over 65507) and for
 * any reply. */
#define MAX_SIZE 70000

static _Noreturn void usage(void)
{
	fputs("usage: udp_cl [-c] [-w MS] HOST PORT DATAGRAM...\n"
	      "  HOST a numeric IPv4 address (127.0.0.1); PORT 1..65535; -c: connect first;\n"
	      "  -w MS: wait at most MS ms (1..60000) for each reply; DATAGRAM: text, or @N for N bytes\n"
	      "  e.g. udp_cl 127.0.0.1 7007 one two three;  udp_cl -c -w 300 127.0.0.1 7007 @65507\n",
	      stderr);
	exit(2);
}

/* A number from lo to hi, decimal digits only; -1 if s is not one. */
static long number(const char *s, long lo, long hi)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 7)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

/* The bytes of one datagram from its argument: the text itself, or "@N": N bytes a..z again and
 * again, made in buf. Returns where they are; their number in *len. */
static const char *payload(const char *arg, char *buf, size_t *len)
{
	if (arg[0] != '@') {
		*len = strlen(arg);
		return arg;
	}
	long n = number(arg + 1, 0, MAX_SIZE);
	for (long i = 0; i < n; i++)
		buf[i] = (char)('a' + i % 26);
	*len = (size_t)n;
	return buf;
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

/* "local ADDR port P": the name the kernel gave the socket. */
static void print_local(int fd)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char host[INET_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&me, &len) == -1)
		die("getsockname");
	if (inet_ntop(AF_INET, &me.sin_addr, host, sizeof(host)) == NULL)
		die("inet_ntop");
	printf("local %s port %u\n", host, ntohs(me.sin_port));
}

int main(int argc, char **argv)
{
	static char buf[MAX_SIZE];
	struct sockaddr_in srv = { .sin_family = AF_INET };
	unsigned short port;
	int connected = 0, a = 1;
	long wait_ms = 1000;

	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "-c") == 0)
			connected = 1;
		else if (strcmp(argv[a], "-w") == 0 && a + 1 < argc && (wait_ms = number(argv[a + 1], 1, 60000)) != -1)
			a++;
		else
			usage();
	}
	if (argc - a < 3 || inet_pton(AF_INET, argv[a], &srv.sin_addr) != 1 || parse_port(argv[a + 1], &port) == -1 ||
	    port == 0)
		usage();
	srv.sin_port = htons(port);
	for (int i = a + 2; i < argc; i++)
		if (argv[i][0] == '@' ? number(argv[i] + 1, 0, MAX_SIZE) == -1 : strlen(argv[i]) > MAX_SIZE)
			usage();
	setvbuf(stdout, NULL, _IOLBF, 0);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd == -1)
		die("socket");
	if (connected) {
		/* TODO(13.5): Connect the socket to the server (srv). On a datagram
		 * socket this sends nothing: it only fixes the peer, so that plain sends go there,
		 * datagrams from anyone else are dropped, and errors the peer's host reports
		 * (ICMP) reach this socket. A failure is fatal (die, naming the call). See
		 * connect(2), udp(7). */
		(void)srv; // placeholder: replace this line
		print_local(fd);
	}

	int count = argc - a - 2;
	for (int k = 1; k <= count; k++) {
		size_t n;
		const char *data = payload(argv[a + 1 + k], buf, &n);
		/* TODO(13.6): Send the n bytes of data as one datagram to the server:
		 * connected, to the peer the socket already has; unconnected, naming the server's
		 * address (srv) with each datagram. A failure is fatal (die, naming the call you
		 * made): a datagram too big for UDP, or the ICMP error of an earlier one.
		 * See send(2), sendto(2). */
		(void)data; (void)n; errno = ENOSYS; die("sendto"); // placeholder: replace this line
		/* The first sendto() of an unconnected socket gave it its port (an implicit bind). */
		if (!connected && k == 1)
			print_local(fd);
		printf("sent %d: %zu bytes\n", k, n);
	}

	/* TODO(13.7): Bound every wait for a reply to wait_ms milliseconds, so that a
	 * receive with nothing to take fails (EAGAIN) instead of blocking for ever: a datagram or its
	 * reply may be lost, and nothing else would ever tell. A failure is fatal (die, naming the
	 * call). See socket(7) (SO_RCVTIMEO, a struct timeval), setsockopt(2). */
	(void)wait_ms; // placeholder: replace this line

	for (int k = 1; k <= count; k++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t r = -1;

		/* TODO(13.8): Receive one reply into buf (at most MAX_SIZE bytes), with
		 * the address of whoever sent it in from (flen says how big from is). A failure is
		 * fatal (die, naming the call): EAGAIN when the wait timed out, ECONNREFUSED when the
		 * connected peer's host answered with ICMP port unreachable. See recvfrom(2). */
		(void)flen; errno = ENOSYS; die("recvfrom"); // placeholder: replace this line
		char host[INET_ADDRSTRLEN] = "?";
		if (inet_ntop(AF_INET, &from.sin_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
		printf("reply %d: %zd bytes from %s port %u \"%s\"\n", k, r, host, ntohs(from.sin_port),
		       text_of(buf, (size_t)r));
	}
	if (close(fd) == -1)
		die("close");
	return 0;
}
