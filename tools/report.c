/* report - turn a grading plan and the labs' TAP output into points and reports (make check / make grade).
 *
 * The grading engine (tools/check.sh) writes a PLAN before it runs anything: every test of every
 * lab it grades, read from the bats files, with the points each test is worth. The maximum therefore
 * never depends on what ran: a lab whose bats file crashes, or whose program does not compile, still
 * counts all its points (scored 0). This program matches the TAP output bats wrote for each lab
 * against that plan and reports.
 *
 * Usage: report tally PLAN LAB      one lab: "passed skipped failed total earned earned_with_skips max"
 *                                   (points in hundredths), for the make check table
 *        report verdict PLAN LAB    why the lab's results were thrown away (nothing if they were not)
 *        report grade PLAN OUTDIR   write OUTDIR/summary.txt, junit.xml and results.json (Gradescope);
 *                                   print "LAB<TAB>earned<TAB>max" per lab, then "total<TAB>earned<TAB>max"
 *
 * PLAN: tab-separated lines
 *        tree    NAME               what was graded (shown in the reports)
 *        seconds N                  how long the grading took
 *        note    TEXT               said in the reports, and to every test that did not run
 *        sandbox TEXT               what the programs could reach while they were graded (said in the reports)
 *        verdict NN-name TEXT       the lab's run cannot be trusted (check.sh: the student's program
 *                                   stopped bats): every test of it fails, with TEXT
 *        lab     NN-name POINTS TAP ERR   a lab: its points, its TAP output and bats' stderr (may be missing)
 *        test    HUNDREDTHS NAME    a test of the last lab, worth HUNDREDTHS/100 points; a lab's maximum
 *                                   is the sum of its tests' (check.sh makes that the manifest's points)
 *
 * Scores: a passed test earns its points; a failed, skipped or missing test earns 0 (a skipped test
 * proved nothing, and a student's program must not be able to earn points by making a test skip).
 *
 * Nothing a program writes may count as a result. bats reports each test once, numbered 1, 2, 3...
 * in its plan's order; a second result for a test, a passed result for a test the plan does not
 * declare, or a number out of that order means that something else wrote into the stream: the
 * whole lab then fails, each test saying "the test output was tampered with", never a pass.
 *
 * Whatever a student's program printed ends up in the reports: bytes are never trusted. JSON strings
 * escape quotes, backslashes and every control byte; XML escapes markup and drops the bytes XML 1.0
 * forbids; invalid UTF-8 becomes U+FFFD in both; each test's output is cut at OUTPUT_CAP bytes, and
 * each of its lines at LINE_CAP.
 */
#define _GNU_SOURCE
#include <stdarg.h>

#include "socklab.h"

#define OUTPUT_CAP (8 * 1024) /* of one test's report, in the JSON and XML */
#define LINE_CAP 500 /* of one line of it: a flood of output is one endless line */
#define TAP_CAP (32L * 1024 * 1024) /* of a lab's TAP file read */

enum status { NOT_RUN, PASSED, SKIPPED, FAILED };

struct buf {
	char *s;
	size_t len, cap;
};

struct test {
	char *name;
	long max; /* hundredths of a point */
	enum status st;
	struct buf out; /* the failure report bats printed, or why the test did not run */
	char *skip; /* the reason of a skip */
};

struct lab {
	char *name, *tap, *err;
	long points; /* hundredths: the sum of its tests' */
	struct test *t;
	size_t n;
	struct buf note; /* TAP lines of no planned test: setup_file failures, a lab-wide timeout */
	char *verdict; /* why its results were thrown away: tampered with, or bats was stopped */
	long earned;
	int passed, skipped, failed;
};

static struct lab *lab_list;
static size_t nlabs;
static char *tree_name = "", *global_note = "", *sandbox_note = "";
static long seconds;

static _Noreturn void usage(void)
{
	fputs("usage: report plan LAB POINTS BATS TAP ERR | report tally PLAN LAB | report verdict PLAN LAB |\n"
	      "       report total PLAN | report grade PLAN OUTDIR\n",
	      stderr);
	exit(2);
}

static _Noreturn void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("report: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("realloc");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		die("strdup");
	return d;
}

static void add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void adds(struct buf *b, const char *s)
{
	add(b, s, strlen(s));
}

