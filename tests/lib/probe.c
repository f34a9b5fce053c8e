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
 *        probe finrst ADDR PORT        accept one client, print "peer ADDR PORT", read nothing; on SIGUSR1
 *                                      half-close (FIN), then close with its bytes unread (RST): print "FIN,
 *                                      then RST with N bytes unread" (exit 1 if none were: no RST)
 *        probe nbconnect HOST PORT MS  non-blocking connect, poll up to MS ms: print "connected ADDR PORT"
 *                                      or "pending ADDR PORT" (the local end), hold the socket until SIGTERM
 *        probe reserve [-r] ADDR PORT  bind without listening, print "bound ADDR PORT", keep it until SIGTERM:
 *                                      a closed port (SYNs get an RST) that no other program can take
 *        probe timewait [-r]           leave a server-side TIME_WAIT on a loopback port and print the port
 *                                      (-r: the listener had SO_REUSEADDR)
 *        probe stream [-p|-R|-x] [-n N] HOST PORT BYTES
 *                                      an echo client: print "local ADDR PORT", send BYTES bytes of a fixed
 *                                      pattern while reading the echo (poll), half-close, read to EOF and
 *                                      check every byte: "sent S bytes, received R bytes, then EOF" (exit 1
 *                                      if the echo differs). -p: read nothing and do not half-close (but
 *                                      send what fits) until SIGUSR1; -R: once
 *                                      half came back, close with SO_LINGER {1, 0} (RST); -x: close once all
 *                                      is sent, reading nothing; -n N: N connections in a row, quietly, then
 *                                      "N connections, B bytes echoed, T s"
 *        probe echo ADDR PORT          accept one client, echo all it sends until EOF, "echoed N bytes, then EOF"
 *        probe await FILE PID MS       wait until FILE holds a full line, PID has exited, or MS ms passed
 *        probe sockinfo PID FD         the kernel's view of PID's descriptor FD (pidfd_getfd, Linux >= 5.6,
 *                                      needs ptrace rights): "domain AF_INET type SOCK_STREAM protocol 6"
 *        probe gai [-p] [-n] HOST|- PORT  getaddrinfo(AF_UNSPEC, SOCK_STREAM, AI_NUMERICSERV; -p AI_PASSIVE,
 *                                      -n AI_NUMERICHOST; - is no HOST): "ADDR PORT" per result, in order;
 *                                      on failure "probe: getaddrinfo: TEXT" (gai_strerror), exit 1
 *        probe unix bind|serve|connect NAME [MSG]
 *                                      AF_LOCAL stream sockets; NAME is a path or @NAME (abstract: a leading
 *                                      NUL, exact length, no file). bind: print "bound NAME addrlen N" and
 *                                      exit, leaving a stale socket file nobody listens on; serve: bind,
 *                                      listen, "listening NAME addrlen N", one client: "got LINE", answer
 *                                      "echo: LINE", remove the file (also on SIGTERM); connect: "peer NAME
 *                                      addrlen N" (getpeername), with MSG send it, half-close, print the reply
 *        probe try EXPERIMENT ...      one question to the kernel, for the labs' predictions; prints its answer,
 *                                      or the errno as "probe: CALL: ENAME (text)", exit 1:
 *          socket DOMAIN TYPE PROTO    socket() (inet|inet6|unix, stream|dgram|raw|seqpacket, 0|tcp|udp|icmp|
 *                                      icmpv6, or numbers): "fd N protocol P NAME" (SO_PROTOCOL)
 *          pton inet|inet6 TEXT        "inet_pton returned R"
 *          bind2 ADDR                  bind ADDR port 0 ("bound ADDR PORT"), then bind the same socket again
 *          unbound                     a new TCP socket's name before bind or connect: "local ADDR PORT"
 *          accept-unlistened           accept() on a socket bound to 127.0.0.1 that never called listen()
 *          accept-nonblock             accept() on a non-blocking listener with nobody in its queue
 *          accept-gone                 a client connects to a listener and closes before accept(); then
 *                                      accept ("accepted fd N") and read ("read returned R")
 *        probe afterclose [-k] HOST PORT  connect, read to EOF, then write, wait for the peer's RST, write,
 *                                      read: "read 1: 0 bytes", "write 1: 5 bytes", "write 2: EPIPE", ...
 *                                      (SIGPIPE ignored; -k: default, so write 2 may kill the probe)
 *        probe pieces N                N writes of 4 bytes on a loopback connection, then one read() at
 *                                      the other end: "N writes of 4 bytes, then one read() returned R bytes"
 *        probe eintr [-r] [poll]       a blocking read() (or poll() of 2 s) that a signal interrupts, its
 *                                      handler without SA_RESTART (-r: with it, poll only): "read: -1 EINTR"
 *
 *        probe reset ADDR PORT         accept one client, print "peer ADDR PORT", read a line, print "got LINE",
 *                                      then reset the connection (SO_LINGER {1, 0}): the client reads ECONNRESET
 *        probe rst HOST PORT           connect, print "local ADDR PORT", reset the connection at once
 *        probe send [-R] ADDR PORT TEXT  accept one client, send TEXT (PROBE_PIECES applies), close: "sent N
 *                                      bytes, then FIN"; -R: close with SO_LINGER {1, 0} ("then RST")
 *        probe split HOST PORT PART...  (lab 16) send PART 1, "local ADDR PORT"; each SIGUSR1 sends the next
 *                                      PART; after the last, half-close, read to EOF: "reply "TEXT" then EOF"
 *        probe many HOST PORT N        (lab 16) N connections at once (RLIMIT_NOFILE raised), each echoes
 *                                      "ping I": "N connections, each echoed a line"; SIGUSR1: all again
 *        probe mux halfclose|closed    (lab 16) select(), poll() and read() on a half-closed connection, or
 *                                      select() and poll() given a closed descriptor
 *        PROBE_PIECES=N[/MS] (environment): serve, drain, echo and unix serve send each reply N bytes at
 *                                      a time, MS ms apart (default 30, at most 200; after 64 pauses the
 *                                      rest at once): a client that reads a reply once gets only a piece
 *
 * Errors are reported like the labs': "probe: CALL: ENAME (text)", exit 1; usage errors exit 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stddef.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: probe layout | families | in ADDR PORT | in6 ADDR PORT | bind [-r] ADDR PORT\n"
	      "       | listen [-r] [-b N] ADDR PORT | serve [-n N] ADDR PORT | connect HOST PORT [MSG]\n"
	      "       | hold HOST PORT | drain ADDR PORT | close ADDR PORT | nbconnect HOST PORT MS\n"
	      "       | reserve [-r] ADDR PORT | timewait [-r] | await FILE PID MS | sockinfo PID FD\n"
	      "       | stream [-p|-R|-x] [-n N] HOST PORT BYTES | echo ADDR PORT\n"
	      "       | gai [-p] [-n] HOST|- PORT | unix bind|serve|connect NAME [MSG]\n"
	      "       | try EXPERIMENT ... (see the header of tests/lib/probe.c)\n"
	      "       | afterclose [-k] HOST PORT | pieces N | eintr [-r] [poll]\n"
	      "       | reset ADDR PORT | rst HOST PORT | send [-R] ADDR PORT TEXT\n"
	      "       | split HOST PORT PART... | many HOST PORT N | mux halfclose|closed\n",
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

	int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
	if (rc == -1)
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

