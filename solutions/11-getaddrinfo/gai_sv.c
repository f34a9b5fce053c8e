/* gai_sv.c - lab 11, the server: a listening socket from getaddrinfo(), in any family.
 *
 * Goal:  a server that binds whatever getaddrinfo() offers: with AI_PASSIVE and no HOST the
 *        wildcard addresses (0.0.0.0 and ::, in the order getaddrinfo likes), with a HOST that
 *        host's addresses (localhost: ::1 and/or 127.0.0.1). It takes the first result that it
 *        can socket+bind+listen, reports each one that failed, and says which family and address
 *        it got — then serves clients one by one, as in lab 05.
 * Usage: gai_sv [-n] [HOST] PORT
 *          HOST  a numeric address or a name from /etc/hosts; none: the wildcard (AI_PASSIVE)
 *          PORT  0..65535; 0 lets the kernel choose (the port printed is the real one)
 *          -n    HOST must be numeric (AI_NUMERICHOST): a name fails with EAI_NONAME
 *        Prints "trying ADDR port N: CALL: ENAME (text)" for each result that failed, then
 *        "listening on ADDR port N (AF_INET)" or "(AF_INET6)"; then for every client
 *        "peer ADDR port N", reads one line and answers "echo: LINE". Runs until SIGTERM.
 *        If no result works: "gai_sv: CALL: ENAME (text)" for the last one, exit 1.
 *        If getaddrinfo fails: "gai_sv: getaddrinfo: EAI_NAME (gai_strerror text)", exit 1.
 *        e.g. gai_sv 0;  gai_sv localhost 41234;  gai_sv ::1 0
 * Calls: getaddrinfo(3), freeaddrinfo(3), gai_strerror(3), getnameinfo(3), socket(2),
 *        setsockopt(2), bind(2), listen(2), getsockname(2), accept(2), read(2), send(2), close(2),
 *        ip(7), ipv6(7)
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
	fputs("usage: gai_sv [-n] [HOST] PORT\n"
	      "  HOST: numeric address or a name from /etc/hosts; none: the wildcard (AI_PASSIVE);\n"
	      "  PORT: 0..65535 (0: the kernel chooses); -n: HOST must be numeric (AI_NUMERICHOST)\n"
	      "  e.g. gai_sv 0;  gai_sv localhost 41234\n",
	      stderr);
	exit(2);
}

/* The symbolic name of a getaddrinfo() error code (given: not part of the lab). */
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
	/* BEGIN SOLUTION TODO(11.5): Report rc as gai_cl.c's die_gai does (exercise 11.1): "PROG:
	 * CALL: EAI_NAME (text)" on stderr and exit 1; for EAI_SYSTEM report errno as die does. See
	 * getaddrinfo(3). */
	if (rc == EAI_SYSTEM)
		die(call);
	fprintf(stderr, "%s: %s: %s (%s)\n", program_invocation_short_name, call, gai_name(rc), gai_strerror(rc));
	exit(1);
	/* STUB: (void)gai_name; (void)rc; die(call); // placeholder: replace this line */
	/* END SOLUTION */
}

/* Write "ADDR port N" for the socket address sa (len bytes, any family) into buf. */
static void addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	/* BEGIN SOLUTION TODO(11.6): Turn sa into "HOST port PORT" as gai_cl.c's addr_str does
	 * (exercise 11.2), numbers only. See getnameinfo(3). */
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	int rc = getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	if (rc != 0)
		die_gai("getnameinfo", rc);
	snprintf(buf, size, "%s port %s", host, serv);
	/* STUB: (void)sa; (void)len; snprintf(buf, size, "? port 0"); // placeholder: replace this line */
	/* END SOLUTION */
}

/* Serve one client on cfd: read one line (up to '\n' or EOF) and answer "echo: LINE". A client
 * that goes wrong costs its own connection, never the server: errors are reported, not fatal. */
