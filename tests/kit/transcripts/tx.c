/* tx - the kit's own experiments behind the handouts' transcripts (tests/kit/transcripts.bats).
 *
 * Each command does one experiment that no lab program does, and prints what the kernel answered,
 * errno by name. The scenarios in tests/kit/transcripts/NAME.sh run it inside a private network namespace
 * (unshare -rn); some commands need that namespace's root (raw sockets, addresses of a test-made link).
 *
 * Usage: tx bindcheck               bind() an AF_INET socket with odd families, lengths and sin_zero
 *        tx reuseaddr               two SO_REUSEADDR sockets bind one 127.0.0.1 port, then both listen()
 *        tx reuseport               two SO_REUSEPORT sockets bind one 127.0.0.1 port and both listen()
 *        tx ephemeral N LOW HIGH    N listeners on 127.0.0.1 (ports from the usual range), then the
 *                                   namespace's ip_local_port_range set to LOW HIGH, then connects round
 *                                   the listeners until one fails: the local ports connect() picked
 *        tx synq ADDR BACKLOG N     listen(BACKLOG) on ADDR, then N SYNs from N made-up sources in
 *                                   203.0.113.0/24 by a raw socket (their SYN-ACKs must go nowhere):
 *                                   what ss would count as SYN-RECV for the listener
 *        tx syncnt N ADDR PORT      connect() with TCP_SYNCNT N (0: the default, not set) to a silent
 *                                   ADDR: errno and seconds
 *        tx states                  hold an unbound, a bound and a listening TCP socket on 127.0.0.1 while
 *                                   `ss -Htan` runs: which of them ss lists
 *
 * Errors: "tx: CALL: ENAME (text)", exit 1; usage errors exit 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: tx bindcheck | reuseaddr | reuseport | ephemeral N LOW HIGH | synq ADDR BACKLOG N\n"
	      "       | syncnt N ADDR PORT | states\n",
	      stderr);
	exit(2);
}

/* "OK" or the errno's name, for a call that returned r. */
static const char *res(int r)
{
	if (r == 0)
		return "OK";
	const char *n = strerrorname_np(errno);
	return n ? n : "E?";
}

static int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		die("socket");
	return fd;
}

static void set_int(int fd, int level, int opt, int v, const char *what)
{
	if (setsockopt(fd, level, opt, &v, sizeof(v)) == -1)
		die(what);
}

static unsigned short local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) == -1)
		die("getsockname");
	return ntohs(a.sin_port);
}

static struct sockaddr_in loopback(unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* bind() of an AF_INET socket to 127.0.0.1 with the family, length and sin_zero given. */
static void bind_case(const char *what, sa_family_t family, socklen_t len, int garbage)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	*in = loopback(0);
	in->sin_family = family;
	if (garbage)
		memset(in->sin_zero, 0xa5, sizeof(in->sin_zero));
	int fd = tcp_socket();
	int r = bind(fd, (struct sockaddr *)&ss, len);
	printf("%-44s addrlen %3u: %s\n", what, (unsigned)len, res(r));
	close(fd);
}

static int cmd_bindcheck(void)
{
	bind_case("AF_INET, sin_zero zero", AF_INET, sizeof(struct sockaddr_in), 0);
	bind_case("AF_INET, sin_zero full of 0xa5", AF_INET, sizeof(struct sockaddr_in), 1);
	bind_case("AF_INET, longer than sockaddr_in", AF_INET, sizeof(struct sockaddr_storage), 0);
	bind_case("AF_INET, longer than sockaddr_storage", AF_INET, sizeof(struct sockaddr_storage) + 1, 0);
	bind_case("AF_INET, shorter than sockaddr_in", AF_INET, sizeof(struct sockaddr_in) - 1, 0);
	bind_case("AF_INET6 on an AF_INET socket", AF_INET6, sizeof(struct sockaddr_in), 0);
	bind_case("AF_INET6 on an AF_INET socket, short", AF_INET6, 8, 0);
	bind_case("htons(AF_INET) on an AF_INET socket", htons(AF_INET), sizeof(struct sockaddr_in), 0);
	return 0;
}