/* Replies in pieces. With PROBE_PIECES=N or N/MS in the environment, what serve, drain, echo and
 * unix serve send back to a client goes out N bytes at a time (N >= 1) with MS ms between the pieces
 * (default 30, at most 200), so that a client that reads a reply once, or trusts one read to hold a
 * whole line, gets only the first piece. Bounded: after 64 pauses the rest of a reply goes at once.
 * TCP_NODELAY makes each piece a segment of its own (Nagle would merge them). */
static size_t piece_len;
static long piece_ms = 30;

static void pieces_init(void)
{
	const char *e = getenv("PROBE_PIECES");
	char *end;

	if (e == NULL || *e == '\0')
		return;
	long n = strtol(e, &end, 10);
	if (n < 1 || n > 65536 || (*end != '\0' && *end != '/'))
		usage();
	if (*end == '/') {
		piece_ms = strtol(end + 1, &end, 10);
		if (*end != '\0' || piece_ms < 0 || piece_ms > 200)
			usage();
	}
	piece_len = (size_t)n;
}

/* Write all of buf to fd (in pieces if asked); a failure ends the probe like the labs: die("write"). */
static void reply_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t off = 0;
	int pauses = 0, one = 1;

	if (piece_len)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on AF_UNIX: no matter */
	while (off < len) {
		size_t n = len - off;
		if (piece_len && pauses < 64 && n > piece_len)
			n = piece_len;
		ssize_t w = write(fd, p + off, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			die("write");
		off += (size_t)w;
		if (piece_len && off < len && pauses++ < 64) {
			struct timespec ts = { .tv_sec = piece_ms / 1000, .tv_nsec = piece_ms % 1000 * 1000000L };
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		}
	}
}

/* dprintf through reply_write. */
static void reply_printf(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf");
	reply_write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Wait for SIGTERM without a busy loop; SIGTERM's handler lets us close cleanly. */
/* got_line FD LINE SIZE STRICT: read FD up to its first newline (or EOF, or SIZE - 1 bytes), keep the
 * line without its newline in LINE and print "got LINE". A failed read() ends the probe if STRICT,
 * else ends the line. */
static void got_line(int fd, char *line, size_t size, int strict)
{
	size_t got = 0;

	while (got < size - 1) {
		ssize_t r = read(fd, line + got, size - 1 - got);
		if (r == -1 && strict)
			die("read");
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(line, '\n', got))
			break;
	}
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	printf("got %s\n", line);
	fflush(stdout);
}

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
		char line[2048]; /* room for lab 06's longest line (1000 bytes) */
		got_line(cfd, line, sizeof(line), 1);
		reply_printf(cfd, "echo: %s\n", line);
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

/* A new TCP socket connected to the listening socket lfd's own address (a loopback connection of
 * the probe's own): its descriptor. */
static int client_of(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) == -1)
		die("getsockname");
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

/* Listen on ADDR PORT ("listening ADDR PORT"), accept one client ("peer ADDR PORT"); return its
 * socket, and the listening one in *lfd. */
static int accept_one(const char *addr, const char *port, int *lfd)
{
	*lfd = bound_socket(1, addr, port);
	if (listen(*lfd, 16) == -1)
		die("listen");
	print_name("listening", *lfd, 0);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int cfd = accept(*lfd, (struct sockaddr *)&peer, &plen);
	if (cfd == -1)
		die("accept");
	/* accept's address, not getpeername(): a client that reset before accept leaves ENOTCONN. */
	printf("peer %s\n", show(&peer));
	fflush(stdout);
	return cfd;
}

/* One client, then exit. drain: read to EOF (a read error such as ECONNRESET is reported), then
 * answer "got N bytes\n" and the bytes in upper case; close: close the connection at once. */
