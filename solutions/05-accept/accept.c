/* accept.c - lab 05: the connected socket that accept() returns; an iterative server.
 *
 * Goal:  write the server's last step: block in accept() until a client's three-way handshake is
 *        done, get a NEW connected socket for that one client, find out who the client is (the
 *        peer's address and port) and which local address the connection uses, serve it, close
 *        it, and go back to accept() on the same listening socket for the next client. Then meet
 *        the ways accept() fails or surprises: EINVAL on a socket that is not listening, EAGAIN on
 *        a non-blocking one with nobody waiting, and a client that left before it was accepted.
 * Usage: accept [-a ADDR] [-n N] [-L] [-N] [-w] PORT
 *          PORT     0..65535; 0 lets the kernel choose a free (ephemeral) port
 *          -a ADDR  bind this local IPv4 address instead of the wildcard 0.0.0.0
 *          -n N     stop after N clients (N >= 1), exit 0; default: serve until SIGTERM
 *          -L       skip listen(): accept() on a socket that is not listening fails (EINVAL)
 *          -N       make the listening socket non-blocking (O_NONBLOCK): with nobody waiting,
 *                   accept() fails at once (EAGAIN) instead of waiting
 *          -w       wait for SIGUSR1 before the first accept() (clients can connect meanwhile)
 *        Prints "listening on ADDR port N (fd L)", then one line per client:
 *          "client K: listening fd L, connected fd C, peer ADDR port P, local ADDR port Q"
 *          "client K: read returned R"        (R bytes the client sent; 0 = end of file)
 *        and sends the client "hello ADDR port P, you are client K\n" before closing.
 *        SIGTERM closes the listening socket and exits 0.
 *        e.g. accept 0;  accept -a 127.0.0.1 -n 3 8080;  accept -N 0
 * Calls: socket(2), bind(2), listen(2), accept(2), getsockname(2), inet_ntop(3), ntohs(3),
 *        fcntl(2), read(2), send(2), close(2), sigwait(3), ip(7), tcp(7), socket(7)
 * Done when: make check LAB=05 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: accept [-a ADDR] [-n N] [-L] [-N] [-w] PORT\n"
	      "  PORT 0..65535 (0: the kernel chooses); -a bind ADDR instead of 0.0.0.0;\n"
	      "  -n stop after N clients; -L do not listen; -N non-blocking listener;\n"
	      "  -w wait for SIGUSR1 before the first accept\n",
	      stderr);
	exit(2);
}

/* The listening socket, for the SIGTERM handler. */
static volatile sig_atomic_t listen_fd = -1;

/* SIGTERM: close the listening socket and leave with status 0. A handler may only call
 * async-signal-safe functions: close(), write() and _exit() are, printf() and exit() are not.
 * Doing the work here (rather than setting a flag) means no signal can slip in between a check
 * of the flag and the next blocking accept() and leave the server asleep for ever. */
static void on_term(int sig)
{
	static const char msg[] = "SIGTERM: closing the listening socket\n";

	(void)sig;
	if (listen_fd != -1)
		close(listen_fd);
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) == -1) {
		/* nothing to do: we are leaving anyway */
	}
	_exit(0);
}