/* Two sockets with option OPT set before bind() take one port; then each listen()s. */
static int cmd_two(int opt, const char *name)
{
	int a = tcp_socket(), b = tcp_socket();
	set_int(a, SOL_SOCKET, opt, 1, "setsockopt");
	set_int(b, SOL_SOCKET, opt, 1, "setsockopt");
	struct sockaddr_in addr = loopback(0);
	int r = bind(a, (struct sockaddr *)&addr, sizeof(addr));
	printf("socket A: %s, bind 127.0.0.1 port 0: %s\n", name, res(r));
	addr = loopback(local_port(a));
	r = bind(b, (struct sockaddr *)&addr, sizeof(addr));
	printf("socket B: %s, bind A's port: %s\n", name, res(r));
	r = listen(a, 8);
	printf("socket A: listen: %s\n", res(r));
	r = listen(b, 8);
	printf("socket B: listen: %s\n", res(r));
	return 0;
}

static int cmd_ephemeral(int argc, char **argv)
{
	int n = argc == 3 ? atoi(argv[0]) : 0;
	if (n < 1 || n > 16)
		usage();
	unsigned short lport[16];
	for (int i = 0; i < n; i++) {
		int l = tcp_socket();
		struct sockaddr_in a = loopback(0);
		if (bind(l, (struct sockaddr *)&a, sizeof(a)) == -1)
			die("bind");
		if (listen(l, 64) == -1)
			die("listen");
		lport[i] = local_port(l);
	}
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");
	if (f == NULL || fprintf(f, "%s %s\n", argv[1], argv[2]) < 0 || fclose(f) == EOF)
		die("ip_local_port_range");
	printf("%d listeners on 127.0.0.1; ip_local_port_range %s %s\n", n, argv[1], argv[2]);
	/* Round the listeners, at most 64 connects, until one fails; then the ports connect() picked,
	 * in runs of the same parity (the order within a run is the kernel's hash: not shown). */
	unsigned short got[64];
	int k;
	for (k = 0; k < 64; k++) {
		int fd = tcp_socket();
		struct sockaddr_in a = loopback(lport[k % n]);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1)
			break;
		got[k] = local_port(fd);
	}
	for (int from = 0, to; from < k; from = to) {
		for (to = from; to < k && got[to] % 2 == got[from] % 2; to++)
			;
		printf("connects %d-%d got %s local ports:", from + 1, to, got[from] % 2 ? "odd" : "even");
		for (unsigned p = 0; p < 65536; p++) {
			int uses = 0;
			for (int i = from; i < to; i++)
				uses += got[i] == p;
			if (uses)
				printf(" %u (%d times)", p, uses);
		}
		printf("\n");
	}
	printf("connect %d: %s\n", k + 1, k < 64 ? res(-1) : "OK");
	return 0;
}

