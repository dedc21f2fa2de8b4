/* Echo servers on 127.0.0.1 for the tests: UDP (every datagram back to its sender) or TCP (one
 * connection; its bytes back, until the peer sends "bye", then the server closes it). */
#ifndef ECHO_H
#define ECHO_H

#include <pthread.h>

struct echo {
	int fd, proto;
	int conn;      /* TCP: the accepted connection, -1 when none */
	unsigned port; /* where it listens */
	pthread_t th;
};

/* Starts one (proto 17 UDP, 6 TCP) on a free port; a cmocka assertion fails if it cannot. */
void echo_start(struct echo *e, int proto);
void echo_stop(struct echo *e);

#endif