static int cmd_one(int drain, int argc, char **argv)
{
	if (argc != 3)
		usage();
	int lfd, cfd = accept_one(argv[1], argv[2], &lfd);
	if (drain) {
		char *buf = NULL;
		size_t len = 0, cap = 0;
		ssize_t r;
		do {
			if (cap - len < 4096) {
				char *bigger = realloc(buf, cap += 65536);
				if (bigger == NULL)
					die("realloc");
				buf = bigger;
			}
			if ((r = read(cfd, buf + len, cap - len)) == -1)
				die("read");
			len += (size_t)r;
		} while (r > 0);
		printf("got %zu bytes, then EOF\n", len);
		fflush(stdout);
		reply_printf(cfd, "got %zu bytes\n", len);
		for (size_t i = 0; i < len; i++)
			buf[i] = buf[i] >= 'a' && buf[i] <= 'z' ? (char)(buf[i] - 'a' + 'A') : buf[i];
		reply_write(cfd, buf, len);
		free(buf);
	}
	close(cfd);
	close(lfd);
	return 0;
}

/* A server that half-closes and then resets: the client's socket takes the FIN into CLOSE_WAIT,
 * and the RST that follows there sets its error to EPIPE (not ECONNRESET), so that the client's
 * next send() fails with EPIPE, and raises SIGPIPE unless told not to (MSG_NOSIGNAL). SIGUSR1 is
 * blocked until the wait for it, so that one sent early is not lost. */
static int cmd_finrst(int argc, char **argv)
{
	if (argc != 3)
		usage();
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	int lfd, cfd = accept_one(argv[1], argv[2], &lfd);
	int sig, e = sigwait(&usr1, &sig);
	if (e != 0) {
		errno = e;
		die("sigwait");
	}
	int unread = 0;
	if (ioctl(cfd, FIONREAD, &unread) == -1)
		die("ioctl");
	if (shutdown(cfd, SHUT_WR) == -1)
		die("shutdown");
	if (close(cfd) == -1)
		die("close");
	printf("FIN, then RST with %d bytes unread\n", unread);
	close(lfd);
	return unread > 0 ? 0 : 1;
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

	if (argc > 2 || (argc == 2 && !reuse))
		usage();
	int lfd = bound_socket(reuse, "127.0.0.1", "0");
	if (listen(lfd, 1) == -1)
		die("listen");
	int cfd = client_of(lfd);
	int afd = accept(lfd, NULL, NULL);
	if (afd == -1)
		die("accept");
	close(afd); /* the server closes first: it will hold the TIME_WAIT */
	char c;
	if (read(cfd, &c, 1) == -1) /* wait for the server's FIN: returns 0 */
		die("read");
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	if (getpeername(cfd, (struct sockaddr *)&sin, &len) == -1)
		die("getpeername");
	close(cfd);
	close(lfd);
	printf("%u\n", ntohs(sin.sin_port));
	return 0;
}

/* stream and echo, the kit's two ends of an echo connection (lab 12). The bytes sent are a fixed
 * pseudo-random pattern whose period is a prime, so a lost, doubled or misplaced chunk shows. */
#define PAT_PERIOD 1048573
#define PAT_CHUNK 65536
static unsigned char *pat;
static volatile sig_atomic_t usr1;
static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

/* One connection. Poll, so that the echo is read while sending: writing everything first would
 * fill both sides' buffers and block both programs. Returns the number of bytes that came back. */
static unsigned long long stream_once(const char *host, const char *port, unsigned long long bytes, int mode, int quiet,
				      const sigset_t *waitmask)
{
	unsigned long long sent = 0, got = 0;
	unsigned char buf[PAT_CHUNK];
	int shut = 0, fd = connected_socket(host, port);

	if (!quiet)
		print_name("local", fd, 0);
	for (;;) {
		/* -p: a peer that stops reading, so that the server's writes block. SIGUSR1 is let in
		 * only while waiting (ppoll, sigsuspend): one sent at any time is never lost. */
		int paused = mode == 'p' && !usr1;
		if (stop)
			exit(1);
		if (paused && sent == bytes) {
			sigsuspend(waitmask);
			continue;
		}
		if (sent == bytes && !shut) {
			if (mode == 'x') {
				close(fd);
				printf("sent %llu bytes, closed without reading\n", sent);
				return 0;
			}
			if (shutdown(fd, SHUT_WR) == -1)
				die("shutdown");
			shut = 1;
		}
		short events = (short)((mode == 'x' || paused ? 0 : POLLIN) | (shut ? 0 : POLLOUT));
		struct pollfd p = { .fd = fd, .events = events };
		if (ppoll(&p, 1, NULL, waitmask) == -1) {
			if (errno == EINTR && !stop)
				continue;
			die("poll");
		}
		if (p.revents & POLLOUT) {
			size_t n = bytes - sent < PAT_CHUNK ? (size_t)(bytes - sent) : PAT_CHUNK;
			ssize_t w = send(fd, pat + sent % PAT_PERIOD, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w == -1 && errno != EAGAIN && errno != EINTR)
				die("send");
			sent += w > 0 ? (size_t)w : 0;
		}
		if (mode == 'x' || paused || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == -1 && errno != EAGAIN && errno != EINTR)
			die("read");
		if (r == 0)
			break;
		if (r > 0 && memcmp(buf, pat + got % PAT_PERIOD, (size_t)r) != 0) {
			ssize_t i = 0;
			while (buf[i] == pat[(got + (size_t)i) % PAT_PERIOD])
				i++;
			printf("the echo differs from what was sent at byte %llu\n", got + (size_t)i);
			exit(1);
		}
		got += r > 0 ? (size_t)r : 0;
		if (mode == 'R' && got >= bytes / 2) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
				die("setsockopt");
			close(fd);
			printf("sent %llu bytes, received %llu bytes, then reset (SO_LINGER {1, 0})\n", sent, got);
			return got;
		}
	}
	close(fd);
	if (!quiet)
		printf("sent %llu bytes, received %llu bytes, then EOF\n", sent, got);
	if (got != sent) {
		printf("the echo ended after %llu of %llu bytes\n", got, sent);
		exit(1);
	}
	return got;
}

