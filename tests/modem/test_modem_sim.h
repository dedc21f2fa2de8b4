/* The groups of test_modem_sim, one ctest each, and what they share. */
#ifndef TEST_MODEM_SIM_H
#define TEST_MODEM_SIM_H

#include "simh.h"

/* A fresh simulator (fast boot, no pacing), booted, echo off; state is its struct simh. */
int msim_setup(void **state);
int msim_teardown(void **state);
/* Registered, cid 1 defined, PSD profile 0 mapped and activated (+UUPSDA seen): 0 or -1. */
int msim_pdp_up(struct simh *h);

int modem_sim_at(void);
int modem_sim_sockets(void);
int modem_sim_files(void);
int modem_sim_faults(void);
int modem_sim_pacing(void);
int modem_sim_xmodem(void);

#endif
