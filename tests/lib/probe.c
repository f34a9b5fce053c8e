/* probe - an independent peer for the socklab tests.
 *
 * The tests never trust a lab program's own account of what it did: they ask the kernel through
 * this program, which is written and compiled by the kit, not by the student.
 *
 * Usage: probe layout                  sizes and offsets of the socket address structures
 *        probe families                AF_* and PF_* constants
 *        probe in ADDR PORT            bytes of a sockaddr_in; probe in6 ADDR PORT: of a sockaddr_in6
 *        probe bind [-r] ADDR PORT     bind (SO_REUSEADDR with -r); prints "bound ADDR PORT" or the errno
 *        probe listen [-r] [-b N] ADDR PORT
 *                                      bind + listen(N), print "listening ADDR PORT", wait for SIGTERM
 *        probe serve [-n N] ADDR PORT  accept N clients (default 1) one by one: print
 *                                      "peer ADDR PORT", read a line, answer "echo: LINE", close
 *        probe connect HOST PORT [MSG] connect; print "local ADDR PORT" and "peer ADDR PORT";
 *                                      with MSG send it, half-close, print what comes back
 *        probe hold HOST PORT          connect, print "local ADDR PORT", keep the connection until SIGTERM
 *        probe drain ADDR PORT         accept one client, print "peer ADDR PORT", read to EOF, print "got N
 *                                      bytes, then EOF", answer "got N bytes\n" + the bytes in upper case
 *        probe close ADDR PORT         accept one client, print "peer ADDR PORT", close it at once
 *        probe nbconnect HOST PORT MS  non-blocking connect, poll up to MS ms: print "connected ADDR PORT"
 *                                      or "pending ADDR PORT" (the local end), hold the socket until SIGTERM
 *        probe reserve [-r] ADDR PORT  bind without listening, print "bound ADDR PORT", keep it until SIGTERM:
 *                                      a closed port (SYNs get an RST) that no other program can take
 *        probe timewait [-r]           leave a server-side TIME_WAIT on a loopback port and print the port
 *                                      (-r: the listener had SO_REUSEADDR)
 *        probe await FILE PID MS       wait until FILE holds a full line, PID has exited, or MS ms passed
 *        probe sockinfo PID FD         the kernel's view of PID's descriptor FD (pidfd_getfd, Linux >= 5.6,
 *                                      needs ptrace rights): "domain AF_INET type SOCK_STREAM protocol 6"
 *
 * Errors are reported like the labs': "probe: CALL: ENAME (text)", exit 1; usage errors exit 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: probe layout | families | in ADDR PORT | in6 ADDR PORT | bind [-r] ADDR PORT\n"
	      "       | listen [-r] [-b N] ADDR PORT | serve [-n N] ADDR PORT | connect HOST PORT [MSG]\n"
	      "       | hold HOST PORT | drain ADDR PORT | close ADDR PORT | nbconnect HOST PORT MS | reserve [-r] ADDR PORT | timewait [-r] | await FILE PID MS | sockinfo PID FD\n",
	      stderr);
	exit(2);
}

/* Fill ss from a numeric ADDR (IPv4 or IPv6) and PORT; exits 2 if they are not valid. */
static socklen_t make_addr(const char *host, const char *port_s, struct sockaddr_storage *ss)
{
	unsigned short port;

	memset(ss, 0, sizeof(*ss));
	if (parse_port(port_s, &port) == -1)
		usage();
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		return sizeof(*in);
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return sizeof(*in6);
	}
	usage();
}

/* "ADDR PORT" of a socket address, as the tests read it. */
static const char *show(const struct sockaddr_storage *ss)
{
	static char buf[INET6_ADDRSTRLEN + 8];
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, sizeof(buf), "%s %u", host, port);
	return buf;
}

static void print_name(const char *what, int fd, int peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len)) == -1)
		die(peer ? "getpeername" : "getsockname");
	printf("%s %s\n", what, show(&ss));
	fflush(stdout);
}

static void hexdump(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		printf("%02x%c", b[i], i + 1 < n ? ' ' : '\n');
}

