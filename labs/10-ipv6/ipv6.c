/* ipv6.c - lab 10: IPv6 and the dual stack: sockaddr_in6, IPv4-mapped addresses, IPV6_V6ONLY.
 *
 * Goal:  write an IPv6 server from a struct sockaddr_in6 filled by hand, and see that one socket on
 *        the IPv6 wildcard [::] also takes IPv4 clients, which it sees as ::ffff:a.b.c.d (an
 *        IPv4-mapped IPv6 address); turn that off with IPV6_V6ONLY so that an IPv4 server can share
 *        the port. Convert addresses between text and bytes with inet_pton() and inet_ntop(), for
 *        both families, and see the canonical text inet_ntop() writes.
 * Usage: ipv6 convert TEXT
 *          TEXT     an IPv4 (dotted quad) or IPv6 address in text form
 *        Prints "family AF_INET, 4 bytes" (or AF_INET6, 16 bytes), "bytes XX XX ..." (the address
 *        in network byte order, as inet_pton() stored it) and "text CANONICAL" (inet_ntop()'s text
 *        for those bytes). Text that is neither kind of address is a usage error.
 *        ipv6 serve [-6] [-a ADDR] [-n N] PORT
 *          PORT     0..65535; 0 lets the kernel choose a free (ephemeral) port
 *          -6       IPv6 only: set IPV6_V6ONLY to 1 (without -6 it is set to 0, explicitly)
 *          -a ADDR  bind this IPv6 address (e.g. ::1, ::ffff:127.0.0.1) instead of the wildcard ::
 *          -n N     stop after N clients (N >= 1), exit 0; default: serve until SIGTERM
 *        Prints "listening on ADDR port N (IPV6_V6ONLY V)", then one line per client:
 *          "client K: peer ADDR port P, local ADDR port Q, an IPv4 client (A.B.C.D)"
 *          "client K: peer ADDR port P, local ADDR port Q, an IPv6 client"
 *        and closes the connection at once. SIGTERM ends it with status 0.
 *        e.g. ipv6 convert 2001:DB8:0:0::1;  ipv6 serve 0;  ipv6 serve -6 -n 1 8080
 * Calls: socket(2), setsockopt(2), getsockopt(2), bind(2), listen(2), accept(2), getsockname(2),
 *        inet_pton(3), inet_ntop(3), htons(3), ntohs(3), ipv6(7), tcp(7)
 * Done when: make check LAB=10 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: ipv6 convert TEXT | ipv6 serve [-6] [-a ADDR] [-n N] PORT\n"
	      "  convert: TEXT is an IPv4 or IPv6 address, e.g. 127.0.0.1 or 2001:db8::1\n"
	      "  serve: PORT 0..65535 (0: the kernel chooses); -6 IPv6 only (IPV6_V6ONLY 1);\n"
	      "         -a bind the IPv6 address ADDR instead of ::; -n stop after N clients\n",
	      stderr);
	exit(2);
}

/* SIGTERM: leave at once with status 0. _exit() is async-signal-safe (exit() is not); the kernel
 * closes the sockets when the process ends. */
static void on_term(int sig)
{
	(void)sig;
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

static int convert(const char *text)
{
	/* Room for either kind of address: inet_pton() writes a struct in_addr (4 bytes) for
	 * AF_INET, a struct in6_addr (16 bytes) for AF_INET6. */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} bin;
	int family = 0;
	size_t size = 0;
	char canon[INET6_ADDRSTRLEN] = "";

	memset(&bin, 0, sizeof(bin));
	/* TODO(10.1): Turn text into the address's bytes in bin: try it as IPv4
	 * first (then family is AF_INET and size 4), as IPv6 next (AF_INET6, 16); if it is neither,
	 * it is a usage error. See inet_pton(3). */
	(void)text; family = AF_INET; size = 4; // placeholder: replace this line

	/* TODO(10.2): Turn the bytes in bin back into text, for that family, into
	 * canon: the C library writes the one canonical spelling of the address. A failure is fatal
	 * (die, naming the call). See inet_ntop(3), RFC 5952. */
	(void)family; // placeholder: replace this line

	printf("family %s, %zu bytes\nbytes", family == AF_INET ? "AF_INET" : "AF_INET6", size);
	const unsigned char *b = (const unsigned char *)&bin;
	for (size_t i = 0; i < size; i++)
		printf(" %02x", b[i]);
	printf("\ntext %s\n", canon);
	return 0;
}