static int cmd_stream(int argc, char **argv)
{
	int mode = 0, opt;
	long n = 0;
	char *end;

	while ((opt = getopt(argc, argv, "+pRxn:")) != -1) {
		if (opt == 'n')
			n = strtol(optarg, &end, 10);
		else if (opt == 'p' || opt == 'R' || opt == 'x')
			mode = opt;
		else
			usage();
	}
	if (argc - optind != 3 || n < 0 || strspn(argv[optind + 2], "0123456789") != strlen(argv[optind + 2]))
		usage();
	unsigned long long bytes = strtoull(argv[optind + 2], &end, 10);
	if ((pat = malloc(PAT_PERIOD + PAT_CHUNK)) == NULL)
		die("malloc");
	unsigned x = 2463534242u; /* xorshift32 */
	for (size_t i = 0; i < PAT_PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pat[i] = (unsigned char)(x >> 24);
	}
	memcpy(pat + PAT_PERIOD, pat, PAT_CHUNK);
	/* SIGUSR1 (for -p) is blocked but while waiting for it, so that an early one is not lost. */
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long long total = 0;
	for (long i = 0; i < (n ? n : 1); i++)
		total += stream_once(argv[optind], argv[optind + 1], bytes, mode, n > 0, &old);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (n)
		printf("%ld connections, %llu bytes echoed, %.6f s\n", n, total,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}

/* Close fd with SO_LINGER {1, 0}: the kernel sends an RST instead of a FIN. */
static void close_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		die("setsockopt");
	if (close(fd) == -1)
		die("close");
}

/* reset ADDR PORT: accept one client, print "peer ADDR PORT", read up to its first newline (or
 * EOF), print "got LINE", then reset the connection: the client, waiting for a reply, reads
 * ECONNRESET. rst HOST PORT: connect, print "local ADDR PORT", and reset at once. */
static int cmd_reset(int argc, char **argv)
{
	char line[512];

	if (argc != 3)
		usage();
	if (strcmp(argv[0], "rst") == 0) {
		int fd = connected_socket(argv[1], argv[2]);
		print_name("local", fd, 0);
		close_rst(fd);
		return 0;
	}
	int lfd, cfd = accept_one(argv[1], argv[2], &lfd);
	got_line(cfd, line, sizeof(line), 0);
	close_rst(cfd);
	close(lfd);
	return 0;
}

/* A one-client echo server with the plainest loop: read, write it all back, until EOF. */
static int cmd_echo(int argc, char **argv)
{
	unsigned long long total = 0;
	char buf[PAT_CHUNK];
	ssize_t r;

	if (argc != 3)
		usage();
	int lfd = bound_socket(1, argv[1], argv[2]);
	if (listen(lfd, 16) == -1)
		die("listen");
	print_name("listening", lfd, 0);
	int cfd = accept(lfd, NULL, NULL);
	if (cfd == -1)
		die("accept");
	print_name("peer", cfd, 1);
	while ((r = read(cfd, buf, sizeof(buf))) > 0) {
		reply_write(cfd, buf, (size_t)r);
		total += (size_t)r;
	}
	if (r == -1)
		die("read");
	printf("echoed %llu bytes, then EOF\n", total);
	close(cfd);
	close(lfd);
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

	/* A file that does not exist yet (its writer has not opened it) cannot be watched: look at it
	 * every 20 ms instead, rather than sleep until the deadline on a watch that never fires. */
	if (in != -1 && inotify_add_watch(in, path, IN_MODIFY | IN_CLOSE_WRITE) == -1) {
		close(in);
		in = -1;
	}
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
	const char *dom = v[0] == AF_INET    ? "AF_INET"
			  : v[0] == AF_INET6 ? "AF_INET6"
			  : v[0] == AF_UNIX  ? "AF_UNIX"
					     : NULL;
	const char *type = v[1] == SOCK_STREAM      ? "SOCK_STREAM"
			   : v[1] == SOCK_DGRAM     ? "SOCK_DGRAM"
			   : v[1] == SOCK_RAW       ? "SOCK_RAW"
			   : v[1] == SOCK_SEQPACKET ? "SOCK_SEQPACKET"
						    : NULL;
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

/* The lab 11 oracle: what getaddrinfo returns here, in its order (/etc/hosts, /etc/gai.conf). */
static int cmd_gai(int argc, char **argv)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	int opt;

	while ((opt = getopt(argc, argv, "+pn")) != -1) {
		if (opt == 'p')
			hints.ai_flags |= AI_PASSIVE;
		else if (opt == 'n')
			hints.ai_flags |= AI_NUMERICHOST;
		else
			usage();
	}
	if (argc - optind != 2)
		usage();
	const char *host = strcmp(argv[optind], "-") == 0 ? NULL : argv[optind];
	int rc = getaddrinfo(host, argv[optind + 1], &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "probe: getaddrinfo: %s\n", gai_strerror(rc));
		return 1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if (ai->ai_addrlen <= sizeof(struct sockaddr_storage))
			printf("%s\n", show((struct sockaddr_storage *)ai->ai_addr));
	freeaddrinfo(res);
	return 0;
}

/* AF_LOCAL (lab 09): NAME is a path, or @NAME for an abstract name (sun_path[0] = NUL, no file,
 * no terminating NUL counted). Returns the exact length for bind/connect; exits 2 if it won't fit. */