static void addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Points in hundredths as text: 10, 7.5, 0.71. */
static const char *pts(long h, char *tmp)
{
	if (h % 100 == 0)
		sprintf(tmp, "%ld", h / 100);
	else if (h % 10 == 0)
		sprintf(tmp, "%ld.%ld", h / 100, h % 100 / 10);
	else
		sprintf(tmp, "%ld.%02ld", h / 100, h % 100);
	return tmp;
}

/* Read at most cap bytes of a file; NULL if it cannot be opened. */
static char *slurp(const char *path, long cap, size_t *len, int *cut)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char tmp[65536];
	size_t n;

	*cut = 0;
	if (f == NULL)
		return NULL;
	add(&b, "", 0);
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
		if ((long)(b.len + n) > cap) {
			add(&b, tmp, (size_t)cap - b.len);
			*cut = 1;
			break;
		}
		add(&b, tmp, n);
	}
	fclose(f);
	*len = b.len;
	return b.s;
}

/* ---- the plan ---- */

static void read_plan(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *field[6];
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		fatal("cannot read the plan %s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) != -1) {
		int nf = 0;
		char *p = line;

		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		/* Split on tabs; the last field keeps any further tabs. */
		field[nf++] = p;
		while (nf < 6 && (p = strchr(p, '\t')) != NULL) {
			*p++ = '\0';
			field[nf++] = p;
		}
		if (strcmp(field[0], "tree") == 0 && nf >= 2) {
			tree_name = xstrdup(field[1]);
		} else if (strcmp(field[0], "seconds") == 0 && nf >= 2) {
			seconds = atol(field[1]);
		} else if (strcmp(field[0], "note") == 0 && nf >= 2) {
			global_note = xstrdup(field[1]);
		} else if (strcmp(field[0], "sandbox") == 0 && nf >= 2) {
			sandbox_note = xstrdup(field[1]);
		} else if (strcmp(field[0], "verdict") == 0 && nf >= 3) {
			for (size_t i = 0; i < nlabs; i++)
				if (strcmp(lab_list[i].name, field[1]) == 0 && lab_list[i].verdict == NULL)
					lab_list[i].verdict = xstrdup(field[2]);
		} else if (strcmp(field[0], "lab") == 0 && nf >= 5) {
			struct lab *l;

			lab_list = xrealloc(lab_list, (nlabs + 1) * sizeof *lab_list);
			l = &lab_list[nlabs++];
			memset(l, 0, sizeof *l);
			l->name = xstrdup(field[1]);
			l->tap = xstrdup(field[3]);
			l->err = xstrdup(field[4]);
		} else if (strcmp(field[0], "test") == 0 && nf >= 3 && nlabs > 0) {
			struct lab *l = &lab_list[nlabs - 1];
			struct test *t;

			l->t = xrealloc(l->t, (l->n + 1) * sizeof *l->t);
			t = &l->t[l->n++];
			memset(t, 0, sizeof *t);
			t->max = atol(field[1]);
			t->name = xstrdup(field[2]);
			l->points += t->max;
		} else if (field[0][0] != '\0' && field[0][0] != '#') {
			fatal("%s: a line I do not understand: %s", path, field[0]);
		}
	}
	free(line);
	fclose(f);
}

/* ---- the plan of one lab, from its bats file ---- */

/* A test's points are a bats tag, `# bats test_tags=points:N` (N whole points) on a line before its
 * @test; as bats does, the last test_tags line since the previous test is the one that counts. The
 * tests that declare none share what the manifest's points leave, in hundredths, the first ones
 * getting the odd hundredths. */
static int tag_points(const char *tags)
{
	int pts = -1;

	for (const char *p = tags; *p != '\0';) {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ", ");
		if (n > 7 && strncmp(p, "points:", 7) == 0) {
			char num[16] = "";
			char *end;
			long v;

			if (n - 7 < sizeof num)
				memcpy(num, p + 7, n - 7);
			v = strtol(num, &end, 10);
			pts = (*end == '\0' && end != num && v >= 0 && v <= 1000) ? (int)v * 100 : -2;
		}
		p += n;
	}
	return pts;
}

