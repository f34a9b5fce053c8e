/* local_cl.c - lab 09, the client: connect to an AF_LOCAL stream server by its path or its
 * abstract name.
 *
 * Goal:  build the server's struct sockaddr_un with its exact length, as the server did, and
 *        connect. Meet connect's two failures on a local socket: ENOENT when nothing exists at
 *        the path, ECONNREFUSED when a socket file is there but no server listens on it (a
 *        stale file) or nobody holds the abstract name.
 * Usage: local_cl NAME [MSG]
 *          NAME   the server's path (at most 107 bytes) or @NAME (an abstract name, at most 107
 *                 bytes after the @)
 *          MSG    the line to send (default "hello"; at most 400 bytes, no newline)
 *        Prints "connected to NAME (addrlen N)", N being the length passed to connect(); sends
 *        MSG and a newline, half-closes (shutdown SHUT_WR) and prints the reply up to EOF.
 *        e.g. local_cl sv.sock hi;  local_cl @socklab
 * Calls: socket(2), connect(2), write(2), shutdown(2), read(2), close(2), unix(7)
 * Done when: make check LAB=09 passes.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(const char *why)
{
	if (why)
		fprintf(stderr, "local_cl: %s\n", why);
	fputs("usage: local_cl NAME [MSG]\n"
	      "  NAME: a path of 1..107 bytes (sun_path holds 108 with the NUL), or @NAME: an abstract\n"
	      "  name of 1..107 bytes; MSG: one line to send (default hello)\n",
	      stderr);
	exit(2);
}

/* Fill addr for NAME and return the length to pass to connect(); 0 if NAME does not fit in
 * sun_path (or is empty). The same rules as local_sv's make_addr(): client and server must agree
 * on every byte of the name. */
static socklen_t make_addr(const char *name, struct sockaddr_un *addr)
{
	size_t n = strlen(name);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_LOCAL;
	/* BEGIN SOLUTION TODO(09.6): Build the address exactly as local_sv.c does (exercises 09.1
	 * and 09.2): for "@NAME" an abstract name, for anything else a path; return the address
	 * length, or 0 if the name is empty or does not fit. See unix(7). */
	/* An abstract name's length is part of the name: a client that pads it to sizeof(*addr)
	 * asks for another name and gets ECONNREFUSED. */
	if (name[0] == '@') {
		if (n < 2 || n - 1 > sizeof(addr->sun_path) - 1)
			return 0;
		memcpy(addr->sun_path + 1, name + 1, n - 1);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	if (n == 0 || n >= sizeof(addr->sun_path))
		return 0;
	memcpy(addr->sun_path, name, n + 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	/* STUB: (void)n; return 0; // placeholder: replace this line */
	/* END SOLUTION */
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

int main(int argc, char **argv)
{
	struct sockaddr_un addr;

	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		usage(NULL);
	const char *name = argv[1];
	const char *msg = argc == 3 ? argv[2] : "hello";
	if (strlen(msg) > 400 || strchr(msg, '\n'))
		usage("MSG must be one line of at most 400 bytes");
	socklen_t len = make_addr(name, &addr);
	if (len == 0) {
		/* Refused before any socket call: the kernel could only see a cut-down name. */
		char why[160];
		size_t room = sizeof(addr.sun_path);
		snprintf(why, sizeof(why),
			 "make_addr() refused NAME (%zu bytes): a path needs 1..%zu bytes "
			 "(sun_path holds %zu with the NUL), @NAME 1..%zu after the @",
			 strlen(name), room - 1, room, room - 1);
		usage(why);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	int fd = socket(AF_LOCAL, SOCK_STREAM, 0);
	if (fd == -1)
		die("socket");
	/* BEGIN SOLUTION TODO(09.7): Connect fd to addr, with the length make_addr returned. A
	 * failure is fatal (die, naming the call). See connect(2), unix(7). */
	/* A path is looked up like any file: nothing there gives ENOENT (no permission on it,
	 * EACCES). A socket file with no listening socket behind it, like the one a killed server
	 * leaves, gives ECONNREFUSED, and so does an abstract name that nobody holds. No bind()
	 * first: the client stays unnamed, and the server's accept() sees no address. */
	if (connect(fd, (struct sockaddr *)&addr, len) == -1)
		die("connect");
	/* STUB: (void)len; // placeholder: replace this line */
	/* END SOLUTION */
	printf("connected to %s (addrlen %u)\n", name, (unsigned)len);

	write_all(fd, msg, strlen(msg));
	write_all(fd, "\n", 1);
	/* Our request is complete: end our direction, so that the server reads EOF after it. */
	if (shutdown(fd, SHUT_WR) == -1)
		die("shutdown");
	char buf[1024];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, stdout);
	if (r == -1)
		die("read");
	if (close(fd) == -1)
		die("close");
	return 0;
}
