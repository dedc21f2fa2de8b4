/* Retry the failed (issue 14): whether a job may be retried, that is whether a new job may be made
 * for its devices that did not get the image, with the same image and settings. Pure: the store
 * reads the facts in the transaction that creates the retry and asks here. */
#ifndef FUOTA_JOB_RETRY_H
#define FUOTA_JOB_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the store knows of the job to retry. */
struct job_retry_facts {
	const char *state;       /* the job's state: "pending" .. "cancelled" */
	uint64_t devices_failed; /* its devices not done (step other than "done") that still
	                            exist in the tenant and in the job's region */
	bool has_firmware;       /* its image still exists (a finished job's may be deleted) */
	int64_t open_retry;      /* the id of a retry of it that is not finished, 0: none */
	int64_t reboot_at_ms;    /* its TS006 reboot_at (Unix ms), 0: none */
	uint32_t reboot_in_s;    /* its TS006 reboot_in_s, 0: none */
	int64_t now_ms;          /* the time of the retry (the database's) */
};

enum job_retry_verdict {
	JOB_RETRY_OK = 0,
	JOB_RETRY_NOT_FINISHED, /* pending, running or paused: its devices may still succeed */
	JOB_RETRY_NOTHING,      /* every device has the image (or those that failed are gone) */
	JOB_RETRY_NO_IMAGE,     /* the image was deleted since */
	JOB_RETRY_OPEN,         /* an earlier retry is still under way for the same devices */
};

/* The verdict, and in why (cap bytes, always terminated) the sentence a 409 gives the operator
 * ("" for JOB_RETRY_OK). Only succeeded, failed and cancelled jobs are retried: a succeeded
 * job may still have devices that failed (a job succeeds when one device has the image). */
enum job_retry_verdict job_retry_decide(const struct job_retry_facts *f, char *why, size_t cap);

/* The TS006 reboot the retry orders after each device's clean-up: returns its reboot_in_s (0:
 * none) and *keep_at, whether it copies the first job's reboot_at. A reboot_at still ahead is
 * kept, the operator's time. One already past is not copied: the API refuses a past time, and
 * the retry starts now. The operator still asked for a reboot (the image is of no use until
 * the device boots it, and only then is its version checked): the retry reboots each device as
 * soon as it has the image, reboot_in_s 1, as the first job did with a device that got it after
 * reboot_at (engine_reboot_countdown_s). A reboot_in_s is copied as it is. */
uint32_t job_retry_reboot(const struct job_retry_facts *f, bool *keep_at);

/* The error code of a verdict in the API's 409 ("invalid_state", "nothing_to_retry",
 * "firmware_deleted", "retry_running"; "" for OK). */
const char *job_retry_code(enum job_retry_verdict v);

#endif
