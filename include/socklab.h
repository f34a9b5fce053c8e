/* socklab.h - the two helpers every lab shares, and nothing else.
 *
 * die(call):        report a failed call as "PROG: CALL: ENAME (text)" on stderr and exit 1.
 * parse_port(s, &p): accept a decimal port 0..65535, nothing else (no sign, no spaces, no hex).
 *
 * Socket calls are never wrapped: each lab checks -1 and errno where the call is made.
 * Build any lab by hand with:  cc -std=c11 -Wall -Wextra -Wpedantic -I include labs/03-bind/bind.c
 */
#ifndef SOCKLAB_H
#define SOCKLAB_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE at the top of the lab's .c file, before any #include"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print "PROG: CALL: ENAME (text)" for the error number err, e.g.
 * "bind: bind: EADDRINUSE (Address already in use)". strerrorname_np() is glibc >= 2.32. */
static inline void report_errno(const char *call, int err)
{
	const char *name = strerrorname_np(err);

	fprintf(stderr, "%s: %s: %s (%s)\n", program_invocation_short_name, call, name ? name : "E?", strerror(err));
}

/* A failed call: report errno and exit with status 1 (runtime failure). */
static inline _Noreturn void die(const char *call)
{
	report_errno(call, errno);
	exit(1);
}

/* Parse a TCP/UDP port number: decimal digits only, 0..65535. Returns 0 on success, -1 if s is not one. */
static inline int parse_port(const char *s, unsigned short *port)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -1;
	*port = (unsigned short)v;
	return 0;
}

#endif /* SOCKLAB_H */
