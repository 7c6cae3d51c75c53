/*
 * fake-ctl.c — a stand-in engine control socket for `handshake --engine`
 * tests: listens on a Unix socket and answers each {"cmd":"status"}
 * request with the next status object from a script file (one JSON object
 * per line; the last one repeats), wrapped as the control protocol's
 * success reply. Other commands get an error reply. Prints "port=0" once
 * listening (for tests/lib/topo.sh); exits on SIGTERM.
 *
 *   fake-ctl --socket PATH --script FILE
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char lines[64][4096];
static int nlines;

static void
serve_conn(int fd, int *next)
{
	char buf[8192], out[4200];
	ssize_t n;
	size_t len = 0;
	char *nl;

	for (;;) {
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			if (strstr(buf, "\"status\"") != NULL && nlines > 0) {
				int k = *next < nlines ? *next : nlines - 1;

				(*next)++;
				snprintf(out, sizeof out,
				    "{\"ok\":true,"
				    "\"schema\":1,\"cmd\":\"status\","
				    "\"status\":%s}\n",
				    lines[k]);
			} else
				snprintf(out, sizeof out,
				    "{\"ok\":false,"
				    "\"schema\":1,\"error\":\"unknown "
				    "command\"}\n");
			if (write(fd, out, strlen(out)) < 0)
				return;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	const char *path = NULL, *script = NULL;
	FILE *f;
	int i, lfd, cfd, next = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--socket") == 0)
			path = argv[i + 1];
		else if (strcmp(argv[i], "--script") == 0)
			script = argv[i + 1];
	}
	if (path == NULL || script == NULL ||
	    strlen(path) >= sizeof sun.sun_path) {
		fprintf(
		    stderr, "usage: fake-ctl --socket PATH --script FILE\n");
		return 2;
	}
	if ((f = fopen(script, "r")) == NULL) {
		fprintf(stderr, "fake-ctl: %s: %s\n", script, strerror(errno));
		return 2;
	}
	while (nlines < 64 && fgets(lines[nlines], sizeof lines[0], f))
		if (lines[nlines][0] == '{') {
			lines[nlines][strcspn(lines[nlines], "\n")] = '\0';
			nlines++;
		}
	fclose(f);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(lfd, 8) == -1) {
		fprintf(stderr, "fake-ctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("port=0\n");
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if ((cfd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		serve_conn(cfd, &next);
		close(cfd);
	}
}
