/* connect.c - lab 06: the client side of a TCP connection.
 *
 * Goal:  connect to a server WITHOUT calling bind first, and see what the kernel chose for us: the
 *        source address and an ephemeral port (getsockname), next to the server's address
 *        (getpeername); then use the connection both ways: send one line, print the reply until
 *        the server closes (EOF). With -2, call connect a second time on the connected socket and
 *        see the kernel refuse it (EISCONN).
 * Usage: connect [-2] HOST PORT [LINE]
 *        HOST is a numeric IPv4 address (127.0.0.1) or IPv6 address (::1); LINE defaults to "hello".
 *        Prints "local ADDR port N", "peer ADDR port N", then the server's reply as it comes.
 *        e.g. connect 127.0.0.1 41234 "hi there"
 * Calls: socket(2), connect(2), getsockname(2), getpeername(2), write(2), read(2), close(2),
 *        inet_pton(3), inet_ntop(3), htons(3), ip(7), tcp(7)
 * Done when: make check LAB=06 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

#define DEFAULT_LINE "hello"
#define MAX_LINE 1000

static _Noreturn void usage(void)
{
	fputs("usage: connect [-2] HOST PORT [LINE]\n"
	      "  HOST: numeric IPv4 or IPv6 address; PORT: 0..65535; LINE: what to send (default \"" DEFAULT_LINE
	      "\")\n"
	      "  -2: call connect() a second time on the connected socket\n"
	      "  e.g. connect 127.0.0.1 41234 \"hi there\"\n",
	      stderr);
	exit(2);
}

/* Print "WHAT ADDR port N" for an IPv4 or IPv6 socket address (given: not part of the lab). */
static void print_addr(const char *what, const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
		port = ntohs(in6->sin6_port);
	}
	printf("%s %s port %u\n", what, host, port);
}

/* Fill *ss with the server's HOST and PORT. Returns the length of the address that was filled in
 * (what connect() must be told), or 0 if HOST is not a numeric IPv4 or IPv6 address. */
static socklen_t fill_server(struct sockaddr_storage *ss, const char *host, unsigned short port)
{
	memset(ss, 0, sizeof(*ss));
	/* BEGIN SOLUTION TODO(06.1): Turn HOST and the port into a server address inside *ss: try
	 * HOST as IPv4 first, as IPv6 next, and return the size of the structure filled (0 if HOST
	 * is neither). The port goes in network byte order. One sockaddr_storage holds either
	 * family. See ip(7), ipv6(7), inet_pton(3). */
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	/* sockaddr_storage is large and aligned enough for either family; the family field, at the
	 * same offset in both, tells the kernel which one it is reading. */
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port); /* network byte order, as on the wire */
		return sizeof(*in);
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return sizeof(*in6);
	}
	return 0;
	/* STUB: (void)host; (void)port; return 0; // placeholder: replace this line */
	/* END SOLUTION */
}

/* Write all n bytes of buf to fd: a stream socket may accept fewer bytes than asked. */
static void write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		buf += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	int again = 0, opt;
	unsigned short port;
	struct sockaddr_storage server, local, peer;
	socklen_t len;
	int fd = -1;

	opterr = 0; /* our own usage message is enough */
	while ((opt = getopt(argc, argv, "+2")) != -1) {
		if (opt == '2')
			again = 1;
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3 || parse_port(argv[1], &port) == -1)
		usage();
	socklen_t server_len = fill_server(&server, argv[0], port);
	if (server_len == 0)
		usage();
	const char *line = argc == 3 ? argv[2] : DEFAULT_LINE;
	if (strlen(line) > MAX_LINE || strchr(line, '\n'))
		usage();
	/* Line-buffered: each line reaches a pipe or file at once, even while we wait for the reply. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* BEGIN SOLUTION TODO(06.2): Make a TCP socket of the server address's own family and
	 * connect it to the server (server, server_len). Do not name the socket first: the kernel
	 * picks our address and port at connect time. A failure is fatal (die, naming the call).
	 * See socket(2), connect(2). */
	fd = socket(server.ss_family, SOCK_STREAM, 0);
	if (fd == -1)
		die("socket");
	/* connect() on an unbound socket makes the kernel choose the source address (from the route to
	 * the server) and a free ephemeral port from ip_local_port_range. It sends the SYN and returns
	 * only when the three-way handshake is done (0) or has failed (-1: ECONNREFUSED, ETIMEDOUT...). */
	if (connect(fd, (struct sockaddr *)&server, server_len) == -1)
		die("connect");
	/* STUB: (void)server_len; // placeholder: replace this line */
	/* END SOLUTION */

	/* BEGIN SOLUTION TODO(06.3): Learn which local address and port the kernel gave the socket
	 * when it connected, into local (len says how big local is). A failure is fatal (die,
	 * naming the call). See getsockname(2). */
	len = sizeof(local);
	/* len is in/out: in, the room we have; out, the size of the address the kernel wrote. */
	if (getsockname(fd, (struct sockaddr *)&local, &len) == -1)
		die("getsockname");
	/* STUB: memset(&local, 0, sizeof(local)); (void)len; // placeholder: replace this line */
	/* END SOLUTION */
	print_addr("local", &local);

	/* BEGIN SOLUTION TODO(06.4): Learn from the kernel who is at the other end of the
	 * connection, into peer. A failure is fatal (die, naming the call). See getpeername(2). */
	len = sizeof(peer);
	/* Only a connected socket has a peer (otherwise ENOTCONN): this is the server's address and
	 * port as the kernel knows them, the other half of the connection's four-tuple. */
	if (getpeername(fd, (struct sockaddr *)&peer, &len) == -1)
		die("getpeername");
	/* STUB: memset(&peer, 0, sizeof(peer)); // placeholder: replace this line */
	/* END SOLUTION */
	print_addr("peer", &peer);

	if (again) {
		/* BEGIN SOLUTION TODO(06.5): With -2, try to connect the same, already connected
		 * socket to the same server again; the kernel refuses (which errno?), and that
		 * refusal is the point: die, naming the call. See connect(2). */
		/* A TCP socket is connected once, for life: a second connect() is refused with EISCONN.
		 * To talk to another server, or again to the same one, a client opens a new socket. */
		if (connect(fd, (struct sockaddr *)&server, server_len) == -1)
			die("connect");
		/* END SOLUTION */
		fprintf(stderr, "%s: the second connect() did not fail\n", program_invocation_short_name);
		return 1;
	}

	/* BEGIN SOLUTION TODO(06.6): Send line, followed by a newline, to the server (the given
	 * write_all sends every byte), then copy the server's reply to stdout until the server
	 * closes its side (the end of the stream). A read error is fatal (die, naming the call).
	 * See read(2), write(2). */
	/* The connection is a full-duplex byte stream: write() only copies the bytes into the kernel's
	 * send buffer; TCP carries them; the server read()s them out of its kernel and answers the
	 * same way. The newline marks the end of our message for a line-oriented server. */
	char msg[MAX_LINE + 2];
	int n = snprintf(msg, sizeof(msg), "%s\n", line);
	write_all(fd, msg, (size_t)n);
	char buf[4096];
	ssize_t r;
	/* A byte stream has no message boundaries: the reply may come in any number of pieces, so read
	 * until EOF rather than once. */
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, stdout);
	if (r == -1)
		die("read");
	/* STUB: (void)line; (void)write_all; // placeholder: replace this line */
	/* END SOLUTION */

	if (close(fd) == -1)
		die("close");
	return 0;
}
