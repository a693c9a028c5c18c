/* tests/bench/expat_raw.c - the raw limit for the parse benchmark: every
 * file given is read in 64 KiB chunks, as `feedd parse` reads it, and fed
 * to expat with empty start, end and character data handlers. Nothing of
 * feedd is linked. Exits 1 when a file cannot be read or is not
 * well-formed (after parsing the others), 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
    static char buf[65536];
    ssize_t n;
    int fd, rc = 0;

    if ((fd = open(path, O_RDONLY)) < 0) {
        fprintf(stderr, "bench_expat_raw: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "bench_expat_raw: %s: %s\n", path, strerror(errno));
            rc = -1;
            break;
        }
        if (XML_Parse(xp, buf, (int)n, n == 0) == XML_STATUS_ERROR) {
            fprintf(stderr, "bench_expat_raw: %s: line %lu: %s\n", path,
                    (unsigned long)XML_GetCurrentLineNumber(xp),
                    XML_ErrorString(XML_GetErrorCode(xp)));
            rc = -1;
            break;
        }
        if (n == 0)
            break;
    }
    close(fd);
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
