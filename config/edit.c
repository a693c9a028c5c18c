/* config/edit.c - edits of the config file in place. The file is held as
 * its lines, each with its own line end, so that a line no edit touches is
 * written back byte for byte; an edit is checked with config_parse() before
 * anything is written, and the file is replaced atomically (temporary file,
 * fsync, rename, fsync of the folder), the recipe redis uses for its dumps. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "parser.h"

struct edit_line {
    char *s;  /* the bytes of the line, its line end included */
    size_t n; /* their number */
    int own;  /* s was allocated for this line (else it is in ed->text) */
};

struct config_edit {
    char *path; /* as given: messages and the parser's file name */
    char *dir;  /* its folder, for relative paths */
    char *text; /* the file as read; unchanged lines point into it */
    struct edit_line *lines;
    size_t nlines;
    /* Added lines wait here, to be put after lines[0..anchor) in one pass
     * (an import adds many). Each ends with eol. */
    char **added;
    size_t nadded, added_cap;
    size_t anchor;   /* after the last feed line, or nlines when none */
    const char *eol; /* "\r\n" when the file's first line ends so */
    struct config *cfg;
    int stale;   /* lines changed since cfg was parsed from them */
    int changed; /* any edit at all */
};

static void edit_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
edit_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The parser's first message and how many follow, as one line. prefix,
 * when not NULL, is cut from the front of the message ("FILE:1: " of a
 * line checked alone). */
static void
edit_parse_err(char *err, size_t errlen, const char *what, const char *errors,
               const char *prefix)
{
    const char *first = errors, *nl;
    size_t more = 0, n;

    if (errors == NULL) {
        edit_err(err, errlen, "out of memory");
        return;
    }
    if (prefix != NULL && strncmp(first, prefix, strlen(prefix)) == 0)
        first += strlen(prefix);
    nl = strchr(first, '\n');
    n = nl ? (size_t)(nl - first) : strlen(first);
    for (; nl != NULL && nl[1] != '\0'; nl = strchr(nl + 1, '\n'))
        more++;
    if (more > 0)
        edit_err(err, errlen, "%s%.*s (and %zu more)", what, (int)n, first,
                 more);
    else
        edit_err(err, errlen, "%s%.*s", what, (int)n, first);
}

/* Splits ed->text[0..len) into lines as config_parse() counts them. */
static int
edit_split(struct config_edit *ed, size_t len)
{
    const char *s = ed->text, *end = ed->text + len, *nl;
    size_t n = 0, i = 0;

    for (nl = s; nl < end && (nl = memchr(nl, '\n', (size_t)(end - nl))); nl++)
        n++;
    if ((ed->lines = calloc(n + 1, sizeof *ed->lines)) == NULL)
        return -1;
    while (s < end) {
        nl = memchr(s, '\n', (size_t)(end - s));
        nl = nl ? nl + 1 : end;
        ed->lines[i].s = (char *)s;
        ed->lines[i].n = (size_t)(nl - s);
        i++;
        s = nl;
    }
    ed->nlines = i;
    if (i > 0 && ed->lines[0].n >= 2 &&
        memcmp(ed->lines[0].s + ed->lines[0].n - 2, "\r\n", 2) == 0)
        ed->eol = "\r\n";
    else
        ed->eol = "\n";
    return 0;
}

