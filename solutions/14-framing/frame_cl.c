/* frame_cl.c - lab 14, the client: send length-prefixed messages, read the answers.
 *
 * Goal:  the writing side of a length-prefixed protocol, and the simplest reading side. Each
 *        message goes out as a 4-byte length, an unsigned 32-bit number in network byte order
 *        (big-endian: the length 258 is the bytes 00 00 01 02 on every machine), then the payload,
 *        in one send. Each answer is read with an unbuffered readn: recv() until exactly the bytes
 *        asked for have come, however the kernel splits them. Nothing is read beyond the answer,
 *        so no buffer has to keep what belongs to the next one; the price is one call or more per
 *        piece. An answer that announces more than MAX_MSG bytes is a protocol error, and a server
 *        that closes before or inside an answer is reported as such.
 * Usage: frame_cl HOST PORT MSG...
 *          HOST  the server's numeric IPv4 address, e.g. 127.0.0.1
 *          PORT  1..65535
 *          MSG   each one a message (at most 65536 bytes), sent and answered in turn
 *        Prints "reply K: PAYLOAD" for each answer, then exits 0. Otherwise, on stderr, exit 1:
 *          "frame_cl: the server closed the connection before reply K"
 *          "frame_cl: EOF inside the length of reply K, after B of 4 bytes"
 *          "frame_cl: EOF inside reply K, after B of L bytes"
 *          "frame_cl: protocol error: reply K announces L bytes, over the maximum of 65536"
 *          "frame_cl: CALL: ENAME (text)" for a failed call
 *        e.g. frame_cl 127.0.0.1 7014 hello "two words" ''   (with frame_sv 127.0.0.1 7014)
 * Calls: socket(2), connect(2), send(2) with MSG_NOSIGNAL, recv(2) (or read(2)), close(2),
 *        byteorder(3) (htonl, ntohl)
 * Done when: make check LAB=14 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* The longest payload, in both directions (frame_sv's limit too). */
#define MAX_MSG 65536

/* One message on its way out (length and payload), and one answer's payload. */
static char frame[4 + MAX_MSG];
static char reply[MAX_MSG];

static _Noreturn void usage(void)
{
	fputs("usage: frame_cl HOST PORT MSG...\n"
	      "  HOST a numeric IPv4 address (127.0.0.1); PORT 1..65535; each MSG at most 65536 bytes\n"
	      "  sends each MSG as a length-prefixed message, prints each answer; e.g. frame_cl 127.0.0.1 7014 hi\n",
	      stderr);
	exit(2);
}

/* Send all len bytes of p: a send may take fewer. MSG_NOSIGNAL: a server that has gone gives EPIPE,
 * not a death by SIGPIPE. Returns 0, or -1 (errno). */
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

/* Send p[0..len) as one message: its length, then its bytes. Returns 0, or -1 (errno). */
static int send_frame(int fd, const char *p, size_t len)
{
	/* BEGIN SOLUTION TODO(14.6): Build the whole message in frame: first its length as 4 bytes
	 * in network byte order (whatever this machine's own order is), then the len bytes of p;
	 * then send all of it at once (send_all). Not the length and the payload in two sends: see
	 * the handout's "Nagle's algorithm and the length in its own segment". See byteorder(3),
	 * memcpy(3). */
	uint32_t be = htonl((uint32_t)len);
	/* The four bytes of a uint32_t in memory are in the host's order (little-endian here: 258
	 * is 02 01 00 00); htonl puts them in network order (00 00 01 02) on every machine. */
	memcpy(frame, &be, 4);
	memcpy(frame + 4, p, len);
	return send_all(fd, frame, 4 + len);
	/* STUB: (void)fd; (void)p; (void)len; (void)frame; (void)send_all; errno = ENOSYS; return -1; // placeholder: replace this line */
	/* END SOLUTION */
}

/* Read exactly n bytes from fd into dst, with no buffer of our own. Returns n; fewer (0 to n-1) if the
 * stream ended first; -1 on an error (errno). */
static ssize_t readn(int fd, void *dst, size_t n)
{
	/* BEGIN SOLUTION TODO(14.7): Read until dst holds n bytes: each read returns what has
	 * arrived, which may be less than what is missing (1 byte, if the server sends one at a
	 * time). Ask only for what is still missing, never more: the bytes after it are the next
	 * answer's. Stop early only at the end of the stream (return how many came) or on an error
	 * (-1). See recv(2). */
	char *p = dst;
	size_t got = 0;

	while (got < n) {
		/* This program has no signal handler: no call is interrupted (EINTR, lab 12). */
		ssize_t k = recv(fd, p + got, n - got, 0);
		if (k == -1)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
	/* STUB: (void)fd; (void)dst; (void)n; errno = ENOSYS; return -1; // placeholder: replace this line */
	/* END SOLUTION */
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv = { .sin_family = AF_INET };
	unsigned short port;

	if (argc < 4 || inet_pton(AF_INET, argv[1], &srv.sin_addr) != 1 || parse_port(argv[2], &port) == -1 ||
	    port == 0)
		usage();
	for (int i = 3; i < argc; i++)
		if (strlen(argv[i]) > MAX_MSG)
			usage();
	srv.sin_port = htons(port);

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&srv, sizeof(srv)) == -1)
		die("connect");

	for (int k = 1; k < argc - 2; k++) {
		const char *m = argv[k + 2];
		if (send_frame(fd, m, strlen(m)) == -1)
			die("send");

		/* BEGIN SOLUTION TODO(14.8): Read answer k: its 4-byte length (network byte order:
		 * convert it), then that many bytes into reply, and print "reply K: " with them and a
		 * newline (the payload is bytes, not a C string: it may hold a NUL). A length over
		 * MAX_MSG is a protocol error: say so and exit 1 before reading any of it. The server
		 * may close before the answer, or inside its length or its payload: each its own
		 * message, exit 1. A failed read: die, naming the call. The exact messages are in this
		 * file's header. See byteorder(3), fwrite(3). */
		unsigned char hdr[4];
		ssize_t got = readn(fd, hdr, sizeof(hdr));
		if (got == -1)
			die("recv");
		if (got == 0) {
			fprintf(stderr, "frame_cl: the server closed the connection before reply %d\n", k);
			exit(1);
		}
		if (got < 4) {
			fprintf(stderr, "frame_cl: EOF inside the length of reply %d, after %zd of 4 bytes\n", k, got);
			exit(1);
		}
		uint32_t len;
		memcpy(&len, hdr, sizeof(len));
		len = ntohl(len);
		if (len > MAX_MSG) {
			fprintf(stderr,
				"frame_cl: protocol error: reply %d announces %" PRIu32
				" bytes, over the maximum of %d\n",
				k, len, MAX_MSG);
			exit(1);
		}
		got = readn(fd, reply, len);
		if (got == -1)
			die("recv");
		if ((size_t)got < len) {
			fprintf(stderr, "frame_cl: EOF inside reply %d, after %zd of %" PRIu32 " bytes\n", k, got, len);
			exit(1);
		}
		printf("reply %d: ", k);
		if (fwrite(reply, 1, len, stdout) != len || putchar('\n') == EOF)
			die("fwrite");
		/* STUB: (void)readn; (void)reply; errno = ENOSYS; die("recv"); // placeholder: replace this line */
		/* END SOLUTION */
	}
	if (close(fd) == -1)
		die("close");
	if (fflush(stdout) == EOF)
		die("fflush");
	return 0;
}
