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
 *        probe udp echo|send|flood|reserve|try ...  UDP datagrams for lab 13 (see cmd_udp at the end)
 *        probe framed send|serve|reads|bytes ...   lab 14's messages on a byte stream: sends messages cut
 *                                      into write()s at chosen places, each write read by the peer before
 *                                      the next (the kernel says so: sock_diag), checks the answers; or
 *                                      serves a client, showing its bytes on the wire (see the block at
 *                                      the end of this file)
 *        probe fork share|leak N|zombie|burst N|accept [-r]
 *                                      lab 15's experiments with fork() and SIGCHLD (see cmd_fork at the end)
 *        probe idle [-k IDLE,INTVL,CNT] HOST PORT
 *                                      connect, print "local ADDR PORT", then wait (ppoll) reading; with -k
 *                                      keepalive on (TCP_KEEPIDLE/INTVL/CNT); on SIGUSR1 send "ping\n". Ends
 *                                      with "read: 0 (EOF) after T ms", "read: ENAME after T ms" or "send:
 *                                      ENAME after T ms", T counted from the connect, exit 0 (lab 18)
 *        probe split HOST PORT PART...  (lab 16) send PART 1, "local ADDR PORT"; each SIGUSR1 sends the next
 *                                      PART; after the last, half-close, read to EOF: "reply "TEXT" then EOF"
 *        probe many HOST PORT N        (lab 16) N connections at once (RLIMIT_NOFILE raised), each echoes
 *                                      "ping I": "N connections, each echoed a line"; SIGUSR1: all again
 *        probe mux halfclose|closed    (lab 16) select(), poll() and read() on a half-closed connection, or
 *                                      select() and poll() given a closed descriptor
 *        probe evloop idle|slow|drip|burst|try ...
 *                                      lab 17's peers (idle connections, a slow reader, a slowloris, a
 *                                      burst in one send) and epoll experiments (see cmd_evloop at the end)
 *        probe opts answer|sink|write|conns|blocked|try ...
 *                                      lab 19's peers and experiments with socket options (see cmd_opts
 *                                      at the end)
 *        PROBE_PIECES=N[/MS] (environment): serve, drain, echo and unix serve send each reply N bytes at
 *                                      a time, MS ms apart (default 30, at most 200; after 64 pauses the
 *                                      rest at once): a client that reads a reply once gets only a piece
 *
 * Errors are reported like the labs': "probe: CALL: ENAME (text)", exit 1; usage errors exit 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
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
	      "       | udp echo|send|flood|reserve|try ... (lab 13: see cmd_udp at the end)\n"
	      "       | framed send [-l] [-x SPLIT] [-k] [-t MS] HOST PORT ITEM... | framed reads | framed bytes\n"
	      "       | framed serve [-l] [-x SPLIT] [-a HEX] ADDR PORT\n"
	      "       | fork share | fork leak N | fork zombie | fork burst N | fork accept [-r]\n"
	      "       | idle [-k IDLE,INTVL,CNT] HOST PORT (lab 18: see cmd_idle at the end)\n"
	      "       | split HOST PORT PART... | many HOST PORT N | mux halfclose|closed\n"
	      "       | evloop idle|slow|drip|burst|try ... (lab 17: see cmd_evloop at the end)\n"
	      "       | opts answer|sink|write|conns|blocked|try ... (lab 19: see cmd_opts at the end)\n",
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
		if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host)) == NULL)
			die("inet_ntop");
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
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1)
		die("sigprocmask");
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
	if (sigprocmask(SIG_BLOCK, &usr1, NULL) == -1)
		die("sigprocmask");
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
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction");
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1)
		die("sigprocmask");
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
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1)
		die("sigprocmask");
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
	if (signal(SIGPIPE, keep ? SIG_DFL : SIG_IGN) == SIG_ERR)
		die("signal");
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
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		die("sigaction");
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
static int cmd_udp(int argc, char **argv); /* lab 13, at the end of this file */
static int cmd_framed(int argc, char **argv); /* lab 14's, at the very end */
static int cmd_evloop(int argc, char **argv); /* lab 17, at the end of this file */
static int cmd_fork(int argc, char **argv); /* lab 15, at the end of this file */
static int cmd_idle(int argc, char **argv); /* lab 18, at the end of this file */
static int cmd_opts(int argc, char **argv); /* lab 19, at the end of this file */

/* The modes whose handler takes fixed arguments, adapted to the table's one form. */
static int mode_layout(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		usage();
	return cmd_layout();
}

static int mode_families(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		usage();
	return cmd_families();
}

static int mode_in(int argc, char **argv)
{
	if (argc != 3)
		usage();
	return cmd_bytes(strcmp(argv[0], "in6") == 0 ? AF_INET6 : AF_INET, argv[1], argv[2]);
}

static int mode_bind(int argc, char **argv)
{
	int reuse = argc == 4 && strcmp(argv[1], "-r") == 0;

	if ((argc != 3 && argc != 4) || (argc == 4 && !reuse))
		usage();
	print_name("bound", bound_socket(reuse, argv[argc - 2], argv[argc - 1]), 0);
	return 0;
}

static int mode_one(int argc, char **argv)
{
	return cmd_one(strcmp(argv[0], "drain") == 0, argc, argv);
}

static int mode_sockinfo(int argc, char **argv)
{
	if (argc != 3)
		usage();
	return cmd_sockinfo(argv[1], argv[2]);
}

static int mode_pieces(int argc, char **argv)
{
	if (argc != 2)
		usage();
	return cmd_pieces(argv[1]);
}

/* Every mode of the probe: its name on the command line, and the function that runs it with the
 * mode's arguments (argv[0] is the mode's name). */
static const struct mode {
	const char *name;
	int (*run)(int argc, char **argv);
} modes[] = {
	{ "layout", mode_layout },
	{ "families", mode_families },
	{ "in", mode_in },
	{ "in6", mode_in },
	{ "bind", mode_bind },
	{ "listen", cmd_listen },
	{ "serve", cmd_serve },
	{ "connect", cmd_connect },
	{ "hold", cmd_hold },
	{ "drain", mode_one },
	{ "close", mode_one },
	{ "finrst", cmd_finrst },
	{ "nbconnect", cmd_nbconnect },
	{ "reserve", cmd_reserve },
	{ "timewait", cmd_timewait },
	{ "stream", cmd_stream },
	{ "echo", cmd_echo },
	{ "reset", cmd_reset },
	{ "rst", cmd_reset },
	{ "await", cmd_await },
	{ "sockinfo", mode_sockinfo },
	{ "gai", cmd_gai },
	{ "unix", cmd_unix },
	{ "try", cmd_try },
	{ "afterclose", cmd_afterclose },
	{ "pieces", mode_pieces },
	{ "eintr", cmd_eintr },
	{ "send", cmd_send },
	{ "udp", cmd_udp },
	{ "framed", cmd_framed },
	{ "fork", cmd_fork },
	{ "idle", cmd_idle },
	{ "split", cmd_split },
	{ "many", cmd_many },
	{ "mux", cmd_mux },
	{ "evloop", cmd_evloop },
	{ "opts", cmd_opts },
};

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };

	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");
	if (argc < 2)
		usage();
	pieces_init();
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].run(argc - 1, argv + 1);
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

/* probe udp ... (lab 13): UDP datagrams. Every sub-command takes numeric addresses (IPv4 or IPv6).
 *   echo [-o] ADDR PORT      bind, print "listening ADDR PORT"; for each datagram print "got N bytes
 *                            from ADDR PORT" and send it back to its sender; -o: the replies leave from
 *                            a second socket (printed second: "replies from ADDR PORT"), as a reply from
 *                            a stranger would. Until SIGTERM.
 *   send [-w MS] HOST PORT DGRAM...  from one unconnected socket (printed first: "local ADDR PORT"),
 *                            send each DGRAM as one datagram ("@N": N filler bytes, "" an empty one):
 *                            "sent N bytes"; with -w, then print each reply ("reply N bytes from ADDR
 *                            PORT: TEXT", TEXT shown up to 64 bytes, dots for unprintable bytes) until
 *                            there is one per datagram sent, or none came for MS ms
 *   flood HOST PORT COUNT SIZE  send COUNT datagrams of SIZE bytes (>= 16) as fast as it can, each
 *                            starting "seq K " (K = 1..COUNT): "sent COUNT datagrams of SIZE bytes"
 *   reserve ADDR PORT        hold a UDP port where nobody listens: bind, then connect to itself, so that
 *                            no datagram from anyone else matches (the kernel answers those with ICMP
 *                            port unreachable): "reserved ADDR PORT", until SIGTERM
 *   try three                3 sendto of 4 bytes to a socket of its own, then recvfrom (MSG_DONTWAIT)
 *                            until EAGAIN: "3 sendto of 4 bytes, then R recvfrom returned data: 4 4 4"
 *   try trunc                a 100-byte datagram, then recvfrom with a 10-byte buffer and MSG_TRUNC:
 *                            "recvfrom returned R", then "next recvfrom: ENAME" or "next recvfrom: N"
 *   try big N                sendto of one N-byte datagram to a socket of its own: "sent N bytes"
 *   try listen | try accept  listen() / accept() on a bound UDP socket: "listen returned R"
 *   try refused [-u] HOST PORT  send 5 bytes to HOST PORT (a reserved port) from a connected socket,
 *                            wait up to 1 s for an error to be queued (poll), send again:
 *                            "send 1: 5 bytes", "send 2: ...". -u: unconnected, sendto twice with 100
 *                            ms between, then recvfrom with SO_RCVTIMEO 200 ms.
 *   try rcvbuf N             "SO_RCVBUF N gives M" (setsockopt, then getsockopt)
 * Errors end the probe like everywhere: "probe: CALL: ENAME (text)", exit 1. */
