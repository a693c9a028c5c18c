/* tests/unit/test_config.c - the feed-list file: settings, feeds, defaults,
 * quoting, every error message, durations, and loading from disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "linear.h"

#define NAME "feedd.conf"
#define DIR "/etc/feedd"

/* Parses text as NAME in DIR and asserts that it is valid. */
static struct config *
parse_ok(const char *text)
{
    struct config *cfg;
    char *errors = (char *)"not set";

    cfg = config_parse(text, strlen(text), NAME, DIR, &errors);
    if (errors != NULL)
        print_message("unexpected errors:\n%s", errors);
    assert_null(errors);
    assert_non_null(cfg);
    return cfg;
}

/* Parses len bytes of text and asserts that the errors are exactly
 * expected. */
static void
check_errors_len(const char *text, size_t len, const char *expected)
{
    struct config *cfg;
    char *errors = NULL;

    cfg = config_parse(text, len, NAME, DIR, &errors);
    assert_null(cfg);
    assert_non_null(errors);
    assert_string_equal(errors, expected);
    free(errors);
}

static void
check_errors(const char *text, const char *expected)
{
    check_errors_len(text, strlen(text), expected);
}

static void
test_ids_and_retention(void **state)
{
    struct config *cfg;
    char *errors = NULL;

    (void)state;
    cfg = parse_ok("keep 90d\nkeep_items 5000\n"
                   "feed a http://a.example/ id guid\n"
                   "feed b http://b.example/ id_pattern \"/story/([0-9]+)\"\n"
                   "feed c http://c.example/\n");
    assert_int_equal(cfg->keep, 90 * 86400);
    assert_int_equal(cfg->keep_items, 5000);
    assert_int_equal(cfg->feeds[0].id_rule, CONFIG_ID_GUID);
    assert_null(cfg->feeds[0].id_pattern);
    assert_string_equal(cfg->feeds[1].id_pattern, "/story/([0-9]+)");
    assert_int_equal(cfg->feeds[2].id_rule, CONFIG_ID_AUTO);
    config_free(cfg);
    cfg = parse_ok("keep forever\n");
    assert_int_equal(cfg->keep, 0);
    assert_int_equal(cfg->keep_items, 0);
    config_free(cfg);
    /* A pattern that does not compile is a config error, with why. */
    {
        static const char bad[] = "feed a http://a.example/ id_pattern \"(\"\n";

        cfg = config_parse(bad, strlen(bad), NAME, DIR, &errors);
    }
    assert_null(cfg);
    assert_non_null(errors);
    assert_non_null(strstr(errors, "feedd.conf:1: feed \"a\": bad id_pattern "
                                   "\"(\": "));
    free(errors);
}

static void
test_full(void **state)
{
    static const char text[] =
        "# /etc/feedd/feedd.conf\n"
        "state_dir  state                 # relative: to this file\n"
        "listen     [::1]:8081\n"
        "title      \"My river\"\n"
        "interval   15m\n"
        "max_items  500\n"
        "parallel   8\n"
        "per_host   3\n"
        "public_url https://example.org/river/\n"
        "tls_cert   tls/cert.pem          # relative: to this file\n"
        "tls_key    /etc/ssl/private/k.pem\n"
        "feed moscow-times https://www.themoscowtimes.com/rss/news "
        "interval 1h30m tags news,russia\n"
        "feed lwn          https://lwn.net/headlines/rss\n"
        "feed local-notes  notes/feed.xml   # a path, relative to this file\n"
        "feed Abs_1.x      /srv/feeds/a.xml tags x interval 1d\n"
        "feed f            file:///tmp/f.xml\n";
    const struct config_feed *f;
    struct config *cfg;

    (void)state;
    cfg = parse_ok(text);
    assert_string_equal(cfg->path, NAME);
    assert_string_equal(cfg->dir, DIR);
    assert_string_equal(cfg->state_dir, DIR "/state");
    assert_string_equal(cfg->listen_host, "::1");
    assert_int_equal(cfg->listen_port, 8081);
    assert_string_equal(cfg->title, "My river");
    assert_int_equal(cfg->interval, 15 * 60);
    assert_int_equal(cfg->max_items, 500);
    assert_int_equal(cfg->parallel, 8);
    assert_int_equal(cfg->per_host, 3);
    assert_string_equal(cfg->public_url, "https://example.org/river/");
    assert_string_equal(cfg->tls_cert, DIR "/tls/cert.pem");
    assert_string_equal(cfg->tls_key, "/etc/ssl/private/k.pem");
    assert_int_equal(cfg->nfeeds, 5);

    f = &cfg->feeds[0];
    assert_string_equal(f->name, "moscow-times");
    assert_string_equal(f->location, "https://www.themoscowtimes.com/rss/news");
    assert_int_equal(f->interval, 90 * 60);
    assert_int_equal(f->ntags, 2);
    assert_string_equal(f->tags[0], "news");
    assert_string_equal(f->tags[1], "russia");
    assert_int_equal(f->line, 12);

    f = &cfg->feeds[1];
    assert_string_equal(f->name, "lwn");
    assert_string_equal(f->location, "https://lwn.net/headlines/rss");
    assert_int_equal(f->interval, 15 * 60); /* the config's interval */
    assert_int_equal(f->ntags, 0);
    assert_null(f->tags);
    assert_int_equal(f->line, 13);

    f = &cfg->feeds[2];
    assert_string_equal(f->name, "local-notes");
    assert_string_equal(f->location, "file://" DIR "/notes/feed.xml");
    assert_int_equal(f->interval, 15 * 60);
    assert_int_equal(f->line, 14);

    f = &cfg->feeds[3];
    assert_string_equal(f->name, "Abs_1.x");
    assert_string_equal(f->location, "file:///srv/feeds/a.xml");
    assert_int_equal(f->interval, 86400);
    assert_int_equal(f->ntags, 1);
    assert_string_equal(f->tags[0], "x");

    f = &cfg->feeds[4];
    assert_string_equal(f->location, "file:///tmp/f.xml");
    assert_int_equal(f->line, 16);
    config_free(cfg);
}