static socklen_t make_unix(const char *name, struct sockaddr_un *un)
{
	size_t n = strlen(name);

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (name[0] == '@') {
		if (n < 2 || n > sizeof(un->sun_path))
			usage();
		memcpy(un->sun_path + 1, name + 1, n - 1);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	if (n < 1 || n >= sizeof(un->sun_path))
		usage();
	memcpy(un->sun_path, name, n + 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

/* "WHAT NAME addrlen N": the kernel's view of fd's own (or peer's) AF_LOCAL address. An abstract
 * name is shown as ss shows it: @ for each NUL byte. No name at all: "unnamed". */
static void print_unix(const char *what, int fd, int peer)
{
	struct sockaddr_un un;
	socklen_t len = sizeof(un);
	size_t off = offsetof(struct sockaddr_un, sun_path);
	int rc = peer ? getpeername(fd, (struct sockaddr *)&un, &len) : getsockname(fd, (struct sockaddr *)&un, &len);

	if (rc == -1)
		die(peer ? "getpeername" : "getsockname");
	printf("%s ", what);
	if (len <= off)
		fputs("unnamed", stdout);
	else if (un.sun_path[0] == '\0')
		for (size_t i = 0; i < len - off && i < sizeof(un.sun_path); i++)
			putchar(un.sun_path[i] ? un.sun_path[i] : '@');
	else
		printf("%.*s", (int)strnlen(un.sun_path, sizeof(un.sun_path)), un.sun_path);
	printf(" addrlen %u\n", (unsigned)len);
	fflush(stdout);
}

static int cmd_unix(int argc, char **argv)
{
	struct sockaddr_un un;
	char line[512];
	ssize_t r;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[1], "connect") != 0))
		usage();
	socklen_t len = make_unix(argv[2], &un);
	const char *path = argv[2][0] == '@' ? NULL : argv[2];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd == -1)
		die("socket");
	if (strcmp(argv[1], "connect") == 0) {
		if (connect(fd, (struct sockaddr *)&un, len) == -1)
			die("connect");
		print_unix("peer", fd, 1);
		if (argc == 4) {
			if (dprintf(fd, "%s\n", argv[3]) < 0)
				die("write");
			if (shutdown(fd, SHUT_WR) == -1)
				die("shutdown");
			while ((r = read(fd, line, sizeof(line))) > 0)
				fwrite(line, 1, (size_t)r, stdout);
			if (r == -1)
				die("read");
		}
		return 0;
	}
	if (strcmp(argv[1], "bind") != 0 && strcmp(argv[1], "serve") != 0)
		usage();
	/* The socket file is for the program under test to connect to, whichever user runs it (the
	 * batch sandbox runs it as another user than the tests): writable by all, as umask 0 makes it. */
	mode_t mask = umask(0);
	if (bind(fd, (struct sockaddr *)&un, len) == -1)
		die("bind");
	umask(mask);
	if (strcmp(argv[1], "bind") == 0) {
		print_unix("bound", fd, 0);
		return 0; /* the socket file stays behind: nobody listens on it (stale) */
	}
	if (listen(fd, 4) == -1) {
		if (path)
			unlink(path);
		die("listen");
	}
	/* SIGTERM stays blocked but inside ppoll, so it cannot slip in before we wait: either a client
	 * comes or SIGTERM does, and the socket file is removed in both cases. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	print_unix("listening", fd, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;
	while ((n = ppoll(&p, 1, NULL, &old)) == -1 && errno == EINTR && !stop)
		;
	int cfd = n == 1 ? accept(fd, NULL, NULL) : -1;
	if (path)
		unlink(path);
	if (stop)
		return 0;
	if (cfd == -1)
		die(n == 1 ? "accept" : "ppoll");
	got_line(cfd, line, sizeof(line), 0);
	reply_printf(cfd, "echo: %s\n", line);
	close(cfd);
	close(fd);
	return 0;
}

/* try: the experiments of the labs' predictions (labs/NN-name/predictions.md) that no other command
 * makes, each one call (or two) whose result the kernel decides. */
struct named {
	const char *name;
	int value;
};
static const struct named try_domains[] = { { "inet", AF_INET }, { "inet6", AF_INET6 }, { "unix", AF_UNIX }, { 0 } };
static const struct named try_types[] = {
	{ "stream", SOCK_STREAM }, { "dgram", SOCK_DGRAM }, { "raw", SOCK_RAW }, { "seqpacket", SOCK_SEQPACKET }, { 0 }
};
static const struct named try_protocols[] = {
	{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 }, { 0 }
};