static void udp_text(const char *buf, size_t n, char *out, size_t size)
{
	size_t i;

	for (i = 0; i < n && i < size - 1; i++)
		out[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.';
	out[i] = '\0';
}

/* One datagram's bytes from its argument: "@N" is N filler bytes (a..z again and again). */
static size_t udp_payload(const char *arg, char *buf, size_t size)
{
	if (arg[0] != '@') {
		size_t n = strlen(arg);
		memcpy(buf, arg, n < size ? n : size);
		return n < size ? n : size;
	}
	char *end;
	unsigned long n = strtoul(arg + 1, &end, 10);
	if (arg[1] == '\0' || *end != '\0' || n > size)
		usage();
	for (unsigned long i = 0; i < n; i++)
		buf[i] = (char)('a' + i % 26);
	return n;
}

static int udp_socket(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = make_addr(host, port, ss);
	int fd = socket(ss->ss_family, SOCK_DGRAM, 0);
	if (fd == -1)
		die("socket");
	return fd;
}

/* A UDP socket bound to the wildcard of HOST's family, port 0. */
static int udp_any(const char *host)
{
	struct sockaddr_storage ss, any;
	socklen_t len;
	int fd = udp_socket(host, "0", &ss, &len);

	memset(&any, 0, sizeof(any));
	any.ss_family = ss.ss_family;
	if (bind(fd, (struct sockaddr *)&any, len) == -1)
		die("bind");
	return fd;
}

static int cmd_udp_try(int argc, char **argv)
{
	static char buf[70000];
	struct sockaddr_storage ss;
	socklen_t len;
	const char *what = argc > 1 ? argv[1] : "";
	ssize_t r;

	if (strcmp(what, "refused") == 0 && (argc == 4 || (argc == 5 && strcmp(argv[2], "-u") == 0))) {
		int unconn = argc == 5;
		int fd = udp_socket(argv[argc - 2], argv[argc - 1], &ss, &len);
		if (!unconn && connect(fd, (struct sockaddr *)&ss, len) == -1)
			die("connect");
		for (int i = 1; i <= 2; i++) {
			r = unconn ? sendto(fd, "hello", 5, 0, (struct sockaddr *)&ss, len) : send(fd, "hello", 5, 0);
			if (r == -1)
				die(unconn ? "sendto" : "send");
			printf("send %d: %zd bytes\n", i, r);
			fflush(stdout);
			/* The ICMP error, if any comes, shows as POLLERR; an unconnected socket gets none. */
			struct pollfd p = { .fd = fd, .events = 0 };
			if (i == 1 && poll(&p, 1, unconn ? 100 : 1000) == -1)
				die("poll");
		}
		struct timeval tv = { .tv_usec = 200000 };
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
			die("setsockopt");
		if (recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL) == -1)
			die("recvfrom");
		puts("recvfrom: a datagram");
		return 0;
	}
	if (strcmp(what, "rcvbuf") == 0 && argc == 3) {
		int want = atoi(argv[2]), got;
		socklen_t glen = sizeof(got);
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd == -1)
			die("socket");
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) == -1)
			die("setsockopt");
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &glen) == -1)
			die("getsockopt");
		printf("SO_RCVBUF %d gives %d\n", want, got);
		return 0;
	}
	/* The other experiments: a socket on 127.0.0.1 that sends to itself. */
	int fd = udp_socket("127.0.0.1", "0", &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		die("bind");
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		die("getsockname");
	if (strcmp(what, "three") == 0 && argc == 2) {
		char got[64] = "";
		int k = 0;
		for (int i = 0; i < 3; i++)
			if (sendto(fd, "abcd", 4, 0, (struct sockaddr *)&ss, len) == -1)
				die("sendto");
		while (k < 10 && (r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL)) >= 0) {
			k++;
			snprintf(got + strlen(got), sizeof(got) - strlen(got), " %zd", r);
		}
		if (errno != EAGAIN)
			die("recvfrom");
		printf("3 sendto of 4 bytes, then %d recvfrom returned data:%s\n", k, got);
	} else if (strcmp(what, "trunc") == 0 && argc == 2) {
		memset(buf, 'x', 100);
		if (sendto(fd, buf, 100, 0, (struct sockaddr *)&ss, len) == -1)
			die("sendto");
		if ((r = recvfrom(fd, buf, 10, MSG_TRUNC, NULL, NULL)) == -1)
			die("recvfrom");
		printf("recvfrom returned %zd\n", r);
		r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
		if (r == -1)
			printf("next recvfrom: %s\n", strerrorname_np(errno));
		else
			printf("next recvfrom: %zd\n", r);
	} else if (strcmp(what, "big") == 0 && argc == 3) {
		long n = atol(argv[2]);
		if (n < 0 || n > (long)sizeof(buf))
			usage();
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&ss, len) == -1)
			die("sendto");
		printf("sent %ld bytes\n", n);
	} else if (strcmp(what, "listen") == 0 && argc == 2) {
		if (listen(fd, 1) == -1)
			die("listen");
		puts("listen returned 0");
	} else if (strcmp(what, "accept") == 0 && argc == 2) {
		if (accept(fd, NULL, NULL) == -1)
			die("accept");
		puts("accept returned a descriptor");
	} else {
		usage();
	}
	return 0;
}

static int cmd_udp(int argc, char **argv)
{
	static char buf[70000];
	struct sockaddr_storage ss, peer;
	socklen_t len, plen;
	char text[65];
	ssize_t r;
	const char *sub = argc > 1 ? argv[1] : "";

	argc--;
	argv++;
	if (strcmp(sub, "try") == 0)
		return cmd_udp_try(argc, argv);
	if (strcmp(sub, "echo") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[1], "-o") == 0))) {
		int fd = udp_socket(argv[argc - 2], argv[argc - 1], &ss, &len), out = fd;
		if (bind(fd, (struct sockaddr *)&ss, len) == -1)
			die("bind");
		print_name("listening", fd, 0);
		if (argc == 4) {
			out = udp_socket(argv[argc - 2], "0", &ss, &len);
			if (bind(out, (struct sockaddr *)&ss, len) == -1)
				die("bind");
			print_name("replies from", out, 0);
		}
		while (!stop) {
			plen = sizeof(peer);
			r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1)
				die("recvfrom");
			printf("got %zd bytes from %s\n", r, show(&peer));
			fflush(stdout);
			if (sendto(out, buf, (size_t)r, 0, (struct sockaddr *)&peer, plen) == -1)
				die("sendto");
		}
		return 0;
	}
	if (strcmp(sub, "send") == 0 && argc >= 3) {
		long wait_ms = -1;
		int a = 1;
		if (strcmp(argv[1], "-w") == 0 && argc >= 5) {
			wait_ms = atol(argv[2]);
			a = 3;
		}
		if (argc - a < 3)
			usage();
		int fd = udp_any(argv[a]);
		len = make_addr(argv[a], argv[a + 1], &ss);
		print_name("local", fd, 0);
		for (int i = a + 2; i < argc; i++) {
			size_t n = udp_payload(argv[i], buf, sizeof(buf));
			if (sendto(fd, buf, n, 0, (struct sockaddr *)&ss, len) == -1)
				die("sendto");
			printf("sent %zu bytes\n", n);
			fflush(stdout);
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		for (int replies = 0; wait_ms >= 0 && !stop && replies < argc - a - 2; replies++) {
			int n = poll(&p, 1, (int)wait_ms);
			if (n == -1)
				die("poll"); /* SIGTERM: EINTR, and the probe ends */
			if (n == 0)
				break;
			plen = sizeof(peer);
			if ((r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen)) == -1)
				die("recvfrom");
			udp_text(buf, (size_t)r, text, sizeof(text));
			printf("reply %zd bytes from %s: %s\n", r, show(&peer), text);
			fflush(stdout);
		}
		return 0;
	}
	if (strcmp(sub, "flood") == 0 && argc == 5) {
		long count = atol(argv[3]), size = atol(argv[4]);
		if (count < 1 || count > 100000 || size < 16 || size > 65507)
			usage();
		int fd = udp_any(argv[1]);
		len = make_addr(argv[1], argv[2], &ss);
		memset(buf, '.', (size_t)size);
		for (long k = 1; k <= count; k++) {
			int h = snprintf(buf, 16, "seq %ld ", k);
			buf[h] = '.'; /* snprintf's NUL: filler again */
			if (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&ss, len) == -1)
				die("sendto");
		}
		printf("sent %ld datagrams of %ld bytes\n", count, size);
		return 0;
	}
	if (strcmp(sub, "reserve") == 0 && argc == 3) {
		int fd = udp_socket(argv[1], argv[2], &ss, &len);
		if (bind(fd, (struct sockaddr *)&ss, len) == -1)
			die("bind");
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
			die("getsockname");
		if (connect(fd, (struct sockaddr *)&ss, len) == -1)
			die("connect");
		print_name("reserved", fd, 0);
		wait_for_term();
		return 0;
	}
	usage();
}