static void
test_defaults(void **state)
{
    static const char *const texts[] = {
        "",
        "\n",
        "# nothing but comments\n\n   \t\n  # and blanks\n",
    };
    struct config *cfg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        cfg = parse_ok(texts[i]);
        assert_string_equal(cfg->state_dir, "/var/lib/feedd");
        assert_string_equal(cfg->listen_host, "127.0.0.1");
        assert_int_equal(cfg->listen_port, 8080);
        assert_string_equal(cfg->title, "feedd");
        assert_int_equal(cfg->interval, 30 * 60);
        assert_int_equal(cfg->max_items, 200);
        assert_int_equal(cfg->parallel, 16);
        assert_int_equal(cfg->per_host, 2);
        assert_null(cfg->public_url);
        assert_null(cfg->tls_cert);
        assert_null(cfg->tls_key);
        /* No feeds is valid: the daemon idles. */
        assert_int_equal(cfg->nfeeds, 0);
        config_free(cfg);
    }

    cfg = parse_ok("feed a http://a.example/\n");
    assert_int_equal(cfg->nfeeds, 1);
    assert_int_equal(cfg->feeds[0].interval, 30 * 60);
    config_free(cfg);
}

/* The default interval comes from the whole file, even from below. */
/* timeout, connect_timeout, max_size and user_agent: settings with
 * defaults, and a feed's own, which take the settings' for what they do
 * not give, whatever the order of the lines. */
static void
test_fetch_options(void **state)
{
    const struct config_fetch *fx;
    struct config *cfg;
    uint64_t n;

    (void)state;
    cfg = parse_ok("feed a http://a.example/\n");
    fx = config_feed_fetch(cfg, &cfg->feeds[0]);
    assert_ptr_equal(fx, &cfg->fetch);
    assert_int_equal(fx->timeout, 30);
    assert_int_equal(fx->connect_timeout, 10);
    assert_true(fx->max_size == (UINT64_C(16) << 20));
    assert_string_equal(fx->user_agent, CONFIG_DEFAULT_USER_AGENT);
    assert_non_null(strstr(fx->user_agent, " (+"));
    config_free(cfg);

    cfg = parse_ok("feed a http://a.example/ timeout 5s max_size 512k\n"
                   "feed b http://b.example/ user_agent \"Bot/1 (+x)\"\n"
                   "feed c http://c.example/\n"
                   "timeout 1m\nconnect_timeout 3s\nmax_size 2M\n"
                   "user_agent \"All/2\"\n");
    fx = config_feed_fetch(cfg, &cfg->feeds[0]);
    assert_int_equal(fx->timeout, 5);
    assert_int_equal(fx->connect_timeout, 3);
    assert_true(fx->max_size == 512 * 1024);
    assert_string_equal(fx->user_agent, "All/2");
    fx = config_feed_fetch(cfg, &cfg->feeds[1]);
    assert_int_equal(fx->timeout, 60);
    assert_true(fx->max_size == (UINT64_C(2) << 20));
    assert_string_equal(fx->user_agent, "Bot/1 (+x)");
    /* A feed without options costs no options of its own. */
    assert_null(cfg->feeds[2].fetch);
    assert_ptr_equal(config_feed_fetch(cfg, &cfg->feeds[2]), &cfg->fetch);
    config_free(cfg);

    assert_int_equal(config_size_parse("1000", &n), 0);
    assert_true(n == 1000);
    assert_int_equal(config_size_parse("3K", &n), 0);
    assert_true(n == 3072);
    assert_int_equal(config_size_parse("1G", &n), 0);
    assert_true(n == (UINT64_C(1) << 30));
    assert_int_equal(config_size_parse("1.5M", &n), -1);
    assert_int_equal(config_size_parse("1MB", &n), -1);
    assert_int_equal(config_size_parse("M", &n), -1);
    assert_int_equal(config_size_parse("99999999999999999999", &n), -1);
    assert_int_equal(config_size_parse("99999999999999999G", &n), -1);

    check_errors("timeout 2h\n", "feedd.conf:1: bad timeout \"2h\" "
                                 "(use 30s, 15m, 2h, 1d)"
                                 ", at most 3600 s\n");
    check_errors("connect_timeout 0s\n",
                 "feedd.conf:1: bad connect_timeout \"0s\" "
                 "(use 30s, 15m, 2h, 1d)"
                 ", at most 300 s\n");
    check_errors("max_size 10\nmax_size 2G\n",
                 "feedd.conf:1: bad max_size \"10\" (bytes, or with k, M or "
                 "G: 512k, 16M; from 1k to 1G)\n"
                 "feedd.conf:2: setting \"max_size\" given twice (first on "
                 "line 1)\n");
    check_errors("feed a http://a.example/ max_size 2G\n",
                 "feedd.conf:1: feed \"a\": bad max_size \"2G\" (bytes, or "
                 "with k, M or G: 512k, 16M; from 1k to 1G)\n");
    check_errors("user_agent \"a\tb\"\n",
                 "feedd.conf:1: bad user_agent \"a\\x09b\" (printable ASCII, "
                 "at most 256 characters)\n");
}

static void
test_interval_after_feeds(void **state)
{
    struct config *cfg;

    (void)state;
    cfg = parse_ok("feed a http://a.example/\n"
                   "feed b http://b.example/ interval 5m\n"
                   "interval 2h\n");
    assert_int_equal(cfg->interval, 7200);
    assert_int_equal(cfg->feeds[0].interval, 7200);
    assert_int_equal(cfg->feeds[1].interval, 300);
    config_free(cfg);
}

