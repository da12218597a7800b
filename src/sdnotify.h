/*
 * Readiness and status for systemd (Type=notify), by the documented
 * protocol: one datagram to the socket named in $NOTIFY_SOCKET.  Without
 * that variable (not started by systemd) it does nothing.
 */
#ifndef PPTPGW_SDNOTIFY_H
#define PPTPGW_SDNOTIFY_H

/* Sends msg ("READY=1", "STATUS=...", lines joined by \n); 1 if sent, 0
 * without a notify socket, -1 on error. */
int sd_notify_send(const char *msg);

#endif