static void serve(int cfd)
{
	char line[MAX_LINE + 1] = "", reply[MAX_LINE + 8];
	size_t got = 0;

	while (got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
		ssize_t r = read(cfd, line + got, sizeof(line) - 1 - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			report_errno("read", errno);
			return;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	int n = snprintf(reply, sizeof(reply), "echo: %s\n", line);
	/* MSG_NOSIGNAL: a client that has already gone must not kill the server with SIGPIPE. */
	if (send(cfd, reply, (size_t)n, MSG_NOSIGNAL) == -1)
		report_errno("send", errno);
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
	if (argc < 1 || argc > 2 || parse_port(argv[argc - 1], &port) == -1)
		usage();
	/* No HOST: NULL, which with AI_PASSIVE means "the wildcard address of each family". */
	const char *host = argc == 2 ? argv[0] : NULL, *service = argv[argc - 1];
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line leaves at once: the tests read them as they come */

	struct addrinfo hints, *res = NULL;
	/* BEGIN SOLUTION TODO(11.7): Ask the resolver for addresses to LISTEN on, into res: any
	 * family, TCP, a port given as a number, a host given as a number with -n (numeric), and
	 * the flag that makes a NULL host mean the wildcard addresses. A failure is reported with
	 * die_gai, naming the call. See getaddrinfo(3) (AI_PASSIVE). */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* AI_PASSIVE matters only when host is NULL: then the results are INADDR_ANY (0.0.0.0) and
	 * in6addr_any (::), addresses to bind() and accept on. Without it a NULL host means the
	 * loopback addresses, what a client would connect to. */
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0)
		die_gai("getaddrinfo", rc);
	/* STUB: (void)hints; (void)host; (void)service; (void)numeric; (void)die_gai; // placeholder: replace this line */
	/* END SOLUTION */

	int lfd = -1, err = 0;
	const char *failed = "bind";
	char where[ADDR_STR];
	struct addrinfo *ai;
	/* BEGIN SOLUTION TODO(11.8): Take the first result that works, in order: for each, a socket
	 * of its own family, type and protocol, allowed to reuse a port that TIME_WAIT sockets
	 * hold, named with its address, and listening with the largest queue the system allows; all
	 * done: stop there. If a call fails: remember its name in failed and errno in err, print
	 * "trying ADDR port N: CALL: ENAME (text)" as the client does, close the socket and go on.
	 * After the loop ai is NULL if no result worked. See getaddrinfo(3), bind(2), listen(2),
	 * socket(7). */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int one = 1;
		lfd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (lfd == -1)
			failed = "socket";
		else if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
			failed = "setsockopt";
		else if (bind(lfd, ai->ai_addr, ai->ai_addrlen) == -1)
			failed = "bind"; /* e.g. EADDRINUSE: that address and port are taken */
		else if (listen(lfd, SOMAXCONN) == -1)
			failed = "listen";
		else
			break; /* the first result that works wins: one listening socket */
		err = errno;
		addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof(where));
		const char *name = strerrorname_np(err);
		printf("trying %s: %s: %s (%s)\n", where, failed, name ? name : "E?", strerror(err));
		if (lfd != -1)
			close(lfd);
		lfd = -1;
	}
	/* STUB: ai = NULL; (void)failed; (void)where; // placeholder: replace this line */
	/* END SOLUTION */
	if (ai == NULL) {
		/* err is still 0 only if nothing was tried: getaddrinfo() never returns an empty list,
		 * so an exercise above is unfinished. Say so as every starter does: ENOSYS. */
		if (err == 0)
			err = ENOSYS;
		errno = err;
		die(failed);
	}

	/* Ask the kernel what we got: with PORT 0 only getsockname() knows the port. */
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	if (getsockname(lfd, (struct sockaddr *)&me, &len) == -1)
		die("getsockname");
	addr_str((struct sockaddr *)&me, len, where, sizeof(where));
	printf("listening on %s (%s)\n", where, me.ss_family == AF_INET6 ? "AF_INET6" : "AF_INET");
	freeaddrinfo(res);

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		/* On a :: listener an IPv4 client shows up as ::ffff:127.0.0.1 (a v4-mapped address). */
		addr_str((struct sockaddr *)&peer, plen, where, sizeof(where));
		printf("peer %s\n", where);
		serve(cfd);
		close(cfd);
	}
}
