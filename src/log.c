#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int log_lvl = LOG_INFO;
static int log_syslog;

void log_init(const char *ident, int level, int use_syslog)
{
	log_lvl = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int level)
{
	log_lvl = level;
}

static void log_v(int prio, const char *fmt, va_list ap)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
					     "warning", "notice", "info",
					     "debug" };

	if (prio > log_lvl)
		return;
	if (log_syslog) {
		vsyslog(prio, fmt, ap);
		return;
	}
	{
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld pptpgw: %s: ", tm.tm_hour,
			tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
			names[prio & 7]);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(prio, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_rl *rl, int prio, const char *fmt, ...)
{
	uint64_t minute = (uint64_t)time(NULL) / 60;
	va_list ap;

	if (rl->window != minute) {
		if (rl->suppressed)
			log_msg(prio, "(%u similar messages suppressed)",
				rl->suppressed);
		rl->window = minute;
		rl->n = rl->suppressed = 0;
	}
	if (rl->n >= 10) {
		rl->suppressed++;
		return;
	}
	rl->n++;
	va_start(ap, fmt);
	log_v(prio, fmt, ap);
	va_end(ap);
}

void log_per_second(struct log_sec *ls, int prio, const char *fmt, ...)
{
	struct timespec ts;
	uint64_t now;
	char line[512];
	va_list ap;

	if (prio > log_lvl)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	/* 0 means never logged: the clock starts near 0 at boot only. */
	if (ls->last_ms && now - ls->last_ms < 1000) {
		ls->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ls->suppressed)
		log_msg(prio, "%s (%u more like it left out since the last such line)",
			line, ls->suppressed);
	else
		log_msg(prio, "%s", line);
	ls->last_ms = now ? now : 1;
	ls->suppressed = 0;
}
