/* store/seen.c - the seen set: which IDs the store holds (committed or
 * pending) and where each one's rec is; and the IDs that store_compact()
 * dropped, which stay seen for ever.
 *
 * The set is an open-addressing hash table with linear probing and no
 * tombstones (a removal shifts back the rest of its run). Its capacity is
 * a power of two, its load under 0.7. A slot is 4 bytes: the owner's
 * value for the ID (a rec's or a pending version's number), not the ID,
 * which the owner's key function reads from where the value points (the
 * rec or the pending version holds it anyway). So 1M IDs take 8 MiB
 * rather than 32.
 *
 * items/dropped holds the dropped IDs: a 16-byte header ("feedddrp",
 * version, 0), then the IDs as 8-byte little-endian numbers in increasing
 * order. It is written with the rest of a generation (compact.c), never
 * appended. In memory it is a sorted array, bisected. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

/* ---- the seen set ------------------------------------------------------- */

/* IDs are already hashes, but of keys a publisher chooses: the seeded mix
 * (splitmix64's finalizer) keeps a crafted set of IDs from piling up in
 * one run of slots. */
size_t
store_set_home(uint64_t seed, size_t cap, uint64_t id)
{
    uint64_t x = id ^ seed;

    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return (size_t)x & (cap - 1);
}

uint32_t *
store_set_find(const struct store_set *set, uint64_t id)
{
    size_t i, mask = set->cap - 1;

    if (set->cap == 0)
        return NULL;
    for (i = store_set_home(set->seed, set->cap, id); set->slots[i] != 0;
         i = (i + 1) & mask)
        if (set->key(set->arg, set->slots[i]) == id)
            return &set->slots[i];
    return NULL;
}

/* Puts v, whose ID is id, in a free slot of the table t of cap slots,
 * which has room and does not hold id. */
static void
store_set_place(uint32_t *t, size_t cap, uint64_t seed, uint64_t id, uint32_t v)
{
    size_t i, mask = cap - 1;

    for (i = store_set_home(seed, cap, id); t[i] != 0; i = (i + 1) & mask)
        ;
    t[i] = v;
}

/* The slot count that holds n IDs with the load under 0.7. */
static size_t
store_set_cap_for(size_t n)
{
    size_t cap = 1024;

    while (n * 10 > cap * 7)
        cap *= 2;
    return cap;
}

int
store_set_reserve(struct store_set *set, size_t n)
{
    uint32_t *t;
    size_t i, cap;

    if ((set->used + n) * 10 <= set->cap * 7)
        return 0;
    cap = store_set_cap_for(set->used + n);
    if ((t = calloc(cap, sizeof *t)) == NULL)
        return -ENOMEM;
    store_prefault(t, cap * sizeof *t);
    for (i = 0; i < set->cap; i++)
        if (set->slots[i] != 0)
            store_set_place(t, cap, set->seed,
                            set->key(set->arg, set->slots[i]), set->slots[i]);
    free(set->slots);
    set->slots = t;
    set->cap = cap;
    return 0;
}

int
store_set_add(struct store_set *set, uint64_t id, uint32_t v)
{
    int rc;

    if ((rc = store_set_reserve(set, 1)) != 0)
        return rc;
    store_set_place(set->slots, set->cap, set->seed, id, v);
    set->used++;
    return 0;
}

/* Shifts back the entries of the run that would not be found past the
 * hole (linear probing needs no tombstones). */
void
store_set_del(struct store_set *set, uint32_t *slot)
{
    size_t i = (size_t)(slot - set->slots), j = i, k, mask = set->cap - 1;

    for (;;) {
        j = (j + 1) & mask;
        if (set->slots[j] == 0)
            break;
        k = store_set_home(set->seed, set->cap,
                           set->key(set->arg, set->slots[j]));
        /* j's entry may fill the hole at i unless its home lies
         * cyclically in (i, j]. */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        set->slots[i] = set->slots[j];
        i = j;
    }
    set->slots[i] = 0;
    set->used--;
}

void
store_set_clear(struct store_set *set)
{
    if (set->slots != NULL)
        memset(set->slots, 0, set->cap * sizeof *set->slots);
    set->used = 0;
}

