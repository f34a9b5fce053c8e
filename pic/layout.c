/* layout.c - the byte layouts of the socket address structures, drawn from the compiler's own numbers.
 *
 * Goal:  print a Graphviz picture (pic/layout.dot) of struct sockaddr, sockaddr_in, sockaddr_in6,
 *        sockaddr_un and sockaddr_storage side by side, one row per stretch of bytes, so that fields
 *        at the same offset sit on the same row. Every offset and size comes from offsetof() and
 *        sizeof() at compile time: the picture cannot disagree with the compiler that built it.
 * Usage: layout > pic/layout.dot    (`make pics` builds it, runs it and renders the result; the
 *        self-test, tests/kit/docs.bats, compares a fresh run with the committed pic/layout.dot)
 * Calls: none but printf: sizeof and offsetof do all the work (see lab 01 and docs/01-sockaddr.md).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

/* What a field holds, which decides its colour in the picture. */
enum role { FAMILY, PORT, ADDR, OTHER, PAD };

static const char *const colour[] = {
	[FAMILY] = "#f6d28b", [PORT] = "#a9d4f5", [ADDR] = "#b8e3b0", [OTHER] = "#e2d4f0", [PAD] = "#e6e6e6",
};

struct field {
	const char *name;
	size_t off, size;
	size_t count; /* > 0: an array of this many elements, shown as name[count] */
	enum role role;
	const char *note; /* byte order or purpose, shown under the size */
};

/* One named member of a structure, measured by the compiler. (clang-format would break these
 * braced initializers apart.) */