/* Puts the added lines in their place. -1 when out of memory. */
static int
edit_flush(struct config_edit *ed)
{
    struct edit_line *lines, *prev;
    size_t i, eol = strlen(ed->eol);
    char *s;

    if (ed->nadded == 0)
        return 0;
    lines = calloc(ed->nlines + ed->nadded + 1, sizeof *lines);
    if (lines == NULL)
        return -1;
    /* The line the new ones follow may be the last of a file without a
     * final line end: it gets one. */
    prev = ed->anchor > 0 ? &ed->lines[ed->anchor - 1] : NULL;
    if (prev != NULL && prev->s[prev->n - 1] != '\n') {
        if ((s = malloc(prev->n + eol)) == NULL) {
            free(lines);
            return -1;
        }
        memcpy(s, prev->s, prev->n);
        memcpy(s + prev->n, ed->eol, eol);
        if (prev->own)
            free(prev->s);
        prev->s = s;
        prev->n += eol;
        prev->own = 1;
    }
    if (ed->anchor > 0)
        memcpy(lines, ed->lines, ed->anchor * sizeof *lines);
    for (i = 0; i < ed->nadded; i++) {
        lines[ed->anchor + i].s = ed->added[i];
        lines[ed->anchor + i].n = strlen(ed->added[i]);
        lines[ed->anchor + i].own = 1;
    }
    memcpy(lines + ed->anchor + ed->nadded, ed->lines + ed->anchor,
           (ed->nlines - ed->anchor) * sizeof *lines);
    free(ed->lines);
    ed->lines = lines;
    ed->nlines += ed->nadded;
    ed->anchor += ed->nadded;
    ed->nadded = 0;
    ed->stale = 1;
    return 0;
}

/* The lines as one text (the caller frees it), *len bytes; NULL when out
 * of memory. */
static char *
edit_join(const struct config_edit *ed, size_t *len)
{
    size_t i, n = 0;
    char *text, *o;

    for (i = 0; i < ed->nlines; i++)
        n += ed->lines[i].n;
    if ((text = malloc(n + 1)) == NULL)
        return NULL;
    for (i = 0, o = text; i < ed->nlines; i++) {
        memcpy(o, ed->lines[i].s, ed->lines[i].n);
        o += ed->lines[i].n;
    }
    *o = '\0';
    *len = n;
    return text;
}

/* Parses the lines as they stand into ed->cfg. 0, or -1 (err). */
static int
edit_parse(struct config_edit *ed, const char *what, char *err, size_t errlen)
{
    struct config *cfg;
    char *text, *errors;
    size_t len, i;

    if (edit_flush(ed) != 0 || (text = edit_join(ed, &len)) == NULL) {
        edit_err(err, errlen, "out of memory");
        return -1;
    }
    cfg = config_parse(text, len, ed->path, ed->dir, &errors);
    free(text);
    if (cfg == NULL) {
        edit_parse_err(err, errlen, what, errors, NULL);
        free(errors);
        return -1;
    }
    config_free(ed->cfg);
    ed->cfg = cfg;
    ed->stale = 0;
    ed->anchor = 0;
    for (i = 0; i < cfg->nfeeds; i++)
        if ((size_t)cfg->feeds[i].line > ed->anchor)
            ed->anchor = (size_t)cfg->feeds[i].line;
    if (cfg->nfeeds == 0)
        ed->anchor = ed->nlines;
    return 0;
}

struct config_edit *
config_edit_open(const char *path, char *err, size_t errlen)
{
    struct config_edit *ed;
    size_t len;
    int rc;

    assert(path != NULL);
    if ((ed = calloc(1, sizeof *ed)) == NULL)
        goto nomem;
    if ((ed->path = strdup(path)) == NULL)
        goto nomem;
    if ((rc = config_file_read(path, &ed->text, &len)) != 0) {
        if (rc == -ENOMEM)
            goto nomem;
        edit_err(err, errlen, "cannot read %s: %s", path,
                 rc == -EFBIG ? "too large" : strerror(-rc));
        goto fail;
    }
    if ((ed->dir = config_file_dir(path)) == NULL || edit_split(ed, len) != 0)
        goto nomem;
    if (edit_parse(ed, "", err, errlen) != 0)
        goto fail;
    return ed;
nomem:
    edit_err(err, errlen, "out of memory");
fail:
    config_edit_free(ed);
    return NULL;
}

