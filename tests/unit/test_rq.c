/*
 * test_rq.c - the report thread's queue (app/rq.c): records come out
 * in the order they went in, each once, handled on the report thread and
 * released on the pushing thread; rq_drain returns only when everything
 * pushed was handled; more than RQ_CAP records make the pusher wait; the
 * records of a run that ends with fewer than a batch are still handled,
 * and so are those the pusher gathered (RQ_LOCAL) before it took the lock;
 * a record the report thread keeps a while (app/main.c's window) is
 * released only once it is handed out, and a NULL push reaches it as a mark.
 * The pushing thread releases at most RQ_RELEASE records a push (the rest
 * at rq_finish). The report thread runs SCHED_BATCH (capture/batch.h: it does not preempt
 * the analysis thread that wakes it); the pushing thread keeps its policy.
 */
#include "app/rq.h"
#include "capture/batch.h"
#include "tests/unit/check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct seen {
	pthread_t pusher;
	uint64_t next_handled;   /* the id the report thread expects next */
	uint64_t next_released;
	int out_of_order, wrong_thread_fn, wrong_thread_rel, bad_now, released_early, not_batch;
	unsigned since_push, most_a_push;   /* releases since the last push, and the most one push made */
	uint64_t handled;        /* written by the report thread, read after drain */
	unsigned keep;           /* records the report thread holds back (0: none) */
	struct hs_record *held[8];
	unsigned nheld;
	uint64_t marks;          /* NULL pushes seen */
	uint8_t *out;            /* out[id]: handed to out (written before the release reads it) */
};

static void give(struct seen *s, struct hs_record *r, struct rq_out *out)
{
	s->out[r->id] = 1;
	rq_out_add(out, r);
}

static void fn(struct hs_record *r, int64_t now_us, void *arg, struct rq_out *out)
{
	struct seen *s = arg;
	unsigned i;
	if (pthread_equal(pthread_self(), s->pusher))
		s->wrong_thread_fn = 1;
#ifdef SCHED_BATCH
	if (sched_getscheduler(0) != SCHED_BATCH)
		s->not_batch = 1;
#endif
	if (!r) {   /* a mark: everything held is handed out, oldest first */
		s->marks++;
		for (i = 0; i < s->nheld; i++)
			give(s, s->held[i], out);
		s->nheld = 0;
		return;
	}
	if (r->id != __atomic_load_n(&s->next_handled, __ATOMIC_RELAXED))
		s->out_of_order = 1;
	if (now_us != (int64_t)r->id * 10)
		s->bad_now = 1;
	__atomic_store_n(&s->next_handled, r->id + 1, __ATOMIC_RELEASE);   /* rel() reads it on the pusher's thread */
	s->handled++;
	if (!s->keep) {
		give(s, r, out);
		return;
	}
	if (s->nheld == s->keep) {
		give(s, s->held[0], out);
		for (i = 1; i < s->nheld; i++)
			s->held[i - 1] = s->held[i];
		s->nheld--;
	}
	s->held[s->nheld++] = r;
}

static void rel(struct hs_record *r, void *arg)
{
	struct seen *s = arg;
	if (!pthread_equal(pthread_self(), s->pusher))
		s->wrong_thread_rel = 1;
	if (r->id >= __atomic_load_n(&s->next_handled, __ATOMIC_ACQUIRE) || !s->out[r->id])
		s->released_early = 1;
	s->next_released++;
	s->since_push++;
	record_free(r);
}

static void run_keep(const char *name, uint64_t n, int drain_every, unsigned keep)
{
	struct seen s = { 0 };
	struct rq *q;
	uint64_t i;
	char what[160];
	s.pusher = pthread_self();
	s.keep = keep;
	s.out = calloc(n + 1, 1);
	CHECKF(s.out != NULL, "calloc");
	if (!s.out)
		return;
	q = rq_start(fn, rel, &s);
	CHECKF(q != NULL, "rq_start");
	if (!q) {
		free(s.out);
		return;
	}
	for (i = 0; i < n; i++) {
		s.since_push = 0;
		rq_push(q, record_new(i), (int64_t)i * 10);
		if (s.since_push > s.most_a_push)
			s.most_a_push = s.since_push;
		if (drain_every && (i + 1) % (uint64_t)drain_every == 0) {
			if (keep)
				rq_push(q, NULL, 0);
			rq_drain(q);
			snprintf(what, sizeof(what), "%s: after rq_drain at %llu every record was handled", name,
				 (unsigned long long)i);
			CHECKF(s.handled == i + 1 && s.nheld == 0, "%s", what);
		}
	}
	if (keep)
		rq_push(q, NULL, 0);
	rq_finish(q);
	if (keep) {
		snprintf(what, sizeof(what), "%s: every mark reached the report thread", name);
		CHECKF(s.marks == 1 + (drain_every ? n / (uint64_t)drain_every : 0), "%s", what);
	}
	free(s.out);
	snprintf(what, sizeof(what), "%s: all %llu handled", name, (unsigned long long)n);
	CHECKF(s.handled == n, "%s", what);
	snprintf(what, sizeof(what), "%s: all released", name);
	CHECKF(s.next_released == n, "%s", what);
	snprintf(what, sizeof(what), "%s: in order, with their capture times", name);
	CHECKF(!s.out_of_order && !s.bad_now, "%s", what);
	snprintf(what, sizeof(what), "%s: handled on the report thread, released on the pusher's", name);
	CHECKF(!s.wrong_thread_fn && !s.wrong_thread_rel, "%s", what);
	CHECKF(!s.not_batch, "%s: the report thread is SCHED_BATCH", what);
#ifdef SCHED_BATCH
	CHECKF(sched_getscheduler(0) != SCHED_BATCH, "%s: the pushing thread keeps its policy", what);
#endif
	snprintf(what, sizeof(what), "%s: at most RQ_RELEASE released a push (%u)", name, s.most_a_push);
	CHECKF(s.most_a_push <= RQ_RELEASE, "%s", what);
	snprintf(what, sizeof(what), "%s: never released before it was handled", name);
	CHECKF(!s.released_early, "%s", what);
}

static void run(const char *name, uint64_t n, int drain_every)
{
	run_keep(name, n, drain_every, 0);
}

int main(void)
{
	run("no records", 0, 0);
	run("fewer than a batch", RQ_BATCH - 1, 0);
	run("fewer than a gathering", RQ_LOCAL - 1, 0);
	run("a gathering and one", RQ_LOCAL + 1, 0);
	run("drained every 31", 40 * RQ_LOCAL, 31);
	run("ten times the ring", 10 * RQ_CAP + 7, 0);
	run("drained every 5", 1000, 5);
	run("drained every batch", 3 * RQ_BATCH, RQ_BATCH);
	run_keep("three held back", 10 * RQ_CAP + 7, 0, 3);
	run_keep("eight held back, a mark every 50", 1000, 50, 8);
	rq_drain(NULL);
	rq_finish(NULL);
	record_pools_free();
	return check_done();
}