static void
test_quotes_and_comments(void **state)
{
    static const struct {
        const char *text, *title;
    } cases[] = {
        {"title \"a # b\"\n", "a # b"},
        {"title \"say \\\"hi\\\" \\\\o/\"\n", "say \"hi\" \\o/"},
        {"title x\"y z\"w\n", "xy zw"},
        {"title \"\"\n", ""},
        {"title \"x\"# comment\n", "x"},
        {"title abc#def\n", "abc"},
        {"title back\\slash\n", "back\\slash"},
        {"\ttitle\t\t\"tab\"\t# comment\n", "tab"},
        {"title crlf\r\n", "crlf"},
        {"\xef\xbb\xbftitle bom\n", "bom"},
        {"title unended", "unended"},
        {"title caf\xc3\xa9", "caf\xc3\xa9"},
    };
    struct config *cfg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cfg = parse_ok(cases[i].text);
        assert_string_equal(cfg->title, cases[i].title);
        config_free(cfg);
    }

    /* CRLF throughout, and a quoted URL keeps its '#'. */
    cfg = parse_ok("max_items 7\r\n"
                   "\r\n"
                   "# c\r\n"
                   "feed a \"http://a.example/x?y#z\" tags t\r\n");
    assert_int_equal(cfg->max_items, 7);
    assert_int_equal(cfg->nfeeds, 1);
    assert_string_equal(cfg->feeds[0].location, "http://a.example/x?y#z");
    assert_string_equal(cfg->feeds[0].tags[0], "t");
    assert_int_equal(cfg->feeds[0].line, 4);
    config_free(cfg);
}

static void
test_locations(void **state)
{
    static const struct {
        const char *dir, *word, *location;
    } cases[] = {
        {DIR, "notes/feed.xml", "file://" DIR "/notes/feed.xml"},
        {DIR, "./a//b/./c.xml", "file://" DIR "/a/b/c.xml"},
        {DIR, "../x.xml", "file://" DIR "/../x.xml"},
        {DIR "/", "x.xml", "file://" DIR "/x.xml"},
        {"/", "x.xml", "file:///x.xml"},
        {DIR, "\"/srv/a b/\xc3\xbc+%;.xml\"",
         "file:///srv/a%20b/%C3%BC%2B%25%3B.xml"},
        {DIR, "~/x~.xml", "file://" DIR "/~/x~.xml"},
        {DIR, "file:///kept%20as/is", "file:///kept%20as/is"},
        {DIR, "file://localhost/x", "file://localhost/x"},
        {DIR, "http://a.example", "http://a.example"},
        {DIR, "HTTPS://Example.COM/x", "HTTPS://Example.COM/x"},
        {DIR, "http://u:p@a.example:8080/f?x=1",
         "http://u:p@a.example:8080/f?x=1"},
        {DIR, "http://[::1]:8080/feed", "http://[::1]:8080/feed"},
        /* A colon after a folder is part of a file name. */
        {DIR, "./mailto:x", "file://" DIR "/mailto%3Ax"},
        {DIR, "a/b:c", "file://" DIR "/a/b%3Ac"},
    };
    struct config *cfg;
    char text[256], *errors;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "feed a %s\n", cases[i].word);
        errors = NULL;
        cfg = config_parse(text, strlen(text), NAME, cases[i].dir, &errors);
        if (errors != NULL)
            print_message("%s", errors);
        assert_null(errors);
        assert_non_null(cfg);
        assert_string_equal(cfg->feeds[0].location, cases[i].location);
        config_free(cfg);
    }
}

static void
test_listen(void **state)
{
    static const struct {
        const char *text, *host;
        int port;
    } cases[] = {
        {"listen 0.0.0.0:80", "0.0.0.0", 80},
        {"listen localhost:65535", "localhost", 65535},
        {"listen [::1]:1", "::1", 1},
        {"listen [::]:8080", "::", 8080},
        {"listen [::ffff:127.0.0.1]:9", "::ffff:127.0.0.1", 9},
        {"listen [fe80::1%eth0]:8080", "fe80::1%eth0", 8080},
        {"listen 127.0.0.1:08080", "127.0.0.1", 8080},
    };
    struct sockaddr_storage ss;
    struct config *cfg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cfg = parse_ok(cases[i].text);
        assert_string_equal(cfg->listen_host, cases[i].host);
        assert_int_equal(cfg->listen_port, cases[i].port);
        /* The server takes what the check took. */
        assert_int_equal(
            config_listen_addr(cfg->listen_host, cfg->listen_port, &ss), 0);
        assert_int_equal(ss.ss_family,
                         strchr(cases[i].host, ':') ? AF_INET6 : AF_INET);
        config_free(cfg);
    }
}

/* A host name is refused by the check and by the server alike (issue 9:
 * "listen example.com:8080" passed the check and failed to start). */
static void
test_listen_names(void **state)
{
    static const char *const hosts[] = {
        "example.com", "ho_st",    "host",          "1.2.3", "256.1.1.1",
        "::1x",        "fe80::1%", "fe80::1%e th0", "",
    };
    struct sockaddr_storage ss;
    char text[64], want[256], *errors = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        assert_int_equal(config_listen_addr(hosts[i], 8080, &ss), -1);
        if (hosts[i][0] == '\0' || strchr(hosts[i], ' ') != NULL)
            continue;
        snprintf(text, sizeof text,
                 strchr(hosts[i], ':') ? "listen [%s]:8080\n"
                                       : "listen %s:8080\n",
                 hosts[i]);
        assert_null(config_parse(text, strlen(text), NAME, "/etc", &errors));
        snprintf(want, sizeof want,
                 NAME ":1: listen: \"%s\" is not a numeric IPv4 or IPv6 "
                      "address (host names are not looked up; use e.g. "
                      "127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080)\n",
                 hosts[i]);
        assert_non_null(errors);
        assert_string_equal(errors, want);
        free(errors);
    }
    assert_int_equal(config_listen_addr("127.0.0.1", 65536, &ss), -1);
    assert_int_equal(config_listen_addr("127.0.0.1", -1, &ss), -1);
    assert_int_equal(config_listen_addr("localhost", 0, NULL), 0);
}