/* ---------------------------------------------------------------------------------------------
 * probe framed: lab 14's peer for messages on a byte stream (length-prefixed: a 4-byte length in
 * network order, then the payload; or lines with -l). Everything it needs is in this block.
 *   framed send [-l] [-x SPLIT] [-k] [-t MS] HOST PORT ITEM...
 *       connect; send the ITEMs as one byte stream: TEXT is a message (framed, or TEXT and a newline
 *       with -l), %N a message of N pattern bytes, @HEX raw bytes as they are (a bad length, half a
 *       message). SPLIT says where the stream is cut into write()s: by default one write per ITEM;
 *       "all": one write for everything (coalesced); "N[,M...]": writes of N bytes, then M..., the
 *       last size repeating ("1": a write per byte). After every write but the last, the probe waits
 *       until the kernel says the peer has received it AND read it all (sock_diag, as ss -ti: its
 *       bytes_received and an empty receive queue): so each write meets the peer's reader on its
 *       own, and a split is a split in the peer's read() calls too. Then it half-closes (not with
 *       -k), reads the answers until EOF (at most MS ms, default 3000) and checks each against its
 *       message reversed: "sent B bytes in W writes, each read by the peer before the next",
 *       "reply K: N bytes, message K reversed" (or "..., NOT message K reversed: HEX"), "R replies,
 *       then EOF" (or "then ECONNRESET", "then EOF inside a reply, after B bytes", "then nothing
 *       for MS ms"). Exit 1 if a reply is wrong or the peer did not read a write within MS ms.
 *   framed serve [-l] [-x SPLIT] [-a HEX] ADDR PORT
 *       accept one client; for each of its messages print "message K: HEX" (its bytes as they came
 *       on the wire: the length and the first payload bytes) and answer it with its payload
 *       reversed, cut by SPLIT as above (the waits are for the client's reads); -a HEX: answer the
 *       first message with these raw bytes instead ("" for none) and close. "N messages, then EOF".
 *   framed reads     the predictions' experiment on read() calls (a frame one byte per write; three
 *                    frames in one write, read with and without a buffer)
 *   framed bytes     the predictions' experiment on byte order and padding, through a connection
 * --------------------------------------------------------------------------------------------- */
struct fr_buf {
	unsigned char *p;
	size_t len, cap;
};

static void fr_put(struct fr_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *q = realloc(b->p, cap);
		if (q == NULL)
			die("realloc");
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* The payload of %N: letters that read differently backwards. */
static void fr_pattern(struct fr_buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)('a' + i % 23);
		fr_put(b, &c, 1);
	}
}

static void fr_hex(const char *s, struct fr_buf *b)
{
	for (; s[0] && s[1]; s += 2) {
		unsigned v;
		char two[3] = { s[0], s[1], 0 };
		if (sscanf(two, "%2x", &v) != 1 || !isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			usage();
		unsigned char c = (unsigned char)v;
		fr_put(b, &c, 1);
	}
	if (*s)
		usage();
}

/* Print up to max bytes of p as hex, then "... (N bytes)" if there were more. */
static void fr_show(const unsigned char *p, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++)
		printf("%s%02x", i ? " " : "", p[i]);
	if (n > max)
		printf(" ... (%zu bytes)", n);
}

/* SPLIT: all (0 sizes, all = 1), or up to 64 sizes, the last repeating. */
struct fr_split {
	int all, n;
	size_t size[64];
};

static void fr_split_parse(const char *s, struct fr_split *sp)
{
	memset(sp, 0, sizeof(*sp));
	if (strcmp(s, "all") == 0) {
		sp->all = 1;
		return;
	}
	while (*s && sp->n < 64) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 1 || v > 1 << 24 || (*end != ',' && *end != '\0'))
			usage();
		sp->size[sp->n++] = (size_t)v;
		s = *end ? end + 1 : end;
	}
	if (*s || sp->n == 0)
		usage();
}

/* The peer's end of connection fd, asked of the kernel by sock_diag (the same question ss -ti asks):
 * its TCP state, how many bytes it has received in all, how many of them wait unread in its receive
 * queue. 0, or -1 if the kernel knows no such socket (gone). */
static int fr_peer(int fd, unsigned *state, unsigned long long *received, unsigned *rqueue)
{
	static int nl = -1;
	struct sockaddr_storage me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;

	if (nl == -1 && (nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) == -1)
		die("socket(AF_NETLINK)");
	if (getsockname(fd, (struct sockaddr *)&me, &ml) == -1 || getpeername(fd, (struct sockaddr *)&peer, &pl) == -1)
		return -1;
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = (unsigned char)me.ss_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	req.r.idiag_states = ~0U;
	/* The peer's socket: its source is our destination and the other way round. */
	if (me.ss_family == AF_INET) {
		struct sockaddr_in *m = (struct sockaddr_in *)&me, *p = (struct sockaddr_in *)&peer;
		req.r.id.idiag_sport = p->sin_port;
		req.r.id.idiag_dport = m->sin_port;
		memcpy(req.r.id.idiag_src, &p->sin_addr, 4);
		memcpy(req.r.id.idiag_dst, &m->sin_addr, 4);
	} else {
		struct sockaddr_in6 *m = (struct sockaddr_in6 *)&me, *p = (struct sockaddr_in6 *)&peer;
		req.r.id.idiag_sport = p->sin6_port;
		req.r.id.idiag_dport = m->sin6_port;
		memcpy(req.r.id.idiag_src, &p->sin6_addr, 16);
		memcpy(req.r.id.idiag_dst, &m->sin6_addr, 16);
	}
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (send(nl, &req, sizeof(req), 0) == -1)
		die("send(sock_diag)");
	long buf[2048];
	ssize_t n = recv(nl, buf, sizeof(buf), 0);
	if (n == -1)
		die("recv(sock_diag)");
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return -1; /* NLMSG_ERROR: ENOENT, no such socket */
	struct inet_diag_msg *m = NLMSG_DATA(h);
	*state = m->idiag_state;
	*rqueue = m->idiag_rqueue;
	*received = 0;
	/* The attributes after it: INET_DIAG_INFO holds the kernel's struct tcp_info, which goes on
	 * past glibc's copy of it (that stops at tcpi_total_retrans); tcpi_bytes_received comes after
	 * tcpi_pacing_rate, tcpi_max_pacing_rate and tcpi_bytes_acked (three 64-bit fields): the
	 * kernel only ever appends to this structure (linux/tcp.h). */
	size_t off = offsetof(struct tcp_info, tcpi_total_retrans) + 4 + 3 * 8;
	int rem = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	struct nlattr *a = (struct nlattr *)(m + 1);
	while (rem >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= rem) {
		if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO && a->nla_len >= NLA_HDRLEN + off + 8)
			memcpy(received, (char *)a + NLA_HDRLEN + off, 8);
		rem -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return 0;
}

/* Take what has come on fd without waiting: into in; *end = 1 at EOF, or the errno of a failed read. */
static void fr_drain(int fd, struct fr_buf *in, int *end)
{
	unsigned char buf[65536];

	while (!*end) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			fr_put(in, buf, (size_t)n);
			continue;
		}
		if (n == 0)
			*end = 1;
		else if (errno != EAGAIN && errno != EINTR)
			*end = errno;
		return;
	}
}

/* Wait until the peer has received all `sent` bytes and read them (its receive queue empty), taking
 * what it sends meanwhile into in. 0: done; 1: not within ms; -1: the peer's socket is closed. */
static int fr_wait_read(int fd, unsigned long long sent, struct fr_buf *in, int *end, long ms)
{
	long until = now_ms() + ms;

	for (;;) {
		unsigned state, rq;
		unsigned long long got;
		if (fr_peer(fd, &state, &got, &rq) == -1 || (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT))
			return -1;
		if (got >= sent && rq == 0)
			return 0;
		fr_drain(fd, in, end);
		if (now_ms() > until)
			return 1;
		/* A pause of 0.1 ms, or less if the peer sends something. */
		struct pollfd p = { .fd = fd, .events = *end ? 0 : POLLIN };
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000 };
		if (ppoll(&p, 1, &ts, NULL) == -1 && errno != EINTR)
			die("ppoll");
	}
}

/* Write stream[0..len) to fd cut as sp says (cuts: the item boundaries for the default), waiting
 * after each write but the last until the peer has read it. Returns the number of writes, or minus
 * that number if the peer did not read one in time or closed (a message says which). */
static int fr_write_split(int fd, const struct fr_buf *stream, const struct fr_split *sp, const size_t *cuts, int ncuts,
			  struct fr_buf *in, int *end, long ms, unsigned long long *total)
{
	size_t off = 0;
	int w = 0, ci = 0;