#define ROW(type, field) \
	printf("%s.%s %zu %zu\n", #type, #field, offsetof(struct type, field), sizeof(((struct type *)0)->field))

static int cmd_layout(void)
{
	printf("sockaddr %zu\n", sizeof(struct sockaddr));
	ROW(sockaddr, sa_family);
	ROW(sockaddr, sa_data);
	printf("sockaddr_in %zu\n", sizeof(struct sockaddr_in));
	ROW(sockaddr_in, sin_family);
	ROW(sockaddr_in, sin_port);
	ROW(sockaddr_in, sin_addr);
	ROW(sockaddr_in, sin_zero);
	printf("sockaddr_in6 %zu\n", sizeof(struct sockaddr_in6));
	ROW(sockaddr_in6, sin6_family);
	ROW(sockaddr_in6, sin6_port);
	ROW(sockaddr_in6, sin6_flowinfo);
	ROW(sockaddr_in6, sin6_addr);
	ROW(sockaddr_in6, sin6_scope_id);
	printf("sockaddr_un %zu\n", sizeof(struct sockaddr_un));
	ROW(sockaddr_un, sun_family);
	ROW(sockaddr_un, sun_path);
	printf("sockaddr_storage %zu\n", sizeof(struct sockaddr_storage));
	ROW(sockaddr_storage, ss_family);
	printf("sockaddr_storage align %zu\n", _Alignof(struct sockaddr_storage));
	return 0;
}

static int cmd_families(void)
{
	printf("AF_UNIX %d\nAF_LOCAL %d\nAF_INET %d\nAF_INET6 %d\n", AF_UNIX, AF_LOCAL, AF_INET, AF_INET6);
	printf("PF_UNIX %d\nPF_LOCAL %d\nPF_INET %d\nPF_INET6 %d\n", PF_UNIX, PF_LOCAL, PF_INET, PF_INET6);
	return 0;
}

static int cmd_bytes(int family, const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, port, &ss);

	if (ss.ss_family != family)
		usage();
	hexdump(&ss, len);
	return 0;
}

/* socket + optional SO_REUSEADDR + bind; exits with the errno on failure. */
static int bound_socket(int reuse, const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, port, &ss);
	int one = 1;
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (fd == -1)
		die("socket");
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("setsockopt");
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		die("bind");
	return fd;
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Wait for SIGTERM without a busy loop; SIGTERM's handler lets us close cleanly. */
static void wait_for_term(void)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!stop)
		sigsuspend(&old);
}

static int cmd_listen(int argc, char **argv)
{
	int reuse = 0, backlog = 16, opt;

	while ((opt = getopt(argc, argv, "+rb:")) != -1) {
		if (opt == 'r')
			reuse = 1;
		else if (opt == 'b')
			backlog = atoi(optarg);
		else
			usage();
	}
	if (argc - optind != 2)
		usage();
	int fd = bound_socket(reuse, argv[optind], argv[optind + 1]);
	if (listen(fd, backlog) == -1)
		die("listen");
	print_name("listening", fd, 0);
	wait_for_term();
	close(fd);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	long n = 1;
	int opt;

	while ((opt = getopt(argc, argv, "+n:")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else
			usage();
	}
	if (argc - optind != 2 || n < 1)
		usage();
	int lfd = bound_socket(1, argv[optind], argv[optind + 1]);
	if (listen(lfd, 16) == -1)
		die("listen");
	print_name("listening", lfd, 0);
	for (long i = 0; i < n; i++) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd == -1)
			die("accept");
		print_name("peer", cfd, 1);
		char line[512];
		size_t got = 0;
		while (got < sizeof(line) - 1) {
			ssize_t r = read(cfd, line + got, sizeof(line) - 1 - got);
			if (r == -1)
				die("read");
			if (r == 0)
				break;
			got += (size_t)r;
			if (memchr(line, '\n', got))
				break;
		}
		line[got] = '\0';
		line[strcspn(line, "\n")] = '\0';
		printf("got %s\n", line);
		fflush(stdout);
		dprintf(cfd, "echo: %s\n", line);
		close(cfd);
	}
	close(lfd);
	return 0;
}

static int connected_socket(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (fd == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&ss, len) == -1)
		die("connect");
	return fd;
}

static int cmd_connect(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		usage();
	int fd = connected_socket(argv[1], argv[2]);
	print_name("local", fd, 0);
	print_name("peer", fd, 1);
	if (argc == 4) {
		if (dprintf(fd, "%s\n", argv[3]) < 0)
			die("write");
		if (shutdown(fd, SHUT_WR) == -1)
			die("shutdown");
		char buf[4096];
		ssize_t r;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)r, stdout);
		if (r == -1)
			die("read");
	}
	close(fd);
	return 0;
}

static int cmd_hold(int argc, char **argv)
{
	if (argc != 3)
		usage();
	int fd = connected_socket(argv[1], argv[2]);
	print_name("local", fd, 0);
	wait_for_term();
	close(fd);
	return 0;
}

/* One client, then exit. drain: read to EOF (a read error such as ECONNRESET is reported), then
 * answer "got N bytes\n" and the bytes in upper case; close: close the connection at once. */