/* The name of `@test "NAME" {`, unquoted as bash reads it; NULL if the line is no test. */
static char *test_name(const char *line)
{
	size_t n = strlen(line);
	char *name, *o;

	if (n < 11 || strncmp(line, "@test \"", 7) != 0 || strcmp(line + n - 3, "\" {") != 0)
		return NULL;
	name = o = xstrdup(line + 7);
	for (const char *s = line + 7; s < line + n - 3; s++) {
		if (*s == '\\' && s + 1 < line + n - 3 && strchr("\"\\$`", s[1]))
			s++;
		*o++ = *s;
	}
	*o = '\0';
	return name;
}

/* report plan LAB POINTS BATS TAP ERR: the plan's lines for one lab. Exit status 3 if the points
 * its tests declare do not fit the manifest's. */
static int plan(char **argv)
{
	const char *lab = argv[0], *file = argv[2];
	long total = atol(argv[1]) * 100, fixed = 0, rest;
	FILE *f = fopen(file, "r");
	char *line = NULL, **name = NULL;
	long *max = NULL;
	size_t cap = 0, n = 0, nfree = 0, k = 0;
	ssize_t len;
	int declared = -1, lineno = 0;

	printf("lab\t%s\t%s\t%s\t%s\n", lab, argv[1], argv[3], argv[4]);
	if (f == NULL) {
		printf("test\t%ld\t%s: its tests (%s has none yet)\n", total, lab, file);
		return 0;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		char *t;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (strncmp(line, "# points:", 9) == 0)
			fatal("%s:%d: points are a bats tag now: write \"# bats test_tags=points:N\"", file, lineno);
		if (strncmp(line, "# bats test_tags=", 17) == 0) {
			declared = tag_points(line + 17);
			if (declared == -2)
				fatal("%s:%d: a points tag is \"points:N\", N whole points from 0 to 1000", file,
				      lineno);
			continue;
		}
		if ((t = test_name(line)) == NULL)
			continue;
		name = xrealloc(name, (n + 1) * sizeof *name);
		max = xrealloc(max, (n + 1) * sizeof *max);
		name[n] = t;
		max[n++] = declared;
		if (declared < 0)
			nfree++;
		else
			fixed += declared;
		declared = -1;
	}
	free(line);
	fclose(f);
	if (n == 0) {
		printf("test\t%ld\t%s: its tests (%s has none yet)\n", total, lab, file);
		return 0;
	}
	rest = total - fixed;
	if (rest < 0 || (nfree == 0 && rest != 0)) {
		char a[32], b[32];

		fprintf(stderr, "%s: the tests' points tags give %s points, but the manifest gives %s %s\n", file,
			pts(fixed, a), lab, pts(total, b));
		return 3;
	}
	for (size_t i = 0; i < n; i++) {
		if (max[i] < 0)
			max[i] = rest / (long)nfree + ((long)k++ < rest % (long)nfree ? 1 : 0);
		printf("test\t%ld\t%s\n", max[i], name[i]);
	}
	return 0;
}

/* ---- the TAP output of one lab ---- */

/* Is this TAP line "ok N ..." or "not ok N ..."? Then *num is N and *rest what follows it. */
static int test_line(const char *s, int *ok, long *num, const char **rest)
{
	*ok = strncmp(s, "ok ", 3) == 0;
	if (*ok)
		s += 3;
	else if (strncmp(s, "not ok ", 7) == 0)
		s += 7;
	else
		return 0;
	if (*s < '0' || *s > '9')
		return 0;
	*num = 0;
	while (*s >= '0' && *s <= '9')
		*num = *num > 1000000 ? *num : *num * 10 + (*s++ - '0');
	if (*s == ' ')
		s++;
	else if (*s != '\0')
		return 0;
	*rest = s;
	return 1;
}

/* The planned test this TAP line reports: its name, then nothing or " # skip ...", " # timeout ...".
 * The longest name that fits (a test's name may begin with another's). */
static struct test *find_test(struct lab *l, const char *rest)
{
	struct test *found = NULL;

	for (size_t i = 0; i < l->n; i++) {
		size_t k = strlen(l->t[i].name);

		if (strncmp(rest, l->t[i].name, k) == 0 && (rest[k] == '\0' || strncmp(rest + k, " # ", 3) == 0) &&
		    (found == NULL || k > strlen(found->name)))
			found = &l->t[i];
	}
	return found;
}