	while (off < stream->len) {
		size_t n = stream->len - off;
		if (!sp->all && sp->n)
			n = sp->size[w < sp->n ? w : sp->n - 1];
		else if (!sp->all && ci < ncuts)
			n = cuts[ci++] - off;
		if (n > stream->len - off)
			n = stream->len - off;
		if (n == 0)
			continue;
		for (size_t done = 0; done < n;) {
			ssize_t k = send(fd, stream->p + off + done, n - done, MSG_NOSIGNAL);
			if (k == -1) {
				if (errno == EINTR)
					continue;
				die("send");
			}
			done += (size_t)k;
		}
		off += n;
		*total += n;
		w++;
		if (off < stream->len) {
			int r = fr_wait_read(fd, *total, in, end, ms);
			if (r != 0) {
				printf("the peer %s write %d (%llu bytes sent so far)\n",
				       r == 1 ? "did not read all of" : "closed the connection after", w, *total);
				return -w;
			}
		}
	}
	return w;
}

/* Message k of in (from *pos): framed or a line. Returns 1 and its payload [*p, *p + *n), 0 if in
 * ends before it is whole (*n: how many bytes of it there are), -1 if its length is over max. */
static int fr_next(const struct fr_buf *in, size_t *pos, int lines, const unsigned char **p, size_t *n)
{
	size_t left = in->len - *pos;
	const unsigned char *at = in->p + *pos;

	if (lines) {
		const unsigned char *nl = memchr(at, '\n', left);
		if (nl == NULL) {
			*n = left;
			return 0;
		}
		*p = at;
		*n = (size_t)(nl - at);
		*pos += *n + 1;
		return 1;
	}
	if (left < 4) {
		*n = left;
		return 0;
	}
	uint32_t len;
	memcpy(&len, at, 4);
	len = ntohl(len);
	if (len > (1u << 24)) {
		*n = len;
		return -1;
	}
	if (left - 4 < len) {
		*n = left;
		return 0;
	}
	*p = at + 4;
	*n = len;
	*pos += 4 + len;
	return 1;
}

/* Append message payload p[0..n) to b as the protocol has it: framed, or a line. */
static void fr_message(struct fr_buf *b, const void *p, size_t n, int lines)
{
	if (!lines) {
		uint32_t be = htonl((uint32_t)n);
		fr_put(b, &be, 4);
	}
	fr_put(b, p, n);
	if (lines)
		fr_put(b, "\n", 1);
}

static int fr_send(int argc, char **argv)
{
	int lines = 0, keep = 0, opt;
	long ms = 3000;
	struct fr_split sp = { 0 };

	optind = 1;
	while ((opt = getopt(argc, argv, "+lkx:t:")) != -1) {
		switch (opt) {
		case 'l': lines = 1; break;
		case 'k': keep = 1; break;
		case 'x': fr_split_parse(optarg, &sp); break;
		case 't': ms = atol(optarg); break;
		default: usage();
		}
	}
	if (argc - optind < 3 || ms < 1 || ms > 20000)
		usage();
	int fd = connected_socket(argv[optind], argv[optind + 1]);
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		die("setsockopt");
	/* The stream, the item boundaries, and each message's expected answer (its payload reversed). */
	struct fr_buf stream = { 0 }, want = { 0 }, in = { 0 };
	int nitems = argc - optind - 2, nmsg = 0;
	size_t *cuts = calloc((size_t)nitems, sizeof(size_t)), *wlen = calloc((size_t)nitems, sizeof(size_t));
	if (cuts == NULL || wlen == NULL)
		die("calloc");
	for (int i = 0; i < nitems; i++) {
		const char *it = argv[optind + 2 + i];
		struct fr_buf pay = { 0 };
		if (it[0] == '@') {
			fr_hex(it + 1, &stream);
		} else {
			if (it[0] == '%')
				fr_pattern(&pay, (size_t)atol(it + 1));
			else
				fr_put(&pay, it, strlen(it));
			if (lines && pay.len && memchr(pay.p, '\n', pay.len))
				usage();
			fr_message(&stream, pay.p, pay.len, lines);
			for (size_t j = 0; j < pay.len; j++)
				fr_put(&want, &pay.p[pay.len - 1 - j], 1);
			wlen[nmsg++] = pay.len;
			free(pay.p);
		}
		cuts[i] = stream.len;
	}
	int end = 0, bad = 0;
	unsigned long long total = 0;
	int w = fr_write_split(fd, &stream, &sp, cuts, nitems, &in, &end, ms, &total);
	if (w < 0) {
		bad = 1;
		keep = 1;
	} else if (w > 1) {
		printf("sent %llu bytes in %d writes, each read by the peer before the next\n", total, w);
	} else {
		printf("sent %llu bytes in %d write\n", total, w);
	}
	fflush(stdout);
	if (!keep && shutdown(fd, SHUT_WR) == -1)
		die("shutdown");
	/* The answers, until the peer's EOF (or a reset), at most ms. */
	long until = now_ms() + ms;
	while (!end) {
		long left = until - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0)
			break;
		int r = poll(&p, 1, (int)left);
		if (r == -1 && errno != EINTR)
			die("poll");
		if (r > 0)
			fr_drain(fd, &in, &end);
	}
	size_t pos = 0, wpos = 0, n = 0;
	const unsigned char *pl = NULL;
	int k = 0, r;
	while ((r = fr_next(&in, &pos, lines, &pl, &n)) == 1) {
		k++;
		printf("reply %d: %zu bytes, ", k, n);
		if (k > nmsg) {
			printf("but only %d messages were sent\n", nmsg);
			bad = 1;
		} else if (n == wlen[k - 1] && memcmp(pl, want.p + wpos, n) == 0) {
			printf("message %d reversed\n", k);
		} else {
			printf("NOT message %d reversed: ", k);
			fr_show(pl, n, 16);
			printf("\n");
			bad = 1;
		}
		if (k <= nmsg)
			wpos += wlen[k - 1];
	}
	printf("%d replies, then ", k);
	if (r == -1)
		printf("a reply that announces %zu bytes\n", n);
	else if (n > 0)
		printf("%s inside a %s, after %zu bytes\n", end == 1 ? "EOF" : "the end", lines ? "line" : "reply", n);
	else if (end == 1)
		printf("EOF\n");
	else if (end > 1)
		printf("%s\n", strerrorname_np(end));
	else
		printf("nothing for %ld ms\n", ms);
	free(stream.p);
	free(want.p);
	free(in.p);
	free(cuts);
	free(wlen);
	close(fd);
	return bad;
}

static int fr_serve(int argc, char **argv)
{
	int lines = 0, opt;
	const char *answer = NULL;
	struct fr_split sp = { 0 };

	optind = 1;
	while ((opt = getopt(argc, argv, "+lx:a:")) != -1) {
		switch (opt) {
		case 'l': lines = 1; break;
		case 'x': fr_split_parse(optarg, &sp); break;
		case 'a': answer = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	int lfd, fd = accept_one(argv[optind], argv[optind + 1], &lfd);
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		die("setsockopt");
	struct fr_buf in = { 0 };
	size_t pos = 0;
	int k = 0, end = 0;
	unsigned long long total = 0;
	for (;;) {
		const unsigned char *pl = NULL;
		size_t n = 0, start = pos;
		int r = fr_next(&in, &pos, lines, &pl, &n);
		if (r == -1) {
			printf("message %d announces %zu bytes: too many for the probe\n", k + 1, n);
			return 1;
		}
		if (r == 0) {
			if (end) {
				if (n)
					printf("EOF inside message %d, after %zu bytes\n", k + 1, n);
				else
					printf("%d messages, then %s\n", k, end == 1 ? "EOF" : strerrorname_np(end));
				break;
			}
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, -1) == -1 && errno != EINTR)
				die("poll");
			if (stop)
				break;
			fr_drain(fd, &in, &end);
			continue;
		}
		k++;
		printf("message %d: ", k);
		fr_show(in.p + start, pos - start, 16);
		printf("\n");
		fflush(stdout);
		struct fr_buf out = { 0 };
		if (answer != NULL) {
			fr_hex(answer, &out);
		} else {
			struct fr_buf rev = { 0 };
			for (size_t j = 0; j < n; j++)
				fr_put(&rev, &pl[n - 1 - j], 1);
			fr_message(&out, rev.p, rev.len, lines);
			free(rev.p);
		}
		size_t cut = out.len;
		if (out.len && fr_write_split(fd, &out, &sp, &cut, 1, &in, &end, 3000, &total) < 0)
			return 1;
		free(out.p);
		if (answer != NULL) {
			printf("answered message 1 with %zu raw bytes, then closed\n", strlen(answer) / 2);
			break;
		}
	}
	free(in.p);
	close(fd);
	close(lfd);
	return 0;
}

/* The predictions' experiments, on a loopback connection of the probe's own (TCP_NODELAY: each
 * write() leaves at once as a segment of its own). */