/* clang-format off */
#define MEMBER(type, m, role, note) \
	{ #m, offsetof(type, m), sizeof(((type *)0)->m), 0, role, note }
#define ARRAY(type, m, role, note) \
	{ #m, offsetof(type, m), sizeof(((type *)0)->m), \
	  sizeof(((type *)0)->m) / sizeof(((type *)0)->m[0]), role, note }
/* clang-format on */

static const struct field f_sa[] = {
	MEMBER(struct sockaddr, sa_family, FAMILY, "host order"),
	ARRAY(struct sockaddr, sa_data, OTHER, "the address, read by family"),
};
static const struct field f_in[] = {
	MEMBER(struct sockaddr_in, sin_family, FAMILY, "host order: AF_INET"),
	MEMBER(struct sockaddr_in, sin_port, PORT, "network order: htons"),
	MEMBER(struct sockaddr_in, sin_addr, ADDR, "network order: htonl"),
	ARRAY(struct sockaddr_in, sin_zero, PAD, "ignored by Linux: memset"),
};
static const struct field f_in6[] = {
	MEMBER(struct sockaddr_in6, sin6_family, FAMILY, "host order: AF_INET6"),
	MEMBER(struct sockaddr_in6, sin6_port, PORT, "network order: htons"),
	MEMBER(struct sockaddr_in6, sin6_flowinfo, OTHER, "network order, usually 0"),
	MEMBER(struct sockaddr_in6, sin6_addr, ADDR, "network order: 128 bits"),
	MEMBER(struct sockaddr_in6, sin6_scope_id, OTHER, "host order: interface"),
};
static const struct field f_un[] = {
	MEMBER(struct sockaddr_un, sun_family, FAMILY, "host order: AF_LOCAL"),
	ARRAY(struct sockaddr_un, sun_path, ADDR, "a path, NUL-terminated,<BR/>or an abstract name"),
};
/* sockaddr_storage has one public member; the rest is padding whose member names are private to
 * the C library, so it is measured as "everything after ss_family". */
static const struct field f_st[] = {
	MEMBER(struct sockaddr_storage, ss_family, FAMILY, "host order: any AF_"),
	{ "(padding)", offsetof(struct sockaddr_storage, ss_family) + sizeof(sa_family_t),
	  sizeof(struct sockaddr_storage) - offsetof(struct sockaddr_storage, ss_family) - sizeof(sa_family_t), 0, PAD,
	  "room for any address" },
};

struct layout {
	const char *name;
	size_t size, align;
	const struct field *fields;
	size_t nfields;
};

/* clang-format off */
#define LAYOUT(type, f) { #type, sizeof(type), _Alignof(type), f, sizeof(f) / sizeof(f[0]) }

static const struct layout layouts[] = {
	LAYOUT(struct sockaddr, f_sa),
	LAYOUT(struct sockaddr_in, f_in),
	LAYOUT(struct sockaddr_in6, f_in6),
	LAYOUT(struct sockaddr_un, f_un),
	LAYOUT(struct sockaddr_storage, f_st),
};
/* clang-format on */
#define NLAYOUTS (sizeof(layouts) / sizeof(layouts[0]))

/* The machine the compiler builds for: the sizes hold for it (they are the same on every 64-bit Linux). */
#if defined(__x86_64__)
#define ARCH "x86_64"
#elif defined(__aarch64__)
#define ARCH "aarch64"
#elif defined(__i386__)
#define ARCH "i386"
#elif defined(__arm__)
#define ARCH "arm"
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH "riscv64"
#else
#define ARCH "this machine"
#endif
#ifdef __GLIBC__
#define LIBC "glibc"
#else
#define LIBC "its C library"
#endif

/* The row boundaries: every offset where some field starts or ends, sorted, without repeats. */
static size_t bounds[64];
static size_t nbounds;

static void add_bound(size_t b)
{
	size_t i;

	for (i = 0; i < nbounds && bounds[i] < b; i++)
		;
	if (i < nbounds && bounds[i] == b)
		return;
	if (nbounds == sizeof(bounds) / sizeof(bounds[0])) {
		fprintf(stderr, "layout: too many rows\n");
		exit(1);
	}
	for (size_t j = nbounds; j > i; j--)
		bounds[j] = bounds[j - 1];
	bounds[i] = b;
	nbounds++;
}

/* The row whose first byte is offset b. */
static size_t row_of(size_t b)
{
	for (size_t i = 0; i < nbounds; i++)
		if (bounds[i] == b)
			return i;
	fprintf(stderr, "layout: offset %zu is not a row boundary\n", b);
	exit(1);
}

/* A row's height in points: taller for more bytes, but capped, so that the 82 bytes of sun_path do
 * not dwarf the 2-byte fields (the offsets in the first column give the real distances). */
static unsigned height(size_t bytes)
{
	size_t h = 26 + 2 * bytes;

	return (unsigned)(h > 72 ? 72 : h);
}

static void cell(const struct field *f, size_t rows)
{
	/* A thin empty line between the name and the details: without it the underscores of the bold
	 * name are drawn over the top of the next line ("sin_family" reads "sin family"). */
	printf("    <TD ROWSPAN=\"%zu\" BGCOLOR=\"%s\">", rows, colour[f->role]);
	if (f->count)
		printf("<B>%s[%zu]</B>", f->name, f->count);
	else
		printf("<B>%s</B>", f->name);
	printf("<BR/><FONT POINT-SIZE=\"5\"> </FONT><BR/><FONT POINT-SIZE=\"9\">%zu byte%s at %zu<BR/>%s</FONT></TD>\n",
	       f->size, f->size == 1 ? "" : "s", f->off, f->note);
}

int main(void)
{
	for (size_t s = 0; s < NLAYOUTS; s++) {
		/* The table needs the fields in order, with no gap and nothing left over. */
		size_t end = 0;

		for (size_t i = 0; i < layouts[s].nfields; i++) {
			if (layouts[s].fields[i].off != end) {
				fprintf(stderr, "layout: %s: a gap before %s\n", layouts[s].name,
					layouts[s].fields[i].name);
				return 1;
			}
			end += layouts[s].fields[i].size;
		}
		if (end != layouts[s].size) {
			fprintf(stderr, "layout: %s: the fields cover %zu of %zu bytes\n", layouts[s].name, end,
				layouts[s].size);
			return 1;
		}
		add_bound(0);
		add_bound(layouts[s].size);
		for (size_t i = 0; i < layouts[s].nfields; i++) {
			add_bound(layouts[s].fields[i].off);
			add_bound(layouts[s].fields[i].off + layouts[s].fields[i].size);
		}
	}

	printf("// layout.dot - generated by pic/layout.c for " ARCH " Linux (" LIBC
	       "): do not edit; run `make pics`.\n");
	printf("// Offsets and sizes come from offsetof() and sizeof(); layout.svg and layout.png are rendered from "
	       "this.\n");
	printf("digraph layout {\n");
	printf("  graph [fontname=\"DejaVu Sans\", fontsize=12, labelloc=b, label=<");
	printf("The socket address structures, byte by byte, as the compiler lays them out on " ARCH " Linux (" LIBC
	       ").<BR/>");
	printf("Every structure starts with a 2-byte family in host byte order: it says which kind of address "
	       "the bytes hold.<BR/>");
	printf("Row heights are not to scale; the first column gives the real offsets.>];\n");
	printf("  node [shape=plaintext, fontname=\"DejaVu Sans\", fontsize=11];\n");
	printf("  layout [label=<\n");
	printf("  <TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\">\n");

	/* Header: the offset column, then one column per structure with its size and alignment. */
	printf("   <TR><TD BORDER=\"0\" VALIGN=\"BOTTOM\"><B>bytes</B></TD>\n");
	for (size_t s = 0; s < NLAYOUTS; s++)
		printf("    <TD BORDER=\"0\" WIDTH=\"150\"><B>%s</B><BR/><FONT POINT-SIZE=\"5\"> </FONT><BR/>"
		       "<FONT POINT-SIZE=\"9\">sizeof %zu, "
		       "aligned to %zu</FONT></TD>\n",
		       layouts[s].name, layouts[s].size, layouts[s].align);
	printf("   </TR>\n");

	for (size_t r = 0; r + 1 < nbounds; r++) {
		size_t from = bounds[r], to = bounds[r + 1];

		printf("   <TR><TD BORDER=\"0\" ALIGN=\"RIGHT\" HEIGHT=\"%u\">%zu&#8211;%zu</TD>\n", height(to - from),
		       from, to - 1);
		for (size_t s = 0; s < NLAYOUTS; s++) {
			const struct layout *l = &layouts[s];

			for (size_t i = 0; i < l->nfields; i++)
				if (l->fields[i].off == from)
					cell(&l->fields[i], row_of(l->fields[i].off + l->fields[i].size) - r);
			/* Past the end of this structure: one empty, borderless cell down to the last row. */
			if (from == l->size)
				printf("    <TD ROWSPAN=\"%zu\" BORDER=\"0\" VALIGN=\"TOP\"><FONT POINT-SIZE=\"9\">"
				       "(ends at %zu)</FONT></TD>\n",
				       nbounds - 1 - r, l->size);
		}
		printf("   </TR>\n");
	}
	printf("  </TABLE>>];\n");
	printf("}\n");

	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("layout: write");
		return 1;
	}
	return 0;
}
