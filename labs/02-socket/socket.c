/* socket.c - lab 02: create a socket and see what the kernel made of it.
 *
 * Goal:  call socket(domain, type, protocol) and look at what comes back: a small integer, the
 *        lowest descriptor that was free, which /proc/self/fd shows as "socket:[inode]"; a
 *        protocol the kernel filled in when we passed 0; or, for a combination the kernel refuses,
 *        an errno that says which of the three arguments it did not like.
 * Usage: socket [-w] DOMAIN TYPE [PROTOCOL]
 *          DOMAIN    inet | inet6 | unix | local | NUMBER
 *          TYPE      stream | dgram | raw | seqpacket | NUMBER
 *          PROTOCOL  tcp | udp | icmp | icmpv6 | NUMBER   (default 0: "the usual one")
 *          -w        keep the socket open until SIGTERM (so that others can look at it)
 *        e.g. socket inet stream      socket inet6 dgram udp      socket 12345 stream
 * Calls: socket(2), readlink(2), getsockopt(2) with SO_PROTOCOL, close(2), sigwait(3);
 *        socket(7), ip(7), ipv6(7), unix(7), raw(7), proc(5)
 * Done when: make check LAB=02 passes.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: socket [-w] DOMAIN TYPE [PROTOCOL]\n"
	      "  DOMAIN:   inet | inet6 | unix | local | NUMBER\n"
	      "  TYPE:     stream | dgram | raw | seqpacket | NUMBER\n"
	      "  PROTOCOL: tcp | udp | icmp | icmpv6 | NUMBER (default 0)\n"
	      "  -w: keep the socket open until SIGTERM\n"
	      "  e.g. socket inet stream;  socket inet6 dgram udp;  socket -w unix stream\n",
	      stderr);
	exit(2);
}

/* One word of the command line, the constant's name as the headers spell it, and its value. */
struct name {
	const char *word;
	const char *name;
	int value;
};

/* Each table ends with a NULL word. Where two words give the same value, the first one's name is
 * the one printed (AF_LOCAL and AF_UNIX are the same number: one family, two names). */
static const struct name domains[] = {
	/* TODO(02.1): Complete the table of domains so that the program accepts the
	 * words "inet", "inet6", "unix" and "local" (in that order), each printed by its AF_ name
	 * ("AF_INET", "AF_INET6", "AF_UNIX", "AF_LOCAL"), as strace prints them: lab 01 showed that
	 * each AF_ name and its PF_ twin are one number. See socket(2), address_families(7). */
	{ NULL, NULL, 0 },
};

static const struct name types[] = {
	/* TODO(02.2): Complete the table of types: the words "stream", "dgram",
	 * "raw" and "seqpacket", each with the name of its constant. The type says how data moves:
	 * a byte stream, separate datagrams, whole packets, or records on a connection. See
	 * socket(2). */
	{ NULL, NULL, 0 },
};

static const struct name protocols[] = {
	/* TODO(02.3): Complete the table of protocols: the words "tcp", "udp",
	 * "icmp" and "icmpv6", each with the name of its constant, the number the IP header carries
	 * in its protocol field. See socket(2), ip(7), protocols(5). */
	{ NULL, NULL, 0 },
};

/* WORD as a table entry's value, or as a decimal number 0..99999999 (so that the kernel's answer
 * to values no header names can be seen). Returns 0, or -1 if WORD is neither. */
static int parse(const struct name *table, const char *word, int *value)
{
	for (const struct name *n = table; n->word != NULL; n++) {
		if (strcmp(word, n->word) == 0) {
			*value = n->value;
			return 0;
		}
	}
	if (*word == '\0' || strlen(word) > 8)
		return -1;
	int v = 0;
	for (const char *p = word; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	*value = v;
	return 0;
}

/* The name of VALUE in TABLE, or the number itself: "AF_INET", "12345". */
static const char *show(const struct name *table, int value, char *buf, size_t size)
{
	for (const struct name *n = table; n->word != NULL; n++)
		if (n->value == value)
			return n->name;
	snprintf(buf, size, "%d", value);
	return buf;
}

int main(int argc, char **argv)
{
	int wait = 0, domain, type, protocol = 0;

	/* A -w keeper's first line must reach the test at once, not when stdio's buffer fills. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "-w") == 0) {
		wait = 1;
		argc--;
		argv++;
	}
	if (argc < 3 || argc > 4 || parse(domains, argv[1], &domain) == -1 || parse(types, argv[2], &type) == -1 ||
	    (argc == 4 && parse(protocols, argv[3], &protocol) == -1))
		usage();

	/* Block SIGTERM now, before the socket exists, so that a -w keeper can wait for it with
	 * sigwait() below and close the socket itself instead of being killed. */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (wait && sigprocmask(SIG_BLOCK, &term, NULL) == -1)
		die("sigprocmask");

	int fd;
	/* TODO(02.4): Ask the kernel for a socket of the domain, type and protocol
	 * given, and keep its descriptor in fd. The kernel may refuse, and why it refused (the
	 * errno) is what this lab is about: a failure must be reported by its errno name (die,
	 * naming the call). See socket(2). */
	fd = -1; // placeholder: replace this line

	char b1[16], b2[16], b3[16];
	printf("socket(%s, %s, %s) = fd %d\n", show(domains, domain, b1, sizeof(b1)), show(types, type, b2, sizeof(b2)),
	       show(protocols, protocol, b3, sizeof(b3)), fd);

	char path[64], link[256] = "";
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* TODO(02.5): Find out what the kernel says the descriptor is:
	 * /proc/self/fd/N (path) is a symbolic link whose target describes it; put that target into
	 * link, as a C string. A failure is fatal (die, naming the call). See readlink(2),
	 * proc(5). */
	printf("%s -> %s\n", path, link);

	int chosen;
	/* TODO(02.6): Ask the socket itself which protocol the kernel chose for it
	 * (protocol 0 means "the usual one", and the socket remembers which one that was) and put
	 * it into chosen. A failure is fatal (die, naming the call). See getsockopt(2), socket(7)
	 * (SO_PROTOCOL). */
	chosen = protocol; // placeholder: replace this line
	const char *pname = show(protocols, chosen, b3, sizeof(b3));
	if (pname == b3) /* no name: just the number, e.g. 0 for an AF_UNIX socket */
		printf("SO_PROTOCOL = %d\n", chosen);
	else
		printf("SO_PROTOCOL = %d (%s)\n", chosen, pname);

	if (wait) {
		int sig;
		/* sigwait returns an error number itself; it does not set errno. */
		if ((errno = sigwait(&term, &sig)) != 0)
			die("sigwait");
	}
	if (close(fd) == -1)
		die("close");
	return 0;
}
