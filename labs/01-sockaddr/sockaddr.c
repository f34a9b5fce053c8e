/* sockaddr.c - lab 01: how a socket address is laid out in memory.
 *
 * Goal:  see the address structures the way the kernel sees them: their sizes and field offsets,
 *        the address family constants, and the bytes of a filled sockaddr_in / sockaddr_in6,
 *        with the port and the address in network byte order (big-endian).
 * Usage: sockaddr layout             sizes and field offsets of the five address structures
 *        sockaddr families           the AF_* and PF_* constants
 *        sockaddr in ADDR PORT       fill a sockaddr_in and print its 16 bytes
 *        sockaddr in6 ADDR PORT      fill a sockaddr_in6 and print its 28 bytes
 * Calls: inet_pton(3), htons(3), offsetof(3), sockaddr(3type), ip(7), ipv6(7), unix(7)
 * Done when: make check LAB=01 passes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "socklab.h"

static _Noreturn void usage(void)
{
	fputs("usage: sockaddr layout | families | in ADDR PORT | in6 ADDR PORT\n"
	      "  e.g. sockaddr in 127.0.0.1 8080;  sockaddr in6 ::1 8080\n",
	      stderr);
	exit(2);
}

/* One line per field: "struct.field OFFSET SIZE". sizeof works on a member through a null pointer
 * because sizeof never evaluates its operand. */
#define FIELD(type, field) \
	printf("%s.%s %zu %zu\n", #type, #field, offsetof(struct type, field), sizeof(((struct type *)0)->field))

static void print_layout(void)
{
	/* The generic address every socket call takes: a family, then 14 bytes whose meaning the
	 * family decides. */
	printf("sockaddr %zu\n", sizeof(struct sockaddr));
	FIELD(sockaddr, sa_family);
	FIELD(sockaddr, sa_data);
	/* TODO(01.1): Show how struct sockaddr_in is laid out: a line "sockaddr_in
	 * SIZE", then one FIELD line (offset and size, as for sockaddr above) for each of its
	 * fields sin_family, sin_port, sin_addr, sin_zero; then the same for struct sockaddr_in6
	 * and sin6_family, sin6_port, sin6_flowinfo, sin6_addr, sin6_scope_id. Let the compiler
	 * give every number: the layout is a contract between the C library and the kernel, not
	 * something to remember. See ip(7), ipv6(7). */
	/* TODO(01.2): The same for the local address, struct sockaddr_un
	 * (sun_family, sun_path), and for struct sockaddr_storage: its size, the FIELD line of
	 * ss_family, and a line "sockaddr_storage align N" with the alignment the compiler gives
	 * it. sockaddr_storage is the buffer big and aligned enough for any family's address, which
	 * is why its size and alignment matter. See unix(7), socket(7). */
}

static void print_families(void)
{
	/* TODO(01.3): Print one line "NAME VALUE" for each of AF_UNIX, AF_LOCAL,
	 * AF_INET, AF_INET6, then PF_UNIX, PF_LOCAL, PF_INET, PF_INET6, in that order. The output
	 * shows which names are one number: address families and protocol families were meant to
	 * differ and never did. See address_families(7). */
}

static void print_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		printf("%02x%c", b[i], i + 1 < n ? ' ' : '\n');
}

/* Fill *in with ADDR and PORT. Returns 0, or -1 if ADDR is not a dotted-quad IPv4 address. */
static int fill_in(struct sockaddr_in *in, const char *addr, unsigned short port)
{
	/* TODO(01.4): Fill *in so that it names ADDR and PORT exactly as the kernel
	 * will read it: no stray byte anywhere, the IPv4 family, and the port and address in
	 * network byte order (big-endian, whatever this CPU is). Let the C library turn the text
	 * ADDR into its four bytes; return -1 when ADDR is not a dotted-quad IPv4 address. See
	 * ip(7), byteorder(3), inet_pton(3). */
	memset(in, 0, sizeof(*in)); (void)addr; (void)port; // placeholder: replace this line
	return 0;
}

/* Fill *in6 with ADDR and PORT. Returns 0, or -1 if ADDR is not an IPv6 address. */
static int fill_in6(struct sockaddr_in6 *in6, const char *addr, unsigned short port)
{
	/* TODO(01.5): The same for IPv6 into *in6: no stray byte, the IPv6 family,
	 * the port in network byte order, and the 16 bytes of the text ADDR in sin6_addr (-1 when
	 * ADDR is not an IPv6 address); flow info and scope id stay 0. See ipv6(7),
	 * inet_pton(3). */
	memset(in6, 0, sizeof(*in6)); (void)addr; (void)port; // placeholder: replace this line
	return 0;
}

int main(int argc, char **argv)
{
	unsigned short port;

	if (argc == 2 && strcmp(argv[1], "layout") == 0) {
		print_layout();
	} else if (argc == 2 && strcmp(argv[1], "families") == 0) {
		print_families();
	} else if (argc == 4 && strcmp(argv[1], "in") == 0) {
		struct sockaddr_in in;
		if (parse_port(argv[3], &port) == -1 || fill_in(&in, argv[2], port) == -1)
			usage();
		/* Every socket call takes the generic struct sockaddr *: the family field, at the same
		 * offset in every structure, says what kind of address the bytes hold. */
		const struct sockaddr *sa = (const struct sockaddr *)&in;
		printf("sockaddr_in for %s port %u: sa_family %d, %zu bytes:\n", argv[2], port, sa->sa_family,
		       sizeof(in));
		print_bytes(&in, sizeof(in));
	} else if (argc == 4 && strcmp(argv[1], "in6") == 0) {
		struct sockaddr_in6 in6;
		if (parse_port(argv[3], &port) == -1 || fill_in6(&in6, argv[2], port) == -1)
			usage();
		const struct sockaddr *sa = (const struct sockaddr *)&in6;
		printf("sockaddr_in6 for %s port %u: sa_family %d, %zu bytes:\n", argv[2], port, sa->sa_family,
		       sizeof(in6));
		print_bytes(&in6, sizeof(in6));
	} else {
		usage();
	}
	return 0;
}
