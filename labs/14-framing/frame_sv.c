/* frame_sv.c - lab 14, the server: messages on a byte stream, read through a buffered reader.
 *
 * Goal:  TCP delivers bytes, not messages: a message may arrive in pieces (one byte at a time, if the
 *        sender or the network wants), and several messages may arrive in one piece. This server
 *        finds the messages again, whatever the pieces, in one of two protocols:
 *          - length-prefixed (the default): each message is a 4-byte length, an unsigned 32-bit
 *            number in network byte order (big-endian), then that many bytes of payload (0 to
 *            MAX_MSG); the answer to each message is a message of the same form whose payload is
 *            the request's payload reversed;
 *          - lines (-l): each message is the bytes up to a newline (at most MAX_LINE of them, the
 *            newline not counted); the answer to each line is the line reversed, then a newline.
 *        It reads through a buffered reader: one read() takes whatever has arrived (up to RD_BUF
 *        bytes), and readn() / readline() hand it out message by message. A length over the
 *        maximum, or a line too long, is the client's protocol error: reported, that connection
 *        closed, nothing allocated or read for it. The end of the stream between two messages
 *        is the normal end; inside a message it is reported as such. Clients are served one after
 *        another until SIGTERM.
 * Usage: frame_sv [-l] ADDR PORT
 *          -l    the line protocol instead of length-prefixed messages
 *          ADDR  the numeric IPv4 address to listen on, e.g. 127.0.0.1
 *          PORT  0..65535; 0 lets the kernel choose a free (ephemeral) port
 *        Prints "listening on ADDR port N", then for client K "client K: peer ADDR port P" and one
 *        line on how it ended:
 *          "client K: N messages, then EOF"             (or "N lines, then EOF")
 *          "client K: EOF inside the length of message N, after B of 4 bytes"
 *          "client K: EOF inside message N, after B of L bytes"
 *          "client K: EOF inside line N, after B bytes and no newline"
 *          "client K: protocol error: message N announces L bytes, over the maximum of 65536"
 *          "client K: protocol error: line N is longer than 1024 bytes"
 *          "client K: dropped after N messages" (a failed read or send; the error on stderr as
 *          "frame_sv: CALL: ENAME (text)")
 *        SIGTERM ends it with status 0. e.g. frame_sv 127.0.0.1 0;  frame_sv -l 127.0.0.1 7014
 *        (then: nc 127.0.0.1 7014, and type lines)
 * Calls: socket(2), bind(2), listen(2), accept(2), recv(2) (or read(2)), send(2) with MSG_NOSIGNAL,
 *        close(2), byteorder(3) (ntohl, htonl)
 * Done when: make check LAB=14 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* The longest payload a length may announce, and the longest line (its newline not counted). The
 * protocol says so: a bound is what lets a server hold a message in a buffer of fixed size, and what
 * keeps one bad client from making it allocate gigabytes. */
#define MAX_MSG 65536
#define MAX_LINE 1024
/* The reader's buffer: one read() takes up to this much, however many messages that is. */
#define RD_BUF 4096

/* A buffered reader on a socket: buf[start..end) holds bytes read from fd and not handed out yet. */
struct reader {
	int fd;
	size_t start, end;
	char buf[RD_BUF];
};

/* The payload of one message (or one line and its newline), and the answer built from it. */
static char msg[MAX_MSG];
static char out[4 + MAX_MSG];

static _Noreturn void usage(void)
{
	fputs("usage: frame_sv [-l] ADDR PORT\n"
	      "  length-prefixed messages (4 bytes, network order, then the payload), or lines with -l;\n"
	      "  ADDR a numeric IPv4 address (127.0.0.1); PORT 0..65535, 0: the kernel chooses\n"
	      "  e.g. frame_sv 127.0.0.1 0\n",
	      stderr);
	exit(2);
}

/* SIGTERM: leave at once with status 0 (write and _exit are async-signal-safe, printf is not). */
static void on_term(int sig)
{
	static const char bye[] = "SIGTERM: exiting\n";

	(void)sig;
	if (write(STDOUT_FILENO, bye, sizeof(bye) - 1) == -1) {
		/* nothing to do: we are leaving anyway */
	}
	_exit(0);
}

/* Refill the reader's buffer, which the caller has emptied: ONE read of whatever has arrived, up to
 * RD_BUF bytes. Returns how many bytes came (the buffer then holds them, from its start), 0 at the
 * end of the stream, -1 on an error (errno says which). */
static ssize_t rd_fill(struct reader *r)
{
	/* TODO(14.1): Make buf hold new bytes from the socket: one call that takes
	 * whatever has arrived, up to the buffer's size (it blocks only while nothing has). Then
	 * buf[start..end) must be exactly the bytes that came, and the call's result is returned.
	 * See recv(2) or read(2). */
	(void)r; errno = ENOSYS; return -1; // placeholder: replace this line
}

/* Take exactly n bytes from the stream into dst. Returns n; or fewer (0 to n-1) if the stream ended
 * first (0: it ended before the first byte); -1 on an error (errno says which). */
static ssize_t readn(struct reader *r, void *dst, size_t n)
{
	/* TODO(14.2): Hand out n bytes: first those already in the buffer, then, each
	 * time it is empty, refill it (rd_fill) and go on, until n bytes are in dst. A piece of a
	 * message is not a message: one read may bring 1 byte of it, or it and three more messages,
	 * and neither is an error. Only the end of the stream (or an error) stops the loop early:
	 * then return how many bytes dst got (-1 for an error). See recv(2), memcpy(3). */
	(void)r; (void)dst; (void)n; (void)rd_fill; errno = ENOSYS; return -1; // placeholder: replace this line
}

