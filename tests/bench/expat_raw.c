/* tests/bench/expat_raw.c - the raw limit for the parse benchmark: every
 * file given is read as `feedd parse` reads it (whole, into one buffer
 * that grows to the largest file, and handed over in one call) and fed to
 * expat with empty start, end and character data handlers. Nothing of
 * feedd is linked. Exits 1 when a file cannot be read or is not
 * well-formed (after parsing the others), 2 on a usage error. */
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

/* 0 when path parsed cleanly. */
static int
parse_file(XML_Parser xp, const char *path)
{
    static char *buf;
    static size_t cap;
    struct stat st;
    size_t have = 0;
    ssize_t n;
    int fd, rc = 0;

    if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "bench_expat_raw: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((size_t)st.st_size + 1 > cap) {
        char *p = realloc(buf, (size_t)st.st_size + 1);

        if (p == NULL) {
            fprintf(stderr, "bench_expat_raw: out of memory\n");
            close(fd);
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
            close(fd);
            return -1;
        }
    }
    close(fd);
    if (XML_Parse(xp, buf, (int)have, 1) == XML_STATUS_ERROR) {
        fprintf(stderr, "bench_expat_raw: %s: line %lu: %s\n", path,
                (unsigned long)XML_GetCurrentLineNumber(xp),
                XML_ErrorString(XML_GetErrorCode(xp)));
        rc = -1;
    }
    return rc;
}

int
main(int argc, char **argv)
{
    XML_Parser xp;
    int i, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_expat_raw FILE...\n");
        return 2;
    }
    if ((xp = XML_ParserCreate(NULL)) == NULL) {
        fprintf(stderr, "bench_expat_raw: out of memory\n");
        return 1;
    }
    for (i = 1; i < argc; i++) {
        /* A reset parser keeps no handlers: set them for each file. */
        if (!XML_ParserReset(xp, NULL)) {
            fprintf(stderr, "bench_expat_raw: out of memory\n");
            failed = 1;
            break;
        }
        XML_SetElementHandler(xp, on_start, on_end);
        XML_SetCharacterDataHandler(xp, on_text);
        if (parse_file(xp, argv[i]) != 0)
            failed = 1;
    }
    XML_ParserFree(xp);
    return failed;
}
