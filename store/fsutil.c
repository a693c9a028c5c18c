/* store/fsutil.c - file utilities: whole reads and writes at an offset,
 * folders (sync, test, empty, remove, mkdir -p), segment names, the
 * growth of the store's arrays and the prefault of large ones, and
 * store_file_replace(), the one recipe for replacing a file: a temporary file
 * in the same folder, fsync, rename, fsync of the folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

void *
store_array_grow(void *arr, size_t *cap, size_t n, size_t sz)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return arr;
    ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / sz)
        return NULL;
    p = realloc(arr, ncap * sz);
    if (p == NULL)
        return NULL;
    *cap = ncap;
    return p;
}

void
store_prefault(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p, b = a + len;

    if (pg <= 0 || len < ((size_t)1 << 20))
        return;
    a = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
    b &= ~((uintptr_t)pg - 1);
    /* A kernel without it (before Linux 5.14) says EINVAL: no matter. */
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)len;
#endif
}

/* Writes (write != 0) or reads exactly len bytes at off. */
static int
store_io_all(int fd, int write, void *p, size_t len, uint64_t off)
{
    char *c = p;
    ssize_t n;

    while (len > 0) {
        n = write ? pwrite(fd, c, len, (off_t)off)
                  : pread(fd, c, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        c += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int
store_write_all(int fd, const void *p, size_t len, uint64_t off)
{
    return store_io_all(fd, 1, (void *)(uintptr_t)p, len, off);
}

int
store_read_all(int fd, void *p, size_t len, uint64_t off)
{
    return store_io_all(fd, 0, p, len, off);
}

int
store_dir_sync(int fd)
{
    return fsync(fd) != 0 && errno != EINVAL ? -errno : 0;
}

int
store_dir_exists(int dir_fd, const char *name)
{
    struct stat st;

    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    return S_ISDIR(st.st_mode) ? 1 : -ENOTDIR;
}

int
store_dir_remove(int dir_fd, const char *name)
{
    struct dirent *de;
    DIR *d;
    int fd, rc = 0;

    fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    if ((d = fdopendir(fd)) == NULL) {
        rc = -errno;
        close(fd);
        return rc;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(fd, de->d_name, 0) != 0 && rc == 0)
            rc = -errno;
    }
    if (errno != 0 && rc == 0)
        rc = -errno;
    closedir(d);
    if (unlinkat(dir_fd, name, AT_REMOVEDIR) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int
store_dir_empty(int dir_fd, const char *name)
{
    struct dirent *de;
    DIR *d;
    int fd, empty = 1;

    fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return -errno;
    }
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

int
store_mkdirs(struct store *s, const char *dir)
{
    char *p = strdup(dir), *q;
    int rc = 0;

    if (p == NULL) {
        store_fail(s, "%s: out of memory", dir);
        return -ENOMEM;
    }
    for (q = p + 1; *q != '\0'; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = -errno;
            store_fail(s, "%s: mkdir: %s", p, strerror(errno));
            goto fail;
        }
        *q = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        rc = -errno;
        store_fail(s, "%s: mkdir: %s", p, strerror(errno));
    }
fail: /* also the way out when all went well */
    free(p);
    return rc;
}

int
store_file_header(struct feed_buf *b, const char *magic, uint32_t version,
                  uint32_t extra)
{
    unsigned char p[16];

    memcpy(p, magic, 8);
    store_put_le(p + 8, version, 4);
    store_put_le(p + 12, extra, 4);
    return feed_buf_append(b, p, sizeof p);
}

void
store_seg_name(char name[32], uint32_t no)
{
    snprintf(name, 32, "%06" PRIu32 ".jsonl", no);
}

int
store_seg_parse(const char *name, uint32_t *no)
{
    char again[32], *endp;
    unsigned long n;

    if (name[0] < '0' || name[0] > '9')
        return 0;
    errno = 0;
    n = strtoul(name, &endp, 10);
    if (errno != 0 || n == 0 || n >= UINT32_MAX || strcmp(endp, ".jsonl") != 0)
        return 0;
    /* Only names as store_seg_new() writes them. */
    store_seg_name(again, (uint32_t)n);
    if (strcmp(again, name) != 0)
        return 0;
    *no = (uint32_t)n;
    return 1;
}

struct store_bytes {
    const void *data;
    size_t len;
};

static int
store_fill_bytes(int fd, void *arg)
{
    const struct store_bytes *b = arg;

    return store_write_all(fd, b->data, b->len, 0);
}

int
store_file_replace(const char *path, const void *data, size_t len)
{
    struct store_bytes b = {data, len};

    return store_file_replace_fn(path, store_fill_bytes, &b);
}

int
store_file_replace_fn(const char *path, store_fill_fn *fill, void *arg)
{
    static atomic_uint seq;
    size_t plen = strlen(path), tlen = plen + 48;
    char *tmp = NULL, *dir = NULL, *slash;
    const char *dname = ".";
    int fd = -1, dfd = -1, made = 0, rc = 0, tries;

    if ((tmp = malloc(tlen)) == NULL || (dir = strdup(path)) == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    /* O_EXCL under a fresh name rather than mkstemp(): the file gets
     * 0666 less the umask, as if written in place, and a stale temporary
     * left by a crash is never written through. */
    for (tries = 0;; tries++) {
        snprintf(tmp, tlen, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&seq, 1u));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            break;
        if (errno != EEXIST || tries == 100) {
            rc = -errno;
            goto fail;
        }
    }
    made = 1;
    if ((rc = fill(fd, arg)) != 0)
        goto fail;
    if (fsync(fd) != 0) {
        rc = -errno;
        goto fail;
    }
    rc = close(fd) != 0 ? -errno : 0;
    fd = -1;
    if (rc != 0)
        goto fail;
    if (rename(tmp, path) != 0) {
        rc = -errno;
        goto fail;
    }
    made = 0;
    /* The rename is durable once the folder is synced. Past this point
     * the new file is in place even when an error is returned. */
    if ((slash = strrchr(dir, '/')) != NULL) {
        slash[slash == dir] = '\0'; /* "/x" lives in "/" */
        dname = dir;
    }
    dfd = open(dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL))
        rc = -errno;
fail: /* also the way out when all went well */
    if (fd >= 0)
        close(fd);
    if (made)
        unlink(tmp);
    if (dfd >= 0)
        close(dfd);
    free(tmp);
    free(dir);
    return rc;
}