static int cmd_one(int drain, int argc, char **argv)
{
	if (argc != 3)
		usage();
	int lfd = bound_socket(1, argv[1], argv[2]);
	if (listen(lfd, 16) == -1)
		die("listen");
	print_name("listening", lfd, 0);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
	if (cfd == -1)
		die("accept");
	/* accept's address, not getpeername(): a client that reset before accept leaves ENOTCONN. */
	printf("peer %s\n", show(&peer));
	fflush(stdout);
	if (drain) {
		char *buf = NULL;
		size_t len = 0, cap = 0;
		ssize_t r;
		do {
			if (cap - len < 4096 && (buf = realloc(buf, cap += 65536)) == NULL)
				die("realloc");
			if ((r = read(cfd, buf + len, cap - len)) == -1)
				die("read");
			len += (size_t)r;
		} while (r > 0);
		printf("got %zu bytes, then EOF\n", len);
		fflush(stdout);
		dprintf(cfd, "got %zu bytes\n", len);
		for (size_t i = 0; i < len; i++)
			buf[i] = buf[i] >= 'a' && buf[i] <= 'z' ? (char)(buf[i] - 'a' + 'A') : buf[i];
		for (size_t off = 0; off < len; off += (size_t)r)
			if ((r = write(cfd, buf + off, len - off)) == -1)
				die("write");
		free(buf);
	}
	close(cfd);
	close(lfd);
	return 0;
}

/* Start a connect that cannot block: report whether the handshake completed within MS ms (a full
 * accept queue drops the SYN and leaves it pending, in SYN-SENT), then keep the socket open. */
