/* tests/bench/expat_raw.c - the raw limit for the parse benchmark: every
 * file given is read as `feedd parse` reads it and fed to expat with
 * empty start, end and character data handlers. Nothing of feedd is
 * linked.
 *
 *     bench_expat_raw [--chunk BYTES] FILE...
 *
 * Without --chunk a file is read whole, into one buffer that grows to the
 * largest file, and handed over in one final call; with it, as `feedd
 * parse --chunk` streams: 64 KiB reads, parsed in pieces of BYTES, then an
 * empty final call. (expat is some 30% faster when the data comes in its
 * final call: it then skips tracking the line and column of each buffer.)
 * Exits 1 when a file cannot be read or is not well-formed (after parsing
 * the others), 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <expat.h>

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
}

static void
report(XML_Parser xp, const char *path)
{
    fprintf(stderr, "bench_expat_raw: %s: line %lu: %s\n", path,
            (unsigned long)XML_GetCurrentLineNumber(xp),
            XML_ErrorString(XML_GetErrorCode(xp)));
}

/* Streamed in pieces of chunk bytes. 0 when path parsed cleanly. */
static int
parse_stream(XML_Parser xp, int fd, const char *path, size_t chunk)
{
    static char buf[65536];
    ssize_t n;

    for (;;) {
        size_t off = 0;

        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "bench_expat_raw: %s: %s\n", path, strerror(errno));
            return -1;
        }
        do {
            size_t k = (size_t)n - off < chunk ? (size_t)n - off : chunk;

            if (XML_Parse(xp, buf + off, (int)k, n == 0) == XML_STATUS_ERROR) {
                report(xp, path);
                return -1;
            }
            off += k;
        } while (off < (size_t)n);
        if (n == 0)
            return 0;
    }
}

/* Read whole, parsed in one final call. 0 when path parsed cleanly. */
static int
parse_whole(XML_Parser xp, int fd, const char *path)
{
    static char *buf;
    static size_t cap;
    struct stat st;
    size_t have = 0;
    ssize_t n;

    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "bench_expat_raw: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if ((size_t)st.st_size + 1 > cap) {
        char *p = realloc(buf, (size_t)st.st_size + 1);

        if (p == NULL) {
            fprintf(stderr, "bench_expat_raw: out of memory\n");
            return -1;
        }
        buf = p;
        cap = (size_t)st.st_size + 1;
    }
    while ((n = read(fd, buf + have, cap - have)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (have += (size_t)n) == cap) {
            fprintf(stderr, "bench_expat_raw: %s: %s\n", path,
                    n < 0 ? strerror(errno) : "changed while read");
            return -1;
        }
    }
    if (XML_Parse(xp, buf, (int)have, 1) == XML_STATUS_ERROR) {
        report(xp, path);
        return -1;
    }
    return 0;
}

/* 0 when path parsed cleanly. */
static int
parse_file(XML_Parser xp, const char *path, size_t chunk)
{
    int fd, rc;

    if ((fd = open(path, O_RDONLY)) < 0) {
        fprintf(stderr, "bench_expat_raw: %s: %s\n", path, strerror(errno));
        return -1;
    }
    rc = chunk ? parse_stream(xp, fd, path, chunk) : parse_whole(xp, fd, path);
    close(fd);
    return rc;
}

int
main(int argc, char **argv)
{
    XML_Parser xp;
    size_t chunk = 0;
    int i = 1, failed = 0;

    if (argc > 2 && strcmp(argv[1], "--chunk") == 0) {
        chunk = (size_t)strtoul(argv[2], NULL, 10);
        i = 3;
    }
    if (i >= argc || (i == 3 && chunk == 0)) {
        fprintf(stderr, "usage: bench_expat_raw [--chunk BYTES] FILE...\n");
        return 2;
    }
    if ((xp = XML_ParserCreate(NULL)) == NULL) {
        fprintf(stderr, "bench_expat_raw: out of memory\n");
        return 1;
    }
    for (; i < argc; i++) {
        /* A reset parser keeps no handlers: set them for each file. */
        if (!XML_ParserReset(xp, NULL)) {
            fprintf(stderr, "bench_expat_raw: out of memory\n");
            failed = 1;
            break;
        }
        XML_SetElementHandler(xp, on_start, on_end);
        XML_SetCharacterDataHandler(xp, on_text);
        if (parse_file(xp, argv[i], chunk) != 0)
            failed = 1;
    }
    XML_ParserFree(xp);
    return failed;
}