static int fr_reads(void)
{
	int lfd = bound_socket(0, "127.0.0.1", "0"), one = 1;
	if (listen(lfd, 1) == -1)
		die("listen");
	int wfd = client_of(lfd), rfd = accept(lfd, NULL, NULL);
	if (rfd == -1)
		die("accept");
	if (setsockopt(wfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		die("setsockopt");
	unsigned char frame[10] = { 0, 0, 0, 6, 'f', 'r', 'a', 'm', 'e', 's' }, got[30];
	/* One byte per write, each only once the reader's read() before it has returned (one process:
	 * the write comes after the read, so one byte at most is ever on its way). */
	int reads = 0;
	for (size_t have = 0; have < sizeof(frame); reads++) {
		if (write(wfd, frame + have, 1) != 1)
			die("write");
		ssize_t r = read(rfd, got + have, sizeof(frame) - have);
		if (r <= 0)
			die("read");
		have += (size_t)r;
	}
	printf("split: a 10-byte frame in 10 writes of 1 byte, each after the reader's last read() returned:"
	       " readn made %d read() calls\n",
	       reads);
	/* Three frames in one write; once all 30 bytes have arrived, read them as a reader would. */
	unsigned char three[30];
	for (int i = 0; i < 3; i++)
		memcpy(three + 10 * i, frame, 10);
	for (int pass = 0; pass < 2; pass++) {
		if (write(wfd, three, sizeof(three)) != (ssize_t)sizeof(three))
			die("write");
		int avail = 0;
		for (long until = now_ms() + 2000; avail < 30 && now_ms() < until;)
			if (ioctl(rfd, FIONREAD, &avail) == -1)
				die("ioctl");
		reads = 0;
		if (pass == 0) {
			/* Unbuffered readn: exactly the 4 bytes of a length, then exactly its payload. */
			for (int f = 0; f < 3; f++) {
				for (size_t want = 4, part = 0; part < 2; part++, want = 6)
					for (size_t have = 0; have < want; reads++) {
						ssize_t r = read(rfd, got + have, want - have);
						if (r <= 0)
							die("read");
						have += (size_t)r;
					}
			}
			printf("coalesced: 3 frames of 10 bytes in one write: unbuffered readn made %d read() calls\n",
			       reads);
		} else {
			/* A buffered reader: one read() of up to 4096 bytes, then frames from the buffer. */
			unsigned char buf[4096];
			size_t have = 0;
			while (have < 30) {
				ssize_t r = read(rfd, buf + have, sizeof(buf) - have);
				if (r <= 0)
					die("read");
				have += (size_t)r;
				reads++;
			}
			printf("coalesced: 3 frames of 10 bytes in one write: a buffered reader (4096 bytes) made %d "
			       "%s\n",
			       reads, reads == 1 ? "read() call" : "read() calls");
		}
	}
	return 0;
}

static int fr_bytes(void)
{
	int lfd = bound_socket(0, "127.0.0.1", "0");
	if (listen(lfd, 1) == -1)
		die("listen");
	int wfd = client_of(lfd), rfd = accept(lfd, NULL, NULL);
	if (rfd == -1)
		die("accept");
	uint32_t host = 258, net = htonl(258);
	/* The struct a program might be tempted to send as it is: padding after type (for len's
	 * alignment) and after flags (for the array of them), len in the host's byte order. Its memory
	 * is filled with 0xaa first, so that the padding shows what was there. */
	struct raw {
		uint8_t type;
		uint32_t len;
		uint16_t flags;
	} s;
	memset(&s, 0xaa, sizeof(s));
	s.type = 1;
	s.len = 258;
	s.flags = 7;
	unsigned char got[64];
	const struct {
		const char *what;
		const void *p;
		size_t n;
	} rows[] = {
		{ "length 258 with htonl", &net, 4 },
		{ "length 258 without htonl", &host, 4 },
		{ "struct { uint8_t type; uint32_t len; uint16_t flags; } sent raw", &s, sizeof(s) },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (write(wfd, rows[i].p, rows[i].n) != (ssize_t)rows[i].n)
			die("write");
		size_t have = 0;
		while (have < rows[i].n) {
			ssize_t r = read(rfd, got + have, rows[i].n - have);
			if (r <= 0)
				die("read");
			have += (size_t)r;
		}
		printf("%s: %zu bytes on the wire: ", rows[i].what, have);
		fr_show(got, have, 64);
		uint32_t be;
		memcpy(&be, i == 2 ? got + 4 : got, 4);
		printf(" (read in network order: %" PRIu32 ")\n", ntohl(be));
	}
	return 0;
}

static int cmd_framed(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "send") == 0)
		return fr_send(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return fr_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "reads") == 0 && argc == 2)
		return fr_reads();
	if (strcmp(argv[1], "bytes") == 0 && argc == 2)
		return fr_bytes();
	usage();
}

/* probe fork EXPERIMENT: lab 15's questions to the kernel about processes and their sockets.
 *   share        a connection accepted, then fork(): "after fork, N descriptors refer to the connection"
 *                (the parent's and the child's, counted in /proc/PID/fd by the socket's inode)
 *   leak N       a forking server whose parent never closes the connected socket serves N clients that
 *                all leave; each child closes both sockets: "after N clients the parent holds S sockets"
 *   zombie       a child that has exited, not waited for: "a child ended, not waited for: state C"
 *                (the state letter of /proc/PID/stat)
 *   burst N      N children exit while SIGCHLD is blocked, then it is unblocked: "N children exited while
 *                SIGCHLD was blocked: the handler ran H time(s)"
 *   accept [-r]  the parent waits in accept(); a child exits then (SIGCHLD, handler without SA_RESTART; -r:
 *                with it), and 0.1 s after that exit another child connects: "accept: -1 EINTR" or
 *                "accept: a connection"
 * Every child is collected before the probe exits. */
static volatile sig_atomic_t fork_chld;
static void fork_on_chld(int sig)
{
	(void)sig;
	fork_chld++;
}

/* How many of process pid's descriptors are the socket with inode ino. */
static int fork_count(pid_t pid, ino_t ino)
{
	char path[64], link[64], want[64];
	int n = 0;

	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)ino);
	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t r = readlink(path, link, sizeof(link) - 1);
		if (r <= 0)
			continue;
		link[r] = '\0';
		if (ino == 0 ? strncmp(link, "socket:", 7) == 0 : strcmp(link, want) == 0)
			n++;
	}
	return n;
}

/* A child that exits at once, or that does nothing until it is killed (at most 10 s). */
static pid_t fork_child(int exit_at_once)
{
	pid_t pid = fork();

	if (pid == -1)
		die("fork");
	if (pid == 0) {
		if (exit_at_once)
			_exit(0);
		for (int i = 0; i < 100; i++) /* at most 10 s */
			poll(NULL, 0, 100);
		_exit(0);
	}
	return pid;
}

/* Wait until child pid has exited, without collecting it (it stays a zombie). */
static void fork_exited(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1)
		if (errno != EINTR)
			die("waitid");
}

static void fork_reap_all(void)
{
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		continue;
}

/* Wait (at most 2 s, 1 ms at a time) until process pid is in one of the states (x: gone); with
 * in_accept, also until its wait channel names accept, where /proc shows it. */
static void fork_await(pid_t pid, const char *states, int in_accept)
{
	char path[64], buf[128];

	for (int i = 0; i < 2000; i++, poll(NULL, 0, 1)) {
		char st = 'x';
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (f != NULL) {
			if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
				st = '?';
			fclose(f);
		}
		if (strchr(states, st) == NULL)
			continue;
		if (!in_accept)
			return;
		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
		f = fopen(path, "r");
		buf[0] = '\0';
		if (f != NULL) {
			if (fgets(buf, sizeof(buf), f) == NULL)
				buf[0] = '\0';
			fclose(f);
		}
		if (buf[0] == '\0' || strcmp(buf, "0") == 0 || strstr(buf, "accept") != NULL)
			return;
	}
}

