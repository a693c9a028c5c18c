/* daemon/main.c - feedd's command line. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

static const char usage[] =
    "usage: feedd COMMAND [ARGS]\n"
    "\n"
    "  run   [-c FILE] [-v|-q]   run the daemon in the foreground\n"
    "  poll  [-c FILE] [-v|-q] --once\n"
    "                            poll every feed once, store, publish, exit\n"
    "  parse [--charset NAME] [--chunk BYTES] FILE...\n"
    "                            print the entries of feed files as JSON "
    "lines\n"
    "  check [-c FILE]           validate the config; non-zero when bad\n"
    "  list  [-c FILE] [--json]  the feeds, their state and entries\n"
    "  add URL [--name NAME] [--interval D] [--tags a,b] [-c FILE]\n"
    "                            add the feed at URL, or the first feed the\n"
    "                            web page at URL names\n"
    "  remove NAME|URL [-c FILE] remove a feed\n"
    "  import FILE.opml [-c FILE]\n"
    "                            add the feeds of an OPML file, skipping\n"
    "                            duplicates\n"
    "  export [-c FILE]          print the feeds as OPML 2.0\n"
    "\n"
    "  -c FILE   the config (default /etc/feedd/feedd.conf)\n"
    "  -v, -q    debug lines too; warnings only\n"
    "  --help, --version\n";

int
main(int argc, char **argv)
{
    const char *cmd;

    log_init();
    /* A file size limit (RLIMIT_FSIZE) must fail the write with EFBIG,
     * which the store handles, not kill the daemon. Writes to a closed
     * reader's socket fail with EPIPE likewise. */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("feedd %s\n", FEEDD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "parse") == 0)
        return cmd_parse(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "add") == 0)
        return cmd_add(argc - 1, argv + 1);
    if (strcmp(cmd, "remove") == 0)
        return cmd_remove(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0)
        return cmd_import(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1, 0);
    if (strcmp(cmd, "poll") == 0)
        return cmd_run(argc - 1, argv + 1, 1);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    fprintf(stderr, "feedd: unknown command \"%s\"\n%s", cmd, usage);
    return 2;
}