const struct config *
config_edit_config(struct config_edit *ed, char *err, size_t errlen)
{
    if ((ed->stale || ed->nadded > 0) &&
        edit_parse(ed, "the edited file would not parse: ", err, errlen) != 0)
        return NULL;
    return ed->cfg;
}

/* Appends word to out (at least strlen(word) * 2 + 3 bytes free), in
 * double quotes when the parser would otherwise split or cut it. */
static char *
edit_word(char *out, const char *word)
{
    const char *s;

    if (*word != '\0' && strpbrk(word, " \t#\"") == NULL) {
        strcpy(out, word);
        return out + strlen(word);
    }
    *out++ = '"';
    for (s = word; *s; s++) {
        if (*s == '"' || *s == '\\')
            *out++ = '\\';
        *out++ = *s;
    }
    *out++ = '"';
    *out = '\0';
    return out;
}

/* Whether a word may go into a line: no line break in it. */
static int
edit_word_ok(const char *what, const char *word, char *err, size_t errlen)
{
    if (word != NULL && strpbrk(word, "\r\n") != NULL) {
        edit_err(err, errlen, "%s has a line break", what);
        return 0;
    }
    return 1;
}

/* Checks the line s[0..n) alone (it must parse by itself). 0, or -1 with
 * the parser's message, without "FILE:1: ", in err. */
static int
edit_check_line(const struct config_edit *ed, const char *s, size_t n,
                char *err, size_t errlen)
{
    struct config *cfg;
    char *errors, *prefix;

    cfg = config_parse(s, n, ed->path, ed->dir, &errors);
    if (cfg != NULL) {
        config_free(cfg);
        return 0;
    }
    if ((prefix = malloc(strlen(ed->path) + 5)) != NULL)
        sprintf(prefix, "%s:1: ", ed->path);
    edit_parse_err(err, errlen, "", errors, prefix);
    free(prefix);
    free(errors);
    return -1;
}

/* The line "feed NAME LOCATION [interval D] [tags a,b]" with room for
 * the file's line end, checked alone (edit_check_line()). The line
 * (the caller frees it) and its length in *len, or NULL (err). */