/* A name of table t, or a decimal number (what the kernel will judge). */
static int try_value(const struct named *t, const char *s)
{
	for (; t->name; t++)
		if (strcmp(t->name, s) == 0)
			return t->value;
	if (*s == '\0' || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
		usage();
	return atoi(s);
}

/* A socket bound to 127.0.0.1 on a port the kernel chooses, listening with backlog 4 if listening. */
static int try_local(int listening)
{
	int fd = bound_socket(0, "127.0.0.1", "0");
	if (listening && listen(fd, 4) == -1)
		die("listen");
	return fd;
}

static int cmd_try(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	if (strcmp(what, "socket") == 0 && argc == 5) {
		int proto = 0;
		fd = socket(try_value(try_domains, argv[2]), try_value(try_types, argv[3]),
			    try_value(try_protocols, argv[4]));
		if (fd == -1)
			die("socket");
		socklen_t plen = sizeof(proto);
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) == -1)
			die("getsockopt");
		const char *name = "";
		for (const struct named *t = try_protocols; t->name; t++)
			if (t->value == proto)
				name = t->name;
		printf("fd %d protocol %d%s%s\n", fd, proto, *name ? " " : "", name);
	} else if (strcmp(what, "pton") == 0 && argc == 4) {
		unsigned char buf[sizeof(struct in6_addr)];
		int af = try_value(try_domains, argv[2]);
		if (af != AF_INET && af != AF_INET6)
			usage();
		printf("inet_pton returned %d\n", inet_pton(af, argv[3], buf));
	} else if (strcmp(what, "bind2") == 0 && argc == 3) {
		fd = bound_socket(0, argv[2], "0");
		print_name("bound", fd, 0);
		len = make_addr(argv[2], "0", &ss);
		if (bind(fd, (struct sockaddr *)&ss, len) == -1)
			die("bind");
		print_name("bound again", fd, 0);
	} else if (strcmp(what, "unbound") == 0 && argc == 2) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			die("socket");
		print_name("local", fd, 0);
	} else if (strcmp(what, "accept-unlistened") == 0 && argc == 2) {
		fd = try_local(0);
		if (accept(fd, NULL, NULL) == -1)
			die("accept");
		puts("accepted");
	} else if (strcmp(what, "accept-nonblock") == 0 && argc == 2) {
		fd = try_local(1);
		if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
			die("fcntl");
		if (accept(fd, NULL, NULL) == -1)
			die("accept");
		puts("accepted");
	} else if (strcmp(what, "accept-gone") == 0 && argc == 2) {
		fd = try_local(1);
		close(client_of(fd)); /* the client leaves before the server accepts it */
		int afd = accept(fd, NULL, NULL);
		if (afd == -1)
			die("accept");
		printf("accepted fd %d\n", afd);
		fflush(stdout);
		/* The client's FIN is on its way over loopback: wait for it (bounded), then read. */
		struct pollfd p = { .fd = afd, .events = POLLIN };
		int n = poll(&p, 1, 3000);
		if (n == -1)
			die("poll");
		if (n == 0) {
			puts("nothing to read after 3 s");
			return 1;
		}
		char c;
		ssize_t r = read(afd, &c, 1);
		if (r == -1)
			die("read");
		printf("read returned %zd\n", r);
	} else {
		usage();
	}
	return 0;
}

/* Predictions (issue 15): three small experiments whose outcome the student predicts.
 *
 * afterclose [-k] HOST PORT: connect, read to the peer's EOF, then write 5 bytes twice, waiting (up to
 * 1 s) between them for the kernel to take the peer's answer (an RST: POLLERR/POLLHUP); then read
 * once more. Prints "local ADDR PORT", "read 1: N bytes", "write 1: N bytes" (or the errno name),
 * "write 2: ...", "read 2: ...". SIGPIPE is ignored unless -k: then it keeps its default action. */
static void report_io(const char *what, ssize_t r)
{
	const char *name = strerrorname_np(errno);

	if (r == -1)
		printf("%s: %s\n", what, name ? name : "E?");
	else
		printf("%s: %zd bytes\n", what, r);
	fflush(stdout);
}

static int cmd_afterclose(int argc, char **argv)
{
	int keep = argc == 4 && strcmp(argv[1], "-k") == 0;
	char buf[512];
	ssize_t r;

	if (argc != 3 && !keep)
		usage();
	signal(SIGPIPE, keep ? SIG_DFL : SIG_IGN);
	int fd = connected_socket(argv[argc - 2], argv[argc - 1]);
	print_name("local", fd, 0);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		;
	report_io("read 1", r);
	report_io("write 1", write(fd, "hello", 5));
	struct pollfd p = { .fd = fd, .events = 0 };
	if (poll(&p, 1, 1000) == -1)
		die("poll");
	report_io("write 2", write(fd, "hello", 5));
	report_io("read 2", read(fd, buf, sizeof(buf)));
	close(fd);
	return 0;
}

/* pieces N: a loopback connection to itself; one end writes N pieces of 4 bytes, one write() each,
 * and half-closes; once the FIN is there (all N pieces are too), the other end calls read() once
 * with a 4096-byte buffer: "N writes of 4 bytes, then one read() returned R bytes". */
static int cmd_pieces(const char *n_s)
{
	int n = atoi(n_s);
	char buf[4096];

	if (n < 1 || n > 100)
		usage();
	int lfd = bound_socket(0, "127.0.0.1", "0");
	if (listen(lfd, 1) == -1)
		die("listen");
	int cfd = client_of(lfd);
	int afd = accept(lfd, NULL, NULL);
	if (afd == -1)
		die("accept");
	for (int i = 0; i < n; i++)
		if (write(afd, "abcd", 4) != 4)
			die("write");
	if (shutdown(afd, SHUT_WR) == -1)
		die("shutdown");
	struct pollfd p = { .fd = cfd, .events = POLLRDHUP };
	if (poll(&p, 1, 2000) != 1)
		die("poll");
	ssize_t r = read(cfd, buf, sizeof(buf));
	if (r == -1)
		die("read");
	printf("%d writes of 4 bytes, then one read() returned %zd bytes\n", n, r);
	return 0;
}

/* eintr [-r] [poll]: a socket with nothing to read; a SIGALRM handler, installed without SA_RESTART
 * (-r: with it); the alarm comes 100 ms into a blocking read() (poll: into a poll() of up to 2 s):
 * "read: -1 ENAME" or "read: N"; "poll: -1 ENAME" or "poll: N". (-r without poll would wait forever.) */
static void on_alarm(int sig)
{
	(void)sig;
}

static int cmd_eintr(int argc, char **argv)
{
	int restart = argc > 1 && strcmp(argv[1], "-r") == 0;
	int use_poll = argc == 2 + restart && strcmp(argv[1 + restart], "poll") == 0;
	int sv[2];
	char c;
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0 };
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	ssize_t r;

	if (argc != 1 + restart + use_poll || (restart && !use_poll))
		usage();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		die("socketpair");
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	if (use_poll) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };
		r = poll(&p, 1, 2000);
	} else {
		r = read(sv[0], &c, 1);
	}
	if (r == -1)
		printf("%s: -1 %s\n", use_poll ? "poll" : "read", strerrorname_np(errno));
	else
		printf("%s: %zd\n", use_poll ? "poll" : "read", r);
	return 0;
}

/* Lab 16 (I/O multiplexing): split, many and mux. */

