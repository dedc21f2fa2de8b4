/* Echo servers for the tests; see echo.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo.h"

/* Echoes every datagram (UDP) or every byte of one connection (TCP), then closes it. */
static void *echo_main(void *arg)
{
	struct echo *e = arg;
	uint8_t buf[2048];

	if (e->proto == 17) {
		for (;;) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t k =
			        recvfrom(e->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

			if (k <= 0 ||
			    sendto(e->fd, buf, (size_t)k, 0, (struct sockaddr *)&from, fl) < 0)
				return NULL;
		}
	}
	int c = accept(e->fd, NULL, NULL);

	__atomic_store_n(&e->conn, c, __ATOMIC_SEQ_CST);
	ssize_t k;

	while (c >= 0 && (k = recv(c, buf, sizeof(buf), 0)) > 0) {
		if (!memcmp(buf, "bye", 3))
			break; /* the peer closes: the module reports +UUSOCL */
		if (send(c, buf, (size_t)k, 0) < 0)
			break;
	}
	if (c >= 0) {
		__atomic_store_n(&e->conn, -1, __ATOMIC_SEQ_CST);
		close(c);
	}
	return NULL;
}

void echo_start(struct echo *e, int proto)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);

	e->proto = proto;
	e->conn = -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	e->fd = socket(AF_INET, proto == 17 ? SOCK_DGRAM : SOCK_STREAM, 0);
	assert_true(e->fd >= 0);
	assert_int_equal(bind(e->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(e->fd, (struct sockaddr *)&sa, &sl), 0);
	if (proto == 6)
		assert_int_equal(listen(e->fd, 1), 0);
	e->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&e->th, NULL, echo_main, e), 0);
}

void echo_stop(struct echo *e)
{
	int c = __atomic_load_n(&e->conn, __ATOMIC_SEQ_CST);

	/* shutdown wakes the thread in recvfrom / accept / recv; it returns, no cancel needed */
	shutdown(e->fd, SHUT_RDWR);
	if (c >= 0)
		shutdown(c, SHUT_RDWR);
	pthread_join(e->th, NULL);
	close(e->fd);
}
