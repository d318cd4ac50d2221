/*
 * rq.h - the report thread: finished handshake records go from the
 * analysis thread (decoding, flows, TCP, TLS, X.509) to a second thread
 * that runs the rules and writes the report, in the order they finished.
 *
 * The analysis thread hands a record over; the report thread reads it
 * (it may keep it a while: app/main.c's window) and hands it back to be
 * freed. Records carry everything the
 * rules and reports read, and the certificates they point at are held by
 * reference (dissect/x509.c takes a lock for that), so the two threads
 * share nothing else. One consumer, first in first out: the report is
 * byte for byte the one a single thread writes (tests/reader.sh checks).
 *
 * Memory stays bounded: at most RQ_CAP records wait in the ring and
 * RQ_LOCAL more gathered before it; the analysis thread waits when the
 * report thread is that far behind.
 */
#ifndef TLSWHY_APP_RQ_H
#define TLSWHY_APP_RQ_H

#include <stdint.h>

#include "dissect/record.h"

#define RQ_CAP   1024u    /* records waiting at most */
#define RQ_BATCH 256u     /* the report thread is woken for this many (or the end) */
#define RQ_RELEASE 2u     /* handled records the analysis thread releases a push (app/rq.c) */
#define RQ_LOCAL 32u      /* records the analysis thread gathers before it takes the lock (app/rq.c) */
_Static_assert(RQ_LOCAL <= RQ_CAP, "a gathering fits the ring");

struct rq;

/* What `fn` is done with: records linked through ->user, released (freed)
 * on the analysis thread. */
struct rq_out {
	struct hs_record *head, *tail;
};

static inline void rq_out_add(struct rq_out *o, struct hs_record *r)
{
	r->user = NULL;
	if (o->tail)
		o->tail->user = r;
	else
		o->head = r;
	o->tail = r;
}

/* Releases a list linked through ->user (an rq_out's head), in order. */
void rq_release_list(struct hs_record *r, void (*release)(struct hs_record *r, void *arg), void *arg);

/* `fn` runs on the report thread for each item pushed, in order, with the
 * capture time the analysis thread had when it pushed it; r may be NULL (a
 * mark the caller gives a meaning). It hands the records it is done with,
 * this one or earlier ones, to `out`; `release` (which frees them) then
 * runs on the analysis thread, in rq_push or rq_finish.
 * NULL when the thread cannot be started: the caller then runs both itself. */
struct rq *rq_start(void (*fn)(struct hs_record *r, int64_t now_us, void *arg, struct rq_out *out),
		    void (*release)(struct hs_record *r, void *arg), void *arg);
void rq_push(struct rq *q, struct hs_record *r, int64_t now_us);
/* Returns when every record pushed so far has been handled (before this
 * thread writes to stderr, so messages land where a single thread puts them). */
void rq_drain(struct rq *q);
/* Every record pushed has been handled when this returns; frees q. */
void rq_finish(struct rq *q);

#endif