/* The Internet checksum of len bytes, plus sum (RFC 1071). */
static unsigned short csum(const void *p, size_t len, unsigned long sum)
{
	const unsigned char *b = p;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (unsigned long)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (unsigned long)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

static int cmd_synq(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	if (argc != 3 || inet_pton(AF_INET, argv[0], &dst.sin_addr) != 1)
		usage();
	int backlog = atoi(argv[1]), n = atoi(argv[2]);
	if (backlog < 0 || n < 1 || n > 250)
		usage();
	int l = tcp_socket();
	if (bind(l, (struct sockaddr *)&dst, sizeof(dst)) == -1)
		die("bind");
	if (listen(l, backlog) == -1)
		die("listen");
	unsigned short port = local_port(l);
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (raw == -1)
		die("socket");
	set_int(raw, IPPROTO_IP, IP_HDRINCL, 1, "setsockopt");
	for (int i = 0; i < n; i++) {
		unsigned char pkt[40];
		memset(pkt, 0, sizeof(pkt));
		struct in_addr src;
		src.s_addr = htonl(0xcb007100u + 1 + (unsigned)i); /* 203.0.113.(i+1) */
		/* IPv4 header: the kernel fills in the checksum, and the id when it is 0. */
		pkt[0] = 0x45;
		pkt[2] = 0, pkt[3] = 40;
		pkt[8] = 64;
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, &src, 4);
		memcpy(pkt + 16, &dst.sin_addr, 4);
		/* TCP header: source port 40000+i, destination the listener, SYN, window 64240. */
		unsigned char *t = pkt + 20;
		t[0] = (unsigned char)((40000 + i) >> 8), t[1] = (unsigned char)(40000 + i);
		t[2] = (unsigned char)(port >> 8), t[3] = (unsigned char)port;
		t[4] = 0x10, t[7] = (unsigned char)(i + 1); /* sequence number */
		t[12] = 5 << 4;
		t[13] = 0x02;
		t[14] = 0xfa, t[15] = 0xf0;
		unsigned char pseudo[12 + 20];
		memcpy(pseudo, pkt + 12, 8);
		pseudo[8] = 0, pseudo[9] = IPPROTO_TCP, pseudo[10] = 0, pseudo[11] = 20;
		memcpy(pseudo + 12, t, 20);
		unsigned short c = csum(pseudo, sizeof(pseudo), 0);
		t[16] = (unsigned char)(c >> 8), t[17] = (unsigned char)c;
		if (sendto(raw, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) == -1)
			die("sendto");
	}
	printf("listen(fd, %d) on %s port %u; %d SYNs from 203.0.113.1-%d sent\n", backlog, argv[0], port, n, n);
	return 0;
}

static int cmd_syncnt(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	unsigned short port;
	if (argc != 3 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 || parse_port(argv[2], &port) == -1)
		usage();
	int n = atoi(argv[0]);
	a.sin_port = htons(port);
	int fd = tcp_socket();
	if (n > 0)
		set_int(fd, IPPROTO_TCP, TCP_SYNCNT, n, "setsockopt");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (n > 0)
		printf("TCP_SYNCNT %d: connect: %s after %.0f s\n", n, res(r), s);
	else
		printf("connect: %s after %.0f s\n", res(r), s);
	return 0;
}

static int cmd_states(void)
{
	int u = tcp_socket(), b = tcp_socket(), l = tcp_socket();
	struct sockaddr_in a = loopback(0);
	if (bind(b, (struct sockaddr *)&a, sizeof(a)) == -1 || bind(l, (struct sockaddr *)&a, sizeof(a)) == -1)
		die("bind");
	if (listen(l, 8) == -1)
		die("listen");
	printf("unbound socket fd %d; bound socket fd %d (127.0.0.1 port %u); ", u, b, local_port(b));
	printf("listening socket fd %d (127.0.0.1 port %u)\n", l, local_port(l));
	printf("$ ss -Htan\n");
	fflush(stdout);
	int r = system("ss -Htan");
	return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (strcmp(cmd, "bindcheck") == 0 && argc == 0)
		return cmd_bindcheck();
	if (strcmp(cmd, "reuseaddr") == 0 && argc == 0)
		return cmd_two(SO_REUSEADDR, "SO_REUSEADDR");
	if (strcmp(cmd, "reuseport") == 0 && argc == 0)
		return cmd_two(SO_REUSEPORT, "SO_REUSEPORT");
	if (strcmp(cmd, "ephemeral") == 0)
		return cmd_ephemeral(argc, argv);
	if (strcmp(cmd, "synq") == 0)
		return cmd_synq(argc, argv);
	if (strcmp(cmd, "syncnt") == 0)
		return cmd_syncnt(argc, argv);
	if (strcmp(cmd, "states") == 0 && argc == 0)
		return cmd_states();
	usage();
}