/* Take one line from the stream into dst, its newline included, at most size bytes in all. Returns
 * how many bytes dst got: a whole line ends with '\n'; size bytes and no '\n' at the end means the
 * line is longer than that; fewer bytes without a '\n' at the end mean the stream ended first (0:
 * between two lines); -1 on an error. */
static ssize_t readline(struct reader *r, char *dst, size_t size)
{
	/* TODO(14.3): Like readn, but stop right after the first newline. Look for it
	 * in the bytes the buffer already holds and copy up to it (or all of them); refill only when
	 * the buffer is empty and no newline has come yet. Never read the socket one byte at a time:
	 * the buffer is there so that one read serves many lines. Stop at size bytes, newline or not.
	 * See memchr(3), memcpy(3). */
	(void)r; (void)dst; (void)size; errno = ENOSYS; return -1; // placeholder: replace this line
}

/* Send all len bytes of p: a send may take fewer (a short write). MSG_NOSIGNAL: a client that has
 * gone makes it fail with EPIPE, not kill the server with SIGPIPE. Returns 0, or -1 (errno). */
static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Answer a message: its payload p[0..len) reversed, as a message of the same protocol: with a 4-byte
 * length in network byte order in front (framed), or a newline after it (a line). One send for the
 * whole answer: a length and its payload sent apart would be two small segments, and the second
 * waits for the first one's ACK (Nagle's algorithm) - see the handout. Returns 0, or -1 (errno). */
static int answer(int fd, const char *p, size_t len, int framed)
{
	size_t hdr = framed ? 4 : 0;

	if (framed) {
		uint32_t be = htonl((uint32_t)len); /* 258 -> the bytes 00 00 01 02 */
		memcpy(out, &be, 4);
	}
	for (size_t i = 0; i < len; i++)
		out[hdr + i] = p[len - 1 - i];
	if (!framed)
		out[len] = '\n';
	return send_all(fd, out, hdr + len + !framed);
}

/* Serve client k a stream of length-prefixed messages until it ends. */
static void serve_frames(struct reader *r, long k)
{
	long n = 1; /* the number of the message being read */

	/* TODO(14.4): Read the client's messages one by one and answer each (answer).
	 * A message: its length, 4 bytes in network byte order (convert it to the host's order),
	 * then that many bytes of payload into msg. Check the length against MAX_MSG BEFORE reading
	 * the payload: a bigger one is a protocol error (print it, return; nothing is read or
	 * allocated for it). The stream may end: before a length (the normal end: print "N
	 * messages, then EOF"), or inside a length or a payload (print where). A failed read or
	 * send: report_errno, naming the call, print "dropped" and return. The exact lines to print
	 * are in this file's header. See byteorder(3), and the handout's "EOF, clean or not". */
	(void)r; (void)readn; (void)msg; (void)answer; errno = ENOSYS; report_errno("recv", errno); // placeholder: replace this line
	printf("client %ld: dropped after %ld messages\n", k, n - 1);
}

/* Serve client k a stream of lines until it ends. */
static void serve_lines(struct reader *r, long k)
{
	long n = 1; /* the number of the line being read */

	/* TODO(14.5): Read the client's lines one by one (readline, into msg, at most
	 * MAX_LINE bytes and the newline) and answer each without its newline (answer). A line that
	 * has no newline after MAX_LINE bytes is a protocol error (print it, return). The stream may
	 * end between lines (print "N lines, then EOF") or inside one (print how many bytes came).
	 * A failed read or send: report_errno, naming the call, print "dropped" and return. The
	 * exact lines are in this file's header. See the handout's "A line protocol". */
	(void)r; (void)readline; errno = ENOSYS; report_errno("recv", errno); // placeholder: replace this line
	printf("client %ld: dropped after %ld lines\n", k, n - 1);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	unsigned short port;
	int lines = argc > 1 && strcmp(argv[1], "-l") == 0;

	if (argc != 3 + lines || inet_pton(AF_INET, argv[1 + lines], &addr.sin_addr) != 1 ||
	    parse_port(argv[2 + lines], &port) == -1)
		usage();
	addr.sin_port = htons(port);
	setvbuf(stdout, NULL, _IOLBF, 0); /* every line leaves at once: the tests wait for them */

	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	int one = 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("setsockopt");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	if (listen(lfd, 16) == -1)
		die("listen");
	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	printf("listening on %s port %u\n", argv[1 + lines], ntohs(addr.sin_port));

	/* One client at a time, each with a reader of its own: bytes a client sent after its last
	 * message must never be handed to the next client. */
	static struct reader rd;
	for (long k = 1;; k++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int cfd;

		while ((cfd = accept(lfd, (struct sockaddr *)&peer, &plen)) == -1) {
			if (errno != EINTR && errno != ECONNABORTED)
				die("accept");
			plen = sizeof(peer);
		}
		char host[INET_ADDRSTRLEN];
		if (inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
		printf("client %ld: peer %s port %u\n", k, host, ntohs(peer.sin_port));
		rd.fd = cfd;
		rd.start = rd.end = 0;
		if (lines)
			serve_lines(&rd, k);
		else
			serve_frames(&rd, k);
		/* Closing with bytes still unread (after a protocol error) makes the kernel reset the
		 * connection instead of ending it with a FIN: the client then reads ECONNRESET. */
		if (close(cfd) == -1)
			die("close");
	}
}
