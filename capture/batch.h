/*
 * batch.h - a helper thread that never preempts the thread it wakes.
 *
 * tlswhy's pipeline is three threads on as few as two cores: the reader
 * (capture/fast.c), the analysis thread, and the report thread (app/rq.c).
 * The analysis thread is the longest of the three and wakes the other two
 * thousands of times a run (a block taken, a batch of records handed on).
 * A thread woken under the default policy may preempt the one running on
 * its CPU; on a two-core machine that is often the analysis thread, which
 * then waits while a core idles (perf sched: 15-25% of the cores idle on
 * the benchmark capture, issue 19). SCHED_BATCH (sched(7)) keeps the same
 * share of the CPU but gives up wakeup preemption: the woken helper waits
 * for the next tick or a free core instead. No privilege is needed; where
 * the call is refused (a container policy) nothing changes but the speed.
 */
#ifndef TLSWHY_BATCH_H
#define TLSWHY_BATCH_H

#include <sched.h>

#if defined(__linux__) && !defined(SCHED_BATCH)
#define SCHED_BATCH 3   /* <sched.h> names it only under _GNU_SOURCE */
#endif

/* The calling thread becomes SCHED_BATCH (Linux: the policy is a thread's). */
static inline void thread_batch(void)
{
#ifdef SCHED_BATCH
	struct sched_param sp = { 0 };
	(void)sched_setscheduler(0, SCHED_BATCH, &sp);
#endif
}

#endif
