/* Whether a job may be retried (see fuota/job_retry.h). */
#include "fuota/job_retry.h"

#include <stdio.h>
#include <string.h>

static bool finished(const char *state)
{
	return state && (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
	                 strcmp(state, "cancelled") == 0);
}

enum job_retry_verdict job_retry_decide(const struct job_retry_facts *f, char *why, size_t cap)
{
	if (cap)
		why[0] = 0;
	if (!finished(f->state)) {
		snprintf(why, cap,
		         "the job is %s: only a finished job (succeeded, failed or cancelled) "
		         "can be retried",
		         f->state ? f->state : "in an unknown state");
		return JOB_RETRY_NOT_FINISHED;
	}
	if (f->devices_failed == 0) {
		snprintf(why, cap, "no device of the job failed: there is nothing to retry");
		return JOB_RETRY_NOTHING;
	}
	if (!f->has_firmware) {
		snprintf(why, cap, "the job's firmware image was deleted: create a new job");
		return JOB_RETRY_NO_IMAGE;
	}
	if (f->open_retry > 0) {
		snprintf(why, cap, "job %lld already retries this job and has not finished",
		         (long long)f->open_retry);
		return JOB_RETRY_OPEN;
	}
	return JOB_RETRY_OK;
}

uint32_t job_retry_reboot(const struct job_retry_facts *f, bool *keep_at)
{
	*keep_at = f->reboot_at_ms > 0 && f->reboot_at_ms > f->now_ms;
	if (f->reboot_at_ms > 0 && !*keep_at)
		return 1;
	return f->reboot_in_s;
}

const char *job_retry_code(enum job_retry_verdict v)
{
	switch (v) {
	case JOB_RETRY_OK: return "";
	case JOB_RETRY_NOT_FINISHED: return "invalid_state";
	case JOB_RETRY_NOTHING: return "nothing_to_retry";
	case JOB_RETRY_NO_IMAGE: return "firmware_deleted";
	case JOB_RETRY_OPEN: return "retry_running";
	}
	return "invalid_state";
}