static int cmd_fork(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	int lfd = bound_socket(0, "127.0.0.1", "0");
	struct stat st;

	if (listen(lfd, 64) == -1)
		die("listen");
	if (strcmp(what, "share") == 0 && argc == 2) {
		int cl = client_of(lfd), cfd = accept(lfd, NULL, NULL);
		if (cfd == -1)
			die("accept");
		if (fstat(cfd, &st) == -1)
			die("fstat");
		pid_t pid = fork_child(0);
		int mine = fork_count(getpid(), st.st_ino), its = fork_count(pid, st.st_ino);
		printf("after fork, %d descriptors refer to the connection (parent %d, child %d)\n", mine + its, mine,
		       its);
		kill(pid, SIGKILL);
		fork_reap_all();
		close(cl);
		return 0;
	}
	if (strcmp(what, "leak") == 0 && argc == 3) {
		int n = atoi(argv[2]);
		if (n < 1 || n > 50)
			usage();
		for (int i = 0; i < n; i++) {
			int cl = client_of(lfd), cfd = accept(lfd, NULL, NULL);
			if (cfd == -1)
				die("accept");
			pid_t pid = fork();
			if (pid == -1)
				die("fork");
			if (pid == 0) {
				close(lfd);
				close(cfd);
				_exit(0);
			}
			close(cl); /* the client leaves; the parent forgets close(cfd) */
		}
		fork_reap_all();
		printf("after %d clients the parent holds %d sockets\n", n, fork_count(getpid(), 0));
		return 0;
	}
	if (strcmp(what, "zombie") == 0 && argc == 2) {
		pid_t pid = fork_child(1);
		char path[64], state = '?';
		fork_exited(pid);
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (f == NULL || fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			die("fopen /proc/PID/stat");
		fclose(f);
		printf("a child ended, not waited for: state %c\n", state);
		fork_reap_all();
		return 0;
	}
	if (strcmp(what, "burst") == 0 && argc == 3) {
		int n = atoi(argv[2]);
		pid_t pids[50];
		sigset_t set;
		struct sigaction sa = { .sa_handler = fork_on_chld };
		if (n < 1 || n > 50)
			usage();
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		if (sigaction(SIGCHLD, &sa, NULL) == -1)
			die("sigaction");
		if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
			die("sigprocmask");
		for (int i = 0; i < n; i++)
			pids[i] = fork_child(1);
		for (int i = 0; i < n; i++)
			fork_exited(pids[i]);
		if (sigprocmask(SIG_UNBLOCK, &set, NULL) == -1) /* the pending signal is handled here */
			die("sigprocmask");
		printf("%d children exited while SIGCHLD was blocked: the handler ran %d time(s)\n", n, (int)fork_chld);
		fork_reap_all();
		return 0;
	}
	if (strcmp(what, "accept") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "-r") == 0))) {
		struct sigaction sa = { .sa_handler = fork_on_chld, .sa_flags = argc == 3 ? SA_RESTART : 0 };
		if (sigaction(SIGCHLD, &sa, NULL) == -1)
			die("sigaction");
		pid_t parent = getpid(), early = fork();
		if (early == 0) { /* exits once the parent waits in accept() */
			fork_await(parent, "S", 1);
			_exit(0);
		}
		pid_t late = fork();
		if (late == 0) { /* connects once the early child has ended and the handler has run */
			fork_await(early, "Zx", 0);
			poll(NULL, 0, 100);
			int fd = client_of(lfd);
			for (int i = 0; i < 100; i++) /* and no second SIGCHLD until it is killed */
				poll(NULL, 0, 100);
			close(fd);
			_exit(0);
		}
		if (early == -1 || late == -1)
			die("fork");
		int cfd = accept(lfd, NULL, NULL);
		if (cfd == -1)
			printf("accept: -1 %s (SIGCHLD handled %d time(s))\n", strerrorname_np(errno), (int)fork_chld);
		else
			printf("accept: a connection (SIGCHLD handled %d time(s) while it waited)\n", (int)fork_chld);
		kill(late, SIGKILL);
		fork_reap_all();
		return 0;
	}
	usage();
}

/* probe idle [-k IDLE,INTVL,CNT] HOST PORT (lab 18): an idle client, for the experiments on dead
 * peers. Connect ("local ADDR PORT"), with -k turn keepalive on with those timers, then wait for the
 * peer reading whatever it sends. SIGUSR1 makes it send "ping\n" (to reach a peer that rebooted).
 * The end, T ms after the connect: "read: 0 (EOF) after T ms", "read: ENAME after T ms" (ETIMEDOUT
 * when keepalive gave up, ECONNRESET from a peer that forgot us), or "send: ENAME after T ms". */
static volatile sig_atomic_t idle_ping;
static void idle_on_usr1(int sig)
{
	(void)sig;
	idle_ping = 1;
}

static int cmd_idle(int argc, char **argv)
{
	int ka[3], k = argc == 5 && strcmp(argv[1], "-k") == 0;
	struct sigaction sa = { .sa_handler = idle_on_usr1 };
	sigset_t block, during;
	char buf[4096];

	if (argc != 3 + 2 * k || (k && sscanf(argv[2], "%d,%d,%d", &ka[0], &ka[1], &ka[2]) != 3))
		usage();
	/* SIGUSR1 is let in only while waiting in ppoll(): one that comes early is not lost. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &block, &during) == -1 || sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction");
	sigdelset(&during, SIGUSR1);
	int fd = connected_socket(argv[argc - 2], argv[argc - 1]);
	long t0 = now_ms();
	if (k) {
		int on = 1;
		if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &ka[0], sizeof(int)) == -1 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &ka[1], sizeof(int)) == -1 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &ka[2], sizeof(int)) == -1)
			die("setsockopt");
	}
	print_name("local", fd, 0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = ppoll(&p, 1, NULL, &during);
		if (r == -1 && errno != EINTR)
			die("ppoll");
		if (idle_ping) {
			idle_ping = 0;
			if (send(fd, "ping\n", 5, MSG_NOSIGNAL) == -1) {
				printf("send: %s after %ld ms\n", strerrorname_np(errno), now_ms() - t0);
				return 0;
			}
		}
		if (r <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0 || n == -1) {
			printf("read: %s after %ld ms\n", n == 0 ? "0 (EOF)" : strerrorname_np(errno), now_ms() - t0);
			return 0;
		}
	}
}

/* probe evloop ...: the peers of lab 17 (an epoll server) and its experiments. One block:
 *   idle HOST PORT N        open N connections (raising RLIMIT_NOFILE's soft limit within the hard
 *                           one if N needs it), print "holding N connections", keep them until SIGTERM
 *   slow HOST PORT MAX      a client that stops reading: connect, print "local ADDR PORT", send a pattern
 *                           for as long as the socket takes it (at most MAX bytes: then it says "sent all
 *                           MAX bytes without being made to wait") and read nothing. SIGUSR1: half-close,
 *                           read all to EOF and check it: "sent N bytes, received R bytes, then EOF"
 *                           (exit 1 if it differs or ends short). SIGTERM: close with the echo unread
 *                           (its kernel sends an RST)
 *   drip HOST PORT MS       a slowloris: connect, print "local ADDR PORT", send one byte (never a newline)
 *                           every MS ms and read what comes back, until SIGTERM
 *   burst HOST PORT BYTES MS  connect, send BYTES bytes in one send(), then read the echo for at most MS
 *                           ms: "sent B bytes in one send(), received R back" (exit 1 if R < B)
 *   try nonblock-read | lt | et | rdhup
 *                           on a loopback connection of its own: read() on a non-blocking socket with
 *                           nothing to read ("read: -1 EAGAIN"); 100 bytes arrive and are not read,
 *                           epoll_wait three times, level- or edge-triggered ("reported 3 times in 3
 *                           calls"); the peer half-closes ("events: EPOLLIN EPOLLRDHUP") */
static volatile sig_atomic_t evl_usr1;
static void evl_on_usr1(int sig)
{
	(void)sig;
	evl_usr1 = 1;
}

/* The slow reader's bytes: a function of the position, so that the echo can be checked. */
static unsigned char evl_byte(unsigned long long i)
{
	return (unsigned char)(((i * 2654435761u) >> 13) ^ (i >> 20));
}

static void evl_fill(unsigned char *buf, size_t n, unsigned long long from)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = evl_byte(from + i);
}

/* Read fd to EOF, checking the pattern: returns the number of bytes (exit 1 at the first wrong one). */
static unsigned long long evl_read_all(int fd)
{
	unsigned char buf[65536];
	unsigned long long got = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != evl_byte(got + (unsigned long long)i)) {
				printf("the echo differs from what was sent at byte %llu\n",
				       got + (unsigned long long)i);
				exit(1);
			}
		got += (unsigned long long)r;
	}
	return got;
}

/* slow HOST PORT MAX: send (at most MAX bytes) while the socket takes them, read nothing. SIGUSR1:
 * half-close, read everything to EOF. SIGTERM: close with the echo unread (the kernel sends an RST). */
static int evl_slow(int argc, char **argv)
{
	unsigned char buf[65536];
	const int i = 2;
	sigset_t block, old;
	struct sigaction sa = { .sa_handler = evl_on_usr1 };

	if (argc != 5)
		usage();
	unsigned long long sent = 0, max = strtoull(argv[i + 2], NULL, 10);
	if (max == 0)
		usage();
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1 || sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction");
	int fd = connected_socket(argv[i], argv[i + 1]);
	print_name("local", fd, 0);
	fflush(stdout);
	while (!evl_usr1) {
		/* SIGTERM: close with the echo unread, which resets the connection. */
		if (stop) {
			close(fd);
			printf("closed with the echo unread after sending %llu bytes\n", sent);
			return 0;
		}
		/* Signals come in only while waiting here: none is lost between the checks. */
		struct pollfd p = { .fd = fd, .events = sent < max ? POLLOUT : 0 };
		if (ppoll(&p, 1, NULL, &old) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p.revents & (POLLHUP | POLLERR)) {
			printf("the server closed or reset the connection after %llu bytes\n", sent);
			return 1;
		}
		if (!(p.revents & POLLOUT))
			continue;
		size_t n = max - sent < sizeof(buf) ? (size_t)(max - sent) : sizeof(buf);
		evl_fill(buf, n, sent);
		ssize_t w = send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == -1 && errno != EAGAIN && errno != EINTR)
			die("send");
		sent += w > 0 ? (unsigned long long)w : 0;
		if (sent == max) {
			printf("sent all %llu bytes without being made to wait: the server read them all\n", sent);
			fflush(stdout);
		}
	}
	if (shutdown(fd, SHUT_WR) == -1)
		die("shutdown");
	if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
		die("sigprocmask");
	unsigned long long got = evl_read_all(fd);
	printf("sent %llu bytes, received %llu bytes, then EOF\n", sent, got);
	return got == sent ? 0 : 1;
}

