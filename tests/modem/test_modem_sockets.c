/* modem-sim.sockets: registration, the PDP context, and UDP and TCP sockets that reach local
 * echo servers through the simulator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo.h"
#include "test_modem_sim.h"

static void test_register_pdp(void **state)
{
	struct simh *h = *state;

	assert_int_equal(simh_at(h, "AT+CEREG=2", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CFUN=0", "OK", "+CEREG: 0", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UPSDA=0,3", "ERROR", NULL), 0); /* not registered */
	assert_int_equal(simh_at(h, "AT+CFUN=1", "OK", "+CEREG: 2", NULL), 0);
	assert_int_equal(simh_expect(h, "+CEREG: 1,\"0001\",\"01A2D001\",7", 3000), 0);
	assert_int_equal(simh_at(h, "AT+CEREG?", "+CEREG: 2,1,\"0001\",\"01A2D001\",7", "OK", NULL),
	                 0);
	assert_int_equal(msim_pdp_up(h), 0);
	assert_int_equal(simh_at(h, "AT+UPSND=0,8", "+UPSND: 0,8,1", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UPSND=0,0", "+UPSND: 0,0,\"10.1.0.3\"", "OK", NULL), 0);
	/* the network drops registration: the context goes with it */
	simh_ctl(h, "cereg 4");
	assert_int_equal(simh_expect(h, "+UUPSDD: 0", 2000), 0);
	assert_int_equal(simh_at(h, "AT+UPSND=0,8", "+UPSND: 0,8,0", "OK", NULL), 0);
}

static void test_udp_echo(void **state)
{
	struct simh *h = *state;
	struct echo e;
	char cmd[128], want[1200], big[1100];

	echo_start(&e, 17);
	assert_int_equal(msim_pdp_up(h), 0);
	assert_int_equal(simh_at(h, "AT+USOCR=17", "+USOCR: 0", "OK", NULL), 0);
	snprintf(cmd, sizeof(cmd), "AT+USOST=0,\"127.0.0.1\",%u,5", e.port);
	simh_send(h, cmd);
	assert_int_equal(simh_wait_byte(h, '@', 2000), 0);
	simh_write(h, "hello", 5);
	assert_int_equal(simh_expect(h, "+USOST: 0,5", 2000), 0);
	assert_int_equal(simh_expect(h, "OK", 2000), 0);
	assert_int_equal(simh_expect(h, "+UUSORD: 0,5", 2000), 0);
	snprintf(want, sizeof(want), "+USORF: 0,\"127.0.0.1\",%u,5,\"hello\"", e.port);
	assert_int_equal(simh_at(h, "AT+USORF=0,5", want, "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+USORF=0,0", "+USORF: 0,0", "OK", NULL), 0);
	/* a full 1024-byte datagram goes; 1025 is refused */
	memset(big, 'x', 1024);
	snprintf(cmd, sizeof(cmd), "AT+USOST=0,\"127.0.0.1\",%u,1024", e.port);
	simh_send(h, cmd);
	assert_int_equal(simh_wait_byte(h, '@', 2000), 0);
	simh_write(h, big, 1024);
	assert_int_equal(simh_expect(h, "+UUSORD: 0,1024", 2000), 0);
	/* a partial read: the rest is announced again */
	snprintf(want, sizeof(want), "+USORF: 0,\"127.0.0.1\",%u,1000,\"%.1000s\"", e.port, big);
	assert_int_equal(simh_at(h, "AT+USORF=0,1000", want, "OK", "+UUSORD: 0,24", NULL), 0);
	snprintf(cmd, sizeof(cmd), "AT+USOST=0,\"127.0.0.1\",%u,1025", e.port);
	assert_int_equal(simh_at(h, cmd, "ERROR", NULL), 0);
	/* hex mode, data in the command */
	assert_int_equal(simh_at(h, "AT+UDCONF=1,1", "OK", NULL), 0);
	snprintf(cmd, sizeof(cmd), "AT+USOST=0,\"127.0.0.1\",%u,2,\"0AFF\"", e.port);
	assert_int_equal(simh_at(h, cmd, "+USOST: 0,2", "OK", "+UUSORD: 0,2", NULL), 0);
	/* only loopback is reachable */
	assert_int_equal(simh_at(h, "AT+USOST=0,\"192.0.2.1\",7,2,\"0AFF\"", "ERROR", NULL), 0);
	echo_stop(&e);
}

static void test_socket_limit(void **state)
{
	struct simh *h = *state;
	char want[32];

	for (int i = 0; i < 7; i++) {
		snprintf(want, sizeof(want), "+USOCR: %d", i);
		assert_int_equal(simh_at(h, "AT+USOCR=17", want, "OK", NULL), 0);
	}
	assert_int_equal(simh_at(h, "AT+USOCR=17", "ERROR", NULL), 0);
	assert_int_equal(simh_at(h, "AT+USOCL=3", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+USOCR=6", "+USOCR: 3", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+USOCL=3;+USOCL=3", "ERROR", NULL), 0);
}

static void test_tcp_echo(void **state)
{
	struct simh *h = *state;
	struct echo e;
	char cmd[128];

	echo_start(&e, 6);
	assert_int_equal(msim_pdp_up(h), 0);
	assert_int_equal(simh_at(h, "AT+USOCR=6", "+USOCR: 0", "OK", NULL), 0);
	snprintf(cmd, sizeof(cmd), "AT+USOCO=0,\"127.0.0.1\",%u", e.port);
	assert_int_equal(simh_at(h, cmd, "OK", NULL), 0);
	simh_send(h, "AT+USOWR=0,6");
	assert_int_equal(simh_wait_byte(h, '@', 2000), 0);
	simh_write(h, "abcdef", 6);
	assert_int_equal(simh_expect(h, "+USOWR: 0,6", 2000), 0);
	assert_int_equal(simh_expect(h, "OK", 2000), 0);
	assert_int_equal(simh_expect(h, "+UUSORD: 0,6", 2000), 0);
	assert_int_equal(simh_at(h, "AT+USORD=0,4", "+USORD: 0,4,\"abcd\"", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+USORD=0,0", "+USORD: 0,2", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+USORD=0,10", "+USORD: 0,2,\"ef\"", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+USOWR=0,3,\"bye\"", "+USOWR: 0,3", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UUSOCL: 0", 2000), 0);
	echo_stop(&e);
}

int modem_sim_sockets(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test_setup_teardown(test_register_pdp, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_udp_echo, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_socket_limit, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_tcp_echo, msim_setup, msim_teardown),
	};
	return cmocka_run_group_tests_name("modem-sim.sockets", t, NULL, NULL);
}
