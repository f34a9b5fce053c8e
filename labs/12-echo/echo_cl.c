/* echo_cl.c - lab 12, the capstone client: send all of standard input, print all of the echo.
 *
 * Goal:  a client that works like `nc -N`: it copies standard input to the server and the server's
 *        answer to standard output, both at once, so that a payload of any size goes through
 *        without deadlock; at the end of input it half-closes (shutdown(SHUT_WR)), keeps reading
 *        until the server's EOF, and exits 0 once every byte of the answer has been written out.
 *        Short reads and writes, EINTR and a server that goes away (EPIPE, ECONNRESET: reported,
 *        never a death by SIGPIPE) are all handled.
 * Usage: echo_cl HOST PORT
 *          HOST  the server's numeric IPv4 address, e.g. 127.0.0.1
 *          PORT  1..65535
 *        Prints nothing but the server's answer. SIGUSR1 does nothing but interrupt the call the
 *        client is blocked in. e.g. echo_cl 127.0.0.1 7007 < file > copy;  cmp file copy
 * Calls: socket(2), connect(2), poll(2), read(2), send(2) with MSG_DONTWAIT and MSG_NOSIGNAL,
 *        shutdown(2), write(2), close(2), signal(7) (EINTR, SA_RESTART)
 * Done when: make check LAB=12 passes.
 *
 * Why poll(): writing the whole input first and reading the echo afterwards works for a few
 * kilobytes and hangs for megabytes. The server echoes while we are still sending; nobody reads
 * that echo, so our receive buffer fills, then the server's send buffer; the server blocks in
 * write() and stops reading; its receive buffer and our send buffer fill, and our write() blocks
 * too - for ever. So the client never blocks in a write to the socket: poll() says what can go
 * on (input to read, room in the socket, echo to take), and send() with MSG_DONTWAIT takes only
 * what fits - a short write, finished later. (The other classic answer is two processes or
 * threads, one per direction; one loop with poll() needs no locking and no second process.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socklab.h"

#define BUF_SIZE 65536

static _Noreturn void usage(void)
{
	fputs("usage: echo_cl HOST PORT\n"
	      "  HOST a numeric IPv4 address (127.0.0.1); PORT 1..65535\n"
	      "  sends standard input to the server, prints the answer; e.g. echo_cl 127.0.0.1 7007 < file\n",
	      stderr);
	exit(2);
}

/* SIGUSR1 does nothing; installed without SA_RESTART, it makes the call we are blocked in return
 * early (poll() always fails with EINTR then, even with SA_RESTART). */
static void on_usr1(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv = { .sin_family = AF_INET };
	unsigned short port;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &srv.sin_addr) != 1 || parse_port(argv[2], &port) == -1 ||
	    port == 0)
		usage();
	srv.sin_port = htons(port);
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		die("sigaction");

	/* TODO(12.6): Connect to the server: an IPv4 stream socket in fd, connected
	 * to srv. A failure is fatal (die, naming the call). See socket(2), connect(2). */
	int fd = -1; (void)srv; // placeholder: replace this line

	/* The loop's whole state: out holds a piece of input, of which out[out_off..out_len) is not
	 * sent yet; in takes the echo; in_eof: stdin has ended; shut: we have half-closed; done: the
	 * server's EOF has come. The two directions end independently: the loop runs until both
	 * have (a server may answer and close before our input has ended: its EOF says only that it
	 * will send nothing more). */
	char out[BUF_SIZE], in[BUF_SIZE];
	size_t out_len = 0, out_off = 0;
	int in_eof = 0, shut = 0, done = 0;

	while (!done || !shut) {
		/* What to wait for: input only when the last piece has all gone out (a negative fd is
		 * ignored by poll); room in the socket only when there is something to send; the
		 * echo until the server's EOF (after it, the socket only while there is input to send). */
		struct pollfd p[2] = {
			{ .fd = in_eof || out_off < out_len ? -1 : STDIN_FILENO, .events = POLLIN },
			{ .fd = done && out_off == out_len ? -1 : fd,
			  .events = (short)((done ? 0 : POLLIN) | (out_off < out_len ? POLLOUT : 0)) },
		};
		/* TODO(12.7): Wait, with no time limit, until one of the two entries
		 * of p has an event. If a signal interrupts the wait (EINTR), start the loop again;
		 * any other failure is fatal (die, naming the call). See poll(2). */
		(void)p; errno = ENOSYS; die("poll"); // placeholder: replace this line

		/* TODO(12.8): Standard input to the socket. If p[0] has an event
		 * (data, or a pipe whose writer has gone), read up to BUF_SIZE bytes into out: 0 is
		 * the end of input (set in_eof), n > 0 makes out[0..n) the piece to send (out_off =
		 * 0, out_len = n); a failure other than EINTR is fatal (die, naming the call). If
		 * p[1] is writable, send the unsent part out[out_off..out_len) without blocking and
		 * without SIGPIPE, and move out_off by what the kernel took; once all is sent,
		 * empty out (out_off = out_len = 0). EAGAIN (also spelled EWOULDBLOCK) and EINTR
		 * mean "nothing taken, try later"; any other failure is fatal. See poll(2),
		 * read(2), send(2) (MSG_DONTWAIT, MSG_NOSIGNAL). */
		in_eof = 1; (void)out; // placeholder: replace this line

		/* TODO(12.9): Once the input has ended (in_eof) and all of it has
		 * been sent (out_len == 0), and only once (shut), half-close: send our FIN, keep
		 * reading the echo. A failure is fatal (die, naming the call). See shutdown(2). */

		/* TODO(12.10): The socket to standard output. If p[1] has data, a
		 * hang-up or an error, read up to BUF_SIZE bytes from fd into in: 0 is the server's
		 * end of stream (set done); EINTR: start the loop again; other failures are fatal
		 * (die, naming the call). Write all n bytes to standard output: a write may take
		 * fewer (go on with the rest), EINTR (write again); other failures are fatal. See
		 * poll(2), read(2), write(2). */
		done = 1; (void)in; // placeholder: replace this line
	}
	/* Both directions are done: all input went out, then our FIN; the server's EOF came. (A
	 * server that closed before reading all of our input makes a later send() fail with EPIPE
	 * or ECONNRESET: reported above, exit 1.) */
	if (close(fd) == -1)
		die("close");
	return 0;
}
