/* tests/fuzz/replay.c - runs a libFuzzer target without libFuzzer: every
 * file named, and every file under every folder named (recursively, in
 * name order), goes once through LLVMFuzzerTestOneInput, which aborts on a
 * finding. Linked with fuzz_parse.c it is the fuzz_replay tests of ctest:
 * the seed corpus replayed on every run, with any compiler.
 *
 *   fuzz_replay [-s] PATH...
 *
 * -s: exit 77 (skipped, for ctest) when a PATH does not exist, instead of
 * failing. Prints how many inputs ran and their total size; exits 1 when
 * a file cannot be read or no input was found. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
    size_t inputs;
    unsigned long long bytes;
};

/* Reads the file at path whole and hands it to the target. 0, or -1 after
 * printing why. */
static int
replay_file(const char *path, struct tally *t)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL, *p;
    size_t n = 0, cap = 0;

    if (f == NULL) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t r;

        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            if ((p = realloc(data, cap)) == NULL) {
                fprintf(stderr, "fuzz_replay: %s: out of memory\n", path);
                free(data);
                fclose(f);
                return -1;
            }
            data = p;
        }
        r = fread(data + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "fuzz_replay: %s: read error\n", path);
        free(data);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    t->inputs++;
    t->bytes += n;
    return 0;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_path(const char *path, struct tally *t);

/* Every entry of the folder path but "." and "..", in name order. */
static int
replay_dir(const char *path, struct tally *t)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char **names = NULL, **p;
    size_t n = 0, cap = 0, i;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            if ((p = realloc(names, cap * sizeof *names)) == NULL) {
                rc = -1;
                break;
            }
            names = p;
        }
        len = strlen(path) + strlen(e->d_name) + 2;
        if ((names[n] = malloc(len)) == NULL) {
            rc = -1;
            break;
        }
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (rc != 0)
        fprintf(stderr, "fuzz_replay: %s: out of memory\n", path);
    else if (n > 1)
        qsort(names, n, sizeof *names, name_cmp);
    for (i = 0; i < n; i++) {
        if (rc == 0 && replay_path(names[i], t) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

static int
replay_path(const char *path, struct tally *t)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return replay_dir(path, t);
    if (S_ISREG(st.st_mode))
        return replay_file(path, t);
    return 0; /* sockets, fifos: not inputs */
}

int
main(int argc, char **argv)
{
    struct tally t = {0, 0};
    struct stat st;
    int i = 1, skip = 0;

    if (i < argc && strcmp(argv[i], "-s") == 0) {
        skip = 1;
        i++;
    }
    if (i == argc) {
        fprintf(stderr, "usage: fuzz_replay [-s] PATH...\n");
        return 2;
    }
    for (int j = i; skip && j < argc; j++) {
        if (stat(argv[j], &st) != 0) {
            printf("fuzz_replay: %s: not there, skipped\n", argv[j]);
            return 77;
        }
    }
    for (; i < argc; i++)
        if (replay_path(argv[i], &t) != 0)
            return 1;
    printf("fuzz_replay: %zu inputs, %llu bytes, no finding\n", t.inputs,
           t.bytes);
    return t.inputs > 0 ? 0 : 1;
}