static int evl_drip(const char *host, const char *port, long ms)
{
	char buf[4096];
	unsigned long long sent = 0, got = 0;
	int fd = connected_socket(host, port);

	print_name("local", fd, 0);
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)ms);
		if (r == -1 && errno != EINTR)
			die("poll");
		if (r == 0) {
			if (send(fd, "x", 1, MSG_NOSIGNAL) == -1)
				die("send");
			sent++;
		} else if (r == 1) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n == -1)
				die("read");
			if (n == 0)
				break;
			got += (unsigned long long)n;
		}
	}
	printf("dripped %llu bytes, %llu came back\n", sent, got);
	return 0;
}

static int evl_burst(const char *host, const char *port, const char *bytes_s, const char *ms_s)
{
	size_t bytes = strtoul(bytes_s, NULL, 10);
	long ms = atol(ms_s);
	unsigned char *buf = malloc(bytes ? bytes : 1);

	if (buf == NULL || bytes == 0 || ms <= 0)
		usage();
	evl_fill(buf, bytes, 0);
	int fd = connected_socket(host, port);
	ssize_t w = send(fd, buf, bytes, MSG_NOSIGNAL);
	if (w == -1)
		die("send");
	size_t got = 0;
	long end = now_ms() + ms;
	while (got < bytes && now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)(end - now_ms() > 0 ? end - now_ms() : 0));
		if (r == -1 && errno != EINTR)
			die("poll");
		if (r != 1)
			continue;
		ssize_t n = read(fd, buf, bytes - got);
		if (n == -1)
			die("read");
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != evl_byte(got + (size_t)i)) {
				printf("the echo differs from what was sent at byte %zu\n", got + (size_t)i);
				return 1;
			}
		got += (size_t)n;
	}
	printf("sent %zd bytes in one send(), received %zu back\n", w, got);
	return got == bytes ? 0 : 1;
}

/* A loopback connection of the probe's own: *a and *b are its two ends. */
static void evl_pair(int *a, int *b)
{
	int lfd = bound_socket(0, "127.0.0.1", "0");

	if (listen(lfd, 1) == -1)
		die("listen");
	*a = client_of(lfd);
	*b = accept(lfd, NULL, NULL);
	if (*b == -1)
		die("accept");
	close(lfd);
}

static int evl_try(const char *what)
{
	int a, b;

	evl_pair(&a, &b);
	if (strcmp(what, "nonblock-read") == 0) {
		char c;
		int fl = fcntl(b, F_GETFL);
		if (fl == -1 || fcntl(b, F_SETFL, fl | O_NONBLOCK) == -1)
			die("fcntl");
		ssize_t r = read(b, &c, 1);
		if (r == -1)
			printf("read: -1 %s\n", strerrorname_np(errno));
		else
			printf("read: %zd\n", r);
		return 0;
	}
	int ep = epoll_create1(0);
	if (ep == -1)
		die("epoll_create1");
	int et = strcmp(what, "et") == 0, rdhup = strcmp(what, "rdhup") == 0;
	if (!et && !rdhup && strcmp(what, "lt") != 0)
		usage();
	struct epoll_event e = { .events = EPOLLIN | (et ? EPOLLET : 0) | (rdhup ? EPOLLRDHUP : 0u) };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, b, &e) == -1)
		die("epoll_ctl");
	if (rdhup) {
		if (shutdown(a, SHUT_WR) == -1)
			die("shutdown");
		if (epoll_wait(ep, &e, 1, 2000) != 1)
			die("epoll_wait");
		printf("events:%s%s%s%s%s\n", e.events & EPOLLIN ? " EPOLLIN" : "",
		       e.events & EPOLLOUT ? " EPOLLOUT" : "", e.events & EPOLLRDHUP ? " EPOLLRDHUP" : "",
		       e.events & EPOLLHUP ? " EPOLLHUP" : "", e.events & EPOLLERR ? " EPOLLERR" : "");
		return 0;
	}
	char data[100] = { 0 };
	if (write(a, data, sizeof(data)) != (ssize_t)sizeof(data))
		die("write");
	/* The first wait may take until the bytes are there; the next two only 20 ms each. */
	int count = 0;
	for (int i = 0; i < 3; i++) {
		int r = epoll_wait(ep, &e, 1, i == 0 ? 2000 : 20);
		if (r == -1)
			die("epoll_wait");
		count += r;
	}
	printf("%s-triggered: 100 bytes waiting, never read: epoll_wait reported the socket %d time%s in 3 calls\n",
	       et ? "edge" : "level", count, count == 1 ? "" : "s");
	return 0;
}

static int cmd_evloop(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "idle") == 0) {
		long n = atol(argv[4]);
		struct rlimit rl;
		if (n < 1 || n > 100000)
			usage();
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			die("getrlimit");
		if (rl.rlim_cur < (rlim_t)n + 16) {
			rl.rlim_cur = (rlim_t)n + 16;
			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				die("setrlimit");
		}
		for (long i = 0; i < n; i++)
			connected_socket(argv[2], argv[3]);
		printf("holding %ld connections\n", n);
		fflush(stdout);
		wait_for_term();
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "slow") == 0)
		return evl_slow(argc, argv);
	if (argc == 5 && strcmp(argv[1], "drip") == 0 && atol(argv[4]) > 0)
		return evl_drip(argv[2], argv[3], atol(argv[4]));
	if (argc == 6 && strcmp(argv[1], "burst") == 0)
		return evl_burst(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 3 && strcmp(argv[1], "try") == 0)
		return evl_try(argv[2]);
	usage();
}

/* ---- lab 19: socket options on the wire ----
 * probe opts answer [-e N|-r N|-L] ADDR PORT
 *                               accept one client ("peer ADDR PORT"); read requests, each a line;
 *                               when a request is whole, answer "pong\n" (PROBE_PIECES applies) and print
 *                               "request K: N bytes in R reads, whole after U us" (U: from its first byte
 *                               to its newline, as this side's reads saw them); at EOF "EOF after K
 *                               requests, median U us". After N answers, -e half-closes instead of
 *                               answering (and reads on to EOF), -r resets the connection; -L answers
 *                               every request with a line of 100 bytes
 * probe opts sink [-r BYTES] [-g] ADDR PORT
 *                               SO_RCVBUF BYTES on the listener (-r), accept one client ("peer ADDR
 *                               PORT"), read nothing until SIGUSR1 (-g: read at once), then read to the
 *                               end (with SO_RCVBUF 1 MiB from then on): "read N bytes, then EOF" or
 *                               "read N bytes, then ENAME" (exit 1)
 * probe opts write [-s SNDBUF] HOST PORT BYTES
 *                               connect ("local ADDR PORT"; -s: SO_SNDBUF first), write BYTES bytes
 *                               blocking, "wrote N bytes", close
 * probe opts conns N HOST PORT  N connections one after the other, each "local ADDR PORT" then closed
 * probe opts blocked PID        where PID is: "state S in sendto, wchan NAME" (the system call by name
 *                               among the write family, else "call N"), or "state R running"
 * probe opts try nagle [-n]     3 rounds of write("ping "), write("K\n"), read the answer, on a
 *                               loopback connection of its own (-n: TCP_NODELAY): "median round U us"
 * probe opts try reuseport      a listener with SO_REUSEPORT on 127.0.0.1:P, then bind P without it:
 *                               "bind: ENAME" or "bind: OK"
 * probe opts try rcvbuf N       SO_RCVBUF N on a TCP socket: "SO_RCVBUF N gives M" (getsockopt) */
static long long opts_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int opts_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Answer requests on cfd until EOF; quiet: print only the median. Returns the median gap (us). */
/* How the answering peer misbehaves (probe opts answer -e N / -r N / -L): after opts_after answers,
 * 'e' half-closes instead of answering (and reads on to EOF), 'r' resets the connection; 'L' answers
 * every request with a line of 100 bytes. */
static int opts_mode, opts_after;

static long long opts_answer(int cfd, int quiet)
{
	char buf[4096];
	long long first = 0, gaps[1000];
	int k = 0, reads = 0;
	size_t have = 0;

	for (;;) {
		ssize_t n = read(cfd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR && !stop)
			continue;
		if (n == -1)
			die("read");
		if (n == 0)
			break;
		if (have == 0)
			first = opts_us();
		have += (size_t)n;
		reads++;
		if (buf[n - 1] != '\n')
			continue;
		long long gap = opts_us() - first;
		if (opts_mode == 'e' && k == opts_after) {
			if (shutdown(cfd, SHUT_WR) == -1)
				die("shutdown");
			printf("request %d: half-closed instead of answering\n", k + 1);
			fflush(stdout);
			opts_mode = 0;
			k++;
			have = 0;
			continue;
		}
		if (opts_mode == 'r' && k == opts_after) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			if (setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1 || close(cfd) == -1)
				die("close");
			printf("request %d: reset instead of answering\n", k + 1);
			exit(0);
		}
		if (opts_mode == 'L') {
			char line[101];
			memset(line, 'z', 100);
			line[100] = '\n';
			reply_write(cfd, line, sizeof(line));
		} else {
			reply_write(cfd, "pong\n", 5);
		}
		if (k < 1000)
			gaps[k] = gap;
		k++;
		if (!quiet)
			printf("request %d: %zu bytes in %d reads, whole after %lld us\n", k, have, reads, gap);
		have = 0;
		reads = 0;
	}
	if (k > 1000)
		k = 1000;
	qsort(gaps, (size_t)k, sizeof(gaps[0]), opts_cmp);
	long long med = k ? gaps[(k - 1) / 2] : 0;
	if (!quiet)
		printf("EOF after %d requests, median %lld us\n", k, med);
	return med;
}