/* Every setting's range ends are accepted. */
static void
test_number_limits(void **state)
{
    struct config *cfg;

    (void)state;
    cfg = parse_ok("max_items 1\nparallel 1\nper_host 1\n");
    assert_int_equal(cfg->max_items, 1);
    assert_int_equal(cfg->parallel, 1);
    assert_int_equal(cfg->per_host, 1);
    config_free(cfg);
    cfg = parse_ok("max_items 100000\nparallel 1000\nper_host 100\n");
    assert_int_equal(cfg->max_items, 100000);
    assert_int_equal(cfg->parallel, 1000);
    assert_int_equal(cfg->per_host, 100);
    config_free(cfg);
}

#define E(line, msg) NAME ":" #line ": " msg "\n"
#define LISTEN_HINT "(use HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080)"
#define NOT_NUMERIC                                                            \
    "is not a numeric IPv4 or IPv6 address (host names are not looked up; "    \
    "use e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080)"
#define DURATION_HINT "(use 30s, 15m, 2h, 1d)"
#define NAME_HINT "(letters, digits, '.', '_' and '-', at most 64)"
#define TAGS_HINT "(comma-separated; letters, digits, '.', '_' and '-')"

#define URL_HINT "(an http:// or https:// URL, e.g. https://example.org/river/)"