/* "N" for -n: a whole number from 1 up; -1 if s is anything else. */
static long parse_count(const char *s)
{
	char *end;
	long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	return (*end != '\0' || errno != 0 || n < 1) ? -1 : n;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	unsigned short port;
	long max_clients = 0; /* 0: no limit */
	int opt, no_listen = 0, nonblock = 0, wait_usr1 = 0;

	while ((opt = getopt(argc, argv, "+:a:n:LNw")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &addr.sin_addr) != 1)
				usage();
			break;
		case 'n':
			if ((max_clients = parse_count(optarg)) == -1)
				usage();
			break;
		case 'L': no_listen = 1; break;
		case 'N': nonblock = 1; break;
		case 'w': wait_usr1 = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 1 || parse_port(argv[optind], &port) == -1)
		usage();
	addr.sin_port = htons(port);

	setvbuf(stdout, NULL, _IOLBF, 0); /* every line must leave at once: the tests wait for them */
	/* SIGUSR1 is blocked before anyone can send it, so that sigwait() below collects it even if
	 * it arrives before we get there (a blocked signal stays pending). */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &usr1, NULL) == -1)
		die("sigprocmask");
	struct sigaction sa = { .sa_handler = on_term };
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");

	/* Lab 03's make_socket: an IPv4 stream socket bound to the address and port. SO_REUSEADDR
	 * lets a restarted server take its port back while old connections sit in TIME_WAIT. */
	int lfd = socket(PF_INET, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	int one = 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("setsockopt");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	listen_fd = lfd;

	/* BEGIN SOLUTION TODO(05.1): Unless -L (no_listen) asks to leave it out, make lfd a
	 * listening socket; a short queue (8) is plenty for a server that serves one client at a
	 * time. A failure is fatal (die, naming the call). See listen(2). */
	/* From here on the kernel completes handshakes by itself and queues the new connections;
	 * accept() only takes them out of that queue, one at a time. */
	if (!no_listen && listen(lfd, 8) == -1)
		die("listen");
	/* STUB: (void)no_listen; // placeholder: replace this line */
	/* END SOLUTION */

	/* BEGIN SOLUTION TODO(05.2): With -N (nonblock), make lfd non-blocking, so that taking a
	 * connection when none is waiting fails at once (EAGAIN) instead of waiting: the
	 * non-blocking flag is one of the descriptor's file status flags, and the others must stay
	 * as they are. A failure is fatal (die, naming the call). See fcntl(2), open(2)
	 * (O_NONBLOCK). */
	/* Add the flag to the ones already set rather than overwrite them. A non-blocking accept()
	 * never waits: with an empty queue it fails at once with EAGAIN (also spelled EWOULDBLOCK). */
	if (nonblock) {
		int flags = fcntl(lfd, F_GETFL);
		if (flags == -1 || fcntl(lfd, F_SETFL, flags | O_NONBLOCK) == -1)
			die("fcntl");
	}
	/* STUB: (void)nonblock; // placeholder: replace this line */
	/* END SOLUTION */

	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	char ip[INET_ADDRSTRLEN];
	if (inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip)) == NULL)
		die("inet_ntop");
	printf("%s %s port %u (fd %d)\n", no_listen ? "bound (not listening) to" : "listening on", ip,
	       ntohs(addr.sin_port), lfd);

	if (wait_usr1) {
		/* Clients may connect now: the kernel queues them. We take them only after SIGUSR1. */
		printf("waiting for SIGUSR1 (kill -USR1 %d) before the first accept\n", (int)getpid());
		int sig;
		if (sigwait(&usr1, &sig) != 0)
			die("sigwait");
	}

	/* The iterative server: one client at a time, all through the one listening socket, which
	 * stays open (and keeps queueing new clients) while each connected socket is served. */
	for (long k = 1; max_clients == 0 || k <= max_clients; k++) {
		struct sockaddr_in peer;
		socklen_t peerlen = sizeof(peer);
		int cfd;

		/* BEGIN SOLUTION TODO(05.3): Take the next client off lfd's queue: keep the new,
		 * connected descriptor in cfd and have the kernel write the client's address into
		 * peer (peerlen says how big peer is). Do not stop on a failure here: the given
		 * code right after reports it. See accept(2). */
		/* accept() sleeps until a connection is ready (unless lfd is non-blocking), then
		 * returns a NEW descriptor, connected to that one client; lfd is left as it was. The
		 * kernel writes the client's address into peer and its real length into peerlen. */
		cfd = accept(lfd, (struct sockaddr *)&peer, &peerlen);
		/* STUB: cfd = -1; errno = ENOSYS; (void)peerlen; // placeholder: replace this line */
		/* END SOLUTION */
		if (cfd == -1)
			die("accept");

		char peer_ip[INET_ADDRSTRLEN] = "?";
		unsigned peer_port = 0;
		/* BEGIN SOLUTION TODO(05.4): Turn the client's address in peer into text for the
		 * greeting: the IPv4 address as a dotted quad in peer_ip (a failure is fatal: die,
		 * naming the call) and the port, in host byte order, in peer_port. See
		 * inet_ntop(3), byteorder(3). */
		/* peer holds what the client's own getsockname() would say: its address and the
		 * ephemeral port the kernel gave it when it connected, both in network byte order. */
		if (inet_ntop(AF_INET, &peer.sin_addr, peer_ip, sizeof(peer_ip)) == NULL)
			die("inet_ntop");
		peer_port = ntohs(peer.sin_port);
		/* STUB: (void)peer; // placeholder: replace this line */
		/* END SOLUTION */

		struct sockaddr_in local;
		socklen_t locallen = sizeof(local);
		/* BEGIN SOLUTION TODO(05.5): Ask the kernel for the connected socket's own address
		 * and port, into local (locallen says how big it is): they show that the connection
		 * lives on a new descriptor with the listener's port. A failure is fatal (die,
		 * naming the call). See getsockname(2). */
		/* A connection is named by four numbers: both addresses and both ports. Its local
		 * port is the listening port (accepting does not take a new port); its local address
		 * is the one the client reached, even when lfd is bound to the wildcard 0.0.0.0. */
		if (getsockname(cfd, (struct sockaddr *)&local, &locallen) == -1)
			die("getsockname");
		/* STUB: memset(&local, 0, sizeof(local)); (void)locallen; // placeholder: replace this line */
		/* END SOLUTION */
		char local_ip[INET_ADDRSTRLEN];
		if (inet_ntop(AF_INET, &local.sin_addr, local_ip, sizeof(local_ip)) == NULL)
			die("inet_ntop");
		printf("client %ld: listening fd %d, connected fd %d, peer %s port %u, local %s port %u\n", k, lfd, cfd,
		       peer_ip, peer_port, local_ip, ntohs(local.sin_port));

		/* BEGIN SOLUTION TODO(05.6): Serve the client on cfd: read once what it sent and
		 * print "client K: read returned R"; send it the greeting "hello PEER_IP port
		 * PEER_PORT, you are client K\n" without letting a vanished client kill the server
		 * with SIGPIPE; then close cfd. A failure of the read or the send costs this client
		 * only: report it with report_errno, naming the call, and go on. See read(2),
		 * send(2) (MSG_NOSIGNAL), close(2). */
		/* One read: whatever the client sent, or 0 if it has already closed its end (end of
		 * file: even a client that left before we accepted it is accepted, and reads as EOF).
		 * A failure with one client must not end the server: report it and serve the next.
		 * MSG_NOSIGNAL: a send to a client that has gone gives EPIPE instead of SIGPIPE. */
		char buf[512];
		ssize_t r = read(cfd, buf, sizeof(buf));
		if (r == -1)
			report_errno("read", errno);
		else
			printf("client %ld: read returned %zd\n", k, r);
		int n = snprintf(buf, sizeof(buf), "hello %s port %u, you are client %ld\n", peer_ip, peer_port, k);
		if (send(cfd, buf, (size_t)n, MSG_NOSIGNAL) == -1)
			report_errno("send", errno);
		/* Closing the connected socket ends this one connection; lfd goes on listening. */
		if (close(cfd) == -1)
			report_errno("close", errno);
		/* STUB: (void)cfd; // placeholder: replace this line */
		/* END SOLUTION */
	}

	printf("served %ld clients, closing the listening socket\n", max_clients);
	listen_fd = -1;
	if (close(lfd) == -1)
		die("close");
	return 0;
}