static char *
edit_feed_line(const struct config_edit *ed, const char *name,
               const char *location, const char *interval, const char *tags,
               size_t *len, char *err, size_t errlen)
{
    size_t cap;
    char *line, *o;

    assert(name != NULL && location != NULL);
    if (!edit_word_ok("the name", name, err, errlen) ||
        !edit_word_ok("the location", location, err, errlen) ||
        !edit_word_ok("the interval", interval, err, errlen) ||
        !edit_word_ok("the tags", tags, err, errlen))
        return NULL;
    cap = 5 + 2 * strlen(name) + 3 + 2 * strlen(location) + 3 +
          strlen(ed->eol) + 1;
    if (interval != NULL)
        cap += 10 + 2 * strlen(interval) + 3;
    if (tags != NULL)
        cap += 6 + 2 * strlen(tags) + 3;
    if ((line = malloc(cap)) == NULL) {
        edit_err(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(line, "feed ", 5);
    o = edit_word(line + 5, name);
    *o++ = ' ';
    o = edit_word(o, location);
    if (interval != NULL) {
        memcpy(o, " interval ", 10);
        o = edit_word(o + 10, interval);
    }
    if (tags != NULL) {
        memcpy(o, " tags ", 6);
        o = edit_word(o + 6, tags);
    }
    if (edit_check_line(ed, line, (size_t)(o - line), err, errlen) != 0) {
        free(line);
        return NULL;
    }
    *len = (size_t)(o - line);
    return line;
}

int
config_edit_check_feed(const struct config_edit *ed, const char *name,
                       const char *location, const char *interval,
                       const char *tags, char *err, size_t errlen)
{
    size_t len;
    char *line =
        edit_feed_line(ed, name, location, interval, tags, &len, err, errlen);

    free(line);
    return line != NULL ? 0 : -1;
}

int
config_edit_add(struct config_edit *ed, const char *name, const char *location,
                const char *interval, const char *tags, char *err,
                size_t errlen)
{
    size_t len;
    char *line;

    if (ed->stale &&
        edit_parse(ed, "the edited file would not parse: ", err, errlen) != 0)
        return -1;
    if (ed->nadded == ed->added_cap) {
        size_t n = ed->added_cap ? ed->added_cap * 2 : 16;
        char **a = realloc(ed->added, n * sizeof *a);

        if (a == NULL) {
            edit_err(err, errlen, "out of memory");
            return -1;
        }
        ed->added = a;
        ed->added_cap = n;
    }
    line =
        edit_feed_line(ed, name, location, interval, tags, &len, err, errlen);
    if (line == NULL)
        return -1;
    memcpy(line + len, ed->eol, strlen(ed->eol) + 1);
    ed->added[ed->nadded++] = line;
    ed->changed = 1;
    return 0;
}

/* The feed named key, else the one at location key, in the current
 * config; NULL (err) when none or when the edits do not parse. */
static const struct config_feed *
edit_find(struct config_edit *ed, const char *key, int by_location, char *err,
          size_t errlen)
{
    const struct config *cfg = config_edit_config(ed, err, errlen);
    const struct config_feed *f;
    size_t i;

    if (cfg == NULL)
        return NULL;
    if ((f = config_feed_find(cfg, key)) != NULL)
        return f;
    for (i = 0; by_location && i < cfg->nfeeds; i++)
        if (strcmp(cfg->feeds[i].location, key) == 0)
            return &cfg->feeds[i];
    edit_err(err, errlen, "no feed %s \"%s\" in %s",
             by_location ? "named or at" : "named", key, ed->path);
    return NULL;
}

int
config_edit_remove(struct config_edit *ed, const char *key, char *err,
                   size_t errlen)
{
    const struct config_feed *f = edit_find(ed, key, 1, err, errlen);
    size_t i;

    if (f == NULL)
        return -1;
    i = (size_t)f->line - 1;
    assert(i < ed->nlines);
    if (ed->lines[i].own)
        free(ed->lines[i].s);
    memmove(ed->lines + i, ed->lines + i + 1,
            (ed->nlines - i - 1) * sizeof *ed->lines);
    ed->nlines--;
    ed->stale = 1;
    ed->changed = 1;
    return 0;
}

int
config_edit_set_location(struct config_edit *ed, const char *name,
                         const char *location, char *err, size_t errlen)
{
    size_t start[CONFIG_WORDS_MAX], end[CONFIG_WORDS_MAX], i, n, skip = 0;
    const struct config_feed *f;
    struct edit_line *l;
    char *s, *o;

    if (!edit_word_ok("the location", location, err, errlen) ||
        (f = edit_find(ed, name, 0, err, errlen)) == NULL)
        return -1;
    i = (size_t)f->line - 1;
    l = &ed->lines[i];
    n = l->n;
    if (n > 0 && l->s[n - 1] == '\n')
        n--;
    if (n > 0 && l->s[n - 1] == '\r')
        n--;
    /* The byte order mark config_parse() skips. */
    if (i == 0 && n >= 3 && memcmp(l->s, "\xef\xbb\xbf", 3) == 0)
        skip = 3;
    if (config_line_split(l->s + skip, n - skip, start, end) < 3) {
        edit_err(err, errlen, "%s:%d: cannot read the feed line", ed->path,
                 f->line);
        return -1;
    }
    start[2] += skip;
    end[2] += skip;
    if ((s = malloc(l->n - (end[2] - start[2]) + 2 * strlen(location) + 3)) ==
        NULL) {
        edit_err(err, errlen, "out of memory");
        return -1;
    }
    memcpy(s, l->s, start[2]);
    o = edit_word(s + start[2], location);
    memcpy(o, l->s + end[2], l->n - end[2]);
    o += l->n - end[2];
    if (edit_check_line(ed, s + skip, (size_t)(o - s) - skip, err, errlen) !=
        0) {
        free(s);
        return -1;
    }
    if (l->own)
        free(l->s);
    l->s = s;
    l->n = (size_t)(o - s);
    l->own = 1;
    ed->stale = 1;
    ed->changed = 1;
    return 0;
}

int
config_edit_changed(const struct config_edit *ed)
{
    return ed->changed;
}

/* Writes n bytes of p to fd. 0, or -1 (errno). */
static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Replaces the file at target with text[0..len) (redis's recipe), with
 * the mode and, where allowed, the owner of the file it replaces. 0, or -1
 * (err) with the file untouched. */
static int
write_atomic(const char *target, const char *text, size_t len, char *err,
             size_t errlen)
{
    const char *slash = strrchr(target, '/');
    size_t dirlen = slash ? (size_t)(slash - target) : 0;
    char *tmp = NULL, *dir = NULL;
    const char *what = "create a temporary file in";
    struct stat st;
    int fd = -1, dfd, e;

    if (stat(target, &st) != 0) {
        edit_err(err, errlen, "cannot read %s: %s", target, strerror(errno));
        return -1;
    }
    dir =
        slash == NULL ? strdup(".") : strndup(target, dirlen == 0 ? 1 : dirlen);
    tmp = malloc(strlen(target) + 16);
    if (dir == NULL || tmp == NULL) {
        edit_err(err, errlen, "out of memory");
        goto fail;
    }
    /* ".NAME.XXXXXX" beside the file: the same file system, and hidden. */
    sprintf(tmp, "%.*s%s.%s.XXXXXX", (int)dirlen, target, slash ? "/" : "",
            slash ? slash + 1 : target);
    if ((fd = mkstemp(tmp)) < 0)
        goto io;
    what = "write to";
    if (fchmod(fd, st.st_mode & 07777) != 0)
        goto io;
    /* Only root may give the file away; others keep it as theirs. */
    if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
        fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)
        goto io;
    if (write_all(fd, text, len) != 0 || fsync(fd) != 0)
        goto io;
    e = close(fd);
    fd = -1;
    if (e != 0)
        goto io;
    what = "replace the file in";
    if (rename(tmp, target) != 0)
        goto io;
    free(tmp);
    tmp = NULL;
    /* The rename itself is durable once the folder is synced. */
    what = "sync";
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        goto io;
    e = fsync(dfd);
    close(dfd);
    if (e != 0)
        goto io;
    free(dir);
    return 0;
io:
    edit_err(err, errlen, "cannot %s %s: %s", what, dir, strerror(errno));
fail:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL)
        unlink(tmp);
    free(tmp);
    free(dir);
    return -1;
}

int
config_edit_commit(struct config_edit *ed, char *err, size_t errlen)
{
    char *text, *target;
    size_t len;
    int rc;

    if (edit_parse(ed, "the edited file would not parse: ", err, errlen) != 0)
        return -1;
    if ((text = edit_join(ed, &len)) == NULL) {
        edit_err(err, errlen, "out of memory");
        return -1;
    }
    /* Through a symbolic link to its target, which the link keeps
     * naming. */
    if ((target = realpath(ed->path, NULL)) == NULL &&
        (target = strdup(ed->path)) == NULL) {
        free(text);
        edit_err(err, errlen, "out of memory");
        return -1;
    }
    rc = write_atomic(target, text, len, err, errlen);
    free(target);
    free(text);
    return rc;
}

void
config_edit_free(struct config_edit *ed)
{
    size_t i;

    if (ed == NULL)
        return;
    for (i = 0; i < ed->nlines; i++)
        if (ed->lines[i].own)
            free(ed->lines[i].s);
    for (i = 0; i < ed->nadded; i++)
        free(ed->added[i]);
    free(ed->lines);
    free(ed->added);
    config_free(ed->cfg);
    free(ed->text);
    free(ed->dir);
    free(ed->path);
    free(ed);
}
