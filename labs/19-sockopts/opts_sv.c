/* opts_sv.c - lab 19, the server: two socket options a listener sets before it listens.
 *
 * Goal:  SO_RCVBUF: a small receive buffer and a reader that does not read close the window the
 *        server announces, until the writer on the other side is blocked by a zero window.
 *        SO_REUSEPORT: two servers listen on the same port at once, and the kernel spreads the
 *        connections between them.
 * Usage: opts_sv slow [-r BYTES] ADDR PORT
 *                             accept one client ("peer ADDR port P"), print the accepted socket's
 *                             "receive buffer N bytes (SO_RCVBUF)", read nothing until SIGUSR1,
 *                             then read to EOF: "read N bytes, then EOF". -r: ask for a receive
 *                             buffer of BYTES (1..1048576) before listening
 *        opts_sv share ADDR PORT
 *                             listen with SO_REUSEPORT; accept clients one after the other until
 *                             SIGTERM: "accepted K: peer ADDR port P", closing each at once
 *        ADDR is a numeric IPv4 address, PORT 0 lets the kernel choose. The server prints
 *        "listening on ADDR port N" first. SIGTERM ends it at any time (exit 0).
 * Calls: socket(2), setsockopt(2) with SO_RCVBUF and SO_REUSEPORT (socket(7)), getsockopt(2),
 *        bind(2), listen(2), accept(2), read(2), close(2), sigsuspend(2)
 * Done when: make check LAB=19 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

#define CHUNK 65536

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static _Noreturn void usage(void)
{
	fputs("usage: opts_sv slow [-r BYTES] ADDR PORT | share ADDR PORT\n"
	      "  e.g. opts_sv slow -r 4096 127.0.0.1 0   (then: kill -USR1 PID to let it read)\n",
	      stderr);
	exit(2);
}

/* "ADDR port P" of a peer, for the server's lines. */
static void print_peer(const char *what, const struct sockaddr_in *peer)
{
	char host[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &peer->sin_addr, host, sizeof(host)) == NULL)
		die("inet_ntop");
	printf("%speer %s port %u\n", what, host, ntohs(peer->sin_port));
}

/* slow: a reader that reads nothing until told, behind a receive buffer of the size asked. */
static void serve_slow(int lfd, const sigset_t *waitmask)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
	if (cfd == -1)
		die("accept");
	print_peer("", &peer);

	/* What the kernel really gave: the accepted socket inherits the listener's buffer. */
	int rcvbuf;
	socklen_t len = sizeof(rcvbuf);
	if (getsockopt(cfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == -1)
		die("getsockopt");
	printf("receive buffer %d bytes (SO_RCVBUF)\n", rcvbuf);

	/* Nothing is read until SIGUSR1 (blocked since start-up, so one sent early is pending, not
	 * lost). Meanwhile what the client sends fills the receive buffer, and the window the kernel
	 * announces shrinks to zero. */
	sigsuspend(waitmask);

	static char buf[CHUNK];
	unsigned long total = 0;
	ssize_t n;
	while ((n = read(cfd, buf, sizeof(buf))) > 0)
		total += (unsigned long)n;
	if (n == -1)
		die("read");
	printf("read %lu bytes, then EOF\n", total);
	if (close(cfd) == -1)
		die("close");
}

/* share: one of several servers on the same port; the kernel picks which one gets a client. */
static void serve_share(int lfd)
{
	for (unsigned long k = 1;; k++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
		if (cfd == -1)
			die("accept");
		char what[32];
		snprintf(what, sizeof(what), "accepted %lu: ", k);
		print_peer(what, &peer);
		if (close(cfd) == -1)
			die("close");
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	unsigned short port;
	long rcvbuf = 0;
	int slow, i = 2;

	if (argc < 2)
		usage();
	slow = strcmp(argv[1], "slow") == 0;
	if (!slow && strcmp(argv[1], "share") != 0)
		usage();
	if (slow && argc > 3 && strcmp(argv[2], "-r") == 0) {
		char *end;
		if (argv[3][0] < '0' || argv[3][0] > '9')
			usage();
		errno = 0;
		rcvbuf = strtol(argv[3], &end, 10);
		if (errno != 0 || *end != '\0' || rcvbuf < 1 || rcvbuf > 1048576)
			usage();
		i = 4;
	}
	if (argc != i + 2)
		usage();
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	if (parse_port(argv[i + 1], &port) == -1 || inet_pton(AF_INET, argv[i], &addr.sin_addr) != 1)
		usage();
	addr.sin_port = htons(port);
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction");
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) == -1)
		die("sigprocmask");

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	if (slow && rcvbuf > 0) {
		/* TODO(19.5): Ask for a receive buffer of rcvbuf bytes on the listening
		 * socket, now, before it listens: the window a connection announces is fixed from this
		 * buffer during the handshake (and the accepted socket inherits it), so setting it on
		 * the accepted socket would be too late. A failure is fatal (die, naming the call).
		 * See socket(7) (SO_RCVBUF), tcp(7), setsockopt(2). */
		(void)rcvbuf; // placeholder: replace this line
	}
	if (!slow) {
		/* TODO(19.6): Let other sockets bind this same address and port while
		 * this one listens, each of them with its own accept queue: turn on the option for it
		 * before binding. Every socket that shares the port must turn it on (and belong to the
		 * same user). A failure is fatal (die, naming the call). See socket(7)
		 * (SO_REUSEPORT), setsockopt(2). */
	}
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	if (listen(lfd, 64) == -1)
		die("listen");
	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	printf("listening on %s port %u\n", argv[i], ntohs(addr.sin_port));

	if (slow)
		serve_slow(lfd, &waitmask);
	else
		serve_share(lfd);
	return 0;
}
