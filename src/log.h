/* Logging to stderr (foreground) or syslog, with levels and a rate limit. */
#ifndef PPTPGW_LOG_H
#define PPTPGW_LOG_H

#include <stdint.h>
#include <syslog.h>

void log_init(const char *ident, int level, int use_syslog);
void log_set_level(int level);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* At most burst lines per minute per call site (pass a static state). */
struct log_rl { uint64_t window; unsigned n, suppressed; };
void log_limited(struct log_rl *rl, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * At most one line a second from one state (one per reason, say): a flood
 * of the same refusal costs one line a second, which also says how many
 * like it were left out since the last.
 */
struct log_sec { uint64_t last_ms; unsigned suppressed; };
void log_per_second(struct log_sec *ls, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
