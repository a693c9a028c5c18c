/* daemon/cmd.h - the subcommands of feedd. Each returns the process's exit
 * status. */
#ifndef FEEDD_CMD_H
#define FEEDD_CMD_H

/* argv[0] is the command's name, as getopt_long(3) wants. Unknown options
 * and bad values are refused with one line and status 2. */
int cmd_parse(int argc, char **argv);
int cmd_check(int argc, char **argv);
/* `run` (once == 0) and `poll --once` (once == 1). */
int cmd_run(int argc, char **argv, int once);
/* `list [-c FILE] [--json]`: the feeds of the config and their state,
 * read beside a running daemon (no lock, nothing written). 1 when the
 * config does not parse or the state folder cannot be read. */
int cmd_list(int argc, char **argv);

/* The feed list edited in place (cmd_feeds.c): `add URL`, `remove
 * NAME|URL`, `import FILE.opml`, and `export`, which prints OPML. 0, 1
 * after a one-line message on stderr (the config file untouched), or 2
 * for a bad command line. */
int cmd_add(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
