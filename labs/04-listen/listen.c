/* listen.c - lab 04: turn a socket into a passive (listening) socket and watch its accept queue.
 *
 * Goal:  bind an address, call listen(fd, BACKLOG) and see the socket in the LISTEN state; learn
 *        that clients complete the three-way handshake without any accept(), that they wait in the
 *        accept queue, and that on Linux listen(B) lets B + 1 of them wait there (capped by
 *        /proc/sys/net/core/somaxconn); see listen() autobind an unbound socket and refuse a UDP one.
 * Usage: listen [-n] [-u] [-a ADDR] BACKLOG [PORT]
 *        listen [-n] [-u] -A BACKLOG
 *          BACKLOG  the second argument of listen(): 0 .. 2147483647
 *          PORT     the port to bind (default 0: the kernel picks a free one)
 *          -a ADDR  the IPv4 address to bind (default 0.0.0.0, the wildcard: every local address)
 *          -A       do not bind at all: listen() itself picks the address and an ephemeral port
 *          -n       never accept: connections stay in the accept queue (default: accept each
 *                   client, print "accepted ADDR port N", close it)
 *          -u       use a UDP socket instead (listen() fails: EOPNOTSUPP)
 *        First line: "listening on ADDR port N backlog B"; runs until SIGTERM, then exits 0.
 * Calls: socket(2), bind(2), listen(2), getsockname(2), accept(2), ppoll(2), inet_pton(3),
 *        inet_ntop(3), tcp(7), ip(7)
 * Done when: make check LAB=04 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: listen [-n] [-u] [-a ADDR] BACKLOG [PORT]\n"
	      "       listen [-n] [-u] -A BACKLOG\n"
	      "  -n never accept, -u UDP socket, -a ADDR bind address (default 0.0.0.0),\n"
	      "  -A no bind (listen() autobinds); e.g. listen -n 3;  listen -a 127.0.0.1 5 8080\n",
	      stderr);
	exit(2);
}

/* A backlog: decimal digits only, 0 .. INT_MAX (listen() takes an int). */
static int parse_backlog(const char *s, int *backlog)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > INT_MAX)
		return -1;
	*backlog = (int)v;
	return 0;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Block until fd is readable (for a listening socket: a connection waits in the accept queue) or
 * SIGTERM arrives; fd -1 waits for SIGTERM only. Returns 1 if readable, 0 after SIGTERM.
 * SIGTERM stays blocked except inside ppoll(), so it cannot slip in between testing `stop` and
 * going to sleep (a plain accept() loop would miss it there and hang). */
static int wait_for_client(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	sigset_t none;

	sigemptyset(&none);
	while (!stop) {
		int n = ppoll(&p, 1, NULL, &none);
		if (n == -1 && errno != EINTR)
			die("ppoll");
		if (n > 0)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int noaccept = 0, udp = 0, autobind = 0, backlog, opt;
	const char *addr_s = "0.0.0.0";
	unsigned short port = 0;
	struct sockaddr_in addr;

	while ((opt = getopt(argc, argv, "+nuAa:")) != -1) {
		switch (opt) {
		case 'n': noaccept = 1; break;
		case 'u': udp = 1; break;
		case 'A': autobind = 1; break;
		case 'a': addr_s = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2 || parse_backlog(argv[0], &backlog) == -1)
		usage();
	if (argc == 2 && parse_port(argv[1], &port) == -1)
		usage();
	/* -A means "no bind": an address or a port to bind would contradict it. */
	if (autobind && (argc == 2 || strcmp(addr_s, "0.0.0.0") != 0))
		usage();
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	if (inet_pton(AF_INET, addr_s, &addr.sin_addr) != 1)
		usage();

	setvbuf(stdout, NULL, _IOLBF, 0); /* each line reaches the test at once */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &term, NULL) == -1) /* delivered only inside ppoll(), see wait_for_client */
		die("sigprocmask");
	struct sigaction sa = { .sa_handler = on_term };
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");

	/* TODO(04.1): Get the socket this server needs: an IPv4 stream (TCP) socket,
	 * or with -u (udp set) an IPv4 datagram (UDP) socket, to see what listen says to a socket
	 * that has no connections. A failure is fatal (die, naming the call). See socket(2),
	 * ip(7). */
	int fd = -1; (void)udp; // placeholder: replace this line

	if (!autobind) {
		/* TODO(04.2): Give fd its local name, addr (ADDR and PORT, already
		 * filled in). With -A this step is skipped on purpose, to see what listen does with
		 * a socket that has no name. A failure is fatal (die, naming the call). See
		 * bind(2). */
		(void)addr; // placeholder: replace this line
	}

	/* TODO(04.3): Turn fd into a passive socket: one that takes connections
	 * instead of making them, with a queue for the connections the kernel completes before
	 * anyone accepts them (backlog long, from the command line). A failure is fatal (die,
	 * naming the call). See listen(2), tcp(7). */
	(void)backlog; // placeholder: replace this line

	/* TODO(04.4): Learn from the kernel which address and port fd really has
	 * (with port 0 or -A only the kernel knows), into addr. A failure is fatal (die, naming the
	 * call). See getsockname(2). */
	(void)fd; // placeholder: replace this line

	char host[INET_ADDRSTRLEN];
	if (inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host)) == NULL)
		die("inet_ntop");
	printf("listening on %s port %u backlog %d\n", host, ntohs(addr.sin_port), backlog);

	if (noaccept) {
		/* -n: leave every connection in the accept queue, to watch it fill. */
		wait_for_client(-1);
	} else {
		/* TODO(04.5): Serve clients one by one until SIGTERM: as long as
		 * wait_for_client says a client is waiting (it returns 1), take the next completed
		 * connection off the queue, print "accepted ADDR port N" with the client's address
		 * and port, and close the connection. A failure to take a connection is fatal (die,
		 * naming the call). Until you write it, the starter only waits for SIGTERM, as -n
		 * does. See accept(2). */
		wait_for_client(-1); // placeholder: replace this line
	}
	close(fd);
	return 0;
}
