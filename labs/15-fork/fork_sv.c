/* fork_sv.c - lab 15: a concurrent echo server, a process (or a thread) for every client.
 *
 * Goal:  serve many clients at once, so that a slow or silent client never makes another wait.
 *        The main flow of control only accepts; each connection gets a child process of its own
 *        (fork), or with -t a thread of its own (pthread_create). After fork() both processes hold
 *        both sockets: the child closes the listening one, the parent the connected one, so that
 *        each holds exactly what it uses. Every child that ends is collected at once by the
 *        SIGCHLD handler (a waitpid loop: no zombie is left), and the accept() that such a signal
 *        interrupts is simply made again (EINTR). Threads close their own connection and are
 *        detached: nothing of a client is left once it has gone.
 * Usage: fork_sv [-t] ADDR PORT
 *          -t    a thread per client instead of a process per client
 *          ADDR  the numeric IPv4 address to listen on, e.g. 127.0.0.1
 *          PORT  0..65535; 0 lets the kernel choose a free (ephemeral) port
 *        Prints "listening on ADDR port N (a process per client)" (or "(a thread per client)"),
 *        then "client K: peer ADDR port P" when client K is accepted and "client K: echoed N bytes,
 *        then EOF" when it has gone. SIGTERM ends it with status 0.
 *        e.g. fork_sv 127.0.0.1 0;  fork_sv -t 127.0.0.1 7015 (then: nc -N 127.0.0.1 7015 < file)
 * Calls: fork(2), _exit(2), waitpid(2), sigaction(2), signal(7) (SIGCHLD, EINTR, SA_RESTART),
 *        pthread_create(3), pthread_detach(3), accept(2), close(2), read(2), write(2)
 * Done when: make check LAB=15 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "socklab.h"

/* The most one read() takes and one write() gives back. */
#define BUF_SIZE 16384

static _Noreturn void usage(void)
{
	fputs("usage: fork_sv [-t] ADDR PORT\n"
	      "  -t: a thread per client (default: a process per client)\n"
	      "  ADDR a numeric IPv4 address (127.0.0.1); PORT 0..65535, 0: the kernel chooses\n"
	      "  e.g. fork_sv 127.0.0.1 0\n",
	      stderr);
	exit(2);
}

/* SIGTERM: leave at once with status 0 (_exit() is async-signal-safe, exit() is not). A child
 * inherits this handler; in -t mode _exit() ends every thread. */
static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

/* SIGCHLD: one or more children have ended. */
static void on_chld(int sig)
{
	/* waitpid() may change errno, and the signal may come just after a call of the main flow has
	 * failed and before it looks at errno: give the main flow its errno back. */
	int saved = errno;

	(void)sig;
	/* TODO(15.1): Collect every child that has ended - not only one: the kernel
	 * does not count signals, and one SIGCHLD may stand for many exits (those that came while
	 * the signal was pending or this handler ran). Never block here: the children that are
	 * still serving must not hold up the server. See waitpid(2) (WNOHANG), signal(7). */
	(void)0; // placeholder: replace this line
	errno = saved;
}

/* Write all len bytes of p to fd (a write may take fewer). 0, or -1 with errno set. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Echo everything client K sends on cfd back to it, until its EOF or an error (lab 12). */
static void serve(int cfd, long k)
{
	char buf[BUF_SIZE];
	unsigned long long total = 0;

	for (;;) {
		ssize_t n = read(cfd, buf, sizeof(buf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			report_errno("read", errno);
			printf("client %ld: dropped after %llu bytes\n", k, total);
			return;
		}
		if (n == 0)
			break;
		if (write_all(cfd, buf, (size_t)n) == -1) {
			report_errno("write", errno);
			printf("client %ld: dropped after %llu bytes\n", k, total);
			return;
		}
		total += (unsigned long long)n;
	}
	printf("client %ld: echoed %llu bytes, then EOF\n", k, total);
}

/* What a thread needs to serve its client: its own copy, since the main thread goes on at once. */
struct client {
	int cfd;
	long k;
};

/* The body of a client's thread (-t). */
static void *client_thread(void *arg)
{
	struct client *c = arg;

	/* TODO(15.6): Serve the client c, then close its connection and free c. A
	 * thread shares the process's descriptor table: nobody else will close this descriptor (the
	 * main thread must not: it is still in use), and a descriptor never closed stays taken for
	 * as long as the server runs. See pthreads(7), close(2). */
	(void)c; (void)serve; // placeholder: replace this line
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	unsigned short port;
	int threads = argc > 1 && strcmp(argv[1], "-t") == 0;

	argv += threads;
	argc -= threads;
	if (argc != 3 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 || parse_port(argv[2], &port) == -1)
		usage();
	addr.sin_port = htons(port);
	/* Every line leaves at once, and no line waits in a buffer that fork() would copy into the
	 * child (it would then be printed twice). */
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct sigaction sa = { .sa_handler = on_term };
	if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");
	/* A client that vanishes while its echo is on the way costs its connection, not the server. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal");

	/* TODO(15.2): Make on_chld the handler of SIGCHLD, so that the children that
	 * end are collected while the server waits for clients. Install it without SA_RESTART: the
	 * accept it interrupts then fails with EINTR, which the accept loop handles - a server must
	 * handle it anyway (SA_RESTART does not restart every call). A failure is fatal (die,
	 * naming the call). See sigaction(2), signal(7). */
	(void)on_chld; // placeholder: replace this line

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	if (listen(lfd, 64) == -1)
		die("listen");
	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	printf("listening on %s port %u (a %s per client)\n", argv[1], ntohs(addr.sin_port),
	       threads ? "thread" : "process");

	for (long k = 1;; k++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int cfd;

		/* TODO(15.3): Take the next client into cfd (its address into peer, plen
		 * reset before each try). A child that ends while the server waits here interrupts the
		 * wait (EINTR): wait again, as for a client that was gone before we took it
		 * (ECONNABORTED); any other failure is fatal (die, naming the call). See accept(2),
		 * signal(7). */
		cfd = -1; errno = ENOSYS; (void)plen; die("accept"); // placeholder: replace this line
		char host[INET_ADDRSTRLEN];
		if (inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
		printf("client %ld: peer %s port %u\n", k, host, ntohs(peer.sin_port));

		if (threads) {
			struct client *c = malloc(sizeof(*c));
			if (c == NULL)
				die("malloc");
			c->cfd = cfd;
			c->k = k;
			/* TODO(15.5): Start a thread that serves c (the function client_thread),
			 * and let it go: nobody will wait for it (join it), so it must be detached, or what the
			 * system keeps of every ended thread (its stack) is never given back. If the
			 * thread cannot be made (pthread_create returns an error number, it does not set
			 * errno), report it (report_errno), close the connection, free c and go on: one
			 * client lost, not the server. See pthread_create(3), pthread_detach(3). */
			(void)client_thread; free(c); if (close(cfd) == -1) report_errno("close", errno); // placeholder: replace this line
			continue;
		}

		/* TODO(15.4): A process for this client. In the child: close the
		 * listening socket (only the parent accepts), serve the client, close the connection
		 * and end the process. In the parent: close the connected socket (the child has it) and
		 * go back to accept. Each keeps only what it uses: a child that kept the listener would
		 * keep the port open after the server has gone; a parent that kept the connection would
		 * leak a descriptor per client and never let the connection end. If fork fails, report
		 * it (report_errno), close the connection and go on. See fork(2), close(2), _exit(2). */
		if (close(cfd) == -1) report_errno("close", errno); // placeholder: replace this line
	}
}
