/* daemon/schedule.h - when each feed is polled, and which due polls may
 * start now: feeds wait in a min-heap by due time; a due feed waits in its
 * host's queue until a connection is free (parallel in all, per_host to
 * its host), so that libcurl is handed only transfers that start at once
 * and a transfer's timeout runs from when it starts. Hosts take turns.
 * No libuv, no I/O: times are the caller's milliseconds. */
#ifndef FEEDD_SCHEDULE_H
#define FEEDD_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#define SCHED_NEVER UINT64_MAX

struct sched;

/* A schedule for feeds 0 .. nfeeds-1, none due; more may be added and
 * removed later (sched_add(), sched_remove()). parallel and per_host
 * are at least 1. NULL when out of memory. */
struct sched *sched_new(size_t nfeeds, int parallel, int per_host);
void sched_free(struct sched *);

/* Says which host feed's polls go to (from its URL: scheme, host and
 * port; every file: URL is one host). Call once per feed, before it is
 * scheduled; the order of the calls ranks the feeds of a host (see
 * sched_spread()). 0 or -ENOMEM. */
int sched_host(struct sched *, size_t feed, const char *url);

/* feed is due at time at (replacing any earlier time). Not for a feed
 * that is waiting or running. O(log n). */
void sched_at(struct sched *, size_t feed, uint64_t at);
/* feed is not scheduled any more (a waiting one leaves its queue). */
void sched_cancel(struct sched *, size_t feed);

/* The earliest due time of a scheduled feed, or SCHED_NEVER. */
uint64_t sched_next(const struct sched *);
/* Moves every feed due at or before now into its host's queue; one of a
 * host that waits (sched_host_wait()) is due again when the wait ends. */
void sched_due(struct sched *, uint64_t now);
/* The server of feed's host told feed to wait until until (Retry-After).
 * When another feed of that host is told so while the last wait lasts,
 * the whole host waits: none of its feeds falls due before the later of
 * the two (feeds already waiting for a connection still start). Returns
 * until when the host waits, or 0 when it does not. */
uint64_t sched_host_wait(struct sched *, size_t feed, uint64_t now,
                         uint64_t until);
/* A waiting feed that may start now, taken: 1 with *feed set (it counts
 * as running until sched_done()), or 0 when none may. */
int sched_take(struct sched *, size_t *feed);
/* 1 when sched_take() would give a feed. */
int sched_ready(const struct sched *);
/* feed's poll ended: its connection is free. */
void sched_done(struct sched *, size_t feed);
/* feed's poll is running but stalled (no byte for a while): it keeps its
 * place in the cap on all connections, not in its host's, so that one
 * hung feed does not hold up the others of its host. Its sched_done()
 * comes as for any poll. */
void sched_stalled(struct sched *, size_t feed);

/* Feeds running, and waiting for a connection. */
size_t sched_running(const struct sched *);
size_t sched_waiting(const struct sched *);
/* Feeds scheduled in the heap (not yet due). */
size_t sched_scheduled(const struct sched *);

/* A new feed, of the host of url, idle: 0 with its number in *feed (a
 * number sched_remove() freed, else the next after the highest yet), or
 * -ENOMEM with nothing changed. */
int sched_add(struct sched *, const char *url, size_t *feed);
/* feed is no more: cancelled, out of its host, its number free for the
 * next sched_add(). Not for a running feed (it must be sched_done()
 * first): then nothing is done. */
void sched_remove(struct sched *, size_t feed);
/* feed's polls go to the host of url from now on (a waiting feed goes to
 * the back of that host's queue; the same host changes nothing). 0,
 * -ENOMEM with nothing changed, or -EBUSY for a running feed. */
int sched_set_host(struct sched *, size_t feed, const char *url);
/* New caps: running polls over them go on, and none starts until the
 * count is under them again. */
void sched_caps(struct sched *, int parallel, int per_host);
/* When feed is due, while it is in the heap; SCHED_NEVER otherwise. */
uint64_t sched_due_at(const struct sched *, size_t feed);
/* One past the highest feed number given yet: feed numbers are below. */
size_t sched_slots(const struct sched *);

/* The next time, after now + interval/2 and before now + 3*interval/2,
 * at feed's place in the cycle of its host: a host's feeds take places
 * spread evenly over the interval (by rank), and each host starts at
 * its own offset, so the feeds of one host are not polled together.
 * interval in ms, at least 1. */
uint64_t sched_spread(const struct sched *, size_t feed, uint64_t now,
                      uint64_t interval);

#endif