/* "text" of buf[0..n) on one line, C-escaped: \n, \t, \\, \" and \xHH for other bytes. */
static void print_escaped(const char *what, const char *buf, size_t n, const char *after)
{
	printf("%s \"", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\\' || c == '"')
			printf("\\%c", c);
		else if (c < 32 || c > 126)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\" %s\n", after);
	fflush(stdout);
}

/* split HOST PORT PART...: a client that sends its message in pieces. Connect, send PART 1, print
 * "local ADDR PORT"; at each SIGUSR1 send the next PART (TCP_NODELAY: each leaves at once, a segment
 * of its own), then "sent part I"; after the last one, half-close, read to EOF and print all that
 * came back on one line: "reply "TEXT" then EOF" (C escapes: \n...); a failed read: "reply "TEXT"
 * then ENAME", exit 1. */
static int cmd_split(int argc, char **argv)
{
	static char reply[65536];
	size_t got = 0;
	int one = 1;

	if (argc < 4)
		usage();
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	int fd = connected_socket(argv[1], argv[2]);
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		die("setsockopt");
	for (int i = 3; i < argc; i++) {
		if (i > 3) {
			while (!usr1 && !stop)
				sigsuspend(&old);
			if (stop)
				return 1;
			usr1 = 0;
		}
		size_t len = strlen(argv[i]);
		if (send(fd, argv[i], len, MSG_NOSIGNAL) != (ssize_t)len)
			die("send");
		if (i == 3) {
			print_name("local", fd, 0);
		} else {
			printf("sent part %d\n", i - 2);
			fflush(stdout);
		}
	}
	if (shutdown(fd, SHUT_WR) == -1)
		die("shutdown");
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (;;) {
		ssize_t r = read(fd, reply + got, sizeof(reply) - got);
		if (r == -1 && errno == EINTR && !stop)
			continue;
		if (r == -1) {
			print_escaped("reply", reply, got, strerrorname_np(errno));
			return 1;
		}
		if (r == 0 || (got += (size_t)r) == sizeof(reply))
			break;
	}
	print_escaped("reply", reply, got, "then EOF");
	close(fd);
	return 0;
}

/* many HOST PORT N: N connections open at once, to push a server's descriptors past FD_SETSIZE.
 * The soft RLIMIT_NOFILE is raised as far as needed (within the hard limit: else "probe: setrlimit:
 * ..."). The connections open 32 at a time (fewer than a listen backlog of 64: no SYN is dropped);
 * each sends "ping I\n" and reads it back before the next 32 open. Then "N connections, each echoed
 * a line". At each SIGUSR1 every connection sends its line again and reads it back: "N connections
 * echoed again". SIGTERM closes them all. A read waits 3 s at most (SO_RCVTIMEO): "probe: read:
 * EAGAIN (...)", or "probe: connection I: ..." for an EOF or a wrong echo, exit 1. */
static void many_round(const int *fds, long from, long to)
{
	char want[32], buf[32];

	for (long i = from; i < to; i++) {
		int n = snprintf(want, sizeof(want), "ping %ld\n", i);
		if (send(fds[i], want, (size_t)n, MSG_NOSIGNAL) != n)
			die("send");
	}
	for (long i = from; i < to; i++) {
		int n = snprintf(want, sizeof(want), "ping %ld\n", i);
		for (int got = 0; got < n;) {
			ssize_t r = read(fds[i], buf + got, (size_t)(n - got));
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1)
				die("read");
			if (r == 0) {
				fprintf(stderr, "probe: connection %ld: EOF instead of its echo\n", i);
				exit(1);
			}
			got += (int)r;
		}
		if (memcmp(buf, want, (size_t)n) != 0) {
			fprintf(stderr, "probe: connection %ld: a wrong echo\n", i);
			exit(1);
		}
	}
}

