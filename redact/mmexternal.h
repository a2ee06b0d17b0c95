/*
 * mmexternal.h: hush-redact --rsyslog-mmexternal, rsyslog's message
 * modification protocol (mmexternal with interface.input="msg"). rsyslog
 * writes one message a line on our stdin and waits for one JSON object a
 * line on our stdout; {"msg":"..."} replaces the message. A message
 * rsyslog gets no reply for is stored unmodified, so every message gets a
 * reply, and one that cannot be redacted is replaced whole (fail closed).
 */
#ifndef HUSH_MMEXTERNAL_H
#define HUSH_MMEXTERNAL_H

#include "redact/redact.h"

/*
 * A redacted message longer than this is replaced by MMX_TOO_LONG rather
 * than cut: rsyslog's own default limit (maxMessageSize) is 8 KiB.
 */
#define MMX_MAX_MSG		(1024 * 1024)
#define MMX_TOO_LONG		"[REDACTED:hush-redact: message over 1MiB]"
#define MMX_FAILED		"[REDACTED:hush-redact: message not processed]"

/*
 * Answers every line read from fd until EOF. Returns HUSH_OK at EOF,
 * HUSH_ERR_IO on a read or write error (reported on stderr), or
 * HUSH_ERR_DENIED when rsyslog closed our stdout.
 */
int mmx_run(const struct redact_rules *rules, int fd);

#endif