static int cmd_nbconnect(int argc, char **argv)
{
	struct sockaddr_storage ss;

	if (argc != 4 || strspn(argv[3], "0123456789") != strlen(argv[3]) || strlen(argv[3]) > 7)
		usage();
	socklen_t len = make_addr(argv[1], argv[2], &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 && errno != EINPROGRESS)
		die("connect");
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int n;
	while ((n = poll(&p, 1, atoi(argv[3]))) == -1 && errno == EINTR && !stop)
		;
	if (n == -1 && errno != EINTR)
		die("poll");
	int err = 0;
	socklen_t elen = sizeof(err);
	if (n > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		die("getsockopt");
	if (err != 0) {
		errno = err;
		die("connect");
	}
	print_name(n > 0 ? "connected" : "pending", fd, 0);
	wait_for_term();
	close(fd);
	return 0;
}

/* Hold a bound, never listening socket: its port answers SYNs with an RST, and stays ours. */
static int cmd_reserve(int argc, char **argv)
{
	int reuse = argc == 4 && strcmp(argv[1], "-r") == 0;

	if (argc != 3 && !reuse)
		usage();
	int fd = bound_socket(reuse, argv[argc - 2], argv[argc - 1]);
	print_name("bound", fd, 0);
	wait_for_term();
	close(fd);
	return 0;
}

/* Make the server side of a loopback connection close first, so that the TIME_WAIT sits on the
 * listening port; then close the listener too. The port is free of sockets but for that TIME_WAIT. */
static int cmd_timewait(int argc, char **argv)
{
	int reuse = argc == 2 && strcmp(argv[1], "-r") == 0;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (argc > 2 || (argc == 2 && !reuse))
		usage();
	int lfd = bound_socket(reuse, "127.0.0.1", "0");
	if (listen(lfd, 1) == -1)
		die("listen");
	if (getsockname(lfd, (struct sockaddr *)&ss, &len) == -1)
		die("getsockname");
	int cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (cfd == -1)
		die("socket");
	if (connect(cfd, (struct sockaddr *)&ss, len) == -1)
		die("connect");
	int afd = accept(lfd, NULL, NULL);
	if (afd == -1)
		die("accept");
	close(afd); /* the server closes first: it will hold the TIME_WAIT */
	char c;
	if (read(cfd, &c, 1) == -1) /* wait for the server's FIN: returns 0 */
		die("read");
	close(cfd);
	close(lfd);
	printf("%u\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return 0;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Has FILE got a full first line? Print it if so. */
static int first_line(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return 0;
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	char *nl = strchr(buf, '\n');
	if (!nl)
		return 0;
	*nl = '\0';
	puts(buf);
	return 1;
}

/* Wait, without sleeping blindly, for a background program to report: inotify wakes us when FILE
 * is written, a pidfd when the program exits. Exit 0 with the line, 3 if PID exited first, 4 on
 * timeout. Kernels without pidfd_open (< 5.3) fall back to looking every 20 ms. */
static int cmd_await(int argc, char **argv)
{
	if (argc != 4)
		usage();
	const char *path = argv[1];
	pid_t pid = (pid_t)atol(argv[2]);
	long deadline = now_ms() + atol(argv[3]);
	int in = inotify_init1(IN_CLOEXEC);
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (in != -1)
		inotify_add_watch(in, path, IN_MODIFY | IN_CLOSE_WRITE);
	for (;;) {
		if (first_line(path))
			return 0;
		if (pfd == -1 && kill(pid, 0) == -1 && errno == ESRCH)
			return first_line(path) ? 0 : 3;
		long left = deadline - now_ms();
		if (left <= 0)
			return 4;
		struct pollfd fds[2] = { { .fd = in, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
		int wait = (in == -1 || pfd == -1) && left > 20 ? 20 : (int)left;
		if (poll(fds, 2, wait) == -1 && errno != EINTR)
			die("poll");
		if (fds[1].revents & POLLIN)
			return first_line(path) ? 0 : 3;
		if (fds[0].revents & POLLIN) {
			char ev[4096];
			if (read(in, ev, sizeof(ev)) == -1 && errno != EAGAIN)
				die("read");
		}
	}
}

/* Copy descriptor FD out of process PID and ask the kernel what socket it is. */
static int cmd_sockinfo(const char *pid_s, const char *fd_s)
{
	char *end1, *end2;
	long pid = strtol(pid_s, &end1, 10), target = strtol(fd_s, &end2, 10);

	if (*pid_s == '\0' || *end1 != '\0' || *fd_s == '\0' || *end2 != '\0' || pid <= 0 || target < 0)
		usage();
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
	int pidfd = (int)syscall(SYS_pidfd_open, (int)pid, 0);
	if (pidfd == -1)
		die("pidfd_open");
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)target, 0);
	if (fd == -1)
		die("pidfd_getfd");
	const int opts[3] = { SO_DOMAIN, SO_TYPE, SO_PROTOCOL };
	int v[3];
	for (int i = 0; i < 3; i++) {
		socklen_t len = sizeof(v[i]);
		if (getsockopt(fd, SOL_SOCKET, opts[i], &v[i], &len) == -1)
			die("getsockopt");
	}
	const char *dom = v[0] == AF_INET ? "AF_INET" : v[0] == AF_INET6 ? "AF_INET6" : v[0] == AF_UNIX ? "AF_UNIX" : NULL;
	const char *type = v[1] == SOCK_STREAM ? "SOCK_STREAM" : v[1] == SOCK_DGRAM ? "SOCK_DGRAM"
		: v[1] == SOCK_RAW ? "SOCK_RAW" : v[1] == SOCK_SEQPACKET ? "SOCK_SEQPACKET" : NULL;
	if (dom)
		printf("domain %s ", dom);
	else
		printf("domain %d ", v[0]);
	if (type)
		printf("type %s ", type);
	else
		printf("type %d ", v[1]);
	printf("protocol %d\n", v[2]);
	return 0;
#else
	errno = ENOSYS;
	die("pidfd_getfd");
#endif
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "layout") == 0 && argc == 1)
		return cmd_layout();
	if (strcmp(cmd, "families") == 0 && argc == 1)
		return cmd_families();
	if (strcmp(cmd, "in") == 0 && argc == 3)
		return cmd_bytes(AF_INET, argv[1], argv[2]);
	if (strcmp(cmd, "in6") == 0 && argc == 3)
		return cmd_bytes(AF_INET6, argv[1], argv[2]);
	if (strcmp(cmd, "bind") == 0 && (argc == 3 || argc == 4)) {
		int reuse = argc == 4 && strcmp(argv[1], "-r") == 0;
		if (argc == 4 && !reuse)
			usage();
		int fd = bound_socket(reuse, argv[argc - 2], argv[argc - 1]);
		print_name("bound", fd, 0);
		return 0;
	}
	if (strcmp(cmd, "listen") == 0)
		return cmd_listen(argc, argv);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "connect") == 0)
		return cmd_connect(argc, argv);
	if (strcmp(cmd, "hold") == 0)
		return cmd_hold(argc, argv);
	if (strcmp(cmd, "drain") == 0 || strcmp(cmd, "close") == 0)
		return cmd_one(strcmp(cmd, "drain") == 0, argc, argv);
	if (strcmp(cmd, "nbconnect") == 0)
		return cmd_nbconnect(argc, argv);
	if (strcmp(cmd, "reserve") == 0)
		return cmd_reserve(argc, argv);
	if (strcmp(cmd, "timewait") == 0)
		return cmd_timewait(argc, argv);
	if (strcmp(cmd, "await") == 0)
		return cmd_await(argc, argv);
	if (strcmp(cmd, "sockinfo") == 0 && argc == 3)
		return cmd_sockinfo(argv[1], argv[2]);
	usage();
}
