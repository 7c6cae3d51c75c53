/*
 * fuzz-socks.c — libFuzzer target for the client's SOCKS5 / SOCKS4(a)
 * handshake parser. Each input is written, in one or two pieces (the
 * first byte says where to cut), into one end of a socketpair whose other
 * end the client adopts as a local proxy connection; the loop runs until
 * the bytes are consumed. User/password authentication is on for inputs
 * whose cut byte is odd. A fresh client per input keeps state (and file
 * descriptors) from piling up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"
#include "engine/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ev_loop *loop;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_client c;
	struct eng_client *cl;
	int sv[2], i;
	size_t cut;
	uint8_t junk[256];

	if (size < 1 || size > 2000)
		return 0;
	if (loop == NULL && (loop = ev_loop_new(NULL)) == NULL)
		abort();
	cfg_client_defaults(&c);
	free(c.domains);
	c.domains = xcalloc(2, sizeof(char *));
	c.domains[0] = xstrdup("t.example");
	c.ndomains = 1;
	c.method = 0;
	c.resolvers = xcalloc(1, sizeof *c.resolvers);
	net_addr_parse("127.0.0.1:9", 53, &c.resolvers[0], NULL);
	c.nresolvers = 1;
	c.socks_auth = data[0] & 1;
	free(c.socks_user);
	free(c.socks_pass);
	c.socks_user = xstrdup("user");
	c.socks_pass = xstrdup("pass");
	cl = eng_client_new(loop, &c, NULL);
	cfg_client_clear(&c);
	if (cl == NULL)
		abort();
	eng_client_force_session(cl, 1, 7, 141, 1000, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	eng_client_adopt(cl, sv[0]);
	data++;
	size--;
	cut = size ? data[0] % (size + 1) : 0;
	if (cut > 0)
		(void)!send(sv[1], data, cut, MSG_NOSIGNAL);
	for (i = 0; i < 3; i++)
		ev_run_once(loop, 0);
	if (size > cut)
		(void)!send(sv[1], data + cut, size - cut, MSG_NOSIGNAL);
	for (i = 0; i < 3; i++)
		ev_run_once(loop, 0);
	/* Drain replies so the client never blocks on a full socket. */
	while (recv(sv[1], junk, sizeof junk, MSG_DONTWAIT) > 0)
		;
	close(sv[1]);
	ev_run_once(loop, 0);
	eng_client_free(cl);
	return 0;
}
