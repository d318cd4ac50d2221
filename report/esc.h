/*
 * esc.h - making wire bytes safe for each output.
 *
 * Anything that came off the wire (SNI, ALPN, certificate names, a server's
 * non-TLS bytes) goes through one of these before it is printed:
 *  - esc_text: for terminals and plain text. Printable ASCII passes; valid
 *    UTF-8 passes unless it encodes a C1 control or a bidi override; every
 *    other byte, and every control byte (ESC, CR, LF, DEL...), becomes \xNN.
 *  - esc_md: esc_text, then Markdown metacharacters (| ` * _ [ ] < > # \ ~
 *    & @ and leading -+) backslash-escaped or entity-encoded, so a value can
 *    sit in a table cell or inline text; the ':' of "://" and the '.' of
 *    "www." are escaped too, so GitHub does not turn a wire string into a link.
 *  - esc_html: esc_text's decoding, with & < > " ' as entities.
 * JSON has its own writer (jw.h).
 * All write into a caller buffer, always NUL-terminated, truncated with
 * "..." when the buffer is too small. They return the buffer.
 */
#ifndef TLSWHY_ESC_H
#define TLSWHY_ESC_H

#include <stddef.h>
#include <stdint.h>

char *esc_text(char *dst, size_t cap, const uint8_t *s, size_t n);
char *esc_md(char *dst, size_t cap, const uint8_t *s, size_t n);
char *esc_html(char *dst, size_t cap, const uint8_t *s, size_t n);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
size_t utf8_seq_len(const uint8_t *s, size_t n);

#endif