static int serve(int argc, char **argv)
{
	const char *addr_text = NULL; /* -a ADDR; NULL: the wildcard :: */
	unsigned short port;
	long max_clients = 0; /* 0: no limit */
	int opt, v6only = 0;

	while ((opt = getopt(argc, argv, "+:6a:n:")) != -1) {
		switch (opt) {
		case '6': v6only = 1; break;
		case 'a': addr_text = optarg; break;
		case 'n':
			if ((max_clients = parse_count(optarg)) == -1)
				usage();
			break;
		default: usage();
		}
	}
	if (argc - optind != 1 || parse_port(argv[optind], &port) == -1)
		usage();

	struct sockaddr_in6 addr;
	/* TODO(10.3): Fill addr by hand: no stray byte, the IPv6 family, the port in
	 * network byte order, and the address: addr_text converted from text (not an IPv6 address:
	 * a usage error), or the IPv6 wildcard address when addr_text is NULL. The flow label and
	 * the scope id stay 0. See ipv6(7), inet_pton(3). */
	memset(&addr, 0, sizeof(addr)); (void)addr_text; // placeholder: replace this line

	setvbuf(stdout, NULL, _IOLBF, 0); /* every line must leave at once: the tests wait for them */
	struct sigaction sa = { .sa_handler = on_term };
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");

	/* An IPv6 stream socket: PF_INET6 here, and the address above must be an AF_INET6 one. */
	int lfd = socket(PF_INET6, SOCK_STREAM, 0);
	if (lfd == -1)
		die("socket");
	int one = 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("setsockopt");

	/* TODO(10.4): Decide, before the bind, whether this IPv6 socket also takes
	 * IPv4 clients (as IPv4-mapped addresses): set lfd's IPv6-level option for that to v6only,
	 * explicitly in both cases (1 with -6, 0 without), since the machine's default is a sysctl
	 * anyone may have changed. A failure is fatal (die, naming the call). See ipv6(7)
	 * (IPV6_V6ONLY), setsockopt(2). */
	(void)v6only; // placeholder: replace this line

	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("bind");
	if (listen(lfd, 8) == -1)
		die("listen");

	/* What the kernel says now: the address and port we hold, and the option as it is set. */
	socklen_t len = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		die("getsockname");
	int v6only_now;
	socklen_t optlen = sizeof(v6only_now);
	if (getsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only_now, &optlen) == -1)
		die("getsockopt");
	char ip[INET6_ADDRSTRLEN];
	if (inet_ntop(AF_INET6, &addr.sin6_addr, ip, sizeof(ip)) == NULL)
		die("inet_ntop");
	printf("listening on %s port %u (IPV6_V6ONLY %d)\n", ip, ntohs(addr.sin6_port), v6only_now);

	for (long k = 1; max_clients == 0 || k <= max_clients; k++) {
		struct sockaddr_in6 peer;
		socklen_t peerlen = sizeof(peer);
		int cfd;

		/* TODO(10.5): Take the next client off lfd's queue: keep the
		 * connected descriptor in cfd and have the kernel write the client's address into
		 * peer (peerlen says how big peer is). Do not stop on a failure here: the given
		 * code right after reports it. See accept(2). */
		cfd = -1; errno = ENOSYS; (void)peerlen; // placeholder: replace this line
		if (cfd == -1)
			die("accept");

		char peer_ip[INET6_ADDRSTRLEN] = "?";
		unsigned peer_port = 0;
		/* TODO(10.6): Turn the client's address in peer into text: the IPv6
		 * address in peer_ip (a failure is fatal: die, naming the call) and the port, in
		 * host byte order, in peer_port. See inet_ntop(3), byteorder(3). */
		(void)peer; // placeholder: replace this line

		char v4[INET_ADDRSTRLEN] = "";
		/* TODO(10.7): If the client's address is an IPv4-mapped one (an IPv4
		 * client on this IPv6 socket), write the IPv4 address it carries, its last 4 bytes,
		 * into v4 as a dotted quad (a failure is fatal: die, naming the call). Leave v4
		 * empty for a real IPv6 client. See ipv6(7), inet_ntop(3). */
		(void)v4; // placeholder: replace this line

		struct sockaddr_in6 local;
		socklen_t locallen = sizeof(local);
		if (getsockname(cfd, (struct sockaddr *)&local, &locallen) == -1)
			die("getsockname");
		char local_ip[INET6_ADDRSTRLEN];
		if (inet_ntop(AF_INET6, &local.sin6_addr, local_ip, sizeof(local_ip)) == NULL)
			die("inet_ntop");
		printf("client %ld: peer %s port %u, local %s port %u, ", k, peer_ip, peer_port, local_ip,
		       ntohs(local.sin6_port));
		if (v4[0] != '\0')
			printf("an IPv4 client (%s)\n", v4);
		else
			printf("an IPv6 client\n");
		if (close(cfd) == -1)
			report_errno("close", errno);
	}

	printf("served %ld clients, closing the listening socket\n", max_clients);
	if (close(lfd) == -1)
		die("close");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "convert") == 0)
		return convert(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve(argc - 1, argv + 1);
	usage();
}