int
store_set_remap(const struct store_set *old, store_set_map_fn *map,
                const void *arg, struct store_set *out)
{
    uint32_t *t, v;
    size_t i, cap = store_set_cap_for(old->used), used = 0;

    if ((t = calloc(cap, sizeof *t)) == NULL)
        return -ENOMEM;
    for (i = 0; i < old->cap; i++) {
        if (old->slots[i] == 0 || (v = map(arg, old->slots[i])) == 0)
            continue;
        store_set_place(t, cap, old->seed, old->key(old->arg, old->slots[i]),
                        v);
        used++;
    }
    *out = *old;
    out->slots = t;
    out->cap = cap;
    out->used = used;
    return 0;
}

void
store_set_free(struct store_set *set)
{
    free(set->slots);
    set->slots = NULL;
    set->cap = set->used = 0;
}

/* ---- the dropped IDs ---------------------------------------------------- */

int
store_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

int
store_dropped_has(const struct store *s, uint64_t id)
{
    size_t lo = 0, hi = s->ndropped, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (s->dropped[mid] == id)
            return 1;
        if (s->dropped[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The worst that can come of losing the file is that dropped items come
 * back: so damage only warns. */
int
store_dropped_load(struct store *s)
{
    unsigned char hdr[STORE_DROP_HDR], *raw = NULL;
    struct stat st;
    uint64_t n, i;
    int fd, rc = 0, sorted = 1;

    fd = openat(s->items_fd, "dropped", O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        store_warn(s, "items/dropped: %s; the items it lists may come back",
                   strerror(errno));
        goto fail;
    }
    if (st.st_size < STORE_DROP_HDR ||
        store_read_all(fd, hdr, sizeof hdr, 0) != 0 ||
        memcmp(hdr, STORE_DROP_MAGIC, 8) != 0 ||
        store_get_le(hdr + 8, 4) != STORE_DROP_VERSION) {
        store_warn(s, "items/dropped: not a list of dropped IDs, ignored; "
                      "the items it lists may come back");
        goto fail;
    }
    n = ((uint64_t)st.st_size - STORE_DROP_HDR) / 8;
    if (((uint64_t)st.st_size - STORE_DROP_HDR) % 8 != 0)
        store_warn(s, "items/dropped: torn at the end; the last ID is lost");
    if (n > SIZE_MAX / 8 / 2 || (raw = malloc(n ? n * 8 : 1)) == NULL ||
        (s->dropped = malloc((n ? n : 1) * sizeof *s->dropped)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "items/dropped: out of memory");
        goto fail;
    }
    if ((rc = store_read_all(fd, raw, n * 8, STORE_DROP_HDR)) != 0) {
        store_warn(s,
                   "items/dropped: read: %s; the items it lists may "
                   "come back",
                   strerror(-rc));
        rc = 0;
        goto fail;
    }
    for (i = 0; i < n; i++) {
        s->dropped[i] = store_get_le(raw + i * 8, 8);
        if (i > 0 && s->dropped[i] <= s->dropped[i - 1])
            sorted = 0;
    }
    s->ndropped = n;
    /* The lookups bisect: a file edited out of order is still usable
     * once sorted (and duplicates do no harm). */
    if (!sorted) {
        store_warn(s, "items/dropped: out of order, sorted");
        qsort(s->dropped, n, sizeof *s->dropped, store_u64_cmp);
    }
fail: /* also the way out when all went well */
    free(raw);
    if (fd >= 0)
        close(fd);
    return rc;
}

int
store_dropped_encode(struct feed_buf *b, const uint64_t *ids, size_t n)
{
    unsigned char v[8];
    size_t i;

    if (store_file_header(b, STORE_DROP_MAGIC, STORE_DROP_VERSION, 0) != 0)
        return 1;
    for (i = 0; i < n; i++) {
        store_put_le(v, ids[i], 8);
        if (feed_buf_append(b, v, sizeof v) != 0)
            return 1;
    }
    return 0;
}

uint64_t *
store_ids_merge(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                size_t *n)
{
    uint64_t *m, v;
    size_t i = 0, j = 0, k = 0;

    if (na > SIZE_MAX / 8 - nb - 1 ||
        (m = malloc((na + nb + 1) * sizeof *m)) == NULL)
        return NULL;
    while (i < na || j < nb) {
        if (j == nb || (i < na && a[i] <= b[j]))
            v = a[i++];
        else
            v = b[j++];
        if (k == 0 || m[k - 1] != v)
            m[k++] = v;
    }
    *n = k;
    return m;
}
