/* bind.c - lab 03: naming a socket with bind().
 *
 * Goal:  write the course notes' make_socket(port): create an IPv4 stream socket, bind it to the
 *        wildcard address INADDR_ANY and the given port, exit on failure. Then ask the kernel which
 *        name the socket really got (getsockname), and meet the errors bind can give: EADDRINUSE,
 *        EINVAL, EADDRNOTAVAIL, EACCES. The program keeps the socket until SIGTERM, so that you (and
 *        the tests) can look at the kernel's state with ss or another socket meanwhile.
 * Usage: bind [-a ADDR] [-r] [-l] [-2] [-H] PORT
 *          PORT     0..65535; 0 lets the kernel choose a free (ephemeral) port
 *          -a ADDR  bind this local IPv4 address instead of the wildcard 0.0.0.0
 *          -r       set SO_REUSEADDR before bind (lets bind reuse a port that has a TIME_WAIT)
 *          -l       also listen(), so that clients can connect
 *          -2       bind the same socket a second time (it fails: EINVAL)
 *          -H       the forgotten-htons bug: store the port in host byte order
 *        Prints "bound to ADDR port N" (or "listening on ADDR port N"), then waits for SIGTERM.
 *        e.g. bind 0;  bind -l 8080;  bind -a 127.0.0.1 8080;  bind -H 8080
 * Calls: socket(2), setsockopt(2), bind(2), getsockname(2), listen(2), htons(3), htonl(3),
 *        inet_pton(3), inet_ntop(3), ip(7), tcp(7), socket(7)
 * Done when: make check LAB=03 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

/* The command-line options; make_socket() reads them so that its signature stays the notes' one. */
static const struct in_addr *opt_addr; /* NULL: the wildcard address */
static int opt_reuse, opt_listen, opt_twice, opt_no_htons;

static _Noreturn void usage(void)
{
	fputs("usage: bind [-a ADDR] [-r] [-l] [-2] [-H] PORT\n"
	      "  PORT 0..65535 (0: the kernel chooses); -a bind ADDR instead of 0.0.0.0; -r SO_REUSEADDR;\n"
	      "  -l also listen; -2 bind twice; -H forget htons (store the port in host byte order)\n",
	      stderr);
	exit(2);
}

/* Create an IPv4 stream socket bound to the wildcard address (or opt_addr) and port; exit on failure. */
static int make_socket(unsigned short port)
{
	struct sockaddr_in addr;
	int fd = socket(PF_INET, SOCK_STREAM, 0);

	if (fd == -1)
		die("socket");
	/* -H, the forgotten-htons bug: the port's two bytes are swapped here, before you fill addr, so
	 * that your conversion to network byte order swaps them back and sin_port ends up holding the
	 * port in host byte order, as if the conversion had been forgotten. (Given code: wherever you
	 * put your lines below, -H keeps working.) */
	if (opt_no_htons)
		port = ntohs(port);
	/* BEGIN SOLUTION TODO(03.1): Fill addr with the name the socket should get: no stray byte
	 * anywhere, the IPv4 family, the address -a gave (opt_addr, already in network byte order)
	 * or, without -a, the wildcard address that means every address of this host, and the port;
	 * the address and the port in network byte order. See ip(7), byteorder(3). */
	/* Zero first: sin_zero must be zero, and the kernel reads the whole structure. */
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	/* INADDR_ANY (0.0.0.0) is the wildcard: the socket accepts connections arriving on any of the
	 * host's addresses. It is 0, so htonl changes nothing, but the habit matters for the others. */
	if (opt_addr)
		addr.sin_addr = *opt_addr;
	else
		addr.sin_addr.s_addr = htonl(INADDR_ANY);
	addr.sin_port = htons(port); /* network byte order: big-endian on every CPU */
	/* STUB: memset(&addr, 0, sizeof(addr)); (void)port; // placeholder: replace this line */
	/* END SOLUTION */
	/* BEGIN SOLUTION TODO(03.2): With -r (opt_reuse), allow this bind to reuse a port that
	 * TIME_WAIT sockets still hold. That is a socket option, and it counts only if it is set
	 * before the bind. A failure is fatal (die, naming the call). See socket(7),
	 * setsockopt(2). */
	/* It must come before bind: bind is where the kernel decides whether the port is free. */
	int one = 1;
	if (opt_reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("setsockopt");
	/* END SOLUTION */
	/* BEGIN SOLUTION TODO(03.3): Give fd its name, addr. The socket calls take every family's
	 * address through one generic pointer type, plus the real length of the structure behind
	 * it. A failure is what the tests look for: die, naming the call, so that the errno is
	 * shown. See bind(2), ip(7). */
	/* The length tells the kernel how many bytes to read; the socket's family chose the code that
	 * reads them, which checks the length, then the family field. */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	/* STUB: (void)addr; // placeholder: replace this line */
	/* END SOLUTION */
	return fd;
}

/* Print "WHAT ADDR port N": the name the kernel really gave fd, which may differ from the one asked
 * for (port 0, the forgotten htons). */
static void report(int fd, const char *what)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	char ip[INET_ADDRSTRLEN];

	/* BEGIN SOLUTION TODO(03.4): Report the name the kernel really gave fd, not the one asked
	 * for (port 0 and the forgotten conversion are the cases where they differ): ask the
	 * kernel, into addr; len says how big addr is, and comes back as the real length. A failure
	 * is fatal (die, naming the call). See getsockname(2). */
	/* len is in and out: our buffer's size going in, the size of the real address coming back. */
	if (getsockname(fd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	/* STUB: memset(&addr, 0, sizeof(addr)); (void)fd; (void)len; // placeholder: replace this line */
	/* END SOLUTION */
	if (inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip)) == NULL)
		die("inet_ntop");
	printf("%s %s port %u\n", what, ip, ntohs(addr.sin_port));
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static struct in_addr ip; /* static: opt_addr, a global, points to it */
	unsigned short port;
	int opt;

	while ((opt = getopt(argc, argv, "+:a:rl2H")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &ip) != 1)
				usage();
			opt_addr = &ip;
			break;
		case 'r': opt_reuse = 1; break;
		case 'l': opt_listen = 1; break;
		case '2': opt_twice = 1; break;
		case 'H': opt_no_htons = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 1 || parse_port(argv[optind], &port) == -1)
		usage();

	/* SIGTERM only sets a flag, and stays blocked until sigsuspend() below: the socket is then
	 * closed and the program exits 0, however early the signal comes. */
	struct sigaction sa = { .sa_handler = on_term };
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &term, &old) == -1)
		die("sigprocmask");
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");
	setvbuf(stdout, NULL, _IOLBF, 0); /* the first line must leave at once: the tests wait for it */

	int fd = make_socket(port);
	if (opt_listen && listen(fd, 16) == -1)
		die("listen");
	report(fd, opt_listen ? "listening on" : "bound to");
	if (opt_twice) {
		/* A socket is named once: a second bind fails with EINVAL, whatever the address, even
		 * 0.0.0.0 port 0. */
		struct sockaddr_in any = { .sin_family = AF_INET };
		if (bind(fd, (struct sockaddr *)&any, sizeof(any)) == -1)
			die("bind");
		puts("bound a second time (the first bind did not happen?)");
	}
	while (!stop)
		sigsuspend(&old);
	close(fd);
	return 0;
}
