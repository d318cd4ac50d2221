/*
 * rq.c - the report thread (see rq.h).
 *
 * A ring of RQ_CAP slots under one mutex. Waking a thread costs a futex
 * call, which per record would cost more than the handover saves, so the
 * report thread sleeps until RQ_BATCH records wait (or the end), takes
 * everything waiting at once, and handles it without the lock; the
 * analysis thread sleeps only when the ring is full, and is woken when it
 * is half empty.
 *
 * Records are freed where they were made: the report thread links the ones
 * it is done with into a list the analysis thread takes on its next
 * rq_push. glibc's malloc gives each thread its own arena, and frees
 * from the other thread contend for that arena's lock. The analysis thread
 * releases RQ_RELEASE of them a push rather than the whole batch at once:
 * a record's parts freed by the hundred overflow malloc's per-thread cache
 * (seven blocks a size) into its bins, and the next connections' parts
 * then come back out of the bins the slow way (issue 19: freeing records
 * was 3% of a run's CPU). It takes back about one a push, so the list stays
 * short; rq_finish releases the rest.
 *
 * The analysis thread gathers RQ_LOCAL records before it takes the lock
 * (rq_drain and rq_finish hand over what it gathered): the lock's cache
 * line then crosses between the cores once a gathering, not once a
 * record (issue 19: locking and unlocking took 3% of the analysis
 * thread). The report thread is offline only, where nothing waits on a
 * record's report.
 */
#include "app/rq.h"
#include "capture/batch.h"
#include "dissect/fp.h"

#include <pthread.h>
#include <stdlib.h>

struct rq_item {
	struct hs_record *r;
	int64_t now_us;
};

struct rq {
	pthread_mutex_t mu;
	pthread_cond_t more;     /* to the report thread: a batch waits, or the end */
	pthread_cond_t room;     /* to the analysis thread: the ring has room */
	struct rq_item it[RQ_CAP];
	struct rq_item take[RQ_CAP];   /* the report thread's copy of what it took */
	unsigned head, count;
	int closed;
	int busy;                /* the report thread is handling records it took */
	int draining;            /* rq_drain waits: take any count, not only a batch */
	int cons_waiting, prod_waiting;
	struct hs_record *done;  /* handled, waiting to be taken back; linked through ->user */
	struct hs_record *pend;  /* taken back, to be released (the analysis thread's alone) */
	struct rq_item local[RQ_LOCAL];   /* gathered, not yet in it[] (the analysis thread's alone) */
	unsigned nlocal;
	pthread_t tid;
	void (*fn)(struct hs_record *r, int64_t now_us, void *arg, struct rq_out *out);
	void (*release)(struct hs_record *r, void *arg);
	void *arg;
};

void rq_release_list(struct hs_record *r, void (*release)(struct hs_record *r, void *arg), void *arg)
{
	while (r) {
		struct hs_record *next = r->user;
		r->user = NULL;
		release(r, arg);
		r = next;
	}
}

static void release_list(struct rq *q, struct hs_record *r)
{
	rq_release_list(r, q->release, q->arg);
}

static void *rq_main(void *arg)
{
	struct rq *q = arg;
	struct rq_item *take = q->take;
	struct rq_out out;
	thread_batch();   /* woken by the analysis thread, it does not preempt it (capture/batch.h) */
	for (;;) {
		unsigned n, i;
		pthread_mutex_lock(&q->mu);
		while (q->count < RQ_BATCH && !q->closed && !(q->draining && q->count)) {
			q->cons_waiting = 1;
			pthread_cond_wait(&q->more, &q->mu);
			q->cons_waiting = 0;
		}
		n = q->count;
		for (i = 0; i < n; i++)
			take[i] = q->it[(q->head + i) % RQ_CAP];
		q->head = (q->head + n) % RQ_CAP;
		q->count = 0;
		q->busy = n > 0;
		if (q->prod_waiting)
			pthread_cond_signal(&q->room);
		if (n == 0 && q->closed) {
			pthread_mutex_unlock(&q->mu);
			fp_memo_free();   /* the fingerprints this thread kept */
			return NULL;
		}
		pthread_mutex_unlock(&q->mu);
		out.head = out.tail = NULL;
		for (i = 0; i < n; i++)
			q->fn(take[i].r, take[i].now_us, q->arg, &out);
		pthread_mutex_lock(&q->mu);
		if (out.head) {
			out.tail->user = q->done;
			q->done = out.head;
		}
		q->busy = 0;
		if (q->prod_waiting)
			pthread_cond_signal(&q->room);
		pthread_mutex_unlock(&q->mu);
	}
}

struct rq *rq_start(void (*fn)(struct hs_record *r, int64_t now_us, void *arg, struct rq_out *out),
		    void (*release)(struct hs_record *r, void *arg), void *arg)
{
	struct rq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->fn = fn;
	q->release = release;
	q->arg = arg;
	if (pthread_mutex_init(&q->mu, NULL)) {
		free(q);
		return NULL;
	}
	if (pthread_cond_init(&q->more, NULL) || pthread_cond_init(&q->room, NULL) ||
	    pthread_create(&q->tid, NULL, rq_main, q)) {
		/* the conditions that were made are not destroyed: nothing waits on them */
		pthread_mutex_destroy(&q->mu);
		free(q);
		return NULL;
	}
	return q;
}

/* The gathered records into the ring, in order; the handled ones taken back. */
static void hand_gathered(struct rq *q)
{
	struct hs_record *done;
	unsigned i = 0;
	pthread_mutex_lock(&q->mu);
	while (i < q->nlocal) {
		while (q->count == RQ_CAP) {
			if (q->cons_waiting)
				pthread_cond_signal(&q->more);
			q->prod_waiting = 1;
			pthread_cond_wait(&q->room, &q->mu);
			q->prod_waiting = 0;
		}
		for (; i < q->nlocal && q->count < RQ_CAP; i++) {
			q->it[(q->head + q->count) % RQ_CAP] = q->local[i];
			q->count++;
		}
	}
	q->nlocal = 0;
	if (q->cons_waiting && q->count >= RQ_BATCH)
		pthread_cond_signal(&q->more);
	done = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->mu);
	while (done) {
		struct hs_record *next = done->user;
		done->user = q->pend;
		q->pend = done;
		done = next;
	}
}

void rq_push(struct rq *q, struct hs_record *r, int64_t now_us)
{
	unsigned k;
	q->local[q->nlocal++] = (struct rq_item){ r, now_us };
	if (q->nlocal == RQ_LOCAL)
		hand_gathered(q);
	for (k = 0; k < RQ_RELEASE && q->pend; k++) {
		struct hs_record *r1 = q->pend;
		q->pend = r1->user;
		r1->user = NULL;
		q->release(r1, q->arg);
	}
}

void rq_drain(struct rq *q)
{
	if (!q)
		return;
	hand_gathered(q);
	pthread_mutex_lock(&q->mu);
	while (q->count || q->busy) {
		if (q->cons_waiting)
			pthread_cond_signal(&q->more);
		q->draining = 1;
		q->prod_waiting = 1;
		pthread_cond_wait(&q->room, &q->mu);
		q->prod_waiting = 0;
	}
	q->draining = 0;
	pthread_mutex_unlock(&q->mu);
}

void rq_finish(struct rq *q)
{
	if (!q)
		return;
	hand_gathered(q);
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->tid, NULL);
	release_list(q, q->pend);
	release_list(q, q->done);
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->room);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