static void tampered(struct lab *l, const char *why, const char *line)
{
	struct buf b = { 0 };

	if (l->verdict)
		return;
	addf(&b,
	     "the test output was tampered with (%s: \"%.200s\"): something other than bats wrote into "
	     "the stream of results, so none of this lab's results count",
	     why, line);
	l->verdict = b.s;
}

/* bats' backtrace lines and its "`COMMAND' failed" line say where in the kit a test failed: noise in
 * a student's report (the test's own words say what went wrong). */
static int noise(const char *s)
{
	size_t n;

	while (*s == ' ')
		s++;
	n = strlen(s);
	if (*s == '`' && n > 8 && strcmp(s + n - 8, "' failed") == 0)
		return 1;
	if (*s == '(')
		s++;
	return strncmp(s, "from function", 13) == 0 || strncmp(s, "in test file", 12) == 0;
}

static void read_tap(struct lab *l)
{
	size_t len, pos = 0;
	int cut;
	char *tap = slurp(l->tap, TAP_CAP, &len, &cut);
	struct buf *into = &l->note;
	long next = 1; /* the number bats gives the next result */

	if (tap == NULL) {
		adds(&l->note, "the lab's tests did not run (no TAP output).\n");
		return;
	}
	while (pos < len) {
		char *s = tap + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		const char *rest;
		int ok;
		long num;

		pos += n + 1;
		s[n] = '\0';
		if (test_line(s, &ok, &num, &rest)) {
			struct test *t = find_test(l, rest);

			if (t == NULL) {
				/* "not ok 1 setup_file failed", our "not ok 0 NN: the whole lab timed out" */
				if (ok)
					tampered(l, "a passed result for a test this lab does not declare", s);
				else if (num != 0 && num != next++)
					tampered(l, "a result out of bats' order", s);
				into = &l->note;
				if (!ok) {
					adds(into, rest);
					adds(into, "\n");
				}
				continue;
			}
			if (t->st != NOT_RUN)
				tampered(l, "a second result for one test", s);
			else if (num != next)
				tampered(l, "a result out of bats' order", s);
			next = num + 1;
			if (!ok) {
				t->st = FAILED;
			} else {
				const char *sk = strstr(rest + strlen(t->name), " # skip");

				t->st = sk ? SKIPPED : PASSED;
				if (sk) {
					sk += 7;
					while (*sk == ' ')
						sk++;
					t->skip = xstrdup(*sk ? sk : "no reason given");
				}
			}
			into = &t->out;
		} else if (strncmp(s, "1..", 3) == 0 && into == &l->note) {
			continue;
		} else if (s[0] == '#') {
			s += s[1] == ' ' ? 2 : 1;
			if (!noise(s)) {
				adds(into, s);
				adds(into, "\n");
			}
		} else if (n > 0) {
			adds(into, s);
			adds(into, "\n");
		}
	}
	if (cut)
		addf(&l->note, "(the TAP output was cut at %ld MiB)\n", TAP_CAP >> 20);
	free(tap);
}

static void grade_lab(struct lab *l)
{
	read_tap(l);
	if (l->verdict) {
		/* Results that cannot be trusted: every test fails, and says why. */
		for (size_t i = 0; i < l->n; i++) {
			struct test *t = &l->t[i];

			free(t->out.s);
			t->out = (struct buf){ 0 };
			t->st = FAILED;
			adds(&t->out, l->verdict);
			adds(&t->out, ".\n");
		}
		l->failed = (int)l->n;
		return;
	}
	/* A test that never reported: say why, with bats' own words if it left any. */
	for (size_t i = 0; i < l->n; i++) {
		struct test *t = &l->t[i];

		switch (t->st) {
		case PASSED:
			l->passed++;
			l->earned += t->max;
			break;
		case SKIPPED: l->skipped++; break;
		case FAILED: l->failed++; break;
		case NOT_RUN: {
			size_t elen;
			int cut;
			char *err = slurp(l->err, 4096, &elen, &cut);

			l->failed++;
			adds(&t->out, "did not run: the lab's tests stopped before this test");
			if (*global_note)
				addf(&t->out, " (%s)", global_note);
			adds(&t->out, ".\n");
			if (l->note.len) {
				adds(&t->out, "bats reported:\n");
				add(&t->out, l->note.s, l->note.len);
			}
			if (err && elen) {
				adds(&t->out, "bats said on stderr:\n");
				add(&t->out, err, elen);
				if (cut)
					adds(&t->out, "...\n");
			}
			free(err);
			break;
		}
		}
	}
}