static void
test_errors_settings(void **state)
{
    static const struct {
        const char *text, *errors;
    } cases[] = {
        {"intervall 30m\n", E(1, "unknown setting \"intervall\"")},
        {"Title x\n", E(1, "unknown setting \"Title\"")},
        {"title a\n\ntitle b\n",
         E(3, "setting \"title\" given twice (first on line 1)")},
        {"listen\n", E(1, "setting \"listen\" needs a value")},
        {"title My river\n", E(1, "setting \"title\" takes one value, not 2 "
                                  "(quote text with spaces)")},
        {"state_dir a b c\n", E(1, "setting \"state_dir\" takes one value, "
                                   "not 3 (quote text with spaces)")},
        {"state_dir \"\"\n", E(1, "state_dir is empty")},
        {"state_dir /var/lib/\x1b[1m\n",
         E(1, "state_dir \"/var/lib/\\x1b[1m\" has control characters")},
        {"interval 15x\n", E(1, "bad interval \"15x\" " DURATION_HINT)},
        {"interval 90\n", E(1, "bad interval \"90\" " DURATION_HINT)},
        {"interval 0m\n", E(1, "bad interval \"0m\" " DURATION_HINT)},
        {"max_items 0\n",
         E(1, "bad max_items \"0\" (a number from 1 to 100000)")},
        {"max_items 100001\n",
         E(1, "bad max_items \"100001\" (a number from 1 to 100000)")},
        {"max_items 2e3\n",
         E(1, "bad max_items \"2e3\" (a number from 1 to 100000)")},
        {"max_items 99999999999999999999999\n",
         E(1, "bad max_items \"99999999999999999999999\" (a number from 1 "
              "to 100000)")},
        {"parallel 1001\n",
         E(1, "bad parallel \"1001\" (a number from 1 to 1000)")},
        {"parallel \"\"\n",
         E(1, "bad parallel \"\" (a number from 1 to 1000)")},
        {"per_host -1\n", E(1, "bad per_host \"-1\" (a number from 1 to 100)")},
        {"public_url example.org\n",
         E(1, "bad public_url \"example.org\" " URL_HINT)},
        {"public_url ftp://example.org/\n",
         E(1, "bad public_url \"ftp://example.org/\" " URL_HINT)},
        {"public_url http://\n", E(1, "bad public_url \"http://\" " URL_HINT)},
        {"public_url \"https://a b/\"\n",
         E(1, "bad public_url \"https://a b/\" " URL_HINT)},
        {"per_host +1\n", E(1, "bad per_host \"+1\" (a number from 1 to 100)")},
        {"per_host 101\n",
         E(1, "bad per_host \"101\" (a number from 1 to 100)")},
        {"listen 8080\n", E(1, "bad listen address \"8080\" " LISTEN_HINT)},
        {"listen 1.2.3.4\n",
         E(1, "bad listen address \"1.2.3.4\" " LISTEN_HINT)},
        {"listen ho_st:80\n", E(1, "listen: \"ho_st\" " NOT_NUMERIC)},
        {"listen [::1]8080\n",
         E(1, "bad listen address \"[::1]8080\" " LISTEN_HINT)},
        {"listen [::1\n", E(1, "bad listen address \"[::1\" " LISTEN_HINT)},
        {"listen []:80\n", E(1, "bad listen address \"[]:80\" " LISTEN_HINT)},
        {"listen [host]:80\n", E(1, "listen: \"host\" " NOT_NUMERIC)},
        {"listen example.com:8080\n",
         E(1, "listen: \"example.com\" " NOT_NUMERIC)},
        {"listen ::1:8080\n",
         E(1, "listen: IPv6 addresses need brackets, e.g. [::1]:8080")},
        {"listen :8080\n", E(1, "listen: no host in \":8080\" (0.0.0.0 means "
                                "every interface)")},
        {"listen localhost:0\n", E(1, "listen: bad port \"0\" (1 to 65535)")},
        {"listen localhost:65536\n",
         E(1, "listen: bad port \"65536\" (1 to 65535)")},
        {"listen localhost:\n", E(1, "listen: bad port \"\" (1 to 65535)")},
        {"listen [::1]:http\n", E(1, "listen: bad port \"http\" (1 to 65535)")},
        {"title t\ntls_cert /c.pem\n",
         E(2, "tls_cert needs tls_key too (both or neither)")},
        {"tls_key k.pem\n",
         E(1, "tls_key needs tls_cert too (both or neither)")},
        {"tls_cert \"\"\ntls_key k.pem\n", E(1, "tls_cert is empty")},
        {"tls_key /k\x01\ntls_cert c\n",
         E(1, "tls_key \"/k\\x01\" has control characters")},
        {"tls_cert a\ntls_key b\ntls_cert c\n",
         E(3, "setting \"tls_cert\" given twice (first on line 1)")},
        {"ca_file /nonexistent/ca.pem\n",
         E(1, "ca_file \"/nonexistent/ca.pem\": No such file or directory")},
        {"ca_file \"\"\n", E(1, "ca_file is empty")},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_errors(cases[i].text, cases[i].errors);
}

static void
test_errors_feeds(void **state)
{
    static const struct {
        const char *text, *errors;
    } cases[] = {
        {"feed\n", E(1, "feed needs a name and a location")},
        {"feed lwn\n", E(1, "feed \"lwn\" needs a location")},
        {"feed \"l w n\" http://a.example/\n",
         E(1, "bad feed name \"l w n\" " NAME_HINT)},
        {"feed caf\xc3\xa9 http://a.example/\n",
         E(1, "bad feed name \"caf\xc3\xa9\" " NAME_HINT)},
        {"feed \"\" http://a.example/\n",
         E(1, "bad feed name \"\" " NAME_HINT)},
        {"feed a \"\"\n", E(1, "feed \"a\": empty location")},
        {"feed a http:///x\n",
         E(1, "feed \"a\": URL \"http:///x\" has no host")},
        {"feed a https://u@:80/x\n",
         E(1, "feed \"a\": URL \"https://u@:80/x\" has no host")},
        {"feed a http://[]/x\n",
         E(1, "feed \"a\": URL \"http://[]/x\" has no host")},
        {"feed a \"http://a.example/a b\"\n",
         E(1, "feed \"a\": URL \"http://a.example/a b\" has spaces or control "
              "characters (write a space as %20)")},
        {"feed a ftp://a.example/x\n",
         E(1, "feed \"a\": unsupported URL scheme \"ftp://a.example/x\" (use "
              "http://, https://, file:// or a path)")},
        {"feed a http:/a.example/x\n",
         E(1, "feed \"a\": bad URL \"http:/a.example/x\" (use "
              "http://HOST/...)")},
        {"feed a HTTPS:a.example\n",
         E(1, "feed \"a\": bad URL \"HTTPS:a.example\" (use http://HOST/...)")},
        {"feed a file://\n",
         E(1, "feed \"a\": file URL \"file://\" has no path")},
        /* Issue 9: what the check took and nothing could use. */
        {"feed a javascript:alert(1)\n",
         E(1, "feed \"a\": unsupported URL scheme \"javascript:alert(1)\" "
              "(use http://, https://, file:// or a path; write a file name "
              "with ':' as ./NAME)")},
        {"feed a mailto:x\n",
         E(1, "feed \"a\": unsupported URL scheme \"mailto:x\" (use "
              "http://, https://, file:// or a path; write a file name with "
              "':' as ./NAME)")},
        {"feed a http://[::1/feed\n",
         E(1, "feed \"a\": URL \"http://[::1/feed\" has an IPv6 address "
              "without its closing ']' (e.g. http://[::1]:8080/feed)")},
        {"feed a http://[::1\n",
         E(1, "feed \"a\": URL \"http://[::1\" has an IPv6 address "
              "without its closing ']' (e.g. http://[::1]:8080/feed)")},
        {"feed a a\x01"
         "b.xml\n",
         E(1, "feed \"a\": path \"a\\x01b.xml\" has control characters")},
        {"feed a \"a\tb.xml\"\n",
         E(1, "feed \"a\": path \"a\\x09b.xml\" has control characters")},
        {"feed a file:///a\x7f\n",
         E(1, "feed \"a\": URL \"file:///a\\x7f\" has control characters "
              "(write them %-encoded)")},
        {"feed lwn https://lwn.net/ interval 15x\n",
         E(1, "feed \"lwn\": bad interval \"15x\" " DURATION_HINT)},
        {"feed a http://a.example/ every 1h\n",
         E(1, "feed \"a\": unknown option \"every\" (use interval, tags, id, "
              "id_pattern, timeout, connect_timeout, max_size or "
              "user_agent)")},
        {"feed a http://a.example/ id url\n",
         E(1, "feed \"a\": bad id \"url\" (use auto, slug, guid, link or "
              "content)")},
        {"feed a http://a.example/ id_pattern (a)(b)\n",
         E(1, "feed \"a\": id_pattern \"(a)(b)\" has more than one group")},
        {"keep 1x\n", E(1, "bad keep \"1x\" " DURATION_HINT " or forever")},
        {"keep_items -1\n",
         E(1, "bad keep_items \"-1\" (a number from 0 to 100000000)")},
        {"feed a http://a.example/ interval\n",
         E(1, "feed \"a\": option \"interval\" needs a value")},
        {"feed a http://a.example/ tags a interval 1h interval 2h\n",
         E(1, "feed \"a\": option \"interval\" given twice")},
        {"feed a http://a.example/ tags a tags b\n",
         E(1, "feed \"a\": option \"tags\" given twice")},
        {"feed a http://a.example/ tags a,,b\n",
         E(1, "feed \"a\": bad tags \"a,,b\" " TAGS_HINT)},
        {"feed a http://a.example/ tags a,\n",
         E(1, "feed \"a\": bad tags \"a,\" " TAGS_HINT)},
        {"feed a http://a.example/ tags \"\"\n",
         E(1, "feed \"a\": bad tags \"\" " TAGS_HINT)},
        {"feed a http://a.example/ tags \"a b\"\n",
         E(1, "feed \"a\": bad tags \"a b\" " TAGS_HINT)},
        {"feed a http://a.example/ tags x,y,x\n",
         E(1, "feed \"a\": tag \"x\" given twice")},
        /* The first fault in list order is the one reported. */
        {"feed a http://a.example/ tags b,a,a,b\n",
         E(1, "feed \"a\": tag \"a\" given twice")},
        {"feed a http://a.example/ tags x,y,x,b!d\n",
         E(1, "feed \"a\": tag \"x\" given twice")},
        {"feed a http://a.example/ tags x,b!d,x\n",
         E(1, "feed \"a\": bad tags \"x,b!d,x\" " TAGS_HINT)},
        {"feed a http://a.example/\nfeed b http://b.example/\n"
         "feed a http://c.example/\n",
         E(3, "feed \"a\" given twice (first on line 1)")},
        {"feed a http://a.example/\nfeed a http://b.example/\n"
         "feed a http://c.example/\n",
         NAME ":2: feed \"a\" given twice (first on line 1)\n" NAME
              ":3: feed \"a\" given twice (first on line 1)\n"},
        {"feed a http://a.example/\n# b\nfeed b http://a.example/\n",
         E(3, "feed \"b\": same location as feed \"a\" on line 1")},
        /* A path and its file:// URL are the same location. */
        {"feed a notes.xml\nfeed b file://" DIR "/notes.xml\n",
         E(2, "feed \"b\": same location as feed \"a\" on line 1")},
        /* A duplicate is found even on a line with another fault. */
        {"feed a http://a.example/\nfeed a http://b.example/ interval 0s\n",
         NAME ":2: feed \"a\": bad interval \"0s\" " DURATION_HINT "\n" NAME
              ":2: feed \"a\" given twice (first on line 1)\n"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_errors(cases[i].text, cases[i].errors);
}

/* NAME ":1: unknown setting \"" followed by rest, in a static buffer. */
static const char *
want_prefix(const char *rest)
{
    static char buf[512];

    snprintf(buf, sizeof buf, NAME ":1: unknown setting \"%s", rest);
    return buf;
}

static void
test_errors_syntax(void **state)
{
    static const char nul[] = "title a\0b\nper_host 3\n";
    char *text, want[256];
    struct config *cfg;
    size_t n;

    (void)state;
    check_errors("title \"abc\n", E(1, "unterminated quote"));
    check_errors("title \"abc\\\"\n", E(1, "unterminated quote"));
    check_errors("title \"abc\\", E(1, "unterminated quote"));
    check_errors("title \"a\\nb\"\n",
                 E(1, "unknown escape inside quotes (only \\\" and \\\\ are "
                      "escapes)"));
    check_errors("feed a b c d e f g h i j k l m n o p\n",
                 E(1, "too many words on one line (at most 16)"));
    check_errors_len(nul, sizeof nul - 1, E(1, "line holds a NUL byte"));
    /* Messages quote words safely, and briefly: 64 bytes at most, not
     * cutting a UTF-8 sequence in half. */
    check_errors("\x01"
                 "bad\\x 1\n",
                 E(1, "unknown setting \"\\x01bad\\\\x\""));
    /* Bytes that are not UTF-8 are escaped too, a valid sequence is kept. */
    check_errors("\xff"
                 "bad\xc0\xaf\xed\xa0\x80\xc3\xa9\xe2\x82 1\n",
                 E(1, "unknown setting \"\\xffbad\\xc0\\xaf\\xed\\xa0\\x80"
                      "\xc3\xa9\\xe2\\x82\""));
    assert_non_null(text = malloc(200));
    memset(text, 'k', 70);
    strcpy(text + 70, " 1\n");
    memset(want, 'k', 64);
    strcpy(want + 64, "\"...\n");
    check_errors(text, want_prefix(want));
    memcpy(text + 63, "\xc3\xa9", 2);
    want[63] = '\0';
    strcat(want, "\"...\n");
    check_errors(text, want_prefix(want));
    free(text);

    /* 8192 bytes is the longest line, CR not counted. */
    n = 8192 + 2;
    assert_non_null(text = malloc(n + 64));
    memcpy(text, "title ", 6);
    memset(text + 6, 'a', 8192 - 6);
    memcpy(text + 8192, "\r\n", 3);
    cfg = parse_ok(text);
    assert_int_equal(strlen(cfg->title), 8192 - 6);
    config_free(cfg);
    memcpy(text + 8192, "a\nbogus\n", 9);
    check_errors(text, NAME ":1: line too long (more than 8192 bytes)\n" NAME
                            ":2: unknown setting \"bogus\"\n");
    free(text);
}

/* Every problem is reported, in line order, duplicates (found last)
 * included. */
static void
test_errors_all(void **state)
{
    static const char text[] = "title \"unterminated\n"
                               "feed a http://x.example/ interval 0s\n"
                               "listen 1.2.3.4\n"
                               "feed a http://y.example/\n"
                               "bogus\n"
                               "feed b http://x.example/ tags ok\n"
                               "title ok\n"
                               "title again\n";
    static const char errors[] =
        "feedd.conf:1: unterminated quote\n"
        "feedd.conf:2: feed \"a\": bad interval \"0s\" " DURATION_HINT "\n"
        "feedd.conf:3: bad listen address \"1.2.3.4\" " LISTEN_HINT "\n"
        "feedd.conf:4: feed \"a\" given twice (first on line 2)\n"
        "feedd.conf:5: unknown setting \"bogus\"\n"
        "feedd.conf:6: feed \"b\": same location as feed \"a\" on line 2\n"
        "feedd.conf:8: setting \"title\" given twice (first on line 7)\n";

    (void)state;
    check_errors(text, errors);
}

static void
test_duration(void **state)
{
    static const struct {
        const char *s;
        int64_t seconds;
    } good[] = {
        {"30s", 30},
        {"15m", 900},
        {"2h", 7200},
        {"1d", 86400},
        {"1w", 604800},
        {"1h30m", 5400},
        {"1w2d3h4m5s", 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5},
        {"0h1s", 1},
        {"007m", 420},
        {"90s", 90},
        {"9223372036854775s", INT64_MAX / 1000},
    };
    static const char *const bad[] = {
        "",
        "0s",
        "0h0m",
        "90",
        "1h30",
        "-5m",
        "+5m",
        "5 m",
        " 5m",
        "5m ",
        "5M",
        "5x",
        "m",
        "1.5h",
        "1h1h",
        "30m1h",
        "1hh",
        "9223372036854776s",
        "99999999999999999999s",
        "15250284453w",
        "15250284452w1w",
        "15250284452w6d23h59m60s",
    };
    int64_t v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        v = -1;
        assert_int_equal(config_duration_parse(good[i].s, &v), 0);
        assert_int_equal(v, good[i].seconds);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42;
        if (config_duration_parse(bad[i], &v) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(v, 42); /* untouched */
    }
    assert_int_equal(config_duration_parse(NULL, &v), -1);
}

static void
test_feed_find(void **state)
{
    struct config *cfg;

    (void)state;
    cfg = parse_ok("feed a http://a.example/\nfeed b http://b.example/\n");
    assert_ptr_equal(config_feed_find(cfg, "b"), &cfg->feeds[1]);
    assert_ptr_equal(config_feed_find(cfg, "a"), &cfg->feeds[0]);
    assert_null(config_feed_find(cfg, "c"));
    assert_null(config_feed_find(cfg, "A"));
    assert_null(config_feed_find(NULL, "a"));
    config_free(cfg);
    config_free(NULL);
}

/* Without a folder, or with a relative one, paths start at the working
 * folder. */
static void
test_parse_dir(void **state)
{
    struct config *cfg;
    char *cwd, *errors = NULL, want[8192];
    const char text[] = "state_dir s\n";

    (void)state;
    assert_non_null(cwd = getcwd(NULL, 0));
    cfg = config_parse(text, strlen(text), "x", NULL, &errors);
    assert_null(errors);
    assert_non_null(cfg);
    assert_string_equal(cfg->dir, cwd);
    snprintf(want, sizeof want, "%s/s", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(cfg->state_dir, want);
    config_free(cfg);

    cfg = config_parse(text, strlen(text), "x", "conf/", &errors);
    assert_null(errors);
    assert_non_null(cfg);
    snprintf(want, sizeof want, "%s/conf", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(cfg->dir, want);
    config_free(cfg);
    free(cwd);
}

/* Writes n bytes of text into dir/name; returns the path (caller frees). */
static char *
write_file(const char *dir, const char *name, const char *text, size_t n)
{
    char *path;
    FILE *f;

    assert_non_null(path = malloc(strlen(dir) + strlen(name) + 2));
    sprintf(path, "%s/%s", dir, name);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void
test_load(void **state)
{
    static const char text[] = "state_dir state\nfeed n notes.xml\n";
    char tmpl[] = "/tmp/test_config.XXXXXX", *dir, *path, *errors, *old;
    char want[4200];
    struct config *cfg;

    (void)state;
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(dir = realpath(tmpl, NULL));
    path = write_file(tmpl, "feedd.conf", text, sizeof text - 1);

    errors = (char *)"not set";
    cfg = config_load(path, &errors);
    assert_null(errors);
    assert_non_null(cfg);
    assert_string_equal(cfg->path, path);
    assert_string_equal(cfg->dir, dir);
    snprintf(want, sizeof want, "%s/state", dir);
    assert_string_equal(cfg->state_dir, want);
    snprintf(want, sizeof want, "file://%s/notes.xml", dir);
    assert_string_equal(cfg->feeds[0].location, want);
    config_free(cfg);

    /* A bare file name: its folder is the working folder. */
    assert_non_null(old = getcwd(NULL, 0));
    assert_int_equal(chdir(tmpl), 0);
    cfg = config_load("feedd.conf", &errors);
    assert_int_equal(chdir(old), 0);
    assert_null(errors);
    assert_non_null(cfg);
    assert_string_equal(cfg->path, "feedd.conf");
    assert_string_equal(cfg->dir, dir);
    config_free(cfg);
    free(old);

    unlink(path);
    free(path);
    rmdir(tmpl);
    free(dir);
}

static void
test_load_errors(void **state)
{
    static const char bad[] = "title a\nintervall 1h\n";
    char tmpl[] = "/tmp/test_config.XXXXXX", *path, *errors, *big;
    char want[4200];
    struct config *cfg;
    size_t max = 64 << 20, i;

    (void)state;
    assert_non_null(mkdtemp(tmpl));

    path = write_file(tmpl, "bad.conf", bad, sizeof bad - 1);
    cfg = config_load(path, &errors);
    assert_null(cfg);
    snprintf(want, sizeof want, "%s:2: unknown setting \"intervall\"\n", path);
    assert_string_equal(errors, want);
    free(errors);
    unlink(path);
    free(path);

    /* A binary file: one line, with a short escaped excerpt only (issue
     * 9), however many lines its bytes would make. */
    {
        static const char elf[] = "\x7f"
                                  "ELF\x02\x01\x01\0\0\0\n\xff\xfe title "
                                  "\x1b[2J\xc3\xa9\n0123456789abcdefghij";

        path = write_file(tmpl, "bin.conf", elf, sizeof elf - 1);
        cfg = config_load(path, &errors);
        assert_null(cfg);
        snprintf(want, sizeof want,
                 "%s: not a config file (a NUL byte at offset 7; it starts "
                 "\"\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x0a\\xff\\xfe "
                 "title \\x1b[2J\\xc3\\xa9\\x0a0123456789abc\"...)\n",
                 path);
        assert_string_equal(errors, want);
        free(errors);
        unlink(path);
        free(path);
    }

    /* Missing: the path as given, no line. */
    snprintf(want, sizeof want, "%s/missing.conf", tmpl);
    cfg = config_load(want, &errors);
    assert_null(cfg);
    assert_non_null(errors);
    strcat(want, ": cannot read: No such file or directory\n");
    assert_string_equal(errors, want);
    free(errors);

    cfg = config_load(tmpl, &errors);
    assert_null(cfg);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory\n", tmpl);
    assert_string_equal(errors, want);
    free(errors);

    /* 64 MiB of comments loads; one byte more does not. */
    assert_non_null(big = malloc(max + 1));
    for (i = 0; i < max; i++)
        big[i] = i % 100 == 99 ? '\n' : '#';
    big[max] = '\n';
    path = write_file(tmpl, "big.conf", big, max);
    cfg = config_load(path, &errors);
    assert_null(errors);
    assert_non_null(cfg);
    config_free(cfg);
    unlink(path);
    free(path);
    path = write_file(tmpl, "big.conf", big, max + 1);
    cfg = config_load(path, &errors);
    assert_null(cfg);
    snprintf(want, sizeof want, "%s: too large (more than 64 MiB)\n", path);
    assert_string_equal(errors, want);
    free(errors);
    unlink(path);
    free(path);
    free(big);

    rmdir(tmpl);
}

/* Appends the name of number i in letters (base 26, at least 3 letters). */
static char *
put_name(char *o, size_t i)
{
    for (int k = 0; k < 3 || i > 0; k++, i /= 26)
        *o++ = (char)('a' + i % 26);
    return o;
}

/* 32 feed lines of n tags each (n at most 2000, so that a line fits). */
static void
run_many_tags(size_t n, void *arg)
{
    size_t lines = 32, cap = lines * (n * 4 + 64), i, j;
    char *text = malloc(cap), *o = text, *errors = NULL;
    struct config *cfg;

    (void)arg;
    assert_non_null(text);
    for (i = 0; i < lines; i++) {
        o += sprintf(o, "feed f%zu http://h.example/%zu tags ", i, i);
        for (j = 0; j < n; j++) {
            o = put_name(o, j);
            *o++ = j + 1 < n ? ',' : '\n';
        }
    }
    cfg = config_parse(text, (size_t)(o - text), NAME, DIR, &errors);
    assert_null(errors);
    assert_non_null(cfg);
    assert_int_equal(cfg->feeds[0].ntags, n);
    config_free(cfg);
    free(text);
}

/* n feed lines: the duplicate checks sort rather than compare pairs. */
static void
run_many_feeds(size_t n, void *arg)
{
    char *text = malloc(n * 48 + 1), *o = text, *errors = NULL;
    struct config *cfg;
    size_t i;

    (void)arg;
    assert_non_null(text);
    for (i = 0; i < n; i++)
        o += sprintf(o, "feed f%zu http://h.example/%zu\n", i, i);
    cfg = config_parse(text, (size_t)(o - text), NAME, DIR, &errors);
    assert_null(errors);
    assert_non_null(cfg);
    assert_int_equal(cfg->nfeeds, n);
    config_free(cfg);
    free(text);
}

/* Hostile lines: a 8 KB line of quotes and escapes, one of '#', one of
 * spaces; each with its error. n lines of each. */
static void
run_hostile_lines(size_t n, void *arg)
{
    size_t len = 8000, i, j;
    char *text = malloc(n * 3 * (len + 16) + 1), *o = text, *errors = NULL;

    (void)arg;
    assert_non_null(text);
    for (i = 0; i < n; i++) {
        o += sprintf(o, "title \"");
        for (j = 0; j < len / 2; j++, o += 2)
            memcpy(o, "\\\"", 2);
        o += sprintf(o, "\n#");
        memset(o, '#', len);
        o += len;
        o += sprintf(o, "\nx");
        memset(o, ' ', len);
        o += len;
        *o++ = '\n';
    }
    assert_null(config_parse(text, (size_t)(o - text), NAME, DIR, &errors));
    assert_non_null(errors);
    free(errors);
    free(text);
}

static void
test_linear(void **state)
{
    (void)state;
    assert_linear("config tags per line", run_many_tags, NULL, 500, 500);
    assert_linear("config feed lines", run_many_feeds, NULL, 1000, 1 << 16);
    assert_linear("config hostile lines", run_hostile_lines, NULL, 4, 256);
}

/* A daemon keeps its config: the feeds' names and locations are not a
 * malloc each but share blocks, so one follows the other in memory
 * (relative paths too, which are made URLs first); and a feed's line is
 * 56 bytes. */
static void
test_feed_strings_packed(void **state)
{
    const size_t n = 3000;
    size_t i, len = 0, breaks = 0, cap = n * 64;
    char *text = malloc(cap);
    struct config *cfg;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < n; i++)
        len +=
            (size_t)snprintf(text + len, cap - len,
                             i % 3 ? "feed f%zu https://example.org/%zu.xml\n"
                                   : "feed f%zu feeds/%zu.xml\n",
                             i, i);
    cfg = parse_ok(text);
    assert_int_equal(cfg->nfeeds, n);
    assert_true(sizeof(struct config_feed) <= 56);
    for (i = 0; i < n; i++) {
        const struct config_feed *f = &cfg->feeds[i];
        char want[64];

        snprintf(want, sizeof want, "f%zu", i);
        assert_string_equal(f->name, want);
        if (f->location != f->name + strlen(f->name) + 1)
            breaks++;
        if (i % 3 == 0) {
            snprintf(want, sizeof want, "file://" DIR "/feeds/%zu.xml", i);
            assert_string_equal(f->location, want);
        }
        if (i + 1 < n &&
            cfg->feeds[i + 1].name != f->location + strlen(f->location) + 1)
            breaks++;
    }
    /* About 130 KB of strings: a new block twice or three times. */
    assert_true(breaks <= 3);
    config_free(cfg);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_feed_strings_packed),
        cmocka_unit_test(test_ids_and_retention),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_fetch_options),
        cmocka_unit_test(test_interval_after_feeds),
        cmocka_unit_test(test_quotes_and_comments),
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_listen_names),
        cmocka_unit_test(test_number_limits),
        cmocka_unit_test(test_errors_settings),
        cmocka_unit_test(test_errors_feeds),
        cmocka_unit_test(test_errors_syntax),
        cmocka_unit_test(test_errors_all),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_feed_find),
        cmocka_unit_test(test_parse_dir),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
