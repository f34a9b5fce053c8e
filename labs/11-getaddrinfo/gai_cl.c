/* gai_cl.c - lab 11, the client: protocol-independent code with getaddrinfo().
 *
 * Goal:  a client that does not care whether the server speaks IPv4 or IPv6. getaddrinfo() turns
 *        HOST and PORT into a list of ready-made socket addresses (for "localhost" often ::1 AND
 *        127.0.0.1); the client tries them in the order given, one new socket per attempt, until
 *        one connects. So a client for "localhost" whose server listens on IPv4 only gets
 *        ECONNREFUSED from ::1 and falls back to 127.0.0.1. getaddrinfo's own failures are not
 *        errno values: they are EAI_* codes, explained by gai_strerror(), never by strerror().
 * Usage: gai_cl [-n] HOST PORT [MSG]
 *          HOST  a numeric address (127.0.0.1, ::1) or a name from /etc/hosts (localhost)
 *          PORT  0..65535
 *          MSG   a line to send; the reply is printed up to the server's EOF (default: none)
 *          -n    HOST must be numeric (AI_NUMERICHOST): a name fails with EAI_NONAME, looked up nowhere
 *        Prints one line per failed attempt, "trying ADDR port N: CALL: ENAME (text)", then
 *        "connected to ADDR port N from ADDR port M" (the server's address and our own).
 *        If every attempt fails: "gai_cl: CALL: ENAME (text)" for the last one, exit 1.
 *        If getaddrinfo fails: "gai_cl: getaddrinfo: EAI_NAME (gai_strerror text)", exit 1.
 *        e.g. gai_cl localhost 41234 hello;  gai_cl ::1 41234;  gai_cl -n 127.0.0.1 41234
 * Calls: getaddrinfo(3), freeaddrinfo(3), gai_strerror(3), getnameinfo(3), socket(2), connect(2),
 *        getsockname(2), write(2), read(2), close(2), ip(7), ipv6(7)
 * Done when: make check LAB=11 passes.
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

#define MAX_LINE 1000
/* "ADDR port N": room for the longest numeric IPv6 address with a scope, and a port. */
#define ADDR_STR (NI_MAXHOST + 16)

static _Noreturn void usage(void)
{
	fputs("usage: gai_cl [-n] HOST PORT [MSG]\n"
	      "  HOST: numeric address or a name from /etc/hosts (localhost); PORT: 0..65535;\n"
	      "  MSG: one line to send; -n: HOST must be numeric (AI_NUMERICHOST)\n"
	      "  e.g. gai_cl localhost 41234 hello\n",
	      stderr);
	exit(2);
}

/* The symbolic name of a getaddrinfo() error code (given: not part of the lab). There is no
 * strerrorname_np() for these: they are not errno values, and live in a numbering of their own. */
static const char *gai_name(int rc)
{
	switch (rc) {
	case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_BADFLAGS: return "EAI_BADFLAGS";
	case EAI_FAIL: return "EAI_FAIL";
	case EAI_FAMILY: return "EAI_FAMILY";
	case EAI_MEMORY: return "EAI_MEMORY";
	case EAI_NODATA: return "EAI_NODATA";
	case EAI_NONAME: return "EAI_NONAME";
	case EAI_OVERFLOW: return "EAI_OVERFLOW";
	case EAI_SERVICE: return "EAI_SERVICE";
	case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
	case EAI_SYSTEM: return "EAI_SYSTEM";
	default: return "EAI_?";
	}
}

/* getaddrinfo() (or getnameinfo()) failed with code rc: report it and exit 1. */
static _Noreturn void die_gai(const char *call, int rc)
{
	/* TODO(11.1): Report the resolver error rc on stderr as "PROG: CALL:
	 * EAI_NAME (text)" and exit 1: the name from the given gai_name, the text from the
	 * resolver's own message table, since errno's knows nothing of these codes. One exception:
	 * EAI_SYSTEM means "a system call failed, see errno", so for it report errno as die does.
	 * PROG is program_invocation_short_name. See getaddrinfo(3) (RETURN VALUE). */
	(void)gai_name; (void)rc; die(call); // placeholder: replace this line
}

