/* The AT handlers of the simulator, one per command; the table in msim_cmd.c names them. See
 * msim.h for what a handler returns. */
#ifndef MSIM_HANDLERS_H
#define MSIM_HANDLERS_H

#include "msim.h"

#define MSIM_HANDLER(fn) int fn(struct msim *m, const struct msim_cmd *c)

/* msim_cmd_net.c */
MSIM_HANDLER(msim_h_cfun);
MSIM_HANDLER(msim_h_cereg);
MSIM_HANDLER(msim_h_cops);
MSIM_HANDLER(msim_h_csq);
MSIM_HANDLER(msim_h_cgatt);
MSIM_HANDLER(msim_h_cgdcont);
MSIM_HANDLER(msim_h_upsd);
MSIM_HANDLER(msim_h_upsda);
MSIM_HANDLER(msim_h_upsnd);
MSIM_HANDLER(msim_h_usocr);
MSIM_HANDLER(msim_h_usoco);
MSIM_HANDLER(msim_h_usost);
MSIM_HANDLER(msim_h_usowr);
MSIM_HANDLER(msim_h_usorf);
MSIM_HANDLER(msim_h_usord);
MSIM_HANDLER(msim_h_usocl);
MSIM_HANDLER(msim_h_udconf);
/* msim_cmd_fs.c */
MSIM_HANDLER(msim_h_udwnfile);
MSIM_HANDLER(msim_h_ulstfile);
MSIM_HANDLER(msim_h_udelfile);
MSIM_HANDLER(msim_h_urdfile);
MSIM_HANDLER(msim_h_uhttp);
MSIM_HANDLER(msim_h_uhttpc);
MSIM_HANDLER(msim_h_uhttper);
MSIM_HANDLER(msim_h_uftp);
MSIM_HANDLER(msim_h_uftpc);
MSIM_HANDLER(msim_h_uftper);
MSIM_HANDLER(msim_h_usimxrecv);
MSIM_HANDLER(msim_h_ufactory);
MSIM_HANDLER(msim_h_ufwupd);
MSIM_HANDLER(msim_h_ufwinstall);
MSIM_HANDLER(msim_h_ufotaconfig);
MSIM_HANDLER(msim_h_ufotaack);
MSIM_HANDLER(msim_h_ufota);
MSIM_HANDLER(msim_h_ufotastat);
MSIM_HANDLER(msim_h_usecfw);
MSIM_HANDLER(msim_h_ulwm2mreg);
MSIM_HANDLER(msim_h_ulwm2mdereg);
MSIM_HANDLER(msim_h_usecmode);
MSIM_HANDLER(msim_h_ulwm2mread);
MSIM_HANDLER(msim_h_ulwm2mwrite);
MSIM_HANDLER(msim_h_ulwm2mstat);

#endif
