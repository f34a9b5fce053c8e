/* close_cl.c - lab 08, the client: the ways a connection ends, seen from the side that connects.
 *
 * Goal:  end a TCP connection in each of the ways the kernel offers, and see what each one does:
 *        a half-close with shutdown(SHUT_WR) that still lets the reply come back; writing after the
 *        peer has closed (EPIPE with MSG_NOSIGNAL, death by SIGPIPE without it); an abortive close
 *        with SO_LINGER {1, 0} that sends RST and leaves no TIME_WAIT.
 * Usage: close_cl half HOST PORT MSG   send MSG and a newline, shutdown(SHUT_WR), print the reply up
 *                                      to EOF (with close_sv upper: "got N bytes" + MSG in upper case)
 *        close_cl epipe HOST PORT      wait for the peer's FIN, then send() with MSG_NOSIGNAL until it
 *                                      fails: "close_cl: send: EPIPE (Broken pipe)", exit 1
 *        close_cl sigpipe HOST PORT    the same without MSG_NOSIGNAL: killed by SIGPIPE (status 141)
 *        close_cl reset HOST PORT      connect, then close with SO_LINGER {1, 0}: RST instead of FIN
 *        close_cl notconn              shutdown() a socket that never connected: ENOTCONN
 *        HOST is a numeric IPv4 address. Every mode that connects prints first
 *        "connected from ADDR port P to ADDR port Q".
 * Calls: socket(2), connect(2), shutdown(2), read(2), send(2), setsockopt(2) with SO_LINGER (socket(7)),
 *        close(2), signal(7) for SIGPIPE, tcp(7)
 * Done when: make check LAB=08 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* How many bytes epipe/sigpipe try to send before giving up; the kernel needs only two. */
#define MAX_SENDS 10

static _Noreturn void usage(void)
{
	fputs("usage: close_cl half HOST PORT MSG | epipe HOST PORT | sigpipe HOST PORT | reset HOST PORT\n"
	      "       | notconn\n"
	      "  e.g. close_cl half 127.0.0.1 41234 hello;  close_cl reset 127.0.0.1 41234\n",
	      stderr);
	exit(2);
}

/* Write all len bytes: a stream socket may accept fewer than asked (a short write). */
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

/* socket + connect to HOST:PORT (already checked), and say which ends were joined. */
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

/* half: the request goes out, our direction is closed, the reply still comes back. */
static void half(int fd, const char *msg)
{
	write_all(fd, msg, strlen(msg));
	write_all(fd, "\n", 1);
	/* TODO(08.1): Half-close: tell the server there is nothing more to come (our
	 * FIN) while the connection stays open for its reply, which it sends only once it has read
	 * our end of data. Closing the descriptor would throw the reply away. A failure is fatal
	 * (die, naming the call). See shutdown(2). */
	printf("sent %zu bytes, then shutdown(SHUT_WR)\n", strlen(msg) + 1);

	/* The reply, up to the server's FIN: read() returns 0 only then, never just because the
	 * data stopped for a moment. */
	char buf[4096], last = '\n';
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		total += (size_t)n;
		last = buf[n - 1];
	}
	if (n == -1)
		die("read");
	printf("%sEOF after %zu bytes of reply\n", last == '\n' ? "" : "\n", total);
	/* Both FINs have been exchanged: close() only frees the descriptor. We sent the first FIN,
	 * so our side of the connection now waits in TIME_WAIT. */
	if (close(fd) == -1)
		die("close");
}

/* epipe/sigpipe: the peer has closed; what happens when we write anyway? */
static void write_after_close(int fd, int nosignal)
{
	/* TODO(08.2): Wait for the peer's FIN: read until the end of the stream and
	 * print "peer closed: read returned 0 (EOF)". Then send one byte at a time, up to MAX_SENDS
	 * times, printing "send K: OK" after each, to see what a closed peer does to a sender; a
	 * failure is fatal (die, naming the call). In mode epipe (nosignal set) the send must not
	 * raise SIGPIPE; in mode sigpipe it may. See send(2) (MSG_NOSIGNAL), signal(7)
	 * (SIGPIPE). */
	(void)fd; (void)nosignal; // placeholder: replace this line
}

/* reset: close abortively. */
static void reset(int fd)
{
	/* TODO(08.3): Make the close that follows abort the connection (an RST
	 * instead of a FIN): turn on lingering with a linger time of zero. A failure is fatal (die,
	 * naming the call). See socket(7) (SO_LINGER), setsockopt(2). */
	if (close(fd) == -1)
		die("close");
	printf("closed with SO_LINGER {1, 0}\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv;
	unsigned short port;

	/* Line-buffered even into a pipe or a file: a process killed by SIGPIPE never flushes stdio. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "notconn") == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd == -1)
			die("socket");
		/* There is no connection to half-close yet. */
		if (shutdown(fd, SHUT_WR) == -1)
			die("shutdown");
		return 0;
	}
	if (argc < 4)
		usage();
	const char *mode = argv[1];
	int want = strcmp(mode, "half") == 0 ? 5 : 4;
	if (argc != want || parse_port(argv[3], &port) == -1)
		usage();
	memset(&srv, 0, sizeof(srv));
	srv.sin_family = AF_INET;
	srv.sin_port = htons(port);
	if (inet_pton(AF_INET, argv[2], &srv.sin_addr) != 1)
		usage();

	if (strcmp(mode, "half") == 0) {
		half(connect_to(&srv), argv[4]);
	} else if (strcmp(mode, "epipe") == 0) {
		write_after_close(connect_to(&srv), 1);
		printf("no error after %d sends\n", MAX_SENDS);
	} else if (strcmp(mode, "sigpipe") == 0) {
		/* An ignored signal stays ignored across exec: restore the default action, so that
		 * what happens is what happens to a program started from a plain shell. */
		if (signal(SIGPIPE, SIG_DFL) == SIG_ERR)
			die("signal");
		write_after_close(connect_to(&srv), 0);
		printf("no error after %d sends\n", MAX_SENDS);
	} else if (strcmp(mode, "reset") == 0) {
		reset(connect_to(&srv));
	} else {
		usage();
	}
	return 0;
}