/* Write "ADDR port N" for the socket address sa (len bytes, any family) into buf. */
static void addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	/* TODO(11.2): Turn sa into text, "HOST port PORT" in buf, with the one
	 * resolver call that does it for every family (no switch on the family): host and port as
	 * numbers, never names looked up, in buffers of the resolver's maximum sizes. A failure is
	 * reported with die_gai, naming the call. See getnameinfo(3). */
	(void)sa; (void)len; snprintf(buf, size, "? port 0"); // placeholder: replace this line
}

/* Write all n bytes of p to fd: a stream socket may take fewer than asked. */
static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	int opt, numeric = 0;
	unsigned short port;

	opterr = 0; /* our own usage message is enough */
	while ((opt = getopt(argc, argv, "+n")) != -1) {
		if (opt == 'n')
			numeric = 1;
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3 || parse_port(argv[1], &port) == -1)
		usage();
	const char *host = argv[0], *service = argv[1], *msg = argc == 3 ? argv[2] : NULL;
	if (msg && (strlen(msg) > MAX_LINE || strchr(msg, '\n')))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line leaves at once: the tests read them as they come */

	struct addrinfo hints, *res = NULL;
	/* TODO(11.3): Ask the resolver for the addresses of host and service, into
	 * res: any family, TCP, a port given as a number, and with -n (numeric) a host given as a
	 * number too. Do not ask for addresses of configured families only: on a machine whose only
	 * IPv6 address is ::1 that would hide ::1. A failure is reported with die_gai, naming the
	 * call. See getaddrinfo(3). */
	(void)hints; (void)host; (void)service; (void)numeric; (void)die_gai; // placeholder: replace this line

	int fd = -1, err = 0;
	const char *failed = "connect";
	char where[ADDR_STR];
	struct addrinfo *ai;
	/* TODO(11.4): Try the results in the resolver's order (ai from res along the
	 * list). For each: a socket of that result's own family, type and protocol, connected to
	 * that result's address. The first that connects ends the search (fd connected). On a
	 * failure remember the call ("socket" or "connect") in failed and errno in err, print
	 * "trying ADDR port N: CALL: ENAME (text)" (addr_str; the errno's name and text), close the
	 * socket and go on with the next result. After the loop ai is NULL if none connected. See
	 * getaddrinfo(3), socket(2), connect(2). */
	ai = NULL; (void)failed; (void)where; // placeholder: replace this line
	if (ai == NULL) {
		/* Every address failed: the last error stands for them all, reported like die(). */
		/* err is still 0 only if nothing was tried: getaddrinfo() never returns an empty list,
		 * so an exercise above is unfinished. Say so as every starter does: ENOSYS. */
		if (err == 0)
			err = ENOSYS;
		errno = err;
		die(failed);
	}

	/* Who we reached (the result that worked) and what the kernel chose for our end. */
	char local[ADDR_STR];
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	if (getsockname(fd, (struct sockaddr *)&me, &len) == -1)
		die("getsockname");
	addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof(where));
	addr_str((struct sockaddr *)&me, len, local, sizeof(local));
	printf("connected to %s from %s\n", where, local);
	/* The list was allocated by getaddrinfo(): give it back once no pointer into it is needed. */
	freeaddrinfo(res);

	if (msg) {
		/* One line out, then the reply up to the server's EOF (read() returns 0). */
		char buf[MAX_LINE + 2];
		int n = snprintf(buf, sizeof(buf), "%s\n", msg);
		write_all(fd, buf, (size_t)n);
		ssize_t r;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)r, stdout);
		if (r == -1)
			die("read");
	}
	if (close(fd) == -1)
		die("close");
	return 0;
}