/* ---- safe output ---- */

/* Decode one UTF-8 character at s (n bytes left): its length, and *cp. Invalid (overlong,
 * surrogate, truncated, > U+10FFFF): length 1 and *cp = -1. */
static size_t utf8(const unsigned char *s, size_t n, long *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;
	long v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else {
		*cp = -1;
		return 1;
	}
	if (n < len || s[1] < lo || s[1] > hi) {
		*cp = -1;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = -1;
			return 1;
		}
		v = v << 6 | (s[i] & 0x3F);
	}
	*cp = v;
	return len;
}

/* What of a text goes into a report: its lines cut at LINE_CAP bytes, the whole at about OUTPUT_CAP,
 * each cut said. A character cut in two is invalid UTF-8, which the escaping turns into U+FFFD. */
static struct buf shorten(const char *s, size_t n)
{
	struct buf b = { 0 };
	size_t i = 0;

	add(&b, "", 0);
	while (i < n && b.len < OUTPUT_CAP) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (s + i)) : n - i;

		if (len > LINE_CAP) {
			add(&b, s + i, LINE_CAP);
			addf(&b, "... (%zu more bytes on this line)", len - LINE_CAP);
		} else {
			add(&b, s + i, len);
		}
		if (nl)
			add(&b, "\n", 1);
		i += len + (nl != NULL);
	}
	if (i < n)
		addf(&b, "... (cut: %zu more bytes)\n", n - i);
	return b;
}

static void json_str(FILE *f, const char *s, size_t n)
{
	struct buf b = shorten(s, n);
	const unsigned char *p = (const unsigned char *)b.s;
	size_t end = b.len, i = 0;

	fputc('"', f);
	while (i < end) {
		long cp;
		size_t k = utf8(p + i, end - i, &cp);

		if (cp == -1)
			fputs("\xEF\xBF\xBD", f); /* U+FFFD */
		else if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp < 0x20 || cp == 0x7F)
			fprintf(f, "\\u%04lx", cp);
		else
			fwrite(p + i, 1, k, f);
		i += k;
	}
	fputc('"', f);
	free(b.s);
}

static void xml_str(FILE *f, const char *s, size_t n)
{
	struct buf b = shorten(s, n);
	const unsigned char *p = (const unsigned char *)b.s;
	size_t end = b.len, i = 0;

	while (i < end) {
		long cp;
		size_t k = utf8(p + i, end - i, &cp);

		if (cp == -1)
			fputs("\xEF\xBF\xBD", f);
		else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\r')
			fputs("&#13;", f);
		else if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xFFFE || cp == 0xFFFF)
			; /* not allowed anywhere in XML 1.0, not even as &#N; */
		else
			fwrite(p + i, 1, k, f);
		i += k;
	}
	free(b.s);
}

static void xml_attr(FILE *f, const char *s)
{
	xml_str(f, s, strlen(s));
}

static FILE *create(const char *dir, const char *name, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s.tmp", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		fatal("cannot write %s: %s", path, strerror(errno));
	return f;
}

/* Write to NAME.tmp, then rename: a reader never sees half a report. */
static void finish(FILE *f, const char *dir, const char *name, char *path)
{
	char final[4096];

	if (fflush(f) == EOF || ferror(f) || fclose(f) == EOF)
		fatal("cannot write %s: %s", path, strerror(errno));
	snprintf(final, sizeof final, "%s/%s", dir, name);
	if (rename(path, final) == -1)
		fatal("cannot rename %s: %s", path, strerror(errno));
}

static const char *status_word(enum status st)
{
	return st == PASSED ? "pass" : st == SKIPPED ? "skip" : st == FAILED ? "FAIL" : "FAIL";
}