static int cmd_many(int argc, char **argv)
{
	char *end;
	long n = argc == 4 ? strtol(argv[3], &end, 10) : 0;

	if (argc != 4 || *end != '\0' || n < 1 || n > 100000)
		usage();
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit");
	if (rl.rlim_cur < (rlim_t)n + 16) {
		rl.rlim_cur = (rlim_t)n + 16;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			die("setrlimit");
	}
	int *fds = calloc((size_t)n, sizeof(int));
	if (fds == NULL)
		die("calloc");
	struct timeval tv = { .tv_sec = 3 };
	for (long i = 0; i < n; i += 32) {
		long to = i + 32 < n ? i + 32 : n;
		for (long j = i; j < to; j++) {
			fds[j] = connected_socket(argv[1], argv[2]);
			if (setsockopt(fds[j], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
				die("setsockopt");
		}
		many_round(fds, i, to);
	}
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	printf("%ld connections, each echoed a line\n", n);
	fflush(stdout);
	while (!stop) {
		sigsuspend(&old);
		if (usr1 && !stop) {
			usr1 = 0;
			many_round(fds, 0, n);
			printf("%ld connections echoed again\n", n);
			fflush(stdout);
		}
	}
	for (long i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

/* The names of the bits of a poll() revents, "POLLIN|POLLHUP" ("0" for none). */
static const char *poll_bits(short r)
{
	static const struct {
		short bit;
		const char *name;
	} bits[] = { { POLLIN, "POLLIN" },       { POLLPRI, "POLLPRI" },       { POLLOUT, "POLLOUT" },
		     { POLLERR, "POLLERR" },     { POLLHUP, "POLLHUP" },       { POLLNVAL, "POLLNVAL" },
		     { POLLRDHUP, "POLLRDHUP" }, { POLLRDNORM, "POLLRDNORM" }, { POLLWRNORM, "POLLWRNORM" } };
	static char s[128];

	s[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (r & bits[i].bit) {
			if (s[0])
				strcat(s, "|");
			strcat(s, bits[i].name);
		}
	}
	return s[0] ? s : "0";
}

/* mux halfclose | closed: lab 16's questions to select() and poll(), on a loopback connection of the
 * probe's own.
 *   halfclose: the client end half-closes (shutdown SHUT_WR) and sends nothing. Then, on the server
 *     end: select() with it in readfds and exceptfds, 1 s at most: "select: N, readable" (or
 *     "exceptional", "readable exceptional", or "select: 0, nothing"); poll() with events POLLIN:
 *     "poll: N, revents POLLIN"; read() of 100 bytes: "read returned R".
 *   closed: a socket closed, its descriptor number then given to select() in readfds ("select: -1
 *     EBADF", or "select: N"), and to poll() with events POLLIN ("poll: N, revents NAMES"). */
static int cmd_mux(int argc, char **argv)
{
	char buf[100];

	if (argc != 2 || (strcmp(argv[1], "halfclose") != 0 && strcmp(argv[1], "closed") != 0))
		usage();
	int lfd = bound_socket(0, "127.0.0.1", "0");
	if (listen(lfd, 1) == -1)
		die("listen");
	int cfd = client_of(lfd);
	int sfd = accept(lfd, NULL, NULL);
	if (sfd == -1)
		die("accept");
	if (strcmp(argv[1], "closed") == 0) {
		if (close(sfd) == -1)
			die("close");
	} else if (shutdown(cfd, SHUT_WR) == -1) {
		die("shutdown");
	}
	fd_set r, e;
	FD_ZERO(&r);
	FD_ZERO(&e);
	FD_SET(sfd, &r);
	FD_SET(sfd, &e);
	struct timeval tv = { .tv_sec = 1 };
	int n = select(sfd + 1, &r, NULL, strcmp(argv[1], "closed") == 0 ? NULL : &e, &tv);
	if (n == -1)
		printf("select: -1 %s\n", strerrorname_np(errno));
	else
		printf("select: %d, %s%s%s\n", n, FD_ISSET(sfd, &r) ? "readable" : "",
		       FD_ISSET(sfd, &r) && FD_ISSET(sfd, &e) ? " " : "",
		       FD_ISSET(sfd, &e) ? "exceptional"
		       : n               ? ""
					 : "nothing");
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	n = poll(&p, 1, 1000);
	if (n == -1)
		printf("poll: -1 %s\n", strerrorname_np(errno));
	else
		printf("poll: %d, revents %s\n", n, poll_bits(p.revents));
	if (strcmp(argv[1], "halfclose") == 0) {
		ssize_t rd = read(sfd, buf, sizeof(buf));
		if (rd == -1)
			die("read");
		printf("read returned %zd\n", rd);
	}
	return 0;
}

static int cmd_send(int argc, char **argv); /* at the end of this file */

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	if (argc < 2)
		usage();
	pieces_init();
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
	if (strcmp(cmd, "finrst") == 0)
		return cmd_finrst(argc, argv);
	if (strcmp(cmd, "nbconnect") == 0)
		return cmd_nbconnect(argc, argv);
	if (strcmp(cmd, "reserve") == 0)
		return cmd_reserve(argc, argv);
	if (strcmp(cmd, "timewait") == 0)
		return cmd_timewait(argc, argv);
	if (strcmp(cmd, "stream") == 0)
		return cmd_stream(argc, argv);
	if (strcmp(cmd, "echo") == 0)
		return cmd_echo(argc, argv);
	if (strcmp(cmd, "reset") == 0 || strcmp(cmd, "rst") == 0)
		return cmd_reset(argc, argv);
	if (strcmp(cmd, "await") == 0)
		return cmd_await(argc, argv);
	if (strcmp(cmd, "sockinfo") == 0 && argc == 3)
		return cmd_sockinfo(argv[1], argv[2]);
	if (strcmp(cmd, "gai") == 0)
		return cmd_gai(argc, argv);
	if (strcmp(cmd, "unix") == 0)
		return cmd_unix(argc, argv);
	if (strcmp(cmd, "try") == 0)
		return cmd_try(argc, argv);
	if (strcmp(cmd, "afterclose") == 0)
		return cmd_afterclose(argc, argv);
	if (strcmp(cmd, "pieces") == 0 && argc == 2)
		return cmd_pieces(argv[1]);
	if (strcmp(cmd, "eintr") == 0)
		return cmd_eintr(argc, argv);
	if (strcmp(cmd, "send") == 0)
		return cmd_send(argc, argv);
	if (strcmp(cmd, "split") == 0)
		return cmd_split(argc, argv);
	if (strcmp(cmd, "many") == 0)
		return cmd_many(argc, argv);
	if (strcmp(cmd, "mux") == 0)
		return cmd_mux(argc, argv);
	usage();
}

/* probe send [-R] ADDR PORT TEXT: accept one client ("peer ADDR PORT"), send it TEXT (in pieces with
 * PROBE_PIECES), read nothing, then close: "sent N bytes, then FIN". -R: close with SO_LINGER {1, 0}
 * instead, so the client gets an RST ("sent N bytes, then RST"): with an empty TEXT, a peer that
 * resets before it says anything. */
static int cmd_send(int argc, char **argv)
{
	int rst = argc == 5 && strcmp(argv[1], "-R") == 0;

	if (argc != 4 + rst)
		usage();
	int lfd, cfd = accept_one(argv[1 + rst], argv[2 + rst], &lfd);
	const char *text = argv[3 + rst];
	reply_write(cfd, text, strlen(text));
	if (rst) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		if (setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
			die("setsockopt");
	}
	close(cfd);
	close(lfd);
	printf("sent %zu bytes, then %s\n", strlen(text), rst ? "RST" : "FIN");
	return 0;
}
