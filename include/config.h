/*
 * The configuration file, /etc/pptpgw.conf: sections and "key = value"
 * lines, '#' comments.  Pure: parses text into a daemon_cfg, and names the
 * file and line of the first error.
 *
 *   [gateway]   wan (a list; may repeat), queue, rules (yes/no), mark
 *   [limits]    max_calls, max_conns
 *   [timeouts]  holddown, call_idle, conn_idle, request, clearing (seconds)
 *   [control]   socket
 *   [metrics]   listen (ADDR:PORT or off)
 *   [log]       level (error, warning, notice, info, debug), syslog (yes/no)
 */
#ifndef PPTPGW_CONFIG_H
#define PPTPGW_CONFIG_H

#include <stddef.h>

#include "daemon.h"

/*
 * Apply the settings in text (NUL-terminated) on top of c.  name is the
 * file name used in messages.  Returns 0, or -1 with "name:line: reason"
 * in err; c may be partly changed then.
 */
int config_parse(const char *text, const char *name, struct daemon_cfg *c,
		 char *err, size_t errlen);

/* Read and apply a file; a missing file is an error only if required. */
int config_load(const char *path, int required, struct daemon_cfg *c,
		char *err, size_t errlen);

/* A log level name ("error" .. "debug") as a syslog priority, -1 if none. */
int config_level_parse(const char *s);

/* Add a WAN interface; -1 with a reason if the name or the count is bad. */
int config_add_wan(struct daemon_cfg *c, const char *name, char *err,
		   size_t errlen);

#endif