static void write_reports(const char *dir, long earned, long max)
{
	char path[4096], a[32], b[32];
	FILE *f;
	int labs_done = 0;
	size_t ntests = 0, nfailed = 0, nskipped = 0;

	for (size_t i = 0; i < nlabs; i++) {
		labs_done += lab_list[i].earned == lab_list[i].points;
		ntests += lab_list[i].n;
		nfailed += (size_t)lab_list[i].failed;
		nskipped += (size_t)lab_list[i].skipped;
	}

	/* summary.txt: per lab, then per test, points earned/possible. */
	f = create(dir, "summary.txt", path, sizeof path);
	fprintf(f, "socklab grades: %s\n", tree_name);
	if (*global_note)
		fprintf(f, "note: %s\n", global_note);
	if (*sandbox_note)
		fprintf(f, "sandbox: %s\n", sandbox_note);
	fputc('\n', f);
	for (size_t i = 0; i < nlabs; i++) {
		struct lab *l = &lab_list[i];

		fprintf(f, "%-20s %6s/%-4s points  %d/%zu tests passed", l->name, pts(l->earned, a), pts(l->points, b),
			l->passed, l->n);
		if (l->skipped)
			fprintf(f, ", %d skipped (scored 0)", l->skipped);
		fputc('\n', f);
		if (l->verdict)
			fprintf(f, "  (%s)\n", l->verdict);
		for (size_t j = 0; j < l->n; j++) {
			struct test *t = &l->t[j];

			fprintf(f, "  %s %5s/%-5s %s", status_word(t->st), pts(t->st == PASSED ? t->max : 0, a),
				pts(t->max, b), t->name);
			if (t->st == NOT_RUN)
				fputs("  (did not run)", f);
			if (t->st == SKIPPED)
				fprintf(f, "  (skipped: %s)", t->skip);
			fputc('\n', f);
		}
	}
	fprintf(f, "\ntotal %s/%s points, %d/%zu labs complete\n", pts(earned, a), pts(max, b), labs_done, nlabs);
	if (nskipped)
		fprintf(f, "%zu test(s) were skipped on this machine and scored 0: grade where nothing is skipped.\n",
			nskipped);
	finish(f, dir, "summary.txt", path);

	/* junit.xml: a testsuite per lab. */
	f = create(dir, "junit.xml", path, sizeof path);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
		"<testsuites name=\"socklab\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\" "
		"time=\"%ld\">\n",
		ntests, nfailed, nskipped, seconds);
	for (size_t i = 0; i < nlabs; i++) {
		struct lab *l = &lab_list[i];

		fputs("  <testsuite name=\"", f);
		xml_attr(f, l->name);
		fprintf(f, "\" tests=\"%zu\" failures=\"%d\" skipped=\"%d\" errors=\"0\">\n", l->n, l->failed,
			l->skipped);
		fprintf(f,
			"    <properties><property name=\"points\" value=\"%s\"/><property name=\"earned\" "
			"value=\"%s\"/></properties>\n",
			pts(l->points, a), pts(l->earned, b));
		for (size_t j = 0; j < l->n; j++) {
			struct test *t = &l->t[j];

			fputs("    <testcase classname=\"", f);
			xml_attr(f, l->name);
			fputs("\" name=\"", f);
			xml_attr(f, t->name);
			fputs("\"", f);
			if (t->st == PASSED) {
				fputs("/>\n", f);
				continue;
			}
			fputs(">\n      ", f);
			if (t->st == SKIPPED) {
				fputs("<skipped message=\"", f);
				xml_attr(f, t->skip);
				fputs("\"/>\n", f);
			} else {
				fprintf(f, "<failure message=\"%s\">", t->st == NOT_RUN ? "did not run" : "failed");
				xml_str(f, t->out.s ? t->out.s : "", t->out.len);
				fputs("</failure>\n", f);
			}
			fputs("    </testcase>\n", f);
		}
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	finish(f, dir, "junit.xml", path);

	/* results.json, as Gradescope's autograder expects it. */
	f = create(dir, "results.json", path, sizeof path);
	fprintf(f,
		"{\n  \"score\": %s,\n  \"max_score\": %s,\n  \"execution_time\": %ld,\n  \"output\": ", pts(earned, a),
		pts(max, b), seconds);
	{
		struct buf o = { 0 };

		addf(&o, "socklab: %s/%s points, %d/%zu labs complete.", pts(earned, a), pts(max, b), labs_done, nlabs);
		if (*global_note)
			addf(&o, " Note: %s.", global_note);
		if (*sandbox_note)
			addf(&o, " Sandbox: %s.", sandbox_note);
		if (nskipped)
			addf(&o, " %zu test(s) were skipped on the grading machine and scored 0.", nskipped);
		json_str(f, o.s, o.len);
		free(o.s);
	}
	fputs(",\n  \"tests\": [", f);
	for (size_t i = 0, first = 1; i < nlabs; i++) {
		struct lab *l = &lab_list[i];

		for (size_t j = 0; j < l->n; j++, first = 0) {
			struct test *t = &l->t[j];
			struct buf o = { 0 };

			if (t->st == SKIPPED)
				addf(&o, "skipped on the grading machine (scored 0): %s", t->skip);
			else if (t->out.len)
				add(&o, t->out.s, t->out.len);
			fprintf(f, "%s\n    {\"name\": ", first ? "" : ",");
			json_str(f, t->name, strlen(t->name));
			fprintf(f,
				", \"number\": \"%.2s.%zu\", \"score\": %s, \"max_score\": %s, \"status\": \"%s\", "
				"\"output\": ",
				l->name, j + 1, pts(t->st == PASSED ? t->max : 0, a), pts(t->max, b),
				t->st == PASSED ? "passed" : "failed");
			json_str(f, o.s ? o.s : "", o.len);
			fputs("}", f);
			free(o.s);
		}
	}
	fputs("\n  ]\n}\n", f);
	finish(f, dir, "results.json", path);
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "plan") == 0)
		return plan(argv + 2);
	if (argc == 3 && strcmp(argv[1], "total") == 0) {
		long earned = 0, max = 0, missing = 0;
		char a[32], b[32], c[32];

		read_plan(argv[2]);
		for (size_t i = 0; i < nlabs; i++) {
			grade_lab(&lab_list[i]);
			earned += lab_list[i].earned;
			max += lab_list[i].points;
			for (size_t j = 0; j < lab_list[i].n; j++)
				if (lab_list[i].t[j].st == SKIPPED)
					missing += lab_list[i].t[j].max;
		}
		printf("%s %s %s\n", pts(earned, a), pts(max, b), pts(missing, c));
		return 0;
	}
	if (argc != 4)
		usage();
	read_plan(argv[2]);
	if (strcmp(argv[1], "tally") == 0) {
		for (size_t i = 0; i < nlabs; i++) {
			struct lab *l = &lab_list[i];
			long with_skips = 0;

			if (strcmp(l->name, argv[3]) != 0)
				continue;
			grade_lab(l);
			for (size_t j = 0; j < l->n; j++)
				if (l->t[j].st == PASSED || l->t[j].st == SKIPPED)
					with_skips += l->t[j].max;
			char a[32], b[32];

			printf("%d %d %d %zu %ld %ld %ld %s %s\n", l->passed, l->skipped, l->failed, l->n, l->earned,
			       with_skips, l->points, pts(l->earned, a), pts(l->points, b));
			return 0;
		}
		fatal("no lab %s in the plan %s", argv[3], argv[2]);
	} else if (strcmp(argv[1], "verdict") == 0) {
		for (size_t i = 0; i < nlabs; i++) {
			if (strcmp(lab_list[i].name, argv[3]) != 0)
				continue;
			grade_lab(&lab_list[i]);
			if (lab_list[i].verdict)
				puts(lab_list[i].verdict);
			return 0;
		}
		fatal("no lab %s in the plan %s", argv[3], argv[2]);
	} else if (strcmp(argv[1], "grade") == 0) {
		long earned = 0, max = 0;
		char a[32], b[32];

		for (size_t i = 0; i < nlabs; i++) {
			grade_lab(&lab_list[i]);
			earned += lab_list[i].earned;
			max += lab_list[i].points;
		}
		write_reports(argv[3], earned, max);
		for (size_t i = 0; i < nlabs; i++)
			printf("%s\t%s\t%s\n", lab_list[i].name, pts(lab_list[i].earned, a),
			       pts(lab_list[i].points, b));
		printf("total\t%s\t%s\n", pts(earned, a), pts(max, b));
		return 0;
	}
	usage();
}