static int cmd_opts_try(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	int one = 1;

	if (strcmp(what, "nagle") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "-n") == 0))) {
		int lfd = bound_socket(0, "127.0.0.1", "0");
		if (listen(lfd, 1) == -1)
			die("listen");
		int fd = client_of(lfd), cfd = accept(lfd, NULL, NULL);
		if (cfd == -1)
			die("accept");
		pid_t pid = fork();
		if (pid == -1)
			die("fork");
		if (pid == 0) {
			close(fd);
			opts_answer(cfd, 1);
			_exit(0);
		}
		close(cfd);
		if (argc == 3 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
			die("setsockopt");
		long long took[3];
		for (int k = 0; k < 3; k++) {
			char line[16], c = 0;
			int hl = snprintf(line, sizeof(line), "%d\n", k + 1);
			long long t0 = opts_us();
			if (write(fd, "ping ", 5) != 5 || write(fd, line, (size_t)hl) != hl)
				die("write");
			while (c != '\n') {
				ssize_t n = read(fd, &c, 1);
				if (n != 1)
					die("read");
			}
			took[k] = opts_us() - t0;
		}
		close(fd);
		waitpid(pid, NULL, 0);
		qsort(took, 3, sizeof(took[0]), opts_cmp);
		printf("median round %lld us (TCP_NODELAY %s)\n", took[1], argc == 3 ? "on" : "off");
		return 0;
	}
	if (strcmp(what, "reuseport") == 0 && argc == 2) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);
		int lfd = socket(AF_INET, SOCK_STREAM, 0), fd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd == -1 || fd == -1)
			die("socket");
		if (setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)
			die("setsockopt");
		if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(lfd, 1) == -1 ||
		    getsockname(lfd, (struct sockaddr *)&a, &len) == -1)
			die("bind");
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1)
			printf("bind: %s\n", strerrorname_np(errno));
		else
			printf("bind: OK\n");
		return 0;
	}
	if (strcmp(what, "rcvbuf") == 0 && argc == 3) {
		int v = atoi(argv[2]), got;
		socklen_t len = sizeof(got);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd == -1)
			die("socket");
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == -1)
			die("setsockopt");
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == -1)
			die("getsockopt");
		printf("SO_RCVBUF %d gives %d\n", v, got);
		return 0;
	}
	usage();
}

/* The name of a system call of the write family (or read), from its number on this machine. */
static const char *opts_call(long nr)
{
	static const struct {
		long nr;
		const char *name;
	} calls[] = {
		{ SYS_write, "write" },     { SYS_writev, "writev" }, { SYS_sendto, "sendto" },
		{ SYS_sendmsg, "sendmsg" }, { SYS_read, "read" },     { SYS_recvfrom, "recvfrom" },
	};
	static char other[32];
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		if (calls[i].nr == nr)
			return calls[i].name;
	snprintf(other, sizeof(other), "call %ld", nr);
	return other;
}

static int cmd_opts(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (strcmp(what, "try") == 0)
		return cmd_opts_try(argc - 1, argv + 1);
	if (strcmp(what, "answer") == 0 && argc >= 4) {
		int i = 2;
		if (argc == 6 && (strcmp(argv[2], "-e") == 0 || strcmp(argv[2], "-r") == 0)) {
			opts_mode = argv[2][1];
			opts_after = atoi(argv[3]);
			i = 4;
		} else if (argc == 5 && strcmp(argv[2], "-L") == 0) {
			opts_mode = 'L';
			i = 3;
		}
		if (argc != i + 2)
			usage();
		int lfd = bound_socket(0, argv[i], argv[i + 1]);
		if (listen(lfd, 1) == -1)
			die("listen");
		print_name("listening", lfd, 0);
		int cfd = accept(lfd, NULL, NULL);
		if (cfd == -1)
			die("accept");
		print_name("peer", cfd, 1);
		opts_answer(cfd, 0);
		return 0;
	}
	if (strcmp(what, "sink") == 0 && argc >= 4) {
		int rcvbuf = 0, go = 0, i = 2;
		for (; i < argc - 2; i++) {
			if (strcmp(argv[i], "-r") == 0 && i + 1 < argc - 2)
				rcvbuf = atoi(argv[++i]);
			else if (strcmp(argv[i], "-g") == 0)
				go = 1;
			else
				usage();
		}
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigset_t block, waitmask;
		sigemptyset(&block);
		sigaddset(&block, SIGUSR1);
		if (sigaction(SIGUSR1, &sa, NULL) == -1 || sigprocmask(SIG_BLOCK, &block, &waitmask) == -1)
			die("sigaction");
		struct sockaddr_storage ss;
		socklen_t len = make_addr(argv[i], argv[i + 1], &ss);
		int lfd = socket(ss.ss_family, SOCK_STREAM, 0);
		if (lfd == -1)
			die("socket");
		if (rcvbuf > 0 && setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == -1)
			die("setsockopt");
		if (bind(lfd, (struct sockaddr *)&ss, len) == -1)
			die("bind");
		if (listen(lfd, 1) == -1)
			die("listen");
		print_name("listening", lfd, 0);
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
		if (cfd == -1)
			die("accept");
		printf("peer %s\n", show(&peer)); /* from accept: a client already reset has no peer name */
		fflush(stdout);
		while (!go && !usr1 && !stop)
			sigsuspend(&waitmask);
		if (stop)
			return 0;
		/* A bigger buffer now, so that the rest comes quickly (the window scale, fixed in the
		 * handshake, still bounds the window to 64 KiB when the buffer was small then). */
		int big = 1 << 20;
		if (setsockopt(cfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) == -1)
			die("setsockopt");
		static char buf[65536];
		unsigned long total = 0;
		ssize_t n;
		while ((n = read(cfd, buf, sizeof(buf))) > 0)
			total += (unsigned long)n;
		if (n == -1) {
			printf("read %lu bytes, then %s\n", total, strerrorname_np(errno));
			die("read");
		}
		printf("read %lu bytes, then EOF\n", total);
		return 0;
	}
	if (strcmp(what, "write") == 0 && (argc == 5 || (argc == 7 && strcmp(argv[2], "-s") == 0))) {
		int i = argc == 7 ? 4 : 2, sndbuf = argc == 7 ? atoi(argv[3]) : 0;
		unsigned long bytes = strtoul(argv[i + 2], NULL, 10), sent = 0;
		static char buf[65536];
		struct sockaddr_storage ss;
		socklen_t len = make_addr(argv[i], argv[i + 1], &ss);
		int fd = socket(ss.ss_family, SOCK_STREAM, 0);
		if (fd == -1)
			die("socket");
		if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == -1)
			die("setsockopt");
		if (connect(fd, (struct sockaddr *)&ss, len) == -1)
			die("connect");
		print_name("local", fd, 0);
		memset(buf, 'y', sizeof(buf));
		while (sent < bytes && !stop) {
			size_t n = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);
			ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1)
				die("send");
			sent += (size_t)w;
		}
		printf("wrote %lu bytes\n", sent);
		close(fd);
		return 0;
	}
	if (strcmp(what, "conns") == 0 && argc == 5) {
		int n = atoi(argv[2]);
		if (n < 1 || n > 1000)
			usage();
		for (int k = 0; k < n; k++) {
			int fd = connected_socket(argv[3], argv[4]);
			print_name("local", fd, 0);
			close(fd);
		}
		printf("%d connections\n", n);
		return 0;
	}
	if (strcmp(what, "blocked") == 0 && argc == 3) {
		char path[64], st = '?', wchan[64] = "?";
		long nr = -1;
		snprintf(path, sizeof(path), "/proc/%s/stat", argv[2]);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			die("fopen");
		/* the state follows the command name in parentheses, which may hold spaces */
		int c, last = 0;
		while ((c = getc(f)) != EOF)
			if (c == ')')
				last = 1;
			else if (last && c != ' ') {
				st = (char)c;
				break;
			}
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%s/wchan", argv[2]);
		if ((f = fopen(path, "r")) != NULL) {
			if (fgets(wchan, sizeof(wchan), f) == NULL || wchan[0] == '\0')
				snprintf(wchan, sizeof(wchan), "?");
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%s/syscall", argv[2]);
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%ld", &nr) != 1)
				nr = -1;
			fclose(f);
		}
		if (nr < 0)
			printf("state %c running\n", st);
		else
			printf("state %c in %s, wchan %s\n", st, opts_call(nr), wchan);
		return 0;
	}
	usage();
}
